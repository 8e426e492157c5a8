/* Log lines: peer text is escaped to one line; rate limits per source with a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"

static void test_ratelimit(void **state)
{
    (void)state;
    struct hn_ratelimit rl = {0};
    unsigned held = 0, passed = 0;
    uint64_t t = 5000000;
    for (int i = 0; i < 1000; i++) /* 1000 lines within 100 ms */
        passed += (unsigned)hn_ratelimit_allow(&rl, t + (uint64_t)i * 100, 5, &held);
    assert_int_equal(passed, 5);
    /* the next window lets lines through again and says how many were held back */
    assert_int_equal(hn_ratelimit_allow(&rl, t + 1000000, 5, &held), 1);
    assert_int_equal(held, 995);
    assert_int_equal(hn_ratelimit_allow(&rl, t + 1000001, 5, &held), 1);
    assert_int_equal(held, 0);
}

static void test_escaped_one_line(void **state)
{
    (void)state;
    char path[] = "/tmp/hornet-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    hn_log(HN_LOG_WARNING, "dropped a message from %s", "evil\n[fake] INFO/master: ok\x1b[2J");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[512] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "evil\\x0a[fake] INFO/master: ok\\x1b[2J"));
    assert_ptr_equal(strchr(buf, '\n'), buf + n - 1); /* one line */
    assert_null(strchr(buf, '\x1b'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test(test_escaped_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
