/* Unit tests for node/: init and open, the door in (validation, signing,
 * versions, atomicity, ledger leaves), the door out (grants, markings),
 * deletion with tombstones, signatures. Each test gets a fresh data
 * directory under /tmp. */
#define _XOPEN_SOURCE 700 /* nftw, in node_fixture.h */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node/node.h"
#include "stix/stix.h"

#define NODE_FIXTURE_NAME "party-test"
#include "node_fixture.h"

static const char *indicator(const char *uuid_tail, const char *modified, const char *value)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
             "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3%s\","
             "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"%s\","
             "\"pattern\":\"[domain-name:value = '%s']\",\"pattern_type\":\"stix\","
             "\"valid_from\":\"2024-01-01T00:00:00Z\"}",
             uuid_tail, modified, value);
    return buf;
}

static void ingest(fixture *f, const char *text, node_ingest_opts *o, node_ingest_result *res,
                   dt_status expect)
{
    node_principal local;
    dt_err err = {0};
    node_principal_local(&local);
    dt_status rc = node_ingest_text(f->n, &local, o, text, strlen(text), res, &err);
    if (rc != expect)
        fprintf(stderr, "ingest: %s: %s: %s\n", dt_status_name(rc), err.where, err.msg);
    assert_int_equal(rc, expect);
}

static uint64_t ledger_size(fixture *f)
{
    uint64_t size = 0;
    assert_int_equal(store_ledger_size(node_store(f->n), NULL, &size, NULL), DT_OK);
    return size;
}

static void test_node_init_key_mode(void **state)
{
    fixture *f = *state;
    char path[400];
    struct stat st;
    node *n2 = NULL;
    dt_err err = {0};
    snprintf(path, sizeof path, "%s/key.secret", f->home);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(node_init(f->home, NULL, &err), DT_ECONFLICT);
    assert_int_equal(chmod(path, 0644), 0);
    dt_err_clear(&err);
    assert_int_equal(node_open(f->home, &n2, &err), DT_EDENIED);
    assert_non_null(strstr(err.msg, "chmod 600"));
    assert_null(n2);
    assert_int_equal(chmod(path, 0600), 0);
    /* init ledgered the identity and the extension definition */
    assert_int_equal(ledger_size(f), 2);
    assert_int_equal(strncmp(node_identity_id(f->n), "identity--", 10), 0);
}

static void test_node_ingest_signs_and_ledgers(void **state)
{
    fixture *f = *state;
    node_ingest_opts o = {.collection = "default", .sign = true};
    node_ingest_result res = {0};
    uint64_t before = ledger_size(f);
    ingest(f, indicator("0001", "2024-01-01T00:00:00.000Z", "evil.example"), &o, &res, DT_OK);
    assert_int_equal(res.added, 1);
    assert_int_equal(res.rejected, 0);
    node_ingest_result_release(&res);
    assert_int_equal(ledger_size(f), before + 1);

    /* the stored copy carries a signature by this node that verifies */
    const char *ids[] = {"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30001"};
    store_query q = {.collection = "default", .ids = ids, .id_count = 1, .max_marking = -1,
                     .limit = 10, .with_json = true};
    store_page page;
    node_principal local;
    node_principal_local(&local);
    assert_int_equal(node_query(f->n, &local, &q, &page, NULL), DT_OK);
    assert_int_equal(page.count, 1);
    assert_string_equal(page.rows[0].signer, node_identity_id(f->n));
    json_t *obj = json_loadb(page.rows[0].json, page.rows[0].json_len, 0, NULL);
    assert_non_null(obj);
    node_signature sig;
    assert_int_equal(node_object_verify(obj, &sig, NULL), DT_OK);
    assert_true(sig.present);
    assert_memory_equal(sig.public_key, node_public_key(f->n), 32);
    /* any change breaks it */
    json_object_set_new(obj, "name", json_string("tampered"));
    dt_err err = {0};
    assert_int_equal(node_object_verify(obj, &sig, &err), DT_ESIG);
    json_decref(obj);
    store_page_release(&page);

    /* the same version again is a no-op: no new leaf */
    ingest(f, indicator("0001", "2024-01-01T00:00:00.000Z", "evil.example"), &o, &res, DT_OK);
    assert_int_equal(res.duplicates, 1);
    assert_int_equal(res.added, 0);
    node_ingest_result_release(&res);
    assert_int_equal(ledger_size(f), before + 1);
    /* a new version is a new leaf */
    ingest(f, indicator("0001", "2024-02-01T00:00:00.000Z", "evil.example"), &o, &res, DT_OK);
    assert_int_equal(res.added, 1);
    node_ingest_result_release(&res);
    assert_int_equal(ledger_size(f), before + 2);
}

