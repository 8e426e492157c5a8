/* One HTTP/1.1 response read incrementally (the native engine's parser, and the fuzz target's
 * subject): http-parser (Debian's libhttp-parser, the parser wrk uses) under hornet's caps.
 * Status line and headers are kept up to 64 KiB in all (beyond: a too-large failure), the
 * body is counted in full and kept up to a cap, interim 1xx responses are skipped, HEAD and
 * 204/304 have no body, a response without a length ends at the peer's close. Pure: bytes in,
 * state out; no socket, no clock. */
#ifndef HN_H1RESP_H
#define HN_H1RESP_H

#include <http_parser.h>
#include <stddef.h>
#include <stdint.h>

#include "common/template.h"

#define HN_H1_HEADERS_MAX (64 * 1024)

enum hn_h1_state { HN_H1_READING, HN_H1_DONE, HN_H1_FAILED };

enum hn_h1_error {
    HN_H1_OK,
    HN_H1_PROTOCOL,  /* not HTTP/1.x as the parser knows it */
    HN_H1_TOO_LARGE, /* headers over HN_H1_HEADERS_MAX */
    HN_H1_TRUNCATED, /* the peer closed before the response ended */
    HN_H1_EXCESS,    /* bytes past the response's announced end */
};

struct hn_h1resp {
    http_parser p;
    enum hn_h1_state state;
    enum hn_h1_error error;
    char msg[160];      /* the failure's text */
    int head;           /* the request was HEAD: no body follows */
    int keep_body;
    size_t body_cap;
    long status;
    int keep_alive;     /* the connection may carry another request (once DONE) */
    int got_any;        /* some byte of a response arrived */
    struct hn_buf *headers; /* "name\0value\0" pairs of the final response, NUL-separated */
    size_t hdr_bytes;
    int in_value;
    uint64_t body_bytes;
    struct hn_buf *body;
};

/* Starts reading a response into the caller's buffers (reset here). */
void hn_h1resp_init(struct hn_h1resp *r, int head, int keep_body, size_t body_cap,
                    struct hn_buf *headers, struct hn_buf *body);
/* Feeds bytes that arrived. Returns how many belong to this response; the state says if it
 * is DONE or FAILED. Bytes after a DONE response make it FAILED with HN_H1_EXCESS. */
size_t hn_h1resp_feed(struct hn_h1resp *r, const char *p, size_t n);
/* The peer closed the connection: a response delimited by the close ends (DONE); one cut
 * short fails (TRUNCATED). */
void hn_h1resp_eof(struct hn_h1resp *r);
/* What is wrong with a response, in the words both engines use ("not an HTTP/1.x status
 * line", "bad status code", "bad chunk size", ...), from http-parser's error number. */
const char *hn_h1_protocol_text(int http_errno);
/* The last value of header `name` (case-insensitive) of the final response, or NULL. */
const char *hn_h1resp_header(const struct hn_h1resp *r, const char *name);
/* Calls fn for each header name and value, in order (for Set-Cookie's every occurrence). */
void hn_h1resp_each_header(const struct hn_h1resp *r,
                           void (*fn)(void *ctx, const char *name, const char *value), void *ctx);

#endif
