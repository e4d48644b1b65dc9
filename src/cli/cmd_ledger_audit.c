/* detente ledger audit: check another node's ledger from the outside, with
 * only its URL and the key you pinned for it (no node of your own needed).
 *
 * 1. GET /detente/v1/ledger/sth; its signature must verify under --key.
 * 2. With --since-sth FILE holding a head seen earlier (same JSON form):
 *    that head must verify too, the log must not have shrunk, and GET
 *    ledger/proof/consistency must prove the old tree a prefix of the new;
 *    then the new head is written back to FILE (a missing FILE is created:
 *    trust on first use, said so on the output).
 * 3. A random sample of leaf indexes: each entry is fetched (GET
 *    ledger/entries?start=i&end=i), hashed here, and its inclusion proof
 *    (fetched by that hash) must lead to the head's root at index i.
 * The HTTP exchange is taxii/'s libcurl client (timeouts, size cap, TLS
 * verification always on, --ca-file to pin a CA). */
#include "cli/cli.h"
#include "ledger/ledger.h"
#include "node/node.h"
#include "taxii/taxii.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cli_ledger_audit(int argc, char **argv, const cli_ctx *ctx);
int cli_ledger_key_arg(const char *arg, uint8_t pk[32]);

static const char usage[] =
    "usage: detente ledger audit URL --key ed25519:<base64>|KEYFILE [--since-sth FILE]\n"
    "                            [--sample N] [--ca-file PEM]\n"
    "Fetch the node's signed tree head, check its signature under the pinned key, its\n"
    "consistency with the head in FILE (then written back; created if missing) and the\n"
    "inclusion of N random entries (default 16). Exit 0 all good, 1 a check failed,\n"
    "3 the node could not be reached.\n";

typedef struct audit {
    taxii_client *c;
    const cli_ctx *ctx;
    unsigned bad;
} audit;

