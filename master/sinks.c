#include "master/sinks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "master/report.h"
#include "master/store.h"

#define MAX_EXCEPTIONS 1000
#define OTHER_EXCEPTIONS "(other exceptions: more than 1000 distinct)"

struct hn_sinks {
    const struct hn_options *o;
    struct hn_stats stats;    /* the run so far */
    struct hn_stats interval; /* merged deltas since the last stored second */
    /* last-10-seconds histograms per entry, only for --csv-full-history */
    struct hn_hist (*win)[HN_STATS_WINDOW];
    size_t n_win;
    struct hn_hist total_win[HN_STATS_WINDOW];
    int win_cur;
    FILE *history;
    int history_failed;  /* errno of the first failed _stats_history.csv write */
    int csv_failing;     /* bit per whole-table CSV file whose last write failed */
    int db_unusable;     /* --db could not be opened */
    struct hn_exception *exc;
    size_t n_exc;
    struct hn_store *store, *mem;
    int finished; /* hn_sinks_finish ran: the reports can be made */
    int64_t run_id, mem_run;
    int64_t start_wall_s;
    int64_t hist_last_s; /* the last history row's second, 0 before the first */
    /* requests and failures by the second they completed in (for the report's rate chart;
     * not cleared by --reset-stats), and the first second not yet final */
    struct hn_persec rate_req, rate_fail;
    int64_t rate_from;
    long hist_last_off;  /* where that second's rows begin in _stats_history.csv */
};

int hn_sinks_open(const struct hn_options *o, struct hn_sinks **out)
{
    struct hn_sinks *s = hn_calloc(1, sizeof *s);
    s->o = o;
    hn_stats_init(&s->stats);
    hn_stats_init(&s->interval);
    for (int k = 0; k < HN_STATS_WINDOW; k++)
        hn_hist_init(&s->total_win[k]);
    *out = s;
    char err[1024];
    if (o->csv_prefix && !(s->history = hn_csv_history_open(o->csv_prefix))) {
        fprintf(stderr, "hornet: --csv %s: cannot write %s_stats_history.csv: %s\n",
                o->csv_prefix, o->csv_prefix, strerror(errno));
        return HN_EXIT_USAGE;
    }
    int served = !o->headless || o->metrics_port >= 0; /* the web UI's report downloads */
    if ((o->json_path || o->html_path || served) &&
        hn_store_open(":memory:", &s->mem, err, sizeof err)) {
        fprintf(stderr, "hornet: cannot keep the run in memory for --json/--html: %s\n", err);
        return HN_EXIT_RUNTIME;
    }
    if (o->db_path && hn_store_open(o->db_path, &s->store, err, sizeof err)) {
        /* the load does not depend on the history: go on, and say so in the exit code */
        hn_error("%s; the run goes on without its history", err);
        s->store = NULL;
        s->db_unusable = 1;
    }
    return 0;
}

void hn_sinks_close(struct hn_sinks **sp)
{
    struct hn_sinks *s = sp ? *sp : NULL;
    if (!s)
        return;
    hn_store_close(&s->store);
    hn_store_close(&s->mem);
    hn_stats_fini(&s->interval);
    hn_stats_fini(&s->stats);
    for (size_t i = 0; i < s->n_win; i++)
        for (int k = 0; k < HN_STATS_WINDOW; k++)
            hn_hist_fini(&s->win[i][k]);
    free(s->win);
    for (int k = 0; k < HN_STATS_WINDOW; k++)
        hn_hist_fini(&s->total_win[k]);
    for (size_t i = 0; i < s->n_exc; i++) {
        free(s->exc[i].msg);
        free(s->exc[i].traceback);
        free(s->exc[i].nodes);
    }
    free(s->exc);
    if (s->history)
        fclose(s->history);
    free(s);
    *sp = NULL;
}

