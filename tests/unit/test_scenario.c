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
    int rc = hn_scenario_load_buffer("t.yaml", text, strlen(text), NULL, &s, err, sizeof err);
    if (rc)
        fprintf(stderr, "unexpected error: %s\n", err);
    assert_int_equal(rc, 0);
    return s;
}

static void expect_error(const char *text, const char *want)
{
    struct hn_scenario *s = NULL;
    char err[512] = "";
    int rc = hn_scenario_load_buffer("t.yaml", text, strlen(text), NULL, &s, err, sizeof err);
    if (rc == 0 || !strstr(err, want)) {
        fprintf(stderr, "want error containing: %s\ngot (rc %d): %s\n", want, rc, err);
        fail();
    }
    assert_null(s);
    /* the first line names this mistake (others in the same text follow, one line each) */
    const char *nl = strchr(err, '\n');
    if (nl && !memmem(err, (size_t)(nl - err), want, strlen(want))) {
        fprintf(stderr, "the first line does not say %s:\n%s\n", want, err);
        fail();
    }
}

static void test_every_mistake_is_reported(void **state)
{
    (void)state;
    const char *text = "host: http://127.0.0.1:1\n"
                       "users:\n"
                       "  - name: A\n"
                       "    tasks:\n"
                       "      - steps: [{http: {url: /a, metod: GET}}]\n"
                       "      - steps: [{http: {url: nope}}, {http: {url: /ok}}]\n"
                       "  - name: B\n"
                       "    wait: {between: [3, 1]}\n"
                       "    tasks: [{steps: [{htp: {url: /b}}]}]\n"
                       "  - name: C\n"
                       "    tasks: [{steps: [{http: {url: /c}}]}]\n";
    struct hn_scenario *s = NULL;
    char err[2048] = "";
    assert_int_equal(hn_scenario_load_buffer("t.yaml", text, strlen(text), NULL, &s, err,
                                             sizeof err),
                     HN_EINVAL);
    assert_null(s);
    const char *want[] = {"t.yaml:5:34: users[0].tasks[0].steps[0].http: unknown key 'metod'",
                          "t.yaml:6:30: users[0].tasks[1].steps[0].http.url: must start with",
                          "t.yaml:8:21: users[1].wait.between: max (1) is below min (3)",
                          "t.yaml:9:23: users[1].tasks[0].steps[0]: unknown key 'htp'"};
    size_t lines = 1;
    for (const char *p = err; (p = strchr(p, '\n')); p++)
        lines++;
    for (size_t i = 0; i < 4; i++)
        if (!strstr(err, want[i])) {
            fprintf(stderr, "missing '%s' in:\n%s\n", want[i], err);
            fail();
        }
    assert_int_equal(lines, 4);

    /* a task without a name takes its first step's */
    const char *ok = "host: http://127.0.0.1:1\n"
                     "users: [{name: A, tasks: [{steps: [{http: {url: /x, name: first}}]},"
                     " {steps: [{http: {url: /y?z=1}}]}]}]\n";
    assert_int_equal(hn_scenario_load_buffer("t.yaml", ok, strlen(ok), NULL, &s, err, sizeof err),
                     0);
    assert_string_equal(s->classes[0].tasks[0].name, "first");
    assert_string_equal(s->classes[0].tasks[1].name, "/y");
    hn_scenario_destroy(&s);
}

