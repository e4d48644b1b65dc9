/* The node's signing key over time, and when signed tree heads are issued.
 *
 * Issuing policy. A signed tree head (STH) is made lazily: when one is asked
 * for (GET /detente/v1/ledger/sth, `detente ledger sth`, a bundle) and the
 * log has grown since the latest one; otherwise the latest is served again.
 * Ingest never signs a head, so a batch costs no signature. Every issued
 * head is kept by the store under its tree size; timestamps never go back.
 *
 * Rotation. `detente key rotate` makes a new key pair and appends a rotation
 * leaf to the ledger, in one transaction with a head of the grown tree
 * signed by the new key. The leaf is the JCS of
 *   {"new_key_signature": b64, "new_public_key": "ed25519:..",
 *    "old_key_signature": b64, "old_public_key": "ed25519:..",
 *    "rotated": RFC 3339, "signer": identity id, "type": "key-rotation"}
 * where both signatures are over the JCS of the same object without the two
 * signature members: the old key vouches for the new one, the new key shows
 * it is held. Which key signs a head follows from the log alone: a head of
 * tree size N is signed by the key introduced by the last rotation leaf
 * with index < N (before any rotation, the first rotation's old key or, if
 * there was none, the node's key). That holds exactly because the first
 * head after a rotation is issued in the rotation's own transaction, and
 * because a process still holding the old key (a server started before the
 * rotation) refuses to issue heads: node_sth_current compares its key with
 * the one the store names as current ("node/key-current").
 *
 * The old secret key file is kept as key.secret.<UTC yyyymmddThhmmssZ>, mode
 * 0600: the operator may delete it once peers follow; nothing reads it.
 * The rotation statements are also kept in the store ("node/key-rotations",
 * a JSON array) and served at GET /detente/v1/key, so a peer that pinned
 * the old key fetches them, checks the old key's signature and pins the new
 * one (docs/ledger.md). */
#include "ledger/ledger.h"
#include "node/node_int.h"
#include "stix/stix.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KV_ROTATIONS "node/key-rotations"
#define KV_CURRENT "node/key-current"

dt_status node_write_keys(const char *home, const uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                          const uint8_t sk[crypto_sign_SECRETKEYBYTES], dt_err *err);

/* ---- rotation statements ---- */

/* JCS of obj without the two signature members. */
static dt_status rotation_message(const json_t *obj, dt_buf *out, dt_err *err)
{
    json_t *c = json_deep_copy(obj);
    dt_status rc;
    if (c == NULL)
        return dt_fail(err, DT_ENOMEM, "key rotation", "out of memory");
    json_object_del(c, "old_key_signature");
    json_object_del(c, "new_key_signature");
    dt_buf_reset(out);
    rc = stix_jcs(c, out, err);
    json_decref(c);
    return rc;
}

bool node_leaf_is_rotation(const json_t *leaf)
{
    const char *t = stix_str(leaf, "type");
    return t != NULL && strcmp(t, "key-rotation") == 0;
}

static dt_status sig_field(const json_t *obj, const char *key, uint8_t sig[64], dt_err *err)
{
    const char *s = stix_str(obj, key);
    uint8_t tmp[72];
    size_t n = 0;
    if (s == NULL || !dt_base64_decode(s, strlen(s), tmp, sizeof tmp, &n) || n != 64)
        return dt_fail(err, DT_ESIG, key, "not the base64 of a 64-byte Ed25519 signature");
    memcpy(sig, tmp, 64);
    return DT_OK;
}

dt_status node_rotation_verify(const json_t *leaf, uint8_t old_pk[crypto_sign_PUBLICKEYBYTES],
                               uint8_t new_pk[crypto_sign_PUBLICKEYBYTES], dt_err *err)
{
    uint8_t old_sig[64], new_sig[64];
    dt_buf msg;
    dt_status rc;
    if (!json_is_object(leaf) || !node_leaf_is_rotation(leaf))
        return dt_fail(err, DT_EINVALID, "key rotation", "not a key-rotation statement");
    if (stix_str(leaf, "signer") == NULL || stix_str(leaf, "rotated") == NULL)
        return dt_fail(err, DT_EINVALID, "key rotation", "signer and rotated are required");
    rc = node_key_parse(stix_str(leaf, "old_public_key"), old_pk, err);
    if (rc == DT_OK)
        rc = node_key_parse(stix_str(leaf, "new_public_key"), new_pk, err);
    if (rc == DT_OK)
        rc = sig_field(leaf, "old_key_signature", old_sig, err);
    if (rc == DT_OK)
        rc = sig_field(leaf, "new_key_signature", new_sig, err);
    if (rc != DT_OK)
        return rc;
    dt_buf_init(&msg, 1 << 16);
    rc = rotation_message(leaf, &msg, err);
    if (rc == DT_OK &&
        crypto_sign_verify_detached(old_sig, (const unsigned char *)msg.data, msg.len, old_pk) != 0)
        rc = dt_fail(err, DT_ESIG, "old_key_signature",
                     "the old key's signature over the rotation does not verify");
    if (rc == DT_OK &&
        crypto_sign_verify_detached(new_sig, (const unsigned char *)msg.data, msg.len, new_pk) != 0)
        rc = dt_fail(err, DT_ESIG, "new_key_signature",
                     "the new key's signature over the rotation does not verify");
    dt_buf_release(&msg);
    return rc;
}

