/* The master's core (master/cluster.c) wired to N worker cores (worker/runner.c) in memory,
 * with a fake clock: every message is encoded and decoded by the real codec and travels on a
 * simulated link that can be frozen (SIGSTOP), cut (a partition) or closed (kill -9). The
 * simulated users record one request per running user every 100 ms, so "served" is what a
 * target would count; every test ends with the master's merged total equal to it (or short by
 * exactly what a killed worker never reported). No process, no socket, no sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/stats.h"
#include "master/cluster.h"
#include "worker/runner.h"

#define MAXN 1100
#define STEP_MS 10

/* A message in flight. conn: the worker link it belongs to; closed: not a message but the
 * link's close as the master's socket monitor reports it. */
struct wire {
    char *buf;
    size_t len;
    int conn;
    int closed;
};

struct queue {
    struct wire *v;
    size_t head, n, cap;
};

struct node {
    struct hn_runner *r;
    struct queue in; /* master -> this worker */
    int conn;        /* its current link */
    int links;
    int dead;        /* kill -9: its process is gone */
    int frozen;      /* SIGSTOP: it runs nothing and reads nothing */
    int cut;         /* a partition: nothing crosses, both ways, until healed */
    int exited, exit_code;
    int loaded;
    uint64_t running[2];
    uint64_t busy;    /* users still finishing a stop (done within 100 ms unless stuck) */
    int stuck;        /* its users never finish their on_stop */
    uint64_t interrupted; /* users ended while still finishing (ABORT_STOPPING) */
    uint64_t served;  /* requests its users made (what a target would count) */
    uint64_t next_work_ms;
};

struct world {
    struct hn_cluster_config cfg;
    struct hn_msg tmpl;
    struct hn_cluster *cl;
    int master_frozen;
    uint64_t master_next_tick;
    struct queue to_master;
    struct node nodes[MAXN];
    size_t n;
    int next_conn;
    uint64_t now;
    uint64_t merged;
    size_t events[HN_EV_DONE + 1];
    uint64_t max_load; /* the most users running at once (frozen workers run none) */
};

static const char *const k_names[] = {"Normal", "Heavy"};
static uint64_t k_counts[2];

/* ---------- links ---------- */

static void q_append(struct queue *q, struct wire w)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        struct wire *v = calloc(cap, sizeof *v);
        for (size_t i = 0; i < q->n; i++)
            v[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = v;
        q->cap = cap;
        q->head = 0;
    }
    q->v[(q->head + q->n++) % q->cap] = w;
}

static void q_push(struct queue *q, const struct hn_msg *m, int conn, int closed)
{
    struct wire w = {.conn = conn, .closed = closed};
    if (m)
        assert_int_equal(hn_msg_encode(m, &w.buf, &w.len), 0);
    q_append(q, w);
}

static int q_pop(struct queue *q, struct wire *out)
{
    if (!q->n)
        return 0;
    *out = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return 1;
}

/* Messages of a link that closed before they were read are lost with it. */
static void q_drop_conn(struct queue *q, int conn)
{
    struct queue keep = {0};
    struct wire w;
    while (q_pop(q, &w)) {
        if (w.conn == conn && !w.closed)
            free(w.buf);
        else
            q_append(&keep, w);
    }
    free(q->v);
    *q = keep;
}

static void q_fini(struct queue *q)
{
    struct wire w;
    while (q_pop(q, &w))
        free(w.buf);
    free(q->v);
    memset(q, 0, sizeof *q);
}

static struct node *node_by_id(struct world *W, const char *id)
{
    for (size_t i = 0; i < W->n; i++)
        if (W->nodes[i].r && !strcmp(hn_runner_node_id(W->nodes[i].r), id))
            return &W->nodes[i];
    return NULL;
}

/* ---------- the master's side ---------- */

static void carry_master(struct world *W, struct hn_cl_outbox *box)
{
    for (size_t i = 0; i < box->n; i++) {
        struct hn_cl_action *a = &box->v[i];
        if (a->kind == HN_CL_MERGE) {
            for (size_t e = 0; e < a->delta->stats->n_entries; e++)
                W->merged += a->delta->stats->entries[e]->n_requests;
        } else if (a->kind == HN_CL_EVENT) {
            W->events[a->event]++;
        } else {
            struct node *n = node_by_id(W, a->to);
            if (n && !n->dead && !n->exited)
                q_push(&n->in, &a->msg, n->conn, 0);
        }
    }
    hn_cl_outbox_reset(box);
}

