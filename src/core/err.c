/* Errors as values: the first failure fills dt_err; callers add context with
 * dt_err_prefix but never overwrite it (curl's "first error kept" habit). */
#include "core/core.h"

#include <stdio.h>
#include <string.h>

dt_status dt_fail(dt_err *err, dt_status code, const char *where, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || err->code != DT_OK)
        return code;
    err->code = code;
    snprintf(err->where, sizeof err->where, "%s", where ? where : "");
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void dt_err_prefix(dt_err *err, const char *fmt, ...)
{
    char pre[96], old[96];
    va_list ap;
    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->where, sizeof old);
    char joined[sizeof pre + sizeof old + 2];
    size_t n = strlen(pre);
    memcpy(joined, pre, n);
    if (old[0] != '\0' && n > 0 && old[0] != '[' && old[0] != '.')
        joined[n++] = '.';
    size_t m = strnlen(old, sizeof old - 1);
    memcpy(joined + n, old, m);
    joined[n + m] = '\0';
    /* keep the tail if too long: the innermost location matters most */
    size_t jl = n + m;
    if (jl >= sizeof err->where)
        memcpy(err->where, joined + jl - (sizeof err->where - 1), sizeof err->where);
    else
        memcpy(err->where, joined, jl + 1);
}

void dt_err_clear(dt_err *err)
{
    if (err != NULL)
        memset(err, 0, sizeof *err);
}

const char *dt_err_text(const dt_err *err, char *out, size_t len)
{
    if (err == NULL || err->code == DT_OK)
        snprintf(out, len, "no error");
    else if (err->where[0] != '\0')
        snprintf(out, len, "%s: %s", err->where, err->msg);
    else
        snprintf(out, len, "%s", err->msg);
    return out;
}

const char *dt_status_name(dt_status s)
{
    static const char *const names[] = {
        "ok", "out of memory", "bad argument", "parse error", "invalid", "limit exceeded",
        "not found", "conflict", "denied", "bad signature or proof", "i/o error",
        "database error", "network error",
    };
    if ((unsigned)s < sizeof names / sizeof names[0])
        return names[s];
    return "unknown error";
}
