/* bench_gen_stix: a deterministic generator of STIX 2.1 indicator bundles
 * for ingest benchmarks.
 *
 * The same arguments always write the same bytes (a splitmix64 stream
 * seeded from --seed; timestamps are derived from it, never from the
 * clock), so two runs, two machines or two branches ingest identical
 * input. Objects look like a real feed's: a few producer identities
 * first, then indicators whose patterns are domains, IPv4 and IPv6
 * addresses and CIDRs, URLs, MD5/SHA-1/SHA-256 file hashes, email
 * addresses, and about one in twenty a compound pattern (AND/OR, a
 * FOLLOWEDBY with WITHIN, REPEATS, START/STOP qualifiers); each carries a
 * name, a description, indicator_types, labels, kill_chain_phases,
 * external_references, created_by_ref and a TLP 2.0 object_marking_ref.
 *
 * Output: --files bundles (each under detente's 64 MiB input limit for one
 * text) named PREFIX-NNN.json, or one bundle on standard output with
 * --stdout. A --rows FILE option also writes every object as one JSON line,
 * which is how the ingest benchmark feeds sqlite3's own bulk insert.
 *
 * Usage: bench_gen_stix [--count N] [--files K] [--seed S] [--prefix P]
 *                       [--rows FILE] [--stdout]
 * Defaults: 100000 objects, 4 files, seed 1, prefix ./stix. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

#define PICK(arr) (arr[below((unsigned)(sizeof arr / sizeof arr[0]))])

/* A growing output buffer; one object is assembled here, then written. */
typedef struct obuf {
    char *p;
    size_t len, cap;
} obuf;

