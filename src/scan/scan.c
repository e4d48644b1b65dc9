/* scan: the log readers and the parallel driver (see scan.h).
 *
 * A plain file is mapped whole; gzip and pipes are read a piece at a time
 * (32 MiB of inflated lines, the next piece inflated while the last is
 * scanned, so memory stays two pieces whatever the input's size). Either
 * way a field is tested where it lies: readers walk a line and hand
 * (pointer, length) pairs to the matcher, which copies into a stack buffer
 * only when normalisation must change bytes. A piece is cut into one chunk
 * per thread at line boundaries; Zeek chunks first load the header in
 * force at their start (#fields, #types, #set_separator: one memchr pass
 * for '#' finds every header line; what earlier pieces left in force is
 * carried). Each thread keeps its matches and diagnostics in its own
 * arrays with chunk-relative line numbers; after the join they are
 * renumbered (each chunk's lines are counted) and reported in file order,
 * so 1 and N threads give the same output byte for byte.
 *
 * Speed: a field is parsed only when its class has indicators (or a kept
 * pattern names its type). Zeek lines are split (newline and every tab)
 * in one SSE2 pass. Values are not looked up one by one: each thread
 * gathers them over lines (copied with their line number and timestamp)
 * and looks about a hundred up at once (match_lookup_many), so the cache
 * misses into the filter and table overlap instead of adding up; that is
 * what makes a million indicators cost little more than a thousand. On a
 * file mapping, each worker gives the pages it has scanned back
 * (MADV_DONTNEED every 8 MiB) and maps the next ones ahead in 2 MiB steps,
 * so resident memory is the set plus a few windows whatever the log's
 * size.
 *
 * Zeek TSV: tab-separated, set/vector elements split on the
 * #set_separator, "-" unset and "(empty)" empty. A line whose field count
 * differs from its header is skipped and reported. JSON lines: a small
 * reader that walks keys without building a tree (nested objects become
 * dotted paths, arrays are walked element by element). CSV (RFC 4180):
 * quoted fields with "" escapes and newlines inside quotes (a record then
 * spans lines; chunks and pieces are cut between records); a stray quote
 * costs its line only. */
#define _GNU_SOURCE /* memmem, memrchr */
#include "scan/scan.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_COLS 512
#define MAX_HITS 32
#define DIAG_KEEP 64 /* diagnostics kept per chunk (all are counted) */
#define BUF_MAX ((size_t)1 << 40) /* a dt_buf cap that is no real limit */

/* ---- names ---- */

static const char *const format_names[] = {"auto", "zeek", "json", "csv", "text"};

bool scan_format_parse(const char *s, scan_format *out)
{
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
        if (strcmp(s, format_names[i]) == 0) {
            *out = (scan_format)i;
            return true;
        }
    }
    return false;
}

const char *scan_format_name(scan_format f)
{
    return (unsigned)f < 5 ? format_names[f] : "unknown";
}

static const char *const class_names[SCAN_CLASS_COUNT] = {
    "none",         "domain",      "ip",         "host",      "url",       "hash",
    "x509",         "email",       "answer",     "text",      "guess",     "file-name",
    "file-size",    "file-mime",   "x509-subject", "x509-issuer", "x509-serial",
};

bool scan_class_parse(const char *s, size_t len, scan_class *out)
{
    for (int i = 0; i < SCAN_CLASS_COUNT; i++) {
        if (strlen(class_names[i]) == len && memcmp(s, class_names[i], len) == 0) {
            *out = (scan_class)i;
            return true;
        }
    }
    if (len == 4 && memcmp(s, "file", 4) == 0) {
        *out = SCAN_CLASS_FILE_HASH;
        return true;
    }
    return false;
}

/* ---- field maps ---- */

static void fm_put(scan_fieldmap *fm, const char *name, size_t len, scan_class cls)
{
    if (len == 0 || len >= sizeof fm->e[0].name)
        return;
    for (size_t i = 0; i < fm->count; i++) {
        if (strlen(fm->e[i].name) == len && memcmp(fm->e[i].name, name, len) == 0) {
            fm->e[i].cls = cls;
            return;
        }
    }
    if (fm->count == SCAN_FIELDMAP_MAX)
        return;
    memcpy(fm->e[fm->count].name, name, len);
    fm->e[fm->count].name[len] = '\0';
    fm->e[fm->count].cls = cls;
    fm->count++;
}

void scan_fieldmap_default(scan_fieldmap *fm)
{
    static const struct {
        const char *name;
        scan_class cls;
    } d[] = {
        /* Zeek: conn, dns, ssl, x509, smtp, http, files, notice, weird */
        {"id.orig_h", SCAN_CLASS_ADDR}, {"id.resp_h", SCAN_CLASS_ADDR},
        {"query", SCAN_CLASS_DOMAIN}, {"answers", SCAN_CLASS_ANSWER},
        {"server_name", SCAN_CLASS_DOMAIN}, {"cert_chain_fps", SCAN_CLASS_X509_HASH},
        {"client_cert_chain_fps", SCAN_CLASS_X509_HASH}, {"fingerprint", SCAN_CLASS_X509_HASH},
        {"san.dns", SCAN_CLASS_DOMAIN}, {"san.email", SCAN_CLASS_EMAIL},
        {"san.ip", SCAN_CLASS_ADDR}, {"san.uri", SCAN_CLASS_URL},
        {"mailfrom", SCAN_CLASS_EMAIL}, {"rcptto", SCAN_CLASS_EMAIL}, {"from", SCAN_CLASS_EMAIL},
        {"to", SCAN_CLASS_EMAIL}, {"cc", SCAN_CLASS_EMAIL}, {"reply_to", SCAN_CLASS_EMAIL},
        {"x_originating_ip", SCAN_CLASS_ADDR}, {"path", SCAN_CLASS_ADDR},
        {"helo", SCAN_CLASS_HOST}, {"host", SCAN_CLASS_HOST}, {"referrer", SCAN_CLASS_URL},
        {"md5", SCAN_CLASS_FILE_HASH}, {"sha1", SCAN_CLASS_FILE_HASH},
        {"sha256", SCAN_CLASS_FILE_HASH}, {"tx_hosts", SCAN_CLASS_ADDR},
        {"rx_hosts", SCAN_CLASS_ADDR}, {"src", SCAN_CLASS_ADDR}, {"dst", SCAN_CLASS_ADDR},
        {"filename", SCAN_CLASS_FILE_NAME}, {"mime_type", SCAN_CLASS_FILE_MIME},
        {"total_bytes", SCAN_CLASS_FILE_SIZE}, {"certificate.subject", SCAN_CLASS_X509_SUBJECT},
        {"certificate.issuer", SCAN_CLASS_X509_ISSUER},
        {"certificate.serial", SCAN_CLASS_X509_SERIAL},
        /* ECS */
        {"source.ip", SCAN_CLASS_ADDR}, {"destination.ip", SCAN_CLASS_ADDR},
        {"client.ip", SCAN_CLASS_ADDR}, {"server.ip", SCAN_CLASS_ADDR},
        {"host.ip", SCAN_CLASS_ADDR}, {"source.domain", SCAN_CLASS_DOMAIN},
        {"destination.domain", SCAN_CLASS_DOMAIN}, {"dns.question.name", SCAN_CLASS_DOMAIN},
        {"dns.answers.data", SCAN_CLASS_ANSWER}, {"dns.resolved_ip", SCAN_CLASS_ADDR},
        {"url.full", SCAN_CLASS_URL}, {"url.original", SCAN_CLASS_URL},
        {"url.domain", SCAN_CLASS_DOMAIN}, {"tls.server.hash.sha256", SCAN_CLASS_X509_HASH},
        {"tls.server.hash.sha1", SCAN_CLASS_X509_HASH}, {"tls.server.hash.md5", SCAN_CLASS_X509_HASH},
        {"tls.client.server_name", SCAN_CLASS_DOMAIN}, {"file.hash.md5", SCAN_CLASS_FILE_HASH},
        {"file.hash.sha1", SCAN_CLASS_FILE_HASH}, {"file.hash.sha256", SCAN_CLASS_FILE_HASH},
        {"file.hash.sha512", SCAN_CLASS_FILE_HASH}, {"file.name", SCAN_CLASS_FILE_NAME},
        {"file.size", SCAN_CLASS_FILE_SIZE}, {"file.mime_type", SCAN_CLASS_FILE_MIME},
        {"tls.server.x509.subject.distinguished_name", SCAN_CLASS_X509_SUBJECT},
        {"tls.server.x509.issuer.distinguished_name", SCAN_CLASS_X509_ISSUER},
        {"tls.server.x509.serial_number", SCAN_CLASS_X509_SERIAL},
        {"x509.subject.distinguished_name", SCAN_CLASS_X509_SUBJECT},
        {"x509.issuer.distinguished_name", SCAN_CLASS_X509_ISSUER},
        {"x509.serial_number", SCAN_CLASS_X509_SERIAL}, {"email.from.address", SCAN_CLASS_EMAIL},
        {"email.to.address", SCAN_CLASS_EMAIL}, {"email.sender.address", SCAN_CLASS_EMAIL},
        {"message", SCAN_CLASS_TEXT},
    };
    fm->count = 0;
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        fm_put(fm, d[i].name, strlen(d[i].name), d[i].cls);
}

dt_status scan_fieldmap_parse(scan_fieldmap *fm, const char *spec, dt_err *err)
{
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        scan_class cls;
        if (len > 0) {
            if (eq == NULL || eq == p)
                return dt_fail(err, DT_EARG, "--fields", "'%.*s' is not NAME=CLASS", (int)len, p);
            if (!scan_class_parse(eq + 1, len - (size_t)(eq - p) - 1, &cls))
                return dt_fail(err, DT_EARG, "--fields",
                               "unknown class '%.*s' (domain, ip, host, url, hash, x509, "
                               "email, answer, text, guess, none)",
                               (int)(len - (size_t)(eq - p) - 1), eq + 1);
            if ((size_t)(eq - p) >= sizeof fm->e[0].name)
                return dt_fail(err, DT_EARG, "--fields", "field name too long");
            if (fm->count == SCAN_FIELDMAP_MAX)
                return dt_fail(err, DT_ELIMIT, "--fields", "more than %d fields",
                               SCAN_FIELDMAP_MAX);
            fm_put(fm, p, (size_t)(eq - p), cls);
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return DT_OK;
}

/* -1 when the name is not in the map. */
static int fm_find(const scan_fieldmap *fm, const char *name, size_t len)
{
    if (len == 0 || len >= sizeof fm->e[0].name)
        return -1; /* no name of the map is that long */
    for (size_t i = 0; i < fm->count; i++)
        if (fm->e[i].name[0] == name[0] && strncmp(fm->e[i].name, name, len) == 0 &&
            fm->e[i].name[len] == '\0')
            return (int)fm->e[i].cls;
    return -1;
}

scan_class scan_fieldmap_get(const scan_fieldmap *fm, const char *name, size_t len)
{
    int c = len ? fm_find(fm, name, len) : -1;
    return c < 0 ? SCAN_CLASS_NONE : (scan_class)c;
}

/* ---- timestamps ---- */

bool scan_ts_parse(const char *s, size_t len, int64_t *us)
{
    int64_t sec = 0, frac = 0;
    size_t i = 0, fd = 0;
    if (len == 0)
        return false;
    if (len >= 20 && s[4] == '-' && s[10] == 'T') {
        dt_time t;
        if (dt_time_parse(s, len, &t, NULL) != DT_OK)
            return false;
        *us = dt_time_to_us(&t);
        return true;
    }
    while (i < len && s[i] >= '0' && s[i] <= '9' && i < 12)
        sec = sec * 10 + (s[i++] - '0');
    if (i == 0)
        return false;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (fd < 6) {
                frac = frac * 10 + (s[i] - '0');
                fd++;
            }
            i++;
        }
    }
    if (i != len)
        return false;
    while (fd++ < 6)
        frac *= 10;
    *us = sec * 1000000 + frac;
    return true;
}

/* ---- per-thread worker ---- */

