/* The verdict rule: from a claim and its evidence to one of unverified,
 * corroborated, disputed, refuted or likely-benign, with a score and the
 * part each evidence item played. The same text is in docs/verdicts.md.
 *
 * The rule is pure and deterministic: no clock (now is an argument), the
 * evidence is put in a canonical order by content before anything is
 * chosen, and weights are summed as integers of 1e-6, so the same inputs
 * give the same verdict on every node, in any input order.
 *
 * 1. Weights decay with age: w = 2^(-age / half_life), age = now - time of
 *    the evidence, half-life 90 days for sightings, 180 days for opinions,
 *    none for warninglist hits and technical defects (they are re-checked,
 *    not remembered). Evidence dated after now is ignored. When the claim
 *    is past its valid_until, or revoked, every weight is multiplied by 0.5:
 *    what is seen of an expired claim says less about the claim as made.
 *    Revocation is not itself evidence that a claim was wrong (sources
 *    revoke retired infrastructure and superseded versions too), so it
 *    neither refutes nor counts against the source's reliability.
 * 2. Independence is by source identity, and the claim's own source never
 *    corroborates itself: its sightings and agreeing opinions are ignored.
 *    (Its disagreeing opinion does count against: a source doubting its own
 *    claim cannot be self-serving.)
 * 3. Per source: its sightings count as one observer, by the strongest
 *    sighting, w × c(count) with c(n) = min(1, 0.5 + 0.25·log10 n) (seen
 *    once 0.5, ten times 0.75, a hundred times 1); its opinions count once,
 *    by the newest (on a tie in time, the least agreeing): strongly-agree
 *    +1, agree +0.5, neutral 0, disagree -0.5, strongly-disagree -1, times w.
 *    A source's support (strongest sighting + agreement) is capped at 1, its
 *    disagreement is at most 1. support and against are the sums over
 *    sources; score = support - against.
 * 4. The verdict, first rule that applies:
 *    a. a fatal technical defect (a hash of the wrong length or alphabet, a
 *       defanged or malformed value, valid_until before valid_from): REFUTED,
 *       whatever else: the claim cannot match anything as written, so
 *       sightings of it must be matching mistakes;
 *    b. a warninglist hit, unless support >= 2 (which needs two independent
 *       sources at full weight): LIKELY-BENIGN. A list wins over one
 *       sighting because lists hold what everybody sees (top sites, public
 *       resolvers, cloud ranges): a sighting of google.com is expected, not
 *       corroboration. Two independent parties vouching for the specific
 *       claim win over the list, because lists are broad (a cloud address
 *       or a shared host can be an attacker's) and the rule then goes on
 *       with c-g, the hit being noted;
 *    c. support >= 1 and against >= 1: DISPUTED;
 *    d. support >= 1: CORROBORATED;
 *    e. against >= 2: REFUTED (two independent strong disagreements, say);
 *    f. against >= 1: DISPUTED (challenged, and nobody supports it);
 *    g. otherwise UNVERIFIED.
 *    Non-fatal defects (a private or documentation address, expiry) and
 *    neutral opinions are recorded with weight 0.
 *
 * How this relates to MISP's decaying model: MISP scores an indicator
 * itself, base_score × (1 - (t/τ)^(1/δ)), from a base score set by tags
 * and reaching 0 at a lifetime τ, a sighting restarting t. Here the
 * indicator has no score of its own: each piece of evidence about it
 * decays (exponentially, never quite to 0, so old evidence still counts a
 * little and a half-life is easy to reason about), and a fresh sighting
 * adds fresh weight, which plays the part of MISP's restart. */
#include "verify/verify.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNIT 1000000LL /* weights are summed in millionths */

void verify_params_default(verify_params *p)
{
    p->sighting_half_life_days = 90;
    p->opinion_half_life_days = 180;
    p->warninglist_half_life_days = 0;
    p->expired_factor = 0.5;
    p->support_threshold = 1.0;
    p->against_threshold = 1.0;
    p->refute_threshold = 2.0;
    p->benign_override = 2.0;
}

const char *verify_verdict_name(verify_verdict v)
{
    switch (v) {
    case VERIFY_UNVERIFIED: return "unverified";
    case VERIFY_CORROBORATED: return "corroborated";
    case VERIFY_DISPUTED: return "disputed";
    case VERIFY_REFUTED: return "refuted";
    case VERIFY_LIKELY_BENIGN: return "likely-benign";
    }
    return "unknown";
}

