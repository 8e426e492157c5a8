/* libcurl's engine: the multi_socket interface driven by one uv_poll per socket and one
 * uv_timer (curl's multi-uv pattern). Easy handles are pooled: a user borrows one only for the
 * duration of a request, so an idle user costs no easy handle; connections stay in the multi's
 * connection cache (sized to the user count), so an idle user's keep-alive connection survives.
 * The only module that includes curl.h. */
#include "worker/http_engine.h"

#include <curl/curl.h>
#include <uv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    int want;    /* what curl asked to wait for */
    int events;  /* what libuv watches now (0 = stopped) */
    int parked;  /* curl let go of it: an idle keep-alive connection */
    int established; /* curl waited to read from it: the TCP connect finished */
    int closing;
    struct hn_curl *h;
    struct sock_ctx *next, *prev; /* open polls, so destroy can close what curl left */
};

struct curl_req {
    const struct hn_http_step *step;
    char *url;                  /* static steps: the full URL; templated: the base URL */
    struct curl_slist *headers; /* static steps */
    struct curl_slist *fixed;   /* templated steps: Content-Type and Expect: lines */
    long timeout_ms;
    int is_head, has_body, custom, keep_body, dynamic, dynamic_url;
    struct hn_http_tls tls;
};

/* A user's cookies are kept up to this many bytes of curl's cookie lines (a target that sets
 * more loses the newest ones, not the worker's memory). */
#define JAR_MAX_BYTES 16384

/* A pooled easy handle; while borrowed it is the transfer. */
struct curl_xfer {
    struct hn_http_xfer head;
    CURL *easy;
    struct hn_curl *h;
    const struct curl_req *req;    /* what runs now */
    const struct curl_req *last;   /* what the options are set for */
    uint64_t body_bytes;
    struct hn_buf body;     /* kept body, for checks */
    struct hn_buf url;      /* templated steps: the expanded URL */
    struct hn_buf hdrs;     /* templated steps: header lines, NUL-separated */
    struct hn_buf post;     /* templated steps: the expanded body */
    struct curl_slist *nodes; /* list cells pointing into hdrs (no malloc per request) */
    size_t n_nodes;
    struct curl_xfer *next_idle;
    char **jar;        /* the user's cookie jar while it runs (NULL: cookies off) */
    int jar_dirty;     /* curl's cookie store on this handle may hold someone's cookies */
    char errbuf[CURL_ERROR_SIZE];
};

/* Easy handles kept when idle (a few per user at most run at once). */
#define MAX_IDLE_HANDLES 256

struct hn_curl {
    struct hn_http *http;
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    struct hn_http_config cfg;
    struct curl_xfer *idle;
    size_t n_idle, n_flight;
    struct sock_ctx *socks;
    struct sock_ctx **by_fd; /* parked and active sockets by descriptor */
    size_t n_by_fd;
    int pending_closes;
    int destroying;
};

static int g_curl_ready;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct curl_xfer *x = userdata;
    size_t n = size * nmemb;
    x->body_bytes += n;
    if (x->req && x->req->keep_body && !x->body.truncated)
        hn_buf_append(&x->body, ptr, n); /* kept up to the cap, counted in full */
    return n;
}

/* The failure's kind, and curl's words where the kind needs them: its error buffer names what
 * was wrong with a reply ("Received HTTP/0.9 when not allowed") where curl_easy_strerror would
 * say only "Unsupported protocol". */
