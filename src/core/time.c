/* RFC 3339 timestamps as STIX 2.1 section 2.12 restricts them: always UTC
 * with a literal "Z", "T" as separator, optional sub-second digits (if the
 * point is present at least one digit follows). created/modified need at
 * least millisecond precision (section 3.2), checked by the validator with
 * dt_time_has_millis. We keep up to nanoseconds; more digits are refused
 * rather than silently rounded, since (id, modified) identifies a version. */
#include "core/core.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's method). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int digits_at(const char *s, size_t len, size_t at, size_t n, unsigned *out)
{
    unsigned v = 0;
    if (at + n > len)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[at + i] < '0' || s[at + i] > '9')
            return (int)(at + i) + 1; /* 1-based: 0 means success, also for column 1 */
        v = v * 10 + (unsigned)(s[at + i] - '0');
    }
    *out = v;
    return 0;
}

dt_status dt_time_parse(const char *s, size_t len, dt_time *out, dt_err *err)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    static const struct { size_t at, n; char sep; } fields[] = {
        {0, 4, '-'}, {5, 2, '-'}, {8, 2, 'T'}, {11, 2, ':'}, {14, 2, ':'}, {17, 2, 0},
    };
    unsigned v[6];
    size_t i;
    memset(out, 0, sizeof *out);
    for (i = 0; i < 6; i++) {
        int bad = digits_at(s, len, fields[i].at, fields[i].n, &v[i]);
        if (bad != 0)
            return dt_fail(err, DT_EPARSE, "", "not an RFC 3339 timestamp: expected a digit at column %d",
                           bad < 0 ? (int)len + 1 : bad);
        if (fields[i].sep) {
            size_t at = fields[i].at + fields[i].n;
            if (at >= len || s[at] != fields[i].sep)
                return dt_fail(err, DT_EPARSE, "",
                               "not an RFC 3339 timestamp: expected '%c' at column %zu", fields[i].sep,
                               at + 1);
        }
    }
    if (v[1] < 1 || v[1] > 12)
        return dt_fail(err, DT_EPARSE, "", "not an RFC 3339 timestamp: month %u out of range", v[1]);
    unsigned maxd = mdays[v[1] - 1] + (v[1] == 2 && is_leap(v[0]));
    if (v[2] < 1 || v[2] > maxd)
        return dt_fail(err, DT_EPARSE, "", "not an RFC 3339 timestamp: day %u out of range", v[2]);
    if (v[3] > 23 || v[4] > 59 || v[5] > 60)
        return dt_fail(err, DT_EPARSE, "", "not an RFC 3339 timestamp: time of day out of range");
    i = 19;
    uint32_t ns = 0;
    uint8_t nd = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (i - start >= 9)
                return dt_fail(err, DT_EPARSE, "",
                               "timestamp has more than 9 sub-second digits (column %zu)", i + 1);
            ns = ns * 10 + (uint32_t)(s[i] - '0');
            i++;
        }
        nd = (uint8_t)(i - start);
        if (nd == 0)
            return dt_fail(err, DT_EPARSE, "",
                           "not an RFC 3339 timestamp: a digit must follow '.' (column %zu)", i + 1);
        for (size_t k = nd; k < 9; k++)
            ns *= 10;
    }
    if (i >= len || s[i] != 'Z')
        return dt_fail(err, DT_EPARSE, "",
                       "timestamp must be UTC and end in 'Z' (column %zu)", i + 1);
    if (i + 1 != len)
        return dt_fail(err, DT_EPARSE, "", "unexpected characters after 'Z' (column %zu)", i + 2);
    if (v[5] == 60) { /* leap second: the last representable instant of :59 */
        v[5] = 59;
        ns = 999999999;
    }
    out->sec = days_from_civil(v[0], v[1], v[2]) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
    out->nsec = ns;
    out->digits = nd;
    return DT_OK;
}

bool dt_time_has_millis(const dt_time *t)
{
    return t->digits >= 3;
}

char *dt_time_format(const dt_time *t, int digits, char out[DT_TIME_LEN])
{
    int64_t days = t->sec >= 0 ? t->sec / 86400 : -((-t->sec + 86399) / 86400);
    int64_t rem = t->sec - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (digits < 0)
        digits = t->digits < 3 ? 3 : t->digits;
    if (digits > 9)
        digits = 9;
    int n = snprintf(out, DT_TIME_LEN, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
                     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    if (digits > 0) {
        char frac[16];
        snprintf(frac, sizeof frac, "%09u", t->nsec);
        snprintf(out + n, DT_TIME_LEN - (size_t)n, ".%.*sZ", digits, frac);
    } else {
        snprintf(out + n, DT_TIME_LEN - (size_t)n, "Z");
    }
    return out;
}

int dt_time_cmp(const dt_time *a, const dt_time *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    if (a->nsec != b->nsec)
        return a->nsec < b->nsec ? -1 : 1;
    return 0;
}

dt_time dt_time_now(void)
{
    struct timespec ts;
    dt_time t;
    clock_gettime(CLOCK_REALTIME, &ts);
    t.sec = ts.tv_sec;
    t.nsec = (uint32_t)(ts.tv_nsec / 1000000 * 1000000);
    t.digits = 3;
    return t;
}

int64_t dt_time_to_us(const dt_time *t)
{
    return t->sec * 1000000 + t->nsec / 1000;
}

dt_time dt_time_from_us(int64_t us)
{
    dt_time t;
    int64_t sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    t.sec = sec;
    t.nsec = (uint32_t)((us - sec * 1000000) * 1000);
    t.digits = 6;
    return t;
}

int64_t dt_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t dt_now_ms(void)
{
    return dt_now_us() / 1000;
}
