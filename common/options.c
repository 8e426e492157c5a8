#include "common/options.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "common/stages.h"
#include "common/util.h"

enum {
    OPT_HEADLESS = 256,
    OPT_MASTER,
    OPT_WORKER,
    OPT_MASTER_HOST,
    OPT_MASTER_PORT,
    OPT_MASTER_BIND_HOST,
    OPT_MASTER_BIND_PORT,
    OPT_EXPECT_WORKERS,
    OPT_EXPECT_WORKERS_MAX_WAIT,
    OPT_PROCESSES,
    OPT_CSV,
    OPT_CSV_FULL_HISTORY,
    OPT_LOGLEVEL,
    OPT_EXIT_CODE_ON_ERROR,
    OPT_ONLY_SUMMARY,
    OPT_STATS_INTERVAL,
    OPT_REQUEST_TIMEOUT,
    OPT_CONNECT_TIMEOUT,
    OPT_MASTER_CONNECT_TIMEOUT,
    OPT_HEARTBEAT_TIMEOUT,
    OPT_STOP_TIMEOUT,
    OPT_CLUSTER_SECRET,
    OPT_MASTER_KEY,
    OPT_WORKER_KEYS,
    OPT_WORKER_KEY,
    OPT_MASTER_PUBLIC_KEY,
    OPT_THRESHOLD,
    OPT_JUNIT,
    OPT_STAGES,
    OPT_TAGS,
    OPT_EXCLUDE_TAGS,
    OPT_SHOW_TASK_RATIO,
    OPT_CHECK,
    OPT_DB,
    OPT_NO_DB,
    OPT_MAX_LAT_PCT,
    OPT_MAX_LAT_MS,
    OPT_MAX_RPS_DROP,
    OPT_MAX_FAIL,
    OPT_JSON,
    OPT_HTML,
    OPT_BASELINE,
    OPT_RESET_STATS,
    OPT_PRINT_STATS,
    OPT_LOGFILE,
    OPT_EQUAL_WEIGHTS,
    OPT_SHOW_TASK_RATIO_JSON,
    OPT_ACCEPTED,
    OPT_CONFIG,
    OPT_METRICS_PORT,
    OPT_WEB_HOST,
    OPT_AUTOQUIT,
    OPT_WEB_AUTH,
    OPT_WEB_NO_AUTH,
    OPT_AUTOSTART,
    OPT_HTTP_ENGINE,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_INSECURE,
    OPT_CA_FILE,
    OPT_CLIENT_CERT,
    OPT_CLIENT_KEY,
};

