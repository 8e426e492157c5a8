/* The Prometheus exposition: names, labels escaped, buckets from the histogram, the row cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/metrics.h"

static char *render(const struct hn_metrics_in *in)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    hn_metrics_write(f, in);
    fclose(f);
    return buf;
}

static void test_rows_buckets_and_escaping(void **state)
{
    (void)state;
    struct hn_stats s;
    hn_stats_init(&s);
    struct hn_stats_entry *e = hn_stats_entry(&s, "GET", "/a \"quoted\"\\path\n");
    uint64_t lat[] = {800, 3000, 3000, 40000, 2000000};
    for (size_t i = 0; i < 5; i++) {
        hn_hist_record(&e->hist, lat[i]);
        hn_hist_record(&s.total.hist, lat[i]);
    }
    e->n_requests = s.total.n_requests = 5;
    e->n_failures = s.total.n_failures = 1;
    struct hn_peer peers[2];
    memset(peers, 0, sizeof peers);
    snprintf(peers[0].id, sizeof peers[0].id, "host_1_a");
    peers[0].state = HN_PEER_RUNNING;
    peers[0].cpu_percent = 42.5;
    peers[0].rss_bytes = 1234;
    snprintf(peers[1].id, sizeof peers[1].id, "host_2_b");
    peers[1].state = HN_PEER_GONE;
    struct hn_metrics_in in = {.run_id = "r1", .stats = &s, .rps = 2.5, .users = 3,
                               .target_users = 4, .peers = peers, .n_peers = 2, .running = 1};
    char *out = render(&in);
    const char *want[] = {
        "hornet_requests_total{run_id=\"r1\",type=\"GET\",name=\"/a \\\"quoted\\\"\\\\path\\n\"} 5\n",
        "hornet_failures_total{run_id=\"r1\",type=\"\",name=\"Aggregated\"} 1\n",
        "hornet_response_time_seconds_bucket{run_id=\"r1\",type=\"\",name=\"Aggregated\",le=\"0.001\"} 1\n",
        "hornet_response_time_seconds_bucket{run_id=\"r1\",type=\"\",name=\"Aggregated\",le=\"0.005\"} 3\n",
        "hornet_response_time_seconds_bucket{run_id=\"r1\",type=\"\",name=\"Aggregated\",le=\"0.05\"} 4\n",
        "hornet_response_time_seconds_bucket{run_id=\"r1\",type=\"\",name=\"Aggregated\",le=\"2.5\"} 5\n",
        "hornet_response_time_seconds_bucket{run_id=\"r1\",type=\"\",name=\"Aggregated\",le=\"+Inf\"} 5\n",
        "hornet_response_time_seconds_count{run_id=\"r1\",type=\"\",name=\"Aggregated\"} 5\n",
        "# TYPE hornet_response_time_seconds histogram\n",
        "hornet_workers{run_id=\"r1\",state=\"running\"} 1\n",
        "hornet_workers{run_id=\"r1\",state=\"gone\"} 1\n",
        "hornet_worker_cpu_percent{run_id=\"r1\",worker=\"host_1_a\"} 42.5\n",
        "hornet_users{run_id=\"r1\"} 3\n",
        "hornet_rows_over_cap{run_id=\"r1\"} 0\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(out, want[i])) {
            fprintf(stderr, "missing: %s", want[i]);
            fail();
        }
    free(out);
    hn_stats_fini(&s);
}

static void test_rows_are_capped(void **state)
{
    (void)state;
    struct hn_stats s;
    hn_stats_init(&s);
    for (int i = 0; i < HN_METRICS_MAX_ROWS + 100; i++) {
        char name[32];
        snprintf(name, sizeof name, "/item/%05d", i);
        struct hn_stats_entry *e = hn_stats_entry(&s, "GET", name);
        e->n_requests = 2;
        s.total.n_requests += 2;
    }
    struct hn_metrics_in in = {.run_id = "r", .stats = &s};
    char *out = render(&in);
    size_t series = 0;
    for (const char *p = out; (p = strstr(p, "hornet_requests_total{")); p++)
        series++;
    assert_int_equal(series, HN_METRICS_MAX_ROWS + 2); /* the cap, (other rows), Aggregated */
    assert_non_null(strstr(out, "name=\"(other rows)\"} 200\n"));
    assert_non_null(strstr(out, "hornet_rows_over_cap{run_id=\"r\"} 100\n"));
    free(out);
    hn_stats_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_buckets_and_escaping),
        cmocka_unit_test(test_rows_are_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
