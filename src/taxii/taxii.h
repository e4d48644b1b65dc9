/* taxii: the TAXII 2.1 protocol without the HTTP plumbing.
 *
 * Pure parts (no I/O, unit-tested and fuzzed): request paths to routes,
 * query parameters to a store_query, content negotiation (Accept and
 * Content-Type), the `next` paging token, and the JSON bodies the server
 * answers with (envelopes, manifests, versions, status resources, error
 * messages, discovery, API root and collection resources).
 *
 * Endpoints (taxii_handle): one request in, one response body out, through
 * the node's two doors only: reads through node_query, writes through
 * node_ingest_json. Failures come back as dt_status + dt_err; http/ maps
 * them to an HTTP status and a TAXII error message (one table there).
 *
 * Thread safety: everything here is reentrant; taxii_handle may run on many
 * threads at once over one node. */
#ifndef DETENTE_TAXII_H
#define DETENTE_TAXII_H

#include "core/core.h"
#include "node/node.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define TAXII_MEDIA_TYPE "application/taxii+json;version=2.1"
#define TAXII_STIX_MEDIA_TYPE "application/stix+json;version=2.1"

/* ---- paging token ---- */

/* A `next` token: base64url (no padding) of a version byte, the last
 * (date_added, rowid) served and a 4-byte checksum. Not a secret and not a
 * capability: a forged token only moves the cursor within what node_query
 * lets the requester see anyway, so a checksum (catching truncation and
 * typos) is enough; decoding is strict so a bad token is a 400. */
#define TAXII_NEXT_LEN 32 /* 28 characters + NUL, with room */
void taxii_next_encode(int64_t date_added, int64_t rowid, char out[TAXII_NEXT_LEN]);
/* DT_EINVALID for anything taxii_next_encode did not produce. */
dt_status taxii_next_decode(const char *s, size_t len, int64_t *date_added, int64_t *rowid,
                            dt_err *err);

/* ---- content negotiation ---- */

/* True when an Accept header lets us answer with TAXII_MEDIA_TYPE:
 * application/taxii+json with version 2.1 or no version, application/ *
 * or * / *, with q > 0. NULL or empty (no header) accepts. */
bool taxii_accept_ok(const char *accept);
/* True for application/taxii+json with version=2.1 or no version
 * (parameters such as charset are ignored, case-insensitive names). */
bool taxii_content_type_ok(const char *content_type);

/* ---- routes ---- */

typedef enum taxii_route_kind {
    TAXII_ROUTE_NONE = 0,
    TAXII_ROUTE_DISCOVERY,   /* /taxii2/ */
    TAXII_ROUTE_API_ROOT,    /* /<root>/ */
    TAXII_ROUTE_STATUS,      /* /<root>/status/<id>/ */
    TAXII_ROUTE_COLLECTIONS, /* /<root>/collections/ */
    TAXII_ROUTE_COLLECTION,  /* /<root>/collections/<c>/ */
    TAXII_ROUTE_OBJECTS,     /* /<root>/collections/<c>/objects/ */
    TAXII_ROUTE_OBJECT,      /* /<root>/collections/<c>/objects/<id>/ */
    TAXII_ROUTE_VERSIONS,    /* /<root>/collections/<c>/objects/<id>/versions/ */
    TAXII_ROUTE_MANIFEST,    /* /<root>/collections/<c>/manifest/ */
    TAXII_ROUTE_HEALTH,      /* /detente/v1/health */
    TAXII_ROUTE_METRICS,     /* /detente/v1/metrics */
    TAXII_ROUTE_API,         /* any other /detente/v1/<path> (http/api.c dispatches) */
} taxii_route_kind;

typedef struct taxii_route {
    taxii_route_kind kind;
    char collection[128];
    char object_id[160];
    char status_id[DT_UUID_LEN];
    char api_path[512];      /* TAXII_ROUTE_API: decoded path after /detente/v1/ */
} taxii_route;

/* Match a raw (still percent-encoded) request path. Segments are decoded
 * one by one, so an encoded slash never splits a segment and "%2e%2e" is
 * just the two characters "..", which no id may be. DT_EPARSE for bad
 * percent-encoding or a NUL byte (400); DT_ENOTFOUND for a path that names
 * no resource or an id with characters ids never have (404). The trailing
 * slash is optional. */
dt_status taxii_route_parse(const char *path, size_t len, const char *api_root,
                            taxii_route *out, dt_err *err);
/* Percent-decode [s, s+len) into a new string (*out, freed with dt_free).
 * DT_EPARSE for a bad escape or a NUL byte. */
dt_status taxii_percent_decode(const char *s, size_t len, char **out, dt_err *err);
/* Methods a route answers, "GET" and so on, joined by ", " (for Allow). */
const char *taxii_route_methods(taxii_route_kind kind);
bool taxii_route_allows(taxii_route_kind kind, const char *method);

/* ---- query parameters ---- */

