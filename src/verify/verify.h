/* verify: the pure cores of verification.
 *
 * - Warninglists (warninglist.c): MISP-format lists of known-benign or
 *   commonly mistaken values, loaded once and looked up many times.
 * - Technical checks (checks.c): defects a value or an indicator carries on
 *   its face (bad hash length, private IP, defanged URL, expired, revoked).
 * - Verdicts (verdict.c): a deterministic rule from a claim and its evidence
 *   to unverified / corroborated / disputed / refuted / likely-benign.
 * - Reliability (reliability.c): Beta(1 + corroborated, 1 + refuted) per
 *   source, its credible interval and an Admiralty letter.
 *
 * Nothing here reads a clock, a store or the network: "now" is always an
 * argument, so every node computes the same result from the same inputs.
 * Checks that need the pattern evaluator ("a pattern that cannot match
 * anything") or the store ("two claims by one source that contradict each
 * other") belong to node/ and will produce verify_evidence of their own. */
#ifndef DETENTE_VERIFY_H
#define DETENTE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* ---------------------------------------------------------------- lists */

/* Loaded warninglists. Immutable once loading is done: share one across
 * threads for lookups without locks (loading itself is single-threaded). */
typedef struct verify_lists verify_lists;

/* Load every <dir>/<name>/list.json. A list that cannot be read or breaks
 * the format is skipped and its message kept (verify_lists_skipped_*); the
 * others load. DT_EIO when dir itself cannot be opened, DT_ENOMEM. On DT_OK
 * the caller owns *out (verify_lists_free). */
dt_status verify_lists_load_dir(const char *dir, verify_lists **out, dt_err *err);
/* Add the lists of one more directory, as verify_lists_load_dir does. */
dt_status verify_lists_add_dir(verify_lists *l, const char *dir, dt_err *err);
/* Add one list from its JSON text (`origin` names it in messages). A bad
 * list: DT_EPARSE/DT_EINVALID with origin and what is wrong; nothing is
 * added then (and it is NOT counted as skipped: the caller decides). */
dt_status verify_lists_add_json(verify_lists *l, const char *json, size_t len, const char *origin,
                                dt_err *err);
/* An empty set (to add lists to by hand). */
dt_status verify_lists_new(verify_lists **out, dt_err *err);
void verify_lists_free(verify_lists *l);

/* How many lists are loaded, how many values they hold, how many lists were
 * skipped and why ("<path>: <what is wrong>"; i < skipped count). */
size_t verify_lists_count(const verify_lists *l);
size_t verify_lists_value_count(const verify_lists *l);
size_t verify_lists_skipped_count(const verify_lists *l);
const char *verify_lists_skipped_msg(const verify_lists *l, size_t i);

typedef struct verify_hit {
    const char *list_name;   /* borrowed from l: valid while l lives */
    const char *description;
} verify_hit;

/* Look value up in every list that accepts attr_type. attr_type is the
 * MISP-ish kind of the value: "domain", "hostname", "ip" (or "ip-src",
 * "ip-dst"), "url", "md5", "sha1", "sha256", "sha512", "email" ... A list
 * without matching_attributes accepts every kind. Hostname and hash
 * matching is case-insensitive; hostname lists match every label-boundary
 * suffix (a.b.google.com hits google.com, notgoogle.com does not); a url is
 * also looked up by its host. At most one hit per list; fills up to cap
 * hits (in list load order) and returns how many lists hit (may be > cap).
 * Thread-safe on a loaded l. */
size_t verify_lists_lookup(const verify_lists *l, const char *attr_type, const char *value,
                           verify_hit *hits, size_t cap);

/* ------------------------------------------------------------- evidence */

typedef enum verify_evidence_class {
    VERIFY_EV_WARNINGLIST = 1, /* the value is on a known-benign list */
    VERIFY_EV_DEFECT = 2,      /* a technical defect of the claim */
    VERIFY_EV_SIGHTING = 3,    /* someone saw the value in their data */
    VERIFY_EV_OPINION = 4,     /* an analyst's STIX opinion on the claim */
} verify_evidence_class;

