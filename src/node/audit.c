/* Checking the ledger against the store, and proof bundles.
 *
 * node_ledger_verify recomputes everything the ledger asserts from the rows
 * it is built over, in three passes: (1) every object row: its stored bytes
 * hash to its sha256, and the leaf it names is rebuilt from the row exactly
 * as ingest built it (JCS of {date_added, id, modified, object_sha256,
 * signer}); (2) every leaf in order: its bytes hash to its stored hash and
 * equal that rebuild, or it is a tombstone or key rotation whose signatures
 * verify; the leaf hashes recomputed from the bytes feed an in-memory tree
 * (ledger_mem); (3) every stored subtree hash against that tree, and every
 * issued signed head's root and signature (under the key in effect for its
 * size, keys.c). An edited, removed or reordered row of any table shows up
 * as a mismatch at the leaf it touches; the report names the first one.
 * Subtree mismatches rank below leaf and row ones: a subtree starts before
 * the leaf that spoiled it, and the leaf is the useful answer.
 *
 * Bundles (docs/ledger.md) carry one object version with everything needed
 * to check it offline against a pinned key: the object (its signature is
 * inside), its leaf bytes, the inclusion proof and the head it leads to.
 * node_bundle_check never trusts a field it has not tied to the key. */
#include "ledger/ledger.h"
#include "node/node_int.h"
#include "stix/stix.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ROWS_PAGE 1000

/* ---- finding an object version's leaf ---- */

dt_status node_ledger_find(node *n, const node_principal *who, const char *id,
                           const char *version, store_row *row, uint64_t *index, dt_err *err)
{
    char canon[DT_TIME_LEN];
    store_collection *cols = NULL;
    size_t ncols = 0;
    dt_status rc;
    bool found = false;

    memset(row, 0, sizeof *row);
    *index = 0;
    if (id == NULL || id[0] == '\0')
        return dt_fail(err, DT_EINVALID, "id", "an object id is required");
    if (version != NULL) {
        dt_time t;
        if (dt_time_parse(version, strlen(version), &t, NULL) != DT_OK)
            return dt_fail(err, DT_EINVALID, "version",
                           "'%s' is not an RFC 3339 timestamp (the version's modified)", version);
        dt_time_format(&t, 9, canon);
    }
    rc = store_collection_list(n->st, &cols, &ncols, err);
    if (rc != DT_OK)
        return rc;
    for (size_t c = 0; c < ncols && rc == DT_OK; c++) {
        const char *ids[1] = {id}, *at[1] = {canon};
        store_query q = {.collection = cols[c].id, .ids = ids, .id_count = 1,
                         .versions = version ? STORE_VER_AT : STORE_VER_LAST,
                         .at = version ? at : NULL, .at_count = version ? 1 : 0,
                         .max_marking = -1, .limit = 1, .with_json = true};
        store_page page = {0};
        dt_err e = {0};
        dt_status qr = node_query(n, who, &q, &page, &e);
        if (qr == DT_EDENIED || qr == DT_ENOTFOUND)
            continue; /* not visible to who: as if absent */
        if (qr != DT_OK) {
            rc = dt_fail(err, qr, e.where, "%s", e.msg);
            break;
        }
        for (size_t k = 0; k < page.count; k++) {
            store_row *r = &page.rows[k];
            if (r->leaf_index < 0 || (found && (uint64_t)r->leaf_index >= *index))
                continue;
            if (found)
                store_row_release(row);
            *row = *r;
            memset(r, 0, sizeof *r); /* moved */
            *index = (uint64_t)row->leaf_index;
            found = true;
        }
        store_page_release(&page);
    }
    dt_free(cols);
    if (rc == DT_OK && !found)
        rc = dt_fail(err, DT_ENOTFOUND, id, version ? "no such object version (%s)" : "no such object%s",
                     version ? version : "");
    if (rc != DT_OK)
        store_row_release(row);
    return rc;
}

