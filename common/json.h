/* JSON through jansson, the only module that includes jansson.h: building documents (json:
 * bodies in scenarios) and reading responses (checks and captures) with a small JSONPath
 * subset: $, .name, ['name'], [index]. Not thread-safe per document. */
#ifndef HN_JSON_H
#define HN_JSON_H

#include <stddef.h>
#include <stdint.h>

struct hn_json; /* one value; a document is its root */

struct hn_json *hn_json_object(void);
struct hn_json *hn_json_array(void);
struct hn_json *hn_json_string(const char *s, size_t len);
struct hn_json *hn_json_integer(long long v);
struct hn_json *hn_json_real(double v);
struct hn_json *hn_json_bool(int v);
struct hn_json *hn_json_null(void);
/* Takes ownership of value. */
void hn_json_set(struct hn_json *obj, const char *key, struct hn_json *value);
void hn_json_append(struct hn_json *arr, struct hn_json *value);
/* Compact text, malloc'd; NULL on failure. */
char *hn_json_dump(const struct hn_json *v);
void hn_json_free(struct hn_json *v);

/* Parses text (not NUL-terminated); NULL if it is not JSON. */
struct hn_json *hn_json_parse(const char *text, size_t len);

/* Checks a JSONPath expression at load time; returns 0 or HN_EINVAL. */
int hn_json_path_check(const char *path);
/* Looks a path up: NULL if absent. The result is borrowed from doc. */
const struct hn_json *hn_json_path_get(const struct hn_json *doc, const char *path);
/* A scalar as text (strings unquoted, numbers, true/false/null; objects and arrays as compact
 * JSON) into buf; returns the length written (truncated to n-1). */
size_t hn_json_text(const struct hn_json *v, char *buf, size_t n);

#endif
