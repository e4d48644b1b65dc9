/* bench_ledger: what the transparency ledger costs, next to the primitives
 * it is built from, measured in the same run on the same machine.
 *
 *   raw SHA-256 of 64-byte inputs, Ed25519 sign and verify (libsodium)
 *   appends/s in memory and over SQLite (temp file, one transaction per
 *   batch), each with and without signing a tree head per batch
 *   inclusion and consistency proof generation and verification at 10^4,
 *   10^6 and 10^7 leaves in memory (random past sizes too), and at 10^4 and
 *   10^5 leaves over SQLite
 *
 * Figures are printed, never asserted. Default run well under two minutes
 * and about 1 GB of memory at 10^7 leaves; --quick stops at 10^5. */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A leaf shaped like the real one: JCS of {date_added, id, modified,
 * object_sha256, signer}, about 230 bytes. */
static int make_leaf(char *buf, size_t cap, uint64_t i)
{
    return snprintf(buf, cap,
                    "{\"date_added\":\"2026-01-01T00:00:00.%06" PRIu64 "Z\",\"id\":\"indicator--"
                    "%08" PRIx64 "-1111-4222-8333-444444444444\",\"modified\":"
                    "\"2025-12-31T23:59:59.000Z\",\"object_sha256\":\"%064" PRIx64 "\",\"signer\":"
                    "\"identity--0b5f6f3c-7d7b-4f65-9d4e-4e2a8a2e0c11\"}",
                    i % 1000000, i, i * 2654435761u);
}

static uint8_t pk[32], sk[64];
static double sha_rate, sign_rate, verify_rate;

static void bench_primitives(void)
{
    uint8_t in[64] = {1}, out[32], sig[64];
    unsigned n = 2000000;
    double t = now_s();
    for (unsigned i = 0; i < n; i++) {
        in[0] = (uint8_t)i;
        dt_sha256(in, 64, out);
        in[1] ^= out[0];
    }
    sha_rate = n / (now_s() - t);
    n = 20000;
    t = now_s();
    for (unsigned i = 0; i < n; i++) {
        in[0] = (uint8_t)i;
        crypto_sign_detached(sig, NULL, in, 64, sk);
    }
    sign_rate = n / (now_s() - t);
    t = now_s();
    unsigned ok = 0;
    for (unsigned i = 0; i < n; i++)
        ok += crypto_sign_verify_detached(sig, in, 64, pk) == 0;
    verify_rate = n / (now_s() - t);
    printf("primitives\n");
    printf("  sha256 (64-byte input)      %10.2f M/s\n", sha_rate / 1e6);
    printf("  ed25519 sign                %10.1f k/s\n", sign_rate / 1e3);
    printf("  ed25519 verify              %10.1f k/s  (%u ok)\n", verify_rate / 1e3, ok);
}

static void die(const char *what, const dt_err *err)
{
    fprintf(stderr, "bench_ledger: %s: %s: %s\n", what, err->where, err->msg);
    exit(1);
}

/* Append n leaves to m; sign a head every `batch` leaves if batch > 0. */
static double mem_appends(ledger_mem *m, uint64_t n, uint64_t batch)
{
    char leaf[320];
    uint8_t h[32], root[32];
    ledger_sth sth;
    dt_err err = {0};
    dt_buf json;
    dt_buf_init(&json, 4096);
    double t = now_s();
    for (uint64_t i = 0; i < n; i++) {
        int len = make_leaf(leaf, sizeof leaf, m->size);
        ledger_hash_leaf(leaf, (size_t)len, h);
        if (ledger_mem_append(m, h, &err) != DT_OK)
            die("append", &err);
        if (batch && (i + 1) % batch == 0) {
            if (ledger_tree_root(ledger_mem_node, m, m->size, root, &err) != DT_OK ||
                ledger_sth_make(m->size, 1700000000000 + i, root, sk, &sth, &err) != DT_OK)
                die("sth", &err);
            dt_buf_reset(&json);
            if (ledger_sth_to_json(&sth, &json, &err) != DT_OK)
                die("sth json", &err);
        }
    }
    double el = now_s() - t;
    dt_buf_release(&json);
    return n / el;
}

