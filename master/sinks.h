/* The run's outputs, fed by the master as the run goes: the merged stats (total, the interval
 * since the last stored second, the last-10-seconds windows of --csv-full-history), the
 * exceptions table, Locust's CSV files, the run history in SQLite (--db) and an in-memory copy
 * that the end-of-run JSON/HTML come from, so they are written even with --no-db or a full
 * disk. Every write is checked: a failing file is named once and the run ends with exit 6. */
#ifndef HN_SINKS_H
#define HN_SINKS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "common/options.h"
#include "common/stats.h"
#include "master/cluster.h"
#include "master/report_csv.h"
#include "master/verdicts.h"

struct hn_sinks;

/* Opens what the options ask for (the history CSV, the in-memory store for --json/--html, the
 * --db store). Returns 0, or an exit code after one line on stderr. A --db that cannot be
 * opened is logged and the run goes on without it (exit 6 at the end). */
int hn_sinks_open(const struct hn_options *o, struct hn_sinks **out);
void hn_sinks_close(struct hn_sinks **sp);

/* The run starts (now: wall clock); scenario path and text go to the history, with the load
 * the run begins with (users, spawn rate, run time and arrival rate of the plan). */
void hn_sinks_begin(struct hn_sinks *s, const char *scenario_path, const char *scenario_text,
                    size_t scenario_len, const char *host, const struct hn_cluster_config *load);
void hn_sinks_merge(struct hn_sinks *s, const struct hn_stats *delta);
void hn_sinks_event(struct hn_sinks *s, const char *kind, const char *detail);
/* An exception a worker reported (rows capped at 1000 distinct messages). */
void hn_sinks_exception(struct hn_sinks *s, const char *node, const char *msg, const char *tb);
size_t hn_sinks_n_exceptions(const struct hn_sinks *s);
const struct hn_exception *hn_sinks_exceptions(const struct hn_sinks *s);
/* Once a second: a history row, a stored interval, the whole-table CSV files. */
void hn_sinks_tick(struct hn_sinks *s, uint64_t users_now, double duration_s);
const struct hn_stats *hn_sinks_stats(const struct hn_sinks *s);
/* --reset-stats: the run's statistics start again from zero (the run history keeps the stored
 * seconds before it, and records the reset as an event). */
void hn_sinks_reset_stats(struct hn_sinks *s);
int64_t hn_sinks_start_wall_s(const struct hn_sinks *s);
/* The run's id in the --db history (0: not recorded). */
int64_t hn_sinks_run_id(const struct hn_sinks *s);

/* The last history row and the CSV files (before the exit code is known). Returns 1 if some
 * CSV output could not be written (already logged). */
int hn_sinks_write_csv(struct hn_sinks *s, uint64_t users_now, double duration_s);
/* The thresholds' verdicts, into the history (and so the JSON/HTML reports). */
void hn_sinks_thresholds(struct hn_sinks *s, const struct hn_verdict_row *v, size_t n);
/* A judged step of a capacity search, into the history. */
void hn_sinks_capacity_step(struct hn_sinks *s, const struct hn_capacity_step *c,
                            int rate_mode);
/* What the run's end records beside the stats: the workers as the cluster knows them. */
struct hn_end {
    const struct hn_peer *peers;
    size_t n_peers;
    const int64_t *joined_ms, *left_ms; /* per peer */
    double duration_s;
    int running; /* a report mid-run: workers still at work are "running" */
};

/* The run's end in the history (workers, exceptions, final rows, status) and the JSON/HTML
 * reports. Returns 1 if an output failed (logged): the exit code becomes 6. */
int hn_sinks_finish(struct hn_sinks *s, const struct hn_end *e, int exit_code);

/* The run's JSON or HTML report into an open stream (the web UI's downloads): the finished
 * run's, or mid-run the run so far (status "running", made from a copy of the in-memory
 * history). Returns 0, HN_EINVAL when nothing was kept, HN_EIO. */
int hn_sinks_report(struct hn_sinks *s, const struct hn_end *e, FILE *json, FILE *html);

#endif
