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
 * Preparation (validation, pattern check, signatures, canonical bytes and
 * hashing) runs on the caller's thread, helped by a few worker threads when
 * no other caller keeps the cores busy, one chunk ahead of the writer:
 * while chunk k is being written, chunk k+1 is being prepared (DESIGN.md:
 * "signature checks spread over threads before the single writer
 * commits"). Each object's result has its own slot, so the writer sees
 * them in input order. Objects of a text walked here (or handed in with
 * opts->in_place) are ours and are signed in place; other objects handed
 * in by a caller are borrowed and copied first. The ledger leaf is written
 * as its canonical bytes directly, not built as a JSON tree.
 *
 * Group commit: a prepared chunk is queued for the writer; whichever
 * queued caller finds no group being written takes every chunk queued so
 * far (in queue order) and writes them in ONE transaction with one commit
 * and one sync to disk, assigning date_added and leaf indexes in queue
 * order, then wakes their callers. So concurrent TAXII POSTs share their
 * commits, and each caller still reads only its own items and counts. A
 * caller's hook (opts->on_stored: the TAXII status resource) writes its
 * row in the same transaction. A caller is answered only once its chunk is
 * committed; a store failure fails every chunk of the transaction (none of
 * them acknowledged).
 *
 * A rejected object never stops the others unless the caller asked for an
 * atomic ingest: an atomic chunk with a rejected object is not queued at
 * all, and an atomic chunk is written as a group of its own, so a conflict
 * found while writing it rolls back only it. A store failure rolls back
 * the whole transaction, so a chunk is stored entirely or not at all and
 * nothing half-written survives a crash (SQLite's journal does the rest). */
#include "ledger/ledger.h"
#include "node/node_int.h"
#include "pattern/pattern.h"
#include "stix/stix.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    const char *id = stix_str(obj, "id");
    if (id == NULL || strcmp(id, NODE_EXTENSION_ID) != 0)
        return false; /* the common case, without building the reference */
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

#ifndef NDEBUG
/* Debug builds check bytes spliced by the signature step against stix_jcs. */
static bool jcs_is_canonical(const json_t *obj, const dt_buf *got)
{
    dt_buf want;
    bool same;
    dt_buf_init(&want, got->max);
    same = stix_jcs(obj, &want, NULL) != DT_OK ||
           (want.len == got->len && memcmp(want.data, got->data, want.len) == 0);
    dt_buf_release(&want);
    return same;
}
#endif

/* Everything that can be decided without the store. */
static void prepare_one(node *n, const node_principal *who, const node_ingest_opts *opts,
                        json_t *in, bool owned, dt_buf *scratch, prepared *pr,
                        node_ingest_item *it)
{
    const stix_limits *lim;
    stix_limits lims;
    stix_object *so = NULL;
    json_t *copy;
    dt_err e = {0};
    node_signature sig;

    stix_limits_default(&lims);
    lim = &lims;
    if (!json_is_object(in)) {
        dt_fail(&e, DT_EINVALID, "", "not a JSON object");
        item_reject(it, &e, DT_EINVALID);
        return;
    }
    copy = owned ? json_incref(in) : json_deep_copy(in);
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

    /* the signature step leaves the canonical bytes in scratch when it made
     * them anyway (verify, or sign with the extension spliced in) */
    dt_buf_reset(scratch);
    scratch->max = lim->max_object_bytes * 2;
    if (node_object_verify_jcs(so->json, &sig, scratch, &e) != DT_OK)
        goto reject;
    if (sig.present) {
        memcpy(pr->signer, sig.signer, sizeof pr->signer);
        pr->has_signer = true;
    } else if (is_builtin_extension(so->json)) {
        /* the same unsigned constant on every node, so peers' copies agree */
    } else if (opts->sign && who->kind != NODE_PRINCIPAL_PEER) {
        if (node_object_sign_jcs(so->json, n->identity_id, n->sk, scratch, &e) != DT_OK)
            goto reject;
        snprintf(pr->signer, sizeof pr->signer, "%s", n->identity_id);
        pr->has_signer = true;
    } else if (!opts->allow_unsigned) {
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
        snprintf(pr->modified, sizeof pr->modified, "%s", NODE_UNVERSIONED);
        pr->modified_text[0] = '\0';
    }
    /* canonical bytes in the worker's reused buffer, then one exact copy */
    if (scratch->len == 0 && stix_jcs(so->json, scratch, &e) != DT_OK)
        goto reject;
    assert(jcs_is_canonical(so->json, scratch));
    pr->jcs = dt_malloc(scratch->len + 1);
    if (pr->jcs == NULL) {
        dt_fail(&e, DT_ENOMEM, "", "out of memory");
        goto reject;
    }
    memcpy(pr->jcs, scratch->data, scratch->len);
    pr->jcs[scratch->len] = '\0';
    pr->jcs_len = scratch->len;
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

/* A JSON string as RFC 8785 writes it: '"', '\\' and control characters
 * escaped (two-character forms where JSON has them, else \u00xx in lower
 * case), everything else as its UTF-8 bytes. */
static dt_status leaf_string(dt_buf *out, const char *s, dt_err *err)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = strlen(s), bad = 0, run = 0;
    dt_status rc;
    if (!dt_utf8_valid(s, len, &bad))
        return dt_fail(err, DT_EINVALID, "ledger", "string is not valid UTF-8 at byte %zu", bad);
    rc = dt_buf_putc(out, '"', err);
    for (size_t i = 0; i < len && rc == DT_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t en = 2;
        if (c == '"' || c == '\\')
            esc[1] = (char)c;
        else if (c == '\b')
            esc[1] = 'b';
        else if (c == '\t')
            esc[1] = 't';
        else if (c == '\n')
            esc[1] = 'n';
        else if (c == '\f')
            esc[1] = 'f';
        else if (c == '\r')
            esc[1] = 'r';
        else if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            en = 6;
        } else
            continue;
        rc = dt_buf_append(out, s + run, i - run, err);
        if (rc == DT_OK)
            rc = dt_buf_append(out, esc, en, err);
        run = i + 1;
    }
    if (rc == DT_OK)
        rc = dt_buf_append(out, s + run, len - run, err);
    if (rc == DT_OK)
        rc = dt_buf_putc(out, '"', err);
    return rc;
}

/* The ledger leaf: JCS of {date_added, id, modified, object_sha256, signer},
 * written directly (the five names are already in JCS order and hold no
 * escapes) instead of building a JSON tree and canonicalising it. */
static dt_status leaf_bytes(const node_ingest_item *it, const prepared *pr, int64_t date_added,
                            dt_buf *out, dt_err *err)
{
    char added[DT_TIME_LEN], hex[65];
    dt_time t = dt_time_from_us(date_added);
    dt_status rc;
    dt_time_format(&t, 6, added);
    dt_hex_encode(pr->sha, 32, hex);
    dt_buf_reset(out);
    rc = dt_buf_puts(out, "{\"date_added\":", err);
    if (rc == DT_OK)
        rc = leaf_string(out, added, err);
    if (rc == DT_OK)
        rc = dt_buf_puts(out, ",\"id\":", err);
    if (rc == DT_OK)
        rc = leaf_string(out, it->id, err);
    if (rc == DT_OK)
        rc = dt_buf_puts(out, ",\"modified\":", err);
    if (rc == DT_OK)
        rc = leaf_string(out, pr->modified, err);
    if (rc == DT_OK)
        rc = dt_buf_puts(out, ",\"object_sha256\":\"", err);
    if (rc == DT_OK)
        rc = dt_buf_append(out, hex, 64, err);
    if (rc == DT_OK)
        rc = dt_buf_puts(out, "\",\"signer\":", err);
    if (rc == DT_OK)
        rc = pr->has_signer ? leaf_string(out, pr->signer, err) : dt_buf_puts(out, "null", err);
    if (rc == DT_OK)
        rc = dt_buf_putc(out, '}', err);
    return rc;
}

#ifndef NDEBUG
/* The leaf as the JSON tree and stix_jcs would write it, to check the
 * direct writer against in debug builds. */
static bool leaf_matches_jcs(const node_ingest_item *it, const prepared *pr, int64_t date_added,
                             const dt_buf *got)
{
    char added[DT_TIME_LEN], hex[65];
    dt_time t = dt_time_from_us(date_added);
    dt_buf want;
    bool same;
    dt_time_format(&t, 6, added);
    dt_hex_encode(pr->sha, 32, hex);
    json_t *leaf = json_pack("{s:s, s:s, s:s, s:s, s:o}", "date_added", added, "id", it->id,
                             "modified", pr->modified, "object_sha256", hex, "signer",
                             pr->has_signer ? json_string(pr->signer) : json_null());
    if (leaf == NULL)
        return true; /* out of memory: nothing to compare */
    dt_buf_init(&want, (size_t)1 << 20);
    same = stix_jcs(leaf, &want, NULL) != DT_OK ||
           (want.len == got->len && memcmp(want.data, got->data, want.len) == 0);
    dt_buf_release(&want);
    json_decref(leaf);
    return same;
}
#endif

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

/* Store prepared[0..count) in transaction t; *next_leaf is the ledger
 * index the next leaf gets (read once per transaction, counted here). Store
 * failures (not per-object conflicts) abort with an error; the caller rolls
 * back. */
static dt_status store_batch(store_txn *t, const char *collection, prepared *prs,
                             node_ingest_item *items, size_t count, uint64_t *next_leaf_io,
                             dt_err *err)
{
    uint64_t next_leaf = *next_leaf_io;
    dt_buf leaf;
    dt_status rc = DT_OK;

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
        assert(rc != DT_OK || leaf_matches_jcs(it, pr, date_added, &leaf));
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
        /* evidence index for single-claim verdicts (verify_index.c): kv rows
         * for sightings, opinions and revoked indicators, same transaction */
        rc = node_verify_index_put(t, it->id, pr->has_signer ? pr->signer : NULL, pr->obj, err);
        if (rc != DT_OK)
            break;
        it->outcome = NODE_ITEM_ADDED;
    }
    dt_buf_release(&leaf);
    *next_leaf_io = next_leaf;
    return rc;
}

