/* A node's data directory: configuration, keys, store, identity.
 *
 * Layout of the data directory (mode 0700):
 *   detente.conf   INI configuration (node_config_load documents the keys)
 *   key.secret     the Ed25519 secret key, "ed25519-secret:<base64>", mode 0600
 *   key.public     "ed25519:<base64>", for peers to pin
 *   detente.db     the SQLite store (objects, ledger, accounts, state)
 *   identity.json  the node's signed STIX identity object (also in the store)
 * node_open refuses a secret key readable or writable by anyone but the
 * owner, as ssh does: a leaked node key lets anyone speak for the party. */
#include "node/node_int.h"
#include "stix/stix.h"
#include "verify/verify.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_PREFIX "ed25519-secret:"

static const char *const tlp_names[] = {"clear", "green", "amber", "amber+strict", "red"};

dt_status node_tlp_parse(const char *s, node_tlp *out, dt_err *err)
{
    if (s != NULL && strcasecmp(s, "white") == 0) {
        *out = NODE_TLP_CLEAR;
        return DT_OK;
    }
    for (int i = 0; s != NULL && i <= NODE_TLP_RED; i++) {
        if (strcasecmp(s, tlp_names[i]) == 0) {
            *out = (node_tlp)i;
            return DT_OK;
        }
    }
    return dt_fail(err, DT_EARG, "marking", "'%s' is not a TLP level (clear, green, amber, "
                   "amber+strict, red)", s ? s : "");
}

const char *node_tlp_name(node_tlp t)
{
    return (unsigned)t <= NODE_TLP_RED ? tlp_names[t] : "unknown";
}

void node_config_default(node_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen, sizeof c->listen, "127.0.0.1:8470");
    snprintf(c->title, sizeof c->title, "detente node");
    snprintf(c->api_root, sizeof c->api_root, "api");
    snprintf(c->name, sizeof c->name, "detente");
    c->default_marking = NODE_TLP_AMBER;
    c->max_content_length = 10u << 20;
    c->page_default = 100;
    c->page_max = 1000;
    c->connections = 256;
    c->timeout = 30;
    c->sync_interval = 300;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static dt_status set_str(char *dst, size_t cap, const char *v, const char *where, dt_err *err)
{
    size_t n = strlen(v);
    if (n >= cap)
        return dt_fail(err, DT_EINVALID, where, "value longer than %zu bytes", cap - 1);
    memcpy(dst, v, n + 1);
    return DT_OK;
}

static dt_status set_num(size_t *dst, const char *v, size_t lo, size_t hi, const char *where,
                         dt_err *err)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || x < lo || x > hi)
        return dt_fail(err, DT_EINVALID, where, "'%s' is not a whole number from %zu to %zu", v,
                       lo, hi);
    *dst = (size_t)x;
    return DT_OK;
}

