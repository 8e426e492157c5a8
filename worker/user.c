#include "worker/user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "worker/check.h"

enum phase { P_START, P_TASKS, P_STOP };

struct hn_user {
    struct hn_user_env *env;
    struct hn_user *next, *prev;
    struct hn_http_xfer *xfer;
    const struct hn_task_rt *task; /* what runs now */
    char **captures;               /* per capture slot of the class, lazily allocated */
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
        char why[256];
        sr->req = hn_http_req_new(env->http, &st->http, host, why, sizeof why);
        if (!sr->req) {
            snprintf(err, errlen, "%s:%d: %s.steps[%zu].http.url: %s", env->sc->path, st->line,
                     what, k, why);
            return HN_EINVAL;
        }
        sr->entry = hn_stats_entry(env->stats, st->http.method, st->http.name);
    }
    return 0;
}

static void free_task(struct hn_task_rt *tr)
{
    for (size_t k = 0; k < tr->n_steps; k++)
        hn_http_req_destroy(&tr->steps[k].req);
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
        start_task(u);
        return;
    }
    u->iteration++;
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
    hn_stats_record(s->entry, res->latency_us, res->body_bytes, now_s, v != HN_PASS);
    if (v != HN_PASS)
        hn_stats_error_add(env->stats, s->entry->type, s->entry->name, why, 1);
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

static void run_step(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    const struct hn_step_rt *s = &u->task->steps[u->step];
    const struct hn_http_step *hs = &s->def->http;
    struct hn_http_dyn dyn, *dp = NULL;
    if (hs->is_dynamic) {
        uint64_t user_id = env->user_id_base + u->slot;
        const char *const *rows[16];
        size_t nd = env->sc->n_data < 16 ? env->sc->n_data : 16;
        for (size_t i = 0; i < nd; i++)
            rows[i] = data_row(env, i, user_id);
        struct hn_tpl_ctx ctx = {
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
        hn_buf_reset(&env->url);
        hn_buf_reset(&env->headers);
        hn_buf_reset(&env->body);
        if (!hs->url->is_static)
            hn_tpl_expand(hs->url, &ctx, &env->url);
        for (size_t i = 0; i < hs->n_headers; i++) {
            hn_buf_append(&env->headers, hs->headers[i].name, strlen(hs->headers[i].name));
            hn_buf_append(&env->headers, ": ", 2);
            hn_tpl_expand(hs->headers[i].value, &ctx, &env->headers);
            hn_buf_append(&env->headers, "\n", 1);
        }
        if (hs->body)
            hn_tpl_expand(hs->body, &ctx, &env->body);
        dyn.url = hn_buf_cstr(&env->url);
        dyn.headers = env->headers.p;
        dyn.headers_len = env->headers.len;
        dyn.body = env->body.p ? env->body.p : "";
        dyn.body_len = env->body.len;
        dp = &dyn;
    }
    u->xfer = hn_http_start(env->http, s->req, dp, on_response, u);
    if (!u->xfer) /* could not even start (logged there): back off rather than spin */
        uv_timer_start(&u->timer, on_wait_done, 1000, 0);
}

static void start_task(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    struct hn_class_rt *cr = &env->classes[u->cls];
    if (u->phase == P_START && cr->on_start.n_steps) {
        u->task = &cr->on_start;
    } else {
        u->phase = P_TASKS;
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
    start_task(u);
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

/* The user's last act: release its slot and close its timer. */
static void finish(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    if (u->finished)
        return;
    u->finished = 1;
    if (u->phase == P_STOP)
        unlink_stopping(u);
    if (u->xfer) {
        hn_http_cancel(env->http, u->xfer);
        u->xfer = NULL;
    }
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
    struct hn_class_rt *cr = &env->classes[u->cls];
    if (u->prev)
        u->prev->next = u->next;
    else
        cr->users = u->next;
    if (u->next)
        u->next->prev = u->prev;
    cr->running--;
    env->n_running--;
    if (!graceful || !cr->on_stop.n_steps) {
        finish(u);
        return;
    }
    /* Locust: on_stop runs when a user is stopped; the request in flight is abandoned */
    if (u->xfer) {
        hn_http_cancel(env->http, u->xfer);
        u->xfer = NULL;
    }
    uv_timer_stop(&u->timer);
    u->phase = P_STOP;
    u->prev = NULL;
    u->next = env->stopping;
    if (env->stopping)
        env->stopping->prev = u;
    env->stopping = u;
    env->n_stopping++;
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
