/* stix/jcs: RFC 8785 JSON Canonicalization Scheme.
 *
 * Hashes and signatures are computed over these bytes, so two nodes must
 * produce exactly the same text for the same value. Numbers are written as
 * ECMAScript's Number.prototype.toString would (RFC 8785 section 3.2.2.3):
 * the shortest digit string that reads back as the same double, then plain
 * notation for decimal exponents -6 < n <= 21 and "d.ddde+N" outside it.
 * The shortest digits come from trying printf's correctly rounded %.*e at
 * 1..17 significant digits and keeping the first that round-trips through
 * strtod; at equal length the correctly rounded candidate is the closest,
 * as ECMAScript asks. Object members are sorted by their names' UTF-16 code
 * units (section 3.2.3), which differs from UTF-8 byte order only for
 * characters above U+FFFF against U+E000..U+FFFF. Strings are escaped
 * minimally (section 3.2.2.2): only '"', '\\' and control characters, with
 * the two-character forms where JSON has them and \u00xx otherwise.
 *
 * Integers are jansson's json_int_t; beyond 2^53 in magnitude a double
 * cannot hold most of them, so another implementation would print a
 * different number: those are refused rather than canonicalised wrongly
 * (the ones that are exactly a double are written as that double). */
#include "stix/stix.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JCS_MAX_DEPTH 1000

