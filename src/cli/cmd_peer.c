/* `detente peer`: the nodes this node syncs with (docs/federation.md).
 *
 *   detente peer add NAME URL --key ed25519:<b64> [--user U --password-stdin | --token-stdin]
 *                    [--collections A,B] [--into REMOTE=LOCAL,...] [--push COLLECTION]
 *                    [--max-marking LEVEL] [--ca FILE] [--allow-unsigned]
 *   detente peer list
 *   detente peer show NAME
 *   detente peer remove NAME
 *   detente peer trust NAME
 *   detente peer witnessed     (the signed document served at /detente/v1/ledger/witnessed)
 *
 * Scripts rely on this output: `list` prints one peer per line (NAME URL
 * STATE LAST-SYNC) and `show` key: value lines; with --json both print JSON
 * (peer_describe). Credentials come from stdin only and are never printed.
 * `show` exits 1 when the peer is suspect, so a script can test it. */
#include "cli/cli.h"
#include "node/node.h"
#include "peer/peer.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: detente peer add NAME URL --key ed25519:<base64>\n"
    "                        [--user U --password-stdin | --token-stdin]\n"
    "                        [--collections A,B] [--into REMOTE=LOCAL,...] [--push COLLECTION]\n"
    "                        [--max-marking LEVEL] [--ca FILE] [--allow-unsigned]\n"
    "       detente peer list\n"
    "       detente peer show NAME\n"
    "       detente peer remove NAME\n"
    "       detente peer trust NAME   (clear `suspect` after reviewing the evidence)\n"
    "       detente peer witnessed    (print this node's signed witnessed heads)\n"
    "URL is the peer's TAXII discovery URL; the key is what `detente key show` prints there.\n";

static bool read_line(char *out, size_t cap, const char *what, dt_err *err)
{
    size_t len;
    if (fgets(out, (int)cap, stdin) == NULL) {
        dt_fail(err, DT_EINVALID, "stdin", "no %s on stdin", what);
        return false;
    }
    len = strlen(out);
    if (len == cap - 1 && out[len - 1] != '\n') {
        dt_fail(err, DT_ELIMIT, "stdin", "%s longer than %zu bytes", what, cap - 2);
        return false;
    }
    while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
        out[--len] = '\0';
    if (len == 0) {
        dt_fail(err, DT_EINVALID, "stdin", "empty %s", what);
        return false;
    }
    return true;
}

/* Split "a,b,c" into items (each < PEER_COLL_MAX). */
static bool split_list(const char *s, char (*items)[PEER_COLL_MAX], size_t *count)
{
    *count = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n == 0 || n >= PEER_COLL_MAX || *count >= PEER_LIST_MAX)
            return false;
        memcpy(items[*count], s, n);
        items[*count][n] = '\0';
        (*count)++;
        s += n;
        if (*s == ',')
            s++;
    }
    return *count > 0;
}

static void fmt_ms(int64_t ms, char *out, size_t cap)
{
    if (ms <= 0) {
        snprintf(out, cap, "never");
        return;
    }
    dt_time t = dt_time_from_us(ms * 1000);
    char buf[DT_TIME_LEN];
    dt_time_format(&t, 0, buf);
    snprintf(out, cap, "%s", buf);
}