static void master_read(struct world *W)
{
    struct hn_cl_outbox box = {0};
    struct queue held = {0};
    struct wire w;
    while (q_pop(&W->to_master, &w)) {
        const struct node *from = NULL;
        for (size_t i = 0; i < W->n; i++)
            if (W->nodes[i].conn == w.conn)
                from = &W->nodes[i];
        if (from && from->cut) { /* held until the partition heals */
            q_append(&held, w);
            continue;
        }
        if (w.closed) {
            hn_cluster_conn_closed(W->cl, w.conn, W->now, &box);
        } else {
            struct hn_msg m;
            char err[256];
            assert_int_equal(hn_msg_decode(w.buf, w.len, &m, err, sizeof err), 0);
            hn_cluster_on_msg(W->cl, &m, w.conn, W->now, &box);
            carry_master(W, &box);
            hn_msg_fini(&m);
            free(w.buf);
        }
        carry_master(W, &box);
    }
    while (q_pop(&held, &w)) /* back, in order */
        q_append(&W->to_master, w);
    free(held.v);
    hn_cl_outbox_fini(&box);
}

/* ---------- the workers' side ---------- */

static void carry_node(struct world *W, struct node *n, struct hn_rn_outbox *box);

static void send_up(struct world *W, struct node *n, const struct hn_msg *m)
{
    q_push(&W->to_master, m, n->conn, 0);
}

static void link_up(struct world *W, struct node *n)
{
    char id[64];
    n->conn = W->next_conn++;
    snprintf(id, sizeof id, "host%zu_%d_%08x", (size_t)(n - W->nodes), 1000 + n->links++,
             n->conn);
    struct hn_rn_outbox box = {0};
    hn_runner_linked(n->r, id, W->now, &box);
    carry_node(W, n, &box);
    hn_rn_outbox_fini(&box);
}

static void carry_node(struct world *W, struct node *n, struct hn_rn_outbox *box)
{
    for (size_t i = 0; i < box->n && !n->exited; i++) {
        struct hn_rn_action *a = &box->v[i];
        struct hn_rn_outbox sub = {0};
        struct hn_msg m;
        switch (a->kind) {
        case HN_RN_SEND: send_up(W, n, &a->msg); break;
        case HN_RN_SEND_STATS:
            hn_runner_stats_msg(n->r, &m);
            send_up(W, n, &m);
            break;
        case HN_RN_HEARTBEAT:
            hn_runner_heartbeat(n->r, 12.5, 1u << 20, &sub);
            carry_node(W, n, &sub);
            break;
        case HN_RN_LOAD: {
            uint64_t targets[2] = {0, 0};
            for (size_t c = 0; c < a->spawn->n_classes; c++)
                for (size_t k = 0; k < 2; k++)
                    if (!strcmp(a->spawn->classes[c].name, k_names[k]))
                        targets[k] = a->spawn->classes[c].count;
            hn_runner_loaded(n->r, 1, !n->loaded, 2, k_names, targets, W->now, &sub);
            n->loaded = 1;
            carry_node(W, n, &sub);
            break;
        }
        case HN_RN_SPAWN: n->running[a->cls] += a->count; break;
        case HN_RN_STOP_USERS:
            assert_true(n->running[a->cls] >= a->keep);
            if (a->graceful)
                n->busy += n->running[a->cls] - a->keep;
            n->running[a->cls] = a->keep;
            break;
        case HN_RN_ABORT_STOPPING:
            n->interrupted += n->busy;
            n->busy = 0;
            break;
        case HN_RN_ITERATE: /* the closed model only here */
            fail_msg("an iteration in a closed-model run");
            break;
        case HN_RN_RELINK:
            /* the old link closes: what it still held is lost; the master hears of the close
             * unless a partition is in between */
            q_drop_conn(&W->to_master, n->conn);
            q_drop_conn(&n->in, n->conn);
            if (!n->cut)
                q_push(&W->to_master, NULL, n->conn, 1);
            link_up(W, n);
            break;
        case HN_RN_LOG:
            if (getenv("WIRED_VERBOSE"))
                fprintf(stderr, "[%llu] %s: %s\n", (unsigned long long)W->now,
                        hn_runner_node_id(n->r), a->text);
            break;
        case HN_RN_EXIT:
            n->exited = 1;
            n->exit_code = a->code;
            n->running[0] = n->running[1] = 0;
            q_push(&W->to_master, NULL, n->conn, 1); /* its process ends: the link closes */
            break;
        }
        hn_rn_outbox_fini(&sub);
    }
    hn_rn_outbox_reset(box);
}

