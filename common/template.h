/* Templates: "{{name}}" placeholders in scenario strings, compiled once at load into segments so
 * a worker's hot path only concatenates (no parsing per request).
 *
 * Placeholders: {{var}} (a random value of a vars: list, per use), {{source.column}} (this user's
 * row of a data: source), {{captured}} (a value this user captured earlier), {{user_id}},
 * {{worker_id}}, {{iteration}}, {{uuid}}, {{random_int(A,B)}}, {{now_ms}}. Substituted values
 * are escaped for where they land: JSON strings, URL components, or header values (CR/LF
 * dropped so a hostile captured value cannot inject headers). Pure: no I/O, no clock reads
 * (the caller passes now_ms). */
#ifndef HN_TEMPLATE_H
#define HN_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

enum hn_esc { HN_ESC_NONE, HN_ESC_JSON, HN_ESC_URL, HN_ESC_HEADER };

enum hn_seg_kind {
    HN_SEG_LIT,
    HN_SEG_VAR,      /* a = var index */
    HN_SEG_DATA,     /* a = source index, b = column index */
    HN_SEG_CAPTURE,  /* a = capture slot in the user class */
    HN_SEG_USER_ID,
    HN_SEG_WORKER_ID,
    HN_SEG_ITERATION,
    HN_SEG_UUID,
    HN_SEG_RANDOM_INT, /* lo, hi */
    HN_SEG_NOW_MS,
};

struct hn_seg {
    enum hn_seg_kind kind;
    uint32_t a, b;
    int64_t lo, hi;
    char *lit;
    size_t lit_len;
};

struct hn_tpl {
    struct hn_seg *segs;
    size_t n_segs;
    enum hn_esc esc;
    char *text;       /* the source text, for messages and --check */
    int is_static;    /* no placeholders: `text` is the value */
};

/* Name resolution during compile, supplied by the scenario loader. Returns 0 and fills seg, or
 * HN_EINVAL. */
typedef int (*hn_tpl_resolve_fn)(void *ctx, const char *name, struct hn_seg *seg);

/* Compiles text. On error returns HN_EINVAL with a reason ("unknown template variable 'x'") in
 * err. The caller owns *out (hn_tpl_destroy). */
int hn_tpl_compile(const char *text, size_t len, enum hn_esc esc, hn_tpl_resolve_fn resolve,
                   void *ctx, struct hn_tpl **out, char *err, size_t errlen);
void hn_tpl_destroy(struct hn_tpl **tp);

/* A growable byte buffer with a cap (never grows past it: appends beyond are dropped and
 * `truncated` is set). */
struct hn_buf {
    char *p;
    size_t len, cap, max;
    int truncated;
};
void hn_buf_init(struct hn_buf *b, size_t max);
void hn_buf_fini(struct hn_buf *b);
void hn_buf_reset(struct hn_buf *b);
void hn_buf_append(struct hn_buf *b, const char *s, size_t n);
/* Appends with escaping. */
void hn_buf_append_esc(struct hn_buf *b, const char *s, size_t n, enum hn_esc esc);
/* Appends n bytes of s in base64 (RFC 4648, with padding). */
void hn_base64(struct hn_buf *b, const char *s, size_t n);
/* NUL-terminates (not counted in len) and returns p. */
const char *hn_buf_cstr(struct hn_buf *b);

/* What a user brings to an expansion. */
struct hn_tpl_ctx {
    struct hn_rng *rng;
    char *const *const *var_values; /* var_values[i][k], k < var_counts[i] */
    const size_t *var_counts;
    const char *const *const *data_rows; /* per source: this user's row (array of cells) */
    char *const *captures;               /* per slot, NULL if not captured yet */
    uint64_t user_id;
    int64_t worker_id;
    uint64_t iteration;
    int64_t now_ms;
};

/* Appends the expansion of t to out. */
void hn_tpl_expand(const struct hn_tpl *t, const struct hn_tpl_ctx *c, struct hn_buf *out);

#endif
