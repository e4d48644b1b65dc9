/* Fuzz target: what a peer's server answers, as the sync client reads it.
 * The first byte picks the parser (discovery, collections, envelope,
 * manifest, status, witnessed document); the rest is the answer. A parse
 * must never crash or leak, a failure always says why, and what parses
 * holds the invariants the sync relies on (API root ends with '/', every
 * envelope element is an object with an id and a type). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "peer/peer.h"
#include "taxii/taxii.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p;
    size_t n;
    dt_err err = {0};
    dt_status rc = DT_OK;
    if (size < 1)
        return 0;
    p = (const char *)data + 1;
    n = size - 1;
    switch (data[0] % 6) {
    case 0: {
        char root[512];
        rc = taxii_discovery_parse(p, n, "https://peer.example:8470", root, sizeof root, &err);
        if (rc == DT_OK && (root[0] == '\0' || root[strlen(root) - 1] != '/'))
            abort();
        break;
    }
    case 1: {
        taxii_collection_info *cs = NULL;
        size_t count = 0;
        rc = taxii_collections_parse(p, n, &cs, &count, &err);
        if (rc == DT_OK && count > 0 && cs == NULL)
            abort();
        dt_free(cs);
        break;
    }
    case 2: {
        json_t *objs = NULL, *o;
        bool more;
        char next[TAXII_NEXT_CAP];
        size_t i;
        rc = taxii_envelope_parse(p, n, &objs, &more, next, &err);
        if (rc == DT_OK) {
            json_array_foreach(objs, i, o) {
                if (!json_is_string(json_object_get(o, "id")) ||
                    !json_is_string(json_object_get(o, "type")))
                    abort();
            }
        }
        json_decref(objs);
        break;
    }
    case 3: {
        taxii_manifest_entry *es = NULL;
        size_t count = 0;
        bool more;
        rc = taxii_manifest_parse(p, n, &es, &count, &more, &err);
        dt_free(es);
        break;
    }
    case 4: {
        taxii_status_info st;
        rc = taxii_status_parse(p, n, &st, &err);
        break;
    }
    default: {
        json_t *doc = NULL;
        rc = peer_witnessed_parse(p, n, &doc, &err);
        json_decref(doc);
        break;
    }
    }
    if (rc != DT_OK && err.code == DT_OK)
        abort();
    return 0;
}
