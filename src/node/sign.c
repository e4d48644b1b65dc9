/* Object signatures: Ed25519 over the RFC 8785 canonical form.
 *
 * The signature travels inside the object as a STIX 2.1 property extension
 * (spec section 7.3) under detente's extension-definition, so any STIX tool
 * keeps it intact and ignores it, and any node can check it after the object
 * was relayed by a third party. What is signed is the JCS of the object with
 * our one extension removed: canonical bytes make key order and whitespace
 * irrelevant, and removing exactly what was added makes sign and verify see
 * the same bytes. If "extensions" held nothing else, it is removed as a whole
 * (it was absent before signing).
 *
 * Ingest needs both the signed bytes and the stored (signed) object's
 * bytes; the _jcs variants make one from the other by splicing the
 * "extensions" member in or out of the canonical text, so an object is
 * canonicalised once, not twice (debug builds of ingest check the result
 * against stix_jcs). */
#include "node/node_int.h"
#include "stix/stix.h"

#include <pthread.h>
#include <string.h>

#define SIG_B64_MAX 128

void node_key_format(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char *out, size_t len)
{
    char b64[64];
    dt_base64_encode(pk, crypto_sign_PUBLICKEYBYTES, b64);
    snprintf(out, len, "%s%s", NODE_KEY_PREFIX, b64);
}

dt_status node_key_parse(const char *text, uint8_t pk[crypto_sign_PUBLICKEYBYTES], dt_err *err)
{
    size_t plen = strlen(NODE_KEY_PREFIX), n = 0;
    if (text == NULL || strncmp(text, NODE_KEY_PREFIX, plen) != 0)
        return dt_fail(err, DT_EINVALID, "public_key", "a key must look like ed25519:<base64>");
    if (!dt_base64_decode(text + plen, strlen(text + plen), pk, crypto_sign_PUBLICKEYBYTES, &n) ||
        n != crypto_sign_PUBLICKEYBYTES)
        return dt_fail(err, DT_EINVALID, "public_key",
                       "not a 32-byte Ed25519 public key in standard base64");
    return DT_OK;
}

void node_key_fingerprint(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char out[65])
{
    uint8_t h[32];
    dt_sha256(pk, crypto_sign_PUBLICKEYBYTES, h);
    dt_hex_encode(h, 32, out);
}

/* JCS of obj without our extension, into out. No deep copy: an object
 * without our extension is canonicalised as it is; otherwise a shallow copy
 * (members shared, not duplicated) leaves the extension out. */
static dt_status signed_bytes(const json_t *obj, dt_buf *out, dt_err *err)
{
    json_t *ext = json_object_get(obj, "extensions");
    json_t *copy, *ext_copy;
    dt_status rc;
    if (!json_is_object(ext) || json_object_get(ext, NODE_EXTENSION_ID) == NULL)
        return stix_jcs(obj, out, err);
    copy = json_copy((json_t *)obj); /* shallow */
    ext_copy = json_object_size(ext) > 1 ? json_copy(ext) : NULL;
    if (copy == NULL || (json_object_size(ext) > 1 && ext_copy == NULL)) {
        json_decref(copy);
        json_decref(ext_copy);
        return dt_fail(err, DT_ENOMEM, "", "out of memory copying the object");
    }
    if (ext_copy != NULL) {
        json_object_del(ext_copy, NODE_EXTENSION_ID);
        if (json_object_set_new(copy, "extensions", ext_copy) != 0) {
            json_decref(copy);
            return dt_fail(err, DT_ENOMEM, "", "out of memory copying the object");
        }
    } else {
        json_object_del(copy, "extensions");
    }
    rc = stix_jcs(copy, out, err);
    json_decref(copy);
    return rc;
}

/* A per-thread message buffer: one allocation reused by every signature
 * made or checked on this thread, instead of a fresh one (and its growth)
 * per object. Freed when the thread ends. */
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static pthread_key_t scratch_key;
static bool scratch_ok;

static void scratch_free(void *p)
{
    dt_buf *b = p;
    dt_buf_release(b);
    dt_free(b);
}

