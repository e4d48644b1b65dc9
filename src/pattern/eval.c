/* pattern evaluator: does a pattern match a set of observed-data objects?
 * (STIX 2.1 section 9.6 and following.)
 *
 * Inside brackets, a comparison expression is evaluated per root object of
 * one observed-data (the SCOs listed in object_refs, or the values of the
 * deprecated embedded `objects`): every comparison joined by AND must hold on
 * the same root object, OR on any. A comparison on type T only holds on roots
 * of type T, so `[a:x = 1 AND b:y = 2]` with two types never matches; this is
 * what OASIS's cti-pattern-matcher does, and we follow it. A path step into a
 * key ending in `_ref` (or an element of a `_refs` list) is followed to the
 * referenced object when more steps come after it. Properties ending in
 * `_hex`/`_bin` are compared as bytes. A missing property makes the test
 * false whatever NOT says; NOT EXISTS holds when the path selects nothing.
 *
 * Between observation expressions the evaluator builds "bindings" as the
 * reference matcher does: a binding is the multiset of observations that
 * satisfies a sub-expression (an observed-data with number_observed n counts
 * as n observations). AND and FOLLOWEDBY join bindings that use each
 * observation at most number_observed times (FOLLOWEDBY also needs the left
 * side's latest first_observed <= the right side's earliest last_observed);
 * OR unions them; WITHIN d keeps a binding when one window of d seconds
 * touches every observation interval (max first_observed <= min last_observed
 * + d); START/STOP keeps it when every interval overlaps [start, stop)
 * (first_observed < stop, last_observed >= start). REPEATS n groups n
 * pairwise-disjoint bindings; unlike the reference matcher, which tries every
 * combination (exponential), we build for each binding in time order the
 * earliest group that starts with it. That finds the tightest groups in time,
 * which is what WITHIN needs; it can miss a group needed only to stay disjoint
 * from other operands. Every set of bindings is capped (EVAL_MAX_BINDINGS,
 * EVAL_MAX_WORK): when a cap cut the search and nothing matched, the result is
 * DT_ELIMIT rather than a possibly false "no match". */
#include "pattern/pattern_int.h"

#include <stdlib.h>
#include <string.h>

#define EVAL_MAX_BINDINGS 4096u
#define EVAL_MAX_WORK 20000000u     /* pair checks and copied indexes per call */
#define EVAL_MAX_OBSERVED 999999999 /* STIX number_observed maximum */

typedef struct obs {
    int64_t first_us, last_us;
    uint32_t count;
    const json_t **roots;
    size_t nroots;
    const json_t *embedded; /* 2.0-style objects dict, or NULL */
} obs;

typedef struct binding {
    uint32_t *idx;
    uint32_t n;
    int64_t max_first, min_last;
} binding;

typedef struct bset {
    binding *b;
    size_t count;
} bset;

/* id -> object: open addressing over FNV-1a, borrowed pointers into the input
 * (jansson's own object table was most of the time spent matching). */
typedef struct idx {
    const char **keys;
    const json_t **vals;
    size_t mask;
} idx;

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    /* FNV's low bits mix poorly for keys that differ in their last digits */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static const json_t *idx_get(const idx *x, const char *key)
{
    if (x == NULL || key == NULL)
        return NULL;
    for (size_t i = fnv(key) & x->mask;; i = (i + 1) & x->mask) {
        if (x->keys[i] == NULL)
            return NULL;
        if (strcmp(x->keys[i], key) == 0)
            return x->vals[i];
    }
}

static void idx_release(idx *x)
{
    dt_free(x->keys);
    dt_free((void *)x->vals);
}

