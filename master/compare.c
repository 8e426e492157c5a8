#include "master/compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hn_compare_defaults(struct hn_compare_limits *l)
{
    l->latency_pct = 10;
    l->latency_ms = 2;
    l->rps_drop_pct = 20;
    l->fail_pct = 1;
}

/* Noise is not a regression: a change must be beyond the tolerances and significant.
 * - A percentile is judged only with at least TAIL_SAMPLES requests beyond it in both runs
 *   (p50: 20 requests, p95: 200, p99: 1000); with fewer, one slow request moves it.
 * - A higher failure ratio counts only when a two-proportion z-test gives z >= Z_MIN (about 1
 *   chance in 740 that two runs failing at the same rate differ this much).
 * - A percentile that grew beyond the tolerances counts only when the two runs' confidence
 *   intervals for it do not overlap: distribution-free, from the ranks q -+ Z_Q * sqrt(q(1-q)/n)
 *   of each run's own histogram (the run's low end above the baseline's high end). A p50 of 25
 *   requests with a few ms of jitter moves by more than the tolerance now and then; its
 *   interval is wide, so that is not called a regression, while a run 50 ms slower is.
 * - Requests per second are judged only with at least RPS_MIN requests in each run. */
#define TAIL_SAMPLES 10.0
#define Z_Q 2.0
#define Z_MIN 3.0
#define RPS_MIN 100

int hn_compare_enough(uint64_t n, double q) { return (double)n * (1.0 - q) >= TAIL_SAMPLES - 1e-9; }

double hn_compare_z(uint64_t f1, uint64_t n1, uint64_t f2, uint64_t n2)
{
    if (!n1 || !n2)
        return 0;
    double p1 = (double)f1 / (double)n1, p2 = (double)f2 / (double)n2;
    double p = (double)(f1 + f2) / (double)(n1 + n2);
    double se = sqrt(p * (1 - p) * (1.0 / (double)n1 + 1.0 / (double)n2));
    return se > 0 ? (p2 - p1) / se : 0;
}

static double pct_ms(const struct hn_stats_entry *e, double q)
{
    return (double)hn_hist_percentile(&e->hist, q) / 1000.0;
}

/* The q percentile's confidence bound (side -1: low, +1: high) from the ranks around q. */
static double bound_ms(const struct hn_stats_entry *e, double q, int side)
{
    double n = (double)(e->hist.count ? e->hist.count : 1);
    double r = q + side * Z_Q * sqrt(q * (1 - q) / n);
    return pct_ms(e, r < 0 ? 0 : r > 1 ? 1 : r);
}

static int row(FILE *f, const struct hn_stats_entry *b, double bs, const struct hn_stats_entry *r,
               double rs, const struct hn_compare_limits *l)
{
    static const double qs[3] = {0.5, 0.95, 0.99};
    static const char *const qn[3] = {"p50", "p95", "p99"};
    int bad = 0;
    char why[256] = "";
    size_t off = 0;
    fprintf(f, "%-8s %-40.40s", r->type, r->name);
    char few[64] = "";
    size_t foff = 0;
    for (int i = 0; i < 3; i++) {
        double x = pct_ms(b, qs[i]), y = pct_ms(r, qs[i]);
        fprintf(f, " %8.1f->%-8.1f", x, y);
        if (!hn_compare_enough(b->hist.count, qs[i]) || !hn_compare_enough(r->hist.count, qs[i])) {
            foff += (size_t)snprintf(few + foff, sizeof few - foff, "%s%s", foff ? "/" : "",
                                     qn[i]);
            continue;
        }
        if (y > x * (1 + l->latency_pct / 100.0) + l->latency_ms &&
            bound_ms(r, qs[i], -1) > bound_ms(b, qs[i], +1)) {
            bad = 1;
            off += (size_t)snprintf(why + off, sizeof why - off, "%s%s +%.1f ms", off ? ", " : "",
                                    qn[i], y - x);
        }
    }
    double brps = bs > 0 ? (double)b->n_requests / bs : 0, rrps = rs > 0 ? (double)r->n_requests / rs : 0;
    fprintf(f, " %8.1f->%-8.1f", brps, rrps);
    if (brps > 0 && b->n_requests >= RPS_MIN && r->n_requests >= RPS_MIN &&
        rrps < brps * (1 - l->rps_drop_pct / 100.0) && off < sizeof why) {
        bad = 1;
        off += (size_t)snprintf(why + off, sizeof why - off, "%sreq/s -%.0f%%", off ? ", " : "",
                                100.0 * (brps - rrps) / brps);
    }
    double bf = b->n_requests ? 100.0 * (double)b->n_failures / (double)b->n_requests : 0;
    double rf = r->n_requests ? 100.0 * (double)r->n_failures / (double)r->n_requests : 0;
    fprintf(f, " %6.2f->%-6.2f", bf, rf);
    double z = hn_compare_z(b->n_failures, b->n_requests, r->n_failures, r->n_requests);
    if (rf > bf + l->fail_pct && z >= Z_MIN && off < sizeof why) {
        bad = 1;
        snprintf(why + off, sizeof why - off, "%sfailures +%.2f points (z %.1f)",
                 off ? ", " : "", rf - bf, z);
    }
    fprintf(f, "  %s%s%s", bad ? "REGRESSION" : "ok", bad ? ": " : "", bad ? why : "");
    if (foff)
        fprintf(f, " (%s: too few samples to judge)", few);
    fputc('\n', f);
    return bad;
}

int hn_compare(FILE *f, const struct hn_stats *base, double base_s, const struct hn_stats *run,
               double run_s, const struct hn_compare_limits *l)
{
    fprintf(f, "%-8s %-40s %19s %19s %19s %19s %15s  %s\n", "Type", "Name", "p50 ms", "p95 ms",
            "p99 ms", "req/s", "fail %", "verdict");
    int n = 0;
    struct hn_stats_entry **v = hn_stats_sorted(run);
    for (size_t i = 0; i < run->n_entries; i++) {
        const struct hn_stats_entry *b = hn_stats_find(base, v[i]->type, v[i]->name);
        if (!b) {
            fprintf(f, "%-8s %-40.40s  new in this run (no baseline)\n", v[i]->type, v[i]->name);
            continue;
        }
        n += row(f, b, base_s, v[i], run_s, l);
    }
    free(v);
    v = hn_stats_sorted(base);
    for (size_t i = 0; i < base->n_entries; i++)
        if (!hn_stats_find(run, v[i]->type, v[i]->name))
            fprintf(f, "%-8s %-40.40s  only in the baseline\n", v[i]->type, v[i]->name);
    free(v);
    n += row(f, &base->total, base_s, &run->total, run_s, l);
    fprintf(f, "%d regression%s\n", n, n == 1 ? "" : "s");
    fprintf(f, "(judged where significant: a percentile needs %.0f requests beyond it in both runs "
               "and confidence intervals that do not overlap, a failure rise z >= %.0f, req/s %d "
               "requests each)\n",
            TAIL_SAMPLES, Z_MIN, RPS_MIN);
    return n;
}
