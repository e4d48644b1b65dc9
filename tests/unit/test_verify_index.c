/* Single-claim verdicts through the evidence index (node/verify_index.c):
 * node_verify_one must give every claim exactly the JSON of the full pass
 * (node_verify_run), for the operator and for an account of lower
 * clearance, with and without as_of, on a store with signed and unsigned
 * sources, revoked versions, superseded opinions, an opinion on two claims,
 * a "looked, not seen" sighting, a relationship claim, the same id in two
 * collections and objects the account may not read. The index must survive
 * a restart, and objects stored before it existed must be found after the
 * rebuild. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"

#define TLP_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define TLP_RED "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define DAY "2024-03-01T00:00:00.000Z"

typedef struct party {
    char id[64];
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
} party;

typedef struct fixture {
    char dir[256];
    node *n;
    verify_lists *lists;
    party p[4];
    unsigned seq;
    char ids[64][80]; /* every object id stored */
    size_t nids;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char tmpl[] = "/tmp/detente-vindex-XXXXXX", lists[4096];
    dt_err err = {0};
    const char *src = getenv("DETENTE_SRC");
    if (f == NULL || mkdtemp(tmpl) == NULL || sodium_init() < 0)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s", tmpl);
    node_init_opts o = {.name = "party-x", .default_marking = NODE_TLP_AMBER};
    if (node_init(f->dir, &o, &err) != DT_OK || node_open(f->dir, &f->n, &err) != DT_OK)
        return -1;
    snprintf(lists, sizeof lists, "%s/data/warninglists/lists", src ? src : ".");
    if (verify_lists_load_dir(lists, &f->lists, &err) != DT_OK)
        return -1;
    for (int i = 0; i < 4; i++) {
        crypto_sign_keypair(f->p[i].pk, f->p[i].sk);
        snprintf(f->p[i].id, sizeof f->p[i].id, "identity--%c0000000-0000-4000-8000-000000000000",
                 'a' + i);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[400];
    node_close(f->n);
    verify_lists_free(f->lists);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static const char *next_id(fixture *f, const char *type)
{
    char *id = f->ids[f->nids++];
    snprintf(id, 80, "%s--00000000-0000-4000-8000-%012u", type, ++f->seq);
    return id;
}

/* Ingest obj (signed by p unless NULL) into collection (NULL: default). */
static void put(fixture *f, json_t *obj, const party *p, const char *collection)
{
    node_principal local;
    node_ingest_opts o = {.allow_unsigned = true, .collection = collection};
    node_ingest_result res = {0};
    dt_err err = {0};
    assert_non_null(obj);
    if (p != NULL)
        assert_int_equal(node_object_sign(obj, p->id, p->sk, &err), DT_OK);
    node_principal_local(&local);
    json_t *objs[1] = {obj};
    assert_int_equal(node_ingest_json(f->n, &local, &o, objs, NULL, 1, &res, &err), DT_OK);
    if (res.rejected)
        fprintf(stderr, "rejected: %s\n", res.items[0].msg);
    assert_int_equal(res.rejected, 0);
    node_ingest_result_release(&res);
    json_decref(obj);
}

static void indicator(fixture *f, const char *id, const party *by, bool sign, const char *value,
                      const char *modified, bool revoked, const char *marking,
                      const char *collection)
{
    char pattern[200];
    snprintf(pattern, sizeof pattern, "[%s]", value);
    put(f,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:[s]}", "type",
                  "indicator", "spec_version", "2.1", "id", id, "created", DAY, "modified",
                  modified, "pattern", pattern, "pattern_type", "stix", "valid_from",
                  "2024-01-01T00:00:00Z", "created_by_ref", by->id, "revoked", revoked,
                  "object_marking_refs", marking ? marking : TLP_CLEAR),
        sign ? by : NULL, collection);
}

