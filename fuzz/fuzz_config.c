/* Fuzz the node configuration parser (detente.conf, INI): any text gives a
 * configuration or an error naming the line, never a crash; a text that
 * parses keeps every value within its documented bounds. */
#include "node/node.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    node_config c;
    dt_err err = {0};
    if (node_config_parse((const char *)data, size, "fuzz.conf", &c, &err) == DT_OK) {
        if (c.page_default < 1 || c.page_max < 1 || c.max_content_length < 1024 ||
            c.default_marking > NODE_TLP_RED || c.api_root[0] == '\0')
            abort();
    } else if (err.msg[0] == '\0') {
        abort(); /* every failure says why */
    }
    return 0;
}