/* ---- verify the whole ledger ---- */

enum { ROW_SEEN = 1 };

typedef struct expect {
    uint8_t leaf_hash[32];   /* the leaf rebuilt from its row */
    uint8_t sha[32];         /* the row's object sha256 */
    uint8_t flags;
} expect;

typedef struct pending {
    uint64_t index;
    json_t *leaf;            /* tombstone, checked once keys are known */
} pending;

typedef struct rotation_seen {
    uint64_t index;
    uint8_t old_pk[32], new_pk[32];
} rotation_seen;

typedef struct vctx {
    node_ledger_report *rep;
    int tier;                /* tier of the kept problem: 0 leaves/rows/heads, 1 subtrees */
    uint64_t size;
    expect *exp;
    ledger_mem mem;
    pending *tomb;
    size_t ntomb, tomb_cap;
    rotation_seen *rot;
    size_t nrot, rot_cap;
} vctx;

__attribute__((format(printf, 4, 5))) static void note(vctx *v, int tier, uint64_t index,
                                                       const char *fmt, ...)
{
    node_ledger_report *rep = v->rep;
    va_list ap;
    rep->problems++;
    if (!rep->ok && (v->tier < tier || (v->tier == tier && rep->first_bad <= index)))
        return;
    rep->ok = false;
    v->tier = tier;
    rep->first_bad = index;
    va_start(ap, fmt);
    vsnprintf(rep->problem, sizeof rep->problem, fmt, ap);
    va_end(ap);
}

/* The leaf ingest wrote for this row (ingest.c leaf_bytes). */
static dt_status row_leaf_hash(const store_row *r, dt_buf *buf, uint8_t out[32], dt_err *err)
{
    char added[DT_TIME_LEN], hex[65];
    dt_time t = dt_time_from_us(r->date_added);
    dt_status rc;
    json_t *leaf;
    dt_time_format(&t, 6, added);
    dt_hex_encode(r->sha256, 32, hex);
    leaf = json_pack("{s:s, s:s, s:s, s:s, s:o}", "date_added", added, "id", r->id ? r->id : "",
                     "modified", r->modified ? r->modified : "", "object_sha256", hex, "signer",
                     r->signer ? json_string(r->signer) : json_null());
    if (leaf == NULL)
        return dt_fail(err, DT_ENOMEM, "ledger verify", "out of memory");
    dt_buf_reset(buf);
    rc = stix_jcs(leaf, buf, err);
    json_decref(leaf);
    if (rc == DT_OK)
        ledger_hash_leaf(buf->data, buf->len, out);
    return rc;
}

static void check_row(vctx *v, const store_row *r, dt_buf *buf, dt_err *err, dt_status *rc)
{
    uint8_t h[32];
    v->rep->rows++;
    if (r->leaf_index < 0 || (uint64_t)r->leaf_index >= v->size) {
        note(v, 0, r->leaf_index < 0 ? v->size : (uint64_t)r->leaf_index,
             "leaf %" PRId64 " (%s, modified %s, collection %s): the object row names a leaf "
             "beyond the log of %" PRIu64 " leaves: leaves were removed or the row was edited",
             r->leaf_index, r->id, r->modified, r->collection, v->size);
        return;
    }
    uint64_t i = (uint64_t)r->leaf_index;
    expect *e = &v->exp[i];
    if (r->json != NULL) {
        dt_sha256(r->json, r->json_len, h);
        if (sodium_memcmp(h, r->sha256, 32) != 0)
            note(v, 0, i,
                 "leaf %" PRIu64 " (%s, modified %s): the stored object does not hash to its "
                 "recorded sha256: the object row was edited",
                 i, r->id, r->modified);
    }
    if (e->flags & ROW_SEEN) {
        note(v, 0, i, "leaf %" PRIu64 " (%s): claimed by two object rows", i, r->id);
        return;
    }
    *rc = row_leaf_hash(r, buf, e->leaf_hash, err);
    memcpy(e->sha, r->sha256, 32);
    e->flags |= ROW_SEEN;
}

