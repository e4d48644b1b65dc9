/* core: the vocabulary every other module speaks.
 *
 * Errors are values (dt_status + dt_err), buffers have a hard cap from init,
 * timestamps follow RFC 3339 as STIX 2.1 restricts it (section 2.12: UTC, "Z",
 * optional sub-second digits), and UUIDs are v4 (random, from libsodium) or
 * v5 (SHA-1 over a namespace, RFC 4122 section 4.3) as STIX ids need them.
 * Nothing here does I/O except dt_file_read, which reads a whole file (or
 * stdin for "-"), inflating gzip transparently. */
#ifndef DETENTE_CORE_H
#define DETENTE_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Append only: a number never changes meaning. */
typedef enum dt_status {
    DT_OK = 0,
    DT_ENOMEM = 1,
    DT_EARG = 2,      /* caller bug */
    DT_EPARSE = 3,    /* syntax */
    DT_EINVALID = 4,  /* breaks a STIX/TAXII rule */
    DT_ELIMIT = 5,
    DT_ENOTFOUND = 6,
    DT_ECONFLICT = 7,
    DT_EDENIED = 8,
    DT_ESIG = 9,      /* bad signature or proof */
    DT_EIO = 10,
    DT_EDB = 11,
    DT_ENET = 12,
} dt_status;

/* where: "objects[3].pattern:17", "peer cert-eu"; msg: what failed and why. */
typedef struct dt_err {
    dt_status code;
    char where[96];
    char msg[256];
} dt_err;

/* Fill err (if not NULL and not already set) and return code. The first
 * (deepest) failure wins: a set err is never overwritten. */
dt_status dt_fail(dt_err *err, dt_status code, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prefix err->where with context ("ingest bundle--1: " + where). */
void dt_err_prefix(dt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dt_err_clear(dt_err *err);
/* "where: msg", or just msg when where is empty, into out (always terminated). */
const char *dt_err_text(const dt_err *err, char *out, size_t len);
const char *dt_status_name(dt_status s);

#ifdef NDEBUG
#define DT_CHECK(x) do { if (!(x)) return DT_EARG; } while (0)
#else
#include <assert.h>
#define DT_CHECK(x) assert(x)
#endif

/* Allocation goes through these so tests can fail the Nth allocation
 * (dt_alloc_fail_at(n): the nth call from now returns NULL; 0 disables). */
void *dt_malloc(size_t n);
void *dt_calloc(size_t count, size_t size);
void *dt_realloc(void *p, size_t n);
char *dt_strdup(const char *s);
char *dt_strndup(const char *s, size_t n);
void dt_free(void *p);
/* Copy src into dst (cap bytes), truncating; dst is always terminated.
 * Returns true if nothing was cut. */
bool dt_strlcpy(char *dst, const char *src, size_t cap);
void dt_alloc_fail_at(unsigned long n);

/* A growable byte buffer with a maximum fixed at init. Always NUL-terminated
 * past len (data may be NULL while len == 0 and nothing was appended). */
typedef struct dt_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
} dt_buf;

void dt_buf_init(dt_buf *b, size_t max);
void dt_buf_release(dt_buf *b);
void dt_buf_reset(dt_buf *b);
dt_status dt_buf_reserve(dt_buf *b, size_t extra, dt_err *err);
dt_status dt_buf_append(dt_buf *b, const void *p, size_t n, dt_err *err);
dt_status dt_buf_puts(dt_buf *b, const char *s, dt_err *err);
dt_status dt_buf_putc(dt_buf *b, char c, dt_err *err);
dt_status dt_buf_printf(dt_buf *b, dt_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Hand the bytes to the caller (who frees them with dt_free); b is reset. */
char *dt_buf_take(dt_buf *b);

/* Timestamps: seconds since the epoch (UTC) plus nanoseconds, and how many
 * sub-second digits the text had (STIX keeps precision meaningful). */
typedef struct dt_time {
    int64_t sec;
    uint32_t nsec;
    uint8_t digits; /* 0..9 sub-second digits as written */
} dt_time;

#define DT_TIME_LEN 32 /* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" + NUL, with room */

/* Parse a STIX timestamp: YYYY-MM-DDTHH:MM:SS[.s+]Z, UTC only, at most 9
 * sub-second digits, a real calendar date (leap years), second 60 read as
 * a leap second (clamped to :59.999999999). DT_EPARSE with the column. */
dt_status dt_time_parse(const char *s, size_t len, dt_time *out, dt_err *err);
/* True when s has at least millisecond precision (STIX created/modified). */
bool dt_time_has_millis(const dt_time *t);
/* Format with exactly `digits` sub-second digits (0, 3, 6 or 9 typical);
 * digits < 0 means "the digits the value was parsed with, at least 3".
 * out must hold DT_TIME_LEN bytes. */
char *dt_time_format(const dt_time *t, int digits, char out[DT_TIME_LEN]);
int dt_time_cmp(const dt_time *a, const dt_time *b);
dt_time dt_time_now(void);
/* Microseconds since the epoch, the store's date_added unit. */
int64_t dt_time_to_us(const dt_time *t);
dt_time dt_time_from_us(int64_t us);
int64_t dt_now_us(void);
int64_t dt_now_ms(void);

/* UUIDs, as 16 bytes and as the 36-char lower-case text form (+NUL). */
typedef struct dt_uuid { uint8_t b[16]; } dt_uuid;
#define DT_UUID_LEN 37
void dt_uuid_v4(dt_uuid *out);
/* v5: SHA-1(namespace || name), version and variant bits set. */
void dt_uuid_v5(const dt_uuid *ns, const void *name, size_t len, dt_uuid *out);
/* Accepts the canonical 8-4-4-4-12 hex form, either case. */
bool dt_uuid_parse(const char *s, size_t len, dt_uuid *out);
char *dt_uuid_format(const dt_uuid *u, char out[DT_UUID_LEN]);
/* 1..8 for RFC 4122 versions, 0 for the nil/other. */
int dt_uuid_version(const dt_uuid *u);
bool dt_uuid_is_rfc4122(const dt_uuid *u);

/* Hex and base64 (standard alphabet, padded). Decoders reject anything
 * else. *out_len gets the decoded length; cap is the room in out. */
void dt_hex_encode(const uint8_t *in, size_t len, char *out /* 2*len+1 */);
bool dt_hex_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);
size_t dt_base64_len(size_t len); /* encoded length + 1 */
void dt_base64_encode(const uint8_t *in, size_t len, char *out);
bool dt_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* SHA-256 and SHA-1 (OpenSSL libcrypto: SHA instructions where the CPU has them). */
void dt_sha256(const void *p, size_t len, uint8_t out[32]);
void dt_sha256_2(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32]);
void dt_sha1(const void *p, size_t len, uint8_t out[20]);