static void node_read(struct world *W, struct node *n)
{
    struct hn_rn_outbox box = {0};
    struct wire w;
    struct queue held = {0};
    while (!n->exited && q_pop(&n->in, &w)) {
        if (n->cut) { /* nothing arrives until the partition heals */
            q_append(&held, w);
            continue;
        }
        struct hn_msg m;
        char err[256];
        assert_int_equal(hn_msg_decode(w.buf, w.len, &m, err, sizeof err), 0);
        hn_runner_on_msg(n->r, &m, W->now, &box);
        carry_node(W, n, &box);
        hn_msg_fini(&m);
        free(w.buf);
    }
    while (q_pop(&held, &w))
        q_append(&n->in, w);
    free(held.v);
    hn_rn_outbox_fini(&box);
}

static void node_tick_now(struct world *W, struct node *n)
{
    struct hn_rn_outbox box = {0};
    hn_runner_tick(n->r, W->now, n->busy, &box);
    carry_node(W, n, &box);
    hn_rn_outbox_fini(&box);
}

/* ---------- the world ---------- */

static void world_init(struct world *W, uint64_t users, double rate, uint64_t expect)
{
    memset(W, 0, sizeof *W);
    k_counts[0] = users * 3 / 4 + (users * 3 % 4 >= 2 ? 1 : 0); /* weights 3:1 */
    k_counts[1] = users - k_counts[0];
    hn_msg_init(&W->tmpl, HN_MSG_SPAWN, "master");
    W->tmpl.host = "http://127.0.0.1:1";
    W->tmpl.scenario_name = "wired.yaml";
    W->tmpl.scenario = "users: {}";
    W->tmpl.scenario_len = strlen(W->tmpl.scenario);
    W->tmpl.stats_interval_ms = 1000;
    W->tmpl.request_timeout_ms = 5000;
    W->tmpl.connect_timeout_ms = 5000;
    W->tmpl.heartbeat_timeout_ms = 10000; /* the workers' patience with a silent master */
    W->tmpl.stop_timeout_ms = 2000;
    W->cfg = (struct hn_cluster_config){.n_classes = 2,
                                        .class_names = k_names,
                                        .class_counts = k_counts,
                                        .users = users,
                                        .spawn_rate = rate,
                                        .expect_workers = expect,
                                        .expect_workers_max_wait_ms = 20000,
                                        .heartbeat_timeout_ms = 3000,
                                        .stop_timeout_ms = 2000,
                                        .run_id = "run-1",
                                        .spawn_template = &W->tmpl};
    W->now = 5000000;
    W->cl = hn_cluster_new(&W->cfg, W->now);
    W->master_next_tick = W->now + 1000;
    W->next_conn = 10;
}

static void world_fini(struct world *W)
{
    for (size_t i = 0; i < W->n; i++) {
        hn_runner_destroy(&W->nodes[i].r);
        q_fini(&W->nodes[i].in);
    }
    q_fini(&W->to_master);
    hn_cluster_destroy(&W->cl);
}

static struct node *start_worker(struct world *W)
{
    struct node *n = &W->nodes[W->n++];
    struct hn_runner_config cfg = {.master = "127.0.0.1:5557",
                                   .master_connect_timeout_ms = 60000,
                                   .heartbeat_timeout_ms = 10000,
                                   .stats_interval_ms = 1000};
    n->r = hn_runner_new(&cfg, W->now);
    n->next_work_ms = W->now + 100;
    link_up(W, n);
    return n;
}

static uint64_t load_now(struct world *W)
{
    uint64_t t = 0;
    for (size_t i = 0; i < W->n; i++) {
        struct node *n = &W->nodes[i];
        if (!n->dead && !n->frozen && !n->exited)
            t += n->running[0] + n->running[1];
    }
    return t;
}

