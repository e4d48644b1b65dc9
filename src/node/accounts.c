/* node accounts: users, passwords, bearer tokens, grants and collections.
 *
 * Passwords are stored only as Argon2id strings (libsodium crypto_pwhash_str,
 * interactive limits: about 64 MiB and a fraction of a second per check,
 * which bounds online guessing). A password check for an unknown account
 * verifies against a fixed dummy hash, so it costs the same time and says
 * nothing about which accounts exist. Bearer tokens are 32 random bytes;
 * the store keeps only their SHA-256 and finds the account by that hash, so
 * no secret is ever compared byte by byte (a lookup by a hash of a
 * high-entropy secret leaks nothing useful through timing). Generated
 * secrets are shown once by the caller and never logged here.
 *
 * Every write is one store transaction. Thread-safe: state lives in the
 * store; the dummy hash is made once under pthread_once. */
#include "node/node.h"

#include <pthread.h>
#include <string.h>

static bool valid_level(node_tlp t)
{
    return (int)t >= NODE_TLP_CLEAR && (int)t <= NODE_TLP_RED;
}

/* Account names and collection ids: letters, digits, '.', '_', '-' (they
 * appear in URLs, logs and grants), not starting with '.' or '-'. */
static bool name_ok(const char *s, size_t max)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len >= max || s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Run one write in its own transaction. */
typedef dt_status (*txn_fn)(store_txn *t, const void *arg, dt_err *err);

static dt_status in_txn(node *n, txn_fn fn, const void *arg, dt_err *err)
{
    store_txn *t = NULL;
    dt_status rc = store_begin(node_store(n), &t, err);
    if (rc != DT_OK)
        return rc;
    rc = fn(t, arg, err);
    if (rc == DT_OK)
        return store_commit(t, err);
    store_rollback(t);
    return rc;
}

static dt_status put_user(store_txn *t, const void *arg, dt_err *err)
{
    return store_user_put(t, arg, err);
}