static void scratch_init(void)
{
    scratch_ok = pthread_key_create(&scratch_key, scratch_free) == 0;
}

/* The thread's buffer, emptied; NULL if none could be made (the caller
 * then uses a local one). */
static dt_buf *scratch_get(void)
{
    pthread_once(&scratch_once, scratch_init);
    if (!scratch_ok)
        return NULL;
    dt_buf *b = pthread_getspecific(scratch_key);
    if (b == NULL) {
        b = dt_malloc(sizeof *b);
        if (b == NULL)
            return NULL;
        dt_buf_init(b, (size_t)64 << 20);
        if (pthread_setspecific(scratch_key, b) != 0) {
            dt_free(b);
            return NULL;
        }
    }
    dt_buf_reset(b);
    return b;
}

/* Keep a thread's buffer from pinning a huge object's memory. */
static void scratch_put(dt_buf *b, dt_buf *local)
{
    if (b == local)
        dt_buf_release(local);
    else if (b->cap > ((size_t)1 << 20))
        dt_buf_release(b);
}

/* ---- splicing canonical bytes ----
 * The signed bytes and the stored bytes of an object differ only by our
 * extension, so one can be cut from or spliced into the other instead of
 * canonicalising the object twice. Canonical text has no whitespace and
 * sorted members, so a top-level member is found by scanning strings and
 * brackets. Names holding an escape are left to the slow path. */

/* Find the member `name` (ASCII, no escapes) among the members of the
 * object at s[obj]: *at its start ('"') and *end one past its value when
 * found; else *at where it would go (a member's start or the closing '}').
 * false when the text cannot be read this way. */
static bool canon_member_find(const char *s, size_t len, size_t obj, const char *name,
                              bool *found, size_t *at, size_t *end)
{
    size_t nlen = strlen(name), i = obj + 1;
    *found = false;
    if (obj >= len || s[obj] != '{')
        return false;
    while (i < len && s[i] == '"') {
        size_t kend = node_json_value_end(s, len, i), vend;
        if (kend == 0 || kend >= len || s[kend] != ':' || memchr(s + i, '\\', kend - i) != NULL)
            return false;
        /* byte order equals UTF-16 order against an ASCII name */
        size_t klen = kend - i - 2, m = klen < nlen ? klen : nlen;
        int cmp = memcmp(s + i + 1, name, m);
        if (cmp == 0)
            cmp = klen < nlen ? -1 : klen > nlen ? 1 : 0;
        vend = node_json_value_end(s, len, kend + 1);
        if (vend == 0)
            return false;
        if (cmp >= 0) {
            *found = cmp == 0;
            *at = i;
            *end = vend;
            return true;
        }
        i = vend;
        if (i < len && s[i] == ',')
            i++;
    }
    if (i >= len || s[i] != '}')
        return false;
    *at = *end = i;
    return true;
}

/* signed (the object's bytes without "extensions") plus "extensions":ext
 * in its sorted place, into out. */
static dt_status canon_insert_extensions(const dt_buf *signed_bytes_, const dt_buf *ext,
                                         dt_buf *out, bool *done, dt_err *err)
{
    const char *s = signed_bytes_->data;
    size_t len = signed_bytes_->len, at, end;
    bool found;
    dt_status rc;
    *done = false;
    if (!canon_member_find(s, len, 0, "extensions", &found, &at, &end) || found)
        return DT_OK;
    bool at_close = s[at] == '}';
    dt_buf_reset(out);
    rc = dt_buf_append(out, s, at, err);
    if (rc == DT_OK && at_close && at > 1)
        rc = dt_buf_putc(out, ',', err);
    if (rc == DT_OK)
        rc = dt_buf_puts(out, "\"extensions\":", err);
    if (rc == DT_OK)
        rc = dt_buf_append(out, ext->data, ext->len, err);
    if (rc == DT_OK && !at_close)
        rc = dt_buf_putc(out, ',', err);
    if (rc == DT_OK)
        rc = dt_buf_append(out, s + at, len - at, err);
    *done = rc == DT_OK;
    return rc;
}

/* The object's bytes (full) without an "extensions" member that holds
 * only our extension, into out. *done false when that is not the case. */
