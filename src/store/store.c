/* store: backend dispatch and the asserting wrappers over store_ops.
 *
 * Callers never touch the ops table: every wrapper checks that its handle
 * is live (a non-NULL store whose ops table is set) and forwards. Keeping
 * the wrappers this thin means a backend is tested through exactly the
 * code callers use, and the PostgreSQL backend only has to fill a table.
 * Rows and pages own their strings; the release functions free them. */
#include "store/store.h"

#include <assert.h>
#include <string.h>

#define CHECK_S(s) assert((s) != NULL && (s)->ops != NULL)
#define CHECK_T(t) assert((t) != NULL && (t)->s != NULL && (t)->s->ops != NULL)

dt_status store_open(const store_config *cfg, store **out, dt_err *err)
{
    const char *backend;
    DT_CHECK(cfg != NULL && out != NULL);
    *out = NULL;
    backend = cfg->backend != NULL ? cfg->backend : "sqlite";
    if (strcmp(backend, "sqlite") == 0)
        return store_sqlite_ops.open(cfg, out, err);
    return dt_fail(err, DT_EARG, "store", "unknown store backend \"%s\" (this build has: sqlite)",
                   backend);
}

void store_close(store *s)
{
    if (s == NULL)
        return;
    CHECK_S(s);
    s->ops->close(s);
}

void store_row_release(store_row *r)
{
    if (r == NULL)
        return;
    dt_free(r->collection);
    dt_free(r->id);
    dt_free(r->type);
    dt_free(r->spec_version);
    dt_free(r->modified);
    dt_free(r->modified_text);
    dt_free(r->json);
    dt_free(r->signer);
    memset(r, 0, sizeof *r);
    r->leaf_index = -1;
    r->marking = -1;
}

void store_page_release(store_page *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->count; i++)
        store_row_release(&p->rows[i]);
    dt_free(p->rows);
    p->rows = NULL;
    p->count = 0;
    p->more = false;
}

void store_kv_list_free(char **keys, char **values, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (keys != NULL)
            dt_free(keys[i]);
        if (values != NULL)
            dt_free(values[i]);
    }
    dt_free(keys);
    dt_free(values);
}

dt_status store_begin(store *s, store_txn **out, dt_err *err)
{
    CHECK_S(s);
    return s->ops->begin(s, out, err);
}

dt_status store_commit(store_txn *t, dt_err *err)
{
    CHECK_T(t);
    return t->s->ops->commit(t, err);
}

void store_rollback(store_txn *t)
{
    if (t == NULL)
        return;
    CHECK_T(t);
    t->s->ops->rollback(t);
}

dt_status store_collection_put(store_txn *t, const store_collection *c, dt_err *err)
{
    CHECK_T(t);
    return t->s->ops->collection_put(t, c, err);
}

dt_status store_collection_get(store *s, store_txn *t, const char *id, store_collection *out,
                               dt_err *err)
{
    CHECK_S(s);
    return s->ops->collection_get(s, t, id, out, err);
}

dt_status store_collection_list(store *s, store_collection **out, size_t *count, dt_err *err)
{
    CHECK_S(s);
    return s->ops->collection_list(s, out, count, err);
}

dt_status store_put_version(store_txn *t, const store_put *p, int64_t *date_added, bool *added,
                            dt_err *err)
{
    CHECK_T(t);
    return t->s->ops->put_version(t, p, date_added, added, err);
}

dt_status store_get_version(store *s, store_txn *t, const char *collection, const char *id,
                            const char *modified, store_row *out, dt_err *err)
{
    CHECK_S(s);
    return s->ops->get_version(s, t, collection, id, modified, out, err);
}

dt_status store_query_page(store *s, const store_query *q, store_page *out, dt_err *err)
{
    CHECK_S(s);
    return s->ops->query(s, q, out, err);
}

dt_status store_erase(store_txn *t, const char *collection, const char *id, const char *modified,
                      size_t *count, dt_err *err)
{
    CHECK_T(t);
    return t->s->ops->erase(t, collection, id, modified, count, err);
}

