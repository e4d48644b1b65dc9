/* Property test of the one door out (node_query) against markings.
 *
 * A node is filled with random objects: one to three versions each, in one
 * of two collections, each version with random TLP object markings (TLP 1.0
 * and 2.0 ids, sometimes several, sometimes a non-TLP marking, sometimes
 * none so that the node's random default applies) and random granular TLP
 * markings over its description, name and labels, signed by this node, by
 * another party or by no one. Then random requesters (the operator, local
 * accounts and peer accounts of every clearance with various grants,
 * anonymous) run random queries (types, ids, version selection, added_after,
 * a caller's own marking limit, with or without content, random page sizes),
 * paging to the end. An independent model of the rules says which versions
 * must be served and in what form; the test checks that:
 *   - every served row is at or below the requester's clearance (peers: never
 *     RED, never AMBER or AMBER+STRICT signed by anyone but this node);
 *   - every row that should be visible is served exactly once across pages,
 *     and `more` never promises a page that does not come;
 *   - a copy with parts under granular markings above the clearance lacks
 *     exactly those parts, carries no signature, says it was redacted, keeps
 *     no granular marking above the clearance, and is still valid STIX;
 *     an unredacted copy carries a signature that verifies.
 * The seed is printed; set DETENTE_SEED to replay one run, DETENTE_PROP_IDS
 * and DETENTE_PROP_QUERIES to change its size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node/node.h"
#include "stix/stix.h"

/* ---- a small deterministic generator (splitmix64) ---- */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static unsigned below(unsigned n) { return (unsigned)(rnd() % n); }
static bool chance(unsigned percent) { return below(100) < percent; }

/* TLP marking ids by level: [level][0] TLP 2.0, [level][1] TLP 1.0 (none for AMBER+STRICT) */
static const char *const tlp_ids[5][2] = {
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
     "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
     "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
     "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", NULL},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
     "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"},
};
static const char *marking_of(int level)
{
    const char *t1 = tlp_ids[level][1];
    return t1 != NULL && chance(30) ? t1 : tlp_ids[level][0];
}
#define STATEMENT_MARKING "marking-definition--0a7a3f7c-4cbb-4a3e-9d5b-6a7f2b1e0c11"
#define OTHER_PARTY "identity--c0000000-0000-4000-8000-00000000000c"

/* ---- the model ---- */
enum { PART_DESC, PART_NAME, PART_LABEL0, PART_LABEL1, PART_LABEL2, PART_COUNT };
enum { SIGNED_OWN, SIGNED_OTHER, UNSIGNED };
#define MAX_GM 3

typedef struct version {
    char id[96];
    char modified[48];        /* as written */
    int coll;                 /* 0 default, 1 c2 */
    int type;                 /* 0 indicator, 1 identity */
    int level;                /* effective object level */
    int signer;               /* SIGNED_* */
    int nlabels;
    int gm_count;
    int gm_level[MAX_GM];
    unsigned gm_parts[MAX_GM]; /* bits of PART_* (labels as a whole = all label bits) */
    char token[PART_COUNT][64];
    int64_t date_added;
    bool is_last, is_first;
    bool seen;                /* during one query */
    bool builtin;             /* made by node_init: no parts, no granular markings */
} version;

static const char *const coll_names[2] = {"default", "c2"};
static const char *const type_names[2] = {"indicator", "identity"};

/* accounts: name and read grants (bit 0 default, bit 1 c2) */
static const struct {
    const char *name;
    unsigned reads;
    bool write_only;
} accounts[] = {
    {"acct-none", 0, false}, {"acct-default", 1, false}, {"acct-c2", 2, false},
    {"acct-both", 3, false}, {"acct-write", 0, true},
};
#define NACCOUNTS (sizeof accounts / sizeof accounts[0])