/* Index the objects of an array by id (a later duplicate id wins). */
static bool idx_build(idx *x, const json_t *objects)
{
    size_t n = json_array_size(objects), cap = 16;
    while (cap < n * 2)
        cap *= 2;
    x->mask = cap - 1;
    x->keys = dt_calloc(cap, sizeof *x->keys);
    x->vals = dt_calloc(cap, sizeof *x->vals);
    if (x->keys == NULL || x->vals == NULL) {
        idx_release(x);
        return false;
    }
    for (size_t k = 0; k < n; k++) {
        const json_t *o = json_array_get(objects, k);
        const char *id = json_string_value(json_object_get(o, "id"));
        if (id == NULL)
            continue;
        size_t i = fnv(id) & x->mask;
        while (x->keys[i] != NULL && strcmp(x->keys[i], id) != 0)
            i = (i + 1) & x->mask;
        x->keys[i] = id;
        x->vals[i] = o;
    }
    return true;
}

typedef struct ectx {
    const pattern *p;
    obs *obs;
    size_t nobs;
    const struct idx *byid; /* id -> object */
    uint32_t *used;     /* per observation, scratch for disjointness */
    pat_arena arena;
    pcre2_match_data *md;
    pcre2_match_context *mc;
    dt_buf tmp;
    size_t work;
    bool truncated;
    bool oom;
    dt_err *err;
} ectx;

/* ---------------------------------------------------------------- values */

typedef enum jv_kind { JV_STR, JV_INT, JV_REAL, JV_BOOL, JV_BIN, JV_OTHER } jv_kind;

typedef struct jv {
    jv_kind kind;
    const char *s;
    size_t len;
    int64_t i;
    double f;
    bool b;
} jv;

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Read a JSON value as a comparable value; `key` is the property it came
 * from (NULL for list elements), whose _hex/_bin suffix makes it bytes. The
 * decoded bytes live in `buf` until the next call. */
static jv read_value(ectx *e, const json_t *v, const char *key, dt_buf *buf)
{
    jv r = {.kind = JV_OTHER};
    if (json_is_string(v)) {
        r.kind = JV_STR;
        r.s = json_string_value(v);
        r.len = json_string_length(v);
        if (key != NULL && (ends_with(key, "_hex") || ends_with(key, "_bin"))) {
            bool hex = ends_with(key, "_hex");
            size_t cap = hex ? r.len / 2 + 1 : r.len / 4 * 3 + 3;
            size_t out_len = 0;
            bool ok;
            dt_buf_reset(buf);
            if (dt_buf_reserve(buf, cap, NULL) != DT_OK) {
                e->oom = true;
                return r;
            }
            if (hex) {
                ok = r.len % 2 == 0;
                for (size_t i = 0; ok && i < r.len; i += 2) {
                    int hi = hexv((unsigned char)r.s[i]), lo = hexv((unsigned char)r.s[i + 1]);
                    ok = hi >= 0 && lo >= 0;
                    buf->data[i / 2] = (char)(hi << 4 | lo);
                }
                out_len = r.len / 2;
            } else {
                ok = dt_base64_decode(r.s, r.len, (uint8_t *)buf->data, cap, &out_len);
            }
            if (ok) { /* an undecodable value stays a string */
                r.kind = JV_BIN;
                r.s = buf->data;
                r.len = out_len;
            }
        }
    } else if (json_is_integer(v)) {
        r.kind = JV_INT;
        r.i = json_integer_value(v);
    } else if (json_is_real(v)) {
        r.kind = JV_REAL;
        r.f = json_real_value(v);
    } else if (json_is_boolean(v)) {
        r.kind = JV_BOOL;
        r.b = json_is_true(v);
    }
    return r;
}

/* A UTF-8 string as Latin-1 bytes, when every code point is below 256 (the
 * spec's rule for comparing strings with binary values). */
static bool latin1(const char *s, size_t len, dt_buf *out)
{
    dt_buf_reset(out);
    if (dt_buf_reserve(out, len + 1, NULL) != DT_OK)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            out->data[n++] = (char)c;
        } else if ((c == 0xC2 || c == 0xC3) && i + 1 < len) {
            out->data[n++] = (char)(((c & 0x03) << 6) | ((unsigned char)s[i + 1] & 0x3F));
            i++;
        } else {
            return false;
        }
    }
    out->len = n;
    return true;
}

static int bytes_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

