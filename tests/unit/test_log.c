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
#include "common/sha256.h"

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

static void hex(const uint8_t *d, char *out)
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* FIPS 180-4 test vectors, and lengths around the padding boundary against a known digest */
static void test_sha256(void **state)
{
    (void)state;
    uint8_t d[32];
    char h[65];
    hn_sha256("abc", 3, d);
    hex(d, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hn_sha256("", 0, d);
    hex(d, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes */
    hn_sha256(two, strlen(two), d);
    hex(d, h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    hn_sha256(million, 1000000, d);
    free(million);
    hex(d, h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test(test_escaped_one_line),
        cmocka_unit_test(test_sha256),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
