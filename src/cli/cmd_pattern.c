/* detente pattern: check, match and explain STIX patterns.
 *
 * The exit codes are a contract other tools rely on:
 *   check PATTERN        0 valid, 1 invalid (error and column on stderr), 2 usage
 *   match PATTERN FILE   0 matches, 1 does not, 2 error (invalid pattern, bad file)
 *   explain PATTERN      0 and the tree on stdout, 1 invalid, 2 usage
 * FILE is a STIX bundle or a JSON array of STIX objects ("-" reads stdin). */
#include "cli/cli.h"
#include "pattern/pattern.h"

#include <jansson.h>
#include <string.h>

static const char usage[] =
    "usage: detente pattern check PATTERN\n"
    "       detente pattern match PATTERN FILE\n"
    "       detente pattern explain PATTERN\n"
    "\n"
    "check    exit 0 if PATTERN is a valid STIX 2.1 pattern, 1 if not (error on stderr)\n"
    "match    exit 0 if PATTERN matches the observed-data in FILE (a STIX bundle or a\n"
    "         JSON array of STIX objects, '-' for stdin), 1 if not, 2 on error\n"
    "explain  print the parsed tree\n"
    "--json   print check's result as a JSON object\n";

#define MAX_INPUT (256u << 20)

static int print_err(const dt_err *err, int code)
{
    char text[400];
    fprintf(stderr, "detente: %s\n", dt_err_text(err, text, sizeof text));
    return code;
}

static int do_check(const char *text, const cli_ctx *ctx)
{
    pattern *p = NULL;
    dt_err err = {0};
    dt_status rc = pattern_parse(text, strlen(text), &p, &err);
    if (ctx->json) {
        json_t *o = json_object();
        json_object_set_new(o, "valid", json_boolean(rc == DT_OK));
        if (rc == DT_OK) {
            dt_buf b;
            dt_buf_init(&b, 1u << 20);
            if (pattern_print(p, &b, NULL) == DT_OK)
                json_object_set_new(o, "canonical", json_string(b.data ? b.data : ""));
            dt_buf_release(&b);
        } else {
            json_object_set_new(o, "where", json_string(err.where));
            json_object_set_new(o, "error", json_string(err.msg));
        }
        char *s = json_dumps(o, JSON_COMPACT);
        if (s)
            puts(s);
        free(s);
        json_decref(o);
    }
    pattern_free(p);
    if (rc == DT_OK)
        return CLI_OK;
    if (!ctx->json)
        print_err(&err, 0);
    return rc == DT_ENOMEM ? CLI_ERROR : CLI_FAIL;
}

static int do_explain(const char *text)
{
    pattern *p = NULL;
    dt_err err = {0};
    dt_buf b;
    dt_status rc = pattern_parse(text, strlen(text), &p, &err);
    if (rc != DT_OK)
        return print_err(&err, rc == DT_ENOMEM ? CLI_ERROR : CLI_FAIL);
    dt_buf_init(&b, 64u << 20);
    rc = pattern_explain(p, &b, &err);
    if (rc == DT_OK)
        fputs(b.data, stdout);
    dt_buf_release(&b);
    pattern_free(p);
    return rc == DT_OK ? CLI_OK : print_err(&err, CLI_ERROR);
}

static int do_match(const char *text, const char *path)
{
    pattern *p = NULL;
    dt_err err = {0};
    char *data = NULL;
    size_t len = 0;
    json_t *doc = NULL;
    json_error_t jerr;
    bool matched = false;
    int code = CLI_USAGE; /* 2: every error below */
    dt_status rc = pattern_parse(text, strlen(text), &p, &err);
    if (rc != DT_OK) {
        print_err(&err, 0);
        goto out;
    }
    if (dt_file_read(path, MAX_INPUT, &data, &len, &err) != DT_OK) {
        print_err(&err, 0);
        goto out;
    }
    doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        fprintf(stderr, "detente: %s:%d:%d: %s\n", path, jerr.line, jerr.column, jerr.text);
        goto out;
    }
    const json_t *objects = doc;
    if (json_is_object(doc)) {
        objects = json_object_get(doc, "objects");
        if (!json_is_array(objects)) {
            fprintf(stderr, "detente: %s: a STIX bundle needs an \"objects\" array\n", path);
            goto out;
        }
    } else if (!json_is_array(doc)) {
        fprintf(stderr, "detente: %s: expected a STIX bundle or a JSON array of objects\n", path);
        goto out;
    }
    if (pattern_match(p, objects, &matched, &err) != DT_OK) {
        char etext[400];
        fprintf(stderr, "detente: %s: %s\n", path, dt_err_text(&err, etext, sizeof etext));
        goto out;
    }
    code = matched ? CLI_OK : CLI_FAIL;
out:
    json_decref(doc);
    dt_free(data);
    pattern_free(p);
    return code;
}

int cmd_pattern(int argc, char **argv, const cli_ctx *ctx)
{
    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    if (argc < 2)
        return cli_usage(usage);
    const char *sub = argv[1];
    if (strcmp(sub, "check") == 0 && argc == 3)
        return do_check(argv[2], ctx);
    if (strcmp(sub, "explain") == 0 && argc == 3)
        return do_explain(argv[2]);
    if (strcmp(sub, "match") == 0 && argc == 4)
        return do_match(argv[2], argv[3]);
    return cli_usage(usage);
}
