/* sth: signed tree heads, and the JSON forms of heads and proofs.
 *
 * A head is (tree_size, timestamp in ms, root hash) signed with the node's
 * Ed25519 key (libsodium, detached) over the JCS bytes (RFC 8785) of
 * {"root_hash": <base64>, "timestamp": <int>, "tree_size": <int>}. With only
 * ASCII strings and integers below 2^53 the JCS form is just the keys in
 * sorted order without spaces, so it is written with snprintf and needs no
 * JSON library. The JSON we emit is JCS too (keys sorted, no spaces), so a
 * head or proof has exactly one text form: parse then print is the identity
 * on anything we printed, which the fuzz targets check.
 *
 * Parsers are strict because peers are not trusted: exactly the documented
 * keys, JSON integers in [0, 2^53 - 1] (not reals, not negatives), base64 in
 * its canonical padded form of exactly the right length. Anything else is
 * DT_EINVALID naming the key. Every libsodium result is checked. */
#include "ledger/ledger.h"

#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

size_t ledger_sth_message(const ledger_sth *sth, char *out, size_t cap)
{
    char root[64];
    dt_base64_encode(sth->root, 32, root);
    int n = snprintf(out, cap, "{\"root_hash\":\"%s\",\"timestamp\":%" PRIu64 ",\"tree_size\":%" PRIu64 "}",
                     root, sth->timestamp, sth->tree_size);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    return (size_t)n;
}

static dt_status check_range(const char *key, uint64_t v, dt_err *err)
{
    if (v > LEDGER_SIZE_MAX)
        return dt_fail(err, DT_EINVALID, key, "%" PRIu64 " is beyond the limit %" PRIu64, v,
                       LEDGER_SIZE_MAX);
    return DT_OK;
}

dt_status ledger_sth_make(uint64_t tree_size, uint64_t timestamp_ms, const uint8_t root[32],
                          const uint8_t secret_key[64], ledger_sth *out, dt_err *err)
{
    char msg[LEDGER_STH_MESSAGE_MAX];
    size_t len;
    dt_status rc;
    memset(out, 0, sizeof *out);
    if ((rc = check_range("tree_size", tree_size, err)) != DT_OK ||
        (rc = check_range("timestamp", timestamp_ms, err)) != DT_OK)
        return rc;
    out->tree_size = tree_size;
    out->timestamp = timestamp_ms;
    memcpy(out->root, root, 32);
    len = ledger_sth_message(out, msg, sizeof msg);
    if (len == 0 ||
        crypto_sign_detached(out->signature, NULL, (const unsigned char *)msg, len, secret_key) != 0)
        return dt_fail(err, DT_ESIG, "sth", "signing the tree head failed");
    return DT_OK;
}

dt_status ledger_sth_verify(const ledger_sth *sth, const uint8_t public_key[32], dt_err *err)
{
    char msg[LEDGER_STH_MESSAGE_MAX];
    size_t len = ledger_sth_message(sth, msg, sizeof msg);
    if (len == 0)
        return dt_fail(err, DT_ESIG, "sth", "tree head cannot be encoded");
    if (crypto_sign_verify_detached(sth->signature, (const unsigned char *)msg, len,
                                    public_key) != 0)
        return dt_fail(err, DT_ESIG, "sth.tree_head_signature",
                       "signature does not verify for tree size %" PRIu64
                       " under the given public key",
                       sth->tree_size);
    return DT_OK;
}

dt_status ledger_sth_to_json(const ledger_sth *sth, dt_buf *out, dt_err *err)
{
    char root[64], sig[100];
    dt_base64_encode(sth->root, 32, root);
    dt_base64_encode(sth->signature, 64, sig);
    return dt_buf_printf(out, err,
                         "{\"sha256_root_hash\":\"%s\",\"timestamp\":%" PRIu64
                         ",\"tree_head_signature\":\"%s\",\"tree_size\":%" PRIu64 "}",
                         root, sth->timestamp, sig, sth->tree_size);
}

/* ---- strict JSON reading ---- */

