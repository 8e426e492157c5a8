/* The master process: loads the scenario, binds the control socket, and moves data between the
 * control-plane core (master/cluster.c: every decision), the socket (proto/rpc), the run's
 * outputs (master/sinks.c), the console and, in local mode, its worker processes
 * (master/children.c). */
#include "master/master.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/log.h"
#include "common/scenario.h"
#include "common/stats.h"
#include "master/children.h"
#include "master/cluster.h"
#include "master/console.h"
#include "master/describe.h"
#include "master/paths.h"
#include "master/sinks.h"
#include "master/tty.h"
#include "master/report_csv.h"
#include "common/json.h"
#include "master/metrics.h"
#include "master/web.h"
#include "master/webui.h"
#include "master/verdicts.h"
#include "proto/codec.h"
#include "proto/keys.h"
#include "proto/rpc.h"

struct master {
    const struct hn_options *o;
    struct hn_kv tls_kv[4]; /* the TLS settings sent with the spawn (borrowed strings) */
    uint64_t reset_ms;      /* --reset-stats: when the statistics restarted (0: not yet) */
    struct hn_web *web;     /* the web UI's (or --metrics-port's) server on this loop, or NULL */
    struct hn_webui *ui;    /* what it serves */
    int finished;           /* the run is over (the web UI stays until Ctrl-C or --autoquit) */
    int final_code;         /* its exit code then */
    char host_buf[2048];    /* a host the start form gave */
    char web_err[320];      /* why the start form was refused */
    struct hn_th_verdict *live_verdicts; /* the thresholds as /metrics last saw them */
    int local;
    uint64_t fd_room;   /* workers the open-file limit allows (0: no limit known) */
    struct hn_threshold *ths; /* the scenario's thresholds, then --threshold's */
    size_t n_ths;
    struct hn_th_verdict *verdicts; /* at the last evaluation */
    int th_abort;             /* 1 + the index of the threshold that aborted the run */
    int th_failed;            /* some threshold failed at the end */
    struct hn_stage *stages;  /* the load plan (--stages, or the scenario's load.stages) */
    size_t n_stages;
    int stages_owned;
    size_t stage_said;        /* 1 + the stage last announced */
    int capacity_on;          /* load.capacity: a capacity search */
    struct hn_capacity cap;   /* its steps (initialised when the run starts) */
    struct hn_stats step_stats; /* merged since the current step began */
    int fd_room_said;
    struct hn_rpc *rpc;
    struct hn_scenario *sc;
    const char *host;
    struct hn_cluster *cl;
    struct hn_cluster_config cfg;
    struct hn_msg spawn_template;
    uint64_t *class_counts;
    const char **class_names;
    struct hn_cl_outbox out;
    struct hn_sinks *sinks;
    struct hn_children *children;
    int64_t *joined_ms, *left_ms; /* wall clock, by worker index */
    size_t n_times;
    struct hn_ratelimit *exc_log; /* by worker index */
    char local_secret[40];        /* local mode: the cluster secret made for this run */
    const char *child_secret;     /* local mode: the secret its workers get */
    char run_id[40];              /* this master's run, told to every worker */
    int interrupted;
    int start_failed; /* a local worker died before the run started */
    unsigned tests;   /* tests started from the web UI */
};

static volatile sig_atomic_t g_signals;

static void on_signal(int sig)
{
    (void)sig;
    g_signals++;
}

static uint64_t now_ms(void) { return hn_mono_us() / 1000; }

static double duration_s(const struct master *m)
{
    uint64_t start = hn_cluster_started_ms(m->cl), stop = hn_cluster_stopped_ms(m->cl);
    if (!start)
        return 0;
    if (m->reset_ms > start) /* --reset-stats: rates count from the reset */
        start = m->reset_ms;
    return (double)((stop ? stop : now_ms()) - start) / 1000.0;
}

/* Per-worker bookkeeping of the adapter (wall times, log limiters), by worker index. */
static void grow_times(struct master *m, int64_t index)
{
    size_t need = (size_t)index + 1;
    if (need <= m->n_times)
        return;
    size_t n = m->n_times ? m->n_times * 2 : 16;
    while (n < need)
        n *= 2;
    m->joined_ms = hn_realloc(m->joined_ms, n * sizeof *m->joined_ms);
    m->left_ms = hn_realloc(m->left_ms, n * sizeof *m->left_ms);
    m->exc_log = hn_realloc(m->exc_log, n * sizeof *m->exc_log);
    memset(m->joined_ms + m->n_times, 0, (n - m->n_times) * sizeof *m->joined_ms);
    memset(m->left_ms + m->n_times, 0, (n - m->n_times) * sizeof *m->left_ms);
    memset(m->exc_log + m->n_times, 0, (n - m->n_times) * sizeof *m->exc_log);
    m->n_times = n;
}

/* The workers as the run's end (or a report mid-run) records them. */
static struct hn_end end_of(struct master *m)
{
    struct hn_end e = {0};
    e.peers = hn_cluster_peers(m->cl, &e.n_peers);
    grow_times(m, (int64_t)e.n_peers);
    e.joined_ms = m->joined_ms;
    e.left_ms = m->left_ms;
    e.duration_s = duration_s(m);
    return e;
}

static void log_all_spawned(struct master *m)
{
    char buf[1024] = "";
    size_t off = 0;
    for (size_t c = 0; c < m->cfg.n_classes && off < sizeof buf; c++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s\"%s\": %llu", c ? ", " : "",
                                m->class_names[c], (unsigned long long)m->class_counts[c]);
    hn_info("All users spawned: {%s} (%llu total users)", buf,
            (unsigned long long)hn_cluster_users(m->cl));
}

/* What an event means for the log and the run history. */
static void on_event(struct master *m, const struct hn_cl_action *a)
{
    const struct hn_peer *p = a->peer;
    char detail[700];
    if (p)
        grow_times(m, p->index);
    switch (a->event) {
    case HN_EV_JOINED:
        m->joined_ms[p->index] = hn_wall_ms();
        hn_sinks_event(m->sinks, "worker_joined", p->id);
        hn_info("worker %s (index %lld) connected; %zu connected", p->id, (long long)p->index,
                hn_cluster_live(m->cl));
        if (m->fd_room && hn_cluster_live(m->cl) >= m->fd_room && !m->fd_room_said) {
            m->fd_room_said = 1;
            hn_warn("%zu workers connected: the open-file limit is reached, further workers are "
                    "refused; raise the hard limit (ulimit -Hn, or LimitNOFILE= for a service)",
                    hn_cluster_live(m->cl));
        }
        break;
    case HN_EV_REFUSED:
        hn_error("refused worker %s: %s", a->to, a->detail);
        break;
    case HN_EV_REJOINED:
        m->left_ms[p->index] = 0;
        hn_sinks_event(m->sinks, "worker_rejoined", p->id);
        hn_warn("worker %s is back; its users are dealt again (%zu workers)", p->id,
                hn_cluster_live(m->cl));
        break;
    case HN_EV_LEFT:
    case HN_EV_MISSING:
        m->left_ms[p->index] = hn_wall_ms();
        snprintf(detail, sizeof detail, "%s: %s", p->id, a->detail);
        hn_sinks_event(m->sinks, a->event == HN_EV_LEFT ? "worker_left" : "worker_missing",
                       detail);
        hn_warn("worker %s %s: %s (%zu workers remain)", p->id,
                a->event == HN_EV_LEFT ? "left" : "is missing", a->detail,
                hn_cluster_live(m->cl));
        break;
    case HN_EV_STARTED:
        hn_sinks_begin(m->sinks, m->sc->path, m->sc->text, m->sc->text_len, m->host, &m->cfg);
        hn_info("Ramping to %llu users at a rate of %.2f per second across %s",
                (unsigned long long)m->cfg.users, m->cfg.spawn_rate, a->detail);
        snprintf(detail, sizeof detail, "start: %llu users at %.6g/s",
                 (unsigned long long)m->cfg.users, m->cfg.spawn_rate);
        hn_webui_marker(m->ui, hn_wall_ms(), detail);
        break;
    case HN_EV_GAVE_UP:
        hn_error("%s; giving up", a->detail);
        break;
    case HN_EV_ALL_SPAWNED:
        log_all_spawned(m);
        if (m->o->reset_stats && !m->reset_ms) {
            m->reset_ms = now_ms();
            hn_sinks_reset_stats(m->sinks);
            hn_info("Resetting stats (--reset-stats)");
        }
        break;
    case HN_EV_STOPPING:
        hn_info("%s; stopping users", a->detail);
        hn_webui_marker(m->ui, hn_wall_ms(), "stop");
        break;
    case HN_EV_ALL_LOST:
        hn_error("all workers are gone; ending the run");
        break;
    case HN_EV_UNCONFIRMED:
        hn_error("worker %s never confirmed its stop: the last seconds of its requests are "
                 "missing",
                 p->id);
        break;
    case HN_EV_SATURATED:
        snprintf(detail, sizeof detail, "%s at %s%% CPU", p->id, a->detail);
        hn_sinks_event(m->sinks, "cpu_saturation", detail);
        hn_warn("worker %s is using %s%% CPU: its response times may be inflated; add "
                "workers or lower the load",
                p->id, a->detail);
        break;
    case HN_EV_EXCEPTION: {
        unsigned held;
        if (hn_ratelimit_allow(&m->exc_log[p->index], hn_mono_us(), 5, &held))
            hn_error("worker %s reported: %s%s", p->id, a->detail,
                     held ? " (and more exceptions, held back from the log)" : "");
        hn_sinks_exception(m->sinks, p->id, a->detail, "");
        break;
    }
    case HN_EV_LOST_REPORTS:
        hn_warn("missed %s stats reports from worker %s", a->detail, p->id);
        break;
    case HN_EV_LATE_REPORT:
        hn_warn("worker %s reported %s requests of the last test after it ended (it had not "
                "confirmed the stop): they are not in that test's results",
                p->id, a->detail);
        break;
    case HN_EV_DONE:
        break;
    }
}