bool verify_opinion_parse(const char *s, verify_opinion *out)
{
    static const struct { const char *name; verify_opinion v; } ops[] = {
        {"strongly-disagree", VERIFY_OP_STRONGLY_DISAGREE}, {"disagree", VERIFY_OP_DISAGREE},
        {"neutral", VERIFY_OP_NEUTRAL}, {"agree", VERIFY_OP_AGREE},
        {"strongly-agree", VERIFY_OP_STRONGLY_AGREE},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (s != NULL && strcmp(s, ops[i].name) == 0) {
            *out = ops[i].v;
            return true;
        }
    return false;
}

static int64_t to_units(double w)
{
    return (int64_t)llround(w * (double)UNIT);
}

static double decay(int64_t age, double half_life_days)
{
    if (half_life_days <= 0 || age <= 0)
        return 1.0;
    return exp2(-(double)age / (half_life_days * 86400.0));
}

static double count_factor(uint32_t n)
{
    double c;
    if (n <= 1)
        return 0.5;
    c = 0.5 + 0.25 * log10((double)n);
    return c > 1.0 ? 1.0 : c;
}

/* Canonical order: by content only, so the input order cannot matter.
 * Within a source, newest first; on a tie, the least agreeing opinion. */
typedef struct sort_ctx_item {
    const verify_evidence *e;
    size_t index;
} sort_item;

static int cmp_ev(const void *pa, const void *pb)
{
    const verify_evidence *a = ((const sort_item *)pa)->e, *b = ((const sort_item *)pb)->e;
    int c = strncmp(a->source, b->source, sizeof a->source);
    if (c != 0)
        return c;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    if (a->time != b->time)
        return a->time > b->time ? -1 : 1;
    if (a->opinion != b->opinion)
        return a->opinion < b->opinion ? -1 : 1;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    if (a->is_fatal != b->is_fatal)
        return a->is_fatal ? -1 : 1;
    c = strncmp(a->kind, b->kind, sizeof a->kind);
    if (c != 0)
        return c;
    c = strncmp(a->message, b->message, sizeof a->message);
    if (c != 0)
        return c;
    /* identical content: equal contributions, the index only makes qsort's
     * output well defined for the `counted` bookkeeping */
    return ((const sort_item *)pa)->index < ((const sort_item *)pb)->index ? -1 : 1;
}

static void mark(verify_counted *c, verify_use use, double w, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void mark(verify_counted *c, verify_use use, double w, const char *fmt, ...)
{
    va_list ap;
    c->use = use;
    c->weight = w;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
}

static bool same_source(const char *a, const char *b)
{
    return b != NULL && strncmp(a, b, VERIFY_ID_LEN) == 0;
}

void verify_result_release(verify_result *r)
{
    if (r == NULL)
        return;
    dt_free(r->counted);
    r->counted = NULL;
    r->counted_count = 0;
}

dt_status verify_verdict_compute(const verify_claim *claim, const verify_evidence *ev, size_t count,
                                 int64_t now, const verify_params *p, verify_result *out,
                                 dt_err *err)
{
    verify_params defaults;
    sort_item *order = NULL;
    verify_counted *counted = NULL;
    int64_t support = 0, against = 0, benign = 0;
    const verify_evidence *fatal = NULL; /* the first in canonical order */
    size_t sources = 0;
    double factor = 1.0;

    memset(out, 0, sizeof *out);
    if (claim == NULL || (ev == NULL && count > 0))
        return dt_fail(err, DT_EARG, "verdict", "no claim or no evidence array");
    if (p == NULL) {
        verify_params_default(&defaults);
        p = &defaults;
    }
    if (count > 0) {
        order = dt_malloc(count * sizeof *order);
        counted = dt_calloc(count, sizeof *counted);
        if (order == NULL || counted == NULL) {
            dt_free(order);
            dt_free(counted);
            return dt_fail(err, DT_ENOMEM, "verdict", "out of memory for %zu evidence items", count);
        }
    }
    for (size_t i = 0; i < count; i++) {
        order[i].e = &ev[i];
        order[i].index = i;
        counted[i].index = i;
    }
    if (count > 1)
        qsort(order, count, sizeof *order, cmp_ev);
    if ((claim->valid_until != 0 && claim->valid_until <= now) || claim->is_revoked)
        factor = p->expired_factor;

    /* one pass per source group (the order keeps a source's items together) */
    for (size_t g = 0; g < count;) {
        size_t end = g;
        const char *src = order[g].e->source;
        bool self = same_source(src, claim->source);
        int64_t best_sight = 0, agree = 0, disagree = 0;
        size_t best_at = (size_t)-1;
        bool have_opinion = false;
        while (end < count && strncmp(order[end].e->source, src, VERIFY_ID_LEN) == 0)
            end++;
        for (size_t k = g; k < end; k++) {
            const verify_evidence *e = order[k].e;
            verify_counted *c = &counted[order[k].index];
            double w;
            if (e->time > now) {
                mark(c, VERIFY_USE_IGNORED_FUTURE, 0, "dated after now: not yet evidence");
                continue;
            }
            switch (e->cls) {
            case VERIFY_EV_WARNINGLIST:
                w = decay(now - e->time, p->warninglist_half_life_days);
                if (to_units(w) > benign)
                    benign = to_units(w);
                mark(c, VERIFY_USE_BENIGN, w, "on a known-benign list: %.80s", e->message);
                break;
            case VERIFY_EV_DEFECT:
                if (e->is_fatal) {
                    if (fatal == NULL)
                        fatal = e;
                    mark(c, VERIFY_USE_FATAL, 1, "%s: the claim cannot be true as written", e->kind);
                } else {
                    mark(c, VERIFY_USE_NOTE, 0, "%s: recorded, weighs nothing", e->kind);
                }
                break;
            case VERIFY_EV_SIGHTING:
                if (self) {
                    mark(c, VERIFY_USE_IGNORED_SELF, 0, "sighting by the claim's own source");
                    break;
                }
                w = decay(now - e->time, p->sighting_half_life_days) * count_factor(e->count) * factor;
                if (to_units(w) > best_sight) {
                    if (best_at != (size_t)-1)
                        mark(&counted[best_at], VERIFY_USE_IGNORED_SUPERSEDED, 0,
                             "the same source has a stronger sighting");
                    best_sight = to_units(w);
                    best_at = order[k].index;
                    mark(c, VERIFY_USE_SUPPORT, w, "independent sighting, %lld days old, count %u",
                         (long long)((now - e->time) / 86400), e->count);
                } else {
                    mark(c, VERIFY_USE_IGNORED_SUPERSEDED, 0,
                         "the same source has a stronger sighting");
                }
                break;
            case VERIFY_EV_OPINION:
                if (have_opinion) {
                    mark(c, VERIFY_USE_IGNORED_SUPERSEDED, 0,
                         "an older opinion of a source that gave a newer one");
                    break;
                }
                have_opinion = true; /* the first in canonical order is the newest */
                w = decay(now - e->time, p->opinion_half_life_days) * factor *
                    fabs((double)e->opinion) / 2.0;
                if (e->opinion > 0 && self) {
                    mark(c, VERIFY_USE_IGNORED_SELF, 0, "agreement of the claim's own source");
                } else if (e->opinion > 0) {
                    agree = to_units(w);
                    mark(c, VERIFY_USE_SUPPORT, w, "independent agreement, %lld days old",
                         (long long)((now - e->time) / 86400));
                } else if (e->opinion < 0) {
                    disagree = to_units(w);
                    mark(c, VERIFY_USE_AGAINST, w, "%s, %lld days old",
                         self ? "disagreement of the claim's own source" : "independent disagreement",
                         (long long)((now - e->time) / 86400));
                } else {
                    mark(c, VERIFY_USE_NOTE, 0, "neutral opinion");
                }
                break;
            default:
                mark(c, VERIFY_USE_NOTE, 0, "unknown evidence class");
                break;
            }
        }
        if (best_sight + agree > 0) {
            int64_t s = best_sight + agree;
            support += s > UNIT ? UNIT : s;
            sources++;
        }
        against += disagree > UNIT ? UNIT : disagree;
        g = end;
    }
    dt_free(order);

    out->counted = counted;
    out->counted_count = count;
    out->support = (double)support / UNIT;
    out->against = (double)against / UNIT;
    out->benign = (double)benign / UNIT;
    out->score = (double)(support - against) / UNIT;
    out->independent_sources = sources;

    if (fatal != NULL) {
        out->verdict = VERIFY_REFUTED;
        snprintf(out->reason, sizeof out->reason, "a technical defect makes it impossible: %.80s",
                 fatal->message);
        return DT_OK;
    }
    if (benign > 0 && support < to_units(p->benign_override)) {
        out->verdict = VERIFY_LIKELY_BENIGN;
        snprintf(out->reason, sizeof out->reason,
                 "on a known-benign list; independent support %.2f is below %.2f to outweigh it",
                 out->support, p->benign_override);
        return DT_OK;
    }
    if (support >= to_units(p->support_threshold) && against >= to_units(p->against_threshold)) {
        out->verdict = VERIFY_DISPUTED;
        snprintf(out->reason, sizeof out->reason, "independent support %.2f and disagreement %.2f",
                 out->support, out->against);
    } else if (support >= to_units(p->support_threshold)) {
        out->verdict = VERIFY_CORROBORATED;
        snprintf(out->reason, sizeof out->reason,
                 "independent support %.2f from %zu source(s)%s", out->support, sources,
                 benign > 0 ? ", outweighing a known-benign list" : "");
    } else if (against >= to_units(p->refute_threshold)) {
        out->verdict = VERIFY_REFUTED;
        snprintf(out->reason, sizeof out->reason,
                 "independent disagreement %.2f with too little support (%.2f)", out->against,
                 out->support);
    } else if (against >= to_units(p->against_threshold)) {
        out->verdict = VERIFY_DISPUTED;
        snprintf(out->reason, sizeof out->reason,
                 "challenged (disagreement %.2f) and not supported (%.2f)", out->against,
                 out->support);
    } else {
        out->verdict = VERIFY_UNVERIFIED;
        snprintf(out->reason, sizeof out->reason,
                 "not enough independent evidence (support %.2f, disagreement %.2f)", out->support,
                 out->against);
    }
    return DT_OK;
}
