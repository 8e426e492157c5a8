/* Thresholds, k6's pass/fail criteria on our rows: "p(95) < 1000" on "Aggregated" or on a row
 * named "TYPE NAME" (e.g. "POST /chat/messages", "WS connect /ws/chat"). Parsing and
 * evaluation are pure (no I/O, no clock: the caller passes the run's duration), so they are
 * tested in microseconds and the master evaluates them on its merged, exact histograms.
 *
 * Aggregations: p(N) (any N in [0, 100], ms), avg, med, min, max (ms), count, fails,
 * fail_ratio, success_ratio, rps (requests per second over the run), dropped_iterations.
 * Operators: < <= > >= == !=. The limit is a number. */
#ifndef HN_THRESHOLD_H
#define HN_THRESHOLD_H

#include <stddef.h>
#include <stdint.h>

#include "common/stats.h"

enum hn_th_stat {
    HN_TH_P,
    HN_TH_AVG,
    HN_TH_MED,
    HN_TH_MIN,
    HN_TH_MAX,
    HN_TH_COUNT,
    HN_TH_FAILS,
    HN_TH_FAIL_RATIO,
    HN_TH_SUCCESS_RATIO,
    HN_TH_RPS,
    HN_TH_DROPPED,
};

enum hn_th_op { HN_TH_LT, HN_TH_LE, HN_TH_GT, HN_TH_GE, HN_TH_EQ, HN_TH_NE };

struct hn_threshold {
    char *row;           /* "Aggregated" or "TYPE NAME" */
    char *expr;          /* as written */
    char *where;         /* "file:line:col" or "--threshold": for messages */
    enum hn_th_stat stat;
    double pct;          /* p(N): N */
    enum hn_th_op op;
    double limit;
    int abort_on_fail;   /* a failure ends the run early (after delay_ms into the run) */
    int64_t delay_ms;
};

/* Parses expr into t's stat, pct, op and limit. On error returns HN_EINVAL with a one-line
 * reason in err that quotes the expression and points at the place ("at column N"). */
int hn_threshold_parse(const char *expr, struct hn_threshold *t, char *err, size_t errlen);
void hn_threshold_fini(struct hn_threshold *t);

/* The row a threshold names in s (Aggregated is s->total), or NULL if it never appeared. */
const struct hn_stats_entry *hn_threshold_row(const struct hn_stats *s, const char *row);

/* The observed value of t's aggregation on row e. duration_s: the run's length so far (rps);
 * dropped: iterations dropped so far (dropped_iterations). Latencies in ms. */
double hn_threshold_value(const struct hn_threshold *t, const struct hn_stats_entry *e,
                          double duration_s, uint64_t dropped);
/* Whether value satisfies t. */
int hn_threshold_holds(const struct hn_threshold *t, double value);

/* A threshold's verdict at one evaluation. */
struct hn_th_verdict {
    int seen;        /* its row had data */
    int ok;          /* it holds (0 when the row never appeared) */
    double observed; /* the value it was judged on (0 if unseen) */
};
/* Evaluates every threshold on s. Returns the index of the first abort_on_fail threshold that
 * fails at or after its delay (elapsed_ms into the run), or -1. final: the end of the run (a
 * row never seen fails then; while running it is only not yet judged). */
int hn_thresholds_eval(const struct hn_threshold *t, size_t n, const struct hn_stats *s,
                       double duration_s, uint64_t dropped, int64_t elapsed_ms, int final,
                       struct hn_th_verdict *out);
/* "p(95) < 1000" style, with the observed value: "p(95)=812.3 < 1000". */
void hn_threshold_describe(const struct hn_threshold *t, const struct hn_th_verdict *v, char *buf,
                           size_t n);

#endif