static void sighting(fixture *f, const party *by, const char *of, const char *when, int count,
                     const char *marking)
{
    put(f,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:[s]}", "type", "sighting",
                  "spec_version", "2.1", "id", next_id(f, "sighting"), "created", when,
                  "modified", when, "first_seen", when, "last_seen", when, "count", count,
                  "sighting_of_ref", of, "object_marking_refs", marking ? marking : TLP_CLEAR),
        by, NULL);
}

static void opinion(fixture *f, const char *id, const party *by, json_t *on, const char *op,
                    const char *when)
{
    put(f,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:[s]}", "type", "opinion",
                  "spec_version", "2.1", "id", id, "created", DAY, "modified", when, "opinion",
                  op, "explanation", "test", "created_by_ref", by->id, "object_refs", on,
                  "object_marking_refs", TLP_CLEAR),
        by, NULL);
}

/* The scenario store. */
static void scenario(fixture *f)
{
    party *a = &f->p[0], *b = &f->p[1], *c = &f->p[2], *d = &f->p[3];
    const char *x1 = next_id(f, "indicator"), *x2 = next_id(f, "indicator");
    const char *x3 = next_id(f, "indicator"), *x4 = next_id(f, "indicator");
    const char *x5 = next_id(f, "indicator"), *x6 = next_id(f, "indicator");
    const char *rel = next_id(f, "relationship"), *o1 = next_id(f, "opinion");
    const char *o2 = next_id(f, "opinion"), *o3 = next_id(f, "opinion");
    const char *o4 = next_id(f, "opinion");
    const char *flip = "domain-name:value = 'flip.badexample.net'";
    const char *ip = "ipv4-addr:value = '203.0.113.5'";

    /* a claims a value twice, then revokes the first claim */
    indicator(f, x1, a, true, flip, DAY, false, NULL, NULL);
    indicator(f, x1, a, true, flip, "2024-04-01T00:00:00.000Z", true, NULL, NULL);
    indicator(f, x2, a, true, flip, DAY, false, NULL, NULL);
    sighting(f, b, x2, "2024-03-02T00:00:00.000Z", 2, NULL);
    sighting(f, c, x2, "2024-03-05T00:00:00.000Z", 1, NULL);
    /* d changes its mind on x2: the newer version of its opinion counts */
    opinion(f, o1, d, json_pack("[s]", x2), "agree", "2024-03-03T00:00:00.000Z");
    opinion(f, o1, d, json_pack("[s]", x2), "disagree", "2024-03-09T00:00:00.000Z");
    /* b and c (unsigned: its source is created_by_ref) both name one IP; b
     * later disagrees with c's claim: b contradicts itself */
    indicator(f, x3, b, true, ip, DAY, false, NULL, NULL);
    indicator(f, x4, c, false, ip, DAY, false, NULL, NULL);
    opinion(f, o2, b, json_pack("[s]", x4), "strongly-disagree", "2024-03-20T00:00:00.000Z");
    sighting(f, a, x3, "2024-03-04T00:00:00.000Z", 1, NULL);
    sighting(f, d, x3, "2024-03-06T00:00:00.000Z", 4, TLP_RED);
    sighting(f, c, x4, "2024-03-07T00:00:00.000Z", 0, NULL); /* looked, not seen */
    /* one opinion on two claims */
    opinion(f, o3, c, json_pack("[s, s]", x2, x4), "agree", "2024-03-08T00:00:00.000Z");
    /* a RED claim of the same value by b, which a disagrees with; the guest
     * reads neither the claim nor, through it, the negation */
    indicator(f, x5, b, true, flip, DAY, false, TLP_RED, NULL);
    opinion(f, o4, a, json_pack("[s]", x5), "disagree", "2024-03-25T00:00:00.000Z");
    /* x4 again, newer, in a second collection the guest may not read */
    indicator(f, x4, c, false, ip, "2024-03-15T00:00:00.000Z", false, NULL, "mirror");
    /* a claim only in the second collection, a real benign value */
    indicator(f, x6, d, true, "domain-name:value = 'google.com'", DAY, false, NULL, "mirror");
    sighting(f, a, x6, "2024-03-02T00:00:00.000Z", 1, NULL);
    /* a relationship claim with an opinion */
    put(f,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type",
                  "relationship", "spec_version", "2.1", "id", rel, "created", DAY, "modified",
                  DAY, "relationship_type", "indicates", "source_ref", x2, "target_ref",
                  "malware--00000000-0000-4000-8000-000000009999", "created_by_ref", d->id,
                  "object_marking_refs", TLP_CLEAR),
        d, NULL);
    opinion(f, next_id(f, "opinion"), b, json_pack("[s]", rel), "agree",
            "2024-03-10T00:00:00.000Z");

    /* a GREEN account that may read "default" only */
    store_txn *t = NULL;
    dt_err err = {0};
    store_user u = {.max_marking = NODE_TLP_GREEN};
    snprintf(u.name, sizeof u.name, "guest");
    assert_int_equal(store_begin(node_store(f->n), &t, &err), DT_OK);
    assert_int_equal(store_user_put(t, &u, &err), DT_OK);
    assert_int_equal(store_grant_put(t, "guest", "default", STORE_PERM_READ, &err), DT_OK);
    assert_int_equal(store_commit(t, &err), DT_OK);
}

