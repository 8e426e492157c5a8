/* The master's control plane as a pure core: the workers and their states, the run's phases,
 * dispatch onto the live workers, stats sequence checks, liveness, the stop and its timeout.
 * Every entry point is a function of (state, input, now_ms) that appends to an outbox the
 * messages to send, the deltas to merge and the events to record; the core reads no socket,
 * clock or disk (master.c carries the outbox out), so it is tested in memory with a fake clock
 * (tests/unit/test_cluster.c). Not thread-safe. */
#ifndef HN_CLUSTER_H
#define HN_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "proto/codec.h"

enum hn_cl_phase { HN_CL_WAITING, HN_CL_SPAWNING, HN_CL_RUNNING, HN_CL_STOPPING, HN_CL_DONE };

/* A worker as the master sees it. missing: silent past the heartbeat timeout, its users given
 * to the others; a message from it re-admits it (a new split, so no double load). gone: it
 * quit, or its process exited; never re-admitted under the same id. */
enum hn_peer_state {
    HN_PEER_READY,    /* acked, no users yet */
    HN_PEER_SPAWNING, /* has a spawn it has not confirmed */
    HN_PEER_RUNNING,
    HN_PEER_STOPPING, /* told to stop, no client_stopped yet */
    HN_PEER_STOPPED,
    HN_PEER_MISSING,
    HN_PEER_GONE,
};

struct hn_peer {
    char id[HN_NODE_ID_MAX];
    int64_t index;
    enum hn_peer_state state;
    uint64_t complete_seq;  /* of its last spawning_complete */
    uint64_t stats_seq;     /* of its last merged delta */
    uint64_t lost_reports;  /* deltas it numbered but the master never got */
    uint64_t last_seen_ms;
    uint64_t user_count;    /* what it last said it runs */
    uint64_t assigned;      /* what the last split gave it */
    double cpu_percent, cpu_peak;
    uint64_t rss_bytes, rss_peak;
    int cpu_warned;
    int confirmed;          /* its final delta came (client_stopped, or quit after it) */
    int asked_stop;         /* the stop reached it: its final delta is expected */
    int conn;               /* the connection its last message came on, -1 if unknown */
    uint64_t it_done;       /* -i: task iterations it reported ending */
    int draining;           /* a New test came before it confirmed the last test's stop: what
                               it reports until it does belongs to that test, not this one */
};

/* The core borrows its config for life; between calls the caller may change users,
 * class_counts and spawn_rate, then call hn_cluster_load_changed. */
struct hn_cluster_config {
    size_t n_classes;
    const char *const *class_names;
    const uint64_t *class_counts; /* users per class at the full user count */
    uint64_t users;
    double spawn_rate;
    double arrival_rate; /* open model: iterations per second cluster-wide (0: closed) */
    uint64_t expect_workers;
    int64_t expect_workers_max_wait_ms;
    int64_t run_time_ms;          /* 0: until stopped */
    int64_t heartbeat_timeout_ms; /* a worker silent this long is missing */
    int64_t stop_timeout_ms;      /* the stop waits this long plus 2 s for confirmations */
    const char *run_id; /* this master's run, in every ack */
    uint64_t iterations; /* -i: task iterations to start in all, then stop (0: no cap) */
    int hold; /* the web UI's start form: workers join and wait, the run does not start (and
                 the wait for workers does not time out) until hn_cluster_release */
    /* what every spawn carries besides the split (host, scenario, timeouts, tags...):
     * borrowed for the core's life */
    const struct hn_msg *spawn_template;
};

enum hn_cl_kind { HN_CL_SEND, HN_CL_MERGE, HN_CL_EVENT };

enum hn_cl_event {
    HN_EV_JOINED,        /* a new worker was acked */
    HN_EV_REFUSED,       /* client_ready of another protocol version (detail: why) */
    HN_EV_REJOINED,      /* a missing worker spoke again */
    HN_EV_LEFT,          /* gone (detail: why) */
    HN_EV_MISSING,       /* silent past the heartbeat timeout */
    HN_EV_STARTED,       /* enough workers: the run starts */
    HN_EV_GAVE_UP,       /* not enough workers within the wait */
    HN_EV_ALL_SPAWNED,   /* every live worker confirmed the current split */
    HN_EV_STOPPING,      /* detail: why */
    HN_EV_ALL_LOST,      /* no live worker is left mid-run */
    HN_EV_UNCONFIRMED,   /* the stop timed out: peer never confirmed */
    HN_EV_SATURATED,     /* a worker's CPU went past 90 % (once per worker) */
    HN_EV_EXCEPTION,     /* a worker reported one (msg: the exception message) */
    HN_EV_LOST_REPORTS,  /* a gap in a worker's stats sequence (detail: how many) */
    HN_EV_LATE_REPORT,   /* a draining worker's report of the last test, not merged (detail:
                            its requests) */
    HN_EV_DONE,
};

struct hn_cl_action {
    enum hn_cl_kind kind;
    /* SEND: msg to the worker `to`; its pointers stay valid until the outbox is reset */
    char to[HN_NODE_ID_MAX];
    struct hn_msg msg;
    /* MERGE: the input message whose delta joins the run's stats (borrowed from the caller) */
    const struct hn_msg *delta;
    /* EVENT */
    enum hn_cl_event event;
    const struct hn_peer *peer; /* the worker it is about, or NULL */
    char detail[600];
};

