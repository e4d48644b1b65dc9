/* TAXII 2.1 endpoints (section 4: discovery and API roots, section 5:
 * collections, objects, manifest, versions, status).
 *
 * Each endpoint is a function from a parsed request to a response body. Reads
 * go through node_query only and writes through node_ingest_json only, so
 * permissions and marking clearance are applied in one place (node/), never
 * here. Collection visibility follows one rule: a collection the requester
 * may neither read nor write answers 404 exactly like a collection that does
 * not exist (its existence is not disclosed); one it knows but lacks the
 * permission for answers 403.
 *
 * POST is synchronous: objects are ingested before the answer, so the status
 * resource is always "complete" with pending_count 0. It is kept in the
 * store's kv table under status/<uuid> as "<owner>\n<json>", readable only
 * by the account that made the request. */
#include "taxii/taxii.h"

#include "stix/stix.h"

#include <jansson.h>
#include <string.h>

void taxii_response_init(taxii_response *rs, size_t max_body)
{
    memset(rs, 0, sizeof *rs);
    rs->http_status = 200;
    dt_buf_init(&rs->body, max_body);
}

void taxii_response_release(taxii_response *rs)
{
    dt_buf_release(&rs->body);
}

/* 404 when who may neither read nor write, 403 when only `perm` is missing. */
static dt_status access_or_hide(node *n, const node_principal *who, const char *collection,
                                unsigned perm, dt_err *err)
{
    dt_err e = {0};
    unsigned other = perm == STORE_PERM_READ ? STORE_PERM_WRITE : STORE_PERM_READ;
    dt_status rc = node_access(n, who, collection, perm, &e);
    if (rc == DT_OK)
        return DT_OK;
    if (rc == DT_EDENIED) {
        if (node_access(n, who, collection, other, NULL) == DT_OK)
            return dt_fail(err, DT_EDENIED, collection, "no %s access to this collection",
                           perm == STORE_PERM_READ ? "read" : "write");
        return dt_fail(err, DT_ENOTFOUND, collection, "no such collection");
    }
    if (rc == DT_ENOTFOUND)
        return dt_fail(err, DT_ENOTFOUND, collection, "no such collection");
    if (err != NULL && err->code == DT_OK)
        *err = e;
    return rc;
}

static dt_status put_json(taxii_response *rs, json_t *j, dt_err *err)
{
    char *s;
    dt_status rc;
    if (j == NULL)
        return dt_fail(err, DT_ENOMEM, "response", "out of memory");
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (s == NULL)
        return dt_fail(err, DT_ENOMEM, "response", "out of memory");
    rc = dt_buf_puts(&rs->body, s, err);
    free(s);
    return rc;
}

static void root_url(const taxii_request *rq, const node_config *c, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s/", rq->base_url ? rq->base_url : "", c->api_root);
}

static dt_status discovery(node *n, const taxii_request *rq, taxii_response *rs, dt_err *err)
{
    const node_config *c = node_conf(n);
    char url[512];
    root_url(rq, c, url, sizeof url);
    return put_json(rs,
                    json_pack("{s:s, s:s, s:s, s:[s]}", "title", c->title, "description",
                              "detente node: STIX 2.1 over TAXII 2.1, signed and ledgered",
                              "default", url, "api_roots", url),
                    err);
}

static dt_status api_root(node *n, const taxii_request *rq, taxii_response *rs, dt_err *err)
{
    const node_config *c = node_conf(n);
    return put_json(rs,
                    json_pack("{s:s, s:s, s:[s], s:I}", "title", c->title, "description",
                              c->name, "versions", TAXII_MEDIA_TYPE, "max_content_length",
                              (json_int_t)c->max_content_length),
                    err);
}

static json_t *collection_json(const store_collection *c, bool can_read, bool can_write)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:b, s:[s]}", "id", c->id, "title", c->title,
                     "description", c->description, "can_read", can_read, "can_write", can_write,
                     "media_types", TAXII_STIX_MEDIA_TYPE);
}