typedef struct fixture {
    char dir[256];
    char home[300];
    node *n;
    int default_level;
    version *v;
    size_t count;
    uint8_t other_pk[crypto_sign_PUBLICKEYBYTES], other_sk[crypto_sign_SECRETKEYBYTES];
} fixture;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t env_size(const char *name, size_t dflt)
{
    const char *s = getenv(name);
    char *end;
    if (s == NULL || *s == '\0')
        return dflt;
    unsigned long long x = strtoull(s, &end, 10);
    return *end == '\0' && x > 0 ? (size_t)x : dflt;
}

/* Build version v's JSON from its model. */
static json_t *version_json(const version *v)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", type_names[v->type],
                          "spec_version", "2.1", "id", v->id, "created",
                          "2024-01-01T00:00:00.000Z", "modified", v->modified, "description",
                          v->token[PART_DESC], "name", v->token[PART_NAME]);
    json_t *labels = json_array();
    for (int i = 0; i < v->nlabels; i++)
        json_array_append_new(labels, json_string(v->token[PART_LABEL0 + i]));
    json_object_set_new(o, "labels", labels);
    if (v->type == 0) {
        json_object_set_new(o, "pattern", json_string("[domain-name:value = 'example.org']"));
        json_object_set_new(o, "pattern_type", json_string("stix"));
        json_object_set_new(o, "valid_from", json_string("2024-01-01T00:00:00Z"));
    } else {
        json_object_set_new(o, "identity_class", json_string("organization"));
    }
    return o;
}

/* Random markings for v, written into o; v->level is the effective level. */
static void add_markings(version *v, json_t *o, int default_level)
{
    unsigned n = below(4); /* 0: unmarked, the default applies */
    json_t *refs = json_array();
    int level = -1;
    for (unsigned i = 0; i < n; i++) {
        int l = (int)below(5);
        json_array_append_new(refs, json_string(marking_of(l)));
        if (l > level)
            level = l;
    }
    if (chance(15))
        json_array_append_new(refs, json_string(STATEMENT_MARKING));
    if (json_array_size(refs) > 0)
        json_object_set_new(o, "object_marking_refs", refs);
    else
        json_decref(refs);
    v->level = level < 0 ? default_level : level;

    /* granular markings: inside the object, at any level */
    v->gm_count = (int)below(MAX_GM + 1);
    if (chance(30))
        v->gm_count = 0;
    if (v->gm_count == 0)
        return;
    json_t *gms = json_array();
    for (int g = 0; g < v->gm_count; g++) {
        json_t *sels = json_array();
        unsigned parts = 0;
        v->gm_level[g] = (int)below(5);
        do {
            unsigned p = below(PART_COUNT + 1);
            if (p == PART_COUNT) { /* the labels list as a whole */
                json_array_append_new(sels, json_string("labels"));
                for (int i = 0; i < v->nlabels; i++)
                    parts |= 1u << (PART_LABEL0 + i);
            } else if (p >= PART_LABEL0 && (int)(p - PART_LABEL0) >= v->nlabels) {
                continue;
            } else if (p == PART_NAME && v->type == 1) {
                continue; /* an identity's name is required: a copy without it is not STIX */
            } else if (p >= PART_LABEL0) {
                char sel[32];
                snprintf(sel, sizeof sel, "labels.[%u]", p - PART_LABEL0);
                json_array_append_new(sels, json_string(sel));
                parts |= 1u << p;
            } else {
                json_array_append_new(sels, json_string(p == PART_DESC ? "description" : "name"));
                parts |= 1u << p;
            }
        } while (json_array_size(sels) == 0 || chance(25));
        v->gm_parts[g] = parts;
        json_array_append_new(gms, json_pack("{s:s, s:o}", "marking_ref",
                                             marking_of(v->gm_level[g]), "selectors", sels));
    }
    json_object_set_new(o, "granular_markings", gms);
}

/* Ingest every version of one signing mode (this node, another party, no
 * one) into one collection in one call, as an import or a pull would. */