static uint64_t served(struct world *W)
{
    uint64_t t = 0;
    for (size_t i = 0; i < W->n; i++)
        t += W->nodes[i].served;
    return t;
}

/* Everything in flight is read, both ways, until the links are quiet (a loopback round trip
 * is far shorter than a step). */
static void settle(struct world *W)
{
    for (int round = 0; round < 50; round++) {
        size_t before = W->to_master.n;
        for (size_t i = 0; i < W->n; i++)
            before += W->nodes[i].in.n;
        if (!W->master_frozen)
            master_read(W);
        for (size_t i = 0; i < W->n; i++) {
            struct node *n = &W->nodes[i];
            if (!n->dead && !n->frozen && !n->exited)
                node_read(W, n);
        }
        size_t after = W->to_master.n;
        for (size_t i = 0; i < W->n; i++)
            after += W->nodes[i].in.n;
        if (after == before && (after == 0 || round > 2))
            break;
    }
}

/* One step of the fake clock: users work, cores tick when they asked to, links settle. */
static void step(struct world *W)
{
    W->now += STEP_MS;
    for (size_t i = 0; i < W->n; i++) {
        struct node *n = &W->nodes[i];
        if (n->dead || n->frozen || n->exited)
            continue;
        if (W->now >= n->next_work_ms) {
            uint64_t users = n->running[0] + n->running[1];
            if (users) {
                struct hn_stats_entry *e = hn_stats_entry(hn_runner_stats(n->r), "GET", "/x");
                for (uint64_t u = 0; u < users; u++)
                    hn_stats_record(e, 1000, 10, 1, 0);
                n->served += users;
            }
            n->next_work_ms = W->now + 100;
            if (!n->stuck)
                n->busy = 0;
        }
        if (W->now >= hn_runner_next_ms(n->r)) {
            node_read(W, n); /* as the adapter does: what arrived first, then the tick */
            if (!n->exited)
                node_tick_now(W, n);
        }
    }
    settle(W);
    if (!W->master_frozen) {
        struct hn_cl_outbox box = {0};
        hn_cluster_timers(W->cl, W->now, &box);
        carry_master(W, &box);
        if (W->now >= W->master_next_tick) {
            W->master_next_tick = W->now + 1000;
            hn_cluster_tick(W->cl, W->now, &box);
            carry_master(W, &box);
        }
        hn_cl_outbox_fini(&box);
    }
    settle(W);
    uint64_t load = load_now(W);
    if (load > W->max_load)
        W->max_load = load;
}

static void run_for(struct world *W, uint64_t ms)
{
    for (uint64_t t = 0; t < ms; t += STEP_MS)
        step(W);
}

/* The master stops the run; the clock runs until it is done (bounded). */
static void stop_and_finish(struct world *W)
{
    struct hn_cl_outbox box = {0};
    hn_cluster_stop(W->cl, "test", W->now, &box);
    carry_master(W, &box);
    hn_cl_outbox_fini(&box);
    for (int i = 0; i < 1000 && hn_cluster_phase(W->cl) != HN_CL_DONE; i++)
        step(W);
    assert_int_equal(hn_cluster_phase(W->cl), HN_CL_DONE);
}

/* ---------- tests ---------- */

/* 4 workers, weights 3:1, 100 users at 10/s: the ramp follows -r cluster-wide, each worker
 * ends with 25 in an even mix, nothing ever above the target, merged = served. */
static void test_ramp_mix_and_exact_stats(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 100, 10, 4);
    for (int i = 0; i < 4; i++)
        start_worker(&W);
    run_for(&W, 1000);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_SPAWNING);
    uint64_t start = hn_cluster_started_ms(W.cl);
    assert_true(start > 0);
    for (int s = 0; s < 9; s++) {
        run_for(&W, 1000);
        double expect = 10.0 * (double)(W.now - start) / 1000.0;
        uint64_t load = load_now(&W);
        /* each worker starts its first user at once, then one per 1/(rate/4) s */
        assert_true((double)load <= expect + 4.0);
        assert_true((double)load >= expect - 4.0);
    }
    run_for(&W, 2000);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_RUNNING);
    for (int i = 0; i < 4; i++) {
        struct node *n = &W.nodes[i];
        assert_int_equal(n->running[0] + n->running[1], 25);
        assert_true(n->running[0] >= 18 && n->running[0] <= 19);
        assert_true(n->running[1] >= 6 && n->running[1] <= 7);
    }
    assert_true(W.max_load <= 100);
    run_for(&W, 3000);
    stop_and_finish(&W);
    assert_true(served(&W) > 1000);
    assert_int_equal(W.merged, served(&W));
    struct hn_cluster_result r;
    hn_cluster_result(W.cl, &r);
    assert_int_equal(r.lost_reports, 0);
    assert_int_equal(r.unconfirmed, 0);
    world_fini(&W);
}

