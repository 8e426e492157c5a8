#include "master/webui.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "master/metrics.h"
#include "master/report.h"
#include "master/store.h"

#define POINTS_MAX 3600 /* then every other point goes: the series keeps its span, not detail */
#define ROWS_MAX 20     /* rows with their own live latency series */
#define WINDOWS 3       /* live percentiles are over the last 3 s of reports */
#define STATS_ROWS_MAX 500
#define ERRORS_MAX 200
#define MARKERS_MAX 200

extern const char hn_ui_html[], hn_dygraph_js[], hn_dygraph_css[];

struct point {
    int64_t t_ms;
    float rps, fps, p50, p95, p99; /* NaN: no request in the window */
    uint64_t users, dropped;
};

struct row_series {
    char *key; /* "METHOD name" */
    float *p50, *p95; /* POINTS_MAX each, by point index */
};

struct marker {
    int64_t t_ms;
    char text[120];
};

struct hn_webui {
    struct hn_webui_ops ops;
    struct hn_stats win[WINDOWS];
    int win_cur;
    struct point *pts;
    size_t n_pts;
    struct row_series rows[ROWS_MAX];
    size_t n_rows;
    struct marker markers[MARKERS_MAX];
    size_t n_markers;
    unsigned test; /* how many New tests came */
};

struct hn_webui *hn_webui_new(const struct hn_webui_ops *ops)
{
    struct hn_webui *u = hn_calloc(1, sizeof *u);
    u->ops = *ops;
    for (int i = 0; i < WINDOWS; i++)
        hn_stats_init(&u->win[i]);
    u->pts = hn_calloc(POINTS_MAX, sizeof *u->pts);
    return u;
}

static void free_rows(struct hn_webui *u)
{
    for (size_t i = 0; i < u->n_rows; i++) {
        free(u->rows[i].key);
        free(u->rows[i].p50);
        free(u->rows[i].p95);
    }
    memset(u->rows, 0, sizeof u->rows);
    u->n_rows = 0;
}

void hn_webui_new_test(struct hn_webui *u)
{
    if (!u)
        return;
    for (int i = 0; i < WINDOWS; i++)
        hn_stats_reset(&u->win[i]);
    free_rows(u);
    u->n_pts = 0;
    u->n_markers = 0;
    u->test++;
}

void hn_webui_free(struct hn_webui **up)
{
    struct hn_webui *u = up ? *up : NULL;
    if (!u)
        return;
    for (int i = 0; i < WINDOWS; i++)
        hn_stats_fini(&u->win[i]);
    free_rows(u);
    free(u->pts);
    free(u);
    *up = NULL;
}

void hn_webui_merge(struct hn_webui *u, const struct hn_stats *delta)
{
    if (u)
        hn_stats_merge(&u->win[u->win_cur], delta);
}

void hn_webui_marker(struct hn_webui *u, int64_t wall_ms, const char *text)
{
    if (!u)
        return;
    if (u->n_markers == MARKERS_MAX) { /* the oldest goes */
        memmove(u->markers, u->markers + 1, (MARKERS_MAX - 1) * sizeof *u->markers);
        u->n_markers--;
    }
    struct marker *m = &u->markers[u->n_markers++];
    m->t_ms = wall_ms;
    snprintf(m->text, sizeof m->text, "%s", text);
}

/* ---------- JSON pieces ---------- */

static struct hn_json *str(const char *s) { return hn_json_string(s ? s : "", s ? strlen(s) : 0); }
static struct hn_json *num(float v) { return isnan(v) ? hn_json_null() : hn_json_real(v); }
static int64_t round_ms(uint64_t us) { return (int64_t)((us + 500) / 1000); }
static double pct_ms(const struct hn_hist *h, double q)
{
    return h->count ? (double)hn_hist_percentile(h, q) / 1000.0 : 0;
}

