/* detente ledger: the transparency ledger from the command line.
 *
 *   sth           the current signed tree head (issued if the log grew)
 *   prove         an object version's inclusion proof against that head
 *   verify        recompute the whole ledger from the store (node_ledger_verify)
 *   bundle        one self-contained proof file for an object version
 *   check-bundle  check such a file offline against a pinned key
 *   audit         check a remote node's head, its consistency with the one
 *                 seen last time, and the inclusion of a sample of entries
 *
 * JSON forms are the HTTP API's (docs/ledger.md), so a head printed by
 * `detente ledger sth --json` is a valid --since-sth file for audit. */
#include "cli/cli.h"
#include "ledger/ledger.h"
#include "node/node.h"
#include "stix/stix.h"

#include <inttypes.h>
#include <string.h>

static const char usage[] =
    "usage: detente ledger sth [--json]\n"
    "       detente ledger prove ID [--version V] [--json]\n"
    "       detente ledger verify [--json]\n"
    "       detente ledger bundle ID [--version V] [--output FILE]\n"
    "       detente ledger check-bundle FILE --key ed25519:<base64>|KEYFILE\n"
    "       detente ledger audit URL --key ed25519:<base64>|KEYFILE [--since-sth FILE]\n"
    "                            [--sample N] [--ca-file PEM]\n"
    "sth           print the signed tree head of the log (a new one when it grew)\n"
    "prove         print the inclusion proof of an object version (default: newest)\n"
    "verify        recompute the ledger from the stored objects; exit 1 naming the\n"
    "              first bad entry if any row was edited, removed or reordered\n"
    "bundle        write the object, its leaf, inclusion proof, signed head and the\n"
    "              node's key as one JSON file (stdout without --output)\n"
    "check-bundle  verify a bundle offline against the key you pinned\n"
    "audit         fetch a node's head over HTTP(S), check its signature, its\n"
    "              consistency with the head in --since-sth (then written back) and\n"
    "              the inclusion of a random sample of entries (default 16)\n"
    "Exit status: 0 good, 1 a check failed (or not found), 2 usage, 3 error.\n";

int cli_ledger_audit(int argc, char **argv, const cli_ctx *ctx);

static void sth_print_text(const ledger_sth *s, const uint8_t pk[32])
{
    char root[64], sig[128], when[DT_TIME_LEN], fp[65];
    dt_time t = dt_time_from_us((int64_t)s->timestamp * 1000);
    dt_base64_encode(s->root, 32, root);
    dt_base64_encode(s->signature, 64, sig);
    dt_time_format(&t, 3, when);
    node_key_fingerprint(pk, fp);
    printf("tree_size           %" PRIu64 "\ntimestamp           %" PRIu64 " (%s)\n"
           "sha256_root_hash    %s\ntree_head_signature %s\nkey fingerprint     %s\n",
           s->tree_size, s->timestamp, when, root, sig, fp);
}

static int do_sth(node *n, int argc, char **argv, const cli_ctx *ctx)
{
    ledger_sth s;
    dt_err err = {0};
    dt_buf b;
    uint8_t pk[32];
    (void)argv;
    if (argc != 2)
        return cli_usage(usage);
    if (node_sth_current(n, &s, &err) != DT_OK ||
        node_key_for_size(n, s.tree_size, pk, &err) != DT_OK)
        return cli_error(&err);
    if (!ctx->json) {
        sth_print_text(&s, pk);
        return CLI_OK;
    }
    dt_buf_init(&b, 4096);
    if (ledger_sth_to_json(&s, &b, &err) != DT_OK) {
        dt_buf_release(&b);
        return cli_error(&err);
    }
    printf("%s\n", b.data);
    dt_buf_release(&b);
    return CLI_OK;
}

static int parse_id_version(int argc, char **argv, const char **id, const char **version,
                            const char **output)
{
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0 && i + 1 < argc)
            *version = argv[++i];
        else if (output != NULL && strcmp(argv[i], "--output") == 0 && i + 1 < argc)
            *output = argv[++i];
        else if (argv[i][0] != '-' && *id == NULL)
            *id = argv[i];
        else
            return CLI_USAGE;
    }
    return *id == NULL ? CLI_USAGE : CLI_OK;
}

