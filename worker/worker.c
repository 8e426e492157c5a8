#include "worker/worker.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "common/log.h"
#include "common/scenario.h"
#include "common/stats.h"
#include "proto/codec.h"
#include "proto/rpc.h"
#include "worker/http.h"
#include "worker/sysinfo.h"
#include "worker/user.h"

enum wstate { W_CONNECTING, W_READY, W_SPAWNING, W_RUNNING, W_STOPPED };

#define MAX_UNACKED 600 /* sent deltas kept for a relink: 10 minutes of reports at 1 s */

struct sent_delta {
    uint64_t seq;
    struct hn_stats stats;
};
static const char *const k_state_names[] = {"connecting", "ready", "spawning", "running",
                                            "stopped"};

struct worker {
    const struct hn_options *o;
    uv_loop_t loop;
    struct hn_rpc *rpc;
    uv_poll_t *zpoll;   /* on the ZeroMQ socket's descriptor; a new link gets a new one */
    const char *secret;
    uv_timer_t heartbeat, report, spawner, stopper, pumper;
    uv_signal_t sigint, sigterm;
    char node_id[HN_NODE_ID_MAX];
    enum wstate state;
    int pumping;
    int exit_code;
    int quitting;
    int64_t index;
    uint64_t started_ms;     /* uv_now when we first said client_ready */
    uint64_t last_master_ms; /* uv_now of the last message from the master */
    int64_t heartbeat_timeout_ms;
    int has_secret;
    int quit_after_stop; /* a signal stops the users, then the worker leaves */
    int served;          /* a master acked us once: after losing it, wait for another */
    int relinking;       /* the master was lost: users are stopping, then a new link */
    uint64_t last_wait_log_ms;
    uint64_t last_beat_ms;   /* uv_now of the last heartbeat tick */
    char run[72];            /* the run of the master that acked us last */
    char previous[HN_NODE_ID_MAX]; /* our node id before the last relink ("" if none) */
    /* copies of the deltas sent but not yet acked by the master (its heartbeats say how far
     * it merged): a relink re-sends exactly those it never merged */
    struct sent_delta *unacked;
    size_t n_unacked, cap_unacked;

    struct hn_scenario *scenario;
    char *host;
    struct hn_http *http;
    struct hn_stats stats;
    struct hn_user_env env;
    int env_ready;

    uint64_t spawn_seq;
    double spawn_rate;          /* this worker's share, users per second */
    uint64_t spawn_start_ms;
    uint64_t spawned_this_round;
    uint64_t stats_seq;
    int64_t stats_interval_ms;
    struct hn_cpu_meter cpu;
    unsigned beats;
    int64_t stop_timeout_ms;
    uint64_t stop_started_ms;
    char *tags, *exclude_tags;
    struct hn_kv *env_vals, *files; /* what the master sent, for the scenario loader */
    size_t n_env_vals, n_files;
};

static void pump(struct worker *w);
static void make_node_id(char *out, size_t n);
static void on_zmq(uv_poll_t *p, int status, int events);
static int send_msg(struct worker *w, struct hn_msg *m);

static void on_pump(uv_timer_t *t) { pump(t->data); }

static int send_msg(struct worker *w, struct hn_msg *m)
{
    int rc = w->rpc ? hn_rpc_send(w->rpc, NULL, m) : HN_EIO;
    if (rc && w->state != W_CONNECTING)
        hn_warn("could not send %s to the master: %s", hn_msg_type_name(m->type),
                hn_strerror(rc));
    /* ZMQ_FD is edge-triggered: a send can swallow a readable edge, so drain the socket, but
     * from the loop, never from inside the caller (handling a stop inside send_stats would send
     * the same delta twice) */
    if (!w->quitting)
        uv_timer_start(&w->pumper, on_pump, 0, 0);
    return rc;
}

