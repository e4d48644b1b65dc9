/* bench_verify: how fast the pure verification cores run.
 *
 * 1. Warninglist lookups: 1M generated indicator values of mixed kinds
 *    (IPv4, IPv6, domains, URLs, MD5/SHA-1/SHA-256), deterministic
 *    (xorshift, fixed seed), some of them drawn from well-known names and
 *    ranges so that hits occur, looked up against every shipped list; the
 *    same values through the technical checks.
 * 2. Verdicts and reliability: 1M claims by 1,000 sources, 1M sightings and
 *    100k opinions (plus a warninglist hit on 5% of claims), all in memory;
 *    one verdict per claim, then reliability per source from its claims.
 * 3. The store-backed recompute: a real node (node_init in a temporary
 *    directory) whose store gets 1M indicators from 1,000 signers, 1M
 *    sightings and 100k opinions, written with the store API directly, one
 *    transaction per 10k rows; then node_verify_run (read everything through
 *    node_query, parse, judge every claim) and every source's reliability
 *    with 6 months of history, as `detente verdicts` and `detente
 *    reliability` do. --quick: 100k claims, 100k sightings, 10k opinions.
 * 4. One claim's verdict: the evidence index rebuilt over that store, then
 *    node_verify_one on 1,000 random claims (latency, and whether each JSON
 *    equals the full pass's), against the full pass it replaces.
 * Prints figures; asserts nothing about time.
 *
 * usage: bench_verify [--quick] [--no-store] [LIST-DIR] [VALUES]
 * (LIST-DIR defaults to $DETENTE_SRC/data/warninglists/lists, else
 * data/warninglists/lists) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/node.h"
#include "verify/verify.h"

#include <sys/resource.h>
#include <unistd.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct value {
    const char *attr;  /* warninglist kind */
    const char *stix;  /* check type */
    char text[160];
} value;

static const char *const popular[] = {"www.google.com", "github.com",   "login.live.com",
                                      "docs.google.com", "bit.ly",       "api.ipify.org",
                                      "example.com",    "cdn.cloudflare.net"};
static const char label_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";

static void random_label(char *out, size_t len)
{
    for (size_t i = 0; i < len; i++)
        out[i] = label_chars[next() % 36];
    out[len] = '\0';
}

static void make_value(value *v)
{
    uint64_t r = next() % 100;
    char a[24], b[24];
    if (r < 30) { /* IPv4: a third from well-known ranges */
        uint64_t x = next();
        v->attr = "ip";
        v->stix = "ipv4-addr";
        if (x % 3 == 0)
            snprintf(v->text, sizeof v->text, "%s.%u.%u", (x >> 8) % 2 ? "8.8" : "10.1",
                     (unsigned)((x >> 16) & 255), (unsigned)((x >> 24) & 255));
        else
            snprintf(v->text, sizeof v->text, "%u.%u.%u.%u", (unsigned)(1 + (x >> 8) % 223),
                     (unsigned)((x >> 16) & 255), (unsigned)((x >> 24) & 255),
                     (unsigned)((x >> 32) & 255));
    } else if (r < 40) {
        uint64_t x = next();
        v->attr = "ip";
        v->stix = "ipv6-addr";
        snprintf(v->text, sizeof v->text, "%s:%x:%x::%x", x % 4 == 0 ? "2001:4860" : "2a03:2880",
                 (unsigned)((x >> 8) & 0xffff), (unsigned)((x >> 24) & 0xffff),
                 (unsigned)((x >> 40) & 0xffff));
    } else if (r < 70) {
        v->attr = "domain";
        v->stix = "domain-name";
        random_label(a, 3 + next() % 10);
        if (next() % 4 == 0) {
            snprintf(v->text, sizeof v->text, "%s.%s", a, popular[next() % 8]);
        } else {
            random_label(b, 4 + next() % 8);
            snprintf(v->text, sizeof v->text, "%s.%s.%s", a, b, next() % 2 ? "com" : "net");
        }
    } else if (r < 80) {
        v->attr = "url";
        v->stix = "url";
        random_label(a, 5 + next() % 8);
        random_label(b, 6);
        snprintf(v->text, sizeof v->text, "https://%s/%s/%s.php",
                 next() % 3 == 0 ? popular[next() % 8] : a, b, a);
    } else {
        static const int lens[] = {32, 40, 64};
        static const char *const names[] = {"md5", "sha1", "sha256"};
        static const char *const stix[] = {"MD5", "SHA-1", "SHA-256"};
        int k = (int)(next() % 3);
        v->attr = names[k];
        v->stix = stix[k];
        if (k == 0 && next() % 50 == 0) {
            snprintf(v->text, sizeof v->text, "d41d8cd98f00b204e9800998ecf8427e");
        } else {
            for (int i = 0; i < lens[k]; i++)
                v->text[i] = "0123456789abcdef"[next() % 16];
            v->text[lens[k]] = '\0';
        }
    }
}

