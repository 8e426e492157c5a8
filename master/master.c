#include "master/master.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/scenario.h"
#include "common/stats.h"
#include "master/compare.h"
#include "master/console.h"
#include "master/describe.h"
#include "master/dispatch.h"
#include "master/report.h"
#include "master/report_csv.h"
#include "master/store.h"
#include "proto/codec.h"
#include "proto/rpc.h"

enum mstate { M_WAITING, M_SPAWNING, M_RUNNING, M_STOPPING, M_DONE };

struct wk {
    char id[HN_NODE_ID_MAX];
    int64_t index;
    int gone;
    int stopped;           /* client_stopped received for the current stop */
    uint64_t complete_seq; /* seq of its last spawning_complete */
    uint64_t stats_seq;
    uint64_t last_seen_ms;
    uint64_t user_count;
    uint64_t assigned;
    double cpu_percent, cpu_peak;
    uint64_t rss_bytes, rss_peak;
    int cpu_warned;
    int64_t joined_ms, left_ms; /* wall clock */
    struct hn_ratelimit log;    /* lines its messages cause */
};

struct master {
    const struct hn_options *o;
    int local;
    struct hn_rpc *rpc;
    struct hn_scenario *sc;
    const char *host;
    struct wk *workers;
    size_t n_workers, cap_workers;
    int64_t next_index;
    struct hn_stats stats;
    /* last-10-seconds histograms per entry, only for --csv-full-history */
    struct hn_hist (*win)[HN_STATS_WINDOW];
    size_t n_win;
    struct hn_hist total_win[HN_STATS_WINDOW];
    int win_cur;
    enum mstate state;
    uint64_t spawn_seq;
    uint64_t wait_start_ms, start_ms, stop_ms;
    int64_t start_wall_s;
    FILE *history;
    struct hn_exception *exc;
    size_t n_exc;
    pid_t *children;
    size_t n_children;
    int exit_code;
    int all_lost;
    size_t missing_final; /* workers whose final stats never came */
    int exit_code_floor;  /* the exit code when nothing worse happened */
    int csv_failing;      /* bit per whole-table CSV file whose last write failed */
    int history_failed;   /* errno of the first failed _stats_history.csv write */
    int outputs_failed;   /* a report file (CSV, JSON, HTML) is missing or incomplete */
    char local_secret[40]; /* local mode: the cluster secret made for this run */
    /* run history sinks: the --db file, and an in-memory copy the end-of-run JSON/HTML come
     * from, so they are written even when the file is off or degraded */
    struct hn_store *store, *mem;
    int64_t run_id, mem_run;
    struct hn_stats interval; /* merged deltas since the last stored interval */
};

static volatile sig_atomic_t g_signals;

static void on_signal(int sig)
{
    (void)sig;
    g_signals++;
}

static uint64_t now_ms(void) { return hn_mono_us() / 1000; }

static size_t n_live(const struct master *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_workers; i++)
        n += !m->workers[i].gone;
    return n;
}

static struct wk *find_worker(struct master *m, const char *id)
{
    for (size_t i = 0; i < m->n_workers; i++)
        if (!m->workers[i].gone && !strcmp(m->workers[i].id, id))
            return &m->workers[i];
    return NULL;
}

static void send_to(struct master *m, struct wk *w, struct hn_msg *msg)
{
    snprintf(msg->node_id, sizeof msg->node_id, "master");
    int rc = hn_rpc_send(m->rpc, w->id, msg);
    if (rc)
        hn_warn("could not send %s to worker %s: %s", hn_msg_type_name(msg->type), w->id,
                hn_strerror(rc));
}

static void broadcast(struct master *m, enum hn_msg_type type, const char *reason)
{
    for (size_t i = 0; i < m->n_workers; i++) {
        if (m->workers[i].gone)
            continue;
        struct hn_msg msg;
        hn_msg_init(&msg, type, "master");
        msg.error = reason;
        send_to(m, &m->workers[i], &msg);
    }
}

/* Sends every live worker its absolute share of the users. Also used to rebalance when a worker
 * joins or leaves mid-run. */
static void dispatch(struct master *m)
{
    size_t nw = n_live(m), nc = m->sc->n_classes;
    if (!nw)
        return;
    uint64_t *counts = hn_calloc(nc, sizeof *counts);
    uint64_t *split = hn_calloc(nw * nc, sizeof *split);
    hn_describe_class_counts(m->sc, m->o->users, counts);
    hn_dispatch_workers(counts, nc, nw, split);
    uint64_t id_base = 0;
    m->spawn_seq++;
    struct hn_class_count *cc = hn_calloc(nc, sizeof *cc);
    size_t k = 0;
    for (size_t i = 0; i < m->n_workers; i++) {
        struct wk *w = &m->workers[i];
        if (w->gone)
            continue;
        w->assigned = 0;
        for (size_t c = 0; c < nc; c++) {
            cc[c].name = m->sc->classes[c].name;
            cc[c].count = split[k * nc + c];
            w->assigned += cc[c].count;
        }
        struct hn_msg msg;
        hn_msg_init(&msg, HN_MSG_SPAWN, "master");
        msg.seq = m->spawn_seq;
        msg.host = m->host;
        msg.scenario_name = m->sc->path;
        msg.scenario = m->sc->text;
        msg.scenario_len = m->sc->text_len;
        msg.classes = cc;
        msg.n_classes = nc;
        msg.spawn_rate = hn_dispatch_rate(m->o->spawn_rate, w->assigned, m->o->users, nw);
        msg.stats_interval_ms = m->o->stats_interval_ms;
        msg.request_timeout_ms = m->o->request_timeout_ms;
        msg.connect_timeout_ms = m->o->connect_timeout_ms;
        msg.heartbeat_timeout_ms = m->o->heartbeat_timeout_ms;
        msg.stop_timeout_ms = m->o->stop_timeout_ms;
        msg.user_count = m->o->users;
        msg.user_id_base = id_base;
        id_base += w->assigned;
        msg.tags = m->o->tags ? m->o->tags : "";
        msg.exclude_tags = m->o->exclude_tags ? m->o->exclude_tags : "";
        msg.env = m->sc->env;
        msg.n_env = m->sc->n_env;
        msg.files = m->sc->files;
        msg.n_files = m->sc->n_files;
        send_to(m, w, &msg);
        k++;
    }
    free(cc);
    free(counts);
    free(split);
    if (m->state == M_RUNNING)
        m->state = M_SPAWNING;
}