static dt_status check_write(node *n, const node_principal *who, const char *collection,
                             dt_err *err)
{
    if (who->kind == NODE_PRINCIPAL_LOCAL || who->kind == NODE_PRINCIPAL_PEER)
        return DT_OK; /* peers' pulls are written by this node's own sync */
    return node_access(n, who, collection, STORE_PERM_WRITE, err);
}

/* ---- preparation on worker threads ----
 *
 * A job is one chunk's preparation. Workers (and the caller, when it waits)
 * take blocks of PREP_BLOCK indexes from an atomic counter, so a slow object
 * never holds up a whole share; each result lands in its own slot, so the
 * input order is kept without any locking. */

#define PREP_BLOCK 16
#define PREP_MAX_THREADS 16
#define PREP_MIN_PER_THREAD 32 /* below this, threads cost more than they save */

typedef struct prep_job {
    node *n;
    const node_principal *who;
    const node_ingest_opts *opts;
    json_t *const *objects;
    bool owned;              /* objects may be modified in place (no copy needed) */
    node_ingest_item *items;
    prepared *prs;
    size_t count;
    atomic_size_t next;
    pthread_t th[PREP_MAX_THREADS];
    size_t nth;
} prep_job;

static size_t prep_threads(void)
{
    static atomic_size_t cached;
    size_t n = atomic_load(&cached);
    if (n != 0)
        return n;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    const char *env = getenv("DETENTE_INGEST_THREADS");
    if (env != NULL) {
        char *end = NULL;
        long v = strtol(env, &end, 10);
        if (end != env && *end == '\0' && v >= 1)
            cpus = v;
    }
    n = cpus < 1 ? 1 : cpus > PREP_MAX_THREADS ? PREP_MAX_THREADS : (size_t)cpus;
    atomic_store(&cached, n);
    return n;
}

