/* merkle: RFC 9162 section 2.1 Merkle tree math over an abstract node source.
 *
 * Pure: no I/O, no allocation. Everything reads complete subtree hashes
 * through a ledger_node_fn, so the same code runs over memory (mem.c) and the
 * store (log.c).
 *
 * The one idea: in the recursive definitions (MTH, PATH, SUBPROOF of 2.1.1,
 * 2.1.3.1, 2.1.4.1) every range D[lo:hi] that occurs starts at a multiple of
 * the smallest power of two >= hi - lo. Such a range splits into the complete
 * subtrees given by the set bits of hi - lo, largest first, and its MTH is
 * those pieces folded from the right. So the hash of any range costs one read
 * per set bit (range_hash). Walking down PATH or SUBPROOF, a sibling is
 * either a complete subtree (one read) or the partial right part of the
 * current range, and the partial case happens at most once per proof: after
 * stepping into a left part, the range is complete and so is everything
 * under it. Hence O(log n) reads for any proof of any past size.
 *
 * Proofs are collected top-down while walking and reversed at the end, since
 * both PATH and SUBPROOF list the innermost sibling first. Verification
 * follows the iterative algorithms of 2.1.3.2 and 2.1.4.2. */
#include "ledger/ledger.h"

#include <string.h>

void ledger_hash_leaf(const void *leaf, size_t len, uint8_t out[32])
{
    static const uint8_t prefix = 0x00;
    dt_sha256_2(&prefix, 1, leaf, len, out);
}

void ledger_hash_children(const uint8_t left[32], const uint8_t right[32], uint8_t out[32])
{
    uint8_t buf[65];
    buf[0] = 0x01;
    memcpy(buf + 1, left, 32);
    memcpy(buf + 33, right, 32);
    dt_sha256(buf, sizeof buf, out);
}

void ledger_hash_empty(uint8_t out[32])
{
    dt_sha256("", 0, out);
}

/* Largest power of two strictly smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

void ledger_root_naive(const uint8_t (*leaves)[32], size_t count, uint8_t out[32])
{
    uint8_t l[32], r[32];
    if (count == 0) {
        ledger_hash_empty(out);
        return;
    }
    if (count == 1) {
        memcpy(out, leaves[0], 32);
        return;
    }
    size_t k = (size_t)split_point(count);
    ledger_root_naive(leaves, k, l);
    ledger_root_naive(leaves + k, count - k, r);
    ledger_hash_children(l, r, out);
}

/* MTH(D[lo:hi]) for a range as described at the top (hi > lo). */
static dt_status range_hash(ledger_node_fn node, void *ctx, uint64_t lo, uint64_t hi,
                            uint8_t out[32], dt_err *err)
{
    uint64_t span = hi - lo, end = hi;
    uint8_t piece[32];
    bool have = false;
    dt_status rc;
    for (unsigned level = 0; level < 64; level++) {
        uint64_t w = (uint64_t)1 << level;
        if ((span & w) == 0)
            continue;
        uint64_t start = end - w;
        /* start is lo plus the higher set bits of span: aligned to w */
        if (!have) {
            rc = node(ctx, level, start >> level, out, err);
            if (rc != DT_OK)
                return rc;
            have = true;
        } else {
            rc = node(ctx, level, start >> level, piece, err);
            if (rc != DT_OK)
                return rc;
            ledger_hash_children(piece, out, out);
        }
        end = start;
    }
    return DT_OK;
}

dt_status ledger_tree_root(ledger_node_fn node, void *ctx, uint64_t size, uint8_t out[32],
                           dt_err *err)
{
    if (size > LEDGER_SIZE_MAX)
        return dt_fail(err, DT_EINVALID, "ledger", "tree size %llu is beyond the limit %llu",
                       (unsigned long long)size, (unsigned long long)LEDGER_SIZE_MAX);
    if (size == 0) {
        ledger_hash_empty(out);
        return DT_OK;
    }
    return range_hash(node, ctx, 0, size, out, err);
}

static void proof_reverse(ledger_proof *p)
{
    uint8_t tmp[32];
    for (size_t i = 0, j = p->count; i + 1 < j; i++, j--) {
        memcpy(tmp, p->hash[i], 32);
        memcpy(p->hash[i], p->hash[j - 1], 32);
        memcpy(p->hash[j - 1], tmp, 32);
    }
}

static dt_status proof_room(ledger_proof *p, dt_err *err)
{
    if (p->count >= LEDGER_PROOF_MAX)
        return dt_fail(err, DT_ELIMIT, "ledger", "proof longer than %d hashes", LEDGER_PROOF_MAX);
    return DT_OK;
}

dt_status ledger_tree_prove_inclusion(ledger_node_fn node, void *ctx, uint64_t index,
                                      uint64_t size, ledger_proof *out, dt_err *err)
{
    uint64_t lo = 0, hi = size;
    dt_status rc;
    out->count = 0;
    if (size > LEDGER_SIZE_MAX)
        return dt_fail(err, DT_EINVALID, "ledger", "tree size %llu is beyond the limit %llu",
                       (unsigned long long)size, (unsigned long long)LEDGER_SIZE_MAX);
    if (index >= size)
        return dt_fail(err, DT_EINVALID, "ledger",
                       "leaf index %llu is not in a tree of %llu leaves",
                       (unsigned long long)index, (unsigned long long)size);
    while (hi - lo > 1) {
        uint64_t k = split_point(hi - lo);
        if ((rc = proof_room(out, err)) != DT_OK)
            goto fail;
        if (index < lo + k) {
            rc = range_hash(node, ctx, lo + k, hi, out->hash[out->count], err);
            hi = lo + k;
        } else {
            rc = range_hash(node, ctx, lo, lo + k, out->hash[out->count], err);
            lo += k;
        }
        if (rc != DT_OK)
            goto fail;
        out->count++;
    }
    proof_reverse(out);
    return DT_OK;
fail:
    out->count = 0;
    return rc;
}

