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

/* Every allocation of loading may fail: the loader reports DT_ENOMEM and
 * leaks nothing (ASan checks), and once allocations stop failing it works. */
static void test_verify_lists_add_json_alloc_fail(void **state)
{
    const char *lists[] = {
        "{\"name\":\"h\",\"version\":1,\"description\":\"d\",\"type\":\"hostname\","
        "\"list\":[\"a.example\",\".b.example\"]}",
        "{\"name\":\"c\",\"version\":1,\"description\":\"d\",\"type\":\"cidr\","
        "\"list\":[\"10.0.0.0/8\",\"2001:db8::/32\"]}",
        "{\"name\":\"s\",\"version\":1,\"description\":\"d\",\"type\":\"substring\","
        "\"list\":[\"evil\"]}",
    };
    for (size_t k = 0; k < 3; k++) {
        bool done = false;
        for (unsigned long n = 1; n < 200 && !done; n++) {
            verify_lists *l = NULL;
            dt_err err = {0};
            dt_status rc;
            dt_alloc_fail_at(n);
            rc = verify_lists_new(&l, &err);
            if (rc == DT_OK)
                rc = verify_lists_add_json(l, lists[k], strlen(lists[k]), "mem", &err);
            dt_alloc_fail_at(0);
            if (rc == DT_OK) {
                done = true;
                assert_int_equal(verify_lists_count(l), 1);
            } else {
                assert_int_equal(rc, DT_ENOMEM);
            }
            verify_lists_free(l);
        }
        assert_true(done);
    }
}

/* Several directories add up: the shipped lists plus a node's own. */
static void test_verify_lists_add_dir_two(void **state)
{
    char dir[] = "/tmp/detente-wl2-XXXXXX";
    char path[512], shipped_dir[4096];
    verify_lists *l = NULL;
    verify_hit hit[4];
    dt_err err = {0};
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/own", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/own/list.json", dir);
    write_file(path, "{\"name\":\"our partners\",\"version\":3,\"description\":\"d\","
                     "\"type\":\"cidr\",\"matching_attributes\":[\"ip-dst\"],"
                     "\"list\":[\"198.51.100.0/25\",\"198.51.100.128/25\"]}");
    snprintf(shipped_dir, sizeof shipped_dir, "%s/data/warninglists/lists", src_dir());
    assert_int_equal(verify_lists_load_dir(shipped_dir, &l, &err), DT_OK);
    size_t before = verify_lists_count(l);
    assert_int_equal(verify_lists_add_dir(l, dir, &err), DT_OK);
    assert_int_equal(verify_lists_count(l), before + 1);
    /* 198.51.100/24 is also in the shipped RFC 5735 list: the own list comes last */
    size_t n = verify_lists_lookup(l, "ip-dst", "198.51.100.200", hit, 4);
    assert_int_equal(n, 2);
    assert_string_equal(hit[1].list_name, "our partners");
    /* matching_attributes says ip-dst only */
    n = verify_lists_lookup(l, "ip-src", "198.51.100.200", hit, 4);
    assert_int_equal(n, 1);
    assert_string_not_equal(hit[0].list_name, "our partners");
    assert_true(verify_lists_lookup(l, "ip", "8.8.8.8", hit, 4) >= 1);
    verify_lists_free(l);
    unlink(path);
    snprintf(path, sizeof path, "%s/own", dir);
    rmdir(path);
    rmdir(dir);
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

/* ------------------------------------------------------------------ checks */

static bool has_kind(const char *type, const char *value, const char *kind)
{
    verify_evidence ev[8];
    size_t n = verify_check_value(type, value, ev, 8);
    for (size_t i = 0; i < n && i < 8; i++)
        if (strcmp(ev[i].kind, kind) == 0)
            return true;
    return false;
}

static size_t defects(const char *type, const char *value)
{
    verify_evidence ev[8];
    return verify_check_value(type, value, ev, 8);
}

