#include "worker/runner.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define MAX_UNACKED 600      /* sent deltas kept for a relink: 10 minutes of reports at 1 s */
#define BEAT_MS 1000         /* heartbeats, and the liveness and connect checks */
#define STOP_POLL_MS 50      /* how often a stop looks whether the users are done */
#define SPAWN_MIN_STEP_MS 10 /* the spawn schedule's finest step */
#define LEAVE_WAIT_MS 2000   /* a leaving worker waits this long for the final delta's ack */
#define WAIT_LOG_MS 30000    /* a worker waiting for a master says so this often */

struct sent_delta {
    uint64_t seq;
    struct hn_stats *stats;
};

struct rn_class {
    const char *name;
    uint64_t target, running;
};

struct hn_runner {
    struct hn_runner_config cfg;
    enum hn_rn_state state;
    char node_id[HN_NODE_ID_MAX];
    char previous[HN_NODE_ID_MAX]; /* our id before the last relink ("" if none) */
    char run[72];                  /* the run of the master that acked us last */
    int64_t index;
    int served;          /* a master acked us once: after losing it, wait for another */
    int relinking;       /* the master was lost: users are stopping, then a new link */
    int quit_after_stop; /* a signal stops the users, then the worker leaves */
    int unsent;          /* a delta could not leave: keep reporting until it does */
    uint64_t dropped_copies; /* unconfirmed copies dropped past MAX_UNACKED */
    int dropped_said;
    uint64_t started_ms, last_master_ms, next_beat_ms, next_report_ms, last_wait_log_ms;
    int64_t heartbeat_timeout_ms, stats_interval_ms, stop_timeout_ms;
    uint64_t spawn_seq, stats_seq;
    /* the spawn being loaded */
    uint64_t pending_seq;
    double pending_rate, pending_arrival;
    /* open model: iterations on a fixed schedule; the next is due at next_due_ms */
    double arrival_rate;
    double next_due_ms;
    /* the class mix */
    struct rn_class *cls;
    size_t n_cls;
    double spawn_rate;
    uint64_t spawn_start_ms, spawned, last_spawn_ms;
    uint64_t stop_started_ms, next_stop_poll_ms, leave_deadline_ms;
    struct hn_stats stats;
    /* copies of the deltas sent but not yet confirmed (the master's heartbeats say how far it
     * merged): a relink re-sends exactly those it never merged */
    struct sent_delta *unacked;
    size_t n_unacked, cap_unacked;
};

static const char *const k_state_names[] = {"connecting", "ready",   "spawning", "running",
                                            "stopping",   "stopped", "leaving",  "done"};

const char *hn_runner_state_name(enum hn_rn_state s) { return k_state_names[s]; }

/* ---------- outbox ---------- */

static struct hn_rn_action *push(struct hn_rn_outbox *o, enum hn_rn_kind kind)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->v = hn_realloc(o->v, o->cap * sizeof *o->v);
    }
    struct hn_rn_action *a = &o->v[o->n++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    return a;
}

void hn_rn_outbox_reset(struct hn_rn_outbox *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->v[i].classes);
    o->n = 0;
}

void hn_rn_outbox_fini(struct hn_rn_outbox *o)
{
    hn_rn_outbox_reset(o);
    free(o->v);
    o->v = NULL;
    o->cap = 0;
}

static void say(struct hn_rn_outbox *o, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(struct hn_rn_outbox *o, int level, const char *fmt, ...)
{
    struct hn_rn_action *a = push(o, HN_RN_LOG);
    a->level = level;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->text, sizeof a->text, fmt, ap);
    va_end(ap);
}

static struct hn_msg *send(struct hn_runner *r, struct hn_rn_outbox *o, enum hn_msg_type t)
{
    struct hn_rn_action *a = push(o, HN_RN_SEND);
    hn_msg_init(&a->msg, t, r->node_id);
    return &a->msg;
}

static void leave_now(struct hn_runner *r, struct hn_rn_outbox *o, int code);

