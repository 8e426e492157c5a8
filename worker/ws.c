#include "worker/ws.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/template.h"
#include "common/util.h"

struct msg {
    struct msg *next;
    size_t len;
    int binary;
    unsigned char data[]; /* LWS_PRE bytes of headroom, then the payload */
};

struct hn_ws_conn {
    struct hn_ws *w;
    struct lws *wsi;
    const struct hn_ws_events *ev;
    void *arg;
    char *headers;
    size_t max_message;
    struct hn_buf rx;
    int rx_too_big;
    struct msg *head, *tail;
    int opened;
    int close_code;   /* to send, when closing from our side */
    int close_sent;
    int peer_code;    /* what the peer's close frame said */
    int by_server;
    int reported;
    char err[128];
    lws_retry_bo_t idle; /* the ping policy; lws keeps a pointer for the connection's life */
};

struct hn_ws {
    struct lws_context *ctx;
    size_t n_open;
};

static void report(struct hn_ws_conn *c, int code, const char *error)
{
    if (c->reported)
        return;
    c->reported = 1;
    if (c->ev && c->ev->on_close)
        c->ev->on_close(c->arg, c->opened, code, c->by_server, error);
}

static void free_conn(struct hn_ws_conn *c)
{
    while (c->head) {
        struct msg *m = c->head;
        c->head = m->next;
        free(m);
    }
    hn_buf_fini(&c->rx);
    free(c->headers);
    free(c);
}

static const char *connect_error(struct hn_ws_conn *c, struct lws *wsi, const char *in)
{
    int status = wsi ? (int)lws_http_client_http_response(wsi) : 0;
    if (status > 0 && status != 101) {
        snprintf(c->err, sizeof c->err, "HTTP %d on upgrade", status);
        return c->err;
    }
    if (!in)
        return "Connection failed";
    if (strstr(in, "111") || strstr(in, "refused"))
        return "Connection refused";
    /* what libwebsockets 4.1 says when the TCP connect is refused (or the peer hangs up before
     * answering the upgrade): it does not pass the errno on */
    if (strstr(in, "closed before established"))
        return "Connection refused or closed before the handshake";
    if (strstr(in, "imeout") || strstr(in, "timed out"))
        return c->err[0] ? c->err : "Timeout";
    if (strstr(in, "101") || strstr(in, "upgrade"))
        return "Upgrade refused";
    snprintf(c->err, sizeof c->err, "Connection failed: %.80s", in);
    return c->err;
}

