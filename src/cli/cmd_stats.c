/* detente stats: what the node holds. */
#include "cli/cli.h"
#include "ledger/ledger.h"
#include "node/node.h"

static const char usage[] = "usage: detente stats [--json]\n"
                            "Objects, versions, collections, ledger size and accounts.\n";

int cmd_stats(int argc, char **argv, const cli_ctx *ctx)
{
    store_counts c;
    store_collection *cols = NULL;
    size_t ncols = 0;
    node *n = NULL;
    dt_err err = {0};
    int rc;

    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    if (argc > 1)
        return cli_usage(usage);
    rc = cli_open_node(ctx, &n);
    if (rc != CLI_OK)
        return rc;
    if (store_counts_get(node_store(n), &c, &err) != DT_OK ||
        store_collection_list(node_store(n), &cols, &ncols, &err) != DT_OK) {
        rc = cli_error(&err);
        goto out;
    }
    if (ctx->json) {
        json_t *jc = json_array();
        for (size_t i = 0; i < ncols; i++)
            json_array_append_new(jc, json_pack("{s:s, s:s}", "id", cols[i].id, "title",
                                                cols[i].title));
        rc = cli_print_json(json_pack(
            "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "home", node_home(n), "identity",
            node_identity_id(n), "objects", (json_int_t)c.ids, "versions", (json_int_t)c.objects,
            "collections", (json_int_t)c.collections, "ledger_size",
            (json_int_t)c.ledger_leaves, "users", (json_int_t)c.users, "collection_list", jc));
    } else {
        printf("node %s (%s)\n", node_conf(n)->name, node_identity_id(n));
        printf("  data directory  %s\n", node_home(n));
        printf("  objects         %llu (%llu versions)\n", (unsigned long long)c.ids,
               (unsigned long long)c.objects);
        printf("  ledger          %llu leaves\n", (unsigned long long)c.ledger_leaves);
        printf("  accounts        %llu\n", (unsigned long long)c.users);
        printf("  collections     %llu\n", (unsigned long long)c.collections);
        for (size_t i = 0; i < ncols; i++)
            printf("    %-24s %s\n", cols[i].id, cols[i].title);
    }
out:
    dt_free(cols);
    node_close(n);
    return rc;
}