static void start_run(struct master *m)
{
    m->start_ms = now_ms();
    m->start_wall_s = hn_wall_ms() / 1000;
    if (m->store || m->mem) {
        char cmd[4096] = "";
        size_t off = 0;
        for (int i = 0; i < m->o->argc && off < sizeof cmd; i++)
            off += (size_t)snprintf(cmd + off, sizeof cmd - off, "%s%s", i ? " " : "",
                                    m->o->argv[i]);
        struct hn_run_meta meta = {hn_wall_ms(), cmd, m->sc->path, m->sc->text, m->sc->text_len,
                                   m->host, m->o->users, m->o->spawn_rate, m->o->run_time_ms};
        m->run_id = hn_store_run_begin(m->store, &meta);
        m->mem_run = hn_store_run_begin(m->mem, &meta);
        if (m->run_id)
            hn_info("recording the run as #%lld in %s", (long long)m->run_id, m->o->db_path);
    }
    m->state = M_SPAWNING;
    hn_info("Ramping to %llu users at a rate of %.2f per second across %zu workers",
            (unsigned long long)m->o->users, m->o->spawn_rate, n_live(m));
    dispatch(m);
}

static void begin_stop(struct master *m, const char *why)
{
    if (m->state >= M_STOPPING)
        return;
    hn_info("%s; stopping users", why);
    m->state = M_STOPPING;
    m->stop_ms = now_ms();
    for (size_t i = 0; i < m->n_workers; i++)
        m->workers[i].stopped = 0;
    broadcast(m, HN_MSG_STOP, NULL);
}

static void sink_event(struct master *m, int64_t ts_ms, const char *kind, const char *detail)
{
    hn_store_event(m->store, m->run_id, ts_ms, kind, detail);
    hn_store_event(m->mem, m->mem_run, ts_ms, kind, detail);
}

static void worker_gone(struct master *m, struct wk *w, const char *why)
{
    w->gone = 1;
    w->left_ms = hn_wall_ms();
    hn_warn("worker %s left: %s (%zu workers remain)", w->id, why, n_live(m));
    char detail[256];
    snprintf(detail, sizeof detail, "%s: %s", w->id, why);
    sink_event(m, hn_wall_ms(), "worker_left", detail);
    if (m->state == M_STOPPING && !w->stopped)
        m->missing_final++;
    if (m->state == M_WAITING || m->state >= M_STOPPING)
        return;
    if (n_live(m) == 0) {
        hn_error("all workers are gone; ending the run");
        m->all_lost = 1;
        m->state = M_STOPPING;
        m->stop_ms = now_ms();
        return;
    }
    dispatch(m); /* its users move to the others */
}

static void ensure_windows(struct master *m)
{
    if (!m->o->csv_full_history || m->n_win >= m->stats.n_entries)
        return;
    m->win = hn_realloc(m->win, m->stats.n_entries * sizeof *m->win);
    for (size_t i = m->n_win; i < m->stats.n_entries; i++)
        for (int k = 0; k < HN_STATS_WINDOW; k++)
            hn_hist_init(&m->win[i][k]);
    m->n_win = m->stats.n_entries;
}

static void merge_stats(struct master *m, struct wk *w, const struct hn_msg *msg)
{
    if (msg->seq <= w->stats_seq) {
        hn_debug("ignoring duplicate stats #%llu from %s", (unsigned long long)msg->seq, w->id);
        return;
    }
    if (msg->seq != w->stats_seq + 1)
        hn_warn("missed %llu stats reports from worker %s",
                (unsigned long long)(msg->seq - w->stats_seq - 1), w->id);
    w->stats_seq = msg->seq;
    w->user_count = msg->user_count;
    hn_stats_merge(&m->stats, msg->stats);
    if (m->run_id || m->mem_run)
        hn_stats_merge(&m->interval, msg->stats);
    if (!m->o->csv_full_history)
        return;
    ensure_windows(m);
    for (size_t i = 0; i < msg->stats->n_entries; i++) {
        const struct hn_stats_entry *e = msg->stats->entries[i];
        if (!e->n_requests)
            continue; /* message counters only: no histogram to window */
        const struct hn_stats_entry *me = hn_stats_find(&m->stats, e->type, e->name);
        hn_hist_merge(&m->win[me->index][m->win_cur], &e->hist);
        hn_hist_merge(&m->total_win[m->win_cur], &e->hist);
    }
}

static void add_exception(struct master *m, const char *node, const char *msg, const char *tb)
{
    for (size_t i = 0; i < m->n_exc; i++) {
        struct hn_exception *e = &m->exc[i];
        if (!strcmp(e->msg, msg) && !strcmp(e->traceback, tb)) {
            e->count++;
            if (!strstr(e->nodes, node)) {
                size_t n = strlen(e->nodes) + strlen(node) + 3;
                char *s = hn_malloc(n);
                snprintf(s, n, "%s, %s", e->nodes, node);
                free(e->nodes);
                e->nodes = s;
            }
            return;
        }
    }
    if (m->n_exc >= 1000 && strcmp(msg, "(other exceptions: more than 1000 distinct)")) {
        /* a peer's distinct messages never grow the table without bound */
        add_exception(m, node, "(other exceptions: more than 1000 distinct)", "");
        return;
    }
    m->exc = hn_realloc(m->exc, (m->n_exc + 1) * sizeof *m->exc);
    struct hn_exception *e = &m->exc[m->n_exc++];
    e->msg = hn_strdup(msg);
    e->traceback = hn_strdup(tb);
    e->nodes = hn_strdup(node);
    e->count = 1;
}