static void prep_work(prep_job *j)
{
    dt_buf scratch;
    dt_buf_init(&scratch, 0);
    for (;;) {
        size_t from = atomic_fetch_add(&j->next, PREP_BLOCK);
        if (from >= j->count)
            break;
        size_t to = from + PREP_BLOCK < j->count ? from + PREP_BLOCK : j->count;
        for (size_t i = from; i < to; i++)
            if (j->items[i].outcome != NODE_ITEM_REJECTED) /* not already refused as input */
                prepare_one(j->n, j->who, j->opts, j->objects[i], j->owned, &scratch,
                            &j->prs[i], &j->items[i]);
    }
    dt_buf_release(&scratch);
}

static void *prep_main(void *arg)
{
    prep_work(arg);
    return NULL;
}

/* Start preparing in the background; threads that cannot be created leave
 * their share to prep_finish. */
static void prep_start(prep_job *j)
{

    /* callers preparing at the same time (concurrent POSTs) already keep
     * the cores busy: helpers only for the cores they leave */
    size_t callers = atomic_load(&j->n->ingest_callers);
    size_t want = prep_threads();
    want = callers <= 1 ? want : callers >= want ? 0 : want - callers;
    if (want > j->count / PREP_MIN_PER_THREAD)
        want = j->count / PREP_MIN_PER_THREAD;
    atomic_store(&j->next, 0);
    j->nth = 0;
    for (size_t i = 0; i < want; i++) {
        if (pthread_create(&j->th[j->nth], NULL, prep_main, j) != 0)
            break;
        j->nth++;
    }
}

/* The caller helps with what is left, then waits for the workers. */
static void prep_finish(prep_job *j)
{
    prep_work(j);
    for (size_t i = 0; i < j->nth; i++)
        pthread_join(j->th[i], NULL);
    j->nth = 0;
}