static dt_status load_object(const char *json, size_t len, const char *what,
                             const char *const *keys, size_t key_count, json_t **out, dt_err *err)
{
    json_error_t je;
    json_t *root;
    const char *key;
    json_t *v;
    *out = NULL;
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return dt_fail(err, DT_EPARSE, what, "not JSON: %s at line %d column %d", je.text,
                       je.line, je.column);
    if (!json_is_object(root)) {
        json_decref(root);
        return dt_fail(err, DT_EINVALID, what, "expected a JSON object");
    }
    json_object_foreach(root, key, v) {
        bool known = false;
        for (size_t i = 0; i < key_count; i++)
            if (strcmp(key, keys[i]) == 0)
                known = true;
        if (!known) {
            dt_status rc = dt_fail(err, DT_EINVALID, what, "unexpected key \"%.40s\"", key);
            json_decref(root); /* key belongs to root */
            return rc;
        }
    }
    for (size_t i = 0; i < key_count; i++) {
        if (json_object_get(root, keys[i]) == NULL) {
            json_decref(root);
            return dt_fail(err, DT_EINVALID, what, "missing key \"%s\"", keys[i]);
        }
    }
    *out = root;
    return DT_OK;
}

static dt_status get_uint(const json_t *v, const char *where, uint64_t *out, dt_err *err)
{
    if (!json_is_integer(v))
        return dt_fail(err, DT_EINVALID, where, "expected an integer");
    json_int_t i = json_integer_value(v);
    if (i < 0)
        return dt_fail(err, DT_EINVALID, where, "expected a non-negative integer");
    if ((uint64_t)i > LEDGER_SIZE_MAX)
        return dt_fail(err, DT_EINVALID, where, "%lld is beyond the limit %" PRIu64, (long long)i,
                       LEDGER_SIZE_MAX);
    *out = (uint64_t)i;
    return DT_OK;
}

/* Canonical padded base64 of exactly want bytes. */
static dt_status get_b64(const json_t *v, const char *where, uint8_t *out, size_t want,
                         dt_err *err)
{
    char again[100];
    size_t n = 0;
    if (!json_is_string(v))
        return dt_fail(err, DT_EINVALID, where, "expected a base64 string");
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    size_t expect = dt_base64_len(want) - 1;
    if (len != expect)
        return dt_fail(err, DT_EINVALID, where,
                       "expected %zu base64 characters (%zu bytes), got %zu", expect, want, len);
    if (!dt_base64_decode(s, len, out, want, &n) || n != want)
        return dt_fail(err, DT_EINVALID, where, "not padded standard base64 of %zu bytes", want);
    dt_base64_encode(out, want, again);
    if (memcmp(again, s, len) != 0)
        return dt_fail(err, DT_EINVALID, where, "base64 is not in canonical form");
    return DT_OK;
}

dt_status ledger_sth_parse(const char *json, size_t len, ledger_sth *out, dt_err *err)
{
    static const char *const keys[] = {"sha256_root_hash", "timestamp", "tree_head_signature",
                                       "tree_size"};
    json_t *o = NULL;
    ledger_sth sth;
    dt_status rc;
    memset(out, 0, sizeof *out);
    memset(&sth, 0, sizeof sth);
    rc = load_object(json, len, "sth", keys, 4, &o, err);
    if (rc != DT_OK)
        return rc;
    if ((rc = get_b64(json_object_get(o, "sha256_root_hash"), "sth.sha256_root_hash", sth.root, 32,
                      err)) != DT_OK ||
        (rc = get_uint(json_object_get(o, "timestamp"), "sth.timestamp", &sth.timestamp, err)) !=
            DT_OK ||
        (rc = get_b64(json_object_get(o, "tree_head_signature"), "sth.tree_head_signature",
                      sth.signature, 64, err)) != DT_OK ||
        (rc = get_uint(json_object_get(o, "tree_size"), "sth.tree_size", &sth.tree_size, err)) !=
            DT_OK)
        goto out;
    *out = sth;
out:
    json_decref(o);
    return rc;
}

