/* Tests for match/: normalisation as users expect it, domains on label
 * boundaries, CIDR ranges for both families, hashes as bytes, and which
 * indicators each value belongs to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "match/match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static match_set *set_of(const char *const *vals, const match_type *types, size_t n)
{
    match_set *s = NULL;
    assert_int_equal(match_set_new(&s, NULL), DT_OK);
    for (size_t i = 0; i < n; i++) {
        char id[32];
        uint32_t ind;
        snprintf(id, sizeof id, "ind-%zu", i);
        assert_int_equal(match_set_add_indicator(s, id, &ind, NULL), DT_OK);
        assert_int_equal(ind, i);
        assert_int_equal(match_set_add_value(s, ind, types[i], vals[i], strlen(vals[i]), NULL),
                         DT_OK);
    }
    assert_int_equal(match_set_compile(s, NULL), DT_OK);
    return s;
}

/* The indicator indices a value hits, as a bit mask (tests use < 32). */
static uint32_t hits_of(const match_set *s, match_type t, const char *v)
{
    match_hit h[16];
    uint32_t mask = 0;
    size_t n = match_lookup(s, t, v, strlen(v), h, 16);
    for (size_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < h[i].count; k++)
            mask |= 1u << h[i].inds[k];
    return mask;
}

static void test_match_lookup_domain_label_boundary(void **state)
{
    const char *v[] = {"evil.example", "Sub.Other.Example."};
    match_type t[] = {MATCH_DOMAIN, MATCH_DOMAIN};
    match_set *s = set_of(v, t, 2);
    (void)state;
    assert_int_equal(hits_of(s, MATCH_DOMAIN, "evil.example"), 1);
    assert_int_equal(hits_of(s, MATCH_DOMAIN, "a.b.evil.example"), 1);
    assert_int_equal(hits_of(s, MATCH_DOMAIN, "A.B.EVIL.Example."), 1);
    assert_int_equal(hits_of(s, MATCH_DOMAIN, "notevil.example"), 0);
    assert_int_equal(hits_of(s, MATCH_DOMAIN, "evil.example.com"), 0);
    assert_int_equal(hits_of(s, MATCH_DOMAIN, "example"), 0);
    assert_int_equal(hits_of(s, MATCH_DOMAIN, "x.sub.other.example"), 2);
    assert_int_equal(hits_of(s, MATCH_DOMAIN, "other.example"), 0);
    match_set_free(s);
}

static void test_match_lookup_domain_idna(void **state)
{
    const char *v[] = {"bücher.example", "xn--mnchen-3ya.example"};
    match_type t[] = {MATCH_DOMAIN, MATCH_DOMAIN};
    match_set *s = set_of(v, t, 2);
    char out[256];
    (void)state;
    size_t n = match_domain_normalise("BÜCHER.example", strlen("BÜCHER.example"), out, sizeof out);
    assert_int_equal(n, strlen("xn--bcher-kva.example"));
    assert_memory_equal(out, "xn--bcher-kva.example", n);
    assert_int_equal(hits_of(s, MATCH_DOMAIN, "www.xn--bcher-kva.example"), 1);
    assert_int_equal(hits_of(s, MATCH_DOMAIN, "München.example"), 2);
    /* invalid UTF-8 is no domain at all */
    assert_int_equal(hits_of(s, MATCH_DOMAIN, "b\xfc" "cher.example"), 0);
    match_set_free(s);
}