static char *explain_text(const verify_engine *e, const char *id)
{
    size_t i;
    verify_explain x;
    dt_err err = {0};
    if (!verify_engine_find(e, id, &i))
        return NULL;
    assert_int_equal(verify_engine_explain(e, i, &x, &err), DT_OK);
    json_t *j = node_verify_explain_json(&x);
    verify_explain_release(&x);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return text;
}

/* Every stored id: the single path gives the full pass's JSON, or nothing
 * when the full pass has no such claim. Returns how many claims matched. */
static size_t compare_all(fixture *f, const node_principal *who, int64_t as_of)
{
    verify_engine *full = NULL;
    dt_err err = {0};
    size_t claims = 0;
    assert_int_equal(node_verify_run(f->n, who, f->lists, as_of, &full, &err), DT_OK);
    for (size_t k = 0; k < f->nids; k++) {
        verify_engine *one = NULL;
        dt_status rc = node_verify_one(f->n, who, f->lists, as_of, f->ids[k], &one, &err);
        if (rc != DT_OK)
            fprintf(stderr, "verify one: %s: %s\n", err.where, err.msg);
        assert_int_equal(rc, DT_OK);
        char *a = explain_text(full, f->ids[k]), *b = explain_text(one, f->ids[k]);
        if (a == NULL) {
            assert_null(b);
        } else {
            assert_non_null(b);
            if (strcmp(a, b) != 0)
                fprintf(stderr, "full: %s\none:  %s\n", a, b);
            assert_string_equal(a, b);
            claims++;
        }
        free(a);
        free(b);
        verify_engine_free(one);
    }
    verify_engine_free(full);
    return claims;
}

static size_t index_rows(fixture *f, const char *prefix);
/* Negation rows: revoked claims by atom, disagreements by source. */
static size_t negation_rows(fixture *f)
{
    return index_rows(f, "vrev/") + index_rows(f, "vneg/");
}

static size_t index_rows(fixture *f, const char *prefix)
{
    char **keys = NULL, **vals = NULL;
    size_t count = 0;
    dt_err err = {0};
    assert_int_equal(store_kv_list(node_store(f->n), prefix, 0, &keys, &vals, &count, &err),
                     DT_OK);
    store_kv_list_free(keys, vals, count);
    return count;
}

static void check_scenario(fixture *f)
{
    node_principal local, guest = {.kind = NODE_PRINCIPAL_USER, .max_marking = NODE_TLP_GREEN};
    snprintf(guest.name, sizeof guest.name, "guest");
    node_principal_local(&local);
    assert_int_equal(compare_all(f, &local, 0), 7);
    assert_int_equal(compare_all(f, &local, 1710460800 /* 2024-03-15 */), 7);
    /* the guest reads neither the RED claim nor the claim only in mirror */
    assert_int_equal(compare_all(f, &guest, 0), 5);
    assert_int_equal(compare_all(f, &guest, 1710460800), 5);
}

