/* YAML → scenario model (libyaml's document API, jansson for json: bodies). Every mistake is
 * reported once as "FILE:LINE:COL: field: problem" before any load starts. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "common/json.h"
#include "common/scenario.h"
#include "common/util.h"

struct ctx {
    const char *file;
    yaml_document_t doc;
    char *err;
    size_t errlen;
    const struct hn_scenario_io *io;
    struct hn_scenario *sc;
    struct hn_user_class *cls; /* the class being loaded (captures resolve against it) */
    int n_errs;                /* mistakes found so far (each one line in err) */
};

/* The checker reports every mistake in a file, one line each, up to this many; it goes on
 * after a mistake at the next step, task, class or top-level key. */
#define MAX_ERRORS 20

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
    size_t off = c->n_errs ? strlen(c->err) : 0;
    if (c->n_errs < MAX_ERRORS && off + 2 < c->errlen)
        snprintf(c->err + off, c->errlen - off, "%s%s:%lu:%lu: %s: %s", c->n_errs ? "\n" : "",
                 c->file, line, col, field, msg);
    else if (c->n_errs == MAX_ERRORS && off + 2 < c->errlen)
        snprintf(c->err + off, c->errlen - off, "\n%s: more mistakes: fix these first", c->file);
    c->n_errs++;
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

/* ${VAR} and ${VAR:-default} in a scalar, expanded once at load; the values used are recorded
 * so workers expand identically. */
static int expand_env(struct ctx *c, yaml_node_t *n, const char *field, const char *in,
                      char **out)
{
    struct hn_buf b;
    hn_buf_init(&b, HN_SCENARIO_MAX_BYTES);
    const char *p = in;
    while (*p) {
        const char *d = strstr(p, "${");
        if (!d) {
            hn_buf_append(&b, p, strlen(p));
            break;
        }
        hn_buf_append(&b, p, (size_t)(d - p));
        const char *close = strchr(d, '}');
        if (!close) {
            hn_buf_fini(&b);
            return fail(c, n, field, "unclosed '${' in \"%s\"", in);
        }
        char name[128];
        const char *def = NULL;
        size_t deflen = 0;
        const char *colon = strstr(d, ":-");
        size_t nl = (size_t)((colon && colon < close ? colon : close) - (d + 2));
        if (colon && colon < close) {
            def = colon + 2;
            deflen = (size_t)(close - def);
        }
        if (nl == 0 || nl >= sizeof name) {
            hn_buf_fini(&b);
            return fail(c, n, field, "bad environment reference in \"%s\"", in);
        }
        memcpy(name, d + 2, nl);
        name[nl] = '\0';
        for (const char *q = name; *q; q++)
            if (!(isalnum((unsigned char)*q) || *q == '_')) {
                hn_buf_fini(&b);
                return fail(c, n, field, "bad environment variable name '%s'", name);
            }
        const char *val = c->io->getenv(c->io->ctx, name);
        if (val) {
            hn_buf_append(&b, val, strlen(val));
            struct hn_scenario *sc = c->sc;
            int seen = 0;
            for (size_t i = 0; i < sc->n_env; i++)
                seen |= !strcmp(sc->env[i].key, name);
            if (!seen) {
                sc->env = hn_realloc(sc->env, (sc->n_env + 1) * sizeof *sc->env);
                sc->env[sc->n_env].key = hn_strdup(name);
                sc->env[sc->n_env++].value = hn_strdup(val);
            }
        } else if (def) {
            hn_buf_append(&b, def, deflen);
        } else {
            hn_buf_fini(&b);
            return fail(c, n, field,
                        "environment variable %s is not set (write ${%s:-default} for a default)",
                        name, name);
        }
        p = close + 1;
    }
    *out = hn_strdup(hn_buf_cstr(&b));
    hn_buf_fini(&b);
    return 0;
}

static int get_string(struct ctx *c, yaml_node_t *n, const char *field, char **out)
{
    if (want(c, n, YAML_SCALAR_NODE, field))
        return HN_EINVAL;
    return expand_env(c, n, field, scalar(n), out);
}

static int get_bool(struct ctx *c, yaml_node_t *n, const char *field, int *out)
{
    const char *s = scalar(n);
    if (s && (!strcmp(s, "true") || !strcmp(s, "yes"))) {
        *out = 1;
        return 0;
    }
    if (s && (!strcmp(s, "false") || !strcmp(s, "no"))) {
        *out = 0;
        return 0;
    }
    return fail(c, n, field, "expected true or false");
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
    char *s;
    if (get_string(c, n, field, &s)) /* durations may come from ${ENV} too */
        return HN_EINVAL;
    double v;
    int64_t ms;
    int rc = 0;
    if (hn_parse_double(s, &v) == 0) {
        if (v < 0 || v > 86400)
            rc = fail(c, n, field, "must be between 0 and 86400 seconds, got '%s'", s);
        else
            *out = v;
    } else if (hn_parse_duration_ms(s, &ms) == 0 && ms <= 86400000) {
        *out = (double)ms / 1000.0;
    } else {
        rc = fail(c, n, field, "bad duration '%s' (use seconds, or 500ms, 2s, 1m)", s);
    }
    free(s);
    return rc;
}

static int get_tags(struct ctx *c, yaml_node_t *n, const char *field, char ***tags, size_t *nt)
{
    if (want(c, n, YAML_SEQUENCE_NODE, field))
        return HN_EINVAL;
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    *tags = hn_calloc(cnt, sizeof **tags);
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *t = node(c, n->data.sequence.items.start[i]);
        const char *s = scalar(t);
        if (!s || !*s || strpbrk(s, ", \t"))
            return fail(c, t, field, "tags are words without spaces or commas");
        (*tags)[(*nt)++] = hn_strdup(s);
    }
    return 0;
}

/* ---------- templates ---------- */

static int resolve(void *ctxp, const char *name, struct hn_seg *seg)
{
    struct ctx *c = ctxp;
    if (c->cls)
        for (size_t i = 0; i < c->cls->n_captures; i++)
            if (!strcmp(c->cls->capture_names[i], name)) {
                seg->kind = HN_SEG_CAPTURE;
                seg->a = (uint32_t)i;
                return 0;
            }
    for (size_t i = 0; i < c->sc->n_vars; i++)
        if (!strcmp(c->sc->vars[i].name, name)) {
            seg->kind = HN_SEG_VAR;
            seg->a = (uint32_t)i;
            return 0;
        }
    const char *dot = strchr(name, '.');
    if (dot)
        for (size_t i = 0; i < c->sc->n_data; i++) {
            const struct hn_data_source *d = &c->sc->data[i];
            if (strlen(d->name) != (size_t)(dot - name) || strncmp(d->name, name, (size_t)(dot - name)))
                continue;
            for (size_t k = 0; k < d->n_columns; k++)
                if (!strcmp(d->columns[k], dot + 1)) {
                    seg->kind = HN_SEG_DATA;
                    seg->a = (uint32_t)i;
                    seg->b = (uint32_t)k;
                    return 0;
                }
        }
    return HN_EINVAL;
}

static int compile(struct ctx *c, yaml_node_t *n, const char *field, const char *text,
                   enum hn_esc esc, struct hn_tpl **out)
{
    char why[300];
    if (hn_tpl_compile(text, strlen(text), esc, resolve, c, out, why, sizeof why))
        return fail(c, n, field, "%s", why);
    return 0;
}

/* Percent-encodes the literal parts of text, leaving {{...}} placeholders as they are. */
static void url_encode_literal(struct hn_buf *b, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *open = strstr(p, "{{");
        const char *close = open ? strstr(open, "}}") : NULL;
        size_t lit = open && close ? (size_t)(open - p) : strlen(p);
        hn_buf_append_esc(b, p, lit, HN_ESC_URL);
        p += lit;
        if (open && close) {
            hn_buf_append(b, open, (size_t)(close + 2 - open));
            p = close + 2;
        }
    }
}

/* YAML node → JSON value. Plain scalars are typed (true/false/null/numbers); quoted ones are
 * strings. */
static struct hn_json *to_json(struct ctx *c, yaml_node_t *n, const char *field, int depth)
{
    if (depth > 64)
        return NULL;
    if (n->type == YAML_SCALAR_NODE) {
        char *s;
        if (expand_env(c, n, field, scalar(n), &s))
            return NULL;
        struct hn_json *v = NULL;
        if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
            char *end;
            if (!strcmp(s, "true") || !strcmp(s, "false"))
                v = hn_json_bool(s[0] == 't');
            else if (!strcmp(s, "null") || !strcmp(s, "~") || !*s)
                v = hn_json_null();
            if (!v && *s) {
                errno = 0;
                long long i = strtoll(s, &end, 10);
                if (!*end && !errno)
                    v = hn_json_integer(i);
            }
            if (!v && *s) {
                errno = 0;
                double d = strtod(s, &end);
                if (!*end && !errno && d == d)
                    v = hn_json_real(d);
            }
        }
        if (!v)
            v = hn_json_string(s, strlen(s));
        free(s);
        return v;
    }
    int is_seq = n->type == YAML_SEQUENCE_NODE;
    if (!is_seq && n->type != YAML_MAPPING_NODE)
        return NULL;
    struct hn_json *o = is_seq ? hn_json_array() : hn_json_object();
    if (is_seq) {
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            struct hn_json *v = to_json(c, node(c, *it), field, depth + 1);
            if (!v) {
                hn_json_free(o);
                return NULL;
            }
            hn_json_append(o, v);
        }
        return o;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const char *k = scalar(node(c, p->key));
        struct hn_json *v = k ? to_json(c, node(c, p->value), field, depth + 1) : NULL;
        if (!v) {
            hn_json_free(o);
            return NULL;
        }
        hn_json_set(o, k, v);
    }
    return o;
}

static const char *const k_methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
                                        NULL};

