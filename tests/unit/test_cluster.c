/* The master's control-plane core wired to N simulated workers in memory with a fake clock:
 * join, leave, rebalance, lost and duplicated deltas, stale spawns, heartbeat timeouts, a
 * rejoin after missing, stop timeouts, a stalled master, 1000 workers. No process, no sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/stats.h"
#include "master/cluster.h"

#define MAXW 1200

/* A simulated worker: what a real one says back, with switches to make it misbehave. */
struct sim {
    char id[HN_NODE_ID_MAX];
    uint64_t spawn_seq;  /* of the last spawn it took */
    uint64_t users;      /* what the last spawn gave it */
    uint64_t stats_seq;
    int stopped, quit;
    int silent;          /* drops everything (a frozen or cut-off worker) */
    int slow_stop;       /* takes a stop but confirms it only when the test says */
    uint64_t spawns;     /* spawns received */
    double arrival;      /* the open model's iterations per second it was given */
};

struct world {
    struct hn_cluster_config cfg;
    struct hn_msg tmpl;
    struct hn_cluster *cl;
    struct hn_cl_outbox out;
    struct sim w[MAXW];
    size_t n;
    uint64_t now;
    /* what the core asked the adapter to do */
    uint64_t merged_requests;
    size_t events[HN_EV_DONE + 1];
    struct hn_stats delta; /* every worker's report: one request per second */
};

static const char *const k_names[] = {"Normal", "Heavy"};
static uint64_t k_counts[2];

static void world_init(struct world *W, uint64_t users, uint64_t expect)
{
    memset(W, 0, sizeof *W);
    /* weights 3:1 */
    k_counts[0] = users * 3 / 4 + (users * 3 % 4 >= 2 ? 1 : 0);
    k_counts[1] = users - k_counts[0];
    hn_msg_init(&W->tmpl, HN_MSG_SPAWN, "master");
    W->tmpl.host = "http://127.0.0.1:1";
    W->cfg = (struct hn_cluster_config){.n_classes = 2,
                                        .class_names = k_names,
                                        .class_counts = k_counts,
                                        .users = users,
                                        .spawn_rate = 10,
                                        .expect_workers = expect,
                                        .expect_workers_max_wait_ms = 10000,
                                        .run_time_ms = 0,
                                        .heartbeat_timeout_ms = 3000,
                                        .stop_timeout_ms = 2000,
                                        .spawn_template = &W->tmpl};
    W->now = 1000000;
    W->cl = hn_cluster_new(&W->cfg, W->now);
    hn_stats_init(&W->delta);
    struct hn_stats_entry *e = hn_stats_entry(&W->delta, "GET", "/x");
    hn_stats_record(e, 1000, 10, 1, 0);
    hn_stats_entry_merge(&W->delta.total, e);
}

static void world_fini(struct world *W)
{
    hn_cl_outbox_fini(&W->out);
    hn_cluster_destroy(&W->cl);
    hn_stats_fini(&W->delta);
}

static struct sim *sim_by_id(struct world *W, const char *id)
{
    for (size_t i = 0; i < W->n; i++)
        if (!strcmp(W->w[i].id, id))
            return &W->w[i];
    return NULL;
}

static void deliver_to_master(struct world *W, struct hn_msg *m);

/* Carries out an outbox as master.c does: sends reach the simulated workers, which answer at
 * once (nested, so every message handed in is still alive while its actions are carried out)
 * unless silent; merges are summed, events counted. */
