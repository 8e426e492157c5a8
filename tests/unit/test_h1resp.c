/* The native engine's response reader: lengths, chunks, no body, interim 1xx, close-delimited
 * bodies, keep-alive, and hostile input (oversized and endless headers, excess bytes, bad
 * chunk sizes, garbage, a close mid-body), fed whole and one byte at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker/h1resp.h"

struct rd {
    struct hn_h1resp r;
    struct hn_buf hdrs, body;
};

static void rd_init(struct rd *d, int head, int keep)
{
    hn_buf_init(&d->hdrs, HN_H1_HEADERS_MAX + 4096);
    hn_buf_init(&d->body, 1 << 20);
    hn_h1resp_init(&d->r, head, keep, 64, &d->hdrs, &d->body);
}

static void rd_fini(struct rd *d)
{
    hn_buf_fini(&d->hdrs);
    hn_buf_fini(&d->body);
}

/* Feeds text whole (step 0) or in steps of `step` bytes, as reads would deliver it. */
static void feed(struct rd *d, const char *text, size_t len, size_t step)
{
    if (!step) {
        hn_h1resp_feed(&d->r, text, len);
        return;
    }
    for (size_t i = 0; i < len && d->r.state == HN_H1_READING; i += step)
        hn_h1resp_feed(&d->r, text + i, len - i < step ? len - i : step);
}

static void test_lengths_and_chunks(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    };
    for (size_t i = 0; i < 3; i++)
        for (size_t step = 0; step <= 1; step++) {
            struct rd d;
            rd_init(&d, 0, 1);
            feed(&d, ok[i], strlen(ok[i]), step);
            assert_int_equal(d.r.state, HN_H1_DONE);
            assert_int_equal(d.r.status, 200);
            assert_int_equal(d.r.body_bytes, 5);
            assert_memory_equal(d.body.p, "hello", 5);
            assert_true(d.r.keep_alive);
            rd_fini(&d);
        }
    struct rd d;
    rd_init(&d, 0, 0);
    const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nSet-Cookie: a=1\r\n"
                    "Set-Cookie: b=2\r\nX-A: 2\r\n\r\nhello";
    feed(&d, t, strlen(t), 1);
    assert_string_equal(hn_h1resp_header(&d.r, "x-a"), "2"); /* the last one */
    assert_string_equal(hn_h1resp_header(&d.r, "Set-Cookie"), "b=2");
    assert_int_equal(d.body.len, 0); /* not kept */
    assert_int_equal(d.r.body_bytes, 5);
    rd_fini(&d);
}

static void test_no_body_and_close(void **state)
{
    (void)state;
    struct rd d;
    rd_init(&d, 1, 1); /* HEAD: Content-Length says 100, no body follows */
    const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
    feed(&d, h, strlen(h), 0);
    assert_int_equal(d.r.state, HN_H1_DONE);
    assert_int_equal(d.r.body_bytes, 0);
    rd_fini(&d);
    rd_init(&d, 0, 1);
    h = "HTTP/1.1 204 No Content\r\n\r\n";
    feed(&d, h, strlen(h), 0);
    assert_int_equal(d.r.state, HN_H1_DONE);
    rd_fini(&d);
    rd_init(&d, 0, 1); /* no length: the body ends at the close */
    h = "HTTP/1.1 200 OK\r\n\r\nuntil the end";
    feed(&d, h, strlen(h), 0);
    assert_int_equal(d.r.state, HN_H1_READING);
    hn_h1resp_eof(&d.r);
    assert_int_equal(d.r.state, HN_H1_DONE);
    assert_int_equal(d.r.body_bytes, 13);
    assert_false(d.r.keep_alive);
    rd_fini(&d);
    rd_init(&d, 0, 1);
    h = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";
    feed(&d, h, strlen(h), 0);
    assert_int_equal(d.r.state, HN_H1_DONE);
    assert_false(d.r.keep_alive);
    rd_fini(&d);
    rd_init(&d, 0, 1); /* a close mid-body */
    h = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    feed(&d, h, strlen(h), 0);
    hn_h1resp_eof(&d.r);
    assert_int_equal(d.r.state, HN_H1_FAILED);
    assert_int_equal(d.r.error, HN_H1_TRUNCATED);
    assert_string_equal(d.r.msg, "Connection closed before the response ended");
    rd_fini(&d);
    rd_init(&d, 0, 1); /* nothing at all */
    hn_h1resp_eof(&d.r);
    assert_string_equal(d.r.msg, "Connection closed without a response");
    rd_fini(&d);
}

static void test_hostile(void **state)
{
    (void)state;
    struct rd d;
    /* endless headers: cut at the cap, whatever the feed size */
    for (size_t step = 0; step <= 1; step += 1) {
        rd_init(&d, 0, 1);
        const char *start = "HTTP/1.1 200 OK\r\n";
        feed(&d, start, strlen(start), 0);
        char line[1024];
        memset(line, 'a', sizeof line);
        memcpy(line, "X-Long: ", 8);
        line[1022] = '\r';
        line[1023] = '\n';
        for (int i = 0; i < 200 && d.r.state == HN_H1_READING; i++)
            feed(&d, line, sizeof line, step ? 7 : 0);
        assert_int_equal(d.r.state, HN_H1_FAILED);
        assert_int_equal(d.r.error, HN_H1_TOO_LARGE);
        assert_true(d.hdrs.len <= HN_H1_HEADERS_MAX + 4096);
        rd_fini(&d);
    }
    static const char *const bad[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        "\x16\x03\x01\x02\x00garbage",
        "HTTP/1.1 abc OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
    };
    for (size_t i = 0; i < 4; i++) {
        rd_init(&d, 0, 1);
        feed(&d, bad[i], strlen(bad[i]), 0);
        assert_int_equal(d.r.state, HN_H1_FAILED);
        assert_int_equal(d.r.error, HN_H1_PROTOCOL);
        assert_true(!strncmp(d.r.msg, "Invalid HTTP response: ", 23));
        rd_fini(&d);
    }
    rd_init(&d, 0, 1); /* longer than announced, in the same read */
    const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
    feed(&d, t, strlen(t), 0);
    assert_int_equal(d.r.state, HN_H1_FAILED);
    assert_int_equal(d.r.error, HN_H1_EXCESS);
    assert_string_equal(d.r.msg, "Response longer than announced (5 more bytes)");
    rd_fini(&d);
    rd_init(&d, 0, 1); /* a kept body stops at its cap (64), counted in full */
    char big[300];
    int n = snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n");
    memset(big + n, 'b', 200);
    feed(&d, big, (size_t)n + 200, 0);
    assert_int_equal(d.r.state, HN_H1_DONE);
    assert_int_equal(d.r.body_bytes, 200);
    assert_int_equal(d.body.len, 64);
    rd_fini(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths_and_chunks),
        cmocka_unit_test(test_no_body_and_close),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
