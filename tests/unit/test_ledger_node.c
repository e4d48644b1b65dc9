/* Unit tests for the ledger as a node uses it: lazy signed heads, key
 * rotation, the whole-ledger check, bundles, and the /detente/v1/ ledger
 * endpoints through http_api_dispatch. Each test gets a fresh node. */
#define _XOPEN_SOURCE 700 /* nftw, in node_fixture.h */
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
#include "ledger/ledger.h"
#include "node/node.h"

#define NODE_FIXTURE_NAME "party-ledger"
#include "node_fixture.h"

static void add_indicators(node *n, int from, int count)
{
    node_principal local;
    node_ingest_opts o = {.collection = "default", .sign = true};
    node_ingest_result res = {0};
    dt_err err = {0};
    char buf[1024];
    node_principal_local(&local);
    for (int i = from; i < from + count; i++) {
        snprintf(buf, sizeof buf,
                 "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
                 "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3%04d\","
                 "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\","
                 "\"pattern\":\"[ipv4-addr:value = '198.51.100.%d']\",\"pattern_type\":\"stix\","
                 "\"valid_from\":\"2024-01-01T00:00:00Z\"}",
                 i, i % 250);
        assert_int_equal(node_ingest_text(n, &local, &o, buf, strlen(buf), &res, &err), DT_OK);
        assert_int_equal(res.added, 1);
        node_ingest_result_release(&res);
    }
}

static uint64_t size_of(node *n)
{
    uint64_t s = 0;
    assert_int_equal(ledger_size(node_store(n), NULL, &s, NULL), DT_OK);
    return s;
}

static void test_node_sth_current_issues_only_on_growth(void **state)
{
    fixture *f = *state;
    ledger_sth a, b, c;
    dt_err err = {0};
    uint8_t root[32];
    assert_int_equal(node_sth_current(f->n, &a, &err), DT_OK);
    assert_int_equal(a.tree_size, size_of(f->n));
    assert_int_equal(ledger_sth_verify(&a, node_public_key(f->n), NULL), DT_OK);
    assert_int_equal(ledger_root(node_store(f->n), NULL, a.tree_size, root, NULL), DT_OK);
    assert_memory_equal(root, a.root, 32);
    usleep(3000);
    assert_int_equal(node_sth_current(f->n, &b, &err), DT_OK);
    assert_memory_equal(&a, &b, sizeof a); /* not re-signed: same head */
    add_indicators(f->n, 0, 3);
    assert_int_equal(node_sth_current(f->n, &c, &err), DT_OK);
    assert_int_equal(c.tree_size, a.tree_size + 3);
    assert_true(c.timestamp >= a.timestamp);
    /* both heads are kept by size */
    assert_int_equal(ledger_sth_load(node_store(f->n), a.tree_size, &b, NULL), DT_OK);
    assert_memory_equal(&a, &b, sizeof a);
}

static void test_node_key_rotate_new_key_signs_heads(void **state)
{
    fixture *f = *state;
    node_key_rotation r;
    node *stale = NULL;
    ledger_sth before, after;
    uint8_t old_pk[32], pk[32];
    dt_err err = {0};
    node_ledger_report rep;

    add_indicators(f->n, 0, 2);
    assert_int_equal(node_sth_current(f->n, &before, &err), DT_OK);
    memcpy(old_pk, node_public_key(f->n), 32);
    assert_int_equal(node_open(f->home, &stale, &err), DT_OK); /* a server started earlier */
    assert_int_equal(node_key_rotate(f->n, &r, &err), DT_OK);
    assert_memory_equal(r.old_public_key, old_pk, 32);
    assert_memory_not_equal(r.new_public_key, old_pk, 32);
    assert_memory_equal(node_public_key(f->n), r.new_public_key, 32);
    assert_int_equal(r.leaf_index, before.tree_size);
    assert_int_equal(r.sth_tree_size, before.tree_size + 1);

    /* heads up to the rotation leaf: old key; after it: new key */
    assert_int_equal(node_key_for_size(f->n, before.tree_size, pk, &err), DT_OK);
    assert_memory_equal(pk, old_pk, 32);
    assert_int_equal(node_key_for_size(f->n, before.tree_size + 1, pk, &err), DT_OK);
    assert_memory_equal(pk, r.new_public_key, 32);
    assert_int_equal(node_sth_current(f->n, &after, &err), DT_OK);
    assert_int_equal(after.tree_size, before.tree_size + 1);
    assert_int_equal(ledger_sth_verify(&after, r.new_public_key, NULL), DT_OK);
    assert_int_equal(ledger_sth_verify(&after, old_pk, NULL), DT_ESIG);

    /* the process still holding the old key refuses to sign new heads */
    add_indicators(f->n, 10, 1);
    assert_int_equal(node_sth_current(stale, &after, &err), DT_EDENIED);
    assert_non_null(strstr(err.msg, "restart"));
    node_close(stale);

    /* the key document lists the rotation, and the whole ledger verifies */
    json_t *doc = NULL;
    assert_int_equal(node_key_document(f->n, &doc, &err), DT_OK);
    json_t *rot = json_object_get(doc, "rotations");
    assert_int_equal(json_array_size(rot), 1);
    json_t *st = json_object_get(json_array_get(rot, 0), "statement");
    assert_int_equal(node_rotation_verify(st, old_pk, pk, &err), DT_OK);
    assert_memory_equal(pk, r.new_public_key, 32);
    json_object_set_new(st, "rotated", json_string("2020-01-01T00:00:00.000Z"));
    assert_int_equal(node_rotation_verify(st, old_pk, pk, &err), DT_ESIG);
    json_decref(doc);
    assert_int_equal(node_sth_current(f->n, &after, &err), DT_OK);
    assert_int_equal(node_ledger_verify(f->n, &rep, &err), DT_OK);
    assert_true(rep.ok);
    assert_int_equal(rep.rotations, 1);
    assert_int_equal(rep.sths, 3);
}

