/* peer registry: peers, their credentials and their sync state, kept in the
 * store's key/value table as small JSON documents.
 *
 * Design. Each kind of record has its own key prefix (peer/, peer-cred/,
 * peer-state/, peer-sth/, peer-cursor/, peer-evidence/, signer-key/; see
 * docs/federation.md), so listing peers never reads a credential and a
 * credential never travels with the description of a peer. Values are JSON
 * so an operator can read them with sqlite3 and a later version can add
 * members. Every write is one short transaction of its own. */
#include "peer/peer.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define KEY_MAX (PEER_NAME_MAX + PEER_COLL_MAX + 64)

void peer_cred_wipe(peer_cred *c)
{
    sodium_memzero(c, sizeof *c);
}

bool peer_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= PEER_NAME_MAX || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

static void key_of(char *out, const char *prefix, const char *name, const char *rest)
{
    snprintf(out, KEY_MAX, "%s/%s%s%s", prefix, name, rest ? "/" : "", rest ? rest : "");
}

static dt_status kv_put1(store *s, const char *key, const char *value, dt_err *err)
{
    store_txn *t = NULL;
    dt_status rc = store_begin(s, &t, err);
    if (rc != DT_OK)
        return rc;
    rc = store_kv_put(t, key, value, err);
    if (rc == DT_OK)
        return store_commit(t, err);
    store_rollback(t);
    return rc;
}

static dt_status kv_put_json(store *s, const char *key, json_t *j, dt_err *err)
{
    char *text;
    dt_status rc;
    if (j == NULL)
        return dt_fail(err, DT_ENOMEM, key, "out of memory");
    text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    if (text == NULL)
        return dt_fail(err, DT_ENOMEM, key, "out of memory");
    rc = kv_put1(s, key, text, err);
    sodium_memzero(text, strlen(text));
    free(text);
    return rc;
}

/* *out NULL (and DT_OK) when the key is absent. */
static dt_status kv_get_json(store *s, const char *key, json_t **out, dt_err *err)
{
    char *v = NULL;
    dt_status rc = store_kv_get(s, NULL, key, &v, err);
    *out = NULL;
    if (rc == DT_ENOTFOUND) {
        dt_err_clear(err);
        return DT_OK;
    }
    if (rc != DT_OK)
        return rc;
    *out = json_loads(v, 0, NULL);
    sodium_memzero(v, strlen(v));
    dt_free(v);
    if (*out == NULL || !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return dt_fail(err, DT_EDB, key, "stored value is not a JSON object");
    }
    return DT_OK;
}

static void copy_field(const json_t *j, const char *k, char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(j, k));
    snprintf(out, cap, "%s", s ? s : "");
}

static void key_format(const uint8_t pk[32], char out[64])
{
    char b64[48];
    dt_base64_encode(pk, 32, b64);
    snprintf(out, 64, "ed25519:%s", b64);
}

static json_t *str_list(const char (*items)[PEER_COLL_MAX], size_t count)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < count; i++)
        json_array_append_new(a, json_string(items[i]));
    return a;
}

static json_t *config_json(const peer_config *c)
{
    char key[64];
    json_t *into = json_object();
    key_format(c->key, key);
    for (size_t i = 0; into != NULL && i < c->into_count; i++)
        json_object_set_new(into, c->into[i].remote, json_string(c->into[i].local));
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:i, s:s, s:b, s:I}", "name", c->name, "url",
                     c->url, "key", key, "collections",
                     str_list(c->collections, c->collection_count), "into", into ? into : json_null(),
                     "push", str_list(c->push, c->push_count), "max_marking", c->max_marking, "ca",
                     c->ca_file, "allow_unsigned", c->allow_unsigned, "added",
                     (json_int_t)c->added);
}

static dt_status parse_key(const char *text, uint8_t out[32])
{
    size_t n = 0;
    if (text == NULL || strncmp(text, "ed25519:", 8) != 0 ||
        !dt_base64_decode(text + 8, strlen(text + 8), out, 32, &n) || n != 32)
        return DT_EINVALID;
    return DT_OK;
}