static const struct option k_long[] = {
    {"scenario", required_argument, NULL, 'f'},
    {"locustfile", required_argument, NULL, 'f'},
    {"host", required_argument, NULL, 'H'},
    {"users", required_argument, NULL, 'u'},
    {"spawn-rate", required_argument, NULL, 'r'},
    {"run-time", required_argument, NULL, 't'},
    {"headless", no_argument, NULL, OPT_HEADLESS},
    {"master", no_argument, NULL, OPT_MASTER},
    {"worker", no_argument, NULL, OPT_WORKER},
    {"master-host", required_argument, NULL, OPT_MASTER_HOST},
    {"master-port", required_argument, NULL, OPT_MASTER_PORT},
    {"master-bind-host", required_argument, NULL, OPT_MASTER_BIND_HOST},
    {"master-bind-port", required_argument, NULL, OPT_MASTER_BIND_PORT},
    {"expect-workers", required_argument, NULL, OPT_EXPECT_WORKERS},
    {"expect-workers-max-wait", required_argument, NULL, OPT_EXPECT_WORKERS_MAX_WAIT},
    {"processes", required_argument, NULL, OPT_PROCESSES},
    {"csv", required_argument, NULL, OPT_CSV},
    {"csv-full-history", no_argument, NULL, OPT_CSV_FULL_HISTORY},
    {"loglevel", required_argument, NULL, 'L'},
    {"exit-code-on-error", required_argument, NULL, OPT_EXIT_CODE_ON_ERROR},
    {"only-summary", no_argument, NULL, OPT_ONLY_SUMMARY},
    {"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
    {"request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"master-connect-timeout", required_argument, NULL, OPT_MASTER_CONNECT_TIMEOUT},
    {"heartbeat-timeout", required_argument, NULL, OPT_HEARTBEAT_TIMEOUT},
    {"stop-timeout", required_argument, NULL, 's'},
    {"cluster-secret", required_argument, NULL, OPT_CLUSTER_SECRET},
    {"master-key", required_argument, NULL, OPT_MASTER_KEY},
    {"worker-keys", required_argument, NULL, OPT_WORKER_KEYS},
    {"worker-key", required_argument, NULL, OPT_WORKER_KEY},
    {"master-public-key", required_argument, NULL, OPT_MASTER_PUBLIC_KEY},
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"junit", required_argument, NULL, OPT_JUNIT},
    {"stages", required_argument, NULL, OPT_STAGES},
    {"tags", required_argument, NULL, 'T'},
    {"exclude-tags", required_argument, NULL, 'E'},
    {"list", no_argument, NULL, 'l'},
    {"show-task-ratio", no_argument, NULL, OPT_SHOW_TASK_RATIO},
    {"check", no_argument, NULL, OPT_CHECK},
    {"db", required_argument, NULL, OPT_DB},
    {"no-db", no_argument, NULL, OPT_NO_DB},
    {"json", required_argument, NULL, OPT_JSON},
    {"html", required_argument, NULL, OPT_HTML},
    {"baseline", required_argument, NULL, OPT_BASELINE},
    {"max-latency-increase", required_argument, NULL, OPT_MAX_LAT_PCT},
    {"max-latency-increase-ms", required_argument, NULL, OPT_MAX_LAT_MS},
    {"max-rps-drop", required_argument, NULL, OPT_MAX_RPS_DROP},
    {"max-fail-increase", required_argument, NULL, OPT_MAX_FAIL},
    {"reset-stats", no_argument, NULL, OPT_RESET_STATS},
    {"print-stats", no_argument, NULL, OPT_PRINT_STATS},
    {"logfile", required_argument, NULL, OPT_LOGFILE},
    {"iterations", required_argument, NULL, 'i'},
    {"equal-weights", no_argument, NULL, OPT_EQUAL_WEIGHTS},
    {"show-task-ratio-json", no_argument, NULL, OPT_SHOW_TASK_RATIO_JSON},
    /* Locust's flags for what hornet always does: accepted, nothing to change */
    {"skip-log-setup", no_argument, NULL, OPT_ACCEPTED},
    {"enable-rebalancing", no_argument, NULL, OPT_ACCEPTED},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"metrics-port", required_argument, NULL, OPT_METRICS_PORT},
    {"web-host", required_argument, NULL, OPT_WEB_HOST},
    {"autoquit", required_argument, NULL, OPT_AUTOQUIT},
    {"web-auth", required_argument, NULL, OPT_WEB_AUTH},
    {"web-no-auth", no_argument, NULL, OPT_WEB_NO_AUTH},
    {"web-port", required_argument, NULL, 'P'},
    {"autostart", no_argument, NULL, OPT_AUTOSTART},
    {"http-engine", required_argument, NULL, OPT_HTTP_ENGINE},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"client-cert", required_argument, NULL, OPT_CLIENT_CERT},
    {"client-key", required_argument, NULL, OPT_CLIENT_KEY},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void hn_options_defaults(struct hn_options *o)
{
    memset(o, 0, sizeof *o);
    o->mode = HN_MODE_LOCAL;
    o->scenario_path = "hornet.yaml";
    o->users = 1;
    o->spawn_rate = 1;
    o->master_host = "127.0.0.1";
    o->master_port = 5557;
    o->master_bind_host = "*";
    o->master_bind_port = 5557;
    o->expect_workers = 1;
    o->expect_workers_max_wait_ms = 60000;
    o->processes = 1;
    o->loglevel = HN_LOG_INFO;
    o->exit_code_on_error = 1;
    o->stats_interval_ms = 1000;
    o->request_timeout_ms = 60000;
    o->connect_timeout_ms = 10000;
    o->master_connect_timeout_ms = 60000;
    o->heartbeat_timeout_ms = 10000;
    o->stop_timeout_ms = 10000;
    o->db_path = "hornet.db";
    o->metrics_port = -1;
    o->web_port = 8089;
    o->web_host = "127.0.0.1";
    o->max_latency_pct = 10;
    o->max_latency_ms = 2;
    o->max_rps_drop_pct = 20;
    o->max_fail_points = 1;
}

static int bad(char *err, size_t errlen, const char *flag, const char *what, const char *got)
{
    snprintf(err, errlen, "hornet: %s: %s, got '%s'", flag, what, got);
    return HN_EXIT_USAGE;
}

static int count_arg(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out,
                     char *err, size_t errlen)
{
    uint64_t v;
    if (hn_parse_u64(s, &v) || v < min || v > max) {
        char what[96];
        snprintf(what, sizeof what, "expected a whole number from %llu to %llu",
                 (unsigned long long)min, (unsigned long long)max);
        return bad(err, errlen, flag, what, s);
    }
    *out = v;
    return 0;
}

static int duration_arg(const char *flag, const char *s, int64_t min_ms, int64_t *out, char *err,
                        size_t errlen)
{
    int64_t ms;
    if (hn_parse_duration_ms(s, &ms) || ms < min_ms)
        return bad(err, errlen, flag, "expected a duration such as 30s, 500ms, 5m or 1h30m", s);
    *out = ms;
    return 0;
}

/* -T a b c: joins optarg and the words after it (up to the next flag) with commas into a
 * buffer per list, moving optind past them. NULL if they do not fit. */
static const char *more_words(int which, const char *first, int argc, char **argv)
{
    static char lists[2][8192];
    char *b = lists[which];
    size_t n = (size_t)snprintf(b, sizeof lists[0], "%s", first);
    /* --tags=a and -Ta are one value, as in argparse; -T a b takes the words after it */
    int separate = optind > 0 && argv[optind - 1] == first;
    while (separate && optind < argc && argv[optind][0] != '-' && n < sizeof lists[0]) {
        n += (size_t)snprintf(b + n, sizeof lists[0] - n, ",%s", argv[optind]);
        optind++;
    }
    return n < sizeof lists[0] ? b : NULL;
}

/* The flags of one source (the command line, or one setting of a config file or the
 * environment as a small argv) into o; later sources override earlier ones. */
