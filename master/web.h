/* The master's HTTP server (libmicrohttpd; the only module that includes microhttpd.h). It runs
 * on the master's own loop: no thread; its epoll descriptor joins the loop's poll and
 * hn_web_run serves whatever is ready without blocking. Hostile clients are bounded by the
 * library's limits: a connection silent for 10 s is closed, at most 128 connections (64 per
 * address, so a slowloris from one address leaves room for others), a request's headers in
 * 32 KiB (a bigger one is refused), a body in 64 KiB. */
#ifndef HN_WEB_H
#define HN_WEB_H

#include <stddef.h>

struct hn_web;

/* What a handler answers: the status, the content type and a malloc'd body (taken over). */
struct hn_web_reply {
    unsigned status;
    const char *content_type;
    char *body;
    size_t len;
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

/* Listens on host:port (port 0: any free one). auth "USER:PASSWORD" (NULL: none) makes every
 * request need HTTP basic auth (401 otherwise). Returns NULL with a one-line reason in err. */
struct hn_web *hn_web_open(const char *host, unsigned port, const char *auth, hn_web_handler fn,
                           void *ctx, char *err, size_t errlen);
unsigned hn_web_port(const struct hn_web *w);
/* The descriptor to poll for input (epoll's). */
int hn_web_fd(const struct hn_web *w);
/* Serves what is ready (and closes timed-out connections); never blocks. */
void hn_web_run(struct hn_web *w);
void hn_web_close(struct hn_web **wp);

#endif
