/* match: the compiled indicator set (see match.h for the contract).
 *
 * Building collects (namespace, normalised key bytes, indicator) entries in
 * one byte arena. Compiling sorts them by (hash, key), groups equal keys so
 * each distinct value gets one contiguous run of indicator indices (its
 * postings), and places each distinct value in an open-addressing table
 * (linear probing, load <= 1/2) keyed by XXH3-64 over the normalised bytes
 * with the namespace as seed. A probe touches one or two 24-byte slots and
 * compares bytes only on a full 64-bit hash match. In front of the table
 * sits a split-block Bloom filter (one 64-byte block per key, one bit set
 * in each of its eight words, tested without a branch; about 16 bits per
 * value: 2 MiB for a million values, so it stays in the L2/L3 cache): most
 * log values are not indicators, and for them a lookup costs one cached
 * line instead of a cache miss into the table. A domain looks up itself
 * and each parent on a label boundary, but only parents with a label count
 * some domain value of the set has (no set of registrable domains is asked
 * for "com").
 * An exact IPv4 address skips even the hash unless its /24 holds one of
 * the set's (a bit per /24, 2 MiB, read directly: addresses are the most
 * frequent log values). Another filter marks the /16 (IPv4) or top 16 bits (IPv6) prefixes that
 * any range touches, so most addresses skip the binary search. CIDR ranges become
 * disjoint segments [start, end] (a sweep over all range boundaries), each
 * carrying every range that covers it, so an address finds all enclosing
 * ranges with one binary search. Normalisation happens in a caller stack
 * buffer only when the bytes need to change, so a lookup never allocates.
 *
 * Domains follow RFC 1035 labels as users write them: case-insensitive, a
 * trailing root dot ignored; internationalised labels are compared in their
 * ASCII (punycode, RFC 3492) form, after lower-casing. */
#define _GNU_SOURCE /* memmem */
#include "match/match.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
/* the short-key paths of XXH3, inlined: most keys are a few bytes */
#define XXH_INLINE_ALL
#include <xxhash.h>

#define KEY_MAX MATCH_VALUE_MAX

/* Namespaces of the exact table: the match_type, so one table serves all. */

typedef struct entry {
    uint64_t h;
    uint32_t off;  /* key bytes in the arena */
    uint32_t ind;
    uint16_t len;
    uint8_t ns;
} entry;

typedef struct slot {
    uint64_t h;
    uint32_t key_off;
    uint32_t post_off;
    uint32_t post_count; /* 0: empty slot */
    uint16_t key_len;
    uint8_t ns;
} slot;

typedef struct u128 {
    uint64_t hi, lo;
} u128;

typedef struct range {
    u128 lo, hi;
    uint32_t ind;
} range;

typedef struct segs {
    u128 *start, *end;
    uint32_t *post_off, *post_count;
    size_t count;
} segs;

struct match_set {
    bool compiled;
    /* indicator ids, NUL-separated in ids, offsets in id_off */
    char *ids;
    size_t ids_len, ids_cap;
    uint32_t *id_off;
    size_t id_count, id_cap;
    /* exact entries while building */
    uint8_t *arena;
    size_t arena_len, arena_cap;
    entry *ents;
    size_t ent_count, ent_cap;
    /* ranges while building, per family (0 v4, 1 v6) */
    range *ranges[2];
    size_t range_count[2], range_cap[2];
    /* compiled */
    slot *table;
    uint64_t mask;
    uint32_t *posts;
    size_t post_count;
    segs seg[2];
    size_t value_count[MATCH_TYPE_COUNT];
    /* prefilters */
    uint64_t *bloom;       /* 8 words (512 bits) per block */
    uint64_t *v4_24;       /* bit per /24 holding an exact IPv4 value (2 MiB); NULL: none */
    uint64_t dom_labels;   /* bit n-1: a domain value has n labels (bit 63: 64 or more) */
    uint64_t bloom_mask;   /* block count - 1 */
    uint64_t range16[2][1024]; /* per family: bit per top-16-bit prefix a range touches */
    uint64_t v4_16[1024];      /* bit per /16 holding an IPv4 value or touched by a range */
    /* patterns evaluated per record */
    pattern **pats;
    uint32_t *pat_ind, *pat_types;
    size_t pat_count, pat_cap;
    uint32_t pat_union;
};

static const char *const stix_names[MATCH_TYPE_COUNT] = {
    "domain-name", "ipv4-addr", "ipv6-addr", "url", "file", "x509-certificate", "email-addr",
};

const char *match_type_stix(match_type t)
{
    return (unsigned)t < MATCH_TYPE_COUNT ? stix_names[t] : "unknown";
}

static bool eq_word(const char *s, size_t len, const char *w)
{
    return strlen(w) == len && strncmp(s, w, len) == 0;
}

bool match_type_parse(const char *s, size_t len, match_type *out)
{
    static const struct {
        const char *name;
        match_type t;
    } names[] = {
        {"domain-name", MATCH_DOMAIN}, {"domain", MATCH_DOMAIN}, {"ipv4-addr", MATCH_IPV4},
        {"ipv4", MATCH_IPV4}, {"ipv6-addr", MATCH_IPV6}, {"ipv6", MATCH_IPV6},
        {"url", MATCH_URL}, {"file", MATCH_FILE_HASH}, {"hash", MATCH_FILE_HASH},
        {"x509-certificate", MATCH_X509_HASH}, {"x509", MATCH_X509_HASH},
        {"email-addr", MATCH_EMAIL}, {"email", MATCH_EMAIL},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (eq_word(s, len, names[i].name)) {
            *out = names[i].t;
            return true;
        }
    }
    return false;
}

/* ---- normalisers ---- */

/* hex digit values (validity in hex_ok) */
static const uint8_t hex_tab[256] = {
    ['0'] = 0,  ['1'] = 1,  ['2'] = 2,  ['3'] = 3,  ['4'] = 4,  ['5'] = 5,  ['6'] = 6,
    ['7'] = 7,  ['8'] = 8,  ['9'] = 9,  ['a'] = 10, ['b'] = 11, ['c'] = 12, ['d'] = 13,
    ['e'] = 14, ['f'] = 15, ['A'] = 10, ['B'] = 11, ['C'] = 12, ['D'] = 13, ['E'] = 14,
    ['F'] = 15,
};
static const uint8_t hex_ok[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
};

size_t match_hash_decode(const char *v, size_t len, uint8_t *out)
{
    const unsigned char *u = (const unsigned char *)v;
    unsigned ok = 1;
    size_t i = 0;
    if (len != 32 && len != 40 && len != 64 && len != 128)
        return 0;
#ifdef __SSE2__
    /* 16 digits at a time: value of each digit, then pairs into bytes */
    for (; i + 16 <= len; i += 16) {
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
        __m128i lc = _mm_or_si128(c, _mm_set1_epi8(0x20));
        /* signed compares: bytes >= 0x80 are negative and fail both tests */
        __m128i dig = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('0' - 1)),
                                    _mm_cmplt_epi8(c, _mm_set1_epi8('9' + 1)));
        __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lc, _mm_set1_epi8('a' - 1)),
                                      _mm_cmplt_epi8(lc, _mm_set1_epi8('f' + 1)));
        if (_mm_movemask_epi8(_mm_or_si128(dig, alpha)) != 0xFFFF)
            return 0;
        __m128i val = _mm_or_si128(
            _mm_and_si128(dig, _mm_sub_epi8(c, _mm_set1_epi8('0'))),
            _mm_andnot_si128(dig, _mm_sub_epi8(lc, _mm_set1_epi8('a' - 10))));
        /* 16-bit lanes hold (first digit, second digit): first << 4 | second */
        __m128i pair = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(val, _mm_set1_epi16(0xFF)), 4),
                                    _mm_srli_epi16(val, 8));
        _mm_storel_epi64((__m128i *)(void *)(out + i / 2), _mm_packus_epi16(pair, pair));
    }
#endif
    /* no branch per digit: validity is and-ed, checked once */
    for (; i < len; i += 2) {
        ok &= hex_ok[u[i]] & hex_ok[u[i + 1]];
        out[i / 2] = (uint8_t)(hex_tab[u[i]] << 4 | hex_tab[u[i + 1]]);
    }
    return ok ? len / 2 : 0;
}