static int do_prove(node *n, int argc, char **argv, const cli_ctx *ctx)
{
    const char *id = NULL, *version = NULL;
    node_principal local;
    store_row row;
    uint64_t index;
    ledger_sth s;
    ledger_proof p;
    uint8_t lh[32];
    char *leaf = NULL, b64[64];
    size_t leaf_len = 0;
    dt_err err = {0};
    int rc = CLI_OK;

    if (parse_id_version(argc, argv, &id, &version, NULL) != CLI_OK)
        return cli_usage(usage);
    node_principal_local(&local);
    if (node_ledger_find(n, &local, id, version, &row, &index, &err) != DT_OK)
        return cli_error(&err);
    if (store_leaf_get(node_store(n), NULL, index, lh, &leaf, &leaf_len, &err) != DT_OK ||
        node_sth_current(n, &s, &err) != DT_OK ||
        ledger_prove_inclusion(node_store(n), index, s.tree_size, &p, &err) != DT_OK) {
        rc = cli_error(&err);
        goto out;
    }
    if (!ledger_verify_inclusion(lh, index, s.tree_size, &p, s.root)) {
        fprintf(stderr, "detente: leaf %" PRIu64 ": the proof does not lead to the head's root: "
                        "run detente ledger verify\n", index);
        rc = CLI_FAIL;
        goto out;
    }
    if (ctx->json) {
        json_t *path = json_array();
        for (size_t k = 0; k < p.count; k++) {
            dt_base64_encode(p.hash[k], 32, b64);
            json_array_append_new(path, json_string(b64));
        }
        char root[64];
        dt_base64_encode(s.root, 32, root);
        dt_base64_encode(lh, 32, b64);
        rc = cli_print_json(json_pack(
            "{s:s, s:s, s:I, s:s, s:s%, s:I, s:s, s:o}", "id", row.id, "modified", row.modified,
            "leaf_index", (json_int_t)index, "leaf_hash", b64, "leaf", leaf, leaf_len,
            "tree_size", (json_int_t)s.tree_size, "sha256_root_hash", root, "audit_path", path));
    } else {
        dt_base64_encode(lh, 32, b64);
        printf("%s modified %s\nleaf %" PRIu64 " of %" PRIu64 " (hash %s)\nleaf bytes %.*s\n"
               "audit path (%zu hashes, nearest first):\n",
               row.id, row.modified, index, s.tree_size, b64, (int)leaf_len, leaf, p.count);
        for (size_t k = 0; k < p.count; k++) {
            dt_base64_encode(p.hash[k], 32, b64);
            printf("  %s\n", b64);
        }
        dt_base64_encode(s.root, 32, b64);
        printf("root %s (verified)\n", b64);
    }
out:
    dt_free(leaf);
    store_row_release(&row);
    return rc;
}

static int do_verify(node *n, int argc, const cli_ctx *ctx)
{
    node_ledger_report r;
    dt_err err = {0};
    if (argc != 2)
        return cli_usage(usage);
    if (node_ledger_verify(n, &r, &err) != DT_OK)
        return cli_error(&err);
    if (ctx->json) {
        json_t *j = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "ok", r.ok, "leaves",
                              (json_int_t)r.leaves, "rows", (json_int_t)r.rows, "sths",
                              (json_int_t)r.sths, "subtrees", (json_int_t)r.nodes, "tombstones",
                              (json_int_t)r.tombstones, "rotations", (json_int_t)r.rotations,
                              "problems", (json_int_t)r.problems);
        if (j != NULL && !r.ok) {
            json_object_set_new(j, "first_bad", json_integer((json_int_t)r.first_bad));
            json_object_set_new(j, "problem", json_string(r.problem));
        }
        int rc = cli_print_json(j);
        return rc != CLI_OK ? rc : r.ok ? CLI_OK : CLI_FAIL;
    }
    if (!r.ok) {
        printf("BAD: first bad entry: %s\n(%zu problems in all)\n", r.problem, r.problems);
        return CLI_FAIL;
    }
    printf("ok: %" PRIu64 " leaves, %" PRIu64 " object rows, %" PRIu64 " subtree hashes, %" PRIu64
           " signed heads, %" PRIu64 " tombstones, %" PRIu64 " key rotations checked\n",
           r.leaves, r.rows, r.nodes, r.sths, r.tombstones, r.rotations);
    return CLI_OK;
}