/* Order v against k: -1, 0, 1 in *out; false when they do not compare. */
static bool compare(ectx *e, const jv *v, const pat_const *k, int *out)
{
    switch (k->kind) {
    case PAT_INT:
    case PAT_FLOAT: {
        double kd = k->kind == PAT_INT ? (double)k->i : k->f;
        if (v->kind == JV_INT && k->kind == PAT_INT) {
            *out = v->i < k->i ? -1 : v->i > k->i;
            return true;
        }
        double vd;
        if (v->kind == JV_INT)
            vd = (double)v->i;
        else if (v->kind == JV_REAL)
            vd = v->f;
        else
            return false;
        *out = vd < kd ? -1 : vd > kd;
        return true;
    }
    case PAT_STRING:
        if (v->kind == JV_STR) {
            *out = bytes_cmp(v->s, v->len, k->s, k->len); /* UTF-8 order is code point order */
            return true;
        }
        if (v->kind == JV_BIN) {
            if (!latin1(k->s, k->len, &e->tmp))
                return false;
            *out = bytes_cmp(v->s, v->len, e->tmp.data, e->tmp.len);
            return true;
        }
        return false;
    case PAT_BINARY:
    case PAT_HEX:
        if (v->kind == JV_BIN) {
            *out = bytes_cmp(v->s, v->len, k->s, k->len);
            return true;
        }
        if (v->kind == JV_STR) {
            if (!latin1(v->s, v->len, &e->tmp))
                return false;
            *out = bytes_cmp(e->tmp.data, e->tmp.len, k->s, k->len);
            return true;
        }
        return false;
    case PAT_TIME: {
        dt_time t;
        if (v->kind != JV_STR || dt_time_parse(v->s, v->len, &t, NULL) != DT_OK)
            return false;
        *out = dt_time_cmp(&t, &k->t);
        return true;
    }
    case PAT_BOOL:
        if (v->kind != JV_BOOL)
            return false;
        *out = v->b == k->b ? 0 : 1;
        return true;
    }
    return false;
}

static bool equal(ectx *e, const jv *v, const pat_const *k)
{
    int c;
    return compare(e, v, k, &c) && c == 0;
}

static size_t utf8_next(const char *s, size_t len, size_t i)
{
    i++;
    while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
        i++;
    return i;
}

/* LIKE: '%' any run of characters, '_' exactly one; the whole value must match. */
static bool like_match(const char *s, size_t sl, const char *p, size_t pl)
{
    size_t si = 0, pi = 0, star_p = SIZE_MAX, star_s = 0;
    while (si < sl) {
        if (pi < pl && p[pi] == '%') {
            star_p = ++pi;
            star_s = si;
        } else if (pi < pl && p[pi] == '_') {
            pi++;
            si = utf8_next(s, sl, si);
        } else if (pi < pl && p[pi] == s[si]) {
            pi++;
            si++;
        } else if (star_p != SIZE_MAX) {
            pi = star_p;
            star_s = utf8_next(s, sl, star_s);
            si = star_s;
        } else {
            return false;
        }
    }
    while (pi < pl && p[pi] == '%')
        pi++;
    return pi == pl;
}

static bool regex_match(ectx *e, const pat_cmp *c, const jv *v)
{
    const char *subject = v->s;
    size_t len = v->len;
    if (v->kind == JV_BIN) { /* bytes as Latin-1 code points */
        dt_buf_reset(&e->tmp);
        for (size_t i = 0; i < v->len; i++) {
            unsigned char b = (unsigned char)v->s[i];
            char two[2] = {(char)(0xC0 | b >> 6), (char)(0x80 | (b & 0x3F))};
            if (dt_buf_append(&e->tmp, b < 0x80 ? (const char *)&v->s[i] : two, b < 0x80 ? 1 : 2,
                              NULL) != DT_OK) {
                e->oom = true;
                return false;
            }
        }
        subject = e->tmp.data ? e->tmp.data : "";
        len = e->tmp.len;
    } else if (v->kind != JV_STR) {
        return false;
    }
    if (e->md == NULL) {
        e->md = pcre2_match_data_create(16, NULL);
        e->mc = pcre2_match_context_create(NULL);
        if (e->md == NULL || e->mc == NULL) {
            e->oom = true;
            return false;
        }
        pcre2_set_match_limit(e->mc, 1000000);
        pcre2_set_depth_limit(e->mc, 10000);
    }
    int rc = pcre2_match(c->re, (PCRE2_SPTR)subject, len, 0, 0, e->md, e->mc);
    return rc >= 0;
}