/* {"$.path": exists | missing | value, ...} */
static int load_json_checks(struct ctx *c, yaml_node_t *v, const char *f,
                            struct hn_json_check **out, size_t *n)
{
    if (want(c, v, YAML_MAPPING_NODE, f))
        return HN_EINVAL;
    size_t cnt = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    *out = hn_calloc(cnt, sizeof **out);
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
        const char *path = scalar(kn);
        if (!path || hn_json_path_check(path))
            return fail(c, kn, f, "'%s' is not a JSONPath like $.a.b[0]", path ? path : "");
        struct hn_json_check *jc = &(*out)[(*n)++];
        jc->path = hn_strdup(path);
        const char *want_s = scalar(vn);
        if (!want_s)
            return fail(c, vn, f, "expected exists, missing or a value");
        if (vn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !strcmp(want_s, "exists"))
            jc->expect = HN_JSON_EXISTS;
        else if (vn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !strcmp(want_s, "missing"))
            jc->expect = HN_JSON_MISSING;
        else {
            jc->expect = HN_JSON_EQUALS;
            if (get_string(c, vn, f, &jc->value))
                return HN_EINVAL;
        }
    }
    return 0;
}

static int load_check(struct ctx *c, yaml_node_t *n, const char *field, struct hn_http_step *h)
{
    static const char *const keys[] = {"status", "body_contains", "json", NULL};
    char f[300];
    if (want(c, n, YAML_MAPPING_NODE, field) || check_keys(c, n, field, keys))
        return HN_EINVAL;
    struct hn_check *k = &h->check;
    yaml_node_t *v = get(c, n, "status");
    if (v) {
        snprintf(f, sizeof f, "%s.status", field);
        size_t cnt = v->type == YAML_SEQUENCE_NODE
                         ? (size_t)(v->data.sequence.items.top - v->data.sequence.items.start)
                         : 1;
        if (cnt == 0)
            return fail(c, v, f, "empty list of statuses");
        k->statuses = hn_calloc(cnt, sizeof *k->statuses);
        for (size_t i = 0; i < cnt; i++) {
            yaml_node_t *it = v->type == YAML_SEQUENCE_NODE
                                  ? node(c, v->data.sequence.items.start[i])
                                  : v;
            uint64_t st;
            if (!scalar(it) || hn_parse_u64(scalar(it), &st) || st < 100 || st > 599)
                return fail(c, it, f, "an HTTP status is a number from 100 to 599");
            k->statuses[k->n_statuses++] = (int)st;
        }
    }
    v = get(c, n, "body_contains");
    if (v) {
        snprintf(f, sizeof f, "%s.body_contains", field);
        if (get_string(c, v, f, &k->body_contains))
            return HN_EINVAL;
        h->needs_body = 1;
    }
    v = get(c, n, "json");
    if (v) {
        snprintf(f, sizeof f, "%s.json", field);
        if (load_json_checks(c, v, f, &k->json, &k->n_json))
            return HN_EINVAL;
        h->needs_body = 1;
    }
    return 0;
}

static int load_captures(struct ctx *c, yaml_node_t *n, const char *field,
                         struct hn_capture **caps, size_t *n_caps, int *needs_body, int json_only)
{
    if (want(c, n, YAML_MAPPING_NODE, field))
        return HN_EINVAL;
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    *caps = hn_calloc(cnt, sizeof **caps);
    static const char *const keys[] = {"json", "header", NULL};
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
        char f[300];
        snprintf(f, sizeof f, "%s.%s", field, scalar(kn) ? scalar(kn) : "?");
        if (want(c, vn, YAML_MAPPING_NODE, f) || check_keys(c, vn, f, keys))
            return HN_EINVAL;
        struct hn_capture *cap = &(*caps)[(*n_caps)++];
        cap->name = hn_strdup(scalar(kn));
        for (size_t i = 0; i < c->cls->n_captures; i++)
            if (!strcmp(c->cls->capture_names[i], cap->name))
                cap->slot = (uint32_t)i;
        yaml_node_t *j = get(c, vn, "json"), *hd = get(c, vn, "header");
        if ((j != NULL) == (hd != NULL))
            return fail(c, vn, f, "give exactly one of {json: $.path} or {header: Name}");
        if (j) {
            cap->kind = HN_CAPTURE_JSON;
            if (!scalar(j) || hn_json_path_check(scalar(j)))
                return fail(c, j, f, "'%s' is not a JSONPath like $.a.b[0]",
                            scalar(j) ? scalar(j) : "");
            cap->expr = hn_strdup(scalar(j));
            *needs_body = 1;
        } else if (json_only) {
            return fail(c, hd, f, "a WebSocket message has no headers: capture with {json: $.path}");
        } else {
            cap->kind = HN_CAPTURE_HEADER;
            if (!scalar(hd) || !*scalar(hd) || strpbrk(scalar(hd), ": \r\n"))
                return fail(c, hd, f, "a header name without ':' or spaces");
            cap->expr = hn_strdup(scalar(hd));
        }
    }
    return 0;
}

static int load_kv_query(struct ctx *c, yaml_node_t *v, const char *f, struct hn_buf *b,
                         int first)
{
    if (want(c, v, YAML_MAPPING_NODE, f))
        return HN_EINVAL;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *val = node(c, p->value);
        char *ks, *vs;
        if (!scalar(k) || !scalar(val))
            return fail(c, val, f, "expected name: value pairs of strings");
        if (expand_env(c, k, f, scalar(k), &ks))
            return HN_EINVAL;
        if (expand_env(c, val, f, scalar(val), &vs)) {
            free(ks);
            return HN_EINVAL;
        }
        if (!first)
            hn_buf_append(b, "&", 1);
        first = 0;
        url_encode_literal(b, ks);
        hn_buf_append(b, "=", 1);
        url_encode_literal(b, vs);
        free(ks);
        free(vs);
    }
    return 0;
}

/* A positive duration, in milliseconds. */
static int get_timeout_ms(struct ctx *c, yaml_node_t *v, const char *f, int64_t *ms)
{
    double sec;
    if (get_seconds(c, v, f, &sec))
        return HN_EINVAL;
    if (sec <= 0)
        return fail(c, v, f, "must be above 0");
    *ms = (int64_t)(sec * 1000.0 + 0.5);
    return 0;
}

/* headers: {Name: value} with templated values; *has_ct says whether Content-Type is among them */
static int load_headers(struct ctx *c, yaml_node_t *v, const char *f, struct hn_header **out,
                        size_t *n, int *has_ct)
{
    if (want(c, v, YAML_MAPPING_NODE, f))
        return HN_EINVAL;
    size_t cnt = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    *out = hn_calloc(cnt, sizeof **out);
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *val = node(c, p->value);
        if (!scalar(k) || !*scalar(k) || strpbrk(scalar(k), ": \t\r\n"))
            return fail(c, k, f, "header names must be non-empty tokens without ':' or spaces");
        if (!scalar(val) || strpbrk(scalar(val), "\r\n"))
            return fail(c, val, f, "header '%s' must have a one-line string value", scalar(k));
        struct hn_header *hd = &(*out)[(*n)++];
        hd->name = hn_strdup(scalar(k));
        if (has_ct)
            *has_ct |= !strcasecmp(hd->name, "Content-Type");
        char *text;
        if (expand_env(c, val, f, scalar(val), &text))
            return HN_EINVAL;
        int rc = compile(c, val, f, text, HN_ESC_HEADER, &hd->value);
        free(text);
        if (rc)
            return rc;
    }
    return 0;
}

/* An optional true/false key of mapping n: *out is left alone when the key is absent. */
static int opt_bool(struct ctx *c, yaml_node_t *n, const char *field, const char *key, int *out)
{
    yaml_node_t *v = get(c, n, key);
    char f[360];
    snprintf(f, sizeof f, "%s.%s", field, key);
    return v ? get_bool(c, v, f, out) : 0;
}

/* auth: {basic: [user, password]}: an Authorization header made once, at load (requests' and
 * Locust's auth=(user, password)); a headers: Authorization given by hand wins. */
static int load_basic_auth(struct ctx *c, yaml_node_t *v, const char *field,
                           struct hn_http_step *h)
{
    static const char *const keys[] = {"basic", NULL};
    char f[360];
    if (want(c, v, YAML_MAPPING_NODE, field) || check_keys(c, v, field, keys))
        return HN_EINVAL;
    yaml_node_t *b = get(c, v, "basic");
    snprintf(f, sizeof f, "%s.basic", field);
    if (!b)
        return fail(c, v, f, "missing (auth: {basic: [user, password]})");
    if (b->type != YAML_SEQUENCE_NODE || b->data.sequence.items.top - b->data.sequence.items.start != 2)
        return fail(c, b, f, "expected [user, password]");
    const char *user = scalar(node(c, b->data.sequence.items.start[0]));
    const char *pass = scalar(node(c, b->data.sequence.items.start[1]));
    if (!user || !pass)
        return fail(c, b, f, "expected [user, password], two strings");
    if (strchr(user, ':'))
        return fail(c, b, f, "a basic-auth user name cannot hold ':'");
    for (size_t i = 0; i < h->n_headers; i++)
        if (!strcasecmp(h->headers[i].name, "Authorization"))
            return 0;
    struct hn_buf raw, enc;
    hn_buf_init(&raw, 1 << 16);
    hn_buf_init(&enc, 1 << 17);
    hn_buf_append(&raw, user, strlen(user));
    hn_buf_append(&raw, ":", 1);
    hn_buf_append(&raw, pass, strlen(pass));
    hn_buf_append(&enc, "Basic ", 6);
    hn_base64(&enc, raw.p, raw.len);
    h->headers = hn_realloc(h->headers, (h->n_headers + 1) * sizeof *h->headers);
    struct hn_header *hd = &h->headers[h->n_headers];
    memset(hd, 0, sizeof *hd);
    hd->name = hn_strdup("Authorization");
    /* base64 has no braces: the value is a static template */
    int rc = compile(c, b, f, hn_buf_cstr(&enc), HN_ESC_NONE, &hd->value);
    hn_buf_fini(&raw);
    hn_buf_fini(&enc);
    if (rc)
        return rc;
    h->n_headers++;
    return 0;
}