static void ingest_batch(fixture *f, int coll, int signer, json_t **objs, version **vs,
                         size_t count)
{
    node_principal local;
    node_ingest_opts opts = {.collection = coll_names[coll]};
    node_ingest_result res = {0};
    dt_err err = {0};
    const char **wheres = calloc(count ? count : 1, sizeof *wheres);
    assert_non_null(wheres);
    node_principal_local(&local);
    if (signer == SIGNED_OWN) {
        opts.sign = true;
    } else {
        opts.peer = "other-node";
        opts.allow_unsigned = true;
    }
    for (size_t i = 0; i < count; i++) {
        wheres[i] = vs[i]->id;
        if (signer == SIGNED_OTHER)
            assert_int_equal(node_object_sign(objs[i], OTHER_PARTY, f->other_sk, NULL), DT_OK);
    }
    dt_status rc = node_ingest_json(f->n, &local, &opts, objs, wheres, count, &res, &err);
    if (rc != DT_OK || res.added != count) {
        fprintf(stderr, "ingest: %s\n", err.msg);
        for (size_t i = 0; i < res.count; i++)
            if (res.items[i].outcome != NODE_ITEM_ADDED)
                fprintf(stderr, "  %s: %s\n", res.items[i].where, res.items[i].msg);
        fail();
    }
    for (size_t i = 0; i < count; i++)
        vs[i]->date_added = res.items[i].date_added;
    node_ingest_result_release(&res);
    free(wheres);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char tmpl[] = "/tmp/detente-mprop-XXXXXX";
    dt_err err = {0};
    const char *seed_env = getenv("DETENTE_SEED");
    uint64_t seed = seed_env && *seed_env ? strtoull(seed_env, NULL, 10)
                                          : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    printf("test_marking_property: seed %" PRIu64 " (DETENTE_SEED=%" PRIu64 " to replay)\n", seed,
           seed);
    fflush(stdout);
    rng_state = seed;
    if (f == NULL || mkdtemp(tmpl) == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s", tmpl);
    snprintf(f->home, sizeof f->home, "%s/home", tmpl);
    f->default_level = (int)below(5);
    node_init_opts o = {.name = "party-prop", .default_marking = (node_tlp)f->default_level};
    if (node_init(f->home, &o, &err) != DT_OK || node_open(f->home, &f->n, &err) != DT_OK) {
        fprintf(stderr, "setup: %s: %s\n", err.where, err.msg);
        return -1;
    }
    if (node_collection_add(f->n, "c2", "second", "", &err) != DT_OK)
        return -1;
    for (size_t i = 0; i < NACCOUNTS; i++) {
        if (node_user_add(f->n, accounts[i].name, "a long enough password", NODE_TLP_RED, NULL, 0,
                          &err) != DT_OK)
            return -1;
        for (int c = 0; c < 2; c++)
            if ((accounts[i].reads >> c) & 1)
                node_grant(f->n, accounts[i].name, coll_names[c], STORE_PERM_READ, &err);
        if (accounts[i].write_only)
            node_grant(f->n, accounts[i].name, "default", STORE_PERM_WRITE, &err);
    }
    crypto_sign_keypair(f->other_pk, f->other_sk);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[400];
    node_close(f->n);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f->v);
    free(f);
    return 0;
}

/* The objects node_init made (its identity, detente's extension
 * definition) join the model as they are stored. */
static void add_builtins(fixture *f)
{
    node_principal local;
    store_page page;
    store_query q = {.collection = "default", .versions = STORE_VER_ALL, .max_marking = -1,
                     .limit = 100};
    node_principal_local(&local);
    assert_int_equal(node_query(f->n, &local, &q, &page, NULL), DT_OK);
    assert_false(page.more);
    for (size_t i = 0; i < page.count; i++) {
        version *v = &f->v[f->count++];
        const store_row *row = &page.rows[i];
        snprintf(v->id, sizeof v->id, "%s", row->id);
        snprintf(v->modified, sizeof v->modified, "%s", row->modified_text ? row->modified_text : "");
        v->level = row->marking;
        v->signer = row->signer == NULL ? UNSIGNED
                    : strcmp(row->signer, node_identity_id(f->n)) == 0 ? SIGNED_OWN : SIGNED_OTHER;
        v->type = strcmp(row->type, "indicator") == 0 ? 0 : strcmp(row->type, "identity") == 0 ? 1 : -1;
        v->date_added = row->date_added;
        v->is_first = v->is_last = v->builtin = true;
    }
    store_page_release(&page);
}