typedef struct proof_figures {
    double incl_gen_us, incl_ver_us, cons_gen_us, cons_ver_us, past_gen_us;
    double avg_incl_len, avg_cons_len;
} proof_figures;

typedef dt_status (*incl_fn)(void *ctx, uint64_t i, uint64_t n, ledger_proof *p, dt_err *err);
typedef dt_status (*cons_fn)(void *ctx, uint64_t a, uint64_t b, ledger_proof *p, dt_err *err);
typedef dt_status (*root_fn)(void *ctx, uint64_t n, uint8_t r[32], dt_err *err);
typedef dt_status (*leafhash_fn)(void *ctx, uint64_t i, uint8_t h[32], dt_err *err);

static dt_status mem_incl(void *ctx, uint64_t i, uint64_t n, ledger_proof *p, dt_err *err)
{
    return ledger_tree_prove_inclusion(ledger_mem_node, ctx, i, n, p, err);
}
static dt_status mem_cons(void *ctx, uint64_t a, uint64_t b, ledger_proof *p, dt_err *err)
{
    return ledger_tree_prove_consistency(ledger_mem_node, ctx, a, b, p, err);
}
static dt_status mem_root(void *ctx, uint64_t n, uint8_t r[32], dt_err *err)
{
    return ledger_tree_root(ledger_mem_node, ctx, n, r, err);
}
static dt_status mem_leaf(void *ctx, uint64_t i, uint8_t h[32], dt_err *err)
{
    return ledger_mem_node(ctx, 0, i, h, err);
}
static dt_status sq_incl(void *ctx, uint64_t i, uint64_t n, ledger_proof *p, dt_err *err)
{
    return ledger_prove_inclusion(ctx, i, n, p, err);
}
static dt_status sq_cons(void *ctx, uint64_t a, uint64_t b, ledger_proof *p, dt_err *err)
{
    return ledger_prove_consistency(ctx, a, b, p, err);
}
static dt_status sq_root(void *ctx, uint64_t n, uint8_t r[32], dt_err *err)
{
    return ledger_root(ctx, NULL, n, r, err);
}
static dt_status sq_leaf(void *ctx, uint64_t i, uint8_t h[32], dt_err *err)
{
    return store_leaf_get(ctx, NULL, i, h, NULL, NULL, err);
}

#define PROOFS 2000
static ledger_proof proofs[PROOFS];
static uint64_t pidx[PROOFS], pfirst[PROOFS];
static uint8_t pleaf[PROOFS][32], proot1[PROOFS][32];