static dt_status config_parse(const json_t *j, peer_config *c, dt_err *err)
{
    json_t *v;
    const char *k;
    size_t i;
    memset(c, 0, sizeof *c);
    copy_field(j, "name", c->name, sizeof c->name);
    copy_field(j, "url", c->url, sizeof c->url);
    copy_field(j, "ca", c->ca_file, sizeof c->ca_file);
    if (parse_key(json_string_value(json_object_get(j, "key")), c->key) != DT_OK)
        return dt_fail(err, DT_EDB, c->name, "stored peer has no valid key");
    json_array_foreach(json_object_get(j, "collections"), i, v) {
        if (i < PEER_LIST_MAX)
            snprintf(c->collections[c->collection_count++], PEER_COLL_MAX, "%s",
                     json_string_value(v) ? json_string_value(v) : "");
    }
    json_array_foreach(json_object_get(j, "push"), i, v) {
        if (i < PEER_LIST_MAX)
            snprintf(c->push[c->push_count++], PEER_COLL_MAX, "%s",
                     json_string_value(v) ? json_string_value(v) : "");
    }
    json_object_foreach((json_t *)json_object_get(j, "into"), k, v) {
        if (c->into_count < PEER_LIST_MAX && json_is_string(v)) {
            snprintf(c->into[c->into_count].remote, PEER_COLL_MAX, "%s", k);
            snprintf(c->into[c->into_count].local, PEER_COLL_MAX, "%s", json_string_value(v));
            c->into_count++;
        }
    }
    c->max_marking = (int)json_integer_value(json_object_get(j, "max_marking"));
    c->allow_unsigned = json_is_true(json_object_get(j, "allow_unsigned"));
    c->added = (int64_t)json_integer_value(json_object_get(j, "added"));
    return DT_OK;
}

dt_status peer_add(store *s, const peer_config *cfg, const peer_cred *cred, dt_err *err)
{
    char key[KEY_MAX];
    json_t *old = NULL;
    dt_status rc;
    if (!peer_name_valid(cfg->name))
        return dt_fail(err, DT_EARG, "peer name",
                       "'%s' is not a valid name (letters, digits, '.', '_', '-')", cfg->name);
    if (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0)
        return dt_fail(err, DT_EARG, "peer url", "'%s' is not an http:// or https:// URL",
                       cfg->url);
    key_of(key, "peer", cfg->name, NULL);
    rc = kv_get_json(s, key, &old, err);
    if (rc != DT_OK)
        return rc;
    if (old != NULL) {
        json_decref(old);
        return dt_fail(err, DT_ECONFLICT, cfg->name, "a peer with this name exists");
    }
    if (cred != NULL && (cred->user[0] || cred->token[0])) {
        char ckey[KEY_MAX];
        json_t *c = cred->token[0] ? json_pack("{s:s}", "token", cred->token)
                                   : json_pack("{s:s, s:s}", "user", cred->user, "password",
                                               cred->password);
        key_of(ckey, "peer-cred", cfg->name, NULL);
        rc = kv_put_json(s, ckey, c, err);
        if (rc != DT_OK)
            return rc;
    }
    return kv_put_json(s, key, config_json(cfg), err);
}

dt_status peer_get(store *s, const char *name, peer_config *out, dt_err *err)
{
    char key[KEY_MAX];
    json_t *j = NULL;
    dt_status rc;
    if (!peer_name_valid(name))
        return dt_fail(err, DT_ENOTFOUND, "peer", "no peer named '%.64s'", name);
    key_of(key, "peer", name, NULL);
    rc = kv_get_json(s, key, &j, err);
    if (rc != DT_OK)
        return rc;
    if (j == NULL)
        return dt_fail(err, DT_ENOTFOUND, "peer", "no peer named '%s' (see `detente peer list`)",
                       name);
    rc = config_parse(j, out, err);
    json_decref(j);
    return rc;
}

dt_status peer_list(store *s, peer_config **out, size_t *count, dt_err *err)
{
    char **keys = NULL, **values = NULL;
    size_t n = 0, k = 0;
    peer_config *cs = NULL;
    dt_status rc = store_kv_list(s, "peer/", 10000, &keys, &values, &n, err);
    *out = NULL;
    *count = 0;
    if (rc != DT_OK)
        return rc;
    if (n > 0) {
        cs = dt_calloc(n, sizeof *cs);
        if (cs == NULL) {
            store_kv_list_free(keys, values, n);
            return dt_fail(err, DT_ENOMEM, "peers", "out of memory");
        }
    }
    for (size_t i = 0; i < n && rc == DT_OK; i++) {
        json_t *j = json_loads(values[i], 0, NULL);
        if (j == NULL)
            rc = dt_fail(err, DT_EDB, keys[i], "stored value is not JSON");
        else
            rc = config_parse(j, &cs[k++], err);
        json_decref(j);
    }
    store_kv_list_free(keys, values, n);
    if (rc != DT_OK) {
        dt_free(cs);
        return rc;
    }
    *out = cs;
    *count = k;
    return DT_OK;
}

