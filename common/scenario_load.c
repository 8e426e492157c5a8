/* YAML → scenario model (libyaml's document API, jansson for json: bodies). Every mistake is
 * reported once as "FILE:LINE:COL: field: problem" before any load starts. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "common/scenario.h"

struct ctx {
    const char *file;
    yaml_document_t doc;
    char *err;
    size_t errlen;
};

static int fail(struct ctx *c, const yaml_node_t *n, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct ctx *c, const yaml_node_t *n, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned long line = n ? n->start_mark.line + 1 : 1, col = n ? n->start_mark.column + 1 : 1;
    snprintf(c->err, c->errlen, "%s:%lu:%lu: %s: %s", c->file, line, col, field, msg);
    return HN_EINVAL;
}

static yaml_node_t *node(struct ctx *c, int id) { return yaml_document_get_node(&c->doc, id); }

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "empty";
    }
}

/* Checks that every key of a mapping is one of `allowed`; suggests the closest one. */
static int check_keys(struct ctx *c, yaml_node_t *map, const char *field,
                      const char *const *allowed)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key);
        const char *key = scalar(k);
        if (!key)
            return fail(c, k, field, "keys must be plain strings");
        int found = 0, best = 99;
        const char *best_name = NULL;
        for (const char *const *a = allowed; *a; a++) {
            if (strcmp(*a, key) == 0) {
                found = 1;
                break;
            }
            int d = hn_edit_distance(key, *a);
            if (d < best) {
                best = d;
                best_name = *a;
            }
        }
        if (!found) {
            if (best_name && best <= 2)
                return fail(c, k, field, "unknown key '%s' (did you mean '%s'?)", key, best_name);
            return fail(c, k, field, "unknown key '%s'", key);
        }
    }
    return 0;
}

static yaml_node_t *get(struct ctx *c, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *k = scalar(node(c, p->key));
        if (k && strcmp(k, key) == 0)
            return node(c, p->value);
    }
    return NULL;
}

static int want(struct ctx *c, yaml_node_t *n, yaml_node_type_t type, const char *field)
{
    if (n->type == type)
        return 0;
    const char *what = type == YAML_SCALAR_NODE ? "a scalar" :
                       type == YAML_SEQUENCE_NODE ? "a list" : "a mapping";
    return fail(c, n, field, "expected %s, found %s", what, kind_name(n));
}

static int get_string(struct ctx *c, yaml_node_t *n, const char *field, char **out)
{
    if (want(c, n, YAML_SCALAR_NODE, field))
        return HN_EINVAL;
    *out = hn_strdup(scalar(n));
    return 0;
}

static int get_weight(struct ctx *c, yaml_node_t *n, const char *field, uint32_t *out)
{
    if (want(c, n, YAML_SCALAR_NODE, field))
        return HN_EINVAL;
    uint64_t v;
    if (hn_parse_u64(scalar(n), &v) || v == 0 || v > 1000000)
        return fail(c, n, field, "must be a whole number from 1 to 1000000, got '%s'", scalar(n));
    *out = (uint32_t)v;
    return 0;
}

static int get_seconds(struct ctx *c, yaml_node_t *n, const char *field, double *out)
{
    if (want(c, n, YAML_SCALAR_NODE, field))
        return HN_EINVAL;
    const char *s = scalar(n);
    double v;
    if (hn_parse_double(s, &v) == 0) {
        if (v < 0 || v > 86400)
            return fail(c, n, field, "must be between 0 and 86400 seconds, got '%s'", s);
        *out = v;
        return 0;
    }
    int64_t ms;
    if (hn_parse_duration_ms(s, &ms) == 0 && ms <= 86400000) {
        *out = (double)ms / 1000.0;
        return 0;
    }
    return fail(c, n, field, "bad duration '%s' (use seconds, or 500ms, 2s, 1m)", s);
}

/* YAML node → JSON value. Plain scalars are typed (true/false/null/numbers); quoted ones are
 * strings. */
static json_t *to_json(struct ctx *c, yaml_node_t *n, int depth)
{
    if (depth > 64)
        return NULL;
    if (n->type == YAML_SCALAR_NODE) {
        const char *s = scalar(n);
        if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
            return json_stringn(s, n->data.scalar.length);
        if (!strcmp(s, "true"))
            return json_true();
        if (!strcmp(s, "false"))
            return json_false();
        if (!strcmp(s, "null") || !strcmp(s, "~") || !*s)
            return json_null();
        char *end;
        errno = 0;
        long long i = strtoll(s, &end, 10);
        if (!*end && !errno)
            return json_integer(i);
        double d = strtod(s, &end);
        if (!*end && !errno && d == d)
            return json_real(d);
        return json_stringn(s, n->data.scalar.length);
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        json_t *a = json_array();
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            json_t *v = to_json(c, node(c, *it), depth + 1);
            if (!v) {
                json_decref(a);
                return NULL;
            }
            json_array_append_new(a, v);
        }
        return a;
    }
    if (n->type == YAML_MAPPING_NODE) {
        json_t *o = json_object();
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            const char *k = scalar(node(c, p->key));
            json_t *v = k ? to_json(c, node(c, p->value), depth + 1) : NULL;
            if (!v) {
                json_decref(o);
                return NULL;
            }
            json_object_set_new(o, k, v);
        }
        return o;
    }
    return NULL;
}

