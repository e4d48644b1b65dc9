/* Unit tests for peer/ and the TAXII client's parsers: the registry over a
 * real SQLite store in a temporary directory (credentials never in the
 * description, suspect state and evidence, removal of everything), the
 * head checks over an in-memory ledger (rollback, fork, rewritten history,
 * wrong key), the rebuilt ledger leaf, the witnessed document, and canned
 * server answers for the client parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "peer/peer.h"
#include "stix/stix.h"
#include "taxii/taxii.h"

/* ---------------------------------------------------------------- fixture */

typedef struct fixture {
    char dir[64];
    char path[128];
    store *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    store_config cfg = {.backend = "sqlite"};
    snprintf(f->dir, sizeof f->dir, "/tmp/test_peer.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/detente.db", f->dir);
    cfg.path = f->path;
    if (store_open(&cfg, &f->s, NULL) != DT_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];
    store_close(f->s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void make_config(peer_config *c, const char *name)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->url, sizeof c->url, "https://%s.example:8470/taxii2/", name);
    for (int i = 0; i < 32; i++)
        c->key[i] = (uint8_t)(i + 1);
    c->collection_count = 1;
    snprintf(c->collections[0], PEER_COLL_MAX, "default");
    c->into_count = 1;
    snprintf(c->into[0].remote, PEER_COLL_MAX, "default");
    snprintf(c->into[0].local, PEER_COLL_MAX, "from-%s", name);
    c->max_marking = 2;
    c->added = 1700000000000;
}

/* ---------------------------------------------------------------- registry */

static void test_peer_name_valid_cases(void **state)
{
    (void)state;
    assert_true(peer_name_valid("cert-eu"));
    assert_true(peer_name_valid("node_b.2"));
    assert_false(peer_name_valid(""));
    assert_false(peer_name_valid("-x"));
    assert_false(peer_name_valid(".hidden"));
    assert_false(peer_name_valid("a/b"));
    assert_false(peer_name_valid("a b"));
}

static void test_peer_add_roundtrip(void **state)
{
    fixture *f = *state;
    peer_config c, got;
    peer_cred cred = {0};
    dt_err err = {0};
    make_config(&c, "node-b");
    snprintf(cred.user, sizeof cred.user, "alice");
    snprintf(cred.password, sizeof cred.password, "s3cret-pw");
    assert_int_equal(peer_add(f->s, &c, &cred, &err), DT_OK);
    assert_int_equal(peer_get(f->s, "node-b", &got, &err), DT_OK);
    assert_string_equal(got.url, c.url);
    assert_memory_equal(got.key, c.key, 32);
    assert_int_equal(got.collection_count, 1);
    assert_string_equal(got.collections[0], "default");
    assert_int_equal(got.into_count, 1);
    assert_string_equal(got.into[0].local, "from-node-b");
    assert_int_equal(got.max_marking, 2);
    memset(&cred, 0, sizeof cred);
    assert_int_equal(peer_cred_get(f->s, "node-b", &cred, &err), DT_OK);
    assert_string_equal(cred.user, "alice");
    assert_string_equal(cred.password, "s3cret-pw");
    /* the same name twice is a conflict */
    assert_int_equal(peer_add(f->s, &c, NULL, &err), DT_ECONFLICT);
}

static void test_peer_add_bad_input(void **state)
{
    fixture *f = *state;
    peer_config c;
    make_config(&c, "x");
    snprintf(c.name, sizeof c.name, "bad name");
    assert_int_equal(peer_add(f->s, &c, NULL, NULL), DT_EARG);
    make_config(&c, "x");
    snprintf(c.url, sizeof c.url, "ftp://x/");
    assert_int_equal(peer_add(f->s, &c, NULL, NULL), DT_EARG);
    assert_int_equal(peer_get(f->s, "x", &c, NULL), DT_ENOTFOUND);
}