struct hn_cl_outbox {
    struct hn_cl_action *v;
    size_t n, cap;
};
void hn_cl_outbox_reset(struct hn_cl_outbox *o);
void hn_cl_outbox_fini(struct hn_cl_outbox *o);

struct hn_cluster;

/* The core for one run; cfg and what it points to are borrowed for its life. */
struct hn_cluster *hn_cluster_new(const struct hn_cluster_config *cfg, uint64_t now_ms);
void hn_cluster_destroy(struct hn_cluster **clp);

/* A decoded message from a worker (the rpc adapter checked that its node id is its sender).
 * conn: the connection it came on (a descriptor; -1 if unknown), remembered per worker so a
 * closed connection can be tied to its worker. */
void hn_cluster_on_msg(struct hn_cluster *cl, const struct hn_msg *m, int conn, uint64_t now_ms,
                       struct hn_cl_outbox *out);
/* A connection closed (the socket monitor said so): its worker is missing at once, its users
 * go to the others; if it comes back it is re-admitted. */
void hn_cluster_conn_closed(struct hn_cluster *cl, int conn, uint64_t now_ms,
                            struct hn_cl_outbox *out);
/* Once a second, after every message already received was handed in: starts the run when
 * enough workers are there, ends the run time, judges liveness, ends a stop that timed out,
 * and heartbeats every live worker. A tick that comes late (the master's loop stalled) first
 * forgives the stall: silence while the master was not listening is not a worker's. */
void hn_cluster_tick(struct hn_cluster *cl, uint64_t now_ms, struct hn_cl_outbox *out);
/* The deadlines alone (the wait for workers, the run time, the stop timeout): call it on every
 * loop turn, so the run time is kept to the loop's resolution; the tick calls it too. */
void hn_cluster_timers(struct hn_cluster *cl, uint64_t now_ms, struct hn_cl_outbox *out);
/* The caller changed the borrowed cfg's users, class_counts or spawn_rate (a stage began): a
 * new split goes to every live worker once the run has started. */
void hn_cluster_load_changed(struct hn_cluster *cl, struct hn_cl_outbox *out);
/* The caller cleared cfg->hold (a start from the web UI), after setting the load: the run
 * starts once expect_workers are there, within expect_workers_max_wait_ms from now. */
void hn_cluster_release(struct hn_cluster *cl, uint64_t now_ms, struct hn_cl_outbox *out);
/* Begins the stop (a signal, or the caller's own reason); no-op once stopping. */
void hn_cluster_stop(struct hn_cluster *cl, const char *why, uint64_t now_ms,
                     struct hn_cl_outbox *out);
/* A worker's process exited (local mode) or its connection closed: it is gone now, not after
 * the heartbeat timeout. id_part: a substring of its node id (local mode: "_PID_"). Returns
 * 1 if such a worker was live. */
int hn_cluster_peer_exited(struct hn_cluster *cl, const char *id_part, const char *why,
                           uint64_t now_ms, struct hn_cl_outbox *out);
/* Ends the run: quit to every worker still there (with reason). */
void hn_cluster_finish(struct hn_cluster *cl, const char *reason, struct hn_cl_outbox *out);
/* Another test with the same workers (the web UI's New test, as Locust's): from DONE back to
 * WAITING, the workers that confirmed their stop ready again (one that did not is draining:
 * its reports are not merged until its confirmation comes), the run's clocks, counters and
 * result cleared. Spawn and stats sequences go on, so nothing of the last test is taken for
 * this one's. The caller sets cfg->hold (the form starts the test) and the load first; and
 * must call this as soon as the phase is DONE, as heartbeats stop there. Returns 0, or -1
 * unless DONE. */
int hn_cluster_rearm(struct hn_cluster *cl, uint64_t now_ms);
/* Gives up at once (a second Ctrl-C): phase DONE without waiting. */
void hn_cluster_abort(struct hn_cluster *cl, uint64_t now_ms);

enum hn_cl_phase hn_cluster_phase(const struct hn_cluster *cl);
const struct hn_peer *hn_cluster_peers(const struct hn_cluster *cl, size_t *n);
size_t hn_cluster_live(const struct hn_cluster *cl);      /* neither missing nor gone */
size_t hn_cluster_draining(const struct hn_cluster *cl);  /* live and draining */
uint64_t hn_cluster_users(const struct hn_cluster *cl);   /* what live workers say they run */
uint64_t hn_cluster_started_ms(const struct hn_cluster *cl); /* 0 before the run starts */
uint64_t hn_cluster_stopped_ms(const struct hn_cluster *cl); /* 0 before the stop */

/* How the run ended, for the exit code and the report. */
struct hn_cluster_result {
    int gave_up;            /* not enough workers came */
    int all_lost;           /* every worker was lost mid-run, none back within the
                               expect-workers wait */
    size_t unconfirmed;     /* workers told to stop whose final delta never came */
    uint64_t lost_reports;  /* stats deltas numbered but never received, all workers */
};
void hn_cluster_result(const struct hn_cluster *cl, struct hn_cluster_result *r);

const char *hn_peer_state_name(enum hn_peer_state s);

#endif