static void perms_of(node *n, const node_principal *who, const char *id, bool *r, bool *w)
{
    *r = node_access(n, who, id, STORE_PERM_READ, NULL) == DT_OK;
    *w = node_access(n, who, id, STORE_PERM_WRITE, NULL) == DT_OK;
}

static dt_status collections(node *n, const taxii_request *rq, taxii_response *rs, dt_err *err)
{
    store *s = node_store(n);
    store_collection *cs = NULL;
    size_t count = 0;
    json_t *list, *top;
    dt_status rc = store_collection_list(s, &cs, &count, err);
    if (rc != DT_OK)
        return rc;
    list = json_array();
    for (size_t i = 0; list != NULL && i < count; i++) {
        bool r, w;
        perms_of(n, rq->who, cs[i].id, &r, &w);
        if (r || w)
            json_array_append_new(list, collection_json(&cs[i], r, w));
    }
    dt_free(cs);
    if (list == NULL)
        return dt_fail(err, DT_ENOMEM, "response", "out of memory");
    if (json_array_size(list) == 0) {
        json_decref(list);
        return dt_buf_puts(&rs->body, "{}", err);
    }
    top = json_object();
    if (top != NULL)
        json_object_set_new(top, "collections", list);
    else
        json_decref(list);
    return put_json(rs, top, err);
}

static dt_status collection(node *n, const taxii_request *rq, taxii_response *rs, dt_err *err)
{
    store *s = node_store(n);
    store_collection c;
    bool r, w;
    dt_status rc = store_collection_get(s, NULL, rq->route->collection, &c, NULL);
    if (rc == DT_ENOTFOUND)
        return dt_fail(err, DT_ENOTFOUND, rq->route->collection, "no such collection");
    if (rc != DT_OK)
        return store_collection_get(s, NULL, rq->route->collection, &c, err);
    perms_of(n, rq->who, c.id, &r, &w);
    if (!r && !w)
        return dt_fail(err, DT_ENOTFOUND, rq->route->collection, "no such collection");
    return put_json(rs, collection_json(&c, r, w), err);
}

static void set_dates(const store_page *page, taxii_response *rs)
{
    if (page->count == 0)
        return;
    rs->has_dates = true;
    taxii_time_format(page->rows[0].date_added, rs->first);
    taxii_time_format(page->rows[page->count - 1].date_added, rs->last);
}

typedef enum read_kind { READ_OBJECTS, READ_MANIFEST, READ_VERSIONS } read_kind;

/* objects, object, manifest, versions: one node_query, one body. */
static dt_status read_page(node *n, const taxii_request *rq, taxii_response *rs, read_kind kind,
                           dt_err *err)
{
    const node_config *c = node_conf(n);
    const char *one[1];
    store_query q;
    store_page page = {0};
    char next[TAXII_NEXT_LEN];
    dt_status rc = access_or_hide(n, rq->who, rq->route->collection, STORE_PERM_READ, err);
    if (rc != DT_OK)
        return rc;
    taxii_params_to_query(rq->params, rq->route->collection, c->page_default, c->page_max, &q);
    if (rq->route->object_id[0] != '\0') {
        one[0] = rq->route->object_id;
        q.ids = one;
        q.id_count = 1;
    }
    if (kind == READ_VERSIONS)
        q.versions = STORE_VER_ALL;
    q.with_json = kind == READ_OBJECTS;
    rc = node_query(n, rq->who, &q, &page, err);
    if (rc != DT_OK)
        return rc;
    if (page.count == 0 && rq->route->object_id[0] != '\0' &&
        (rq->params->given & (TAXII_P_NEXT | TAXII_P_ADDED_AFTER)) == 0 &&
        rq->params->versions == 0 && rq->params->spec_version_count == 0) {
        store_page_release(&page);
        return dt_fail(err, DT_ENOTFOUND, rq->route->object_id, "no such object");
    }
    taxii_page_next(&page, next);
    if (kind == READ_OBJECTS)
        rc = taxii_envelope_build(&page, page.more ? next : NULL, &rs->body, err);
    else if (kind == READ_MANIFEST)
        rc = taxii_manifest_build(&page, page.more ? next : NULL, &rs->body, err);
    else
        rc = taxii_versions_build(&page, page.more ? next : NULL, &rs->body, err);
    set_dates(&page, rs);
    store_page_release(&page);
    return rc;
}

