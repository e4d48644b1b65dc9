/* api_ledger: the transparency ledger over HTTP, shaped like RFC 6962
 * section 4 (docs/ledger.md): hashes in standard padded base64, timestamps
 * in milliseconds since the epoch.
 *
 *   GET ledger/sth                                  {tree_size, timestamp,
 *                                                    sha256_root_hash, tree_head_signature}
 *   GET ledger/proof/inclusion?hash=B64[&tree_size=N]
 *   GET ledger/proof/inclusion?id=ID[&version=V][&tree_size=N]
 *                                                   {leaf_index, audit_path}
 *   GET ledger/proof/consistency?first=M&second=N   {consistency}
 *   GET ledger/entries?start=A&end=B                {entries: [{leaf_input} or {leaf_hash}]}
 *   GET key                                         the node key and its rotations
 *
 * A head is issued lazily (node_sth_current): asking for one signs a new
 * head only if the log grew. A tree_size left out means that head's size,
 * so a proof always leads to a root the node has signed.
 *
 * Access: anonymous requests are allowed. Heads, proofs and the key are
 * hashes and public keys. Leaf bytes (leaf_input) hold an object's id,
 * version, signer, date added and content hash, never its content; they are
 * shown to anonymous requesters too, because a verifier needs them to
 * recompute the root. The leaf of an object version (or a tombstone) the
 * requester may not read (node_leaf_visible: above its clearance, in a
 * collection it may not read, or another party's AMBER for a peer) is
 * shown as its hash only, {"leaf_hash": b64}: the root can still be
 * recomputed and every proof still verifies, but no id is disclosed.
 * Proofs by object id go through node_ledger_find, i.e. the one door out: a
 * version the requester may not read is "not found". */
#include "http/api.h"
#include "ledger/ledger.h"

#include <inttypes.h>
#include <string.h>

#define ENTRIES_PAGE_MAX 1000

dt_status http_api_ledger_sth(node *n, const http_api_request *rq, http_api_response *rs,
                              dt_err *err)
{
    static const char *const allowed[] = {NULL};
    ledger_sth s;
    dt_status rc = http_api_args_only(rq, allowed, err);
    if (rc == DT_OK)
        rc = node_sth_current(n, &s, err);
    if (rc == DT_OK)
        rc = ledger_sth_to_json(&s, &rs->body, err);
    return rc;
}

/* tree_size argument or the current head's size. */
static dt_status tree_size_arg(node *n, const http_api_request *rq, uint64_t *size, dt_err *err)
{
    uint64_t have = 0;
    dt_status rc;
    if (http_api_arg(rq, "tree_size") != NULL) {
        rc = http_api_arg_u64(rq, "tree_size", true, size, err);
        if (rc == DT_OK)
            rc = ledger_size(node_store(n), NULL, &have, err);
        if (rc == DT_OK && *size > have)
            rc = dt_fail(err, DT_EINVALID, "tree_size",
                         "tree_size %" PRIu64 " is beyond the log, which has %" PRIu64 " leaves",
                         *size, have);
        return rc;
    }
    ledger_sth s;
    rc = node_sth_current(n, &s, err);
    *size = s.tree_size;
    return rc;
}

dt_status http_api_ledger_inclusion(node *n, const http_api_request *rq, http_api_response *rs,
                                    dt_err *err)
{
    static const char *const allowed[] = {"hash", "id", "version", "tree_size", NULL};
    const char *hash = http_api_arg(rq, "hash"), *id = http_api_arg(rq, "id");
    uint64_t index = 0, size = 0;
    ledger_proof p;
    dt_status rc = http_api_args_only(rq, allowed, err);
    if (rc != DT_OK)
        return rc;
    if ((hash == NULL) == (id == NULL))
        return dt_fail(err, DT_EINVALID, "hash", "give either hash (a base64 leaf hash) or id");
    if (hash != NULL) {
        uint8_t h[32];
        size_t len = 0;
        if (http_api_arg(rq, "version") != NULL)
            return dt_fail(err, DT_EINVALID, "version", "version goes with id, not with hash");
        if (!dt_base64_decode(hash, strlen(hash), h, sizeof h, &len) || len != 32)
            return dt_fail(err, DT_EINVALID, "hash",
                           "hash must be the standard padded base64 of a 32-byte leaf hash "
                           "(encode '+' as %%2B in a URL)");
        rc = store_leaf_find(node_store(n), h, &index, err);
        if (rc == DT_ENOTFOUND)
            return dt_fail(err, DT_ENOTFOUND, "hash", "no leaf with this hash in the log");
    } else {
        store_row row;
        rc = node_ledger_find(n, rq->who, id, http_api_arg(rq, "version"), &row, &index, err);
        if (rc == DT_OK)
            store_row_release(&row);
    }
    if (rc == DT_OK)
        rc = tree_size_arg(n, rq, &size, err);
    if (rc != DT_OK)
        return rc;
    if (index >= size)
        return dt_fail(err, DT_EINVALID, "tree_size",
                       "the leaf (index %" PRIu64 ") is not in the tree of size %" PRIu64, index,
                       size);
    rc = ledger_prove_inclusion(node_store(n), index, size, &p, err);
    if (rc == DT_OK)
        rc = ledger_inclusion_to_json(index, &p, &rs->body, err);
    return rc;
}

