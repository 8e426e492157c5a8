/* Dispatch: users over classes and workers, spawn rate shares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "master/dispatch.h"

static void test_classes_follow_weights(void **state)
{
    (void)state;
    uint32_t w[2] = {3, 1};
    uint64_t c[2];
    hn_dispatch_classes(w, NULL, 2, 20, c);
    assert_int_equal(c[0], 15);
    assert_int_equal(c[1], 5);
    hn_dispatch_classes(w, NULL, 2, 1, c); /* one user goes to the heavier class */
    assert_int_equal(c[0], 1);
    assert_int_equal(c[1], 0);
    hn_dispatch_classes(w, NULL, 2, 2, c); /* users enough for each class: one of each */
    assert_int_equal(c[0], 1);
    assert_int_equal(c[1], 1);
    hn_dispatch_classes(w, NULL, 2, 3, c);
    assert_int_equal(c[0], 2);
    assert_int_equal(c[1], 1);
    uint32_t wl[3] = {10, 1, 1}; /* 3 users at 10:1:1: one each */
    uint64_t cl[3];
    hn_dispatch_classes(wl, NULL, 3, 3, cl);
    assert_int_equal(cl[0], 1);
    assert_int_equal(cl[1], 1);
    assert_int_equal(cl[2], 1);
    hn_dispatch_classes(wl, NULL, 3, 12, cl); /* 10 : 1 : 1 */
    assert_int_equal(cl[0], 10);
    assert_int_equal(cl[1], 1);
    assert_int_equal(cl[2], 1);
    uint32_t w3[3] = {1, 1, 1};
    uint64_t c3[3];
    hn_dispatch_classes(w3, NULL, 3, 100, c3);
    assert_int_equal(c3[0] + c3[1] + c3[2], 100);
    assert_int_equal(c3[0], 34); /* ties go to the earlier class */
    hn_dispatch_classes(w3, NULL, 3, 0, c3);
    assert_int_equal(c3[0] + c3[1] + c3[2], 0);
    /* fixed counts are placed first, the rest by weight */
    uint32_t wf[3] = {0, 1, 3};
    uint64_t ff[3] = {2, 0, 0}, cf[3];
    hn_dispatch_classes(wf, ff, 3, 10, cf);
    assert_int_equal(cf[0], 2);
    assert_int_equal(cf[1], 2);
    assert_int_equal(cf[2], 6);
    hn_dispatch_classes(wf, ff, 3, 1, cf); /* fewer users than the fixed count */
    assert_int_equal(cf[0], 1);
    assert_int_equal(cf[1] + cf[2], 0);
}

static void test_workers_are_even(void **state)
{
    (void)state;
    for (size_t nw = 1; nw <= 7; nw++) {
        for (uint64_t total = 0; total <= 50; total += 7) {
            uint64_t classes[3] = {total, total / 2 + 1, total / 3};
            uint64_t out[7 * 3];
            hn_dispatch_workers(classes, 3, nw, out);
            uint64_t min_t = UINT64_MAX, max_t = 0;
            for (size_t c = 0; c < 3; c++) {
                uint64_t sum = 0, lo = UINT64_MAX, hi = 0;
                for (size_t w = 0; w < nw; w++) {
                    uint64_t v = out[w * 3 + c];
                    sum += v;
                    lo = v < lo ? v : lo;
                    hi = v > hi ? v : hi;
                }
                assert_int_equal(sum, classes[c]);
                assert_true(hi - lo <= 1);
            }
            for (size_t w = 0; w < nw; w++) {
                uint64_t t = out[w * 3] + out[w * 3 + 1] + out[w * 3 + 2];
                min_t = t < min_t ? t : min_t;
                max_t = t > max_t ? t : max_t;
            }
            assert_true(max_t - min_t <= 1);
        }
    }
}

static void test_rate_shares_sum_to_rate(void **state)
{
    (void)state;
    double sum = hn_dispatch_rate(10, 11, 21, 2) + hn_dispatch_rate(10, 10, 21, 2);
    assert_true(sum > 9.999 && sum < 10.001);
    assert_true(hn_dispatch_rate(10, 0, 0, 2) == 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes_follow_weights),
        cmocka_unit_test(test_workers_are_even),
        cmocka_unit_test(test_rate_shares_sum_to_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