static void on_client_ready(struct master *m, const struct hn_msg *msg)
{
    struct hn_msg ack;
    hn_msg_init(&ack, HN_MSG_ACK, "master");
    if (msg->protocol_version != HN_PROTOCOL_VERSION) {
        char why[256];
        snprintf(why, sizeof why,
                 "protocol version %llu (hornet %s) differs from the master's %d (hornet %s); "
                 "run the same hornet version everywhere",
                 (unsigned long long)msg->protocol_version, msg->version, HN_PROTOCOL_VERSION,
                 HORNET_VERSION);
        hn_error("refused worker %s: %s", msg->node_id, why);
        ack.error = why;
        hn_rpc_send(m->rpc, msg->node_id, &ack);
        return;
    }
    struct wk *w = find_worker(m, msg->node_id);
    if (!w) {
        if (m->n_workers == m->cap_workers) {
            m->cap_workers = m->cap_workers ? m->cap_workers * 2 : 8;
            m->workers = hn_realloc(m->workers, m->cap_workers * sizeof *m->workers);
        }
        w = &m->workers[m->n_workers++];
        memset(w, 0, sizeof *w);
        snprintf(w->id, sizeof w->id, "%s", msg->node_id);
        w->index = m->next_index++;
        w->joined_ms = hn_wall_ms();
        sink_event(m, w->joined_ms, "worker_joined", w->id);
        hn_info("worker %s (index %lld) connected; %zu connected", w->id, (long long)w->index,
                n_live(m));
    }
    w->last_seen_ms = now_ms();
    ack.index = w->index;
    ack.error = "";
    send_to(m, w, &ack);
    if (m->state == M_SPAWNING || m->state == M_RUNNING)
        dispatch(m); /* rebalance onto the newcomer */
}

static uint64_t users_now(const struct master *m)
{
    uint64_t n = 0;
    for (size_t i = 0; i < m->n_workers; i++)
        if (!m->workers[i].gone)
            n += m->workers[i].user_count;
    return n;
}

static void log_all_spawned(struct master *m)
{
    size_t nc = m->sc->n_classes;
    uint64_t *counts = hn_calloc(nc, sizeof *counts);
    hn_describe_class_counts(m->sc, m->o->users, counts);
    char buf[1024] = "";
    size_t off = 0;
    for (size_t c = 0; c < nc && off < sizeof buf; c++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s\"%s\": %llu", c ? ", " : "",
                                m->sc->classes[c].name, (unsigned long long)counts[c]);
    hn_info("All users spawned: {%s} (%llu total users)", buf, (unsigned long long)users_now(m));
    free(counts);
}

static void handle(struct master *m, struct hn_msg *msg)
{
    if (msg->type == HN_MSG_CLIENT_READY) {
        on_client_ready(m, msg);
        return;
    }
    struct wk *w = find_worker(m, msg->node_id);
    if (!w) {
        hn_debug("ignoring %s from unknown node %s", hn_msg_type_name(msg->type), msg->node_id);
        return;
    }
    w->last_seen_ms = now_ms();
    switch (msg->type) {
    case HN_MSG_SPAWNING_COMPLETE:
        w->complete_seq = msg->seq;
        w->user_count = msg->user_count;
        if (m->state == M_SPAWNING) {
            int all = 1;
            for (size_t i = 0; i < m->n_workers; i++)
                if (!m->workers[i].gone && m->workers[i].complete_seq != m->spawn_seq)
                    all = 0;
            if (all) {
                m->state = M_RUNNING;
                log_all_spawned(m);
            }
        }
        break;
    case HN_MSG_STATS:
        merge_stats(m, w, msg);
        break;
    case HN_MSG_HEARTBEAT:
        w->cpu_percent = msg->cpu_percent;
        w->rss_bytes = msg->rss_bytes;
        w->user_count = msg->user_count;
        if (msg->cpu_percent > w->cpu_peak)
            w->cpu_peak = msg->cpu_percent;
        if (msg->rss_bytes > w->rss_peak)
            w->rss_peak = msg->rss_bytes;
        if (msg->cpu_percent > 90 && !w->cpu_warned) {
            w->cpu_warned = 1;
            char detail[200];
            snprintf(detail, sizeof detail, "%s at %.0f%% CPU", w->id, msg->cpu_percent);
            sink_event(m, hn_wall_ms(), "cpu_saturation", detail);
            hn_warn("worker %s is using %.0f%% CPU: its response times may be inflated; add "
                    "workers or lower the load",
                    w->id, msg->cpu_percent);
        }
        break;
    case HN_MSG_CLIENT_STOPPED:
        w->stopped = 1;
        w->user_count = 0;
        break;
    case HN_MSG_EXCEPTION: {
        unsigned held;
        if (hn_ratelimit_allow(&w->log, hn_mono_us(), 5, &held))
            hn_error("worker %s reported: %s%s", w->id, msg->error,
                     held ? " (and more exceptions, held back from the log)" : "");
        add_exception(m, w->id, msg->error, msg->traceback);
        break;
    }
    case HN_MSG_QUIT:
        /* a worker sends its last stats delta before quit (one socket keeps the order): its
         * numbers are complete, whatever state the run is in */
        w->stopped = 1;
        worker_gone(m, w, msg->error && *msg->error ? msg->error : "it quit");
        break;
    default:
        hn_debug("ignoring %s from %s", hn_msg_type_name(msg->type), w->id);
        break;
    }
}