static bool ip_within(const char *inner, size_t il, const pat_const *outer_k, bool subset)
{
    uint8_t a[16], b[16];
    unsigned pa, pb;
    bool va, vb;
    if (!pat_ip_parse(inner, il, a, &pa, &va) || !pat_ip_parse(outer_k->s, outer_k->len, b, &pb, &vb))
        return false;
    if (va != vb)
        return false;
    if (!subset) { /* value ISSUPERSET literal: the literal lies inside the value */
        uint8_t t[16];
        unsigned tp = pa;
        memcpy(t, a, 16);
        memcpy(a, b, 16);
        pa = pb;
        memcpy(b, t, 16);
        pb = tp;
    }
    /* a/pa inside b/pb */
    if (pa < pb)
        return false;
    for (unsigned bit = 0; bit < pb; bit++) {
        unsigned byte = bit / 8, mask = 0x80u >> (bit % 8);
        if ((a[byte] & mask) != (b[byte] & mask))
            return false;
    }
    return true;
}

static bool test_value(ectx *e, const pat_cmp *c, const json_t *v, const char *key)
{
    dt_buf buf;
    dt_buf_init(&buf, 64u << 20);
    jv x = read_value(e, v, key, &buf);
    bool r = false;
    int cmp;
    switch (c->op) {
    case OP_EQ:
        r = equal(e, &x, &c->value);
        break;
    case OP_NEQ:
        r = !equal(e, &x, &c->value);
        break;
    case OP_LT:
    case OP_GT:
    case OP_LE:
    case OP_GE:
        if (c->value.kind != PAT_BOOL && compare(e, &x, &c->value, &cmp))
            r = c->op == OP_LT ? cmp < 0 : c->op == OP_GT ? cmp > 0 : c->op == OP_LE ? cmp <= 0
                                                                                     : cmp >= 0;
        break;
    case OP_IN:
        for (size_t i = 0; !r && i < c->set_count; i++)
            r = equal(e, &x, &c->set[i]);
        break;
    case OP_LIKE:
        r = x.kind == JV_STR && like_match(x.s, x.len, c->value.s, c->value.len);
        break;
    case OP_MATCHES:
        r = regex_match(e, c, &x);
        break;
    case OP_ISSUBSET:
    case OP_ISSUPERSET:
        r = x.kind == JV_STR && ip_within(x.s, x.len, &c->value, c->op == OP_ISSUBSET);
        break;
    case OP_EXISTS:
        r = true;
        break;
    }
    dt_buf_release(&buf);
    return r != c->negated;
}

/* ---------------------------------------------------------------- paths */

static const json_t *deref(ectx *e, const obs *o, const json_t *v)
{
    if (!json_is_string(v))
        return NULL;
    if (o->embedded)
        return json_object_get(o->embedded, json_string_value(v));
    return idx_get(e->byid, json_string_value(v));
}

/* Walk path steps from `v`; true when some selected value passes the test
 * (for EXISTS: when some value is selected). `key` is the key v came from,
 * is_ref says v is a reference to follow if more steps remain. */
