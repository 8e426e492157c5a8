/* hornet-demo-target: a small HTTP/1.1 server on libuv standing in for the seed's AIaaS platform.
 * It injects latency (--latency-ms, --jitter-ms) and failures (--fail-ratio, --fail-path), can
 * hang (--hang-path), reset the connection (--reset-path) or send a malformed reply (--lie-path
 * PATH=http09|status9999|bigheader) to exercise client errors, and
 * counts every response it sends per path and per status, served as JSON at GET /__counts so tests can reconcile hornet's numbers with its own.
 * Endpoints: /healthz, /chat/messages, /analytics/kpi, /billing/usage, /auth/status,
 * /auth/login (issues tok-N tokens), /billing/usage/track, /billing/invoices (+--invoice-ms),
 * /billing/enforce (429 over 1000 requested_units), /billing/webhooks. With --require-auth,
 * /auth/status and every /billing/ path answer 401 without a token this target issued.
 * /ws/chat upgrades to a WebSocket that answers each message with an agent response after
 * --latency-ms, preceded by --ws-chunks partial messages (as streaming AI backends do); it can
 * close with 1011 after --ws-close-after replies, or never answer (--ws-no-reply).
 * Listens on loopback by default. Single-threaded; keep-alive and pipelining supported. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

#include <libwebsockets.h>

#include "common/util.h"

#define MAX_PATHS 16
#define REQ_MAX (64 * 1024)
#define N_ROUTES 12

struct route {
    const char *path;
    const char *method; /* NULL = GET */
    const char *body;
    uint64_t served;
};

static struct route g_routes[N_ROUTES] = {
    {"/healthz", NULL, "{\"status\":\"ok\"}", 0},
    {"/chat/messages", "POST", NULL, 0}, /* built per request */
    {"/analytics/kpi", NULL,
     "{\"active_users\":1284,\"messages_today\":56310,\"avg_response_ms\":231,"
     "\"satisfaction\":4.6}", 0},
    {"/billing/usage", NULL,
     "{\"tenant_id\":\"tenant_001\",\"plan\":\"pro\",\"messages\":1200,\"quota\":10000}", 0},
    {"/auth/status", NULL, "{\"authenticated\":true,\"user_id\":\"user_001\"}", 0},
    {"/", NULL, "{\"service\":\"hornet-demo-target\"}", 0},
    {"/auth/login", "POST", NULL, 0},        /* issues a token */
    {"/billing/usage/track", "POST", "{\"recorded\":true}", 0},
    {"/billing/invoices", "POST", NULL, 0},   /* slower: --invoice-ms */
    {"/billing/enforce", "POST", NULL, 0},    /* 429 over the plan's quota */
    {"/billing/webhooks", "POST", "{\"received\":true}", 0},
    {NULL, NULL, NULL, 0}, /* 404 bucket */
};

static struct {
    const char *host;
    int port;
    const char *port_file;
    uint64_t latency_ms, jitter_ms;
    uint64_t latency_per_conn_ms; /* each other open connection adds this: load-dependent */
    uint64_t open_conns;
    double fail_ratio;
    const char *fail_paths[MAX_PATHS];
    int n_fail_paths;
    const char *hang_paths[MAX_PATHS];
    int n_hang_paths;
    const char *reset_paths[MAX_PATHS];
    int n_reset_paths;
    const char *lie_paths[MAX_PATHS]; /* --lie-path PATH=KIND: a malformed reply, then close */
    const char *lie_kinds[MAX_PATHS];
    int n_lie_paths;
    uint64_t total, by_status[6], conversations, connections, tokens, invoices;
    int require_auth;
    uint64_t ws_chunks, ws_reply_bytes, ws_close_after, ws_connections, ws_messages, ws_replies, ws_normal_closes;
    uint64_t ws_toobig_closes, ws_fragment_bytes;
    int ws_no_reply;
    FILE *request_log; /* --log-requests: "METHOD TARGET" per request, for tests */
    uint64_t invoice_ms;
    struct hn_rng rng;
    uv_loop_t *loop;
} g;

struct conn {
    uv_tcp_t tcp;
    size_t heap_at;   /* 1 + its place in the delay heap; 0: not waiting */
    char buf[REQ_MAX];
    size_t len;
    size_t req_len;   /* bytes of the request being answered */
    int busy;         /* a request is being answered (delayed or hanging) */
    int close_after;  /* Connection: close */
    int closing;
    int pending_closes;
    int route;
    int fail;
    int unauthorized;
    int over_quota;
    uint64_t due_ns; /* uv_hrtime when a delayed answer may go */
    char method[16];
    /* WebSocket mode (after an upgrade on /ws/chat) */
    int ws;
    uint64_t ws_replies;
    int counted;         /* in g.open_conns */
    uint64_t ws_due[64]; /* replies waiting for their delay, oldest first */
    unsigned ws_head, ws_n;
};

