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
#include "master/verdicts.h"
#include "proto/codec.h"
#include "proto/keys.h"
#include "proto/rpc.h"

struct master {
    const struct hn_options *o;
    struct hn_kv tls_kv[4]; /* the TLS settings sent with the spawn (borrowed strings) */
    uint64_t reset_ms;      /* --reset-stats: when the statistics restarted (0: not yet) */
    struct hn_web *web;     /* --metrics-port: the HTTP server on this loop (NULL: none) */
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
    if (!hn_cluster_peer_exited(m->cl, tag, why, now_ms(), &m->out))
        hn_error("worker process %d exited before connecting: %s", (int)pid, why);
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
            hn_cluster_phase(m->cl) == HN_CL_WAITING) {
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

static void reply_text(struct hn_web_reply *out, unsigned status, const char *type,
                       const char *text)
{
    out->status = status;
    out->content_type = type;
    out->body = hn_strdup(text);
    out->len = strlen(out->body);
}

static void reply_json(struct hn_web_reply *out, unsigned status, struct hn_json *j)
{
    out->status = status;
    out->content_type = "application/json";
    out->body = hn_json_dump(j);
    out->len = out->body ? strlen(out->body) : 0;
    hn_json_free(j);
}

/* Locust's state names for the web API. */
static const char *locust_state(const struct master *m)
{
    switch (m->cl ? hn_cluster_phase(m->cl) : HN_CL_WAITING) {
    case HN_CL_WAITING: return "ready";
    case HN_CL_SPAWNING: return "spawning";
    case HN_CL_RUNNING: return "running";
    case HN_CL_STOPPING: return "stopping";
    default: return "stopped";
    }
}

static int64_t round_ms(uint64_t us) { return (int64_t)((us + 500) / 1000); }

/* GET /stats/requests: Locust 2.x's JSON, field for field (hornet adds, never renames). */
static struct hn_json *stats_json(struct master *m)
{
    const struct hn_stats *s = hn_sinks_stats(m->sinks);
    int64_t wall_s = hn_wall_ms() / 1000, start_s = hn_sinks_start_wall_s(m->sinks);
    struct hn_json *root = hn_json_object(), *rows = hn_json_array(), *errs = hn_json_array();
    struct hn_stats_entry **v = hn_stats_sorted(s);
    for (size_t i = 0; i <= s->n_entries; i++) {
        const struct hn_stats_entry *e = i < s->n_entries ? v[i] : &s->total;
        const struct hn_hist *h = &e->hist;
        struct hn_json *r = hn_json_object();
        hn_json_set(r, "method", hn_json_string(e->type, strlen(e->type)));
        hn_json_set(r, "name", hn_json_string(e->name, strlen(e->name)));
        hn_json_set(r, "safe_name", hn_json_string(e->name, strlen(e->name)));
        hn_json_set(r, "num_requests", hn_json_integer((long long)e->n_requests));
        hn_json_set(r, "num_failures", hn_json_integer((long long)e->n_failures));
        hn_json_set(r, "avg_response_time",
                    hn_json_real(h->count ? (double)h->sum_us / (double)h->count / 1000.0 : 0));
        hn_json_set(r, "min_response_time", hn_json_integer(h->count ? round_ms(h->min_us) : 0));
        hn_json_set(r, "max_response_time", hn_json_integer(round_ms(h->max_us)));
        hn_json_set(r, "current_rps",
                    hn_json_real(hn_persec_current(&e->reqs_per_s, wall_s, start_s)));
        hn_json_set(r, "current_fail_per_sec",
                    hn_json_real(hn_persec_current(&e->fails_per_s, wall_s, start_s)));
        hn_json_set(r, "median_response_time",
                    hn_json_integer(h->count ? hn_csv_locust_ms((double)hn_hist_percentile(h, 0.5)) : 0));
        hn_json_set(r, "ninetieth_response_time",
                    hn_json_integer(h->count ? hn_csv_locust_ms((double)hn_hist_percentile(h, 0.9)) : 0));
        hn_json_set(r, "ninety_ninth_response_time",
                    hn_json_integer(h->count ? hn_csv_locust_ms((double)hn_hist_percentile(h, 0.99)) : 0));
        hn_json_set(r, "avg_content_length",
                    hn_json_real(e->n_requests ? (double)e->content_bytes / (double)e->n_requests : 0));
        hn_json_append(rows, r);
    }
    free(v);
    struct hn_stats_error **ev = hn_stats_errors_sorted(s);
    for (size_t i = 0; i < s->n_errors; i++) {
        if (!ev[i]->occurrences)
            continue;
        struct hn_json *r = hn_json_object();
        hn_json_set(r, "method", hn_json_string(ev[i]->type, strlen(ev[i]->type)));
        hn_json_set(r, "name", hn_json_string(ev[i]->name, strlen(ev[i]->name)));
        hn_json_set(r, "error", hn_json_string(ev[i]->message, strlen(ev[i]->message)));
        hn_json_set(r, "occurrences", hn_json_integer((long long)ev[i]->occurrences));
        hn_json_append(errs, r);
    }
    free(ev);
    const struct hn_stats_entry *t = &s->total;
    hn_json_set(root, "stats", rows);
    hn_json_set(root, "errors", errs);
    hn_json_set(root, "total_rps", hn_json_real(hn_persec_current(&t->reqs_per_s, wall_s, start_s)));
    hn_json_set(root, "fail_ratio",
                hn_json_real(t->n_requests ? (double)t->n_failures / (double)t->n_requests : 0));
    double p95 = (double)hn_hist_percentile(&t->hist, 0.95) / 1000.0;
    double p50 = (double)hn_hist_percentile(&t->hist, 0.5) / 1000.0;
    hn_json_set(root, "current_response_time_percentile_95", hn_json_real(p95));
    hn_json_set(root, "current_response_time_percentile_50", hn_json_real(p50));
    struct hn_json *cur = hn_json_object(); /* Locust 2.15's form of the same */
    hn_json_set(cur, "response_time_percentile_0.5", hn_json_real(p50));
    hn_json_set(cur, "response_time_percentile_0.95", hn_json_real(p95));
    hn_json_set(root, "current_response_time_percentiles", cur);
    struct hn_json *workers = hn_json_array();
    size_t n_peers = 0;
    const struct hn_peer *peers = m->cl ? hn_cluster_peers(m->cl, &n_peers) : NULL;
    for (size_t i = 0; i < n_peers; i++) {
        struct hn_json *w = hn_json_object();
        hn_json_set(w, "id", hn_json_string(peers[i].id, strlen(peers[i].id)));
        const char *st = hn_peer_state_name(peers[i].state);
        hn_json_set(w, "state", hn_json_string(st, strlen(st)));
        hn_json_set(w, "user_count", hn_json_integer((long long)peers[i].user_count));
        hn_json_set(w, "cpu_usage", hn_json_real(peers[i].cpu_percent));
        hn_json_set(w, "memory_usage", hn_json_integer((long long)peers[i].rss_bytes));
        hn_json_append(workers, w);
    }
    hn_json_set(root, "workers", workers);
    const char *state = locust_state(m);
    hn_json_set(root, "state", hn_json_string(state, strlen(state)));
    hn_json_set(root, "user_count", hn_json_integer((long long)(m->cl ? hn_cluster_users(m->cl) : 0)));
    hn_json_set(root, "dropped_iterations", hn_json_integer((long long)s->dropped_iterations));
    return root;
}

/* A form field of a POST body (application/x-www-form-urlencoded), decoded into buf. */
static const char *form_field(const char *body, const char *name, char *buf, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = body; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, name, nl) || p[nl] != '=')
            continue;
        const char *v = p + nl + 1;
        size_t k = 0;
        for (; *v && *v != '&' && k + 1 < n; v++) {
            if (*v == '+') {
                buf[k++] = ' ';
            } else if (*v == '%' && isxdigit((unsigned char)v[1]) && isxdigit((unsigned char)v[2])) {
                char hex[3] = {v[1], v[2], 0};
                buf[k++] = (char)strtol(hex, NULL, 16);
                v += 2;
            } else {
                buf[k++] = *v;
            }
        }
        buf[k] = '\0';
        return buf;
    }
    return NULL;
}