/* Carries out what the core decided, then empties the outbox. */
static void carry_out(struct master *m)
{
    for (size_t i = 0; i < m->out.n; i++) {
        struct hn_cl_action *a = &m->out.v[i];
        if (a->kind == HN_CL_SEND) {
            hn_debug("sending %s to %s", hn_msg_type_name(a->msg.type), a->to);
            int rc = hn_rpc_send(m->rpc, a->to, &a->msg);
            if (rc)
                hn_warn("could not send %s to worker %s: %s", hn_msg_type_name(a->msg.type),
                        a->to, hn_strerror(rc));
        } else if (a->kind == HN_CL_MERGE) {
            hn_sinks_merge(m->sinks, a->delta->stats);
            hn_webui_merge(m->ui, a->delta->stats);
            if (m->capacity_on)
                hn_stats_merge(&m->step_stats, a->delta->stats);
        } else {
            on_event(m, a);
        }
    }
    hn_cl_outbox_reset(&m->out);
}

static void on_child_exit(void *ctx, pid_t pid, const char *why)
{
    struct master *m = ctx;
    char tag[32];
    snprintf(tag, sizeof tag, "_%d_", (int)pid);
    if (!hn_cluster_peer_exited(m->cl, tag, why, now_ms(), &m->out)) {
        size_t n, known = 0;
        const struct hn_peer *p = hn_cluster_peers(m->cl, &n);
        for (size_t i = 0; i < n && !known; i++)
            known = strstr(p[i].id, tag) != NULL; /* it said goodbye first */
        if (!known)
            hn_error("worker process %d exited before connecting: %s", (int)pid, why);
    }
    carry_out(m);
}

static void print_status(struct master *m)
{
    const struct hn_stats *s = hn_sinks_stats(m->sinks);
    int64_t wall_s = hn_wall_ms() / 1000, start_s = hn_sinks_start_wall_s(m->sinks);
    const struct hn_stats_entry *t = &s->total;
    hn_console_status(stdout, duration_s(m), (double)m->cfg.run_time_ms / 1000.0,
                      hn_cluster_users(m->cl), m->cfg.users, hn_cluster_live(m->cl),
                      hn_persec_current(&t->reqs_per_s, wall_s, start_s),
                      t->n_requests ? 100.0 * (double)t->n_failures / (double)t->n_requests
                                    : 0.0);
    hn_console_stats(stdout, s, 1, wall_s, start_s, duration_s(m));
    if (m->n_ths && !m->capacity_on) {
        /* the thresholds as they stand (a row not seen yet is not judged until the end) */
        hn_thresholds_eval(m->ths, m->n_ths, s, duration_s(m), s->dropped_iterations, 0, 0,
                           m->verdicts);
        size_t ok = 0, bad = 0, first = SIZE_MAX;
        for (size_t i = 0; i < m->n_ths; i++) {
            if (!m->verdicts[i].seen)
                continue;
            if (m->verdicts[i].ok) {
                ok++;
            } else {
                bad++;
                first = first == SIZE_MAX ? i : first;
            }
        }
        char d[400] = "";
        if (first != SIZE_MAX)
            hn_threshold_describe(&m->ths[first], &m->verdicts[first], d, sizeof d);
        printf("Thresholds: %zu passing, %zu failing, %zu not judged yet%s%s%s%s\n", ok, bad,
               m->n_ths - ok - bad, first != SIZE_MAX ? "; first failing: " : "",
               first != SIZE_MAX ? m->ths[first].row : "", first != SIZE_MAX ? ": " : "", d);
    }
}

/* The load plan at this instant: a new user count or rate is a new split (absolute targets,
 * so the workers add or shed the difference). */
static void follow_stages(struct master *m, uint64_t now)
{
    uint64_t started = hn_cluster_started_ms(m->cl);
    if (!m->n_stages || !started || hn_cluster_phase(m->cl) >= HN_CL_STOPPING)
        return;
    struct hn_stage_point p;
    hn_stages_at(m->stages, m->n_stages, (int64_t)(now - started), &p);
    if (!p.done && m->stage_said != p.stage + 1) {
        m->stage_said = p.stage + 1;
        const struct hn_stage *st = &m->stages[p.stage];
        char detail[160];
        snprintf(detail, sizeof detail, "stage %zu of %zu: %llu users%s for %.0f s", p.stage + 1,
                 m->n_stages, (unsigned long long)st->users,
                 st->linear ? " (linear ramp)" : "", (double)st->duration_ms / 1000.0);
        hn_info("Load plan, %s", detail);
        hn_sinks_event(m->sinks, "stage", detail);
        hn_webui_marker(m->ui, hn_wall_ms(), detail);
    }
    if (p.users == m->cfg.users && p.spawn_rate == m->cfg.spawn_rate)
        return;
    m->cfg.users = p.users;
    m->cfg.spawn_rate = p.spawn_rate;
    hn_describe_class_counts(m->sc, p.users, m->class_counts);
    hn_cluster_load_changed(m->cl, &m->out);
    carry_out(m);
}

/* A new user count or spawn rate from outside the load plan (a key, the web API's /swarm):
 * dealt to the workers as a stage's would be, and recorded. */
static void set_load(struct master *m, uint64_t users, double rate, const char *detail)
{
    hn_sinks_event(m->sinks, "user_count", detail);
    hn_webui_marker(m->ui, hn_wall_ms(), detail);
    m->cfg.users = users;
    m->cfg.spawn_rate = rate;
    hn_describe_class_counts(m->sc, users, m->class_counts);
    hn_cluster_load_changed(m->cl, &m->out);
    carry_out(m);
}

/* Locust's keys in a headless run on a terminal: w/W add 1/10 users, s/S remove 1/10. A load
 * plan (stages, a capacity search, the open model) owns the user count: keys are ignored. */
static void follow_keys(struct master *m)
{
    int key = hn_tty_key();
    int delta = hn_tty_key_users(key);
    if (!delta || !hn_cluster_started_ms(m->cl) || hn_cluster_phase(m->cl) >= HN_CL_STOPPING)
        return;
    if (m->n_stages || m->capacity_on || m->cfg.arrival_rate > 0) {
        hn_warn("key '%c' ignored: the load plan sets the user count", key);
        return;
    }
    uint64_t users = m->cfg.users;
    users = delta < 0 && (uint64_t)-delta > users ? 0 : users + (uint64_t)(int64_t)delta;
    if (users == m->cfg.users)
        return;
    char detail[96];
    snprintf(detail, sizeof detail, "%s %d user%s (now %llu)", delta > 0 ? "adding" : "removing",
             delta > 0 ? delta : -delta, delta == 1 || delta == -1 ? "" : "s",
             (unsigned long long)users);
    hn_info("Key '%c': %s", key, detail);
    set_load(m, users, m->cfg.spawn_rate, detail);
}