static double duration_s(const struct master *m)
{
    if (!m->start_ms)
        return 0;
    uint64_t end = m->stop_ms ? m->stop_ms : now_ms();
    return (double)(end - m->start_ms) / 1000.0;
}

/* Writes the whole-table CSV files. A failure is logged when a file starts failing and when it
 * recovers (not every second); what counts for the exit code is the final write. */
static int write_tables(struct master *m)
{
    const char *p = m->o->csv_prefix;
    if (!p)
        return 0;
    static const char *const names[4] = {"_stats.csv", "_failures.csv", "_exceptions.csv",
                                         "_messages.csv"};
    int failed = 0;
    for (int i = 0; i < 4; i++) {
        int rc = i == 0   ? hn_csv_write_stats(p, &m->stats, duration_s(m))
                 : i == 1 ? hn_csv_write_failures(p, &m->stats)
                 : i == 2 ? hn_csv_write_exceptions(p, m->exc, m->n_exc)
                          : hn_csv_write_messages(p, &m->stats);
        int bit = 1 << i;
        if (rc && !(m->csv_failing & bit))
            hn_error("cannot write %s%s: %s", p, names[i], strerror(errno));
        else if (!rc && (m->csv_failing & bit))
            hn_info("%s%s is written again", p, names[i]);
        m->csv_failing = rc ? m->csv_failing | bit : m->csv_failing & ~bit;
        failed |= rc != 0;
    }
    return failed ? HN_EIO : 0;
}

static void store_tick(struct master *m)
{
    if (!m->run_id && !m->mem_run)
        return;
    int64_t now = hn_wall_ms();
    hn_store_interval(m->store, m->run_id, now, &m->interval);
    hn_store_interval(m->mem, m->mem_run, now, &m->interval);
    hn_stats_reset(&m->interval);
}

/* One history tick: Locust's _stats_history.csv rows, written to the file and kept verbatim in
 * the run history (so `hornet report` reproduces the file byte for byte). */
static void history_tick(struct master *m)
{
    if (!m->history && !m->run_id && !m->mem_run)
        return;
    int64_t now_s = hn_wall_ms() / 1000;
    char *rows = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&rows, &len);
    if (!mem)
        return;
    struct hn_hist *cur = NULL;
    if (m->o->csv_full_history) {
        ensure_windows(m);
        cur = hn_calloc(m->n_win + 1, sizeof *cur);
        for (size_t i = 0; i <= m->n_win; i++) {
            hn_hist_init(&cur[i]);
            for (int k = 0; k < HN_STATS_WINDOW; k++)
                hn_hist_merge(&cur[i], i < m->n_win ? &m->win[i][k] : &m->total_win[k]);
        }
    }
    hn_csv_history_append(mem, now_s, users_now(m), &m->stats, now_s, m->start_wall_s, cur,
                          cur ? &cur[m->n_win] : NULL);
    fclose(mem);
    if (m->history && !m->history_failed &&
        (fwrite(rows, 1, len, m->history) != len || fflush(m->history) != 0)) {
        /* a row lost from the middle of the file cannot be put back: the file is marked
         * incomplete (exit 6) and no later row is appended after the gap */
        m->history_failed = errno ? errno : EIO;
        hn_error("cannot write %s_stats_history.csv: %s; the file stops at the last complete "
                 "second (the run history keeps every second)",
                 m->o->csv_prefix, strerror(m->history_failed));
    }
    hn_store_history(m->store, m->run_id, hn_wall_ms(), users_now(m), rows);
    hn_store_history(m->mem, m->mem_run, hn_wall_ms(), users_now(m), rows);
    free(rows);
    if (cur) {
        for (size_t i = 0; i <= m->n_win; i++)
            hn_hist_fini(&cur[i]);
        free(cur);
        /* rotate: the oldest second leaves the window */
        m->win_cur = (m->win_cur + 1) % HN_STATS_WINDOW;
        for (size_t i = 0; i < m->n_win; i++)
            hn_hist_reset(&m->win[i][m->win_cur]);
        hn_hist_reset(&m->total_win[m->win_cur]);
    }
}

static void check_heartbeats(struct master *m, uint64_t now)
{
    for (size_t i = 0; i < m->n_workers; i++) {
        struct wk *w = &m->workers[i];
        if (w->gone || now - w->last_seen_ms <= (uint64_t)m->o->heartbeat_timeout_ms)
            continue;
        char why[96];
        snprintf(why, sizeof why, "no heartbeat for %lld s",
                 (long long)(m->o->heartbeat_timeout_ms / 1000));
        worker_gone(m, w, why);
    }
    struct hn_msg hb;
    for (size_t i = 0; i < m->n_workers; i++) {
        if (m->workers[i].gone)
            continue;
        hn_msg_init(&hb, HN_MSG_HEARTBEAT, "master");
        hb.state = "running";
        send_to(m, &m->workers[i], &hb);
    }
}

/* ---------- local worker processes ---------- */

