/* Fuzz target: an untrusted input text through the STIX door: the input
 * walk (bundle, array, object or JSON lines), strict parsing, validation of
 * every item, and the SCO id of every SCO that validates. Nothing may crash,
 * leak or read out of bounds, whatever the bytes. */
#include <stdint.h>
#include <string.h>

#include "stix/stix.h"

static dt_status each(void *ctx, const char *where, json_t *item, const dt_err *ie)
{
    dt_err err = {0};
    char id[320];
    (void)ctx;
    (void)where;
    if (ie != NULL)
        return DT_OK;
    if (stix_validate(item, NULL, &err) == DT_OK &&
        stix_type_kind(stix_str(item, "type")) == STIX_KIND_SCO)
        (void)stix_sco_id(item, id, sizeof id, NULL);
    json_incref(item);
    stix_object *o = NULL;
    if (stix_object_take(item, NULL, &o, NULL) == DT_OK)
        stix_object_free(o);
    return DT_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stix_limits lim;
    stix_limits_default(&lim);
    lim.max_input_bytes = 1 << 20;
    (void)stix_input_walk((const char *)data, size, &lim, each, NULL, NULL);
    return 0;
}
