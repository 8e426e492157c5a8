/* The stage schedule at any instant, boundaries included, and the --stages form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/stages.h"
#include "common/util.h"

static struct hn_stage_point at(const struct hn_stage *st, size_t n, int64_t ms)
{
    struct hn_stage_point p;
    hn_stages_at(st, n, ms, &p);
    return p;
}

static void test_step_stages(void **state)
{
    (void)state;
    /* the seed's API plan, scaled: 20 -> 100 -> 200 */
    struct hn_stage st[] = {{7000, 20, 0, 0}, {7000, 100, 5, 0}, {7000, 200, 0, 0}};
    struct hn_stage_point p = at(st, 3, 0);
    assert_int_equal(p.users, 20);
    assert_true(p.spawn_rate == 20); /* no rate: within a second */
    assert_int_equal(p.stage, 0);
    assert_false(p.done);
    p = at(st, 3, 6999);
    assert_int_equal(p.users, 20);
    p = at(st, 3, 7000); /* the boundary belongs to the next stage */
    assert_int_equal(p.users, 100);
    assert_true(p.spawn_rate == 5);
    assert_int_equal(p.stage, 1);
    p = at(st, 3, 14000);
    assert_int_equal(p.users, 200);
    assert_true(p.spawn_rate == 100);
    p = at(st, 3, 20999);
    assert_false(p.done);
    p = at(st, 3, 21000);
    assert_true(p.done);
    assert_int_equal(p.users, 200);
    assert_int_equal(hn_stages_total_ms(st, 3), 21000);
    p = at(st, 3, -5); /* before the start: the first stage */
    assert_int_equal(p.users, 20);
}

static void test_linear_ramp(void **state)
{
    (void)state;
    /* k6's ramping-vus: 10 -> 50 over 40 s, then down to 0 over 10 s */
    struct hn_stage st[] = {{10000, 10, 0, 0}, {40000, 50, 0, 1}, {10000, 0, 0, 1}};
    assert_int_equal(at(st, 3, 10000).users, 10);
    assert_int_equal(at(st, 3, 10999).users, 10); /* whole seconds: at most one change a second */
    assert_int_equal(at(st, 3, 11000).users, 11);
    assert_int_equal(at(st, 3, 30000).users, 30);
    assert_int_equal(at(st, 3, 49999).users, 49);
    assert_true(at(st, 3, 30000).spawn_rate == 1);
    assert_int_equal(at(st, 3, 50000).users, 50);
    assert_int_equal(at(st, 3, 55000).users, 25);
    assert_true(at(st, 3, 55000).spawn_rate == 5);
    assert_true(at(st, 3, 60000).done);
    assert_int_equal(at(st, 3, 60000).users, 0);
}

static void test_parse(void **state)
{
    (void)state;
    struct hn_stage *st;
    size_t n;
    char err[256];
    assert_int_equal(hn_stages_parse("7m:10,7m:50@5,30s:100~,1m:0", &st, &n, err, sizeof err), 0);
    assert_int_equal(n, 4);
    assert_int_equal(st[0].duration_ms, 420000);
    assert_int_equal(st[0].users, 10);
    assert_true(st[1].spawn_rate == 5);
    assert_true(st[2].linear);
    assert_int_equal(st[2].users, 100);
    assert_int_equal(st[3].users, 0);
    free(st);
    const char *bad[][2] = {{"", "at least one"},
                            {"7m", "expected DURATION:USERS"},
                            {"7x:10", "bad duration '7x'"},
                            {"0s:10", "bad duration"},
                            {"1m:lots", "user count"},
                            {"1m:10@0", "spawn rate above 0"},
                            {"1m:10,2m", "stage 2"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(hn_stages_parse(bad[i][0], &st, &n, err, sizeof err), HN_EXIT_USAGE);
        if (!strstr(err, bad[i][1]))
            fail_msg("'%s': got '%s'", bad[i][0], err);
        assert_null(st);
    }
}

static void test_rate_stages(void **state)
{
    (void)state;
    struct hn_rate_stage st[] = {{60000, 50, 0}, {180000, 200, 1}, {60000, 200, 0}};
    size_t i;
    int done;
    assert_true(hn_rate_stages_at(st, 3, 0, &i, &done) == 50);
    assert_true(hn_rate_stages_at(st, 3, 59999, &i, &done) == 50);
    /* linear from 50 to 200 over 180 s, once a second */
    assert_true(hn_rate_stages_at(st, 3, 60000, &i, &done) == 50);
    assert_int_equal(i, 1);
    assert_true(hn_rate_stages_at(st, 3, 150000, &i, &done) == 125);
    assert_true(hn_rate_stages_at(st, 3, 150999, &i, &done) == 125);
    assert_true(hn_rate_stages_at(st, 3, 240000, &i, &done) == 200);
    assert_false(done);
    assert_true(hn_rate_stages_at(st, 3, 300000, &i, &done) == 200);
    assert_true(done);
    assert_int_equal(hn_rate_stages_total_ms(st, 3), 300000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_stages),
        cmocka_unit_test(test_linear_ramp),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_rate_stages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
