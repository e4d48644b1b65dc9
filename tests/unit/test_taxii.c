/* Unit tests for taxii/'s pure parts: the paging token, content
 * negotiation, routes, query parameters and the JSON bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "taxii/taxii.h"

static void test_taxii_next_roundtrip(void **state)
{
    char tok[TAXII_NEXT_LEN];
    int64_t da = 0, rid = 0;
    const int64_t cases[][2] = {{0, 0}, {1764165000123456, 42}, {INT64_MAX, INT64_MAX}, {5, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        taxii_next_encode(cases[i][0], cases[i][1], tok);
        assert_int_equal(strlen(tok), 28);
        assert_int_equal(taxii_next_decode(tok, strlen(tok), &da, &rid, NULL), DT_OK);
        assert_true(da == cases[i][0] && rid == cases[i][1]);
        /* URL-safe: usable in a query string as is */
        assert_int_equal(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_"),
                         28);
    }
}

static void test_taxii_next_decode_rejects(void **state)
{
    char tok[TAXII_NEXT_LEN], bad[TAXII_NEXT_LEN];
    int64_t da = 7, rid = 7;
    dt_err err = {0};
    taxii_next_encode(1764165000123456, 42, tok);
    /* every single-character change is caught */
    for (size_t i = 0; i < 28; i++) {
        memcpy(bad, tok, sizeof bad);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        assert_int_not_equal(taxii_next_decode(bad, 28, &da, &rid, NULL), DT_OK);
    }
    assert_int_equal(taxii_next_decode(tok, 27, &da, &rid, &err), DT_EINVALID);
    assert_string_equal(err.where, "next");
    assert_int_not_equal(taxii_next_decode("", 0, &da, &rid, NULL), DT_OK);
    assert_int_not_equal(taxii_next_decode("not a token at all, really!!", 28, &da, &rid, NULL),
                         DT_OK);
    assert_true(da == 7 && rid == 7); /* untouched on failure */
}

static void test_taxii_accept_ok_cases(void **state)
{
    assert_true(taxii_accept_ok(NULL));
    assert_true(taxii_accept_ok(""));
    assert_true(taxii_accept_ok("application/taxii+json;version=2.1"));
    assert_true(taxii_accept_ok("application/taxii+json"));
    assert_true(taxii_accept_ok("Application/TAXII+JSON; version=2.1"));
    assert_true(taxii_accept_ok("text/html, */*;q=0.8"));
    assert_true(taxii_accept_ok("application/*"));
    assert_true(taxii_accept_ok("text/plain, application/taxii+json;version=\"2.1\""));
    assert_false(taxii_accept_ok("application/taxii+json;version=2.0"));
    assert_false(taxii_accept_ok("application/json"));
    assert_false(taxii_accept_ok("text/html"));
    assert_false(taxii_accept_ok("application/taxii+json;version=2.1;q=0"));
    assert_false(taxii_accept_ok("*/*;q=2"));
    assert_false(taxii_accept_ok("garbage"));
}

static void test_taxii_content_type_ok_cases(void **state)
{
    assert_true(taxii_content_type_ok("application/taxii+json;version=2.1"));
    assert_true(taxii_content_type_ok("application/taxii+json; charset=utf-8; version=2.1"));
    assert_true(taxii_content_type_ok("application/taxii+json"));
    assert_false(taxii_content_type_ok(NULL));
    assert_false(taxii_content_type_ok("application/json"));
    assert_false(taxii_content_type_ok("application/stix+json;version=2.1"));
    assert_false(taxii_content_type_ok("application/taxii+json;version=2.0"));
    assert_false(taxii_content_type_ok("*/*"));
}

static void route(const char *path, taxii_route_kind kind, dt_status want, taxii_route *r)
{
    dt_err err = {0};
    assert_int_equal(taxii_route_parse(path, strlen(path), "api", r, &err), want);
    if (want == DT_OK)
        assert_int_equal(r->kind, kind);
}

#define OID "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"

