/* Fuzz target: the json log reader of scan/ over arbitrary bytes (see
 * scan_fuzz.h for the indicator set it scans against). */
#include "scan_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return scan_fuzz_one(SCAN_FORMAT_JSON, "fuzz.json", true, data, size);
}
