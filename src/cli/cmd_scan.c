/* detente scan: look for the node's indicators (or those of a file) in log
 * files, and optionally record what was found as STIX sightings.
 *
 * The indicator set is compiled once (match/), every file is scanned by
 * scan/ across threads, and each match is written as one JSON line with
 * the keys indicator, value, type, field, file, line, ts; the last line is
 * {"summary": {...}}. These keys are a contract other tools read: new keys
 * may be added, none renamed. Problems in the input (bad lines, damaged
 * gzip) go to stderr with file and line and are counted in the summary;
 * they never stop the scan. Progress goes to stderr when it is a terminal.
 *
 * Without --indicators the set is the node's: every collection the local
 * operator can read, read through node_query (the one door out) page by
 * page, the newest version of each indicator id; an id held in several
 * collections is indexed once, from the collection with its newest version.
 * match_set_add_stix keeps only active ones (not revoked, inside
 * valid_from/valid_until).
 *
 * --record-sightings: the matches of each file are grouped by indicator
 * and each group becomes, through node_ingest_json (the one door in,
 * signed as this node, ledgered): a STIX 2.1 sighting (count = matching
 * records, first_seen/last_seen from their timestamps, sighting_of_ref the
 * indicator, where_sighted_refs and created_by_ref this node's identity),
 * one observed-data naming the matched values (number_observed = count),
 * and those values as SCOs (at most SIGHT_VALUES distinct ones, ids
 * deterministic as STIX 2.1 section 2.9 says). The sighting and
 * observed-data ids are UUIDv5 over (node identity, indicator id, SHA-256
 * of the scanned bytes), so scanning the same file again finds the ids
 * already held and records nothing: a re-run is a no-op, a changed file
 * (rotated log, more lines) is a new sighting. */
#include "cli/cli.h"
#include "match/match.h"
#include "node/node.h"
#include "scan/scan.h"
#include "stix/stix.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

static const char usage[] =
    "usage: detente scan [--format auto|zeek|json|csv|text] [--fields MAP] [--threads N]\n"
    "                    [--indicators FILE] [--record-sightings [--collection ID]]\n"
    "                    [--output FILE] FILE...\n"
    "\n"
    "Scan log files (Zeek TSV or JSON, JSON lines, CSV, plain text; .gz read\n"
    "transparently; - for stdin) against indicators: by default the node's active\n"
    "ones, or those of --indicators FILE (a STIX bundle, or a plain list with one\n"
    "value per line, optionally preceded by its type: domain, ipv4, ipv6, url, hash,\n"
    "x509, email).\n"
    "\n"
    "Output: one JSON line per match with the keys indicator, value, type, field,\n"
    "file, line, ts; then a line {\"summary\": {...}}.\n"
    "\n"
    "  --fields MAP   NAME=CLASS,... added to the built-in field map; classes: domain,\n"
    "                 ip, host, url, hash, x509, email, answer, text, guess, none, and\n"
    "                 for patterns only: file-name, file-size, file-mime, x509-subject,\n"
    "                 x509-issuer, x509-serial\n"
    "  --threads N    scanning threads (default: all cores)\n"
    "  --record-sightings  store, per file and matched indicator, a signed STIX\n"
    "                 sighting with an observed-data of the matched values (node's\n"
    "                 indicators only); scanning the same file again records nothing\n"
    "  --collection ID  where sightings go (default: default)\n";

#define SIGHT_VALUES 8 /* distinct matched values kept per sighting as SCOs */

/* The matches of one indicator in the file being scanned. */
typedef struct sight {
    uint32_t ind;
    uint64_t count;      /* records (lines) with a match */
    uint64_t last_line;
    bool has_ts;
    int64_t first_us, last_us;
    size_t nvals;
    struct {
        const char *type; /* STIX type (static string) */
        const char *prop; /* its property path (static string), NULL: value or hashes */
        char *value;
    } vals[SIGHT_VALUES];
} sight;

typedef struct out_ctx {
    FILE *out;
    uint64_t matches;
    bool write_failed;
    /* --record-sightings: groups of the current file */
    bool record;
    uint32_t *slot_of;   /* per indicator: 0 none, else index + 1 into sights */
    sight *sights;
    size_t nsights, cap_sights;
    bool oom;
} out_ctx;

