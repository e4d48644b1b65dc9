/* Fuzz target: the value parsers and normalisers of match/ over arbitrary
 * bytes, as log fields reach them: dotted quads (the SSSE3 path must agree
 * with the byte-at-a-time one, else abort), IPv6 forms, domains (IDNA),
 * URLs, e-mail addresses, hex digests, type guessing, and a lookup of each
 * through a small set, one by one and in a batch. */
#include "match/match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static match_set *fuzz_set(void)
{
    static match_set *s;
    static const char *const v[][2] = {
        {"domain", "evil.example"}, {"ipv4", "203.0.113.0/24"}, {"ipv4", "198.51.100.7"},
        {"ipv6", "2001:db8::/32"}, {"url", "http://c2.example.net/beacon"},
        {"email", "bad@evil.example"}, {"hash", "d41d8cd98f00b204e9800998ecf8427e"},
        {"domain", "xn--bcher-kva.example"},
    };
    if (s)
        return s;
    if (match_set_new(&s, NULL) != DT_OK)
        return NULL;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        match_type t;
        uint32_t ind;
        match_type_parse(v[i][0], strlen(v[i][0]), &t);
        match_set_add_indicator(s, v[i][1], &ind, NULL);
        match_set_add_value(s, ind, t, v[i][1], strlen(v[i][1]), NULL);
    }
    match_set_compile(s, NULL);
    return s;
}

static void count(void *ctx, size_t q, const match_hit *h, size_t n)
{
    (void)q;
    (void)h;
    *(size_t *)ctx += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *v = (const char *)data;
    char buf[4096];
    uint8_t b16[16], hb[64];
    uint32_t a = 0, r = 0;
    match_set *s = fuzz_set();
    if (s == NULL)
        return 0;
    bool fast = match_ipv4_parse(v, size, &a), slow = match_ipv4_parse_reference(v, size, &r);
    if (fast != slow || (fast && a != r)) {
        fprintf(stderr, "dotted quad parsers disagree on %.*s\n", (int)size, v);
        abort();
    }
    match_ipv6_parse(v, size, b16);
    match_domain_normalise(v, size, buf, sizeof buf);
    match_url_normalise(v, size, buf, sizeof buf);
    match_email_normalise(v, size, buf, sizeof buf);
    match_hash_decode(v, size, hb);
    match_type_guess(v, size);
    match_query q[MATCH_TYPE_COUNT];
    size_t one = 0, many = 0;
    for (int t = 0; t < MATCH_TYPE_COUNT; t++) {
        match_hit hits[32];
        one += match_lookup(s, (match_type)t, v, size, hits, 32) > 0;
        q[t] = (match_query){.type = (match_type)t, .v = v, .len = size};
    }
    match_lookup_many(s, q, MATCH_TYPE_COUNT, count, &many);
    (void)one;
    return 0;
}
