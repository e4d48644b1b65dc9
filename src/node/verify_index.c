/* One claim's verdict without the full pass: the evidence index.
 *
 * A verdict (engine.c) rests on the claim itself, on the sightings and
 * opinions that reference it, and, for the self-contradiction check, on
 * what the claim's source said against the same values ("negations"):
 * revoked claims naming one of its atoms, and disagreeing opinions by that
 * source on claims naming one. So one claim needs only:
 *   1. the claim (every readable version: the engine keeps the newest);
 *   2. the objects referencing it;
 *   3. the revoked claims naming one of its atoms;
 *   4. the disagreeing opinions by its source, and the claims they name.
 * Feeding these (or any superset: an extra object can only add negations
 * for other sources or values, or evidence to other claims) to a fresh
 * engine gives this claim the byte-identical verdict and evidence of the
 * full pass. test_verify_index.c checks that on every claim of a scenario
 * store.
 *
 * They are found through rows in the store's kv table, written by ingest in
 * the same transaction as the object version (node_verify_index_put, called
 * from ingest.c store_batch), all with an empty value:
 *   "vref/<target id>/<sighting or opinion id>"  sighting_of_ref, object_refs
 *   "vrev/<16 hex FNV-1a of type NUL value>/<indicator id>"  atoms of a
 *                                                revoked indicator version
 *   "vneg/<source>/<opinion id>"                 a disagreeing opinion version
 * A plain indicator writes nothing: ingest of claims pays no index row (a
 * row keyed by a hash or an id lands on a random page of the B-tree, the
 * dearest kind of write). Rows are never removed: a row written for an
 * older version is a superset entry, harmless (the engine reads the newest
 * version and finds it no longer refers, is no longer revoked, ...). A hash
 * collision likewise only adds a candidate. The rows say nothing by
 * themselves: every object is then read by id through node_query for the
 * requester, so clearance and collection grants apply exactly as in the
 * full pass. The cost of one claim grows with the revoked claims of its
 * values and the disagreements of its source (bench_verify: well under a
 * millisecond at a million claims).
 *
 * Objects stored before the index existed are indexed once: the kv key
 * "verify/index" holding INDEX_VERSION marks a store whose index is
 * complete (node_init sets it on a new store); without it the first
 * single-claim read rebuilds the index (node_verify_index_rebuild, also
 * `detente verify --reindex`), and a read-only store falls back to the
 * full pass. */
#include "node/node_int.h"
#include "pattern/pattern.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INDEX_MARK "verify/index"
#define INDEX_VERSION "2" /* 1: every indicator's atoms (no "vneg/" rows) */
#define REF_PREFIX "vref/"
#define REV_PREFIX "vrev/"
#define NEG_PREFIX "vneg/"
#define UNATTRIBUTED "unattributed" /* as engine.c names a source-less object */
#define KEY_MAX 512

static dt_status key_put(store_txn *t, char *key, size_t cap, int len, dt_err *err)
{
    if (len < 0 || (size_t)len >= cap)
        return DT_OK; /* an id too long for a key cannot be a STIX id: nothing to index */
    return store_kv_put(t, key, "", err);
}

