/* The HTTP server: libmicrohttpd glue, routing, checks in front of every
 * TAXII endpoint, the request log and the dt_status to HTTP table.
 *
 * A request is checked in the order that costs the server least: the path
 * (404/400), the method (405), Accept (406), Content-Type and the declared
 * Content-Length of a POST (415/413), credentials (401, slowed per source
 * address after failures), query parameters (400). All of this happens on
 * the first callback, before any body byte is read, so a request that will
 * be refused is never buffered. A body is then appended chunk by chunk
 * under max_content_length; once over it the rest is discarded and 413
 * answered (a body far beyond the limit gets the connection closed).
 *
 * libmicrohttpd's own percent-decoding is disabled (an identity unescape
 * callback): taxii/ decodes each path segment and query value itself, so
 * "%2F" and "%00" cannot change what a path means.
 *
 * Every error answer is a TAXII error message with title, description and
 * http_status. 5xx answers never describe internals to the client; the
 * request log line carries the reason. The log is one line per request on
 * the log stream: time, method, path, status, bytes, milliseconds, user and
 * client address, and the reason for errors; never a header value, password
 * or token. */
#include "http/http.h"

#include "http/api.h"
#include "taxii/taxii.h"
#include "web/web.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RESPONSE_MAX ((size_t)256 << 20)
#define LOG_PATH_MAX 200

struct http_server {
    struct MHD_Daemon *d;
    node *n;
    FILE *log;
    char url[192];
    atomic_int in_flight;
    char *tls_cert, *tls_key;
    size_t max_body;
};

typedef struct req {
    int64_t start_us;
    char method[8];
    char path[LOG_PATH_MAX + 8];
    char addr[INET6_ADDRSTRLEN];
    taxii_route route;
    taxii_params params;
    node_principal who;
    dt_buf body;
    bool too_large;
    size_t discarded;
    bool queued;
    bool is_post;
    int status;
    size_t bytes;
    char reason[300];
    /* /detente/v1/ requests: decoded query arguments (owned) */
    char *api_keys[HTTP_API_MAX_ARGS], *api_values[HTTP_API_MAX_ARGS];
    size_t api_nargs;
} req;

static const char *title_of_http(int http)
{
    switch (http) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 503: return "Service Unavailable";
    default: return http >= 500 ? "Internal Server Error" : "Error";
    }
}

/* ---- responses ---- */

static enum MHD_Result queue(struct MHD_Connection *c, req *r, int status, dt_buf *body,
                             const char *ctype, const char *hname, const char *hvalue,
                             const char *h2name, const char *h2value)
{
    struct MHD_Response *resp;
    enum MHD_Result ok;
    size_t len = body ? body->len : 0;
    if (len > 0) {
        char *data = dt_buf_take(body);
        resp = MHD_create_response_from_buffer_with_free_callback(len, data, dt_free);
        if (resp == NULL)
            dt_free(data);
    } else {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (resp == NULL)
        return MHD_NO;
    if (ctype != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (hname != NULL)
        MHD_add_response_header(resp, hname, hvalue);
    if (h2name != NULL)
        MHD_add_response_header(resp, h2name, h2value);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->queued = true;
    r->status = status;
    r->bytes = len;
    return ok;
}

/* A TAXII error message. description NULL: the title says it all. */
static enum MHD_Result respond_error(struct MHD_Connection *c, req *r, int status,
                                     const char *description, const char *hname,
                                     const char *hvalue)
{
    dt_buf b;
    enum MHD_Result ok;
    const char *title = title_of_http(status);
    if (description != NULL && r->reason[0] == '\0')
        snprintf(r->reason, sizeof r->reason, "%s", description);
    if (status >= 500)
        description = "the server could not complete the request; its log has the reason";
    dt_buf_init(&b, 4096);
    if (taxii_error_build(status, title, description, &b, NULL) != DT_OK) {
        dt_buf_reset(&b);
        dt_buf_puts(&b, "{\"title\":\"Error\"}", NULL);
    }
    ok = queue(c, r, status, &b, TAXII_MEDIA_TYPE, hname, hvalue, NULL, NULL);
    dt_buf_release(&b);
    return ok;
}

static enum MHD_Result respond_status(struct MHD_Connection *c, req *r, const dt_err *err)
{
    char text[400];
    int status = http_status_of(err->code, NULL);
    return respond_error(c, r, status, dt_err_text(err, text, sizeof text), NULL, NULL);
}

/* ---- request checks ---- */

static void copy_log_path(char *out, const char *url)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)url; *p && o + 4 < LOG_PATH_MAX; p++) {
        if (*p > ' ' && *p < 0x7f && *p != '"' && *p != '\\') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

static void client_addr(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "-");
    if (ci == NULL || ci->client_addr == NULL)
        return;
    if (ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                  out, (socklen_t)cap);
    else if (ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6,
                  &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr, out,
                  (socklen_t)cap);
}