void hn_sinks_begin(struct hn_sinks *s, const char *scenario_path, const char *scenario_text,
                    size_t scenario_len, const char *host, const struct hn_cluster_config *load)
{
    const struct hn_options *o = s->o;
    s->start_wall_s = hn_wall_ms() / 1000;
    if (!s->store && !s->mem)
        return;
    char cmd[4096] = "";
    size_t off = 0;
    for (int i = 0; i < o->argc && off < sizeof cmd; i++)
        off += (size_t)snprintf(cmd + off, sizeof cmd - off, "%s%s", i ? " " : "", o->argv[i]);
    struct hn_run_meta meta = {hn_wall_ms(),     cmd,           scenario_path,
                               scenario_text,    scenario_len,  host,
                               load->users,      load->spawn_rate, load->run_time_ms,
                               load->arrival_rate};
    s->run_id = hn_store_run_begin(s->store, &meta);
    s->mem_run = hn_store_run_begin(s->mem, &meta);
    if (s->run_id)
        hn_info("recording the run as #%lld in %s", (long long)s->run_id, o->db_path);
}

const struct hn_stats *hn_sinks_stats(const struct hn_sinks *s) { return &s->stats; }
int64_t hn_sinks_start_wall_s(const struct hn_sinks *s) { return s->start_wall_s; }
int64_t hn_sinks_run_id(const struct hn_sinks *s) { return s->run_id; }
size_t hn_sinks_n_exceptions(const struct hn_sinks *s) { return s->n_exc; }
const struct hn_exception *hn_sinks_exceptions(const struct hn_sinks *s) { return s->exc; }

static void ensure_windows(struct hn_sinks *s)
{
    if (!s->o->csv_full_history || s->n_win >= s->stats.n_entries)
        return;
    s->win = hn_realloc(s->win, s->stats.n_entries * sizeof *s->win);
    for (size_t i = s->n_win; i < s->stats.n_entries; i++)
        for (int k = 0; k < HN_STATS_WINDOW; k++)
            hn_hist_init(&s->win[i][k]);
    s->n_win = s->stats.n_entries;
}

void hn_sinks_merge(struct hn_sinks *s, const struct hn_stats *delta)
{
    hn_stats_merge(&s->stats, delta);
    /* a delta's Aggregated row is made by merging (workers send the rows): count its rows */
    for (size_t k = 0; k < delta->n_entries; k++) {
        const struct hn_stats_entry *e = delta->entries[k];
        if (!hn_stats_in_total(e))
            continue;
        for (int i = 0; i < HN_PERSEC_SLOTS; i++) {
            const struct hn_persec *r = &e->reqs_per_s, *f = &e->fails_per_s;
            if (r->sec[i] > 0 && r->n[i]) {
                hn_persec_add(&s->rate_req, r->sec[i], r->n[i]);
                if (!s->rate_from || r->sec[i] < s->rate_from)
                    s->rate_from = r->sec[i];
            }
            if (f->sec[i] > 0 && f->n[i])
                hn_persec_add(&s->rate_fail, f->sec[i], f->n[i]);
        }
    }
    if (s->run_id || s->mem_run)
        hn_stats_merge(&s->interval, delta);
    if (!s->o->csv_full_history)
        return;
    ensure_windows(s);
    for (size_t i = 0; i < delta->n_entries; i++) {
        const struct hn_stats_entry *e = delta->entries[i];
        if (!e->n_requests)
            continue; /* message counters only: no histogram to window */
        const struct hn_stats_entry *me = hn_stats_find(&s->stats, e->type, e->name);
        hn_hist_merge(&s->win[me->index][s->win_cur], &e->hist);
        if (hn_stats_in_total(e))
            hn_hist_merge(&s->total_win[s->win_cur], &e->hist);
    }
}

void hn_sinks_reset_stats(struct hn_sinks *s)
{
    hn_stats_reset(&s->stats);
    for (size_t i = 0; i < s->n_win; i++)
        for (int k = 0; k < HN_STATS_WINDOW; k++)
            hn_hist_reset(&s->win[i][k]);
    for (int k = 0; k < HN_STATS_WINDOW; k++)
        hn_hist_reset(&s->total_win[k]);
    hn_sinks_event(s, "stats_reset", "--reset-stats: all users spawned");
}

