/* Technical checks: defects a claim carries on its face, found without any
 * outside knowledge, so that every node finds the same ones.
 *
 * On values: a hash must have its algorithm's length in hex (MD5 32, SHA-1
 * 40, SHA-256 64, SHA-512 128); an IP address in a reserved range (RFC 6890
 * special-purpose registries: private, shared, loopback, link-local,
 * multicast, documentation RFC 5737 / RFC 3849 / RFC 9637, unspecified,
 * benchmarking, future use) cannot be a public attacker's address; a
 * domain or URL still "defanged" for mail (hxxp, [.], (.), [dot], [:]) or
 * malformed (a label over 63 bytes, a name over 253, an empty label, no
 * TLD, spaces) can never match real traffic. On an indicator object:
 * valid_until not after valid_from (STIX 2.1 section 4.7 requires it to be
 * later), expired at `now`, revoked.
 *
 * Each defect is a verify_evidence of class VERIFY_EV_DEFECT with a stable
 * kind string and a message a person can act on. A defect is "fatal" when
 * the claim cannot be true as written (the value cannot occur); range
 * defects are not fatal (a private address is real, just not anyone else's
 * business), nor is expiry.
 *
 * Not here, left for node/: "a pattern that cannot match anything" needs
 * the pattern evaluator, and "two claims by one source that contradict each
 * other" needs the store; both will yield evidence of the same shape. */
#include "verify/verify.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct sink {
    verify_evidence *out;
    size_t cap;
    size_t n;
} sink;

static void add(sink *s, const char *kind, bool fatal, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add(sink *s, const char *kind, bool fatal, const char *fmt, ...)
{
    if (s->n < s->cap) {
        verify_evidence *e = &s->out[s->n];
        va_list ap;
        memset(e, 0, sizeof *e);
        e->cls = VERIFY_EV_DEFECT;
        snprintf(e->kind, sizeof e->kind, "%s", kind);
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
        e->is_fatal = fatal;
    }
    s->n++;
}

/* ------------------------------------------------------------- hashes */

static int hash_hex_len(const char *type)
{
    static const struct { const char *name; int len; } algos[] = {
        {"md5", 32},     {"sha-1", 40},   {"sha1", 40},       {"sha-256", 64}, {"sha256", 64},
        {"sha-512", 128}, {"sha512", 128}, {"sha3-256", 64}, {"sha3-512", 128},
    };
    for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++)
        if (strcasecmp(type, algos[i].name) == 0)
            return algos[i].len;
    return 0;
}

static void check_hash(sink *s, const char *type, const char *v, int want)
{
    size_t len = strlen(v);
    size_t bad = len;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            bad = i;
            break;
        }
    }
    if (bad < len)
        add(s, "technical:bad-hash-alphabet", true,
            "%s value has '%c' at position %zu: a hash is hexadecimal", type,
            (v[bad] >= 32 && v[bad] < 127) ? v[bad] : '?', bad);
    if (len != (size_t)want)
        add(s, "technical:bad-hash-length", true, "%s value has %zu characters, %s has %d hex digits",
            type, len, type, want);
}

/* ---------------------------------------------------------- addresses */

typedef struct range_rule {
    const char *net;
    const char *kind;
    const char *what;
} range_rule;

/* RFC 6890 and successors. More specific rules come first. */
static const range_rule v4_rules[] = {
    {"0.0.0.0/32", "technical:unspecified-ip", "the unspecified address"},
    {"0.0.0.0/8", "technical:reserved-ip", "\"this network\" (RFC 791)"},
    {"10.0.0.0/8", "technical:private-ip", "private (RFC 1918)"},
    {"100.64.0.0/10", "technical:shared-ip", "shared carrier-grade NAT space (RFC 6598)"},
    {"127.0.0.0/8", "technical:loopback-ip", "loopback"},
    {"169.254.0.0/16", "technical:link-local-ip", "link-local"},
    {"172.16.0.0/12", "technical:private-ip", "private (RFC 1918)"},
    {"192.0.0.0/24", "technical:reserved-ip", "IETF protocol assignments"},
    {"192.0.2.0/24", "technical:documentation-ip", "documentation TEST-NET-1 (RFC 5737)"},
    {"192.168.0.0/16", "technical:private-ip", "private (RFC 1918)"},
    {"198.18.0.0/15", "technical:reserved-ip", "benchmarking (RFC 2544)"},
    {"198.51.100.0/24", "technical:documentation-ip", "documentation TEST-NET-2 (RFC 5737)"},
    {"203.0.113.0/24", "technical:documentation-ip", "documentation TEST-NET-3 (RFC 5737)"},
    {"224.0.0.0/4", "technical:multicast-ip", "multicast"},
    {"255.255.255.255/32", "technical:reserved-ip", "limited broadcast"},
    {"240.0.0.0/4", "technical:reserved-ip", "reserved for future use"},
};

