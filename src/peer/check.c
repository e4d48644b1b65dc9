/* peer checks: the pure decisions sync makes about what a peer answered.
 *
 * A head (STH) is trusted only if it verifies under the pinned key and is
 * consistent with the last head this node verified from the same peer
 * (RFC 9162 2.1.4): a smaller tree is a rollback, an equal size with another
 * root a fork, and a larger tree needs a consistency proof. The leaf a
 * peer's ledger holds for an object version is rebuilt here byte for byte
 * (DESIGN.md "Ledger leaf"), so an inclusion proof can be checked against
 * the head without trusting the peer's word for the leaf. The witnessed
 * document (docs/federation.md) is signed over its JCS bytes without the
 * signature member. No I/O here: everything is tested in memory. */
#include "node/node.h"
#include "peer/peer.h"
#include "stix/stix.h"

#include <sodium.h>
#include <string.h>

peer_verdict peer_check_head(const ledger_sth *old, const ledger_sth *fresh,
                             const ledger_proof *consistency, const uint8_t key[32])
{
    if (ledger_sth_verify(fresh, key, NULL) != DT_OK)
        return PEER_CHECK_BAD_SIGNATURE;
    if (old == NULL)
        return PEER_CHECK_OK;
    if (fresh->tree_size < old->tree_size)
        return PEER_CHECK_ROLLBACK;
    if (fresh->tree_size == old->tree_size)
        return sodium_memcmp(fresh->root, old->root, 32) == 0 ? PEER_CHECK_OK : PEER_CHECK_FORK;
    if (consistency == NULL ||
        !ledger_verify_consistency(old->tree_size, fresh->tree_size, old->root, fresh->root,
                                   consistency))
        return PEER_CHECK_INCONSISTENT;
    return PEER_CHECK_OK;
}

const char *peer_verdict_text(peer_verdict v)
{
    switch (v) {
    case PEER_CHECK_OK:
        return "ok";
    case PEER_CHECK_BAD_SIGNATURE:
        return "tree head signature does not verify under the pinned key";
    case PEER_CHECK_ROLLBACK:
        return "tree head is smaller than one it signed before (history rolled back)";
    case PEER_CHECK_FORK:
        return "two tree heads of the same size with different roots (history rewritten)";
    case PEER_CHECK_INCONSISTENT:
        return "new tree head is not consistent with the previous one (history rewritten)";
    }
    return "unknown";
}

dt_status peer_leaf_build(const json_t *obj, const char *date_added, const char *signer,
                          dt_buf *out, dt_err *err)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    const char *mod = json_string_value(json_object_get(obj, "modified"));
    char added[DT_TIME_LEN], modified[DT_TIME_LEN], hex[65];
    uint8_t sha[32];
    dt_time t;
    dt_buf jcs;
    json_t *leaf;
    dt_status rc;
    if (id == NULL)
        return dt_fail(err, DT_EINVALID, "leaf", "object has no id");
    if (dt_time_parse(date_added, strlen(date_added), &t, err) != DT_OK)
        return dt_fail(err, DT_EINVALID, "leaf", "bad date_added");
    dt_time_format(&t, 6, added);
    /* objects without modified are versioned by created; SCOs, which have
     * neither, hold one body per id under a constant version (node/ingest.c) */
    if (mod == NULL)
        mod = json_string_value(json_object_get(obj, "created"));
    if (mod == NULL)
        mod = NODE_UNVERSIONED;
    if (dt_time_parse(mod, strlen(mod), &t, err) != DT_OK)
        return dt_fail(err, DT_EINVALID, "leaf", "bad modified");
    dt_time_format(&t, 9, modified);
    dt_buf_init(&jcs, (size_t)64 << 20);
    rc = stix_jcs(obj, &jcs, err);
    if (rc == DT_OK)
        dt_sha256(jcs.data, jcs.len, sha);
    dt_buf_release(&jcs);
    if (rc != DT_OK)
        return rc;
    dt_hex_encode(sha, 32, hex);
    leaf = json_pack("{s:s, s:s, s:s, s:s, s:o}", "date_added", added, "id", id, "modified",
                     modified, "object_sha256", hex, "signer",
                     signer ? json_string(signer) : json_null());
    if (leaf == NULL)
        return dt_fail(err, DT_ENOMEM, "leaf", "out of memory");
    rc = stix_jcs(leaf, out, err);
    json_decref(leaf);
    return rc;
}

