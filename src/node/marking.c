/* Markings: an object's effective TLP level.
 *
 * The effective level is the most restrictive TLP marking among the object's
 * object_marking_refs, recognising the STIX 2.1 TLP 1.0 definitions (spec
 * section 7.2.1.4; WHITE reads as CLEAR) and the OASIS TLP 2.0 ones
 * (cti-stix-common-objects, extension-definition--60a3c5c5-...). Statement
 * and other markings do not change the level. An object with no TLP marking
 * takes the node's configured default: unmarked data is never assumed to be
 * public. A marking-definition object itself is CLEAR: it says nothing
 * secret, and every reader needs it to interpret the markings it sees. */
#include "node/node_int.h"

#include <string.h>

static const struct {
    const char *id;
    node_tlp level;
} known[] = {
    /* STIX 2.1 TLP 1.0 */
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", NODE_TLP_CLEAR},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", NODE_TLP_GREEN},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", NODE_TLP_AMBER},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", NODE_TLP_RED},
    /* TLP 2.0 */
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", NODE_TLP_CLEAR},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", NODE_TLP_GREEN},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", NODE_TLP_AMBER},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", NODE_TLP_AMBER_STRICT},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", NODE_TLP_RED},
};

bool node_tlp_of_marking(const char *marking_id, node_tlp *out)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(marking_id, known[i].id) == 0) {
            *out = known[i].level;
            return true;
        }
    }
    return false;
}

node_tlp node_object_marking(const json_t *obj, node_tlp default_level)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    json_t *refs = json_object_get(obj, "object_marking_refs");
    bool any = false;
    node_tlp level = NODE_TLP_CLEAR;
    size_t i;
    json_t *ref;

    if (type != NULL && strcmp(type, "marking-definition") == 0)
        return NODE_TLP_CLEAR;
    if (json_is_array(refs)) {
        json_array_foreach(refs, i, ref) {
            node_tlp t;
            if (json_is_string(ref) && node_tlp_of_marking(json_string_value(ref), &t)) {
                any = true;
                if (t > level)
                    level = t;
            }
        }
    }
    return any ? level : default_level;
}