static int do_bundle(node *n, int argc, char **argv)
{
    const char *id = NULL, *version = NULL, *output = NULL;
    node_principal local;
    json_t *b = NULL;
    char *text;
    dt_err err = {0};
    int rc = CLI_OK;
    if (parse_id_version(argc, argv, &id, &version, &output) != CLI_OK)
        return cli_usage(usage);
    node_principal_local(&local);
    if (node_bundle_build(n, &local, id, version, &b, &err) != DT_OK)
        return cli_error(&err);
    text = json_dumps(b, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(b);
    if (text == NULL)
        return CLI_ERROR;
    size_t len = strlen(text);
    text[len] = '\0';
    if (output == NULL) {
        printf("%s\n", text);
    } else {
        char *withnl = dt_malloc(len + 2);
        if (withnl == NULL) {
            free(text);
            return CLI_ERROR;
        }
        memcpy(withnl, text, len);
        withnl[len] = '\n';
        if (dt_file_write_atomic(output, withnl, len + 1, 0644, &err) != DT_OK)
            rc = cli_error(&err);
        else
            fprintf(stderr, "wrote %s\n", output);
        dt_free(withnl);
    }
    free(text);
    return rc;
}

/* --key takes "ed25519:<base64>" or a file holding it (a peer's key.public). */
int cli_ledger_key_arg(const char *arg, uint8_t pk[32]);
int cli_ledger_key_arg(const char *arg, uint8_t pk[32])
{
    dt_err err = {0};
    char *text = NULL;
    size_t len = 0;
    if (strncmp(arg, NODE_KEY_PREFIX, strlen(NODE_KEY_PREFIX)) == 0) {
        if (node_key_parse(arg, pk, &err) != DT_OK) {
            cli_error(&err);
            return CLI_USAGE;
        }
        return CLI_OK;
    }
    if (dt_file_read(arg, 4096, &text, &len, &err) != DT_OK) {
        cli_error(&err);
        return CLI_USAGE;
    }
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        text[--len] = '\0';
    dt_status s = node_key_parse(text, pk, &err);
    dt_free(text);
    if (s != DT_OK) {
        dt_err_prefix(&err, "%s", arg);
        cli_error(&err);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int do_check_bundle(int argc, char **argv, const cli_ctx *ctx)
{
    const char *file = NULL, *keyarg = NULL;
    uint8_t pk[32];
    char *text = NULL;
    size_t len = 0;
    dt_err err = {0};
    int rc;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            keyarg = argv[++i];
        else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && file == NULL)
            file = argv[i];
        else
            return cli_usage(usage);
    }
    if (file == NULL || keyarg == NULL)
        return cli_usage(usage);
    rc = cli_ledger_key_arg(keyarg, pk);
    if (rc != CLI_OK)
        return rc;
    if (dt_file_read(file, (size_t)64 << 20, &text, &len, &err) != DT_OK)
        return cli_error(&err);
    dt_status s = node_bundle_check(text, len, pk, &err);
    if (s == DT_OK) {
        json_t *b = json_loadb(text, len, 0, NULL);
        json_t *obj = json_object_get(b, "object");
        json_t *incl = json_object_get(b, "inclusion");
        json_t *sth = json_object_get(b, "sth");
        json_int_t idx = json_integer_value(json_object_get(incl, "leaf_index"));
        json_int_t size = json_integer_value(json_object_get(sth, "tree_size"));
        if (ctx->json)
            rc = cli_print_json(json_pack("{s:b, s:s?, s:s?, s:I, s:I}", "ok", 1, "id",
                                          stix_str(obj, "id"), "modified",
                                          stix_str(obj, "modified"), "leaf_index", idx,
                                          "tree_size", size));
        else
            printf("OK: %s (modified %s) is signed by its author and is leaf %lld of the log "
                   "of %lld leaves whose head the pinned key signed\n",
                   stix_str(obj, "id") ? stix_str(obj, "id") : "?",
                   stix_str(obj, "modified") ? stix_str(obj, "modified") : "-", (long long)idx,
                   (long long)size);
        json_decref(b);
    } else {
        char msg[400];
        dt_err_text(&err, msg, sizeof msg);
        if (ctx->json)
            cli_print_json(json_pack("{s:b, s:s, s:s}", "ok", 0, "where", err.where, "reason",
                                     err.msg));
        else
            printf("BAD: %s\n", msg);
        rc = s == DT_ESIG || s == DT_EINVALID || s == DT_EPARSE ? CLI_FAIL : cli_exit_code(s);
    }
    dt_free(text);
    return rc;
}

int cmd_ledger(int argc, char **argv, const cli_ctx *ctx)
{
    node *n = NULL;
    int rc;
    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    if (argc < 2)
        return cli_usage(usage);
    if (strcmp(argv[1], "check-bundle") == 0)
        return do_check_bundle(argc, argv, ctx);
    if (strcmp(argv[1], "audit") == 0)
        return cli_ledger_audit(argc, argv, ctx);
    if (strcmp(argv[1], "sth") != 0 && strcmp(argv[1], "prove") != 0 &&
        strcmp(argv[1], "verify") != 0 && strcmp(argv[1], "bundle") != 0)
        return cli_usage(usage);
    rc = cli_open_node(ctx, &n);
    if (rc != CLI_OK)
        return rc;
    if (strcmp(argv[1], "sth") == 0)
        rc = do_sth(n, argc, argv, ctx);
    else if (strcmp(argv[1], "prove") == 0)
        rc = do_prove(n, argc, argv, ctx);
    else if (strcmp(argv[1], "verify") == 0)
        rc = do_verify(n, argc, ctx);
    else
        rc = do_bundle(n, argc, argv);
    node_close(n);
    return rc;
}