/* Constant-time equality for secrets of equal length. */
bool dt_ct_equal(const void *a, const void *b, size_t len);

/* A file or standard input read a piece at a time; gzip (one member or
 * several) is inflated on the way, found by its magic bytes. */
typedef struct dt_reader dt_reader;
/* Open path ("-": standard input). */
dt_status dt_reader_open(const char *path, dt_reader **out, dt_err *err);
/* The same over an open descriptor, left open by dt_reader_close; name is
 * used in messages. */
dt_status dt_reader_fdopen(int fd, const char *name, dt_reader **out, dt_err *err);
/* Append up to want bytes to b (NUL-terminated past its length). Fewer only
 * at the end: then dt_reader_eof is true. */
dt_status dt_reader_fill(dt_reader *r, dt_buf *b, size_t want, dt_err *err);
bool dt_reader_eof(const dt_reader *r);
bool dt_reader_gzip(const dt_reader *r);
/* NULL, or why the gzip data ended early (truncated, corrupt, followed by
 * other bytes): what it held before that was given, then the end. */
const char *dt_reader_damage(const dt_reader *r);
void dt_reader_close(dt_reader *r);

/* Read a whole file ("-" is stdin), gunzipping it if it starts with the gzip
 * magic. At most max bytes after inflation (DT_ELIMIT beyond). The caller
 * frees *out with dt_free; it is NUL-terminated past *len. */
dt_status dt_file_read(const char *path, size_t max, char **out, size_t *len, dt_err *err);
/* Write a file atomically: temp file in the same directory, fsync, rename,
 * with the given mode (0600 for secrets). */
dt_status dt_file_write_atomic(const char *path, const void *p, size_t len, unsigned mode,
                               dt_err *err);

/* Validate UTF-8 (no overlongs, no surrogates, <= U+10FFFF). On failure
 * *bad_at is the byte offset of the first bad sequence. */
bool dt_utf8_valid(const char *s, size_t len, size_t *bad_at);

#endif
