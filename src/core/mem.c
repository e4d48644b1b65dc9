/* Allocation with a failure hook, and capped growable buffers.
 *
 * Every allocation in detente goes through dt_malloc and friends so that tests
 * can fail the Nth one and check that each parser unwinds cleanly (SQLite's
 * habit). A dt_buf never grows past the maximum it was given at init: input
 * size limits are enforced where bytes are appended, not hoped for. */
#include "core/core.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong fail_countdown;

void dt_alloc_fail_at(unsigned long n)
{
    atomic_store(&fail_countdown, n);
}

static bool should_fail(void)
{
    unsigned long n = atomic_load(&fail_countdown);
    while (n != 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &n, n - 1))
            return n == 1;
    }
    return false;
}

void *dt_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *dt_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *dt_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

char *dt_strndup(const char *s, size_t n)
{
    char *d = dt_malloc(n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *dt_strdup(const char *s)
{
    return dt_strndup(s, strlen(s));
}

void dt_free(void *p)
{
    free(p);
}

void dt_buf_init(dt_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void dt_buf_release(dt_buf *b)
{
    dt_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void dt_buf_reset(dt_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

dt_status dt_buf_reserve(dt_buf *b, size_t extra, dt_err *err)
{
    size_t need, cap;
    char *p;
    if (extra > b->max || b->len > b->max - extra)
        return dt_fail(err, DT_ELIMIT, "", "buffer limit of %zu bytes reached", b->max);
    need = b->len + extra + 1;
    if (need <= b->cap)
        return DT_OK;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (b->max < SIZE_MAX && cap > b->max + 1)
        cap = b->max + 1;
    p = dt_realloc(b->data, cap);
    if (p == NULL)
        return dt_fail(err, DT_ENOMEM, "", "out of memory growing a buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return DT_OK;
}

dt_status dt_buf_append(dt_buf *b, const void *p, size_t n, dt_err *err)
{
    dt_status rc = dt_buf_reserve(b, n, err);
    if (rc != DT_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return DT_OK;
}

dt_status dt_buf_puts(dt_buf *b, const char *s, dt_err *err)
{
    return dt_buf_append(b, s, strlen(s), err);
}

dt_status dt_buf_putc(dt_buf *b, char c, dt_err *err)
{
    return dt_buf_append(b, &c, 1, err);
}

dt_status dt_buf_printf(dt_buf *b, dt_err *err, const char *fmt, ...)
{
    va_list ap;
    int n;
    dt_status rc;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return dt_fail(err, DT_EARG, "", "bad format");
    rc = dt_buf_reserve(b, (size_t)n, err);
    if (rc != DT_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return DT_OK;
}

char *dt_buf_take(dt_buf *b)
{
    char *p = b->data;
    if (p == NULL)
        p = dt_strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

bool dt_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);
    bool whole = n < cap;
    if (cap == 0)
        return n == 0;
    if (!whole)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return whole;
}