static enum hn_http_err transport_error(struct curl_xfer *x, CURLcode rc, const char **detail)
{
    long oserr = 0;
    curl_off_t connected_us = 0;
    *detail = NULL;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &connected_us);
        return connected_us == 0 ? HN_HTTP_E_CONNECT_TIMEOUT : HN_HTTP_E_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
        return HN_HTTP_E_RESOLVE;
    case CURLE_GOT_NOTHING:
        return HN_HTTP_E_CLOSED;
    case CURLE_PARTIAL_FILE:
        *detail = "Connection closed before the response ended";
        return HN_HTTP_E_CLOSED;
    case CURLE_TOO_MANY_REDIRECTS:
        return HN_HTTP_E_REDIRECTS;
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &oserr);
        if (oserr > 0) {
            *detail = strerror((int)oserr); /* "Connection refused" */
            return HN_HTTP_E_REFUSED;
        }
        break;
    case CURLE_OUT_OF_MEMORY:
        /* curl reports a response header line over its 100 KiB buffer (CURL_MAX_HTTP_HEADER)
         * as out of memory, with nothing in the error buffer; hornet's own allocations abort */
        if (!x->errbuf[0])
            return HN_HTTP_E_TOO_LARGE;
        break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        if (strstr(x->errbuf, "hunk")) { /* "... in the chunky parser" */
            *detail = "Invalid HTTP response: bad chunk size";
            return HN_HTTP_E_PROTOCOL;
        }
        /* curl's detail is "Recv failure: Connection reset by peer": keep the OS reason */
        if (!strncmp(x->errbuf, "Recv failure: ", 14) || !strncmp(x->errbuf, "Send failure: ", 14)) {
            *detail = x->errbuf + 14;
            return HN_HTTP_E_RESET;
        }
        break;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
        /* the same words as the native engine's (h1resp.c) for the same fault */
        *detail = strstr(x->errbuf, "HTTP/0.9") || strstr(x->errbuf, "HTTP version")
                      ? "Invalid HTTP response: not an HTTP/1.x status line"
                  : strstr(x->errbuf, "response code") || strstr(x->errbuf, "status line")
                      ? "Invalid HTTP response: bad status code"
                  : strstr(x->errbuf, "hunk")
                      ? "Invalid HTTP response: bad chunk size"
                      : x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
        return HN_HTTP_E_PROTOCOL;

    default:
        break;
    }
    if (!strncmp(x->errbuf, "Too large response headers", 26)) /* curl's 300 KiB in all */
        return HN_HTTP_E_TOO_LARGE;
    *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
    return HN_HTTP_E_OTHER;
}

static void xfer_free(struct curl_xfer *x)
{
    curl_easy_cleanup(x->easy);
    hn_buf_fini(&x->body);
    hn_buf_fini(&x->url);
    hn_buf_fini(&x->hdrs);
    hn_buf_fini(&x->post);
    free(x->nodes);
    free(x);
}

static void release_handle(struct hn_curl *h, struct curl_xfer *x)
{
    x->head.cb = NULL;
    x->head.arg = NULL;
    x->req = NULL;
    x->jar = NULL;
    if (h->n_idle >= MAX_IDLE_HANDLES) {
        xfer_free(x);
        return;
    }
    x->next_idle = h->idle;
    h->idle = x;
    h->n_idle++;
}

/* After a transfer: did any response of it (redirects included) set a cookie? Then curl's
 * store on the handle is the user's jar now, copied out in curl's own line format. */
static void keep_cookies(struct curl_xfer *x, long redirects)
{
    int set = 0;
    struct curl_header *hd;
    for (long i = 0; i <= redirects && !set; i++)
        set = curl_easy_header(x->easy, "Set-Cookie", 0, CURLH_HEADER, (int)i, &hd) == CURLHE_OK;
    if (set)
        x->jar_dirty = 1;
    if (!set || !x->jar)
        return;
    struct curl_slist *list = NULL;
    if (curl_easy_getinfo(x->easy, CURLINFO_COOKIELIST, &list) != CURLE_OK)
        return;
    struct hn_buf b;
    hn_buf_init(&b, JAR_MAX_BYTES);
    for (struct curl_slist *l = list; l; l = l->next) {
        size_t n = strlen(l->data);
        if (b.len + n + 1 >= JAR_MAX_BYTES)
            break;
        hn_buf_append(&b, l->data, n);
        hn_buf_append(&b, "\n", 1);
    }
    curl_slist_free_all(list);
    free(*x->jar);
    *x->jar = NULL;
    if (b.len)
        *x->jar = hn_strdup(hn_buf_cstr(&b));
    hn_buf_fini(&b);
}