static void conn_close(struct conn *c);

/* ---------- delays ----------
 * Injected latency is a floor tests compare percentiles with, so it is kept to the
 * microsecond, not to libuv's millisecond timers (which fire up to a millisecond early or
 * late against a cached loop time): the connections waiting for their due time are a
 * min-heap, and one timerfd, armed with the earliest due time on CLOCK_MONOTONIC (uv_hrtime's
 * clock), wakes the loop through a uv_poll. */
static struct {
    struct conn **v;
    size_t n, cap;
    int fd;
    uv_poll_t poll;
} dh;

static void heap_set(size_t i, struct conn *c)
{
    dh.v[i] = c;
    c->heap_at = i + 1;
}

static void heap_up(size_t i)
{
    struct conn *c = dh.v[i];
    while (i && dh.v[(i - 1) / 2]->due_ns > c->due_ns) {
        heap_set(i, dh.v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(i, c);
}

static void heap_down(size_t i)
{
    struct conn *c = dh.v[i];
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= dh.n)
            break;
        if (k + 1 < dh.n && dh.v[k + 1]->due_ns < dh.v[k]->due_ns)
            k++;
        if (dh.v[k]->due_ns >= c->due_ns)
            break;
        heap_set(i, dh.v[k]);
        i = k;
    }
    heap_set(i, c);
}