static void carry(struct world *W, struct hn_cl_outbox *box)
{
    for (size_t i = 0; i < box->n; i++) {
        struct hn_cl_action *a = &box->v[i];
        if (a->kind == HN_CL_MERGE) {
            W->merged_requests += a->delta->stats->total.n_requests;
            continue;
        }
        if (a->kind == HN_CL_EVENT) {
            W->events[a->event]++;
            continue;
        }
        struct sim *s = sim_by_id(W, a->to);
        if (!s || s->silent || s->quit)
            continue;
        struct hn_msg r;
        switch (a->msg.type) {
        case HN_MSG_SPAWN:
            s->spawns++;
            if (a->msg.seq <= s->spawn_seq)
                break; /* stale: a real worker ignores it */
            s->spawn_seq = a->msg.seq;
            s->stopped = 0; /* a stopped worker takes a new test's spawn */
            s->arrival = a->msg.arrival_rate;
            s->users = 0;
            for (size_t c = 0; c < a->msg.n_classes; c++)
                s->users += a->msg.classes[c].count;
            hn_msg_init(&r, HN_MSG_SPAWNING_COMPLETE, s->id);
            r.seq = s->spawn_seq;
            r.user_count = s->users;
            deliver_to_master(W, &r);
            break;
        case HN_MSG_STOP:
            if (s->slow_stop)
                break; /* its users go on reporting until it confirms */
            s->stopped = 1;
            hn_msg_init(&r, HN_MSG_STATS, s->id);
            r.seq = ++s->stats_seq;
            r.stats = &W->delta;
            deliver_to_master(W, &r);
            hn_msg_init(&r, HN_MSG_CLIENT_STOPPED, s->id);
            deliver_to_master(W, &r);
            break;
        default:
            break;
        }
    }
}

static void deliver_to_master(struct world *W, struct hn_msg *m)
{
    struct hn_cl_outbox box = {0};
    hn_cluster_on_msg(W->cl, m, -1, W->now, &box);
    carry(W, &box);
    hn_cl_outbox_fini(&box);
}

static void tick(struct world *W)
{
    struct hn_cl_outbox box = {0};
    hn_cluster_tick(W->cl, W->now, &box);
    carry(W, &box);
    hn_cl_outbox_fini(&box);
}

static void stop(struct world *W, const char *why)
{
    struct hn_cl_outbox box = {0};
    hn_cluster_stop(W->cl, why, W->now, &box);
    carry(W, &box);
    hn_cl_outbox_fini(&box);
}

/* The web UI's start: the caller set the load and cleared cfg.hold. */
static void release(struct world *W)
{
    struct hn_cl_outbox box = {0};
    hn_cluster_release(W->cl, W->now, &box);
    carry(W, &box);
    hn_cl_outbox_fini(&box);
}

static void exited(struct world *W, const char *tag)
{
    struct hn_cl_outbox box = {0};
    hn_cluster_peer_exited(W->cl, tag, "its process exited (signal 9)", W->now, &box);
    carry(W, &box);
    hn_cl_outbox_fini(&box);
}

static void join(struct world *W, size_t i)
{
    struct sim *s = &W->w[i];
    if (i >= W->n)
        W->n = i + 1;
    snprintf(s->id, sizeof s->id, "host_%zu_abc", i + 100);
    struct hn_msg m;
    hn_msg_init(&m, HN_MSG_CLIENT_READY, s->id);
    m.protocol_version = HN_PROTOCOL_VERSION;
    m.version = "test";
    deliver_to_master(W, &m);
}

/* One second: every worker that is not silent heartbeats and reports one request, then the
 * master ticks. */
static void second(struct world *W)
{
    W->now += 1000;
    for (size_t i = 0; i < W->n; i++) {
        struct sim *s = &W->w[i];
        if (s->silent || s->quit || !s->id[0])
            continue;
        struct hn_msg hb;
        hn_msg_init(&hb, HN_MSG_HEARTBEAT, s->id);
        hb.user_count = s->stopped ? 0 : s->users;
        deliver_to_master(W, &hb);
        if (s->spawn_seq && !s->stopped) {
            struct hn_msg st;
            hn_msg_init(&st, HN_MSG_STATS, s->id);
            st.seq = ++s->stats_seq;
            st.stats = &W->delta;
            st.user_count = s->users;
            deliver_to_master(W, &st);
        }
    }
    tick(W);
}

/* Seconds pass until the run is done, at most max; returns how many passed. */
static int until_done(struct world *W, int max)
{
    int secs = 0;
    while (hn_cluster_phase(W->cl) != HN_CL_DONE && secs < max) {
        second(W);
        secs++;
    }
    return secs;
}