static void test_taxii_route_parse_endpoints(void **state)
{
    taxii_route r;
    route("/taxii2/", TAXII_ROUTE_DISCOVERY, DT_OK, &r);
    route("/taxii2", TAXII_ROUTE_DISCOVERY, DT_OK, &r);
    route("/api/", TAXII_ROUTE_API_ROOT, DT_OK, &r);
    route("/api/status/2d086da7-4bdc-4f91-900e-d77486753710/", TAXII_ROUTE_STATUS, DT_OK, &r);
    assert_string_equal(r.status_id, "2d086da7-4bdc-4f91-900e-d77486753710");
    route("/api/collections/", TAXII_ROUTE_COLLECTIONS, DT_OK, &r);
    route("/api/collections/default/", TAXII_ROUTE_COLLECTION, DT_OK, &r);
    assert_string_equal(r.collection, "default");
    route("/api/collections/default/objects/", TAXII_ROUTE_OBJECTS, DT_OK, &r);
    route("/api/collections/default/manifest/", TAXII_ROUTE_MANIFEST, DT_OK, &r);
    route("/api/collections/default/objects/" OID "/", TAXII_ROUTE_OBJECT, DT_OK, &r);
    assert_string_equal(r.object_id, OID);
    route("/api/collections/default/objects/" OID "/versions/", TAXII_ROUTE_VERSIONS, DT_OK, &r);
    route("/detente/v1/health", TAXII_ROUTE_HEALTH, DT_OK, &r);
    route("/detente/v1/metrics", TAXII_ROUTE_METRICS, DT_OK, &r);
    route("/detente/v1/ledger/proof/inclusion", TAXII_ROUTE_API, DT_OK, &r);
    assert_string_equal(r.api_path, "ledger/proof/inclusion");
    route("/detente/v1/verdicts/indicator%2d%2d1", TAXII_ROUTE_API, DT_OK, &r);
    assert_string_equal(r.api_path, "verdicts/indicator--1");
    route("/detente/v1/", 0, DT_ENOTFOUND, &r);
    route("/detente/v1/a%2Fb", 0, DT_ENOTFOUND, &r);
    route("/detente/v1/a%00", 0, DT_EPARSE, &r);
    /* an encoded character in an id is decoded */
    route("/api/collections/d%65fault/", TAXII_ROUTE_COLLECTION, DT_OK, &r);
    assert_string_equal(r.collection, "default");
}

static void test_taxii_route_parse_tricks(void **state)
{
    taxii_route r;
    route("/", 0, DT_ENOTFOUND, &r);
    route("", 0, DT_ENOTFOUND, &r);
    route("/other/", 0, DT_ENOTFOUND, &r);
    route("/api/collections/%2e%2e/", 0, DT_ENOTFOUND, &r);
    route("/api/collections/../objects/", 0, DT_ENOTFOUND, &r);
    route("/api/collections/a%2Fb/", 0, DT_ENOTFOUND, &r);
    route("/api/collections/a%00b/", 0, DT_EPARSE, &r);
    route("/api/collections/a%zz/", 0, DT_EPARSE, &r);
    route("/api/collections/a%2/", 0, DT_EPARSE, &r);
    route("/api//collections/", 0, DT_ENOTFOUND, &r);
    route("/api/collections/default/objects/not-an-id/", 0, DT_ENOTFOUND, &r);
    route("/api/collections/default/objects/" OID "/versions/x/", 0, DT_ENOTFOUND, &r);
    route("/api/status/../", 0, DT_ENOTFOUND, &r);
    route("/a/b/c/d/e/f/g/h/i/j/k/", 0, DT_ENOTFOUND, &r);
    char big[600];
    memset(big, 'a', sizeof big);
    memcpy(big, "/api/collections/", 17);
    big[sizeof big - 1] = '\0';
    route(big, 0, DT_ENOTFOUND, &r);
}

static void test_taxii_route_allows_methods(void **state)
{
    assert_true(taxii_route_allows(TAXII_ROUTE_OBJECTS, "POST"));
    assert_true(taxii_route_allows(TAXII_ROUTE_OBJECT, "DELETE"));
    assert_true(taxii_route_allows(TAXII_ROUTE_COLLECTIONS, "GET"));
    assert_false(taxii_route_allows(TAXII_ROUTE_COLLECTIONS, "POST"));
    assert_false(taxii_route_allows(TAXII_ROUTE_OBJECTS, "PUT"));
    assert_false(taxii_route_allows(TAXII_ROUTE_OBJECTS, "DELETE"));
    assert_string_equal(taxii_route_methods(TAXII_ROUTE_OBJECTS), "GET, POST");
}