/* ---- group commit ----
 *
 * Callers of the door (TAXII handler threads, an import, a sync pull)
 * prepare their own objects on their own threads, then queue the prepared
 * chunk as a commit_batch. Whichever queued caller finds no group being
 * written becomes the writer: it takes the batches queued so far (in queue
 * order, up to GROUP_MAX_OBJECTS), writes them all in one store transaction
 * and commits once, so one fsync serves every envelope of the group; then
 * it marks them done and wakes their callers, and the next caller whose
 * batch is still queued takes the next group. The store's single writer
 * connection is still the only writer; date_added and ledger indexes are
 * assigned in queue order inside the transaction.
 *
 * Each batch keeps its own items, so each caller reads exactly its own
 * outcomes and counts. A batch refused on its own (a user writing to a
 * collection that does not exist) writes nothing and fails alone; a store
 * failure, or a failed commit, fails every batch of the group, none of
 * which was then acknowledged. An atomic batch is written as a group of
 * its own, so a conflict found while writing it rolls back only it. */

#define GROUP_MAX_OBJECTS 20000

typedef struct commit_batch {
    struct commit_batch *next;
    const node_principal *who;
    const char *collection;
    prepared *prs;
    node_ingest_item *items;
    size_t count;
    bool atomic;
    node_ingest_hook hook; /* the call's last chunk only */
    void *hook_ctx;
    const node_ingest_result *res; /* the call's result, items counted from base */
    size_t base;
    bool done;   /* under n->commit_lock */
    dt_status rc;
    dt_err err;
} commit_batch;

/* The caller's hook, shown the call's result with this chunk counted. */
static dt_status run_hook(const commit_batch *b, store_txn *t, dt_err *err)
{
    node_ingest_result view = *b->res;
    size_t end = (size_t)(b->items - b->res->items) + b->count;
    view.count = end;
    for (size_t i = b->base; i < end; i++) {
        switch (view.items[i].outcome) {
        case NODE_ITEM_ADDED:
            view.added++;
            break;
        case NODE_ITEM_DUPLICATE:
            view.duplicates++;
            break;
        case NODE_ITEM_REJECTED:
            view.rejected++;
            break;
        }
    }
    return b->hook(b->hook_ctx, t, &view, err);
}

/* Write group (a list of batches) in one transaction; each batch's rc and
 * err are set. */
static void group_write(node *n, commit_batch *group)
{
    store_txn *t = NULL;
    uint64_t next_leaf = 0;
    dt_err e = {0};
    dt_status rc = store_begin(n->st, &t, &e);
    bool any = false;

    if (rc == DT_OK)
        rc = store_ledger_size(n->st, t, &next_leaf, &e);
    for (commit_batch *b = group; rc == DT_OK && b != NULL; b = b->next) {
        b->rc = ensure_collection(n, t, b->who, b->collection, &b->err);
        if (b->rc == DT_ENOTFOUND)
            continue; /* this batch only: nothing of it was written */
        if (b->rc != DT_OK) {
            rc = b->rc;
            e = b->err;
            break;
        }
        rc = store_batch(t, b->collection, b->prs, b->items, b->count, &next_leaf, &e);
        if (rc == DT_OK && b->atomic) { /* alone in its group */
            for (size_t i = 0; i < b->count; i++)
                if (b->items[i].outcome == NODE_ITEM_REJECTED) {
                    rc = dt_fail(&e, DT_EINVALID, b->items[i].where,
                                 "rejected in an atomic import (%s): nothing was stored",
                                 b->items[i].msg);
                    break;
                }
        }
        if (rc == DT_OK && b->hook != NULL)
            rc = run_hook(b, t, &e);
        any = true;
    }
    if (t != NULL) {
        if (rc == DT_OK && any)
            rc = store_commit(t, &e);
        else
            store_rollback(t);
    }
    for (commit_batch *b = group; b != NULL; b = b->next) {
        if (rc != DT_OK && b->rc != DT_ENOTFOUND) {
            b->rc = rc;
            b->err = e;
        }
    }
}

/* Queue b and return once it is committed (or failed), writing the group
 * it is in when no other caller is writing. */
static dt_status group_commit(node *n, commit_batch *b, dt_err *err)
{
    pthread_mutex_lock(&n->commit_lock);
    b->next = NULL;
    b->done = false;
    if (n->commit_tail != NULL)
        n->commit_tail->next = b;
    else
        n->commit_head = b;
    n->commit_tail = b;
    while (!b->done) {
        if (n->committing) {
            pthread_cond_wait(&n->commit_done, &n->commit_lock);
            continue;
        }
        /* take the writer: the head of the queue, up to the group's limit;
         * an atomic batch goes alone */
        commit_batch *group = n->commit_head, *last = group;
        size_t objects = last->count;
        if (!last->atomic)
            while (last->next != NULL && !last->next->atomic &&
                   objects + last->next->count <= GROUP_MAX_OBJECTS) {
                last = last->next;
                objects += last->count;
            }
        n->commit_head = last->next;
        if (n->commit_head == NULL)
            n->commit_tail = NULL;
        last->next = NULL;
        n->committing = true;
        pthread_mutex_unlock(&n->commit_lock);

        group_write(n, group);

        pthread_mutex_lock(&n->commit_lock);
        for (commit_batch *g = group; g != NULL; g = g->next)
            g->done = true;
        n->committing = false;
        pthread_cond_broadcast(&n->commit_done);
    }
    pthread_mutex_unlock(&n->commit_lock);
    if (b->rc != DT_OK && err != NULL)
        *err = b->err;
    return b->rc;
}