static int parse_flags(struct hn_options *o, int argc, char **argv, char *err, size_t errlen)
{
    uint64_t v;
    int rc = 0;
    optind = 0; /* glibc: start afresh for each argv */
    opterr = 0;
    for (;;) {
        int longidx = -1;
        int c = getopt_long(argc, argv, ":f:H:u:r:t:L:T:E:s:i:P:lVh", k_long, &longidx);
        if (c == -1)
            break;
        const char *flag = longidx >= 0 ? k_long[longidx].name : NULL;
        char shortname[4] = {'-', (char)c, 0, 0};
        char longname[64];
        if (flag) {
            snprintf(longname, sizeof longname, "--%s", flag);
            flag = longname;
        } else {
            flag = shortname;
        }
        /* an option that takes a value never swallows the next flag: "--json --headless"
         * is a missing value, not a file named --headless */
        if (optarg && c != ':' && c != '?' && !strncmp(optarg, "--", 2) && optarg[2]) {
            snprintf(err, errlen, "hornet: %s needs a value, got the flag '%s' (see hornet --help)",
                     flag, optarg);
            return HN_EXIT_USAGE;
        }
        if (optarg && !*optarg && (c == OPT_CSV || c == OPT_JSON || c == OPT_HTML || c == OPT_DB ||
                                   c == 'f' || c == OPT_CA_FILE || c == OPT_CLIENT_CERT ||
                                   c == OPT_CLIENT_KEY)) {
            snprintf(err, errlen, "hornet: %s: expected a path, got an empty value",
                     flag);
            return HN_EXIT_USAGE;
        }
        switch (c) {
        case 'f': o->scenario_path = optarg; break;
        case 'H': {
            char why[160];
            if (hn_url_check(optarg, why, sizeof why))
                return bad(err, errlen, flag, why, optarg);
            o->host = optarg;
            break;
        }
        case 'u':
            rc = count_arg(flag, optarg, 0, 10000000, &o->users, err, errlen);
            o->users_given = 1;
            break;
        case 'r':
            if (hn_parse_double(optarg, &o->spawn_rate) || o->spawn_rate <= 0 ||
                o->spawn_rate > 1e6)
                return bad(err, errlen, flag, "expected a rate above 0 (users per second)",
                           optarg);
            o->rate_given = 1;
            break;
        case 't':
            rc = duration_arg(flag, optarg, 1, &o->run_time_ms, err, errlen);
            o->run_time_given = 1;
            break;
        case 'L':
            if (hn_log_parse_level(optarg, &o->loglevel))
                return bad(err, errlen, flag, "expected DEBUG, INFO, WARNING, ERROR or CRITICAL",
                           optarg);
            break;
        case 'V': o->show_version = 1; break;
        case 'T':
        case 'E': {
            /* Locust's -T a b: the words up to the next flag are the list too */
            const char *list = more_words(c == 'T' ? 0 : 1, optarg, argc, argv);
            if (!list) {
                snprintf(err, errlen, "hornet: %s: the list is too long", flag);
                return HN_EXIT_USAGE;
            }
            *(c == 'T' ? &o->tags : &o->exclude_tags) = list;
            break;
        }
        case 'l': o->list_classes = 1; break;
        case OPT_SHOW_TASK_RATIO: o->show_task_ratio = 1; break;
        case OPT_CHECK: o->check_only = 1; break;
        case OPT_DB: o->db_path = optarg; break;
        case OPT_NO_DB: o->db_path = NULL; break;
        case OPT_JSON: o->json_path = optarg; break;
        case OPT_HTML: o->html_path = optarg; break;
        case OPT_BASELINE:
            rc = count_arg(flag, optarg, 1, INT64_MAX, &o->baseline_run, err, errlen);
            break;
        case OPT_MAX_LAT_PCT:
        case OPT_MAX_LAT_MS:
        case OPT_MAX_RPS_DROP:
        case OPT_MAX_FAIL: {
            double d;
            if (hn_parse_double(optarg, &d) || d < 0 || d > 1e6)
                return bad(err, errlen, flag, "expected a number of at least 0", optarg);
            *(c == OPT_MAX_LAT_PCT    ? &o->max_latency_pct
              : c == OPT_MAX_LAT_MS   ? &o->max_latency_ms
              : c == OPT_MAX_RPS_DROP ? &o->max_rps_drop_pct
                                      : &o->max_fail_points) = d;
            break;
        }
        case 'h': o->show_help = 1; break;
        case OPT_HEADLESS: o->headless = 1; break;
        case OPT_MASTER: o->mode = HN_MODE_MASTER; break;
        case OPT_WORKER: o->mode = HN_MODE_WORKER; break;
        case OPT_MASTER_HOST: o->master_host = optarg; break;
        case OPT_MASTER_PORT:
            rc = count_arg(flag, optarg, 1, 65535, &v, err, errlen);
            o->master_port = (unsigned)v;
            break;
        case OPT_MASTER_BIND_HOST: o->master_bind_host = optarg; break;
        case OPT_MASTER_BIND_PORT:
            rc = count_arg(flag, optarg, 0, 65535, &v, err, errlen);
            o->master_bind_port = (unsigned)v;
            break;
        case OPT_EXPECT_WORKERS:
            rc = count_arg(flag, optarg, 1, 100000, &o->expect_workers, err, errlen);
            break;
        case OPT_EXPECT_WORKERS_MAX_WAIT:
            rc = duration_arg(flag, optarg, 1, &o->expect_workers_max_wait_ms, err, errlen);
            break;
        case OPT_PROCESSES:
            if (!strcmp(optarg, "-1")) { /* Locust: one per core */
                long n = sysconf(_SC_NPROCESSORS_ONLN);
                o->processes = n > 0 ? (uint64_t)n : 1;
            } else {
                rc = count_arg(flag, optarg, 0, 1024, &o->processes, err, errlen);
                if (!rc && o->processes == 0)
                    o->processes = 1; /* Locust: no extra processes; users need one worker */
            }
            break;
        case OPT_CSV: o->csv_prefix = optarg; break;
        case OPT_CSV_FULL_HISTORY: o->csv_full_history = 1; break;
        case OPT_EXIT_CODE_ON_ERROR:
            rc = count_arg(flag, optarg, 0, 255, &v, err, errlen);
            o->exit_code_on_error = (int)v;
            break;
        case OPT_ONLY_SUMMARY: o->only_summary = 1; break;
        case OPT_STATS_INTERVAL:
            rc = duration_arg(flag, optarg, 100, &o->stats_interval_ms, err, errlen);
            break;
        case OPT_REQUEST_TIMEOUT:
            rc = duration_arg(flag, optarg, 1, &o->request_timeout_ms, err, errlen);
            break;
        case OPT_CONNECT_TIMEOUT:
            rc = duration_arg(flag, optarg, 1, &o->connect_timeout_ms, err, errlen);
            break;
        case OPT_MASTER_CONNECT_TIMEOUT:
            rc = duration_arg(flag, optarg, 1, &o->master_connect_timeout_ms, err, errlen);
            break;
        case OPT_HEARTBEAT_TIMEOUT:
            rc = duration_arg(flag, optarg, 1000, &o->heartbeat_timeout_ms, err, errlen);
            break;
        case 's':
            rc = duration_arg(flag, optarg, 0, &o->stop_timeout_ms, err, errlen);
            break;
        case 'i':
            rc = count_arg(flag, optarg, 1, UINT64_MAX / 2, &o->iterations, err, errlen);
            break;
        case OPT_RESET_STATS: o->reset_stats = 1; break;
        case OPT_PRINT_STATS: o->print_stats = 1; break;
        case OPT_LOGFILE: o->logfile = optarg; break;
        case OPT_EQUAL_WEIGHTS: o->equal_weights = 1; break;
        case OPT_SHOW_TASK_RATIO_JSON: o->show_task_ratio_json = 1; break;
        case OPT_ACCEPTED: break;
        case OPT_CLUSTER_SECRET:
            if (strlen(optarg) < HN_CLUSTER_SECRET_MIN)
                return bad(err, errlen, flag,
                           "expected at least 12 characters (e.g. openssl rand -hex 16)",
                           "(hidden)");
            o->cluster_secret = optarg;
            break;
        case OPT_MASTER_KEY: o->master_key = optarg; break;
        case OPT_WORKER_KEYS: o->worker_keys = optarg; break;
        case OPT_WORKER_KEY: o->worker_key = optarg; break;
        case OPT_MASTER_PUBLIC_KEY: o->master_public_key = optarg; break;
        case OPT_THRESHOLD: {
            struct hn_threshold t = {0};
            rc = hn_options_threshold(optarg, &t, err, errlen);
            hn_threshold_fini(&t);
            if (!rc && o->n_thresholds == HN_MAX_CLI_THRESHOLDS) {
                snprintf(err, errlen, "hornet: --threshold: at most %d on the command line "
                         "(put more in the scenario's thresholds:)", HN_MAX_CLI_THRESHOLDS);
                rc = HN_EXIT_USAGE;
            }
            if (!rc)
                o->thresholds[o->n_thresholds++] = optarg;
            break;
        }
        case OPT_JUNIT: o->junit_path = optarg; break;
        case OPT_CONFIG: o->config_path = optarg; break; /* read before the environment */
        case OPT_METRICS_PORT:
            rc = count_arg(flag, optarg, 0, 65535, &v, err, errlen);
            o->metrics_port = (int)v;
            break;
        case OPT_WEB_HOST: o->web_host = optarg; break;
        case OPT_WEB_AUTH:
            if (!strchr(optarg, ':') || optarg[0] == ':')
                return bad(err, errlen, flag, "expected USER:PASSWORD", "(hidden)");
            o->web_auth = optarg;
            break;
        case OPT_WEB_NO_AUTH: o->web_no_auth = 1; break;
        case 'P':
            rc = count_arg(flag, optarg, 0, 65535, &v, err, errlen);
            o->web_port = (int)v;
            break;
        case OPT_AUTOSTART: o->autostart = 1; break;
        case OPT_HTTP_ENGINE:
            if (strcmp(optarg, "auto") && strcmp(optarg, "curl") && strcmp(optarg, "native"))
                return bad(err, errlen, flag, "expected auto, curl or native", optarg);
            o->http_engine = optarg;
            break;
        case OPT_TLS_CERT: o->tls_cert = optarg; break;
        case OPT_TLS_KEY: o->tls_key = optarg; break;
        case OPT_AUTOQUIT:
            rc = duration_arg(flag, optarg, 0, &o->autoquit_ms, err, errlen);
            o->autoquit_given = 1;
            break;
        case OPT_INSECURE: o->insecure = 1; break;
        case OPT_CA_FILE: o->ca_file = optarg; break;
        case OPT_CLIENT_CERT: o->client_cert = optarg; break;
        case OPT_CLIENT_KEY: o->client_key = optarg; break;
        case OPT_STAGES: {
            struct hn_stage *st;
            size_t n;
            rc = hn_stages_parse(optarg, &st, &n, err, errlen);
            free(st);
            o->stages = optarg;
            break;
        }
        case ':':
            snprintf(err, errlen, "hornet: %s needs a value (see hornet --help)",
                     argv[optind - 1]);
            return HN_EXIT_USAGE;
        default:
            snprintf(err, errlen, "hornet: unknown flag '%s' (see hornet --help)",
                     argv[optind - 1]);
            return HN_EXIT_USAGE;
        }
        if (rc)
            return rc;
    }
    return 0;
}