static dt_status parse(taxii_params *p, taxii_route_kind kind, const char *q)
{
    taxii_params_init(p, taxii_route_params(kind));
    return taxii_params_parse_query(p, q, strlen(q), NULL);
}

static void test_taxii_params_parse_filters(void **state)
{
    taxii_params p;
    store_query q;
    assert_int_equal(parse(&p, TAXII_ROUTE_OBJECTS,
                           "match%5Btype%5D=indicator,malware&match[id]=" OID
                           "&match[version]=all&match[spec_version]=2.1&limit=50"
                           "&added_after=2024-01-02T03:04:05.123Z&utm_source=x"),
                     DT_OK);
    assert_int_equal(p.type_count, 2);
    assert_string_equal(p.types[1], "malware");
    assert_int_equal(p.id_count, 1);
    assert_string_equal(p.ids[0], OID);
    assert_int_equal(p.versions, STORE_VER_ALL);
    assert_int_equal(p.spec_version_count, 1);
    assert_int_equal(p.limit, 50);
    assert_true(p.added_after == 1704164645123000LL);
    taxii_params_to_query(&p, "default", 100, 1000, &q);
    assert_string_equal(q.collection, "default");
    assert_int_equal(q.limit, 50);
    assert_int_equal(q.type_count, 2);
    assert_true(q.with_json);
    taxii_params_release(&p);
}

static void test_taxii_params_parse_versions(void **state)
{
    taxii_params p;
    assert_int_equal(parse(&p, TAXII_ROUTE_OBJECT,
                           "match[version]=first,2016-04-06T20:07:09.000Z,last"),
                     DT_OK);
    assert_int_equal(p.versions, STORE_VER_FIRST | STORE_VER_LAST | STORE_VER_AT);
    assert_int_equal(p.at_count, 1);
    assert_string_equal(p.at[0], "2016-04-06T20:07:09.000000000Z");
    taxii_params_release(&p);
}

static void test_taxii_params_parse_defaults_and_caps(void **state)
{
    taxii_params p;
    store_query q;
    assert_int_equal(parse(&p, TAXII_ROUTE_OBJECTS, ""), DT_OK);
    taxii_params_to_query(&p, "c", 100, 1000, &q);
    assert_int_equal(q.limit, 100);
    assert_int_equal(q.versions, STORE_VER_LAST);
    assert_true(q.after_date_added == 0 && q.after_rowid == 0);
    taxii_params_release(&p);
    assert_int_equal(parse(&p, TAXII_ROUTE_OBJECTS, "limit=999999"), DT_OK);
    taxii_params_to_query(&p, "c", 100, 1000, &q);
    assert_int_equal(q.limit, 1000);
    taxii_params_release(&p);
}

static void test_taxii_params_parse_next(void **state)
{
    taxii_params p;
    store_query q;
    char tok[TAXII_NEXT_LEN], query[64];
    taxii_next_encode(1704164645123000LL, 99, tok);
    snprintf(query, sizeof query, "next=%s", tok);
    assert_int_equal(parse(&p, TAXII_ROUTE_OBJECTS, query), DT_OK);
    taxii_params_to_query(&p, "c", 100, 1000, &q);
    assert_true(q.after_date_added == 1704164645123000LL && q.after_rowid == 99);
    taxii_params_release(&p);
}

static void test_taxii_params_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "limit=0",          "limit=-1",        "limit=abc",       "limit=",
        "limit=1&limit=2",  "next=abc",        "next=",           "added_after=yesterday",
        "added_after=2024-01-02", "match[type]=Indicator", "match[type]=a,,b",
        "match[id]=x",      "match[version]=newest", "match[spec_version]=two",
        "match[colour]=red", "match[type]=a%00b",   "limit=1%",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        taxii_params p;
        dt_status rc = parse(&p, TAXII_ROUTE_OBJECTS, bad[i]);
        if (rc == DT_OK)
            fail_msg("accepted %s", bad[i]);
        assert_true(rc == DT_EINVALID || rc == DT_EPARSE);
        taxii_params_release(&p);
    }
}

static void test_taxii_params_parse_list_limit(void **state)
{
    taxii_params p;
    char q[2048] = "match[type]=";
    for (int i = 0; i <= TAXII_LIST_MAX; i++)
        strncat(q, i ? ",abc" : "abc", sizeof q - strlen(q) - 1);
    assert_int_equal(parse(&p, TAXII_ROUTE_OBJECTS, q), DT_EINVALID);
    taxii_params_release(&p);
}

