#include "master/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/template.h"
#include "common/util.h"

#define BODY_MAX (64 * 1024)
#define STREAMS_MAX 64
#define JOBS_MAX 4

/* An open Server-Sent Events response: what it still has to send, and which event it took. */
struct stream {
    struct hn_web *w;
    struct MHD_Connection *c;
    char *pending;
    size_t len, off;
    uint64_t seq;
    int suspended;
    struct stream *prev, *next;
};

/* A reply being made on a thread of its own; its connection is suspended meanwhile. */
struct job {
    struct hn_web *w;
    struct MHD_Connection *c;
    pthread_t thread;
    hn_web_work_fn fn;
    void *arg;
    void (*free_arg)(void *);
    struct hn_web_reply out;
    atomic_int done;
    int resumed, joined;
    struct job *prev, *next;
};

struct hn_web {
    struct MHD_Daemon *d;
    int poll_fd;            /* epoll: MHD's own epoll descriptor and wake_fd */
    int wake_fd;            /* eventfd: a job is done */
    struct job *jobs;       /* under way or done, not yet sent */
    size_t n_jobs;
    char *authorization; /* "Basic base64(user:password)", or NULL */
    hn_web_handler fn;
    void *ctx;
    unsigned port;
    int epoll_fd;
    struct stream *streams; /* a list of the open ones */
    size_t n_streams;
    char *event;            /* the last published event, framed ("data: ...\n\n") */
    size_t event_len;
    uint64_t seq;           /* of that event */
};

/* A request's body, gathered across MHD's calls; and its job, if its reply is made off the
 * loop. */
struct upload {
    char *p;
    size_t len;
    int too_big;
    struct job *job;
};

const char *hn_web_arg(const struct hn_web_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* Compares a credential in time independent of where it differs. */
static int same(const char *got, const char *want)
{
    if (!got)
        return 0;
    size_t gl = strlen(got), wl = strlen(want);
    unsigned char diff = gl != wl;
    for (size_t i = 0; i < wl; i++)
        diff |= (unsigned char)(got[i < gl ? i : 0] ^ want[i]);
    return diff == 0;
}

/* MHD asks a stream for its next bytes: the rest of what it holds, else the newest event it
 * has not sent, else nothing for now (suspended until the next publish). */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *st = cls;
    struct hn_web *w = st->w;
    if (st->off >= st->len) {
        free(st->pending);
        st->pending = NULL;
        st->len = st->off = 0;
        if (st->seq == w->seq || !w->event) {
            st->suspended = 1;
            MHD_suspend_connection(st->c);
            return 0;
        }
        st->pending = hn_malloc(w->event_len);
        memcpy(st->pending, w->event, w->event_len);
        st->len = w->event_len;
        st->seq = w->seq;
    }
    size_t n = st->len - st->off < max ? st->len - st->off : max;
    memcpy(buf, st->pending + st->off, n);
    st->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *st = cls;
    struct hn_web *w = st->w;
    if (st->prev)
        st->prev->next = st->next;
    else
        w->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    w->n_streams--;
    free(st->pending);
    free(st);
}

void hn_web_publish(struct hn_web *w, const char *data, size_t len)
{
    if (!w)
        return;
    free(w->event);
    w->event = hn_malloc(len + 9);
    memcpy(w->event, "data: ", 6);
    memcpy(w->event + 6, data, len);
    for (size_t i = 6; i < len + 6; i++)
        if (w->event[i] == '\n' || w->event[i] == '\r')
            w->event[i] = ' '; /* one event is one data line */
    memcpy(w->event + 6 + len, "\n\n", 3);
    w->event_len = len + 8;
    w->seq++;
    for (struct stream *st = w->streams; st; st = st->next)
        if (st->suspended) {
            st->suspended = 0;
            MHD_resume_connection(st->c);
        }
}

size_t hn_web_streams(const struct hn_web *w) { return w ? w->n_streams : 0; }

static struct MHD_Response *open_stream(struct hn_web *w, struct MHD_Connection *c,
                                        struct hn_web_reply *out)
{
    if (w->n_streams >= STREAMS_MAX) {
        free(out->body);
        out->body = hn_strdup("too many open event streams\n");
        out->len = strlen(out->body);
        out->status = MHD_HTTP_SERVICE_UNAVAILABLE;
        out->stream = 0;
        return NULL;
    }
    struct stream *st = hn_calloc(1, sizeof *st);
    st->w = w;
    st->c = c;
    st->pending = out->body; /* the first event: taken over */
    st->len = out->len;
    st->seq = w->seq;        /* what was published before is in it */
    out->body = NULL;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, st, stream_free);
    if (!resp) {
        free(st->pending);
        free(st);
        return NULL;
    }
    st->next = w->streams;
    if (w->streams)
        w->streams->prev = st;
    w->streams = st;
    w->n_streams++;
    return resp;
}

