/* bench_scan: how fast `detente scan` matches Zeek logs against a large
 * indicator set, next to the read ceiling (wc -l) and GNU grep -F -f.
 *
 * Generates N indicators (default 1,000,000: domains, IPv4 addresses and
 * /24 ranges, IPv6, file hashes, x509 fingerprints, URLs, e-mail addresses)
 * as a plain list, and L Zeek lines (default 5,000,000, half dns.log, half
 * ssl.log, in the real column layout) with 1% planted hits (exact domain,
 * subdomain, exact IP, IP inside a range, fingerprint in upper case) and 1%
 * near misses (notDOMAIN, the next address, the next /24, a fingerprint
 * one digit off). Then runs the detente binary next to this program with
 * 1 thread and with all cores and prints MB/s, lines/s, compile time and
 * the child's peak RSS (and the peak RSS of the set alone, scanning an
 * empty file), checks the match count against the planted count,
 * and times wc -l on the same files and grep -F -f (the indicator values
 * as fixed strings) on a 500,000-line slice, as a user meets it (compile
 * included; detente is run on the slice too), and grep's scanning rate
 * alone (its compile on an empty input, best of three, taken from a run
 * over the whole dns log). grep's output goes to a file: on /dev/null
 * GNU grep stops at its first match. Figures are printed, never
 * asserted. Next to wall-clock rates it prints MB per CPU second of
 * scanning (the run's CPU time less the set-only run's), which says more
 * when other work shares the cores. The machine's load average is printed before and after: figures
 * taken on a busy machine say less.
 *
 * usage: bench_scan [INDICATORS [LINES [DIR]]] */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Indicator k's kind and value. */
enum { K_DOMAIN, K_IP, K_CIDR, K_IP6, K_HASH, K_X509, K_URL, K_EMAIL };

static int kind_of(uint64_t k)
{
    unsigned r = (unsigned)(k % 20);
    return r < 8 ? K_DOMAIN : r < 12 ? K_IP : r == 12 ? K_CIDR : r == 13 ? K_IP6
         : r < 16 ? K_HASH : r < 18 ? K_X509 : r == 18 ? K_URL : K_EMAIL;
}

static void hex64(uint64_t k, uint64_t salt, char *out)
{
    for (int i = 0; i < 4; i++)
        snprintf(out + 16 * i, 17, "%016" PRIx64, mix(k * 4 + (uint64_t)i + salt));
}

