/* Verification through the real node: objects signed by several parties
 * (Ed25519 keys made here, signed with node_object_sign under their
 * identity ids), ingested through node_ingest_json, judged by
 * node_verify_run over what node_query lets the requester read. One case
 * per verdict, independence (a source's own sightings do not count),
 * opinions (newest per source), warninglist hits on real values, the
 * node-level checks (cannot match, self-contradiction), clearance (a
 * requester never sees evidence above it), and the same verdicts on two
 * nodes holding the same objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/api.h"
#include "node/node.h"

#define TLP_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define TLP_RED "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

typedef struct party {
    char id[64];
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
} party;

typedef struct fixture {
    char dir[256];
    char home[2][300];
    node *n[2];
    verify_lists *lists;
    party a, b, c, d;
    unsigned seq;
} fixture;

static void party_make(party *p, char tag)
{
    crypto_sign_keypair(p->pk, p->sk);
    snprintf(p->id, sizeof p->id, "identity--%c0000000-0000-4000-8000-000000000000", tag);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char tmpl[] = "/tmp/detente-vnode-XXXXXX";
    char lists[4096];
    dt_err err = {0};
    const char *src = getenv("DETENTE_SRC");
    if (f == NULL || mkdtemp(tmpl) == NULL || sodium_init() < 0)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s", tmpl);
    for (int i = 0; i < 2; i++) {
        snprintf(f->home[i], sizeof f->home[i], "%s/home%d", tmpl, i);
        node_init_opts o = {.name = i ? "party-y" : "party-x", .default_marking = NODE_TLP_AMBER};
        if (node_init(f->home[i], &o, &err) != DT_OK ||
            node_open(f->home[i], &f->n[i], &err) != DT_OK) {
            fprintf(stderr, "setup: %s: %s\n", err.where, err.msg);
            return -1;
        }
    }
    snprintf(lists, sizeof lists, "%s/data/warninglists/lists", src ? src : ".");
    if (verify_lists_load_dir(lists, &f->lists, &err) != DT_OK) {
        fprintf(stderr, "setup: %s: %s\n", err.where, err.msg);
        return -1;
    }
    party_make(&f->a, 'a');
    party_make(&f->b, 'b');
    party_make(&f->c, 'c');
    party_make(&f->d, 'd');
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[400];
    node_close(f->n[0]);
    node_close(f->n[1]);
    verify_lists_free(f->lists);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* A fresh UUID-shaped id tail, deterministic per fixture. */
static void next_id(fixture *f, const char *type, char *out, size_t len)
{
    snprintf(out, len, "%s--00000000-0000-4000-8000-%012u", type, ++f->seq);
}

/* Sign obj as p (NULL: leave unsigned) and ingest it into node k. */
static void put(fixture *f, int k, json_t *obj, const party *p)
{
    node_principal local;
    node_ingest_opts o = {.allow_unsigned = true};
    node_ingest_result res = {0};
    dt_err err = {0};
    assert_non_null(obj);
    if (p != NULL)
        assert_int_equal(node_object_sign(obj, p->id, p->sk, &err), DT_OK);
    node_principal_local(&local);
    json_t *objs[1] = {obj};
    assert_int_equal(node_ingest_json(f->n[k], &local, &o, objs, NULL, 1, &res, &err), DT_OK);
    if (res.rejected)
        fprintf(stderr, "rejected: %s\n", res.items[0].msg);
    assert_int_equal(res.rejected, 0);
    node_ingest_result_release(&res);
}

static void indicator(fixture *f, const party *by, const char *pattern, const char *modified,
                      char *id, size_t idlen, bool revoked, const char *marking)
{
    next_id(f, "indicator", id, idlen);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:[s]}", "type",
                          "indicator", "spec_version", "2.1", "id", id, "created",
                          "2024-01-01T00:00:00.000Z", "modified", modified, "pattern", pattern,
                          "pattern_type", "stix", "valid_from", "2024-01-01T00:00:00Z",
                          "created_by_ref", by->id, "revoked", revoked, "object_marking_refs",
                          marking ? marking : TLP_CLEAR);
    put(f, 0, o, by);
    json_decref(o);
}

