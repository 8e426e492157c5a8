/* The master's HTTP server (libmicrohttpd; the only module that includes microhttpd.h). It runs
 * on the master's own loop: no thread; its epoll descriptor joins the loop's poll and
 * hn_web_run serves whatever is ready without blocking. Hostile clients are bounded by the
 * library's limits: a connection silent for 10 s is closed, at most 128 connections (64 per
 * address, so a slowloris from one address leaves room for others), a request's headers in
 * 32 KiB (a bigger one is refused), a body in 64 KiB. A reply that reads a database is made on
 * a thread of its own (struct hn_web_reply's work), so the loop never waits for the disk. */
#ifndef HN_WEB_H
#define HN_WEB_H

#include <stddef.h>

struct hn_web;

struct hn_web_reply;
/* Work that makes a reply off the loop (it reads a database): it gets only its own argument. */
typedef void (*hn_web_work_fn)(void *arg, struct hn_web_reply *out);

/* What a handler answers: the status, the content type and a malloc'd body (taken over).
 * static_body: a body that outlives the server (embedded files), not freed. stream: the
 * connection stays open as Server-Sent Events: the body first, then every hn_web_publish.
 * download: a file name for Content-Disposition (a download in a browser).
 * work: the reply takes time (a database read) and is made by work(work_arg, out) on a thread
 * of its own while the loop goes on; the connection waits, suspended, and the reply goes out
 * from hn_web_run once the work is done; work_free(work_arg) after (also if it never ran). At
 * most 4 at once: beyond, 503. The work touches nothing but its argument. */
struct hn_web_reply {
    unsigned status;
    const char *content_type;
    char *body;
    size_t len;
    const char *static_body;
    int stream;
    const char *download;
    hn_web_work_fn work;
    void *work_arg;
    void (*work_free)(void *arg);
};

/* One request: method, path (no query), the query string's or form body's field lookup. */
struct hn_web_req {
    const char *method, *path;
    const char *body; /* the request's body (POST forms), NUL-terminated; "" if none */
    size_t body_len;
    void *conn;       /* for hn_web_arg */
};
/* A query-string argument of the request, or NULL. */
const char *hn_web_arg(const struct hn_web_req *r, const char *name);

typedef void (*hn_web_handler)(void *ctx, const struct hn_web_req *req, struct hn_web_reply *out);

struct hn_web_config {
    const char *host;
    unsigned port;        /* 0: any free one */
    const char *auth;     /* "USER:PASSWORD": every request needs HTTP basic auth (else 401) */
    const char *tls_cert; /* PEM texts (not paths): HTTPS; NULL: plain HTTP */
    const char *tls_key;
};

/* Listens as cfg says. Returns NULL with a one-line reason in err. */
struct hn_web *hn_web_open(const struct hn_web_config *cfg, hn_web_handler fn, void *ctx,
                           char *err, size_t errlen);
/* Sends one Server-Sent Event (data: one line of text, e.g. JSON) to every open stream. A
 * stream that has not taken the previous event yet skips to this one: a slow reader costs
 * one event's copy, never a queue. At most 64 streams are open at once (503 beyond). */
void hn_web_publish(struct hn_web *w, const char *data, size_t len);
size_t hn_web_streams(const struct hn_web *w);
unsigned hn_web_port(const struct hn_web *w);
/* The descriptor to poll for input (an epoll one: the connections, and work that is done). */
int hn_web_fd(const struct hn_web *w);
/* Serves what is ready, sends the replies whose work is done, and closes timed-out
 * connections; never blocks. */
void hn_web_run(struct hn_web *w);
/* Waits for work under way (its replies are not sent), then closes every connection. */
void hn_web_close(struct hn_web **wp);

#endif