static void put(obuf *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 4096;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *q = realloc(o->p, cap);
        if (q == NULL) {
            fprintf(stderr, "bench_gen_stix: out of memory\n");
            exit(1);
        }
        o->p = q;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void puts_(obuf *o, const char *s)
{
    put(o, s, strlen(s));
}

static void putf(obuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(obuf *o, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void uuid4(char out36[37])
{
    uint64_t a = rnd(), b = rnd();
    a = (a & ~0xf000ULL) | 0x4000ULL;                      /* version 4 */
    b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; /* RFC 4122 variant */
    snprintf(out36, 37, "%08" PRIx32 "-%04" PRIx32 "-%04" PRIx32 "-%04" PRIx32 "-%012" PRIx64,
             (uint32_t)(a >> 32), (uint32_t)((a >> 16) & 0xffff), (uint32_t)(a & 0xffff),
             (uint32_t)(b >> 48), (uint64_t)(b & 0xffffffffffffULL));
}

/* A timestamp in 2023-2025 with millisecond precision, from the stream. */
static void stamp(char out[40], unsigned *day_out)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned day = below(365 * 3), y = 2023 + day / 365, d = day % 365, m = 0;
    while (d >= (unsigned)mdays[m])
        d -= (unsigned)mdays[m++];
    snprintf(out, 40, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", y, m + 1, d + 1, below(24),
             below(60), below(60), below(1000));
    if (day_out)
        *day_out = day;
}

static const char *const tlds[] = {"com", "net", "org", "info", "ru", "cn", "top", "xyz",
                                   "io", "biz", "de", "co.uk", "online", "site"};
static const char *const syll[] = {"ka", "lo", "mi", "ne", "tra", "vor", "qu", "zen", "bit",
                                   "sec", "cloud", "up", "date", "srv", "cdn", "mail", "pay",
                                   "log", "in", "go", "net", "data", "sync", "rex", "ton"};
static const char *const families[] = {"Emotet", "TrickBot", "QakBot", "IcedID", "AgentTesla",
                                       "Formbook", "RedLine", "Cobalt Strike", "AsyncRAT",
                                       "Remcos", "njRAT", "LokiBot", "Dridex", "SmokeLoader"};
static const char *const phases[] = {"reconnaissance", "weaponization", "delivery",
                                     "exploitation", "installation", "command-and-control",
                                     "actions-on-objectives"};
static const char *const itypes[] = {"malicious-activity", "anomalous-activity", "attribution",
                                     "compromised", "benign", "unknown"};
static const char *const labels[] = {"phishing", "c2", "botnet", "ransomware", "loader",
                                     "stealer", "scanner", "exploit-kit", "spam", "tor-exit"};
static const char *const sources[] = {"abuse.ch", "urlhaus", "threatfox", "feodotracker",
                                      "internal-sandbox", "cert-bund", "misp-community"};
/* TLP 2.0 CLEAR, GREEN, AMBER, AMBER+STRICT, RED (OASIS common objects) */
static const char *const markings[] = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"};
static const char *const paths[] = {"/", "/login.php", "/wp-admin/", "/gate.php", "/panel/",
                                    "/download/invoice.zip", "/api/v1/check", "/update.bin",
                                    "/index.html?id=", "/files/doc.exe"};

#define IDENTITIES 8
static char identity_ids[IDENTITIES][64];

static void domain(char *out, size_t cap)
{
    char a[64], b[64];
    snprintf(a, sizeof a, "%s%s%s", PICK(syll), PICK(syll), below(3) == 0 ? PICK(syll) : "");
    snprintf(b, sizeof b, "%s%u", PICK(syll), below(100));
    if (below(3) == 0)
        snprintf(out, cap, "%s.%s.%s", b, a, PICK(tlds));
    else
        snprintf(out, cap, "%s-%s.%s", a, b, PICK(tlds));
}

static void ipv4(char *out, size_t cap, bool cidr)
{
    unsigned a = 1 + below(223);
    if (a == 10 || a == 127)
        a++;
    if (cidr)
        snprintf(out, cap, "%u.%u.%u.0/%u", a, below(256), below(256), 16 + below(9));
    else
        snprintf(out, cap, "%u.%u.%u.%u", a, below(256), below(256), 1 + below(254));
}

static void ipv6(char *out, size_t cap, bool cidr)
{
    if (cidr)
        snprintf(out, cap, "2001:db8:%x:%x::/%u", below(65536), below(65536), 32 + 16 * below(3));
    else
        snprintf(out, cap, "2a0%x:%x:%x:%x::%x", below(16), below(65536), below(65536),
                 below(65536), 1 + below(65535));
}

static void hexstr(char *out, size_t nhex)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < nhex; i++)
        out[i] = hx[below(16)];
    out[nhex] = '\0';
}

/* One comparison expression and the observable kind it names (for the
 * name and description). */
static const char *atom(char *out, size_t cap)
{
    char v[300], h[65];
    switch (below(10)) {
    case 0:
    case 1:
        domain(v, sizeof v);
        snprintf(out, cap, "[domain-name:value = '%s']", v);
        return "domain";
    case 2:
        ipv4(v, sizeof v, below(5) == 0);
        snprintf(out, cap, "[ipv4-addr:value = '%s']", v);
        return "IPv4 address";
    case 3:
        ipv6(v, sizeof v, below(4) == 0);
        snprintf(out, cap, "[ipv6-addr:value = '%s']", v);
        return "IPv6 address";
    case 4:
    case 5: {
        char d[200];
        domain(d, sizeof d);
        snprintf(v, sizeof v, "http%s://%s%s%s", below(2) ? "s" : "", d, PICK(paths),
                 below(2) ? "" : "x");
        snprintf(out, cap, "[url:value = '%s']", v);
        return "URL";
    }
    case 6:
        hexstr(h, 32);
        snprintf(out, cap, "[file:hashes.MD5 = '%s']", h);
        return "file (MD5)";
    case 7:
        hexstr(h, 40);
        snprintf(out, cap, "[file:hashes.'SHA-1' = '%s']", h);
        return "file (SHA-1)";
    case 8:
        hexstr(h, 64);
        snprintf(out, cap, "[file:hashes.'SHA-256' = '%s']", h);
        return "file (SHA-256)";
    default: {
        char d[200], u[64];
        domain(d, sizeof d);
        snprintf(u, sizeof u, "%s.%s%u", PICK(syll), PICK(syll), below(1000));
        snprintf(out, cap, "[email-addr:value = '%s@%s']", u, d);
        return "email address";
    }
    }
}