static void sighting(fixture *f, const party *by, const char *of, const char *when, int count,
                     const char *marking)
{
    char id[80];
    next_id(f, "sighting", id, sizeof id);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:[s]}", "type",
                          "sighting", "spec_version", "2.1", "id", id, "created", when,
                          "modified", when, "first_seen", when, "last_seen", when, "count", count,
                          "sighting_of_ref", of, "object_marking_refs",
                          marking ? marking : TLP_CLEAR);
    put(f, 0, o, by);
    json_decref(o);
}

static void opinion(fixture *f, const party *by, const char *on, const char *op, const char *when)
{
    char id[80];
    next_id(f, "opinion", id, sizeof id);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s]}", "type",
                          "opinion", "spec_version", "2.1", "id", id, "created", when,
                          "modified", when, "opinion", op, "explanation", "test",
                          "created_by_ref", by->id, "object_refs", on, "object_marking_refs",
                          TLP_CLEAR);
    put(f, 0, o, by);
    json_decref(o);
}

static verify_engine *judge_as(fixture *f, int k, const node_principal *who)
{
    verify_engine *e = NULL;
    dt_err err = {0};
    dt_status rc = node_verify_run(f->n[k], who, f->lists, 0, &e, &err);
    if (rc != DT_OK)
        fprintf(stderr, "verify: %s: %s\n", err.where, err.msg);
    assert_int_equal(rc, DT_OK);
    return e;
}

static verify_engine *judge(fixture *f, int k)
{
    node_principal local;
    node_principal_local(&local);
    return judge_as(f, k, &local);
}

static verify_verdict verdict_of(verify_engine *e, const char *id)
{
    size_t i;
    verify_claim_info c;
    assert_true(verify_engine_find(e, id, &i));
    verify_engine_claim(e, i, &c);
    return c.verdict;
}

/* The evidence item of kind `kind`, or -1; *x filled (release it). */
static int find_kind(verify_engine *e, const char *id, const char *kind, verify_explain *x)
{
    size_t i;
    dt_err err = {0};
    assert_true(verify_engine_find(e, id, &i));
    assert_int_equal(verify_engine_explain(e, i, x, &err), DT_OK);
    for (size_t k = 0; k < x->count; k++)
        if (strcmp(x->ev[k].kind, kind) == 0)
            return (int)k;
    return -1;
}

#define DAY "2024-03-01T00:00:00.000Z"
#define IND(pat) "[" pat "]"

static void test_verdict_corroborated_by_two_parties(void **state)
{
    fixture *f = *state;
    char id[80];
    indicator(f, &f->a, IND("domain-name:value = 'c2.badexample.net'"), DAY, id, sizeof id, false,
              NULL);
    sighting(f, &f->b, id, "2024-03-02T00:00:00.000Z", 1, NULL);
    verify_engine *e = judge(f, 0);
    assert_int_equal(verdict_of(e, id), VERIFY_UNVERIFIED); /* one sighting: 0.5 */
    verify_engine_free(e);
    sighting(f, &f->c, id, "2024-03-02T00:00:00.000Z", 1, NULL);
    e = judge(f, 0);
    assert_int_equal(verdict_of(e, id), VERIFY_CORROBORATED);
    verify_explain x;
    int k = find_kind(e, id, "sighting", &x);
    assert_true(k >= 0);
    /* every sighting points at its object, signer and ledger leaf */
    assert_non_null(x.where[k].id);
    assert_true(strncmp(x.where[k].id, "sighting--", 10) == 0);
    assert_non_null(x.where[k].signer);
    assert_true(x.where[k].leaf_index > 0);
    assert_int_equal(x.result.counted[k].use, VERIFY_USE_SUPPORT);
    verify_explain_release(&x);
    verify_engine_free(e);
}

static void test_verdict_own_sightings_do_not_count(void **state)
{
    fixture *f = *state;
    char id[80];
    indicator(f, &f->a, IND("ipv4-addr:value = '203.0.114.7'"), DAY, id, sizeof id, false, NULL);
    sighting(f, &f->a, id, "2024-03-02T00:00:00.000Z", 1000, NULL);
    sighting(f, &f->a, id, "2024-03-03T00:00:00.000Z", 1000, NULL);
    verify_engine *e = judge(f, 0);
    assert_int_equal(verdict_of(e, id), VERIFY_UNVERIFIED);
    verify_explain x;
    int k = find_kind(e, id, "sighting", &x);
    assert_true(k >= 0);
    assert_int_equal(x.result.counted[k].use, VERIFY_USE_IGNORED_SELF);
    verify_explain_release(&x);
    verify_engine_free(e);
}

