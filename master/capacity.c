#include "master/capacity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void hn_capacity_init(struct hn_capacity *c, const struct hn_capacity_plan *plan,
                      uint64_t now_ms)
{
    memset(c, 0, sizeof *c);
    c->plan = *plan;
    c->step_start_ms = now_ms;
    c->steps = hn_calloc(1, sizeof *c->steps);
    c->n_steps = 1;
    c->steps[0].users = plan->start;
    c->steps[0].rate_mode = plan->rate_mode;
}

void hn_capacity_fini(struct hn_capacity *c)
{
    free(c->steps);
    memset(c, 0, sizeof *c);
}

uint64_t hn_capacity_users(const struct hn_capacity *c)
{
    return c->steps[c->n_steps - 1].users;
}

/* The step's figures, and its verdict: every threshold holds on the step's own stats (a row
 * the step never saw is not judged). */
static void judge(struct hn_capacity_step *s, double dur, const struct hn_stats *st,
                  const struct hn_threshold *t, size_t n_t)
{
    const struct hn_stats_entry *e = &st->total;
    s->duration_s = dur;
    s->requests = e->n_requests;
    s->failures = e->n_failures;
    s->rps = dur > 0 ? (double)e->n_requests / dur : 0;
    s->fail_ratio = e->n_requests ? (double)e->n_failures / (double)e->n_requests : 0;
    s->p50_ms = (double)hn_hist_percentile(&e->hist, 0.50) / 1000.0;
    s->p95_ms = (double)hn_hist_percentile(&e->hist, 0.95) / 1000.0;
    s->p99_ms = (double)hn_hist_percentile(&e->hist, 0.99) / 1000.0;
    struct hn_th_verdict *v = hn_calloc(n_t ? n_t : 1, sizeof *v);
    hn_thresholds_eval(t, n_t, st, dur, st->dropped_iterations, 0, 0, v);
    s->passed = e->n_requests > 0;
    if (!e->n_requests)
        snprintf(s->failed, sizeof s->failed, "no request completed in the step");
    for (size_t i = 0; i < n_t && s->passed; i++) {
        if (v[i].seen && !v[i].ok) {
            char d[300];
            hn_threshold_describe(&t[i], &v[i], d, sizeof d);
            snprintf(s->failed, sizeof s->failed, "%s: %s", t[i].row, d);
            s->passed = 0;
        }
    }
    free(v);
}

int hn_capacity_tick(struct hn_capacity *c, uint64_t now_ms, const struct hn_stats *step,
                     const struct hn_threshold *t, size_t n_t)
{
    if (c->done || (int64_t)(now_ms - c->step_start_ms) < c->plan.step_ms)
        return 0;
    struct hn_capacity_step *s = &c->steps[c->n_steps - 1];
    judge(s, (double)(now_ms - c->step_start_ms) / 1000.0, step, t, n_t);
    uint64_t next = s->users + c->plan.step;
    if (!s->passed || next > c->plan.max) {
        c->done = 1;
        c->hit_max = s->passed;
        return 2;
    }
    c->steps = hn_realloc(c->steps, (c->n_steps + 1) * sizeof *c->steps);
    memset(&c->steps[c->n_steps], 0, sizeof *c->steps);
    c->steps[c->n_steps].rate_mode = c->plan.rate_mode;
    c->steps[c->n_steps++].users = next;
    c->step_start_ms = now_ms;
    return 1;
}

const struct hn_capacity_step *hn_capacity_last_pass(const struct hn_capacity *c)
{
    for (size_t i = c->n_steps; i-- > 0;)
        if (c->steps[i].passed)
            return &c->steps[i];
    return NULL;
}

const struct hn_capacity_step *hn_capacity_first_fail(const struct hn_capacity *c)
{
    for (size_t i = 0; i < c->n_steps; i++)
        if (!c->steps[i].passed && c->steps[i].duration_s > 0)
            return &c->steps[i];
    return NULL;
}