/* Before a transfer: curl's store on the handle holds exactly this user's cookies, or none. */
static void load_cookies(struct curl_xfer *x, char **jar)
{
    x->jar = jar;
    if (x->jar_dirty)
        curl_easy_setopt(x->easy, CURLOPT_COOKIELIST, "ALL");
    x->jar_dirty = 0;
    if (!jar || !*jar)
        return;
    char *p = *jar;
    while (*p) {
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = '\0'; /* curl copies the line */
        curl_easy_setopt(x->easy, CURLOPT_COOKIELIST, p);
        *nl = '\n';
        p = nl + 1;
    }
    x->jar_dirty = 1;
}

static void check_done(struct hn_curl *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct curl_xfer *x = NULL;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        struct hn_http_end e = {.body_bytes = x->body_bytes};
        if (x->req->keep_body) {
            e.body = hn_buf_cstr(&x->body);
            e.body_len = x->body.len;
        }
        size_t el = strlen(x->errbuf);
        while (el && (x->errbuf[el - 1] == '\n' || x->errbuf[el - 1] == '.'))
            x->errbuf[--el] = '\0';
        if (rc == CURLE_OK) {
            curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &e.status);
            e.kind = HN_HTTP_OK;
        } else {
            e.kind = transport_error(x, rc, &e.detail);
        }
        long redirects = 0;
        curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_COUNT, &redirects);
        keep_cookies(x, redirects);
        curl_multi_remove_handle(h->multi, x->easy);
        h->n_flight--;
        /* the message lives in x until the callback returns; release afterwards */
        hn_http_complete(&x->head, &e);
        release_handle(h, x);
    }
}

static void on_poll(uv_poll_t *p, int status, int events);

static void set_events(struct sock_ctx *s, int events)
{
    if (s->events == events)
        return; /* no epoll_ctl when nothing changes */
    s->events = events;
    if (events)
        uv_poll_start(&s->poll, events, on_poll);
    else
        uv_poll_stop(&s->poll);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock_ctx *s = p->data;
    struct hn_curl *h = s->h;
    if (status < 0)
        s->events = 0; /* libuv stopped the handle on the error */
    if (s->parked) {
        /* an idle connection spoke (the peer closed it): stop watching; curl notices the dead
         * connection itself before it would reuse it */
        set_events(s, 0);
        return;
    }
    int flags = 0;
    /* On a socket error (libuv reports EPOLLERR as a status) let curl read and write, so it
     * meets the real OS error ("Connection reset by peer") instead of a generic poll error. */
    if (status < 0)
        flags = CURL_CSELECT_IN | CURL_CSELECT_OUT;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    /* if curl still wants the socket after an error, watch it again */
    if (status < 0 && !s->closing && !s->parked)
        set_events(s, s->want);
    check_done(h);
}

static void on_timeout(uv_timer_t *t)
{
    struct hn_curl *h = t->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct hn_curl *h = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

static void close_done(struct hn_curl *h)
{
    if (--h->pending_closes == 0 && h->destroying)
        free(h);
}

static void on_sock_closed(uv_handle_t *hd)
{
    struct sock_ctx *s = hd->data;
    struct hn_curl *h = s->h;
    free(s);
    close_done(h);
}

static void sock_close(struct sock_ctx *s)
{
    struct hn_curl *h = s->h;
    if (s->closing)
        return;
    s->closing = 1;
    if ((size_t)s->fd < h->n_by_fd && h->by_fd[s->fd] == s)
        h->by_fd[s->fd] = NULL;
    if (s->prev)
        s->prev->next = s->next;
    else
        h->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    h->pending_closes++;
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

/* curl's socket callback. A connection that goes back to the cache is REMOVEd, and picked up
 * again for the next request: rather than an epoll_ctl DEL and ADD around every request, the
 * poll handle stays, parked, watching for readability only (an idle keep-alive connection is
 * silent), and is closed when curl closes the socket (on_close_socket). */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct hn_curl *h = userp;
    struct sock_ctx *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s && !s->established) {
            /* A connect abandoned (timeout, cancel, refused): curl closes such a socket without
             * the close-socket callback, so close the poll now, while the descriptor is still
             * open; re-arming it would make libuv epoll_ctl a closed descriptor and abort. */
            curl_multi_assign(h->multi, fd, NULL);
            sock_close(s);
            return 0;
        }
        if (s) {
            curl_multi_assign(h->multi, fd, NULL);
            s->parked = 1;
            s->want = 0;
            if (s->events)
                set_events(s, UV_READABLE);
        }
        return 0;
    }
    if (!s) {
        s = (size_t)fd < h->n_by_fd ? h->by_fd[fd] : NULL;
        if (s) {
            s->parked = 0;
        } else {
            s = hn_calloc(1, sizeof *s);
            s->fd = fd;
            s->h = h;
            if (uv_poll_init_socket(h->loop, &s->poll, fd) != 0) {
                free(s);
                return -1;
            }
            s->poll.data = s;
            s->next = h->socks;
            if (h->socks)
                h->socks->prev = s;
            h->socks = s;
            if ((size_t)fd >= h->n_by_fd) {
                size_t n = h->n_by_fd ? h->n_by_fd : 256;
                while (n <= (size_t)fd)
                    n *= 2;
                h->by_fd = hn_realloc(h->by_fd, n * sizeof *h->by_fd);
                memset(h->by_fd + h->n_by_fd, 0, (n - h->n_by_fd) * sizeof *h->by_fd);
                h->n_by_fd = n;
            }
            h->by_fd[fd] = s;
        }
        curl_multi_assign(h->multi, fd, s);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    if (events & UV_READABLE)
        s->established = 1; /* while connecting curl only waits to write */
    s->want = events;
    set_events(s, events);
    return 0;
}