typedef struct rec {
    uint64_t line; /* chunk-relative, 1-based */
    int64_t ts;
    uint32_t ind;
    uint32_t field_off, field_len, val_off, val_len; /* into worker bytes */
    uint8_t type;
    bool has_ts;
    bool by_pattern;  /* from evaluating a whole pattern on the record */
    uint8_t sco;      /* then: the SCO bit index of the reported value */
    uint8_t part;     /* and the part of the record it is (an obs sco) */
} rec;

/* An observable of the line being scanned, kept for pattern evaluation. */
typedef struct obs {
    uint8_t sco;      /* SCO bit index; NT_* for connection parts */
    uint32_t field_off, field_len, val_off, val_len; /* into worker obs_bytes */
} obs;

/* Connection parts (Zeek id.* and proto columns) as pseudo bit indices,
 * then the properties of a file and of a certificate other than hashes. */
enum { NT_ORIG_H = 8, NT_RESP_H, NT_ORIG_P, NT_RESP_P, NT_PROTO, NT_COUNT };
enum { FP_NAME = NT_COUNT, FP_SIZE, FP_MIME, XP_SUBJECT, XP_ISSUER, XP_SERIAL, PART_END };
#define FP_BITS ((1u << FP_NAME) | (1u << FP_SIZE) | (1u << FP_MIME))
#define XP_BITS ((1u << XP_SUBJECT) | (1u << XP_ISSUER) | (1u << XP_SERIAL))

/* The STIX property of a file's or certificate's part. */
static const char *part_key(unsigned part)
{
    static const char *const keys[] = {"name",    "size",   "mime_type",
                                       "subject", "issuer", "serial_number"};
    return part >= FP_NAME && part < PART_END ? keys[part - FP_NAME] : "hashes";
}

/* The property path of a part within an object of its SCO type. */
static const char *part_property(unsigned part)
{
    static const char *const nt[] = {"src_ref.value", "dst_ref.value", "src_port", "dst_port",
                                     "protocols"};
    if (part == MATCH_FILE_HASH || part == MATCH_X509_HASH || part >= NT_COUNT)
        return part_key(part);
    return part >= NT_ORIG_H ? nt[part - NT_ORIG_H] : "value";
}

/* The SCO type (bit index) an observable part belongs to. */
static unsigned part_sco(unsigned part)
{
    if (part < NT_ORIG_H)
        return part;
    if (part < NT_COUNT)
        return MATCH_SCO_NETWORK_TRAFFIC;
    return part < XP_SUBJECT ? MATCH_FILE_HASH : MATCH_X509_HASH;
}
#define MAX_OBS 64
#define MAX_CANDS 256

/* A value waiting for the batched lookup. Its bytes are not copied when
 * they lie in the input, which outlives the scan; values made on the side
 * (refanged, unescaped) and JSON paths are copied into cand_mem. */
typedef struct cand {
    uint64_t line;
    int64_t ts;
    const char *field, *v;
    const char *ts_text; /* Zeek: the line's ts field, parsed only on a hit */
    uint32_t field_len, val_len;
    uint32_t a4;         /* pre4: the IPv4 address, parsed already */
    uint16_t ts_len;
    uint8_t type;
    bool has_ts, pre4;
} cand;
#define FLUSH_CANDS 128 /* values gathered over lines before one batched lookup */
#define CAND_MEM 32768  /* bytes of copied values between two lookups */

typedef struct diag {
    uint64_t line;
    char msg[200];
} diag;

typedef struct col {
    const char *name;
    uint32_t len;
    scan_class cls;
    bool multi; /* may hold several values (Zeek set/vector; all without #types) */
} col;

typedef struct worker {
    const match_set *set;
    const uint64_t *v4map; /* the set's /16 map of IPv4 values and ranges */
    const scan_fieldmap *fm;
    scan_format format;
    const char *base;
    size_t begin, end, max_line;
    size_t data_len;   /* the whole input at base: values in it are not copied */
    _Atomic uint64_t *progress;
    _Atomic uint64_t *progress_lines;
    bool drop_behind;  /* madvise(DONTNEED) the pages already scanned */
    size_t dropped;    /* offset up to which they were */
    size_t populated;  /* offset up to which they are mapped ahead */
    bool active[SCAN_CLASS_COUNT];
    bool type_active[MATCH_TYPE_COUNT]; /* the set has values of the type */
    /* results */
    rec *recs;
    size_t rec_count, rec_cap;
    dt_buf bytes;
    diag diags[DIAG_KEEP];
    size_t diag_count;   /* kept */
    uint64_t diag_total; /* found */
    uint64_t lines, skipped;
    bool oom;
    /* the line being scanned */
    uint64_t lineno;
    size_t line_first_rec;
    bool line_has_ts;
    int64_t line_ts;
    const char *ts_text; /* Zeek: the line's ts, not parsed yet (no pattern needs it) */
    size_t ts_len;
    /* scratch (refang, unescape), reused line after line */
    dt_buf tmp;
    dt_buf csvbuf;     /* a quoted CSV field, unescaped */
    /* the line's values, looked up together when the line is done */
    cand cands[MAX_CANDS];
    size_t cand_count, line_first_cand;
    size_t cand_used;          /* bytes of cand_mem */
    char cand_mem[CAND_MEM];
    /* pattern evaluation: the observables of the line */
    uint32_t pat_types;  /* SCO bits patterns name; 0: no evaluation */
    obs obs[MAX_OBS];
    size_t obs_count;
    uint32_t obs_bits;
    dt_buf obs_bytes;
    int nt_col[NT_COUNT - NT_ORIG_H]; /* Zeek columns of the connection parts, -1 none */
    /* Zeek state */
    uint32_t zoff[MAX_COLS + 1]; /* field starts of the current line */
    size_t zn;                   /* its field count */
    col cols[MAX_COLS];
    size_t ncols;
    uint16_t act[MAX_COLS]; /* the columns with a class to look up, in order */
    size_t nact;
    int ts_col;
    bool have_header, warned_noheader;
    char set_sep;
    /* CSV header (shared, read-only) */
    const col *csv_cols;
    size_t csv_ncols;
} worker;

static void add_diag(worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_diag(worker *w, const char *fmt, ...)
{
    va_list ap;
    w->diag_total++;
    if (w->diag_count == DIAG_KEEP)
        return;
    diag *d = &w->diags[w->diag_count++];
    d->line = w->lineno;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
}

static void emit(worker *w, const cand *c, const char *field, size_t flen, const char *v,
                 size_t vlen, const match_hit *hits, size_t nhits)
{
    /* one record per (indicator, value): an indicator reached twice through
     * one value (itself and a parent domain) counts once */
    for (size_t h = 0; h < nhits; h++) {
        for (uint32_t k = 0; k < hits[h].count; k++) {
            uint32_t ind = hits[h].inds[k];
            bool dup = false;
            for (size_t g = 0; g <= h && !dup; g++)
                for (uint32_t q = 0; q < (g == h ? k : hits[g].count); q++)
                    if (hits[g].inds[q] == ind) {
                        dup = true;
                        break;
                    }
            if (dup)
                continue;
            if (w->rec_count == w->rec_cap) {
                size_t n = w->rec_cap ? w->rec_cap * 2 : 256;
                rec *r = dt_realloc(w->recs, n * sizeof *r);
                if (r == NULL) {
                    w->oom = true;
                    return;
                }
                w->recs = r;
                w->rec_cap = n;
            }
            size_t foff = w->bytes.len;
            if (dt_buf_append(&w->bytes, field, flen, NULL) != DT_OK ||
                dt_buf_append(&w->bytes, v, vlen, NULL) != DT_OK) {
                w->oom = true;
                return;
            }
            w->recs[w->rec_count++] = (rec){
                .line = c->line,
                .ts = c->ts,
                .has_ts = c->has_ts,
                .ind = ind,
                .field_off = (uint32_t)foff,
                .field_len = (uint32_t)flen,
                .val_off = (uint32_t)(foff + flen),
                .val_len = (uint32_t)vlen,
                .type = (uint8_t)hits[h].type,
            };
        }
    }
}

static void cands_flush(worker *w);

static void obs_add(worker *w, unsigned sco, const char *field, size_t flen, const char *v,
                    size_t vlen)
{
    size_t off = w->obs_bytes.len;
    if (w->obs_count == MAX_OBS || vlen > 4096 ||
        dt_buf_append(&w->obs_bytes, field, flen, NULL) != DT_OK ||
        dt_buf_append(&w->obs_bytes, v, vlen, NULL) != DT_OK)
        return; /* beyond what one record is worth: not evaluated */
    w->obs[w->obs_count++] = (obs){(uint8_t)sco, (uint32_t)off, (uint32_t)flen,
                                   (uint32_t)(off + flen), (uint32_t)vlen};
    if (sco < 32)
        w->obs_bits |= 1u << sco;
}

static inline bool in_input(const worker *w, const char *p, size_t len)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)w->base;
    return a >= b && a - b <= w->data_len && len <= w->data_len - (a - b);
}

/* Bytes for a cand: the input itself, or a copy in cand_mem (NULL when it
 * is full: the caller flushes and asks again). */
static const char *cand_keep(worker *w, const char *p, size_t len)
{
    if (in_input(w, p, len))
        return p;
    if (CAND_MEM - w->cand_used < len)
        return NULL;
    char *o = w->cand_mem + w->cand_used;
    memcpy(o, p, len);
    w->cand_used += len;
    return o;
}

/* The value or field of the cand being added (at cand_count) is not in
 * the input: copied. */
static __attribute__((noinline)) void cand_copy(worker *w)
{
    cand *c = &w->cands[w->cand_count];
    const char *kf = cand_keep(w, c->field, c->field_len);
    const char *kv = kf ? cand_keep(w, c->v, c->val_len) : NULL;
    if (kv == NULL) {
        cand keep = *c;
        cands_flush(w); /* both fit in an empty cand_mem */
        c = &w->cands[0];
        *c = keep;
        kf = cand_keep(w, c->field, c->field_len);
        kv = cand_keep(w, c->v, c->val_len);
    }
    c->field = kf;
    c->v = kv;
}

static inline void push_cand(worker *w, match_type t, const char *field, size_t flen,
                             const char *v, size_t vlen, bool pre4, uint32_t a4)
{
    if (vlen > MATCH_VALUE_MAX || flen > 1024)
        return; /* never found: not worth a lookup */
    if (w->cand_count == MAX_CANDS)
        cands_flush(w); /* a line with many values: its timestamp is set later */
    /* written in place, field by field: a struct built on the stack and
     * copied costs a store-forwarding stall per value */
    cand *c = &w->cands[w->cand_count];
    c->line = w->lineno;
    c->field = field;
    c->v = v;
    c->ts_text = NULL;
    c->field_len = (uint32_t)flen;
    c->val_len = (uint32_t)vlen;
    c->a4 = a4;
    c->type = (uint8_t)t;
    c->has_ts = false;
    c->pre4 = pre4;
    if (!in_input(w, field, flen) || !in_input(w, v, vlen))
        cand_copy(w);
    w->cand_count++;
}

static void look(worker *w, match_type t, const char *field, size_t flen, const char *v,
                 size_t vlen)
{
    if (w->pat_types & (1u << t))
        obs_add(w, t, field, flen, v, vlen);
    if (w->type_active[t])
        push_cand(w, t, field, flen, v, vlen, false, 0);
}

/* An IPv4 address the reader has parsed already. */
static void look4(worker *w, const char *field, size_t flen, const char *v, size_t vlen,
                  uint32_t a)
{
    if (w->pat_types & (1u << MATCH_IPV4))
        obs_add(w, MATCH_IPV4, field, flen, v, vlen);
    if (w->type_active[MATCH_IPV4] && match_ipv4_map16_has(w->v4map, a))
        push_cand(w, MATCH_IPV4, field, flen, v, vlen, true, a);
}

static void cand_hit(void *ctx, size_t i, const match_hit *hits, size_t n)
{
    worker *w = ctx;
    cand *c = &w->cands[i];
    if (!c->has_ts && c->ts_text != NULL)
        c->has_ts = scan_ts_parse(c->ts_text, c->ts_len, &c->ts);
    emit(w, c, c->field, c->field_len, c->v, c->val_len, hits, n);
}

/* Look the gathered values up in one batch: their cache misses overlap.
 * Values are gathered over several lines, so the misses of one line
 * overlap with the work on the next ones. */