static void test_default_scenario(void **state)
{
    (void)state;
    struct hn_scenario *s = NULL;
    char err[512];
    int rc = hn_scenario_load_file(SRC_DIR "/scenarios/aiaas.yaml", NULL, &s, err, sizeof err);
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
    assert_non_null(strstr(chat->body->text, "\"message\":\"{{message}}\""));
    assert_true(chat->is_dynamic);
    const struct hn_http_step *kpi = &s->classes[0].tasks[3].steps[0].http;
    assert_string_equal(kpi->name, "/analytics/kpi"); /* query stripped from the row name */
    assert_string_equal(kpi->url->text, "/analytics/kpi?tenant_id={{tenant}}");
    assert_int_equal(s->classes[0].on_start.n_steps, 1);
    assert_int_equal(s->classes[0].n_captures, 2); /* token, conversation_id */
    assert_int_equal(s->classes[0].tasks[1].steps[0].kind, HN_STEP_WS); /* the seed's chat */
    assert_int_equal(s->classes[0].tasks[1].steps[0].ws.n_subs, 5);
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
    assert_string_equal(h->body->text, "{\"n\":1,\"f\":1.5,\"b\":true,\"z\":null,\"s\":\"1\",\"l\":[1,\"two\"]}");
    assert_true(h->body->is_static);
    assert_false(h->is_dynamic);
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
    expect_error("host: ftp://x\nusers: []\n", "t.yaml:1:7: host: expected a URL starting with http:// or https://");
    expect_error("host: http://127.0.0.1:99999\nusers: []\n", "t.yaml:1:7: host: port 99999 is out of range");
    expect_error("host: 'http://exa mple.com'\nusers: []\n", "t.yaml:1:7: host: the URL holds a space");
    expect_error("host: http://a\nhost: http://b\nusers: []\n",
                 "t.yaml:2:1: yaml: duplicate key 'host' (first at line 1)");
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
    expect_error(buf, "give one of body, json or form");
    snprintf(buf, sizeof buf, "%s          - grpc: {url: /a}\n", head);
    expect_error(buf, "steps[0]: unknown key 'grpc'");
    snprintf(buf, sizeof buf, "%s          - ws: {url: /a}\n", head);
    expect_error(buf, "steps[0].ws.steps: missing (send, expect, hold)");
    snprintf(buf, sizeof buf, "%s          - ws: {url: /a, steps: [{expect: {timeout: 1s}}]}\n", head);
    expect_error(buf, "steps[0].ws.steps[0].expect: say what to wait for: json, contains, or any: true");
    snprintf(buf, sizeof buf, "%s          - ws: {url: http://x/a, steps: [{hold: 1s}]}\n", head);
    expect_error(buf, "ws.url: must start with '/' or be an absolute ws:// or wss:// URL");
    snprintf(buf, sizeof buf, "%s          - ws: {url: /a, steps: [{expect: {any: true, capture: {x: {header: H}}}}]}\n", head);
    expect_error(buf, "a WebSocket message has no headers");
    snprintf(buf, sizeof buf, "%s          - http: {url: /a, timeout: -1}\n", head);
    expect_error(buf, "http.timeout: must be between 0 and 86400 seconds");
    expect_error("users:\n  - name: U\n    tasks: [{name: t, steps: [{http: {url: /}}]}]\n"
                 "  - name: U\n    tasks: [{name: t, steps: [{http: {url: /}}]}]\n",
                 "t.yaml:4:5: users[1]: user class name 'U' is used twice");
    struct hn_scenario *s;
    char err[512];
    assert_int_not_equal(hn_scenario_load_file("/nonexistent/x.yaml", NULL, &s, err, sizeof err), 0);
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
    assert_int_equal(hn_scenario_wait_ms(&c, 0, &rng), 1500);
    struct hn_wait pacing = {HN_WAIT_PACING, 2, 2};
    assert_int_equal(hn_scenario_wait_ms(&pacing, 500, &rng), 1500); /* start-to-start 2 s */
    assert_int_equal(hn_scenario_wait_ms(&pacing, 2500, &rng), 0);   /* late: no wait */
    struct hn_wait b = {HN_WAIT_BETWEEN, 1, 3};
    uint64_t lo = UINT64_MAX, hi = 0;
    double sum = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t v = hn_scenario_wait_ms(&b, 0, &rng);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sum += (double)v;
    }
    assert_true(lo >= 1000 && lo < 1010);
    assert_true(hi <= 3000 && hi > 2990);
    assert_true(sum / 10000 > 1950 && sum / 10000 < 2050);
}


static const char *fake_env(void *ctx, const char *name)
{
    (void)ctx;
    if (!strcmp(name, "TEST_BASE_URL"))
        return "http://from-env:9000";
    if (!strcmp(name, "TEST_TENANT_ID"))
        return "tenant_env";
    return NULL;
}