/* ---------- the one transition function ---------- */

static void set_state(struct hn_runner *r, enum hn_rn_state to)
{
    enum hn_rn_state from = r->state;
    int ok;
    switch (to) {
    case HN_RN_CONNECTING: ok = from == HN_RN_STOPPING; break; /* a relink */
    case HN_RN_READY: ok = from == HN_RN_CONNECTING; break;
    case HN_RN_SPAWNING: ok = from >= HN_RN_READY && from <= HN_RN_STOPPED; break;
    case HN_RN_RUNNING: ok = from == HN_RN_SPAWNING; break;
    case HN_RN_STOPPING:
        ok = from >= HN_RN_READY && from <= HN_RN_STOPPED && from != HN_RN_STOPPING;
        break;
    case HN_RN_STOPPED: ok = from == HN_RN_STOPPING; break;
    case HN_RN_LEAVING: ok = from >= HN_RN_READY && from <= HN_RN_STOPPED; break;
    case HN_RN_DONE: ok = from != HN_RN_DONE; break;
    default: ok = 0; break;
    }
    hn_assert(ok);
    r->state = to;
}

/* ---------- stats copies ---------- */

static uint64_t stats_requests(const struct hn_stats *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->n_entries; i++)
        n += s->entries[i]->n_requests;
    return n;
}

static void free_copy(struct sent_delta *d)
{
    hn_stats_fini(d->stats);
    free(d->stats);
}

/* The master merged every report up to acked: their copies go. */
static void drop_acked(struct hn_runner *r, uint64_t acked)
{
    size_t k = 0;
    while (k < r->n_unacked && r->unacked[k].seq <= acked)
        free_copy(&r->unacked[k++]);
    if (!k)
        return;
    memmove(r->unacked, r->unacked + k, (r->n_unacked - k) * sizeof *r->unacked);
    r->n_unacked -= k;
}

/* After a relink to the same run: what the master never merged joins the next delta. */
static void take_back_unacked(struct hn_runner *r, uint64_t acked)
{
    drop_acked(r, acked);
    for (size_t i = 0; i < r->n_unacked; i++) {
        hn_stats_merge(&r->stats, r->unacked[i].stats);
        free_copy(&r->unacked[i]);
    }
    r->n_unacked = 0;
}

void hn_runner_stats_msg(struct hn_runner *r, struct hn_msg *m)
{
    hn_msg_init(m, HN_MSG_STATS, r->node_id);
    m->seq = ++r->stats_seq;
    m->user_count = hn_runner_running(r);
    if (r->n_unacked == MAX_UNACKED) {
        /* the master has not confirmed for minutes: the oldest copy goes (said at the next
         * tick) */
        r->dropped_copies++;
        free_copy(&r->unacked[0]);
        memmove(r->unacked, r->unacked + 1, (r->n_unacked - 1) * sizeof *r->unacked);
        r->n_unacked--;
    }
    if (r->n_unacked == r->cap_unacked) {
        r->cap_unacked = r->cap_unacked ? r->cap_unacked * 2 : 8;
        r->unacked = hn_realloc(r->unacked, r->cap_unacked * sizeof *r->unacked);
    }
    struct sent_delta *d = &r->unacked[r->n_unacked++];
    d->seq = m->seq;
    d->stats = hn_malloc(sizeof *d->stats);
    hn_stats_init(d->stats);
    hn_stats_merge(d->stats, &r->stats);
    hn_stats_reset(&r->stats);
    m->stats = d->stats;
    r->unsent = 0;
}

void hn_runner_unsent(struct hn_runner *r, uint64_t seq)
{
    if (!r->n_unacked || r->unacked[r->n_unacked - 1].seq != seq || seq != r->stats_seq)
        return; /* not the last one numbered: its copy waits for a relink */
    struct sent_delta *d = &r->unacked[--r->n_unacked];
    hn_stats_merge(&r->stats, d->stats);
    free_copy(d);
    r->stats_seq--;
    r->unsent = 1;
}

