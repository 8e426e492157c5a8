/* Scenario loading: the default scenario, the model, and one pinned message per mistake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/scenario.h"

static struct hn_scenario *load(const char *text)
{
    struct hn_scenario *s = NULL;
    char err[512] = "";
    int rc = hn_scenario_load_buffer("t.yaml", text, strlen(text), &s, err, sizeof err);
    if (rc)
        fprintf(stderr, "unexpected error: %s\n", err);
    assert_int_equal(rc, 0);
    return s;
}

static void expect_error(const char *text, const char *want)
{
    struct hn_scenario *s = NULL;
    char err[512] = "";
    int rc = hn_scenario_load_buffer("t.yaml", text, strlen(text), &s, err, sizeof err);
    if (rc == 0 || !strstr(err, want)) {
        fprintf(stderr, "want error containing: %s\ngot (rc %d): %s\n", want, rc, err);
        fail();
    }
    assert_null(s);
    assert_null(strchr(err, '\n')); /* one line */
}

static void test_default_scenario(void **state)
{
    (void)state;
    struct hn_scenario *s = NULL;
    char err[512];
    int rc = hn_scenario_load_file(SRC_DIR "/scenarios/aiaas.yaml", &s, err, sizeof err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(s->n_classes, 2);
    assert_string_equal(s->classes[0].name, "NormalUser");
    assert_string_equal(s->classes[1].name, "HighLoadUser");
    assert_int_equal(s->classes[0].weight, 3);
    assert_int_equal(s->classes[0].wait.kind, HN_WAIT_BETWEEN);
    const struct hn_http_step *chat = &s->classes[0].tasks[0].steps[0].http;
    assert_string_equal(chat->method, "POST");
    assert_string_equal(chat->name, "/chat/messages");
    assert_string_equal(chat->content_type, "application/json");
    assert_non_null(strstr(chat->body, "\"message\":\"Hello, I need help with my order\""));
    const struct hn_http_step *kpi = &s->classes[0].tasks[3].steps[0].http;
    assert_string_equal(kpi->name, "/analytics/kpi"); /* query stripped from the row name */
    hn_scenario_destroy(&s);
}

static void test_model_details(void **state)
{
    (void)state;
    struct hn_scenario *s = load("host: http://h:1\n"
                                 "users:\n"
                                 "  - name: U\n"
                                 "    tasks:\n"
                                 "      - name: t\n"
                                 "        steps:\n"
                                 "          - http:\n"
                                 "              method: delete\n"
                                 "              url: /x?y=1\n"
                                 "              name: custom\n"
                                 "              timeout: 250ms\n"
                                 "              headers: {Content-Type: text/plain}\n"
                                 "              json: {n: 1, f: 1.5, b: true, z: null, s: '1', "
                                 "l: [1, two]}\n");
    const struct hn_user_class *u = &s->classes[0];
    assert_int_equal(u->weight, 1);                 /* default weight */
    assert_int_equal(u->wait.kind, HN_WAIT_CONSTANT); /* default: no wait */
    assert_true(u->wait.min_s == 0);
    const struct hn_http_step *h = &u->tasks[0].steps[0].http;
    assert_string_equal(h->method, "DELETE");
    assert_string_equal(h->name, "custom");
    assert_int_equal(h->timeout_ms, 250);
    assert_null(h->content_type); /* an explicit Content-Type header wins */
    assert_string_equal(h->body, "{\"n\":1,\"f\":1.5,\"b\":true,\"z\":null,\"s\":\"1\",\"l\":[1,\"two\"]}");
    hn_scenario_destroy(&s);
}

static void test_errors_are_pinned(void **state)
{
    (void)state;
    const char *head = "users:\n  - name: U\n    tasks:\n      - name: t\n        steps:\n";
    char buf[1024];
    expect_error("", "t.yaml:1:1: scenario: the file is empty");
    expect_error("users: [\n", "t.yaml:2:1: yaml:");
    expect_error("hosts: http://x\nusers: []\n", "t.yaml:1:1: scenario: unknown key 'hosts' (did you mean 'host'?)");
    expect_error("host: ftp://x\nusers: []\n", "t.yaml:1:7: host: must start with http:// or https://");
    expect_error("users: []\n", "t.yaml:1:8: users: empty");
    expect_error("users: {a: 1}\n", "t.yaml:1:8: users: expected a list, found a mapping");
    expect_error("users:\n  - name: U\n    weight: 0\n    tasks: []\n",
                 "t.yaml:3:13: users[0].weight: must be a whole number from 1 to 1000000, got '0'");
    expect_error("users:\n  - name: U\n    wiat: {constant: 1}\n",
                 "users[0]: unknown key 'wiat' (did you mean 'wait'?)");
    expect_error("users:\n  - name: U\n    wait: {constant: soon}\n    tasks: []\n",
                 "users[0].wait.constant: bad duration 'soon'");
    expect_error("users:\n  - name: U\n    wait: {between: [3, 1]}\n    tasks: []\n",
                 "users[0].wait.between: max (1) is below min (3)");
    expect_error("users:\n  - name: U\n    tasks: []\n", "users[0].tasks: empty");
    snprintf(buf, sizeof buf, "%s          - http: {url: /a, method: FETCH}\n", head);
    expect_error(buf, "t.yaml:6:37: users[0].tasks[0].steps[0].http.method: unknown HTTP method 'FETCH'");
    snprintf(buf, sizeof buf, "%s          - http: {method: GET}\n", head);
    expect_error(buf, "users[0].tasks[0].steps[0].http.url: missing");
    snprintf(buf, sizeof buf, "%s          - http: {url: healthz}\n", head);
    expect_error(buf, "http.url: must start with '/'");
    snprintf(buf, sizeof buf, "%s          - http: {url: /a, body: x, json: {a: 1}}\n", head);
    expect_error(buf, "give either body or json, not both");
    snprintf(buf, sizeof buf, "%s          - ws: {url: /a}\n", head);
    expect_error(buf, "steps[0]: unknown key 'ws'");
    snprintf(buf, sizeof buf, "%s          - http: {url: /a, timeout: -1}\n", head);
    expect_error(buf, "http.timeout: must be between 0 and 86400 seconds");
    expect_error("users:\n  - name: U\n    tasks: [{name: t, steps: [{http: {url: /}}]}]\n"
                 "  - name: U\n    tasks: [{name: t, steps: [{http: {url: /}}]}]\n",
                 "t.yaml:4:5: users[1]: user class name 'U' is used twice");
    struct hn_scenario *s;
    char err[512];
    assert_int_not_equal(hn_scenario_load_file("/nonexistent/x.yaml", &s, err, sizeof err), 0);
    assert_string_equal(err, "/nonexistent/x.yaml: cannot open scenario file: No such file or directory");
}

static void test_task_pick_follows_weights(void **state)
{
    (void)state;
    struct hn_scenario *s = load("users:\n  - name: U\n    tasks:\n"
                                 "      - {name: a, weight: 1, steps: [{http: {url: /a}}]}\n"
                                 "      - {name: b, weight: 3, steps: [{http: {url: /b}}]}\n"
                                 "      - {name: c, weight: 6, steps: [{http: {url: /c}}]}\n");
    struct hn_rng rng;
    hn_rng_seed(&rng, 99);
    uint64_t seen[3] = {0};
    const int n = 100000;
    for (int i = 0; i < n; i++)
        seen[hn_scenario_pick_task(&s->classes[0], &rng)]++;
    const double p[3] = {0.1, 0.3, 0.6};
    double chi2 = 0;
    for (int i = 0; i < 3; i++) {
        double e = p[i] * n;
        chi2 += ((double)seen[i] - e) * ((double)seen[i] - e) / e;
    }
    /* 2 degrees of freedom: the 99.9% bound is 13.82 */
    if (chi2 > 13.82)
        fprintf(stderr, "chi-square %.2f: %llu %llu %llu\n", chi2, (unsigned long long)seen[0],
                (unsigned long long)seen[1], (unsigned long long)seen[2]);
    assert_true(chi2 <= 13.82);
    hn_scenario_destroy(&s);
}

static void test_wait_times(void **state)
{
    (void)state;
    struct hn_rng rng;
    hn_rng_seed(&rng, 5);
    struct hn_wait c = {HN_WAIT_CONSTANT, 1.5, 1.5};
    assert_int_equal(hn_scenario_wait_ms(&c, &rng), 1500);
    struct hn_wait b = {HN_WAIT_BETWEEN, 1, 3};
    uint64_t lo = UINT64_MAX, hi = 0;
    double sum = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t v = hn_scenario_wait_ms(&b, &rng);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sum += (double)v;
    }
    assert_true(lo >= 1000 && lo < 1010);
    assert_true(hi <= 3000 && hi > 2990);
    assert_true(sum / 10000 > 1950 && sum / 10000 < 2050);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_scenario),
        cmocka_unit_test(test_model_details),
        cmocka_unit_test(test_errors_are_pinned),
        cmocka_unit_test(test_task_pick_follows_weights),
        cmocka_unit_test(test_wait_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
