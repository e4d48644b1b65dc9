/* Verification on a node: the store-backed side of verify/engine.c.
 *
 * Verdicts are computed on demand, not persisted: node_verify_run reads
 * every indicator, relationship, sighting and opinion the requester may
 * read through node_query (the one door out: collection permissions and
 * marking clearance applied), newest versions only, one page of up to
 * STORE_MAX_PAGE rows at a time over the store's (collection, type,
 * date_added) index, and hands each to the engine, which keeps only what
 * the rule needs. So a verdict can never rest on, or hint at, an object the
 * requester may not see, every requester gets the verdicts of exactly what
 * it can check, and there is no cached verdict that could go stale when
 * evidence arrives. bench/verify.c measures the cost at a million claims.
 * One claim's verdict does not need the full pass: verify_index.c reads
 * only its evidence, found through an index ingest keeps (docs/verdicts.md
 * "On a node").
 *
 * The JSON forms here are the contract of `detente verify|verdicts|
 * reliability --json` and of /detente/v1/verdicts and /reliability. */
#include "node/node_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The shipped lists' directory, or false. */
static bool shipped_dir(char *out, size_t len)
{
    const char *env = getenv("DETENTE_WARNINGLISTS");
    char exe[NODE_PATH_MAX];
    ssize_t k;

    if (env != NULL && *env) {
        snprintf(out, len, "%s", env);
        return is_dir(out);
    }
    k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        static const char *const rel[] = {"/../data/warninglists/lists",
                                          "/../share/detente/warninglists"};
        exe[k] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL)
            *slash = '\0';
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            if ((size_t)snprintf(out, len, "%s%s", exe, rel[i]) < len && is_dir(out))
                return true;
        }
    }
    snprintf(out, len, "/usr/share/detente/warninglists");
    return is_dir(out);
}

dt_status node_verify_lists_load(node *n, verify_lists **out, bool *shipped, dt_err *err)
{
    char dir[NODE_PATH_MAX * 2];
    verify_lists *l = NULL;
    bool found = shipped_dir(dir, sizeof dir);
    dt_status rc;

    *out = NULL;
    if (shipped)
        *shipped = found;
    rc = found ? verify_lists_load_dir(dir, &l, err) : verify_lists_new(&l, err);
    if (rc != DT_OK)
        return rc;
    if (n->conf.warninglists[0]) {
        if (n->conf.warninglists[0] == '/')
            snprintf(dir, sizeof dir, "%s", n->conf.warninglists);
        else
            snprintf(dir, sizeof dir, "%s/%s", n->home, n->conf.warninglists);
        rc = verify_lists_add_dir(l, dir, err);
        if (rc != DT_OK) {
            dt_err_prefix(err, "[verify] warninglists");
            verify_lists_free(l);
            return rc;
        }
    }
    *out = l;
    return DT_OK;
}

dt_status node_verify_lists_shared(node *n, const verify_lists **out, dt_err *err)
{
    dt_status rc = DT_OK;
    pthread_mutex_lock(&n->lists_lock);
    if (n->lists == NULL)
        rc = node_verify_lists_load(n, &n->lists, NULL, err);
    *out = n->lists;
    pthread_mutex_unlock(&n->lists_lock);
    return rc;
}

static dt_status feed_collection(node *n, const node_principal *who, const char *collection,
                                 verify_engine *e, dt_err *err)
{
    static const char *const types[] = {"indicator", "relationship", "sighting", "opinion"};
    store_query q = {.collection = collection, .types = types, .type_count = 4,
                     .versions = STORE_VER_LAST, .max_marking = -1, .limit = STORE_MAX_PAGE,
                     .with_json = true};
    dt_status rc;

    for (;;) {
        store_page page;
        rc = node_query(n, who, &q, &page, err);
        if (rc != DT_OK)
            return rc;
        for (size_t i = 0; i < page.count && rc == DT_OK; i++) {
            const store_row *r = &page.rows[i];
            json_t *obj;
            if (r->json == NULL)
                continue;
            obj = json_loadb(r->json, r->json_len, 0, NULL);
            if (obj == NULL) /* stored objects are JCS: only memory can fail here */
                rc = dt_fail(err, DT_ENOMEM, r->id, "cannot read the stored object");
            else {
                verify_ref w = {.id = r->id, .modified = r->modified, .signer = r->signer,
                                .collection = r->collection, .leaf_index = r->leaf_index};
                rc = verify_engine_add(e, &w, obj, err);
                json_decref(obj);
            }
        }
        bool more = page.more && page.count > 0;
        if (page.count > 0) {
            q.after_date_added = page.rows[page.count - 1].date_added;
            q.after_rowid = page.rows[page.count - 1].rowid;
        }
        store_page_release(&page);
        if (rc != DT_OK || !more)
            return rc;
    }
}