/* ---- proofs ---- */

static dt_status put_hashes(const ledger_proof *p, dt_buf *out, dt_err *err)
{
    char b64[64];
    dt_status rc = dt_buf_putc(out, '[', err);
    for (size_t i = 0; rc == DT_OK && i < p->count; i++) {
        dt_base64_encode(p->hash[i], 32, b64);
        rc = dt_buf_printf(out, err, "%s\"%s\"", i ? "," : "", b64);
    }
    if (rc == DT_OK)
        rc = dt_buf_putc(out, ']', err);
    return rc;
}

static dt_status get_hashes(const json_t *a, const char *where, ledger_proof *out, dt_err *err)
{
    char at[96];
    dt_status rc;
    if (!json_is_array(a))
        return dt_fail(err, DT_EINVALID, where, "expected an array of base64 hashes");
    if (json_array_size(a) > LEDGER_PROOF_MAX)
        return dt_fail(err, DT_EINVALID, where, "%zu hashes, at most %d", json_array_size(a),
                       LEDGER_PROOF_MAX);
    for (size_t i = 0; i < json_array_size(a); i++) {
        snprintf(at, sizeof at, "%s[%zu]", where, i);
        rc = get_b64(json_array_get(a, i), at, out->hash[i], 32, err);
        if (rc != DT_OK)
            return rc;
    }
    out->count = json_array_size(a);
    return DT_OK;
}

dt_status ledger_inclusion_to_json(uint64_t leaf_index, const ledger_proof *p, dt_buf *out,
                                   dt_err *err)
{
    dt_status rc;
    if (p->count > LEDGER_PROOF_MAX)
        return dt_fail(err, DT_EARG, "inclusion", "proof of %zu hashes", p->count);
    if ((rc = dt_buf_puts(out, "{\"audit_path\":", err)) != DT_OK ||
        (rc = put_hashes(p, out, err)) != DT_OK)
        return rc;
    return dt_buf_printf(out, err, ",\"leaf_index\":%" PRIu64 "}", leaf_index);
}

dt_status ledger_inclusion_parse(const char *json, size_t len, uint64_t *leaf_index,
                                 ledger_proof *out, dt_err *err)
{
    static const char *const keys[] = {"audit_path", "leaf_index"};
    json_t *o = NULL;
    dt_status rc;
    out->count = 0;
    *leaf_index = 0;
    rc = load_object(json, len, "inclusion", keys, 2, &o, err);
    if (rc != DT_OK)
        return rc;
    if ((rc = get_uint(json_object_get(o, "leaf_index"), "inclusion.leaf_index", leaf_index,
                       err)) != DT_OK ||
        (rc = get_hashes(json_object_get(o, "audit_path"), "inclusion.audit_path", out, err)) !=
            DT_OK) {
        out->count = 0;
        *leaf_index = 0;
    }
    json_decref(o);
    return rc;
}

dt_status ledger_consistency_to_json(const ledger_proof *p, dt_buf *out, dt_err *err)
{
    dt_status rc;
    if (p->count > LEDGER_PROOF_MAX)
        return dt_fail(err, DT_EARG, "consistency", "proof of %zu hashes", p->count);
    if ((rc = dt_buf_puts(out, "{\"consistency\":", err)) != DT_OK ||
        (rc = put_hashes(p, out, err)) != DT_OK)
        return rc;
    return dt_buf_putc(out, '}', err);
}

dt_status ledger_consistency_parse(const char *json, size_t len, ledger_proof *out, dt_err *err)
{
    static const char *const keys[] = {"consistency"};
    json_t *o = NULL;
    dt_status rc;
    out->count = 0;
    rc = load_object(json, len, "consistency", keys, 1, &o, err);
    if (rc != DT_OK)
        return rc;
    rc = get_hashes(json_object_get(o, "consistency"), "consistency.consistency", out, err);
    if (rc != DT_OK)
        out->count = 0;
    json_decref(o);
    return rc;
}
