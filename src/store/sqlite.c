/* store/sqlite: the SQLite backend of store_ops.
 *
 * Durability and concurrency: the file runs in WAL mode with
 * synchronous=FULL, so a commit that returned DT_OK survives a power cut,
 * and readers never block the writer. There is exactly one writer
 * connection, guarded by a mutex that store_begin takes and commit/rollback
 * release (BEGIN IMMEDIATE, so another process holding the write lock is
 * waited for by the busy timeout instead of failing at the first write).
 * Reads without a transaction borrow a connection from a small pool of
 * readers (opened on demand) and see the last committed state; reads with a
 * transaction run on the writer and see its uncommitted rows. Every
 * connection caches its prepared statements by SQL text.
 *
 * Schema: versioned with PRAGMA user_version and the `migrations` array
 * below; each missing step runs in one transaction at open. A database
 * newer than this binary is refused with a message saying so.
 *
 * Paging: objects(collection, date_added) is indexed and date_added is
 * strictly increasing per collection (max(now, last + 1), the last value
 * kept in collections.last_date_added), so a page is one index range scan
 * starting after the (date_added, rowid) cursor: O(page), whatever the
 * collection's size, and rows appended meanwhile sort after every cursor.
 * TAXII version selection (TAXII 2.1 section 3.4.2, match[version]) uses
 * two flags kept on every row, is_last and is_first, recomputed for one
 * id whenever a version of it is added or erased (over live rows), so
 * "last" and "first" are filters on the page scan instead of a GROUP BY.
 *
 * Checkpoints run off the writer's path: the writer's WAL hook (called
 * after each commit with the WAL's size) wakes a thread that copies the WAL
 * back into the database file on a connection of its own, PASSIVE (it
 * never blocks the writer or readers), so a commit costs only its WAL
 * append and sync, and pages rewritten by many commits are copied once.
 * Under a writer that never pauses, the thread never quite catches up and
 * the WAL would only grow: past CKPT_RESTART_PAGES the writer itself,
 * between two transactions, copies what the thread left (little), so the
 * next transaction writes the WAL from its start again. Without the
 * thread (it could not start) SQLite's own checkpoint after commit stays.
 * Durability is the commit's WAL sync either way.
 */
#include "store/store.h"

#include <assert.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#define POOL_SIZE 4
#define CACHE_SIZE 48
#define BUSY_TIMEOUT_MS 10000
#define CKPT_PAGES 4096          /* WAL pages (4 KiB) that wake the checkpoint thread */
#define CKPT_RESTART_PAGES 16384 /* WAL pages past which the writer catches up itself */

typedef struct cached_stmt {
    char *sql;
    sqlite3_stmt *st;
} cached_stmt;

typedef struct conn {
    sqlite3 *db;
    cached_stmt cache[CACHE_SIZE];
    size_t n;
    size_t evict;
    bool busy;
} conn;

typedef struct sq_store {
    store base;
    char *path;
    bool readonly;
    int busy_ms;
    conn writer;
    pthread_mutex_t wmu;   /* held from begin to commit/rollback */
    pthread_mutex_t pmu;   /* guards readers[] */
    pthread_cond_t pcv;
    conn readers[POOL_SIZE];
    struct {                 /* the checkpoint thread */
        sqlite3 *db;
        pthread_t th;
        bool running, stop;
        int pages;           /* the WAL's size after the last commit, 0 once seen */
        int next_wake;       /* WAL size that wakes the thread next (writer only) */
        pthread_mutex_t mu;
        pthread_cond_t cv;
    } ckpt;
} sq_store;

/* A write transaction. It is the only writer while it lives, so what it
 * read once it may count on: the ledger's next index and the last
 * date_added of the collection it last wrote to (saving a lookup per put). */
typedef struct sq_txn {
    store_txn base;
    sq_store *st;
    bool has_next_leaf;
    uint64_t next_leaf;
    char last_collection[128];
    int64_t last_date_added;  /* of last_collection, when it is not empty */
} sq_txn;

/* ---- schema ---------------------------------------------------------- */

static const char *const migrations[] = {
    /* 1: the initial schema */
    "CREATE TABLE collections("
    "  id TEXT PRIMARY KEY,"
    "  title TEXT NOT NULL,"
    "  description TEXT NOT NULL,"
    "  api_root TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  last_date_added INTEGER NOT NULL DEFAULT 0"
    ") WITHOUT ROWID;"
    "CREATE TABLE objects("
    "  rowid INTEGER PRIMARY KEY,"
    "  collection TEXT NOT NULL REFERENCES collections(id),"
    "  id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  spec_version TEXT NOT NULL,"
    "  modified TEXT NOT NULL,"
    "  modified_text TEXT NOT NULL,"
    "  date_added INTEGER NOT NULL,"
    "  json TEXT,"
    "  sha256 BLOB NOT NULL,"
    "  signer TEXT,"
    "  marking INTEGER NOT NULL,"
    "  leaf_index INTEGER NOT NULL,"
    "  revoked INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL DEFAULT 0,"
    "  is_last INTEGER NOT NULL DEFAULT 0,"
    "  is_first INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE UNIQUE INDEX objects_version ON objects(collection, id, modified);"
    /* the rowid is the implicit last column of every index */
    "CREATE INDEX objects_page ON objects(collection, date_added);"
    "CREATE INDEX objects_type ON objects(collection, type, date_added);"
    "CREATE INDEX objects_id ON objects(id);"
    "CREATE TABLE leaves("
    "  idx INTEGER PRIMARY KEY,"
    "  hash BLOB NOT NULL,"
    "  leaf TEXT NOT NULL"
    ");"
    "CREATE UNIQUE INDEX leaves_hash ON leaves(hash);"
    "CREATE TABLE nodes("
    "  level INTEGER NOT NULL,"
    "  idx INTEGER NOT NULL,"
    "  hash BLOB NOT NULL,"
    "  PRIMARY KEY(level, idx)"
    ") WITHOUT ROWID;"
    "CREATE TABLE sths("
    "  tree_size INTEGER PRIMARY KEY,"
    "  json TEXT NOT NULL"
    ");"
    "CREATE TABLE users("
    "  name TEXT PRIMARY KEY,"
    "  pw_hash TEXT NOT NULL,"
    "  max_marking INTEGER NOT NULL,"
    "  created INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE tokens("
    "  hash BLOB PRIMARY KEY,"
    "  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE"
    ") WITHOUT ROWID;"
    "CREATE INDEX tokens_user ON tokens(user);"
    "CREATE TABLE grants("
    "  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
    "  collection TEXT NOT NULL,"
    "  perms INTEGER NOT NULL,"
    "  PRIMARY KEY(user, collection)"
    ") WITHOUT ROWID;"
    "CREATE TABLE kv("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ") WITHOUT ROWID;",
    /* 2: accounts that belong to peer nodes (TLP relay rules apply to them) */
    "ALTER TABLE users ADD COLUMN is_peer INTEGER NOT NULL DEFAULT 0;",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* ---- errors and statements ------------------------------------------- */

static dt_status db_fail(const sq_store *st, sqlite3 *db, int rc, const char *what, dt_err *err)
{
    int prim = rc & 0xff;
    const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (prim == SQLITE_NOMEM)
        return dt_fail(err, DT_ENOMEM, "store", "%s: %s: out of memory", st->path, what);
    if (prim == SQLITE_CONSTRAINT)
        return dt_fail(err, DT_ECONFLICT, "store", "%s: %s", what, msg);
    return dt_fail(err, DT_EDB, "store", "%s: %s: %s", st->path, what, msg);
}

static sq_store *SQ(store *s)
{
    assert(s != NULL && s->ops == &store_sqlite_ops);
    return (sq_store *)s;
}

static sq_txn *TX(store_txn *t)
{
    assert(t != NULL && t->s != NULL && t->s->ops == &store_sqlite_ops);
    return (sq_txn *)t;
}

static void conn_release(conn *c)
{
    for (size_t i = 0; i < c->n; i++) {
        sqlite3_finalize(c->cache[i].st);
        dt_free(c->cache[i].sql);
    }
    c->n = 0;
    c->evict = 0;
    if (c->db != NULL)
        sqlite3_close_v2(c->db);
    c->db = NULL;
}

/* Reset a statement for reuse; the cache keeps it. Accepts NULL. */
static void done(sqlite3_stmt *s)
{
    if (s != NULL) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
}

/* Binding formats: 't' const char * (NULL binds NULL), 'T' const char * +
 * size_t length, 'i' int64_t, 'h' const uint8_t * (32 bytes). Bound
 * values are borrowed until done(). */
static int bind_v(sqlite3_stmt *s, const char *fmt, va_list ap)
{
    int rc = SQLITE_OK;
    for (int i = 1; *fmt != '\0' && rc == SQLITE_OK; fmt++, i++) {
        switch (*fmt) {
        case 't': {
            const char *v = va_arg(ap, const char *);
            rc = v != NULL ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
            break;
        }
        case 'T': {
            const char *v = va_arg(ap, const char *);
            size_t n = va_arg(ap, size_t);
            rc = sqlite3_bind_text64(s, i, v, n, SQLITE_STATIC, SQLITE_UTF8);
            break;
        }
        case 'i':
            rc = sqlite3_bind_int64(s, i, va_arg(ap, int64_t));
            break;
        case 'h':
            rc = sqlite3_bind_blob(s, i, va_arg(ap, const uint8_t *), 32, SQLITE_STATIC);
            break;
        default:
            assert(!"bad bind format");
            rc = SQLITE_MISUSE;
        }
    }
    return rc;
}

/* A cached prepared statement for sql on c. The statement is valid until
 * the next stmt_get on c (the cache may evict), so finish one before
 * asking for the next. */
static dt_status stmt_get(sq_store *st, conn *c, const char *sql, sqlite3_stmt **out, dt_err *err)
{
    sqlite3_stmt *s = NULL;
    char *copy;
    size_t slot;
    int rc;
    *out = NULL;
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->cache[i].sql, sql) == 0) {
            *out = c->cache[i].st;
            return DT_OK;
        }
    }
    rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
    if (rc != SQLITE_OK)
        return db_fail(st, c->db, rc, "prepare", err);
    copy = dt_strdup(sql);
    if (copy == NULL) {
        sqlite3_finalize(s);
        return dt_fail(err, DT_ENOMEM, "store", "out of memory caching a statement");
    }
    if (c->n < CACHE_SIZE) {
        slot = c->n++;
    } else {
        slot = c->evict;
        c->evict = (c->evict + 1) % CACHE_SIZE;
        sqlite3_finalize(c->cache[slot].st);
        dt_free(c->cache[slot].sql);
    }
    c->cache[slot].sql = copy;
    c->cache[slot].st = s;
    *out = s;
    return DT_OK;
}

