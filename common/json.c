#include "common/json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define J(v) ((json_t *)(v))
#define H(v) ((struct hn_json *)(v))

struct hn_json *hn_json_object(void) { return H(json_object()); }
struct hn_json *hn_json_array(void) { return H(json_array()); }
struct hn_json *hn_json_string(const char *s, size_t len) { return H(json_stringn(s, len)); }
struct hn_json *hn_json_integer(long long v) { return H(json_integer(v)); }
struct hn_json *hn_json_real(double v) { return H(json_real(v)); }
struct hn_json *hn_json_bool(int v) { return H(json_boolean(v)); }
struct hn_json *hn_json_null(void) { return H(json_null()); }

void hn_json_set(struct hn_json *obj, const char *key, struct hn_json *value)
{
    json_object_set_new(J(obj), key, J(value));
}

void hn_json_append(struct hn_json *arr, struct hn_json *value)
{
    json_array_append_new(J(arr), J(value));
}

char *hn_json_dump(const struct hn_json *v)
{
    return json_dumps(J(v), JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
}

void hn_json_free(struct hn_json *v) { json_decref(J(v)); }

struct hn_json *hn_json_parse(const char *text, size_t len)
{
    json_error_t e;
    return H(json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e));
}

/* Walks one path step; returns the position after it, or NULL on a syntax error. With doc,
 * also moves *cur (to NULL when absent). */
static const char *step(const char *p, const json_t **cur)
{
    if (*p == '.') {
        p++;
        size_t n = strcspn(p, ".[");
        if (!n)
            return NULL;
        if (cur && *cur) {
            char key[256];
            if (n >= sizeof key)
                return NULL;
            memcpy(key, p, n);
            key[n] = '\0';
            *cur = json_is_object(*cur) ? json_object_get(*cur, key) : NULL;
        }
        return p + n;
    }
    if (*p == '[') {
        p++;
        if (*p == '\'' || *p == '"') {
            char q = *p++;
            const char *end = strchr(p, q);
            if (!end || end[1] != ']' || end - p >= 255)
                return NULL;
            if (cur && *cur) {
                char key[256];
                memcpy(key, p, (size_t)(end - p));
                key[end - p] = '\0';
                *cur = json_is_object(*cur) ? json_object_get(*cur, key) : NULL;
            }
            return end + 2;
        }
        char *end;
        long idx = strtol(p, &end, 10);
        if (end == p || *end != ']')
            return NULL;
        if (cur && *cur) {
            if (json_is_array(*cur)) {
                long size = (long)json_array_size(*cur);
                if (idx < 0)
                    idx += size;
                *cur = idx >= 0 && idx < size ? json_array_get(*cur, (size_t)idx) : NULL;
            } else {
                *cur = NULL;
            }
        }
        return end + 1;
    }
    return NULL;
}

int hn_json_path_check(const char *path)
{
    if (path[0] != '$')
        return HN_EINVAL;
    const char *p = path + 1;
    while (*p) {
        p = step(p, NULL);
        if (!p)
            return HN_EINVAL;
    }
    return 0;
}

const struct hn_json *hn_json_path_get(const struct hn_json *doc, const char *path)
{
    const json_t *cur = J(doc);
    if (!cur || path[0] != '$')
        return NULL;
    const char *p = path + 1;
    while (*p && cur) {
        p = step(p, &cur);
        if (!p)
            return NULL;
    }
    return (const struct hn_json *)cur;
}

size_t hn_json_text(const struct hn_json *v, char *buf, size_t n)
{
    const json_t *j = J(v);
    int w;
    if (json_is_string(j)) {
        size_t len = json_string_length(j);
        if (len >= n)
            len = n - 1;
        memcpy(buf, json_string_value(j), len);
        buf[len] = '\0';
        return len;
    }
    if (json_is_integer(j))
        w = snprintf(buf, n, "%lld", (long long)json_integer_value(j));
    else if (json_is_real(j))
        w = snprintf(buf, n, "%.17g", json_real_value(j));
    else if (json_is_true(j))
        w = snprintf(buf, n, "true");
    else if (json_is_false(j))
        w = snprintf(buf, n, "false");
    else if (json_is_null(j))
        w = snprintf(buf, n, "null");
    else {
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        w = snprintf(buf, n, "%s", s ? s : "");
        free(s);
    }
    if (w < 0)
        return 0;
    return (size_t)w < n ? (size_t)w : n - 1;
}
