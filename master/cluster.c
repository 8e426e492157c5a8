#include "master/cluster.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "master/dispatch.h"

#define STALL_GRACE_MS 1500 /* a tick later than this after the last one: the master stalled */
#define STOP_GRACE_MS 2000  /* the stop waits stop_timeout plus this for confirmations */

struct hn_cluster {
    const struct hn_cluster_config *cfg;
    enum hn_cl_phase phase;
    struct hn_peer *peers;
    size_t n_peers, cap_peers;
    int64_t next_index;
    uint64_t spawn_seq;
    uint64_t wait_start_ms, start_ms, stop_ms, last_tick_ms;
    int all_spawned_said;
    uint32_t *index; /* by node id: peer position + 1, 0 = empty */
    size_t index_cap;
    uint64_t none_live_since_ms; /* every worker went missing at this time (0: some live) */
    struct hn_cluster_result result;
    uint64_t it_done; /* -i: task iterations every worker reported ending, in all */
};

const char *hn_peer_state_name(enum hn_peer_state s)
{
    static const char *const names[] = {"ready",    "spawning", "running", "stopping",
                                        "stopped",  "missing",  "gone"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

/* ---------- outbox ---------- */

static struct hn_cl_action *push(struct hn_cl_outbox *o, enum hn_cl_kind kind)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->v = hn_realloc(o->v, o->cap * sizeof *o->v);
    }
    struct hn_cl_action *a = &o->v[o->n++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    return a;
}

void hn_cl_outbox_reset(struct hn_cl_outbox *o)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].kind == HN_CL_SEND && o->v[i].msg.type == HN_MSG_SPAWN)
            free(o->v[i].msg.classes); /* the split is the only thing a send owns */
    o->n = 0;
}

void hn_cl_outbox_fini(struct hn_cl_outbox *o)
{
    hn_cl_outbox_reset(o);
    free(o->v);
    o->v = NULL;
    o->cap = 0;
}

static struct hn_msg *send(struct hn_cl_outbox *o, const struct hn_peer *p, enum hn_msg_type t)
{
    struct hn_cl_action *a = push(o, HN_CL_SEND);
    snprintf(a->to, sizeof a->to, "%s", p->id);
    hn_msg_init(&a->msg, t, "master");
    return &a->msg;
}

static void event(struct hn_cl_outbox *o, enum hn_cl_event ev, const struct hn_peer *p,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void event(struct hn_cl_outbox *o, enum hn_cl_event ev, const struct hn_peer *p,
                  const char *fmt, ...)
{
    struct hn_cl_action *a = push(o, HN_CL_EVENT);
    a->event = ev;
    a->peer = p;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(a->detail, sizeof a->detail, fmt, ap);
        va_end(ap);
    }
}

/* ---------- peers ---------- */

static int is_live(const struct hn_peer *p)
{
    return p->state != HN_PEER_MISSING && p->state != HN_PEER_GONE;
}

size_t hn_cluster_draining(const struct hn_cluster *cl)
{
    size_t n = 0;
    for (size_t i = 0; i < cl->n_peers; i++)
        n += is_live(&cl->peers[i]) && cl->peers[i].draining;
    return n;
}

size_t hn_cluster_live(const struct hn_cluster *cl)
{
    size_t n = 0;
    for (size_t i = 0; i < cl->n_peers; i++)
        n += is_live(&cl->peers[i]);
    return n;
}

/* The one place a worker's state changes; the moves a worker can make are asserted here. */
static void set_state(struct hn_peer *p, enum hn_peer_state to)
{
    enum hn_peer_state from = p->state;
    int ok;
    switch (to) {
    case HN_PEER_READY:
        ok = from == HN_PEER_MISSING || from == HN_PEER_READY || from == HN_PEER_STOPPED;
        break;
    case HN_PEER_SPAWNING: ok = from != HN_PEER_GONE && from != HN_PEER_MISSING; break;
    case HN_PEER_RUNNING: ok = from == HN_PEER_SPAWNING || from == HN_PEER_RUNNING; break;
    case HN_PEER_STOPPING: ok = from != HN_PEER_GONE && from != HN_PEER_MISSING; break;
    case HN_PEER_STOPPED: ok = from == HN_PEER_STOPPING || from == HN_PEER_STOPPED; break;
    case HN_PEER_MISSING: ok = from != HN_PEER_GONE; break;
    case HN_PEER_GONE: ok = 1; break;
    default: ok = 0; break;
    }
    hn_assert(ok);
    p->state = to;
    if (to == HN_PEER_MISSING || to == HN_PEER_GONE)
        p->draining = 0; /* whatever it still had of the last test is lost with it */
}

