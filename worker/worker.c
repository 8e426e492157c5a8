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
#include "proto/keys.h"
#include "proto/rpc.h"
#include "worker/http.h"
#include "worker/runner.h"
#include "worker/sysinfo.h"
#include "worker/user.h"

/* The worker process around its core (worker/runner.c): it reads the ZeroMQ socket, the clock
 * and the signals, hands them to the core, and carries out the core's outbox on the users, the
 * transport and the link. Every decision is the core's. */
struct worker {
    const struct hn_options *o;
    struct hn_http_counters conns_said; /* the native engine's counters at the last report */
    uv_loop_t loop;
    struct hn_rpc *rpc;
    uv_poll_t *zpoll;   /* on the ZeroMQ socket's descriptor; a new link gets a new one */
    struct hn_rpc_keys keys;
    int have_keys;
    uv_timer_t ticker;  /* fires when the core asks (hn_runner_next_ms) */
    uv_timer_t pumper;  /* drains the socket from the loop after a send */
    uv_signal_t sigint, sigterm;
    struct hn_runner *core;
    char master[300];
    int pumping, quitting, exit_code;
    unsigned beats;
    struct hn_cpu_meter cpu;

    struct hn_scenario *scenario;
    char *host;
    struct hn_http *http;
    struct hn_user_env env;
    int env_ready;
    char *tags, *exclude_tags;
    struct hn_kv *env_vals, *files; /* what the master sent, for the scenario loader */
    size_t n_env_vals, n_files;
};

static void carry(struct worker *w, struct hn_rn_outbox *box);
static void pump(struct worker *w);

static void on_pump(uv_timer_t *t) { pump(t->data); }

static int send_msg(struct worker *w, struct hn_msg *m)
{
    int rc = w->rpc ? hn_rpc_send(w->rpc, NULL, m) : HN_EIO;
    if (rc && hn_runner_state(w->core) != HN_RN_CONNECTING)
        hn_warn("could not send %s to the master: %s", hn_msg_type_name(m->type),
                hn_strerror(rc));
    /* ZMQ_FD is edge-triggered: a send can swallow a readable edge, so drain the socket, but
     * from the loop, never from inside the caller (handling a stop while carrying out an
     * outbox would interleave two of them) */
    if (!w->quitting)
        uv_timer_start(&w->pumper, on_pump, 0, 0);
    return rc;
}

/* ---------- the user model ---------- */

static void end_all_users(struct worker *w)
{
    if (!w->env_ready)
        return;
    for (size_t c = 0; c < w->env.n_classes; c++)
        hn_user_stop_class(&w->env, c, 0, 0);
    hn_user_abort_stopping(&w->env);
}

/* Users still finishing a stop: on_stop steps, and WebSocket closing handshakes (1000), so
 * the stop never cuts a session's close short. */