static uint64_t target_total(const struct worker *w)
{
    uint64_t n = 0;
    for (size_t c = 0; c < w->env.n_classes; c++)
        n += w->env.classes[c].target;
    return n;
}

static struct hn_class_count *class_counts(const struct worker *w)
{
    struct hn_class_count *cc = hn_calloc(w->env.n_classes, sizeof *cc);
    for (size_t c = 0; c < w->env.n_classes; c++) {
        cc[c].name = w->env.classes[c].def->name;
        cc[c].count = w->env.classes[c].running;
    }
    return cc;
}

static uint64_t stats_requests(const struct hn_stats *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->n_entries; i++)
        n += s->entries[i]->n_requests;
    return n;
}

static void keep_unacked(struct worker *w, uint64_t seq)
{
    if (w->n_unacked == MAX_UNACKED) {
        /* the master has not acked for minutes: the oldest copy goes (said once) */
        hn_warn("the master has not confirmed %d reports; the oldest is no longer kept for a "
                "re-send",
                MAX_UNACKED);
        hn_stats_fini(&w->unacked[0].stats);
        memmove(w->unacked, w->unacked + 1, (w->n_unacked - 1) * sizeof *w->unacked);
        w->n_unacked--;
    }
    if (w->n_unacked == w->cap_unacked) {
        w->cap_unacked = w->cap_unacked ? w->cap_unacked * 2 : 8;
        w->unacked = hn_realloc(w->unacked, w->cap_unacked * sizeof *w->unacked);
    }
    struct sent_delta *d = &w->unacked[w->n_unacked++];
    d->seq = seq;
    hn_stats_init(&d->stats);
    hn_stats_merge(&d->stats, &w->stats);
}

/* The master merged every report up to acked: their copies go. */
static void drop_acked(struct worker *w, uint64_t acked)
{
    size_t k = 0;
    while (k < w->n_unacked && w->unacked[k].seq <= acked)
        hn_stats_fini(&w->unacked[k++].stats);
    if (!k)
        return;
    memmove(w->unacked, w->unacked + k, (w->n_unacked - k) * sizeof *w->unacked);
    w->n_unacked -= k;
}

/* After a relink to the same run: what the master never merged joins the delta to send. */
static void resend_unacked(struct worker *w, uint64_t acked)
{
    drop_acked(w, acked);
    for (size_t i = 0; i < w->n_unacked; i++) {
        hn_stats_merge(&w->stats, &w->unacked[i].stats);
        hn_stats_fini(&w->unacked[i].stats);
    }
    w->n_unacked = 0;
}

/* Sends the delta since the last report. One that cannot leave (no master connected, a full
 * queue) is kept and the next report carries it too: coalesced, so bounded, never dropped. */
static void send_stats(struct worker *w)
{
    if (w->state == W_CONNECTING)
        return; /* held until a master acks us */
    struct hn_msg m;
    hn_msg_init(&m, HN_MSG_STATS, w->node_id);
    m.seq = w->stats_seq + 1;
    m.user_count = w->env_ready ? w->env.n_running : 0;
    m.stats = &w->stats;
    if (send_msg(w, &m) == 0) {
        w->stats_seq = m.seq;
        keep_unacked(w, m.seq);
        hn_stats_reset(&w->stats);
    }
}

static void stop_all_users(struct worker *w)
{
    if (!w->env_ready)
        return;
    uv_timer_stop(&w->spawner);
    for (size_t c = 0; c < w->env.n_classes; c++) {
        w->env.classes[c].target = 0;
        hn_user_stop_class(&w->env, c, 0, 0);
    }
    hn_user_abort_stopping(&w->env);
}

static void close_cb(uv_handle_t *h) { (void)h; }

