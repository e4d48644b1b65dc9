/* TAXII 2.1 request parsing: paths to routes, query parameters to a store
 * query, Accept / Content-Type negotiation, and the `next` paging token.
 *
 * Everything here reads attacker-controlled bytes, so it is written as small
 * strict parsers over (pointer, length) that never write past fixed buffers
 * and reject rather than guess. The server hands us the request path and
 * query still percent-encoded (http/ turns off libmicrohttpd's unescaping):
 * we decode one segment at a time, so "%2F" cannot create a segment and
 * "%00" cannot cut a string short. TAXII 2.1 sections 3.4 (filtering), 3.6
 * (pagination), 1.6.8 (media types) and 5 (endpoints). */
#include "taxii/taxii.h"

#include <string.h>
#include <strings.h>

/* ---- paging token ---- */

#define NEXT_VERSION 1
#define NEXT_RAW 21 /* version, two 64-bit big-endian integers, 4-byte check */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void next_check(const uint8_t *raw, uint8_t out[4])
{
    uint8_t h[32];
    dt_sha256_2("detente-next", 12, raw, 17, h);
    memcpy(out, h, 4);
}

void taxii_next_encode(int64_t date_added, int64_t rowid, char out[TAXII_NEXT_LEN])
{
    uint8_t raw[NEXT_RAW];
    size_t o = 0;
    raw[0] = NEXT_VERSION;
    put_be64(raw + 1, (uint64_t)date_added);
    put_be64(raw + 9, (uint64_t)rowid);
    next_check(raw, raw + 17);
    /* 21 bytes = 7 groups of 3 bytes = 28 characters, no padding needed. */
    for (size_t i = 0; i < NEXT_RAW; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
        out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
}

static int b64url_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

dt_status taxii_next_decode(const char *s, size_t len, int64_t *date_added, int64_t *rowid,
                            dt_err *err)
{
    uint8_t raw[NEXT_RAW], check[4];
    int64_t da, rid;
    if (len != 28)
        return dt_fail(err, DT_EINVALID, "next", "not a paging token from this server");
    for (size_t i = 0, o = 0; i < len; i += 4) {
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            int d = b64url_val((unsigned char)s[i + k]);
            if (d < 0)
                return dt_fail(err, DT_EINVALID, "next", "not a paging token from this server");
            v = v << 6 | (uint32_t)d;
        }
        raw[o++] = (uint8_t)(v >> 16);
        raw[o++] = (uint8_t)(v >> 8);
        raw[o++] = (uint8_t)v;
    }
    next_check(raw, check);
    if (raw[0] != NEXT_VERSION || !dt_ct_equal(check, raw + 17, 4))
        return dt_fail(err, DT_EINVALID, "next", "not a paging token from this server");
    da = (int64_t)get_be64(raw + 1);
    rid = (int64_t)get_be64(raw + 9);
    if (da < 0 || rid < 0)
        return dt_fail(err, DT_EINVALID, "next", "not a paging token from this server");
    *date_added = da;
    *rowid = rid;
    return DT_OK;
}

/* ---- content negotiation ---- */

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **p, const char **end)
{
    while (*p < *end && is_ows(**p))
        (*p)++;
    while (*end > *p && is_ows((*end)[-1]))
        (*end)--;
}

static bool span_eq(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(end - p) == n && strncasecmp(p, lit, n) == 0;
}

/* One media type with parameters in [p, end): its type/subtype, the version
 * parameter (or NULL span) and q (1000 = 1.0; -1 when malformed). */
typedef struct media {
    const char *type, *type_end;
    const char *version, *version_end;
    int q;
} media;