static void cands_flush(worker *w)
{
    match_query q[MAX_CANDS];
    for (size_t i = 0; i < w->cand_count; i++) {
        const cand *c = &w->cands[i];
        q[i] = (match_query){(match_type)c->type, c->v, c->val_len, c->pre4, c->a4};
    }
    match_lookup_many(w->set, q, w->cand_count, cand_hit, w);
    w->cand_count = 0;
    w->line_first_cand = 0;
    w->cand_used = 0;
}

/* Drop what the current line gave (a broken line). */
static void drop_line(worker *w)
{
    w->cand_count = w->line_first_cand;
    while (w->rec_count > 0 && w->recs[w->rec_count - 1].line == w->lineno)
        w->rec_count--;
}

/* Field values are short: no call, and 8 bytes at a time (the last 8
 * read again rather than one by one). */
static inline bool has_byte(const char *v, size_t len, char c)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (len >= 8 && len <= 64) {
        const uint64_t ones = UINT64_C(0x0101010101010101), high = ones << 7;
        const uint64_t pat = ones * (unsigned char)c;
        for (size_t i = 0;; i += 8) {
            uint64_t x;
            if (i + 8 > len)
                i = len - 8;
            memcpy(&x, v + i, 8);
            x ^= pat;
            if (~(((x & ~high) + ~high) | x | ~high) != 0)
                return true;
            if (i + 8 >= len)
                return false;
        }
    }
#endif
    if (len > 64)
        return memchr(v, c, len) != NULL;
    for (size_t i = 0; i < len; i++)
        if (v[i] == c)
            return true;
    return false;
}

static bool looks_v4(const char *v, size_t len)
{
    return len >= 7 && len <= 15 && v[0] >= '0' && v[0] <= '9' && !has_byte(v, len, ':');
}

static void look_host(worker *w, const char *field, size_t flen, const char *v, size_t vlen)
{
    uint32_t a;
    if (looks_v4(v, vlen) && match_ipv4_parse(v, vlen, &a))
        look4(w, field, flen, v, vlen, a);
    else if (has_byte(v, vlen, ':'))
        look(w, MATCH_IPV6, field, flen, v, vlen);
    else
        look(w, MATCH_DOMAIN, field, flen, v, vlen);
}

/* ---- free text ---- */

static bool is_delim(unsigned char c)
{
    return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == ',' || c == ';' ||
           c == '(' || c == ')' || c == '{' || c == '}' || c == '|' || c == '\\' || c == '^' ||
           c == '`' || c == 0x7F;
}

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Copy the line with defanging undone, into w->tmp. false: nothing to undo. */
static bool refang(worker *w, const char *s, size_t len)
{
    bool any = false;
    for (size_t i = 0; i < len && !any; i++) {
        char c = s[i];
        if (c == '[' || c == '(' ||
            ((c | 0x20) == 'x' && i > 0 && (s[i - 1] | 0x20) == 'h' && i + 1 < len &&
             (s[i + 1] | 0x20) == 'x'))
            any = true;
    }
    if (!any)
        return false;
    dt_buf_reset(&w->tmp);
    if (dt_buf_reserve(&w->tmp, len + 1, NULL) != DT_OK)
        return false;
    char *o = w->tmp.data;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        static const struct {
            const char *from, *to;
        } r[] = {{"[.]", "."}, {"(.)", "."}, {"[dot]", "."}, {"[:]", ":"}, {"[@]", "@"},
                 {"[at]", "@"}, {"[://]", "://"}, {"[/]", "/"}};
        bool done = false;
        if (s[i] == '[' || s[i] == '(') {
            for (size_t k = 0; k < sizeof r / sizeof r[0]; k++) {
                size_t fl = strlen(r[k].from);
                if (i + fl <= len && strncasecmp(s + i, r[k].from, fl) == 0) {
                    size_t tl = strlen(r[k].to);
                    memcpy(o + n, r[k].to, tl);
                    n += tl;
                    i += fl;
                    done = true;
                    break;
                }
            }
        } else if ((s[i] | 0x20) == 'h' && i + 3 < len && (s[i + 1] | 0x20) == 'x' &&
                   (s[i + 2] | 0x20) == 'x' && (s[i + 3] | 0x20) == 'p') {
            memcpy(o + n, "http", 4);
            n += 4;
            i += 4;
            done = true;
        }
        if (!done)
            o[n++] = s[i++];
    }
    w->tmp.len = n;
    o[n] = '\0';
    return true;
}

static void text_token(worker *w, const char *field, size_t flen, const char *t, size_t len);

static void text_piece(worker *w, const char *field, size_t flen, const char *t, size_t len)
{
    uint32_t a;
    static const char trail[] = ".:,!?]";
    while (len > 0 && strchr(trail, t[len - 1]) && t[len - 1] != '\0')
        len--;
    while (len > 0 && (t[0] == '.' || t[0] == '[' || t[0] == ':') && !(len > 2 && t[1] == ':'))
        t++, len--;
    if (len < 3)
        return;
    const char *at = memchr(t, '@', len);
    if (at) {
        look(w, MATCH_EMAIL, field, flen, t, len);
        text_piece(w, field, flen, at + 1, len - (size_t)(at - t) - 1);
        return;
    }
    size_t colons = 0, dots = 0, hex = 0, alpha = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t[i];
        colons += c == ':';
        dots += c == '.';
        hex += is_hex(c);
        alpha += ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c >= 0x80;
    }
    if (colons >= 2) {
        look(w, MATCH_IPV6, field, flen, t, len);
        return;
    }
    if (hex == len && (len == 32 || len == 40 || len == 64 || len == 128)) {
        look(w, MATCH_FILE_HASH, field, flen, t, len);
        look(w, MATCH_X509_HASH, field, flen, t, len);
        return;
    }
    const char *slash = memchr(t, '/', len);
    size_t hl = slash ? (size_t)(slash - t) : len;
    const char *colon = memchr(t, ':', hl);
    size_t host_len = colon ? (size_t)(colon - t) : hl;
    if (dots == 3 && match_ipv4_parse(t, host_len, &a)) {
        look(w, MATCH_IPV4, field, flen, t, host_len);
        return;
    }
    if (dots >= 1 && alpha > 0 && host_len > 2)
        look(w, MATCH_DOMAIN, field, flen, t, host_len);
}

static void text_token(worker *w, const char *field, size_t flen, const char *t, size_t len)
{
    const char *sep = len > 6 ? memmem(t, len, "://", 3) : NULL;
    if (sep) {
        static const char trail[] = ".,:!?]";
        while (len > 0 && strchr(trail, t[len - 1]))
            len--;
        /* the scheme starts at the last non-letter before "://" */
        const char *s = sep;
        while (s > t && (((s[-1] | 0x20) >= 'a' && (s[-1] | 0x20) <= 'z') || s[-1] == '+' ||
                         s[-1] == '-' || s[-1] == '.'))
            s--;
        if (s == sep)
            return;
        size_t ulen = len - (size_t)(s - t);
        look(w, MATCH_URL, field, flen, s, ulen);
        const char *h = sep + 3, *end = t + len, *he = h;
        while (he < end && *he != '/' && *he != '?' && *he != '#')
            he++;
        const char *at = memchr(h, '@', (size_t)(he - h));
        if (at)
            h = at + 1;
        const char *hp = he;
        if (h < he && *h == '[') {
            const char *rb = memchr(h, ']', (size_t)(he - h));
            if (rb) {
                look(w, MATCH_IPV6, field, flen, h + 1, (size_t)(rb - h - 1));
                return;
            }
        }
        const char *colon = memchr(h, ':', (size_t)(he - h));
        if (colon)
            hp = colon;
        if (hp > h)
            look_host(w, field, flen, h, (size_t)(hp - h));
        return;
    }
    /* key=value pieces */
    while (len > 0) {
        const char *eq = memchr(t, '=', len);
        size_t pl = eq ? (size_t)(eq - t) : len;
        text_piece(w, field, flen, t, pl);
        if (!eq)
            break;
        t = eq + 1;
        len -= pl + 1;
    }
}

static void scan_text(worker *w, const char *field, size_t flen, const char *s, size_t len)
{
    size_t i = 0;
    if (refang(w, s, len)) {
        s = w->tmp.data;
        len = w->tmp.len;
    }
    while (i < len) {
        while (i < len && is_delim((unsigned char)s[i]))
            i++;
        size_t st = i;
        while (i < len && !is_delim((unsigned char)s[i]))
            i++;
        if (i - st >= 3)
            text_token(w, field, flen, s + st, i - st);
    }
}

/* ---- one value of a class ---- */

static void scan_value(worker *w, scan_class cls, const char *field, size_t flen, const char *v,
                       size_t vlen)
{
    if (vlen == 0)
        return;
    switch (cls) {
    case SCAN_CLASS_DOMAIN:
        look(w, MATCH_DOMAIN, field, flen, v, vlen);
        break;
    case SCAN_CLASS_ADDR: {
        uint32_t a;
        /* a dotted quad is the common case: tried first, it fails on the
         * first byte that is not a digit or a dot */
        if (match_ipv4_parse(v, vlen, &a))
            look4(w, field, flen, v, vlen, a);
        else
            look(w, has_byte(v, vlen, ':') ? MATCH_IPV6 : MATCH_IPV4, field, flen, v, vlen);
        break;
    }
    case SCAN_CLASS_HOST:
        look_host(w, field, flen, v, vlen);
        break;
    case SCAN_CLASS_URL:
        look(w, MATCH_URL, field, flen, v, vlen);
        break;
    case SCAN_CLASS_FILE_HASH:
        look(w, MATCH_FILE_HASH, field, flen, v, vlen);
        break;
    case SCAN_CLASS_X509_HASH:
        look(w, MATCH_X509_HASH, field, flen, v, vlen);
        break;
    case SCAN_CLASS_EMAIL:
        look(w, MATCH_EMAIL, field, flen, v, vlen);
        break;
    case SCAN_CLASS_ANSWER:
        if (vlen > 4 && memcmp(v, "TXT ", 4) == 0) {
            /* Zeek writes "TXT <length> <text>" */
            size_t i = 4;
            while (i < vlen && v[i] >= '0' && v[i] <= '9')
                i++;
            if (i < vlen && v[i] == ' ')
                i++;
            scan_text(w, field, flen, v + i, vlen - i);
        } else {
            look_host(w, field, flen, v, vlen);
        }
        break;
    case SCAN_CLASS_TEXT:
        scan_text(w, field, flen, v, vlen);
        break;
    case SCAN_CLASS_FILE_NAME:
    case SCAN_CLASS_FILE_SIZE:
    case SCAN_CLASS_FILE_MIME:
    case SCAN_CLASS_X509_SUBJECT:
    case SCAN_CLASS_X509_ISSUER:
    case SCAN_CLASS_X509_SERIAL:
        obs_add(w, FP_NAME + (unsigned)(cls - SCAN_CLASS_FILE_NAME), field, flen, v, vlen);
        break;
    case SCAN_CLASS_GUESS: {
        match_type t = match_type_guess(v, vlen);
        if (t == MATCH_FILE_HASH) {
            look(w, MATCH_FILE_HASH, field, flen, v, vlen);
            look(w, MATCH_X509_HASH, field, flen, v, vlen);
        } else if (t == MATCH_DOMAIN) {
            if (has_byte(v, vlen, '.') && !has_byte(v, vlen, ' '))
                look(w, t, field, flen, v, vlen);
        } else {
            look(w, t, field, flen, v, vlen);
        }
        break;
    }
    default:
        break;
    }
}

/* ---- Zeek TSV ---- */