static void test_verify_one_same_json_as_full_pass(void **state)
{
    fixture *f = *state;
    /* a new store: its index is kept whole by ingest, never rebuilt */
    assert_int_equal(index_rows(f, "verify/index"), 1);
    scenario(f);
    check_scenario(f);
    /* the scenario exercises what the index is for */
    verify_engine *one = NULL;
    node_principal local;
    dt_err err = {0};
    node_principal_local(&local);
    assert_int_equal(node_verify_one(f->n, &local, f->lists, 0, f->ids[1], &one, &err), DT_OK);
    char *text = explain_text(one, f->ids[1]);
    assert_non_null(strstr(text, "technical:self-contradiction"));
    assert_non_null(strstr(text, "\"class\":\"sighting\""));
    assert_non_null(strstr(text, "\"class\":\"opinion\""));
    free(text);
    verify_engine_free(one);
    assert_int_equal(node_verify_one(f->n, &local, f->lists, 0, f->ids[2], &one, &err), DT_OK);
    text = explain_text(one, f->ids[2]);
    assert_non_null(strstr(text, "disagreed with"));
    free(text);
    verify_engine_free(one);
}

static void test_verify_index_survives_restart(void **state)
{
    fixture *f = *state;
    dt_err err = {0};
    scenario(f);
    size_t refs = index_rows(f, "vref/"), negs = negation_rows(f);
    assert_true(refs >= 10);
    assert_int_equal(index_rows(f, "vrev/"), 1); /* x1 revoked, one atom */
    assert_int_equal(index_rows(f, "vneg/"), 3); /* o1 (newer version), o2, o4 */
    node_close(f->n);
    f->n = NULL;
    assert_int_equal(node_open(f->dir, &f->n, &err), DT_OK);
    assert_int_equal(index_rows(f, "vref/"), refs);
    assert_int_equal(negation_rows(f), negs);
    check_scenario(f);
}

/* Drop every index row and the mark, as on a store written before the
 * index existed. */
static void forget_index(fixture *f)
{
    static const char *const prefixes[] = {"vref/", "vrev/", "vneg/", "verify/index"};
    dt_err err = {0};
    store_txn *t = NULL;
    assert_int_equal(store_begin(node_store(f->n), &t, &err), DT_OK);
    for (size_t p = 0; p < 4; p++) {
        char **keys = NULL, **vals = NULL;
        size_t count = 0;
        assert_int_equal(
            store_kv_list(node_store(f->n), prefixes[p], 0, &keys, &vals, &count, &err), DT_OK);
        for (size_t i = 0; i < count; i++)
            assert_int_equal(store_kv_put(t, keys[i], NULL, &err), DT_OK);
        store_kv_list_free(keys, vals, count);
    }
    assert_int_equal(store_commit(t, &err), DT_OK);
    assert_int_equal(index_rows(f, "vref/"), 0);
}

static void test_verify_index_rebuilt_for_older_objects(void **state)
{
    fixture *f = *state;
    dt_err err = {0};
    size_t count = 0;
    scenario(f);
    size_t refs = index_rows(f, "vref/"), negs = negation_rows(f);
    /* found again by the rebuild a single-claim read starts by itself */
    forget_index(f);
    check_scenario(f);
    assert_int_equal(index_rows(f, "vref/"), refs);
    assert_int_equal(negation_rows(f), negs);
    assert_int_equal(index_rows(f, "verify/index"), 1);
    /* and by an explicit rebuild (detente verify --reindex) */
    forget_index(f);
    assert_int_equal(node_verify_index_rebuild(f->n, &count, &err), DT_OK);
    assert_true(count >= 20);
    assert_int_equal(index_rows(f, "vref/"), refs);
    assert_int_equal(negation_rows(f), negs);
    check_scenario(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verify_one_same_json_as_full_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_index_survives_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_index_rebuilt_for_older_objects, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
