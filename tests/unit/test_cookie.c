/* The native engine's cookie jar: curl's line format, host-only and Domain= cookies, paths,
 * Secure, Max-Age and Expires, replacement and removal, and the 16 KiB cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker/cookie.h"

static const char *header(const char *jar, const char *host, const char *path, int secure,
                          char *out, size_t n)
{
    struct hn_buf b;
    hn_buf_init(&b, 1 << 16);
    hn_cookie_header(jar, host, path, secure, 1000, &b);
    snprintf(out, n, "%s", b.len ? hn_buf_cstr(&b) : "");
    hn_buf_fini(&b);
    return out;
}

static void test_set_and_send(void **state)
{
    (void)state;
    char *jar = NULL;
    char h[512];
    hn_cookie_set(&jar, "sid=abc; Path=/; HttpOnly", "127.0.0.1", "/login", 1000);
    assert_non_null(jar);
    /* curl's line: host-only (FALSE), HttpOnly prefix, session expiry 0 */
    assert_string_equal(jar, "#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tabc\n");
    hn_cookie_set(&jar, "theme=dark", "127.0.0.1", "/app/page", 1000); /* path /app */
    assert_string_equal(header(jar, "127.0.0.1", "/home", 0, h, sizeof h), "sid=abc");
    assert_string_equal(header(jar, "127.0.0.1", "/app/x", 0, h, sizeof h), "sid=abc; theme=dark");
    assert_string_equal(header(jar, "127.0.0.2", "/home", 0, h, sizeof h), "");
    hn_cookie_set(&jar, "sid=new; Path=/", "127.0.0.1", "/", 1000); /* replaced, not added */
    assert_string_equal(header(jar, "127.0.0.1", "/", 0, h, sizeof h), "sid=new");
    hn_cookie_set(&jar, "sid=; Max-Age=0; Path=/", "127.0.0.1", "/", 1000); /* removed */
    assert_string_equal(header(jar, "127.0.0.1", "/", 0, h, sizeof h), "");
    free(jar);
}

static void test_domain_secure_expiry(void **state)
{
    (void)state;
    char *jar = NULL;
    char h[512];
    hn_cookie_set(&jar, "d=1; Domain=example.com", "www.example.com", "/", 1000);
    assert_string_equal(header(jar, "api.example.com", "/", 0, h, sizeof h), "d=1");
    assert_string_equal(header(jar, "example.org", "/", 0, h, sizeof h), "");
    hn_cookie_set(&jar, "x=1; Domain=other.com", "www.example.com", "/", 1000); /* refused */
    assert_null(strstr(jar, "other.com"));
    hn_cookie_set(&jar, "s=1; Secure", "www.example.com", "/", 1000);
    assert_string_equal(header(jar, "www.example.com", "/", 0, h, sizeof h), "d=1");
    assert_string_equal(header(jar, "www.example.com", "/", 1, h, sizeof h), "d=1; s=1");
    hn_cookie_set(&jar, "t=1; Max-Age=10", "www.example.com", "/", 1000); /* until 1010 */
    assert_non_null(strstr(jar, "\t1010\tt\t1"));
    hn_cookie_set(&jar, "old=1; Expires=Thu, 01 Jan 1970 00:00:10 GMT", "www.example.com", "/",
                  1000); /* in the past: not kept */
    assert_null(strstr(jar, "old"));
    free(jar);
}

static void test_cap(void **state)
{
    (void)state;
    char *jar = NULL;
    char c[200];
    for (int i = 0; i < 1000; i++) {
        snprintf(c, sizeof c, "c%d=%0100d", i, i);
        hn_cookie_set(&jar, c, "h", "/", 1000);
    }
    assert_true(strlen(jar) < HN_COOKIE_JAR_MAX);
    assert_non_null(strstr(jar, "c0\t")); /* the oldest stay; the newest are dropped */
    free(jar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_and_send),
        cmocka_unit_test(test_domain_secure_expiry),
        cmocka_unit_test(test_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