/* Store one prepared chunk: committed with whatever other callers queued
 * meanwhile. res and base: the call's result, for the hook of its last
 * chunk (res NULL for other chunks). */
static dt_status store_chunk(prep_job *j, const node_ingest_result *res, size_t base,
                             dt_err *err)
{
    bool any_rejected = false;
    commit_batch b;

    for (size_t i = 0; i < j->count; i++)
        any_rejected |= j->items[i].outcome == NODE_ITEM_REJECTED;
    if (j->opts->atomic && any_rejected)
        return dt_fail(err, DT_EINVALID, "ingest",
                       "rejected objects in an atomic import: nothing was stored");
    memset(&b, 0, sizeof b);
    b.who = j->who;
    b.collection = j->opts->collection ? j->opts->collection : "default";
    b.prs = j->prs;
    b.items = j->items;
    b.count = j->count;
    b.atomic = j->opts->atomic;
    if (res != NULL && j->opts->on_stored != NULL) {
        b.hook = j->opts->on_stored;
        b.hook_ctx = j->opts->on_stored_ctx;
        b.res = res;
        b.base = base;
    }
    return group_commit(j->n, &b, err);
}

static void prep_release(prep_job *j)
{
    for (size_t i = 0; i < j->count; i++)
        prepared_release(&j->prs[i]);
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

/* An input item refused before ingest (a line that is not JSON). */
typedef struct pre_reject {
    size_t index;
    dt_err e;
} pre_reject;

/* The door itself: objects[i] NULL is an item already refused (its reason in
 * pre, sorted by index). Chunks are prepared on worker threads one chunk
 * ahead of the writer: while chunk k is being stored, chunk k+1 is being
 * validated and signed. */
static dt_status ingest_chunks(node *n, const node_principal *who, const node_ingest_opts *opts,
                               json_t *const *objects, const char *const *wheres, bool owned,
                               const pre_reject *pre, size_t npre, size_t count,
                               node_ingest_result *res, dt_err *err);

static dt_status ingest_run(node *n, const node_principal *who, const node_ingest_opts *opts,
                            json_t *const *objects, const char *const *wheres, bool owned,
                            const pre_reject *pre, size_t npre, size_t count,
                            node_ingest_result *res, dt_err *err)
{
    dt_status rc;
    atomic_fetch_add(&n->ingest_callers, 1);
    rc = ingest_chunks(n, who, opts, objects, wheres, owned, pre, npre, count, res, err);
    atomic_fetch_sub(&n->ingest_callers, 1);
    return rc;
}

static dt_status ingest_chunks(node *n, const node_principal *who, const node_ingest_opts *opts,
                               json_t *const *objects, const char *const *wheres, bool owned,
                               const pre_reject *pre, size_t npre, size_t count,
                               node_ingest_result *res, dt_err *err)
{
    size_t base = res->count, k = 0;
    prep_job jobs[2];
    dt_status rc = result_grow(res, count, err);
    if (rc != DT_OK)
        return rc;
    for (size_t i = 0; i < count; i++) {
        char where[32];
        node_ingest_item *it = &res->items[base + i];
        if (wheres == NULL)
            snprintf(where, sizeof where, "[%zu]", i);
        if (objects[i] == NULL) {
            snprintf(it->where, sizeof it->where, "%s", wheres ? wheres[i] : where);
            while (k < npre && pre[k].index < i)
                k++;
            if (k < npre && pre[k].index == i) {
                item_reject(it, &pre[k].e, DT_EPARSE);
            } else { /* a NULL handed to node_ingest_json */
                dt_err e = {0};
                dt_fail(&e, DT_EINVALID, "", "not a JSON object");
                item_reject(it, &e, DT_EINVALID);
            }
            continue;
        }
        set_item_ids(it, objects[i], wheres ? wheres[i] : where);
        it->outcome = NODE_ITEM_ADDED;
    }
    /* atomic: one transaction for all; else chunks, each all-or-nothing */
    size_t step = opts->atomic ? (count ? count : 1) : INGEST_CHUNK;
    size_t nchunks = (count + step - 1) / step;
    if (nchunks == 0 && opts->on_stored != NULL)
        nchunks = 1; /* an empty chunk, for the hook's row */
    memset(jobs, 0, sizeof jobs);
    for (int b = 0; b < 2; b++) {
        jobs[b].n = n;
        jobs[b].who = who;
        jobs[b].opts = opts;
        jobs[b].owned = owned;
        jobs[b].prs = dt_calloc(step < count ? step : (count ? count : 1), sizeof(prepared));
        if (jobs[b].prs == NULL) {
            dt_free(jobs[0].prs);
            return dt_fail(err, DT_ENOMEM, "ingest", "out of memory");
        }
    }
#define CHUNK_SET(j, c)                                                                      \
    do {                                                                                     \
        (j)->objects = objects + (c) * step;                                                 \
        (j)->items = res->items + base + (c) * step;                                         \
        (j)->count = count - (c) * step < step ? count - (c) * step : step;                  \
    } while (0)
    if (nchunks > 0) {
        CHUNK_SET(&jobs[0], 0);
        prep_start(&jobs[0]);
    }
    size_t c = 0;
    for (; c < nchunks; c++) {
        prep_job *cur = &jobs[c & 1], *nxt = &jobs[(c + 1) & 1];
        prep_finish(cur);
        if (c + 1 < nchunks) {
            CHUNK_SET(nxt, c + 1);
            prep_start(nxt);
        }
        rc = store_chunk(cur, c + 1 == nchunks ? res : NULL, base, err);
        prep_release(cur);
        if (rc != DT_OK) {
            if (c + 1 < nchunks) {
                prep_finish(nxt);
                prep_release(nxt);
            }
            break;
        }
    }
#undef CHUNK_SET
    dt_free(jobs[0].prs);
    dt_free(jobs[1].prs);
    /* what was committed stays committed and counted; the rest is not stored */
    res->count = rc == DT_OK ? base + count : base + c * step;
    result_count(res, base);
    return rc;
}

dt_status node_ingest_json(node *n, const node_principal *who, const node_ingest_opts *opts,
                           json_t *const *objects, const char *const *wheres, size_t count,
                           node_ingest_result *res, dt_err *err)
{
    node_ingest_opts defaults = {0};
    dt_status rc;

    if (opts == NULL)
        opts = &defaults;
    rc = check_write(n, who, opts->collection ? opts->collection : "default", err);
    if (rc != DT_OK)
        return rc;
    return ingest_run(n, who, opts, objects, wheres, opts->in_place, NULL, 0, count, res, err);
}

/* Every item of one text, in order; parse failures as NULL objects. */
typedef struct walk_ctx {
    json_t **objs;
    char **wheres;
    size_t count, cap;
    pre_reject *pre;
    size_t npre, pre_cap;
    dt_err *err;
} walk_ctx;

static dt_status on_item(void *ctx, const char *where, json_t *item, const dt_err *item_err)
{
    walk_ctx *w = ctx;
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
    if (item == NULL) { /* a line that is not JSON: reported, the rest goes on */
        if (w->npre == w->pre_cap) {
            size_t cap = w->pre_cap ? w->pre_cap * 2 : 16;
            pre_reject *p = dt_realloc(w->pre, cap * sizeof *p);
            if (p == NULL)
                return dt_fail(w->err, DT_ENOMEM, "ingest", "out of memory");
            w->pre = p;
            w->pre_cap = cap;
        }
        w->pre[w->npre].index = w->count;
        if (item_err != NULL)
            w->pre[w->npre].e = *item_err;
        else
            memset(&w->pre[w->npre].e, 0, sizeof w->pre[w->npre].e);
        w->npre++;
    }
    w->wheres[w->count] = dt_strdup(where);
    if (w->wheres[w->count] == NULL)
        return dt_fail(w->err, DT_ENOMEM, "ingest", "out of memory");
    w->objs[w->count++] = item ? json_incref(item) : NULL;
    return DT_OK;
}

/* ---- parsing a bundle on the worker threads ----
 *
 * A bundle (or a JSON array of objects) is one JSON text, which jansson
 * parses on one thread; for a large import or a TAXII envelope that is a
 * fifth of the work. So the text is first cut at its elements by a
 * structural scan (strings and brackets only), each element is parsed on
 * its own by stix_json_parse on the workers, and the rest of the envelope
 * is parsed with its objects array emptied. Together these are the same
 * checks the whole-text parse makes (depth counted from the element's
 * place, duplicate keys at every level, string limits, big integers), so a
 * valid text gives the same objects. Anything unusual (a text that could be
 * JSON lines, an element that does not parse or is not an object or is too
 * large, a second "objects" key, a root that is not a bundle) falls back to
 * stix_input_walk over the whole text, which then reports it as before. */

typedef struct span {
    size_t off, len;
} span;

static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

size_t node_json_value_end(const char *s, size_t len, size_t i)
{
    size_t depth = 0, start = i;
    bool in_str = false;
    for (; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"') {
                in_str = false;
                if (depth == 0)
                    return i + 1;
            }
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']') {
            if (depth == 0)
                return i > start ? i : 0; /* a scalar ended by its container */
            if (--depth == 0)
                return i + 1;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'))
            return i > start ? i : 0;
    }
    return 0;
}

