/* Stages: a load plan in the closed model (Locust's LoadTestShape, k6's ramping-vus). Each
 * stage holds its user count for its duration, reached at its spawn rate (without one, within
 * a second); `ramp: linear` moves the count linearly from the previous stage's instead. The
 * schedule is a pure function of the stages and the time into the run, so it is tested at any
 * instant, boundaries included. */
#ifndef HN_STAGES_H
#define HN_STAGES_H

#include <stddef.h>
#include <stdint.h>

struct hn_stage {
    int64_t duration_ms;
    uint64_t users;
    double spawn_rate; /* users per second; 0: reach the count within a second */
    int linear;        /* ramp linearly from the previous count over the stage */
};

/* --stages 7m:10,7m:50@5,1m:0 (DURATION:USERS[@RATE], comma-separated; "~" after USERS, as in
 * 7m:50~, makes the stage a linear ramp). Returns 0 or HN_EXIT_USAGE with one line in err. */
int hn_stages_parse(const char *s, struct hn_stage **out, size_t *n, char *err, size_t errlen);

/* The plan at elapsed_ms into the run: the user count and spawn rate to dispatch, the stage,
 * and whether the plan is over (elapsed past the last stage). */
struct hn_stage_point {
    uint64_t users;
    double spawn_rate;
    size_t stage;
    int done;
};
void hn_stages_at(const struct hn_stage *st, size_t n, int64_t elapsed_ms,
                  struct hn_stage_point *p);
int64_t hn_stages_total_ms(const struct hn_stage *st, size_t n);

/* Arrival-rate stages (the open model's plan, k6's ramping-arrival-rate): each holds its rate
 * (iterations per second) for its duration, or with `ramp: linear` moves linearly from the
 * previous stage's rate (the first from its own). */
struct hn_rate_stage {
    int64_t duration_ms;
    double rate;
    int linear;
};
/* The rate at elapsed_ms into the run (linear ramps change once a second); *done past the
 * last stage (its rate holds). */
double hn_rate_stages_at(const struct hn_rate_stage *st, size_t n, int64_t elapsed_ms,
                         size_t *stage, int *done);
int64_t hn_rate_stages_total_ms(const struct hn_rate_stage *st, size_t n);

#endif