dt_status node_verify_run(node *n, const node_principal *who, const verify_lists *lists,
                          int64_t as_of, verify_engine **out, dt_err *err)
{
    store_collection *cols = NULL;
    size_t ncols = 0;
    verify_engine *e = NULL;
    dt_status rc;

    *out = NULL;
    rc = verify_engine_new(lists, NULL, &e, err);
    if (rc != DT_OK)
        return rc;
    rc = store_collection_list(n->st, &cols, &ncols, err);
    for (size_t c = 0; c < ncols && rc == DT_OK; c++) {
        dt_err e2 = {0};
        rc = feed_collection(n, who, cols[c].id, e, &e2);
        if (rc == DT_EDENIED || rc == DT_ENOTFOUND) /* not readable by who: not seen */
            rc = DT_OK;
        else if (rc != DT_OK && err != NULL)
            *err = e2;
    }
    dt_free(cols);
    if (rc == DT_OK)
        rc = verify_engine_run(e, as_of, err);
    if (rc != DT_OK) {
        verify_engine_free(e);
        return rc;
    }
    *out = e;
    return DT_OK;
}

/* ---------------------------------------------------------------- JSON */

static json_t *time_json(int64_t t)
{
    char s[DT_TIME_LEN];
    dt_time x = {.sec = t};
    dt_time_format(&x, 0, s);
    return json_string(s);
}

static json_t *opt_str(const char *s)
{
    return s != NULL && *s ? json_string(s) : json_null();
}

static json_t *ref_json(const verify_ref *w)
{
    if (w->id == NULL)
        return json_null();
    return json_pack("{s:s, s:o, s:o, s:o, s:o}", "id", w->id, "modified", opt_str(w->modified),
                     "signer", opt_str(w->signer), "collection", opt_str(w->collection),
                     "ledger_leaf",
                     w->leaf_index >= 0 ? json_integer(w->leaf_index) : json_null());
}

static double round6(double x)
{
    /* figures are printed at 1e-6: the rule sums weights at that grain */
    return (double)llround(x * 1e6) / 1e6;
}

json_t *node_verify_claim_json(const verify_claim_info *c)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:f, s:o, s:I, s:I, s:o}", "id", c->id, "type",
                     c->type, "source", c->source, "verdict", verify_verdict_name(c->verdict),
                     "score", round6(c->score), "as_of", time_json(c->now), "sightings",
                     (json_int_t)c->sightings, "opinions", (json_int_t)c->opinions, "object",
                     ref_json(&c->where));
}

static const char *class_name(verify_evidence_class c)
{
    switch (c) {
    case VERIFY_EV_WARNINGLIST: return "warninglist";
    case VERIFY_EV_DEFECT: return "technical";
    case VERIFY_EV_SIGHTING: return "sighting";
    case VERIFY_EV_OPINION: return "opinion";
    }
    return "unknown";
}

static const char *use_name(verify_use u)
{
    switch (u) {
    case VERIFY_USE_SUPPORT: return "support";
    case VERIFY_USE_AGAINST: return "against";
    case VERIFY_USE_BENIGN: return "benign";
    case VERIFY_USE_FATAL: return "fatal";
    case VERIFY_USE_NOTE: return "note";
    case VERIFY_USE_IGNORED_SELF: return "ignored-self";
    case VERIFY_USE_IGNORED_SUPERSEDED: return "ignored-superseded";
    case VERIFY_USE_IGNORED_FUTURE: return "ignored-future";
    }
    return "unknown";
}

