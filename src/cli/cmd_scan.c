/* detente scan: look for the node's indicators (or those of a file) in log
 * files, and optionally record what was found as STIX sightings.
 *
 * The indicator set is compiled once (match/), every file is scanned by
 * scan/ across threads, and each match is written as one JSON line with
 * the keys indicator, value, type, field, file, line, ts; the last line is
 * {"summary": {...}}. These keys are a contract other tools read: new keys
 * may be added, none renamed. Problems in the input (bad lines, damaged
 * gzip) go to stderr with file and line and are counted in the summary;
 * they never stop the scan. Progress goes to stderr when it is a terminal. */
#include "cli/cli.h"
#include "match/match.h"
#include "scan/scan.h"
#include "stix/stix.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: detente scan [--format auto|zeek|json|csv|text] [--fields MAP] [--threads N]\n"
    "                    [--indicators FILE] [--record-sightings] [--output FILE] FILE...\n"
    "\n"
    "Scan log files (Zeek TSV or JSON, JSON lines, CSV, plain text; .gz read\n"
    "transparently; - for stdin) against indicators: by default the node's active\n"
    "ones, or those of --indicators FILE (a STIX bundle, or a plain list with one\n"
    "value per line, optionally preceded by its type: domain, ipv4, ipv6, url, hash,\n"
    "x509, email).\n"
    "\n"
    "Output: one JSON line per match with the keys indicator, value, type, field,\n"
    "file, line, ts; then a line {\"summary\": {...}}.\n"
    "\n"
    "  --fields MAP   NAME=CLASS,... added to the built-in field map; classes: domain,\n"
    "                 ip, host, url, hash, x509, email, answer, text, guess, none\n"
    "  --threads N    scanning threads (default: all cores)\n"
    "  --record-sightings  store one STIX sighting per matched indicator (node only)\n";

typedef struct out_ctx {
    FILE *out;
    uint64_t matches;
    bool write_failed;
} out_ctx;

/* JSON string with invalid UTF-8 bytes replaced by U+FFFD, so the output
 * stays valid JSON whatever the log held. */
static void put_json_str(FILE *f, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    fputc('"', f);
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            fprintf(f, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
            i++;
        } else if (c < 0x80) {
            fputc(c, f);
            i++;
        } else {
            size_t bad;
            size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (i + n <= len && dt_utf8_valid(s + i, n, &bad)) {
                fwrite(s + i, 1, n, f);
                i += n;
            } else {
                fputs("\\ufffd", f);
                i++;
            }
        }
    }
    fputc('"', f);
}

static void on_match(void *vctx, const scan_match *m)
{
    out_ctx *o = vctx;
    FILE *f = o->out;
    fputs("{\"indicator\":", f);
    put_json_str(f, m->indicator, strlen(m->indicator));
    fputs(",\"value\":", f);
    put_json_str(f, m->value, m->value_len);
    fprintf(f, ",\"type\":\"%s\",\"field\":", match_type_stix(m->type));
    put_json_str(f, m->field, m->field_len);
    fputs(",\"file\":", f);
    put_json_str(f, m->file, strlen(m->file));
    fprintf(f, ",\"line\":%llu,\"ts\":", (unsigned long long)m->line);
    if (m->has_ts) {
        char ts[DT_TIME_LEN];
        dt_time t = dt_time_from_us(m->ts_us);
        fprintf(f, "\"%s\"}\n", dt_time_format(&t, 6, ts));
    } else {
        fputs("null}\n", f);
    }
    o->matches++;
}

static void on_diag(void *vctx, const char *file, uint64_t line, const char *msg)
{
    (void)vctx;
    if (line)
        fprintf(stderr, "detente: scan: %s:%llu: %s\n", file, (unsigned long long)line, msg);
    else
        fprintf(stderr, "detente: scan: %s: %s\n", file, msg);
}

/* ---- indicators from a plain list ---- */