static void test_taxii_params_parse_ignores_unsupported(void **state)
{
    taxii_params p;
    /* match[type] is not a filter of the versions endpoint: ignored */
    assert_int_equal(parse(&p, TAXII_ROUTE_VERSIONS, "match[type]=x&foo=bar&x"), DT_OK);
    assert_int_equal(p.type_count, 0);
    taxii_params_release(&p);
}

static store_row mkrow(const char *id, const char *mod, int64_t da, int64_t rowid,
                       const char *json)
{
    store_row r;
    memset(&r, 0, sizeof r);
    r.id = (char *)id;
    r.modified_text = (char *)mod;
    r.date_added = da;
    r.rowid = rowid;
    r.json = (char *)json;
    r.json_len = json ? strlen(json) : 0;
    return r;
}

static json_t *parse_json(const dt_buf *b)
{
    json_error_t je;
    json_t *j = json_loadb(b->data, b->len, 0, &je);
    if (j == NULL)
        fail_msg("not JSON: %s (%s)", b->data, je.text);
    return j;
}

static void test_taxii_envelope_build_concatenates(void **state)
{
    store_row rows[3] = {
        mkrow("x--1", "2024-01-01T00:00:00.000Z", 1000000, 1, "{\"id\":\"x--1\"}"),
        mkrow("x--2", "2024-01-01T00:00:00.000Z", 2000000, 2, NULL),
        mkrow("x--3", "2024-01-01T00:00:00.000Z", 3000000, 3, "{\"id\":\"x--3\",\"n\":[1,2]}"),
    };
    store_page page = {.rows = rows, .count = 3, .more = true};
    char tok[TAXII_NEXT_LEN];
    dt_buf b;
    dt_buf_init(&b, 1 << 20);
    taxii_page_next(&page, tok);
    assert_int_equal(taxii_envelope_build(&page, tok, &b, NULL), DT_OK);
    json_t *j = parse_json(&b);
    assert_true(json_is_true(json_object_get(j, "more")));
    assert_string_equal(json_string_value(json_object_get(j, "next")), tok);
    assert_int_equal(json_array_size(json_object_get(j, "objects")), 2);
    json_decref(j);
    int64_t da, rid;
    assert_int_equal(taxii_next_decode(tok, strlen(tok), &da, &rid, NULL), DT_OK);
    assert_true(da == 3000000 && rid == 3);

    dt_buf_reset(&b);
    page.count = 0;
    page.more = false;
    assert_int_equal(taxii_envelope_build(&page, NULL, &b, NULL), DT_OK);
    assert_string_equal(b.data, "{\"more\":false}");
    dt_buf_release(&b);
}

static void test_taxii_envelope_build_limit(void **state)
{
    store_row rows[1] = {mkrow("x--1", "m", 1, 1, "{\"id\":\"x--1\",\"pad\":\"xxxxxxxxxx\"}")};
    store_page page = {.rows = rows, .count = 1, .more = false};
    dt_buf b;
    dt_buf_init(&b, 20);
    assert_int_equal(taxii_envelope_build(&page, NULL, &b, NULL), DT_ELIMIT);
    dt_buf_release(&b);
}

static void test_taxii_manifest_build_records(void **state)
{
    store_row rows[1] = {mkrow("indicator--1", "2016-04-06T20:07:09.000Z", 1704164645123456LL,
                               1, NULL)};
    store_page page = {.rows = rows, .count = 1, .more = false};
    dt_buf b;
    dt_buf_init(&b, 1 << 20);
    assert_int_equal(taxii_manifest_build(&page, NULL, &b, NULL), DT_OK);
    json_t *j = parse_json(&b);
    json_t *rec = json_array_get(json_object_get(j, "objects"), 0);
    assert_string_equal(json_string_value(json_object_get(rec, "id")), "indicator--1");
    assert_string_equal(json_string_value(json_object_get(rec, "date_added")),
                        "2024-01-02T03:04:05.123456Z");
    assert_string_equal(json_string_value(json_object_get(rec, "version")),
                        "2016-04-06T20:07:09.000Z");
    assert_string_equal(json_string_value(json_object_get(rec, "media_type")),
                        TAXII_STIX_MEDIA_TYPE);
    json_decref(j);
    dt_buf_reset(&b);
    assert_int_equal(taxii_versions_build(&page, NULL, &b, NULL), DT_OK);
    assert_string_equal(b.data, "{\"more\":false,\"versions\":[\"2016-04-06T20:07:09.000Z\"]}");
    dt_buf_release(&b);
}

