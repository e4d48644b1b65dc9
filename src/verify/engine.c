/* The verification engine: verdicts for every claim of a set of stored
 * objects and the reliability of every source, from the objects alone.
 *
 * Objects are fed one at a time (verify_engine_add) and reduced at once to
 * what the rule needs, so the engine never holds JSON: a claim keeps its id,
 * source, times, validity text and pattern atoms; a sighting or an opinion
 * keeps its target, source, times, count or opinion. Strings live in one
 * bump arena and ids are found through open-addressing tables (FNV-1a), so
 * a million claims with a million sightings fit in a few hundred MB and
 * the run is linear in the number of objects.
 *
 * verify_engine_run then (1) resolves every sighting_of_ref / object_refs
 * to its claim and groups evidence per claim (counting sort), (2) collects
 * what each source said against values ("negations": a revoked indicator's
 * atoms, the atoms of a claim the source disagreed with) for the
 * self-contradiction check, (3) builds each claim's evidence and calls the
 * pure rule (verdict.c), keeping only the verdict, score and the instant it
 * was judged at; verify_engine_explain rebuilds one claim's evidence in
 * full on demand, so answers do not cost memory per evidence item.
 *
 * Determinism: the result depends on the set of objects only (not their
 * order, not the clock): "now" per claim is the newest date among the
 * claim and its evidence (or an explicit as_of), ties between versions of
 * one id are broken by the canonical modified string, and the rule orders
 * evidence canonically itself. The design and the choices (which objects
 * are claims, who a source is, what contradicts what) are in
 * docs/verdicts.md "On a node". */
#include "pattern/pattern.h"
#include "verify/verify.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NONE UINT32_MAX
#define ITEM_BIT 0x80000000u
#define UNATTRIBUTED "unattributed"

/* ------------------------------------------------------------ arena */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    char data[];
} chunk;

/* ------------------------------------------------------- string table */

typedef struct smap {
    const char **keys;
    uint32_t *vals;
    size_t cap, count;
} smap;

typedef struct atom {
    const char *type, *path, *value;
} atom;

typedef struct claim {
    const char *id, *type, *modified, *signer, *collection;
    const char *valid_from, *valid_until, *cannot_match;
    int64_t leaf, t_modified;
    uint32_t source, atom_first, atom_count;
    bool revoked, dead;
    /* after the run */
    uint32_t ev_first, ev_count, pos;
    uint32_t sightings, opinions;
    int64_t now;
    verify_verdict verdict;
    double score;
} claim;

typedef struct item {
    verify_evidence_class cls;
    bool dead;
    const char *target, *id, *modified, *signer, *collection, *explanation;
    int64_t leaf, time, first_seen, last_seen;
    uint32_t claim, source, count;
    verify_opinion opinion;
} item;

typedef struct negation {
    uint32_t source;
    const char *type, *value;
    int64_t time;
    uint32_t origin;        /* the claim revoked or disagreed with */
    const char *by;         /* the object that says so */
} negation;

struct verify_engine {
    const verify_lists *lists;
    verify_params params;
    chunk *arena;
    smap ids;                /* object id -> claim index or ITEM_BIT | first item */
    smap source_map;         /* identity -> source index */
    const char **sources;
    size_t source_count, source_cap;
    claim *claims;
    size_t claim_count, claim_cap;
    atom *atoms;
    size_t atom_count, atom_cap;
    item *items;
    size_t item_count, item_cap;
    /* after the run */
    bool ran;
    int64_t as_of, latest;
    uint32_t *by_claim;      /* item indexes grouped by claim */
    uint32_t *order;         /* live claims by id */
    size_t live;
    uint32_t *src_order;     /* sources (with claims) by id */
    size_t src_live;
    uint32_t *src_first, *src_count, *src_claims;
    negation *neg;           /* open-addressing table, hashed by (source, type, value) */
    size_t neg_cap, neg_count;
};

static const char *astr(verify_engine *e, const char *s, size_t len)
{
    chunk *c = e->arena;
    if (c == NULL || c->cap - c->used < len + 1) {
        size_t cap = len + 1 > (1u << 20) ? len + 1 : (1u << 20);
        chunk *n = dt_malloc(sizeof *n + cap);
        if (n == NULL)
            return NULL;
        n->next = c;
        n->used = 0;
        n->cap = cap;
        e->arena = c = n;
    }
    char *p = c->data + c->used;
    memcpy(p, s, len);
    p[len] = '\0';
    c->used += len + 1;
    return p;
}

static const char *adup(verify_engine *e, const char *s)
{
    return s ? astr(e, s, strlen(s)) : NULL;
}

static uint64_t fnv(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}
#define FNV0 0xcbf29ce484222325ull

static bool smap_get(const smap *m, const char *k, uint32_t *v)
{
    if (m->cap == 0)
        return false;
    for (size_t i = fnv(k, FNV0) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == NULL)
            return false;
        if (strcmp(m->keys[i], k) == 0) {
            *v = m->vals[i];
            return true;
        }
    }
}