static const struct hn_peer *peer(struct world *W, size_t i)
{
    size_t n;
    const struct hn_peer *p = hn_cluster_peers(W->cl, &n);
    for (size_t k = 0; k < n; k++)
        if (!strcmp(p[k].id, W->w[i].id))
            return &p[k];
    return NULL;
}

static uint64_t sim_total(struct world *W)
{
    uint64_t t = 0;
    for (size_t i = 0; i < W->n; i++)
        if (!W->w[i].silent && !W->w[i].quit)
            t += W->w[i].users;
    return t;
}

static void test_start_and_even_split(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 100, 4);
    for (size_t i = 0; i < 3; i++)
        join(&W, i);
    second(&W);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_WAITING); /* 3 of 4 */
    join(&W, 3);
    second(&W);
    assert_int_equal(W.events[HN_EV_STARTED], 1);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_RUNNING);
    assert_int_equal(W.events[HN_EV_ALL_SPAWNED], 1);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(W.w[i].users, 25); /* 100 users, 4 workers */
    assert_int_equal(hn_cluster_users(W.cl), 100);
    world_fini(&W);
}

/* The web UI's start form: workers join and wait past the expect-workers wait; the run starts
 * with the load the form set when released. */
static void test_held_until_released(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 10, 2);
    W.cfg.hold = 1;
    join(&W, 0);
    join(&W, 1);
    for (int i = 0; i < 30; i++) /* three times the 10 s wait */
        second(&W);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_WAITING);
    assert_int_equal(W.events[HN_EV_GAVE_UP], 0);
    assert_int_equal(sim_total(&W), 0);
    W.cfg.users = 8; /* the form's user count */
    k_counts[0] = 6;
    k_counts[1] = 2;
    W.cfg.hold = 0;
    release(&W);
    assert_int_equal(W.events[HN_EV_STARTED], 1);
    second(&W);
    assert_int_equal(sim_total(&W), 8);
    world_fini(&W);
}

/* The web UI's New test: after a test ends, the same workers wait (heartbeats go on, nobody
 * is missing, no give-up) and the next test starts from the form with its own load, clocks
 * and result; its spawns are newer than the last test's. */
static void test_new_test_with_the_same_workers(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 10, 2);
    W.cfg.run_time_ms = 3000;
    join(&W, 0);
    join(&W, 1);
    assert_int_equal(hn_cluster_rearm(W.cl, W.now), -1); /* not over yet */
    until_done(&W, 10);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_DONE);
    uint64_t first_seq = W.w[0].spawn_seq, first_merged = W.merged_requests;
    W.cfg.hold = 1;
    assert_int_equal(hn_cluster_rearm(W.cl, W.now), 0);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_WAITING);
    assert_int_equal(hn_cluster_started_ms(W.cl), 0);
    assert_int_equal(hn_cluster_stopped_ms(W.cl), 0);
    assert_int_equal(peer(&W, 0)->state, HN_PEER_READY);
    assert_int_equal(peer(&W, 1)->state, HN_PEER_READY);
    for (int i = 0; i < 30; i++) /* three times the wait for workers */
        second(&W);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_WAITING);
    assert_int_equal(W.events[HN_EV_GAVE_UP], 0);
    assert_int_equal(W.events[HN_EV_MISSING], 0);
    assert_int_equal(W.merged_requests, first_merged); /* nothing runs between tests */
    W.cfg.users = 6;
    k_counts[0] = 4;
    k_counts[1] = 2;
    W.cfg.hold = 0;
    release(&W);
    assert_int_equal(W.events[HN_EV_STARTED], 2);
    second(&W);
    assert_int_equal(sim_total(&W), 6);
    assert_true(W.w[0].spawn_seq > first_seq);
    until_done(&W, 10);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_DONE);
    struct hn_cluster_result r;
    hn_cluster_result(W.cl, &r);
    assert_int_equal(r.unconfirmed, 0);
    assert_int_equal(r.lost_reports, 0);
    assert_true(W.merged_requests > first_merged);
    world_fini(&W);
}

