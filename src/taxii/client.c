/* taxii client: talking to another node's TAXII 2.1 server (and its
 * /detente/v1 API) over libcurl, and parsing what it answers.
 *
 * Design. One curl easy handle per client, reused across requests so a sync
 * keeps its connection open. Every request is bounded: a total timeout, a
 * connect timeout and a body cap enforced in the write callback (the
 * transfer is aborted past it, so a hostile server cannot make us buffer
 * without end). TLS always verifies the chain and the host name; a peer may
 * be pinned to a CA bundle (CURLOPT_CAINFO) instead of the system store.
 * Redirects are not followed (a peer's URL is configured, not discovered)
 * and only http/https are allowed. Credentials are handed to curl and
 * otherwise never copied into messages: errors name the URL only.
 *
 * The parsers at the end read server answers strictly enough that anything
 * that is not a TAXII 2.1 answer is a clear error (TAXII 2.1 sections 4.1
 * discovery, 5.1 collections, 3.7 envelope, 5.4 manifest, 4.3 status) and
 * tolerant of members we do not use. They are pure and fuzzed
 * (fuzz/fuzz_taxii_client.c). */
#include "taxii/taxii.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_MAX_RESPONSE ((size_t)64 << 20)

struct taxii_client {
    CURL *curl;
    char *url;
    char origin[256];
    char *ca_file;
    char *user;
    char *password;
    char *token;
    unsigned timeout_s, connect_timeout_s, retries, backoff_ms;
    size_t max_response;
};

static void free_secret(char *s)
{
    if (s != NULL) {
        sodium_memzero(s, strlen(s));
        dt_free(s);
    }
}

static dt_status origin_of(const char *url, char *out, size_t cap, dt_err *err)
{
    const char *p;
    size_t n;
    if (strncmp(url, "http://", 7) == 0)
        p = url + 7;
    else if (strncmp(url, "https://", 8) == 0)
        p = url + 8;
    else
        return dt_fail(err, DT_EARG, "url", "'%.*s' is not an http:// or https:// URL", 80, url);
    n = strcspn(p, "/?#");
    if (n == 0)
        return dt_fail(err, DT_EARG, "url", "no host in the URL");
    if (memchr(p, '@', n) != NULL)
        return dt_fail(err, DT_EARG, "url",
                       "credentials in the URL are not allowed (use --user or --token-stdin)");
    n += (size_t)(p - url);
    if (n + 1 > cap)
        return dt_fail(err, DT_EARG, "url", "URL host part too long");
    memcpy(out, url, n);
    out[n] = '\0';
    return DT_OK;
}

static dt_status dup_opt(const char *s, char **out, dt_err *err)
{
    *out = NULL;
    if (s == NULL)
        return DT_OK;
    *out = dt_strdup(s);
    return *out ? DT_OK : dt_fail(err, DT_ENOMEM, "taxii client", "out of memory");
}