static void test_peer_describe_hides_credentials(void **state)
{
    fixture *f = *state;
    peer_config c;
    peer_cred cred = {0};
    json_t *j = NULL;
    char *text;
    make_config(&c, "node-c");
    snprintf(cred.token, sizeof cred.token, "tok-ABCDEF-very-secret");
    assert_int_equal(peer_add(f->s, &c, &cred, NULL), DT_OK);
    assert_int_equal(peer_describe(f->s, &c, &j, NULL), DT_OK);
    text = json_dumps(j, 0);
    assert_null(strstr(text, "tok-ABCDEF"));
    assert_string_equal(json_string_value(json_object_get(j, "auth")), "token");
    assert_string_equal(json_string_value(json_object_get(j, "state")), "ok");
    assert_true(json_is_null(json_object_get(j, "last_sth")));
    free(text);
    json_decref(j);
}

static void test_peer_list_sorted(void **state)
{
    fixture *f = *state;
    peer_config c, *all = NULL;
    size_t n = 0;
    make_config(&c, "zeta");
    assert_int_equal(peer_add(f->s, &c, NULL, NULL), DT_OK);
    make_config(&c, "alpha");
    assert_int_equal(peer_add(f->s, &c, NULL, NULL), DT_OK);
    assert_int_equal(peer_list(f->s, &all, &n, NULL), DT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(all[0].name, "alpha");
    assert_string_equal(all[1].name, "zeta");
    dt_free(all);
}

static void test_peer_mark_suspect_keeps_evidence(void **state)
{
    fixture *f = *state;
    peer_config c;
    peer_state st;
    json_t *ev = NULL, *e = json_pack("{s:s, s:s}", "first", "sth-1", "second", "sth-2");
    make_config(&c, "node-a");
    assert_int_equal(peer_add(f->s, &c, NULL, NULL), DT_OK);
    assert_int_equal(peer_mark_suspect(f->s, "node-a", "inconsistent-sth", "history rewritten",
                                       e, NULL),
                     DT_OK);
    json_decref(e);
    assert_int_equal(peer_state_get(f->s, "node-a", &st, NULL), DT_OK);
    assert_int_equal(st.state, PEER_SUSPECT);
    assert_string_equal(st.reason, "history rewritten");
    assert_true(st.since > 0);
    assert_int_equal(peer_evidence_list(f->s, "node-a", &ev, NULL), DT_OK);
    assert_int_equal(json_array_size(ev), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "second")),
                        "sth-2");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "kind")),
                        "inconsistent-sth");
    json_decref(ev);
    /* trust clears the state but keeps the evidence */
    assert_int_equal(peer_trust(f->s, "node-a", NULL), DT_OK);
    assert_int_equal(peer_state_get(f->s, "node-a", &st, NULL), DT_OK);
    assert_int_equal(st.state, PEER_OK);
    assert_int_equal(peer_evidence_list(f->s, "node-a", &ev, NULL), DT_OK);
    assert_int_equal(json_array_size(ev), 1);
    json_decref(ev);
}