static const char *const k_methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
                                        NULL};

static int load_http(struct ctx *c, yaml_node_t *n, const char *field, struct hn_http_step *h)
{
    static const char *const keys[] = {"method", "url", "name", "headers", "body", "json",
                                       "timeout", NULL};
    char f[256];
    if (want(c, n, YAML_MAPPING_NODE, field) || check_keys(c, n, field, keys))
        return HN_EINVAL;

    yaml_node_t *v = get(c, n, "method");
    if (v) {
        snprintf(f, sizeof f, "%s.method", field);
        if (get_string(c, v, f, &h->method))
            return HN_EINVAL;
        for (char *p = h->method; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        int ok = 0;
        for (const char *const *m = k_methods; *m; m++)
            ok |= strcmp(*m, h->method) == 0;
        if (!ok)
            return fail(c, v, f, "unknown HTTP method '%s'", scalar(v));
    } else {
        h->method = hn_strdup("GET");
    }

    snprintf(f, sizeof f, "%s.url", field);
    v = get(c, n, "url");
    if (!v)
        return fail(c, n, f, "missing (every http step needs a url)");
    if (get_string(c, v, f, &h->url))
        return HN_EINVAL;
    if (h->url[0] != '/' && strncmp(h->url, "http://", 7) && strncmp(h->url, "https://", 8))
        return fail(c, v, f, "must start with '/' or be an absolute http:// or https:// URL");
    for (const char *p = h->url; *p; p++)
        if ((unsigned char)*p <= ' ')
            return fail(c, v, f, "contains whitespace or a control character");

    v = get(c, n, "name");
    if (v) {
        snprintf(f, sizeof f, "%s.name", field);
        if (get_string(c, v, f, &h->name))
            return HN_EINVAL;
        if (!*h->name || strlen(h->name) > 1024)
            return fail(c, v, f, "must be 1 to 1024 characters");
    } else {
        h->name = hn_strndup(h->url, strcspn(h->url, "?#"));
    }

    v = get(c, n, "headers");
    if (v) {
        snprintf(f, sizeof f, "%s.headers", field);
        if (want(c, v, YAML_MAPPING_NODE, f))
            return HN_EINVAL;
        size_t cnt = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
        h->headers = hn_calloc(cnt, sizeof *h->headers);
        for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = node(c, p->key), *val = node(c, p->value);
            if (!scalar(k) || !*scalar(k) || strpbrk(scalar(k), ": \t\r\n"))
                return fail(c, k, f, "header names must be non-empty tokens without ':' or spaces");
            if (!scalar(val) || strpbrk(scalar(val), "\r\n"))
                return fail(c, val, f, "header '%s' must have a one-line string value",
                            scalar(k));
            h->headers[h->n_headers].key = hn_strdup(scalar(k));
            h->headers[h->n_headers].value = hn_strdup(scalar(val));
            h->n_headers++;
        }
    }

    yaml_node_t *body = get(c, n, "body"), *json = get(c, n, "json");
    if (body && json)
        return fail(c, json, field, "give either body or json, not both");
    if (body) {
        snprintf(f, sizeof f, "%s.body", field);
        if (want(c, body, YAML_SCALAR_NODE, f))
            return HN_EINVAL;
        h->body_len = body->data.scalar.length;
        h->body = hn_strndup(scalar(body), h->body_len);
    } else if (json) {
        snprintf(f, sizeof f, "%s.json", field);
        json_t *j = to_json(c, json, 0);
        if (!j)
            return fail(c, json, f, "cannot be turned into JSON (nested too deep?)");
        h->body = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(j);
        if (!h->body)
            return fail(c, json, f, "cannot be turned into JSON");
        h->body_len = strlen(h->body);
        h->content_type = hn_strdup("application/json");
        for (size_t i = 0; i < h->n_headers; i++)
            if (!strcasecmp(h->headers[i].key, "Content-Type")) {
                free(h->content_type);
                h->content_type = NULL;
            }
    }

    v = get(c, n, "timeout");
    if (v) {
        snprintf(f, sizeof f, "%s.timeout", field);
        double s;
        if (get_seconds(c, v, f, &s))
            return HN_EINVAL;
        if (s <= 0)
            return fail(c, v, f, "must be above 0");
        h->timeout_ms = (int64_t)(s * 1000.0 + 0.5);
    }
    return 0;
}

