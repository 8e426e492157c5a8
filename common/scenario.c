#include "common/scenario.h"

#include <stdlib.h>
#include <string.h>

static void http_step_fini(struct hn_http_step *h)
{
    free(h->method);
    free(h->url);
    free(h->name);
    for (size_t i = 0; i < h->n_headers; i++) {
        free(h->headers[i].key);
        free(h->headers[i].value);
    }
    free(h->headers);
    free(h->body);
    free(h->content_type);
}

void hn_scenario_destroy(struct hn_scenario **sp)
{
    struct hn_scenario *s = sp ? *sp : NULL;
    if (!s)
        return;
    for (size_t c = 0; c < s->n_classes; c++) {
        struct hn_user_class *uc = &s->classes[c];
        for (size_t t = 0; t < uc->n_tasks; t++) {
            struct hn_task *task = &uc->tasks[t];
            for (size_t k = 0; k < task->n_steps; k++)
                http_step_fini(&task->steps[k].http);
            free(task->steps);
            free(task->name);
        }
        free(uc->tasks);
        free(uc->cum_weight);
        free(uc->name);
    }
    free(s->classes);
    free(s->path);
    free(s->host);
    free(s->text);
    free(s);
    *sp = NULL;
}

size_t hn_scenario_pick_task(const struct hn_user_class *c, struct hn_rng *rng)
{
    if (c->n_tasks == 1)
        return 0;
    uint64_t r = hn_rng_below(rng, c->cum_weight[c->n_tasks - 1]);
    /* binary search for the first cumulative weight above r */
    size_t lo = 0, hi = c->n_tasks - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->cum_weight[mid] > r)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

uint64_t hn_scenario_wait_ms(const struct hn_wait *w, struct hn_rng *rng)
{
    double s = w->min_s;
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