int hn_options_parse(struct hn_options *o, int argc, char **argv, char *err, size_t errlen)
{
    o->argc = argc;
    o->argv = argv;
    int rc = parse_flags(o, argc, argv, err, errlen);
    if (rc)
        return rc;
    /* Locust's positional arguments: the user classes to run */
    if (optind < argc) {
        o->class_filter = argv + optind;
        o->n_class_filter = (size_t)(argc - optind);
        for (size_t i = 0; i < o->n_class_filter; i++)
            if (!o->class_filter[i][0] || strchr(o->class_filter[i], '=')) {
                snprintf(err, errlen, "hornet: unexpected argument '%s' (positional arguments "
                         "are user class names; see hornet --help)", o->class_filter[i]);
                return HN_EXIT_USAGE;
            }
    }
    if (!o->tls_cert != !o->tls_key) {
        snprintf(err, errlen, "hornet: %s needs %s too (the web UI's certificate and its key)",
                 o->tls_cert ? "--tls-cert" : "--tls-key", o->tls_cert ? "--tls-key" : "--tls-cert");
        return HN_EXIT_USAGE;
    }
    if ((o->master_key || o->worker_keys) && o->mode != HN_MODE_MASTER) {
        snprintf(err, errlen, "hornet: %s is for --master (local mode secures its own links)",
                 o->master_key ? "--master-key" : "--worker-keys");
        return HN_EXIT_USAGE;
    }
    if ((o->worker_key || o->master_public_key) && o->mode != HN_MODE_WORKER) {
        snprintf(err, errlen, "hornet: %s is for --worker",
                 o->worker_key ? "--worker-key" : "--master-public-key");
        return HN_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        int m = !strcmp(argv[i], "--master"), w = !strcmp(argv[i], "--worker");
        for (int j = i + 1; (m || w) && j < argc; j++)
            if ((m && !strcmp(argv[j], "--worker")) || (w && !strcmp(argv[j], "--master"))) {
                snprintf(err, errlen, "hornet: --master and --worker exclude each other");
                return HN_EXIT_USAGE;
            }
    }
    return 0;
}