static dt_status hash_password(const char *password, char out[160], dt_err *err)
{
    char h[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(h, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return dt_fail(err, DT_ENOMEM, "password", "not enough memory to hash the password");
    snprintf(out, 160, "%s", h);
    sodium_memzero(h, sizeof h);
    return DT_OK;
}

dt_status node_user_add(node *n, const char *name, const char *password, node_tlp max_marking,
                        char *generated, size_t generated_len, dt_err *err)
{
    store_user u;
    char pw[64];
    dt_status rc;
    if (!name_ok(name, sizeof u.name))
        return dt_fail(err, DT_EINVALID, "user",
                       "account names are 1-63 letters, digits, '.', '_' or '-'");
    if (!valid_level(max_marking))
        return dt_fail(err, DT_EARG, "user", "bad marking level");
    rc = store_user_get(node_store(n), name, &u, NULL);
    if (rc == DT_OK)
        return dt_fail(err, DT_ECONFLICT, name, "account already exists");
    if (rc != DT_ENOTFOUND)
        return store_user_get(node_store(n), name, &u, err);
    if (password == NULL) {
        uint8_t raw[24];
        if (generated == NULL || generated_len < 33)
            return dt_fail(err, DT_EARG, "user", "no room for the generated password");
        randombytes_buf(raw, sizeof raw);
        sodium_bin2base64(pw, sizeof pw, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        sodium_memzero(raw, sizeof raw);
        password = pw;
    } else if (password[0] == '\0') {
        return dt_fail(err, DT_EINVALID, name, "empty password");
    }
    memset(&u, 0, sizeof u);
    snprintf(u.name, sizeof u.name, "%s", name);
    u.max_marking = (int)max_marking;
    u.created = dt_now_us();
    rc = hash_password(password, u.pw_hash, err);
    if (rc == DT_OK)
        rc = in_txn(n, put_user, &u, err);
    if (rc == DT_OK && password == pw)
        snprintf(generated, generated_len, "%s", pw);
    sodium_memzero(pw, sizeof pw);
    return rc;
}

dt_status node_user_set_marking(node *n, const char *name, node_tlp max_marking, dt_err *err)
{
    store_user u;
    dt_status rc;
    if (!valid_level(max_marking))
        return dt_fail(err, DT_EARG, "user", "bad marking level");
    rc = store_user_get(node_store(n), name, &u, err);
    if (rc != DT_OK)
        return rc;
    u.max_marking = (int)max_marking;
    return in_txn(n, put_user, &u, err);
}

dt_status node_user_set_peer(node *n, const char *name, bool is_peer, dt_err *err)
{
    store_user u;
    dt_status rc = store_user_get(node_store(n), name, &u, err);
    if (rc != DT_OK)
        return rc;
    u.is_peer = is_peer;
    return in_txn(n, put_user, &u, err);
}

static dt_status remove_user(store_txn *t, const void *arg, dt_err *err)
{
    return store_user_remove(t, arg, err);
}

dt_status node_user_remove(node *n, const char *name, dt_err *err)
{
    store_user u;
    dt_status rc = store_user_get(node_store(n), name, &u, err);
    if (rc != DT_OK)
        return rc;
    return in_txn(n, remove_user, name, err);
}

typedef struct token_arg {
    uint8_t hash[32];
    const char *user;
} token_arg;

static dt_status put_token(store_txn *t, const void *arg, dt_err *err)
{
    const token_arg *a = arg;
    return store_token_put(t, a->hash, a->user, err);
}

#define TOKEN_PREFIX "dt_"

dt_status node_token_new(node *n, const char *name, char *out, size_t out_len, dt_err *err)
{
    store_user u;
    uint8_t raw[32];
    char tok[64];
    token_arg a;
    dt_status rc;
    if (out == NULL || out_len < 64)
        return dt_fail(err, DT_EARG, "token", "no room for the token");
    rc = store_user_get(node_store(n), name, &u, err);
    if (rc != DT_OK)
        return rc;
    randombytes_buf(raw, sizeof raw);
    memcpy(tok, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1);
    sodium_bin2base64(tok + 3, sizeof tok - 3, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    dt_sha256(tok, strlen(tok), a.hash);
    a.user = name;
    rc = in_txn(n, put_token, &a, err);
    if (rc == DT_OK)
        snprintf(out, out_len, "%s", tok);
    sodium_memzero(tok, sizeof tok);
    return rc;
}

/* A valid Argon2id string of a password nobody knows, made once, so that a
 * check for an unknown account does the same work as for a known one. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
    uint8_t raw[16];
    randombytes_buf(raw, sizeof raw);
    if (crypto_pwhash_str(dummy_hash, (const char *)raw, sizeof raw,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        dummy_hash[0] = '\0';
    sodium_memzero(raw, sizeof raw);
}

static void principal_user(const store_user *u, node_principal *who)
{
    memset(who, 0, sizeof *who);
    who->kind = u->is_peer ? NODE_PRINCIPAL_PEER : NODE_PRINCIPAL_USER;
    snprintf(who->name, sizeof who->name, "%s", u->name);
    who->max_marking = u->max_marking >= NODE_TLP_CLEAR && u->max_marking <= NODE_TLP_RED
                           ? (node_tlp)u->max_marking
                           : NODE_TLP_CLEAR;
}

/* Argon2id checks take ~64 MiB each: at most ARGON_PARALLEL run at once, so
 * a crowd of clients sending Basic credentials queues for the CPU instead of
 * exhausting memory. */
#define ARGON_PARALLEL 2
static pthread_mutex_t argon_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t argon_cond = PTHREAD_COND_INITIALIZER;
static int argon_running;

static bool verify_gated(const char *hash, const char *password)
{
    bool ok;
    pthread_mutex_lock(&argon_lock);
    while (argon_running >= ARGON_PARALLEL)
        pthread_cond_wait(&argon_cond, &argon_lock);
    argon_running++;
    pthread_mutex_unlock(&argon_lock);
    ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
    pthread_mutex_lock(&argon_lock);
    argon_running--;
    pthread_cond_signal(&argon_cond);
    pthread_mutex_unlock(&argon_lock);
    return ok;
}

/* Recently verified credentials, so a client sending Basic on every request
 * pays Argon2id once a minute, not per request. A slot holds a keyed
 * BLAKE2b of user and password under a random per-process key (never the
 * password), compared with sodium_memcmp. The account is still read on
 * every request, so a removed account or a changed marking takes effect at
 * once, and the stored hash is in the MAC. */
#define CACHE_SLOTS 256
#define CACHE_TTL_US (60LL * 1000000)
static struct {
    char user[64];
    uint8_t mac[32];
    int64_t expires_us;
} cache[CACHE_SLOTS];
static uint8_t cache_key[crypto_generichash_KEYBYTES];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void make_cache_key(void)
{
    randombytes_buf(cache_key, sizeof cache_key);
}

static size_t cache_slot(const char *user, const char *pw_hash, const char *password,
                         uint8_t mac[32])
{
    crypto_generichash_state st;
    uint8_t h[8];
    uint64_t v = 0;
    pthread_once(&cache_once, make_cache_key);
    crypto_generichash_init(&st, cache_key, sizeof cache_key, 32);
    crypto_generichash_update(&st, (const uint8_t *)user, strlen(user) + 1);
    crypto_generichash_update(&st, (const uint8_t *)pw_hash, strlen(pw_hash) + 1);
    crypto_generichash_update(&st, (const uint8_t *)password, strlen(password));
    crypto_generichash_final(&st, mac, 32);
    crypto_generichash(h, sizeof h, (const uint8_t *)user, strlen(user), NULL, 0);
    memcpy(&v, h, sizeof v);
    return (size_t)(v % CACHE_SLOTS);
}

dt_status node_auth_basic(node *n, const char *user, const char *password, node_principal *who,
                          dt_err *err)
{
    store_user u;
    dt_err lookup = {0};
    uint8_t mac[32];
    size_t slot;
    bool hit;
    dt_status rc;
    if (user == NULL || password == NULL || strlen(user) >= sizeof u.name)
        return dt_fail(err, DT_EDENIED, "auth", "wrong user name or password");
    rc = store_user_get(node_store(n), user, &u, &lookup);
    if (rc != DT_OK && rc != DT_ENOTFOUND)
        return dt_fail(err, rc, "auth", "cannot read accounts: %s", lookup.msg);
    if (rc == DT_ENOTFOUND) {
        pthread_once(&dummy_once, make_dummy);
        /* The same work as a real check; the result cannot matter. */
        (void)verify_gated(dummy_hash, password);
        return dt_fail(err, DT_EDENIED, "auth", "wrong user name or password");
    }
    u.pw_hash[sizeof u.pw_hash - 1] = '\0';
    /* The stored hash is part of the cache MAC: a new password (or another
     * node's account of the same name) never matches an old entry. */
    slot = cache_slot(user, u.pw_hash, password, mac);
    pthread_mutex_lock(&cache_lock);
    hit = strcmp(cache[slot].user, user) == 0 && cache[slot].expires_us > dt_now_us() &&
          sodium_memcmp(cache[slot].mac, mac, sizeof mac) == 0;
    pthread_mutex_unlock(&cache_lock);
    if (!hit && !verify_gated(u.pw_hash, password))
        return dt_fail(err, DT_EDENIED, "auth", "wrong user name or password");
    if (!hit) {
        pthread_mutex_lock(&cache_lock);
        snprintf(cache[slot].user, sizeof cache[slot].user, "%s", user);
        memcpy(cache[slot].mac, mac, sizeof mac);
        cache[slot].expires_us = dt_now_us() + CACHE_TTL_US;
        pthread_mutex_unlock(&cache_lock);
    }
    sodium_memzero(mac, sizeof mac);
    principal_user(&u, who);
    return DT_OK;
}

dt_status node_auth_token(node *n, const char *token, node_principal *who, dt_err *err)
{
    uint8_t h[32];
    char name[64];
    store_user u;
    dt_err lookup = {0};
    dt_status rc;
    if (token == NULL || strlen(token) > 256)
        return dt_fail(err, DT_EDENIED, "auth", "invalid token");
    dt_sha256(token, strlen(token), h);
    rc = store_token_user(node_store(n), h, name, &lookup);
    if (rc == DT_OK)
        rc = store_user_get(node_store(n), name, &u, &lookup);
    if (rc == DT_ENOTFOUND)
        return dt_fail(err, DT_EDENIED, "auth", "invalid token");
    if (rc != DT_OK)
        return dt_fail(err, rc, "auth", "cannot read accounts: %s", lookup.msg);
    principal_user(&u, who);
    return DT_OK;
}

typedef struct grant_arg {
    const char *user, *collection;
    unsigned perms;
} grant_arg;

static dt_status put_grant(store_txn *t, const void *arg, dt_err *err)
{
    const grant_arg *a = arg;
    return store_grant_put(t, a->user, a->collection, a->perms, err);
}

dt_status node_grant(node *n, const char *user, const char *collection, unsigned perms,
                     dt_err *err)
{
    store_user u;
    store_collection c;
    grant_arg a = {user, collection, perms};
    dt_status rc;
    if (perms & ~(unsigned)(STORE_PERM_READ | STORE_PERM_WRITE))
        return dt_fail(err, DT_EARG, "grant", "bad permission bits");
    rc = store_user_get(node_store(n), user, &u, err);
    if (rc == DT_ENOTFOUND && err)
        dt_err_prefix(err, "user %s", user);
    if (rc != DT_OK)
        return rc;
    rc = store_collection_get(node_store(n), NULL, collection, &c, err);
    if (rc == DT_ENOTFOUND && err)
        dt_err_prefix(err, "collection %s", collection);
    if (rc != DT_OK)
        return rc;
    return in_txn(n, put_grant, &a, err);
}

static dt_status put_collection(store_txn *t, const void *arg, dt_err *err)
{
    return store_collection_put(t, arg, err);
}

dt_status node_collection_add(node *n, const char *id, const char *title, const char *description,
                              dt_err *err)
{
    store_collection c;
    dt_status rc;
    if (!name_ok(id, sizeof c.id))
        return dt_fail(err, DT_EINVALID, "collection",
                       "collection ids are 1-127 letters, digits, '.', '_' or '-'");
    if (title == NULL || title[0] == '\0')
        return dt_fail(err, DT_EINVALID, id, "a collection needs a title");
    rc = store_collection_get(node_store(n), NULL, id, &c, NULL);
    if (rc == DT_OK)
        return dt_fail(err, DT_ECONFLICT, id, "collection already exists");
    if (rc != DT_ENOTFOUND)
        return store_collection_get(node_store(n), NULL, id, &c, err);
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.title, sizeof c.title, "%s", title);
    snprintf(c.description, sizeof c.description, "%s", description ? description : "");
    snprintf(c.api_root, sizeof c.api_root, "%s", node_conf(n)->api_root);
    c.created = dt_now_us();
    return in_txn(n, put_collection, &c, err);
}