static dt_status config_set(node_config *c, const char *section, const char *key, const char *v,
                            const char *where, dt_err *err)
{
    size_t num;
    dt_status rc;
#define IS(s, k) (strcmp(section, s) == 0 && strcmp(key, k) == 0)
    if (IS("server", "listen"))
        return set_str(c->listen, sizeof c->listen, v, where, err);
    if (IS("server", "tls_cert"))
        return set_str(c->tls_cert, sizeof c->tls_cert, v, where, err);
    if (IS("server", "tls_key"))
        return set_str(c->tls_key, sizeof c->tls_key, v, where, err);
    if (IS("server", "title"))
        return set_str(c->title, sizeof c->title, v, where, err);
    if (IS("server", "api_root")) {
        for (const char *p = v; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
                return dt_fail(err, DT_EINVALID, where,
                               "api_root may hold only a-z, 0-9, '-' and '_'");
        if (v[0] == '\0')
            return dt_fail(err, DT_EINVALID, where, "api_root must not be empty");
        return set_str(c->api_root, sizeof c->api_root, v, where, err);
    }
    if (IS("node", "name"))
        return set_str(c->name, sizeof c->name, v, where, err);
    if (IS("node", "default_marking"))
        return node_tlp_parse(v, &c->default_marking, err) == DT_OK
                   ? DT_OK
                   : dt_fail(err, DT_EINVALID, where, "not a TLP level");
    if (IS("limits", "max_content_length"))
        return set_num(&c->max_content_length, v, 1024, (size_t)1 << 30, where, err);
    if (IS("limits", "page_default"))
        return set_num(&c->page_default, v, 1, STORE_MAX_PAGE, where, err);
    if (IS("limits", "page_max"))
        return set_num(&c->page_max, v, 1, STORE_MAX_PAGE, where, err);
    if (IS("limits", "connections"))
        return set_num(&c->connections, v, 1, 65536, where, err);
    if (IS("limits", "timeout"))
        return set_num(&c->timeout, v, 1, 3600, where, err);
    if (IS("sync", "interval")) {
        rc = set_num(&num, v, 0, 86400 * 7, where, err);
        if (rc == DT_OK)
            c->sync_interval = (unsigned)num;
        return rc;
    }
    if (IS("verify", "warninglists"))
        return set_str(c->warninglists, sizeof c->warninglists, v, where, err);
#undef IS
    return dt_fail(err, DT_EINVALID, where, "unknown setting [%s] %s", section, key);
}

dt_status node_config_parse(const char *text, size_t len, const char *path, node_config *out,
                            dt_err *err)
{
    char section[64] = "", where[NODE_PATH_MAX + 64];
    char *copy, *line, *next;
    unsigned lineno = 0;
    dt_status rc = DT_OK;

    node_config_default(out);
    if (memchr(text, '\0', len) != NULL)
        return dt_fail(err, DT_EINVALID, path, "the configuration holds a NUL byte");
    copy = dt_strndup(text, len);
    if (copy == NULL)
        return dt_fail(err, DT_ENOMEM, path, "out of memory");
    for (line = copy; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        lineno++;
        snprintf(where, sizeof where, "%s:%u", path, lineno);
        char *l = trim(line);
        if (l[0] == '\0' || l[0] == '#' || l[0] == ';')
            continue;
        if (l[0] == '[') {
            char *end = strchr(l, ']');
            if (end == NULL || end[1] != '\0' || (size_t)(end - l - 1) >= sizeof section) {
                rc = dt_fail(err, DT_EINVALID, where, "a section header looks like [name]");
                break;
            }
            memcpy(section, l + 1, (size_t)(end - l - 1));
            section[end - l - 1] = '\0';
            continue;
        }
        char *eq = strchr(l, '=');
        if (eq == NULL) {
            rc = dt_fail(err, DT_EINVALID, where, "expected key = value");
            break;
        }
        *eq = '\0';
        rc = config_set(out, section, trim(l), trim(eq + 1), where, err);
        if (rc != DT_OK)
            break;
    }
    dt_free(copy);
    return rc;
}

dt_status node_config_load(const char *home, node_config *out, dt_err *err)
{
    char path[NODE_PATH_MAX + 32];
    char *text = NULL;
    size_t len;
    dt_status rc;

    node_config_default(out);
    snprintf(path, sizeof path, "%s/detente.conf", home);
    rc = dt_file_read(path, 1 << 20, &text, &len, err);
    if (rc == DT_OK)
        rc = node_config_parse(text, len, path, out, err);
    dt_free(text);
    return rc;
}

dt_status node_store_open(const char *home, store **out, dt_err *err)
{
    char path[NODE_PATH_MAX + 32];
    store_config cfg = {.backend = "sqlite", .path = path};
    snprintf(path, sizeof path, "%s/detente.db", home);
    return store_open(&cfg, out, err);
}

static dt_status read_secret(const char *home, uint8_t sk[crypto_sign_SECRETKEYBYTES],
                             dt_err *err)
{
    char path[NODE_PATH_MAX + 32];
    struct stat st;
    char *text = NULL;
    size_t len = 0, n = 0;
    dt_status rc = DT_OK;
    snprintf(path, sizeof path, "%s/key.secret", home);
    if (stat(path, &st) != 0)
        return dt_fail(err, DT_EIO, path, "cannot read the node key: %s", strerror(errno));
    if ((st.st_mode & 077) != 0)
        return dt_fail(err, DT_EDENIED, path,
                       "the secret key is accessible to group or others (mode %03o); "
                       "run 'chmod 600 %s' and check who could have copied it",
                       (unsigned)(st.st_mode & 0777), path);
    rc = dt_file_read(path, 4096, &text, &len, err);
    if (rc != DT_OK)
        return rc;
    char *t = trim(text);
    if (strncmp(t, SECRET_PREFIX, strlen(SECRET_PREFIX)) != 0 ||
        !dt_base64_decode(t + strlen(SECRET_PREFIX), strlen(t + strlen(SECRET_PREFIX)), sk,
                          crypto_sign_SECRETKEYBYTES, &n) ||
        n != crypto_sign_SECRETKEYBYTES)
        rc = dt_fail(err, DT_EINVALID, path, "not a detente secret key file");
    sodium_memzero(text, len);
    dt_free(text);
    return rc;
}

dt_status node_write_keys(const char *home, const uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                          const uint8_t sk[crypto_sign_SECRETKEYBYTES], dt_err *err);

dt_status node_write_keys(const char *home, const uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                          const uint8_t sk[crypto_sign_SECRETKEYBYTES], dt_err *err)
{
    char path[NODE_PATH_MAX + 32], text[256], b64[128];
    dt_status rc;
    dt_base64_encode(sk, crypto_sign_SECRETKEYBYTES, b64);
    int n = snprintf(text, sizeof text, "%s%s\n", SECRET_PREFIX, b64);
    snprintf(path, sizeof path, "%s/key.secret", home);
    rc = dt_file_write_atomic(path, text, (size_t)n, 0600, err);
    sodium_memzero(text, sizeof text);
    sodium_memzero(b64, sizeof b64);
    if (rc != DT_OK)
        return rc;
    node_key_format(pk, text, sizeof text);
    n = (int)strlen(text);
    text[n++] = '\n';
    snprintf(path, sizeof path, "%s/key.public", home);
    return dt_file_write_atomic(path, text, (size_t)n, 0644, err);
}

static dt_status write_default_config(const char *home, const node_init_opts *opts,
                                      const char *name, dt_err *err)
{
    char path[NODE_PATH_MAX + 32];
    dt_buf b;
    dt_status rc;
    dt_buf_init(&b, 1 << 16);
    rc = dt_buf_printf(&b, err,
                       "# detente node configuration (see README, \"Configuration\")\n"
                       "[node]\nname = %s\ndefault_marking = %s\n\n"
                       "[server]\nlisten = 127.0.0.1:8470\ntitle = detente node %s\n"
                       "api_root = api\n# tls_cert = /path/cert.pem\n# tls_key = /path/key.pem\n\n"
                       "[limits]\nmax_content_length = 10485760\npage_default = 100\n"
                       "page_max = 1000\nconnections = 256\ntimeout = 30\n\n[sync]\ninterval = 300\n",
                       name, node_tlp_name(opts->default_marking), name);
    if (rc == DT_OK) {
        snprintf(path, sizeof path, "%s/detente.conf", home);
        rc = dt_file_write_atomic(path, b.data, b.len, 0600, err);
    }
    dt_buf_release(&b);
    return rc;
}

/* The node's own identity object, signed by its key. New reference. */
static json_t *make_identity(const char *id, const char *name)
{
    char now[DT_TIME_LEN];
    dt_time t = dt_time_now();
    dt_time_format(&t, 3, now);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "identity",
                     "spec_version", "2.1", "id", id, "created_by_ref", id, "created", now,
                     "modified", now, "name", name, "identity_class", "organization",
                     "description", "A detente node's party identity");
}

