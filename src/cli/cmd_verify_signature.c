/* detente verify-signature: check the detente signatures of STIX objects
 * offline, without a node. Each object of the input (bundle, array, one
 * object or JSON lines) is OK (signed, the signature verifies, and with
 * --key made by that key), BAD (with the reason) or UNSIGNED. The check is
 * node_object_verify: Ed25519 over the RFC 8785 form of the object without
 * the signature extension, so key order and whitespace do not matter. */
#include "cli/cli.h"
#include "node/node.h"
#include "stix/stix.h"

#include <sodium.h>
#include <string.h>

static const char usage[] =
    "usage: detente verify-signature FILE [--key ed25519:<base64>] [--json]\n"
    "Check the signature of every object in FILE (bundle, JSON array, one object or\n"
    "JSON lines; - reads stdin). One line per object: OK, BAD (with the reason) or\n"
    "UNSIGNED, with the signer. --key also requires that key to be the signer's.\n"
    "Exit status: 0 every object signed and valid, 1 otherwise, 2 usage, 3 error.\n";

typedef struct vs_ctx {
    const uint8_t *key;      /* required key, or NULL */
    size_t ok, bad, unsigned_;
    json_t *results;         /* --json */
} vs_ctx;

static void report(vs_ctx *c, const char *where, const char *id, const char *status,
                   const char *signer, const char *fp, const char *reason)
{
    if (c->results != NULL) {
        json_t *r = json_pack("{s:s, s:s, s:s}", "where", where, "id", id ? id : "", "status",
                              status);
        if (r != NULL && signer != NULL)
            json_object_set_new(r, "signer", json_string(signer));
        if (r != NULL && fp != NULL)
            json_object_set_new(r, "key_fingerprint", json_string(fp));
        if (r != NULL && reason != NULL)
            json_object_set_new(r, "reason", json_string(reason));
        json_array_append_new(c->results, r);
        return;
    }
    printf("%-8s %s %s", status, where, id ? id : "(no id)");
    if (signer != NULL)
        printf(" signer %s", signer);
    if (fp != NULL)
        printf(" key %.16s", fp);
    if (reason != NULL)
        printf(": %s", reason);
    putchar('\n');
}

static dt_status on_item(void *ctx, const char *where, json_t *item, const dt_err *item_err)
{
    vs_ctx *c = ctx;
    node_signature sig;
    dt_err e = {0};
    char text[400], fp[65];
    const char *id = item ? stix_str(item, "id") : NULL;
    if (item == NULL) {
        c->bad++;
        report(c, where, NULL, "BAD", NULL, NULL, dt_err_text(item_err, text, sizeof text));
        return DT_OK;
    }
    if (!json_is_object(item)) {
        c->bad++;
        report(c, where, NULL, "BAD", NULL, NULL, "not a JSON object");
        return DT_OK;
    }
    dt_status rc = node_object_verify(item, &sig, &e);
    if (rc == DT_OK && !sig.present) {
        c->unsigned_++;
        report(c, where, id, "UNSIGNED", NULL, NULL, NULL);
        return DT_OK;
    }
    if (sig.present && rc == DT_OK)
        node_key_fingerprint(sig.public_key, fp);
    if (rc != DT_OK) {
        c->bad++;
        report(c, where, id, "BAD", sig.signer[0] ? sig.signer : NULL, NULL,
               dt_err_text(&e, text, sizeof text));
    } else if (c->key != NULL && sodium_memcmp(c->key, sig.public_key, 32) != 0) {
        c->bad++;
        report(c, where, id, "BAD", sig.signer, fp, "signed by another key than --key");
    } else {
        c->ok++;
        report(c, where, id, "OK", sig.signer, fp, NULL);
    }
    return DT_OK;
}

int cmd_verify_signature(int argc, char **argv, const cli_ctx *ctx)
{
    const char *file = NULL, *keytext = NULL;
    uint8_t key[32];
    vs_ctx c = {0};
    stix_limits lim;
    char *text = NULL;
    size_t len = 0;
    dt_err err = {0};
    int rc = CLI_OK;

    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            keytext = argv[++i];
        else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && file == NULL)
            file = argv[i];
        else
            return cli_usage(usage);
    }
    if (file == NULL)
        return cli_usage(usage);
    if (keytext != NULL) {
        if (node_key_parse(keytext, key, &err) != DT_OK) {
            cli_error(&err);
            return CLI_USAGE;
        }
        c.key = key;
    }
    stix_limits_default(&lim);
    if (dt_file_read(file, lim.max_input_bytes, &text, &len, &err) != DT_OK)
        return cli_error(&err);
    if (ctx->json && (c.results = json_array()) == NULL) {
        dt_free(text);
        return CLI_ERROR;
    }
    if (stix_input_walk(text, len, &lim, on_item, &c, &err) != DT_OK) {
        rc = cli_error(&err);
        json_decref(c.results);
        dt_free(text);
        return rc;
    }
    dt_free(text);
    if (ctx->json) {
        rc = cli_print_json(json_pack("{s:o, s:I, s:I, s:I}", "results", c.results, "ok",
                                      (json_int_t)c.ok, "bad", (json_int_t)c.bad, "unsigned",
                                      (json_int_t)c.unsigned_));
        if (rc != CLI_OK)
            return rc;
    } else {
        printf("%zu ok, %zu bad, %zu unsigned\n", c.ok, c.bad, c.unsigned_);
    }
    return c.bad == 0 && c.unsigned_ == 0 && c.ok > 0 ? CLI_OK : CLI_FAIL;
}
