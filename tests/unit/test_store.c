/* Unit tests for store/: every operation, run against each backend table.
 *
 * Each case gets a fresh database in a mkdtemp directory under /tmp (removed
 * afterwards) and a `const store_ops *` as its backend, so the PostgreSQL
 * backend will run the same cases by adding one row to `backends`. Cases
 * that poke at SQLite's file format directly (corrupt file, newer schema,
 * query plans) are marked sqlite-only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

#define MLEN 48 /* room for mod()'s text whatever the int range */

typedef struct fixture {
    const store_ops *ops;
    char dir[64];
    char path[128];
    store *s;
} fixture;

static dt_status fx_open(fixture *f, bool readonly, dt_err *err)
{
    store_config cfg = {.backend = f->ops->name, .path = f->path, .readonly = readonly};
    return f->ops->open(&cfg, &f->s, err);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    dt_err err = {0};
    if (f == NULL)
        return -1;
    f->ops = *state;
    snprintf(f->dir, sizeof f->dir, "/tmp/detente-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/node.db", f->dir);
    if (fx_open(f, false, &err) != DT_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->s);
    rm_dir(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static const char *mod(int n, char out[MLEN])
{
    snprintf(out, MLEN, "2024-01-01T00:%02d:%02d.000000000Z", (n / 60) % 60, n % 60);
    return out;
}

static void add_collection(store *s, const char *id)
{
    store_txn *t = NULL;
    store_collection c = {0};
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.title, sizeof c.title, "title of %s", id);
    snprintf(c.api_root, sizeof c.api_root, "api1");
    assert_int_equal(store_begin(s, &t, NULL), DT_OK);
    assert_int_equal(store_collection_put(t, &c, NULL), DT_OK);
    assert_int_equal(store_commit(t, NULL), DT_OK);
}

typedef struct obj {
    const char *collection;
    const char *id;
    const char *type;
    const char *spec_version;
    int version;          /* modified = mod(version) */
    int marking;
    bool revoked;
    const char *body;     /* extra text making a different body */
} obj;

static dt_status put_obj(store_txn *t, const obj *o, int64_t *da, bool *added, dt_err *err)
{
    char m[MLEN], json[512];
    uint8_t h[32];
    int64_t da_local;
    bool added_local;
    mod(o->version, m);
    snprintf(json, sizeof json, "{\"id\":\"%s\",\"modified\":\"%s\",\"type\":\"%s\",\"x\":\"%s\"}",
             o->id, m, o->type ? o->type : "indicator", o->body ? o->body : "");
    dt_sha256(json, strlen(json), h);
    store_put p = {
        .collection = o->collection ? o->collection : "c1",
        .id = o->id,
        .type = o->type ? o->type : "indicator",
        .spec_version = o->spec_version,
        .modified = m,
        .modified_text = m,
        .json = json,
        .json_len = strlen(json),
        .sha256 = h,
        .signer = "identity--11111111-1111-4111-8111-111111111111",
        .marking = o->marking,
        .leaf_index = -1,
        .revoked = o->revoked,
    };
    return store_put_version(t, &p, da ? da : &da_local, added ? added : &added_local, err);
}

static void put_commit(store *s, const obj *o)
{
    store_txn *t = NULL;
    dt_err err = {0};
    assert_int_equal(store_begin(s, &t, NULL), DT_OK);
    assert_int_equal(put_obj(t, o, NULL, NULL, &err), DT_OK);
    assert_int_equal(store_commit(t, NULL), DT_OK);
}

static char *idn(int i, char out[64])
{
    snprintf(out, 64, "indicator--00000000-0000-4000-8000-%012d", i);
    return out;
}

static store_query q_default(const char *collection)
{
    store_query q = {.collection = collection, .max_marking = -1, .limit = 100,
                     .with_json = true};
    return q;
}

static size_t count_rows(store *s, store_query q)
{
    store_page p = {0};
    size_t n = 0;
    q.limit = STORE_MAX_PAGE;
    assert_int_equal(store_query_page(s, &q, &p, NULL), DT_OK);
    n = p.count;
    assert_false(p.more);
    store_page_release(&p);
    return n;
}

/* ---- collections ---- */

static void test_store_collection_put_get_list(void **state)
{
    fixture *f = *state;
    store_collection c, *list = NULL;
    size_t n = 0;
    dt_err err = {0};
    add_collection(f->s, "c2");
    add_collection(f->s, "c1");
    assert_int_equal(store_collection_get(f->s, NULL, "c1", &c, NULL), DT_OK);
    assert_string_equal(c.title, "title of c1");
    assert_string_equal(c.api_root, "api1");
    assert_true(c.created > 0);
    assert_int_equal(store_collection_get(f->s, NULL, "nope", &c, &err), DT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "nope"));
    assert_int_equal(store_collection_list(f->s, &list, &n, NULL), DT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, "c1");
    assert_string_equal(list[1].id, "c2");
    dt_free(list);

    /* update keeps created */
    store_txn *t = NULL;
    int64_t created = c.created;
    assert_int_equal(store_collection_get(f->s, NULL, "c1", &c, NULL), DT_OK);
    snprintf(c.title, sizeof c.title, "renamed");
    c.created = 0;
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(store_collection_put(t, &c, NULL), DT_OK);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    assert_int_equal(store_collection_get(f->s, NULL, "c1", &c, NULL), DT_OK);
    assert_string_equal(c.title, "renamed");
    assert_int_equal(c.created, created);
}

/* ---- put / get ---- */

static void test_store_put_version_identical_is_noop(void **state)
{
    fixture *f = *state;
    store_txn *t = NULL;
    int64_t da1 = 0, da2 = 0;
    bool added = false;
    char id[64];
    obj o = {.id = idn(1, id), .version = 1};
    add_collection(f->s, "c1");
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(put_obj(t, &o, &da1, &added, NULL), DT_OK);
    assert_true(added);
    assert_true(da1 > 0);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(put_obj(t, &o, &da2, &added, NULL), DT_OK);
    assert_false(added);
    assert_int_equal(da2, da1);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    store_query q = q_default("c1");
    q.versions = STORE_VER_ALL;
    assert_int_equal(count_rows(f->s, q), 1);
}

