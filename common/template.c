#include "common/template.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hn_buf_init(struct hn_buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

void hn_buf_fini(struct hn_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void hn_buf_reset(struct hn_buf *b)
{
    b->len = 0;
    b->truncated = 0;
}

static int reserve(struct hn_buf *b, size_t extra)
{
    if (b->len + extra + 1 > b->max) {
        b->truncated = 1;
        return 0;
    }
    if (b->len + extra + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (c < b->len + extra + 1)
            c *= 2;
        if (c > b->max)
            c = b->max;
        b->p = hn_realloc(b->p, c);
        b->cap = c;
    }
    return 1;
}

void hn_base64(struct hn_buf *b, const char *s, size_t n)
{
    static const char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)u[i] << 16 | (i + 1 < n ? (unsigned)u[i + 1] << 8 : 0) |
                     (i + 2 < n ? u[i + 2] : 0);
        char q[4] = {k[v >> 18 & 63], k[v >> 12 & 63], i + 1 < n ? k[v >> 6 & 63] : '=',
                     i + 2 < n ? k[v & 63] : '='};
        hn_buf_append(b, q, 4);
    }
}

void hn_buf_append(struct hn_buf *b, const char *s, size_t n)
{
    if (!n)
        return;
    if (!reserve(b, n)) {
        size_t room = b->max > b->len + 1 ? b->max - b->len - 1 : 0;
        if (!room || !reserve(b, room))
            return;
        n = room;
        b->truncated = 1;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static int plain(unsigned char ch, enum hn_esc esc)
{
    switch (esc) {
    case HN_ESC_JSON: return ch >= 0x20 && ch != '"' && ch != '\\';
    case HN_ESC_URL:
        return isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~';
    case HN_ESC_HEADER: return ch != '\r' && ch != '\n' && ch != 0;
    default: return 1;
    }
}

void hn_buf_append_esc(struct hn_buf *b, const char *s, size_t n, enum hn_esc esc)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i = 0;
    while (i < n) {
        size_t run = i; /* copy runs that need no escaping in one go */
        while (run < n && plain((unsigned char)s[run], esc))
            run++;
        hn_buf_append(b, s + i, run - i);
        if (run == n)
            break;
        unsigned char ch = (unsigned char)s[run];
        char tmp[8];
        size_t tl = 0;
        if (esc == HN_ESC_JSON) {
            if (ch == '"' || ch == '\\') {
                tmp[tl++] = '\\';
                tmp[tl++] = (char)ch;
            } else {
                tl = (size_t)snprintf(tmp, sizeof tmp, "\\u%04x", ch);
            }
        } else if (esc == HN_ESC_URL) {
            tmp[tl++] = '%';
            tmp[tl++] = hex[ch >> 4];
            tmp[tl++] = hex[ch & 15];
        } /* HN_ESC_HEADER: dropped */
        hn_buf_append(b, tmp, tl);
        i = run + 1;
    }
}

const char *hn_buf_cstr(struct hn_buf *b)
{
    if (!b->p || b->len + 1 > b->cap) {
        size_t keep = b->max;
        b->max = b->len + 2 > b->max ? b->len + 2 : b->max;
        reserve(b, 0);
        b->max = keep;
    }
    b->p[b->len] = '\0';
    return b->p;
}

static void add_seg(struct hn_tpl *t, const struct hn_seg *s)
{
    t->segs = hn_realloc(t->segs, (t->n_segs + 1) * sizeof *t->segs);
    t->segs[t->n_segs++] = *s;
}

static void add_lit(struct hn_tpl *t, const char *s, size_t n)
{
    if (!n)
        return;
    struct hn_seg seg = {.kind = HN_SEG_LIT, .lit = hn_strndup(s, n), .lit_len = n};
    add_seg(t, &seg);
}

static int builtin(const char *name, struct hn_seg *seg)
{
    static const struct {
        const char *name;
        enum hn_seg_kind kind;
    } k[] = {{"user_id", HN_SEG_USER_ID},     {"worker_id", HN_SEG_WORKER_ID},
             {"iteration", HN_SEG_ITERATION}, {"uuid", HN_SEG_UUID},
             {"now_ms", HN_SEG_NOW_MS}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(name, k[i].name)) {
            seg->kind = k[i].kind;
            return 1;
        }
    size_t n = strlen(name);
    if (strncmp(name, "random_int", 10))
        return 0;
    /* random_int(A,B): whole numbers, A <= B */
    const char *p = name + 10;
    while (*p == ' ')
        p++;
    if (*p != '(' || name[n - 1] != ')')
        return -1;
    char *e;
    errno = 0;
    long long lo = strtoll(p + 1, &e, 10);
    if (e == p + 1 || errno == ERANGE) /* past int64: refused, never clamped */
        return -1;
    while (*e == ' ')
        e++;
    if (*e != ',')
        return -1;
    const char *q = e + 1;
    long long hi = strtoll(q, &e, 10);
    if (e == q || errno == ERANGE)
        return -1;
    while (*e == ' ')
        e++;
    if (*e != ')' || e != name + n - 1 || hi < lo)
        return -1;
    seg->kind = HN_SEG_RANDOM_INT;
    seg->lo = lo;
    seg->hi = hi;
    return 1;
}

int hn_tpl_compile(const char *text, size_t len, enum hn_esc esc, hn_tpl_resolve_fn resolve,
                   void *ctx, struct hn_tpl **out, char *err, size_t errlen)
{
    struct hn_tpl *t = hn_calloc(1, sizeof *t);
    t->esc = esc;
    t->text = hn_strndup(text, len);
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *open = NULL;
        for (const char *q = p; q + 1 < end; q++)
            if (q[0] == '{' && q[1] == '{') {
                open = q;
                break;
            }
        if (!open) {
            add_lit(t, p, (size_t)(end - p));
            break;
        }
        add_lit(t, p, (size_t)(open - p));
        const char *close = NULL;
        for (const char *q = open + 2; q + 1 < end; q++)
            if (q[0] == '}' && q[1] == '}') {
                close = q;
                break;
            }
        if (!close) {
            snprintf(err, errlen, "unclosed '{{' in \"%s\"", t->text);
            hn_tpl_destroy(&t);
            return HN_EINVAL;
        }
        /* trim spaces: {{ name }} */
        const char *a = open + 2, *b = close;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        char name[256];
        size_t nl = (size_t)(b - a);
        if (nl == 0 || nl >= sizeof name) {
            snprintf(err, errlen, "empty or overlong template variable in \"%s\"", t->text);
            hn_tpl_destroy(&t);
            return HN_EINVAL;
        }
        memcpy(name, a, nl);
        name[nl] = '\0';
        struct hn_seg seg = {0};
        int bi = builtin(name, &seg);
        if (bi < 0) {
            snprintf(err, errlen, "bad %s: write random_int(A,B) with whole numbers A <= B",
                     name);
            hn_tpl_destroy(&t);
            return HN_EINVAL;
        }
        if (!bi && (!resolve || resolve(ctx, name, &seg))) {
            snprintf(err, errlen, "unknown template variable '%s'", name);
            hn_tpl_destroy(&t);
            return HN_EINVAL;
        }
        add_seg(t, &seg);
        p = close + 2;
    }
    t->is_static = t->n_segs == 0 || (t->n_segs == 1 && t->segs[0].kind == HN_SEG_LIT);
    *out = t;
    return 0;
}