static bool walk(ectx *e, const obs *o, const pat_cmp *c, size_t step, const json_t *v,
                 const char *key, bool is_ref, bool in_refs)
{
    if (step == c->path.count)
        return c->op == OP_EXISTS ? true : test_value(e, c, v, key);
    if (is_ref) {
        v = deref(e, o, v);
        if (v == NULL)
            return false;
    }
    const pat_step *s = &c->path.steps[step];
    if (s->kind == STEP_KEY) {
        const json_t *n = json_is_object(v) ? json_object_get(v, s->key) : NULL;
        if (n == NULL)
            return false;
        return walk(e, o, c, step + 1, n, s->key, ends_with(s->key, "_ref"),
                    ends_with(s->key, "_refs"));
    }
    if (!json_is_array(v))
        return false;
    size_t n = json_array_size(v);
    if (s->kind == STEP_INDEX) {
        int64_t i = s->index < 0 ? (int64_t)n + s->index : s->index;
        if (i < 0 || (uint64_t)i >= n)
            return false;
        return walk(e, o, c, step + 1, json_array_get(v, (size_t)i), NULL, in_refs, false);
    }
    for (size_t i = 0; i < n; i++)
        if (walk(e, o, c, step + 1, json_array_get(v, i), NULL, in_refs, false))
            return true;
    return false;
}

static bool test_root(ectx *e, const obs *o, const pat_cmp *c, const json_t *root)
{
    switch (c->kind) {
    case CMP_AND:
        for (size_t i = 0; i < c->count; i++)
            if (!test_root(e, o, c->kids[i], root))
                return false;
        return true;
    case CMP_OR:
        for (size_t i = 0; i < c->count; i++)
            if (test_root(e, o, c->kids[i], root))
                return true;
        return false;
    case CMP_TEST:
        break;
    }
    const char *type = json_string_value(json_object_get(root, "type"));
    if (type == NULL || strcmp(type, c->path.type) != 0)
        return false;
    if (c->op == OP_EXISTS) {
        bool found = walk(e, o, c, 0, root, NULL, false, false);
        return found != c->negated;
    }
    return walk(e, o, c, 0, root, NULL, false, false);
}

static bool obs_matches(ectx *e, const obs *o, const pat_cmp *c)
{
    for (size_t r = 0; r < o->nroots; r++)
        if (json_is_object(o->roots[r]) && test_root(e, o, c, o->roots[r]))
            return true;
    return false;
}

/* ---------------------------------------------------------------- bindings */

static bool spend(ectx *e, size_t units)
{
    if (e->work + units > EVAL_MAX_WORK) {
        e->truncated = true;
        return false;
    }
    e->work += units;
    return true;
}

static binding *bset_alloc(ectx *e, bset *s, size_t cap)
{
    s->count = 0;
    s->b = cap ? pat_arena_alloc(&e->arena, cap * sizeof *s->b) : NULL;
    if (cap && s->b == NULL)
        e->oom = true;
    return s->b;
}

/* A binding holding a's and b's observations. */
static bool binding_join(ectx *e, const binding *a, const binding *b, binding *out)
{
    if (!spend(e, a->n + b->n))
        return false;
    out->n = a->n + b->n;
    out->idx = pat_arena_alloc(&e->arena, out->n * sizeof *out->idx);
    if (out->idx == NULL) {
        e->oom = true;
        return false;
    }
    memcpy(out->idx, a->idx, a->n * sizeof *a->idx);
    memcpy(out->idx + a->n, b->idx, b->n * sizeof *b->idx);
    out->max_first = a->max_first > b->max_first ? a->max_first : b->max_first;
    out->min_last = a->min_last < b->min_last ? a->min_last : b->min_last;
    return true;
}

/* Can b be added to the observations counted in e->used? */
static bool fits(ectx *e, const binding *b)
{
    uint32_t k;
    bool ok = true;
    for (k = 0; k < b->n; k++) {
        uint32_t i = b->idx[k];
        if (e->used[i] >= e->obs[i].count) {
            ok = false;
            break;
        }
        e->used[i]++;
    }
    while (k > 0) {
        k--;
        e->used[b->idx[k]]--;
    }
    return ok;
}

static void count_in(ectx *e, const binding *b, int sign)
{
    for (uint32_t k = 0; k < b->n; k++)
        e->used[b->idx[k]] += (uint32_t)sign;
}

static bset eval_obs(ectx *e, const pat_obs *o);