static enum MHD_Result send_reply(struct hn_web *w, struct MHD_Connection *c,
                                  struct hn_web_reply *out)
{
    struct MHD_Response *resp = NULL;
    if (out->stream)
        resp = open_stream(w, c, out);
    if (!resp && out->static_body)
        resp = MHD_create_response_from_buffer(out->len, (void *)out->static_body,
                                               MHD_RESPMEM_PERSISTENT);
    else if (!resp)
        resp = MHD_create_response_from_buffer(out->len, out->body ? out->body : (void *)"",
                                               out->body ? MHD_RESPMEM_MUST_FREE
                                                         : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(out->body);
        return MHD_NO;
    }
    if (out->stream) /* a proxy must not hold events back */
        MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    if (out->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                out->stream ? "text/event-stream" : out->content_type);
    if (out->download) {
        char cd[300];
        snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", out->download);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, cd);
    }
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result r = MHD_queue_response(c, out->status, resp);
    MHD_destroy_response(resp);
    return r;
}

static void *job_main(void *cls)
{
    struct job *j = cls;
    j->fn(j->arg, &j->out);
    atomic_store(&j->done, 1);
    uint64_t one = 1;
    if (write(j->w->wake_fd, &one, sizeof one) < 0) {
        /* the counter is full: the loop is waking anyway */
    }
    return NULL;
}

/* Starts the reply's work on a thread and suspends the connection; 0, or -1 when it cannot
 * (too many at once, no thread): then out is a 503. */
static int job_start(struct hn_web *w, struct MHD_Connection *c, struct upload *u,
                     struct hn_web_reply *out)
{
    struct job *j = NULL;
    if (w->n_jobs < JOBS_MAX) {
        j = hn_calloc(1, sizeof *j);
        j->w = w;
        j->c = c;
        j->fn = out->work;
        j->arg = out->work_arg;
        j->free_arg = out->work_free;
        if (pthread_create(&j->thread, NULL, job_main, j)) {
            free(j);
            j = NULL;
        }
    }
    if (!j) {
        if (out->work_free)
            out->work_free(out->work_arg);
        memset(out, 0, sizeof *out);
        out->status = MHD_HTTP_SERVICE_UNAVAILABLE;
        out->content_type = "text/plain";
        out->body = hn_strdup("busy: too many history requests at once; try again\n");
        out->len = strlen(out->body);
        return -1;
    }
    j->next = w->jobs;
    if (w->jobs)
        w->jobs->prev = j;
    w->jobs = j;
    w->n_jobs++;
    u->job = j;
    MHD_suspend_connection(c);
    return 0;
}

/* Waits for a job's thread, then frees it (and its reply, unless it was sent). */
static void job_free(struct job *j)
{
    struct hn_web *w = j->w;
    if (!j->joined)
        pthread_join(j->thread, NULL);
    if (j->prev)
        j->prev->next = j->next;
    else
        w->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    w->n_jobs--;
    if (j->free_arg)
        j->free_arg(j->arg);
    free(j->out.body);
    free(j);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    struct hn_web *w = cls;
    struct upload *u = *con_cls;
    if (!u) { /* the headers are in: the body (if any) follows in later calls */
        u = hn_calloc(1, sizeof *u);
        *con_cls = u;
        return MHD_YES;
    }
    if (*upload_size) {
        if (u->len + *upload_size > BODY_MAX) {
            u->too_big = 1;
        } else {
            u->p = hn_realloc(u->p, u->len + *upload_size + 1);
            memcpy(u->p + u->len, upload_data, *upload_size);
            u->len += *upload_size;
            u->p[u->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (u->job) { /* resumed: the work is done */
        struct hn_web_reply out = u->job->out;
        memset(&u->job->out, 0, sizeof u->job->out);
        job_free(u->job);
        u->job = NULL;
        return send_reply(w, c, &out);
    }
    struct hn_web_reply out = {0};
    if (w->authorization && !same(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                              MHD_HTTP_HEADER_AUTHORIZATION),
                                  w->authorization)) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(
            13, (void *)"unauthorized\n", MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"hornet\", charset=\"UTF-8\"");
        enum MHD_Result r = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, resp);
        MHD_destroy_response(resp);
        return r;
    }
    if (u->too_big) {
        out.status = MHD_HTTP_CONTENT_TOO_LARGE;
        out.content_type = "text/plain";
        out.body = hn_strdup("request body over 64 KiB\n");
        out.len = strlen(out.body);
    } else {
        struct hn_web_req req = {method, url, u->p ? u->p : "", u->len, c};
        w->fn(w->ctx, &req, &out);
        if (out.work && job_start(w, c, u, &out) == 0)
            return MHD_YES;
    }
    return send_reply(w, c, &out);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct upload *u = *con_cls;
    if (u) {
        if (u->job)
            job_free(u->job);
        free(u->p);
        free(u);
    }
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    hn_debug("web server: %s", msg);
}