static dt_status status_get(node *n, const taxii_request *rq, taxii_response *rs, dt_err *err)
{
    store *s = node_store(n);
    char key[64], *value = NULL, *nl;
    size_t owner_len;
    dt_status rc;
    snprintf(key, sizeof key, "status/%s", rq->route->status_id);
    rc = store_kv_get(s, NULL, key, &value, NULL);
    if (rc == DT_ENOTFOUND)
        return dt_fail(err, DT_ENOTFOUND, rq->route->status_id, "no such status");
    if (rc != DT_OK)
        return store_kv_get(s, NULL, key, &value, err);
    nl = strchr(value, '\n');
    owner_len = nl ? (size_t)(nl - value) : 0;
    if (nl == NULL || owner_len != strlen(rq->who->name) ||
        memcmp(value, rq->who->name, owner_len) != 0) {
        dt_free(value);
        return dt_fail(err, DT_ENOTFOUND, rq->route->status_id, "no such status");
    }
    rc = dt_buf_puts(&rs->body, nl + 1, err);
    dt_free(value);
    return rc;
}

/* The status resource of one POST, built and kept by ingest's writer in
 * the transaction that stores the objects (node_ingest_hook), so the
 * answer costs no second commit. */
typedef struct post_status {
    const char *id;
    const char *owner;
    int64_t request_us;
    dt_buf *body; /* the response body, written here */
} post_status;

static dt_status status_keep(void *ctx, store_txn *t, const node_ingest_result *res, dt_err *err)
{
    post_status *ps = ctx;
    char key[64];
    dt_buf v;
    dt_status rc;
    dt_buf_reset(ps->body);
    rc = taxii_status_build(ps->id, ps->request_us, res, ps->body, err);
    if (rc != DT_OK)
        return rc;
    dt_buf_init(&v, ps->body->len + strlen(ps->owner) + 2);
    rc = dt_buf_printf(&v, err, "%s\n", ps->owner);
    if (rc == DT_OK)
        rc = dt_buf_append(&v, ps->body->data, ps->body->len, err);
    if (rc == DT_OK) {
        snprintf(key, sizeof key, "status/%s", ps->id);
        rc = store_kv_put(t, key, v.data, err);
    }
    dt_buf_release(&v);
    return rc;
}