static void zeek_header(worker *w, const char *s, size_t len)
{
    if (len > 8 && memcmp(s, "#fields\t", 8) == 0) {
        size_t i = 8;
        w->ncols = 0;
        w->nact = 0;
        w->ts_col = -1;
        w->have_header = true;
        for (int k = 0; k < NT_COUNT - NT_ORIG_H; k++)
            w->nt_col[k] = -1;
        while (i <= len) {
            const char *tab = memchr(s + i, '\t', len - i);
            size_t e = tab ? (size_t)(tab - s) : len;
            if (w->ncols == MAX_COLS) {
                add_diag(w, "more than %d fields in the #fields header: the rest are ignored",
                         MAX_COLS);
                w->have_header = false;
                return;
            }
            col *c = &w->cols[w->ncols];
            c->name = s + i;
            c->len = (uint32_t)(e - i);
            c->multi = true;
            scan_class cls = scan_fieldmap_get(w->fm, c->name, c->len);
            c->cls = w->active[cls] ? cls : SCAN_CLASS_NONE;
            if (c->cls != SCAN_CLASS_NONE)
                w->act[w->nact++] = (uint16_t)w->ncols;
            if (c->len == 2 && memcmp(c->name, "ts", 2) == 0)
                w->ts_col = (int)w->ncols;
            static const char *const nt_names[] = {"id.orig_h", "id.resp_h", "id.orig_p",
                                                   "id.resp_p", "proto"};
            for (int k = 0; k < NT_COUNT - NT_ORIG_H; k++)
                if (strlen(nt_names[k]) == c->len && memcmp(nt_names[k], c->name, c->len) == 0)
                    w->nt_col[k] = (int)w->ncols;
            w->ncols++;
            i = e + 1;
        }
        w->warned_noheader = false;
    } else if (len > 7 && memcmp(s, "#types\t", 7) == 0 && w->have_header) {
        /* only set[...] and vector[...] columns are split on the set
         * separator; a #types line that does not fit #fields changes nothing */
        size_t i = 7, k = 0;
        bool multi[MAX_COLS];
        while (i <= len && k < MAX_COLS) {
            const char *tab = memchr(s + i, '\t', len - i);
            size_t e = tab ? (size_t)(tab - s) : len;
            multi[k++] = (e - i >= 4 && memcmp(s + i, "set[", 4) == 0) ||
                         (e - i >= 7 && memcmp(s + i, "vector[", 7) == 0);
            i = e + 1;
        }
        if (k == w->ncols)
            for (size_t c = 0; c < k; c++)
                w->cols[c].multi = multi[c];
    } else if (len == 16 && memcmp(s, "#set_separator\t", 15) == 0) {
        w->set_sep = s[15];
    }
}

/* Zeek: the end of the line starting at p and its field starts, in one
 * pass (off[0] = 0, then one past each tab, up to max entries). Returns the
 * line's length (without the newline); *nfields the number of fields. */
static size_t zeek_split(const char *p, size_t avail, uint32_t *off, size_t max, size_t *nfields)
{
    size_t i = 0, n = 1;
    off[0] = 0;
#ifdef __SSE2__
    const __m128i tab = _mm_set1_epi8('\t'), nl = _mm_set1_epi8('\n');
    for (; i + 16 <= avail; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned mt = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, tab));
        unsigned mn = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, nl));
        if (mn)
            mt &= (1u << __builtin_ctz(mn)) - 1;
        while (mt) {
            if (n < max)
                off[n] = (uint32_t)(i + (unsigned)__builtin_ctz(mt) + 1);
            n++;
            mt &= mt - 1;
        }
        if (mn) {
            *nfields = n;
            return i + (unsigned)__builtin_ctz(mn);
        }
    }
#endif
    for (; i < avail; i++) {
        if (p[i] == '\n')
            break;
        if (p[i] == '\t') {
            if (n < max)
                off[n] = (uint32_t)(i + 1);
            n++;
        }
    }
    *nfields = n;
    return i;
}

static void zeek_line(worker *w, const char *s, size_t len)
{
    uint32_t *off = w->zoff;
    size_t n;
    if (s[0] == '#') {
        zeek_header(w, s, len);
        return;
    }
    if (!w->have_header) {
        w->skipped++;
        if (!w->warned_noheader) {
            add_diag(w, "no #fields header before this line: lines skipped until one appears");
            w->warned_noheader = true;
        }
        return;
    }
    /* field starts (found with the line's end); off[n] is one past the end
     * of the last field + 1 */
    n = w->zn;
    if (n != w->ncols) {
        w->skipped++;
        add_diag(w, "%s fields where the #fields header has %zu: line skipped",
                 n > w->ncols ? "more" : "fewer", w->ncols);
        return;
    }
    off[n] = (uint32_t)len + 1;
    if (w->ts_col >= 0) {
        const char *t = s + off[w->ts_col];
        size_t tl = off[w->ts_col + 1] - 1 - off[w->ts_col];
        if (w->pat_types)
            w->line_has_ts = scan_ts_parse(t, tl, &w->line_ts);
        else if (tl <= 64) { /* parsed when the line has a match */
            w->ts_text = t;
            w->ts_len = tl;
        }
    }
    if (w->pat_types & (1u << MATCH_SCO_NETWORK_TRAFFIC)) {
        for (int k = 0; k < NT_COUNT - NT_ORIG_H; k++) {
            int c = w->nt_col[k];
            if (c < 0)
                continue;
            size_t fl = off[c + 1] - 1 - off[c];
            if (fl == 0 || (fl == 1 && s[off[c]] == '-'))
                continue;
            obs_add(w, NT_ORIG_H + (unsigned)k, w->cols[c].name, w->cols[c].len, s + off[c], fl);
        }
    }
    for (size_t a = 0; a < w->nact; a++) {
        size_t c = w->act[a];
        scan_class cls = w->cols[c].cls;
        const char *f = s + off[c];
        size_t fl = off[c + 1] - 1 - off[c];
        if ((fl == 1 && f[0] == '-') || (fl == 7 && memcmp(f, "(empty)", 7) == 0))
            continue;
        if (cls == SCAN_CLASS_URL || cls == SCAN_CLASS_TEXT || !w->cols[c].multi) {
            scan_value(w, cls, w->cols[c].name, w->cols[c].len, f, fl);
            continue;
        }
        for (;;) {
            const char *sep = memchr(f, w->set_sep, fl);
            size_t el = sep ? (size_t)(sep - f) : fl;
            scan_value(w, cls, w->cols[c].name, w->cols[c].len, f, el);
            if (!sep)
                break;
            fl -= el + 1;
            f = sep + 1;
        }
    }
}

/* ---- JSON lines ---- */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

/* p at '"'; returns one past the closing quote, or NULL. */
static const char *jl_str(const char *p, const char *end, const char **s, size_t *len,
                            bool *esc)
{
    const char *q = ++p;
    *esc = false;
    while (q < end) {
        if (*q == '"') {
            *s = p;
            *len = (size_t)(q - p);
            return q + 1;
        }
        if (*q == '\\') {
            *esc = true;
            q++;
        }
        q++;
    }
    return NULL;
}