static bset join_all(ectx *e, const pat_obs *o)
{
    bset acc = eval_obs(e, o->kids[0]);
    for (size_t k = 1; k < o->count && acc.count > 0 && !e->oom; k++) {
        bset rhs = eval_obs(e, o->kids[k]), out;
        if (rhs.count == 0 || e->oom)
            return rhs;
        size_t cap = acc.count * rhs.count;
        if (cap > EVAL_MAX_BINDINGS)
            cap = EVAL_MAX_BINDINGS;
        if (bset_alloc(e, &out, cap) == NULL)
            return out;
        for (size_t i = 0; i < acc.count; i++) {
            count_in(e, &acc.b[i], 1);
            for (size_t j = 0; j < rhs.count; j++) {
                if (!spend(e, 1))
                    break;
                if (o->kind == OBS_FOLLOWEDBY && acc.b[i].max_first > rhs.b[j].min_last)
                    continue;
                if (!fits(e, &rhs.b[j]))
                    continue;
                if (out.count == cap) {
                    e->truncated = true;
                    break;
                }
                if (binding_join(e, &acc.b[i], &rhs.b[j], &out.b[out.count]))
                    out.count++;
            }
            count_in(e, &acc.b[i], -1);
            if (out.count == cap || e->truncated)
                break;
        }
        acc = out;
    }
    return acc;
}

static int by_time(const void *x, const void *y)
{
    const binding *a = x, *b = y;
    if (a->min_last != b->min_last)
        return a->min_last < b->min_last ? -1 : 1;
    if (a->max_first != b->max_first)
        return a->max_first < b->max_first ? -1 : 1;
    return 0;
}

static bset repeat(ectx *e, bset kids, uint32_t n)
{
    bset out;
    if (n == 1 || kids.count == 0)
        return kids;
    qsort(kids.b, kids.count, sizeof *kids.b, by_time);
    if (bset_alloc(e, &out, kids.count) == NULL)
        return out;
    for (size_t i = 0; i < kids.count && !e->oom; i++) {
        binding group = kids.b[i];
        uint32_t members = 1;
        count_in(e, &kids.b[i], 1);
        /* the same binding again first (number_observed > 1), then later ones */
        for (size_t j = i; j < kids.count && members < n; j++) {
            while (members < n && spend(e, 1) && fits(e, &kids.b[j])) {
                binding joined;
                if (!binding_join(e, &group, &kids.b[j], &joined))
                    break;
                count_in(e, &kids.b[j], 1);
                group = joined;
                members++;
            }
            if (e->truncated || e->oom)
                break;
        }
        count_in(e, &group, -1);
        if (members == n)
            out.b[out.count++] = group;
        if (e->truncated)
            break;
    }
    return out;
}

