/* detente reliability: each source's reliability from its claims'
 * verdicts: Beta(1 + corroborated, 1 + refuted), its mean, 90% interval,
 * Admiralty letter, and how it stood at the end of each of the last months. */
#include "cli/cli_verify.h"

#include <string.h>

static const char usage[] =
    "usage: detente reliability [--as-of TIME] [--months N]\n"
    "Each source identity with claims: Admiralty letter (F: fewer than 5 decided\n"
    "claims), mean and 90% interval of Beta(1 + corroborated, 1 + refuted), counts,\n"
    "and the same as of the end of each of the last N months (default 6).\n"
    "--json prints a list of {\"source\",\"letter\",\"mean\",\"interval\",...,\"history\"}.\n"
    "Exit status: 0 done, 2 usage, 3 error.\n";

int cmd_reliability(int argc, char **argv, const cli_ctx *ctx)
{
    int64_t as_of = 0;
    size_t months = 6;
    cli_verify v;
    dt_err err = {0};
    int rc;

    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--as-of") == 0 && i + 1 < argc) {
            if (!cli_verify_parse_as_of(argv[++i], &as_of)) {
                fprintf(stderr, "detente: --as-of: '%s' is not an RFC 3339 UTC time\n", argv[i]);
                return CLI_USAGE;
            }
        } else if (strcmp(argv[i], "--months") == 0 && i + 1 < argc) {
            if (!cli_parse_size(argv[++i], &months) || months > 120)
                return cli_usage(usage);
        } else
            return cli_usage(usage);
    }
    rc = cli_verify_open(ctx, as_of, &v);
    if (rc != CLI_OK)
        return rc;
    json_t *arr = json_array();
    size_t n = verify_engine_source_count(v.e);
    for (size_t i = 0; i < n && arr != NULL; i++) {
        json_t *o = NULL;
        if (node_verify_source_json(v.e, i, (unsigned)months, &o, &err) != DT_OK) {
            rc = cli_error(&err);
            json_decref(arr);
            arr = NULL;
            break;
        }
        if (json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
            rc = cli_print_json(NULL);
        }
    }
    if (rc == CLI_OK && ctx->json) {
        rc = cli_print_json(arr);
        arr = NULL;
    } else if (rc == CLI_OK && arr != NULL) {
        printf("%-50s %s %6s  %-15s %5s %5s %5s %5s  history (oldest first)\n", "source", "L",
               "mean", "90% interval", "corr", "ref", "disp", "unver");
        size_t k;
        json_t *o;
        json_array_foreach(arr, k, o)
        {
            json_t *iv = json_object_get(o, "interval"), *h;
            size_t j;
            printf("%-50s %s %6.3f  [%.3f, %.3f] %5lld %5lld %5lld %5lld  ",
                   json_string_value(json_object_get(o, "source")),
                   json_string_value(json_object_get(o, "letter")),
                   json_real_value(json_object_get(o, "mean")),
                   json_real_value(json_array_get(iv, 0)), json_real_value(json_array_get(iv, 1)),
                   (long long)json_integer_value(json_object_get(o, "corroborated")),
                   (long long)json_integer_value(json_object_get(o, "refuted")),
                   (long long)json_integer_value(json_object_get(o, "disputed")),
                   (long long)json_integer_value(json_object_get(o, "unverified")));
            json_array_foreach(json_object_get(o, "history"), j, h)
                printf("%s", json_string_value(json_object_get(h, "letter")));
            printf("\n");
        }
    } else if (rc == CLI_OK) {
        rc = cli_print_json(NULL);
    }
    json_decref(arr);
    cli_verify_close(&v);
    return rc;
}