static void test_node_ingest_rejects_with_reasons(void **state)
{
    fixture *f = *state;
    node_ingest_opts o = {.collection = "default", .sign = true};
    node_ingest_result res = {0};
    char text[4096];
    snprintf(text, sizeof text,
             "{\"type\":\"bundle\",\"id\":\"bundle--0b4f3b8a-3b5c-4c43-8d0a-2f6f2a2f1e11\","
             "\"objects\":[%s,",
             indicator("0002", "2024-01-01T00:00:00.000Z", "a.example"));
    size_t len = strlen(text);
    /* an indicator whose pattern does not parse */
    snprintf(text + len, sizeof text - len, "%s]}",
             indicator("0003", "2024-01-01T00:00:00.000Z", "b.example' AND"));
    ingest(f, text, &o, &res, DT_OK);
    assert_int_equal(res.added, 1);
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.items[1].outcome, NODE_ITEM_REJECTED);
    assert_string_equal(res.items[1].where, "objects[1]");
    assert_non_null(strstr(res.items[1].msg, "pattern"));
    node_ingest_result_release(&res);

    /* atomic: the same input stores nothing */
    uint64_t before = ledger_size(f);
    snprintf(text, sizeof text, "[%s,", indicator("0004", "2024-01-01T00:00:00.000Z", "c.example"));
    len = strlen(text);
    snprintf(text + len, sizeof text - len, "{\"type\":\"indicator\"}]");
    o.atomic = true;
    ingest(f, text, &o, &res, DT_EINVALID);
    node_ingest_result_release(&res);
    assert_int_equal(ledger_size(f), before);

    /* not JSON at all: an error for the whole input, with line and column */
    o.atomic = false;
    node_principal local;
    dt_err err = {0};
    node_principal_local(&local);
    assert_int_equal(node_ingest_text(f->n, &local, &o, "{\"type\": ", 9, &res, &err), DT_EPARSE);
    assert_non_null(strstr(err.where, "line"));
    node_ingest_result_release(&res);
}

static void test_node_ingest_conflicting_body(void **state)
{
    fixture *f = *state;
    node_ingest_opts o = {.collection = "default", .sign = true};
    node_ingest_result res = {0};
    ingest(f, indicator("0005", "2024-01-01T00:00:00.000Z", "d.example"), &o, &res, DT_OK);
    node_ingest_result_release(&res);
    ingest(f, indicator("0005", "2024-01-01T00:00:00.000Z", "other.example"), &o, &res, DT_OK);
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.items[0].status, DT_ECONFLICT);
    node_ingest_result_release(&res);
}

static void test_node_ingest_unsigned_from_peer(void **state)
{
    fixture *f = *state;
    node_ingest_opts o = {.collection = "from-peer", .sign = false, .peer = "p"};
    node_ingest_result res = {0};
    node_principal peer = {.kind = NODE_PRINCIPAL_PEER, .name = "p", .max_marking = NODE_TLP_AMBER};
    dt_err err = {0};
    const char *text = indicator("0006", "2024-01-01T00:00:00.000Z", "e.example");
    assert_int_equal(node_ingest_text(f->n, &peer, &o, text, strlen(text), &res, &err), DT_OK);
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.items[0].status, DT_ESIG);
    node_ingest_result_release(&res);
    o.allow_unsigned = true;
    assert_int_equal(node_ingest_text(f->n, &peer, &o, text, strlen(text), &res, &err), DT_OK);
    assert_int_equal(res.added, 1);
    node_ingest_result_release(&res);
}

/* ---- concurrent callers (group commit) ----
 * cmocka's asserts are not for other threads: callers only record what
 * they got, the test thread checks it. */

#define CALLERS 8
#define PER_CALLER 30

typedef struct caller {
    node *n;
    int k;
    bool atomic, in_place, fail_hook;
    json_t *objs[PER_CALLER + 2];
    size_t count;
    node_ingest_result res;
    dt_status rc;
    dt_err err;
    int hooks;            /* times its hook ran */
    size_t hook_added;    /* what the hook saw */
    /* for the hook that holds the writer (test_node_ingest_group_fails_together) */
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    bool *in_writer;
} caller;

