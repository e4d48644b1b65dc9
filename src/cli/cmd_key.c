/* detente key: show the node's public key for peers to pin, or rotate it.
 * Rotation is node_key_rotate (node/keys.c): the ledger records it, the old
 * secret key file is kept as key.secret.<stamp> (mode 0600), and a server
 * that was running must be restarted to sign with the new key. */
#include "cli/cli.h"
#include "node/node.h"

#include <string.h>

static const char usage[] =
    "usage: detente key show [--json]\n"
    "       detente key rotate [--json]\n"
    "show    print the public key (ed25519:<base64>) and its fingerprint (hex SHA-256 of\n"
    "        the key bytes) for peers to pin; --json: {\"public_key\", \"fingerprint\"}\n"
    "rotate  make a new key pair; the old key signs the new one and the rotation is\n"
    "        appended to the ledger with a head signed by the new key; the old secret\n"
    "        key file is kept as key.secret.<UTC stamp> (mode 0600; delete it once your\n"
    "        peers follow). Peers that pinned the old key read the rotation statement at\n"
    "        GET /detente/v1/key. Restart a running 'detente serve' afterwards.\n";

static int key_show(node *n, const cli_ctx *ctx)
{
    char key[96], fp[65];
    node_key_format(node_public_key(n), key, sizeof key);
    node_key_fingerprint(node_public_key(n), fp);
    if (ctx->json)
        return cli_print_json(json_pack("{s:s, s:s}", "public_key", key, "fingerprint", fp));
    printf("public_key  %s\nfingerprint %s\n", key, fp);
    return CLI_OK;
}

static int key_rotate(node *n, const cli_ctx *ctx)
{
    node_key_rotation r;
    dt_err err = {0};
    char oldk[96], newk[96], oldfp[65], newfp[65];
    if (node_key_rotate(n, &r, &err) != DT_OK)
        return cli_error(&err);
    node_key_format(r.old_public_key, oldk, sizeof oldk);
    node_key_format(r.new_public_key, newk, sizeof newk);
    node_key_fingerprint(r.old_public_key, oldfp);
    node_key_fingerprint(r.new_public_key, newfp);
    if (ctx->json)
        return cli_print_json(json_pack(
            "{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "old_public_key", oldk, "old_fingerprint",
            oldfp, "public_key", newk, "fingerprint", newfp, "leaf_index",
            (json_int_t)r.leaf_index, "tree_size", (json_int_t)r.sth_tree_size, "old_secret_key",
            r.kept_secret));
    printf("rotated the node key\n  old %s (fingerprint %s)\n  new %s (fingerprint %s)\n"
           "rotation leaf %llu; heads of tree size > %llu are signed by the new key\n"
           "old secret key kept in %s (mode 0600); delete it once your peers follow\n"
           "restart a running 'detente serve' so it signs with the new key\n",
           oldk, oldfp, newk, newfp, (unsigned long long)r.leaf_index,
           (unsigned long long)r.leaf_index, r.kept_secret);
    return CLI_OK;
}

int cmd_key(int argc, char **argv, const cli_ctx *ctx)
{
    node *n = NULL;
    int rc;
    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    if (argc != 2 || (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "rotate") != 0))
        return cli_usage(usage);
    rc = cli_open_node(ctx, &n);
    if (rc != CLI_OK)
        return rc;
    rc = strcmp(argv[1], "show") == 0 ? key_show(n, ctx) : key_rotate(n, ctx);
    node_close(n);
    return rc;
}