static dt_status prep(sq_store *st, conn *c, const char *sql, sqlite3_stmt **out, dt_err *err,
                      const char *fmt, ...)
{
    va_list ap;
    int rc;
    dt_status drc = stmt_get(st, c, sql, out, err);
    if (drc != DT_OK)
        return drc;
    va_start(ap, fmt);
    rc = bind_v(*out, fmt, ap);
    va_end(ap);
    if (rc != SQLITE_OK) {
        done(*out);
        *out = NULL;
        return db_fail(st, c->db, rc, "bind", err);
    }
    return DT_OK;
}

/* Step once: *row true on SQLITE_ROW, false on SQLITE_DONE. */
static dt_status step(sq_store *st, conn *c, sqlite3_stmt *s, bool *row, const char *what,
                      dt_err *err)
{
    int rc = sqlite3_step(s);
    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return DT_OK;
    return db_fail(st, c->db, rc, what, err);
}

/* Run a statement without result rows; *changes (if not NULL) rows changed. */
static dt_status run(sq_store *st, conn *c, const char *what, int *changes, dt_err *err,
                     const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *s;
    va_list ap;
    int rc;
    dt_status drc = stmt_get(st, c, sql, &s, err);
    if (drc != DT_OK)
        return drc;
    va_start(ap, fmt);
    rc = bind_v(s, fmt, ap);
    va_end(ap);
    if (rc == SQLITE_OK) {
        do
            rc = sqlite3_step(s);
        while (rc == SQLITE_ROW);
    }
    if (rc != SQLITE_DONE) {
        drc = db_fail(st, c->db, rc, what, err);
        done(s);
        return drc;
    }
    if (changes != NULL)
        *changes = sqlite3_changes(c->db);
    done(s);
    return DT_OK;
}

static dt_status exec_plain(sq_store *st, conn *c, const char *sql, const char *what, dt_err *err)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_fail(st, c->db, rc, what, err);
    return DT_OK;
}

/* Copy a text column (NULL stays NULL). False when out of memory. */
static bool col_dup(sqlite3_stmt *s, int i, char **out, size_t *len)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    size_t n = (size_t)sqlite3_column_bytes(s, i);
    *out = NULL;
    if (len != NULL)
        *len = 0;
    if (t == NULL)
        return sqlite3_column_type(s, i) == SQLITE_NULL;
    *out = dt_strndup((const char *)t, n);
    if (len != NULL)
        *len = n;
    return *out != NULL;
}

static bool col_copy(sqlite3_stmt *s, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    size_t n = (size_t)sqlite3_column_bytes(s, i);
    if (t == NULL)
        n = 0;
    if (n >= cap)
        return false;
    if (n)
        memcpy(out, t, n);
    out[n] = '\0';
    return true;
}

static void col_hash(sqlite3_stmt *s, int i, uint8_t out[32])
{
    const void *b = sqlite3_column_blob(s, i);
    if (b != NULL && sqlite3_column_bytes(s, i) == 32)
        memcpy(out, b, 32);
    else
        memset(out, 0, 32);
}

/* ---- connections ----------------------------------------------------- */

static dt_status conn_open(sq_store *st, conn *c, int flags, bool writer, dt_err *err)
{
    int rc;
    memset(c, 0, sizeof *c);
    rc = sqlite3_open_v2(st->path, &c->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        dt_status drc = db_fail(st, c->db, rc, "open", err);
        conn_release(c);
        return drc;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, st->busy_ms);
    if (writer && !st->readonly) {
        sqlite3_stmt *s = NULL;
        /* journal_mode answers with the mode in force: check it took */
        rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(s);
        if (rc != SQLITE_ROW) {
            dt_status drc = db_fail(st, c->db, rc, "open", err);
            sqlite3_finalize(s);
            conn_release(c);
            return drc;
        }
        if (sqlite3_stricmp((const char *)sqlite3_column_text(s, 0), "wal") != 0) {
            sqlite3_finalize(s);
            conn_release(c);
            return dt_fail(err, DT_EDB, "store", "%s: cannot switch the database to WAL mode",
                           st->path);
        }
        sqlite3_finalize(s);
    }
    /* the writer walks four object indexes and the ledger's per insert: a
     * page cache of up to 64 MiB (grown only as used) keeps their upper
     * levels in memory instead of re-reading them from the OS per batch */
    if (exec_plain(st, c,
                   writer ? "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                            "PRAGMA cache_size=-65536;"
                          : "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                   "open", err) != DT_OK) {
        conn_release(c);
        return err != NULL ? err->code : DT_EDB;
    }
    return DT_OK;
}

static dt_status user_version(sq_store *st, conn *c, int *v, dt_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        dt_status drc = db_fail(st, c->db, rc, "read schema version", err);
        sqlite3_finalize(s);
        return drc;
    }
    *v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return DT_OK;
}

static dt_status migrate(sq_store *st, dt_err *err)
{
    conn *c = &st->writer;
    int v;
    dt_status rc = user_version(st, c, &v, err);
    if (rc != DT_OK)
        return rc;
    if (v > SCHEMA_VERSION)
        return dt_fail(err, DT_EDB, "store",
                       "%s: database schema version %d is newer than this detente knows "
                       "(%d): use a newer detente",
                       st->path, v, SCHEMA_VERSION);
    if (v == SCHEMA_VERSION)
        return DT_OK;
    if (st->readonly)
        return dt_fail(err, DT_EDB, "store",
                       "%s: database schema version %d needs an upgrade to %d: open it "
                       "read-write once",
                       st->path, v, SCHEMA_VERSION);
    rc = exec_plain(st, c, "BEGIN IMMEDIATE", "migrate", err);
    if (rc != DT_OK)
        return rc;
    rc = user_version(st, c, &v, err); /* another process may have migrated */
    for (; rc == DT_OK && v < SCHEMA_VERSION; v++) {
        char sql[64];
        char what[48];
        snprintf(what, sizeof what, "schema step %d", v + 1);
        rc = exec_plain(st, c, migrations[v], what, err);
        if (rc != DT_OK)
            break;
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v + 1);
        rc = exec_plain(st, c, sql, what, err);
    }
    if (rc == DT_OK)
        rc = exec_plain(st, c, "COMMIT", "migrate", err);
    if (rc != DT_OK)
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* ---- checkpoints ------------------------------------------------------ */

static int ckpt_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    sq_store *st = arg;
    /* runs on the writer after its commits only: next_wake is the writer's */
    if (pages < st->ckpt.next_wake - CKPT_PAGES)
        st->ckpt.next_wake = CKPT_PAGES; /* the WAL was restarted */
    if (pages >= CKPT_RESTART_PAGES) {
        /* between transactions no frame is added, so this one catches up
         * with what the thread left and the next write restarts the WAL;
         * busy (the thread is copying): the next commit tries again */
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (pages >= st->ckpt.next_wake) {
        /* every CKPT_PAGES new pages, so a page rewritten by several
         * commits meanwhile is copied once */
        st->ckpt.next_wake = pages + CKPT_PAGES;
        pthread_mutex_lock(&st->ckpt.mu);
        st->ckpt.pages = pages;
        pthread_cond_signal(&st->ckpt.cv);
        pthread_mutex_unlock(&st->ckpt.mu);
    }
    return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
    sq_store *st = arg;
    pthread_mutex_lock(&st->ckpt.mu);
    for (;;) {
        while (!st->ckpt.stop && st->ckpt.pages == 0)
            pthread_cond_wait(&st->ckpt.cv, &st->ckpt.mu);
        if (st->ckpt.stop)
            break;
        st->ckpt.pages = 0;
        pthread_mutex_unlock(&st->ckpt.mu);
        /* a failure (busy, I/O) leaves the WAL as it is: the next commit's
         * hook asks again, and SQLite checkpoints at close */
        sqlite3_wal_checkpoint_v2(st->ckpt.db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&st->ckpt.mu);
    }
    pthread_mutex_unlock(&st->ckpt.mu);
    return NULL;
}