/* GET /stats/requests: Locust 2.x's JSON, field for field (hornet adds, never renames). */
static struct hn_json *locust_stats(const struct hn_webui_view *v)
{
    const struct hn_stats *s = v->stats;
    struct hn_json *root = hn_json_object(), *rows = hn_json_array(), *errs = hn_json_array();
    struct hn_stats_entry **sorted = hn_stats_sorted(s);
    size_t shown = s->n_entries < STATS_ROWS_MAX ? s->n_entries : STATS_ROWS_MAX;
    for (size_t i = 0; i <= shown; i++) {
        const struct hn_stats_entry *e = i < shown ? sorted[i] : &s->total;
        const struct hn_hist *h = &e->hist;
        struct hn_json *r = hn_json_object();
        hn_json_set(r, "method", str(e->type));
        hn_json_set(r, "name", str(e->name));
        hn_json_set(r, "safe_name", str(e->name));
        hn_json_set(r, "num_requests", hn_json_integer((long long)e->n_requests));
        hn_json_set(r, "num_failures", hn_json_integer((long long)e->n_failures));
        hn_json_set(r, "avg_response_time",
                    hn_json_real(h->count ? (double)h->sum_us / (double)h->count / 1000.0 : 0));
        hn_json_set(r, "min_response_time", hn_json_integer(h->count ? round_ms(h->min_us) : 0));
        hn_json_set(r, "max_response_time", hn_json_integer(round_ms(h->max_us)));
        hn_json_set(r, "current_rps",
                    hn_json_real(hn_persec_current(&e->reqs_per_s, v->wall_s, v->start_wall_s)));
        hn_json_set(r, "current_fail_per_sec",
                    hn_json_real(hn_persec_current(&e->fails_per_s, v->wall_s, v->start_wall_s)));
        hn_json_set(r, "median_response_time",
                    hn_json_integer(h->count ? hn_csv_locust_ms(pct_ms(h, 0.5) * 1000) : 0));
        hn_json_set(r, "ninetieth_response_time",
                    hn_json_integer(h->count ? hn_csv_locust_ms(pct_ms(h, 0.9) * 1000) : 0));
        hn_json_set(r, "ninety_ninth_response_time",
                    hn_json_integer(h->count ? hn_csv_locust_ms(pct_ms(h, 0.99) * 1000) : 0));
        hn_json_set(r, "avg_content_length",
                    hn_json_real(e->n_requests ? (double)e->content_bytes / (double)e->n_requests
                                               : 0));
        /* hornet's additions: exact percentiles (ms) for the UI's table */
        hn_json_set(r, "p50_ms", hn_json_real(pct_ms(h, 0.5)));
        hn_json_set(r, "p95_ms", hn_json_real(pct_ms(h, 0.95)));
        hn_json_set(r, "p99_ms", hn_json_real(pct_ms(h, 0.99)));
        hn_json_set(r, "min_ms", hn_json_real(h->count ? (double)h->min_us / 1000.0 : 0));
        hn_json_set(r, "max_ms", hn_json_real((double)h->max_us / 1000.0));
        hn_json_append(rows, r);
    }
    free(sorted);
    struct hn_stats_error **ev = hn_stats_errors_sorted(s);
    for (size_t i = 0, n = 0; i < s->n_errors && n < ERRORS_MAX; i++) {
        if (!ev[i]->occurrences)
            continue;
        struct hn_json *r = hn_json_object();
        hn_json_set(r, "method", str(ev[i]->type));
        hn_json_set(r, "name", str(ev[i]->name));
        hn_json_set(r, "error", str(ev[i]->message));
        hn_json_set(r, "occurrences", hn_json_integer((long long)ev[i]->occurrences));
        hn_json_append(errs, r);
        n++;
    }
    free(ev);
    const struct hn_stats_entry *t = &s->total;
    hn_json_set(root, "stats", rows);
    hn_json_set(root, "errors", errs);
    hn_json_set(root, "total_rps",
                hn_json_real(hn_persec_current(&t->reqs_per_s, v->wall_s, v->start_wall_s)));
    hn_json_set(root, "total_fail_per_sec",
                hn_json_real(hn_persec_current(&t->fails_per_s, v->wall_s, v->start_wall_s)));
    hn_json_set(root, "fail_ratio",
                hn_json_real(t->n_requests ? (double)t->n_failures / (double)t->n_requests : 0));
    double p95 = pct_ms(&t->hist, 0.95) / 1000.0, p50 = pct_ms(&t->hist, 0.5) / 1000.0;
    hn_json_set(root, "current_response_time_percentile_95", hn_json_real(p95));
    hn_json_set(root, "current_response_time_percentile_50", hn_json_real(p50));
    struct hn_json *cur = hn_json_object(); /* Locust 2.15's form of the same */
    hn_json_set(cur, "response_time_percentile_0.5", hn_json_real(p50));
    hn_json_set(cur, "response_time_percentile_0.95", hn_json_real(p95));
    hn_json_set(root, "current_response_time_percentiles", cur);
    struct hn_json *workers = hn_json_array();
    for (size_t i = 0; i < v->n_peers; i++) {
        const struct hn_peer *p = &v->peers[i];
        struct hn_json *w = hn_json_object();
        hn_json_set(w, "id", str(p->id));
        hn_json_set(w, "state", str(hn_peer_state_name(p->state)));
        hn_json_set(w, "user_count", hn_json_integer((long long)p->user_count));
        hn_json_set(w, "cpu_usage", hn_json_real(p->cpu_percent));
        hn_json_set(w, "memory_usage", hn_json_integer((long long)p->rss_bytes));
        /* hornet's additions */
        hn_json_set(w, "cpu_peak", hn_json_real(p->cpu_peak));
        hn_json_set(w, "last_heartbeat_s",
                    hn_json_real(v->now_ms > p->last_seen_ms
                                     ? (double)(v->now_ms - p->last_seen_ms) / 1000.0
                                     : 0));
        hn_json_set(w, "saturated", hn_json_bool(p->cpu_warned));
        hn_json_append(workers, w);
    }
    hn_json_set(root, "workers", workers);
    hn_json_set(root, "state", str(v->state));
    hn_json_set(root, "user_count", hn_json_integer((long long)v->users));
    hn_json_set(root, "dropped_iterations", hn_json_integer((long long)s->dropped_iterations));
    return root;
}