static void test_peer_remove_everything(void **state)
{
    fixture *f = *state;
    peer_config c;
    peer_cred cred = {0};
    char cur[DT_TIME_LEN];
    json_t *ev = NULL;
    make_config(&c, "gone");
    snprintf(cred.user, sizeof cred.user, "u");
    assert_int_equal(peer_add(f->s, &c, &cred, NULL), DT_OK);
    assert_int_equal(peer_cursor_put(f->s, "gone", "default", "2026-01-01T00:00:00.000001Z",
                                     NULL),
                     DT_OK);
    assert_int_equal(peer_mark_suspect(f->s, "gone", "x", "y", NULL, NULL), DT_OK);
    assert_int_equal(peer_cursor_get(f->s, "gone", "default", cur, NULL), DT_OK);
    assert_string_equal(cur, "2026-01-01T00:00:00.000001Z");
    /* a cursor never moves back */
    assert_int_equal(peer_cursor_put(f->s, "gone", "default", "2025-12-31T00:00:00.000001Z",
                                     NULL),
                     DT_OK);
    assert_int_equal(peer_cursor_get(f->s, "gone", "default", cur, NULL), DT_OK);
    assert_string_equal(cur, "2026-01-01T00:00:00.000001Z");
    assert_int_equal(peer_cursor_put(f->s, "gone", "default", "2026-01-01T00:00:00.000002Z",
                                     NULL),
                     DT_OK);
    assert_int_equal(peer_cursor_get(f->s, "gone", "default", cur, NULL), DT_OK);
    assert_string_equal(cur, "2026-01-01T00:00:00.000002Z");
    assert_int_equal(peer_remove(f->s, "gone", NULL), DT_OK);
    assert_int_equal(peer_get(f->s, "gone", &c, NULL), DT_ENOTFOUND);
    assert_int_equal(peer_cursor_get(f->s, "gone", "default", cur, NULL), DT_OK);
    assert_string_equal(cur, "");
    assert_int_equal(peer_cred_get(f->s, "gone", &cred, NULL), DT_OK);
    assert_string_equal(cred.user, "");
    assert_int_equal(peer_evidence_list(f->s, "gone", &ev, NULL), DT_OK);
    assert_int_equal(json_array_size(ev), 0);
    json_decref(ev);
    assert_int_equal(peer_remove(f->s, "gone", NULL), DT_ENOTFOUND);
}

/* ---------------------------------------------------------------- heads */

typedef struct keys {
    uint8_t pk[32], sk[64];
} keys;

static void head_of(ledger_mem *m, const keys *k, ledger_sth *out)
{
    uint8_t root[32];
    assert_int_equal(ledger_tree_root(ledger_mem_node, m, m->size, root, NULL), DT_OK);
    assert_int_equal(ledger_sth_make(m->size, 1700000000000 + m->size, root, k->sk, out, NULL),
                     DT_OK);
}

static void grow(ledger_mem *m, const char *tag, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char leaf[64];
        uint8_t h[32];
        int len = snprintf(leaf, sizeof leaf, "%s-%zu", tag, (size_t)m->size);
        ledger_hash_leaf(leaf, (size_t)len, h);
        assert_int_equal(ledger_mem_append(m, h, NULL), DT_OK);
    }
}

static void test_peer_check_head_cases(void **state)
{
    keys k, other;
    ledger_mem a, forked;
    ledger_sth h5, h9, f5, f9, bad;
    ledger_proof p;
    (void)state;
    crypto_sign_keypair(k.pk, k.sk);
    crypto_sign_keypair(other.pk, other.sk);
    ledger_mem_init(&a);
    ledger_mem_init(&forked);
    grow(&a, "x", 5);
    head_of(&a, &k, &h5);
    /* a copy that rewrites leaf 2 and then grows the same way */
    grow(&forked, "x", 2);
    grow(&forked, "rewritten", 1);
    grow(&forked, "x", 2);
    head_of(&forked, &k, &f5);
    grow(&a, "x", 4);
    head_of(&a, &k, &h9);
    grow(&forked, "x", 4);
    head_of(&forked, &k, &f9);

    assert_int_equal(peer_check_head(NULL, &h5, NULL, k.pk), PEER_CHECK_OK);
    assert_int_equal(peer_check_head(NULL, &h5, NULL, other.pk), PEER_CHECK_BAD_SIGNATURE);
    bad = h5;
    bad.tree_size++;
    assert_int_equal(peer_check_head(NULL, &bad, NULL, k.pk), PEER_CHECK_BAD_SIGNATURE);

    assert_int_equal(ledger_tree_prove_consistency(ledger_mem_node, &a, 5, 9, &p, NULL), DT_OK);
    assert_int_equal(peer_check_head(&h5, &h9, &p, k.pk), PEER_CHECK_OK);
    assert_int_equal(peer_check_head(&h5, &h5, NULL, k.pk), PEER_CHECK_OK);
    assert_int_equal(peer_check_head(&h9, &h5, NULL, k.pk), PEER_CHECK_ROLLBACK);
    assert_int_equal(peer_check_head(&h5, &f5, NULL, k.pk), PEER_CHECK_FORK);
    /* the forked log cannot prove it extends what we saw before */
    assert_int_equal(ledger_tree_prove_consistency(ledger_mem_node, &forked, 5, 9, &p, NULL),
                     DT_OK);
    assert_int_equal(peer_check_head(&h5, &f9, &p, k.pk), PEER_CHECK_INCONSISTENT);
    assert_int_equal(peer_check_head(&h5, &f9, NULL, k.pk), PEER_CHECK_INCONSISTENT);
    assert_string_not_equal(peer_verdict_text(PEER_CHECK_FORK), "ok");
    ledger_mem_release(&a);
    ledger_mem_release(&forked);
}