static void test_node_ledger_verify_tombstones(void **state)
{
    fixture *f = *state;
    node_principal local;
    node_ledger_report rep;
    size_t count = 0;
    dt_err err = {0};
    node_principal_local(&local);
    add_indicators(f->n, 0, 5);
    assert_int_equal(node_delete(f->n, &local, "default",
                                 "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30002", NULL, &count,
                                 &err),
                     DT_OK);
    assert_int_equal(node_ledger_verify(f->n, &rep, &err), DT_OK);
    if (!rep.ok)
        fprintf(stderr, "%s\n", rep.problem);
    assert_true(rep.ok);
    assert_int_equal(rep.tombstones, 1);
    assert_int_equal(rep.leaves, rep.rows + 1);
    /* a node edited behind the log's back is found (through the store API:
     * a head signed for a size the log does not have) */
    store_txn *t = NULL;
    assert_int_equal(store_begin(node_store(f->n), &t, NULL), DT_OK);
    ledger_sth fake_sth = {.tree_size = rep.leaves + 5, .timestamp = 1};
    dt_buf fake;
    dt_buf_init(&fake, 4096);
    assert_int_equal(ledger_sth_to_json(&fake_sth, &fake, NULL), DT_OK);
    assert_int_equal(store_sth_put(t, rep.leaves + 5, fake.data, NULL), DT_OK);
    dt_buf_release(&fake);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    assert_int_equal(node_ledger_verify(f->n, &rep, &err), DT_OK);
    assert_false(rep.ok);
    assert_int_equal(rep.first_bad, rep.leaves);
    ledger_sth s;
    assert_int_equal(node_sth_current(f->n, &s, &err), DT_EDB);
}

static void test_node_bundle_check_roundtrip_and_rejects(void **state)
{
    fixture *f = *state;
    node_principal local;
    json_t *b = NULL;
    dt_err err = {0};
    char *text;
    uint8_t other[32] = {1};
    node_principal_local(&local);
    add_indicators(f->n, 0, 7);
    assert_int_equal(node_bundle_build(f->n, &local,
                                       "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30003",
                                       "2024-01-01T00:00:00Z", &b, &err),
                     DT_OK);
    text = json_dumps(b, JSON_INDENT(1));
    assert_int_equal(node_bundle_check(text, strlen(text), node_public_key(f->n), &err), DT_OK);
    assert_int_equal(node_bundle_check(text, strlen(text), other, &err), DT_ESIG);
    assert_string_equal(err.where, "public_key");
    free(text);
    /* the object changed: its signature fails */
    json_object_set_new(json_object_get(b, "object"), "name", json_string("changed"));
    text = json_dumps(b, 0);
    assert_int_equal(node_bundle_check(text, strlen(text), node_public_key(f->n), &err), DT_ESIG);
    free(text);
    /* truncated */
    assert_int_equal(node_bundle_check("{\"type\":", 8, node_public_key(f->n), &err), DT_EPARSE);
    json_decref(b);
    /* unknown versions and ids */
    assert_int_equal(node_bundle_build(f->n, &local,
                                       "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30003",
                                       "2023-01-01T00:00:00Z", &b, &err),
                     DT_ENOTFOUND);
    assert_int_equal(node_bundle_build(f->n, &local,
                                       "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30003",
                                       "yesterday", &b, &err),
                     DT_EINVALID);
}

