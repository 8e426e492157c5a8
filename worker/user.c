#include "worker/user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

struct hn_user {
    struct hn_user_env *env;
    struct hn_user *next, *prev;
    struct hn_http_xfer *xfer;
    uv_timer_t timer;
    uint32_t cls;
    uint32_t task;
    uint32_t step;
    uint32_t stopped;
    uint64_t id;
};

int hn_user_env_compile(struct hn_user_env *env, const struct hn_scenario *sc, const char *host,
                        char *err, size_t errlen)
{
    env->n_classes = sc->n_classes;
    env->classes = hn_calloc(sc->n_classes, sizeof *env->classes);
    env->wall_offset_ms = hn_wall_ms() - (int64_t)uv_now(env->loop);
    for (size_t c = 0; c < sc->n_classes; c++) {
        const struct hn_user_class *uc = &sc->classes[c];
        struct hn_class_rt *cr = &env->classes[c];
        cr->def = uc;
        cr->tasks = hn_calloc(uc->n_tasks, sizeof *cr->tasks);
        for (size_t t = 0; t < uc->n_tasks; t++) {
            const struct hn_task *task = &uc->tasks[t];
            struct hn_task_rt *tr = &cr->tasks[t];
            tr->steps = hn_calloc(task->n_steps, sizeof *tr->steps);
            tr->n_steps = task->n_steps;
            for (size_t k = 0; k < task->n_steps; k++) {
                const struct hn_step *st = &task->steps[k];
                struct hn_step_rt *sr = &tr->steps[k];
                sr->def = st;
                char why[256];
                sr->req = hn_http_req_new(env->http, &st->http, host, why, sizeof why);
                if (!sr->req) {
                    snprintf(err, errlen, "%s:%d: users[%zu].tasks[%zu].steps[%zu].http.url: %s",
                             sc->path, st->line, c, t, k, why);
                    return HN_EINVAL;
                }
                sr->entry = hn_stats_entry(env->stats, st->http.method, st->http.name);
            }
        }
    }
    return 0;
}

void hn_user_env_fini(struct hn_user_env *env)
{
    for (size_t c = 0; c < env->n_classes; c++)
        hn_user_stop_class(env, c, 0);
    for (size_t c = 0; c < env->n_classes; c++) {
        struct hn_class_rt *cr = &env->classes[c];
        for (size_t t = 0; cr->tasks && t < cr->def->n_tasks; t++) {
            for (size_t k = 0; k < cr->tasks[t].n_steps; k++)
                hn_http_req_destroy(&cr->tasks[t].steps[k].req);
            free(cr->tasks[t].steps);
        }
        free(cr->tasks);
    }
    free(env->classes);
    env->classes = NULL;
    env->n_classes = 0;
}

static void start_task(struct hn_user *u);
static void run_step(struct hn_user *u);

static void on_wait_done(uv_timer_t *t)
{
    struct hn_user *u = t->data;
    start_task(u);
}

static void after_task(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    uint64_t ms = hn_scenario_wait_ms(&env->classes[u->cls].def->wait, &env->rng);
    uv_timer_start(&u->timer, on_wait_done, ms, 0);
}

static void on_response(void *arg, const struct hn_http_result *res)
{
    struct hn_user *u = arg;
    struct hn_user_env *env = u->env;
    u->xfer = NULL;
    const struct hn_step_rt *s = &env->classes[u->cls].tasks[u->task].steps[u->step];
    int64_t now_s = ((int64_t)uv_now(env->loop) + env->wall_offset_ms) / 1000;
    hn_stats_record(s->entry, res->latency_us, res->body_bytes, now_s, res->failed);
    if (res->failed)
        hn_stats_error_add(env->stats, s->entry->type, s->entry->name, res->error, 1);
    if (++u->step < env->classes[u->cls].tasks[u->task].n_steps)
        run_step(u);
    else
        after_task(u);
}

static void run_step(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    const struct hn_step_rt *s = &env->classes[u->cls].tasks[u->task].steps[u->step];
    u->xfer = hn_http_start(env->http, s->req, on_response, u);
    if (!u->xfer) {
        /* The transport could not even start (logged there): back off one second rather than
         * spin. */
        uv_timer_start(&u->timer, on_wait_done, 1000, 0);
    }
}

static void start_task(struct hn_user *u)
{
    struct hn_user_env *env = u->env;
    u->task = (uint32_t)hn_scenario_pick_task(env->classes[u->cls].def, &env->rng);
    u->step = 0;
    run_step(u);
}

struct hn_user *hn_user_spawn(struct hn_user_env *env, size_t cls)
{
    struct hn_user *u = hn_calloc(1, sizeof *u);
    u->env = env;
    u->cls = (uint32_t)cls;
    u->id = env->next_user_id++;
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

static void on_user_closed(uv_handle_t *h) { free(h->data); }

void hn_user_stop(struct hn_user_env *env, struct hn_user *u)
{
    if (u->stopped)
        return;
    u->stopped = 1;
    if (u->xfer) {
        hn_http_cancel(env->http, u->xfer);
        u->xfer = NULL;
    }
    uv_timer_stop(&u->timer);
    struct hn_class_rt *cr = &env->classes[u->cls];
    if (u->prev)
        u->prev->next = u->next;
    else
        cr->users = u->next;
    if (u->next)
        u->next->prev = u->prev;
    cr->running--;
    env->n_running--;
    uv_close((uv_handle_t *)&u->timer, on_user_closed);
}

void hn_user_stop_class(struct hn_user_env *env, size_t cls, uint64_t keep)
{
    struct hn_class_rt *cr = &env->classes[cls];
    while (cr->running > keep && cr->users)
        hn_user_stop(env, cr->users);
}