static uint64_t busy_users(const struct worker *w)
{
    if (!w->env_ready)
        return 0;
    return w->env.n_stopping + (w->env.ws ? hn_ws_open_connections(w->env.ws) : 0);
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

/* Takes over what the loader needs from the spawn (the message is freed after handling). */
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

/* Loads and compiles the spawn's scenario unless it is the one running (same run, new
 * targets). *fresh: the user model was rebuilt, so nobody runs. */
static int load_scenario(struct worker *w, struct hn_msg *m, int *fresh)
{
    *fresh = 0;
    if (w->scenario && w->scenario->text_len == m->scenario_len &&
        !memcmp(w->scenario->text, m->scenario, m->scenario_len) && w->host &&
        !strcmp(w->host, m->host))
        return 0;
    *fresh = 1;
    keep_inputs(w, m);
    if (w->env_ready) {
        end_all_users(w);
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
    const char *ca = kv_find(m->tls, m->n_tls, "ca_file");
    const char *cert = kv_find(m->tls, m->n_tls, "client_cert");
    const char *key = kv_find(m->tls, m->n_tls, "client_key");
    if (hn_scenario_set_tls(w->scenario, &io, kv_find(m->tls, m->n_tls, "insecure") != NULL, ca,
                            cert, key, err, sizeof err)) {
        hn_error("cannot apply the master's TLS settings: %s", err);
        return HN_EINVAL;
    }
    if (!w->http) {
        struct hn_http_config cfg = {.request_timeout_ms = m->request_timeout_ms,
                                     .connect_timeout_ms = m->connect_timeout_ms,
                                     .max_body_bytes = w->scenario->max_body_bytes};
        if (m->http_engine && hn_http_engine_parse(m->http_engine, &cfg.engine)) {
            hn_error("the master asked for HTTP engine '%s', which this worker does not have",
                     m->http_engine);
            return HN_EINVAL;
        }
        w->http = hn_http_new(&w->loop, &cfg);
        if (!w->http)
            return HN_EIO;
    }
    memset(&w->env, 0, sizeof w->env);
    w->env.loop = &w->loop;
    w->env.http = w->http;
    w->env.stats = hn_runner_stats(w->core);
    w->env.connect_timeout_ms = m->connect_timeout_ms;
    w->env.open_model = m->arrival_rate > 0;
    hn_rng_seed(&w->env.rng, hn_mono_us() ^ ((uint64_t)getpid() << 32));
    w->env_ready = 1;
    if (hn_user_env_compile(&w->env, w->scenario, w->host, err, sizeof err)) {
        hn_error("cannot compile the scenario: %s", err);
        return HN_EINVAL;
    }
    return 0;
}

/* LOAD: the scenario, then the spawn's per-class targets mapped onto its classes. */
static void load_spawn(struct worker *w, const struct hn_msg *spawn)
{
    struct hn_rn_outbox box = {0};
    int fresh = 0;
    if (load_scenario(w, (struct hn_msg *)spawn, &fresh)) {
        hn_runner_loaded(w->core, 0, 1, 0, NULL, NULL, uv_now(&w->loop), &box);
        carry(w, &box);
        hn_rn_outbox_fini(&box);
        return;
    }
    size_t n = w->env.n_classes;
    const char **names = hn_calloc(n ? n : 1, sizeof *names);
    uint64_t *targets = hn_calloc(n ? n : 1, sizeof *targets);
    for (size_t c = 0; c < n; c++)
        names[c] = w->env.classes[c].def->name;
    for (size_t i = 0; i < spawn->n_classes; i++) {
        int c = hn_scenario_find_class(w->scenario, spawn->classes[i].name);
        if (c < 0)
            hn_warn("master asked for unknown user class '%s'", spawn->classes[i].name);
        else
            targets[c] = spawn->classes[i].count;
    }
    w->env.worker_id = hn_runner_index(w->core);
    w->env.user_id_base = spawn->user_id_base;
    w->env.iter_budget = spawn->iterations;
    hn_user_resume(&w->env);
    hn_runner_loaded(w->core, 1, fresh, n, names, targets, uv_now(&w->loop), &box);
    carry(w, &box);
    hn_rn_outbox_fini(&box);
    free(names);
    free(targets);
}

/* ---------- the link ---------- */

static void free_poll(uv_handle_t *h) { free(h); }
static void on_zmq(uv_poll_t *p, int status, int events);

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

/* A link to the master under a new node id: the ZeroMQ socket, its descriptor watched on the
 * loop, and client_ready queued (ZeroMQ delivers it when the connection is up). */
static int open_link(struct worker *w)
{
    char id[HN_NODE_ID_MAX], err[512], comp[160];
    make_node_id(id, sizeof id);
    snprintf(comp, sizeof comp, "worker %s", id);
    hn_log_set_component(comp);
    if (hn_rpc_connect(w->o->master_host, w->o->master_port, id,
                       w->have_keys ? &w->keys : NULL, &w->rpc, err,
                       sizeof err)) {
        hn_error("%s", err);
        return HN_EIO;
    }
    w->zpoll = hn_calloc(1, sizeof *w->zpoll);
    uv_poll_init(&w->loop, w->zpoll, hn_rpc_fd(w->rpc));
    w->zpoll->data = w;
    uv_poll_start(w->zpoll, UV_READABLE, on_zmq);
    struct hn_rn_outbox box = {0};
    hn_runner_linked(w->core, id, uv_now(&w->loop), &box);
    carry(w, &box);
    hn_rn_outbox_fini(&box);
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

static void shutdown_worker(struct worker *w, int code)
{
    if (w->quitting)
        return;
    w->quitting = 1;
    w->exit_code = code;
    end_all_users(w);
    uv_timer_stop(&w->ticker);
    uv_timer_stop(&w->pumper);
    if (w->zpoll)
        uv_poll_stop(w->zpoll);
    uv_signal_stop(&w->sigint);
    uv_signal_stop(&w->sigterm);
    uv_stop(&w->loop);
}

/* ---------- carrying out the core's outbox ---------- */

/* Open model: each due iteration goes to a free user, measured from its intended start; with
 * none free it is dropped and counted, never queued or skipped silently. */
static void iterate(struct worker *w, const struct hn_rn_action *a)
{
    if (!w->env_ready)
        return;
    double now = (double)uv_now(&w->loop);
    for (uint64_t k = 0; k < a->count; k++) {
        double intended = a->first_ms + (double)k * a->interval_ms;
        uint64_t lag_us = now > intended ? (uint64_t)((now - intended) * 1000.0) : 0;
        if (hn_user_iterate(&w->env, lag_us) == -1) /* -2: the -i cap, not a drop */
            hn_runner_stats(w->core)->dropped_iterations++;
    }
}

static void on_tick(uv_timer_t *t);

static void rearm(struct worker *w)
{
    if (w->quitting)
        return;
    uint64_t now = uv_now(&w->loop), next = hn_runner_next_ms(w->core);
    uv_timer_start(&w->ticker, on_tick, next > now ? next - now : 0, 0);
}

static void heartbeat(struct worker *w)
{
    /* Bursts (a ramp of thousands of simultaneous first requests) borrow as many easy handles
     * as requests in flight; the pool frees the surplus, and this hands the pages back so an
     * idle worker's RSS reflects what it holds now. */
    if (++w->beats % 5 == 0)
        malloc_trim(0);
    struct hn_rn_outbox box = {0};
    hn_runner_heartbeat(w->core, hn_cpu_meter_percent(&w->cpu), hn_rss_bytes(), &box);
    carry(w, &box);
    hn_rn_outbox_fini(&box);
}

static void carry(struct worker *w, struct hn_rn_outbox *box)
{
    for (size_t i = 0; i < box->n && !w->quitting; i++) {
        struct hn_rn_action *a = &box->v[i];
        struct hn_msg m;
        switch (a->kind) {
        case HN_RN_SEND: send_msg(w, &a->msg); break;
        case HN_RN_SEND_STATS:
            if (w->http) { /* the native engine's connections since the last report */
                struct hn_http_counters hc;
                hn_http_counters(w->http, &hc);
                struct hn_stats *st = hn_runner_stats(w->core);
                st->conns_opened += hc.opened - w->conns_said.opened;
                st->conns_reused += hc.reused - w->conns_said.reused;
                w->conns_said = hc;
            }
            hn_runner_stats_msg(w->core, &m);
            if (send_msg(w, &m))
                hn_runner_unsent(w->core, m.seq);
            break;
        case HN_RN_HEARTBEAT: heartbeat(w); break;
        case HN_RN_LOAD: load_spawn(w, a->spawn); break;
        case HN_RN_SPAWN:
            hn_debug("spawning %llu %s users", (unsigned long long)a->count,
                     w->scenario->classes[a->cls].name);
            for (uint64_t k = 0; k < a->count; k++)
                hn_user_spawn(&w->env, a->cls);
            hn_http_set_max_connections(w->http, w->env.n_running);
            break;
        case HN_RN_STOP_USERS:
            if (w->env_ready)
                hn_user_stop_class(&w->env, a->cls, a->keep, a->graceful);
            break;
        case HN_RN_ABORT_STOPPING:
            if (w->env_ready)
                hn_user_abort_stopping(&w->env);
            break;
        case HN_RN_ITERATE: iterate(w, a); break;
        case HN_RN_RELINK:
            close_link(w);
            if (open_link(w))
                shutdown_worker(w, HN_EXIT_CLUSTER);
            break;
        case HN_RN_LOG: hn_log(a->level, "%s", a->text); break;
        case HN_RN_EXIT: shutdown_worker(w, a->code); break;
        }
    }
    hn_rn_outbox_reset(box);
    rearm(w);
}

/* ---------- inputs ---------- */

static void pump(struct worker *w)
{
    if (w->pumping || w->quitting || !w->rpc)
        return;
    w->pumping = 1;
    struct hn_rn_outbox box = {0};
    while (!w->quitting && w->rpc) {
        struct hn_msg m;
        int rc = hn_rpc_recv(w->rpc, &m);
        if (rc == HN_EAGAIN)
            break;
        if (rc)
            continue;
        hn_debug("received %s from the master (seq %llu)", hn_msg_type_name(m.type),
                 (unsigned long long)m.seq);
        hn_runner_on_msg(w->core, &m, uv_now(&w->loop), &box);
        carry(w, &box); /* a spawn is borrowed by LOAD until then */
        hn_msg_fini(&m);
    }
    hn_rn_outbox_fini(&box);
    w->pumping = 0;
}

static void on_zmq(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    pump(p->data);
}

/* What already arrived is handed in before the core judges anyone silent. */
static void on_tick(uv_timer_t *t)
{
    struct worker *w = t->data;
    pump(w);
    if (w->quitting)
        return;
    struct hn_rn_outbox box = {0};
    char why[300];
    if (hn_rpc_refused(w->rpc, why, sizeof why)) {
        /* the handshake's refusal is the master's answer: handed in as a refused ack */
        struct hn_msg refusal;
        hn_msg_init(&refusal, HN_MSG_ACK, "master");
        refusal.error = why;
        hn_runner_on_msg(w->core, &refusal, uv_now(&w->loop), &box);
        carry(w, &box);
        hn_rn_outbox_fini(&box);
        return;
    }
    hn_runner_tick(w->core, uv_now(&w->loop), busy_users(w), &box);
    carry(w, &box);
    hn_rn_outbox_fini(&box);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct worker *w = s->data;
    struct hn_rn_outbox box = {0};
    hn_runner_signal(w->core, signum == SIGINT ? "SIGINT" : "SIGTERM", uv_now(&w->loop), &box);
    carry(w, &box);
    hn_rn_outbox_fini(&box);
}

static void close_cb(uv_handle_t *h) { (void)h; }

int hn_worker_run(const struct hn_options *o)
{
    struct worker *w = hn_calloc(1, sizeof *w);
    char err[1024];
    int rc = hn_keys_from_options(o, 0, &w->keys, &w->have_keys, err, sizeof err);
    if (rc) {
        fprintf(stderr, "%s\n", err);
        free(w);
        return rc;
    }
    w->o = o;
    hn_cpu_meter_init(&w->cpu);
    signal(SIGPIPE, SIG_IGN);
    snprintf(w->master, sizeof w->master, "%s:%u", o->master_host, o->master_port);
    uv_loop_init(&w->loop);
    struct hn_runner_config cfg = {.master = w->master,
                                   .master_connect_timeout_ms = o->master_connect_timeout_ms,
                                   .heartbeat_timeout_ms = o->heartbeat_timeout_ms,
                                   .stats_interval_ms = o->stats_interval_ms,
                                   .has_secret = w->have_keys};
    w->core = hn_runner_new(&cfg, uv_now(&w->loop));
    uv_timer_init(&w->loop, &w->ticker);
    uv_timer_init(&w->loop, &w->pumper);
    w->ticker.data = w->pumper.data = w;
    uv_signal_init(&w->loop, &w->sigint);
    uv_signal_init(&w->loop, &w->sigterm);
    w->sigint.data = w->sigterm.data = w;
    uv_signal_start(&w->sigint, on_signal, SIGINT);
    uv_signal_start(&w->sigterm, on_signal, SIGTERM);

    if (open_link(w))
        shutdown_worker(w, HN_EXIT_CLUSTER);
    else
        hn_info("connecting to master %s", w->master);
    if (!w->quitting)
        uv_run(&w->loop, UV_RUN_DEFAULT);

    /* Tear down: users and transport first, then every handle, then the loop. */
    if (w->env_ready)
        hn_user_env_fini(&w->env);
    if (w->http) {
        struct hn_http_counters hc;
        hn_http_counters(w->http, &hc);
        if (hc.opened)
            hn_info("native HTTP engine: %llu connections opened, %llu requests on a reused "
                    "one, %llu retried after the server closed an idle one",
                    (unsigned long long)hc.opened, (unsigned long long)hc.reused,
                    (unsigned long long)hc.retried);
    }
    hn_http_destroy(&w->http);
    close_link(w);
    uv_close((uv_handle_t *)&w->ticker, close_cb);
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
    hn_runner_destroy(&w->core);
    hn_rpc_keys_fini(&w->keys);
    int code = w->exit_code;
    free(w);
    return code;
}