static dt_status remove_prefix(store *s, const char *prefix, dt_err *err)
{
    for (;;) {
        char **keys = NULL, **values = NULL;
        size_t n = 0;
        store_txn *t = NULL;
        dt_status rc = store_kv_list(s, prefix, 1000, &keys, &values, &n, err);
        if (rc != DT_OK)
            return rc;
        if (n == 0) {
            store_kv_list_free(keys, values, n);
            return DT_OK;
        }
        rc = store_begin(s, &t, err);
        for (size_t i = 0; rc == DT_OK && i < n; i++)
            rc = store_kv_put(t, keys[i], NULL, err);
        store_kv_list_free(keys, values, n);
        if (rc == DT_OK)
            rc = store_commit(t, err);
        else if (t != NULL)
            store_rollback(t);
        if (rc != DT_OK)
            return rc;
    }
}

dt_status peer_remove(store *s, const char *name, dt_err *err)
{
    static const char *const prefixes[] = {"peer-cred", "peer-state", "peer-sth", "peer-cursor",
                                           "peer-evidence", "peer-frontier", "peer-push", "peer"};
    peer_config c;
    dt_status rc = peer_get(s, name, &c, err);
    if (rc != DT_OK)
        return rc;
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes && rc == DT_OK; i++) {
        char key[KEY_MAX];
        key_of(key, prefixes[i], name, NULL);
        rc = kv_put1(s, key, NULL, err);
        if (rc == DT_OK) {
            /* records under "<prefix>/<name>/" (cursors, evidence) */
            key_of(key, prefixes[i], name, "");
            rc = remove_prefix(s, key, err);
        }
    }
    return rc;
}

dt_status peer_cred_get(store *s, const char *name, peer_cred *out, dt_err *err)
{
    char key[KEY_MAX];
    json_t *j = NULL;
    dt_status rc;
    memset(out, 0, sizeof *out);
    key_of(key, "peer-cred", name, NULL);
    rc = kv_get_json(s, key, &j, err);
    if (rc != DT_OK || j == NULL)
        return rc;
    copy_field(j, "user", out->user, sizeof out->user);
    copy_field(j, "password", out->password, sizeof out->password);
    copy_field(j, "token", out->token, sizeof out->token);
    json_decref(j);
    return DT_OK;
}

dt_status peer_state_get(store *s, const char *name, peer_state *out, dt_err *err)
{
    char key[KEY_MAX];
    json_t *j = NULL;
    dt_status rc;
    memset(out, 0, sizeof *out);
    key_of(key, "peer-state", name, NULL);
    rc = kv_get_json(s, key, &j, err);
    if (rc != DT_OK || j == NULL)
        return rc;
    const char *st = json_string_value(json_object_get(j, "state"));
    out->state = st != NULL && strcmp(st, "suspect") == 0 ? PEER_SUSPECT : PEER_OK;
    copy_field(j, "reason", out->reason, sizeof out->reason);
    copy_field(j, "last_error", out->last_error, sizeof out->last_error);
    out->since = (int64_t)json_integer_value(json_object_get(j, "since"));
    out->last_sync = (int64_t)json_integer_value(json_object_get(j, "last_sync"));
    out->pulled = (uint64_t)json_integer_value(json_object_get(j, "pulled"));
    out->pushed = (uint64_t)json_integer_value(json_object_get(j, "pushed"));
    json_decref(j);
    return DT_OK;
}

dt_status peer_state_put(store *s, const char *name, const peer_state *st, dt_err *err)
{
    char key[KEY_MAX];
    key_of(key, "peer-state", name, NULL);
    return kv_put_json(
        s, key,
        json_pack("{s:s, s:s, s:I, s:I, s:s, s:I, s:I}", "state",
                  st->state == PEER_SUSPECT ? "suspect" : "ok", "reason", st->reason, "since",
                  (json_int_t)st->since, "last_sync", (json_int_t)st->last_sync, "last_error",
                  st->last_error, "pulled", (json_int_t)st->pulled, "pushed",
                  (json_int_t)st->pushed),
        err);
}

dt_status peer_sth_get(store *s, const char *name, ledger_sth *out, int64_t *verified_at,
                       dt_err *err)
{
    char key[KEY_MAX];
    json_t *j = NULL, *sth;
    char *text;
    dt_status rc;
    key_of(key, "peer-sth", name, NULL);
    rc = kv_get_json(s, key, &j, err);
    if (rc != DT_OK)
        return rc;
    if (j == NULL)
        return dt_fail(err, DT_ENOTFOUND, name, "no verified head yet");
    sth = json_object_get(j, "sth");
    text = sth ? json_dumps(sth, JSON_COMPACT) : NULL;
    if (text == NULL)
        rc = dt_fail(err, DT_EDB, key, "stored head is unreadable");
    else
        rc = ledger_sth_parse(text, strlen(text), out, err);
    if (verified_at != NULL)
        *verified_at = (int64_t)json_integer_value(json_object_get(j, "verified_at"));
    free(text);
    json_decref(j);
    return rc;
}

