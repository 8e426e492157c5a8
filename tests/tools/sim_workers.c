/* Simulated workers for bench/master_scale.sh: N load-free peers in one process (one ZeroMQ
 * context, one DEALER each, CURVE with HORNET_CLUSTER_SECRET when set), speaking the real
 * protocol: client_ready, spawning_complete for every spawn, and every second a heartbeat and a
 * stats delta of ROWS rows, the shape of a busy worker's report. What it can see of the master
 * is how long the join took and how regularly the master's heartbeats arrive: a master that
 * falls behind its messages heartbeats late, so the largest gap between two heartbeats on one
 * connection, minus the 1 s period, bounds the master's lag.
 *   sim_workers HOST PORT N SECONDS [ROWS (50)]
 * Prints one line of figures; exits 0 when every peer was acked and spawned. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zmq.h>

#include "common/stats.h"
#include "common/util.h"
#include "proto/codec.h"
#include "proto/rpc.h"

struct peer {
    void *sock;
    char id[HN_NODE_ID_MAX];
    uint64_t stats_seq, spawn_seq, users;
    uint64_t last_hb_us, max_gap_us;
    int acked, stopped;
};

static void send_msg(struct peer *p, const struct hn_msg *m)
{
    char *buf;
    size_t len;
    if (hn_msg_encode(m, &buf, &len) == 0) {
        zmq_send(p->sock, buf, len, ZMQ_DONTWAIT);
        free(buf);
    }
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: sim_workers HOST PORT N SECONDS [ROWS]\n");
        return 2;
    }
    const char *host = argv[1];
    int n = atoi(argv[3]), secs = atoi(argv[4]), rows = argc > 5 ? atoi(argv[5]) : 50;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    const char *secret = getenv("HORNET_CLUSTER_SECRET");
    struct hn_rpc_keys keys = {0};
    if (secret && *secret && hn_rpc_keys_from_secret(secret, &keys)) {
        fprintf(stderr, "sim_workers: CURVE is not available\n");
        return 1;
    }
    struct hn_stats delta;
    hn_stats_init(&delta);
    char name[64];
    for (int r = 0; r < rows; r++) {
        snprintf(name, sizeof name, "/api/endpoint/%d", r);
        struct hn_stats_entry *e = hn_stats_entry(&delta, "GET", name);
        for (int k = 0; k < 20; k++)
            hn_stats_record(e, 1000 + (uint64_t)k * 137 + (uint64_t)r, 200, hn_wall_ms() / 1000,
                            k == 0);
        hn_stats_entry_merge(&delta.total, e);
    }
    void *ctx = zmq_ctx_new();
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, n + 64);
    zmq_ctx_set(ctx, ZMQ_IO_THREADS, 1);
    struct peer *p = calloc((size_t)n, sizeof *p);
    zmq_pollitem_t *items = calloc((size_t)n, sizeof *items);
    char ep[300];
    snprintf(ep, sizeof ep, "tcp://%s:%s", host, argv[2]);
    uint64_t t0 = hn_mono_us();
    for (int i = 0; i < n; i++) {
        snprintf(p[i].id, sizeof p[i].id, "sim_%d_%d", (int)getpid(), i);
        p[i].sock = zmq_socket(ctx, ZMQ_DEALER);
        if (!p[i].sock) {
            fprintf(stderr, "sim_workers: socket %d: %s\n", i, zmq_strerror(zmq_errno()));
            return 1;
        }
        int linger = 0;
        zmq_setsockopt(p[i].sock, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(p[i].sock, ZMQ_ROUTING_ID, p[i].id, strlen(p[i].id));
        if (keys.server_public[0]) { /* the workers' pair derived from the secret */
            zmq_setsockopt(p[i].sock, ZMQ_CURVE_SERVERKEY, keys.server_public, 40);
            zmq_setsockopt(p[i].sock, ZMQ_CURVE_PUBLICKEY, keys.client_public, 40);
            zmq_setsockopt(p[i].sock, ZMQ_CURVE_SECRETKEY, keys.client_secret, 40);
        }
        zmq_connect(p[i].sock, ep);
        items[i].socket = p[i].sock;
        items[i].events = ZMQ_POLLIN;
        struct hn_msg m;
        hn_msg_init(&m, HN_MSG_CLIENT_READY, p[i].id);
        m.protocol_version = HN_PROTOCOL_VERSION;
        m.version = HORNET_VERSION;
        send_msg(&p[i], &m);
    }
    uint64_t end = hn_mono_us() + (uint64_t)secs * 1000000, next_beat = hn_mono_us() + 1000000;
    uint64_t all_acked_us = 0, all_spawned_us = 0, received = 0, sent_stats = 0;
    int quits = 0;
    char err[256];
    while (hn_mono_us() < end && quits < n) {
        zmq_poll(items, n, 20);
        uint64_t now = hn_mono_us();
        for (int i = 0; i < n; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            zmq_msg_t f;
            zmq_msg_init(&f);
            while (zmq_msg_recv(&f, p[i].sock, ZMQ_DONTWAIT) >= 0) {
                struct hn_msg m;
                received++;
                if (hn_msg_decode(zmq_msg_data(&f), zmq_msg_size(&f), &m, err, sizeof err))
                    continue;
                if (m.type == HN_MSG_ACK && !(m.error && *m.error)) {
                    p[i].acked = 1;
                } else if (m.type == HN_MSG_HEARTBEAT) {
                    if (p[i].last_hb_us && now - p[i].last_hb_us > p[i].max_gap_us)
                        p[i].max_gap_us = now - p[i].last_hb_us;
                    p[i].last_hb_us = now;
                } else if (m.type == HN_MSG_SPAWN && m.seq > p[i].spawn_seq) {
                    p[i].spawn_seq = m.seq;
                    p[i].users = 0;
                    for (size_t c = 0; c < m.n_classes; c++)
                        p[i].users += m.classes[c].count;
                    struct hn_msg r;
                    hn_msg_init(&r, HN_MSG_SPAWNING_COMPLETE, p[i].id);
                    r.seq = m.seq;
                    r.user_count = p[i].users;
                    send_msg(&p[i], &r);
                } else if (m.type == HN_MSG_STOP) {
                    struct hn_msg st, cs;
                    hn_msg_init(&st, HN_MSG_STATS, p[i].id);
                    st.seq = ++p[i].stats_seq;
                    st.stats = &delta;
                    send_msg(&p[i], &st);
                    sent_stats++;
                    hn_msg_init(&cs, HN_MSG_CLIENT_STOPPED, p[i].id);
                    send_msg(&p[i], &cs);
                    p[i].spawn_seq = p[i].spawn_seq ? p[i].spawn_seq : 1;
                    p[i].stopped = 1;
                } else if (m.type == HN_MSG_QUIT) {
                    quits++;
                }
                hn_msg_fini(&m);
            }
            zmq_msg_close(&f);
        }
        int acked = 0, spawned = 0;
        for (int i = 0; i < n; i++) {
            acked += p[i].acked;
            spawned += p[i].spawn_seq > 0;
        }
        if (acked == n && !all_acked_us)
            all_acked_us = now - t0;
        if (spawned == n && !all_spawned_us)
            all_spawned_us = now - t0;
        if (now >= next_beat) {
            next_beat += 1000000;
            for (int i = 0; i < n; i++) {
                if (!p[i].acked)
                    continue;
                struct hn_msg hb, st;
                hn_msg_init(&hb, HN_MSG_HEARTBEAT, p[i].id);
                hb.state = "running";
                hb.user_count = p[i].users;
                send_msg(&p[i], &hb);
                if (p[i].spawn_seq && !p[i].stopped) {
                    hn_msg_init(&st, HN_MSG_STATS, p[i].id);
                    st.seq = ++p[i].stats_seq;
                    st.user_count = p[i].users;
                    st.stats = &delta;
                    send_msg(&p[i], &st);
                    sent_stats++;
                }
            }
        }
    }
    int acked = 0, spawned = 0;
    uint64_t worst_gap = 0;
    for (int i = 0; i < n; i++) {
        acked += p[i].acked;
        spawned += p[i].spawn_seq > 0;
        worst_gap = p[i].max_gap_us > worst_gap ? p[i].max_gap_us : worst_gap;
        zmq_close(p[i].sock);
    }
    zmq_ctx_term(ctx);
    printf("sim_workers: %d peers, %d acked (all in %.2f s), %d spawned (all in %.2f s), %llu "
           "stats reports sent, %llu messages received, largest heartbeat gap %.0f ms\n",
           n, acked, (double)all_acked_us / 1e6, spawned, (double)all_spawned_us / 1e6,
           (unsigned long long)sent_stats, (unsigned long long)received,
           (double)worst_gap / 1000.0);
    free(items);
    free(p);
    hn_stats_fini(&delta);
    hn_rpc_keys_fini(&keys);
    return acked == n && spawned == n ? 0 : 1;
}