static dt_status pass_rows(node *n, vctx *v, dt_err *err)
{
    store_collection *cols = NULL;
    size_t ncols = 0;
    dt_buf buf;
    dt_status rc = store_collection_list(n->st, &cols, &ncols, err);
    if (rc != DT_OK)
        return rc;
    dt_buf_init(&buf, 1 << 20);
    for (size_t c = 0; c < ncols && rc == DT_OK; c++) {
        store_query q = {.collection = cols[c].id, .versions = STORE_VER_ALL, .max_marking = -1,
                         .limit = ROWS_PAGE, .with_json = true, .include_deleted = true};
        for (;;) {
            store_page page = {0};
            rc = store_query_page(n->st, &q, &page, err);
            if (rc != DT_OK)
                break;
            for (size_t k = 0; k < page.count && rc == DT_OK; k++)
                check_row(v, &page.rows[k], &buf, err, &rc);
            bool more = page.more && page.count > 0;
            if (page.count > 0) {
                q.after_date_added = page.rows[page.count - 1].date_added;
                q.after_rowid = page.rows[page.count - 1].rowid;
            }
            store_page_release(&page);
            if (!more || rc != DT_OK)
                break;
        }
    }
    dt_buf_release(&buf);
    dt_free(cols);
    return rc;
}

static dt_status grow(void **arr, size_t *cap, size_t need, size_t elem, dt_err *err)
{
    if (need <= *cap)
        return DT_OK;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = dt_malloc(nc * elem);
    if (p == NULL)
        return dt_fail(err, DT_ENOMEM, "ledger verify", "out of memory");
    if (*arr != NULL)
        memcpy(p, *arr, *cap * elem);
    dt_free(*arr);
    *arr = p;
    *cap = nc;
    return DT_OK;
}

static dt_status check_leaf(vctx *v, uint64_t i, const uint8_t stored[32], const char *text,
                            size_t len, dt_err *err)
{
    uint8_t h[32];
    json_t *leaf;
    const char *id, *mod;
    ledger_hash_leaf(text, len, h);
    if (sodium_memcmp(h, stored, 32) != 0)
        note(v, 0, i,
             "leaf %" PRIu64 ": its bytes do not hash to its stored leaf hash: the leaf row was "
             "edited",
             i);
    dt_status rc = ledger_mem_append(&v->mem, h, err);
    if (rc != DT_OK)
        return rc;
    leaf = json_loadb(text, len, 0, NULL);
    if (!json_is_object(leaf)) {
        note(v, 0, i, "leaf %" PRIu64 ": not a JSON object", i);
        json_decref(leaf);
        return DT_OK;
    }
    id = stix_str(leaf, "id");
    mod = stix_str(leaf, "modified");
    if (json_is_true(json_object_get(leaf, "tombstone"))) {
        v->rep->tombstones++;
        rc = grow((void **)&v->tomb, &v->tomb_cap, v->ntomb + 1, sizeof *v->tomb, err);
        if (rc != DT_OK) {
            json_decref(leaf);
            return rc;
        }
        v->tomb[v->ntomb].index = i;
        v->tomb[v->ntomb++].leaf = leaf;
        return DT_OK;
    }
    if (node_leaf_is_rotation(leaf)) {
        rotation_seen rs = {.index = i};
        dt_err e = {0};
        v->rep->rotations++;
        dt_status vr = node_rotation_verify(leaf, rs.old_pk, rs.new_pk, &e);
        if (vr != DT_OK)
            note(v, 0, i, "leaf %" PRIu64 ": key rotation: %s: %s", i, e.where, e.msg);
        /* a bad signature still names its keys: follow them, so one forged
         * leaf is reported once and not again at every later head */
        if (vr == DT_OK || vr == DT_ESIG) {
            rc = grow((void **)&v->rot, &v->rot_cap, v->nrot + 1, sizeof *v->rot, err);
            if (rc == DT_OK)
                v->rot[v->nrot++] = rs;
        }
        json_decref(leaf);
        return rc;
    }
    expect *e = &v->exp[i];
    if (!(e->flags & ROW_SEEN)) {
        note(v, 0, i,
             "leaf %" PRIu64 " (%s, modified %s): no object row records this leaf: a row was "
             "deleted or its leaf_index changed",
             i, id ? id : "?", mod ? mod : "?");
    } else if (sodium_memcmp(e->leaf_hash, h, 32) != 0) {
        const char *hex = stix_str(leaf, "object_sha256");
        char rowhex[65];
        dt_hex_encode(e->sha, 32, rowhex);
        if (hex == NULL || strcmp(hex, rowhex) != 0)
            note(v, 0, i,
                 "leaf %" PRIu64 " (%s, modified %s): the leaf records object_sha256 %.16s... "
                 "but its object row holds %.16s...: rows were edited or reordered",
                 i, id ? id : "?", mod ? mod : "?", hex ? hex : "(none)", rowhex);
        else
            note(v, 0, i,
                 "leaf %" PRIu64 " (%s, modified %s): the object row's id, modified, date_added "
                 "or signer differ from what the leaf records",
                 i, id ? id : "?", mod ? mod : "?");
    }
    json_decref(leaf);
    return DT_OK;
}

