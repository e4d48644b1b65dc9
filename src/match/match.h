/* match: the compiled indicator set, built once and shared read-only by
 * every scanning thread (compile once, scan many).
 *
 * A set holds indicator ids and the observable values each one names, by
 * STIX observable type. Values are normalised the way users expect (domains
 * lower-cased, trailing dot dropped, IDNA labels as punycode; IP addresses
 * as integers whatever their textual form; hashes as bytes; URL scheme and
 * host lower-cased, default port dropped; e-mail addresses lower-cased).
 * Exact values live in one open-addressing hash table keyed by XXH3-64 of
 * the normalised bytes; IPv4/IPv6 ranges (CIDR) become sorted disjoint
 * segments, each with the indicators covering it, found by binary search.
 * A domain indicator matches the domain itself and its subdomains on a
 * label boundary (evil.example matches a.b.evil.example, not
 * notevil.example).
 *
 * Lifecycle: match_set_new, then match_set_add_indicator/match_set_add_value
 * (single thread), then match_set_compile. After compile the set is
 * immutable and match_lookup may be called from any number of threads. */
#ifndef DETENTE_MATCH_H
#define DETENTE_MATCH_H

#include "core/core.h"
#include "pattern/pattern.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The observable types a set can hold (append only). */
typedef enum match_type {
    MATCH_DOMAIN = 0,     /* domain-name:value */
    MATCH_IPV4 = 1,       /* ipv4-addr:value, address or CIDR */
    MATCH_IPV6 = 2,       /* ipv6-addr:value, address or CIDR */
    MATCH_URL = 3,        /* url:value */
    MATCH_FILE_HASH = 4,  /* file:hashes.(MD5|SHA-1|SHA-256|SHA-512) */
    MATCH_X509_HASH = 5,  /* x509-certificate:hashes.* (fingerprints) */
    MATCH_EMAIL = 6,      /* email-addr:value */
    MATCH_TYPE_COUNT = 7,
} match_type;

/* The STIX observable type name ("domain-name", "file", ...). */
const char *match_type_stix(match_type t);
/* Parse "domain-name", "ipv4-addr", ..., also the short forms "domain",
 * "ip" (resolved to v4 or v6 by the value later is the caller's job),
 * "hash", "x509", "email". false when unknown. */
bool match_type_parse(const char *s, size_t len, match_type *out);
/* Guess the type of a bare value from a plain list: an IP address or CIDR,
 * a hex hash (32/40/64/128 digits), a URL (scheme://), an e-mail address,
 * else a domain name. */
match_type match_type_guess(const char *v, size_t len);

typedef struct match_set match_set;

dt_status match_set_new(match_set **out, dt_err *err);
void match_set_free(match_set *s);

/* Register an indicator id (copied); *idx gets its index (0, 1, ...). */
dt_status match_set_add_indicator(match_set *s, const char *id, uint32_t *idx, dt_err *err);
/* Add a value that indicator `ind` names. The value is normalised and
 * copied. DT_EINVALID (with the reason) when the value is not a valid
 * value of the type. Not after compile (DT_EARG). */
dt_status match_set_add_value(match_set *s, uint32_t ind, match_type t, const char *v,
                              size_t len, dt_err *err);
/* Build the lookup structures. The set is read-only afterwards. */
dt_status match_set_compile(match_set *s, dt_err *err);

size_t match_set_indicator_count(const match_set *s);
const char *match_set_indicator_id(const match_set *s, uint32_t idx);
/* Number of distinct values of type t (ranges included); 0 means a scanner
 * need not even parse fields of that type. */
size_t match_set_value_count(const match_set *s, match_type t);
/* Bytes held by the compiled structures (for the benchmark). */
size_t match_set_memory(const match_set *s);

/* One hit: the indicators (indices) naming one normalised value. */
typedef struct match_hit {
    match_type type;
    uint32_t count;
    const uint32_t *inds;     /* borrowed from the set */
} match_hit;

/* Look a value up as it appears in a log (not normalised, not copied
 * unless normalisation needs a small stack buffer). Writes up to max hits
 * (a domain may hit for itself and for several parent domains; an address
 * for itself and for enclosing ranges) and returns how many. For
 * MATCH_IPV4/MATCH_IPV6 the text must be an address of that family; an
 * IPv4-mapped IPv6 address is also looked up as IPv4. Thread-safe on a
 * compiled set; no allocation. */
size_t match_lookup(const match_set *s, match_type t, const char *v, size_t len, match_hit *hits,
                    size_t max);

/* The set's map of the /16s that hold an IPv4 value or are touched by a
 * range: 1024 words, bit (a >> 16) set when address a may hit (NULL
 * before compile). One bit of an 8 KiB map, in L1 while a log is
 * scanned: an address whose bit is clear cannot hit and need not be
 * looked up; a set bit says nothing more. */
const uint64_t *match_ipv4_map16(const match_set *s);
static inline bool match_ipv4_map16_has(const uint64_t *map, uint32_t a)
{
    return map != NULL && (map[a >> 22] >> ((a >> 16) & 63) & 1);
}