static void shutdown_worker(struct worker *w, int code)
{
    if (w->quitting)
        return;
    w->quitting = 1;
    w->exit_code = code;
    stop_all_users(w);
    uv_timer_stop(&w->heartbeat);
    uv_timer_stop(&w->report);
    uv_timer_stop(&w->spawner);
    uv_timer_stop(&w->stopper);
    uv_timer_stop(&w->pumper);
    if (w->zpoll)
        uv_poll_stop(w->zpoll);
    uv_signal_stop(&w->sigint);
    uv_signal_stop(&w->sigterm);
    uv_stop(&w->loop);
}

static void send_spawning_complete(struct worker *w)
{
    struct hn_msg m;
    hn_msg_init(&m, HN_MSG_SPAWNING_COMPLETE, w->node_id);
    m.seq = w->spawn_seq;
    m.user_count = w->env.n_running;
    struct hn_class_count *cc = class_counts(w);
    m.classes = cc;
    m.n_classes = w->env.n_classes;
    char summary[512] = "";
    size_t off = 0;
    for (size_t c = 0; c < w->env.n_classes && off < sizeof summary; c++)
        off += (size_t)snprintf(summary + off, sizeof summary - off, "%s%s: %llu", c ? ", " : "",
                                cc[c].name, (unsigned long long)cc[c].count);
    hn_info("spawning complete: %llu users (%s)", (unsigned long long)w->env.n_running, summary);
    send_msg(w, &m);
    free(cc);
    w->state = W_RUNNING;
}

/* The class furthest below its target, relative to the target (keeps the mix even while
 * ramping). */
static int neediest_class(const struct worker *w)
{
    int best = -1;
    double best_gap = 0;
    for (size_t c = 0; c < w->env.n_classes; c++) {
        const struct hn_class_rt *cr = &w->env.classes[c];
        if (cr->running >= cr->target)
            continue;
        double gap = (double)(cr->target - cr->running) / (double)cr->target;
        if (best < 0 || gap > best_gap) {
            best = (int)c;
            best_gap = gap;
        }
    }
    return best;
}

static void on_spawn_tick(uv_timer_t *t)
{
    struct worker *w = t->data;
    uint64_t elapsed = uv_now(&w->loop) - w->spawn_start_ms;
    /* The first user starts at once, then one every 1/rate seconds. */
    uint64_t due = 1 + (uint64_t)((double)elapsed * w->spawn_rate / 1000.0);
    while (w->spawned_this_round < due) {
        int c = neediest_class(w);
        if (c < 0)
            break;
        hn_user_spawn(&w->env, (size_t)c);
        w->spawned_this_round++;
    }
    hn_http_set_max_connections(w->http, w->env.n_running);
    if (neediest_class(w) < 0) {
        uv_timer_stop(&w->spawner);
        send_spawning_complete(w);
    }
}

static const char *kv_find(const struct hn_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(kv[i].key, key))
            return kv[i].value;
    return NULL;
}

static const char *sent_env(void *ctx, const char *name)
{
    struct worker *w = ctx;
    return kv_find(w->env_vals, w->n_env_vals, name);
}

static char *sent_file(void *ctx, const char *name, size_t *len)
{
    struct worker *w = ctx;
    const char *v = kv_find(w->files, w->n_files, name);
    if (!v)
        return NULL;
    *len = strlen(v);
    return hn_strdup(v);
}

static void free_kvs(struct hn_kv **kv, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        free((*kv)[i].key);
        free((*kv)[i].value);
    }
    free(*kv);
    *kv = NULL;
    *n = 0;
}

/* Takes over what the loader needs from the message (the message is freed after handling). */
static void keep_inputs(struct worker *w, struct hn_msg *m)
{
    free_kvs(&w->env_vals, &w->n_env_vals);
    free_kvs(&w->files, &w->n_files);
    w->env_vals = m->env;
    w->n_env_vals = m->n_env;
    w->files = m->files;
    w->n_files = m->n_files;
    m->env = m->files = NULL;
    m->n_env = m->n_files = 0;
    free(w->tags);
    free(w->exclude_tags);
    w->tags = hn_strdup(m->tags);
    w->exclude_tags = hn_strdup(m->exclude_tags);
}