/* The key that signed at tree size `size` (heads) or just before leaf
 * `size` (tombstones), from the rotations seen in the leaves. */
static const uint8_t *key_at(const vctx *v, const uint8_t *first, uint64_t size)
{
    const uint8_t *k = first;
    for (size_t r = 0; r < v->nrot && v->rot[r].index < size; r++)
        k = v->rot[r].new_pk;
    return k;
}

static void check_tombstone(vctx *v, const pending *p, const uint8_t *pk)
{
    const char *s64 = stix_str(p->leaf, "signature");
    uint8_t sig[72];
    size_t slen = 0;
    json_t *c = json_deep_copy(p->leaf);
    dt_buf b;
    bool ok = false;
    dt_buf_init(&b, 1 << 16);
    if (c != NULL && s64 != NULL && dt_base64_decode(s64, strlen(s64), sig, sizeof sig, &slen) &&
        slen == 64) {
        json_object_del(c, "signature");
        ok = stix_jcs(c, &b, NULL) == DT_OK &&
             crypto_sign_verify_detached(sig, (const unsigned char *)b.data, b.len, pk) == 0;
    }
    if (!ok)
        note(v, 0, p->index,
             "leaf %" PRIu64 " (tombstone of %s): its signature does not verify under the node "
             "key in effect",
             p->index, stix_str(p->leaf, "id") ? stix_str(p->leaf, "id") : "?");
    json_decref(c);
    dt_buf_release(&b);
}

