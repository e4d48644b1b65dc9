/* Whole-file reads (with transparent gzip) and atomic writes.
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

static dt_status read_fd(int fd, const char *path, size_t max, dt_buf *b, dt_err *err)
{
    /* b->max is max + one chunk, so reading past max shows as len > max */
    for (;;) {
        dt_status rc;
        ssize_t n;
        if (b->len > max)
            return dt_fail(err, DT_ELIMIT, path, "file is larger than the limit of %zu bytes", max);
        rc = dt_buf_reserve(b, 65536, err);
        if (rc != DT_OK)
            return rc;
        n = read(fd, b->data + b->len, 65536);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return dt_fail(err, DT_EIO, path, "cannot read: %s", strerror(errno));
        }
        if (n == 0)
            return DT_OK;
        b->len += (size_t)n;
        b->data[b->len] = '\0';
    }
}

static dt_status gunzip(const char *path, const char *in, size_t len, size_t max, dt_buf *out,
                        dt_err *err)
{
    z_stream z;
    int zr = Z_OK;
    dt_status rc = DT_OK;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return dt_fail(err, DT_ENOMEM, path, "cannot start gzip decoder");
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    while (zr != Z_STREAM_END) {
        if (out->len >= max) {
            rc = dt_fail(err, DT_ELIMIT, path, "gzip content is larger than the limit of %zu bytes",
                         max);
            break;
        }
        size_t room = max - out->len < 1 << 20 ? max - out->len : 1 << 20;
        rc = dt_buf_reserve(out, room, err);
        if (rc != DT_OK)
            break;
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = (uInt)room;
        zr = inflate(&z, Z_NO_FLUSH);
        out->len += room - z.avail_out;
        out->data[out->len] = '\0';
        if (zr == Z_STREAM_END && z.avail_in > 0) {
            /* concatenated gzip members (as `cat a.gz b.gz` makes) */
            if (inflateReset(&z) != Z_OK)
                break;
            zr = Z_OK;
            continue;
        }
        if (zr == Z_BUF_ERROR && z.avail_in == 0) {
            rc = dt_fail(err, DT_EPARSE, path, "truncated gzip data after %zu bytes of output",
                         out->len);
            break;
        }
        if (zr != Z_OK && zr != Z_STREAM_END) {
            rc = dt_fail(err, DT_EPARSE, path, "corrupt gzip data: %s", z.msg ? z.msg : "error");
            break;
        }
    }
    inflateEnd(&z);
    return rc;
}

dt_status dt_file_read(const char *path, size_t max, char **out, size_t *len, dt_err *err)
{
    dt_buf raw, inflated;
    dt_status rc;
    int fd;
    *out = NULL;
    *len = 0;
    if (strcmp(path, "-") == 0) {
        fd = STDIN_FILENO;
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return dt_fail(err, DT_EIO, path, "cannot open: %s", strerror(errno));
    }
    dt_buf_init(&raw, max > SIZE_MAX - 65536 ? SIZE_MAX - 1 : max + 65536);
    rc = read_fd(fd, path, max, &raw, err);
    if (fd != STDIN_FILENO)
        close(fd);
    if (rc != DT_OK) {
        dt_buf_release(&raw);
        return rc;
    }
    if (raw.len >= 2 && (unsigned char)raw.data[0] == 0x1f && (unsigned char)raw.data[1] == 0x8b) {
        dt_buf_init(&inflated, max);
        rc = gunzip(path, raw.data, raw.len, max, &inflated, err);
        dt_buf_release(&raw);
        if (rc != DT_OK) {
            dt_buf_release(&inflated);
            return rc;
        }
        raw = inflated;
    }
    *len = raw.len;
    *out = dt_buf_take(&raw);
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
