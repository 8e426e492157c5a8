/* The capacity search's steps with a fake clock and fake step stats: step up on a pass, stop
 * at the first failing step or past max, every step's figures kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/capacity.h"

/* One step's stats: n requests of latency_ms each (n / 10 of them failed if failing). */
static void fill(struct hn_stats *s, uint64_t n, uint64_t latency_ms, int failing)
{
    struct hn_stats w;
    hn_stats_init(&w);
    hn_stats_reset(s);
    struct hn_stats_entry *e = hn_stats_entry(&w, "GET", "/x");
    for (uint64_t i = 0; i < n; i++)
        hn_stats_record(e, latency_ms * 1000, 10, 1, failing && i % 10 == 0);
    hn_stats_merge(s, &w);
    hn_stats_fini(&w);
}

static struct hn_threshold th(const char *expr)
{
    struct hn_threshold t = {0};
    char err[200];
    assert_int_equal(hn_threshold_parse(expr, &t, err, sizeof err), 0);
    t.row = strdup("Aggregated");
    return t;
}

static void test_steps_up_until_a_threshold_fails(void **state)
{
    (void)state;
    struct hn_capacity_plan plan = {.start = 10, .step = 10, .max = 100, .step_ms = 60000};
    struct hn_capacity c;
    struct hn_stats s;
    hn_stats_init(&s);
    struct hn_threshold t[] = {th("p(95) < 100"), th("fail_ratio < 0.05")};
    uint64_t now = 1000;
    hn_capacity_init(&c, &plan, now);
    assert_int_equal(hn_capacity_users(&c), 10);
    fill(&s, 600, 20, 0);
    assert_int_equal(hn_capacity_tick(&c, now + 59999, &s, t, 2), 0); /* not over yet */
    now += 60000;
    assert_int_equal(hn_capacity_tick(&c, now, &s, t, 2), 1);
    assert_int_equal(hn_capacity_users(&c), 20);
    fill(&s, 1200, 60, 0);
    now += 60000;
    assert_int_equal(hn_capacity_tick(&c, now, &s, t, 2), 1);
    assert_int_equal(hn_capacity_users(&c), 30);
    fill(&s, 1500, 150, 0); /* p95 over 100 ms: the search stops here */
    now += 60000;
    assert_int_equal(hn_capacity_tick(&c, now, &s, t, 2), 2);
    assert_true(c.done);
    assert_false(c.hit_max);
    assert_int_equal(c.n_steps, 3);
    assert_int_equal(hn_capacity_last_pass(&c)->users, 20);
    const struct hn_capacity_step *f = hn_capacity_first_fail(&c);
    assert_int_equal(f->users, 30);
    assert_non_null(strstr(f->failed, "Aggregated: p(95)="));
    assert_true(c.steps[0].rps == 10.0);
    assert_true(c.steps[1].p95_ms > 59 && c.steps[1].p95_ms < 61);
    assert_int_equal(hn_capacity_tick(&c, now + 60000, &s, t, 2), 0); /* over: nothing more */
    hn_capacity_fini(&c);
    for (int i = 0; i < 2; i++)
        hn_threshold_fini(&t[i]);
    hn_stats_fini(&s);
}

static void test_max_and_failures_and_empty_steps(void **state)
{
    (void)state;
    struct hn_capacity_plan plan = {.start = 5, .step = 5, .max = 12, .step_ms = 1000};
    struct hn_capacity c;
    struct hn_stats s;
    hn_stats_init(&s);
    struct hn_threshold t[] = {th("p(95) < 100"), th("fail_ratio < 0.05")};
    hn_capacity_init(&c, &plan, 0);
    fill(&s, 10, 1, 0);
    assert_int_equal(hn_capacity_tick(&c, 1000, &s, t, 2), 1);
    fill(&s, 10, 1, 0);
    /* 10 + 5 > max 12: every step passed, the search is over at its max */
    assert_int_equal(hn_capacity_tick(&c, 2000, &s, t, 2), 2);
    assert_true(c.hit_max);
    assert_null(hn_capacity_first_fail(&c));
    assert_int_equal(hn_capacity_last_pass(&c)->users, 10);
    hn_capacity_fini(&c);

    hn_capacity_init(&c, &plan, 0);
    fill(&s, 100, 1, 1); /* 10 % failed */
    assert_int_equal(hn_capacity_tick(&c, 1000, &s, t, 2), 2);
    assert_null(hn_capacity_last_pass(&c));
    assert_non_null(strstr(hn_capacity_first_fail(&c)->failed, "fail_ratio=0.1"));
    hn_capacity_fini(&c);

    hn_capacity_init(&c, &plan, 0);
    hn_stats_reset(&s); /* nothing completed in the step: not a pass */
    assert_int_equal(hn_capacity_tick(&c, 1000, &s, t, 2), 2);
    assert_non_null(strstr(c.steps[0].failed, "no request"));
    hn_capacity_fini(&c);
    for (int i = 0; i < 2; i++)
        hn_threshold_fini(&t[i]);
    hn_stats_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_up_until_a_threshold_fails),
        cmocka_unit_test(test_max_and_failures_and_empty_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
