/* store: where a node keeps its objects, ledger, accounts and state.
 *
 * A table of operations (store_ops) with one implementation per backend
 * (SQLite now; PostgreSQL later, behind the same table). Callers use the
 * store_* wrappers below, never the table. Every write happens inside a
 * transaction (store_begin .. store_commit); reads take the store and an
 * optional transaction: with a transaction they see its uncommitted writes,
 * without one they read the last committed state on a connection of their
 * own (SQLite WAL lets readers run beside the single writer).
 *
 * Versions: an object version is (id, modified). Several versions of one id
 * coexist; putting an identical version again is a no-op (DT_OK with
 * *added == false); putting a different body under an existing (id,
 * modified) is DT_ECONFLICT. SCOs and marking definitions without
 * `modified` use their `created` or, failing that, the date they were
 * first added, as STIX 2.1 section 3.6 and TAXII 2.1 section 3.4.1 say.
 * date_added is assigned by the store in microseconds, strictly increasing
 * per collection, so paging by (date_added, rowid) never skips or repeats.
 *
 * Thread safety: a store may be used from many threads at once; a
 * transaction belongs to the thread that began it, and only one write
 * transaction is open at a time (store_begin waits for the previous one). */
#ifndef DETENTE_STORE_H
#define DETENTE_STORE_H

#include "core/core.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct store store;
typedef struct store_txn store_txn;

typedef struct store_config {
    const char *backend; /* "sqlite" (default) or "postgres" */
    const char *path;    /* sqlite: database file */
    const char *conninfo;/* postgres: libpq connection string */
    bool readonly;
    int busy_timeout_ms; /* wait this long for another process's lock; 0: 10 s */
} store_config;

/* One stored object version. Strings are owned by the row (freed by
 * store_row_release / store_page_release). */
typedef struct store_row {
    int64_t rowid;
    char *collection;
    char *id;
    char *type;
    char *spec_version;   /* "2.1" when the object had none */
    char *modified;       /* canonical: YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ (9 digits) */
    char *modified_text;  /* as the object wrote it (or created/date_added) */
    int64_t date_added;   /* microseconds since the epoch */
    char *json;           /* the object, as stored; NULL once deleted, or if not asked for */
    size_t json_len;
    uint8_t sha256[32];   /* SHA-256 of the JCS bytes of the object */
    char *signer;         /* identity id that signed it, or NULL (unsigned) */
    int marking;          /* effective TLP level (node's scale, see node/), -1 unknown */
    int64_t leaf_index;   /* ledger leaf that recorded this version, -1 none */
    bool revoked;
    bool deleted;         /* content erased; a tombstone leaf records it */
} store_row;

/* What put_version stores. Borrowed for the call. */
typedef struct store_put {
    const char *collection;
    const char *id;
    const char *type;
    const char *spec_version;
    const char *modified;      /* canonical 9-digit form */
    const char *modified_text;
    const char *json;          /* JCS bytes of the object */
    size_t json_len;
    const uint8_t *sha256;     /* 32 bytes */
    const char *signer;        /* may be NULL */
    int marking;
    int64_t leaf_index;
    bool revoked;
} store_put;

typedef enum store_version_sel {
    STORE_VER_LAST = 1,   /* the newest version of each id (TAXII default) */
    STORE_VER_FIRST = 2,
    STORE_VER_ALL = 4,
    STORE_VER_AT = 8,     /* the versions listed in at[] */
} store_version_sel;

/* Filters are ANDed; within a list they are ORed. Everything borrowed. */
typedef struct store_query {
    const char *collection;        /* required */
    const char *const *ids;        size_t id_count;
    const char *const *types;      size_t type_count;
    const char *const *spec_versions; size_t spec_version_count;
    unsigned versions;             /* store_version_sel bits; 0 means LAST. LAST and
                                      FIRST are chosen among live (not erased)
                                      versions, so tombstones show only with ALL/AT */
    const char *const *at;         size_t at_count; /* canonical modified values */
    int64_t added_after;           /* exclusive, microseconds; 0 for none */
    int64_t after_date_added;      /* paging cursor: strictly after (date_added, rowid) */
    int64_t after_rowid;
    int max_marking;               /* rows with marking above are skipped; -1 no limit */
    size_t limit;                  /* rows per page, 1..STORE_MAX_PAGE */
    bool with_json;                /* false for manifests */
    bool include_deleted;          /* tombstoned rows (json NULL) too */
    /* Relay limit (TLP between parties): when set, rows NOT signed by
     * own_signer must also have marking <= max_marking_foreign. */
    bool foreign_limit;
    int max_marking_foreign;
    const char *own_signer;
} store_query;

