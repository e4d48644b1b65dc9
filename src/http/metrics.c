/* Server metrics in the Prometheus text format (version 0.0.4): requests by
 * status code, objects ingested and rejected, and a request latency
 * histogram. Counters are process-wide relaxed atomics: every request
 * bumps a few of them, no lock is taken on the request path, and a scrape
 * reads a slightly inconsistent but monotonic snapshot, as Prometheus
 * expects of counters. */
#include "http/http.h"

#include <stdatomic.h>

static const double bucket_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                   0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define BUCKETS (sizeof bucket_le / sizeof bucket_le[0])

static atomic_ullong by_status[600];
static atomic_ullong latency_bucket[BUCKETS];
static atomic_ullong latency_count;
static atomic_ullong latency_sum_us;
static atomic_ullong ingested, rejected;

void http_metrics_request(int status, double seconds)
{
    if (status >= 100 && status < 600)
        atomic_fetch_add_explicit(&by_status[status], 1, memory_order_relaxed);
    for (size_t i = 0; i < BUCKETS; i++)
        if (seconds <= bucket_le[i]) {
            atomic_fetch_add_explicit(&latency_bucket[i], 1, memory_order_relaxed);
            break;
        }
    atomic_fetch_add_explicit(&latency_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_sum_us, (unsigned long long)(seconds * 1e6),
                              memory_order_relaxed);
}

void http_metrics_ingest(size_t added, size_t rej)
{
    atomic_fetch_add_explicit(&ingested, added, memory_order_relaxed);
    atomic_fetch_add_explicit(&rejected, rej, memory_order_relaxed);
}

dt_status http_metrics_write(dt_buf *out, dt_err *err)
{
    unsigned long long cumulative = 0;
    dt_status rc = dt_buf_puts(out,
                               "# HELP detente_http_requests_total HTTP requests by status code.\n"
                               "# TYPE detente_http_requests_total counter\n",
                               err);
    for (int s = 100; rc == DT_OK && s < 600; s++) {
        unsigned long long v = atomic_load_explicit(&by_status[s], memory_order_relaxed);
        if (v)
            rc = dt_buf_printf(out, err, "detente_http_requests_total{code=\"%d\"} %llu\n", s, v);
    }
    if (rc == DT_OK)
        rc = dt_buf_printf(out, err,
                           "# HELP detente_ingest_objects_total Objects received over TAXII by "
                           "outcome.\n"
                           "# TYPE detente_ingest_objects_total counter\n"
                           "detente_ingest_objects_total{outcome=\"added\"} %llu\n"
                           "detente_ingest_objects_total{outcome=\"rejected\"} %llu\n",
                           (unsigned long long)atomic_load(&ingested),
                           (unsigned long long)atomic_load(&rejected));
    if (rc == DT_OK)
        rc = dt_buf_puts(out,
                         "# HELP detente_http_request_duration_seconds Time to answer a request.\n"
                         "# TYPE detente_http_request_duration_seconds histogram\n",
                         err);
    for (size_t i = 0; rc == DT_OK && i < BUCKETS; i++) {
        cumulative += atomic_load_explicit(&latency_bucket[i], memory_order_relaxed);
        rc = dt_buf_printf(out, err,
                           "detente_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                           bucket_le[i], cumulative);
    }
    if (rc == DT_OK) {
        unsigned long long count = atomic_load(&latency_count);
        rc = dt_buf_printf(out, err,
                           "detente_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                           "detente_http_request_duration_seconds_sum %.6f\n"
                           "detente_http_request_duration_seconds_count %llu\n",
                           count < cumulative ? cumulative : count,
                           (double)atomic_load(&latency_sum_us) / 1e6,
                           count < cumulative ? cumulative : count);
    }
    return rc;
}