static void sight_add(out_ctx *o, const scan_match *m)
{
    uint32_t k = o->slot_of[m->ind];
    sight *g;
    if (k == 0) {
        if (o->nsights == o->cap_sights) {
            size_t nc = o->cap_sights ? o->cap_sights * 2 : 64;
            sight *ns = realloc(o->sights, nc * sizeof *ns);
            if (ns == NULL) {
                o->oom = true;
                return;
            }
            o->sights = ns;
            o->cap_sights = nc;
        }
        g = &o->sights[o->nsights++];
        memset(g, 0, sizeof *g);
        g->ind = m->ind;
        o->slot_of[m->ind] = (uint32_t)o->nsights;
    } else {
        g = &o->sights[k - 1];
    }
    if (g->count == 0 || g->last_line != m->line) {
        g->count++;
        g->last_line = m->line;
    }
    if (m->has_ts) {
        if (!g->has_ts || m->ts_us < g->first_us)
            g->first_us = m->ts_us;
        if (!g->has_ts || m->ts_us > g->last_us)
            g->last_us = m->ts_us;
        g->has_ts = true;
    }
    const char *type = m->sco_type ? m->sco_type : match_type_stix(m->type);
    if (g->nvals == SIGHT_VALUES || m->value_len == 0 || m->value_len > 2048)
        return;
    for (size_t i = 0; i < g->nvals; i++)
        if (g->vals[i].type == type && g->vals[i].prop == m->property &&
            strlen(g->vals[i].value) == m->value_len &&
            memcmp(g->vals[i].value, m->value, m->value_len) == 0)
            return;
    char *v = malloc(m->value_len + 1);
    if (v == NULL) {
        o->oom = true;
        return;
    }
    memcpy(v, m->value, m->value_len);
    v[m->value_len] = '\0';
    g->vals[g->nvals].type = type;
    g->vals[g->nvals].prop = m->property;
    g->vals[g->nvals].value = v;
    g->nvals++;
}

static void sights_reset(out_ctx *o)
{
    for (size_t i = 0; i < o->nsights; i++) {
        o->slot_of[o->sights[i].ind] = 0;
        for (size_t k = 0; k < o->sights[i].nvals; k++)
            free(o->sights[i].vals[k].value);
    }
    o->nsights = 0;
}

/* JSON string with invalid UTF-8 bytes replaced by U+FFFD, so the output
 * stays valid JSON whatever the log held. */
static void put_json_str(FILE *f, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    fputc('"', f);
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t j = i;
        /* a run of printable ASCII needing no escape: one write */
        while (j < len && (unsigned char)s[j] >= 0x20 && (unsigned char)s[j] < 0x7F &&
               s[j] != '"' && s[j] != '\\')
            j++;
        if (j > i) {
            fwrite(s + i, 1, j - i, f);
            i = j;
            continue;
        }
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            fprintf(f, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
            i++;
        } else {
            size_t bad;
            size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (i + n <= len && dt_utf8_valid(s + i, n, &bad)) {
                fwrite(s + i, 1, n, f);
                i += n;
            } else {
                fputs("\\ufffd", f);
                i++;
            }
        }
    }
    fputc('"', f);
}

static void on_match(void *vctx, const scan_match *m)
{
    out_ctx *o = vctx;
    FILE *f = o->out;
    flockfile(f); /* one lock for the record's writes */
    fputs("{\"indicator\":", f);
    put_json_str(f, m->indicator, strlen(m->indicator));
    fputs(",\"value\":", f);
    put_json_str(f, m->value, m->value_len);
    fprintf(f, ",\"type\":\"%s\",\"field\":", m->sco_type ? m->sco_type : match_type_stix(m->type));
    put_json_str(f, m->field, m->field_len);
    fputs(",\"file\":", f);
    put_json_str(f, m->file, strlen(m->file));
    fprintf(f, ",\"line\":%llu,\"ts\":", (unsigned long long)m->line);
    if (m->has_ts) {
        char ts[DT_TIME_LEN];
        dt_time t = dt_time_from_us(m->ts_us);
        fprintf(f, "\"%s\"}\n", dt_time_format(&t, 6, ts));
    } else {
        fputs("null}\n", f);
    }
    funlockfile(f);
    o->matches++;
    if (o->record)
        sight_add(o, m);
}

static void on_diag(void *vctx, const char *file, uint64_t line, const char *msg)
{
    (void)vctx;
    if (line)
        fprintf(stderr, "detente: scan: %s:%llu: %s\n", file, (unsigned long long)line, msg);
    else
        fprintf(stderr, "detente: scan: %s: %s\n", file, msg);
}

/* ---- indicators from a plain list ---- */