/* A worker joins mid-run: the others shed at once, the newcomer ramps to its share within
 * 2 s, and the total never goes above the target. */
static void test_join_mid_run_never_overshoots(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 90, 90, 2);
    start_worker(&W);
    start_worker(&W);
    run_for(&W, 4000);
    assert_int_equal(load_now(&W), 90);
    W.max_load = 0;
    struct node *late = start_worker(&W);
    uint64_t joined = W.now;
    while (late->running[0] + late->running[1] < 30 && W.now - joined < 5000)
        step(&W);
    assert_true(W.now - joined <= 2000);
    assert_int_equal(load_now(&W), 90);
    assert_true(W.max_load <= 90);
    for (int i = 0; i < 3; i++)
        assert_int_equal(W.nodes[i].running[0] + W.nodes[i].running[1], 30);
    stop_and_finish(&W);
    assert_int_equal(W.merged, served(&W));
    world_fini(&W);
}

/* kill -9: the closed link marks it missing at once, its users go to the others within the
 * same second, and only what it had not reported yet is lost (at most one interval). */
static void test_killed_worker(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 40, 100, 2);
    struct node *a = start_worker(&W);
    struct node *b = start_worker(&W);
    (void)a;
    run_for(&W, 5000);
    assert_int_equal(load_now(&W), 40);
    b->dead = 1;
    q_push(&W.to_master, NULL, b->conn, 1); /* the socket monitor sees the close */
    uint64_t unreported = hn_stats_entry(hn_runner_stats(b->r), "GET", "/x")->n_requests;
    uint64_t killed = W.now;
    while (load_now(&W) < 40 && W.now - killed < 3000)
        step(&W);
    assert_true(W.now - killed <= 1000);
    assert_int_equal(W.events[HN_EV_MISSING] + W.events[HN_EV_LEFT], 1);
    run_for(&W, 2000);
    stop_and_finish(&W);
    assert_true(unreported <= 20 * 10); /* at most one interval of its 20 users */
    assert_int_equal(W.merged + unreported, served(&W));
    world_fini(&W);
}

/* SIGSTOP a worker for 15 s: missing after the heartbeat timeout, its share moves; after
 * SIGCONT it is re-admitted with no double load, and its late deltas merge once. */
static void test_frozen_worker(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 40, 100, 2);
    start_worker(&W);
    struct node *b = start_worker(&W);
    run_for(&W, 5000);
    W.max_load = 0;
    b->frozen = 1;
    run_for(&W, 15000);
    assert_int_equal(W.events[HN_EV_MISSING], 1);
    assert_int_equal(load_now(&W), 40); /* the other worker carries all 40 */
    b->frozen = 0;
    run_for(&W, 3000);
    assert_int_equal(W.events[HN_EV_REJOINED], 1);
    assert_true(W.max_load <= 40);
    assert_int_equal(b->running[0] + b->running[1], 20);
    stop_and_finish(&W);
    assert_int_equal(W.merged, served(&W));
    world_fini(&W);
}

/* SIGSTOP the master for 15 s: the workers stop their load within their heartbeat timeout
 * (no load without a master) and relink; after SIGCONT the run resumes and every request
 * served is in the results, exactly once. */
