/* Unit tests for verify/: warninglists on the shipped lists (every list
 * type), bad lists, a real Zeek DNS log, technical checks, verdict
 * scenarios and independence rules, reliability figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "verify/verify.h"

static verify_lists *shipped;

static const char *src_dir(void)
{
    const char *s = getenv("DETENTE_SRC");
    return s != NULL ? s : ".";
}

static int load_shipped(void **state)
{
    char dir[4096];
    dt_err err = {0};
    snprintf(dir, sizeof dir, "%s/data/warninglists/lists", src_dir());
    if (verify_lists_load_dir(dir, &shipped, &err) != DT_OK) {
        fprintf(stderr, "cannot load %s: %s\n", dir, err.msg);
        return -1;
    }
    return 0;
}

static int free_shipped(void **state)
{
    verify_lists_free(shipped);
    shipped = NULL;
    return 0;
}

/* True when a lookup of value as attr_type hits the list named `name`. */
static bool hits_list(const char *attr_type, const char *value, const char *name)
{
    verify_hit hits[64];
    size_t n = verify_lists_lookup(shipped, attr_type, value, hits, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        if (strcmp(hits[i].list_name, name) == 0)
            return true;
    return false;
}

static size_t hit_count(const char *attr_type, const char *value)
{
    verify_hit hits[64];
    return verify_lists_lookup(shipped, attr_type, value, hits, 64);
}

/* ------------------------------------------------------------ warninglists */

static void test_verify_lists_load_dir_shipped(void **state)
{
    assert_true(verify_lists_count(shipped) >= 50);
    assert_true(verify_lists_value_count(shipped) > 50000);
    for (size_t i = 0; i < verify_lists_skipped_count(shipped); i++)
        fprintf(stderr, "skipped: %s\n", verify_lists_skipped_msg(shipped, i));
    assert_int_equal(verify_lists_skipped_count(shipped), 0);
}

static void test_verify_lists_lookup_cidr(void **state)
{
    assert_true(hits_list("ip", "8.8.8.8", "List of known IPv4 public DNS resolvers"));
    assert_true(hits_list("ip-dst", "1.1.1.1", "List of known IPv4 public DNS resolvers"));
    assert_true(hits_list("ip", "10.1.2.3", "List of RFC 1918 CIDR blocks"));
    assert_true(hits_list("ip", "172.31.255.255", "List of RFC 1918 CIDR blocks"));
    assert_false(hits_list("ip", "172.32.0.1", "List of RFC 1918 CIDR blocks"));
    assert_true(hits_list("ip", "192.168.0.1", "List of RFC 1918 CIDR blocks"));
    assert_true(hits_list("ip", "2001:4860:4860::8888", "List of known IPv6 public DNS resolvers"));
    assert_true(hits_list("ip", "2001:db8::1", "List of RFC 3849 CIDR blocks"));
    assert_true(hits_list("ip", "2001:DB8:ffff::1", "List of RFC 3849 CIDR blocks"));
    assert_false(hits_list("ip", "2001:db9::1", "List of RFC 3849 CIDR blocks"));
    /* matching_attributes: an IP list does not apply to a hash */
    assert_int_equal(hit_count("md5", "8.8.8.8"), 0);
    /* an address in no list */
    assert_int_equal(hit_count("ip", "45.33.32.157"), 0);
}

static void test_verify_lists_lookup_hostname(void **state)
{
    const char *tranco = "Top 10K most-used sites from Tranco";
    assert_true(hits_list("domain", "google.com", tranco));
    assert_true(hits_list("domain", "www.google.com", tranco));
    assert_true(hits_list("hostname", "A.B.WWW.GOOGLE.COM.", tranco));
    assert_false(hits_list("domain", "notgoogle.com", tranco));
    assert_false(hits_list("domain", "google.com.evil.example", tranco));
    assert_true(hits_list("url", "https://user@www.google.com:443/search?q=x", tranco));
    assert_true(hits_list("domain", "bit.ly", "List of known URL Shorteners domains"));
    assert_false(hits_list("md5", "google.com", tranco));
}

static void test_verify_lists_lookup_string(void **state)
{
    const char *empty = "List of known hashes for empty files";
    assert_true(hits_list("md5", "d41d8cd98f00b204e9800998ecf8427e", empty));
    assert_true(hits_list("md5", "D41D8CD98F00B204E9800998ECF8427E", empty));
    assert_true(hits_list("sha256",
                          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", empty));
    assert_false(hits_list("md5", "d41d8cd98f00b204e9800998ecf8427f", empty));
    /* string lists match the whole value only */
    assert_true(hits_list("domain", "example.com", "List of RFC 6761 Special-Use Domain Names"));
    assert_false(hits_list("domain", "www.example.com", "List of RFC 6761 Special-Use Domain Names"));
    /* ".google.ad"-style string entries mean the domain and below */
    assert_true(hits_list("domain", "mail.google.ad", "List of known google domains"));
}

static void test_verify_lists_lookup_substring(void **state)
{
    const char *ama =
        "List of known domains used by automated malware analysis services & security vendors";
    assert_true(hits_list("url", "https://analyze.intezer.com/analyses/1234", ama));
    assert_true(hits_list("domain", "ANALYZE.INTEZER.COM", ama));
    assert_false(hits_list("domain", "intezer.example", ama));
}

static void test_verify_lists_lookup_regex(void **state)
{
    const char *contacts = "Common contact e-mail addresses";
    assert_true(hits_list("email", "abuse@example.org", contacts));
    assert_true(hits_list("email-src", "SOC@example.org", contacts));
    assert_false(hits_list("email", "alice@example.org", contacts));
    assert_false(hits_list("domain", "abuse@example.org", contacts));
}

static void test_verify_lists_lookup_cap(void **state)
{
    verify_hit one[1];
    /* 10.0.0.1 is in rfc1918 and rfc5735 at least: the count says so even
     * when only one hit fits */
    size_t n = verify_lists_lookup(shipped, "ip", "10.0.0.1", one, 1);
    assert_true(n >= 2);
    assert_non_null(one[0].list_name);
    assert_int_equal(verify_lists_lookup(shipped, "ip", "10.0.0.1", NULL, 0), n);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_verify_lists_add_dir_bad_lists(void **state)
{
    char dir[] = "/tmp/detente-wl-XXXXXX";
    char path[512];
    const char *names[] = {"a-good", "b-notjson", "c-badcidr", "d-badtype", "e-badregex", "f-noname"};
    const char *texts[] = {
        "{\"name\":\"good\",\"version\":1,\"description\":\"d\",\"type\":\"hostname\","
        "\"list\":[\"evil-but-fine.example\"]}",
        "{\"name\":\"x\",",
        "{\"name\":\"x\",\"version\":1,\"description\":\"d\",\"type\":\"cidr\","
        "\"list\":[\"10.0.0.0/8\",\"300.1.1.1/8\"]}",
        "{\"name\":\"x\",\"version\":1,\"description\":\"d\",\"type\":\"glob\",\"list\":[]}",
        "{\"name\":\"x\",\"version\":1,\"description\":\"d\",\"type\":\"regex\",\"list\":[\"/(/\"]}",
        "{\"version\":1,\"description\":\"d\",\"type\":\"string\",\"list\":[]}",
    };
    verify_lists *l = NULL;
    verify_hit hit;
    dt_err err = {0};
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        assert_int_equal(mkdir(path, 0700), 0);
        snprintf(path, sizeof path, "%s/%s/list.json", dir, names[i]);
        write_file(path, texts[i]);
    }
    assert_int_equal(verify_lists_load_dir(dir, &l, &err), DT_OK);
    assert_int_equal(verify_lists_count(l), 1);
    assert_int_equal(verify_lists_skipped_count(l), 5);
    assert_non_null(strstr(verify_lists_skipped_msg(l, 0), "b-notjson/list.json"));
    assert_non_null(strstr(verify_lists_skipped_msg(l, 0), "not valid JSON"));
    assert_non_null(strstr(verify_lists_skipped_msg(l, 1), "c-badcidr/list.json"));
    assert_non_null(strstr(verify_lists_skipped_msg(l, 1), "list[1] \"300.1.1.1/8\""));
    assert_non_null(strstr(verify_lists_skipped_msg(l, 2), "\"type\" is \"glob\""));
    assert_non_null(strstr(verify_lists_skipped_msg(l, 3), "bad regex"));
    assert_non_null(strstr(verify_lists_skipped_msg(l, 4), "\"name\""));
    assert_int_equal(verify_lists_lookup(l, "domain", "www.evil-but-fine.example", &hit, 1), 1);
    assert_string_equal(hit.list_name, "good");
    /* the bad cidr list added nothing */
    assert_int_equal(verify_lists_lookup(l, "ip", "10.0.0.1", &hit, 1), 0);
    verify_lists_free(l);
    for (size_t i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/%s/list.json", dir, names[i]);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rmdir(path);
    }
    rmdir(dir);
    assert_int_equal(verify_lists_load_dir("/nonexistent/detente", &l, &err), DT_EIO);
    assert_null(l);
}

/* Queried names of a real DNS log (WRCCDC 2018, Zeek TSV) against the
 * shipped lists: the everyday names of that network are known-benign. */
static void test_verify_lists_lookup_zeek_dns(void **state)
{
    char path[4096];
    char *text = NULL;
    size_t len = 0;
    dt_err err = {0};
    size_t names = 0, benign = 0, query_col = (size_t)-1;
    bool saw_google = false, saw_github = false, saw_ubuntu_local = false;
    snprintf(path, sizeof path, "%s/tests/data/zeek/dns.log.gz", src_dir());
    assert_int_equal(dt_file_read(path, 64u << 20, &text, &len, &err), DT_OK);
    /* distinct names only: a tiny open-addressing set of hashes */
    size_t cap = 1 << 16;
    uint64_t *seen = calloc(cap, sizeof *seen);
    assert_non_null(seen);
    for (char *line = text; line < text + len;) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        char *end = nl ? nl : text + len;
        *end = '\0';
        if (strncmp(line, "#fields\t", 8) == 0) {
            size_t col = 0;
            for (char *f = line + 8; f != NULL; col++) {
                char *tab = strchr(f, '\t');
                if (strncmp(f, "query", 5) == 0 && (f[5] == '\t' || f[5] == '\0'))
                    query_col = col;
                f = tab ? tab + 1 : NULL;
            }
        } else if (line[0] != '#' && query_col != (size_t)-1) {
            char *f = line;
            for (size_t col = 0; col < query_col && f != NULL; col++) {
                f = strchr(f, '\t');
                if (f)
                    f++;
            }
            if (f != NULL) {
                char *tab = strchr(f, '\t');
                uint64_t h = 1469598103934665603ull;
                size_t j;
                if (tab)
                    *tab = '\0';
                if (f[0] == '-' || f[0] == '\0' || strchr(f, '.') == NULL)
                    goto next;
                for (char *c = f; *c; c++)
                    h = (h ^ (unsigned char)*c) * 1099511628211ull;
                h |= 1;
                for (j = h & (cap - 1); seen[j] != 0 && seen[j] != h; j = (j + 1) & (cap - 1))
                    ;
                if (seen[j] == h)
                    goto next;
                seen[j] = h;
                names++;
                if (hit_count("domain", f) > 0) {
                    benign++;
                    if (strcmp(f, "docs.google.com") == 0)
                        saw_google = true;
                    if (strcmp(f, "github.com") == 0)
                        saw_github = true;
                }
                if (strcmp(f, "store.oompa.loompa") == 0 && hit_count("domain", f) == 0)
                    saw_ubuntu_local = true; /* the exercise's own names: not on any list */
            }
        }
    next:
        line = end + 1;
    }
    printf("zeek dns.log: %zu distinct queried names, %zu on a shipped warninglist\n", names, benign);
    assert_true(query_col != (size_t)-1);
    assert_true(names > 500);
    assert_true(benign > 100);
    assert_true(benign < names);
    assert_true(saw_google);
    assert_true(saw_github);
    assert_true(saw_ubuntu_local);
    assert_true(hit_count("domain", "login.live.com") > 0);
    assert_true(hit_count("domain", "detectportal.firefox.com") > 0);
    free(seen);
    dt_free(text);
}

int main(void)
{
    const struct CMUnitTest lists[] = {
        cmocka_unit_test(test_verify_lists_load_dir_shipped),
        cmocka_unit_test(test_verify_lists_lookup_cidr),
        cmocka_unit_test(test_verify_lists_lookup_hostname),
        cmocka_unit_test(test_verify_lists_lookup_string),
        cmocka_unit_test(test_verify_lists_lookup_substring),
        cmocka_unit_test(test_verify_lists_lookup_regex),
        cmocka_unit_test(test_verify_lists_lookup_cap),
        cmocka_unit_test(test_verify_lists_lookup_zeek_dns),
    };
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(test_verify_lists_add_dir_bad_lists),
    };
    int failed = cmocka_run_group_tests_name("warninglists", lists, load_shipped, free_shipped);
    failed += cmocka_run_group_tests_name("verify", plain, NULL, NULL);
    return failed;
}