static dt_status load_list(match_set *set, const char *path, const char *text, size_t len,
                           size_t *bad, dt_err *err)
{
    size_t lineno = 0, i = 0;
    while (i < len) {
        const char *s = text + i;
        const char *nl = memchr(s, '\n', len - i);
        size_t l = nl ? (size_t)(nl - s) : len - i;
        i += l + 1;
        lineno++;
        while (l > 0 && (s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t'))
            l--;
        while (l > 0 && (*s == ' ' || *s == '\t'))
            s++, l--;
        if (l == 0 || *s == '#')
            continue;
        match_type t;
        const char *sp = s;
        while (sp < s + l && *sp != ' ' && *sp != '\t')
            sp++;
        const char *v = s;
        size_t vl = l;
        if (sp < s + l && match_type_parse(s, (size_t)(sp - s), &t)) {
            v = sp;
            while (v < s + l && (*v == ' ' || *v == '\t'))
                v++;
            vl = l - (size_t)(v - s);
            if (t == MATCH_IPV4 && match_type_guess(v, vl) == MATCH_IPV6)
                t = MATCH_IPV6;
        } else {
            t = match_type_guess(s, l);
        }
        char id[1200];
        uint32_t ind;
        dt_err e = {0};
        snprintf(id, sizeof id, "%s:%zu", path, lineno);
        dt_status rc = match_set_add_indicator(set, id, &ind, err);
        if (rc != DT_OK)
            return rc;
        rc = match_set_add_value(set, ind, t, v, vl, &e);
        if (rc == DT_ENOMEM)
            return dt_fail(err, rc, path, "out of memory");
        if (rc != DT_OK) {
            char text_err[400];
            (*bad)++;
            if (*bad <= 20)
                fprintf(stderr, "detente: scan: %s:%zu: %s\n", path, lineno,
                        dt_err_text(&e, text_err, sizeof text_err));
        }
    }
    return DT_OK;
}

/* ---- indicators from STIX (bundle, array, object or JSON lines) ---- */

typedef struct stix_load {
    match_set *set;
    const char *path;
    int64_t now;
    match_load_stats st;
    size_t problems;
} stix_load;

static dt_status stix_item(void *vctx, const char *where, json_t *item, const dt_err *item_err)
{
    stix_load *l = vctx;
    dt_err e = {0};
    char text[400];
    if (item == NULL) {
        if (++l->problems <= 20)
            fprintf(stderr, "detente: scan: %s: %s: %s\n", l->path, where,
                    dt_err_text(item_err, text, sizeof text));
        return DT_OK;
    }
    dt_status rc = match_set_add_stix(l->set, item, l->now, &l->st, &e);
    if (rc == DT_ENOMEM)
        return rc;
    if (rc != DT_OK && ++l->problems <= 20)
        fprintf(stderr, "detente: scan: %s: %s: %s\n", l->path, where,
                dt_err_text(&e, text, sizeof text));
    return DT_OK;
}

static dt_status load_stix(match_set *set, const char *path, const char *text, size_t len,
                           dt_err *err)
{
    stix_limits lim;
    stix_load l = {.set = set, .path = path, .now = dt_now_us()};
    stix_limits_default(&lim);
    lim.max_input_bytes = len + 1;
    lim.max_objects = (size_t)1 << 30;
    dt_status rc = stix_input_walk(text, len, &lim, stix_item, &l, err);
    if (rc != DT_OK)
        return rc;
    fprintf(stderr,
            "detente: scan: %s: %zu indicators, %zu indexed (%zu values); skipped: %zu revoked, "
            "%zu not active now, %zu not STIX patterns, %zu invalid, %zu on types no log "
            "record holds; %zu patterns evaluated on each record\n",
            path, l.st.indicators, l.st.indexed, l.st.values, l.st.revoked, l.st.inactive,
            l.st.not_stix, l.st.invalid, l.st.complex, l.st.evaluated);
    return DT_OK;
}


/* ---- indicators from the node ---- */

/* id (XXH3-64 of the id string) -> the collection holding its newest version. */
typedef struct id_slot {
    uint64_t h;       /* 0: empty (a real 0 hash is stored as 1) */
    int64_t mod_us;
    uint32_t coll;
} id_slot;

typedef struct id_tab {
    id_slot *s;
    size_t mask, count;
    bool shared; /* some id is in two collections */
} id_tab;

static uint64_t id_hash(const char *id)
{
    uint64_t h = XXH3_64bits(id, strlen(id));
    return h ? h : 1;
}

static id_slot *id_find(id_tab *t, uint64_t h)
{
    size_t p = h & t->mask;
    while (t->s[p].h != 0 && t->s[p].h != h)
        p = (p + 1) & t->mask;
    return &t->s[p];
}

static dt_status id_put(id_tab *t, const char *id, int64_t mod_us, uint32_t coll, dt_err *err)
{
    if ((t->count + 1) * 2 > t->mask + 1) {
        size_t nsize = t->mask ? (t->mask + 1) * 2 : 1024;
        id_tab n = {calloc(nsize, sizeof(id_slot)), nsize - 1, 0, t->shared};
        if (n.s == NULL)
            return dt_fail(err, DT_ENOMEM, "scan", "out of memory indexing indicator ids");
        for (size_t i = 0; t->s && i <= t->mask; i++)
            if (t->s[i].h) {
                *id_find(&n, t->s[i].h) = t->s[i];
                n.count++;
            }
        free(t->s);
        *t = n;
    }
    uint64_t h = id_hash(id);
    id_slot *sl = id_find(t, h);
    if (sl->h == 0) {
        *sl = (id_slot){h, mod_us, coll};
        t->count++;
    } else {
        t->shared = true;
        if (mod_us > sl->mod_us) {
            sl->mod_us = mod_us;
            sl->coll = coll;
        }
    }
    return DT_OK;
}

static int64_t row_modified(const store_row *r)
{
    dt_time t;
    if (r->modified == NULL || dt_time_parse(r->modified, strlen(r->modified), &t, NULL) != DT_OK)
        return 0;
    return dt_time_to_us(&t);
}

/* Walk the indicators of one collection page by page; pass 1 (ids only)
 * fills tab, pass 2 indexes the winners. */
static dt_status node_walk(node *n, const char *coll, uint32_t ci, bool with_json, id_tab *tab,
                           match_set *set, match_load_stats *st, size_t *problems, dt_err *err)
{
    static const char *const types[] = {"indicator"};
    node_principal local;
    store_query q = {.collection = coll, .types = types, .type_count = 1,
                     .versions = STORE_VER_LAST, .max_marking = -1, .limit = 1000,
                     .with_json = with_json};
    int64_t now = dt_now_us();
    node_principal_local(&local);
    for (;;) {
        store_page page;
        dt_status rc = node_query(n, &local, &q, &page, err);
        if (rc != DT_OK)
            return rc;
        for (size_t k = 0; k < page.count && rc == DT_OK; k++) {
            const store_row *r = &page.rows[k];
            if (!with_json) {
                rc = id_put(tab, r->id, row_modified(r), ci, err);
                continue;
            }
            if (r->json == NULL)
                continue;
            if (tab->shared) {
                id_slot *sl = id_find(tab, id_hash(r->id));
                if (sl->h != 0 && sl->coll != ci)
                    continue; /* a newer version is in another collection */
            }
            json_error_t je;
            json_t *obj = json_loadb(r->json, r->json_len, 0, &je);
            if (obj == NULL) {
                if (++*problems <= 20)
                    fprintf(stderr, "detente: scan: %s: %s: stored JSON does not parse: %s\n",
                            coll, r->id, je.text);
                continue;
            }
            dt_err e = {0};
            dt_status ar = match_set_add_stix(set, obj, now, st, &e);
            json_decref(obj);
            if (ar == DT_ENOMEM) {
                rc = dt_fail(err, ar, coll, "out of memory loading indicators");
            } else if (ar != DT_OK && ++*problems <= 20) {
                char text[400];
                fprintf(stderr, "detente: scan: %s: %s\n", coll, dt_err_text(&e, text, sizeof text));
            }
        }
        bool more = page.more;
        if (page.count > 0) {
            q.after_date_added = page.rows[page.count - 1].date_added;
            q.after_rowid = page.rows[page.count - 1].rowid;
        }
        store_page_release(&page);
        if (rc != DT_OK)
            return rc;
        if (!more || page.count == 0)
            return DT_OK;
    }
}

static dt_status load_node(node *n, match_set *set, dt_err *err)
{
    store_collection *cols = NULL;
    size_t ncols = 0, problems = 0;
    match_load_stats st = {0};
    id_tab tab = {0};
    dt_status rc = store_collection_list(node_store(n), &cols, &ncols, err);
    if (rc != DT_OK)
        return rc;
    /* with several collections, first find where each id's newest version is */
    for (size_t c = 0; ncols > 1 && c < ncols && rc == DT_OK; c++) {
        dt_err e = {0};
        rc = node_walk(n, cols[c].id, (uint32_t)c, false, &tab, set, &st, &problems, &e);
        if (rc == DT_EDENIED || rc == DT_ENOTFOUND)
            rc = DT_OK; /* not readable: skipped */
        else if (rc != DT_OK)
            *err = e;
    }
    for (size_t c = 0; c < ncols && rc == DT_OK; c++) {
        dt_err e = {0};
        rc = node_walk(n, cols[c].id, (uint32_t)c, true, &tab, set, &st, &problems, &e);
        if (rc == DT_EDENIED || rc == DT_ENOTFOUND)
            rc = DT_OK;
        else if (rc != DT_OK)
            *err = e;
    }
    free(tab.s);
    dt_free(cols);
    if (rc != DT_OK)
        return rc;
    fprintf(stderr,
            "detente: scan: node %s: %zu collections, %zu indicators, %zu indexed (%zu values); "
            "skipped: %zu revoked, %zu not active now, %zu not STIX patterns, %zu invalid, %zu "
            "on types no log record holds; %zu patterns evaluated on each record\n",
            node_home(n), ncols, st.indicators, st.indexed, st.values, st.revoked, st.inactive,
            st.not_stix, st.invalid, st.complex, st.evaluated);
    return DT_OK;
}

/* ---- sightings ---- */

/* detente's name space for the ids of sightings and observed-data made by scans. */
static const dt_uuid sight_ns = {{0x6b, 0x1e, 0x5c, 0x0f, 0x94, 0x2d, 0x4e, 0x8a, 0xb1, 0x3c,
                                  0x27, 0x90, 0x5d, 0xe4, 0x11, 0x7a}};

static void derived_id(const char *type, const char *node_id, const char *ind_id,
                       const char hex[65], char *out, size_t cap)
{
    char name[512], u[DT_UUID_LEN];
    dt_uuid id;
    int len = snprintf(name, sizeof name, "%s|%s|%s|%s", type, node_id, ind_id, hex);
    dt_uuid_v5(&sight_ns, name, (size_t)len < sizeof name ? (size_t)len : sizeof name - 1, &id);
    snprintf(out, cap, "%s--%s", type, dt_uuid_format(&id, u));
}

static const char *hash_algo(size_t hexlen)
{
    return hexlen == 32 ? "MD5" : hexlen == 40 ? "SHA-1" : hexlen == 64 ? "SHA-256"
         : hexlen == 128 ? "SHA-512" : NULL;
}

/* The SCO for one matched value (at property prop of an object of type;
 * NULL: its value, or its hashes), or NULL when it cannot be one: a file
 * needs a name or hashes, and a port or a size alone is no object. */
static json_t *value_sco(const char *type, const char *prop, const char *value)
{
    json_t *o;
    bool x509 = strcmp(type, "x509-certificate") == 0;
    if (prop != NULL && strcmp(prop, "value") != 0 && strcmp(prop, "hashes") != 0) {
        if (strcmp(type, "network-traffic") == 0 &&
            (strcmp(prop, "dst_ref.value") == 0 || strcmp(prop, "src_ref.value") == 0))
            /* the connection's address, as its own SCO */
            return value_sco(strchr(value, ':') ? "ipv6-addr" : "ipv4-addr", NULL, value);
        if (!((strcmp(type, "file") == 0 && strcmp(prop, "name") == 0) ||
              (x509 && (strcmp(prop, "subject") == 0 || strcmp(prop, "issuer") == 0 ||
                        strcmp(prop, "serial_number") == 0))))
            return NULL;
        o = json_pack("{s:s, s:s, s:s}", "type", type, "spec_version", "2.1", prop, value);
    } else if (strcmp(type, "file") == 0 || x509) {
        size_t n = strlen(value);
        const char *algo = hash_algo(n);
        char lower[129];
        if (algo == NULL)
            return NULL;
        for (size_t i = 0; i < n; i++)
            lower[i] = (char)(value[i] >= 'A' && value[i] <= 'F' ? value[i] + 32 : value[i]);
        lower[n] = '\0';
        o = json_pack("{s:s, s:s, s:{s:s}}", "type", type, "spec_version", "2.1", "hashes", algo,
                      lower);
    } else if (strcmp(type, "domain-name") == 0 || strcmp(type, "ipv4-addr") == 0 ||
               strcmp(type, "ipv6-addr") == 0 || strcmp(type, "url") == 0 ||
               strcmp(type, "email-addr") == 0) {
        o = json_pack("{s:s, s:s, s:s}", "type", type, "spec_version", "2.1", "value", value);
    } else {
        return NULL;
    }
    char id[200];
    if (o == NULL || stix_sco_id(o, id, sizeof id, NULL) != DT_OK ||
        json_object_set_new(o, "id", json_string(id)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

typedef struct sight_tally {
    size_t recorded, already, rejected;
} sight_tally;

static void put_obj(json_t *arr, json_t *o, bool *oom)
{
    if (o == NULL || json_array_append_new(arr, o) != 0)
        *oom = true;
}

static dt_status flush(node *n, const node_ingest_opts *opts, json_t *batch, sight_tally *tally,
                       dt_err *err)
{
    size_t count = json_array_size(batch);
    json_t **objs = calloc(count ? count : 1, sizeof *objs);
    node_ingest_result res = {0};
    node_principal local;
    dt_status rc;
    if (objs == NULL)
        return dt_fail(err, DT_ENOMEM, "sightings", "out of memory");
    node_principal_local(&local);
    for (size_t k = 0; k < count; k++)
        objs[k] = json_array_get(batch, k);
    rc = node_ingest_json(n, &local, opts, objs, NULL, count, &res, err);
    free(objs);
    for (size_t k = 0; rc == DT_OK && k < res.count; k++) {
        const node_ingest_item *it = &res.items[k];
        bool is_sighting = strncmp(it->id, "sighting--", 10) == 0;
        if (it->outcome == NODE_ITEM_REJECTED) {
            if (++tally->rejected <= 20)
                fprintf(stderr, "detente: scan: recording %s: rejected: %s\n", it->id, it->msg);
        } else if (is_sighting && it->outcome == NODE_ITEM_ADDED) {
            tally->recorded++;
        } else if (is_sighting) {
            tally->already++;
        }
    }
    node_ingest_result_release(&res);
    json_array_clear(batch);
    return rc;
}

/* Turn the groups of one file into objects and ingest them. */
static dt_status sights_record(node *n, const char *collection, const match_set *set, out_ctx *o,
                               const uint8_t digest[32], sight_tally *tally, dt_err *err)
{
    const char *me = node_identity_id(n);
    char hex[65], now_s[DT_TIME_LEN];
    dt_time now_t = dt_time_from_us(dt_now_us() / 1000 * 1000);
    node_ingest_opts opts = {.collection = collection, .sign = true};
    json_t *batch = json_array();
    bool oom = batch == NULL;
    dt_status rc = DT_OK;
    dt_hex_encode(digest, 32, hex);
    dt_time_format(&now_t, 3, now_s);
    for (size_t i = 0; i < o->nsights && !oom; i++) {
        const sight *g = &o->sights[i];
        const char *ind_id = match_set_indicator_id(set, g->ind);
        char sid[200], oid[200], first[DT_TIME_LEN], last[DT_TIME_LEN];
        store_row row;
        derived_id("sighting", me, ind_id, hex, sid, sizeof sid);
        if (store_get_version(node_store(n), NULL, collection, sid, NULL, &row, NULL) == DT_OK) {
            store_row_release(&row);
            tally->already++;
            continue;
        }
        derived_id("observed-data", me, ind_id, hex, oid, sizeof oid);
        if (g->has_ts) {
            dt_time a = dt_time_from_us(g->first_us), b = dt_time_from_us(g->last_us);
            dt_time_format(&a, 6, first);
            dt_time_format(&b, 6, last);
        } else {
            memcpy(first, now_s, sizeof first);
            memcpy(last, now_s, sizeof last);
        }
        json_t *refs = json_array();
        oom = oom || refs == NULL;
        for (size_t k = 0; k < g->nvals && !oom; k++) {
            json_t *sco = value_sco(g->vals[k].type, g->vals[k].prop, g->vals[k].value);
            if (sco == NULL)
                continue; /* not a value an SCO can hold (invalid UTF-8, odd hash) */
            if (json_array_append(refs, json_object_get(sco, "id")) != 0)
                oom = true;
            put_obj(batch, sco, &oom);
        }
        if (!oom && json_array_size(refs) > 0) {
            uint64_t cnt = g->count > 999999999 ? 999999999 : g->count;
            put_obj(batch,
                    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:O}", "type",
                              "observed-data", "spec_version", "2.1", "id", oid, "created", now_s,
                              "modified", now_s, "created_by_ref", me, "first_observed", first,
                              "last_observed", last, "number_observed", (json_int_t)cnt,
                              "object_refs", refs),
                    &oom);
        }
        json_t *s = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:[s]}", "type", "sighting",
                              "spec_version", "2.1", "id", sid, "created", now_s, "modified",
                              now_s, "created_by_ref", me, "count",
                              (json_int_t)(g->count > 999999999 ? 999999999 : g->count),
                              "sighting_of_ref", ind_id, "where_sighted_refs", me);
        if (s != NULL && g->has_ts)
            oom = oom || json_object_set_new(s, "first_seen", json_string(first)) != 0 ||
                  json_object_set_new(s, "last_seen", json_string(last)) != 0;
        if (s != NULL && json_array_size(refs) > 0)
            oom = oom || json_object_set_new(s, "observed_data_refs", json_pack("[s]", oid)) != 0;
        json_decref(refs);
        put_obj(batch, s, &oom);
        if (oom)
            break;
        if (json_array_size(batch) >= 1000) {
            rc = flush(n, &opts, batch, tally, err);
            if (rc != DT_OK)
                break;
        }
    }
    if (rc == DT_OK && !oom && json_array_size(batch) > 0)
        rc = flush(n, &opts, batch, tally, err);
    json_decref(batch);
    if (rc == DT_OK && oom)
        rc = dt_fail(err, DT_ENOMEM, "sightings", "out of memory building sightings");
    return rc;
}

/* ---- progress ---- */

typedef struct progress {
    _Atomic uint64_t bytes;
    _Atomic uint64_t lines;
    _Atomic bool done;
    uint64_t total; /* 0: unknown (gzip, stdin) */
    pthread_t tid;
} progress;

static void *progress_run(void *arg)
{
    progress *p = arg;
    int64_t t0 = dt_now_ms();
    while (!atomic_load(&p->done)) {
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
        uint64_t b = atomic_load(&p->bytes), l = atomic_load(&p->lines);
        double secs = (double)(dt_now_ms() - t0) / 1000.0;
        double rate = secs > 0 ? (double)b / secs : 0;
        double lrate = secs > 0 ? (double)l / secs : 0;
        if (p->total > b && rate > 0)
            fprintf(stderr, "\r  %.1f MB scanned, %.1f MB/s, %.2f M lines/s, ETA %.0f s   ",
                    (double)b / 1e6, rate / 1e6, lrate / 1e6, (double)(p->total - b) / rate);
        else
            fprintf(stderr, "\r  %.1f MB scanned, %.1f MB/s, %.2f M lines/s   ",
                    (double)b / 1e6, rate / 1e6, lrate / 1e6);
    }
    fputs("\r\033[K", stderr);
    return NULL;
}

int cmd_scan(int argc, char **argv, const cli_ctx *ctx)
{
    scan_opts opts = {0};
    scan_fieldmap fm;
    scan_stats st = {0};
    const char *indicators = NULL, *output = NULL, *collection = "default";
    bool record = false;
    node *nd = NULL;
    sight_tally tally = {0};
    uint8_t digest[32];
    char **files = NULL;
    int nfiles = 0, code = CLI_OK;
    match_set *set = NULL;
    dt_err err = {0};
    dt_status rc;
    out_ctx oc = {0};
    progress prog = {0};
    bool prog_on = false;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    scan_fieldmap_default(&fm);
    opts.threads = ncpu > 0 ? (unsigned)ncpu : 1;
    files = calloc((size_t)argc, sizeof *files);
    if (files == NULL)
        return CLI_ERROR;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--format") == 0 && val) {
            if (!scan_format_parse(val, &opts.format)) {
                fprintf(stderr, "detente: scan: unknown format '%s'\n", val);
                free(files);
                return cli_usage(usage);
            }
            i++;
        } else if (strcmp(a, "--fields") == 0 && val) {
            if (scan_fieldmap_parse(&fm, val, &err) != DT_OK) {
                free(files);
                return cli_error(&err);
            }
            i++;
        } else if (strcmp(a, "--threads") == 0 && val) {
            char *end;
            errno = 0;
            long n = strtol(val, &end, 10);
            if (errno || *end || n < 1 || n > 1024) {
                fprintf(stderr, "detente: scan: --threads takes a number from 1 to 1024\n");
                free(files);
                return cli_usage(usage);
            }
            opts.threads = (unsigned)n;
            i++;
        } else if (strcmp(a, "--indicators") == 0 && val) {
            indicators = val;
            i++;
        } else if (strcmp(a, "--output") == 0 && val) {
            output = val;
            i++;
        } else if (strcmp(a, "--collection") == 0 && val) {
            collection = val;
            i++;
        } else if (strcmp(a, "--record-sightings") == 0) {
            record = true;
        } else if (strcmp(a, "-") == 0 || a[0] != '-') {
            files[nfiles++] = argv[i];
        } else {
            fprintf(stderr, "detente: scan: unknown option '%s'\n", a);
            free(files);
            return cli_usage(usage);
        }
    }
    if (nfiles == 0) {
        free(files);
        return cli_usage(usage);
    }
    opts.fields = &fm;

    int64_t t0 = dt_now_us();
    rc = match_set_new(&set, &err);
    if (rc != DT_OK)
        goto fail;
    if (indicators) {
        char *text = NULL;
        size_t len = 0, bad = 0;
        rc = dt_file_read(indicators, (size_t)4 << 30, &text, &len, &err);
        if (rc != DT_OK)
            goto fail;
        size_t k = 0;
        while (k < len && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r' ||
                           text[k] == '\n'))
            k++;
        if (k < len && (text[k] == '{' || text[k] == '['))
            rc = load_stix(set, indicators, text, len, &err);
        else
            rc = load_list(set, indicators, text, len, &bad, &err);
        dt_free(text);
        if (rc != DT_OK)
            goto fail;
        if (bad > 0)
            fprintf(stderr, "detente: scan: %s: %zu values skipped as invalid\n", indicators,
                    bad);
        if (record) {
            rc = dt_fail(&err, DT_EARG, "--record-sightings",
                         "sightings need the node's indicators, not --indicators");
            goto fail;
        }
    } else {
        int orc = cli_open_node(ctx, &nd);
        if (orc != CLI_OK) {
            match_set_free(set);
            free(files);
            return orc;
        }
        rc = load_node(nd, set, &err);
        if (rc != DT_OK)
            goto fail;
    }
    rc = match_set_compile(set, &err);
    if (rc != DT_OK)
        goto fail;
    int64_t t1 = dt_now_us();
    if (record) {
        oc.record = true;
        oc.slot_of = calloc(match_set_indicator_count(set) + 1, sizeof *oc.slot_of);
        if (oc.slot_of == NULL) {
            rc = dt_fail(&err, DT_ENOMEM, "scan", "out of memory");
            goto fail;
        }
        opts.sha256 = digest;
    }

    oc.out = stdout;
    if (output) {
        oc.out = fopen(output, "w");
        if (oc.out == NULL) {
            rc = dt_fail(&err, DT_EIO, output, "cannot write: %s", strerror(errno));
            goto fail;
        }
    }
    if (isatty(2)) {
        for (int i = 0; i < nfiles; i++) {
            struct stat sb;
            if (strcmp(files[i], "-") != 0 && stat(files[i], &sb) == 0)
                prog.total += (uint64_t)sb.st_size;
        }
        opts.progress = &prog.bytes;
        opts.progress_lines = &prog.lines;
        prog_on = pthread_create(&prog.tid, NULL, progress_run, &prog) == 0;
    }
    for (int i = 0; i < nfiles; i++) {
        dt_err ferr = {0};
        rc = scan_file(set, files[i], &opts, on_match, on_diag, &oc, &st, &ferr);
        if (rc == DT_ENOMEM || (rc == DT_OK && oc.oom)) {
            err = ferr;
            if (rc == DT_OK)
                rc = dt_fail(&err, DT_ENOMEM, "scan", "out of memory grouping matches");
            break;
        }
        if (rc == DT_OK && record && oc.nsights > 0) {
            rc = sights_record(nd, collection, set, &oc, digest, &tally, &err);
            sights_reset(&oc);
            if (rc != DT_OK)
                break;
        }
        if (rc != DT_OK) {
            cli_error(&ferr);
            code = CLI_ERROR; /* the other files are still scanned */
            rc = DT_OK;
        }
    }
    if (prog_on) {
        atomic_store(&prog.done, true);
        pthread_join(prog.tid, NULL);
    }
    if (rc != DT_OK)
        goto fail;
    double secs = (double)(dt_now_us() - t1) / 1e6;
    fprintf(oc.out,
            "{\"summary\":{\"files\":%llu,\"bytes\":%llu,\"lines\":%llu,\"skipped_lines\":%llu,"
            "\"matches\":%llu,\"problems\":%llu,\"indicators\":%zu,\"compile_seconds\":%.3f,"
            "\"scan_seconds\":%.3f,\"mb_per_second\":%.1f,\"threads\":%u,"
            "\"sightings_recorded\":%zu,\"sightings_already_held\":%zu}}\n",
            (unsigned long long)st.files, (unsigned long long)st.bytes,
            (unsigned long long)st.lines, (unsigned long long)st.skipped_lines,
            (unsigned long long)st.matches, (unsigned long long)st.diagnostics,
            match_set_indicator_count(set), (double)(t1 - t0) / 1e6, secs,
            secs > 0 ? (double)st.bytes / 1e6 / secs : 0.0, opts.threads, tally.recorded,
            tally.already);
    if (record)
        fprintf(stderr,
                "detente: scan: %zu sightings recorded in collection %s, %zu already held "
                "(same indicator, same file content)%s\n",
                tally.recorded, collection, tally.already,
                tally.rejected ? ", some objects rejected (see above)" : "");
    if (fflush(oc.out) != 0 || ferror(oc.out)) {
        rc = dt_fail(&err, DT_EIO, output ? output : "stdout", "write failed");
        goto fail;
    }
    if (output)
        fclose(oc.out);
    match_set_free(set);
    free(files);
    sights_reset(&oc);
    free(oc.sights);
    free(oc.slot_of);
    node_close(nd);
    if (tally.rejected > 0 && code == CLI_OK)
        code = CLI_FAIL;
    return code;
fail:
    if (output && oc.out && oc.out != stdout)
        fclose(oc.out);
    match_set_free(set);
    free(files);
    if (oc.slot_of)
        sights_reset(&oc);
    free(oc.sights);
    free(oc.slot_of);
    node_close(nd);
    return cli_error(&err);
}
