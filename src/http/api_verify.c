/* api_verify: the verification endpoints of /detente/v1/ (docs/verdicts.md).
 *
 *   GET verdicts       [state, source, as_of, limit, after]
 *                      {"verdicts": [claim...], "more": bool, "next": id}
 *   GET verdicts/{id}  [as_of]  the claim with every piece of evidence
 *   GET reliability    [as_of, months]  a list of {"source", ...}
 *
 * Each request judges what the requester may read: node_verify_run (lists,
 * reliability) and node_verify_one (one claim, through the evidence index,
 * same JSON) read through node_query with rq->who, so a claim the requester cannot read is
 * not there (404, as for an id that does not exist), and evidence above
 * its clearance is neither listed nor counted. The JSON forms are the same
 * as `detente ... --json` (node_verify_*_json). The warninglists are loaded
 * once per server (node_verify_lists_shared: read-only, shared by every
 * thread); verdicts are not cached, so an answer always reflects the
 * evidence stored at that moment. */
#include "http/api.h"

#include <stdlib.h>
#include <string.h>

#define PAGE_DEFAULT 1000
#define PAGE_MAX 10000

static dt_status as_of_arg(const http_api_request *rq, int64_t *out, dt_err *err)
{
    const char *v = http_api_arg(rq, "as_of");
    dt_time t;
    *out = 0;
    if (v == NULL)
        return DT_OK;
    if (dt_time_parse(v, strlen(v), &t, NULL) != DT_OK || t.sec <= 0)
        return dt_fail(err, DT_EINVALID, "as_of", "as_of must be an RFC 3339 UTC timestamp");
    *out = t.sec;
    return DT_OK;
}

/* Judge, with the node's shared warninglists, everything rq->who may read
 * (one NULL), or only claim `one` through the evidence index. */
static dt_status judge(node *n, const http_api_request *rq, int64_t as_of, const char *one,
                       verify_engine **e, dt_err *err)
{
    node_principal anon = {.kind = NODE_PRINCIPAL_ANONYMOUS};
    const node_principal *who = rq->who ? rq->who : &anon;
    const verify_lists *lists = NULL;
    dt_status rc = node_verify_lists_shared(n, &lists, err); /* loaded once per server */
    if (rc != DT_OK)
        return rc;
    return one ? node_verify_one(n, who, lists, as_of, one, e, err)
               : node_verify_run(n, who, lists, as_of, e, err);
}

static dt_status answer(http_api_response *rs, json_t *v, dt_err *err)
{
    char *text;
    dt_status rc;
    if (v == NULL)
        return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (text == NULL)
        return dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    rc = dt_buf_puts(&rs->body, text, err);
    free(text);
    return rc;
}