static uint64_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *c = id; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    return h;
}

/* Every message names its worker: an open-addressing index (peer position + 1) keeps the
 * lookup O(1) with thousands of workers. */
static void index_peer(struct hn_cluster *cl, size_t pos)
{
    if ((cl->n_peers + 1) * 2 > cl->index_cap) {
        size_t cap = cl->index_cap ? cl->index_cap * 2 : 64;
        while ((cl->n_peers + 1) * 2 > cap)
            cap *= 2;
        free(cl->index);
        cl->index = hn_calloc(cap, sizeof *cl->index);
        cl->index_cap = cap;
        for (size_t i = 0; i < cl->n_peers; i++) {
            if (i == pos)
                continue;
            size_t j = id_hash(cl->peers[i].id) & (cap - 1);
            while (cl->index[j])
                j = (j + 1) & (cap - 1);
            cl->index[j] = (uint32_t)i + 1;
        }
    }
    size_t j = id_hash(cl->peers[pos].id) & (cl->index_cap - 1);
    while (cl->index[j])
        j = (j + 1) & (cl->index_cap - 1);
    cl->index[j] = (uint32_t)pos + 1;
}

static struct hn_peer *find(struct hn_cluster *cl, const char *id)
{
    if (!cl->index_cap)
        return NULL;
    size_t j = id_hash(id) & (cl->index_cap - 1);
    while (cl->index[j]) {
        struct hn_peer *p = &cl->peers[cl->index[j] - 1];
        if (!strcmp(p->id, id))
            return p;
        j = (j + 1) & (cl->index_cap - 1);
    }
    return NULL;
}

/* ---------- dispatch ---------- */

