/* Fuzz target: one MISP warninglist (list.json text) is loaded, then fixed
 * values and a value cut from the input are looked up as every kind. A bad
 * list must fail cleanly with a message; a good one must answer lookups
 * without crashing, leaking or reading out of bounds. The value cut from
 * the input also goes through the technical checks of every type. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "verify/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const kinds[] = {"domain", "hostname", "ip", "url", "md5", "email", ""};
    static const char *const fixed[] = {"8.8.8.8",  "2001:db8::1",        "www.google.com",
                                        "10.0.0.1", "http://[::1]:80/x", "abuse@example.org",
                                        "a..b.",    "::ffff:1.2.3.4",    "https://u@h.example/p?q"};
    verify_lists *l = NULL;
    dt_err err = {0};
    char value[64];
    size_t vlen = size < sizeof value - 1 ? size : sizeof value - 1;
    verify_hit hits[4];
    if (verify_lists_new(&l, &err) != DT_OK)
        return 0;
    (void)verify_lists_add_json(l, (const char *)data, size, "fuzz", &err);
    memcpy(value, data, vlen);
    value[vlen] = '\0';
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
            (void)verify_lists_lookup(l, kinds[k], fixed[i], hits, 4);
        (void)verify_lists_lookup(l, kinds[k], value, hits, 4);
    }
    /* the technical checks read the same kind of untrusted values */
    {
        static const char *const types[] = {"MD5", "SHA-256", "ipv4-addr", "ipv6-addr",
                                            "domain-name", "url", "email-addr"};
        verify_evidence ev[4];
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
            (void)verify_check_value(types[t], value, ev, 4);
    }
    verify_lists_free(l);
    return 0;
}
