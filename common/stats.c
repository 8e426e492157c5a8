#include "common/stats.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#include <stdio.h>

const double hn_percentiles[HN_N_PERCENTILES] = {0.50, 0.66, 0.75, 0.80,   0.90, 0.95,
                                                 0.98, 0.99, 0.999, 0.9999, 1.0};
const char *const hn_percentile_names[HN_N_PERCENTILES] = {
    "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"};

char *hn_fmt_num(char *buf, size_t n, double v, int decimals)
{
    snprintf(buf, n, "%.*f", decimals, v);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf) - 1;
        while (end > dot && *end == '0')
            *end-- = '\0';
        if (end == dot)
            *end = '\0';
    }
    if (!strcmp(buf, "-0"))
        strcpy(buf, "0");
    return buf;
}

char *hn_fmt_ms(char *buf, size_t n, double us) { return hn_fmt_num(buf, n, us / 1000.0, 3); }

void hn_persec_add(struct hn_persec *p, int64_t sec, uint64_t n)
{
    unsigned i = (unsigned)((uint64_t)sec % HN_PERSEC_SLOTS);
    if (p->sec[i] != sec) {
        if (p->sec[i] > sec)
            return; /* older than the ring keeps: the total still counts it */
        p->sec[i] = sec;
        p->n[i] = 0;
    }
    p->n[i] += n;
}

uint64_t hn_persec_get(const struct hn_persec *p, int64_t sec)
{
    unsigned i = (unsigned)((uint64_t)sec % HN_PERSEC_SLOTS);
    return p->sec[i] == sec ? p->n[i] : 0;
}

double hn_persec_current(const struct hn_persec *p, int64_t now_s, int64_t start_s)
{
    int64_t from = now_s - 12;
    if (from < start_s)
        from = start_s;
    int64_t to = now_s - 2;
    if (to <= from)
        return 0;
    uint64_t sum = 0;
    for (int64_t t = from; t < to; t++)
        sum += hn_persec_get(p, t);
    return (double)sum / (double)(to - from);
}

static void entry_init(struct hn_stats_entry *e, const char *type, const char *name)
{
    memset(e, 0, sizeof *e);
    e->type = hn_strdup(type);
    e->name = hn_strdup(name);
    hn_hist_init(&e->hist);
}

static void entry_fini(struct hn_stats_entry *e)
{
    free(e->type);
    free(e->name);
    hn_hist_fini(&e->hist);
    if (e->service) {
        hn_hist_fini(e->service);
        free(e->service);
    }
}

void hn_stats_record_service(struct hn_stats_entry *e, uint64_t service_us)
{
    if (!e->service) {
        e->service = hn_malloc(sizeof *e->service);
        hn_hist_init(e->service);
    }
    hn_hist_record(e->service, service_us);
}

static void entry_reset(struct hn_stats_entry *e)
{
    e->n_requests = e->n_failures = e->content_bytes = 0;
    e->msgs_sent = e->msgs_received = e->bytes_sent = e->bytes_received = 0;
    hn_hist_reset(&e->hist);
    if (e->service)
        hn_hist_reset(e->service);
    memset(&e->reqs_per_s, 0, sizeof e->reqs_per_s);
    memset(&e->fails_per_s, 0, sizeof e->fails_per_s);
}

void hn_stats_init(struct hn_stats *s)
{
    memset(s, 0, sizeof *s);
    entry_init(&s->total, "", "Aggregated");
}

void hn_stats_fini(struct hn_stats *s)
{
    for (size_t i = 0; i < s->n_entries; i++) {
        entry_fini(s->entries[i]);
        free(s->entries[i]);
    }
    for (size_t i = 0; i < s->n_errors; i++) {
        free(s->errors[i]->type);
        free(s->errors[i]->name);
        free(s->errors[i]->message);
        free(s->errors[i]);
    }
    free(s->entries);
    free(s->errors);
    free(s->entry_index);
    free(s->error_index);
    entry_fini(&s->total);
    memset(s, 0, sizeof *s);
}

void hn_stats_reset(struct hn_stats *s)
{
    for (size_t i = 0; i < s->n_entries; i++)
        entry_reset(s->entries[i]);
    for (size_t i = 0; i < s->n_errors; i++)
        s->errors[i]->occurrences = 0;
    entry_reset(&s->total);
    s->dropped_iterations = 0;
    s->iterations = 0;
    s->conns_opened = 0;
    s->conns_reused = 0;
}