static const char *opinion_name(verify_opinion o)
{
    static const char *const names[] = {"strongly-disagree", "disagree", "neutral", "agree",
                                        "strongly-agree"};
    return o >= -2 && o <= 2 ? names[o + 2] : "neutral";
}

json_t *node_verify_explain_json(const verify_explain *x)
{
    json_t *o = node_verify_claim_json(&x->claim), *arr = json_array();
    if (o == NULL || arr == NULL)
        goto fail;
    if (json_object_set_new(o, "support", json_real(round6(x->result.support))) ||
        json_object_set_new(o, "against", json_real(round6(x->result.against))) ||
        json_object_set_new(o, "benign", json_real(round6(x->result.benign))) ||
        json_object_set_new(o, "independent_sources",
                            json_integer((json_int_t)x->result.independent_sources)) ||
        json_object_set_new(o, "reason", json_string(x->result.reason)))
        goto fail;
    for (size_t k = 0; k < x->count; k++) {
        const verify_evidence *ev = &x->ev[k];
        const verify_counted *c = k < x->result.counted_count ? &x->result.counted[k] : NULL;
        json_t *it = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:f, s:s, s:o}", "class",
                               class_name(ev->cls), "kind", ev->kind, "message", ev->message,
                               "source", opt_str(ev->source), "time", time_json(ev->time), "use",
                               c ? use_name(c->use) : "note", "weight",
                               c ? round6(c->weight) : 0.0, "why", c ? c->why : "", "object",
                               ref_json(&x->where[k]));
        if (it == NULL)
            goto fail;
        if (ev->cls == VERIFY_EV_SIGHTING)
            json_object_set_new(it, "count", json_integer(ev->count));
        else if (ev->cls == VERIFY_EV_OPINION)
            json_object_set_new(it, "opinion", json_string(opinion_name(ev->opinion)));
        else if (ev->cls == VERIFY_EV_DEFECT)
            json_object_set_new(it, "fatal", json_boolean(ev->is_fatal));
        if (json_array_append_new(arr, it) != 0)
            goto fail;
    }
    if (json_object_set_new(o, "evidence", arr) != 0) {
        arr = NULL;
        goto fail;
    }
    return o;
fail:
    json_decref(o);
    json_decref(arr);
    return NULL;
}

static json_t *figures(const verify_reliability *r)
{
    char letter[2] = {r->letter, '\0'};
    return json_pack("{s:I, s:I, s:I, s:I, s:f, s:[f, f], s:s}", "corroborated",
                     (json_int_t)r->corroborated, "refuted", (json_int_t)r->refuted, "disputed",
                     (json_int_t)r->disputed, "unverified", (json_int_t)r->unverified, "mean",
                     round6(r->mean), "interval", round6(r->lo), round6(r->hi), "letter",
                     letter);
}

dt_status node_verify_source_json(const verify_engine *e, size_t i, unsigned history_months,
                                  json_t **out, dt_err *err)
{
    verify_reliability r;
    json_t *o, *hist;
    int64_t latest = verify_engine_latest(e);
    dt_status rc;

    *out = NULL;
    rc = verify_engine_source_reliability(e, i, INT64_MAX, &r, err);
    if (rc != DT_OK)
        return rc;
    o = figures(&r);
    hist = json_array();
    if (o == NULL || hist == NULL ||
        json_object_set_new(o, "source", json_string(verify_engine_source_id(e, i))) ||
        json_object_set_new(o, "claims", json_integer((json_int_t)verify_engine_source_claims(e, i))))
        goto nomem;
    for (unsigned k = history_months; k-- > 0;) {
        int64_t end = verify_month_end(latest, k);
        json_t *h;
        rc = verify_engine_source_reliability(e, i, end, &r, err);
        if (rc != DT_OK)
            goto fail;
        h = figures(&r);
        if (h == NULL || json_object_set_new(h, "as_of", time_json(end)) ||
            json_array_append_new(hist, h))
            goto nomem;
    }
    if (json_object_set_new(o, "history", hist) != 0) {
        hist = NULL;
        goto nomem;
    }
    *out = o;
    return DT_OK;
nomem:
    rc = dt_fail(err, DT_ENOMEM, "verify", "out of memory");
fail:
    json_decref(o);
    json_decref(hist);
    return rc;
}