static void test_peer_sth_store_roundtrip(void **state)
{
    fixture *f = *state;
    keys k;
    ledger_mem m;
    ledger_sth h, got;
    int64_t at = 0;
    crypto_sign_keypair(k.pk, k.sk);
    ledger_mem_init(&m);
    grow(&m, "y", 3);
    head_of(&m, &k, &h);
    assert_int_equal(peer_sth_get(f->s, "p", &got, NULL, NULL), DT_ENOTFOUND);
    assert_int_equal(peer_sth_put(f->s, "p", &h, NULL), DT_OK);
    assert_int_equal(peer_sth_get(f->s, "p", &got, &at, NULL), DT_OK);
    assert_int_equal(got.tree_size, 3);
    assert_memory_equal(got.root, h.root, 32);
    assert_memory_equal(got.signature, h.signature, 64);
    assert_true(at > 0);
    ledger_mem_release(&m);
}

/* ---------------------------------------------------------------- leaf */

static void test_peer_leaf_build_format(void **state)
{
    json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "indicator", "id",
                            "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "spec_version",
                            "2.1", "created", "2016-04-06T20:03:48.000Z", "modified",
                            "2016-04-06T20:03:48.000Z");
    dt_buf b;
    char want[512], hex[65];
    uint8_t sha[32];
    dt_buf jcs;
    (void)state;
    dt_buf_init(&jcs, 1 << 20);
    assert_int_equal(stix_jcs(obj, &jcs, NULL), DT_OK);
    dt_sha256(jcs.data, jcs.len, sha);
    dt_hex_encode(sha, 32, hex);
    snprintf(want, sizeof want,
             "{\"date_added\":\"2026-11-26T10:00:00.123456Z\",\"id\":\"indicator--8e2e2d2b-17d4-"
             "4cbf-938f-98ee46b3cd3f\",\"modified\":\"2016-04-06T20:03:48.000000000Z\","
             "\"object_sha256\":\"%s\",\"signer\":\"identity--1\"}",
             hex);
    dt_buf_init(&b, 1 << 20);
    assert_int_equal(peer_leaf_build(obj, "2026-11-26T10:00:00.123456Z", "identity--1", &b, NULL),
                     DT_OK);
    assert_string_equal(b.data, want);
    dt_buf_reset(&b);
    assert_int_equal(peer_leaf_build(obj, "2026-11-26T10:00:00.123456Z", NULL, &b, NULL), DT_OK);
    assert_non_null(strstr(b.data, "\"signer\":null"));
    dt_buf_reset(&b);
    assert_int_equal(peer_leaf_build(obj, "yesterday", NULL, &b, NULL), DT_EINVALID);
    dt_buf_release(&b);
    dt_buf_release(&jcs);
    json_decref(obj);
}

/* ---------------------------------------------------------------- witnessed */