static void populate(fixture *f, size_t nids)
{
    size_t cap = nids * 3 + 100;
    json_t **objs = calloc(cap, sizeof *objs);
    version **vs = calloc(cap, sizeof *vs);
    f->v = calloc(cap, sizeof *f->v);
    assert_non_null(f->v);
    assert_non_null(objs);
    assert_non_null(vs);
    add_builtins(f);
    size_t made = f->count;
    for (size_t i = 0; i < nids; i++) {
        unsigned nv = 1 + below(3);
        int coll = (int)below(2), type = (int)below(2);
        size_t first = f->count;
        for (unsigned k = 0; k < nv; k++) {
            version *v = &f->v[f->count++];
            snprintf(v->id, sizeof v->id, "%s--5a1e0000-0000-4000-8000-%012zx", type_names[type],
                     i);
            snprintf(v->modified, sizeof v->modified, "2024-02-01T00:00:%02u.000Z", k % 60u);
            v->coll = coll;
            v->type = type;
            v->signer = chance(50) ? SIGNED_OWN : chance(75) ? SIGNED_OTHER : UNSIGNED;
            v->nlabels = 1 + (int)below(3);
            /* each part carries a token unique in the whole run */
            snprintf(v->token[PART_DESC], sizeof v->token[0], "desc-%zu-%u-q", i, k);
            snprintf(v->token[PART_NAME], sizeof v->token[0], "name-%zu-%u-q", i, k);
            for (int l = 0; l < 3; l++)
                snprintf(v->token[PART_LABEL0 + l], sizeof v->token[0], "label%d-%zu-%u-q", l,
                         i, k);
        }
        f->v[first].is_first = true;
        f->v[f->count - 1].is_last = true;
    }
    for (int coll = 0; coll < 2; coll++) {
        for (int signer = SIGNED_OWN; signer <= UNSIGNED; signer++) {
            size_t n = 0;
            for (size_t i = made; i < f->count; i++) {
                version *v = &f->v[i];
                if (v->coll != coll || v->signer != signer)
                    continue;
                objs[n] = version_json(v);
                add_markings(v, objs[n], f->default_level);
                vs[n++] = v;
            }
            ingest_batch(f, coll, signer, objs, vs, n);
            for (size_t i = 0; i < n; i++)
                json_decref(objs[i]);
        }
    }
    free(objs);
    free(vs);
}

/* ---- the requester and the rules, restated independently ---- */
typedef struct requester {
    node_principal who;
    unsigned reads;          /* collections it may read */
    int clearance;           /* after the caps */
} requester;

static void random_requester(requester *r)
{
    memset(r, 0, sizeof *r);
    unsigned k = below(10);
    if (k == 0) {
        r->who.kind = NODE_PRINCIPAL_LOCAL;
        snprintf(r->who.name, sizeof r->who.name, "local");
        r->who.max_marking = NODE_TLP_RED;
        r->reads = 3;
        r->clearance = NODE_TLP_RED;
        return;
    }
    if (k == 1) {
        r->who.kind = NODE_PRINCIPAL_ANONYMOUS;
        r->who.max_marking = (node_tlp)below(5); /* must not matter */
        r->reads = 0;
        r->clearance = NODE_TLP_CLEAR;
        return;
    }
    size_t a = below(NACCOUNTS);
    r->who.kind = k < 6 ? NODE_PRINCIPAL_USER : NODE_PRINCIPAL_PEER;
    snprintf(r->who.name, sizeof r->who.name, "%s", accounts[a].name);
    r->who.max_marking = (node_tlp)below(5);
    r->reads = accounts[a].reads;
    r->clearance = r->who.max_marking;
    if (r->who.kind == NODE_PRINCIPAL_PEER && r->clearance > NODE_TLP_AMBER_STRICT)
        r->clearance = NODE_TLP_AMBER_STRICT;
}