/* A worker that confirms the last test's stop only after a New test began: what it reports
 * until then is the last test's (not merged, said), and the next test waits for it. */
static void test_new_test_waits_for_a_late_stop(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 4, 2);
    join(&W, 0);
    join(&W, 1);
    second(&W);
    W.w[1].slow_stop = 1;
    stop(&W, "Stopped");
    until_done(&W, 10); /* it heartbeats and reports, but never confirms: the stop times out */
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_DONE);
    struct hn_cluster_result r;
    hn_cluster_result(W.cl, &r);
    assert_int_equal(r.unconfirmed, 1);
    W.cfg.hold = 1;
    assert_int_equal(hn_cluster_rearm(W.cl, W.now), 0);
    assert_int_equal(hn_cluster_draining(W.cl), 1);
    assert_int_equal(peer(&W, 0)->state, HN_PEER_READY);
    uint64_t merged = W.merged_requests;
    second(&W); /* its late report */
    assert_int_equal(W.merged_requests, merged);
    assert_true(W.events[HN_EV_LATE_REPORT] >= 1);
    struct hn_msg m;
    hn_msg_init(&m, HN_MSG_STATS, W.w[1].id); /* its final delta, then the confirmation */
    m.seq = ++W.w[1].stats_seq;
    m.stats = &W.delta;
    deliver_to_master(&W, &m);
    hn_msg_init(&m, HN_MSG_CLIENT_STOPPED, W.w[1].id);
    deliver_to_master(&W, &m);
    W.w[1].stopped = 1;
    W.w[1].slow_stop = 0;
    assert_int_equal(W.merged_requests, merged);
    assert_int_equal(hn_cluster_draining(W.cl), 0);
    assert_int_equal(peer(&W, 1)->state, HN_PEER_READY);
    W.cfg.hold = 0;
    release(&W);
    second(&W);
    assert_int_equal(sim_total(&W), 4);
    assert_true(W.merged_requests > merged); /* the next test's reports are merged again */
    world_fini(&W);
}

/* A few users spread over machines first: 4 workers on 2 hosts (joined A, A, B, B), 2 users:
 * one on each host, not both on A (Locust's #2128). */
static void test_users_spread_over_hosts_first(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 2, 4);
    const char *ids[] = {"hostA_11_x", "hostA_12_y", "hostB_21_x", "hostB_22_y"};
    for (size_t i = 0; i < 4; i++) {
        W.n = i + 1;
        snprintf(W.w[i].id, sizeof W.w[i].id, "%s", ids[i]);
        struct hn_msg m;
        hn_msg_init(&m, HN_MSG_CLIENT_READY, ids[i]);
        m.protocol_version = HN_PROTOCOL_VERSION;
        m.version = "test";
        deliver_to_master(&W, &m);
    }
    second(&W);
    assert_int_equal(W.w[0].users + W.w[1].users, 1); /* host A */
    assert_int_equal(W.w[2].users + W.w[3].users, 1); /* host B */
    assert_int_equal(W.w[0].users, 1);                /* the first of each host */
    assert_int_equal(W.w[2].users, 1);
    world_fini(&W);
}

/* The open model: each worker's share of the arrival rate follows its share of the pool, and
 * the shares sum to the cluster's rate, before and after a join. */
static void test_arrival_rate_split_in_proportion(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 31, 2);
    W.cfg.arrival_rate = 200;
    join(&W, 0);
    join(&W, 1);
    second(&W);
    assert_true(W.w[0].arrival + W.w[1].arrival > 199.999 &&
                W.w[0].arrival + W.w[1].arrival < 200.001);
    assert_true(W.w[0].arrival == 200.0 * (double)W.w[0].users / 31.0);
    join(&W, 2);
    double sum = 0;
    for (int i = 0; i < 3; i++) {
        sum += W.w[i].arrival;
        assert_true(W.w[i].arrival == 200.0 * (double)W.w[i].users / 31.0);
    }
    assert_true(sum > 199.999 && sum < 200.001);
    world_fini(&W);
}

