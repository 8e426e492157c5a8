/* Baseline comparison: each row of a run against the same row of a baseline run (p50, p95,
 * p99, requests/s, failure ratio) with tolerances and a significance rule (compare.c), for CI
 * gates. Pure: tables in, verdicts out. */
#ifndef HN_COMPARE_H
#define HN_COMPARE_H

#include <stdio.h>

#include "common/stats.h"

struct hn_compare_limits {
    double latency_pct;  /* a percentile may grow this much (percent) ... */
    double latency_ms;   /* ... plus this many milliseconds, before it is a regression */
    double rps_drop_pct; /* requests/s may drop this much (percent) */
    double fail_pct;     /* the failure ratio may grow this many percentage points */
};

void hn_compare_defaults(struct hn_compare_limits *l);
/* Are n requests enough to judge the q percentile (10 beyond it)? */
int hn_compare_enough(uint64_t n, double q);
/* Two-proportion z statistic of f2/n2 against f1/n1 (positive: the second fails more); 0 when
 * either run has no requests or neither failed. */
double hn_compare_z(uint64_t f1, uint64_t n1, uint64_t f2, uint64_t n2);
/* Prints one line per row and verdict; returns how many regressions were found. Rows only in
 * one run are listed (new / gone) without a verdict. */
int hn_compare(FILE *f, const struct hn_stats *base, double base_s, const struct hn_stats *run,
               double run_s, const struct hn_compare_limits *l);

#endif