static bset eval_obs(ectx *e, const pat_obs *o)
{
    bset s = {0};
    switch (o->kind) {
    case OBS_SIMPLE: {
        size_t cap = e->nobs < EVAL_MAX_BINDINGS ? e->nobs : EVAL_MAX_BINDINGS;
        if (bset_alloc(e, &s, cap) == NULL)
            return s;
        for (size_t i = 0; i < e->nobs && !e->oom; i++) {
            if (!spend(e, 1) || !obs_matches(e, &e->obs[i], o->cmp))
                continue;
            if (s.count == cap) {
                e->truncated = true;
                break;
            }
            binding *b = &s.b[s.count];
            b->idx = pat_arena_alloc(&e->arena, sizeof *b->idx);
            if (b->idx == NULL) {
                e->oom = true;
                break;
            }
            b->idx[0] = (uint32_t)i;
            b->n = 1;
            b->max_first = e->obs[i].first_us;
            b->min_last = e->obs[i].last_us;
            s.count++;
        }
        return s;
    }
    case OBS_OR: {
        size_t total = 0;
        bset *all = pat_arena_alloc(&e->arena, o->count * sizeof *all);
        if (all == NULL) {
            e->oom = true;
            return s;
        }
        for (size_t k = 0; k < o->count && !e->oom; k++) {
            all[k] = eval_obs(e, o->kids[k]);
            total += all[k].count;
        }
        if (total > EVAL_MAX_BINDINGS) {
            total = EVAL_MAX_BINDINGS;
            e->truncated = true;
        }
        if (e->oom || bset_alloc(e, &s, total) == NULL)
            return s;
        for (size_t k = 0; k < o->count; k++)
            for (size_t j = 0; j < all[k].count && s.count < total; j++)
                s.b[s.count++] = all[k].b[j];
        return s;
    }
    case OBS_AND:
    case OBS_FOLLOWEDBY:
        return join_all(e, o);
    case OBS_WITHIN:
    case OBS_STARTSTOP: {
        int64_t start = dt_time_to_us(&o->start), stop = dt_time_to_us(&o->stop);
        s = eval_obs(e, o->child);
        size_t keep = 0;
        for (size_t i = 0; i < s.count; i++) {
            const binding *b = &s.b[i];
            bool ok = o->kind == OBS_WITHIN ? b->max_first - b->min_last <= o->within_us
                                            : b->max_first < stop && b->min_last >= start;
            if (ok)
                s.b[keep++] = *b;
        }
        s.count = keep;
        return s;
    }
    case OBS_REPEATS:
        return repeat(e, eval_obs(e, o->child), o->repeats);
    }
    return s;
}

/* ---------------------------------------------------------------- input */

static dt_status read_time(ectx *e, const json_t *od, const char *name, const char *id,
                           int64_t *out)
{
    const json_t *v = json_object_get(od, name);
    dt_time t;
    dt_err terr = {0};
    if (!json_is_string(v))
        return dt_fail(e->err, DT_EINVALID, id, "observed-data without a %s timestamp", name);
    if (dt_time_parse(json_string_value(v), json_string_length(v), &t, &terr) != DT_OK)
        return dt_fail(e->err, DT_EINVALID, id, "%s: %s", name, terr.msg);
    *out = dt_time_to_us(&t);
    return DT_OK;
}

static dt_status add_observed_data(ectx *e, const json_t *od, obs *o)
{
    const char *id = json_string_value(json_object_get(od, "id"));
    const json_t *n = json_object_get(od, "number_observed");
    const json_t *refs = json_object_get(od, "object_refs");
    const json_t *objs = json_object_get(od, "objects");
    dt_status rc;
    if (id == NULL)
        id = "observed-data";
    memset(o, 0, sizeof *o);
    if ((rc = read_time(e, od, "first_observed", id, &o->first_us)) != DT_OK ||
        (rc = read_time(e, od, "last_observed", id, &o->last_us)) != DT_OK)
        return rc;
    if (o->last_us < o->first_us)
        return dt_fail(e->err, DT_EINVALID, id, "last_observed is before first_observed");
    if (!json_is_integer(n) || json_integer_value(n) < 1 ||
        json_integer_value(n) > EVAL_MAX_OBSERVED)
        return dt_fail(e->err, DT_EINVALID, id, "number_observed must be an integer 1..%d",
                       EVAL_MAX_OBSERVED);
    o->count = (uint32_t)json_integer_value(n);
    if (json_is_array(refs)) {
        size_t cnt = json_array_size(refs);
        o->roots = pat_arena_alloc(&e->arena, (cnt ? cnt : 1) * sizeof *o->roots);
        if (o->roots == NULL)
            return dt_fail(e->err, DT_ENOMEM, id, "out of memory");
        for (size_t i = 0; i < cnt; i++) {
            const json_t *sco = idx_get(e->byid, json_string_value(json_array_get(refs, i)));
            if (sco != NULL) /* an unresolved reference is skipped, as the matcher does */
                o->roots[o->nroots++] = sco;
        }
    } else if (json_is_object(objs)) {
        const char *key;
        json_t *v;
        size_t cnt = json_object_size(objs);
        o->embedded = objs;
        o->roots = pat_arena_alloc(&e->arena, (cnt ? cnt : 1) * sizeof *o->roots);
        if (o->roots == NULL)
            return dt_fail(e->err, DT_ENOMEM, id, "out of memory");
        json_object_foreach((json_t *)objs, key, v)
            o->roots[o->nroots++] = v;
    }
    return DT_OK;
}