dt_status ledger_tree_prove_consistency(ledger_node_fn node, void *ctx, uint64_t first,
                                        uint64_t second, ledger_proof *out, dt_err *err)
{
    uint64_t lo = 0, hi = second;
    bool whole = true; /* SUBPROOF's b: D[lo:hi] still starts the old tree at 0 */
    dt_status rc = DT_OK;
    out->count = 0;
    if (second > LEDGER_SIZE_MAX)
        return dt_fail(err, DT_EINVALID, "ledger", "tree size %llu is beyond the limit %llu",
                       (unsigned long long)second, (unsigned long long)LEDGER_SIZE_MAX);
    if (first > second)
        return dt_fail(err, DT_EINVALID, "ledger",
                       "first tree size %llu is larger than the second %llu",
                       (unsigned long long)first, (unsigned long long)second);
    if (first == 0 || first == second)
        return DT_OK;
    for (;;) {
        if (first == hi) {
            if (!whole) {
                if ((rc = proof_room(out, err)) != DT_OK)
                    goto fail;
                if ((rc = range_hash(node, ctx, lo, hi, out->hash[out->count], err)) != DT_OK)
                    goto fail;
                out->count++;
            }
            break;
        }
        uint64_t k = split_point(hi - lo);
        if ((rc = proof_room(out, err)) != DT_OK)
            goto fail;
        if (first - lo <= k) {
            rc = range_hash(node, ctx, lo + k, hi, out->hash[out->count], err);
            hi = lo + k;
        } else {
            rc = range_hash(node, ctx, lo, lo + k, out->hash[out->count], err);
            lo += k;
            whole = false;
        }
        if (rc != DT_OK)
            goto fail;
        out->count++;
    }
    proof_reverse(out);
    return DT_OK;
fail:
    out->count = 0;
    return rc;
}

dt_status ledger_tree_append(ledger_node_fn node, void *node_ctx, ledger_put_fn put,
                             void *put_ctx, uint64_t size, const uint8_t leaf_hash[32],
                             dt_err *err)
{
    uint8_t h[32], sibling[32];
    uint64_t idx = size;
    unsigned level = 0;
    dt_status rc;
    if (size >= LEDGER_SIZE_MAX)
        return dt_fail(err, DT_ELIMIT, "ledger", "the log is full (%llu leaves)",
                       (unsigned long long)size);
    rc = put(put_ctx, 0, size, leaf_hash, err);
    if (rc != DT_OK)
        return rc;
    memcpy(h, leaf_hash, 32);
    /* each trailing one-bit of the old size is a complete left sibling that
     * now gets its right half: their parent becomes complete */
    while (idx & 1) {
        rc = node(node_ctx, level, idx - 1, sibling, err);
        if (rc != DT_OK)
            return rc;
        ledger_hash_children(sibling, h, h);
        idx >>= 1;
        level++;
        rc = put(put_ctx, level, idx, h, err);
        if (rc != DT_OK)
            return rc;
    }
    return DT_OK;
}

bool ledger_verify_inclusion(const uint8_t leaf_hash[32], uint64_t index, uint64_t tree_size,
                             const ledger_proof *p, const uint8_t root[32])
{
    uint8_t r[32];
    uint64_t fn = index, sn;
    if (p == NULL || p->count > LEDGER_PROOF_MAX || index >= tree_size)
        return false;
    sn = tree_size - 1;
    memcpy(r, leaf_hash, 32);
    for (size_t i = 0; i < p->count; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            ledger_hash_children(p->hash[i], r, r);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            ledger_hash_children(r, p->hash[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && dt_ct_equal(r, root, 32);
}

bool ledger_verify_consistency(uint64_t first, uint64_t second, const uint8_t root1[32],
                               const uint8_t root2[32], const ledger_proof *p)
{
    uint8_t fr[32], sr[32];
    uint64_t fn, sn;
    if (p == NULL || p->count > LEDGER_PROOF_MAX || first > second)
        return false;
    if (first == second)
        return p->count == 0 && dt_ct_equal(root1, root2, 32);
    if (first == 0) {
        uint8_t empty[32];
        ledger_hash_empty(empty);
        return p->count == 0 && dt_ct_equal(root1, empty, 32);
    }
    if (p->count == 0)
        return false;
    /* when the old tree is a complete subtree its root is the proof's
     * implicit first element */
    bool implicit = (first & (first - 1)) == 0;
    size_t total = p->count + (implicit ? 1 : 0);
#define ELEM(i) (implicit ? ((i) == 0 ? root1 : p->hash[(i) - 1]) : p->hash[(i)])
    fn = first - 1;
    sn = second - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    memcpy(fr, ELEM(0), 32);
    memcpy(sr, ELEM(0), 32);
    for (size_t i = 1; i < total; i++) {
        const uint8_t *c = ELEM(i);
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            ledger_hash_children(c, fr, fr);
            ledger_hash_children(c, sr, sr);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            ledger_hash_children(sr, c, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
#undef ELEM
    return sn == 0 && dt_ct_equal(fr, root1, 32) && dt_ct_equal(sr, root2, 32);
}
