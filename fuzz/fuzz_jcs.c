/* Fuzz target: RFC 8785 canonical JSON is a fixed point. Whenever a text
 * parses and canonicalises, parsing the canonical bytes and canonicalising
 * again must give the same bytes: the property signatures rely on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *a = NULL, *b = NULL;
    dt_buf one, two;
    dt_buf_init(&one, 4 << 20);
    dt_buf_init(&two, 4 << 20);
    if (stix_json_parse((const char *)data, size, NULL, &a, NULL) == DT_OK &&
        stix_jcs(a, &one, NULL) == DT_OK) {
        if (stix_json_parse(one.data, one.len, NULL, &b, NULL) != DT_OK)
            abort(); /* canonical output must be JSON we read */
        if (stix_jcs(b, &two, NULL) != DT_OK || one.len != two.len ||
            memcmp(one.data, two.data, one.len) != 0)
            abort();
    }
    json_decref(a);
    json_decref(b);
    dt_buf_release(&one);
    dt_buf_release(&two);
    return 0;
}