static int load_task(struct ctx *c, yaml_node_t *n, const char *field, struct hn_task *t)
{
    static const char *const keys[] = {"name", "weight", "steps", NULL};
    char f[256];
    if (want(c, n, YAML_MAPPING_NODE, field) || check_keys(c, n, field, keys))
        return HN_EINVAL;
    yaml_node_t *v = get(c, n, "name");
    snprintf(f, sizeof f, "%s.name", field);
    if (!v)
        return fail(c, n, f, "missing");
    if (get_string(c, v, f, &t->name))
        return HN_EINVAL;
    t->weight = 1;
    v = get(c, n, "weight");
    snprintf(f, sizeof f, "%s.weight", field);
    if (v && get_weight(c, v, f, &t->weight))
        return HN_EINVAL;
    v = get(c, n, "steps");
    snprintf(f, sizeof f, "%s.steps", field);
    if (!v)
        return fail(c, n, f, "missing (a task needs at least one step)");
    if (want(c, v, YAML_SEQUENCE_NODE, f))
        return HN_EINVAL;
    size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (cnt == 0)
        return fail(c, v, f, "empty (a task needs at least one step)");
    t->steps = hn_calloc(cnt, sizeof *t->steps);
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *s = node(c, v->data.sequence.items.start[i]);
        snprintf(f, sizeof f, "%s.steps[%zu]", field, i);
        static const char *const step_keys[] = {"http", NULL};
        if (want(c, s, YAML_MAPPING_NODE, f) || check_keys(c, s, f, step_keys))
            return HN_EINVAL;
        yaml_node_t *h = get(c, s, "http");
        if (!h)
            return fail(c, s, f, "a step needs a kind (http)");
        struct hn_step *st = &t->steps[t->n_steps++];
        st->kind = HN_STEP_HTTP;
        st->line = (int)s->start_mark.line + 1;
        char hf[300];
        snprintf(hf, sizeof hf, "%s.http", f);
        if (load_http(c, h, hf, &st->http))
            return HN_EINVAL;
    }
    return 0;
}

static int load_wait(struct ctx *c, yaml_node_t *n, const char *field, struct hn_wait *w)
{
    static const char *const keys[] = {"constant", "between", NULL};
    char f[256];
    if (want(c, n, YAML_MAPPING_NODE, field) || check_keys(c, n, field, keys))
        return HN_EINVAL;
    yaml_node_t *k = get(c, n, "constant"), *b = get(c, n, "between");
    if ((k != NULL) == (b != NULL))
        return fail(c, n, field, "give exactly one of {constant: S} or {between: [A, B]}");
    if (k) {
        snprintf(f, sizeof f, "%s.constant", field);
        w->kind = HN_WAIT_CONSTANT;
        if (get_seconds(c, k, f, &w->min_s))
            return HN_EINVAL;
        w->max_s = w->min_s;
        return 0;
    }
    snprintf(f, sizeof f, "%s.between", field);
    if (want(c, b, YAML_SEQUENCE_NODE, f))
        return HN_EINVAL;
    if (b->data.sequence.items.top - b->data.sequence.items.start != 2)
        return fail(c, b, f, "expected two values [min, max]");
    w->kind = HN_WAIT_BETWEEN;
    if (get_seconds(c, node(c, b->data.sequence.items.start[0]), f, &w->min_s) ||
        get_seconds(c, node(c, b->data.sequence.items.start[1]), f, &w->max_s))
        return HN_EINVAL;
    if (w->max_s < w->min_s)
        return fail(c, b, f, "max (%g) is below min (%g)", w->max_s, w->min_s);
    return 0;
}

