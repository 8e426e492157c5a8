/* The master's web UI and web API, behind the HTTP server (web.c): the UI's page and its event
 * stream, Locust's web API (/swarm, /stop, /stats/reset, /stats/requests, the CSV downloads,
 * /exceptions, /stats/report), Prometheus's /metrics and the history tab (recorded runs, their
 * reports, two runs compared). It reads the run through a view the master fills on demand and
 * acts through the master's ops; it owns the live charts' series (bounded: 3600 points, halved
 * in resolution when full; 20 rows with their own latency series). No socket, clock or cluster
 * decision here: requests, views and times come in, replies and events go out. */
#ifndef HN_WEBUI_H
#define HN_WEBUI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/scenario.h"
#include "common/stats.h"
#include "common/threshold.h"
#include "master/cluster.h"
#include "master/report_csv.h"
#include "master/web.h"

/* The run as the master sees it now. */
struct hn_webui_view {
    const char *run_id, *host, *scenario_path;
    const char *state;        /* Locust's: ready, spawning, running, stopping, stopped */
    int held;                 /* waiting for the start form */
    int finished;             /* the run ended (its reports can be made) */
    int exit_code;            /* once finished */
    const struct hn_stats *stats;
    double duration_s;        /* what rates divide by (from the start, or a reset) */
    int64_t wall_s, start_wall_s;
    double elapsed_s, run_time_s; /* run_time_s 0: until stopped */
    uint64_t users, target_users;
    double spawn_rate;
    const struct hn_peer *peers;
    size_t n_peers;
    uint64_t now_ms;          /* the clock the peers' last_seen_ms is on */
    const struct hn_threshold *ths;
    struct hn_th_verdict *verdicts; /* written by the evaluation */
    size_t n_ths;
    const struct hn_exception *exc;
    size_t n_exc;
    const struct hn_scenario *sc; /* its classes, for the start form */
    int load_plan;            /* stages, a capacity search or the open model set the load */
    const char *db_path;      /* the run history (NULL: --no-db) */
    int64_t db_run;           /* this run's id in it (0: not recorded) */
};

/* A class as the start form sets it. */
struct hn_webui_class {
    int enabled;
    uint32_t weight;
    uint64_t fixed_count; /* 0: weighted */
};

struct hn_webui_ops {
    void *ctx;
    void (*view)(void *ctx, struct hn_webui_view *v);
    /* /swarm: starts the held run, or changes a running one's load. host: NULL or a new one
     * (before the start only); run_ms: 0 or a run time from now; classes: NULL or one per
     * scenario class (before the start only). Returns NULL, or why it was refused. */
    const char *(*swarm)(void *ctx, uint64_t users, double rate, const char *host, int64_t run_ms,
                         const struct hn_webui_class *classes);
    void (*stop)(void *ctx);
    void (*reset)(void *ctx);
    /* the run's JSON or HTML report (one stream NULL), mid-run the run so far; 0, HN_EINVAL
     * before the run starts, or another error */
    int (*report)(void *ctx, FILE *json, FILE *html);
};

struct hn_webui;

struct hn_webui *hn_webui_new(const struct hn_webui_ops *ops);
void hn_webui_free(struct hn_webui **up);
/* The HTTP server's handler (ctx: the hn_webui). */
void hn_webui_handle(void *ctx, const struct hn_web_req *req, struct hn_web_reply *out);
/* A stats delta from a worker: joins the window the live percentiles come from. */
void hn_webui_merge(struct hn_webui *u, const struct hn_stats *delta);
/* Once a second: a chart point (at wall_ms) and the event for the open streams. */
void hn_webui_tick(struct hn_webui *u, int64_t wall_ms, struct hn_web *w);
/* A mark on the charts where the load changed (a start, a stage, a new user count, a stop). */
void hn_webui_marker(struct hn_webui *u, int64_t wall_ms, const char *text);
/* A new test (the web UI's New test): the charts, rows and markers start over; the events
 * carry the test's number so an open page starts its charts over too. */
void hn_webui_new_test(struct hn_webui *u);

#endif