static void test_store_put_version_conflict(void **state)
{
    fixture *f = *state;
    store_txn *t = NULL;
    dt_err err = {0};
    char id[64];
    obj o = {.id = idn(1, id), .version = 1};
    add_collection(f->s, "c1");
    put_commit(f->s, &o);
    o.body = "changed";
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(put_obj(t, &o, NULL, NULL, &err), DT_ECONFLICT);
    assert_non_null(strstr(err.msg, "different body"));
    assert_non_null(strstr(err.msg, id));
    store_rollback(t);
    store_row r;
    assert_int_equal(store_get_version(f->s, NULL, "c1", id, NULL, &r, NULL), DT_OK);
    assert_null(strstr(r.json, "changed"));
    store_row_release(&r);
}

static void test_store_put_version_unknown_collection(void **state)
{
    fixture *f = *state;
    store_txn *t = NULL;
    dt_err err = {0};
    char id[64];
    obj o = {.collection = "missing", .id = idn(1, id), .version = 1};
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(put_obj(t, &o, NULL, NULL, &err), DT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "missing"));
    store_rollback(t);
}

static void test_store_get_version_fields(void **state)
{
    fixture *f = *state;
    store_row r;
    char id[64], m[MLEN];
    dt_err err = {0};
    obj o = {.id = idn(7, id), .version = 3, .spec_version = "2.1", .marking = 2,
             .type = "malware"};
    add_collection(f->s, "c1");
    put_commit(f->s, &o);
    o.version = 5;
    put_commit(f->s, &o);
    assert_int_equal(store_get_version(f->s, NULL, "c1", id, mod(3, m), &r, NULL), DT_OK);
    assert_string_equal(r.id, id);
    assert_string_equal(r.collection, "c1");
    assert_string_equal(r.type, "malware");
    assert_string_equal(r.spec_version, "2.1");
    assert_string_equal(r.modified, m);
    assert_string_equal(r.modified_text, m);
    assert_int_equal(r.marking, 2);
    assert_int_equal(r.leaf_index, -1);
    assert_string_equal(r.signer, "identity--11111111-1111-4111-8111-111111111111");
    assert_int_equal(r.json_len, strlen(r.json));
    uint8_t h[32];
    dt_sha256(r.json, r.json_len, h);
    assert_memory_equal(h, r.sha256, 32);
    assert_false(r.revoked);
    assert_false(r.deleted);
    store_row_release(&r);
    /* newest */
    assert_int_equal(store_get_version(f->s, NULL, "c1", id, NULL, &r, NULL), DT_OK);
    assert_string_equal(r.modified, mod(5, m));
    store_row_release(&r);
    assert_int_equal(store_get_version(f->s, NULL, "c1", id, mod(4, m), &r, &err), DT_ENOTFOUND);
    assert_int_equal(store_get_version(f->s, NULL, "c2", id, NULL, &r, NULL), DT_ENOTFOUND);
}

static void test_store_put_version_date_added_increases(void **state)
{
    fixture *f = *state;
    store_txn *t = NULL;
    int64_t prev = 0, da = 0;
    char id[64];
    add_collection(f->s, "c1");
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    for (int i = 0; i < 200; i++) {
        obj o = {.id = idn(i, id), .version = 1};
        assert_int_equal(put_obj(t, &o, &da, NULL, NULL), DT_OK);
        assert_true(da > prev); /* strictly, even within one microsecond */
        prev = da;
    }
    assert_int_equal(store_commit(t, NULL), DT_OK);

    /* two collections written in turn in one transaction, then another
     * transaction: each collection's counter still only goes up */
    int64_t last[2] = {prev, 0};
    const char *colls[2] = {"c1", "c2"};
    size_t in_c2 = 0;
    add_collection(f->s, "c2");
    for (int round = 0; round < 2; round++) {
        assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
        for (int i = 0; i < 40; i++) {
            int k = (i / 3) % 2; /* c1 c1 c1 c2 c2 c2 c1 ... */
            obj o = {.collection = colls[k], .id = idn(1000 + round * 100 + i, id), .version = 1};
            assert_int_equal(put_obj(t, &o, &da, NULL, NULL), DT_OK);
            assert_true(da > last[k]);
            last[k] = da;
            in_c2 += (size_t)k;
        }
        assert_int_equal(store_commit(t, NULL), DT_OK);
    }
    assert_int_equal(count_rows(f->s, q_default("c2")), in_c2);
}

/* ---- query ---- */