static int load_scenario(struct worker *w, struct hn_msg *m)
{
    if (w->scenario && w->scenario->text_len == m->scenario_len &&
        !memcmp(w->scenario->text, m->scenario, m->scenario_len) && w->host &&
        !strcmp(w->host, m->host))
        return 0; /* same run, new targets */
    keep_inputs(w, m);
    if (w->env_ready) {
        stop_all_users(w);
        hn_user_env_fini(&w->env);
        w->env_ready = 0;
    }
    hn_scenario_destroy(&w->scenario);
    free(w->host);
    w->host = hn_strdup(m->host);
    char err[1024];
    struct hn_scenario_io io = {sent_env, sent_file, w};
    if (hn_scenario_load_buffer(m->scenario_name, m->scenario, m->scenario_len, &io,
                                &w->scenario, err, sizeof err)) {
        hn_error("cannot load the scenario from the master: %s", err);
        return HN_EINVAL;
    }
    hn_scenario_filter_tags(w->scenario, w->tags, w->exclude_tags);
    if (!w->http) {
        struct hn_http_config cfg = {.request_timeout_ms = m->request_timeout_ms,
                                     .connect_timeout_ms = m->connect_timeout_ms,
                                     .max_idle_handles = 256,
                                     .max_body_bytes = w->scenario->max_body_bytes};
        w->http = hn_http_new(&w->loop, &cfg);
        if (!w->http)
            return HN_EIO;
    }
    memset(&w->env, 0, sizeof w->env);
    w->env.loop = &w->loop;
    w->env.http = w->http;
    w->env.stats = &w->stats;
    w->env.worker_id = w->index;
    w->env.connect_timeout_ms = m->connect_timeout_ms;
    hn_rng_seed(&w->env.rng, hn_mono_us() ^ ((uint64_t)getpid() << 32));
    w->env_ready = 1;
    if (hn_user_env_compile(&w->env, w->scenario, w->host, err, sizeof err)) {
        hn_error("cannot compile the scenario: %s", err);
        return HN_EINVAL;
    }
    return 0;
}

static void report_exception(struct worker *w, const char *msg)
{
    struct hn_msg m;
    hn_msg_init(&m, HN_MSG_EXCEPTION, w->node_id);
    m.error = msg;
    m.traceback = "";
    send_msg(w, &m);
}

static void on_spawn(struct worker *w, struct hn_msg *m)
{
    if (w->quit_after_stop || w->relinking)
        return; /* leaving (a signal), or relinking (the master was lost): no new users */
    if (m->seq <= w->spawn_seq && w->spawn_seq) {
        hn_debug("ignoring stale spawn #%llu", (unsigned long long)m->seq);
        return;
    }
    if (load_scenario(w, m)) {
        report_exception(w, "worker could not load the scenario sent by the master");
        shutdown_worker(w, HN_EXIT_CONFIG);
        return;
    }
    w->spawn_seq = m->seq;
    w->env.user_id_base = m->user_id_base;
    w->stop_timeout_ms = m->stop_timeout_ms;
    w->stats_interval_ms = m->stats_interval_ms;
    w->heartbeat_timeout_ms = m->heartbeat_timeout_ms;
    for (size_t c = 0; c < w->env.n_classes; c++)
        w->env.classes[c].target = 0;
    for (size_t i = 0; i < m->n_classes; i++) {
        int c = hn_scenario_find_class(w->scenario, m->classes[i].name);
        if (c < 0) {
            hn_warn("master asked for unknown user class '%s'", m->classes[i].name);
            continue;
        }
        w->env.classes[c].target = m->classes[i].count;
    }
    for (size_t c = 0; c < w->env.n_classes; c++)
        if (w->env.classes[c].running > w->env.classes[c].target)
            hn_user_stop_class(&w->env, c, w->env.classes[c].target, 1);
    w->spawn_rate = m->spawn_rate > 0 ? m->spawn_rate : 1;
    w->spawn_start_ms = uv_now(&w->loop);
    w->spawned_this_round = 0;
    w->state = W_SPAWNING;
    hn_info("spawning %llu users at %.2f users/s", (unsigned long long)target_total(w),
            w->spawn_rate);
    uint64_t every = (uint64_t)(1000.0 / w->spawn_rate);
    if (every < 10)
        every = 10;
    if (every > 1000)
        every = 1000;
    on_spawn_tick(&w->spawner);
    if (w->state == W_SPAWNING)
        uv_timer_start(&w->spawner, on_spawn_tick, every, every);
}