static void test_verdict_likely_benign_on_real_lists(void **state)
{
    fixture *f = *state;
    char dns[80], goog[80];
    indicator(f, &f->a, IND("ipv4-addr:value = '8.8.8.8'"), DAY, dns, sizeof dns, false, NULL);
    indicator(f, &f->a, IND("domain-name:value = 'mail.google.com'"), DAY, goog, sizeof goog,
              false, NULL);
    sighting(f, &f->b, dns, "2024-03-02T00:00:00.000Z", 50, NULL); /* one sighting: list wins */
    verify_engine *e = judge(f, 0);
    assert_int_equal(verdict_of(e, dns), VERIFY_LIKELY_BENIGN);
    assert_int_equal(verdict_of(e, goog), VERIFY_LIKELY_BENIGN);
    verify_explain x;
    int k = find_kind(e, goog, "warninglist", &x);
    assert_true(k >= 0);
    assert_non_null(strstr(x.ev[k].message, "listed in "));
    assert_null(x.where[k].id); /* a list hit has no object behind it */
    verify_explain_release(&x);
    verify_engine_free(e);
}

static void test_verdict_refuted_by_defect_and_by_opinions(void **state)
{
    fixture *f = *state;
    char defanged[80], doubted[80];
    indicator(f, &f->a, IND("domain-name:value = 'evil[.]example.org'"), DAY, defanged,
              sizeof defanged, false, NULL);
    sighting(f, &f->b, defanged, "2024-03-02T00:00:00.000Z", 5, NULL);
    sighting(f, &f->c, defanged, "2024-03-02T00:00:00.000Z", 5, NULL);
    indicator(f, &f->a, IND("domain-name:value = 'doubted.badexample.net'"), DAY, doubted,
              sizeof doubted, false, NULL);
    opinion(f, &f->b, doubted, "strongly-disagree", "2024-03-05T00:00:00.000Z");
    opinion(f, &f->c, doubted, "strongly-disagree", "2024-03-05T00:00:00.000Z");
    verify_engine *e = judge(f, 0);
    assert_int_equal(verdict_of(e, defanged), VERIFY_REFUTED);
    assert_int_equal(verdict_of(e, doubted), VERIFY_REFUTED);
    verify_engine_free(e);
}

static void test_verdict_disputed_and_newest_opinion_per_source(void **state)
{
    fixture *f = *state;
    char id[80];
    indicator(f, &f->a, IND("url:value = 'http://badexample.net/gate.php'"), DAY, id, sizeof id,
              false, NULL);
    sighting(f, &f->b, id, "2024-03-02T00:00:00.000Z", 100, NULL);
    /* d first agreed, then changed its mind: only the newest counts */
    opinion(f, &f->d, id, "agree", "2024-03-01T00:00:00.000Z");
    opinion(f, &f->d, id, "strongly-disagree", "2024-03-03T00:00:00.000Z");
    verify_engine *e = judge(f, 0);
    assert_int_equal(verdict_of(e, id), VERIFY_DISPUTED);
    verify_explain x;
    int k = find_kind(e, id, "opinion", &x);
    assert_true(k >= 0);
    size_t superseded = 0, against = 0;
    for (size_t j = 0; j < x.count; j++) {
        superseded += x.result.counted[j].use == VERIFY_USE_IGNORED_SUPERSEDED;
        against += x.result.counted[j].use == VERIFY_USE_AGAINST;
    }
    assert_int_equal(superseded, 1);
    assert_int_equal(against, 1);
    verify_explain_release(&x);
    verify_engine_free(e);
}

static void test_verdict_unsigned_source_is_created_by_ref(void **state)
{
    fixture *f = *state;
    char id[80];
    next_id(f, "indicator", id, sizeof id);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type",
                          "indicator", "spec_version", "2.1", "id", id, "created", DAY,
                          "modified", DAY, "pattern", "[domain-name:value = 'x.badexample.net']",
                          "pattern_type", "stix", "valid_from", "2024-01-01T00:00:00Z",
                          "created_by_ref", f->d.id, "object_marking_refs", TLP_CLEAR);
    put(f, 0, o, NULL);
    json_decref(o);
    verify_engine *e = judge(f, 0);
    size_t i;
    verify_claim_info c;
    assert_true(verify_engine_find(e, id, &i));
    verify_engine_claim(e, i, &c);
    assert_string_equal(c.source, f->d.id);
    assert_null(c.where.signer);
    verify_engine_free(e);
}

