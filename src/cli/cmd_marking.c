/* detente marking show: why an object is or is not visible to an account
 * or a peer. It applies the same rules as the one door out (node_query) and
 * then asks node_query itself, so the explanation cannot drift from what is
 * actually served. */
#include "cli/cli.h"
#include "node/node.h"
#include "stix/stix.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: detente marking show ID [--user NAME | --peer NAME] [--collection ID] [--json]\n"
    "Explain the object's effective TLP level (its most restrictive object marking, or the\n"
    "node's default when it has none), its granular markings, and whether the account or\n"
    "peer account NAME may see it, and in what form (whole, redacted, or not at all).\n"
    "Without --user/--peer only the object's markings are explained.\n";

static json_t *marking_list(const json_t *obj)
{
    json_t *out = json_array(), *refs = json_object_get(obj, "object_marking_refs"), *r;
    size_t i;
    json_array_foreach(refs, i, r) {
        node_tlp t;
        const char *id = json_string_value(r);
        if (id == NULL)
            continue;
        json_array_append_new(out, json_pack("{s:s, s:s}", "marking_ref", id, "tlp",
                                             node_tlp_of_marking(id, &t) ? node_tlp_name(t)
                                                                         : "not a TLP marking"));
    }
    return out;
}

static json_t *granular_list(const json_t *obj)
{
    json_t *out = json_array(), *gms = json_object_get(obj, "granular_markings"), *g;
    size_t i;
    json_array_foreach(gms, i, g) {
        node_tlp t;
        const char *id = json_string_value(json_object_get(g, "marking_ref"));
        json_t *sel = json_object_get(g, "selectors");
        json_array_append_new(out, json_pack("{s:s, s:s, s:O}", "marking_ref", id ? id : "(lang)",
                                             "tlp",
                                             id && node_tlp_of_marking(id, &t) ? node_tlp_name(t)
                                                                               : "none",
                                             "selectors", sel ? sel : json_array()));
    }
    return out;
}

