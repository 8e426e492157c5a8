/* The HTTP client: picks each step's engine, measures latency the same way for both, builds
 * every error's text in one place, and hands sessions to the engines. */
#include "worker/http_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

const char *hn_http_engine_name(enum hn_http_engine e)
{
    return e == HN_HTTP_CURL ? "curl" : e == HN_HTTP_NATIVE ? "native" : "auto";
}

int hn_http_engine_parse(const char *s, enum hn_http_engine *out)
{
    if (!strcmp(s, "auto"))
        *out = HN_HTTP_AUTO;
    else if (!strcmp(s, "curl"))
        *out = HN_HTTP_CURL;
    else if (!strcmp(s, "native"))
        *out = HN_HTTP_NATIVE;
    else
        return HN_EINVAL;
    return 0;
}

struct hn_http *hn_http_new(struct uv_loop_s *loop, const struct hn_http_config *cfg)
{
    struct hn_http *h = hn_calloc(1, sizeof *h);
    h->loop = loop;
    h->cfg = *cfg;
    h->native = hn_native_new(h);
    return h;
}

void hn_http_destroy(struct hn_http **hp)
{
    struct hn_http *h = hp ? *hp : NULL;
    if (!h)
        return;
    *hp = NULL;
    hn_curl_destroy(h->curl);   /* frees itself once its handles closed */
    hn_native_destroy(h->native); /* likewise */
    free(h);
}

void hn_http_set_max_connections(struct hn_http *h, size_t n)
{
    h->max_connections = n;
    if (h->curl)
        hn_curl_set_max_connections(h->curl, n);
}

void hn_http_counters(const struct hn_http *h, struct hn_http_counters *c) { *c = h->counters; }

static struct hn_curl *curl_engine(struct hn_http *h)
{
    if (!h->curl) {
        h->curl = hn_curl_new(h);
        if (h->curl && h->max_connections)
            hn_curl_set_max_connections(h->curl, h->max_connections);
    }
    return h->curl;
}

struct hn_http_req *hn_http_req_new(struct hn_http *h, const struct hn_http_step *step,
                                    const char *base_url, const struct hn_http_tls *tls,
                                    char *err, size_t errlen)
{
    struct hn_http_req *r = hn_calloc(1, sizeof *r);
    r->step = step;
    r->timeout_ms = (long)(step->timeout_ms ? step->timeout_ms : h->cfg.request_timeout_ms);
    enum hn_http_engine want = step->engine ? (enum hn_http_engine)step->engine : h->cfg.engine;
    int tls_given = tls && (tls->ca_pem || tls->cert_pem || tls->key_pem);
    if (want != HN_HTTP_CURL && !tls_given) {
        char why[256];
        r->impl = hn_native_req_new(h->native, r, base_url, why, sizeof why);
        if (r->impl) {
            r->engine = HN_HTTP_NATIVE;
            return r;
        }
        if (want == HN_HTTP_NATIVE) {
            snprintf(err, errlen, "the native HTTP engine cannot run it: %s", why);
            free(r);
            return NULL;
        }
    } else if (want == HN_HTTP_NATIVE) {
        snprintf(err, errlen, "the native HTTP engine cannot run it: TLS settings need curl");
        free(r);
        return NULL;
    }
    struct hn_curl *c = curl_engine(h);
    if (!c) {
        snprintf(err, errlen, "libcurl could not be set up");
        free(r);
        return NULL;
    }
    r->engine = HN_HTTP_CURL;
    r->impl = hn_curl_req_new(c, r, base_url, tls, err, errlen);
    if (!r->impl) {
        free(r);
        return NULL;
    }
    return r;
}

void hn_http_req_destroy(struct hn_http_req **rp)
{
    struct hn_http_req *r = rp ? *rp : NULL;
    if (!r)
        return;
    if (r->engine == HN_HTTP_NATIVE)
        hn_native_req_free(r->impl);
    else
        hn_curl_req_free(r->impl);
    free(r);
    *rp = NULL;
}

enum hn_http_engine hn_http_req_engine(const struct hn_http_req *r) { return r->engine; }