static void atom_hash(const char *type, const char *value, char out[17])
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *s = type; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    h = (h ^ 0xffu) * 0x100000001b3ull; /* the separator: no type ends in 0xff */
    for (const char *s = value; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* The atoms an indicator's pattern names, as engine.c add_atoms reads them.
 * *out empty when the pattern is not STIX or not a plain disjunction. */
static void pattern_atoms_of(const json_t *obj, pattern_atoms *out)
{
    const char *ptype = json_string_value(json_object_get(obj, "pattern_type"));
    const char *text = json_string_value(json_object_get(obj, "pattern"));
    pattern *p = NULL;
    memset(out, 0, sizeof *out);
    if (ptype == NULL || strcmp(ptype, "stix") != 0 || text == NULL)
        return;
    if (pattern_parse(text, strlen(text), &p, NULL) != DT_OK)
        return;
    if (pattern_atoms_extract(p, out, NULL) != DT_OK)
        memset(out, 0, sizeof *out);
    pattern_free(p);
}

/* A source as engine.c reads it: the signer, else created_by_ref. */
static const char *source_of(const char *signer, const json_t *obj)
{
    const char *by = signer != NULL && *signer ? signer
                                               : json_string_value(json_object_get(obj, "created_by_ref"));
    return by != NULL && *by ? by : UNATTRIBUTED;
}

dt_status node_verify_index_put(store_txn *t, const char *id, const char *signer,
                                const json_t *obj, dt_err *err)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    char key[KEY_MAX];
    dt_status rc = DT_OK;

    if (type == NULL || id == NULL)
        return DT_OK;
    if (strcmp(type, "sighting") == 0) {
        const char *of = json_string_value(json_object_get(obj, "sighting_of_ref"));
        if (of != NULL)
            rc = key_put(t, key, sizeof key,
                         snprintf(key, sizeof key, REF_PREFIX "%s/%s", of, id), err);
    } else if (strcmp(type, "opinion") == 0) {
        const json_t *refs = json_object_get(obj, "object_refs");
        verify_opinion op;
        for (size_t k = 0; k < json_array_size(refs) && rc == DT_OK; k++) {
            const char *of = json_string_value(json_array_get(refs, k));
            if (of != NULL)
                rc = key_put(t, key, sizeof key,
                             snprintf(key, sizeof key, REF_PREFIX "%s/%s", of, id), err);
        }
        if (rc == DT_OK &&
            verify_opinion_parse(json_string_value(json_object_get(obj, "opinion")), &op) &&
            op < 0)
            rc = key_put(t, key, sizeof key,
                         snprintf(key, sizeof key, NEG_PREFIX "%s/%s", source_of(signer, obj), id),
                         err);
    } else if (strcmp(type, "indicator") == 0 && json_is_true(json_object_get(obj, "revoked"))) {
        pattern_atoms as;
        pattern_atoms_of(obj, &as);
        for (size_t k = 0; k < as.count && rc == DT_OK; k++) {
            char h[17];
            atom_hash(as.atoms[k].type, as.atoms[k].value, h);
            rc = key_put(t, key, sizeof key,
                         snprintf(key, sizeof key, REV_PREFIX "%s/%s", h, id), err);
        }
        pattern_atoms_release(&as);
    }
    return rc;
}

dt_status node_verify_index_mark(store_txn *t, dt_err *err)
{
    return store_kv_put(t, INDEX_MARK, INDEX_VERSION, err);
}

dt_status node_verify_index_rebuild(node *n, size_t *objects, dt_err *err)
{
    static const char *const types[] = {"indicator", "sighting", "opinion"};
    store_collection *cols = NULL;
    size_t ncols = 0, done = 0;
    dt_status rc;

    if (objects)
        *objects = 0;
    rc = store_collection_list(n->st, &cols, &ncols, err);
    for (size_t c = 0; c < ncols && rc == DT_OK; c++) {
        /* every version: the index is a superset over versions, as ingest
         * writes it; the store's own reads, no clearance (nothing is shown) */
        store_query q = {.collection = cols[c].id, .types = types, .type_count = 3,
                         .versions = STORE_VER_ALL, .max_marking = -1,
                         .limit = STORE_MAX_PAGE, .with_json = true};
        for (;;) {
            store_page page;
            store_txn *t = NULL;
            rc = store_query_page(n->st, &q, &page, err);
            if (rc != DT_OK)
                break;
            if (page.count > 0)
                rc = store_begin(n->st, &t, err);
            for (size_t i = 0; i < page.count && rc == DT_OK; i++) {
                const store_row *r = &page.rows[i];
                json_t *obj;
                if (r->json == NULL)
                    continue;
                obj = json_loadb(r->json, r->json_len, 0, NULL);
                if (obj == NULL)
                    rc = dt_fail(err, DT_ENOMEM, r->id, "cannot read the stored object");
                else {
                    rc = node_verify_index_put(t, r->id, r->signer, obj, err);
                    json_decref(obj);
                    done++;
                }
            }
            if (t != NULL) {
                if (rc == DT_OK)
                    rc = store_commit(t, err);
                else
                    store_rollback(t);
            }
            bool more = page.more && page.count > 0;
            if (page.count > 0) {
                q.after_date_added = page.rows[page.count - 1].date_added;
                q.after_rowid = page.rows[page.count - 1].rowid;
            }
            store_page_release(&page);
            if (rc != DT_OK || !more)
                break;
        }
    }
    dt_free(cols);
    if (rc == DT_OK) {
        store_txn *t = NULL;
        rc = store_begin(n->st, &t, err);
        if (rc == DT_OK) {
            rc = node_verify_index_mark(t, err);
            if (rc == DT_OK)
                rc = store_commit(t, err);
            else
                store_rollback(t);
        }
    }
    if (rc == DT_OK && objects)
        *objects = done;
    return rc;
}

/* ------------------------------------------------------------ one claim */

typedef struct idset {
    char **ids;
    size_t count, cap;
} idset;

static dt_status idset_add(idset *s, const char *id, size_t len, dt_err *err)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **p = dt_realloc(s->ids, cap * sizeof *p);
        if (p == NULL)
            return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
        s->ids = p;
        s->cap = cap;
    }
    char *c = dt_malloc(len + 1);
    if (c == NULL)
        return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    memcpy(c, id, len);
    c[len] = '\0';
    s->ids[s->count++] = c;
    return DT_OK;
}