static void put_utf8(char *o, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        o[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        o[(*n)++] = (char)(0xC0 | cp >> 6);
        o[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        o[(*n)++] = (char)(0xE0 | cp >> 12);
        o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        o[(*n)++] = (char)(0xF0 | cp >> 18);
        o[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* Unescape a JSON string body into w->tmp. */
static bool jl_unescape(worker *w, const char *s, size_t len)
{
    dt_buf_reset(&w->tmp);
    if (dt_buf_reserve(&w->tmp, len + 1, NULL) != DT_OK)
        return false;
    char *o = w->tmp.data;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\') {
            o[n++] = s[i];
            continue;
        }
        if (++i >= len)
            return false;
        switch (s[i]) {
        case 'n': o[n++] = '\n'; break;
        case 't': o[n++] = '\t'; break;
        case 'r': o[n++] = '\r'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'u': {
            uint32_t cp = 0;
            if (i + 4 >= len)
                return false;
            for (int k = 1; k <= 4; k++) {
                int h = is_hex((unsigned char)s[i + k]) ? 0 : -1;
                if (h < 0)
                    return false;
                char c = s[i + k];
                cp = cp << 4 | (uint32_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            }
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD; /* lone or paired surrogates: not an observable's bytes */
            put_utf8(o, &n, cp);
            break;
        }
        default: o[n++] = s[i]; break;
        }
    }
    w->tmp.len = n;
    return true;
}

static bool is_ts_key(const char *k, size_t len)
{
    return (len == 2 && memcmp(k, "ts", 2) == 0) ||
           (len == 10 && memcmp(k, "@timestamp", 10) == 0) ||
           (len == 9 && memcmp(k, "timestamp", 9) == 0) ||
           (len == 4 && memcmp(k, "time", 4) == 0) ||
           (len == 5 && memcmp(k, "_time", 5) == 0);
}

static void jl_value_str(worker *w, scan_class cls, const char *key, size_t klen,
                           const char *s, size_t len, bool esc)
{
    if (esc) {
        if (!jl_unescape(w, s, len))
            return;
        /* the scratch buffer is reused by text scanning: copy to a stack buffer */
        char buf[4096];
        if (w->tmp.len > sizeof buf) {
            return;
        }
        memcpy(buf, w->tmp.data, w->tmp.len);
        scan_value(w, cls, key, klen, buf, w->tmp.len);
        return;
    }
    scan_value(w, cls, key, klen, s, len);
}

/* A top-level key naming a connection part (Zeek JSON's id.orig_h, ...). */
static void jl_nt(worker *w, const char *k, size_t klen, const char *v, size_t vlen)
{
    static const char *const names[] = {"id.orig_h", "id.resp_h", "id.orig_p", "id.resp_p",
                                        "proto"};
    for (unsigned i = 0; i < NT_COUNT - NT_ORIG_H; i++)
        if (strlen(names[i]) == klen && memcmp(names[i], k, klen) == 0 && vlen > 0)
            obs_add(w, NT_ORIG_H + i, k, klen, v, vlen);
}

static const char *jl_skip(const char *p, const char *end, int depth);

static const char *jl_object(worker *w, const char *p, const char *end, char *path,
                               size_t plen, int depth);

static const char *jl_array(worker *w, const char *p, const char *end, scan_class cls,
                              const char *key, size_t klen, int depth)
{
    p = skip_ws(p + 1, end);
    if (p < end && *p == ']')
        return p + 1;
    while (p < end) {
        p = skip_ws(p, end);
        if (p >= end)
            return NULL;
        if (*p == '"') {
            const char *s;
            size_t len;
            bool esc;
            p = jl_str(p, end, &s, &len, &esc);
            if (p == NULL)
                return NULL;
            if (cls != SCAN_CLASS_NONE)
                jl_value_str(w, cls, key, klen, s, len, esc);
        } else {
            p = jl_skip(p, end, depth + 1);
            if (p == NULL)
                return NULL;
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == ']')
            return p + 1;
        return NULL;
    }
    return NULL;
}

static const char *jl_skip(const char *p, const char *end, int depth)
{
    if (depth > 32 || p >= end)
        return NULL;
    if (*p == '"') {
        const char *s;
        size_t len;
        bool esc;
        return jl_str(p, end, &s, &len, &esc);
    }
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = skip_ws(p + 1, end);
        if (p < end && *p == close)
            return p + 1;
        while (p < end) {
            p = skip_ws(p, end);
            if (close == '}') {
                const char *s;
                size_t len;
                bool esc;
                if (p >= end || *p != '"' || (p = jl_str(p, end, &s, &len, &esc)) == NULL)
                    return NULL;
                p = skip_ws(p, end);
                if (p >= end || *p != ':')
                    return NULL;
                p = skip_ws(p + 1, end);
            }
            p = jl_skip(p, end, depth + 1);
            if (p == NULL)
                return NULL;
            p = skip_ws(p, end);
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            if (p < end && *p == close)
                return p + 1;
            return NULL;
        }
        return NULL;
    }
    /* number, true, false, null */
    const char *q = p;
    while (q < end && *q != ',' && *q != '}' && *q != ']' && *q != ' ' && *q != '\t')
        q++;
    return q > p ? q : NULL;
}

static const char *jl_object(worker *w, const char *p, const char *end, char *path,
                               size_t plen, int depth)
{
    if (depth > 16)
        return NULL;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    while (p < end) {
        const char *k;
        size_t klen, full;
        bool esc;
        p = skip_ws(p, end);
        if (p >= end || *p != '"' || (p = jl_str(p, end, &k, &klen, &esc)) == NULL)
            return NULL;
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return NULL;
        p = skip_ws(p + 1, end);
        if (p >= end)
            return NULL;
        /* the dotted path of this key */
        full = plen + (plen ? 1 : 0) + klen;
        bool fits = full < 256;
        if (fits) {
            if (plen)
                path[plen] = '.';
            memcpy(path + plen + (plen ? 1 : 0), k, klen);
        }
        scan_class cls = SCAN_CLASS_NONE;
        if (fits) {
            int c = fm_find(w->fm, path, full);
            cls = c >= 0 && w->active[c] ? (scan_class)c : SCAN_CLASS_NONE;
        }
        if (*p == '"') {
            const char *s;
            size_t len;
            bool sesc;
            p = jl_str(p, end, &s, &len, &sesc);
            if (p == NULL)
                return NULL;
            if (fits && plen == 0 && (w->pat_types & (1u << MATCH_SCO_NETWORK_TRAFFIC)))
                jl_nt(w, path, full, s, len);
            if (fits && plen == 0 && is_ts_key(path, full))
                w->line_has_ts = scan_ts_parse(s, len, &w->line_ts);
            else if (cls != SCAN_CLASS_NONE)
                jl_value_str(w, cls, path, full, s, len, sesc);
        } else if (*p == '{' && fits) {
            p = jl_object(w, p, end, path, full, depth + 1);
        } else if (*p == '[') {
            p = jl_array(w, p, end, cls, path, full, depth);
        } else {
            const char *st = p;
            p = jl_skip(p, end, depth + 1);
            if (p && fits && plen == 0 && is_ts_key(path, full))
                w->line_has_ts = scan_ts_parse(st, (size_t)(p - st), &w->line_ts);
            else if (p && fits && plen == 0 && (w->pat_types & (1u << MATCH_SCO_NETWORK_TRAFFIC)))
                jl_nt(w, path, full, st, (size_t)(p - st));
            else if (p && cls == SCAN_CLASS_FILE_SIZE) /* a number, as Zeek JSON writes it */
                scan_value(w, cls, path, full, st, (size_t)(p - st));
        }
        if (p == NULL)
            return NULL;
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '}')
            return p + 1;
        return NULL;
    }
    return NULL;
}

static void jl_line(worker *w, const char *s, size_t len)
{
    char path[256];
    const char *p = skip_ws(s, s + len);
    if (p == s + len)
        return; /* blank */
    if (*p != '{' || (p = jl_object(w, p, s + len, path, 0, 0)) == NULL ||
        skip_ws(p, s + len) != s + len) {
        w->skipped++;
        add_diag(w, "not a JSON object: line skipped");
        /* matches already taken from a broken line are dropped with it */
        drop_line(w);
    }
}

/* ---- CSV ---- */

/* Next field of a CSV line starting at *i. Unquoted fields are returned in
 * place; quoted ones with "" unescaped into buf. */
/* One CSV field at *i: a quoted one is unescaped into out (NULL: not
 * copied, *f is then ""); false when its quotes are not closed or text
 * follows them. */
static bool csv_field(const char *s, size_t len, size_t *i, dt_buf *out, const char **f,
                      size_t *fl)
{
    size_t p = *i;
    if (p < len && s[p] == '"') {
        size_t st = ++p;
        if (out)
            dt_buf_reset(out);
        for (;;) {
            const char *q = memchr(s + p, '"', len - p);
            if (q == NULL)
                return false;
            size_t e = (size_t)(q - s);
            if (out && dt_buf_append(out, s + st, e - st, NULL) != DT_OK)
                return false;
            if (e + 1 < len && s[e + 1] == '"') { /* "" is one quote */
                if (out && dt_buf_putc(out, '"', NULL) != DT_OK)
                    return false;
                p = st = e + 2;
                continue;
            }
            p = e + 1;
            break;
        }
        if (p < len && s[p] != ',')
            return false;
        *f = out && out->data ? out->data : "";
        *fl = out ? out->len : 0;
    } else {
        const char *c = memchr(s + p, ',', len - p);
        size_t e = c ? (size_t)(c - s) : len;
        *f = s + p;
        *fl = e - p;
        p = e;
    }
    *i = p < len ? p + 1 : len + 1;
    return true;
}

static void csv_line(worker *w, const char *s, size_t len)
{
    size_t i = 0, c = 0;
    if (len == 0)
        return;
    while (i <= len && c < w->csv_ncols) {
        const char *f;
        size_t fl;
        if (!csv_field(s, len, &i, &w->csvbuf, &f, &fl)) {
            w->skipped++;
            add_diag(w, "unterminated quoted CSV field: line skipped");
            drop_line(w);
            return;
        }
        const col *k = &w->csv_cols[c];
        if (is_ts_key(k->name, k->len))
            w->line_has_ts = scan_ts_parse(f, fl, &w->line_ts);
        else if (k->cls != SCAN_CLASS_NONE && w->active[k->cls])
            scan_value(w, k->cls, k->name, k->len, f, fl);
        c++;
    }
}

/* CSV (RFC 4180): where the record starting at p ends, its newline or
 * NULL at end; a newline inside quotes belongs to the field, *inner counts
 * them. A quote still open at end: *open when more input may close it
 * (final false), else the record is broken and ends at its first newline
 * (reported when its fields are read); so does one open for more than max
 * bytes, so a stray quote costs one line, not the rest of the file. */
static const char *csv_record_end(const char *p, const char *end, size_t max, bool final,
                                  uint64_t *inner, bool *open)
{
    const char *q = p;
    uint64_t n = 0;
    *inner = 0;
    *open = false;
    for (;;) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        const char *lim = nl ? nl : end;
        const char *qt = memchr(q, '"', (size_t)(lim - q));
        if (qt == NULL) {
            *inner = n;
            return nl;
        }
        const char *close = memchr(qt + 1, '"', (size_t)(end - qt - 1));
        if ((close == NULL && !final && (size_t)(end - p) <= max) ) {
            *open = true;
            return NULL;
        }
        if (close == NULL || (size_t)(close - p) > max)
            return memchr(p, '\n', (size_t)(end - p));
        for (const char *c = memchr(qt + 1, '\n', (size_t)(close - qt - 1)); c != NULL;
             c = memchr(c + 1, '\n', (size_t)(close - c - 1)))
            n++;
        q = close + 1;
    }
}

/* ---- patterns evaluated on the record ---- */

static json_t *obs_value(const worker *w, const obs *o)
{
    return json_stringn(w->obs_bytes.data + o->val_off, o->val_len);
}

static const char *hash_algo(size_t hexlen)
{
    return hexlen == 32 ? "MD5" : hexlen == 40 ? "SHA-1" : hexlen == 64 ? "SHA-256"
         : hexlen == 128 ? "SHA-512" : NULL;
}

/* Of a record's file (or certificate) objects, the first that lacks key
 * (in its hashes when hashes is set), or a new one added to arr with the
 * id made from i: a files.log record's hashes, name and size describe one
 * file, and the fingerprints of a certificate chain one certificate
 * each. NULL on out of memory. */
static json_t *group_obj(json_t *arr, json_t **objs, size_t *n, const char *tname,
                         const char *key, bool hashes, size_t i)
{
    char id[96];
    for (size_t k = 0; k < *n; k++) {
        json_t *h = hashes ? json_object_get(objs[k], "hashes") : objs[k];
        if (json_object_get(h, key) == NULL)
            return objs[k];
    }
    if (*n == MAX_OBS)
        return NULL;
    snprintf(id, sizeof id, "%s--00000000-0000-4000-8000-%012zu", tname, i);
    json_t *o = json_pack("{s:s, s:s}", "type", tname, "id", id);
    if (o == NULL || json_array_append_new(arr, o) != 0)
        return NULL;
    objs[(*n)++] = o;
    return o;
}

/* A file's or certificate's property from part o into its object. False
 * on out of memory; a value the property cannot hold is left out. */
static bool group_add(const worker *w, json_t *arr, json_t **objs, size_t *n, const obs *o,
                      size_t i)
{
    const char *val = w->obs_bytes.data + o->val_off;
    unsigned t = part_sco(o->sco);
    const char *tname = match_sco_name(t);
    json_t *obj, *v;
    if (o->sco == MATCH_FILE_HASH || o->sco == MATCH_X509_HASH) {
        char lower[129];
        const char *algo = hash_algo(o->val_len);
        if (algo == NULL)
            return true;
        for (size_t k = 0; k < o->val_len; k++) {
            char c = val[k];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
                return true;
            lower[k] = (char)(c >= 'A' && c <= 'F' ? c + 32 : c);
        }
        if ((obj = group_obj(arr, objs, n, tname, algo, true, i)) == NULL)
            return false;
        json_t *h = json_object_get(obj, "hashes");
        if (h == NULL && (json_object_set_new(obj, "hashes", h = json_object()) != 0 || h == NULL))
            return false;
        return json_object_set_new(h, algo, json_stringn(lower, o->val_len)) == 0;
    }
    const char *key = part_key(o->sco);
    if (o->sco == FP_SIZE) {
        json_int_t size = 0;
        size_t k = 0;
        while (k < o->val_len && k < 18 && val[k] >= '0' && val[k] <= '9')
            size = size * 10 + (val[k++] - '0');
        if (k == 0 || k != o->val_len)
            return true; /* unset ("-"), or not a count of bytes */
        v = json_integer(size);
    } else if ((v = obs_value(w, o)) == NULL) {
        return true; /* not UTF-8: no string property holds it */
    }
    if ((obj = group_obj(arr, objs, n, tname, key, false, i)) == NULL) {
        json_decref(v);
        return false;
    }
    return json_object_set_new(obj, key, v) == 0;
}

/* The SCOs of the line as a JSON array (ids local to the record). NULL on
 * out of memory. */
static json_t *obs_scos(const worker *w)
{
    json_t *arr = json_array();
    json_t *nt = NULL;
    json_t *files[MAX_OBS], *certs[MAX_OBS];
    size_t nfiles = 0, ncerts = 0;
    char id[96];
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < w->obs_count; i++) {
        const obs *o = &w->obs[i];
        json_t *sco = NULL, *v;
        unsigned sco_type = o->sco;
        if (part_sco(o->sco) == MATCH_FILE_HASH || part_sco(o->sco) == MATCH_X509_HASH) {
            bool file = part_sco(o->sco) == MATCH_FILE_HASH;
            ok = group_add(w, arr, file ? files : certs, file ? &nfiles : &ncerts, o, i);
            continue;
        }
        if (o->sco == NT_ORIG_H || o->sco == NT_RESP_H)
            sco_type = memchr(w->obs_bytes.data + o->val_off, ':', o->val_len) ? MATCH_IPV6
                                                                                : MATCH_IPV4;
        if (o->sco < NT_ORIG_H || o->sco == NT_ORIG_H || o->sco == NT_RESP_H) {
            const char *tname = match_sco_name(sco_type);
            snprintf(id, sizeof id, "%s--00000000-0000-4000-8000-%012zu", tname, i);
            if ((v = obs_value(w, o)) == NULL)
                continue; /* not UTF-8: no SCO's value holds it */
            sco = json_pack("{s:s, s:s, s:o}", "type", tname, "id", id, "value", v);
            ok = sco != NULL && json_array_append_new(arr, sco) == 0;
            if (!ok || o->sco < NT_ORIG_H)
                continue;
        }
        /* a connection part */
        if (nt == NULL) {
            nt = json_pack("{s:s, s:s}", "type", "network-traffic", "id",
                           "network-traffic--00000000-0000-4000-8000-000000000000");
            ok = nt != NULL;
            if (!ok)
                break;
        }
        const char *val = w->obs_bytes.data + o->val_off;
        switch (o->sco) {
        case NT_ORIG_H:
        case NT_RESP_H:
            ok = json_object_set_new(nt, o->sco == NT_ORIG_H ? "src_ref" : "dst_ref",
                                     json_string(id)) == 0;
            break;
        case NT_ORIG_P:
        case NT_RESP_P: {
            long port = 0;
            size_t k = 0;
            while (k < o->val_len && k < 6 && val[k] >= '0' && val[k] <= '9')
                port = port * 10 + (val[k++] - '0');
            if (k == o->val_len && k > 0 && port <= 65535)
                ok = json_object_set_new(nt, o->sco == NT_ORIG_P ? "src_port" : "dst_port",
                                         json_integer(port)) == 0;
            break;
        }
        case NT_PROTO: {
            char pr[16];
            size_t k = 0;
            for (; k < o->val_len && k + 1 < sizeof pr; k++)
                pr[k] = (char)(val[k] >= 'A' && val[k] <= 'Z' ? val[k] + 32 : val[k]);
            json_t *prs = k == o->val_len ? json_pack("[s#]", pr, (int)k) : NULL;
            if (prs != NULL) /* NULL too when it is not UTF-8: left out */
                ok = json_object_set_new(nt, "protocols", prs) == 0;
            break;
        }
        default:
            break;
        }
    }
    if (ok && nt != NULL) {
        ok = json_array_append_new(arr, nt) == 0;
        nt = NULL;
    }
    json_decref(nt);
    if (!ok) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static bool line_has_ind(const worker *w, uint32_t ind)
{
    for (size_t r = w->line_first_rec; r < w->rec_count; r++)
        if (w->recs[r].ind == ind)
            return true;
    return false;
}

