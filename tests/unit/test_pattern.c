/* Unit tests for pattern/: parsing (every operator, qualifier and constant
 * type, the spec's examples), validation errors with columns, canonical
 * printing round trips, evaluation with several observations and timing,
 * atom extraction for the scanner. Cases as data live in tests/vectors/pattern/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern.h"
#include "pattern/pattern_int.h"

static char *read_vector(const char *name, size_t *len)
{
    const char *src = getenv("DETENTE_SRC");
    char path[1024];
    char *data = NULL;
    snprintf(path, sizeof path, "%s/tests/vectors/pattern/%s", src ? src : ".", name);
    assert_int_equal(dt_file_read(path, 1u << 24, &data, len, NULL), DT_OK);
    return data;
}

static pattern *parse_ok(const char *text)
{
    pattern *p = NULL;
    dt_err err = {0};
    dt_status rc = pattern_parse(text, strlen(text), &p, &err);
    if (rc != DT_OK)
        fail_msg("%s\n  -> %s: %s", text, err.where, err.msg);
    return p;
}

static char *print(const pattern *p)
{
    dt_buf b;
    dt_buf_init(&b, 1u << 20);
    assert_int_equal(pattern_print(p, &b, NULL), DT_OK);
    return dt_buf_take(&b);
}

/* parse -> print -> parse gives the same tree, and printing is stable */
static void check_roundtrip(const char *text)
{
    pattern *a = parse_ok(text), *b;
    char *t1 = print(a);
    b = parse_ok(t1);
    assert_true(pattern_tree_equal(a, b));
    char *t2 = print(b);
    assert_string_equal(t1, t2);
    dt_free(t1);
    dt_free(t2);
    pattern_free(a);
    pattern_free(b);
}

static void test_pattern_parse_valid_vectors(void **state)
{
    size_t len, n = 0;
    char *data = read_vector("valid.txt", &len);
    char *p = data;
    while (p < data + len) {
        char *nl = memchr(p, '\n', (size_t)(data + len - p));
        if (nl)
            *nl = '\0';
        if (*p && *p != '#') {
            check_roundtrip(p);
            n++;
        }
        p = nl ? nl + 1 : data + len;
    }
    assert_true(n >= 60);
    dt_free(data);
}

static void test_pattern_parse_invalid_vectors(void **state)
{
    size_t len, n = 0;
    char *data = read_vector("invalid.txt", &len);
    char *p = data;
    while (p < data + len) {
        char *nl = memchr(p, '\n', (size_t)(data + len - p));
        if (nl)
            *nl = '\0';
        if (*p && *p != '#') {
            char *t1 = strchr(p, '\t');
            assert_non_null(t1);
            *t1 = '\0';
            char *t2 = strchr(t1 + 1, '\t');
            assert_non_null(t2);
            *t2 = '\0';
            char want_where[32];
            snprintf(want_where, sizeof want_where, "column %s", t1 + 1);
            pattern *pat = NULL;
            dt_err err = {0};
            dt_status rc = pattern_parse(p, strlen(p), &pat, &err);
            if (rc == DT_OK)
                fail_msg("accepted: %s", p);
            assert_null(pat);
            if (strcmp(err.where, want_where) != 0 || strstr(err.msg, t2 + 1) == NULL)
                fail_msg("%s\n  got %s: %s\n  want %s: ...%s...", p, err.where, err.msg,
                         want_where, t2 + 1);
            n++;
        }
        p = nl ? nl + 1 : data + len;
    }
    assert_true(n >= 50);
    dt_free(data);
}