/* Insert or overwrite; k must live as long as the map (arena). */
static dt_status smap_put(smap *m, const char *k, uint32_t v, dt_err *err)
{
    if ((m->count + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        const char **keys = dt_calloc(cap, sizeof *keys);
        uint32_t *vals = dt_calloc(cap, sizeof *vals);
        if (keys == NULL || vals == NULL) {
            dt_free(keys);
            dt_free(vals);
            return dt_fail(err, DT_ENOMEM, "verify", "out of memory growing an id table");
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (m->keys[i] == NULL)
                continue;
            size_t j = fnv(m->keys[i], FNV0) & (cap - 1);
            while (keys[j] != NULL)
                j = (j + 1) & (cap - 1);
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
        dt_free(m->keys);
        dt_free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    size_t i = fnv(k, FNV0) & (m->cap - 1);
    while (m->keys[i] != NULL && strcmp(m->keys[i], k) != 0)
        i = (i + 1) & (m->cap - 1);
    if (m->keys[i] == NULL) {
        m->keys[i] = k;
        m->count++;
    }
    m->vals[i] = v;
    return DT_OK;
}

static void smap_release(smap *m)
{
    dt_free(m->keys);
    dt_free(m->vals);
    memset(m, 0, sizeof *m);
}

static dt_status grow(void **arr, size_t *cap, size_t count, size_t size, dt_err *err)
{
    if (count < *cap)
        return DT_OK;
    size_t n = *cap ? *cap * 2 : 256;
    void *p = dt_realloc(*arr, n * size);
    if (p == NULL)
        return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    *arr = p;
    *cap = n;
    return DT_OK;
}

dt_status verify_engine_new(const verify_lists *lists, const verify_params *p, verify_engine **out,
                            dt_err *err)
{
    verify_engine *e = dt_calloc(1, sizeof *e);
    *out = NULL;
    if (e == NULL)
        return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    e->lists = lists;
    if (p != NULL)
        e->params = *p;
    else
        verify_params_default(&e->params);
    *out = e;
    return DT_OK;
}

void verify_engine_free(verify_engine *e)
{
    if (e == NULL)
        return;
    while (e->arena) {
        chunk *n = e->arena->next;
        dt_free(e->arena);
        e->arena = n;
    }
    smap_release(&e->ids);
    smap_release(&e->source_map);
    dt_free(e->sources);
    dt_free(e->claims);
    dt_free(e->atoms);
    dt_free(e->items);
    dt_free(e->by_claim);
    dt_free(e->order);
    dt_free(e->src_order);
    dt_free(e->src_first);
    dt_free(e->src_count);
    dt_free(e->src_claims);
    dt_free(e->neg);
    dt_free(e);
}

/* ------------------------------------------------------------ feeding */

static int64_t secs_of(const char *s)
{
    dt_time t;
    if (s == NULL || dt_time_parse(s, strlen(s), &t, NULL) != DT_OK)
        return 0;
    return t.sec;
}

static dt_status source_index(verify_engine *e, const char *id, uint32_t *out, dt_err *err)
{
    if (id == NULL || *id == '\0')
        id = UNATTRIBUTED;
    if (smap_get(&e->source_map, id, out))
        return DT_OK;
    const char *k = adup(e, id);
    if (k == NULL || grow((void **)&e->sources, &e->source_cap, e->source_count, sizeof *e->sources,
                          err) != DT_OK)
        return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    *out = (uint32_t)e->source_count;
    e->sources[e->source_count++] = k;
    return smap_put(&e->source_map, k, *out, err);
}

/* Properties an SCO type has (STIX 2.1 section 6), for "cannot match":
 * an equality atom on any other first property of these types names
 * something no such object carries. Types not listed are not judged. */
static const char *const common_props[] = {"id", "type", "spec_version", "object_marking_refs",
                                           "granular_markings", "defanged", "extensions", NULL};
static const struct {
    const char *type;
    const char *props[16];
} sco_props[] = {
    {"ipv4-addr", {"value", "resolves_to_refs", "belongs_to_refs", NULL}},
    {"ipv6-addr", {"value", "resolves_to_refs", "belongs_to_refs", NULL}},
    {"domain-name", {"value", "resolves_to_refs", NULL}},
    {"url", {"value", NULL}},
    {"mac-addr", {"value", NULL}},
    {"email-addr", {"value", "display_name", "belongs_to_ref", NULL}},
    {"autonomous-system", {"number", "name", "rir", NULL}},
    {"file",
     {"hashes", "size", "name", "name_enc", "magic_number_hex", "mime_type", "ctime", "mtime",
      "atime", "parent_directory_ref", "contains_refs", "content_ref", NULL}},
    {"x509-certificate",
     {"is_self_signed", "hashes", "version", "serial_number", "signature_algorithm", "issuer",
      "validity_not_before", "validity_not_after", "subject", "subject_public_key_algorithm",
      "subject_public_key_modulus", "subject_public_key_exponent", "x509_v3_extensions", NULL}},
};

static bool has_prop(const char *type, const char *path, bool *known)
{
    size_t len = strcspn(path, ".[");
    *known = false;
    for (size_t i = 0; i < sizeof sco_props / sizeof sco_props[0]; i++) {
        if (strcmp(sco_props[i].type, type) != 0)
            continue;
        *known = true;
        for (const char *const *p = sco_props[i].props; *p; p++)
            if (strlen(*p) == len && strncmp(*p, path, len) == 0)
                return true;
        for (const char *const *p = common_props; *p; p++)
            if (strlen(*p) == len && strncmp(*p, path, len) == 0)
                return true;
        return false;
    }
    return true;
}

static dt_status add_atoms(verify_engine *e, claim *c, const json_t *obj, dt_err *err)
{
    const char *ptype = json_string_value(json_object_get(obj, "pattern_type"));
    const char *text = json_string_value(json_object_get(obj, "pattern"));
    pattern *p = NULL;
    pattern_atoms as = {0};
    dt_status rc = DT_OK;

    c->atom_first = (uint32_t)e->atom_count;
    c->atom_count = 0;
    if (ptype == NULL || strcmp(ptype, "stix") != 0 || text == NULL)
        return DT_OK;
    /* a pattern that does not parse, or is not a disjunction of equality
     * tests, has no atoms: it is judged by sightings and opinions only */
    if (pattern_parse(text, strlen(text), &p, NULL) != DT_OK)
        return DT_OK;
    if (pattern_atoms_extract(p, &as, NULL) == DT_OK) {
        for (size_t i = 0; i < as.count && rc == DT_OK; i++) {
            bool known;
            rc = grow((void **)&e->atoms, &e->atom_cap, e->atom_count, sizeof *e->atoms, err);
            if (rc != DT_OK)
                break;
            atom *a = &e->atoms[e->atom_count];
            a->type = adup(e, as.atoms[i].type);
            a->path = adup(e, as.atoms[i].path);
            a->value = adup(e, as.atoms[i].value);
            if (a->type == NULL || a->path == NULL || a->value == NULL) {
                rc = dt_fail(err, DT_ENOMEM, "verify", "out of memory");
                break;
            }
            e->atom_count++;
            c->atom_count++;
            if (c->cannot_match == NULL && !has_prop(a->type, a->path, &known) && known) {
                char msg[512];
                snprintf(msg, sizeof msg,
                         "the pattern compares %.40s:%.60s, a property %.40s objects do not have: "
                         "it cannot match anything",
                         a->type, a->path, a->type);
                c->cannot_match = adup(e, msg);
            }
        }
    }
    pattern_atoms_release(&as);
    pattern_free(p);
    return rc;
}

static bool is_claim_relationship(const json_t *obj)
{
    const char *rt = json_string_value(json_object_get(obj, "relationship_type"));
    /* informational links assert nothing checkable */
    return rt != NULL && strcmp(rt, "related-to") != 0 && strcmp(rt, "derived-from") != 0 &&
           strcmp(rt, "duplicate-of") != 0;
}

static const char *source_of(const verify_ref *w, const json_t *obj)
{
    if (w->signer != NULL && *w->signer)
        return w->signer;
    return json_string_value(json_object_get(obj, "created_by_ref"));
}

/* Is (id, modified) newer than what the engine holds under id? Marks the
 * old one dead when so. */
static bool supersedes(verify_engine *e, const char *id, const char *modified, bool *seen)
{
    uint32_t v;
    *seen = smap_get(&e->ids, id, &v);
    if (!*seen)
        return true;
    if (v & ITEM_BIT) {
        item *it = &e->items[v & ~ITEM_BIT];
        if (strcmp(modified ? modified : "", it->modified ? it->modified : "") <= 0)
            return false;
        for (size_t k = v & ~ITEM_BIT; k < e->item_count && e->items[k].id == it->id; k++)
            e->items[k].dead = true;
    } else {
        claim *c = &e->claims[v];
        if (strcmp(modified ? modified : "", c->modified ? c->modified : "") <= 0)
            return false;
        c->dead = true;
    }
    return true;
}

static dt_status add_claim(verify_engine *e, const verify_ref *w, const json_t *obj, dt_err *err)
{
    bool seen;
    dt_status rc;
    if (!supersedes(e, w->id, w->modified, &seen))
        return DT_OK;
    rc = grow((void **)&e->claims, &e->claim_cap, e->claim_count, sizeof *e->claims, err);
    if (rc != DT_OK)
        return rc;
    claim *c = &e->claims[e->claim_count];
    memset(c, 0, sizeof *c);
    const char *mod = json_string_value(json_object_get(obj, "modified"));
    if (mod == NULL)
        mod = json_string_value(json_object_get(obj, "created"));
    c->id = adup(e, w->id);
    c->type = adup(e, json_string_value(json_object_get(obj, "type")));
    c->modified = adup(e, w->modified);
    c->signer = adup(e, w->signer);
    c->collection = adup(e, w->collection);
    c->valid_from = adup(e, json_string_value(json_object_get(obj, "valid_from")));
    c->valid_until = adup(e, json_string_value(json_object_get(obj, "valid_until")));
    c->leaf = w->leaf_index;
    c->t_modified = secs_of(mod);
    c->revoked = json_is_true(json_object_get(obj, "revoked"));
    if (c->id == NULL || c->type == NULL)
        return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    rc = source_index(e, source_of(w, obj), &c->source, err);
    if (rc == DT_OK && strcmp(c->type, "indicator") == 0)
        rc = add_atoms(e, c, obj, err);
    if (rc != DT_OK)
        return rc;
    rc = smap_put(&e->ids, c->id, (uint32_t)e->claim_count, err);
    if (rc == DT_OK)
        e->claim_count++;
    return rc;
}

static dt_status add_item(verify_engine *e, const verify_ref *w, const json_t *obj,
                          verify_evidence_class cls, dt_err *err)
{
    const char *by = NULL;
    const json_t *refs;
    size_t nrefs, first = e->item_count;
    verify_opinion op = VERIFY_OP_NEUTRAL;
    uint32_t count = 1, src;
    int64_t fs = 0, ls = 0, t;
    bool seen;
    dt_status rc;

    const char *mod = json_string_value(json_object_get(obj, "modified"));
    if (mod == NULL)
        mod = json_string_value(json_object_get(obj, "created"));
    t = secs_of(mod);
    if (cls == VERIFY_EV_SIGHTING) {
        json_t *c = json_object_get(obj, "count");
        if (json_is_integer(c)) {
            json_int_t v = json_integer_value(c);
            if (v <= 0)
                return DT_OK; /* "looked, not seen": no corroboration */
            count = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
        }
        fs = secs_of(json_string_value(json_object_get(obj, "first_seen")));
        ls = secs_of(json_string_value(json_object_get(obj, "last_seen")));
        t = ls ? ls : fs ? fs : t;
        by = w->signer && *w->signer ? w->signer : NULL;
        if (by == NULL)
            by = json_string_value(json_array_get(json_object_get(obj, "where_sighted_refs"), 0));
        if (by == NULL)
            by = json_string_value(json_object_get(obj, "created_by_ref"));
        refs = json_object_get(obj, "sighting_of_ref");
        nrefs = json_is_string(refs) ? 1 : 0;
    } else {
        if (!verify_opinion_parse(json_string_value(json_object_get(obj, "opinion")), &op))
            return DT_OK;
        by = source_of(w, obj);
        refs = json_object_get(obj, "object_refs");
        nrefs = json_is_array(refs) ? json_array_size(refs) : 0;
    }
    if (nrefs == 0 || !supersedes(e, w->id, w->modified, &seen))
        return DT_OK;
    rc = source_index(e, by, &src, err);
    if (rc != DT_OK)
        return rc;
    const char *id = adup(e, w->id), *modified = adup(e, w->modified),
               *signer = adup(e, w->signer), *collection = adup(e, w->collection), *expl = NULL;
    if (cls == VERIFY_EV_OPINION) {
        const char *x = json_string_value(json_object_get(obj, "explanation"));
        if (x != NULL)
            expl = astr(e, x, strnlen(x, 120));
    }
    if (id == NULL)
        return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    for (size_t k = 0; k < nrefs; k++) {
        const char *target =
            json_string_value(cls == VERIFY_EV_SIGHTING ? refs : json_array_get(refs, k));
        if (target == NULL)
            continue;
        rc = grow((void **)&e->items, &e->item_cap, e->item_count, sizeof *e->items, err);
        if (rc != DT_OK)
            return rc;
        item *it = &e->items[e->item_count];
        memset(it, 0, sizeof *it);
        it->cls = cls;
        it->target = adup(e, target);
        it->id = id;
        it->modified = modified;
        it->signer = signer;
        it->collection = collection;
        it->explanation = expl;
        it->leaf = w->leaf_index;
        it->time = t;
        it->first_seen = fs;
        it->last_seen = ls;
        it->count = count;
        it->opinion = op;
        it->source = src;
        it->claim = NONE;
        if (it->target == NULL)
            return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
        e->item_count++;
    }
    if (e->item_count == first)
        return DT_OK;
    return smap_put(&e->ids, id, ITEM_BIT | (uint32_t)first, err);
}

dt_status verify_engine_add(verify_engine *e, const verify_ref *where, const void *objp,
                            dt_err *err)
{
    const json_t *obj = objp;
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (e->ran)
        return dt_fail(err, DT_EARG, "verify", "objects added after the run");
    if (type == NULL || where == NULL || where->id == NULL)
        return DT_OK;
    if (e->claim_count >= ITEM_BIT - 1 || e->item_count >= ITEM_BIT - 1)
        return dt_fail(err, DT_ELIMIT, "verify", "more than 2^31 claims or evidence items");
    if (strcmp(type, "indicator") == 0 ||
        (strcmp(type, "relationship") == 0 && is_claim_relationship(obj)))
        return add_claim(e, where, obj, err);
    if (strcmp(type, "sighting") == 0)
        return add_item(e, where, obj, VERIFY_EV_SIGHTING, err);
    if (strcmp(type, "opinion") == 0)
        return add_item(e, where, obj, VERIFY_EV_OPINION, err);
    return DT_OK;
}

/* ---------------------------------------------------------- negations */

static uint64_t neg_hash(uint32_t source, const char *type, const char *value)
{
    uint64_t h = FNV0 ^ source;
    h = fnv(type, h * 0x100000001b3ull);
    return fnv(value, h ^ 0xff);
}

static negation *neg_insert(verify_engine *e, uint32_t source, const char *type,
                           const char *value)
{
    for (size_t i = neg_hash(source, type, value) & (e->neg_cap - 1);;
         i = (i + 1) & (e->neg_cap - 1)) {
        negation *n = &e->neg[i];
        if (n->type == NULL) {
            n->source = source;
            n->type = type;
            n->value = value;
            e->neg_count++;
            return n;
        }
        if (n->source == source && strcmp(n->type, type) == 0 && strcmp(n->value, value) == 0)
            return n;
    }
}

static const negation *neg_lookup(const verify_engine *e, uint32_t source, const char *type,
                                  const char *value)
{
    if (e->neg_cap == 0)
        return NULL;
    for (size_t i = neg_hash(source, type, value) & (e->neg_cap - 1);;
         i = (i + 1) & (e->neg_cap - 1)) {
        const negation *n = &e->neg[i];
        if (n->type == NULL)
            return NULL;
        if (n->source == source && strcmp(n->type, type) == 0 && strcmp(n->value, value) == 0)
            return n;
    }
}

static void neg_note(verify_engine *e, uint32_t source, uint32_t origin, int64_t time,
                     const char *by)
{
    const claim *c = &e->claims[origin];
    for (uint32_t k = 0; k < c->atom_count; k++) {
        const atom *a = &e->atoms[c->atom_first + k];
        negation *n = neg_insert(e, source, a->type, a->value);
        /* keep the newest; on a tie the smallest origin id, for determinism */
        if (n->by == NULL || time > n->time ||
            (time == n->time && strcmp(c->id, e->claims[n->origin].id) < 0)) {
            n->time = time;
            n->origin = origin;
            n->by = by;
        }
    }
}

static dt_status collect_negations(verify_engine *e, dt_err *err)
{
    size_t want = 0;
    for (size_t i = 0; i < e->claim_count; i++)
        if (!e->claims[i].dead && e->claims[i].revoked)
            want += e->claims[i].atom_count;
    for (size_t i = 0; i < e->item_count; i++) {
        const item *it = &e->items[i];
        if (!it->dead && it->cls == VERIFY_EV_OPINION && it->opinion < 0 && it->claim != NONE)
            want += e->claims[it->claim].atom_count;
    }
    if (want == 0)
        return DT_OK;
    e->neg_cap = 16;
    while (e->neg_cap < want * 2)
        e->neg_cap *= 2;
    e->neg = dt_calloc(e->neg_cap, sizeof *e->neg);
    if (e->neg == NULL)
        return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    for (uint32_t i = 0; i < e->claim_count; i++)
        if (!e->claims[i].dead && e->claims[i].revoked)
            neg_note(e, e->claims[i].source, i, e->claims[i].t_modified, e->claims[i].id);
    for (size_t i = 0; i < e->item_count; i++) {
        const item *it = &e->items[i];
        if (!it->dead && it->cls == VERIFY_EV_OPINION && it->opinion < 0 && it->claim != NONE)
            neg_note(e, it->source, it->claim, it->time, it->id);
    }
    return DT_OK;
}

/* ---------------------------------------------------------- evidence */

typedef struct scratch {
    verify_evidence *ev;
    verify_ref *where;
    size_t count, cap;
} scratch;

static verify_evidence *ev_push(scratch *s, verify_ref **where)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        verify_evidence *ev = dt_realloc(s->ev, cap * sizeof *ev);
        if (ev == NULL)
            return NULL;
        s->ev = ev;
        verify_ref *w = dt_realloc(s->where, cap * sizeof *w);
        if (w == NULL)
            return NULL;
        s->where = w;
        s->cap = cap;
    }
    verify_evidence *e = &s->ev[s->count];
    memset(e, 0, sizeof *e);
    *where = &s->where[s->count];
    memset(*where, 0, sizeof **where);
    (*where)->leaf_index = -1;
    s->count++;
    return e;
}

/* The verify_check_value type and the warninglist attribute of an atom. */
static void atom_kinds(const atom *a, const char **check, const char **attr)
{
    *check = *attr = NULL;
    if (strcmp(a->path, "value") == 0) {
        if (strcmp(a->type, "ipv4-addr") == 0 || strcmp(a->type, "ipv6-addr") == 0) {
            *check = a->type;
            *attr = "ip-dst";
        } else if (strcmp(a->type, "domain-name") == 0) {
            *check = a->type;
            *attr = "domain";
        } else if (strcmp(a->type, "url") == 0) {
            *check = a->type;
            *attr = "url";
        } else if (strcmp(a->type, "email-addr") == 0) {
            *check = a->type;
            *attr = "email";
        }
    } else if (strncmp(a->path, "hashes.", 7) == 0) {
        static const char *const map[][2] = {{"MD5", "md5"},         {"SHA-1", "sha1"},
                                             {"SHA1", "sha1"},       {"SHA-256", "sha256"},
                                             {"SHA256", "sha256"},   {"SHA-512", "sha512"},
                                             {"SHA512", "sha512"}};
        const char *alg = a->path + 7;
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (strcasecmp(alg, map[i][0]) == 0) {
                *check = map[i][0];
                *attr = map[i][1];
            }
    }
}

static void set_msg(verify_evidence *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_msg(verify_evidence *ev, const char *fmt, ...)
{
    char big[1024]; /* formatted whole, then cut to the message's size */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(big, sizeof big, fmt, ap);
    va_end(ap);
    dt_strlcpy(ev->message, big, sizeof ev->message);
}

static void fmt_time(int64_t t, char out[DT_TIME_LEN])
{
    dt_time x = {.sec = t};
    dt_time_format(&x, 0, out);
}

/* Every piece of evidence of claim ci into s (reset first); *now the
 * instant it is judged at. DT_ENOMEM. */
static dt_status build(const verify_engine *e, uint32_t ci, scratch *s, int64_t *now, dt_err *err)
{
    const claim *c = &e->claims[ci];
    verify_evidence *ev, tmp[8];
    verify_ref *w;
    int64_t t = c->t_modified;
    size_t n;

    s->count = 0;
    if (e->as_of > 0) {
        t = e->as_of;
    } else {
        for (uint32_t k = 0; k < c->ev_count; k++) {
            const item *it = &e->items[e->by_claim[c->ev_first + k]];
            if (it->time > t)
                t = it->time;
        }
    }
    if (e->as_of <= 0 && !c->revoked) {
        /* a later retraction by the claim's own source is evidence too */
        for (uint32_t k = 0; k < c->atom_count; k++) {
            const atom *a = &e->atoms[c->atom_first + k];
            const negation *ng = neg_lookup(e, c->source, a->type, a->value);
            if (ng != NULL && ng->origin != ci && ng->time > c->t_modified && ng->time > t)
                t = ng->time;
        }
    }
    *now = t;
    int64_t static_time = c->t_modified < t ? c->t_modified : t;

#define PUSH()                                                                 \
    do {                                                                       \
        ev = ev_push(s, &w);                                                   \
        if (ev == NULL)                                                        \
            return dt_fail(err, DT_ENOMEM, "verify", "out of memory");         \
    } while (0)

    /* the claim's own face */
    json_t *face = json_object();
    if (face == NULL)
        return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    if (c->valid_from)
        json_object_set_new(face, "valid_from", json_string(c->valid_from));
    if (c->valid_until)
        json_object_set_new(face, "valid_until", json_string(c->valid_until));
    if (c->revoked)
        json_object_set_new(face, "revoked", json_true());
    n = verify_check_indicator(face, t, tmp, 8);
    json_decref(face);
    for (size_t k = 0; k < n && k < 8; k++) {
        PUSH();
        *ev = tmp[k];
        ev->time = static_time;
    }
    if (c->cannot_match != NULL) {
        PUSH();
        ev->cls = VERIFY_EV_DEFECT;
        dt_strlcpy(ev->kind, "technical:cannot-match", sizeof ev->kind);
        dt_strlcpy(ev->message, c->cannot_match, sizeof ev->message);
        ev->time = static_time;
        ev->is_fatal = true;
    }
    bool contradicted = false;
    for (uint32_t k = 0; k < c->atom_count; k++) {
        const atom *a = &e->atoms[c->atom_first + k];
        const char *check, *attr;
        atom_kinds(a, &check, &attr);
        if (check != NULL) {
            n = verify_check_value(check, a->value, tmp, 8);
            for (size_t j = 0; j < n && j < 8; j++) {
                PUSH();
                *ev = tmp[j];
                set_msg(ev, "%.40s:%.30s: %s", a->type, a->path,
                         tmp[j].message);
                ev->time = static_time;
            }
        }
        if (attr != NULL && e->lists != NULL) {
            verify_hit hits[8];
            n = verify_lists_lookup(e->lists, attr, a->value, hits, 8);
            for (size_t j = 0; j < n && j < 8; j++) {
                PUSH();
                ev->cls = VERIFY_EV_WARNINGLIST;
                dt_strlcpy(ev->kind, "warninglist", sizeof ev->kind);
                set_msg(ev, "%.60s listed in %.60s: %s", a->value,
                         hits[j].list_name, hits[j].description ? hits[j].description : "");
                ev->time = static_time;
            }
        }
        if (!contradicted && !c->revoked) {
            const negation *ng = neg_lookup(e, c->source, a->type, a->value);
            if (ng != NULL && ng->origin != ci && ng->time > c->t_modified && ng->time <= t) {
                const claim *o = &e->claims[ng->origin];
                contradicted = true;
                PUSH();
                ev->cls = VERIFY_EV_DEFECT;
                dt_strlcpy(ev->kind, "technical:self-contradiction", sizeof ev->kind);
                snprintf(ev->message, sizeof ev->message,
                         "its source later %s %.100s, which names the same %.40s",
                         strcmp(ng->by, o->id) == 0 ? "revoked" : "disagreed with", o->id,
                         a->type);
                ev->time = ng->time;
                w->id = ng->by;
                w->modified = strcmp(ng->by, o->id) == 0 ? o->modified : NULL;
                w->signer = strcmp(ng->by, o->id) == 0 ? o->signer : NULL;
                w->collection = strcmp(ng->by, o->id) == 0 ? o->collection : NULL;
                w->leaf_index = strcmp(ng->by, o->id) == 0 ? o->leaf : -1;
                /* an opinion: find it among the origin's items for its row */
                if (strcmp(ng->by, o->id) != 0) {
                    for (uint32_t j = 0; j < o->ev_count; j++) {
                        const item *it = &e->items[e->by_claim[o->ev_first + j]];
                        if (it->id == ng->by) {
                            w->modified = it->modified;
                            w->signer = it->signer;
                            w->collection = it->collection;
                            w->leaf_index = it->leaf;
                            break;
                        }
                    }
                }
            }
        }
    }
    for (uint32_t k = 0; k < c->ev_count; k++) {
        const item *it = &e->items[e->by_claim[c->ev_first + k]];
        char a[DT_TIME_LEN], b[DT_TIME_LEN];
        PUSH();
        ev->cls = it->cls;
        dt_strlcpy(ev->source, e->sources[it->source], sizeof ev->source);
        ev->time = it->time;
        if (it->cls == VERIFY_EV_SIGHTING) {
            dt_strlcpy(ev->kind, "sighting", sizeof ev->kind);
            ev->count = it->count;
            fmt_time(it->first_seen ? it->first_seen : it->time, a);
            fmt_time(it->last_seen ? it->last_seen : it->time, b);
            set_msg(ev, "seen %u time%s, first %s, last %s",
                     it->count, it->count == 1 ? "" : "s", a, b);
        } else {
            static const char *const names[] = {"strongly-disagree", "disagree", "neutral",
                                                "agree", "strongly-agree"};
            dt_strlcpy(ev->kind, "opinion", sizeof ev->kind);
            ev->opinion = it->opinion;
            set_msg(ev, "%s%s%.120s", names[it->opinion + 2],
                     it->explanation ? ": " : "", it->explanation ? it->explanation : "");
        }
        w->id = it->id;
        w->modified = it->modified;
        w->signer = it->signer;
        w->collection = it->collection;
        w->leaf_index = it->leaf;
    }
#undef PUSH
    return DT_OK;
}

static void claim_of(const claim *c, verify_claim *out, const verify_engine *e)
{
    memset(out, 0, sizeof *out);
    out->source = e->sources[c->source];
    out->created = c->t_modified;
    out->valid_from = secs_of(c->valid_from);
    out->valid_until = secs_of(c->valid_until);
    out->is_revoked = c->revoked;
}

/* ---------------------------------------------------------------- run */

static const verify_engine *sort_e; /* qsort has no context argument */
static int by_claim_id(const void *a, const void *b)
{
    return strcmp(sort_e->claims[*(const uint32_t *)a].id,
                  sort_e->claims[*(const uint32_t *)b].id);
}
static int by_item_id(const void *a, const void *b)
{
    return strcmp(sort_e->items[*(const uint32_t *)a].id, sort_e->items[*(const uint32_t *)b].id);
}
static int by_source_id(const void *a, const void *b)
{
    return strcmp(sort_e->sources[*(const uint32_t *)a], sort_e->sources[*(const uint32_t *)b]);
}

dt_status verify_engine_run(verify_engine *e, int64_t as_of, dt_err *err)
{
    scratch s = {0};
    dt_status rc = DT_OK;

    if (e->ran)
        return dt_fail(err, DT_EARG, "verify", "the engine has run already");
    e->ran = true;
    e->as_of = as_of;
    /* 1. targets, and evidence grouped per claim */
    for (size_t i = 0; i < e->item_count; i++) {
        item *it = &e->items[i];
        uint32_t v;
        if (!it->dead && smap_get(&e->ids, it->target, &v) && !(v & ITEM_BIT) &&
            !e->claims[v].dead) {
            it->claim = v;
            e->claims[v].ev_count++;
            if (it->cls == VERIFY_EV_SIGHTING)
                e->claims[v].sightings++;
            else
                e->claims[v].opinions++;
        }
    }
    e->by_claim = dt_malloc((e->item_count ? e->item_count : 1) * sizeof *e->by_claim);
    e->order = dt_malloc((e->claim_count ? e->claim_count : 1) * sizeof *e->order);
    if (e->by_claim == NULL || e->order == NULL)
        return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    uint32_t at = 0;
    for (size_t i = 0; i < e->claim_count; i++) {
        e->claims[i].ev_first = at;
        at += e->claims[i].ev_count;
        e->claims[i].ev_count = 0;
    }
    for (size_t i = 0; i < e->item_count; i++) {
        claim *c = e->items[i].claim == NONE ? NULL : &e->claims[e->items[i].claim];
        if (c != NULL)
            e->by_claim[c->ev_first + c->ev_count++] = (uint32_t)i;
    }
    /* evidence in a canonical order (by object id), whatever the order it
     * was stored in: two nodes list it alike */
    sort_e = e;
    for (size_t i = 0; i < e->claim_count; i++)
        if (e->claims[i].ev_count > 1)
            qsort(e->by_claim + e->claims[i].ev_first, e->claims[i].ev_count,
                  sizeof *e->by_claim, by_item_id);
    sort_e = NULL;
    /* 2. what sources said against values */
    rc = collect_negations(e, err);
    if (rc != DT_OK)
        return rc;
    /* 3. every verdict */
    for (uint32_t i = 0; i < e->claim_count; i++) {
        claim *c = &e->claims[i];
        verify_claim vc;
        verify_result r;
        if (c->dead)
            continue;
        e->order[e->live++] = i;
        rc = build(e, i, &s, &c->now, err);
        if (rc != DT_OK)
            break;
        claim_of(c, &vc, e);
        rc = verify_verdict_compute(&vc, s.ev, s.count, c->now, &e->params, &r, err);
        if (rc != DT_OK)
            break;
        c->verdict = r.verdict;
        c->score = r.score;
        if (c->now > e->latest)
            e->latest = c->now;
        verify_result_release(&r);
    }
    dt_free(s.ev);
    dt_free(s.where);
    if (rc != DT_OK)
        return rc;
    sort_e = e;
    qsort(e->order, e->live, sizeof *e->order, by_claim_id);
    for (size_t k = 0; k < e->live; k++)
        e->claims[e->order[k]].pos = (uint32_t)k;
    /* 4. sources with claims, and their claims */
    e->src_first = dt_calloc(e->source_count + 1, sizeof *e->src_first);
    e->src_count = dt_calloc(e->source_count + 1, sizeof *e->src_count);
    e->src_claims = dt_malloc((e->live ? e->live : 1) * sizeof *e->src_claims);
    e->src_order = dt_malloc((e->source_count ? e->source_count : 1) * sizeof *e->src_order);
    if (e->src_first == NULL || e->src_count == NULL || e->src_claims == NULL ||
        e->src_order == NULL)
        return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    for (size_t k = 0; k < e->live; k++)
        e->src_count[e->claims[e->order[k]].source]++;
    at = 0;
    for (size_t i = 0; i < e->source_count; i++) {
        e->src_first[i] = at;
        at += e->src_count[i];
        if (e->src_count[i] > 0)
            e->src_order[e->src_live++] = (uint32_t)i;
        e->src_count[i] = 0;
    }
    for (size_t k = 0; k < e->live; k++) {
        uint32_t src = e->claims[e->order[k]].source;
        e->src_claims[e->src_first[src] + e->src_count[src]++] = e->order[k];
    }
    qsort(e->src_order, e->src_live, sizeof *e->src_order, by_source_id);
    sort_e = NULL;
    return DT_OK;
}

/* ------------------------------------------------------------ answers */

size_t verify_engine_claim_count(const verify_engine *e)
{
    return e->live;
}

static void info_of(const verify_engine *e, const claim *c, verify_claim_info *out)
{
    memset(out, 0, sizeof *out);
    out->id = c->id;
    out->type = c->type;
    out->source = e->sources[c->source];
    out->where.id = c->id;
    out->where.modified = c->modified;
    out->where.signer = c->signer;
    out->where.collection = c->collection;
    out->where.leaf_index = c->leaf;
    out->now = c->now;
    out->verdict = c->verdict;
    out->score = c->score;
    out->sightings = c->sightings;
    out->opinions = c->opinions;
}

void verify_engine_claim(const verify_engine *e, size_t i, verify_claim_info *out)
{
    info_of(e, &e->claims[e->order[i]], out);
}

bool verify_engine_find(const verify_engine *e, const char *id, size_t *i)
{
    uint32_t v;
    if (!e->ran || !smap_get(&e->ids, id, &v) || (v & ITEM_BIT) || e->claims[v].dead)
        return false;
    *i = e->claims[v].pos;
    return true;
}

dt_status verify_engine_explain(const verify_engine *e, size_t i, verify_explain *out, dt_err *err)
{
    scratch s = {0};
    verify_claim vc;
    uint32_t ci = e->order[i];
    int64_t now;
    dt_status rc;

    memset(out, 0, sizeof *out);
    rc = build(e, ci, &s, &now, err);
    if (rc == DT_OK) {
        claim_of(&e->claims[ci], &vc, e);
        rc = verify_verdict_compute(&vc, s.ev, s.count, now, &e->params, &out->result, err);
    }
    if (rc != DT_OK) {
        dt_free(s.ev);
        dt_free(s.where);
        return rc;
    }
    info_of(e, &e->claims[ci], &out->claim);
    out->ev = s.ev;
    out->where = s.where;
    out->count = s.count;
    return DT_OK;
}

void verify_explain_release(verify_explain *x)
{
    if (x == NULL)
        return;
    dt_free(x->ev);
    dt_free(x->where);
    verify_result_release(&x->result);
    memset(x, 0, sizeof *x);
}

size_t verify_engine_source_count(const verify_engine *e)
{
    return e->src_live;
}

const char *verify_engine_source_id(const verify_engine *e, size_t i)
{
    return e->sources[e->src_order[i]];
}

size_t verify_engine_source_claims(const verify_engine *e, size_t i)
{
    return e->src_count[e->src_order[i]];
}

dt_status verify_engine_source_reliability(const verify_engine *e, size_t i, int64_t as_of,
                                           verify_reliability *out, dt_err *err)
{
    uint32_t src = e->src_order[i];
    size_t n = e->src_count[src];
    verify_outcome *o = dt_malloc((n ? n : 1) * sizeof *o);
    if (o == NULL)
        return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    for (size_t j = 0; j < n; j++) {
        const claim *c = &e->claims[e->src_claims[e->src_first[src] + j]];
        o[j].verdict = c->verdict;
        o[j].time = c->now;
    }
    verify_reliability_compute(o, n, as_of, out);
    dt_free(o);
    return DT_OK;
}

int64_t verify_engine_latest(const verify_engine *e)
{
    return e->latest;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (the
 * era-based arithmetic: 400-year eras of 146097 days). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int64_t verify_month_end(int64_t t, unsigned back)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t y;
    unsigned m;
    civil_from_days(days, &y, &m);
    int64_t months = y * 12 + (m - 1) - back + 1; /* the month after the target */
    int64_t ny = months >= 0 ? months / 12 : -((-months + 11) / 12);
    unsigned nm = (unsigned)(months - ny * 12) + 1;
    return days_from_civil(ny, nm, 1) * 86400 - 1;
}