/* STIX 2.1 opinion-enum, mapped to -2..+2. */
typedef enum verify_opinion {
    VERIFY_OP_STRONGLY_DISAGREE = -2,
    VERIFY_OP_DISAGREE = -1,
    VERIFY_OP_NEUTRAL = 0,
    VERIFY_OP_AGREE = 1,
    VERIFY_OP_STRONGLY_AGREE = 2,
} verify_opinion;

/* Parse a STIX opinion string ("strongly-disagree" .. "strongly-agree"). */
bool verify_opinion_parse(const char *s, verify_opinion *out);

#define VERIFY_KIND_LEN 40
#define VERIFY_MSG_LEN 200
#define VERIFY_ID_LEN 96

/* One piece of evidence. Plain data, copyable; strings are inline. */
typedef struct verify_evidence {
    verify_evidence_class cls;
    char kind[VERIFY_KIND_LEN]; /* stable: "warninglist", "technical:private-ip", "sighting" ... */
    char message[VERIFY_MSG_LEN];
    char source[VERIFY_ID_LEN]; /* identity--... of who gives it ("" = this node's checks) */
    int64_t time;               /* seconds since the epoch: when it was observed/given */
    verify_opinion opinion;     /* opinions only */
    uint32_t count;             /* sightings only: how many times seen (>= 1) */
    bool is_fatal;              /* defects only: the claim cannot be true as written */
} verify_evidence;

/* --------------------------------------------------------------- checks */

/* Checks on one observable value. type is the STIX SCO type or hash name:
 * "ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", or a hash
 * algorithm "MD5", "SHA-1", "SHA-256", "SHA-512" (either case, also
 * "SHA1"/"SHA256"). Appends up to cap evidence items to out and returns how
 * many defects were found (may be > cap). Each has cls VERIFY_EV_DEFECT; the
 * kinds are:
 *   technical:bad-hash-length, technical:bad-hash-alphabet   (fatal)
 *   technical:defanged, technical:malformed-domain,
 *   technical:malformed-url, technical:malformed-ip,
 *   technical:malformed-email                                (fatal)
 *   technical:private-ip, technical:loopback-ip, technical:link-local-ip,
 *   technical:multicast-ip, technical:documentation-ip,
 *   technical:unspecified-ip, technical:reserved-ip,
 *   technical:shared-ip (100.64/10)                           (not fatal)
 * Pure; thread-safe. */
size_t verify_check_value(const char *type, const char *value, verify_evidence *out, size_t cap);

/* Checks on an indicator (or any claim) object given as jansson json_t:
 * technical:bad-validity (valid_until not after valid_from, fatal),
 * technical:expired (valid_until <= now, not fatal), technical:revoked
 * (not fatal: a source revokes for many reasons, see verdict.c),
 * technical:bad-timestamp (a time that does not parse, fatal). now is seconds since the epoch. `indicator` is a
 * `const json_t *` (void here so this header needs no jansson). */
size_t verify_check_indicator(const void *indicator, int64_t now, verify_evidence *out, size_t cap);

/* -------------------------------------------------------------- verdicts */

typedef enum verify_verdict {
    VERIFY_UNVERIFIED = 0,
    VERIFY_CORROBORATED = 1,
    VERIFY_DISPUTED = 2,
    VERIFY_REFUTED = 3,
    VERIFY_LIKELY_BENIGN = 4,
} verify_verdict;

/* "unverified", "corroborated", "disputed", "refuted", "likely-benign". */
const char *verify_verdict_name(verify_verdict v);

/* The claim under judgement. Times in seconds since the epoch; 0 = absent. */
typedef struct verify_claim {
    const char *source; /* identity--... of the claim's creator */
    int64_t created;
    int64_t valid_from;
    int64_t valid_until; /* 0: open-ended */
    bool is_revoked;
} verify_claim;

/* Tunables of the rule; verify_params_default() gives the documented ones
 * (docs/verdicts.md). Every node of a federation should use the same. */
typedef struct verify_params {
    double sighting_half_life_days;    /* 90 */
    double opinion_half_life_days;     /* 180 */
    double warninglist_half_life_days; /* 0 = no decay (lists are kept current) */
    double expired_factor;    /* 0.5: evidence weight on a claim past valid_until or revoked */
    double support_threshold; /* 1.0: independent support that corroborates */
    double against_threshold; /* 1.0: independent disagreement that disputes */
    double refute_threshold;  /* 2.0: disagreement (without support) that refutes */
    double benign_override;   /* 2.0: support that outweighs a warninglist hit */
} verify_params;

