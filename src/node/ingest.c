/* The one door in.
 *
 * Every object that enters a node — TAXII POST, `detente import`, a sync
 * pull, a sighting from a scan, an opinion — passes through node_ingest_*:
 *
 *   validate (stix/) → pattern check (indicators) → signature: verify what
 *   is signed, sign what a local writer puts in → effective marking → RFC
 *   8785 bytes and their SHA-256 → one store transaction: put the version,
 *   append its ledger leaf → commit.
 *
 * The object row and its ledger leaf are written in the same transaction,
 * so the two can never disagree. The ledger index of the next leaf is read
 * once per transaction and counted locally: the writer is the only place
 * that assigns leaf indexes and date_added (DESIGN.md "Ingest").
 *
 * Preparation (validation, signatures, hashing) happens before the write
 * transaction is opened, so the single writer holds its lock only for the
 * inserts. A rejected object never stops the others unless the caller asked
 * for an atomic ingest; a store failure rolls back the whole batch, so a
 * batch is stored entirely or not at all and nothing half-written survives
 * a crash (SQLite's journal does the rest). */
#include "ledger/ledger.h"
#include "node/node_int.h"
#include "pattern/pattern.h"
#include "stix/stix.h"

#include <stdio.h>
#include <string.h>

#define INGEST_CHUNK 2000

typedef struct prepared {
    json_t *obj;             /* validated (and signed) copy; NULL when rejected */
    char *jcs;
    size_t jcs_len;
    uint8_t sha[32];
    char signer[160];
    bool has_signer;
    char modified[DT_TIME_LEN];
    char modified_text[DT_TIME_LEN];
    node_tlp marking;
    bool revoked;
} prepared;

static void item_reject(node_ingest_item *it, const dt_err *e, dt_status code)
{
    it->outcome = NODE_ITEM_REJECTED;
    it->status = e && e->code != DT_OK ? e->code : code;
    if (e != NULL && e->code != DT_OK) {
        char text[sizeof it->msg + 128];
        dt_err_text(e, text, sizeof text);
        dt_strlcpy(it->msg, text, sizeof it->msg);
    }
}

static void set_item_ids(node_ingest_item *it, const json_t *obj, const char *where)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    const char *mod = json_string_value(json_object_get(obj, "modified"));
    snprintf(it->where, sizeof it->where, "%s", where ? where : "");
    if (id != NULL && strlen(id) < sizeof it->id)
        memcpy(it->id, id, strlen(id) + 1);
    if (mod != NULL && strlen(mod) < sizeof it->version)
        memcpy(it->version, mod, strlen(mod) + 1);
}

/* Is obj byte-for-byte detente's well-known extension-definition? It is
 * the one object every node holds unsigned. */
static bool is_builtin_extension(const json_t *obj)
{
    json_t *ref = node_extension_definition();
    bool same = ref != NULL && json_equal(ref, (json_t *)obj);
    json_decref(ref);
    return same;
}

static dt_status check_pattern(const json_t *obj, dt_err *err)
{
    const char *type = stix_str(obj, "type");
    const char *ptype = stix_str(obj, "pattern_type");
    const char *text = stix_str(obj, "pattern");
    pattern *p = NULL;
    dt_status rc;
    if (type == NULL || strcmp(type, "indicator") != 0 || ptype == NULL ||
        strcmp(ptype, "stix") != 0 || text == NULL)
        return DT_OK;
    rc = pattern_parse(text, strlen(text), &p, err);
    if (rc != DT_OK) {
        if (err)
            dt_err_prefix(err, "pattern");
        return rc == DT_EPARSE ? DT_EINVALID : rc;
    }
    pattern_free(p);
    return DT_OK;
}

