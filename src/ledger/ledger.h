/* ledger: this node's Merkle transparency log of accepted object versions.
 *
 * Hashing is exactly RFC 9162 section 2.1: a leaf hash is SHA-256(0x00 || leaf
 * bytes), an interior node SHA-256(0x01 || left || right), and the hash of n
 * leaves splits at the largest power of two smaller than n. The leaf bytes are
 * built by node/ (JCS of {id, modified, object_sha256, signer, date_added});
 * this module only takes bytes.
 *
 * Storage model. Every complete subtree is kept as it becomes complete: the
 * node at (level k, index i) covers leaves [i*2^k, (i+1)*2^k). An append
 * writes the leaf and then one node per trailing one-bit of the old size (the
 * "carry chain"), two rows amortised. Any root, inclusion proof or consistency
 * proof for any past tree size then reads O(log n) stored subtree hashes and
 * recomputes at most O(log n) partial ones. The math (merkle.c) runs over an
 * abstract node source, so it is tested in memory (mem.c) and runs unchanged
 * over the store (log.c). Signed tree heads and the JSON forms of heads and
 * proofs are in sth.c.
 *
 * Thread safety: the pure functions are reentrant. A ledger_mem must not be
 * appended to while read. log.c follows the store's rules (one writer). */
#ifndef DETENTE_LEDGER_H
#define DETENTE_LEDGER_H

#include "core/core.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

#define LEDGER_HASH_LEN 32
/* Proof hashes held inline. An inclusion proof has at most ceil(log2(n))
 * hashes, a consistency proof at most that plus one; n <= 2^53 - 1. */
#define LEDGER_PROOF_MAX 64
/* Tree sizes, indexes and timestamps stay below 2^53 so that their JSON and
 * JCS forms are exact integers (RFC 8785 numbers are IEEE doubles). */
#define LEDGER_SIZE_MAX ((uint64_t)9007199254740991ULL)

typedef struct ledger_proof {
    size_t count;
    uint8_t hash[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
} ledger_proof;

/* ---- hashing (merkle.c) ---- */

void ledger_hash_leaf(const void *leaf, size_t len, uint8_t out[32]);
void ledger_hash_children(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]);
/* SHA-256 of the empty string: the root of a tree of size 0. */
void ledger_hash_empty(uint8_t out[32]);
/* Reference root over `count` leaf hashes, straight from the recursive
 * definition (O(n) hashes, recursion depth log n). For tests and tools. */
void ledger_root_naive(const uint8_t (*leaves)[32], size_t count, uint8_t out[32]);

/* ---- the tree over a node source (merkle.c) ---- */

/* Hash of the complete subtree at (level, index): it covers leaves
 * [index << level, (index + 1) << level). Only called for complete subtrees
 * that exist in the tree being read. Level 0 is a leaf hash. */
typedef dt_status (*ledger_node_fn)(void *ctx, unsigned level, uint64_t index, uint8_t out[32],
                                    dt_err *err);
/* Store the hash of a subtree that just became complete. */
typedef dt_status (*ledger_put_fn)(void *ctx, unsigned level, uint64_t index,
                                   const uint8_t hash[32], dt_err *err);

/* Root of the first `size` leaves: one read per set bit of size, and as many
 * hashes (size 0 gives ledger_hash_empty). DT_EINVALID if size is too big. */
dt_status ledger_tree_root(ledger_node_fn node, void *ctx, uint64_t size, uint8_t out[32],
                           dt_err *err);
/* Audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162
 * 2.1.3.1), nearest sibling first. DT_EINVALID if index >= size. Reads at
 * most 2*log2(size) nodes. */
dt_status ledger_tree_prove_inclusion(ledger_node_fn node, void *ctx, uint64_t index,
                                      uint64_t size, ledger_proof *out, dt_err *err);
/* Consistency proof between the trees of the first `first` and `second`
 * leaves (RFC 9162 2.1.4.1). Empty when first == 0 or first == second.
 * DT_EINVALID if first > second. */
dt_status ledger_tree_prove_consistency(ledger_node_fn node, void *ctx, uint64_t first,
                                        uint64_t second, ledger_proof *out, dt_err *err);
/* Append a leaf to a tree of `size` leaves: puts (0, size) = leaf_hash, then
 * for every trailing one-bit of size the parent that became complete: the
 * carry chain reads its left siblings (the old tree's "frontier") through
 * `node` and puts (k, size >> k) for k = 1 .. trailing_ones(size). So an
 * append writes 1 + trailing_ones(size) hashes, under 2 on average. Errors
 * of either callback are returned as they are. */
dt_status ledger_tree_append(ledger_node_fn node, void *node_ctx, ledger_put_fn put,
                             void *put_ctx, uint64_t size, const uint8_t leaf_hash[32],
                             dt_err *err);

/* RFC 9162 2.1.3.2: true iff the path leads from leaf_hash at index to root in
 * a tree of tree_size leaves. Pure, constant memory. */
bool ledger_verify_inclusion(const uint8_t leaf_hash[32], uint64_t index, uint64_t tree_size,
                             const ledger_proof *p, const uint8_t root[32]);
/* RFC 9162 2.1.4.2: true iff the proof shows the tree of `first` leaves with
 * root1 is a prefix of the tree of `second` leaves with root2. first ==
 * second needs an empty proof and equal roots; first == 0 an empty proof and
 * root1 the empty-tree hash. */
bool ledger_verify_consistency(uint64_t first, uint64_t second, const uint8_t root1[32],
                               const uint8_t root2[32], const ledger_proof *p);

/* ---- an in-memory node source (mem.c), for tests, benchmarks and tools ---- */

