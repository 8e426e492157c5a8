#include "worker/user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/json.h"
#include "worker/check.h"

enum phase { P_START, P_TASKS, P_STOP };

struct hn_user {
    struct hn_user_env *env;
    struct hn_user *next, *prev;
    struct hn_http_xfer *xfer;
    const struct hn_task_rt *task; /* what runs now */
    char **captures;               /* per capture slot of the class, lazily allocated */
    struct hn_http_session http;   /* its cookie jar and keep-alive connection (HttpSession) */
    struct ws_session *ws;         /* during a ws step */
    uv_timer_t timer;
    uint64_t iteration;
    uint64_t task_start_ms;
    uint32_t cls;
    uint32_t task_idx;
    uint32_t step;
    uint32_t slot;
    uint8_t phase;
    uint8_t stopped;  /* out of its class list */
    uint8_t finished; /* closing */
    uint8_t draining; /* stopped with a request in flight: it may finish first */
    uint64_t req_start_ns; /* of the request in flight */
    /* open model */
    struct hn_user *idle_next, *idle_prev;
    uint64_t lag_us;  /* the iteration started this late: added to its latencies */
    uint8_t is_idle;
    uint8_t in_task;  /* a task iteration runs (between its start and its end) */
};

/* The state of a ws step for one user. */
struct ws_session {
    struct hn_ws_conn *conn;
    size_t sub;
    uint64_t start_ns, open_ns, send_ns;
    int64_t connect_timeout_ms;
    int waiting;   /* an expect is pending */
    int opened;
    int closing;   /* we asked to close */
    int failed;
    uint64_t unsolicited;
};

static int compile_task(struct hn_user_env *env, const struct hn_task *task, struct hn_task_rt *tr,
                        const char *host, const char *what, char *err, size_t errlen)
{
    tr->steps = hn_calloc(task->n_steps ? task->n_steps : 1, sizeof *tr->steps);
    tr->n_steps = task->n_steps;
    for (size_t k = 0; k < task->n_steps; k++) {
        const struct hn_step *st = &task->steps[k];
        struct hn_step_rt *sr = &tr->steps[k];
        sr->def = st;
        if (st->kind == HN_STEP_WS) {
            char row[1100];
            snprintf(row, sizeof row, "connect %s", st->ws.name);
            sr->ws_connect = hn_stats_entry(env->stats, "WS", row);
            snprintf(row, sizeof row, "message %s", st->ws.name);
            sr->ws_message = hn_stats_entry(env->stats, "WS", row);
            snprintf(row, sizeof row, "session %s", st->ws.name);
            sr->ws_session = hn_stats_entry(env->stats, "WS", row);
            /* http://host -> ws://host, https -> wss */
            size_t hl = strlen(host);
            while (hl && host[hl - 1] == '/')
                hl--;
            int tls = !strncmp(host, "https://", 8);
            const char *rest = host + (tls ? 8 : 7);
            sr->ws_base = hn_malloc(hl + 8);
            snprintf(sr->ws_base, hl + 8, "%s%.*s", tls ? "wss://" : "ws://",
                     (int)(hl - (size_t)(rest - host)), rest);
            if (!env->ws) {
                env->ws = hn_ws_new(env->loop);
                if (!env->ws) {
                    snprintf(err, errlen, "%s:%d: %s.steps[%zu].ws: WebSocket support could not "
                             "start", env->sc->path, st->line, what, k);
                    return HN_EINVAL;
                }
            }
            continue;
        }
        char why[256];
        const struct hn_tls *t = &env->sc->tls;
        struct hn_http_tls tls = {t->insecure, hn_scenario_file(env->sc, t->ca_file),
                                  hn_scenario_file(env->sc, t->cert_file),
                                  hn_scenario_file(env->sc, t->key_file)};
        sr->req = hn_http_req_new(env->http, &st->http, host, &tls, why, sizeof why);
        if (!sr->req) {
            snprintf(err, errlen, "%s:%d: %s.steps[%zu].http.url: %s", env->sc->path, st->line,
                     what, k, why);
            return HN_EINVAL;
        }
        hn_debug("%s %s: the %s HTTP engine", st->http.method, st->http.name,
                 hn_http_engine_name(hn_http_req_engine(sr->req)));
        sr->entry = hn_stats_entry(env->stats, st->http.method, st->http.name);
    }
    return 0;
}

