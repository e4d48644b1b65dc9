/* detente's entry point: global options, then dispatch through the table in
 * commands.h. Global options may stand before the subcommand:
 *   --home DIR   the node's data directory (else $DETENTE_HOME, else
 *                ./detente-data)
 *   --json       machine-readable output where a command reports something
 * --home and --json are also accepted after the subcommand name. */
#include "cli/cli.h"

#include <locale.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const struct command {
    const char *name;
    cli_fn fn;
    const char *summary;
} commands[] = {
#define CLI_COMMAND(name, fn, summary) {name, fn, summary},
#include "cli/commands.h"
#undef CLI_COMMAND
};

#define DETENTE_VERSION "0.1.0"

int cmd_version(int argc, char **argv, const cli_ctx *ctx)
{
    if (cli_wants_help(argc, argv, "usage: detente version\n"))
        return CLI_OK;
    if (ctx->json)
        printf("{\"version\":\"%s\"}\n", DETENTE_VERSION);
    else
        printf("detente %s\n", DETENTE_VERSION);
    return CLI_OK;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: detente [--home DIR] [--json] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].fn != NULL)
            fprintf(f, "  %-18s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'detente COMMAND --help' describes a command.\n"
               "exit codes: 0 ok, 1 a problem found (rejected input, failed check),\n"
               "2 usage error, 3 runtime error (I/O, database, network)\n");
}

int main(int argc, char **argv)
{
    cli_ctx ctx = {.home = NULL, .json = false, .prog = "detente"};
    int i = 1, out = 1;
    setlocale(LC_ALL, "C");
    if (sodium_init() < 0) {
        fprintf(stderr, "detente: cannot initialise libsodium\n");
        return CLI_ERROR;
    }
    /* Strip global options wherever they stand, so `detente import --home D f`
     * and `detente --home D import f` mean the same. "--" ends option
     * processing for the rest of the line. */
    bool dashdash = false;
    for (i = 1; i < argc; i++) {
        if (!dashdash && strcmp(argv[i], "--") == 0) {
            dashdash = true;
        } else if (!dashdash && strcmp(argv[i], "--json") == 0) {
            ctx.json = true;
            continue;
        } else if (!dashdash && strcmp(argv[i], "--home") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "detente: --home needs a directory\n");
                return CLI_USAGE;
            }
            ctx.home = argv[++i];
            continue;
        } else if (!dashdash && strncmp(argv[i], "--home=", 7) == 0) {
            ctx.home = argv[i] + 7;
            continue;
        }
        argv[out++] = argv[i];
    }
    argc = out;
    argv[argc] = NULL;
    if (ctx.home == NULL)
        ctx.home = getenv("DETENTE_HOME");
    if (ctx.home == NULL || ctx.home[0] == '\0')
        ctx.home = "./detente-data";
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(1, argv + 1, &ctx);
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (commands[k].fn != NULL && strcmp(argv[1], commands[k].name) == 0)
            return commands[k].fn(argc - 1, argv + 1, &ctx);
    fprintf(stderr, "detente: unknown command '%s' (see 'detente --help')\n", argv[1]);
    return CLI_USAGE;
}
