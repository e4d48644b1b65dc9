/* Tests for scan/: each reader on small inputs, bad input handled line by
 * line, and the planted test: known values written into copies of the real
 * WRCCDC Zeek logs (exact, subdomain, inside a CIDR, hash case, IPv6
 * forms, near misses) must give exactly the planted matches, no more, no
 * fewer, with 1 and with 4 threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scan/scan.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* ---- helpers ---- */

typedef struct got {
    char lines[4096][160];
    size_t count;
    char diags[64][300];
    size_t diag_count;
} got;

static void on_match(void *ctx, const scan_match *m)
{
    got *g = ctx;
    if (g->count < 4096)
        snprintf(g->lines[g->count++], 160, "%llu %s %s %.*s %.*s", (unsigned long long)m->line,
                 m->indicator, match_type_stix(m->type), (int)m->field_len, m->field,
                 (int)m->value_len, m->value);
}

static void on_diag(void *ctx, const char *file, uint64_t line, const char *msg)
{
    got *g = ctx;
    if (g->diag_count < 64)
        snprintf(g->diags[g->diag_count++], 300, "%s:%llu: %s", file, (unsigned long long)line,
                 msg);
}

/* A set from "type value" pairs; indicator ids are the values' names. */
static match_set *make_set(const char *const *spec, size_t n)
{
    match_set *s = NULL;
    assert_int_equal(match_set_new(&s, NULL), DT_OK);
    for (size_t i = 0; i < n; i += 3) {
        match_type t;
        uint32_t ind;
        assert_true(match_type_parse(spec[i], strlen(spec[i]), &t));
        assert_int_equal(match_set_add_indicator(s, spec[i + 1], &ind, NULL), DT_OK);
        assert_int_equal(match_set_add_value(s, ind, t, spec[i + 2], strlen(spec[i + 2]), NULL),
                         DT_OK);
    }
    assert_int_equal(match_set_compile(s, NULL), DT_OK);
    return s;
}

static got *scan_text(const match_set *s, scan_format f, const char *name, const char *text,
                      unsigned threads, scan_stats *st)
{
    got *g = calloc(1, sizeof *g);
    scan_opts o = {.format = f, .threads = threads};
    assert_non_null(g);
    assert_int_equal(scan_buffer(s, name, text, strlen(text), &o, on_match, on_diag, g, st, NULL),
                     DT_OK);
    return g;
}

static const char *const basic[] = {
    "domain", "D", "evil.example",       "ipv4", "N", "203.0.113.0/24", "ipv6", "V", "2001:db8::1",
    "x509",   "X", "b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe",
    "url",    "U", "http://c2.example.net/beacon", "email", "E", "bad@evil.example",
    "hash",   "H", "d41d8cd98f00b204e9800998ecf8427e",
};

#define ZEEK_HDR                                                                                 \
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n" \
    "#fields\tts\tid.resp_h\tquery\tanswers\n#types\ttime\taddr\tstring\tvector[string]\n"

static void test_scan_buffer_zeek(void **state)
{
    match_set *s = make_set(basic, sizeof basic / sizeof basic[0]);
    scan_stats st = {0};
    (void)state;
    got *g = scan_text(s, SCAN_FORMAT_AUTO, "dns.log",
                       ZEEK_HDR
                       "1521911720.865716\t203.0.113.9\tA.Evil.Example.\t-\n"
                       "1521911720.5\t10.0.0.1\tnotevil.example\t1.2.3.4,2001:DB8:0::1\n"
                       "1521911721\t10.0.0.1\tx.example\tTXT 30 go hxxp://c2.example[.]net/beacon\n"
                       "1521911722\t10.0.0.1\t(empty)\n"
                       "#close\t2024\n",
                       1, &st);
    assert_int_equal(g->count, 4);
    assert_string_equal(g->lines[0], "8 N ipv4-addr id.resp_h 203.0.113.9");
    assert_string_equal(g->lines[1], "8 D domain-name query A.Evil.Example.");
    assert_string_equal(g->lines[2], "9 V ipv6-addr answers 2001:DB8:0::1");
    assert_string_equal(g->lines[3], "10 U url answers http://c2.example.net/beacon");
    assert_int_equal(st.lines, 12);
    assert_int_equal(st.skipped_lines, 1);
    assert_int_equal(g->diag_count, 1);
    assert_non_null(strstr(g->diags[0], "dns.log:11: fewer fields"));
    free(g);
    match_set_free(s);
}

/* Only Zeek set and vector columns hold several values; without a #types
 * line every column may. */
static void test_scan_buffer_zeek_types_split(void **state)
{
    match_set *s = make_set(basic, sizeof basic / sizeof basic[0]);
    scan_stats st = {0};
#define TYPES_BODY(T)                                                                          \
    "#fields\tts\tquery\tanswers\n" T "1521911720.5\tevil.example,x\tx.org,evil.example\n"
    const char *text = TYPES_BODY("#types\ttime\tstring\tvector[string]\n");
    (void)state;
    got *g = scan_text(s, SCAN_FORMAT_ZEEK, "dns.log", text, 1, &st);
    assert_int_equal(g->count, 1);
    assert_string_equal(g->lines[0], "3 D domain-name answers evil.example");
    free(g);
    text = TYPES_BODY("");
#undef TYPES_BODY
    g = scan_text(s, SCAN_FORMAT_ZEEK, "dns.log", text, 1, &st);
    assert_int_equal(g->count, 2);
    assert_string_equal(g->lines[0], "2 D domain-name query evil.example");
    assert_string_equal(g->lines[1], "2 D domain-name answers evil.example");
    free(g);
    match_set_free(s);
}

typedef struct ts_got {
    size_t count;
    uint64_t line[8];
    bool has_ts[8];
    int64_t ts[8];
} ts_got;

static void on_ts(void *ctx, const scan_match *m)
{
    ts_got *g = ctx;
    if (g->count < 8) {
        g->line[g->count] = m->line;
        g->has_ts[g->count] = m->has_ts;
        g->ts[g->count++] = m->ts_us;
    }
}

/* Each match carries its line's timestamp, also on a line with so many
 * values that it is looked up in several batches, and none on a line
 * whose ts is unset. */