/* A capacity search: each step judged on its own stats when it is over; a pass steps the
 * users up, a failure (or max) ends the run. */
static void follow_capacity(struct master *m, uint64_t now)
{
    uint64_t started = hn_cluster_started_ms(m->cl);
    if (!m->capacity_on || !started || hn_cluster_phase(m->cl) >= HN_CL_STOPPING)
        return;
    const struct hn_capacity_plan *cp = &m->sc->capacity;
    if (!m->cap.steps) {
        hn_capacity_init(&m->cap, cp, started);
        hn_stats_reset(&m->step_stats);
        hn_info("Capacity search: %llu %s, then +%llu every %.0f s up to %llu, until a "
                "threshold fails",
                (unsigned long long)cp->start, cp->rate_mode ? "iterations/s" : "users",
                (unsigned long long)cp->step, (double)cp->step_ms / 1000.0,
                (unsigned long long)cp->max);
    }
    int rc = hn_capacity_tick(&m->cap, now, &m->step_stats, m->ths, m->n_ths);
    if (!rc)
        return;
    const struct hn_capacity_step *s = &m->cap.steps[m->cap.n_steps - (rc == 1 ? 2 : 1)];
    char detail[600];
    snprintf(detail, sizeof detail, "%llu %s: %s (%.1f req/s, p95 %.1f ms, %.2f%% failed)%s%s",
             (unsigned long long)s->users, cp->rate_mode ? "iterations/s" : "users",
             s->passed ? "passed" : "failed", s->rps, s->p95_ms,
             100.0 * s->fail_ratio, s->passed ? "" : ": ", s->failed);
    hn_info("Capacity step %s", detail);
    hn_sinks_event(m->sinks, "capacity_step", detail);
    if (rc == 2) {
        hn_cluster_stop(m->cl, "the capacity search is over", now, &m->out);
        carry_out(m);
        return;
    }
    hn_stats_reset(&m->step_stats);
    if (cp->rate_mode) {
        m->cfg.arrival_rate = (double)hn_capacity_users(&m->cap);
    } else {
        m->cfg.users = hn_capacity_users(&m->cap);
        m->cfg.spawn_rate = cp->spawn_rate > 0 ? cp->spawn_rate : (double)cp->step;
        hn_describe_class_counts(m->sc, m->cfg.users, m->class_counts);
    }
    hn_cluster_load_changed(m->cl, &m->out);
    carry_out(m);
}

/* The open model's rate plan (arrival_stages): a new rate is a new split of it. */
static void follow_arrival(struct master *m, uint64_t now)
{
    const struct hn_arrival_plan *ap = &m->sc->arrival;
    uint64_t started = hn_cluster_started_ms(m->cl);
    if (!ap->n_stages || !started || hn_cluster_phase(m->cl) >= HN_CL_STOPPING)
        return;
    size_t stage;
    int done;
    double rate = hn_rate_stages_at(ap->stages, ap->n_stages, (int64_t)(now - started), &stage,
                                    &done);
    if (!done && m->stage_said != stage + 1) {
        m->stage_said = stage + 1;
        char detail[160];
        snprintf(detail, sizeof detail, "arrival stage %zu of %zu: %.6g iterations/s%s for %.0f s",
                 stage + 1, ap->n_stages, ap->stages[stage].rate,
                 ap->stages[stage].linear ? " (linear ramp)" : "",
                 (double)ap->stages[stage].duration_ms / 1000.0);
        hn_info("Load plan, %s", detail);
        hn_sinks_event(m->sinks, "stage", detail);
        hn_webui_marker(m->ui, hn_wall_ms(), detail);
    }
    if (rate == m->cfg.arrival_rate)
        return;
    m->cfg.arrival_rate = rate;
    hn_cluster_load_changed(m->cl, &m->out);
    carry_out(m);
}

/* The search's answer at the end: console, CSV and the history (so the JSON/HTML reports). */
static int report_capacity(struct master *m)
{
    if (!m->capacity_on)
        return 0;
    size_t n = m->cap.n_steps;
    if (n && !m->cap.done && m->cap.steps[n - 1].duration_s == 0)
        n--; /* the step under way when the run ended was never judged */
    int rate_mode = m->sc->capacity.rate_mode;
    hn_capacity_console(stdout, m->cap.steps, n, m->cap.done, rate_mode);
    for (size_t i = 0; i < n; i++)
        hn_sinks_capacity_step(m->sinks, &m->cap.steps[i], rate_mode);
    if (m->o->csv_prefix && hn_capacity_write_csv(m->o->csv_prefix, m->cap.steps, n, rate_mode)) {
        hn_error("cannot write %s_capacity.csv: %s", m->o->csv_prefix, strerror(errno));
        return 1;
    }
    return 0;
}

static void watch_thresholds(struct master *m, uint64_t now);
static void initial_load(const struct master *m, uint64_t *users_out, double *rate_out,
                         int64_t *run_time_out, double *arrival_out);

static void run_loop(struct master *m)
{
    uint64_t last_tick = now_ms(), last_print = now_ms(), last_judged = now_ms();
    int seen_signals = 0;
    while (hn_cluster_phase(m->cl) != HN_CL_DONE) {
        hn_rpc_poll(m->rpc, 100);
        hn_web_run(m->web); /* never blocks: a slow client cannot hold the loop */
        /* closed connections first: a descriptor is reused only after its close was
         * reported, so a newcomer on the same descriptor is never taken for the one that
         * left */
        for (int fd; (fd = hn_rpc_closed_fd(m->rpc)) >= 0;) {
            hn_cluster_conn_closed(m->cl, fd, now_ms(), &m->out);
            carry_out(m);
        }
        /* everything already received is handed in before the tick judges anyone silent */
        struct hn_msg msg;
        for (int budget = 0; budget < 10000; budget++) {
            int rc = hn_rpc_recv(m->rpc, &msg);
            if (rc == HN_EAGAIN)
                break;
            if (rc)
                continue;
            hn_debug("received %s from %s (seq %llu, %llu users)", hn_msg_type_name(msg.type),
                     msg.node_id, (unsigned long long)msg.seq,
                     (unsigned long long)msg.user_count);
            hn_cluster_on_msg(m->cl, &msg, hn_rpc_last_fd(m->rpc), now_ms(), &m->out);
            carry_out(m);
            hn_msg_fini(&msg);
        }
        if (g_signals != seen_signals) {
            seen_signals = g_signals;
            if (seen_signals >= 2 || hn_cluster_phase(m->cl) == HN_CL_WAITING) {
                if (m->finished)
                    hn_info("Interrupted between tests: quitting");
                else
                    hn_warn("interrupted again; quitting without waiting for workers");
                hn_cluster_abort(m->cl, now_ms());
                m->interrupted = 1;
                break;
            }
            hn_cluster_stop(m->cl, "Interrupted (Ctrl-C again to quit at once)", now_ms(),
                            &m->out);
            carry_out(m);
        }
        if (m->children && hn_children_reap(m->children, on_child_exit, m) &&
            hn_cluster_phase(m->cl) == HN_CL_WAITING && !m->finished) {
            hn_error("a local worker process died before the run started");
            hn_cluster_abort(m->cl, now_ms());
            m->start_failed = 1;
            break;
        }
        uint64_t now = now_ms();
        hn_cluster_timers(m->cl, now, &m->out);
        carry_out(m);
        follow_stages(m, now);
        follow_capacity(m, now);
        follow_arrival(m, now);
        follow_keys(m);
        if (now - last_tick >= 1000) {
            last_tick = now;
            hn_cluster_tick(m->cl, now, &m->out);
            carry_out(m);
            if (hn_cluster_started_ms(m->cl))
                hn_sinks_tick(m->sinks, hn_cluster_users(m->cl), duration_s(m));
            hn_webui_tick(m->ui, hn_wall_ms(), m->web);
        }
        if (now - last_judged >= 2000) {
            last_judged = now;
            watch_thresholds(m, now);
        }
        enum hn_cl_phase ph = hn_cluster_phase(m->cl);
        if (!m->o->only_summary && ph >= HN_CL_SPAWNING && ph < HN_CL_DONE &&
            now - last_print >= 2000) {
            last_print = now;
            print_status(m);
        }
    }
}