/* Start the checkpoint thread for the writer; on any failure the writer
 * keeps SQLite's own checkpoints. */
static void ckpt_start(sq_store *st)
{
    if (sqlite3_open_v2(st->path, &st->ckpt.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        sqlite3_close(st->ckpt.db);
        st->ckpt.db = NULL;
        return;
    }
    sqlite3_busy_timeout(st->ckpt.db, st->busy_ms);
    /* a connection learns that the file is in WAL mode on its first read;
     * until then a checkpoint on it does nothing */
    if (sqlite3_exec(st->ckpt.db, "PRAGMA schema_version", NULL, NULL, NULL) != SQLITE_OK ||
        pthread_create(&st->ckpt.th, NULL, ckpt_main, st) != 0) {
        sqlite3_close(st->ckpt.db);
        st->ckpt.db = NULL;
        return;
    }
    st->ckpt.running = true;
    st->ckpt.next_wake = CKPT_PAGES;
    sqlite3_wal_hook(st->writer.db, ckpt_hook, st); /* replaces SQLite's autocheckpoint */
}

static void ckpt_stop(sq_store *st)
{
    if (!st->ckpt.running)
        return;
    if (st->writer.db != NULL)
        sqlite3_wal_autocheckpoint(st->writer.db, 1000); /* SQLite's hook back */
    pthread_mutex_lock(&st->ckpt.mu);
    st->ckpt.stop = true;
    pthread_cond_signal(&st->ckpt.cv);
    pthread_mutex_unlock(&st->ckpt.mu);
    pthread_join(st->ckpt.th, NULL);
    sqlite3_close(st->ckpt.db);
    st->ckpt.db = NULL;
    st->ckpt.running = false;
}

static void sq_close(store *s)
{
    sq_store *st;
    if (s == NULL)
        return;
    st = SQ(s);
    ckpt_stop(st);
    for (size_t i = 0; i < POOL_SIZE; i++)
        conn_release(&st->readers[i]);
    conn_release(&st->writer);
    pthread_mutex_destroy(&st->wmu);
    pthread_mutex_destroy(&st->pmu);
    pthread_cond_destroy(&st->pcv);
    pthread_mutex_destroy(&st->ckpt.mu);
    pthread_cond_destroy(&st->ckpt.cv);
    dt_free(st->path);
    dt_free(st);
}

static dt_status sq_open(const store_config *cfg, store **out, dt_err *err)
{
    sq_store *st;
    dt_status rc;
    int flags;
    DT_CHECK(cfg != NULL && out != NULL);
    *out = NULL;
    if (cfg->path == NULL || cfg->path[0] == '\0')
        return dt_fail(err, DT_EARG, "store", "the sqlite store needs a database file path");
    if (sqlite3_threadsafe() == 0)
        return dt_fail(err, DT_EDB, "store", "this SQLite library was built without threads");
    st = dt_calloc(1, sizeof *st);
    if (st == NULL)
        return dt_fail(err, DT_ENOMEM, "store", "out of memory opening %s", cfg->path);
    st->base.ops = &store_sqlite_ops;
    st->readonly = cfg->readonly;
    st->busy_ms = cfg->busy_timeout_ms > 0 ? cfg->busy_timeout_ms : BUSY_TIMEOUT_MS;
    st->path = dt_strdup(cfg->path);
    pthread_mutex_init(&st->wmu, NULL);
    pthread_mutex_init(&st->pmu, NULL);
    pthread_cond_init(&st->pcv, NULL);
    pthread_mutex_init(&st->ckpt.mu, NULL);
    pthread_cond_init(&st->ckpt.cv, NULL);
    if (st->path == NULL) {
        sq_close(&st->base);
        return dt_fail(err, DT_ENOMEM, "store", "out of memory opening %s", cfg->path);
    }
    flags = st->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    rc = conn_open(st, &st->writer, flags, true, err);
    if (rc == DT_OK)
        rc = migrate(st, err);
    if (rc != DT_OK) {
        sq_close(&st->base);
        return rc;
    }
    if (!st->readonly)
        ckpt_start(st);
    *out = &st->base;
    return DT_OK;
}

/* A connection for a read: the writer inside a transaction (it sees the
 * transaction's rows), else a pooled reader. Pair with read_put. */
static dt_status read_get(sq_store *st, store_txn *t, conn **out, dt_err *err)
{
    dt_status rc = DT_OK;
    *out = NULL;
    if (t != NULL) {
        assert(t->s == &st->base);
        *out = &st->writer;
        return DT_OK;
    }
    pthread_mutex_lock(&st->pmu);
    for (;;) {
        conn *spare = NULL;
        for (size_t i = 0; i < POOL_SIZE; i++) {
            conn *c = &st->readers[i];
            if (c->db != NULL && !c->busy) {
                *out = c;
                break;
            }
            if (c->db == NULL && spare == NULL)
                spare = c;
        }
        if (*out == NULL && spare != NULL) {
            int flags = st->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
            rc = conn_open(st, spare, flags, false, err);
            if (rc == DT_OK)
                *out = spare;
            else
                break;
        }
        if (*out != NULL) {
            (*out)->busy = true;
            break;
        }
        pthread_cond_wait(&st->pcv, &st->pmu);
    }
    pthread_mutex_unlock(&st->pmu);
    return rc;
}

static void read_put(sq_store *st, store_txn *t, conn *c)
{
    if (t != NULL || c == NULL)
        return;
    pthread_mutex_lock(&st->pmu);
    c->busy = false;
    pthread_cond_signal(&st->pcv);
    pthread_mutex_unlock(&st->pmu);
}

/* ---- transactions ---------------------------------------------------- */

static dt_status sq_begin(store *s, store_txn **out, dt_err *err)
{
    sq_store *st = SQ(s);
    sq_txn *t;
    dt_status rc;
    DT_CHECK(out != NULL);
    *out = NULL;
    if (st->readonly)
        return dt_fail(err, DT_EDENIED, "store", "%s: opened read-only", st->path);
    t = dt_calloc(1, sizeof *t);
    if (t == NULL)
        return dt_fail(err, DT_ENOMEM, "store", "out of memory beginning a transaction");
    pthread_mutex_lock(&st->wmu);
    rc = run(st, &st->writer, "begin", NULL, err, "BEGIN IMMEDIATE", "");
    if (rc != DT_OK) {
        pthread_mutex_unlock(&st->wmu);
        dt_free(t);
        return rc;
    }
    t->base.s = s;
    t->st = st;
    *out = &t->base;
    return DT_OK;
}

static void txn_end(sq_txn *t)
{
    sq_store *st = t->st;
    dt_free(t);
    pthread_mutex_unlock(&st->wmu);
}

static void sq_rollback(store_txn *tt)
{
    sq_txn *t = TX(tt);
    if (!sqlite3_get_autocommit(t->st->writer.db))
        sqlite3_exec(t->st->writer.db, "ROLLBACK", NULL, NULL, NULL);
    txn_end(t);
}

static dt_status sq_commit(store_txn *tt, dt_err *err)
{
    sq_txn *t = TX(tt);
    dt_status rc = run(t->st, &t->st->writer, "commit", NULL, err, "COMMIT", "");
    if (rc != DT_OK && !sqlite3_get_autocommit(t->st->writer.db))
        sqlite3_exec(t->st->writer.db, "ROLLBACK", NULL, NULL, NULL);
    txn_end(t);
    return rc;
}

/* ---- collections ----------------------------------------------------- */

static dt_status sq_collection_put(store_txn *tt, const store_collection *c, dt_err *err)
{
    sq_txn *t = TX(tt);
    DT_CHECK(c != NULL);
    if (c->id[0] == '\0')
        return dt_fail(err, DT_EARG, "store", "a collection needs an id");
    return run(t->st, &t->st->writer, "collection put", NULL, err,
               "INSERT INTO collections(id, title, description, api_root, created) "
               "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO UPDATE SET "
               "title = excluded.title, description = excluded.description, "
               "api_root = excluded.api_root",
               "tttti", c->id, c->title, c->description, c->api_root,
               (int64_t)(c->created != 0 ? c->created : dt_now_us()));
}

#define COLLECTION_COLS "id, title, description, api_root, created"

static bool collection_read(sqlite3_stmt *s, store_collection *out)
{
    memset(out, 0, sizeof *out);
    out->created = sqlite3_column_int64(s, 4);
    return col_copy(s, 0, out->id, sizeof out->id) &&
           col_copy(s, 1, out->title, sizeof out->title) &&
           col_copy(s, 2, out->description, sizeof out->description) &&
           col_copy(s, 3, out->api_root, sizeof out->api_root);
}

static dt_status sq_collection_get(store *s, store_txn *t, const char *id, store_collection *out,
                                   dt_err *err)
{
    sq_store *st = SQ(s);
    sqlite3_stmt *q = NULL;
    conn *c;
    bool row = false;
    dt_status rc;
    DT_CHECK(id != NULL && out != NULL);
    rc = read_get(st, t, &c, err);
    if (rc != DT_OK)
        return rc;
    rc = prep(st, c, "SELECT " COLLECTION_COLS " FROM collections WHERE id = ?1", &q, err, "t",
              id);
    if (rc == DT_OK)
        rc = step(st, c, q, &row, "collection get", err);
    if (rc == DT_OK && !row)
        rc = dt_fail(err, DT_ENOTFOUND, "store", "no collection \"%s\"", id);
    if (rc == DT_OK && !collection_read(q, out))
        rc = dt_fail(err, DT_EDB, "store", "%s: collection \"%s\" has an oversized field",
                     st->path, id);
    done(q);
    read_put(st, t, c);
    return rc;
}

/* Read every row of a fixed query into a growing array of elem-sized items
 * filled by read_row (false: a field did not fit). what names the rows in
 * messages ("collections", "users"). */
typedef bool (*row_reader)(sqlite3_stmt *s, void *item);

static dt_status list_rows(sq_store *st, const char *sql, size_t elem, row_reader read_row,
                           const char *what, void **out, size_t *count, dt_err *err)
{
    sqlite3_stmt *q = NULL;
    char *arr = NULL;
    size_t n = 0, cap = 0;
    conn *c;
    bool row = true;
    dt_status rc;
    *out = NULL;
    *count = 0;
    rc = read_get(st, NULL, &c, err);
    if (rc != DT_OK)
        return rc;
    rc = prep(st, c, sql, &q, err, "");
    while (rc == DT_OK) {
        rc = step(st, c, q, &row, what, err);
        if (rc != DT_OK || !row)
            break;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char *p = dt_realloc(arr, ncap * elem);
            if (p == NULL) {
                rc = dt_fail(err, DT_ENOMEM, "store", "out of memory listing %s", what);
                break;
            }
            arr = p;
            cap = ncap;
        }
        if (!read_row(q, arr + n * elem))
            rc = dt_fail(err, DT_EDB, "store", "%s: one of the %s has an oversized field",
                         st->path, what);
        n++;
    }
    done(q);
    read_put(st, NULL, c);
    if (rc != DT_OK) {
        dt_free(arr);
        return rc;
    }
    *out = arr;
    *count = n;
    return DT_OK;
}

