/* The native HTTP/1.1 engine: plain http:// keep-alive on the worker's libuv loop.
 * - A user's connection lives in its session: reused by its next request to the same address,
 *   closed when the user stops (or when the server says Connection: close, or misbehaves).
 *   An idle connection holds its uv_tcp_t and a few fields; the read buffer comes from a pool
 *   only while bytes are being read, and transfers (with their header and body buffers) come
 *   from a pool only while a request runs.
 * - A request is written with one uv_try_write of up to four pieces (the step's pre-built
 *   head, the user's Cookie line, the pre-built tail with the body; a templated step's parts
 *   are spliced into one buffer), and the response is parsed as it arrives (h1resp.c).
 * - Deadlines (connect, then the whole request) are one min-heap under one uv_timer.
 * - A reused connection that the server closed before answering is retried once on a new one,
 *   as curl does. Same-address redirects are followed on the connection; Set-Cookie updates the
 *   user's jar (cookie.c, curl's line format).
 * The host of a step is resolved once, when the step is compiled (as wrk does). */
#include "worker/http_engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "common/log.h"
#include "common/util.h"
#include "worker/cookie.h"
#include "worker/h1resp.h"

#define READ_BUF 16384
#define MAX_REDIRECTS 30

struct nreq {
    const struct hn_http_step *step;
    struct sockaddr_storage addr;
    char host[256];      /* for the Host header and cookies */
    char host_port[300]; /* the Host header's value */
    char *head;          /* static: the request line and fixed headers, without the blank line */
    size_t head_len;
    char *tail;          /* static: Content-Length, the blank line and the body */
    size_t tail_len;
    char *path;          /* static: the path with its query */
    char *fixed;         /* the fixed header lines (Host, User-Agent, Accept, Content-Type) */
    size_t fixed_len;
    int is_head, keep_body, dynamic_url;
    int default_ua, default_accept, default_host;
};

struct nx {
    struct hn_http_xfer head;
    struct hn_native *n;
    const struct nreq *r;
    struct hn_http_session *s;
    struct hn_http_conn *c;
    struct hn_h1resp resp;
    struct hn_buf hdrs, body, wbuf, cookie, path;
    uv_write_t wreq;
    uint64_t deadline;       /* loop ms: the next one (the connect's, then the total) */
    uint64_t total_deadline; /* loop ms: the whole request's */
    size_t heap_at;          /* 1 + index in the heap, 0: not in it */
    int connecting, retried, redirects, head_method;
    int active;              /* between start and its end (callback or cancel) */
    int writing;             /* a uv_write is pending: the transfer is not reused before */
    int release_pending;     /* ended while writing: back to the pool from on_written */
    int partial;             /* wbuf holds the unwritten rest of a request: no retry */
    int deferred;            /* failed inside hn_native_start: reported from the loop */
    enum hn_http_err deferred_kind;
    const char *deferred_detail;
    struct nx *next_free;
};

struct hn_http_conn {
    uv_tcp_t tcp;
    struct hn_native *n;
    struct hn_http_session *owner;
    struct sockaddr_storage addr;
    struct nx *x;            /* the transfer in flight */
    struct hn_http_conn *prev, *next;
    uint32_t served;
    uint8_t connected, closing;
};

struct hn_native {
    struct hn_http *http;
    uv_loop_t *loop;
    uv_timer_t timer;
    struct nx **heap;
    size_t n_heap, cap_heap;
    struct nx *free_x;
    size_t n_free_x;
    char **bufs;             /* idle read buffers */
    size_t n_bufs;
    struct hn_http_conn *conns;
    int pending;             /* handles still closing */
    int destroying;
};

/* ---------- deadlines ---------- */

static void heap_swap(struct hn_native *n, size_t i, size_t j)
{
    struct nx *t = n->heap[i];
    n->heap[i] = n->heap[j];
    n->heap[j] = t;
    n->heap[i]->heap_at = i + 1;
    n->heap[j]->heap_at = j + 1;
}

static void heap_fix(struct hn_native *n, size_t i)
{
    while (i && n->heap[(i - 1) / 2]->deadline > n->heap[i]->deadline) {
        heap_swap(n, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n->n_heap && n->heap[l]->deadline < n->heap[m]->deadline)
            m = l;
        if (r < n->n_heap && n->heap[r]->deadline < n->heap[m]->deadline)
            m = r;
        if (m == i)
            break;
        heap_swap(n, i, m);
        i = m;
    }
}

static void on_deadline(uv_timer_t *t);