static void test_verify_check_value_hashes(void **state)
{
    verify_evidence ev[4];
    assert_int_equal(defects("MD5", "d41d8cd98f00b204e9800998ecf8427e"), 0);
    assert_int_equal(defects("SHA-256",
                             "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"), 0);
    assert_int_equal(verify_check_value("MD5", "d41d8cd98f00b204e9800998ecf8427", ev, 4), 1);
    assert_string_equal(ev[0].kind, "technical:bad-hash-length");
    assert_true(ev[0].is_fatal);
    assert_non_null(strstr(ev[0].message, "31 characters"));
    assert_true(has_kind("SHA-1", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                         "technical:bad-hash-length"));
    assert_true(has_kind("md5", "g41d8cd98f00b204e9800998ecf8427e", "technical:bad-hash-alphabet"));
    assert_int_equal(defects("SHA-512", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce"
                                        "9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af9"
                                        "27da3e"), 0);
}

static void test_verify_check_value_ips(void **state)
{
    assert_int_equal(defects("ipv4-addr", "8.8.8.8"), 0);
    assert_int_equal(defects("ipv4-addr", "45.33.32.0/24"), 0);
    assert_true(has_kind("ipv4-addr", "10.1.2.3", "technical:private-ip"));
    assert_true(has_kind("ipv4-addr", "172.16.0.0/12", "technical:private-ip"));
    assert_int_equal(defects("ipv4-addr", "172.32.0.1"), 0);
    assert_true(has_kind("ipv4-addr", "192.0.2.5", "technical:documentation-ip"));
    assert_true(has_kind("ipv4-addr", "198.51.100.7", "technical:documentation-ip"));
    assert_true(has_kind("ipv4-addr", "203.0.113.255", "technical:documentation-ip"));
    assert_true(has_kind("ipv4-addr", "127.0.0.1", "technical:loopback-ip"));
    assert_true(has_kind("ipv4-addr", "169.254.10.1", "technical:link-local-ip"));
    assert_true(has_kind("ipv4-addr", "239.1.2.3", "technical:multicast-ip"));
    assert_true(has_kind("ipv4-addr", "0.0.0.0", "technical:unspecified-ip"));
    assert_true(has_kind("ipv4-addr", "240.0.0.1", "technical:reserved-ip"));
    assert_true(has_kind("ipv4-addr", "100.64.1.1", "technical:shared-ip"));
    assert_true(has_kind("ipv4-addr", "8.8.8[.]8", "technical:defanged"));
    assert_true(has_kind("ipv4-addr", "300.1.1.1", "technical:malformed-ip"));
    assert_true(has_kind("ipv4-addr", "2001:db8::1", "technical:malformed-ip"));
    assert_true(has_kind("ipv4-addr", "10.0.0.0/33", "technical:malformed-ip"));
    assert_int_equal(defects("ipv6-addr", "2606:4700:4700::1111"), 0);
    assert_true(has_kind("ipv6-addr", "::1", "technical:loopback-ip"));
    assert_true(has_kind("ipv6-addr", "::", "technical:unspecified-ip"));
    assert_true(has_kind("ipv6-addr", "fe80::1", "technical:link-local-ip"));
    assert_true(has_kind("ipv6-addr", "fd12:3456::1", "technical:private-ip"));
    assert_true(has_kind("ipv6-addr", "ff02::1", "technical:multicast-ip"));
    assert_true(has_kind("ipv6-addr", "2001:DB8:1::/48", "technical:documentation-ip"));
    assert_true(has_kind("ipv6-addr", "::ffff:10.0.0.1", "technical:private-ip"));
    /* range defects are not fatal: the address exists, it is just nobody else's */
    {
        verify_evidence ev[2];
        assert_int_equal(verify_check_value("ipv4-addr", "10.0.0.1", ev, 2), 1);
        assert_false(ev[0].is_fatal);
    }
}