/* Everything that can be decided without the store. */
static void prepare_one(node *n, const node_principal *who, const node_ingest_opts *opts,
                        const json_t *in, prepared *pr, node_ingest_item *it)
{
    const stix_limits *lim;
    stix_limits lims;
    stix_object *so = NULL;
    json_t *copy;
    dt_err e = {0};
    node_signature sig;
    dt_buf b;

    stix_limits_default(&lims);
    lim = &lims;
    if (!json_is_object(in)) {
        dt_fail(&e, DT_EINVALID, "", "not a JSON object");
        item_reject(it, &e, DT_EINVALID);
        return;
    }
    copy = json_deep_copy(in);
    if (copy == NULL) {
        dt_fail(&e, DT_ENOMEM, "", "out of memory");
        item_reject(it, &e, DT_ENOMEM);
        return;
    }
    if (stix_object_take(copy, lim, &so, &e) != DT_OK) { /* copy is freed on failure */
        item_reject(it, &e, DT_EINVALID);
        return;
    }
    if (so->kind == STIX_KIND_BUNDLE) {
        dt_fail(&e, DT_EINVALID, "type", "a bundle cannot be stored as an object");
        goto reject;
    }
    if (check_pattern(so->json, &e) != DT_OK)
        goto reject;

    if (node_object_verify(so->json, &sig, &e) != DT_OK)
        goto reject;
    if (sig.present) {
        memcpy(pr->signer, sig.signer, sizeof pr->signer);
        pr->has_signer = true;
    } else if (opts->sign && who->kind != NODE_PRINCIPAL_PEER) {
        if (node_object_sign(so->json, n->identity_id, n->sk, &e) != DT_OK)
            goto reject;
        snprintf(pr->signer, sizeof pr->signer, "%s", n->identity_id);
        pr->has_signer = true;
    } else if (!opts->allow_unsigned && !is_builtin_extension(so->json)) {
        dt_fail(&e, DT_ESIG, "extensions",
                "the object is not signed, and this source is not allowed to send unsigned "
                "objects");
        goto reject;
    }

    pr->marking = node_object_marking(so->json, n->conf.default_marking);
    pr->revoked = so->revoked;
    if (so->has_modified) {
        dt_time_format(&so->modified, 9, pr->modified);
        snprintf(pr->modified_text, sizeof pr->modified_text, "%s",
                 stix_str(so->json, "modified"));
    } else if (so->has_created) {
        dt_time_format(&so->created, 9, pr->modified);
        snprintf(pr->modified_text, sizeof pr->modified_text, "%s", stix_str(so->json, "created"));
    } else {
        /* SCOs carry no version: one body per id (STIX 2.1 section 6) */
        snprintf(pr->modified, sizeof pr->modified, "1970-01-01T00:00:00.000000000Z");
        pr->modified_text[0] = '\0';
    }
    dt_buf_init(&b, lim->max_object_bytes * 2);
    if (stix_jcs(so->json, &b, &e) != DT_OK) {
        dt_buf_release(&b);
        goto reject;
    }
    pr->jcs_len = b.len;
    pr->jcs = dt_buf_take(&b);
    dt_sha256(pr->jcs, pr->jcs_len, pr->sha);
    pr->obj = so->json;
    so->json = NULL;
    stix_object_free(so);
    return;
reject:
    item_reject(it, &e, DT_EINVALID);
    stix_object_free(so);
}

static void prepared_release(prepared *pr)
{
    json_decref(pr->obj);
    dt_free(pr->jcs);
    memset(pr, 0, sizeof *pr);
}

/* The ledger leaf: JCS of {date_added, id, modified, object_sha256, signer}. */
static dt_status leaf_bytes(const node_ingest_item *it, const prepared *pr, int64_t date_added,
                            dt_buf *out, dt_err *err)
{
    char added[DT_TIME_LEN], hex[65];
    dt_time t = dt_time_from_us(date_added);
    json_t *leaf;
    dt_status rc;
    dt_time_format(&t, 6, added);
    dt_hex_encode(pr->sha, 32, hex);
    leaf = json_pack("{s:s, s:s, s:s, s:s, s:o}", "date_added", added, "id", it->id, "modified",
                     pr->modified, "object_sha256", hex, "signer",
                     pr->has_signer ? json_string(pr->signer) : json_null());
    if (leaf == NULL)
        return dt_fail(err, DT_ENOMEM, "ledger", "out of memory building a leaf");
    dt_buf_reset(out);
    rc = stix_jcs(leaf, out, err);
    json_decref(leaf);
    return rc;
}