static void curl_init_once(void)
{
    static int done;
    /* curl_global_init is not thread-safe on old libcurl; clients are
     * made on the thread that starts a sync before any other runs. */
    if (!__atomic_exchange_n(&done, 1, __ATOMIC_SEQ_CST))
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

dt_status taxii_client_new(const char *url, const taxii_client_opts *opts, taxii_client **out,
                           dt_err *err)
{
    taxii_client *c;
    taxii_client_opts none = {0};
    dt_status rc;
    *out = NULL;
    if (opts == NULL)
        opts = &none;
    c = dt_calloc(1, sizeof *c);
    if (c == NULL)
        return dt_fail(err, DT_ENOMEM, "taxii client", "out of memory");
    rc = origin_of(url, c->origin, sizeof c->origin, err);
    if (rc == DT_OK)
        rc = dup_opt(url, &c->url, err);
    if (rc == DT_OK)
        rc = dup_opt(opts->ca_file, &c->ca_file, err);
    if (rc == DT_OK)
        rc = dup_opt(opts->user, &c->user, err);
    if (rc == DT_OK)
        rc = dup_opt(opts->password, &c->password, err);
    if (rc == DT_OK)
        rc = dup_opt(opts->token, &c->token, err);
    if (rc != DT_OK) {
        taxii_client_free(c);
        return rc;
    }
    c->timeout_s = opts->timeout_s ? opts->timeout_s : 60;
    c->connect_timeout_s = opts->connect_timeout_s ? opts->connect_timeout_s : 10;
    c->max_response = opts->max_response ? opts->max_response : DEFAULT_MAX_RESPONSE;
    c->retries = opts->retries;
    c->backoff_ms = opts->backoff_ms ? opts->backoff_ms : 500;
    curl_init_once();
    c->curl = curl_easy_init();
    if (c->curl == NULL) {
        taxii_client_free(c);
        return dt_fail(err, DT_ENOMEM, "taxii client", "cannot create a curl handle");
    }
    *out = c;
    return DT_OK;
}

void taxii_client_free(taxii_client *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    dt_free(c->url);
    dt_free(c->ca_file);
    free_secret(c->user);
    free_secret(c->password);
    free_secret(c->token);
    dt_free(c);
}

const char *taxii_client_origin(const taxii_client *c)
{
    return c->origin;
}

void taxii_reply_init(taxii_reply *r)
{
    memset(r, 0, sizeof *r);
    dt_buf_init(&r->body, DEFAULT_MAX_RESPONSE);
}

void taxii_reply_release(taxii_reply *r)
{
    dt_buf_release(&r->body);
}

typedef struct sink {
    taxii_reply *r;
    bool over;
} sink;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    if (dt_buf_append(&s->r->body, p, n, NULL) != DT_OK) {
        s->over = true;
        return 0; /* aborts the transfer */
    }
    return n;
}

static void header_value(const char *p, size_t n, size_t name_len, char *out, size_t cap)
{
    size_t i = name_len, j = n;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    while (j > i && (p[j - 1] == '\r' || p[j - 1] == '\n' || p[j - 1] == ' '))
        j--;
    if (j - i >= cap)
        j = i + cap - 1;
    memcpy(out, p + i, j - i);
    out[j - i] = '\0';
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    taxii_reply *r = ud;
    size_t n = size * nmemb;
    static const char ct[] = "content-type:", first[] = "x-taxii-date-added-first:",
                      last[] = "x-taxii-date-added-last:";
    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* a new response (after 100-continue): forget the previous headers */
        r->content_type[0] = r->date_added_first[0] = r->date_added_last[0] = '\0';
    } else if (n > sizeof ct - 1 && strncasecmp(p, ct, sizeof ct - 1) == 0) {
        header_value(p, n, sizeof ct - 1, r->content_type, sizeof r->content_type);
    } else if (n > sizeof first - 1 && strncasecmp(p, first, sizeof first - 1) == 0) {
        header_value(p, n, sizeof first - 1, r->date_added_first, sizeof r->date_added_first);
    } else if (n > sizeof last - 1 && strncasecmp(p, last, sizeof last - 1) == 0) {
        header_value(p, n, sizeof last - 1, r->date_added_last, sizeof r->date_added_last);
    }
    return n;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static bool transient(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_RESOLVE_HOST:
        return true;
    default:
        return false;
    }
}

static dt_status transport_error(CURLcode cc, const char *errbuf, const char *url,
                                 const taxii_client *c, dt_err *err)
{
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);
    switch (cc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
        return dt_fail(err, DT_ENET, url, "TLS check failed%s: %s",
                       c->ca_file ? " against the pinned CA" : "", why);
    case CURLE_OPERATION_TIMEDOUT:
        return dt_fail(err, DT_ENET, url, "timed out: %s", why);
    default:
        return dt_fail(err, DT_ENET, url, "%s", why);
    }
}

