/* Fuzz target: the value parsers and normalisers of match/ over arbitrary
 * bytes, as log fields reach them: dotted quads (the SSSE3 path must agree
 * with the byte-at-a-time one, else abort), IPv6 forms, domains (IDNA),
 * URLs, e-mail addresses, hex digests, type guessing, and a lookup of each
 * through the scan targets' set, one by one and in a batch. */
#include "scan_fuzz.h" /* fuzz_set: the same small set the scan targets use */

#include <stdio.h>
#include <stdlib.h>

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
    match_set *s = fuzz_set(false);
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