static const range_rule v6_rules[] = {
    {"::/128", "technical:unspecified-ip", "the unspecified address"},
    {"::1/128", "technical:loopback-ip", "loopback"},
    {"100::/64", "technical:reserved-ip", "discard-only (RFC 6666)"},
    {"2001:db8::/32", "technical:documentation-ip", "documentation (RFC 3849)"},
    {"3fff::/20", "technical:documentation-ip", "documentation (RFC 9637)"},
    {"fc00::/7", "technical:private-ip", "unique local (RFC 4193)"},
    {"fe80::/10", "technical:link-local-ip", "link-local"},
    {"fec0::/10", "technical:reserved-ip", "deprecated site-local"},
    {"ff00::/8", "technical:multicast-ip", "multicast"},
};

static bool prefix_match(const unsigned char *a, const unsigned char *net, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, net, full) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((a[full] ^ net[full]) & (0xff00u >> rest) & 0xff) == 0;
}

typedef struct parsed_rule {
    unsigned char net[16];
    unsigned bits;
} parsed_rule;

#define V4_RULES (sizeof v4_rules / sizeof v4_rules[0])
#define V6_RULES (sizeof v6_rules / sizeof v6_rules[0])
static parsed_rule v4_parsed[V4_RULES], v6_parsed[V6_RULES];
static pthread_once_t parsed_once = PTHREAD_ONCE_INIT;

static void parse_rules_once(const range_rule *rules, size_t n, int af, parsed_rule *out)
{
    for (size_t i = 0; i < n; i++) {
        char net[64];
        const char *slash = strchr(rules[i].net, '/');
        size_t nl = (size_t)(slash - rules[i].net);
        memcpy(net, rules[i].net, nl);
        net[nl] = '\0';
        if (inet_pton(af, net, out[i].net) != 1)
            abort(); /* the table is ours: a typo is a bug */
        out[i].bits = (unsigned)strtoul(slash + 1, NULL, 10);
    }
}

static void parse_rules(void)
{
    parse_rules_once(v4_rules, V4_RULES, AF_INET, v4_parsed);
    parse_rules_once(v6_rules, V6_RULES, AF_INET6, v6_parsed);
}

static const range_rule *find_rule(bool v6, const unsigned char *a)
{
    pthread_once(&parsed_once, parse_rules);
    if (v6) {
        for (size_t i = 0; i < V6_RULES; i++)
            if (prefix_match(a, v6_parsed[i].net, v6_parsed[i].bits))
                return &v6_rules[i];
    } else {
        for (size_t i = 0; i < V4_RULES; i++)
            if (prefix_match(a, v4_parsed[i].net, v4_parsed[i].bits))
                return &v4_rules[i];
    }
    return NULL;
}

static bool ci_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

/* Defang marks: bracketed ones are looked for only when a bracket occurs
 * (one strpbrk for the common, clean value), scheme ones anywhere. */
static bool has_defang(const char *v)
{
    static const char *const bracketed[] = {"[.]", "(.)", "{.}", "[dot]", "(dot)", "[:]",
                                            "[://]", "[@]", "[at]", "(at)"};
    static const char *const schemes[] = {"hxxp", "fxp://", "meow://"};
    if (strpbrk(v, "[({") != NULL)
        for (size_t i = 0; i < sizeof bracketed / sizeof bracketed[0]; i++)
            if (ci_contains(v, bracketed[i]))
                return true;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        const char *p = v;
        /* cheap filter: the mark's first letter must occur */
        while ((p = strpbrk(p, schemes[i][0] == 'h' ? "hH" : schemes[i][0] == 'f' ? "fF" : "mM")) !=
               NULL) {
            if (strncasecmp(p, schemes[i], strlen(schemes[i])) == 0)
                return true;
            p++;
        }
    }
    return false;
}