static dt_status ensure_collection(node *n, store_txn *t, const node_principal *who,
                                   const char *collection, dt_err *err)
{
    store_collection c;
    dt_err e = {0};
    dt_status rc = store_collection_get(n->st, t, collection, &c, &e);
    if (rc == DT_OK)
        return DT_OK;
    if (rc != DT_ENOTFOUND)
        return dt_fail(err, rc, e.where, "%s", e.msg);
    if (who->kind == NODE_PRINCIPAL_USER || who->kind == NODE_PRINCIPAL_ANONYMOUS)
        return dt_fail(err, DT_ENOTFOUND, collection, "no such collection");
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", collection);
    snprintf(c.title, sizeof c.title, "%s", collection);
    c.created = dt_now_us();
    return store_collection_put(t, &c, err);
}

/* Store prepared[0..count) in transaction t. Store failures (not per-object
 * conflicts) abort with an error; the caller rolls back. */
static dt_status store_batch(node *n, store_txn *t, const char *collection, prepared *prs,
                             node_ingest_item *items, size_t count, dt_err *err)
{
    uint64_t next_leaf = 0;
    dt_buf leaf;
    dt_status rc;

    rc = store_ledger_size(n->st, t, &next_leaf, err);
    if (rc != DT_OK)
        return rc;
    dt_buf_init(&leaf, 1 << 16);
    for (size_t i = 0; i < count; i++) {
        prepared *pr = &prs[i];
        node_ingest_item *it = &items[i];
        const char *type;
        int64_t date_added = 0;
        bool added = false;
        dt_err e = {0};
        if (pr->obj == NULL)
            continue;
        type = stix_str(pr->obj, "type");
        store_put put = {
            .collection = collection,
            .id = it->id,
            .type = type,
            .spec_version = stix_str(pr->obj, "spec_version") ? stix_str(pr->obj, "spec_version")
                                                              : "2.1",
            .modified = pr->modified,
            .modified_text = pr->modified_text[0] ? pr->modified_text : NULL,
            .json = pr->jcs,
            .json_len = pr->jcs_len,
            .sha256 = pr->sha,
            .signer = pr->has_signer ? pr->signer : NULL,
            .marking = (int)pr->marking,
            .leaf_index = (int64_t)next_leaf,
            .revoked = pr->revoked,
        };
        rc = store_put_version(t, &put, &date_added, &added, &e);
        if (rc == DT_ECONFLICT) { /* this object only: same version, other body */
            item_reject(it, &e, DT_ECONFLICT);
            rc = DT_OK;
            continue;
        }
        if (rc != DT_OK) {
            dt_fail(err, rc, e.where, "%s", e.msg);
            break;
        }
        it->date_added = date_added;
        if (!added) {
            it->outcome = NODE_ITEM_DUPLICATE;
            continue;
        }
        uint64_t index = 0;
        uint8_t leaf_hash[32];
        rc = leaf_bytes(it, pr, date_added, &leaf, err);
        if (rc == DT_OK)
            rc = ledger_append(t, leaf.data, leaf.len, &index, leaf_hash, err);
        if (rc != DT_OK)
            break;
        if (index != next_leaf) {
            rc = dt_fail(err, DT_EDB, "ledger",
                         "leaf index %llu where %llu was expected: another writer appended",
                         (unsigned long long)index, (unsigned long long)next_leaf);
            break;
        }
        next_leaf++;
        it->outcome = NODE_ITEM_ADDED;
    }
    dt_buf_release(&leaf);
    return rc;
}

static dt_status check_write(node *n, const node_principal *who, const char *collection,
                             dt_err *err)
{
    if (who->kind == NODE_PRINCIPAL_LOCAL || who->kind == NODE_PRINCIPAL_PEER)
        return DT_OK; /* peers' pulls are written by this node's own sync */
    return node_access(n, who, collection, STORE_PERM_WRITE, err);
}