static void bench_lists(const char *dir, size_t n)
{
    verify_lists *l = NULL;
    dt_err err = {0};
    value *vals = calloc(n, sizeof *vals);
    verify_evidence ev[8];
    verify_hit hits[8];
    size_t hit_values = 0, defects = 0;
    double t0, t1;
    if (vals == NULL)
        return;
    t0 = secs();
    if (verify_lists_load_dir(dir, &l, &err) != DT_OK) {
        fprintf(stderr, "bench_verify: %s: %s\n", dir, err.msg);
        free(vals);
        return;
    }
    t1 = secs();
    printf("warninglists: %zu lists, %zu values loaded in %.3f s (%zu skipped)\n",
           verify_lists_count(l), verify_lists_value_count(l), t1 - t0,
           verify_lists_skipped_count(l));
    for (size_t i = 0; i < n; i++)
        make_value(&vals[i]);
    t0 = secs();
    for (size_t i = 0; i < n; i++)
        if (verify_lists_lookup(l, vals[i].attr, vals[i].text, hits, 8) > 0)
            hit_values++;
    t1 = secs();
    printf("lookup: %zu values in %.3f s = %.0f values/s against all lists (%zu hit a list)\n", n,
           t1 - t0, (double)n / (t1 - t0), hit_values);
    t0 = secs();
    for (size_t i = 0; i < n; i++)
        defects += verify_check_value(vals[i].stix, vals[i].text, ev, 8) > 0;
    t1 = secs();
    printf("checks: %zu values in %.3f s = %.0f values/s (%zu with a defect)\n", n, t1 - t0,
           (double)n / (t1 - t0), defects);
    verify_lists_free(l);
    free(vals);
}

typedef struct ev_ref {
    uint32_t claim;
    verify_evidence e;
} ev_ref;

static int cmp_ref(const void *a, const void *b)
{
    uint32_t x = ((const ev_ref *)a)->claim, y = ((const ev_ref *)b)->claim;
    return x < y ? -1 : x > y;
}