static dt_status load_list(match_set *set, const char *path, const char *text, size_t len,
                           size_t *bad, dt_err *err)
{
    size_t lineno = 0, i = 0;
    while (i < len) {
        const char *s = text + i;
        const char *nl = memchr(s, '\n', len - i);
        size_t l = nl ? (size_t)(nl - s) : len - i;
        i += l + 1;
        lineno++;
        while (l > 0 && (s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t'))
            l--;
        while (l > 0 && (*s == ' ' || *s == '\t'))
            s++, l--;
        if (l == 0 || *s == '#')
            continue;
        match_type t;
        const char *sp = s;
        while (sp < s + l && *sp != ' ' && *sp != '\t')
            sp++;
        const char *v = s;
        size_t vl = l;
        if (sp < s + l && match_type_parse(s, (size_t)(sp - s), &t)) {
            v = sp;
            while (v < s + l && (*v == ' ' || *v == '\t'))
                v++;
            vl = l - (size_t)(v - s);
            if (t == MATCH_IPV4 && match_type_guess(v, vl) == MATCH_IPV6)
                t = MATCH_IPV6;
        } else {
            t = match_type_guess(s, l);
        }
        char id[1200];
        uint32_t ind;
        dt_err e = {0};
        snprintf(id, sizeof id, "%s:%zu", path, lineno);
        dt_status rc = match_set_add_indicator(set, id, &ind, err);
        if (rc != DT_OK)
            return rc;
        rc = match_set_add_value(set, ind, t, v, vl, &e);
        if (rc == DT_ENOMEM)
            return dt_fail(err, rc, path, "out of memory");
        if (rc != DT_OK) {
            char text_err[400];
            (*bad)++;
            if (*bad <= 20)
                fprintf(stderr, "detente: scan: %s:%zu: %s\n", path, lineno,
                        dt_err_text(&e, text_err, sizeof text_err));
        }
    }
    return DT_OK;
}

/* ---- indicators from STIX (bundle, array, object or JSON lines) ---- */

typedef struct stix_load {
    match_set *set;
    const char *path;
    int64_t now;
    match_load_stats st;
    size_t problems;
} stix_load;

static dt_status stix_item(void *vctx, const char *where, json_t *item, const dt_err *item_err)
{
    stix_load *l = vctx;
    dt_err e = {0};
    char text[400];
    if (item == NULL) {
        if (++l->problems <= 20)
            fprintf(stderr, "detente: scan: %s: %s: %s\n", l->path, where,
                    dt_err_text(item_err, text, sizeof text));
        return DT_OK;
    }
    dt_status rc = match_set_add_stix(l->set, item, l->now, &l->st, &e);
    if (rc == DT_ENOMEM)
        return rc;
    if (rc != DT_OK && ++l->problems <= 20)
        fprintf(stderr, "detente: scan: %s: %s: %s\n", l->path, where,
                dt_err_text(&e, text, sizeof text));
    return DT_OK;
}

static dt_status load_stix(match_set *set, const char *path, const char *text, size_t len,
                           dt_err *err)
{
    stix_limits lim;
    stix_load l = {.set = set, .path = path, .now = dt_now_us()};
    stix_limits_default(&lim);
    lim.max_input_bytes = len + 1;
    lim.max_objects = (size_t)1 << 30;
    dt_status rc = stix_input_walk(text, len, &lim, stix_item, &l, err);
    if (rc != DT_OK)
        return rc;
    fprintf(stderr,
            "detente: scan: %s: %zu indicators, %zu indexed (%zu values); skipped: %zu revoked, "
            "%zu not active now, %zu not STIX patterns, %zu invalid, %zu not simple "
            "comparisons\n",
            path, l.st.indicators, l.st.indexed, l.st.values, l.st.revoked, l.st.inactive,
            l.st.not_stix, l.st.invalid, l.st.complex);
    return DT_OK;
}

/* ---- progress ---- */

typedef struct progress {
    _Atomic uint64_t bytes;
    _Atomic bool done;
    uint64_t total; /* 0: unknown (gzip, stdin) */
    pthread_t tid;
} progress;

static void *progress_run(void *arg)
{
    progress *p = arg;
    int64_t t0 = dt_now_ms();
    while (!atomic_load(&p->done)) {
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
        uint64_t b = atomic_load(&p->bytes);
        double secs = (double)(dt_now_ms() - t0) / 1000.0;
        double rate = secs > 0 ? (double)b / secs : 0;
        if (p->total > b && rate > 0)
            fprintf(stderr, "\r  %.1f MB scanned, %.1f MB/s, ETA %.0f s   ", (double)b / 1e6,
                    rate / 1e6, (double)(p->total - b) / rate);
        else
            fprintf(stderr, "\r  %.1f MB scanned, %.1f MB/s   ", (double)b / 1e6, rate / 1e6);
    }
    fputs("\r\033[K", stderr);
    return NULL;
}

int cmd_scan(int argc, char **argv, const cli_ctx *ctx)
{
    scan_opts opts = {0};
    scan_fieldmap fm;
    scan_stats st = {0};
    const char *indicators = NULL, *output = NULL;
    bool record = false;
    char **files = NULL;
    int nfiles = 0, code = CLI_OK;
    match_set *set = NULL;
    dt_err err = {0};
    dt_status rc;
    out_ctx oc = {0};
    progress prog = {0};
    bool prog_on = false;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    (void)ctx;
    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    scan_fieldmap_default(&fm);
    opts.threads = ncpu > 0 ? (unsigned)ncpu : 1;
    files = calloc((size_t)argc, sizeof *files);
    if (files == NULL)
        return CLI_ERROR;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--format") == 0 && val) {
            if (!scan_format_parse(val, &opts.format)) {
                fprintf(stderr, "detente: scan: unknown format '%s'\n", val);
                free(files);
                return cli_usage(usage);
            }
            i++;
        } else if (strcmp(a, "--fields") == 0 && val) {
            if (scan_fieldmap_parse(&fm, val, &err) != DT_OK) {
                free(files);
                return cli_error(&err);
            }
            i++;
        } else if (strcmp(a, "--threads") == 0 && val) {
            char *end;
            errno = 0;
            long n = strtol(val, &end, 10);
            if (errno || *end || n < 1 || n > 1024) {
                fprintf(stderr, "detente: scan: --threads takes a number from 1 to 1024\n");
                free(files);
                return cli_usage(usage);
            }
            opts.threads = (unsigned)n;
            i++;
        } else if (strcmp(a, "--indicators") == 0 && val) {
            indicators = val;
            i++;
        } else if (strcmp(a, "--output") == 0 && val) {
            output = val;
            i++;
        } else if (strcmp(a, "--record-sightings") == 0) {
            record = true;
        } else if (strcmp(a, "-") == 0 || a[0] != '-') {
            files[nfiles++] = argv[i];
        } else {
            fprintf(stderr, "detente: scan: unknown option '%s'\n", a);
            free(files);
            return cli_usage(usage);
        }
    }
    if (nfiles == 0) {
        free(files);
        return cli_usage(usage);
    }
    opts.fields = &fm;

    int64_t t0 = dt_now_us();
    rc = match_set_new(&set, &err);
    if (rc != DT_OK)
        goto fail;
    if (indicators) {
        char *text = NULL;
        size_t len = 0, bad = 0;
        rc = dt_file_read(indicators, (size_t)4 << 30, &text, &len, &err);
        if (rc != DT_OK)
            goto fail;
        size_t k = 0;
        while (k < len && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r' ||
                           text[k] == '\n'))
            k++;
        if (k < len && (text[k] == '{' || text[k] == '['))
            rc = load_stix(set, indicators, text, len, &err);
        else
            rc = load_list(set, indicators, text, len, &bad, &err);
        dt_free(text);
        if (rc != DT_OK)
            goto fail;
        if (bad > 0)
            fprintf(stderr, "detente: scan: %s: %zu values skipped as invalid\n", indicators,
                    bad);
        if (record) {
            rc = dt_fail(&err, DT_EARG, "--record-sightings",
                         "sightings need the node's indicators, not --indicators");
            goto fail;
        }
    } else {
        rc = dt_fail(&err, DT_EARG, "scan",
                     "reading the node's indicators is not available yet: use --indicators");
        goto fail;
    }
    rc = match_set_compile(set, &err);
    if (rc != DT_OK)
        goto fail;
    int64_t t1 = dt_now_us();

    oc.out = stdout;
    if (output) {
        oc.out = fopen(output, "w");
        if (oc.out == NULL) {
            rc = dt_fail(&err, DT_EIO, output, "cannot write: %s", strerror(errno));
            goto fail;
        }
    }
    if (isatty(2)) {
        for (int i = 0; i < nfiles; i++) {
            struct stat sb;
            if (strcmp(files[i], "-") != 0 && stat(files[i], &sb) == 0)
                prog.total += (uint64_t)sb.st_size;
        }
        opts.progress = &prog.bytes;
        prog_on = pthread_create(&prog.tid, NULL, progress_run, &prog) == 0;
    }
    for (int i = 0; i < nfiles; i++) {
        dt_err ferr = {0};
        rc = scan_file(set, files[i], &opts, on_match, on_diag, &oc, &st, &ferr);
        if (rc == DT_ENOMEM) {
            err = ferr;
            break;
        }
        if (rc != DT_OK) {
            cli_error(&ferr);
            code = CLI_ERROR; /* the other files are still scanned */
            rc = DT_OK;
        }
    }
    if (prog_on) {
        atomic_store(&prog.done, true);
        pthread_join(prog.tid, NULL);
    }
    if (rc != DT_OK)
        goto fail;
    double secs = (double)(dt_now_us() - t1) / 1e6;
    fprintf(oc.out,
            "{\"summary\":{\"files\":%llu,\"bytes\":%llu,\"lines\":%llu,\"skipped_lines\":%llu,"
            "\"matches\":%llu,\"problems\":%llu,\"indicators\":%zu,\"compile_seconds\":%.3f,"
            "\"scan_seconds\":%.3f,\"mb_per_second\":%.1f,\"threads\":%u}}\n",
            (unsigned long long)st.files, (unsigned long long)st.bytes,
            (unsigned long long)st.lines, (unsigned long long)st.skipped_lines,
            (unsigned long long)st.matches, (unsigned long long)st.diagnostics,
            match_set_indicator_count(set), (double)(t1 - t0) / 1e6, secs,
            secs > 0 ? (double)st.bytes / 1e6 / secs : 0.0, opts.threads);
    if (fflush(oc.out) != 0 || ferror(oc.out)) {
        rc = dt_fail(&err, DT_EIO, output ? output : "stdout", "write failed");
        goto fail;
    }
    if (output)
        fclose(oc.out);
    match_set_free(set);
    free(files);
    return code;
fail:
    if (output && oc.out && oc.out != stdout)
        fclose(oc.out);
    match_set_free(set);
    free(files);
    return cli_error(&err);
}