static char *fake_file(void *ctx, const char *name, size_t *len)
{
    (void)ctx;
    const char *text = NULL;
    if (!strcmp(name, "accounts.csv"))
        text = "user,token\r\nalice,\"t,1\"\r\nbob,t2\n\"carol \"\"c\"\"\",t3\n";
    else if (!strcmp(name, "ragged.csv"))
        text = "a,b\n1,2\n3\n";
    if (!text)
        return NULL;
    *len = strlen(text);
    return strdup(text);
}

static struct hn_scenario_io g_io = {fake_env, fake_file, NULL};

static struct hn_scenario *load_io(const char *text)
{
    struct hn_scenario *s = NULL;
    char err[512] = "";
    int rc = hn_scenario_load_buffer("t.yaml", text, strlen(text), &g_io, &s, err, sizeof err);
    if (rc)
        fprintf(stderr, "unexpected error: %s\n", err);
    assert_int_equal(rc, 0);
    return s;
}

static void expect_error_io(const char *text, const char *want)
{
    struct hn_scenario *s = NULL;
    char err[512] = "";
    int rc = hn_scenario_load_buffer("t.yaml", text, strlen(text), &g_io, &s, err, sizeof err);
    if (rc == 0 || !strstr(err, want)) {
        fprintf(stderr, "want error containing: %s\ngot (rc %d): %s\n", want, rc, err);
        fail();
    }
}

static void test_env_vars_data(void **state)
{
    (void)state;
    struct hn_scenario *s = load_io(
        "host: ${TEST_BASE_URL:-http://localhost:8000}\n"
        "vars: {tenant: [\"${TEST_TENANT_ID:-x}\", \"${MISSING:-dflt}\"], one: solo}\n"
        "data: {accounts: {csv: accounts.csv}}\n"
        "users:\n"
        "  - name: U\n"
        "    tasks:\n"
        "      - name: t\n"
        "        steps:\n"
        "          - http:\n"
        "              url: /u/{{user_id}}\n"
        "              headers: {Authorization: 'Bearer {{accounts.token}}', X-T: '{{tenant}}'}\n"
        "              query: {q: 'a b', who: '{{accounts.user}}'}\n"
        "              form: {msg: 'x&y', one: '{{one}}'}\n");
    assert_string_equal(s->host, "http://from-env:9000");
    assert_int_equal(s->n_vars, 2);
    assert_string_equal(s->vars[0].values[0], "tenant_env");
    assert_string_equal(s->vars[0].values[1], "dflt");
    assert_int_equal(s->n_env, 2); /* the values used are recorded for the workers */
    assert_int_equal(s->n_data, 1);
    assert_int_equal(s->data[0].n_rows, 3);
    assert_string_equal(s->data[0].rows[0][1], "t,1");
    assert_string_equal(s->data[0].rows[2][0], "carol \"c\"");
    assert_int_equal(s->n_files, 1);
    const struct hn_http_step *h = &s->classes[0].tasks[0].steps[0].http;
    assert_string_equal(h->url->text, "/u/{{user_id}}?q=a%20b&who={{accounts.user}}");
    assert_string_equal(h->body->text, "msg=x%26y&one={{one}}");
    assert_string_equal(h->content_type, "application/x-www-form-urlencoded");
    hn_scenario_destroy(&s);

    expect_error_io("host: ${NOPE}\nusers: []\n",
                    "t.yaml:1:7: host: environment variable NOPE is not set (write ${NOPE:-default} for a default)");
    expect_error_io("data: {a: {csv: missing.csv}}\nusers: []\n",
                    "t.yaml:1:17: data.a.csv: cannot read 'missing.csv'");
    expect_error_io("data: {a: {csv: ragged.csv}}\nusers: []\n",
                    "data.a.csv: ragged.csv: line 3: 1 fields, the header has 2");
    expect_error_io("users:\n  - name: U\n    tasks: [{name: t, steps: [{http: {url: '/{{nope}}'}}]}]\n",
                    "t.yaml:3:44: users[0].tasks[0].steps[0].http.url: unknown template variable 'nope'");
    expect_error_io("data: {accounts: {csv: accounts.csv}}\nusers:\n  - name: U\n"
                    "    tasks: [{name: t, steps: [{http: {url: '/{{accounts.pin}}'}}]}]\n",
                    "unknown template variable 'accounts.pin'");
    expect_error_io("users:\n  - name: U\n    tasks: [{name: t, steps: [{http: {url: '/{{random_int(5,1)}}'}}]}]\n",
                    "bad random_int(5,1)");
    expect_error_io("users:\n  - name: U\n    tasks: [{name: t, steps: [{http: {url: '/{{x'}}]}]\n",
                    "unclosed '{{'");
}