const char *hn_options_usage(void)
{
    return "Usage: hornet [options]\n"
           "       hornet runs [--db PATH]     list recorded runs\n"
           "       hornet keygen NAME          write a CURVE key pair: NAME.key and NAME.pub\n"
           "       hornet convert FILE.py      a Locust locustfile as a hornet scenario (stdout)\n"
           "       hornet report RUN [--db PATH] [--csv PREFIX] [--json FILE] [--html FILE]\n"
           "       hornet compare BASE RUN [--db PATH] [--max-latency-increase PCT (10)]\n"
           "              [--max-latency-increase-ms MS (2)] [--max-rps-drop PCT (20)]\n"
           "              [--max-fail-increase POINTS (1)]   exit 1 on a regression\n"
           "\n"
           "A distributed load generator with Locust's flags. Without --master or --worker, runs\n"
           "a local master with --processes worker processes.\n"
           "\n"
           "Common options:\n"
           "  -f, --scenario FILE        scenario YAML (alias --locustfile; default hornet.yaml)\n"
           "  -H, --host URL             base URL, overrides the scenario's host (and\n"
           "                             HORNET_HOST)\n"
           "  -u, --users N              peak number of concurrent users (default 1)\n"
           "  -r, --spawn-rate R         users started per second, cluster-wide (default 1)\n"
           "  -t, --run-time T           stop after T (30s, 5m, 1h30m); default: until Ctrl-C\n"
           "      --headless             no web UI: run at once and end (CI); without it the\n"
           "                             master serves its web UI on --web-port and waits for\n"
           "                             a start from the browser (or --autostart)\n"
           "      --processes N          local mode: worker processes to start (default 1;\n"
           "                             -1: one per core; 0: as 1)\n"
           "  -i, --iterations N         stop after N task iterations in all (then exit)\n"
           "      --csv PREFIX           write PREFIX_stats.csv, _stats_history.csv,\n"
           "                             _failures.csv, _exceptions.csv\n"
           "      --csv-full-history     one history row per entry, not only Aggregated\n"
           "      --only-summary         print only the final tables\n"
           "  -T, --tags A,B             run only tasks tagged A or B (task or class tags);\n"
           "                             also Locust's form -T A B\n"
           "  -E, --exclude-tags A,B     skip tasks tagged A or B (or -E A B)\n"
           "  -l, --list                 list the user classes and exit\n"
           "      --show-task-ratio      print each class's and task's share and exit\n"
           "      --show-task-ratio-json the same as JSON\n"
           "      --equal-weights        every user class weight 1 (fixed counts kept)\n"
           "  CLASS ...                  run only these user classes (Locust's positional\n"
           "                             arguments)\n"
           "      --reset-stats          zero the statistics once all users are spawned\n"
           "      --print-stats          accepted: headless runs print the table anyway\n"
           "      --logfile FILE         write log lines to FILE (appended) instead of stderr\n"
           "      --skip-log-setup, --enable-rebalancing  accepted (hornet always rebalances)\n"
           "      --check                validate the scenario, print the compiled model, exit\n"
           "      --db PATH              run history database (default hornet.db)\n"
           "      --no-db                do not record the run\n"
           "      --json FILE            write a JSON summary at the end\n"
           "      --html FILE            write a self-contained HTML report at the end\n"
           "      --baseline RUN         hornet report: compare with a recorded run in the HTML\n"
           "  -L, --loglevel LEVEL       DEBUG, INFO, WARNING, ERROR, CRITICAL (default INFO;\n"
           "                             DEBUG adds every spawn and cluster message)\n"
           "      --exit-code-on-error N exit code when any request failed (default 1)\n"
           "      --threshold 'ROW: EXPR'  pass/fail criterion, repeatable, as the scenario's\n"
           "                             thresholds: ('Aggregated: p(95) < 1000'); a failed one\n"
           "                             exits 99, one with abort_on_fail ends the run with 100\n"
           "      --junit FILE           write the thresholds as JUnit XML at the end\n"
           "  -P, --web-port N           the web UI's port (default 8089; 0: any free port); it\n"
           "                             also serves /metrics and Locust's web API\n"
           "      --autostart            with the web UI: start the run at once (-u/-r/-t)\n"
           "      --metrics-port N       --headless: serve Prometheus metrics at\n"
           "                             http://WEB_HOST:N/metrics (0: any free port) and\n"
           "                             Locust's web API (/stats/requests, /swarm, /stop...)\n"
           "      --web-host H           where that server listens (default 127.0.0.1)\n"
           "      --autoquit T           after the run, keep the server up for T, then quit\n"
           "                             (default: --headless quits at once; the web UI stays\n"
           "                             until Ctrl-C)\n"
           "      --tls-cert F, --tls-key F  serve the web UI over HTTPS (PEM files)\n"
           "      --web-auth USER:PASS   require HTTP basic auth on that server (needed beyond\n"
           "                             loopback, unless --web-no-auth says it is on purpose)\n"
           "      --stages PLAN          load stages instead of -u/-r: DURATION:USERS[@RATE],...\n"
           "                             e.g. 7m:10,7m:50@5,7m:100 (USERS~ ramps linearly); the\n"
           "                             run time is their sum unless -t cuts it\n"
           "      --request-timeout T    default total timeout per request (default 60s)\n"
           "      --connect-timeout T    TCP/TLS connect timeout (default 10s)\n"
           "      --stats-interval T     worker stats report period (default 1s)\n"
           "      --http-engine E        auto (default: the native HTTP/1.1 engine for http://,\n"
           "                             libcurl for https:// and what native cannot do),\n"
           "                             curl, or native for every step (a step's engine: wins)\n"
           "      --insecure             do not verify https targets' certificates\n"
           "      --ca-file FILE         trust the CA certificates in FILE (PEM)\n"
           "      --client-cert FILE     present this client certificate (PEM; key inside, or\n"
           "      --client-key FILE      in this file); the files travel to the workers\n"
           "\n"
           "Distributed:\n"
           "      --master               run as master; workers connect to it\n"
           "      --worker               run as worker; the scenario comes from the master\n"
           "      --master-host H        worker: master address (default 127.0.0.1)\n"
           "      --master-port P        worker: master port (default 5557)\n"
           "      --master-bind-host H   master: interface to bind (default *)\n"
           "      --master-bind-port P   master: port to bind (default 5557)\n"
           "      --expect-workers N     master: workers to wait for before starting (default 1)\n"
           "      --expect-workers-max-wait T  master: give up after T (default 60s)\n"
           "      --master-connect-timeout T   worker: give up reaching the master (default 60s)\n"
           "      --heartbeat-timeout T  a silent peer is gone after T (default 10s)\n"
           "  -s, --stop-timeout T       master: wait T for workers to stop (default 10s)\n"
           "      --cluster-secret S     master and workers: authenticate and encrypt their links\n"
           "                             (CURVE); better from HORNET_CLUSTER_SECRET, which ps\n"
           "                             does not show. Local mode makes its own.\n"
           "      --master-key FILE      master: its key pair from hornet keygen (instead of a\n"
           "                             secret); needs --worker-keys\n"
           "      --worker-keys FILE     master: the worker public keys it admits (one\n"
           "                             public-key line each, e.g. cat workers/*.pub)\n"
           "      --worker-key FILE      worker: its key pair from hornet keygen\n"
           "      --master-public-key FILE  worker: the master's NAME.pub\n"
           "\n"
           "  -V, --version              print the version\n"
           "  -h, --help                 this text\n"
           "\n"
           "Exit codes: 0 ok, 1 requests failed, 2 bad flag, 3 bad scenario, 4 cluster error\n"
           "(workers or master unreachable, protocol mismatch), 5 OS error, 6 a report or the run\n"
           "history could not be written, 99 thresholds failed, 100 a threshold aborted the run,\n"
           "130 interrupted.\n";
}