/* The level up to which granular markings may stay in a copy for r. */
static int redaction_level(const requester *r, const version *v)
{
    if (r->who.kind == NODE_PRINCIPAL_PEER && v->signer != SIGNED_OWN &&
        r->clearance > NODE_TLP_GREEN)
        return NODE_TLP_GREEN;
    return r->clearance;
}

static bool may_see(const requester *r, const version *v, int query_max)
{
    int limit = r->clearance;
    if (query_max >= 0 && query_max < limit)
        limit = query_max;
    if (v->level > limit)
        return false;
    if (r->who.kind == NODE_PRINCIPAL_PEER && v->signer != SIGNED_OWN && v->level > NODE_TLP_GREEN)
        return false;
    return true;
}

typedef struct query_spec {
    int coll;
    unsigned types;           /* bits; 0: no filter */
    unsigned versions;        /* store_version_sel */
    const char *ids[4];
    size_t id_count;
    int64_t added_after;
    int max_marking;
    size_t limit;
    bool with_json;
} query_spec;

static bool selected(const fixture *f, const query_spec *qs, const version *v)
{
    (void)f;
    if (v->coll != qs->coll)
        return false;
    if (qs->types && (v->type < 0 || !((qs->types >> v->type) & 1)))
        return false;
    if (qs->id_count) {
        bool hit = false;
        for (size_t i = 0; i < qs->id_count; i++)
            hit |= strcmp(qs->ids[i], v->id) == 0;
        if (!hit)
            return false;
    }
    if (qs->added_after && v->date_added <= qs->added_after)
        return false;
    unsigned sel = qs->versions ? qs->versions : STORE_VER_LAST;
    if (sel & STORE_VER_ALL)
        return true;
    return ((sel & STORE_VER_LAST) && v->is_last) || ((sel & STORE_VER_FIRST) && v->is_first);
}

static void random_query(const fixture *f, query_spec *qs)
{
    memset(qs, 0, sizeof *qs);
    qs->coll = (int)below(2);
    if (chance(25))
        qs->types = 1u << below(2);
    unsigned vs = below(4);
    qs->versions = vs == 0 ? 0 /* default: last */ : vs == 1 ? STORE_VER_FIRST
                 : vs == 2 ? STORE_VER_ALL : STORE_VER_LAST | STORE_VER_FIRST;
    if (chance(25)) {
        qs->id_count = 1 + below(4);
        for (size_t i = 0; i < qs->id_count; i++)
            qs->ids[i] = f->v[below((unsigned)f->count)].id;
    }
    if (chance(20))
        qs->added_after = f->v[below((unsigned)f->count)].date_added;
    qs->max_marking = chance(20) ? (int)below(5) : -1;
    qs->limit = chance(10) ? 0 /* the node's default */ : 1 + below(chance(30) ? 5 : 80);
    qs->with_json = chance(80);
}

static void fail_row(const char *what, const requester *r, const query_spec *qs,
                     const store_row *row)
{
    fprintf(stderr,
            "LEAK/MISS: %s: requester kind %d name %s clearance %d; query coll %s versions %u "
            "max %d limit %zu json %d; row %s %s marking %d signer %s\n",
            what, (int)r->who.kind, r->who.name, r->clearance, coll_names[qs->coll], qs->versions,
            qs->max_marking, qs->limit, (int)qs->with_json, row ? row->id : "-",
            row ? row->modified_text : "-", row ? row->marking : -1,
            row && row->signer ? row->signer : "(none)");
    fail();
}