static void test_verify_check_value_names(void **state)
{
    char label64[80], long_name[300];
    memset(label64, 'a', 64);
    memcpy(label64 + 64, ".com", 5);
    for (size_t i = 0; i < 260; i += 4)
        memcpy(long_name + i, "abc.", 4);
    memcpy(long_name + 260, "com", 4);
    assert_int_equal(defects("domain-name", "example.com"), 0);
    assert_int_equal(defects("domain-name", "www.example.co.uk."), 0);
    assert_int_equal(defects("domain-name", "_ldap._tcp.dc.example.org"), 0);
    assert_true(has_kind("domain-name", "evil[.]com", "technical:defanged"));
    assert_true(has_kind("domain-name", "evil(.)com", "technical:defanged"));
    assert_true(has_kind("domain-name", "evil", "technical:malformed-domain"));
    assert_true(has_kind("domain-name", "ev il.com", "technical:malformed-domain"));
    assert_true(has_kind("domain-name", "a..com", "technical:malformed-domain"));
    assert_true(has_kind("domain-name", "-evil.com", "technical:malformed-domain"));
    assert_true(has_kind("domain-name", "1.2.3.4", "technical:malformed-domain"));
    assert_true(has_kind("domain-name", label64, "technical:malformed-domain"));
    assert_true(has_kind("domain-name", long_name, "technical:malformed-domain"));
    assert_int_equal(defects("url", "https://example.com/path?q=1#f"), 0);
    assert_int_equal(defects("url", "http://user@example.com:8080/"), 0);
    assert_true(has_kind("url", "hxxp://evil.com/x", "technical:defanged"));
    assert_true(has_kind("url", "HXXPS://evil.com/x", "technical:defanged"));
    assert_true(has_kind("url", "http://evil[.]com/x", "technical:defanged"));
    assert_true(has_kind("url", "http[:]//evil.com/x", "technical:defanged"));
    assert_true(has_kind("url", "http://evil.com/a b", "technical:malformed-url"));
    assert_true(has_kind("url", "evil.com/path", "technical:malformed-url"));
    assert_true(has_kind("url", "http:///path", "technical:malformed-url"));
    assert_true(has_kind("url", "http://intranet/x", "technical:malformed-domain"));
    assert_true(has_kind("url", "http://10.0.0.1/x", "technical:private-ip"));
    assert_true(has_kind("url", "http://[2001:db8::1]:80/", "technical:documentation-ip"));
    assert_int_equal(defects("email-addr", "alice@example.org"), 0);
    assert_true(has_kind("email-addr", "alice[@]example.org", "technical:defanged"));
    assert_true(has_kind("email-addr", "alice", "technical:malformed-email"));
    /* types without checks yield nothing */
    assert_int_equal(defects("mutex", "Global\\x"), 0);
}

static void test_verify_check_indicator_times(void **state)
{
    const int64_t now = 1800000000; /* 2027-01-15 */
    verify_evidence ev[4];
    json_t *o = json_pack("{s:s, s:s, s:s}", "type", "indicator", "valid_from",
                          "2026-01-01T00:00:00Z", "valid_until", "2025-01-01T00:00:00Z");
    assert_int_equal(verify_check_indicator(o, now, ev, 4), 1);
    assert_string_equal(ev[0].kind, "technical:bad-validity");
    assert_true(ev[0].is_fatal);
    json_object_set_new(o, "valid_until", json_string("2026-06-01T00:00:00Z"));
    assert_int_equal(verify_check_indicator(o, now, ev, 4), 1);
    assert_string_equal(ev[0].kind, "technical:expired");
    assert_false(ev[0].is_fatal);
    json_object_set_new(o, "valid_until", json_string("2028-01-01T00:00:00Z"));
    assert_int_equal(verify_check_indicator(o, now, ev, 4), 0);
    json_object_set_new(o, "revoked", json_true());
    assert_int_equal(verify_check_indicator(o, now, ev, 4), 1);
    assert_string_equal(ev[0].kind, "technical:revoked");
    json_object_set_new(o, "valid_from", json_string("yesterday"));
    assert_int_equal(verify_check_indicator(o, now, ev, 4), 2);
    assert_string_equal(ev[0].kind, "technical:bad-timestamp");
    json_decref(o);
}

/* ---------------------------------------------------------------- verdicts */

