/* Capacity search: "how many users can this service take within its SLOs?" in one run. The
 * load steps up (start, start + step, ... up to max users, each step held for step_ms) and
 * each step is judged on its own stats by the run's thresholds; the search stops at the first
 * step where one fails and reports the last step that passed and the first that failed, with
 * every step's figures. A pure core: the master feeds it the time and the step's merged stats. */
#ifndef HN_CAPACITY_H
#define HN_CAPACITY_H

#include <stddef.h>
#include <stdint.h>

#include "common/scenario.h"
#include "common/stats.h"
#include "common/threshold.h"

struct hn_capacity_step {
    uint64_t users; /* the step's level: users, or iterations per second in rate mode */
    int rate_mode;
    double duration_s;
    uint64_t requests, failures;
    double rps, fail_ratio, p50_ms, p95_ms, p99_ms;
    int passed;
    char failed[400]; /* the first threshold that failed, with its observed value */
};

struct hn_capacity {
    struct hn_capacity_plan plan;
    struct hn_capacity_step *steps;
    size_t n_steps;
    uint64_t step_start_ms;
    int done;
    int hit_max; /* every step up to max passed */
};

/* The first step starts at now_ms with plan.start users. */
void hn_capacity_init(struct hn_capacity *c, const struct hn_capacity_plan *plan,
                      uint64_t now_ms);
void hn_capacity_fini(struct hn_capacity *c);
/* The users the current step runs. */
uint64_t hn_capacity_users(const struct hn_capacity *c);
/* Call as time passes with the stats merged since the current step began. When the step is
 * over it is judged and recorded: returns 1 if a new step begins (the caller resets its step
 * stats and dispatches hn_capacity_users), 2 if the search is over, 0 otherwise. */
int hn_capacity_tick(struct hn_capacity *c, uint64_t now_ms, const struct hn_stats *step,
                     const struct hn_threshold *t, size_t n_t);
/* The last step that passed and the first that failed (NULL if none). */
const struct hn_capacity_step *hn_capacity_last_pass(const struct hn_capacity *c);
const struct hn_capacity_step *hn_capacity_first_fail(const struct hn_capacity *c);

#endif