static int on_lws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    struct hn_ws_conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        if (!c || !c->headers)
            break;
        unsigned char **p = in, *end = *p + len;
        char *line = c->headers;
        while (*line) {
            char *nl = strchr(line, '\n'), *colon = strchr(line, ':');
            if (!nl)
                break;
            if (colon && colon < nl) {
                char name[256];
                size_t nlen = (size_t)(colon - line) + 1;
                if (nlen < sizeof name) {
                    memcpy(name, line, nlen);
                    name[nlen] = '\0';
                    const char *v = colon + 1;
                    while (*v == ' ')
                        v++;
                    if (lws_add_http_header_by_name(wsi, (unsigned char *)name,
                                                    (const unsigned char *)v, (int)(nl - v), p,
                                                    end))
                        return -1;
                }
            }
            line = nl + 1;
        }
        break;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!c)
            break;
        c->opened = 1;
        c->w->n_open++;
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        if (c->ev && c->ev->on_open)
            c->ev->on_open(c->arg);
        if (c->head || c->close_code)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (!c)
            break;
        report(c, 1006, connect_error(c, wsi, in));
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!c)
            break;
        if (c->rx_too_big) {
            /* the rest of an oversize message, or anything after it: dropped while our close
             * frame (1009) waits for the peer's answer */
            break;
        }
        if (c->rx.len + len > c->max_message) {
            /* Oversize: refuse it as RFC 6455 says (1009) and count it. Returning -1 here,
             * mid-frame, corrupts libwebsockets 4.1's state (it crashed on messages a few KiB
             * over the cap), so drop the data and send the close frame from WRITEABLE, like
             * any close of ours. */
            c->rx_too_big = 1;
            hn_buf_reset(&c->rx);
            if (!c->close_sent)
                c->close_code = 1009;
            snprintf(c->err, sizeof c->err, "message larger than %zu bytes", c->max_message);
            lws_callback_on_writable(wsi);
            break;
        }
        hn_buf_append(&c->rx, in, len);
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            if (c->ev && c->ev->on_message)
                c->ev->on_message(c->arg, hn_buf_cstr(&c->rx), c->rx.len,
                                  lws_frame_is_binary(wsi));
            hn_buf_reset(&c->rx);
            if (c->rx.cap > 4096) { /* an idle session does not keep a large message's room */
                size_t max = c->rx.max;
                hn_buf_fini(&c->rx);
                hn_buf_init(&c->rx, max);
            }
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        if (!c)
            break;
        struct msg *m = c->head;
        if (m) {
            c->head = m->next;
            if (!c->head)
                c->tail = NULL;
            int n = lws_write(wsi, m->data + LWS_PRE, m->len,
                              m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
            free(m);
            if (n < 0)
                return -1;
            if (c->head || c->close_code)
                lws_callback_on_writable(wsi);
            break;
        }
        if (c->close_code && !c->close_sent) {
            /* send the close frame ourselves and wait for the peer's answer (RFC 6455's
             * closing handshake); libwebsockets 4.1 drops the TCP connection without one when
             * a callback returns -1 */
            unsigned char frame[LWS_PRE + 2];
            frame[LWS_PRE] = (unsigned char)(c->close_code >> 8);
            frame[LWS_PRE + 1] = (unsigned char)(c->close_code & 0xff);
            c->close_sent = 1;
            if (lws_write(wsi, frame + LWS_PRE, 2, (enum lws_write_protocol)4 /* close */) < 0)
                return -1;
            lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, 5);
        }
        break;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (!c)
            break;
        c->by_server = 1;
        if (len >= 2) {
            const unsigned char *b = in;
            c->peer_code = (b[0] << 8) | b[1];
        } else {
            c->peer_code = 1005;
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (!c)
            break;
        if (c->opened)
            c->w->n_open--;
        {
            int code = c->by_server ? c->peer_code : c->close_code ? c->close_code : 1006;
            if (!c->by_server && !c->close_code)
                c->by_server = 1; /* the connection dropped under us */
            report(c, code, c->rx_too_big ? c->err : NULL);
        }
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        if (c) {
            if (!c->reported)
                report(c, 1006, c->opened ? NULL : "Connection failed");
            free_conn(c);
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols k_protocols[] = {
    /* 1 KiB of receive buffer per session (lws allocates it per connection): a larger
     * message arrives in fragments, gathered in the session's own rx buffer */
    {"hornet-ws", on_lws, 0, 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

struct hn_ws *hn_ws_new(uv_loop_t *loop)
{
    lws_set_log_level(LLL_ERR, NULL);
    struct hn_ws *w = hn_calloc(1, sizeof *w);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    void *loops[1] = {loop};
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = k_protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    info.gid = -1;
    info.uid = -1;
    w->ctx = lws_create_context(&info);
    if (!w->ctx) {
        hn_error("libwebsockets could not start on the worker's loop (is libwebsockets-evlib-uv "
                 "installed?)");
        free(w);
        return NULL;
    }
    return w;
}

void hn_ws_destroy(struct hn_ws **wp)
{
    struct hn_ws *w = wp ? *wp : NULL;
    if (!w)
        return;
    lws_context_destroy(w->ctx);
    free(w);
    *wp = NULL;
}

struct hn_ws_conn *hn_ws_connect(struct hn_ws *w, const char *url, const char *headers,
                                 const char *subprotocol, size_t max_message_bytes,
                                 int64_t connect_timeout_ms, int64_t ping_interval_ms,
                                 const struct hn_ws_events *ev, void *arg, char *err,
                                 size_t errlen)
{
    int tls = !strncmp(url, "wss://", 6);
    if (!tls && strncmp(url, "ws://", 5)) {
        snprintf(err, errlen, "'%s' is not a ws:// or wss:// URL", url);
        return NULL;
    }
    const char *hp = url + (tls ? 6 : 5);
    size_t hl = strcspn(hp, "/?");
    char host[256];
    if (hl == 0 || hl >= sizeof host) {
        snprintf(err, errlen, "'%s' has no host", url);
        return NULL;
    }
    memcpy(host, hp, hl);
    host[hl] = '\0';
    int port = tls ? 443 : 80;
    char *colon = strrchr(host, ':');
    if (colon && !strchr(colon, ']')) {
        *colon = '\0';
        port = atoi(colon + 1);
    }
    const char *path = hp[hl] ? hp + hl : "/";
    struct hn_ws_conn *c = hn_calloc(1, sizeof *c);
    c->w = w;
    c->ev = ev;
    c->arg = arg;
    c->headers = headers && *headers ? hn_strdup(headers) : NULL;
    c->max_message = max_message_bytes;
    hn_buf_init(&c->rx, max_message_bytes + 1);
    snprintf(c->err, sizeof c->err, "Timeout after %lld ms", (long long)connect_timeout_ms);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = w->ctx;
    ci.address = host;
    ci.port = port;
    ci.path = path;
    ci.host = host;
    ci.origin = host;
    ci.protocol = subprotocol;
    ci.local_protocol_name = "hornet-ws";
    ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
    ci.userdata = c;
    ci.pwsi = &c->wsi;
    ci.ietf_version_or_minus_one = -1;
    if (ping_interval_ms > 0) {
        int64_t secs = (ping_interval_ms + 999) / 1000;
        if (secs > 20000)
            secs = 20000;
        c->idle.secs_since_valid_ping = (uint16_t)secs;
        c->idle.secs_since_valid_hangup = (uint16_t)(secs * 3);
        ci.retry_and_idle_policy = &c->idle;
    }
    if (!lws_client_connect_via_info(&ci)) {
        /* lws has already reported CONNECTION_ERROR and freed c through WSI_DESTROY, or never
         * created a wsi: either way c must not be used; report is done in the callback */
        return NULL;
    }
    int secs = (int)((connect_timeout_ms + 999) / 1000);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, secs > 0 ? secs : 1);
    return c;
}

void hn_ws_send(struct hn_ws_conn *c, const char *data, size_t len, int binary)
{
    struct msg *m = hn_malloc(sizeof *m + LWS_PRE + len);
    m->next = NULL;
    m->len = len;
    m->binary = binary;
    memcpy(m->data + LWS_PRE, data, len);
    if (c->tail)
        c->tail->next = m;
    else
        c->head = m;
    c->tail = m;
    if (c->opened)
        lws_callback_on_writable(c->wsi);
}

void hn_ws_close(struct hn_ws_conn *c, int code)
{
    if (!c->rx_too_big) /* an oversize message already chose 1009 */
        c->close_code = code;
    if (c->opened)
        lws_callback_on_writable(c->wsi);
    else
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void hn_ws_abandon(struct hn_ws_conn *c)
{
    c->ev = NULL;
    c->arg = NULL;
    hn_ws_close(c, 1000);
}

size_t hn_ws_open_connections(const struct hn_ws *w) { return w->n_open; }