static void master_free(struct master *m)
{
    hn_web_close(&m->web);
    hn_webui_free(&m->ui);
    free(m->live_verdicts);
    hn_children_stop(&m->children);
    hn_cl_outbox_fini(&m->out);
    hn_cluster_destroy(&m->cl);
    hn_sinks_close(&m->sinks);
    hn_rpc_destroy(&m->rpc);
    hn_scenario_destroy(&m->sc);
    free(m->class_counts);
    free(m->class_names);
    free(m->joined_ms);
    free(m->left_ms);
    free(m->exc_log);
    for (size_t i = 0; i < m->n_ths; i++)
        hn_threshold_fini(&m->ths[i]);
    free(m->ths);
    free(m->verdicts);
    if (m->stages_owned)
        free(m->stages);
    hn_capacity_fini(&m->cap);
    hn_stats_fini(&m->step_stats);
    free(m);
}

/* Every 2 s while the run goes, on the merged stats: a failing abort_on_fail threshold past
 * its delay stops the run (exit 100). */
static void watch_thresholds(struct master *m, uint64_t now)
{
    uint64_t started = hn_cluster_started_ms(m->cl);
    if (!m->n_ths || !started || m->th_abort || hn_cluster_phase(m->cl) >= HN_CL_STOPPING)
        return;
    const struct hn_stats *st = hn_sinks_stats(m->sinks);
    int i = hn_thresholds_eval(m->ths, m->n_ths, st, duration_s(m), st->dropped_iterations,
                               (int64_t)(now - started), 0, m->verdicts);
    if (i < 0)
        return;
    char d[400], why[600];
    hn_threshold_describe(&m->ths[i], &m->verdicts[i], d, sizeof d);
    snprintf(why, sizeof why, "Threshold failed on %s: %s (abort_on_fail); stopping the run",
             m->ths[i].row, d);
    hn_error("%s", why);
    hn_sinks_event(m->sinks, "threshold_abort", why);
    m->th_abort = i + 1;
    hn_cluster_stop(m->cl, "a threshold failed", now, &m->out);
    carry_out(m);
}

/* The end: every threshold judged on the final stats (a row that never appeared fails), shown,
 * and written where the run's outputs go. Returns 1 if a file could not be written. */
static int judge_thresholds(struct master *m)
{
    if (!m->n_ths)
        return 0;
    const struct hn_options *o = m->o;
    const struct hn_stats *st = hn_sinks_stats(m->sinks);
    hn_thresholds_eval(m->ths, m->n_ths, st, duration_s(m), st->dropped_iterations, 0, 1,
                       m->verdicts);
    struct hn_verdict_row *rows = hn_calloc(m->n_ths, sizeof *rows);
    for (size_t i = 0; i < m->n_ths; i++) {
        rows[i].row = hn_strdup(m->ths[i].row);
        rows[i].expr = hn_strdup(m->ths[i].expr);
        rows[i].observed = m->verdicts[i].observed;
        rows[i].seen = m->verdicts[i].seen;
        rows[i].ok = m->verdicts[i].ok;
        rows[i].abort_on_fail = m->ths[i].abort_on_fail;
        m->th_failed |= !rows[i].ok;
    }
    hn_verdicts_console(stdout, rows, m->n_ths);
    hn_sinks_thresholds(m->sinks, rows, m->n_ths);
    int bad = 0;
    if (o->csv_prefix && hn_verdicts_write_csv(o->csv_prefix, rows, m->n_ths)) {
        hn_error("cannot write %s_thresholds.csv: %s", o->csv_prefix, strerror(errno));
        bad = 1;
    }
    if (o->junit_path && hn_verdicts_write_junit(o->junit_path, rows, m->n_ths, duration_s(m))) {
        hn_error("cannot write --junit %s: %s", o->junit_path, strerror(errno));
        bad = 1;
    }
    hn_verdicts_free(rows, m->n_ths);
    return bad;
}

/* The exit code from how the run ended (README's table), before the outputs are known. */
static int exit_code(struct master *m)
{
    struct hn_cluster_result r;
    hn_cluster_result(m->cl, &r);
    const struct hn_stats *s = hn_sinks_stats(m->sinks);
    int code = HN_EXIT_OK;
    if (m->interrupted)
        code = HN_EXIT_INTERRUPTED;
    else if (r.gave_up || m->start_failed)
        code = HN_EXIT_CLUSTER;
    if (r.unconfirmed) {
        hn_error("the final stats of %zu workers never arrived: the last seconds of their "
                 "requests are missing from the results",
                 r.unconfirmed);
        if (!code)
            code = HN_EXIT_CLUSTER;
    }
    if (!code && r.all_lost)
        code = HN_EXIT_CLUSTER;
    if (r.lost_reports)
        hn_warn("%llu stats reports of workers never arrived (their seconds are missing)",
                (unsigned long long)r.lost_reports);
    if (!code && m->th_abort)
        code = HN_EXIT_THRESHOLD_ABORT;
    if (!code && m->th_failed)
        code = HN_EXIT_THRESHOLDS;
    if (!code && m->capacity_on && m->cap.done && !hn_capacity_last_pass(&m->cap))
        code = HN_EXIT_THRESHOLDS; /* not even the first step held */
    if (!code && (s->total.n_failures > 0 || hn_sinks_n_exceptions(m->sinks) > 0))
        code = m->o->exit_code_on_error;
    return code;
}

/* A missing or incomplete output outranks failed requests: a CI gate must not read a partial
 * report as the run's result. */
static int with_outputs(const struct master *m, int code, int outputs_failed)
{
    return outputs_failed && (!code || code == m->o->exit_code_on_error) ? HN_EXIT_PERSISTENCE
                                                                         : code;
}

/* Locust's positional class names and --equal-weights, on the loaded scenario: classes not
 * named are not spawned; equal weights make every weighted class weight 1. */
static int pick_classes(struct hn_scenario *sc, const struct hn_options *o, char *err,
                        size_t errlen)
{
    for (size_t i = 0; i < o->n_class_filter; i++) {
        if (hn_scenario_find_class(sc, o->class_filter[i]) >= 0)
            continue;
        size_t off = (size_t)snprintf(err, errlen, "hornet: unknown user class '%s' (%s has:",
                                      o->class_filter[i], sc->path);
        for (size_t c = 0; c < sc->n_classes && off < errlen; c++)
            off += (size_t)snprintf(err + off, errlen - off, "%s %s", c ? "," : "",
                                    sc->classes[c].name);
        if (off < errlen)
            snprintf(err + off, errlen - off, ")");
        return HN_EXIT_USAGE;
    }
    for (size_t c = 0; c < sc->n_classes; c++) {
        struct hn_user_class *uc = &sc->classes[c];
        int named = !o->n_class_filter;
        for (size_t i = 0; i < o->n_class_filter; i++)
            named |= !strcmp(o->class_filter[i], uc->name);
        if (!named) {
            uc->weight = 0;
            uc->fixed_count = 0;
        } else if (o->equal_weights && uc->weight) {
            uc->weight = 1;
        }
    }
    return 0;
}

/* Locust's state names for the web API. */
static const char *locust_state(const struct master *m)
{
    if (m->finished) /* between tests too, until the next one starts */
        return "stopped";
    switch (m->cl ? hn_cluster_phase(m->cl) : HN_CL_WAITING) {
    case HN_CL_WAITING: return "ready";
    case HN_CL_SPAWNING: return "spawning";
    case HN_CL_RUNNING: return "running";
    case HN_CL_STOPPING: return "stopping";
    default: return "stopped";
    }
}

/* ---------- the web UI's view of the run, and its actions ---------- */