typedef struct arg_walk {
    taxii_params *p;
    dt_err *err;
    dt_status rc;
} arg_walk;

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_len,
                              const char *value, size_t value_len)
{
    arg_walk *w = cls;
    w->rc = taxii_params_add(w->p, key, key_len, value, value_len, w->err);
    return w->rc == DT_OK ? MHD_YES : MHD_NO;
}

typedef struct api_walk {
    req *r;
    dt_err *err;
    dt_status rc;
} api_walk;

static enum MHD_Result on_api_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_len, const char *value, size_t value_len)
{
    api_walk *w = cls;
    req *r = w->r;
    if (r->api_nargs == HTTP_API_MAX_ARGS) {
        w->rc = dt_fail(w->err, DT_EINVALID, "query", "more than %d query arguments",
                        HTTP_API_MAX_ARGS);
        return MHD_NO;
    }
    w->rc = taxii_percent_decode(key, key_len, &r->api_keys[r->api_nargs], w->err);
    if (w->rc == DT_OK)
        w->rc = taxii_percent_decode(value ? value : "", value ? value_len : 0,
                                     &r->api_values[r->api_nargs], w->err);
    if (w->rc != DT_OK) {
        dt_free(r->api_keys[r->api_nargs]);
        r->api_keys[r->api_nargs] = NULL;
        return MHD_NO;
    }
    r->api_nargs++;
    return MHD_YES;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Authenticate, or queue a 401 (after the failure delay) and return false. */
static bool authenticate(http_server *s, struct MHD_Connection *c, req *r,
                         enum MHD_Result *result)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    char user[64], secret[512];
    dt_err err = {0};
    dt_status rc = DT_EDENIED;
    http_auth_kind kind = http_auth_parse(h, user, sizeof user, secret, sizeof secret);
    if (kind == HTTP_AUTH_BASIC)
        rc = node_auth_basic(s->n, user, secret, &r->who, &err);
    else if (kind == HTTP_AUTH_BEARER)
        rc = node_auth_token(s->n, secret, &r->who, &err);
    sodium_memzero(secret, sizeof secret);
    if (rc == DT_OK) {
        http_auth_ok(r->addr);
        return true;
    }
    if (kind == HTTP_AUTH_NONE) {
        *result = respond_error(c, r, 401, "credentials are required (HTTP Basic or a bearer token)",
                                MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"detente\"");
        return false;
    }
    if (rc != DT_EDENIED) {
        char text[400];
        *result = respond_error(c, r, http_status_of(rc, NULL), dt_err_text(&err, text, sizeof text),
                                NULL, NULL);
        return false;
    }
    /* A failed login: logged (who tried, from where; never the secret) and
     * slowed, in this connection's own thread. */
    snprintf(r->reason, sizeof r->reason, "failed login (%s%s)",
             kind == HTTP_AUTH_BASIC ? "basic user " : kind == HTTP_AUTH_BEARER ? "bearer token"
                                                                               : "malformed header",
             kind == HTTP_AUTH_BASIC ? user : "");
    sleep_ms(http_auth_fail(r->addr));
    *result = respond_error(c, r, 401, "wrong credentials", MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                            "Basic realm=\"detente\"");
    return false;
}

