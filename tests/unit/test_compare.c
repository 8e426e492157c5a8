/* hornet compare's rule: beyond the tolerances and significant, or not a regression. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/compare.h"

static void fill(struct hn_stats *s, const char *name, uint64_t n, uint64_t fails,
                 uint64_t latency_us, uint64_t slow_every, uint64_t slow_us)
{
    struct hn_stats_entry *e = hn_stats_entry(s, "GET", name);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t us = slow_every && i % slow_every == 0 ? slow_us : latency_us + i % 7 * 100;
        hn_hist_record(&e->hist, us);
        hn_hist_record(&s->total.hist, us);
    }
    e->n_requests = n;
    e->n_failures = fails;
    s->total.n_requests += n;
    s->total.n_failures += fails;
}

static int run_compare(struct hn_stats *a, struct hn_stats *b, char *out, size_t n)
{
    struct hn_compare_limits l;
    hn_compare_defaults(&l);
    FILE *f = fmemopen(out, n, "w");
    int r = hn_compare(f, a, 10, b, 10, &l);
    fclose(f);
    return r;
}

static void test_rule_parts(void **state)
{
    (void)state;
    assert_true(hn_compare_enough(20, 0.5));
    assert_false(hn_compare_enough(19, 0.5));
    assert_true(hn_compare_enough(200, 0.95));
    assert_false(hn_compare_enough(999, 0.99));
    assert_true(hn_compare_enough(1000, 0.99));
    /* 0 of 100 then 2 of 100 failed: noise (z 1.4) */
    double z = hn_compare_z(0, 100, 2, 100);
    assert_true(z > 1.3 && z < 1.5);
    /* 0 of 10000 then 200 of 10000: z about 14 */
    assert_true(hn_compare_z(0, 10000, 200, 10000) > 10);
    assert_true(hn_compare_z(0, 0, 5, 10) == 0);
    assert_true(hn_compare_z(0, 50, 0, 50) == 0);
}

static void test_noise_is_not_a_regression(void **state)
{
    (void)state;
    char out[8192];
    struct hn_stats a, b;
    hn_stats_init(&a);
    hn_stats_init(&b);
    /* 150 requests each: one slow outlier in the second run moves its p99 by 500 ms, and 2
     * failures against none are 1.3 points: neither is significant */
    fill(&a, "/x", 150, 0, 20000, 0, 0);
    fill(&b, "/x", 150, 2, 20000, 149, 520000);
    assert_int_equal(run_compare(&a, &b, out, sizeof out), 0);
    assert_non_null(strstr(out, "p95/p99: too few samples to judge"));
    hn_stats_fini(&a);
    hn_stats_fini(&b);
}

static void test_real_change_is_a_regression(void **state)
{
    (void)state;
    char out[8192];
    struct hn_stats a, b;
    hn_stats_init(&a);
    hn_stats_init(&b);
    fill(&a, "/x", 5000, 0, 20000, 0, 0);
    fill(&b, "/x", 5000, 150, 70000, 0, 0); /* 50 ms slower, 3 % failing */
    assert_int_equal(run_compare(&a, &b, out, sizeof out), 2); /* the row and Aggregated */
    assert_non_null(strstr(out, "REGRESSION: p50 +50"));
    assert_non_null(strstr(out, "failures +3.00 points"));
    hn_stats_fini(&a);
    hn_stats_fini(&b);
}

/* 25 requests with 1-9 ms of jitter each run: a p50 2.5 ms higher (the CI run that flaked) is
 * within its confidence interval; 50 ms higher is not. */
static void jitter(struct hn_stats *s, uint64_t shift_us, uint32_t seed)
{
    struct hn_stats_entry *e = hn_stats_entry(s, "GET", "/billing/usage");
    for (int i = 0; i < 25; i++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t us = 1000 + (seed >> 8) % 8000 + shift_us;
        hn_hist_record(&e->hist, us);
        hn_hist_record(&s->total.hist, us);
    }
    e->n_requests = 25;
    s->total.n_requests += 25;
}

static void test_small_sample_percentile_interval(void **state)
{
    (void)state;
    char out[4096];
    struct hn_stats a, b, c;
    hn_stats_init(&a);
    hn_stats_init(&b);
    hn_stats_init(&c);
    jitter(&a, 0, 1);
    jitter(&b, 2500, 2);
    jitter(&c, 50000, 3);
    assert_int_equal(run_compare(&a, &b, out, sizeof out), 0);
    assert_int_equal(run_compare(&a, &c, out, sizeof out), 2); /* the row and Aggregated */
    hn_stats_fini(&a);
    hn_stats_fini(&b);
    hn_stats_fini(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_parts),
        cmocka_unit_test(test_noise_is_not_a_regression),
        cmocka_unit_test(test_real_change_is_a_regression),
        cmocka_unit_test(test_small_sample_percentile_interval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
