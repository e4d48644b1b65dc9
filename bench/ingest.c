/* bench_ingest: the door in at TAXII POST granularity, without HTTP.
 *
 * Reads bundle files (from bench_gen_stix), cuts their objects into
 * envelopes of --envelope objects (100 by default, a typical TAXII POST),
 * renders each envelope as one bundle text up front, then times
 * node_ingest_text over them in order on a fresh node, as the TAXII POST
 * handler does per request. Two passes: unsigned objects signed by the
 * node (a local writer), then the same objects already signed by another
 * node, so every object's signature is verified (a peer or TAXII client
 * sending signed content). Prints objects/s and MB/s of input; asserts
 * nothing. Usage: bench_ingest [--envelope N] [--dir D] FILE... */
#include "node/node.h"
#include "stix/stix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int die(const char *what, const dt_err *err)
{
    char text[400];
    fprintf(stderr, "bench_ingest: %s: %s\n", what, dt_err_text(err, text, sizeof text));
    return 1;
}

typedef struct objs {
    json_t **v;
    size_t count, cap;
} objs;

static dt_status collect(void *ctx, const char *where, json_t *item, const dt_err *item_err)
{
    objs *o = ctx;
    (void)where;
    (void)item_err;
    if (item == NULL)
        return DT_OK;
    if (o->count == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 1024;
        json_t **p = realloc(o->v, cap * sizeof *p);
        if (p == NULL)
            return DT_ENOMEM;
        o->v = p;
        o->cap = cap;
    }
    o->v[o->count++] = json_incref(item);
    return DT_OK;
}

/* Envelopes of n objects as bundle texts. */
static char **render(const objs *o, size_t n, size_t *count, size_t *bytes)
{
    size_t k = (o->count + n - 1) / n;
    char **env = calloc(k ? k : 1, sizeof *env);
    *bytes = 0;
    for (size_t e = 0; env != NULL && e < k; e++) {
        json_t *arr = json_array(), *b;
        for (size_t i = e * n; i < o->count && i < (e + 1) * n; i++)
            json_array_append(arr, o->v[i]);
        b = json_pack("{s:s, s:s, s:o}", "type", "bundle", "id",
                      "bundle--00000000-0000-4000-8000-000000000000", "objects", arr);
        env[e] = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        if (env[e] == NULL)
            return NULL;
        *bytes += strlen(env[e]);
    }
    *count = k;
    return env;
}

static int pass(const char *dir, const char *label, char **env, size_t nenv, size_t nobj,
                size_t bytes, bool sign)
{
    node *n = NULL;
    node_principal who;
    node_ingest_opts opts = {.collection = "default", .sign = sign};
    dt_err err = {0};
    size_t added = 0, rejected = 0;
    char home[1024];
    snprintf(home, sizeof home, "%s/%s", dir, label);
    if (node_init(home, &(node_init_opts){.name = label}, &err) != DT_OK)
        return die("init", &err);
    if (node_open(home, &n, &err) != DT_OK)
        return die("open", &err);
    node_principal_local(&who);
    double t0 = now_s(), c0 = cpu_s();
    for (size_t e = 0; e < nenv; e++) {
        node_ingest_result res = {0};
        if (node_ingest_text(n, &who, &opts, env[e], strlen(env[e]), &res, &err) != DT_OK) {
            node_ingest_result_release(&res);
            node_close(n);
            return die("ingest", &err);
        }
        added += res.added;
        rejected += res.rejected;
        node_ingest_result_release(&res);
    }
    double dt = now_s() - t0, dc = cpu_s() - c0;
    printf("  %-26s %8zu objects  %7.2f s  %9.0f objects/s  %6.1f MB/s  cpu %.2f s  (%zu "
           "added, %zu rejected)\n",
           label, nobj, dt, (double)nobj / dt, (double)bytes / dt / 1e6, dc, added, rejected);
    node_close(n);
    return 0;
}

int main(int argc, char **argv)
{
    size_t per = 100;
    const char *dir = NULL;
    char tmp[] = "/tmp/bench_ingest.XXXXXX";
    objs o = {0};
    dt_err err = {0};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--envelope") == 0 && i + 1 < argc)
            per = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else
            break;
    }
    if (i >= argc || per == 0) {
        fprintf(stderr, "usage: bench_ingest [--envelope N] [--dir D] FILE...\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    if (dir == NULL && (dir = mkdtemp(tmp)) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    for (; i < argc; i++) {
        char *text = NULL;
        size_t len = 0;
        stix_limits lim;
        stix_limits_default(&lim);
        if (dt_file_read(argv[i], (size_t)1 << 30, &text, &len, &err) != DT_OK ||
            stix_input_walk(text, len, &lim, collect, &o, &err) != DT_OK)
            return die(argv[i], &err);
        dt_free(text);
    }

    /* the same objects signed by another party, for the verify pass */
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    objs s = {.v = calloc(o.count ? o.count : 1, sizeof *s.v), .count = o.count};
    for (size_t k = 0; s.v != NULL && k < o.count; k++) {
        s.v[k] = json_deep_copy(o.v[k]);
        if (node_object_sign(s.v[k], "identity--7d3c6a1e-3f0c-4b8a-9a55-0c6f6c1d2e11", sk,
                             &err) != DT_OK)
            return die("sign", &err);
    }

    size_t nenv = 0, bytes = 0, snenv = 0, sbytes = 0;
    char **env = render(&o, per, &nenv, &bytes);
    char **senv = render(&s, per, &snenv, &sbytes);
    if (env == NULL || senv == NULL) {
        fprintf(stderr, "bench_ingest: out of memory\n");
        return 1;
    }
    printf("bench_ingest: %zu objects in envelopes of %zu, node_ingest_text per envelope\n",
           o.count, per);
    int rc = pass(dir, "unsigned-signed-by-node", env, nenv, o.count, bytes, true);
    if (rc == 0)
        rc = pass(dir, "signed-verified", senv, snenv, s.count, sbytes, false);

    for (size_t k = 0; k < nenv; k++)
        free(env[k]);
    for (size_t k = 0; k < snenv; k++)
        free(senv[k]);
    free(env);
    free(senv);
    for (size_t k = 0; k < o.count; k++) {
        json_decref(o.v[k]);
        json_decref(s.v[k]);
    }
    free(o.v);
    free(s.v);
    if (dir == tmp) {
        char cmd[1100];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_ingest: could not remove %s\n", tmp);
    }
    return rc;
}