int hn_options_threshold(const char *arg, struct hn_threshold *t, char *err, size_t errlen)
{
    const char *colon = strrchr(arg, ':');
    if (!colon) {
        snprintf(err, errlen, "hornet: --threshold '%s': expected 'ROW: EXPR', e.g. "
                 "'Aggregated: p(95) < 1000'", arg);
        return HN_EXIT_USAGE;
    }
    const char *r = arg, *re = colon;
    while (*r == ' ')
        r++;
    while (re > r && re[-1] == ' ')
        re--;
    char *row = hn_malloc((size_t)(re - r) + 1);
    memcpy(row, r, (size_t)(re - r));
    row[re - r] = '\0';
    if (strcmp(row, "Aggregated") && !strchr(row, ' ')) {
        snprintf(err, errlen, "hornet: --threshold '%s': row '%s': expected Aggregated or TYPE "
                 "NAME as in the stats (e.g. 'GET /healthz: p(95) < 500')", arg, row);
        free(row);
        return HN_EXIT_USAGE;
    }
    char why[400];
    const char *expr = colon + 1;
    while (*expr == ' ')
        expr++;
    if (hn_threshold_parse(expr, t, why, sizeof why)) {
        snprintf(err, errlen, "hornet: --threshold %s", why);
        free(row);
        return HN_EXIT_USAGE;
    }
    t->row = row;
    t->where = hn_strdup("--threshold");
    return 0;
}