#define NOW 1800000000LL
#define DAY 86400LL
#define SRC "identity--aaaaaaaa-0000-4000-8000-000000000001"

static verify_evidence sighting(const char *source, int64_t age_days, uint32_t count)
{
    verify_evidence e = {0};
    e.cls = VERIFY_EV_SIGHTING;
    snprintf(e.kind, sizeof e.kind, "sighting");
    snprintf(e.source, sizeof e.source, "%s", source);
    e.time = NOW - age_days * DAY;
    e.count = count;
    return e;
}

static verify_evidence opinion(const char *source, int64_t age_days, verify_opinion v)
{
    verify_evidence e = {0};
    e.cls = VERIFY_EV_OPINION;
    snprintf(e.kind, sizeof e.kind, "opinion");
    snprintf(e.source, sizeof e.source, "%s", source);
    e.time = NOW - age_days * DAY;
    e.opinion = v;
    return e;
}

static verify_evidence listed(const char *list)
{
    verify_evidence e = {0};
    e.cls = VERIFY_EV_WARNINGLIST;
    snprintf(e.kind, sizeof e.kind, "warninglist");
    snprintf(e.message, sizeof e.message, "%s", list);
    e.time = NOW;
    return e;
}

static verify_claim claim_of(void)
{
    verify_claim c = {0};
    c.source = SRC;
    c.created = NOW - 30 * DAY;
    c.valid_from = NOW - 30 * DAY;
    return c;
}

static verify_verdict judge(const verify_claim *c, const verify_evidence *ev, size_t n,
                            verify_result *r)
{
    verify_params p;
    verify_params_default(&p);
    assert_int_equal(verify_verdict_compute(c, ev, n, NOW, &p, r, NULL), DT_OK);
    return r->verdict;
}

static void test_verify_verdict_compute_unverified(void **state)
{
    verify_claim c = claim_of();
    verify_result r;
    verify_evidence ev[1] = {sighting("identity--b", 0, 1)};
    assert_int_equal(judge(&c, NULL, 0, &r), VERIFY_UNVERIFIED);
    verify_result_release(&r);
    /* one sighting, seen once: weight 0.5, not enough on its own */
    assert_int_equal(judge(&c, ev, 1, &r), VERIFY_UNVERIFIED);
    assert_true(fabs(r.support - 0.5) < 1e-6);
    assert_string_equal(verify_verdict_name(r.verdict), "unverified");
    verify_result_release(&r);
}

static void test_verify_verdict_compute_corroborated(void **state)
{
    verify_claim c = claim_of();
    verify_result r;
    verify_evidence ev[2] = {sighting("identity--b", 0, 1), sighting("identity--c", 0, 1)};
    assert_int_equal(judge(&c, ev, 2, &r), VERIFY_CORROBORATED);
    assert_int_equal(r.independent_sources, 2);
    assert_true(fabs(r.support - 1.0) < 1e-6);
    assert_int_equal(r.counted[0].use, VERIFY_USE_SUPPORT);
    verify_result_release(&r);
    /* one source that saw it a hundred times today also corroborates */
    ev[0] = sighting("identity--b", 0, 100);
    assert_int_equal(judge(&c, ev, 1, &r), VERIFY_CORROBORATED);
    verify_result_release(&r);
}

static void test_verify_verdict_compute_self_ignored(void **state)
{
    verify_claim c = claim_of();
    verify_result r;
    verify_evidence ev[3] = {sighting(SRC, 0, 1000), opinion(SRC, 0, VERIFY_OP_STRONGLY_AGREE),
                             sighting(SRC, 1, 5)};
    assert_int_equal(judge(&c, ev, 3, &r), VERIFY_UNVERIFIED);
    assert_true(r.support == 0.0);
    assert_int_equal(r.independent_sources, 0);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(r.counted[i].use, VERIFY_USE_IGNORED_SELF);
        assert_true(r.counted[i].weight == 0.0);
    }
    verify_result_release(&r);
    /* the source doubting its own claim does count against it */
    ev[1] = opinion(SRC, 0, VERIFY_OP_STRONGLY_DISAGREE);
    assert_int_equal(judge(&c, ev, 3, &r), VERIFY_DISPUTED);
    assert_int_equal(r.counted[1].use, VERIFY_USE_AGAINST);
    verify_result_release(&r);
}

