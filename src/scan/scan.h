/* scan: log readers that find observables in log files and look them up in
 * a compiled indicator set (match/), split across threads.
 *
 * Readers: Zeek TSV (driven by its #fields header, which may change
 * mid-file), JSON lines (Zeek JSON, ECS and others, through a field map;
 * nested objects read as dotted paths), CSV with a header line, and plain
 * text (IPs, domains, URLs, hashes and e-mail addresses anywhere in a line,
 * refanged: hxxp, [.], (.), [:], [@]). Each field is mapped to a class
 * (domain, address, URL, hash, ...); a field whose class has no indicator
 * in the set is not parsed at all.
 *
 * A file is mapped (or inflated, for gzip) into memory once, split at line
 * boundaries into one chunk per thread, and each thread scans its chunk
 * with no allocation per line; matches go to a per-thread buffer and are
 * handed to the caller in file order once the file is done. Bad input
 * (truncated gzip, over-long lines, lines that do not fit the header, a
 * missing header) is reported as diagnostics with file and line, counted,
 * and the rest of the input is still scanned.
 *
 * Patterns kept whole by the set (match.h) are evaluated on each record
 * holding a type they name: the record's observables become SCOs
 * (domain-name, ipv4/ipv6-addr, url, file and x509-certificate hashes,
 * email-addr, and a network-traffic from Zeek's id.orig_h/id.resp_h/
 * id.orig_p/id.resp_p/proto), one observation at the record's time, and
 * pattern_match_record decides. One match per indicator and record.
 *
 * Thread safety: scan_file runs its own threads over a set that must not
 * change meanwhile; callbacks run on the calling thread. */
#ifndef DETENTE_SCAN_H
#define DETENTE_SCAN_H

#include "core/core.h"
#include "match/match.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum scan_format {
    SCAN_FORMAT_AUTO = 0,
    SCAN_FORMAT_ZEEK = 1,
    SCAN_FORMAT_JSON = 2,
    SCAN_FORMAT_CSV = 3,
    SCAN_FORMAT_TEXT = 4,
} scan_format;

bool scan_format_parse(const char *s, scan_format *out);
const char *scan_format_name(scan_format f);

/* What a field holds. */
typedef enum scan_class {
    SCAN_CLASS_NONE = 0,   /* not scanned */
    SCAN_CLASS_DOMAIN,
    SCAN_CLASS_ADDR,       /* IPv4 or IPv6 address */
    SCAN_CLASS_HOST,       /* a domain or an address */
    SCAN_CLASS_URL,
    SCAN_CLASS_FILE_HASH,
    SCAN_CLASS_X509_HASH,
    SCAN_CLASS_EMAIL,
    SCAN_CLASS_ANSWER,     /* a DNS answer: domain, address, or TXT text */
    SCAN_CLASS_TEXT,       /* free text: every observable found in it */
    SCAN_CLASS_GUESS,      /* one value of a type guessed from its form */
    /* properties only patterns look at (read when a pattern names their
     * object type; nothing is indexed by them) */
    SCAN_CLASS_FILE_NAME,    /* file:name */
    SCAN_CLASS_FILE_SIZE,    /* file:size */
    SCAN_CLASS_FILE_MIME,    /* file:mime_type */
    SCAN_CLASS_X509_SUBJECT, /* x509-certificate:subject */
    SCAN_CLASS_X509_ISSUER,  /* x509-certificate:issuer */
    SCAN_CLASS_X509_SERIAL,  /* x509-certificate:serial_number */
    SCAN_CLASS_COUNT
} scan_class;

bool scan_class_parse(const char *s, size_t len, scan_class *out);

#define SCAN_FIELDMAP_MAX 256

/* Field name (a Zeek column, a JSON dotted path, a CSV header) to class. */
typedef struct scan_fieldmap {
    struct {
        char name[64];
        scan_class cls;
    } e[SCAN_FIELDMAP_MAX];
    size_t count;
} scan_fieldmap;

/* The built-in map: Zeek dns/ssl/x509/smtp/http/files/conn/notice names,
 * and the common ECS ones (source.ip, dns.question.name, url.full, ...). */