void hn_sinks_thresholds(struct hn_sinks *s, const struct hn_verdict_row *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hn_store_threshold(s->store, s->run_id, v[i].row, v[i].expr, v[i].observed, v[i].seen,
                           v[i].ok, v[i].abort_on_fail);
        hn_store_threshold(s->mem, s->mem_run, v[i].row, v[i].expr, v[i].observed, v[i].seen,
                           v[i].ok, v[i].abort_on_fail);
    }
}

void hn_sinks_capacity_step(struct hn_sinks *s, const struct hn_capacity_step *c,
                            int rate_mode)
{
    (void)rate_mode; /* the step carries it */
    hn_store_capacity_step(s->store, s->run_id, c);
    hn_store_capacity_step(s->mem, s->mem_run, c);
}

void hn_sinks_event(struct hn_sinks *s, const char *kind, const char *detail)
{
    int64_t now = hn_wall_ms();
    hn_store_event(s->store, s->run_id, now, kind, detail);
    hn_store_event(s->mem, s->mem_run, now, kind, detail);
}

void hn_sinks_exception(struct hn_sinks *s, const char *node, const char *msg, const char *tb)
{
    for (size_t i = 0; i < s->n_exc; i++) {
        struct hn_exception *e = &s->exc[i];
        if (!strcmp(e->msg, msg) && !strcmp(e->traceback, tb)) {
            e->count++;
            if (!strstr(e->nodes, node)) {
                size_t n = strlen(e->nodes) + strlen(node) + 3;
                char *joined = hn_malloc(n);
                snprintf(joined, n, "%s, %s", e->nodes, node);
                free(e->nodes);
                e->nodes = joined;
            }
            return;
        }
    }
    if (s->n_exc >= MAX_EXCEPTIONS && strcmp(msg, OTHER_EXCEPTIONS)) {
        /* a peer's distinct messages never grow the table without bound */
        hn_sinks_exception(s, node, OTHER_EXCEPTIONS, "");
        return;
    }
    s->exc = hn_realloc(s->exc, (s->n_exc + 1) * sizeof *s->exc);
    struct hn_exception *e = &s->exc[s->n_exc++];
    e->msg = hn_strdup(msg);
    e->traceback = hn_strdup(tb);
    e->nodes = hn_strdup(node);
    e->count = 1;
}

/* Writes the whole-table CSV files. A failure is logged when a file starts failing and when it
 * recovers (not every second); what counts for the exit code is the final write. */
static int write_tables(struct hn_sinks *s, double duration_s)
{
    const char *p = s->o->csv_prefix;
    if (!p)
        return 0;
    static const char *const names[5] = {"_stats.csv", "_failures.csv", "_exceptions.csv",
                                         "_messages.csv", "_service_time.csv"};
    int failed = 0;
    for (int i = 0; i < 5; i++) {
        int rc = i == 0   ? hn_csv_write_stats(p, &s->stats, duration_s)
                 : i == 1 ? hn_csv_write_failures(p, &s->stats)
                 : i == 2 ? hn_csv_write_exceptions(p, s->exc, s->n_exc)
                 : i == 3 ? hn_csv_write_messages(p, &s->stats)
                          : hn_csv_write_service_times(p, &s->stats);
        int bit = 1 << i;
        if (rc && !(s->csv_failing & bit))
            hn_error("cannot write %s%s: %s", p, names[i], strerror(errno));
        else if (!rc && (s->csv_failing & bit))
            hn_info("%s%s is written again", p, names[i]);
        s->csv_failing = rc ? s->csv_failing | bit : s->csv_failing & ~bit;
        failed |= rc != 0;
    }
    return failed;
}

/* One history tick: Locust's _stats_history.csv rows, written to the file and kept verbatim in
 * the run history (so `hornet report` reproduces the file byte for byte). */