/* Every socket curl opens or closes passes here, so no poll handle outlives its descriptor:
 * the handle is closed (epoll DEL) while the descriptor is still open. */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *addr)
{
    struct hn_curl *h = clientp;
    (void)purpose;
    curl_socket_t fd = socket(addr->family, addr->socktype, addr->protocol);
    if (fd >= 0 && (size_t)fd < h->n_by_fd && h->by_fd[fd])
        sock_close(h->by_fd[fd]); /* stale: its descriptor was closed behind our back */
    return fd;
}

static int on_close_socket(void *clientp, curl_socket_t fd)
{
    struct hn_curl *h = clientp;
    if ((size_t)fd < h->n_by_fd && h->by_fd[fd])
        sock_close(h->by_fd[fd]);
    return close(fd);
}

struct hn_curl *hn_curl_new(struct hn_http *http)
{
    if (!g_curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            hn_error("libcurl could not be initialised");
            return NULL;
        }
        g_curl_ready = 1;
    }
    struct hn_curl *h = hn_calloc(1, sizeof *h);
    h->http = http;
    h->loop = http->loop;
    h->cfg = http->cfg;
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h);
        hn_error("libcurl could not create a multi handle");
        return NULL;
    }
    uv_timer_init(h->loop, &h->timer);
    h->timer.data = h;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 64L);
    return h;
}

static void on_timer_closed(uv_handle_t *hd) { close_done(hd->data); }

void hn_curl_destroy(struct hn_curl *h)
{
    if (!h)
        return;
    h->destroying = 1;
    /* In-flight transfers belong to users, who cancel them before this; free the pool. */
    while (h->idle) {
        struct curl_xfer *x = h->idle;
        h->idle = x->next_idle;
        xfer_free(x);
    }
    curl_multi_cleanup(h->multi); /* closes cached connections; may call on_curl_socket */
    h->multi = NULL;
    /* Polls curl did not remove, then the timer; free h after the last close callback. */
    h->pending_closes++; /* the timer */
    while (h->socks)
        sock_close(h->socks);
    free(h->by_fd);
    h->by_fd = NULL;
    h->n_by_fd = 0;
    uv_close((uv_handle_t *)&h->timer, on_timer_closed);
}

void hn_curl_set_max_connections(struct hn_curl *h, size_t n)
{
    long v = (long)(n < 16 ? 16 : n + 16);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, v);
}

