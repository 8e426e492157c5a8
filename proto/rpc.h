/* ZeroMQ transport for hn_msg: the master binds a ROUTER, each worker connects a DEALER whose
 * routing id is its node id. Every socket has ZMQ_MAXMSGSIZE set (oversize frames never reach
 * the decoder) and a short linger so closing never blocks.
 *
 * Receiving is non-blocking; callers poll hn_rpc_fd() (edge-triggered: after every wake-up and
 * every send, call hn_rpc_recv until it returns HN_EAGAIN). Not thread-safe. */
#ifndef HN_RPC_H
#define HN_RPC_H

#include <stddef.h>

#include "proto/codec.h"

struct hn_rpc;

/* secret (the cluster secret; NULL or "" = none): both sides derive the master's CURVE key
 * pair from it, so the links are authenticated and encrypted and a peer without it cannot
 * complete the ZMTP handshake: it never gets to send a frame. Without it any peer that reaches
 * the port is a peer (Locust's model).
 *
 * Master side. bind_host "*" binds every interface; port 0 picks a free port (see
 * hn_rpc_endpoint_port). Returns 0 or HN_EIO with a one-line reason in err. */
int hn_rpc_bind(const char *bind_host, unsigned port, const char *secret, struct hn_rpc **out,
                char *err, size_t errlen);
/* Worker side: connects (asynchronously; ZeroMQ retries in the background). */
int hn_rpc_connect(const char *host, unsigned port, const char *node_id, const char *secret,
                   struct hn_rpc **out, char *err, size_t errlen);
void hn_rpc_destroy(struct hn_rpc **rp);

unsigned hn_rpc_endpoint_port(const struct hn_rpc *r);
int hn_rpc_fd(const struct hn_rpc *r);

/* Sends one message; on a ROUTER, to the worker whose node id is `to`. Never blocks: a full
 * queue drops the message and returns HN_EAGAIN. */
int hn_rpc_send(struct hn_rpc *r, const char *to, const struct hn_msg *m);
/* Waits up to timeout_ms for input: 1 if a message is pending, 0 if not. */
int hn_rpc_poll(struct hn_rpc *r, long timeout_ms);
/* Receives one message if one is pending: 0 with *m filled (free with hn_msg_fini), HN_EAGAIN if
 * none, HN_EINVAL for a malformed one (logged, already discarded; keep calling). On a ROUTER,
 * the sender's routing id is checked against the node id inside the message. */
int hn_rpc_recv(struct hn_rpc *r, struct hn_msg *m);

/* The master's CURVE public key for a cluster secret (Z85, 40 characters and a NUL): for
 * tools that speak the protocol over sockets of their own. Returns 0 or HN_EIO. */
int hn_rpc_server_public(const char *secret, char out_z85[41]);

/* Master side: the connection (descriptor) the last received message came from, and the next
 * connection that closed since the last call (-1 if none). Together they say which worker's
 * connection closed, at once rather than after the heartbeat timeout. */
int hn_rpc_last_fd(const struct hn_rpc *r);
int hn_rpc_closed_fd(struct hn_rpc *r);

#endif