/* Check one served copy against the model of its version. */
static void check_copy(fixture *f, const requester *r, const query_spec *qs, const store_row *row,
                       const version *v)
{
    int keep = r->who.kind == NODE_PRINCIPAL_LOCAL ? NODE_TLP_RED : redaction_level(r, v);
    unsigned hidden = 0;
    bool redact = false;
    for (int g = 0; g < v->gm_count; g++) {
        if (v->gm_level[g] > keep) {
            hidden |= v->gm_parts[g];
            redact = true;
        }
    }
    if (!qs->with_json) {
        if (row->json != NULL)
            fail_row("content in a manifest row", r, qs, row);
        return;
    }
    if (row->json == NULL)
        fail_row("no content", r, qs, row);
    json_t *o = json_loadb(row->json, row->json_len, 0, NULL);
    if (o == NULL)
        fail_row("served JSON does not parse", r, qs, row);
    /* the object's own markings are served as stored, and within clearance */
    if ((int)node_object_marking(o, (node_tlp)f->default_level) != v->level)
        fail_row("object markings changed", r, qs, row);
    for (int p = 0; p < PART_COUNT && !v->builtin; p++) {
        if (p >= PART_LABEL0 && p - PART_LABEL0 >= v->nlabels)
            continue;
        bool present = strstr(row->json, v->token[p]) != NULL;
        if (present && ((hidden >> p) & 1))
            fail_row("a part under a granular marking above clearance was served", r, qs, row);
        if (!present && !((hidden >> p) & 1))
            fail_row("a part at or below clearance was removed", r, qs, row);
    }
    json_t *gms = json_object_get(o, "granular_markings"), *gm;
    size_t i;
    json_array_foreach(gms, i, gm) {
        node_tlp t;
        const char *ref = json_string_value(json_object_get(gm, "marking_ref"));
        if (ref && node_tlp_of_marking(ref, &t) && (int)t > keep)
            fail_row("a granular marking above clearance stayed in the copy", r, qs, row);
    }
    node_signature sig;
    dt_err e = {0};
    if (node_object_verify(o, &sig, &e) != DT_OK)
        fail_row("served copy carries a signature that fails", r, qs, row);
    bool marked_redacted = json_is_true(json_object_get(o, "x_detente_redacted"));
    if (redact) {
        if (!marked_redacted || sig.present || strstr(row->json, NODE_EXTENSION_ID) != NULL)
            fail_row("redacted copy not marked, or still signed", r, qs, row);
    } else {
        if (marked_redacted)
            fail_row("copy marked redacted without cause", r, qs, row);
        if (!v->builtin && sig.present != (v->signer != UNSIGNED))
            fail_row("signature dropped from an unredacted copy", r, qs, row);
    }
    stix_limits lim;
    stix_limits_default(&lim);
    if (stix_validate(o, &lim, &e) != DT_OK) {
        fprintf(stderr, "invalid copy: %s: %s\n%.*s\n", e.where, e.msg, (int)row->json_len,
                row->json);
        fail_row("served copy is not valid STIX", r, qs, row);
    }
    json_decref(o);
}

static version *find_version(fixture *f, const store_row *row)
{
    /* ids are "<type>--5a1e0000-0000-4000-8000-<index hex>", versions follow by modified */
    for (size_t i = 0; i < f->count; i++)
        if (strcmp(f->v[i].id, row->id) == 0 && row->modified_text != NULL &&
            strcmp(f->v[i].modified, row->modified_text) == 0)
            return &f->v[i];
    return NULL;
}