static void test_scan_buffer_zeek_timestamps(void **state)
{
    match_set *s = make_set(basic, sizeof basic / sizeof basic[0]);
    dt_buf b;
    ts_got g = {0};
    scan_stats st = {0};
    scan_opts o = {.format = SCAN_FORMAT_ZEEK, .threads = 1};
    (void)state;
    dt_buf_init(&b, (size_t)1 << 20);
    assert_int_equal(dt_buf_puts(&b, "#fields\tts\tquery\tanswers\n"
                                     "#types\ttime\tstring\tvector[string]\n"
                                     "1521911720.865716\tevil.example\t-\n"
                                     "1521911721.25\tx.org\tevil.example", NULL), DT_OK);
    for (int i = 0; i < 300; i++)
        assert_int_equal(dt_buf_puts(&b, ",a.org", NULL), DT_OK);
    assert_int_equal(dt_buf_puts(&b, "\n-\tevil.example\t-\n", NULL), DT_OK);
    assert_int_equal(scan_buffer(s, "dns.log", b.data, b.len, &o, on_ts, NULL, &g, &st, NULL),
                     DT_OK);
    assert_int_equal(g.count, 3);
    assert_int_equal(g.line[0], 3);
    assert_true(g.has_ts[0]);
    assert_int_equal(g.ts[0], INT64_C(1521911720865716));
    assert_int_equal(g.line[1], 4);
    assert_true(g.has_ts[1]);
    assert_int_equal(g.ts[1], INT64_C(1521911721250000));
    assert_int_equal(g.line[2], 5);
    assert_false(g.has_ts[2]);
    dt_buf_release(&b);
    match_set_free(s);
}

/* Values rewritten on the side (refanged) are copied for the lookup; a line
 * with more of them than one lookup batch holds still finds them all. */
static void test_scan_buffer_text_many_copies(void **state)
{
    match_set *s = make_set(basic, sizeof basic / sizeof basic[0]);
    scan_stats st = {0};
    dt_buf b;
    (void)state;
    dt_buf_init(&b, (size_t)1 << 20);
    for (int i = 0; i < 3000; i++)
        assert_int_equal(dt_buf_puts(&b, "hxxp://c2.example[.]net/beacon ", NULL), DT_OK);
    assert_int_equal(dt_buf_puts(&b, "\n", NULL), DT_OK);
    got *g = calloc(1, sizeof *g);
    scan_opts o = {.format = SCAN_FORMAT_TEXT, .threads = 1};
    assert_non_null(g);
    assert_int_equal(scan_buffer(s, "t.txt", b.data, b.len, &o, on_match, on_diag, g, &st, NULL),
                     DT_OK);
    assert_int_equal(st.matches, 3000);
    assert_string_equal(g->lines[0], "1 U url text http://c2.example.net/beacon");
    assert_string_equal(g->lines[2999], "1 U url text http://c2.example.net/beacon");
    free(g);
    dt_buf_release(&b);
    match_set_free(s);
}

/* IPv6 addresses in every textual length, in an address column and among
 * DNS answers (where names and addresses mix), next to names of the same
 * lengths that are not addresses. */
static void test_scan_buffer_zeek_ipv6_forms(void **state)
{
    static const char *const forms[] = {
        "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "2001:0db8:0000:0000:0000:0000:0000:0001",
        "::ffff:203.0.113.9", "2001:db8:0::1",
    };
    match_set *s = make_set(basic, sizeof basic / sizeof basic[0]);
    scan_stats st = {0};
    char text[4096];
    size_t n = 0;
    (void)state;
    n += (size_t)snprintf(text + n, sizeof text - n,
                          "#fields\tts\tid.resp_h\tanswers\n"
                          "#types\ttime\taddr\tvector[string]\n");
    for (size_t i = 0; i < 5; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "1\t%s\tabcdefgh.ab,%s,2001.db8.example\n",
                              forms[i], forms[i]);
    got *g = scan_text(s, SCAN_FORMAT_ZEEK, "dns.log", text, 1, &st);
    assert_int_equal(g->count, 10);
    for (size_t i = 0; i < 5; i++) {
        char want[200];
        const char *t = i == 3 ? "N ipv4-addr" : "V ipv6-addr";
        snprintf(want, sizeof want, "%zu %s id.resp_h %s", i + 3, t, forms[i]);
        assert_string_equal(g->lines[2 * i], want);
        snprintf(want, sizeof want, "%zu %s answers %s", i + 3, t, forms[i]);
        assert_string_equal(g->lines[2 * i + 1], want);
    }
    free(g);
    match_set_free(s);
}

static void test_scan_buffer_zeek_header_changes(void **state)
{
    match_set *s = make_set(basic, sizeof basic / sizeof basic[0]);
    scan_stats st = {0};
    (void)state;
    got *g = scan_text(s, SCAN_FORMAT_ZEEK, "x.log",
                       "1\tevil.example\n" /* no header yet */
                       "#fields\tts\tquery\n"
                       "2\tevil.example\n"
                       "#fields\tquery\tts\tserver_name\n"
                       "evil.example\t3\tnotevil.example\n"
                       "4\tx\tsub.evil.example\n",
                       1, &st);
    assert_int_equal(g->count, 3);
    assert_string_equal(g->lines[0], "3 D domain-name query evil.example");
    assert_string_equal(g->lines[1], "5 D domain-name query evil.example");
    /* the last line is read with the new header */
    assert_string_equal(g->lines[2], "6 D domain-name server_name sub.evil.example");
    free(g);
    match_set_free(s);
    (void)st;
}

static void test_scan_buffer_json(void **state)
{
    match_set *s = make_set(basic, sizeof basic / sizeof basic[0]);
    scan_stats st = {0};
    (void)state;
    got *g = scan_text(
        s, SCAN_FORMAT_AUTO, "x.json",
        "{\"ts\":\"2018-03-24T17:15:20.865716Z\",\"query\":\"evil.example\",\"answers\":[\"a\","
        "\"203.0.113.1\"],\"n\":1.5,\"ok\":true,\"nested\":{\"a\":[1,{\"b\":null}]}}\n"
        "{\"source\":{\"ip\":\"2001:db8::1\"},\"dns\":{\"question\":{\"name\":\"b.evil\\u002eexample\"}}}\n"
        "{\"query\":\"evil.example\"\n"
        "\n"
        "[1,2]\n",
        1, &st);
    assert_int_equal(g->count, 4);
    assert_string_equal(g->lines[0], "1 D domain-name query evil.example");
    assert_string_equal(g->lines[1], "1 N ipv4-addr answers 203.0.113.1");
    assert_string_equal(g->lines[2], "2 V ipv6-addr source.ip 2001:db8::1");
    assert_string_equal(g->lines[3], "2 D domain-name dns.question.name b.evil.example");
    assert_int_equal(st.skipped_lines, 2);
    assert_int_equal(g->diag_count, 2);
    assert_non_null(strstr(g->diags[0], "x.json:3: not a JSON object"));
    free(g);
    match_set_free(s);
}

