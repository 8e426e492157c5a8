/* Flags: Locust's names, durations, and one-line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/options.h"
#include "common/util.h"

static int parse(struct hn_options *o, char *err, int argc, char **argv)
{
    hn_options_defaults(o);
    return hn_options_parse(o, argc, argv, err, 256);
}

static void test_locust_flags(void **state)
{
    (void)state;
    char *argv[] = {"hornet", "-f", "s.yaml", "-H", "http://h:1", "-u", "20", "-r", "2.5",
                    "-t", "1h30m", "--headless", "--master", "--expect-workers", "3",
                    "--csv", "out/run", "--csv-full-history", "--loglevel", "warning",
                    "--exit-code-on-error", "7", "--master-bind-port", "6000"};
    struct hn_options o;
    char err[256];
    assert_int_equal(parse(&o, err, sizeof argv / sizeof argv[0], argv), 0);
    assert_string_equal(o.scenario_path, "s.yaml");
    assert_string_equal(o.host, "http://h:1");
    assert_int_equal(o.users, 20);
    assert_true(o.spawn_rate == 2.5);
    assert_int_equal(o.run_time_ms, 5400000);
    assert_int_equal(o.mode, HN_MODE_MASTER);
    assert_int_equal(o.expect_workers, 3);
    assert_string_equal(o.csv_prefix, "out/run");
    assert_true(o.csv_full_history);
    assert_int_equal(o.exit_code_on_error, 7);
    assert_int_equal(o.master_bind_port, 6000);

    char *argv2[] = {"hornet", "--locustfile=x.yaml", "--host=https://a", "--users=5",
                     "--worker", "--master-host", "10.0.0.1", "--master-port", "5558"};
    assert_int_equal(parse(&o, err, 9, argv2), 0);
    assert_string_equal(o.scenario_path, "x.yaml");
    assert_int_equal(o.mode, HN_MODE_WORKER);
    assert_int_equal(o.master_port, 5558);

    /* Locust's other forms: -s, space-separated -T/-E lists, positional class names, -i,
     * --processes -1 and 0, and the flags accepted for what hornet always does */
    char *argv3[] = {"hornet", "-s", "5", "-T", "a", "b", "-E", "c", "d", "e", "-u", "3",
                     "NormalUser", "--processes", "-1", "-i", "40", "--reset-stats",
                     "--print-stats", "--skip-log-setup", "--enable-rebalancing",
                     "--equal-weights", "--show-task-ratio-json", "--logfile", "h.log",
                     "HighLoadUser"};
    assert_int_equal(parse(&o, err, sizeof argv3 / sizeof argv3[0], argv3), 0);
    assert_int_equal(o.stop_timeout_ms, 5000);
    assert_string_equal(o.tags, "a,b");
    assert_string_equal(o.exclude_tags, "c,d,e");
    assert_int_equal(o.users, 3);
    assert_int_equal(o.n_class_filter, 2);
    assert_string_equal(o.class_filter[0], "NormalUser");
    assert_string_equal(o.class_filter[1], "HighLoadUser");
    assert_true(o.processes >= 1);
    assert_int_equal(o.iterations, 40);
    assert_true(o.reset_stats && o.print_stats && o.equal_weights && o.show_task_ratio_json);
    assert_string_equal(o.logfile, "h.log");
    char *argv4[] = {"hornet", "--processes", "0", "--tags", "x"};
    assert_int_equal(parse(&o, err, 5, argv4), 0);
    assert_int_equal(o.processes, 1);
    assert_string_equal(o.tags, "x");
    char *argv5[] = {"hornet", "--tags=x", "Reader", "-Ey", "Writer"};
    assert_int_equal(parse(&o, err, 5, argv5), 0);
    assert_string_equal(o.tags, "x");
    assert_string_equal(o.exclude_tags, "y");
    assert_int_equal(o.n_class_filter, 2);
}

/* A fake environment: NAME=VALUE strings. */
static const char *fake_get(void *ctx, const char *name)
{
    for (const char *const *e = ctx; *e; e++) {
        size_t n = strlen(name);
        if (!strncmp(*e, name, n) && (*e)[n] == '=')
            return *e + n + 1;
    }
    return NULL;
}