struct hn_http_xfer *hn_http_start(struct hn_http *h, const struct hn_http_req *req,
                                   const struct hn_http_dyn *dyn, struct hn_http_session *s,
                                   hn_http_done_fn cb, void *arg)
{
    uint64_t start = hn_mono_us();
    struct hn_http_xfer *x;
    if (req->engine == HN_HTTP_NATIVE) {
        x = hn_native_start(h->native, req, dyn, s);
    } else {
        char **jar = s ? &s->jar : NULL;
        x = hn_curl_start(h->curl, req, dyn, jar);
    }
    if (!x)
        return NULL;
    x->h = h;
    x->req = req;
    x->cb = cb;
    x->arg = arg;
    x->start_us = start;
    x->engine = req->engine;
    return x;
}

void hn_http_cancel(struct hn_http *h, struct hn_http_xfer *x)
{
    if (x->engine == HN_HTTP_NATIVE)
        hn_native_cancel(h->native, x);
    else
        hn_curl_cancel(h->curl, x);
}

void hn_http_session_close(struct hn_http *h, struct hn_http_session *s)
{
    if (h && s->conn)
        hn_native_session_close(h->native, s);
    free(s->jar);
    s->jar = NULL;
}

const char *hn_http_result_header(const struct hn_http_result *res, const char *name, char *buf,
                                  size_t n)
{
    if (!res->xfer)
        return NULL;
    return res->xfer->engine == HN_HTTP_NATIVE ? hn_native_header(res->xfer, name, buf, n)
                                               : hn_curl_header(res->xfer, name, buf, n);
}

/* The one place an error's text is made: the same failure reads the same on every engine, and
 * varies with nothing per request (no ports, addresses or times), so errors aggregate. */
static const char *error_text(struct hn_http_xfer *x, const struct hn_http_end *e)
{
    const struct hn_http_config *cfg = &x->h->cfg;
    long t = x->req->timeout_ms;
    switch (e->kind) {
    case HN_HTTP_OK:
    case HN_HTTP_E_STATUS:
        snprintf(x->msg, sizeof x->msg, "HTTP %ld", e->status);
        return x->msg;
    case HN_HTTP_E_REFUSED:
        return e->detail ? e->detail : "Connection refused";
    case HN_HTTP_E_CONNECT_TIMEOUT:
        snprintf(x->msg, sizeof x->msg, "Connect timeout after %ld ms",
                 cfg->connect_timeout_ms < t ? (long)cfg->connect_timeout_ms : t);
        return x->msg;
    case HN_HTTP_E_TIMEOUT:
        snprintf(x->msg, sizeof x->msg, "Timeout after %ld ms", t);
        return x->msg;
    case HN_HTTP_E_RESET:
        return e->detail ? e->detail : "Connection reset by peer";
    case HN_HTTP_E_CLOSED:
        return e->detail ? e->detail : "Connection closed without a response";
    case HN_HTTP_E_TOO_LARGE:
        return "Response headers too large";
    case HN_HTTP_E_RESOLVE:
        return "Could not resolve host";
    case HN_HTTP_E_REDIRECTS:
        return "Maximum (30) redirects followed";
    case HN_HTTP_E_PROTOCOL:
    case HN_HTTP_E_OTHER:
        break;
    }
    return e->detail ? e->detail : "Unknown HTTP failure";
}

void hn_http_complete(struct hn_http_xfer *x, const struct hn_http_end *e)
{
    struct hn_http_result res = {0};
    uint64_t now = hn_mono_us();
    res.latency_us = now > x->start_us ? now - x->start_us : 0;
    res.kind = e->kind;
    res.status = e->kind == HN_HTTP_OK ? e->status : 0;
    res.body_bytes = e->body_bytes;
    res.body = e->body;
    res.body_len = e->body_len;
    res.xfer = x;
    if (e->kind == HN_HTTP_OK && (res.status >= 400 || res.status < 100))
        res.kind = HN_HTTP_E_STATUS;
    if (res.kind != HN_HTTP_OK) {
        res.failed = 1;
        res.error = error_text(x, &(struct hn_http_end){.kind = res.kind, .status = e->status,
                                                         .detail = e->detail});
    }
    hn_http_done_fn cb = x->cb;
    x->cb = NULL;
    cb(x->arg, &res);
}