static void test_scan_buffer_csv(void **state)
{
    match_set *s = make_set(basic, sizeof basic / sizeof basic[0]);
    scan_stats st = {0};
    (void)state;
    got *g = scan_text(s, SCAN_FORMAT_AUTO, "x.csv",
                       "time,src,note,who\r\n"
                       "1,203.0.113.5,\"a, \"\"quoted\"\" note\",Bad@Evil.example\r\n"
                       "2,10.0.0.1,D41D8CD98F00B204E9800998ECF8427E,\"unterminated\r\n",
                       1, &st);
    assert_int_equal(g->count, 2);
    assert_string_equal(g->lines[0], "2 N ipv4-addr src 203.0.113.5");
    assert_string_equal(g->lines[1], "2 E email-addr who Bad@Evil.example");
    assert_int_equal(st.skipped_lines, 1);
    free(g);
    match_set_free(s);
}

/* CSV records may hold newlines inside quotes: the record's values are
 * all read, line numbers stay those of the file, a stray quote costs its
 * own line only, and a long quoted field is unescaped whole (a cut one
 * could make up a value that is not in the log). */
static void test_scan_buffer_csv_multiline(void **state)
{
    match_set *s = make_set(basic, sizeof basic / sizeof basic[0]);
    dt_buf t;
    (void)state;
    dt_buf_init(&t, (size_t)1 << 24);
    assert_int_equal(dt_buf_puts(&t, "time,host,message\n"
                                     "2024-01-01T00:00:00Z,evil.example,\"first line\n"
                                     "second \"\"quoted\"\" line, see hxxp://c2.example[.]net/beacon\n"
                                     "third\"\n"
                                     "2024-01-01T00:00:01Z,a.example,\"stray quote\n"
                                     "2024-01-01T00:00:02Z,evil.example,fine\n"
                                     "2024-01-01T00:00:03Z,b.example,\"", NULL), DT_OK);
    for (int i = 0; i < 600; i++) /* 6,000 bytes, then a name that only a cut would make */
        assert_int_equal(dt_buf_puts(&t, "xxxxxxxxxx", NULL), DT_OK);
    assert_int_equal(dt_buf_puts(&t, "evil.example.org\"\n", NULL), DT_OK);
    for (unsigned threads = 1; threads <= 4; threads += 3) {
        scan_stats st = {0};
        scan_opts o = {.format = SCAN_FORMAT_CSV, .threads = threads};
        got *g = calloc(1, sizeof *g);
        assert_non_null(g);
        assert_int_equal(scan_buffer(s, "x.csv", t.data, t.len, &o, on_match, on_diag, g, &st,
                                     NULL), DT_OK);
        assert_int_equal(g->count, 3);
        assert_string_equal(g->lines[0], "2 D domain-name host evil.example");
        assert_string_equal(g->lines[1], "2 U url message http://c2.example.net/beacon");
        assert_string_equal(g->lines[2], "6 D domain-name host evil.example");
        assert_int_equal(st.lines, 7);
        assert_int_equal(st.skipped_lines, 1);
        assert_int_equal(g->diag_count, 1);
        assert_non_null(strstr(g->diags[0], "x.csv:5: unterminated quoted CSV field"));
        free(g);
    }
    dt_buf_release(&t);
    match_set_free(s);
}

static void test_scan_buffer_text_refang(void **state)
{
    match_set *s = make_set(basic, sizeof basic / sizeof basic[0]);
    scan_stats st = {0};
    (void)state;
    got *g = scan_text(s, SCAN_FORMAT_TEXT, "x.txt",
                       "C2 at hxxp://c2[.]example[.]net/beacon and 203.0.113[.]44:443, mail "
                       "bad[@]evil.example\n"
                       "notevil.example 203.0.114.1 d41d8cd98f00b204e9800998ecf8427e.\n"
                       "\x01\xff\xfe binary garbage \x80\x81 evil.example\n",
                       1, &st);
    assert_int_equal(g->count, 6);
    assert_string_equal(g->lines[0], "1 U url text http://c2.example.net/beacon");
    assert_string_equal(g->lines[1], "1 N ipv4-addr text 203.0.113.44");
    assert_string_equal(g->lines[2], "1 E email-addr text bad@evil.example");
    assert_string_equal(g->lines[3], "1 D domain-name text evil.example");
    assert_string_equal(g->lines[4], "2 H file text d41d8cd98f00b204e9800998ecf8427e");
    assert_string_equal(g->lines[5], "3 D domain-name text evil.example");
    free(g);
    match_set_free(s);
}

static void test_scan_buffer_long_line(void **state)
{
    match_set *s = make_set(basic, sizeof basic / sizeof basic[0]);
    scan_stats st = {0};
    scan_opts o = {.format = SCAN_FORMAT_TEXT, .max_line = 100};
    char text[400];
    got *g = calloc(1, sizeof *g);
    (void)state;
    memset(text, 'a', 300);
    memcpy(text + 300, " evil.example\nevil.example\n", 28);
    assert_int_equal(scan_buffer(s, "t", text, strlen(text), &o, on_match, on_diag, g, &st, NULL),
                     DT_OK);
    assert_int_equal(g->count, 1);
    assert_string_equal(g->lines[0], "2 D domain-name text evil.example");
    assert_int_equal(st.skipped_lines, 1);
    assert_non_null(strstr(g->diags[0], "t:1: line of 313 bytes"));
    free(g);
    match_set_free(s);
}

/* ---- the planted test over the real logs ---- */

static char *read_data(const char *name, size_t *len)
{
    char path[1024];
    char *data = NULL;
    const char *src = getenv("DETENTE_SRC");
    snprintf(path, sizeof path, "%s/tests/data/zeek/%s", src ? src : ".", name);
    assert_int_equal(dt_file_read(path, (size_t)1 << 30, &data, len, NULL), DT_OK);
    return data;
}