/* ---- HTTP ---- */

static dt_status call(node *n, const char *path, const char *const *kv, json_t **out,
                      dt_err *err)
{
    http_api_request rq = {.method = "GET", .path = path};
    http_api_response rs;
    node_principal anon = {.kind = NODE_PRINCIPAL_ANONYMOUS, .max_marking = NODE_TLP_CLEAR};
    bool mna = false;
    dt_status rc;
    rq.who = &anon;
    memset(err, 0, sizeof *err); /* dt_fail keeps a first error */
    for (size_t i = 0; kv != NULL && kv[2 * i] != NULL; i++) {
        rq.keys[i] = kv[2 * i];
        rq.values[i] = kv[2 * i + 1];
        rq.nargs++;
    }
    http_api_response_init(&rs, 1 << 24);
    rc = http_api_dispatch(n, &rq, &rs, &mna, err);
    *out = rc == DT_OK ? json_loadb(rs.body.data, rs.body.len, 0, NULL) : NULL;
    if (rc == DT_OK)
        assert_non_null(*out);
    http_api_response_release(&rs);
    return rc;
}

static void test_http_api_ledger_endpoints(void **state)
{
    fixture *f = *state;
    json_t *j = NULL;
    dt_err err = {0};
    ledger_sth s;
    ledger_proof p;
    uint64_t idx;
    char *text;
    add_indicators(f->n, 0, 9);

    assert_int_equal(call(f->n, "ledger/sth", NULL, &j, &err), DT_OK);
    text = json_dumps(j, JSON_COMPACT);
    assert_int_equal(ledger_sth_parse(text, strlen(text), &s, &err), DT_OK);
    free(text);
    json_decref(j);
    assert_int_equal(ledger_sth_verify(&s, node_public_key(f->n), NULL), DT_OK);
    assert_int_equal(s.tree_size, 11);

    /* entries: leaf_input of each (only the hash of each object leaf for
     * an anonymous caller, who may read no collection), hashing to the
     * head's root */
    {
        const char *kv[] = {"start", "0", "end", "100", NULL};
        assert_int_equal(call(f->n, "ledger/entries", kv, &j, &err), DT_OK);
        json_t *list = json_object_get(j, "entries");
        assert_int_equal(json_array_size(list), 11); /* clipped to the log */
        uint8_t (*leaves)[32] = calloc(11, 32), root[32], raw[2048];
        for (size_t i = 0; i < 11; i++) {
            const char *b = json_string_value(json_object_get(json_array_get(list, i), "leaf_input"));
            const char *lh = json_string_value(json_object_get(json_array_get(list, i), "leaf_hash"));
            size_t n = 0;
            if (b == NULL) {
                assert_non_null(lh);
                assert_true(dt_base64_decode(lh, strlen(lh), leaves[i], 32, &n));
                assert_int_equal(n, 32);
                continue;
            }
            assert_true(dt_base64_decode(b, strlen(b), raw, sizeof raw, &n));
            ledger_hash_leaf(raw, n, leaves[i]);
        }
        ledger_root_naive((const uint8_t(*)[32])leaves, 11, root);
        assert_memory_equal(root, s.root, 32);
        /* inclusion by hash of leaf 5 against the current head */
        char b64[64];
        dt_base64_encode(leaves[5], 32, b64);
        const char *kv2[] = {"hash", b64, NULL};
        json_t *pj = NULL;
        dt_status hr = call(f->n, "ledger/proof/inclusion", kv2, &pj, &err);
        if (hr != DT_OK)
            fprintf(stderr, "%s: %s (%s)\n", err.where, err.msg, b64);
        assert_int_equal(hr, DT_OK);
        text = json_dumps(pj, JSON_COMPACT);
        assert_int_equal(ledger_inclusion_parse(text, strlen(text), &idx, &p, &err), DT_OK);
        assert_int_equal(idx, 5);
        assert_true(ledger_verify_inclusion(leaves[5], idx, s.tree_size, &p, s.root));
        free(text);
        json_decref(pj);
        /* the same by id and version, with an explicit tree size */
        const char *kv3[] = {"id", "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30003", "version",
                             "2024-01-01T00:00:00.000Z", "tree_size", "11", NULL};
        node_principal local;
        node_principal_local(&local);
        /* anonymous cannot read the AMBER collection: not found */
        assert_int_equal(call(f->n, "ledger/proof/inclusion", kv3, &pj, &err), DT_ENOTFOUND);
        /* a tree size beyond the log, and a leaf beyond the tree */
        const char *kv4[] = {"hash", b64, "tree_size", "12", NULL};
        assert_int_equal(call(f->n, "ledger/proof/inclusion", kv4, &pj, &err), DT_EINVALID);
        assert_non_null(strstr(err.msg, "beyond the log"));
        const char *kv5[] = {"hash", b64, "tree_size", "5", NULL};
        assert_int_equal(call(f->n, "ledger/proof/inclusion", kv5, &pj, &err), DT_EINVALID);
        free(leaves);
        json_decref(j);
    }
    /* bad arguments */
    {
        const char *bad_b64[] = {"hash", "not*base64", NULL};
        const char *short_b64[] = {"hash", "AAAA", NULL};
        const char *unknown[] = {"hash", "AAAA", "x", "1", NULL};
        const char *none[] = {NULL};
        const char *both[] = {"hash", "AAAA", "id", "x", NULL};
        assert_int_equal(call(f->n, "ledger/proof/inclusion", bad_b64, &j, &err), DT_EINVALID);
        assert_string_equal(err.where, "hash");
        assert_int_equal(call(f->n, "ledger/proof/inclusion", short_b64, &j, &err), DT_EINVALID);
        assert_int_equal(call(f->n, "ledger/proof/inclusion", unknown, &j, &err), DT_EINVALID);
        assert_int_equal(call(f->n, "ledger/proof/inclusion", none, &j, &err), DT_EINVALID);
        assert_int_equal(call(f->n, "ledger/proof/inclusion", both, &j, &err), DT_EINVALID);
        const char *zero[] = {"hash", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", NULL};
        assert_int_equal(call(f->n, "ledger/proof/inclusion", zero, &j, &err), DT_ENOTFOUND);
        const char *e1[] = {"start", "11", "end", "12", NULL};
        assert_int_equal(call(f->n, "ledger/entries", e1, &j, &err), DT_EINVALID);
        const char *e2[] = {"start", "3", "end", "2", NULL};
        assert_int_equal(call(f->n, "ledger/entries", e2, &j, &err), DT_EINVALID);
        const char *e3[] = {"start", "-1", "end", "2", NULL};
        assert_int_equal(call(f->n, "ledger/entries", e3, &j, &err), DT_EINVALID);
        const char *e4[] = {"start", "0", NULL};
        assert_int_equal(call(f->n, "ledger/entries", e4, &j, &err), DT_EINVALID);
        const char *c1[] = {"first", "5", "second", "4", NULL};
        assert_int_equal(call(f->n, "ledger/proof/consistency", c1, &j, &err), DT_EINVALID);
        const char *c2[] = {"first", "5", "second", "40", NULL};
        assert_int_equal(call(f->n, "ledger/proof/consistency", c2, &j, &err), DT_EINVALID);
        assert_non_null(strstr(err.msg, "beyond the log"));
    }
    /* consistency between an old head and the current one */
    {
        ledger_sth old = s;
        add_indicators(f->n, 20, 4);
        assert_int_equal(node_sth_current(f->n, &s, &err), DT_OK);
        const char *kv[] = {"first", "11", "second", "15", NULL};
        assert_int_equal(call(f->n, "ledger/proof/consistency", kv, &j, &err), DT_OK);
        text = json_dumps(j, JSON_COMPACT);
        assert_int_equal(ledger_consistency_parse(text, strlen(text), &p, &err), DT_OK);
        assert_true(ledger_verify_consistency(old.tree_size, s.tree_size, old.root, s.root, &p));
        free(text);
        json_decref(j);
    }
    /* the key document */
    assert_int_equal(call(f->n, "key", NULL, &j, &err), DT_OK);
    {
        char key[96];
        node_key_format(node_public_key(f->n), key, sizeof key);
        assert_string_equal(json_string_value(json_object_get(j, "public_key")), key);
        assert_int_equal(json_array_size(json_object_get(j, "rotations")), 0);
    }
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_node_sth_current_issues_only_on_growth, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_node_key_rotate_new_key_signs_heads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_node_ledger_verify_tombstones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_bundle_check_roundtrip_and_rejects, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_api_ledger_endpoints, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
