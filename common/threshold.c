#include "common/threshold.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const struct {
    const char *name;
    enum hn_th_stat stat;
} k_stats[] = {
    {"avg", HN_TH_AVG},
    {"med", HN_TH_MED},
    {"min", HN_TH_MIN},
    {"max", HN_TH_MAX},
    {"count", HN_TH_COUNT},
    {"fails", HN_TH_FAILS},
    {"fail_ratio", HN_TH_FAIL_RATIO},
    {"success_ratio", HN_TH_SUCCESS_RATIO},
    {"rps", HN_TH_RPS},
    {"dropped_iterations", HN_TH_DROPPED},
};
static const char *const k_ops[] = {"<", "<=", ">", ">=", "==", "!="};

static int at(const char *expr, const char *p, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "'%s': %s at column %d", expr, what, (int)(p - expr) + 1);
    return HN_EINVAL;
}

static const char *skip(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A finite number; *end past it. */
static int number(const char *p, double *v, const char **end)
{
    char *e;
    if (!*p || isspace((unsigned char)*p))
        return -1;
    *v = strtod(p, &e);
    if (e == p || !isfinite(*v))
        return -1;
    *end = e;
    return 0;
}

int hn_threshold_parse(const char *expr, struct hn_threshold *t, char *err, size_t errlen)
{
    const char *p = skip(expr);
    size_t n = 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '_')
        n++;
    if (!n)
        return at(expr, p, err, errlen,
                  "expected an aggregation (p(N), avg, med, min, max, count, fails, fail_ratio, "
                  "success_ratio, rps, dropped_iterations)");
    int found = 0;
    if (n == 1 && p[0] == 'p') {
        const char *q = skip(p + 1);
        if (*q != '(')
            return at(expr, q, err, errlen, "expected '(' after p, as in p(95)");
        double pct;
        const char *e;
        if (number(skip(q + 1), &pct, &e) || pct < 0 || pct > 100)
            return at(expr, skip(q + 1), err, errlen, "expected a percentile from 0 to 100");
        e = skip(e);
        if (*e != ')')
            return at(expr, e, err, errlen, "expected ')'");
        t->stat = HN_TH_P;
        t->pct = pct;
        p = e + 1;
        found = 1;
    } else {
        for (size_t i = 0; i < sizeof k_stats / sizeof k_stats[0]; i++)
            if (strlen(k_stats[i].name) == n && !strncmp(p, k_stats[i].name, n)) {
                t->stat = k_stats[i].stat;
                found = 1;
            }
        if (!found)
            return at(expr, p, err, errlen,
                      "unknown aggregation (expected p(N), avg, med, min, max, count, fails, "
                      "fail_ratio, success_ratio, rps, dropped_iterations)");
        p += n;
    }
    p = skip(p);
    int op = -1;
    for (int i = 0; i < 6; i++) {
        size_t l = strlen(k_ops[i]);
        if (!strncmp(p, k_ops[i], l) && (op < 0 || l > strlen(k_ops[op])))
            op = i;
    }
    if (op < 0)
        return at(expr, p, err, errlen, "expected an operator (< <= > >= == !=)");
    t->op = (enum hn_th_op)op;
    p = skip(p + strlen(k_ops[op]));
    const char *e;
    if (number(p, &t->limit, &e))
        return at(expr, p, err, errlen, "expected a number");
    e = skip(e);
    if (*e)
        return at(expr, e, err, errlen, "unexpected text after the number");
    free(t->expr);
    t->expr = hn_strdup(expr);
    return 0;
}

void hn_threshold_fini(struct hn_threshold *t)
{
    free(t->row);
    free(t->expr);
    free(t->where);
    memset(t, 0, sizeof *t);
}

const struct hn_stats_entry *hn_threshold_row(const struct hn_stats *s, const char *row)
{
    if (!strcmp(row, "Aggregated"))
        return s->total.n_requests ? &s->total : NULL;
    const char *sp = strchr(row, ' ');
    if (!sp)
        return NULL;
    char type[64];
    size_t n = (size_t)(sp - row);
    if (n >= sizeof type)
        return NULL;
    memcpy(type, row, n);
    type[n] = '\0';
    const struct hn_stats_entry *e = hn_stats_find(s, type, sp + 1);
    return e && hn_stats_entry_used(e) ? e : NULL;
}

double hn_threshold_value(const struct hn_threshold *t, const struct hn_stats_entry *e,
                          double duration_s, uint64_t dropped)
{
    const struct hn_hist *h = &e->hist;
    double n = (double)e->n_requests;
    switch (t->stat) {
    case HN_TH_P: return (double)hn_hist_percentile(h, t->pct / 100.0) / 1000.0;
    case HN_TH_MED: return (double)hn_hist_percentile(h, 0.5) / 1000.0;
    case HN_TH_AVG: return h->count ? (double)h->sum_us / (double)h->count / 1000.0 : 0;
    case HN_TH_MIN: return h->count ? (double)h->min_us / 1000.0 : 0;
    case HN_TH_MAX: return (double)h->max_us / 1000.0;
    case HN_TH_COUNT: return n;
    case HN_TH_FAILS: return (double)e->n_failures;
    case HN_TH_FAIL_RATIO: return n ? (double)e->n_failures / n : 0;
    case HN_TH_SUCCESS_RATIO: return n ? 1.0 - (double)e->n_failures / n : 0;
    case HN_TH_RPS: return duration_s > 0 ? n / duration_s : 0;
    case HN_TH_DROPPED: return (double)dropped;
    }
    return 0;
}

int hn_threshold_holds(const struct hn_threshold *t, double v)
{
    switch (t->op) {
    case HN_TH_LT: return v < t->limit;
    case HN_TH_LE: return v <= t->limit;
    case HN_TH_GT: return v > t->limit;
    case HN_TH_GE: return v >= t->limit;
    case HN_TH_EQ: return v == t->limit;
    case HN_TH_NE: return v != t->limit;
    }
    return 0;
}

int hn_thresholds_eval(const struct hn_threshold *t, size_t n, const struct hn_stats *s,
                       double duration_s, uint64_t dropped, int64_t elapsed_ms, int final,
                       struct hn_th_verdict *out)
{
    int abort_at = -1;
    for (size_t i = 0; i < n; i++) {
        /* dropped_iterations is the run's, whatever the row */
        const struct hn_stats_entry *e =
            t[i].stat == HN_TH_DROPPED ? &s->total : hn_threshold_row(s, t[i].row);
        out[i].seen = e != NULL;
        out[i].observed = e ? hn_threshold_value(&t[i], e, duration_s, dropped) : 0;
        out[i].ok = e && hn_threshold_holds(&t[i], out[i].observed);
        if (!final && e && !out[i].ok && t[i].abort_on_fail && elapsed_ms >= t[i].delay_ms &&
            abort_at < 0)
            abort_at = (int)i;
    }
    return abort_at;
}

void hn_threshold_describe(const struct hn_threshold *t, const struct hn_th_verdict *v, char *buf,
                           size_t n)
{
    if (!v->seen) {
        snprintf(buf, n, "%s (no data for this row)", t->expr);
        return;
    }
    const char *p = t->expr;
    while (*p == ' ')
        p++;
    size_t agg = strcspn(p, "<>=!");
    while (agg && p[agg - 1] == ' ')
        agg--;
    const char *rest = p + agg;
    while (*rest == ' ')
        rest++;
    snprintf(buf, n, "%.*s=%.6g %s", (int)agg, p, v->observed, rest);
}