/* ---------- spawning ---------- */

/* The class furthest below its target, relative to the target (keeps the mix even while
 * ramping); -1 when every class is at its target. */
static int neediest_class(const struct hn_runner *r)
{
    int best = -1;
    double best_gap = 0;
    for (size_t c = 0; c < r->n_cls; c++) {
        const struct rn_class *k = &r->cls[c];
        if (k->running >= k->target)
            continue;
        double gap = (double)(k->target - k->running) / (double)k->target;
        if (best < 0 || gap > best_gap) {
            best = (int)c;
            best_gap = gap;
        }
    }
    return best;
}

static uint64_t target_total(const struct hn_runner *r)
{
    uint64_t n = 0;
    for (size_t c = 0; c < r->n_cls; c++)
        n += r->cls[c].target;
    return n;
}

static void spawning_complete(struct hn_runner *r, struct hn_rn_outbox *o)
{
    set_state(r, HN_RN_RUNNING);
    struct hn_rn_action *a = push(o, HN_RN_SEND);
    hn_msg_init(&a->msg, HN_MSG_SPAWNING_COMPLETE, r->node_id);
    a->msg.seq = r->spawn_seq;
    a->msg.user_count = hn_runner_running(r);
    a->classes = hn_calloc(r->n_cls ? r->n_cls : 1, sizeof *a->classes);
    char summary[400] = "";
    size_t off = 0;
    for (size_t c = 0; c < r->n_cls; c++) {
        a->classes[c].name = (char *)r->cls[c].name;
        a->classes[c].count = r->cls[c].running;
        if (off < sizeof summary)
            off += (size_t)snprintf(summary + off, sizeof summary - off, "%s%s: %llu",
                                    c ? ", " : "", r->cls[c].name,
                                    (unsigned long long)r->cls[c].running);
    }
    a->msg.classes = a->classes;
    a->msg.n_classes = r->n_cls;
    say(o, HN_LOG_INFO, "spawning complete: %llu users (%s)",
        (unsigned long long)hn_runner_running(r), summary);
}

/* The first user starts at once, then one every 1/rate seconds, the neediest class first. */
static void spawn_due(struct hn_runner *r, uint64_t now, struct hn_rn_outbox *o)
{
    uint64_t elapsed = now - r->spawn_start_ms;
    uint64_t due = 1 + (uint64_t)((double)elapsed * r->spawn_rate / 1000.0);
    struct hn_rn_action *last = NULL;
    while (r->spawned < due) {
        int c = neediest_class(r);
        if (c < 0)
            break;
        if (!last || last->cls != (size_t)c) {
            last = push(o, HN_RN_SPAWN);
            last->cls = (size_t)c;
        }
        last->count++;
        r->cls[c].running++;
        r->spawned++;
    }
    r->last_spawn_ms = now;
    if (neediest_class(r) < 0)
        spawning_complete(r, o);
}

/* ---------- open model ---------- */

static int arriving(const struct hn_runner *r)
{
    return r->arrival_rate > 0 && (r->state == HN_RN_SPAWNING || r->state == HN_RN_RUNNING);
}

/* Iterations are due every 1 / rate whatever the responses do (k6's constant-arrival-rate);
 * the ones due by now start at once, each measured from its own intended time. */
static void iterations_due(struct hn_runner *r, uint64_t now, struct hn_rn_outbox *o)
{
    /* the sum of fractional intervals drifts by rounding: due within a microsecond is due */
    if (r->next_due_ms > (double)now + 1e-3)
        return;
    double iv = 1000.0 / r->arrival_rate;
    double behind = (double)now - r->next_due_ms;
    uint64_t n = 1 + (behind > 0 ? (uint64_t)((behind + 1e-3) / iv) : 0);
    struct hn_rn_action *a = push(o, HN_RN_ITERATE);
    a->count = n;
    a->interval_ms = iv;
    a->first_ms = r->next_due_ms;
    r->next_due_ms += (double)n * iv;
}

