/* Thresholds: every aggregation and operator parsed, errors with their column, evaluation on
 * merged stats (a row never seen fails at the end, abort_on_fail after its delay). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/options.h"
#include "common/threshold.h"
#include "common/util.h"

static void parse_ok(const char *expr, enum hn_th_stat stat, enum hn_th_op op, double limit)
{
    struct hn_threshold t = {0};
    char err[256] = "";
    assert_int_equal(hn_threshold_parse(expr, &t, err, sizeof err), 0);
    assert_int_equal(t.stat, stat);
    assert_int_equal(t.op, op);
    assert_true(t.limit == limit);
    hn_threshold_fini(&t);
}

static void parse_bad(const char *expr, const char *want)
{
    struct hn_threshold t = {0};
    char err[256] = "";
    assert_int_equal(hn_threshold_parse(expr, &t, err, sizeof err), HN_EINVAL);
    if (!strstr(err, want))
        fail_msg("'%s': got '%s', expected '%s'", expr, err, want);
    hn_threshold_fini(&t);
}

static void test_parse_every_aggregation_and_operator(void **state)
{
    (void)state;
    parse_ok("p(95) < 1000", HN_TH_P, HN_TH_LT, 1000);
    parse_ok("  p( 99.9 )<=5", HN_TH_P, HN_TH_LE, 5);
    parse_ok("avg > 1", HN_TH_AVG, HN_TH_GT, 1);
    parse_ok("med >= 2.5", HN_TH_MED, HN_TH_GE, 2.5);
    parse_ok("min == 0", HN_TH_MIN, HN_TH_EQ, 0);
    parse_ok("max != 3", HN_TH_MAX, HN_TH_NE, 3);
    parse_ok("count > 100", HN_TH_COUNT, HN_TH_GT, 100);
    parse_ok("fails < 50", HN_TH_FAILS, HN_TH_LT, 50);
    parse_ok("fail_ratio < 0.05", HN_TH_FAIL_RATIO, HN_TH_LT, 0.05);
    parse_ok("success_ratio > 0.95", HN_TH_SUCCESS_RATIO, HN_TH_GT, 0.95);
    parse_ok("rps >= 200", HN_TH_RPS, HN_TH_GE, 200);
    parse_ok("dropped_iterations == 0", HN_TH_DROPPED, HN_TH_EQ, 0);
    struct hn_threshold t = {0};
    char err[256];
    assert_int_equal(hn_threshold_parse("p(0) < 1", &t, err, sizeof err), 0);
    assert_true(t.pct == 0);
    assert_int_equal(hn_threshold_parse("p(100) < 1", &t, err, sizeof err), 0);
    assert_true(t.pct == 100);
    hn_threshold_fini(&t);
}

static void test_parse_errors_point_at_the_place(void **state)
{
    (void)state;
    parse_bad("", "expected an aggregation");
    parse_bad("p95 < 1", "unknown aggregation (expected p(N)");
    parse_bad("p95 < 1", "at column 1");
    parse_bad("p(95 < 1", "expected ')' at column 6");
    parse_bad("p(101) < 1", "percentile from 0 to 100 at column 3");
    parse_bad("p(95) 1000", "expected an operator (< <= > >= == !=) at column 7");
    parse_bad("p(95) => 1", "expected an operator");
    parse_bad("avg <", "expected a number at column 6");
    parse_bad("avg < 10ms", "unexpected text after the number at column 9");
    parse_bad("avg < nan", "expected a number");
    parse_bad("rate < 1", "unknown aggregation");
}

static void test_cli_form(void **state)
{
    (void)state;
    struct hn_threshold t = {0};
    char err[300];
    assert_int_equal(hn_options_threshold("WS connect /ws/chat: p(95) < 1000", &t, err, sizeof err),
                     0);
    assert_string_equal(t.row, "WS connect /ws/chat");
    assert_string_equal(t.where, "--threshold");
    hn_threshold_fini(&t);
    assert_int_equal(hn_options_threshold("p(95) < 1", &t, err, sizeof err), HN_EXIT_USAGE);
    assert_non_null(strstr(err, "expected 'ROW: EXPR'"));
    assert_int_equal(hn_options_threshold("healthz: p(95) < 1", &t, err, sizeof err),
                     HN_EXIT_USAGE);
    assert_non_null(strstr(err, "expected Aggregated or TYPE NAME"));
    hn_threshold_fini(&t);
}

static struct hn_threshold th(const char *row, const char *expr, int abort_on_fail,
                              int64_t delay_ms)
{
    struct hn_threshold t = {0};
    char err[256];
    assert_int_equal(hn_threshold_parse(expr, &t, err, sizeof err), 0);
    t.row = strdup(row);
    t.abort_on_fail = abort_on_fail;
    t.delay_ms = delay_ms;
    return t;
}

static void test_evaluation_on_merged_stats(void **state)
{
    (void)state;
    struct hn_stats w, s;
    hn_stats_init(&w);
    hn_stats_init(&s);
    struct hn_stats_entry *e = hn_stats_entry(&w, "GET", "/x");
    for (int i = 1; i <= 100; i++) /* 1 ms .. 100 ms; 10 failures */
        hn_stats_record(e, (uint64_t)i * 1000, 10, 1, i <= 10);
    hn_stats_record(hn_stats_entry(&w, "WS", "session /ws"), 30000000, 0, 1, 0);
    hn_stats_merge(&s, &w);
    struct hn_threshold t[] = {
        th("GET /x", "p(95) < 97", 0, 0), /* Locust's rank floor(N*q)+1: 96 ms */
        th("GET /x", "p(50) < 52", 0, 0), /* 51 ms */
        th("Aggregated", "max < 101", 0, 0),      /* sessions are not in Aggregated */
        th("GET /x", "fail_ratio < 0.05", 0, 0),  /* 0.10: fails */
        th("GET /x", "success_ratio >= 0.9", 0, 0),
        th("GET /x", "rps == 10", 0, 0),          /* 100 over 10 s */
        th("GET /x", "avg > 50", 0, 0),           /* 50.5 */
        th("GET /x", "fails == 10", 0, 0),
        th("POST /never", "count > 0", 1, 0),     /* no data */
        th("GET /x", "min >= 1", 0, 0),
    };
    size_t n = sizeof t / sizeof t[0];
    struct hn_th_verdict v[10];
    int abort_at = hn_thresholds_eval(t, n, &s, 10.0, 0, 5000, 0, v);
    assert_int_equal(abort_at, -1); /* the only abort_on_fail one has no data yet */
    int want_ok[] = {1, 1, 1, 0, 1, 1, 1, 1, 0, 1};
    for (size_t i = 0; i < n; i++)
        if (v[i].ok != want_ok[i])
            fail_msg("threshold %zu (%s on %s): ok=%d observed %g", i, t[i].expr, t[i].row,
                     v[i].ok, v[i].observed);
    assert_false(v[8].seen);
    assert_true(v[3].observed > 0.099 && v[3].observed < 0.101);
    char d[200];
    hn_threshold_describe(&t[3], &v[3], d, sizeof d);
    assert_string_equal(d, "fail_ratio=0.1 < 0.05");
    hn_threshold_describe(&t[8], &v[8], d, sizeof d);
    assert_non_null(strstr(d, "no data"));
    for (size_t i = 0; i < n; i++)
        hn_threshold_fini(&t[i]);
    hn_stats_fini(&w);
    hn_stats_fini(&s);
}