static dt_status run(ectx *e, bool *matched)
{
    dt_status rc = DT_OK;
    e->used = dt_calloc(e->nobs ? e->nobs : 1, sizeof *e->used);
    dt_buf_init(&e->tmp, 64u << 20);
    if (e->used == NULL)
        return dt_fail(e->err, DT_ENOMEM, "pattern", "out of memory");
    bset s = eval_obs(e, e->p->root);
    if (e->oom)
        rc = dt_fail(e->err, DT_ENOMEM, "pattern", "out of memory while matching");
    else if (s.count > 0)
        *matched = true;
    else if (e->truncated)
        rc = dt_fail(e->err, DT_ELIMIT, "pattern",
                     "gave up: the search for matching observations grew past its bound");
    return rc;
}

static void ectx_release(ectx *e)
{
    dt_free(e->used);
    dt_buf_release(&e->tmp);
    pcre2_match_data_free(e->md);
    pcre2_match_context_free(e->mc);
    pat_arena_release(&e->arena);
}

dt_status pattern_match(const pattern *p, const json_t *objects, bool *matched, dt_err *err)
{
    ectx e = {.p = p, .err = err};
    dt_status rc = DT_OK;
    idx byid = {0};
    DT_CHECK(p != NULL && matched != NULL);
    *matched = false;
    if (!json_is_array(objects))
        return dt_fail(err, DT_EINVALID, "objects", "expected a JSON array of STIX objects");
    if (!idx_build(&byid, objects))
        return dt_fail(err, DT_ENOMEM, "objects", "out of memory");
    e.byid = &byid;
    size_t n = json_array_size(objects), count = 0;
    for (size_t i = 0; i < n; i++) {
        const char *type = json_string_value(json_object_get(json_array_get(objects, i), "type"));
        count += type != NULL && strcmp(type, "observed-data") == 0;
    }
    e.obs = pat_arena_alloc(&e.arena, (count ? count : 1) * sizeof *e.obs);
    if (e.obs == NULL) {
        rc = dt_fail(err, DT_ENOMEM, "objects", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n && rc == DT_OK; i++) {
        const json_t *o = json_array_get(objects, i);
        const char *type = json_string_value(json_object_get(o, "type"));
        if (type != NULL && strcmp(type, "observed-data") == 0)
            rc = add_observed_data(&e, o, &e.obs[e.nobs++]);
    }
    if (rc == DT_OK)
        rc = run(&e, matched);
out:
    ectx_release(&e);
    idx_release(&byid);
    return rc;
}

dt_status pattern_match_record(const pattern *p, const json_t *scos, int64_t ts_us, bool *matched,
                               dt_err *err)
{
    ectx e = {.p = p, .err = err};
    obs one = {.first_us = ts_us, .last_us = ts_us, .count = 1};
    dt_status rc;
    DT_CHECK(p != NULL && matched != NULL);
    *matched = false;
    if (!json_is_array(scos))
        return dt_fail(err, DT_EINVALID, "scos", "expected a JSON array of SCOs");
    idx byid = {0};
    if (!idx_build(&byid, scos))
        return dt_fail(err, DT_ENOMEM, "scos", "out of memory");
    size_t n = json_array_size(scos);
    one.roots = dt_malloc((n ? n : 1) * sizeof *one.roots);
    if (one.roots == NULL) {
        idx_release(&byid);
        return dt_fail(err, DT_ENOMEM, "scos", "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        one.roots[one.nroots++] = json_array_get(scos, i);
    e.byid = &byid;
    e.obs = &one;
    e.nobs = 1;
    rc = run(&e, matched);
    ectx_release(&e);
    dt_free((void *)one.roots);
    idx_release(&byid);
    return rc;
}
