/* stix/validate: STIX 2.1 validation of one object (or a bundle).
 *
 * Table-driven: each type lists its properties with a kind (string,
 * timestamp, reference to given types, closed enum, hashes, ...) and
 * whether it is required; a short function per type then checks the rules
 * that tie properties together (valid_until after valid_from, exactly one
 * of objects/object_refs, ...). Common properties are checked first, then
 * the type's table, then every remaining property as a custom property
 * (name 3-250 chars of [a-z0-9_], values of *_bin and *_hex names checked).
 * The OASIS JSON schemas (cti-stix2-json-schemas) were the reference for
 * which properties are required and their JSON types; the specification
 * (STIX 2.1, OASIS Standard 2021-06-10) for the rest: id prefix and UUID
 * form (2.9), timestamps with millisecond precision for created/modified
 * (3.2), modified >= created, confidence 0-100, external references
 * (2.5), granular marking selectors that must resolve within the object
 * (7.2.3), extensions (7.3), hashes per algorithm (2.7, 10.6).
 *
 * Open vocabularies accept any string (no warnings: they are open by
 * design); enumerations reject values outside the list. Patterns are not
 * parsed here: pattern/ does that and ingest calls it; we only bound the
 * pattern's length.
 *
 * spec_version: STIX 2.1 requires it on SDOs, SROs and SMOs and it must be
 * "2.1". Content from STIX 2.0 producers lacks it; lim->assume_spec_version
 * reads a missing one as "2.1" (a lenient mode for imports), off by default.
 * On SCOs it is optional (section 3.1, default "2.1"). */
#include "stix/stix.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum ptype {
    T_STR, T_BOOL, T_INT, T_NUM, T_TS, T_STRS, T_REF, T_REFS, T_ENUM, T_ENUMS, T_HASHES, T_KCP,
    T_DICT, T_BIN, T_HEX, T_URL, T_OBJ, T_OBJS, T_IPV4, T_IPV6, T_MAC, T_EXTREFS, T_GRAN, T_EXT,
    T_STRS0,
};
#define REQ 1u
#define RANGE 2u

typedef struct pdef {
    const char *name;
    enum ptype t;
    unsigned flags;
    const char *arg; /* REF: allowed types; ENUM: values; both '|'-separated */
    double min, max;
} pdef;

typedef struct vctx {
    const stix_limits *lim;
    dt_err *err;
    const json_t *obj;
    const char *type;
    bool embedded; /* an observed-data "objects" entry: refs are local keys */
} vctx;

