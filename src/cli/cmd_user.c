/* `detente user`: manage the accounts TAXII clients log in with.
 *
 *   detente user add NAME [--password-stdin] [--max-marking LEVEL] [--peer]
 *     (--peer: the account a peer node uses; RED is never served to it and
 *     AMBER received from others is never relayed to it)
 *   detente user set NAME --max-marking LEVEL
 *   detente user token NAME
 *   detente user remove NAME
 *   detente user list
 *
 * Other tools script these, so the output is stable: a generated password
 * or a token is the only thing printed on stdout (once; it is not kept),
 * and --json gives one object. Passwords given with --password-stdin are
 * read from the first line of stdin, never from the command line (which
 * other users of the machine can see). */
#include "cli/cli.h"
#include "node/node.h"

#include <sodium.h>
#include <string.h>

static const char usage[] =
    "usage: detente user add NAME [--password-stdin] [--max-marking LEVEL] [--peer]\n"
    "       detente user set NAME --max-marking LEVEL\n"
    "       detente user token NAME\n"
    "       detente user remove NAME\n"
    "       detente user list\n"
    "LEVEL is clear, green, amber, amber+strict or red (default: the node's default marking).\n";

static int read_password(char *out, size_t cap, dt_err *err)
{
    size_t len;
    if (fgets(out, (int)cap, stdin) == NULL) {
        dt_fail(err, DT_EINVALID, "stdin", "no password on stdin");
        return -1;
    }
    len = strlen(out);
    if (len == cap - 1 && out[len - 1] != '\n') {
        dt_fail(err, DT_ELIMIT, "stdin", "password longer than %zu bytes", cap - 2);
        return -1;
    }
    while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
        out[--len] = '\0';
    return 0;
}

static int user_add(node *n, int argc, char **argv, const cli_ctx *ctx, dt_err *err)
{
    const char *name = NULL;
    bool from_stdin = false, is_peer = false;
    node_tlp level = node_conf(n)->default_marking;
    char pw[1024], generated[64];
    int rc;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--password-stdin") == 0) {
            from_stdin = true;
        } else if (strcmp(argv[i], "--peer") == 0) {
            is_peer = true;
        } else if (strcmp(argv[i], "--max-marking") == 0 && i + 1 < argc) {
            if (node_tlp_parse(argv[++i], &level, err) != DT_OK)
                return cli_error(err);
        } else if (argv[i][0] != '-' && name == NULL) {
            name = argv[i];
        } else {
            return cli_usage(usage);
        }
    }
    if (name == NULL)
        return cli_usage(usage);
    if (from_stdin && read_password(pw, sizeof pw, err) != 0)
        return cli_error(err);
    rc = node_user_add(n, name, from_stdin ? pw : NULL, level, generated, sizeof generated, err)
             == DT_OK
             ? CLI_OK
             : cli_error(err);
    sodium_memzero(pw, sizeof pw);
    if (rc == CLI_OK && is_peer && node_user_set_peer(n, name, true, err) != DT_OK)
        rc = cli_error(err);
    if (rc != CLI_OK)
        return rc;
    if (ctx->json) {
        printf("{\"user\":\"%s\",\"max_marking\":\"%s\"", name, node_tlp_name(level));
        if (!from_stdin)
            printf(",\"password\":\"%s\"", generated);
        printf("}\n");
    } else if (!from_stdin) {
        printf("%s\n", generated);
        fprintf(stderr, "detente: account %s added (max marking %s); the password above is shown "
                        "only once\n",
                name, node_tlp_name(level));
    } else {
        fprintf(stderr, "detente: account %s added (max marking %s)\n", name,
                node_tlp_name(level));
    }
    sodium_memzero(generated, sizeof generated);
    return CLI_OK;
}

static int user_list(node *n, const cli_ctx *ctx, dt_err *err)
{
    store *s = node_store(n);
    store_user *users = NULL;
    size_t count = 0;
    if (store_user_list(s, &users, &count, err) != DT_OK)
        return cli_error(err);
    if (ctx->json)
        printf("[");
    for (size_t i = 0; i < count; i++) {
        char created[DT_TIME_LEN];
        dt_time t = dt_time_from_us(users[i].created);
        const char *level = node_tlp_name((node_tlp)users[i].max_marking);
        dt_time_format(&t, 0, created);
        if (ctx->json)
            printf("%s{\"user\":\"%s\",\"max_marking\":\"%s\",\"created\":\"%s\","
                   "\"peer\":%s}",
                   i ? "," : "", users[i].name, level, created,
                   users[i].is_peer ? "true" : "false");
        else
            printf("%-24s %-13s %s%s\n", users[i].name, level, created,
                   users[i].is_peer ? "  (peer)" : "");
    }
    if (ctx->json)
        printf("]\n");
    dt_free(users);
    return CLI_OK;
}

int cmd_user(int argc, char **argv, const cli_ctx *ctx)
{
    dt_err err = {0};
    node *n = NULL;
    const char *sub;
    int rc = CLI_OK;
    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    if (argc < 2)
        return cli_usage(usage);
    sub = argv[1];
    if (strcmp(sub, "list") == 0 ? argc != 2
        : strcmp(sub, "add") == 0 ? argc < 3
        : strcmp(sub, "set") == 0 ? argc != 5
        : (strcmp(sub, "token") == 0 || strcmp(sub, "remove") == 0) ? argc != 3
        : true)
        return cli_usage(usage);
    if (node_open(ctx->home, &n, &err) != DT_OK)
        return cli_error(&err);
    if (strcmp(sub, "add") == 0) {
        rc = user_add(n, argc, argv, ctx, &err);
    } else if (strcmp(sub, "list") == 0) {
        rc = user_list(n, ctx, &err);
    } else if (strcmp(sub, "set") == 0) {
        node_tlp level;
        if (strcmp(argv[3], "--max-marking") != 0)
            rc = cli_usage(usage);
        else if (node_tlp_parse(argv[4], &level, &err) != DT_OK ||
                 node_user_set_marking(n, argv[2], level, &err) != DT_OK)
            rc = cli_error(&err);
        else
            fprintf(stderr, "detente: %s may now read up to %s\n", argv[2], node_tlp_name(level));
    } else if (strcmp(sub, "token") == 0) {
        char tok[128];
        if (node_token_new(n, argv[2], tok, sizeof tok, &err) != DT_OK) {
            rc = cli_error(&err);
        } else {
            if (ctx->json)
                printf("{\"user\":\"%s\",\"token\":\"%s\"}\n", argv[2], tok);
            else
                printf("%s\n", tok);
            sodium_memzero(tok, sizeof tok);
        }
    } else {
        if (node_user_remove(n, argv[2], &err) != DT_OK)
            rc = cli_error(&err);
        else
            fprintf(stderr, "detente: account %s removed\n", argv[2]);
    }
    node_close(n);
    return rc;
}
