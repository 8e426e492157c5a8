/* Run history in SQLite: the only module that includes sqlite3.h. Every run gets a row when it
 * starts; each stats interval (one second of merged deltas, histograms as blobs so any
 * percentile can be recomputed) is one transaction; the end writes the final rows, failures and
 * status. WAL mode: a master killed mid-run leaves every committed interval intact and its run
 * 'running'; the next open marks such runs 'aborted'.
 *
 * Persistence never stops the load: a write that fails (disk full, the database locked by
 * another writer, an I/O error) is logged once, kept in memory in order and retried with
 * backoff (1 s doubling to 16 s) while the run goes on; only when 64 MiB of writes are waiting,
 * or the run's end still cannot be written after a few tries, does the store turn itself off
 * (hn_store_degraded says so; exit code 6). The caller still writes CSV. Not thread-safe. */
#ifndef HN_STORE_H
#define HN_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/stats.h"
#include "master/capacity.h"
#include "master/report_csv.h"
#include "master/verdicts.h"

struct hn_store;

struct hn_run_meta {
    int64_t started_ms;
    const char *command_line;
    const char *scenario_path;
    const char *scenario_text;
    size_t scenario_len;
    const char *host;
    uint64_t users;
    double spawn_rate;
    int64_t run_time_ms;
    double arrival_rate; /* open model: iterations per second at the start (0: closed) */
};

/* Opens (creating and migrating) the database; marks runs left 'running' as 'aborted'.
 * Returns 0, or HN_EIO with a one-line reason in err. */
int hn_store_open(const char *path, struct hn_store **out, char *err, size_t errlen);
/* Opens an existing database for reading only (hornet runs / report / compare): creates
 * nothing, changes no journal mode, marks no run; works on a read-only file or mount. */
int hn_store_open_read(const char *path, struct hn_store **out, char *err, size_t errlen);
void hn_store_close(struct hn_store **sp);
/* A copy of an in-memory store (the sinks' own, ":memory:"), for a report of a run that is still
 * going: the copy gets the run's end written into it, the original goes on. Queued batches are
 * flushed first. Returns 0 or HN_EIO. */
int hn_store_snapshot(struct hn_store *src, struct hn_store **out);
int hn_store_degraded(const struct hn_store *s);

/* Starts a run; returns its id (0 when the store is degraded). */
int64_t hn_store_run_begin(struct hn_store *s, const struct hn_run_meta *m);
/* One interval: the delta of every row and of Aggregated since the last call. */
void hn_store_interval(struct hn_store *s, int64_t run, int64_t ts_ms, const struct hn_stats *d);
void hn_store_event(struct hn_store *s, int64_t run, int64_t ts_ms, const char *kind,
                    const char *detail);
/* The history CSV rows written for one tick (kept verbatim so `hornet report` reproduces the
 * file byte for byte), and the user count then. replace_last: the rows replace the run's last
 * stored rows (a second already written, whose timestamp must not repeat). */
void hn_store_history(struct hn_store *s, int64_t run, int64_t ts_ms, uint64_t users,
                      const char *rows, int replace_last);
/* Requests and failures that completed in one unix second (written again while late reports
 * still add to it: the last write wins). */
void hn_store_per_second(struct hn_store *s, int64_t run, int64_t sec, uint64_t requests,
                         uint64_t failures);
/* Every row's stored seconds as a JSON object for the report's per-row chart:
 * {"TYPE NAME": [[ts_ms, p50_ms, p95_ms, requests], ...], ...}. */
int hn_store_write_row_series_json(struct hn_store *s, int64_t run, FILE *f);
/* Those seconds in order (the caller frees the arrays); none for runs recorded before them. */
int hn_store_load_rates(struct hn_store *s, int64_t run, int64_t **sec, uint64_t **requests,
                        uint64_t **failures, size_t *n);
/* A worker of the run, written at the end: state "stopped" or "lost", CPU and RSS peaks. */
void hn_store_worker(struct hn_store *s, int64_t run, const char *node_id, int64_t joined_ms,
                     int64_t left_ms, const char *state, double cpu_peak, uint64_t rss_peak);
/* The workers table of the HTML report; esc escapes text. */
int hn_store_write_workers_html(struct hn_store *s, int64_t run, FILE *f,
                                void (*esc)(FILE *, const char *));
void hn_store_exception(struct hn_store *s, int64_t run, uint64_t count, const char *msg,
                        const char *traceback, const char *nodes);
/* A threshold's verdict at the end of the run (the run's `verdicts` becomes pass or fail). */
void hn_store_threshold(struct hn_store *s, int64_t run, const char *row, const char *expr,
                        double observed, int seen, int ok, int abort_on_fail);
/* A run's verdicts, in the order they were written (free with hn_verdicts_free). */
int hn_store_load_thresholds(struct hn_store *s, int64_t run, struct hn_verdict_row **out,
                             size_t *n);
/* A judged step of a capacity search, and a run's steps in order (caller frees). */
void hn_store_capacity_step(struct hn_store *s, int64_t run, const struct hn_capacity_step *c);
int hn_store_load_capacity(struct hn_store *s, int64_t run, struct hn_capacity_step **out,
                           size_t *n);
/* Final rows, failures, status ("finished", "failed"), exit code and the duration the live
 * reports used. */
void hn_store_run_end(struct hn_store *s, int64_t run, int64_t ended_ms, const char *status,
                      int exit_code, const struct hn_stats *total, double duration_s);
/* The stored history rows (malloc'd text) and exceptions (caller frees). */
int hn_store_load_extras(struct hn_store *s, int64_t run, char **history,
                         struct hn_exception **exc, size_t *n_exc);

/* Loads a run's final rows (with histograms) into an initialised stats table, and its duration.
 * An aborted run (its master died) has no final rows: its committed seconds are summed instead
 * and *seconds (if not NULL) says how many there were (0 for a finished run). Returns 0, or
 * HN_EINVAL with a reason in err for an unknown run or one still running. */
int hn_store_load_final(struct hn_store *s, int64_t run, struct hn_stats *out,
                        double *duration_s, int64_t *seconds, char *err, size_t errlen);

/* A run's parameters, and its Aggregated time series (one point per stored second). */
struct hn_run_info {
    int64_t id, started_ms, ended_ms;
    char status[16];
    char *scenario_path, *host, *command_line, *version;
    uint64_t users;
    double spawn_rate;
    int64_t run_time_ms;
    int exit_code;
    uint64_t dropped_iterations; /* open model */
    double arrival_rate;
    uint64_t conns_opened, conns_reused; /* native HTTP engine's connections */
};
struct hn_series {
    size_t n;
    int64_t *ts_ms;
    uint64_t *requests, *failures, *users;
    double *p50_ms, *p95_ms;
};
int hn_store_load_info(struct hn_store *s, int64_t run, struct hn_run_info *info,
                       struct hn_series *series);
void hn_run_info_fini(struct hn_run_info *info, struct hn_series *series);

/* The recorded runs, newest first (at most limit): what `hornet runs` and the web UI's
 * history list show. */
struct hn_run_row {
    int64_t id, started_ms;
    double duration_s;
    char status[16];
    char *scenario_path, *host;
    uint64_t users, requests, failures;
    int has_final;  /* finished: failures and p95 are known */
    double p95_ms;  /* -1: unknown */
};
int hn_store_runs(struct hn_store *s, int limit, struct hn_run_row **rows, size_t *n);
void hn_run_rows_free(struct hn_run_row *rows, size_t n);
/* `hornet runs`: one line per run, newest first (at most limit). */
int hn_store_list_runs(struct hn_store *s, FILE *f, int limit);

#endif
