/* detente verify [ID]: a claim's verdict with every piece of evidence, each
 * pointing to the object, signer and ledger leaf behind it; without ID, a
 * summary of every claim's verdict. Also the glue the verdicts and
 * reliability commands share (cli_verify.h). Verdicts are computed on
 * demand from the store (docs/verdicts.md "On a node"). */
#include "cli/cli_verify.h"

#include <string.h>

static const char usage[] =
    "usage: detente verify [ID] [--as-of TIME] | --reindex\n"
    "With ID: the claim's verdict and every piece of evidence behind it (the object,\n"
    "its signer and ledger leaf). Without: how many claims have each verdict.\n"
    "Verdicts are judged as of each claim's newest evidence, or --as-of (RFC 3339).\n"
    "A claim's verdict reads only its evidence, through an index kept at ingest;\n"
    "--reindex rebuilds that index (done by itself once on an older store).\n"
    "--json prints {\"id\",\"verdict\",\"evidence\":[...], ...} (docs/verdicts.md).\n"
    "Exit status: 0 done, 1 ID is not a claim this node holds, 2 usage, 3 error.\n";

bool cli_verify_parse_as_of(const char *s, int64_t *out)
{
    dt_time t;
    if (s == NULL || dt_time_parse(s, strlen(s), &t, NULL) != DT_OK || t.sec <= 0)
        return false;
    *out = t.sec;
    return true;
}

/* Open the node and judge: every claim (id NULL), or only claim id with
 * the evidence index (node_verify_one: same verdict, no full pass). */
static int verify_open(const cli_ctx *ctx, int64_t as_of, const char *id, cli_verify *v)
{
    dt_err err = {0};
    bool shipped = false;
    node_principal local;
    dt_status st;
    int rc;

    memset(v, 0, sizeof *v);
    rc = cli_open_node(ctx, &v->n);
    if (rc != CLI_OK)
        return rc;
    if (node_verify_lists_load(v->n, &v->lists, &shipped, &err) != DT_OK) {
        rc = cli_error(&err);
        cli_verify_close(v);
        return rc;
    }
    if (!shipped)
        fprintf(stderr, "detente: warning: the shipped warninglists were not found (set "
                        "DETENTE_WARNINGLISTS to their directory)\n");
    node_principal_local(&local);
    st = id ? node_verify_one(v->n, &local, v->lists, as_of, id, &v->e, &err)
            : node_verify_run(v->n, &local, v->lists, as_of, &v->e, &err);
    if (st != DT_OK) {
        rc = cli_error(&err);
        cli_verify_close(v);
        return rc;
    }
    return CLI_OK;
}

int cli_verify_open(const cli_ctx *ctx, int64_t as_of, cli_verify *v)
{
    return verify_open(ctx, as_of, NULL, v);
}

/* --reindex: rebuild the evidence index of single-claim verdicts. */
static int reindex(const cli_ctx *ctx)
{
    node *n = NULL;
    dt_err err = {0};
    size_t count = 0;
    int rc = cli_open_node(ctx, &n);
    if (rc != CLI_OK)
        return rc;
    if (node_verify_index_rebuild(n, &count, &err) != DT_OK)
        rc = cli_error(&err);
    else if (ctx->json)
        rc = cli_print_json(json_pack("{s:I}", "indexed", (json_int_t)count));
    else
        printf("evidence index rebuilt from %zu object versions\n", count);
    node_close(n);
    return rc;
}

void cli_verify_close(cli_verify *v)
{
    verify_engine_free(v->e);
    verify_lists_free(v->lists);
    node_close(v->n);
    memset(v, 0, sizeof *v);
}

static void print_ref(const verify_ref *w)
{
    if (w->id == NULL)
        return;
    printf("      object %s", w->id);
    if (w->modified)
        printf(" version %s", w->modified);
    if (w->collection)
        printf(" in %s", w->collection);
    printf(", %s%s", w->signer ? "signed by " : "unsigned", w->signer ? w->signer : "");
    if (w->leaf_index >= 0)
        printf(", ledger leaf %lld", (long long)w->leaf_index);
    printf("\n");
}

