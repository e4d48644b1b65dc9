/* mem: the ledger's node source held in memory, one growable array per
 * level, filled by ledger_tree_append exactly as the store is. Used by the
 * tests (it counts reads, to check the O(log n) claims), the benchmark, and
 * any tool that checks a log it downloaded. 32 bytes per stored node, about
 * 64 bytes per leaf in all. */
#include "ledger/ledger.h"

#include <string.h>

void ledger_mem_init(ledger_mem *m)
{
    memset(m, 0, sizeof *m);
}

void ledger_mem_release(ledger_mem *m)
{
    for (unsigned k = 0; k < 64; k++)
        dt_free(m->level[k]);
    memset(m, 0, sizeof *m);
}

dt_status ledger_mem_node(void *ctx, unsigned level, uint64_t index, uint8_t out[32], dt_err *err)
{
    ledger_mem *m = ctx;
    if (level >= 64 || index >= (m->size >> level))
        return dt_fail(err, DT_ENOTFOUND, "ledger",
                       "no complete subtree at level %u index %llu in a tree of %llu leaves",
                       level, (unsigned long long)index, (unsigned long long)m->size);
    m->reads++;
    memcpy(out, m->level[level][index], 32);
    return DT_OK;
}

static dt_status mem_put(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32],
                         dt_err *err)
{
    ledger_mem *m = ctx;
    /* room was reserved by ledger_mem_append */
    if (level >= 64 || index >= m->cap[level])
        return dt_fail(err, DT_EARG, "ledger", "node (%u, %llu) outside reserved room", level,
                       (unsigned long long)index);
    memcpy(m->level[level][index], hash, 32);
    return DT_OK;
}

dt_status ledger_mem_append(ledger_mem *m, const uint8_t leaf_hash[32], dt_err *err)
{
    uint64_t n = m->size;
    if (n >= LEDGER_SIZE_MAX)
        return dt_fail(err, DT_ELIMIT, "ledger", "the log is full (%llu leaves)",
                       (unsigned long long)n);
    /* reserve every level the carry chain will write before writing any */
    for (unsigned k = 0; k < 64; k++) {
        uint64_t idx = n >> k;
        if (idx >= m->cap[k]) {
            uint64_t cap = m->cap[k] ? m->cap[k] * 2 : 64;
            void *p = dt_realloc(m->level[k], (size_t)cap * 32);
            if (p == NULL)
                return dt_fail(err, DT_ENOMEM, "ledger", "no memory for %llu nodes",
                               (unsigned long long)cap);
            m->level[k] = p;
            m->cap[k] = cap;
        }
        if (((n >> k) & 1) == 0)
            break;
    }
    dt_status rc = ledger_tree_append(ledger_mem_node, m, mem_put, m, n, leaf_hash, err);
    if (rc != DT_OK)
        return rc;
    m->size = n + 1;
    return DT_OK;
}
