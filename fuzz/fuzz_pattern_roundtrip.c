/* Fuzz parse -> print -> parse: the canonical text of any valid pattern
 * must parse again to the same tree and print to the same text. */
#include "pattern/pattern_int.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pattern *a = NULL, *b = NULL;
    dt_buf t1, t2;
    if (pattern_parse((const char *)data, size, &a, NULL) != DT_OK)
        return 0;
    dt_buf_init(&t1, 1u << 22);
    dt_buf_init(&t2, 1u << 22);
    if (pattern_print(a, &t1, NULL) != DT_OK)
        __builtin_trap();
    if (pattern_parse(t1.data, t1.len, &b, NULL) != DT_OK)
        __builtin_trap();
    if (!pattern_tree_equal(a, b))
        __builtin_trap();
    if (pattern_print(b, &t2, NULL) != DT_OK || t1.len != t2.len ||
        memcmp(t1.data, t2.data, t1.len) != 0)
        __builtin_trap();
    dt_buf_release(&t1);
    dt_buf_release(&t2);
    pattern_free(a);
    pattern_free(b);
    return 0;
}
