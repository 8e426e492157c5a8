/* A misbehaving peer for the integration tests, talking to a real master over ZeroMQ:
 *   fake_peer old-worker HOST PORT  - says client_ready with protocol 99; exits 0 if refused
 *   fake_peer garbage HOST PORT     - sends hostile frames, then a proper client_ready; exits 0
 *                                     if the master still acks (it survived the garbage)
 *   fake_peer bloat HOST PORT       - without the cluster secret, sends 40 frames of 15 MiB
 *                                     flagged MORE (a message that never ends), holds the
 *                                     connection 3 s, exits 0
 *   fake_peer flood HOST PORT       - 20 000 junk frames as fast as it can, exits 0
 *   fake_peer impostor HOST PORT ID - takes a live worker's node id and claims 3 000 000
 *                                     requests in a stats report; exits 0 when done
 *   fake_peer huge HOST PORT        - sends one 64 MiB message; exits 0 when done
 * HORNET_CLUSTER_SECRET, when set, is used by the modes that speak the protocol. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include "common/stats.h"
#include "proto/codec.h"
#include "proto/rpc.h"

static int await_ack(struct hn_rpc *r, struct hn_msg *ack)
{
    for (int i = 0; i < 100; i++) { /* 10 s */
        if (hn_rpc_poll(r, 100) && hn_rpc_recv(r, ack) == 0) {
            if (ack->type == HN_MSG_ACK)
                return 0;
            hn_msg_fini(ack);
        }
    }
    return -1;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Raw ZMTP 3.0 over TCP (libzmq itself would hold back the frames of an unfinished message):
 * NULL-mechanism greeting, READY as a DEALER, then 40 frames of 15 MiB flagged MORE. Returns 0
 * whether or not the master let the frames in: the caller measures the master. */
static int bloat(const char *host, unsigned port, const char *id)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("bloat: connect");
        return 1;
    }
    unsigned char greet[64] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0, 'N', 'U', 'L', 'L'};
    unsigned char ready[256];
    size_t n = 0, idl = strlen(id);
    ready[n++] = 0x04; /* command, short */
    ready[n++] = 0;    /* size, set below */
    ready[n++] = 5;
    memcpy(ready + n, "READY", 5);
    n += 5;
    ready[n++] = 11;
    memcpy(ready + n, "Socket-Type", 11);
    n += 11;
    ready[n++] = 0, ready[n++] = 0, ready[n++] = 0, ready[n++] = 6;
    memcpy(ready + n, "DEALER", 6);
    n += 6;
    ready[n++] = 8;
    memcpy(ready + n, "Identity", 8);
    n += 8;
    ready[n++] = 0, ready[n++] = 0, ready[n++] = 0, ready[n++] = (unsigned char)idl;
    memcpy(ready + n, id, idl);
    n += idl;
    ready[1] = (unsigned char)(n - 2);
    signal(SIGPIPE, SIG_IGN);
    if (write_all(fd, greet, sizeof greet) || write_all(fd, ready, n)) {
        close(fd);
        return 0; /* refused at the handshake */
    }
    size_t fsz = 15u << 20;
    char *frame = calloc(1, fsz);
    unsigned char hdr[9] = {0x03}; /* MORE | LONG */
    for (int i = 0; i < 8; i++)
        hdr[1 + i] = (unsigned char)((uint64_t)fsz >> (56 - 8 * i));
    int sent = 0;
    for (int i = 0; i < 40; i++) {
        if (write_all(fd, hdr, sizeof hdr) || write_all(fd, frame, fsz))
            break;
        sent++;
    }
    free(frame);
    printf("bloat: sent %d frames of 15 MiB\n", sent);
    fflush(stdout);
    sleep(3);
    close(fd);
    return 0;
}