#define STORE_MAX_PAGE 10000

typedef struct store_page {
    store_row *rows;
    size_t count;
    bool more;                     /* another page exists after the last row */
} store_page;

typedef struct store_collection {
    char id[128];
    char title[256];
    char description[512];
    char api_root[64];
    int64_t created;               /* microseconds */
} store_collection;

typedef struct store_user {
    char name[64];
    char pw_hash[160];             /* crypto_pwhash_STRBYTES (128) fits */
    int max_marking;
    int64_t created;
    bool is_peer;                  /* the account of a peer node (TLP relay rules) */
} store_user;

typedef enum store_perm { STORE_PERM_READ = 1, STORE_PERM_WRITE = 2 } store_perm;

typedef struct store_counts {
    uint64_t objects;              /* rows (all versions, all collections) */
    uint64_t ids;                  /* distinct object ids */
    uint64_t collections;
    uint64_t ledger_leaves;
    uint64_t users;
} store_counts;

typedef struct store_ops {
    const char *name;
    unsigned version;
    dt_status (*open)(const store_config *cfg, store **out, dt_err *err);
    void (*close)(store *s);

    dt_status (*begin)(store *s, store_txn **out, dt_err *err);
    dt_status (*commit)(store_txn *t, dt_err *err);
    void (*rollback)(store_txn *t);

    /* collections */
    dt_status (*collection_put)(store_txn *t, const store_collection *c, dt_err *err);
    dt_status (*collection_get)(store *s, store_txn *t, const char *id, store_collection *out,
                                dt_err *err);
    dt_status (*collection_list)(store *s, store_collection **out, size_t *count, dt_err *err);

    /* object versions */
    dt_status (*put_version)(store_txn *t, const store_put *p, int64_t *date_added, bool *added,
                             dt_err *err);
    dt_status (*get_version)(store *s, store_txn *t, const char *collection, const char *id,
                             const char *modified /* NULL: newest */, store_row *out, dt_err *err);
    dt_status (*query)(store *s, const store_query *q, store_page *out, dt_err *err);
    /* Erase the content of every version of id in collection (or only the
     * one at `modified`), keeping the row as a tombstone. *count erased. */
    dt_status (*erase)(store_txn *t, const char *collection, const char *id, const char *modified,
                       size_t *count, dt_err *err);
    dt_status (*counts)(store *s, store_counts *out, dt_err *err);

    /* ledger: leaves in order, and complete subtree hashes by (level, index) */
    dt_status (*leaf_append)(store_txn *t, const uint8_t hash[32], const char *leaf,
                             size_t leaf_len, uint64_t *index, dt_err *err);
    dt_status (*leaf_get)(store *s, store_txn *t, uint64_t index, uint8_t hash[32], char **leaf,
                          size_t *leaf_len, dt_err *err);
    dt_status (*leaf_find)(store *s, const uint8_t hash[32], uint64_t *index, dt_err *err);
    dt_status (*ledger_size)(store *s, store_txn *t, uint64_t *size, dt_err *err);
    dt_status (*node_put)(store_txn *t, unsigned level, uint64_t index, const uint8_t hash[32],
                          dt_err *err);
    dt_status (*node_get)(store *s, store_txn *t, unsigned level, uint64_t index,
                          uint8_t hash[32], dt_err *err);
    /* signed tree heads this node issued, by tree size (JSON text) */
    dt_status (*sth_put)(store_txn *t, uint64_t tree_size, const char *json, dt_err *err);
    dt_status (*sth_get)(store *s, uint64_t tree_size /* UINT64_MAX: latest */, char **json,
                         dt_err *err);

    /* accounts */
    dt_status (*user_put)(store_txn *t, const store_user *u, dt_err *err);
    dt_status (*user_get)(store *s, const char *name, store_user *out, dt_err *err);
    dt_status (*user_remove)(store_txn *t, const char *name, dt_err *err);
    dt_status (*user_list)(store *s, store_user **out, size_t *count, dt_err *err);
    dt_status (*token_put)(store_txn *t, const uint8_t token_hash[32], const char *user,
                           dt_err *err);
    dt_status (*token_user)(store *s, const uint8_t token_hash[32], char user[64], dt_err *err);
    dt_status (*grant_put)(store_txn *t, const char *user, const char *collection,
                           unsigned perms /* store_perm bits; 0 removes */, dt_err *err);
    dt_status (*grant_get)(store *s, const char *user, const char *collection, unsigned *perms,
                           dt_err *err);

    /* small named values: node state, peers, sync cursors, status resources */
    dt_status (*kv_put)(store_txn *t, const char *key, const char *value /* NULL deletes */,
                        dt_err *err);
    dt_status (*kv_get)(store *s, store_txn *t, const char *key, char **value, dt_err *err);
    /* keys starting with prefix, in order, at most limit; keys and values
     * are owned by the caller (free each with dt_free, then the arrays). */
    dt_status (*kv_list)(store *s, const char *prefix, size_t limit, char ***keys, char ***values,
                         size_t *count, dt_err *err);
} store_ops;

