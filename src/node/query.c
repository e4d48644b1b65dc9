/* The one door out.
 *
 * Every read of stored objects (TAXII objects, object, versions, manifest,
 * exports, the dashboard, sync serving) calls node_query. It decides two
 * things before the store is asked anything: may this principal read this
 * collection at all, and up to which marking level. The level is pushed
 * into the store query, so rows above it are never read into a page: they
 * cannot leak through counts, `more` flags or paging cursors either.
 *
 * TLP between parties: peers are never served RED (TLP 2.0: RED is for
 * named recipients only; locally, an account whose clearance is RED is such
 * a named recipient), whatever their configured clearance; AMBER and
 * AMBER+STRICT objects this node received from others are never relayed to
 * peers. Parts of an object under granular markings above the requester's
 * clearance are removed from the copy served, which then carries no
 * signature (it would not verify) and says it was redacted. */
#include "ledger/ledger.h"
#include "node/node_int.h"
#include "stix/stix.h"

#include <string.h>

dt_status node_access(node *n, const node_principal *who, const char *collection,
                      unsigned perm, dt_err *err)
{
    store_collection c;
    unsigned have = 0;
    dt_err e = {0};
    dt_status rc;

    rc = store_collection_get(n->st, NULL, collection, &c, &e);
    if (rc == DT_ENOTFOUND)
        return dt_fail(err, DT_ENOTFOUND, collection, "no such collection");
    if (rc != DT_OK)
        return dt_fail(err, rc, e.where, "%s", e.msg);
    switch (who->kind) {
    case NODE_PRINCIPAL_LOCAL:
        return DT_OK;
    case NODE_PRINCIPAL_USER:
    case NODE_PRINCIPAL_PEER:
        rc = store_grant_get(n->st, who->name, collection, &have, &e);
        if (rc != DT_OK && rc != DT_ENOTFOUND)
            return dt_fail(err, rc, e.where, "%s", e.msg);
        if ((have & perm) == perm)
            return DT_OK;
        break;
    case NODE_PRINCIPAL_ANONYMOUS:
        break;
    }
    return dt_fail(err, DT_EDENIED, collection, "%s '%s' may not %s this collection",
                   who->kind == NODE_PRINCIPAL_PEER ? "peer" : "account", who->name,
                   perm & STORE_PERM_WRITE ? "write to" : "read");
}

static node_tlp clearance(const node_principal *who)
{
    node_tlp t = who->kind == NODE_PRINCIPAL_LOCAL ? NODE_TLP_RED : who->max_marking;
    if (who->kind == NODE_PRINCIPAL_PEER && t > NODE_TLP_AMBER_STRICT)
        t = NODE_TLP_AMBER_STRICT;
    if (who->kind == NODE_PRINCIPAL_ANONYMOUS)
        t = NODE_TLP_CLEAR;
    return t;
}

/* Replace a row's JSON by its redacted copy when granular markings above
 * the clearance select parts of it. */
static dt_status redact_row(store_row *r, node_tlp clearance, dt_err *err)
{
    json_t *obj;
    dt_buf b;
    dt_status rc = DT_OK;
    if (r->json == NULL || strstr(r->json, "\"granular_markings\"") == NULL)
        return DT_OK;
    obj = json_loadb(r->json, r->json_len, JSON_DECODE_ANY, NULL);
    if (obj == NULL)
        return dt_fail(err, DT_EDB, r->id, "stored JSON does not parse: the store is damaged");
    if (node_object_redact(obj, clearance)) {
        dt_buf_init(&b, r->json_len + 64);
        rc = stix_jcs(obj, &b, err);
        if (rc == DT_OK) {
            dt_free(r->json);
            r->json_len = b.len;
            r->json = dt_buf_take(&b);
        } else {
            dt_buf_release(&b);
        }
    }
    json_decref(obj);
    return rc;
}

/* Narrow q to the rows who may see: at most its clearance and, for a
 * peer, the relay rule. */
