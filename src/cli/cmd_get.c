/* detente get: one object by id, through the one door out. */
#include "cli/cli.h"
#include "node/node.h"

#include <string.h>

static const char usage[] =
    "usage: detente get ID [--collection ID] [--all-versions]\n"
    "Print the newest version of the object (or a JSON array of every version, oldest\n"
    "first). Without --collection every collection is searched.\n"
    "Exit status: 0 found, 1 not found, 3 error.\n";

int cmd_get(int argc, char **argv, const cli_ctx *ctx)
{
    const char *id = NULL, *collection = NULL;
    bool all = false;
    node_principal local;
    store_collection *cols = NULL;
    size_t ncols = 0;
    node *n = NULL;
    dt_err err = {0};
    int rc;

    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--collection") == 0 && i + 1 < argc)
            collection = argv[++i];
        else if (strcmp(argv[i], "--all-versions") == 0)
            all = true;
        else if (argv[i][0] != '-' && id == NULL)
            id = argv[i];
        else
            return cli_usage(usage);
    }
    if (id == NULL)
        return cli_usage(usage);
    rc = cli_open_node(ctx, &n);
    if (rc != CLI_OK)
        return rc;
    node_principal_local(&local);
    if (collection == NULL) {
        if (store_collection_list(node_store(n), &cols, &ncols, &err) != DT_OK) {
            rc = cli_error(&err);
            goto out;
        }
    }
    rc = CLI_FAIL;
    for (size_t c = 0; c < (collection ? 1 : ncols); c++) {
        const char *ids[1] = {id};
        store_query q = {.collection = collection ? collection : cols[c].id, .ids = ids,
                         .id_count = 1, .versions = all ? STORE_VER_ALL : STORE_VER_LAST,
                         .max_marking = -1, .limit = STORE_MAX_PAGE, .with_json = true};
        store_page page;
        if (node_query(n, &local, &q, &page, &err) != DT_OK) {
            rc = cli_error(&err);
            goto out;
        }
        if (page.count > 0) {
            if (all)
                printf("[");
            for (size_t k = 0; k < page.count; k++)
                printf("%s%.*s", k ? ",\n" : "", (int)page.rows[k].json_len,
                       page.rows[k].json ? page.rows[k].json : "null");
            printf("%s\n", all ? "]" : "");
            rc = CLI_OK;
        }
        store_page_release(&page);
        if (rc == CLI_OK)
            break;
    }
    if (rc == CLI_FAIL)
        fprintf(stderr, "detente: %s: no such object\n", id);
out:
    dt_free(cols);
    node_close(n);
    return rc;
}
