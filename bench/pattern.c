/* bench_pattern: parse and evaluation throughput of pattern/.
 *
 * 1. Parse 1M generated indicator patterns (domains, IPv4 CIDRs, SHA-256 and
 *    MD5 hashes, URLs, a few compound ones), timing only pattern_parse +
 *    pattern_free; prints patterns/s and MB/s.
 * 2. Evaluate a mixed set of complex patterns (references, MATCHES, LIKE,
 *    ISSUBSET, IN, FOLLOWEDBY ... WITHIN, REPEATS, START/STOP) against a set
 *    of observed-data objects with pattern_match; prints observations
 *    evaluated per second (patterns x observations / time).
 * 3. The scanner's path: pattern_match_record on one record at a time.
 * Usage: bench_pattern [N_PATTERNS] [N_OBSERVATIONS]. Figures only, no asserts. */
#include "pattern/pattern.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void hex(char *out, size_t n)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++)
        out[i] = d[next() & 15];
    out[n] = '\0';
}

static int gen(char *buf, size_t cap, size_t i)
{
    char h[129];
    switch (i % 8) {
    case 0:
    case 1:
        return snprintf(buf, cap, "[domain-name:value = 'h%" PRIu64 ".evil-%zu.example']",
                        next() % 100000, i);
    case 2:
        return snprintf(buf, cap, "[ipv4-addr:value = '%u.%u.%u.0/24']", (unsigned)(next() % 223 + 1),
                        (unsigned)(next() % 256), (unsigned)(next() % 256));
    case 3:
        hex(h, 64);
        return snprintf(buf, cap, "[file:hashes.'SHA-256' = '%s']", h);
    case 4:
        hex(h, 32);
        return snprintf(buf, cap, "[file:hashes.MD5 = '%s' OR file:name = 'dropper%zu.exe']", h, i);
    case 5:
        return snprintf(buf, cap, "[url:value = 'http://c2-%zu.example/gate.php?id=%" PRIu64 "']", i,
                        next() % 1000000);
    case 6:
        return snprintf(buf, cap,
                        "[network-traffic:dst_ref.value = '203.0.113.%u' AND "
                        "network-traffic:dst_port = %u]",
                        (unsigned)(next() % 256), (unsigned)(next() % 65536));
    default:
        return snprintf(buf, cap,
                        "([domain-name:value = 'a%zu.example'] FOLLOWEDBY "
                        "[url:value LIKE 'http://a%zu.example/%%']) WITHIN 600 SECONDS",
                        i, i);
    }
}

static void bench_parse(size_t n)
{
    size_t cap = n * 128, used = 0;
    char *text = malloc(cap);
    uint32_t *off = malloc((n + 1) * sizeof *off);
    if (text == NULL || off == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(3);
    }
    for (size_t i = 0; i < n; i++) {
        off[i] = (uint32_t)used;
        used += (size_t)gen(text + used, cap - used, i);
    }
    off[n] = (uint32_t)used;
    size_t bad = 0;
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        pattern *p = NULL;
        if (pattern_parse(text + off[i], off[i + 1] - off[i], &p, NULL) != DT_OK)
            bad++;
        pattern_free(p);
    }
    double dt = now() - t0;
    printf("parse: %zu patterns (%.1f MB) in %.3f s: %.0f patterns/s, %.1f MB/s%s\n", n,
           (double)used / 1e6, dt, (double)n / dt, (double)used / 1e6 / dt,
           bad ? " (some failed!)" : "");
    free(text);
    free(off);
}

static json_t *make_observations(size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        char ts[40], d[64], ip[64], nt[64], u[64], f[64], od[64], host[64], url[128], addr[32];
        int64_t sec = 1577836800 + (int64_t)i * 7;
        struct tm tm;
        time_t tt = (time_t)sec;
        gmtime_r(&tt, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(d, sizeof d, "domain-name--%zu", i);
        snprintf(ip, sizeof ip, "ipv4-addr--%zu", i);
        snprintf(nt, sizeof nt, "network-traffic--%zu", i);
        snprintf(u, sizeof u, "url--%zu", i);
        snprintf(f, sizeof f, "file--%zu", i);
        snprintf(od, sizeof od, "observed-data--%zu", i);
        snprintf(host, sizeof host, "a%zu.example", i % 500);
        snprintf(url, sizeof url, "http://a%zu.example/p/%zu", i % 500, i);
        snprintf(addr, sizeof addr, "203.0.%u.%u", (unsigned)(i % 256), (unsigned)(i * 7 % 256));
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:[s]}", "type", "domain-name", "id", d,
                                           "value", host, "resolves_to_refs", ip));
        json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "type", "ipv4-addr", "id", ip, "value",
                                           addr));
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:i,s:[s]}", "type", "network-traffic",
                                           "id", nt, "dst_ref", ip, "dst_port",
                                           (int)(i % 3 ? 443 : 8080), "protocols", "tcp"));
        json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "type", "url", "id", u, "value", url));
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:i}", "type", "file", "id", f, "name",
                                           i % 11 ? "report.pdf" : "setup.exe", "size",
                                           (int)(i * 13 % 100000)));
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:i,s:[s,s,s,s,s]}", "type",
                                           "observed-data", "id", od, "first_observed", ts,
                                           "last_observed", ts, "number_observed", 1,
                                           "object_refs", d, ip, nt, u, f));
    }
    return a;
}