/* Prepare and store objects[0..count) as one transaction. */
static dt_status ingest_chunk(node *n, const node_principal *who, const node_ingest_opts *opts,
                              json_t *const *objects, node_ingest_item *items, size_t count,
                              dt_err *err)
{
    const char *collection = opts->collection ? opts->collection : "default";
    prepared *prs = dt_calloc(count ? count : 1, sizeof *prs);
    store_txn *t = NULL;
    dt_status rc = DT_OK;
    bool any_rejected = false;

    if (prs == NULL)
        return dt_fail(err, DT_ENOMEM, "ingest", "out of memory");
    for (size_t i = 0; i < count; i++) {
        prepare_one(n, who, opts, objects[i], &prs[i], &items[i]);
        any_rejected |= items[i].outcome == NODE_ITEM_REJECTED;
    }
    if (opts->atomic && any_rejected) {
        rc = dt_fail(err, DT_EINVALID, "ingest", "rejected objects in an atomic import: nothing "
                                                 "was stored");
        goto out;
    }
    rc = store_begin(n->st, &t, err);
    if (rc != DT_OK)
        goto out;
    rc = ensure_collection(n, t, who, collection, err);
    if (rc == DT_OK)
        rc = store_batch(n, t, collection, prs, items, count, err);
    if (rc == DT_OK && opts->atomic) {
        for (size_t i = 0; i < count; i++)
            if (items[i].outcome == NODE_ITEM_REJECTED) {
                rc = dt_fail(err, DT_EINVALID, items[i].where,
                             "rejected in an atomic import (%s): nothing was stored",
                             items[i].msg);
                break;
            }
    }
    if (rc == DT_OK)
        rc = store_commit(t, err);
    else
        store_rollback(t);
out:
    for (size_t i = 0; i < count; i++)
        prepared_release(&prs[i]);
    dt_free(prs);
    return rc;
}

static dt_status result_grow(node_ingest_result *res, size_t extra, dt_err *err)
{
    node_ingest_item *p = dt_realloc(res->items, (res->count + extra) * sizeof *p);
    if (p == NULL)
        return dt_fail(err, DT_ENOMEM, "ingest", "out of memory");
    memset(p + res->count, 0, extra * sizeof *p);
    res->items = p;
    return DT_OK;
}

static void result_count(node_ingest_result *res, size_t from)
{
    for (size_t i = from; i < res->count; i++) {
        switch (res->items[i].outcome) {
        case NODE_ITEM_ADDED:
            res->added++;
            break;
        case NODE_ITEM_DUPLICATE:
            res->duplicates++;
            break;
        case NODE_ITEM_REJECTED:
            res->rejected++;
            break;
        }
    }
}

dt_status node_ingest_json(node *n, const node_principal *who, const node_ingest_opts *opts,
                           json_t *const *objects, const char *const *wheres, size_t count,
                           node_ingest_result *res, dt_err *err)
{
    node_ingest_opts defaults = {0};
    dt_status rc;
    size_t base;

    if (opts == NULL)
        opts = &defaults;
    rc = check_write(n, who, opts->collection ? opts->collection : "default", err);
    if (rc != DT_OK)
        return rc;
    base = res->count;
    rc = result_grow(res, count, err);
    if (rc != DT_OK)
        return rc;
    for (size_t i = 0; i < count; i++) {
        char where[32];
        if (wheres == NULL)
            snprintf(where, sizeof where, "[%zu]", i);
        set_item_ids(&res->items[base + i], objects[i], wheres ? wheres[i] : where);
        res->items[base + i].outcome = NODE_ITEM_ADDED;
    }
    /* atomic: one transaction for all; else chunks, each all-or-nothing */
    size_t step = opts->atomic ? (count ? count : 1) : INGEST_CHUNK;
    for (size_t at = 0; at < count; at += step) {
        size_t k = count - at < step ? count - at : step;
        rc = ingest_chunk(n, who, opts, objects + at, res->items + base + at, k, err);
        if (rc != DT_OK) {
            /* what was committed stays committed and counted; the rest is not stored */
            res->count = base + at;
            result_count(res, base);
            return rc;
        }
    }
    res->count = base + count;
    result_count(res, base);
    return DT_OK;
}