dt_status store_counts_get(store *s, store_counts *out, dt_err *err)
{
    CHECK_S(s);
    return s->ops->counts(s, out, err);
}

dt_status store_leaf_append(store_txn *t, const uint8_t hash[32], const char *leaf,
                            size_t leaf_len, uint64_t *index, dt_err *err)
{
    CHECK_T(t);
    return t->s->ops->leaf_append(t, hash, leaf, leaf_len, index, err);
}

dt_status store_leaf_get(store *s, store_txn *t, uint64_t index, uint8_t hash[32], char **leaf,
                         size_t *leaf_len, dt_err *err)
{
    CHECK_S(s);
    return s->ops->leaf_get(s, t, index, hash, leaf, leaf_len, err);
}

dt_status store_leaf_find(store *s, const uint8_t hash[32], uint64_t *index, dt_err *err)
{
    CHECK_S(s);
    return s->ops->leaf_find(s, hash, index, err);
}

dt_status store_ledger_size(store *s, store_txn *t, uint64_t *size, dt_err *err)
{
    CHECK_S(s);
    return s->ops->ledger_size(s, t, size, err);
}

dt_status store_node_put(store_txn *t, unsigned level, uint64_t index, const uint8_t hash[32],
                         dt_err *err)
{
    CHECK_T(t);
    return t->s->ops->node_put(t, level, index, hash, err);
}

dt_status store_node_get(store *s, store_txn *t, unsigned level, uint64_t index,
                         uint8_t hash[32], dt_err *err)
{
    CHECK_S(s);
    return s->ops->node_get(s, t, level, index, hash, err);
}

dt_status store_sth_put(store_txn *t, uint64_t tree_size, const char *json, dt_err *err)
{
    CHECK_T(t);
    return t->s->ops->sth_put(t, tree_size, json, err);
}

dt_status store_sth_get(store *s, uint64_t tree_size, char **json, dt_err *err)
{
    CHECK_S(s);
    return s->ops->sth_get(s, tree_size, json, err);
}

dt_status store_user_put(store_txn *t, const store_user *u, dt_err *err)
{
    CHECK_T(t);
    return t->s->ops->user_put(t, u, err);
}

dt_status store_user_get(store *s, const char *name, store_user *out, dt_err *err)
{
    CHECK_S(s);
    return s->ops->user_get(s, name, out, err);
}

dt_status store_user_remove(store_txn *t, const char *name, dt_err *err)
{
    CHECK_T(t);
    return t->s->ops->user_remove(t, name, err);
}

dt_status store_user_list(store *s, store_user **out, size_t *count, dt_err *err)
{
    CHECK_S(s);
    return s->ops->user_list(s, out, count, err);
}

dt_status store_token_put(store_txn *t, const uint8_t token_hash[32], const char *user,
                          dt_err *err)
{
    CHECK_T(t);
    return t->s->ops->token_put(t, token_hash, user, err);
}

dt_status store_token_user(store *s, const uint8_t token_hash[32], char user[64], dt_err *err)
{
    CHECK_S(s);
    return s->ops->token_user(s, token_hash, user, err);
}

dt_status store_grant_put(store_txn *t, const char *user, const char *collection, unsigned perms,
                          dt_err *err)
{
    CHECK_T(t);
    return t->s->ops->grant_put(t, user, collection, perms, err);
}

dt_status store_grant_get(store *s, const char *user, const char *collection, unsigned *perms,
                          dt_err *err)
{
    CHECK_S(s);
    return s->ops->grant_get(s, user, collection, perms, err);
}

dt_status store_kv_put(store_txn *t, const char *key, const char *value, dt_err *err)
{
    CHECK_T(t);
    return t->s->ops->kv_put(t, key, value, err);
}

dt_status store_kv_get(store *s, store_txn *t, const char *key, char **value, dt_err *err)
{
    CHECK_S(s);
    return s->ops->kv_get(s, t, key, value, err);
}

dt_status store_kv_list(store *s, const char *prefix, size_t limit, char ***keys, char ***values,
                        size_t *count, dt_err *err)
{
    CHECK_S(s);
    return s->ops->kv_list(s, prefix, limit, keys, values, count, err);
}