typedef struct split {
    span *el;
    size_t count, cap;
    size_t open, close; /* the array's '[' and ']' */
    bool bundle;        /* else a top-level array */
} split;

static bool split_elements(const char *s, size_t len, size_t i, split *sp)
{
    sp->open = i;
    i = skip_ws(s, len, i + 1);
    if (i < len && s[i] == ']') {
        sp->close = i;
        return true;
    }
    for (;;) {
        size_t end = node_json_value_end(s, len, i);
        if (end == 0)
            return false;
        if (sp->count == sp->cap) {
            size_t cap = sp->cap ? sp->cap * 2 : 256;
            span *p = dt_realloc(sp->el, cap * sizeof *p);
            if (p == NULL)
                return false;
            sp->el = p;
            sp->cap = cap;
        }
        sp->el[sp->count++] = (span){i, end - i};
        i = skip_ws(s, len, end);
        if (i < len && s[i] == ',') {
            i = skip_ws(s, len, i + 1);
            continue;
        }
        if (i < len && s[i] == ']') {
            sp->close = i;
            return true;
        }
        return false;
    }
}

/* Could stix_input_walk read this text as JSON lines? Then leave it to it. */
static bool first_line_is_object(const char *s, size_t len)
{
    size_t a = skip_ws(s, len, 0), b;
    const char *nl;
    while (a < len && s[a] == '\n')
        a = skip_ws(s, len, a + 1);
    nl = memchr(s + a, '\n', len - a);
    b = nl ? (size_t)(nl - s) : len;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r'))
        b--;
    return b > a && s[a] == '{' && s[b - 1] == '}';
}