/* ---------- the live series ---------- */

static struct row_series *row_for(struct hn_webui *u, const char *key)
{
    for (size_t i = 0; i < u->n_rows; i++)
        if (!strcmp(u->rows[i].key, key))
            return &u->rows[i];
    if (u->n_rows == ROWS_MAX)
        return NULL;
    struct row_series *r = &u->rows[u->n_rows++];
    r->key = hn_strdup(key);
    r->p50 = hn_malloc(POINTS_MAX * sizeof *r->p50);
    r->p95 = hn_malloc(POINTS_MAX * sizeof *r->p95);
    for (size_t i = 0; i < POINTS_MAX; i++)
        r->p50[i] = r->p95[i] = NAN;
    return r;
}

/* Full: every other point goes (the first is kept), halving the resolution. */
static void thin(struct hn_webui *u)
{
    size_t k = 0;
    for (size_t i = 0; i < u->n_pts; i += 2, k++) {
        u->pts[k] = u->pts[i];
        for (size_t r = 0; r < u->n_rows; r++) {
            u->rows[r].p50[k] = u->rows[r].p50[i];
            u->rows[r].p95[k] = u->rows[r].p95[i];
        }
    }
    for (size_t r = 0; r < u->n_rows; r++)
        for (size_t i = k; i < POINTS_MAX; i++)
            u->rows[r].p50[i] = u->rows[r].p95[i] = NAN;
    u->n_pts = k;
}

static void add_point(struct hn_webui *u, int64_t wall_ms, const struct hn_webui_view *v)
{
    if (u->n_pts == POINTS_MAX)
        thin(u);
    struct hn_stats w;
    hn_stats_init(&w);
    for (int i = 0; i < WINDOWS; i++)
        hn_stats_merge(&w, &u->win[i]);
    size_t at = u->n_pts++;
    struct point *p = &u->pts[at];
    const struct hn_stats_entry *t = &v->stats->total;
    p->t_ms = wall_ms;
    p->rps = (float)hn_persec_current(&t->reqs_per_s, v->wall_s, v->start_wall_s);
    p->fps = (float)hn_persec_current(&t->fails_per_s, v->wall_s, v->start_wall_s);
    const struct hn_hist *h = &w.total.hist;
    p->p50 = h->count ? (float)pct_ms(h, 0.5) : NAN;
    p->p95 = h->count ? (float)pct_ms(h, 0.95) : NAN;
    p->p99 = h->count ? (float)pct_ms(h, 0.99) : NAN;
    p->users = v->users;
    p->dropped = v->stats->dropped_iterations;
    for (size_t i = 0; i < w.n_entries; i++) {
        const struct hn_stats_entry *e = w.entries[i];
        if (!e->hist.count)
            continue;
        char key[600];
        snprintf(key, sizeof key, "%s %s", e->type, e->name);
        struct row_series *r = row_for(u, key);
        if (r) {
            r->p50[at] = (float)pct_ms(&e->hist, 0.5);
            r->p95[at] = (float)pct_ms(&e->hist, 0.95);
        }
    }
    hn_stats_fini(&w);
    /* the oldest window leaves */
    u->win_cur = (u->win_cur + 1) % WINDOWS;
    hn_stats_reset(&u->win[u->win_cur]);
}

static struct hn_json *point_json(const struct hn_webui *u, size_t i)
{
    const struct point *p = &u->pts[i];
    struct hn_json *a = hn_json_array();
    hn_json_append(a, hn_json_integer(p->t_ms));
    hn_json_append(a, num(p->rps));
    hn_json_append(a, num(p->fps));
    hn_json_append(a, num(p->p50));
    hn_json_append(a, num(p->p95));
    hn_json_append(a, num(p->p99));
    hn_json_append(a, hn_json_integer((long long)p->users));
    hn_json_append(a, hn_json_integer((long long)p->dropped));
    struct hn_json *rows = hn_json_array(); /* [p50, p95] by row index; null when idle */
    for (size_t r = 0; r < u->n_rows; r++) {
        struct hn_json *pair = hn_json_array();
        hn_json_append(pair, num(u->rows[r].p50[i]));
        hn_json_append(pair, num(u->rows[r].p95[i]));
        hn_json_append(rows, pair);
    }
    hn_json_append(a, rows);
    return a;
}