/* The stored rotations: a JSON array of {"leaf_index": N, "statement": {..}}
 * (new reference; an empty array when there are none). */
static dt_status rotations_load(store *s, store_txn *t, json_t **out, dt_err *err)
{
    char *text = NULL;
    dt_err e = {0};
    json_t *a;
    *out = NULL;
    dt_status rc = store_kv_get(s, t, KV_ROTATIONS, &text, &e);
    if (rc == DT_ENOTFOUND || (rc == DT_OK && text == NULL)) {
        *out = json_array();
        return *out ? DT_OK : dt_fail(err, DT_ENOMEM, "key rotation", "out of memory");
    }
    if (rc != DT_OK)
        return dt_fail(err, rc, e.where, "%s", e.msg);
    a = json_loads(text, 0, NULL);
    dt_free(text);
    if (!json_is_array(a)) {
        json_decref(a);
        return dt_fail(err, DT_EDB, KV_ROTATIONS, "the stored key rotations are not a JSON array");
    }
    *out = a;
    return DT_OK;
}

dt_status node_key_for_size(node *n, uint64_t tree_size, uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                            dt_err *err)
{
    json_t *rot = NULL, *it;
    size_t i;
    dt_status rc = rotations_load(n->st, NULL, &rot, err);
    if (rc != DT_OK)
        return rc;
    memcpy(pk, n->pk, crypto_sign_PUBLICKEYBYTES);
    json_array_foreach(rot, i, it) {
        json_t *st = json_object_get(it, "statement");
        json_int_t idx = json_integer_value(json_object_get(it, "leaf_index"));
        const char *key = (uint64_t)idx < tree_size ? stix_str(st, "new_public_key")
                                                     : stix_str(st, "old_public_key");
        rc = node_key_parse(key, pk, err);
        if (rc != DT_OK || (uint64_t)idx >= tree_size)
            break;
    }
    json_decref(rot);
    return rc;
}

/* DT_OK when this process's key is the one the store names as current. */
static dt_status check_key_current(node *n, store_txn *t, dt_err *err)
{
    char *cur = NULL, mine[96];
    dt_err e = {0};
    dt_status rc = store_kv_get(n->st, t, KV_CURRENT, &cur, &e);
    if (rc == DT_ENOTFOUND || (rc == DT_OK && cur == NULL))
        return DT_OK; /* never rotated */
    if (rc != DT_OK)
        return dt_fail(err, rc, e.where, "%s", e.msg);
    node_key_format(n->pk, mine, sizeof mine);
    if (strcmp(cur, mine) != 0)
        rc = dt_fail(err, DT_EDENIED, "key",
                     "the node key was rotated since this process started (now %s); restart it "
                     "to sign with the new key",
                     cur);
    dt_free(cur);
    return rc;
}

/* ---- signed tree heads ---- */