static dt_status put_number(double d, dt_buf *out, dt_err *err)
{
    char tmp[40], digits[24];
    int k = 0, e = 0, n;
    if (!isfinite(d))
        return dt_fail(err, DT_EINVALID, "", "NaN and Infinity have no JSON form");
    if (d == 0)
        return dt_buf_putc(out, '0', err); /* -0 too */
    if (d < 0) {
        dt_status rc = dt_buf_putc(out, '-', err);
        if (rc != DT_OK)
            return rc;
        d = -d;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* tmp is "D[.DDD]e[+-]XX" */
    const char *c = tmp;
    for (; *c != 'e'; c++)
        if (*c >= '0' && *c <= '9')
            digits[k++] = *c;
    e = (int)strtol(c + 1, NULL, 10);
    while (k > 1 && digits[k - 1] == '0')
        k--;
    digits[k] = '\0';
    n = e + 1; /* value = 0.digits * 10^n */
    char s[64];
    size_t len = 0;
    if (k <= n && n <= 21) {
        memcpy(s, digits, (size_t)k);
        len = (size_t)k;
        for (int i = 0; i < n - k; i++)
            s[len++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(s, digits, (size_t)n);
        len = (size_t)n;
        s[len++] = '.';
        memcpy(s + len, digits + n, (size_t)(k - n));
        len += (size_t)(k - n);
    } else if (-6 < n && n <= 0) {
        s[len++] = '0';
        s[len++] = '.';
        for (int i = 0; i < -n; i++)
            s[len++] = '0';
        memcpy(s + len, digits, (size_t)k);
        len += (size_t)k;
    } else {
        s[len++] = digits[0];
        if (k > 1) {
            s[len++] = '.';
            memcpy(s + len, digits + 1, (size_t)(k - 1));
            len += (size_t)(k - 1);
        }
        len += (size_t)snprintf(s + len, sizeof s - len, "e%c%d", n - 1 >= 0 ? '+' : '-',
                                abs(n - 1));
    }
    return dt_buf_append(out, s, len, err);
}

static dt_status put_string(const char *p, size_t len, dt_buf *out, dt_err *err)
{
    static const char hex[] = "0123456789abcdef";
    size_t bad;
    dt_status rc;
    if (!dt_utf8_valid(p, len, &bad))
        return dt_fail(err, DT_EINVALID, "", "string is not valid UTF-8 at byte %zu", bad);
    rc = dt_buf_reserve(out, len + 2, err);
    if (rc != DT_OK)
        return rc;
    rc = dt_buf_putc(out, '"', err);
    size_t run = 0; /* start of the pending run of literal bytes */
    for (size_t i = 0; i < len && rc == DT_OK; i++) {
        unsigned char c = (unsigned char)p[i];
        char esc[7];
        size_t en = 0;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            en = 2;
        } else if (c < 0x20) {
            esc[0] = '\\';
            en = 2;
            switch (c) {
            case '\b': esc[1] = 'b'; break;
            case '\t': esc[1] = 't'; break;
            case '\n': esc[1] = 'n'; break;
            case '\f': esc[1] = 'f'; break;
            case '\r': esc[1] = 'r'; break;
            default:
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                en = 6;
            }
        }
        if (en == 0)
            continue;
        rc = dt_buf_append(out, p + run, i - run, err);
        if (rc == DT_OK)
            rc = dt_buf_append(out, esc, en, err);
        run = i + 1;
    }
    if (rc == DT_OK)
        rc = dt_buf_append(out, p + run, len - run, err);
    if (rc == DT_OK)
        rc = dt_buf_putc(out, '"', err);
    return rc;
}

/* Next UTF-16 code unit of a valid UTF-8 string; *pending holds the low
 * surrogate of a character above U+FFFF between calls. -1 at the end. */
static long next_unit(const unsigned char **s, unsigned *pending)
{
    if (*pending) {
        long u = *pending;
        *pending = 0;
        return u;
    }
    const unsigned char *p = *s;
    unsigned long cp;
    if (*p == 0)
        return -1;
    if (p[0] < 0x80) {
        cp = p[0];
        *s += 1;
    } else if (p[0] < 0xE0) {
        cp = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
        *s += 2;
    } else if (p[0] < 0xF0) {
        cp = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
        *s += 3;
    } else {
        cp = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
             (p[3] & 0x3Fu);
        *s += 4;
    }
    if (cp >= 0x10000) {
        cp -= 0x10000;
        *pending = 0xDC00u + (unsigned)(cp & 0x3FF);
        return (long)(0xD800u + (cp >> 10));
    }
    return (long)cp;
}

static int utf16_cmp(const void *a, const void *b)
{
    const unsigned char *x = *(const unsigned char *const *)a;
    const unsigned char *y = *(const unsigned char *const *)b;
    unsigned px = 0, py = 0;
    for (;;) {
        long ux = next_unit(&x, &px), uy = next_unit(&y, &py);
        if (ux != uy)
            return ux < uy ? -1 : 1;
        if (ux < 0)
            return 0;
    }
}

static dt_status put_value(const json_t *v, dt_buf *out, int depth, dt_err *err)
{
    dt_status rc = DT_OK;
    if (depth > JCS_MAX_DEPTH)
        return dt_fail(err, DT_ELIMIT, "", "value nested deeper than %d", JCS_MAX_DEPTH);
    switch (json_typeof(v)) {
    case JSON_NULL:
        return dt_buf_puts(out, "null", err);
    case JSON_TRUE:
        return dt_buf_puts(out, "true", err);
    case JSON_FALSE:
        return dt_buf_puts(out, "false", err);
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        const json_int_t lim = (json_int_t)1 << 53;
        if (i <= lim && i >= -lim)
            return dt_buf_printf(out, err, "%" JSON_INTEGER_FORMAT, i);
        /* Beyond 2^53 only some integers are doubles; those are written as
         * the double (jansson reads "3400000000000000000", which JCS itself
         * writes for 3.4e18, back as an integer), the rest refused. */
        double d = (double)i;
        if (d < 9223372036854775808.0 && d >= -9223372036854775808.0 && (json_int_t)d == i)
            return put_number(d, out, err);
        return dt_fail(err, DT_EINVALID, "",
                       "integer %" JSON_INTEGER_FORMAT " is beyond 2^53 and not exactly a "
                       "double, which JSON numbers are", i);
    }
    case JSON_REAL:
        return put_number(json_real_value(v), out, err);
    case JSON_STRING:
        return put_string(json_string_value(v), json_string_length(v), out, err);
    case JSON_ARRAY: {
        size_t i;
        json_t *m;
        rc = dt_buf_putc(out, '[', err);
        json_array_foreach(v, i, m) {
            if (rc == DT_OK && i > 0)
                rc = dt_buf_putc(out, ',', err);
            if (rc == DT_OK)
                rc = put_value(m, out, depth + 1, err);
        }
        return rc == DT_OK ? dt_buf_putc(out, ']', err) : rc;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = NULL;
        const char *k;
        json_t *m;
        if (n > 0) {
            keys = dt_calloc(n, sizeof *keys);
            if (keys == NULL)
                return dt_fail(err, DT_ENOMEM, "", "out of memory");
        }
        json_object_foreach((json_t *)v, k, m) {
            size_t bad;
            if (!dt_utf8_valid(k, strlen(k), &bad)) {
                dt_free(keys);
                return dt_fail(err, DT_EINVALID, "", "member name is not valid UTF-8");
            }
            keys[i++] = k;
        }
        if (n > 1)
            qsort(keys, n, sizeof *keys, utf16_cmp);
        rc = dt_buf_putc(out, '{', err);
        for (i = 0; i < n && rc == DT_OK; i++) {
            if (i > 0)
                rc = dt_buf_putc(out, ',', err);
            if (rc == DT_OK)
                rc = put_string(keys[i], strlen(keys[i]), out, err);
            if (rc == DT_OK)
                rc = dt_buf_putc(out, ':', err);
            if (rc == DT_OK)
                rc = put_value(json_object_get(v, keys[i]), out, depth + 1, err);
        }
        dt_free(keys);
        return rc == DT_OK ? dt_buf_putc(out, '}', err) : rc;
    }
    }
    return dt_fail(err, DT_EARG, "", "unknown JSON value type");
}

dt_status stix_jcs(const json_t *v, dt_buf *out, dt_err *err)
{
    DT_CHECK(v != NULL && out != NULL);
    size_t mark = out->len;
    dt_status rc = put_value(v, out, 0, err);
    if (rc != DT_OK && out->data != NULL) {
        out->len = mark; /* leave no half-written value behind */
        out->data[mark] = '\0';
    }
    return rc;
}