static int explain(cli_verify *v, const char *id, bool json)
{
    verify_explain x;
    dt_err err = {0};
    size_t i;
    json_t *j;

    if (!verify_engine_find(v->e, id, &i)) {
        fprintf(stderr, "detente: %s: not a claim this node holds (claims are indicators and "
                        "relationships)\n", id);
        return CLI_FAIL;
    }
    if (verify_engine_explain(v->e, i, &x, &err) != DT_OK)
        return cli_error(&err);
    if (json) {
        j = node_verify_explain_json(&x);
        verify_explain_release(&x);
        return cli_print_json(j);
    }
    char t[DT_TIME_LEN];
    dt_time now = {.sec = x.claim.now};
    dt_time_format(&now, 0, t);
    printf("%s: %s (score %.3f)\n", x.claim.id, verify_verdict_name(x.result.verdict),
           x.result.score);
    printf("  source %s, judged as of %s\n", x.claim.source, t);
    printf("  %s\n", x.result.reason);
    print_ref(&x.claim.where);
    printf("  evidence (%zu):\n", x.count);
    for (size_t k = 0; k < x.count; k++) {
        const verify_evidence *ev = &x.ev[k];
        const verify_counted *c = &x.result.counted[k];
        dt_time et = {.sec = ev->time};
        dt_time_format(&et, 0, t);
        printf("    - %s: %s\n      %s%s%s at %s; counted: %s\n", ev->kind, ev->message,
               ev->source[0] ? "from " : "", ev->source[0] ? ev->source : "this node's checks",
               "", t, c->why);
        print_ref(&x.where[k]);
    }
    verify_explain_release(&x);
    return CLI_OK;
}

static int summary(cli_verify *v, bool json)
{
    size_t count[5] = {0}, n = verify_engine_claim_count(v->e);
    for (size_t i = 0; i < n; i++) {
        verify_claim_info c;
        verify_engine_claim(v->e, i, &c);
        count[c.verdict]++;
    }
    if (json) {
        json_t *by = json_object(), *o = json_object();
        for (int k = 0; k < 5 && by; k++)
            json_object_set_new(by, verify_verdict_name((verify_verdict)k),
                                json_integer((json_int_t)count[k]));
        if (o == NULL || by == NULL) {
            json_decref(o);
            json_decref(by);
            return cli_print_json(NULL);
        }
        json_object_set_new(o, "claims", json_integer((json_int_t)n));
        json_object_set_new(o, "sources",
                            json_integer((json_int_t)verify_engine_source_count(v->e)));
        json_object_set_new(o, "verdicts", by);
        return cli_print_json(o);
    }
    printf("%zu claims from %zu sources\n", n, verify_engine_source_count(v->e));
    for (int k = 0; k < 5; k++)
        printf("  %-13s %zu\n", verify_verdict_name((verify_verdict)k), count[k]);
    return CLI_OK;
}

int cmd_verify(int argc, char **argv, const cli_ctx *ctx)
{
    const char *id = NULL;
    int64_t as_of = 0;
    bool do_reindex = false;
    cli_verify v;
    int rc;

    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--as-of") == 0 && i + 1 < argc) {
            if (!cli_verify_parse_as_of(argv[++i], &as_of)) {
                fprintf(stderr, "detente: --as-of: '%s' is not an RFC 3339 UTC time\n", argv[i]);
                return CLI_USAGE;
            }
        } else if (strcmp(argv[i], "--reindex") == 0) {
            do_reindex = true;
        } else if (argv[i][0] != '-' && id == NULL)
            id = argv[i];
        else
            return cli_usage(usage);
    }
    if (do_reindex) {
        if (id != NULL || as_of != 0)
            return cli_usage(usage);
        return reindex(ctx);
    }
    rc = verify_open(ctx, as_of, id, &v);
    if (rc != CLI_OK)
        return rc;
    rc = id ? explain(&v, id, ctx->json) : summary(&v, ctx->json);
    cli_verify_close(&v);
    return rc;
}