static void eval_patterns(worker *w)
{
    uint32_t bits = w->obs_bits;
    json_t *scos = NULL;
    if (bits & ((1u << NT_ORIG_H) | (1u << NT_RESP_H) | (1u << NT_ORIG_P) | (1u << NT_RESP_P) |
                (1u << NT_PROTO)))
        bits |= 1u << MATCH_SCO_NETWORK_TRAFFIC;
    if (bits & FP_BITS)
        bits |= 1u << MATCH_FILE_HASH;
    if (bits & XP_BITS)
        bits |= 1u << MATCH_X509_HASH;
    if ((bits & w->pat_types) == 0)
        return;
    size_t np = match_set_pattern_count(w->set);
    for (size_t i = 0; i < np; i++) {
        uint32_t ind, types;
        const pattern *p = match_set_pattern_get(w->set, i, &ind, &types);
        bool matched = false;
        if ((types & bits) == 0 || line_has_ind(w, ind))
            continue;
        if (scos == NULL && (scos = obs_scos(w)) == NULL) {
            w->oom = true;
            return;
        }
        if (pattern_match_record(p, scos, w->line_has_ts ? w->line_ts : 0, &matched, NULL) !=
                DT_OK ||
            !matched)
            continue;
        /* report the first observable of a type the pattern names (for a
         * connection, its responder address) */
        const obs *o = NULL;
        for (size_t k = 0; k < w->obs_count && o == NULL; k++) {
            unsigned t = w->obs[k].sco;
            unsigned st = part_sco(t);
            if ((t >= NT_ORIG_H && t < NT_COUNT && t != NT_RESP_H) || !(types & (1u << st)))
                continue;
            /* of a file or certificate, a property the pattern tests */
            if ((st == MATCH_FILE_HASH || st == MATCH_X509_HASH) &&
                !pattern_tests_property(p, match_sco_name(st), part_key(t)))
                continue;
            o = &w->obs[k];
        }
        for (size_t k = 0; k < w->obs_count && o == NULL; k++)
            if (types & (1u << part_sco(w->obs[k].sco)))
                o = &w->obs[k];
        if (o == NULL)
            o = &w->obs[0];
        unsigned sco = part_sco(o->sco);
        if (w->rec_count == w->rec_cap) {
            size_t n = w->rec_cap ? w->rec_cap * 2 : 256;
            rec *r = dt_realloc(w->recs, n * sizeof *r);
            if (r == NULL) {
                w->oom = true;
                break;
            }
            w->recs = r;
            w->rec_cap = n;
        }
        size_t foff = w->bytes.len;
        if (dt_buf_append(&w->bytes, w->obs_bytes.data + o->field_off, o->field_len, NULL) !=
                DT_OK ||
            dt_buf_append(&w->bytes, w->obs_bytes.data + o->val_off, o->val_len, NULL) != DT_OK) {
            w->oom = true;
            break;
        }
        w->recs[w->rec_count++] = (rec){
            .line = w->lineno,
            .ind = ind,
            .field_off = (uint32_t)foff,
            .field_len = o->field_len,
            .val_off = (uint32_t)(foff + o->field_len),
            .val_len = o->val_len,
            .type = (uint8_t)(sco < MATCH_TYPE_COUNT ? sco : MATCH_IPV4),
            .by_pattern = true,
            .sco = (uint8_t)sco,
            .part = o->sco,
        };
    }
    json_decref(scos);
}

/* ---- the chunk loop ---- */

static void text_line(worker *w, const char *s, size_t len)
{
    scan_text(w, "text", 4, s, len);
}

#define DROP_STEP ((size_t)8 << 20)

/* Give back the mapped pages wholly inside [w->dropped, upto): the page
 * holding this chunk's first byte is left (the previous chunk may still
 * read it), and nothing at or past upto is touched. */
static void drop_pages(worker *w, size_t upto)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t a = (w->dropped + pg - 1) / pg * pg, b = upto / pg * pg;
    if (b > a)
        madvise((void *)(uintptr_t)(w->base + a), b - a, MADV_DONTNEED);
    w->dropped = b > a ? b : w->dropped;
}

#define PREFETCH_AHEAD 1024
#define POPULATE_STEP ((size_t)2 << 20)

/* Map the next pages of a file mapping in one call rather than a fault
 * every few pages (MADV_POPULATE_READ, Linux 5.14; without it the faults
 * do the same work). */
static void populate_ahead(worker *w)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t a = w->populated > w->begin ? w->populated : w->begin / pg * pg;
    size_t b = a + POPULATE_STEP;
    if (b > w->end)
        b = w->end;
    w->populated = b;
#ifdef MADV_POPULATE_READ
    if (b > a)
        madvise((void *)(uintptr_t)(w->base + a), (b - a + pg - 1) / pg * pg, MADV_POPULATE_READ);
#endif
}

static void *worker_run(void *arg)
{
    worker *w = arg;
    const char *p = w->base + w->begin, *end = w->base + w->end;
    const char *pf = p;
    uint64_t pending = 0, pending_lines = 0, inner = 0;
    while (p < end) {
        const char *nl, *le;
        /* the input is read once, in order, page by page: ask for the
         * cache lines ahead before the hardware prefetcher, which stops at
         * page boundaries, would */
        for (; pf < p + PREFETCH_AHEAD && pf < end; pf += 64)
            __builtin_prefetch(pf);
        if (w->drop_behind && (size_t)(p - w->base) + POPULATE_STEP / 2 >= w->populated)
            populate_ahead(w);
        if (w->format == SCAN_FORMAT_ZEEK) {
            size_t l = zeek_split(p, (size_t)(end - p), w->zoff, MAX_COLS, &w->zn);
            le = p + l;
            nl = le < end ? le : NULL;
        } else if (w->format == SCAN_FORMAT_CSV) {
            bool open;
            nl = csv_record_end(p, end, w->max_line, true, &inner, &open);
            le = nl ? nl : end;
        } else {
            nl = memchr(p, '\n', (size_t)(end - p));
            le = nl ? nl : end;
        }
        size_t len = (size_t)(le - p);
        w->lineno++;
        w->lines++;
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len > w->max_line) {
            w->skipped++;
            add_diag(w, "line of %zu bytes is longer than the limit of %zu: skipped", len,
                     w->max_line);
        } else if (len > 0) {
            w->line_first_rec = w->rec_count;
            w->line_first_cand = w->cand_count;
            w->line_has_ts = false;
            w->ts_text = NULL;
            if (w->pat_types) {
                w->obs_count = 0;
                w->obs_bits = 0;
                dt_buf_reset(&w->obs_bytes);
            }
            switch (w->format) {
            case SCAN_FORMAT_ZEEK: zeek_line(w, p, len); break;
            case SCAN_FORMAT_JSON: jl_line(w, p, len); break;
            case SCAN_FORMAT_CSV: csv_line(w, p, len); break;
            default: text_line(w, p, len); break;
            }
            if (w->line_has_ts)
                for (size_t c = w->line_first_cand; c < w->cand_count; c++) {
                    w->cands[c].has_ts = true;
                    w->cands[c].ts = w->line_ts;
                }
            else if (w->ts_text != NULL)
                for (size_t c = w->line_first_cand; c < w->cand_count; c++) {
                    w->cands[c].ts_text = w->ts_text;
                    w->cands[c].ts_len = (uint16_t)w->ts_len;
                }
            if (w->pat_types) {
                /* evaluation wants the line's indexed matches first */
                if (w->cand_count > 0)
                    cands_flush(w);
                if (w->obs_count > 0)
                    eval_patterns(w);
            } else if (w->cand_count >= FLUSH_CANDS) {
                cands_flush(w);
            }
            /* matches of this line made before its timestamp was known */
            if (!w->line_has_ts && w->ts_text != NULL && w->rec_count > 0 &&
                w->recs[w->rec_count - 1].line == w->lineno)
                w->line_has_ts = scan_ts_parse(w->ts_text, w->ts_len, &w->line_ts);
            for (size_t r = w->rec_count; w->line_has_ts && r > 0 && w->recs[r - 1].line == w->lineno;
                 r--) {
                w->recs[r - 1].has_ts = true;
                w->recs[r - 1].ts = w->line_ts;
            }
        }
        /* a CSV record's inner lines are lines of the file */
        w->lineno += inner;
        w->lines += inner;
        pending_lines += 1 + inner;
        inner = 0;
        const char *next = nl ? nl + 1 : end;
        pending += (size_t)(next - p);
        p = next;
        if (w->drop_behind && (size_t)(p - w->base) - w->dropped >= DROP_STEP)
            drop_pages(w, (size_t)(p - w->base));
        if (w->progress && pending >= (1u << 20)) {
            atomic_fetch_add(w->progress, pending);
            if (w->progress_lines)
                atomic_fetch_add(w->progress_lines, pending_lines);
            pending = pending_lines = 0;
        }
    }
    if (w->cand_count > 0)
        cands_flush(w);
    if (w->progress)
        atomic_fetch_add(w->progress, pending);
    if (w->progress && w->progress_lines)
        atomic_fetch_add(w->progress_lines, pending_lines);
    return NULL;
}

static void worker_release(worker *w)
{
    dt_free(w->recs);
    dt_buf_release(&w->bytes);
    dt_buf_release(&w->tmp);
    dt_buf_release(&w->csvbuf);
    dt_buf_release(&w->obs_bytes);
}

static scan_format detect(const char *name, const char *d, size_t len)
{
    size_t n = strlen(name);
    if (len >= 3 && (unsigned char)d[0] == 0xEF && (unsigned char)d[1] == 0xBB &&
        (unsigned char)d[2] == 0xBF)
        d += 3, len -= 3;
    if (len >= 7 && (memcmp(d, "#separator", len < 10 ? len : 10) == 0 ||
                     memcmp(d, "#fields", 7) == 0))
        return SCAN_FORMAT_ZEEK;
    if (len > 0 && d[0] == '{')
        return SCAN_FORMAT_JSON;
    if ((n > 4 && strcmp(name + n - 4, ".csv") == 0) ||
        (n > 7 && strcmp(name + n - 7, ".csv.gz") == 0))
        return SCAN_FORMAT_CSV;
    return SCAN_FORMAT_TEXT;
}

/* ---- the Zeek header in force at a point ---- */

/* The last #set_separator, #fields and #types lines of some text (a
 * #fields line forgets the #types before it). */
enum { ZH_SEP, ZH_FIELDS, ZH_TYPES, ZH_COUNT };
typedef struct zhdr {
    const char *line[ZH_COUNT]; /* NULL: none */
    size_t len[ZH_COUNT];
} zhdr;

/* The header lines starting before pos, in one memchr pass for '#'. On a
 * file mapping (mapped), the pages read are given back as the search goes,
 * so it does not make the whole prefix resident. */