void verify_params_default(verify_params *p);

/* How one evidence item was counted. */
typedef enum verify_use {
    VERIFY_USE_SUPPORT = 1,   /* counted for the claim */
    VERIFY_USE_AGAINST = 2,   /* counted against it */
    VERIFY_USE_BENIGN = 3,    /* a warninglist hit */
    VERIFY_USE_FATAL = 4,     /* a fatal defect */
    VERIFY_USE_NOTE = 5,      /* recorded, weighs nothing (neutral opinion, non-fatal defect) */
    VERIFY_USE_IGNORED_SELF = 6,       /* from the claim's own source */
    VERIFY_USE_IGNORED_SUPERSEDED = 7, /* an older opinion of the same source */
    VERIFY_USE_IGNORED_FUTURE = 8,     /* given after now */
} verify_use;

typedef struct verify_counted {
    size_t index;    /* into the evidence array given */
    verify_use use;
    double weight;   /* decayed weight it contributed (0 when ignored) */
    char why[120];
} verify_counted;

typedef struct verify_result {
    verify_verdict verdict;
    double score;     /* support - against, in [-inf, inf]; < 0 leans false */
    double support;   /* weighted independent sightings + agreeing opinions */
    double against;   /* weighted independent disagreeing opinions */
    double benign;    /* weight of warninglist hits */
    size_t independent_sources; /* distinct non-self sources that supported */
    char reason[200];           /* one line: why this verdict */
    verify_counted *counted;    /* one per evidence item, in input order */
    size_t counted_count;
} verify_result;

/* Judge a claim. ev[0..count) is borrowed; the result's `counted` array is
 * owned by the caller (verify_result_release). Deterministic: depends only
 * on the arguments (not on the evidence order, not on the clock).
 * DT_ENOMEM, DT_EARG. Thread-safe. */
dt_status verify_verdict_compute(const verify_claim *claim, const verify_evidence *ev, size_t count,
                                 int64_t now, const verify_params *p, verify_result *out,
                                 dt_err *err);
void verify_result_release(verify_result *r);

/* ------------------------------------------------------------ reliability */

/* One decided (or undecided) claim of a source, for reliability. */
typedef struct verify_outcome {
    verify_verdict verdict;
    int64_t time; /* when the verdict was reached (seconds); for "as of" */
} verify_outcome;

typedef struct verify_reliability {
    uint32_t corroborated;
    uint32_t refuted;      /* refuted + likely-benign: the claim was wrong */
    uint32_t disputed;
    uint32_t unverified;
    double alpha, beta;    /* 1 + corroborated, 1 + refuted */
    double mean;           /* alpha / (alpha + beta) */
    double lo, hi;         /* 90% equal-tailed credible interval */
    char letter;           /* Admiralty 'A'..'F' */
} verify_reliability;

/* Minimum decided claims (corroborated + refuted) before a letter other
 * than F is given. */
#define VERIFY_RELIABILITY_MIN_DECIDED 5

/* Reliability of one source from its claims' outcomes, counting only those
 * with time <= as_of (pass INT64_MAX for "now"). Pure. */
void verify_reliability_compute(const verify_outcome *o, size_t count, int64_t as_of,
                                verify_reliability *out);
/* The Admiralty letter for a reliability (see reliability.c for the table). */
char verify_reliability_letter(const verify_reliability *r);

/* Regularised incomplete beta function I_x(a, b) and its inverse (the
 * p-quantile of Beta(a, b)). a, b > 0; x, p in [0, 1]. */
double verify_beta_inc(double a, double b, double x);
double verify_beta_quantile(double a, double b, double p);


/* ---------------------------------------------------------------- engine
 * engine.c: every claim's verdict and every source's reliability over a set
 * of stored objects, fed one by one (node/verdicts.c reads them through
 * node_query, so a requester's clearance decides what the engine sees).
 * Still pure: no clock, no store; what it is given is all it knows.
 *
 * Claims: indicators (their pattern's equality atoms are the values they
 * call malicious) and relationships (attributed-to, indicates, ...: judged
 * by opinions and sightings only). Evidence: warninglist hits and checks on
 * the atoms, checks on the indicator, "technical:cannot-match" (an atom on
 * a property its object type does not have), "technical:self-contradiction"
 * (the claim's source later revoked another claim of the same value, or
 * disagreed with one), sightings whose sighting_of_ref is the claim, and
 * opinions whose object_refs name it. A claim's or evidence's source is its
 * signer, else its created_by_ref, else "unattributed". Only the newest
 * version of each id counts (by modified; the same id in two collections
 * counts once). See docs/verdicts.md "On a node". */