enum {
    TAXII_P_ADDED_AFTER = 1u << 0,
    TAXII_P_LIMIT = 1u << 1,
    TAXII_P_NEXT = 1u << 2,
    TAXII_P_MATCH_ID = 1u << 3,
    TAXII_P_MATCH_TYPE = 1u << 4,
    TAXII_P_MATCH_VERSION = 1u << 5,
    TAXII_P_MATCH_SPEC_VERSION = 1u << 6,
};
#define TAXII_LIST_MAX 100 /* values in one match[] filter */

/* The parameters of one request, owned (strings copied). */
typedef struct taxii_params {
    unsigned allowed;         /* TAXII_P_* this endpoint supports */
    unsigned given;           /* TAXII_P_* present */
    char **ids;
    size_t id_count;
    char **types;
    size_t type_count;
    char **spec_versions;
    size_t spec_version_count;
    char **at;                /* canonical 9-digit modified values */
    size_t at_count;
    unsigned versions;        /* store_version_sel bits, 0: not given */
    int64_t added_after;      /* microseconds */
    int64_t next_date_added, next_rowid;
    size_t limit;             /* 0: not given */
} taxii_params;

/* Parameters allowed on a route (0 for routes that take none). */
unsigned taxii_route_params(taxii_route_kind kind);
void taxii_params_init(taxii_params *p, unsigned allowed);
void taxii_params_release(taxii_params *p);
/* Add one parameter, key and value still percent-encoded ('+' already
 * read as a space or not: both are rejected where they matter). Unknown
 * parameters, and known ones this route does not take, are ignored (as
 * HTTP APIs do); an unknown match[field] is DT_EINVALID, since silently
 * not filtering would hand the client data it asked to exclude. Bad
 * values, repeated single-valued parameters and over-long lists are
 * DT_EINVALID; bad encoding DT_EPARSE. */
dt_status taxii_params_add(taxii_params *p, const char *key, size_t key_len, const char *value,
                           size_t value_len, dt_err *err);
/* Parse a whole query string ("a=b&c=d", without the '?'). */
dt_status taxii_params_parse_query(taxii_params *p, const char *query, size_t len, dt_err *err);
/* Fill q (borrowing p's strings: keep p alive while q is used). limit
 * defaults to page_default and is capped at page_max. */
void taxii_params_to_query(const taxii_params *p, const char *collection, size_t page_default,
                           size_t page_max, store_query *q);

/* ---- bodies ---- */

/* Append s as a JSON string (quoted, escaped). */
dt_status taxii_json_str(dt_buf *out, const char *s, dt_err *err);
/* date_added (us) as an RFC 3339 timestamp with 6 sub-second digits. */
char *taxii_time_format(int64_t us, char out[DT_TIME_LEN]);

/* Envelope from a page of rows with JSON: the stored texts concatenated,
 * never re-parsed. next is the token for more (NULL when !page->more).
 * An empty page gives {"more":false}. */
dt_status taxii_envelope_build(const store_page *page, const char *next, dt_buf *out,
                               dt_err *err);
/* Manifest resource (id, date_added, version, media_type per row). */
dt_status taxii_manifest_build(const store_page *page, const char *next, dt_buf *out,
                               dt_err *err);
/* Versions resource (the rows' modified as written). */
dt_status taxii_versions_build(const store_page *page, const char *next, dt_buf *out,
                               dt_err *err);
/* Status resource for a finished ingest ("complete", no pending objects). */
dt_status taxii_status_build(const char *id, int64_t request_us, const node_ingest_result *res,
                             dt_buf *out, dt_err *err);
/* TAXII error message: title, description (may be NULL), http_status. */
dt_status taxii_error_build(int http_status, const char *title, const char *description,
                            dt_buf *out, dt_err *err);
/* The token for the page after `page` (its last row), into out. */
void taxii_page_next(const store_page *page, char out[TAXII_NEXT_LEN]);

/* ---- endpoints ---- */

typedef struct taxii_request {
    const char *method;         /* "GET", "POST", "DELETE" */
    const taxii_route *route;
    const node_principal *who;
    const taxii_params *params;
    const char *body;           /* POST body, may be NULL */
    size_t body_len;
    const char *base_url;       /* "http://host:port" for discovery URLs, or "" */
} taxii_request;

typedef struct taxii_response {
    int http_status;            /* 200, 202 */
    dt_buf body;                /* JSON (TAXII_MEDIA_TYPE) */
    bool has_dates;             /* X-TAXII-Date-Added-First / -Last */
    char first[DT_TIME_LEN], last[DT_TIME_LEN];
    size_t ingested;            /* objects added by a POST, for metrics */
    size_t rejected;
} taxii_response;

void taxii_response_init(taxii_response *rs, size_t max_body);
void taxii_response_release(taxii_response *rs);

/* Serve one TAXII request (not health/metrics). The caller has checked
 * authentication, the method (taxii_route_allows) and content negotiation.
 * Errors: DT_ENOTFOUND (404: no such collection, object or status, or a
 * collection the requester may neither read nor write), DT_EDENIED (403:
 * a collection the requester knows but lacks this permission on),
 * DT_EPARSE/DT_EINVALID (400), store failures (DT_EDB). */
dt_status taxii_handle(node *n, const taxii_request *rq, taxii_response *rs, dt_err *err);