/* ---------- stop, relink, leave ---------- */

static void stop_users(struct hn_runner *r, struct hn_rn_outbox *o, int graceful)
{
    for (size_t c = 0; c < r->n_cls; c++) {
        r->cls[c].target = 0;
        if (!r->cls[c].running)
            continue;
        struct hn_rn_action *a = push(o, HN_RN_STOP_USERS);
        a->cls = c;
        a->keep = 0;
        a->graceful = graceful;
        r->cls[c].running = 0;
    }
}

/* Graceful: no new task starts, requests in flight and on_stop steps finish within the stop
 * timeout; the tick ends the stop when the users are done or the timeout passed. */
static void begin_stop(struct hn_runner *r, uint64_t now, struct hn_rn_outbox *o)
{
    stop_users(r, o, 1);
    if (r->state != HN_RN_STOPPING) { /* a stop under way keeps its deadline */
        set_state(r, HN_RN_STOPPING);
        r->stop_started_ms = now;
    }
    r->next_stop_poll_ms = now; /* done at once if nobody was busy */
}

static void relink(struct hn_runner *r, uint64_t now, struct hn_rn_outbox *o)
{
    set_state(r, HN_RN_CONNECTING);
    r->relinking = 0;
    r->stats_seq = 0;
    r->spawn_seq = 0;
    r->last_wait_log_ms = now;
    if (!r->previous[0]) /* a relink that never got an ack keeps the first id */
        snprintf(r->previous, sizeof r->previous, "%s", r->node_id);
    push(o, HN_RN_RELINK);
}

/* A signal: users end now (requests in flight count as interrupted), the last delta and quit
 * go to the master, and the worker waits (bounded) for the master to confirm the delta. */
static void leave(struct hn_runner *r, uint64_t now, struct hn_rn_outbox *o)
{
    if (r->state == HN_RN_CONNECTING || r->state == HN_RN_LEAVING || r->relinking) {
        /* no master to tell */
        stop_users(r, o, 0);
        push(o, HN_RN_ABORT_STOPPING);
        leave_now(r, o, HN_EXIT_INTERRUPTED);
        return;
    }
    stop_users(r, o, 0);
    push(o, HN_RN_ABORT_STOPPING);
    push(o, HN_RN_SEND_STATS);
    struct hn_rn_action *a = push(o, HN_RN_SEND);
    hn_msg_init(&a->msg, HN_MSG_QUIT, r->node_id);
    a->msg.error = "worker interrupted";
    set_state(r, HN_RN_LEAVING);
    r->leave_deadline_ms = now + LEAVE_WAIT_MS;
}

static void leave_now(struct hn_runner *r, struct hn_rn_outbox *o, int code)
{
    struct hn_rn_action *a = push(o, HN_RN_EXIT);
    a->code = code;
    set_state(r, HN_RN_DONE);
}

static void stopped(struct hn_runner *r, uint64_t now, struct hn_rn_outbox *o)
{
    push(o, HN_RN_ABORT_STOPPING); /* whoever outlived the stop timeout */
    if (r->quit_after_stop) {
        leave(r, now, o);
        return;
    }
    if (r->relinking) {
        relink(r, now, o);
        return;
    }
    set_state(r, HN_RN_STOPPED);
    push(o, HN_RN_SEND_STATS); /* the final delta travels before client_stopped */
    send(r, o, HN_MSG_CLIENT_STOPPED);
    say(o, HN_LOG_INFO, "stopped all users");
}

/* No load without a master: the users stop as on a master's stop, then the worker relinks
 * and waits for a master. */
static void lose_master(struct hn_runner *r, uint64_t now, struct hn_rn_outbox *o)
{
    say(o, HN_LOG_ERROR,
        "lost the master at %s: no message for %lld s; stopping all users and waiting for a "
        "master",
        r->cfg.master, (long long)(r->heartbeat_timeout_ms / 1000));
    r->quit_after_stop = 0;
    r->relinking = 1;
    begin_stop(r, now, o);
}