/* About one in twenty: a compound pattern. */
static const char *pattern(char *out, size_t cap)
{
    char a[400], b[400], d[200];
    if (below(20) != 0)
        return atom(out, cap);
    switch (below(5)) {
    case 0:
        hexstr(a, 64);
        snprintf(out, cap,
                 "[file:hashes.'SHA-256' = '%s' AND file:size > %u] OR [file:name = "
                 "'invoice_%u.exe']",
                 a, 1000 + below(100000), below(100000));
        break;
    case 1:
        domain(d, sizeof d);
        ipv4(a, sizeof a, false);
        snprintf(out, cap,
                 "[domain-name:value = '%s'] FOLLOWEDBY [ipv4-addr:value = '%s'] WITHIN %u "
                 "SECONDS",
                 d, a, 60 + below(3600));
        break;
    case 2:
        domain(d, sizeof d);
        snprintf(out, cap,
                 "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value "
                 "= '%s' AND network-traffic:dst_port = %u] REPEATS %u TIMES",
                 d, below(2) ? 443u : 8080u, 2 + below(8));
        break;
    case 3:
        ipv4(a, sizeof a, true);
        ipv6(b, sizeof b, true);
        snprintf(out, cap,
                 "([ipv4-addr:value ISSUBSET '%s'] OR [ipv6-addr:value ISSUBSET '%s']) START "
                 "t'2024-01-01T00:00:00Z' STOP t'2025-01-01T00:00:00Z'",
                 a, b);
        break;
    default:
        domain(d, sizeof d);
        snprintf(out, cap, "[url:value LIKE 'http%%://%s/%%' OR url:value MATCHES '^https?://%s/']",
                 d, d);
        break;
    }
    return "compound";
}

/* Escape for a JSON string: patterns and names hold only printable ASCII,
 * but quotes and backslashes must still be escaped. */
static void put_json_str(obuf *o, const char *s)
{
    put(o, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            put(o, "\\", 1);
        put(o, s, 1);
    }
    put(o, "\"", 1);
}

static void identity(obuf *o, unsigned k)
{
    char u[37], ts[40];
    uuid4(u);
    stamp(ts, NULL);
    snprintf(identity_ids[k], sizeof identity_ids[k], "identity--%s", u);
    putf(o,
         "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":\"%s\","
         "\"modified\":\"%s\",\"name\":\"%s feed %u\",\"identity_class\":\"organization\","
         "\"sectors\":[\"technology\"]}",
         identity_ids[k], ts, ts, PICK(sources), k);
}