typedef struct walk_ctx {
    node *n;
    const node_principal *who;
    const node_ingest_opts *opts;
    node_ingest_result *res;
    json_t **objs;
    char **wheres;
    size_t count, cap;
    dt_status failed;
    dt_err *err;
    node_ingest_item *parse_errors; /* items that failed to parse, in order */
} walk_ctx;

static dt_status flush(walk_ctx *w)
{
    dt_status rc = DT_OK;
    if (w->count > 0)
        rc = node_ingest_json(w->n, w->who, w->opts, w->objs, (const char *const *)w->wheres,
                              w->count, w->res, w->err);
    for (size_t i = 0; i < w->count; i++) {
        json_decref(w->objs[i]);
        dt_free(w->wheres[i]);
    }
    w->count = 0;
    return rc;
}

static dt_status on_item(void *ctx, const char *where, json_t *item, const dt_err *item_err)
{
    walk_ctx *w = ctx;
    if (item == NULL) { /* a line that is not JSON: reported, the rest goes on */
        dt_status rc = flush(w);
        if (rc != DT_OK)
            return rc;
        rc = result_grow(w->res, 1, w->err);
        if (rc != DT_OK)
            return rc;
        node_ingest_item *it = &w->res->items[w->res->count++];
        snprintf(it->where, sizeof it->where, "%s", where);
        item_reject(it, item_err, DT_EPARSE);
        w->res->rejected++;
        return DT_OK;
    }
    if (w->count == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        json_t **o = dt_realloc(w->objs, cap * sizeof *o);
        if (o == NULL)
            return dt_fail(w->err, DT_ENOMEM, "ingest", "out of memory");
        w->objs = o;
        char **ws = dt_realloc(w->wheres, cap * sizeof *ws);
        if (ws == NULL)
            return dt_fail(w->err, DT_ENOMEM, "ingest", "out of memory");
        w->wheres = ws;
        w->cap = cap;
    }
    w->wheres[w->count] = dt_strdup(where);
    if (w->wheres[w->count] == NULL)
        return dt_fail(w->err, DT_ENOMEM, "ingest", "out of memory");
    w->objs[w->count++] = json_incref(item);
    if (!w->opts->atomic && w->count >= INGEST_CHUNK)
        return flush(w);
    return DT_OK;
}

dt_status node_ingest_text(node *n, const node_principal *who, const node_ingest_opts *opts,
                           const char *text, size_t len, node_ingest_result *res, dt_err *err)
{
    node_ingest_opts defaults = {0};
    stix_limits lim;
    walk_ctx w = {0};
    dt_status rc;

    if (opts == NULL)
        opts = &defaults;
    rc = check_write(n, who, opts->collection ? opts->collection : "default", err);
    if (rc != DT_OK)
        return rc;
    stix_limits_default(&lim);
    w.n = n;
    w.who = who;
    w.opts = opts;
    w.res = res;
    w.err = err;
    rc = stix_input_walk(text, len, &lim, on_item, &w, err);
    if (rc == DT_OK && opts->atomic && res->rejected > 0) {
        size_t i = 0;
        while (i + 1 < res->count && res->items[i].outcome != NODE_ITEM_REJECTED)
            i++;
        rc = dt_fail(err, DT_EINVALID, res->items[i].where,
                     "%s; in an atomic import nothing was stored", res->items[i].msg);
    }
    if (rc == DT_OK)
        rc = flush(&w);
    for (size_t i = 0; i < w.count; i++) {
        json_decref(w.objs[i]);
        dt_free(w.wheres[i]);
    }
    dt_free(w.objs);
    dt_free(w.wheres);
    return rc;
}

void node_ingest_result_release(node_ingest_result *res)
{
    if (res == NULL)
        return;
    dt_free(res->items);
    memset(res, 0, sizeof *res);
}