static void test_verify_verdict_compute_one_opinion_per_source(void **state)
{
    verify_claim c = claim_of();
    verify_result r;
    /* two disagreements of one source: counted once (0.5), not twice (1.0) */
    verify_evidence ev[3] = {opinion("identity--b", 2, VERIFY_OP_DISAGREE),
                             opinion("identity--b", 1, VERIFY_OP_DISAGREE),
                             opinion("identity--c", 0, VERIFY_OP_NEUTRAL)};
    assert_int_equal(judge(&c, ev, 3, &r), VERIFY_UNVERIFIED);
    assert_true(fabs(r.against - 0.5 * pow(2, -1.0 / 180)) < 1e-6);
    assert_int_equal(r.counted[0].use, VERIFY_USE_IGNORED_SUPERSEDED);
    assert_int_equal(r.counted[1].use, VERIFY_USE_AGAINST);
    assert_int_equal(r.counted[2].use, VERIFY_USE_NOTE);
    verify_result_release(&r);
    /* the newest opinion of a source wins: it changed its mind */
    ev[0] = opinion("identity--b", 100, VERIFY_OP_STRONGLY_AGREE);
    ev[1] = opinion("identity--b", 0, VERIFY_OP_STRONGLY_DISAGREE);
    assert_int_equal(judge(&c, ev, 2, &r), VERIFY_DISPUTED);
    assert_true(r.support == 0.0);
    assert_int_equal(r.counted[0].use, VERIFY_USE_IGNORED_SUPERSEDED);
    verify_result_release(&r);
}

static void test_verify_verdict_compute_likely_benign(void **state)
{
    verify_claim c = claim_of();
    verify_result r;
    verify_evidence ev[4] = {listed("Top 10K most-used sites from Tranco"),
                             sighting("identity--b", 0, 1000)};
    /* a list wins over one source's sighting: everybody sees top sites */
    assert_int_equal(judge(&c, ev, 2, &r), VERIFY_LIKELY_BENIGN);
    assert_int_equal(r.counted[0].use, VERIFY_USE_BENIGN);
    assert_non_null(strstr(r.reason, "known-benign"));
    verify_result_release(&r);
    /* two independent parties vouching at full weight win over the list */
    ev[2] = opinion("identity--c", 0, VERIFY_OP_STRONGLY_AGREE);
    assert_int_equal(judge(&c, ev, 3, &r), VERIFY_CORROBORATED);
    assert_non_null(strstr(r.reason, "outweighing a known-benign list"));
    verify_result_release(&r);
    /* ... but not the claim's own source */
    ev[2] = opinion(SRC, 0, VERIFY_OP_STRONGLY_AGREE);
    assert_int_equal(judge(&c, ev, 3, &r), VERIFY_LIKELY_BENIGN);
    verify_result_release(&r);
}

static void test_verify_verdict_compute_refuted(void **state)
{
    verify_claim c = claim_of();
    verify_result r;
    verify_evidence ev[4];
    /* a defect found by the checks refutes, whatever the sightings say */
    assert_int_equal(verify_check_value("MD5", "d41d8cd98f00b204e9800998ecf8427", ev, 1), 1);
    ev[1] = sighting("identity--b", 0, 100);
    ev[2] = sighting("identity--c", 0, 100);
    assert_int_equal(judge(&c, ev, 3, &r), VERIFY_REFUTED);
    assert_int_equal(r.counted[0].use, VERIFY_USE_FATAL);
    assert_non_null(strstr(r.reason, "31 characters"));
    verify_result_release(&r);
    assert_int_equal(verify_check_value("url", "hxxp://evil.example/x", ev, 1), 1);
    assert_int_equal(judge(&c, ev, 1, &r), VERIFY_REFUTED);
    verify_result_release(&r);
    /* two independent strong disagreements and no support refute */
    ev[0] = opinion("identity--b", 0, VERIFY_OP_STRONGLY_DISAGREE);
    ev[1] = opinion("identity--c", 0, VERIFY_OP_STRONGLY_DISAGREE);
    assert_int_equal(judge(&c, ev, 2, &r), VERIFY_REFUTED);
    verify_result_release(&r);
    /* a non-fatal defect weighs nothing */
    assert_int_equal(verify_check_value("ipv4-addr", "10.0.0.1", ev, 1), 1);
    assert_int_equal(judge(&c, ev, 1, &r), VERIFY_UNVERIFIED);
    assert_int_equal(r.counted[0].use, VERIFY_USE_NOTE);
    verify_result_release(&r);
}