static dt_status bad(vctx *v, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static dt_status bad(vctx *v, const char *path, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return dt_fail(v->err, DT_EINVALID, path, "%s", msg);
}

static void pjoin(char *out, size_t cap, const char *base, const char *key)
{
    if (base[0] == '\0')
        snprintf(out, cap, "%s", key);
    else
        snprintf(out, cap, "%s.%s", base, key);
}

static void pindex(char *out, size_t cap, const char *base, size_t i)
{
    snprintf(out, cap, "%s[%zu]", base, i);
}

/* ---- small syntaxes ---------------------------------------------------- */

static bool in_bar_list(const char *list, const char *s, size_t slen)
{
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, '|');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == slen && memcmp(p, s, n) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

/* Type names: 3-250 of [a-z0-9-], starting with a letter, no "--", not
 * ending in '-' (the id separator would become ambiguous). */
static bool type_name_ok(const char *s, size_t n)
{
    if (n < 3 || n > 250 || !(s[0] >= 'a' && s[0] <= 'z') || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
        if (c == '-' && i > 0 && s[i - 1] == '-')
            return false;
    }
    return true;
}

static bool uuid_ok(const char *s, size_t n)
{
    dt_uuid u;
    if (!dt_uuid_parse(s, n, &u) || !dt_uuid_is_rfc4122(&u))
        return false;
    int ver = dt_uuid_version(&u);
    return ver >= 1 && ver <= 5;
}

/* "<type>--<uuid>": on success *tlen is the type's length. */
static bool identifier_ok(const char *s, size_t *tlen)
{
    const char *sep = strstr(s, "--");
    if (sep == NULL)
        return false;
    size_t n = (size_t)(sep - s);
    if (!type_name_ok(s, n) || !uuid_ok(sep + 2, strlen(sep + 2)))
        return false;
    *tlen = n;
    return true;
}

static bool ref_type_ok(const char *type, size_t n, const char *allowed)
{
    bool neg = false, hit = false;
    char t[256];
    if (allowed == NULL)
        return true;
    if (allowed[0] == '!') {
        neg = true;
        allowed++;
    }
    snprintf(t, sizeof t, "%.*s", (int)n, type);
    stix_kind k = stix_type_kind(t);
    if (in_bar_list(allowed, type, n))
        hit = true;
    else if (k == STIX_KIND_SDO && in_bar_list(allowed, "SDO", 3))
        hit = true;
    else if (k == STIX_KIND_SCO && in_bar_list(allowed, "SCO", 3))
        hit = true;
    return neg ? !hit : hit;
}

static bool hex_ok(const char *s, size_t n, bool even)
{
    if (n == 0 || (even && n % 2 != 0))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

static bool base64_ok(const char *s, size_t n)
{
    if (n == 0 || n % 4 != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '+' || c == '/';
        if (c == '=') {
            /* padding: only the last one or two characters */
            if (i < n - 2 || (i == n - 2 && s[n - 1] != '='))
                return false;
        } else if (!alpha)
            return false;
    }
    return true;
}

/* Dotted quad, each part 0-255 without leading zeros, optional /0-32. */
static bool ipv4_ok(const char *s)
{
    int parts = 0;
    const char *p = s;
    for (;;) {
        int val = 0, digits = 0;
        const char *start = p;
        while (*p >= '0' && *p <= '9') {
            val = val * 10 + (*p - '0');
            if (++digits > 3)
                return false;
            p++;
        }
        if (digits == 0 || val > 255 || (digits > 1 && *start == '0'))
            return false;
        if (++parts == 4)
            break;
        if (*p++ != '.')
            return false;
    }
    if (*p == '\0')
        return true;
    if (*p++ != '/')
        return false;
    int pfx = 0, d = 0;
    while (*p >= '0' && *p <= '9') {
        pfx = pfx * 10 + (*p++ - '0');
        if (++d > 2)
            return false;
    }
    return d > 0 && *p == '\0' && pfx <= 32 && !(d == 2 && p[-2] == '0');
}

/* RFC 4291 text forms (with "::" and an embedded IPv4 tail), optional
 * zone ("%eth0") and /0-128. */
static bool ipv6_ok(const char *s)
{
    char buf[128];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (slash) {
        const char *p = slash + 1;
        int pfx = 0, d = 0;
        while (*p >= '0' && *p <= '9') {
            pfx = pfx * 10 + (*p++ - '0');
            if (++d > 3)
                return false;
        }
        if (d == 0 || *p != '\0' || pfx > 128 || (d > 1 && slash[1] == '0'))
            return false;
    }
    char *zone = strchr(buf, '%');
    if (zone) {
        if (zone[1] == '\0')
            return false;
        *zone = '\0';
    }
    int groups = 0;
    bool dbl = false;
    const char *p = buf;
    if (p[0] == ':') {
        if (p[1] != ':')
            return false;
        dbl = true;
        p += 2;
        if (*p == '\0')
            return true;
    }
    for (;;) {
        const char *st = p;
        int hx = 0;
        while (hex_ok(p, 1, false) && hx < 5)
            p++, hx++;
        if (*p == '.') {
            /* IPv4 tail: counts as two groups, must end the address */
            if (!ipv4_ok(st) || strchr(st, '/') != NULL)
                return false;
            groups += 2;
            break;
        }
        if (hx == 0 || hx > 4)
            return false;
        groups++;
        if (*p == '\0')
            break;
        if (*p != ':')
            return false;
        p++;
        if (*p == ':') {
            if (dbl)
                return false;
            dbl = true;
            p++;
            if (*p == '\0')
                break;
        } else if (*p == '\0')
            return false;
    }
    return dbl ? groups <= 7 : groups == 8;
}

static bool mac_ok(const char *s)
{
    if (strlen(s) != 17)
        return false;
    for (int i = 0; i < 17; i++) {
        char c = s[i];
        if (i % 3 == 2) {
            if (c != ':')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

/* RFC 3986 scheme ":" rest; enough to catch values that are not URLs. */
static bool url_ok(const char *s)
{
    size_t i = 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    while (s[i] && s[i] != ':') {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.'))
            return false;
        i++;
    }
    if (s[i] != ':' || s[i + 1] == '\0')
        return false;
    for (; s[i]; i++)
        if ((unsigned char)s[i] <= 0x20)
            return false;
    return true;
}

/* ---- property kinds ---------------------------------------------------- */

static dt_status check_ts(vctx *v, const char *path, const json_t *x, dt_time *out)
{
    dt_time t;
    dt_err e = {0};
    if (!json_is_string(x))
        return bad(v, path, "must be a timestamp string");
    if (dt_time_parse(json_string_value(x), json_string_length(x), &t, &e) != DT_OK)
        return bad(v, path, "%s", e.msg);
    if (out)
        *out = t;
    return DT_OK;
}

static dt_status check_ref(vctx *v, const char *path, const json_t *x, const char *allowed)
{
    size_t tl;
    if (!json_is_string(x))
        return bad(v, path, "must be an identifier string");
    if (v->embedded)
        return DT_OK;
    const char *s = json_string_value(x);
    if (!identifier_ok(s, &tl))
        return bad(v, path, "not an identifier of the form type--UUID (RFC 4122): \"%.60s\"", s);
    if (!ref_type_ok(s, tl, allowed)) {
        if (allowed[0] == '!')
            return bad(v, path, "may not refer to a %.*s (excluded: %s)", (int)tl, s, allowed + 1);
        return bad(v, path, "must refer to a %s, not a %.*s", allowed, (int)tl, s);
    }
    return DT_OK;
}

static const struct {
    const char *name;
    size_t len; /* hex digits; 0: other syntax */
} hash_algos[] = {
    {"MD5", 32}, {"SHA-1", 40}, {"SHA-256", 64}, {"SHA-512", 128},
    {"SHA3-256", 64}, {"SHA3-512", 128}, {"SSDEEP", 0}, {"TLSH", 0},
};

static dt_status check_hashes(vctx *v, const char *path, const json_t *x, bool only_known)
{
    const char *k;
    json_t *h;
    char p[160];
    if (!json_is_object(x) || json_object_size(x) == 0)
        return bad(v, path, "hashes must be a non-empty dictionary of algorithm to value");
    json_object_foreach((json_t *)x, k, h) {
        size_t i, n = sizeof hash_algos / sizeof hash_algos[0];
        pjoin(p, sizeof p, path, k);
        if (!json_is_string(h))
            return bad(v, p, "a hash value must be a string");
        const char *s = json_string_value(h);
        size_t sl = json_string_length(h);
        for (i = 0; i < n; i++)
            if (strcmp(hash_algos[i].name, k) == 0)
                break;
        if (i == n) {
            size_t kl = strlen(k);
            if (only_known)
                return bad(v, p, "not a hash algorithm external references accept (MD5, SHA-1, "
                                 "SHA-256, SHA-512, SHA3-256, SHA3-512, SSDEEP, TLSH)");
            if (kl < 3 || kl > 250 || strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
                                                "WXYZ0123456789_-") != kl)
                return bad(v, p, "custom hash names are 3-250 characters of letters, digits, "
                                 "'_' and '-'");
            continue;
        }
        if (hash_algos[i].len != 0) {
            if (sl != hash_algos[i].len || !hex_ok(s, sl, false))
                return bad(v, p, "a %s hash is %zu hex digits", k, hash_algos[i].len);
        } else if (strcmp(k, "SSDEEP") == 0) {
            if (sl < 1 || sl > 128 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
                                                "WXYZ0123456789/+:.") != sl)
                return bad(v, p, "not an SSDEEP hash");
        } else { /* TLSH: 70 hex digits, or "T1" and 70 in the newer form */
            bool ok = (sl == 70 && hex_ok(s, sl, false)) ||
                      (sl == 72 && s[0] == 'T' && s[1] == '1' && hex_ok(s + 2, 70, false));
            if (!ok)
                return bad(v, p, "not a TLSH hash (70 hex digits)");
        }
    }
    return DT_OK;
}

static dt_status check_extrefs(vctx *v, const char *path, const json_t *x)
{
    size_t i;
    json_t *r;
    char p[128], q[160];
    if (!json_is_array(x) || json_array_size(x) == 0)
        return bad(v, path, "must be a non-empty list of external references");
    json_array_foreach(x, i, r) {
        pindex(p, sizeof p, path, i);
        if (!json_is_object(r))
            return bad(v, p, "an external reference must be an object");
        const char *src = stix_str(r, "source_name");
        const json_t *eid = json_object_get(r, "external_id");
        pjoin(q, sizeof q, p, "source_name");
        if (src == NULL)
            return bad(v, q, "an external reference needs a source_name string");
        static const char *const sprops[] = {"description", "url", "external_id"};
        for (int j = 0; j < 3; j++) {
            const json_t *sv = json_object_get(r, sprops[j]);
            pjoin(q, sizeof q, p, sprops[j]);
            if (sv && !json_is_string(sv))
                return bad(v, q, "must be a string");
        }
        if (!json_object_get(r, "description") && !json_object_get(r, "url") && !eid) {
            pjoin(q, sizeof q, p, "source_name");
            return bad(v, p, "an external reference needs at least one of description, url, "
                             "external_id besides source_name");
        }
        const char *url = stix_str(r, "url");
        pjoin(q, sizeof q, p, "url");
        if (url && !url_ok(url))
            return bad(v, q, "not a URL");
        pjoin(q, sizeof q, p, "external_id");
        const char *id = eid ? json_string_value(eid) : NULL;
        if (strcmp(src, "cve") == 0) {
            /* CVE-YYYY-NNNN with 4+ digits, no leading zero beyond four */
            size_t n = id ? strlen(id) : 0, d;
            bool ok = id && n >= 13 && strncmp(id, "CVE-", 4) == 0 && strspn(id + 4, "0123456789") == 4 &&
                      id[8] == '-' && (d = strspn(id + 9, "0123456789")) == n - 9 &&
                      (d == 4 || (d > 4 && id[9] != '0'));
            if (!ok)
                return bad(v, q, "a cve reference needs an external_id like CVE-2021-44228");
        } else if (strcmp(src, "capec") == 0) {
            bool ok = id && strncmp(id, "CAPEC-", 6) == 0 && id[6] &&
                      strspn(id + 6, "0123456789") == strlen(id + 6);
            if (!ok)
                return bad(v, q, "a capec reference needs an external_id like CAPEC-163");
        }
        const json_t *h = json_object_get(r, "hashes");
        pjoin(q, sizeof q, p, "hashes");
        if (h) {
            dt_status rc = check_hashes(v, q, h, true);
            if (rc != DT_OK)
                return rc;
        }
    }
    return DT_OK;
}

/* A granular marking selector ("description", "kill_chain_phases.[0].phase_name")
 * must name something present in the object (section 7.2.3.1). */
static bool selector_resolves(const json_t *obj, const char *sel)
{
    const json_t *cur = obj;
    const char *p = sel;
    if (*p == '\0')
        return false;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n == 0)
            return false;
        if (p[0] == '[') {
            if (n < 3 || p[n - 1] != ']' || !json_is_array(cur))
                return false;
            size_t idx = 0;
            for (size_t i = 1; i < n - 1; i++) {
                if (p[i] < '0' || p[i] > '9' || idx > 100000000)
                    return false;
                idx = idx * 10 + (size_t)(p[i] - '0');
            }
            cur = json_array_get(cur, idx);
        } else {
            char key[256];
            if (n >= sizeof key || !json_is_object(cur))
                return false;
            memcpy(key, p, n);
            key[n] = '\0';
            cur = json_object_get(cur, key);
        }
        if (cur == NULL)
            return false;
        p = dot ? dot + 1 : p + n;
        if (dot && *p == '\0')
            return false;
    }
    return true;
}

static dt_status check_gran(vctx *v, const char *path, const json_t *x)
{
    size_t i, j;
    json_t *g, *s;
    char p[128], q[160], r[200];
    if (!json_is_array(x) || json_array_size(x) == 0)
        return bad(v, path, "must be a non-empty list of granular markings");
    json_array_foreach(x, i, g) {
        pindex(p, sizeof p, path, i);
        if (!json_is_object(g))
            return bad(v, p, "a granular marking must be an object");
        const json_t *mref = json_object_get(g, "marking_ref"), *lang = json_object_get(g, "lang");
        if ((mref != NULL) == (lang != NULL))
            return bad(v, p, "a granular marking has exactly one of marking_ref and lang");
        if (mref) {
            pjoin(q, sizeof q, p, "marking_ref");
            dt_status rc = check_ref(v, q, mref, "marking-definition");
            if (rc != DT_OK)
                return rc;
        } else if (!json_is_string(lang)) {
            pjoin(q, sizeof q, p, "lang");
            return bad(v, q, "must be a language tag string");
        }
        const json_t *sels = json_object_get(g, "selectors");
        pjoin(q, sizeof q, p, "selectors");
        if (!json_is_array(sels) || json_array_size(sels) == 0)
            return bad(v, q, "a granular marking needs a non-empty list of selectors");
        json_array_foreach(sels, j, s) {
            pindex(r, sizeof r, q, j);
            if (!json_is_string(s))
                return bad(v, r, "a selector must be a string");
            if (!selector_resolves(v->obj, json_string_value(s)))
                return bad(v, r, "selector \"%.60s\" names nothing in this object",
                           json_string_value(s));
        }
    }
    return DT_OK;
}

static dt_status check_kcp(vctx *v, const char *path, const json_t *x)
{
    size_t i;
    json_t *k;
    char p[128];
    if (!json_is_array(x) || json_array_size(x) == 0)
        return bad(v, path, "must be a non-empty list of kill chain phases");
    json_array_foreach(x, i, k) {
        pindex(p, sizeof p, path, i);
        if (!json_is_object(k) || !stix_str(k, "kill_chain_name") || !stix_str(k, "phase_name"))
            return bad(v, p, "a kill chain phase needs kill_chain_name and phase_name strings");
    }
    return DT_OK;
}

static dt_status check_ext(vctx *v, const char *path, const json_t *x);

static dt_status check_value(vctx *v, const char *path, const json_t *x, const pdef *d)
{
    char p[160];
    switch (d->t) {
    case T_STR:
        if (!json_is_string(x))
            return bad(v, path, "must be a string");
        return DT_OK;
    case T_BOOL:
        if (!json_is_boolean(x))
            return bad(v, path, "must be true or false");
        return DT_OK;
    case T_INT:
        if (!json_is_integer(x))
            return bad(v, path, "must be an integer");
        if ((d->flags & RANGE) &&
            ((double)json_integer_value(x) < d->min || (double)json_integer_value(x) > d->max))
            return bad(v, path, "must be between %.0f and %.0f", d->min, d->max);
        return DT_OK;
    case T_NUM:
        if (!json_is_number(x))
            return bad(v, path, "must be a number");
        if ((d->flags & RANGE) && (json_number_value(x) < d->min || json_number_value(x) > d->max))
            return bad(v, path, "must be between %g and %g", d->min, d->max);
        return DT_OK;
    case T_TS:
        return check_ts(v, path, x, NULL);
    case T_STRS:
    case T_STRS0:
    case T_REFS:
    case T_ENUMS:
    case T_OBJS: {
        size_t i;
        json_t *m;
        if (!json_is_array(x))
            return bad(v, path, "must be a list");
        if (json_array_size(x) == 0 && d->t != T_STRS0)
            return bad(v, path, "a list may not be empty");
        json_array_foreach(x, i, m) {
            pdef one = *d;
            one.t = d->t == T_REFS ? T_REF : d->t == T_ENUMS ? T_ENUM : d->t == T_OBJS ? T_OBJ
                                                                                      : T_STR;
            pindex(p, sizeof p, path, i);
            dt_status rc = check_value(v, p, m, &one);
            if (rc != DT_OK)
                return rc;
        }
        return DT_OK;
    }
    case T_REF:
        return check_ref(v, path, x, d->arg);
    case T_ENUM:
        if (!json_is_string(x))
            return bad(v, path, "must be a string");
        if (!in_bar_list(d->arg, json_string_value(x), json_string_length(x)))
            return bad(v, path, "\"%.40s\" is not one of: %s", json_string_value(x), d->arg);
        return DT_OK;
    case T_HASHES:
        return check_hashes(v, path, x, false);
    case T_KCP:
        return check_kcp(v, path, x);
    case T_DICT:
        if (!json_is_object(x) || json_object_size(x) == 0)
            return bad(v, path, "must be a non-empty dictionary");
        return DT_OK;
    case T_OBJ:
        if (!json_is_object(x))
            return bad(v, path, "must be an object");
        return DT_OK;
    case T_BIN:
        if (!json_is_string(x) || !base64_ok(json_string_value(x), json_string_length(x)))
            return bad(v, path, "must be base64 (RFC 4648, padded)");
        return DT_OK;
    case T_HEX:
        if (!json_is_string(x) || !hex_ok(json_string_value(x), json_string_length(x), true))
            return bad(v, path, "must be an even number of hex digits");
        return DT_OK;
    case T_URL:
        if (!json_is_string(x) || !url_ok(json_string_value(x)))
            return bad(v, path, "not a URL (scheme:rest)");
        return DT_OK;
    case T_IPV4:
        if (!json_is_string(x) || !ipv4_ok(json_string_value(x)))
            return bad(v, path, "not an IPv4 address or CIDR block");
        return DT_OK;
    case T_IPV6:
        if (!json_is_string(x) || !ipv6_ok(json_string_value(x)))
            return bad(v, path, "not an IPv6 address or CIDR block");
        return DT_OK;
    case T_MAC:
        if (!json_is_string(x) || !mac_ok(json_string_value(x)))
            return bad(v, path, "not a MAC address (six colon-separated lower-case hex pairs)");
        return DT_OK;
    case T_EXTREFS:
        return check_extrefs(v, path, x);
    case T_GRAN:
        return check_gran(v, path, x);
    case T_EXT:
        return check_ext(v, path, x);
    }
    return DT_OK;
}

/* Check the properties of `obj` listed in table (NULL-terminated), with
 * paths under base. Missing required ones fail. */
static dt_status check_table(vctx *v, const json_t *obj, const char *base, const pdef *table)
{
    char p[160];
    for (const pdef *d = table; d->name != NULL; d++) {
        const json_t *x = json_object_get(obj, d->name);
        pjoin(p, sizeof p, base, d->name);
        if (x == NULL) {
            if (d->flags & REQ)
                return bad(v, p, "required property %s is missing", d->name);
            continue;
        }
        dt_status rc = check_value(v, p, x, d);
        if (rc != DT_OK)
            return rc;
    }
    return DT_OK;
}

static bool in_table(const pdef *table, const char *name)
{
    for (const pdef *d = table; d && d->name != NULL; d++)
        if (strcmp(d->name, name) == 0)
            return true;
    return false;
}

#define END {NULL, T_STR, 0, NULL, 0, 0}
#define S(n) {n, T_STR, 0, NULL, 0, 0}
#define SR(n) {n, T_STR, REQ, NULL, 0, 0}
#define B(n) {n, T_BOOL, 0, NULL, 0, 0}
#define TS(n) {n, T_TS, 0, NULL, 0, 0}
#define TSR(n) {n, T_TS, REQ, NULL, 0, 0}
#define L(n) {n, T_STRS, 0, NULL, 0, 0}
#define R(n, t) {n, T_REF, 0, t, 0, 0}
#define RR(n, t) {n, T_REF, REQ, t, 0, 0}
#define RL(n, t) {n, T_REFS, 0, t, 0, 0}
#define RLR(n, t) {n, T_REFS, REQ, t, 0, 0}
#define I(n) {n, T_INT, 0, NULL, 0, 0}
#define IR(n, lo, hi) {n, T_INT, RANGE, NULL, lo, hi}
#define K(n) {n, T_KCP, 0, NULL, 0, 0}
#define H(n) {n, T_HASHES, 0, NULL, 0, 0}
#define D(n) {n, T_DICT, 0, NULL, 0, 0}
#define E(n, vals) {n, T_ENUM, 0, vals, 0, 0}

#define NOT_META "!relationship|sighting|bundle|marking-definition|language-content"
#define IP_REFS "ipv4-addr|ipv6-addr|mac-addr|domain-name"

/* ---- extensions ---------------------------------------------------------- */

static const pdef X_NTFS[] = {S("sid"), {"alternate_data_streams", T_OBJS, 0, NULL, 0, 0}, END};
static const pdef X_RASTER[] = {I("image_height"), I("image_width"), I("bits_per_pixel"),
                                S("image_compression_algorithm"), D("exif_tags"), END};
static const pdef X_PDF[] = {S("version"), B("is_optimized"), D("document_info_dict"), S("pdfid0"),
                             S("pdfid1"), END};
static const pdef X_ARCHIVE[] = {RLR("contains_refs", "SCO"), S("comment"), END};
static const pdef X_PE[] = {SR("pe_type"), S("imphash"), {"machine_hex", T_HEX, 0, NULL, 0, 0},
                            IR("number_of_sections", 0, 4294967295.0),
                            TS("time_date_stamp"), IR("number_of_symbols", 0, 4294967295.0),
                            IR("size_of_optional_header", 0, 4294967295.0),
                            H("file_header_hashes"), {"optional_header", T_OBJ, 0, NULL, 0, 0},
                            {"sections", T_OBJS, 0, NULL, 0, 0}, END};
static const pdef X_HTTP[] = {SR("request_method"), SR("request_value"), S("request_version"),
                              D("request_header"), IR("message_body_length", 0, 9.2e18),
                              R("message_body_data_ref", "artifact"), END};
static const pdef X_ICMP[] = {{"icmp_type_hex", T_HEX, REQ, NULL, 0, 0},
                              {"icmp_code_hex", T_HEX, REQ, NULL, 0, 0}, END};
static const pdef X_SOCKET[] = {
    {"address_family", T_ENUM, REQ, "AF_UNSPEC|AF_INET|AF_IPX|AF_APPLETALK|AF_NETBIOS|AF_INET6|"
                                    "AF_IRDA|AF_BTH", 0, 0},
    B("is_blocking"), B("is_listening"), D("options"),
    E("socket_type", "SOCK_STREAM|SOCK_DGRAM|SOCK_RAW|SOCK_RDM|SOCK_SEQPACKET"),
    I("socket_descriptor"), I("socket_handle"), END};
static const pdef X_TCP[] = {{"src_flags_hex", T_HEX, 0, NULL, 0, 0},
                             {"dst_flags_hex", T_HEX, 0, NULL, 0, 0}, END};
static const pdef X_WINPROC[] = {B("aslr_enabled"), B("dep_enabled"), S("priority"), S("owner_sid"),
                                 S("window_title"), D("startup_info"),
                                 E("integrity_level", "low|medium|high|system"), END};
static const pdef X_WINSVC[] = {S("service_name"), L("descriptions"), S("display_name"),
                                S("group_name"), E("start_type", "SERVICE_AUTO_START|SERVICE_BOOT_START|"
                                                  "SERVICE_DEMAND_START|SERVICE_DISABLED|"
                                                  "SERVICE_SYSTEM_ALERT"),
                                RL("service_dll_refs", "file"),
                                E("service_type", "SERVICE_KERNEL_DRIVER|SERVICE_FILE_SYSTEM_DRIVER|"
                                                  "SERVICE_WIN32_OWN_PROCESS|SERVICE_WIN32_SHARE_PROCESS"),
                                E("service_status", "SERVICE_CONTINUE_PENDING|SERVICE_PAUSE_PENDING|"
                                                    "SERVICE_PAUSED|SERVICE_RUNNING|SERVICE_START_PENDING|"
                                                    "SERVICE_STOP_PENDING|SERVICE_STOPPED"),
                                END};
static const pdef X_UNIX[] = {I("gid"), L("groups"), S("home_dir"), S("shell"), END};

static const struct {
    const char *type, *name;
    const pdef *props;
} sco_exts[] = {
    {"file", "ntfs-ext", X_NTFS},
    {"file", "raster-image-ext", X_RASTER},
    {"file", "pdf-ext", X_PDF},
    {"file", "archive-ext", X_ARCHIVE},
    {"file", "windows-pebinary-ext", X_PE},
    {"network-traffic", "http-request-ext", X_HTTP},
    {"network-traffic", "icmp-ext", X_ICMP},
    {"network-traffic", "socket-ext", X_SOCKET},
    {"network-traffic", "tcp-ext", X_TCP},
    {"process", "windows-process-ext", X_WINPROC},
    {"process", "windows-service-ext", X_WINSVC},
    {"user-account", "unix-account-ext", X_UNIX},
};

static dt_status check_ext(vctx *v, const char *path, const json_t *x)
{
    const char *k;
    json_t *e;
    char p[160], q[200];
    if (!json_is_object(x) || json_object_size(x) == 0)
        return bad(v, path, "extensions must be a non-empty dictionary");
    json_object_foreach((json_t *)x, k, e) {
        size_t kl = strlen(k), tl;
        pjoin(p, sizeof p, path, k);
        if (!json_is_object(e) || json_object_size(e) == 0)
            return bad(v, p, "an extension must be a non-empty object");
        if (strncmp(k, "extension-definition--", 22) == 0) {
            if (!identifier_ok(k, &tl))
                return bad(v, p, "extension key is not an extension-definition identifier");
            const json_t *et = json_object_get(e, "extension_type");
            pjoin(q, sizeof q, p, "extension_type");
            if (et == NULL)
                return bad(v, q, "an extension-definition extension needs extension_type");
            pdef d = E("extension_type", "new-sdo|new-sco|new-sro|property-extension|"
                                         "toplevel-property-extension");
            dt_status rc = check_value(v, q, et, &d);
            if (rc != DT_OK)
                return rc;
            continue;
        }
        if (kl < 5 || strcmp(k + kl - 4, "-ext") != 0 || !type_name_ok(k, kl))
            return bad(v, p, "extension names are extension-definition identifiers or end in "
                             "\"-ext\"");
        for (size_t i = 0; i < sizeof sco_exts / sizeof sco_exts[0]; i++) {
            if (strcmp(sco_exts[i].name, k) != 0)
                continue;
            if (strcmp(sco_exts[i].type, v->type) != 0)
                return bad(v, p, "%s is an extension of %s objects, not %s", k, sco_exts[i].type,
                           v->type);
            dt_status rc = check_table(v, e, p, sco_exts[i].props);
            if (rc != DT_OK)
                return rc;
            if (strcmp(k, "ntfs-ext") == 0 && !json_object_get(e, "sid") &&
                !json_object_get(e, "alternate_data_streams"))
                return bad(v, p, "ntfs-ext needs sid or alternate_data_streams");
        }
    }
    return DT_OK;
}

/* ---- per-type tables ----------------------------------------------------- */

static const pdef P_SDO_COMMON[] = {
    R("created_by_ref", "identity"), B("revoked"), L("labels"), IR("confidence", 0, 100),
    S("lang"), {"external_references", T_EXTREFS, 0, NULL, 0, 0},
    RL("object_marking_refs", "marking-definition"), {"granular_markings", T_GRAN, 0, NULL, 0, 0},
    {"extensions", T_EXT, 0, NULL, 0, 0}, S("description"), END};
static const pdef P_SCO_COMMON[] = {
    RL("object_marking_refs", "marking-definition"), {"granular_markings", T_GRAN, 0, NULL, 0, 0},
    B("defanged"), {"extensions", T_EXT, 0, NULL, 0, 0}, END};
static const pdef P_MARKING_COMMON[] = {
    R("created_by_ref", "identity"), {"external_references", T_EXTREFS, 0, NULL, 0, 0},
    RL("object_marking_refs", "marking-definition"), {"granular_markings", T_GRAN, 0, NULL, 0, 0},
    {"extensions", T_EXT, 0, NULL, 0, 0}, END};

static const pdef P_ATTACK_PATTERN[] = {SR("name"), L("aliases"), K("kill_chain_phases"), END};
static const pdef P_CAMPAIGN[] = {SR("name"), L("aliases"), TS("first_seen"), TS("last_seen"),
                                  S("objective"), END};
static const pdef P_COA[] = {SR("name"), END};
static const pdef P_GROUPING[] = {S("name"), SR("context"), RLR("object_refs", NULL), END};
static const pdef P_IDENTITY[] = {SR("name"), L("roles"), S("identity_class"), L("sectors"),
                                  S("contact_information"), END};
static const pdef P_INCIDENT[] = {SR("name"), K("kill_chain_phases"), END};
static const pdef P_INDICATOR[] = {S("name"), L("indicator_types"), SR("pattern"),
                                   SR("pattern_type"), S("pattern_version"), TSR("valid_from"),
                                   TS("valid_until"), K("kill_chain_phases"), END};
static const pdef P_INFRA[] = {SR("name"), L("infrastructure_types"), L("aliases"),
                               K("kill_chain_phases"), TS("first_seen"), TS("last_seen"), END};
static const pdef P_INTRUSION_SET[] = {SR("name"), L("aliases"), TS("first_seen"),
                                       TS("last_seen"), L("goals"), S("resource_level"),
                                       S("primary_motivation"), L("secondary_motivations"), END};
static const pdef P_LOCATION[] = {
    S("name"), {"latitude", T_NUM, RANGE, NULL, -90, 90}, {"longitude", T_NUM, RANGE, NULL, -180, 180},
    {"precision", T_NUM, RANGE, NULL, 0, 1e300}, S("region"), S("country"),
    S("administrative_area"), S("city"), S("street_address"), S("postal_code"), END};
static const pdef P_MALWARE[] = {
    S("name"), L("malware_types"), {"is_family", T_BOOL, REQ, NULL, 0, 0}, L("aliases"),
    K("kill_chain_phases"), TS("first_seen"), TS("last_seen"),
    RL("operating_system_refs", "software"), L("architecture_execution_envs"),
    L("implementation_languages"), L("capabilities"), RL("sample_refs", "file|artifact"), END};
static const pdef P_MALWARE_ANALYSIS[] = {
    SR("product"), S("version"), R("host_vm_ref", "software"), R("operating_system_ref", "software"),
    RL("installed_software_refs", "software"), S("configuration_version"), L("modules"),
    S("analysis_engine_version"), S("analysis_definition_version"), TS("submitted"),
    TS("analysis_started"), TS("analysis_ended"), S("result_name"), S("result"),
    RL("analysis_sco_refs", "SCO"), R("sample_ref", "file|network-traffic|artifact"), END};
static const pdef P_NOTE[] = {S("abstract"), SR("content"), L("authors"), RLR("object_refs", NULL),
                              END};
static const pdef P_OBSERVED[] = {
    TSR("first_observed"), TSR("last_observed"), {"number_observed", T_INT, REQ | RANGE, NULL, 1, 999999999},
    {"objects", T_DICT, 0, NULL, 0, 0},
    RL("object_refs", "!attack-pattern|campaign|course-of-action|grouping|identity|incident|"
                      "indicator|infrastructure|intrusion-set|location|malware-analysis|malware|"
                      "note|observed-data|opinion|report|threat-actor|tool|vulnerability"),
    END};
static const pdef P_OPINION[] = {
    S("explanation"), L("authors"),
    {"opinion", T_ENUM, REQ, "strongly-disagree|disagree|neutral|agree|strongly-agree", 0, 0},
    RLR("object_refs", NULL), END};
static const pdef P_REPORT[] = {SR("name"), L("report_types"), TSR("published"),
                                RLR("object_refs", NULL), END};
static const pdef P_THREAT_ACTOR[] = {
    SR("name"), L("threat_actor_types"), L("aliases"), TS("first_seen"), TS("last_seen"),
    L("roles"), L("goals"), S("sophistication"), S("resource_level"), S("primary_motivation"),
    L("secondary_motivations"), L("personal_motivations"), END};
static const pdef P_TOOL[] = {SR("name"), L("tool_types"), L("aliases"), K("kill_chain_phases"),
                              S("tool_version"), END};
static const pdef P_VULN[] = {SR("name"), END};
static const pdef P_RELATIONSHIP[] = {SR("relationship_type"), RR("source_ref", NOT_META),
                                      RR("target_ref", NOT_META), TS("start_time"),
                                      TS("stop_time"), END};
static const pdef P_SIGHTING[] = {
    TS("first_seen"), TS("last_seen"), IR("count", 0, 999999999), RR("sighting_of_ref", NOT_META),
    RL("observed_data_refs", "observed-data"), RL("where_sighted_refs", "identity|location"),
    B("summary"), END};
static const pdef P_MARKING[] = {S("name"), S("definition_type"),
                                 {"definition", T_OBJ, 0, NULL, 0, 0}, END};
static const pdef P_LANG_CONTENT[] = {RR("object_ref", "!bundle|language-content"),
                                      TS("object_modified"), {"contents", T_DICT, REQ, NULL, 0, 0},
                                      END};
static const pdef P_EXT_DEF[] = {
    SR("name"), SR("schema"), SR("version"),
    {"extension_types", T_ENUMS, REQ, "new-sdo|new-sco|new-sro|property-extension|"
                                      "toplevel-property-extension", 0, 0},
    L("extension_properties"), END};

static const pdef P_ARTIFACT[] = {
    S("mime_type"), {"payload_bin", T_BIN, 0, NULL, 0, 0}, {"url", T_URL, 0, NULL, 0, 0},
    H("hashes"), E("encryption_algorithm", "AES-256-GCM|ChaCha20-Poly1305|mime-type-indicated"),
    S("decryption_key"), END};
static const pdef P_AS[] = {{"number", T_INT, REQ | RANGE, NULL, 0, 4294967295.0}, S("name"),
                            S("rir"), END};
static const pdef P_DIRECTORY[] = {SR("path"), S("path_enc"), TS("ctime"), TS("mtime"),
                                   TS("atime"), RL("contains_refs", "file|directory"), END};
static const pdef P_DOMAIN[] = {SR("value"), RL("resolves_to_refs", "ipv4-addr|ipv6-addr|domain-name"),
                                END};
static const pdef P_EMAIL_ADDR[] = {SR("value"), S("display_name"),
                                    R("belongs_to_ref", "user-account"), END};
static const pdef P_EMAIL_MSG[] = {
    {"is_multipart", T_BOOL, REQ, NULL, 0, 0}, TS("date"), S("content_type"),
    R("from_ref", "email-addr"), R("sender_ref", "email-addr"), RL("to_refs", "email-addr"),
    RL("cc_refs", "email-addr"), RL("bcc_refs", "email-addr"), S("message_id"), S("subject"),
    {"received_lines", T_STRS0, 0, NULL, 0, 0}, D("additional_header_fields"), S("body"),
    {"body_multipart", T_OBJS, 0, NULL, 0, 0}, R("raw_email_ref", "artifact"), END};
static const pdef P_FILE[] = {
    H("hashes"), IR("size", 0, 9.2e18), S("name"), S("name_enc"),
    {"magic_number_hex", T_HEX, 0, NULL, 0, 0}, S("mime_type"), TS("ctime"), TS("mtime"),
    TS("atime"), R("parent_directory_ref", "directory"), RL("contains_refs", "SCO"),
    R("content_ref", "artifact"), END};
static const pdef P_IPV4[] = {{"value", T_IPV4, REQ, NULL, 0, 0}, RL("resolves_to_refs", "mac-addr"),
                              RL("belongs_to_refs", "autonomous-system"), END};
static const pdef P_IPV6[] = {{"value", T_IPV6, REQ, NULL, 0, 0}, RL("resolves_to_refs", "mac-addr"),
                              RL("belongs_to_refs", "autonomous-system"), END};
static const pdef P_MAC[] = {{"value", T_MAC, REQ, NULL, 0, 0}, END};
static const pdef P_MUTEX[] = {SR("name"), END};
static const pdef P_NETTRAFFIC[] = {
    TS("start"), TS("end"), B("is_active"), R("src_ref", IP_REFS), R("dst_ref", IP_REFS),
    IR("src_port", 0, 65535), IR("dst_port", 0, 65535), {"protocols", T_STRS, REQ, NULL, 0, 0},
    IR("src_byte_count", 0, 9.2e18), IR("dst_byte_count", 0, 9.2e18), IR("src_packets", 0, 9.2e18),
    IR("dst_packets", 0, 9.2e18), D("ipfix"), R("src_payload_ref", "artifact"),
    R("dst_payload_ref", "artifact"), RL("encapsulates_refs", "network-traffic"),
    R("encapsulated_by_ref", "network-traffic"), END};
static const pdef P_PROCESS[] = {
    B("is_hidden"), I("pid"), TS("created_time"), S("cwd"), S("command_line"),
    D("environment_variables"), RL("opened_connection_refs", "network-traffic"),
    R("creator_user_ref", "user-account"), R("image_ref", "file"), R("parent_ref", "process"),
    RL("child_refs", "process"), END};
static const pdef P_SOFTWARE[] = {SR("name"), S("cpe"), S("swid"), L("languages"), S("vendor"),
                                  S("version"), END};
static const pdef P_URL[] = {{"value", T_URL, REQ, NULL, 0, 0}, END};
static const pdef P_USER[] = {
    S("user_id"), S("credential"), S("account_login"), S("account_type"), S("display_name"),
    B("is_service_account"), B("is_privileged"), B("can_escalate_privs"), B("is_disabled"),
    TS("account_created"), TS("account_expires"), TS("credential_last_changed"),
    TS("account_first_login"), TS("account_last_login"), END};
static const pdef P_REGKEY[] = {S("key"), {"values", T_OBJS, 0, NULL, 0, 0}, TS("modified_time"),
                                R("creator_user_ref", "user-account"),
                                IR("number_of_subkeys", 0, 9.2e18), END};
static const pdef P_X509[] = {
    B("is_self_signed"), H("hashes"), S("version"), S("serial_number"), S("signature_algorithm"),
    S("issuer"), TS("validity_not_before"), TS("validity_not_after"), S("subject"),
    S("subject_public_key_algorithm"), S("subject_public_key_modulus"),
    I("subject_public_key_exponent"), {"x509_v3_extensions", T_OBJ, 0, NULL, 0, 0}, END};

/* ---- cross-property rules -------------------------------------------------- */

/* later must not be before earlier (strict: later must be after). */
static dt_status order(vctx *v, const char *earlier, const char *later, bool strict)
{
    const json_t *a = json_object_get(v->obj, earlier), *b = json_object_get(v->obj, later);
    dt_time ta, tb;
    if (a == NULL || b == NULL)
        return DT_OK;
    if (check_ts(v, earlier, a, &ta) != DT_OK || check_ts(v, later, b, &tb) != DT_OK)
        return v->err ? v->err->code : DT_EINVALID;
    int c = dt_time_cmp(&tb, &ta);
    if (c < 0 || (strict && c == 0))
        return bad(v, later, "%s must be %s %s", later, strict ? "later than" : "no earlier than",
                   earlier);
    return DT_OK;
}

static dt_status rules_seen(vctx *v)
{
    return order(v, "first_seen", "last_seen", false);
}

static dt_status rules_indicator(vctx *v)
{
    const char *pat = stix_str(v->obj, "pattern");
    if (pat && strlen(pat) > v->lim->max_pattern_bytes)
        return bad(v, "pattern", "pattern of %zu bytes is over the limit of %zu", strlen(pat),
                   v->lim->max_pattern_bytes);
    return order(v, "valid_from", "valid_until", true);
}

static dt_status rules_location(vctx *v)
{
    bool lat = json_object_get(v->obj, "latitude"), lon = json_object_get(v->obj, "longitude");
    if (lat != lon)
        return bad(v, lat ? "longitude" : "latitude", "latitude and longitude go together");
    if (json_object_get(v->obj, "precision") && !lat)
        return bad(v, "precision", "precision needs latitude and longitude");
    if (!lat && !json_object_get(v->obj, "region") && !json_object_get(v->obj, "country"))
        return bad(v, "", "a location needs region, country, or latitude and longitude");
    return DT_OK;
}

static dt_status rules_malware(vctx *v)
{
    if (json_is_true(json_object_get(v->obj, "is_family")) && !stix_str(v->obj, "name"))
        return bad(v, "name", "a malware family (is_family true) needs a name");
    return rules_seen(v);
}

static dt_status rules_malware_analysis(vctx *v)
{
    if (!json_object_get(v->obj, "result") && !json_object_get(v->obj, "analysis_sco_refs"))
        return bad(v, "result", "a malware-analysis needs result or analysis_sco_refs");
    return DT_OK;
}

static dt_status validate_sco(vctx *v, const json_t *o, const char *base, bool embedded);

static dt_status rules_observed(vctx *v)
{
    const json_t *objs = json_object_get(v->obj, "objects"),
                 *refs = json_object_get(v->obj, "object_refs");
    if ((objs != NULL) == (refs != NULL))
        return bad(v, objs ? "objects" : "object_refs",
                   "observed-data has exactly one of object_refs and objects (deprecated)");
    if (objs) {
        const char *k;
        json_t *sco;
        char p[160];
        json_object_foreach((json_t *)objs, k, sco) {
            pjoin(p, sizeof p, "objects", k);
            dt_status rc = validate_sco(v, sco, p, true);
            if (rc != DT_OK)
                return rc;
        }
    }
    return order(v, "first_observed", "last_observed", false);
}

static dt_status rules_relationship(vctx *v)
{
    const char *rt = stix_str(v->obj, "relationship_type");
    if (rt && (rt[0] == '\0' || strspn(rt, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(rt)))
        return bad(v, "relationship_type", "relationship_type is lower-case letters, digits and "
                                           "'-'");
    return order(v, "start_time", "stop_time", true);
}

static dt_status rules_marking(vctx *v)
{
    const char *dt = stix_str(v->obj, "definition_type");
    const json_t *def = json_object_get(v->obj, "definition");
    if (json_object_get(v->obj, "modified"))
        return bad(v, "modified", "marking definitions are never modified, so have no modified");
    if (!json_object_get(v->obj, "extensions") && (dt == NULL || def == NULL))
        return bad(v, dt ? "definition" : "definition_type",
                   "a marking definition without extensions needs definition_type and "
                   "definition");
    if (dt && def == NULL)
        return bad(v, "definition", "definition_type needs a definition");
    if (dt && strcmp(dt, "statement") == 0 && !stix_str(def, "statement"))
        return bad(v, "definition.statement", "a statement marking needs a statement string");
    if (dt && strcmp(dt, "tlp") == 0) {
        const char *t = stix_str(def, "tlp");
        if (t == NULL || !in_bar_list("white|green|amber|red", t, strlen(t)))
            return bad(v, "definition.tlp", "a TLP 1.0 marking is white, green, amber or red");
    }
    /* The four TLP 1.0 marking definitions (section 7.2.1.4) are fixed
     * objects: their exact properties, nothing more. */
    static const struct { const char *id, *name, *tlp; } tlp1[] = {
        {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE", "white"},
        {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN", "green"},
        {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER", "amber"},
        {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED", "red"},
    };
    const char *id = stix_str(v->obj, "id");
    for (size_t i = 0; i < sizeof tlp1 / sizeof tlp1[0]; i++) {
        if (strcmp(id, tlp1[i].id) != 0)
            continue;
        const char *name = stix_str(v->obj, "name"), *t = stix_str(def, "tlp");
        if (name == NULL || strcmp(name, tlp1[i].name) != 0)
            return bad(v, "name", "the predefined %s marking definition is named %s",
                       tlp1[i].name, tlp1[i].name);
        if (dt == NULL || strcmp(dt, "tlp") != 0 || t == NULL || strcmp(t, tlp1[i].tlp) != 0)
            return bad(v, "definition", "the predefined %s marking definition has definition_type "
                                        "tlp and definition {\"tlp\": \"%s\"}",
                       tlp1[i].name, tlp1[i].tlp);
        if (strcmp(stix_str(v->obj, "created") ? stix_str(v->obj, "created") : "",
                   "2017-01-20T00:00:00.000Z") != 0)
            return bad(v, "created", "the predefined TLP 1.0 marking definitions were created "
                                     "2017-01-20T00:00:00.000Z");
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v->obj, k, x) {
            if (!in_bar_list("type|spec_version|id|created|definition_type|definition|name", k,
                             strlen(k)))
                return bad(v, k, "the predefined TLP 1.0 marking definitions carry no other "
                                 "properties");
        }
    }
    return DT_OK;
}

static dt_status rules_ext_def(vctx *v)
{
    const json_t *types = json_object_get(v->obj, "extension_types");
    bool top = false;
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t) {
        if (json_is_string(t) && strcmp(json_string_value(t), "toplevel-property-extension") == 0)
            top = true;
    }
    if (json_object_get(v->obj, "extension_properties") && !top)
        return bad(v, "extension_properties",
                   "extension_properties only goes with a toplevel-property-extension");
    if (!json_object_get(v->obj, "created_by_ref"))
        return bad(v, "created_by_ref", "an extension definition needs created_by_ref");
    return DT_OK;
}

static dt_status rules_artifact(vctx *v)
{
    bool bin = json_object_get(v->obj, "payload_bin"), url = json_object_get(v->obj, "url");
    if (bin == url)
        return bad(v, "payload_bin", "an artifact has exactly one of payload_bin and url");
    if (url && !json_object_get(v->obj, "hashes"))
        return bad(v, "hashes", "an artifact given by url needs hashes");
    if (json_object_get(v->obj, "decryption_key") && !json_object_get(v->obj, "encryption_algorithm"))
        return bad(v, "decryption_key", "decryption_key needs encryption_algorithm");
    return DT_OK;
}

static dt_status rules_email_msg(vctx *v)
{
    bool multi = json_is_true(json_object_get(v->obj, "is_multipart"));
    if (multi && json_object_get(v->obj, "body"))
        return bad(v, "body", "a multipart message carries body_multipart, not body");
    if (!multi && json_object_get(v->obj, "body_multipart"))
        return bad(v, "body_multipart", "body_multipart needs is_multipart true");
    const json_t *parts = json_object_get(v->obj, "body_multipart");
    size_t i;
    json_t *part;
    char p[64];
    json_array_foreach(parts, i, part) {
        snprintf(p, sizeof p, "body_multipart[%zu]", i);
        bool body = json_object_get(part, "body"), raw = json_object_get(part, "body_raw_ref");
        if (body == raw)
            return bad(v, p, "a MIME part has exactly one of body and body_raw_ref");
        static const pdef mp[] = {S("body"), R("body_raw_ref", "artifact|file"),
                                  S("content_type"), S("content_disposition"), END};
        dt_status rc = check_table(v, part, p, mp);
        if (rc != DT_OK)
            return rc;
    }
    return DT_OK;
}

static dt_status rules_file(vctx *v)
{
    if (!json_object_get(v->obj, "hashes") && !json_object_get(v->obj, "name"))
        return bad(v, "", "a file needs hashes or name");
    return DT_OK;
}

static dt_status rules_nettraffic(vctx *v)
{
    if (!json_object_get(v->obj, "src_ref") && !json_object_get(v->obj, "dst_ref"))
        return bad(v, "src_ref", "network-traffic needs src_ref or dst_ref");
    if (json_is_true(json_object_get(v->obj, "is_active")) && json_object_get(v->obj, "end"))
        return bad(v, "end", "active traffic (is_active true) has no end");
    return order(v, "start", "end", false);
}

/* An SCO made only of its common properties says nothing. */
static dt_status rules_some(vctx *v, const pdef *table)
{
    for (const pdef *d = table; d->name; d++)
        if (json_object_get(v->obj, d->name))
            return DT_OK;
    if (json_object_get(v->obj, "extensions"))
        return DT_OK;
    return bad(v, "", "a %s needs at least one of its own properties", v->type);
}

static dt_status rules_process(vctx *v) { return rules_some(v, P_PROCESS); }
static dt_status rules_user(vctx *v) { return rules_some(v, P_USER); }
static dt_status rules_x509(vctx *v)
{
    dt_status rc = rules_some(v, P_X509);
    return rc != DT_OK ? rc : order(v, "validity_not_before", "validity_not_after", false);
}

static dt_status rules_regkey(vctx *v)
{
    static const char *const abbrev[] = {"HKLM", "HKCC", "HKCR", "HKCU", "HKU", NULL};
    const char *key = stix_str(v->obj, "key");
    dt_status rc = rules_some(v, P_REGKEY);
    if (rc != DT_OK)
        return rc;
    for (int i = 0; key && abbrev[i]; i++) {
        size_t n = strlen(abbrev[i]);
        if (strncasecmp(key, abbrev[i], n) == 0 && (key[n] == '\\' || key[n] == '\0'))
            return bad(v, "key", "write the hive in full (HKEY_LOCAL_MACHINE, not %s)", abbrev[i]);
    }
    const json_t *vals = json_object_get(v->obj, "values");
    size_t i;
    json_t *val;
    char p[64];
    static const pdef rv[] = {
        S("name"), S("data"),
        E("data_type", "REG_NONE|REG_SZ|REG_EXPAND_SZ|REG_BINARY|REG_DWORD|REG_DWORD_BIG_ENDIAN|"
                       "REG_DWORD_LITTLE_ENDIAN|REG_LINK|REG_MULTI_SZ|REG_RESOURCE_LIST|"
                       "REG_FULL_RESOURCE_DESCRIPTION|REG_RESOURCE_REQUIREMENTS_LIST|REG_QWORD|"
                       "REG_INVALID_TYPE"),
        END};
    json_array_foreach(vals, i, val) {
        snprintf(p, sizeof p, "values[%zu]", i);
        rc = check_table(v, val, p, rv);
        if (rc != DT_OK)
            return rc;
    }
    return DT_OK;
}

typedef dt_status (*rule_fn)(vctx *v);

static const struct tdef {
    const char *type;
    const pdef *props;
    rule_fn rules;
} types[] = {
    {"attack-pattern", P_ATTACK_PATTERN, NULL},
    {"campaign", P_CAMPAIGN, rules_seen},
    {"course-of-action", P_COA, NULL},
    {"grouping", P_GROUPING, NULL},
    {"identity", P_IDENTITY, NULL},
    {"incident", P_INCIDENT, NULL},
    {"indicator", P_INDICATOR, rules_indicator},
    {"infrastructure", P_INFRA, rules_seen},
    {"intrusion-set", P_INTRUSION_SET, rules_seen},
    {"location", P_LOCATION, rules_location},
    {"malware", P_MALWARE, rules_malware},
    {"malware-analysis", P_MALWARE_ANALYSIS, rules_malware_analysis},
    {"note", P_NOTE, NULL},
    {"observed-data", P_OBSERVED, rules_observed},
    {"opinion", P_OPINION, NULL},
    {"report", P_REPORT, NULL},
    {"threat-actor", P_THREAT_ACTOR, rules_seen},
    {"tool", P_TOOL, NULL},
    {"vulnerability", P_VULN, NULL},
    {"relationship", P_RELATIONSHIP, rules_relationship},
    {"sighting", P_SIGHTING, rules_seen},
    {"marking-definition", P_MARKING, rules_marking},
    {"language-content", P_LANG_CONTENT, NULL},
    {"extension-definition", P_EXT_DEF, rules_ext_def},
    {"artifact", P_ARTIFACT, rules_artifact},
    {"autonomous-system", P_AS, NULL},
    {"directory", P_DIRECTORY, NULL},
    {"domain-name", P_DOMAIN, NULL},
    {"email-addr", P_EMAIL_ADDR, NULL},
    {"email-message", P_EMAIL_MSG, rules_email_msg},
    {"file", P_FILE, rules_file},
    {"ipv4-addr", P_IPV4, NULL},
    {"ipv6-addr", P_IPV6, NULL},
    {"mac-addr", P_MAC, NULL},
    {"mutex", P_MUTEX, NULL},
    {"network-traffic", P_NETTRAFFIC, rules_nettraffic},
    {"process", P_PROCESS, rules_process},
    {"software", P_SOFTWARE, NULL},
    {"url", P_URL, NULL},
    {"user-account", P_USER, rules_user},
    {"windows-registry-key", P_REGKEY, rules_regkey},
    {"x509-certificate", P_X509, rules_x509},
};

static const struct tdef *type_def(const char *type)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].type, type) == 0)
            return &types[i];
    return NULL;
}

