/* Unit tests for stix/: strict parsing, the input walk, RFC 8785 JCS (the
 * RFC's own examples, read from tests/vectors/jcs), deterministic SCO ids
 * (ids from the OASIS examples and computed independently), and validation:
 * the shipped OASIS examples pass, and one broken object per rule fails
 * with the JSON path and the rule named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix.h"

static char *read_src(const char *rel, size_t *len)
{
    char path[1024], *text = NULL;
    const char *src = getenv("DETENTE_SRC");
    snprintf(path, sizeof path, "%s/%s", src ? src : ".", rel);
    dt_err err = {0};
    if (dt_file_read(path, (size_t)16 << 20, &text, len, &err) != DT_OK)
        fail_msg("cannot read %s: %s", path, err.msg);
    return text;
}

static json_t *parse(const char *s)
{
    json_t *v = NULL;
    dt_err err = {0};
    if (stix_json_parse(s, strlen(s), NULL, &v, &err) != DT_OK)
        fail_msg("parse: %s: %s", err.where, err.msg);
    return v;
}

static char *jcs_of(const json_t *v, dt_status *rc)
{
    dt_buf b;
    dt_err err = {0};
    dt_buf_init(&b, 1 << 20);
    *rc = stix_jcs(v, &b, &err);
    char *s = dt_strdup(b.data ? b.data : "");
    dt_buf_release(&b);
    return s;
}

/* ---- JCS ----------------------------------------------------------------- */

static void test_stix_jcs_rfc_numbers(void **state)
{
    size_t len;
    char *text = read_src("tests/vectors/jcs/numbers.txt", &len);
    int checked = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char hex[17], want[64];
        if (line[0] != '#' && sscanf(line, "%16s %63s", hex, want) == 2) {
            uint64_t bits = strtoull(hex, NULL, 16);
            double d;
            memcpy(&d, &bits, sizeof d);
            json_t *v = json_real(d);
            dt_status rc;
            if (v == NULL) { /* jansson refuses NaN/Infinity itself */
                assert_string_equal(want, "error");
            } else {
                char *got = jcs_of(v, &rc);
                if (strcmp(want, "error") == 0)
                    assert_int_equal(rc, DT_EINVALID);
                else {
                    assert_int_equal(rc, DT_OK);
                    assert_string_equal(got, want);
                }
                dt_free(got);
                json_decref(v);
            }
            checked++;
        }
        line = nl ? nl + 1 : NULL;
    }
    assert_true(checked >= 26);
    dt_free(text);
}

static void check_jcs_file(const char *in, const char *expected)
{
    size_t il, el;
    char *input = read_src(in, &il), *want = read_src(expected, &el);
    json_t *v = NULL;
    dt_err err = {0};
    dt_status rc;
    assert_int_equal(stix_json_parse(input, il, NULL, &v, &err), DT_OK);
    char *got = jcs_of(v, &rc);
    assert_int_equal(rc, DT_OK);
    assert_string_equal(got, want);
    dt_free(got);
    json_decref(v);
    dt_free(input);
    dt_free(want);
}

static void test_stix_jcs_rfc_structure(void **state)
{
    check_jcs_file("tests/vectors/jcs/structure.input.json", "tests/vectors/jcs/structure.expected.json");
}

static void test_stix_jcs_rfc_utf16_sorting(void **state)
{
    check_jcs_file("tests/vectors/jcs/sorting.input.json", "tests/vectors/jcs/sorting.expected.json");
}

static void test_stix_jcs_rejects_big_integers(void **state)
{
    dt_status rc;
    /* built in memory: an integer no double holds */
    json_t *v = json_integer(9007199254740993LL);
    char *s = jcs_of(v, &rc);
    assert_int_equal(rc, DT_EINVALID);
    dt_free(s);
    json_decref(v);
    /* read from text: a JSON number is a double, as every JCS reader sees it */
    v = parse("[9007199254740993, 33997199254740992]");
    s = jcs_of(v, &rc);
    assert_int_equal(rc, DT_OK);
    assert_string_equal(s, "[9007199254740992,33997199254740990]");
    dt_free(s);
    json_decref(v);
    v = parse("[9007199254740992, -9007199254740992, 1.0, -0.0, 1e2, 3400000000000000000]");
    s = jcs_of(v, &rc);
    assert_int_equal(rc, DT_OK);
    assert_string_equal(s, "[9007199254740992,-9007199254740992,1,0,100,3400000000000000000]");
    dt_free(s);
    json_decref(v);
    /* integer literals beyond long long are read as doubles, as JSON says */
    v = parse("[100000000000000000000, -12345678901234567890123, \"100000000000000000000\"]");
    s = jcs_of(v, &rc);
    assert_int_equal(rc, DT_OK);
    assert_string_equal(s, "[100000000000000000000,-1.2345678901234568e+22,\"100000000000000000000\"]");
    dt_free(s);
    json_decref(v);
}

