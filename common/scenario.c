#include "common/scenario.h"

#include <stdlib.h>
#include <string.h>

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void http_step_fini(struct hn_http_step *h)
{
    free(h->method);
    hn_tpl_destroy(&h->url);
    free(h->name);
    for (size_t i = 0; i < h->n_headers; i++) {
        free(h->headers[i].name);
        hn_tpl_destroy(&h->headers[i].value);
    }
    free(h->headers);
    hn_tpl_destroy(&h->body);
    free(h->content_type);
    free(h->check.statuses);
    free(h->check.body_contains);
    for (size_t i = 0; i < h->check.n_json; i++) {
        free(h->check.json[i].path);
        free(h->check.json[i].value);
    }
    free(h->check.json);
    for (size_t i = 0; i < h->n_captures; i++) {
        free(h->captures[i].name);
        free(h->captures[i].expr);
    }
    free(h->captures);
}

static void ws_step_fini(struct hn_ws_step *w)
{
    hn_tpl_destroy(&w->url);
    free(w->name);
    for (size_t i = 0; i < w->n_headers; i++) {
        free(w->headers[i].name);
        hn_tpl_destroy(&w->headers[i].value);
    }
    free(w->headers);
    free(w->subprotocol);
    for (size_t i = 0; i < w->n_subs; i++) {
        struct hn_ws_sub *u = &w->subs[i];
        hn_tpl_destroy(&u->payload);
        free(u->contains);
        for (size_t k = 0; k < u->n_json; k++) {
            free(u->json[k].path);
            free(u->json[k].value);
        }
        free(u->json);
        for (size_t k = 0; k < u->n_captures; k++) {
            free(u->captures[k].name);
            free(u->captures[k].expr);
        }
        free(u->captures);
        free(u->desc);
    }
    free(w->subs);
}

static void task_fini(struct hn_task *t)
{
    for (size_t k = 0; k < t->n_steps; k++) {
        http_step_fini(&t->steps[k].http);
        ws_step_fini(&t->steps[k].ws);
    }
    free(t->steps);
    free(t->name);
    strv_free(t->tags, t->n_tags);
}

void hn_scenario_destroy(struct hn_scenario **sp)
{
    struct hn_scenario *s = sp ? *sp : NULL;
    if (!s)
        return;
    for (size_t i = 0; i < s->n_thresholds; i++)
        hn_threshold_fini(&s->thresholds[i]);
    free(s->thresholds);
    free(s->stages);
    free(s->arrival.stages);
    for (size_t c = 0; c < s->n_classes; c++) {
        struct hn_user_class *uc = &s->classes[c];
        for (size_t t = 0; t < uc->n_tasks; t++)
            task_fini(&uc->tasks[t]);
        task_fini(&uc->on_start);
        task_fini(&uc->on_stop);
        free(uc->tasks);
        free(uc->cum_weight);
        free(uc->name);
        strv_free(uc->tags, uc->n_tags);
        strv_free(uc->capture_names, uc->n_captures);
    }
    free(s->classes);
    for (size_t i = 0; i < s->n_vars; i++) {
        free(s->vars[i].name);
        strv_free(s->vars[i].values, s->vars[i].n_values);
    }
    free(s->vars);
    for (size_t i = 0; i < s->n_data; i++) {
        struct hn_data_source *d = &s->data[i];
        free(d->name);
        free(d->file);
        strv_free(d->columns, d->n_columns);
        for (size_t r = 0; r < d->n_rows; r++)
            strv_free(d->rows[r], d->n_columns);
        free(d->rows);
    }
    free(s->data);
    for (size_t i = 0; i < s->n_env; i++) {
        free(s->env[i].key);
        free(s->env[i].value);
    }
    free(s->env);
    for (size_t i = 0; i < s->n_files; i++) {
        free(s->files[i].key);
        free(s->files[i].value);
    }
    free(s->files);
    free(s->tls.ca_file);
    free(s->tls.cert_file);
    free(s->tls.key_file);
    free(s->path);
    free(s->host);
    free(s->text);
    free(s);
    *sp = NULL;
}

const char *hn_scenario_file(const struct hn_scenario *s, const char *name)
{
    for (size_t i = 0; name && i < s->n_files; i++)
        if (!strcmp(s->files[i].key, name))
            return s->files[i].value;
    return NULL;
}

size_t hn_scenario_pick_task(const struct hn_user_class *c, struct hn_rng *rng)
{
    if (c->n_tasks == 1)
        return 0;
    uint64_t r = hn_rng_below(rng, c->cum_weight[c->n_tasks - 1]);
    size_t lo = 0, hi = c->n_tasks - 1; /* first cumulative weight above r */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->cum_weight[mid] > r)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

uint64_t hn_scenario_wait_ms(const struct hn_wait *w, uint64_t task_ms, struct hn_rng *rng)
{
    double s = w->min_s;
    if (w->kind == HN_WAIT_PACING) {
        uint64_t period = (uint64_t)(s * 1000.0 + 0.5);
        return task_ms >= period ? 0 : period - task_ms;
    }
    if (w->kind == HN_WAIT_BETWEEN && w->max_s > w->min_s)
        s += (w->max_s - w->min_s) * hn_rng_unit(rng);
    return (uint64_t)(s * 1000.0 + 0.5);
}

int hn_scenario_find_class(const struct hn_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->n_classes; i++)
        if (strcmp(s->classes[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Does a comma-separated list hold one of these tags? */
static int list_has(const char *list, char *const *tags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t tl = strlen(tags[i]);
        for (const char *p = list; *p;) {
            size_t l = strcspn(p, ", ");
            if (l == tl && !strncmp(p, tags[i], tl))
                return 1;
            p += l;
            p += strspn(p, ", ");
        }
    }
    return 0;
}

void hn_scenario_filter_tags(struct hn_scenario *s, const char *tags, const char *exclude)
{
    if ((!tags || !*tags) && (!exclude || !*exclude))
        return;
    for (size_t c = 0; c < s->n_classes; c++) {
        struct hn_user_class *uc = &s->classes[c];
        size_t keep = 0;
        uint64_t sum = 0;
        for (size_t t = 0; t < uc->n_tasks; t++) {
            struct hn_task *task = &uc->tasks[t];
            int ok = 1;
            if (tags && *tags)
                ok = list_has(tags, task->tags, task->n_tags) ||
                     list_has(tags, uc->tags, uc->n_tags);
            if (ok && exclude && *exclude)
                ok = !list_has(exclude, task->tags, task->n_tags) &&
                     !list_has(exclude, uc->tags, uc->n_tags);
            if (!ok) {
                task_fini(task);
                continue;
            }
            uc->tasks[keep] = *task;
            sum += task->weight;
            uc->cum_weight[keep] = sum;
            keep++;
        }
        uc->n_tasks = keep;
        if (!keep) {
            uc->weight = 0;
            uc->fixed_count = 0;
        }
    }
}

int hn_scenario_class_active(const struct hn_user_class *c)
{
    return c->n_tasks > 0 && (c->weight || c->fixed_count);
}