void *hn_curl_req_new(struct hn_curl *h, const struct hn_http_req *hr, const char *base_url,
                      const struct hn_http_tls *tls, char *err, size_t errlen)
{
    (void)h;
    const struct hn_http_step *step = hr->step;
    struct curl_req *r = hn_calloc(1, sizeof *r);
    r->step = step;
    if (tls)
        r->tls = *tls;
    r->tls.insecure |= step->insecure;
    r->dynamic = step->is_dynamic;
    r->dynamic_url = !step->url->is_static;
    r->keep_body = step->needs_body;
    const char *url = step->url->text;
    size_t bl = strlen(base_url);
    while (bl && base_url[bl - 1] == '/')
        bl--;
    if (r->dynamic_url) {
        r->url = hn_strndup(base_url, bl); /* the expanded path is appended per request */
    } else if (url[0] == '/') {
        size_t ul = strlen(url);
        r->url = hn_malloc(bl + ul + 1);
        memcpy(r->url, base_url, bl);
        memcpy(r->url + bl, url, ul + 1);
    } else {
        r->url = hn_strdup(url);
    }
    CURLU *u = curl_url();
    int bad = curl_url_set(u, CURLUPART_URL, r->url, 0) != CURLUE_OK;
    curl_url_cleanup(u);
    if (bad) {
        snprintf(err, errlen, "'%s' is not a valid URL", r->url);
        hn_curl_req_free(r);
        return NULL;
    }
    char line[8192];
    for (size_t i = 0; i < step->n_headers && !r->dynamic; i++) {
        snprintf(line, sizeof line, "%s: %s", step->headers[i].name,
                 step->headers[i].value->text);
        r->headers = curl_slist_append(r->headers, line);
    }
    struct curl_slist **fixed = r->dynamic ? &r->fixed : &r->headers;
    if (step->content_type) {
        snprintf(line, sizeof line, "Content-Type: %s", step->content_type);
        *fixed = curl_slist_append(*fixed, line);
    }
    r->has_body = step->body != NULL;
    if (r->has_body) /* no "Expect: 100-continue" round trip */
        *fixed = curl_slist_append(*fixed, "Expect:");
    r->is_head = !strcmp(step->method, "HEAD");
    r->custom = strcmp(step->method, "GET") && strcmp(step->method, "POST") && !r->is_head;
    if (!r->has_body && !strcmp(step->method, "POST"))
        r->custom = 0;
    r->timeout_ms = hr->timeout_ms;
    return r;
}

void hn_curl_req_free(void *impl)
{
    struct curl_req *r = impl;
    if (!r)
        return;
    curl_slist_free_all(r->headers);
    curl_slist_free_all(r->fixed);
    free(r->url);
    free(r);
}

static struct curl_xfer *borrow(struct hn_curl *h)
{
    struct curl_xfer *x = h->idle;
    if (x) {
        h->idle = x->next_idle;
        h->n_idle--;
        return x;
    }
    x = hn_calloc(1, sizeof *x);
    x->h = h;
    hn_buf_init(&x->body, h->cfg.max_body_bytes + 1);
    hn_buf_init(&x->url, 1 << 20);
    hn_buf_init(&x->hdrs, 1 << 20);
    hn_buf_init(&x->post, 16 << 20);
    x->easy = curl_easy_init();
    if (!x->easy) {
        xfer_free(x);
        return NULL;
    }
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, h);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, h);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)h->cfg.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "hornet/" HORNET_VERSION);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, ""); /* the cookie engine, with an empty store */
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 30L); /* requests' default, as in Locust */
    curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
    return x;
}

/* A PEM text as a curl blob (curl copies it); NULL clears the option. */
static void set_blob(CURL *e, CURLoption opt, const char *pem)
{
    struct curl_blob b = {(void *)pem, pem ? strlen(pem) : 0, CURL_BLOB_COPY};
    curl_easy_setopt(e, opt, pem ? &b : NULL);
}

/* Sets what differs between steps; skipped when the handle last ran the same step. */
static void apply(struct curl_xfer *x, const struct curl_req *r)
{
    if (x->last == r)
        return;
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L); /* resets body and method */
    curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    if (r->has_body && !r->dynamic) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->step->body->text));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->step->body->text);
    } else if (!strcmp(r->step->method, "POST")) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    }
    if (r->custom)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->step->method);
    if (r->is_head)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, r->step->no_redirects ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r->tls.insecure ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r->tls.insecure ? 0L : 2L);
    set_blob(e, CURLOPT_CAINFO_BLOB, r->tls.ca_pem);
    set_blob(e, CURLOPT_SSLCERT_BLOB, r->tls.cert_pem);
    set_blob(e, CURLOPT_SSLKEY_BLOB, r->tls.key_pem ? r->tls.key_pem : r->tls.cert_pem);
    x->last = r;
}