typedef struct planted {
    dt_buf out;
    got want;
} planted;

static void expect(got *w, uint64_t line, const char *ind, const char *type, const char *field,
                   const char *value)
{
    assert_true(w->count < 4096);
    snprintf(w->lines[w->count++], 160, "%llu %s %s %s %s", (unsigned long long)line, ind, type,
             field, value);
}

/* Copy a Zeek log, replacing field `col` of every 'every'-th data line by
 * the next plant in turn. */
typedef struct plant {
    const char *field;
    const char *value;
    const char *ind;  /* NULL: a near miss, no match expected */
    const char *type;
    const char *reported; /* the value as reported, if not the whole field */
} plant;

static void plant_log(const char *data, size_t len, const plant *plants, size_t np, size_t every,
                      dt_buf *out, got *want)
{
    const char *names[64];
    size_t name_len[64], ncols = 0, lineno = 0, data_lines = 0, next = 0;
    size_t i = 0;
    while (i < len) {
        const char *s = data + i;
        const char *nl = memchr(s, '\n', len - i);
        size_t l = nl ? (size_t)(nl - s) : len - i;
        i += l + 1;
        lineno++;
        if (l > 8 && memcmp(s, "#fields\t", 8) == 0) {
            const char *p = s + 8, *e = s + l;
            ncols = 0;
            while (p <= e && ncols < 64) {
                const char *t = memchr(p, '\t', (size_t)(e - p));
                const char *fe = t ? t : e;
                names[ncols] = p;
                name_len[ncols++] = (size_t)(fe - p);
                p = fe + 1;
            }
        }
        if (l == 0 || s[0] == '#' || ++data_lines % every != 0) {
            assert_int_equal(dt_buf_append(out, s, l, NULL), DT_OK);
            assert_int_equal(dt_buf_putc(out, '\n', NULL), DT_OK);
            continue;
        }
        const plant *pl = &plants[next++ % np];
        const char *f = s, *e = s + l;
        for (size_t c = 0; c < ncols; c++) {
            const char *t = memchr(f, '\t', (size_t)(e - f));
            const char *fe = t ? t : e;
            if (c > 0)
                assert_int_equal(dt_buf_putc(out, '\t', NULL), DT_OK);
            if (strlen(pl->field) == name_len[c] && memcmp(names[c], pl->field, name_len[c]) == 0)
                assert_int_equal(dt_buf_puts(out, pl->value, NULL), DT_OK);
            else
                assert_int_equal(dt_buf_append(out, f, (size_t)(fe - f), NULL), DT_OK);
            f = fe + 1;
        }
        assert_int_equal(dt_buf_putc(out, '\n', NULL), DT_OK);
        if (pl->ind)
            expect(want, lineno, pl->ind, pl->type, pl->field,
                   pl->reported ? pl->reported : pl->value);
    }
}

static const char *const plant_set[] = {
    "domain", "D", "evil.example",
    "ipv4", "N", "203.0.113.0/24",
    "ipv4", "C", "198.51.100.7",
    "ipv6", "V", "2001:db8::1",
    "ipv6", "W", "2001:db8:ff00::/40",
    "x509", "X", "aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999",
    "url", "U", "http://c2.example.net/beacon",
    "email", "E", "exfil@drop.example",
};

static const plant dns_plants[] = {
    {"query", "evil.example", "D", "domain-name", NULL},
    {"query", "a.b.EVIL.example.", "D", "domain-name", NULL},
    {"query", "notevil.example", NULL, NULL, NULL},
    {"query", "evil.example.com", NULL, NULL, NULL},
    {"id.resp_h", "203.0.113.77", "N", "ipv4-addr", NULL},
    {"id.resp_h", "203.0.114.1", NULL, NULL, NULL},
    {"id.resp_h", "198.51.100.7", "C", "ipv4-addr", NULL},
    {"id.resp_h", "198.51.100.70", NULL, NULL, NULL},
    {"id.resp_h", "2001:0db8:0000:0000:0000:0000:0000:0001", "V", "ipv6-addr", NULL},
    {"id.resp_h", "2001:db8:ff12::5", "W", "ipv6-addr", NULL},
    {"id.resp_h", "2001:db8:fe00::1", NULL, NULL, NULL},
    {"answers", "TXT 44 beacon hxxp://c2.example[.]net/beacon now", "U", "url",
     "http://c2.example.net/beacon"},
    {"answers", "TXT 31 mail exfil@drop.example", "E", "email-addr", "exfil@drop.example"},
    {"answers", "TXT 20 http://c2.example.net/beacon2", NULL, NULL, NULL},
};

static const plant ssl_plants[] = {
    {"server_name", "Evil.Example", "D", "domain-name", NULL},
    {"server_name", "evilexample.com", NULL, NULL, NULL},
    {"cert_chain_fps", "AAAABBBBCCCCDDDDEEEEFFFF0000111122223333444455556666777788889999", "X",
     "x509-certificate", NULL},
    {"cert_chain_fps", "aaaabbbbccccddddeeeeffff000011112222333344445555666677778888999a", NULL,
     NULL, NULL},
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void check_planted(const match_set *s, const char *name, const dt_buf *buf,
                          got *want, unsigned threads)
{
    got *g = calloc(1, sizeof *g);
    scan_stats st = {0};
    scan_opts o = {.format = SCAN_FORMAT_AUTO, .threads = threads};
    assert_non_null(g);
    assert_int_equal(scan_buffer(s, name, buf->data, buf->len, &o, on_match, on_diag, g, &st,
                                 NULL),
                     DT_OK);
    assert_int_equal(st.skipped_lines, 0);
    /* the same order whatever the threads: file order */
    qsort(want->lines, want->count, sizeof want->lines[0], cmp_str);
    qsort(g->lines, g->count, sizeof g->lines[0], cmp_str);
    for (size_t i = 0; i < g->count && i < want->count; i++)
        assert_string_equal(g->lines[i], want->lines[i]);
    assert_int_equal(g->count, want->count);
    free(g);
}

static void test_scan_buffer_planted_zeek(void **state)
{
    match_set *s = make_set(plant_set, sizeof plant_set / sizeof plant_set[0]);
    const struct {
        const char *file;
        const plant *plants;
        size_t n;
    } logs[] = {
        {"dns.log.gz", dns_plants, sizeof dns_plants / sizeof dns_plants[0]},
        {"ssl.log.gz", ssl_plants, sizeof ssl_plants / sizeof ssl_plants[0]},
    };
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        size_t len;
        char *data = read_data(logs[k].file, &len);
        planted *p = calloc(1, sizeof *p);
        assert_non_null(p);
        /* the real log alone holds none of the planted values */
        dt_buf orig = {.data = data, .len = len};
        check_planted(s, logs[k].file, &orig, &p->want, 1);
        dt_buf_init(&p->out, (size_t)1 << 30);
        plant_log(data, len, logs[k].plants, logs[k].n, 499, &p->out, &p->want);
        printf("%s: %zu planted matches\n", logs[k].file, p->want.count);
        assert_true(p->want.count > 40);
        check_planted(s, logs[k].file, &p->out, &p->want, 1);
        check_planted(s, logs[k].file, &p->out, &p->want, 4);
        dt_buf_release(&p->out);
        dt_free(data);
        free(p);
    }
    match_set_free(s);
}