static struct hn_json *markers_json(const struct hn_webui *u)
{
    struct hn_json *a = hn_json_array();
    for (size_t i = 0; i < u->n_markers; i++) {
        struct hn_json *m = hn_json_object();
        hn_json_set(m, "t", hn_json_integer(u->markers[i].t_ms));
        hn_json_set(m, "text", str(u->markers[i].text));
        hn_json_append(a, m);
    }
    return a;
}

/* What the UI shows: Locust's stats plus the run's state, the newest point (or every point
 * when full), the markers, the thresholds, the exceptions and the classes. */
static char *snapshot(struct hn_webui *u, const struct hn_webui_view *v, int full)
{
    struct hn_json *root = locust_stats(v);
    hn_json_set(root, "run_id", str(v->run_id));
    hn_json_set(root, "host", str(v->host));
    hn_json_set(root, "scenario", str(v->scenario_path));
    hn_json_set(root, "held", hn_json_bool(v->held));
    hn_json_set(root, "finished", hn_json_bool(v->finished));
    hn_json_set(root, "exit_code", v->finished ? hn_json_integer(v->exit_code) : hn_json_null());
    hn_json_set(root, "elapsed_s", hn_json_real(v->elapsed_s));
    hn_json_set(root, "run_time_s", hn_json_real(v->run_time_s));
    hn_json_set(root, "target_users", hn_json_integer((long long)v->target_users));
    hn_json_set(root, "spawn_rate", hn_json_real(v->spawn_rate));
    hn_json_set(root, "load_plan", hn_json_bool(v->load_plan));
    hn_json_set(root, "history", hn_json_bool(v->db_path != NULL));
    hn_json_set(root, "db_run", hn_json_integer(v->db_run));
    hn_json_set(root, "test", hn_json_integer(u->test));
    struct hn_json *rk = hn_json_array();
    for (size_t r = 0; r < u->n_rows; r++)
        hn_json_append(rk, str(u->rows[r].key));
    hn_json_set(root, "row_keys", rk);
    if (full) {
        struct hn_json *pts = hn_json_array();
        for (size_t i = 0; i < u->n_pts; i++)
            hn_json_append(pts, point_json(u, i));
        hn_json_set(root, "points", pts);
    } else if (u->n_pts) {
        hn_json_set(root, "point", point_json(u, u->n_pts - 1));
    }
    hn_json_set(root, "markers", markers_json(u));
    struct hn_json *ths = hn_json_array();
    if (v->n_ths)
        hn_thresholds_eval(v->ths, v->n_ths, v->stats, v->duration_s, v->stats->dropped_iterations,
                           0, 0, v->verdicts);
    for (size_t i = 0; i < v->n_ths; i++) {
        struct hn_json *t = hn_json_object();
        hn_json_set(t, "row", str(v->ths[i].row));
        hn_json_set(t, "threshold", str(v->ths[i].expr));
        hn_json_set(t, "seen", hn_json_bool(v->verdicts[i].seen));
        hn_json_set(t, "ok", hn_json_bool(v->verdicts[i].ok));
        hn_json_set(t, "observed", v->verdicts[i].seen ? hn_json_real(v->verdicts[i].observed)
                                                       : hn_json_null());
        hn_json_append(ths, t);
    }
    hn_json_set(root, "thresholds", ths);
    struct hn_json *exc = hn_json_array();
    for (size_t i = 0; i < v->n_exc && i < ERRORS_MAX; i++) {
        struct hn_json *e = hn_json_object();
        hn_json_set(e, "count", hn_json_integer((long long)v->exc[i].count));
        hn_json_set(e, "msg", str(v->exc[i].msg));
        hn_json_set(e, "nodes", str(v->exc[i].nodes));
        hn_json_append(exc, e);
    }
    hn_json_set(root, "exceptions", exc);
    if (full && v->sc) {
        struct hn_json *cls = hn_json_array();
        for (size_t c = 0; c < v->sc->n_classes; c++) {
            const struct hn_user_class *k = &v->sc->classes[c];
            struct hn_json *o = hn_json_object();
            hn_json_set(o, "name", str(k->name));
            hn_json_set(o, "weight", hn_json_integer(k->weight));
            hn_json_set(o, "fixed_count", hn_json_integer((long long)k->fixed_count));
            hn_json_append(cls, o);
        }
        hn_json_set(root, "classes", cls);
    }
    char *text = hn_json_dump(root);
    hn_json_free(root);
    return text;
}

void hn_webui_tick(struct hn_webui *u, int64_t wall_ms, struct hn_web *w)
{
    if (!u)
        return;
    struct hn_webui_view v;
    memset(&v, 0, sizeof v);
    u->ops.view(u->ops.ctx, &v);
    if (!v.held) /* the charts begin with the run */
        add_point(u, wall_ms, &v);
    if (!hn_web_streams(w))
        return;
    char *text = snapshot(u, &v, 0);
    if (text)
        hn_web_publish(w, text, strlen(text));
    free(text);
}