const char *hn_options_cluster_secret(const struct hn_options *o, char *err, size_t errlen)
{
    err[0] = '\0';
    if (o->cluster_secret)
        return o->cluster_secret;
    const char *env = getenv(HN_CLUSTER_SECRET_ENV);
    if (!env || !*env)
        return NULL;
    if (strlen(env) < HN_CLUSTER_SECRET_MIN) {
        snprintf(err, errlen, "hornet: %s: expected at least %d characters (e.g. openssl rand -hex 16)",
                 HN_CLUSTER_SECRET_ENV, HN_CLUSTER_SECRET_MIN);
        return NULL;
    }
    return env;
}

/* ---------- settings below the command line: config files and the environment ---------- */

/* Long options that no config file or variable sets. */
static int not_a_setting(const char *name)
{
    static const char *const skip[] = {"help", "version", "config", "cluster-secret", NULL};
    for (const char *const *s = skip; *s; s++)
        if (!strcmp(*s, name))
            return 1;
    return 0;
}

static const struct option *find_long(const char *name)
{
    for (const struct option *l = k_long; l->name; l++)
        if (!strcmp(l->name, name))
            return l;
    return NULL;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1", NULL};
    static const char *const no[] = {"false", "no", "off", "0", NULL};
    for (int i = 0; yes[i]; i++)
        if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
            *out = !strcasecmp(s, yes[i]);
            return 0;
        }
    return -1;
}

static char *keep(struct hn_options *o, const char *s, size_t n)
{
    o->owned = hn_realloc(o->owned, (o->n_owned + 1) * sizeof *o->owned);
    return o->owned[o->n_owned++] = hn_strndup(s, n);
}

void hn_options_fini(struct hn_options *o)
{
    for (size_t i = 0; i < o->n_owned; i++)
        free(o->owned[i]);
    free(o->owned);
    o->owned = NULL;
    o->n_owned = 0;
}

/* One setting (a long option's name and its value as text) from `where` into o, as the flag
 * would set it. The value must outlive o. */
static int apply_setting(struct hn_options *o, const char *where, const char *name,
                         const char *value, char *err, size_t errlen)
{
    const struct option *l = find_long(name);
    if (l->has_arg == no_argument) {
        int on;
        if (parse_bool(value, &on)) {
            snprintf(err, errlen, "hornet: %s: expected true or false, got '%s'", where, value);
            return HN_EXIT_USAGE;
        }
        if (!on)
            return 0; /* a switch left off */
    }
    char flag[80];
    snprintf(flag, sizeof flag, "--%s", name);
    char *argv[] = {"hornet", flag, l->has_arg == no_argument ? NULL : (char *)value, NULL};
    char inner[1024];
    int rc = parse_flags(o, l->has_arg == no_argument ? 2 : 3, argv, inner, sizeof inner);
    if (rc) /* "hornet: --users: expected..." said where it came from */
        snprintf(err, errlen, "hornet: %s: %s", where,
                 strncmp(inner, "hornet: ", 8) ? inner : inner + 8);
    return rc;
}

const char *hn_options_config_arg(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            return argv[i + 1];
        if (!strncmp(argv[i], "--config=", 9))
            return argv[i] + 9;
    }
    return NULL;
}