static int load_http(struct ctx *c, yaml_node_t *n, const char *field, struct hn_http_step *h)
{
    static const char *const keys[] = {"method",  "url",     "name",    "headers",
                                       "query",   "body",    "json",    "form",
                                       "timeout", "check",   "capture", "cookies",
                                       "follow_redirects", "insecure", "auth", "engine", NULL};
    char f[300];
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
    char *url;
    if (get_string(c, v, f, &url))
        return HN_EINVAL;
    int bad = url[0] != '/' && strncmp(url, "http://", 7) && strncmp(url, "https://", 8) &&
              strncmp(url, "{{", 2);
    for (const char *p = url; *p && !bad; p++)
        bad = (unsigned char)*p <= ' ';
    if (bad) {
        free(url);
        return fail(c, v, f, "must start with '/' or be an absolute http:// or https:// URL, "
                             "without spaces");
    }
    yaml_node_t *name = get(c, n, "name");
    if (name) {
        snprintf(f, sizeof f, "%s.name", field);
        if (get_string(c, name, f, &h->name)) {
            free(url);
            return HN_EINVAL;
        }
        if (!*h->name || strlen(h->name) > 1024) {
            free(url);
            return fail(c, name, f, "must be 1 to 1024 characters");
        }
    } else {
        h->name = hn_strndup(url, strcspn(url, "?#"));
    }
    struct hn_buf ub;
    hn_buf_init(&ub, 1 << 20);
    hn_buf_append(&ub, url, strlen(url));
    free(url);
    yaml_node_t *q = get(c, n, "query");
    if (q) {
        snprintf(f, sizeof f, "%s.query", field);
        hn_buf_append(&ub, strchr(hn_buf_cstr(&ub), '?') ? "&" : "?", 1);
        if (load_kv_query(c, q, f, &ub, 1)) {
            hn_buf_fini(&ub);
            return HN_EINVAL;
        }
    }
    snprintf(f, sizeof f, "%s.url", field);
    int rc = compile(c, v, f, hn_buf_cstr(&ub), HN_ESC_URL, &h->url);
    hn_buf_fini(&ub);
    if (rc)
        return rc;

    int has_ct = 0;
    v = get(c, n, "headers");
    if (v) {
        snprintf(f, sizeof f, "%s.headers", field);
        if (load_headers(c, v, f, &h->headers, &h->n_headers, &has_ct))
            return HN_EINVAL;
    }

    yaml_node_t *body = get(c, n, "body"), *json = get(c, n, "json"), *form = get(c, n, "form");
    if ((body != NULL) + (json != NULL) + (form != NULL) > 1)
        return fail(c, json ? json : form, field, "give one of body, json or form");
    if (body) {
        snprintf(f, sizeof f, "%s.body", field);
        char *text;
        if (get_string(c, body, f, &text))
            return HN_EINVAL;
        rc = compile(c, body, f, text, HN_ESC_NONE, &h->body);
        free(text);
        if (rc)
            return rc;
    } else if (json) {
        snprintf(f, sizeof f, "%s.json", field);
        struct hn_json *j = to_json(c, json, f, 0);
        if (!j) {
            if (!*c->err)
                fail(c, json, f, "cannot be turned into JSON (nested too deep?)");
            return HN_EINVAL;
        }
        char *text = hn_json_dump(j);
        hn_json_free(j);
        if (!text)
            return fail(c, json, f, "cannot be turned into JSON");
        rc = compile(c, json, f, text, HN_ESC_JSON, &h->body);
        free(text);
        if (rc)
            return rc;
        if (!has_ct)
            h->content_type = hn_strdup("application/json");
    } else if (form) {
        snprintf(f, sizeof f, "%s.form", field);
        struct hn_buf fb;
        hn_buf_init(&fb, 1 << 20);
        rc = load_kv_query(c, form, f, &fb, 1);
        if (!rc)
            rc = compile(c, form, f, hn_buf_cstr(&fb), HN_ESC_URL, &h->body);
        hn_buf_fini(&fb);
        if (rc)
            return rc;
        if (!has_ct)
            h->content_type = hn_strdup("application/x-www-form-urlencoded");
    }

    v = get(c, n, "timeout");
    snprintf(f, sizeof f, "%s.timeout", field);
    if (v && get_timeout_ms(c, v, f, &h->timeout_ms))
        return HN_EINVAL;
    v = get(c, n, "check");
    if (v) {
        snprintf(f, sizeof f, "%s.check", field);
        if (load_check(c, v, f, h))
            return HN_EINVAL;
    }
    v = get(c, n, "capture");
    if (v) {
        snprintf(f, sizeof f, "%s.capture", field);
        if (load_captures(c, v, f, &h->captures, &h->n_captures, &h->needs_body, 0))
            return HN_EINVAL;
    }
    int cookies = 1, redirects = 1;
    if (opt_bool(c, n, field, "cookies", &cookies) ||
        opt_bool(c, n, field, "follow_redirects", &redirects) ||
        opt_bool(c, n, field, "insecure", &h->insecure))
        return HN_EINVAL;
    h->no_cookies = !cookies;
    h->no_redirects = !redirects;
    v = get(c, n, "engine");
    if (v) {
        snprintf(f, sizeof f, "%s.engine", field);
        const char *e = scalar(v);
        if (!e || (strcmp(e, "auto") && strcmp(e, "curl") && strcmp(e, "native")))
            return fail(c, v, f, "expected auto, curl or native, got '%s'", e ? e : "(not a string)");
        h->engine = !strcmp(e, "curl") ? 1 : !strcmp(e, "native") ? 2 : 0;
    }
    v = get(c, n, "auth");
    if (v) {
        snprintf(f, sizeof f, "%s.auth", field);
        if (load_basic_auth(c, v, f, h))
            return HN_EINVAL;
    }
    h->is_dynamic = !h->url->is_static || (h->body && !h->body->is_static);
    for (size_t i = 0; i < h->n_headers; i++)
        h->is_dynamic |= !h->headers[i].value->is_static;
    return 0;
}

