#include "worker/h1resp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int too_large(struct hn_h1resp *r)
{
    r->error = HN_H1_TOO_LARGE;
    snprintf(r->msg, sizeof r->msg, "Response headers too large (over %d KiB)",
             HN_H1_HEADERS_MAX / 1024);
    return -1;
}

/* Header bytes are counted against the cap before they are kept. */
static int add_header_bytes(struct hn_h1resp *r, const char *at, size_t n, int starts_value)
{
    r->hdr_bytes += n;
    if (r->hdr_bytes > HN_H1_HEADERS_MAX)
        return too_large(r);
    if (starts_value)
        hn_buf_append(r->headers, "", 1); /* the name's NUL */
    hn_buf_append(r->headers, at, n);
    return 0;
}

static int on_field(http_parser *p, const char *at, size_t n)
{
    struct hn_h1resp *r = p->data;
    if (r->in_value) { /* the previous value ends */
        hn_buf_append(r->headers, "", 1);
        r->in_value = 0;
    }
    return add_header_bytes(r, at, n, 0);
}

static int on_value(http_parser *p, const char *at, size_t n)
{
    struct hn_h1resp *r = p->data;
    int first = !r->in_value;
    r->in_value = 1;
    return add_header_bytes(r, at, n, first);
}

static int on_status(http_parser *p, const char *at, size_t n)
{
    struct hn_h1resp *r = p->data;
    r->hdr_bytes += n;
    return r->hdr_bytes > HN_H1_HEADERS_MAX ? too_large(r) : 0;
}

static int on_message_begin(http_parser *p)
{
    struct hn_h1resp *r = p->data;
    hn_buf_reset(r->headers); /* an interim 1xx's headers are not this response's */
    r->in_value = 0;
    r->hdr_bytes = 0;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct hn_h1resp *r = p->data;
    if (r->in_value) {
        hn_buf_append(r->headers, "", 1);
        r->in_value = 0;
    }
    if (r->headers->truncated)
        return too_large(r);
    r->status = (long)p->status_code;
    /* HEAD: headers only, whatever Content-Length says (1: skip the body) */
    return r->head && (p->status_code < 100 || p->status_code >= 200) ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct hn_h1resp *r = p->data;
    r->body_bytes += n;
    if (r->keep_body && r->body->len < r->body_cap) {
        size_t room = r->body_cap - r->body->len;
        hn_buf_append(r->body, at, n < room ? n : room);
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct hn_h1resp *r = p->data;
    if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101) {
        r->body_bytes = 0; /* an interim response (100 Continue, 103): the final one follows */
        return 0;
    }
    r->state = HN_H1_DONE;
    r->keep_alive = http_should_keep_alive(p);
    http_parser_pause(p, 1); /* what follows is not this response's */
    return 0;
}

static const http_parser_settings k_settings = {
    .on_message_begin = on_message_begin,
    .on_status = on_status,
    .on_header_field = on_field,
    .on_header_value = on_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void hn_h1resp_init(struct hn_h1resp *r, int head, int keep_body, size_t body_cap,
                    struct hn_buf *headers, struct hn_buf *body)
{
    memset(r, 0, sizeof *r);
    http_parser_init(&r->p, HTTP_RESPONSE);
    r->p.data = r;
    r->head = head;
    r->keep_body = keep_body && body;
    r->body_cap = body_cap;
    r->headers = headers;
    r->body = body;
    hn_buf_reset(headers);
    if (body)
        hn_buf_reset(body);
}

const char *hn_h1_protocol_text(int http_errno)
{
    switch ((enum http_errno)http_errno) {
    case HPE_INVALID_CONSTANT:
    case HPE_INVALID_VERSION:
        return "not an HTTP/1.x status line";
    case HPE_INVALID_STATUS:
        return "bad status code";
    case HPE_INVALID_CHUNK_SIZE:
        return "bad chunk size";
    case HPE_INVALID_CONTENT_LENGTH:
    case HPE_UNEXPECTED_CONTENT_LENGTH:
        return "bad Content-Length";
    case HPE_INVALID_HEADER_TOKEN:
    case HPE_LF_EXPECTED:
    case HPE_STRICT:
        return "bad header line";
    default:
        return http_errno_description((enum http_errno)http_errno);
    }
}

static void fail_parser(struct hn_h1resp *r)
{
    r->state = HN_H1_FAILED;
    if (r->error == HN_H1_OK) {
        enum http_errno e = HTTP_PARSER_ERRNO(&r->p);
        r->error = e == HPE_HEADER_OVERFLOW ? HN_H1_TOO_LARGE : HN_H1_PROTOCOL;
        if (e == HPE_HEADER_OVERFLOW)
            snprintf(r->msg, sizeof r->msg, "Response headers too large (over %d KiB)",
                     HN_H1_HEADERS_MAX / 1024);
        else
            snprintf(r->msg, sizeof r->msg, "Invalid HTTP response: %s", hn_h1_protocol_text(e));
    }
}

size_t hn_h1resp_feed(struct hn_h1resp *r, const char *p, size_t n)
{
    if (!n)
        return 0;
    if (r->state == HN_H1_DONE) { /* the server sent more than the response it announced */
        r->state = HN_H1_FAILED;
        r->error = HN_H1_EXCESS;
        snprintf(r->msg, sizeof r->msg, "Response longer than announced (%zu more bytes)", n);
        return 0;
    }
    if (r->state != HN_H1_READING)
        return 0;
    r->got_any = 1;
    size_t used = http_parser_execute(&r->p, &k_settings, p, n);
    enum http_errno e = HTTP_PARSER_ERRNO(&r->p);
    if (r->state == HN_H1_DONE) {
        if (e == HPE_PAUSED)
            http_parser_pause(&r->p, 0);
        if (used < n) {
            r->state = HN_H1_FAILED;
            r->error = HN_H1_EXCESS;
            snprintf(r->msg, sizeof r->msg, "Response longer than announced (%zu more bytes)",
                     n - used);
        }
        return used;
    }
    if (e != HPE_OK || used != n)
        fail_parser(r);
    return used;
}

void hn_h1resp_eof(struct hn_h1resp *r)
{
    if (r->state != HN_H1_READING)
        return;
    if (r->got_any)
        http_parser_execute(&r->p, &k_settings, NULL, 0); /* "ends at the close" responses */
    if (r->state == HN_H1_DONE) {
        r->keep_alive = 0;
        return;
    }
    r->state = HN_H1_FAILED;
    if (r->error == HN_H1_OK) {
        r->error = HN_H1_TRUNCATED;
        snprintf(r->msg, sizeof r->msg, "%s",
                 r->got_any ? "Connection closed before the response ended"
                            : "Connection closed without a response");
    }
}

void hn_h1resp_each_header(const struct hn_h1resp *r,
                           void (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
    const char *p = r->headers->p, *end = p ? p + r->headers->len : NULL;
    while (p && p < end) {
        const char *name = p;
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        if (!nul || nul + 1 >= end)
            break;
        const char *value = nul + 1;
        const char *vend = memchr(value, '\0', (size_t)(end - value));
        if (!vend)
            break;
        fn(ctx, name, value);
        p = vend + 1;
    }
}

struct find {
    const char *name, *found;
};

static void find_one(void *ctx, const char *name, const char *value)
{
    struct find *f = ctx;
    if (!strcasecmp(name, f->name))
        f->found = value;
}

const char *hn_h1resp_header(const struct hn_h1resp *r, const char *name)
{
    struct find f = {name, NULL};
    hn_h1resp_each_header(r, find_one, &f);
    return f.found;
}