static void test_store_query_versions(void **state)
{
    fixture *f = *state;
    store_page p = {0};
    char a[64], b[64], m1[MLEN], m2[MLEN];
    add_collection(f->s, "c1");
    /* a: versions 1, 3, 2 (inserted out of order); b: version 5 only */
    put_commit(f->s, &(obj){.id = idn(1, a), .version = 1});
    put_commit(f->s, &(obj){.id = idn(1, a), .version = 3});
    put_commit(f->s, &(obj){.id = idn(1, a), .version = 2});
    put_commit(f->s, &(obj){.id = idn(2, b), .version = 5});
    store_query q = q_default("c1");

    q.versions = 0; /* LAST */
    assert_int_equal(store_query_page(f->s, &q, &p, NULL), DT_OK);
    assert_int_equal(p.count, 2);
    assert_string_equal(p.rows[0].id, a);
    assert_string_equal(p.rows[0].modified, mod(3, m1));
    assert_string_equal(p.rows[1].id, b);
    store_page_release(&p);

    q.versions = STORE_VER_FIRST;
    assert_int_equal(store_query_page(f->s, &q, &p, NULL), DT_OK);
    assert_int_equal(p.count, 2);
    assert_string_equal(p.rows[0].modified, mod(1, m1));
    assert_string_equal(p.rows[1].modified, mod(5, m1));
    store_page_release(&p);

    q.versions = STORE_VER_FIRST | STORE_VER_LAST;
    assert_int_equal(count_rows(f->s, q), 3); /* a@1, a@3, b@5 (b once) */
    q.versions = STORE_VER_ALL;
    assert_int_equal(count_rows(f->s, q), 4);

    const char *at[] = {mod(2, m1), mod(5, m2)};
    q.versions = STORE_VER_AT;
    q.at = at;
    q.at_count = 2;
    assert_int_equal(store_query_page(f->s, &q, &p, NULL), DT_OK);
    assert_int_equal(p.count, 2);
    assert_string_equal(p.rows[0].modified, m1); /* a@2 was added before b@5 */
    store_page_release(&p);
    q.versions = STORE_VER_AT | STORE_VER_FIRST;
    assert_int_equal(count_rows(f->s, q), 3); /* a@1, a@2, b@5 */

    /* ordered by date_added: a@1, a@3, a@2, b@5 */
    q.versions = STORE_VER_ALL;
    assert_int_equal(store_query_page(f->s, &q, &p, NULL), DT_OK);
    assert_string_equal(p.rows[1].modified, mod(3, m1));
    assert_string_equal(p.rows[2].modified, mod(2, m1));
    for (size_t i = 1; i < p.count; i++)
        assert_true(p.rows[i].date_added > p.rows[i - 1].date_added);
    store_page_release(&p);
}

static void test_store_query_revoked_stays(void **state)
{
    fixture *f = *state;
    store_page p = {0};
    char a[64];
    add_collection(f->s, "c1");
    put_commit(f->s, &(obj){.id = idn(1, a), .version = 1});
    put_commit(f->s, &(obj){.id = idn(1, a), .version = 2, .revoked = true});
    store_query q = q_default("c1");
    assert_int_equal(store_query_page(f->s, &q, &p, NULL), DT_OK);
    assert_int_equal(p.count, 1);
    assert_true(p.rows[0].revoked);
    store_page_release(&p);
}

static void test_store_query_paging_with_inserts(void **state)
{
    fixture *f = *state;
    enum { N = 2500, EXTRA = 7 };
    store_txn *t = NULL;
    store_page p = {0};
    char id[64];
    unsigned char *seen = calloc(N + 100 * EXTRA, 1);
    size_t total = 0, pages = 0;
    int next = N;
    add_collection(f->s, "c1");
    add_collection(f->s, "c2");
    assert_non_null(seen);
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    for (int i = 0; i < N; i++) {
        obj o = {.id = idn(i, id), .version = 1, .collection = i % 5 == 0 ? "c2" : "c1"};
        assert_int_equal(put_obj(t, &o, NULL, NULL, NULL), DT_OK);
        o.collection = "c1";
        if (i % 5 == 0)
            assert_int_equal(put_obj(t, &o, NULL, NULL, NULL), DT_OK);
    }
    assert_int_equal(store_commit(t, NULL), DT_OK);

    store_query q = q_default("c1");
    q.with_json = false;
    for (;;) {
        assert_int_equal(store_query_page(f->s, &q, &p, NULL), DT_OK);
        pages++;
        for (size_t i = 0; i < p.count; i++) {
            int k = (int)strtol(strrchr(p.rows[i].id, '-') + 1, NULL, 10);
            assert_true(k >= 0 && k < N + 100 * EXTRA);
            assert_int_equal(seen[k], 0); /* never repeated */
            seen[k] = 1;
            assert_null(p.rows[i].json);
            assert_string_equal(p.rows[i].collection, "c1");
        }
        total += p.count;
        if (!p.more) {
            store_page_release(&p);
            break;
        }
        assert_int_equal(p.count, 100);
        q.after_date_added = p.rows[p.count - 1].date_added;
        q.after_rowid = p.rows[p.count - 1].rowid;
        store_page_release(&p);
        /* new rows between pages: new ids, and new versions of seen ids */
        assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
        for (int j = 0; j < EXTRA; j++) {
            obj o = {.id = idn(next++, id), .version = 1};
            assert_int_equal(put_obj(t, &o, NULL, NULL, NULL), DT_OK);
        }
        assert_int_equal(store_commit(t, NULL), DT_OK);
    }
    /* every row committed before the last page was returned, exactly once */
    assert_int_equal(total, (size_t)next);
    for (int k = 0; k < next; k++)
        assert_int_equal(seen[k], 1);
    assert_true(pages >= 25);
    free(seen);
}

static void test_store_query_added_after(void **state)
{
    fixture *f = *state;
    store_page p = {0};
    char id[64];
    int64_t das[5];
    store_txn *t = NULL;
    add_collection(f->s, "c1");
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(put_obj(t, &(obj){.id = idn(i, id), .version = 1}, &das[i], NULL, NULL),
                         DT_OK);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    store_query q = q_default("c1");
    q.added_after = das[1];
    assert_int_equal(store_query_page(f->s, &q, &p, NULL), DT_OK);
    assert_int_equal(p.count, 3);
    assert_int_equal(p.rows[0].date_added, das[2]);
    store_page_release(&p);
    /* combined with a cursor that is behind added_after: added_after wins */
    q.after_date_added = das[0];
    q.after_rowid = 1;
    assert_int_equal(count_rows(f->s, q), 3);
    /* and a cursor ahead of it: the cursor wins */
    q.after_date_added = das[3];
    q.after_rowid = INT64_MAX;
    assert_int_equal(count_rows(f->s, q), 1);
    q.added_after = das[4];
    q.after_date_added = q.after_rowid = 0;
    assert_int_equal(count_rows(f->s, q), 0);
}