struct store {
    const store_ops *ops;
};
struct store_txn {
    store *s;
};

extern const store_ops store_sqlite_ops;

/* Open by cfg->backend. */
dt_status store_open(const store_config *cfg, store **out, dt_err *err);
void store_close(store *s);

void store_row_release(store_row *r);
void store_page_release(store_page *p);

/* Thin wrappers over the ops table. Each asserts its store/txn and forwards.
 * Reads that take `store_txn *t` may pass NULL (last committed state, on a
 * reader connection) or an open transaction (its uncommitted writes too).
 * Errors common to all: DT_EDB (the database failed; the message names the
 * file and what the backend said), DT_ENOMEM, DT_EARG (caller bug). */

/* Begin the single write transaction; blocks while another one is open
 * (a thread must not begin twice). DT_EDENIED on a read-only store. */
dt_status store_begin(store *s, store_txn **out, dt_err *err);
/* Make the writes durable (synchronous) and end t. t is freed in every
 * case; on failure nothing of t was committed. */
dt_status store_commit(store_txn *t, dt_err *err);
/* Drop every write of t and free it. */
void store_rollback(store_txn *t);

/* Create a collection or update its title/description/api_root (created
 * kept; 0 means now). DT_ELIMIT when a field does not fit its array. */
dt_status store_collection_put(store_txn *t, const store_collection *c, dt_err *err);
/* One collection by id. DT_ENOTFOUND. */
dt_status store_collection_get(store *s, store_txn *t, const char *id, store_collection *out,
                               dt_err *err);
/* Every collection, ordered by id; *out freed by the caller with dt_free. */
dt_status store_collection_list(store *s, store_collection **out, size_t *count, dt_err *err);

/* Store one version in an existing collection (DT_ENOTFOUND otherwise).
 * A version erased earlier stays erased when the same body comes again.
 * Identical sha256 already present: DT_OK, *added false, *date_added the
 * stored one. Different body at the same (collection, id, modified):
 * DT_ECONFLICT. Otherwise *added true and *date_added the new value. */
dt_status store_put_version(store_txn *t, const store_put *p, int64_t *date_added, bool *added,
                            dt_err *err);
/* One version (modified NULL: the newest live one, else the newest
 * tombstone), json included. *out released with store_row_release.
 * DT_ENOTFOUND. */
dt_status store_get_version(store *s, store_txn *t, const char *collection, const char *id,
                            const char *modified, store_row *out, dt_err *err);
/* (store_query is the filter type, hence _page.) One page of rows matching q, ordered by (date_added, rowid); out->more
 * when another page follows. Release with store_page_release. Reads the
 * last committed state. DT_EARG for a bad limit, DT_ELIMIT for lists
 * longer than STORE_MAX_LIST. */
dt_status store_query_page(store *s, const store_query *q, store_page *out, dt_err *err);
/* See store_ops.erase. DT_ENOTFOUND when no such version exists at all;
 * versions already erased count 0. */
dt_status store_erase(store_txn *t, const char *collection, const char *id, const char *modified,
                      size_t *count, dt_err *err);
/* (store_counts is the result type, hence _get.) Totals (objects and ids scan the table: for status pages, not hot paths). */
dt_status store_counts_get(store *s, store_counts *out, dt_err *err);