/* POST /swarm: Locust's form (user_count, spawn_rate, host, run_time) changes the running
 * load; a load plan owns it otherwise. */
static void swarm(struct master *m, const struct hn_web_req *req, struct hn_web_reply *out)
{
    char uc[32], sr[32], host[2048], rt[64];
    const char *u = form_field(req->body, "user_count", uc, sizeof uc);
    const char *r = form_field(req->body, "spawn_rate", sr, sizeof sr);
    const char *h = form_field(req->body, "host", host, sizeof host);
    const char *t = form_field(req->body, "run_time", rt, sizeof rt);
    uint64_t users;
    double rate;
    int64_t run_ms = 0;
    struct hn_json *j = hn_json_object();
    const char *why = !u || hn_parse_u64(u, &users) || users > 10000000
                          ? "user_count: expected a whole number from 0 to 10000000"
                      : !r || hn_parse_double(r, &rate) || rate <= 0 || rate > 1e6
                          ? "spawn_rate: expected a rate above 0"
                      : t && *t && (hn_parse_duration_ms(t, &run_ms) || run_ms <= 0)
                          ? "run_time: expected a duration such as 30s, 5m or 1h30m"
                      : h && *h && strcmp(h, m->host)
                          ? "host: the workers run against the host the run started with"
                      : !m->cl || !hn_cluster_started_ms(m->cl) ||
                              hn_cluster_phase(m->cl) >= HN_CL_STOPPING
                          ? "the run is not running"
                      : m->n_stages || m->capacity_on || m->cfg.arrival_rate > 0
                          ? "the load plan sets the user count"
                          : NULL;
    if (why) {
        hn_json_set(j, "success", hn_json_bool(0));
        hn_json_set(j, "message", hn_json_string(why, strlen(why)));
        reply_json(out, 400, j);
        return;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "/swarm: %llu users at %.6g/s", (unsigned long long)users,
             rate);
    hn_info("%s", detail);
    set_load(m, users, rate, detail);
    if (run_ms) /* from now, as Locust's run_time from the swarm */
        m->cfg.run_time_ms = (int64_t)(now_ms() - hn_cluster_started_ms(m->cl)) + run_ms;
    hn_json_set(j, "success", hn_json_bool(1));
    hn_json_set(j, "message", hn_json_string("Swarming started", 16));
    hn_json_set(j, "host", hn_json_string(m->host, strlen(m->host)));
    reply_json(out, 200, j);
}