static int load_ws_sub(struct ctx *c, yaml_node_t *n, const char *field, struct hn_ws_sub *u)
{
    static const char *const keys[] = {"send", "send_binary", "expect", "hold", NULL};
    char f[360];
    if (want(c, n, YAML_MAPPING_NODE, field) || check_keys(c, n, field, keys))
        return HN_EINVAL;
    if (n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
        return fail(c, n, field, "give one of send, send_binary, expect or hold");
    yaml_node_t *k = node(c, n->data.mapping.pairs.start->key);
    yaml_node_t *v = node(c, n->data.mapping.pairs.start->value);
    const char *kind = scalar(k);
    snprintf(f, sizeof f, "%s.%s", field, kind);
    if (!strcmp(kind, "send") || !strcmp(kind, "send_binary")) {
        u->action = kind[4] ? HN_WS_SEND_BINARY : HN_WS_SEND;
        char *text;
        if (get_string(c, v, f, &text))
            return HN_EINVAL;
        /* a message that looks like JSON gets JSON escaping for its placeholders */
        enum hn_esc esc = text[0] == '{' || text[0] == '[' ? HN_ESC_JSON : HN_ESC_NONE;
        int rc = compile(c, v, f, text, esc, &u->payload);
        free(text);
        return rc;
    }
    if (!strcmp(kind, "hold")) {
        u->action = HN_WS_HOLD;
        double sec;
        if (get_seconds(c, v, f, &sec))
            return HN_EINVAL;
        u->ms = (int64_t)(sec * 1000.0 + 0.5);
        return 0;
    }
    u->action = HN_WS_EXPECT;
    u->ms = 10000;
    static const char *const ekeys[] = {"json", "contains", "any", "timeout", "capture", NULL};
    if (want(c, v, YAML_MAPPING_NODE, f) || check_keys(c, v, f, ekeys))
        return HN_EINVAL;
    char ff[400];
    yaml_node_t *x = get(c, v, "contains");
    if (x) {
        snprintf(ff, sizeof ff, "%s.contains", f);
        if (get_string(c, x, ff, &u->contains))
            return HN_EINVAL;
    }
    x = get(c, v, "json");
    if (x) {
        snprintf(ff, sizeof ff, "%s.json", f);
        if (load_json_checks(c, x, ff, &u->json, &u->n_json))
            return HN_EINVAL;
    }
    x = get(c, v, "any");
    int any = 0;
    if (x) {
        snprintf(ff, sizeof ff, "%s.any", f);
        if (get_bool(c, x, ff, &any))
            return HN_EINVAL;
    }
    if (!any && !u->contains && !u->n_json)
        return fail(c, v, f, "say what to wait for: json, contains, or any: true");
    x = get(c, v, "timeout");
    snprintf(ff, sizeof ff, "%s.timeout", f);
    if (x && get_timeout_ms(c, x, ff, &u->ms))
        return HN_EINVAL;
    x = get(c, v, "capture");
    if (x) {
        snprintf(ff, sizeof ff, "%s.capture", f);
        int dummy = 0;
        if (load_captures(c, x, ff, &u->captures, &u->n_captures, &dummy, 1))
            return HN_EINVAL;
    }
    /* a stable description of the match, for failure messages */
    struct hn_buf d;
    hn_buf_init(&d, 512);
    if (u->contains) {
        hn_buf_append(&d, "contains '", 10);
        hn_buf_append(&d, u->contains, strlen(u->contains));
        hn_buf_append(&d, "'", 1);
    }
    for (size_t i = 0; i < u->n_json; i++) {
        if (d.len)
            hn_buf_append(&d, " and ", 5);
        const struct hn_json_check *j = &u->json[i];
        hn_buf_append(&d, j->path, strlen(j->path));
        const char *w = j->expect == HN_JSON_EXISTS ? " exists" :
                        j->expect == HN_JSON_MISSING ? " missing" : " == ";
        hn_buf_append(&d, w, strlen(w));
        if (j->value)
            hn_buf_append(&d, j->value, strlen(j->value));
    }
    if (!d.len)
        hn_buf_append(&d, "any message", 11);
    u->desc = hn_strdup(hn_buf_cstr(&d));
    hn_buf_fini(&d);
    return 0;
}

static int load_ws(struct ctx *c, yaml_node_t *n, const char *field, struct hn_ws_step *w)
{
    static const char *const keys[] = {"url", "name", "headers", "subprotocol", "steps",
                                       "ping_interval", "max_message_bytes", "timeout", NULL};
    char f[340];
    if (want(c, n, YAML_MAPPING_NODE, field) || check_keys(c, n, field, keys))
        return HN_EINVAL;
    snprintf(f, sizeof f, "%s.url", field);
    yaml_node_t *v = get(c, n, "url");
    if (!v)
        return fail(c, n, f, "missing (every ws step needs a url)");
    char *url;
    if (get_string(c, v, f, &url))
        return HN_EINVAL;
    if (url[0] != '/' && strncmp(url, "ws://", 5) && strncmp(url, "wss://", 6)) {
        free(url);
        return fail(c, v, f, "must start with '/' or be an absolute ws:// or wss:// URL");
    }
    yaml_node_t *name = get(c, n, "name");
    if (name) {
        snprintf(f, sizeof f, "%s.name", field);
        if (get_string(c, name, f, &w->name)) {
            free(url);
            return HN_EINVAL;
        }
    } else {
        w->name = hn_strndup(url, strcspn(url, "?#"));
    }
    snprintf(f, sizeof f, "%s.url", field);
    int rc = compile(c, v, f, url, HN_ESC_URL, &w->url);
    free(url);
    if (rc)
        return rc;
    v = get(c, n, "headers");
    if (v) {
        snprintf(f, sizeof f, "%s.headers", field);
        if (load_headers(c, v, f, &w->headers, &w->n_headers, NULL))
            return HN_EINVAL;
    }
    v = get(c, n, "subprotocol");
    snprintf(f, sizeof f, "%s.subprotocol", field);
    if (v && get_string(c, v, f, &w->subprotocol))
        return HN_EINVAL;
    w->max_message_bytes = 1 << 20;
    v = get(c, n, "max_message_bytes");
    if (v) {
        uint64_t mb;
        char *text;
        snprintf(f, sizeof f, "%s.max_message_bytes", field);
        if (get_string(c, v, f, &text))
            return HN_EINVAL;
        int bad = hn_parse_u64(text, &mb) || mb < 16 || mb > (64u << 20);
        free(text);
        if (bad)
            return fail(c, v, f, "must be a whole number from 16 to 67108864");
        w->max_message_bytes = (size_t)mb;
    }
    double sec;
    v = get(c, n, "ping_interval");
    if (v) {
        snprintf(f, sizeof f, "%s.ping_interval", field);
        if (get_seconds(c, v, f, &sec))
            return HN_EINVAL;
        w->ping_interval_ms = (int64_t)(sec * 1000.0 + 0.5);
    }
    v = get(c, n, "timeout");
    snprintf(f, sizeof f, "%s.timeout", field);
    if (v && get_timeout_ms(c, v, f, &w->connect_timeout_ms))
        return HN_EINVAL;
    v = get(c, n, "steps");
    snprintf(f, sizeof f, "%s.steps", field);
    if (!v)
        return fail(c, n, f, "missing (send, expect, hold)");
    if (want(c, v, YAML_SEQUENCE_NODE, f))
        return HN_EINVAL;
    size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    w->subs = hn_calloc(cnt ? cnt : 1, sizeof *w->subs);
    for (size_t i = 0; i < cnt; i++) {
        char sf[360];
        snprintf(sf, sizeof sf, "%s[%zu]", f, i);
        if (load_ws_sub(c, node(c, v->data.sequence.items.start[i]), sf, &w->subs[w->n_subs++]))
            return HN_EINVAL;
    }
    return 0;
}

static int load_steps(struct ctx *c, yaml_node_t *v, const char *field, struct hn_task *t)
{
    if (want(c, v, YAML_SEQUENCE_NODE, field))
        return HN_EINVAL;
    size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (cnt == 0)
        return fail(c, v, field, "empty (at least one step is needed)");
    t->steps = hn_calloc(cnt, sizeof *t->steps);
    int bad = 0;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *s = node(c, v->data.sequence.items.start[i]);
        char f[300];
        snprintf(f, sizeof f, "%s[%zu]", field, i);
        static const char *const step_keys[] = {"http", "ws", NULL};
        if (want(c, s, YAML_MAPPING_NODE, f) || check_keys(c, s, f, step_keys)) {
            bad = 1;
            continue;
        }
        yaml_node_t *h = get(c, s, "http"), *ws = get(c, s, "ws");
        if ((h != NULL) == (ws != NULL)) {
            bad = fail(c, s, f, "a step is one of http or ws");
            continue;
        }
        struct hn_step *st = &t->steps[t->n_steps++];
        st->kind = h ? HN_STEP_HTTP : HN_STEP_WS;
        st->line = (int)s->start_mark.line + 1;
        char hf[320];
        snprintf(hf, sizeof hf, "%s.%s", f, h ? "http" : "ws");
        if (h ? load_http(c, h, hf, &st->http) : load_ws(c, ws, hf, &st->ws))
            bad = 1;
    }
    return bad ? HN_EINVAL : 0;
}

static int load_task(struct ctx *c, yaml_node_t *n, const char *field, struct hn_task *t)
{
    static const char *const keys[] = {"name", "weight", "tags", "steps", NULL};
    char f[300];
    if (want(c, n, YAML_MAPPING_NODE, field) || check_keys(c, n, field, keys))
        return HN_EINVAL;
    yaml_node_t *v = get(c, n, "name");
    snprintf(f, sizeof f, "%s.name", field);
    if (v && get_string(c, v, f, &t->name)) /* without one: its first step's name, below */
        return HN_EINVAL;
    t->weight = 1;
    v = get(c, n, "weight");
    snprintf(f, sizeof f, "%s.weight", field);
    if (v && get_weight(c, v, f, &t->weight))
        return HN_EINVAL;
    v = get(c, n, "tags");
    snprintf(f, sizeof f, "%s.tags", field);
    if (v && get_tags(c, v, f, &t->tags, &t->n_tags))
        return HN_EINVAL;
    v = get(c, n, "steps");
    snprintf(f, sizeof f, "%s.steps", field);
    if (!v)
        return fail(c, n, f, "missing (a task needs at least one step)");
    int rc = load_steps(c, v, f, t);
    if (!t->name && t->n_steps) {
        const struct hn_step *s0 = &t->steps[0];
        const char *first = s0->kind == HN_STEP_HTTP ? s0->http.name : s0->ws.name;
        t->name = hn_strdup(first ? first : "task");
    }
    if (!t->name)
        t->name = hn_strdup("task");
    return rc;
}

static int load_wait(struct ctx *c, yaml_node_t *n, const char *field, struct hn_wait *w)
{
    static const char *const keys[] = {"constant", "between", "pacing", "throughput", NULL};
    char f[300];
    if (want(c, n, YAML_MAPPING_NODE, field) || check_keys(c, n, field, keys))
        return HN_EINVAL;
    if (n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
        return fail(c, n, field,
                    "give exactly one of constant, between, pacing or throughput");
    yaml_node_t *k = get(c, n, "constant"), *b = get(c, n, "between");
    yaml_node_t *p = get(c, n, "pacing"), *t = get(c, n, "throughput");
    if (k || p) {
        snprintf(f, sizeof f, "%s.%s", field, k ? "constant" : "pacing");
        w->kind = k ? HN_WAIT_CONSTANT : HN_WAIT_PACING;
        if (get_seconds(c, k ? k : p, f, &w->min_s))
            return HN_EINVAL;
        w->max_s = w->min_s;
        return 0;
    }
    if (t) {
        snprintf(f, sizeof f, "%s.throughput", field);
        double per_s;
        if (want(c, t, YAML_SCALAR_NODE, f))
            return HN_EINVAL;
        if (hn_parse_double(scalar(t), &per_s) || per_s <= 0 || per_s > 1e6)
            return fail(c, t, f, "tasks per second must be a number above 0, got '%s'",
                        scalar(t));
        w->kind = HN_WAIT_PACING;
        w->min_s = w->max_s = 1.0 / per_s;
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

/* Capture names of a class, before any template of it compiles (a task may use a value another
 * task captured). */
static void collect_captures(struct ctx *c, yaml_node_t *n, struct hn_user_class *u, int depth)
{
    if (depth > 12)
        return;
    if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            const char *k = scalar(node(c, p->key));
            yaml_node_t *v = node(c, p->value);
            if (k && !strcmp(k, "capture") && v->type == YAML_MAPPING_NODE) {
                for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
                     q < v->data.mapping.pairs.top; q++) {
                    const char *name = scalar(node(c, q->key));
                    int seen = 0;
                    for (size_t i = 0; name && i < u->n_captures; i++)
                        seen |= !strcmp(u->capture_names[i], name);
                    if (name && !seen) {
                        u->capture_names = hn_realloc(u->capture_names,
                                                      (u->n_captures + 1) * sizeof(char *));
                        u->capture_names[u->n_captures++] = hn_strdup(name);
                    }
                }
            } else {
                collect_captures(c, v, u, depth + 1);
            }
        }
    } else if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++)
            collect_captures(c, node(c, *it), u, depth + 1);
    }
}