static void arm(struct hn_native *n)
{
    if (!n->n_heap) {
        uv_timer_stop(&n->timer);
        return;
    }
    uint64_t now = uv_now(n->loop), d = n->heap[0]->deadline;
    uv_timer_start(&n->timer, on_deadline, d > now ? d - now : 0, 0);
}

static void heap_remove(struct hn_native *n, struct nx *x)
{
    if (!x->heap_at)
        return;
    size_t i = x->heap_at - 1;
    x->heap_at = 0;
    n->n_heap--;
    if (i != n->n_heap) {
        n->heap[i] = n->heap[n->n_heap];
        n->heap[i]->heap_at = i + 1;
        heap_fix(n, i);
    }
    if (i == 0)
        arm(n);
}

static void set_deadline(struct nx *x, uint64_t deadline)
{
    struct hn_native *n = x->n;
    x->deadline = deadline;
    if (x->heap_at) {
        heap_fix(n, x->heap_at - 1);
    } else {
        if (n->n_heap == n->cap_heap) {
            n->cap_heap = n->cap_heap ? n->cap_heap * 2 : 64;
            n->heap = hn_realloc(n->heap, n->cap_heap * sizeof *n->heap);
        }
        n->heap[n->n_heap] = x;
        x->heap_at = ++n->n_heap;
        heap_fix(n, n->n_heap - 1);
    }
    arm(n);
}

/* ---------- pools ---------- */

static struct nx *xfer_get(struct hn_native *n)
{
    struct nx *x = n->free_x;
    if (x) {
        n->free_x = x->next_free;
        n->n_free_x--;
    } else {
        x = hn_calloc(1, sizeof *x);
        x->n = n;
        hn_buf_init(&x->hdrs, HN_H1_HEADERS_MAX + 4096);
        hn_buf_init(&x->body, n->http->cfg.max_body_bytes + 1);
        hn_buf_init(&x->wbuf, 32 << 20);
        hn_buf_init(&x->cookie, HN_COOKIE_JAR_MAX + 64);
        hn_buf_init(&x->path, 1 << 20);
    }
    x->c = NULL;
    x->s = NULL;
    x->connecting = x->retried = x->redirects = x->partial = x->release_pending = 0;
    x->deferred = 0;
    x->heap_at = 0;
    x->active = 1;
    x->head.cb = NULL; /* set by the client once hn_native_start returns */
    return x;
}

static void xfer_free(struct nx *x)
{
    hn_buf_fini(&x->hdrs);
    hn_buf_fini(&x->body);
    hn_buf_fini(&x->wbuf);
    hn_buf_fini(&x->cookie);
    hn_buf_fini(&x->path);
    free(x);
}

static void xfer_put(struct hn_native *n, struct nx *x)
{
    heap_remove(n, x);
    if (x->c && x->c->x == x)
        x->c->x = NULL;
    x->c = NULL;
    x->active = 0;
    if (x->writing) { /* libuv still holds its write request: on_written puts it back */
        x->release_pending = 1;
        return;
    }
    if (n->n_free_x >= 256 || n->destroying) {
        xfer_free(x);
        return;
    }
    /* large buffers go back to the heap: a pooled transfer stays small */
    if (x->wbuf.cap > 65536) {
        hn_buf_fini(&x->wbuf);
        hn_buf_init(&x->wbuf, 32 << 20);
    }
    if (x->hdrs.cap > 16384) {
        hn_buf_fini(&x->hdrs);
        hn_buf_init(&x->hdrs, HN_H1_HEADERS_MAX + 4096);
    }
    if (x->body.cap > 65536) {
        hn_buf_fini(&x->body);
        hn_buf_init(&x->body, n->http->cfg.max_body_bytes + 1);
    }
    x->next_free = n->free_x;
    n->free_x = x;
    n->n_free_x++;
}

/* ---------- connections ---------- */

static void on_conn_closed(uv_handle_t *hd)
{
    struct hn_http_conn *c = hd->data;
    struct hn_native *n = c->n;
    free(c);
    if (--n->pending == 0 && n->destroying) {
        free(n->heap);
        free(n);
    }
}

static void conn_close(struct hn_http_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    struct hn_native *n = c->n;
    if (c->owner && c->owner->conn == c)
        c->owner->conn = NULL;
    c->owner = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        n->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    n->pending++;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct hn_http_conn *c = hd->data;
    struct hn_native *n = c->n;
    buf->base = n->n_bufs ? n->bufs[--n->n_bufs] : hn_malloc(READ_BUF);
    buf->len = READ_BUF;
}