static void test_peer_witnessed_sign_parse(void **state)
{
    keys k;
    dt_buf b;
    json_t *heads = json_pack("[{s:s, s:s}]", "peer", "node-a", "public_key", "ed25519:AAAA");
    json_t *doc = NULL;
    char *tampered, *at;
    (void)state;
    crypto_sign_keypair(k.pk, k.sk);
    dt_buf_init(&b, 1 << 20);
    assert_int_equal(
        peer_witnessed_sign(heads, "identity--w", k.pk, k.sk, 1700000000000, &b, NULL), DT_OK);
    assert_int_equal(peer_witnessed_parse(b.data, b.len, &doc, NULL), DT_OK);
    assert_string_equal(json_string_value(json_object_get(doc, "witness")), "identity--w");
    assert_int_equal(json_array_size(json_object_get(doc, "heads")), 1);
    json_decref(doc);
    /* change one head's peer name: the signature no longer holds */
    tampered = strdup(b.data);
    at = strstr(tampered, "node-a");
    assert_non_null(at);
    at[5] = 'b';
    assert_int_equal(peer_witnessed_parse(tampered, strlen(tampered), &doc, NULL), DT_ESIG);
    assert_null(doc);
    assert_int_equal(peer_witnessed_parse("{\"heads\":[]}", 12, &doc, NULL), DT_EINVALID);
    assert_int_equal(peer_witnessed_parse("<html>", 6, &doc, NULL), DT_EPARSE);
    free(tampered);
    dt_buf_release(&b);
    json_decref(heads);
}

/* ---------------------------------------------------------------- client parsers */

static void test_taxii_discovery_parse_cases(void **state)
{
    char root[256];
    const char *o = "https://b.example:8470";
    (void)state;
    assert_int_equal(taxii_discovery_parse("", 0, o, root, sizeof root, NULL), DT_EPARSE);
    {
        const char *d = "{\"title\":\"B\",\"default\":\"https://b.example:8470/api/\"}";
        assert_int_equal(taxii_discovery_parse(d, strlen(d), o, root, sizeof root, NULL), DT_OK);
        assert_string_equal(root, "https://b.example:8470/api/");
    }
    {
        const char *d = "{\"title\":\"B\",\"api_roots\":[\"/api2\"]}";
        assert_int_equal(taxii_discovery_parse(d, strlen(d), o, root, sizeof root, NULL), DT_OK);
        assert_string_equal(root, "https://b.example:8470/api2/");
    }
    {
        const char *d = "{\"title\":\"B\"}";
        dt_err err = {0};
        assert_int_equal(taxii_discovery_parse(d, strlen(d), o, root, sizeof root, &err),
                         DT_EINVALID);
        assert_non_null(strstr(err.msg, "API root"));
    }
    {
        const char *d = "<html><body>It works!</body></html>";
        assert_int_equal(taxii_discovery_parse(d, strlen(d), o, root, sizeof root, NULL),
                         DT_EPARSE);
    }
    {
        const char *d = "[1,2]";
        assert_int_equal(taxii_discovery_parse(d, strlen(d), o, root, sizeof root, NULL),
                         DT_EINVALID);
    }
}