/* One byte at a time, one branch per byte: for every processor, and the
 * reference the SSSE3 path is tested against. */
static bool ipv4_parse_bytes(const char *v, size_t len, uint32_t *out)
{
    uint32_t addr = 0, n = 0;
    unsigned digits = 0, dots = 0;
    if (len < 7 || len > 15)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned)(unsigned char)v[i] - '0';
        if (c < 10) {
            n = n * 10 + c;
            digits++;
        } else if (v[i] == '.' && digits > 0 && digits <= 3 && n <= 255 && dots < 3) {
            addr = addr << 8 | n;
            n = 0;
            digits = 0;
            dots++;
        } else {
            return false;
        }
    }
    if (dots != 3 || digits == 0 || digits > 3 || n > 255)
        return false;
    *out = addr << 8 | n;
    return true;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang_analyzer__)
#include <tmmintrin.h>
#define HAVE_IPV4_SSSE3 1

/* For each layout of octet lengths (1 to 3 each: 81), the shuffle that
 * puts octet k's hundreds, tens and ones digits in bytes 4k..4k+2 (0x80:
 * a zero where the octet is shorter). Built once. */
static uint8_t ipv4_shuf[81][16];
static pthread_once_t ipv4_once = PTHREAD_ONCE_INIT;
static bool ipv4_ssse3;

static void ipv4_init(void)
{
    for (unsigned idx = 0; idx < 81; idx++) {
        unsigned l[4] = {idx / 27 + 1, idx / 9 % 3 + 1, idx / 3 % 3 + 1, idx % 3 + 1}, s = 0;
        for (unsigned k = 0; k < 4; k++) {
            uint8_t *b = ipv4_shuf[idx] + 4 * k;
            b[0] = l[k] == 3 ? (uint8_t)s : 0x80;
            b[1] = l[k] >= 2 ? (uint8_t)(s + l[k] - 2) : 0x80;
            b[2] = (uint8_t)(s + l[k] - 1);
            b[3] = 0x80;
            s += l[k] + 1;
        }
    }
    __builtin_cpu_init();
    ipv4_ssse3 = __builtin_cpu_supports("ssse3");
}

/* 8 to 15 bytes in one register (two overlapping 8-byte reads, nothing
 * read outside the value): where the dots are, then every octet at once:
 * a shuffle by the octets' lengths, digits times 100, 10, 1, summed.
 * Addresses in logs have 1 to 3 digits per octet in no predictable order,
 * so a branch per byte mispredicts at every dot; this has no such branch. */
__attribute__((target("ssse3")))
static bool ipv4_parse_ssse3(const char *v, size_t len, uint32_t *out)
{
    uint64_t lo, hi;
    memcpy(&lo, v, 8);
    memcpy(&hi, v + len - 8, 8);
    hi = len == 8 ? 0 : hi >> (8 * (16 - len)); /* bytes 8 .. len-1, zeros above */
    __m128i x = _mm_set_epi64x((long long)hi, (long long)lo);
    unsigned want = (1u << len) - 1;
    unsigned dig = (unsigned)_mm_movemask_epi8(
        _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                      _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1))));
    unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')));
    unsigned m1 = m & (m - 1), m2 = m1 & (m1 - 1);
    if (((dig | m) & want) != want || m1 == 0 || m2 == 0 || (m2 & (m2 - 1)) != 0)
        return false; /* a byte neither digit nor dot, or not three dots */
    unsigned p1 = (unsigned)__builtin_ctz(m), p2 = (unsigned)__builtin_ctz(m1);
    unsigned p3 = (unsigned)__builtin_ctz(m2);
    unsigned l1 = p1, l2 = p2 - p1 - 1, l3 = p3 - p2 - 1, l4 = (unsigned)len - p3 - 1;
    if (l1 - 1 > 2 || l2 - 1 > 2 || l3 - 1 > 2 || l4 - 1 > 2)
        return false;
    unsigned idx = (((l1 - 1) * 3 + (l2 - 1)) * 3 + (l3 - 1)) * 3 + (l4 - 1);
    __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    __m128i lanes = _mm_shuffle_epi8(d, _mm_loadu_si128((const __m128i *)(const void *)ipv4_shuf[idx]));
    __m128i pairs = _mm_maddubs_epi16(lanes, _mm_set1_epi32(0x00010A64)); /* 100, 10, 1, 0 */
    __m128i oct = _mm_madd_epi16(pairs, _mm_set1_epi16(1));
    if (_mm_movemask_epi8(_mm_cmpgt_epi32(oct, _mm_set1_epi32(255))) != 0)
        return false;
    /* octet 1 in the top byte */
    __m128i packed = _mm_shuffle_epi8(oct, _mm_setr_epi8(12, 8, 4, 0, -1, -1, -1, -1, -1, -1, -1,
                                                          -1, -1, -1, -1, -1));
    *out = (uint32_t)_mm_cvtsi128_si32(packed);
    return true;
}
#endif

bool match_ipv4_parse(const char *v, size_t len, uint32_t *out)
{
#ifdef HAVE_IPV4_SSSE3
    pthread_once(&ipv4_once, ipv4_init);
    if (ipv4_ssse3 && len >= 8 && len <= 15)
        return ipv4_parse_ssse3(v, len, out);
#endif
    return ipv4_parse_bytes(v, len, out);
}

bool match_ipv4_parse_reference(const char *v, size_t len, uint32_t *out)
{
    return ipv4_parse_bytes(v, len, out);
}

bool match_ipv6_parse(const char *v, size_t len, uint8_t out[16])
{
    char buf[64];
    size_t n = 0;
    if (len >= 2 && v[0] == '[' && v[len - 1] == ']') {
        v++;
        len -= 2;
    }
    for (size_t i = 0; i < len; i++) {
        if (v[i] == '%')
            break; /* zone index: not part of the address */
        if (n + 1 >= sizeof buf)
            return false;
        buf[n++] = v[i];
    }
    buf[n] = '\0';
    if (n < 2 || memchr(buf, ':', n) == NULL)
        return false;
    return inet_pton(AF_INET6, buf, out) == 1;
}

static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t need;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        v = c & 0x07;
    } else {
        return 0;
    }
    if (len < need + 1)
        return 0;
    for (size_t i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if ((need == 2 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
        (need == 3 && (v < 0x10000 || v > 0x10FFFF)))
        return 0;
    *cp = v;
    return need + 1;
}

/* Simple case folding for the scripts most often seen in IDN domains
 * (Latin-1, Latin Extended-A, Greek, Cyrillic); other code points as is. */
static uint32_t fold(uint32_t c)
{
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) ||
        (c >= 0x410 && c <= 0x42F))
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F)
        return c + 0x50;
    if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
        c != 0x17F) {
        bool odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (odd_lower ? (c & 1) : !(c & 1))
            return c + 1;
    }
    return c;
}