static void zhdr_scan(const char *d, size_t len, size_t pos, bool mapped, zhdr *z)
{
    size_t i = 0, pg = (size_t)sysconf(_SC_PAGESIZE), given = 0;
    while (i < pos) {
        size_t stop = pos - i > DROP_STEP ? i + DROP_STEP : pos;
        const char *h = memchr(d + i, '#', stop - i);
        if (h == NULL) {
            i = stop;
        } else {
            size_t o = (size_t)(h - d);
            if (o == 0 || d[o - 1] == '\n') {
                const char *nl = memchr(h, '\n', len - o);
                size_t hl = (nl ? (size_t)(nl - d) : len) - o;
                int k = -1;
                if (hl > 0 && h[hl - 1] == '\r')
                    hl--;
                if (hl > 8 && memcmp(h, "#fields\t", 8) == 0)
                    k = ZH_FIELDS;
                else if (hl > 7 && memcmp(h, "#types\t", 7) == 0)
                    k = ZH_TYPES;
                else if (hl == 16 && memcmp(h, "#set_separator\t", 15) == 0)
                    k = ZH_SEP;
                if (k == ZH_FIELDS)
                    z->line[ZH_TYPES] = NULL;
                if (k >= 0) {
                    z->line[k] = h;
                    z->len[k] = hl;
                }
            }
            i = o + 1;
        }
        if (mapped && i / pg * pg >= given + DROP_STEP) {
            madvise((void *)(uintptr_t)(d + given), i / pg * pg - given, MADV_DONTNEED);
            given = i / pg * pg;
        }
    }
}

/* What holds after the text of a, then the text of b. */
static void zhdr_merge(zhdr *a, const zhdr *b)
{
    if (b->line[ZH_SEP] != NULL) {
        a->line[ZH_SEP] = b->line[ZH_SEP];
        a->len[ZH_SEP] = b->len[ZH_SEP];
    }
    if (b->line[ZH_FIELDS] != NULL) {
        a->line[ZH_FIELDS] = b->line[ZH_FIELDS];
        a->len[ZH_FIELDS] = b->len[ZH_FIELDS];
        a->line[ZH_TYPES] = NULL;
    }
    if (b->line[ZH_TYPES] != NULL) {
        a->line[ZH_TYPES] = b->line[ZH_TYPES];
        a->len[ZH_TYPES] = b->len[ZH_TYPES];
    }
}

/* Load a header into a worker starting mid-file (its own diagnostics were
 * given when the lines were read where they stand). */
static void zhdr_apply(worker *w, const zhdr *z)
{
    for (int k = 0; k < ZH_COUNT; k++)
        if (z->line[k] != NULL)
            zeek_header(w, z->line[k], z->len[k]);
    w->diag_count = 0;
    w->diag_total = 0;
}

/* ---- the driver ---- */

/* What the pieces of one input share: set by the first piece, carried to
 * the next (a gzip file or a stream is scanned a piece at a time). */
typedef struct scan_carry {
    bool started;             /* the first piece was seen: format known, input counted */
    scan_format fmt;
    uint64_t base_line;       /* lines of the pieces before */
    size_t reported;          /* diagnostics reported or held back */
    zhdr z;                   /* Zeek: the header in force after the pieces so far */
    dt_buf hold[ZH_COUNT];    /* its lines, copied */
    dt_buf csv_hold;          /* CSV: the header line, copied */
    col csv_cols[MAX_COLS];
    size_t csv_n;
    bool sha;                 /* the digest of the bytes goes along */
    crypto_hash_sha256_state sha_st;
} scan_carry;

static void carry_init(scan_carry *cy, const scan_opts *opts)
{
    memset(cy, 0, sizeof *cy);
    for (int k = 0; k < ZH_COUNT; k++)
        dt_buf_init(&cy->hold[k], BUF_MAX);
    dt_buf_init(&cy->csv_hold, BUF_MAX);
    cy->sha = opts->sha256 != NULL;
    if (cy->sha)
        crypto_hash_sha256_init(&cy->sha_st);
}

/* The input is done: the count of diagnostics held back, the digest. */
static void carry_finish(scan_carry *cy, const char *name, const scan_opts *opts,
                         scan_diag_fn on_diag, void *ctx)
{
    size_t max_diags = opts->max_diags ? opts->max_diags : 20;
    if (cy->reported > max_diags && on_diag) {
        char msg[128];
        snprintf(msg, sizeof msg, "%zu more problems not shown", cy->reported - max_diags);
        on_diag(ctx, name, 0, msg);
    }
    if (cy->sha)
        crypto_hash_sha256_final(&cy->sha_st, opts->sha256);
    for (int k = 0; k < ZH_COUNT; k++)
        dt_buf_release(&cy->hold[k]);
    dt_buf_release(&cy->csv_hold);
}

/* Keep the header lines in force after this piece (the piece's bytes are
 * about to be replaced by the next one's). */
static dt_status carry_header(scan_carry *cy, const char *data, size_t len, dt_err *err)
{
    zhdr seg = {0};
    zhdr_scan(data, len, len, false, &seg);
    zhdr_merge(&cy->z, &seg);
    for (int k = 0; k < ZH_COUNT; k++) {
        const char *l = cy->z.line[k];
        if (l == NULL || l == cy->hold[k].data)
            continue;
        dt_buf_reset(&cy->hold[k]);
        if (dt_buf_append(&cy->hold[k], l, cy->z.len[k], err) != DT_OK)
            return DT_ENOMEM;
        cy->z.line[k] = cy->hold[k].data;
    }
    return DT_OK;
}

static scan_fieldmap default_map;

static void default_map_init(void)
{
    scan_fieldmap_default(&default_map);
}

/* Scan one piece of an input: len bytes of whole lines at data (the last
 * may lack its newline only at the input's end). more: other pieces
 * follow. mapped: data is a read-only file mapping, whose pages the
 * workers give back behind them (the page cache keeps them; resident
 * memory does not grow with the file). */
static dt_status scan_run(const match_set *set, const char *name, const char *data, size_t len,
                          bool mapped, bool more, const scan_opts *opts, scan_match_fn on_match,
                          scan_diag_fn on_diag, void *ctx, scan_carry *cy, scan_stats *st,
                          dt_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    const scan_fieldmap *fm = opts->fields;
    unsigned nthreads = opts->threads ? opts->threads : 1;
    size_t max_diags = opts->max_diags ? opts->max_diags : 20, start = 0;
    uint64_t base_line = cy->base_line;
    worker *ws = NULL;
    dt_status rc = DT_OK;
    if (fm == NULL) {
        pthread_once(&once, default_map_init);
        fm = &default_map;
    }
    if (!cy->started) {
        cy->started = true;
        cy->fmt = opts->format == SCAN_FORMAT_AUTO ? detect(name, data, len) : opts->format;
        st->files++;
        if (cy->fmt == SCAN_FORMAT_CSV && len > 0) {
            /* the header is line 1, shared read-only by the chunks */
            const char *nl = memchr(data, '\n', len);
            size_t hl = nl ? (size_t)(nl - data) : len, i = 0;
            start = nl ? hl + 1 : len;
            if (hl > 0 && data[hl - 1] == '\r')
                hl--;
            if (dt_buf_append(&cy->csv_hold, data, hl, err) != DT_OK)
                return DT_ENOMEM;
            const char *h = cy->csv_hold.data ? cy->csv_hold.data : "";
            while (i <= hl && cy->csv_n < MAX_COLS) {
                const char *f;
                size_t fl;
                /* quoted header names are not unescaped: taken as empty */
                if (!csv_field(h, hl, &i, NULL, &f, &fl))
                    break;
                col *c = &cy->csv_cols[cy->csv_n++];
                c->name = f;
                c->len = (uint32_t)fl;
                int k = fm_find(fm, f, fl);
                c->cls = k < 0 ? SCAN_CLASS_GUESS : (scan_class)k;
            }
            base_line = 1;
            st->lines++;
        }
    }
    scan_format fmt = cy->fmt;
    st->bytes += len;
    if (len - start < (1u << 20))
        nthreads = 1;
    ws = dt_calloc(nthreads, sizeof *ws);
    if (ws == NULL)
        return dt_fail(err, DT_ENOMEM, name, "out of memory");
    size_t prev = start;
    for (unsigned t = 0; t < nthreads; t++) {
        worker *w = &ws[t];
        size_t e = t + 1 == nthreads ? len : start + (len - start) / nthreads * (t + 1);
        if (e < prev)
            e = prev;
        if (t + 1 < nthreads && e < len && fmt == SCAN_FORMAT_CSV) {
            /* records may hold newlines: walked from the chunk's start */
            const char *r = data + prev, *stop = data + e;
            size_t max = opts->max_line ? opts->max_line : (1u << 20);
            while (r < stop) {
                uint64_t inner;
                bool open;
                const char *nl = csv_record_end(r, data + len, max, true, &inner, &open);
                r = nl ? nl + 1 : data + len;
            }
            e = (size_t)(r - data);
        } else if (t + 1 < nthreads && e < len) {
            const char *nl = memchr(data + e, '\n', len - e);
            e = nl ? (size_t)(nl - data) + 1 : len;
        }
        w->set = set;
        w->v4map = match_ipv4_map16(set);
        w->fm = fm;
        w->format = fmt;
        w->base = data;
        w->data_len = len;
        w->begin = prev;
        w->end = e;
        w->max_line = opts->max_line ? opts->max_line : (1u << 20);
        w->progress = opts->progress;
        w->progress_lines = opts->progress_lines;
        w->drop_behind = mapped;
        w->dropped = w->begin;
        w->set_sep = ',';
        w->ts_col = -1;
        w->csv_cols = cy->csv_cols;
        w->csv_ncols = cy->csv_n;
        dt_buf_init(&w->bytes, (size_t)UINT32_MAX);
        dt_buf_init(&w->tmp, BUF_MAX);
        dt_buf_init(&w->csvbuf, BUF_MAX);
        w->active[SCAN_CLASS_DOMAIN] = match_set_value_count(set, MATCH_DOMAIN) > 0;
        w->active[SCAN_CLASS_ADDR] = match_set_value_count(set, MATCH_IPV4) > 0 ||
                                     match_set_value_count(set, MATCH_IPV6) > 0;
        w->active[SCAN_CLASS_HOST] = w->active[SCAN_CLASS_DOMAIN] || w->active[SCAN_CLASS_ADDR];
        w->active[SCAN_CLASS_URL] = match_set_value_count(set, MATCH_URL) > 0;
        w->active[SCAN_CLASS_FILE_HASH] = match_set_value_count(set, MATCH_FILE_HASH) > 0;
        w->active[SCAN_CLASS_X509_HASH] = match_set_value_count(set, MATCH_X509_HASH) > 0;
        w->active[SCAN_CLASS_EMAIL] = match_set_value_count(set, MATCH_EMAIL) > 0;
        bool any = false;
        for (int k = SCAN_CLASS_DOMAIN; k <= SCAN_CLASS_EMAIL; k++)
            any = any || w->active[k];
        w->active[SCAN_CLASS_ANSWER] = any;
        w->active[SCAN_CLASS_TEXT] = any;
        w->active[SCAN_CLASS_GUESS] = any;
        /* fields of the types patterns name are parsed too */
        uint32_t pt = match_set_pattern_types(set);
        w->pat_types = pt;
        dt_buf_init(&w->obs_bytes, BUF_MAX);
        for (unsigned k = 0; k < MATCH_TYPE_COUNT; k++)
            w->type_active[k] = match_set_value_count(set, (match_type)k) > 0;
        /* an IPv4-mapped IPv6 address is looked up as IPv4 too */
        w->type_active[MATCH_IPV6] = w->type_active[MATCH_IPV6] || w->type_active[MATCH_IPV4];
        for (int k = 0; k < NT_COUNT - NT_ORIG_H; k++)
            w->nt_col[k] = -1;
        if (pt) {
            static const scan_class cls_of[MATCH_TYPE_COUNT] = {
                SCAN_CLASS_DOMAIN, SCAN_CLASS_ADDR, SCAN_CLASS_ADDR, SCAN_CLASS_URL,
                SCAN_CLASS_FILE_HASH, SCAN_CLASS_X509_HASH, SCAN_CLASS_EMAIL};
            for (unsigned k = 0; k < MATCH_TYPE_COUNT; k++)
                if (pt & (1u << k))
                    w->active[cls_of[k]] = true;
            w->active[SCAN_CLASS_HOST] = w->active[SCAN_CLASS_DOMAIN] || w->active[SCAN_CLASS_ADDR];
            w->active[SCAN_CLASS_ANSWER] = w->active[SCAN_CLASS_TEXT] =
                w->active[SCAN_CLASS_GUESS] = true;
            for (int k = SCAN_CLASS_FILE_NAME; k <= SCAN_CLASS_X509_SERIAL; k++)
                w->active[k] = (pt & (1u << (k < SCAN_CLASS_X509_SUBJECT ? MATCH_FILE_HASH
                                                                         : MATCH_X509_HASH))) != 0;
        }
        if (fmt == SCAN_FORMAT_ZEEK) {
            /* the header in force where the chunk starts: the earlier
             * pieces', then this piece's lines before the chunk */
            zhdr z = cy->z, here = {0};
            if (prev > 0)
                zhdr_scan(data, len, prev, mapped, &here);
            zhdr_merge(&z, &here);
            zhdr_apply(w, &z);
        }
        prev = e;
    }
    if (nthreads == 1 && !cy->sha) {
        worker_run(&ws[0]);
    } else {
        /* the digest is computed on this thread while the workers scan */
        pthread_t *tids = dt_calloc(nthreads, sizeof *tids);
        unsigned started = 0;
        if (tids == NULL) {
            rc = dt_fail(err, DT_ENOMEM, name, "out of memory");
        } else {
            for (; started < nthreads; started++)
                if (pthread_create(&tids[started], NULL, worker_run, &ws[started]) != 0)
                    break;
            if (cy->sha)
                crypto_hash_sha256_update(&cy->sha_st, (const unsigned char *)data, len);
            for (unsigned t = started; t < nthreads; t++)
                worker_run(&ws[t]); /* could not start a thread: run it here */
            for (unsigned t = 0; t < started; t++)
                pthread_join(tids[t], NULL);
        }
        dt_free(tids);
    }
    /* report in file order */
    size_t reported = cy->reported;
    for (unsigned t = 0; t < nthreads && rc == DT_OK; t++) {
        worker *w = &ws[t];
        if (w->oom) {
            rc = dt_fail(err, DT_ENOMEM, name, "out of memory holding matches");
            break;
        }
        for (size_t d = 0; d < w->diag_count; d++) {
            if (reported++ < max_diags && on_diag)
                on_diag(ctx, name, base_line + w->diags[d].line, w->diags[d].msg);
        }
        for (size_t r = 0; r < w->rec_count; r++) {
            const rec *m = &w->recs[r];
            scan_match sm = {
                .file = name,
                .line = base_line + m->line,
                .indicator = match_set_indicator_id(set, m->ind),
                .ind = m->ind,
                .type = (match_type)m->type,
                .field = w->bytes.data + m->field_off,
                .field_len = m->field_len,
                .value = w->bytes.data + m->val_off,
                .value_len = m->val_len,
                .has_ts = m->has_ts,
                .ts_us = m->ts,
                .sco_type = m->by_pattern ? match_sco_name(m->sco) : NULL,
                .property = m->by_pattern ? part_property(m->part) : NULL,
            };
            if (on_match)
                on_match(ctx, &sm);
        }
        st->matches += w->rec_count;
        st->lines += w->lines;
        st->skipped_lines += w->skipped;
        st->diagnostics += w->diag_total;
        reported += w->diag_total - w->diag_count;
        base_line += w->lines;
    }
    cy->reported = reported;
    cy->base_line = base_line;
    for (unsigned t = 0; t < nthreads; t++)
        worker_release(&ws[t]);
    dt_free(ws);
    if (rc == DT_OK && more && fmt == SCAN_FORMAT_ZEEK)
        rc = carry_header(cy, data, len, err);
    return rc;
}