static void web_view(void *ctx, struct hn_webui_view *v)
{
    struct master *m = ctx;
    const struct hn_options *o = m->o;
    uint64_t started = m->cl ? hn_cluster_started_ms(m->cl) : 0;
    uint64_t stopped = m->cl ? hn_cluster_stopped_ms(m->cl) : 0;
    if (!m->live_verdicts)
        m->live_verdicts = hn_calloc(m->n_ths ? m->n_ths : 1, sizeof *m->live_verdicts);
    v->run_id = m->run_id;
    v->host = m->host;
    v->scenario_path = m->sc->path;
    v->state = locust_state(m);
    v->held = m->cfg.hold;
    v->finished = m->finished;
    v->exit_code = m->final_code;
    v->stats = hn_sinks_stats(m->sinks);
    v->duration_s = duration_s(m);
    v->wall_s = hn_wall_ms() / 1000;
    v->start_wall_s = hn_sinks_start_wall_s(m->sinks);
    v->elapsed_s = started ? (double)((stopped ? stopped : now_ms()) - started) / 1000.0 : 0;
    v->run_time_s = (double)m->cfg.run_time_ms / 1000.0;
    v->users = m->cl ? hn_cluster_users(m->cl) : 0;
    v->target_users = m->cfg.users;
    v->spawn_rate = m->cfg.spawn_rate;
    v->peers = m->cl ? hn_cluster_peers(m->cl, &v->n_peers) : NULL;
    v->now_ms = now_ms();
    v->ths = m->ths;
    v->verdicts = m->live_verdicts;
    v->n_ths = m->n_ths;
    v->exc = hn_sinks_exceptions(m->sinks);
    v->n_exc = hn_sinks_n_exceptions(m->sinks);
    v->sc = m->sc;
    v->load_plan = m->n_stages || m->capacity_on || m->cfg.arrival_rate > 0;
    v->db_path = o->db_path && strcmp(o->db_path, ":memory:") ? o->db_path : NULL;
    v->db_run = hn_sinks_run_id(m->sinks);
}

/* The start form's classes into the scenario (before the start): what the split deals. */
static void apply_classes(struct master *m, const struct hn_webui_class *c)
{
    for (size_t i = 0; i < m->sc->n_classes; i++) {
        struct hn_user_class *uc = &m->sc->classes[i];
        uc->fixed_count = c[i].enabled ? c[i].fixed_count : 0;
        uc->has_fixed = uc->fixed_count > 0;
        uc->weight = c[i].enabled && !uc->has_fixed ? c[i].weight : 0;
    }
}

/* The web UI's New test (Locust's): the last test's outputs are done; the next one gets its
 * own outputs (a new run in the history; the CSV files and reports written again), charts
 * and load-plan state, with the same workers. Returns 0, or -1 with the reason in web_err. */
static int new_test(struct master *m)
{
    struct hn_sinks *s = NULL;
    if (hn_sinks_open(m->o, &s)) {
        hn_sinks_close(&s);
        snprintf(m->web_err, sizeof m->web_err,
                 "the next test's outputs cannot be opened (see the master's log)");
        return -1;
    }
    hn_sinks_close(&m->sinks);
    m->sinks = s;
    hn_webui_new_test(m->ui);
    m->finished = 0;
    m->final_code = 0;
    m->reset_ms = 0;
    m->stage_said = 0;
    m->th_abort = m->th_failed = 0;
    if (m->verdicts)
        memset(m->verdicts, 0, m->n_ths * sizeof *m->verdicts);
    hn_capacity_fini(&m->cap);
    memset(&m->cap, 0, sizeof m->cap);
    hn_stats_reset(&m->step_stats);
    m->cfg.run_time_ms = 0; /* until stopped, unless the form (or the plan) says */
    return 0;
}

static const char *web_swarm(void *ctx, uint64_t users, double rate, const char *host,
                             int64_t run_ms, const struct hn_webui_class *classes)
{
    struct master *m = ctx;
    enum hn_cl_phase ph = hn_cluster_phase(m->cl);
    if (m->finished && !m->cfg.hold)
        return "the run is over and this master is quitting (start hornet again for another)";
    if (!m->cfg.hold && ph >= HN_CL_STOPPING)
        return "the test is stopping: start a new one once it has stopped";
    int plan = m->n_stages || m->capacity_on || m->sc->arrival.rate_per_s > 0;
    if (plan && !m->cfg.hold)
        return "the load plan (stages, capacity search or arrival rate) sets the user count";
    char detail[200];
    if (!m->cfg.hold) { /* a running test: a new user count or rate */
        if (host)
            return "host: the workers run against the host the run started with";
        if (classes)
            return "user_classes: the classes are set when the run starts";
        snprintf(detail, sizeof detail, "/swarm: %llu users at %.6g/s", (unsigned long long)users,
                 rate);
        set_load(m, users, rate, detail);
        if (run_ms) /* from now, as Locust's run_time from the swarm */
            m->cfg.run_time_ms = (int64_t)(now_ms() - hn_cluster_started_ms(m->cl)) + run_ms;
        return NULL;
    }
    if (host) {
        char err[300];
        if (hn_url_check(host, err, sizeof err)) {
            snprintf(m->web_err, sizeof m->web_err, "host: %s", err);
            return m->web_err;
        }
        snprintf(m->host_buf, sizeof m->host_buf, "%s", host);
        m->host = m->host_buf;
        m->spawn_template.host = m->host;
    }
    if (classes)
        apply_classes(m, classes);
    int64_t plan_ms = 0;
    double arrival = 0;
    if (plan) /* the plan's first stage, step or rate; its run time unless the form gives one */
        initial_load(m, &users, &rate, &plan_ms, &arrival);
    if (hn_describe_validate_run(m->sc, users, m->web_err, sizeof m->web_err))
        return m->web_err;
    if (m->finished && hn_cluster_live(m->cl) < m->cfg.expect_workers) {
        /* a worker of the last test is gone: starting would wait for it, then give up */
        snprintf(m->web_err, sizeof m->web_err,
                 "%zu of the %llu workers the run expects are connected: %s",
                 hn_cluster_live(m->cl), (unsigned long long)m->cfg.expect_workers,
                 m->local ? "a local worker process is gone; start hornet again for a new test"
                          : "start another worker for a new test (or hornet again with a lower "
                            "--expect-workers)");
        return m->web_err;
    }
    if (m->finished && hn_cluster_draining(m->cl)) {
        snprintf(m->web_err, sizeof m->web_err,
                 "%zu workers have not confirmed the last test's stop yet: a new test starts "
                 "once they have (or are gone)",
                 hn_cluster_draining(m->cl));
        return m->web_err;
    }
    if (m->finished && new_test(m))
        return m->web_err;
    if (plan) {
        m->cfg.run_time_ms = plan_ms;
        m->cfg.arrival_rate = arrival;
    }
    m->cfg.users = users;
    m->cfg.spawn_rate = rate;
    if (run_ms)
        m->cfg.run_time_ms = run_ms;
    hn_describe_class_counts(m->sc, users, m->class_counts);
    m->cfg.hold = 0;
    hn_info("Starting the %s from the web UI: %llu users at %.6g/s against %s%s",
            m->tests ? "next test" : "run", (unsigned long long)users, rate, m->host,
            m->cfg.run_time_ms ? "" : " (until stopped)");
    m->tests++;
    hn_cluster_release(m->cl, now_ms(), &m->out);
    carry_out(m);
    return NULL;
}

static void web_stop(void *ctx)
{
    struct master *m = ctx;
    if (m->cl && !m->cfg.hold && hn_cluster_phase(m->cl) < HN_CL_STOPPING) {
        hn_cluster_stop(m->cl, "Stopped from the web API (/stop)", now_ms(), &m->out);
        carry_out(m);
    }
}

static void web_reset(void *ctx)
{
    struct master *m = ctx;
    hn_sinks_reset_stats(m->sinks);
    m->reset_ms = now_ms();
    hn_webui_marker(m->ui, hn_wall_ms(), "stats reset");
    hn_info("Resetting stats (/stats/reset)");
}