static int load_class(struct ctx *c, yaml_node_t *n, const char *field, struct hn_user_class *u)
{
    static const char *const keys[] = {"name",     "weight",  "fixed_count", "wait", "tags",
                                       "on_start", "on_stop", "tasks",       "sequence", NULL};
    char f[300];
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
    c->cls = u;
    collect_captures(c, n, u, 0);
    u->weight = 1;
    v = get(c, n, "weight");
    yaml_node_t *fc = get(c, n, "fixed_count");
    if (v && fc)
        return fail(c, fc, field, "give weight or fixed_count, not both");
    snprintf(f, sizeof f, "%s.weight", field);
    if (v && get_weight(c, v, f, &u->weight))
        return HN_EINVAL;
    if (fc) {
        snprintf(f, sizeof f, "%s.fixed_count", field);
        if (!scalar(fc) || hn_parse_u64(scalar(fc), &u->fixed_count) || u->fixed_count > 10000000)
            return fail(c, fc, f, "must be a whole number from 0 to 10000000");
        u->has_fixed = 1;
        u->weight = 0;
    }
    u->wait.kind = HN_WAIT_CONSTANT; /* Locust's default: no wait */
    int bad = 0;
    v = get(c, n, "wait");
    snprintf(f, sizeof f, "%s.wait", field);
    if (v && load_wait(c, v, f, &u->wait))
        bad = 1;
    v = get(c, n, "tags");
    snprintf(f, sizeof f, "%s.tags", field);
    if (v && get_tags(c, v, f, &u->tags, &u->n_tags))
        bad = 1;
    v = get(c, n, "on_start");
    snprintf(f, sizeof f, "%s.on_start", field);
    u->on_start.name = hn_strdup("on_start");
    u->on_stop.name = hn_strdup("on_stop");
    if (v && load_steps(c, v, f, &u->on_start))
        bad = 1;
    v = get(c, n, "on_stop");
    snprintf(f, sizeof f, "%s.on_stop", field);
    if (v && load_steps(c, v, f, &u->on_stop))
        bad = 1;
    yaml_node_t *tasks = get(c, n, "tasks"), *seq = get(c, n, "sequence");
    if (tasks && seq)
        return fail(c, seq, field, "give tasks (weighted) or sequence (in order), not both");
    v = tasks ? tasks : seq;
    u->sequential = seq != NULL;
    snprintf(f, sizeof f, "%s.%s", field, seq ? "sequence" : "tasks");
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
        char tf[320];
        snprintf(tf, sizeof tf, "%s[%zu]", f, i);
        struct hn_task *t = &u->tasks[u->n_tasks++];
        if (load_task(c, node(c, v->data.sequence.items.start[i]), tf, t))
            bad = 1;
        sum += t->weight;
        u->cum_weight[i] = sum;
    }
    c->cls = NULL;
    return bad ? HN_EINVAL : 0;
}

static int load_vars(struct ctx *c, yaml_node_t *v)
{
    if (want(c, v, YAML_MAPPING_NODE, "vars"))
        return HN_EINVAL;
    size_t cnt = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    struct hn_scenario *s = c->sc;
    s->vars = hn_calloc(cnt, sizeof *s->vars);
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *val = node(c, p->value);
        char f[200];
        snprintf(f, sizeof f, "vars.%s", scalar(k) ? scalar(k) : "?");
        const char *name = scalar(k);
        struct hn_seg tmp;
        if (!name || !*name || strpbrk(name, ". {}()"))
            return fail(c, k, "vars", "a var name is a word without dots, braces or spaces");
        if (!resolve(c, name, &tmp))
            return fail(c, k, f, "'%s' is defined twice", name);
        struct hn_var *var = &s->vars[s->n_vars++];
        var->name = hn_strdup(name);
        size_t nv = val->type == YAML_SEQUENCE_NODE
                        ? (size_t)(val->data.sequence.items.top - val->data.sequence.items.start)
                        : 1;
        if (val->type != YAML_SEQUENCE_NODE && val->type != YAML_SCALAR_NODE)
            return fail(c, val, f, "expected a value or a list of values");
        if (nv == 0)
            return fail(c, val, f, "empty list (give at least one value)");
        var->values = hn_calloc(nv, sizeof *var->values);
        for (size_t i = 0; i < nv; i++) {
            yaml_node_t *it = val->type == YAML_SEQUENCE_NODE
                                  ? node(c, val->data.sequence.items.start[i])
                                  : val;
            if (get_string(c, it, f, &var->values[var->n_values]))
                return HN_EINVAL;
            var->n_values++;
        }
    }
    return 0;
}