static void history_tick(struct hn_sinks *s, uint64_t users_now)
{
    if (!s->history && !s->run_id && !s->mem_run)
        return;
    int64_t now_s = hn_wall_ms() / 1000;
    /* tools index the history by its timestamp: a second already written (the final rows at
     * stop, a tick that fell in the same second, a clock stepped back) replaces that second's
     * rows instead of repeating its timestamp */
    int replace = s->hist_last_s && now_s <= s->hist_last_s;
    if (replace)
        now_s = s->hist_last_s;
    char *rows = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&rows, &len);
    if (!mem)
        return;
    struct hn_hist *cur = NULL;
    if (s->o->csv_full_history) {
        ensure_windows(s);
        cur = hn_calloc(s->n_win + 1, sizeof *cur);
        for (size_t i = 0; i <= s->n_win; i++) {
            hn_hist_init(&cur[i]);
            for (int k = 0; k < HN_STATS_WINDOW; k++)
                hn_hist_merge(&cur[i], i < s->n_win ? &s->win[i][k] : &s->total_win[k]);
        }
    }
    hn_csv_history_append(mem, now_s, users_now, &s->stats, now_s, s->start_wall_s, cur,
                          cur ? &cur[s->n_win] : NULL);
    fclose(mem);
    if (s->history && !s->history_failed && replace &&
        (fseek(s->history, s->hist_last_off, SEEK_SET) != 0 ||
         ftruncate(fileno(s->history), s->hist_last_off) != 0))
        s->history_failed = errno ? errno : EIO;
    long off = s->history && !s->history_failed ? ftell(s->history) : -1;
    if (s->history && !s->history_failed &&
        (off < 0 || fwrite(rows, 1, len, s->history) != len || fflush(s->history) != 0)) {
        /* a row lost from the middle of the file cannot be put back: the file is marked
         * incomplete (exit 6) and no later row is appended after the gap */
        s->history_failed = errno ? errno : EIO;
        hn_error("cannot write %s_stats_history.csv: %s; the file stops at the last complete "
                 "second (the run history keeps every second)",
                 s->o->csv_prefix, strerror(s->history_failed));
    }
    s->hist_last_off = off;
    s->hist_last_s = now_s;
    hn_store_history(s->store, s->run_id, hn_wall_ms(), users_now, rows, replace);
    hn_store_history(s->mem, s->mem_run, hn_wall_ms(), users_now, rows, replace);
    free(rows);
    if (cur) {
        for (size_t i = 0; i <= s->n_win; i++)
            hn_hist_fini(&cur[i]);
        free(cur);
        /* rotate: the oldest second leaves the window */
        s->win_cur = (s->win_cur + 1) % HN_STATS_WINDOW;
        for (size_t i = 0; i < s->n_win; i++)
            hn_hist_reset(&s->win[i][s->win_cur]);
        hn_hist_reset(&s->total_win[s->win_cur]);
    }
}

/* The rate chart's seconds: each second is written again while late reports (a worker reports
 * once per stats interval) can still add to it; up to `upto`, which is the current second at
 * the end of the run. */
static void store_rates(struct hn_sinks *s, int64_t upto)
{
    if (!s->rate_from)
        return;
    int64_t from = s->rate_from > upto - 8 ? s->rate_from : upto - 8;
    for (int64_t sec = from; sec <= upto; sec++) {
        uint64_t r = hn_persec_get(&s->rate_req, sec), f = hn_persec_get(&s->rate_fail, sec);
        hn_store_per_second(s->store, s->run_id, sec, r, f);
        hn_store_per_second(s->mem, s->mem_run, sec, r, f);
    }
}

static void store_tick(struct hn_sinks *s)
{
    if (!s->run_id && !s->mem_run)
        return;
    int64_t now = hn_wall_ms();
    store_rates(s, now / 1000 - 1);
    hn_store_interval(s->store, s->run_id, now, &s->interval);
    hn_store_interval(s->mem, s->mem_run, now, &s->interval);
    hn_stats_reset(&s->interval);
}