static void on_report_tick(uv_timer_t *t);

static void quit_interrupted(struct worker *w);
static void relink(struct worker *w);

static void stopped(struct worker *w)
{
    uv_timer_stop(&w->stopper);
    hn_user_abort_stopping(&w->env); /* whoever outlived the stop timeout */
    if (w->quit_after_stop) { /* a signal asked for this stop: leave now */
        quit_interrupted(w);
        return;
    }
    if (w->relinking) { /* the master was lost: wait for one on a new link */
        relink(w);
        return;
    }
    w->state = W_STOPPED;
    send_stats(w); /* the final delta travels before client_stopped */
    struct hn_msg r;
    hn_msg_init(&r, HN_MSG_CLIENT_STOPPED, w->node_id);
    send_msg(w, &r);
    uv_timer_stop(&w->report);
    hn_info("stopped all users");
}

/* Users are done when none runs on_stop and every WebSocket has finished its closing
 * handshake (1000), so the stop never cuts a session's close short. */
static int users_done(const struct worker *w)
{
    return !w->env.n_stopping && (!w->env.ws || !hn_ws_open_connections(w->env.ws));
}

static void on_stop_tick(uv_timer_t *t)
{
    struct worker *w = t->data;
    if (users_done(w) ||
        (int64_t)(uv_now(&w->loop) - w->stop_started_ms) >= w->stop_timeout_ms)
        stopped(w);
}

/* Graceful stop: users run their on_stop steps, bounded by the master's stop timeout. */
static void begin_stop(struct worker *w)
{
    if (!w->env_ready) {
        stopped(w);
        return;
    }
    uv_timer_stop(&w->spawner);
    for (size_t c = 0; c < w->env.n_classes; c++) {
        w->env.classes[c].target = 0;
        hn_user_stop_class(&w->env, c, 0, 1);
    }
    if (users_done(w)) {
        stopped(w);
        return;
    }
    w->stop_started_ms = uv_now(&w->loop);
    uv_timer_start(&w->stopper, on_stop_tick, 50, 50);
}

static void handle(struct worker *w, struct hn_msg *m)
{
    w->last_master_ms = uv_now(&w->loop);
    switch (m->type) {
    case HN_MSG_ACK:
        if (m->error && *m->error) {
            hn_error("the master refused this worker: %s", m->error);
            shutdown_worker(w, HN_EXIT_CLUSTER);
            return;
        }
        if (w->state == W_CONNECTING) {
            w->index = m->index;
            w->state = W_READY;
            w->served = 1;
            const char *run = m->run ? m->run : "";
            if (strcmp(run, w->run)) {
                /* what this worker measured for a master that is gone belongs to that run,
                 * not to this one: said, and dropped */
                resend_unacked(w, 0);
                if (stats_requests(&w->stats))
                    hn_warn("dropping %llu requests measured for the previous master's run (it "
                            "is gone; they are not part of this run)",
                            (unsigned long long)stats_requests(&w->stats));
                hn_stats_reset(&w->stats);
            } else {
                resend_unacked(w, m->acked); /* the same run: exactly what it never merged */
            }
            w->previous[0] = '\0';
            snprintf(w->run, sizeof w->run, "%s", run);
            hn_info("connected to master %s:%u as worker #%lld", w->o->master_host,
                    w->o->master_port, (long long)m->index);
        }
        break;
    case HN_MSG_SPAWN:
        on_spawn(w, m);
        if (!w->quitting)
            uv_timer_start(&w->report, on_report_tick, (uint64_t)w->stats_interval_ms,
                           (uint64_t)w->stats_interval_ms);
        break;
    case HN_MSG_STOP:
        begin_stop(w);
        break;
    case HN_MSG_QUIT:
        hn_info("master said quit%s%s", m->error && *m->error ? ": " : "",
                m->error ? m->error : "");
        shutdown_worker(w, HN_EXIT_OK);
        break;
    case HN_MSG_HEARTBEAT:
        if (w->state != W_CONNECTING)
            drop_acked(w, m->acked);
        break;
    default:
        hn_debug("ignoring %s from the master", hn_msg_type_name(m->type));
        break;
    }
}

