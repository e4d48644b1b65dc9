/* bench_stix: throughput of the STIX door's pure parts on the OASIS
 * examples shipped in tests/data/stix: strict parse + walk + validate
 * (objects/s), RFC 8785 canonicalisation (MB/s of canonical output), and
 * deterministic SCO ids (ids/s). Prints figures; asserts nothing.
 * Usage: bench_stix [SRC_DIR] (default: $DETENTE_SRC or .) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stix/stix.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static dt_status count_valid(void *ctx, const char *where, json_t *item, const dt_err *ie)
{
    size_t *n = ctx;
    if (ie == NULL && stix_validate(item, NULL, NULL) == DT_OK)
        n[0]++;
    n[1]++;
    return DT_OK;
}

int main(int argc, char **argv)
{
    const char *src = argc > 1 ? argv[1] : getenv("DETENTE_SRC");
    char path[1024];
    char *text = NULL;
    size_t len = 0;
    dt_err err = {0};
    snprintf(path, sizeof path, "%s/tests/data/stix/examples/apt1.json", src ? src : ".");
    if (dt_file_read(path, 1 << 24, &text, &len, &err) != DT_OK) {
        fprintf(stderr, "bench_stix: %s: %s\n", path, err.msg);
        return 1;
    }
    /* parse + walk + validate */
    size_t counts[2] = {0, 0};
    int rounds = 200;
    double t0 = now();
    for (int i = 0; i < rounds; i++)
        stix_input_walk(text, len, NULL, count_valid, counts, NULL);
    double dt = now() - t0;
    printf("parse+validate: %zu objects (%zu valid) in %.3f s: %.0f objects/s, %.1f MB/s of input\n",
           counts[1], counts[0], dt, (double)counts[1] / dt, (double)len * rounds / dt / 1e6);

    /* JCS of the whole bundle */
    json_t *root = NULL;
    stix_json_parse(text, len, NULL, &root, NULL);
    dt_buf b;
    dt_buf_init(&b, (size_t)64 << 20);
    size_t out = 0;
    t0 = now();
    for (int i = 0; i < rounds; i++) {
        dt_buf_reset(&b);
        stix_jcs(root, &b, NULL);
        out += b.len;
    }
    dt = now() - t0;
    printf("jcs: %zu bytes canonical per round, %.1f MB/s\n", b.len, (double)out / dt / 1e6);
    dt_buf_release(&b);
    json_decref(root);

    /* SCO ids */
    json_t *sco = json_pack("{s:s, s:s}", "type", "ipv4-addr", "value", "198.51.100.3");
    json_t *file = json_pack("{s:s, s:s, s:{s:s, s:s}}", "type", "file", "name", "resume.pdf",
                             "hashes", "MD5", "1717b7fff97d37a1e1a0029d83492de1", "SHA-256",
                             "4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877");
    char id[128];
    int n = 200000;
    t0 = now();
    for (int i = 0; i < n; i++)
        stix_sco_id(i % 2 ? sco : file, id, sizeof id, NULL);
    dt = now() - t0;
    printf("sco ids: %.0f ids/s (ipv4-addr and file alternating)\n", n / dt);
    json_decref(sco);
    json_decref(file);
    dt_free(text);
    return 0;
}