static char puny_digit(uint32_t d)
{
    return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

static uint32_t puny_adapt(uint32_t delta, uint32_t points, bool first)
{
    uint32_t k = 0;
    delta = first ? delta / 700 : delta / 2;
    delta += delta / points;
    while (delta > ((36 - 1) * 26) / 2) {
        delta /= 35;
        k += 36;
    }
    return k + (36 * delta) / (delta + 38);
}

/* RFC 3492 encoding of one label's code points, with the "xn--" prefix. */
static size_t punycode_label(const uint32_t *cp, size_t count, char *out, size_t cap)
{
    size_t o = 0, basic = 0;
    uint32_t n = 128, delta = 0, bias = 72, h;
    if (cap < 5)
        return 0;
    memcpy(out, "xn--", 4);
    o = 4;
    for (size_t i = 0; i < count; i++) {
        if (cp[i] < 0x80) {
            if (o >= cap)
                return 0;
            out[o++] = (char)cp[i];
            basic++;
        }
    }
    h = (uint32_t)basic;
    if (basic > 0) {
        if (o >= cap)
            return 0;
        out[o++] = '-';
    }
    while (h < count) {
        uint32_t m = UINT32_MAX;
        for (size_t i = 0; i < count; i++)
            if (cp[i] >= n && cp[i] < m)
                m = cp[i];
        if ((uint64_t)(m - n) * (h + 1) > UINT32_MAX - delta)
            return 0;
        delta += (m - n) * (h + 1);
        n = m;
        for (size_t i = 0; i < count; i++) {
            if (cp[i] < n)
                delta++;
            if (cp[i] == n) {
                uint32_t q = delta;
                for (uint32_t k = 36;; k += 36) {
                    uint32_t t = k <= bias ? 1 : (k >= bias + 26 ? 26 : k - bias);
                    if (q < t)
                        break;
                    if (o >= cap)
                        return 0;
                    out[o++] = puny_digit(t + (q - t) % (36 - t));
                    q = (q - t) / (36 - t);
                }
                if (o >= cap)
                    return 0;
                out[o++] = puny_digit(q);
                bias = puny_adapt(delta, h + 1, h == basic);
                delta = 0;
                h++;
            }
        }
        delta++;
        n++;
    }
    return o;
}

size_t match_domain_normalise(const char *v, size_t len, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)v;
    size_t o = 0;
    bool ascii = true;
    while (len > 0 && s[len - 1] == '.')
        len--;
    if (len == 0 || len > 253 * 4)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= 0x80) {
            ascii = false;
            break;
        }
    }
    if (ascii) {
        if (len > cap || len > 253)
            return 0;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = s[i];
            if (c <= ' ' || c == 0x7F || (c == '.' && (i == 0 || s[i - 1] == '.')))
                return 0;
            out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        return len;
    }
    /* internationalised: label by label, to punycode */
    size_t i = 0;
    while (i < len) {
        uint32_t cps[64];
        size_t ncp = 0;
        bool label_ascii = true;
        size_t start = i;
        while (i < len && s[i] != '.') {
            uint32_t cp;
            size_t step = utf8_next(s + i, len - i, &cp);
            if (step == 0 || ncp == 64)
                return 0;
            cp = cp < 0x80 ? (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp) : fold(cp);
            if (cp <= ' ' || cp == 0x7F)
                return 0;
            if (cp >= 0x80)
                label_ascii = false;
            cps[ncp++] = cp;
            i += step;
        }
        if (i == start)
            return 0; /* empty label */
        if (o > 0) {
            if (o >= cap)
                return 0;
            out[o++] = '.';
        }
        if (label_ascii) {
            if (o + ncp > cap)
                return 0;
            for (size_t k = 0; k < ncp; k++)
                out[o++] = (char)cps[k];
        } else {
            size_t w = punycode_label(cps, ncp, out + o, cap - o);
            if (w == 0)
                return 0;
            o += w;
        }
        if (i < len)
            i++; /* the dot */
    }
    return o <= 253 ? o : 0;
}

static bool default_port(const char *scheme, size_t slen, const char *port, size_t plen)
{
    return (eq_word(scheme, slen, "http") && eq_word(port, plen, "80")) ||
           (eq_word(scheme, slen, "https") && eq_word(port, plen, "443")) ||
           (eq_word(scheme, slen, "ftp") && eq_word(port, plen, "21"));
}

size_t match_url_normalise(const char *v, size_t len, char *out, size_t cap)
{
    const char *sep;
    size_t slen, o = 0, hstart, hend, auth_end, pos;
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    sep = len > 3 ? memchr(v, ':', len < 16 ? len : 16) : NULL;
    if (sep == NULL || (size_t)(sep - v) + 3 > len || sep[1] != '/' || sep[2] != '/')
        return 0;
    slen = (size_t)(sep - v);
    if (slen == 0 || slen + 3 >= len || len + 1 > cap)
        return 0;
    for (size_t i = 0; i < slen; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.'))
            return 0;
        out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    memcpy(out + o, "://", 3);
    o += 3;
    pos = slen + 3;
    auth_end = pos;
    while (auth_end < len && v[auth_end] != '/' && v[auth_end] != '?' && v[auth_end] != '#')
        auth_end++;
    /* userinfo kept as written; host (and port) lower-cased */
    hstart = pos;
    for (size_t i = pos; i < auth_end; i++)
        if (v[i] == '@')
            hstart = i + 1;
    memcpy(out + o, v + pos, hstart - pos);
    o += hstart - pos;
    hend = auth_end;
    const char *colon = NULL;
    if (hstart < auth_end && v[hstart] != '[') {
        colon = memchr(v + hstart, ':', auth_end - hstart);
    } else if (hstart < auth_end) {
        const char *rb = memchr(v + hstart, ']', auth_end - hstart);
        if (rb && rb + 1 < v + auth_end && rb[1] == ':')
            colon = rb + 1;
    }
    if (colon)
        hend = (size_t)(colon - v);
    size_t host_end = hend;
    while (host_end > hstart && v[host_end - 1] == '.')
        host_end--;
    if (host_end == hstart)
        return 0;
    for (size_t i = hstart; i < host_end; i++) {
        char c = v[i];
        out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    if (colon && !default_port(out, slen, colon + 1, (size_t)(v + auth_end - colon - 1)) &&
        auth_end > hend + 1) {
        memcpy(out + o, v + hend, auth_end - hend);
        o += auth_end - hend;
    }
    if (auth_end == len || v[auth_end] != '/')
        out[o++] = '/';
    memcpy(out + o, v + auth_end, len - auth_end);
    o += len - auth_end;
    return o;
}

size_t match_email_normalise(const char *v, size_t len, char *out, size_t cap)
{
    const char *lt = memchr(v, '<', len);
    if (lt) {
        const char *gt = memchr(lt, '>', len - (size_t)(lt - v));
        if (gt == NULL)
            return 0;
        len = (size_t)(gt - lt - 1);
        v = lt + 1;
    }
    while (len > 0 && (*v == ' ' || *v == '"'))
        v++, len--;
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '"'))
        len--;
    if (len < 3 || len > cap || len > 320)
        return 0;
    const char *at = memchr(v, '@', len);
    if (at == NULL || at == v || at == v + len - 1 || memchr(at + 1, '@', len - (size_t)(at - v) - 1))
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= ' ' || c == 0x7F)
            return 0;
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    /* a trailing dot on the domain part is the same mailbox */
    if (out[len - 1] == '.')
        len--;
    return len;
}

match_type match_type_guess(const char *v, size_t len)
{
    uint32_t a4;
    uint8_t a6[16], hb[64];
    const char *slash = memchr(v, '/', len);
    size_t alen = slash && !memchr(v, ':', (size_t)(slash - v)) ? (size_t)(slash - v) : len;
    if (memmem(v, len, "://", 3))
        return MATCH_URL;
    if (match_ipv4_parse(v, alen, &a4))
        return MATCH_IPV4;
    if (match_ipv6_parse(v, slash ? (size_t)(slash - v) : len, a6))
        return MATCH_IPV6;
    if (match_hash_decode(v, len, hb))
        return MATCH_FILE_HASH;
    if (memchr(v, '@', len))
        return MATCH_EMAIL;
    return MATCH_DOMAIN;
}

/* ---- building ---- */

dt_status match_set_new(match_set **out, dt_err *err)
{
    *out = dt_calloc(1, sizeof **out);
    if (*out == NULL)
        return dt_fail(err, DT_ENOMEM, "match", "out of memory");
    return DT_OK;
}

void match_set_free(match_set *s)
{
    if (s == NULL)
        return;
    dt_free(s->ids);
    dt_free(s->id_off);
    dt_free(s->arena);
    dt_free(s->ents);
    for (int f = 0; f < 2; f++) {
        dt_free(s->ranges[f]);
        dt_free(s->seg[f].start);
        dt_free(s->seg[f].end);
        dt_free(s->seg[f].post_off);
        dt_free(s->seg[f].post_count);
    }
    dt_free(s->table);
    free(s->bloom); /* posix_memalign, not dt_malloc */
    dt_free(s->v4_24);
    dt_free(s->posts);
    for (size_t i = 0; i < s->pat_count; i++)
        pattern_free(s->pats[i]);
    dt_free(s->pats);
    dt_free(s->pat_ind);
    dt_free(s->pat_types);
    dt_free(s);
}