static bool split_text(const char *s, size_t len, split *sp)
{
    size_t i = skip_ws(s, len, 0);
    bool found = false;
    memset(sp, 0, sizeof *sp);
    if (first_line_is_object(s, len))
        return false;
    if (i < len && s[i] == '[') {
        if (!split_elements(s, len, i, sp))
            return false;
        return skip_ws(s, len, sp->close + 1) == len;
    }
    if (i >= len || s[i] != '{')
        return false;
    sp->bundle = true;
    i = skip_ws(s, len, i + 1);
    while (i < len && s[i] == '"') {
        size_t kend = node_json_value_end(s, len, i);
        if (kend == 0)
            return false;
        bool is_objects = kend - i == 9 && memcmp(s + i, "\"objects\"", 9) == 0;
        i = skip_ws(s, len, kend);
        if (i >= len || s[i] != ':')
            return false;
        i = skip_ws(s, len, i + 1);
        if (is_objects && i < len && s[i] == '[') {
            if (found || !split_elements(s, len, i, sp))
                return false;
            found = true;
            i = sp->close + 1;
        } else {
            size_t vend = node_json_value_end(s, len, i);
            if (vend == 0)
                return false;
            i = vend;
        }
        i = skip_ws(s, len, i);
        if (i < len && s[i] == ',')
            i = skip_ws(s, len, i + 1);
        else
            break;
    }
    if (!found || i >= len || s[i] != '}')
        return false;
    return skip_ws(s, len, i + 1) == len;
}

typedef struct parse_job {
    const char *text;
    size_t len;
    const split *sp;
    stix_limits lim; /* depth reduced by the element's place */
    size_t max_object_bytes;
    json_t **objs;
    atomic_size_t next;
    atomic_bool failed;
} parse_job;

static void *parse_main(void *arg)
{
    parse_job *j = arg;
    for (;;) {
        size_t from = atomic_fetch_add(&j->next, PREP_BLOCK);
        if (from >= j->sp->count || atomic_load(&j->failed))
            break;
        size_t to = from + PREP_BLOCK < j->sp->count ? from + PREP_BLOCK : j->sp->count;
        for (size_t i = from; i < to; i++) {
            const span *e = &j->sp->el[i];
            json_t *v = NULL;
            if (stix_json_parse(j->text + e->off, e->len, &j->lim, &v, NULL) != DT_OK ||
                !json_is_object(v) ||
                (j->len > j->max_object_bytes &&
                 json_dumpb(v, NULL, 0, JSON_COMPACT) > j->max_object_bytes)) {
                json_decref(v);
                atomic_store(&j->failed, true);
                break;
            }
            j->objs[i] = v;
        }
    }
    return NULL;
}

/* Parse a bundle's or array's elements in parallel into w (owned json and
 * their "objects[i]"/"[i]" names). false: use stix_input_walk instead (w is
 * left empty). */
