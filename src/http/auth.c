/* HTTP authentication helpers: the Authorization header (RFC 7617 Basic,
 * RFC 6750 Bearer) and the slowing of failed logins per source address.
 *
 * The slowing table is a fixed array of slots indexed by a hash of the
 * address (no allocation per attacker, so a flood of addresses cannot grow
 * memory); a collision merely shares a counter. The delay grows with the
 * failures of the last ten minutes and is capped, and it is served by
 * sleeping in the failing connection's own thread, so other clients are
 * never held up. */
#include "http/http.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

http_auth_kind http_auth_parse(const char *header, char *user, size_t user_cap, char *secret,
                               size_t secret_cap)
{
    const char *p;
    size_t len;
    if (header == NULL || header[0] == '\0')
        return HTTP_AUTH_NONE;
    if (strncasecmp(header, "Basic ", 6) == 0) {
        uint8_t raw[512];
        size_t n = 0;
        const char *colon;
        p = header + 6;
        while (*p == ' ')
            p++;
        len = strlen(p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == 0 || len > 680 || !dt_base64_decode(p, len, raw, sizeof raw - 1, &n))
            return HTTP_AUTH_BAD;
        raw[n] = '\0';
        colon = memchr(raw, ':', n);
        if (colon == NULL || memchr(raw, '\0', n) != NULL) {
            sodium_memzero(raw, sizeof raw);
            return HTTP_AUTH_BAD;
        }
        len = (size_t)(colon - (const char *)raw);
        if (len == 0 || len >= user_cap || n - len - 1 >= secret_cap) {
            sodium_memzero(raw, sizeof raw);
            return HTTP_AUTH_BAD;
        }
        memcpy(user, raw, len);
        user[len] = '\0';
        memcpy(secret, colon + 1, n - len - 1);
        secret[n - len - 1] = '\0';
        sodium_memzero(raw, sizeof raw);
        return HTTP_AUTH_BASIC;
    }
    if (strncasecmp(header, "Bearer ", 7) == 0) {
        p = header + 7;
        while (*p == ' ')
            p++;
        len = strlen(p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == 0 || len >= secret_cap)
            return HTTP_AUTH_BAD;
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f)
                return HTTP_AUTH_BAD;
        memcpy(secret, p, len);
        secret[len] = '\0';
        if (user_cap > 0)
            user[0] = '\0';
        return HTTP_AUTH_BEARER;
    }
    return HTTP_AUTH_BAD;
}

#define SLOTS 1024
#define WINDOW_US (600LL * 1000000)
#define STEP_MS 200u
#define MAX_MS 3000u

static struct {
    uint64_t key;
    unsigned failures;
    int64_t last_us;
} slots[SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t addr_key(const char *addr)
{
    uint8_t h[32];
    uint64_t k = 0;
    dt_sha256(addr ? addr : "", addr ? strlen(addr) : 0, h);
    memcpy(&k, h, sizeof k);
    return k | 1; /* 0 marks a free slot */
}

unsigned http_auth_fail(const char *addr)
{
    uint64_t k = addr_key(addr);
    int64_t now = dt_now_us();
    unsigned ms;
    size_t i = (size_t)(k % SLOTS);
    pthread_mutex_lock(&slots_lock);
    if (slots[i].key != k || now - slots[i].last_us > WINDOW_US) {
        slots[i].key = k;
        slots[i].failures = 0;
    }
    if (slots[i].failures < 1000)
        slots[i].failures++;
    slots[i].last_us = now;
    ms = slots[i].failures * STEP_MS;
    pthread_mutex_unlock(&slots_lock);
    return ms > MAX_MS ? MAX_MS : ms;
}

void http_auth_ok(const char *addr)
{
    uint64_t k = addr_key(addr);
    size_t i = (size_t)(k % SLOTS);
    pthread_mutex_lock(&slots_lock);
    if (slots[i].key == k)
        slots[i].failures = 0;
    pthread_mutex_unlock(&slots_lock);
}
