/* Fuzz the pattern parser: any bytes must give a pattern or a clean error
 * (with a column), in bounded time and memory. Valid patterns are also
 * printed and explained, and evaluated against one small record. */
#include "pattern/pattern.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pattern *p = NULL;
    dt_err err = {0};
    if (pattern_parse((const char *)data, size, &p, &err) != DT_OK) {
        if (err.code == DT_OK || (err.code != DT_ENOMEM && strncmp(err.where, "column ", 7) != 0 &&
                                  err.code != DT_ELIMIT))
            __builtin_trap();
        return 0;
    }
    dt_buf b;
    dt_buf_init(&b, 1u << 22);
    (void)pattern_print(p, &b, NULL);
    dt_buf_reset(&b);
    (void)pattern_explain(p, &b, NULL);
    dt_buf_release(&b);
    json_t *scos = json_loads("[{\"type\":\"file\",\"id\":\"file--1\",\"name\":\"a.exe\","
                              "\"size\":12,\"parent_directory_ref\":\"directory--2\"},"
                              "{\"type\":\"directory\",\"id\":\"directory--2\",\"path\":\"C:\\\\\"}]",
                              0, NULL);
    bool m;
    (void)pattern_match_record(p, scos, 0, &m, NULL);
    json_decref(scos);
    pattern_atoms a;
    if (pattern_atoms_extract(p, &a, NULL) == DT_OK)
        pattern_atoms_release(&a);
    pattern_free(p);
    return 0;
}