void hn_sinks_tick(struct hn_sinks *s, uint64_t users_now, double duration_s)
{
    history_tick(s, users_now);
    store_tick(s);
    write_tables(s, duration_s);
}

int hn_sinks_write_csv(struct hn_sinks *s, uint64_t users_now, double duration_s)
{
    const char *p = s->o->csv_prefix;
    history_tick(s, users_now);
    if (s->history && !s->history_failed && fclose(s->history) != 0) {
        s->history_failed = errno ? errno : EIO;
        hn_error("cannot write %s_stats_history.csv: %s", p, strerror(s->history_failed));
    }
    s->history = NULL;
    if (write_tables(s, duration_s) || s->history_failed)
        return 1;
    if (p)
        hn_info("CSV written: %s_stats.csv, %s_stats_history.csv, %s_failures.csv, "
                "%s_exceptions.csv",
                p, p, p, p);
    return 0;
}

/* The run's end into one store: its workers, exceptions, final rows and status. */
static void record_end(struct hn_sinks *s, struct hn_store *st, int64_t run,
                       const struct hn_end *e, const char *status, int exit_code)
{
    for (size_t i = 0; i < e->n_peers; i++) {
        const struct hn_peer *p = &e->peers[i];
        int lost = p->state == HN_PEER_GONE || p->state == HN_PEER_MISSING;
        hn_store_worker(st, run, p->id, e->joined_ms[i], e->left_ms[i],
                        lost ? "lost" : e->running ? "running" : "stopped", p->cpu_peak,
                        p->rss_peak);
    }
    for (size_t i = 0; i < s->n_exc; i++)
        hn_store_exception(st, run, s->exc[i].count, s->exc[i].msg, s->exc[i].traceback,
                           s->exc[i].nodes);
    hn_store_run_end(st, run, hn_wall_ms(), status, exit_code, &s->stats, e->duration_s);
}

int hn_sinks_report(struct hn_sinks *s, const struct hn_end *e, FILE *json, FILE *html)
{
    if (!s->mem_run)
        return HN_EINVAL;
    if (s->finished)
        return hn_report_stream(s->mem, s->mem_run, json, html, 0) ? HN_EIO : 0;
    /* mid-run (Locust makes its report whenever asked): a copy of the run so far, ended as
     * "running" in the copy only */
    struct hn_store *snap;
    if (hn_store_snapshot(s->mem, &snap))
        return HN_EIO;
    struct hn_end now = *e;
    now.running = 1;
    record_end(s, snap, s->mem_run, &now, "running", 0);
    int rc = hn_report_stream(snap, s->mem_run, json, html, 0) ? HN_EIO : 0;
    hn_store_close(&snap);
    return rc;
}

int hn_sinks_finish(struct hn_sinks *s, const struct hn_end *e, int exit_code)
{
    const struct hn_options *o = s->o;
    int failed = s->db_unusable;
    s->finished = 1;
    if (s->run_id || s->mem_run) {
        store_tick(s);
        store_rates(s, hn_wall_ms() / 1000);
        int bad = exit_code == HN_EXIT_INTERRUPTED || exit_code == HN_EXIT_CLUSTER;
        if (bad)
            hn_sinks_event(s, "aborted",
                           exit_code == HN_EXIT_CLUSTER ? "cluster error" : "interrupted");
        const char *status = bad ? "failed" : "finished";
        record_end(s, s->store, s->run_id, e, status, exit_code);
        record_end(s, s->mem, s->mem_run, e, status, exit_code);
        if ((o->json_path || o->html_path) && s->mem_run) {
            if (hn_report_write(s->mem, s->mem_run, NULL, o->json_path, o->html_path, 0))
                failed = 1;
            else
                hn_info("report written:%s%s%s%s", o->json_path ? " " : "",
                        o->json_path ? o->json_path : "", o->html_path ? " " : "",
                        o->html_path ? o->html_path : "");
        }
    }
    return failed || hn_store_degraded(s->store);
}