static void test_stix_jcs_escapes(void **state)
{
    dt_status rc;
    json_t *v = parse("{\"b\":\"\\u0001\\u001f\\b\\t\\f\\u007f\\u2028\",\"a\":{}}");
    char *s = jcs_of(v, &rc);
    assert_int_equal(rc, DT_OK);
    assert_string_equal(s, "{\"a\":{},\"b\":\"\\u0001\\u001f\\b\\t\\f\x7f\xe2\x80\xa8\"}");
    dt_free(s);
    json_decref(v);
}

/* ---- parsing ----------------------------------------------------------- */

static void test_stix_json_parse_duplicate_key(void **state)
{
    const char *t = "{\n  \"id\": 1,\n  \"id\": 2\n}";
    json_t *v = NULL;
    dt_err err = {0};
    assert_int_equal(stix_json_parse(t, strlen(t), NULL, &v, &err), DT_EPARSE);
    assert_null(v);
    assert_non_null(strstr(err.where, "line 3"));
    assert_non_null(strstr(err.msg, "duplicate"));
}

static void test_stix_json_parse_depth_limit(void **state)
{
    char deep[200];
    stix_limits lim;
    json_t *v = NULL;
    dt_err err = {0};
    stix_limits_default(&lim);
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    assert_int_equal(stix_json_parse(deep, sizeof deep, &lim, &v, &err), DT_ELIMIT);
    assert_string_equal(err.where, "line 1 column 65");
    dt_err_clear(&err);
    /* brackets inside strings do not count */
    const char *s = "{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}";
    assert_int_equal(stix_json_parse(s, strlen(s), &lim, &v, &err), DT_OK);
    json_decref(v);
}

static void test_stix_json_parse_bad_text(void **state)
{
    json_t *v = NULL;
    dt_err err = {0};
    const char *bad_utf8 = "{\"a\":\"\xc3\x28\"}";
    assert_int_equal(stix_json_parse(bad_utf8, strlen(bad_utf8), NULL, &v, &err), DT_EPARSE);
    dt_err_clear(&err);
    const char *nul = "{\"a\":\"x\\u0000\"}";
    assert_int_equal(stix_json_parse(nul, strlen(nul), NULL, &v, &err), DT_EPARSE);
    assert_non_null(strstr(err.msg, "U+0000"));
    dt_err_clear(&err);
    stix_limits lim;
    stix_limits_default(&lim);
    lim.max_string_bytes = 4;
    const char *longs = "{\"a\":\"12345\"}";
    assert_int_equal(stix_json_parse(longs, strlen(longs), &lim, &v, &err), DT_ELIMIT);
    dt_err_clear(&err);
    const char *trunc = "{\"a\": [1, 2";
    assert_int_equal(stix_json_parse(trunc, strlen(trunc), NULL, &v, &err), DT_EPARSE);
    assert_non_null(strstr(err.where, "line 1 column"));
}

/* ---- the input walk ---------------------------------------------------- */

typedef struct walked {
    char where[8][100];
    bool ok[8];
    int count;
} walked;

static dt_status collect(void *ctx, const char *where, json_t *item, const dt_err *ie)
{
    walked *w = ctx;
    if (w->count < 8) {
        snprintf(w->where[w->count], sizeof w->where[0], "%s", ie ? ie->where : where);
        w->ok[w->count] = item != NULL && ie == NULL;
    }
    w->count++;
    return DT_OK;
}

