/* Unit tests for ledger/: RFC 9162 hashing against the published reference
 * tree, proofs from stored subtrees against a naive recomputation straight
 * from the recursive definitions, verification against every single-bit
 * change, signed tree heads, the strict JSON forms, and the persistent log
 * over an in-memory fake of the store's ops table (which counts reads). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/ledger.h"

/* ---------------------------------------------------------------- helpers */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure reproduces */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned bit_length(uint64_t n)
{
    unsigned b = 0;
    while (n) {
        b++;
        n >>= 1;
    }
    return b;
}

/* Leaf hashes of synthetic leaves "leaf-<i>". */
static uint8_t (*make_leaves(size_t n))[32]
{
    uint8_t (*l)[32] = malloc((n ? n : 1) * 32);
    assert_non_null(l);
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "leaf-%zu", i);
        ledger_hash_leaf(buf, (size_t)len, l[i]);
    }
    return l;
}

static void mem_fill(ledger_mem *m, const uint8_t (*leaves)[32], size_t n)
{
    ledger_mem_init(m);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ledger_mem_append(m, leaves[i], NULL), DT_OK);
}

/* Naive reference proofs, straight from RFC 9162 2.1.3.1 / 2.1.4.1, with a
 * memo of MTH(D[lo:hi]) over one fixed leaf array (the MTH of a range does
 * not depend on the tree size, so one memo serves every size). */
#define MEMO_N 301
static const uint8_t (*memo_leaves)[32];
static uint8_t memo_hash[MEMO_N][MEMO_N][32];
static bool memo_ok[MEMO_N][MEMO_N];

static void mth(size_t lo, size_t hi, uint8_t out[32])
{
    if (hi < MEMO_N && memo_ok[lo][hi]) {
        memcpy(out, memo_hash[lo][hi], 32);
        return;
    }
    ledger_root_naive(memo_leaves + lo, hi - lo, out);
    if (hi < MEMO_N) {
        memcpy(memo_hash[lo][hi], out, 32);
        memo_ok[lo][hi] = true;
    }
}

static size_t kpow(size_t n)
{
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

/* PATH(m, D[lo:hi]), appended innermost first */
static void naive_path(size_t m, size_t lo, size_t hi, ledger_proof *p)
{
    if (hi - lo <= 1)
        return;
    size_t k = kpow(hi - lo);
    if (m < lo + k) {
        naive_path(m, lo, lo + k, p);
        mth(lo + k, hi, p->hash[p->count++]);
    } else {
        naive_path(m, lo + k, hi, p);
        mth(lo, lo + k, p->hash[p->count++]);
    }
}

/* SUBPROOF(m, D[lo:hi], b) with m relative to lo */
static void naive_subproof(size_t m, size_t lo, size_t hi, bool b, ledger_proof *p)
{
    size_t n = hi - lo;
    if (m == n) {
        if (!b)
            mth(lo, hi, p->hash[p->count++]);
        return;
    }
    size_t k = kpow(n);
    if (m <= k) {
        naive_subproof(m, lo, lo + k, b, p);
        mth(lo + k, hi, p->hash[p->count++]);
    } else {
        naive_subproof(m - k, lo + k, hi, false, p);
        mth(lo, lo + k, p->hash[p->count++]);
    }
}

static void assert_proof_equal(const ledger_proof *a, const ledger_proof *b)
{
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++)
        assert_memory_equal(a->hash[i], b->hash[i], 32);
}

static void hex_to(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    assert_true(dt_hex_decode(hex, strlen(hex), out, cap, len));
}

/* ------------------------------------------------ the published reference */

typedef struct vec_proof {
    int kind; /* 'i' or 'c' */
    uint64_t a, b;
    ledger_proof p;
} vec_proof;

typedef struct vectors {
    uint8_t leaf[8][32];
    size_t leaf_count;
    uint8_t root[9][32];
    vec_proof proof[16];
    size_t proof_count;
} vectors;

static void vectors_load(vectors *v)
{
    const char *src = getenv("DETENTE_SRC");
    char path[4096], line[2048];
    snprintf(path, sizeof path, "%s/tests/vectors/rfc9162/reference_tree.txt", src ? src : ".");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    memset(v, 0, sizeof *v);
    while (fgets(line, sizeof line, f) != NULL) {
        char *w[80];
        size_t nw = 0;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        /* split on spaces in place */
        for (char *c = line; *c != '\0' && nw < 80;) {
            while (*c == ' ' || *c == '\n')
                *c++ = '\0';
            if (*c == '\0')
                break;
            w[nw++] = c;
            while (*c != '\0' && *c != ' ' && *c != '\n')
                c++;
        }
        if (strcmp(w[0], "leaf") == 0) {
            uint8_t in[64];
            size_t len = 0;
            if (strcmp(w[1], "-") != 0)
                hex_to(w[1], in, sizeof in, &len);
            ledger_hash_leaf(in, len, v->leaf[v->leaf_count++]);
        } else if (strcmp(w[0], "root") == 0) {
            size_t len;
            unsigned long size = strtoul(w[1], NULL, 10);
            assert_true(size <= 8);
            hex_to(w[2], v->root[size], 32, &len);
            assert_int_equal(len, 32);
        } else {
            assert_true(v->proof_count < 16);
            vec_proof *p = &v->proof[v->proof_count++];
            p->kind = w[0][0];
            p->a = strtoull(w[1], NULL, 10);
            p->b = strtoull(w[2], NULL, 10);
            for (size_t i = 3; i < nw; i++) {
                size_t len;
                hex_to(w[i], p->p.hash[p->p.count++], 32, &len);
                assert_int_equal(len, 32);
            }
        }
    }
    fclose(f);
    assert_int_equal(v->leaf_count, 8);
    assert_true(v->proof_count >= 8);
}

static void test_ledger_root_naive_reference(void **state)
{
    vectors v;
    uint8_t r[32];
    vectors_load(&v);
    for (size_t n = 0; n <= 8; n++) {
        ledger_root_naive((const uint8_t (*)[32])v.leaf, n, r);
        assert_memory_equal(r, v.root[n], 32);
    }
}

static void test_ledger_tree_root_reference(void **state)
{
    vectors v;
    ledger_mem m;
    uint8_t r[32];
    vectors_load(&v);
    mem_fill(&m, (const uint8_t (*)[32])v.leaf, 8);
    /* every past size from the same stored subtrees */
    for (uint64_t n = 0; n <= 8; n++) {
        assert_int_equal(ledger_tree_root(ledger_mem_node, &m, n, r, NULL), DT_OK);
        assert_memory_equal(r, v.root[n], 32);
    }
    ledger_mem_release(&m);
}

