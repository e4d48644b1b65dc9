/* Unit tests for core/: errors, buffers, timestamps, UUIDs, encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

static void test_dt_fail_keeps_first(void **state)
{
    dt_err err = {0};
    assert_int_equal(dt_fail(&err, DT_EPARSE, "pattern", "first %d", 1), DT_EPARSE);
    assert_int_equal(dt_fail(&err, DT_EIO, "file", "second"), DT_EIO);
    assert_int_equal(err.code, DT_EPARSE);
    assert_string_equal(err.msg, "first 1");
    dt_err_prefix(&err, "objects[%d]", 3);
    assert_string_equal(err.where, "objects[3].pattern");
    char text[300];
    assert_string_equal(dt_err_text(&err, text, sizeof text), "objects[3].pattern: first 1");
}

static void test_dt_buf_limit(void **state)
{
    dt_buf b;
    dt_err err = {0};
    dt_buf_init(&b, 8);
    assert_int_equal(dt_buf_puts(&b, "abcd", &err), DT_OK);
    assert_int_equal(dt_buf_printf(&b, &err, "%d", 1234), DT_OK);
    assert_string_equal(b.data, "abcd1234");
    assert_int_equal(dt_buf_putc(&b, 'x', &err), DT_ELIMIT);
    assert_int_equal(b.len, 8);
    dt_buf_release(&b);
}

static void test_dt_alloc_fail(void **state)
{
    dt_buf b;
    dt_err err = {0};
    dt_buf_init(&b, 100);
    dt_alloc_fail_at(1);
    assert_int_equal(dt_buf_puts(&b, "x", &err), DT_ENOMEM);
    assert_int_equal(dt_buf_puts(&b, "x", NULL), DT_OK);
    dt_buf_release(&b);
}

static void test_dt_time_parse_valid(void **state)
{
    dt_time t;
    char out[DT_TIME_LEN];
    const char *s = "2016-05-12T08:17:27.123Z";
    assert_int_equal(dt_time_parse(s, strlen(s), &t, NULL), DT_OK);
    assert_int_equal(t.sec, 1463041047);
    assert_int_equal(t.nsec, 123000000);
    assert_true(dt_time_has_millis(&t));
    assert_string_equal(dt_time_format(&t, -1, out), "2016-05-12T08:17:27.123Z");
    assert_string_equal(dt_time_format(&t, 9, out), "2016-05-12T08:17:27.123000000Z");
    s = "2000-02-29T00:00:00Z";
    assert_int_equal(dt_time_parse(s, strlen(s), &t, NULL), DT_OK);
    assert_false(dt_time_has_millis(&t));
    assert_string_equal(dt_time_format(&t, 0, out), s);
    s = "1969-12-31T23:59:59.5Z";
    assert_int_equal(dt_time_parse(s, strlen(s), &t, NULL), DT_OK);
    assert_int_equal(t.sec, -1);
    assert_string_equal(dt_time_format(&t, 1, out), s);
}

static void test_dt_time_parse_invalid(void **state)
{
    static const char *bad[] = {
        "2016-05-12T08:17:27+00:00", "2016-05-12 08:17:27Z", "2019-02-29T00:00:00Z",
        "2016-13-01T00:00:00Z",       "2016-05-12T24:00:00Z", "2016-05-12T08:17:27.Z",
        "2016-05-12T08:17:27.1234567890Z", "2016-05-12T08:17:27Zx", "2016-05-12",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dt_time t;
        dt_err err = {0};
        assert_int_equal(dt_time_parse(bad[i], strlen(bad[i]), &t, &err), DT_EPARSE);
        assert_true(err.msg[0] != '\0');
    }
}

static void test_dt_uuid_v5_stix(void **state)
{
    /* STIX 2.1 section 2.9 example: ipv4-addr with value 1.2.3.4 (wait: the
     * id over the JCS of {"value":"1.2.3.4"} in the STIX namespace). */
    dt_uuid ns, u;
    char out[DT_UUID_LEN];
    const char *name = "{\"value\":\"1.2.3.4\"}";
    assert_true(dt_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b7", 36, &ns));
    dt_uuid_v5(&ns, name, strlen(name), &u);
    assert_int_equal(dt_uuid_version(&u), 5);
    assert_true(dt_uuid_is_rfc4122(&u));
    dt_uuid_format(&u, out);
    assert_int_equal(strlen(out), 36);
    dt_uuid_v4(&u);
    assert_int_equal(dt_uuid_version(&u), 4);
    assert_false(dt_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b", 35, &u));
    assert_false(dt_uuid_parse("00abedb4_aa42-466c-9c01-fed23315a9b7", 36, &u));
}

static void test_dt_encodings(void **state)
{
    uint8_t bin[8], back[8];
    char hex[17], b64[16];
    size_t n;
    memcpy(bin, "\x00\x01\xfe\xff" "abcd", 8);
    dt_hex_encode(bin, 8, hex);
    assert_string_equal(hex, "0001feff61626364");
    assert_true(dt_hex_decode("0001FEFF61626364", 16, back, sizeof back, &n));
    assert_memory_equal(bin, back, 8);
    assert_false(dt_hex_decode("0g", 2, back, sizeof back, &n));
    dt_base64_encode((const uint8_t *)"hello", 5, b64);
    assert_string_equal(b64, "aGVsbG8=");
    assert_true(dt_base64_decode("aGVsbG8=", 8, back, sizeof back, &n));
    assert_int_equal(n, 5);
    assert_false(dt_base64_decode("aGVsbG8", 7, back, sizeof back, &n));
    assert_false(dt_base64_decode("aGVs*G8=", 8, back, sizeof back, &n));
}

static void test_dt_sha256_known(void **state)
{
    uint8_t h[32];
    char hex[65];
    dt_sha256("abc", 3, h);
    dt_hex_encode(h, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    dt_sha256_2("a", 1, "bc", 2, h);
    dt_hex_encode(h, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_dt_utf8(void **state)
{
    size_t at = 0;
    assert_true(dt_utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15, &at));
    assert_false(dt_utf8_valid("a\xc0\xafz", 4, &at));   /* overlong */
    assert_int_equal(at, 1);
    assert_false(dt_utf8_valid("\xed\xa0\x80", 3, &at)); /* surrogate */
    assert_false(dt_utf8_valid("ab\xe2\x82", 4, &at));   /* truncated */
    assert_int_equal(at, 2);
}

/* A temp file holding bytes; its path is written to path. */
static void temp_file(char *path, const void *p, size_t n)
{
    snprintf(path, 64, "/tmp/detente-core-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

/* gzip of n bytes into out (cap bytes); returns its length. */
static size_t gz(const void *p, size_t n, unsigned char *out, size_t cap)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = z.total_out;
    deflateEnd(&z);
    return len;
}

/* Everything a reader gives, asked for step bytes at a time. */
static char *read_all_by(const char *path, size_t step, size_t *len, const char **damage)
{
    dt_reader *r = NULL;
    dt_buf b;
    static char why[256];
    dt_buf_init(&b, (size_t)1 << 30);
    assert_int_equal(dt_reader_open(path, &r, NULL), DT_OK);
    while (!dt_reader_eof(r)) {
        size_t before = b.len;
        assert_int_equal(dt_reader_fill(r, &b, step, NULL), DT_OK);
        /* fewer bytes than asked only at the end */
        assert_true(b.len - before == step || dt_reader_eof(r));
    }
    *damage = NULL;
    if (dt_reader_damage(r)) {
        snprintf(why, sizeof why, "%s", dt_reader_damage(r));
        *damage = why;
    }
    dt_reader_close(r);
    *len = b.len;
    return dt_buf_take(&b);
}

/* Plain and gzip files (one member, two, truncated, followed by other
 * bytes) read a piece at a time give the same bytes as read whole, and say
 * where gzip data ended early. */
static void test_dt_reader_pieces(void **state)
{
    enum { N = 3 << 20 }; /* more than one read block */
    char *text = malloc(N);
    unsigned char *z = malloc(2 * N);
    char path[64];
    size_t len, zl, zl2;
    const char *damage;
    (void)state;
    assert_non_null(text);
    assert_non_null(z);
    for (size_t i = 0; i < N; i++)
        text[i] = (char)('a' + (i * 7919 + i / 977) % 26);
    const size_t steps[] = {1, 7, 4096, (size_t)1 << 22};
    /* plain */
    temp_file(path, text, N);
    for (size_t k = 1; k < 4; k++) {
        char *got = read_all_by(path, steps[k], &len, &damage);
        assert_int_equal(len, N);
        assert_memory_equal(got, text, N);
        assert_null(damage);
        dt_free(got);
    }
    unlink(path);
    /* two gzip members */
    zl = gz(text, N / 3, z, 2 * N);
    zl2 = gz(text + N / 3, N - N / 3, z + zl, 2 * N - zl);
    temp_file(path, z, zl + zl2);
    for (size_t k = 1; k < 4; k++) {
        char *got = read_all_by(path, steps[k], &len, &damage);
        assert_int_equal(len, N);
        assert_memory_equal(got, text, N);
        assert_null(damage);
        dt_free(got);
    }
    char *whole = NULL;
    assert_int_equal(dt_file_read(path, N, &whole, &len, NULL), DT_OK);
    assert_int_equal(len, N);
    assert_memory_equal(whole, text, N);
    dt_free(whole);
    dt_err err = {0};
    assert_int_equal(dt_file_read(path, N - 1, &whole, &len, &err), DT_ELIMIT);
    unlink(path);
    /* truncated: what came before is given, and why it stopped */
    temp_file(path, z, zl / 2);
    char *got = read_all_by(path, 4096, &len, &damage);
    assert_true(len > 0 && len < N / 3);
    assert_memory_equal(got, text, len);
    assert_non_null(damage);
    assert_non_null(strstr(damage, "truncated gzip"));
    dt_free(got);
    memset(&err, 0, sizeof err);
    assert_int_equal(dt_file_read(path, N, &whole, &len, &err), DT_EPARSE);
    assert_non_null(strstr(err.msg, "truncated gzip"));
    unlink(path);
    /* other bytes after the gzip data */
    memcpy(z + zl, "trailing", 8);
    temp_file(path, z, zl + 8);
    got = read_all_by(path, 7, &len, &damage);
    assert_int_equal(len, N / 3);
    assert_memory_equal(got, text, len);
    assert_non_null(damage);
    assert_non_null(strstr(damage, "not gzip"));
    dt_free(got);
    unlink(path);
    /* empty */
    temp_file(path, "", 0);
    got = read_all_by(path, 10, &len, &damage);
    assert_int_equal(len, 0);
    dt_free(got);
    assert_int_equal(dt_file_read(path, 10, &whole, &len, NULL), DT_OK);
    assert_int_equal(len, 0);
    assert_string_equal(whole, "");
    dt_free(whole);
    unlink(path);
    free(text);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dt_fail_keeps_first), cmocka_unit_test(test_dt_buf_limit),
        cmocka_unit_test(test_dt_alloc_fail),       cmocka_unit_test(test_dt_time_parse_valid),
        cmocka_unit_test(test_dt_time_parse_invalid), cmocka_unit_test(test_dt_uuid_v5_stix),
        cmocka_unit_test(test_dt_encodings),        cmocka_unit_test(test_dt_sha256_known),
        cmocka_unit_test(test_dt_utf8),              cmocka_unit_test(test_dt_reader_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