static void test_checks_captures_classes(void **state)
{
    (void)state;
    struct hn_scenario *s = load_io(
        "users:\n"
        "  - name: A\n"
        "    fixed_count: 2\n"
        "    wait: {throughput: 4}\n"
        "    tags: [web]\n"
        "    on_start: [{http: {method: POST, url: /login, capture: {tok: {json: $.token}, "
        "sid: {header: X-Session}}}}]\n"
        "    on_stop: [{http: {method: POST, url: /logout, headers: {Authorization: '{{tok}}'}}}]\n"
        "    sequence:\n"
        "      - {name: one, tags: [x], steps: [{http: {url: '/a/{{sid}}', check: {status: [200, 429], "
        "body_contains: ok, json: {$.a: exists, $.b: missing, \"$.c[0]\": 'v'}}}}]}\n"
        "      - {name: two, steps: [{http: {url: /b}}]}\n"
        "  - name: B\n"
        "    weight: 2\n"
        "    wait: {pacing: 1.5}\n"
        "    tasks: [{name: t, tags: [y], steps: [{http: {url: /c}}]}]\n");
    const struct hn_user_class *a = &s->classes[0];
    assert_true(a->has_fixed);
    assert_int_equal(a->fixed_count, 2);
    assert_int_equal(a->weight, 0);
    assert_int_equal(a->wait.kind, HN_WAIT_PACING);
    assert_true(a->wait.min_s == 0.25);
    assert_true(a->sequential);
    assert_int_equal(a->n_captures, 2);
    const struct hn_http_step *login = &a->on_start.steps[0].http;
    assert_int_equal(login->n_captures, 2);
    assert_int_equal(login->captures[1].kind, HN_CAPTURE_HEADER);
    assert_true(login->needs_body);
    const struct hn_http_step *one = &a->tasks[0].steps[0].http;
    assert_int_equal(one->check.n_statuses, 2);
    assert_int_equal(one->check.statuses[1], 429);
    assert_int_equal(one->check.n_json, 3);
    assert_int_equal(one->check.json[1].expect, HN_JSON_MISSING);
    assert_int_equal(one->check.json[2].expect, HN_JSON_EQUALS);
    assert_int_equal(one->url->segs[1].kind, HN_SEG_CAPTURE);
    assert_int_equal(one->url->segs[1].a, 1); /* sid */
    assert_int_equal(s->classes[1].wait.kind, HN_WAIT_PACING);

    /* tags: --tags x keeps task one of A only; B has no task left */
    hn_scenario_filter_tags(s, "x", NULL);
    assert_int_equal(s->classes[0].n_tasks, 1);
    assert_string_equal(s->classes[0].tasks[0].name, "one");
    assert_false(hn_scenario_class_active(&s->classes[1]));
    assert_int_equal(s->classes[1].weight, 0);
    hn_scenario_destroy(&s);

    s = load_io("users:\n  - name: A\n    tags: [web]\n    tasks:\n"
                "      - {name: one, tags: [slow], steps: [{http: {url: /a}}]}\n"
                "      - {name: two, steps: [{http: {url: /b}}]}\n");
    hn_scenario_filter_tags(s, "web", "slow"); /* class tag admits both, exclude drops one */
    assert_int_equal(s->classes[0].n_tasks, 1);
    assert_string_equal(s->classes[0].tasks[0].name, "two");
    assert_int_equal(s->classes[0].cum_weight[0], 1);
    hn_scenario_destroy(&s);

    expect_error_io("users:\n  - name: U\n    weight: 1\n    fixed_count: 2\n    tasks: []\n",
                    "users[0]: give weight or fixed_count, not both");
    expect_error_io("users:\n  - name: U\n    tasks: [{name: t, steps: [{http: {url: /, check: {status: 99}}}]}]\n",
                    "check.status: an HTTP status is a number from 100 to 599");
    expect_error_io("users:\n  - name: U\n    tasks: [{name: t, steps: [{http: {url: /, check: {json: {a.b: exists}}}}]}]\n",
                    "check.json: 'a.b' is not a JSONPath like $.a.b[0]");
    expect_error_io("users:\n  - name: U\n    tasks: [{name: t, steps: [{http: {url: /, capture: {x: {json: $.a, header: H}}}}]}]\n",
                    "capture.x: give exactly one of {json: $.path} or {header: Name}");
    expect_error_io("users:\n  - name: U\n    wait: {constant: 1, between: [1, 2]}\n    tasks: []\n",
                    "users[0].wait: give exactly one of constant, between, pacing or throughput");
    expect_error_io("users:\n  - name: U\n    wait: {throughput: 0}\n    tasks: []\n",
                    "users[0].wait.throughput: tasks per second must be a number above 0");
    expect_error_io("users:\n  - name: U\n    tasks: [{name: t, steps: [{http: {url: /}}]}]\n"
                    "    sequence: [{name: t, steps: [{http: {url: /}}]}]\n",
                    "give tasks (weighted) or sequence (in order), not both");
    expect_error_io("users:\n  - name: U\n    tasks: [{name: t, tags: [a b], steps: [{http: {url: /}}]}]\n",
                    "tags are words without spaces or commas");
}