static dt_status pass_tail(node *n, vctx *v, dt_err *err)
{
    uint8_t first[32];
    dt_status rc = DT_OK;
    char *json = NULL;
    dt_err e = {0};

    /* rotations chain from the first key to the node's key */
    memcpy(first, v->nrot > 0 ? v->rot[0].old_pk : n->pk, 32);
    for (size_t r = 1; r < v->nrot; r++)
        if (sodium_memcmp(v->rot[r].old_pk, v->rot[r - 1].new_pk, 32) != 0)
            note(v, 0, v->rot[r].index,
                 "leaf %" PRIu64 ": key rotation from a key that is not the one in effect",
                 v->rot[r].index);
    if (v->nrot > 0 && sodium_memcmp(v->rot[v->nrot - 1].new_pk, n->pk, 32) != 0)
        note(v, 0, v->rot[v->nrot - 1].index,
             "leaf %" PRIu64 ": the last key rotation names another key than key.public",
             v->rot[v->nrot - 1].index);
    for (size_t k = 0; k < v->ntomb; k++)
        check_tombstone(v, &v->tomb[k], key_at(v, first, v->tomb[k].index));

    /* stored subtrees against the recomputation */
    for (unsigned lvl = 1; lvl < 64 && (v->size >> lvl) > 0 && rc == DT_OK; lvl++) {
        for (uint64_t i = 0; i < (v->size >> lvl); i++) {
            uint8_t h[32];
            memset(&e, 0, sizeof e);
            dt_status g = store_node_get(n->st, NULL, lvl, i, h, &e);
            v->rep->nodes++;
            if (g == DT_ENOTFOUND) {
                note(v, 1, i << lvl,
                     "leaf %" PRIu64 ": the subtree hash (level %u, index %" PRIu64
                     ") is missing from the nodes table",
                     i << lvl, lvl, i);
            } else if (g != DT_OK) {
                rc = dt_fail(err, g, e.where, "%s", e.msg);
                break;
            } else if (sodium_memcmp(h, v->mem.level[lvl][i], 32) != 0) {
                note(v, 1, i << lvl,
                     "leaf %" PRIu64 ": the stored subtree hash (level %u, index %" PRIu64
                     ", leaves %" PRIu64 "..%" PRIu64 ") differs from its recomputation: the "
                     "nodes table was edited",
                     i << lvl, lvl, i, i << lvl, ((i + 1) << lvl) - 1);
            }
        }
    }
    if (rc != DT_OK)
        return rc;

    /* every issued head; a head beyond the log means leaves were removed */
    memset(&e, 0, sizeof e);
    ledger_sth latest;
    dt_status lr = ledger_sth_load(n->st, UINT64_MAX, &latest, &e);
    if (lr == DT_OK && latest.tree_size > v->size)
        note(v, 0, v->size,
             "leaf %" PRIu64 ": a head was signed for %" PRIu64 " leaves but the log holds only "
             "%" PRIu64 ": leaves were removed",
             v->size, latest.tree_size, v->size);
    else if (lr != DT_OK && lr != DT_ENOTFOUND)
        note(v, 0, v->size, "leaf %" PRIu64 ": the latest signed head is unreadable: %s: %s",
             v->size, e.where, e.msg);
    for (uint64_t m = 0; m <= v->size && rc == DT_OK; m++) {
        ledger_sth sth;
        uint8_t root[32];
        memset(&e, 0, sizeof e);
        dt_status g = store_sth_get(n->st, m, &json, &e);
        if (g == DT_ENOTFOUND)
            continue;
        if (g != DT_OK) {
            rc = dt_fail(err, g, e.where, "%s", e.msg);
            break;
        }
        v->rep->sths++;
        uint64_t at = m > 0 ? m - 1 : 0;
        if (ledger_sth_parse(json, strlen(json), &sth, &e) != DT_OK || sth.tree_size != m) {
            note(v, 0, at, "leaf %" PRIu64 ": the head kept for tree size %" PRIu64
                           " is malformed: %s", at, m, e.msg);
        } else {
            rc = ledger_tree_root(ledger_mem_node, &v->mem, m, root, err);
            if (rc == DT_OK && sodium_memcmp(root, sth.root, 32) != 0)
                note(v, 0, at,
                     "leaf %" PRIu64 ": the signed head for tree size %" PRIu64
                     " has another root than the recomputed tree: the log was altered after "
                     "it was signed",
                     at, m);
            else if (rc == DT_OK && ledger_sth_verify(&sth, key_at(v, first, m), NULL) != DT_OK)
                note(v, 0, at,
                     "leaf %" PRIu64 ": the head for tree size %" PRIu64
                     " is not signed by the node key in effect",
                     at, m);
        }
        dt_free(json);
        json = NULL;
    }
    return rc;
}