static dt_status jcs_bytes(const json_t *j, dt_buf *out, dt_err *err)
{
    dt_buf_init(out, (size_t)16 << 20);
    return stix_jcs(j, out, err);
}

dt_status peer_witnessed_sign(json_t *heads, const char *witness, const uint8_t pk[32],
                              const uint8_t sk[64], int64_t now_ms, dt_buf *out, dt_err *err)
{
    char key[64], b64[48], sigtext[96];
    uint8_t sig[64];
    dt_buf msg;
    json_t *doc;
    dt_status rc;
    dt_base64_encode(pk, 32, b64);
    snprintf(key, sizeof key, "ed25519:%s", b64);
    doc = json_pack("{s:O, s:s, s:I, s:s}", "heads", heads, "public_key", key, "timestamp",
                    (json_int_t)now_ms, "witness", witness);
    if (doc == NULL)
        return dt_fail(err, DT_ENOMEM, "witnessed", "out of memory");
    rc = jcs_bytes(doc, &msg, err);
    if (rc == DT_OK) {
        crypto_sign_detached(sig, NULL, (const unsigned char *)msg.data, msg.len, sk);
        dt_base64_encode(sig, 64, sigtext);
        json_object_set_new(doc, "signature", json_string(sigtext));
        rc = stix_jcs(doc, out, err);
    }
    dt_buf_release(&msg);
    json_decref(doc);
    return rc;
}

dt_status peer_witnessed_parse(const char *json, size_t len, json_t **doc, dt_err *err)
{
    json_error_t je;
    json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je), *copy = NULL;
    const char *key, *sig;
    uint8_t pk[32], s[64];
    size_t n = 0, m = 0;
    dt_buf msg = {0};
    dt_status rc = DT_OK;
    *doc = NULL;
    if (j == NULL)
        return dt_fail(err, DT_EPARSE, "witnessed", "not JSON: %s", je.text);
    key = json_string_value(json_object_get(j, "public_key"));
    sig = json_string_value(json_object_get(j, "signature"));
    if (!json_is_object(j) || !json_is_array(json_object_get(j, "heads")) ||
        !json_is_string(json_object_get(j, "witness")) || key == NULL || sig == NULL ||
        strncmp(key, "ed25519:", 8) != 0 ||
        !dt_base64_decode(key + 8, strlen(key + 8), pk, sizeof pk, &n) || n != 32 ||
        !dt_base64_decode(sig, strlen(sig), s, sizeof s, &m) || m != 64) {
        rc = dt_fail(err, DT_EINVALID, "witnessed",
                     "needs heads, witness, public_key (ed25519:) and a 64-byte signature");
        goto out;
    }
    copy = json_deep_copy(j);
    if (copy == NULL) {
        rc = dt_fail(err, DT_ENOMEM, "witnessed", "out of memory");
        goto out;
    }
    json_object_del(copy, "signature");
    rc = jcs_bytes(copy, &msg, err);
    if (rc == DT_OK &&
        crypto_sign_verify_detached(s, (const unsigned char *)msg.data, msg.len, pk) != 0)
        rc = dt_fail(err, DT_ESIG, "witnessed", "signature does not verify under its key");
    if (rc == DT_OK) {
        *doc = j;
        j = NULL;
    }
out:
    dt_buf_release(&msg);
    json_decref(copy);
    json_decref(j);
    return rc;
}
