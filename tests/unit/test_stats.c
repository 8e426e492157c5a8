/* Stats table: recording, merging worker deltas, errors, ordering, current rps, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/stats.h"

static void test_record_and_merge(void **state)
{
    (void)state;
    struct hn_stats w1, w2, master;
    hn_stats_init(&w1);
    hn_stats_init(&w2);
    hn_stats_init(&master);
    struct hn_stats_entry *a = hn_stats_entry(&w1, "GET", "/a");
    assert_ptr_equal(a, hn_stats_entry(&w1, "GET", "/a")); /* stable, no duplicate */
    assert_ptr_not_equal(a, hn_stats_entry(&w1, "POST", "/a"));
    hn_stats_record(a, 1000, 10, 100, 0);
    hn_stats_record(a, 3000, 20, 100, 1);
    hn_stats_error_add(&w1, "GET", "/a", "HTTP 500", 1);
    struct hn_stats_entry *b = hn_stats_entry(&w2, "GET", "/a");
    hn_stats_record(b, 2000, 30, 101, 0);
    hn_stats_error_add(&w2, "GET", "/a", "HTTP 500", 2);
    hn_stats_error_add(&w2, "GET", "/a", "Connection refused", 1);

    hn_stats_merge(&master, &w1);
    hn_stats_merge(&master, &w2);
    struct hn_stats_entry *m = hn_stats_find(&master, "GET", "/a");
    assert_non_null(m);
    assert_int_equal(m->n_requests, 3);
    assert_int_equal(m->n_failures, 1);
    assert_int_equal(m->content_bytes, 60);
    assert_int_equal(m->hist.min_us, 1000);
    assert_int_equal(m->hist.max_us, 3000);
    assert_int_equal(m->hist.sum_us, 6000);
    assert_int_equal(hn_persec_get(&m->reqs_per_s, 100), 2);
    assert_int_equal(hn_persec_get(&m->reqs_per_s, 101), 1);
    assert_int_equal(master.total.n_requests, 3);
    assert_int_equal(master.total.n_failures, 1);
    assert_null(hn_stats_find(&master, "POST", "/a")); /* empty entries are not merged */
    assert_int_equal(master.n_errors, 2);
    struct hn_stats_error **errs = hn_stats_errors_sorted(&master);
    assert_string_equal(errs[0]->message, "Connection refused");
    assert_int_equal(errs[1]->occurrences, 3);
    free(errs);

    /* reset keeps entries and their addresses */
    hn_stats_reset(&w1);
    assert_ptr_equal(a, hn_stats_entry(&w1, "GET", "/a"));
    assert_int_equal(a->n_requests, 0);
    assert_int_equal(a->hist.count, 0);
    hn_stats_fini(&w1);
    hn_stats_fini(&w2);
    hn_stats_fini(&master);
}

static void test_many_entries_and_sorting(void **state)
{
    (void)state;
    struct hn_stats s;
    hn_stats_init(&s);
    char name[32];
    for (int i = 999; i >= 0; i--) {
        snprintf(name, sizeof name, "/p%04d", i);
        hn_stats_record(hn_stats_entry(&s, i % 2 ? "POST" : "GET", name), 5, 0, 1, 0);
    }
    assert_int_equal(s.n_entries, 1000);
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "/p%04d", i);
        struct hn_stats_entry *e = hn_stats_find(&s, i % 2 ? "POST" : "GET", name);
        assert_non_null(e);
        assert_ptr_equal(s.entries[e->index], e);
    }
    struct hn_stats_entry **v = hn_stats_sorted(&s);
    for (size_t i = 1; i < s.n_entries; i++)
        assert_true(strcmp(v[i - 1]->name, v[i]->name) < 0);
    free(v);
    hn_stats_fini(&s);
}