static const char *complex_patterns[] = {
    "[network-traffic:dst_ref.value ISSUBSET '203.0.7.0/24' AND network-traffic:dst_port = 8080]",
    "[domain-name:resolves_to_refs[*].value = '203.0.9.63']",
    "[url:value MATCHES '^http://a4[0-9]{2}\\\\.example/p/[0-9]+7$']",
    "[file:name LIKE '%.exe' AND file:size > 99000]",
    "[network-traffic:dst_port IN (22, 23, 3389) OR network-traffic:protocols[*] = 'udp']",
    ("([domain-name:value = 'a17.example'] FOLLOWEDBY [url:value LIKE 'http://a18.example/%']) "
     "WITHIN 60 SECONDS"),
    "[url:value LIKE 'http://a42.example/%'] REPEATS 3 TIMES WITHIN 10000 SECONDS",
    "[file:name = 'setup.exe'] START t'2020-01-01T00:10:00Z' STOP t'2020-01-01T00:20:00Z'",
    "[domain-name:value = 'nowhere.example'] OR [ipv4-addr:value = '198.51.100.1']",
    "[NOT EXISTS file:hashes AND file:size < 5]",
};

static void bench_eval(size_t n_obs)
{
    json_t *objs = make_observations(n_obs);
    size_t npat = sizeof complex_patterns / sizeof complex_patterns[0];
    size_t evals = 0, matches = 0;
    double per[sizeof complex_patterns / sizeof complex_patterns[0]] = {0};
    double t0 = now();
    for (int round = 0; round < 3; round++)
        for (size_t k = 0; k < npat; k++) {
            pattern *p = NULL;
            bool m = false;
            dt_err err = {0};
            if (pattern_parse(complex_patterns[k], strlen(complex_patterns[k]), &p, &err) != DT_OK) {
                fprintf(stderr, "pattern %zu: %s: %s\n", k, err.where, err.msg);
                continue;
            }
            double tp = now();
            if (pattern_match(p, objs, &m, &err) != DT_OK)
                fprintf(stderr, "pattern %zu: %s: %s\n", k, err.where, err.msg);
            per[k] += now() - tp;
            matches += m;
            evals += n_obs;
            pattern_free(p);
        }
    double dt = now() - t0;
    printf("match: %zu complex patterns x %zu observed-data, 3 rounds, %.3f s: "
           "%.0f observations evaluated/s (%zu of %zu pattern runs matched)\n",
           npat, n_obs, dt, (double)evals / dt, matches, npat * 3);
    for (size_t k = 0; k < npat; k++)
        printf("  %8.0f obs/s  %s\n", 3.0 * (double)n_obs / per[k], complex_patterns[k]);

    /* the scanner's path: one record (its SCOs) at a time */
    pattern *ps[sizeof complex_patterns / sizeof complex_patterns[0]];
    for (size_t k = 0; k < npat; k++)
        if (pattern_parse(complex_patterns[k], strlen(complex_patterns[k]), &ps[k], NULL) != DT_OK)
            ps[k] = NULL;
    size_t records = n_obs, rec_evals = 0;
    json_t *rec = json_array();
    t0 = now();
    for (size_t i = 0; i < records; i++) {
        json_array_clear(rec);
        for (size_t j = 0; j < 5; j++)
            json_array_append(rec, json_array_get(objs, i * 6 + j));
        for (size_t k = 0; k < npat; k++) {
            bool m;
            if (ps[k] && pattern_match_record(ps[k], rec, 1577836800000000LL + (int64_t)i, &m,
                                              NULL) == DT_OK)
                rec_evals++;
        }
    }
    dt = now() - t0;
    printf("match_record: %zu records x %zu patterns in %.3f s: %.0f record evaluations/s\n",
           records, npat, dt, (double)rec_evals / dt);
    json_decref(rec);
    for (size_t k = 0; k < npat; k++)
        pattern_free(ps[k]);
    json_decref(objs);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    size_t obs = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000;
    if (n == 0 || obs == 0) {
        fprintf(stderr, "usage: %s [N_PATTERNS] [N_OBSERVATIONS]\n", argv[0]);
        return 2;
    }
    bench_parse(n);
    bench_eval(obs);
    return 0;
}