/* Append the next ledger leaf; *index is its 0-based position. DT_ECONFLICT
 * when a leaf with the same hash exists. */
dt_status store_leaf_append(store_txn *t, const uint8_t hash[32], const char *leaf,
                            size_t leaf_len, uint64_t *index, dt_err *err);
/* Leaf at index: hash and (if leaf != NULL) its text, freed with dt_free.
 * DT_ENOTFOUND past the end. */
dt_status store_leaf_get(store *s, store_txn *t, uint64_t index, uint8_t hash[32], char **leaf,
                         size_t *leaf_len, dt_err *err);
/* Index of the leaf with this hash. DT_ENOTFOUND. */
dt_status store_leaf_find(store *s, const uint8_t hash[32], uint64_t *index, dt_err *err);
/* Number of leaves (O(1)). */
dt_status store_ledger_size(store *s, store_txn *t, uint64_t *size, dt_err *err);
/* Record the hash of the complete subtree (level, index). Storing the same
 * hash again is DT_OK; a different one is DT_ECONFLICT. */
dt_status store_node_put(store_txn *t, unsigned level, uint64_t index, const uint8_t hash[32],
                         dt_err *err);
/* DT_ENOTFOUND when that subtree was never stored. */
dt_status store_node_get(store *s, store_txn *t, unsigned level, uint64_t index,
                         uint8_t hash[32], dt_err *err);
/* Keep the STH issued for tree_size (replaces an earlier one of that size). */
dt_status store_sth_put(store_txn *t, uint64_t tree_size, const char *json, dt_err *err);
/* STH JSON for tree_size (UINT64_MAX: the latest); *json freed with
 * dt_free. DT_ENOTFOUND. */
dt_status store_sth_get(store *s, uint64_t tree_size, char **json, dt_err *err);

/* Create or update a user (tokens and grants are kept). */
dt_status store_user_put(store_txn *t, const store_user *u, dt_err *err);
/* DT_ENOTFOUND. */
dt_status store_user_get(store *s, const char *name, store_user *out, dt_err *err);
/* Remove a user with its tokens and grants. DT_ENOTFOUND. */
dt_status store_user_remove(store_txn *t, const char *name, dt_err *err);
/* Every user by name; *out freed by the caller with dt_free. */
dt_status store_user_list(store *s, store_user **out, size_t *count, dt_err *err);
/* Bind a token hash to an existing user (DT_ENOTFOUND otherwise). */
dt_status store_token_put(store_txn *t, const uint8_t token_hash[32], const char *user,
                          dt_err *err);
/* The user owning a token hash. DT_ENOTFOUND. */
dt_status store_token_user(store *s, const uint8_t token_hash[32], char user[64], dt_err *err);
/* Set a user's permissions on a collection (0 removes). DT_ENOTFOUND for
 * an unknown user. */
dt_status store_grant_put(store_txn *t, const char *user, const char *collection, unsigned perms,
                          dt_err *err);
/* A user's permissions on a collection; 0 (and DT_OK) when none. */
dt_status store_grant_get(store *s, const char *user, const char *collection, unsigned *perms,
                          dt_err *err);

/* Set (value NULL: delete) a named value. */
dt_status store_kv_put(store_txn *t, const char *key, const char *value, dt_err *err);
/* *value freed with dt_free; DT_ENOTFOUND (and *value NULL) when absent. */
dt_status store_kv_get(store *s, store_txn *t, const char *key, char **value, dt_err *err);
/* Keys starting with prefix in byte order, at most limit (0: no limit);
 * each string and both arrays freed by the caller with dt_free (or
 * store_kv_list_free). Uses a range scan on the key index. */
dt_status store_kv_list(store *s, const char *prefix, size_t limit, char ***keys, char ***values,
                        size_t *count, dt_err *err);
void store_kv_list_free(char **keys, char **values, size_t count);

/* Longest id/type/spec_version/at list a query takes. */
#define STORE_MAX_LIST 1000

/* SQLite backend only: the EXPLAIN QUERY PLAN text of the statement
 * store_query would run for q, one line per plan step (for tests and
 * benchmarks that check a page uses the index). *plan freed with dt_free. */
dt_status store_sqlite_query_plan(store *s, const store_query *q, char **plan, dt_err *err);

#endif