/* ---------- entry points ---------- */

struct hn_runner *hn_runner_new(const struct hn_runner_config *cfg, uint64_t now_ms)
{
    struct hn_runner *r = hn_calloc(1, sizeof *r);
    r->cfg = *cfg;
    r->state = HN_RN_CONNECTING;
    r->heartbeat_timeout_ms = cfg->heartbeat_timeout_ms;
    r->stats_interval_ms = cfg->stats_interval_ms > 0 ? cfg->stats_interval_ms : 1000;
    r->started_ms = now_ms;
    r->last_master_ms = now_ms;
    r->last_wait_log_ms = now_ms;
    r->next_beat_ms = now_ms + BEAT_MS;
    r->index = -1;
    hn_stats_init(&r->stats);
    return r;
}

void hn_runner_destroy(struct hn_runner **rp)
{
    struct hn_runner *r = *rp;
    if (!r)
        return;
    take_back_unacked(r, UINT64_MAX);
    free(r->unacked);
    hn_stats_fini(&r->stats);
    free(r->cls);
    free(r);
    *rp = NULL;
}

void hn_runner_linked(struct hn_runner *r, const char *node_id, uint64_t now_ms,
                      struct hn_rn_outbox *out)
{
    snprintf(r->node_id, sizeof r->node_id, "%s", node_id);
    r->last_master_ms = now_ms;
    struct hn_msg *m = send(r, out, HN_MSG_CLIENT_READY);
    m->protocol_version = HN_PROTOCOL_VERSION;
    m->version = HORNET_VERSION;
    m->previous = r->previous;
}

static void on_ack(struct hn_runner *r, const struct hn_msg *m, struct hn_rn_outbox *o)
{
    if (m->error && *m->error) {
        say(o, HN_LOG_ERROR, "the master refused this worker: %s", m->error);
        leave_now(r, o, HN_EXIT_CLUSTER);
        return;
    }
    if (r->state == HN_RN_LEAVING) { /* the master's answer to our quit */
        drop_acked(r, m->acked);
        if (!r->n_unacked)
            leave_now(r, o, HN_EXIT_INTERRUPTED);
        return;
    }
    if (r->state != HN_RN_CONNECTING)
        return;
    r->index = m->index;
    r->served = 1;
    set_state(r, HN_RN_READY);
    const char *run = m->run ? m->run : "";
    if (strcmp(run, r->run)) {
        /* what this worker measured for a master that is gone belongs to that run, not to
         * this one: said, and dropped */
        take_back_unacked(r, 0);
        uint64_t n = stats_requests(&r->stats);
        if (n)
            say(o, HN_LOG_WARNING,
                "dropping %llu requests measured for the previous master's run (it is gone; "
                "they are not part of this run)",
                (unsigned long long)n);
        hn_stats_reset(&r->stats);
        r->unsent = 0;
    } else {
        take_back_unacked(r, m->acked); /* the same run: exactly what it never merged */
        r->unsent = stats_requests(&r->stats) > 0;
    }
    r->previous[0] = '\0';
    snprintf(r->run, sizeof r->run, "%s", run);
    say(o, HN_LOG_INFO, "connected to master %s as worker #%lld", r->cfg.master,
        (long long)m->index);
}

