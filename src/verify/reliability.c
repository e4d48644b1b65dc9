/* Reliability of a source from the outcomes of its claims, as DESIGN.md
 * fixes it: Beta(1 + corroborated, 1 + refuted), i.e. a uniform prior on
 * "the probability that this source's next decided claim holds up", updated
 * by every claim of it that was decided. likely-benign counts as refuted
 * (the claim named a harmless value as a threat); disputed and unverified
 * are not decided and do not move the estimate.
 *
 * Shown as the posterior mean, a 90% equal-tailed credible interval (the 5%
 * and 95% quantiles), the counts, and an Admiralty letter:
 *   F  fewer than VERIFY_RELIABILITY_MIN_DECIDED (5) decided claims:
 *      "reliability cannot be judged", whatever the ratio;
 *   A  5% quantile >= 0.90  (completely reliable: at least 28 corroborated
 *      claims when none was refuted)
 *   B  5% quantile >= 0.75  (usually reliable)
 *   C  5% quantile >= 0.50  (fairly reliable)
 *   D  mean >= 0.25         (not usually reliable)
 *   E  otherwise            (unreliable)
 * The good letters are judged on the lower bound, so they are earned by
 * evidence, not by a lucky streak of three.
 *
 * The regularised incomplete beta function I_x(a, b) is evaluated by its
 * continued fraction (modified Lentz), on the side of the mean where it
 * converges fast, with the symmetry I_x(a,b) = 1 - I_{1-x}(b,a); log-gamma
 * by the Stirling series after shifting the argument above 10 (lgamma()
 * sets a global, signgam, and is not thread-safe everywhere). The inverse
 * is bisection on [0, 1] (I_x is monotone in x): 60 halvings leave an
 * error below 1e-15, plenty for figures shown to two decimals. */
#include "verify/verify.h"

#include <math.h>
#include <string.h>

static double log_gamma(double x)
{
    double shift = 0.0, x2, s;
    while (x < 10.0) {
        shift += log(x);
        x += 1.0;
    }
    x2 = 1.0 / (x * x);
    s = (x - 0.5) * log(x) - x + 0.91893853320467274178 /* ln sqrt(2 pi) */ +
        (1.0 / 12.0 - x2 * (1.0 / 360.0 - x2 * (1.0 / 1260.0 - x2 / 1680.0))) / x;
    return s - shift;
}

/* Continued fraction for I_x(a, b) (without the prefactor). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-15;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0), h;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    h = d;
    for (int m = 1; m <= 300; m++) {
        double m2 = 2.0 * m, num, delta;
        /* even step */
        num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + num * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1.0 + num / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        h *= d * c;
        /* odd step */
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + num * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1.0 + num / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        delta = d * c;
        h *= delta;
        if (fabs(delta - 1.0) < eps)
            break;
    }
    return h;
}

double verify_beta_inc(double a, double b, double x)
{
    double front;
    if (!(a > 0) || !(b > 0) || isnan(x))
        return NAN;
    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;
    front = exp(log_gamma(a + b) - log_gamma(a) - log_gamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1.0) / (a + b + 2.0))
        return front * beta_cf(a, b, x) / a;
    return 1.0 - front * beta_cf(b, a, 1.0 - x) / b;
}

double verify_beta_quantile(double a, double b, double p)
{
    double lo = 0.0, hi = 1.0;
    if (!(a > 0) || !(b > 0) || isnan(p) || p < 0.0 || p > 1.0)
        return NAN;
    if (p == 0.0)
        return 0.0;
    if (p == 1.0)
        return 1.0;
    for (int i = 0; i < 64; i++) {
        double mid = 0.5 * (lo + hi);
        if (verify_beta_inc(a, b, mid) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

char verify_reliability_letter(const verify_reliability *r)
{
    if (r->corroborated + r->refuted < VERIFY_RELIABILITY_MIN_DECIDED)
        return 'F';
    if (r->lo >= 0.90)
        return 'A';
    if (r->lo >= 0.75)
        return 'B';
    if (r->lo >= 0.50)
        return 'C';
    if (r->mean >= 0.25)
        return 'D';
    return 'E';
}

void verify_reliability_compute(const verify_outcome *o, size_t count, int64_t as_of,
                                verify_reliability *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < count; i++) {
        if (o[i].time > as_of)
            continue;
        switch (o[i].verdict) {
        case VERIFY_CORROBORATED: out->corroborated++; break;
        case VERIFY_REFUTED:
        case VERIFY_LIKELY_BENIGN: out->refuted++; break;
        case VERIFY_DISPUTED: out->disputed++; break;
        case VERIFY_UNVERIFIED: out->unverified++; break;
        }
    }
    out->alpha = 1.0 + out->corroborated;
    out->beta = 1.0 + out->refuted;
    out->mean = out->alpha / (out->alpha + out->beta);
    out->lo = verify_beta_quantile(out->alpha, out->beta, 0.05);
    out->hi = verify_beta_quantile(out->alpha, out->beta, 0.95);
    out->letter = verify_reliability_letter(out);
}