dt_status node_ledger_verify(node *n, node_ledger_report *rep, dt_err *err)
{
    vctx v = {.rep = rep};
    char *text = NULL;
    size_t len = 0;
    dt_status rc;

    memset(rep, 0, sizeof *rep);
    rep->ok = true;
    ledger_mem_init(&v.mem);
    rc = ledger_size(n->st, NULL, &v.size, err);
    if (rc != DT_OK)
        return rc;
    rep->leaves = v.size;
    v.exp = dt_calloc(v.size ? v.size : 1, sizeof *v.exp);
    if (v.exp == NULL)
        return dt_fail(err, DT_ENOMEM, "ledger verify", "out of memory for %" PRIu64 " leaves",
                       v.size);
    rc = pass_rows(n, &v, err);
    for (uint64_t i = 0; i < v.size && rc == DT_OK; i++) {
        uint8_t h[32];
        dt_err e = {0};
        dt_status g = store_leaf_get(n->st, NULL, i, h, &text, &len, &e);
        if (g == DT_ENOTFOUND) {
            note(&v, 0, i, "leaf %" PRIu64 " is missing from the leaves table", i);
            /* keep positions: a zero hash stands in, every later root differs */
            memset(h, 0, sizeof h);
            rc = ledger_mem_append(&v.mem, h, err);
            continue;
        }
        if (g != DT_OK) {
            rc = dt_fail(err, g, e.where, "%s", e.msg);
            break;
        }
        rc = check_leaf(&v, i, h, text, len, err);
        dt_free(text);
        text = NULL;
    }
    if (rc == DT_OK)
        rc = pass_tail(n, &v, err);
    for (size_t k = 0; k < v.ntomb; k++)
        json_decref(v.tomb[k].leaf);
    dt_free(v.tomb);
    dt_free(v.rot);
    dt_free(v.exp);
    ledger_mem_release(&v.mem);
    return rc;
}

/* ---- bundles ---- */

#define BUNDLE_TYPE "detente-ledger-bundle"

dt_status node_bundle_build(node *n, const node_principal *who, const char *id,
                            const char *version, json_t **out, dt_err *err)
{
    store_row row;
    uint64_t index;
    ledger_sth sth;
    ledger_proof proof;
    uint8_t h[32];
    char *leaf = NULL, key[96];
    size_t leaf_len = 0;
    json_t *obj = NULL, *incl = NULL, *sthj = NULL, *b = NULL;
    dt_buf buf;
    dt_status rc;

    *out = NULL;
    dt_buf_init(&buf, 1 << 16);
    rc = node_ledger_find(n, who, id, version, &row, &index, err);
    if (rc != DT_OK)
        return rc;
    if (row.json == NULL) {
        rc = dt_fail(err, DT_ENOTFOUND, id, "this version was erased; only its tombstone remains");
        goto out;
    }
    obj = json_loadb(row.json, row.json_len, 0, NULL);
    if (obj == NULL) {
        rc = dt_fail(err, DT_EDB, id, "the stored object is not JSON");
        goto out;
    }
    rc = store_leaf_get(n->st, NULL, index, h, &leaf, &leaf_len, err);
    if (rc == DT_OK)
        rc = node_sth_current(n, &sth, err);
    if (rc == DT_OK)
        rc = ledger_prove_inclusion(n->st, index, sth.tree_size, &proof, err);
    if (rc == DT_OK)
        rc = ledger_inclusion_to_json(index, &proof, &buf, err);
    if (rc == DT_OK && (incl = json_loadb(buf.data, buf.len, 0, NULL)) == NULL)
        rc = dt_fail(err, DT_ENOMEM, "bundle", "out of memory");
    dt_buf_reset(&buf);
    if (rc == DT_OK)
        rc = ledger_sth_to_json(&sth, &buf, err);
    if (rc == DT_OK && (sthj = json_loadb(buf.data, buf.len, 0, NULL)) == NULL)
        rc = dt_fail(err, DT_ENOMEM, "bundle", "out of memory");
    if (rc == DT_OK) {
        uint8_t pk[32];
        rc = node_key_for_size(n, sth.tree_size, pk, err);
        node_key_format(pk, key, sizeof key);
    }
    if (rc == DT_OK) {
        b = json_pack("{s:s, s:O, s:s%, s:O, s:O, s:s}", "type", BUNDLE_TYPE, "object", obj,
                      "leaf", leaf, leaf_len, "inclusion", incl, "sth", sthj, "public_key", key);
        if (b == NULL)
            rc = dt_fail(err, DT_ENOMEM, "bundle", "out of memory");
    }
    if (rc == DT_OK)
        *out = b;
out:
    json_decref(obj);
    json_decref(incl);
    json_decref(sthj);
    dt_free(leaf);
    dt_buf_release(&buf);
    store_row_release(&row);
    return rc;
}