static void test_verify_verdict_compute_disputed(void **state)
{
    verify_claim c = claim_of();
    verify_result r;
    verify_evidence ev[3] = {opinion("identity--b", 0, VERIFY_OP_STRONGLY_AGREE),
                             opinion("identity--c", 0, VERIFY_OP_STRONGLY_DISAGREE),
                             sighting("identity--d", 0, 1)};
    assert_int_equal(judge(&c, ev, 3, &r), VERIFY_DISPUTED);
    assert_true(fabs(r.score - 0.5) < 1e-6);
    verify_result_release(&r);
}

static void test_verify_verdict_compute_decay(void **state)
{
    verify_claim c = claim_of();
    verify_result r;
    verify_evidence ev[2] = {sighting("identity--b", 90, 100)};
    /* one half-life old: weight 0.5 */
    assert_int_equal(judge(&c, ev, 1, &r), VERIFY_UNVERIFIED);
    assert_true(fabs(r.counted[0].weight - 0.5) < 1e-9);
    verify_result_release(&r);
    ev[0] = sighting("identity--b", 0, 100);
    assert_int_equal(judge(&c, ev, 1, &r), VERIFY_CORROBORATED);
    verify_result_release(&r);
    /* past valid_until: the same evidence weighs half */
    c.valid_until = NOW - DAY;
    assert_int_equal(judge(&c, ev, 1, &r), VERIFY_UNVERIFIED);
    assert_true(fabs(r.support - 0.5) < 1e-6);
    verify_result_release(&r);
    /* evidence dated after now is not evidence yet */
    c.valid_until = 0;
    ev[0] = sighting("identity--b", -1, 100);
    assert_int_equal(judge(&c, ev, 1, &r), VERIFY_UNVERIFIED);
    assert_int_equal(r.counted[0].use, VERIFY_USE_IGNORED_FUTURE);
    verify_result_release(&r);
}

static void test_verify_verdict_compute_order_independent(void **state)
{
    verify_claim c = claim_of();
    enum { N = 12 };
    verify_evidence ev[N] = {
        sighting("identity--b", 3, 2),  opinion("identity--c", 5, VERIFY_OP_AGREE),
        sighting(SRC, 0, 9),            opinion("identity--d", 7, VERIFY_OP_DISAGREE),
        sighting("identity--b", 40, 50), opinion("identity--c", 5, VERIFY_OP_STRONGLY_DISAGREE),
        sighting("identity--e", 100, 1), opinion("identity--d", 9, VERIFY_OP_STRONGLY_AGREE),
        listed("x"),                    sighting("identity--f", 1, 3),
        opinion("identity--g", 2, VERIFY_OP_DISAGREE), sighting("identity--b", 3, 2),
    };
    verify_evidence shuffled[N];
    size_t perm[N];
    verify_result a, b;
    verify_params p;
    verify_params_default(&p);
    p.benign_override = 1.0; /* so the list does not decide it outright */
    assert_int_equal(verify_verdict_compute(&c, ev, N, NOW, &p, &a, NULL), DT_OK);
    srand(7);
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < N; i++)
            perm[i] = i;
        for (size_t i = N - 1; i > 0; i--) {
            size_t j = (size_t)rand() % (i + 1), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        for (size_t i = 0; i < N; i++)
            shuffled[i] = ev[perm[i]];
        assert_int_equal(verify_verdict_compute(&c, shuffled, N, NOW, &p, &b, NULL), DT_OK);
        assert_int_equal(a.verdict, b.verdict);
        assert_true(a.score == b.score);
        assert_true(a.support == b.support);
        assert_true(a.against == b.against);
        assert_string_equal(a.reason, b.reason);
        for (size_t i = 0; i < N; i++) {
            /* identical duplicates (ev[0], ev[11]) may swap roles */
            if (perm[i] == 0 || perm[i] == 11)
                continue;
            assert_int_equal(b.counted[i].use, a.counted[perm[i]].use);
            assert_true(b.counted[i].weight == a.counted[perm[i]].weight);
        }
        verify_result_release(&b);
    }
    verify_result_release(&a);
}