static void test_match_lookup_ipv4_cidr(void **state)
{
    const char *v[] = {"10.0.0.0/8", "10.1.0.0/16", "192.0.2.7", "0.0.0.0/0"};
    match_type t[] = {MATCH_IPV4, MATCH_IPV4, MATCH_IPV4, MATCH_IPV4};
    match_set *s = set_of(v, t, 3);
    (void)state;
    assert_int_equal(hits_of(s, MATCH_IPV4, "10.1.2.3"), 3);
    assert_int_equal(hits_of(s, MATCH_IPV4, "10.2.2.3"), 1);
    assert_int_equal(hits_of(s, MATCH_IPV4, "10.255.255.255"), 1);
    assert_int_equal(hits_of(s, MATCH_IPV4, "11.0.0.0"), 0);
    assert_int_equal(hits_of(s, MATCH_IPV4, "9.255.255.255"), 0);
    assert_int_equal(hits_of(s, MATCH_IPV4, "192.0.2.7"), 4);
    assert_int_equal(hits_of(s, MATCH_IPV4, "192.0.2.8"), 0);
    assert_int_equal(hits_of(s, MATCH_IPV4, "192.0.2.700"), 0);
    /* an IPv4-mapped IPv6 address is the IPv4 address */
    assert_int_equal(hits_of(s, MATCH_IPV6, "::ffff:192.0.2.7"), 4);
    /* the /16 filter: an address can hit only where a value or range is */
    const uint64_t *map = match_ipv4_map16(s);
    assert_true(match_ipv4_map16_has(map, 0x0AFF0000u));  /* 10.255/16, inside 10/8 */
    assert_true(match_ipv4_map16_has(map, 0xC000FFFFu));  /* 192.0.255.255, 192.0.2.7's /16 */
    assert_false(match_ipv4_map16_has(map, 0xC0010207u)); /* 192.1.2.7 */
    assert_false(match_ipv4_map16_has(map, 0x0B000000u)); /* 11.0.0.0 */
    assert_false(match_ipv4_map16_has(map, 0x09FFFFFFu)); /* 9.255.255.255 */
    match_set_free(s);
    s = set_of(v, t, 4);
    assert_int_equal(hits_of(s, MATCH_IPV4, "255.255.255.255"), 8);
    assert_int_equal(hits_of(s, MATCH_IPV4, "10.1.0.0"), 1 | 2 | 8);
    /* 0.0.0.0/0 holds every address */
    assert_true(match_ipv4_map16_has(match_ipv4_map16(s), 0x0B000000u));
    match_set_free(s);
}