static void test_scan_file_truncated_gzip(void **state)
{
    match_set *s = make_set(basic, sizeof basic / sizeof basic[0]);
    size_t len;
    char *data = read_data("smtp.log.gz", &len);
    char path[] = "/tmp/detente-scan-XXXXXX";
    int fd = mkstemp(path);
    got *g = calloc(1, sizeof *g);
    scan_stats st = {0};
    scan_opts o = {0};
    (void)state;
    assert_true(fd >= 0);
    /* gzip the inflated log, then cut the compressed stream in half */
    uLongf zl = compressBound(len) + 64;
    unsigned char *z = malloc(zl);
    z_stream zs = {0};
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = z;
    zs.avail_out = (uInt)zl;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t half = zs.total_out / 2;
    deflateEnd(&zs);
    assert_int_equal(write(fd, z, half), (ssize_t)half);
    close(fd);
    assert_int_equal(scan_file(s, path, &o, on_match, on_diag, g, &st, NULL), DT_OK);
    assert_true(g->diag_count >= 1);
    assert_non_null(strstr(g->diags[0], "truncated gzip"));
    assert_true(st.lines > 100 && st.lines < 1200);
    assert_int_equal(st.skipped_lines, 0);
    unlink(path);
    free(z);
    free(g);
    dt_free(data);
    match_set_free(s);
}

/* gzip the text into fd as two members (concatenated gzip), split at cut. */
static void write_gz_members(int fd, const char *text, size_t len, size_t cut)
{
    for (int m = 0; m < 2; m++) {
        const char *in = m == 0 ? text : text + cut;
        size_t n = m == 0 ? cut : len - cut;
        uLongf zl = compressBound(n) + 64;
        unsigned char *z = malloc(zl);
        z_stream zs = {0};
        assert_non_null(z);
        assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
        zs.next_in = (Bytef *)(uintptr_t)in;
        zs.avail_in = (uInt)n;
        zs.next_out = z;
        zs.avail_out = (uInt)zl;
        assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
        assert_int_equal(write(fd, z, zs.total_out), (ssize_t)zs.total_out);
        deflateEnd(&zs);
        free(z);
    }
}

/* A gzip log is scanned a piece at a time: the header in force (fields,
 * types, set separator) carries from piece to piece, line numbers run on,
 * and a line longer than a piece is skipped and counted; the matches are
 * those of the same text scanned whole. */
static void test_scan_file_gzip_pieces(void **state)
{
    match_set *s = make_set(basic, sizeof basic / sizeof basic[0]);
    dt_buf t;
    char path[] = "/tmp/detente-scan-XXXXXX";
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    dt_buf_init(&t, (size_t)1 << 26);
    assert_int_equal(dt_buf_puts(&t, "#separator \\x09\n#set_separator\t,\n"
                                     "#fields\tts\tquery\tanswers\n"
                                     "#types\ttime\tstring\tvector[string]\n", NULL), DT_OK);
    for (int i = 0; i < 3000; i++) {
        char line[256];
        if (i == 1500) {
            assert_int_equal(dt_buf_puts(&t, "#set_separator\t;\n#fields\tanswers\tts\tquery\n",
                                         NULL), DT_OK);
        }
        if (i == 2200) {
            for (int k = 0; k < 1000; k++) /* 10,000 bytes: longer than a piece */
                assert_int_equal(dt_buf_puts(&t, "abcdefghij", NULL), DT_OK);
            assert_int_equal(dt_buf_puts(&t, "\n", NULL), DT_OK);
        }
        if (i < 1500)
            snprintf(line, sizeof line, "%d.5\t%s\tx.org,%s\n", 1521911720 + i,
                     i % 150 == 0 ? "evil.example,x" : i % 100 == 0 ? "evil.example" : "a.org",
                     i % 70 == 0 ? "a.evil.example" : "b.org");
        else
            snprintf(line, sizeof line, "x.org;%s\t%d.5\t%s\n",
                     i % 70 == 0 ? "a.evil.example" : "b.org", 1521911720 + i,
                     i % 150 == 0 ? "evil.example,x" : "a.org");
        assert_int_equal(dt_buf_puts(&t, line, NULL), DT_OK);
    }
    scan_opts o = {.format = SCAN_FORMAT_AUTO, .threads = 1, .max_line = 3000};
    scan_stats want_st = {0};
    got *want = calloc(1, sizeof *want);
    assert_non_null(want);
    assert_int_equal(scan_buffer(s, "x.log", t.data, t.len, &o, on_match, on_diag, want, &want_st,
                                 NULL), DT_OK);
    assert_int_equal(want_st.skipped_lines, 1);
    assert_non_null(strstr(want->diags[0], "x.log:2207: line of 10000 bytes"));
    /* 10 queries (not "evil.example,x": one value of a string column), 22
     * answers before the new header and 21 after it */
    assert_int_equal(want->count, 53);
    write_gz_members(fd, t.data, t.len, t.len / 3);
    close(fd);
    for (unsigned threads = 1; threads <= 3; threads += 2) {
        scan_stats st = {0};
        got *g = calloc(1, sizeof *g);
        assert_non_null(g);
        o.threads = threads;
        o.piece_bytes = 4096;
        assert_int_equal(scan_file(s, path, &o, on_match, on_diag, g, &st, NULL), DT_OK);
        assert_int_equal(g->count, want->count);
        for (size_t i = 0; i < g->count; i++)
            assert_string_equal(g->lines[i], want->lines[i]);
        assert_int_equal(st.lines, want_st.lines);
        assert_int_equal(st.skipped_lines, 1);
        assert_int_equal(st.files, 1);
        assert_int_equal(g->diag_count, 1);
        /* 4 header lines, 1500 records, 2 header lines, 700 records */
        assert_non_null(strstr(g->diags[0], ":2207: line of more than 4096 bytes"));
        free(g);
    }
    unlink(path);
    free(want);
    dt_buf_release(&t);
    match_set_free(s);
}