static void check_ip(sink *s, const char *what, const char *v, bool v6_expected)
{
    char buf[64];
    unsigned char a[16];
    const char *slash = strchr(v, '/');
    size_t alen = slash ? (size_t)(slash - v) : strlen(v);
    bool is_v6 = memchr(v, ':', alen) != NULL;
    const range_rule *r;
    if (has_defang(v)) {
        add(s, "technical:defanged", true, "%s \"%.60s\" is still defanged: it cannot match traffic",
            what, v);
        return;
    }
    if (alen == 0 || alen >= sizeof buf) {
        add(s, "technical:malformed-ip", true, "%s \"%.60s\" is not an IP address", what, v);
        return;
    }
    memcpy(buf, v, alen);
    buf[alen] = '\0';
    if (inet_pton(is_v6 ? AF_INET6 : AF_INET, buf, a) != 1 || (is_v6 != v6_expected)) {
        add(s, "technical:malformed-ip", true, "%s \"%.60s\" is not an IPv%d address", what, v,
            v6_expected ? 6 : 4);
        return;
    }
    if (slash != NULL) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || p > (is_v6 ? 128 : 32)) {
            add(s, "technical:malformed-ip", true, "%s \"%.60s\" has a bad prefix length", what, v);
            return;
        }
    }
    if (is_v6) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0) /* ::ffff:a.b.c.d is the IPv4 address */
            r = find_rule(false, a + 12);
        else
            r = find_rule(true, a);
    } else {
        r = find_rule(false, a);
    }
    if (r != NULL)
        add(s, r->kind, false, "%s %.60s is %s: not a routable public address", what, v, r->what);
}

/* ------------------------------------------------------- names, URLs */

/* Check a host name; returns false when a (fatal) defect was added. */
static bool check_name(sink *s, const char *what, const char *v, size_t len)
{
    size_t label = 0, labels = 0, last_start = 0;
    if (len > 0 && v[len - 1] == '.') /* the root: "example.com." */
        len--;
    if (len == 0) {
        add(s, "technical:malformed-domain", true, "%s is empty", what);
        return false;
    }
    if (len > 253) {
        add(s, "technical:malformed-domain", true, "%s is %zu bytes long, DNS allows 253", what, len);
        return false;
    }
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? v[i] : '.';
        if (c == '.') {
            if (label == 0) {
                add(s, "technical:malformed-domain", true, "%s \"%.60s\" has an empty label", what, v);
                return false;
            }
            if (label > 63) {
                add(s, "technical:malformed-domain", true,
                    "%s \"%.60s\" has a label of %zu bytes, DNS allows 63", what, v, label);
                return false;
            }
            if (v[i - label] == '-' || v[i - 1] == '-') {
                add(s, "technical:malformed-domain", true,
                    "%s \"%.60s\" has a label that starts or ends with '-'", what, v);
                return false;
            }
            last_start = i - label;
            labels++;
            label = 0;
            continue;
        }
        if (c == ' ' || c == '\t') {
            add(s, "technical:malformed-domain", true, "%s \"%.60s\" contains a space", what, v);
            return false;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || (unsigned char)c >= 0x80)) {
            add(s, "technical:malformed-domain", true, "%s \"%.60s\" contains '%c'", what, v, c);
            return false;
        }
        label++;
    }
    if (labels < 2) {
        add(s, "technical:malformed-domain", true, "%s \"%.60s\" has no top-level domain", what, v);
        return false;
    }
    {
        bool numeric = true;
        for (size_t i = last_start; i < len; i++)
            if (v[i] < '0' || v[i] > '9')
                numeric = false;
        if (numeric) {
            add(s, "technical:malformed-domain", true,
                "%s \"%.60s\" ends in a numeric label: an IP address is not a domain name", what, v);
            return false;
        }
    }
    return true;
}

static void check_domain(sink *s, const char *v)
{
    if (has_defang(v)) {
        add(s, "technical:defanged", true,
            "domain \"%.60s\" is still defanged: it cannot match traffic", v);
        return;
    }
    (void)check_name(s, "domain", v, strlen(v));
}