static void test_match_lookup_ipv6_forms(void **state)
{
    const char *v[] = {"2001:DB8::1", "2001:db8:ff00::/40", "::/0"};
    match_type t[] = {MATCH_IPV6, MATCH_IPV6, MATCH_IPV6};
    match_set *s = set_of(v, t, 2);
    (void)state;
    assert_int_equal(hits_of(s, MATCH_IPV6, "2001:0db8:0000:0000:0000:0000:0000:0001"), 1);
    assert_int_equal(hits_of(s, MATCH_IPV6, "2001:db8:0:0::1"), 1);
    assert_int_equal(hits_of(s, MATCH_IPV6, "[2001:db8::1]"), 1);
    assert_int_equal(hits_of(s, MATCH_IPV6, "2001:db8::1%eth0"), 1);
    assert_int_equal(hits_of(s, MATCH_IPV6, "2001:db8::2"), 0);
    assert_int_equal(hits_of(s, MATCH_IPV6, "2001:db8:ffff::9"), 2);
    assert_int_equal(hits_of(s, MATCH_IPV6, "2001:db8:fe00::1"), 0);
    assert_int_equal(hits_of(s, MATCH_IPV6, "2001:db9::"), 0);
    match_set_free(s);
    s = set_of(v, t, 3);
    assert_int_equal(hits_of(s, MATCH_IPV6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 4);
    match_set_free(s);
}

static void test_match_lookup_hashes(void **state)
{
    const char *v[] = {"D41D8CD98F00B204E9800998ECF8427E",
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
    match_type t[] = {MATCH_FILE_HASH, MATCH_FILE_HASH, MATCH_X509_HASH};
    match_set *s = set_of(v, t, 3);
    (void)state;
    assert_int_equal(hits_of(s, MATCH_FILE_HASH, "d41d8cd98f00b204e9800998ecf8427e"), 1);
    assert_int_equal(hits_of(s, MATCH_FILE_HASH, "d41d8cd98f00b204e9800998ecf8427f"), 0);
    assert_int_equal(
        hits_of(s, MATCH_FILE_HASH,
                "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"),
        2);
    assert_int_equal(
        hits_of(s, MATCH_X509_HASH,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        4);
    assert_int_equal(hits_of(s, MATCH_FILE_HASH, "xyz"), 0);
    match_set_free(s);
}

static void test_match_lookup_url_email(void **state)
{
    const char *v[] = {"HTTP://Evil.Example:80", "https://evil.example/a?B=1",
                       "Bad.Guy@Evil.Example"};
    match_type t[] = {MATCH_URL, MATCH_URL, MATCH_EMAIL};
    match_set *s = set_of(v, t, 3);
    (void)state;
    assert_int_equal(hits_of(s, MATCH_URL, "http://evil.example/"), 1);
    assert_int_equal(hits_of(s, MATCH_URL, "http://EVIL.example"), 1);
    assert_int_equal(hits_of(s, MATCH_URL, "http://evil.example:8080/"), 0);
    assert_int_equal(hits_of(s, MATCH_URL, "https://evil.example:443/a?B=1"), 2);
    assert_int_equal(hits_of(s, MATCH_URL, "https://evil.example/a?b=1"), 0);
    assert_int_equal(hits_of(s, MATCH_EMAIL, "bad.guy@evil.example"), 4);
    assert_int_equal(hits_of(s, MATCH_EMAIL, "<BAD.GUY@evil.example>"), 4);
    assert_int_equal(hits_of(s, MATCH_EMAIL, "Bad Guy <bad.guy@evil.example>"), 4);
    assert_int_equal(hits_of(s, MATCH_EMAIL, "good.guy@evil.example"), 0);
    match_set_free(s);
}

static void test_match_set_add_value_invalid(void **state)
{
    match_set *s = NULL;
    uint32_t ind;
    dt_err err = {0};
    (void)state;
    assert_int_equal(match_set_new(&s, NULL), DT_OK);
    assert_int_equal(match_set_add_indicator(s, "x", &ind, NULL), DT_OK);
    assert_int_equal(match_set_add_value(s, ind, MATCH_IPV4, "10.0.0.0/33", 11, &err),
                     DT_EINVALID);
    assert_non_null(strstr(err.msg, "prefix"));
    assert_int_equal(match_set_add_value(s, ind, MATCH_IPV4, "300.1.1.1", 9, NULL), DT_EINVALID);
    assert_int_equal(match_set_add_value(s, ind, MATCH_FILE_HASH, "abc", 3, NULL), DT_EINVALID);
    assert_int_equal(match_set_add_value(s, ind, MATCH_DOMAIN, "a..b", 4, NULL), DT_EINVALID);
    assert_int_equal(match_set_add_value(s, ind, MATCH_URL, "evil.example", 12, NULL),
                     DT_EINVALID);
    assert_int_equal(match_set_compile(s, NULL), DT_OK);
    assert_int_equal(match_set_value_count(s, MATCH_IPV4), 0);
    /* the set is read-only after compile */
    assert_int_equal(match_set_add_value(s, ind, MATCH_DOMAIN, "a.b", 3, NULL), DT_EARG);
    match_set_free(s);
}

static void test_match_set_compile_shared_values(void **state)
{
    /* three indicators naming one value, one naming it twice */
    match_set *s = NULL;
    uint32_t a, b, c;
    match_hit h[4];
    (void)state;
    assert_int_equal(match_set_new(&s, NULL), DT_OK);
    assert_int_equal(match_set_add_indicator(s, "indicator--a", &a, NULL), DT_OK);
    assert_int_equal(match_set_add_indicator(s, "indicator--b", &b, NULL), DT_OK);
    assert_int_equal(match_set_add_indicator(s, "indicator--c", &c, NULL), DT_OK);
    assert_int_equal(match_set_add_value(s, a, MATCH_DOMAIN, "x.example", 9, NULL), DT_OK);
    assert_int_equal(match_set_add_value(s, a, MATCH_DOMAIN, "X.example", 9, NULL), DT_OK);
    assert_int_equal(match_set_add_value(s, b, MATCH_DOMAIN, "x.example.", 10, NULL), DT_OK);
    assert_int_equal(match_set_add_value(s, c, MATCH_IPV4, "1.2.3.4", 7, NULL), DT_OK);
    assert_int_equal(match_set_compile(s, NULL), DT_OK);
    assert_int_equal(match_lookup(s, MATCH_DOMAIN, "x.example", 9, h, 4), 1);
    assert_int_equal(h[0].count, 2);
    assert_string_equal(match_set_indicator_id(s, h[0].inds[0]), "indicator--a");
    assert_string_equal(match_set_indicator_id(s, h[0].inds[1]), "indicator--b");
    assert_int_equal(match_set_value_count(s, MATCH_DOMAIN), 1);
    match_set_free(s);
}

static void test_match_type_guess_forms(void **state)
{
    (void)state;
    assert_int_equal(match_type_guess("10.0.0.0/8", 10), MATCH_IPV4);
    assert_int_equal(match_type_guess("2001:db8::/32", 13), MATCH_IPV6);
    assert_int_equal(match_type_guess("http://a.b/c", 12), MATCH_URL);
    assert_int_equal(match_type_guess("a@b.c", 5), MATCH_EMAIL);
    assert_int_equal(match_type_guess("d41d8cd98f00b204e9800998ecf8427e", 32), MATCH_FILE_HASH);
    assert_int_equal(match_type_guess("evil.example", 12), MATCH_DOMAIN);
}

/* ---- batched lookups give what single ones give ---- */

typedef struct many_got {
    uint64_t mask[600];
    size_t calls;
    size_t last;
    bool ordered;
} many_got;

static void many_cb(void *ctx, size_t q, const match_hit *h, size_t n)
{
    many_got *g = ctx;
    if (g->calls > 0 && q <= g->last)
        g->ordered = false;
    g->last = q;
    g->calls++;
    for (size_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < h[i].count; k++)
            g->mask[q] |= UINT64_C(1) << (h[i].inds[k] & 63);
}

static void test_match_lookup_many_same_as_single(void **state)
{
    static const char *const vals[] = {
        "evil.example", "203.0.113.0/24", "198.51.100.7", "2001:db8::1", "2001:db8:1::/48",
        "http://c2.example.net/beacon", "bad@evil.example",
        "d41d8cd98f00b204e9800998ecf8427e",
        "b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe", "example",
    };
    static const match_type types[] = {
        MATCH_DOMAIN, MATCH_IPV4, MATCH_IPV4, MATCH_IPV6, MATCH_IPV6, MATCH_URL, MATCH_EMAIL,
        MATCH_FILE_HASH, MATCH_X509_HASH, MATCH_DOMAIN,
    };
    static const struct {
        match_type t;
        const char *v;
    } probe[] = {
        {MATCH_DOMAIN, "a.b.Evil.Example."}, {MATCH_DOMAIN, "notevil.example"},
        {MATCH_DOMAIN, "x.example"}, {MATCH_DOMAIN, "bücher.example"},
        {MATCH_IPV4, "203.0.113.77"}, {MATCH_IPV4, "203.0.114.1"}, {MATCH_IPV4, "198.51.100.7"},
        {MATCH_IPV4, "198.51.100.8"}, {MATCH_IPV4, "1.2.3"}, {MATCH_IPV6, "::ffff:203.0.113.5"},
        {MATCH_IPV6, "2001:DB8:0::1"}, {MATCH_IPV6, "2001:db8:1:ffff::9"},
        {MATCH_IPV6, "2001:db8:2::1"}, {MATCH_URL, "HTTP://C2.example.net:80/beacon"},
        {MATCH_URL, "http://c2.example.net/beacon2"}, {MATCH_EMAIL, "Bad@Evil.Example"},
        {MATCH_FILE_HASH, "D41D8CD98F00B204E9800998ECF8427E"},
        {MATCH_FILE_HASH, "d41d8cd98f00b204e9800998ecf8427f"}, {MATCH_FILE_HASH, "xyz"},
        {MATCH_X509_HASH, "B2DAFBCDBC75210672F137F27CE882CCB799887631655D4F11191D5A678E44FE"},
        {MATCH_DOMAIN, ""},
    };
    const size_t np = sizeof probe / sizeof probe[0];
    match_query q[600];
    many_got *g = calloc(1, sizeof *g);
    (void)state;
    assert_non_null(g);
    g->ordered = true;
    match_set *s = set_of(vals, types, sizeof vals / sizeof vals[0]);
    /* 600 queries: more than one batch round */
    for (size_t i = 0; i < 600; i++)
        q[i] = (match_query){.type = probe[i % np].t, .v = probe[i % np].v, .len = strlen(probe[i % np].v)};
    match_lookup_many(s, q, 600, many_cb, g);
    assert_true(g->ordered);
    size_t expect_calls = 0;
    for (size_t i = 0; i < 600; i++) {
        uint32_t single = hits_of(s, q[i].type, q[i].v);
        assert_int_equal((uint32_t)g->mask[i], single);
        expect_calls += single != 0;
    }
    assert_int_equal(g->calls, expect_calls);
    assert_true(expect_calls > 200); /* the probes do hit */
    free(g);
    match_set_free(s);
}

/* Every byte value at every position of a digest: decoded exactly when all
 * are hex digits (the 16-at-a-time path and the tail agree). */
static void test_match_hash_decode_every_byte(void **state)
{
    static const char hex[] = "0123456789abcdef";
    const size_t lens[] = {32, 40, 64, 128};
    (void)state;
    for (size_t li = 0; li < 4; li++) {
        size_t len = lens[li];
        char v[129];
        uint8_t out[64];
        for (size_t i = 0; i < len; i++)
            v[i] = hex[(i * 7 + 3) % 16];
        for (size_t pos = 0; pos < len; pos++) {
            for (unsigned c = 0; c < 256; c++) {
                char w[129];
                memcpy(w, v, len);
                w[pos] = (char)c;
                int nib = c >= '0' && c <= '9' ? (int)(c - '0')
                        : c >= 'a' && c <= 'f' ? (int)(c - 'a' + 10)
                        : c >= 'A' && c <= 'F' ? (int)(c - 'A' + 10) : -1;
                size_t n = match_hash_decode(w, len, out);
                if (nib < 0) {
                    assert_int_equal(n, 0);
                    continue;
                }
                assert_int_equal(n, len / 2);
                for (size_t b = 0; b < len / 2; b++) {
                    unsigned hi = (unsigned)(strchr(hex, v[2 * b]) - hex);
                    unsigned lo = (unsigned)(strchr(hex, v[2 * b + 1]) - hex);
                    if (2 * b == pos)
                        hi = (unsigned)nib;
                    if (2 * b + 1 == pos)
                        lo = (unsigned)nib;
                    assert_int_equal(out[b], hi << 4 | lo);
                }
            }
        }
    }
}

/* A set whose domains all have 3 labels is not asked for their parents,
 * and a set holding a top-level label still matches every name under it. */
static void test_match_lookup_domain_label_counts(void **state)
{
    static const char *const vals[] = {"com", "x.evil.example"};
    static const match_type types[] = {MATCH_DOMAIN, MATCH_DOMAIN};
    static const struct {
        const char *v;
        uint32_t want;
    } probe[] = {
        {"a.b.c.com", 1}, {"COM.", 1}, {"notcom", 0}, {"y.x.evil.example", 2},
        {"X.Evil.Example.", 2}, {"evil.example", 0}, {"xx.evil.example", 0},
        {"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.evil.example", 2},
    };
    match_query q[8];
    many_got *g = calloc(1, sizeof *g);
    (void)state;
    assert_non_null(g);
    match_set *s = set_of(vals, types, 2);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(hits_of(s, MATCH_DOMAIN, probe[i].v), probe[i].want);
        q[i] = (match_query){.type = MATCH_DOMAIN, .v = probe[i].v, .len = strlen(probe[i].v)};
    }
    match_lookup_many(s, q, 8, many_cb, g);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal((uint32_t)g->mask[i], probe[i].want);
    free(g);
    match_set_free(s);
}

/* An address the caller parsed is looked up by its value, not its text. */
static void test_match_lookup_many_parsed_ipv4(void **state)
{
    static const char *const vals[] = {"203.0.113.0/24", "198.51.100.7"};
    static const match_type types[] = {MATCH_IPV4, MATCH_IPV4};
    match_query q[3] = {
        {.type = MATCH_IPV4, .v = "0.0.0.0", .len = 7, .parsed = true, .a4 = 0xCB007105u},
        {.type = MATCH_IPV4, .v = "0.0.0.0", .len = 7, .parsed = true, .a4 = 0xC6336407u},
        {.type = MATCH_IPV4, .v = "198.51.100.7", .len = 12, .parsed = true, .a4 = 0x01020304u},
    };
    many_got *g = calloc(1, sizeof *g);
    (void)state;
    assert_non_null(g);
    match_set *s = set_of(vals, types, 2);
    match_lookup_many(s, q, 3, many_cb, g);
    assert_int_equal(g->mask[0], 1);
    assert_int_equal(g->mask[1], 2);
    assert_int_equal(g->mask[2], 0);
    free(g);
    match_set_free(s);
}

/* Names of every length from 1 to 90, built from labels that hit and
 * bytes that need normalising (upper case, a space, UTF-8, a final dot),
 * give the same hits in a batch as one by one. */
static void test_match_lookup_many_domains_every_length(void **state)
{
    static const char *const vals[] = {"b", "a.b", "ab.a.b", "x.ab.a.b", "aaaaaaaa.bbbbbbbb"};
    static const match_type types[] = {MATCH_DOMAIN, MATCH_DOMAIN, MATCH_DOMAIN, MATCH_DOMAIN,
                                       MATCH_DOMAIN};
    static const char *const pieces[] = {"a", "b", ".a", "ab", "E", "x", "x-", ".a.b", "\xc3\xbc",
                                         ".b", "aaaaaaaa", "bbbbbbbb"};
    enum { N = 2000 };
    static char names[N][100];
    static match_query q[N];
    many_got *g = calloc(1, sizeof *g);
    uint64_t r = 12345;
    size_t calls = 0;
    (void)state;
    assert_non_null(g);
    match_set *s = set_of(vals, types, 5);
    for (size_t i = 0; i < N; i++) {
        size_t want = 1 + i % 90, n = 0;
        while (n < want) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            const char *pc = pieces[(r >> 33) % 12];
            size_t pl = strlen(pc);
            if (n + pl > want)
                pl = want - n;
            memcpy(names[i] + n, pc, pl);
            n += pl;
        }
        if (i % 3 == 0 && n > 4)
            memcpy(names[i] + n - 4, ".a.b", 4);
        if (i % 11 == 0)
            names[i][n - 1] = '.';
        if (i % 13 == 0)
            names[i][0] = ' ';
        names[i][n] = '\0';
        q[i] = (match_query){.type = MATCH_DOMAIN, .v = names[i], .len = n};
    }
    /* in rounds of 200 (the counters hold 600 queries) */
    for (size_t at = 0; at < N; at += 200) {
        memset(g, 0, sizeof *g);
        match_lookup_many(s, q + at, 200, many_cb, g);
        for (size_t i = 0; i < 200; i++) {
            uint32_t single = hits_of(s, MATCH_DOMAIN, names[at + i]);
            assert_int_equal((uint32_t)g->mask[i], single);
            calls += single != 0;
        }
    }
    assert_true(calls > 300); /* names do hit */
    free(g);
    match_set_free(s);
}

/* The dotted-quad parser (SSSE3 where the processor has it) agrees with
 * the byte-at-a-time one on every form built from telling octets, and on
 * those forms with any byte changed. */
static void test_match_ipv4_parse_same_as_reference(void **state)
{
    static const char *const oct[] = {"0", "1", "9", "10", "99", "100", "199", "255", "256",
                                      "300", "999", "00", "000", "0000", "", "1a", "012"};
    const size_t no = sizeof oct / sizeof oct[0];
    static const unsigned char bytes[] = {'0', '5', '9', '.', '/', ':', 'a', ' ', 0, 0x80, 0xAE, 0xFF};
    size_t checked = 0, valid = 0;
    (void)state;
    for (size_t a = 0; a < no; a++)
        for (size_t b = 0; b < no; b++)
            for (size_t c = 0; c < no; c++)
                for (size_t d = 0; d < no; d++) {
                    char v[40];
                    int n = snprintf(v, sizeof v, "%s.%s.%s.%s", oct[a], oct[b], oct[c], oct[d]);
                    uint32_t x = 0, y = 0;
                    bool okx = match_ipv4_parse(v, (size_t)n, &x);
                    bool oky = match_ipv4_parse_reference(v, (size_t)n, &y);
                    assert_int_equal(okx, oky);
                    if (okx) {
                        assert_int_equal(x, y);
                        valid++;
                    }
                    checked++;
                    if ((a * 7 + b * 5 + c * 3 + d) % 23 != 0 || n < 7 || n > 15)
                        continue;
                    for (int i = 0; i < n; i++)
                        for (size_t k = 0; k < sizeof bytes; k++) {
                            char w[40];
                            memcpy(w, v, (size_t)n);
                            w[i] = (char)bytes[k];
                            okx = match_ipv4_parse(w, (size_t)n, &x);
                            oky = match_ipv4_parse_reference(w, (size_t)n, &y);
                            assert_int_equal(okx, oky);
                            if (okx)
                                assert_int_equal(x, y);
                            checked++;
                        }
                }
    uint32_t a4;
    assert_true(match_ipv4_parse("255.255.255.255", 15, &a4));
    assert_int_equal(a4, 0xFFFFFFFFu);
    assert_true(match_ipv4_parse("10.0.0.1", 8, &a4));
    assert_int_equal(a4, 0x0A000001u);
    assert_true(match_ipv4_parse("192.168.100.7", 13, &a4));
    assert_int_equal(a4, 0xC0A86407u);
    assert_true(match_ipv4_parse("1.2.3.4", 7, &a4));
    assert_false(match_ipv4_parse(".1.2.3.4", 8, &a4));
    assert_false(match_ipv4_parse("1.2.3.4.", 8, &a4));
    assert_false(match_ipv4_parse("1..2.3.4", 8, &a4));
    assert_false(match_ipv4_parse("1.2.3.256", 9, &a4));
    assert_false(match_ipv4_parse("1.2.3.4.5", 9, &a4));
    assert_true(valid > 1000 && checked > 80000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_lookup_domain_label_boundary),
        cmocka_unit_test(test_match_lookup_domain_idna),
        cmocka_unit_test(test_match_lookup_ipv4_cidr),
        cmocka_unit_test(test_match_lookup_ipv6_forms),
        cmocka_unit_test(test_match_lookup_hashes),
        cmocka_unit_test(test_match_lookup_url_email),
        cmocka_unit_test(test_match_set_add_value_invalid),
        cmocka_unit_test(test_match_set_compile_shared_values),
        cmocka_unit_test(test_match_type_guess_forms),
        cmocka_unit_test(test_match_lookup_many_same_as_single),
        cmocka_unit_test(test_match_hash_decode_every_byte),
        cmocka_unit_test(test_match_lookup_domain_label_counts),
        cmocka_unit_test(test_match_lookup_many_parsed_ipv4),
        cmocka_unit_test(test_match_lookup_many_domains_every_length),
        cmocka_unit_test(test_match_ipv4_parse_same_as_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