/* A CSV of more than a chunk's worth, records with newlines everywhere:
 * cut into thread chunks or into gzip pieces, the same matches on the
 * same lines as one thread reading it whole. */
static void test_scan_csv_multiline_chunks(void **state)
{
    match_set *s = make_set(basic, sizeof basic / sizeof basic[0]);
    dt_buf t;
    char path[] = "/tmp/detente-scan-XXXXXX";
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    dt_buf_init(&t, (size_t)1 << 26);
    assert_int_equal(dt_buf_puts(&t, "time,host,message\n", NULL), DT_OK);
    for (int i = 0; i < 30000; i++) {
        char rec[300];
        snprintf(rec, sizeof rec, "2024-01-01T00:00:00Z,%s,%s\n",
                 i % 97 == 0 ? "evil.example" : "quiet.example",
                 i % 7 == 0 ? "\"a message\nover \"\"three\"\"\nlines, c2.example.net and "
                              "hxxp://c2.example.net/beacon\""
                            : "plain words of padding to make the file long enough");
        assert_int_equal(dt_buf_puts(&t, rec, NULL), DT_OK);
    }
    assert_true(t.len > (2u << 20));
    scan_opts o = {.format = SCAN_FORMAT_CSV, .threads = 1};
    scan_stats want_st = {0};
    got *want = calloc(1, sizeof *want);
    assert_non_null(want);
    assert_int_equal(scan_buffer(s, "x.csv", t.data, t.len, &o, on_match, on_diag, want, &want_st,
                                 NULL), DT_OK);
    /* 310 hosts, 4286 URLs: only the first 4096 lines are kept by the helper */
    assert_int_equal(want_st.matches, 310 + 4286);
    assert_int_equal(want_st.lines, 1 + 30000 + 2 * 4286);
    assert_int_equal(want_st.skipped_lines, 0);
    write_gz_members(fd, t.data, t.len, t.len / 2);
    close(fd);
    for (int k = 0; k < 2; k++) {
        scan_stats st = {0};
        got *g = calloc(1, sizeof *g);
        assert_non_null(g);
        o.threads = 3;
        o.piece_bytes = k == 0 ? 0 : 65536;
        if (k == 0)
            assert_int_equal(scan_buffer(s, "x.csv", t.data, t.len, &o, on_match, on_diag, g, &st,
                                         NULL), DT_OK);
        else
            assert_int_equal(scan_file(s, path, &o, on_match, on_diag, g, &st, NULL), DT_OK);
        assert_int_equal(st.matches, want_st.matches);
        assert_int_equal(st.lines, want_st.lines);
        assert_int_equal(g->count, want->count);
        for (size_t i = 0; i < g->count; i++)
            assert_string_equal(g->lines[i], want->lines[i]);
        assert_int_equal(g->diag_count, 0);
        free(g);
    }
    unlink(path);
    free(want);
    dt_buf_release(&t);
    match_set_free(s);
}

static void test_scan_fieldmap_parse_errors(void **state)
{
    scan_fieldmap fm;
    dt_err err = {0};
    (void)state;
    scan_fieldmap_default(&fm);
    assert_int_equal(scan_fieldmap_parse(&fm, "foo=domain,query=none", NULL), DT_OK);
    assert_int_equal(scan_fieldmap_get(&fm, "foo", 3), SCAN_CLASS_DOMAIN);
    assert_int_equal(scan_fieldmap_get(&fm, "query", 5), SCAN_CLASS_NONE);
    assert_int_equal(scan_fieldmap_parse(&fm, "foo=bogus", &err), DT_EARG);
    assert_non_null(strstr(err.msg, "bogus"));
    assert_int_equal(scan_fieldmap_parse(&fm, "novalue", NULL), DT_EARG);
    /* a field name longer than any in the map (a CSV header, a Zeek column) */
    char longname[200];
    memset(longname, 'q', sizeof longname);
    memcpy(longname, "query", 5);
    assert_int_equal(scan_fieldmap_get(&fm, longname, sizeof longname), SCAN_CLASS_NONE);
    assert_int_equal(scan_fieldmap_get(&fm, longname, 70), SCAN_CLASS_NONE);
}

/* ---- patterns evaluated on each record ---- */

static void add_ind(match_set *s, const char *id, const char *ptext, match_load_stats *st)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator",
                          "spec_version", "2.1", "id", id, "created", "2024-01-01T00:00:00Z",
                          "modified", "2024-01-01T00:00:00Z", "pattern_type", "stix",
                          "valid_from", "2024-01-01T00:00:00Z", "pattern", ptext);
    assert_non_null(o);
    assert_int_equal(match_set_add_stix(s, o, dt_now_us(), st, NULL), DT_OK);
    json_decref(o);
}

#define CONN_HDR                                                                                 \
    "#separator \\x09\n#set_separator\t,\n#path\tdns\n"                                       \
    "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\n"                  \
    "#types\ttime\taddr\tport\taddr\tport\tenum\tstring\n"

static const char conn_lines[] =
    "1521911720.1\t10.0.0.5\t40000\t198.51.100.7\t4444\ttcp\tupdate.badcdn.example\n"
    "1521911720.2\t10.0.0.5\t40001\t198.51.100.7\t443\ttcp\tupdate.badcdn.example.org\n"
    "1521911720.3\t10.0.0.6\t40002\t198.51.100.8\t4444\tudp\tfine.example\n"
    "1521911720.4\t10.0.0.6\t40003\t192.0.2.1\t53\tudp\tevil.example\n";

