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

/* CURVE keys, Z85 (40 characters and a NUL); "" = unset. The master needs server_public,
 * server_secret and the allow-list; a worker server_public, client_public and client_secret.
 * See proto/keys.h for where they come from. */
struct hn_rpc_keys {
    char server_public[41], server_secret[41];
    char client_public[41], client_secret[41];
    char (*allowed)[41]; /* master: the worker public keys it admits */
    size_t n_allowed;
    int from_secret;     /* derived from a cluster secret (for the wording of refusals) */
};
/* Derives every key from a cluster secret: the master's pair and the one worker pair, which is
 * the whole allow-list. Returns 0 or HN_EIO (no CURVE in this libzmq). */
int hn_rpc_keys_from_secret(const char *secret, struct hn_rpc_keys *k);
/* Appends a worker public key to the allow-list. Returns 0 or HN_EINVAL if it is not a key. */
int hn_rpc_keys_allow(struct hn_rpc_keys *k, const char *public_z85);
void hn_rpc_keys_fini(struct hn_rpc_keys *k);
/* A new key pair. Returns 0 or HN_EIO. */
int hn_rpc_keygen(char public_z85[41], char secret_z85[41]);
/* 1 if s is a 40-character Z85 key, else 0; with a secret key, its public key into pub. */
int hn_rpc_key_valid(const char *s);
int hn_rpc_key_public(const char *secret_z85, char public_z85[41]);

/* keys (NULL: plain links, any peer that reaches the port is a peer: Locust's model): the
 * links are authenticated and encrypted with CURVE. The master admits only workers whose
 * public key is in keys->allowed (its ZAP handler, served from hn_rpc_poll); a peer without
 * the master's public key cannot complete the handshake at all, so it never gets to send a
 * frame the master would have to hold.
 *
 * Master side. bind_host "*" binds every interface; port 0 picks a free port (see
 * hn_rpc_endpoint_port). Returns 0 or HN_EIO with a one-line reason in err. */
int hn_rpc_bind(const char *bind_host, unsigned port, const struct hn_rpc_keys *keys,
                struct hn_rpc **out, char *err, size_t errlen);
/* Worker side: connects (asynchronously; ZeroMQ retries in the background). */
int hn_rpc_connect(const char *host, unsigned port, const char *node_id,
                   const struct hn_rpc_keys *keys, struct hn_rpc **out, char *err,
                   size_t errlen);
/* Worker side: 1 (and why, in out) if the master refused this worker's key during a handshake
 * since the last call; 0 otherwise. */
int hn_rpc_refused(struct hn_rpc *r, char *out, size_t outlen);
void hn_rpc_destroy(struct hn_rpc **rp);

unsigned hn_rpc_endpoint_port(const struct hn_rpc *r);
int hn_rpc_fd(const struct hn_rpc *r);

/* Sends one message; on a ROUTER, to the worker whose node id is `to`. Never blocks: a full
 * queue drops the message and returns HN_EAGAIN. */
int hn_rpc_send(struct hn_rpc *r, const char *to, const struct hn_msg *m);
/* Waits up to timeout_ms for input: 1 if a message is pending, 0 if not. On the master, also
 * answers the handshakes waiting for the allow-list. A watched descriptor (the master's web
 * server) that becomes readable ends the wait too, returning 0. */
int hn_rpc_poll(struct hn_rpc *r, long timeout_ms);
/* Also wakes hn_rpc_poll when fd is readable (-1: none). */
void hn_rpc_watch_fd(struct hn_rpc *r, int fd);
/* Receives one message if one is pending: 0 with *m filled (free with hn_msg_fini), HN_EAGAIN if
 * none, HN_EINVAL for a malformed one (logged, already discarded; keep calling). On a ROUTER,
 * the sender's routing id is checked against the node id inside the message. */
int hn_rpc_recv(struct hn_rpc *r, struct hn_msg *m);

/* Master side: the connection (descriptor) the last received message came from, and the next
 * connection that closed since the last call (-1 if none). Together they say which worker's
 * connection closed, at once rather than after the heartbeat timeout. */
int hn_rpc_last_fd(const struct hn_rpc *r);
int hn_rpc_closed_fd(struct hn_rpc *r);

#endif
