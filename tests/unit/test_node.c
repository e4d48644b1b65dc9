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
#include <sys/stat.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_node_init_key_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_ingest_signs_and_ledgers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_ingest_rejects_with_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_ingest_conflicting_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_ingest_unsigned_from_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_query_grants_and_markings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_query_relay_and_redaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_delete_tombstone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_config_unknown_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
