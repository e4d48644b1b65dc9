/* Fuzz target for taxii/'s request parsing: the input is split at the first
 * two newlines into a path, a query string and a header value; the path is
 * routed, the query parsed for the objects endpoint (and turned into a store
 * query), the header read as Accept and as Content-Type, and the query's
 * `next` value decoded as a paging token; the header is also parsed as an
 * Authorization value. Nothing may crash or leak. */
#include "http/http.h"
#include "taxii/taxii.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *path, *query, *header, *nl;
    taxii_route r;
    taxii_params p;
    store_query q;
    int64_t da, rid;
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    path = text;
    query = "";
    header = "";
    nl = memchr(path, '\n', size);
    if (nl != NULL) {
        *nl = '\0';
        query = nl + 1;
        nl = strchr(query, '\n');
        if (nl != NULL) {
            *nl = '\0';
            header = nl + 1;
        }
    }
    if (taxii_route_parse(path, strlen(path), "api", &r, NULL) == DT_OK)
        (void)taxii_route_allows(r.kind, "POST");
    taxii_params_init(&p, taxii_route_params(TAXII_ROUTE_OBJECTS));
    if (taxii_params_parse_query(&p, query, strlen(query), NULL) == DT_OK)
        taxii_params_to_query(&p, "default", 100, 1000, &q);
    taxii_params_release(&p);
    (void)taxii_accept_ok(header);
    (void)taxii_content_type_ok(header);
    {
        char user[64], secret[512];
        (void)http_auth_parse(header, user, sizeof user, secret, sizeof secret);
    }
    (void)taxii_next_decode(query, strlen(query), &da, &rid, NULL);
    free(text);
    return 0;
}