static dt_status canon_remove_extensions(const dt_buf *full, dt_buf *out, bool *done,
                                         dt_err *err)
{
    const char *s = full->data;
    size_t len = full->len, at, end, iat, iend;
    bool found, ifound;
    dt_status rc;
    *done = false;
    if (!canon_member_find(s, len, 0, "extensions", &found, &at, &end) || !found)
        return DT_OK;
    size_t v = at + sizeof "\"extensions\":" - 1;
    if (!canon_member_find(s, len, v, NODE_EXTENSION_ID, &ifound, &iat, &iend) || !ifound ||
        iat != v + 1 || iend + 1 != end)
        return DT_OK; /* other extensions beside ours */
    if (s[end] == ',')
        end++;
    else if (s[at - 1] == ',')
        at--;
    dt_buf_reset(out);
    rc = dt_buf_append(out, s, at, err);
    if (rc == DT_OK)
        rc = dt_buf_append(out, s + end, len - end, err);
    *done = rc == DT_OK;
    return rc;
}

dt_status node_object_sign_jcs(json_t *obj, const char *signer_id,
                               const uint8_t sk[crypto_sign_SECRETKEYBYTES], dt_buf *jcs,
                               dt_err *err)
{
    dt_buf local, *msg;
    uint8_t sig[crypto_sign_BYTES], pk[crypto_sign_PUBLICKEYBYTES];
    char sig64[SIG_B64_MAX], key[96];
    dt_status rc;
    json_t *ext, *mine;
    bool had_extensions;

    if (!json_is_object(obj))
        return dt_fail(err, DT_EARG, "", "only JSON objects can be signed");
    dt_buf_init(&local, (size_t)64 << 20);
    msg = scratch_get();
    if (msg == NULL)
        msg = &local;
    rc = signed_bytes(obj, msg, err);
    if (rc != DT_OK)
        goto out;
    crypto_sign_detached(sig, NULL, (const unsigned char *)msg->data, msg->len, sk);
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    dt_base64_encode(sig, sizeof sig, sig64);
    node_key_format(pk, key, sizeof key);

    mine = json_pack("{s:s, s:s, s:s, s:s}", "extension_type", "property-extension", "signer",
                     signer_id, "public_key", key, "signature", sig64);
    if (mine == NULL) {
        rc = dt_fail(err, DT_ENOMEM, "", "out of memory building the signature");
        goto out;
    }
    ext = json_object_get(obj, "extensions");
    had_extensions = json_is_object(ext) &&
                     (json_object_size(ext) > 1 ||
                      (json_object_size(ext) == 1 &&
                       json_object_get(ext, NODE_EXTENSION_ID) == NULL));
    if (!json_is_object(ext)) {
        ext = json_object();
        if (ext == NULL || json_object_set_new(obj, "extensions", ext) != 0) {
            json_decref(mine);
            rc = dt_fail(err, DT_ENOMEM, "", "out of memory building the signature");
            goto out;
        }
    }
    if (json_object_set_new(ext, NODE_EXTENSION_ID, mine) != 0) {
        rc = dt_fail(err, DT_ENOMEM, "", "out of memory building the signature");
        goto out;
    }
    if (jcs != NULL) {
        /* the signed object's bytes: the signed bytes with "extensions"
         * spliced in, when ours is all it holds; else canonicalise again */
        bool done = false;
        if (!had_extensions) {
            dt_buf e;
            dt_buf_init(&e, (size_t)1 << 20);
            rc = stix_jcs(ext, &e, err);
            if (rc == DT_OK)
                rc = canon_insert_extensions(msg, &e, jcs, &done, err);
            dt_buf_release(&e);
        }
        if (rc == DT_OK && !done) {
            dt_buf_reset(jcs);
            rc = stix_jcs(obj, jcs, err);
        }
    }
out:
    scratch_put(msg, &local);
    return rc;
}

dt_status node_object_sign(json_t *obj, const char *signer_id,
                           const uint8_t sk[crypto_sign_SECRETKEYBYTES], dt_err *err)
{
    return node_object_sign_jcs(obj, signer_id, sk, NULL, err);
}