static void test_frozen_master(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 40, 100, 2);
    start_worker(&W);
    start_worker(&W);
    run_for(&W, 5000);
    W.master_frozen = 1;
    run_for(&W, 11500); /* 10 s of silence, plus the tick and the stop */
    assert_int_equal(load_now(&W), 0);
    uint64_t quiet = served(&W);
    run_for(&W, 3500);
    assert_int_equal(served(&W), quiet);
    for (int i = 0; i < 2; i++)
        assert_int_equal(hn_runner_state(W.nodes[i].r), HN_RN_CONNECTING);
    W.master_frozen = 0;
    run_for(&W, 3000);
    assert_int_equal(load_now(&W), 40); /* resumed */
    assert_true(served(&W) > quiet);
    run_for(&W, 2000);
    stop_and_finish(&W);
    assert_int_equal(W.merged, served(&W));
    struct hn_cluster_result r;
    hn_cluster_result(W.cl, &r);
    assert_int_equal(r.unconfirmed, 0);
    /* users finishing within 100 ms are never cut by a stop with a 2 s timeout */
    for (size_t i = 0; i < W.n; i++)
        assert_int_equal(W.nodes[i].interrupted, 0);
    world_fini(&W);
}

/* A 15 s partition between the master and one worker: both sides give up on the other, the
 * worker relinks when it heals, and the results reconcile exactly. */
static void test_partition_heals(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 40, 100, 2);
    start_worker(&W);
    struct node *b = start_worker(&W);
    run_for(&W, 5000);
    b->cut = 1;
    run_for(&W, 15000);
    assert_int_equal(b->running[0] + b->running[1], 0); /* no load without a master */
    assert_int_equal(hn_runner_state(b->r), HN_RN_CONNECTING);
    b->cut = 0;
    run_for(&W, 3000);
    assert_int_equal(b->running[0] + b->running[1], 20);
    assert_int_equal(load_now(&W), 40);
    stop_and_finish(&W);
    assert_int_equal(W.merged, served(&W));
    assert_int_equal(b->interrupted, 0);
    world_fini(&W);
}

/* A worker process stalled for 15 s with nothing waiting from the master (its heartbeats were
 * not queued): the late tick forgives the time it was not running and heartbeats instead of
 * dropping its users; a master silent for the heartbeat timeout after that is lost. */
static void test_stalled_worker_forgives_its_stall(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 10, 100, 1);
    struct node *a = start_worker(&W);
    run_for(&W, 3000);
    assert_int_equal(hn_runner_state(a->r), HN_RN_RUNNING);
    W.master_frozen = 1; /* nothing from the master while the worker is stopped */
    a->frozen = 1;
    run_for(&W, 15000);
    a->frozen = 0;
    step(&W);
    assert_int_equal(hn_runner_state(a->r), HN_RN_RUNNING);
    assert_int_equal(load_now(&W), 10);
    run_for(&W, 11000); /* now the master's silence is real */
    assert_int_equal(load_now(&W), 0);
    W.master_frozen = 0;
    run_for(&W, 3000);
    assert_int_equal(load_now(&W), 10);
    stop_and_finish(&W);
    assert_int_equal(W.merged, served(&W));
    world_fini(&W);
}

/* SIGTERM to a worker: its users stop gracefully, its last delta and quit go up, the master
 * confirms the delta and the worker exits 130 without waiting out its 2 s bound; its users
 * move to the other worker. */
static void test_signalled_worker_leaves_confirmed(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 40, 100, 2);
    start_worker(&W);
    struct node *b = start_worker(&W);
    run_for(&W, 5500);
    struct hn_rn_outbox box = {0};
    hn_runner_signal(b->r, "SIGTERM", W.now, &box);
    carry_node(&W, b, &box);
    hn_rn_outbox_fini(&box);
    uint64_t sig = W.now;
    while (!b->exited && W.now - sig < 5000)
        step(&W);
    assert_true(b->exited);
    assert_int_equal(b->exit_code, 130);
    assert_true(W.now - sig < 500); /* the ack came: no 2 s wait */
    run_for(&W, 1000);
    assert_int_equal(load_now(&W), 40);
    stop_and_finish(&W);
    assert_int_equal(W.merged, served(&W));
    world_fini(&W);
}

/* Users that never finish their on_stop: the worker's stop ends at the stop timeout, and the
 * master's stop is done with every worker confirmed. A frozen worker is named unconfirmed. */
