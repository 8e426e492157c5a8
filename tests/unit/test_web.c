/* The web server's replies made off the loop (hn_web_reply's work): a reply whose work waits
 * does not hold another request; at most 4 wait at once (503 beyond); closing the server with
 * work done but unsent frees it. Real sockets on loopback; the waits are conditions, each
 * bounded. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "master/web.h"

/* The slow work waits for the test to release it (a gate), at most 10 s. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_open;
static atomic_int g_started, g_freed;

static void gate_set(int open)
{
    pthread_mutex_lock(&g_mu);
    g_open = open;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static void slow_work(void *arg, struct hn_web_reply *out)
{
    atomic_fetch_add(&g_started, 1);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&g_mu);
    while (!g_open && pthread_cond_timedwait(&g_cv, &g_mu, &until) == 0) {
    }
    pthread_mutex_unlock(&g_mu);
    out->status = 200;
    out->content_type = "text/plain";
    out->body = hn_strdup((const char *)arg);
    out->len = strlen(out->body);
}

static void slow_free(void *arg)
{
    atomic_fetch_add(&g_freed, 1);
    free(arg);
}

static void handler(void *ctx, const struct hn_web_req *req, struct hn_web_reply *out)
{
    (void)ctx;
    if (!strcmp(req->path, "/slow")) {
        out->work = slow_work;
        out->work_arg = hn_strdup("slow done");
        out->work_free = slow_free;
        return;
    }
    out->status = 200;
    out->content_type = "text/plain";
    out->body = hn_strdup("fast");
    out->len = 4;
}

/* A client on a thread of its own: one HTTP/1.0 GET, its status and body. */
struct client {
    unsigned port;
    const char *path;
    pthread_t t;
    atomic_int done;
    int status;
    char body[256];
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char buf[4096];
    size_t len = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        int n = snprintf(buf, sizeof buf, "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", c->path);
        if (write(fd, buf, (size_t)n) == n) {
            ssize_t r;
            while (len < sizeof buf - 1 && (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
                len += (size_t)r;
        }
    }
    close(fd);
    buf[len] = '\0';
    c->status = len > 12 ? atoi(buf + 9) : 0;
    const char *b = strstr(buf, "\r\n\r\n");
    snprintf(c->body, sizeof c->body, "%s", b ? b + 4 : "");
    atomic_store(&c->done, 1);
    return NULL;
}

static void client_start(struct client *c, unsigned port, const char *path)
{
    memset(c, 0, sizeof *c);
    c->port = port;
    c->path = path;
    assert_int_equal(pthread_create(&c->t, NULL, client_main, c), 0);
}

/* Runs the server's loop until cond(arg) holds, at most 10 s; returns whether it held. */
static int serve_until(struct hn_web *w, int (*cond)(void *), void *arg)
{
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(ep, EPOLL_CTL_ADD, hn_web_fd(w), &ev);
    uint64_t until = hn_mono_us() + 10000000;
    int ok;
    while (!(ok = cond(arg)) && hn_mono_us() < until) {
        epoll_wait(ep, &ev, 1, 20);
        hn_web_run(w);
    }
    close(ep);
    return ok;
}

static int client_done(void *arg) { return atomic_load(&((struct client *)arg)->done); }
static int started_at_least(void *arg) { return atomic_load(&g_started) >= *(int *)arg; }

static struct hn_web *open_web(void)
{
    char err[256];
    struct hn_web_config cfg = {.host = "127.0.0.1"};
    struct hn_web *w = hn_web_open(&cfg, handler, NULL, err, sizeof err);
    assert_non_null(w);
    g_open = 0;
    atomic_store(&g_started, 0);
    atomic_store(&g_freed, 0);
    return w;
}

static void test_waiting_work_does_not_hold_others(void **state)
{
    (void)state;
    struct hn_web *w = open_web();
    unsigned port = hn_web_port(w);
    struct client slow, fast;
    client_start(&slow, port, "/slow");
    int one = 1;
    assert_true(serve_until(w, started_at_least, &one));
    client_start(&fast, port, "/fast");
    assert_true(serve_until(w, client_done, &fast)); /* answered while the work waits */
    assert_int_equal(fast.status, 200);
    assert_string_equal(fast.body, "fast");
    assert_false(atomic_load(&slow.done));
    gate_set(1);
    assert_true(serve_until(w, client_done, &slow));
    assert_int_equal(slow.status, 200);
    assert_string_equal(slow.body, "slow done");
    pthread_join(slow.t, NULL);
    pthread_join(fast.t, NULL);
    hn_web_close(&w);
    assert_int_equal(atomic_load(&g_freed), 1);
}

static void test_four_at_once_then_503(void **state)
{
    (void)state;
    struct hn_web *w = open_web();
    unsigned port = hn_web_port(w);
    struct client c[5];
    for (int i = 0; i < 4; i++)
        client_start(&c[i], port, "/slow");
    int four = 4;
    assert_true(serve_until(w, started_at_least, &four));
    client_start(&c[4], port, "/slow");
    assert_true(serve_until(w, client_done, &c[4]));
    assert_int_equal(c[4].status, 503);
    gate_set(1);
    for (int i = 0; i < 4; i++) {
        assert_true(serve_until(w, client_done, &c[i]));
        assert_int_equal(c[i].status, 200);
    }
    for (int i = 0; i < 5; i++)
        pthread_join(c[i].t, NULL);
    hn_web_close(&w);
    assert_int_equal(atomic_load(&g_freed), 5); /* the refused one's argument too */
}

static void test_close_with_work_under_way(void **state)
{
    (void)state;
    struct hn_web *w = open_web();
    struct client c;
    client_start(&c, hn_web_port(w), "/slow");
    int one = 1;
    assert_true(serve_until(w, started_at_least, &one));
    gate_set(1);
    hn_web_close(&w); /* waits for the work, frees it unsent */
    assert_null(w);
    pthread_join(c.t, NULL);
    assert_int_equal(atomic_load(&g_freed), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waiting_work_does_not_hold_others),
        cmocka_unit_test(test_four_at_once_then_503),
        cmocka_unit_test(test_close_with_work_under_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