static void test_precedence(void **state)
{
    (void)state;
    struct hn_options o;
    char err[512];
    hn_options_defaults(&o);
    const char *home = "users = 3\nrun-time = 1m\nspawn_rate: 2\n";
    const char *local = "# the team's defaults\n[hornet]\nusers = 4\ncsv = \"out/run\"\n"
                        "headless = true\ntags = [a, b]\nexpect-workers = 2\n";
    assert_int_equal(hn_options_apply_config(&o, "/h/.hornet.conf", home, strlen(home), err,
                                             sizeof err),
                     0);
    assert_int_equal(hn_options_apply_config(&o, "hornet.conf", local, strlen(local), err,
                                             sizeof err),
                     0);
    assert_int_equal(o.users, 4);            /* ./hornet.conf over ~/.hornet.conf */
    assert_int_equal(o.run_time_ms, 60000);  /* only in ~/.hornet.conf */
    assert_true(o.spawn_rate == 2);
    assert_string_equal(o.csv_prefix, "out/run");
    assert_true(o.headless);
    assert_string_equal(o.tags, "a,b");
    const char *env[] = {"K6_VUS=9",          "K6_DURATION=2m",    "LOCUST_USERS=7",
                         "LOCUST_MODE_MASTER=true", "LOCUST_MASTER_NODE_PORT=6001",
                         "HORNET_EXPECT_WORKERS=5", "LOCUST_EXPECT_WORKERS=3",
                         "HORNET_STOP_TIMEOUT=", NULL};
    assert_int_equal(hn_options_apply_env(&o, fake_get, env, err, sizeof err), 0);
    assert_int_equal(o.users, 7);           /* Locust's name over k6's and the files */
    assert_int_equal(o.run_time_ms, 120000); /* k6's over the files */
    assert_int_equal(o.mode, HN_MODE_MASTER);
    assert_int_equal(o.master_port, 6001);
    assert_int_equal(o.expect_workers, 5);  /* HORNET_ over LOCUST_ */
    assert_int_equal(o.stop_timeout_ms, 10000); /* empty is unset */
    char *argv[] = {"hornet", "-u", "11", "--worker"};
    assert_int_equal(hn_options_parse(&o, 4, argv, err, sizeof err), 0);
    assert_int_equal(o.users, 11);          /* the command line over everything */
    assert_int_equal(o.mode, HN_MODE_WORKER);
    assert_int_equal(o.run_time_ms, 120000);
    hn_options_fini(&o);

    /* mistakes name the file and line, or the variable */
    hn_options_defaults(&o);
    const char *typo = "users = 1\nusres = 5\n";
    assert_int_equal(hn_options_apply_config(&o, "hornet.conf", typo, strlen(typo), err,
                                             sizeof err),
                     HN_EXIT_USAGE);
    assert_string_equal(err, "hornet: hornet.conf:2: unknown option 'usres' (did you mean "
                             "'users'?)");
    const char *badval = "\n\nrun-time = soon\n";
    assert_int_equal(hn_options_apply_config(&o, "c.conf", badval, strlen(badval), err,
                                             sizeof err),
                     HN_EXIT_USAGE);
    assert_string_equal(err, "hornet: c.conf:3: run-time: --run-time: expected a duration such "
                             "as 30s, 500ms, 5m or 1h30m, got 'soon'");
    const char *nokey = "just words\n";
    assert_int_equal(hn_options_apply_config(&o, "c.conf", nokey, strlen(nokey), err,
                                             sizeof err),
                     HN_EXIT_USAGE);
    assert_string_equal(err, "hornet: c.conf:1: expected 'option = value' (e.g. users = 100)");
    const char *env2[] = {"LOCUST_USERS=lots", NULL};
    assert_int_equal(hn_options_apply_env(&o, fake_get, env2, err, sizeof err), HN_EXIT_USAGE);
    assert_string_equal(err, "hornet: LOCUST_USERS: --users: expected a whole number from 0 to "
                             "10000000, got 'lots'");
    const char *env3[] = {"HORNET_HEADLESS=maybe", NULL};
    assert_int_equal(hn_options_apply_env(&o, fake_get, env3, err, sizeof err), HN_EXIT_USAGE);
    assert_string_equal(err, "hornet: HORNET_HEADLESS: expected true or false, got 'maybe'");
    hn_options_fini(&o);
    char *argv2[] = {"hornet", "-u", "1", "--config", "team.conf"};
    assert_string_equal(hn_options_config_arg(5, argv2), "team.conf");
}

static void expect_usage(int argc, char **argv, const char *want)
{
    struct hn_options o;
    char err[256] = "";
    assert_int_equal(parse(&o, err, argc, argv), HN_EXIT_USAGE);
    if (!strstr(err, want)) {
        fprintf(stderr, "want '%s', got '%s'\n", want, err);
        fail();
    }
}