static void bench_verdicts(size_t claims, size_t sightings, size_t opinions, size_t sources)
{
    const int64_t now = 1800000000;
    size_t listed = claims / 20, total = sightings + opinions + listed;
    ev_ref *refs = calloc(total, sizeof *refs);
    uint32_t *claim_src = calloc(claims, sizeof *claim_src);
    size_t *first = calloc(claims + 1, sizeof *first);
    verify_evidence *buf = calloc(64, sizeof *buf);
    verify_outcome *outcomes = calloc(claims, sizeof *outcomes);
    size_t *by_src = calloc(sources + 1, sizeof *by_src);
    verify_outcome *grouped = calloc(claims, sizeof *grouped);
    char (*ids)[64] = calloc(sources, sizeof *ids);
    size_t tally[5] = {0}, letters[6] = {0};
    verify_params p;
    double t0, t1, t2;
    if (!refs || !claim_src || !first || !buf || !outcomes || !by_src || !grouped || !ids)
        goto out;
    verify_params_default(&p);
    for (size_t s = 0; s < sources; s++)
        snprintf(ids[s], sizeof ids[s], "identity--%08zx-0000-4000-8000-000000000000", s);
    for (size_t c = 0; c < claims; c++)
        claim_src[c] = (uint32_t)(next() % sources);
    for (size_t i = 0; i < total; i++) {
        ev_ref *r = &refs[i];
        r->claim = (uint32_t)(next() % claims);
        snprintf(r->e.source, sizeof r->e.source, "%s", ids[next() % sources]);
        r->e.time = now - (int64_t)(next() % (365 * 86400));
        if (i < sightings) {
            r->e.cls = VERIFY_EV_SIGHTING;
            r->e.count = (uint32_t)(1 + next() % 200);
        } else if (i < sightings + opinions) {
            r->e.cls = VERIFY_EV_OPINION;
            r->e.opinion = (verify_opinion)((int)(next() % 5) - 2);
        } else {
            r->e.cls = VERIFY_EV_WARNINGLIST;
            r->e.source[0] = '\0';
            snprintf(r->e.message, sizeof r->e.message, "Top 10K most-used sites from Tranco");
        }
    }
    t0 = secs();
    qsort(refs, total, sizeof *refs, cmp_ref); /* evidence grouped by claim, as a store query gives it */
    for (size_t i = 0, c = 0; c <= claims; c++) {
        while (i < total && refs[i].claim < c)
            i++;
        first[c] = i;
    }
    t1 = secs();
    for (size_t c = 0; c < claims; c++) {
        verify_claim cl = {.source = ids[claim_src[c]], .created = now - 200 * 86400,
                           .valid_from = now - 200 * 86400,
                           .valid_until = c % 10 == 0 ? now - 86400 : 0};
        size_t n = first[c + 1] - first[c];
        verify_result r;
        if (n > 64)
            n = 64;
        for (size_t k = 0; k < n; k++)
            buf[k] = refs[first[c] + k].e;
        if (verify_verdict_compute(&cl, buf, n, now, &p, &r, NULL) != DT_OK)
            goto out;
        outcomes[c].verdict = r.verdict;
        outcomes[c].time = now;
        tally[r.verdict]++;
        verify_result_release(&r);
    }
    t2 = secs();
    printf("verdicts: %zu claims, %zu sightings, %zu opinions, %zu list hits: %.3f s "
           "(%.0f claims/s; grouping %.3f s)\n",
           claims, sightings, opinions, listed, t2 - t1, (double)claims / (t2 - t1), t1 - t0);
    printf("  unverified %zu, corroborated %zu, disputed %zu, refuted %zu, likely-benign %zu\n",
           tally[VERIFY_UNVERIFIED], tally[VERIFY_CORROBORATED], tally[VERIFY_DISPUTED],
           tally[VERIFY_REFUTED], tally[VERIFY_LIKELY_BENIGN]);
    t0 = secs();
    for (size_t c = 0; c < claims; c++)
        by_src[claim_src[c] + 1]++;
    for (size_t s = 0; s < sources; s++)
        by_src[s + 1] += by_src[s];
    {
        size_t *fill = calloc(sources, sizeof *fill);
        if (fill == NULL)
            goto out;
        for (size_t c = 0; c < claims; c++)
            grouped[by_src[claim_src[c]] + fill[claim_src[c]]++] = outcomes[c];
        free(fill);
    }
    for (size_t s = 0; s < sources; s++) {
        verify_reliability rel;
        verify_reliability_compute(grouped + by_src[s], by_src[s + 1] - by_src[s], INT64_MAX, &rel);
        letters[rel.letter - 'A']++;
    }
    t1 = secs();
    printf("reliability: %zu sources over %zu claims: %.3f s\n", sources, claims, t1 - t0);
    printf("  letters A %zu, B %zu, C %zu, D %zu, E %zu, F %zu\n", letters[0], letters[1],
           letters[2], letters[3], letters[4], letters[5]);
out:
    free(refs);
    free(claim_src);
    free(first);
    free(buf);
    free(outcomes);
    free(by_src);
    free(grouped);
    free(ids);
}