struct hn_web *hn_web_open(const struct hn_web_config *cfg, hn_web_handler fn, void *ctx,
                           char *err, size_t errlen)
{
    const char *host = cfg->host, *auth = cfg->auth;
    unsigned port = cfg->port;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, strcmp(host, "localhost") ? host : "127.0.0.1", &sa.sin_addr) != 1) {
        snprintf(err, errlen, "'%s' is not an IPv4 address", host);
        return NULL;
    }
    struct hn_web *w = hn_calloc(1, sizeof *w);
    w->fn = fn;
    w->ctx = ctx;
    if (auth) {
        struct hn_buf b;
        hn_buf_init(&b, 4096);
        hn_buf_append(&b, "Basic ", 6);
        hn_base64(&b, auth, strlen(auth));
        w->authorization = hn_strdup(hn_buf_cstr(&b));
        hn_buf_fini(&b);
    }
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (cfg->tls_cert && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
        snprintf(err, errlen, "this libmicrohttpd has no TLS support");
        free(w->authorization);
        free(w);
        return NULL;
    }
    /* the TLS options come last: without TLS, the list ends before them */
    w->d = MHD_start_daemon(flags | (cfg->tls_cert ? MHD_USE_TLS : 0), (uint16_t)port, NULL, NULL,
                            on_request, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)128,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)64,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                            cfg->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
                            cfg->tls_cert, MHD_OPTION_HTTPS_MEM_KEY, cfg->tls_key,
                            MHD_OPTION_END);
    if (!w->d) {
        snprintf(err, errlen, "cannot listen on %s:%u%s", host, port,
                 cfg->tls_cert ? " (or the TLS certificate and key were refused)" : "");
        free(w->authorization);
        free(w);
        return NULL;
    }
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
    w->port = i ? i->port : port;
    i = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD);
    w->epoll_fd = i ? i->epoll_fd : -1;
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->poll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    int bad = w->epoll_fd < 0 || w->wake_fd < 0 || w->poll_fd < 0;
    ev.data.fd = w->epoll_fd;
    bad = bad || epoll_ctl(w->poll_fd, EPOLL_CTL_ADD, w->epoll_fd, &ev);
    ev.data.fd = w->wake_fd;
    bad = bad || epoll_ctl(w->poll_fd, EPOLL_CTL_ADD, w->wake_fd, &ev);
    if (bad) {
        snprintf(err, errlen, "cannot poll the web server: %s", strerror(errno));
        hn_web_close(&w);
        return NULL;
    }
    return w;
}

unsigned hn_web_port(const struct hn_web *w) { return w->port; }
int hn_web_fd(const struct hn_web *w) { return w->poll_fd; }

void hn_web_run(struct hn_web *w)
{
    if (!w)
        return;
    uint64_t n;
    if (read(w->wake_fd, &n, sizeof n) > 0)
        for (struct job *j = w->jobs; j; j = j->next)
            if (!j->resumed && atomic_load(&j->done)) {
                j->resumed = 1; /* MHD calls on_request again, which sends the reply */
                MHD_resume_connection(j->c);
            }
    MHD_run(w->d);
}

void hn_web_close(struct hn_web **wp)
{
    struct hn_web *w = wp ? *wp : NULL;
    if (!w)
        return;
    for (struct stream *st = w->streams; st; st = st->next)
        if (st->suspended) { /* MHD must not stop with suspended connections */
            st->suspended = 0;
            MHD_resume_connection(st->c);
        }
    for (struct job *j = w->jobs; j; j = j->next) {
        pthread_join(j->thread, NULL); /* the work is bounded: a read of the history */
        j->joined = 1;
        if (!j->resumed) {
            j->resumed = 1;
            MHD_resume_connection(j->c);
        }
    }
    if (w->d)
        MHD_stop_daemon(w->d); /* on_done frees the jobs of the connections it ends */
    while (w->jobs)
        job_free(w->jobs);
    if (w->poll_fd >= 0)
        close(w->poll_fd);
    if (w->wake_fd >= 0)
        close(w->wake_fd);
    free(w->event);
    free(w->authorization);
    free(w);
    *wp = NULL;
}