dt_status node_sth_current(node *n, ledger_sth *out, dt_err *err)
{
    ledger_sth last;
    bool have_last;
    uint64_t size = 0;
    store_txn *t = NULL;
    dt_err e = {0};
    dt_status rc;

    rc = ledger_sth_load(n->st, UINT64_MAX, &last, &e);
    if (rc != DT_OK && rc != DT_ENOTFOUND)
        return dt_fail(err, rc, e.where, "%s", e.msg);
    have_last = rc == DT_OK;
    rc = ledger_size(n->st, NULL, &size, err);
    if (rc != DT_OK)
        return rc;
    if (have_last && last.tree_size == size) {
        *out = last;
        return DT_OK;
    }
    rc = store_begin(n->st, &t, err);
    if (rc != DT_OK)
        return rc;
    /* holding the writer: nothing else appends or issues meanwhile */
    rc = ledger_size(n->st, t, &size, err);
    if (rc == DT_OK) {
        memset(&e, 0, sizeof e);
        dt_status lr = ledger_sth_load(n->st, UINT64_MAX, &last, &e);
        if (lr != DT_OK && lr != DT_ENOTFOUND)
            rc = dt_fail(err, lr, e.where, "%s", e.msg);
        have_last = lr == DT_OK;
    }
    if (rc == DT_OK && have_last && last.tree_size > size)
        rc = dt_fail(err, DT_EDB, "ledger",
                     "the log holds %" PRIu64 " leaves but a head was signed for %" PRIu64
                     ": leaves were removed from the store (run detente ledger verify)",
                     size, last.tree_size);
    if (rc == DT_OK && have_last && last.tree_size == size) {
        store_rollback(t);
        *out = last;
        return DT_OK;
    }
    if (rc == DT_OK)
        rc = check_key_current(n, t, err);
    if (rc == DT_OK) {
        uint64_t now = (uint64_t)dt_now_ms();
        if (have_last && last.timestamp > now)
            now = last.timestamp; /* the clock went back: heads stay in order */
        rc = ledger_sth_issue(t, now, n->sk, out, err);
    }
    if (rc == DT_OK)
        return store_commit(t, err);
    store_rollback(t);
    return rc;
}

/* ---- rotation ---- */

static dt_status build_rotation(node *n, const uint8_t new_pk[32], const uint8_t new_sk[64],
                                const char *when, json_t **out, dt_err *err)
{
    char oldk[96], newk[96], s64[128];
    uint8_t sig[64];
    dt_buf msg;
    dt_status rc;
    json_t *st;
    *out = NULL;
    node_key_format(n->pk, oldk, sizeof oldk);
    node_key_format(new_pk, newk, sizeof newk);
    st = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "key-rotation", "signer", n->identity_id,
                   "old_public_key", oldk, "new_public_key", newk, "rotated", when);
    if (st == NULL)
        return dt_fail(err, DT_ENOMEM, "key rotation", "out of memory");
    dt_buf_init(&msg, 1 << 16);
    rc = rotation_message(st, &msg, err);
    if (rc == DT_OK) {
        crypto_sign_detached(sig, NULL, (const unsigned char *)msg.data, msg.len, n->sk);
        dt_base64_encode(sig, 64, s64);
        json_object_set_new(st, "old_key_signature", json_string(s64));
        crypto_sign_detached(sig, NULL, (const unsigned char *)msg.data, msg.len, new_sk);
        dt_base64_encode(sig, 64, s64);
        json_object_set_new(st, "new_key_signature", json_string(s64));
    }
    dt_buf_release(&msg);
    if (rc != DT_OK) {
        json_decref(st);
        return rc;
    }
    *out = st;
    return DT_OK;
}

