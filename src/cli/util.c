/* Shared helpers for the subcommands: error printing and exit codes. */
#include "cli/cli.h"
#include "node/node.h"

#include <errno.h>
#include <stdlib.h>

#include <string.h>

int cli_exit_code(dt_status s)
{
    switch (s) {
    case DT_OK:
        return CLI_OK;
    case DT_EPARSE:
    case DT_EINVALID:
    case DT_ECONFLICT:
    case DT_ENOTFOUND:
    case DT_EDENIED:
    case DT_ESIG:
    case DT_ELIMIT:
        return CLI_FAIL;
    case DT_EARG:
        return CLI_USAGE;
    default:
        return CLI_ERROR;
    }
}

int cli_error(const dt_err *err)
{
    char text[400];
    fprintf(stderr, "detente: %s\n", dt_err_text(err, text, sizeof text));
    return cli_exit_code(err ? err->code : DT_EARG);
}

bool cli_wants_help(int argc, char **argv, const char *usage)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return true;
        }
    }
    return false;
}

int cli_usage(const char *usage)
{
    fputs(usage, stderr);
    return CLI_USAGE;
}

int cli_open_node(const cli_ctx *ctx, struct node **out)
{
    dt_err err = {0};
    if (node_open(ctx->home, out, &err) != DT_OK)
        return cli_error(&err);
    return CLI_OK;
}

bool cli_parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = (size_t)v;
    return true;
}

int cli_print_json(json_t *v)
{
    char *text;
    if (v == NULL) {
        fprintf(stderr, "detente: out of memory\n");
        return CLI_ERROR;
    }
    text = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(v);
    if (text == NULL) {
        fprintf(stderr, "detente: out of memory\n");
        return CLI_ERROR;
    }
    puts(text);
    free(text);
    return CLI_OK;
}