/* RFC 4180 CSV: quoted fields with "" escapes, CRLF or LF line ends. */
static int parse_csv(const char *text, size_t len, char ****rows, size_t *n_rows, size_t *n_cols,
                     char *why, size_t whylen)
{
    size_t cap = 16, nr = 0, nc = 0, row_cap = 0;
    char ***r = hn_calloc(cap, sizeof *r);
    char **cur = NULL;
    size_t cur_n = 0;
    struct hn_buf fb;
    hn_buf_init(&fb, HN_DATA_MAX_BYTES);
    size_t i = 0, line = 1;
    int ok = 1;
    while (i <= len && ok) {
        hn_buf_reset(&fb);
        int quoted = i < len && text[i] == '"';
        if (quoted) {
            i++;
            for (;;) {
                if (i >= len) {
                    snprintf(why, whylen, "line %zu: unclosed quote", line);
                    ok = 0;
                    break;
                }
                if (text[i] == '"') {
                    if (i + 1 < len && text[i + 1] == '"') {
                        hn_buf_append(&fb, "\"", 1);
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (text[i] == '\n')
                    line++;
                hn_buf_append(&fb, &text[i++], 1);
            }
        } else {
            while (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
                hn_buf_append(&fb, &text[i++], 1);
        }
        if (!ok)
            break;
        if (cur_n == row_cap) {
            row_cap = row_cap ? row_cap * 2 : 8;
            cur = hn_realloc(cur, row_cap * sizeof *cur);
        }
        cur[cur_n++] = hn_strdup(hn_buf_cstr(&fb));
        if (i < len && text[i] == ',') {
            i++;
            continue;
        }
        if (i < len && text[i] == '\r')
            i++;
        if (i < len && text[i] == '\n')
            i++;
        else if (i < len) {
            snprintf(why, whylen, "line %zu: unexpected character after a quoted field", line);
            ok = 0;
            break;
        }
        /* end of a record */
        int blank = cur_n == 1 && !*cur[0];
        if (!blank) {
            if (nr == 0)
                nc = cur_n;
            else if (cur_n != nc) {
                snprintf(why, whylen, "line %zu: %zu fields, the header has %zu", line, cur_n, nc);
                ok = 0;
                break; /* cur and cur_n are freed below */
            }
            {
                if (nr == cap) {
                    cap *= 2;
                    r = hn_realloc(r, cap * sizeof *r);
                }
                r[nr++] = cur;
                cur = NULL;
                row_cap = 0;
            }
        } else {
            free(cur[0]);
            free(cur);
            cur = NULL;
            row_cap = 0;
        }
        cur_n = 0;
        line++;
        if (i >= len)
            break;
    }
    if (cur) {
        for (size_t k = 0; k < cur_n; k++)
            free(cur[k]);
        free(cur);
    }
    hn_buf_fini(&fb);
    *rows = r;
    *n_rows = nr;
    *n_cols = nc;
    return ok ? 0 : HN_EINVAL;
}

/* Keeps a file's content under its name as written, once, to send it to workers. */
static void remember_file(struct hn_scenario *s, const char *name, const char *text, size_t len)
{
    if (hn_scenario_file(s, name))
        return;
    s->files = hn_realloc(s->files, (s->n_files + 1) * sizeof *s->files);
    s->files[s->n_files].key = hn_strdup(name);
    s->files[s->n_files++].value = hn_strndup(text, len);
}

/* Reads a PEM file for tls: through io and keeps it. Returns 0, or HN_EINVAL with the reason in
 * why. */
static int read_pem(struct hn_scenario *s, const struct hn_scenario_io *io, const char *name,
                    char *why, size_t n)
{
    size_t len = 0;
    errno = 0;
    char *text = io->read_file(io->ctx, name, &len);
    if (!text) {
        snprintf(why, n, "cannot read '%s': %s", name,
                 errno == ENOTSUP ? "not a regular file"
                 : errno          ? strerror(errno)
                                  : "not sent by the master");
        return HN_EINVAL;
    }
    int ok = len > 0 && memchr(text, '\0', len) == NULL && strstr(text, "-----BEGIN ");
    if (ok)
        remember_file(s, name, text, len);
    free(text);
    if (!ok) {
        snprintf(why, n, "'%s' is not a PEM file (no -----BEGIN line)", name);
        return HN_EINVAL;
    }
    return 0;
}

/* tls: {insecure: true, ca_file: ca.pem, client_cert: me.pem, client_key: me.key} */
static int load_tls(struct ctx *c, yaml_node_t *v, struct hn_scenario *s)
{
    static const char *const keys[] = {"insecure", "ca_file", "client_cert", "client_key", NULL};
    if (want(c, v, YAML_MAPPING_NODE, "tls") || check_keys(c, v, "tls", keys))
        return HN_EINVAL;
    yaml_node_t *x = get(c, v, "insecure");
    if (x && get_bool(c, x, "tls.insecure", &s->tls.insecure))
        return HN_EINVAL;
    static const char *const files[] = {"ca_file", "client_cert", "client_key"};
    char **dst[] = {&s->tls.ca_file, &s->tls.cert_file, &s->tls.key_file};
    for (int i = 0; i < 3; i++) {
        char f[40], why[300];
        snprintf(f, sizeof f, "tls.%s", files[i]);
        x = get(c, v, files[i]);
        if (!x)
            continue;
        if (get_string(c, x, f, dst[i]))
            return HN_EINVAL;
        if (read_pem(s, c->io, *dst[i], why, sizeof why))
            return fail(c, x, f, "%s", why);
    }
    if (s->tls.key_file && !s->tls.cert_file)
        return fail(c, v, "tls.client_key", "needs tls.client_cert");
    return 0;
}

static char *read_all(const char *path, size_t max, size_t *len);

static char *read_cli_file(void *ctx, const char *name, size_t *len)
{
    (void)ctx;
    return read_all(name + 4, HN_DATA_MAX_BYTES, len); /* after "cli:" */
}

int hn_scenario_set_tls(struct hn_scenario *s, const struct hn_scenario_io *io, int insecure,
                        const char *ca_file, const char *cert_file, const char *key_file,
                        char *err, size_t errlen)
{
    s->tls.insecure |= insecure;
    const char *names[] = {ca_file, cert_file, key_file};
    static const char *const flags[] = {"--ca-file", "--client-cert", "--client-key"};
    char **dst[] = {&s->tls.ca_file, &s->tls.cert_file, &s->tls.key_file};
    struct hn_scenario_io cli = {NULL, read_cli_file, NULL};
    for (int i = 0; i < 3; i++) {
        if (!names[i])
            continue;
        /* the command line's files are named apart from the scenario's (which are relative
         * to the scenario's folder, these to the current one) */
        char name[4200], why[300];
        snprintf(name, sizeof name, "%s%s", io ? "" : "cli:", names[i]);
        if (read_pem(s, io ? io : &cli, name, why, sizeof why)) {
            char *tag = io ? NULL : strstr(why, "cli:");
            if (tag) /* the flag's own path, as the user wrote it */
                memmove(tag, tag + 4, strlen(tag + 4) + 1);
            snprintf(err, errlen, "hornet: %s: %s", flags[i], why);
            return HN_EINVAL;
        }
        free(*dst[i]);
        *dst[i] = hn_strdup(name);
    }
    if (s->tls.key_file && !s->tls.cert_file) {
        snprintf(err, errlen, "hornet: --client-key needs --client-cert (or tls.client_cert)");
        return HN_EINVAL;
    }
    return 0;
}

static int load_data(struct ctx *c, yaml_node_t *v)
{
    if (want(c, v, YAML_MAPPING_NODE, "data"))
        return HN_EINVAL;
    size_t cnt = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    struct hn_scenario *s = c->sc;
    if (cnt > 16)
        return fail(c, v, "data", "at most 16 data sources");
    s->data = hn_calloc(cnt, sizeof *s->data);
    static const char *const keys[] = {"csv", "wrap", NULL};
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *val = node(c, p->value);
        const char *name = scalar(k);
        char f[200];
        snprintf(f, sizeof f, "data.%s", name ? name : "?");
        if (!name || !*name || strpbrk(name, ". {}()"))
            return fail(c, k, "data", "a data source name is a word without dots or braces");
        if (want(c, val, YAML_MAPPING_NODE, f) || check_keys(c, val, f, keys))
            return HN_EINVAL;
        struct hn_data_source *d = &s->data[s->n_data++];
        d->name = hn_strdup(name);
        yaml_node_t *csv = get(c, val, "csv"), *wrap = get(c, val, "wrap");
        char ff[220];
        snprintf(ff, sizeof ff, "%s.csv", f);
        if (!csv)
            return fail(c, val, ff, "missing (the CSV file to read)");
        if (get_string(c, csv, ff, &d->file))
            return HN_EINVAL;
        if (wrap && get_bool(c, wrap, f, &d->wrap))
            return HN_EINVAL;
        size_t len = 0;
        errno = 0;
        char *text = c->io->read_file(c->io->ctx, d->file, &len);
        if (!text)
            return fail(c, csv, ff, "cannot read '%s': %s", d->file,
                        errno == ENOTSUP ? "not a regular file"
                        : errno          ? strerror(errno)
                                         : "not sent by the master");
        if (len > HN_DATA_MAX_BYTES) {
            free(text);
            return fail(c, csv, ff, "'%s' is larger than %u bytes", d->file, HN_DATA_MAX_BYTES);
        }
        char why[200];
        char ***rows;
        size_t nr, nc;
        int rc = parse_csv(text, len, &rows, &nr, &nc, why, sizeof why);
        remember_file(s, d->file, text, len);
        free(text);
        if (rc == 0 && nr < 2)
            snprintf(why, sizeof why, "needs a header row and at least one data row");
        if (rc || nr < 2) {
            for (size_t r = 0; r < nr; r++) {
                for (size_t k2 = 0; k2 < nc; k2++)
                    free(rows[r][k2]);
                free(rows[r]);
            }
            free(rows);
            return fail(c, csv, ff, "%s: %s", d->file, why);
        }
        d->columns = rows[0];
        d->n_columns = nc;
        d->rows = rows;
        memmove(d->rows, d->rows + 1, (nr - 1) * sizeof *d->rows);
        d->n_rows = nr - 1;
    }
    return 0;
}

/* One threshold: "EXPR", or {expr: EXPR, abort_on_fail: BOOL, delay: DURATION}. */
static int load_threshold(struct ctx *c, yaml_node_t *n, const char *f, const char *row,
                          struct hn_threshold *t)
{
    yaml_node_t *ev = n;
    if (n->type == YAML_MAPPING_NODE) {
        static const char *const keys[] = {"expr", "abort_on_fail", "delay", NULL};
        if (check_keys(c, n, f, keys))
            return HN_EINVAL;
        ev = get(c, n, "expr");
        if (!ev)
            return fail(c, n, f, "missing expr (e.g. expr: \"p(95) < 1000\")");
        yaml_node_t *v = get(c, n, "abort_on_fail");
        if (v && get_bool(c, v, f, &t->abort_on_fail))
            return HN_EINVAL;
        v = get(c, n, "delay");
        double sec = 0;
        if (v && get_seconds(c, v, f, &sec))
            return HN_EINVAL;
        t->delay_ms = (int64_t)(sec * 1000.0 + 0.5);
    }
    char *expr;
    if (get_string(c, ev, f, &expr))
        return HN_EINVAL;
    char why[400];
    int rc = hn_threshold_parse(expr, t, why, sizeof why);
    free(expr);
    if (rc)
        return fail(c, ev, f, "%s", why);
    char where[600];
    snprintf(where, sizeof where, "%s:%lu:%lu", c->file, (unsigned long)ev->start_mark.line + 1,
             (unsigned long)ev->start_mark.column + 1);
    t->where = hn_strdup(where);
    t->row = hn_strdup(row);
    return 0;
}

/* thresholds: {ROW: [EXPR or {expr, abort_on_fail, delay}, ...]}; ROW is "Aggregated" or
 * "TYPE NAME" as the stats rows are named. */
static int load_thresholds(struct ctx *c, yaml_node_t *v, struct hn_scenario *s)
{
    if (want(c, v, YAML_MAPPING_NODE, "thresholds"))
        return HN_EINVAL;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *l = node(c, p->value);
        const char *row = scalar(k);
        if (!row || !*row)
            return fail(c, k, "thresholds", "a row name is a string");
        if (strcmp(row, "Aggregated") && !strchr(row, ' '))
            return fail(c, k, "thresholds",
                        "row '%s': expected Aggregated or TYPE NAME as in the stats (e.g. "
                        "\"GET /healthz\", \"WS connect /ws/chat\")",
                        row);
        size_t cnt = l->type == YAML_SEQUENCE_NODE
                         ? (size_t)(l->data.sequence.items.top - l->data.sequence.items.start)
                         : 1;
        s->thresholds = hn_realloc(s->thresholds, (s->n_thresholds + cnt) * sizeof *s->thresholds);
        for (size_t i = 0; i < cnt; i++) {
            yaml_node_t *e = l->type == YAML_SEQUENCE_NODE
                                 ? node(c, l->data.sequence.items.start[i])
                                 : l;
            char f[1200];
            snprintf(f, sizeof f, "thresholds.%s[%zu]", row, i);
            struct hn_threshold *t = &s->thresholds[s->n_thresholds];
            memset(t, 0, sizeof *t);
            if (load_threshold(c, e, f, row, t)) {
                hn_threshold_fini(t);
                return HN_EINVAL;
            }
            s->n_thresholds++;
        }
    }
    return 0;
}

/* A number above 0 and at most max (a rate), from a scalar that may come from ${ENV}. */
static int get_positive(struct ctx *c, yaml_node_t *n, const char *f, const char *what,
                        double max, double *out)
{
    char *v;
    if (get_string(c, n, f, &v))
        return HN_EINVAL;
    int bad = hn_parse_double(v, out) || !(*out > 0) || *out > max;
    free(v);
    return bad ? fail(c, n, f, "%s: expected a number above 0, at most %.0f", what, max) : 0;
}

/* A whole number field of a mapping, within [lo, hi]. */
static int get_count(struct ctx *c, yaml_node_t *map, const char *key, const char *f, uint64_t lo,
                     uint64_t hi, uint64_t *out)
{
    yaml_node_t *n = get(c, map, key);
    if (!n)
        return fail(c, map, f, "missing %s", key);
    char *v;
    if (get_string(c, n, f, &v))
        return HN_EINVAL;
    int bad = hn_parse_u64(v, out) || *out < lo || *out > hi;
    free(v);
    if (bad)
        return fail(c, n, f, "%s: expected a whole number from %llu to %llu", key,
                    (unsigned long long)lo, (unsigned long long)hi);
    return 0;
}

/* load: {arrival_rate: {rate: 200, per: 1s, duration: 5m, max_users: 1000}} */
static int load_arrival(struct ctx *c, yaml_node_t *v, struct hn_scenario *s)
{
    static const char *const keys[] = {"rate", "per", "duration", "max_users", NULL};
    const char *f = "load.arrival_rate";
    if (want(c, v, YAML_MAPPING_NODE, f) || check_keys(c, v, f, keys))
        return HN_EINVAL;
    struct hn_arrival_plan *p = &s->arrival;
    yaml_node_t *r = get(c, v, "rate");
    if (!r)
        return fail(c, v, f, "missing rate (iterations per `per`, e.g. rate: 200, per: 1s)");
    double rate;
    if (get_positive(c, r, f, "rate (iterations per `per`)", 1e7, &rate))
        return HN_EINVAL;
    double per = 1;
    yaml_node_t *pn = get(c, v, "per");
    if (pn && get_seconds(c, pn, f, &per))
        return HN_EINVAL;
    if (per <= 0)
        return fail(c, pn, f, "per: must be above 0 (e.g. 1s, 1m)");
    p->rate_per_s = rate / per;
    if (p->rate_per_s > 1e7)
        return fail(c, r, f, "rate: over 10 000 000 iterations per second");
    yaml_node_t *d = get(c, v, "duration");
    if (d) {
        double sec;
        if (get_seconds(c, d, f, &sec))
            return HN_EINVAL;
        p->duration_ms = (int64_t)(sec * 1000.0 + 0.5);
    }
    return get_count(c, v, "max_users", f, 1, 10000000, &p->max_users);
}

/* load: {arrival_stages: [{duration: 1m, rate: 50, per: 1s, ramp: linear}, ...], max_users} */
static int load_arrival_stages(struct ctx *c, yaml_node_t *load, yaml_node_t *l,
                               struct hn_scenario *s)
{
    struct hn_arrival_plan *p = &s->arrival;
    if (want(c, l, YAML_SEQUENCE_NODE, "load.arrival_stages"))
        return HN_EINVAL;
    size_t cnt = (size_t)(l->data.sequence.items.top - l->data.sequence.items.start);
    if (!cnt || cnt > 1000)
        return fail(c, l, "load.arrival_stages", "expected from 1 to 1000 stages");
    if (get_count(c, load, "max_users", "load", 1, 10000000, &p->max_users))
        return HN_EINVAL;
    p->stages = hn_calloc(cnt, sizeof *p->stages);
    for (size_t i = 0; i < cnt; i++) {
        static const char *const keys[] = {"duration", "rate", "per", "ramp", NULL};
        char f[64];
        snprintf(f, sizeof f, "load.arrival_stages[%zu]", i);
        yaml_node_t *n = node(c, l->data.sequence.items.start[i]);
        if (want(c, n, YAML_MAPPING_NODE, f) || check_keys(c, n, f, keys))
            return HN_EINVAL;
        struct hn_rate_stage *st = &p->stages[p->n_stages++];
        yaml_node_t *d = get(c, n, "duration"), *r = get(c, n, "rate");
        if (!d || !r)
            return fail(c, n, f, "expected duration and rate (e.g. {duration: 1m, rate: 50})");
        double sec, per = 1;
        if (get_seconds(c, d, f, &sec))
            return HN_EINVAL;
        if (sec <= 0)
            return fail(c, d, f, "duration must be above 0");
        st->duration_ms = (int64_t)(sec * 1000.0 + 0.5);
        yaml_node_t *pn = get(c, n, "per");
        if (pn && get_seconds(c, pn, f, &per))
            return HN_EINVAL;
        if (per <= 0)
            return fail(c, pn, f, "per: must be above 0");
        double rate; /* a pause is a stop: the open model does not run at rate 0 */
        if (get_positive(c, r, f, "rate (iterations per `per`)", 1e7 * per, &rate))
            return HN_EINVAL;
        st->rate = rate / per;
        yaml_node_t *rp = get(c, n, "ramp");
        if (rp) {
            const char *k = scalar(rp);
            if (!k || (strcmp(k, "linear") && strcmp(k, "step")))
                return fail(c, rp, f, "ramp: expected linear or step");
            st->linear = !strcmp(k, "linear");
        }
    }
    p->rate_per_s = p->stages[0].rate;
    p->duration_ms = hn_rate_stages_total_ms(p->stages, p->n_stages);
    return 0;
}

/* load: {capacity: {start: 10, step: 10, step_duration: 1m, max: 2000, spawn_rate: 10}} */
static int load_capacity(struct ctx *c, yaml_node_t *v, struct hn_scenario *s)
{
    static const char *const keys[] = {"start", "step",       "step_duration", "max",
                                       "mode",  "spawn_rate", "max_users",     NULL};
    const char *f = "load.capacity";
    if (want(c, v, YAML_MAPPING_NODE, f) || check_keys(c, v, f, keys))
        return HN_EINVAL;
    struct hn_capacity_plan *p = &s->capacity;
    yaml_node_t *mode = get(c, v, "mode");
    if (mode) {
        const char *k = scalar(mode);
        if (!k || (strcmp(k, "users") && strcmp(k, "rate")))
            return fail(c, mode, f, "mode: expected users (step the user count) or rate (step "
                                    "the open model's arrival rate, iterations per second)");
        p->rate_mode = !strcmp(k, "rate");
    }
    if (p->rate_mode && get_count(c, v, "max_users", f, 1, 10000000, &p->max_users))
        return HN_EINVAL;
    if (!p->rate_mode && get(c, v, "max_users"))
        return fail(c, get(c, v, "max_users"), f, "max_users goes with mode: rate");
    if (get_count(c, v, "start", f, 1, 10000000, &p->start) ||
        get_count(c, v, "step", f, 1, 10000000, &p->step) ||
        get_count(c, v, "max", f, 1, 10000000, &p->max))
        return HN_EINVAL;
    if (p->max < p->start)
        return fail(c, v, f, "max (%llu) is below start (%llu)", (unsigned long long)p->max,
                    (unsigned long long)p->start);
    yaml_node_t *d = get(c, v, "step_duration");
    if (!d)
        return fail(c, v, f, "missing step_duration (e.g. 1m)");
    double sec;
    if (get_seconds(c, d, f, &sec))
        return HN_EINVAL;
    if (sec < 1)
        return fail(c, d, f, "step_duration must be at least 1 s");
    p->step_ms = (int64_t)(sec * 1000.0 + 0.5);
    yaml_node_t *r = get(c, v, "spawn_rate");
    if (r && get_positive(c, r, f, "spawn_rate (users per second)", 1e6, &p->spawn_rate))
        return HN_EINVAL;
    return 0;
}

/* load: {stages: [{duration: 7m, users: 50, spawn_rate: 5, ramp: linear}, ...]} */
static int load_load(struct ctx *c, yaml_node_t *v, struct hn_scenario *s)
{
    static const char *const keys[] = {"stages",         "capacity",  "arrival_rate",
                                       "arrival_stages", "max_users", NULL};
    if (want(c, v, YAML_MAPPING_NODE, "load") || check_keys(c, v, "load", keys))
        return HN_EINVAL;
    yaml_node_t *as = get(c, v, "arrival_stages");
    if (as && (get(c, v, "stages") || get(c, v, "capacity") || get(c, v, "arrival_rate")))
        return fail(c, v, "load", "arrival_stages excludes stages, capacity and arrival_rate");
    if (as)
        return load_arrival_stages(c, v, as, s);
    if (get(c, v, "max_users"))
        return fail(c, get(c, v, "max_users"), "load",
                    "max_users goes with arrival_stages (arrival_rate has its own)");
    yaml_node_t *ar = get(c, v, "arrival_rate");
    if (ar && (get(c, v, "stages") || get(c, v, "capacity")))
        return fail(c, v, "load", "arrival_rate excludes stages and capacity");
    if (ar)
        return load_arrival(c, ar, s);
    yaml_node_t *cap = get(c, v, "capacity");
    if (cap && get(c, v, "stages"))
        return fail(c, v, "load", "stages and capacity exclude each other");
    if (cap)
        return load_capacity(c, cap, s);
    yaml_node_t *l = get(c, v, "stages");
    if (!l)
        return fail(c, v, "load", "expected stages: [{duration: 1m, users: 10}, ...] or "
                                  "capacity: {start: 10, step: 10, step_duration: 1m, max: 500}");
    if (want(c, l, YAML_SEQUENCE_NODE, "load.stages"))
        return HN_EINVAL;
    size_t cnt = (size_t)(l->data.sequence.items.top - l->data.sequence.items.start);
    if (!cnt || cnt > 1000)
        return fail(c, l, "load.stages", "expected from 1 to 1000 stages");
    s->stages = hn_calloc(cnt, sizeof *s->stages);
    for (size_t i = 0; i < cnt; i++) {
        static const char *const skeys[] = {"duration", "users", "spawn_rate", "ramp", NULL};
        char f[64];
        snprintf(f, sizeof f, "load.stages[%zu]", i);
        yaml_node_t *n = node(c, l->data.sequence.items.start[i]);
        if (want(c, n, YAML_MAPPING_NODE, f) || check_keys(c, n, f, skeys))
            return HN_EINVAL;
        struct hn_stage *st = &s->stages[s->n_stages++];
        yaml_node_t *d = get(c, n, "duration"), *u = get(c, n, "users");
        if (!d || !u)
            return fail(c, n, f, "expected duration and users (e.g. {duration: 7m, users: 50})");
        double sec;
        if (get_seconds(c, d, f, &sec))
            return HN_EINVAL;
        if (sec <= 0)
            return fail(c, d, f, "duration must be above 0");
        st->duration_ms = (int64_t)(sec * 1000.0 + 0.5);
        char *us;
        if (get_string(c, u, f, &us))
            return HN_EINVAL;
        int bad = hn_parse_u64(us, &st->users) || st->users > 10000000;
        free(us);
        if (bad)
            return fail(c, u, f, "users: expected a whole number from 0 to 10000000");
        yaml_node_t *r = get(c, n, "spawn_rate");
        if (r && get_positive(c, r, f, "spawn_rate (users per second)", 1e6, &st->spawn_rate))
            return HN_EINVAL;
        yaml_node_t *rp = get(c, n, "ramp");
        if (rp) {
            const char *k = scalar(rp);
            if (!k || (strcmp(k, "linear") && strcmp(k, "step")))
                return fail(c, rp, f, "ramp: expected linear (k6's ramping-vus) or step "
                                      "(hold the count, reached at spawn_rate)");
            st->linear = !strcmp(k, "linear");
        }
    }
    return 0;
}

static int load_root(struct ctx *c, struct hn_scenario *s)
{
    static const char *const keys[] = {"host",           "vars",       "data", "users",
                                       "max_body_bytes", "thresholds", "load", "tls", NULL};
    yaml_node_t *root = yaml_document_get_root_node(&c->doc);
    if (!root)
        return fail(c, NULL, "scenario", "the file is empty");
    if (want(c, root, YAML_MAPPING_NODE, "scenario"))
        return HN_EINVAL;
    /* each top-level part is checked even when an earlier one is wrong, except that the
     * templates of the user classes need vars and data to be right */
    int bad = check_keys(c, root, "scenario", keys) != 0;
    yaml_node_t *v = get(c, root, "host");
    if (v) {
        char why[160];
        if (get_string(c, v, "host", &s->host))
            bad = 1;
        else if (hn_url_check(s->host, why, sizeof why))
            bad = fail(c, v, "host", "%s, got '%s'", why, s->host);
    }
    s->max_body_bytes = HN_BODY_CAP_DEFAULT;
    v = get(c, root, "max_body_bytes");
    if (v) {
        uint64_t mb;
        if (!scalar(v) || hn_parse_u64(scalar(v), &mb) || mb < 1024 || mb > (256u << 20))
            bad = fail(c, v, "max_body_bytes", "must be a whole number from 1024 to 268435456");
        else
            s->max_body_bytes = (size_t)mb;
    }
    v = get(c, root, "vars");
    if (v && load_vars(c, v))
        return HN_EINVAL;
    v = get(c, root, "data");
    if (v && load_data(c, v))
        return HN_EINVAL;
    v = get(c, root, "tls");
    if (v && load_tls(c, v, s))
        bad = 1;
    v = get(c, root, "thresholds");
    if (v && load_thresholds(c, v, s))
        bad = 1;
    v = get(c, root, "load");
    if (v && load_load(c, v, s))
        bad = 1;
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
        if (load_class(c, cn, f, u)) {
            bad = 1;
            continue;
        }
        for (size_t j = 0; j + 1 < s->n_classes; j++)
            if (s->classes[j].name && !strcmp(s->classes[j].name, u->name))
                bad = fail(c, cn, f, "user class name '%s' is used twice", u->name);
    }
    return bad ? HN_EINVAL : 0;
}