static dt_status objects_post(node *n, const taxii_request *rq, taxii_response *rs, dt_err *err)
{
    const node_config *c = node_conf(n);
    stix_limits lim;
    json_t *env = NULL, *objs;
    json_t **items = NULL;
    char **wheres = NULL;
    size_t count = 0;
    node_ingest_opts opts = {0};
    node_ingest_result res = {0};
    dt_uuid u;
    char id[DT_UUID_LEN];
    int64_t request_us = dt_now_us();
    dt_status rc = access_or_hide(n, rq->who, rq->route->collection, STORE_PERM_WRITE, err);
    if (rc != DT_OK)
        return rc;
    stix_limits_default(&lim);
    lim.max_input_bytes = c->max_content_length;
    rc = stix_json_parse(rq->body ? rq->body : "", rq->body_len, &lim, &env, err);
    if (rc != DT_OK)
        return rc == DT_EPARSE ? rc : dt_fail(err, rc, "envelope", "cannot read the envelope");
    objs = json_object_get(env, "objects");
    if (!json_is_object(env) || !json_is_array(objs)) {
        json_decref(env);
        return dt_fail(err, DT_EINVALID, "envelope", "expected an envelope with an objects list");
    }
    count = json_array_size(objs);
    items = dt_calloc(count ? count : 1, sizeof *items);
    wheres = dt_calloc(count ? count : 1, sizeof *wheres);
    if (items == NULL || wheres == NULL) {
        rc = dt_fail(err, DT_ENOMEM, "envelope", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        char w[32];
        items[i] = json_array_get(objs, i);
        snprintf(w, sizeof w, "objects[%zu]", i);
        wheres[i] = dt_strdup(w);
        if (wheres[i] == NULL) {
            rc = dt_fail(err, DT_ENOMEM, "envelope", "out of memory");
            goto out;
        }
    }
    dt_uuid_v4(&u);
    dt_uuid_format(&u, id);
    post_status ps = {id, rq->who->name, request_us, &rs->body};
    opts.collection = rq->route->collection;
    opts.in_place = true; /* env is dropped below */
    opts.on_stored = status_keep;
    opts.on_stored_ctx = &ps;
    /* A local account's objects are signed by this node (it vouches for what
     * its own users publish); a peer pushing to us must send objects signed
     * by their publishers, checked like a pull. */
    if (rq->who->kind == NODE_PRINCIPAL_PEER) {
        opts.peer = rq->who->name;
    } else {
        opts.sign = true;
        opts.allow_unsigned = true;
    }
    rc = node_ingest_json(n, rq->who, &opts, items, (const char *const *)wheres, count, &res,
                          err);
    if (rc != DT_OK)
        goto out;
    rs->ingested = res.added;
    rs->rejected = res.rejected;
    rs->http_status = 202;
out:
    node_ingest_result_release(&res);
    for (size_t i = 0; wheres != NULL && i < count; i++)
        dt_free(wheres[i]);
    dt_free(wheres);
    dt_free(items);
    json_decref(env);
    return rc;
}

static dt_status object_delete(node *n, const taxii_request *rq, taxii_response *rs, dt_err *err)
{
    const taxii_params *p = rq->params;
    size_t erased = 0;
    dt_status rc = access_or_hide(n, rq->who, rq->route->collection, STORE_PERM_WRITE, err);
    if (rc != DT_OK)
        return rc;
    if (p->versions == 0 && p->spec_version_count == 0) {
        rc = node_delete(n, rq->who, rq->route->collection, rq->route->object_id, NULL, &erased,
                         err);
    } else {
        /* Resolve the selected versions (first, last, timestamps) through
         * the one door out, then delete each. */
        const char *one[1] = {rq->route->object_id};
        store_query q;
        store_page page = {0};
        taxii_params_to_query(p, rq->route->collection, STORE_MAX_PAGE, STORE_MAX_PAGE, &q);
        q.ids = one;
        q.id_count = 1;
        q.with_json = false;
        rc = node_query(n, rq->who, &q, &page, err);
        for (size_t i = 0; rc == DT_OK && i < page.count; i++) {
            size_t k = 0;
            rc = node_delete(n, rq->who, rq->route->collection, rq->route->object_id,
                             page.rows[i].modified, &k, err);
            erased += k;
        }
        store_page_release(&page);
    }
    if (rc == DT_OK && erased == 0)
        rc = dt_fail(err, DT_ENOTFOUND, rq->route->object_id, "no such object");
    return rc;
}

dt_status taxii_handle(node *n, const taxii_request *rq, taxii_response *rs, dt_err *err)
{
    bool post = strcmp(rq->method, "POST") == 0, del = strcmp(rq->method, "DELETE") == 0;
    switch (rq->route->kind) {
    case TAXII_ROUTE_DISCOVERY:
        return discovery(n, rq, rs, err);
    case TAXII_ROUTE_API_ROOT:
        return api_root(n, rq, rs, err);
    case TAXII_ROUTE_STATUS:
        return status_get(n, rq, rs, err);
    case TAXII_ROUTE_COLLECTIONS:
        return collections(n, rq, rs, err);
    case TAXII_ROUTE_COLLECTION:
        return collection(n, rq, rs, err);
    case TAXII_ROUTE_OBJECTS:
        return post ? objects_post(n, rq, rs, err) : read_page(n, rq, rs, READ_OBJECTS, err);
    case TAXII_ROUTE_OBJECT:
        return del ? object_delete(n, rq, rs, err) : read_page(n, rq, rs, READ_OBJECTS, err);
    case TAXII_ROUTE_VERSIONS:
        return read_page(n, rq, rs, READ_VERSIONS, err);
    case TAXII_ROUTE_MANIFEST:
        return read_page(n, rq, rs, READ_MANIFEST, err);
    default:
        return dt_fail(err, DT_ENOTFOUND, "path", "no such resource");
    }
}