/* ================= client (client.c) =================
 * A TAXII 2.1 client over libcurl, for sync (peer/). The HTTP exchange
 * (taxii_client_*) keeps one curl handle per client so connections are
 * reused; TLS verification (chain and host name) is always on, with an
 * optional pinned CA bundle; every answer is capped in size and time.
 * Credentials are never put in an error message or a log line.
 * The parsers of server answers (taxii_*_parse) are pure and fuzzed.
 * Thread safety: a taxii_client belongs to one thread at a time; the
 * parsers are reentrant. */

typedef struct taxii_client taxii_client;

typedef struct taxii_client_opts {
    const char *ca_file;      /* PEM bundle pinned for TLS; NULL: system store */
    const char *user;         /* HTTP Basic, with password */
    const char *password;
    const char *token;        /* or a bearer token */
    unsigned timeout_s;       /* whole request; 0: 60 */
    unsigned connect_timeout_s; /* 0: 10 */
    size_t max_response;      /* body cap in bytes; 0: 64 MiB */
    unsigned retries;         /* extra tries on network errors and 5xx */
    unsigned backoff_ms;      /* first wait, doubled each retry; 0: 500 */
} taxii_client_opts;

/* A client for the server whose discovery URL is `url` (http or https,
 * no user info). Everything in opts is copied. DT_EARG for a URL that is
 * not http(s)://host[:port]/..., DT_ENOMEM. */
dt_status taxii_client_new(const char *url, const taxii_client_opts *opts, taxii_client **out,
                           dt_err *err);
void taxii_client_free(taxii_client *c);
/* "scheme://host[:port]" of the discovery URL (no trailing slash). */
const char *taxii_client_origin(const taxii_client *c);

typedef struct taxii_reply {
    long status;                          /* HTTP status */
    char content_type[128];
    char date_added_first[DT_TIME_LEN];   /* X-TAXII-Date-Added-First, or "" */
    char date_added_last[DT_TIME_LEN];    /* X-TAXII-Date-Added-Last, or "" */
    dt_buf body;
} taxii_reply;

void taxii_reply_init(taxii_reply *r);
void taxii_reply_release(taxii_reply *r);

/* One request. url is absolute, or starts with '/' (relative to the
 * origin). body NULL for GET. Retries network failures and 5xx answers
 * with backoff; any answer that arrives is returned (status in r), a
 * transport failure is DT_ENET naming the URL, an over-long body DT_ELIMIT.
 * Statuses are not judged here; see taxii_client_expect. */
dt_status taxii_client_request(taxii_client *c, const char *method, const char *url,
                               const char *accept, const char *content_type, const char *body,
                               size_t body_len, taxii_reply *r, dt_err *err);
/* Check a reply: a 2xx status and, when media_prefix is not NULL, a
 * Content-Type starting with it. A 401/403 is DT_EDENIED, 404 DT_ENOTFOUND,
 * other statuses DT_ENET, a wrong media type DT_EINVALID ("not a TAXII
 * answer"); the TAXII error message's title is quoted when there is one. */
dt_status taxii_client_expect(const taxii_reply *r, const char *url, const char *media_prefix,
                              dt_err *err);

/* ---- parsers of server answers (pure) ---- */

/* The API root to use from a discovery document: `default`, else the
 * first of `api_roots`. Relative URLs are resolved against origin. The
 * result ends with '/'. DT_EPARSE (not JSON) / DT_EINVALID (not TAXII). */
dt_status taxii_discovery_parse(const char *json, size_t len, const char *origin, char *root,
                                size_t root_cap, dt_err *err);

typedef struct taxii_collection_info {
    char id[128];
    char title[256];
    bool can_read, can_write;
} taxii_collection_info;
/* {"collections":[...]} or {} (none). *out is freed with dt_free. */
dt_status taxii_collections_parse(const char *json, size_t len, taxii_collection_info **out,
                                  size_t *count, dt_err *err);

/* An envelope: *objects is a new reference to the `objects` array (an
 * empty array when absent); every element is a JSON object with string
 * `id` and `type`. next is "" when absent (at least TAXII_NEXT_CAP). */
#define TAXII_NEXT_CAP 256
dt_status taxii_envelope_parse(const char *json, size_t len, json_t **objects, bool *more,
                               char next[TAXII_NEXT_CAP], dt_err *err);

typedef struct taxii_manifest_entry {
    char id[160];
    char version[DT_TIME_LEN];     /* as written by the server */
    char date_added[DT_TIME_LEN];  /* as written by the server */
} taxii_manifest_entry;
/* {"more":..,"objects":[{id,date_added,version,...}]}; *out freed with
 * dt_free. Timestamps are checked with dt_time_parse. */
dt_status taxii_manifest_parse(const char *json, size_t len, taxii_manifest_entry **out,
                               size_t *count, bool *more, dt_err *err);

typedef struct taxii_status_info {
    char id[DT_UUID_LEN + 8];
    char status[16];               /* "complete" or "pending" */
    uint64_t total, success, failure, pending;
} taxii_status_info;
dt_status taxii_status_parse(const char *json, size_t len, taxii_status_info *out, dt_err *err);

#endif
