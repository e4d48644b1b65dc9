/* Warninglists: MISP's lists of known-benign or commonly mistaken values
 * (github.com/MISP/misp-warninglists, format in its schema.json: name,
 * version, description, type, matching_attributes, list), loaded once and
 * looked up for every incoming indicator value.
 *
 * Design: compile once, look up many times, share read-only across threads.
 * - string and hostname entries of every list live in ONE open-addressing
 *   hash table keyed by XXH3-64 of the normalised bytes (lower-case ASCII,
 *   surrounding dots removed). An entry remembers its list and whether it
 *   matches only the whole value (string lists) or also as a label-boundary
 *   suffix (hostname lists, and string entries written with a leading dot
 *   such as ".aadrm.com", which MISP's own lists use to mean "and below").
 *   A query hashes the whole value and then each suffix after a dot:
 *   a.b.google.com -> b.google.com -> google.com -> com, a handful of probes,
 *   and notgoogle.com can never hit google.com since suffixes start after a
 *   dot. Duplicate values across lists are separate entries; a probe run
 *   collects all of them.
 * - cidr lists keep sorted, merged [lo, hi] intervals per list (IPv4 as
 *   uint32, IPv6 as two uint64) and answer with one binary search per list.
 *   Bare addresses are /32 or /128.
 * - substring lists (small by nature) go into one array bucketed by first
 *   byte: one pass over the value tries only the patterns that start with
 *   the byte at hand.
 * - regex lists use MISP's "/pattern/flags" form, compiled with PCRE2 once;
 *   each lookup makes its own match data, so lookups stay thread-safe.
 * Matching is case-insensitive for everything but regexes (which carry
 * their own /i): hostnames and hex hashes are case-insensitive by nature,
 * and the other string lists hold such values too.
 * matching_attributes limit which value kinds a list applies to; "ip" asks
 * for ip-src or ip-dst lists, "email" for email-src/email-dst/target-email.
 * A bad list.json is skipped with a message naming the file and the fault;
 * the rest still load. */
#include "verify/verify.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <jansson.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#define MAX_LISTS 4096           /* the hit bitmap lives on the stack */
#define MAX_LIST_FILE (64u << 20) /* one list.json */
#define MAX_VALUE 4096           /* longer query values are not looked up */

enum { WL_STRING, WL_SUBSTRING, WL_HOSTNAME, WL_CIDR, WL_REGEX };
static const char *const type_names[] = {"string", "substring", "hostname", "cidr", "regex"};

enum { KIND_EXACT = 0, KIND_SUFFIX = 1 };

typedef struct v4range { uint32_t lo, hi; } v4range;
typedef struct u128 { uint64_t hi, lo; } u128;
typedef struct v6range { u128 lo, hi; } v6range;

typedef struct wl_list {
    char *name;
    char *description;
    int type;
    uint64_t accepts; /* attribute bits; all ones when unrestricted */
    v4range *v4;
    size_t v4_count;
    v6range *v6;
    size_t v6_count;
    pcre2_code **re;
    size_t re_count;
} wl_list;

typedef struct wl_entry {
    uint64_t hash;
    const char *val; /* NULL: empty slot */
    uint32_t len;
    uint16_t list;
    uint8_t kind;
} wl_entry;

typedef struct wl_sub {
    const char *pat;
    uint32_t len;
    uint16_t list;
} wl_sub;

typedef struct pool_block {
    struct pool_block *next;
    size_t used, cap;
    char data[];
} pool_block;

struct verify_lists {
    wl_list *lists;
    size_t list_count, list_cap;
    wl_entry *table;
    size_t table_cap, table_count;
    wl_sub *subs;
    size_t sub_count, sub_cap;
    size_t sub_start[257]; /* subs with first byte b are [sub_start[b], sub_start[b+1]) */
    pool_block *pool;
    char **skipped;
    size_t skipped_count, skipped_cap;
};

/* ------------------------------------------------------------ attributes */

/* Attribute names a list may give; a bit each. Unknown names share the last bit. */
static const char *const attr_names[] = {
    "ip-src", "ip-dst", "domain", "hostname", "url", "uri", "md5", "sha1", "sha224", "sha256",
    "sha512", "email-src", "email-dst", "target-email", "email", "whois-registrant-email",
    "phone-number", "whois-registrant-phone", "azure-application-id", "x509-fingerprint-md5",
    "x509-fingerprint-sha1", "x509-fingerprint-sha256", "domain|ip", "hostname|port",
    "ip-src|port", "ip-dst|port", "dns-soa-email", "sha384", "sha512/224", "sha512/256",
};
#define ATTR_COUNT (sizeof attr_names / sizeof attr_names[0])
#define ATTR_OTHER 63