static void test_stop_timeouts(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 20, 100, 2);
    struct node *a = start_worker(&W);
    struct node *b = start_worker(&W);
    run_for(&W, 3000);
    a->stuck = 1;
    struct hn_cl_outbox box = {0};
    hn_cluster_stop(W.cl, "test", W.now, &box);
    carry_master(&W, &box);
    hn_cl_outbox_fini(&box);
    b->frozen = 1;
    uint64_t stop = W.now;
    while (hn_cluster_phase(W.cl) != HN_CL_DONE && W.now - stop < 10000)
        step(&W);
    assert_int_equal(hn_runner_state(a->r), HN_RN_STOPPED);
    assert_true(W.now - stop <= 2000 + 2000 + 1000); /* stop timeout + 2 s, one tick */
    struct hn_cluster_result r;
    hn_cluster_result(W.cl, &r);
    assert_int_equal(r.unconfirmed, 1);
    world_fini(&W);
}

/* A master that is never there: a worker that was never acked gives up at its connect
 * timeout (exit 4); a signal with nothing to stop leaves at once (130). */
static void test_worker_without_master(void **state)
{
    (void)state;
    struct hn_runner_config cfg = {.master = "127.0.0.1:5557",
                                   .master_connect_timeout_ms = 3000,
                                   .heartbeat_timeout_ms = 10000,
                                   .stats_interval_ms = 1000};
    uint64_t now = 1000;
    struct hn_runner *r = hn_runner_new(&cfg, now);
    struct hn_rn_outbox box = {0};
    hn_runner_linked(r, "w1", now, &box);
    assert_int_equal(box.n, 1);
    assert_int_equal(box.v[0].msg.type, HN_MSG_CLIENT_READY);
    hn_rn_outbox_reset(&box);
    int exit_code = -1;
    for (int i = 0; i < 10 && exit_code < 0; i++) {
        now = hn_runner_next_ms(r);
        hn_runner_tick(r, now, 0, &box);
        for (size_t k = 0; k < box.n; k++)
            if (box.v[k].kind == HN_RN_EXIT)
                exit_code = box.v[k].code;
        hn_rn_outbox_reset(&box);
    }
    assert_int_equal(exit_code, 4);
    assert_true(now >= 1000 + 3000 && now <= 1000 + 5000);
    hn_runner_destroy(&r);

    r = hn_runner_new(&cfg, now);
    hn_runner_linked(r, "w2", now, &box);
    hn_rn_outbox_reset(&box);
    hn_runner_signal(r, "SIGINT", now, &box);
    assert_int_equal(box.v[box.n - 1].kind, HN_RN_EXIT);
    assert_int_equal(box.v[box.n - 1].code, 130);
    hn_rn_outbox_fini(&box);
    hn_runner_destroy(&r);
}

/* The open model's schedule in a worker core: iteration k is due at start + k / rate, the ones
 * due are handed out with their intended times, and the core asks to be woken for the next. */