/* ---------- requests ---------- */

static void reply_text(struct hn_web_reply *out, unsigned status, const char *type,
                       const char *text)
{
    out->status = status;
    out->content_type = type;
    out->body = hn_strdup(text);
    out->len = strlen(out->body);
}

static void reply_json(struct hn_web_reply *out, unsigned status, struct hn_json *j)
{
    out->status = status;
    out->content_type = "application/json";
    out->body = hn_json_dump(j);
    out->len = out->body ? strlen(out->body) : 0;
    hn_json_free(j);
}

static void reply_result(struct hn_web_reply *out, const char *why, const char *ok_message,
                         const char *host)
{
    struct hn_json *j = hn_json_object();
    hn_json_set(j, "success", hn_json_bool(why == NULL));
    hn_json_set(j, "message", str(why ? why : ok_message));
    if (!why && host)
        hn_json_set(j, "host", str(host));
    reply_json(out, why ? 400 : 200, j);
}

/* The next value of form field `name` after *from (x-www-form-urlencoded), decoded into buf;
 * *from moves past it, so a repeated field is read in turn. NULL when there is no more. */
static const char *form_next(const char *body, const char **from, const char *name, char *buf,
                             size_t n)
{
    size_t nl = strlen(name);
    const char *p = *from ? *from : body;
    for (; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, name, nl) || p[nl] != '=')
            continue;
        const char *v = p + nl + 1;
        size_t k = 0;
        for (; *v && *v != '&' && k + 1 < n; v++) {
            if (*v == '+') {
                buf[k++] = ' ';
            } else if (*v == '%' && isxdigit((unsigned char)v[1]) &&
                       isxdigit((unsigned char)v[2])) {
                char hex[3] = {v[1], v[2], 0};
                buf[k++] = (char)strtol(hex, NULL, 16);
                v += 2;
            } else {
                buf[k++] = *v;
            }
        }
        buf[k] = '\0';
        *from = strchr(v, '&') ? strchr(v, '&') + 1 : v + strlen(v);
        return buf;
    }
    *from = NULL;
    return NULL;
}

static const char *form_field(const char *body, const char *name, char *buf, size_t n)
{
    const char *from = NULL;
    return form_next(body, &from, name, buf, n);
}

/* The start form's classes: Locust's repeated user_classes (the ones to run), and hornet's
 * weight.NAME / count.NAME. Returns NULL (no class field: the scenario's own) or classes;
 * err says what was wrong. */
static struct hn_webui_class *form_classes(const struct hn_scenario *sc, const char *body,
                                           char *err, size_t errlen)
{
    char buf[256], key[300];
    const char *from = NULL;
    int any = 0;
    size_t nc = sc->n_classes;
    struct hn_webui_class *c = hn_calloc(nc ? nc : 1, sizeof *c);
    for (size_t i = 0; i < nc; i++) {
        c[i].weight = sc->classes[i].weight;
        c[i].fixed_count = sc->classes[i].fixed_count;
        c[i].enabled = 1;
    }
    int picked = 0;
    while (form_next(body, &from, "user_classes", buf, sizeof buf)) {
        if (!picked) {
            for (size_t i = 0; i < nc; i++)
                c[i].enabled = 0;
            picked = 1;
        }
        size_t i = 0;
        while (i < nc && strcmp(sc->classes[i].name, buf))
            i++;
        if (i == nc) {
            snprintf(err, errlen, "user_classes: no class named '%.100s'", buf);
            free(c);
            return NULL;
        }
        c[i].enabled = 1;
        any = 1;
    }
    for (size_t i = 0; i < nc; i++) {
        uint64_t v;
        snprintf(key, sizeof key, "weight.%s", sc->classes[i].name);
        if (form_field(body, key, buf, sizeof buf)) {
            any = 1;
            if (hn_parse_u64(buf, &v) || v > 1000000) {
                snprintf(err, errlen, "%.200s: expected a whole number up to 1000000", key);
                free(c);
                return NULL;
            }
            c[i].weight = (uint32_t)v;
        }
        snprintf(key, sizeof key, "count.%s", sc->classes[i].name);
        if (form_field(body, key, buf, sizeof buf) && *buf) {
            any = 1;
            if (hn_parse_u64(buf, &v) || v > 10000000) {
                snprintf(err, errlen, "%.200s: expected a whole number up to 10000000", key);
                free(c);
                return NULL;
            }
            c[i].fixed_count = v;
        }
    }
    if (!any) {
        free(c);
        return NULL;
    }
    int runs = 0;
    for (size_t i = 0; i < nc; i++)
        runs |= c[i].enabled && (c[i].weight || c[i].fixed_count);
    if (!runs) {
        snprintf(err, errlen, "user_classes: pick at least one class with a weight or a count");
        free(c);
        return NULL;
    }
    return c;
}