static void test_taxii_collections_parse_cases(void **state)
{
    taxii_collection_info *cs = NULL;
    size_t n = 99;
    const char *ok = "{\"collections\":[{\"id\":\"default\",\"title\":\"Default\",\"can_read\":true,"
                     "\"can_write\":false,\"media_types\":[]},{\"id\":\"x\",\"title\":\"X\","
                     "\"can_read\":false,\"can_write\":true}]}";
    const char *bad = "{\"collections\":[{\"id\":\"default\",\"can_read\":\"yes\"}]}";
    (void)state;
    assert_int_equal(taxii_collections_parse(ok, strlen(ok), &cs, &n, NULL), DT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(cs[0].id, "default");
    assert_true(cs[0].can_read);
    assert_false(cs[0].can_write);
    assert_true(cs[1].can_write);
    dt_free(cs);
    assert_int_equal(taxii_collections_parse("{}", 2, &cs, &n, NULL), DT_OK);
    assert_int_equal(n, 0);
    assert_null(cs);
    assert_int_equal(taxii_collections_parse(bad, strlen(bad), &cs, &n, NULL), DT_EINVALID);
    assert_null(cs);
}

static void test_taxii_envelope_parse_cases(void **state)
{
    json_t *objs = NULL;
    bool more = true;
    char next[TAXII_NEXT_CAP];
    const char *ok = "{\"more\":true,\"next\":\"abc\",\"objects\":[{\"type\":\"indicator\","
                     "\"id\":\"indicator--1\"}]}";
    const char *nonobj = "{\"objects\":[{\"type\":\"indicator\"}]}";
    const char *dup = "{\"more\":true,\"more\":false}";
    (void)state;
    assert_int_equal(taxii_envelope_parse(ok, strlen(ok), &objs, &more, next, NULL), DT_OK);
    assert_true(more);
    assert_string_equal(next, "abc");
    assert_int_equal(json_array_size(objs), 1);
    json_decref(objs);
    assert_int_equal(taxii_envelope_parse("{\"more\":false}", 14, &objs, &more, next, NULL),
                     DT_OK);
    assert_false(more);
    assert_int_equal(json_array_size(objs), 0);
    json_decref(objs);
    assert_int_equal(taxii_envelope_parse(nonobj, strlen(nonobj), &objs, &more, next, NULL),
                     DT_EINVALID);
    assert_null(objs);
    assert_int_equal(taxii_envelope_parse(dup, strlen(dup), &objs, &more, next, NULL), DT_EPARSE);
    assert_int_equal(taxii_envelope_parse("{\"more\":1}", 10, &objs, &more, next, NULL),
                     DT_EINVALID);
}

static void test_taxii_manifest_parse_cases(void **state)
{
    taxii_manifest_entry *es = NULL;
    size_t n = 0;
    bool more = true;
    const char *ok = "{\"more\":false,\"objects\":[{\"id\":\"indicator--1\",\"date_added\":"
                     "\"2026-11-26T10:00:00.123456Z\",\"version\":\"2016-04-06T20:03:48.000Z\","
                     "\"media_type\":\"application/stix+json;version=2.1\"}]}";
    const char *bad = "{\"objects\":[{\"id\":\"indicator--1\",\"date_added\":\"never\","
                      "\"version\":\"2016-04-06T20:03:48.000Z\"}]}";
    (void)state;
    assert_int_equal(taxii_manifest_parse(ok, strlen(ok), &es, &n, &more, NULL), DT_OK);
    assert_int_equal(n, 1);
    assert_false(more);
    assert_string_equal(es[0].date_added, "2026-11-26T10:00:00.123456Z");
    dt_free(es);
    assert_int_equal(taxii_manifest_parse(bad, strlen(bad), &es, &n, &more, NULL), DT_EINVALID);
    assert_null(es);
}

static void test_taxii_status_parse_cases(void **state)
{
    taxii_status_info st;
    const char *ok = "{\"id\":\"2d086da7-4bdc-4f91-900e-d77486753710\",\"status\":\"complete\","
                     "\"total_count\":3,\"success_count\":2,\"failure_count\":1,"
                     "\"pending_count\":0}";
    const char *bad = "{\"id\":\"x\",\"status\":\"done\"}";
    (void)state;
    assert_int_equal(taxii_status_parse(ok, strlen(ok), &st, NULL), DT_OK);
    assert_int_equal(st.total, 3);
    assert_int_equal(st.failure, 1);
    assert_int_equal(taxii_status_parse(bad, strlen(bad), &st, NULL), DT_EINVALID);
}

static void test_taxii_client_expect_cases(void **state)
{
    taxii_reply r;
    dt_err err = {0};
    (void)state;
    taxii_reply_init(&r);
    r.status = 200;
    snprintf(r.content_type, sizeof r.content_type, "%s", "text/html; charset=utf-8");
    assert_int_equal(taxii_client_expect(&r, "u", "application/taxii+json", &err), DT_EINVALID);
    assert_non_null(strstr(err.msg, "not a TAXII answer"));
    snprintf(r.content_type, sizeof r.content_type, "%s", TAXII_MEDIA_TYPE);
    assert_int_equal(taxii_client_expect(&r, "u", "application/taxii+json", NULL), DT_OK);
    r.status = 401;
    assert_int_equal(taxii_client_expect(&r, "u", NULL, NULL), DT_EDENIED);
    r.status = 404;
    assert_int_equal(taxii_client_expect(&r, "u", NULL, NULL), DT_ENOTFOUND);
    r.status = 500;
    assert_int_equal(dt_buf_puts(&r.body, "{\"title\":\"boom\"}", NULL), DT_OK);
    memset(&err, 0, sizeof err);
    assert_int_equal(taxii_client_expect(&r, "u", NULL, &err), DT_ENET);
    assert_non_null(strstr(err.msg, "boom"));
    taxii_reply_release(&r);
}

static void test_taxii_client_new_rejects_userinfo(void **state)
{
    taxii_client *c = NULL;
    dt_err err = {0};
    (void)state;
    assert_int_equal(taxii_client_new("https://bob:pw@b.example/taxii2/", NULL, &c, &err),
                     DT_EARG);
    assert_null(c);
    assert_null(strstr(err.msg, "pw"));
    assert_int_equal(taxii_client_new("file:///etc/passwd", NULL, &c, NULL), DT_EARG);
    assert_int_equal(taxii_client_new("http://127.0.0.1:1/taxii2/", NULL, &c, NULL), DT_OK);
    assert_string_equal(taxii_client_origin(c), "http://127.0.0.1:1");
    taxii_client_free(c);
}

static void test_taxii_client_request_refused(void **state)
{
    taxii_client *c = NULL;
    taxii_client_opts o = {.user = "u", .password = "hunter2", .retries = 1, .backoff_ms = 1,
                           .connect_timeout_s = 2};
    taxii_reply r;
    dt_err err = {0};
    (void)state;
    /* port 1 on loopback: nothing listens, so a transport error that
     * names the URL and never the password */
    assert_int_equal(taxii_client_new("http://127.0.0.1:1/taxii2/", &o, &c, NULL), DT_OK);
    taxii_reply_init(&r);
    assert_int_equal(taxii_client_request(c, "GET", "/taxii2/", NULL, NULL, NULL, 0, &r, &err),
                     DT_ENET);
    assert_non_null(strstr(err.where, "127.0.0.1:1"));
    assert_null(strstr(err.msg, "hunter2"));
    assert_null(strstr(err.where, "hunter2"));
    taxii_reply_release(&r);
    taxii_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peer_name_valid_cases),
        cmocka_unit_test_setup_teardown(test_peer_add_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_add_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_describe_hides_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_list_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_mark_suspect_keeps_evidence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_remove_everything, setup, teardown),
        cmocka_unit_test(test_peer_check_head_cases),
        cmocka_unit_test_setup_teardown(test_peer_sth_store_roundtrip, setup, teardown),
        cmocka_unit_test(test_peer_leaf_build_format),
        cmocka_unit_test(test_peer_witnessed_sign_parse),
        cmocka_unit_test(test_taxii_discovery_parse_cases),
        cmocka_unit_test(test_taxii_collections_parse_cases),
        cmocka_unit_test(test_taxii_envelope_parse_cases),
        cmocka_unit_test(test_taxii_manifest_parse_cases),
        cmocka_unit_test(test_taxii_status_parse_cases),
        cmocka_unit_test(test_taxii_client_expect_cases),
        cmocka_unit_test(test_taxii_client_new_rejects_userinfo),
        cmocka_unit_test(test_taxii_client_request_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