static void check_url(sink *s, const char *v)
{
    const char *sep = strstr(v, "://");
    const char *h, *e;
    char host[300];
    size_t hl;
    if (has_defang(v)) {
        add(s, "technical:defanged", true, "url \"%.60s\" is still defanged: it cannot match traffic",
            v);
        return;
    }
    if (strpbrk(v, " \t\r\n") != NULL) {
        add(s, "technical:malformed-url", true, "url \"%.60s\" contains white space", v);
        return;
    }
    if (sep == NULL || sep == v) {
        add(s, "technical:malformed-url", true, "url \"%.60s\" has no scheme://", v);
        return;
    }
    for (const char *p = v; p < sep; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '+' || *p == '-' || *p == '.')) {
            add(s, "technical:malformed-url", true, "url \"%.60s\" has a bad scheme", v);
            return;
        }
    h = sep + 3;
    e = h + strcspn(h, "/?#");
    for (const char *p = e; p > h; p--) /* drop user@ */
        if (p[-1] == '@') {
            h = p;
            break;
        }
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(e - h));
        if (rb == NULL || (size_t)(rb - h - 1) >= sizeof host) {
            add(s, "technical:malformed-url", true, "url \"%.60s\" has a bad IPv6 host", v);
            return;
        }
        memcpy(host, h + 1, (size_t)(rb - h - 1));
        host[rb - h - 1] = '\0';
        check_ip(s, "url host", host, true);
        return;
    }
    {
        const char *colon = memchr(h, ':', (size_t)(e - h));
        if (colon != NULL)
            e = colon;
    }
    hl = (size_t)(e - h);
    if (hl == 0) {
        add(s, "technical:malformed-url", true, "url \"%.60s\" has no host", v);
        return;
    }
    if (hl >= sizeof host) {
        add(s, "technical:malformed-domain", true, "url host is %zu bytes long, DNS allows 253", hl);
        return;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    {
        unsigned char a[4];
        if (inet_pton(AF_INET, host, a) == 1) {
            check_ip(s, "url host", host, false);
            return;
        }
    }
    (void)check_name(s, "url host", host, hl);
}

static void check_email(sink *s, const char *v)
{
    const char *at = strrchr(v, '@');
    if (has_defang(v)) {
        add(s, "technical:defanged", true,
            "email address \"%.60s\" is still defanged: it cannot match traffic", v);
        return;
    }
    if (at == NULL || at == v) {
        add(s, "technical:malformed-email", true, "email address \"%.60s\" has no local@domain form",
            v);
        return;
    }
    (void)check_name(s, "email domain", at + 1, strlen(at + 1));
}

size_t verify_check_value(const char *type, const char *value, verify_evidence *out, size_t cap)
{
    sink s = {out, cap, 0};
    int hl;
    if (type == NULL || value == NULL)
        return 0;
    if ((hl = hash_hex_len(type)) > 0)
        check_hash(&s, type, value, hl);
    else if (strcmp(type, "ipv4-addr") == 0)
        check_ip(&s, "ipv4-addr", value, false);
    else if (strcmp(type, "ipv6-addr") == 0)
        check_ip(&s, "ipv6-addr", value, true);
    else if (strcmp(type, "domain-name") == 0)
        check_domain(&s, value);
    else if (strcmp(type, "url") == 0)
        check_url(&s, value);
    else if (strcmp(type, "email-addr") == 0)
        check_email(&s, value);
    return s.n;
}

/* ------------------------------------------------------------ indicators */

/* 1: parsed into *t; 0: absent; -1: present but not a STIX timestamp. */
static int get_time(const json_t *o, const char *key, int64_t *t)
{
    const json_t *v = json_object_get(o, key);
    dt_time dt;
    if (v == NULL)
        return 0;
    if (!json_is_string(v) ||
        dt_time_parse(json_string_value(v), json_string_length(v), &dt, NULL) != DT_OK)
        return -1;
    *t = dt.sec;
    return 1;
}

size_t verify_check_indicator(const void *indicator, int64_t now, verify_evidence *out, size_t cap)
{
    const json_t *o = indicator;
    sink s = {out, cap, 0};
    int64_t from = 0, until = 0;
    int hf, hu;
    if (!json_is_object(o))
        return 0;
    hf = get_time(o, "valid_from", &from);
    hu = get_time(o, "valid_until", &until);
    if (hf < 0)
        add(&s, "technical:bad-timestamp", true, "valid_from is not an RFC 3339 UTC timestamp");
    if (hu < 0)
        add(&s, "technical:bad-timestamp", true, "valid_until is not an RFC 3339 UTC timestamp");
    if (hf > 0 && hu > 0 && until <= from)
        add(&s, "technical:bad-validity", true,
            "valid_until is not later than valid_from: the indicator is never valid");
    else if (hu > 0 && until <= now)
        add(&s, "technical:expired", false, "valid_until has passed (%lld s ago)",
            (long long)(now - until));
    if (json_is_true(json_object_get(o, "revoked")))
        add(&s, "technical:revoked", false, "revoked by its creator");
    return s.n;
}