static void test_stix_input_walk_shapes(void **state)
{
    walked w = {0};
    dt_err err = {0};
    const char *bundle = "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[{\"a\":1},{\"b\":2},3]}";
    assert_int_equal(stix_input_walk(bundle, strlen(bundle), NULL, collect, &w, &err), DT_OK);
    assert_int_equal(w.count, 3);
    assert_string_equal(w.where[1], "objects[1]");
    assert_false(w.ok[2]);

    memset(&w, 0, sizeof w);
    const char *arr = "[\n{\"a\":1},\n{\"b\":2}\n]";
    assert_int_equal(stix_input_walk(arr, strlen(arr), NULL, collect, &w, &err), DT_OK);
    assert_int_equal(w.count, 2);
    assert_string_equal(w.where[1], "[1]");

    memset(&w, 0, sizeof w);
    const char *one = "{\n  \"type\": \"x\"\n}\n";
    assert_int_equal(stix_input_walk(one, strlen(one), NULL, collect, &w, &err), DT_OK);
    assert_int_equal(w.count, 1);
    assert_string_equal(w.where[0], "");

    memset(&w, 0, sizeof w);
    const char *lines = "{\"a\":1}\n\n{\"b\": oops}\n{\"c\":3}\n[1]\n";
    assert_int_equal(stix_input_walk(lines, strlen(lines), NULL, collect, &w, &err), DT_OK);
    assert_int_equal(w.count, 4);
    assert_string_equal(w.where[0], "line 1");
    assert_true(w.ok[0]);
    assert_false(w.ok[1]);
    assert_non_null(strstr(w.where[1], "line 3 column"));
    assert_true(w.ok[2]);
    assert_string_equal(w.where[2], "line 4");
    assert_false(w.ok[3]);

    memset(&w, 0, sizeof w);
    assert_int_equal(stix_input_walk("42", 2, NULL, collect, &w, &err), DT_EPARSE);
    assert_int_equal(w.count, 0);
}

/* ---- SCO ids -------------------------------------------------------------- */

static void check_sco_id(const char *json, const char *want)
{
    json_t *v = parse(json);
    char id[128];
    dt_err err = {0};
    assert_int_equal(stix_sco_id(v, id, sizeof id, &err), DT_OK);
    assert_string_equal(id, want);
    json_decref(v);
}

