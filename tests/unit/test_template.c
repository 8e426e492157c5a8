/* Templates: compile into segments, expand with escaping, and the capped buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/template.h"

static int resolve(void *ctx, const char *name, struct hn_seg *seg)
{
    (void)ctx;
    if (!strcmp(name, "tenant")) {
        seg->kind = HN_SEG_VAR;
        seg->a = 0;
        return 0;
    }
    if (!strcmp(name, "acc.token")) {
        seg->kind = HN_SEG_DATA;
        seg->a = 0;
        seg->b = 1;
        return 0;
    }
    if (!strcmp(name, "tok")) {
        seg->kind = HN_SEG_CAPTURE;
        seg->a = 0;
        return 0;
    }
    return -1;
}

static char *expand(const char *text, enum hn_esc esc, uint64_t seed)
{
    struct hn_tpl *t;
    char err[256];
    assert_int_equal(hn_tpl_compile(text, strlen(text), esc, resolve, NULL, &t, err, sizeof err), 0);
    struct hn_rng rng;
    hn_rng_seed(&rng, seed);
    static char *tenants[] = {"t\"1", "t 2"};
    char **vv[] = {tenants};
    size_t vc[] = {2};
    const char *row[] = {"alice", "tok/1"};
    const char *const *rows[] = {row};
    char *caps[] = {"cap\r\nX-Evil: 1"};
    struct hn_tpl_ctx c = {.rng = &rng, .var_values = (char *const *const *)vv, .var_counts = vc,
                           .data_rows = rows, .captures = caps, .user_id = 42, .worker_id = 3,
                           .iteration = 7, .now_ms = 1700000000123};
    struct hn_buf b;
    hn_buf_init(&b, 4096);
    hn_tpl_expand(t, &c, &b);
    char *out = strdup(hn_buf_cstr(&b));
    hn_buf_fini(&b);
    hn_tpl_destroy(&t);
    return out;
}

static void test_static_and_builtins(void **state)
{
    (void)state;
    struct hn_tpl *t;
    char err[256];
    assert_int_equal(hn_tpl_compile("/plain", 6, HN_ESC_URL, resolve, NULL, &t, err, sizeof err), 0);
    assert_true(t->is_static);
    hn_tpl_destroy(&t);
    char *s = expand("u{{user_id}}-w{{ worker_id }}-i{{iteration}}-{{now_ms}}", HN_ESC_NONE, 1);
    assert_string_equal(s, "u42-w3-i7-1700000000123");
    free(s);
    for (int i = 0; i < 200; i++) {
        s = expand("{{random_int(-2, 2)}}", HN_ESC_NONE, (uint64_t)i);
        int v = atoi(s);
        assert_true(v >= -2 && v <= 2);
        free(s);
    }
    s = expand("{{uuid}}", HN_ESC_NONE, 9);
    assert_int_equal(strlen(s), 36);
    assert_int_equal(s[14], '4'); /* version 4 */
    assert_true(strchr("89ab", s[19]) != NULL);
    free(s);
}

static void test_escaping(void **state)
{
    (void)state;
    /* JSON: values escaped, literal JSON untouched */
    char *s = expand("{\"t\":\"{{tenant}}\"}", HN_ESC_JSON, 1);
    assert_true(!strcmp(s, "{\"t\":\"t\\\"1\"}") || !strcmp(s, "{\"t\":\"t 2\"}"));
    free(s);
    /* JSON control characters */
    s = expand("\"{{tok}}\"", HN_ESC_JSON, 1);
    assert_string_equal(s, "\"cap\\u000d\\u000aX-Evil: 1\"");
    free(s);
}

static void test_unknown_and_malformed(void **state)
{
    (void)state;
    struct hn_tpl *t;
    char err[256];
    assert_int_not_equal(hn_tpl_compile("{{acc.user}}", 12, HN_ESC_NONE, resolve, NULL, &t, err, sizeof err), 0);
    assert_string_equal(err, "unknown template variable 'acc.user'");
    assert_int_not_equal(hn_tpl_compile("a{{b", 4, HN_ESC_NONE, resolve, NULL, &t, err, sizeof err), 0);
    assert_int_not_equal(hn_tpl_compile("{{}}", 4, HN_ESC_NONE, resolve, NULL, &t, err, sizeof err), 0);
    assert_int_not_equal(hn_tpl_compile("{{random_int(1)}}", 17, HN_ESC_NONE, resolve, NULL, &t, err, sizeof err), 0);
    /* bounds past int64 are refused, never clamped to INT64_MAX */
    const char *big = "{{random_int(1, 99999999999999999999)}}";
    assert_int_not_equal(hn_tpl_compile(big, strlen(big), HN_ESC_NONE, resolve, NULL, &t, err, sizeof err), 0);
    const char *small = "{{random_int(-99999999999999999999, 1)}}";
    assert_int_not_equal(hn_tpl_compile(small, strlen(small), HN_ESC_NONE, resolve, NULL, &t, err, sizeof err), 0);
    const char *edge = "{{random_int(-9223372036854775808, 9223372036854775807)}}";
    assert_int_equal(hn_tpl_compile(edge, strlen(edge), HN_ESC_NONE, resolve, NULL, &t, err, sizeof err), 0);
    hn_tpl_destroy(&t);
}

static void test_url_and_header_escaping(void **state)
{
    (void)state;
    char *s = expand("/a/{{acc.token}}", HN_ESC_URL, 1);
    assert_string_equal(s, "/a/tok%2F1");
    free(s);
    /* a hostile captured value cannot add a header line */
    s = expand("Bearer {{tok}}", HN_ESC_HEADER, 1);
    assert_string_equal(s, "Bearer capX-Evil: 1");
    free(s);
}

static void test_buffer_cap(void **state)
{
    (void)state;
    struct hn_buf b;
    hn_buf_init(&b, 8);
    hn_buf_append(&b, "0123456789", 10);
    assert_true(b.truncated);
    assert_int_equal(b.len, 7); /* room for the terminator */
    assert_string_equal(hn_buf_cstr(&b), "0123456");
    hn_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_and_builtins),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_unknown_and_malformed),
        cmocka_unit_test(test_url_and_header_escaping),
        cmocka_unit_test(test_buffer_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