static void free_task(struct hn_task_rt *tr)
{
    for (size_t k = 0; k < tr->n_steps; k++) {
        hn_http_req_destroy(&tr->steps[k].req);
        free(tr->steps[k].ws_base);
    }
    free(tr->steps);
    tr->steps = NULL;
    tr->n_steps = 0;
}

int hn_user_env_compile(struct hn_user_env *env, const struct hn_scenario *sc, const char *host,
                        char *err, size_t errlen)
{
    env->sc = sc;
    env->n_classes = sc->n_classes;
    env->classes = hn_calloc(sc->n_classes, sizeof *env->classes);
    env->wall_offset_ms = hn_wall_ms() - (int64_t)uv_now(env->loop);
    env->var_values = hn_calloc(sc->n_vars + 1, sizeof *env->var_values);
    env->var_counts = hn_calloc(sc->n_vars + 1, sizeof *env->var_counts);
    for (size_t i = 0; i < sc->n_vars; i++) {
        env->var_values[i] = sc->vars[i].values;
        env->var_counts[i] = sc->vars[i].n_values;
    }
    hn_buf_init(&env->url, 1 << 20);
    hn_buf_init(&env->headers, 1 << 20);
    hn_buf_init(&env->body, 16 << 20);
    char what[96];
    for (size_t c = 0; c < sc->n_classes; c++) {
        const struct hn_user_class *uc = &sc->classes[c];
        struct hn_class_rt *cr = &env->classes[c];
        cr->def = uc;
        cr->tasks = hn_calloc(uc->n_tasks ? uc->n_tasks : 1, sizeof *cr->tasks);
        for (size_t t = 0; t < uc->n_tasks; t++) {
            snprintf(what, sizeof what, "users[%zu].tasks[%zu]", c, t);
            if (compile_task(env, &uc->tasks[t], &cr->tasks[t], host, what, err, errlen))
                return HN_EINVAL;
        }
        snprintf(what, sizeof what, "users[%zu].on_start", c);
        if (compile_task(env, &uc->on_start, &cr->on_start, host, what, err, errlen))
            return HN_EINVAL;
        snprintf(what, sizeof what, "users[%zu].on_stop", c);
        if (compile_task(env, &uc->on_stop, &cr->on_stop, host, what, err, errlen))
            return HN_EINVAL;
    }
    return 0;
}

void hn_user_env_fini(struct hn_user_env *env)
{
    for (size_t c = 0; c < env->n_classes; c++)
        hn_user_stop_class(env, c, 0, 0);
    hn_user_abort_stopping(env);
    for (size_t c = 0; c < env->n_classes; c++) {
        struct hn_class_rt *cr = &env->classes[c];
        for (size_t t = 0; cr->tasks && t < cr->def->n_tasks; t++)
            free_task(&cr->tasks[t]);
        free_task(&cr->on_start);
        free_task(&cr->on_stop);
        free(cr->tasks);
    }
    free(env->classes);
    hn_ws_destroy(&env->ws);
    free(env->var_values);
    free(env->var_counts);
    free(env->slot_used);
    hn_buf_fini(&env->url);
    hn_buf_fini(&env->headers);
    hn_buf_fini(&env->body);
    env->classes = NULL;
    env->n_classes = 0;
}

static void start_task(struct hn_user *u);
static void run_step(struct hn_user *u);
static void finish(struct hn_user *u);
static void begin_on_stop(struct hn_user *u);

/* Open model: the user waits for the scheduler's next iteration. */
static void make_idle(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    u->is_idle = 1;
    u->lag_us = 0;
    u->idle_prev = NULL;
    u->idle_next = env->idle;
    if (env->idle)
        env->idle->idle_prev = u;
    env->idle = u;
    env->n_idle++;
}

static void unlink_idle(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    if (!u->is_idle)
        return;
    if (u->idle_prev)
        u->idle_prev->idle_next = u->idle_next;
    else
        env->idle = u->idle_next;
    if (u->idle_next)
        u->idle_next->idle_prev = u->idle_prev;
    u->is_idle = 0;
    env->n_idle--;
}

static int capped(const struct hn_user_env *env)
{
    return env->iter_budget && env->iter_started >= env->iter_budget;
}

void hn_user_resume(struct hn_user_env *env)
{
    while (!env->open_model && env->idle && !capped(env)) {
        struct hn_user *u = env->idle;
        unlink_idle(u);
        start_task(u);
    }
}