dt_status peer_sth_put(store *s, const char *name, const ledger_sth *sth, dt_err *err)
{
    char key[KEY_MAX];
    dt_buf b;
    json_t *j;
    dt_status rc;
    dt_buf_init(&b, 4096);
    rc = ledger_sth_to_json(sth, &b, err);
    if (rc != DT_OK) {
        dt_buf_release(&b);
        return rc;
    }
    j = json_pack("{s:o, s:I}", "sth", json_loads(b.data, 0, NULL), "verified_at",
                  (json_int_t)dt_now_ms());
    dt_buf_release(&b);
    key_of(key, "peer-sth", name, NULL);
    return kv_put_json(s, key, j, err);
}

dt_status peer_cursor_get(store *s, const char *name, const char *collection,
                          char out[DT_TIME_LEN], dt_err *err)
{
    char key[KEY_MAX];
    json_t *j = NULL;
    dt_status rc;
    out[0] = '\0';
    key_of(key, "peer-cursor", name, collection);
    rc = kv_get_json(s, key, &j, err);
    if (rc != DT_OK || j == NULL)
        return rc;
    copy_field(j, "added_after", out, DT_TIME_LEN);
    json_decref(j);
    return DT_OK;
}

static bool time_after(const char *a, const char *b)
{
    dt_time ta, tb;
    if (dt_time_parse(a, strlen(a), &ta, NULL) != DT_OK ||
        dt_time_parse(b, strlen(b), &tb, NULL) != DT_OK)
        return true;
    return dt_time_cmp(&ta, &tb) > 0;
}

dt_status peer_cursor_put(store *s, const char *name, const char *collection,
                          const char *added_after, dt_err *err)
{
    char key[KEY_MAX], *old = NULL, *text;
    store_txn *t = NULL;
    json_t *j;
    dt_status rc;
    key_of(key, "peer-cursor", name, collection);
    j = json_pack("{s:s}", "added_after", added_after);
    text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text == NULL)
        return dt_fail(err, DT_ENOMEM, key, "out of memory");
    rc = store_begin(s, &t, err);
    if (rc == DT_OK && store_kv_get(s, t, key, &old, NULL) == DT_OK) {
        /* read and write in one transaction: a cursor never moves back,
         * even when two processes sync the same peer */
        json_t *o = json_loads(old, 0, NULL);
        const char *prev = json_string_value(json_object_get(o, "added_after"));
        bool forward = prev == NULL || time_after(added_after, prev);
        json_decref(o);
        dt_free(old);
        if (!forward) {
            store_rollback(t);
            free(text);
            return DT_OK;
        }
    }
    if (rc == DT_OK) {
        rc = store_kv_put(t, key, text, err);
        if (rc == DT_OK)
            rc = store_commit(t, err);
        else
            store_rollback(t);
    }
    free(text);
    return rc;
}

dt_status peer_mark_suspect(store *s, const char *name, const char *kind, const char *reason,
                            json_t *evidence, dt_err *err)
{
    char key[KEY_MAX], stamp[32];
    peer_state st;
    int64_t now = dt_now_ms();
    json_t *e;
    dt_status rc = peer_state_get(s, name, &st, err);
    if (rc != DT_OK)
        return rc;
    fprintf(stderr, "detente: SUSPECT peer %s: %s\n", name, reason);
    e = evidence != NULL ? json_deep_copy(evidence) : json_object();
    if (e == NULL)
        return dt_fail(err, DT_ENOMEM, name, "out of memory");
    json_object_set_new(e, "kind", json_string(kind));
    json_object_set_new(e, "reason", json_string(reason));
    json_object_set_new(e, "found_at", json_integer((json_int_t)now));
    /* fixed width so the keys sort in time order */
    snprintf(stamp, sizeof stamp, "%015lld", (long long)now);
    key_of(key, "peer-evidence", name, stamp);
    rc = kv_put_json(s, key, e, err);
    if (rc != DT_OK)
        return rc;
    if (st.state != PEER_SUSPECT) {
        st.state = PEER_SUSPECT;
        st.since = now;
        snprintf(st.reason, sizeof st.reason, "%s", reason);
    }
    return peer_state_put(s, name, &st, err);
}

