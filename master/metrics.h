/* Prometheus's text exposition of a run (GET /metrics): request and failure counters per row,
 * response times as a histogram with fixed buckets (seconds, from the exact histogram, so
 * histogram_quantile works across workers and runs), and gauges for users, workers by state,
 * requests per second, dropped iterations, thresholds and each worker's CPU and RSS. Every series
 * has a run_id label. Pure: a snapshot in, text out. */
#ifndef HN_METRICS_H
#define HN_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "common/stats.h"
#include "common/threshold.h"
#include "master/cluster.h"

/* Rows beyond this many get one series together (name="(other rows)"), counted in
 * hornet_rows_over_cap: a scenario with 10 000 distinct names does not make 10 000 x 20 series. */
#define HN_METRICS_MAX_ROWS 500

struct hn_metrics_in {
    const char *run_id;
    const struct hn_stats *stats;
    double rps;                /* Aggregated's current requests per second */
    uint64_t users;            /* running now */
    uint64_t target_users;
    const struct hn_peer *peers;
    size_t n_peers;
    const struct hn_threshold *ths; /* thresholds and their verdicts as they stand */
    const struct hn_th_verdict *verdicts;
    size_t n_ths;
    int running;               /* 1 while the run goes on, 0 before and after */
};

void hn_metrics_write(FILE *f, const struct hn_metrics_in *in);
/* A label value escaped for the exposition format (\\, \", \n). */
void hn_metrics_label(FILE *f, const char *s);

#endif
