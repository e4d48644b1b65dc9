/* detente ledger audit: see cmd_ledger.c. */
#include "cli/cli.h"

int cli_ledger_audit(int argc, char **argv, const cli_ctx *ctx);
int cli_ledger_audit(int argc, char **argv, const cli_ctx *ctx)
{
    (void)argc;
    (void)argv;
    (void)ctx;
    fprintf(stderr, "detente: ledger audit is not built yet\n");
    return CLI_ERROR;
}