static dt_status grow(void **p, size_t *cap, size_t need, size_t elem, dt_err *err)
{
    size_t n;
    void *q;
    if (need <= *cap)
        return DT_OK;
    n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    q = dt_realloc(*p, n * elem);
    if (q == NULL)
        return dt_fail(err, DT_ENOMEM, "match", "out of memory growing the indicator set");
    *p = q;
    *cap = n;
    return DT_OK;
}

dt_status match_set_add_indicator(match_set *s, const char *id, uint32_t *idx, dt_err *err)
{
    size_t len = strlen(id);
    dt_status rc;
    if (s->compiled)
        return dt_fail(err, DT_EARG, "match", "set already compiled");
    if (s->id_count >= UINT32_MAX - 1 || s->ids_len + len + 1 > UINT32_MAX)
        return dt_fail(err, DT_ELIMIT, "match", "too many indicators");
    rc = grow((void **)&s->ids, &s->ids_cap, s->ids_len + len + 1, 1, err);
    if (rc == DT_OK)
        rc = grow((void **)&s->id_off, &s->id_cap, s->id_count + 1, sizeof *s->id_off, err);
    if (rc != DT_OK)
        return rc;
    memcpy(s->ids + s->ids_len, id, len + 1);
    s->id_off[s->id_count] = (uint32_t)s->ids_len;
    s->ids_len += len + 1;
    *idx = (uint32_t)s->id_count++;
    return DT_OK;
}

static dt_status add_exact(match_set *s, uint32_t ind, match_type t, const void *key, size_t len,
                           dt_err *err)
{
    dt_status rc;
    if (s->arena_len + len > UINT32_MAX)
        return dt_fail(err, DT_ELIMIT, "match", "indicator values exceed 4 GiB");
    rc = grow((void **)&s->arena, &s->arena_cap, s->arena_len + len, 1, err);
    if (rc == DT_OK)
        rc = grow((void **)&s->ents, &s->ent_cap, s->ent_count + 1, sizeof *s->ents, err);
    if (rc != DT_OK)
        return rc;
    memcpy(s->arena + s->arena_len, key, len);
    s->ents[s->ent_count++] = (entry){
        .h = XXH3_64bits_withSeed(key, len, (uint64_t)t),
        .off = (uint32_t)s->arena_len,
        .ind = ind,
        .len = (uint16_t)len,
        .ns = (uint8_t)t,
    };
    s->arena_len += len;
    return DT_OK;
}

static u128 u128_from_bytes(const uint8_t b[16])
{
    u128 r = {0, 0};
    for (int i = 0; i < 8; i++) {
        r.hi = r.hi << 8 | b[i];
        r.lo = r.lo << 8 | b[8 + i];
    }
    return r;
}

static int u128_cmp(u128 a, u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

/* Mask keeping the top `bits` of 128. */
static u128 u128_prefix_mask(unsigned bits)
{
    u128 m;
    m.hi = bits == 0 ? 0 : bits >= 64 ? UINT64_MAX : UINT64_MAX << (64 - bits);
    m.lo = bits <= 64 ? 0 : bits >= 128 ? UINT64_MAX : UINT64_MAX << (128 - bits);
    return m;
}

static dt_status add_range(match_set *s, uint32_t ind, int fam, u128 lo, u128 hi, dt_err *err)
{
    dt_status rc = grow((void **)&s->ranges[fam], &s->range_cap[fam], s->range_count[fam] + 1,
                        sizeof(range), err);
    if (rc != DT_OK)
        return rc;
    s->ranges[fam][s->range_count[fam]++] = (range){lo, hi, ind};
    return DT_OK;
}

static bool parse_prefix(const char *p, size_t len, unsigned max, unsigned *out)
{
    unsigned n = 0;
    if (len == 0 || len > 3)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        n = n * 10 + (unsigned)(p[i] - '0');
    }
    if (n > max)
        return false;
    *out = n;
    return true;
}

static dt_status add_ip(match_set *s, uint32_t ind, match_type t, const char *v, size_t len,
                        dt_err *err)
{
    const char *slash = memchr(v, '/', len);
    size_t alen = slash ? (size_t)(slash - v) : len;
    unsigned bits = t == MATCH_IPV4 ? 32 : 128;
    uint8_t b[16] = {0};
    if (slash && !parse_prefix(slash + 1, len - alen - 1, bits, &bits))
        return dt_fail(err, DT_EINVALID, "match", "%s: bad CIDR prefix length in '%.*s'",
                       match_type_stix(t), (int)(len > 100 ? 100 : len), v);
    if (t == MATCH_IPV4) {
        uint32_t a;
        if (!match_ipv4_parse(v, alen, &a))
            return dt_fail(err, DT_EINVALID, "match", "not an IPv4 address: '%.*s'",
                           (int)(len > 100 ? 100 : len), v);
        if (bits == 32) {
            uint8_t k[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a};
            return add_exact(s, ind, t, k, 4, err);
        }
        uint64_t mask = bits == 0 ? 0 : (UINT64_C(0xFFFFFFFF) << (32 - bits)) & 0xFFFFFFFF;
        u128 lo = {0, a & mask}, hi = {0, (a & mask) | (~mask & 0xFFFFFFFF)};
        return add_range(s, ind, 0, lo, hi, err);
    }
    if (!match_ipv6_parse(v, alen, b))
        return dt_fail(err, DT_EINVALID, "match", "not an IPv6 address: '%.*s'",
                       (int)(len > 100 ? 100 : len), v);
    if (bits == 128)
        return add_exact(s, ind, t, b, 16, err);
    u128 a = u128_from_bytes(b), m = u128_prefix_mask(bits);
    u128 lo = {a.hi & m.hi, a.lo & m.lo}, hi = {lo.hi | ~m.hi, lo.lo | ~m.lo};
    return add_range(s, ind, 1, lo, hi, err);
}

/* The dom_labels bit of a normalised domain. */
static uint64_t label_bit(const char *d, size_t len)
{
    unsigned labels = 1;
    for (size_t i = 0; i < len; i++)
        labels += d[i] == '.';
    return UINT64_C(1) << (labels > 64 ? 63 : labels - 1);
}

/* Does the set hold a domain of this many labels? */
static bool has_labels(const match_set *s, unsigned labels)
{
    return (s->dom_labels >> (labels > 64 ? 63 : labels - 1)) & 1;
}

dt_status match_set_add_value(match_set *s, uint32_t ind, match_type t, const char *v,
                              size_t len, dt_err *err)
{
    char buf[KEY_MAX];
    uint8_t hb[64];
    size_t n;
    if (s->compiled || ind >= s->id_count || (unsigned)t >= MATCH_TYPE_COUNT)
        return dt_fail(err, DT_EARG, "match", "bad call to match_set_add_value");
    while (len > 0 && (*v == ' ' || *v == '\t'))
        v++, len--;
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r'))
        len--;
    switch (t) {
    case MATCH_DOMAIN:
        n = match_domain_normalise(v, len, buf, sizeof buf);
        if (n == 0)
            return dt_fail(err, DT_EINVALID, "match", "not a domain name: '%.*s'",
                           (int)(len > 100 ? 100 : len), v);
        s->dom_labels |= label_bit(buf, n);
        return add_exact(s, ind, t, buf, n, err);
    case MATCH_IPV4:
    case MATCH_IPV6:
        return add_ip(s, ind, t, v, len, err);
    case MATCH_URL:
        n = match_url_normalise(v, len, buf, sizeof buf);
        if (n == 0)
            return dt_fail(err, DT_EINVALID, "match", "not a URL: '%.*s'",
                           (int)(len > 100 ? 100 : len), v);
        return add_exact(s, ind, t, buf, n, err);
    case MATCH_FILE_HASH:
    case MATCH_X509_HASH:
        n = match_hash_decode(v, len, hb);
        if (n == 0)
            return dt_fail(err, DT_EINVALID, "match",
                           "not an MD5, SHA-1, SHA-256 or SHA-512 hex digest: '%.*s'",
                           (int)(len > 140 ? 140 : len), v);
        return add_exact(s, ind, t, hb, n, err);
    case MATCH_EMAIL:
        n = match_email_normalise(v, len, buf, sizeof buf);
        if (n == 0)
            return dt_fail(err, DT_EINVALID, "match", "not an e-mail address: '%.*s'",
                           (int)(len > 100 ? 100 : len), v);
        return add_exact(s, ind, t, buf, n, err);
    default:
        return dt_fail(err, DT_EARG, "match", "unknown type");
    }
}

