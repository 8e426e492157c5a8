/* The worker's control plane as a pure core: its link state with the master, the spawn
 * schedule and class mix, the graceful stop and its timeout, liveness of the master (no load
 * without one), stats numbering with the copies kept until the master confirms them, and the
 * leave on a signal. Every entry point is a function of (state, input, now_ms) that appends to
 * an outbox what to send, which users to start or stop, what to log and when to exit; it reads
 * no socket, clock or disk (worker/worker.c carries the outbox out), so it is tested against
 * the master's core in memory with a fake clock (tests/unit/test_wired.c).
 *
 * The core owns the stats delta the users record into (hn_runner_stats). Two actions need a
 * measurement taken when they are carried out, so they call back into the core: SEND_STATS
 * (hn_runner_stats_msg numbers and snapshots the delta then; what the users recorded while the
 * actions before it ran is in it) and HEARTBEAT (hn_runner_heartbeat with CPU % and RSS).
 * LOAD asks the caller to load the spawn's scenario and answer with hn_runner_loaded. Not
 * thread-safe. */
#ifndef HN_RUNNER_H
#define HN_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "common/stats.h"
#include "proto/codec.h"

enum hn_rn_state {
    HN_RN_CONNECTING, /* a link is open, no ack yet (or relinked after losing the master) */
    HN_RN_READY,      /* acked, no spawn yet */
    HN_RN_SPAWNING,
    HN_RN_RUNNING,
    HN_RN_STOPPING,   /* users finish (bounded by the stop timeout) */
    HN_RN_STOPPED,
    HN_RN_LEAVING,    /* a signal: final delta and quit sent, waiting (bounded) for the ack */
    HN_RN_DONE,       /* EXIT was emitted */
};

struct hn_runner_config {
    const char *master;                /* "host:port", for log lines; borrowed */
    int64_t master_connect_timeout_ms; /* for the first ack; a worker that served waits on */
    int64_t heartbeat_timeout_ms;      /* until a spawn brings the master's */
    int64_t stats_interval_ms;         /* idem */
    int has_secret;                    /* secured links (a secret or keys): only for the
                                          wording of a connect failure */
};

enum hn_rn_kind {
    HN_RN_SEND,           /* msg to the master */
    HN_RN_SEND_STATS,     /* hn_runner_stats_msg, send it, hn_runner_unsent if it failed */
    HN_RN_HEARTBEAT,      /* measure CPU % and RSS, then hn_runner_heartbeat */
    HN_RN_LOAD,           /* load spawn's scenario, then hn_runner_loaded */
    HN_RN_SPAWN,          /* start `count` users of class `cls` */
    HN_RN_STOP_USERS,     /* stop the newest users of `cls` until `keep` remain (graceful) */
    HN_RN_ABORT_STOPPING, /* end the users still finishing; requests in flight are interrupted */
    HN_RN_ITERATE,        /* open model: start `count` iterations, intended at first_ms +
                             k * interval_ms; each that finds no free user is dropped */
    HN_RN_RELINK,         /* close the link, open one under a new node id, hn_runner_linked */
    HN_RN_LOG,            /* level (HN_LOG_*), text */
    HN_RN_EXIT,           /* code (HN_EXIT_*): stop everything and leave */
};

struct hn_rn_action {
    enum hn_rn_kind kind;
    struct hn_msg msg;              /* SEND; pointers valid until the outbox is reset */
    const struct hn_msg *spawn;     /* LOAD: the spawn handed to hn_runner_on_msg (borrowed) */
    size_t cls;                     /* SPAWN, STOP_USERS */
    uint64_t count, keep;           /* SPAWN: how many; STOP_USERS: how many stay */
    int graceful;                   /* STOP_USERS */
    int level;                      /* LOG */
    char text[600];                 /* LOG; SEND: storage for msg.error */
    int code;                       /* EXIT */
    double first_ms, interval_ms;   /* ITERATE */
    struct hn_class_count *classes; /* SEND: owned storage for msg.classes */
};

struct hn_rn_outbox {
    struct hn_rn_action *v;
    size_t n, cap;
};
void hn_rn_outbox_reset(struct hn_rn_outbox *o);
void hn_rn_outbox_fini(struct hn_rn_outbox *o);

struct hn_runner;

struct hn_runner *hn_runner_new(const struct hn_runner_config *cfg, uint64_t now_ms);
void hn_runner_destroy(struct hn_runner **rp);

/* A link is open under node_id (at start, and after each RELINK): client_ready goes out,
 * naming the previous id after a relink. */
void hn_runner_linked(struct hn_runner *r, const char *node_id, uint64_t now_ms,
                      struct hn_rn_outbox *out);
/* A decoded message from the master. A spawn stays borrowed until the outbox is reset. */
void hn_runner_on_msg(struct hn_runner *r, const struct hn_msg *m, uint64_t now_ms,
                      struct hn_rn_outbox *out);
/* The answer to LOAD. ok: the scenario loaded; fresh: the user model was rebuilt (nobody
 * runs); names/targets: the scenario's classes and the spawn's target for each (borrowed
 * until the next LOAD). */
void hn_runner_loaded(struct hn_runner *r, int ok, int fresh, size_t n_classes,
                      const char *const *names, const uint64_t *targets, uint64_t now_ms,
                      struct hn_rn_outbox *out);
/* Call at hn_runner_next_ms, after every message already received was handed in. busy: users
 * still finishing a stop (on_stop steps, requests in flight, WebSocket closing handshakes). A
 * tick that comes late (the process was stopped or starved) forgives the time it was not
 * listening before it judges the master silent. */
void hn_runner_tick(struct hn_runner *r, uint64_t now_ms, uint64_t busy,
                    struct hn_rn_outbox *out);
/* When the core next needs a tick (absolute, the same clock as now_ms). */
uint64_t hn_runner_next_ms(const struct hn_runner *r);
/* SIGINT/SIGTERM: the first one stops the users gracefully, then the worker sends its last
 * delta and leaves; a second one (or one with nothing to stop) leaves at once. */
void hn_runner_signal(struct hn_runner *r, const char *name, uint64_t now_ms,
                      struct hn_rn_outbox *out);

/* SEND_STATS: numbers the delta recorded so far, keeps a copy until the master confirms it,
 * and starts a new delta; m points into the copy (valid until the master's ack or the core's
 * end). */
void hn_runner_stats_msg(struct hn_runner *r, struct hn_msg *m);
/* The stats message numbered seq could not leave: its delta joins the next one. */
void hn_runner_unsent(struct hn_runner *r, uint64_t seq);
/* HEARTBEAT: the measurements, and the message to send. */
void hn_runner_heartbeat(struct hn_runner *r, double cpu_percent, uint64_t rss_bytes,
                         struct hn_rn_outbox *out);

enum hn_rn_state hn_runner_state(const struct hn_runner *r);
const char *hn_runner_state_name(enum hn_rn_state s);
struct hn_stats *hn_runner_stats(struct hn_runner *r); /* the delta users record into */
uint64_t hn_runner_running(const struct hn_runner *r); /* users it has running */
uint64_t hn_runner_unacked(const struct hn_runner *r); /* reports kept for a re-send */
const char *hn_runner_node_id(const struct hn_runner *r);
int64_t hn_runner_index(const struct hn_runner *r); /* from the master's ack; -1 before */

#endif