int hn_user_iterate(struct hn_user_env *env, uint64_t lag_us)
{
    if (capped(env))
        return -2;
    struct hn_user *u = env->idle;
    if (!u)
        return -1;
    unlink_idle(u);
    u->lag_us = lag_us;
    start_task(u);
    return 0;
}

static void on_wait_done(uv_timer_t *t)
{
    struct hn_user *u = t->data;
    if (u->phase == P_STOP)
        run_step(u); /* a retry of an on_stop step that could not start */
    else
        start_task(u);
}

static void after_task(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    if (u->phase == P_STOP) {
        finish(u);
        return;
    }
    if (u->phase == P_START) {
        u->phase = P_TASKS; /* on_start is not followed by a wait, as in Locust */
        if (env->open_model)
            make_idle(u);
        else
            start_task(u);
        return;
    }
    u->iteration++;
    u->in_task = 0;
    env->stats->iterations++;
    if (env->open_model) { /* no wait: the schedule says when the next iteration starts */
        make_idle(u);
        return;
    }
    uint64_t took = uv_now(env->loop) - u->task_start_ms;
    uint64_t ms = hn_scenario_wait_ms(&env->classes[u->cls].def->wait, took, &env->rng);
    uv_timer_start(&u->timer, on_wait_done, ms, 0);
}

static void on_response(void *arg, const struct hn_http_result *res)
{
    struct hn_user *u = arg;
    struct hn_user_env *env = u->env;
    u->xfer = NULL;
    const struct hn_step_rt *s = &u->task->steps[u->step];
    const struct hn_http_step *hs = &s->def->http;
    int64_t now_s = ((int64_t)uv_now(env->loop) + env->wall_offset_ms) / 1000;
    enum hn_verdict v = HN_PASS;
    char msg[512];
    const char *why = res->error;
    if (hs->check.n_statuses || hs->check.body_contains || hs->check.n_json || hs->n_captures) {
        if (hs->n_captures && !u->captures)
            u->captures = hn_calloc(env->classes[u->cls].def->n_captures, sizeof(char *));
        v = hn_check_response(hs, res, u->captures, msg, sizeof msg);
        why = msg;
    } else if (res->failed) {
        v = HN_FAIL;
    }
    /* open model: from the iteration's intended start (wrk2's correction), and the service
     * time beside it */
    hn_stats_record(s->entry, res->latency_us + u->lag_us, res->body_bytes, now_s, v != HN_PASS);
    if (env->open_model)
        hn_stats_record_service(s->entry, res->latency_us);
    if (v != HN_PASS)
        hn_stats_error_add(env->stats, s->entry->type, s->entry->name, why, 1);
    if (u->draining) { /* stopped while this request ran: now its on_stop, or the end */
        u->draining = 0;
        begin_on_stop(u);
        return;
    }
    if (v == HN_FAIL_STOP_TASK || ++u->step >= u->task->n_steps)
        after_task(u);
    else
        run_step(u);
}

static const char *const *data_row(const struct hn_user_env *env, size_t i, uint64_t user_id)
{
    const struct hn_data_source *d = &env->sc->data[i];
    return (const char *const *)d->rows[user_id % d->n_rows];
}

/* What a user brings to a template expansion; rows must hold 16 pointers. */
static void make_ctx(struct hn_user *u, struct hn_tpl_ctx *ctx, const char *const **rows)
{
    struct hn_user_env *env = u->env;
    uint64_t user_id = env->user_id_base + u->slot;
    size_t nd = env->sc->n_data < 16 ? env->sc->n_data : 16;
    for (size_t i = 0; i < nd; i++)
        rows[i] = data_row(env, i, user_id);
    struct hn_tpl_ctx c = {
        .rng = &env->rng,
        .var_values = (char *const *const *)env->var_values,
        .var_counts = env->var_counts,
        .data_rows = rows,
        .captures = u->captures,
        .user_id = user_id,
        .worker_id = env->worker_id,
        .iteration = u->iteration,
        .now_ms = (int64_t)uv_now(env->loop) + env->wall_offset_ms,
    };
    *ctx = c;
}

/* "Name: value\n" lines of expanded headers. */
static void expand_headers(const struct hn_header *h, size_t n, const struct hn_tpl_ctx *ctx,
                           struct hn_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        hn_buf_append(out, h[i].name, strlen(h[i].name));
        hn_buf_append(out, ": ", 2);
        hn_tpl_expand(h[i].value, ctx, out);
        hn_buf_append(out, "\n", 1);
    }
}