static int web_report(void *ctx, FILE *json, FILE *html)
{
    struct master *m = ctx;
    if (!m->finished && (!m->cl || !hn_cluster_started_ms(m->cl)))
        return HN_EINVAL; /* no test has started yet */
    struct hn_end e = end_of(m);
    return hn_sinks_report(m->sinks, &e, json, html);
}

/* The web UI (unless --headless) or, headless, --metrics-port's server: before the workers
 * come. Returns 0 or an exit code (said). */
static int open_web(struct master *m)
{
    const struct hn_options *o = m->o;
    int ui = !o->headless;
    int port = ui ? o->web_port : o->metrics_port;
    if (port < 0)
        return 0;
    if (ui && o->metrics_port >= 0 && o->metrics_port != o->web_port)
        hn_warn("--metrics-port is for --headless runs: /metrics is on the web UI's port");
    char err[256];
    int loopback = !strncmp(o->web_host, "127.", 4) || !strcmp(o->web_host, "localhost");
    if (!loopback && !o->web_auth && !o->web_no_auth) {
        fprintf(stderr, "hornet: --web-host %s: beyond loopback the server needs --web-auth "
                        "USER:PASSWORD (or --web-no-auth to expose it on purpose): its API can "
                        "change and stop the run\n", o->web_host);
        return HN_EXIT_USAGE;
    }
    char *cert = NULL, *key = NULL;
    if (o->tls_cert) {
        size_t len;
        const char *bad = hn_read_file(o->tls_cert, &cert, &len) ? "--tls-cert"
                          : hn_read_file(o->tls_key, &key, &len) ? "--tls-key" : NULL;
        if (bad) {
            fprintf(stderr, "hornet: %s %s: cannot read it: %s\n", bad,
                    !strcmp(bad, "--tls-cert") ? o->tls_cert : o->tls_key, strerror(errno));
            free(cert);
            free(key);
            return HN_EXIT_USAGE;
        }
    }
    struct hn_webui_ops ops = {m, web_view, web_swarm, web_stop, web_reset, web_report};
    m->ui = hn_webui_new(&ops);
    struct hn_web_config wc = {o->web_host, (unsigned)port, o->web_auth, cert, key};
    m->web = hn_web_open(&wc, hn_webui_handle, m->ui, err, sizeof err);
    free(cert);
    free(key);
    if (!m->web) {
        fprintf(stderr, "hornet: %s %d: %s\n", ui ? "--web-port" : "--metrics-port", port, err);
        return HN_EXIT_RUNTIME;
    }
    hn_rpc_watch_fd(m->rpc, hn_web_fd(m->web));
    const char *scheme = o->tls_cert ? "https" : "http";
    if (ui)
        hn_info("Starting web interface at %s://%s:%u%s", scheme, o->web_host,
                hn_web_port(m->web),
                m->cfg.hold ? " (open it to start the run; --autostart starts at once, "
                              "--headless runs without it)"
                            : "");
    else
        hn_info("Prometheus metrics on %s://%s:%u/metrics", scheme, o->web_host,
                hn_web_port(m->web));
    if (loopback)
        hn_info("It listens on loopback only; --web-host ADDRESS --web-auth USER:PASSWORD "
                "exposes it");
    else if (!o->web_auth)
        hn_warn("the server listens beyond loopback (%s) without --web-auth: anyone who reaches "
                "it reads the run's figures and can change or stop the run", o->web_host);
    return 0;
}

/* After the run: --autoquit T keeps the server up T more (a last scrape, the UI's last look);
 * the web UI without --autoquit stays until Ctrl-C, as Locust's does. */
static void linger(struct master *m, int code)
{
    int ui = !m->o->headless;
    if (!m->web || g_signals || (!ui && m->o->autoquit_ms <= 0) ||
        (m->o->autoquit_given && m->o->autoquit_ms <= 0))
        return; /* a Ctrl-C during the run meant quit */
    int forever = ui && !m->o->autoquit_given;
    if (forever)
        hn_info("The run is over (exit code %d); the web UI stays up: Ctrl-C quits", code);
    else
        hn_info("Serving %s for %lld s more (--autoquit); exit code %d then",
                ui ? "the web UI" : "/metrics", (long long)(m->o->autoquit_ms / 1000), code);
    int seen = g_signals;
    uint64_t until = now_ms() + (uint64_t)m->o->autoquit_ms, last = 0;
    while ((forever || now_ms() < until) && g_signals == seen) {
        if (hn_rpc_poll(m->rpc, 100)) { /* late words from workers: the run is over */
            struct hn_msg msg;
            for (int rc; (rc = hn_rpc_recv(m->rpc, &msg)) != HN_EAGAIN;)
                if (!rc)
                    hn_msg_fini(&msg);
        }
        hn_web_run(m->web);
        if (now_ms() - last >= 1000) {
            last = now_ms();
            hn_webui_tick(m->ui, hn_wall_ms(), m->web);
        }
    }
}

/* Loads and checks everything a run needs before any socket opens. Returns 0 or an exit
 * code (one line said). */