static void ip4(uint32_t a, char *out)
{
    snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static uint32_t ind_ip(uint64_t k)
{
    return (11u << 24) + (uint32_t)k * 2;
}

static uint32_t ind_cidr(uint64_t k)
{
    return (100u << 24) + (uint32_t)k * 512;
}

static void value_of(uint64_t k, char *out, size_t cap)
{
    char h[65];
    switch (kind_of(k)) {
    case K_DOMAIN:
        snprintf(out, cap, "domain d%" PRIu64 ".evil%u.net", k, (unsigned)(k % 997));
        break;
    case K_IP:
        out += snprintf(out, cap, "ipv4 ");
        ip4(ind_ip(k), out);
        break;
    case K_CIDR: {
        char a[16];
        ip4(ind_cidr(k), a);
        snprintf(out, cap, "ipv4 %s/24", a);
        break;
    }
    case K_IP6:
        snprintf(out, cap, "ipv6 2001:db8:%x:%x::1", (unsigned)(k >> 16), (unsigned)(k & 0xFFFF));
        break;
    case K_HASH:
        hex64(k, 1, h);
        snprintf(out, cap, "hash %s", h);
        break;
    case K_X509:
        hex64(k, 2, h);
        snprintf(out, cap, "x509 %s", h);
        break;
    case K_URL:
        snprintf(out, cap, "url http://u%" PRIu64 ".bad.example/p%" PRIu64, k, k);
        break;
    default:
        snprintf(out, cap, "email e%" PRIu64 "@mail.bad.example", k);
        break;
    }
}

/* An indicator index of the given kind, from a random number. */
static uint64_t pick(uint64_t r, uint64_t n, int kind)
{
    static const unsigned first[] = {0, 8, 12, 13, 14, 16, 18, 19};
    static const unsigned span[] = {8, 4, 1, 1, 2, 2, 1, 1};
    uint64_t blocks = n / 20;
    return (r % blocks) * 20 + first[kind] + (r >> 40) % span[kind];
}

static const char dns_hdr[] =
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
    "#open\t2024-04-12-19-29-12\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\t"
    "qclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\t"
    "rejected\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\t"
    "count\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\t"
    "vector[interval]\tbool\n";

static const char ssl_hdr[] =
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tssl\n"
    "#open\t2024-04-12-19-29-12\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcipher\tcurve\t"
    "server_name\tresumed\tlast_alert\tnext_protocol\testablished\tssl_history\tcert_chain_fps\t"
    "client_cert_chain_fps\tsni_matches_cert\tvalidation_status\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring\tbool\tstring\t"
    "string\tbool\tstring\tvector[string]\tvector[string]\tbool\tstring\n";

/* Write the logs; returns the number of planted hits. */
static uint64_t gen_logs(const char *dns_path, const char *ssl_path, uint64_t lines, uint64_t n)
{
    FILE *d = fopen(dns_path, "w"), *s = fopen(ssl_path, "w");
    uint64_t planted = 0;
    if (!d || !s) {
        perror("bench_scan: cannot write logs");
        exit(1);
    }
    fputs(dns_hdr, d);
    fputs(ssl_hdr, s);
    for (uint64_t i = 0; i < lines; i++) {
        uint64_t r = mix(i + 77), r2 = mix(r);
        unsigned roll = (unsigned)(r % 200); /* 0,1: planted hit; 2,3: near miss */
        char query[128], resp[64], answers[160], sni[128], fp[80], orig[16];
        snprintf(query, sizeof query, "host%u.site%u.org", (unsigned)(r2 % 100000),
                 (unsigned)(r2 >> 50));
        ip4((10u << 24) | (uint32_t)(r2 & 0xFFFFFF), resp);
        ip4((192u << 24) | (168u << 16) | (uint32_t)(r & 0xFFFF), orig);
        snprintf(answers, sizeof answers, "cdn%u.example.com,10.%u.%u.%u", (unsigned)(r % 5000),
                 (unsigned)(r2 >> 8 & 255), (unsigned)(r2 >> 16 & 255), (unsigned)(r2 >> 24 & 255));
        snprintf(sni, sizeof sni, "www%u.shop%u.com", (unsigned)(r2 % 77777), (unsigned)(r % 999));
        hex64(r2, 3, fp);
        uint64_t k;
        if (i % 2 == 0) {
            if (roll < 2) {
                planted++;
                switch ((r >> 20) % 4) {
                case 0:
                    k = pick(r2, n, K_DOMAIN);
                    snprintf(query, sizeof query, "d%" PRIu64 ".evil%u.net", k, (unsigned)(k % 997));
                    break;
                case 1:
                    k = pick(r2, n, K_DOMAIN);
                    snprintf(query, sizeof query, "www.D%" PRIu64 ".evil%u.net", k,
                             (unsigned)(k % 997));
                    break;
                case 2:
                    ip4(ind_ip(pick(r2, n, K_IP)), resp);
                    break;
                default:
                    ip4(ind_cidr(pick(r2, n, K_CIDR)) + (uint32_t)(r2 >> 56), resp);
                    break;
                }
            } else if (roll < 4) {
                switch ((r >> 20) % 4) {
                case 0:
                case 1:
                    k = pick(r2, n, K_DOMAIN);
                    snprintf(query, sizeof query, "notd%" PRIu64 ".evil%u.net", k,
                             (unsigned)(k % 997));
                    break;
                case 2:
                    ip4(ind_ip(pick(r2, n, K_IP)) + 1, resp);
                    break;
                default:
                    ip4(ind_cidr(pick(r2, n, K_CIDR)) + 256 + (uint32_t)(r2 >> 56), resp);
                    break;
                }
            }
            fprintf(d,
                    "%" PRIu64 ".%06u\tC%016" PRIx64 "\t%s\t%u\t%s\t53\tudp\t%u\t0.000870\t%s\t1\t"
                    "C_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t%s\t2230.000000,41830.000000\tF\n",
                    1521911720 + i / 1000, (unsigned)(i % 1000000), r, orig,
                    (unsigned)(r2 % 60000 + 1024), resp, (unsigned)(r % 65536), query, answers);
        } else {
            if (roll < 2) {
                planted++;
                if ((r >> 20) % 2 == 0) {
                    k = pick(r2, n, K_DOMAIN);
                    snprintf(sni, sizeof sni, "d%" PRIu64 ".evil%u.net", k, (unsigned)(k % 997));
                } else {
                    hex64(pick(r2, n, K_X509), 2, fp);
                    for (char *c = fp; *c; c++)
                        if (*c >= 'a' && *c <= 'f')
                            *c = (char)(*c - 32);
                }
            } else if (roll < 4) {
                hex64(pick(r2, n, K_X509), 2, fp);
                fp[63] = fp[63] == '0' ? '1' : '0';
            }
            fprintf(s,
                    "%" PRIu64 ".%06u\tC%016" PRIx64 "\t%s\t%u\t%s\t443\tTLSv12\t"
                    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\tsecp256r1\t%s\tF\t-\t-\tT\tCsxknGIi\t%s\t"
                    "(empty)\t-\tok\n",
                    1521911720 + i / 1000, (unsigned)(i % 1000000), r, orig,
                    (unsigned)(r2 % 60000 + 1024), resp, sni, fp);
        }
    }
    fputs("#close\t2024-04-12-19-30-00\n", d);
    fputs("#close\t2024-04-12-19-30-00\n", s);
    if (fclose(d) != 0 || fclose(s) != 0) {
        perror("bench_scan: write");
        exit(1);
    }
    return planted;
}

static double last_cpu; /* user + system seconds of the last run's children */

/* Run a shell command; wall seconds, and the child's peak RSS in KiB. */
static double run(const char *cmd, long *rss_kb)
{
    double t0 = now_s();
    pid_t pid = fork();
    int status;
    struct rusage ru;
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
        perror("bench_scan: run");
        exit(1);
    }
    if (rss_kb)
        *rss_kb = ru.ru_maxrss;
    last_cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1))
        fprintf(stderr, "bench_scan: '%s' exited with %d\n", cmd, WEXITSTATUS(status));
    return now_s() - t0;
}