static proof_figures bench_proofs(void *ctx, uint64_t n, incl_fn incl, cons_fn cons, root_fn rootf,
                                  leafhash_fn leaff, int count)
{
    proof_figures f = {0};
    uint8_t root[32];
    dt_err err = {0};
    double t;
    size_t total = 0;
    if (count > PROOFS)
        count = PROOFS;
    if (rootf(ctx, n, root, &err) != DT_OK)
        die("root", &err);
    for (int k = 0; k < count; k++) {
        pidx[k] = rnd() % n;
        pfirst[k] = 1 + rnd() % n;
        if (leaff(ctx, pidx[k], pleaf[k], &err) != DT_OK || rootf(ctx, pfirst[k], proot1[k], &err) != DT_OK)
            die("setup", &err);
    }
    t = now_s();
    for (int k = 0; k < count; k++)
        if (incl(ctx, pidx[k], n, &proofs[k], &err) != DT_OK)
            die("inclusion", &err);
    f.incl_gen_us = (now_s() - t) * 1e6 / count;
    t = now_s();
    unsigned ok = 0;
    for (int k = 0; k < count; k++) {
        ok += ledger_verify_inclusion(pleaf[k], pidx[k], n, &proofs[k], root);
        total += proofs[k].count;
    }
    f.incl_ver_us = (now_s() - t) * 1e6 / count;
    f.avg_incl_len = (double)total / count;
    if (ok != (unsigned)count)
        fprintf(stderr, "bench_ledger: %u of %d inclusion proofs failed to verify\n", count - ok, count);
    total = 0;
    t = now_s();
    for (int k = 0; k < count; k++)
        if (cons(ctx, pfirst[k], n, &proofs[k], &err) != DT_OK)
            die("consistency", &err);
    f.cons_gen_us = (now_s() - t) * 1e6 / count;
    t = now_s();
    ok = 0;
    for (int k = 0; k < count; k++) {
        ok += ledger_verify_consistency(pfirst[k], n, proot1[k], root, &proofs[k]);
        total += proofs[k].count;
    }
    f.cons_ver_us = (now_s() - t) * 1e6 / count;
    f.avg_cons_len = (double)total / count;
    if (ok != (unsigned)count)
        fprintf(stderr, "bench_ledger: %u of %d consistency proofs failed to verify\n", count - ok, count);
    /* inclusion in a random past tree size */
    t = now_s();
    for (int k = 0; k < count; k++)
        if (incl(ctx, pidx[k] % pfirst[k], pfirst[k], &proofs[k], &err) != DT_OK)
            die("past inclusion", &err);
    f.past_gen_us = (now_s() - t) * 1e6 / count;
    return f;
}

static void print_proofs(const char *label, uint64_t n, const proof_figures *f)
{
    double hash_us = 1e6 / sha_rate, ver_us = 1e6 / verify_rate;
    printf("  %-6s n=%-9" PRIu64 " inclusion gen %7.2f us (past size %7.2f us)  verify %6.2f us"
           "  [%4.1f hashes, verify = %4.1f sha256 = %.3f ed25519 verifies]\n",
           label, n, f->incl_gen_us, f->past_gen_us, f->incl_ver_us, f->avg_incl_len,
           f->incl_ver_us / hash_us, f->incl_ver_us / ver_us);
    printf("  %-6s n=%-9" PRIu64 " consistency gen %7.2f us                      verify %6.2f us"
           "  [%4.1f hashes, verify = %4.1f sha256 = %.3f ed25519 verifies]\n",
           label, n, f->cons_gen_us, f->cons_ver_us, f->avg_cons_len, f->cons_ver_us / hash_us,
           f->cons_ver_us / ver_us);
}

/* SQLite: append n leaves in transactions of `batch`, signing a head per
 * batch if sign. Returns appends/s. */