static void test_join_mid_run_rebalances(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 90, 2);
    join(&W, 0);
    join(&W, 1);
    second(&W);
    assert_int_equal(W.w[0].users + W.w[1].users, 90);
    join(&W, 2); /* at once: a new split, the others shed theirs */
    assert_int_equal(W.w[0].users, 30);
    assert_int_equal(W.w[1].users, 30);
    assert_int_equal(W.w[2].users, 30);
    assert_int_equal(sim_total(&W), 90);
    world_fini(&W);
}

static void test_quit_moves_users_and_keeps_stats(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 10, 2);
    join(&W, 0);
    join(&W, 1);
    second(&W);
    second(&W);
    uint64_t merged = W.merged_requests;
    /* worker 1 sends its last delta, then quit (a SIGTERM'd worker) */
    struct hn_msg st, q;
    hn_msg_init(&st, HN_MSG_STATS, W.w[1].id);
    st.seq = ++W.w[1].stats_seq;
    st.stats = &W.delta;
    deliver_to_master(&W, &st);
    hn_msg_init(&q, HN_MSG_QUIT, W.w[1].id);
    q.error = "worker interrupted";
    deliver_to_master(&W, &q);
    W.w[1].quit = 1;
    assert_int_equal(W.merged_requests, merged + 1);
    assert_int_equal(peer(&W, 1)->state, HN_PEER_GONE);
    assert_int_equal(W.w[0].users, 10); /* its users moved */
    /* a gone id is never re-admitted */
    W.w[1].quit = 0;
    join(&W, 1);
    assert_int_equal(peer(&W, 1)->state, HN_PEER_GONE);
    assert_int_equal(W.w[1].users, 5); /* it got no new spawn */
    struct hn_cluster_result r;
    hn_cluster_result(W.cl, &r);
    assert_int_equal(r.unconfirmed, 0);
    world_fini(&W);
}

static void test_lost_and_duplicated_deltas(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 4, 1);
    join(&W, 0);
    second(&W);
    uint64_t merged = W.merged_requests;
    struct hn_msg st;
    hn_msg_init(&st, HN_MSG_STATS, W.w[0].id);
    st.stats = &W.delta;
    st.seq = W.w[0].stats_seq; /* a duplicate of the last one */
    deliver_to_master(&W, &st);
    assert_int_equal(W.merged_requests, merged);
    st.seq = W.w[0].stats_seq + 3; /* two lost on the way */
    W.w[0].stats_seq = st.seq;
    deliver_to_master(&W, &st);
    assert_int_equal(W.merged_requests, merged + 1);
    assert_int_equal(W.events[HN_EV_LOST_REPORTS], 1);
    struct hn_cluster_result r;
    hn_cluster_result(W.cl, &r);
    assert_int_equal(r.lost_reports, 2);
    assert_int_equal(peer(&W, 0)->lost_reports, 2);
    world_fini(&W);
}

static void test_stale_spawn_is_ignored_by_workers(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 6, 2);
    join(&W, 0);
    join(&W, 1);
    second(&W);
    /* a spawn_complete for an old split does not complete the current one */
    join(&W, 2);
    struct hn_msg c;
    hn_msg_init(&c, HN_MSG_SPAWNING_COMPLETE, W.w[0].id);
    c.seq = 1;
    c.user_count = 3;
    deliver_to_master(&W, &c);
    assert_int_equal(peer(&W, 0)->complete_seq, 1);
    assert_int_equal(W.w[0].users, 2); /* what the newest split says */
    world_fini(&W);
}