/* Copies a templated request's parts into the transfer and points curl at them: the header
 * lines become list cells over the transfer's own buffer, so no allocation once warm. */
static void apply_dyn(struct curl_xfer *x, const struct curl_req *r,
                      const struct hn_http_dyn *d)
{
    CURL *e = x->easy;
    if (r->dynamic_url) { /* a static URL was set once by apply(): curl parses it per set */
        hn_buf_reset(&x->url);
        if (d->url[0] == '/')
            hn_buf_append(&x->url, r->url, strlen(r->url));
        hn_buf_append(&x->url, d->url, strlen(d->url));
        curl_easy_setopt(e, CURLOPT_URL, hn_buf_cstr(&x->url));
    }

    hn_buf_reset(&x->hdrs);
    hn_buf_append(&x->hdrs, d->headers, d->headers_len);
    size_t n = 0;
    for (size_t i = 0; i < x->hdrs.len; i++)
        n += x->hdrs.p[i] == '\n';
    for (const struct curl_slist *f = r->fixed; f; f = f->next)
        n++;
    if (n > x->n_nodes) {
        x->nodes = hn_realloc(x->nodes, n * sizeof *x->nodes);
        x->n_nodes = n;
    }
    hn_buf_cstr(&x->hdrs);
    size_t k = 0;
    char *p = x->hdrs.p, *end = x->hdrs.p + x->hdrs.len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        *nl = '\0';
        x->nodes[k].data = p;
        x->nodes[k].next = &x->nodes[k + 1];
        k++;
        p = nl + 1;
    }
    for (struct curl_slist *f = r->fixed; f; f = f->next) {
        x->nodes[k].data = f->data;
        x->nodes[k].next = &x->nodes[k + 1];
        k++;
    }
    if (k)
        x->nodes[k - 1].next = NULL;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, k ? x->nodes : NULL);

    if (r->has_body) {
        hn_buf_reset(&x->post);
        hn_buf_append(&x->post, d->body, d->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->post.len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, hn_buf_cstr(&x->post));
    }
}

const char *hn_curl_header(struct hn_http_xfer *hx, const char *name, char *buf, size_t n)
{
    struct curl_xfer *x = (struct curl_xfer *)hx;
    struct curl_header *hd = NULL;
    if (curl_easy_header(x->easy, name, 0, CURLH_HEADER, -1, &hd) != CURLHE_OK || !hd)
        return NULL;
    /* the last occurrence wins, as with a map of headers */
    size_t amount = hd->amount;
    if (amount > 1 &&
        curl_easy_header(x->easy, name, amount - 1, CURLH_HEADER, -1, &hd) != CURLHE_OK)
        return NULL;
    snprintf(buf, n, "%s", hd->value);
    return buf;
}

struct hn_http_xfer *hn_curl_start(struct hn_curl *h, const struct hn_http_req *hr,
                                   const struct hn_http_dyn *dyn, char **jar)
{
    const struct curl_req *req = hr->impl;
    struct curl_xfer *x = borrow(h);
    if (!x) {
        hn_error("libcurl could not create an easy handle");
        return NULL;
    }
    apply(x, req);
    if (req->dynamic)
        apply_dyn(x, req, dyn);
    load_cookies(x, req->step->no_cookies ? NULL : jar);
    hn_buf_reset(&x->body);
    x->req = req;
    x->body_bytes = 0;
    x->errbuf[0] = '\0';
    CURLMcode rc = curl_multi_add_handle(h->multi, x->easy);
    if (rc != CURLM_OK) {
        hn_error("libcurl refused a transfer: %s", curl_multi_strerror(rc));
        release_handle(h, x);
        return NULL;
    }
    h->n_flight++;
    return &x->head;
}

void hn_curl_cancel(struct hn_curl *h, struct hn_http_xfer *hx)
{
    struct curl_xfer *x = (struct curl_xfer *)hx;
    curl_multi_remove_handle(h->multi, x->easy);
    h->n_flight--;
    release_handle(h, x);
}