static bool collection_row(sqlite3_stmt *s, void *item)
{
    return collection_read(s, item);
}

static dt_status sq_collection_list(store *s, store_collection **out, size_t *count, dt_err *err)
{
    void *arr = NULL;
    dt_status rc;
    DT_CHECK(out != NULL && count != NULL);
    rc = list_rows(SQ(s), "SELECT " COLLECTION_COLS " FROM collections ORDER BY id",
                   sizeof **out, collection_row, "collections", &arr, count, err);
    *out = arr;
    return rc;
}

/* ---- object versions ------------------------------------------------- */

/* Recompute is_last / is_first of one id over its live versions. Costs
 * O(versions of that id) through the (collection, id, modified) index. */
static dt_status reflag(sq_store *st, conn *c, const char *collection, const char *id,
                        dt_err *err)
{
    dt_status rc = run(st, c, "reflag", NULL, err,
                       "UPDATE objects SET is_last = 0, is_first = 0 WHERE collection = ?1 "
                       "AND id = ?2 AND (is_last = 1 OR is_first = 1)",
                       "tt", collection, id);
    if (rc == DT_OK)
        rc = run(st, c, "reflag", NULL, err,
                 "UPDATE objects SET is_last = 1 WHERE rowid = (SELECT rowid FROM objects "
                 "WHERE collection = ?1 AND id = ?2 AND deleted = 0 ORDER BY modified DESC "
                 "LIMIT 1)",
                 "tt", collection, id);
    if (rc == DT_OK)
        rc = run(st, c, "reflag", NULL, err,
                 "UPDATE objects SET is_first = 1 WHERE rowid = (SELECT rowid FROM objects "
                 "WHERE collection = ?1 AND id = ?2 AND deleted = 0 ORDER BY modified ASC "
                 "LIMIT 1)",
                 "tt", collection, id);
    return rc;
}

static dt_status sq_put_version(store_txn *tt, const store_put *p, int64_t *date_added,
                                bool *added, dt_err *err)
{
    sq_txn *t = TX(tt);
    sq_store *st = t->st;
    conn *c = &st->writer;
    sqlite3_stmt *q = NULL;
    bool row = false, first = false;
    int64_t last = 0, da;
    dt_status rc;
    DT_CHECK(p != NULL && date_added != NULL && added != NULL);
    DT_CHECK(p->collection != NULL && p->id != NULL && p->type != NULL && p->modified != NULL);
    DT_CHECK(p->json != NULL && p->sha256 != NULL);
    *added = false;
    *date_added = 0;

    /* One look at the id's versions answers both questions: is this version
     * already held, and is it the id's first (then it is its own first and
     * last version, and the reflag below is not needed). */
    rc = prep(st, c,
              "SELECT sha256, date_added, modified = ?3 AS same FROM objects "
              "WHERE collection = ?1 AND id = ?2 ORDER BY same DESC LIMIT 1",
              &q, err, "ttt", p->collection, p->id, p->modified);
    if (rc == DT_OK)
        rc = step(st, c, q, &row, "put version", err);
    first = rc == DT_OK && !row;
    if (rc == DT_OK && row && sqlite3_column_int(q, 2) == 0)
        row = false; /* other versions only */
    if (rc == DT_OK && row) {
        uint8_t h[32];
        col_hash(q, 0, h);
        if (memcmp(h, p->sha256, 32) == 0)
            *date_added = sqlite3_column_int64(q, 1);
        else
            rc = dt_fail(err, DT_ECONFLICT, "store",
                         "%s version %s is already stored in collection %s with a different "
                         "body",
                         p->id, p->modified_text ? p->modified_text : p->modified, p->collection);
    }
    done(q);
    if (rc != DT_OK || row)
        return rc;

    if (t->last_collection[0] != '\0' && strcmp(t->last_collection, p->collection) == 0) {
        last = t->last_date_added;
    } else {
        rc = prep(st, c, "SELECT last_date_added FROM collections WHERE id = ?1", &q, err, "t",
                  p->collection);
        if (rc == DT_OK)
            rc = step(st, c, q, &row, "put version", err);
        if (rc == DT_OK && !row)
            rc = dt_fail(err, DT_ENOTFOUND, "store", "no collection \"%s\"", p->collection);
        if (rc == DT_OK)
            last = sqlite3_column_int64(q, 0);
        done(q);
        if (rc != DT_OK)
            return rc;
        t->last_collection[0] = '\0';
    }

    da = dt_now_us();
    if (da <= last)
        da = last + 1;
    rc = run(st, c, "put version", NULL, err,
             "UPDATE collections SET last_date_added = ?2 WHERE id = ?1", "ti", p->collection,
             da);
    if (rc == DT_OK)
        rc = run(st, c, "put version", NULL, err,
                 "INSERT INTO objects(collection, id, type, spec_version, modified, "
                 "modified_text, date_added, json, sha256, signer, marking, leaf_index, "
                 "revoked, is_last, is_first) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                 "?11, ?12, ?13, ?14, ?14)",
                 "ttttttiThtiiii", p->collection, p->id, p->type,
                 p->spec_version != NULL ? p->spec_version : "2.1", p->modified,
                 p->modified_text != NULL ? p->modified_text : p->modified, da, p->json,
                 p->json_len, p->sha256, p->signer, (int64_t)p->marking, (int64_t)p->leaf_index,
                 (int64_t)(p->revoked ? 1 : 0), (int64_t)(first ? 1 : 0));
    if (rc == DT_OK && !first)
        rc = reflag(st, c, p->collection, p->id, err);
    if (rc == DT_OK) {
        *added = true;
        *date_added = da;
        if (strlen(p->collection) < sizeof t->last_collection) {
            memcpy(t->last_collection, p->collection, strlen(p->collection) + 1);
            t->last_date_added = da;
        }
    } else {
        t->last_collection[0] = '\0'; /* a failed statement: read it again */
    }
    return rc;
}

#define ROW_COLS                                                                              \
    "rowid, collection, id, type, spec_version, modified, modified_text, date_added, %s, "   \
    "sha256, signer, marking, leaf_index, revoked, deleted"