void scan_fieldmap_default(scan_fieldmap *fm);
/* Add or override from "name=class,name=class" (classes: domain, ip,
 * host, url, hash, x509, email, answer, text, guess, none). */
dt_status scan_fieldmap_parse(scan_fieldmap *fm, const char *spec, dt_err *err);
scan_class scan_fieldmap_get(const scan_fieldmap *fm, const char *name, size_t len);

typedef struct scan_opts {
    scan_format format;          /* AUTO: from the first bytes */
    const scan_fieldmap *fields; /* NULL: the default map */
    unsigned threads;            /* 0 or 1: one thread */
    size_t max_line;             /* longer lines are skipped; 0: 1 MiB */
    size_t max_diags;            /* diagnostics reported per file; 0: 20 */
    _Atomic uint64_t *progress;  /* if set, bytes scanned are added as they go */
    _Atomic uint64_t *progress_lines; /* if set, lines scanned likewise */
    size_t piece_bytes;          /* gzip and pipes are scanned this many (inflated) bytes
                                    at a time; 0: 32 MiB */
    uint8_t *sha256;             /* if set (32 bytes): SHA-256 of the bytes scanned, after
                                    inflation, computed alongside the scan (the file's digest
                                    names the sightings recorded from it) */
} scan_opts;

/* One match, borrowed for the duration of the callback. */
typedef struct scan_match {
    const char *file;
    uint64_t line;               /* 1-based line of the file, header lines counted */
    const char *indicator;       /* the indicator id */
    uint32_t ind;                /* its index in the set */
    match_type type;
    const char *field;           /* column or key the value came from */
    size_t field_len;
    const char *value;           /* the value as it appears (refanged for text) */
    size_t value_len;
    bool has_ts;
    int64_t ts_us;               /* the record's timestamp, microseconds since the epoch */
    const char *sco_type;        /* NULL for an indexed value (its type is `type`); for a
                                    pattern evaluated on the record (see match.h), the STIX
                                    type of the observable reported in field/value: the
                                    record's first one of a type the pattern names (for
                                    network-traffic, the responder address) */
    const char *property;        /* for a pattern evaluated on the record, the property
                                    path of value in an object of sco_type ("value",
                                    "hashes", "name", "subject", "dst_ref.value", ...);
                                    NULL for an indexed value */
} scan_match;

typedef void (*scan_match_fn)(void *ctx, const scan_match *m);
/* A diagnostic: line 0 means the file as a whole. */
typedef void (*scan_diag_fn)(void *ctx, const char *file, uint64_t line, const char *msg);

typedef struct scan_stats {
    uint64_t files;
    uint64_t bytes;              /* after inflation */
    uint64_t lines;              /* all lines, header lines included */
    uint64_t skipped_lines;      /* lines not scanned because they were bad */
    uint64_t matches;
    uint64_t diagnostics;        /* problems found, reported or not */
} scan_stats;

/* Scan one file ("-" for stdin; .gz inflated whatever its name) against
 * set. Matches and diagnostics are reported in file order through the
 * callbacks (either may be NULL); stats are added to *st. A file that
 * cannot be read at all fails with DT_EIO; bad content is a diagnostic,
 * not a failure. */
dt_status scan_file(const match_set *set, const char *path, const scan_opts *opts,
                    scan_match_fn on_match, scan_diag_fn on_diag, void *ctx, scan_stats *st,
                    dt_err *err);

/* The same over a buffer in memory (len bytes at data, borrowed); name is
 * used in reports. Used by scan_file and the fuzz targets. */
dt_status scan_buffer(const match_set *set, const char *name, const char *data, size_t len,
                      const scan_opts *opts, scan_match_fn on_match, scan_diag_fn on_diag,
                      void *ctx, scan_stats *st, dt_err *err);

/* Microseconds from a Zeek epoch time ("1521911720.865716") or an RFC 3339
 * timestamp. */
bool scan_ts_parse(const char *s, size_t len, int64_t *us);

#endif