/* ------------------------------------------------- store-backed recompute */

static void put_row(store_txn *t, const char *type, const char *id, const char *json,
                    const char *signer)
{
    uint8_t sha[32];
    int64_t added;
    bool is_new;
    dt_err err = {0};
    dt_sha256(json, strlen(json), sha);
    store_put p = {.collection = "default", .id = id, .type = type, .spec_version = "2.1",
                   .modified = "2024-01-01T00:00:00.000000000Z",
                   .modified_text = "2024-01-01T00:00:00.000Z", .json = json,
                   .json_len = strlen(json), .sha256 = sha, .signer = signer, .marking = 0,
                   .leaf_index = -1};
    if (store_put_version(t, &p, &added, &is_new, &err) != DT_OK) {
        fprintf(stderr, "bench_verify: put %s: %s\n", id, err.msg);
        exit(1);
    }
}

static char *explain_text(const verify_engine *e, const char *id)
{
    size_t i;
    verify_explain x;
    dt_err err = {0};
    char *text = NULL;
    if (verify_engine_find(e, id, &i) && verify_engine_explain(e, i, &x, &err) == DT_OK) {
        json_t *j = node_verify_explain_json(&x);
        text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        verify_explain_release(&x);
    }
    return text;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One claim's verdict: before (the full pass, t_full) and after (the
 * evidence index: node_verify_one), on claims drawn at random, each checked
 * against the full pass's JSON. The rows above were written with the store
 * API, as by a node older than the index, so the one-time rebuild is timed
 * too. */
static void bench_one(node *n, const verify_lists *lists, const verify_engine *full,
                      size_t claims, double t_full)
{
    enum { SAMPLES = 1000 };
    static double lat[SAMPLES];
    node_principal local;
    dt_err err = {0};
    size_t rows = 0, differ = 0;
    double t0 = secs();

    node_principal_local(&local);
    if (node_verify_index_rebuild(n, &rows, &err) != DT_OK) {
        fprintf(stderr, "bench_verify: reindex: %s\n", err.msg);
        exit(1);
    }
    double t_index = secs() - t0;
    printf("evidence index rebuilt (once, for objects stored before it): %.1f s for %zu "
           "versions, %.0f/s\n",
           t_index, rows, (double)rows / t_index);
    for (size_t k = 0; k < SAMPLES; k++) {
        char id[96];
        verify_engine *e = NULL;
        snprintf(id, sizeof id, "indicator--%08llx-0000-4000-8000-000000000000",
                 (unsigned long long)(next() % claims));
        t0 = secs();
        if (node_verify_one(n, &local, lists, 0, id, &e, &err) != DT_OK) {
            fprintf(stderr, "bench_verify: verify one: %s\n", err.msg);
            exit(1);
        }
        char *b = explain_text(e, id);
        lat[k] = secs() - t0;
        char *a = explain_text(full, id);
        if (a == NULL || b == NULL || strcmp(a, b) != 0)
            differ++;
        free(a);
        free(b);
        verify_engine_free(e);
    }
    qsort(lat, SAMPLES, sizeof lat[0], cmp_double);
    double sum = 0;
    for (size_t k = 0; k < SAMPLES; k++)
        sum += lat[k];
    printf("one claim's verdict with its evidence, %d random claims:\n"
           "  before (full pass): %.2f s each\n"
           "  after (evidence index, node_verify_one + explain): mean %.2f ms, median %.2f ms, "
           "p99 %.2f ms, max %.2f ms\n"
           "  JSON differing from the full pass: %zu of %d\n",
           SAMPLES, t_full, sum / SAMPLES * 1e3, lat[SAMPLES / 2] * 1e3,
           lat[SAMPLES * 99 / 100] * 1e3, lat[SAMPLES - 1] * 1e3, differ, SAMPLES);
}

