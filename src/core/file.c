/* Reading files a piece at a time or whole (gzip inflated on the way) and
 * atomic writes.
 *
 * Inputs are bounded: a reader states the most it will accept, and a gzip
 * bomb stops at that limit with DT_ELIMIT instead of filling memory. Writes
 * go to a temp file in the same directory, are fsynced, then renamed over the
 * target, so a crash leaves either the old file or the new one. */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- reading a piece at a time ---- */

#define READ_BLOCK ((size_t)1 << 20)

struct dt_reader {
    int fd;
    bool own_fd;         /* opened here: closed here */
    char name[256];
    uint8_t *in;         /* bytes read and not yet given (plain) or inflated (gzip) */
    size_t in_len, in_pos;
    bool in_eof;         /* read() said end of file */
    bool gz;
    bool eof;            /* nothing more will come */
    z_stream z;
    size_t in_total;     /* compressed bytes before the current block */
    char damage[200];    /* why the gzip data ended early; "" when it did not */
};

/* Read the next block of the input into in (after what gzip has not
 * consumed yet). */
static dt_status reader_block(dt_reader *r, dt_err *err)
{
    size_t keep = r->gz ? r->z.avail_in : r->in_len - r->in_pos;
    const uint8_t *from = r->gz ? r->z.next_in : r->in + r->in_pos;
    r->in_total += r->in_len - keep;
    if (keep > 0 && from != r->in)
        memmove(r->in, from, keep);
    r->in_len = keep;
    r->in_pos = 0;
    while (!r->in_eof && r->in_len < READ_BLOCK) {
        ssize_t n = read(r->fd, r->in + r->in_len, READ_BLOCK - r->in_len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return dt_fail(err, DT_EIO, r->name, "cannot read: %s", strerror(errno));
        }
        if (n == 0)
            r->in_eof = true;
        r->in_len += (size_t)n;
        if (n > 0)
            break;
    }
    r->z.next_in = r->in;
    r->z.avail_in = (uInt)r->in_len;
    return DT_OK;
}

dt_status dt_reader_fdopen(int fd, const char *name, dt_reader **out, dt_err *err)
{
    dt_reader *r = dt_calloc(1, sizeof *r);
    dt_status rc;
    *out = NULL;
    if (r == NULL || (r->in = dt_malloc(READ_BLOCK)) == NULL) {
        dt_free(r);
        return dt_fail(err, DT_ENOMEM, name, "out of memory");
    }
    r->fd = fd;
    snprintf(r->name, sizeof r->name, "%s", name);
    rc = reader_block(r, err);
    if (rc == DT_OK && r->in_len >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b) {
        r->gz = true;
        if (inflateInit2(&r->z, 15 + 32) != Z_OK) {
            r->gz = false;
            rc = dt_fail(err, DT_ENOMEM, name, "cannot start the gzip decoder");
        }
        r->z.next_in = r->in;
        r->z.avail_in = (uInt)r->in_len;
    }
    if (rc != DT_OK) {
        dt_reader_close(r);
        return rc;
    }
    r->eof = !r->gz && r->in_eof && r->in_len == 0;
    *out = r;
    return DT_OK;
}

dt_status dt_reader_open(const char *path, dt_reader **out, dt_err *err)
{
    int fd;
    dt_status rc;
    if (strcmp(path, "-") == 0)
        return dt_reader_fdopen(STDIN_FILENO, "stdin", out, err);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *out = NULL;
        return dt_fail(err, DT_EIO, path, "cannot open: %s", strerror(errno));
    }
    rc = dt_reader_fdopen(fd, path, out, err);
    if (rc != DT_OK)
        close(fd);
    else
        (*out)->own_fd = true;
    return rc;
}

static void reader_damaged(dt_reader *r, const char *why)
{
    snprintf(r->damage, sizeof r->damage, "%s", why);
    r->eof = true;
}

