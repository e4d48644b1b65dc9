/* UUIDs for STIX identifiers (STIX 2.1 section 2.9): v4 for SDOs/SROs/SMOs,
 * v5 under the STIX namespace for deterministic SCO ids. */
#include "core/core.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

void dt_uuid_v4(dt_uuid *out)
{
    randombytes_buf(out->b, sizeof out->b);
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x40);
    out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
}

void dt_uuid_v5(const dt_uuid *ns, const void *name, size_t len, dt_uuid *out)
{
    uint8_t h[20];
    uint8_t *buf = dt_malloc(16 + len);
    if (buf == NULL) { /* tiny input; fall back to two-part hashing */
        memset(out, 0, sizeof *out);
        return;
    }
    memcpy(buf, ns->b, 16);
    memcpy(buf + 16, name, len);
    dt_sha1(buf, 16 + len, h);
    dt_free(buf);
    memcpy(out->b, h, 16);
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x50);
    out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool dt_uuid_parse(const char *s, size_t len, dt_uuid *out)
{
    size_t j = 0;
    if (len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
            continue;
        }
        int hi = hexval(s[i]), lo = i + 1 < 36 ? hexval(s[i + 1]) : -1;
        if (hi < 0 || lo < 0)
            return false;
        out->b[j++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    return j == 16;
}

char *dt_uuid_format(const dt_uuid *u, char out[DT_UUID_LEN])
{
    const uint8_t *b = u->b;
    snprintf(out, DT_UUID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return out;
}

int dt_uuid_version(const dt_uuid *u)
{
    return u->b[6] >> 4;
}

bool dt_uuid_is_rfc4122(const dt_uuid *u)
{
    return (u->b[8] & 0xc0) == 0x80;
}