dt_status peer_trust(store *s, const char *name, dt_err *err)
{
    peer_state st;
    peer_config c;
    dt_status rc = peer_get(s, name, &c, err);
    if (rc == DT_OK)
        rc = peer_state_get(s, name, &st, err);
    if (rc != DT_OK)
        return rc;
    st.state = PEER_OK;
    st.reason[0] = '\0';
    st.since = 0;
    return peer_state_put(s, name, &st, err);
}

dt_status peer_evidence_list(store *s, const char *name, json_t **out, dt_err *err)
{
    char prefix[KEY_MAX], **keys = NULL, **values = NULL;
    size_t n = 0;
    json_t *a;
    dt_status rc;
    *out = NULL;
    key_of(prefix, "peer-evidence", name, "");
    rc = store_kv_list(s, prefix, 10000, &keys, &values, &n, err);
    if (rc != DT_OK)
        return rc;
    a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        json_t *e = json_loads(values[i], 0, NULL);
        if (e != NULL)
            json_array_append_new(a, e);
    }
    store_kv_list_free(keys, values, n);
    if (a == NULL)
        return dt_fail(err, DT_ENOMEM, name, "out of memory");
    *out = a;
    return DT_OK;
}

dt_status peer_describe(store *s, const peer_config *cfg, json_t **out, dt_err *err)
{
    peer_state st;
    peer_cred cred;
    ledger_sth sth;
    int64_t verified_at = 0;
    json_t *j, *ev = NULL;
    dt_status rc;
    *out = NULL;
    rc = peer_state_get(s, cfg->name, &st, err);
    if (rc != DT_OK)
        return rc;
    rc = peer_cred_get(s, cfg->name, &cred, err);
    if (rc != DT_OK)
        return rc;
    j = config_json(cfg);
    if (j == NULL) {
        peer_cred_wipe(&cred);
        return dt_fail(err, DT_ENOMEM, cfg->name, "out of memory");
    }
    json_object_set_new(j, "auth",
                        json_string(cred.token[0] ? "token" : cred.user[0] ? "basic" : "none"));
    if (cred.user[0])
        json_object_set_new(j, "user", json_string(cred.user));
    peer_cred_wipe(&cred);
    json_object_set_new(j, "state", json_string(st.state == PEER_SUSPECT ? "suspect" : "ok"));
    json_object_set_new(j, "reason", st.reason[0] ? json_string(st.reason) : json_null());
    json_object_set_new(j, "suspect_since", st.since ? json_integer(st.since) : json_null());
    json_object_set_new(j, "last_sync", st.last_sync ? json_integer(st.last_sync) : json_null());
    json_object_set_new(j, "last_error",
                        st.last_error[0] ? json_string(st.last_error) : json_null());
    json_object_set_new(j, "pulled", json_integer((json_int_t)st.pulled));
    json_object_set_new(j, "pushed", json_integer((json_int_t)st.pushed));
    if (peer_sth_get(s, cfg->name, &sth, &verified_at, NULL) == DT_OK) {
        char root[48];
        dt_base64_encode(sth.root, 32, root);
        json_object_set_new(j, "last_sth",
                            json_pack("{s:I, s:I, s:s, s:I}", "tree_size",
                                      (json_int_t)sth.tree_size, "timestamp",
                                      (json_int_t)sth.timestamp, "sha256_root_hash", root,
                                      "verified_at", (json_int_t)verified_at));
    } else {
        json_object_set_new(j, "last_sth", json_null());
    }
    rc = peer_evidence_list(s, cfg->name, &ev, err);
    if (rc != DT_OK) {
        json_decref(j);
        return rc;
    }
    json_object_set_new(j, "evidence", ev);
    *out = j;
    return DT_OK;
}

dt_status peer_signer_key_get(store *s, const char *identity, uint8_t key[32], dt_err *err)
{
    char k[KEY_MAX];
    char *v = NULL;
    dt_status rc;
    snprintf(k, sizeof k, "signer-key/%.160s", identity);
    rc = store_kv_get(s, NULL, k, &v, err);
    if (rc != DT_OK)
        return rc;
    rc = parse_key(v, key);
    dt_free(v);
    return rc == DT_OK ? DT_OK : dt_fail(err, DT_EDB, k, "stored key is unreadable");
}

dt_status peer_signer_key_put(store *s, const char *identity, const uint8_t key[32], dt_err *err)
{
    char k[KEY_MAX], text[64];
    snprintf(k, sizeof k, "signer-key/%.160s", identity);
    key_format(key, text);
    return kv_put1(s, k, text, err);
}