void hn_tpl_destroy(struct hn_tpl **tp)
{
    struct hn_tpl *t = tp ? *tp : NULL;
    if (!t)
        return;
    for (size_t i = 0; i < t->n_segs; i++)
        free(t->segs[i].lit);
    free(t->segs);
    free(t->text);
    free(t);
    *tp = NULL;
}

/* A number in decimal, as printf's %lld or %llu would write it (signed v when u is 0, else
 * u), without printf: templated numbers are written on every request. Returns its length. */
static size_t fmt_i64(char *out, int64_t v, uint64_t u)
{
    char tmp[24];
    size_t n = 0, k = 0;
    uint64_t x = u ? u : v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    if (!u && v < 0)
        out[k++] = '-';
    do {
        tmp[n++] = (char)('0' + x % 10);
        x /= 10;
    } while (x);
    while (n)
        out[k++] = tmp[--n];
    out[k] = '\0';
    return k;
}

void hn_tpl_expand(const struct hn_tpl *t, const struct hn_tpl_ctx *c, struct hn_buf *out)
{
    char num[48];
    for (size_t i = 0; i < t->n_segs; i++) {
        const struct hn_seg *s = &t->segs[i];
        const char *v = NULL;
        size_t vl = 0;
        switch (s->kind) {
        case HN_SEG_LIT:
            hn_buf_append(out, s->lit, s->lit_len); /* literals are already in place */
            continue;
        case HN_SEG_VAR:
            v = c->var_values[s->a][hn_rng_below(c->rng, c->var_counts[s->a])];
            vl = strlen(v);
            break;
        case HN_SEG_DATA:
            v = c->data_rows[s->a][s->b];
            vl = strlen(v);
            break;
        case HN_SEG_CAPTURE:
            v = c->captures ? c->captures[s->a] : NULL;
            if (!v)
                v = "";
            vl = strlen(v);
            break;
        case HN_SEG_USER_ID:
            vl = fmt_i64(num, 0, c->user_id);
            v = num;
            break;
        case HN_SEG_WORKER_ID:
            vl = fmt_i64(num, c->worker_id, 0);
            v = num;
            break;
        case HN_SEG_ITERATION:
            vl = fmt_i64(num, 0, c->iteration);
            v = num;
            break;
        case HN_SEG_NOW_MS:
            vl = fmt_i64(num, c->now_ms, 0);
            v = num;
            break;
        case HN_SEG_RANDOM_INT: {
            uint64_t span = (uint64_t)(s->hi - s->lo) + 1;
            int64_t r = s->lo + (int64_t)(span ? hn_rng_below(c->rng, span) : hn_rng_next(c->rng));
            vl = fmt_i64(num, r, 0);
            v = num;
            break;
        }
        case HN_SEG_UUID: {
            uint64_t a = hn_rng_next(c->rng), b = hn_rng_next(c->rng);
            a = (a & ~UINT64_C(0xf000)) | UINT64_C(0x4000); /* version 4 */
            b = (b & ~(UINT64_C(3) << 62)) | (UINT64_C(2) << 62); /* RFC 4122 variant */
            /* 8-4-4-4-12 hex digits: a's 64 bits, then b's */
            static const char hx[] = "0123456789abcdef";
            vl = 0;
            for (int sh = 60; sh >= 0; sh -= 4) {
                num[vl++] = hx[(a >> sh) & 15];
                if (sh == 32 || sh == 16)
                    num[vl++] = '-';
            }
            num[vl++] = '-';
            for (int sh = 60; sh >= 0; sh -= 4) {
                num[vl++] = hx[(b >> sh) & 15];
                if (sh == 48)
                    num[vl++] = '-';
            }
            num[vl] = '\0';
            v = num;
            break;
        }
        }
        hn_buf_append_esc(out, v, vl, t->esc);
    }
}