/* Reparse a member with a strict parser through its compact text. */
static dt_status member_text(const json_t *v, char **out, dt_err *err)
{
    *out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    return *out ? DT_OK : dt_fail(err, DT_ENOMEM, "bundle", "out of memory");
}

static dt_status check_leaf_fields(const json_t *leaf, const json_t *obj, const uint8_t sha[32],
                                   const char *signer, dt_err *err)
{
    static const char *const keys[] = {"date_added", "id", "modified", "object_sha256", "signer"};
    char hex[65], canon[DT_TIME_LEN];
    const char *mod, *oid = stix_str(obj, "id");
    dt_time t;
    if (!json_is_object(leaf) || json_object_size(leaf) != 5)
        return dt_fail(err, DT_EINVALID, "leaf", "not an object leaf of five members");
    for (size_t k = 0; k < 5; k++)
        if (json_object_get(leaf, keys[k]) == NULL)
            return dt_fail(err, DT_EINVALID, "leaf", "the leaf has no %s", keys[k]);
    dt_hex_encode(sha, 32, hex);
    if (stix_str(leaf, "object_sha256") == NULL || strcmp(stix_str(leaf, "object_sha256"), hex) != 0)
        return dt_fail(err, DT_ESIG, "leaf.object_sha256",
                       "the leaf records another object hash than the object's (%.16s...)", hex);
    if (oid == NULL || stix_str(leaf, "id") == NULL || strcmp(oid, stix_str(leaf, "id")) != 0)
        return dt_fail(err, DT_ESIG, "leaf.id", "the leaf records another object id");
    mod = stix_str(obj, "modified") ? stix_str(obj, "modified") : stix_str(obj, "created");
    if (mod != NULL) {
        if (dt_time_parse(mod, strlen(mod), &t, NULL) != DT_OK)
            return dt_fail(err, DT_EINVALID, "object.modified", "not an RFC 3339 timestamp");
        dt_time_format(&t, 9, canon);
        if (stix_str(leaf, "modified") == NULL || strcmp(canon, stix_str(leaf, "modified")) != 0)
            return dt_fail(err, DT_ESIG, "leaf.modified", "the leaf records another version");
    }
    const char *ls = stix_str(leaf, "signer");
    if ((ls == NULL) != (signer == NULL) || (ls != NULL && strcmp(ls, signer) != 0))
        return dt_fail(err, DT_ESIG, "leaf.signer", "the leaf records another signer");
    return DT_OK;
}