/* ---------- default io: the process environment, files beside the scenario ---------- */

static const char *env_getenv(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

static char *read_all(const char *path, size_t max, size_t *len)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; then only regular files pass */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    memset(&st, 0, sizeof st);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = S_ISDIR(st.st_mode) ? EISDIR : ENOTSUP;
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return NULL;
    }
    size_t cap = 64 * 1024, n = 0;
    char *buf = hn_malloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap > max)
                break;
            cap *= 2;
            buf = hn_realloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    *len = n;
    return buf;
}

static char *file_beside(void *ctx, const char *name, size_t *len)
{
    const char *scenario = ctx;
    char path[4096];
    const char *slash = strrchr(scenario, '/');
    if (name[0] == '/' || !slash)
        snprintf(path, sizeof path, "%s", name);
    else
        snprintf(path, sizeof path, "%.*s/%s", (int)(slash - scenario), scenario, name);
    return read_all(path, HN_DATA_MAX_BYTES, len);
}

/* Nesting beyond this is refused before libyaml sees the text: libyaml's time grows with the
 * square of the nesting depth (100 000 levels took 40 s), and no scenario needs more. */
#define MAX_NESTING 64
#define MAX_INDENT 1024
/* Aliases make a small document stand for a huge tree (a 1 KiB "billion laughs" is 10^9
 * values): the tree the loader would walk is measured first, in time linear in the document. */
