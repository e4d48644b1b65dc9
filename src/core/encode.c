/* Hex, base64, hashes, constant-time comparison and UTF-8 validation: small
 * pure helpers. SHA-256 comes from OpenSSL's libcrypto, which uses the CPU's
 * SHA extensions (measured twice as fast as libsodium's portable code). */
#include "core/core.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void dt_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool dt_hex_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    if (len % 2 != 0 || len / 2 > cap)
        return false;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hexval((unsigned char)in[i]), lo = hexval((unsigned char)in[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    if (out_len)
        *out_len = len / 2;
    return true;
}

size_t dt_base64_len(size_t len)
{
    return sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
}

void dt_base64_encode(const uint8_t *in, size_t len, char *out)
{
    sodium_bin2base64(out, dt_base64_len(len), in, len, sodium_base64_VARIANT_ORIGINAL);
}

bool dt_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t n = 0;
    const char *end = NULL;
    if (sodium_base642bin(out, cap, in, len, NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    if (end != in + len)
        return false;
    if (out_len)
        *out_len = n;
    return true;
}

/* OpenSSL 3's one-shot SHA256() looks the algorithm up on every call; the
 * ledger hashes millions of 64-byte inputs, so the digest is fetched once
 * and each thread reuses its own context (2.5x faster measured). */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static _Thread_local EVP_MD_CTX *sha256_ctx;
/* Frees a thread's context when the thread ends (servers start and end a
 * thread per connection; without this each one would leak its context). */
static pthread_key_t sha256_key;
static bool sha256_key_ok;

static void sha256_ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    sha256_key_ok = pthread_key_create(&sha256_key, sha256_ctx_free) == 0;
}

static void sha256_parts(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32])
{
    pthread_once(&sha256_once, sha256_fetch);
    if (sha256_ctx == NULL) {
        sha256_ctx = EVP_MD_CTX_new();
        if (sha256_ctx != NULL && sha256_key_ok)
            pthread_setspecific(sha256_key, sha256_ctx);
    }
    if (sha256_md == NULL || sha256_ctx == NULL ||
        EVP_DigestInit_ex2(sha256_ctx, sha256_md, NULL) != 1 ||
        EVP_DigestUpdate(sha256_ctx, a, alen) != 1 ||
        (blen > 0 && EVP_DigestUpdate(sha256_ctx, b, blen) != 1) ||
        EVP_DigestFinal_ex(sha256_ctx, out, NULL) != 1)
        abort(); /* libcrypto cannot fail here short of memory exhaustion */
}

void dt_sha256(const void *p, size_t len, uint8_t out[32])
{
    sha256_parts(p, len, NULL, 0, out);
}

void dt_sha256_2(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32])
{
    sha256_parts(a, alen, b, blen, out);
}

void dt_sha1(const void *p, size_t len, uint8_t out[20])
{
    SHA1(p, len, out);
}

bool dt_ct_equal(const void *a, const void *b, size_t len)
{
    return sodium_memcmp(a, b, len) == 0;
}

bool dt_utf8_valid(const char *str, size_t len, size_t *bad_at)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            goto bad;
        }
        if (len - i <= n)
            goto bad;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                goto bad;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            goto bad;
        i += n + 1;
    }
    return true;
bad:
    if (bad_at)
        *bad_at = i;
    return false;
}