static void idset_release(idset *s)
{
    for (size_t i = 0; i < s->count; i++)
        dt_free(s->ids[i]);
    dt_free(s->ids);
    memset(s, 0, sizeof *s);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void idset_unique(idset *s)
{
    size_t w = 0;
    if (s->count == 0)
        return;
    qsort(s->ids, s->count, sizeof *s->ids, cmp_str);
    for (size_t i = 0; i < s->count; i++) {
        if (w > 0 && strcmp(s->ids[w - 1], s->ids[i]) == 0)
            dt_free(s->ids[i]);
        else
            s->ids[w++] = s->ids[i];
    }
    s->count = w;
}

/* The ids after "<prefix>" in kv keys starting with prefix; only those
 * starting with `only` when not NULL. */
static dt_status ids_under(node *n, const char *prefix, const char *only, idset *out,
                           dt_err *err)
{
    char **keys = NULL, **vals = NULL;
    size_t count = 0, plen = strlen(prefix);
    dt_status rc = store_kv_list(n->st, prefix, 0, &keys, &vals, &count, err);
    for (size_t i = 0; i < count && rc == DT_OK; i++) {
        const char *id = keys[i] + plen;
        if (only == NULL || strncmp(id, only, strlen(only)) == 0)
            rc = idset_add(out, id, strlen(id), err);
    }
    store_kv_list_free(keys, vals, count);
    return rc;
}

static dt_status refs_of(node *n, const char *target, const char *only, idset *out, dt_err *err)
{
    char prefix[KEY_MAX];
    int len = snprintf(prefix, sizeof prefix, REF_PREFIX "%s/", target);
    if (len < 0 || (size_t)len >= sizeof prefix)
        return DT_OK;
    return ids_under(n, prefix, only, out, err);
}

/* Every readable newest version of ids, fed to e; each fed object is also
 * handed to seen (may be NULL). */
typedef dt_status (*seen_fn)(const store_row *r, const json_t *obj, void *arg, dt_err *err);

static dt_status feed_ids(node *n, const node_principal *who, verify_engine *e,
                          const idset *ids, seen_fn seen, void *arg, dt_err *err)
{
    store_collection *cols = NULL;
    size_t ncols = 0;
    dt_status rc = store_collection_list(n->st, &cols, &ncols, err);
    for (size_t c = 0; c < ncols && rc == DT_OK; c++) {
        for (size_t at = 0; at < ids->count && rc == DT_OK; at += STORE_MAX_LIST) {
            size_t cnt = ids->count - at < STORE_MAX_LIST ? ids->count - at : STORE_MAX_LIST;
            store_query q = {.collection = cols[c].id,
                             .ids = (const char *const *)ids->ids + at, .id_count = cnt,
                             .versions = STORE_VER_LAST, .max_marking = -1,
                             .limit = STORE_MAX_PAGE, .with_json = true};
            for (;;) {
                store_page page;
                dt_err e2 = {0};
                rc = node_query(n, who, &q, &page, &e2);
                if (rc == DT_EDENIED || rc == DT_ENOTFOUND) { /* not readable by who */
                    rc = DT_OK;
                    at = ids->count; /* the whole collection: next one */
                    break;
                }
                if (rc != DT_OK) {
                    if (err != NULL)
                        *err = e2;
                    break;
                }
                for (size_t i = 0; i < page.count && rc == DT_OK; i++) {
                    const store_row *r = &page.rows[i];
                    json_t *obj;
                    if (r->json == NULL)
                        continue;
                    obj = json_loadb(r->json, r->json_len, 0, NULL);
                    if (obj == NULL)
                        rc = dt_fail(err, DT_ENOMEM, r->id, "cannot read the stored object");
                    else {
                        verify_ref w = {.id = r->id, .modified = r->modified,
                                        .signer = r->signer, .collection = r->collection,
                                        .leaf_index = r->leaf_index};
                        rc = verify_engine_add(e, &w, obj, err);
                        if (rc == DT_OK && seen != NULL)
                            rc = seen(r, obj, arg, err);
                        json_decref(obj);
                    }
                }
                bool more = page.more && page.count > 0;
                if (page.count > 0) {
                    q.after_date_added = page.rows[page.count - 1].date_added;
                    q.after_rowid = page.rows[page.count - 1].rowid;
                }
                store_page_release(&page);
                if (rc != DT_OK || !more)
                    break;
            }
        }
    }
    dt_free(cols);
    return rc;
}

/* What may have negated the claim: the revoked claims naming one of its
 * atoms and the disagreeing opinions by its source (any readable version's
 * atoms and source: a superset is harmless). */
typedef struct cand_arg {
    node *n;
    idset *claims, *opinions;
} cand_arg;

static dt_status note_claim(const store_row *r, const json_t *obj, void *argp, dt_err *err)
{
    cand_arg *a = argp;
    pattern_atoms as;
    char prefix[KEY_MAX];
    const char *type = json_string_value(json_object_get(obj, "type"));
    int len = snprintf(prefix, sizeof prefix, NEG_PREFIX "%s/", source_of(r->signer, obj));
    dt_status rc = DT_OK;
    if (len > 0 && (size_t)len < sizeof prefix)
        rc = ids_under(a->n, prefix, NULL, a->opinions, err);
    if (rc != DT_OK || type == NULL || strcmp(type, "indicator") != 0)
        return rc;
    pattern_atoms_of(obj, &as);
    for (size_t k = 0; k < as.count && rc == DT_OK; k++) {
        char h[17];
        atom_hash(as.atoms[k].type, as.atoms[k].value, h);
        snprintf(prefix, sizeof prefix, REV_PREFIX "%s/", h);
        rc = ids_under(a->n, prefix, NULL, a->claims, err);
    }
    pattern_atoms_release(&as);
    return rc;
}

/* The claims a disagreeing opinion names. */
static dt_status note_targets(const store_row *r, const json_t *obj, void *argp, dt_err *err)
{
    idset *claims = argp;
    const json_t *refs = json_object_get(obj, "object_refs");
    dt_status rc = DT_OK;
    (void)r;
    for (size_t k = 0; k < json_array_size(refs) && rc == DT_OK; k++) {
        const char *of = json_string_value(json_array_get(refs, k));
        if (of != NULL)
            rc = idset_add(claims, of, strlen(of), err);
    }
    return rc;
}

static dt_status index_ready(node *n, bool *ready, dt_err *err)
{
    char *v = NULL;
    dt_err e2 = {0};
    dt_status rc = store_kv_get(n->st, NULL, INDEX_MARK, &v, &e2);
    *ready = rc == DT_OK && v != NULL && strcmp(v, INDEX_VERSION) == 0;
    dt_free(v);
    if (rc == DT_OK || rc == DT_ENOTFOUND)
        return DT_OK;
    if (err != NULL)
        *err = e2;
    return rc;
}

dt_status node_verify_one(node *n, const node_principal *who, const verify_lists *lists,
                          int64_t as_of, const char *id, verify_engine **out, dt_err *err)
{
    verify_engine *e = NULL;
    idset first = {0}, claims = {0}, opinions = {0}, more = {0};
    cand_arg ca = {.n = n, .claims = &claims, .opinions = &opinions};
    bool ready = false;
    dt_status rc;

    *out = NULL;
    rc = index_ready(n, &ready, err);
    if (rc == DT_OK && !ready) {
        dt_err e2 = {0};
        rc = node_verify_index_rebuild(n, NULL, &e2);
        if (rc == DT_EDENIED) /* a read-only store: the full pass is still right */
            return node_verify_run(n, who, lists, as_of, out, err);
        if (rc != DT_OK && err != NULL)
            *err = e2;
    }
    if (rc == DT_OK)
        rc = verify_engine_new(lists, NULL, &e, err);
    /* 1. the claim; 3, 4. the revoked claims of its values, its source's
     * disagreements */
    if (rc == DT_OK)
        rc = idset_add(&first, id, strlen(id), err);
    if (rc == DT_OK)
        rc = feed_ids(n, who, e, &first, note_claim, &ca, err);
    if (rc == DT_OK) {
        idset_unique(&opinions);
        rc = feed_ids(n, who, e, &opinions, note_targets, &claims, err);
    }
    /* 2. what references the claim, and the claims disagreed with */
    if (rc == DT_OK)
        rc = refs_of(n, id, NULL, &more, err);
    for (size_t i = 0; i < claims.count && rc == DT_OK; i++)
        if (strcmp(claims.ids[i], id) != 0)
            rc = idset_add(&more, claims.ids[i], strlen(claims.ids[i]), err);
    if (rc == DT_OK) {
        idset_unique(&more);
        /* an opinion fed twice is ignored by the engine (same version) */
        rc = feed_ids(n, who, e, &more, NULL, NULL, err);
    }
    if (rc == DT_OK)
        rc = verify_engine_run(e, as_of, err);
    idset_release(&first);
    idset_release(&claims);
    idset_release(&opinions);
    idset_release(&more);
    if (rc != DT_OK) {
        verify_engine_free(e);
        return rc;
    }
    *out = e;
    return DT_OK;
}
