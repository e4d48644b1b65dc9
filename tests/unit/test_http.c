/* Unit tests for http/'s pure helpers: the status table, Authorization
 * header parsing and the failed-login delay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/http.h"

static void test_http_status_of_table(void **state)
{
    const char *title = NULL;
    assert_int_equal(http_status_of(DT_ENOTFOUND, &title), 404);
    assert_string_equal(title, "Not Found");
    assert_int_equal(http_status_of(DT_EDENIED, NULL), 403);
    assert_int_equal(http_status_of(DT_EPARSE, NULL), 400);
    assert_int_equal(http_status_of(DT_EINVALID, NULL), 400);
    assert_int_equal(http_status_of(DT_ELIMIT, NULL), 413);
    assert_int_equal(http_status_of(DT_ECONFLICT, NULL), 409);
    assert_int_equal(http_status_of(DT_EDB, NULL), 500);
    assert_int_equal(http_status_of((dt_status)999, &title), 500);
    /* client mistakes are never 5xx */
    for (int s = DT_EARG; s <= DT_ESIG; s++)
        assert_true(http_status_of((dt_status)s, NULL) < 500);
}

static void test_http_auth_parse_basic(void **state)
{
    char user[64], secret[128];
    /* "alice:pa:ss" */
    assert_int_equal(http_auth_parse("Basic YWxpY2U6cGE6c3M=", user, sizeof user, secret,
                                     sizeof secret),
                     HTTP_AUTH_BASIC);
    assert_string_equal(user, "alice");
    assert_string_equal(secret, "pa:ss");
    assert_int_equal(http_auth_parse("basic   YWxpY2U6  ", user, sizeof user, secret,
                                     sizeof secret),
                     HTTP_AUTH_BASIC);
    assert_string_equal(secret, "");
}

static void test_http_auth_parse_bearer(void **state)
{
    char user[64], secret[128];
    assert_int_equal(http_auth_parse("Bearer dt_abc-DEF_123", user, sizeof user, secret,
                                     sizeof secret),
                     HTTP_AUTH_BEARER);
    assert_string_equal(secret, "dt_abc-DEF_123");
}

static void test_http_auth_parse_rejects(void **state)
{
    char user[64], secret[16];
    static const char *const bad[] = {
        "Basic",           "Basic !!!!",          "Basic YWxpY2U=" /* no colon */,
        "Basic OnB3",      /* empty user ":pw" */ "Digest abc",
        "Bearer ",         "Bearer a b",          "Bearer 0123456789abcdefXYZ" /* too long */,
        "Basic YWxpY2U6AHB3" /* NUL in password */,
    };
    assert_int_equal(http_auth_parse(NULL, user, sizeof user, secret, sizeof secret),
                     HTTP_AUTH_NONE);
    assert_int_equal(http_auth_parse("", user, sizeof user, secret, sizeof secret),
                     HTTP_AUTH_NONE);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (http_auth_parse(bad[i], user, sizeof user, secret, sizeof secret) != HTTP_AUTH_BAD)
            fail_msg("accepted %s", bad[i]);
    }
}

static void test_http_auth_fail_grows_per_address(void **state)
{
    unsigned a1 = http_auth_fail("192.0.2.1");
    unsigned a2 = http_auth_fail("192.0.2.1");
    unsigned b1 = http_auth_fail("192.0.2.2");
    assert_true(a1 > 0 && a2 > a1);
    assert_int_equal(b1, a1); /* another address starts afresh */
    for (int i = 0; i < 100; i++)
        a2 = http_auth_fail("192.0.2.1");
    assert_true(a2 <= 5000); /* capped */
    http_auth_ok("192.0.2.1");
    assert_int_equal(http_auth_fail("192.0.2.1"), a1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_status_of_table),
        cmocka_unit_test(test_http_auth_parse_basic),
        cmocka_unit_test(test_http_auth_parse_bearer),
        cmocka_unit_test(test_http_auth_parse_rejects),
        cmocka_unit_test(test_http_auth_fail_grows_per_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