static int load_class(struct ctx *c, yaml_node_t *n, const char *field, struct hn_user_class *u)
{
    static const char *const keys[] = {"name", "weight", "wait", "tasks", NULL};
    char f[256];
    if (want(c, n, YAML_MAPPING_NODE, field) || check_keys(c, n, field, keys))
        return HN_EINVAL;
    yaml_node_t *v = get(c, n, "name");
    snprintf(f, sizeof f, "%s.name", field);
    if (!v)
        return fail(c, n, f, "missing");
    if (get_string(c, v, f, &u->name))
        return HN_EINVAL;
    if (!*u->name || strlen(u->name) > 128 || strpbrk(u->name, " \t\r\n,"))
        return fail(c, v, f, "must be 1 to 128 characters without spaces or commas");
    u->weight = 1;
    v = get(c, n, "weight");
    snprintf(f, sizeof f, "%s.weight", field);
    if (v && get_weight(c, v, f, &u->weight))
        return HN_EINVAL;
    u->wait.kind = HN_WAIT_CONSTANT; /* Locust's default: no wait */
    v = get(c, n, "wait");
    snprintf(f, sizeof f, "%s.wait", field);
    if (v && load_wait(c, v, f, &u->wait))
        return HN_EINVAL;
    v = get(c, n, "tasks");
    snprintf(f, sizeof f, "%s.tasks", field);
    if (!v)
        return fail(c, n, f, "missing (a user class needs at least one task)");
    if (want(c, v, YAML_SEQUENCE_NODE, f))
        return HN_EINVAL;
    size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (cnt == 0)
        return fail(c, v, f, "empty (a user class needs at least one task)");
    u->tasks = hn_calloc(cnt, sizeof *u->tasks);
    u->cum_weight = hn_calloc(cnt, sizeof *u->cum_weight);
    uint64_t sum = 0;
    for (size_t i = 0; i < cnt; i++) {
        snprintf(f, sizeof f, "%s.tasks[%zu]", field, i);
        struct hn_task *t = &u->tasks[u->n_tasks++];
        if (load_task(c, node(c, v->data.sequence.items.start[i]), f, t))
            return HN_EINVAL;
        sum += t->weight;
        u->cum_weight[i] = sum;
    }
    return 0;
}

static int load_root(struct ctx *c, struct hn_scenario *s)
{
    static const char *const keys[] = {"host", "users", NULL};
    yaml_node_t *root = yaml_document_get_root_node(&c->doc);
    if (!root)
        return fail(c, NULL, "scenario", "the file is empty");
    if (want(c, root, YAML_MAPPING_NODE, "scenario") || check_keys(c, root, "scenario", keys))
        return HN_EINVAL;
    yaml_node_t *v = get(c, root, "host");
    if (v) {
        if (get_string(c, v, "host", &s->host))
            return HN_EINVAL;
        if (strncmp(s->host, "http://", 7) && strncmp(s->host, "https://", 8))
            return fail(c, v, "host", "must start with http:// or https://, got '%s'", s->host);
    }
    v = get(c, root, "users");
    if (!v)
        return fail(c, root, "users", "missing (a scenario needs at least one user class)");
    if (want(c, v, YAML_SEQUENCE_NODE, "users"))
        return HN_EINVAL;
    size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (cnt == 0)
        return fail(c, v, "users", "empty (a scenario needs at least one user class)");
    s->classes = hn_calloc(cnt, sizeof *s->classes);
    for (size_t i = 0; i < cnt; i++) {
        char f[64];
        snprintf(f, sizeof f, "users[%zu]", i);
        yaml_node_t *cn = node(c, v->data.sequence.items.start[i]);
        struct hn_user_class *u = &s->classes[s->n_classes++];
        if (load_class(c, cn, f, u))
            return HN_EINVAL;
        for (size_t j = 0; j + 1 < s->n_classes; j++)
            if (!strcmp(s->classes[j].name, u->name))
                return fail(c, cn, f, "user class name '%s' is used twice", u->name);
    }
    return 0;
}

int hn_scenario_load_buffer(const char *name, const char *text, size_t len,
                            struct hn_scenario **out, char *err, size_t errlen)
{
    struct ctx c = {.file = name, .err = err, .errlen = errlen};
    *out = NULL;
    if (len > HN_SCENARIO_MAX_BYTES) {
        snprintf(err, errlen, "%s:1:1: scenario: file is larger than %u bytes", name,
                 HN_SCENARIO_MAX_BYTES);
        return HN_EINVAL;
    }
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &c.doc)) {
        snprintf(err, errlen, "%s:%lu:%lu: yaml: %s%s%s", name,
                 (unsigned long)parser.problem_mark.line + 1,
                 (unsigned long)parser.problem_mark.column + 1,
                 parser.problem ? parser.problem : "syntax error",
                 parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return HN_EINVAL;
    }
    yaml_parser_delete(&parser);

    struct hn_scenario *s = hn_calloc(1, sizeof *s);
    s->path = hn_strdup(name);
    s->text = hn_strndup(text, len);
    s->text_len = len;
    int rc = load_root(&c, s);
    yaml_document_delete(&c.doc);
    if (rc) {
        hn_scenario_destroy(&s);
        return rc;
    }
    *out = s;
    return 0;
}

int hn_scenario_load_file(const char *path, struct hn_scenario **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open scenario file: %s", path, strerror(errno));
        return HN_EIO;
    }
    size_t cap = 64 * 1024, len = 0;
    char *buf = hn_malloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap > HN_SCENARIO_MAX_BYTES)
                break;
            cap *= 2;
            buf = hn_realloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "%s: cannot read scenario file", path);
        return HN_EIO;
    }
    int rc = hn_scenario_load_buffer(path, buf, len, out, err, errlen);
    free(buf);
    return rc;
}