static void on_spawn(struct hn_runner *r, const struct hn_msg *m, struct hn_rn_outbox *o)
{
    if (r->state == HN_RN_CONNECTING || r->state == HN_RN_LEAVING || r->state == HN_RN_DONE ||
        r->quit_after_stop || r->relinking)
        return; /* leaving, or relinking (the master was lost): no new users */
    if (m->seq <= r->spawn_seq && r->spawn_seq) {
        say(o, HN_LOG_DEBUG, "ignoring stale spawn #%llu", (unsigned long long)m->seq);
        return;
    }
    r->pending_seq = m->seq;
    r->pending_rate = m->spawn_rate > 0 ? m->spawn_rate : 1;
    r->pending_arrival = m->arrival_rate;
    r->stop_timeout_ms = m->stop_timeout_ms;
    if (m->stats_interval_ms > 0)
        r->stats_interval_ms = m->stats_interval_ms;
    if (m->heartbeat_timeout_ms > 0)
        r->heartbeat_timeout_ms = m->heartbeat_timeout_ms;
    struct hn_rn_action *a = push(o, HN_RN_LOAD);
    a->spawn = m;
}

void hn_runner_on_msg(struct hn_runner *r, const struct hn_msg *m, uint64_t now_ms,
                      struct hn_rn_outbox *out)
{
    if (r->state == HN_RN_DONE)
        return;
    r->last_master_ms = now_ms;
    switch (m->type) {
    case HN_MSG_ACK:
        on_ack(r, m, out);
        break;
    case HN_MSG_SPAWN:
        on_spawn(r, m, out);
        break;
    case HN_MSG_STOP:
        if (r->state != HN_RN_CONNECTING && r->state != HN_RN_LEAVING &&
            r->state != HN_RN_STOPPING)
            begin_stop(r, now_ms, out);
        break;
    case HN_MSG_QUIT:
        say(out, HN_LOG_INFO, "master said quit%s%s", m->error && *m->error ? ": " : "",
            m->error ? m->error : "");
        leave_now(r, out, r->state == HN_RN_LEAVING ? HN_EXIT_INTERRUPTED : HN_EXIT_OK);
        break;
    case HN_MSG_HEARTBEAT:
        if (r->state == HN_RN_CONNECTING)
            break;
        drop_acked(r, m->acked);
        if (r->state == HN_RN_LEAVING && !r->n_unacked)
            leave_now(r, out, HN_EXIT_INTERRUPTED);
        break;
    default:
        say(out, HN_LOG_DEBUG, "ignoring %s from the master", hn_msg_type_name(m->type));
        break;
    }
}

void hn_runner_loaded(struct hn_runner *r, int ok, int fresh, size_t n_classes,
                      const char *const *names, const uint64_t *targets, uint64_t now_ms,
                      struct hn_rn_outbox *out)
{
    if (!ok) {
        struct hn_msg *m = send(r, out, HN_MSG_EXCEPTION);
        m->error = "worker could not load the scenario sent by the master";
        m->traceback = "";
        leave_now(r, out, HN_EXIT_CONFIG);
        return;
    }
    if (fresh || n_classes != r->n_cls) {
        free(r->cls);
        r->cls = hn_calloc(n_classes ? n_classes : 1, sizeof *r->cls);
        r->n_cls = n_classes;
    }
    r->spawn_seq = r->pending_seq;
    for (size_t c = 0; c < n_classes; c++) {
        struct rn_class *k = &r->cls[c];
        k->name = names[c];
        k->target = targets[c];
        if (k->running > k->target) {
            struct hn_rn_action *a = push(out, HN_RN_STOP_USERS);
            a->cls = c;
            a->keep = k->target;
            a->graceful = 1;
            k->running = k->target;
        }
    }
    int was_reporting = r->state == HN_RN_SPAWNING || r->state == HN_RN_RUNNING;
    /* a new share of the arrival rate keeps the schedule going (a rate that changes every
     * second neither adds nor loses iterations); a first one starts it now */
    double was = arriving(r) ? r->arrival_rate : 0;
    r->arrival_rate = r->pending_arrival;
    if (r->arrival_rate > 0) {
        double iv = 1000.0 / r->arrival_rate;
        if (was <= 0)
            r->next_due_ms = (double)now_ms;
        else if (r->next_due_ms > (double)now_ms + iv)
            r->next_due_ms = (double)now_ms + iv; /* faster: no need to wait out the old gap */
    }
    r->spawn_rate = r->pending_rate;
    r->spawn_start_ms = now_ms;
    r->spawned = 0;
    set_state(r, HN_RN_SPAWNING);
    if (!was_reporting)
        r->next_report_ms = now_ms + (uint64_t)r->stats_interval_ms;
    say(out, HN_LOG_INFO, "spawning %llu users at %.2f users/s",
        (unsigned long long)target_total(r), r->spawn_rate);
    spawn_due(r, now_ms, out);
}

