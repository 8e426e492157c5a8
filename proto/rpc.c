#include "proto/rpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/log.h"
#include "common/sha256.h"
#include "common/util.h"

#define LOG_SLOTS 64     /* per-peer log limiters, by hash of the routing id */
#define LOG_PER_PEER_S 5 /* warnings about one peer's messages per second */
#define LOG_TOTAL_S 20   /* and about all peers together */

struct hn_rpc {
    void *ctx;
    void *sock;
    void *monitor; /* master: PAIR receiving the ROUTER's disconnect events; worker: its
                      DEALER's refused handshakes */
    void *zap;     /* master with keys: REP answering ZeroMQ's authentication requests */
    uint8_t (*allowed)[32];
    size_t n_allowed;
    int from_secret;
    int is_router;
    unsigned port;
    int last_fd;   /* the connection the last received message came from */
    int watch_fd;  /* a descriptor that also wakes hn_rpc_poll (-1: none) */
    struct hn_ratelimit peer_log[LOG_SLOTS], all_log;
};

/* A warning about a dropped message, rate-limited per peer and overall: junk from a peer is
 * dropped at full speed, but it never floods the log (a peer sending 0.1 s of junk made 200 000
 * lines). What was held back is counted in the next line that passes. */
static void drop_warn(struct hn_rpc *r, const char *from, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void drop_warn(struct hn_rpc *r, const char *from, const char *fmt, ...)
{
    uint64_t h = 1469598103934665603ull, now = hn_mono_us();
    for (const char *p = from; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    unsigned held_peer, held_all;
    int ok = hn_ratelimit_allow(&r->peer_log[h % LOG_SLOTS], now, LOG_PER_PEER_S, &held_peer);
    ok = hn_ratelimit_allow(&r->all_log, now, LOG_TOTAL_S, &held_all) && ok;
    if (!ok)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned held = held_peer > held_all ? held_peer : held_all;
    if (held)
        hn_warn("%s (and %u more such warnings in the last second)", msg, held);
    else
        hn_warn("%s", msg);
}

static int setup(struct hn_rpc *r, int type)
{
    r->ctx = zmq_ctx_new();
    if (!r->ctx)
        return HN_EIO;
    zmq_ctx_set(r->ctx, ZMQ_IO_THREADS, 1);
    r->sock = zmq_socket(r->ctx, type);
    if (!r->sock)
        return HN_EIO;
    /* MAXMSGSIZE: a frame over what the protocol needs (a spawn with its data files) closes
     * the sender's connection before the frame is buffered. LINGER: closing never blocks more
     * than half a second. HWM (per peer, in messages): a peer sends about 3 messages a second,
     * so 1000 is minutes of backlog, not a way to hold gigabytes; past it a send fails at once
     * (DONTWAIT) and the caller keeps what it must (the worker's stats delta). */
    int64_t maxsz = HN_MSG_MAX_BYTES;
    int linger = 500, hwm = 1000, ipv6 = 1;
    zmq_setsockopt(r->sock, ZMQ_MAXMSGSIZE, &maxsz, sizeof maxsz);
    zmq_setsockopt(r->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(r->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(r->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(r->sock, ZMQ_IPV6, &ipv6, sizeof ipv6);
    if (type == ZMQ_ROUTER) {
        /* a message to a worker that is not connected fails (EHOSTUNREACH) instead of
         * vanishing: the master logs it rather than believing the worker was told */
        int on = 1;
        zmq_setsockopt(r->sock, ZMQ_ROUTER_MANDATORY, &on, sizeof on);
    }
    return 0;
}

/* A key pair from a cluster secret: secret key = SHA-256 of a label and the passphrase, public
 * key computed from it. The master's pair and the workers' pair use different labels. */
static int derive(const char *label, const char *secret, char pub[41], char sec[41])
{
    size_t nl = strlen(label), n = strlen(secret);
    char *buf = hn_malloc(nl + n + 1);
    memcpy(buf, label, nl);
    memcpy(buf + nl, secret, n);
    uint8_t sk[32];
    hn_sha256(buf, nl + n, sk);
    free(buf);
    int bad = !zmq_z85_encode(sec, sk, 32) || zmq_curve_public(pub, sec) != 0;
    memset(sk, 0, sizeof sk);
    return bad ? HN_EIO : 0;
}

int hn_rpc_keys_from_secret(const char *secret, struct hn_rpc_keys *k)
{
    memset(k, 0, sizeof *k);
    k->from_secret = 1;
    if (derive("hornet cluster secret v1\n", secret, k->server_public, k->server_secret) ||
        derive("hornet cluster secret v1 worker\n", secret, k->client_public, k->client_secret))
        return HN_EIO;
    return hn_rpc_keys_allow(k, k->client_public) ? HN_EIO : 0;
}

int hn_rpc_key_valid(const char *s)
{
    uint8_t raw[32];
    return s && strlen(s) == 40 && zmq_z85_decode(raw, s) != NULL;
}

int hn_rpc_key_public(const char *secret_z85, char public_z85[41])
{
    if (!hn_rpc_key_valid(secret_z85))
        return HN_EINVAL;
    return zmq_curve_public(public_z85, secret_z85) == 0 ? 0 : HN_EIO;
}

int hn_rpc_keys_allow(struct hn_rpc_keys *k, const char *public_z85)
{
    if (!hn_rpc_key_valid(public_z85))
        return HN_EINVAL;
    k->allowed = hn_realloc(k->allowed, (k->n_allowed + 1) * sizeof *k->allowed);
    memcpy(k->allowed[k->n_allowed++], public_z85, 41);
    return 0;
}

void hn_rpc_keys_fini(struct hn_rpc_keys *k)
{
    free(k->allowed);
    memset(k, 0, sizeof *k);
}

int hn_rpc_keygen(char public_z85[41], char secret_z85[41])
{
    return zmq_curve_keypair(public_z85, secret_z85) == 0 ? 0 : HN_EIO;
}

/* ZeroMQ asks the handler bound at this address whether a peer that completed the CURVE
 * handshake may connect (RFC 27, ZAP). */
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

static int allowed(const struct hn_rpc *r, const uint8_t key[32])
{
    for (size_t i = 0; i < r->n_allowed; i++)
        if (!memcmp(r->allowed[i], key, 32))
            return 1;
    return 0;
}

/* Answers every pending ZAP request: 200 for a key in the allow-list, 400 otherwise (logged,
 * rate-limited per address). A malformed request gets no answer and is dropped. */
static void serve_zap(struct hn_rpc *r)
{
    if (!r->zap)
        return;
    for (;;) {
        zmq_msg_t f[8];
        int n = 0, more = 1;
        while (more && n < 8) {
            zmq_msg_init(&f[n]);
            if (zmq_msg_recv(&f[n], r->zap, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&f[n]);
                break;
            }
            more = zmq_msg_more(&f[n]);
            n++;
        }
        if (n == 0)
            return;
        /* version, request id, domain, address, identity, mechanism, credentials */
        int ok = 0, wellformed = n == 7 && !more && zmq_msg_size(&f[5]) == 5 &&
                                 !memcmp(zmq_msg_data(&f[5]), "CURVE", 5) &&
                                 zmq_msg_size(&f[6]) == 32;
        char addr[64] = "?";
        if (n >= 4) {
            size_t al = zmq_msg_size(&f[3]) < sizeof addr - 1 ? zmq_msg_size(&f[3])
                                                              : sizeof addr - 1;
            memcpy(addr, zmq_msg_data(&f[3]), al);
            addr[al] = '\0';
        }
        if (wellformed)
            ok = allowed(r, zmq_msg_data(&f[6]));
        if (wellformed && !ok) {
            char key[41] = "";
            zmq_z85_encode(key, zmq_msg_data(&f[6]), 32);
            if (r->from_secret)
                drop_warn(r, addr,
                          "refused a peer from %s: it knows the master's public key but not "
                          "the cluster secret",
                          addr);
            else
                drop_warn(r, addr,
                          "refused a worker from %s: its public key %s is not in --worker-keys",
                          addr, key);
        }
        if (n >= 2 && !more) {
            static const char *const status[2] = {"400", "200"};
            static const char *const text[2] = {"key not allowed", "OK"};
            zmq_send(r->zap, "1.0", 3, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(r->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]),
                     ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(r->zap, status[ok], 3, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(r->zap, text[ok], strlen(text[ok]), ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(r->zap, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(r->zap, "", 0, ZMQ_DONTWAIT);
        }
        for (int i = 0; i < n; i++)
            zmq_msg_close(&f[i]);
        if (more) { /* oversize request: drop its tail; REP then expects no answer */
            zmq_msg_t t;
            zmq_msg_init(&t);
            while (zmq_msg_recv(&t, r->zap, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&t)) {
            }
            zmq_msg_close(&t);
        }
    }
}

static int set_key(void *sock, int opt, const char *z85)
{
    return zmq_setsockopt(sock, opt, z85, 40);
}

int hn_rpc_bind(const char *bind_host, unsigned port, const struct hn_rpc_keys *keys,
                struct hn_rpc **out, char *err, size_t errlen)
{
    struct hn_rpc *r = hn_calloc(1, sizeof *r);
    r->watch_fd = -1;
    r->is_router = 1;
    char ep[300];
    if (port)
        snprintf(ep, sizeof ep, "tcp://%s:%u", bind_host, port);
    else
        snprintf(ep, sizeof ep, "tcp://%s:*", bind_host);
    int bad = setup(r, ZMQ_ROUTER);
    if (!bad && keys) {
        /* set before bind: a peer without the master's public key fails the handshake, and one
         * whose key is not allowed is refused by the ZAP handler, before either gets to send
         * a frame the master would have to hold */
        int on = 1;
        r->from_secret = keys->from_secret;
        r->allowed = hn_calloc(keys->n_allowed ? keys->n_allowed : 1, sizeof *r->allowed);
        for (size_t i = 0; i < keys->n_allowed; i++)
            if (zmq_z85_decode(r->allowed[r->n_allowed], keys->allowed[i]))
                r->n_allowed++;
        r->zap = zmq_socket(r->ctx, ZMQ_REP);
        bad = !r->zap || zmq_bind(r->zap, ZAP_ENDPOINT) != 0 ||
              zmq_setsockopt(r->sock, ZMQ_ZAP_DOMAIN, "hornet", 6) != 0 ||
              zmq_setsockopt(r->sock, ZMQ_CURVE_SERVER, &on, sizeof on) != 0 ||
              set_key(r->sock, ZMQ_CURVE_SECRETKEY, keys->server_secret) != 0;
        if (bad) {
            snprintf(err, errlen, "cannot set up CURVE security: %s", zmq_strerror(zmq_errno()));
            hn_rpc_destroy(&r);
            return HN_EIO;
        }
    }
    if (bad || zmq_bind(r->sock, ep) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", ep, zmq_strerror(zmq_errno()));
        hn_rpc_destroy(&r);
        return HN_EIO;
    }
    /* a worker whose connection closes (killed, its host gone) is known at once, not after the
     * heartbeat timeout: the monitor reports the closed descriptor, and every message says
     * which descriptor it came from (ZMQ_SRCFD) */
    char mon[64];
    snprintf(mon, sizeof mon, "inproc://hornet-monitor-%p", (void *)r);
    if (zmq_socket_monitor(r->sock, mon, ZMQ_EVENT_DISCONNECTED) == 0) {
        /* libzmq's I/O thread blocks on a full monitor pipe (and the ROUTER with it): no
         * limit on our side, the loop drains it every turn */
        int unlimited = 0;
        r->monitor = zmq_socket(r->ctx, ZMQ_PAIR);
        if (r->monitor)
            zmq_setsockopt(r->monitor, ZMQ_RCVHWM, &unlimited, sizeof unlimited);
        if (r->monitor && zmq_connect(r->monitor, mon) != 0) {
            zmq_close(r->monitor);
            r->monitor = NULL;
        }
    }
    char last[300];
    size_t len = sizeof last;
    r->port = port;
    if (zmq_getsockopt(r->sock, ZMQ_LAST_ENDPOINT, last, &len) == 0) {
        const char *colon = strrchr(last, ':');
        if (colon)
            r->port = (unsigned)atoi(colon + 1);
    }
    *out = r;
    return 0;
}

int hn_rpc_connect(const char *host, unsigned port, const char *node_id,
                   const struct hn_rpc_keys *keys, struct hn_rpc **out, char *err,
                   size_t errlen)
{
    struct hn_rpc *r = hn_calloc(1, sizeof *r);
    r->watch_fd = -1;
    char ep[300];
    int v6 = strchr(host, ':') != NULL;
    snprintf(ep, sizeof ep, v6 ? "tcp://[%s]:%u" : "tcp://%s:%u", host, port);
    int bad = setup(r, ZMQ_DEALER);
    if (!bad && keys)
        bad = set_key(r->sock, ZMQ_CURVE_SERVERKEY, keys->server_public) != 0 ||
              set_key(r->sock, ZMQ_CURVE_PUBLICKEY, keys->client_public) != 0 ||
              set_key(r->sock, ZMQ_CURVE_SECRETKEY, keys->client_secret) != 0;
    if (!bad && keys) {
        /* a refused key is said at once rather than as a master that never answers */
        char mon[64];
        snprintf(mon, sizeof mon, "inproc://hornet-monitor-%p", (void *)r);
        if (zmq_socket_monitor(r->sock, mon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) == 0) {
            r->monitor = zmq_socket(r->ctx, ZMQ_PAIR);
            if (r->monitor && zmq_connect(r->monitor, mon) != 0) {
                zmq_close(r->monitor);
                r->monitor = NULL;
            }
        }
    }
    if (bad ||
        zmq_setsockopt(r->sock, ZMQ_ROUTING_ID, node_id, strlen(node_id)) != 0 ||
        zmq_connect(r->sock, ep) != 0) {
        snprintf(err, errlen, "cannot connect to master at %s: %s", ep,
                 zmq_strerror(zmq_errno()));
        hn_rpc_destroy(&r);
        return HN_EIO;
    }
    r->port = port;
    *out = r;
    return 0;
}

void hn_rpc_destroy(struct hn_rpc **rp)
{
    struct hn_rpc *r = rp ? *rp : NULL;
    if (!r)
        return;
    if (r->monitor) {
        zmq_socket_monitor(r->sock, NULL, 0);
        zmq_close(r->monitor);
    }
    if (r->sock)
        zmq_close(r->sock);
    if (r->zap)
        zmq_close(r->zap);
    free(r->allowed);
    if (r->ctx)
        zmq_ctx_term(r->ctx);
    free(r);
    *rp = NULL;
}

unsigned hn_rpc_endpoint_port(const struct hn_rpc *r) { return r->port; }

int hn_rpc_fd(const struct hn_rpc *r)
{
    int fd = -1;
    size_t len = sizeof fd;
    zmq_getsockopt(r->sock, ZMQ_FD, &fd, &len);
    return fd;
}

void hn_rpc_watch_fd(struct hn_rpc *r, int fd) { r->watch_fd = fd; }

int hn_rpc_poll(struct hn_rpc *r, long timeout_ms)
{
    zmq_pollitem_t it[3] = {{.socket = r->sock, .events = ZMQ_POLLIN},
                            {.socket = r->zap, .events = ZMQ_POLLIN},
                            {.fd = r->watch_fd, .events = ZMQ_POLLIN}};
    uint64_t until = hn_mono_us() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000;
    if (!r->zap) /* the watched descriptor takes the ZAP socket's place */
        it[1] = it[2];
    int n_items = 1 + (r->zap != NULL) + (r->watch_fd >= 0);
    for (;;) {
        int n = zmq_poll(it, n_items, timeout_ms);
        if (n <= 0)
            return 0;
        if (r->zap && (it[1].revents & ZMQ_POLLIN))
            serve_zap(r);
        if (r->watch_fd >= 0 && (it[n_items - 1].revents & ZMQ_POLLIN))
            return 0; /* the caller serves that descriptor */
        if (it[0].revents & ZMQ_POLLIN)
            return 1;
        uint64_t now = hn_mono_us();
        if (now >= until)
            return 0;
        timeout_ms = (long)((until - now + 999) / 1000);
    }
}

int hn_rpc_send(struct hn_rpc *r, const char *to, const struct hn_msg *m)
{
    char *buf;
    size_t len;
    int rc = hn_msg_encode(m, &buf, &len);
    if (rc)
        return rc;
    if (r->is_router) {
        hn_assert(to);
        if (zmq_send(r->sock, to, strlen(to), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            int e = zmq_errno();
            free(buf);
            return e == EHOSTUNREACH ? HN_EIO : HN_EAGAIN;
        }
    }
    rc = zmq_send(r->sock, buf, len, ZMQ_DONTWAIT) < 0 ? HN_EAGAIN : 0;
    free(buf);
    return rc;
}

/* Reads one frame; returns its size, or -1 with errno. */
static int recv_frame(void *sock, zmq_msg_t *f)
{
    zmq_msg_init(f);
    return zmq_msg_recv(f, sock, ZMQ_DONTWAIT);
}

static void drain_rest(void *sock, zmq_msg_t *f)
{
    while (zmq_msg_more(f)) {
        zmq_msg_close(f);
        if (recv_frame(sock, f) < 0)
            break;
    }
    zmq_msg_close(f);
}

int hn_rpc_recv(struct hn_rpc *r, struct hn_msg *m)
{
    zmq_msg_t f;
    char from[HN_NODE_ID_MAX] = "";
    if (recv_frame(r->sock, &f) < 0) {
        zmq_msg_close(&f);
        return HN_EAGAIN;
    }
    if (r->is_router) {
        size_t n = zmq_msg_size(&f);
        if (!zmq_msg_more(&f) || n == 0 || n >= sizeof from) {
            drain_rest(r->sock, &f);
            drop_warn(r, "", "dropped a message with a malformed routing id");
            return HN_EINVAL;
        }
        memcpy(from, zmq_msg_data(&f), n);
        from[n] = '\0';
        zmq_msg_close(&f);
        if (recv_frame(r->sock, &f) < 0) {
            zmq_msg_close(&f);
            return HN_EINVAL;
        }
    }
    if (zmq_msg_more(&f)) {
        drain_rest(r->sock, &f);
        drop_warn(r, from, "dropped a multi-frame message%s%s", *from ? " from " : "", from);
        return HN_EINVAL;
    }
    r->last_fd = zmq_msg_get(&f, ZMQ_SRCFD);
    char err[256];
    int rc = hn_msg_decode(zmq_msg_data(&f), zmq_msg_size(&f), m, err, sizeof err);
    zmq_msg_close(&f);
    if (rc) {
        drop_warn(r, from, "dropped a message%s%s: %s", *from ? " from " : "", from, err);
        return HN_EINVAL;
    }
    if (r->is_router && strcmp(from, m->node_id) != 0) {
        drop_warn(r, from, "dropped a %s message whose node id '%s' differs from its sender '%s'",
                hn_msg_type_name(m->type), m->node_id, from);
        hn_msg_fini(m);
        return HN_EINVAL;
    }
    return 0;
}

int hn_rpc_last_fd(const struct hn_rpc *r) { return r->last_fd; }

int hn_rpc_closed_fd(struct hn_rpc *r)
{
    if (!r->monitor)
        return -1;
    for (int events = 0;;) {
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, r->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return -1;
        }
        int more = zmq_msg_more(&ev);
        uint16_t id = 0;
        int32_t value = -1;
        if (zmq_msg_size(&ev) >= 6) {
            memcpy(&id, zmq_msg_data(&ev), 2);
            memcpy(&value, (char *)zmq_msg_data(&ev) + 2, 4);
        }
        zmq_msg_close(&ev);
        if (more) { /* the endpoint frame */
            zmq_msg_init(&addr);
            zmq_msg_recv(&addr, r->monitor, ZMQ_DONTWAIT);
            zmq_msg_close(&addr);
        }
        if (id == ZMQ_EVENT_DISCONNECTED && value >= 0)
            return value;
        if (++events == 100000)
            return -1; /* the rest at the next turn: the loop's timers run meanwhile */
    }
}

int hn_rpc_refused(struct hn_rpc *r, char *out, size_t outlen)
{
    if (!r || !r->monitor || r->is_router)
        return 0;
    int refused = 0;
    for (;;) {
        zmq_msg_t ev;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, r->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return refused;
        }
        int more = zmq_msg_more(&ev);
        uint16_t id = 0;
        int32_t value = 0;
        if (zmq_msg_size(&ev) >= 6) {
            memcpy(&id, zmq_msg_data(&ev), 2);
            memcpy(&value, (char *)zmq_msg_data(&ev) + 2, 4);
        }
        zmq_msg_close(&ev);
        if (more) {
            zmq_msg_t addr;
            zmq_msg_init(&addr);
            zmq_msg_recv(&addr, r->monitor, ZMQ_DONTWAIT);
            zmq_msg_close(&addr);
        }
        if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            refused = 1;
            snprintf(out, outlen,
                     "the master did not accept this worker's key (authentication status %d); "
                     "add its public key to the master's --worker-keys",
                     (int)value);
        }
    }
}