static void ws_begin(struct hn_user *u);

static void run_step(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    const struct hn_step_rt *s = &u->task->steps[u->step];
    if (s->def->kind == HN_STEP_WS) {
        ws_begin(u);
        return;
    }
    const struct hn_http_step *hs = &s->def->http;
    struct hn_http_dyn dyn, *dp = NULL;
    if (hs->is_dynamic) {
        const char *const *rows[16];
        struct hn_tpl_ctx ctx;
        make_ctx(u, &ctx, rows);
        hn_buf_reset(&env->url);
        hn_buf_reset(&env->headers);
        hn_buf_reset(&env->body);
        if (!hs->url->is_static)
            hn_tpl_expand(hs->url, &ctx, &env->url);
        expand_headers(hs->headers, hs->n_headers, &ctx, &env->headers);
        if (hs->body)
            hn_tpl_expand(hs->body, &ctx, &env->body);
        dyn.url = hn_buf_cstr(&env->url);
        dyn.headers = env->headers.p;
        dyn.headers_len = env->headers.len;
        dyn.body = env->body.p ? env->body.p : "";
        dyn.body_len = env->body.len;
        dp = &dyn;
    }
    u->req_start_ns = uv_hrtime();
    u->xfer = hn_http_start(env->http, s->req, dp, &u->http, on_response, u);
    if (!u->xfer) /* could not even start (logged there): back off rather than spin */
        uv_timer_start(&u->timer, on_wait_done, 1000, 0);
}

/* ---------- ws steps ---------- */

static int64_t now_s_of(struct hn_user_env *env)
{
    return ((int64_t)uv_now(env->loop) + env->wall_offset_ms) / 1000;
}

static void ws_record(struct hn_user *u, struct hn_stats_entry *e, uint64_t us, uint64_t bytes,
                      const char *error)
{
    struct hn_user_env *env = u->env;
    hn_stats_record(e, us, bytes, now_s_of(env), error != NULL);
    if (error)
        hn_stats_error_add(env->stats, e->type, e->name, error, 1);
}

static void next_step(struct hn_user *u)
{
    if (++u->step >= u->task->n_steps)
        after_task(u);
    else
        run_step(u);
}

static void on_ws_continue(uv_timer_t *t) { next_step(t->data); }

static void ws_free(struct hn_user *u)
{
    free(u->ws);
    u->ws = NULL;
}

static void on_ws_hold(uv_timer_t *t);
static void on_ws_expect_timeout(uv_timer_t *t);

static void ws_advance(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    struct ws_session *w = u->ws;
    const struct hn_ws_step *st = &u->task->steps[u->step].def->ws;
    while (w->sub < st->n_subs) {
        const struct hn_ws_sub *sub = &st->subs[w->sub];
        if (sub->action == HN_WS_SEND || sub->action == HN_WS_SEND_BINARY) {
            const char *const *rows[16];
            struct hn_tpl_ctx ctx;
            make_ctx(u, &ctx, rows);
            hn_buf_reset(&env->body);
            hn_tpl_expand(sub->payload, &ctx, &env->body);
            hn_ws_send(w->conn, env->body.p ? env->body.p : "", env->body.len,
                       sub->action == HN_WS_SEND_BINARY);
            struct hn_stats_entry *se = u->task->steps[u->step].ws_session;
            se->msgs_sent++;
            se->bytes_sent += env->body.len;
            w->send_ns = uv_hrtime();
            w->sub++;
            continue;
        }
        if (sub->action == HN_WS_EXPECT) {
            w->waiting = 1;
            uv_timer_start(&u->timer, on_ws_expect_timeout, (uint64_t)sub->ms, 0);
            return;
        }
        uv_timer_start(&u->timer, on_ws_hold, (uint64_t)sub->ms, 0); /* hold */
        return;
    }
    w->closing = 1;
    hn_ws_close(w->conn, 1000);
}

static void on_ws_hold(uv_timer_t *t)
{
    struct hn_user *u = t->data;
    u->ws->sub++;
    ws_advance(u);
}