static void test_store_query_filters(void **state)
{
    fixture *f = *state;
    store_page p = {0};
    char a[64], b[64], c[64];
    add_collection(f->s, "c1");
    put_commit(f->s, &(obj){.id = idn(1, a), .version = 1, .type = "indicator"});
    put_commit(f->s, &(obj){.id = idn(2, b), .version = 1, .type = "malware",
                            .spec_version = "2.0"});
    put_commit(f->s, &(obj){.id = idn(3, c), .version = 1, .type = "identity"});
    store_query q = q_default("c1");

    const char *types[] = {"malware", "identity"};
    q.types = types;
    q.type_count = 2;
    assert_int_equal(count_rows(f->s, q), 2);
    q.type_count = 1;
    assert_int_equal(store_query_page(f->s, &q, &p, NULL), DT_OK);
    assert_int_equal(p.count, 1);
    assert_string_equal(p.rows[0].id, b);
    assert_string_equal(p.rows[0].spec_version, "2.0");
    store_page_release(&p);
    q.type_count = 0;

    const char *ids[] = {a, c, "indicator--nope"};
    q.ids = ids;
    q.id_count = 3;
    assert_int_equal(count_rows(f->s, q), 2);
    q.id_count = 0;

    const char *sv[] = {"2.1"};
    q.spec_versions = sv;
    q.spec_version_count = 1;
    assert_int_equal(count_rows(f->s, q), 2); /* unset spec_version stored as 2.1 */
    q.spec_version_count = 0;

    q.collection = "c9";
    assert_int_equal(count_rows(f->s, q), 0);

    dt_err err = {0};
    q.collection = "c1";
    q.limit = 0;
    assert_int_equal(store_query_page(f->s, &q, &p, &err), DT_EARG);
    q.limit = STORE_MAX_PAGE + 1;
    assert_int_equal(store_query_page(f->s, &q, &p, NULL), DT_EARG);
}

static void test_store_query_max_marking(void **state)
{
    fixture *f = *state;
    char id[64];
    add_collection(f->s, "c1");
    for (int i = 0; i < 4; i++)
        put_commit(f->s, &(obj){.id = idn(i, id), .version = 1, .marking = i});
    store_query q = q_default("c1");
    assert_int_equal(count_rows(f->s, q), 4);
    q.max_marking = 0;
    assert_int_equal(count_rows(f->s, q), 1);
    q.max_marking = 2;
    assert_int_equal(count_rows(f->s, q), 3);
}