static int peer_add_cmd(node *n, int argc, char **argv, dt_err *err)
{
    peer_config c;
    peer_cred cred;
    bool pw_stdin = false, tok_stdin = false, have_key = false;
    int rc = CLI_OK;
    memset(&c, 0, sizeof c);
    memset(&cred, 0, sizeof cred);
    c.max_marking = NODE_TLP_AMBER;
    c.added = dt_now_ms();
    if (argc < 4 || argv[2][0] == '-' || argv[3][0] == '-')
        return cli_usage(usage);
    snprintf(c.name, sizeof c.name, "%s", argv[2]);
    if (strlen(argv[3]) >= sizeof c.url) {
        fprintf(stderr, "detente: URL too long\n");
        return CLI_USAGE;
    }
    snprintf(c.url, sizeof c.url, "%s", argv[3]);
    for (int i = 4; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--key") == 0 && v) {
            size_t len = 0;
            if (strncmp(v, "ed25519:", 8) != 0 ||
                !dt_base64_decode(v + 8, strlen(v + 8), c.key, 32, &len) || len != 32) {
                fprintf(stderr, "detente: --key: expected ed25519:<base64 of 32 bytes>, as "
                                "`detente key show` prints it\n");
                return CLI_USAGE;
            }
            have_key = true;
            i++;
        } else if (strcmp(a, "--user") == 0 && v) {
            snprintf(cred.user, sizeof cred.user, "%s", v);
            i++;
        } else if (strcmp(a, "--password-stdin") == 0) {
            pw_stdin = true;
        } else if (strcmp(a, "--token-stdin") == 0) {
            tok_stdin = true;
        } else if (strcmp(a, "--collections") == 0 && v) {
            if (!split_list(v, c.collections, &c.collection_count))
                return cli_usage(usage);
            i++;
        } else if (strcmp(a, "--push") == 0 && v) {
            if (!split_list(v, c.push, &c.push_count))
                return cli_usage(usage);
            i++;
        } else if (strcmp(a, "--into") == 0 && v) {
            char items[PEER_LIST_MAX][PEER_COLL_MAX];
            size_t k = 0;
            if (!split_list(v, items, &k))
                return cli_usage(usage);
            for (size_t j = 0; j < k; j++) {
                char *eq = strchr(items[j], '=');
                if (eq == NULL || eq == items[j] || eq[1] == '\0')
                    return cli_usage(usage);
                *eq = '\0';
                snprintf(c.into[j].remote, PEER_COLL_MAX, "%.127s", items[j]);
                snprintf(c.into[j].local, PEER_COLL_MAX, "%.127s", eq + 1);
            }
            c.into_count = k;
            i++;
        } else if (strcmp(a, "--max-marking") == 0 && v) {
            node_tlp t;
            if (node_tlp_parse(v, &t, err) != DT_OK)
                return cli_error(err);
            c.max_marking = (int)t;
            i++;
        } else if (strcmp(a, "--ca") == 0 && v) {
            if (strlen(v) >= sizeof c.ca_file)
                return cli_usage(usage);
            snprintf(c.ca_file, sizeof c.ca_file, "%s", v);
            i++;
        } else if (strcmp(a, "--allow-unsigned") == 0) {
            c.allow_unsigned = true;
        } else {
            return cli_usage(usage);
        }
    }
    if (!have_key) {
        fprintf(stderr, "detente: peer add needs --key (the peer's `detente key show`)\n");
        return CLI_USAGE;
    }
    if ((pw_stdin && tok_stdin) || (pw_stdin && !cred.user[0]) ||
        (cred.user[0] && !pw_stdin)) {
        fprintf(stderr, "detente: use --user U --password-stdin, or --token-stdin\n");
        return CLI_USAGE;
    }
    if (c.ca_file[0]) {
        FILE *f = fopen(c.ca_file, "r");
        if (f == NULL) {
            fprintf(stderr, "detente: --ca %s: cannot read the file\n", c.ca_file);
            return CLI_USAGE;
        }
        fclose(f);
    }
    if (pw_stdin && !read_line(cred.password, sizeof cred.password, "password", err))
        rc = cli_error(err);
    if (rc == CLI_OK && tok_stdin && !read_line(cred.token, sizeof cred.token, "token", err))
        rc = cli_error(err);
    if (rc == CLI_OK && peer_add(node_store(n), &c, &cred, err) != DT_OK)
        rc = cli_error(err);
    peer_cred_wipe(&cred);
    if (rc == CLI_OK)
        fprintf(stderr, "detente: peer %s added\n", c.name);
    return rc;
}

static int peer_list_cmd(node *n, const cli_ctx *ctx, dt_err *err)
{
    peer_config *all = NULL;
    size_t count = 0;
    json_t *arr = ctx->json ? json_array() : NULL;
    if (peer_list(node_store(n), &all, &count, err) != DT_OK)
        return cli_error(err);
    for (size_t i = 0; i < count; i++) {
        peer_state st;
        char when[40];
        if (ctx->json) {
            json_t *d = NULL;
            if (peer_describe(node_store(n), &all[i], &d, err) != DT_OK) {
                dt_free(all);
                json_decref(arr);
                return cli_error(err);
            }
            json_array_append_new(arr, d);
            continue;
        }
        if (peer_state_get(node_store(n), all[i].name, &st, err) != DT_OK) {
            dt_free(all);
            return cli_error(err);
        }
        fmt_ms(st.last_sync, when, sizeof when);
        printf("%s\t%s\t%s\t%s\n", all[i].name, all[i].url,
               st.state == PEER_SUSPECT ? "suspect" : "ok", when);
    }
    if (ctx->json) {
        char *text = json_dumps(arr, JSON_INDENT(2) | JSON_SORT_KEYS);
        puts(text ? text : "[]");
        free(text);
        json_decref(arr);
    }
    dt_free(all);
    return CLI_OK;
}