/* Values longer than this (in bytes, as they appear) are never found. */
#define MATCH_VALUE_MAX 2048

/* One value of a batch for match_lookup_many. */
typedef struct match_query {
    match_type type;
    const char *v;
    size_t len;
    bool parsed;   /* MATCH_IPV4 only: the address is a4 (parsed by the caller) */
    uint32_t a4;
} match_query;

/* Called for each query of a batch that hit, in query order; hits are
 * borrowed for the call. */
typedef void (*match_many_fn)(void *ctx, size_t query, const match_hit *hits, size_t n);

/* Look up count values at once, with the same results as match_lookup on
 * each (for an IPv4-mapped IPv6 address, range hits come after the exact
 * ones). The values' hashes are computed and their filter and table lines
 * prefetched before any is tested, so the cache misses of a log record's
 * lookups overlap instead of adding up. Thread-safe on a compiled set; no
 * allocation. */
void match_lookup_many(const match_set *s, const match_query *q, size_t count, match_many_fn fn,
                       void *ctx);

/* Normalisers, exposed for readers and tests. Each writes into out (cap
 * bytes) and returns the length, or 0 when v is not a valid value. */
size_t match_domain_normalise(const char *v, size_t len, char *out, size_t cap);
size_t match_url_normalise(const char *v, size_t len, char *out, size_t cap);
size_t match_email_normalise(const char *v, size_t len, char *out, size_t cap);
/* Hex digest to bytes: 16, 20, 32 or 64 bytes; 0 otherwise. out >= 64. */
size_t match_hash_decode(const char *v, size_t len, uint8_t *out);
/* Dotted quad to host-order integer. */
bool match_ipv4_parse(const char *v, size_t len, uint32_t *out);
/* The same a byte at a time (what the tests hold the fast path to). */
bool match_ipv4_parse_reference(const char *v, size_t len, uint32_t *out);
/* Any RFC 4291 textual form (brackets and a %zone are dropped). */
bool match_ipv6_parse(const char *v, size_t len, uint8_t out[16]);

/* ---- loading STIX indicators ---- */

/* Why indicators were or were not indexed (counts added up by the loader). */
typedef struct match_load_stats {
    size_t indicators;   /* indicator objects seen */
    size_t indexed;      /* at least one value indexed */
    size_t revoked;      /* revoked: skipped */
    size_t inactive;     /* now outside [valid_from, valid_until): skipped */
    size_t not_stix;     /* pattern_type other than "stix": skipped */
    size_t invalid;      /* pattern does not parse: skipped (DT_EINVALID returned) */
    size_t complex;      /* not a disjunction of equality tests: not indexed */
    size_t partial;      /* some of its comparisons have no index (other types/paths) */
    size_t values;       /* values added */
    size_t evaluated;    /* kept whole, evaluated on each record (not simple, or partial) */
} match_load_stats;

/* Add one STIX indicator (a jansson object, borrowed) if it is active at
 * now_us: not revoked, valid_from <= now < valid_until, pattern_type stix.
 * Its pattern's equality atoms (STIX 2.1 part 9, through pattern/) are
 * indexed: domain-name, ipv4-addr/ipv6-addr (CIDR values too), url,
 * email-addr and email-message addresses, file/artifact hashes, x509
 * fingerprints. Objects of other types are ignored. DT_EINVALID (with the
 * reason) for an indicator whose pattern does not parse; DT_ENOMEM. */
dt_status match_set_add_stix(match_set *s, const json_t *obj, int64_t now_us,
                             match_load_stats *st, dt_err *err);

/* ---- patterns evaluated record by record ----
 *
 * A pattern that is not a plain disjunction of equality tests, or one with
 * comparisons on properties no index holds, is kept whole: the scanner
 * builds the SCOs of each log record and runs pattern_match_record, but
 * only on records holding an object type the pattern names. Types are bit
 * sets: bit t (a match_type) for the types the index knows, and
 * MATCH_SCO_NETWORK_TRAFFIC for the connection a record describes. */
#define MATCH_SCO_NETWORK_TRAFFIC 7u
#define MATCH_SCO_COUNT 8u
/* The bit of an SCO type the scanner can build, or 0. */
uint32_t match_sco_bit(const char *stix_type);
/* The STIX type of bit index i (< MATCH_SCO_COUNT). */
const char *match_sco_name(unsigned i);

/* Keep p (taken: freed by the set, also on failure) to evaluate for
 * indicator ind; types are the SCO bits of the types it names (0: it can
 * never match a record, and is dropped). Not after compile (DT_EARG). */
dt_status match_set_pattern_take(match_set *s, uint32_t ind, pattern *p, uint32_t types,
                                 dt_err *err);
size_t match_set_pattern_count(const match_set *s);
/* Pattern i (borrowed from the set), its indicator and SCO bits. */
const pattern *match_set_pattern_get(const match_set *s, size_t i, uint32_t *ind,
                                     uint32_t *types);
/* The union of the SCO bits of all kept patterns. */
uint32_t match_set_pattern_types(const match_set *s);

#endif
