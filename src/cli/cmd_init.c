/* detente init: create a node's data directory. */
#include "cli/cli.h"
#include "node/node.h"

#include <string.h>

static const char usage[] =
    "usage: detente init [--name NAME] [--default-marking LEVEL]\n"
    "Create the node's data directory (--home DIR, $DETENTE_HOME or ./detente-data): the\n"
    "configuration, an Ed25519 key pair (key.secret, mode 0600), the store with collection\n"
    "'default', and the node's signed STIX identity. LEVEL is the TLP level given to objects\n"
    "that carry no marking: clear, green, amber (default), amber+strict or red.\n";

int cmd_init(int argc, char **argv, const cli_ctx *ctx)
{
    node_init_opts opts = {.name = NULL, .default_marking = NODE_TLP_AMBER};
    dt_err err = {0};
    node *n = NULL;
    int rc;

    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            opts.name = argv[++i];
        } else if (strcmp(argv[i], "--default-marking") == 0 && i + 1 < argc) {
            if (node_tlp_parse(argv[++i], &opts.default_marking, &err) != DT_OK)
                return cli_error(&err);
        } else {
            return cli_usage(usage);
        }
    }
    if (node_init(ctx->home, &opts, &err) != DT_OK)
        return cli_error(&err);
    rc = cli_open_node(ctx, &n);
    if (rc != CLI_OK)
        return rc;
    char key[96], fp[65];
    node_key_format(node_public_key(n), key, sizeof key);
    node_key_fingerprint(node_public_key(n), fp);
    if (ctx->json) {
        rc = cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "home", ctx->home, "identity",
                                      node_identity_id(n), "public_key", key, "fingerprint", fp));
    } else {
        printf("initialised a detente node in %s\n", ctx->home);
        printf("  identity     %s (%s)\n", node_identity_id(n), node_conf(n)->name);
        printf("  public key   %s\n", key);
        printf("  fingerprint  %s\n", fp);
        printf("peers pin this key: give them the public key line above.\n");
    }
    node_close(n);
    return rc;
}