int hn_options_apply_config(struct hn_options *o, const char *path, const char *text, size_t len,
                            char *err, size_t errlen)
{
    const char *p = text, *end = text + len;
    for (int line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *k = p;
        p = nl ? nl + 1 : end;
        while (k < le && (*k == ' ' || *k == '\t'))
            k++;
        const char *e = le;
        while (e > k && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        if (k == e || *k == '#' || *k == ';' || *k == '[')
            continue; /* blank, a comment, or a [section] header */
        const char *sep = k;
        while (sep < e && *sep != '=' && *sep != ':')
            sep++;
        char where[4200];
        snprintf(where, sizeof where, "%s:%d", path, line);
        const char *ke = sep;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
            ke--;
        char name[64];
        size_t kn = (size_t)(ke - k);
        if (sep == e || kn == 0 || kn >= sizeof name) {
            snprintf(err, errlen, "hornet: %s: expected 'option = value' (e.g. users = 100)",
                     where);
            return HN_EXIT_USAGE;
        }
        for (size_t i = 0; i < kn; i++) /* run_time and run-time alike */
            name[i] = k[i] == '_' ? '-' : (char)tolower((unsigned char)k[i]);
        name[kn] = '\0';
        const char *v = sep + 1;
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        size_t vn = (size_t)(e - v);
        if (vn >= 2 && (*v == '"' || *v == '\'') && v[vn - 1] == *v) {
            v++;
            vn -= 2;
        }
        char *value = keep(o, v, vn);
        if (vn >= 2 && value[0] == '[' && value[vn - 1] == ']') { /* [a, b] -> a,b */
            size_t w = 0;
            for (size_t i = 1; i + 1 < vn; i++)
                if (value[i] != ' ' && value[i] != '"' && value[i] != '\'')
                    value[w++] = value[i];
            value[w] = '\0';
        }
        const struct option *l = find_long(name);
        if (!l || not_a_setting(name)) {
            int best = 99;
            const char *best_name = NULL;
            for (const struct option *c = k_long; c->name; c++) {
                int d = hn_edit_distance(name, c->name);
                if (!not_a_setting(c->name) && d < best) {
                    best = d;
                    best_name = c->name;
                }
            }
            if (best_name && best <= 2)
                snprintf(err, errlen, "hornet: %s: unknown option '%s' (did you mean '%s'?)",
                         where, name, best_name);
            else
                snprintf(err, errlen, "hornet: %s: unknown option '%s' (the keys are the long "
                         "option names of hornet --help)", where, name);
            return HN_EXIT_USAGE;
        }
        char what[4300];
        snprintf(what, sizeof what, "%s: %s", where, name);
        int rc = apply_setting(o, what, name, value, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

/* Locust's variables that are not LOCUST_ + the option's name, and k6's two the seed sets. */
static const struct {
    const char *var, *option;
    int rank; /* 0: k6, 1: Locust's, 2: hornet's */
} k_env_aliases[] = {
    {"K6_VUS", "users", 0},
    {"K6_DURATION", "run-time", 0},
    {"LOCUST_MODE_MASTER", "master", 1},
    {"LOCUST_MODE_WORKER", "worker", 1},
    {"LOCUST_MASTER_NODE_HOST", "master-host", 1},
    {"LOCUST_MASTER_NODE_PORT", "master-port", 1},
    {"LOCUST_HATCH_RATE", "spawn-rate", 1},
};

static void env_name(char *out, size_t n, const char *prefix, const char *option)
{
    size_t w = (size_t)snprintf(out, n, "%s", prefix);
    for (const char *c = option; *c && w + 1 < n; c++)
        out[w++] = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
    out[w < n ? w : n - 1] = '\0';
}

int hn_options_apply_env(struct hn_options *o, const char *(*get)(void *ctx, const char *name),
                         void *ctx, char *err, size_t errlen)
{
    /* lowest first, so the later ones win: k6's, then Locust's, then hornet's own */
    for (int rank = 0; rank < 3; rank++) {
        for (size_t i = 0; i < sizeof k_env_aliases / sizeof k_env_aliases[0]; i++) {
            if (k_env_aliases[i].rank != rank)
                continue;
            const char *v = get(ctx, k_env_aliases[i].var);
            int rc = v && *v ? apply_setting(o, k_env_aliases[i].var, k_env_aliases[i].option,
                                             v, err, errlen)
                             : 0;
            if (rc)
                return rc;
        }
        if (rank == 0)
            continue;
        for (const struct option *l = k_long; l->name; l++) {
            if (not_a_setting(l->name))
                continue;
            char var[96];
            env_name(var, sizeof var, rank == 1 ? "LOCUST_" : "HORNET_", l->name);
            const char *v = get(ctx, var);
            int rc = v && *v ? apply_setting(o, var, l->name, v, err, errlen) : 0;
            if (rc)
                return rc;
        }
    }
    return 0;
}

void hn_options_help(FILE *f)
{
    fputs(hn_options_usage(), f);
    fputs("\nSettings also come from config files and the environment, below the command line:\n"
          "defaults < ~/.hornet.conf < ./hornet.conf < --config FILE (lines 'run-time = 10m',\n"
          "keys the long option names, true/false for switches) < the environment (k6's, then\n"
          "Locust's, then hornet's names) < the command line. The variables:\n",
          f);
    for (const struct option *l = k_long; l->name; l++) {
        if (not_a_setting(l->name))
            continue;
        char h[96], lc[96], line[512];
        env_name(h, sizeof h, "HORNET_", l->name);
        env_name(lc, sizeof lc, "LOCUST_", l->name);
        size_t n = (size_t)snprintf(line, sizeof line, "  --%-26s %s, %s", l->name, h, lc);
        for (size_t i = 0; i < sizeof k_env_aliases / sizeof k_env_aliases[0]; i++)
            if (!strcmp(k_env_aliases[i].option, l->name) && n < sizeof line)
                n += (size_t)snprintf(line + n, sizeof line - n, ", %s", k_env_aliases[i].var);
        fprintf(f, "%s\n", line);
    }
    fprintf(f, "  --%-26s %s (not a flag: ps shows flags)\n", "cluster-secret",
            HN_CLUSTER_SECRET_ENV);
}