/* ---- compiling ---- */

static const uint8_t *sort_arena; /* qsort has no context argument; compile is single-threaded */

static int ent_cmp(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    int c;
    if (a->h != b->h)
        return a->h < b->h ? -1 : 1;
    if (a->ns != b->ns)
        return a->ns < b->ns ? -1 : 1;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    c = memcmp(sort_arena + a->off, sort_arena + b->off, a->len);
    if (c != 0)
        return c;
    return a->ind < b->ind ? -1 : a->ind > b->ind;
}

static int range_cmp(const void *pa, const void *pb)
{
    const range *a = pa, *b = pb;
    int c = u128_cmp(a->lo, b->lo);
    return c ? c : (a->ind < b->ind ? -1 : a->ind > b->ind);
}

static int u128_qcmp(const void *a, const void *b)
{
    return u128_cmp(*(const u128 *)a, *(const u128 *)b);
}

static bool same_key(const match_set *s, const entry *a, const entry *b)
{
    return a->h == b->h && a->ns == b->ns && a->len == b->len &&
           memcmp(s->arena + a->off, s->arena + b->off, a->len) == 0;
}

static dt_status push_post(match_set *s, size_t *cap, uint32_t ind, dt_err *err)
{
    dt_status rc = grow((void **)&s->posts, cap, s->post_count + 1, sizeof *s->posts, err);
    if (rc != DT_OK)
        return rc;
    s->posts[s->post_count++] = ind;
    return DT_OK;
}

static dt_status compile_ranges(match_set *s, int fam, size_t *post_cap, dt_err *err)
{
    range *r = s->ranges[fam];
    size_t n = s->range_count[fam], nb = 0, j = 0, active_n = 0, active_cap = 0;
    u128 *bounds = NULL;
    uint32_t *active = NULL;
    segs *sg = &s->seg[fam];
    dt_status rc = DT_OK;
    if (n == 0)
        return DT_OK;
    qsort(r, n, sizeof *r, range_cmp);
    bounds = dt_malloc(2 * n * sizeof *bounds);
    sg->start = dt_malloc(2 * n * sizeof *sg->start);
    sg->end = dt_malloc(2 * n * sizeof *sg->end);
    sg->post_off = dt_malloc(2 * n * sizeof *sg->post_off);
    sg->post_count = dt_malloc(2 * n * sizeof *sg->post_count);
    if (!bounds || !sg->start || !sg->end || !sg->post_off || !sg->post_count) {
        rc = dt_fail(err, DT_ENOMEM, "match", "out of memory compiling ranges");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        bounds[nb++] = r[i].lo;
        if (r[i].hi.lo != UINT64_MAX || r[i].hi.hi != (fam == 0 ? 0 : UINT64_MAX)) {
            u128 next = r[i].hi;
            if (++next.lo == 0)
                next.hi++;
            bounds[nb++] = next;
        }
    }
    qsort(bounds, nb, sizeof *bounds, u128_qcmp);
    size_t w = 0;
    for (size_t i = 0; i < nb; i++)
        if (w == 0 || u128_cmp(bounds[w - 1], bounds[i]) != 0)
            bounds[w++] = bounds[i];
    nb = w;
    sg->count = 0;
    for (size_t b = 0; b < nb; b++) {
        u128 start = bounds[b];
        /* drop ranges that ended before this segment, add those starting here */
        size_t k = 0;
        for (size_t i = 0; i < active_n; i++)
            if (u128_cmp(r[active[i]].hi, start) >= 0)
                active[k++] = active[i];
        active_n = k;
        while (j < n && u128_cmp(r[j].lo, start) <= 0) {
            rc = grow((void **)&active, &active_cap, active_n + 1, sizeof *active, err);
            if (rc != DT_OK)
                goto out;
            active[active_n++] = (uint32_t)j++;
        }
        if (active_n == 0)
            continue;
        u128 end;
        if (b + 1 < nb) {
            end = bounds[b + 1];
            if (end.lo-- == 0)
                end.hi--;
        } else {
            end.hi = fam == 0 ? 0 : UINT64_MAX;
            end.lo = fam == 0 ? 0xFFFFFFFFu : UINT64_MAX;
        }
        sg->start[sg->count] = start;
        sg->end[sg->count] = end;
        sg->post_off[sg->count] = (uint32_t)s->post_count;
        sg->post_count[sg->count] = (uint32_t)active_n;
        for (size_t i = 0; i < active_n; i++) {
            rc = push_post(s, post_cap, r[active[i]].ind, err);
            if (rc != DT_OK)
                goto out;
        }
        sg->count++;
    }
    s->value_count[fam == 0 ? MATCH_IPV4 : MATCH_IPV6] += n;
out:
    dt_free(bounds);
    dt_free(active);
    return rc;
}

/* Split-block filter: the block comes from the low bits of the key's
 * 64-bit hash, and one bit in each of the block's 8 words from 6 bits each
 * of a remix of the hash (so the positions do not depend on the block). */