static void test_stix_sco_id_vectors(void **state)
{
    /* from the OASIS "sighting of observed data" example: MD5 is chosen */
    check_sco_id("{\"type\":\"file\",\"spec_version\":\"2.1\",\"hashes\":{\"MD5\":"
                 "\"1717b7fff97d37a1e1a0029d83492de1\",\"SHA-1\":"
                 "\"c79a326f8411e9488bdc3779753e1e3489aaedea\"},\"size\":83968,\"name\":"
                 "\"resume.pdf\"}",
                 "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d");
    /* computed with Python's uuid.uuid5 over the canonical JSON */
    check_sco_id("{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.3\",\"defanged\":true}",
                 "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
    check_sco_id("{\"type\":\"domain-name\",\"value\":\"example.com\"}",
                 "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7");
    check_sco_id("{\"type\":\"network-traffic\",\"src_ref\":\"ipv4-addr--ff26c055-6336-5bc5-b98d-"
                 "13d6226742dd\",\"dst_port\":443,\"protocols\":[\"ipv4\",\"tcp\"],\"src_byte_count\":9}",
                 "network-traffic--d130db34-b471-5138-b3ce-c0bdc72c325d");
    /* process has no contributing property: a random v4 */
    json_t *p = parse("{\"type\":\"process\",\"pid\":1}");
    char a[128], b[128];
    assert_int_equal(stix_sco_id(p, a, sizeof a, NULL), DT_OK);
    assert_int_equal(stix_sco_id(p, b, sizeof b, NULL), DT_OK);
    assert_string_not_equal(a, b);
    assert_int_equal(a[strlen("process--") + 14], '4');
    json_decref(p);
}

/* ---- validation ------------------------------------------------------------ */

static dt_status validate_item(void *ctx, const char *where, json_t *item, const dt_err *ie)
{
    int *n = ctx;
    dt_err err = {0};
    if (ie != NULL)
        fail_msg("%s: %s", ie->where, ie->msg);
    if (stix_validate(item, NULL, &err) != DT_OK)
        fail_msg("%s: %s: %s", where, err.where, err.msg);
    (*n)++;
    return DT_OK;
}

static void test_stix_validate_oasis_examples(void **state)
{
    static const char *const dirs[] = {"tests/data/stix/examples", "tests/data/stix/cti-documentation"};
    int objects = 0, files = 0;
    for (int d = 0; d < 2; d++) {
        char dir[1024];
        const char *src = getenv("DETENTE_SRC");
        snprintf(dir, sizeof dir, "%s/%s", src ? src : ".", dirs[d]);
        DIR *dh = opendir(dir);
        assert_non_null(dh);
        struct dirent *e;
        while ((e = readdir(dh)) != NULL) {
            size_t n = strlen(e->d_name), len;
            if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
                continue;
            char rel[1024];
            snprintf(rel, sizeof rel, "%s/%s", dirs[d], e->d_name);
            char *text = read_src(rel, &len);
            dt_err err = {0};
            assert_int_equal(stix_input_walk(text, len, NULL, validate_item, &objects, &err), DT_OK);
            /* the bundle as a whole validates too */
            json_t *b = NULL;
            assert_int_equal(stix_json_parse(text, len, NULL, &b, &err), DT_OK);
            assert_int_equal(stix_validate(b, NULL, &err), DT_OK);
            json_decref(b);
            dt_free(text);
            files++;
        }
        closedir(dh);
    }
    assert_int_equal(files, 19);
    assert_true(objects > 400);
}

#define IND "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"pattern\":\"[ipv4-addr:value = '198.51.100.3']\",\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\""
#define ID2 "--6b0e7a6e-5b3a-4c1e-9d6e-1f2a3b4c5d6e"

/* A valid object with one thing wrong, the path the error must name, and a
 * word of the message. "" as path means: must validate. */
static const struct vcase {
    const char *json, *where, *word;
} vcases[] = {
    {IND "}", "", ""},
    /* common properties */
    {"{\"spec_version\":\"2.1\"}", "type", "missing"},
    {"{\"type\":\"In-dicator\",\"id\":\"x\"}", "type", "type"},
    {IND ",\"id\":1}", NULL, NULL}, /* duplicate key: not parsed, skipped below */
    {"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"}", "id", "prefix"},
    {"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f\"}", "id", "RFC 4122"},
    {"{\"type\":\"indicator\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"}", "spec_version", "missing"},
    {"{\"type\":\"indicator\",\"spec_version\":\"2.0\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"}", "spec_version", "2.1"},
    {IND ",\"confidence\":101}", "confidence", "between"},
    {IND ",\"confidence\":\"high\"}", "confidence", "integer"},
    {IND ",\"labels\":[]}", "labels", "empty"},
    {IND ",\"created_by_ref\":\"malware" ID2 "\"}", "created_by_ref", "identity"},
    {IND ",\"object_marking_refs\":[\"identity" ID2 "\"]}", "object_marking_refs[0]", "marking-definition"},
    {IND ",\"external_references\":[{\"source_name\":\"a\",\"url\":\"http://x\"},{\"url\":\"http://y\"}]}", "external_references[1].source_name", "source_name"},
    {IND ",\"external_references\":[{\"source_name\":\"a\"}]}", "external_references[0]", "at least one"},
    {IND ",\"external_references\":[{\"source_name\":\"cve\",\"external_id\":\"CVE-21-1\"}]}", "external_references[0].external_id", "cve"},
    {IND ",\"external_references\":[{\"source_name\":\"a\",\"external_id\":\"x\",\"hashes\":{\"SHA-256\":\"abc\"}}]}", "external_references[0].hashes.SHA-256", "64 hex"},
    {IND ",\"granular_markings\":[{\"selectors\":[\"pattern\"],\"marking_ref\":\"marking-definition" ID2 "\"}]}", "", ""},
    {IND ",\"granular_markings\":[{\"selectors\":[\"kill_chain_phases.[3].phase_name\"],\"marking_ref\":\"marking-definition" ID2 "\"}]}", "granular_markings[0].selectors[0]", "nothing"},
    {IND ",\"granular_markings\":[{\"selectors\":[\"name\"],\"lang\":\"en\",\"marking_ref\":\"marking-definition" ID2 "\"}]}", "granular_markings[0]", "exactly one"},
    {IND ",\"extensions\":{\"extension-definition" ID2 "\":{\"extension_type\":\"property-extension\",\"rank\":5}}}", "", ""},
    {IND ",\"extensions\":{\"extension-definition" ID2 "\":{\"rank\":5}}}", "extensions.extension-definition" ID2 ".extension_type", "extension_type"},
    {IND ",\"extensions\":{\"my-extension\":{\"a\":1}}}", "extensions.my-extension", "-ext"},
    {IND ",\"x_acme_score\":3}", "", ""},
    {IND ",\"Bad-Name\":3}", "Bad-Name", "custom property"},
    {IND ",\"xy\":3}", "xy", "3-250"},
    {IND ",\"severity\":\"high\"}", "severity", "reserved"},
    {IND ",\"x_blob_bin\":\"not base64!\"}", "x_blob_bin", "base64"},
    {"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48Z\",\"modified\":\"2016-04-06T20:03:48.000Z\"}", "created", "millisecond"},
    {"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:47.999Z\"}", "modified", "earlier"},
    {"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2016-02-30T20:03:48.000Z\"}", "created", "day"},
    /* indicator */
    {IND ",\"valid_until\":\"2016-01-01T00:00:00Z\"}", "valid_until", "later"},
    {"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"pattern\":\"x\",\"valid_from\":\"2016-01-01T00:00:00Z\"}", "pattern_type", "missing"},
    {IND ",\"kill_chain_phases\":[{\"kill_chain_name\":\"k\"}]}", "kill_chain_phases[0]", "phase_name"},
    {IND ",\"indicator_types\":[\"anything-goes\"]}", "", ""}, /* open vocabulary */
    /* SDOs */
    {"{\"type\":\"opinion\",\"spec_version\":\"2.1\",\"id\":\"opinion" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"opinion\":\"maybe\",\"object_refs\":[\"indicator" ID2 "\"]}", "opinion", "not one of"},
    {"{\"type\":\"observed-data\",\"spec_version\":\"2.1\",\"id\":\"observed-data" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"first_observed\":\"2016-04-06T20:03:48Z\",\"last_observed\":\"2016-04-06T20:03:47Z\",\"number_observed\":1,\"object_refs\":[\"ipv4-addr" ID2 "\"]}", "last_observed", "earlier"},
    {"{\"type\":\"observed-data\",\"spec_version\":\"2.1\",\"id\":\"observed-data" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"first_observed\":\"2016-04-06T20:03:48Z\",\"last_observed\":\"2016-04-06T20:03:48Z\",\"number_observed\":0,\"object_refs\":[\"ipv4-addr" ID2 "\"]}", "number_observed", "between"},
    {"{\"type\":\"observed-data\",\"spec_version\":\"2.1\",\"id\":\"observed-data" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"first_observed\":\"2016-04-06T20:03:48Z\",\"last_observed\":\"2016-04-06T20:03:48Z\",\"number_observed\":1}", "object_refs", "exactly one"},
    {"{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"sighting_of_ref\":\"indicator" ID2 "\",\"count\":1000000000}", "count", "between"},
    {"{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"sighting_of_ref\":\"indicator" ID2 "\",\"where_sighted_refs\":[\"malware" ID2 "\"]}", "where_sighted_refs[0]", "identity"},
    {"{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":\"relationship" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"relationship_type\":\"uses\",\"source_ref\":\"malware" ID2 "\",\"target_ref\":\"marking-definition" ID2 "\"}", "target_ref", "marking-definition"},
    {"{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":\"relationship" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"relationship_type\":\"uses\",\"source_ref\":\"malware" ID2 "\"}", "target_ref", "missing"},
    {"{\"type\":\"location\",\"spec_version\":\"2.1\",\"id\":\"location" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"latitude\":91,\"longitude\":0}", "latitude", "between"},
    {"{\"type\":\"location\",\"spec_version\":\"2.1\",\"id\":\"location" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"latitude\":48.8}", "longitude", "together"},
    {"{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"malware" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"is_family\":true}", "name", "family"},
    {"{\"type\":\"report\",\"spec_version\":\"2.1\",\"id\":\"report" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"name\":\"r\",\"object_refs\":[\"indicator" ID2 "\"]}", "published", "missing"},
    /* SMOs */
    {"{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"marking-definition" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"definition_type\":\"statement\",\"definition\":{\"statement\":\"Copyright\"}}", "", ""},
    {"{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"marking-definition" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"definition_type\":\"tlp\",\"definition\":{\"tlp\":\"purple\"}}", "definition.tlp", "TLP"},
    {"{\"type\":\"extension-definition\",\"spec_version\":\"2.1\",\"id\":\"extension-definition" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"created_by_ref\":\"identity" ID2 "\",\"name\":\"n\",\"schema\":\"s\",\"version\":\"1\",\"extension_types\":[\"new-thing\"]}", "extension_types[0]", "not one of"},
    {"{\"type\":\"language-content\",\"spec_version\":\"2.1\",\"id\":\"language-content" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"object_ref\":\"indicator" ID2 "\"}", "contents", "missing"},
    {"{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\",\"created\":\"2017-01-20T00:00:00.000Z\",\"definition_type\":\"tlp\",\"name\":\"TLP:AMBER\",\"definition\":{\"tlp\":\"amber\"},\"x_note\":1}", "x_note", "no other"},
    /* SCOs */
    {"{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr" ID2 "\",\"value\":\"10.0.0.0/8\"}", "", ""},
    {"{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr" ID2 "\",\"value\":\"10.0.0.256\"}", "value", "IPv4"},
    {"{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr" ID2 "\",\"value\":\"10.0.0.1/33\"}", "value", "IPv4"},
    {"{\"type\":\"ipv6-addr\",\"id\":\"ipv6-addr" ID2 "\",\"value\":\"2001:db8::/32\"}", "", ""},
    {"{\"type\":\"ipv6-addr\",\"id\":\"ipv6-addr" ID2 "\",\"value\":\"::ffff:192.0.2.1\"}", "", ""},
    {"{\"type\":\"ipv6-addr\",\"id\":\"ipv6-addr" ID2 "\",\"value\":\"2001:db8::1::2\"}", "value", "IPv6"},
    {"{\"type\":\"mac-addr\",\"id\":\"mac-addr" ID2 "\",\"value\":\"D2:FB:49:24:37:18\"}", "value", "MAC"},
    {"{\"type\":\"file\",\"id\":\"file" ID2 "\",\"hashes\":{\"MD5\":\"zz\"}}", "hashes.MD5", "32 hex"},
    {"{\"type\":\"file\",\"id\":\"file" ID2 "\",\"size\":1}", "", "hashes or name"},
    {"{\"type\":\"file\",\"id\":\"file" ID2 "\",\"name\":\"a\",\"extensions\":{\"archive-ext\":{\"comment\":\"c\"}}}", "extensions.archive-ext.contains_refs", "missing"},
    {"{\"type\":\"file\",\"id\":\"file" ID2 "\",\"name\":\"a\",\"extensions\":{\"tcp-ext\":{\"src_flags_hex\":\"00\"}}}", "extensions.tcp-ext", "network-traffic"},
    {"{\"type\":\"network-traffic\",\"id\":\"network-traffic" ID2 "\",\"protocols\":[\"tcp\"],\"src_ref\":\"ipv4-addr" ID2 "\",\"dst_port\":70000}", "dst_port", "between"},
    {"{\"type\":\"network-traffic\",\"id\":\"network-traffic" ID2 "\",\"protocols\":[\"tcp\"]}", "src_ref", "dst_ref"},
    {"{\"type\":\"email-message\",\"id\":\"email-message" ID2 "\",\"is_multipart\":false,\"from_ref\":\"ipv4-addr" ID2 "\"}", "from_ref", "email-addr"},
    {"{\"type\":\"artifact\",\"id\":\"artifact" ID2 "\",\"url\":\"https://x.example/a\"}", "hashes", "url"},
    {"{\"type\":\"windows-registry-key\",\"id\":\"windows-registry-key" ID2 "\",\"key\":\"HKLM\\\\Software\"}", "key", "full"},
    {"{\"type\":\"process\",\"id\":\"process" ID2 "\"}", "", "at least one"},
    {"{\"type\":\"url\",\"id\":\"url" ID2 "\",\"value\":\"not a url\"}", "value", "URL"},
    {"{\"type\":\"autonomous-system\",\"id\":\"autonomous-system" ID2 "\",\"number\":\"15139\"}", "number", "integer"},
    /* custom types and bundles */
    {"{\"type\":\"x-acme-widget\",\"id\":\"x-acme-widget" ID2 "\",\"spec_version\":\"2.1\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"x_size\":3}", "", ""},
    {"{\"type\":\"bundle\",\"id\":\"bundle" ID2 "\",\"objects\":[" IND "},{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr" ID2 "\",\"value\":\"1.2.3\"}]}", "objects[1].value", "IPv4"},
};

static void test_stix_validate_rules(void **state)
{
    for (size_t i = 0; i < sizeof vcases / sizeof vcases[0]; i++) {
        const struct vcase *c = &vcases[i];
        json_t *v = NULL;
        dt_err err = {0};
        if (c->where == NULL) {
            assert_int_equal(stix_json_parse(c->json, strlen(c->json), NULL, &v, &err), DT_EPARSE);
            continue;
        }
        if (stix_json_parse(c->json, strlen(c->json), NULL, &v, &err) != DT_OK)
            fail_msg("case %zu does not parse: %s", i, err.msg);
        dt_status rc = stix_validate(v, NULL, &err);
        if (c->where[0] == '\0' && c->word[0] == '\0') {
            if (rc != DT_OK)
                fail_msg("case %zu should be valid: %s: %s", i, err.where, err.msg);
        } else {
            if (rc != DT_EINVALID)
                fail_msg("case %zu should be invalid (%s)", i, c->where);
            if (strcmp(err.where, c->where) != 0)
                fail_msg("case %zu: where \"%s\", expected \"%s\" (%s)", i, err.where, c->where,
                         err.msg);
            if (strstr(err.msg, c->word) == NULL)
                fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err.msg, c->word);
        }
        json_decref(v);
    }
}