/* The keys of HORNET_CLUSTER_SECRET (as a worker holding it), or NULL without one. */
static const struct hn_rpc_keys *env_keys(void)
{
    static struct hn_rpc_keys keys;
    const char *secret = getenv("HORNET_CLUSTER_SECRET");
    if (!secret || !*secret || hn_rpc_keys_from_secret(secret, &keys))
        return NULL;
    return &keys;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: fake_peer old-worker|garbage|bloat|flood|huge HOST PORT | impostor HOST PORT ID\n");
        return 2;
    }
    const char *mode = argv[1], *host = argv[2];
    unsigned port = (unsigned)atoi(argv[3]);
    char err[256], id[64];
    snprintf(id, sizeof id, "fake_%d_0", (int)getpid());
    struct hn_msg m, ack;
    if (!strcmp(mode, "bloat"))
        return bloat(host, port, id);
    if (!strcmp(mode, "impostor") || !strcmp(mode, "huge")) {
        const char *as = !strcmp(mode, "impostor") && argc > 4 ? argv[4] : id;
        struct hn_rpc *r;
        if (hn_rpc_connect(host, port, as, env_keys(), &r, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        struct hn_msg msg;
        if (!strcmp(mode, "huge")) {
            hn_msg_init(&msg, HN_MSG_EXCEPTION, as);
            size_t n = 64u << 20;
            char *big = malloc(n + 1);
            memset(big, 'x', n);
            big[n] = '\0';
            msg.error = big;
            msg.traceback = "";
            hn_rpc_send(r, NULL, &msg); /* over ZMQ_MAXMSGSIZE: the master drops the link */
            free(big);
        } else {
            hn_msg_init(&msg, HN_MSG_CLIENT_READY, as);
            msg.protocol_version = HN_PROTOCOL_VERSION;
            msg.version = HORNET_VERSION;
            hn_rpc_send(r, NULL, &msg);
            struct hn_stats fake;
            hn_stats_init(&fake);
            struct hn_stats_entry *e = hn_stats_entry(&fake, "GET", "/healthz");
            for (int i = 0; i < 3000000; i++)
                hn_stats_record(e, 1000, 10, 1, 0);
            hn_stats_entry_merge(&fake.total, e);
            hn_msg_init(&msg, HN_MSG_STATS, as);
            msg.seq = 1000000;
            msg.stats = &fake;
            hn_rpc_send(r, NULL, &msg);
            hn_stats_fini(&fake);
        }
        sleep(2);
        hn_rpc_destroy(&r);
        return 0;
    }
    if (!strcmp(mode, "flood")) {
        void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
        char ep[128];
        snprintf(ep, sizeof ep, "tcp://%s:%u", host, port);
        int linger = 2000, hwm = 0;
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(s, ZMQ_ROUTING_ID, id, strlen(id));
        zmq_connect(s, ep);
        const unsigned char junk[] = {0xc1, 0x0a, 0x1b};
        for (int i = 0; i < 20000; i++)
            zmq_send(s, junk, sizeof junk, 0);
        zmq_close(s);
        zmq_ctx_term(ctx);
        return 0;
    }
    if (!strcmp(mode, "garbage")) {
        /* raw frames straight through libzmq: a forged array32 count, a bad type byte, junk */
        void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
        char ep[128];
        snprintf(ep, sizeof ep, "tcp://%s:%u", host, port);
        zmq_setsockopt(s, ZMQ_ROUTING_ID, id, strlen(id));
        zmq_connect(s, ep);
        const unsigned char forged[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
        const unsigned char never[] = {0xc1, 0x00};
        const unsigned char junk[] = "\x93\xa5stats\xa1w\x81\xa3seq\xcf";
        zmq_send(s, forged, sizeof forged, 0);
        zmq_send(s, never, sizeof never, 0);
        zmq_send(s, junk, sizeof junk - 1, 0);
        sleep(1);
        int linger = 0;
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
        zmq_close(s);
        zmq_ctx_term(ctx);
        /* the proper worker below is another peer: a routing id still held by the junk
         * socket's pipe would be refused by the ROUTER until that pipe is gone */
        snprintf(id, sizeof id, "fake_%d_1", (int)getpid());
    }
    struct hn_rpc *r;
    if (hn_rpc_connect(host, port, id, env_keys(), &r, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    hn_msg_init(&m, HN_MSG_CLIENT_READY, id);
    m.protocol_version = !strcmp(mode, "old-worker") ? 99 : HN_PROTOCOL_VERSION;
    m.version = "9.9.9";
    hn_rpc_send(r, NULL, &m);
    int rc = 1;
    if (await_ack(r, &ack) == 0) {
        int refused = ack.error && *ack.error;
        printf("%s%s\n", refused ? "refused: " : "acked as worker ", refused ? ack.error : "");
        rc = !strcmp(mode, "old-worker") ? !refused : refused;
        hn_msg_fini(&ack);
    } else {
        printf("no ack within 10 s\n");
    }
    if (!strcmp(mode, "garbage") && rc == 0) {
        /* leave politely so the master does not wait for this worker */
        hn_msg_init(&m, HN_MSG_QUIT, id);
        m.error = "fake peer done";
        hn_rpc_send(r, NULL, &m);
        usleep(200000);
    }
    hn_rpc_destroy(&r);
    return rc;
}