static void on_ws_expect_timeout(uv_timer_t *t)
{
    struct hn_user *u = t->data;
    struct ws_session *w = u->ws;
    const struct hn_ws_sub *sub = &u->task->steps[u->step].def->ws.subs[w->sub];
    char msg[600];
    snprintf(msg, sizeof msg, "no reply matching %s within %lld ms", sub->desc,
             (long long)sub->ms);
    ws_record(u, u->task->steps[u->step].ws_message, (uint64_t)sub->ms * 1000, 0, msg);
    w->waiting = 0;
    w->failed = 1;
    w->closing = 1;
    hn_ws_close(w->conn, 1000);
}

static void ws_on_open(void *arg)
{
    struct hn_user *u = arg;
    struct ws_session *w = u->ws;
    uv_timer_stop(&u->timer); /* the handshake timeout */
    w->opened = 1;
    w->open_ns = uv_hrtime();
    ws_record(u, u->task->steps[u->step].ws_connect, (w->open_ns - w->start_ns) / 1000, 0, NULL);
    ws_advance(u);
}

static int ws_matches(const struct hn_ws_sub *sub, const char *data, size_t len, char **captures)
{
    if (sub->contains && !memmem(data, len, sub->contains, strlen(sub->contains)))
        return 0;
    if (!sub->n_json && !sub->n_captures)
        return 1;
    struct hn_json *doc = hn_json_parse(data, len);
    int ok = doc != NULL || !sub->n_json;
    char text[HN_CAPTURE_MAX_BYTES];
    for (size_t i = 0; ok && i < sub->n_json; i++) {
        const struct hn_json_check *j = &sub->json[i];
        const struct hn_json *got = hn_json_path_get(doc, j->path);
        if (j->expect == HN_JSON_EXISTS)
            ok = got != NULL;
        else if (j->expect == HN_JSON_MISSING)
            ok = got == NULL;
        else
            ok = got && (hn_json_text(got, text, sizeof text), !strcmp(text, j->value));
    }
    for (size_t i = 0; ok && i < sub->n_captures; i++) {
        const struct hn_json *got = doc ? hn_json_path_get(doc, sub->captures[i].expr) : NULL;
        ok = got != NULL;
        if (ok) {
            hn_json_text(got, text, sizeof text);
            free(captures[sub->captures[i].slot]);
            captures[sub->captures[i].slot] = hn_strdup(text);
        }
    }
    if (doc)
        hn_json_free(doc);
    return ok;
}

static void ws_on_message(void *arg, const char *data, size_t len, int binary)
{
    (void)binary;
    struct hn_user *u = arg;
    struct ws_session *w = u->ws;
    const struct hn_ws_step *st = &u->task->steps[u->step].def->ws;
    struct hn_stats_entry *se = u->task->steps[u->step].ws_session;
    se->msgs_received++;
    se->bytes_received += len;
    if (!w->waiting) {
        w->unsolicited++; /* during a hold or after the last expect: counted, not matched */
        return;
    }
    const struct hn_ws_sub *sub = &st->subs[w->sub];
    if (sub->n_captures && !u->captures)
        u->captures = hn_calloc(u->env->classes[u->cls].def->n_captures, sizeof(char *));
    if (!ws_matches(sub, data, len, u->captures)) {
        w->unsolicited++; /* e.g. a streamed partial chunk before the final answer */
        return;
    }
    uv_timer_stop(&u->timer);
    ws_record(u, u->task->steps[u->step].ws_message, (uv_hrtime() - w->send_ns) / 1000, len,
              NULL);
    w->waiting = 0;
    w->sub++;
    ws_advance(u);
}

static void ws_on_close(void *arg, int opened, int code, int by_server, const char *error)
{
    struct hn_user *u = arg;
    struct ws_session *w = u->ws;
    const struct hn_step_rt *s = &u->task->steps[u->step];
    uint64_t now = uv_hrtime();
    char msg[256];
    uv_timer_stop(&u->timer);
    if (!opened) {
        ws_record(u, s->ws_connect, (now - w->start_ns) / 1000, 0,
                  error ? error : "Connection failed");
    } else {
        const char *why = NULL;
        if (error) {
            why = error;
        } else if (by_server && !w->closing) {
            snprintf(msg, sizeof msg, "closed by server, code %d", code);
            why = msg;
        }
        if (w->waiting && why)
            ws_record(u, s->ws_message, (now - w->send_ns) / 1000, 0, why);
        ws_record(u, s->ws_session, (now - w->open_ns) / 1000, 0, why);
    }
    ws_free(u);
    /* continue from the loop, never from inside a libwebsockets callback */
    uv_timer_start(&u->timer, on_ws_continue, 0, 0);
}