dt_status taxii_client_request(taxii_client *c, const char *method, const char *url,
                               const char *accept, const char *content_type, const char *body,
                               size_t body_len, taxii_reply *r, dt_err *err)
{
    char full[2048], hdr[256], errbuf[CURL_ERROR_SIZE];
    struct curl_slist *headers = NULL, *h;
    CURLcode cc = CURLE_OK;
    unsigned wait = c->backoff_ms;
    dt_status rc = DT_OK;
    if (url[0] == '/') {
        if ((size_t)snprintf(full, sizeof full, "%s%s", c->origin, url) >= sizeof full)
            return dt_fail(err, DT_EARG, "url", "URL too long");
    } else {
        if (strlen(url) >= sizeof full)
            return dt_fail(err, DT_EARG, "url", "URL too long");
        memcpy(full, url, strlen(url) + 1);
    }
    snprintf(hdr, sizeof hdr, "Accept: %s", accept ? accept : TAXII_MEDIA_TYPE);
    headers = curl_slist_append(headers, hdr);
    if (headers != NULL && content_type != NULL) {
        snprintf(hdr, sizeof hdr, "Content-Type: %s", content_type);
        h = curl_slist_append(headers, hdr);
        if (h == NULL) {
            curl_slist_free_all(headers);
            headers = NULL;
        } else {
            headers = h;
        }
    }
    if (headers != NULL && c->token != NULL) {
        char *line;
        size_t n = strlen(c->token) + 32;
        line = dt_malloc(n);
        if (line == NULL) {
            curl_slist_free_all(headers);
            return dt_fail(err, DT_ENOMEM, full, "out of memory");
        }
        snprintf(line, n, "Authorization: Bearer %s", c->token);
        h = curl_slist_append(headers, line);
        sodium_memzero(line, n);
        dt_free(line);
        if (h == NULL) {
            curl_slist_free_all(headers);
            headers = NULL;
        } else {
            headers = h;
        }
    }
    if (headers == NULL)
        return dt_fail(err, DT_ENOMEM, full, "out of memory");

    for (unsigned attempt = 0;; attempt++) {
        sink s = {.r = r};
        CURL *k = c->curl;
        long status = 0;
        errbuf[0] = '\0';
        dt_buf_release(&r->body);
        dt_buf_init(&r->body, c->max_response);
        r->status = 0;
        r->content_type[0] = r->date_added_first[0] = r->date_added_last[0] = '\0';
        curl_easy_reset(k);
        curl_easy_setopt(k, CURLOPT_URL, full);
        curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(k, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(k, CURLOPT_TIMEOUT, (long)c->timeout_s);
        curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT, (long)c->connect_timeout_s);
        curl_easy_setopt(k, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(k, CURLOPT_SSL_VERIFYHOST, 2L);
        if (c->ca_file != NULL) {
            curl_easy_setopt(k, CURLOPT_CAINFO, c->ca_file);
            curl_easy_setopt(k, CURLOPT_CAPATH, NULL);
        }
        if (c->user != NULL) {
            curl_easy_setopt(k, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt(k, CURLOPT_USERNAME, c->user);
            curl_easy_setopt(k, CURLOPT_PASSWORD, c->password ? c->password : "");
        }
        curl_easy_setopt(k, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(k, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(k, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(k, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(k, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response);
        if (strcmp(method, "GET") != 0) {
            curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, method);
            if (body != NULL) {
                curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
            }
        }
        cc = curl_easy_perform(k);
        if (cc == CURLE_OK) {
            curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
            r->status = status;
        }
        if (s.over || cc == CURLE_FILESIZE_EXCEEDED) {
            rc = dt_fail(err, DT_ELIMIT, full, "answer larger than %zu bytes", c->max_response);
            break;
        }
        if (attempt < c->retries &&
            ((cc != CURLE_OK && transient(cc)) || (cc == CURLE_OK && status >= 500))) {
            sleep_ms(wait);
            wait *= 2;
            continue;
        }
        if (cc != CURLE_OK)
            rc = transport_error(cc, errbuf, full, c, err);
        break;
    }
    /* the header list may hold the bearer token */
    for (h = headers; h != NULL; h = h->next)
        sodium_memzero(h->data, strlen(h->data));
    curl_slist_free_all(headers);
    curl_easy_reset(c->curl);
    return rc;
}

dt_status taxii_client_expect(const taxii_reply *r, const char *url, const char *media_prefix,
                              dt_err *err)
{
    char title[160] = "";
    if (r->status < 200 || r->status > 299) {
        json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
        const char *t = json_is_object(j) ? json_string_value(json_object_get(j, "title")) : NULL;
        if (t != NULL)
            snprintf(title, sizeof title, ": \"%.120s\"", t);
        json_decref(j);
        if (r->status == 401 || r->status == 403)
            return dt_fail(err, DT_EDENIED, url, "HTTP %ld%s (check the peer's credentials)",
                           r->status, title);
        if (r->status == 404)
            return dt_fail(err, DT_ENOTFOUND, url, "HTTP 404%s", title);
        return dt_fail(err, DT_ENET, url, "HTTP %ld%s", r->status, title);
    }
    if (media_prefix != NULL &&
        strncasecmp(r->content_type, media_prefix, strlen(media_prefix)) != 0)
        return dt_fail(err, DT_EINVALID, url, "not a TAXII answer: Content-Type '%.60s', expected %s",
                       r->content_type[0] ? r->content_type : "(none)", media_prefix);
    return DT_OK;
}

/* ---- parsers ---- */

static dt_status load_object(const char *json, size_t len, const char *what, json_t **out,
                             dt_err *err)
{
    json_error_t je;
    json_t *j = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &je);
    *out = NULL;
    if (j == NULL)
        return dt_fail(err, DT_EPARSE, what, "not JSON: %s (line %d)", je.text, je.line);
    if (!json_is_object(j)) {
        json_decref(j);
        return dt_fail(err, DT_EINVALID, what, "not a JSON object");
    }
    *out = j;
    return DT_OK;
}

static bool copy_str(const json_t *v, char *out, size_t cap)
{
    const char *s = json_string_value(v);
    size_t n;
    if (s == NULL)
        return false;
    n = json_string_length(v);
    if (n >= cap || memchr(s, '\0', n) != NULL)
        return false;
    memcpy(out, s, n + 1);
    return true;
}

dt_status taxii_discovery_parse(const char *json, size_t len, const char *origin, char *root,
                                size_t root_cap, dt_err *err)
{
    json_t *j, *v;
    const char *u = NULL;
    dt_status rc = load_object(json, len, "discovery", &j, err);
    if (rc != DT_OK)
        return rc;
    v = json_object_get(j, "default");
    if (json_is_string(v))
        u = json_string_value(v);
    else if (v != NULL && !json_is_null(v))
        rc = dt_fail(err, DT_EINVALID, "discovery.default", "not a string");
    if (rc == DT_OK && u == NULL) {
        v = json_object_get(j, "api_roots");
        if (v != NULL && !json_is_array(v))
            rc = dt_fail(err, DT_EINVALID, "discovery.api_roots", "not an array");
        else if (json_is_string(json_array_get(v, 0)))
            u = json_string_value(json_array_get(v, 0));
        else
            rc = dt_fail(err, DT_EINVALID, "discovery", "no API root offered (not a TAXII "
                                                        "2.1 discovery document?)");
    }
    if (rc == DT_OK && json_object_get(j, "title") != NULL &&
        !json_is_string(json_object_get(j, "title")))
        rc = dt_fail(err, DT_EINVALID, "discovery.title", "not a string");
    if (rc == DT_OK) {
        size_t n = strlen(u);
        bool slash = n > 0 && u[n - 1] == '/';
        int w;
        if (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0)
            w = snprintf(root, root_cap, "%s%s", u, slash ? "" : "/");
        else if (u[0] == '/')
            w = snprintf(root, root_cap, "%s%s%s", origin, u, slash ? "" : "/");
        else
            w = snprintf(root, root_cap, "%s/%s%s", origin, u, slash ? "" : "/");
        if (n == 0 || w < 0 || (size_t)w >= root_cap || strpbrk(u, " \r\n\t") != NULL)
            rc = dt_fail(err, DT_EINVALID, "discovery", "unusable API root URL");
    }
    json_decref(j);
    return rc;
}

dt_status taxii_collections_parse(const char *json, size_t len, taxii_collection_info **out,
                                  size_t *count, dt_err *err)
{
    json_t *j, *list, *c;
    size_t i;
    taxii_collection_info *cs = NULL;
    dt_status rc = load_object(json, len, "collections", &j, err);
    *out = NULL;
    *count = 0;
    if (rc != DT_OK)
        return rc;
    list = json_object_get(j, "collections");
    if (list == NULL)
        goto done;
    if (!json_is_array(list)) {
        rc = dt_fail(err, DT_EINVALID, "collections", "not an array");
        goto done;
    }
    if (json_array_size(list) > 0) {
        cs = dt_calloc(json_array_size(list), sizeof *cs);
        if (cs == NULL) {
            rc = dt_fail(err, DT_ENOMEM, "collections", "out of memory");
            goto done;
        }
    }
    json_array_foreach(list, i, c) {
        char where[48];
        json_t *r = json_object_get(c, "can_read"), *w = json_object_get(c, "can_write");
        snprintf(where, sizeof where, "collections[%zu]", i);
        if (!json_is_object(c) || !copy_str(json_object_get(c, "id"), cs[i].id, sizeof cs[i].id) ||
            !json_is_boolean(r) || !json_is_boolean(w)) {
            rc = dt_fail(err, DT_EINVALID, where, "needs a string id, can_read and can_write");
            goto done;
        }
        if (json_object_get(c, "title") != NULL &&
            !copy_str(json_object_get(c, "title"), cs[i].title, sizeof cs[i].title)) {
            rc = dt_fail(err, DT_EINVALID, where, "title is not a string");
            goto done;
        }
        cs[i].can_read = json_is_true(r);
        cs[i].can_write = json_is_true(w);
    }
    *count = json_array_size(list);
    *out = cs;
    cs = NULL;
done:
    dt_free(cs);
    json_decref(j);
    return rc;
}

static dt_status get_more(const json_t *j, const char *what, bool *more, dt_err *err)
{
    const json_t *m = json_object_get(j, "more");
    *more = false;
    if (m == NULL)
        return DT_OK;
    if (!json_is_boolean(m))
        return dt_fail(err, DT_EINVALID, what, "\"more\" is not a boolean");
    *more = json_is_true(m);
    return DT_OK;
}

dt_status taxii_envelope_parse(const char *json, size_t len, json_t **objects, bool *more,
                               char next[TAXII_NEXT_CAP], dt_err *err)
{
    json_t *j, *list, *o, *nx;
    size_t i;
    dt_status rc = load_object(json, len, "envelope", &j, err);
    *objects = NULL;
    next[0] = '\0';
    *more = false;
    if (rc != DT_OK)
        return rc;
    rc = get_more(j, "envelope", more, err);
    nx = json_object_get(j, "next");
    if (rc == DT_OK && nx != NULL && !copy_str(nx, next, TAXII_NEXT_CAP))
        rc = dt_fail(err, DT_EINVALID, "envelope.next", "not a string of at most %d bytes",
                     TAXII_NEXT_CAP - 1);
    list = json_object_get(j, "objects");
    if (rc == DT_OK && list != NULL && !json_is_array(list))
        rc = dt_fail(err, DT_EINVALID, "envelope.objects", "not an array");
    if (rc == DT_OK && list != NULL) {
        json_array_foreach(list, i, o) {
            if (!json_is_object(o) || !json_is_string(json_object_get(o, "id")) ||
                !json_is_string(json_object_get(o, "type"))) {
                char where[48];
                snprintf(where, sizeof where, "envelope.objects[%zu]", i);
                rc = dt_fail(err, DT_EINVALID, where, "not a STIX object (needs id and type)");
                break;
            }
        }
    }
    if (rc == DT_OK) {
        *objects = list != NULL ? json_incref(list) : json_array();
        if (*objects == NULL)
            rc = dt_fail(err, DT_ENOMEM, "envelope", "out of memory");
    }
    json_decref(j);
    return rc;
}

static bool time_ok(const char *s)
{
    dt_time t;
    return dt_time_parse(s, strlen(s), &t, NULL) == DT_OK;
}

dt_status taxii_manifest_parse(const char *json, size_t len, taxii_manifest_entry **out,
                               size_t *count, bool *more, dt_err *err)
{
    json_t *j, *list, *o;
    size_t i;
    taxii_manifest_entry *es = NULL;
    dt_status rc = load_object(json, len, "manifest", &j, err);
    *out = NULL;
    *count = 0;
    *more = false;
    if (rc != DT_OK)
        return rc;
    rc = get_more(j, "manifest", more, err);
    list = json_object_get(j, "objects");
    if (rc != DT_OK || list == NULL)
        goto done;
    if (!json_is_array(list)) {
        rc = dt_fail(err, DT_EINVALID, "manifest.objects", "not an array");
        goto done;
    }
    if (json_array_size(list) > 0) {
        es = dt_calloc(json_array_size(list), sizeof *es);
        if (es == NULL) {
            rc = dt_fail(err, DT_ENOMEM, "manifest", "out of memory");
            goto done;
        }
    }
    json_array_foreach(list, i, o) {
        if (!json_is_object(o) || !copy_str(json_object_get(o, "id"), es[i].id, sizeof es[i].id) ||
            !copy_str(json_object_get(o, "version"), es[i].version, sizeof es[i].version) ||
            !copy_str(json_object_get(o, "date_added"), es[i].date_added,
                      sizeof es[i].date_added) ||
            !time_ok(es[i].version) || !time_ok(es[i].date_added)) {
            char where[48];
            snprintf(where, sizeof where, "manifest.objects[%zu]", i);
            rc = dt_fail(err, DT_EINVALID, where,
                         "needs a string id and RFC 3339 version and date_added");
            goto done;
        }
    }
    *count = json_array_size(list);
    *out = es;
    es = NULL;
done:
    dt_free(es);
    json_decref(j);
    return rc;
}

static bool get_count(const json_t *j, const char *key, uint64_t *out)
{
    const json_t *v = json_object_get(j, key);
    *out = 0;
    if (v == NULL)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

dt_status taxii_status_parse(const char *json, size_t len, taxii_status_info *out, dt_err *err)
{
    json_t *j;
    dt_status rc = load_object(json, len, "status", &j, err);
    memset(out, 0, sizeof *out);
    if (rc != DT_OK)
        return rc;
    if (!copy_str(json_object_get(j, "id"), out->id, sizeof out->id) ||
        !copy_str(json_object_get(j, "status"), out->status, sizeof out->status) ||
        (strcmp(out->status, "complete") != 0 && strcmp(out->status, "pending") != 0))
        rc = dt_fail(err, DT_EINVALID, "status", "needs an id and status complete or pending");
    else if (!get_count(j, "total_count", &out->total) ||
             !get_count(j, "success_count", &out->success) ||
             !get_count(j, "failure_count", &out->failure) ||
             !get_count(j, "pending_count", &out->pending))
        rc = dt_fail(err, DT_EINVALID, "status", "counts must be non-negative integers");
    json_decref(j);
    return rc;
}