static bool parse_split(const char *text, size_t len, const stix_limits *lim, walk_ctx *w)
{
    split sp = {0};
    parse_job j;
    bool ok = false;
    pthread_t th[PREP_MAX_THREADS];
    size_t nth = 0, base_depth;

    if (len > lim->max_input_bytes || !split_text(text, len, &sp))
        goto out;
    base_depth = sp.bundle ? 2 : 1;
    if (sp.count == 0 || sp.count > lim->max_objects || lim->max_depth <= base_depth)
        goto out;
    if (sp.bundle) { /* the envelope around the objects, checked as the whole parse would */
        json_t *env = NULL;
        dt_buf b;
        dt_buf_init(&b, len);
        bool env_ok = dt_buf_append(&b, text, sp.open + 1, NULL) == DT_OK &&
                      dt_buf_append(&b, text + sp.close, len - sp.close, NULL) == DT_OK &&
                      stix_json_parse(b.data, b.len, lim, &env, NULL) == DT_OK &&
                      json_is_object(env) && stix_str(env, "type") != NULL &&
                      strcmp(stix_str(env, "type"), "bundle") == 0 &&
                      json_is_array(json_object_get(env, "objects"));
        json_decref(env);
        dt_buf_release(&b);
        if (!env_ok)
            goto out;
    }
    memset(&j, 0, sizeof j);
    j.text = text;
    j.len = len;
    j.sp = &sp;
    j.lim = *lim;
    j.lim.max_depth -= base_depth;
    j.max_object_bytes = lim->max_object_bytes;
    j.objs = dt_calloc(sp.count, sizeof *j.objs);
    w->wheres = dt_calloc(sp.count, sizeof *w->wheres);
    if (j.objs == NULL || w->wheres == NULL)
        goto fail;
    atomic_store(&j.next, 0);
    atomic_store(&j.failed, false);
    size_t want = prep_threads();
    if (want > sp.count / PREP_MIN_PER_THREAD)
        want = sp.count / PREP_MIN_PER_THREAD;
    for (; nth + 1 < want; nth++) /* the caller is one of them */
        if (pthread_create(&th[nth], NULL, parse_main, &j) != 0)
            break;
    parse_main(&j);
    for (size_t t = 0; t < nth; t++)
        pthread_join(th[t], NULL);
    if (atomic_load(&j.failed))
        goto fail;
    for (size_t i = 0; i < sp.count; i++) {
        char where[48];
        snprintf(where, sizeof where, "%s[%zu]", sp.bundle ? "objects" : "", i);
        if ((w->wheres[i] = dt_strdup(where)) == NULL)
            goto fail;
    }
    w->objs = j.objs;
    w->count = w->cap = sp.count;
    j.objs = NULL;
    ok = true;
    goto out;
fail:
    for (size_t i = 0; j.objs != NULL && i < sp.count; i++)
        json_decref(j.objs[i]);
    dt_free(j.objs);
    for (size_t i = 0; w->wheres != NULL && i < sp.count; i++)
        dt_free(w->wheres[i]);
    dt_free(w->wheres);
    w->wheres = NULL;
out:
    dt_free(sp.el);
    return ok;
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
    w.err = err;
    if (!parse_split(text, len, &lim, &w))
        rc = stix_input_walk(text, len, &lim, on_item, &w, err);
    if (rc == DT_OK && opts->atomic && w.npre > 0) {
        /* nothing is stored: report the items that were not JSON */
        rc = result_grow(res, w.npre, err);
        for (size_t i = 0; rc == DT_OK && i < w.npre; i++) {
            node_ingest_item *it = &res->items[res->count++];
            snprintf(it->where, sizeof it->where, "%s", w.wheres[w.pre[i].index]);
            item_reject(it, &w.pre[i].e, DT_EPARSE);
            res->rejected++;
        }
        if (rc == DT_OK)
            rc = dt_fail(err, DT_EINVALID, w.wheres[w.pre[0].index],
                         "%s; in an atomic import nothing was stored",
                         res->items[res->count - w.npre].msg);
    }
    /* the items belong to this call (the walk's tree is freed below), so
     * they may be signed in place instead of copied */
    if (rc == DT_OK && w.count > 0)
        rc = ingest_run(n, who, opts, w.objs, (const char *const *)w.wheres, true, w.pre,
                        w.npre, w.count, res, err);
    for (size_t i = 0; i < w.count; i++) {
        json_decref(w.objs[i]);
        dt_free(w.wheres[i]);
    }
    dt_free(w.objs);
    dt_free(w.wheres);
    dt_free(w.pre);
    return rc;
}

void node_ingest_result_release(node_ingest_result *res)
{
    if (res == NULL)
        return;
    dt_free(res->items);
    memset(res, 0, sizeof *res);
}