static void metrics(struct master *m, struct hn_web_reply *out);

/* The master's HTTP server: Prometheus's /metrics and Locust's web API. */
static void on_web(void *ctx, const struct hn_web_req *req, struct hn_web_reply *out)
{
    struct master *m = ctx;
    const char *p = req->path;
    int get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    if (get && !strcmp(p, "/metrics")) {
        metrics(m, out);
    } else if (get && !strcmp(p, "/stats/requests")) {
        reply_json(out, 200, stats_json(m));
    } else if (get && (!strcmp(p, "/stats/requests/csv") || !strcmp(p, "/stats/failures/csv"))) {
        FILE *f = open_memstream(&out->body, &out->len);
        if (p[7] == 'r')
            hn_csv_stats_table(f, hn_sinks_stats(m->sinks), duration_s(m));
        else
            hn_csv_failures_table(f, hn_sinks_stats(m->sinks));
        fclose(f);
        out->status = 200;
        out->content_type = "text/csv";
    } else if (get && !strcmp(p, "/exceptions")) {
        struct hn_json *root = hn_json_object(), *list = hn_json_array();
        const struct hn_exception *ex = hn_sinks_exceptions(m->sinks);
        for (size_t i = 0; i < hn_sinks_n_exceptions(m->sinks); i++) {
            struct hn_json *e = hn_json_object();
            hn_json_set(e, "count", hn_json_integer((long long)ex[i].count));
            hn_json_set(e, "msg", hn_json_string(ex[i].msg, strlen(ex[i].msg)));
            hn_json_set(e, "traceback", hn_json_string(ex[i].traceback, strlen(ex[i].traceback)));
            hn_json_set(e, "nodes", hn_json_string(ex[i].nodes, strlen(ex[i].nodes)));
            hn_json_append(list, e);
        }
        hn_json_set(root, "exceptions", list);
        reply_json(out, 200, root);
    } else if (get && !strcmp(p, "/stop")) {
        if (m->cl && hn_cluster_phase(m->cl) < HN_CL_STOPPING) {
            hn_cluster_stop(m->cl, "Stopped from the web API (/stop)", now_ms(), &m->out);
            carry_out(m);
        }
        struct hn_json *j = hn_json_object();
        hn_json_set(j, "success", hn_json_bool(1));
        hn_json_set(j, "message", hn_json_string("Test stopped", 12));
        reply_json(out, 200, j);
    } else if (get && !strcmp(p, "/stats/reset")) {
        hn_sinks_reset_stats(m->sinks);
        m->reset_ms = now_ms();
        hn_info("Resetting stats (/stats/reset)");
        reply_text(out, 200, "text/plain", "ok");
    } else if (!strcmp(req->method, "POST") && !strcmp(p, "/swarm")) {
        swarm(m, req, out);
    } else {
        reply_text(out, 404, "text/plain",
                   "hornet serves /metrics and Locust's web API (/stats/requests, /swarm, "
                   "/stop, /stats/reset, /stats/requests/csv, /stats/failures/csv, "
                   "/exceptions)\n");
    }
}