dt_status node_bundle_check(const char *text, size_t len,
                            const uint8_t key[crypto_sign_PUBLICKEYBYTES], dt_err *err)
{
    static const char *const members[] = {"inclusion", "leaf", "object", "public_key", "sth",
                                          "type"};
    json_t *b = NULL, *obj, *leafj = NULL;
    json_error_t je;
    node_signature sig;
    ledger_sth sth;
    ledger_proof proof;
    uint64_t index = 0;
    uint8_t pk[32], sha[32], lh[32];
    char *s = NULL;
    const char *leaf, *t;
    dt_buf buf;
    dt_status rc = DT_OK;

    dt_buf_init(&buf, (size_t)64 << 20);
    b = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (b == NULL) {
        rc = dt_fail(err, DT_EPARSE, "bundle", "not JSON: line %d: %s", je.line, je.text);
        goto out;
    }
    if (!json_is_object(b) || json_object_size(b) != 6) {
        rc = dt_fail(err, DT_EINVALID, "bundle", "a bundle is an object of six members (%s, ...)",
                     members[0]);
        goto out;
    }
    for (size_t k = 0; k < 6; k++)
        if (json_object_get(b, members[k]) == NULL) {
            rc = dt_fail(err, DT_EINVALID, members[k], "missing");
            goto out;
        }
    t = stix_str(b, "type");
    obj = json_object_get(b, "object");
    leaf = stix_str(b, "leaf");
    if (t == NULL || strcmp(t, BUNDLE_TYPE) != 0) {
        rc = dt_fail(err, DT_EINVALID, "type", "must be \"%s\"", BUNDLE_TYPE);
        goto out;
    }
    if (!json_is_object(obj) || leaf == NULL) {
        rc = dt_fail(err, DT_EINVALID, json_is_object(obj) ? "leaf" : "object",
                     "the object must be a JSON object and the leaf a string");
        goto out;
    }
    /* 1. the pinned key is the bundle's key, and it signed the head */
    rc = node_key_parse(stix_str(b, "public_key"), pk, err);
    if (rc != DT_OK)
        goto out;
    if (sodium_memcmp(pk, key, 32) != 0) {
        rc = dt_fail(err, DT_ESIG, "public_key", "the bundle names another key than the pinned one");
        goto out;
    }
    rc = member_text(json_object_get(b, "sth"), &s, err);
    if (rc == DT_OK)
        rc = ledger_sth_parse(s, strlen(s), &sth, err);
    if (rc != DT_OK) {
        dt_err_prefix(err, "sth");
        goto out;
    }
    rc = ledger_sth_verify(&sth, key, err);
    if (rc != DT_OK) {
        dt_fail(err, DT_ESIG, "sth.tree_head_signature",
                "the signed tree head does not verify under the pinned key");
        goto out;
    }
    /* 2. the leaf is in the tree of that head */
    free(s);
    rc = member_text(json_object_get(b, "inclusion"), &s, err);
    if (rc == DT_OK)
        rc = ledger_inclusion_parse(s, strlen(s), &index, &proof, err);
    if (rc != DT_OK) {
        dt_err_prefix(err, "inclusion");
        goto out;
    }
    ledger_hash_leaf(leaf, json_string_length(json_object_get(b, "leaf")), lh);
    if (index >= sth.tree_size ||
        !ledger_verify_inclusion(lh, index, sth.tree_size, &proof, sth.root)) {
        rc = dt_fail(err, DT_ESIG, "inclusion",
                     "the inclusion proof does not lead from the leaf to the head's root");
        goto out;
    }
    /* 3. the leaf describes this object */
    leafj = json_loads(leaf, JSON_REJECT_DUPLICATES, NULL);
    rc = stix_jcs(obj, &buf, err);
    if (rc != DT_OK)
        goto out;
    dt_sha256(buf.data, buf.len, sha);
    /* 4. the object's own signature */
    rc = node_object_verify(obj, &sig, err);
    if (rc != DT_OK) {
        dt_err_prefix(err, "object");
        goto out;
    }
    if (!sig.present) {
        rc = dt_fail(err, DT_ESIG, "object", "the object is unsigned");
        goto out;
    }
    rc = check_leaf_fields(leafj, obj, sha, sig.signer, err);
out:
    free(s);
    json_decref(leafj);
    json_decref(b);
    dt_buf_release(&buf);
    return rc;
}
