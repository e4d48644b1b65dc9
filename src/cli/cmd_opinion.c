/* detente opinion add: this node's analyst opinion on an object, as a STIX
 * `opinion` created_by_ref the node's identity. It enters through the one
 * door in (node_ingest_json with sign = true), so it is signed, ledgered and
 * shared like any other object, and counts in verdicts at once. */
#include "cli/cli.h"
#include "node/node.h"

#include <string.h>

static const char usage[] =
    "usage: detente opinion add OBJECT-ID OPINION --explanation TEXT [--collection C]\n"
    "OPINION is strongly-disagree, disagree, neutral, agree or strongly-agree.\n"
    "The opinion goes into C (default: the collection holding OBJECT-ID); it is\n"
    "signed by this node and appended to its ledger. Prints the opinion's id (--json:\n"
    "the opinion object).\n"
    "Exit status: 0 stored, 1 no such object or rejected, 2 usage, 3 error.\n";

/* The collection holding id, or false. */
static bool find_collection(node *n, const char *id, char *out, size_t len, dt_err *err)
{
    store_collection *cols = NULL;
    size_t ncols = 0;
    node_principal local;
    bool found = false;

    node_principal_local(&local);
    if (store_collection_list(node_store(n), &cols, &ncols, err) != DT_OK)
        return false;
    for (size_t c = 0; c < ncols && !found; c++) {
        const char *ids[1] = {id};
        store_query q = {.collection = cols[c].id, .ids = ids, .id_count = 1,
                         .versions = STORE_VER_LAST, .max_marking = -1, .limit = 1};
        store_page page;
        if (node_query(n, &local, &q, &page, err) != DT_OK)
            break;
        if (page.count > 0) {
            dt_strlcpy(out, cols[c].id, len);
            found = true;
        }
        store_page_release(&page);
    }
    dt_free(cols);
    return found;
}

int cmd_opinion(int argc, char **argv, const cli_ctx *ctx)
{
    const char *id = NULL, *opinion = NULL, *explanation = NULL, *collection = NULL;
    char where[128], now[DT_TIME_LEN], uuid[DT_UUID_LEN], oid[64];
    verify_opinion op;
    node_principal local;
    node_ingest_opts opts = {.sign = true, .atomic = true};
    node_ingest_result res = {0};
    node *n = NULL;
    dt_err err = {0};
    dt_uuid u;
    int rc;

    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    if (argc < 2 || strcmp(argv[1], "add") != 0)
        return cli_usage(usage);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--explanation") == 0 && i + 1 < argc)
            explanation = argv[++i];
        else if (strcmp(argv[i], "--collection") == 0 && i + 1 < argc)
            collection = argv[++i];
        else if (argv[i][0] != '-' && id == NULL)
            id = argv[i];
        else if (argv[i][0] != '-' && opinion == NULL)
            opinion = argv[i];
        else
            return cli_usage(usage);
    }
    if (id == NULL || opinion == NULL || explanation == NULL)
        return cli_usage(usage);
    if (!verify_opinion_parse(opinion, &op)) {
        fprintf(stderr, "detente: '%s' is not an opinion (strongly-disagree, disagree, neutral, "
                        "agree, strongly-agree)\n", opinion);
        return CLI_USAGE;
    }
    rc = cli_open_node(ctx, &n);
    if (rc != CLI_OK)
        return rc;
    if (!find_collection(n, id, where, sizeof where, &err)) {
        if (err.code != DT_OK)
            rc = cli_error(&err);
        else {
            fprintf(stderr, "detente: %s: no such object on this node\n", id);
            rc = CLI_FAIL;
        }
        goto out;
    }
    dt_time t = dt_time_now();
    dt_time_format(&t, 3, now);
    dt_uuid_v4(&u);
    snprintf(oid, sizeof oid, "opinion--%s", dt_uuid_format(&u, uuid));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type", "opinion",
                          "spec_version", "2.1", "id", oid, "created", now, "modified", now,
                          "created_by_ref", node_identity_id(n), "opinion", opinion,
                          "explanation", explanation, "object_refs", id);
    if (o == NULL) {
        rc = cli_print_json(NULL);
        goto out;
    }
    node_principal_local(&local);
    opts.collection = collection ? collection : where;
    json_t *objs[1] = {o};
    if (node_ingest_json(n, &local, &opts, objs, NULL, 1, &res, &err) != DT_OK) {
        rc = cli_error(&err);
    } else if (res.rejected > 0) {
        fprintf(stderr, "detente: opinion rejected: %s\n", res.items[0].msg);
        rc = CLI_FAIL;
    } else if (ctx->json) {
        /* print what was stored (signed), read back through the door out */
        const char *ids[1] = {oid};
        store_query q = {.collection = opts.collection, .ids = ids, .id_count = 1,
                         .versions = STORE_VER_LAST, .max_marking = -1, .limit = 1,
                         .with_json = true};
        store_page page;
        if (node_query(n, &local, &q, &page, &err) != DT_OK) {
            rc = cli_error(&err);
        } else {
            if (page.count > 0 && page.rows[0].json != NULL)
                printf("%.*s\n", (int)page.rows[0].json_len, page.rows[0].json);
            store_page_release(&page);
        }
    } else {
        printf("%s\n", oid);
    }
    json_decref(o);
    node_ingest_result_release(&res);
out:
    node_close(n);
    return rc;
}