static inline uint64_t bloom_bits(uint64_t h, uint64_t m[8])
{
    uint64_t x = (h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 32;
    for (int i = 0; i < 8; i++)
        m[i] = UINT64_C(1) << ((x >> (6 * i + 16)) & 63);
    return x;
}

static inline void bloom_add(match_set *s, uint64_t h)
{
    uint64_t *b = s->bloom + ((h & s->bloom_mask) << 3), m[8];
    bloom_bits(h, m);
    for (int i = 0; i < 8; i++)
        b[i] |= m[i];
}

static inline bool bloom_maybe(const match_set *s, uint64_t h)
{
    const uint64_t *b = s->bloom + ((h & s->bloom_mask) << 3);
    uint64_t x = (h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ull, miss = 0;
    x ^= x >> 32;
    /* no branch: the eight words are in one line (bloom_bits, unrolled) */
#define BLOOM_WORD(i) (miss |= (UINT64_C(1) << ((x >> (6 * (i) + 16)) & 63)) & ~b[i])
    BLOOM_WORD(0), BLOOM_WORD(1), BLOOM_WORD(2), BLOOM_WORD(3);
    BLOOM_WORD(4), BLOOM_WORD(5), BLOOM_WORD(6), BLOOM_WORD(7);
#undef BLOOM_WORD
    return miss == 0;
}

static void range16_mark(match_set *s, int fam)
{
    const segs *sg = &s->seg[fam];
    for (size_t i = 0; i < sg->count; i++) {
        /* top 16 bits of the address: v4 bits 31..16, v6 bits 127..112 */
        uint32_t a = fam == 0 ? (uint32_t)(sg->start[i].lo >> 16) : (uint32_t)(sg->start[i].hi >> 48);
        uint32_t b = fam == 0 ? (uint32_t)(sg->end[i].lo >> 16) : (uint32_t)(sg->end[i].hi >> 48);
        for (uint32_t k = a; k <= b && k < 65536; k++)
            s->range16[fam][k >> 6] |= UINT64_C(1) << (k & 63);
    }
}

dt_status match_set_compile(match_set *s, dt_err *err)
{
    size_t post_cap = 0, distinct = 0, size = 16;
    dt_status rc;
    if (s->compiled)
        return DT_OK;
    sort_arena = s->arena;
    if (s->ent_count > 1)
        qsort(s->ents, s->ent_count, sizeof *s->ents, ent_cmp);
    for (size_t i = 0; i < s->ent_count; i++)
        if (i == 0 || !same_key(s, &s->ents[i - 1], &s->ents[i]))
            distinct++;
    while (size < distinct * 2)
        size *= 2;
    s->table = dt_calloc(size, sizeof *s->table);
    if (s->table == NULL)
        return dt_fail(err, DT_ENOMEM, "match", "out of memory for the value table");
    s->mask = size - 1;
    {
        size_t blocks = 1;
        while (blocks * 512 < distinct * 16)
            blocks *= 2;
        /* 2 MiB aligned, on huge pages where the kernel offers them: the
         * filter is hit at random, a TLB miss would cost as much as the
         * cache miss it saves */
        void *mem = NULL;
        size_t bytes = blocks * 64;
        if (posix_memalign(&mem, bytes >= ((size_t)2 << 20) ? (size_t)2 << 20 : 64, bytes) != 0)
            return dt_fail(err, DT_ENOMEM, "match", "out of memory for the value filter");
        memset(mem, 0, bytes);
#ifdef MADV_HUGEPAGE
        if (bytes >= ((size_t)2 << 20))
            madvise(mem, bytes, MADV_HUGEPAGE);
#endif
        s->bloom = mem;
        s->bloom_mask = blocks - 1;
    }
    rc = grow((void **)&s->posts, &post_cap, s->ent_count + 1, sizeof *s->posts, err);
    if (rc != DT_OK)
        return rc;
    for (size_t i = 0; i < s->ent_count;) {
        const entry *e = &s->ents[i];
        uint32_t off = (uint32_t)s->post_count;
        size_t j = i;
        for (; j < s->ent_count && same_key(s, e, &s->ents[j]); j++) {
            /* the same indicator naming a value twice counts once */
            if (j == i || s->ents[j].ind != s->ents[j - 1].ind)
                s->posts[s->post_count++] = s->ents[j].ind;
        }
        bloom_add(s, e->h);
        if (e->ns == MATCH_IPV4 && e->len == 4) {
            if (s->v4_24 == NULL && (s->v4_24 = dt_calloc((size_t)1 << 18, 8)) == NULL)
                return dt_fail(err, DT_ENOMEM, "match", "out of memory for the address filter");
            const uint8_t *a = s->arena + e->off;
            uint32_t p24 = (uint32_t)a[0] << 16 | (uint32_t)a[1] << 8 | a[2];
            s->v4_24[p24 >> 6] |= UINT64_C(1) << (p24 & 63);
            s->v4_16[p24 >> 14] |= UINT64_C(1) << ((p24 >> 8) & 63);
        }
        uint64_t p = e->h & s->mask;
        while (s->table[p].post_count != 0)
            p = (p + 1) & s->mask;
        s->table[p] = (slot){.h = e->h, .key_off = e->off, .post_off = off,
                             .post_count = (uint32_t)(s->post_count - off), .key_len = e->len,
                             .ns = e->ns};
        s->value_count[e->ns]++;
        i = j;
    }
    dt_free(s->ents);
    s->ents = NULL;
    s->ent_cap = s->ent_count = 0;
    for (int f = 0; f < 2; f++) {
        rc = compile_ranges(s, f, &post_cap, err);
        if (rc != DT_OK)
            return rc;
        dt_free(s->ranges[f]);
        s->ranges[f] = NULL;
        range16_mark(s, f);
    }
    for (size_t i = 0; i < 1024; i++)
        s->v4_16[i] |= s->range16[0][i];
    s->compiled = true;
    return DT_OK;
}

size_t match_set_indicator_count(const match_set *s)
{
    return s->id_count;
}

const char *match_set_indicator_id(const match_set *s, uint32_t idx)
{
    return idx < s->id_count ? s->ids + s->id_off[idx] : NULL;
}

size_t match_set_value_count(const match_set *s, match_type t)
{
    return (unsigned)t < MATCH_TYPE_COUNT ? s->value_count[t] : 0;
}

size_t match_set_memory(const match_set *s)
{
    size_t m = (s->bloom ? (s->bloom_mask + 1) * 64 : 0) + (s->v4_24 ? (size_t)2 << 20 : 0) +
               sizeof s->range16 + sizeof s->v4_16 + s->ids_cap + s->id_cap * sizeof *s->id_off +
               s->arena_cap + (s->mask + 1) * sizeof(slot) + s->post_count * sizeof *s->posts;
    for (int f = 0; f < 2; f++)
        m += s->seg[f].count * (2 * sizeof(u128) + 2 * sizeof(uint32_t));
    return m;
}

/* ---- lookups ---- */

static const slot *find(const match_set *s, match_type t, const void *key, size_t len)
{
    uint64_t h = XXH3_64bits_withSeed(key, len, (uint64_t)t);
    if (!bloom_maybe(s, h))
        return NULL;
    uint64_t p = h & s->mask;
    for (;;) {
        const slot *sl = &s->table[p];
        if (sl->post_count == 0)
            return NULL;
        if (sl->h == h && sl->ns == t && sl->key_len == len &&
            memcmp(s->arena + sl->key_off, key, len) == 0)
            return sl;
        p = (p + 1) & s->mask;
    }
}

static size_t add_slot_hit(const match_set *s, match_type t, const slot *sl, match_hit *hits,
                           size_t n, size_t max)
{
    if (sl == NULL || n >= max)
        return n;
    hits[n] = (match_hit){t, sl->post_count, s->posts + sl->post_off};
    return n + 1;
}

static size_t range_hits(const match_set *s, int fam, u128 a, match_hit *hits, size_t n,
                         size_t max)
{
    const segs *sg = &s->seg[fam];
    size_t lo = 0, hi = sg->count;
    uint32_t top = fam == 0 ? (uint32_t)(a.lo >> 16) : (uint32_t)(a.hi >> 48);
    if (sg->count == 0 || n >= max || !(s->range16[fam][top >> 6] & (UINT64_C(1) << (top & 63))))
        return n;
    /* last segment whose start <= a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u128_cmp(sg->start[mid], a) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || u128_cmp(a, sg->end[lo - 1]) > 0)
        return n;
    lo--;
    hits[n] = (match_hit){fam == 0 ? MATCH_IPV4 : MATCH_IPV6, sg->post_count[lo],
                          s->posts + sg->post_off[lo]};
    return n + 1;
}

const uint64_t *match_ipv4_map16(const match_set *s)
{
    return s->compiled ? s->v4_16 : NULL;
}

/* Might the set hold this exact address (its /24 holds one)? */
static inline bool v4_maybe(const match_set *s, uint32_t a)
{
    return s->v4_24 != NULL && (s->v4_24[a >> 14] >> ((a >> 8) & 63) & 1);
}

static size_t lookup_v4(const match_set *s, uint32_t a, match_hit *hits, size_t n, size_t max)
{
    uint8_t k[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a};
    if (s->value_count[MATCH_IPV4] == 0)
        return n;
    if (!match_ipv4_map16_has(s->v4_16, a))
        return n;
    if (v4_maybe(s, a))
        n = add_slot_hit(s, MATCH_IPV4, find(s, MATCH_IPV4, k, 4), hits, n, max);
    return range_hits(s, 0, (u128){0, a}, hits, n, max);
}

size_t match_lookup(const match_set *s, match_type t, const char *v, size_t len, match_hit *hits,
                    size_t max)
{
    char buf[KEY_MAX];
    uint8_t hb[64];
    size_t n = 0, k;
    if (!s->compiled || (unsigned)t >= MATCH_TYPE_COUNT || len == 0 || len > KEY_MAX)
        return 0;
    switch (t) {
    case MATCH_DOMAIN: {
        if (s->value_count[t] == 0)
            return 0;
        const char *d = v;
        size_t dl = len;
        /* skip the copy when the name is already lower-case ASCII without a final dot */
        bool plain = v[len - 1] != '.';
        for (size_t i = 0; plain && i < len; i++) {
            unsigned char c = (unsigned char)v[i];
            if ((c >= 'A' && c <= 'Z') || c >= 0x80 || c <= ' ')
                plain = false;
        }
        if (!plain) {
            dl = match_domain_normalise(v, len, buf, sizeof buf);
            if (dl == 0)
                return 0;
            d = buf;
        }
        n = add_slot_hit(s, t, find(s, t, d, dl), hits, n, max);
        for (size_t i = 0; i + 1 < dl && n < max; i++)
            if (d[i] == '.')
                n = add_slot_hit(s, t, find(s, t, d + i + 1, dl - i - 1), hits, n, max);
        return n;
    }
    case MATCH_IPV4: {
        uint32_t a;
        if (s->value_count[t] == 0 || !match_ipv4_parse(v, len, &a))
            return 0;
        return lookup_v4(s, a, hits, 0, max);
    }
    case MATCH_IPV6: {
        uint8_t b[16];
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
        if ((s->value_count[MATCH_IPV6] == 0 && s->value_count[MATCH_IPV4] == 0) ||
            !match_ipv6_parse(v, len, b))
            return 0;
        if (memcmp(b, mapped, 12) == 0)
            n = lookup_v4(s, (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
                                 (uint32_t)b[14] << 8 | b[15],
                          hits, n, max);
        if (s->value_count[MATCH_IPV6] == 0)
            return n;
        n = add_slot_hit(s, t, find(s, t, b, 16), hits, n, max);
        return range_hits(s, 1, u128_from_bytes(b), hits, n, max);
    }
    case MATCH_URL:
        if (s->value_count[t] == 0 || (k = match_url_normalise(v, len, buf, sizeof buf)) == 0)
            return 0;
        return add_slot_hit(s, t, find(s, t, buf, k), hits, 0, max);
    case MATCH_FILE_HASH:
    case MATCH_X509_HASH:
        if (s->value_count[t] == 0 || (k = match_hash_decode(v, len, hb)) == 0)
            return 0;
        return add_slot_hit(s, t, find(s, t, hb, k), hits, 0, max);
    case MATCH_EMAIL:
        if (s->value_count[t] == 0 || (k = match_email_normalise(v, len, buf, sizeof buf)) == 0)
            return 0;
        return add_slot_hit(s, t, find(s, t, buf, k), hits, 0, max);
    default:
        return 0;
    }
}

/* ---- patterns evaluated per record ---- */

static const char *const sco_names[MATCH_SCO_COUNT] = {
    "domain-name", "ipv4-addr", "ipv6-addr", "url", "file", "x509-certificate", "email-addr",
    "network-traffic",
};

uint32_t match_sco_bit(const char *stix_type)
{
    for (unsigned i = 0; i < MATCH_SCO_COUNT; i++)
        if (strcmp(stix_type, sco_names[i]) == 0)
            return 1u << i;
    return 0;
}

const char *match_sco_name(unsigned i)
{
    return i < MATCH_SCO_COUNT ? sco_names[i] : "unknown";
}

dt_status match_set_pattern_take(match_set *s, uint32_t ind, pattern *p, uint32_t types,
                                 dt_err *err)
{
    if (s->compiled || ind >= s->id_count) {
        pattern_free(p);
        return dt_fail(err, DT_EARG, "match", "bad call to match_set_pattern_take");
    }
    if (types == 0) {
        pattern_free(p);
        return DT_OK;
    }
    if (s->pat_count == s->pat_cap) {
        size_t n = s->pat_cap ? s->pat_cap * 2 : 16;
        pattern **np = dt_realloc(s->pats, n * sizeof *np);
        if (np != NULL)
            s->pats = np;
        uint32_t *ni = np ? dt_realloc(s->pat_ind, n * sizeof *ni) : NULL;
        if (ni != NULL)
            s->pat_ind = ni;
        uint32_t *nt = ni ? dt_realloc(s->pat_types, n * sizeof *nt) : NULL;
        if (nt == NULL) {
            pattern_free(p);
            return dt_fail(err, DT_ENOMEM, "match", "out of memory keeping a pattern");
        }
        s->pat_types = nt;
        s->pat_cap = n;
    }
    s->pats[s->pat_count] = p;
    s->pat_ind[s->pat_count] = ind;
    s->pat_types[s->pat_count] = types;
    s->pat_count++;
    s->pat_union |= types;
    return DT_OK;
}

size_t match_set_pattern_count(const match_set *s)
{
    return s->pat_count;
}

const pattern *match_set_pattern_get(const match_set *s, size_t i, uint32_t *ind,
                                     uint32_t *types)
{
    if (i >= s->pat_count)
        return NULL;
    if (ind)
        *ind = s->pat_ind[i];
    if (types)
        *types = s->pat_types[i];
    return s->pats[i];
}

uint32_t match_set_pattern_types(const match_set *s)
{
    return s->pat_union;
}

/* ---- batched lookups ---- */

#define MANY_KEYS 256     /* keys per round */
#define MANY_BYTES 32768  /* normalised key bytes per round */

typedef struct mkey {
    uint64_t h;
    const uint8_t *p; /* the value as it came when it needs no change, else in the round's buffer */
    uint16_t len;
    uint8_t t;
    bool maybe;       /* the filter says it may be in the table */
} mkey;

typedef struct mquery {
    uint32_t k0, k1;        /* its keys */
    bool v4, v6;            /* range checks to make */
    uint32_t a4;
    u128 a6;
} mquery;

/* Eight bytes at a time (SWAR): true when the name is lower-case ASCII
 * with no control or space byte (it can be looked up as it is), and the
 * positions of its dots (the first 128) in dots, their count in *nd. */
#define ONES UINT64_C(0x0101010101010101)
#define HIGH UINT64_C(0x8080808080808080)
static inline uint64_t swar_bad(uint64_t x)
{
    uint64_t x7 = x & ~HIGH; /* bytes >= 0x80 are bad by their high bit */
    uint64_t ge_a = (x7 + ONES * (0x80 - 'A')) & HIGH;
    uint64_t gt_z = (x7 + ONES * (0x80 - 'Z' - 1)) & HIGH;
    uint64_t gt_sp = (x7 + ONES * (0x80 - ' ' - 1)) & HIGH;
    return (x & HIGH) | (ge_a & ~gt_z) | (~gt_sp & HIGH);
}

static inline uint64_t swar_dots(uint64_t x)
{
    uint64_t y = x ^ (ONES * '.');
    return ~(((y & ~HIGH) + ~HIGH) | y | ~HIGH); /* high bit of each zero byte */
}

static bool domain_scan(const char *v, size_t len, uint16_t *dots, unsigned *nd)
{
    uint64_t bad = 0;
    unsigned n = 0;
    size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const bool swar = len >= 8;
#else
    const bool swar = false; /* the shifts below read bytes in little-endian order */
#endif
    if (!swar) {
        for (; i < len; i++) {
            unsigned c = (unsigned char)v[i];
            bad |= (c - 'A' < 26) | (c >= 0x80) | (c <= ' ');
            dots[n & 127] = (uint16_t)i;
            n += c == '.';
        }
        *nd = n;
        return bad == 0;
    }
    for (;; i += 8) {
        uint64_t x, z;
        size_t at = i;
        if (i + 8 > len) {
            /* the last bytes: the final 8, shifted so those seen drop out,
             * padded with a harmless 'a' */
            size_t rem = len - i;
            if (rem == 0)
                break;
            memcpy(&x, v + len - 8, 8);
            x = (x >> (8 * (8 - rem))) | ((ONES * 'a') << (8 * rem));
            at = len - rem;
        } else {
            memcpy(&x, v + i, 8);
        }
        bad |= swar_bad(x);
        for (z = swar_dots(x); z != 0; z &= z - 1)
            dots[n++ & 127] = (uint16_t)(at + (unsigned)__builtin_ctzll(z) / 8);
        if (i + 8 >= len)
            break;
    }
    *nd = n;
    return bad == 0;
}
#undef ONES
#undef HIGH

/* The keys of one query into keys/bytes; false when they do not fit. */
static bool many_keys(const match_set *s, const match_query *q, mquery *mq, mkey *keys,
                      size_t *nk, uint8_t *bytes, size_t *nb)
{
    size_t k = *nk, b = *nb;
    const char *v = q->v;
    size_t len = q->len;
    mq->k0 = mq->k1 = (uint32_t)k;
    mq->v4 = mq->v6 = false;
    if (len == 0 || len > KEY_MAX || (unsigned)q->type >= MATCH_TYPE_COUNT)
        return true;
#define PUSH_KEY(T, OFF, LEN)                                                                    \
    do {                                                                                         \
        if (k == MANY_KEYS)                                                                      \
            return false;                                                                        \
        keys[k++] = (mkey){0, (OFF), (uint16_t)(LEN), (uint8_t)(T), false};                     \
    } while (0)
    switch (q->type) {
    case MATCH_DOMAIN: {
        if (s->value_count[MATCH_DOMAIN] == 0)
            return true;
        /* one pass: is it lower-case ASCII already, and where are its dots */
        uint16_t dots[128];
        unsigned nd = 0;
        bool bad = v[len - 1] == '.' || !domain_scan(v, len, dots, &nd);
        size_t dl;
        const uint8_t *d = bytes + b;
        if (!bad && len <= 255 && nd < 128) {
            d = (const uint8_t *)v; /* looked up as it is */
            dl = len;
        } else {
            if (MANY_BYTES - b < 256)
                return false;
            dl = match_domain_normalise(v, len, (char *)bytes + b, MANY_BYTES - b);
            if (dl == 0)
                return true;
            nd = 0;
            for (size_t i = 0; i < dl && nd < 128; i++)
                if (bytes[b + i] == '.')
                    dots[nd++] = (uint16_t)i;
            if (nd == 128) { /* more labels than any name has: each by hand */
                nd = 0;
                for (size_t i = 0; i < dl; i++)
                    nd += bytes[b + i] == '.';
                if (has_labels(s, nd + 1))
                    PUSH_KEY(MATCH_DOMAIN, d, dl);
                for (size_t i = 0; i + 1 < dl; i++)
                    if (d[i] == '.' && has_labels(s, nd--))
                        PUSH_KEY(MATCH_DOMAIN, d + i + 1, dl - i - 1);
                b += dl;
                break;
            }
        }
        /* the name itself, then each parent on a label boundary */
        if (has_labels(s, nd + 1))
            PUSH_KEY(MATCH_DOMAIN, d, dl);
        for (unsigned j = 0; j < nd; j++)
            if (dots[j] + 1u < dl && has_labels(s, nd - j))
                PUSH_KEY(MATCH_DOMAIN, d + dots[j] + 1, dl - dots[j] - 1u);
        if (d != (const uint8_t *)v)
            b += dl;
        break;
    }
    case MATCH_IPV4: {
        uint32_t a = q->a4;
        if (s->value_count[MATCH_IPV4] == 0 || (!q->parsed && !match_ipv4_parse(v, len, &a)) ||
            !match_ipv4_map16_has(s->v4_16, a))
            return true;
        if (b + 4 > MANY_BYTES)
            return false;
        bytes[b] = (uint8_t)(a >> 24), bytes[b + 1] = (uint8_t)(a >> 16);
        bytes[b + 2] = (uint8_t)(a >> 8), bytes[b + 3] = (uint8_t)a;
        PUSH_KEY(MATCH_IPV4, bytes + b, 4);
        b += 4;
        mq->v4 = true;
        mq->a4 = a;
        break;
    }
    case MATCH_IPV6: {
        uint8_t a[16];
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
        if ((s->value_count[MATCH_IPV6] == 0 && s->value_count[MATCH_IPV4] == 0) ||
            !match_ipv6_parse(v, len, a))
            return true;
        if (b + 20 > MANY_BYTES)
            return false;
        if (memcmp(a, mapped, 12) == 0 && s->value_count[MATCH_IPV4] > 0) {
            memcpy(bytes + b, a + 12, 4);
            PUSH_KEY(MATCH_IPV4, bytes + b, 4);
            b += 4;
            mq->v4 = true;
            mq->a4 = (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
        }
        if (s->value_count[MATCH_IPV6] > 0) {
            memcpy(bytes + b, a, 16);
            PUSH_KEY(MATCH_IPV6, bytes + b, 16);
            b += 16;
            mq->v6 = true;
            mq->a6 = u128_from_bytes(a);
        }
        break;
    }
    case MATCH_FILE_HASH:
    case MATCH_X509_HASH: {
        size_t n;
        if (s->value_count[q->type] == 0)
            return true;
        if (b + 64 > MANY_BYTES)
            return false;
        if ((n = match_hash_decode(v, len, bytes + b)) == 0)
            return true;
        PUSH_KEY(q->type, bytes + b, n);
        b += n;
        break;
    }
    default: { /* URL, e-mail: normalised into the buffer */
        size_t n;
        if (s->value_count[q->type] == 0)
            return true;
        if (MANY_BYTES - b < len + 16)
            return false;
        n = q->type == MATCH_URL ? match_url_normalise(v, len, (char *)bytes + b, MANY_BYTES - b)
                                 : match_email_normalise(v, len, (char *)bytes + b,
                                                         MANY_BYTES - b);
        if (n == 0)
            return true;
        PUSH_KEY(q->type, bytes + b, n);
        b += n;
        break;
    }
    }
#undef PUSH_KEY
    mq->k1 = (uint32_t)k;
    *nk = k;
    *nb = b;
    return true;
}

void match_lookup_many(const match_set *s, const match_query *q, size_t count, match_many_fn fn,
                       void *ctx)
{
    mkey keys[MANY_KEYS];
    mquery mq[MANY_KEYS];
    uint8_t bytes[MANY_BYTES];
    size_t i = 0;
    if (!s->compiled)
        return;
    while (i < count) {
        size_t nk = 0, nb = 0, first = i, nq = 0;
        /* round: as many queries as fit (at least one, alone if it must) */
        while (i < count && nq < MANY_KEYS) {
            size_t k0 = nk, b0 = nb;
            if (!many_keys(s, &q[i], &mq[nq], keys, &nk, bytes, &nb)) {
                nk = k0;
                nb = b0;
                break;
            }
            nq++;
            i++;
        }
        if (nq == 0) {
            /* one query too big for a round: the plain path */
            match_hit hits[32];
            size_t n = match_lookup(s, q[i].type, q[i].v, q[i].len, hits, 32);
            if (n > 0)
                fn(ctx, i, hits, n);
            i++;
            continue;
        }
        /* hash all, prefetch the filter blocks (an exact address: its /24
         * bit first, no hash for most) */
        for (size_t k = 0; k < nk; k++) {
            const uint8_t *kb = keys[k].p;
            if (keys[k].t == MATCH_IPV4 && keys[k].len == 4) {
                if (s->v4_24 != NULL)
                    __builtin_prefetch(s->v4_24 + (((uint32_t)kb[0] << 10) | ((uint32_t)kb[1] << 2) |
                                                   (kb[2] >> 6)));
                continue;
            }
            keys[k].h = XXH3_64bits_withSeed(kb, keys[k].len, keys[k].t);
            __builtin_prefetch(s->bloom + ((keys[k].h & s->bloom_mask) << 3));
        }
        /* filter; prefetch the table slot of the maybes */
        for (size_t k = 0; k < nk; k++) {
            keys[k].maybe = false;
            if (keys[k].t == MATCH_IPV4 && keys[k].len == 4) {
                const uint8_t *kb = keys[k].p;
                uint32_t a = (uint32_t)kb[0] << 24 | (uint32_t)kb[1] << 16 | (uint32_t)kb[2] << 8;
                if (!v4_maybe(s, a))
                    continue;
                keys[k].h = XXH3_64bits_withSeed(kb, 4, MATCH_IPV4);
            }
            if (bloom_maybe(s, keys[k].h)) {
                keys[k].maybe = true;
                __builtin_prefetch(&s->table[keys[k].h & s->mask]);
            }
        }
        for (size_t qi = 0; qi < nq; qi++) {
            match_hit hits[32];
            size_t n = 0;
            for (uint32_t k = mq[qi].k0; k < mq[qi].k1 && n < 32; k++) {
                if (!keys[k].maybe)
                    continue;
                const mkey *key = &keys[k];
                uint64_t p = key->h & s->mask;
                for (;;) {
                    const slot *sl = &s->table[p];
                    if (sl->post_count == 0)
                        break;
                    if (sl->h == key->h && sl->ns == key->t && sl->key_len == key->len &&
                        memcmp(s->arena + sl->key_off, key->p, key->len) == 0) {
                        n = add_slot_hit(s, (match_type)key->t, sl, hits, n, 32);
                        break;
                    }
                    p = (p + 1) & s->mask;
                }
            }
            if (mq[qi].v4 && s->value_count[MATCH_IPV4] > 0)
                n = range_hits(s, 0, (u128){0, mq[qi].a4}, hits, n, 32);
            if (mq[qi].v6)
                n = range_hits(s, 1, mq[qi].a6, hits, n, 32);
            if (n > 0)
                fn(ctx, first + qi, hits, n);
        }
    }
}