int cmd_marking(int argc, char **argv, const cli_ctx *ctx)
{
    const char *id = NULL, *user = NULL, *collection = NULL;
    bool is_peer = false;
    node *n = NULL;
    dt_err err = {0};
    int rc;

    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    if (argc < 2 || strcmp(argv[1], "show") != 0)
        return cli_usage(usage);
    for (int i = 2; i < argc; i++) {
        if ((strcmp(argv[i], "--user") == 0 || strcmp(argv[i], "--peer") == 0) && i + 1 < argc &&
            user == NULL) {
            is_peer = argv[i][2] == 'p';
            user = argv[++i];
        } else if (strcmp(argv[i], "--collection") == 0 && i + 1 < argc) {
            collection = argv[++i];
        } else if (argv[i][0] != '-' && id == NULL) {
            id = argv[i];
        } else {
            return cli_usage(usage);
        }
    }
    if (id == NULL)
        return cli_usage(usage);
    rc = cli_open_node(ctx, &n);
    if (rc != CLI_OK)
        return rc;

    /* find the object as the operator sees it */
    node_principal local;
    store_collection *cols = NULL;
    size_t ncols = 0;
    store_row row;
    bool found = false;
    memset(&row, 0, sizeof row);
    node_principal_local(&local);
    if (collection == NULL && store_collection_list(node_store(n), &cols, &ncols, &err) != DT_OK) {
        rc = cli_error(&err);
        goto out;
    }
    for (size_t c = 0; c < (collection ? 1 : ncols) && !found; c++) {
        const char *coll = collection ? collection : cols[c].id;
        if (store_get_version(node_store(n), NULL, coll, id, NULL, &row, NULL) == DT_OK)
            found = true;
    }
    if (!found) {
        fprintf(stderr, "detente: %s: no such object\n", id);
        rc = CLI_FAIL;
        goto out;
    }
    json_t *obj = json_loadb(row.json ? row.json : "{}", row.json ? row.json_len : 2, 0, NULL);
    node_tlp level = node_object_marking(obj, node_conf(n)->default_marking);
    bool marked = json_array_size(json_object_get(obj, "object_marking_refs")) > 0;
    bool own = row.signer != NULL && strcmp(row.signer, node_identity_id(n)) == 0;
    json_t *report = json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "id", id, "collection", row.collection, "tlp",
        node_tlp_name(level), "why",
        marked ? "the most restrictive TLP marking among object_marking_refs"
               : "no TLP marking: the node's default_marking applies",
        "object_markings", marking_list(obj), "granular_markings", granular_list(obj), "signer",
        row.signer ? row.signer : "(unsigned)", "origin",
        own ? "published by this node" : "received from another party");

    if (user != NULL) {
        store_user u;
        node_principal who = {.kind = is_peer ? NODE_PRINCIPAL_PEER : NODE_PRINCIPAL_USER};
        const char *verdict, *reason;
        if (store_user_get(node_store(n), user, &u, &err) != DT_OK) {
            json_decref(report);
            json_decref(obj);
            rc = cli_error(&err);
            goto out;
        }
        dt_strlcpy(who.name, user, sizeof who.name);
        who.max_marking = (node_tlp)u.max_marking;
        const char *ids[1] = {id};
        store_query q = {.collection = row.collection, .ids = ids, .id_count = 1,
                         .versions = STORE_VER_LAST, .max_marking = -1, .limit = 1,
                         .with_json = true};
        store_page page;
        dt_err qe = {0};
        dt_status st = node_query(n, &who, &q, &page, &qe);
        bool served = st == DT_OK && page.count == 1;
        bool redacted = served && page.rows[0].json &&
                        strstr(page.rows[0].json, "\"x_detente_redacted\":true") != NULL;
        if (st == DT_OK)
            store_page_release(&page);
        if (st == DT_EDENIED || st == DT_ENOTFOUND) {
            verdict = "hidden";
            reason = "the account has no read grant on the collection";
        } else if (st != DT_OK) {
            verdict = "error";
            reason = qe.msg;
        } else if (!served && is_peer && level == NODE_TLP_RED) {
            verdict = "hidden";
            reason = "RED is never served to a peer";
        } else if (!served && is_peer && !own && level >= NODE_TLP_AMBER) {
            verdict = "hidden";
            reason = "AMBER and AMBER+STRICT received from another party are never relayed to peers";
        } else if (!served) {
            verdict = "hidden";
            reason = "the object's level is above the account's clearance";
        } else if (redacted) {
            verdict = "redacted";
            reason = "granular markings above the clearance select parts of it; those parts are "
                     "removed and the copy is served unsigned";
        } else {
            verdict = "visible";
            reason = "at or below the clearance";
        }
        json_object_set_new(report, "requester",
                            json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", user, "kind",
                                      is_peer ? "peer" : "account", "clearance",
                                      node_tlp_name(who.max_marking), "result", verdict, "reason",
                                      reason));
    }
    json_decref(obj);
    if (ctx->json) {
        rc = cli_print_json(report);
    } else {
        printf("%s in collection %s\n", id, row.collection);
        printf("  level      %s (%s)\n", json_string_value(json_object_get(report, "tlp")),
               json_string_value(json_object_get(report, "why")));
        printf("  origin     %s, signer %s\n",
               json_string_value(json_object_get(report, "origin")),
               json_string_value(json_object_get(report, "signer")));
        json_t *g = json_object_get(report, "granular_markings"), *e;
        size_t i;
        json_array_foreach(g, i, e) {
            char *sel = json_dumps(json_object_get(e, "selectors"), JSON_COMPACT);
            printf("  granular   %s on %s\n", json_string_value(json_object_get(e, "tlp")),
                   sel ? sel : "");
            free(sel);
        }
        json_t *rq = json_object_get(report, "requester");
        if (rq != NULL)
            printf("  %s %s (clearance %s): %s — %s\n",
                   json_string_value(json_object_get(rq, "kind")),
                   json_string_value(json_object_get(rq, "name")),
                   json_string_value(json_object_get(rq, "clearance")),
                   json_string_value(json_object_get(rq, "result")),
                   json_string_value(json_object_get(rq, "reason")));
        json_decref(report);
    }
out:
    store_row_release(&row);
    dt_free(cols);
    node_close(n);
    return rc;
}