static void test_taxii_status_build_counts(void **state)
{
    node_ingest_item items[3];
    memset(items, 0, sizeof items);
    snprintf(items[0].id, sizeof items[0].id, "indicator--a");
    items[0].outcome = NODE_ITEM_ADDED;
    snprintf(items[1].id, sizeof items[1].id, "indicator--b");
    snprintf(items[1].where, sizeof items[1].where, "objects[1]");
    snprintf(items[1].msg, sizeof items[1].msg, "pattern: \"unterminated");
    items[1].outcome = NODE_ITEM_REJECTED;
    items[2].outcome = NODE_ITEM_DUPLICATE;
    node_ingest_result res = {.added = 1, .duplicates = 1, .rejected = 1, .items = items,
                              .count = 3};
    dt_buf b;
    dt_buf_init(&b, 1 << 20);
    assert_int_equal(taxii_status_build("2d086da7-4bdc-4f91-900e-d77486753710", 0, &res, &b,
                                        NULL),
                     DT_OK);
    json_t *j = parse_json(&b);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "complete");
    assert_int_equal(json_integer_value(json_object_get(j, "total_count")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "success_count")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "failure_count")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "pending_count")), 0);
    json_t *f = json_array_get(json_object_get(j, "failures"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "id")), "indicator--b");
    assert_string_equal(json_string_value(json_object_get(f, "message")),
                        "objects[1]: pattern: \"unterminated");
    assert_int_equal(json_array_size(json_object_get(j, "successes")), 2);
    json_decref(j);
    dt_buf_release(&b);
}

static void test_taxii_error_build_escapes(void **state)
{
    dt_buf b;
    dt_buf_init(&b, 1 << 20);
    assert_int_equal(taxii_error_build(404, "Not Found", "no \"x\"\n\x01", &b, NULL), DT_OK);
    json_t *j = parse_json(&b);
    assert_string_equal(json_string_value(json_object_get(j, "title")), "Not Found");
    assert_string_equal(json_string_value(json_object_get(j, "description")), "no \"x\"\n\x01");
    assert_string_equal(json_string_value(json_object_get(j, "http_status")), "404");
    json_decref(j);
    /* bytes that are not UTF-8 still give valid JSON */
    dt_buf_reset(&b);
    assert_int_equal(taxii_json_str(&b, "a\xff\xfe" "b", NULL), DT_OK);
    assert_string_equal(b.data, "\"a\\ufffd\\ufffdb\"");
    dt_buf_reset(&b);
    assert_int_equal(taxii_json_str(&b, "caf\xc3\xa9", NULL), DT_OK);
    assert_string_equal(b.data, "\"caf\xc3\xa9\"");
    dt_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taxii_next_roundtrip),
        cmocka_unit_test(test_taxii_next_decode_rejects),
        cmocka_unit_test(test_taxii_accept_ok_cases),
        cmocka_unit_test(test_taxii_content_type_ok_cases),
        cmocka_unit_test(test_taxii_route_parse_endpoints),
        cmocka_unit_test(test_taxii_route_parse_tricks),
        cmocka_unit_test(test_taxii_route_allows_methods),
        cmocka_unit_test(test_taxii_params_parse_filters),
        cmocka_unit_test(test_taxii_params_parse_versions),
        cmocka_unit_test(test_taxii_params_parse_defaults_and_caps),
        cmocka_unit_test(test_taxii_params_parse_next),
        cmocka_unit_test(test_taxii_params_parse_rejects),
        cmocka_unit_test(test_taxii_params_parse_list_limit),
        cmocka_unit_test(test_taxii_params_parse_ignores_unsupported),
        cmocka_unit_test(test_taxii_envelope_build_concatenates),
        cmocka_unit_test(test_taxii_envelope_build_limit),
        cmocka_unit_test(test_taxii_manifest_build_records),
        cmocka_unit_test(test_taxii_status_build_counts),
        cmocka_unit_test(test_taxii_error_build_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