static void test_ledger_tree_prove_reference(void **state)
{
    vectors v;
    ledger_mem m;
    ledger_proof p;
    vectors_load(&v);
    mem_fill(&m, (const uint8_t (*)[32])v.leaf, 8);
    for (size_t i = 0; i < v.proof_count; i++) {
        vec_proof *e = &v.proof[i];
        if (e->kind == 'i') {
            assert_int_equal(ledger_tree_prove_inclusion(ledger_mem_node, &m, e->a, e->b, &p, NULL),
                             DT_OK);
            assert_proof_equal(&p, &e->p);
            assert_true(ledger_verify_inclusion(v.leaf[e->a], e->a, e->b, &e->p, v.root[e->b]));
        } else {
            assert_int_equal(
                ledger_tree_prove_consistency(ledger_mem_node, &m, e->a, e->b, &p, NULL), DT_OK);
            assert_proof_equal(&p, &e->p);
            assert_true(ledger_verify_consistency(e->a, e->b, v.root[e->a], v.root[e->b], &e->p));
        }
    }
    ledger_mem_release(&m);
}

/* ------------------------------------- stored-subtree proofs against naive */

static void test_ledger_tree_prove_inclusion_matches_naive(void **state)
{
    enum { N = 300 };
    uint8_t (*leaves)[32] = make_leaves(N);
    ledger_mem m;
    ledger_proof p, q;
    uint8_t root[32];
    memo_leaves = (const uint8_t (*)[32])leaves;
    memset(memo_ok, 0, sizeof memo_ok);
    mem_fill(&m, (const uint8_t (*)[32])leaves, N);
    for (uint64_t n = 1; n <= N; n++) {
        mth(0, n, root);
        for (uint64_t i = 0; i < n; i++) {
            m.reads = 0;
            assert_int_equal(ledger_tree_prove_inclusion(ledger_mem_node, &m, i, n, &p, NULL), DT_OK);
            assert_true(m.reads <= 2 * bit_length(n));
            q.count = 0;
            naive_path(i, 0, n, &q);
            assert_proof_equal(&p, &q);
            assert_true(ledger_verify_inclusion(leaves[i], i, n, &p, root));
        }
    }
    ledger_mem_release(&m);
    free(leaves);
}

static void check_consistency(ledger_mem *m, const uint8_t (*leaves)[32], uint64_t a, uint64_t b)
{
    ledger_proof p, q;
    uint8_t r1[32], r2[32];
    (void)leaves;
    m->reads = 0;
    assert_int_equal(ledger_tree_prove_consistency(ledger_mem_node, m, a, b, &p, NULL), DT_OK);
    assert_true(m->reads <= 2 * bit_length(b) + 1);
    q.count = 0;
    if (a > 0 && a < b)
        naive_subproof(a, 0, b, true, &q);
    assert_proof_equal(&p, &q);
    mth(0, a, r1);
    mth(0, b, r2);
    if (a == 0)
        ledger_hash_empty(r1);
    assert_true(ledger_verify_consistency(a, b, r1, r2, &p));
}

static void test_ledger_tree_prove_consistency_matches_naive(void **state)
{
    enum { N = 300 };
    uint8_t (*leaves)[32] = make_leaves(N);
    ledger_mem m;
    memo_leaves = (const uint8_t (*)[32])leaves;
    memset(memo_ok, 0, sizeof memo_ok);
    mem_fill(&m, (const uint8_t (*)[32])leaves, N);
    for (uint64_t b = 1; b <= 64; b++)
        for (uint64_t a = 0; a <= b; a++)
            check_consistency(&m, (const uint8_t (*)[32])leaves, a, b);
    for (uint64_t b = 65; b <= N; b++) {
        uint64_t firsts[] = {1, 2, 3, 63, 64, 65, b / 2, b - 1, b, 1 + rnd() % b, 1 + rnd() % b};
        for (size_t j = 0; j < sizeof firsts / sizeof firsts[0]; j++)
            check_consistency(&m, (const uint8_t (*)[32])leaves, firsts[j], b);
    }
    ledger_mem_release(&m);
    free(leaves);
}

static void test_ledger_tree_prove_random_large(void **state)
{
    enum { N = 3000 };
    uint8_t (*leaves)[32] = make_leaves(N);
    ledger_mem m;
    ledger_proof p;
    uint8_t r1[32], r2[32], t[32];
    mem_fill(&m, (const uint8_t (*)[32])leaves, N);
    for (int round = 0; round < 25; round++) {
        uint64_t b = 1 + rnd() % N, a = 1 + rnd() % b;
        ledger_root_naive((const uint8_t (*)[32])leaves, a, r1);
        ledger_root_naive((const uint8_t (*)[32])leaves, b, r2);
        assert_int_equal(ledger_tree_root(ledger_mem_node, &m, b, t, NULL), DT_OK);
        assert_memory_equal(t, r2, 32);
        m.reads = 0;
        assert_int_equal(ledger_tree_prove_consistency(ledger_mem_node, &m, a, b, &p, NULL), DT_OK);
        assert_true(m.reads <= 2 * bit_length(b) + 1);
        assert_true(ledger_verify_consistency(a, b, r1, r2, &p));
        for (int j = 0; j < 20; j++) {
            uint64_t i = rnd() % b;
            m.reads = 0;
            assert_int_equal(ledger_tree_prove_inclusion(ledger_mem_node, &m, i, b, &p, NULL), DT_OK);
            assert_true(m.reads <= 2 * bit_length(b));
            assert_true(ledger_verify_inclusion(leaves[i], i, b, &p, r2));
        }
    }
    ledger_mem_release(&m);
    free(leaves);
}

static void test_ledger_tree_prove_errors(void **state)
{
    uint8_t (*leaves)[32] = make_leaves(10);
    ledger_mem m;
    ledger_proof p;
    dt_err err = {0};
    mem_fill(&m, (const uint8_t (*)[32])leaves, 10);
    assert_int_equal(ledger_tree_prove_inclusion(ledger_mem_node, &m, 10, 10, &p, &err),
                     DT_EINVALID);
    assert_non_null(strstr(err.msg, "leaf index 10"));
    dt_err_clear(&err);
    assert_int_equal(ledger_tree_prove_inclusion(ledger_mem_node, &m, 0, 0, &p, &err), DT_EINVALID);
    dt_err_clear(&err);
    assert_int_equal(ledger_tree_prove_consistency(ledger_mem_node, &m, 5, 4, &p, &err),
                     DT_EINVALID);
    assert_non_null(strstr(err.msg, "larger than"));
    dt_err_clear(&err);
    /* a size the source does not hold: its error comes through */
    assert_int_equal(ledger_tree_prove_inclusion(ledger_mem_node, &m, 0, 11, &p, &err),
                     DT_ENOTFOUND);
    assert_int_equal(p.count, 0);
    ledger_mem_release(&m);
    free(leaves);
}

/* ---------------------------------------- verification rejects all changes */

