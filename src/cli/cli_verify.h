/* cli_verify: what detente verify, verdicts and reliability share (the
 * private glue of cmd_verify.c; not a module header). */
#ifndef DETENTE_CLI_VERIFY_H
#define DETENTE_CLI_VERIFY_H

#include "cli/cli.h"
#include "node/node.h"

typedef struct cli_verify {
    node *n;
    verify_lists *lists;
    verify_engine *e;
} cli_verify;

/* Parse --as-of TIME (RFC 3339) into seconds; false on a bad time. */
bool cli_verify_parse_as_of(const char *s, int64_t *out);
/* Open the node, load its warninglists, judge everything the operator
 * holds. On failure prints why and returns the exit code. */
int cli_verify_open(const cli_ctx *ctx, int64_t as_of, cli_verify *v);
void cli_verify_close(cli_verify *v);

#endif