static int parse_q(const char *p, const char *end)
{
    /* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
    int q = 0, scale = 1000;
    if (p >= end || (*p != '0' && *p != '1'))
        return -1;
    q = (*p - '0') * 1000;
    p++;
    if (p == end)
        return q;
    if (*p != '.')
        return -1;
    p++;
    for (int i = 0; p < end && i < 3; i++, p++) {
        if (*p < '0' || *p > '9')
            return -1;
        scale /= 10;
        q += (*p - '0') * scale;
    }
    if (p != end || q > 1000)
        return -1;
    return q;
}

static bool parse_media(const char *p, const char *end, media *m)
{
    const char *semi;
    m->version = m->version_end = NULL;
    m->q = 1000;
    semi = memchr(p, ';', (size_t)(end - p));
    m->type = p;
    m->type_end = semi ? semi : end;
    trim(&m->type, &m->type_end);
    if (m->type == m->type_end || memchr(m->type, '/', (size_t)(m->type_end - m->type)) == NULL)
        return false;
    while (semi != NULL) {
        const char *k = semi + 1, *kend, *v, *vend, *eq;
        semi = memchr(k, ';', (size_t)(end - k));
        vend = semi ? semi : end;
        eq = memchr(k, '=', (size_t)(vend - k));
        if (eq == NULL) {
            kend = vend;
            trim(&k, &kend);
            if (k == kend)
                continue; /* a stray ';' */
            return false;
        }
        kend = eq;
        v = eq + 1;
        trim(&k, &kend);
        trim(&v, &vend);
        if (vend - v >= 2 && *v == '"' && vend[-1] == '"') {
            v++;
            vend--;
        }
        if (span_eq(k, kend, "version")) {
            m->version = v;
            m->version_end = vend;
        } else if (span_eq(k, kend, "q")) {
            m->q = parse_q(v, vend);
            if (m->q < 0)
                return false;
        }
    }
    return true;
}

static bool version_ok(const media *m)
{
    return m->version == NULL || span_eq(m->version, m->version_end, "2.1");
}

bool taxii_accept_ok(const char *accept)
{
    const char *p = accept, *end;
    bool any_range = false;
    if (accept == NULL)
        return true;
    end = accept + strlen(accept);
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        const char *a = p, *b = item_end;
        media m;
        trim(&a, &b);
        p = comma ? comma + 1 : end;
        if (a == b)
            continue;
        any_range = true;
        if (!parse_media(a, b, &m) || m.q == 0)
            continue;
        if (span_eq(m.type, m.type_end, "*/*") || span_eq(m.type, m.type_end, "application/*"))
            return true;
        if (span_eq(m.type, m.type_end, "application/taxii+json") && version_ok(&m))
            return true;
    }
    return !any_range; /* an empty header asks for nothing in particular */
}

bool taxii_content_type_ok(const char *content_type)
{
    media m;
    const char *end;
    if (content_type == NULL)
        return false;
    end = content_type + strlen(content_type);
    if (!parse_media(content_type, end, &m))
        return false;
    return span_eq(m.type, m.type_end, "application/taxii+json") && version_ok(&m);
}

/* ---- percent-decoding ---- */

static int hexdig(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decode [s, s+len) into out (cap bytes, NUL-terminated). DT_EPARSE for a
 * bad escape or a NUL, DT_EINVALID when it does not fit. */
static dt_status pct_decode(const char *s, size_t len, char *out, size_t cap, size_t *out_len,
                            const char *where, dt_err *err)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi, lo;
            if (len - i < 3)
                return dt_fail(err, DT_EPARSE, where, "truncated percent-encoding");
            hi = hexdig((unsigned char)s[i + 1]);
            lo = hexdig((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return dt_fail(err, DT_EPARSE, where, "bad percent-encoding");
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0')
            return dt_fail(err, DT_EPARSE, where, "NUL byte");
        if (o + 1 >= cap)
            return dt_fail(err, DT_EINVALID, where, "longer than %zu bytes", cap - 1);
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return DT_OK;
}

dt_status taxii_percent_decode(const char *s, size_t len, char **out, dt_err *err)
{
    char *d = dt_malloc(len + 1);
    dt_status rc;
    *out = NULL;
    if (d == NULL)
        return dt_fail(err, DT_ENOMEM, "query", "out of memory");
    rc = pct_decode(s, len, d, len + 1, NULL, "query", err);
    if (rc != DT_OK) {
        dt_free(d);
        return rc;
    }
    *out = d;
    return DT_OK;
}

/* ---- routes ---- */

/* Collection ids: unreserved URL characters, not "." or "..". */
static bool collection_id_ok(const char *s, size_t len)
{
    if (len == 0 || (len <= 2 && strspn(s, ".") == len))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '~'))
            return false;
    }
    return true;
}