static void test_verdict_cannot_match_and_self_contradiction(void **state)
{
    fixture *f = *state;
    char nomatch[80], old[80], retracted[80];
    indicator(f, &f->a, IND("ipv4-addr:hostname = '198.51.100.1'"), DAY, nomatch, sizeof nomatch,
              false, NULL);
    /* a claims a value, then later revokes another claim of the same value */
    indicator(f, &f->a, IND("domain-name:value = 'flip.badexample.net'"), DAY, old, sizeof old,
              false, NULL);
    indicator(f, &f->a, IND("domain-name:value = 'flip.badexample.net'"),
              "2024-04-01T00:00:00.000Z", retracted, sizeof retracted, true, NULL);
    verify_engine *e = judge(f, 0);
    assert_int_equal(verdict_of(e, nomatch), VERIFY_REFUTED);
    verify_explain x;
    assert_true(find_kind(e, nomatch, "technical:cannot-match", &x) >= 0);
    verify_explain_release(&x);
    int k = find_kind(e, old, "technical:self-contradiction", &x);
    assert_true(k >= 0);
    assert_string_equal(x.where[k].id, retracted);
    assert_true(x.where[k].leaf_index > 0);
    verify_explain_release(&x);
    /* the revoked claim itself is not contradicted by anything */
    assert_int_equal(find_kind(e, retracted, "technical:self-contradiction", &x), -1);
    verify_explain_release(&x);
    verify_engine_free(e);
}

static void test_verify_clearance_hides_evidence(void **state)
{
    fixture *f = *state;
    char id[80];
    dt_err err = {0};
    indicator(f, &f->a, IND("domain-name:value = 'secret.badexample.net'"), DAY, id, sizeof id,
              false, NULL);
    sighting(f, &f->b, id, "2024-03-02T00:00:00.000Z", 1, NULL);
    sighting(f, &f->c, id, "2024-03-02T00:00:00.000Z", 1, TLP_RED);
    /* an account with GREEN clearance that may read "default" (set in the
     * store directly: the account commands are not what is tested here) */
    store_txn *t = NULL;
    store_user u = {.max_marking = NODE_TLP_GREEN};
    snprintf(u.name, sizeof u.name, "guest");
    assert_int_equal(store_begin(node_store(f->n[0]), &t, &err), DT_OK);
    assert_int_equal(store_user_put(t, &u, &err), DT_OK);
    assert_int_equal(store_grant_put(t, "guest", "default", STORE_PERM_READ, &err), DT_OK);
    assert_int_equal(store_commit(t, &err), DT_OK);
    node_principal guest = {.kind = NODE_PRINCIPAL_USER, .max_marking = NODE_TLP_GREEN};
    snprintf(guest.name, sizeof guest.name, "guest");
    verify_engine *e = judge(f, 0);
    assert_int_equal(verdict_of(e, id), VERIFY_CORROBORATED);
    verify_engine_free(e);
    e = judge_as(f, 0, &guest);
    assert_int_equal(verdict_of(e, id), VERIFY_UNVERIFIED);
    verify_explain x;
    size_t i;
    assert_true(verify_engine_find(e, id, &i));
    assert_int_equal(verify_engine_explain(e, i, &x, &err), DT_OK);
    for (size_t k = 0; k < x.count; k++)
        assert_true(x.ev[k].cls != VERIFY_EV_SIGHTING || strcmp(x.ev[k].source, f->c.id) != 0);
    verify_explain_release(&x);
    verify_engine_free(e);
    /* anonymous: no collection to read, no claims at all */
    node_principal anon = {.kind = NODE_PRINCIPAL_ANONYMOUS};
    e = judge_as(f, 0, &anon);
    assert_int_equal(verify_engine_claim_count(e), 0);
    verify_engine_free(e);
}

static char *all_verdicts_json(verify_engine *e)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < verify_engine_claim_count(e); i++) {
        verify_explain x;
        dt_err err = {0};
        assert_int_equal(verify_engine_explain(e, i, &x, &err), DT_OK);
        json_t *j = node_verify_explain_json(&x);
        /* where a node stored it differs by node; what it concluded may not */
        json_object_del(j, "object");
        json_t *ev;
        size_t k;
        json_array_foreach(json_object_get(j, "evidence"), k, ev)
        {
            json_t *obj = json_object_get(ev, "object");
            if (json_is_object(obj)) {
                json_object_del(obj, "ledger_leaf");
                json_object_del(obj, "collection");
            }
        }
        json_array_append_new(arr, j);
        verify_explain_release(&x);
    }
    for (size_t i = 0; i < verify_engine_source_count(e); i++) {
        json_t *s = NULL;
        dt_err err = {0};
        assert_int_equal(node_verify_source_json(e, i, 3, &s, &err), DT_OK);
        json_array_append_new(arr, s);
    }
    char *text = json_dumps(arr, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(arr);
    return text;
}