static int prepare(struct master *m)
{
    const struct hn_options *o = m->o;
    char err[8192];
    if (hn_scenario_load_file(o->scenario_path, NULL, &m->sc, err, sizeof err)) {
        /* one line per mistake in the file */
        for (char *line = err, *nl; line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            fprintf(stderr, "hornet: %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
        }
        return HN_EXIT_CONFIG;
    }
    hn_scenario_filter_tags(m->sc, o->tags, o->exclude_tags);
    if ((o->insecure || o->ca_file || o->client_cert || o->client_key) &&
        hn_scenario_set_tls(m->sc, NULL, o->insecure, o->ca_file, o->client_cert, o->client_key,
                            err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return HN_EXIT_USAGE;
    }
    if (pick_classes(m->sc, o, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return HN_EXIT_USAGE;
    }
    if (o->list_classes || o->show_task_ratio || o->show_task_ratio_json || o->check_only) {
        if (o->list_classes)
            hn_describe_list(stdout, m->sc);
        if (o->show_task_ratio)
            hn_describe_ratio(stdout, m->sc, o->users);
        if (o->show_task_ratio_json)
            hn_describe_ratio_json(stdout, m->sc, o->users);
        if (o->check_only)
            hn_describe_model(stdout, m->sc, o->host ? o->host : m->sc->host, o->http_engine);
        return -1; /* done, exit 0 */
    }
    /* the scenario's thresholds, then the command line's (checked when parsed) */
    m->n_ths = m->sc->n_thresholds + o->n_thresholds;
    m->ths = hn_calloc(m->n_ths ? m->n_ths : 1, sizeof *m->ths);
    m->verdicts = hn_calloc(m->n_ths ? m->n_ths : 1, sizeof *m->verdicts);
    for (size_t i = 0; i < m->sc->n_thresholds; i++) {
        const struct hn_threshold *t = &m->sc->thresholds[i];
        m->ths[i] = *t;
        m->ths[i].row = hn_strdup(t->row);
        m->ths[i].expr = hn_strdup(t->expr);
        m->ths[i].where = hn_strdup(t->where);
    }
    for (size_t i = 0; i < o->n_thresholds; i++)
        hn_options_threshold(o->thresholds[i], &m->ths[m->sc->n_thresholds + i], err,
                             sizeof err);
    if (o->stages) {
        hn_stages_parse(o->stages, &m->stages, &m->n_stages, err, sizeof err); /* checked */
        m->stages_owned = 1;
    } else if (m->sc->n_stages) {
        m->stages = m->sc->stages;
        m->n_stages = m->sc->n_stages;
    }
    m->capacity_on = m->sc->capacity.step > 0;
    int arrival = m->sc->arrival.rate_per_s > 0;
    if (arrival && o->stages) {
        fprintf(stderr, "hornet: --stages: the scenario's load.arrival_rate sets the load; drop "
                        "one\n");
        return HN_EXIT_USAGE;
    }
    if (arrival && (o->users_given || o->rate_given))
        hn_warn("-u and -r are ignored: the scenario's load.arrival_rate sets the load");
    if (m->capacity_on && o->stages) {
        fprintf(stderr, "hornet: --stages: the scenario's load.capacity sets the load; drop one\n");
        return HN_EXIT_USAGE;
    }
    if (m->capacity_on && !m->n_ths) {
        fprintf(stderr,
                "hornet: %s: load.capacity: a capacity search needs thresholds (the scenario's "
                "thresholds: or --threshold): they say what passing a step means\n",
                m->sc->path);
        return HN_EXIT_CONFIG;
    }
    uint64_t peak = m->capacity_on ? (m->sc->capacity.rate_mode ? m->sc->capacity.max_users
                                                                 : m->sc->capacity.max)
                    : arrival      ? m->sc->arrival.max_users
                                   : o->users;
    if (m->capacity_on && (o->users_given || o->rate_given))
        hn_warn("-u and -r are ignored: the scenario's load.capacity sets the load");
    if (m->n_stages) {
        peak = 0;
        for (size_t i = 0; i < m->n_stages; i++)
            peak = m->stages[i].users > peak ? m->stages[i].users : peak;
        if (o->users_given || o->rate_given)
            hn_warn("-u and -r are ignored: the %s set the load", o->stages ? "--stages" :
                    "scenario's load.stages");
    }
    if (hn_describe_validate_run(m->sc, peak, err, sizeof err)) {
        fprintf(stderr, "hornet: %s\n", err);
        return HN_EXIT_CONFIG;
    }
    m->host = o->host ? o->host : m->sc->host; /* -H, HORNET_HOST, a config file's host */
    if (!m->host) {
        fprintf(stderr, "hornet: %s: host: none given; set host: in the scenario or pass -H\n",
                o->scenario_path);
        return HN_EXIT_CONFIG;
    }
    if (hn_describe_check_engines(m->sc, m->host,
                                  o->http_engine && !strcmp(o->http_engine, "native"), err,
                                  sizeof err)) {
        fprintf(stderr, "hornet: %s\n", err);
        return HN_EXIT_CONFIG;
    }
    /* every output path is checked before any load is sent, not found unusable at the end */
    if (hn_check_output_path("--json", o->json_path) ||
        hn_check_output_path("--html", o->html_path) ||
        (o->db_path && strcmp(o->db_path, ":memory:") &&
         hn_check_output_path("--db", o->db_path)))
        return HN_EXIT_USAGE;
    if (o->csv_prefix && hn_mkdir_parents(o->csv_prefix) != 0) {
        fprintf(stderr, "hornet: --csv %s: cannot create its folder: %s\n", o->csv_prefix,
                strerror(errno));
        return HN_EXIT_USAGE;
    }
    return hn_sinks_open(o, &m->sinks);
}

/* The load a test starts with: -u/-r/-t, or the load plan's first stage, step or rate (its
 * run time too, unless -t cuts it). */
static void initial_load(const struct master *m, uint64_t *users_out, double *rate_out,
                         int64_t *run_time_out, double *arrival_out)
{
    const struct hn_options *o = m->o;
    uint64_t users = o->users;
    double rate = o->spawn_rate;
    int64_t run_time_ms = o->run_time_ms;
    double arrival_rate = 0;
    if (m->sc->arrival.rate_per_s > 0) { /* open model: the pool at once, then the schedule */
        users = m->sc->arrival.max_users;
        rate = 1e6;
        arrival_rate = m->sc->arrival.rate_per_s;
        if (!o->run_time_given)
            run_time_ms = m->sc->arrival.duration_ms;
    }
    if (m->capacity_on) { /* the first step; the search ends the run unless -t does first */
        const struct hn_capacity_plan *cp = &m->sc->capacity;
        if (cp->rate_mode) { /* the open model's pool at once, the rate steps up */
            users = cp->max_users;
            rate = 1e6;
            arrival_rate = (double)cp->start;
        } else {
            users = cp->start;
            rate = cp->spawn_rate > 0 ? cp->spawn_rate : (double)(cp->start > 1 ? cp->start : 1);
        }
        if (!o->run_time_given)
            run_time_ms = 0;
    }
    if (m->n_stages) { /* the plan's first stage; the run time is the plan's unless -t cuts it */
        struct hn_stage_point p;
        hn_stages_at(m->stages, m->n_stages, 0, &p);
        users = p.users;
        rate = p.spawn_rate;
        if (!o->run_time_given)
            run_time_ms = hn_stages_total_ms(m->stages, m->n_stages);
    }
    *users_out = users;
    *rate_out = rate;
    *run_time_out = run_time_ms;
    *arrival_out = arrival_rate;
}

/* The core's configuration and the fields every spawn carries. */
static void configure(struct master *m, uint64_t expect_workers)
{
    const struct hn_options *o = m->o;
    size_t nc = m->sc->n_classes;
    m->class_counts = hn_calloc(nc ? nc : 1, sizeof *m->class_counts);
    m->class_names = hn_calloc(nc ? nc : 1, sizeof *m->class_names);
    uint64_t users;
    double rate, arrival_rate;
    int64_t run_time_ms;
    initial_load(m, &users, &rate, &run_time_ms, &arrival_rate);
    hn_describe_class_counts(m->sc, users, m->class_counts);
    for (size_t c = 0; c < nc; c++)
        m->class_names[c] = m->sc->classes[c].name;
    struct hn_msg *t = &m->spawn_template;
    hn_msg_init(t, HN_MSG_SPAWN, "master");
    t->host = m->host;
    t->scenario_name = m->sc->path;
    t->scenario = m->sc->text;
    t->scenario_len = m->sc->text_len;
    t->stats_interval_ms = o->stats_interval_ms;
    t->request_timeout_ms = o->request_timeout_ms;
    t->connect_timeout_ms = o->connect_timeout_ms;
    t->heartbeat_timeout_ms = o->heartbeat_timeout_ms;
    t->stop_timeout_ms = o->stop_timeout_ms;
    t->tags = o->tags ? o->tags : "";
    t->http_engine = o->http_engine ? o->http_engine : "auto";
    t->exclude_tags = o->exclude_tags ? o->exclude_tags : "";
    t->env = m->sc->env;
    t->n_env = m->sc->n_env;
    t->files = m->sc->files;
    const struct hn_tls *tls = &m->sc->tls;
    const char *tk[4] = {"insecure", "ca_file", "client_cert", "client_key"};
    const char *tv[4] = {tls->insecure ? "1" : NULL, tls->ca_file, tls->cert_file, tls->key_file};
    t->tls = m->tls_kv;
    t->n_tls = 0;
    for (int i = 0; i < 4; i++)
        if (tv[i])
            m->tls_kv[t->n_tls++] = (struct hn_kv){(char *)tk[i], (char *)tv[i]};
    t->n_files = m->sc->n_files;
    m->cfg = (struct hn_cluster_config){.n_classes = nc,
                                        .class_names = m->class_names,
                                        .class_counts = m->class_counts,
                                        .users = users,
                                        .spawn_rate = rate,
                                        .arrival_rate = arrival_rate,
                                        .expect_workers = expect_workers,
                                        .expect_workers_max_wait_ms =
                                            o->expect_workers_max_wait_ms,
                                        .run_time_ms = run_time_ms,
                                        .iterations = o->iterations,
                                        .hold = !o->headless && !o->autostart,
                                        .heartbeat_timeout_ms = o->heartbeat_timeout_ms,
                                        .stop_timeout_ms = o->stop_timeout_ms,
                                        .run_id = m->run_id,
                                        .spawn_template = t};
    m->cl = hn_cluster_new(&m->cfg, now_ms());
}

/* Each worker holds one descriptor on the master: the soft open-file limit goes up to the
 * hard one (libzmq 4.3.4 stalls near 1009 peers at the usual 1024), and a run that expects more
 * workers than that allows is told at once. */
static uint64_t raise_file_limit(uint64_t expect)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = was;
    }
    if (rl.rlim_cur == RLIM_INFINITY)
        return 0;
    /* what the master itself holds: stdio, the database, sockets of libzmq, the CSV files */
    uint64_t room = rl.rlim_cur > 64 ? (uint64_t)rl.rlim_cur - 64 : 0;
    if (expect > room)
        hn_warn("the open-file limit (%llu) leaves room for about %llu workers, fewer than the "
                "%llu expected; raise the hard limit (ulimit -Hn) or the excess is refused",
                (unsigned long long)rl.rlim_cur, (unsigned long long)room,
                (unsigned long long)expect);
    else
        hn_debug("open-file limit %llu: room for about %llu workers",
                 (unsigned long long)rl.rlim_cur, (unsigned long long)room);
    return room;
}

/* The keys in force (*have = 0: plain links). Local mode makes a cluster secret for its
 * workers (into m->local_secret). Returns 0 or an exit code (said). */
static int link_keys(struct master *m, struct hn_rpc_keys *k, int *have)
{
    char err[1024];
    int rc = hn_keys_from_options(m->o, 1, k, have, err, sizeof err);
    if (rc) {
        fprintf(stderr, "%s\n", err);
        return rc;
    }
    if (m->local && *have) /* local mode takes no key files: this came from a secret */
        m->child_secret = hn_options_cluster_secret(m->o, err, sizeof err);
    if (m->local && !*have) {
        /* even on loopback, no other process of this machine can join the run or read the
         * scenario */
        uint8_t raw[16];
        if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
            fprintf(stderr, "hornet: cannot make a cluster secret: %s\n", strerror(errno));
            return HN_EXIT_RUNTIME;
        }
        for (int i = 0; i < 16; i++)
            snprintf(m->local_secret + 2 * i, 3, "%02x", raw[i]);
        if (hn_rpc_keys_from_secret(m->local_secret, k)) {
            fprintf(stderr, "hornet: this libzmq has no CURVE support\n");
            return HN_EXIT_RUNTIME;
        }
        m->child_secret = m->local_secret;
        *have = 1;
    }
    return 0;
}