static void test_missing_then_rejoin_without_double_load(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 30, 3);
    for (size_t i = 0; i < 3; i++)
        join(&W, i);
    second(&W);
    assert_int_equal(W.w[2].users, 10);
    W.w[2].silent = 1; /* frozen (SIGSTOP) or cut off */
    for (int s = 0; s < 4; s++)
        second(&W);
    assert_int_equal(peer(&W, 2)->state, HN_PEER_MISSING);
    assert_int_equal(W.events[HN_EV_MISSING], 1);
    assert_int_equal(W.w[0].users + W.w[1].users, 30); /* its users went to the others */
    /* it comes back (SIGCONT): its late delta is merged once, it gets a share again and the
     * others shed theirs: the cluster never runs more than the target */
    W.w[2].silent = 0;
    uint64_t merged = W.merged_requests;
    struct hn_msg st;
    hn_msg_init(&st, HN_MSG_STATS, W.w[2].id);
    st.seq = ++W.w[2].stats_seq;
    st.stats = &W.delta;
    deliver_to_master(&W, &st);
    assert_int_equal(W.events[HN_EV_REJOINED], 1);
    assert_int_equal(W.merged_requests, merged + 1);
    assert_int_equal(peer(&W, 2)->state, HN_PEER_RUNNING);
    assert_int_equal(W.w[0].users, 10);
    assert_int_equal(W.w[1].users, 10);
    assert_int_equal(W.w[2].users, 10);
    world_fini(&W);
}

static void test_every_worker_lost_ends_the_run(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 2, 1);
    join(&W, 0);
    second(&W);
    W.w[0].silent = 1;
    int secs = until_done(&W, 20);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_DONE);
    assert_int_equal(W.events[HN_EV_MISSING], 1);
    assert_int_equal(secs, 15); /* missing past 3 s of silence (4th tick), given up past 10 s */
    struct hn_cluster_result r;
    hn_cluster_result(W.cl, &r);
    assert_int_equal(r.all_lost, 1);
    world_fini(&W);

    /* every worker missing, then one relinks under a new id before the heartbeat timeout: the
     * run goes on with it */
    world_init(&W, 4, 1);
    join(&W, 0);
    second(&W);
    W.w[0].silent = 1;
    for (int s = 0; s < 5; s++)
        second(&W);
    assert_int_equal(W.events[HN_EV_MISSING], 1);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_RUNNING);
    join(&W, 1);
    assert_int_equal(W.w[1].users, 4);
    for (int s = 0; s < 5; s++)
        second(&W);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_RUNNING);
    hn_cluster_result(W.cl, &r);
    assert_int_equal(r.all_lost, 0);
    world_fini(&W);
}

static void test_stalled_master_forgives_silence(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 4, 2);
    join(&W, 0);
    join(&W, 1);
    second(&W);
    /* the master's loop stops for 15 s (SIGSTOP, a long commit); the workers' messages were
     * sent meanwhile and are handed in before the tick, stamped with the late time */
    W.now += 15000;
    for (size_t i = 0; i < 2; i++) {
        struct hn_msg st;
        hn_msg_init(&st, HN_MSG_STATS, W.w[i].id);
        st.seq = ++W.w[i].stats_seq;
        st.stats = &W.delta;
        deliver_to_master(&W, &st);
    }
    tick(&W);
    assert_int_equal(W.events[HN_EV_MISSING], 0);
    /* even if one worker had nothing to say in that window, the stall is not its silence */
    W.w[1].silent = 1;
    W.now += 15000;
    tick(&W);
    assert_int_equal(W.events[HN_EV_MISSING], 0);
    /* but real silence afterwards is */
    for (int s = 0; s < 4; s++)
        second(&W);
    assert_int_equal(W.events[HN_EV_MISSING], 1);
    world_fini(&W);
}