dt_status http_api_verdicts(node *n, const http_api_request *rq, http_api_response *rs,
                            dt_err *err)
{
    static const char *const allowed[] = {"state", "source", "as_of", "limit", "after", NULL};
    const char *state = http_api_arg(rq, "state"), *source = http_api_arg(rq, "source");
    const char *after = http_api_arg(rq, "after");
    uint64_t limit = PAGE_DEFAULT;
    int64_t as_of;
    verify_engine *e = NULL;
    dt_status rc;

    if ((rc = http_api_args_only(rq, allowed, err)) != DT_OK ||
        (rc = http_api_arg_u64(rq, "limit", false, &limit, err)) != DT_OK ||
        (rc = as_of_arg(rq, &as_of, err)) != DT_OK)
        return rc;
    if (limit == 0 || limit > PAGE_MAX)
        return dt_fail(err, DT_EINVALID, "limit", "limit must be 1..%d", PAGE_MAX);
    if (state != NULL) {
        bool known = false;
        for (int k = 0; k < 5; k++)
            known |= strcmp(state, verify_verdict_name((verify_verdict)k)) == 0;
        if (!known)
            return dt_fail(err, DT_EINVALID, "state",
                           "state must be unverified, corroborated, disputed, refuted or "
                           "likely-benign");
    }
    rc = judge(n, rq, as_of, NULL, &e, err);
    if (rc != DT_OK)
        return rc;
    json_t *out = json_object(), *arr = json_array();
    const char *last = NULL;
    bool more = false;
    size_t count = verify_engine_claim_count(e);
    for (size_t i = 0; i < count && out && arr; i++) {
        verify_claim_info c;
        verify_engine_claim(e, i, &c);
        if (after != NULL && strcmp(c.id, after) <= 0) /* claims are in id order */
            continue;
        if (state != NULL && strcmp(state, verify_verdict_name(c.verdict)) != 0)
            continue;
        if (source != NULL && strcmp(source, c.source) != 0)
            continue;
        if (json_array_size(arr) == limit) {
            more = true;
            break;
        }
        if (json_array_append_new(arr, node_verify_claim_json(&c)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
        last = c.id;
    }
    if (out != NULL && arr != NULL) {
        json_object_set_new(out, "verdicts", arr);
        arr = NULL;
        json_object_set_new(out, "more", json_boolean(more));
        if (more && last != NULL)
            json_object_set_new(out, "next", json_string(last));
        rc = answer(rs, out, err);
    } else {
        json_decref(out);
        rc = dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    }
    json_decref(arr);
    verify_engine_free(e);
    return rc;
}

dt_status http_api_verdict(node *n, const http_api_request *rq, http_api_response *rs,
                           dt_err *err)
{
    static const char *const allowed[] = {"as_of", NULL};
    const char *id = rq->path + strlen("verdicts/");
    int64_t as_of;
    verify_engine *e = NULL;
    verify_explain x;
    size_t i;
    dt_status rc;

    if ((rc = http_api_args_only(rq, allowed, err)) != DT_OK ||
        (rc = as_of_arg(rq, &as_of, err)) != DT_OK)
        return rc;
    rc = judge(n, rq, as_of, id, &e, err);
    if (rc != DT_OK)
        return rc;
    if (!verify_engine_find(e, id, &i))
        rc = dt_fail(err, DT_ENOTFOUND, id, "no such claim");
    else if ((rc = verify_engine_explain(e, i, &x, err)) == DT_OK) {
        rc = answer(rs, node_verify_explain_json(&x), err);
        verify_explain_release(&x);
    }
    verify_engine_free(e);
    return rc;
}

dt_status http_api_reliability(node *n, const http_api_request *rq, http_api_response *rs,
                               dt_err *err)
{
    static const char *const allowed[] = {"as_of", "months", NULL};
    uint64_t months = 6;
    int64_t as_of;
    verify_engine *e = NULL;
    dt_status rc;

    if ((rc = http_api_args_only(rq, allowed, err)) != DT_OK ||
        (rc = http_api_arg_u64(rq, "months", false, &months, err)) != DT_OK ||
        (rc = as_of_arg(rq, &as_of, err)) != DT_OK)
        return rc;
    if (months > 120)
        return dt_fail(err, DT_EINVALID, "months", "months must be 0..120");
    rc = judge(n, rq, as_of, NULL, &e, err);
    if (rc != DT_OK)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < verify_engine_source_count(e) && arr != NULL && rc == DT_OK; i++) {
        json_t *o = NULL;
        rc = node_verify_source_json(e, i, (unsigned)months, &o, err);
        if (rc == DT_OK && json_array_append_new(arr, o) != 0)
            rc = dt_fail(err, DT_ENOMEM, "verify", "out of memory");
    }
    if (rc == DT_OK)
        rc = answer(rs, arr, err);
    else
        json_decref(arr);
    verify_engine_free(e);
    return rc;
}

/* The handlers above are referenced only weakly (api.h), and a weak
 * reference does not pull a member out of a static archive: whoever must be
 * sure this file is linked (the server, a test) refers to this symbol. */
const int http_api_verify_linked = 1;