/* GET /metrics, from what the master holds now. */
static void metrics(struct master *m, struct hn_web_reply *out)
{
    const struct hn_stats *s = hn_sinks_stats(m->sinks);
    if (!m->live_verdicts)
        m->live_verdicts = hn_calloc(m->n_ths ? m->n_ths : 1, sizeof *m->live_verdicts);
    if (m->n_ths)
        hn_thresholds_eval(m->ths, m->n_ths, s, duration_s(m), s->dropped_iterations, 0, 0,
                           m->live_verdicts);
    size_t n_peers = 0;
    const struct hn_peer *peers = m->cl ? hn_cluster_peers(m->cl, &n_peers) : NULL;
    int64_t wall_s = hn_wall_ms() / 1000;
    enum hn_cl_phase ph = m->cl ? hn_cluster_phase(m->cl) : HN_CL_WAITING;
    struct hn_metrics_in in = {
        .run_id = m->run_id,
        .stats = s,
        .rps = hn_persec_current(&s->total.reqs_per_s, wall_s, hn_sinks_start_wall_s(m->sinks)),
        .users = m->cl ? hn_cluster_users(m->cl) : 0,
        .target_users = m->cfg.users,
        .peers = peers,
        .n_peers = n_peers,
        .ths = m->ths,
        .verdicts = m->live_verdicts,
        .n_ths = m->n_ths,
        .running = ph == HN_CL_SPAWNING || ph == HN_CL_RUNNING || ph == HN_CL_STOPPING,
    };
    FILE *f = open_memstream(&out->body, &out->len);
    if (!f) {
        out->status = 500;
        return;
    }
    hn_metrics_write(f, &in);
    fclose(f);
    out->status = 200;
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* --metrics-port: the HTTP server, before the workers come. Returns 0 or an exit code. */
static int open_web(struct master *m)
{
    const struct hn_options *o = m->o;
    if (o->metrics_port < 0)
        return 0;
    char err[256];
    int loopback = !strncmp(o->web_host, "127.", 4) || !strcmp(o->web_host, "localhost");
    if (!loopback && !o->web_auth && !o->web_no_auth) {
        fprintf(stderr, "hornet: --web-host %s: beyond loopback the server needs --web-auth "
                        "USER:PASSWORD (or --web-no-auth to expose it on purpose): its API can "
                        "change and stop the run\n", o->web_host);
        return HN_EXIT_USAGE;
    }
    m->web = hn_web_open(o->web_host, (unsigned)o->metrics_port, o->web_auth, on_web, m, err,
                         sizeof err);
    if (!m->web) {
        fprintf(stderr, "hornet: --metrics-port %d: %s\n", o->metrics_port, err);
        return HN_EXIT_RUNTIME;
    }
    hn_rpc_watch_fd(m->rpc, hn_web_fd(m->web));
    hn_info("Prometheus metrics on http://%s:%u/metrics", o->web_host, hn_web_port(m->web));
    if (loopback)
        hn_info("It listens on loopback only; --web-host ADDRESS --web-auth USER:PASSWORD "
                "exposes it");
    else if (!o->web_auth)
        hn_warn("the server listens beyond loopback (%s) without --web-auth: anyone who reaches "
                "it reads the run's figures and can change or stop the run", o->web_host);
    return 0;
}

/* --autoquit T: the metrics stay up T after the run (for a last scrape); Ctrl-C ends it. */
static void linger(struct master *m, int code)
{
    if (!m->web || m->o->autoquit_ms <= 0)
        return;
    hn_info("Serving /metrics for %lld s more (--autoquit); exit code %d then",
            (long long)(m->o->autoquit_ms / 1000), code);
    int seen = g_signals;
    uint64_t until = now_ms() + (uint64_t)m->o->autoquit_ms;
    while (now_ms() < until && g_signals == seen) {
        if (hn_rpc_poll(m->rpc, 100)) { /* late words from workers: the run is over */
            struct hn_msg msg;
            for (int rc; (rc = hn_rpc_recv(m->rpc, &msg)) != HN_EAGAIN;)
                if (!rc)
                    hn_msg_fini(&msg);
        }
        hn_web_run(m->web);
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
            hn_describe_model(stdout, m->sc);
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

/* The core's configuration and the fields every spawn carries. */
static void configure(struct master *m, uint64_t expect_workers)
{
    const struct hn_options *o = m->o;
    size_t nc = m->sc->n_classes;
    m->class_counts = hn_calloc(nc ? nc : 1, sizeof *m->class_counts);
    m->class_names = hn_calloc(nc ? nc : 1, sizeof *m->class_names);
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
    rc = open_web(m);
    if (rc) {
        master_free(m);
        return rc;
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
    run_loop(m);
    hn_tty_close();

    int started = hn_cluster_started_ms(m->cl) != 0, outputs_failed = 0;
    hn_cluster_finish(m->cl, started ? "the run is over" : "the master is giving up", &m->out);
    carry_out(m);
    const struct hn_stats *s = hn_sinks_stats(m->sinks);
    if (started) {
        outputs_failed = hn_sinks_write_csv(m->sinks, hn_cluster_users(m->cl), duration_s(m));
        int64_t start_s = hn_sinks_start_wall_s(m->sinks);
        hn_console_stats(stdout, s, 0, hn_wall_ms() / 1000, start_s, duration_s(m));
        hn_console_percentiles(stdout, s);
        hn_console_service_times(stdout, s);
        hn_console_errors(stdout, s);
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
    hn_children_stop(&m->children);
    int code = with_outputs(m, exit_code(m), outputs_failed);
    if (started) {
        size_t n;
        const struct hn_peer *peers = hn_cluster_peers(m->cl, &n);
        grow_times(m, (int64_t)n);
        if (hn_sinks_finish(m->sinks, peers, n, m->joined_ms, m->left_ms, code, duration_s(m)))
            code = with_outputs(m, code, 1);
        hn_info("Shutting down (exit code %d)", code);
    }
    linger(m, code);
    master_free(m);
    return code;
}