static dt_status row_read(sqlite3_stmt *s, store_row *r, dt_err *err)
{
    memset(r, 0, sizeof *r);
    r->rowid = sqlite3_column_int64(s, 0);
    r->date_added = sqlite3_column_int64(s, 7);
    col_hash(s, 9, r->sha256);
    r->marking = sqlite3_column_int(s, 11);
    r->leaf_index = sqlite3_column_int64(s, 12);
    r->revoked = sqlite3_column_int(s, 13) != 0;
    r->deleted = sqlite3_column_int(s, 14) != 0;
    if (!col_dup(s, 1, &r->collection, NULL) || !col_dup(s, 2, &r->id, NULL) ||
        !col_dup(s, 3, &r->type, NULL) || !col_dup(s, 4, &r->spec_version, NULL) ||
        !col_dup(s, 5, &r->modified, NULL) || !col_dup(s, 6, &r->modified_text, NULL) ||
        !col_dup(s, 8, &r->json, &r->json_len) || !col_dup(s, 10, &r->signer, NULL)) {
        store_row_release(r);
        return dt_fail(err, DT_ENOMEM, "store", "out of memory reading a row");
    }
    return DT_OK;
}

static dt_status sq_get_version(store *s, store_txn *t, const char *collection, const char *id,
                                const char *modified, store_row *out, dt_err *err)
{
    sq_store *st = SQ(s);
    sqlite3_stmt *q = NULL;
    conn *c;
    bool row = false;
    dt_status rc;
    DT_CHECK(collection != NULL && id != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    rc = read_get(st, t, &c, err);
    if (rc != DT_OK)
        return rc;
    if (modified != NULL)
        rc = prep(st, c,
                  "SELECT rowid, collection, id, type, spec_version, modified, modified_text, "
                  "date_added, json, sha256, signer, marking, leaf_index, revoked, deleted "
                  "FROM objects WHERE collection = ?1 AND id = ?2 AND modified = ?3",
                  &q, err, "ttt", collection, id, modified);
    else
        rc = prep(st, c,
                  "SELECT rowid, collection, id, type, spec_version, modified, modified_text, "
                  "date_added, json, sha256, signer, marking, leaf_index, revoked, deleted "
                  "FROM objects WHERE collection = ?1 AND id = ?2 "
                  "ORDER BY deleted ASC, modified DESC LIMIT 1",
                  &q, err, "tt", collection, id);
    if (rc == DT_OK)
        rc = step(st, c, q, &row, "get version", err);
    if (rc == DT_OK && !row)
        rc = dt_fail(err, DT_ENOTFOUND, "store", "no %s%s%s in collection %s", id,
                     modified ? " version " : "", modified ? modified : "", collection);
    if (rc == DT_OK)
        rc = row_read(q, out, err);
    done(q);
    read_put(st, t, c);
    return rc;
}

static dt_status put_list(dt_buf *b, const char *col, size_t count, dt_err *err)
{
    dt_status rc = dt_buf_printf(b, err, " AND %s IN (", col);
    for (size_t i = 0; rc == DT_OK && i < count; i++)
        rc = dt_buf_puts(b, i ? ", ?" : "?", err);
    if (rc == DT_OK)
        rc = dt_buf_putc(b, ')', err);
    return rc;
}

/* Build the page statement for q and bind it on c. The SQL depends only
 * on which filters are present and the list lengths, so the cache holds
 * one statement per shape. */
static dt_status query_prepare(sq_store *st, conn *c, const store_query *q, bool explain,
                               sqlite3_stmt **out, dt_err *err)
{
    dt_buf b;
    sqlite3_stmt *s = NULL;
    unsigned v = q->versions ? q->versions : STORE_VER_LAST;
    int64_t lo_da = q->after_date_added, lo_rowid = q->after_rowid;
    int i = 1, brc = SQLITE_OK;
    dt_status rc;

    *out = NULL;
    if (q->collection == NULL)
        return dt_fail(err, DT_EARG, "store", "a query needs a collection");
    if (q->limit < 1 || q->limit > STORE_MAX_PAGE)
        return dt_fail(err, DT_EARG, "store", "page limit %zu is outside 1..%d", q->limit,
                       STORE_MAX_PAGE);
    if (q->id_count > STORE_MAX_LIST || q->type_count > STORE_MAX_LIST ||
        q->spec_version_count > STORE_MAX_LIST || q->at_count > STORE_MAX_LIST)
        return dt_fail(err, DT_ELIMIT, "store", "a query filter lists more than %d values",
                       STORE_MAX_LIST);
    /* date_added > added_after is (date_added, rowid) > (added_after, max) */
    if (q->added_after > lo_da || (q->added_after == lo_da && q->added_after != 0)) {
        lo_da = q->added_after;
        lo_rowid = INT64_MAX;
    }

    dt_buf_init(&b, 64 * 1024);
    /* With ids listed, the few versions of those ids come from the version
     * index and are sorted; without stats the planner would rather walk the
     * page index to skip the sort, which costs the whole collection. */
    rc = dt_buf_printf(&b, err, "%sSELECT " ROW_COLS " FROM objects%s WHERE collection = ?"
                       " AND date_added >= ? AND (date_added > ? OR rowid > ?)",
                       explain ? "EXPLAIN QUERY PLAN " : "", q->with_json ? "json" : "NULL",
                       q->id_count ? " INDEXED BY objects_version" : "");
    if (rc == DT_OK && !q->include_deleted)
        rc = dt_buf_puts(&b, " AND deleted = 0", err);
    if (rc == DT_OK && q->id_count)
        rc = put_list(&b, "id", q->id_count, err);
    if (rc == DT_OK && q->type_count)
        rc = put_list(&b, "type", q->type_count, err);
    if (rc == DT_OK && q->spec_version_count)
        rc = put_list(&b, "spec_version", q->spec_version_count, err);
    if (rc == DT_OK && q->max_marking >= 0)
        rc = dt_buf_puts(&b, " AND marking <= ?", err);
    if (rc == DT_OK && q->foreign_limit)
        rc = dt_buf_puts(&b, " AND (marking <= ? OR signer IS ?)", err);
    if (rc == DT_OK && !(v & STORE_VER_ALL)) {
        const char *sep = "";
        rc = dt_buf_puts(&b, " AND (", err);
        if (rc == DT_OK && (v & STORE_VER_LAST)) {
            rc = dt_buf_puts(&b, "is_last = 1", err);
            sep = " OR ";
        }
        if (rc == DT_OK && (v & STORE_VER_FIRST)) {
            rc = dt_buf_printf(&b, err, "%sis_first = 1", sep);
            sep = " OR ";
        }
        if (rc == DT_OK && (v & STORE_VER_AT)) {
            rc = dt_buf_printf(&b, err, "%smodified IN (", sep);
            for (size_t k = 0; rc == DT_OK && k < q->at_count; k++)
                rc = dt_buf_puts(&b, k ? ", ?" : "?", err);
            if (rc == DT_OK)
                rc = dt_buf_putc(&b, ')', err);
            sep = " OR ";
        }
        if (rc == DT_OK && sep[0] == '\0')
            rc = dt_buf_puts(&b, "0", err); /* no known bit: nothing matches */
        if (rc == DT_OK)
            rc = dt_buf_putc(&b, ')', err);
    }
    if (rc == DT_OK)
        rc = dt_buf_puts(&b, " ORDER BY date_added, rowid LIMIT ?", err);
    if (rc == DT_OK)
        rc = stmt_get(st, c, b.data, &s, err);
    dt_buf_release(&b);
    if (rc != DT_OK)
        return rc;

    brc = sqlite3_bind_text(s, i++, q->collection, -1, SQLITE_STATIC);
    if (brc == SQLITE_OK)
        brc = sqlite3_bind_int64(s, i++, lo_da);
    if (brc == SQLITE_OK)
        brc = sqlite3_bind_int64(s, i++, lo_da);
    if (brc == SQLITE_OK)
        brc = sqlite3_bind_int64(s, i++, lo_rowid);
    for (size_t k = 0; brc == SQLITE_OK && k < q->id_count; k++)
        brc = sqlite3_bind_text(s, i++, q->ids[k], -1, SQLITE_STATIC);
    for (size_t k = 0; brc == SQLITE_OK && k < q->type_count; k++)
        brc = sqlite3_bind_text(s, i++, q->types[k], -1, SQLITE_STATIC);
    for (size_t k = 0; brc == SQLITE_OK && k < q->spec_version_count; k++)
        brc = sqlite3_bind_text(s, i++, q->spec_versions[k], -1, SQLITE_STATIC);
    if (brc == SQLITE_OK && q->max_marking >= 0)
        brc = sqlite3_bind_int(s, i++, q->max_marking);
    if (brc == SQLITE_OK && q->foreign_limit)
        brc = sqlite3_bind_int(s, i++, q->max_marking_foreign);
    if (brc == SQLITE_OK && q->foreign_limit)
        brc = q->own_signer ? sqlite3_bind_text(s, i++, q->own_signer, -1, SQLITE_STATIC)
                            : sqlite3_bind_null(s, i++);
    if (!(v & STORE_VER_ALL) && (v & STORE_VER_AT))
        for (size_t k = 0; brc == SQLITE_OK && k < q->at_count; k++)
            brc = sqlite3_bind_text(s, i++, q->at[k], -1, SQLITE_STATIC);
    if (brc == SQLITE_OK)
        brc = sqlite3_bind_int64(s, i++, (int64_t)q->limit + 1);
    if (brc != SQLITE_OK) {
        done(s);
        return db_fail(st, c->db, brc, "query", err);
    }
    *out = s;
    return DT_OK;
}

static dt_status sq_query(store *s, const store_query *q, store_page *out, dt_err *err)
{
    sq_store *st = SQ(s);
    sqlite3_stmt *stmt = NULL;
    conn *c;
    bool row = true;
    dt_status rc;
    DT_CHECK(q != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    rc = read_get(st, NULL, &c, err);
    if (rc != DT_OK)
        return rc;
    rc = query_prepare(st, c, q, false, &stmt, err);
    if (rc == DT_OK) {
        /* grow as rows come: most pages are short */
        size_t cap = q->limit < 64 ? q->limit : 64;
        out->rows = dt_calloc(cap, sizeof *out->rows);
        if (out->rows == NULL)
            rc = dt_fail(err, DT_ENOMEM, "store", "out of memory for a page of rows");
        while (rc == DT_OK) {
            rc = step(st, c, stmt, &row, "query", err);
            if (rc != DT_OK || !row)
                break;
            if (out->count == q->limit) {
                out->more = true;
                break;
            }
            if (out->count == cap) {
                size_t ncap = cap * 2 < q->limit ? cap * 2 : q->limit;
                store_row *p = dt_realloc(out->rows, ncap * sizeof *p);
                if (p == NULL) {
                    rc = dt_fail(err, DT_ENOMEM, "store", "out of memory for a page of rows");
                    break;
                }
                out->rows = p;
                cap = ncap;
            }
            rc = row_read(stmt, &out->rows[out->count], err);
            if (rc == DT_OK)
                out->count++;
        }
    }
    done(stmt);
    read_put(st, NULL, c);
    if (rc != DT_OK)
        store_page_release(out);
    return rc;
}

dt_status store_sqlite_query_plan(store *s, const store_query *q, char **plan, dt_err *err)
{
    sq_store *st = SQ(s);
    sqlite3_stmt *stmt = NULL;
    conn *c;
    dt_buf b;
    bool row = true;
    dt_status rc;
    DT_CHECK(q != NULL && plan != NULL);
    *plan = NULL;
    rc = read_get(st, NULL, &c, err);
    if (rc != DT_OK)
        return rc;
    dt_buf_init(&b, 64 * 1024);
    rc = query_prepare(st, c, q, true, &stmt, err);
    while (rc == DT_OK) {
        rc = step(st, c, stmt, &row, "explain", err);
        if (rc != DT_OK || !row)
            break;
        rc = dt_buf_printf(&b, err, "%s\n", (const char *)sqlite3_column_text(stmt, 3));
    }
    done(stmt);
    read_put(st, NULL, c);
    if (rc == DT_OK) {
        *plan = dt_buf_take(&b);
        if (*plan == NULL)
            *plan = dt_strdup("");
        if (*plan == NULL)
            rc = dt_fail(err, DT_ENOMEM, "store", "out of memory");
    }
    dt_buf_release(&b);
    return rc;
}

static dt_status sq_erase(store_txn *tt, const char *collection, const char *id,
                          const char *modified, size_t *count, dt_err *err)
{
    sq_txn *t = TX(tt);
    sq_store *st = t->st;
    conn *c = &st->writer;
    int changes = 0;
    dt_status rc;
    DT_CHECK(collection != NULL && id != NULL && count != NULL);
    *count = 0;
    if (modified != NULL)
        rc = run(st, c, "erase", &changes, err,
                 "UPDATE objects SET json = NULL, deleted = 1 WHERE collection = ?1 AND id = ?2 "
                 "AND modified = ?3 AND deleted = 0",
                 "ttt", collection, id, modified);
    else
        rc = run(st, c, "erase", &changes, err,
                 "UPDATE objects SET json = NULL, deleted = 1 WHERE collection = ?1 AND id = ?2 "
                 "AND deleted = 0",
                 "tt", collection, id);
    if (rc != DT_OK)
        return rc;
    if (changes == 0) {
        sqlite3_stmt *q = NULL;
        bool row = false;
        rc = prep(st, c,
                  "SELECT 1 FROM objects WHERE collection = ?1 AND id = ?2 "
                  "AND (?3 IS NULL OR modified = ?3) LIMIT 1",
                  &q, err, "ttt", collection, id, modified);
        if (rc == DT_OK)
            rc = step(st, c, q, &row, "erase", err);
        done(q);
        if (rc == DT_OK && !row)
            rc = dt_fail(err, DT_ENOTFOUND, "store", "no %s%s%s in collection %s", id,
                         modified ? " version " : "", modified ? modified : "", collection);
        return rc;
    }
    *count = (size_t)changes;
    return reflag(st, c, collection, id, err);
}

static dt_status count_one(sq_store *st, conn *c, const char *sql, uint64_t *out, dt_err *err)
{
    sqlite3_stmt *q = NULL;
    bool row = false;
    dt_status rc = prep(st, c, sql, &q, err, "");
    if (rc == DT_OK)
        rc = step(st, c, q, &row, "counts", err);
    *out = rc == DT_OK && row ? (uint64_t)sqlite3_column_int64(q, 0) : 0;
    done(q);
    return rc;
}

static dt_status sq_counts(store *s, store_counts *out, dt_err *err)
{
    sq_store *st = SQ(s);
    conn *c;
    dt_status rc;
    DT_CHECK(out != NULL);
    memset(out, 0, sizeof *out);
    rc = read_get(st, NULL, &c, err);
    if (rc != DT_OK)
        return rc;
    /* one read transaction, so the figures agree with each other */
    rc = exec_plain(st, c, "BEGIN", "counts", err);
    if (rc == DT_OK)
        rc = count_one(st, c, "SELECT count(*) FROM objects", &out->objects, err);
    if (rc == DT_OK)
        rc = count_one(st, c, "SELECT count(DISTINCT id) FROM objects", &out->ids, err);
    if (rc == DT_OK)
        rc = count_one(st, c, "SELECT count(*) FROM collections", &out->collections, err);
    if (rc == DT_OK)
        rc = count_one(st, c, "SELECT coalesce(max(idx) + 1, 0) FROM leaves",
                       &out->ledger_leaves, err);
    if (rc == DT_OK)
        rc = count_one(st, c, "SELECT count(*) FROM users", &out->users, err);
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
    read_put(st, NULL, c);
    return rc;
}

/* ---- ledger ---------------------------------------------------------- */

static dt_status leaf_count(sq_store *st, conn *c, uint64_t *n, dt_err *err)
{
    /* max over the INTEGER PRIMARY KEY is one b-tree descent */
    return count_one(st, c, "SELECT coalesce(max(idx) + 1, 0) FROM leaves", n, err);
}

static dt_status sq_leaf_append(store_txn *tt, const uint8_t hash[32], const char *leaf,
                                size_t leaf_len, uint64_t *index, dt_err *err)
{
    sq_txn *t = TX(tt);
    sq_store *st = t->st;
    uint64_t n = 0;
    dt_status rc = DT_OK;
    DT_CHECK(hash != NULL && leaf != NULL && index != NULL);
    if (t->has_next_leaf)
        n = t->next_leaf;
    else
        rc = leaf_count(st, &st->writer, &n, err);
    if (rc == DT_OK)
        rc = run(st, &st->writer, "ledger append", NULL, err,
                 "INSERT INTO leaves(idx, hash, leaf) VALUES(?1, ?2, ?3)", "ihT", (int64_t)n,
                 hash, leaf, leaf_len);
    t->has_next_leaf = rc == DT_OK;
    if (rc == DT_OK) {
        *index = n;
        t->next_leaf = n + 1;
    }
    return rc;
}

static dt_status sq_leaf_get(store *s, store_txn *t, uint64_t index, uint8_t hash[32],
                             char **leaf, size_t *leaf_len, dt_err *err)
{
    sq_store *st = SQ(s);
    sqlite3_stmt *q = NULL;
    conn *c;
    bool row = false;
    dt_status rc;
    DT_CHECK(hash != NULL);
    if (leaf != NULL)
        *leaf = NULL;
    if (leaf_len != NULL)
        *leaf_len = 0;
    if (index > INT64_MAX)
        return dt_fail(err, DT_ENOTFOUND, "store", "no ledger leaf %llu",
                       (unsigned long long)index);
    rc = read_get(st, t, &c, err);
    if (rc != DT_OK)
        return rc;
    rc = prep(st, c, "SELECT hash, leaf FROM leaves WHERE idx = ?1", &q, err, "i",
              (int64_t)index);
    if (rc == DT_OK)
        rc = step(st, c, q, &row, "ledger leaf", err);
    if (rc == DT_OK && !row)
        rc = dt_fail(err, DT_ENOTFOUND, "store", "no ledger leaf %llu",
                     (unsigned long long)index);
    if (rc == DT_OK) {
        col_hash(q, 0, hash);
        if (leaf != NULL && !col_dup(q, 1, leaf, leaf_len))
            rc = dt_fail(err, DT_ENOMEM, "store", "out of memory reading a leaf");
    }
    done(q);
    read_put(st, t, c);
    return rc;
}

static dt_status sq_leaf_find(store *s, const uint8_t hash[32], uint64_t *index, dt_err *err)
{
    sq_store *st = SQ(s);
    sqlite3_stmt *q = NULL;
    conn *c;
    bool row = false;
    dt_status rc;
    DT_CHECK(hash != NULL && index != NULL);
    rc = read_get(st, NULL, &c, err);
    if (rc != DT_OK)
        return rc;
    rc = prep(st, c, "SELECT idx FROM leaves WHERE hash = ?1", &q, err, "h", hash);
    if (rc == DT_OK)
        rc = step(st, c, q, &row, "ledger find", err);
    if (rc == DT_OK && !row)
        rc = dt_fail(err, DT_ENOTFOUND, "store", "no ledger leaf with that hash");
    if (rc == DT_OK)
        *index = (uint64_t)sqlite3_column_int64(q, 0);
    done(q);
    read_put(st, NULL, c);
    return rc;
}

static dt_status sq_ledger_size(store *s, store_txn *t, uint64_t *size, dt_err *err)
{
    sq_store *st = SQ(s);
    conn *c;
    dt_status rc;
    DT_CHECK(size != NULL);
    rc = read_get(st, t, &c, err);
    if (rc != DT_OK)
        return rc;
    rc = leaf_count(st, c, size, err);
    read_put(st, t, c);
    return rc;
}

static dt_status sq_node_get(store *s, store_txn *t, unsigned level, uint64_t index,
                             uint8_t hash[32], dt_err *err)
{
    sq_store *st = SQ(s);
    sqlite3_stmt *q = NULL;
    conn *c;
    bool row = false;
    dt_status rc;
    DT_CHECK(hash != NULL);
    if (index > INT64_MAX)
        return dt_fail(err, DT_ENOTFOUND, "store", "no ledger node");
    rc = read_get(st, t, &c, err);
    if (rc != DT_OK)
        return rc;
    rc = prep(st, c, "SELECT hash FROM nodes WHERE level = ?1 AND idx = ?2", &q, err, "ii",
              (int64_t)level, (int64_t)index);
    if (rc == DT_OK)
        rc = step(st, c, q, &row, "ledger node", err);
    if (rc == DT_OK && !row)
        rc = dt_fail(err, DT_ENOTFOUND, "store", "no ledger node at level %u index %llu",
                     level, (unsigned long long)index);
    if (rc == DT_OK)
        col_hash(q, 0, hash);
    done(q);
    read_put(st, t, c);
    return rc;
}

static dt_status sq_node_put(store_txn *tt, unsigned level, uint64_t index,
                             const uint8_t hash[32], dt_err *err)
{
    sq_txn *t = TX(tt);
    sq_store *st = t->st;
    int changes = 0;
    dt_status rc;
    DT_CHECK(hash != NULL && index <= INT64_MAX);
    rc = run(st, &st->writer, "ledger node", &changes, err,
             "INSERT INTO nodes(level, idx, hash) VALUES(?1, ?2, ?3) ON CONFLICT DO NOTHING",
             "iih", (int64_t)level, (int64_t)index, hash);
    if (rc == DT_OK && changes == 0) {
        uint8_t old[32];
        rc = sq_node_get(&st->base, tt, level, index, old, err);
        if (rc == DT_OK && memcmp(old, hash, 32) != 0)
            rc = dt_fail(err, DT_ECONFLICT, "store",
                         "ledger node at level %u index %llu already has another hash", level,
                         (unsigned long long)index);
    }
    return rc;
}

static dt_status sq_sth_put(store_txn *tt, uint64_t tree_size, const char *json, dt_err *err)
{
    sq_txn *t = TX(tt);
    DT_CHECK(json != NULL && tree_size <= INT64_MAX);
    return run(t->st, &t->st->writer, "sth put", NULL, err,
               "INSERT OR REPLACE INTO sths(tree_size, json) VALUES(?1, ?2)", "it",
               (int64_t)tree_size, json);
}

static dt_status sq_sth_get(store *s, uint64_t tree_size, char **json, dt_err *err)
{
    sq_store *st = SQ(s);
    sqlite3_stmt *q = NULL;
    conn *c;
    bool row = false;
    dt_status rc;
    DT_CHECK(json != NULL);
    *json = NULL;
    rc = read_get(st, NULL, &c, err);
    if (rc != DT_OK)
        return rc;
    if (tree_size == UINT64_MAX)
        rc = prep(st, c, "SELECT json FROM sths ORDER BY tree_size DESC LIMIT 1", &q, err, "");
    else if (tree_size > INT64_MAX)
        rc = dt_fail(err, DT_ENOTFOUND, "store", "no tree head for that size");
    else
        rc = prep(st, c, "SELECT json FROM sths WHERE tree_size = ?1", &q, err, "i",
                  (int64_t)tree_size);
    if (rc == DT_OK)
        rc = step(st, c, q, &row, "sth get", err);
    if (rc == DT_OK && !row)
        rc = tree_size == UINT64_MAX
                 ? dt_fail(err, DT_ENOTFOUND, "store", "no tree head issued yet")
                 : dt_fail(err, DT_ENOTFOUND, "store", "no tree head for size %llu",
                           (unsigned long long)tree_size);
    if (rc == DT_OK && !col_dup(q, 0, json, NULL))
        rc = dt_fail(err, DT_ENOMEM, "store", "out of memory reading a tree head");
    done(q);
    read_put(st, NULL, c);
    return rc;
}

/* ---- accounts -------------------------------------------------------- */

static dt_status sq_user_put(store_txn *tt, const store_user *u, dt_err *err)
{
    sq_txn *t = TX(tt);
    DT_CHECK(u != NULL);
    if (u->name[0] == '\0')
        return dt_fail(err, DT_EARG, "store", "a user needs a name");
    return run(t->st, &t->st->writer, "user put", NULL, err,
               "INSERT INTO users(name, pw_hash, max_marking, created, is_peer) "
               "VALUES(?1, ?2, ?3, ?4, ?5) "
               "ON CONFLICT(name) DO UPDATE SET pw_hash = excluded.pw_hash, "
               "max_marking = excluded.max_marking, is_peer = excluded.is_peer",
               "ttiii", u->name, u->pw_hash, (int64_t)u->max_marking,
               (int64_t)(u->created != 0 ? u->created : dt_now_us()), (int64_t)u->is_peer);
}

static bool user_read(sqlite3_stmt *s, store_user *out)
{
    memset(out, 0, sizeof *out);
    out->max_marking = sqlite3_column_int(s, 2);
    out->created = sqlite3_column_int64(s, 3);
    out->is_peer = sqlite3_column_int(s, 4) != 0;
    return col_copy(s, 0, out->name, sizeof out->name) &&
           col_copy(s, 1, out->pw_hash, sizeof out->pw_hash);
}

static dt_status sq_user_get(store *s, const char *name, store_user *out, dt_err *err)
{
    sq_store *st = SQ(s);
    sqlite3_stmt *q = NULL;
    conn *c;
    bool row = false;
    dt_status rc;
    DT_CHECK(name != NULL && out != NULL);
    rc = read_get(st, NULL, &c, err);
    if (rc != DT_OK)
        return rc;
    rc = prep(st, c, "SELECT name, pw_hash, max_marking, created, is_peer FROM users WHERE name = ?1", &q,
              err, "t", name);
    if (rc == DT_OK)
        rc = step(st, c, q, &row, "user get", err);
    if (rc == DT_OK && !row)
        rc = dt_fail(err, DT_ENOTFOUND, "store", "no user \"%s\"", name);
    if (rc == DT_OK && !user_read(q, out))
        rc = dt_fail(err, DT_EDB, "store", "%s: user \"%s\" has an oversized field", st->path,
                     name);
    done(q);
    read_put(st, NULL, c);
    return rc;
}

static dt_status sq_user_remove(store_txn *tt, const char *name, dt_err *err)
{
    sq_txn *t = TX(tt);
    int changes = 0;
    dt_status rc;
    DT_CHECK(name != NULL);
    /* tokens and grants go with it (ON DELETE CASCADE) */
    rc = run(t->st, &t->st->writer, "user remove", &changes, err,
             "DELETE FROM users WHERE name = ?1", "t", name);
    if (rc == DT_OK && changes == 0)
        rc = dt_fail(err, DT_ENOTFOUND, "store", "no user \"%s\"", name);
    return rc;
}

static bool user_row(sqlite3_stmt *s, void *item)
{
    return user_read(s, item);
}

static dt_status sq_user_list(store *s, store_user **out, size_t *count, dt_err *err)
{
    void *arr = NULL;
    dt_status rc;
    DT_CHECK(out != NULL && count != NULL);
    rc = list_rows(SQ(s), "SELECT name, pw_hash, max_marking, created, is_peer FROM users "
                          "ORDER BY name",
                   sizeof **out, user_row, "users", &arr, count, err);
    *out = arr;
    return rc;
}

static dt_status user_exists(sq_store *st, conn *c, const char *user, dt_err *err)
{
    sqlite3_stmt *q = NULL;
    bool row = false;
    dt_status rc = prep(st, c, "SELECT 1 FROM users WHERE name = ?1", &q, err, "t", user);
    if (rc == DT_OK)
        rc = step(st, c, q, &row, "user get", err);
    done(q);
    if (rc == DT_OK && !row)
        rc = dt_fail(err, DT_ENOTFOUND, "store", "no user \"%s\"", user);
    return rc;
}

static dt_status sq_token_put(store_txn *tt, const uint8_t token_hash[32], const char *user,
                              dt_err *err)
{
    sq_txn *t = TX(tt);
    dt_status rc;
    DT_CHECK(token_hash != NULL && user != NULL);
    rc = user_exists(t->st, &t->st->writer, user, err);
    if (rc == DT_OK)
        rc = run(t->st, &t->st->writer, "token put", NULL, err,
                 "INSERT OR REPLACE INTO tokens(hash, user) VALUES(?1, ?2)", "ht", token_hash,
                 user);
    return rc;
}

static dt_status sq_token_user(store *s, const uint8_t token_hash[32], char user[64],
                               dt_err *err)
{
    sq_store *st = SQ(s);
    sqlite3_stmt *q = NULL;
    conn *c;
    bool row = false;
    dt_status rc;
    DT_CHECK(token_hash != NULL && user != NULL);
    user[0] = '\0';
    rc = read_get(st, NULL, &c, err);
    if (rc != DT_OK)
        return rc;
    rc = prep(st, c, "SELECT user FROM tokens WHERE hash = ?1", &q, err, "h", token_hash);
    if (rc == DT_OK)
        rc = step(st, c, q, &row, "token lookup", err);
    if (rc == DT_OK && !row)
        rc = dt_fail(err, DT_ENOTFOUND, "store", "unknown token");
    if (rc == DT_OK && !col_copy(q, 0, user, 64))
        rc = dt_fail(err, DT_EDB, "store", "%s: a token's user name is too long", st->path);
    done(q);
    read_put(st, NULL, c);
    return rc;
}

static dt_status sq_grant_put(store_txn *tt, const char *user, const char *collection,
                              unsigned perms, dt_err *err)
{
    sq_txn *t = TX(tt);
    dt_status rc;
    DT_CHECK(user != NULL && collection != NULL);
    if (perms == 0)
        return run(t->st, &t->st->writer, "grant put", NULL, err,
                   "DELETE FROM grants WHERE user = ?1 AND collection = ?2", "tt", user,
                   collection);
    rc = user_exists(t->st, &t->st->writer, user, err);
    if (rc == DT_OK)
        rc = run(t->st, &t->st->writer, "grant put", NULL, err,
                 "INSERT OR REPLACE INTO grants(user, collection, perms) VALUES(?1, ?2, ?3)",
                 "tti", user, collection, (int64_t)perms);
    return rc;
}

static dt_status sq_grant_get(store *s, const char *user, const char *collection,
                              unsigned *perms, dt_err *err)
{
    sq_store *st = SQ(s);
    sqlite3_stmt *q = NULL;
    conn *c;
    bool row = false;
    dt_status rc;
    DT_CHECK(user != NULL && collection != NULL && perms != NULL);
    *perms = 0;
    rc = read_get(st, NULL, &c, err);
    if (rc != DT_OK)
        return rc;
    rc = prep(st, c, "SELECT perms FROM grants WHERE user = ?1 AND collection = ?2", &q, err,
              "tt", user, collection);
    if (rc == DT_OK)
        rc = step(st, c, q, &row, "grant get", err);
    if (rc == DT_OK && row)
        *perms = (unsigned)sqlite3_column_int(q, 0);
    done(q);
    read_put(st, NULL, c);
    return rc;
}

/* ---- named values ---------------------------------------------------- */

static dt_status sq_kv_put(store_txn *tt, const char *key, const char *value, dt_err *err)
{
    sq_txn *t = TX(tt);
    DT_CHECK(key != NULL);
    if (value == NULL)
        return run(t->st, &t->st->writer, "kv delete", NULL, err, "DELETE FROM kv WHERE key = ?1",
                   "t", key);
    return run(t->st, &t->st->writer, "kv put", NULL, err,
               "INSERT OR REPLACE INTO kv(key, value) VALUES(?1, ?2)", "tt", key, value);
}

static dt_status sq_kv_get(store *s, store_txn *t, const char *key, char **value, dt_err *err)
{
    sq_store *st = SQ(s);
    sqlite3_stmt *q = NULL;
    conn *c;
    bool row = false;
    dt_status rc;
    DT_CHECK(key != NULL && value != NULL);
    *value = NULL;
    rc = read_get(st, t, &c, err);
    if (rc != DT_OK)
        return rc;
    rc = prep(st, c, "SELECT value FROM kv WHERE key = ?1", &q, err, "t", key);
    if (rc == DT_OK)
        rc = step(st, c, q, &row, "kv get", err);
    if (rc == DT_OK && !row)
        rc = dt_fail(err, DT_ENOTFOUND, "store", "no value for \"%s\"", key);
    if (rc == DT_OK && !col_dup(q, 0, value, NULL))
        rc = dt_fail(err, DT_ENOMEM, "store", "out of memory reading \"%s\"", key);
    done(q);
    read_put(st, t, c);
    return rc;
}

static dt_status sq_kv_list(store *s, const char *prefix, size_t limit, char ***keys,
                            char ***values, size_t *count, dt_err *err)
{
    sq_store *st = SQ(s);
    sqlite3_stmt *q = NULL;
    char **ks = NULL, **vs = NULL;
    char *hi = NULL;
    size_t n = 0, cap = 0, plen;
    conn *c;
    bool row = true;
    dt_status rc;
    DT_CHECK(prefix != NULL && keys != NULL && values != NULL && count != NULL);
    *keys = NULL;
    *values = NULL;
    *count = 0;
    /* every key with the prefix sorts in [prefix, prefix || 0xFF): 0xFF
     * never occurs in UTF-8, so this is one range scan on the key index */
    plen = strlen(prefix);
    hi = dt_malloc(plen + 2);
    if (hi == NULL)
        return dt_fail(err, DT_ENOMEM, "store", "out of memory listing values");
    memcpy(hi, prefix, plen);
    hi[plen] = (char)0xFF;
    hi[plen + 1] = '\0';
    rc = read_get(st, NULL, &c, err);
    if (rc != DT_OK) {
        dt_free(hi);
        return rc;
    }
    rc = prep(st, c,
              "SELECT key, value FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3", &q,
              err, "tTi", prefix, hi, plen + 1, (int64_t)(limit ? limit : (size_t)INT64_MAX));
    while (rc == DT_OK) {
        rc = step(st, c, q, &row, "kv list", err);
        if (rc != DT_OK || !row)
            break;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **pk = dt_realloc(ks, ncap * sizeof *pk);
            char **pv = pk != NULL ? dt_realloc(vs, ncap * sizeof *pv) : NULL;
            if (pk != NULL)
                ks = pk;
            if (pv == NULL) {
                rc = dt_fail(err, DT_ENOMEM, "store", "out of memory listing values");
                break;
            }
            vs = pv;
            cap = ncap;
        }
        ks[n] = vs[n] = NULL;
        n++;
        if (!col_dup(q, 0, &ks[n - 1], NULL) || !col_dup(q, 1, &vs[n - 1], NULL))
            rc = dt_fail(err, DT_ENOMEM, "store", "out of memory listing values");
    }
    done(q);
    read_put(st, NULL, c);
    dt_free(hi);
    if (rc != DT_OK) {
        store_kv_list_free(ks, vs, n);
        return rc;
    }
    *keys = ks;
    *values = vs;
    *count = n;
    return DT_OK;
}

const store_ops store_sqlite_ops = {
    .name = "sqlite",
    .version = 1,
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .collection_put = sq_collection_put,
    .collection_get = sq_collection_get,
    .collection_list = sq_collection_list,
    .put_version = sq_put_version,
    .get_version = sq_get_version,
    .query = sq_query,
    .erase = sq_erase,
    .counts = sq_counts,
    .leaf_append = sq_leaf_append,
    .leaf_get = sq_leaf_get,
    .leaf_find = sq_leaf_find,
    .ledger_size = sq_ledger_size,
    .node_put = sq_node_put,
    .node_get = sq_node_get,
    .sth_put = sq_sth_put,
    .sth_get = sq_sth_get,
    .user_put = sq_user_put,
    .user_get = sq_user_get,
    .user_remove = sq_user_remove,
    .user_list = sq_user_list,
    .token_put = sq_token_put,
    .token_user = sq_token_user,
    .grant_put = sq_grant_put,
    .grant_get = sq_grant_get,
    .kv_put = sq_kv_put,
    .kv_get = sq_kv_get,
    .kv_list = sq_kv_list,
};