typedef struct ledger_mem {
    uint64_t size;              /* leaves appended */
    uint8_t (*level[64])[32];   /* level[k][i]: complete subtree (k, i) */
    uint64_t cap[64];
    uint64_t reads;             /* node reads served, for cost checks */
} ledger_mem;

void ledger_mem_init(ledger_mem *m);
void ledger_mem_release(ledger_mem *m);
/* Append one leaf hash. DT_ENOMEM (m unchanged) or DT_ELIMIT past LEDGER_SIZE_MAX. */
dt_status ledger_mem_append(ledger_mem *m, const uint8_t leaf_hash[32], dt_err *err);
/* A ledger_node_fn over a ledger_mem (ctx = the ledger_mem). */
dt_status ledger_mem_node(void *ctx, unsigned level, uint64_t index, uint8_t out[32],
                          dt_err *err);

/* ---- the persistent log over the store (log.c) ----
 * Level-0 hashes live in the store's leaf table (leaf_append/leaf_get), levels
 * >= 1 in its node table (node_put/node_get). */

/* Append `leaf` (borrowed) as the next leaf, inside the caller's write
 * transaction, with its carry chain. On DT_OK, *index is its position and
 * leaf_hash its hash. DT_ECONFLICT if the same leaf bytes are already in the
 * log (the store keeps leaf hashes unique); DT_EDB or another store code if a
 * store call fails; the caller then rolls back. Callers hold the store's
 * single writer (the transaction). */
dt_status ledger_append(store_txn *t, const char *leaf, size_t leaf_len, uint64_t *index,
                        uint8_t leaf_hash[32], dt_err *err);
/* Root of the first tree_size leaves; t may be NULL (committed state) or the
 * caller's transaction (sees its appends). DT_EINVALID past the log's size. */
dt_status ledger_root(store *s, store_txn *t, uint64_t tree_size, uint8_t root[32], dt_err *err);
/* Proofs over committed state. DT_EINVALID for a tree size beyond the log,
 * index >= tree_size, first > second. Safe beside the writer. */
dt_status ledger_prove_inclusion(store *s, uint64_t index, uint64_t tree_size, ledger_proof *out,
                                 dt_err *err);
dt_status ledger_prove_consistency(store *s, uint64_t first, uint64_t second, ledger_proof *out,
                                   dt_err *err);
/* Number of leaves (t may be NULL). */
dt_status ledger_size(store *s, store_txn *t, uint64_t *size, dt_err *err);

/* ---- signed tree heads and JSON forms (sth.c) ---- */

typedef struct ledger_sth {
    uint64_t tree_size;
    uint64_t timestamp;          /* milliseconds since the epoch */
    uint8_t root[32];
    uint8_t signature[64];       /* Ed25519 over ledger_sth_message() */
} ledger_sth;

/* The signed bytes: JCS of {"root_hash": <base64>, "timestamp": <int>,
 * "tree_size": <int>}. Writes at most cap bytes (NUL-terminated); returns
 * the length, or 0 if cap is too small (LEDGER_STH_MESSAGE_MAX always fits). */
#define LEDGER_STH_MESSAGE_MAX 160
size_t ledger_sth_message(const ledger_sth *sth, char *out, size_t cap);
/* Fill *out and sign it with the Ed25519 secret key (64 bytes, libsodium
 * layout, borrowed and not kept). DT_EINVALID for sizes/timestamps past
 * LEDGER_SIZE_MAX; DT_ESIG if signing fails. */
dt_status ledger_sth_make(uint64_t tree_size, uint64_t timestamp_ms, const uint8_t root[32],
                          const uint8_t secret_key[64], ledger_sth *out, dt_err *err);
/* DT_OK iff the signature verifies under the 32-byte public key; DT_ESIG
 * otherwise. */
dt_status ledger_sth_verify(const ledger_sth *sth, const uint8_t public_key[32], dt_err *err);
/* Append the JSON form (JCS: keys sorted, no spaces) to out:
 * {"sha256_root_hash":"<b64>","timestamp":N,"tree_head_signature":"<b64>","tree_size":N} */
dt_status ledger_sth_to_json(const ledger_sth *sth, dt_buf *out, dt_err *err);
/* Strict parse: exactly those four keys, integers in [0, LEDGER_SIZE_MAX],
 * canonical padded base64 of 32 and 64 bytes. DT_EPARSE for bad JSON,
 * DT_EINVALID for anything else, with the key in err->where. Does not verify. */
dt_status ledger_sth_parse(const char *json, size_t len, ledger_sth *out, dt_err *err);

/* Proof JSON: {"audit_path":["<b64>",...],"leaf_index":N} and
 * {"consistency":["<b64>",...]}, appended to out. Parsers are strict like
 * ledger_sth_parse and reject more than LEDGER_PROOF_MAX hashes. */
dt_status ledger_inclusion_to_json(uint64_t leaf_index, const ledger_proof *p, dt_buf *out,
                                   dt_err *err);
dt_status ledger_inclusion_parse(const char *json, size_t len, uint64_t *leaf_index,
                                 ledger_proof *out, dt_err *err);
dt_status ledger_consistency_to_json(const ledger_proof *p, dt_buf *out, dt_err *err);
dt_status ledger_consistency_parse(const char *json, size_t len, ledger_proof *out, dt_err *err);

/* ---- signed heads in the store (log.c) ---- */

/* Sign a head for the log's current size (as t sees it) at timestamp_ms and
 * keep its JSON with sth_put. *out gets the head. */
dt_status ledger_sth_issue(store_txn *t, uint64_t timestamp_ms, const uint8_t secret_key[64],
                           ledger_sth *out, dt_err *err);
/* The head kept for tree_size (UINT64_MAX: the latest). DT_ENOTFOUND if none. */
dt_status ledger_sth_load(store *s, uint64_t tree_size, ledger_sth *out, dt_err *err);

#endif
