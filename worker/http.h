/* HTTP transport of a worker: requests run on the worker's libuv loop. This is the only module
 * that includes curl.h; users and stats see only this interface, so a native HTTP/1.1 engine for
 * plain keep-alive traffic can be added behind it later (libcurl stays for TLS, HTTP/2, proxies).
 *
 * libcurl's multi_socket interface is driven by one uv_poll per socket and one uv_timer (curl's
 * multi-uv pattern). Easy handles are pooled: a user borrows one only for the duration of a
 * request, so an idle user costs no easy handle; connections stay in the multi's connection
 * cache (sized to the user count), so an idle user's keep-alive connection survives.
 * Not thread-safe: one hn_http per loop. */
#ifndef HN_HTTP_H
#define HN_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/scenario.h"
#include "common/template.h"

struct hn_http;
struct hn_http_req;  /* a step compiled for this transport */
struct hn_http_xfer; /* one request in flight */

struct hn_http_result {
    int failed;          /* transport error, or HTTP status >= 400 */
    long status;         /* HTTP status, 0 when no response arrived */
    uint64_t latency_us; /* from start to the last byte of the response (or the error) */
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

typedef void (*hn_http_done_fn)(void *arg, const struct hn_http_result *res);

struct hn_http_config {
    int64_t request_timeout_ms; /* for steps without their own timeout */
    int64_t connect_timeout_ms;
    size_t max_idle_handles;    /* pooled easy handles kept when idle */
    size_t max_body_bytes;      /* bodies kept for checks are cut here */
};

/* Creates the transport on loop. Returns NULL if libcurl cannot be set up (logged). */
struct hn_http *hn_http_new(uv_loop_t *loop, const struct hn_http_config *cfg);
/* Cancels every transfer, closes the uv handles; the loop must run once more to finish the
 * closes, after which the memory is freed. */
void hn_http_destroy(struct hn_http **hp);

/* Keep up to n idle connections (the connection cache); call when the user count changes. */
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

/* Starts a request; dyn carries the expanded parts of a templated step (NULL for a static one).
 * jar is the user's cookie jar (Locust's HttpSession: *jar NULL while empty, owned by the user,
 * freed with free()): its cookies are sent and the response's Set-Cookie lines (redirects
 * included) update it when the transfer ends. jar NULL, or a step with cookies: false, neither
 * sends nor keeps cookies. cb runs exactly once from the loop unless the transfer is cancelled
 * first. Returns NULL (and runs nothing) if the transfer could not be started (logged once). */
struct hn_http_xfer *hn_http_start(struct hn_http *h, const struct hn_http_req *req,
                                   const struct hn_http_dyn *dyn, char **jar, hn_http_done_fn cb,
                                   void *arg);
/* Abandons a transfer in flight: the callback will not run. */
void hn_http_cancel(struct hn_http *h, struct hn_http_xfer *x);

#endif