static void line(audit *a, bool good, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void line(audit *a, bool good, const char *fmt, ...)
{
    va_list ap;
    if (!good)
        a->bad++;
    printf("%s ", good ? "ok  " : "BAD ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

static dt_status fetch(audit *a, const char *url, taxii_reply *r, dt_err *err)
{
    taxii_reply_init(r);
    dt_status rc = taxii_client_request(a->c, "GET", url, "application/json", NULL, NULL, 0, r,
                                        err);
    if (rc == DT_OK)
        rc = taxii_client_expect(r, url, NULL, err);
    if (rc != DT_OK)
        taxii_reply_release(r);
    return rc;
}

static void url_b64(const uint8_t h[32], char *out, size_t cap)
{
    char b64[64];
    size_t o = 0;
    dt_base64_encode(h, 32, b64);
    for (const char *p = b64; *p && o + 4 < cap; p++) {
        if (*p == '+' || *p == '/' || *p == '=')
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", (unsigned char)*p);
        else
            out[o++] = *p;
    }
    out[o] = '\0';
}

static dt_status check_since(audit *a, const char *file, const ledger_sth *fresh,
                             const uint8_t pk[32], dt_err *err)
{
    char *text = NULL, url[200];
    size_t len = 0;
    ledger_sth old;
    ledger_proof p;
    taxii_reply r;
    dt_status rc;
    if (access(file, F_OK) != 0) {
        line(a, true, "no earlier head in %s: trusting this one on first use", file);
        return DT_OK;
    }
    rc = dt_file_read(file, 1 << 16, &text, &len, err);
    if (rc != DT_OK)
        return rc;
    rc = ledger_sth_parse(text, len, &old, err);
    dt_free(text);
    if (rc != DT_OK) {
        line(a, false, "%s does not hold a signed tree head: %s: %s", file, err->where, err->msg);
        return DT_OK;
    }
    if (ledger_sth_verify(&old, pk, NULL) != DT_OK)
        line(a, false, "the earlier head in %s is not signed by the pinned key (if the node "
                       "rotated its key, see GET /detente/v1/key)", file);
    if (old.tree_size > fresh->tree_size) {
        line(a, false, "the log shrank from %" PRIu64 " to %" PRIu64 " leaves", old.tree_size,
             fresh->tree_size);
        return DT_OK;
    }
    snprintf(url, sizeof url, "/detente/v1/ledger/proof/consistency?first=%" PRIu64
             "&second=%" PRIu64, old.tree_size, fresh->tree_size);
    rc = fetch(a, url, &r, err);
    if (rc != DT_OK)
        return rc;
    dt_err pe = {0};
    dt_status pr = ledger_consistency_parse(r.body.data, r.body.len, &p, &pe);
    taxii_reply_release(&r);
    if (pr != DT_OK)
        line(a, false, "consistency proof %" PRIu64 " -> %" PRIu64 " malformed: %s: %s",
             old.tree_size, fresh->tree_size, pe.where, pe.msg);
    else
        line(a, ledger_verify_consistency(old.tree_size, fresh->tree_size, old.root, fresh->root,
                                          &p),
             "the head of %" PRIu64 " leaves in %s is a prefix of the new one (consistency "
             "proof of %zu hashes)",
             old.tree_size, file, p.count);
    return DT_OK;
}

static dt_status check_sample(audit *a, const ledger_sth *s, size_t sample, dt_err *err)
{
    char url[300], enc[160];
    for (size_t k = 0; k < sample && s->tree_size > 0; k++) {
        uint64_t i = s->tree_size <= UINT32_MAX ? randombytes_uniform((uint32_t)s->tree_size)
                                                : ((uint64_t)randombytes_random() << 32 |
                                                   randombytes_random()) % s->tree_size;
        taxii_reply r;
        snprintf(url, sizeof url, "/detente/v1/ledger/entries?start=%" PRIu64 "&end=%" PRIu64, i,
                 i);
        dt_status rc = fetch(a, url, &r, err);
        if (rc != DT_OK)
            return rc;
        json_t *j = json_loadb(r.body.data, r.body.len, 0, NULL);
        taxii_reply_release(&r);
        json_t *list = json_object_get(j, "entries");
        const char *b64 = json_string_value(json_object_get(json_array_get(list, 0), "leaf_input"));
        /* the leaf of an object we may not read comes as its hash only */
        const char *lh = json_string_value(json_object_get(json_array_get(list, 0), "leaf_hash"));
        size_t blen = b64 ? strlen(b64) : 0, n = 0;
        uint8_t *leaf = dt_malloc(blen + 1), h[32];
        bool decoded = leaf != NULL && b64 != NULL && json_array_size(list) == 1 &&
                       dt_base64_decode(b64, blen, leaf, blen + 1, &n);
        if (decoded)
            ledger_hash_leaf(leaf, n, h);
        else if (b64 == NULL && lh != NULL && json_array_size(list) == 1)
            decoded = dt_base64_decode(lh, strlen(lh), h, sizeof h, &n) && n == 32;
        dt_free(leaf);
        json_decref(j);
        if (!decoded) {
            line(a, false, "entry %" PRIu64 ": not one entry with a base64 leaf_input or leaf_hash",
                 i);
            continue;
        }
        url_b64(h, enc, sizeof enc);
        snprintf(url, sizeof url,
                 "/detente/v1/ledger/proof/inclusion?hash=%s&tree_size=%" PRIu64, enc,
                 s->tree_size);
        rc = fetch(a, url, &r, err);
        if (rc != DT_OK)
            return rc;
        uint64_t index = 0;
        ledger_proof p;
        dt_err pe = {0};
        dt_status pr = ledger_inclusion_parse(r.body.data, r.body.len, &index, &p, &pe);
        taxii_reply_release(&r);
        if (pr != DT_OK)
            line(a, false, "entry %" PRIu64 ": malformed inclusion proof: %s: %s", i, pe.where,
                 pe.msg);
        else
            line(a, index == i && ledger_verify_inclusion(h, i, s->tree_size, &p, s->root),
                 "entry %" PRIu64 " is included in the head (proof of %zu hashes)", i, p.count);
    }
    return DT_OK;
}

int cli_ledger_audit(int argc, char **argv, const cli_ctx *ctx)
{
    const char *url = NULL, *keyarg = NULL, *since = NULL, *ca = NULL;
    size_t sample = 16;
    uint8_t pk[32];
    audit a = {.ctx = ctx};
    taxii_client_opts o = {.timeout_s = 30, .max_response = 16u << 20, .retries = 1};
    taxii_reply r;
    ledger_sth s;
    dt_err err = {0};
    int rc;

    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            keyarg = argv[++i];
        else if (strcmp(argv[i], "--since-sth") == 0 && i + 1 < argc)
            since = argv[++i];
        else if (strcmp(argv[i], "--ca-file") == 0 && i + 1 < argc)
            ca = argv[++i];
        else if (strcmp(argv[i], "--sample") == 0 && i + 1 < argc) {
            if (!cli_parse_size(argv[++i], &sample) || sample > 100000)
                return cli_usage(usage);
        } else if (argv[i][0] != '-' && url == NULL)
            url = argv[i];
        else
            return cli_usage(usage);
    }
    if (url == NULL || keyarg == NULL)
        return cli_usage(usage);
    rc = cli_ledger_key_arg(keyarg, pk);
    if (rc != CLI_OK)
        return rc;
    o.ca_file = ca;
    if (taxii_client_new(url, &o, &a.c, &err) != DT_OK)
        return cli_error(&err);
    if (fetch(&a, "/detente/v1/ledger/sth", &r, &err) != DT_OK) {
        rc = cli_error(&err);
        goto out;
    }
    dt_status pr = ledger_sth_parse(r.body.data, r.body.len, &s, &err);
    taxii_reply_release(&r);
    if (pr != DT_OK) {
        line(&a, false, "the node's head is malformed: %s: %s", err.where, err.msg);
        rc = CLI_FAIL;
        goto out;
    }
    {
        char fp[65];
        node_key_fingerprint(pk, fp);
        line(&a, ledger_sth_verify(&s, pk, NULL) == DT_OK,
             "head of %" PRIu64 " leaves (timestamp %" PRIu64 ") signed by the pinned key %.16s",
             s.tree_size, s.timestamp, fp);
    }
    memset(&err, 0, sizeof err);
    if ((since != NULL && check_since(&a, since, &s, pk, &err) != DT_OK) ||
        check_sample(&a, &s, sample, &err) != DT_OK) {
        rc = cli_error(&err);
        goto out;
    }
    if (a.bad == 0 && since != NULL) {
        dt_buf b;
        dt_buf_init(&b, 4096);
        if (ledger_sth_to_json(&s, &b, &err) == DT_OK && dt_buf_putc(&b, '\n', &err) == DT_OK &&
            dt_file_write_atomic(since, b.data, b.len, 0644, &err) == DT_OK)
            printf("wrote the new head to %s\n", since);
        else
            rc = cli_error(&err);
        dt_buf_release(&b);
        if (rc != CLI_OK)
            goto out;
    }
    printf("%s: %u check%s failed\n", a.bad ? "BAD" : "ok", a.bad, a.bad == 1 ? "" : "s");
    rc = a.bad ? CLI_FAIL : CLI_OK;
out:
    taxii_client_free(a.c);
    return rc;
}