static void test_stix_validate_assume_spec_version(void **state)
{
    json_t *v = parse("{\"type\":\"campaign\",\"id\":\"campaign" ID2 "\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"name\":\"c\"}");
    stix_limits lim;
    dt_err err = {0};
    stix_limits_default(&lim);
    assert_int_equal(stix_validate(v, &lim, &err), DT_EINVALID);
    assert_string_equal(err.where, "spec_version");
    lim.assume_spec_version = true;
    assert_int_equal(stix_validate(v, &lim, NULL), DT_OK);
    stix_object *o = NULL;
    assert_int_equal(stix_object_take(v, &lim, &o, NULL), DT_OK);
    assert_string_equal(o->spec_version, "2.1");
    assert_int_equal(o->kind, STIX_KIND_SDO);
    assert_true(o->has_created && o->has_modified);
    stix_object_free(o);
}

static void test_stix_object_take_frees_on_failure(void **state)
{
    json_t *v = parse("{\"type\":\"campaign\"}");
    stix_object *o = (stix_object *)1;
    dt_err err = {0};
    assert_int_equal(stix_object_take(v, NULL, &o, &err), DT_EINVALID);
    assert_null(o); /* and v was freed: ASan's leak check holds us to it */
    assert_int_equal(stix_type_kind("sighting"), STIX_KIND_SRO);
    assert_int_equal(stix_type_kind("x-foo"), STIX_KIND_CUSTOM);
    assert_int_equal(stix_type_kind("language-content"), STIX_KIND_SMO);
    assert_int_equal(stix_type_kind("mac-addr"), STIX_KIND_SCO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stix_jcs_rfc_numbers),
        cmocka_unit_test(test_stix_jcs_rfc_structure),
        cmocka_unit_test(test_stix_jcs_rfc_utf16_sorting),
        cmocka_unit_test(test_stix_jcs_rejects_big_integers),
        cmocka_unit_test(test_stix_jcs_escapes),
        cmocka_unit_test(test_stix_json_parse_duplicate_key),
        cmocka_unit_test(test_stix_json_parse_depth_limit),
        cmocka_unit_test(test_stix_json_parse_bad_text),
        cmocka_unit_test(test_stix_input_walk_shapes),
        cmocka_unit_test(test_stix_sco_id_vectors),
        cmocka_unit_test(test_stix_validate_oasis_examples),
        cmocka_unit_test(test_stix_validate_rules),
        cmocka_unit_test(test_stix_validate_assume_spec_version),
        cmocka_unit_test(test_stix_object_take_frees_on_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
