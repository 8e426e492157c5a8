/* What http.c (the client) and its engines (http_curl.c, http_native.c) share: the transfer's
 * head every engine's transfer starts with, the compiled step, and the engines' entry points.
 * Internal to worker/http*.c. */
#ifndef HN_HTTP_ENGINE_H
#define HN_HTTP_ENGINE_H

#include "worker/http.h"

struct hn_curl;
struct hn_native;

/* The head of every engine's transfer (its first member). */
struct hn_http_xfer {
    struct hn_http *h;
    const struct hn_http_req *req;
    hn_http_done_fn cb;
    void *arg;
    uint64_t start_us;
    enum hn_http_engine engine;
    char msg[192]; /* the error text while the callback runs */
};

struct hn_http_req {
    const struct hn_http_step *step;
    enum hn_http_engine engine;
    long timeout_ms;
    void *impl; /* the engine's compiled step */
};

struct hn_http {
    struct uv_loop_s *loop;
    struct hn_http_config cfg;
    struct hn_curl *curl;     /* made on first use */
    struct hn_native *native;
    struct hn_http_counters counters;
    size_t max_connections;
};

/* An engine ends a transfer: the client measures the latency, builds the error's text from
 * its kind (detail: the engine's words where the kind needs them), and calls the user back. */
struct hn_http_end {
    enum hn_http_err kind; /* HN_HTTP_OK when a response arrived (the status decides) */
    long status;
    const char *detail;
    uint64_t body_bytes;
    const char *body;
    size_t body_len;
};
void hn_http_complete(struct hn_http_xfer *x, const struct hn_http_end *e);

/* libcurl's engine (http_curl.c) */
struct hn_curl *hn_curl_new(struct hn_http *h);
void hn_curl_destroy(struct hn_curl *c);
void hn_curl_set_max_connections(struct hn_curl *c, size_t n);
void *hn_curl_req_new(struct hn_curl *c, const struct hn_http_req *r, const char *base_url,
                      const struct hn_http_tls *tls, char *err, size_t errlen);
void hn_curl_req_free(void *impl);
struct hn_http_xfer *hn_curl_start(struct hn_curl *c, const struct hn_http_req *r,
                                   const struct hn_http_dyn *dyn, char **jar);
void hn_curl_cancel(struct hn_curl *c, struct hn_http_xfer *x);
const char *hn_curl_header(struct hn_http_xfer *x, const char *name, char *buf, size_t n);

/* the native engine (http_native.c) */
struct hn_native *hn_native_new(struct hn_http *h);
void hn_native_destroy(struct hn_native *n);
/* NULL with err when the step cannot run natively (an https URL, a host that does not
 * resolve, a proxy...); auto selection then falls back to curl. */
void *hn_native_req_new(struct hn_native *n, const struct hn_http_req *r, const char *base_url,
                        char *err, size_t errlen);
void hn_native_req_free(void *impl);
struct hn_http_xfer *hn_native_start(struct hn_native *n, const struct hn_http_req *r,
                                     const struct hn_http_dyn *dyn, struct hn_http_session *s);
void hn_native_cancel(struct hn_native *n, struct hn_http_xfer *x);
const char *hn_native_header(struct hn_http_xfer *x, const char *name, char *buf, size_t n);
void hn_native_session_close(struct hn_native *n, struct hn_http_session *s);

#endif