static void check_inclusion_tamper(const uint8_t (*leaves)[32], const uint8_t (*roots)[32],
                                   uint64_t i, uint64_t n, const ledger_proof *good)
{
    ledger_proof p;
    uint8_t h[32];
    assert_true(ledger_verify_inclusion(leaves[i], i, n, good, roots[n]));
    for (size_t k = 0; k < good->count; k++)
        for (unsigned bit = 0; bit < 256; bit++) {
            p = *good;
            p.hash[k][bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_false(ledger_verify_inclusion(leaves[i], i, n, &p, roots[n]));
        }
    for (unsigned bit = 0; bit < 256; bit++) {
        memcpy(h, roots[n], 32);
        h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_false(ledger_verify_inclusion(leaves[i], i, n, good, h));
        memcpy(h, leaves[i], 32);
        h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_false(ledger_verify_inclusion(h, i, n, good, roots[n]));
    }
    /* another index: neither this leaf there, nor that leaf with this path */
    for (uint64_t j = 0; j < n + 2; j++) {
        if (j == i)
            continue;
        assert_false(ledger_verify_inclusion(leaves[i], j, n, good, roots[n]));
        if (j < n)
            assert_false(ledger_verify_inclusion(leaves[j], i, n, good, roots[n]));
    }
    /* another size, with that size's real root */
    for (uint64_t s = 1; s <= 40; s++)
        if (s != n)
            assert_false(ledger_verify_inclusion(leaves[i], i, s, good, roots[s]));
    /* truncated, over-long, shifted */
    if (good->count > 0) {
        p = *good;
        p.count--;
        assert_false(ledger_verify_inclusion(leaves[i], i, n, &p, roots[n]));
        p = *good;
        memmove(p.hash[0], p.hash[1], (p.count - 1) * 32);
        p.count--;
        assert_false(ledger_verify_inclusion(leaves[i], i, n, &p, roots[n]));
    }
    p = *good;
    memcpy(p.hash[p.count++], roots[n], 32);
    assert_false(ledger_verify_inclusion(leaves[i], i, n, &p, roots[n]));
    p = *good;
    memset(p.hash[p.count++], 0, 32);
    assert_false(ledger_verify_inclusion(leaves[i], i, n, &p, roots[n]));
    p = *good;
    memmove(p.hash[1], p.hash[0], p.count * 32);
    memcpy(p.hash[0], leaves[i], 32);
    p.count++;
    assert_false(ledger_verify_inclusion(leaves[i], i, n, &p, roots[n]));
    p = *good;
    p.count = LEDGER_PROOF_MAX + 1;
    assert_false(ledger_verify_inclusion(leaves[i], i, n, &p, roots[n]));
}

static void test_ledger_verify_inclusion_rejects_changes(void **state)
{
    enum { N = 40 };
    uint8_t (*leaves)[32] = make_leaves(N);
    uint8_t roots[N + 1][32];
    ledger_mem m;
    ledger_proof p;
    mem_fill(&m, (const uint8_t (*)[32])leaves, N);
    for (uint64_t n = 0; n <= N; n++)
        ledger_root_naive((const uint8_t (*)[32])leaves, n, roots[n]);
    for (uint64_t n = 1; n <= N; n++)
        for (uint64_t i = 0; i < n; i += (n > 12 ? 5 : 1)) {
            assert_int_equal(ledger_tree_prove_inclusion(ledger_mem_node, &m, i, n, &p, NULL), DT_OK);
            check_inclusion_tamper((const uint8_t (*)[32])leaves, (const uint8_t (*)[32])roots, i,
                                   n, &p);
        }
    ledger_mem_release(&m);
    free(leaves);
}

static void check_consistency_tamper(const uint8_t (*roots)[32], uint64_t a, uint64_t b,
                                     const ledger_proof *good)
{
    ledger_proof p;
    uint8_t h[32];
    assert_true(ledger_verify_consistency(a, b, roots[a], roots[b], good));
    for (size_t k = 0; k < good->count; k++)
        for (unsigned bit = 0; bit < 256; bit++) {
            p = *good;
            p.hash[k][bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_false(ledger_verify_consistency(a, b, roots[a], roots[b], &p));
        }
    for (unsigned bit = 0; bit < 256; bit++) {
        memcpy(h, roots[a], 32);
        h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_false(ledger_verify_consistency(a, b, h, roots[b], good));
        memcpy(h, roots[b], 32);
        h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_false(ledger_verify_consistency(a, b, roots[a], h, good));
    }
    /* other sizes with their real roots */
    for (uint64_t a2 = 0; a2 <= b; a2++)
        if (a2 != a)
            assert_false(ledger_verify_consistency(a2, b, roots[a2], roots[b], good));
    for (uint64_t b2 = a; b2 <= 40; b2++)
        if (b2 != b)
            assert_false(ledger_verify_consistency(a, b2, roots[a], roots[b2], good));
    assert_false(ledger_verify_consistency(b, a, roots[b], roots[a], good));
    assert_false(ledger_verify_consistency(a, b, roots[b], roots[a], good));
    if (good->count > 0) {
        p = *good;
        p.count--;
        assert_false(ledger_verify_consistency(a, b, roots[a], roots[b], &p));
        p = *good;
        memmove(p.hash[0], p.hash[1], (p.count - 1) * 32);
        p.count--;
        assert_false(ledger_verify_consistency(a, b, roots[a], roots[b], &p));
        p = *good;
        memmove(p.hash[1], p.hash[0], p.count * 32);
        p.count++;
        assert_false(ledger_verify_consistency(a, b, roots[a], roots[b], &p));
    }
    p = *good;
    memcpy(p.hash[p.count++], roots[a], 32);
    assert_false(ledger_verify_consistency(a, b, roots[a], roots[b], &p));
    p = *good;
    memcpy(p.hash[p.count++], roots[b], 32);
    assert_false(ledger_verify_consistency(a, b, roots[a], roots[b], &p));
    p = *good;
    p.count = LEDGER_PROOF_MAX + 1;
    assert_false(ledger_verify_consistency(a, b, roots[a], roots[b], &p));
}

static void test_ledger_verify_consistency_rejects_changes(void **state)
{
    enum { N = 40 };
    uint8_t (*leaves)[32] = make_leaves(N);
    uint8_t roots[N + 1][32];
    ledger_mem m;
    ledger_proof p;
    mem_fill(&m, (const uint8_t (*)[32])leaves, N);
    for (uint64_t n = 0; n <= N; n++)
        ledger_root_naive((const uint8_t (*)[32])leaves, n, roots[n]);
    for (uint64_t b = 1; b <= N; b++)
        for (uint64_t a = 1; a < b; a += (b > 12 ? 4 : 1)) {
            assert_int_equal(ledger_tree_prove_consistency(ledger_mem_node, &m, a, b, &p, NULL),
                             DT_OK);
            check_consistency_tamper((const uint8_t (*)[32])roots, a, b, &p);
        }
    ledger_mem_release(&m);
    free(leaves);
}

static void test_ledger_verify_consistency_trivial(void **state)
{
    uint8_t empty[32], x[32], y[32];
    ledger_proof none = {0}, one = {0};
    ledger_hash_empty(empty);
    memset(x, 1, 32);
    memset(y, 2, 32);
    one.count = 1;
    memcpy(one.hash[0], empty, 32);
    assert_true(ledger_verify_consistency(0, 0, empty, empty, &none));
    assert_true(ledger_verify_consistency(0, 5, empty, y, &none));
    assert_false(ledger_verify_consistency(0, 5, x, y, &none));     /* old root must be empty */
    assert_true(ledger_verify_consistency(3, 3, x, x, &none));
    assert_false(ledger_verify_consistency(3, 3, x, y, &none));     /* same size, other root */
    assert_false(ledger_verify_consistency(3, 3, x, x, &one));      /* needless hashes */
    assert_false(ledger_verify_consistency(0, 5, empty, y, &one));
    assert_false(ledger_verify_consistency(2, 1, x, y, &none));     /* back in time */
    assert_false(ledger_verify_consistency(1, 2, x, y, &none));     /* missing proof */
    assert_false(ledger_verify_inclusion(x, 0, 0, &none, x));
    assert_true(ledger_verify_inclusion(x, 0, 1, &none, x));        /* a leaf is its own root */
    assert_false(ledger_verify_inclusion(x, 1, 1, &none, x));
    assert_false(ledger_verify_inclusion(x, 0, 1, &one, x));
}

static void test_ledger_tree_append_writes_carry_chain(void **state)
{
    uint8_t (*leaves)[32] = make_leaves(64);
    ledger_mem m;
    mem_fill(&m, (const uint8_t (*)[32])leaves, 7);
    /* appending the 8th leaf (old size 7 = 0b111) completes levels 1, 2, 3 */
    m.reads = 0;
    assert_int_equal(ledger_mem_append(&m, leaves[7], NULL), DT_OK);
    assert_int_equal(m.reads, 3);
    uint8_t r[32];
    ledger_root_naive((const uint8_t (*)[32])leaves, 8, r);
    assert_memory_equal(m.level[3][0], r, 32);
    /* old size 8 = 0b1000: no carry, no read */
    m.reads = 0;
    assert_int_equal(ledger_mem_append(&m, leaves[8], NULL), DT_OK);
    assert_int_equal(m.reads, 0);
    ledger_mem_release(&m);
    free(leaves);
}

/* --------------------------------------------------------- signed heads */

static const char *seed_hex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

static void keypair(uint8_t pk[32], uint8_t sk[64])
{
    uint8_t seed[32];
    size_t len;
    hex_to(seed_hex, seed, 32, &len);
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

static void test_ledger_sth_message_exact(void **state)
{
    ledger_sth s = {.tree_size = 8, .timestamp = 1700000000123};
    char msg[LEDGER_STH_MESSAGE_MAX];
    size_t len;
    hex_to("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328", s.root, 32, &len);
    len = ledger_sth_message(&s, msg, sizeof msg);
    assert_string_equal(msg, "{\"root_hash\":\"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\","
                             "\"timestamp\":1700000000123,\"tree_size\":8}");
    assert_int_equal(len, strlen(msg));
    assert_int_equal(ledger_sth_message(&s, msg, 20), 0);
}

static void test_ledger_sth_make_verify(void **state)
{
    uint8_t pk[32], sk[64], pk2[32], sk2[64], root[32];
    ledger_sth s, t;
    dt_err err = {0};
    keypair(pk, sk);
    crypto_sign_keypair(pk2, sk2);
    memset(root, 0xab, 32);
    assert_int_equal(ledger_sth_make(1000, 1700000000000, root, sk, &s, &err), DT_OK);
    assert_int_equal(ledger_sth_verify(&s, pk, &err), DT_OK);
    assert_int_equal(ledger_sth_verify(&s, pk2, &err), DT_ESIG);
    assert_non_null(strstr(err.msg, "does not verify"));
    t = s;
    t.tree_size++;
    assert_int_equal(ledger_sth_verify(&t, pk, NULL), DT_ESIG);
    t = s;
    t.timestamp--;
    assert_int_equal(ledger_sth_verify(&t, pk, NULL), DT_ESIG);
    for (unsigned bit = 0; bit < 256; bit++) {
        t = s;
        t.root[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(ledger_sth_verify(&t, pk, NULL), DT_ESIG);
    }
    for (unsigned bit = 0; bit < 512; bit++) {
        t = s;
        t.signature[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(ledger_sth_verify(&t, pk, NULL), DT_ESIG);
    }
    dt_err_clear(&err);
    assert_int_equal(ledger_sth_make(LEDGER_SIZE_MAX + 1, 0, root, sk, &s, &err), DT_EINVALID);
    assert_string_equal(err.where, "tree_size");
}

static void test_ledger_sth_json_roundtrip(void **state)
{
    uint8_t pk[32], sk[64], root[32];
    ledger_sth s, t;
    dt_buf a, b;
    dt_err err = {0};
    keypair(pk, sk);
    for (int i = 0; i < 32; i++)
        root[i] = (uint8_t)i;
    assert_int_equal(ledger_sth_make(42, 1700000000999, root, sk, &s, NULL), DT_OK);
    dt_buf_init(&a, 4096);
    dt_buf_init(&b, 4096);
    assert_int_equal(ledger_sth_to_json(&s, &a, &err), DT_OK);
    assert_true(strncmp(a.data, "{\"sha256_root_hash\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\","
                                "\"timestamp\":1700000000999,\"tree_head_signature\":\"",
                        108) == 0);
    assert_non_null(strstr(a.data, "\",\"tree_size\":42}"));
    assert_int_equal(ledger_sth_parse(a.data, a.len, &t, &err), DT_OK);
    assert_memory_equal(&s, &t, sizeof s);
    assert_int_equal(ledger_sth_verify(&t, pk, NULL), DT_OK);
    assert_int_equal(ledger_sth_to_json(&t, &b, &err), DT_OK);
    assert_string_equal(a.data, b.data);
    /* key order and whitespace are free on input */
    const char *spaced = "{ \"tree_size\" : 0, \"timestamp\": 0,\n"
                         "\"tree_head_signature\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\","
                         "\"sha256_root_hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}";
    assert_int_equal(ledger_sth_parse(spaced, strlen(spaced), &t, &err), DT_OK);
    assert_int_equal(t.tree_size, 0);
    dt_buf_release(&a);
    dt_buf_release(&b);
}

static void expect_sth_reject(const char *json, dt_status code, const char *where, const char *msg)
{
    ledger_sth t;
    dt_err err = {0};
    assert_int_equal(ledger_sth_parse(json, strlen(json), &t, &err), code);
    if (where)
        assert_string_equal(err.where, where);
    if (msg && strstr(err.msg, msg) == NULL)
        fail_msg("\"%s\" does not contain \"%s\" for %s", err.msg, msg, json);
}

#define R32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define S64 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
#define STH(root, ts, sig, size)                                                              \
    "{\"sha256_root_hash\":" root ",\"timestamp\":" ts ",\"tree_head_signature\":" sig       \
    ",\"tree_size\":" size "}"

static void test_ledger_sth_parse_rejects(void **state)
{
    ledger_sth t;
    const char *ok = STH("\"" R32 "\"", "5", "\"" S64 "\"", "7");
    assert_int_equal(ledger_sth_parse(ok, strlen(ok), &t, NULL), DT_OK);
    assert_int_equal(t.tree_size, 7);
    expect_sth_reject("", DT_EPARSE, "sth", "not JSON");
    expect_sth_reject("[]", DT_EINVALID, "sth", "object");
    expect_sth_reject(ok + 1, DT_EPARSE, "sth", NULL);
    char trailing[512];
    snprintf(trailing, sizeof trailing, "%s x", ok);
    expect_sth_reject(trailing, DT_EPARSE, "sth", NULL);
    /* types and ranges */
    expect_sth_reject(STH("\"" R32 "\"", "5", "\"" S64 "\"", "\"7\""), DT_EINVALID, "sth.tree_size", "integer");
    expect_sth_reject(STH("\"" R32 "\"", "5", "\"" S64 "\"", "7.0"), DT_EINVALID, "sth.tree_size", "integer");
    expect_sth_reject(STH("\"" R32 "\"", "5", "\"" S64 "\"", "-1"), DT_EINVALID, "sth.tree_size", "non-negative");
    expect_sth_reject(STH("\"" R32 "\"", "9007199254740992", "\"" S64 "\"", "1"), DT_EINVALID, "sth.timestamp", "limit");
    expect_sth_reject(STH("\"" R32 "\"", "true", "\"" S64 "\"", "1"), DT_EINVALID, "sth.timestamp", NULL);
    expect_sth_reject(STH("\"" R32 "\"", "null", "\"" S64 "\"", "1"), DT_EINVALID, "sth.timestamp", NULL);
    expect_sth_reject(STH("32", "5", "\"" S64 "\"", "1"), DT_EINVALID, "sth.sha256_root_hash", "base64");
    /* base64 */
    expect_sth_reject(STH("\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"", "5", "\"" S64 "\"", "1"),
                      DT_EINVALID, "sth.sha256_root_hash", "characters");
    expect_sth_reject(STH("\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8AAAA=\"", "5", "\"" S64 "\"", "1"),
                      DT_EINVALID, "sth.sha256_root_hash", "characters");
    expect_sth_reject(STH("\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh!=\"", "5", "\"" S64 "\"", "1"),
                      DT_EINVALID, "sth.sha256_root_hash", "base64");
    expect_sth_reject(STH("\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd-_8=\"", "5", "\"" S64 "\"", "1"),
                      DT_EINVALID, "sth.sha256_root_hash", "base64");
    /* last character with non-zero unused bits: decodes, but not canonical */
    expect_sth_reject(STH("\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\"", "5", "\"" S64 "\"", "1"),
                      DT_EINVALID, "sth.sha256_root_hash", NULL);
    expect_sth_reject(STH("\"" R32 "\"", "5", "\"" R32 "\"", "1"), DT_EINVALID,
                      "sth.tree_head_signature", "characters");
    /* keys */
    expect_sth_reject("{\"sha256_root_hash\":\"" R32 "\",\"timestamp\":5,\"tree_size\":1}",
                      DT_EINVALID, "sth", "missing key \"tree_head_signature\"");
    expect_sth_reject("{\"sha256_root_hash\":\"" R32 "\",\"timestamp\":5,\"tree_head_signature\":\"" S64
                      "\",\"tree_size\":1,\"extra\":1}",
                      DT_EINVALID, "sth", "unexpected key \"extra\"");
    expect_sth_reject("{\"sha256_root_hash\":\"" R32 "\",\"timestamp\":5,\"timestamp\":6,\"tree_head_signature\":\"" S64
                      "\",\"tree_size\":1}",
                      DT_EPARSE, "sth", "duplicate");
}

/* ------------------------------------------------------------ proof JSON */

static void test_ledger_inclusion_json_roundtrip(void **state)
{
    uint8_t (*leaves)[32] = make_leaves(20);
    ledger_mem m;
    ledger_proof p, q;
    uint64_t idx;
    dt_buf a, b;
    dt_err err = {0};
    mem_fill(&m, (const uint8_t (*)[32])leaves, 20);
    assert_int_equal(ledger_tree_prove_inclusion(ledger_mem_node, &m, 13, 20, &p, NULL), DT_OK);
    dt_buf_init(&a, 1 << 16);
    dt_buf_init(&b, 1 << 16);
    assert_int_equal(ledger_inclusion_to_json(13, &p, &a, &err), DT_OK);
    assert_true(strncmp(a.data, "{\"audit_path\":[\"", 16) == 0);
    assert_non_null(strstr(a.data, "\"],\"leaf_index\":13}"));
    assert_int_equal(ledger_inclusion_parse(a.data, a.len, &idx, &q, &err), DT_OK);
    assert_int_equal(idx, 13);
    assert_proof_equal(&p, &q);
    assert_int_equal(ledger_inclusion_to_json(idx, &q, &b, &err), DT_OK);
    assert_string_equal(a.data, b.data);

    dt_buf_reset(&a);
    dt_buf_reset(&b);
    assert_int_equal(ledger_tree_prove_consistency(ledger_mem_node, &m, 7, 20, &p, NULL), DT_OK);
    assert_int_equal(ledger_consistency_to_json(&p, &a, &err), DT_OK);
    assert_true(strncmp(a.data, "{\"consistency\":[\"", 17) == 0);
    assert_int_equal(ledger_consistency_parse(a.data, a.len, &q, &err), DT_OK);
    assert_proof_equal(&p, &q);
    assert_int_equal(ledger_consistency_to_json(&q, &b, &err), DT_OK);
    assert_string_equal(a.data, b.data);

    /* an empty proof is fine */
    assert_int_equal(ledger_consistency_parse("{\"consistency\":[]}", 18, &q, &err), DT_OK);
    assert_int_equal(q.count, 0);
    dt_buf_release(&a);
    dt_buf_release(&b);
    ledger_mem_release(&m);
    free(leaves);
}

static void test_ledger_proof_parse_rejects(void **state)
{
    ledger_proof q;
    uint64_t idx;
    dt_err err = {0};
    const char *bad[] = {
        "{\"audit_path\":[],\"leaf_index\":-1}",
        "{\"audit_path\":[],\"leaf_index\":1.5}",
        "{\"audit_path\":{},\"leaf_index\":1}",
        "{\"audit_path\":[1],\"leaf_index\":1}",
        "{\"audit_path\":[\"AAEC\"],\"leaf_index\":1}",
        "{\"audit_path\":[],\"leaf_index\":1,\"tree_size\":3}",
        "{\"audit_path\":[]}",
        "{\"leaf_index\":1}",
        "[\"audit_path\"]",
        "{\"audit_path\":[],\"leaf_index\":1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dt_err_clear(&err);
        assert_int_not_equal(ledger_inclusion_parse(bad[i], strlen(bad[i]), &idx, &q, &err), DT_OK);
        assert_int_equal(q.count, 0);
        assert_true(err.code == DT_EINVALID || err.code == DT_EPARSE);
    }
    dt_err_clear(&err);
    assert_int_equal(ledger_inclusion_parse(bad[4], strlen(bad[4]), &idx, &q, &err), DT_EINVALID);
    assert_string_equal(err.where, "inclusion.audit_path[0]");
    /* more hashes than any real proof */
    dt_buf b;
    dt_buf_init(&b, 1 << 16);
    assert_int_equal(dt_buf_puts(&b, "{\"consistency\":[", NULL), DT_OK);
    for (int i = 0; i <= LEDGER_PROOF_MAX; i++)
        assert_int_equal(dt_buf_printf(&b, NULL, "%s\"%s\"", i ? "," : "", R32), DT_OK);
    assert_int_equal(dt_buf_puts(&b, "]}", NULL), DT_OK);
    dt_err_clear(&err);
    assert_int_equal(ledger_consistency_parse(b.data, b.len, &q, &err), DT_EINVALID);
    assert_non_null(strstr(err.msg, "at most 64"));
    dt_buf_release(&b);
    assert_int_equal(ledger_consistency_parse("{\"consistency\":null}", 20, &q, NULL), DT_EINVALID);
    assert_int_equal(ledger_consistency_parse("{\"Consistency\":[]}", 18, &q, NULL), DT_EINVALID);
}

/* ------------------------------------------- the log over a fake store */

/* A store_ops table holding only the ledger tables, in memory. node_put must
 * come in order (each level filled left to right, once), which checks the
 * carry chain; reads are counted to check the O(log n) claim; fail_at makes
 * the nth store call from now fail. */
typedef struct fake_store {
    store base;
    store_txn txn;
    uint8_t (*leaf)[32];
    char **leaf_text;
    uint64_t leaves, leaf_cap;
    uint8_t (*node[64])[32];
    uint64_t nodes[64], node_cap[64];
    char *sth[64];
    uint64_t sth_size[64];
    size_t sth_count;
    unsigned long reads, puts, fail_at;
} fake_store;

static fake_store *FK(store *s) { return (fake_store *)s; }

static dt_status fake_call(fake_store *f, dt_err *err)
{
    if (f->fail_at > 0 && --f->fail_at == 0)
        return dt_fail(err, DT_EDB, "store", "injected failure");
    return DT_OK;
}

static dt_status fake_leaf_append(store_txn *t, const uint8_t hash[32], const char *leaf,
                                  size_t leaf_len, uint64_t *index, dt_err *err)
{
    fake_store *f = FK(t->s);
    dt_status rc = fake_call(f, err);
    if (rc != DT_OK)
        return rc;
    if (f->leaves == f->leaf_cap) {
        f->leaf_cap = f->leaf_cap ? 2 * f->leaf_cap : 64;
        f->leaf = realloc(f->leaf, f->leaf_cap * 32);
        f->leaf_text = realloc(f->leaf_text, f->leaf_cap * sizeof(char *));
        assert_non_null(f->leaf);
        assert_non_null(f->leaf_text);
    }
    memcpy(f->leaf[f->leaves], hash, 32);
    f->leaf_text[f->leaves] = strndup(leaf, leaf_len);
    *index = f->leaves++;
    return DT_OK;
}

static dt_status fake_leaf_get(store *s, store_txn *t, uint64_t index, uint8_t hash[32],
                               char **leaf, size_t *leaf_len, dt_err *err)
{
    fake_store *f = FK(s);
    dt_status rc = fake_call(f, err);
    if (rc != DT_OK)
        return rc;
    f->reads++;
    if (index >= f->leaves)
        return dt_fail(err, DT_ENOTFOUND, "store", "no ledger leaf %llu", (unsigned long long)index);
    memcpy(hash, f->leaf[index], 32);
    if (leaf != NULL) {
        *leaf = dt_strdup(f->leaf_text[index]);
        *leaf_len = strlen(*leaf);
    }
    return DT_OK;
}

static dt_status fake_ledger_size(store *s, store_txn *t, uint64_t *size, dt_err *err)
{
    fake_store *f = FK(s);
    dt_status rc = fake_call(f, err);
    if (rc == DT_OK)
        *size = f->leaves;
    return rc;
}

static dt_status fake_node_put(store_txn *t, unsigned level, uint64_t index, const uint8_t hash[32],
                               dt_err *err)
{
    fake_store *f = FK(t->s);
    dt_status rc = fake_call(f, err);
    if (rc != DT_OK)
        return rc;
    assert_true(level >= 1 && level < 64);
    assert_int_equal(index, f->nodes[level]); /* in order, once */
    if (f->nodes[level] == f->node_cap[level]) {
        f->node_cap[level] = f->node_cap[level] ? 2 * f->node_cap[level] : 16;
        f->node[level] = realloc(f->node[level], f->node_cap[level] * 32);
        assert_non_null(f->node[level]);
    }
    memcpy(f->node[level][f->nodes[level]++], hash, 32);
    f->puts++;
    return DT_OK;
}

static dt_status fake_node_get(store *s, store_txn *t, unsigned level, uint64_t index,
                               uint8_t hash[32], dt_err *err)
{
    fake_store *f = FK(s);
    dt_status rc = fake_call(f, err);
    if (rc != DT_OK)
        return rc;
    f->reads++;
    if (level >= 64 || index >= f->nodes[level])
        return dt_fail(err, DT_ENOTFOUND, "store", "no ledger node");
    memcpy(hash, f->node[level][index], 32);
    return DT_OK;
}

static dt_status fake_sth_put(store_txn *t, uint64_t tree_size, const char *json, dt_err *err)
{
    fake_store *f = FK(t->s);
    assert_true(f->sth_count < 64);
    f->sth_size[f->sth_count] = tree_size;
    f->sth[f->sth_count++] = strdup(json);
    return fake_call(f, err);
}

static dt_status fake_sth_get(store *s, uint64_t tree_size, char **json, dt_err *err)
{
    fake_store *f = FK(s);
    for (size_t i = f->sth_count; i-- > 0;)
        if (tree_size == UINT64_MAX || f->sth_size[i] == tree_size) {
            *json = dt_strdup(f->sth[i]);
            return DT_OK;
        }
    return dt_fail(err, DT_ENOTFOUND, "store", "no tree head");
}

static const store_ops fake_ops = {
    .name = "fake",
    .leaf_append = fake_leaf_append,
    .leaf_get = fake_leaf_get,
    .ledger_size = fake_ledger_size,
    .node_put = fake_node_put,
    .node_get = fake_node_get,
    .sth_put = fake_sth_put,
    .sth_get = fake_sth_get,
};

static fake_store *fake_new(void)
{
    fake_store *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->base.ops = &fake_ops;
    f->txn.s = &f->base;
    return f;
}

static void fake_free(fake_store *f)
{
    for (uint64_t i = 0; i < f->leaves; i++)
        free(f->leaf_text[i]);
    for (unsigned k = 0; k < 64; k++)
        free(f->node[k]);
    for (size_t i = 0; i < f->sth_count; i++)
        free(f->sth[i]);
    free(f->leaf);
    free(f->leaf_text);
    free(f);
}

static uint64_t popcount64(uint64_t n)
{
    uint64_t c = 0;
    for (; n; n &= n - 1)
        c++;
    return c;
}

static void test_ledger_append_over_store(void **state)
{
    enum { N = 300 };
    fake_store *f = fake_new();
    uint8_t (*leaves)[32] = make_leaves(N);
    ledger_mem m;
    ledger_proof p, q;
    uint8_t h[32], root[32], want[32];
    uint64_t idx;
    dt_err err = {0};
    ledger_mem_init(&m);
    for (uint64_t i = 0; i < N; i++) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "leaf-%llu", (unsigned long long)i);
        assert_int_equal(ledger_append(&f->txn, buf, (size_t)len, &idx, h, &err), DT_OK);
        assert_int_equal(idx, i);
        assert_memory_equal(h, leaves[i], 32);
        assert_int_equal(ledger_mem_append(&m, h, NULL), DT_OK);
        /* every complete subtree at level >= 1, each written once */
        assert_int_equal(f->puts, (i + 1) - popcount64(i + 1));
    }
    for (uint64_t n = 0; n <= N; n++) {
        ledger_root_naive((const uint8_t (*)[32])leaves, n, want);
        f->reads = 0;
        assert_int_equal(ledger_root(&f->base, NULL, n, root, &err), DT_OK);
        assert_memory_equal(root, want, 32);
        assert_true(f->reads <= popcount64(n));
        for (uint64_t i = 0; i < n; i += 7) {
            f->reads = 0;
            assert_int_equal(ledger_prove_inclusion(&f->base, i, n, &p, &err), DT_OK);
            assert_true(f->reads <= 2 * bit_length(n));
            assert_int_equal(ledger_tree_prove_inclusion(ledger_mem_node, &m, i, n, &q, NULL), DT_OK);
            assert_proof_equal(&p, &q);
            assert_true(ledger_verify_inclusion(leaves[i], i, n, &p, root));
        }
        for (uint64_t a = 0; a <= n; a += 11) {
            uint8_t r1[32];
            f->reads = 0;
            assert_int_equal(ledger_prove_consistency(&f->base, a, n, &p, &err), DT_OK);
            assert_true(f->reads <= 2 * bit_length(n) + 1);
            assert_int_equal(ledger_root(&f->base, NULL, a, r1, &err), DT_OK);
            assert_true(ledger_verify_consistency(a, n, r1, root, &p));
        }
    }
    ledger_mem_release(&m);
    free(leaves);
    fake_free(f);
}

static void test_ledger_prove_errors(void **state)
{
    fake_store *f = fake_new();
    ledger_proof p;
    uint8_t h[32];
    uint64_t idx;
    dt_err err = {0};
    for (int i = 0; i < 10; i++)
        assert_int_equal(ledger_append(&f->txn, "x", 1, &idx, h, NULL), DT_OK);
    assert_int_equal(ledger_prove_inclusion(&f->base, 0, 11, &p, &err), DT_EINVALID);
    assert_string_equal(err.msg, "tree size 11 is beyond the log, which has 10 leaves");
    dt_err_clear(&err);
    assert_int_equal(ledger_prove_inclusion(&f->base, 10, 10, &p, &err), DT_EINVALID);
    assert_non_null(strstr(err.msg, "leaf index 10 is not in a tree of 10 leaves"));
    dt_err_clear(&err);
    assert_int_equal(ledger_prove_consistency(&f->base, 4, 3, &p, &err), DT_EINVALID);
    assert_string_equal(err.msg, "first tree size 4 is larger than the second 3");
    dt_err_clear(&err);
    assert_int_equal(ledger_prove_consistency(&f->base, 4, 12, &p, &err), DT_EINVALID);
    dt_err_clear(&err);
    assert_int_equal(ledger_root(&f->base, NULL, 11, h, &err), DT_EINVALID);
    fake_free(f);
}

static void test_ledger_append_store_failure(void **state)
{
    /* a failing store call at any point of an append comes back as its error */
    for (unsigned long k = 1; k <= 7; k++) {
        fake_store *f = fake_new();
        uint8_t h[32];
        uint64_t idx;
        dt_err err = {0};
        for (int i = 0; i < 7; i++)
            assert_int_equal(ledger_append(&f->txn, "y", 1, &idx, h, NULL), DT_OK);
        /* the 8th append makes 1 leaf append + 3 reads + 3 puts = 7 store calls */
        f->fail_at = k;
        assert_int_equal(ledger_append(&f->txn, "z", 1, &idx, h, &err), DT_EDB);
        assert_string_equal(err.msg, "injected failure");
        assert_non_null(strstr(err.where, "ledger"));
        fake_free(f);
    }
}

static void test_ledger_sth_issue_load(void **state)
{
    fake_store *f = fake_new();
    uint8_t pk[32], sk[64], h[32], root[32];
    uint64_t idx;
    ledger_sth s, t;
    dt_err err = {0};
    keypair(pk, sk);
    assert_int_equal(ledger_sth_load(&f->base, UINT64_MAX, &t, &err), DT_ENOTFOUND);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ledger_append(&f->txn, "abc", 3, &idx, h, NULL), DT_OK);
    assert_int_equal(ledger_sth_issue(&f->txn, 1700000000000, sk, &s, &err), DT_OK);
    assert_int_equal(s.tree_size, 5);
    assert_int_equal(ledger_root(&f->base, NULL, 5, root, NULL), DT_OK);
    assert_memory_equal(s.root, root, 32);
    assert_int_equal(ledger_append(&f->txn, "def", 3, &idx, h, NULL), DT_OK);
    assert_int_equal(ledger_sth_issue(&f->txn, 1700000000500, sk, &s, &err), DT_OK);
    assert_int_equal(ledger_sth_load(&f->base, UINT64_MAX, &t, &err), DT_OK);
    assert_memory_equal(&s, &t, sizeof s);
    assert_int_equal(ledger_sth_verify(&t, pk, &err), DT_OK);
    assert_int_equal(ledger_sth_load(&f->base, 5, &t, &err), DT_OK);
    assert_int_equal(t.tree_size, 5);
    assert_int_equal(ledger_sth_verify(&t, pk, &err), DT_OK);
    fake_free(f);
}

/* ------------------------------------------------ the log over SQLite */

typedef struct sq_fixture {
    char dir[64];
    char path[128];
    store *s;
} sq_fixture;

static void sq_open(sq_fixture *f)
{
    dt_err err = {0};
    snprintf(f->dir, sizeof f->dir, "/tmp/detente-ledger-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/node.db", f->dir);
    store_config cfg = {.backend = "sqlite", .path = f->path};
    if (store_open(&cfg, &f->s, &err) != DT_OK)
        fail_msg("open: %s", err.msg);
}

static void sq_close(sq_fixture *f)
{
    char p[256];
    store_close(f->s);
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
}

static void sq_append(store *s, uint64_t from, uint64_t to, bool commit)
{
    store_txn *t = NULL;
    dt_err err = {0};
    uint8_t h[32];
    uint64_t idx;
    assert_int_equal(store_begin(s, &t, &err), DT_OK);
    for (uint64_t i = from; i < to; i++) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "leaf-%llu", (unsigned long long)i);
        if (ledger_append(t, buf, (size_t)len, &idx, h, &err) != DT_OK)
            fail_msg("append %llu: %s: %s", (unsigned long long)i, err.where, err.msg);
        assert_int_equal(idx, i);
    }
    if (commit)
        assert_int_equal(store_commit(t, &err), DT_OK);
    else
        store_rollback(t);
}

