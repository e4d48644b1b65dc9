/* detente import: objects from files into a collection, through the one
 * door in (node_ingest_text), signed by this node where unsigned. JSON
 * lines are ingested a piece at a time, so a feed of any size goes in with
 * bounded memory; a bundle or an array is read whole (up to 1 GiB). */
#define _GNU_SOURCE /* memrchr */
#include "cli/cli.h"
#include "node/node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: detente import [--collection ID] [--atomic] FILE...\n"
    "Import STIX 2.1 objects: each FILE holds a bundle, a JSON array of objects, one object,\n"
    "or JSON lines; '-' reads standard input; .gz files are read transparently.\n"
    "Valid objects are stored (signed by this node if unsigned) and ledgered; each rejected\n"
    "object is reported with its reason. --atomic stores all objects of a file or none.\n"
    "Exit status: 0 all stored, 1 some object rejected, 2 usage, 3 I/O or database error.\n";

#define IMPORT_MAX_BYTES ((size_t)1 << 30) /* a bundle or an array is read whole */
#define IMPORT_PIECE ((size_t)16 << 20)     /* JSON lines go in this many bytes at a time */

typedef struct tally {
    const cli_ctx *ctx;
    const char *file;
    size_t added, dups, rejected;
    json_t *report;
} tally;

/* Count a result and report its rejected objects. */
static void tally_add(tally *t, const node_ingest_result *res)
{
    for (size_t k = 0; k < res->count; k++) {
        const node_ingest_item *it = &res->items[k];
        if (it->outcome != NODE_ITEM_REJECTED)
            continue;
        if (!t->ctx->json)
            fprintf(stderr, "detente: %s: %s%s%s: rejected: %s\n", t->file, it->where,
                    it->id[0] ? " " : "", it->id, it->msg);
        else
            json_array_append_new(t->report, json_pack("{s:s, s:s, s:s, s:s}", "file", t->file,
                                                       "where", it->where, "id", it->id,
                                                       "error", it->msg));
    }
    t->added += res->added;
    t->dups += res->duplicates;
    t->rejected += res->rejected;
}

/* "line N..." at the start of s becomes "line N+base...". */
static void shift_text(char *s, size_t cap, size_t base)
{
    char w[320], *end;
    if (strncmp(s, "line ", 5) != 0 || s[5] < '0' || s[5] > '9')
        return;
    unsigned long long n = strtoull(s + 5, &end, 10);
    snprintf(w, sizeof w, "line %llu%.280s", n + base, end);
    dt_strlcpy(s, w, cap);
}

/* A piece of JSON lines names its lines from 1: renumber them from the
 * file's start (base lines came before), in where and in the reason. A
 * piece of one line reads as one object, named "": that is line first. */
static void shift_lines(node_ingest_result *res, size_t base, size_t first)
{
    for (size_t k = 0; k < res->count; k++) {
        node_ingest_item *it = &res->items[k];
        if (it->where[0] == '\0')
            snprintf(it->where, sizeof it->where, "line %zu", base + first);
        else
            shift_text(it->where, sizeof it->where, base);
        shift_text(it->msg, sizeof it->msg, base);
    }
}

/* Is the first non-blank line of the text an object on its own (JSON
 * lines, as stix_input_walk reads them)? */
