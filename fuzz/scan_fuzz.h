/* Shared body of the scan reader fuzz targets (fuzz_scan_<format>.c): one
 * reader of scan/ over arbitrary bytes, against a small fixed indicator set
 * holding every observable type, and, where the reader builds SCOs, whole
 * patterns evaluated on each record. Included by exactly one .c per target. */
#ifndef DETENTE_FUZZ_SCAN_FUZZ_H
#define DETENTE_FUZZ_SCAN_FUZZ_H

#include "scan/scan.h"

#include <stdbool.h>
#include <string.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline match_set *fuzz_set(bool with_patterns)
{
    static match_set *s;
    static const char *const v[][2] = {
        {"domain", "evil.example"}, {"ipv4", "203.0.113.0/24"}, {"ipv4", "198.51.100.7"},
        {"ipv6", "2001:db8::/32"}, {"url", "http://c2.example.net/beacon"},
        {"email", "bad@evil.example"}, {"hash", "d41d8cd98f00b204e9800998ecf8427e"},
        {"x509", "b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe"},
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
    /* patterns kept whole, so building a record's SCOs and evaluating
     * them is fuzzed too (for the readers that build SCOs) */
    static const char *const pats[] = {
        "[network-traffic:dst_port = 4444 AND network-traffic:dst_ref.value = '198.51.100.7']",
        "[domain-name:value LIKE '%.badcdn.example'] OR [file:name = 'x.exe']",
        ("[x509-certificate:hashes.MD5 != 'd41d8cd98f00b204e9800998ecf8427e' AND "
         "email-addr:value MATCHES '^a']"),
        "[file:name MATCHES '\\.exe$' AND file:size > 1000 AND file:mime_type != 'text/plain']",
        ("[x509-certificate:subject LIKE '%evil%' AND x509-certificate:serial_number = '01'] OR "
         "[x509-certificate:issuer = 'CN=x']"),
    };
    for (size_t i = 0; with_patterns && i < sizeof pats / sizeof pats[0]; i++) {
        pattern *p = NULL;
        uint32_t ind;
        const char *types[8];
        uint32_t bits = 0;
        if (pattern_parse(pats[i], strlen(pats[i]), &p, NULL) != DT_OK)
            continue;
        size_t nt = pattern_object_types(p, types, 8);
        for (size_t k = 0; k < nt && k < 8; k++)
            bits |= match_sco_bit(types[k]);
        if (match_set_add_indicator(s, pats[i], &ind, NULL) != DT_OK) {
            pattern_free(p);
            continue;
        }
        match_set_pattern_take(s, ind, p, bits, NULL);
    }
    match_set_compile(s, NULL);
    return s;
}

static inline void sink(void *ctx, const scan_match *m)
{
    (void)ctx;
    (void)m;
}

static inline int scan_fuzz_one(scan_format format, const char *name, bool with_patterns,
                         const uint8_t *data, size_t size)
{
    scan_opts o = {.format = format, .threads = 1, .max_line = 4096};
    scan_stats st = {0};
    match_set *s = fuzz_set(with_patterns);
    if (s == NULL)
        return 0;
    /* bad input is reported per line and scanning goes on; the only
     * error a small input could give is out of memory, which it never is */
    dt_err e = {0};
    if (scan_buffer(s, name, (const char *)data, size, &o, sink, NULL, NULL, &st, &e) ==
        DT_ENOMEM) {
        fprintf(stderr, "scan_buffer: %s: %s\n", e.where, e.msg);
        __builtin_trap();
    }
    return 0;
}

#endif