/* A test's end: its outputs (CSV, console tables, thresholds or the capacity search), the run
 * history's end and the reports. last: the workers are told to quit (else they stay for the
 * next test). Returns the test's exit code. */
static int end_test(struct master *m, int started, int last)
{
    const struct hn_options *o = m->o;
    int outputs_failed = 0;
    if (last) {
        hn_cluster_finish(m->cl, started ? "the run is over" : "the master is giving up",
                          &m->out);
        carry_out(m);
    }
    const struct hn_stats *s = hn_sinks_stats(m->sinks);
    if (started) {
        outputs_failed = hn_sinks_write_csv(m->sinks, hn_cluster_users(m->cl), duration_s(m));
        int64_t start_s = hn_sinks_start_wall_s(m->sinks);
        hn_console_stats(stdout, s, 0, hn_wall_ms() / 1000, start_s, duration_s(m));
        hn_console_percentiles(stdout, s);
        hn_console_service_times(stdout, s);
        hn_console_errors(stdout, s);
        if (s->conns_opened || s->conns_reused)
            printf("HTTP connections (native engine): %llu opened, %llu requests on a reused "
                   "one\n",
                   (unsigned long long)s->conns_opened, (unsigned long long)s->conns_reused);
        if (m->cfg.arrival_rate > 0) {
            char d[200];
            snprintf(d, sizeof d, "%llu", (unsigned long long)s->dropped_iterations);
            printf("Open model: %.6g iterations/s on %llu users; dropped iterations (no free "
                   "user when due): %llu\n",
                   m->cfg.arrival_rate, (unsigned long long)m->cfg.users,
                   (unsigned long long)s->dropped_iterations);
            hn_sinks_event(m->sinks, "dropped_iterations", d);
            if (o->csv_prefix && hn_csv_write_open_model(o->csv_prefix, m->cfg.arrival_rate,
                                                         m->cfg.users, s->dropped_iterations)) {
                hn_error("cannot write %s_open_model.csv: %s", o->csv_prefix, strerror(errno));
                outputs_failed = 1;
            }
        }
        if (m->capacity_on) /* the steps were judged one by one */
            outputs_failed |= report_capacity(m);
        else
            outputs_failed |= judge_thresholds(m);
    }
    /* let the quit messages leave before the socket closes (linger is bounded) */
    if (last)
        hn_children_stop(&m->children);
    int code = with_outputs(m, exit_code(m), outputs_failed);
    if (started) {
        struct hn_end e = end_of(m);
        if (hn_sinks_finish(m->sinks, &e, code))
            code = with_outputs(m, code, 1);
        if (last)
            hn_info("Shutting down (exit code %d)", code);
    }
    m->finished = 1;
    m->final_code = code;
    return code;
}

int hn_master_run(const struct hn_options *o)
{
    struct master *m = hn_calloc(1, sizeof *m);
    m->o = o;
    m->local = o->mode == HN_MODE_LOCAL;
    hn_stats_init(&m->step_stats);
    hn_log_set_component("master");
    int rc = prepare(m);
    if (rc) {
        master_free(m);
        return rc < 0 ? HN_EXIT_OK : rc;
    }
    struct hn_rpc_keys keys;
    int have_keys = 0;
    rc = link_keys(m, &keys, &have_keys);
    if (rc) {
        master_free(m);
        return rc;
    }
    const char *bind_host = m->local ? "127.0.0.1" : o->master_bind_host;
    unsigned bind_port = m->local ? 0 : o->master_bind_port;
    if (!have_keys && strcmp(bind_host, "127.0.0.1") && strcmp(bind_host, "::1") &&
        strcmp(bind_host, "localhost"))
        hn_warn("the control port takes any peer that reaches it (it receives the scenario and "
                "its data): set %s on the master and its workers, or give them keys from "
                "hornet keygen, to authenticate and encrypt the links",
                HN_CLUSTER_SECRET_ENV);
    char err[512];
    rc = hn_rpc_bind(bind_host, bind_port, have_keys ? &keys : NULL, &m->rpc, err, sizeof err);
    if (have_keys && !m->local && !keys.from_secret)
        hn_info("admitting workers whose public key is among the %zu in %s", keys.n_allowed,
                o->worker_keys);
    hn_rpc_keys_fini(&keys);
    if (rc) {
        fprintf(stderr, "hornet: %s\n", err);
        master_free(m);
        return HN_EXIT_RUNTIME;
    }
    m->fd_room = raise_file_limit(m->local ? o->processes : o->expect_workers);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    uint8_t raw[8] = {0};
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        memcpy(raw, &(uint64_t){hn_mono_us() ^ (uint64_t)getpid()}, sizeof raw);
    for (int i = 0; i < 8; i++)
        snprintf(m->run_id + 2 * i, 3, "%02x", raw[i]);
    configure(m, m->local ? o->processes : o->expect_workers);
    rc = open_web(m);
    if (rc) {
        master_free(m);
        return rc;
    }
    if (m->local) {
        if (hn_children_start(o->processes, hn_rpc_endpoint_port(m->rpc), o->loglevel,
                              o->logfile, o->heartbeat_timeout_ms, m->child_secret, &m->children)) {
            master_free(m);
            return HN_EXIT_RUNTIME;
        }
    } else {
        hn_info("Waiting for %llu workers on %s:%u (max %lld s)",
                (unsigned long long)o->expect_workers, bind_host, hn_rpc_endpoint_port(m->rpc),
                (long long)(o->expect_workers_max_wait_ms / 1000));
    }

    if (hn_tty_open())
        hn_info("Keys: w/W add 1/10 users, s/S remove 1/10");
    int code;
    for (;;) {
        run_loop(m);
        int started = hn_cluster_started_ms(m->cl) != 0;
        if (!started && m->finished) { /* Ctrl-C between two tests: the last one's code */
            code = m->final_code;
            hn_cluster_finish(m->cl, "the master is quitting", &m->out);
            carry_out(m);
            hn_children_stop(&m->children);
            hn_info("Shutting down (exit code %d)", code);
            break;
        }
        /* the web UI keeps the workers for a New test, as Locust's does, unless the run was
         * interrupted or --autoquit ends the master after it */
        int again = started && !m->o->headless && !m->o->autoquit_given && !g_signals &&
                    !m->interrupted;
        if (!again)
            hn_tty_close();
        code = end_test(m, started, !again);
        if (!again) {
            linger(m, code);
            break;
        }
        hn_info("The test is over (exit code %d); the web UI stays up: New test starts another "
                "with the same workers, Ctrl-C quits", code);
        m->cfg.hold = 1;
        hn_cluster_rearm(m->cl, now_ms());
    }
    hn_tty_close();
    master_free(m);
    return code;
}