dt_status node_init(const char *home, const node_init_opts *opts, dt_err *err)
{
    char path[NODE_PATH_MAX + 32], id[160], uuid[DT_UUID_LEN], namebuf[NODE_PATH_MAX];
    node_init_opts defaults = {.name = NULL, .default_marking = NODE_TLP_AMBER};
    const char *name;
    struct stat st;
    dt_uuid u;
    dt_status rc;
    node *n = NULL;

    if (opts == NULL)
        opts = &defaults;
    if (strlen(home) >= NODE_PATH_MAX - 32)
        return dt_fail(err, DT_EARG, home, "path too long");
    snprintf(path, sizeof path, "%s/detente.conf", home);
    if (stat(path, &st) == 0)
        return dt_fail(err, DT_ECONFLICT, home, "already holds a node (detente.conf exists)");
    if (mkdir(home, 0700) != 0 && errno != EEXIST)
        return dt_fail(err, DT_EIO, home, "cannot create the data directory: %s",
                       strerror(errno));
    if (chmod(home, 0700) != 0)
        return dt_fail(err, DT_EIO, home, "cannot set mode 0700: %s", strerror(errno));
    name = opts->name;
    if (name == NULL || name[0] == '\0') {
        snprintf(namebuf, sizeof namebuf, "%s", home);
        name = basename(namebuf);
    }

    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    rc = node_write_keys(home, pk, sk, err);
    sodium_memzero(sk, sizeof sk);
    if (rc != DT_OK)
        return rc;
    rc = write_default_config(home, opts, name, err);
    if (rc != DT_OK)
        return rc;

    dt_uuid_v4(&u);
    snprintf(id, sizeof id, "identity--%s", dt_uuid_format(&u, uuid));
    snprintf(path, sizeof path, "%s/identity", home);
    {
        store *st0 = NULL;
        store_txn *t = NULL;
        store_collection c = {0};
        rc = node_store_open(home, &st0, err);
        if (rc == DT_OK)
            rc = store_begin(st0, &t, err);
        if (rc == DT_OK) {
            snprintf(c.id, sizeof c.id, "default");
            snprintf(c.title, sizeof c.title, "Default collection");
            snprintf(c.description, sizeof c.description, "What this node publishes by default");
            c.created = dt_now_us();
            rc = store_collection_put(t, &c, err);
            if (rc == DT_OK)
                rc = store_kv_put(t, "node/identity", id, err);
            if (rc == DT_OK) /* a new store: ingest keeps its evidence index whole */
                rc = node_verify_index_mark(t, err);
            if (rc == DT_OK)
                rc = store_commit(t, err);
            else
                store_rollback(t);
        }
        store_close(st0);
        if (rc != DT_OK)
            return rc;
    }

    rc = node_open(home, &n, err);
    if (rc != DT_OK)
        return rc;
    {
        node_principal local;
        node_ingest_opts io = {.collection = "default", .sign = true};
        node_ingest_result res = {0};
        json_t *objs[2] = {node_extension_definition(), make_identity(id, name)};
        const char *wheres[2] = {"extension-definition", "identity"};
        node_principal_local(&local);
        if (objs[0] == NULL || objs[1] == NULL)
            rc = dt_fail(err, DT_ENOMEM, "init", "out of memory");
        else
            rc = node_ingest_json(n, &local, &io, objs, wheres, 2, &res, err);
        if (rc == DT_OK && res.rejected > 0)
            rc = dt_fail(err, DT_EINVALID, res.items[res.items[0].outcome == NODE_ITEM_REJECTED ? 0 : 1].where,
                         "%s", res.items[res.items[0].outcome == NODE_ITEM_REJECTED ? 0 : 1].msg);
        node_ingest_result_release(&res);
        json_decref(objs[0]);
        json_decref(objs[1]);
    }
    node_close(n);
    return rc;
}