dt_status dt_reader_fill(dt_reader *r, dt_buf *b, size_t want, dt_err *err)
{
    size_t goal = b->len + want;
    dt_status rc = dt_buf_reserve(b, want + 1, err);
    if (rc != DT_OK)
        return rc;
    while (!r->eof && b->len < goal) {
        if (!r->gz) {
            size_t n = r->in_len - r->in_pos;
            if (n == 0 && r->in_eof) {
                r->eof = true;
                break;
            }
            if (n == 0) { /* past the first block: straight into b */
                ssize_t k = read(r->fd, b->data + b->len, goal - b->len);
                if (k < 0 && errno == EINTR)
                    continue;
                if (k < 0)
                    return dt_fail(err, DT_EIO, r->name, "cannot read: %s", strerror(errno));
                r->in_eof = k == 0;
                b->len += (size_t)k;
                continue;
            }
            if (n > goal - b->len)
                n = goal - b->len;
            memcpy(b->data + b->len, r->in + r->in_pos, n);
            r->in_pos += n;
            b->len += n;
            continue;
        }
        if (r->z.avail_in == 0) {
            if (r->in_eof) {
                reader_damaged(r, "truncated gzip: the compressed data ends early");
                break;
            }
            if ((rc = reader_block(r, err)) != DT_OK)
                return rc;
            continue;
        }
        r->z.next_out = (Bytef *)b->data + b->len;
        r->z.avail_out = (uInt)(goal - b->len > UINT32_MAX ? UINT32_MAX : goal - b->len);
        uInt before = r->z.avail_out;
        int zr = inflate(&r->z, Z_NO_FLUSH);
        b->len += before - r->z.avail_out;
        if (zr == Z_STREAM_END) {
            /* another member may follow (as `cat a.gz b.gz` makes) */
            if (r->z.avail_in < 2 && !r->in_eof && (rc = reader_block(r, err)) != DT_OK)
                return rc;
            if (r->z.avail_in == 0) {
                r->eof = true;
            } else if (r->z.avail_in < 2 || r->z.next_in[0] != 0x1f || r->z.next_in[1] != 0x8b) {
                char why[160];
                snprintf(why, sizeof why, "bytes that are not gzip after the gzip data, at "
                         "compressed byte %zu", r->in_total + (size_t)(r->z.next_in - r->in));
                reader_damaged(r, why);
            } else if (inflateReset(&r->z) != Z_OK) {
                reader_damaged(r, "cannot restart the gzip decoder");
            }
            continue;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            char why[200];
            snprintf(why, sizeof why, "damaged gzip (%s) at compressed byte %zu",
                     r->z.msg ? r->z.msg : "error", r->in_total + (size_t)(r->z.next_in - r->in));
            reader_damaged(r, why);
        }
    }
    if (b->data)
        b->data[b->len] = '\0';
    return DT_OK;
}

bool dt_reader_eof(const dt_reader *r)
{
    return r->eof;
}

bool dt_reader_gzip(const dt_reader *r)
{
    return r->gz;
}

const char *dt_reader_damage(const dt_reader *r)
{
    return r->damage[0] ? r->damage : NULL;
}

void dt_reader_close(dt_reader *r)
{
    if (r == NULL)
        return;
    if (r->gz)
        inflateEnd(&r->z);
    if (r->own_fd)
        close(r->fd);
    dt_free(r->in);
    dt_free(r);
}

dt_status dt_file_read(const char *path, size_t max, char **out, size_t *len, dt_err *err)
{
    dt_reader *r = NULL;
    dt_buf b;
    dt_status rc;
    *out = NULL;
    *len = 0;
    rc = dt_reader_open(path, &r, err);
    if (rc != DT_OK)
        return rc;
    dt_buf_init(&b, max > SIZE_MAX - 2 ? SIZE_MAX - 1 : max + 2);
    /* one byte past max shows an input over the limit */
    while (rc == DT_OK && !dt_reader_eof(r) && b.len <= max)
        rc = dt_reader_fill(r, &b, max + 1 - b.len < READ_BLOCK ? max + 1 - b.len : READ_BLOCK,
                            err);
    if (rc == DT_OK && b.len > max)
        rc = dt_fail(err, DT_ELIMIT, path, "%s is larger than the limit of %zu bytes",
                     dt_reader_gzip(r) ? "gzip content" : "file", max);
    if (rc == DT_OK && dt_reader_damage(r) != NULL)
        rc = dt_fail(err, DT_EPARSE, path, "%s (after %zu bytes of output)", dt_reader_damage(r),
                     b.len);
    dt_reader_close(r);
    if (rc == DT_OK && b.data == NULL)
        rc = dt_buf_reserve(&b, 1, err); /* an empty file: "" */
    if (rc != DT_OK) {
        dt_buf_release(&b);
        return rc;
    }
    b.data[b.len] = '\0';
    *len = b.len;
    *out = dt_buf_take(&b);
    if (*out == NULL)
        return dt_fail(err, DT_ENOMEM, path, "out of memory");
    return DT_OK;
}

dt_status dt_file_write_atomic(const char *path, const void *p, size_t len, unsigned mode,
                               dt_err *err)
{
    char tmp[4096];
    const char *c = p;
    int fd;
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return dt_fail(err, DT_EARG, path, "path too long");
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return dt_fail(err, DT_EIO, path, "cannot create: %s", strerror(errno));
    if (fchmod(fd, (mode_t)mode) != 0)
        goto fail;
    while (len > 0) {
        ssize_t n = write(fd, c, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        c += n;
        len -= (size_t)n;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        fd = -1;
        goto fail;
    }
    return DT_OK;
fail: {
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return dt_fail(err, DT_EIO, path, "cannot write: %s", strerror(e));
}
}
