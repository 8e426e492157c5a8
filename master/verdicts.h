/* The thresholds' verdicts as the user reads them: the console table (✓/✗ with each observed
 * value), PREFIX_thresholds.csv, and JUnit XML (--junit) so a CI system shows a failed
 * threshold as a failed test. The same rows come from the live run and from the history
 * (hornet report), so both write the same files. */
#ifndef HN_VERDICTS_H
#define HN_VERDICTS_H

#include <stddef.h>
#include <stdio.h>

#include "master/capacity.h"

struct hn_verdict_row {
    char *row, *expr;
    double observed;
    int seen;          /* the row had data */
    int ok;            /* the threshold held */
    int abort_on_fail;
};

void hn_verdicts_console(FILE *f, const struct hn_verdict_row *v, size_t n);
/* PREFIX_thresholds.csv: Row,Threshold,Observed,Result. Returns 0 or HN_EIO (errno set). */
int hn_verdicts_write_csv(const char *prefix, const struct hn_verdict_row *v, size_t n);
/* JUnit XML: one testsuite, one testcase per threshold, a <failure> with the observed value
 * for each that failed. Returns 0 or HN_EIO. */
int hn_verdicts_write_junit(const char *path, const struct hn_verdict_row *v, size_t n,
                            double duration_s);
void hn_verdicts_free(struct hn_verdict_row *v, size_t n);

/* A capacity search's answer and its steps: the console table and PREFIX_capacity.csv
 * (Users or Iterations/s,Duration,Requests,Requests/s,Failure Ratio,50%,95%,99%,Result,
 * Failed threshold). */
void hn_capacity_console(FILE *f, const struct hn_capacity_step *s, size_t n, int complete,
                         int rate_mode);
int hn_capacity_write_csv(const char *prefix, const struct hn_capacity_step *s, size_t n,
                          int rate_mode);

#endif