static void test_stop_confirmed_and_timed_out(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 4, 2);
    W.cfg.run_time_ms = 3000;
    join(&W, 0);
    join(&W, 1);
    int secs = until_done(&W, 10);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_DONE);
    assert_true(secs <= 5); /* 3 s of run time, then one tick to see the confirmations */
    assert_int_equal(W.events[HN_EV_STOPPING], 1);
    struct hn_cluster_result r;
    hn_cluster_result(W.cl, &r);
    assert_int_equal(r.unconfirmed, 0);
    world_fini(&W);

    /* one worker never confirms: the stop ends after stop_timeout + 2 s, naming it */
    world_init(&W, 4, 2);
    join(&W, 0);
    join(&W, 1);
    second(&W);
    W.w[1].silent = 1;
    stop(&W, "Interrupted");
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_STOPPING);
    assert_int_equal(peer(&W, 0)->state, HN_PEER_STOPPED);
    secs = until_done(&W, 10);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_DONE);
    assert_true(secs <= 5); /* silent past the heartbeat timeout (3 s), or the stop timeout
                               (2 s + 2 s): whichever comes first */
    hn_cluster_result(W.cl, &r);
    assert_int_equal(r.unconfirmed, 1);
    assert_int_equal(W.events[HN_EV_UNCONFIRMED], 1);
    world_fini(&W);
}

static void test_protocol_mismatch_refused(void **state)
{
    (void)state;
    struct world W;
    world_init(&W, 4, 1);
    struct hn_msg m;
    hn_msg_init(&m, HN_MSG_CLIENT_READY, "old_1_x");
    m.protocol_version = 99;
    m.version = "9.9.9";
    hn_cluster_on_msg(W.cl, &m, -1, W.now, &W.out);
    assert_int_equal(W.out.n, 2);
    assert_int_equal(W.out.v[0].event, HN_EV_REFUSED);
    assert_int_equal(W.out.v[1].msg.type, HN_MSG_ACK);
    assert_non_null(strstr(W.out.v[1].msg.error, "protocol version 99 (hornet 9.9.9)"));
    hn_cl_outbox_reset(&W.out);
    assert_int_equal(hn_cluster_live(W.cl), 0);
    world_fini(&W);
}

static void test_thousand_workers(void **state)
{
    (void)state;
    static struct world W;
    world_init(&W, 10000, 1000);
    for (size_t i = 0; i < 1000; i++)
        join(&W, i);
    second(&W);
    assert_int_equal(hn_cluster_phase(W.cl), HN_CL_RUNNING);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < 1000; i++) {
        lo = W.w[i].users < lo ? W.w[i].users : lo;
        hi = W.w[i].users > hi ? W.w[i].users : hi;
    }
    assert_int_equal(lo, 10);
    assert_int_equal(hi, 10);
    /* one more joins, then 100 leave at once: always the exact total */
    join(&W, 1000);
    assert_int_equal(sim_total(&W), 10000);
    for (size_t i = 0; i < 100; i++) {
        char tag[32];
        snprintf(tag, sizeof tag, "_%zu_", i + 100);
        W.w[i].quit = 1;
        exited(&W, tag);
    }
    assert_int_equal(sim_total(&W), 10000);
    assert_int_equal(hn_cluster_live(W.cl), 901);
    for (int s = 0; s < 3; s++)
        second(&W);
    assert_int_equal(W.events[HN_EV_MISSING], 0);
    world_fini(&W);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_and_even_split),
        cmocka_unit_test(test_held_until_released),
        cmocka_unit_test(test_new_test_with_the_same_workers),
        cmocka_unit_test(test_new_test_waits_for_a_late_stop),
        cmocka_unit_test(test_users_spread_over_hosts_first),
        cmocka_unit_test(test_join_mid_run_rebalances),
        cmocka_unit_test(test_arrival_rate_split_in_proportion),
        cmocka_unit_test(test_quit_moves_users_and_keeps_stats),
        cmocka_unit_test(test_lost_and_duplicated_deltas),
        cmocka_unit_test(test_stale_spawn_is_ignored_by_workers),
        cmocka_unit_test(test_missing_then_rejoin_without_double_load),
        cmocka_unit_test(test_every_worker_lost_ends_the_run),
        cmocka_unit_test(test_stalled_master_forgives_silence),
        cmocka_unit_test(test_stop_confirmed_and_timed_out),
        cmocka_unit_test(test_protocol_mismatch_refused),
        cmocka_unit_test(test_thousand_workers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