static double json_num(const char *text, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(text, k);
    return p ? strtod(p + strlen(k), NULL) : -1;
}

static void print_load(const char *when)
{
    double l[3];
    if (getloadavg(l, 3) == 3)
        printf("load average %s: %.2f %.2f %.2f (%ld cores)\n", when, l[0], l[1], l[2],
               sysconf(_SC_NPROCESSORS_ONLN));
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    uint64_t lines = argc > 2 ? strtoull(argv[2], NULL, 10) : 5000000;
    const char *dir = argc > 3 ? argv[3] : "/tmp";
    char bin[1024], ind[512], dns[512], ssl[512], cmd[16384], vals[512], slice[512];
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 20)
        n = 20;
    snprintf(bin, sizeof bin, "%s", argv[0]);
    char *slash = strrchr(bin, '/');
    snprintf(slash ? slash + 1 : bin, sizeof bin - (size_t)(slash ? slash + 1 - bin : 0),
             "detente");
    snprintf(ind, sizeof ind, "%s/bench-scan-indicators.txt", dir);
    snprintf(vals, sizeof vals, "%s/bench-scan-values.txt", dir);
    snprintf(dns, sizeof dns, "%s/bench-scan-dns.log", dir);
    snprintf(ssl, sizeof ssl, "%s/bench-scan-ssl.log", dir);
    snprintf(slice, sizeof slice, "%s/bench-scan-slice.log", dir);

    print_load("before");
    double t0 = now_s();
    FILE *f = fopen(ind, "w"), *fv = fopen(vals, "w");
    if (!f || !fv) {
        perror("bench_scan: cannot write indicators");
        return 1;
    }
    for (uint64_t k = 0; k < n; k++) {
        char v[256];
        value_of(k, v, sizeof v);
        fprintf(f, "%s\n", v);
        fprintf(fv, "%s\n", strchr(v, ' ') + 1);
    }
    fclose(f);
    fclose(fv);
    uint64_t planted = gen_logs(dns, ssl, lines, n);
    printf("generated %" PRIu64 " indicators and %" PRIu64 " Zeek lines (dns + ssl, %" PRIu64
           " planted hits, as many near misses) in %.1f s\n",
           n, lines, planted, now_s() - t0);

    char out[512];
    snprintf(out, sizeof out, "%s/bench-scan-out.json", dir);
    unsigned threads[2] = {1, (unsigned)(ncpu > 0 ? ncpu : 1)};
    double mbs1 = 0, set_cpu = 0;
    {
        long rss;
        snprintf(cmd, sizeof cmd, "'%s' scan --threads 1 --indicators '%s' --output /dev/null "
                 "/dev/null 2>/dev/null", bin, ind);
        double wall = run(cmd, &rss);
        set_cpu = last_cpu;
        printf("the set alone (load, compile, no log): peak RSS %.0f MB, wall %.2f s, CPU %.2f s\n",
               (double)rss / 1024.0, wall, set_cpu);
    }

    for (int i = 0; i < 2; i++) {
        long rss;
        snprintf(cmd, sizeof cmd, "'%s' scan --threads %u --indicators '%s' --output '%s' '%s' '%s'",
                 bin, threads[i], ind, out, dns, ssl);
        double wall = run(cmd, &rss);
        char *text = NULL;
        FILE *o = fopen(out, "r");
        long sz = 0;
        if (o && fseek(o, -4096, SEEK_END) != 0)
            fseek(o, 0, SEEK_SET);
        text = calloc(1, 4097);
        if (o && text)
            sz = (long)fread(text, 1, 4096, o);
        if (o)
            fclose(o);
        (void)sz;
        double bytes = json_num(text, "bytes"), nl = json_num(text, "lines");
        double secs = json_num(text, "scan_seconds"), comp = json_num(text, "compile_seconds");
        double matches = json_num(text, "matches");
        if (i == 0)
            mbs1 = bytes / 1e6 / secs;
        double scan_cpu = last_cpu - set_cpu;
        printf("detente scan, %u thread%s: %.0f MB/s, %.2f M lines/s (%.1f MB, %.0f lines in "
               "%.2f s), compile %.2f s (1 thread), wall %.2f s, peak RSS %.0f MB, matches %.0f "
               "(planted %" PRIu64 ": %s); scanning took %.2f CPU s: %.0f MB per CPU second\n",
               threads[i], threads[i] > 1 ? "s" : "", bytes / 1e6 / secs, nl / 1e6 / secs,
               bytes / 1e6, nl, secs, comp, wall, (double)rss / 1024.0, matches, planted,
               (uint64_t)matches == planted ? "exact" : "MISMATCH", scan_cpu,
               scan_cpu > 0 ? bytes / 1e6 / scan_cpu : 0.0);
        free(text);
    }
    snprintf(cmd, sizeof cmd, "wc -l '%s' '%s' > /dev/null", dns, ssl);
    run(cmd, NULL); /* warm the page cache the same way */
    double wc = run(cmd, NULL);
    snprintf(cmd, sizeof cmd, "cat '%s' '%s' | wc -c", dns, ssl);
    FILE *p = popen(cmd, "r");
    double total = 0;
    if (p) {
        if (fscanf(p, "%lf", &total) != 1)
            total = 0;
        pclose(p);
    }
    printf("wc -l: %.0f MB/s (%.2f s): detente per thread is 1/%.1f of it\n", total / 1e6 / wc,
           wc, (total / 1e6 / wc) / mbs1);
    snprintf(cmd, sizeof cmd, "head -n 500000 '%s' > '%s'", dns, slice);
    run(cmd, NULL);
    FILE *sf = fopen(slice, "r");
    double slice_bytes = 0;
    if (sf) {
        fseek(sf, 0, SEEK_END);
        slice_bytes = (double)ftell(sf);
        fclose(sf);
    }
    /* grep writes to a file: with its output on /dev/null GNU grep stops
     * at the first match (it takes -c as -q), which would time its
     * compile and nothing more */
    char gout[600];
    snprintf(gout, sizeof gout, "%s/bench-scan-grep.out", dir);
    /* grep as a user meets it: the strings compiled, then the slice */
    snprintf(cmd, sizeof cmd, "LC_ALL=C timeout 900 grep -F -c -f '%s' '%s' > '%s'", vals, slice,
             gout);
    long grss;
    double g = run(cmd, &grss);
    long glines = -1;
    {
        FILE *o = fopen(gout, "r");
        if (o == NULL || fscanf(o, "%ld", &glines) != 1)
            glines = -1;
        if (o)
            fclose(o);
    }
    /* its scanning rate alone: its compile (on an empty input, best of
     * three: it varies by a second from run to run) taken from a run over
     * the whole dns log, where scanning takes long enough for the
     * difference to mean something */
    snprintf(cmd, sizeof cmd, "LC_ALL=C timeout 600 grep -F -c -f '%s' /dev/null > '%s'", vals,
             gout);
    double gc = 1e9, gc_max = 0;
    for (int r = 0; r < 3; r++) {
        double t = run(cmd, NULL);
        gc = t < gc ? t : gc;
        gc_max = t > gc_max ? t : gc_max;
    }
    snprintf(cmd, sizeof cmd, "LC_ALL=C timeout 1800 grep -F -c -f '%s' '%s' > '%s'", vals, dns,
             gout);
    double gfull = run(cmd, NULL);
    double dns_bytes = 0;
    FILE *df = fopen(dns, "r");
    if (df) {
        fseek(df, 0, SEEK_END);
        dns_bytes = (double)ftell(df);
        fclose(df);
    }
    double grate = gfull - gc > 0.05 ? dns_bytes / 1e6 / (gfull - gc) : 0;
    /* detente on the same slice, one thread */
    snprintf(cmd, sizeof cmd, "'%s' scan --threads 1 --indicators '%s' --output '%s' '%s'", bin,
             ind, out, slice);
    run(cmd, NULL);
    double dslice = 0, dmatches = -1;
    {
        FILE *o = fopen(out, "r");
        char *text = calloc(1, 4097);
        if (o && fseek(o, -4096, SEEK_END) != 0)
            fseek(o, 0, SEEK_SET);
        if (o && text && fread(text, 1, 4096, o) > 0) {
            double secs = json_num(text, "scan_seconds");
            dslice = secs > 0 ? json_num(text, "bytes") / 1e6 / secs : 0;
            dmatches = json_num(text, "matches");
        }
        if (o)
            fclose(o);
        free(text);
    }
    double guser = slice_bytes / 1e6 / g;
    printf("grep -F -f (%" PRIu64 " fixed strings) on 500,000 dns lines: %.2f MB/s (%.1f s with "
           "its compile, peak RSS %.0f MB): detente 1 thread is %.0f times faster (on the same "
           "slice %.0f MB/s, %.0f times); grep counted %ld lines, detente %.0f matches\n",
           n, guser, g, (double)grss / 1024.0, mbs1 / guser, dslice, dslice / guser, glines,
           dmatches);
    if (grate > 0)
        printf("grep's compile alone %.1f s (%.1f to %.1f in three runs); its scanning rate "
               "after it, over the whole dns log (%.1f s): %.1f MB/s, detente 1 thread is %.0f "
               "times that\n",
               gc, gc, gc_max, gfull, grate, mbs1 / grate);
    print_load("after");
    if (getenv("BENCH_KEEP"))
        return 0;
    unlink(ind);
    unlink(vals);
    unlink(dns);
    unlink(ssl);
    unlink(slice);
    unlink(out);
    unlink(gout);
    return 0;
}