static void pump(struct worker *w)
{
    if (w->pumping || w->quitting || !w->rpc)
        return;
    w->pumping = 1;
    for (;;) {
        struct hn_msg m;
        int rc = hn_rpc_recv(w->rpc, &m);
        if (rc == HN_EAGAIN)
            break;
        if (rc)
            continue;
        handle(w, &m);
        hn_msg_fini(&m);
        if (w->quitting)
            break;
    }
    w->pumping = 0;
}

static void on_zmq(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    pump(p->data);
}

static void on_report_tick(uv_timer_t *t) { send_stats(t->data); }

static void say_ready(struct worker *w)
{
    struct hn_msg m;
    hn_msg_init(&m, HN_MSG_CLIENT_READY, w->node_id);
    m.protocol_version = HN_PROTOCOL_VERSION;
    m.version = HORNET_VERSION;
    m.previous = w->previous;
    send_msg(w, &m);
}

static void free_poll(uv_handle_t *h) { free(h); }

/* A link to the master under a node id: the ZeroMQ socket, its descriptor watched on the loop,
 * and client_ready queued (ZeroMQ delivers it when the connection is up). Returns 0, or
 * HN_EIO (logged). */
static int open_link(struct worker *w)
{
    char err[512], comp[160];
    make_node_id(w->node_id, sizeof w->node_id);
    snprintf(comp, sizeof comp, "worker %s", w->node_id);
    hn_log_set_component(comp);
    if (hn_rpc_connect(w->o->master_host, w->o->master_port, w->node_id, w->secret, &w->rpc, err,
                       sizeof err)) {
        hn_error("%s", err);
        return HN_EIO;
    }
    w->zpoll = hn_calloc(1, sizeof *w->zpoll);
    uv_poll_init(&w->loop, w->zpoll, hn_rpc_fd(w->rpc));
    w->zpoll->data = w;
    uv_poll_start(w->zpoll, UV_READABLE, on_zmq);
    say_ready(w);
    return 0;
}

static void close_link(struct worker *w)
{
    if (w->zpoll) {
        uv_poll_stop(w->zpoll);
        uv_close((uv_handle_t *)w->zpoll, free_poll);
        w->zpoll = NULL;
    }
    hn_rpc_destroy(&w->rpc);
}

/* A new link under a new node id, so whatever the old session left queued on either side is
 * gone and a master (the same one thawed, or a new one) sees a fresh worker; the old id's
 * closed connection tells that master its users need another home. The unsent delta is kept
 * and goes to the next master. */
static void relink(struct worker *w)
{
    w->state = W_CONNECTING;
    w->relinking = 0;
    w->stats_seq = 0;
    w->spawn_seq = 0;
    w->last_wait_log_ms = uv_now(&w->loop);
    if (!w->previous[0]) /* a relink that never got an ack keeps the first id */
        snprintf(w->previous, sizeof w->previous, "%s", w->node_id);
    close_link(w);
    if (open_link(w))
        shutdown_worker(w, HN_EXIT_CLUSTER);
}