struct ranked {
    size_t pos;   /* in cl->peers */
    size_t rank;  /* how many workers of its host come before it */
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* A node id is host_pid_random: the host is what comes before the last two '_'. */
static uint64_t host_hash(const char *id)
{
    const char *end = strrchr(id, '_');
    if (end) {
        const char *p = end;
        while (p > id && p[-1] != '_')
            p--;
        end = p > id ? p - 1 : end;
    }
    uint64_t h = 1469598103934665603ull;
    for (const char *c = id; *c && c != end; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    return h;
}

/* The live workers in dealing order: the first of every host, then the second of every host...
 * so a few users spread over machines before they double up on one (Locust's #2128). */
static struct ranked *dealing_order(const struct hn_cluster *cl, size_t nw)
{
    struct ranked *r = hn_calloc(nw ? nw : 1, sizeof *r);
    size_t cap = 16;
    while (cap < 2 * nw)
        cap *= 2;
    uint64_t *keys = hn_calloc(cap, sizeof *keys);
    size_t *counts = hn_calloc(cap, sizeof *counts);
    size_t k = 0;
    for (size_t i = 0; i < cl->n_peers; i++) {
        if (!is_live(&cl->peers[i]))
            continue;
        uint64_t h = host_hash(cl->peers[i].id) | 1; /* 0 marks an empty slot */
        size_t j = h & (cap - 1);
        while (keys[j] && keys[j] != h)
            j = (j + 1) & (cap - 1);
        keys[j] = h;
        r[k].pos = i;
        r[k++].rank = counts[j]++;
    }
    qsort(r, nw, sizeof *r, cmp_ranked);
    free(keys);
    free(counts);
    return r;
}

/* Gives every live worker its absolute share of each class (a new split replaces the old, so
 * a join, a leave or a rejoin is just another split). */
static void dispatch(struct hn_cluster *cl, struct hn_cl_outbox *out)
{
    const struct hn_cluster_config *c = cl->cfg;
    size_t nw = hn_cluster_live(cl), nc = c->n_classes;
    if (!nw)
        return;
    uint64_t *split = hn_calloc(nw * nc, sizeof *split);
    hn_dispatch_workers(c->class_counts, nc, nw, split);
    struct ranked *order = dealing_order(cl, nw);
    /* -i: what is left of the cap is dealt among the live workers, on top of what each has
     * ended, so the caps of the live workers sum to what may still run */
    uint64_t left = c->iterations > cl->it_done ? c->iterations - cl->it_done : 0;
    uint64_t it_q = left / nw, it_r = left % nw;
    cl->spawn_seq++;
    cl->all_spawned_said = 0;
    uint64_t id_base = 0;
    for (size_t k = 0; k < nw; k++) {
        struct hn_peer *p = &cl->peers[order[k].pos];
        struct hn_class_count *cc = hn_calloc(nc ? nc : 1, sizeof *cc);
        p->assigned = 0;
        for (size_t j = 0; j < nc; j++) {
            cc[j].name = (char *)c->class_names[j];
            cc[j].count = split[k * nc + j];
            p->assigned += cc[j].count;
        }
        struct hn_msg *m = send(out, p, HN_MSG_SPAWN);
        *m = *c->spawn_template;
        m->type = HN_MSG_SPAWN;
        snprintf(m->node_id, sizeof m->node_id, "master");
        m->owned = 0;
        m->seq = cl->spawn_seq;
        m->classes = cc;
        m->n_classes = nc;
        m->spawn_rate = hn_dispatch_rate(c->spawn_rate, p->assigned, c->users, nw);
        /* open model: each worker starts iterations in proportion to its share of the pool,
         * so the shares sum to the cluster's rate */
        m->arrival_rate = c->arrival_rate > 0
                              ? hn_dispatch_rate(c->arrival_rate, p->assigned, c->users, nw)
                              : 0;
        m->user_count = c->users;
        m->iterations =
            c->iterations ? p->it_done + it_q + ((uint64_t)k < it_r ? 1 : 0) : 0;
        m->user_id_base = id_base;
        id_base += p->assigned;
        set_state(p, HN_PEER_SPAWNING);
    }
    free(order);
    free(split);
    if (cl->phase == HN_CL_RUNNING)
        cl->phase = HN_CL_SPAWNING;
}

static void check_all_spawned(struct hn_cluster *cl, struct hn_cl_outbox *out)
{
    if (cl->phase != HN_CL_SPAWNING || cl->all_spawned_said)
        return;
    for (size_t i = 0; i < cl->n_peers; i++)
        if (is_live(&cl->peers[i]) && cl->peers[i].complete_seq != cl->spawn_seq)
            return;
    cl->phase = HN_CL_RUNNING;
    cl->all_spawned_said = 1;
    event(out, HN_EV_ALL_SPAWNED, NULL, NULL);
}

static int stop_settled(struct hn_cluster *cl, uint64_t now_ms, struct hn_cl_outbox *out);

/* ---------- lifecycle ---------- */

struct hn_cluster *hn_cluster_new(const struct hn_cluster_config *cfg, uint64_t now_ms)
{
    struct hn_cluster *cl = hn_calloc(1, sizeof *cl);
    cl->cfg = cfg;
    cl->phase = HN_CL_WAITING;
    cl->wait_start_ms = now_ms;
    cl->last_tick_ms = now_ms;
    return cl;
}

void hn_cluster_destroy(struct hn_cluster **clp)
{
    struct hn_cluster *cl = clp ? *clp : NULL;
    if (!cl)
        return;
    free(cl->peers);
    free(cl->index);
    free(cl);
    *clp = NULL;
}

static void start_run(struct hn_cluster *cl, uint64_t now_ms, struct hn_cl_outbox *out)
{
    cl->start_ms = now_ms ? now_ms : 1;
    cl->phase = HN_CL_SPAWNING;
    event(out, HN_EV_STARTED, NULL, "%zu workers", hn_cluster_live(cl));
    dispatch(cl, out);
}

static void to_done(struct hn_cluster *cl, uint64_t now_ms, struct hn_cl_outbox *out)
{
    if (cl->phase == HN_CL_DONE)
        return;
    if (!cl->stop_ms)
        cl->stop_ms = now_ms ? now_ms : 1;
    /* every worker told to stop whose final delta never came: its last seconds are missing */
    for (size_t i = 0; i < cl->n_peers; i++) {
        struct hn_peer *p = &cl->peers[i];
        if (p->asked_stop && !p->confirmed) {
            cl->result.unconfirmed++;
            event(out, HN_EV_UNCONFIRMED, p, NULL);
        }
    }
    cl->phase = HN_CL_DONE;
    event(out, HN_EV_DONE, NULL, NULL);
}

static void ask_stop(struct hn_peer *p, struct hn_cl_outbox *out)
{
    set_state(p, HN_PEER_STOPPING);
    p->asked_stop = 1;
    send(out, p, HN_MSG_STOP);
}

void hn_cluster_load_changed(struct hn_cluster *cl, struct hn_cl_outbox *out)
{
    if (cl->phase == HN_CL_SPAWNING || cl->phase == HN_CL_RUNNING)
        dispatch(cl, out); /* absolute targets: the workers add or shed the difference */
}

void hn_cluster_stop(struct hn_cluster *cl, const char *why, uint64_t now_ms,
                     struct hn_cl_outbox *out)
{
    if (cl->phase >= HN_CL_STOPPING)
        return;
    if (cl->phase == HN_CL_WAITING) { /* nothing runs yet: nothing to stop */
        event(out, HN_EV_STOPPING, NULL, "%s", why);
        to_done(cl, now_ms, out);
        return;
    }
    cl->phase = HN_CL_STOPPING;
    cl->stop_ms = now_ms ? now_ms : 1;
    event(out, HN_EV_STOPPING, NULL, "%s", why);
    for (size_t i = 0; i < cl->n_peers; i++) {
        struct hn_peer *p = &cl->peers[i];
        if (!is_live(p))
            continue;
        p->confirmed = 0;
        ask_stop(p, out);
    }
    stop_settled(cl, now_ms, out); /* no live worker: nothing to wait for */
}

int hn_cluster_rearm(struct hn_cluster *cl, uint64_t now_ms)
{
    if (cl->phase != HN_CL_DONE)
        return -1;
    for (size_t i = 0; i < cl->n_peers; i++) {
        struct hn_peer *p = &cl->peers[i];
        if (p->state == HN_PEER_STOPPED)
            set_state(p, HN_PEER_READY);
        p->draining = p->state == HN_PEER_STOPPING;
        p->assigned = 0;
        p->confirmed = p->asked_stop = 0;
        p->lost_reports = 0;
        p->it_done = 0;
        p->cpu_peak = 0;
        p->rss_peak = 0;
        p->cpu_warned = 0;
    }
    cl->phase = HN_CL_WAITING;
    cl->wait_start_ms = now_ms;
    cl->start_ms = cl->stop_ms = 0;
    cl->all_spawned_said = 0;
    cl->none_live_since_ms = 0;
    cl->it_done = 0;
    memset(&cl->result, 0, sizeof cl->result);
    return 0;
}

void hn_cluster_abort(struct hn_cluster *cl, uint64_t now_ms)
{
    if (!cl->stop_ms)
        cl->stop_ms = now_ms ? now_ms : 1;
    cl->phase = HN_CL_DONE;
}

/* The stop is over once every live worker confirmed it (checked as confirmations arrive, not
 * only on the next tick). Returns 1 if the run is done. */
static int stop_settled(struct hn_cluster *cl, uint64_t now_ms, struct hn_cl_outbox *out)
{
    if (cl->phase != HN_CL_STOPPING)
        return cl->phase == HN_CL_DONE;
    for (size_t i = 0; i < cl->n_peers; i++)
        if (is_live(&cl->peers[i]) && !cl->peers[i].confirmed)
            return 0;
    to_done(cl, now_ms, out);
    return 1;
}

/* A worker left for good: its users go to the others, or the run ends if none is left. */
static void peer_gone(struct hn_cluster *cl, struct hn_peer *p, const char *why, uint64_t now_ms,
                      struct hn_cl_outbox *out)
{
    int was_live = is_live(p);
    set_state(p, HN_PEER_GONE);
    event(out, HN_EV_LEFT, p, "%s", why);
    if (!was_live)
        return;
    stop_settled(cl, now_ms, out);
    if (cl->phase == HN_CL_SPAWNING || cl->phase == HN_CL_RUNNING) {
        if (!hn_cluster_live(cl)) {
            cl->result.all_lost = 1;
            event(out, HN_EV_ALL_LOST, NULL, NULL);
            to_done(cl, now_ms, out);
            return;
        }
        dispatch(cl, out); /* its users move to the others */
    }
}

static void peer_missing(struct hn_cluster *cl, struct hn_peer *p, uint64_t now_ms,
                         struct hn_cl_outbox *out, const char *why)
{
    set_state(p, HN_PEER_MISSING);
    event(out, HN_EV_MISSING, p, "%s", why);
    stop_settled(cl, now_ms, out);
    if (cl->phase == HN_CL_SPAWNING || cl->phase == HN_CL_RUNNING) {
        /* with none left, the missing may still come back (a frozen master's workers relink
         * as it thaws, a partition heals): the run ends only if none has within
         * --expect-workers-max-wait, the same patience as for the first workers */
        if (!hn_cluster_live(cl))
            cl->none_live_since_ms = now_ms ? now_ms : 1;
        else
            dispatch(cl, out);
    }
}

/* A missing worker spoke: it is back. It gets a share again (the others shed theirs), or is
 * told to stop if the run is stopping. */
static void rejoin(struct hn_cluster *cl, struct hn_peer *p, struct hn_cl_outbox *out)
{
    set_state(p, HN_PEER_READY);
    event(out, HN_EV_REJOINED, p, NULL);
    if (cl->phase == HN_CL_SPAWNING || cl->phase == HN_CL_RUNNING)
        dispatch(cl, out);
    else if (cl->phase == HN_CL_STOPPING && !p->confirmed)
        ask_stop(p, out);
}

/* ---------- input ---------- */

static void on_ready(struct hn_cluster *cl, const struct hn_msg *m, uint64_t now_ms,
                     struct hn_cl_outbox *out)
{
    if (m->protocol_version != HN_PROTOCOL_VERSION) {
        struct hn_cl_action *a = push(out, HN_CL_EVENT);
        a->event = HN_EV_REFUSED;
        snprintf(a->detail, sizeof a->detail,
                 "protocol version %llu (hornet %s) differs from the master's %d (hornet %s); "
                 "run the same hornet version everywhere",
                 (unsigned long long)m->protocol_version, m->version ? m->version : "?",
                 HN_PROTOCOL_VERSION, HORNET_VERSION);
        snprintf(a->to, sizeof a->to, "%s", m->node_id);
        struct hn_cl_action *s = push(out, HN_CL_SEND);
        snprintf(s->to, sizeof s->to, "%s", m->node_id);
        hn_msg_init(&s->msg, HN_MSG_ACK, "master");
        s->msg.error = a->detail; /* the event's text outlives the send: both are in the box */
        return;
    }
    struct hn_peer *p = find(cl, m->node_id);
    if (p && p->state == HN_PEER_GONE) {
        /* it said quit, or its process exited: an id is never reused */
        struct hn_cl_action *s = push(out, HN_CL_SEND);
        snprintf(s->to, sizeof s->to, "%s", m->node_id);
        hn_msg_init(&s->msg, HN_MSG_ACK, "master");
        s->msg.error = "this node id already left the run; start the worker again";
        return;
    }
    /* A worker that relinked says who it was: that id is over (nothing more it sent counts, so
     * nothing is merged twice) and the ack says how far its reports were merged, so the
     * worker re-sends exactly the rest. */
    uint64_t prev_acked = 0;
    struct hn_peer *prev = m->previous && *m->previous ? find(cl, m->previous) : NULL;
    size_t prev_pos = prev && prev != p ? (size_t)(prev - cl->peers) : SIZE_MAX;
    if (prev_pos != SIZE_MAX)
        prev_acked = prev->stats_seq;
    int fresh = !p;
    if (fresh) {
        if (cl->n_peers == cl->cap_peers) {
            cl->cap_peers = cl->cap_peers ? cl->cap_peers * 2 : 8;
            cl->peers = hn_realloc(cl->peers, cl->cap_peers * sizeof *cl->peers);
        }
        p = &cl->peers[cl->n_peers++];
        memset(p, 0, sizeof *p);
        snprintf(p->id, sizeof p->id, "%s", m->node_id);
        p->index = cl->next_index++;
        p->state = HN_PEER_READY;
        p->conn = -1;
        index_peer(cl, cl->n_peers - 1);
    }
    p->last_seen_ms = now_ms;
    struct hn_msg *ack = send(out, p, HN_MSG_ACK);
    ack->index = p->index;
    ack->error = "";
    ack->run = cl->cfg->run_id;
    ack->acked = prev_acked;
    if (prev_pos != SIZE_MAX && cl->peers[prev_pos].state != HN_PEER_GONE) {
        /* after the newcomer is counted, so the run never looks empty in between */
        struct hn_peer *old = &cl->peers[prev_pos];
        char why[HN_NODE_ID_MAX + 32];
        snprintf(why, sizeof why, "it came back as %s", m->node_id);
        old->confirmed = 1;
        peer_gone(cl, old, why, now_ms, out);
        p = find(cl, m->node_id);
    }
    if (fresh) {
        event(out, HN_EV_JOINED, p, NULL);
        if (cl->phase == HN_CL_WAITING && !cl->cfg->hold &&
            hn_cluster_live(cl) >= cl->cfg->expect_workers)
            start_run(cl, now_ms, out); /* the last one expected: no need to wait for a tick */
        else if (cl->phase == HN_CL_SPAWNING || cl->phase == HN_CL_RUNNING)
            dispatch(cl, out); /* rebalance onto the newcomer */
        else if (cl->phase == HN_CL_STOPPING)
            ask_stop(p, out);
    } else if (p->state == HN_PEER_MISSING) {
        rejoin(cl, p, out);
    }
}

static void on_stats(struct hn_cluster *cl, struct hn_peer *p, const struct hn_msg *m,
                     struct hn_cl_outbox *out)
{
    if (m->seq <= p->stats_seq)
        return; /* a duplicate: merged once already */
    if (m->seq != p->stats_seq + 1) {
        uint64_t gap = m->seq - p->stats_seq - 1;
        p->lost_reports += gap;
        cl->result.lost_reports += gap;
        event(out, HN_EV_LOST_REPORTS, p, "%llu", (unsigned long long)gap);
    }
    p->stats_seq = m->seq;
    p->user_count = m->user_count;
    if (p->draining) { /* the last test's, after its end: said, not merged into this one */
        event(out, HN_EV_LATE_REPORT, p, "%llu",
              (unsigned long long)(m->stats ? m->stats->total.n_requests : 0));
        return;
    }
    if (m->stats) {
        p->it_done += m->stats->iterations;
        cl->it_done += m->stats->iterations;
    }
    struct hn_cl_action *a = push(out, HN_CL_MERGE);
    a->delta = m;
    a->peer = p;
}

void hn_cluster_on_msg(struct hn_cluster *cl, const struct hn_msg *m, int conn, uint64_t now_ms,
                       struct hn_cl_outbox *out)
{
    if (m->type == HN_MSG_CLIENT_READY) {
        on_ready(cl, m, now_ms, out);
        struct hn_peer *r = find(cl, m->node_id);
        if (r)
            r->conn = conn;
        return;
    }
    struct hn_peer *p = find(cl, m->node_id);
    if (!p || p->state == HN_PEER_GONE)
        return; /* unknown, or gone for good: nothing it says counts */
    p->last_seen_ms = now_ms;
    p->conn = conn;
    if (p->state == HN_PEER_MISSING && m->type != HN_MSG_QUIT)
        rejoin(cl, p, out);
    switch (m->type) {
    case HN_MSG_SPAWNING_COMPLETE:
        p->complete_seq = m->seq;
        p->user_count = m->user_count;
        if (m->seq == cl->spawn_seq && p->state == HN_PEER_SPAWNING)
            set_state(p, HN_PEER_RUNNING);
        check_all_spawned(cl, out);
        break;
    case HN_MSG_STATS:
        on_stats(cl, p, m, out);
        break;
    case HN_MSG_HEARTBEAT:
        p->cpu_percent = m->cpu_percent;
        p->rss_bytes = m->rss_bytes;
        p->user_count = m->user_count;
        if (m->cpu_percent > p->cpu_peak)
            p->cpu_peak = m->cpu_percent;
        if (m->rss_bytes > p->rss_peak)
            p->rss_peak = m->rss_bytes;
        if (m->cpu_percent > 90 && !p->cpu_warned) {
            p->cpu_warned = 1;
            event(out, HN_EV_SATURATED, p, "%.0f", m->cpu_percent);
        }
        break;
    case HN_MSG_CLIENT_STOPPED:
        p->confirmed = 1;
        p->user_count = 0;
        if (p->state == HN_PEER_STOPPING)
            set_state(p, HN_PEER_STOPPED);
        if (p->draining) { /* the last test's stop, at last: ready for the next */
            p->draining = 0;
            p->confirmed = 0;
            set_state(p, HN_PEER_READY);
        }
        stop_settled(cl, now_ms, out);
        break;
    case HN_MSG_EXCEPTION:
        event(out, HN_EV_EXCEPTION, p, "%s", m->error ? m->error : "");
        break;
    case HN_MSG_QUIT:
        /* a worker sends its last delta before quit (one socket keeps the order): its numbers
         * are complete, whatever the run's phase */
        p->confirmed = 1;
        p->user_count = 0;
        {
            /* the leaving worker waits (bounded) for word that its last delta was merged */
            struct hn_msg *ack = send(out, p, HN_MSG_ACK);
            ack->index = p->index;
            ack->error = "";
            ack->run = cl->cfg->run_id;
            ack->acked = p->stats_seq;
        }
        peer_gone(cl, p, m->error && *m->error ? m->error : "it quit", now_ms, out);
        break;
    default:
        break;
    }
}

void hn_cluster_conn_closed(struct hn_cluster *cl, int conn, uint64_t now_ms,
                            struct hn_cl_outbox *out)
{
    if (conn < 0)
        return;
    for (size_t i = 0; i < cl->n_peers; i++) {
        struct hn_peer *p = &cl->peers[i];
        if (p->conn != conn)
            continue;
        p->conn = -1; /* a later connection may get the same descriptor */
        if (is_live(p) && cl->phase != HN_CL_DONE)
            peer_missing(cl, p, now_ms, out, "its connection closed");
    }
}

int hn_cluster_peer_exited(struct hn_cluster *cl, const char *id_part, const char *why,
                           uint64_t now_ms, struct hn_cl_outbox *out)
{
    int found = 0;
    for (size_t i = 0; i < cl->n_peers; i++) {
        struct hn_peer *p = &cl->peers[i];
        if (p->state == HN_PEER_GONE || !strstr(p->id, id_part))
            continue;
        peer_gone(cl, p, why, now_ms, out);
        found = 1;
    }
    return found;
}

void hn_cluster_release(struct hn_cluster *cl, uint64_t now_ms, struct hn_cl_outbox *out)
{
    if (cl->phase != HN_CL_WAITING || cl->cfg->hold)
        return;
    cl->wait_start_ms = now_ms;
    hn_cluster_timers(cl, now_ms, out);
}

/* ---------- time ---------- */

/* The deadlines: the wait for workers, the run time, the stop's timeout. Cheap; called on
 * every loop turn so a run lasts its run time to the loop's resolution, not the tick's. */
void hn_cluster_timers(struct hn_cluster *cl, uint64_t now_ms, struct hn_cl_outbox *out)
{
    const struct hn_cluster_config *c = cl->cfg;
    switch (cl->phase) {
    case HN_CL_WAITING:
        if (c->hold) {
            break; /* the web UI's start form decides when */
        } else if (hn_cluster_live(cl) >= c->expect_workers) {
            start_run(cl, now_ms, out);
        } else if ((int64_t)(now_ms - cl->wait_start_ms) > c->expect_workers_max_wait_ms) {
            cl->result.gave_up = 1;
            event(out, HN_EV_GAVE_UP, NULL, "only %zu of %llu workers connected within %lld s",
                  hn_cluster_live(cl), (unsigned long long)c->expect_workers,
                  (long long)(c->expect_workers_max_wait_ms / 1000));
            to_done(cl, now_ms, out);
        }
        break;
    case HN_CL_SPAWNING:
    case HN_CL_RUNNING:
        if (c->run_time_ms && (int64_t)(now_ms - cl->start_ms) >= c->run_time_ms)
            hn_cluster_stop(cl, "Time limit reached", now_ms, out);
        else if (c->iterations && cl->it_done >= c->iterations)
            hn_cluster_stop(cl, "Iteration limit reached", now_ms, out);
        break;
    default:
        break;
    }
    if (cl->phase == HN_CL_STOPPING && !stop_settled(cl, now_ms, out) &&
        (int64_t)(now_ms - cl->stop_ms) > c->stop_timeout_ms + STOP_GRACE_MS)
        to_done(cl, now_ms, out);
}

void hn_cluster_tick(struct hn_cluster *cl, uint64_t now_ms, struct hn_cl_outbox *out)
{
    const struct hn_cluster_config *c = cl->cfg;
    /* The master's own stall (a stopped process, a slow disk, a long commit) is not the
     * workers' silence: the time it was not listening is forgiven. */
    if (now_ms > cl->last_tick_ms + STALL_GRACE_MS) {
        uint64_t stall = now_ms - cl->last_tick_ms - 1000;
        for (size_t i = 0; i < cl->n_peers; i++) {
            struct hn_peer *p = &cl->peers[i];
            p->last_seen_ms = p->last_seen_ms + stall < now_ms ? p->last_seen_ms + stall : now_ms;
        }
        cl->wait_start_ms += stall;
        if (cl->none_live_since_ms)
            cl->none_live_since_ms += stall;
        if (cl->stop_ms)
            cl->stop_ms += stall;
    }
    cl->last_tick_ms = now_ms;
    for (size_t i = 0; i < cl->n_peers && cl->phase != HN_CL_DONE; i++) {
        struct hn_peer *p = &cl->peers[i];
        if (is_live(p) && now_ms > p->last_seen_ms &&
            (int64_t)(now_ms - p->last_seen_ms) > c->heartbeat_timeout_ms)
        {
            char why[64];
            snprintf(why, sizeof why, "no message for %lld s",
                     (long long)(c->heartbeat_timeout_ms / 1000));
            peer_missing(cl, p, now_ms, out, why);
        }
    }
    if (cl->none_live_since_ms && hn_cluster_live(cl))
        cl->none_live_since_ms = 0;
    if (cl->none_live_since_ms && (cl->phase == HN_CL_SPAWNING || cl->phase == HN_CL_RUNNING) &&
        (int64_t)(now_ms - cl->none_live_since_ms) > c->expect_workers_max_wait_ms) {
        cl->result.all_lost = 1;
        event(out, HN_EV_ALL_LOST, NULL, NULL);
        to_done(cl, now_ms, out);
    }
    hn_cluster_timers(cl, now_ms, out);
    if (cl->phase == HN_CL_DONE)
        return;
    for (size_t i = 0; i < cl->n_peers; i++) {
        struct hn_peer *p = &cl->peers[i];
        if (!is_live(p))
            continue;
        struct hn_msg *hb = send(out, p, HN_MSG_HEARTBEAT);
        hb->state = "running";
        hb->acked = p->stats_seq; /* the worker drops its copies up to here */
    }
}

/* The run's end: every stop/wait is over, the caller has written its results. */
void hn_cluster_finish(struct hn_cluster *cl, const char *reason, struct hn_cl_outbox *out)
{
    for (size_t i = 0; i < cl->n_peers; i++) {
        struct hn_peer *p = &cl->peers[i];
        if (p->state == HN_PEER_GONE)
            continue;
        struct hn_msg *q = send(out, p, HN_MSG_QUIT);
        q->error = reason;
    }
}

/* ---------- queries ---------- */

enum hn_cl_phase hn_cluster_phase(const struct hn_cluster *cl) { return cl->phase; }

const struct hn_peer *hn_cluster_peers(const struct hn_cluster *cl, size_t *n)
{
    *n = cl->n_peers;
    return cl->peers;
}

uint64_t hn_cluster_users(const struct hn_cluster *cl)
{
    uint64_t n = 0;
    for (size_t i = 0; i < cl->n_peers; i++)
        if (is_live(&cl->peers[i]))
            n += cl->peers[i].user_count;
    return n;
}

uint64_t hn_cluster_started_ms(const struct hn_cluster *cl) { return cl->start_ms; }
uint64_t hn_cluster_stopped_ms(const struct hn_cluster *cl) { return cl->stop_ms; }

void hn_cluster_result(const struct hn_cluster *cl, struct hn_cluster_result *r) { *r = cl->result; }