static void test_verify_same_verdicts_on_two_nodes(void **state)
{
    fixture *f = *state;
    char id[80];
    indicator(f, &f->a, IND("domain-name:value = 'two.badexample.net'"), DAY, id, sizeof id, false,
              NULL);
    sighting(f, &f->b, id, "2024-03-02T00:00:00.000Z", 3, NULL);
    sighting(f, &f->c, id, "2024-05-02T00:00:00.000Z", 30, NULL);
    opinion(f, &f->d, id, "disagree", "2024-02-01T00:00:00.000Z");
    indicator(f, &f->b, IND("ipv4-addr:value = '1.1.1.1'"), DAY, id, sizeof id, false, NULL);
    /* node 1 gets the same objects, in reverse order and in another collection */
    node_principal local;
    node_principal_local(&local);
    store_query q = {.collection = "default", .versions = STORE_VER_ALL, .max_marking = -1,
                     .limit = STORE_MAX_PAGE, .with_json = true};
    store_page page;
    dt_err err = {0};
    assert_int_equal(node_query(f->n[0], &local, &q, &page, &err), DT_OK);
    for (size_t i = page.count; i-- > 0;) {
        const char *type = page.rows[i].type;
        if (strcmp(type, "identity") == 0 || strcmp(type, "extension-definition") == 0)
            continue;
        json_t *o = json_loadb(page.rows[i].json, page.rows[i].json_len, 0, NULL);
        node_ingest_opts opts = {.collection = "mirror", .allow_unsigned = true};
        node_ingest_result res = {0};
        json_t *objs[1] = {o};
        assert_int_equal(node_ingest_json(f->n[1], &local, &opts, objs, NULL, 1, &res, &err),
                         DT_OK);
        assert_int_equal(res.rejected, 0);
        node_ingest_result_release(&res);
        json_decref(o);
    }
    store_page_release(&page);
    verify_engine *e0 = judge(f, 0), *e1 = judge(f, 1);
    assert_int_equal(verify_engine_claim_count(e0), 2);
    char *t0 = all_verdicts_json(e0), *t1 = all_verdicts_json(e1);
    assert_non_null(strstr(t0, "corroborated"));
    if (strcmp(t0, t1) != 0)
        fprintf(stderr, "node 0: %s\nnode 1: %s\n", t0, t1);
    assert_string_equal(t0, t1);
    free(t0);
    free(t1);
    verify_engine_free(e0);
    verify_engine_free(e1);
}

static void test_verify_reliability_from_outcomes(void **state)
{
    fixture *f = *state;
    char id[80];
    char pat[128];
    /* a makes 6 claims that two parties each see: decided, corroborated */
    for (int i = 0; i < 6; i++) {
        snprintf(pat, sizeof pat, "[domain-name:value = 'r%d.badexample.net']", i);
        indicator(f, &f->a, pat, DAY, id, sizeof id, false, NULL);
        sighting(f, &f->b, id, "2024-03-02T00:00:00.000Z", 100, NULL);
        sighting(f, &f->c, id, "2024-03-02T00:00:00.000Z", 100, NULL);
    }
    verify_engine *e = judge(f, 0);
    assert_int_equal(verify_engine_source_count(e), 1);
    assert_string_equal(verify_engine_source_id(e, 0), f->a.id);
    verify_reliability r;
    dt_err err = {0};
    assert_int_equal(verify_engine_source_reliability(e, 0, INT64_MAX, &r, &err), DT_OK);
    assert_int_equal(r.corroborated, 6);
    assert_true(r.letter != 'F');
    /* at the end of February nothing had been judged yet */
    assert_int_equal(verify_engine_source_reliability(e, 0, verify_month_end(
                         verify_engine_latest(e), 1), &r, &err), DT_OK);
    assert_int_equal(r.corroborated, 0);
    assert_int_equal(r.letter, 'F');
    verify_engine_free(e);
}