static void test_ledger_over_sqlite(void **state)
{
    enum { N = 130 };
    sq_fixture f;
    uint8_t (*leaves)[32] = make_leaves(N + 10);
    uint8_t roots[N + 11][32], r[32];
    ledger_mem m;
    ledger_proof p, q;
    uint64_t size;
    dt_err err = {0};
    sq_open(&f);
    mem_fill(&m, (const uint8_t (*)[32])leaves, N + 10);
    for (uint64_t n = 0; n <= N + 10; n++)
        ledger_root_naive((const uint8_t (*)[32])leaves, n, roots[n]);
    sq_append(f.s, 0, 70, true);
    sq_append(f.s, 70, N, true);
    /* an append that is rolled back leaves no leaf and no node behind */
    sq_append(f.s, N, N + 10, false);
    assert_int_equal(ledger_size(f.s, NULL, &size, &err), DT_OK);
    assert_int_equal(size, N);
    for (uint64_t n = 0; n <= N; n++) {
        assert_int_equal(ledger_root(f.s, NULL, n, r, &err), DT_OK);
        assert_memory_equal(r, roots[n], 32);
        for (uint64_t i = 0; i < n; i += 3) {
            assert_int_equal(ledger_prove_inclusion(f.s, i, n, &p, &err), DT_OK);
            assert_int_equal(ledger_tree_prove_inclusion(ledger_mem_node, &m, i, n, &q, NULL), DT_OK);
            assert_proof_equal(&p, &q);
            assert_true(ledger_verify_inclusion(leaves[i], i, n, &p, roots[n]));
        }
        for (uint64_t a = 0; a <= n; a += 9) {
            assert_int_equal(ledger_prove_consistency(f.s, a, n, &p, &err), DT_OK);
            assert_true(ledger_verify_consistency(a, n, roots[a], roots[n], &p));
        }
    }
    /* the same leaves again, committed this time; a transaction sees its own appends */
    store_txn *t = NULL;
    uint8_t h[32];
    uint64_t idx;
    assert_int_equal(store_begin(f.s, &t, &err), DT_OK);
    for (uint64_t i = N; i < N + 10; i++) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "leaf-%llu", (unsigned long long)i);
        assert_int_equal(ledger_append(t, buf, (size_t)len, &idx, h, &err), DT_OK);
    }
    assert_int_equal(ledger_root(f.s, t, N + 10, r, &err), DT_OK);
    assert_memory_equal(r, roots[N + 10], 32);
    /* the same leaf twice is refused by the store */
    assert_int_equal(ledger_append(t, "leaf-3", 6, &idx, h, &err), DT_ECONFLICT);
    dt_err_clear(&err);
    uint8_t pk[32], sk[64];
    ledger_sth sth, back;
    keypair(pk, sk);
    assert_int_equal(ledger_sth_issue(t, 1700000000000, sk, &sth, &err), DT_OK);
    assert_int_equal(store_commit(t, &err), DT_OK);
    assert_int_equal(ledger_sth_load(f.s, UINT64_MAX, &back, &err), DT_OK);
    assert_memory_equal(&sth, &back, sizeof sth);
    assert_int_equal(back.tree_size, N + 10);
    assert_memory_equal(back.root, roots[N + 10], 32);
    assert_int_equal(ledger_sth_verify(&back, pk, &err), DT_OK);
    assert_int_equal(ledger_prove_consistency(f.s, N, N + 10, &p, &err), DT_OK);
    assert_true(ledger_verify_consistency(N, N + 10, roots[N], back.root, &p));
    assert_int_equal(ledger_prove_inclusion(f.s, 0, N + 11, &p, &err), DT_EINVALID);
    ledger_mem_release(&m);
    free(leaves);
    sq_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ledger_root_naive_reference),
        cmocka_unit_test(test_ledger_tree_root_reference),
        cmocka_unit_test(test_ledger_tree_prove_reference),
        cmocka_unit_test(test_ledger_tree_prove_inclusion_matches_naive),
        cmocka_unit_test(test_ledger_tree_prove_consistency_matches_naive),
        cmocka_unit_test(test_ledger_tree_prove_random_large),
        cmocka_unit_test(test_ledger_tree_prove_errors),
        cmocka_unit_test(test_ledger_verify_inclusion_rejects_changes),
        cmocka_unit_test(test_ledger_verify_consistency_rejects_changes),
        cmocka_unit_test(test_ledger_verify_consistency_trivial),
        cmocka_unit_test(test_ledger_tree_append_writes_carry_chain),
        cmocka_unit_test(test_ledger_sth_message_exact),
        cmocka_unit_test(test_ledger_sth_make_verify),
        cmocka_unit_test(test_ledger_sth_json_roundtrip),
        cmocka_unit_test(test_ledger_sth_parse_rejects),
        cmocka_unit_test(test_ledger_inclusion_json_roundtrip),
        cmocka_unit_test(test_ledger_proof_parse_rejects),
        cmocka_unit_test(test_ledger_append_over_store),
        cmocka_unit_test(test_ledger_prove_errors),
        cmocka_unit_test(test_ledger_append_store_failure),
        cmocka_unit_test(test_ledger_sth_issue_load),
        cmocka_unit_test(test_ledger_over_sqlite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