static void test_pattern_parse_precedence(void **state)
{
    /* FOLLOWEDBY loosest, then OR, then AND; qualifiers bind to the nearest */
    pattern *p = parse_ok("[a-b:x = 1] OR [a-b:x = 2] AND [a-b:x = 3] WITHIN 5 SECONDS "
                          "FOLLOWEDBY [a-b:x = 4]");
    assert_int_equal(p->root->kind, OBS_FOLLOWEDBY);
    assert_int_equal(p->root->count, 2);
    pat_obs *or = p->root->kids[0];
    assert_int_equal(or->kind, OBS_OR);
    assert_int_equal(or->kids[0]->kind, OBS_SIMPLE);
    assert_int_equal(or->kids[1]->kind, OBS_AND);
    assert_int_equal(or->kids[1]->kids[1]->kind, OBS_WITHIN);
    assert_int_equal(or->kids[1]->kids[1]->within_us, 5000000);
    pattern_free(p);

    /* inside brackets AND binds tighter than OR; runs become one n-ary node */
    p = parse_ok("[a-b:x = 1 OR a-b:x = 2 AND a-b:x = 3 OR a-b:x = 4]");
    pat_cmp *c = p->root->cmp;
    assert_int_equal(c->kind, CMP_OR);
    assert_int_equal(c->count, 3);
    assert_int_equal(c->kids[1]->kind, CMP_AND);
    pattern_free(p);

    p = parse_ok("[(a-b:x = 1 OR a-b:x = 2) AND a-b:x = 3]");
    char *t = print(p);
    assert_string_equal(t, "[(a-b:x = 1 OR a-b:x = 2) AND a-b:x = 3]");
    dt_free(t);
    pattern_free(p);

    /* left associativity of FOLLOWEDBY keeps parentheses written on the right */
    p = parse_ok("[a-b:x = 1] FOLLOWEDBY ([a-b:x = 2] FOLLOWEDBY [a-b:x = 3])");
    assert_int_equal(p->root->count, 2);
    assert_true(p->root->kids[1]->paren);
    pattern_free(p);
}

static void test_pattern_parse_constants(void **state)
{
    pattern *p = parse_ok("[x-y:v IN ('it\\'s \\\\', -42, 3.5, true, b'AQID', h'0A0b', "
                          "t'2016-06-01T01:30:00.123Z')]");
    pat_cmp *c = p->root->cmp;
    assert_int_equal(c->op, OP_IN);
    assert_int_equal(c->set_count, 7);
    assert_int_equal(c->set[0].kind, PAT_STRING);
    assert_string_equal(c->set[0].s, "it's \\");
    assert_int_equal(c->set[1].i, -42);
    assert_true(c->set[2].f == 3.5);
    assert_true(c->set[3].b);
    assert_int_equal(c->set[4].len, 3);
    assert_memory_equal(c->set[4].s, "\x01\x02\x03", 3);
    assert_int_equal(c->set[5].len, 2);
    assert_memory_equal(c->set[5].s, "\x0a\x0b", 2);
    assert_int_equal(c->set[6].t.sec, 1464744600);
    assert_int_equal(c->set[6].t.nsec, 123000000);
    char *t = print(p);
    assert_string_equal(t, "[x-y:v IN ('it\\'s \\\\', -42, 3.5, true, b'AQID', h'0a0b', "
                           "t'2016-06-01T01:30:00.123Z')]");
    dt_free(t);
    pattern_free(p);

    p = parse_ok("[x-y:v = -9223372036854775808] REPEATS +7 TIMES WITHIN +1.5 SECONDS");
    assert_int_equal(p->root->kind, OBS_WITHIN);
    assert_int_equal(p->root->within_us, 1500000);
    assert_int_equal(p->root->child->repeats, 7);
    assert_true(p->root->child->child->cmp->value.i == INT64_MIN);
    t = print(p);
    assert_string_equal(t, "[x-y:v = -9223372036854775808] REPEATS 7 TIMES WITHIN 1.5 SECONDS");
    dt_free(t);
    pattern_free(p);
}

static void test_pattern_parse_paths(void **state)
{
    pattern *p = parse_ok("[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0 "
                          "AND file:x[-1] = 1]");
    pat_cmp *c = p->root->cmp->kids[0];
    assert_string_equal(c->path.type, "file");
    assert_int_equal(c->path.count, 5);
    assert_string_equal(c->path.steps[1].key, "windows-pebinary-ext");
    assert_true(c->path.steps[1].quoted);
    assert_int_equal(c->path.steps[3].kind, STEP_STAR);
    assert_int_equal(p->root->cmp->kids[1]->path.steps[1].index, -1);
    pattern_free(p);
}

static void expect_error(const char *text, size_t len, dt_status code, const char *where,
                         const char *words)
{
    pattern *p = NULL;
    dt_err err = {0};
    assert_int_equal(pattern_parse(text, len, &p, &err), code);
    assert_null(p);
    if (where)
        assert_string_equal(err.where, where);
    if (strstr(err.msg, words) == NULL)
        fail_msg("'%s' lacks '%s'", err.msg, words);
}

