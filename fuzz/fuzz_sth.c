/* Fuzz target: signed tree head JSON (ledger_sth_parse). A parse must never
 * crash; whatever parses re-serialises, parses again to the same head and
 * prints the same bytes (the JSON form is canonical), and verification of
 * any parsed head under a fixed key runs cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t pk[32] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
                                   0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
                                   0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
                                   0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
    ledger_sth a, b;
    dt_buf j1, j2;
    dt_err err = {0};
    if (ledger_sth_parse((const char *)data, size, &a, &err) != DT_OK) {
        if (err.code == DT_OK)
            abort(); /* a failure always says why */
        return 0;
    }
    (void)ledger_sth_verify(&a, pk, NULL);
    dt_buf_init(&j1, 4096);
    dt_buf_init(&j2, 4096);
    if (ledger_sth_to_json(&a, &j1, NULL) != DT_OK ||
        ledger_sth_parse(j1.data, j1.len, &b, NULL) != DT_OK || memcmp(&a, &b, sizeof a) != 0 ||
        ledger_sth_to_json(&b, &j2, NULL) != DT_OK || j1.len != j2.len ||
        memcmp(j1.data, j2.data, j1.len) != 0)
        abort();
    dt_buf_release(&j1);
    dt_buf_release(&j2);
    return 0;
}