/* Everything decided before the body: returns true to go on reading. */
static bool first_call(http_server *s, struct MHD_Connection *c, req *r, const char *url,
                       enum MHD_Result *result)
{
    dt_err err = {0};
    const char *accept, *ctype, *clen;
    dt_status rc = taxii_route_parse(url, strlen(url), node_conf(s->n)->api_root, &r->route, &err);
    if (rc != DT_OK) {
        *result = respond_status(c, r, &err);
        return false;
    }
    if (!taxii_route_allows(r->route.kind, r->method)) {
        *result = respond_error(c, r, 405, "method not allowed on this resource",
                                MHD_HTTP_HEADER_ALLOW, taxii_route_methods(r->route.kind));
        return false;
    }
    if (r->route.kind == TAXII_ROUTE_HEALTH || r->route.kind == TAXII_ROUTE_METRICS)
        return true;
    if (r->route.kind == TAXII_ROUTE_API) {
        /* detente's own API: credentials are optional (anonymous callers
         * see what node_query lets ANONYMOUS see), wrong ones are a 401. */
        api_walk w = {r, &err, DT_OK};
        if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION) == NULL)
            r->who.kind = NODE_PRINCIPAL_ANONYMOUS;
        else if (!authenticate(s, c, r, result))
            return false;
        MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, on_api_arg, &w);
        if (w.rc != DT_OK) {
            *result = respond_status(c, r, &err);
            return false;
        }
        return true;
    }
    accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    if (!taxii_accept_ok(accept)) {
        *result = respond_error(c, r, 406, "this server answers " TAXII_MEDIA_TYPE, NULL, NULL);
        return false;
    }
    if (r->is_post) {
        ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!taxii_content_type_ok(ctype)) {
            *result = respond_error(c, r, 415, "send " TAXII_MEDIA_TYPE, NULL, NULL);
            return false;
        }
        clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (clen != NULL) {
            char *end = NULL;
            unsigned long long v = strtoull(clen, &end, 10);
            if (end != clen && v > s->max_body) {
                char msg[128];
                snprintf(msg, sizeof msg, "the body is %llu bytes; max_content_length is %zu", v,
                         s->max_body);
                *result = respond_error(c, r, 413, msg, NULL, NULL);
                return false;
            }
        }
    }
    if (!authenticate(s, c, r, result))
        return false;
    taxii_params_init(&r->params, taxii_route_params(r->route.kind));
    {
        arg_walk w = {&r->params, &err, DT_OK};
        MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, on_arg, &w);
        if (w.rc != DT_OK) {
            *result = respond_status(c, r, &err);
            return false;
        }
    }
    return true;
}

/* The dashboard (web/): its fixed assets to GET or HEAD, with no
 * credentials (the page holds no data; its script calls the APIs with the
 * user's own). "/ui" is sent to "/ui/"; any other path under it is 404. */
static enum MHD_Result serve_ui(struct MHD_Connection *c, req *r, const char *url)
{
    const web_asset *a;
    struct MHD_Response *resp;
    enum MHD_Result ok;
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
        return respond_error(c, r, 405, "the dashboard is read-only", MHD_HTTP_HEADER_ALLOW,
                             "GET, HEAD");
    if (strcmp(url, "/ui") == 0)
        return queue(c, r, 308, NULL, NULL, MHD_HTTP_HEADER_LOCATION, WEB_PREFIX, NULL, NULL);
    a = web_asset_find(url);
    if (a == NULL)
        return respond_error(c, r, 404, "no such page of the dashboard", NULL, NULL);
    resp = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
    for (size_t i = 0; web_headers[i] != NULL; i += 2)
        MHD_add_response_header(resp, web_headers[i], web_headers[i + 1]);
    ok = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    r->queued = true;
    r->status = 200;
    r->bytes = a->len;
    return ok;
}

/* scheme://host for discovery URLs, from Host when it looks like one. */
static void base_url(http_server *s, struct MHD_Connection *c, char *out, size_t cap)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    size_t len = host ? strlen(host) : 0;
    bool ok = len > 0 && len < 256 &&
              strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
                  len;
    if (ok)
        snprintf(out, cap, "%s://%s", strncmp(s->url, "https", 5) == 0 ? "https" : "http", host);
    else
        snprintf(out, cap, "%s", s->url);
}