static int start_children(struct master *m, unsigned port)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        hn_error("cannot find the hornet binary to start workers: %s", strerror(errno));
        return HN_EIO;
    }
    exe[n] = '\0';
    char portbuf[16], hbbuf[32], level[16];
    snprintf(portbuf, sizeof portbuf, "%u", port);
    snprintf(hbbuf, sizeof hbbuf, "%lldms", (long long)m->o->heartbeat_timeout_ms);
    static const char *const levels[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};
    snprintf(level, sizeof level, "%s", levels[m->o->loglevel]);
    m->children = hn_calloc(m->o->processes, sizeof *m->children);
    pid_t parent = getpid();
    for (uint64_t i = 0; i < m->o->processes; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            hn_error("cannot start a worker process: %s", strerror(errno));
            return HN_EIO;
        }
        if (pid == 0) {
            /* A terminal's Ctrl-C and `timeout`/CI's SIGTERM go to the whole process group:
             * the master alone takes them and stops its workers the orderly way, so the
             * workers live in a group of their own; and they end if the master dies. */
            setpgid(0, 0);
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (m->local_secret[0])
                setenv(HN_CLUSTER_SECRET_ENV, m->local_secret, 1);
            if (getppid() != parent)
                _exit(HN_EXIT_CLUSTER); /* the master died before prctl took effect */
            int fd = open("/dev/null", O_RDONLY);
            if (fd >= 0) {
                dup2(fd, 0);
                close(fd);
            }
            char *argv[] = {exe,           "--worker",           "--master-host", "127.0.0.1",
                            "--master-port", portbuf,            "--loglevel",    level,
                            "--heartbeat-timeout", hbbuf, "--master-connect-timeout", "15s", NULL};
            execv(exe, argv);
            fprintf(stderr, "hornet: cannot start worker %s: %s\n", exe, strerror(errno));
            _exit(HN_EXIT_RUNTIME);
        }
        m->children[m->n_children++] = pid;
    }
    return 0;
}

/* Reaps local worker processes that exited. A worker that dies mid-run leaves at once (its node
 * id carries its pid) so its users move to the others without waiting for the heartbeat timeout.
 * Returns how many exited. */
static int reap_children(struct master *m, int report)
{
    int died = 0;
    for (size_t i = 0; i < m->n_children; i++) {
        if (m->children[i] <= 0)
            continue;
        int st;
        pid_t r = waitpid(m->children[i], &st, WNOHANG);
        if (r != m->children[i])
            continue;
        m->children[i] = 0;
        died++;
        if (!report)
            continue;
        char why[64], tag[32];
        snprintf(why, sizeof why, "its process exited (%s %d)", WIFEXITED(st) ? "code" : "signal",
                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        snprintf(tag, sizeof tag, "_%d_", (int)r);
        int found = 0;
        for (size_t k = 0; k < m->n_workers; k++)
            if (!m->workers[k].gone && strstr(m->workers[k].id, tag)) {
                worker_gone(m, &m->workers[k], why);
                found = 1;
            }
        if (!found)
            hn_error("worker process %d exited before connecting: %s", (int)r, why);
    }
    return died;
}

static void stop_children(struct master *m)
{
    uint64_t deadline = now_ms() + 5000;
    for (;;) {
        reap_children(m, 0);
        int left = 0;
        for (size_t i = 0; i < m->n_children; i++)
            left += m->children[i] > 0;
        if (!left)
            return;
        if (now_ms() > deadline)
            break;
        usleep(20000);
    }
    for (size_t i = 0; i < m->n_children; i++) {
        if (m->children[i] > 0) {
            hn_warn("worker process %d did not exit; killing it", (int)m->children[i]);
            kill(m->children[i], SIGKILL);
            waitpid(m->children[i], NULL, 0);
            m->children[i] = 0;
        }
    }
}

static int mkdir_parents(const char *prefix)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", prefix);
    char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    *slash = '\0';
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0777) && errno != EEXIST ? -1 : 0;
}

/* Can a file be written at path? It exists as a writable regular file, or its folder exists
 * and is writable. One line naming the flag otherwise. */
static int check_output_path(const char *flag, const char *path)
{
    if (!path)
        return 0;
    struct stat st;
    const char *why = NULL;
    /* like --csv, a report's folder is created (--db's is not: a typo there would scatter
     * databases) */
    if (strcmp(flag, "--db") && mkdir_parents(path) != 0) {
        fprintf(stderr, "hornet: %s %s: cannot create its folder: %s\n", flag, path,
                strerror(errno));
        return HN_EIO;
    }
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            why = S_ISDIR(st.st_mode) ? "is a folder" : "is not a regular file";
        else if (access(path, W_OK) != 0)
            why = strerror(errno);
    } else if (errno == ENOENT) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (!slash)
            snprintf(dir, sizeof dir, ".");
        else if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
        if (stat(dir, &st) != 0)
            why = errno == ENOENT ? "its folder does not exist" : strerror(errno);
        else if (!S_ISDIR(st.st_mode))
            why = "its folder is not a folder";
        else if (access(dir, W_OK | X_OK) != 0)
            why = strerror(errno);
    } else {
        why = strerror(errno);
    }
    if (!why)
        return 0;
    fprintf(stderr, "hornet: %s %s: cannot write there: %s\n", flag, path, why);
    return HN_EIO;
}

static void master_free(struct master *m)
{
    hn_store_close(&m->store);
    hn_store_close(&m->mem);
    hn_stats_fini(&m->interval);
    hn_rpc_destroy(&m->rpc);
    hn_scenario_destroy(&m->sc);
    hn_stats_fini(&m->stats);
    for (size_t i = 0; i < m->n_win; i++)
        for (int k = 0; k < HN_STATS_WINDOW; k++)
            hn_hist_fini(&m->win[i][k]);
    free(m->win);
    for (int k = 0; k < HN_STATS_WINDOW; k++)
        hn_hist_fini(&m->total_win[k]);
    for (size_t i = 0; i < m->n_exc; i++) {
        free(m->exc[i].msg);
        free(m->exc[i].traceback);
        free(m->exc[i].nodes);
    }
    free(m->exc);
    free(m->workers);
    free(m->children);
    if (m->history)
        fclose(m->history);
    free(m);
}