static void bench_store(const char *lists_dir, size_t claims, size_t sightings, size_t opinions)
{
    static const char *const ops[] = {"strongly-disagree", "disagree", "neutral", "agree",
                                      "strongly-agree"};
    char tmpl[] = "/tmp/detente-bench-verify-XXXXXX", home[128], json[1024], id[96], src[96],
         ref[96];
    node *n = NULL;
    verify_lists *lists = NULL;
    verify_engine *e = NULL;
    node_principal local;
    dt_err err = {0};
    size_t total = claims + sightings + opinions, done = 0;
    store_txn *t = NULL;
    double t0;

    if (mkdtemp(tmpl) == NULL)
        return;
    snprintf(home, sizeof home, "%s/node", tmpl);
    node_init_opts o = {.name = "bench", .default_marking = NODE_TLP_AMBER};
    if (node_init(home, &o, &err) != DT_OK || node_open(home, &n, &err) != DT_OK ||
        verify_lists_load_dir(lists_dir, &lists, &err) != DT_OK) {
        fprintf(stderr, "bench_verify: %s: %s\n", err.where, err.msg);
        exit(1);
    }
    rng = 0x9E3779B97F4A7C15ull;
    t0 = secs();
    for (size_t i = 0; i < total; i++) {
        if (t == NULL && store_begin(node_store(n), &t, &err) != DT_OK) {
            fprintf(stderr, "bench_verify: %s\n", err.msg);
            exit(1);
        }
        snprintf(src, sizeof src, "identity--%08llx-0000-4000-8000-000000000000",
                 (unsigned long long)(next() % 1000));
        if (i < claims) {
            value v;
            char obj[64];
            make_value(&v);
            if (strncmp(v.stix, "ip", 2) == 0 || strcmp(v.stix, "domain-name") == 0 ||
                strcmp(v.stix, "url") == 0)
                snprintf(obj, sizeof obj, "%s:value", v.stix);
            else
                snprintf(obj, sizeof obj, "file:hashes.'%s'", v.stix);
            snprintf(id, sizeof id, "indicator--%08zx-0000-4000-8000-000000000000", i);
            snprintf(json, sizeof json,
                     "{\"created\":\"2024-01-01T00:00:00.000Z\",\"id\":\"%s\","
                     "\"modified\":\"2024-01-01T00:00:00.000Z\",\"pattern\":\"[%s = '%s']\","
                     "\"pattern_type\":\"stix\",\"spec_version\":\"2.1\",\"type\":\"indicator\","
                     "\"valid_from\":\"2024-01-01T00:00:00Z\"}",
                     id, obj, v.text);
            put_row(t, "indicator", id, json, src);
        } else {
            size_t k = i - claims;
            snprintf(ref, sizeof ref, "indicator--%08llx-0000-4000-8000-000000000000",
                     (unsigned long long)(next() % claims));
            unsigned day = (unsigned)(next() % 28) + 1, month = (unsigned)(next() % 12) + 1;
            if (k < sightings) {
                snprintf(id, sizeof id, "sighting--%08zx-0000-4000-8000-000000000000", k);
                snprintf(json, sizeof json,
                         "{\"count\":%u,\"created\":\"2024-%02u-%02uT00:00:00.000Z\",\"id\":\"%s\","
                         "\"last_seen\":\"2024-%02u-%02uT00:00:00Z\","
                         "\"modified\":\"2024-%02u-%02uT00:00:00.000Z\",\"sighting_of_ref\":\"%s\","
                         "\"spec_version\":\"2.1\",\"type\":\"sighting\"}",
                         (unsigned)(next() % 100) + 1, month, day, id, month, day, month, day,
                         ref);
                put_row(t, "sighting", id, json, src);
            } else {
                k -= sightings;
                snprintf(id, sizeof id, "opinion--%08zx-0000-4000-8000-000000000000", k);
                snprintf(json, sizeof json,
                         "{\"created\":\"2024-%02u-%02uT00:00:00.000Z\",\"id\":\"%s\","
                         "\"modified\":\"2024-%02u-%02uT00:00:00.000Z\",\"object_refs\":[\"%s\"],"
                         "\"opinion\":\"%s\",\"spec_version\":\"2.1\",\"type\":\"opinion\"}",
                         month, day, id, month, day, ref, ops[next() % 5]);
                put_row(t, "opinion", id, json, src);
            }
        }
        if (++done % 10000 == 0 || done == total) {
            if (store_commit(t, &err) != DT_OK) {
                fprintf(stderr, "bench_verify: commit: %s\n", err.msg);
                exit(1);
            }
            t = NULL;
        }
    }
    printf("store: %zu claims, %zu sightings, %zu opinions written in %.1f s "
           "(store API, 10k rows per transaction)\n",
           claims, sightings, opinions, secs() - t0);

    node_principal_local(&local);
    t0 = secs();
    if (node_verify_run(n, &local, lists, 0, &e, &err) != DT_OK) {
        fprintf(stderr, "bench_verify: verify: %s\n", err.msg);
        exit(1);
    }
    double t_run = secs() - t0;
    size_t count[5] = {0};
    for (size_t i = 0; i < verify_engine_claim_count(e); i++) {
        verify_claim_info c;
        verify_engine_claim(e, i, &c);
        count[c.verdict]++;
    }
    printf("recompute every verdict (read through node_query, parse, judge): %.2f s, "
           "%.0f claims/s\n  unverified %zu, corroborated %zu, disputed %zu, refuted %zu, "
           "likely-benign %zu\n",
           t_run, (double)claims / t_run, count[0], count[1], count[2], count[3], count[4]);
    t0 = secs();
    size_t letters[6] = {0};
    for (size_t i = 0; i < verify_engine_source_count(e); i++) {
        json_t *js = NULL;
        if (node_verify_source_json(e, i, 6, &js, &err) != DT_OK) {
            fprintf(stderr, "bench_verify: reliability: %s\n", err.msg);
            exit(1);
        }
        const char *l = json_string_value(json_object_get(js, "letter"));
        if (l && *l >= 'A' && *l <= 'F')
            letters[*l - 'A']++;
        json_decref(js);
    }
    printf("reliability of %zu sources with 6 months of history: %.3f s (A %zu, B %zu, C %zu, "
           "D %zu, E %zu, F %zu)\n",
           verify_engine_source_count(e), secs() - t0, letters[0], letters[1], letters[2],
           letters[3], letters[4], letters[5]);
    t0 = secs();
    size_t one;
    verify_explain x;
    if (verify_engine_find(e, "indicator--00000007-0000-4000-8000-000000000000", &one) &&
        verify_engine_explain(e, one, &x, &err) == DT_OK) {
        printf("explain one claim after the run: %.1f us (%zu evidence items)\n",
               (secs() - t0) * 1e6, x.count);
        verify_explain_release(&x);
    }
    bench_one(n, lists, e, claims, t_run);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %ld MB\n", ru.ru_maxrss / 1024);
    verify_engine_free(e);
    verify_lists_free(lists);
    node_close(n);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_verify: could not remove %s\n", tmpl);
}

int main(int argc, char **argv)
{
    char dir[4096];
    size_t n = 1000000;
    bool quick = false, with_store = true;
    const char *src = getenv("DETENTE_SRC");
    while (argc > 1 && argv[1][0] == '-') {
        if (strcmp(argv[1], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[1], "--no-store") == 0)
            with_store = false;
        argc--;
        argv++;
    }
    if (quick)
        n = 100000;
    if (argc > 1)
        snprintf(dir, sizeof dir, "%s", argv[1]);
    else
        snprintf(dir, sizeof dir, "%s/data/warninglists/lists", src ? src : ".");
    if (argc > 2) {
        char *end;
        n = (size_t)strtoull(argv[2], &end, 10);
        if (*end != '\0' || n == 0)
            n = 1000000;
    }
    bench_lists(dir, n);
    bench_verdicts(n, n, n / 10, 1000);
    if (with_store)
        bench_store(dir, n, n, n / 10);
    return 0;
}