static double sq_appends(store *s, uint64_t n, uint64_t batch, bool sign)
{
    char leaf[320];
    uint8_t h[32];
    uint64_t idx, size;
    dt_err err = {0};
    ledger_sth sth;
    if (ledger_size(s, NULL, &size, &err) != DT_OK)
        die("size", &err);
    double t = now_s();
    for (uint64_t done = 0; done < n;) {
        store_txn *tx = NULL;
        if (store_begin(s, &tx, &err) != DT_OK)
            die("begin", &err);
        for (uint64_t j = 0; j < batch && done < n; j++, done++) {
            int len = make_leaf(leaf, sizeof leaf, size + done);
            if (ledger_append(tx, leaf, (size_t)len, &idx, h, &err) != DT_OK)
                die("append", &err);
        }
        if (sign && ledger_sth_issue(tx, 1700000000000 + done, sk, &sth, &err) != DT_OK)
            die("sth issue", &err);
        if (store_commit(tx, &err) != DT_OK)
            die("commit", &err);
    }
    return n / (now_s() - t);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (argc > 1 && !quick) {
        fprintf(stderr, "usage: bench_ledger [--quick]\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    crypto_sign_keypair(pk, sk);
    bench_primitives();
    double hash_us = 1e6 / sha_rate;

    /* ---- in memory ---- */
    printf("appends, in memory (leaf ~230 bytes: leaf hash + carry chain)\n");
    {
        ledger_mem m;
        ledger_mem_init(&m);
        mem_appends(&m, quick ? 100000 : 300000, 0); /* warm-up: page in the allocator */
        ledger_mem_release(&m);
        ledger_mem_init(&m);
        double plain = mem_appends(&m, quick ? 200000 : 1000000, 0);
        ledger_mem_release(&m);
        ledger_mem_init(&m);
        double signed100 = mem_appends(&m, quick ? 200000 : 1000000, 100);
        ledger_mem_release(&m);
        ledger_mem_init(&m);
        double signed1000 = mem_appends(&m, quick ? 200000 : 1000000, 1000);
        ledger_mem_release(&m);
        printf("  no heads                    %10.0f appends/s  (%.1f sha256-times each)\n", plain,
               1e6 / plain / hash_us);
        printf("  a signed head per 100       %10.0f appends/s\n", signed100);
        printf("  a signed head per 1000      %10.0f appends/s\n", signed1000);
    }
    printf("proofs, in memory (%d random leaves/sizes each)\n", PROOFS);
    {
        const uint64_t sizes[] = {10000, 1000000, 10000000};
        size_t ns = quick ? 1 : 3;
        ledger_mem m;
        ledger_mem_init(&m);
        for (size_t k = 0; k < ns; k++) {
            double t = now_s();
            mem_appends(&m, sizes[k] - m.size, 0);
            double built = now_s() - t;
            proof_figures f = bench_proofs(&m, sizes[k], mem_incl, mem_cons, mem_root, mem_leaf, PROOFS);
            print_proofs("memory", sizes[k], &f);
            printf("  %-6s n=%-9" PRIu64 " (grown to this size in %.1f s)\n", "memory", sizes[k], built);
        }
        if (quick) {
            mem_appends(&m, 100000 - m.size, 0);
            proof_figures f = bench_proofs(&m, 100000, mem_incl, mem_cons, mem_root, mem_leaf, PROOFS);
            print_proofs("memory", 100000, &f);
        }
        ledger_mem_release(&m);
    }

    /* ---- SQLite ---- */
    char dir[] = "/tmp/detente-bench-ledger-XXXXXX", path[128];
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/node.db", dir);
    store_config cfg = {.backend = "sqlite", .path = path};
    store *s = NULL;
    dt_err err = {0};
    if (store_open(&cfg, &s, &err) != DT_OK)
        die("store open", &err);
    printf("appends, SQLite in %s (durable commit per transaction)\n", dir);
    {
        uint64_t n = quick ? 5000 : 20000;
        double a1000 = sq_appends(s, n, 1000, false);
        double s1000 = sq_appends(s, n, 1000, true);
        double s100 = sq_appends(s, n / 4, 100, true);
        double s1 = sq_appends(s, quick ? 100 : 300, 1, true);
        printf("  1000 per transaction        %10.0f appends/s\n", a1000);
        printf("  1000 per txn + signed head  %10.0f appends/s\n", s1000);
        printf("  100 per txn + signed head   %10.0f appends/s\n", s100);
        printf("  1 per txn + signed head     %10.0f appends/s\n", s1);
    }
    printf("proofs, SQLite (committed state, reader connection)\n");
    {
        const uint64_t sizes[] = {10000, 100000};
        size_t ns = quick ? 1 : 2;
        for (size_t k = 0; k < ns; k++) {
            uint64_t size;
            if (ledger_size(s, NULL, &size, &err) != DT_OK)
                die("size", &err);
            if (size < sizes[k])
                sq_appends(s, sizes[k] - size, 5000, false);
            proof_figures f = bench_proofs(s, sizes[k], sq_incl, sq_cons, sq_root, sq_leaf, 500);
            print_proofs("sqlite", sizes[k], &f);
        }
    }
    store_close(s);
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}