static void test_current_rps_window(void **state)
{
    (void)state;
    struct hn_persec p;
    memset(&p, 0, sizeof p);
    for (int64_t t = 1000; t < 1020; t++)
        hn_persec_add(&p, t, (uint64_t)(t - 1000));
    /* now=1020: mean over [1008, 1018) = mean(8..17) = 12.5 */
    assert_true(hn_persec_current(&p, 1020, 900) == 12.5);
    /* not before the run started */
    assert_true(hn_persec_current(&p, 1020, 1016) == 16.5);
    assert_true(hn_persec_current(&p, 1001, 1000) == 0);
    /* the ring forgets old seconds instead of mixing them up */
    hn_persec_add(&p, 1000 + HN_PERSEC_SLOTS, 7);
    assert_int_equal(hn_persec_get(&p, 1000), 0);
    assert_int_equal(hn_persec_get(&p, 1000 + HN_PERSEC_SLOTS), 7);
}

/* A target that puts a counter in every error cannot grow the table without bound: past the
 * cap new messages are counted, exactly, in one row per (type, name). */
static void test_error_rows_are_capped(void **state)
{
    (void)state;
    struct hn_stats s;
    hn_stats_init(&s);
    char msg[64];
    for (int i = 0; i < HN_STATS_MAX_ERRORS + 500; i++) {
        snprintf(msg, sizeof msg, "HTTP 500 request id %d", i);
        hn_stats_error_add(&s, "GET", "/x", msg, 2);
    }
    hn_stats_error_add(&s, "GET", "/x", "HTTP 500 request id 7", 1); /* a known one still adds */
    assert_int_equal(s.n_errors, HN_STATS_MAX_ERRORS + 1);
    uint64_t total = 0, other = 0;
    for (size_t i = 0; i < s.n_errors; i++) {
        total += s.errors[i]->occurrences;
        if (!strcmp(s.errors[i]->message, HN_STATS_OTHER_ERRORS))
            other = s.errors[i]->occurrences;
    }
    assert_int_equal(total, 2 * (HN_STATS_MAX_ERRORS + 500) + 1);
    assert_int_equal(other, 2 * 500);
    hn_stats_fini(&s);
}

/* Aggregated covers requests and WebSocket connects and messages, not how long sessions were
 * held: a 30 s session must not become Aggregated's max or p99. */
static void test_sessions_stay_out_of_aggregated(void **state)
{
    (void)state;
    struct hn_stats w, m;
    hn_stats_init(&w);
    hn_stats_init(&m);
    hn_stats_record(hn_stats_entry(&w, "GET", "/x"), 2000, 10, 1, 0);
    hn_stats_record(hn_stats_entry(&w, "WS", "connect /ws/chat"), 3000, 0, 1, 0);
    hn_stats_record(hn_stats_entry(&w, "WS", "session /ws/chat"), 30000000, 0, 1, 0);
    hn_stats_merge(&m, &w);
    assert_int_equal(m.total.n_requests, 2);
    assert_int_equal(m.total.hist.max_us, 3000);
    assert_int_equal(hn_stats_find(&m, "WS", "session /ws/chat")->n_requests, 1);
    hn_stats_fini(&w);
    hn_stats_fini(&m);
}

static void test_formatting(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(hn_fmt_ms(b, sizeof b, 50000), "50");
    assert_string_equal(hn_fmt_ms(b, sizeof b, 312), "0.312");
    assert_string_equal(hn_fmt_ms(b, sizeof b, 1234500), "1234.5");
    assert_string_equal(hn_fmt_ms(b, sizeof b, 0), "0");
    assert_string_equal(hn_fmt_num(b, sizeof b, 2.0 / 3.0, 3), "0.667");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_and_merge),
        cmocka_unit_test(test_many_entries_and_sorting),
        cmocka_unit_test(test_current_rps_window),
        cmocka_unit_test(test_formatting),
        cmocka_unit_test(test_sessions_stay_out_of_aggregated),
        cmocka_unit_test(test_error_rows_are_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