static void test_store_erase_all_and_one(void **state)
{
    fixture *f = *state;
    store_txn *t = NULL;
    store_page p = {0};
    store_row r;
    size_t n = 0;
    char a[64], b[64], m[MLEN];
    dt_err err = {0};
    add_collection(f->s, "c1");
    for (int v = 1; v <= 3; v++)
        put_commit(f->s, &(obj){.id = idn(1, a), .version = v});
    put_commit(f->s, &(obj){.id = idn(2, b), .version = 1});

    /* erase the newest version of a: "last" falls back to version 2 */
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(store_erase(t, "c1", a, mod(3, m), &n, NULL), DT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    store_query q = q_default("c1");
    const char *ids[] = {a};
    q.ids = ids;
    q.id_count = 1;
    assert_int_equal(store_query_page(f->s, &q, &p, NULL), DT_OK);
    assert_int_equal(p.count, 1);
    assert_string_equal(p.rows[0].modified, mod(2, m));
    store_page_release(&p);
    q.versions = STORE_VER_ALL;
    assert_int_equal(count_rows(f->s, q), 2);
    q.include_deleted = true;
    assert_int_equal(store_query_page(f->s, &q, &p, NULL), DT_OK);
    assert_int_equal(p.count, 3);
    assert_true(p.rows[2].deleted);
    assert_null(p.rows[2].json);
    store_page_release(&p);
    assert_int_equal(store_get_version(f->s, NULL, "c1", a, mod(3, m), &r, NULL), DT_OK);
    assert_true(r.deleted);
    assert_null(r.json);
    store_row_release(&r);

    /* erase every version: a disappears, b stays */
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(store_erase(t, "c1", a, NULL, &n, NULL), DT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_erase(t, "c1", a, NULL, &n, NULL), DT_OK);
    assert_int_equal(n, 0); /* already erased */
    assert_int_equal(store_erase(t, "c1", "indicator--nope", NULL, &n, &err), DT_ENOTFOUND);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    q = q_default("c1");
    assert_int_equal(store_query_page(f->s, &q, &p, NULL), DT_OK);
    assert_int_equal(p.count, 1);
    assert_string_equal(p.rows[0].id, b);
    store_page_release(&p);
}

/* ---- transactions ---- */

static void test_store_reader_isolation(void **state)
{
    fixture *f = *state;
    store_txn *t = NULL;
    store_row r;
    char a[64];
    add_collection(f->s, "c1");
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(put_obj(t, &(obj){.id = idn(1, a), .version = 1}, NULL, NULL, NULL), DT_OK);
    /* the writer's own reads see it, other readers do not */
    assert_int_equal(store_get_version(f->s, t, "c1", a, NULL, &r, NULL), DT_OK);
    store_row_release(&r);
    assert_int_equal(store_get_version(f->s, NULL, "c1", a, NULL, &r, NULL), DT_ENOTFOUND);
    assert_int_equal(count_rows(f->s, q_default("c1")), 0);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    assert_int_equal(count_rows(f->s, q_default("c1")), 1);
}

static void test_store_rollback_leaves_nothing(void **state)
{
    fixture *f = *state;
    store_txn *t = NULL;
    char a[64], *v = NULL;
    uint8_t h[32] = {1};
    uint64_t size = 9;
    int64_t da1 = 0, da2 = 0;
    add_collection(f->s, "c1");
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(put_obj(t, &(obj){.id = idn(1, a), .version = 1}, &da1, NULL, NULL), DT_OK);
    assert_int_equal(store_kv_put(t, "k", "v", NULL), DT_OK);
    assert_int_equal(store_leaf_append(t, h, "{}", 2, &size, NULL), DT_OK);
    store_rollback(t);
    assert_int_equal(count_rows(f->s, q_default("c1")), 0);
    assert_int_equal(store_kv_get(f->s, NULL, "k", &v, NULL), DT_ENOTFOUND);
    assert_null(v);
    assert_int_equal(store_ledger_size(f->s, NULL, &size, NULL), DT_OK);
    assert_int_equal(size, 0);
    /* the collection's date_added counter rolled back too, but stays increasing */
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(put_obj(t, &(obj){.id = idn(1, a), .version = 1}, &da2, NULL, NULL), DT_OK);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    assert_true(da2 > 0);
}

static void test_store_reopen_keeps_everything(void **state)
{
    fixture *f = *state;
    store_txn *t = NULL;
    store_row r;
    char a[64], *v = NULL;
    uint8_t h[32] = {7}, h2[32];
    uint64_t idx = 0;
    store_user u = {.max_marking = 3};
    snprintf(u.name, sizeof u.name, "alice");
    snprintf(u.pw_hash, sizeof u.pw_hash, "$argon2id$x");
    add_collection(f->s, "c1");
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(put_obj(t, &(obj){.id = idn(1, a), .version = 1}, NULL, NULL, NULL), DT_OK);
    assert_int_equal(store_kv_put(t, "node/name", "n1", NULL), DT_OK);
    assert_int_equal(store_leaf_append(t, h, "leaf", 4, &idx, NULL), DT_OK);
    assert_int_equal(store_user_put(t, &u, NULL), DT_OK);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(fx_open(f, false, NULL), DT_OK);
    assert_int_equal(store_get_version(f->s, NULL, "c1", a, NULL, &r, NULL), DT_OK);
    store_row_release(&r);
    assert_int_equal(store_kv_get(f->s, NULL, "node/name", &v, NULL), DT_OK);
    assert_string_equal(v, "n1");
    dt_free(v);
    assert_int_equal(store_leaf_get(f->s, NULL, 0, h2, NULL, NULL, NULL), DT_OK);
    assert_memory_equal(h, h2, 32);
    assert_int_equal(store_user_get(f->s, "alice", &u, NULL), DT_OK);
    assert_int_equal(u.max_marking, 3);
    /* read-only open reads, refuses writes */
    store_close(f->s);
    f->s = NULL;
    dt_err err = {0};
    assert_int_equal(fx_open(f, true, NULL), DT_OK);
    assert_int_equal(count_rows(f->s, q_default("c1")), 1);
    assert_int_equal(store_begin(f->s, &t, &err), DT_EDENIED);
    assert_null(t);
}

static void test_store_begin_waits_for_writer(void **state);

/* ---- ledger ---- */

static void test_store_ledger_leaves_nodes_sths(void **state)
{
    fixture *f = *state;
    store_txn *t = NULL;
    uint8_t h[32], got[32];
    uint64_t idx = 99, size = 0;
    char *leaf = NULL, *json = NULL;
    size_t len = 0;
    dt_err err = {0};
    assert_int_equal(store_ledger_size(f->s, NULL, &size, NULL), DT_OK);
    assert_int_equal(size, 0);
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    for (int i = 0; i < 5; i++) {
        char text[32];
        snprintf(text, sizeof text, "leaf %d", i);
        dt_sha256(text, strlen(text), h);
        assert_int_equal(store_leaf_append(t, h, text, strlen(text), &idx, NULL), DT_OK);
        assert_int_equal(idx, (uint64_t)i);
    }
    assert_int_equal(store_ledger_size(f->s, t, &size, NULL), DT_OK);
    assert_int_equal(size, 5);
    /* same hash twice is refused */
    assert_int_equal(store_leaf_append(t, h, "x", 1, &idx, &err), DT_ECONFLICT);
    assert_int_equal(store_commit(t, NULL), DT_OK);

    assert_int_equal(store_leaf_get(f->s, NULL, 2, got, &leaf, &len, NULL), DT_OK);
    assert_string_equal(leaf, "leaf 2");
    assert_int_equal(len, 6);
    dt_sha256("leaf 2", 6, h);
    assert_memory_equal(got, h, 32);
    dt_free(leaf);
    assert_int_equal(store_leaf_find(f->s, h, &idx, NULL), DT_OK);
    assert_int_equal(idx, 2);
    memset(h, 0xAB, 32);
    assert_int_equal(store_leaf_find(f->s, h, &idx, NULL), DT_ENOTFOUND);
    assert_int_equal(store_leaf_get(f->s, NULL, 5, got, NULL, NULL, NULL), DT_ENOTFOUND);

    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    memset(h, 0x11, 32);
    assert_int_equal(store_node_put(t, 1, 0, h, NULL), DT_OK);
    assert_int_equal(store_node_put(t, 1, 0, h, NULL), DT_OK); /* same hash: fine */
    assert_int_equal(store_node_get(f->s, t, 1, 0, got, NULL), DT_OK);
    assert_memory_equal(got, h, 32);
    memset(h, 0x22, 32);
    dt_err_clear(&err);
    assert_int_equal(store_node_put(t, 1, 0, h, &err), DT_ECONFLICT);
    assert_int_equal(store_node_get(f->s, t, 2, 0, got, NULL), DT_ENOTFOUND);
    assert_int_equal(store_sth_put(t, 4, "{\"tree_size\":4}", NULL), DT_OK);
    assert_int_equal(store_sth_put(t, 5, "{\"tree_size\":5}", NULL), DT_OK);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    assert_int_equal(store_sth_get(f->s, UINT64_MAX, &json, NULL), DT_OK);
    assert_string_equal(json, "{\"tree_size\":5}");
    dt_free(json);
    assert_int_equal(store_sth_get(f->s, 4, &json, NULL), DT_OK);
    assert_string_equal(json, "{\"tree_size\":4}");
    dt_free(json);
    assert_int_equal(store_sth_get(f->s, 3, &json, NULL), DT_ENOTFOUND);
    assert_null(json);
}

/* ---- accounts ---- */

static void test_store_users_tokens_grants(void **state)
{
    fixture *f = *state;
    store_txn *t = NULL;
    store_user u = {.max_marking = 2}, got, *list = NULL;
    size_t n = 0;
    uint8_t tok[32] = {9}, tok2[32] = {8};
    char who[64];
    unsigned perms = 99;
    dt_err err = {0};
    snprintf(u.name, sizeof u.name, "bob");
    snprintf(u.pw_hash, sizeof u.pw_hash, "$argon2id$v=19$hash");
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(store_user_put(t, &u, NULL), DT_OK);
    snprintf(u.name, sizeof u.name, "alice");
    assert_int_equal(store_user_put(t, &u, NULL), DT_OK);
    assert_int_equal(store_token_put(t, tok, "bob", NULL), DT_OK);
    assert_int_equal(store_token_put(t, tok2, "nobody", &err), DT_ENOTFOUND);
    assert_int_equal(store_grant_put(t, "bob", "c1", STORE_PERM_READ | STORE_PERM_WRITE, NULL),
                     DT_OK);
    assert_int_equal(store_grant_put(t, "bob", "c2", STORE_PERM_READ, NULL), DT_OK);
    assert_int_equal(store_commit(t, NULL), DT_OK);

    assert_int_equal(store_user_get(f->s, "bob", &got, NULL), DT_OK);
    assert_string_equal(got.pw_hash, "$argon2id$v=19$hash");
    assert_int_equal(got.max_marking, 2);
    assert_true(got.created > 0);
    assert_int_equal(store_user_list(f->s, &list, &n, NULL), DT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "alice");
    dt_free(list);
    assert_int_equal(store_token_user(f->s, tok, who, NULL), DT_OK);
    assert_string_equal(who, "bob");
    assert_int_equal(store_token_user(f->s, tok2, who, NULL), DT_ENOTFOUND);
    assert_int_equal(store_grant_get(f->s, "bob", "c1", &perms, NULL), DT_OK);
    assert_int_equal(perms, STORE_PERM_READ | STORE_PERM_WRITE);
    assert_int_equal(store_grant_get(f->s, "alice", "c1", &perms, NULL), DT_OK);
    assert_int_equal(perms, 0);

    /* updating keeps tokens and grants; removing drops them */
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    snprintf(u.name, sizeof u.name, "bob");
    u.max_marking = 4;
    assert_int_equal(store_user_put(t, &u, NULL), DT_OK);
    assert_int_equal(store_grant_put(t, "bob", "c2", 0, NULL), DT_OK);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    assert_int_equal(store_token_user(f->s, tok, who, NULL), DT_OK);
    assert_int_equal(store_grant_get(f->s, "bob", "c2", &perms, NULL), DT_OK);
    assert_int_equal(perms, 0);
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(store_user_remove(t, "bob", NULL), DT_OK);
    dt_err_clear(&err);
    assert_int_equal(store_user_remove(t, "bob", &err), DT_ENOTFOUND);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    assert_int_equal(store_token_user(f->s, tok, who, NULL), DT_ENOTFOUND);
    assert_int_equal(store_grant_get(f->s, "bob", "c1", &perms, NULL), DT_OK);
    assert_int_equal(perms, 0);
    /* a re-created bob does not inherit the old grants */
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(store_user_put(t, &u, NULL), DT_OK);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    assert_int_equal(store_grant_get(f->s, "bob", "c1", &perms, NULL), DT_OK);
    assert_int_equal(perms, 0);
}

/* ---- kv ---- */

static void test_store_kv_put_get_list(void **state)
{
    fixture *f = *state;
    store_txn *t = NULL;
    char *v = NULL, **keys = NULL, **vals = NULL;
    size_t n = 0;
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(store_kv_put(t, "peer/b", "2", NULL), DT_OK);
    assert_int_equal(store_kv_put(t, "peer/a", "1", NULL), DT_OK);
    assert_int_equal(store_kv_put(t, "peer/c", "3", NULL), DT_OK);
    assert_int_equal(store_kv_put(t, "peeq", "x", NULL), DT_OK);
    assert_int_equal(store_kv_put(t, "peer", "y", NULL), DT_OK);
    assert_int_equal(store_kv_put(t, "status/1", "s", NULL), DT_OK);
    assert_int_equal(store_kv_put(t, "peer/c", "33", NULL), DT_OK); /* replace */
    assert_int_equal(store_kv_get(f->s, t, "peer/c", &v, NULL), DT_OK);
    assert_string_equal(v, "33");
    dt_free(v);
    assert_int_equal(store_commit(t, NULL), DT_OK);

    assert_int_equal(store_kv_list(f->s, "peer/", 0, &keys, &vals, &n, NULL), DT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(keys[0], "peer/a");
    assert_string_equal(vals[0], "1");
    assert_string_equal(keys[2], "peer/c");
    assert_string_equal(vals[2], "33");
    store_kv_list_free(keys, vals, n);
    assert_int_equal(store_kv_list(f->s, "peer/", 2, &keys, &vals, &n, NULL), DT_OK);
    assert_int_equal(n, 2);
    store_kv_list_free(keys, vals, n);
    assert_int_equal(store_kv_list(f->s, "", 0, &keys, &vals, &n, NULL), DT_OK);
    assert_int_equal(n, 6);
    store_kv_list_free(keys, vals, n);
    assert_int_equal(store_kv_list(f->s, "zzz", 0, &keys, &vals, &n, NULL), DT_OK);
    assert_int_equal(n, 0);
    store_kv_list_free(keys, vals, n);

    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(store_kv_put(t, "peer/a", NULL, NULL), DT_OK);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    assert_int_equal(store_kv_get(f->s, NULL, "peer/a", &v, NULL), DT_ENOTFOUND);
    assert_null(v);
}

static void test_store_counts_totals(void **state)
{
    fixture *f = *state;
    store_counts c;
    store_txn *t = NULL;
    store_user u = {0};
    uint8_t h[32] = {3};
    uint64_t idx;
    char a[64];
    add_collection(f->s, "c1");
    add_collection(f->s, "c2");
    put_commit(f->s, &(obj){.id = idn(1, a), .version = 1});
    put_commit(f->s, &(obj){.id = idn(1, a), .version = 2});
    put_commit(f->s, &(obj){.id = idn(1, a), .version = 2, .collection = "c2"});
    put_commit(f->s, &(obj){.id = idn(2, a), .version = 1});
    snprintf(u.name, sizeof u.name, "u");
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(store_user_put(t, &u, NULL), DT_OK);
    assert_int_equal(store_leaf_append(t, h, "l", 1, &idx, NULL), DT_OK);
    assert_int_equal(store_commit(t, NULL), DT_OK);
    assert_int_equal(store_counts_get(f->s, &c, NULL), DT_OK);
    assert_int_equal(c.objects, 4);
    assert_int_equal(c.ids, 2);
    assert_int_equal(c.collections, 2);
    assert_int_equal(c.ledger_leaves, 1);
    assert_int_equal(c.users, 1);
}

/* ---- failures ---- */

static void test_store_query_alloc_fail(void **state)
{
    fixture *f = *state;
    char id[64];
    int oks = 0;
    add_collection(f->s, "c1");
    for (int i = 0; i < 3; i++)
        put_commit(f->s, &(obj){.id = idn(i, id), .version = 1});
    /* fail each allocation of a query in turn: each ends in DT_ENOMEM with
     * nothing leaked (ASan checks), until the query runs clean */
    for (unsigned long n = 1; n < 200 && oks == 0; n++) {
        store_page p = {.count = 77};
        dt_err err = {0};
        store_query q = q_default("c1");
        dt_alloc_fail_at(n);
        dt_status rc = store_query_page(f->s, &q, &p, &err);
        dt_alloc_fail_at(0);
        if (rc == DT_OK) {
            assert_int_equal(p.count, 3);
            oks++;
        } else {
            assert_int_equal(rc, DT_ENOMEM);
            assert_int_equal(p.count, 0);
            assert_null(p.rows);
            assert_true(strlen(err.msg) > 0);
        }
        store_page_release(&p);
    }
    assert_int_equal(oks, 1);
    /* and a write: put_version under allocation failure leaves the txn usable */
    for (unsigned long n = 1; n < 50; n++) {
        store_txn *t = NULL;
        dt_err err = {0};
        assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
        dt_alloc_fail_at(n);
        dt_status rc = put_obj(t, &(obj){.id = idn(9, id), .version = 1}, NULL, NULL, &err);
        dt_alloc_fail_at(0);
        store_rollback(t);
        if (rc == DT_OK)
            break;
        assert_int_equal(rc, DT_ENOMEM);
    }
}

static void test_store_open_corrupt_file(void **state)
{
    fixture *f = *state;
    store *s2 = NULL;
    dt_err err = {0};
    char bad[160];
    FILE *fp;
    snprintf(bad, sizeof bad, "%s/garbage.db", f->dir);
    fp = fopen(bad, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 4096; i++)
        fputc((i * 37 + 11) & 0xff, fp);
    fclose(fp);
    store_config cfg = {.backend = f->ops->name, .path = bad};
    assert_int_equal(f->ops->open(&cfg, &s2, &err), DT_EDB);
    assert_null(s2);
    assert_non_null(strstr(err.msg, bad));
    assert_non_null(strstr(err.msg, "file is not a database"));
}

static void test_store_open_newer_schema(void **state)
{
    fixture *f = *state;
    sqlite3 *db = NULL;
    dt_err err = {0};
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(fx_open(f, false, &err), DT_EDB);
    assert_non_null(strstr(err.msg, "newer"));
    assert_non_null(strstr(err.msg, f->path));
}

/* Another process holds the write lock: begin waits the busy timeout, then
 * fails with a message naming the file and SQLite's reason. */
static void test_store_begin_locked_database(void **state)
{
    fixture *f = *state;
    sqlite3 *db = NULL;
    store_txn *t = NULL;
    dt_err err = {0};
    store_close(f->s);
    f->s = NULL;
    store_config cfg = {.path = f->path, .busy_timeout_ms = 50};
    assert_int_equal(store_open(&cfg, &f->s, NULL), DT_OK);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(store_begin(f->s, &t, &err), DT_EDB);
    assert_null(t);
    assert_non_null(strstr(err.msg, f->path));
    assert_non_null(strstr(err.msg, "locked"));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    /* the lock gone, the store works again */
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(store_kv_put(t, "k", "v", NULL), DT_OK);
    assert_int_equal(store_commit(t, NULL), DT_OK);
}

static void test_store_open_unknown_backend(void **state)
{
    store *s = NULL;
    dt_err err = {0};
    store_config cfg = {.backend = "oracle", .path = "/tmp/x"};
    assert_int_equal(store_open(&cfg, &s, &err), DT_EARG);
    assert_non_null(strstr(err.msg, "oracle"));
    assert_null(s);
}

/* The page query must be one range scan of (collection, date_added), with no
 * sort, so that a page costs O(page) in a collection of any size. */
static void test_store_query_plan_uses_page_index(void **state)
{
    fixture *f = *state;
    char *plan = NULL;
    store_query q = q_default("c1");
    assert_int_equal(store_sqlite_query_plan(f->s, &q, &plan, NULL), DT_OK);
    assert_non_null(strstr(plan, "objects_page"));
    assert_null(strstr(plan, "TEMP B-TREE"));
    dt_free(plan);
    q.versions = STORE_VER_FIRST | STORE_VER_AT;
    const char *at[] = {"2024-01-01T00:00:00.000000000Z"};
    q.at = at;
    q.at_count = 1;
    q.added_after = 5;
    q.max_marking = 2;
    assert_int_equal(store_sqlite_query_plan(f->s, &q, &plan, NULL), DT_OK);
    assert_null(strstr(plan, "TEMP B-TREE"));
    assert_null(strstr(plan, "SCAN objects\n"));
    dt_free(plan);
    /* one type: its own (collection, type, date_added) index, still no sort */
    const char *types[] = {"indicator"};
    q = q_default("c1");
    q.types = types;
    q.type_count = 1;
    assert_int_equal(store_sqlite_query_plan(f->s, &q, &plan, NULL), DT_OK);
    assert_null(strstr(plan, "TEMP B-TREE"));
    dt_free(plan);
    /* listed ids: the version index (a few rows per id, then sorted) */
    const char *ids[] = {"indicator--1", "indicator--2"};
    q = q_default("c1");
    q.ids = ids;
    q.id_count = 2;
    assert_int_equal(store_sqlite_query_plan(f->s, &q, &plan, NULL), DT_OK);
    assert_non_null(strstr(plan, "objects_version (collection=? AND id=?)"));
    dt_free(plan);
}

#include <pthread.h>
#include <stdatomic.h>

typedef struct waiter {
    store *s;
    int64_t began_at;
} waiter;

static void *begin_thread(void *arg)
{
    waiter *w = arg;
    store_txn *t = NULL;
    if (store_begin(w->s, &t, NULL) == DT_OK) {
        w->began_at = dt_now_us();
        store_rollback(t);
    }
    return NULL;
}

static void test_store_begin_waits_for_writer(void **state)
{
    fixture *f = *state;
    store_txn *t = NULL;
    pthread_t th;
    waiter w = {.s = f->s};
    int64_t released;
    assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
    assert_int_equal(pthread_create(&th, NULL, begin_thread, &w), 0);
    usleep(100 * 1000);
    assert_int_equal(w.began_at, 0); /* still waiting */
    released = dt_now_us();
    assert_int_equal(store_commit(t, NULL), DT_OK);
    pthread_join(th, NULL);
    assert_true(w.began_at >= released);
}

typedef struct reader_arg {
    store *s;
    atomic_int *stop;
    int reads;
    int bad;
} reader_arg;

static void *reader_thread(void *arg)
{
    reader_arg *r = arg;
    size_t last = 0;
    while (!atomic_load(r->stop) || r->reads == 0) {
        store_query q = q_default("c1");
        store_page p = {0};
        q.versions = STORE_VER_ALL;
        q.limit = STORE_MAX_PAGE;
        q.with_json = false;
        if (store_query_page(r->s, &q, &p, NULL) != DT_OK) {
            r->bad++;
            break;
        }
        /* whole transactions of 10 only, and never fewer than before */
        if (p.count % 10 != 0 || p.count < last)
            r->bad++;
        last = p.count;
        store_page_release(&p);
        r->reads++;
    }
    return NULL;
}

/* Readers on several threads while the writer commits: each sees a
 * committed state (whole transactions), and the pool serves them all. */
static void test_store_concurrent_readers(void **state)
{
    fixture *f = *state;
    enum { THREADS = 6 };
    pthread_t th[THREADS];
    reader_arg args[THREADS];
    atomic_int stop = 0;
    char id[64];
    int n = 0;
    add_collection(f->s, "c1");
    for (int i = 0; i < THREADS; i++) {
        args[i] = (reader_arg){.s = f->s, .stop = &stop};
        assert_int_equal(pthread_create(&th[i], NULL, reader_thread, &args[i]), 0);
    }
    for (int b = 0; b < 30; b++) {
        store_txn *t = NULL;
        assert_int_equal(store_begin(f->s, &t, NULL), DT_OK);
        for (int k = 0; k < 10; k++)
            assert_int_equal(put_obj(t, &(obj){.id = idn(n++, id), .version = 1}, NULL, NULL,
                                     NULL),
                             DT_OK);
        assert_int_equal(store_commit(t, NULL), DT_OK);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].bad, 0);
        assert_true(args[i].reads > 0);
    }
    assert_int_equal(count_rows(f->s, q_default("c1")), 300);
}

