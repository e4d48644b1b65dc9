/* bench_store: how fast the SQLite store ingests, and that a page costs the
 * same whatever the collection's size.
 *
 * Fills one collection with indicator-like rows (about 250 bytes of JSON
 * each; every tenth id gets a second version) in transactions of 1000,
 * printing put_version rows/s, and at 1k, 100k and 1M rows times one page
 * of 100 (TAXII defaults: newest version of each id) at the start, the
 * middle and the end of the collection, plus the query plan. Figures only,
 * nothing asserted. Usage: bench_store [max_rows] [dir] (default 1000000,
 * a fresh directory under /tmp, removed afterwards). */
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, const dt_err *err)
{
    char text[400];
    fprintf(stderr, "bench_store: %s: %s\n", what, dt_err_text(err, text, sizeof text));
    return 1;
}

/* Time one page starting after the cursor (after_da, after_rowid),
 * averaged over reps. */
static int time_page(store *s, const char *collection, int64_t after_da, int64_t after_rowid,
                     const char *label, size_t rows)
{
    const int reps = 200;
    store_query q = {.collection = collection, .max_marking = -1, .limit = 100,
                     .with_json = true, .after_date_added = after_da,
                     .after_rowid = after_rowid};
    store_page p = {0};
    dt_err err = {0};
    double t0 = now_s();
    size_t got = 0;
    for (int i = 0; i < reps; i++) {
        if (store_query_page(s, &q, &p, &err) != DT_OK)
            return die("query", &err);
        got = p.count;
        store_page_release(&p);
    }
    printf("  %9zu rows  page of 100 at %-6s %8.1f us  (%zu rows returned)\n", rows, label,
           (now_s() - t0) / reps * 1e6, got);
    return 0;
}

/* Cursor just before the newest version of id number n. */
static void cursor_at(store *s, size_t n, int64_t *da, int64_t *rowid)
{
    store_row r;
    char id[80];
    snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012zu", n);
    *da = *rowid = 0;
    if (store_get_version(s, NULL, "bench", id, NULL, &r, NULL) == DT_OK) {
        *da = r.date_added;
        *rowid = r.rowid - 1;
        store_row_release(&r);
    }
}

static int pages_at(store *s, size_t rows, size_t ids)
{
    int64_t da, rowid;
    if (time_page(s, "bench", 0, 0, "start", rows))
        return 1;
    cursor_at(s, ids / 2, &da, &rowid);
    if (time_page(s, "bench", da, rowid, "middle", rows))
        return 1;
    /* 150 ids before the end: the page still fills */
    cursor_at(s, ids > 150 ? ids - 150 : 0, &da, &rowid);
    return time_page(s, "bench", da, rowid, "end", rows);
}

int main(int argc, char **argv)
{
    size_t max_rows = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    char dir[256], path[300];
    store *s = NULL;
    store_txn *t = NULL;
    dt_err err = {0};
    size_t next_mark = 0;
    const size_t marks[] = {1000, 100000, 1000000, 0};
    double t0, t_ingest = 0;
    size_t ingested = 0, ids = 0;

    if (argc > 2)
        snprintf(dir, sizeof dir, "%s", argv[2]);
    else {
        snprintf(dir, sizeof dir, "/tmp/detente-bench-store-XXXXXX");
        if (mkdtemp(dir) == NULL) {
            perror("mkdtemp");
            return 1;
        }
    }
    snprintf(path, sizeof path, "%s/bench.db", dir);
    store_config cfg = {.path = path};
    if (store_open(&cfg, &s, &err) != DT_OK)
        return die("open", &err);
    store_collection c = {.created = 0};
    snprintf(c.id, sizeof c.id, "bench");
    snprintf(c.title, sizeof c.title, "bench");
    if (store_begin(s, &t, &err) || store_collection_put(t, &c, &err) || store_commit(t, &err))
        return die("collection", &err);

    printf("bench_store: SQLite %s, WAL, synchronous=FULL, file %s\n", sqlite3_libversion(),
           path);
    while (ingested < max_rows) {
        t0 = now_s();
        if (store_begin(s, &t, &err) != DT_OK)
            return die("begin", &err);
        for (int k = 0; k < 1000 && ingested < max_rows; k++) {
            char id[80], json[512], m[40];
            uint8_t h[32];
            int64_t da;
            bool added;
            /* every tenth row is a second version of an earlier id */
            bool again = ingested % 10 == 9 && ids > 0;
            size_t n = again ? ids - 1 : ids;
            snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012zu", n);
            snprintf(m, sizeof m, "2024-01-01T00:00:0%d.000000000Z", again ? 2 : 1);
            snprintf(json, sizeof json,
                     "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                     "\"created\":\"2024-01-01T00:00:01.000Z\",\"modified\":\"%s\","
                     "\"pattern\":\"[ipv4-addr:value = '10.%zu.%zu.%zu']\","
                     "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
                     id, m, (n >> 16) & 255, (n >> 8) & 255, n & 255);
            dt_sha256(json, strlen(json), h);
            store_put p = {.collection = "bench", .id = id, .type = "indicator",
                           .spec_version = "2.1", .modified = m, .modified_text = m,
                           .json = json, .json_len = strlen(json), .sha256 = h,
                           .marking = 0, .leaf_index = (int64_t)ingested};
            if (store_put_version(t, &p, &da, &added, &err) != DT_OK)
                return die("put", &err);
            if (!again)
                ids++;
            ingested++;
        }
        if (store_commit(t, &err) != DT_OK)
            return die("commit", &err);
        t_ingest += now_s() - t0;
        if (ingested == 100000 || (ingested == max_rows && max_rows < 100000))
            printf("put_version: %zu rows in transactions of 1000: %.0f rows/s\n", ingested,
                   (double)ingested / t_ingest);
        while (marks[next_mark] != 0 && ingested >= marks[next_mark]) {
            if (pages_at(s, ingested, ids))
                return 1;
            next_mark++;
        }
    }
    printf("put_version: %zu rows overall: %.0f rows/s\n", ingested,
           (double)ingested / t_ingest);
    store_query q = {.collection = "bench", .max_marking = -1, .limit = 100};
    char *plan = NULL;
    if (store_sqlite_query_plan(s, &q, &plan, &err) == DT_OK) {
        printf("page plan: %s", plan);
        dt_free(plan);
    }
    store_close(s);
    if (argc <= 2) {
        char p2[320];
        unlink(path);
        snprintf(p2, sizeof p2, "%s-wal", path);
        unlink(p2);
        snprintf(p2, sizeof p2, "%s-shm", path);
        unlink(p2);
        rmdir(dir);
    }
    return 0;
}
