/* cli: the detente command line. main.c holds the table of subcommands
 * (listed in commands.h), one cmd_<name>.c each, git's builtin/ style.
 *
 * Exit codes (documented in the README, relied on by scripts):
 *   0 success; 1 the command ran but found a problem (a rejected object, an
 *   invalid pattern, a failed check); 2 usage error; 3 a runtime error
 *   (I/O, database, network, out of memory). Only cli/ prints errors and
 *   picks exit codes. */
#ifndef DETENTE_CLI_H
#define DETENTE_CLI_H

#include "core/core.h"

#include <stdbool.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_ERROR = 3 };

typedef struct cli_ctx {
    const char *home;  /* --home, else $DETENTE_HOME, else ./detente-data */
    bool json;         /* --json anywhere on the line */
    const char *prog;  /* "detente" */
} cli_ctx;

typedef int (*cli_fn)(int argc, char **argv, const cli_ctx *ctx);

/* Print "detente: where: msg" on stderr and map the status to an exit code. */
int cli_error(const dt_err *err);
/* Exit code for a status: DT_OK 0, bad input 1, usage 2, runtime 3. */
int cli_exit_code(dt_status s);
/* True for -h/--help; prints usage text to stdout. */
bool cli_wants_help(int argc, char **argv, const char *usage);
/* Print usage to stderr and return CLI_USAGE. */
int cli_usage(const char *usage);

struct node;
/* Open the node at ctx->home; on failure print why and return the exit code
 * (and *out is NULL). */
int cli_open_node(const cli_ctx *ctx, struct node **out);
/* Print v as one line of compact JSON on stdout and drop the reference.
 * Returns CLI_ERROR if v is NULL (out of memory building it). */
#include <jansson.h>
int cli_print_json(json_t *v);
/* Strict decimal parse of a whole argument. */
bool cli_parse_size(const char *s, size_t *out);

#define CLI_COMMAND(name, fn, summary) \
    __attribute__((weak)) int fn(int argc, char **argv, const cli_ctx *ctx);
#include "cli/commands.h"
#undef CLI_COMMAND

#endif
