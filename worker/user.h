/* Users as state machines on the worker's loop: run on_start once, then pick a task by weight
 * (or the next one in a sequence), run its steps in order, wait, repeat; run on_stop when
 * stopped gracefully. No thread or coroutine per user: a user is ~200 bytes plus a uv_timer,
 * and holds an HTTP easy handle only while a request is in flight.
 *
 * hn_user_env is the compiled run: per class, per task, per step the transport request and the
 * stats entry, resolved once so the hot path does no lookup or parsing; templated steps are
 * expanded into the env's scratch buffers (single-threaded) and copied by the transport. */
#ifndef HN_USER_H
#define HN_USER_H

#include <stdint.h>
#include <uv.h>

#include "common/scenario.h"
#include "common/stats.h"
#include "common/template.h"
#include "worker/http.h"
#include "worker/ws.h"

struct hn_user;

struct hn_step_rt {
    const struct hn_step *def;
    struct hn_http_req *req;      /* http steps */
    struct hn_stats_entry *entry; /* http steps */
    /* ws steps: rows "connect NAME", "message NAME", "session NAME" (type WS) */
    struct hn_stats_entry *ws_connect, *ws_message, *ws_session;
    char *ws_base; /* ws://host:port for relative URLs */
};

struct hn_task_rt {
    struct hn_step_rt *steps;
    size_t n_steps;
};

struct hn_class_rt {
    const struct hn_user_class *def;
    struct hn_task_rt *tasks;
    struct hn_task_rt on_start, on_stop;
    uint64_t running;
    struct hn_user *users; /* doubly linked, newest first */
};

struct hn_user_env {
    uv_loop_t *loop;
    struct hn_http *http;
    struct hn_ws *ws;       /* created when the scenario has ws steps */
    int64_t connect_timeout_ms;
    struct hn_stats *stats; /* the worker's delta since the last report */
    const struct hn_scenario *sc;
    struct hn_rng rng;
    struct hn_class_rt *classes;
    size_t n_classes;
    uint64_t n_running;
    uint64_t n_stopping;    /* users running on_stop */
    struct hn_user *stopping; /* those users, so a stop timeout can end them */
    int64_t worker_id;
    uint64_t user_id_base;
    uint8_t *slot_used;     /* local user slots: {{user_id}} = base + slot */
    size_t n_slots;
    int64_t wall_offset_ms; /* unix ms = uv_now(loop) + offset */
    /* open model (arrival rate): users wait idle for iterations the scheduler starts */
    int open_model;
    struct hn_user *idle;   /* idle users, doubly linked; in the closed model, users parked by
                               the iteration cap */
    uint64_t n_idle;
    uint64_t iter_budget;   /* -i: task iterations this worker may start (0: no cap) */
    uint64_t iter_started;  /* task iterations started since the scenario was loaded */
    /* template scratch (single-threaded) */
    char ***var_values;
    size_t *var_counts;
    struct hn_buf url, headers, body;
};

/* Compiles the scenario against host for this env's transport. On error returns HN_EINVAL with
 * a one-line reason in err. */
int hn_user_env_compile(struct hn_user_env *env, const struct hn_scenario *sc, const char *host,
                        char *err, size_t errlen);
/* Stops every user at once and frees the compiled model. */
void hn_user_env_fini(struct hn_user_env *env);

/* The iteration cap was raised: users it parked start tasks again while it allows. */
void hn_user_resume(struct hn_user_env *env);
/* Starts one user of class index cls; on_start (or its first task) begins at once. */
struct hn_user *hn_user_spawn(struct hn_user_env *env, size_t cls);
/* The error of a request cut short by the end of its user (the stop timeout passed). */
#define HN_USER_INTERRUPTED "Interrupted: no response before the stop timeout"

/* Open model: starts one iteration (one task) on an idle user, its requests measured from the
 * iteration's intended start (lag_us: how late it starts; coordinated omission corrected).
 * Returns 0, -1 when no user is free (the caller counts a dropped iteration), or -2 when the
 * -i cap is reached (nothing starts, nothing is dropped). */
int hn_user_iterate(struct hn_user_env *env, uint64_t lag_us);

/* Stops a user. graceful: a request in flight may finish and is counted, then the class's
 * on_stop steps run, before the user is freed (env->n_stopping counts users in that state).
 * Otherwise the user ends at once: a request in flight is cancelled and counted as failed with
 * HN_USER_INTERRUPTED. Memory is freed after the loop closes its timer. */
void hn_user_stop(struct hn_user_env *env, struct hn_user *u, int graceful);
/* Stops the newest users of a class until `keep` remain. */
void hn_user_stop_class(struct hn_user_env *env, size_t cls, uint64_t keep, int graceful);
/* Ends every user still stopping (the stop timeout passed); requests in flight count as
 * HN_USER_INTERRUPTED failures. */
void hn_user_abort_stopping(struct hn_user_env *env);

#endif