static int run_loop(struct master *m)
{
    const struct hn_options *o = m->o;
    uint64_t last_tick = now_ms(), last_print = now_ms();
    int seen_signals = 0;
    m->wait_start_ms = now_ms();
    while (m->state != M_DONE) {
        hn_rpc_poll(m->rpc, 100);
        struct hn_msg msg;
        for (int budget = 0; budget < 10000; budget++) {
            int rc = hn_rpc_recv(m->rpc, &msg);
            if (rc == HN_EAGAIN)
                break;
            if (rc)
                continue;
            handle(m, &msg);
            hn_msg_fini(&msg);
        }
        uint64_t now = now_ms();
        if (g_signals != seen_signals) {
            seen_signals = g_signals;
            if (seen_signals >= 2 || m->state == M_WAITING) {
                hn_warn("interrupted again; quitting without waiting for workers");
                m->stop_ms = m->stop_ms ? m->stop_ms : now;
                m->state = M_DONE;
                m->exit_code = HN_EXIT_INTERRUPTED;
                break;
            }
            begin_stop(m, "Interrupted (Ctrl-C again to quit at once)");
        }
        if (m->local && m->state < M_DONE && reap_children(m, 1) &&
            m->state == M_WAITING) {
            hn_error("a local worker process died before the run started");
            m->exit_code = HN_EXIT_CLUSTER;
            m->state = M_DONE;
            break;
        }
        switch (m->state) {
        case M_WAITING:
            if (n_live(m) >= o->expect_workers) {
                start_run(m);
            } else if ((int64_t)(now - m->wait_start_ms) > o->expect_workers_max_wait_ms) {
                hn_error("only %zu of %llu workers connected within %lld s; giving up",
                         n_live(m), (unsigned long long)o->expect_workers,
                         (long long)(o->expect_workers_max_wait_ms / 1000));
                m->exit_code = HN_EXIT_CLUSTER;
                m->state = M_DONE;
            }
            break;
        case M_SPAWNING:
        case M_RUNNING:
            if (o->run_time_ms && (int64_t)(now - m->start_ms) >= o->run_time_ms)
                begin_stop(m, "Time limit reached");
            break;
        case M_STOPPING: {
            int all = 1;
            for (size_t i = 0; i < m->n_workers; i++)
                if (!m->workers[i].gone && !m->workers[i].stopped)
                    all = 0;
            if (all) {
                m->state = M_DONE;
            } else if ((int64_t)(now - m->stop_ms) > o->stop_timeout_ms + 2000) {
                for (size_t i = 0; i < m->n_workers; i++)
                    m->missing_final += !m->workers[i].gone && !m->workers[i].stopped;
                m->state = M_DONE;
            }
            break;
        }
        case M_DONE:
            break;
        }
        if (m->state >= M_SPAWNING && now - last_tick >= 1000) {
            last_tick = now;
            if (m->state != M_DONE)
                check_heartbeats(m, now);
            history_tick(m);
            store_tick(m);
            write_tables(m);
        } else if (m->state == M_WAITING && now - last_tick >= 1000) {
            last_tick = now;
            check_heartbeats(m, now);
        }
        if (!o->only_summary && m->state >= M_SPAWNING && m->state < M_DONE &&
            now - last_print >= 2000) {
            last_print = now;
            int64_t wall_s = hn_wall_ms() / 1000;
            const struct hn_stats_entry *t = &m->stats.total;
            hn_console_status(stdout, duration_s(m), (double)o->run_time_ms / 1000.0, users_now(m),
                              o->users, n_live(m),
                              hn_persec_current(&t->reqs_per_s, wall_s, m->start_wall_s),
                              t->n_requests ? 100.0 * (double)t->n_failures / (double)t->n_requests
                                            : 0.0);
            hn_console_stats(stdout, &m->stats, 1, wall_s, m->start_wall_s, duration_s(m));
        }
    }
    return 0;
}