/* ------------------------------------------------------------- reliability */

static void test_verify_beta_inc_values(void **state)
{
    assert_true(fabs(verify_beta_inc(1, 1, 0.3) - 0.3) < 1e-12);
    assert_true(fabs(verify_beta_inc(2, 1, 0.5) - 0.25) < 1e-12);
    assert_true(fabs(verify_beta_inc(2, 2, 0.25) - 0.15625) < 1e-12);
    assert_true(fabs(verify_beta_inc(2, 3, 0.5) - 0.6875) < 1e-12);
    assert_true(fabs(verify_beta_inc(3, 3, 0.5) - 0.5) < 1e-12);
    /* binomial tails summed exactly: I_x(a,b) = P(Bin(a+b-1, x) >= a) */
    assert_true(fabs(verify_beta_inc(30, 12, 0.7) - 0.40104779034961) < 1e-10);
    assert_true(fabs(verify_beta_inc(101, 51, 0.66) - 0.44622232446379695) < 1e-10);
    assert_true(verify_beta_inc(2, 2, 0.0) == 0.0);
    assert_true(verify_beta_inc(2, 2, 1.0) == 1.0);
}

static void test_verify_beta_quantile_values(void **state)
{
    assert_true(fabs(verify_beta_quantile(1, 1, 0.05) - 0.05) < 1e-9);
    assert_true(fabs(verify_beta_quantile(1, 1, 0.95) - 0.95) < 1e-9);
    assert_true(fabs(verify_beta_quantile(2, 1, 0.05) - sqrt(0.05)) < 1e-9);
    assert_true(fabs(verify_beta_quantile(2, 1, 0.95) - sqrt(0.95)) < 1e-9);
    assert_true(fabs(verify_beta_quantile(1, 2, 0.95) - (1 - sqrt(0.05))) < 1e-9);
    assert_true(fabs(verify_beta_quantile(29, 1, 0.05) - pow(0.05, 1.0 / 29)) < 1e-9);
}

