/* api: detente's own HTTP API under /detente/v1/ (DESIGN.md "HTTP surface"),
 * beside TAXII. The server authenticates the request and hands it to
 * http_api_dispatch, which looks the path up in one table (api.c). Each
 * area implements its handlers in its own file (api_ledger.c,
 * api_verify.c, api_peer.c, ...); the table names them as weak symbols, so
 * an endpoint whose file is not linked in answers 404 like any unknown path.
 *
 * Handlers read stored objects only through node_query (the one door out)
 * and answer JSON. They return DT_OK with rs filled, or an error status
 * (with err) that the server maps to an HTTP status and an error body
 * through the one table in status.c. */
#ifndef DETENTE_HTTP_API_H
#define DETENTE_HTTP_API_H

#include "core/core.h"
#include "node/node.h"

#define HTTP_API_PREFIX "/detente/v1/"
#define HTTP_API_MAX_ARGS 32

typedef struct http_api_request {
    const char *method;          /* "GET", "POST", ... */
    const char *path;            /* after /detente/v1/, e.g. "ledger/sth", "verdicts/indicator--..." */
    const char *keys[HTTP_API_MAX_ARGS];   /* query arguments, URL-decoded */
    const char *values[HTTP_API_MAX_ARGS];
    size_t nargs;
    const node_principal *who;   /* authenticated requester (ANONYMOUS if none) */
    const char *body;
    size_t body_len;
} http_api_request;

typedef struct http_api_response {
    int http_status;             /* 200 unless set */
    const char *content_type;    /* "application/json" unless set */
    dt_buf body;
} http_api_response;

typedef dt_status (*http_api_fn)(node *n, const http_api_request *rq, http_api_response *rs,
                                 dt_err *err);

/* The value of query argument key, or NULL. A key given twice: the first. */
const char *http_api_arg(const http_api_request *rq, const char *key);
/* Parse a non-negative decimal argument; DT_EINVALID naming the argument. */
dt_status http_api_arg_u64(const http_api_request *rq, const char *key, bool required,
                           uint64_t *out, dt_err *err);
/* Reject any argument not in allowed (NULL-terminated): DT_EINVALID. */
dt_status http_api_args_only(const http_api_request *rq, const char *const *allowed,
                             dt_err *err);

void http_api_response_init(http_api_response *rs, size_t max_body);
void http_api_response_release(http_api_response *rs);

/* Find the handler for rq->path and method and run it. DT_ENOTFOUND for an
 * unknown path; a known path with another method sets *method_not_allowed
 * and returns DT_EINVALID (the server answers 405). */
dt_status http_api_dispatch(node *n, const http_api_request *rq, http_api_response *rs,
                            bool *method_not_allowed, dt_err *err);

/* Handlers (weak: an area not linked in answers 404). Paths in comments. */
#define HTTP_API_HANDLER(fn) \
    __attribute__((weak)) dt_status fn(node *n, const http_api_request *rq, \
                                       http_api_response *rs, dt_err *err);
HTTP_API_HANDLER(http_api_ledger_sth)          /* GET ledger/sth */
HTTP_API_HANDLER(http_api_ledger_inclusion)    /* GET ledger/proof/inclusion */
HTTP_API_HANDLER(http_api_ledger_consistency)  /* GET ledger/proof/consistency */
HTTP_API_HANDLER(http_api_ledger_entries)      /* GET ledger/entries */
HTTP_API_HANDLER(http_api_ledger_witnessed)    /* GET ledger/witnessed */
HTTP_API_HANDLER(http_api_key)                 /* GET key */
HTTP_API_HANDLER(http_api_verdicts)            /* GET verdicts */
HTTP_API_HANDLER(http_api_verdict)             /* GET verdicts/{id} */
HTTP_API_HANDLER(http_api_reliability)         /* GET reliability */
HTTP_API_HANDLER(http_api_peers)               /* GET peers */
#undef HTTP_API_HANDLER

#endif