static match_set *pattern_set(match_load_stats *st)
{
    match_set *s = NULL;
    assert_int_equal(match_set_new(&s, NULL), DT_OK);
    /* not simple: LIKE; AND over one connection */
    add_ind(s, "indicator--00000000-0000-4000-8000-000000000001",
            "[domain-name:value LIKE '%.badcdn.example']", st);
    add_ind(s, "indicator--00000000-0000-4000-8000-000000000002",
            "[network-traffic:dst_port = 4444 AND network-traffic:dst_ref.value = '198.51.100.7' "
            "AND network-traffic:protocols[*] = 'tcp']",
            st);
    /* partial: one indexed atom, one on a property no index holds */
    add_ind(s, "indicator--00000000-0000-4000-8000-000000000003",
            "[domain-name:value = 'evil.example'] OR [file:name = 'x.exe']", st);
    add_ind(s, "indicator--00000000-0000-4000-8000-000000000005",
            "[network-traffic:src_port = 40002]", st);
    /* a type no log record yields: never evaluated */
    add_ind(s, "indicator--00000000-0000-4000-8000-000000000004", "[process:name = 'x.exe']", st);
    assert_int_equal(match_set_compile(s, NULL), DT_OK);
    return s;
}

static void test_scan_buffer_pattern_evaluated(void **state)
{
    match_load_stats st = {0};
    scan_stats ss = {0};
    (void)state;
    match_set *s = pattern_set(&st);
    assert_int_equal(st.indicators, 5);
    assert_int_equal(st.evaluated, 4);
    assert_int_equal(st.indexed, 1); /* the partial one */
    assert_int_equal(st.partial, 2); /* it, and the process one (nothing to evaluate) */
    assert_int_equal(match_set_pattern_count(s), 4);
    got *g = scan_text(s, SCAN_FORMAT_AUTO, "conn.log", CONN_HDR "" , 1, &ss);
    assert_int_equal(g->count, 0);
    free(g);
    char text[2048];
    snprintf(text, sizeof text, "%s%s", CONN_HDR, conn_lines);
    g = scan_text(s, SCAN_FORMAT_AUTO, "conn.log", text, 1, &ss);
    assert_int_equal(g->count, 4);
    assert_string_equal(g->lines[0], "6 indicator--00000000-0000-4000-8000-000000000001 "
                                     "domain-name query update.badcdn.example");
    assert_string_equal(g->lines[1], "6 indicator--00000000-0000-4000-8000-000000000002 "
                                     "ipv4-addr id.resp_h 198.51.100.7");
    assert_string_equal(g->lines[2], "8 indicator--00000000-0000-4000-8000-000000000005 "
                                     "ipv4-addr id.resp_h 198.51.100.8");
    /* the partial indicator through its index */
    assert_string_equal(g->lines[3], "9 indicator--00000000-0000-4000-8000-000000000003 "
                                     "domain-name query evil.example");
    free(g);
    match_set_free(s);
}

static int count_ind(const got *g, const char *suffix)
{
    int n = 0;
    for (size_t i = 0; i < g->count; i++)
        n += strstr(g->lines[i], suffix) != NULL;
    return n;
}

static void test_scan_buffer_pattern_threads(void **state)
{
    match_load_stats st = {0};
    scan_stats s1 = {0}, s2 = {0};
    (void)state;
    match_set *s = pattern_set(&st);
    /* > 1 MiB, so two threads split it; 1 in 1000 lines is a connection to 4444 */
    size_t cap = (size_t)3 << 20, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text, cap, "%s", CONN_HDR);
    for (int i = 0; len + 200 < cap - 4096 && i < 20000; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                "1521911720.%d\t10.0.0.5\t40000\t198.51.100.%d\t%d\ttcp\t"
                                "www.site%d.example\n",
                                i, i % 1000 == 7 ? 7 : 9, i % 1000 == 7 ? 4444 : 443, i);
    text[len] = '\0';
    assert_true(len > (1u << 20));
    got *g1 = scan_text(s, SCAN_FORMAT_ZEEK, "big.log", text, 1, &s1);
    got *g2 = scan_text(s, SCAN_FORMAT_ZEEK, "big.log", text, 2, &s2);
    assert_int_equal(count_ind(g1, "0002 "), 20);
    assert_int_equal(g1->count, 20);
    assert_int_equal(g2->count, g1->count);
    for (size_t i = 0; i < g1->count; i++)
        assert_string_equal(g1->lines[i], g2->lines[i]);
    free(g1);
    free(g2);
    free(text);
    match_set_free(s);
}

/* Patterns on a file's name, size and type and on a certificate's
 * subject, issuer and serial: read from files.log and x509.log (and ECS
 * JSON), one object per file or certificate, so an AND holds within it. */
#define FILES_HDR                                                                                \
    "#separator \\x09\n#set_separator\t,\n#path\tfiles\n"                                     \
    "#fields\tts\tfuid\ttx_hosts\tfilename\tmime_type\ttotal_bytes\tmd5\n"                    \
    "#types\ttime\tstring\tset[addr]\tstring\tstring\tcount\tstring\n"
#define X509_HDR                                                                                 \
    "#separator \\x09\n#set_separator\t,\n#path\tx509\n"                                      \
    "#fields\tts\tid\tcertificate.serial\tcertificate.subject\tcertificate.issuer\tfingerprint\n" \
    "#types\ttime\tstring\tstring\tstring\tstring\tstring\n"
#define FP_A "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"