static json_t *caller_object(int k, int i, const char *pattern)
{
    char text[1024], tail[16], value[64];
    snprintf(tail, sizeof tail, "%02x%02x", k, i);
    snprintf(value, sizeof value, "c%d-%d.example", k, i);
    snprintf(text, sizeof text, "%s", indicator(tail, "2024-01-01T00:00:00.000Z", value));
    json_t *o = json_loads(text, 0, NULL);
    if (o != NULL && pattern != NULL)
        json_object_set_new(o, "pattern", json_string(pattern));
    return o;
}

static dt_status caller_hook(void *ctx, store_txn *t, const node_ingest_result *res, dt_err *err)
{
    caller *c = ctx;
    char key[32], val[64];
    c->hooks++;
    c->hook_added = res->added;
    if (c->in_writer != NULL) { /* hold the writer while the others queue up */
        pthread_mutex_lock(c->mu);
        *c->in_writer = true;
        pthread_cond_broadcast(c->cv);
        pthread_mutex_unlock(c->mu);
        struct timespec ts = {0, 300 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (c->fail_hook)
        return dt_fail(err, DT_EIO, "hook", "refused by the test");
    snprintf(key, sizeof key, "test/caller-%d", c->k);
    snprintf(val, sizeof val, "%zu %zu %zu", res->added, res->rejected, res->count);
    return store_kv_put(t, key, val, err);
}

static void *caller_main(void *arg)
{
    caller *c = arg;
    node_principal local;
    const char *wheres[PER_CALLER + 2];
    char names[PER_CALLER + 2][32];
    node_ingest_opts o = {.collection = "default", .sign = true, .atomic = c->atomic,
                          .in_place = c->in_place, .on_stored = caller_hook,
                          .on_stored_ctx = c};
    for (size_t i = 0; i < c->count; i++) {
        snprintf(names[i], sizeof names[i], "objects[%zu]", i);
        wheres[i] = names[i];
    }
    node_principal_local(&local);
    c->rc = node_ingest_json(c->n, &local, &o, c->objs, wheres, c->count, &c->res, &c->err);
    return NULL;
}

static void caller_release(caller *c)
{
    for (size_t i = 0; i < c->count; i++)
        json_decref(c->objs[i]);
    node_ingest_result_release(&c->res);
}

static bool is_stored(fixture *f, int k, int i)
{
    char id[80];
    snprintf(id, sizeof id, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3%02x%02x", k, i);
    const char *ids[] = {id};
    store_query q = {.collection = "default", .ids = ids, .id_count = 1, .max_marking = -1,
                     .limit = 10};
    store_page page;
    node_principal local;
    node_principal_local(&local);
    assert_int_equal(node_query(f->n, &local, &q, &page, NULL), DT_OK);
    bool held = page.count == 1;
    assert_true(page.count <= 1);
    store_page_release(&page);
    return held;
}

static void test_node_ingest_concurrent_callers(void **state)
{
    fixture *f = *state;
    caller cs[CALLERS];
    pthread_t th[CALLERS];
    uint64_t before = ledger_size(f);
    size_t want_added = 0;
    memset(cs, 0, sizeof cs);
    for (int k = 0; k < CALLERS; k++) {
        caller *c = &cs[k];
        c->n = f->n;
        c->k = k;
        c->atomic = k == 0;   /* with a rejected object: stores nothing */
        c->in_place = k % 3 == 1;
        for (int i = 0; i < PER_CALLER; i++)
            c->objs[c->count++] = caller_object(k, i, NULL);
        if (k % 2 == 0) /* a pattern that does not parse */
            c->objs[c->count++] = caller_object(k, PER_CALLER, "[domain-name:value = ]");
        c->objs[c->count++] = caller_object(99, 0, NULL); /* the same object from everyone */
    }
    for (int k = 0; k < CALLERS; k++)
        assert_int_equal(pthread_create(&th[k], NULL, caller_main, &cs[k]), 0);
    for (int k = 0; k < CALLERS; k++)
        pthread_join(th[k], NULL);

    size_t shared_added = 0;
    for (int k = 0; k < CALLERS; k++) {
        caller *c = &cs[k];
        if (c->atomic) {
            assert_int_equal(c->rc, DT_EINVALID);
            assert_int_equal(c->hooks, 0);
            for (int i = 0; i < PER_CALLER; i++)
                assert_false(is_stored(f, k, i));
            continue;
        }
        assert_int_equal(c->rc, DT_OK);
        assert_int_equal(c->hooks, 1);
        assert_int_equal(c->res.count, c->count);
        size_t bad = k % 2 == 0 ? 1 : 0;
        assert_int_equal(c->res.rejected, bad);
        assert_int_equal(c->res.added + c->res.duplicates, PER_CALLER + 1);
        assert_int_equal(c->hook_added, c->res.added);
        for (int i = 0; i < PER_CALLER; i++) {
            assert_int_equal(c->res.items[i].outcome, NODE_ITEM_ADDED);
            assert_true(is_stored(f, k, i));
        }
        if (bad) {
            const node_ingest_item *it = &c->res.items[PER_CALLER];
            assert_int_equal(it->outcome, NODE_ITEM_REJECTED);
            assert_string_equal(it->where, "objects[30]");
            assert_non_null(strstr(it->msg, "pattern"));
            assert_false(is_stored(f, k, PER_CALLER));
        }
        const node_ingest_item *sh = &c->res.items[c->count - 1];
        assert_int_not_equal(sh->outcome, NODE_ITEM_REJECTED);
        shared_added += sh->outcome == NODE_ITEM_ADDED;
        want_added += c->res.added;
        /* the hook's row was committed with the objects */
        char key[32], want[64], *val = NULL;
        snprintf(key, sizeof key, "test/caller-%d", k);
        snprintf(want, sizeof want, "%zu %zu %zu", c->res.added, c->res.rejected, c->res.count);
        assert_int_equal(store_kv_get(node_store(f->n), NULL, key, &val, NULL), DT_OK);
        assert_non_null(val);
        assert_string_equal(val, want);
        dt_free(val);
    }
    assert_int_equal(shared_added, 1);
    assert_int_equal(want_added, (CALLERS - 1) * PER_CALLER + 1);
    assert_int_equal(ledger_size(f), before + want_added);
    for (int k = 0; k < CALLERS; k++)
        caller_release(&cs[k]);
}

/* Callers queued together share one transaction: when one of them fails in
 * the writer (its hook refuses), none of the group is stored or answered
 * as stored. A third caller holds the writer while the two queue up. */
static void test_node_ingest_group_fails_together(void **state)
{
    fixture *f = *state;
    caller cs[3];
    pthread_t th[3];
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    bool in_writer = false;
    uint64_t before = ledger_size(f);
    memset(cs, 0, sizeof cs);
    for (int k = 0; k < 3; k++) {
        cs[k].n = f->n;
        cs[k].k = 10 + k;
        cs[k].objs[cs[k].count++] = caller_object(10 + k, 0, NULL);
    }
    cs[0].mu = &mu;
    cs[0].cv = &cv;
    cs[0].in_writer = &in_writer;
    cs[1].fail_hook = true;
    assert_int_equal(pthread_create(&th[0], NULL, caller_main, &cs[0]), 0);
    pthread_mutex_lock(&mu);
    while (!in_writer)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    assert_int_equal(pthread_create(&th[1], NULL, caller_main, &cs[1]), 0);
    assert_int_equal(pthread_create(&th[2], NULL, caller_main, &cs[2]), 0);
    for (int k = 0; k < 3; k++)
        pthread_join(th[k], NULL);
    assert_int_equal(cs[0].rc, DT_OK);
    assert_true(is_stored(f, 10, 0));
    assert_int_equal(cs[1].rc, DT_EIO);
    assert_non_null(strstr(cs[1].err.msg, "refused by the test"));
    assert_int_equal(cs[2].rc, DT_EIO); /* failed with its group, though nothing of its own failed */
    assert_false(is_stored(f, 11, 0));
    assert_false(is_stored(f, 12, 0));
    assert_int_equal(ledger_size(f), before + 1);
    for (int k = 0; k < 3; k++)
        caller_release(&cs[k]);
}

static void test_node_query_grants_and_markings(void **state)
{
    fixture *f = *state;
    node_ingest_opts o = {.collection = "default", .sign = true};
    node_ingest_result res = {0};
    char text[2048];
    /* one GREEN, one RED, one unmarked (node default AMBER) */
    snprintf(text, sizeof text,
             "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--a0000000-0000-4000-8000-000000000001\","
             "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":\"g\","
             "\"object_marking_refs\":[\"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb\"]}\n"
             "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--a0000000-0000-4000-8000-000000000002\","
             "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":\"r\","
             "\"object_marking_refs\":[\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\","
             "\"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb\"]}\n"
             "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--a0000000-0000-4000-8000-000000000003\","
             "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":\"u\"}\n");
    ingest(f, text, &o, &res, DT_OK);
    assert_int_equal(res.added, 3);
    node_ingest_result_release(&res);

    const char *types[] = {"identity"};
    store_query q = {.collection = "default", .types = types, .type_count = 1, .max_marking = -1,
                     .limit = 100, .with_json = false};
    store_page page;
    dt_err err = {0};
    node_principal user = {.kind = NODE_PRINCIPAL_USER, .name = "alice",
                           .max_marking = NODE_TLP_GREEN};
    assert_int_equal(node_user_add(f->n, "alice", "correct horse battery", NODE_TLP_GREEN, NULL, 0,
                                   &err), DT_OK);
    /* no grant yet */
    assert_int_equal(node_query(f->n, &user, &q, &page, &err), DT_EDENIED);
    assert_int_equal(node_grant(f->n, "alice", "default", STORE_PERM_READ, NULL), DT_OK);
    assert_int_equal(node_query(f->n, &user, &q, &page, NULL), DT_OK);
    /* only the GREEN identity (the node's own identity is AMBER by default) */
    assert_int_equal(page.count, 1);
    assert_string_equal(page.rows[0].id, "identity--a0000000-0000-4000-8000-000000000001");
    store_page_release(&page);
    user.max_marking = NODE_TLP_RED;
    node_principal peer = {.kind = NODE_PRINCIPAL_PEER, .name = "alice", .max_marking = NODE_TLP_RED};
    assert_int_equal(node_query(f->n, &peer, &q, &page, NULL), DT_OK);
    for (size_t i = 0; i < page.count; i++) /* RED never goes to a peer */
        assert_string_not_equal(page.rows[i].id, "identity--a0000000-0000-4000-8000-000000000002");
    store_page_release(&page);
    /* an unknown collection is not found, not denied */
    q.collection = "nope";
    dt_err_clear(&err);
    assert_int_equal(node_query(f->n, &user, &q, &page, &err), DT_ENOTFOUND);
}

static void test_node_query_relay_and_redaction(void **state)
{
    fixture *f = *state;
    node_ingest_opts o = {.collection = "default", .sign = true};
    node_ingest_result res = {0};
    char text[4096];
    /* ours: AMBER, with a RED granular marking on its description */
    snprintf(text, sizeof text,
             "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--b0000000-0000-4000-8000-000000000001\","
             "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":\"ours\","
             "\"description\":\"secret detail\",\"sectors\":[\"government\",\"defense\"],"
             "\"object_marking_refs\":[\"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421\"],"
             "\"granular_markings\":[{\"marking_ref\":\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\","
             "\"selectors\":[\"description\",\"sectors.[1]\"]},"
             "{\"marking_ref\":\"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb\",\"selectors\":[\"name\"]}]}\n");
    ingest(f, text, &o, &res, DT_OK);
    assert_int_equal(res.added, 1);
    node_ingest_result_release(&res);
    /* theirs: AMBER, signed by another party, received from a peer */
    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    json_t *theirs = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type", "identity",
                               "spec_version", "2.1", "id",
                               "identity--b0000000-0000-4000-8000-000000000002", "created",
                               "2024-01-01T00:00:00.000Z", "modified", "2024-01-01T00:00:00.000Z",
                               "name", "theirs", "object_marking_refs",
                               "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421");
    assert_int_equal(node_object_sign(theirs, "identity--c0000000-0000-4000-8000-00000000000c", sk,
                                      NULL),
                     DT_OK);
    node_principal local;
    node_principal_local(&local);
    node_ingest_opts po = {.collection = "default", .peer = "other"};
    const char *where = "theirs";
    assert_int_equal(node_ingest_json(f->n, &local, &po, &theirs, &where, 1, &res, NULL), DT_OK);
    assert_int_equal(res.added, 1);
    node_ingest_result_release(&res);
    json_decref(theirs);

    assert_int_equal(node_user_add(f->n, "peer-b", "a long enough password", NODE_TLP_AMBER, NULL, 0,
                                   NULL), DT_OK);
    assert_int_equal(node_grant(f->n, "peer-b", "default", STORE_PERM_READ, NULL), DT_OK);
    const char *ids[] = {"identity--b0000000-0000-4000-8000-000000000001",
                         "identity--b0000000-0000-4000-8000-000000000002"};
    store_query q = {.collection = "default", .ids = ids, .id_count = 2, .max_marking = -1,
                     .limit = 10, .with_json = true};
    store_page page;
    node_principal peer = {.kind = NODE_PRINCIPAL_PEER, .name = "peer-b", .max_marking = NODE_TLP_AMBER};
    assert_int_equal(node_query(f->n, &peer, &q, &page, NULL), DT_OK);
    /* ours is served (AMBER is ours to share), theirs is not relayed */
    assert_int_equal(page.count, 1);
    assert_string_equal(page.rows[0].id, ids[0]);
    json_t *served = json_loadb(page.rows[0].json, page.rows[0].json_len, 0, NULL);
    assert_non_null(served);
    assert_null(json_object_get(served, "description"));
    assert_int_equal(json_array_size(json_object_get(served, "sectors")), 1);
    assert_string_equal(json_string_value(json_object_get(served, "name")), "ours");
    assert_true(json_is_true(json_object_get(served, "x_detente_redacted")));
    node_signature sig;
    assert_int_equal(node_object_verify(served, &sig, NULL), DT_OK);
    assert_false(sig.present); /* never a signature that would fail */
    json_decref(served);
    store_page_release(&page);

    /* the operator sees everything, signed */
    assert_int_equal(node_query(f->n, &local, &q, &page, NULL), DT_OK);
    assert_int_equal(page.count, 2);
    for (size_t i = 0; i < page.count; i++) {
        json_t *o2 = json_loadb(page.rows[i].json, page.rows[i].json_len, 0, NULL);
        assert_int_equal(node_object_verify(o2, &sig, NULL), DT_OK);
        assert_true(sig.present);
        json_decref(o2);
    }
    store_page_release(&page);
}

static void test_node_delete_tombstone(void **state)
{
    fixture *f = *state;
    node_ingest_opts o = {.collection = "default", .sign = true};
    node_ingest_result res = {0};
    node_principal local;
    size_t count = 0;
    ingest(f, indicator("0007", "2024-01-01T00:00:00.000Z", "f.example"), &o, &res, DT_OK);
    node_ingest_result_release(&res);
    uint64_t before = ledger_size(f);
    node_principal_local(&local);
    assert_int_equal(node_delete(f->n, &local, "default",
                                 "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30007", NULL, &count,
                                 NULL),
                     DT_OK);
    assert_int_equal(count, 1);
    assert_int_equal(ledger_size(f), before + 1);
    const char *ids[] = {"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30007"};
    store_query q = {.collection = "default", .ids = ids, .id_count = 1, .max_marking = -1,
                     .limit = 10, .with_json = true};
    store_page page;
    assert_int_equal(node_query(f->n, &local, &q, &page, NULL), DT_OK);
    assert_int_equal(page.count, 0);
    store_page_release(&page);
    assert_int_equal(node_delete(f->n, &local, "default", "indicator--00000000-0000-4000-8000-000000000000",
                                 NULL, &count, NULL),
                     DT_ENOTFOUND);
}

static void test_node_config_unknown_key(void **state)
{
    fixture *f = *state;
    char path[400];
    node_config c;
    dt_err err = {0};
    snprintf(path, sizeof path, "%s/detente.conf", f->home);
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fputs("[server]\nlisten_adress = 1.2.3.4:5\n", fp);
    fclose(fp);
    assert_int_equal(node_config_load(f->home, &c, &err), DT_EINVALID);
    assert_non_null(strstr(err.msg, "listen_adress"));
    assert_non_null(strstr(err.where, "detente.conf:"));
}

/* The server limits are read from [limits], each checked with the file
 * and line of a bad value. */
static void test_node_config_server_limits(void **state)
{
    node_config c;
    dt_err err = {0};
    const char *good = "[limits]\nconnections = 64\ntimeout = 5\n";
    (void)state;
    assert_int_equal(node_config_parse(good, strlen(good), "t.conf", &c, &err), DT_OK);
    assert_int_equal(c.connections, 64);
    assert_int_equal(c.timeout, 5);
    node_config_default(&c);
    assert_int_equal(c.connections, 256);
    assert_int_equal(c.timeout, 30);
    const char *bad = "[limits]\nconnections = 64\ntimeout = 0\n";
    assert_int_equal(node_config_parse(bad, strlen(bad), "t.conf", &c, &err), DT_EINVALID);
    assert_string_equal(err.where, "t.conf:3");
    assert_non_null(strstr(err.msg, "from 1 to 3600"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_node_init_key_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_ingest_signs_and_ledgers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_ingest_rejects_with_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_ingest_conflicting_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_ingest_unsigned_from_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_ingest_concurrent_callers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_ingest_group_fails_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_query_grants_and_markings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_query_relay_and_redaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_delete_tombstone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_config_unknown_key, setup, teardown),
        cmocka_unit_test(test_node_config_server_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