static void buf_put(struct hn_native *n, char *b)
{
    if (!b)
        return;
    if (n->n_bufs < 64 && !n->destroying) {
        if (!n->bufs)
            n->bufs = hn_calloc(64, sizeof *n->bufs);
        n->bufs[n->n_bufs++] = b;
    } else {
        free(b);
    }
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
static void on_connect(uv_connect_t *req, int status);
static void send_request(struct nx *x);

static struct hn_http_conn *conn_open(struct hn_native *n, const struct sockaddr_storage *addr)
{
    struct hn_http_conn *c = hn_calloc(1, sizeof *c);
    c->n = n;
    c->addr = *addr;
    if (uv_tcp_init(n->loop, &c->tcp) != 0) {
        free(c);
        return NULL;
    }
    c->tcp.data = c;
    c->next = n->conns;
    if (n->conns)
        n->conns->prev = c;
    n->conns = c;
    n->http->counters.opened++;
    return c;
}

/* ---------- the end of a transfer ---------- */

static void finish(struct nx *x, const struct hn_http_end *e, int close_conn)
{
    struct hn_native *n = x->n;
    struct hn_http_conn *c = x->c;
    heap_remove(n, x);
    if (c) {
        c->x = NULL;
        if (close_conn || !c->owner) /* no session's: the connection was this request's alone */
            conn_close(c);
    }
    x->c = NULL;
    hn_http_complete(&x->head, e);
    xfer_put(n, x);
}

static void fail(struct nx *x, enum hn_http_err kind, const char *detail)
{
    if (!x->head.cb) {
        /* still inside hn_native_start (no descriptor left, a write refused at once): the
         * user hears of it from the loop, never from within its own call */
        x->deferred = 1;
        x->deferred_kind = kind;
        x->deferred_detail = detail;
        set_deadline(x, uv_now(x->n->loop));
        return;
    }
    struct hn_http_end e = {.kind = kind, .detail = detail, .body_bytes = x->resp.body_bytes};
    finish(x, &e, 1);
}

static void on_deadline(uv_timer_t *t)
{
    struct hn_native *n = t->data;
    uint64_t now = uv_now(n->loop);
    while (n->n_heap && n->heap[0]->deadline <= now) {
        struct nx *x = n->heap[0];
        if (x->deferred)
            fail(x, x->deferred_kind, x->deferred_detail);
        else
            fail(x, x->connecting ? HN_HTTP_E_CONNECT_TIMEOUT : HN_HTTP_E_TIMEOUT, NULL);
    }
    arm(n);
}

/* ---------- requests ---------- */

static int header_given(const struct hn_http_step *st, const char *name)
{
    for (size_t i = 0; i < st->n_headers; i++)
        if (!strcasecmp(st->headers[i].name, name))
            return 1;
    return 0;
}

/* The fixed headers every request of the step carries (Host, User-Agent, Accept unless the
 * step gives them, Content-Type), each line ending in CRLF. */
static void fixed_headers(const struct nreq *r, struct hn_buf *b)
{
    if (r->default_host) {
        hn_buf_append(b, "Host: ", 6);
        hn_buf_append(b, r->host_port, strlen(r->host_port));
        hn_buf_append(b, "\r\n", 2);
    }
    if (r->default_ua)
        hn_buf_append(b, "User-Agent: hornet/" HORNET_VERSION "\r\n",
                      strlen("User-Agent: hornet/" HORNET_VERSION "\r\n"));
    if (r->default_accept)
        hn_buf_append(b, "Accept: */*\r\n", 13);
    if (r->step->content_type && !header_given(r->step, "Content-Type")) {
        hn_buf_append(b, "Content-Type: ", 14);
        hn_buf_append(b, r->step->content_type, strlen(r->step->content_type));
        hn_buf_append(b, "\r\n", 2);
    }
}

static void content_length(struct hn_buf *b, const char *method, size_t len, int has_body)
{
    if (!has_body && strcmp(method, "POST") && strcmp(method, "PUT") && strcmp(method, "PATCH"))
        return;
    char digits[24];
    size_t n = 0;
    do { /* no printf: this runs on every templated request */
        digits[n++] = (char)('0' + len % 10);
        len /= 10;
    } while (len);
    hn_buf_append(b, "Content-Length: ", 16);
    while (n)
        hn_buf_append(b, &digits[--n], 1);
    hn_buf_append(b, "\r\n", 2);
}

void *hn_native_req_new(struct hn_native *n, const struct hn_http_req *hr, const char *base_url,
                        char *err, size_t errlen)
{
    (void)n;
    const struct hn_http_step *st = hr->step;
    const char *url = st->url->text;
    int dynamic_url = !st->url->is_static;
    const char *proxy = getenv("http_proxy") ? getenv("http_proxy") : getenv("HTTP_PROXY");
    if (proxy && *proxy) {
        snprintf(err, errlen, "a proxy is set (http_proxy)");
        return NULL;
    }
    /* the origin: the step's absolute URL, or the run's host */
    const char *origin = url[0] == '/' || dynamic_url ? base_url : url;
    if (dynamic_url && url[0] != '/' && strncmp(url, "{{", 2)) {
        snprintf(err, errlen, "a templated absolute URL");
        return NULL;
    }
    if (strncmp(origin, "http://", 7)) {
        snprintf(err, errlen, "not an http:// URL");
        return NULL;
    }
    const char *hp = origin + 7;
    size_t hl = strcspn(hp, "/?#");
    if (!hl || hl >= 256 || memchr(hp, '@', hl)) {
        snprintf(err, errlen, "an unusual authority");
        return NULL;
    }
    struct nreq *r = hn_calloc(1, sizeof *r);
    r->step = st;
    snprintf(r->host_port, sizeof r->host_port, "%.*s", (int)hl, hp);
    char port[16] = "80";
    const char *h = r->host_port, *hend;
    if (h[0] == '[') {
        hend = strchr(h, ']');
        if (!hend) {
            free(r);
            snprintf(err, errlen, "an unusual authority");
            return NULL;
        }
        snprintf(r->host, sizeof r->host, "%.*s", (int)(hend - h - 1), h + 1);
        if (hend[1] == ':')
            snprintf(port, sizeof port, "%s", hend + 2);
    } else {
        hend = strchr(h, ':');
        snprintf(r->host, sizeof r->host, "%.*s", hend ? (int)(hend - h) : (int)strlen(h), h);
        if (hend)
            snprintf(port, sizeof port, "%s", hend + 1);
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int grc = getaddrinfo(r->host, port, &hints, &ai);
    if (grc || !ai) {
        snprintf(err, errlen, "cannot resolve %s: %s", r->host, gai_strerror(grc));
        free(r);
        return NULL;
    }
    memcpy(&r->addr, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    r->is_head = !strcmp(st->method, "HEAD");
    r->keep_body = st->needs_body;
    r->dynamic_url = dynamic_url;
    r->default_host = !header_given(st, "Host");
    r->default_ua = !header_given(st, "User-Agent");
    r->default_accept = !header_given(st, "Accept");
    if (!dynamic_url) {
        const char *path = url[0] == '/' ? url : hp + hl;
        r->path = hn_strdup(path[0] ? path : "/");
    }
    struct hn_buf fb;
    hn_buf_init(&fb, 1 << 16);
    fixed_headers(r, &fb);
    r->fixed_len = fb.len;
    r->fixed = hn_malloc(fb.len + 1);
    memcpy(r->fixed, hn_buf_cstr(&fb), fb.len + 1);
    hn_buf_fini(&fb);
    if (!st->is_dynamic) { /* the whole request, but for the Cookie line */
        struct hn_buf b;
        hn_buf_init(&b, 32 << 20);
        hn_buf_append(&b, st->method, strlen(st->method));
        hn_buf_append(&b, " ", 1);
        hn_buf_append(&b, r->path, strlen(r->path));
        hn_buf_append(&b, " HTTP/1.1\r\n", 11);
        fixed_headers(r, &b);
        for (size_t i = 0; i < st->n_headers; i++) {
            hn_buf_append(&b, st->headers[i].name, strlen(st->headers[i].name));
            hn_buf_append(&b, ": ", 2);
            hn_buf_append(&b, st->headers[i].value->text, strlen(st->headers[i].value->text));
            hn_buf_append(&b, "\r\n", 2);
        }
        r->head_len = b.len;
        r->head = hn_malloc(b.len + 1);
        memcpy(r->head, hn_buf_cstr(&b), b.len + 1);
        hn_buf_reset(&b);
        const char *body = st->body ? st->body->text : "";
        content_length(&b, st->method, strlen(body), st->body != NULL);
        hn_buf_append(&b, "\r\n", 2);
        hn_buf_append(&b, body, strlen(body));
        r->tail_len = b.len;
        r->tail = hn_malloc(b.len + 1);
        memcpy(r->tail, hn_buf_cstr(&b), b.len + 1);
        int bad = b.truncated;
        hn_buf_fini(&b);
        if (bad) {
            snprintf(err, errlen, "the request is over 32 MiB");
            hn_native_req_free(r);
            return NULL;
        }
    }
    return r;
}

void hn_native_req_free(void *impl)
{
    struct nreq *r = impl;
    if (!r)
        return;
    free(r->head);
    free(r->tail);
    free(r->path);
    free(r->fixed);
    free(r);
}

/* The path of the request now (a redirect's, a templated one's, or the step's). */
static const char *cur_path(struct nx *x)
{
    return x->path.len ? hn_buf_cstr(&x->path) : x->r->path;
}

/* The user's Cookie line for this request, into x->cookie ("" when none). */
static void cookie_line(struct nx *x)
{
    hn_buf_reset(&x->cookie);
    if (!x->s || !x->s->jar || x->r->step->no_cookies)
        return;
    hn_buf_append(&x->cookie, "Cookie: ", 8);
    size_t before = x->cookie.len;
    int64_t now_s = hn_wall_ms() / 1000;
    if (!hn_cookie_header(x->s->jar, x->r->host, cur_path(x), 0, now_s, &x->cookie) ||
        x->cookie.len == before)
        hn_buf_reset(&x->cookie);
    else
        hn_buf_append(&x->cookie, "\r\n", 2);
}

/* A templated step, a redirect or a retry: the whole request spliced into x->wbuf. */
static void build_dynamic(struct nx *x, const struct hn_http_dyn *d, const char *method,
                          int with_body)
{
    const struct nreq *r = x->r;
    const struct hn_http_step *st = r->step;
    struct hn_buf *b = &x->wbuf;
    hn_buf_reset(b);
    hn_buf_append(b, method, strlen(method));
    hn_buf_append(b, " ", 1);
    const char *path = cur_path(x);
    hn_buf_append(b, path, strlen(path));
    hn_buf_append(b, " HTTP/1.1\r\n", 11);
    hn_buf_append(b, r->fixed, r->fixed_len);
    if (d) {
        const char *p = d->headers, *end = d->headers + d->headers_len;
        while (p < end) { /* "\n" lines become CRLF lines */
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);
            hn_buf_append(b, p, k);
            hn_buf_append(b, "\r\n", 2);
            p += k + 1;
        }
    } else {
        for (size_t i = 0; i < st->n_headers; i++) {
            hn_buf_append(b, st->headers[i].name, strlen(st->headers[i].name));
            hn_buf_append(b, ": ", 2);
            hn_buf_append(b, st->headers[i].value->text, strlen(st->headers[i].value->text));
            hn_buf_append(b, "\r\n", 2);
        }
    }
    hn_buf_append(b, x->cookie.p ? x->cookie.p : "", x->cookie.len);
    const char *body = !with_body ? "" : d ? d->body : st->body ? st->body->text : "";
    size_t blen = !with_body ? 0 : d ? d->body_len : strlen(body);
    content_length(b, method, blen, with_body && st->body != NULL);
    hn_buf_append(b, "\r\n", 2);
    hn_buf_append(b, body, blen);
}

static int retry(struct nx *x);

static void on_written(uv_write_t *w, int status)
{
    struct nx *x = w->data;
    x->writing = 0;
    if (x->release_pending) {
        x->release_pending = 0;
        xfer_put(x->n, x);
        return;
    }
    if (status < 0 && status != UV_ECANCELED && x->active && x->c)
        fail(x, HN_HTTP_E_RESET, strerror(-status));
}

/* Writes the request: one writev for the pieces; the rest (rare) through uv_write. */
static void write_pieces(struct nx *x, uv_buf_t *bufs, unsigned n)
{
    struct hn_http_conn *c = x->c;
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += bufs[i].len;
    int wrote = uv_try_write((uv_stream_t *)&c->tcp, bufs, n);
    if (wrote == (int)total)
        return;
    if (wrote < 0 && wrote != UV_EAGAIN) {
        if (!retry(x)) /* a reused connection the server closed: once more on a new one */
            fail(x, HN_HTTP_E_RESET, strerror(-wrote));
        return;
    }
    size_t skip = wrote > 0 ? (size_t)wrote : 0;
    /* the unwritten rest into the transfer's own buffer (the pieces may be borrowed) */
    struct hn_buf rest;
    hn_buf_init(&rest, 64 << 20);
    for (unsigned i = 0; i < n; i++) {
        if (skip >= bufs[i].len) {
            skip -= bufs[i].len;
            continue;
        }
        hn_buf_append(&rest, bufs[i].base + skip, bufs[i].len - skip);
        skip = 0;
    }
    hn_buf_reset(&x->wbuf);
    hn_buf_append(&x->wbuf, rest.p ? rest.p : "", rest.len);
    hn_buf_fini(&rest);
    x->partial = 1;
    uv_buf_t one = uv_buf_init(x->wbuf.p, (unsigned)x->wbuf.len);
    x->wreq.data = x;
    x->writing = 1;
    int rc = uv_write(&x->wreq, (uv_stream_t *)&c->tcp, &one, 1, on_written);
    if (rc)
        fail(x, HN_HTTP_E_RESET, strerror(-rc));
}

static void send_request(struct nx *x)
{
    const struct nreq *r = x->r;
    hn_h1resp_init(&x->resp, x->head_method, r->keep_body, x->n->http->cfg.max_body_bytes,
                   &x->hdrs, &x->body);
    if (x->wbuf.len) {
        uv_buf_t b = uv_buf_init(x->wbuf.p, (unsigned)x->wbuf.len);
        write_pieces(x, &b, 1);
    } else {
        uv_buf_t b[3] = {uv_buf_init(r->head, (unsigned)r->head_len),
                         uv_buf_init(x->cookie.p, (unsigned)x->cookie.len),
                         uv_buf_init(r->tail, (unsigned)r->tail_len)};
        if (x->cookie.len)
            write_pieces(x, b, 3);
        else
            write_pieces(x, (uv_buf_t[]){b[0], b[2]}, 2);
    }
}

/* Puts the transfer on a connection of the session (or its own) and sends, or connects first. */
static int dispatch(struct nx *x)
{
    struct hn_native *n = x->n;
    struct hn_http_conn *c = x->s ? x->s->conn : NULL;
    /* the session's connection carries one request at a time: one still busy keeps it, and
     * this request gets a connection of its own, closed after it */
    int own = !(c && c->x);
    if (c && own && (c->closing || !same_addr(&c->addr, &x->r->addr))) {
        conn_close(c);
        c = NULL;
    }
    if (c && own) {
        n->http->counters.reused++;
    } else {
        c = conn_open(n, &x->r->addr);
        if (!c)
            return -1;
        if (x->s && own) {
            x->s->conn = c;
            c->owner = x->s;
        }
    }
    x->c = c;
    c->x = x;
    if (c->connected) {
        send_request(x);
        return 0;
    }
    x->connecting = 1;
    uint64_t cd = uv_now(n->loop) + (uint64_t)n->http->cfg.connect_timeout_ms;
    set_deadline(x, cd < x->total_deadline ? cd : x->total_deadline);
    uv_connect_t *req = hn_malloc(sizeof *req);
    req->data = c;
    int rc = uv_tcp_connect(req, &c->tcp, (const struct sockaddr *)&c->addr, on_connect);
    if (rc) {
        free(req);
        fail(x, HN_HTTP_E_REFUSED, strerror(-rc));
        return 0;
    }
    return 0;
}

static void on_connect(uv_connect_t *req, int status)
{
    struct hn_http_conn *c = req->data;
    free(req);
    if (status == UV_ECANCELED || c->closing)
        return; /* closed while connecting (a timeout, a cancel, the user stopped) */
    struct nx *x = c->x;
    if (status < 0) {
        if (x)
            fail(x, status == UV_ETIMEDOUT ? HN_HTTP_E_CONNECT_TIMEOUT : HN_HTTP_E_REFUSED,
                 status == UV_ETIMEDOUT ? NULL : strerror(-status));
        else
            conn_close(c);
        return;
    }
    c->connected = 1;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (!x)
        return;
    x->connecting = 0;
    set_deadline(x, x->total_deadline);
    send_request(x);
}

/* The server closed or reset a reused connection before a byte of the answer: once, the
 * request goes again on a new connection (the server may close an idle one at any time). */
static int retry(struct nx *x)
{
    struct hn_http_conn *c = x->c;
    if (x->retried || x->partial || x->writing || !c || c->served == 0 || x->resp.got_any)
        return 0;
    x->retried = 1;
    x->n->http->counters.retried++;
    c->x = NULL;
    conn_close(c);
    x->c = NULL;
    if (dispatch(x))
        fail(x, HN_HTTP_E_OTHER, "cannot open a connection");
    return 1;
}

static void keep_cookies(void *ctx, const char *name, const char *value)
{
    struct nx *x = ctx;
    if (!strcasecmp(name, "Set-Cookie"))
        hn_cookie_set(&x->s->jar, value, x->r->host, cur_path(x), hn_wall_ms() / 1000);
}

/* A 3xx to follow: same address only (the step's host resolved once); the new request on the
 * same connection unless the server closes it. Returns 1 if it went. */
static int follow(struct nx *x)
{
    const char *loc = hn_h1resp_header(&x->resp, "Location");
    long st = x->resp.status;
    if (!loc || x->r->step->no_redirects || !(st == 301 || st == 302 || st == 303 || st == 307 ||
                                               st == 308))
        return 0;
    if (++x->redirects > MAX_REDIRECTS) {
        fail(x, HN_HTTP_E_REDIRECTS, NULL);
        return 1;
    }
    char path[4096];
    if (!strncmp(loc, "http://", 7)) {
        const char *hp = loc + 7;
        size_t hl = strcspn(hp, "/?#");
        if (hl != strlen(x->r->host_port) || strncasecmp(hp, x->r->host_port, hl)) {
            fail(x, HN_HTTP_E_OTHER,
                 "Redirect to another host: the native engine follows same-host redirects "
                 "(engine: curl follows any)");
            return 1;
        }
        snprintf(path, sizeof path, "%s", hp[hl] ? hp + hl : "/");
    } else if (loc[0] == '/') {
        snprintf(path, sizeof path, "%s", loc);
    } else if (!strncmp(loc, "https://", 8) || strstr(loc, "://")) {
        fail(x, HN_HTTP_E_OTHER,
             "Redirect to another scheme: the native engine follows http:// redirects "
             "(engine: curl follows any)");
        return 1;
    } else { /* relative to the current path's directory */
        const char *cur = cur_path(x);
        const char *slash = strrchr(cur, '/');
        snprintf(path, sizeof path, "%.*s/%s", slash ? (int)(slash - cur) : 0, cur, loc);
    }
    hn_buf_reset(&x->path);
    hn_buf_append(&x->path, path, strlen(path));
    int keep_method = st == 307 || st == 308;
    const char *method = keep_method ? x->r->step->method : x->r->is_head ? "HEAD" : "GET";
    x->head_method = !strcmp(method, "HEAD");
    cookie_line(x);
    build_dynamic(x, NULL, method, keep_method);
    struct hn_http_conn *c = x->c;
    int reuse = x->resp.keep_alive && c && !c->closing;
    if (c) {
        c->served++;
        c->x = NULL;
        if (!reuse || !c->owner) /* a connection of this request alone goes with it */
            conn_close(c);
    }
    x->c = NULL;
    x->retried = 0;
    if (dispatch(x))
        fail(x, HN_HTTP_E_OTHER, "cannot open a connection");
    return 1;
}

static void response_done(struct nx *x)
{
    struct hn_http_conn *c = x->c;
    if (x->s && !x->r->step->no_cookies)
        hn_h1resp_each_header(&x->resp, keep_cookies, x);
    if (follow(x))
        return;
    if (c)
        c->served++;
    struct hn_http_end e = {.kind = HN_HTTP_OK,
                            .status = x->resp.status,
                            .body_bytes = x->resp.body_bytes};
    if (x->r->keep_body) {
        e.body = hn_buf_cstr(&x->body);
        e.body_len = x->body.len;
    }
    finish(x, &e, !x->resp.keep_alive);
}

/* libuv reports the end of a stream whose poll said "hang up" after a short read as EOF
 * without reading on; a reset is then still pending on the socket (a read would have said
 * ECONNRESET, as it does for libcurl): SO_ERROR tells them apart. */
static int reset_pending(uv_stream_t *st)
{
    uv_os_fd_t fd;
    int err = 0;
    socklen_t len = sizeof err;
    return uv_fileno((uv_handle_t *)st, &fd) == 0 &&
           getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == ECONNRESET;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct hn_http_conn *c = st->data;
    struct hn_native *n = c->n;
    struct nx *x = c->x;
    if (nread == 0) {
        buf_put(n, buf->base);
        return;
    }
    if (nread < 0) {
        buf_put(n, buf->base);
        if (!x) { /* an idle connection the server closed (or reset) */
            conn_close(c);
            return;
        }
        if (retry(x))
            return;
        if (nread == UV_EOF && reset_pending(st))
            nread = UV_ECONNRESET;
        if (nread == UV_EOF) {
            hn_h1resp_eof(&x->resp); /* a response that ends at the close ends here */
            if (x->resp.state == HN_H1_DONE)
                response_done(x); /* keep_alive is 0: the connection closes */
            else
                fail(x, HN_HTTP_E_CLOSED, x->resp.got_any ? x->resp.msg : NULL);
        } else {
            fail(x, HN_HTTP_E_RESET, strerror((int)-nread));
        }
        return;
    }
    if (!x) { /* bytes nobody asked for: the connection cannot be trusted again */
        buf_put(n, buf->base);
        conn_close(c);
        return;
    }
    hn_h1resp_feed(&x->resp, buf->base, (size_t)nread);
    buf_put(n, buf->base);
    if (x->resp.state == HN_H1_DONE) {
        response_done(x);
    } else if (x->resp.state == HN_H1_FAILED) {
        enum hn_http_err k = x->resp.error == HN_H1_TOO_LARGE ? HN_HTTP_E_TOO_LARGE
                                                              : HN_HTTP_E_PROTOCOL;
        fail(x, k, x->resp.msg);
    }
}

/* ---------- the engine ---------- */

struct hn_native *hn_native_new(struct hn_http *h)
{
    struct hn_native *n = hn_calloc(1, sizeof *n);
    n->http = h;
    n->loop = h->loop;
    uv_timer_init(n->loop, &n->timer);
    n->timer.data = n;
    n->pending = 1; /* the timer, until destroy */
    return n;
}

static void on_timer_closed(uv_handle_t *hd)
{
    struct hn_native *n = hd->data;
    if (--n->pending == 0) {
        free(n->heap);
        free(n);
    }
}

void hn_native_destroy(struct hn_native *n)
{
    if (!n)
        return;
    n->destroying = 1;
    while (n->free_x) {
        struct nx *x = n->free_x;
        n->free_x = x->next_free;
        xfer_free(x);
    }
    for (size_t i = 0; i < n->n_bufs; i++)
        free(n->bufs[i]);
    free(n->bufs);
    n->bufs = NULL;
    n->n_bufs = 0;
    while (n->conns)
        conn_close(n->conns);
    uv_close((uv_handle_t *)&n->timer, on_timer_closed);
}

struct hn_http_xfer *hn_native_start(struct hn_native *n, const struct hn_http_req *hr,
                                     const struct hn_http_dyn *dyn, struct hn_http_session *s)
{
    const struct nreq *r = hr->impl;
    struct nx *x = xfer_get(n);
    x->r = r;
    x->s = s;
    x->head.req = hr; /* the client sets the rest after this returns */
    x->head_method = r->is_head;
    hn_buf_reset(&x->path);
    hn_buf_reset(&x->wbuf);
    if (r->dynamic_url && dyn) {
        hn_buf_append(&x->path, dyn->url, strlen(dyn->url));
        if (!x->path.len || x->path.p[0] != '/')
            hn_buf_reset(&x->path), hn_buf_append(&x->path, "/", 1);
    }
    cookie_line(x);
    if (r->step->is_dynamic)
        build_dynamic(x, dyn, r->step->method, 1);
    if (x->wbuf.truncated) {
        hn_error("a request of %s is over 32 MiB", r->step->name);
        xfer_put(n, x);
        return NULL;
    }
    /* the whole request's deadline; a connect's comes first */
    x->total_deadline = uv_now(n->loop) + (uint64_t)hr->timeout_ms;
    set_deadline(x, x->total_deadline);
    if (dispatch(x)) {
        hn_error("cannot open a connection: out of handles");
        xfer_put(n, x);
        return NULL;
    }
    return &x->head;
}

void hn_native_cancel(struct hn_native *n, struct hn_http_xfer *hx)
{
    struct nx *x = (struct nx *)hx;
    if (x->c) /* the answer may still come: the connection cannot carry another request */
        conn_close(x->c);
    xfer_put(n, x);
}

const char *hn_native_header(struct hn_http_xfer *hx, const char *name, char *buf, size_t n)
{
    struct nx *x = (struct nx *)hx;
    const char *v = hn_h1resp_header(&x->resp, name);
    if (!v)
        return NULL;
    snprintf(buf, n, "%s", v);
    return buf;
}

void hn_native_session_close(struct hn_native *n, struct hn_http_session *s)
{
    (void)n;
    if (s->conn)
        conn_close(s->conn);
    s->conn = NULL;
}