static void test_bad_flags(void **state)
{
    (void)state;
    char *a1[] = {"hornet", "--bogus"};
    expect_usage(2, a1, "hornet: unknown flag '--bogus' (see hornet --help)");
    char *a2[] = {"hornet", "-u", "many"};
    expect_usage(3, a2, "hornet: -u: expected a whole number from 0 to 10000000, got 'many'");
    char *a3[] = {"hornet", "-t", "10 minutes"};
    expect_usage(3, a3, "hornet: -t: expected a duration");
    char *a4[] = {"hornet", "--master", "--worker"};
    expect_usage(3, a4, "--master and --worker exclude each other");
    char *a5[] = {"hornet", "-H", "localhost:8000"};
    expect_usage(3, a5, "expected a URL starting with http://");
    char *a6[] = {"hornet", "-r", "0"};
    expect_usage(3, a6, "-r: expected a rate above 0");
    char *a7[] = {"hornet", "--users"};
    expect_usage(2, a7, "--users needs a value");
    char *a8[] = {"hornet", "a=b"};
    expect_usage(2, a8, "unexpected argument 'a=b'");
    /* malformed hosts are refused whole at the flag */
    char *h1[] = {"hornet", "-H", "http://"};
    expect_usage(3, h1, "hornet: -H: the URL has no host, got 'http://'");
    char *h2[] = {"hornet", "-H", "http://exa mple.com"};
    expect_usage(3, h2, "-H: the URL holds a space or control character at offset 10");
    char *h3[] = {"hornet", "-H", "http://127.0.0.1:99999"};
    expect_usage(3, h3, "-H: port 99999 is out of range (1 to 65535)");
    char *h4[] = {"hornet", "-H", "http://[::1"};
    expect_usage(3, h4, "-H: the IPv6 address has no closing ']'");
    char *h5[] = {"hornet", "-H", "http://host:"};
    expect_usage(3, h5, "-H: the port is empty");
    /* a value never swallows the next flag; empty paths are refused */
    char *v1[] = {"hornet", "--json", "--headless"};
    expect_usage(3, v1, "hornet: --json needs a value, got the flag '--headless'");
    char *v2[] = {"hornet", "--csv", ""};
    expect_usage(3, v2, "hornet: --csv: expected a path, got an empty value");
    char *v3[] = {"hornet", "-t", "1s1s1s"};
    expect_usage(3, v3, "hornet: -t: expected a duration");
}

static void test_urls(void **state)
{
    (void)state;
    char why[160];
    assert_int_equal(hn_url_check("http://127.0.0.1:8000", why, sizeof why), 0);
    assert_int_equal(hn_url_check("https://api.example.com/v1?x=1", why, sizeof why), 0);
    assert_int_equal(hn_url_check("http://[::1]:8000/", why, sizeof why), 0);
    assert_int_equal(hn_url_check("http://localhost", why, sizeof why), 0);
    assert_int_not_equal(hn_url_check("http://:80", why, sizeof why), 0);
    assert_int_not_equal(hn_url_check("http://h:0", why, sizeof why), 0);
    assert_int_not_equal(hn_url_check("http://h:12x", why, sizeof why), 0);
    assert_int_not_equal(hn_url_check("http://[::1]x", why, sizeof why), 0);
    assert_int_not_equal(hn_url_check("http://u:p@h", why, sizeof why), 0);
    assert_int_not_equal(hn_url_check("http://h/\x01", why, sizeof why), 0);
}

static void test_durations(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(hn_parse_duration_ms("30", &ms), 0);
    assert_int_equal(ms, 30000);
    assert_int_equal(hn_parse_duration_ms("30s", &ms), 0);
    assert_int_equal(ms, 30000);
    assert_int_equal(hn_parse_duration_ms("5m", &ms), 0);
    assert_int_equal(ms, 300000);
    assert_int_equal(hn_parse_duration_ms("2h5m10s", &ms), 0);
    assert_int_equal(ms, 7510000);
    assert_int_equal(hn_parse_duration_ms("250ms", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_not_equal(hn_parse_duration_ms("1h30", &ms), 0);
    assert_int_not_equal(hn_parse_duration_ms("", &ms), 0);
    assert_int_not_equal(hn_parse_duration_ms("5d", &ms), 0);
    assert_int_not_equal(hn_parse_duration_ms("-5s", &ms), 0);
    /* each unit once, largest first: "1s1s1s" is not 3 s */
    assert_int_not_equal(hn_parse_duration_ms("1s1s1s", &ms), 0);
    assert_int_not_equal(hn_parse_duration_ms("30m1h", &ms), 0);
    assert_int_not_equal(hn_parse_duration_ms("1m1m", &ms), 0);
    assert_int_equal(hn_parse_duration_ms("1m500ms", &ms), 0);
    assert_int_equal(ms, 60500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locust_flags),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