static int attr_bit(const char *name)
{
    for (size_t i = 0; i < ATTR_COUNT; i++)
        if (strcmp(attr_names[i], name) == 0)
            return (int)i;
    return -1;
}

/* Bits a query of attr_type is satisfied by. */
static uint64_t query_mask(const char *attr_type)
{
    int b;
    if (attr_type == NULL || *attr_type == '\0')
        return ~(uint64_t)0;
    if (strcmp(attr_type, "ip") == 0)
        return (1u << attr_bit("ip-src")) | (1u << attr_bit("ip-dst"));
    if (strcmp(attr_type, "email") == 0)
        return (1u << attr_bit("email-src")) | (1u << attr_bit("email-dst")) |
               (1u << attr_bit("target-email")) | (1u << attr_bit("email"));
    b = attr_bit(attr_type);
    return b < 0 ? (uint64_t)1 << ATTR_OTHER : (uint64_t)1 << b;
}

/* ------------------------------------------------------------- the pool */

static char *pool_dup(verify_lists *l, const char *s, size_t len)
{
    pool_block *b = l->pool;
    char *p;
    if (b == NULL || b->cap - b->used < len + 1) {
        size_t cap = len + 1 > 65536 ? len + 1 : 65536;
        b = dt_malloc(sizeof *b + cap);
        if (b == NULL)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = l->pool;
        l->pool = b;
    }
    p = b->data + b->used;
    memcpy(p, s, len);
    p[len] = '\0';
    b->used += len + 1;
    return p;
}

/* ---------------------------------------------------- normalising values */

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Lower-case s[0..len) into out, trimming spaces and dots at both ends when
 * trim_dots; *leading_dot tells whether a dot was trimmed at the front.
 * Returns the new length (out has room for len + 1). */
