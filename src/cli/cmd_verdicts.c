/* detente verdicts: every claim with its verdict, filtered by verdict and
 * by source. */
#include "cli/cli_verify.h"

#include <string.h>

static const char usage[] =
    "usage: detente verdicts [--state S] [--source ID] [--as-of TIME]\n"
    "List claims with their verdicts (ordered by id). S is unverified, corroborated,\n"
    "disputed, refuted or likely-benign; ID a source identity. --json prints a list of\n"
    "{\"id\",\"type\",\"source\",\"verdict\",\"score\",\"as_of\",...}.\n"
    "Exit status: 0 done, 2 usage, 3 error.\n";

int cmd_verdicts(int argc, char **argv, const cli_ctx *ctx)
{
    const char *state = NULL, *source = NULL;
    int64_t as_of = 0;
    cli_verify v;
    int rc;

    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
            state = argv[++i];
        else if (strcmp(argv[i], "--source") == 0 && i + 1 < argc)
            source = argv[++i];
        else if (strcmp(argv[i], "--as-of") == 0 && i + 1 < argc) {
            if (!cli_verify_parse_as_of(argv[++i], &as_of)) {
                fprintf(stderr, "detente: --as-of: '%s' is not an RFC 3339 UTC time\n", argv[i]);
                return CLI_USAGE;
            }
        } else
            return cli_usage(usage);
    }
    if (state != NULL) {
        bool known = false;
        for (int k = 0; k < 5; k++)
            known |= strcmp(state, verify_verdict_name((verify_verdict)k)) == 0;
        if (!known) {
            fprintf(stderr, "detente: --state: '%s' is not a verdict (unverified, corroborated, "
                            "disputed, refuted, likely-benign)\n", state);
            return CLI_USAGE;
        }
    }
    rc = cli_verify_open(ctx, as_of, &v);
    if (rc != CLI_OK)
        return rc;
    json_t *arr = ctx->json ? json_array() : NULL;
    size_t n = verify_engine_claim_count(v.e);
    for (size_t i = 0; i < n; i++) {
        verify_claim_info c;
        verify_engine_claim(v.e, i, &c);
        if (state != NULL && strcmp(state, verify_verdict_name(c.verdict)) != 0)
            continue;
        if (source != NULL && strcmp(source, c.source) != 0)
            continue;
        if (ctx->json) {
            if (arr == NULL || json_array_append_new(arr, node_verify_claim_json(&c)) != 0) {
                json_decref(arr);
                arr = NULL;
                break;
            }
        } else {
            printf("%-13s %7.3f  %s  %s\n", verify_verdict_name(c.verdict), c.score, c.id,
                   c.source);
        }
    }
    rc = ctx->json ? cli_print_json(arr) : CLI_OK;
    cli_verify_close(&v);
    return rc;
}