dt_status node_key_rotate(node *n, node_key_rotation *out, dt_err *err)
{
    uint8_t new_pk[crypto_sign_PUBLICKEYBYTES], new_sk[crypto_sign_SECRETKEYBYTES];
    char when[DT_TIME_LEN], stamp[32], path[NODE_PATH_MAX + 32], kept[NODE_PATH_MAX + 64];
    char newk[96], next[NODE_PATH_MAX + 32];
    dt_time now = dt_time_now();
    json_t *st = NULL, *rot = NULL;
    store_txn *t = NULL;
    dt_buf leaf;
    char *rot_text = NULL;
    dt_status rc;

    memset(out, 0, sizeof *out);
    dt_buf_init(&leaf, 1 << 16);
    crypto_sign_keypair(new_pk, new_sk);
    dt_time_format(&now, 3, when);
    /* 2026-01-02T03:04:05.678Z -> 20260102T030405Z */
    snprintf(stamp, sizeof stamp, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", when, when + 5, when + 8,
             when + 11, when + 14, when + 17);
    snprintf(path, sizeof path, "%s/key.secret", n->home);
    snprintf(next, sizeof next, "%s/key.secret.next", n->home);
    snprintf(kept, sizeof kept, "%s/key.secret.%s", n->home, stamp);
    if (access(kept, F_OK) == 0) {
        rc = dt_fail(err, DT_ECONFLICT, kept, "exists already: wait a second and rotate again");
        goto out;
    }

    rc = build_rotation(n, new_pk, new_sk, when, &st, err);
    if (rc == DT_OK)
        rc = stix_jcs(st, &leaf, err);
    if (rc != DT_OK)
        goto out;
    /* the new secret goes to disk first: a crash after the commit below
     * must not lose the key the ledger now names */
    {
        char text[256], b64[128];
        dt_base64_encode(new_sk, sizeof new_sk, b64);
        int len = snprintf(text, sizeof text, "ed25519-secret:%s\n", b64);
        rc = dt_file_write_atomic(next, text, (size_t)len, 0600, err);
        sodium_memzero(text, sizeof text);
        sodium_memzero(b64, sizeof b64);
        if (rc != DT_OK)
            goto out;
    }
    rc = store_begin(n->st, &t, err);
    if (rc != DT_OK)
        goto out;
    rc = check_key_current(n, t, err);
    if (rc == DT_OK)
        rc = ledger_append(t, leaf.data, leaf.len, &out->leaf_index, out->leaf_hash, err);
    if (rc == DT_OK)
        rc = rotations_load(n->st, t, &rot, err);
    if (rc == DT_OK) {
        json_t *entry = json_pack("{s:I, s:O}", "leaf_index", (json_int_t)out->leaf_index,
                                  "statement", st);
        if (entry == NULL || json_array_append_new(rot, entry) != 0 ||
            (rot_text = json_dumps(rot, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
            rc = dt_fail(err, DT_ENOMEM, "key rotation", "out of memory");
    }
    if (rc == DT_OK)
        rc = store_kv_put(t, KV_ROTATIONS, rot_text, err);
    node_key_format(new_pk, newk, sizeof newk);
    if (rc == DT_OK)
        rc = store_kv_put(t, KV_CURRENT, newk, err);
    if (rc == DT_OK) {
        ledger_sth last, head;
        uint64_t ts = (uint64_t)dt_now_ms();
        if (ledger_sth_load(n->st, UINT64_MAX, &last, NULL) == DT_OK && last.timestamp > ts)
            ts = last.timestamp;
        rc = ledger_sth_issue(t, ts, new_sk, &head, err);
        out->sth_tree_size = head.tree_size;
    }
    if (rc == DT_OK) {
        rc = store_commit(t, err);
    } else {
        store_rollback(t);
    }
    t = NULL;
    if (rc != DT_OK) {
        unlink(next);
        goto out;
    }
    /* committed: the files follow */
    if (link(path, kept) != 0) {
        rc = dt_fail(err, DT_EIO, kept, "cannot keep the old key: %s; the new key is in %s",
                     strerror(errno), next);
        goto out;
    }
    if (rename(next, path) != 0) {
        rc = dt_fail(err, DT_EIO, path, "cannot install the new key: %s; it is in %s",
                     strerror(errno), next);
        goto out;
    }
    rc = node_write_keys(n->home, new_pk, new_sk, err);
    if (rc != DT_OK)
        goto out;
    memcpy(out->old_public_key, n->pk, sizeof n->pk);
    memcpy(out->new_public_key, new_pk, sizeof new_pk);
    snprintf(out->kept_secret, sizeof out->kept_secret, "%s", kept);
    memcpy(n->pk, new_pk, sizeof new_pk);
    memcpy(n->sk, new_sk, sizeof new_sk);
out:
    sodium_memzero(new_sk, sizeof new_sk);
    json_decref(st);
    json_decref(rot);
    free(rot_text);
    dt_buf_release(&leaf);
    return rc;
}

dt_status node_key_document(node *n, json_t **out, dt_err *err)
{
    char key[96], fp[65], *cur = NULL;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    json_t *rot = NULL, *doc;
    dt_status rc;
    *out = NULL;
    rc = rotations_load(n->st, NULL, &rot, err);
    if (rc != DT_OK)
        return rc;
    /* the store's current key: a server started before a rotation still
     * points peers at the new key */
    memcpy(pk, n->pk, sizeof pk);
    if (store_kv_get(n->st, NULL, KV_CURRENT, &cur, NULL) == DT_OK && cur != NULL &&
        node_key_parse(cur, pk, NULL) != DT_OK)
        memcpy(pk, n->pk, sizeof pk);
    dt_free(cur);
    node_key_format(pk, key, sizeof key);
    node_key_fingerprint(pk, fp);
    doc = json_pack("{s:s, s:s, s:s, s:o}", "public_key", key, "fingerprint", fp, "signer",
                    n->identity_id, "rotations", rot);
    if (doc == NULL)
        return dt_fail(err, DT_ENOMEM, "key", "out of memory");
    *out = doc;
    return DT_OK;
}