static void test_pattern_parse_limits(void **state)
{
    char buf[2048];
    size_t n = 0;
    /* 65 levels of parentheses: refused, in bounded time */
    for (int i = 0; i < 65; i++)
        buf[n++] = '(';
    n += (size_t)snprintf(buf + n, sizeof buf - n, "[a-b:x = 1]");
    for (int i = 0; i < 65; i++)
        buf[n++] = ')';
    expect_error(buf, n, DT_ELIMIT, "column 65", "nesting deeper than 64");
    /* 63 levels are fine (the brackets count as one) */
    check_roundtrip("((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
                    "[a-b:x = 1]"
                    ")))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))");
    /* too long */
    size_t big = PATTERN_MAX_LEN + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    expect_error(huge, big, DT_ELIMIT, NULL, "limit");
    /* a long chain is fine: n-ary nodes keep the tree shallow */
    size_t m = 0;
    for (int i = 0; i < 3000; i++)
        m += (size_t)snprintf(huge + m, big - m, "%s[a-b:x = %d]", i ? " OR " : "", i);
    pattern *p = NULL;
    assert_int_equal(pattern_parse(huge, m, &p, NULL), DT_OK);
    assert_int_equal(p->root->count, 3000);
    pattern_free(p);
    free(huge);
    /* invalid UTF-8, NUL, columns counted in characters */
    expect_error("[file:name = '\xc3\x28']", 18, DT_EPARSE, "column 15", "invalid UTF-8");
    expect_error("[file:name = 'x'\0]", 18, DT_EPARSE, "column 17", "NUL");
    expect_error("[file:name = '\xc3\xbc\xc3\xbc' AND]", 24, DT_EPARSE, "column 22",
                 "object type");
    expect_error("[file:size = 1.99999999999999999999999e]", 40, DT_EPARSE, NULL, "");
}

static void test_pattern_parse_alloc_failures(void **state)
{
    const char *text = "([file:name MATCHES '^a+$' AND file:size IN (1, 2)] REPEATS 2 TIMES "
                       "FOLLOWEDBY [x-y:z = b'AAAA']) WITHIN 5 SECONDS";
    for (unsigned long n = 1; n < 200; n++) {
        pattern *p = NULL;
        dt_err err = {0};
        dt_alloc_fail_at(n);
        dt_status rc = pattern_parse(text, strlen(text), &p, &err);
        dt_alloc_fail_at(0);
        if (rc == DT_OK) {
            pattern_free(p);
            return;
        }
        assert_int_equal(rc, DT_ENOMEM);
        assert_null(p);
    }
    fail_msg("parse never succeeded");
}

static void test_pattern_explain_tree(void **state)
{
    pattern *p = parse_ok("[a-b:x = 1 AND a-b:y LIKE 'z%'] REPEATS 2 TIMES");
    dt_buf b;
    dt_buf_init(&b, 1 << 16);
    assert_int_equal(pattern_explain(p, &b, NULL), DT_OK);
    assert_non_null(strstr(b.data, "REPEATS 2 TIMES"));
    assert_non_null(strstr(b.data, "\n    observation"));
    assert_non_null(strstr(b.data, "AND: all 2 hold on the same object"));
    assert_non_null(strstr(b.data, "compare a-b:y LIKE 'z%'"));
    dt_buf_release(&b);
    pattern_free(p);
}

static void test_pattern_match_vectors(void **state)
{
    size_t len;
    char *data = read_vector("match.json", &len);
    json_error_t jerr;
    json_t *cases = json_loadb(data, len, 0, &jerr);
    size_t i;
    json_t *c;
    assert_non_null(cases);
    assert_true(json_array_size(cases) >= 60);
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        pattern *p = parse_ok(json_string_value(json_object_get(c, "pattern")));
        bool matched = true;
        dt_err err = {0};
        if (pattern_match(p, json_object_get(c, "objects"), &matched, &err) != DT_OK)
            fail_msg("%s: %s: %s", name, err.where, err.msg);
        if (matched != json_is_true(json_object_get(c, "match")))
            fail_msg("%s: matched=%d", name, matched);
        pattern_free(p);
    }
    json_decref(cases);
    dt_free(data);
}