dt_status node_object_verify(const json_t *obj, node_signature *sig, dt_err *err)
{
    return node_object_verify_jcs(obj, sig, NULL, err);
}

dt_status node_object_verify_jcs(const json_t *obj, node_signature *sig, dt_buf *jcs,
                                 dt_err *err)
{
    const char *where = "extensions." NODE_EXTENSION_ID;
    json_t *ext, *mine;
    const char *signer, *key, *sig64, *etype;
    uint8_t s[crypto_sign_BYTES + 8];
    size_t slen = 0;
    dt_buf local, *msg;
    dt_status rc;

    memset(sig, 0, sizeof *sig);
    ext = json_object_get(obj, "extensions");
    mine = json_is_object(ext) ? json_object_get(ext, NODE_EXTENSION_ID) : NULL;
    if (mine == NULL)
        return DT_OK;
    sig->present = true;
    if (!json_is_object(mine))
        return dt_fail(err, DT_ESIG, where, "the signature extension must be an object");
    etype = stix_str(mine, "extension_type");
    signer = stix_str(mine, "signer");
    key = stix_str(mine, "public_key");
    sig64 = stix_str(mine, "signature");
    if (etype == NULL || strcmp(etype, "property-extension") != 0)
        return dt_fail(err, DT_ESIG, where, "extension_type must be property-extension");
    if (signer == NULL || strncmp(signer, "identity--", 10) != 0 ||
        strlen(signer) >= sizeof sig->signer)
        return dt_fail(err, DT_ESIG, where, "signer must be an identity id");
    if (key == NULL || sig64 == NULL)
        return dt_fail(err, DT_ESIG, where, "public_key and signature are required");
    memcpy(sig->signer, signer, strlen(signer) + 1);
    if (node_key_parse(key, sig->public_key, NULL) != DT_OK)
        return dt_fail(err, DT_ESIG, where, "public_key is not ed25519:<base64 of 32 bytes>");
    if (!dt_base64_decode(sig64, strlen(sig64), s, sizeof s, &slen) || slen != crypto_sign_BYTES)
        return dt_fail(err, DT_ESIG, where, "signature is not base64 of 64 bytes");
    dt_buf_init(&local, (size_t)64 << 20);
    msg = scratch_get();
    if (msg == NULL)
        msg = &local;
    rc = DT_EINVALID;
    if (jcs != NULL) {
        /* the object's bytes once; the signed bytes cut from them */
        bool done = false;
        dt_buf_reset(jcs);
        if (stix_jcs(obj, jcs, NULL) == DT_OK &&
            canon_remove_extensions(jcs, msg, &done, NULL) == DT_OK && done)
            rc = DT_OK;
        else
            dt_buf_reset(jcs);
    }
    if (rc != DT_OK)
        rc = signed_bytes(obj, msg, err);
    if (rc == DT_OK &&
        crypto_sign_verify_detached(s, (const unsigned char *)msg->data, msg->len,
                                    sig->public_key) != 0)
        rc = dt_fail(err, DT_ESIG, where,
                     "signature by %s does not verify: the object was changed after signing "
                     "or signed with another key", signer);
    scratch_put(msg, &local);
    return rc;
}

json_t *node_extension_definition(void)
{
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type", "extension-definition",
        "spec_version", "2.1", "id", NODE_EXTENSION_ID, "created_by_ref", NODE_PROJECT_IDENTITY,
        "created", "2026-01-01T00:00:00.000Z", "modified", "2026-01-01T00:00:00.000Z", "name",
        "detente signature", "description",
        "An Ed25519 signature by the publishing party over the RFC 8785 canonical JSON of the "
        "object without this extension.",
        "schema",
        "Property extension with four string properties: extension_type "
        "(property-extension), signer (the signing identity's id), public_key "
        "(ed25519: followed by the standard base64 of the 32-byte key) and signature "
        "(standard base64 of the 64-byte Ed25519 signature over the RFC 8785 form of the "
        "object with this extension removed, and extensions removed if left empty).",
        "version", "1.0",
        "extension_types", "property-extension");
}