/* FNV-1a over a list of NUL-terminated strings. */
static uint64_t hash_strs(const char *a, const char *b, const char *c)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const char *parts[3] = {a, b, c};
    for (int k = 0; k < 3 && parts[k]; k++) {
        for (const unsigned char *p = (const unsigned char *)parts[k]; *p; p++)
            h = (h ^ *p) * 0x100000001b3ull;
        h = (h ^ 0xff) * 0x100000001b3ull;
    }
    return h;
}

static int entry_eq(const struct hn_stats_entry *e, const char *type, const char *name)
{
    return strcmp(e->type, type) == 0 && strcmp(e->name, name) == 0;
}

static int error_eq(const struct hn_stats_error *e, const char *type, const char *name,
                    const char *msg)
{
    return strcmp(e->type, type) == 0 && strcmp(e->name, name) == 0 &&
           strcmp(e->message, msg) == 0;
}

static void rebuild_entry_index(struct hn_stats *s)
{
    free(s->entry_index);
    s->index_cap = s->index_cap ? s->index_cap * 2 : 64;
    s->entry_index = hn_calloc(s->index_cap, sizeof(uint32_t));
    for (size_t i = 0; i < s->n_entries; i++) {
        size_t j = hash_strs(s->entries[i]->type, s->entries[i]->name, NULL) & (s->index_cap - 1);
        while (s->entry_index[j])
            j = (j + 1) & (s->index_cap - 1);
        s->entry_index[j] = (uint32_t)i + 1;
    }
}

struct hn_stats_entry *hn_stats_find(const struct hn_stats *s, const char *type, const char *name)
{
    if (!s->index_cap)
        return NULL;
    size_t j = hash_strs(type, name, NULL) & (s->index_cap - 1);
    while (s->entry_index[j]) {
        struct hn_stats_entry *e = s->entries[s->entry_index[j] - 1];
        if (entry_eq(e, type, name))
            return e;
        j = (j + 1) & (s->index_cap - 1);
    }
    return NULL;
}

struct hn_stats_entry *hn_stats_entry(struct hn_stats *s, const char *type, const char *name)
{
    struct hn_stats_entry *e = hn_stats_find(s, type, name);
    if (e)
        return e;
    if (s->n_entries == s->cap_entries) {
        s->cap_entries = s->cap_entries ? s->cap_entries * 2 : 16;
        s->entries = hn_realloc(s->entries, s->cap_entries * sizeof *s->entries);
    }
    e = hn_malloc(sizeof *e);
    entry_init(e, type, name);
    e->index = (uint32_t)s->n_entries;
    s->entries[s->n_entries++] = e;
    if (s->n_entries * 2 > s->index_cap) {
        rebuild_entry_index(s);
    } else {
        size_t j = hash_strs(type, name, NULL) & (s->index_cap - 1);
        while (s->entry_index[j])
            j = (j + 1) & (s->index_cap - 1);
        s->entry_index[j] = (uint32_t)s->n_entries;
    }
    return e;
}

static void rebuild_error_index(struct hn_stats *s)
{
    free(s->error_index);
    s->error_index_cap = s->error_index_cap ? s->error_index_cap * 2 : 64;
    s->error_index = hn_calloc(s->error_index_cap, sizeof(uint32_t));
    for (size_t i = 0; i < s->n_errors; i++) {
        struct hn_stats_error *e = s->errors[i];
        size_t j = hash_strs(e->type, e->name, e->message) & (s->error_index_cap - 1);
        while (s->error_index[j])
            j = (j + 1) & (s->error_index_cap - 1);
        s->error_index[j] = (uint32_t)i + 1;
    }
}

void hn_stats_error_add(struct hn_stats *s, const char *type, const char *name,
                        const char *message, uint64_t n)
{
    uint64_t h = hash_strs(type, name, message);
    if (s->error_index_cap) {
        size_t j = h & (s->error_index_cap - 1);
        while (s->error_index[j]) {
            struct hn_stats_error *e = s->errors[s->error_index[j] - 1];
            if (error_eq(e, type, name, message)) {
                e->occurrences += n;
                return;
            }
            j = (j + 1) & (s->error_index_cap - 1);
        }
    }
    if (s->n_errors >= HN_STATS_MAX_ERRORS && strcmp(message, HN_STATS_OTHER_ERRORS)) {
        /* a target that puts a counter in each error would grow the table without bound:
         * past the cap, new messages are counted in one row per (type, name) */
        hn_stats_error_add(s, type, name, HN_STATS_OTHER_ERRORS, n);
        return;
    }
    if (s->n_errors == s->cap_errors) {
        s->cap_errors = s->cap_errors ? s->cap_errors * 2 : 16;
        s->errors = hn_realloc(s->errors, s->cap_errors * sizeof *s->errors);
    }
    struct hn_stats_error *e = hn_malloc(sizeof *e);
    e->type = hn_strdup(type);
    e->name = hn_strdup(name);
    e->message = hn_strdup(message);
    e->occurrences = n;
    s->errors[s->n_errors++] = e;
    if (s->n_errors * 2 > s->error_index_cap) {
        rebuild_error_index(s);
    } else {
        size_t j = h & (s->error_index_cap - 1);
        while (s->error_index[j])
            j = (j + 1) & (s->error_index_cap - 1);
        s->error_index[j] = (uint32_t)s->n_errors;
    }
}

