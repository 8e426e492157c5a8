/* Command-line options with Locust's names. Parsing is pure: no file is opened here; a bad flag
 * yields one line naming the flag in err and HN_EXIT_USAGE. */
#ifndef HN_OPTIONS_H
#define HN_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/threshold.h"

enum hn_mode { HN_MODE_LOCAL = 1, HN_MODE_MASTER, HN_MODE_WORKER };

#define HN_CLUSTER_SECRET_MIN 12 /* characters */
#define HN_CLUSTER_SECRET_ENV "HORNET_CLUSTER_SECRET"


struct hn_options {
    enum hn_mode mode;
    const char *scenario_path;  /* -f; default "hornet.yaml" */
    const char *host;           /* -H; NULL = the scenario's host */
    uint64_t users;             /* -u; default 1 */
    double spawn_rate;          /* -r; default 1 */
    int64_t run_time_ms;        /* -t; 0 = until interrupted */
    int headless;
    const char *master_host;    /* worker: where the master is */
    unsigned master_port;
    const char *master_bind_host;
    unsigned master_bind_port;
    uint64_t expect_workers;
    int64_t expect_workers_max_wait_ms;
    uint64_t processes;         /* local mode: worker processes to start */
    const char *csv_prefix;     /* NULL = no CSV */
    int csv_full_history;
    int loglevel;
    int exit_code_on_error;
    int only_summary;
    int64_t stats_interval_ms;  /* worker → master stats report period */
    int64_t request_timeout_ms; /* default total timeout of a request */
    int64_t connect_timeout_ms;
    int64_t master_connect_timeout_ms; /* worker: give up reaching the master after this */
    int64_t heartbeat_timeout_ms;      /* a peer silent this long is gone */
    int64_t stop_timeout_ms;           /* master: wait this long for workers to report stop */
    const char *tags;         /* --tags: comma-separated; NULL = all tasks */
    const char *exclude_tags; /* --exclude-tags */
    int list_classes;         /* -l/--list */
    int show_task_ratio;      /* --show-task-ratio */
    int check_only;           /* --check: validate and print the model */
    const char *db_path;      /* --db; NULL with --no-db */
    const char *json_path;    /* --json FILE */
    const char *html_path;    /* --html FILE */
    uint64_t baseline_run;    /* --baseline RUN: compared with in the HTML report (0 = none) */
    double max_latency_pct;   /* hornet compare tolerances */
    double max_latency_ms;
    double max_rps_drop_pct;
    double max_fail_points;
    const char *cluster_secret; /* --cluster-secret; NULL = HORNET_CLUSTER_SECRET or none */
    const char *master_key;        /* --master-key: the master's key pair file */
    const char *worker_keys;       /* --worker-keys: the worker public keys admitted */
    const char *worker_key;        /* --worker-key: this worker's key pair file */
    const char *master_public_key; /* --master-public-key: the master's public key file */
#define HN_MAX_CLI_THRESHOLDS 256
    const char *thresholds[HN_MAX_CLI_THRESHOLDS]; /* --threshold 'ROW: EXPR', checked */
    size_t n_thresholds;
    const char *junit_path;   /* --junit FILE: the thresholds as JUnit XML */
    const char *stages;       /* --stages 7m:10,7m:50@5 (checked); overrides load.stages */
    int users_given, rate_given, run_time_given; /* -u, -r, -t were set (any source) */
    const char *config_path;  /* --config FILE (read before the environment) */
    char **owned;             /* values read from config files */
    size_t n_owned;
    int reset_stats;          /* --reset-stats: zero the stats once the users are all spawned */
    int print_stats;          /* --print-stats: accepted (headless runs always print) */
    const char *logfile;      /* --logfile FILE: log lines go there instead of stderr */
    uint64_t iterations;      /* -i/--iterations N: stop after N task iterations (0: no cap) */
    int equal_weights;        /* --equal-weights: every class weight 1 */
    int show_task_ratio_json; /* --show-task-ratio-json */
    char **class_filter;      /* positional user class names: run only these (NULL: all) */
    size_t n_class_filter;
    int metrics_port;         /* --metrics-port N: Prometheus /metrics (-1: none; 0: any port) */
    const char *web_host;     /* --web-host: where the master's HTTP server listens */
    const char *web_auth;     /* --web-auth USER:PASS: HTTP basic auth on that server */
    int web_no_auth;          /* --web-no-auth: beyond loopback without auth, on purpose */
    int web_port;             /* -P/--web-port: the web UI (unless --headless; 0: any port) */
    int autostart;            /* --autostart: the web UI's run starts at once */
    const char *http_engine;  /* --http-engine: auto, curl, native (NULL: auto) */
    const char *tls_cert, *tls_key; /* --tls-cert/--tls-key: the web UI over HTTPS */
    int autoquit_given;
    int64_t autoquit_ms;      /* --autoquit T: keep serving /metrics T after the run (0: quit) */
    int insecure;             /* --insecure: no certificate verification */
    const char *ca_file;      /* --ca-file: PEM CA bundle trusted instead of the system's */
    const char *client_cert;  /* --client-cert: PEM client certificate (and key) */
    const char *client_key;   /* --client-key: its key when not in the certificate file */
    int argc;                 /* the command line, for the run history */
    char **argv;
    int show_help;
    int show_version;
};

void hn_options_defaults(struct hn_options *o);
/* Parses argv into o. Returns 0, or an exit code (HN_EXIT_USAGE) with a one-line message in err.
 * Pointers in o borrow from argv. */
int hn_options_parse(struct hn_options *o, int argc, char **argv, char *err, size_t errlen);
/* The cluster secret in force: the flag, else the environment, else NULL. Returns NULL and a
 * one-line reason in err when the environment's value is too short (err[0] = 0 otherwise). */
const char *hn_options_cluster_secret(const struct hn_options *o, char *err, size_t errlen);
/* Splits a --threshold value 'ROW: EXPR' into t (row, expr, stat...; where = "--threshold").
 * Returns 0 or HN_EXIT_USAGE with one line naming the flag and the place in err. */
int hn_options_threshold(const char *arg, struct hn_threshold *t, char *err, size_t errlen);
/* The --help text. */
const char *hn_options_usage(void);
/* The --help text, then every setting's environment variables. */
void hn_options_help(FILE *f);

/* Settings below the command line, applied before hn_options_parse in Locust's order: config
 * files (hn_options_apply_config for each of ~/.hornet.conf, ./hornet.conf and --config FILE,
 * whose text the caller read), then the environment (k6's K6_VUS/K6_DURATION, then Locust's
 * LOCUST_* names, then HORNET_*; empty values are unset). Each returns 0, or HN_EXIT_USAGE with
 * one line naming FILE:LINE or the variable in err. Values from files are kept in o. */
int hn_options_apply_config(struct hn_options *o, const char *path, const char *text, size_t len,
                            char *err, size_t errlen);
int hn_options_apply_env(struct hn_options *o, const char *(*get)(void *ctx, const char *name),
                         void *ctx, char *err, size_t errlen);
/* --config FILE on the command line (before the flags are parsed), or NULL. */
const char *hn_options_config_arg(int argc, char **argv);
/* Frees what the config files left in o. */
void hn_options_fini(struct hn_options *o);

#endif