static void test_pattern_match_bad_observed_data(void **state)
{
    pattern *p = parse_ok("[a-b:x = 1]");
    json_t *objs = json_loads("[{\"type\":\"observed-data\",\"id\":\"observed-data--1\","
                              "\"first_observed\":\"2020-01-01T00:00:00Z\","
                              "\"last_observed\":\"2019-01-01T00:00:00Z\",\"number_observed\":1,"
                              "\"object_refs\":[]}]",
                              0, NULL);
    bool m = true;
    dt_err err = {0};
    assert_int_equal(pattern_match(p, objs, &m, &err), DT_EINVALID);
    assert_false(m);
    assert_non_null(strstr(err.msg, "before first_observed"));
    json_decref(objs);
    objs = json_loads("[{\"type\":\"observed-data\",\"first_observed\":\"2020-01-01T00:00:00Z\","
                      "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":0}]",
                      0, NULL);
    dt_err_clear(&err);
    assert_int_equal(pattern_match(p, objs, &m, &err), DT_EINVALID);
    assert_non_null(strstr(err.msg, "number_observed"));
    json_decref(objs);
    pattern_free(p);
}

static void test_pattern_match_record_single(void **state)
{
    json_t *scos = json_loads("[{\"type\":\"domain-name\",\"id\":\"domain-name--1\","
                              "\"value\":\"evil.example\",\"resolves_to_refs\":[\"ipv4-addr--2\"]},"
                              "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--2\",\"value\":\"10.1.2.3\"}]",
                              0, NULL);
    struct { const char *pattern; bool want; } cases[] = {
        {"[domain-name:resolves_to_refs[*].value ISSUBSET '10.0.0.0/8']", true},
        {"[domain-name:value = 'evil.example'] START t'2020-01-01T00:00:00Z' "
         "STOP t'2020-01-02T00:00:00Z'", true},
        {"[domain-name:value = 'evil.example'] START t'2020-01-02T00:00:00Z' "
         "STOP t'2020-01-03T00:00:00Z'", false},
        {"[domain-name:value = 'evil.example'] AND [ipv4-addr:value = '10.1.2.3']", false},
        {"[domain-name:value = 'evil.example'] OR [ipv4-addr:value = '10.1.2.4']", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pattern *p = parse_ok(cases[i].pattern);
        bool m = !cases[i].want;
        assert_int_equal(pattern_match_record(p, scos, 1577880000000000LL /* 2020-01-01T12:00Z */,
                                              &m, NULL),
                         DT_OK);
        if (m != cases[i].want)
            fail_msg("%s", cases[i].pattern);
        pattern_free(p);
    }
    json_decref(scos);
}

static void test_pattern_match_bounded(void **state)
{
    /* many observations and a combinatorial pattern: an answer in bounded time */
    json_t *objs = json_array();
    for (int i = 0; i < 300; i++) {
        char id[64], ts[32];
        snprintf(id, sizeof id, "url--%d", i);
        snprintf(ts, sizeof ts, "2020-01-01T%02d:%02d:00Z", i / 60, i % 60);
        json_array_append_new(objs, json_pack("{s:s,s:s,s:s}", "type", "url", "id", id, "value",
                                              "http://x/"));
        json_array_append_new(objs, json_pack("{s:s,s:s,s:s,s:i,s:[s]}", "type", "observed-data",
                                              "first_observed", ts, "last_observed", ts,
                                              "number_observed", 1, "object_refs", id));
    }
    pattern *p = parse_ok("([url:value = 'http://x/'] AND [url:value = 'http://x/'] AND "
                          "[url:value = 'http://x/']) REPEATS 5 TIMES WITHIN 60 SECONDS");
    bool m = false;
    dt_err err = {0};
    dt_status rc = pattern_match(p, objs, &m, &err);
    assert_true(rc == DT_OK || rc == DT_ELIMIT);
    if (rc == DT_OK)
        assert_true(m);
    pattern_free(p);
    p = parse_ok("[url:value = 'http://x/'] REPEATS 50 TIMES WITHIN 3000 SECONDS");
    assert_int_equal(pattern_match(p, objs, &m, NULL), DT_OK);
    assert_true(m);
    pattern_free(p);
    p = parse_ok("[url:value = 'http://x/'] REPEATS 50 TIMES WITHIN 2000 SECONDS");
    assert_int_equal(pattern_match(p, objs, &m, NULL), DT_OK);
    assert_false(m);
    pattern_free(p);
    json_decref(objs);
}

static void test_pattern_atoms_extract_simple(void **state)
{
    pattern *p = parse_ok("[domain-name:value = 'EVIL.Example.'] OR [ipv4-addr:value = "
                          "'198.51.100.0/24' OR file:hashes.'SHA-256' = "
                          "'AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F'] OR "
                          "[file:name = 'Setup.EXE']");
    pattern_atoms a;
    assert_int_equal(pattern_atoms_extract(p, &a, NULL), DT_OK);
    assert_int_equal(a.count, 4);
    assert_string_equal(a.atoms[0].type, "domain-name");
    assert_string_equal(a.atoms[0].path, "value");
    assert_string_equal(a.atoms[0].value, "evil.example");
    assert_string_equal(a.atoms[1].value, "198.51.100.0/24");
    assert_string_equal(a.atoms[2].path, "hashes.SHA-256");
    assert_string_equal(a.atoms[2].value,
                        "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f");
    assert_string_equal(a.atoms[3].value, "Setup.EXE");
    pattern_atoms_release(&a);
    assert_int_equal(a.count, 0);
    const char *types[8];
    assert_int_equal(pattern_object_types(p, types, 8), 3);
    assert_string_equal(types[0], "domain-name");
    assert_string_equal(types[1], "ipv4-addr");
    assert_string_equal(types[2], "file");
    assert_int_equal(pattern_object_types(p, types, 1), 3);
    pattern_free(p);
}

static void test_pattern_tests_property(void **state)
{
    (void)state;
    pattern *p = parse_ok("([file:name = 'a.exe' OR file:hashes.MD5 = "
                          "'d41d8cd98f00b204e9800998ecf8427e'] AND "
                          "[x509-certificate:subject LIKE '%x%']) WITHIN 5 SECONDS");
    assert_true(pattern_tests_property(p, "file", "name"));
    assert_true(pattern_tests_property(p, "file", "hashes"));
    assert_true(pattern_tests_property(p, "x509-certificate", "subject"));
    assert_false(pattern_tests_property(p, "file", "size"));
    assert_false(pattern_tests_property(p, "x509-certificate", "issuer"));
    assert_false(pattern_tests_property(p, "domain-name", "name"));
    pattern_free(p);
}

static void test_pattern_atoms_extract_not_simple(void **state)
{
    const char *cases[][2] = {
        {"[a-b:x = 'y'] WITHIN 5 SECONDS", "qualifier"},
        {"[a-b:x = 'y' AND a-b:z = 'w']", "AND"},
        {"[a-b:x = 'y'] AND [a-b:z = 'w']", "AND"},
        {"[a-b:x = 'y'] FOLLOWEDBY [a-b:z = 'w']", "FOLLOWEDBY"},
        {"[a-b:x NOT = 'y']", "NOT"},
        {"[a-b:x != 'y']", "operator"},
        {"[a-b:x LIKE 'y%']", "operator"},
        {"[a-b:x = 5]", "not a string"},
        {"[network-traffic:dst_ref.value = '1.2.3.4']", "reference"},
        {"[a-b:x[0] = 'y']", "list index"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pattern *p = parse_ok(cases[i][0]);
        pattern_atoms a = {0};
        dt_err err = {0};
        assert_int_equal(pattern_atoms_extract(p, &a, &err), DT_EINVALID);
        assert_int_equal(a.count, 0);
        assert_non_null(strstr(err.msg, "not a simple"));
        if (strstr(err.msg, cases[i][1]) == NULL)
            fail_msg("%s: %s", cases[i][0], err.msg);
        pattern_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_parse_valid_vectors),
        cmocka_unit_test(test_pattern_parse_invalid_vectors),
        cmocka_unit_test(test_pattern_parse_precedence),
        cmocka_unit_test(test_pattern_parse_constants),
        cmocka_unit_test(test_pattern_parse_paths),
        cmocka_unit_test(test_pattern_parse_limits),
        cmocka_unit_test(test_pattern_parse_alloc_failures),
        cmocka_unit_test(test_pattern_explain_tree),
        cmocka_unit_test(test_pattern_match_vectors),
        cmocka_unit_test(test_pattern_match_bad_observed_data),
        cmocka_unit_test(test_pattern_match_record_single),
        cmocka_unit_test(test_pattern_match_bounded),
        cmocka_unit_test(test_pattern_atoms_extract_simple),
        cmocka_unit_test(test_pattern_atoms_extract_not_simple),
        cmocka_unit_test(test_pattern_tests_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