static int reporting(const struct hn_runner *r)
{
    switch (r->state) {
    case HN_RN_SPAWNING:
    case HN_RN_RUNNING:
        return 1;
    case HN_RN_STOPPING:
        return !r->relinking; /* a lost master gets nothing until a new link is acked */
    case HN_RN_READY:
    case HN_RN_STOPPED:
        return r->unsent; /* a delta that could not leave is retried */
    default:
        return 0;
    }
}

/* Once a second: the connect wait, the master's liveness, the heartbeat. */
static void beat(struct hn_runner *r, uint64_t now, struct hn_rn_outbox *o)
{
    if (r->state == HN_RN_CONNECTING) {
        if (r->served) {
            /* a worker that served a master waits for one as long as it runs (a restarted
             * master, a healed partition); it says so now and then */
            if (now - r->last_wait_log_ms >= WAIT_LOG_MS) {
                r->last_wait_log_ms = now;
                say(o, HN_LOG_INFO, "waiting for a master at %s", r->cfg.master);
            }
            return;
        }
        if ((int64_t)(now - r->started_ms) > r->cfg.master_connect_timeout_ms) {
            say(o, HN_LOG_ERROR, "cannot reach the master at %s within %lld s%s",
                r->cfg.master, (long long)(r->cfg.master_connect_timeout_ms / 1000),
                r->cfg.has_secret ? " (or its cluster secret or key differs from this worker's)"
                                  : " (or it requires a cluster secret)");
            leave_now(r, o, HN_EXIT_CLUSTER);
        }
        return;
    }
    if (r->state == HN_RN_LEAVING)
        return;
    if (!r->relinking && (int64_t)(now - r->last_master_ms) > r->heartbeat_timeout_ms) {
        lose_master(r, now, o);
        return;
    }
    push(o, HN_RN_HEARTBEAT);
}

void hn_runner_tick(struct hn_runner *r, uint64_t now_ms, uint64_t busy,
                    struct hn_rn_outbox *out)
{
    if (r->state == HN_RN_DONE)
        return;
    /* busy was measured before this tick: a stop that begins in it (a lost master) is judged
     * at the next one, or the users it just told to finish would be cut at once */
    int was_stopping = r->state == HN_RN_STOPPING;
    if (now_ms >= r->next_beat_ms) {
        /* a late beat means this process was not running (stopped, starved): that time is
         * not the master's silence */
        if (now_ms > r->next_beat_ms + BEAT_MS / 2)
            r->last_master_ms += now_ms - r->next_beat_ms;
        r->next_beat_ms = now_ms + BEAT_MS;
        beat(r, now_ms, out);
        if (r->state == HN_RN_DONE)
            return;
    }
    if (r->dropped_copies && !r->dropped_said) {
        r->dropped_said = 1;
        say(out, HN_LOG_WARNING,
            "the master has not confirmed %d reports; older ones are no longer kept for a "
            "re-send",
            MAX_UNACKED);
    }
    if (reporting(r) && now_ms >= r->next_report_ms) {
        r->next_report_ms = now_ms + (uint64_t)r->stats_interval_ms;
        push(out, HN_RN_SEND_STATS);
    }
    if (r->state == HN_RN_SPAWNING)
        spawn_due(r, now_ms, out);
    if (arriving(r))
        iterations_due(r, now_ms, out);
    if (r->state == HN_RN_STOPPING && was_stopping && now_ms >= r->next_stop_poll_ms) {
        r->next_stop_poll_ms = now_ms + STOP_POLL_MS;
        if (!busy || (int64_t)(now_ms - r->stop_started_ms) >= r->stop_timeout_ms)
            stopped(r, now_ms, out);
    }
    if (r->state == HN_RN_LEAVING && now_ms >= r->leave_deadline_ms) {
        say(out, HN_LOG_WARNING,
            "the master did not confirm the last report within %d s; leaving anyway",
            LEAVE_WAIT_MS / 1000);
        leave_now(r, out, HN_EXIT_INTERRUPTED);
    }
}