static void test_arrival_schedule(void **state)
{
    (void)state;
    struct hn_runner_config cfg = {.master = "m", .master_connect_timeout_ms = 60000,
                                   .heartbeat_timeout_ms = 10000, .stats_interval_ms = 1000};
    uint64_t now = 1000;
    struct hn_runner *r = hn_runner_new(&cfg, now);
    struct hn_rn_outbox box = {0};
    hn_runner_linked(r, "w1", now, &box);
    struct hn_msg ack, sp;
    hn_msg_init(&ack, HN_MSG_ACK, "master");
    ack.error = "";
    hn_runner_on_msg(r, &ack, now, &box);
    hn_msg_init(&sp, HN_MSG_SPAWN, "master");
    sp.seq = 1;
    sp.spawn_rate = 1e6;
    sp.arrival_rate = 40; /* one every 25 ms */
    sp.stats_interval_ms = 1000;
    sp.heartbeat_timeout_ms = 10000;
    hn_runner_on_msg(r, &sp, now, &box);
    hn_rn_outbox_reset(&box);
    const char *names[] = {"U"};
    uint64_t targets[] = {4};
    hn_runner_loaded(r, 1, 1, 1, names, targets, now, &box);
    uint64_t started = 0;
    double last_intended = -1;
    for (int guard = 0; guard < 1000 && now <= 2000; guard++) {
        for (size_t i = 0; i < box.n; i++)
            if (box.v[i].kind == HN_RN_ITERATE) {
                for (uint64_t k = 0; k < box.v[i].count; k++) {
                    double t = box.v[i].first_ms + (double)k * box.v[i].interval_ms;
                    assert_true(t > last_intended);           /* in order, none twice */
                    assert_true(t <= (double)now + 1e-9);     /* never before it is due */
                    last_intended = t;
                }
                started += box.v[i].count;
            }
        hn_rn_outbox_reset(&box);
        uint64_t next = hn_runner_next_ms(r);
        assert_true(next > now || started == 0);
        now = next > now ? next : now + 1;
        if (now > 2000)
            break;
        hn_runner_tick(r, now, 0, &box);
    }
    /* due at 1000, 1025, ..., 2000: 41 iterations in the first second, each on time */
    assert_int_equal(started, 41);
    assert_true(last_intended == 2000.0);
    /* a new share of the rate (a rebalance, a rate plan's next second) keeps the schedule: the
     * next iteration is due 1 / new rate after the last at most, none is added or lost */
    now = 2000;
    sp.seq = 2;
    sp.arrival_rate = 100;
    hn_runner_on_msg(r, &sp, now, &box);
    hn_rn_outbox_reset(&box);
    hn_runner_loaded(r, 1, 0, 1, names, targets, now, &box);
    hn_rn_outbox_reset(&box);
    assert_int_equal(hn_runner_next_ms(r), 2010); /* min(2025, now + 10) */
    hn_runner_tick(r, 3000, 0, &box);
    uint64_t more = 0;
    for (size_t i = 0; i < box.n; i++)
        if (box.v[i].kind == HN_RN_ITERATE)
            more += box.v[i].count;
    assert_int_equal(more, 100); /* 2010, 2020, ..., 3000 */
    /* a rate whose interval is not a whole number of ms (75/s: 13.33 ms), from a large clock
     * (a real uv_now): rounding never makes the core ask for a tick it then finds too early
     * (that spun a worker's loop and stopped its iterations) nor loses one */
    hn_rn_outbox_fini(&box);
    hn_runner_destroy(&r);
    now = 14748091;
    r = hn_runner_new(&cfg, now);
    hn_runner_linked(r, "w2", now, &box);
    hn_runner_on_msg(r, &ack, now, &box);
    sp.seq = 1;
    sp.arrival_rate = 75;
    hn_runner_on_msg(r, &sp, now, &box);
    hn_runner_loaded(r, 1, 1, 1, names, targets, now, &box);
    uint64_t from = now, n75 = 0;
    for (int guard = 0; guard < 100000 && now < from + 10000; guard++) {
        for (size_t i = 0; i < box.n; i++)
            if (box.v[i].kind == HN_RN_ITERATE)
                n75 += box.v[i].count;
        hn_rn_outbox_reset(&box);
        uint64_t next = hn_runner_next_ms(r);
        assert_true(next > now || n75 == 0);
        now = next;
        if (now < from + 10000)
            hn_runner_tick(r, now, 0, &box);
    }
    assert_int_equal(n75, 750); /* due at from + k * 13.33 ms, k = 0 .. 749 */
    hn_rn_outbox_fini(&box);
    hn_runner_destroy(&r);
}

/* 1000 worker cores against one master core: everyone gets 2 users, the run completes, the
 * numbers reconcile. */
static void test_thousand_worker_cores(void **state)
{
    (void)state;
    static struct world W;
    world_init(&W, 2000, 2000, 1000);
    for (int i = 0; i < 1000; i++)
        start_worker(&W);
    run_for(&W, 3000);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_RUNNING);
    assert_int_equal(load_now(&W), 2000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(W.nodes[i].running[0] + W.nodes[i].running[1], 2);
    run_for(&W, 2000);
    stop_and_finish(&W);
    assert_int_equal(W.merged, served(&W));
    world_fini(&W);
}

int main(void)
{
    hn_log_set_level(HN_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ramp_mix_and_exact_stats),
        cmocka_unit_test(test_join_mid_run_never_overshoots),
        cmocka_unit_test(test_killed_worker),
        cmocka_unit_test(test_frozen_worker),
        cmocka_unit_test(test_frozen_master),
        cmocka_unit_test(test_partition_heals),
        cmocka_unit_test(test_stalled_worker_forgives_its_stall),
        cmocka_unit_test(test_signalled_worker_leaves_confirmed),
        cmocka_unit_test(test_stop_timeouts),
        cmocka_unit_test(test_worker_without_master),
        cmocka_unit_test(test_arrival_schedule),
        cmocka_unit_test(test_thousand_worker_cores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