static enum MHD_Result serve(http_server *s, struct MHD_Connection *c, req *r)
{
    taxii_request rq;
    taxii_response rs;
    dt_err err = {0};
    char base[300];
    enum MHD_Result ok;
    dt_status rc;
    if (r->route.kind == TAXII_ROUTE_HEALTH || r->route.kind == TAXII_ROUTE_METRICS) {
        dt_buf b;
        dt_buf_init(&b, 1 << 20);
        if (r->route.kind == TAXII_ROUTE_HEALTH)
            rc = dt_buf_puts(&b, "{\"status\":\"ok\"}", &err);
        else
            rc = http_metrics_write(&b, &err);
        if (rc != DT_OK) {
            dt_buf_release(&b);
            return respond_status(c, r, &err);
        }
        ok = queue(c, r, 200, &b,
                   r->route.kind == TAXII_ROUTE_HEALTH ? "application/json"
                                                      : "text/plain; version=0.0.4",
                   NULL, NULL, NULL, NULL);
        dt_buf_release(&b);
        return ok;
    }
    if (r->route.kind == TAXII_ROUTE_API) {
        http_api_request arq = {0};
        http_api_response ars;
        bool not_allowed = false;
        arq.method = r->method;
        arq.path = r->route.api_path;
        for (size_t i = 0; i < r->api_nargs; i++) {
            arq.keys[i] = r->api_keys[i];
            arq.values[i] = r->api_values[i];
        }
        arq.nargs = r->api_nargs;
        arq.who = &r->who;
        arq.body = r->body.data;
        arq.body_len = r->body.len;
        http_api_response_init(&ars, RESPONSE_MAX);
        rc = http_api_dispatch(s->n, &arq, &ars, &not_allowed, &err);
        if (rc != DT_OK) {
            char text[400];
            http_api_response_release(&ars);
            if (not_allowed)
                return respond_error(c, r, 405, dt_err_text(&err, text, sizeof text), NULL, NULL);
            return respond_status(c, r, &err);
        }
        ok = queue(c, r, ars.http_status, &ars.body, ars.content_type, NULL, NULL, NULL, NULL);
        http_api_response_release(&ars);
        return ok;
    }
    base_url(s, c, base, sizeof base);
    rq.method = r->method;
    rq.route = &r->route;
    rq.who = &r->who;
    rq.params = &r->params;
    rq.body = r->body.data;
    rq.body_len = r->body.len;
    rq.base_url = base;
    taxii_response_init(&rs, RESPONSE_MAX);
    rc = taxii_handle(s->n, &rq, &rs, &err);
    if (rc != DT_OK) {
        taxii_response_release(&rs);
        return respond_status(c, r, &err);
    }
    if (rs.ingested || rs.rejected)
        http_metrics_ingest(rs.ingested, rs.rejected);
    if (strcmp(r->method, "DELETE") == 0)
        dt_buf_reset(&rs.body);
    ok = queue(c, r, rs.http_status, &rs.body, TAXII_MEDIA_TYPE,
               rs.has_dates ? "X-TAXII-Date-Added-First" : NULL, rs.first,
               rs.has_dates ? "X-TAXII-Date-Added-Last" : NULL, rs.last);
    taxii_response_release(&rs);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    http_server *s = cls;
    req *r = *con_cls;
    enum MHD_Result result = MHD_YES;
    if (r == NULL) {
        r = dt_calloc(1, sizeof *r);
        if (r == NULL)
            return MHD_NO;
        *con_cls = r;
        atomic_fetch_add(&s->in_flight, 1);
        r->start_us = dt_now_us();
        snprintf(r->method, sizeof r->method, "%s", strlen(method) < sizeof r->method ? method : "?");
        copy_log_path(r->path, url);
        client_addr(c, r->addr, sizeof r->addr);
        r->is_post = strcmp(method, "POST") == 0;
        dt_buf_init(&r->body, s->max_body);
        taxii_params_init(&r->params, 0);
        if (web_path_is_ui(url))
            return serve_ui(c, r, url);
        if (!first_call(s, c, r, url, &result))
            return result;
        return MHD_YES;
    }
    if (r->queued) {
        *upload_data_size = 0; /* an early answer is out: drop the body */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!r->too_large && dt_buf_append(&r->body, upload_data, *upload_data_size, NULL) != DT_OK) {
            r->too_large = true;
            dt_buf_release(&r->body);
        }
        if (r->too_large) {
            r->discarded += *upload_data_size;
            if (r->discarded > s->max_body) {
                snprintf(r->reason, sizeof r->reason, "body far over max_content_length: closed");
                return MHD_NO;
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "the body is over max_content_length (%zu bytes)", s->max_body);
        return respond_error(c, r, 413, msg, NULL, NULL);
    }
    return serve(s, c, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *s = cls;
    req *r = *con_cls;
    char line[800], ts[DT_TIME_LEN];
    double secs;
    if (r == NULL)
        return;
    secs = (double)(dt_now_us() - r->start_us) / 1e6;
    http_metrics_request(r->queued ? r->status : 499, secs);
    dt_time now = dt_time_now();
    snprintf(line, sizeof line,
             "time=%s method=%s path=\"%s\" status=%d bytes=%zu ms=%.3f user=%s addr=%s%s%s%s%s\n",
             dt_time_format(&now, 3, ts), r->method, r->path, r->queued ? r->status : 0, r->bytes,
             secs * 1e3, r->who.name[0] ? r->who.name : "-", r->addr,
             r->reason[0] ? " reason=\"" : "", r->reason, r->reason[0] ? "\"" : "",
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
    fputs(line, s->log);
    fflush(s->log);
    taxii_params_release(&r->params);
    dt_buf_release(&r->body);
    for (size_t i = 0; i < r->api_nargs; i++) {
        dt_free(r->api_keys[i]);
        dt_free(r->api_values[i]);
    }
    dt_free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

/* Keep the request path and query as sent; taxii/ decodes them itself. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    return strlen(s);
}

/* ---- lifecycle ---- */

static dt_status parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6,
                              char *host, size_t host_cap, dt_err *err)
{
    const char *colon = strrchr(listen, ':');
    char h[128];
    char *end = NULL;
    long port;
    size_t hlen;
    memset(ss, 0, sizeof *ss);
    if (colon == NULL)
        return dt_fail(err, DT_EARG, "listen", "'%s' is not ADDR:PORT", listen);
    port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || port < 0 || port > 65535)
        return dt_fail(err, DT_EARG, "listen", "'%s': bad port", listen);
    hlen = (size_t)(colon - listen);
    if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
        listen++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof h)
        return dt_fail(err, DT_EARG, "listen", "'%s': bad address", listen);
    memcpy(h, listen, hlen);
    h[hlen] = '\0';
    if (strchr(h, ':') != NULL) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)(void *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, h, &a->sin6_addr) != 1)
            return dt_fail(err, DT_EARG, "listen", "'%s': not an IPv6 address", h);
        *v6 = true;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)(void *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, h, &a->sin_addr) != 1)
            return dt_fail(err, DT_EARG, "listen", "'%s': not an IPv4 address", h);
        *v6 = false;
    }
    snprintf(host, host_cap, *v6 ? "[%s]" : "%s", h);
    return DT_OK;
}