/* Hostile YAML is refused quickly and in bounded memory: alias bombs, alias cycles, nesting. */
static void test_hostile_yaml(void **state)
{
    (void)state;
    const char *head = "host: http://127.0.0.1:1\nusers:\n  - name: U\n    tasks:\n      - name: t\n"
                       "        steps:\n          - http:\n              url: /\n"
                       "              method: POST\n              json:\n";
    char *buf = malloc(1 << 20);
    /* nine levels of nine aliases each: 9^9 values if expanded */
    int n = snprintf(buf, 1 << 20, "%s                a: &a [1,2,3,4,5,6,7,8,9]\n", head);
    const char *names = "abcdefghi";
    for (int i = 1; i < 9; i++)
        n += snprintf(buf + n, (size_t)(1 << 20) - (size_t)n,
                      "                %c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", names[i],
                      names[i], names[i - 1], names[i - 1], names[i - 1], names[i - 1],
                      names[i - 1], names[i - 1], names[i - 1], names[i - 1], names[i - 1]);
    expect_error(buf, "yaml: expands to more than 200000 values");
    /* 100 000 levels of flow nesting: refused at level 65, before libyaml */
    n = snprintf(buf, 1 << 20, "%s                x: ", head);
    for (int i = 0; i < 100000; i++)
        buf[n++] = '[';
    for (int i = 0; i < 100000; i++)
        buf[n++] = ']';
    buf[n] = '\0';
    expect_error(buf, "yaml: nested deeper than 64 levels");
    /* brackets inside quotes and plain scalars are not nesting */
    n = snprintf(buf, 1 << 20, "%s                x: \"", head);
    for (int i = 0; i < 1000; i++)
        buf[n++] = '[';
    n += snprintf(buf + n, 100, "\"\n                y: a[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[b\n");
    struct hn_scenario *s = load(buf);
    hn_scenario_destroy(&s);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_yaml),
        cmocka_unit_test(test_default_scenario),
        cmocka_unit_test(test_model_details),
        cmocka_unit_test(test_errors_are_pinned),
        cmocka_unit_test(test_every_mistake_is_reported),
        cmocka_unit_test(test_task_pick_follows_weights),
        cmocka_unit_test(test_wait_times),
        cmocka_unit_test(test_env_vars_data),
        cmocka_unit_test(test_checks_captures_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