static bool starts_json_lines(const char *s, size_t len)
{
    size_t a = 0, b;
    while (a < len && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r' || s[a] == '\n'))
        a++;
    const char *nl = memchr(s + a, '\n', len - a);
    if (nl == NULL)
        return false;
    b = (size_t)(nl - s);
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r'))
        b--;
    return b > a && s[a] == '{' && s[b - 1] == '}';
}

/* The first non-blank line of a text, counted from 1. */
static size_t first_line(const char *s, size_t len)
{
    size_t line = 1;
    for (size_t i = 0; i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n');
         i++)
        line += s[i] == '\n';
    return line;
}

static size_t count_lines(const char *s, size_t len)
{
    size_t n = 0;
    for (const char *p = memchr(s, '\n', len); p; p = memchr(p + 1, '\n', len - (size_t)(p + 1 - s)))
        n++;
    return n;
}

/* One file: JSON lines a piece at a time (memory does not grow with the
 * file), anything else whole. --atomic reads whole: one transaction. */
static dt_status import_file(node *n, const node_principal *who, const node_ingest_opts *opts,
                             const char *path, tally *t, dt_err *err)
{
    const char *env = getenv("DETENTE_IMPORT_PIECE"); /* tests: small pieces */
    unsigned long long want = env ? strtoull(env, NULL, 10) : 0;
    size_t piece = want > 0 && want <= IMPORT_PIECE ? (size_t)want : IMPORT_PIECE;
    dt_reader *r = NULL;
    dt_buf b;
    size_t base = 0;
    dt_status rc = dt_reader_open(path, &r, err);
    if (rc != DT_OK)
        return rc;
    dt_buf_init(&b, IMPORT_MAX_BYTES + 2);
    rc = dt_reader_fill(r, &b, piece, err);
    bool lines = rc == DT_OK && !opts->atomic && !dt_reader_eof(r) && starts_json_lines(b.data, b.len);
    /* whole: read on to the end (within the limit) */
    while (rc == DT_OK && !lines && !dt_reader_eof(r) && b.len <= IMPORT_MAX_BYTES)
        rc = dt_reader_fill(r, &b, IMPORT_PIECE, err);
    if (rc == DT_OK && b.len > IMPORT_MAX_BYTES)
        rc = dt_fail(err, DT_ELIMIT, path, "a bundle or array larger than %zu bytes (JSON lines "
                     "may be of any size)", IMPORT_MAX_BYTES);
    while (rc == DT_OK) {
        bool eof = dt_reader_eof(r);
        size_t cut = b.len;
        if (dt_reader_damage(r) != NULL) {
            rc = dt_fail(err, DT_EPARSE, path, "%s: nothing after line %zu was imported",
                         dt_reader_damage(r), base);
            break;
        }
        if (lines && !eof) {
            const char *nl = b.len ? memrchr(b.data, '\n', b.len) : NULL;
            cut = nl ? (size_t)(nl - b.data) + 1 : 0;
            if (cut == 0) { /* one line longer than a piece: read on to its end */
                if (b.len > IMPORT_MAX_BYTES) {
                    rc = dt_fail(err, DT_ELIMIT, path, "line %zu is longer than %zu bytes",
                                 base + 1, IMPORT_MAX_BYTES);
                    break;
                }
                rc = dt_reader_fill(r, &b, piece, err);
                continue;
            }
        }
        if (cut > 0 || base == 0) {
            node_ingest_result res = {0};
            rc = node_ingest_text(n, who, opts, b.data ? b.data : "", cut, &res, err);
            if (lines)
                shift_lines(&res, base, first_line(b.data, cut));
            tally_add(t, &res);
            node_ingest_result_release(&res);
        }
        if (rc != DT_OK || eof)
            break;
        base += count_lines(b.data, cut);
        memmove(b.data, b.data + cut, b.len - cut);
        b.len -= cut;
        rc = dt_reader_fill(r, &b, piece, err);
    }
    dt_reader_close(r);
    dt_buf_release(&b);
    return rc;
}

int cmd_import(int argc, char **argv, const cli_ctx *ctx)
{
    node_ingest_opts opts = {.collection = "default", .sign = true};
    node_principal local;
    node *n = NULL;
    int first_file = 0, rc = CLI_OK;
    tally t = {.ctx = ctx};

    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--collection") == 0 && i + 1 < argc) {
            opts.collection = argv[++i];
        } else if (strcmp(argv[i], "--atomic") == 0) {
            opts.atomic = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage(usage);
        } else {
            first_file = i;
            break;
        }
    }
    if (first_file == 0)
        return cli_usage(usage);
    rc = cli_open_node(ctx, &n);
    if (rc != CLI_OK)
        return rc;
    node_principal_local(&local);
    if (ctx->json)
        t.report = json_array();

    for (int i = first_file; i < argc; i++) {
        dt_err err = {0};
        t.file = argv[i];
        dt_status st = import_file(n, &local, &opts, argv[i], &t, &err);
        if (st != DT_OK) {
            dt_err_prefix(&err, "%s", argv[i]);
            int code = cli_error(&err);
            if (code > rc)
                rc = code;
            if (code == CLI_ERROR)
                break;
        }
    }
    if (t.rejected > 0 && rc == CLI_OK)
        rc = CLI_FAIL;
    if (ctx->json) {
        cli_print_json(json_pack("{s:I, s:I, s:I, s:o}", "added", (json_int_t)t.added,
                                 "duplicates", (json_int_t)t.dups, "rejected",
                                 (json_int_t)t.rejected, "errors",
                                 t.report ? t.report : json_array()));
    } else {
        printf("imported into '%s': %zu new, %zu already held, %zu rejected\n", opts.collection,
               t.added, t.dups, t.rejected);
    }
    node_close(n);
    return rc;
}