static void limit_query(node *n, const node_principal *who, store_query *q)
{
    node_tlp limit = clearance(who);
    if (q->max_marking < 0 || q->max_marking > (int)limit)
        q->max_marking = (int)limit;
    /* TLP between parties: AMBER and AMBER+STRICT that this node received
     * from others (signed by someone else) are never relayed to a peer. */
    if (who->kind == NODE_PRINCIPAL_PEER) {
        q->foreign_limit = true;
        q->max_marking_foreign = NODE_TLP_GREEN;
        q->own_signer = n->identity_id;
    }
}

dt_status node_query(node *n, const node_principal *who, const store_query *q, store_page *out,
                     dt_err *err)
{
    store_query mine = *q;
    node_tlp limit = clearance(who);
    dt_status rc;

    memset(out, 0, sizeof *out);
    rc = node_access(n, who, q->collection, STORE_PERM_READ, err);
    if (rc != DT_OK)
        return rc;
    limit_query(n, who, &mine);
    if (mine.limit == 0 || mine.limit > STORE_MAX_PAGE)
        mine.limit = n->conf.page_default;
    rc = store_query_page(n->st, &mine, out, err);
    if (rc != DT_OK || limit == NODE_TLP_RED)
        return rc;
    for (size_t i = 0; i < out->count && rc == DT_OK; i++) {
        store_row *r = &out->rows[i];
        node_tlp c = limit;
        if (who->kind == NODE_PRINCIPAL_PEER && c > NODE_TLP_GREEN &&
            (r->signer == NULL || strcmp(r->signer, n->identity_id) != 0))
            c = NODE_TLP_GREEN;
        rc = redact_row(r, c, err);
    }
    if (rc != DT_OK)
        store_page_release(out);
    return rc;
}

dt_status node_leaf_visible(node *n, const node_principal *who, const char *leaf, size_t len,
                            bool *visible, dt_err *err)
{
    store_collection *cols = NULL;
    size_t ncols = 0;
    json_t *j;
    const char *id, *modified;
    dt_status rc = DT_OK;

    *visible = true;
    if (who->kind == NODE_PRINCIPAL_LOCAL)
        return DT_OK;
    j = json_loadb(leaf, len, 0, NULL);
    id = json_string_value(json_object_get(j, "id"));
    modified = json_string_value(json_object_get(j, "modified"));
    if (id == NULL) { /* key rotations and other leaves that name no object */
        json_decref(j);
        return DT_OK;
    }
    *visible = false;
    rc = store_collection_list(n->st, &cols, &ncols, err);
    for (size_t c = 0; rc == DT_OK && c < ncols && !*visible; c++) {
        /* a tombstone of every version ("all") is seen by whoever may read one */
        bool one = modified != NULL && strcmp(modified, "all") != 0;
        const char *ids[1] = {id}, *at[1] = {modified};
        store_query q = {.collection = cols[c].id, .ids = ids, .id_count = 1,
                         .versions = one ? STORE_VER_AT : STORE_VER_ALL, .at = one ? at : NULL,
                         .at_count = one ? 1 : 0, .max_marking = -1, .limit = 1,
                         .include_deleted = true};
        store_page page;
        dt_err e = {0};
        dt_status qr = node_query(n, who, &q, &page, &e);
        if (qr == DT_EDENIED || qr == DT_ENOTFOUND)
            continue;
        if (qr != DT_OK) {
            rc = dt_fail(err, qr, e.where, "%s", e.msg);
            break;
        }
        *visible = page.count > 0;
        store_page_release(&page);
    }
    dt_free(cols);
    json_decref(j);
    return rc;
}

/* A signed tombstone leaf: JCS of {deleted, id, modified, signature,
 * signer, tombstone}; the signature is over the same object without it. */
