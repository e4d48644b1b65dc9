/* detente validate: check STIX 2.1 objects offline, without a node.
 *
 * Each FILE ("-" for stdin, gzip read transparently) may hold a bundle, a
 * JSON array, one object, or JSON lines; every object is validated on its
 * own and reported on one line, so a file with one bad object among many
 * still shows which ones pass. Exit 0 when everything is valid, 1 when any
 * object (or a whole file) is invalid, 2 on usage errors, 3 on I/O. */
#include "cli/cli.h"
#include "stix/stix.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: detente validate [--json] [--assume-spec-version] FILE...\n"
    "  Validate STIX 2.1 objects (bundle, JSON array, object or JSON lines; '-' is stdin).\n"
    "  Prints 'OK <id>' or 'INVALID <where>: <reason>' per object.\n"
    "  --json                 one JSON line per object: where, id, valid, error\n"
    "  --assume-spec-version  read a missing spec_version as \"2.1\" (STIX 2.0-era content)\n";

typedef struct vstate {
    const char *file;
    bool json, multi;
    size_t invalid, valid;
    const stix_limits *lim;
} vstate;

static void report(vstate *st, const char *where, const char *id, const char *error)
{
    char loc[256];
    if (st->multi)
        snprintf(loc, sizeof loc, "%s%s%s", st->file, where[0] ? ":" : "", where);
    else
        snprintf(loc, sizeof loc, "%s", where);
    if (st->json) {
        json_t *o = json_pack("{s:s, s:o, s:b, s:o}", "where", loc, "id",
                              id ? json_string(id) : json_null(), "valid", error == NULL, "error",
                              error ? json_string(error) : json_null());
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(o);
    } else if (error == NULL) {
        printf("OK %s\n", id ? id : loc);
    } else {
        printf("INVALID %s%s%s\n", loc, loc[0] ? ": " : "", error);
    }
}

static dt_status on_item(void *ctx, const char *where, json_t *item, const dt_err *item_err)
{
    vstate *st = ctx;
    char text[512], path[160];
    dt_err err = {0};
    if (item_err != NULL) {
        st->invalid++;
        /* the item's own where already names its place ("line 7 column 3") */
        report(st, item_err->where[0] ? item_err->where : where, NULL, item_err->msg);
        return DT_OK;
    }
    const char *id = stix_str(item, "id");
    if (stix_validate(item, st->lim, &err) == DT_OK) {
        st->valid++;
        report(st, where, id, NULL);
        return DT_OK;
    }
    st->invalid++;
    if (err.where[0] != '\0')
        snprintf(text, sizeof text, "%s: %s", err.where, err.msg);
    else
        snprintf(text, sizeof text, "%s", err.msg);
    snprintf(path, sizeof path, "%s", where);
    report(st, path, id, text);
    return DT_OK;
}

int cmd_validate(int argc, char **argv, const cli_ctx *ctx)
{
    stix_limits lim;
    vstate st = {0};
    int nfiles = 0, first = 0, rc = CLI_OK;
    bool opts = true;
    if (cli_wants_help(argc, argv, usage_text))
        return CLI_OK;
    stix_limits_default(&lim);
    st.json = ctx->json;
    st.lim = &lim;
    for (int i = 1; i < argc; i++) {
        if (opts && strcmp(argv[i], "--") == 0) {
            opts = false;
        } else if (opts && strcmp(argv[i], "--json") == 0) {
            st.json = true;
        } else if (opts && strcmp(argv[i], "--assume-spec-version") == 0) {
            lim.assume_spec_version = true;
        } else if (opts && argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "detente validate: unknown option %s\n", argv[i]);
            return cli_usage(usage_text);
        } else {
            if (nfiles++ == 0)
                first = i;
        }
    }
    if (nfiles == 0)
        return cli_usage(usage_text);
    st.multi = nfiles > 1;
    opts = true;
    for (int i = first; i < argc; i++) {
        if (opts && strcmp(argv[i], "--") == 0) {
            opts = false;
            continue;
        }
        if (opts && argv[i][0] == '-' && argv[i][1] != '\0')
            continue;
        char *text = NULL;
        size_t len = 0;
        dt_err err = {0};
        if (dt_file_read(argv[i], lim.max_input_bytes, &text, &len, &err) != DT_OK) {
            int code = cli_error(&err);
            if (code > rc)
                rc = code;
            continue;
        }
        st.file = argv[i];
        if (stix_input_walk(text, len, &lim, on_item, &st, &err) != DT_OK) {
            char msg[400];
            st.invalid++;
            dt_err_text(&err, msg, sizeof msg);
            report(&st, "", NULL, msg);
        }
        dt_free(text);
    }
    if (st.invalid > 0 && rc == CLI_OK)
        rc = CLI_FAIL;
    return rc;
}