/* POST /swarm: Locust's form (user_count, spawn_rate, host, run_time) starts the held run or
 * changes a running one's load. */
static void swarm(struct hn_webui *u, const struct hn_webui_view *v, const struct hn_web_req *req,
                  struct hn_web_reply *out)
{
    char uc[32], sr[32], host[2048], rt[64], err[320] = "";
    const char *us = form_field(req->body, "user_count", uc, sizeof uc);
    const char *r = form_field(req->body, "spawn_rate", sr, sizeof sr);
    const char *h = form_field(req->body, "host", host, sizeof host);
    const char *t = form_field(req->body, "run_time", rt, sizeof rt);
    uint64_t users;
    double rate;
    int64_t run_ms = 0;
    const char *why = !us || hn_parse_u64(us, &users) || users > 10000000
                          ? "user_count: expected a whole number from 0 to 10000000"
                      : !r || hn_parse_double(r, &rate) || rate <= 0 || rate > 1e6
                          ? "spawn_rate: expected a rate above 0"
                      : t && *t && (hn_parse_duration_ms(t, &run_ms) || run_ms <= 0)
                          ? "run_time: expected a duration such as 30s, 5m or 1h30m"
                          : NULL;
    struct hn_webui_class *classes = NULL;
    int class_fields = strstr(req->body, "user_classes=") || strstr(req->body, "weight.") ||
                       strstr(req->body, "count.");
    if (!why && class_fields && !v->held)
        why = "user_classes: the classes are set when the run starts";
    if (!why && v->sc && class_fields) {
        classes = form_classes(v->sc, req->body, err, sizeof err);
        if (err[0])
            why = err;
    }
    if (!why) {
        const char *new_host = h && *h && strcmp(h, v->host) ? h : NULL;
        why = u->ops.swarm(u->ops.ctx, users, rate, new_host, run_ms, classes);
        if (!why) {
            char m[160];
            snprintf(m, sizeof m, "/swarm: %llu users at %.6g/s%s", (unsigned long long)users,
                     rate, v->held ? " (the start)" : "");
            hn_info("%s", m);
        }
    }
    free(classes);
    reply_result(out, why, "Swarming started", h && *h ? h : v->host);
}