static void test_verify_reliability_compute_letters(void **state)
{
    verify_outcome o[40];
    verify_reliability r;
    for (size_t i = 0; i < 40; i++)
        o[i] = (verify_outcome){VERIFY_CORROBORATED, (int64_t)i};
    /* nothing decided: the uniform prior, F */
    verify_reliability_compute(o, 0, INT64_MAX, &r);
    assert_true(fabs(r.mean - 0.5) < 1e-12);
    assert_true(fabs(r.lo - 0.05) < 1e-9 && fabs(r.hi - 0.95) < 1e-9);
    assert_int_equal(r.letter, 'F');
    /* one corroborated claim: Beta(2,1), 5% quantile sqrt(0.05) */
    verify_reliability_compute(o, 1, INT64_MAX, &r);
    assert_true(fabs(r.lo - sqrt(0.05)) < 1e-9);
    assert_true(fabs(r.mean - 2.0 / 3.0) < 1e-12);
    /* four right out of four is still too thin */
    verify_reliability_compute(o, 4, INT64_MAX, &r);
    assert_int_equal(r.letter, 'F');
    /* 27 vs 28 without a refutation: lo 0.8985 (B) vs 0.9019 (A) */
    verify_reliability_compute(o, 27, INT64_MAX, &r);
    assert_int_equal(r.letter, 'B');
    verify_reliability_compute(o, 28, INT64_MAX, &r);
    assert_int_equal(r.corroborated, 28);
    assert_true(fabs(r.lo - pow(0.05, 1.0 / 29)) < 1e-9);
    assert_int_equal(r.letter, 'A');
    /* five and five: Beta(6,6), mean 0.5, lower bound below 0.5: D */
    for (size_t i = 0; i < 5; i++)
        o[i].verdict = VERIFY_REFUTED;
    verify_reliability_compute(o, 10, INT64_MAX, &r);
    assert_int_equal(r.refuted, 5);
    assert_true(fabs(r.mean - 0.5) < 1e-12);
    assert_int_equal(r.letter, 'D');
    /* one right, nine wrong (likely-benign counts as wrong): E */
    for (size_t i = 0; i < 9; i++)
        o[i].verdict = i % 2 ? VERIFY_REFUTED : VERIFY_LIKELY_BENIGN;
    verify_reliability_compute(o, 10, INT64_MAX, &r);
    assert_int_equal(r.refuted, 9);
    assert_true(fabs(r.mean - 2.0 / 12.0) < 1e-12);
    assert_int_equal(r.letter, 'E');
    /* disputed and unverified do not move it */
    o[0].verdict = VERIFY_DISPUTED;
    o[1].verdict = VERIFY_UNVERIFIED;
    verify_reliability_compute(o, 2, INT64_MAX, &r);
    assert_int_equal(r.disputed, 1);
    assert_int_equal(r.unverified, 1);
    assert_true(fabs(r.mean - 0.5) < 1e-12);
}

static void test_verify_reliability_compute_as_of(void **state)
{
    verify_outcome o[30];
    verify_reliability r;
    for (size_t i = 0; i < 30; i++)
        o[i] = (verify_outcome){VERIFY_CORROBORATED, 1000 + (int64_t)i * 10};
    o[29].verdict = VERIFY_REFUTED;
    verify_reliability_compute(o, 30, 1000 + 3 * 10, &r); /* 4 decided then */
    assert_int_equal(r.corroborated, 4);
    assert_int_equal(r.letter, 'F');
    verify_reliability_compute(o, 30, 1000 + 28 * 10, &r);
    assert_int_equal(r.letter, 'A');
    verify_reliability_compute(o, 30, INT64_MAX, &r);
    assert_int_equal(r.refuted, 1);
    assert_int_equal(r.letter, 'B');
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
        cmocka_unit_test(test_verify_lists_add_json_alloc_fail),
        cmocka_unit_test(test_verify_lists_add_dir_two),
        cmocka_unit_test(test_verify_check_value_hashes),
        cmocka_unit_test(test_verify_check_value_ips),
        cmocka_unit_test(test_verify_check_value_names),
        cmocka_unit_test(test_verify_check_indicator_times),
        cmocka_unit_test(test_verify_verdict_compute_unverified),
        cmocka_unit_test(test_verify_verdict_compute_corroborated),
        cmocka_unit_test(test_verify_verdict_compute_self_ignored),
        cmocka_unit_test(test_verify_verdict_compute_one_opinion_per_source),
        cmocka_unit_test(test_verify_verdict_compute_likely_benign),
        cmocka_unit_test(test_verify_verdict_compute_refuted),
        cmocka_unit_test(test_verify_verdict_compute_disputed),
        cmocka_unit_test(test_verify_verdict_compute_decay),
        cmocka_unit_test(test_verify_verdict_compute_order_independent),
        cmocka_unit_test(test_verify_beta_inc_values),
        cmocka_unit_test(test_verify_beta_quantile_values),
        cmocka_unit_test(test_verify_reliability_compute_letters),
        cmocka_unit_test(test_verify_reliability_compute_as_of),
    };
    int failed = cmocka_run_group_tests_name("warninglists", lists, load_shipped, free_shipped);
    failed += cmocka_run_group_tests_name("verify", plain, NULL, NULL);
    return failed;
}
