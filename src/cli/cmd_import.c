/* detente import: objects from files into a collection, through the one
 * door in (node_ingest_text), signed by this node where unsigned. */
#include "cli/cli.h"
#include "node/node.h"

#include <string.h>

static const char usage[] =
    "usage: detente import [--collection ID] [--atomic] FILE...\n"
    "Import STIX 2.1 objects: each FILE holds a bundle, a JSON array of objects, one object,\n"
    "or JSON lines; '-' reads standard input; .gz files are read transparently.\n"
    "Valid objects are stored (signed by this node if unsigned) and ledgered; each rejected\n"
    "object is reported with its reason. --atomic stores all objects of a file or none.\n"
    "Exit status: 0 all stored, 1 some object rejected, 2 usage, 3 I/O or database error.\n";

#define IMPORT_MAX_BYTES ((size_t)1 << 30)

int cmd_import(int argc, char **argv, const cli_ctx *ctx)
{
    node_ingest_opts opts = {.collection = "default", .sign = true};
    node_principal local;
    node *n = NULL;
    int first_file = 0, rc = CLI_OK;
    size_t added = 0, dups = 0, rejected = 0;
    json_t *report = NULL;

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
        report = json_array();

    for (int i = first_file; i < argc; i++) {
        dt_err err = {0};
        node_ingest_result res = {0};
        char *text = NULL;
        size_t len = 0;
        dt_status st = dt_file_read(argv[i], IMPORT_MAX_BYTES, &text, &len, &err);
        if (st == DT_OK)
            st = node_ingest_text(n, &local, &opts, text, len, &res, &err);
        dt_free(text);
        for (size_t k = 0; k < res.count; k++) {
            const node_ingest_item *it = &res.items[k];
            if (it->outcome != NODE_ITEM_REJECTED)
                continue;
            if (!ctx->json)
                fprintf(stderr, "detente: %s: %s%s%s: rejected: %s\n", argv[i], it->where,
                        it->id[0] ? " " : "", it->id, it->msg);
            else
                json_array_append_new(report, json_pack("{s:s, s:s, s:s, s:s}", "file", argv[i],
                                                        "where", it->where, "id", it->id,
                                                        "error", it->msg));
        }
        added += res.added;
        dups += res.duplicates;
        rejected += res.rejected;
        node_ingest_result_release(&res);
        if (st != DT_OK) {
            dt_err_prefix(&err, "%s", argv[i]);
            int code = cli_error(&err);
            if (code > rc)
                rc = code;
            if (code == CLI_ERROR)
                break;
        }
    }
    if (rejected > 0 && rc == CLI_OK)
        rc = CLI_FAIL;
    if (ctx->json) {
        cli_print_json(json_pack("{s:I, s:I, s:I, s:o}", "added", (json_int_t)added, "duplicates",
                                 (json_int_t)dups, "rejected", (json_int_t)rejected, "errors",
                                 report ? report : json_array()));
    } else {
        printf("imported into '%s': %zu new, %zu already held, %zu rejected\n", opts.collection,
               added, dups, rejected);
    }
    node_close(n);
    return rc;
}
