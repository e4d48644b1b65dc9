/* The /detente/v1/ routing table and argument helpers (see api.h). */
#include "http/api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct route {
    const char *path;     /* exact, or a prefix ending in '/' for "{id}" routes */
    bool prefix;
    const char *method;
} routes[] = {
    {"ledger/sth", false, "GET"},
    {"ledger/proof/inclusion", false, "GET"},
    {"ledger/proof/consistency", false, "GET"},
    {"ledger/entries", false, "GET"},
    {"ledger/witnessed", false, "GET"},
    {"key", false, "GET"},
    {"verdicts", false, "GET"},
    {"verdicts/", true, "GET"},
    {"reliability", false, "GET"},
    {"peers", false, "GET"},
};

/* Weak symbols are resolved at link time, so the table is filled here. */
static http_api_fn handler_of(size_t i)
{
    static http_api_fn const fns[] = {
        http_api_ledger_sth, http_api_ledger_inclusion, http_api_ledger_consistency,
        http_api_ledger_entries, http_api_ledger_witnessed, http_api_key, http_api_verdicts,
        http_api_verdict, http_api_reliability, http_api_peers,
    };
    _Static_assert(sizeof fns / sizeof fns[0] == sizeof routes / sizeof routes[0],
                   "one handler per route");
    return fns[i];
}

const char *http_api_arg(const http_api_request *rq, const char *key)
{
    for (size_t i = 0; i < rq->nargs; i++)
        if (strcmp(rq->keys[i], key) == 0)
            return rq->values[i];
    return NULL;
}

dt_status http_api_arg_u64(const http_api_request *rq, const char *key, bool required,
                           uint64_t *out, dt_err *err)
{
    const char *v = http_api_arg(rq, key);
    char *end;
    if (v == NULL) {
        if (required)
            return dt_fail(err, DT_EINVALID, key, "the query argument %s is required", key);
        return DT_OK;
    }
    errno = 0;
    if (v[0] < '0' || v[0] > '9')
        return dt_fail(err, DT_EINVALID, key, "%s must be a non-negative whole number", key);
    unsigned long long x = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || x > (1ull << 53))
        return dt_fail(err, DT_EINVALID, key, "%s must be a non-negative whole number", key);
    *out = (uint64_t)x;
    return DT_OK;
}

dt_status http_api_args_only(const http_api_request *rq, const char *const *allowed,
                             dt_err *err)
{
    for (size_t i = 0; i < rq->nargs; i++) {
        bool ok = false;
        for (const char *const *a = allowed; *a != NULL && !ok; a++)
            ok = strcmp(*a, rq->keys[i]) == 0;
        if (!ok)
            return dt_fail(err, DT_EINVALID, rq->keys[i], "unknown query argument '%s'",
                           rq->keys[i]);
    }
    return DT_OK;
}

void http_api_response_init(http_api_response *rs, size_t max_body)
{
    rs->http_status = 200;
    rs->content_type = "application/json";
    dt_buf_init(&rs->body, max_body);
}

void http_api_response_release(http_api_response *rs)
{
    dt_buf_release(&rs->body);
}

dt_status http_api_dispatch(node *n, const http_api_request *rq, http_api_response *rs,
                            bool *method_not_allowed, dt_err *err)
{
    bool path_known = false;
    *method_not_allowed = false;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const struct route *r = &routes[i];
        bool hit = r->prefix ? strncmp(rq->path, r->path, strlen(r->path)) == 0 &&
                                   rq->path[strlen(r->path)] != '\0'
                             : strcmp(rq->path, r->path) == 0;
        http_api_fn fn = handler_of(i);
        if (!hit || fn == NULL)
            continue;
        path_known = true;
        if (strcmp(rq->method, r->method) != 0 &&
            !(strcmp(rq->method, "HEAD") == 0 && strcmp(r->method, "GET") == 0))
            continue;
        return fn(n, rq, rs, err);
    }
    if (path_known) {
        *method_not_allowed = true;
        return dt_fail(err, DT_EINVALID, rq->path, "method %s is not allowed here", rq->method);
    }
    return dt_fail(err, DT_ENOTFOUND, rq->path, "no such endpoint");
}