/* STIX ids: type--uuid, lower-case letters, digits and hyphens. */
static bool object_id_ok(const char *s, size_t len)
{
    const char *dd;
    if (len < 3 + 2 + 36 || len >= 160)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    dd = strstr(s, "--");
    return dd != NULL && dd != s && (size_t)(s + len - (dd + 2)) == 36;
}

#define SEG_MAX 8

dt_status taxii_route_parse(const char *path, size_t len, const char *api_root,
                            taxii_route *out, dt_err *err)
{
    char seg[SEG_MAX][160];
    size_t seg_len[SEG_MAX], n = 0, i = 0;
    dt_status rc;
    memset(out, 0, sizeof *out);
    if (len == 0 || path[0] != '/')
        return dt_fail(err, DT_ENOTFOUND, "path", "no such resource");
    i = 1;
    while (i < len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        /* An empty segment is only allowed as the trailing slash. */
        if (j == i && j < len)
            return dt_fail(err, DT_ENOTFOUND, "path", "no such resource");
        if (n == SEG_MAX)
            return dt_fail(err, DT_ENOTFOUND, "path", "no such resource");
        rc = pct_decode(path + i, j - i, seg[n], sizeof seg[n], &seg_len[n], "path", err);
        if (rc == DT_EINVALID) /* too long for any id */
            return dt_fail(err, DT_ENOTFOUND, "path", "no such resource");
        if (rc != DT_OK)
            return rc;
        n++;
        i = j + 1;
    }
    if (n >= 2 && strcmp(seg[0], "detente") == 0 && strcmp(seg[1], "v1") == 0) {
        size_t o = 0;
        if (n == 2)
            return dt_fail(err, DT_ENOTFOUND, "path", "no such resource");
        if (n == 3 && strcmp(seg[2], "health") == 0) {
            out->kind = TAXII_ROUTE_HEALTH;
            return DT_OK;
        }
        if (n == 3 && strcmp(seg[2], "metrics") == 0) {
            out->kind = TAXII_ROUTE_METRICS;
            return DT_OK;
        }
        /* The rest, decoded, for http/api.c. A decoded '/' would make a
         * segment of its own, so such a path names nothing. */
        for (size_t k = 2; k < n; k++) {
            if (memchr(seg[k], '/', seg_len[k]) != NULL || o + seg_len[k] + 2 > sizeof out->api_path)
                return dt_fail(err, DT_ENOTFOUND, "path", "no such resource");
            if (k > 2)
                out->api_path[o++] = '/';
            memcpy(out->api_path + o, seg[k], seg_len[k]);
            o += seg_len[k];
        }
        out->api_path[o] = '\0';
        out->kind = TAXII_ROUTE_API;
        return DT_OK;
    }
    if (n == 1 && strcmp(seg[0], "taxii2") == 0) {
        out->kind = TAXII_ROUTE_DISCOVERY;
        return DT_OK;
    }
    if (n == 0 || api_root == NULL || strcmp(seg[0], api_root) != 0)
        return dt_fail(err, DT_ENOTFOUND, "path", "no such resource");
    if (n == 1) {
        out->kind = TAXII_ROUTE_API_ROOT;
        return DT_OK;
    }
    if (strcmp(seg[1], "status") == 0) {
        dt_uuid u;
        if (n != 3 || !dt_uuid_parse(seg[2], seg_len[2], &u))
            return dt_fail(err, DT_ENOTFOUND, "path", "no such status");
        dt_uuid_format(&u, out->status_id);
        out->kind = TAXII_ROUTE_STATUS;
        return DT_OK;
    }
    if (strcmp(seg[1], "collections") != 0)
        return dt_fail(err, DT_ENOTFOUND, "path", "no such resource");
    if (n == 2) {
        out->kind = TAXII_ROUTE_COLLECTIONS;
        return DT_OK;
    }
    if (!collection_id_ok(seg[2], seg_len[2]) || seg_len[2] >= sizeof out->collection)
        return dt_fail(err, DT_ENOTFOUND, "path", "no such collection");
    memcpy(out->collection, seg[2], seg_len[2] + 1);
    if (n == 3) {
        out->kind = TAXII_ROUTE_COLLECTION;
        return DT_OK;
    }
    if (n == 4 && strcmp(seg[3], "manifest") == 0) {
        out->kind = TAXII_ROUTE_MANIFEST;
        return DT_OK;
    }
    if (strcmp(seg[3], "objects") != 0)
        return dt_fail(err, DT_ENOTFOUND, "path", "no such resource");
    if (n == 4) {
        out->kind = TAXII_ROUTE_OBJECTS;
        return DT_OK;
    }
    if (!object_id_ok(seg[4], seg_len[4]))
        return dt_fail(err, DT_ENOTFOUND, "path", "no such object");
    memcpy(out->object_id, seg[4], seg_len[4] + 1);
    if (n == 5) {
        out->kind = TAXII_ROUTE_OBJECT;
        return DT_OK;
    }
    if (n == 6 && strcmp(seg[5], "versions") == 0) {
        out->kind = TAXII_ROUTE_VERSIONS;
        return DT_OK;
    }
    return dt_fail(err, DT_ENOTFOUND, "path", "no such resource");
}