static dt_status tombstone_leaf(node *n, const char *id, const char *modified, dt_buf *out,
                                dt_err *err)
{
    char now[DT_TIME_LEN], sig64[128];
    dt_time t = dt_time_now();
    uint8_t sig[crypto_sign_BYTES];
    json_t *leaf;
    dt_status rc;

    dt_time_format(&t, 6, now);
    leaf = json_pack("{s:s, s:s, s:s, s:s, s:b}", "deleted", now, "id", id, "modified",
                     modified ? modified : "all", "signer", n->identity_id, "tombstone", 1);
    if (leaf == NULL)
        return dt_fail(err, DT_ENOMEM, "ledger", "out of memory");
    rc = stix_jcs(leaf, out, err);
    if (rc == DT_OK) {
        crypto_sign_detached(sig, NULL, (const unsigned char *)out->data, out->len, n->sk);
        dt_base64_encode(sig, sizeof sig, sig64);
        json_object_set_new(leaf, "signature", json_string(sig64));
        dt_buf_reset(out);
        rc = stix_jcs(leaf, out, err);
    }
    json_decref(leaf);
    return rc;
}

/* Erase one version (modified NULL: all) and ledger its tombstone. */
static dt_status erase_one(node *n, store_txn *t, const char *collection, const char *id,
                           const char *modified, size_t *count, dt_err *err)
{
    dt_buf leaf;
    uint64_t index;
    uint8_t hash[32];
    dt_status rc;
    *count = 0;
    dt_buf_init(&leaf, 1 << 16);
    rc = store_erase(t, collection, id, modified, count, err);
    if (rc == DT_OK && *count > 0)
        rc = tombstone_leaf(n, id, modified, &leaf, err);
    if (rc == DT_OK && *count > 0)
        rc = ledger_append(t, leaf.data, leaf.len, &index, hash, err);
    dt_buf_release(&leaf);
    return rc;
}

dt_status node_delete(node *n, const node_principal *who, const char *collection, const char *id,
                      const char *modified, size_t *count, dt_err *err)
{
    const char *ids[1] = {id}, *at[1] = {modified};
    store_query q = {.collection = collection, .ids = ids, .id_count = 1,
                     .versions = modified ? STORE_VER_AT : STORE_VER_ALL,
                     .at = modified ? at : NULL, .at_count = modified ? 1 : 0,
                     .max_marking = -1, .limit = STORE_MAX_PAGE};
    store_page page = {0};
    store_txn *t = NULL;
    dt_status rc;

    *count = 0;
    rc = node_access(n, who, collection, STORE_PERM_WRITE, err);
    if (rc != DT_OK)
        return rc;
    /* A writer deletes only what it may read: a version above its clearance
     * (or, for a peer, not ours to relay) is neither erased nor admitted to
     * exist. The operator's delete of a whole object is one tombstone. */
    if (who->kind != NODE_PRINCIPAL_LOCAL) {
        limit_query(n, who, &q);
        rc = store_query_page(n->st, &q, &page, err);
        if (rc != DT_OK)
            return rc;
        if (page.count == 0) {
            store_page_release(&page);
            return dt_fail(err, DT_ENOTFOUND, id, "no such object in collection %s", collection);
        }
    }
    rc = store_begin(n->st, &t, err);
    if (rc != DT_OK) {
        store_page_release(&page);
        return rc;
    }
    if (who->kind == NODE_PRINCIPAL_LOCAL) {
        rc = erase_one(n, t, collection, id, modified, count, err);
    } else {
        for (size_t i = 0; rc == DT_OK && i < page.count; i++) {
            size_t k = 0;
            rc = erase_one(n, t, collection, id, page.rows[i].modified, &k, err);
            *count += k;
        }
    }
    if (rc == DT_OK && *count == 0)
        rc = dt_fail(err, DT_ENOTFOUND, id, "no such object in collection %s", collection);
    if (rc == DT_OK)
        rc = store_commit(t, err);
    else
        store_rollback(t);
    store_page_release(&page);
    return rc;
}