static void delay_arm(void)
{
    struct itimerspec its = {0};
    if (dh.n) {
        uint64_t due = dh.v[0]->due_ns ? dh.v[0]->due_ns : 1;
        its.it_value.tv_sec = (time_t)(due / 1000000000u);
        its.it_value.tv_nsec = (long)(due % 1000000000u);
    }
    timerfd_settime(dh.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void delay_cancel(struct conn *c)
{
    if (!c->heap_at)
        return;
    size_t i = c->heap_at - 1;
    c->heap_at = 0;
    struct conn *last = dh.v[--dh.n];
    if (i < dh.n) {
        heap_set(i, last);
        heap_up(i);
        heap_down(last->heap_at - 1);
    }
    if (i == 0)
        delay_arm();
}

/* c is due at c->due_ns (one wait per connection: a new one replaces the old). */
static void delay_until(struct conn *c)
{
    delay_cancel(c);
    if (dh.n == dh.cap) {
        dh.cap = dh.cap ? 2 * dh.cap : 64;
        dh.v = hn_realloc(dh.v, dh.cap * sizeof *dh.v);
    }
    heap_set(dh.n++, c);
    heap_up(dh.n - 1);
    if (dh.v[0] == c)
        delay_arm();
}

static void delay_due(struct conn *c);

static void on_delay_fd(uv_poll_t *h, int status, int events)
{
    (void)h;
    (void)status;
    (void)events;
    uint64_t expirations;
    if (read(dh.fd, &expirations, sizeof expirations) < 0) {
        /* not yet due (a re-arm raced the wake-up): nothing to read */
    }
    uint64_t now = uv_hrtime();
    while (dh.n && dh.v[0]->due_ns <= now) {
        struct conn *c = dh.v[0];
        delay_cancel(c);
        delay_due(c);
    }
    delay_arm();
}

static int delay_init(void)
{
    dh.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (dh.fd < 0 || uv_poll_init(g.loop, &dh.poll, dh.fd) ||
        uv_poll_start(&dh.poll, UV_READABLE, on_delay_fd))
        return -1;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->pending_closes == 0) {
        if (c->counted)
            g.open_conns--;
        free(c);
    }
}

static void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->pending_closes = 1;
    delay_cancel(c);
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

struct wreq {
    uv_write_t req;
    struct conn *c;
    int close;
    int ws;
    int reset; /* after the write: an abortive close (RST) */
    char data[];
};

static void process(struct conn *c);

static void on_written(uv_write_t *w, int status)
{
    struct wreq *r = (struct wreq *)w;
    struct conn *c = r->c;
    int close = r->close, ws = r->ws, reset = r->reset;
    free(r);
    if (c->closing)
        return;
    if (reset && status >= 0) { /* the client sees "Connection reset by peer" mid-response */
        c->closing = 1;
        c->pending_closes = 1;
        delay_cancel(c);
        uv_tcp_close_reset(&c->tcp, on_closed);
        return;
    }
    if (status < 0 || close) {
        conn_close(c);
        return;
    }
    if (!ws)
        process(c); /* a pipelined request may already be buffered */
}

static void send_response(struct conn *c, int status, const char *body, int close)
{
    const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" :
                         status == 405 ? "Method Not Allowed" : status == 431 ?
                         "Request Header Fields Too Large" : status == 400 ? "Bad Request" :
                         "Internal Server Error";
    size_t blen = strlen(body);
    struct wreq *r = hn_malloc(sizeof *r + blen + 256);
    r->reset = 0;
    int n = snprintf(r->data, blen + 256,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "%s\r\n%s",
                     status, reason, blen, close ? "Connection: close\r\n" : "", body);
    r->c = c;
    r->close = close;
    r->ws = 0;
    uv_buf_t b = uv_buf_init(r->data, (unsigned)n);
    if (uv_write(&r->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(r);
        conn_close(c);
    }
}

static int path_in(const char *path, size_t plen, const char *const *list, int n)
{
    for (int i = 0; i < n; i++)
        if (strlen(list[i]) == plen && !memcmp(list[i], path, plen))
            return 1;
    return 0;
}

/* --lie-path: a reply a client must refuse, then the connection closes. Kinds: http09 (a body
 * with no status line), status9999, bigheader (a 1 MiB header), endless (65 536 header lines,
 * never the blank line), longbody (5 bytes past Content-Length), badchunk (a chunk size that
 * is not hex), garbage (binary bytes), midclose (half the body, then the close), midreset
 * (half the body, then a reset). */
static void send_lie(struct conn *c, const char *kind)
{
    size_t cap = (1u << 20) + 256, n;
    struct wreq *r = hn_malloc(sizeof *r + cap);
    if (!strcmp(kind, "http09")) {
        n = (size_t)snprintf(r->data, cap, "{\"no\":\"status line\"}\n");
    } else if (!strcmp(kind, "status9999")) {
        n = (size_t)snprintf(r->data, cap, "HTTP/1.1 9999 Odd\r\nContent-Length: 0\r\n\r\n");
    } else if (!strcmp(kind, "endless")) {
        n = (size_t)snprintf(r->data, cap, "HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < 65536 && n + 64 < cap; i++)
            n += (size_t)snprintf(r->data + n, cap - n, "X-Line-%d: 1\r\n", i);
    } else if (!strcmp(kind, "longbody")) {
        n = (size_t)snprintf(r->data, cap, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA");
    } else if (!strcmp(kind, "badchunk")) {
        n = (size_t)snprintf(r->data, cap, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                           "zz\r\nhello\r\n0\r\n\r\n");
    } else if (!strcmp(kind, "garbage")) {
        for (n = 0; n < 512; n++)
            r->data[n] = (char)(n * 131 + 7);
    } else if (!strcmp(kind, "midclose") || !strcmp(kind, "midreset")) {
        n = (size_t)snprintf(r->data, cap, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                                           "0123456789");
        r->reset = !strcmp(kind, "midreset");
    } else {
        n = (size_t)snprintf(r->data, cap, "HTTP/1.1 200 OK\r\nX-Big: ");
        memset(r->data + n, 'a', 1u << 20);
        n += 1u << 20;
        n += (size_t)snprintf(r->data + n, cap - n, "\r\nContent-Length: 0\r\n\r\n");
    }
    r->c = c;
    r->close = 1;
    r->ws = 0;
    if (strcmp(kind, "midreset"))
        r->reset = 0;
    uv_buf_t b = uv_buf_init(r->data, (unsigned)n);
    if (uv_write(&r->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(r);
        conn_close(c);
    }
}

static void count(int status, int route)
{
    g.total++;
    g.by_status[status / 100 < 6 ? status / 100 : 5]++;
    g_routes[route].served++;
}

static void counts_json(char *out, size_t n)
{
    size_t off = (size_t)snprintf(out, n, "{\"total\":%llu,\"connections\":%llu,\"paths\":{",
                                  (unsigned long long)g.total,
                                  (unsigned long long)g.connections);
    for (int i = 0; i < N_ROUTES && off < n; i++)
        off += (size_t)snprintf(out + off, n - off, "%s\"%s\":%llu", i ? "," : "",
                                g_routes[i].path ? g_routes[i].path : "other",
                                (unsigned long long)g_routes[i].served);
    if (off < n)
        snprintf(out + off, n - off,
                 "},\"status\":{\"2xx\":%llu,\"4xx\":%llu,\"5xx\":%llu},"
                 "\"ws_connections\":%llu,\"ws_messages\":%llu,\"ws_replies\":%llu,"
                 "\"ws_normal_closes\":%llu,\"ws_toobig_closes\":%llu}",
                 (unsigned long long)g.by_status[2], (unsigned long long)g.by_status[4],
                 (unsigned long long)g.by_status[5], (unsigned long long)g.ws_connections,
                 (unsigned long long)g.ws_messages, (unsigned long long)g.ws_replies,
                 (unsigned long long)g.ws_normal_closes,
                 (unsigned long long)g.ws_toobig_closes);
}

static void respond(struct conn *c)
{
    struct route *rt = &g_routes[c->route];
    int status = 200;
    char body[512];
    const char *b = rt->body;
    if (!rt->path) {
        status = 404;
        b = "{\"error\":\"not found\"}";
    } else if (strcmp(c->method, rt->method ? rt->method : "GET") &&
               !(!rt->method && !strcmp(c->method, "HEAD"))) {
        status = 405;
        b = "{\"error\":\"method not allowed\"}";
    } else if (c->unauthorized) {
        status = 401;
        b = "{\"error\":\"missing or unknown bearer token\"}";
    } else if (c->fail) {
        status = 500;
        b = "{\"error\":\"injected failure\"}";
    } else if (c->over_quota) {
        status = 429;
        b = "{\"error\":\"plan quota exceeded\",\"plan\":\"pro\",\"quota\":1000}";
    } else if (!strcmp(rt->path, "/auth/login")) {
        snprintf(body, sizeof body, "{\"token\":\"tok-%llu\",\"expires_in\":3600}",
                 (unsigned long long)++g.tokens);
        b = body;
    } else if (!strcmp(rt->path, "/billing/invoices")) {
        snprintf(body, sizeof body, "{\"invoice_id\":\"inv-%llu\",\"status\":\"generated\"}",
                 (unsigned long long)++g.invoices);
        b = body;
    } else if (!strcmp(rt->path, "/billing/enforce")) {
        b = "{\"allowed\":true,\"plan\":\"pro\",\"quota\":1000}";
    } else if (!b) {
        snprintf(body, sizeof body,
                 "{\"reply\":\"Thanks for your message. An agent will follow up shortly.\","
                 "\"conversation_id\":\"conv-%llu\"}",
                 (unsigned long long)++g.conversations);
        b = body;
    }
    count(status, c->route);
    c->busy = 0;
    size_t used = c->req_len;
    memmove(c->buf, c->buf + used, c->len - used);
    c->len -= used;
    send_response(c, status, b, c->close_after);
}

static void ws_due_replies(struct conn *c);

/* A delayed answer (or the oldest WebSocket reply) is due. */
static void delay_due(struct conn *c)
{
    if (c->ws)
        ws_due_replies(c);
    else
        respond(c);
}

static const char *find_header(const char *hdrs, size_t len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = hdrs, *end = hdrs + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        if ((size_t)(eol - p) > nl + 1 && !strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = eol + 1;
    }
    return NULL;
}


/* ---------- WebSocket (RFC 6455) on /ws/chat ---------- */

static void send_raw(struct conn *c, const char *data, size_t len, int close)
{
    struct wreq *r = hn_malloc(sizeof *r + len);
    r->reset = 0;
    memcpy(r->data, data, len);
    r->c = c;
    r->close = close;
    r->ws = 1;
    uv_buf_t b = uv_buf_init(r->data, (unsigned)len);
    if (uv_write(&r->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(r);
        conn_close(c);
    }
}

static void ws_frame_fin(struct conn *c, int fin, int opcode, const char *payload, size_t len,
                         int close)
{
    char hdr[10];
    size_t h = 0;
    hdr[h++] = (char)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        hdr[h++] = (char)len;
    } else if (len < 65536) {
        hdr[h++] = 126;
        hdr[h++] = (char)(len >> 8);
        hdr[h++] = (char)len;
    } else {
        hdr[h++] = 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (char)((uint64_t)len >> (8 * i));
    }
    char *frame = hn_malloc(h + len);
    memcpy(frame, hdr, h);
    memcpy(frame + h, payload, len);
    send_raw(c, frame, h + len, close);
    free(frame);
}

static void ws_frame(struct conn *c, int opcode, const char *payload, size_t len, int close)
{
    ws_frame_fin(c, 1, opcode, payload, len, close);
}

static void ws_close_with(struct conn *c, int code)
{
    char p[2] = {(char)(code >> 8), (char)code};
    ws_frame(c, 8, p, 2, 1);
    c->ws = 2; /* closing: ignore further input */
}

static void ws_reply(struct conn *c)
{
    char body[256];
    for (uint64_t i = 0; i < g.ws_chunks; i++) {
        int n = snprintf(body, sizeof body, "{\"type\":\"partial\",\"seq\":%llu,\"text\":\"...\"}",
                         (unsigned long long)i);
        ws_frame(c, 1, body, (size_t)n, 0);
    }
    c->ws_replies++;
    g.ws_replies++;
    int n = snprintf(body, sizeof body,
                     "{\"type\":\"agent_response\",\"agent\":\"support\",\"text\":\"An agent will "
                     "help you with that.\",\"reply\":%llu",
                     (unsigned long long)c->ws_replies);
    /* --ws-reply-bytes: pad the answer to that size (oversize-message tests) */
    size_t want = g.ws_reply_bytes > (uint64_t)n + 12 ? (size_t)g.ws_reply_bytes : (size_t)n + 1;
    char *msg = hn_malloc(want + 1);
    memcpy(msg, body, (size_t)n);
    size_t len = (size_t)n;
    if (want > len + 1) {
        memcpy(msg + len, ",\"pad\":\"", 8);
        len += 8;
        while (len < want - 2)
            msg[len++] = 'x';
        msg[len++] = '"';
    }
    msg[len++] = '}';
    if (g.ws_fragment_bytes && len > g.ws_fragment_bytes) {
        /* --ws-fragment-bytes: the answer as a text frame and continuation frames */
        size_t off = 0;
        while (off < len) {
            size_t n2 = len - off < g.ws_fragment_bytes ? len - off : (size_t)g.ws_fragment_bytes;
            ws_frame_fin(c, off + n2 == len, off ? 0 : 1, msg + off, n2, 0);
            off += n2;
        }
    } else {
        ws_frame(c, 1, msg, len, 0);
    }
    free(msg);
    if (g.ws_close_after && c->ws_replies >= g.ws_close_after)
        ws_close_with(c, 1011);
}

static void ws_arm(struct conn *c);

static void ws_due_replies(struct conn *c)
{
    uint64_t now = uv_hrtime();
    while (c->ws == 1 && c->ws_n && c->ws_due[c->ws_head] <= now) {
        c->ws_head = (c->ws_head + 1) % 64;
        c->ws_n--;
        ws_reply(c);
    }
    ws_arm(c);
}

static void ws_arm(struct conn *c)
{
    if (c->ws != 1 || !c->ws_n || c->closing)
        return;
    c->due_ns = c->ws_due[c->ws_head];
    delay_until(c);
}

static void ws_message(struct conn *c)
{
    g.ws_messages++;
    if (g.ws_no_reply)
        return;
    if (c->ws_n == 64) { /* a client flooding faster than we answer: drop the oldest */
        c->ws_head = (c->ws_head + 1) % 64;
        c->ws_n--;
    }
    c->ws_due[(c->ws_head + c->ws_n) % 64] = uv_hrtime() + g.latency_ms * 1000000u;
    c->ws_n++;
    if (c->ws_n == 1)
        ws_arm(c);
}

/* Parses the complete frames in the buffer. Client frames must be masked. */
static void ws_process(struct conn *c)
{
    for (;;) {
        if (c->ws != 1 || c->len < 2)
            return;
        unsigned char *b = (unsigned char *)c->buf;
        int fin = b[0] & 0x80, op = b[0] & 0x0f, masked = b[1] & 0x80;
        uint64_t len = b[1] & 0x7f;
        size_t h = 2;
        if (len == 126) {
            if (c->len < 4)
                return;
            len = ((uint64_t)b[2] << 8) | b[3];
            h = 4;
        } else if (len == 127) {
            if (c->len < 10)
                return;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = (len << 8) | b[2 + i];
            h = 10;
        }
        if (!masked) {
            ws_close_with(c, 1002);
            return;
        }
        if (len > REQ_MAX - 14) {
            ws_close_with(c, 1009);
            return;
        }
        if (c->len < h + 4 + len)
            return;
        unsigned char *mask = b + h, *pl = b + h + 4;
        for (uint64_t i = 0; i < len; i++)
            pl[i] ^= mask[i & 3];
        if (op == 8) {
            if (len >= 2 && ((pl[0] << 8) | pl[1]) == 1000)
                g.ws_normal_closes++;
            if (len >= 2 && ((pl[0] << 8) | pl[1]) == 1009)
                g.ws_toobig_closes++;
            ws_frame(c, 8, (char *)pl, len >= 2 ? 2 : 0, 1);
            c->ws = 2;
            return;
        }
        if (op == 9)
            ws_frame(c, 10, (char *)pl, (size_t)len, 0);
        else if ((op == 1 || op == 2) && fin)
            ws_message(c);
        else if (op != 10) {
            ws_close_with(c, 1003); /* fragmented messages are not supported here */
            return;
        }
        size_t used = h + 4 + (size_t)len;
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
    }
}

/* The upgrade handshake: Sec-WebSocket-Accept = base64(SHA-1(key + GUID)). */
static int ws_upgrade(struct conn *c, size_t hlen)
{
    size_t klen = 0, ulen = 0, plen = 0;
    const char *key = find_header(c->buf, hlen, "Sec-WebSocket-Key", &klen);
    const char *up = find_header(c->buf, hlen, "Upgrade", &ulen);
    const char *proto = find_header(c->buf, hlen, "Sec-WebSocket-Protocol", &plen);
    if (!key || !up || ulen != 9 || strncasecmp(up, "websocket", 9) || klen > 64)
        return -1;
    char cat[128];
    snprintf(cat, sizeof cat, "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", (int)klen, key);
    unsigned char sha[20];
    lws_SHA1((unsigned char *)cat, strlen(cat), sha);
    char accept[64];
    lws_b64_encode_string((char *)sha, 20, accept, sizeof accept);
    char resp[512];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s%.*s%s\r\n",
                     accept, proto ? "Sec-WebSocket-Protocol: " : "", (int)(proto ? strcspn(proto, ", \r") : 0),
                     proto ? proto : "", proto ? "\r\n" : "");
    memmove(c->buf, c->buf + hlen, c->len - hlen);
    c->len -= hlen;
    c->ws = 1;
    g.ws_connections++;
    send_raw(c, resp, (size_t)n, 0);
    return 0;
}

/* Parses one complete request from the buffer, if there is one, and answers it. */
static void process(struct conn *c)
{
    if (c->busy || c->closing)
        return;
    if (c->ws) {
        ws_process(c);
        return;
    }
    char *hend = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!hend) {
        if (c->len == REQ_MAX) {
            c->req_len = c->len;
            c->close_after = 1;
            send_response(c, 431, "{\"error\":\"request too large\"}", 1);
        }
        return;
    }
    size_t hlen = (size_t)(hend - c->buf) + 4;
    char *sp1 = memchr(c->buf, ' ', hlen);
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', hlen - (size_t)(sp1 + 1 - c->buf)) : NULL;
    if (!sp1 || !sp2 || (size_t)(sp1 - c->buf) >= sizeof c->method) {
        c->len = 0;
        send_response(c, 400, "{\"error\":\"bad request line\"}", 1);
        return;
    }
    memcpy(c->method, c->buf, (size_t)(sp1 - c->buf));
    c->method[sp1 - c->buf] = '\0';
    const char *path = sp1 + 1;
    size_t plen = strcspn(path, "? ");
    if (plen > (size_t)(sp2 - path))
        plen = (size_t)(sp2 - path);
    size_t vlen = 0;
    uint64_t body_len = 0;
    const char *cl = find_header(c->buf, hlen, "Content-Length", &vlen);
    if (cl) {
        char tmp[24];
        if (vlen >= sizeof tmp) {
            c->len = 0;
            send_response(c, 400, "{\"error\":\"bad Content-Length\"}", 1);
            return;
        }
        memcpy(tmp, cl, vlen);
        tmp[vlen] = '\0';
        if (hn_parse_u64(tmp, &body_len) || body_len > REQ_MAX - hlen) {
            c->len = 0;
            send_response(c, 400, "{\"error\":\"bad Content-Length\"}", 1);
            return;
        }
    }
    if (c->len < hlen + body_len)
        return; /* body still arriving */
    c->req_len = hlen + (size_t)body_len;
    const char *conn_hdr = find_header(c->buf, hlen, "Connection", &vlen);
    int http10 = !memcmp(sp2 + 1, "HTTP/1.0", 8);
    c->close_after = conn_hdr ? (vlen == 5 && !strncasecmp(conn_hdr, "close", 5)) : http10;

    if (plen == 8 && !memcmp(path, "/ws/chat", 8)) {
        if (g.request_log)
            fprintf(g.request_log, "%s %.*s\n", c->method, (int)(sp2 - path), path);
        if (ws_upgrade(c, hlen) == 0)
            return;
        c->len = 0;
        send_response(c, 400, "{\"error\":\"expected a WebSocket upgrade\"}", 1);
        return;
    }
    if (plen == 9 && !memcmp(path, "/__counts", 9)) {
        char body[2048];
        counts_json(body, sizeof body);
        memmove(c->buf, c->buf + c->req_len, c->len - c->req_len);
        c->len -= c->req_len;
        send_response(c, 200, body, c->close_after);
        return;
    }
    if (g.request_log)
        fprintf(g.request_log, "%s %.*s\n", c->method, (int)(sp2 - path), path);
    c->route = N_ROUTES - 1;
    for (int i = 0; i < N_ROUTES - 1; i++)
        if (strlen(g_routes[i].path) == plen && !memcmp(g_routes[i].path, path, plen))
            c->route = i;
    if (path_in(path, plen, g.reset_paths, g.n_reset_paths)) {
        /* abortive close: the client sees "Connection reset by peer" */
        c->closing = 1;
        c->pending_closes = 1;
        delay_cancel(c);
        uv_tcp_close_reset(&c->tcp, on_closed);
        return;
    }
    if (path_in(path, plen, g.hang_paths, g.n_hang_paths)) {
        c->busy = 1; /* never answered; the client's timeout ends it */
        return;
    }
    for (int i = 0; i < g.n_lie_paths; i++)
        if (strlen(g.lie_paths[i]) == plen && !memcmp(g.lie_paths[i], path, plen)) {
            c->busy = 1;
            count(200, c->route);
            send_lie(c, g.lie_kinds[i]);
            return;
        }
    /* Bearer tokens: only ones this target issued (tok-1 .. tok-N) open /auth/status and
     * every /billing/ path when --require-auth is on */
    c->unauthorized = 0;
    if (g.require_auth && c->route < N_ROUTES - 1 &&
        (!strcmp(g_routes[c->route].path, "/auth/status") ||
         !strncmp(g_routes[c->route].path, "/billing/", 9))) {
        const char *auth = find_header(c->buf, hlen, "Authorization", &vlen);
        uint64_t tok = 0;
        char tmp[32];
        c->unauthorized = 1;
        if (auth && vlen > 11 && vlen < 11 + 20 && !strncmp(auth, "Bearer tok-", 11)) {
            memcpy(tmp, auth + 11, vlen - 11);
            tmp[vlen - 11] = '\0';
            c->unauthorized = hn_parse_u64(tmp, &tok) || tok == 0 || tok > g.tokens;
        }
    }
    /* plan enforcement: a request for more units than the plan allows is refused */
    c->over_quota = 0;
    if (c->route < N_ROUTES - 1 && !strcmp(g_routes[c->route].path, "/billing/enforce")) {
        const char *u = memmem(c->buf + hlen, (size_t)body_len, "\"requested_units\":", 18);
        c->over_quota = u && strtoull(u + 18, NULL, 10) > 1000;
    }
    c->fail = g.fail_ratio > 0 &&
              (g.n_fail_paths == 0 || path_in(path, plen, g.fail_paths, g.n_fail_paths)) &&
              hn_rng_unit(&g.rng) < g.fail_ratio;
    uint64_t delay = g.latency_ms;
    if (g.jitter_ms) {
        uint64_t j = hn_rng_below(&g.rng, 2 * g.jitter_ms + 1);
        delay = delay + j >= g.jitter_ms ? delay + j - g.jitter_ms : 0;
    }
    if (c->route < N_ROUTES - 1 && !strcmp(g_routes[c->route].path, "/billing/invoices"))
        delay += g.invoice_ms;
    /* a service that slows down with concurrency (for capacity searches): each other open
     * connection adds latency_per_conn_ms */
    if (g.latency_per_conn_ms && g.open_conns > 1)
        delay += g.latency_per_conn_ms * (g.open_conns - 1);
    c->busy = 1;
    if (delay) {
        c->due_ns = uv_hrtime() + delay * 1000000u;
        delay_until(c);
    }
    else
        respond(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct conn *c = h->data;
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(REQ_MAX - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct conn *c = s->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    process(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct conn *c = hn_calloc(1, sizeof *c);
    uv_tcp_init(g.loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    g.connections++;
    g.open_conns++;
    c->counted = 1;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_stop_signal(uv_signal_t *s, int sig)
{
    (void)sig;
    uv_stop(s->loop);
}

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr, "hornet-demo-target: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
    fprintf(stderr,
            "usage: hornet-demo-target [--host 127.0.0.1] [--port 8000] [--port-file F]\n"
            "       [--latency-ms N] [--jitter-ms N] [--latency-per-conn-ms N]\n"
            "       [--fail-ratio R] [--fail-path P]...\n"
            "       [--hang-path P]... [--reset-path P]... [--lie-path P=KIND]...\n"
            "       [--require-auth] [--invoice-ms N]\n"
            "       [--log-requests FILE] [--ws-chunks N] [--ws-reply-bytes N]\n"
            "       [--ws-fragment-bytes N] [--ws-close-after N] [--ws-no-reply]\n");
    return 2;
}

int main(int argc, char **argv)
{
    g.host = "127.0.0.1";
    g.port = 8000;
    hn_rng_seed(&g.rng, hn_mono_us());
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage("a stand-in AIaaS target for hornet", NULL), 0;
        if (!strcmp(a, "--require-auth")) {
            g.require_auth = 1;
            continue;
        }
        if (!strcmp(a, "--ws-no-reply")) {
            g.ws_no_reply = 1;
            continue;
        }
        if (!v)
            return usage("missing value for", a);
        i++;
        if (!strcmp(a, "--host")) {
            g.host = v;
        } else if (!strcmp(a, "--port")) {
            if (hn_parse_u64(v, &u) || u > 65535)
                return usage("bad --port", v);
            g.port = (int)u;
        } else if (!strcmp(a, "--port-file")) {
            g.port_file = v;
        } else if (!strcmp(a, "--latency-ms")) {
            if (hn_parse_u64(v, &g.latency_ms) || g.latency_ms > 600000)
                return usage("bad --latency-ms", v);
        } else if (!strcmp(a, "--latency-per-conn-ms")) {
            if (hn_parse_u64(v, &g.latency_per_conn_ms) || g.latency_per_conn_ms > 60000)
                return usage("bad --latency-per-conn-ms", v);
        } else if (!strcmp(a, "--jitter-ms")) {
            if (hn_parse_u64(v, &g.jitter_ms) || g.jitter_ms > 600000)
                return usage("bad --jitter-ms", v);
        } else if (!strcmp(a, "--fail-ratio")) {
            if (hn_parse_double(v, &g.fail_ratio) || g.fail_ratio < 0 || g.fail_ratio > 1)
                return usage("bad --fail-ratio (0 to 1)", v);
        } else if (!strcmp(a, "--fail-path") && g.n_fail_paths < MAX_PATHS) {
            g.fail_paths[g.n_fail_paths++] = v;
        } else if (!strcmp(a, "--hang-path") && g.n_hang_paths < MAX_PATHS) {
            g.hang_paths[g.n_hang_paths++] = v;
        } else if (!strcmp(a, "--ws-chunks")) {
            if (hn_parse_u64(v, &g.ws_chunks) || g.ws_chunks > 1000)
                return usage("bad --ws-chunks", v);
        } else if (!strcmp(a, "--ws-reply-bytes")) {
            if (hn_parse_u64(v, &g.ws_reply_bytes) || g.ws_reply_bytes > (128u << 20))
                return usage("bad --ws-reply-bytes", v);
        } else if (!strcmp(a, "--ws-fragment-bytes")) {
            if (hn_parse_u64(v, &g.ws_fragment_bytes))
                return usage("bad --ws-fragment-bytes", v);
        } else if (!strcmp(a, "--ws-close-after")) {
            if (hn_parse_u64(v, &g.ws_close_after))
                return usage("bad --ws-close-after", v);
        } else if (!strcmp(a, "--log-requests")) {
            g.request_log = fopen(v, "w");
            if (!g.request_log)
                return usage("cannot write --log-requests", v);
            setvbuf(g.request_log, NULL, _IOLBF, 0);
        } else if (!strcmp(a, "--invoice-ms")) {
            if (hn_parse_u64(v, &g.invoice_ms) || g.invoice_ms > 600000)
                return usage("bad --invoice-ms", v);
        } else if (!strcmp(a, "--reset-path") && g.n_reset_paths < MAX_PATHS) {
            g.reset_paths[g.n_reset_paths++] = v;
        } else if (!strcmp(a, "--lie-path") && g.n_lie_paths < MAX_PATHS) {
            char *eq = strchr(v, '=');
            static const char *const kinds[] = {"http09",   "status9999", "bigheader",
                                                "endless",  "longbody",   "badchunk",
                                                "garbage",  "midclose",   "midreset"};
            int known = 0;
            for (size_t k = 0; eq && k < sizeof kinds / sizeof kinds[0]; k++)
                known |= !strcmp(eq + 1, kinds[k]);
            if (!known)
                return usage("bad --lie-path (PATH=http09|status9999|bigheader|endless|longbody|"
                             "badchunk|garbage|midclose|midreset)", v);
            *eq = '\0';
            g.lie_paths[g.n_lie_paths] = v;
            g.lie_kinds[g.n_lie_paths++] = eq + 1;
        } else {
            return usage("unknown flag", a);
        }
    }
    if (g.n_fail_paths && g.fail_ratio == 0)
        g.fail_ratio = 1.0; /* --fail-path alone: that path always fails */
    signal(SIGPIPE, SIG_IGN);
    g.loop = uv_default_loop();
    if (delay_init()) {
        fprintf(stderr, "hornet-demo-target: cannot make a timer: %s\n", strerror(errno));
        return 5;
    }
    uv_tcp_t server;
    uv_tcp_init(g.loop, &server);
    struct sockaddr_storage addr;
    if (uv_ip4_addr(g.host, g.port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(g.host, g.port, (struct sockaddr_in6 *)&addr) != 0)
        return usage("bad --host", g.host);
    int rc = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&server, 4096, on_connection);
    if (rc) {
        fprintf(stderr, "hornet-demo-target: cannot listen on %s:%d: %s\n", g.host, g.port,
                uv_strerror(rc));
        return 5;
    }
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &blen);
    int port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    if (g.port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", g.port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, g.port_file)) {
            fprintf(stderr, "hornet-demo-target: cannot write %s: %s\n", g.port_file,
                    strerror(errno));
            return 5;
        }
    }
    fprintf(stderr, "hornet-demo-target: listening on http://%s:%d\n", g.host, port);
    uv_signal_t sigint, sigterm;
    uv_signal_init(g.loop, &sigint);
    uv_signal_init(g.loop, &sigterm);
    uv_signal_start(&sigint, on_stop_signal, SIGINT);
    uv_signal_start(&sigterm, on_stop_signal, SIGTERM);
    uv_run(g.loop, UV_RUN_DEFAULT);
    char body[2048];
    counts_json(body, sizeof body);
    fprintf(stderr, "hornet-demo-target: served %s\n", body);
    return 0;
}