/* The user is stopped during a ws step: close 1000 (Normal Closure) without callbacks; a
 * session that was open ends normally and counts as one. */
static void ws_stop(struct hn_user *u)
{
    struct ws_session *w = u->ws;
    if (!w)
        return;
    if (w->opened)
        ws_record(u, u->task->steps[u->step].ws_session, (uv_hrtime() - w->open_ns) / 1000, 0,
                  NULL);
    if (w->conn)
        hn_ws_abandon(w->conn);
    ws_free(u);
}

static void on_ws_connect_timeout(uv_timer_t *t)
{
    struct hn_user *u = t->data;
    struct ws_session *w = u->ws;
    char msg[64];
    snprintf(msg, sizeof msg, "Connect timeout after %lld ms", (long long)w->connect_timeout_ms);
    ws_record(u, u->task->steps[u->step].ws_connect, (uv_hrtime() - w->start_ns) / 1000, 0, msg);
    hn_ws_abandon(w->conn); /* no callback runs for it after this */
    ws_free(u);
    next_step(u);
}

static const struct hn_ws_events k_ws_events = {ws_on_open, ws_on_message, ws_on_close};

static void ws_begin(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    const struct hn_step_rt *s = &u->task->steps[u->step];
    const struct hn_ws_step *st = &s->def->ws;
    const char *const *rows[16];
    struct hn_tpl_ctx ctx;
    make_ctx(u, &ctx, rows);
    hn_buf_reset(&env->url);
    hn_buf_reset(&env->headers);
    if (st->url->text[0] == '/')
        hn_buf_append(&env->url, s->ws_base, strlen(s->ws_base));
    hn_tpl_expand(st->url, &ctx, &env->url);
    expand_headers(st->headers, st->n_headers, &ctx, &env->headers);
    u->ws = hn_calloc(1, sizeof *u->ws);
    u->ws->start_ns = uv_hrtime();
    char err[256];
    int64_t cto = st->connect_timeout_ms ? st->connect_timeout_ms : env->connect_timeout_ms;
    struct hn_ws_conn *c = hn_ws_connect(env->ws, hn_buf_cstr(&env->url),
                                         hn_buf_cstr(&env->headers), st->subprotocol,
                                         st->max_message_bytes, cto, st->ping_interval_ms,
                                         &k_ws_events, u, err, sizeof err);
    if (!u->ws)
        return; /* the failure was already reported from inside the connect */
    if (!c) {
        ws_record(u, s->ws_connect, 0, 0, err[0] ? err : "Connection failed");
        ws_free(u);
        uv_timer_start(&u->timer, on_ws_continue, 0, 0);
        return;
    }
    u->ws->conn = c;
    u->ws->connect_timeout_ms = cto;
    /* The handshake's bound is ours, not libwebsockets': its own connect timeouts replace the
     * one set on the connection, and a connect it gave up on could end without a callback. */
    uv_timer_start(&u->timer, on_ws_connect_timeout, (uint64_t)cto, 0);
}

static void start_task(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    struct hn_class_rt *cr = &env->classes[u->cls];
    if (u->phase == P_START && cr->on_start.n_steps) {
        u->task = &cr->on_start;
    } else {
        u->phase = P_TASKS;
        if (capped(env)) { /* -i: this worker's share of the iterations has started */
            make_idle(u);
            return;
        }
        env->iter_started++;
        u->in_task = 1;
        if (cr->def->sequential)
            u->task_idx = u->iteration % cr->def->n_tasks;
        else
            u->task_idx = (uint32_t)hn_scenario_pick_task(cr->def, &env->rng);
        u->task = &cr->tasks[u->task_idx];
    }
    u->step = 0;
    u->task_start_ms = uv_now(env->loop);
    run_step(u);
}

static uint32_t take_slot(struct hn_user_env *env)
{
    for (size_t i = 0; i < env->n_slots; i++)
        if (!env->slot_used[i]) {
            env->slot_used[i] = 1;
            return (uint32_t)i;
        }
    size_t n = env->n_slots ? env->n_slots * 2 : 64;
    env->slot_used = hn_realloc(env->slot_used, n);
    memset(env->slot_used + env->n_slots, 0, n - env->n_slots);
    uint32_t slot = (uint32_t)env->n_slots;
    env->n_slots = n;
    env->slot_used[slot] = 1;
    return slot;
}

