/* A misbehaving peer for the integration tests, talking to a real master over ZeroMQ:
 *   fake_peer old-worker HOST PORT  - says client_ready with protocol 99; exits 0 if refused
 *   fake_peer garbage HOST PORT     - sends hostile frames, then a proper client_ready; exits 0
 *                                     if the master still acks (it survived the garbage) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

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

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fake_peer old-worker|garbage HOST PORT\n");
        return 2;
    }
    const char *mode = argv[1], *host = argv[2];
    unsigned port = (unsigned)atoi(argv[3]);
    char err[256], id[64];
    snprintf(id, sizeof id, "fake_%d_0", (int)getpid());
    struct hn_msg m, ack;
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
    }
    struct hn_rpc *r;
    if (hn_rpc_connect(host, port, id, &r, err, sizeof err)) {
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