/* ---- driver ---- */

typedef struct backend {
    const store_ops *ops;
    bool is_sqlite;
} backend;

static const backend backends[] = {
    {&store_sqlite_ops, true},
    /* {&store_postgres_ops, false}, when it exists */
};

#define T(fn) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)b->ops)

int main(void)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        const backend *b = &backends[i];
        const struct CMUnitTest common[] = {
            T(test_store_collection_put_get_list),
            T(test_store_put_version_identical_is_noop),
            T(test_store_put_version_conflict),
            T(test_store_put_version_unknown_collection),
            T(test_store_get_version_fields),
            T(test_store_put_version_date_added_increases),
            T(test_store_query_versions),
            T(test_store_query_revoked_stays),
            T(test_store_query_paging_with_inserts),
            T(test_store_query_added_after),
            T(test_store_query_filters),
            T(test_store_query_max_marking),
            T(test_store_erase_all_and_one),
            T(test_store_reader_isolation),
            T(test_store_rollback_leaves_nothing),
            T(test_store_reopen_keeps_everything),
            T(test_store_begin_waits_for_writer),
            T(test_store_concurrent_readers),
            T(test_store_ledger_leaves_nodes_sths),
            T(test_store_users_tokens_grants),
            T(test_store_kv_put_get_list),
            T(test_store_counts_totals),
            T(test_store_query_alloc_fail),
            T(test_store_open_corrupt_file),
            T(test_store_open_unknown_backend),
        };
        failed += _cmocka_run_group_tests(b->ops->name, common, sizeof common / sizeof common[0],
                                          NULL, NULL);
        if (b->is_sqlite) {
            const struct CMUnitTest sqlite_only[] = {
                T(test_store_open_newer_schema),
                T(test_store_begin_locked_database),
                T(test_store_query_plan_uses_page_index),
            };
            failed += cmocka_run_group_tests_name("sqlite-only", sqlite_only, NULL, NULL);
        }
    }
    return failed;
}
