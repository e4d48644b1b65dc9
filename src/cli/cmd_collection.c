/* `detente collection`: the TAXII collections this node serves.
 *
 *   detente collection add ID --title TITLE [--description TEXT]
 *   detente collection list
 *
 * A new collection is empty and readable by nobody until `detente grant`. */
#include "cli/cli.h"
#include "node/node.h"

#include <string.h>

static const char usage[] =
    "usage: detente collection add ID --title TITLE [--description TEXT]\n"
    "       detente collection list\n";

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static int collection_list(node *n, const cli_ctx *ctx, dt_err *err)
{
    store *s = node_store(n);
    store_collection *cs = NULL;
    size_t count = 0;
    if (store_collection_list(s, &cs, &count, err) != DT_OK)
        return cli_error(err);
    if (ctx->json)
        printf("[");
    for (size_t i = 0; i < count; i++) {
        if (ctx->json) {
            printf("%s{\"id\":", i ? "," : "");
            json_str(cs[i].id);
            printf(",\"title\":");
            json_str(cs[i].title);
            printf(",\"description\":");
            json_str(cs[i].description);
            printf("}");
        } else {
            printf("%-24s %s\n", cs[i].id, cs[i].title);
        }
    }
    if (ctx->json)
        printf("]\n");
    dt_free(cs);
    return CLI_OK;
}

int cmd_collection(int argc, char **argv, const cli_ctx *ctx)
{
    dt_err err = {0};
    node *n = NULL;
    const char *id = NULL, *title = NULL, *description = NULL;
    int rc = CLI_OK;
    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    if (argc < 2)
        return cli_usage(usage);
    if (strcmp(argv[1], "list") == 0) {
        if (argc != 2)
            return cli_usage(usage);
    } else if (strcmp(argv[1], "add") == 0) {
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--title") == 0 && i + 1 < argc)
                title = argv[++i];
            else if (strcmp(argv[i], "--description") == 0 && i + 1 < argc)
                description = argv[++i];
            else if (argv[i][0] != '-' && id == NULL)
                id = argv[i];
            else
                return cli_usage(usage);
        }
        if (id == NULL || title == NULL)
            return cli_usage(usage);
    } else {
        return cli_usage(usage);
    }
    if (node_open(ctx->home, &n, &err) != DT_OK)
        return cli_error(&err);
    if (id == NULL)
        rc = collection_list(n, ctx, &err);
    else if (node_collection_add(n, id, title, description, &err) != DT_OK)
        rc = cli_error(&err);
    else
        fprintf(stderr, "detente: collection %s added\n", id);
    node_close(n);
    return rc;
}