struct hn_user *hn_user_spawn(struct hn_user_env *env, size_t cls)
{
    struct hn_user *u = hn_calloc(1, sizeof *u);
    u->env = env;
    u->cls = (uint32_t)cls;
    u->slot = take_slot(env);
    uv_timer_init(env->loop, &u->timer);
    u->timer.data = u;
    struct hn_class_rt *cr = &env->classes[cls];
    u->next = cr->users;
    if (cr->users)
        cr->users->prev = u;
    cr->users = u;
    cr->running++;
    env->n_running++;
    if (env->open_model && !cr->on_start.n_steps) {
        u->phase = P_TASKS;
        make_idle(u);
    } else {
        start_task(u);
    }
    return u;
}

static void on_user_closed(uv_handle_t *h)
{
    struct hn_user *u = h->data;
    if (u->captures) {
        for (size_t i = 0; i < u->env->classes[u->cls].def->n_captures; i++)
            free(u->captures[i]);
        free(u->captures);
    }
    free(u);
}

static void unlink_stopping(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    if (u->prev)
        u->prev->next = u->next;
    else
        env->stopping = u->next;
    if (u->next)
        u->next->prev = u->prev;
    u->env->n_stopping--;
}

/* A request still in flight when its user must end now (the stop timeout passed, or the worker
 * quits): cancelled, and counted as a failed request with the time it had run, so what was sent
 * is never missing from the results. */
static void interrupt_request(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    const struct hn_step_rt *s = &u->task->steps[u->step];
    hn_http_cancel(env->http, u->xfer);
    u->xfer = NULL;
    hn_stats_record(s->entry, (uv_hrtime() - u->req_start_ns) / 1000, 0, now_s_of(env), 1);
    hn_stats_error_add(env->stats, s->entry->type, s->entry->name, HN_USER_INTERRUPTED, 1);
}

/* The user's last act: release its slot and close its timer. */
static void finish(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    if (u->finished)
        return;
    u->finished = 1;
    if (u->phase == P_STOP)
        unlink_stopping(u);
    if (u->xfer)
        interrupt_request(u);
    hn_http_session_close(env->http, &u->http); /* its connection closes, its jar goes */
    ws_stop(u);
    uv_timer_stop(&u->timer);
    if (u->slot < env->n_slots)
        env->slot_used[u->slot] = 0;
    uv_close((uv_handle_t *)&u->timer, on_user_closed);
}

void hn_user_stop(struct hn_user_env *env, struct hn_user *u, int graceful)
{
    if (u->stopped)
        return;
    u->stopped = 1;
    unlink_idle(u);
    if (u->in_task) { /* the iteration ends here, cut short: it counts as ended for -i */
        u->in_task = 0;
        env->stats->iterations++;
    }
    struct hn_class_rt *cr = &env->classes[u->cls];
    if (u->prev)
        u->prev->next = u->next;
    else
        cr->users = u->next;
    if (u->next)
        u->next->prev = u->prev;
    cr->running--;
    env->n_running--;
    if (!graceful || (!cr->on_stop.n_steps && !u->xfer)) {
        finish(u);
        return;
    }
    /* Graceful: a request in flight may finish (bounded by the stop timeout, as Locust's
     * --stop-timeout) and is counted; then on_stop runs, as in Locust. */
    ws_stop(u);
    uv_timer_stop(&u->timer);
    u->phase = P_STOP;
    u->prev = NULL;
    u->next = env->stopping;
    if (env->stopping)
        env->stopping->prev = u;
    env->stopping = u;
    env->n_stopping++;
    if (u->xfer) {
        u->draining = 1;
        return;
    }
    begin_on_stop(u);
}

static void begin_on_stop(struct hn_user *u)
{
    struct hn_class_rt *cr = &u->env->classes[u->cls];
    if (!cr->on_stop.n_steps) {
        finish(u);
        return;
    }
    u->task = &cr->on_stop;
    u->step = 0;
    run_step(u);
}

void hn_user_stop_class(struct hn_user_env *env, size_t cls, uint64_t keep, int graceful)
{
    struct hn_class_rt *cr = &env->classes[cls];
    while (cr->running > keep && cr->users)
        hn_user_stop(env, cr->users, graceful);
}

void hn_user_abort_stopping(struct hn_user_env *env)
{
    while (env->stopping && 1)
        finish(env->stopping);
}