typedef struct verify_engine verify_engine;

/* Where an object is stored: strings borrowed (from the caller in
 * verify_engine_add, from the engine in answers). id NULL: no object (a
 * warninglist hit or a check of the claim itself). */
typedef struct verify_ref {
    const char *id;
    const char *modified;   /* canonical 9-digit form, as in store_row */
    const char *signer;     /* NULL: unsigned */
    const char *collection;
    int64_t leaf_index;     /* ledger leaf of this version, -1 none */
} verify_ref;

/* lists borrowed (may be NULL: no warninglists) and must outlive e; p NULL:
 * verify_params_default. DT_ENOMEM. */
dt_status verify_engine_new(const verify_lists *lists, const verify_params *p, verify_engine **out,
                            dt_err *err);
void verify_engine_free(verify_engine *e);

/* Feed one stored object version (obj is a `const json_t *`, borrowed; what
 * is needed is copied). Types other than indicator, relationship, sighting
 * and opinion are ignored (DT_OK). An older version of an id already fed is
 * ignored; a newer one replaces it. DT_ENOMEM; DT_EARG after a run. */
dt_status verify_engine_add(verify_engine *e, const verify_ref *where, const void *obj,
                            dt_err *err);

/* Judge every claim. as_of 0: each claim's "now" is the newest date among
 * the claim (modified) and its sightings (last_seen) and opinions
 * (modified), so the answer depends on the objects only; as_of > 0 (seconds
 * since the epoch): that instant for every claim, evidence after it
 * ignored. Once only. DT_ENOMEM. */
dt_status verify_engine_run(verify_engine *e, int64_t as_of, dt_err *err);

typedef struct verify_claim_info {
    const char *id;
    const char *type;        /* "indicator", "relationship" */
    const char *source;
    verify_ref where;
    int64_t now;             /* the instant it was judged at */
    verify_verdict verdict;
    double score;
    size_t sightings, opinions; /* objects referring to it */
} verify_claim_info;

/* Claims in order of id (after a run). */
size_t verify_engine_claim_count(const verify_engine *e);
void verify_engine_claim(const verify_engine *e, size_t i, verify_claim_info *out);
/* Index of a claim by id: false when it is not a claim the engine holds. */
bool verify_engine_find(const verify_engine *e, const char *id, size_t *i);

/* A claim's verdict with every piece of evidence. ev[k] pairs with
 * where[k] (the object behind it) and result.counted[k] (how it was used).
 * Release with verify_explain_release. DT_ENOMEM. */
typedef struct verify_explain {
    verify_claim_info claim;
    verify_evidence *ev;
    verify_ref *where;
    size_t count;
    verify_result result;
} verify_explain;
dt_status verify_engine_explain(const verify_engine *e, size_t i, verify_explain *out,
                                dt_err *err);
void verify_explain_release(verify_explain *x);

/* Sources that made claims, in order of id, with their reliability over
 * every claim judged (after a run). */
size_t verify_engine_source_count(const verify_engine *e);
const char *verify_engine_source_id(const verify_engine *e, size_t i);
size_t verify_engine_source_claims(const verify_engine *e, size_t i);
/* Reliability of source i counting claims judged at or before as_of
 * (INT64_MAX: all). A claim counts from the instant it was judged at, with
 * its verdict of that instant (docs/verdicts.md). DT_ENOMEM. */
dt_status verify_engine_source_reliability(const verify_engine *e, size_t i, int64_t as_of,
                                           verify_reliability *out, dt_err *err);
/* The newest instant any claim was judged at (0 with no claims). */
int64_t verify_engine_latest(const verify_engine *e);
/* The last instant of the UTC calendar month `back` months before the one
 * holding t (back 0: t's own month), in seconds. */
int64_t verify_month_end(int64_t t, unsigned back);

#endif