const char *taxii_route_methods(taxii_route_kind kind)
{
    switch (kind) {
    case TAXII_ROUTE_OBJECTS:
        return "GET, POST";
    case TAXII_ROUTE_OBJECT:
        return "GET, DELETE";
    case TAXII_ROUTE_NONE:
        return "";
    default:
        return "GET";
    }
}

bool taxii_route_allows(taxii_route_kind kind, const char *method)
{
    if (kind == TAXII_ROUTE_NONE)
        return false;
    if (kind == TAXII_ROUTE_API)
        return true; /* http/api.c's table knows its methods */
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return true;
    if (strcmp(method, "POST") == 0)
        return kind == TAXII_ROUTE_OBJECTS;
    if (strcmp(method, "DELETE") == 0)
        return kind == TAXII_ROUTE_OBJECT;
    return false;
}

/* ---- query parameters ---- */

unsigned taxii_route_params(taxii_route_kind kind)
{
    const unsigned paging = TAXII_P_ADDED_AFTER | TAXII_P_LIMIT | TAXII_P_NEXT;
    switch (kind) {
    case TAXII_ROUTE_OBJECTS:
    case TAXII_ROUTE_MANIFEST:
        return paging | TAXII_P_MATCH_ID | TAXII_P_MATCH_TYPE | TAXII_P_MATCH_VERSION |
               TAXII_P_MATCH_SPEC_VERSION;
    case TAXII_ROUTE_OBJECT:
        return paging | TAXII_P_MATCH_VERSION | TAXII_P_MATCH_SPEC_VERSION;
    case TAXII_ROUTE_VERSIONS:
        return paging | TAXII_P_MATCH_SPEC_VERSION;
    default:
        return 0;
    }
}

void taxii_params_init(taxii_params *p, unsigned allowed)
{
    memset(p, 0, sizeof *p);
    p->allowed = allowed;
}

static void free_list(char **v, size_t count)
{
    for (size_t i = 0; i < count; i++)
        dt_free(v[i]);
    dt_free(v);
}

void taxii_params_release(taxii_params *p)
{
    free_list(p->ids, p->id_count);
    free_list(p->types, p->type_count);
    free_list(p->spec_versions, p->spec_version_count);
    free_list(p->at, p->at_count);
    taxii_params_init(p, p->allowed);
}

static dt_status list_push(char ***v, size_t *count, const char *s, size_t len, const char *where,
                           dt_err *err)
{
    char **nv;
    char *copy;
    if (*count >= TAXII_LIST_MAX)
        return dt_fail(err, DT_EINVALID, where, "more than %d values", TAXII_LIST_MAX);
    copy = dt_strndup(s, len);
    if (copy == NULL)
        return dt_fail(err, DT_ENOMEM, where, "out of memory");
    nv = dt_realloc(*v, (*count + 1) * sizeof *nv);
    if (nv == NULL) {
        dt_free(copy);
        return dt_fail(err, DT_ENOMEM, where, "out of memory");
    }
    nv[(*count)++] = copy;
    *v = nv;
    return DT_OK;
}