static void persec_merge(struct hn_persec *dst, const struct hn_persec *src)
{
    for (unsigned i = 0; i < HN_PERSEC_SLOTS; i++)
        if (src->n[i])
            hn_persec_add(dst, src->sec[i], src->n[i]);
}

void hn_stats_entry_merge(struct hn_stats_entry *dst, const struct hn_stats_entry *src)
{
    dst->n_requests += src->n_requests;
    dst->n_failures += src->n_failures;
    dst->content_bytes += src->content_bytes;
    dst->msgs_sent += src->msgs_sent;
    dst->msgs_received += src->msgs_received;
    dst->bytes_sent += src->bytes_sent;
    dst->bytes_received += src->bytes_received;
    hn_hist_merge(&dst->hist, &src->hist);
    if (src->service && src->service->count) {
        if (!dst->service) {
            dst->service = hn_malloc(sizeof *dst->service);
            hn_hist_init(dst->service);
        }
        hn_hist_merge(dst->service, src->service);
    }
    persec_merge(&dst->reqs_per_s, &src->reqs_per_s);
    persec_merge(&dst->fails_per_s, &src->fails_per_s);
}

int hn_stats_in_total(const struct hn_stats_entry *e)
{
    return !(!strcmp(e->type, "WS") && !strncmp(e->name, "session ", 8));
}

void hn_stats_merge(struct hn_stats *dst, const struct hn_stats *src)
{
    for (size_t i = 0; i < src->n_entries; i++) {
        const struct hn_stats_entry *e = src->entries[i];
        if (!hn_stats_entry_used(e))
            continue;
        hn_stats_entry_merge(hn_stats_entry(dst, e->type, e->name), e);
        if (hn_stats_in_total(e))
            hn_stats_entry_merge(&dst->total, e);
    }
    dst->dropped_iterations += src->dropped_iterations;
    dst->iterations += src->iterations;
    dst->conns_opened += src->conns_opened;
    dst->conns_reused += src->conns_reused;
    for (size_t i = 0; i < src->n_errors; i++) {
        const struct hn_stats_error *e = src->errors[i];
        if (e->occurrences)
            hn_stats_error_add(dst, e->type, e->name, e->message, e->occurrences);
    }
}

static int cmp_entry(const void *a, const void *b)
{
    const struct hn_stats_entry *x = *(struct hn_stats_entry *const *)a;
    const struct hn_stats_entry *y = *(struct hn_stats_entry *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->type, y->type);
}

struct hn_stats_entry **hn_stats_sorted(const struct hn_stats *s)
{
    struct hn_stats_entry **v = hn_malloc((s->n_entries + 1) * sizeof *v);
    if (s->n_entries) {
        memcpy(v, s->entries, s->n_entries * sizeof *v);
        qsort(v, s->n_entries, sizeof *v, cmp_entry);
    }
    return v;
}

static int cmp_error(const void *a, const void *b)
{
    const struct hn_stats_error *x = *(struct hn_stats_error *const *)a;
    const struct hn_stats_error *y = *(struct hn_stats_error *const *)b;
    int c = strcmp(x->name, y->name);
    if (!c)
        c = strcmp(x->type, y->type);
    return c ? c : strcmp(x->message, y->message);
}

struct hn_stats_error **hn_stats_errors_sorted(const struct hn_stats *s)
{
    struct hn_stats_error **v = hn_malloc((s->n_errors + 1) * sizeof *v);
    if (s->n_errors) {
        memcpy(v, s->errors, s->n_errors * sizeof *v);
        qsort(v, s->n_errors, sizeof *v, cmp_error);
    }
    return v;
}
