/* Fuzz target: inclusion and consistency proof JSON (ledger_inclusion_parse,
 * ledger_consistency_parse). A parse must never crash; a parsed proof
 * re-serialises to text that parses back to the same proof and prints the
 * same bytes; verifying it against sizes and hashes taken from the input
 * runs cleanly whatever they are. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"

static void roundtrip(bool inclusion, uint64_t index, const ledger_proof *p)
{
    ledger_proof q;
    uint64_t idx2 = 0;
    dt_buf j1, j2;
    dt_status r1, r2, r3;
    dt_buf_init(&j1, 1 << 16);
    dt_buf_init(&j2, 1 << 16);
    if (inclusion) {
        r1 = ledger_inclusion_to_json(index, p, &j1, NULL);
        r2 = ledger_inclusion_parse(j1.data, j1.len, &idx2, &q, NULL);
        r3 = ledger_inclusion_to_json(idx2, &q, &j2, NULL);
    } else {
        r1 = ledger_consistency_to_json(p, &j1, NULL);
        r2 = ledger_consistency_parse(j1.data, j1.len, &q, NULL);
        r3 = ledger_consistency_to_json(&q, &j2, NULL);
    }
    if (r1 != DT_OK || r2 != DT_OK || r3 != DT_OK || idx2 != (inclusion ? index : 0) ||
        q.count != p->count || memcmp(q.hash, p->hash, p->count * 32) != 0 ||
        j1.len != j2.len || memcmp(j1.data, j2.data, j1.len) != 0)
        abort();
    dt_buf_release(&j1);
    dt_buf_release(&j2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ledger_proof p;
    uint64_t index = 0, n = 0;
    uint8_t h[32] = {0}, r[32] = {0};
    for (size_t i = 0; i < size && i < 8; i++)
        n = (n << 8) | data[i];
    memcpy(h, data, size < 32 ? size : 32);
    if (size > 32)
        memcpy(r, data + size - 32, 32);
    if (ledger_inclusion_parse((const char *)data, size, &index, &p, NULL) == DT_OK) {
        roundtrip(true, index, &p);
        (void)ledger_verify_inclusion(h, index, n, &p, r);
        (void)ledger_verify_inclusion(h, index, index + 1 + (n & 0xffff), &p, r);
    }
    if (ledger_consistency_parse((const char *)data, size, &p, NULL) == DT_OK) {
        roundtrip(false, 0, &p);
        (void)ledger_verify_consistency(n & 0xffffffff, n >> 16, h, r, &p);
        (void)ledger_verify_consistency(n & 0xff, n & 0xffff, h, r, &p);
    }
    return 0;
}