static bool type_ok(const char *s, size_t len)
{
    if (len < 3 || len > 250)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

static bool spec_version_ok(const char *s, size_t len)
{
    size_t dots = 0;
    if (len == 0 || len > 8 || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.')
            dots++;
        else if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return dots == 1;
}

static dt_status parse_timestamp_us(const char *s, size_t len, const char *where, dt_time *t,
                                    dt_err *err)
{
    dt_err e = {0};
    if (dt_time_parse(s, len, t, &e) != DT_OK)
        return dt_fail(err, DT_EINVALID, where, "not a timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z)");
    return DT_OK;
}

/* One item of a comma-separated match[] list. */
static dt_status match_item(taxii_params *p, unsigned which, const char *s, size_t len,
                            const char *where, dt_err *err)
{
    if (len == 0)
        return dt_fail(err, DT_EINVALID, where, "empty value in the list");
    switch (which) {
    case TAXII_P_MATCH_ID:
        if (!object_id_ok(s, len))
            return dt_fail(err, DT_EINVALID, where, "not a STIX id (type--uuid)");
        return list_push(&p->ids, &p->id_count, s, len, where, err);
    case TAXII_P_MATCH_TYPE:
        if (!type_ok(s, len))
            return dt_fail(err, DT_EINVALID, where, "not a STIX type name");
        return list_push(&p->types, &p->type_count, s, len, where, err);
    case TAXII_P_MATCH_SPEC_VERSION:
        if (!spec_version_ok(s, len))
            return dt_fail(err, DT_EINVALID, where, "not a spec version such as 2.1");
        return list_push(&p->spec_versions, &p->spec_version_count, s, len, where, err);
    default: { /* TAXII_P_MATCH_VERSION */
        dt_time t;
        char canon[DT_TIME_LEN];
        dt_status rc;
        if (len == 5 && memcmp(s, "first", 5) == 0) {
            p->versions |= STORE_VER_FIRST;
            return DT_OK;
        }
        if (len == 4 && memcmp(s, "last", 4) == 0) {
            p->versions |= STORE_VER_LAST;
            return DT_OK;
        }
        if (len == 3 && memcmp(s, "all", 3) == 0) {
            p->versions |= STORE_VER_ALL;
            return DT_OK;
        }
        rc = parse_timestamp_us(s, len, where, &t, err);
        if (rc != DT_OK)
            return dt_fail(err, DT_EINVALID, where, "not first, last, all or a timestamp");
        dt_time_format(&t, 9, canon);
        p->versions |= STORE_VER_AT;
        return list_push(&p->at, &p->at_count, canon, strlen(canon), where, err);
    }
    }
}

#define KEY_MAX 64
#define VALUE_MAX 8192

dt_status taxii_params_add(taxii_params *p, const char *key, size_t key_len, const char *value,
                           size_t value_len, dt_err *err)
{
    char k[KEY_MAX];
    char *v = NULL;
    size_t vlen = 0;
    unsigned which = 0;
    dt_status rc;
    rc = pct_decode(key, key_len, k, sizeof k, NULL, "query", err);
    if (rc == DT_EINVALID) {
        if (err)
            dt_err_clear(err);
        return DT_OK; /* longer than any name we know: unknown, ignored */
    }
    if (rc != DT_OK)
        return rc;
    if (strcmp(k, "added_after") == 0)
        which = TAXII_P_ADDED_AFTER;
    else if (strcmp(k, "limit") == 0)
        which = TAXII_P_LIMIT;
    else if (strcmp(k, "next") == 0)
        which = TAXII_P_NEXT;
    else if (strcmp(k, "match[id]") == 0)
        which = TAXII_P_MATCH_ID;
    else if (strcmp(k, "match[type]") == 0)
        which = TAXII_P_MATCH_TYPE;
    else if (strcmp(k, "match[version]") == 0)
        which = TAXII_P_MATCH_VERSION;
    else if (strcmp(k, "match[spec_version]") == 0)
        which = TAXII_P_MATCH_SPEC_VERSION;
    else if (strncmp(k, "match[", 6) == 0 && (p->allowed & TAXII_P_MATCH_ID))
        return dt_fail(err, DT_EINVALID, k, "unsupported filter");
    if (which == 0 || (p->allowed & which) == 0)
        return DT_OK;
    if (value == NULL)
        value_len = 0;
    if (value_len > VALUE_MAX * 3)
        return dt_fail(err, DT_EINVALID, k, "value too long");
    v = dt_malloc(value_len + 1);
    if (v == NULL)
        return dt_fail(err, DT_ENOMEM, k, "out of memory");
    rc = pct_decode(value ? value : "", value_len, v, value_len + 1, &vlen, k, err);
    if (rc != DT_OK)
        goto out;
    if ((which & (TAXII_P_ADDED_AFTER | TAXII_P_LIMIT | TAXII_P_NEXT)) && (p->given & which)) {
        rc = dt_fail(err, DT_EINVALID, k, "given more than once");
        goto out;
    }
    p->given |= which;
    if (which == TAXII_P_ADDED_AFTER) {
        dt_time t;
        rc = parse_timestamp_us(v, vlen, k, &t, err);
        if (rc == DT_OK)
            p->added_after = dt_time_to_us(&t);
        if (rc == DT_OK && p->added_after < 0)
            p->added_after = 0;
    } else if (which == TAXII_P_LIMIT) {
        size_t n = 0;
        if (vlen == 0 || vlen > 9) {
            rc = dt_fail(err, DT_EINVALID, k, "not a positive integer");
            goto out;
        }
        for (size_t i = 0; i < vlen; i++) {
            if (v[i] < '0' || v[i] > '9') {
                rc = dt_fail(err, DT_EINVALID, k, "not a positive integer");
                goto out;
            }
            n = n * 10 + (size_t)(v[i] - '0');
        }
        if (n == 0)
            rc = dt_fail(err, DT_EINVALID, k, "not a positive integer");
        p->limit = n;
    } else if (which == TAXII_P_NEXT) {
        rc = taxii_next_decode(v, vlen, &p->next_date_added, &p->next_rowid, err);
    } else {
        size_t i = 0;
        while (rc == DT_OK) {
            size_t j = i;
            while (j < vlen && v[j] != ',')
                j++;
            rc = match_item(p, which, v + i, j - i, k, err);
            if (j >= vlen)
                break;
            i = j + 1;
        }
    }
out:
    dt_free(v);
    return rc;
}

dt_status taxii_params_parse_query(taxii_params *p, const char *query, size_t len, dt_err *err)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i, eq;
        dt_status rc;
        while (j < len && query[j] != '&')
            j++;
        eq = i;
        while (eq < j && query[eq] != '=')
            eq++;
        if (j > i) {
            if (eq < j)
                rc = taxii_params_add(p, query + i, eq - i, query + eq + 1, j - eq - 1, err);
            else
                rc = taxii_params_add(p, query + i, j - i, NULL, 0, err);
            if (rc != DT_OK)
                return rc;
        }
        i = j + 1;
    }
    return DT_OK;
}

void taxii_params_to_query(const taxii_params *p, const char *collection, size_t page_default,
                           size_t page_max, store_query *q)
{
    memset(q, 0, sizeof *q);
    q->collection = collection;
    q->ids = (const char *const *)p->ids;
    q->id_count = p->id_count;
    q->types = (const char *const *)p->types;
    q->type_count = p->type_count;
    q->spec_versions = (const char *const *)p->spec_versions;
    q->spec_version_count = p->spec_version_count;
    q->versions = p->versions ? p->versions : STORE_VER_LAST;
    q->at = (const char *const *)p->at;
    q->at_count = p->at_count;
    q->added_after = p->added_after;
    if (p->given & TAXII_P_NEXT) {
        q->after_date_added = p->next_date_added;
        q->after_rowid = p->next_rowid;
    }
    if (page_max == 0 || page_max > STORE_MAX_PAGE)
        page_max = STORE_MAX_PAGE;
    if (page_default == 0 || page_default > page_max)
        page_default = page_max;
    q->limit = p->limit ? p->limit : page_default;
    if (q->limit > page_max)
        q->limit = page_max;
    q->max_marking = -1;
    q->with_json = true;
}