static void test_verify_month_end(void **state)
{
    (void)state;
    /* 2024-03-15T12:00:00Z */
    int64_t t = 1710504000;
    assert_int_equal(verify_month_end(t, 0), 1711929599); /* 2024-03-31T23:59:59Z */
    assert_int_equal(verify_month_end(t, 1), 1709251199); /* 2024-02-29T23:59:59Z (leap) */
    assert_int_equal(verify_month_end(t, 3), 1704067199); /* 2023-12-31T23:59:59Z */
}

/* GET /detente/v1/... through the dispatcher; the body parsed (NULL on error). */
static json_t *api_get(fixture *f, const node_principal *who, const char *path, dt_status expect)
{
    http_api_request rq = {.method = "GET", .path = path, .who = who};
    http_api_response rs;
    bool not_allowed = false;
    dt_err err = {0};
    http_api_response_init(&rs, 1 << 24);
    dt_status rc = http_api_dispatch(f->n[0], &rq, &rs, &not_allowed, &err);
    if (rc != expect)
        fprintf(stderr, "%s: %s: %s\n", path, err.where, err.msg);
    assert_int_equal(rc, expect);
    json_t *j = rc == DT_OK ? json_loadb(rs.body.data, rs.body.len, 0, NULL) : NULL;
    http_api_response_release(&rs);
    return j;
}

static void test_api_verdicts_apply_clearance(void **state)
{
    fixture *f = *state;
    char id[80], path[160];
    dt_err err = {0};
    indicator(f, &f->a, IND("domain-name:value = 'api.badexample.net'"), DAY, id, sizeof id,
              false, NULL);
    sighting(f, &f->b, id, "2024-03-02T00:00:00.000Z", 1, NULL);
    sighting(f, &f->c, id, "2024-03-02T00:00:00.000Z", 1, TLP_RED);
    store_txn *t = NULL;
    store_user u = {.max_marking = NODE_TLP_GREEN};
    snprintf(u.name, sizeof u.name, "guest");
    assert_int_equal(store_begin(node_store(f->n[0]), &t, &err), DT_OK);
    assert_int_equal(store_user_put(t, &u, &err), DT_OK);
    assert_int_equal(store_grant_put(t, "guest", "default", STORE_PERM_READ, &err), DT_OK);
    assert_int_equal(store_commit(t, &err), DT_OK);
    node_principal local, anon = {.kind = NODE_PRINCIPAL_ANONYMOUS};
    node_principal guest = {.kind = NODE_PRINCIPAL_USER, .max_marking = NODE_TLP_GREEN};
    snprintf(guest.name, sizeof guest.name, "guest");
    node_principal_local(&local);
    snprintf(path, sizeof path, "verdicts/%s", id);

    json_t *j = api_get(f, &local, path, DT_OK);
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "corroborated");
    json_decref(j);
    j = api_get(f, &guest, path, DT_OK);
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "unverified");
    char *text = json_dumps(j, JSON_COMPACT);
    assert_null(strstr(text, f->c.id)); /* the RED sighting's party is never named */
    free(text);
    json_decref(j);
    api_get(f, &anon, path, DT_ENOTFOUND); /* not readable: as if it did not exist */
    api_get(f, &local, "verdicts/indicator--00000000-0000-4000-8000-00000000ffff", DT_ENOTFOUND);

    j = api_get(f, &guest, "verdicts", DT_OK);
    assert_int_equal(json_array_size(json_object_get(j, "verdicts")), 1);
    assert_false(json_is_true(json_object_get(j, "more")));
    json_decref(j);
    j = api_get(f, &local, "reliability", DT_OK);
    assert_int_equal(json_array_size(j), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "source")),
                        f->a.id);
    json_decref(j);
}

/* pulls api_verify.c out of the archive (its handlers are weak in api.h) */
extern const int http_api_verify_linked;

int main(void)
{
    if (!http_api_verify_linked)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verdict_corroborated_by_two_parties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdict_own_sightings_do_not_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdict_likely_benign_on_real_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdict_refuted_by_defect_and_by_opinions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_verdict_disputed_and_newest_opinion_per_source,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdict_unsigned_source_is_created_by_ref, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_verdict_cannot_match_and_self_contradiction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_verify_clearance_hides_evidence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_same_verdicts_on_two_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_reliability_from_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_verdicts_apply_clearance, setup, teardown),
        cmocka_unit_test(test_verify_month_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