/* ---- the object as a whole ------------------------------------------------ */

static const char *const reserved[] = {"severity", "action", "username", "phone_numbers", NULL};

static bool custom_name_ok(const char *k)
{
    size_t n = strlen(k);
    return n >= 3 && n <= 250 && strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* Every property the tables did not cover is a custom property. */
static dt_status check_custom(vctx *v, const json_t *o, const char *base, const pdef *common,
                              const pdef *own)
{
    const char *k;
    json_t *x;
    char p[160];
    json_object_foreach((json_t *)o, k, x) {
        static const char *const core[] = {"type", "id", "spec_version", "created", "modified",
                                           NULL};
        bool is_core = false;
        for (int i = 0; core[i]; i++)
            if (strcmp(core[i], k) == 0)
                is_core = true;
        if (is_core || in_table(common, k) || in_table(own, k))
            continue;
        pjoin(p, sizeof p, base, k);
        for (int i = 0; reserved[i]; i++)
            if (strcmp(reserved[i], k) == 0)
                return bad(v, p, "%s is a reserved property name in STIX 2.1", k);
        if (!custom_name_ok(k))
            return bad(v, p, "custom property names are 3-250 characters of a-z, 0-9 and '_'");
        size_t n = strlen(k);
        if (n > 4 && strcmp(k + n - 4, "_bin") == 0) {
            pdef d = {k, T_BIN, 0, NULL, 0, 0};
            dt_status rc = check_value(v, p, x, &d);
            if (rc != DT_OK)
                return rc;
        } else if (n > 4 && strcmp(k + n - 4, "_hex") == 0) {
            pdef d = {k, T_HEX, 0, NULL, 0, 0};
            dt_status rc = check_value(v, p, x, &d);
            if (rc != DT_OK)
                return rc;
        } else if (json_is_array(x) && json_array_size(x) == 0) {
            return bad(v, p, "a list may not be empty");
        }
    }
    return DT_OK;
}

static dt_status check_type_and_id(vctx *v, const json_t *o, const char *base, bool id_required)
{
    char p[160];
    const json_t *t = json_object_get(o, "type");
    pjoin(p, sizeof p, base, "type");
    if (t == NULL)
        return bad(v, p, "required property type is missing");
    if (!json_is_string(t) || !type_name_ok(json_string_value(t), json_string_length(t)))
        return bad(v, p, "a type is 3-250 characters of a-z, 0-9 and '-', starting with a letter");
    if (strcmp(json_string_value(t), "action") == 0)
        return bad(v, p, "action is a reserved type name");
    const json_t *id = json_object_get(o, "id");
    pjoin(p, sizeof p, base, "id");
    if (id == NULL) {
        if (id_required)
            return bad(v, p, "required property id is missing");
        return DT_OK;
    }
    size_t tl;
    const char *ts = json_string_value(t);
    if (!json_is_string(id) || !identifier_ok(json_string_value(id), &tl))
        return bad(v, p, "an id is type--UUID with an RFC 4122 UUID");
    if (tl != strlen(ts) || strncmp(json_string_value(id), ts, tl) != 0)
        return bad(v, p, "the id's prefix must be the object's type (%s--)", ts);
    return DT_OK;
}

static dt_status check_spec_version(vctx *v, const json_t *o, const char *base, bool required)
{
    char p[160];
    const json_t *sv = json_object_get(o, "spec_version");
    pjoin(p, sizeof p, base, "spec_version");
    if (sv == NULL) {
        if (required && !v->lim->assume_spec_version)
            return bad(v, p, "required property spec_version is missing (STIX 2.1 objects carry "
                             "\"2.1\")");
        return DT_OK;
    }
    if (!json_is_string(sv) || strcmp(json_string_value(sv), "2.1") != 0)
        return bad(v, p, "spec_version must be \"2.1\"");
    return DT_OK;
}

static dt_status validate_sco(vctx *v, const json_t *o, const char *base, bool embedded)
{
    vctx sub = *v;
    dt_status rc;
    if (!json_is_object(o))
        return bad(v, base, "an observable must be an object");
    sub.obj = o;
    sub.embedded = embedded;
    rc = check_type_and_id(&sub, o, base, !embedded);
    if (rc != DT_OK)
        return rc;
    sub.type = stix_str(o, "type");
    rc = check_spec_version(&sub, o, base, false);
    if (rc == DT_OK)
        rc = check_table(&sub, o, base, P_SCO_COMMON);
    const struct tdef *td = type_def(sub.type);
    if (rc == DT_OK && td && stix_type_kind(sub.type) == STIX_KIND_SCO) {
        rc = check_table(&sub, o, base, td->props);
        if (rc == DT_OK && td->rules) {
            rc = td->rules(&sub);
            if (rc != DT_OK && base[0] != '\0' && sub.err)
                dt_err_prefix(sub.err, "%s", base);
        }
    }
    if (rc == DT_OK)
        rc = check_custom(&sub, o, base, P_SCO_COMMON, td ? td->props : NULL);
    return rc;
}

static dt_status validate_dated(vctx *v, const json_t *o, const struct tdef *td, stix_kind kind)
{
    dt_time c, m;
    const pdef *common = kind == STIX_KIND_SMO && strcmp(v->type, "marking-definition") == 0
                             ? P_MARKING_COMMON
                             : P_SDO_COMMON;
    bool is_marking = common == P_MARKING_COMMON;
    dt_status rc = check_spec_version(v, o, "", true);
    if (rc != DT_OK)
        return rc;
    const json_t *cj = json_object_get(o, "created"), *mj = json_object_get(o, "modified");
    if (cj == NULL)
        return bad(v, "created", "required property created is missing");
    if (check_ts(v, "created", cj, &c) != DT_OK)
        return DT_EINVALID;
    if (!dt_time_has_millis(&c))
        return bad(v, "created", "created must be precise to the millisecond (.sssZ)");
    if (!is_marking) {
        if (mj == NULL)
            return bad(v, "modified", "required property modified is missing");
        if (check_ts(v, "modified", mj, &m) != DT_OK)
            return DT_EINVALID;
        if (!dt_time_has_millis(&m))
            return bad(v, "modified", "modified must be precise to the millisecond (.sssZ)");
        if (dt_time_cmp(&m, &c) < 0)
            return bad(v, "modified", "modified must not be earlier than created");
    }
    rc = check_table(v, o, "", common);
    if (rc == DT_OK && td)
        rc = check_table(v, o, "", td->props);
    if (rc == DT_OK && td && td->rules)
        rc = td->rules(v);
    if (rc == DT_OK)
        rc = check_custom(v, o, "", common, td ? td->props : NULL);
    return rc;
}

static dt_status validate_bundle(vctx *v, const json_t *o)
{
    const json_t *objs = json_object_get(o, "objects");
    size_t i;
    json_t *item;
    if (objs == NULL)
        return DT_OK;
    if (!json_is_array(objs))
        return bad(v, "objects", "a bundle's objects must be a list");
    json_array_foreach(objs, i, item) {
        dt_status rc = stix_validate(item, v->lim, v->err);
        if (rc != DT_OK) {
            if (v->err && v->err->where[0] != '\0')
                dt_err_prefix(v->err, "objects[%zu]", i);
            else if (v->err)
                snprintf(v->err->where, sizeof v->err->where, "objects[%zu]", i);
            return rc;
        }
    }
    return DT_OK;
}

dt_status stix_validate(const json_t *obj, const stix_limits *lim, dt_err *err)
{
    stix_limits def;
    vctx v = {0};
    dt_status rc;
    if (lim == NULL) {
        stix_limits_default(&def);
        lim = &def;
    }
    v.lim = lim;
    v.err = err;
    v.obj = obj;
    if (!json_is_object(obj))
        return bad(&v, "", "a STIX object must be a JSON object");
    rc = check_type_and_id(&v, obj, "", true);
    if (rc != DT_OK)
        return rc;
    v.type = stix_str(obj, "type");
    stix_kind kind = stix_type_kind(v.type);
    const struct tdef *td = type_def(v.type);
    switch (kind) {
    case STIX_KIND_BUNDLE:
        return validate_bundle(&v, obj);
    case STIX_KIND_SCO:
        return validate_sco(&v, obj, "", false);
    case STIX_KIND_SDO:
    case STIX_KIND_SRO:
    case STIX_KIND_SMO:
        return validate_dated(&v, obj, td, kind);
    case STIX_KIND_CUSTOM:
        /* Unknown types: an object with created is read as a custom SDO
         * (its common properties apply), else as a custom SCO. */
        if (json_object_get(obj, "created") || json_object_get(obj, "modified"))
            return validate_dated(&v, obj, NULL, kind);
        return validate_sco(&v, obj, "", false);
    }
    return DT_OK;
}