dt_status node_open(const char *home, node **out, dt_err *err)
{
    node *n;
    dt_status rc;
    char *idv = NULL;

    *out = NULL;
    n = dt_calloc(1, sizeof *n);
    if (n == NULL)
        return dt_fail(err, DT_ENOMEM, home, "out of memory");
    if (strlen(home) >= sizeof n->home - 32) {
        dt_free(n);
        return dt_fail(err, DT_EARG, home, "path too long");
    }
    snprintf(n->home, sizeof n->home, "%s", home);
    pthread_mutex_init(&n->lists_lock, NULL);
    pthread_mutex_init(&n->commit_lock, NULL);
    pthread_cond_init(&n->commit_done, NULL);
    rc = node_config_load(home, &n->conf, err);
    if (rc == DT_ENOTFOUND || (rc == DT_EIO && err && strstr(err->msg, "No such file"))) {
        if (err) {
            dt_err_clear(err);
            dt_fail(err, DT_ENOTFOUND, home,
                    "no detente node here: run 'detente init' (or set --home / DETENTE_HOME)");
        }
        rc = DT_ENOTFOUND;
    }
    if (rc == DT_OK)
        rc = read_secret(home, n->sk, err);
    if (rc == DT_OK)
        crypto_sign_ed25519_sk_to_pk(n->pk, n->sk);
    if (rc == DT_OK)
        rc = node_store_open(home, &n->st, err);
    if (rc == DT_OK)
        rc = store_kv_get(n->st, NULL, "node/identity", &idv, err);
    if (rc == DT_OK) {
        if (idv == NULL || strlen(idv) >= sizeof n->identity_id)
            rc = dt_fail(err, DT_EDB, home, "the store has no node identity: is it damaged?");
        else
            memcpy(n->identity_id, idv, strlen(idv) + 1);
    }
    dt_free(idv);
    if (rc != DT_OK) {
        node_close(n);
        return rc;
    }
    *out = n;
    return DT_OK;
}

void node_close(node *n)
{
    if (n == NULL)
        return;
    store_close(n->st);
    verify_lists_free(n->lists);
    pthread_mutex_destroy(&n->lists_lock);
    pthread_mutex_destroy(&n->commit_lock);
    pthread_cond_destroy(&n->commit_done);
    sodium_memzero(n->sk, sizeof n->sk);
    dt_free(n);
}

store *node_store(node *n)
{
    return n->st;
}

const node_config *node_conf(const node *n)
{
    return &n->conf;
}

const char *node_home(const node *n)
{
    return n->home;
}

const char *node_identity_id(const node *n)
{
    return n->identity_id;
}

const uint8_t *node_public_key(const node *n)
{
    return n->pk;
}

void node_principal_local(node_principal *p)
{
    memset(p, 0, sizeof *p);
    p->kind = NODE_PRINCIPAL_LOCAL;
    snprintf(p->name, sizeof p->name, "local");
    p->max_marking = NODE_TLP_RED;
}