static size_t normalise(const char *s, size_t len, bool trim_dots, char *out, bool *leading_dot)
{
    size_t a = 0, z = len, n = 0;
    while (a < z && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (z > a && (s[z - 1] == ' ' || s[z - 1] == '\t' || s[z - 1] == '\r' || s[z - 1] == '\n'))
        z--;
    if (leading_dot != NULL)
        *leading_dot = false;
    if (trim_dots) {
        if (a < z && s[a] == '.') {
            if (leading_dot != NULL)
                *leading_dot = true;
            while (a < z && s[a] == '.')
                a++;
        }
        while (z > a && s[z - 1] == '.')
            z--;
    }
    for (size_t i = a; i < z; i++)
        out[n++] = lower(s[i]);
    out[n] = '\0';
    return n;
}

/* ------------------------------------------------------------ hash table */

static uint64_t hash_bytes(const char *s, size_t len)
{
    return XXH3_64bits(s, len);
}

static dt_status table_grow(verify_lists *l, dt_err *err)
{
    size_t cap = l->table_cap ? l->table_cap * 2 : 1024;
    wl_entry *t = dt_calloc(cap, sizeof *t);
    if (t == NULL)
        return dt_fail(err, DT_ENOMEM, "warninglists", "out of memory growing the value table");
    for (size_t i = 0; i < l->table_cap; i++) {
        wl_entry *e = &l->table[i];
        size_t j;
        if (e->val == NULL)
            continue;
        for (j = e->hash & (cap - 1); t[j].val != NULL; j = (j + 1) & (cap - 1))
            ;
        t[j] = *e;
    }
    dt_free(l->table);
    l->table = t;
    l->table_cap = cap;
    return DT_OK;
}

static dt_status table_put(verify_lists *l, const char *v, size_t len, uint16_t list, uint8_t kind,
                           dt_err *err)
{
    uint64_t h = hash_bytes(v, len);
    size_t j;
    char *copy;
    if ((l->table_count + 1) * 2 > l->table_cap) {
        dt_status rc = table_grow(l, err);
        if (rc != DT_OK)
            return rc;
    }
    for (j = h & (l->table_cap - 1); l->table[j].val != NULL; j = (j + 1) & (l->table_cap - 1)) {
        wl_entry *e = &l->table[j];
        if (e->hash == h && e->list == list && e->len == len && memcmp(e->val, v, len) == 0) {
            if (kind == KIND_SUFFIX) /* ".x.com" and "x.com" in one list: the wider wins */
                e->kind = KIND_SUFFIX;
            return DT_OK;
        }
    }
    copy = pool_dup(l, v, len);
    if (copy == NULL)
        return dt_fail(err, DT_ENOMEM, "warninglists", "out of memory storing values");
    l->table[j] = (wl_entry){.hash = h, .val = copy, .len = (uint32_t)len, .list = list, .kind = kind};
    l->table_count++;
    return DT_OK;
}

#define BIT_SET(bm, i) ((bm)[(i) >> 6] |= (uint64_t)1 << ((i) & 63))
#define BIT_GET(bm, i) (((bm)[(i) >> 6] >> ((i) & 63)) & 1)

/* Mark every list holding v (kinds allowed by suffix_only) that accepts mask. */
static void table_find(const verify_lists *l, const char *v, size_t len, bool suffix_only,
                       uint64_t mask, uint64_t *found)
{
    uint64_t h;
    if (l->table_cap == 0 || len == 0)
        return;
    h = hash_bytes(v, len);
    for (size_t j = h & (l->table_cap - 1); l->table[j].val != NULL; j = (j + 1) & (l->table_cap - 1)) {
        const wl_entry *e = &l->table[j];
        if (e->hash != h || e->len != len || memcmp(e->val, v, len) != 0)
            continue;
        if (suffix_only && e->kind != KIND_SUFFIX)
            continue;
        if ((l->lists[e->list].accepts & mask) == 0)
            continue;
        BIT_SET(found, e->list);
    }
}

/* ------------------------------------------------------------ addresses */

typedef struct ip_addr {
    int family; /* 4, 6, or 0 when not an address */
    uint32_t v4;
    u128 v6;
} ip_addr;

static bool ip_parse(const char *s, size_t len, ip_addr *out)
{
    char buf[64];
    unsigned char b[16];
    out->family = 0;
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (memchr(buf, ':', len) == NULL) {
        if (inet_pton(AF_INET, buf, b) != 1)
            return false;
        out->family = 4;
        out->v4 = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        return true;
    }
    if (inet_pton(AF_INET6, buf, b) != 1)
        return false;
    out->family = 6;
    out->v6.hi = out->v6.lo = 0;
    for (int i = 0; i < 8; i++) {
        out->v6.hi = out->v6.hi << 8 | b[i];
        out->v6.lo = out->v6.lo << 8 | b[i + 8];
    }
    return true;
}

static int u128_cmp(u128 a, u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

/* Host mask for a prefix length: the low (128 - prefix) bits set. */
static u128 u128_hostmask(unsigned prefix)
{
    u128 m;
    unsigned host = 128 - prefix;
    if (host >= 64) {
        m.lo = ~(uint64_t)0;
        m.hi = host == 128 ? ~(uint64_t)0 : (((uint64_t)1 << (host - 64)) - 1);
    } else {
        m.hi = 0;
        m.lo = host == 0 ? 0 : (((uint64_t)1 << host) - 1);
    }
    return m;
}

static u128 u128_inc(u128 a)
{
    a.lo++;
    if (a.lo == 0)
        a.hi++;
    return a;
}

/* "a.b.c.d[/n]" or "x::y[/n]" into a range. */
static bool cidr_parse(const char *s, int *family, v4range *r4, v6range *r6)
{
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    ip_addr a;
    long prefix = -1;
    if (!ip_parse(s, alen, &a))
        return false;
    if (slash != NULL) {
        char *end;
        if (slash[1] < '0' || slash[1] > '9')
            return false;
        prefix = strtol(slash + 1, &end, 10);
        if (*end != '\0')
            return false;
    }
    *family = a.family;
    if (a.family == 4) {
        uint32_t host;
        if (prefix < 0)
            prefix = 32;
        if (prefix > 32)
            return false;
        host = prefix == 0 ? ~(uint32_t)0 : (uint32_t)(((uint64_t)1 << (32 - prefix)) - 1);
        r4->lo = a.v4 & ~host;
        r4->hi = a.v4 | host;
        return true;
    }
    if (prefix < 0)
        prefix = 128;
    if (prefix > 128)
        return false;
    {
        u128 m = u128_hostmask((unsigned)prefix);
        r6->lo.hi = a.v6.hi & ~m.hi;
        r6->lo.lo = a.v6.lo & ~m.lo;
        r6->hi.hi = a.v6.hi | m.hi;
        r6->hi.lo = a.v6.lo | m.lo;
    }
    return true;
}

static int cmp_v4(const void *a, const void *b)
{
    const v4range *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return x->hi < y->hi ? -1 : x->hi > y->hi;
}

static int cmp_v6(const void *a, const void *b)
{
    const v6range *x = a, *y = b;
    int c = u128_cmp(x->lo, y->lo);
    return c != 0 ? c : u128_cmp(x->hi, y->hi);
}

/* Sort and merge overlapping or adjacent ranges in place. */
static size_t merge_v4(v4range *r, size_t n)
{
    size_t w = 0;
    if (n == 0)
        return 0;
    qsort(r, n, sizeof *r, cmp_v4);
    for (size_t i = 1; i < n; i++) {
        if (r[w].hi == UINT32_MAX || r[i].lo <= r[w].hi + 1) {
            if (r[i].hi > r[w].hi)
                r[w].hi = r[i].hi;
        } else {
            r[++w] = r[i];
        }
    }
    return w + 1;
}

static size_t merge_v6(v6range *r, size_t n)
{
    size_t w = 0;
    if (n == 0)
        return 0;
    qsort(r, n, sizeof *r, cmp_v6);
    for (size_t i = 1; i < n; i++) {
        bool touches = (r[w].hi.hi == UINT64_MAX && r[w].hi.lo == UINT64_MAX) ||
                       u128_cmp(r[i].lo, u128_inc(r[w].hi)) <= 0;
        if (touches) {
            if (u128_cmp(r[i].hi, r[w].hi) > 0)
                r[w].hi = r[i].hi;
        } else {
            r[++w] = r[i];
        }
    }
    return w + 1;
}

static bool in_v4(const v4range *r, size_t n, uint32_t a)
{
    size_t lo = 0, hi = n; /* find the last range with r.lo <= a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && a <= r[lo - 1].hi;
}

static bool in_v6(const v6range *r, size_t n, u128 a)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u128_cmp(r[mid].lo, a) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && u128_cmp(a, r[lo - 1].hi) <= 0;
}

/* ---------------------------------------------------------------- regex */

static pcre2_code *regex_compile(const char *s, char *why, size_t why_len)
{
    const char *pat = s;
    size_t plen = strlen(s);
    uint32_t opts = 0;
    int code;
    PCRE2_SIZE off;
    pcre2_code *re;
    if (plen >= 2 && s[0] == '/') {
        const char *end = strrchr(s, '/');
        if (end == s) {
            snprintf(why, why_len, "regex without a closing '/'");
            return NULL;
        }
        for (const char *f = end + 1; *f; f++) {
            switch (*f) {
            case 'i': opts |= PCRE2_CASELESS; break;
            case 'm': opts |= PCRE2_MULTILINE; break;
            case 's': opts |= PCRE2_DOTALL; break;
            case 'x': opts |= PCRE2_EXTENDED; break;
            case 'u': opts |= PCRE2_UTF; break;
            case 'g': break; /* "global": meaningless for a yes/no match */
            default:
                snprintf(why, why_len, "unknown regex flag '%c'", *f);
                return NULL;
            }
        }
        pat = s + 1;
        plen = (size_t)(end - s) - 1;
    }
    re = pcre2_compile((PCRE2_SPTR)pat, plen, opts, &code, &off, NULL);
    if (re == NULL) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(why, why_len, "bad regex at offset %zu: %s", (size_t)off, (const char *)msg);
    }
    return re;
}

static bool regex_any(pcre2_code *const *re, size_t n, const char *v, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(re[i], NULL);
        int rc;
        if (md == NULL)
            return false;
        rc = pcre2_match(re[i], (PCRE2_SPTR)v, len, 0, 0, md, NULL);
        pcre2_match_data_free(md);
        if (rc >= 0)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------ lifecycle */

static void list_release(wl_list *w)
{
    dt_free(w->name);
    dt_free(w->description);
    dt_free(w->v4);
    dt_free(w->v6);
    for (size_t i = 0; i < w->re_count; i++)
        pcre2_code_free(w->re[i]);
    dt_free(w->re);
    memset(w, 0, sizeof *w);
}

dt_status verify_lists_new(verify_lists **out, dt_err *err)
{
    verify_lists *l = dt_calloc(1, sizeof *l);
    *out = NULL;
    if (l == NULL)
        return dt_fail(err, DT_ENOMEM, "warninglists", "out of memory");
    *out = l;
    return DT_OK;
}

void verify_lists_free(verify_lists *l)
{
    pool_block *b;
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->list_count; i++)
        list_release(&l->lists[i]);
    dt_free(l->lists);
    dt_free(l->table);
    dt_free(l->subs);
    while ((b = l->pool) != NULL) {
        l->pool = b->next;
        dt_free(b);
    }
    for (size_t i = 0; i < l->skipped_count; i++)
        dt_free(l->skipped[i]);
    dt_free(l->skipped);
    dt_free(l);
}

size_t verify_lists_count(const verify_lists *l) { return l->list_count; }
size_t verify_lists_skipped_count(const verify_lists *l) { return l->skipped_count; }

const char *verify_lists_skipped_msg(const verify_lists *l, size_t i)
{
    return i < l->skipped_count ? l->skipped[i] : NULL;
}

size_t verify_lists_value_count(const verify_lists *l)
{
    size_t n = l->table_count + l->sub_count;
    for (size_t i = 0; i < l->list_count; i++)
        n += l->lists[i].v4_count + l->lists[i].v6_count + l->lists[i].re_count;
    return n;
}

/* ------------------------------------------------------------- loading */

static int cmp_sub(const void *a, const void *b)
{
    const wl_sub *x = a, *y = b;
    if ((unsigned char)x->pat[0] != (unsigned char)y->pat[0])
        return (unsigned char)x->pat[0] < (unsigned char)y->pat[0] ? -1 : 1;
    if (x->list != y->list)
        return x->list < y->list ? -1 : 1;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return memcmp(x->pat, y->pat, x->len);
}

static void subs_index(verify_lists *l)
{
    size_t i = 0;
    if (l->sub_count > 1)
        qsort(l->subs, l->sub_count, sizeof *l->subs, cmp_sub);
    for (unsigned b = 0; b < 256; b++) {
        l->sub_start[b] = i;
        while (i < l->sub_count && (unsigned char)l->subs[i].pat[0] == b)
            i++;
    }
    l->sub_start[256] = l->sub_count;
}

/* Validate the JSON and fill w (name, type, accepts, cidr ranges, regexes);
 * values of string/hostname/substring lists are added by the caller. */
static dt_status list_prepare(json_t *root, const char *origin, wl_list *w, dt_err *err)
{
    json_t *name = json_object_get(root, "name");
    json_t *desc = json_object_get(root, "description");
    json_t *type = json_object_get(root, "type");
    json_t *ver = json_object_get(root, "version");
    json_t *items = json_object_get(root, "list");
    json_t *attrs = json_object_get(root, "matching_attributes");
    size_t i, n4 = 0, n6 = 0;
    json_t *it;
    char why[160];

    if (!json_is_object(root))
        return dt_fail(err, DT_EINVALID, origin, "the top level is not a JSON object");
    if (!json_is_string(name) || json_string_length(name) == 0)
        return dt_fail(err, DT_EINVALID, origin, "\"name\" is missing or not a non-empty string");
    if (!json_is_string(desc))
        return dt_fail(err, DT_EINVALID, origin, "\"description\" is missing or not a string");
    if (!json_is_integer(ver))
        return dt_fail(err, DT_EINVALID, origin, "\"version\" is missing or not an integer");
    if (!json_is_string(type))
        return dt_fail(err, DT_EINVALID, origin, "\"type\" is missing or not a string");
    w->type = -1;
    for (int t = 0; t < 5; t++)
        if (strcmp(json_string_value(type), type_names[t]) == 0)
            w->type = t;
    if (w->type < 0)
        return dt_fail(err, DT_EINVALID, origin,
                       "\"type\" is \"%.40s\"; expected string, substring, hostname, cidr or regex",
                       json_string_value(type));
    if (!json_is_array(items))
        return dt_fail(err, DT_EINVALID, origin, "\"list\" is missing or not an array");
    json_array_foreach(items, i, it) {
        if (!json_is_string(it))
            return dt_fail(err, DT_EINVALID, origin, "list[%zu] is not a string", i);
    }
    if (attrs != NULL && !json_is_array(attrs))
        return dt_fail(err, DT_EINVALID, origin, "\"matching_attributes\" is not an array");
    w->accepts = 0;
    json_array_foreach(attrs, i, it) {
        int b;
        if (!json_is_string(it))
            return dt_fail(err, DT_EINVALID, origin, "matching_attributes[%zu] is not a string", i);
        b = attr_bit(json_string_value(it));
        w->accepts |= (uint64_t)1 << (b < 0 ? ATTR_OTHER : b);
    }
    if (attrs == NULL || json_array_size(attrs) == 0)
        w->accepts = ~(uint64_t)0;

    w->name = dt_strdup(json_string_value(name));
    w->description = dt_strdup(json_string_value(desc));
    if (w->name == NULL || w->description == NULL)
        return dt_fail(err, DT_ENOMEM, origin, "out of memory");

    if (w->type == WL_CIDR) {
        size_t n = json_array_size(items);
        w->v4 = dt_calloc(n ? n : 1, sizeof *w->v4);
        w->v6 = dt_calloc(n ? n : 1, sizeof *w->v6);
        if (w->v4 == NULL || w->v6 == NULL)
            return dt_fail(err, DT_ENOMEM, origin, "out of memory");
        json_array_foreach(items, i, it) {
            int fam = 0;
            const char *s = json_string_value(it);
            if (!cidr_parse(s, &fam, &w->v4[n4], &w->v6[n6]))
                return dt_fail(err, DT_EINVALID, origin,
                               "list[%zu] \"%.60s\" is not an IPv4 or IPv6 address or CIDR", i, s);
            if (fam == 4)
                n4++;
            else
                n6++;
        }
        w->v4_count = merge_v4(w->v4, n4);
        w->v6_count = merge_v6(w->v6, n6);
    } else if (w->type == WL_REGEX) {
        size_t n = json_array_size(items);
        w->re = dt_calloc(n ? n : 1, sizeof *w->re);
        if (w->re == NULL)
            return dt_fail(err, DT_ENOMEM, origin, "out of memory");
        json_array_foreach(items, i, it) {
            w->re[i] = regex_compile(json_string_value(it), why, sizeof why);
            if (w->re[i] == NULL)
                return dt_fail(err, DT_EINVALID, origin, "list[%zu]: %s", i, why);
            w->re_count = i + 1;
        }
    }
    return DT_OK;
}

static dt_status list_add_values(verify_lists *l, json_t *items, uint16_t idx, int type, dt_err *err)
{
    size_t i;
    json_t *it;
    dt_status rc = DT_OK;
    json_array_foreach(items, i, it) {
        const char *s = json_string_value(it);
        size_t len = json_string_length(it);
        char small[512], *buf = small;
        bool dot = false;
        size_t n;
        if (len + 1 > sizeof small) {
            buf = dt_malloc(len + 1);
            if (buf == NULL)
                return dt_fail(err, DT_ENOMEM, "warninglists", "out of memory");
        }
        n = normalise(s, len, type != WL_SUBSTRING, buf, &dot);
        if (n == 0) {
            /* an empty entry would match nothing (or, as a substring, everything) */
        } else if (type == WL_SUBSTRING) {
            if (l->sub_count == l->sub_cap) {
                size_t cap = l->sub_cap ? l->sub_cap * 2 : 64;
                wl_sub *p = dt_realloc(l->subs, cap * sizeof *p);
                if (p == NULL) {
                    rc = dt_fail(err, DT_ENOMEM, "warninglists", "out of memory");
                    goto next;
                }
                l->subs = p;
                l->sub_cap = cap;
            }
            l->subs[l->sub_count].pat = pool_dup(l, buf, n);
            if (l->subs[l->sub_count].pat == NULL) {
                rc = dt_fail(err, DT_ENOMEM, "warninglists", "out of memory");
                goto next;
            }
            l->subs[l->sub_count].len = (uint32_t)n;
            l->subs[l->sub_count].list = idx;
            l->sub_count++;
        } else {
            uint8_t kind = (type == WL_HOSTNAME || dot) ? KIND_SUFFIX : KIND_EXACT;
            rc = table_put(l, buf, n, idx, kind, err);
        }
    next:
        if (buf != small)
            dt_free(buf);
        if (rc != DT_OK)
            return rc;
    }
    return DT_OK;
}

dt_status verify_lists_add_json(verify_lists *l, const char *json, size_t len, const char *origin,
                                dt_err *err)
{
    json_error_t jerr;
    json_t *root;
    wl_list w = {0};
    dt_status rc;
    if (l->list_count >= MAX_LISTS)
        return dt_fail(err, DT_ELIMIT, origin, "more than %d warninglists", MAX_LISTS);
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return dt_fail(err, DT_EPARSE, origin, "not valid JSON: line %d column %d: %s", jerr.line,
                       jerr.column, jerr.text);
    rc = list_prepare(root, origin, &w, err);
    if (rc != DT_OK)
        goto out;
    if (l->list_count == l->list_cap) {
        size_t cap = l->list_cap ? l->list_cap * 2 : 32;
        wl_list *p = dt_realloc(l->lists, cap * sizeof *p);
        if (p == NULL) {
            rc = dt_fail(err, DT_ENOMEM, origin, "out of memory");
            goto out;
        }
        l->lists = p;
        l->list_cap = cap;
    }
    l->lists[l->list_count] = w;
    memset(&w, 0, sizeof w); /* the set owns it now */
    l->list_count++;
    if (l->lists[l->list_count - 1].type == WL_STRING ||
        l->lists[l->list_count - 1].type == WL_HOSTNAME ||
        l->lists[l->list_count - 1].type == WL_SUBSTRING) {
        rc = list_add_values(l, json_object_get(root, "list"), (uint16_t)(l->list_count - 1),
                             l->lists[l->list_count - 1].type, err);
        if (l->lists[l->list_count - 1].type == WL_SUBSTRING)
            subs_index(l);
    }
out:
    list_release(&w);
    json_decref(root);
    return rc;
}

static dt_status note_skipped(verify_lists *l, const dt_err *e, dt_err *err)
{
    char text[400];
    char *copy;
    if (l->skipped_count == l->skipped_cap) {
        size_t cap = l->skipped_cap ? l->skipped_cap * 2 : 8;
        char **p = dt_realloc(l->skipped, cap * sizeof *p);
        if (p == NULL)
            return dt_fail(err, DT_ENOMEM, "warninglists", "out of memory");
        l->skipped = p;
        l->skipped_cap = cap;
    }
    copy = dt_strdup(dt_err_text(e, text, sizeof text));
    if (copy == NULL)
        return dt_fail(err, DT_ENOMEM, "warninglists", "out of memory");
    l->skipped[l->skipped_count++] = copy;
    return DT_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

dt_status verify_lists_add_dir(verify_lists *l, const char *dir, dt_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t count = 0, cap = 0;
    dt_status rc = DT_OK;
    if (d == NULL)
        return dt_fail(err, DT_EIO, dir, "cannot open the warninglist directory");
    /* read names first and sort them: the load order (and so the hit order)
     * must not depend on the file system */
    while ((e = readdir(d)) != NULL) {
        char *n;
        if (e->d_name[0] == '.')
            continue;
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **p = dt_realloc(names, ncap * sizeof *p);
            if (p == NULL) {
                rc = dt_fail(err, DT_ENOMEM, dir, "out of memory");
                goto out;
            }
            names = p;
            cap = ncap;
        }
        n = dt_strdup(e->d_name);
        if (n == NULL) {
            rc = dt_fail(err, DT_ENOMEM, dir, "out of memory");
            goto out;
        }
        names[count++] = n;
    }
    if (count > 0)
        qsort(names, count, sizeof *names, cmp_str);
    for (size_t i = 0; i < count; i++) {
        char path[4096];
        struct stat st;
        char *text = NULL;
        size_t len = 0;
        dt_err e1 = {0};
        int n = snprintf(path, sizeof path, "%s/%s/list.json", dir, names[i]);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        if (stat(path, &st) != 0) /* a directory without a list (or a plain file) */
            continue;
        rc = dt_file_read(path, MAX_LIST_FILE, &text, &len, &e1);
        if (rc == DT_OK)
            rc = verify_lists_add_json(l, text, len, path, &e1);
        dt_free(text);
        if (rc == DT_ENOMEM) {
            rc = dt_fail(err, DT_ENOMEM, path, "out of memory");
            goto out;
        }
        if (rc != DT_OK) {
            rc = note_skipped(l, &e1, err);
            if (rc != DT_OK)
                goto out;
        }
    }
out:
    for (size_t i = 0; i < count; i++)
        dt_free(names[i]);
    dt_free(names);
    closedir(d);
    return rc;
}

dt_status verify_lists_load_dir(const char *dir, verify_lists **out, dt_err *err)
{
    verify_lists *l = NULL;
    dt_status rc;
    *out = NULL;
    rc = verify_lists_new(&l, err);
    if (rc != DT_OK)
        return rc;
    rc = verify_lists_add_dir(l, dir, err);
    if (rc != DT_OK) {
        verify_lists_free(l);
        return rc;
    }
    *out = l;
    return DT_OK;
}

/* --------------------------------------------------------------- lookup */

/* The host of a URL, [start, end) into u: after "scheme://" and any
 * "user@", up to the first '/', '?', '#' or ':port'; IPv6 literals lose
 * their brackets. A URL without "://" is read as "host/path". */
static bool url_host(const char *u, size_t len, size_t *start, size_t *end)
{
    const char *p = u, *z = u + len, *s;
    const char *sep = NULL;
    for (const char *q = u; q + 2 < z; q++) {
        if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
            sep = q;
            break;
        }
        if (*q == '/' || *q == '?' || *q == '#')
            break;
    }
    if (sep != NULL)
        p = sep + 3;
    s = p;
    while (p < z && *p != '/' && *p != '?' && *p != '#')
        p++;
    for (const char *q = p; q > s; q--) /* userinfo */
        if (q[-1] == '@') {
            s = q;
            break;
        }
    if (s < p && *s == '[') {
        const char *rb = memchr(s, ']', (size_t)(p - s));
        if (rb == NULL)
            return false;
        *start = (size_t)(s + 1 - u);
        *end = (size_t)(rb - u);
        return *end > *start;
    }
    {
        const char *colon = memchr(s, ':', (size_t)(p - s));
        if (colon != NULL)
            p = colon;
    }
    *start = (size_t)(s - u);
    *end = (size_t)(p - u);
    return *end > *start;
}

static void find_ip(const verify_lists *l, const ip_addr *a, uint64_t mask, uint64_t *found)
{
    for (size_t i = 0; i < l->list_count; i++) {
        const wl_list *w = &l->lists[i];
        if (w->type != WL_CIDR || (w->accepts & mask) == 0)
            continue;
        if (a->family == 4 ? in_v4(w->v4, w->v4_count, a->v4) : in_v6(w->v6, w->v6_count, a->v6))
            BIT_SET(found, i);
    }
}

/* Whole-value and label-suffix probes for a normalised name. */
static void find_name(const verify_lists *l, const char *v, size_t len, uint64_t mask,
                      uint64_t *found)
{
    table_find(l, v, len, false, mask, found);
    for (size_t i = 0; i < len; i++)
        if (v[i] == '.' && i + 1 < len)
            table_find(l, v + i + 1, len - i - 1, true, mask, found);
}

size_t verify_lists_lookup(const verify_lists *l, const char *attr_type, const char *value,
                           verify_hit *hits, size_t cap)
{
    uint64_t found[MAX_LISTS / 64] = {0};
    uint64_t mask = query_mask(attr_type);
    size_t raw_len, len, total = 0;
    char norm[MAX_VALUE + 1];
    ip_addr ip;
    if (l == NULL || value == NULL)
        return 0;
    raw_len = strlen(value);
    if (raw_len == 0 || raw_len > MAX_VALUE)
        return 0;
    len = normalise(value, raw_len, true, norm, NULL);
    if (len == 0)
        return 0;

    if (ip_parse(norm, len, &ip)) {
        find_ip(l, &ip, mask, found);
        table_find(l, norm, len, false, mask, found);
    } else {
        find_name(l, norm, len, mask, found);
        if (attr_type != NULL && strcmp(attr_type, "url") == 0) {
            size_t hs, he;
            if (url_host(norm, len, &hs, &he)) {
                char host[MAX_VALUE + 1];
                size_t hl = normalise(norm + hs, he - hs, true, host, NULL);
                if (ip_parse(host, hl, &ip))
                    find_ip(l, &ip, mask, found);
                else if (hl > 0)
                    find_name(l, host, hl, mask, found);
            }
        }
    }

    /* substrings: one pass, trying only patterns that start with this byte */
    if (l->sub_count > 0) {
        for (size_t i = 0; i < len; i++) {
            unsigned char b = (unsigned char)norm[i];
            for (size_t k = l->sub_start[b]; k < l->sub_start[b + 1]; k++) {
                const wl_sub *s = &l->subs[k];
                if (s->len <= len - i && memcmp(norm + i, s->pat, s->len) == 0 &&
                    (l->lists[s->list].accepts & mask) != 0)
                    BIT_SET(found, s->list);
            }
        }
    }

    for (size_t i = 0; i < l->list_count; i++) {
        const wl_list *w = &l->lists[i];
        if (w->type == WL_REGEX && (w->accepts & mask) != 0 && !BIT_GET(found, i) &&
            regex_any(w->re, w->re_count, value, raw_len))
            BIT_SET(found, i);
    }

    for (size_t i = 0; i < l->list_count; i++) {
        if (!BIT_GET(found, i))
            continue;
        if (total < cap) {
            hits[total].list_name = l->lists[i].name;
            hits[total].description = l->lists[i].description;
        }
        total++;
    }
    return total;
}