static void indicator(obuf *o, uint64_t n)
{
    char u[37], created[40], modified[40], pat[1024], ref[65];
    const char *kind = pattern(pat, sizeof pat);
    const char *fam = PICK(families);
    uuid4(u);
    stamp(created, NULL);
    /* one in four was revised later the same day */
    memcpy(modified, created, sizeof modified);
    if (below(4) == 0)
        memcpy(modified + 11, "23:59", 5);
    puts_(o, "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--");
    puts_(o, u);
    putf(o, "\",\"created\":\"%s\",\"modified\":\"%s\",\"created_by_ref\":\"%s\",", created,
         modified, identity_ids[below(IDENTITIES)]);
    putf(o, "\"name\":\"%s %s indicator #%" PRIu64 "\",", fam, kind, n);
    putf(o,
         "\"description\":\"%s infrastructure observed by %s during %s activity; "
         "confidence raised after sandbox detonation and passive DNS correlation.\",",
         fam, PICK(sources), PICK(labels));
    putf(o, "\"indicator_types\":[\"%s\"],", PICK(itypes));
    puts_(o, "\"pattern\":");
    put_json_str(o, pat);
    putf(o, ",\"pattern_type\":\"stix\",\"valid_from\":\"%s\",", created);
    if (below(3) == 0) {
        char until[40];
        memcpy(until, created, sizeof until);
        until[3] = until[3] == '5' ? '6' : (char)(until[3] + 1); /* a year later */
        putf(o, "\"valid_until\":\"%s\",", until);
    }
    unsigned nl = 1 + below(3), base = below(10);
    puts_(o, "\"labels\":[");
    for (unsigned i = 0; i < nl; i++)
        putf(o, "%s\"%s\"", i ? "," : "", labels[(base + 3 * i) % 10]);
    putf(o, "],\"kill_chain_phases\":[{\"kill_chain_name\":\"lockheed-martin-cyber-kill-chain\","
            "\"phase_name\":\"%s\"}],",
         PICK(phases));
    hexstr(ref, 16);
    putf(o,
         "\"external_references\":[{\"source_name\":\"%s\",\"url\":\"https://%s.example/"
         "report/%s\",\"external_id\":\"%s-%" PRIu64 "\"}],",
         PICK(sources), PICK(sources), ref, fam, n);
    putf(o, "\"confidence\":%u,\"object_marking_refs\":[\"%s\"]}", 50 + below(51),
         markings[below(5)]);
}

int main(int argc, char **argv)
{
    uint64_t count = 100000, seed = 1;
    unsigned files = 4;
    const char *prefix = "./stix", *rows_path = NULL;
    bool to_stdout = false;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = strtoull(argv[++i], &end, 10);
        else if (strcmp(argv[i], "--files") == 0 && i + 1 < argc)
            files = (unsigned)strtoul(argv[++i], &end, 10);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], &end, 10);
        else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
            prefix = argv[++i];
        else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
            rows_path = argv[++i];
        else if (strcmp(argv[i], "--stdout") == 0)
            to_stdout = true;
        else {
            fprintf(stderr, "usage: bench_gen_stix [--count N] [--files K] [--seed S] "
                            "[--prefix P] [--rows FILE] [--stdout]\n");
            return 2;
        }
        if (end != NULL && *end != '\0') {
            fprintf(stderr, "bench_gen_stix: %s is not a number\n", argv[i]);
            return 2;
        }
    }
    if (to_stdout || files == 0)
        files = 1;
    rng_state = seed * 0x2545f4914f6cdd1dULL + 1;

    FILE *rows = NULL;
    if (rows_path != NULL && (rows = fopen(rows_path, "w")) == NULL) {
        perror(rows_path);
        return 1;
    }
    obuf o = {0};
    uint64_t total = count + IDENTITIES, at = 0;
    for (unsigned f = 0; f < files; f++) {
        uint64_t upto = total * (f + 1) / files;
        FILE *fp = stdout;
        char path[1024];
        if (!to_stdout) {
            snprintf(path, sizeof path, "%s-%03u.json", prefix, f);
            if ((fp = fopen(path, "w")) == NULL) {
                perror(path);
                return 1;
            }
        }
        char bid[37];
        uuid4(bid);
        fprintf(fp, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[\n", bid);
        for (bool first = true; at < upto; at++, first = false) {
            o.len = 0;
            if (at < IDENTITIES)
                identity(&o, (unsigned)at);
            else
                indicator(&o, at - IDENTITIES);
            if (!first)
                fputs(",\n", fp);
            fwrite(o.p, 1, o.len, fp);
            if (rows != NULL) {
                fwrite(o.p, 1, o.len, rows);
                fputc('\n', rows);
            }
        }
        fputs("\n]}\n", fp);
        if (!to_stdout && fclose(fp) != 0) {
            perror(path);
            return 1;
        }
    }
    if (rows != NULL && fclose(rows) != 0) {
        perror(rows_path);
        return 1;
    }
    free(o.p);
    return 0;
}