int hn_master_run(const struct hn_options *o)
{
    struct master *m = hn_calloc(1, sizeof *m);
    m->o = o;
    m->local = o->mode == HN_MODE_LOCAL;
    hn_stats_init(&m->stats);
    hn_stats_init(&m->interval);
    for (int k = 0; k < HN_STATS_WINDOW; k++)
        hn_hist_init(&m->total_win[k]);
    hn_log_set_component("master");
    int code = HN_EXIT_OK;

    char err[1024];
    int rc = hn_scenario_load_file(o->scenario_path, NULL, &m->sc, err, sizeof err);
    if (rc) {
        fprintf(stderr, "hornet: %s\n", err);
        master_free(m);
        return HN_EXIT_CONFIG;
    }
    hn_scenario_filter_tags(m->sc, o->tags, o->exclude_tags);
    if (o->list_classes || o->show_task_ratio || o->check_only) {
        if (o->list_classes)
            hn_describe_list(stdout, m->sc);
        if (o->show_task_ratio)
            hn_describe_ratio(stdout, m->sc, o->users);
        if (o->check_only)
            hn_describe_model(stdout, m->sc);
        master_free(m);
        return HN_EXIT_OK;
    }
    if (hn_describe_validate_run(m->sc, o->users, err, sizeof err)) {
        fprintf(stderr, "hornet: %s\n", err);
        master_free(m);
        return HN_EXIT_CONFIG;
    }
    const char *env_host = getenv("HORNET_HOST");
    char why[160];
    if (!o->host && env_host && *env_host && hn_url_check(env_host, why, sizeof why)) {
        fprintf(stderr, "hornet: HORNET_HOST: %s, got '%s'\n", why, env_host);
        master_free(m);
        return HN_EXIT_USAGE;
    }
    m->host = o->host ? o->host : env_host && *env_host ? env_host : m->sc->host;
    if (!m->host) {
        fprintf(stderr, "hornet: %s: host: none given; set host: in the scenario or pass -H\n",
                o->scenario_path);
        master_free(m);
        return HN_EXIT_CONFIG;
    }
    /* every output path is checked before any load is sent, not found unusable at the end */
    if (check_output_path("--json", o->json_path) || check_output_path("--html", o->html_path) ||
        (o->db_path && strcmp(o->db_path, ":memory:") && check_output_path("--db", o->db_path))) {
        master_free(m);
        return HN_EXIT_USAGE;
    }
    if (o->csv_prefix) {
        if (mkdir_parents(o->csv_prefix) != 0 || !(m->history = hn_csv_history_open(o->csv_prefix))) {
            fprintf(stderr, "hornet: --csv %s: cannot write %s_stats_history.csv: %s\n",
                    o->csv_prefix, o->csv_prefix, strerror(errno));
            master_free(m);
            return HN_EXIT_USAGE;
        }
    }
    if ((o->json_path || o->html_path) && hn_store_open(":memory:", &m->mem, err, sizeof err)) {
        fprintf(stderr, "hornet: cannot keep the run in memory for --json/--html: %s\n", err);
        master_free(m);
        return HN_EXIT_RUNTIME;
    }
    if (o->db_path && hn_store_open(o->db_path, &m->store, err, sizeof err)) {
        /* the load does not depend on the history: go on, and say so in the exit code */
        hn_error("%s; the run goes on without its history", err);
        m->store = NULL;
        m->exit_code_floor = HN_EXIT_PERSISTENCE;
    }
    const char *bind_host = m->local ? "127.0.0.1" : o->master_bind_host;
    unsigned bind_port = m->local ? 0 : o->master_bind_port;
    const char *secret = hn_options_cluster_secret(o, err, sizeof err);
    if (err[0]) {
        fprintf(stderr, "%s\n", err);
        master_free(m);
        return HN_EXIT_USAGE;
    }
    if (m->local && !secret) {
        /* local workers get a fresh secret through their environment: even on loopback, no
         * other process of this machine can join the run or read the scenario */
        uint8_t raw[16];
        if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
            fprintf(stderr, "hornet: cannot make a cluster secret: %s\n", strerror(errno));
            master_free(m);
            return HN_EXIT_RUNTIME;
        }
        for (int i = 0; i < 16; i++)
            snprintf(m->local_secret + 2 * i, 3, "%02x", raw[i]);
        secret = m->local_secret;
    }
    if (!secret && !m->local && strcmp(bind_host, "127.0.0.1") && strcmp(bind_host, "::1") &&
        strcmp(bind_host, "localhost"))
        hn_warn("the control port takes any peer that reaches it (it receives the scenario and "
                "its data): set %s on the master and its workers to authenticate and encrypt "
                "the links",
                HN_CLUSTER_SECRET_ENV);
    if (hn_rpc_bind(bind_host, bind_port, secret, &m->rpc, err, sizeof err)) {
        fprintf(stderr, "hornet: %s\n", err);
        master_free(m);
        return HN_EXIT_RUNTIME;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct hn_options eff = *o;
    if (m->local) {
        eff.expect_workers = o->processes;
        m->o = &eff;
        if (start_children(m, hn_rpc_endpoint_port(m->rpc))) {
            stop_children(m);
            master_free(m);
            return HN_EXIT_RUNTIME;
        }
    } else {
        hn_info("Waiting for %llu workers on %s:%u (max %lld s)",
                (unsigned long long)o->expect_workers, bind_host, hn_rpc_endpoint_port(m->rpc),
                (long long)(o->expect_workers_max_wait_ms / 1000));
    }

    run_loop(m);

    if (m->start_ms) {
        broadcast(m, HN_MSG_QUIT, "the run is over");
        if (!m->stop_ms)
            m->stop_ms = now_ms();
        history_tick(m);
        if (m->history && !m->history_failed && fclose(m->history) != 0) {
            m->history_failed = errno ? errno : EIO;
            hn_error("cannot write %s_stats_history.csv: %s", o->csv_prefix,
                     strerror(m->history_failed));
        }
        m->history = NULL;
        if (write_tables(m) || m->history_failed)
            m->outputs_failed = 1;
        else if (o->csv_prefix)
            hn_info("CSV written: %s_stats.csv, %s_stats_history.csv, %s_failures.csv, "
                    "%s_exceptions.csv", o->csv_prefix, o->csv_prefix, o->csv_prefix,
                    o->csv_prefix);
        hn_console_stats(stdout, &m->stats, 0, hn_wall_ms() / 1000, m->start_wall_s,
                         duration_s(m));
        hn_console_percentiles(stdout, &m->stats);
        hn_console_errors(stdout, &m->stats);
    } else {
        broadcast(m, HN_MSG_QUIT, "the master is giving up");
    }
    /* let the quit messages leave before the socket closes (linger is bounded) */
    if (m->local)
        stop_children(m);

    code = m->exit_code;
    if (m->missing_final) {
        hn_error("the final stats of %zu workers never arrived: the last seconds of their "
                 "requests are missing from the results",
                 m->missing_final);
        if (!code)
            code = HN_EXIT_CLUSTER;
    }
    if (!code && m->all_lost)
        code = HN_EXIT_CLUSTER;
    if (!code && (m->stats.total.n_failures > 0 || m->n_exc > 0))
        code = o->exit_code_on_error;
    /* a missing or incomplete output outranks failed requests: a CI gate must not read a
     * partial report as the run's result */
    if ((!code || code == o->exit_code_on_error) &&
        (m->exit_code_floor || hn_store_degraded(m->store) || m->outputs_failed))
        code = HN_EXIT_PERSISTENCE;
    if (m->run_id || m->mem_run) {
        store_tick(m);
        const char *status = code == HN_EXIT_INTERRUPTED || code == HN_EXIT_CLUSTER ? "failed"
                                                                                  : "finished";
        if (code == HN_EXIT_INTERRUPTED || code == HN_EXIT_CLUSTER)
            sink_event(m, hn_wall_ms(), "aborted",
                       code == HN_EXIT_CLUSTER ? "cluster error" : "interrupted");
        struct hn_store *sinks[2] = {m->store, m->mem};
        int64_t runs[2] = {m->run_id, m->mem_run};
        for (int k = 0; k < 2; k++) {
            for (size_t i = 0; i < m->n_workers; i++) {
                const struct wk *w = &m->workers[i];
                hn_store_worker(sinks[k], runs[k], w->id, w->joined_ms, w->left_ms,
                                w->gone ? "lost" : "stopped", w->cpu_peak, w->rss_peak);
            }
            for (size_t i = 0; i < m->n_exc; i++)
                hn_store_exception(sinks[k], runs[k], m->exc[i].count, m->exc[i].msg,
                                   m->exc[i].traceback, m->exc[i].nodes);
            hn_store_run_end(sinks[k], runs[k], hn_wall_ms(), status, code, &m->stats,
                             duration_s(m));
        }
        if ((o->json_path || o->html_path) && m->mem_run) {
            int wrc = hn_report_write(m->mem, m->mem_run, NULL, o->json_path, o->html_path,
                                      0);
            if (wrc && (!code || code == o->exit_code_on_error))
                code = HN_EXIT_PERSISTENCE;
            else if (!wrc)
                hn_info("report written:%s%s%s%s", o->json_path ? " " : "",
                        o->json_path ? o->json_path : "", o->html_path ? " " : "",
                        o->html_path ? o->html_path : "");
        }
    }
    if (m->start_ms)
        hn_info("Shutting down (exit code %d)", code);
    master_free(m);
    return code;
}