static void print_field(const json_t *d, const char *key, const char *label)
{
    const json_t *v = json_object_get(d, key);
    if (json_is_string(v))
        printf("%-14s %s\n", label, json_string_value(v));
    else if (json_is_integer(v))
        printf("%-14s %lld\n", label, (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        printf("%-14s %s\n", label, json_is_true(v) ? "yes" : "no");
}

static int peer_show_cmd(node *n, const char *name, const cli_ctx *ctx, dt_err *err)
{
    peer_config c;
    json_t *d = NULL;
    bool suspect;
    if (peer_get(node_store(n), name, &c, err) != DT_OK ||
        peer_describe(node_store(n), &c, &d, err) != DT_OK)
        return cli_error(err);
    suspect = strcmp(json_string_value(json_object_get(d, "state")), "suspect") == 0;
    if (ctx->json) {
        char *text = json_dumps(d, JSON_INDENT(2) | JSON_SORT_KEYS);
        puts(text ? text : "{}");
        free(text);
    } else {
        char when[40];
        const json_t *sth = json_object_get(d, "last_sth");
        print_field(d, "name", "name:");
        print_field(d, "url", "url:");
        print_field(d, "key", "key:");
        print_field(d, "auth", "auth:");
        print_field(d, "user", "user:");
        print_field(d, "state", "state:");
        print_field(d, "reason", "reason:");
        fmt_ms((int64_t)json_integer_value(json_object_get(d, "last_sync")), when, sizeof when);
        printf("%-14s %s\n", "last sync:", when);
        print_field(d, "last_error", "last error:");
        if (json_is_object(sth))
            printf("%-14s size %lld root %s\n", "last sth:",
                   (long long)json_integer_value(json_object_get(sth, "tree_size")),
                   json_string_value(json_object_get(sth, "sha256_root_hash")));
        else
            printf("%-14s none\n", "last sth:");
        print_field(d, "pulled", "pulled:");
        print_field(d, "pushed", "pushed:");
        printf("%-14s %zu\n", "evidence:", json_array_size(json_object_get(d, "evidence")));
    }
    json_decref(d);
    return suspect ? CLI_FAIL : CLI_OK;
}

int cmd_peer(int argc, char **argv, const cli_ctx *ctx)
{
    dt_err err = {0};
    node *n = NULL;
    int rc;
    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    if (argc < 2)
        return cli_usage(usage);
    const char *sub = argv[1];
    bool known = strcmp(sub, "add") == 0 || strcmp(sub, "list") == 0 ||
                 strcmp(sub, "show") == 0 || strcmp(sub, "remove") == 0 ||
                 strcmp(sub, "trust") == 0 || strcmp(sub, "witnessed") == 0;
    if (!known)
        return cli_usage(usage);
    if (strcmp(sub, "witnessed") == 0 && argc != 2)
        return cli_usage(usage);
    if (strcmp(sub, "list") != 0 && strcmp(sub, "add") != 0 && strcmp(sub, "witnessed") != 0 &&
        argc != 3)
        return cli_usage(usage);
    if (node_open(ctx->home, &n, &err) != DT_OK)
        return cli_error(&err);
    if (strcmp(sub, "add") == 0) {
        rc = peer_add_cmd(n, argc, argv, &err);
    } else if (strcmp(sub, "list") == 0) {
        rc = argc == 2 ? peer_list_cmd(n, ctx, &err) : cli_usage(usage);
    } else if (strcmp(sub, "show") == 0) {
        rc = peer_show_cmd(n, argv[2], ctx, &err);
    } else if (strcmp(sub, "witnessed") == 0) {
        dt_buf b;
        dt_buf_init(&b, (size_t)16 << 20);
        rc = peer_witnessed_build(n, &b, &err) == DT_OK ? CLI_OK : cli_error(&err);
        if (rc == CLI_OK)
            printf("%s\n", b.data);
        dt_buf_release(&b);
    } else if (strcmp(sub, "remove") == 0) {
        rc = peer_remove(node_store(n), argv[2], &err) == DT_OK ? CLI_OK : cli_error(&err);
    } else {
        rc = peer_trust(node_store(n), argv[2], &err) == DT_OK ? CLI_OK : cli_error(&err);
    }
    node_close(n);
    return rc;
}