static void begin_stop(struct worker *w);

/* No load without a master: the users stop as on a master's stop (no new task starts;
 * requests in flight finish within the stop timeout and count), then the worker relinks and
 * waits for a master. */
static void lose_master(struct worker *w)
{
    uv_timer_stop(&w->report);
    w->quit_after_stop = 0;
    w->relinking = 1;
    begin_stop(w); /* ends in stopped(), which relinks */
}

static void on_heartbeat(uv_timer_t *t)
{
    struct worker *w = t->data;
    uint64_t now = uv_now(&w->loop);
    /* A late tick means this process was not running (stopped, starved): that time is not the
     * master's silence. Then read what already arrived before judging. */
    if (w->last_beat_ms && now > w->last_beat_ms + 1500)
        w->last_master_ms += now - w->last_beat_ms - 1000;
    w->last_beat_ms = now;
    pump(w);
    if (w->quitting)
        return;
    if (w->state == W_CONNECTING) {
        if (w->served) {
            /* a worker that served a master waits for one as long as it runs (a restarted
             * master, a healed partition); it says so now and then */
            if (now - w->last_wait_log_ms >= 30000) {
                w->last_wait_log_ms = now;
                hn_info("waiting for a master at %s:%u", w->o->master_host, w->o->master_port);
            }
            return;
        }
        if ((int64_t)(now - w->started_ms) > w->o->master_connect_timeout_ms) {
            hn_error("cannot reach the master at %s:%u within %lld s%s", w->o->master_host,
                     w->o->master_port, (long long)(w->o->master_connect_timeout_ms / 1000),
                     w->has_secret ? " (or its cluster secret differs from this worker's)"
                                   : " (or it requires a cluster secret)");
            shutdown_worker(w, HN_EXIT_CLUSTER);
        }
        return;
    }
    if (!w->relinking && (int64_t)(now - w->last_master_ms) > w->heartbeat_timeout_ms) {
        hn_error("lost the master at %s:%u: no message for %lld s; stopping all users and "
                 "waiting for a master",
                 w->o->master_host, w->o->master_port,
                 (long long)(w->heartbeat_timeout_ms / 1000));
        lose_master(w);
        return;
    }
    /* Bursts (a ramp of thousands of simultaneous first requests) borrow as many easy handles
     * as requests in flight; the pool frees the surplus, and this hands the pages back so an
     * idle worker's RSS reflects what it holds now. */
    if (++w->beats % 5 == 0)
        malloc_trim(0);
    struct hn_msg m;
    hn_msg_init(&m, HN_MSG_HEARTBEAT, w->node_id);
    m.state = k_state_names[w->state];
    m.cpu_percent = hn_cpu_meter_percent(&w->cpu);
    m.rss_bytes = hn_rss_bytes();
    m.user_count = w->env_ready ? w->env.n_running : 0;
    send_msg(w, &m);
    if (m.cpu_percent > 90.0 && w->state != W_STOPPED)
        hn_warn("CPU usage above 90%% (%.0f%%): response times may be inflated by this worker",
                m.cpu_percent);
}

static void quit_interrupted(struct worker *w)
{
    if (w->state != W_CONNECTING) {
        stop_all_users(w); /* requests still in flight count as interrupted */
        send_stats(w);     /* the last delta travels before quit: nothing is missing */
        struct hn_msg m;
        hn_msg_init(&m, HN_MSG_QUIT, w->node_id);
        m.error = "worker interrupted";
        send_msg(w, &m);
    }
    shutdown_worker(w, HN_EXIT_INTERRUPTED);
}

/* SIGINT/SIGTERM (a Ctrl-C, a scale-down): the first one stops the users gracefully, as a
 * master's stop does (requests in flight may finish within the stop timeout, on_stop runs),
 * then the worker sends its last delta and leaves; a second one leaves at once. */