static int open_history(const struct hn_options *o, const char *cmd, struct hn_store **st)
{
    if (!o->db_path) {
        fprintf(stderr, "hornet: %s: --no-db leaves nothing to read\n", cmd);
        return HN_EXIT_USAGE;
    }
    if (access(o->db_path, F_OK) != 0) {
        fprintf(stderr, "hornet: %s: --db %s: no such database (a run creates it)\n", cmd,
                o->db_path);
        return HN_EXIT_USAGE;
    }
    char err[512];
    if (hn_store_open_read(o->db_path, st, err, sizeof err)) {
        fprintf(stderr, "hornet: %s: %s\n", cmd, err);
        return HN_EXIT_RUNTIME;
    }
    return 0;
}

int hn_master_report(const struct hn_options *o, const char *run)
{
    uint64_t id;
    if (hn_parse_u64(run, &id)) {
        fprintf(stderr, "hornet: report: expected a run id (see hornet runs), got '%s'\n", run);
        return HN_EXIT_USAGE;
    }
    if (!o->csv_prefix && !o->json_path && !o->html_path) {
        fprintf(stderr, "hornet: report: say what to write: --csv PREFIX, --json FILE, --html FILE\n");
        return HN_EXIT_USAGE;
    }
    struct hn_store *st;
    int rc = open_history(o, "report", &st);
    if (rc)
        return rc;
    if (o->csv_prefix && mkdir_parents(o->csv_prefix) != 0) {
        fprintf(stderr, "hornet: report: --csv %s: cannot create its folder: %s\n", o->csv_prefix,
                strerror(errno));
        hn_store_close(&st);
        return HN_EXIT_USAGE;
    }
    rc = hn_report_write(st, (int64_t)id, o->csv_prefix, o->json_path, o->html_path,
                         (int64_t)o->baseline_run);
    hn_store_close(&st);
    return rc;
}

int hn_master_compare(const struct hn_options *o, const char *base, const char *run)
{
    uint64_t ids[2];
    if (hn_parse_u64(base, &ids[0]) || hn_parse_u64(run, &ids[1])) {
        fprintf(stderr, "hornet: compare: expected two run ids (see hornet runs), got '%s' '%s'\n",
                base, run);
        return HN_EXIT_USAGE;
    }
    struct hn_store *st;
    int rc = open_history(o, "compare", &st);
    if (rc)
        return rc;
    struct hn_stats s[2];
    double dur[2];
    char err[256];
    hn_stats_init(&s[0]);
    hn_stats_init(&s[1]);
    for (int i = 0; i < 2 && !rc; i++)
        if (hn_store_load_final(st, (int64_t)ids[i], &s[i], &dur[i], err, sizeof err)) {
            fprintf(stderr, "hornet: compare: %s\n", err);
            rc = HN_EXIT_USAGE;
        }
    if (!rc) {
        struct hn_compare_limits l = {o->max_latency_pct, o->max_latency_ms, o->max_rps_drop_pct,
                                      o->max_fail_points};
        printf("run %llu against baseline %llu\n", (unsigned long long)ids[1],
               (unsigned long long)ids[0]);
        rc = hn_compare(stdout, &s[0], dur[0], &s[1], dur[1], &l) ? HN_EXIT_FAILURES : 0;
    }
    hn_stats_fini(&s[0]);
    hn_stats_fini(&s[1]);
    hn_store_close(&st);
    return rc;
}

int hn_master_list_runs(const struct hn_options *o)
{
    struct hn_store *st;
    int orc = open_history(o, "runs", &st);
    if (orc)
        return orc;
    int rc = hn_store_list_runs(st, stdout, 1000);
    hn_store_close(&st);
    return rc ? HN_EXIT_RUNTIME : HN_EXIT_OK;
}