dt_status scan_buffer(const match_set *set, const char *name, const char *data, size_t len,
                      const scan_opts *opts, scan_match_fn on_match, scan_diag_fn on_diag,
                      void *ctx, scan_stats *st, dt_err *err)
{
    scan_carry *cy = dt_malloc(sizeof *cy);
    dt_status rc;
    if (cy == NULL)
        return dt_fail(err, DT_ENOMEM, name, "out of memory");
    carry_init(cy, opts);
    rc = scan_run(set, name, data, len, false, false, opts, on_match, on_diag, ctx, cy, st, err);
    carry_finish(cy, name, opts, on_diag, ctx);
    dt_free(cy);
    return rc;
}

/* ---- streams: gzip and pipes, a piece at a time ---- */

#define PIECE_BYTES ((size_t)32 << 20) /* inflated bytes scanned at once */

/* One piece scanned on a thread of its own while the next is read. */
typedef struct piece_job {
    const match_set *set;
    const char *name;
    const char *data;
    size_t len;
    bool more;
    const scan_opts *opts;
    scan_match_fn on_match;
    scan_diag_fn on_diag;
    void *ctx;
    scan_carry *cy;
    scan_stats *st;
    dt_err err;
    dt_status rc;
} piece_job;

static void *piece_run(void *arg)
{
    piece_job *j = arg;
    j->rc = scan_run(j->set, j->name, j->data, j->len, false, j->more, j->opts, j->on_match,
                     j->on_diag, j->ctx, j->cy, j->st, &j->err);
    return NULL;
}

/* A line longer than a piece (len bytes so far, more to come): counted,
 * reported and skipped; the caller drops its bytes up to its newline. */
static void skip_long_line(scan_carry *cy, scan_stats *st, const char *name, size_t len,
                           const scan_opts *opts, scan_diag_fn on_diag, void *ctx)
{
    size_t max_diags = opts->max_diags ? opts->max_diags : 20;
    size_t max_line = opts->max_line ? opts->max_line : (1u << 20);
    char msg[200];
    snprintf(msg, sizeof msg, "line of more than %zu bytes is longer than the limit of %zu: skipped",
             len, max_line);
    cy->base_line++;
    st->lines++;
    st->skipped_lines++;
    st->diagnostics++;
    if (cy->reported++ < max_diags && on_diag)
        on_diag(ctx, name, cy->base_line, msg);
}

/* Scan what fd gives (a pipe, or a gzip file), a piece at a time: memory
 * stays two pieces whatever the input's size, and the next piece is read
 * (inflated) while the last one is scanned. */
static dt_status scan_stream(const match_set *set, const char *name, int fd, const scan_opts *opts,
                             scan_match_fn on_match, scan_diag_fn on_diag, void *ctx,
                             scan_stats *st, dt_err *err)
{
    dt_reader *rd = NULL;
    dt_buf buf[2];
    int cur = 0;
    scan_carry *cy = dt_malloc(sizeof *cy);
    size_t max_line = opts->max_line ? opts->max_line : (1u << 20);
    size_t piece_max = opts->piece_bytes ? opts->piece_bytes : PIECE_BYTES;
    bool skipping = false; /* the rest of a line longer than a piece is dropped */
    dt_status rc = DT_OK;
    dt_buf_init(&buf[0], BUF_MAX);
    dt_buf_init(&buf[1], BUF_MAX);
    if (cy == NULL)
        return dt_fail(err, DT_ENOMEM, name, "out of memory");
    rc = dt_reader_fdopen(fd, name, &rd, err);
    if (rc != DT_OK) {
        dt_free(cy);
        return rc;
    }
    carry_init(cy, opts);
    rc = dt_reader_fill(rd, &buf[0], piece_max, err);
    while (rc == DT_OK) {
        dt_buf *p = &buf[cur], *q = &buf[!cur];
        if (skipping) {
            const char *nl = memchr(p->data, '\n', p->len);
            size_t drop = nl ? (size_t)(nl - p->data) + 1 : p->len;
            memmove(p->data, p->data + drop, p->len - drop);
            p->len -= drop;
            skipping = nl == NULL;
        }
        size_t cut = p->len;
        scan_format fmt = cy->started ? cy->fmt
                        : opts->format == SCAN_FORMAT_AUTO ? detect(name, p->data ? p->data : "", p->len)
                        : opts->format;
        if (!skipping && fmt == SCAN_FORMAT_CSV && !dt_reader_eof(rd) && p->len > 0) {
            /* whole records: a quoted field may hold newlines */
            const char *r = p->data, *stop = p->data + p->len;
            cut = 0;
            for (;;) {
                uint64_t inner;
                bool open;
                const char *nl = csv_record_end(r, stop, max_line, false, &inner, &open);
                if (nl == NULL)
                    break;
                r = nl + 1;
                cut = (size_t)(r - p->data);
            }
            if (cut == 0 && p->len >= piece_max) {
                /* no record ends in a whole piece: far over the line limit */
                skip_long_line(cy, st, name, p->len, opts, on_diag, ctx);
                p->len = 0;
                skipping = true;
            }
        } else if (!skipping && (!dt_reader_eof(rd) || dt_reader_damage(rd) != NULL)) {
            /* whole lines only (a damaged stream's partial last line is
             * dropped: it may be cut mid-value) */
            const char *nl = p->len ? memrchr(p->data, '\n', p->len) : NULL;
            cut = nl ? (size_t)(nl - p->data) + 1 : 0;
            if (cut == 0 && !dt_reader_eof(rd)) {
                /* a line longer than a piece: far over the line limit */
                skip_long_line(cy, st, name, p->len, opts, on_diag, ctx);
                p->len = 0;
                skipping = true;
            }
        } else if (skipping) {
            cut = 0;
        }
        /* the rest (a partial line) starts the next piece */
        dt_buf_reset(q);
        if (p->len > cut && (rc = dt_buf_append(q, p->data + cut, p->len - cut, err)) != DT_OK)
            break;
        bool more = !dt_reader_eof(rd);
        if (cut > 0 || (!cy->started && !more && !skipping)) {
            piece_job j = {set, name, p->data ? p->data : "", cut, more, opts, on_match, on_diag,
                           ctx, cy, st, {0}, DT_OK};
            pthread_t tid;
            dt_status frc = DT_OK;
            if (more && pthread_create(&tid, NULL, piece_run, &j) == 0) {
                frc = dt_reader_fill(rd, q, piece_max > q->len ? piece_max - q->len : 0, err);
                pthread_join(tid, NULL);
            } else {
                piece_run(&j);
                if (more)
                    frc = dt_reader_fill(rd, q, piece_max > q->len ? piece_max - q->len : 0, err);
            }
            if (j.rc != DT_OK) {
                if (err)
                    *err = j.err;
                rc = j.rc;
            } else {
                rc = frc;
            }
        } else if (more) {
            rc = dt_reader_fill(rd, q, piece_max > q->len ? piece_max - q->len : 0, err);
        }
        if (!more)
            break;
        cur = !cur;
    }
    if (rc == DT_OK && dt_reader_damage(rd) != NULL) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s; the lines before it were scanned", dt_reader_damage(rd));
        st->diagnostics++;
        if (on_diag)
            on_diag(ctx, name, 0, msg);
    }
    dt_reader_close(rd);
    carry_finish(cy, name, opts, on_diag, ctx);
    dt_free(cy);
    dt_buf_release(&buf[0]);
    dt_buf_release(&buf[1]);
    return rc;
}

dt_status scan_file(const match_set *set, const char *path, const scan_opts *opts,
                    scan_match_fn on_match, scan_diag_fn on_diag, void *ctx, scan_stats *st,
                    dt_err *err)
{
    struct stat sb;
    unsigned char magic[2];
    dt_status rc;
    int fd;
    if (strcmp(path, "-") == 0)
        return scan_stream(set, "stdin", 0, opts, on_match, on_diag, ctx, st, err);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dt_fail(err, DT_EIO, path, "cannot open: %s", strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0 ||
        (pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b)) {
        /* a pipe, a device, an empty file or gzip: read as a stream */
        rc = scan_stream(set, path, fd, opts, on_match, on_diag, ctx, st, err);
        close(fd);
        return rc;
    }
    void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return dt_fail(err, DT_EIO, path, "cannot map: %s", strerror(errno));
    /* advice values are not flags: one call each */
    madvise(m, (size_t)sb.st_size, MADV_SEQUENTIAL);
    madvise(m, (size_t)sb.st_size, MADV_WILLNEED);
    scan_carry *cy = dt_malloc(sizeof *cy);
    if (cy == NULL) {
        munmap(m, (size_t)sb.st_size);
        return dt_fail(err, DT_ENOMEM, path, "out of memory");
    }
    carry_init(cy, opts);
    rc = scan_run(set, path, m, (size_t)sb.st_size, true, false, opts, on_match, on_diag, ctx, cy,
                  st, err);
    carry_finish(cy, path, opts, on_diag, ctx);
    dt_free(cy);
    munmap(m, (size_t)sb.st_size);
    return rc;
}