static size_t run_query(fixture *f, const requester *r, const query_spec *qs)
{
    store_query q = {.collection = coll_names[qs->coll],
                     .ids = qs->ids,
                     .id_count = qs->id_count,
                     .versions = qs->versions,
                     .added_after = qs->added_after,
                     .max_marking = qs->max_marking,
                     .limit = qs->limit,
                     .with_json = qs->with_json};
    const char *types[1];
    size_t expected = 0, served = 0, pages = 0;
    bool access = r->who.kind == NODE_PRINCIPAL_LOCAL || ((r->reads >> qs->coll) & 1);
    if (qs->types) {
        types[0] = type_names[qs->types == 1 ? 0 : 1];
        q.types = types;
        q.type_count = 1;
    }
    for (size_t i = 0; i < f->count; i++) {
        f->v[i].seen = false;
        if (access && selected(f, qs, &f->v[i]) && may_see(r, &f->v[i], qs->max_marking))
            expected++;
    }
    for (;;) {
        store_page page;
        dt_err e = {0};
        dt_status rc = node_query(f->n, &r->who, &q, &page, &e);
        pages++;
        if (!access) {
            if (rc != DT_EDENIED)
                fail_row("a collection without a read grant was read", r, qs, NULL);
            return pages;
        }
        if (rc != DT_OK) {
            fprintf(stderr, "node_query: %s: %s\n", e.where, e.msg);
            fail_row("query failed", r, qs, NULL);
        }
        size_t cap = qs->limit ? qs->limit : node_conf(f->n)->page_default;
        if (page.count > cap)
            fail_row("page longer than asked", r, qs, NULL);
        for (size_t i = 0; i < page.count; i++) {
            const store_row *row = &page.rows[i];
            version *v = find_version(f, row);
            if (v == NULL)
                fail_row("served a version the model does not know", r, qs, row);
            /* the invariant, on the row alone */
            if (row->marking > r->clearance ||
                (qs->max_marking >= 0 && row->marking > qs->max_marking))
                fail_row("row above clearance", r, qs, row);
            if (r->who.kind == NODE_PRINCIPAL_PEER && row->marking > NODE_TLP_GREEN &&
                (row->signer == NULL || strcmp(row->signer, node_identity_id(f->n)) != 0))
                fail_row("foreign AMBER relayed to a peer", r, qs, row);
            if (r->who.kind == NODE_PRINCIPAL_PEER && row->marking == NODE_TLP_RED)
                fail_row("RED served to a peer", r, qs, row);
            if (!selected(f, qs, v))
                fail_row("served a row the query does not select", r, qs, row);
            if (!may_see(r, v, qs->max_marking))
                fail_row("served a row the rules hide", r, qs, row);
            if (v->seen)
                fail_row("served twice", r, qs, row);
            v->seen = true;
            served++;
            check_copy(f, r, qs, row, v);
        }
        bool more = page.more;
        if (page.count > 0) {
            q.after_date_added = page.rows[page.count - 1].date_added;
            q.after_rowid = page.rows[page.count - 1].rowid;
        }
        if (more && page.count == 0)
            fail_row("`more` on an empty page", r, qs, NULL);
        store_page_release(&page);
        if (!more)
            break;
    }
    if (served != expected) {
        for (size_t i = 0; i < f->count; i++)
            if (!f->v[i].seen && selected(f, qs, &f->v[i]) &&
                may_see(r, &f->v[i], qs->max_marking))
                fprintf(stderr, "not served: %s %s level %d\n", f->v[i].id, f->v[i].modified,
                        f->v[i].level);
        fprintf(stderr, "served %zu of %zu visible rows\n", served, expected);
        fail_row("a visible row was not served", r, qs, NULL);
    }
    return pages;
}

static void test_node_query_markings_random(void **state)
{
    fixture *f = *state;
    size_t nids = env_size("DETENTE_PROP_IDS", 600);
    size_t nqueries = env_size("DETENTE_PROP_QUERIES", 300);
    size_t pages = 0;
    double t0 = now_s();
    populate(f, nids);
    double t1 = now_s();
    for (size_t i = 0; i < nqueries; i++) {
        requester r;
        query_spec qs;
        random_requester(&r);
        random_query(f, &qs);
        pages += run_query(f, &r, &qs);
    }
    printf("test_marking_property: %zu versions of %zu ids (default %s), %zu queries, %zu pages; "
           "%.1f s to fill, %.1f s to query\n",
           f->count, nids, node_tlp_name((node_tlp)f->default_level), nqueries, pages,
           t1 - t0, now_s() - t1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_node_query_markings_random, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
