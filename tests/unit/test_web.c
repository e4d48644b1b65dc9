/* Unit tests for web/: which request paths name a dashboard asset (exact
 * matches only), the headers every asset carries, and that the compiled-in
 * page refers to its own script and style sheet and to no other origin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "web/web.h"

static const char *header(const char *name)
{
    for (size_t i = 0; web_headers[i] != NULL; i += 2)
        if (strcmp(web_headers[i], name) == 0)
            return web_headers[i + 1];
    return NULL;
}

static int contains(const web_asset *a, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= a->len; i++)
        if (memcmp(a->data + i, needle, n) == 0)
            return 1;
    return 0;
}

static void test_web_asset_find_known(void **state)
{
    const web_asset *page = web_asset_find("/ui/"), *js = web_asset_find("/ui/app.js");
    const web_asset *css = web_asset_find("/ui/style.css");
    assert_non_null(page);
    assert_non_null(js);
    assert_non_null(css);
    assert_ptr_equal(web_asset_find("/ui/index.html")->data, page->data);
    assert_string_equal(page->content_type, "text/html; charset=utf-8");
    assert_string_equal(js->content_type, "text/javascript; charset=utf-8");
    assert_string_equal(css->content_type, "text/css; charset=utf-8");
    assert_true(page->len > 100 && js->len > 100 && css->len > 100);
    /* NUL-terminated beyond len, and no NUL inside */
    assert_int_equal(page->data[page->len], 0);
    assert_int_equal(strlen((const char *)js->data), js->len);
    assert_true(contains(page, "<!DOCTYPE html>"));
    assert_true(contains(page, "src=\"app.js\""));
    assert_true(contains(page, "href=\"style.css\""));
    assert_false(contains(page, "http://") || contains(page, "https://"));
    assert_false(contains(js, "innerHTML"));
}

static void test_web_asset_find_unknown(void **state)
{
    static const char *const bad[] = {
        "/ui",          "/ui/x",         "/ui/app.js/",   "/ui//app.js",   "/ui/./app.js",
        "/ui/../ui/",   "/ui/%61pp.js",  "/ui/APP.JS",    "/UI/",          "/ui/app.js ",
        "ui/app.js",    "/ui/style.css?", "",             "/taxii2/",      "/ui/assets/app.js",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(web_asset_find(bad[i]));
    assert_null(web_asset_find(NULL));
}

static void test_web_path_is_ui_prefix(void **state)
{
    assert_true(web_path_is_ui("/ui"));
    assert_true(web_path_is_ui("/ui/"));
    assert_true(web_path_is_ui("/ui/../taxii2/"));
    assert_false(web_path_is_ui("/uix"));
    assert_false(web_path_is_ui("/taxii2/ui/"));
    assert_false(web_path_is_ui("/"));
    assert_false(web_path_is_ui(NULL));
}

static void test_web_headers_strict(void **state)
{
    const char *csp = header("Content-Security-Policy");
    assert_non_null(csp);
    assert_non_null(strstr(csp, "default-src 'self'"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_null(strstr(csp, "unsafe"));
    assert_string_equal(header("X-Content-Type-Options"), "nosniff");
    assert_string_equal(header("X-Frame-Options"), "DENY");
    assert_string_equal(header("Referrer-Policy"), "no-referrer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_web_asset_find_known),
        cmocka_unit_test(test_web_asset_find_unknown),
        cmocka_unit_test(test_web_path_is_ui_prefix),
        cmocka_unit_test(test_web_headers_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