dt_status http_server_start(node *n, const http_opts *opts, http_server **out, dt_err *err)
{
    const node_config *conf = node_conf(n);
    const char *listen = opts && opts->listen ? opts->listen : conf->listen;
    const char *cert = opts && opts->tls_cert ? opts->tls_cert : conf->tls_cert;
    const char *key = opts && opts->tls_key ? opts->tls_key : conf->tls_key;
    struct sockaddr_storage ss;
    char host[160];
    bool v6 = false, tls = cert[0] != '\0' || key[0] != '\0';
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_POLL | MHD_USE_ITC;
    const union MHD_DaemonInfo *info;
    http_server *s;
    size_t len;
    dt_status rc;
    *out = NULL;
    rc = parse_listen(listen, &ss, &v6, host, sizeof host, err);
    if (rc != DT_OK)
        return rc;
    s = dt_calloc(1, sizeof *s);
    if (s == NULL)
        return dt_fail(err, DT_ENOMEM, "server", "out of memory");
    s->n = n;
    s->log = opts && opts->log ? opts->log : stderr;
    s->max_body = conf->max_content_length ? conf->max_content_length : 10485760;
    if (tls) {
        if (cert[0] == '\0' || key[0] == '\0') {
            rc = dt_fail(err, DT_EARG, "tls", "both a certificate and a key are needed");
            goto fail;
        }
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            rc = dt_fail(err, DT_EARG, "tls", "this libmicrohttpd was built without TLS");
            goto fail;
        }
        rc = dt_file_read(cert, 1 << 20, &s->tls_cert, &len, err);
        if (rc == DT_OK)
            rc = dt_file_read(key, 1 << 20, &s->tls_key, &len, err);
        if (rc != DT_OK)
            goto fail;
        flags |= MHD_USE_TLS;
    }
    if (v6)
        flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(opts && opts->connection_limit ? opts->connection_limit
                   : conf->connections ? conf->connections : 256),
        MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(opts && opts->timeout_s ? opts->timeout_s : conf->timeout ? conf->timeout : 30),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, s,
        tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->tls_cert,
        MHD_OPTION_HTTPS_MEM_KEY, s->tls_key, MHD_OPTION_END);
    if (s->d == NULL) {
        rc = dt_fail(err, DT_ENET, "listen", "cannot listen on %s (in use, or not an address of "
                     "this machine)", listen);
        goto fail;
    }
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(s->url, sizeof s->url, "%s://%s:%u", tls ? "https" : "http", host,
             info ? (unsigned)info->port : 0u);
    *out = s;
    return DT_OK;
fail:
    dt_free(s->tls_cert);
    dt_free(s->tls_key);
    dt_free(s);
    return rc;
}

const char *http_server_url(const http_server *s)
{
    return s->url;
}

void http_server_stop(http_server *s, unsigned grace_ms)
{
    MHD_socket fd;
    if (s == NULL)
        return;
    fd = MHD_quiesce_daemon(s->d);
    for (unsigned waited = 0; atomic_load(&s->in_flight) > 0 && waited < grace_ms; waited += 10)
        sleep_ms(10);
    MHD_stop_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    if (s->tls_key != NULL)
        sodium_memzero(s->tls_key, strlen(s->tls_key));
    dt_free(s->tls_cert);
    dt_free(s->tls_key);
    dt_free(s);
}