/* GET /metrics: Prometheus's text exposition of what the master holds now. */
static void metrics(const struct hn_webui_view *v, struct hn_web_reply *out)
{
    if (v->n_ths)
        hn_thresholds_eval(v->ths, v->n_ths, v->stats, v->duration_s, v->stats->dropped_iterations,
                           0, 0, v->verdicts);
    struct hn_metrics_in in = {
        .run_id = v->run_id,
        .stats = v->stats,
        .rps = hn_persec_current(&v->stats->total.reqs_per_s, v->wall_s, v->start_wall_s),
        .users = v->users,
        .target_users = v->target_users,
        .peers = v->peers,
        .n_peers = v->n_peers,
        .ths = v->ths,
        .verdicts = v->verdicts,
        .n_ths = v->n_ths,
        .running = !v->held && !v->finished && strcmp(v->state, "ready"),
    };
    FILE *f = open_memstream(&out->body, &out->len);
    if (!f) {
        reply_text(out, 500, "text/plain", "out of memory\n");
        return;
    }
    hn_metrics_write(f, &in);
    fclose(f);
    out->status = 200;
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* The history tab: the recorded runs, one run's report, two runs compared. Each request reads
 * the database on a thread of its own (hn_web_reply's work) through a read-only connection
 * (the run's own writer keeps its connection): a large history never holds the master's loop. */
struct history_ask {
    char *db_path;
    int64_t db_run;
    char what[16];
    int64_t run, base;
};

static void history_ask_free(void *arg)
{
    struct history_ask *a = arg;
    free(a->db_path);
    free(a);
}

static int64_t arg_id(const struct hn_web_req *req, const char *name)
{
    const char *a = hn_web_arg(req, name);
    uint64_t v;
    return a && !hn_parse_u64(a, &v) && v > 0 && v < INT64_MAX ? (int64_t)v : 0;
}

static void history_runs(struct hn_store *st, int64_t current, struct hn_web_reply *out)
{
    struct hn_run_row *rows;
    size_t n;
    if (hn_store_runs(st, 200, &rows, &n)) {
        reply_text(out, 500, "text/plain", "cannot read the run history\n");
        return;
    }
    struct hn_json *root = hn_json_object(), *list = hn_json_array();
    for (size_t i = 0; i < n; i++) {
        const struct hn_run_row *r = &rows[i];
        struct hn_json *o = hn_json_object();
        hn_json_set(o, "id", hn_json_integer(r->id));
        hn_json_set(o, "started_ms", hn_json_integer(r->started_ms));
        hn_json_set(o, "duration_s", hn_json_real(r->duration_s));
        hn_json_set(o, "status", str(r->status));
        hn_json_set(o, "scenario", str(r->scenario_path));
        hn_json_set(o, "host", str(r->host));
        hn_json_set(o, "users", hn_json_integer((long long)r->users));
        hn_json_set(o, "requests", hn_json_integer((long long)r->requests));
        hn_json_set(o, "failures", hn_json_integer((long long)r->failures));
        hn_json_set(o, "rps", hn_json_real(r->duration_s > 0 ? (double)r->requests / r->duration_s
                                                             : 0));
        hn_json_set(o, "p95_ms", r->p95_ms >= 0 ? hn_json_real(r->p95_ms) : hn_json_null());
        hn_json_append(list, o);
    }
    hn_run_rows_free(rows, n);
    hn_json_set(root, "runs", list);
    hn_json_set(root, "current", hn_json_integer(current));
    reply_json(out, 200, root);
}

static void history_report(struct hn_store *st, int64_t run, int64_t base,
                           struct hn_web_reply *out)
{
    FILE *f = open_memstream(&out->body, &out->len);
    int rc = !run || !f ? -1 : hn_report_stream(st, run, NULL, f, base);
    if (f)
        fclose(f);
    if (rc) {
        free(out->body);
        out->body = NULL;
        reply_text(out, 404, "text/plain", "no finished run with that id (see the history tab)\n");
        return;
    }
    out->status = 200;
    out->content_type = "text/html; charset=utf-8";
}

static void history_compare(struct hn_store *st, int64_t base, int64_t run,
                            struct hn_web_reply *out)
{
    char err[256] = "expected base=ID and run=ID";
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    struct hn_compare_limits l;
    hn_compare_defaults(&l);
    int rc = !base || !run || !f ? -1 : hn_report_compare(st, base, run, &l, f, err, sizeof err);
    if (f)
        fclose(f);
    struct hn_json *j = hn_json_object();
    hn_json_set(j, "base", hn_json_integer(base));
    hn_json_set(j, "run", hn_json_integer(run));
    if (rc < 0) {
        hn_json_set(j, "error", str(err));
    } else {
        hn_json_set(j, "regression", hn_json_bool(rc == 1));
        hn_json_set(j, "text", str(text));
    }
    free(text);
    reply_json(out, rc < 0 ? 400 : 200, j);
}

/* On the history thread: touches nothing but its request. */
static void history_work(void *arg, struct hn_web_reply *out)
{
    struct history_ask *a = arg;
    struct hn_store *st;
    char err[512];
    if (hn_store_open_read(a->db_path, &st, err, sizeof err)) {
        snprintf(err + strlen(err), sizeof err - strlen(err), "\n");
        reply_text(out, 500, "text/plain", err);
        return;
    }
    if (!strcmp(a->what, "runs"))
        history_runs(st, a->db_run, out);
    else if (!strcmp(a->what, "report"))
        history_report(st, a->run, a->base, out);
    else
        history_compare(st, a->base, a->run, out);
    hn_store_close(&st);
}

static void history(const struct hn_webui_view *v, const struct hn_web_req *req,
                    struct hn_web_reply *out)
{
    const char *what = req->path + strlen("/history/");
    int report = !strcmp(what, "report");
    if (strcmp(what, "runs") && !report && strcmp(what, "compare")) {
        reply_text(out, 404, "text/plain", "the history serves runs, report and compare\n");
        return;
    }
    if (!v->db_path) {
        reply_text(out, 404, "text/plain", "no run history: this run has --no-db\n");
        return;
    }
    struct history_ask *a = hn_calloc(1, sizeof *a);
    a->db_path = hn_strdup(v->db_path);
    a->db_run = v->db_run;
    snprintf(a->what, sizeof a->what, "%s", what);
    a->run = arg_id(req, "run");
    a->base = arg_id(req, report ? "baseline" : "base");
    out->work = history_work;
    out->work_arg = a;
    out->work_free = history_ask_free;
}

/* GET /stats/report (Locust's HTML report; ?download=1 as a file) and /stats/report.json. */
static void report(struct hn_webui *u, const struct hn_web_req *req, struct hn_web_reply *out)
{
    int json = !strcmp(req->path, "/stats/report.json");
    FILE *f = open_memstream(&out->body, &out->len);
    int rc = !f ? HN_EIO : u->ops.report(u->ops.ctx, json ? f : NULL, json ? NULL : f);
    if (f)
        fclose(f);
    if (rc == HN_EINVAL) { /* before the run starts (or with nothing kept) */
        free(out->body);
        out->body = NULL;
        reply_text(out, 409, "text/plain", "no run has started yet: there is nothing to report\n");
        return;
    }
    if (rc) {
        free(out->body);
        out->body = NULL;
        reply_text(out, 500, "text/plain", "the report could not be made (see the log)\n");
        return;
    }
    out->status = 200;
    out->content_type = json ? "application/json" : "text/html; charset=utf-8";
    const char *dl = hn_web_arg(req, "download");
    if (json || (dl && strcmp(dl, "0")))
        out->download = json ? "hornet_report.json" : "hornet_report.html";
}

static void csv(const struct hn_webui_view *v, const char *p, struct hn_web_reply *out)
{
    FILE *f = open_memstream(&out->body, &out->len);
    if (!f) {
        reply_text(out, 500, "text/plain", "out of memory\n");
        return;
    }
    if (!strcmp(p, "/stats/requests/csv")) {
        hn_csv_stats_table(f, v->stats, v->duration_s);
        out->download = "requests.csv";
    } else if (!strcmp(p, "/stats/failures/csv")) {
        hn_csv_failures_table(f, v->stats);
        out->download = "failures.csv";
    } else {
        hn_csv_exceptions_table(f, v->exc, v->n_exc);
        out->download = "exceptions.csv";
    }
    fclose(f);
    out->status = 200;
    out->content_type = "text/csv";
}

static void exceptions(const struct hn_webui_view *v, struct hn_web_reply *out)
{
    struct hn_json *root = hn_json_object(), *list = hn_json_array();
    for (size_t i = 0; i < v->n_exc; i++) {
        struct hn_json *e = hn_json_object();
        hn_json_set(e, "count", hn_json_integer((long long)v->exc[i].count));
        hn_json_set(e, "msg", str(v->exc[i].msg));
        hn_json_set(e, "traceback", str(v->exc[i].traceback));
        hn_json_set(e, "nodes", str(v->exc[i].nodes));
        hn_json_append(list, e);
    }
    hn_json_set(root, "exceptions", list);
    reply_json(out, 200, root);
}

static void serve_static(struct hn_web_reply *out, const char *body, const char *type)
{
    out->status = 200;
    out->content_type = type;
    out->static_body = body;
    out->len = strlen(body);
}

void hn_webui_handle(void *ctx, const struct hn_web_req *req, struct hn_web_reply *out)
{
    struct hn_webui *u = ctx;
    const char *p = req->path;
    int get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    int post = !strcmp(req->method, "POST");
    struct hn_webui_view v;
    memset(&v, 0, sizeof v);
    u->ops.view(u->ops.ctx, &v);
    if (get && !strcmp(p, "/")) {
        serve_static(out, hn_ui_html, "text/html; charset=utf-8");
    } else if (get && !strcmp(p, "/static/dygraph.min.js")) {
        serve_static(out, hn_dygraph_js, "text/javascript");
    } else if (get && !strcmp(p, "/static/dygraph.min.css")) {
        serve_static(out, hn_dygraph_css, "text/css");
    } else if (get && !strcmp(p, "/events")) {
        /* Server-Sent Events: everything so far, then one event per tick */
        char *text = snapshot(u, &v, 1);
        size_t len = text ? strlen(text) : 0;
        out->body = hn_malloc(len + 9);
        memcpy(out->body, "data: ", 6);
        if (text)
            memcpy(out->body + 6, text, len);
        memcpy(out->body + 6 + len, "\n\n", 3);
        out->len = len + 8;
        free(text);
        out->status = 200;
        out->content_type = "text/event-stream";
        out->stream = 1;
    } else if (get && !strcmp(p, "/metrics")) {
        metrics(&v, out);
    } else if (get && !strcmp(p, "/stats/requests")) {
        reply_json(out, 200, locust_stats(&v));
    } else if (get && (!strcmp(p, "/stats/requests/csv") || !strcmp(p, "/stats/failures/csv") ||
                       !strcmp(p, "/exceptions/csv"))) {
        csv(&v, p, out);
    } else if (get && !strcmp(p, "/exceptions")) {
        exceptions(&v, out);
    } else if (get && (!strcmp(p, "/stats/report") || !strcmp(p, "/stats/report.json"))) {
        report(u, req, out);
    } else if (get && !strncmp(p, "/history/", 9)) {
        history(&v, req, out);
    } else if (get && !strcmp(p, "/stop")) {
        u->ops.stop(u->ops.ctx);
        reply_result(out, NULL, "Test stopped", NULL);
    } else if (get && !strcmp(p, "/stats/reset")) {
        u->ops.reset(u->ops.ctx);
        reply_text(out, 200, "text/plain", "ok");
    } else if (post && !strcmp(p, "/swarm")) {
        swarm(u, &v, req, out);
    } else {
        reply_text(out, 404, "text/plain",
                   "hornet serves its web UI (/), /metrics and Locust's web API "
                   "(/stats/requests, /swarm, /stop, /stats/reset, /stats/requests/csv, "
                   "/stats/failures/csv, /exceptions, /exceptions/csv, /stats/report)\n");
    }
}