uint64_t hn_runner_next_ms(const struct hn_runner *r)
{
    uint64_t next = r->next_beat_ms;
    if (arriving(r)) {
        uint64_t at = (uint64_t)ceil(r->next_due_ms - 1e-3); /* as iterations_due judges */
        if (at < next)
            next = at;
    }
    if (reporting(r) && r->next_report_ms < next)
        next = r->next_report_ms;
    if (r->state == HN_RN_SPAWNING) {
        /* user number `spawned` (0-based) is due at start + spawned / rate */
        uint64_t at = r->spawn_start_ms +
                      (uint64_t)((double)r->spawned * 1000.0 / r->spawn_rate + 0.999);
        if (at < r->last_spawn_ms + SPAWN_MIN_STEP_MS)
            at = r->last_spawn_ms + SPAWN_MIN_STEP_MS;
        if (at < next)
            next = at;
    }
    if (r->state == HN_RN_STOPPING && r->next_stop_poll_ms < next)
        next = r->next_stop_poll_ms;
    if (r->state == HN_RN_LEAVING && r->leave_deadline_ms < next)
        next = r->leave_deadline_ms;
    return next;
}

void hn_runner_signal(struct hn_runner *r, const char *name, uint64_t now_ms,
                      struct hn_rn_outbox *out)
{
    if (r->state == HN_RN_DONE)
        return;
    if (r->quit_after_stop || r->state == HN_RN_CONNECTING || r->state == HN_RN_READY ||
        r->state == HN_RN_STOPPED || r->state == HN_RN_LEAVING) {
        say(out, HN_LOG_INFO, "received %s; leaving now", name);
        if (r->state == HN_RN_STOPPING || r->state == HN_RN_LEAVING)
            leave_now(r, out, HN_EXIT_INTERRUPTED); /* the second signal */
        else
            leave(r, now_ms, out);
        return;
    }
    say(out, HN_LOG_INFO, "received %s; stopping users (again to leave at once)", name);
    r->quit_after_stop = 1;
    if (r->state != HN_RN_STOPPING)
        begin_stop(r, now_ms, out);
}

void hn_runner_heartbeat(struct hn_runner *r, double cpu_percent, uint64_t rss_bytes,
                         struct hn_rn_outbox *out)
{
    struct hn_msg *m = send(r, out, HN_MSG_HEARTBEAT);
    m->state = k_state_names[r->state];
    m->cpu_percent = cpu_percent;
    m->rss_bytes = rss_bytes;
    m->user_count = hn_runner_running(r);
    if (cpu_percent > 90.0 && r->state != HN_RN_STOPPED)
        say(out, HN_LOG_WARNING,
            "CPU usage above 90%% (%.0f%%): response times may be inflated by this worker",
            cpu_percent);
}

/* ---------- queries ---------- */

enum hn_rn_state hn_runner_state(const struct hn_runner *r) { return r->state; }
struct hn_stats *hn_runner_stats(struct hn_runner *r) { return &r->stats; }
uint64_t hn_runner_unacked(const struct hn_runner *r) { return r->n_unacked; }
const char *hn_runner_node_id(const struct hn_runner *r) { return r->node_id; }
int64_t hn_runner_index(const struct hn_runner *r) { return r->index; }

uint64_t hn_runner_running(const struct hn_runner *r)
{
    uint64_t n = 0;
    for (size_t c = 0; c < r->n_cls; c++)
        n += r->cls[c].running;
    return n;
}