dt_status http_api_ledger_consistency(node *n, const http_api_request *rq,
                                      http_api_response *rs, dt_err *err)
{
    static const char *const allowed[] = {"first", "second", NULL};
    uint64_t first = 0, second = 0;
    ledger_proof p;
    dt_status rc = http_api_args_only(rq, allowed, err);
    if (rc == DT_OK)
        rc = http_api_arg_u64(rq, "first", true, &first, err);
    if (rc == DT_OK)
        rc = http_api_arg_u64(rq, "second", true, &second, err);
    if (rc == DT_OK && first > second)
        rc = dt_fail(err, DT_EINVALID, "first", "first (%" PRIu64 ") is larger than second (%" PRIu64 ")",
                     first, second);
    if (rc == DT_OK)
        rc = ledger_prove_consistency(node_store(n), first, second, &p, err);
    if (rc == DT_OK)
        rc = ledger_consistency_to_json(&p, &rs->body, err);
    return rc;
}

/* One entry's JSON: the leaf bytes, or only their hash when who may not
 * see the object the leaf names. */
static dt_status entry_json(node *n, const node_principal *who, const uint8_t hash[32],
                            const char *leaf, size_t len, dt_buf *out, dt_err *err)
{
    node_principal anon = {.kind = NODE_PRINCIPAL_ANONYMOUS};
    bool visible = false;
    char *b64;
    dt_status rc = node_leaf_visible(n, who ? who : &anon, leaf, len, &visible, err);
    if (rc != DT_OK)
        return rc;
    if (!visible) {
        char h64[48];
        dt_base64_encode(hash, 32, h64);
        return dt_buf_printf(out, err, "{\"leaf_hash\":\"%s\"}", h64);
    }
    b64 = dt_malloc(dt_base64_len(len));
    if (b64 == NULL)
        return dt_fail(err, DT_ENOMEM, "ledger/entries", "out of memory");
    dt_base64_encode((const uint8_t *)leaf, len, b64);
    rc = dt_buf_printf(out, err, "{\"leaf_input\":\"%s\"}", b64);
    dt_free(b64);
    return rc;
}

dt_status http_api_ledger_entries(node *n, const http_api_request *rq, http_api_response *rs,
                                  dt_err *err)
{
    static const char *const allowed[] = {"start", "end", NULL};
    uint64_t start = 0, end = 0, size = 0;
    dt_status rc = http_api_args_only(rq, allowed, err);
    if (rc == DT_OK)
        rc = http_api_arg_u64(rq, "start", true, &start, err);
    if (rc == DT_OK)
        rc = http_api_arg_u64(rq, "end", true, &end, err);
    if (rc == DT_OK && end < start)
        rc = dt_fail(err, DT_EINVALID, "end", "end (%" PRIu64 ") is before start (%" PRIu64 ")",
                     end, start);
    if (rc == DT_OK)
        rc = ledger_size(node_store(n), NULL, &size, err);
    if (rc == DT_OK && start >= size)
        rc = dt_fail(err, DT_EINVALID, "start",
                     "start %" PRIu64 " is beyond the log, which has %" PRIu64 " leaves", start,
                     size);
    if (rc != DT_OK)
        return rc;
    /* a bounded page; like RFC 6962 4.6, fewer entries than asked may come */
    if (end >= size)
        end = size - 1;
    if (end - start >= ENTRIES_PAGE_MAX)
        end = start + ENTRIES_PAGE_MAX - 1;
    rc = dt_buf_puts(&rs->body, "{\"entries\":[", err);
    for (uint64_t i = start; i <= end && rc == DT_OK; i++) {
        uint8_t h[32];
        char *leaf = NULL;
        size_t len = 0;
        rc = store_leaf_get(node_store(n), NULL, i, h, &leaf, &len, err);
        if (rc == DT_OK && i > start)
            rc = dt_buf_putc(&rs->body, ',', err);
        if (rc == DT_OK)
            rc = entry_json(n, rq->who, h, leaf, len, &rs->body, err);
        dt_free(leaf);
    }
    if (rc == DT_OK)
        rc = dt_buf_puts(&rs->body, "]}", err);
    return rc;
}

dt_status http_api_key(node *n, const http_api_request *rq, http_api_response *rs, dt_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *doc = NULL;
    char *text;
    dt_status rc = http_api_args_only(rq, allowed, err);
    if (rc == DT_OK)
        rc = node_key_document(n, &doc, err);
    if (rc != DT_OK)
        return rc;
    text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    if (text == NULL)
        return dt_fail(err, DT_ENOMEM, "key", "out of memory");
    rc = dt_buf_puts(&rs->body, text, err);
    free(text);
    return rc;
}