#define MAX_EXPANDED_NODES 200000

/* A linear pass over the raw text: flow collections ('[' '{') opened where a value can start,
 * outside quotes and comments, and indentation. Returns 0, or HN_EINVAL with the place. */
static int prescan(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
    int depth = 0;
    unsigned long line = 1, col = 0;
    int at_value = 1; /* a value (or a quoted scalar) may start here */
    int indent = 1;   /* still in the line's leading spaces */
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        col++;
        if (ch == '\n') {
            line++;
            col = 0;
            at_value = 1;
            indent = 1;
            continue;
        }
        if (indent && ch == ' ') {
            if (col > MAX_INDENT) {
                snprintf(err, errlen, "%s:%lu:%lu: yaml: indented more than %d columns", name,
                         line, col, MAX_INDENT);
                return HN_EINVAL;
            }
            continue;
        }
        indent = 0;
        if (ch == ' ' || ch == '\t' || ch == '\r')
            continue;
        if (ch == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' ||
                          text[i - 1] == '\n')) {
            while (i + 1 < len && text[i + 1] != '\n')
                i++;
            continue;
        }
        if (at_value && (ch == '"' || ch == '\'')) {
            /* a quoted scalar, which may span lines: skip it whole */
            char q = ch;
            for (i++; i < len; i++) {
                if (text[i] == '\n') {
                    line++;
                    col = 0;
                } else if (q == '"' && text[i] == '\\') {
                    i++;
                } else if (text[i] == q) {
                    if (q == '\'' && i + 1 < len && text[i + 1] == '\'') {
                        i++;
                        continue;
                    }
                    break;
                }
            }
            at_value = 0;
            continue;
        }
        if (at_value && (ch == '[' || ch == '{')) {
            if (++depth > MAX_NESTING) {
                snprintf(err, errlen, "%s:%lu:%lu: yaml: nested deeper than %d levels", name,
                         line, col, MAX_NESTING);
                return HN_EINVAL;
            }
            continue;
        }
        if (depth > 0 && (ch == ']' || ch == '}')) {
            depth--;
            at_value = 0;
            continue;
        }
        /* after these indicators a value may start */
        at_value = ch == ',' || ((ch == ':' || ch == '-' || ch == '?') &&
                                 (i + 1 == len || text[i + 1] == ' ' || text[i + 1] == '\n' ||
                                  (depth > 0 && (text[i + 1] == ',' || text[i + 1] == '['))));
    }
    return 0;
}

/* Measures the tree the document stands for (aliases expanded), refuses alias cycles, and
 * refuses duplicate keys in any mapping (YAML says keys are unique; the first would otherwise
 * win silently). Each node is visited once (memoised), so this is linear in the document. */
struct measure {
    struct ctx *c;
    uint64_t *size; /* per node id, expanded size; 0 = not yet measured */
    uint8_t *busy;  /* on the current path: an alias back to it is a cycle */
};

static int cmp_pair_keys(const void *a, const void *b)
{
    const yaml_node_t *x = *(yaml_node_t *const *)a, *y = *(yaml_node_t *const *)b;
    int r = strcmp(scalar(x), scalar(y));
    if (r)
        return r;
    /* the later one in the file is the duplicate */
    return x->start_mark.index < y->start_mark.index ? -1 : x->start_mark.index > y->start_mark.index;
}

static int measure_node(struct measure *m, int id, uint64_t *out)
{
    struct ctx *c = m->c;
    yaml_node_t *n = node(c, id);
    if (!n) {
        *out = 1;
        return 0;
    }
    size_t k = (size_t)id;
    if (m->size[k]) {
        *out = m->size[k];
        return 0;
    }
    if (m->busy[k])
        return fail(c, n, "yaml", "an alias refers to a node that contains it");
    m->busy[k] = 1;
    uint64_t total = 1, sub;
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            if (measure_node(m, *it, &sub))
                return HN_EINVAL;
            total += sub;
            if (total > MAX_EXPANDED_NODES)
                break;
        }
    } else if (n->type == YAML_MAPPING_NODE) {
        size_t np = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
        yaml_node_t **keys = hn_calloc(np ? np : 1, sizeof *keys);
        size_t nk = 0;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *kn = node(c, p->key);
            if (scalar(kn))
                keys[nk++] = kn;
            if (measure_node(m, p->key, &sub) || (total += sub, 0) ||
                measure_node(m, p->value, &sub)) {
                free(keys);
                return HN_EINVAL;
            }
            total += sub;
            if (total > MAX_EXPANDED_NODES)
                break;
        }
        qsort(keys, nk, sizeof *keys, cmp_pair_keys);
        for (size_t i = 1; i < nk; i++)
            if (!strcmp(scalar(keys[i - 1]), scalar(keys[i]))) {
                int rc = fail(c, keys[i], "yaml", "duplicate key '%s' (first at line %lu)",
                              scalar(keys[i]), (unsigned long)keys[i - 1]->start_mark.line + 1);
                free(keys);
                return rc;
            }
        free(keys);
    }
    m->busy[k] = 0;
    if (total > MAX_EXPANDED_NODES)
        return fail(c, n, "yaml",
                    "expands to more than %d values (aliases repeating aliases?)",
                    MAX_EXPANDED_NODES);
    m->size[k] = total;
    *out = total;
    return 0;
}

static int check_document(struct ctx *c)
{
    size_t n = (size_t)(c->doc.nodes.top - c->doc.nodes.start) + 2;
    struct measure m = {c, hn_calloc(n, sizeof *m.size), hn_calloc(n, 1)};
    uint64_t total = 0;
    int rc = c->doc.nodes.start < c->doc.nodes.top ? measure_node(&m, 1, &total) : 0;
    free(m.size);
    free(m.busy);
    return rc;
}

int hn_scenario_load_buffer(const char *name, const char *text, size_t len,
                            const struct hn_scenario_io *io, struct hn_scenario **out, char *err,
                            size_t errlen)
{
    struct hn_scenario_io dflt = {env_getenv, file_beside, (void *)name};
    struct ctx c = {.file = name, .err = err, .errlen = errlen, .io = io ? io : &dflt};
    *out = NULL;
    err[0] = '\0';
    if (len > HN_SCENARIO_MAX_BYTES) {
        snprintf(err, errlen, "%s:1:1: scenario: file is larger than %u bytes", name,
                 HN_SCENARIO_MAX_BYTES);
        return HN_EINVAL;
    }
    if (prescan(name, text, len, err, errlen))
        return HN_EINVAL;
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
    c.sc = s;
    int rc = check_document(&c);
    if (!rc)
        rc = load_root(&c, s);
    yaml_document_delete(&c.doc);
    if (rc) {
        hn_scenario_destroy(&s);
        return rc;
    }
    *out = s;
    return 0;
}

/* A Locust user's first try is `-f locustfile.py`: a .py name, or Python that imports locust. */
static int is_locustfile(const char *path, const char *text, size_t len)
{
    size_t pl = strlen(path);
    if (pl > 3 && !strcmp(path + pl - 3, ".py"))
        return 1;
    const char *marks[] = {"from locust import", "import locust"};
    for (int i = 0; i < 2; i++)
        if (memmem(text, len, marks[i], strlen(marks[i])))
            return 1;
    return 0;
}

int hn_scenario_load_file(const char *path, const struct hn_scenario_io *io,
                          struct hn_scenario **out, char *err, size_t errlen)
{
    *out = NULL;
    size_t len = 0;
    errno = 0;
    char *buf = read_all(path, HN_SCENARIO_MAX_BYTES, &len);
    if (!buf) {
        snprintf(err, errlen, "%s: cannot open scenario file: %s", path,
                 errno == ENOTSUP ? "not a regular file" : strerror(errno));
        return HN_EIO;
    }
    if (is_locustfile(path, buf, len)) {
        free(buf);
        snprintf(err, errlen, "%s: this is a Python locustfile; hornet runs YAML scenarios. "
                 "Convert it with: hornet convert %s > scenario.yaml (see "
                 "docs/migrating-from-locust.md)", path, path);
        return HN_EINVAL;
    }
    int rc = hn_scenario_load_buffer(path, buf, len, io, out, err, errlen);
    free(buf);
    return rc;
}
