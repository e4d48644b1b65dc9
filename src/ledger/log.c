/* log: the persistent ledger, merkle.c's math over the store's ledger tables.
 *
 * The store keeps leaves in order (hash and bytes, leaf_append/leaf_get) and
 * complete subtree hashes by (level, index) (node_put/node_get). Level 0 of
 * the tree is the leaf table itself, so a leaf hash is stored once; levels
 * >= 1 are the node table. An append is leaf_append plus the carry chain of
 * ledger_tree_append: 1 + trailing_ones(old size) rows, 2 on average, all in
 * the caller's transaction so a rollback leaves no half-built subtree.
 * Roots and proofs for any past size read O(log n) rows (merkle.c explains
 * why), so a peer may ask about any size it once saw at the same cost.
 *
 * Proofs read committed state without a transaction; that is safe beside the
 * writer because the log only grows and a complete subtree never changes.
 * Signed heads are kept as their JSON text by tree size (sth_put/sth_get). */
#include "ledger/ledger.h"

#include <inttypes.h>
#include <string.h>

typedef struct src_ctx {
    store *s;
    store_txn *t;
} src_ctx;

static dt_status src_node(void *ctx, unsigned level, uint64_t index, uint8_t out[32], dt_err *err)
{
    src_ctx *c = ctx;
    if (level == 0)
        return store_leaf_get(c->s, c->t, index, out, NULL, NULL, err);
    return store_node_get(c->s, c->t, level, index, out, err);
}

static dt_status src_put(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32],
                         dt_err *err)
{
    src_ctx *c = ctx;
    if (level == 0)
        return DT_OK; /* leaf_append already stored the leaf hash */
    return store_node_put(c->t, level, index, hash, err);
}

dt_status ledger_size(store *s, store_txn *t, uint64_t *size, dt_err *err)
{
    *size = 0;
    dt_status rc = store_ledger_size(s, t, size, err);
    if (rc != DT_OK)
        dt_err_prefix(err, "ledger");
    return rc;
}

static dt_status check_size(store *s, store_txn *t, uint64_t tree_size, dt_err *err)
{
    uint64_t n;
    dt_status rc = ledger_size(s, t, &n, err);
    if (rc != DT_OK)
        return rc;
    if (tree_size > n)
        return dt_fail(err, DT_EINVALID, "ledger",
                       "tree size %" PRIu64 " is beyond the log, which has %" PRIu64 " leaves",
                       tree_size, n);
    return DT_OK;
}

dt_status ledger_append(store_txn *t, const char *leaf, size_t leaf_len, uint64_t *index,
                        uint8_t leaf_hash[32], dt_err *err)
{
    store *s = t->s;
    src_ctx c = {s, t};
    uint64_t n;
    dt_status rc;
    *index = 0;
    ledger_hash_leaf(leaf, leaf_len, leaf_hash);
    /* the store assigns the next index, which is the old size */
    rc = store_leaf_append(t, leaf_hash, leaf, leaf_len, &n, err);
    if (rc != DT_OK) {
        dt_err_prefix(err, "ledger");
        return rc;
    }
    rc = ledger_tree_append(src_node, &c, src_put, &c, n, leaf_hash, err);
    if (rc != DT_OK) {
        dt_err_prefix(err, "ledger");
        return rc;
    }
    *index = n;
    return DT_OK;
}

dt_status ledger_root(store *s, store_txn *t, uint64_t tree_size, uint8_t root[32], dt_err *err)
{
    src_ctx c = {s, t};
    dt_status rc = check_size(s, t, tree_size, err);
    if (rc != DT_OK)
        return rc;
    return ledger_tree_root(src_node, &c, tree_size, root, err);
}

dt_status ledger_prove_inclusion(store *s, uint64_t index, uint64_t tree_size, ledger_proof *out,
                                 dt_err *err)
{
    src_ctx c = {s, NULL};
    out->count = 0;
    dt_status rc = check_size(s, NULL, tree_size, err);
    if (rc != DT_OK)
        return rc;
    return ledger_tree_prove_inclusion(src_node, &c, index, tree_size, out, err);
}

dt_status ledger_prove_consistency(store *s, uint64_t first, uint64_t second, ledger_proof *out,
                                   dt_err *err)
{
    src_ctx c = {s, NULL};
    out->count = 0;
    if (first > second)
        return dt_fail(err, DT_EINVALID, "ledger",
                       "first tree size %" PRIu64 " is larger than the second %" PRIu64, first,
                       second);
    dt_status rc = check_size(s, NULL, second, err);
    if (rc != DT_OK)
        return rc;
    return ledger_tree_prove_consistency(src_node, &c, first, second, out, err);
}

dt_status ledger_sth_issue(store_txn *t, uint64_t timestamp_ms, const uint8_t secret_key[64],
                           ledger_sth *out, dt_err *err)
{
    uint8_t root[32];
    uint64_t n;
    dt_buf json;
    dt_status rc;
    memset(out, 0, sizeof *out);
    rc = ledger_size(t->s, t, &n, err);
    if (rc == DT_OK)
        rc = ledger_root(t->s, t, n, root, err);
    if (rc == DT_OK)
        rc = ledger_sth_make(n, timestamp_ms, root, secret_key, out, err);
    if (rc != DT_OK)
        return rc;
    dt_buf_init(&json, 1024);
    rc = ledger_sth_to_json(out, &json, err);
    if (rc == DT_OK) {
        rc = store_sth_put(t, n, json.data, err);
        if (rc != DT_OK)
            dt_err_prefix(err, "ledger");
    }
    dt_buf_release(&json);
    return rc;
}

dt_status ledger_sth_load(store *s, uint64_t tree_size, ledger_sth *out, dt_err *err)
{
    char *json = NULL;
    memset(out, 0, sizeof *out);
    dt_status rc = store_sth_get(s, tree_size, &json, err);
    if (rc != DT_OK) {
        dt_err_prefix(err, "ledger");
        return rc;
    }
    rc = ledger_sth_parse(json, strlen(json), out, err);
    dt_free(json);
    return rc;
}
