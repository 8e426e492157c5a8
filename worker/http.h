/* HTTP transport of a worker: one client type with engines behind it (h2o's httpclient model).
 * - libcurl (http_curl.c, the only curl user): https, HTTP/2, proxies, client certificates,
 *   every auth scheme;
 * - native (http_native.c): plain http:// HTTP/1.1 keep-alive on the worker's libuv loop, one
 *   connection per user (as Locust's and browsers'), requests written with one writev, the
 *   response parsed incrementally (h1resp.c), a few hundred bytes per idle user.
 * Each compiled step picks its engine (auto: native for http://, curl otherwise; or forced by
 * --http-engine or the step's engine:). What users and stats see does not depend on it: the
 * error kinds and their text are built here, the latency is measured here from hn_http_start
 * to the end of the response, cookies are one jar format, checks read the same result.
 * Not thread-safe: one hn_http per loop. */
#ifndef HN_HTTP_H
#define HN_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/scenario.h"
#include "common/template.h"

struct uv_loop_s;
struct hn_http;
struct hn_http_req;  /* a step compiled for its engine */
struct hn_http_xfer; /* one request in flight */
struct hn_http_conn; /* the native engine's keep-alive connection of a user */

enum hn_http_engine { HN_HTTP_AUTO, HN_HTTP_CURL, HN_HTTP_NATIVE };
const char *hn_http_engine_name(enum hn_http_engine e);
/* "auto", "curl", "native" -> 0; else HN_EINVAL. */
int hn_http_engine_parse(const char *s, enum hn_http_engine *out);

/* What went wrong, engine-neutral; the text comes from hn_http_error_text. */
enum hn_http_err {
    HN_HTTP_OK,
    HN_HTTP_E_STATUS,          /* a response with status >= 400 (or below 100) */
    HN_HTTP_E_REFUSED,         /* connect refused (or another connect error: detail says) */
    HN_HTTP_E_CONNECT_TIMEOUT,
    HN_HTTP_E_TIMEOUT,         /* the whole request's time ran out */
    HN_HTTP_E_RESET,           /* reset by the peer, or another socket error (detail) */
    HN_HTTP_E_CLOSED,          /* closed before (or without) the whole response */
    HN_HTTP_E_PROTOCOL,        /* not a valid HTTP response (detail) */
    HN_HTTP_E_TOO_LARGE,       /* headers over the cap */
    HN_HTTP_E_RESOLVE,
    HN_HTTP_E_REDIRECTS,       /* over 30 redirects */
    HN_HTTP_E_OTHER,           /* the engine's own words (detail) */
};

struct hn_http_result {
    int failed;          /* transport error, or HTTP status >= 400 */
    enum hn_http_err kind;
    long status;         /* HTTP status, 0 when no response arrived */
    uint64_t latency_us; /* from hn_http_start to the last byte of the response (or the error) */
    uint64_t body_bytes;
    const char *error;   /* when failed: a stable message ("Connection refused", "HTTP 500",
                            "Timeout after 10000 ms"); borrowed until the callback returns */
    const char *body;    /* the body kept for checks (steps that need it), else NULL */
    size_t body_len;     /* bytes kept: at most the cap; body_bytes counts them all */
    struct hn_http_xfer *xfer; /* for hn_http_result_header, during the callback */
};

/* One response header's value (the last if repeated) copied into buf; NULL if absent. */
const char *hn_http_result_header(const struct hn_http_result *res, const char *name, char *buf,
                                  size_t n);

/* The per-request parts of a templated step, expanded by the caller. Borrowed for the call
 * only: the transport copies what it keeps into the transfer's own reusable buffers. */
struct hn_http_dyn {
    const char *url;     /* ignored when the step's URL is static */
    const char *headers; /* "Name: value" lines, each ending in '\n' */
    size_t headers_len;
    const char *body;
    size_t body_len;
};

/* A user's HTTP state (Locust's HttpSession): its cookie jar (jar lines, NULL while empty) and
 * its keep-alive connection on the native engine. Zeroed by the user; hn_http_session_close
 * ends it. */
struct hn_http_session {
    char *jar;
    struct hn_http_conn *conn;
};
void hn_http_session_close(struct hn_http *h, struct hn_http_session *s);

typedef void (*hn_http_done_fn)(void *arg, const struct hn_http_result *res);

struct hn_http_config {
    int64_t request_timeout_ms; /* for steps without their own timeout */
    int64_t connect_timeout_ms;
    size_t max_body_bytes;      /* bodies kept for checks are cut here */
    enum hn_http_engine engine; /* --http-engine: auto, or one for every step */
};

/* Counters of the native engine's connections (the workers' log and the benchmarks). */
struct hn_http_counters {
    uint64_t opened, reused, retried;
};
void hn_http_counters(const struct hn_http *h, struct hn_http_counters *c);

/* Creates the transport on loop. Returns NULL if it cannot be set up (logged). */
struct hn_http *hn_http_new(struct uv_loop_s *loop, const struct hn_http_config *cfg);
/* Cancels every transfer, closes the loop's handles; the loop must run once more to finish the
 * closes, after which the memory is freed. Sessions are closed by their users first. */
void hn_http_destroy(struct hn_http **hp);

/* How many users there are (curl's connection cache follows it). */
void hn_http_set_max_connections(struct hn_http *h, size_t n);

/* TLS settings of a compiled request (the scenario's tls: and the command line's flags). The
 * PEM texts are borrowed and must outlive the request; NULL = none (the system's CAs). */
struct hn_http_tls {
    int insecure;
    const char *ca_pem, *cert_pem, *key_pem;
};

/* Compiles a step against a base URL ("http://host:port", no trailing slash needed). The step
 * and tls must outlive the compiled request. For a templated step only the static parts are
 * compiled; the URL is checked per request. Returns NULL with a one-line reason in err. */
struct hn_http_req *hn_http_req_new(struct hn_http *h, const struct hn_http_step *step,
                                    const char *base_url, const struct hn_http_tls *tls,
                                    char *err, size_t errlen);
void hn_http_req_destroy(struct hn_http_req **rp);
/* The engine the compiled step runs on. */
enum hn_http_engine hn_http_req_engine(const struct hn_http_req *r);

/* Starts a request; dyn carries the expanded parts of a templated step (NULL for a static one).
 * s is the user's session (NULL: no cookies, a connection of its own closed afterwards); a
 * step with cookies: false neither sends nor keeps cookies. cb runs exactly once from the loop
 * unless the transfer is cancelled first. Returns NULL (and runs nothing) if the transfer could
 * not be started (logged once). */
struct hn_http_xfer *hn_http_start(struct hn_http *h, const struct hn_http_req *req,
                                   const struct hn_http_dyn *dyn, struct hn_http_session *s,
                                   hn_http_done_fn cb, void *arg);
/* Abandons a transfer in flight: the callback will not run. */
void hn_http_cancel(struct hn_http *h, struct hn_http_xfer *x);

#endif