static void test_scan_buffer_pattern_file_x509(void **state)
{
    match_load_stats st = {0};
    scan_stats ss = {0};
    match_set *s = NULL;
    (void)state;
    assert_int_equal(match_set_new(&s, NULL), DT_OK);
    add_ind(s, "indicator--00000000-0000-4000-8000-00000000000a",
            "[file:name = 'invoice.pdf.exe']", &st);
    add_ind(s, "indicator--00000000-0000-4000-8000-00000000000b",
            "[file:name MATCHES '\\\\.exe$' AND file:size > 100000]", &st);
    add_ind(s, "indicator--00000000-0000-4000-8000-00000000000c",
            "[file:hashes.MD5 = '0123456789abcdef0123456789abcdef' AND "
            "file:mime_type = 'application/x-dosexec']",
            &st);
    add_ind(s, "indicator--00000000-0000-4000-8000-00000000000d",
            "[x509-certificate:subject LIKE '%CN=update.evil.example%']", &st);
    add_ind(s, "indicator--00000000-0000-4000-8000-00000000000e",
            "[x509-certificate:serial_number = '0A1B2C' AND "
            "x509-certificate:hashes.'SHA-256' = '" FP_A "']",
            &st);
    assert_int_equal(match_set_compile(s, NULL), DT_OK);
    assert_int_equal(st.evaluated, 5);

    got *g = scan_text(s, SCAN_FORMAT_AUTO, "files.log",
                       FILES_HDR
                       /* line 6: a, b (big .exe), c (MD5 and type in one file) */
                       "1.0\tF1\t198.51.100.1\tinvoice.pdf.exe\tapplication/x-dosexec\t250000\t"
                       "0123456789ABCDEF0123456789ABCDEF\n"
                       /* line 7: a small .exe, the MD5 with another type: none */
                       "2.0\tF2\t198.51.100.1\tsetup.exe\ttext/plain\t900\t"
                       "0123456789abcdef0123456789abcdef\n"
                       /* line 8: size unset, a name that is no .exe: none */
                       "3.0\tF3\t198.51.100.1\treport.exe.txt\t-\t-\t-\n",
                       1, &ss);
    assert_int_equal(g->count, 3);
    assert_string_equal(g->lines[0], "6 indicator--00000000-0000-4000-8000-00000000000a "
                                     "file filename invoice.pdf.exe");
    assert_string_equal(g->lines[1], "6 indicator--00000000-0000-4000-8000-00000000000b "
                                     "file filename invoice.pdf.exe");
    /* the value reported is the first the pattern tests */
    assert_string_equal(g->lines[2], "6 indicator--00000000-0000-4000-8000-00000000000c "
                                     "file mime_type application/x-dosexec");
    assert_int_equal(ss.skipped_lines, 0);
    free(g);

    g = scan_text(s, SCAN_FORMAT_AUTO, "x509.log",
                  X509_HDR
                  "1.0\tC1\t0A1B2C\tCN=update.evil.example,O=Evil\tCN=Some CA\t" FP_A "\n"
                  /* the serial with another fingerprint; a near subject */
                  "2.0\tC2\t0A1B2C\tCN=update.evil.example.org.notthis\tCN=Some CA\t"
                  "b1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90\n",
                  1, &ss);
    assert_int_equal(g->count, 3);
    assert_string_equal(g->lines[0], "6 indicator--00000000-0000-4000-8000-00000000000d "
                                     "x509-certificate certificate.subject "
                                     "CN=update.evil.example,O=Evil");
    assert_string_equal(g->lines[1], "6 indicator--00000000-0000-4000-8000-00000000000e "
                                     "x509-certificate certificate.serial 0A1B2C");
    /* LIKE '%...%' holds for the longer name too: the pattern says so */
    assert_string_equal(g->lines[2], "7 indicator--00000000-0000-4000-8000-00000000000d "
                                     "x509-certificate certificate.subject "
                                     "CN=update.evil.example.org.notthis");
    free(g);

    /* ECS JSON: file.name and file.size (a number) */
    g = scan_text(s, SCAN_FORMAT_JSON, "ecs.json",
                  "{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"file\":{\"name\":\"big.exe\","
                  "\"size\":150000}}\n"
                  "{\"file\":{\"name\":\"big.exe\",\"size\":\"-\"}}\n",
                  1, &ss);
    assert_int_equal(g->count, 1);
    assert_string_equal(g->lines[0], "1 indicator--00000000-0000-4000-8000-00000000000b "
                                     "file file.name big.exe");
    free(g);
    match_set_free(s);
}

/* A value that is not UTF-8 on a record evaluated against patterns: the
 * record is evaluated without it, nothing fails. */
static void test_scan_buffer_pattern_invalid_utf8(void **state)
{
    match_load_stats st = {0};
    scan_stats ss = {0};
    match_set *s = NULL;
    (void)state;
    assert_int_equal(match_set_new(&s, NULL), DT_OK);
    add_ind(s, "indicator--00000000-0000-4000-8000-000000000001",
            "[domain-name:value LIKE '%.badcdn.example']", &st);
    assert_int_equal(match_set_compile(s, NULL), DT_OK);
    got *g = scan_text(s, SCAN_FORMAT_AUTO, "conn.log",
                       CONN_HDR
                       "1.0\t10.0.0.5\t40000\t198.51.100.7\t4444\ttcp\tx\xff\xfe.badcdn.example\n"
                       "2.0\t10.0.0.5\t40000\t198.51.100.7\t4444\ttcp\tok.badcdn.example\n",
                       1, &ss);
    assert_int_equal(g->count, 1);
    assert_string_equal(g->lines[0], "7 indicator--00000000-0000-4000-8000-000000000001 "
                                     "domain-name query ok.badcdn.example");
    free(g);
    match_set_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_buffer_zeek),
        cmocka_unit_test(test_scan_buffer_zeek_header_changes),
        cmocka_unit_test(test_scan_buffer_zeek_types_split),
        cmocka_unit_test(test_scan_buffer_zeek_ipv6_forms),
        cmocka_unit_test(test_scan_buffer_text_many_copies),
        cmocka_unit_test(test_scan_buffer_zeek_timestamps),
        cmocka_unit_test(test_scan_buffer_json),
        cmocka_unit_test(test_scan_buffer_csv),
        cmocka_unit_test(test_scan_buffer_csv_multiline),
        cmocka_unit_test(test_scan_buffer_text_refang),
        cmocka_unit_test(test_scan_buffer_long_line),
        cmocka_unit_test(test_scan_buffer_planted_zeek),
        cmocka_unit_test(test_scan_file_truncated_gzip),
        cmocka_unit_test(test_scan_file_gzip_pieces),
        cmocka_unit_test(test_scan_csv_multiline_chunks),
        cmocka_unit_test(test_scan_fieldmap_parse_errors),
        cmocka_unit_test(test_scan_buffer_pattern_evaluated),
        cmocka_unit_test(test_scan_buffer_pattern_threads),
        cmocka_unit_test(test_scan_buffer_pattern_file_x509),
        cmocka_unit_test(test_scan_buffer_pattern_invalid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
