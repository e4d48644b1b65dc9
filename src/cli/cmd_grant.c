/* `detente grant NAME COLLECTION read|write|read-write|none`: what an
 * account may do with a collection. A grant replaces the previous one;
 * "none" removes it. */
#include "cli/cli.h"
#include "node/node.h"

#include <string.h>

static const char usage[] = "usage: detente grant NAME COLLECTION read|write|read-write|none\n";

int cmd_grant(int argc, char **argv, const cli_ctx *ctx)
{
    dt_err err = {0};
    node *n = NULL;
    unsigned perms;
    int rc = CLI_OK;
    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    if (argc != 4)
        return cli_usage(usage);
    if (strcmp(argv[3], "read") == 0)
        perms = STORE_PERM_READ;
    else if (strcmp(argv[3], "write") == 0)
        perms = STORE_PERM_WRITE;
    else if (strcmp(argv[3], "read-write") == 0)
        perms = STORE_PERM_READ | STORE_PERM_WRITE;
    else if (strcmp(argv[3], "none") == 0)
        perms = 0;
    else
        return cli_usage(usage);
    if (node_open(ctx->home, &n, &err) != DT_OK)
        return cli_error(&err);
    if (node_grant(n, argv[1], argv[2], perms, &err) != DT_OK)
        rc = cli_error(&err);
    else if (ctx->json)
        printf("{\"user\":\"%s\",\"collection\":\"%s\",\"access\":\"%s\"}\n", argv[1], argv[2],
               argv[3]);
    else
        fprintf(stderr, "detente: %s: %s on %s\n", argv[1], argv[3], argv[2]);
    node_close(n);
    return rc;
}