static void on_signal(uv_signal_t *s, int signum)
{
    struct worker *w = s->data;
    const char *name = signum == SIGINT ? "SIGINT" : "SIGTERM";
    if (w->quit_after_stop || w->state == W_CONNECTING || w->state == W_READY ||
        w->state == W_STOPPED) {
        hn_info("received %s; leaving now", name);
        quit_interrupted(w);
        return;
    }
    hn_info("received %s; stopping users (again to leave at once)", name);
    w->quit_after_stop = 1;
    begin_stop(w);
}

static void make_node_id(char *out, size_t n)
{
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    struct hn_rng r;
    hn_rng_seed(&r, hn_mono_us() ^ (uint64_t)getpid());
    snprintf(out, n, "%s_%d_%08llx", host, (int)getpid(),
             (unsigned long long)(hn_rng_next(&r) & 0xffffffffu));
}

int hn_worker_run(const struct hn_options *o)
{
    struct worker *w = hn_calloc(1, sizeof *w);
    w->o = o;
    w->heartbeat_timeout_ms = o->heartbeat_timeout_ms;
    w->stats_interval_ms = o->stats_interval_ms;
    hn_stats_init(&w->stats);
    hn_cpu_meter_init(&w->cpu);
    signal(SIGPIPE, SIG_IGN);

    char err[512];
    const char *secret = hn_options_cluster_secret(o, err, sizeof err);
    if (err[0]) {
        fprintf(stderr, "%s\n", err);
        hn_stats_fini(&w->stats);
        free(w);
        return HN_EXIT_USAGE;
    }
    w->has_secret = secret != NULL;
    w->secret = secret;
    uv_loop_init(&w->loop);
    uv_timer_init(&w->loop, &w->heartbeat);
    uv_timer_init(&w->loop, &w->report);
    uv_timer_init(&w->loop, &w->spawner);
    uv_timer_init(&w->loop, &w->stopper);
    uv_timer_init(&w->loop, &w->pumper);
    w->heartbeat.data = w->report.data = w->spawner.data = w->stopper.data = w->pumper.data = w;
    uv_signal_init(&w->loop, &w->sigint);
    uv_signal_init(&w->loop, &w->sigterm);
    w->sigint.data = w->sigterm.data = w;
    uv_signal_start(&w->sigint, on_signal, SIGINT);
    uv_signal_start(&w->sigterm, on_signal, SIGTERM);

    w->started_ms = uv_now(&w->loop);
    if (open_link(w))
        shutdown_worker(w, HN_EXIT_CLUSTER);
    else
        hn_info("connecting to master %s:%u", o->master_host, o->master_port);
    uv_timer_start(&w->heartbeat, on_heartbeat, 1000, 1000);

    if (!w->quitting)
        uv_run(&w->loop, UV_RUN_DEFAULT);

    /* Tear down: users and transport first, then every handle, then the loop. */
    if (w->env_ready)
        hn_user_env_fini(&w->env);
    hn_http_destroy(&w->http);
    close_link(w);
    uv_close((uv_handle_t *)&w->heartbeat, close_cb);
    uv_close((uv_handle_t *)&w->report, close_cb);
    uv_close((uv_handle_t *)&w->spawner, close_cb);
    uv_close((uv_handle_t *)&w->stopper, close_cb);
    uv_close((uv_handle_t *)&w->pumper, close_cb);
    uv_close((uv_handle_t *)&w->sigint, close_cb);
    uv_close((uv_handle_t *)&w->sigterm, close_cb);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    hn_scenario_destroy(&w->scenario);
    free(w->host);
    free(w->tags);
    free(w->exclude_tags);
    free_kvs(&w->env_vals, &w->n_env_vals);
    free_kvs(&w->files, &w->n_files);
    resend_unacked(w, UINT64_MAX);
    free(w->unacked);
    hn_stats_fini(&w->stats);
    int code = w->exit_code;
    free(w);
    return code;
}