static void test_abort_after_delay(void **state)
{
    (void)state;
    struct hn_stats w, s;
    hn_stats_init(&w);
    hn_stats_init(&s);
    hn_stats_record(hn_stats_entry(&w, "GET", "/x"), 500000, 10, 1, 0);
    hn_stats_merge(&s, &w);
    struct hn_threshold t[] = {th("GET /x", "p(95) < 100", 1, 30000),
                               th("Aggregated", "p(95) < 100", 1, 0)};
    struct hn_th_verdict v[2];
    /* both fail; the first is still in its delay, the second aborts */
    assert_int_equal(hn_thresholds_eval(t, 2, &s, 1, 0, 10000, 0, v), 1);
    t[1].abort_on_fail = 0;
    assert_int_equal(hn_thresholds_eval(t, 2, &s, 1, 0, 10000, 0, v), -1);
    assert_int_equal(hn_thresholds_eval(t, 2, &s, 1, 0, 30000, 0, v), 0);
    assert_int_equal(hn_thresholds_eval(t, 2, &s, 1, 0, 30000, 1, v), -1); /* not at the end */
    for (size_t i = 0; i < 2; i++)
        hn_threshold_fini(&t[i]);
    hn_stats_fini(&w);
    hn_stats_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_every_aggregation_and_operator),
        cmocka_unit_test(test_parse_errors_point_at_the_place),
        cmocka_unit_test(test_cli_form),
        cmocka_unit_test(test_evaluation_on_merged_stats),
        cmocka_unit_test(test_abort_after_delay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
