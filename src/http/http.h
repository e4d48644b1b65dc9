/* http: the node's HTTP server (libmicrohttpd), its router, authentication,
 * request log and metrics. TAXII semantics live in taxii/; this module turns
 * bytes on a socket into a taxii_request and a dt_status into an HTTP status
 * with a TAXII error message (one table, http_status_of).
 *
 * Threading: one thread per connection (MHD_USE_THREAD_PER_CONNECTION) under
 * a connection limit. Request handlers block (SQLite, Argon2id, the delay
 * after a failed login), and a blocked handler must stall only its own
 * client, never the others sharing a pool thread. */
#ifndef DETENTE_HTTP_H
#define DETENTE_HTTP_H

#include "core/core.h"
#include "node/node.h"

#include <stdint.h>
#include <stdio.h>

typedef struct http_server http_server;

typedef struct http_opts {
    const char *listen;       /* "ADDR:PORT" or "[V6]:PORT"; NULL: the node's [server] listen */
    const char *tls_cert;     /* PEM files; NULL: the node's config (empty: plain HTTP) */
    const char *tls_key;
    unsigned connection_limit;/* 0: [limits] connections of the node's configuration */
    unsigned timeout_s;       /* idle/slow connection timeout; 0: [limits] timeout */
    FILE *log;                /* request log; NULL: stderr */
} http_opts;

/* Start serving n (borrowed: it must outlive the server). DT_EARG for a bad
 * listen address, DT_ENET when the address cannot be bound, DT_EIO for
 * unreadable TLS files. */
dt_status http_server_start(node *n, const http_opts *opts, http_server **out, dt_err *err);
/* The base URL actually listened on ("http://127.0.0.1:8470"). */
const char *http_server_url(const http_server *s);
/* Stop accepting (MHD_quiesce_daemon), let requests in flight finish (at
 * most grace_ms), then stop. Every write acknowledged before is committed:
 * ingest commits before it answers. NULL is accepted. */
void http_server_stop(http_server *s, unsigned grace_ms);

/* The one table: a status to an HTTP status code and a TAXII error title. */
int http_status_of(dt_status s, const char **title);

/* ---- pure helpers (unit-tested) ---- */

typedef enum http_auth_kind { HTTP_AUTH_NONE, HTTP_AUTH_BASIC, HTTP_AUTH_BEARER, HTTP_AUTH_BAD } http_auth_kind;

/* Split an Authorization header. Basic: user and password decoded into the
 * caller's buffers (wiped by the caller); Bearer: the token. BAD for
 * anything malformed or oversized. */
http_auth_kind http_auth_parse(const char *header, char *user, size_t user_cap, char *secret,
                               size_t secret_cap);

/* Failed-login slowing: a small table of source addresses with their recent
 * failures. http_auth_delay_ms says how long to wait before answering a
 * failure from addr (and records it); success forgets addr. Thread-safe. */
unsigned http_auth_fail(const char *addr);
void http_auth_ok(const char *addr);

/* ---- metrics ---- */

void http_metrics_request(int status, double seconds);
void http_metrics_ingest(size_t added, size_t rejected);
/* Prometheus text exposition into out. */
dt_status http_metrics_write(dt_buf *out, dt_err *err);

#endif
