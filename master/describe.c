#include "master/describe.h"

#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "master/dispatch.h"

void hn_describe_class_counts(const struct hn_scenario *sc, uint64_t users, uint64_t *counts)
{
    size_t nc = sc->n_classes;
    uint32_t *weights = hn_calloc(nc, sizeof *weights);
    uint64_t *fixed = hn_calloc(nc, sizeof *fixed);
    for (size_t c = 0; c < nc; c++) {
        weights[c] = sc->classes[c].weight;
        fixed[c] = sc->classes[c].fixed_count;
    }
    hn_dispatch_classes(weights, fixed, nc, users, counts);
    free(weights);
    free(fixed);
}

void hn_describe_list(FILE *f, const struct hn_scenario *sc)
{
    fprintf(f, "Available user classes:\n");
    for (size_t c = 0; c < sc->n_classes; c++)
        if (hn_scenario_class_active(&sc->classes[c]))
            fprintf(f, "    %s\n", sc->classes[c].name);
}

static double task_share(const struct hn_user_class *uc, size_t t)
{
    if (uc->sequential)
        return 1.0 / (double)uc->n_tasks;
    return (double)uc->tasks[t].weight / (double)uc->cum_weight[uc->n_tasks - 1];
}

/* Each class's share of the users: by weight, with fixed-count classes as the share of `users`
 * they take. The caller frees the array. */
static double *class_shares(const struct hn_scenario *sc, uint64_t users)
{
    uint64_t *counts = hn_calloc(sc->n_classes, sizeof *counts);
    hn_describe_class_counts(sc, users, counts);
    double wsum = 0, fixed_share = 0;
    for (size_t c = 0; c < sc->n_classes; c++) {
        wsum += sc->classes[c].weight;
        if (!sc->classes[c].weight && users)
            fixed_share += (double)counts[c] / (double)users;
    }
    double *share = hn_calloc(sc->n_classes, sizeof *share);
    for (size_t c = 0; c < sc->n_classes; c++) {
        const struct hn_user_class *uc = &sc->classes[c];
        if (!uc->weight)
            share[c] = users ? (double)counts[c] / (double)users : 0;
        else
            share[c] = (1.0 - fixed_share) * uc->weight / wsum;
    }
    free(counts);
    return share;
}

void hn_describe_ratio(FILE *f, const struct hn_scenario *sc, uint64_t users)
{
    double *share = class_shares(sc, users);
    fprintf(f, "Ratio per user class\n");
    for (size_t c = 0; c < sc->n_classes; c++) {
        const struct hn_user_class *uc = &sc->classes[c];
        if (!hn_scenario_class_active(uc))
            continue;
        fprintf(f, " %5.1f%% %s\n", 100.0 * share[c], uc->name);
        for (size_t t = 0; t < uc->n_tasks; t++)
            fprintf(f, "        %5.1f%% %s\n", 100.0 * task_share(uc, t), uc->tasks[t].name);
    }
    fprintf(f, "\nTotal task ratio\n");
    for (size_t c = 0; c < sc->n_classes; c++) {
        const struct hn_user_class *uc = &sc->classes[c];
        for (size_t t = 0; t < uc->n_tasks; t++)
            fprintf(f, " %5.1f%% %s.%s\n", 100.0 * share[c] * task_share(uc, t), uc->name,
                    uc->tasks[t].name);
    }
    free(share);
}

/* Locust's --show-task-ratio-json: {"per_class": {CLASS: {"ratio": r, "tasks": {TASK:
 * {"ratio": r}}}}, "total": the same with task ratios of all users}. */
void hn_describe_ratio_json(FILE *f, const struct hn_scenario *sc, uint64_t users)
{
    double *share = class_shares(sc, users);
    struct hn_json *root = hn_json_object();
    for (int total = 0; total < 2; total++) {
        struct hn_json *by_class = hn_json_object();
        for (size_t c = 0; c < sc->n_classes; c++) {
            const struct hn_user_class *uc = &sc->classes[c];
            if (!hn_scenario_class_active(uc))
                continue;
            struct hn_json *cj = hn_json_object(), *tasks = hn_json_object();
            hn_json_set(cj, "ratio", hn_json_real(share[c]));
            for (size_t t = 0; t < uc->n_tasks; t++) {
                struct hn_json *tj = hn_json_object();
                hn_json_set(tj, "ratio",
                            hn_json_real(task_share(uc, t) * (total ? share[c] : 1.0)));
                hn_json_set(tasks, uc->tasks[t].name, tj);
            }
            hn_json_set(cj, "tasks", tasks);
            hn_json_set(by_class, uc->name, cj);
        }
        hn_json_set(root, total ? "total" : "per_class", by_class);
    }
    char *text = hn_json_dump(root);
    fprintf(f, "%s\n", text);
    free(text);
    hn_json_free(root);
    free(share);
}

/* Which HTTP engine a step will run on (what the worker's client decides, but for a host that
 * does not resolve, which falls back to curl there). */
static const char *step_engine(const struct hn_scenario *sc, const struct hn_http_step *h,
                               const char *host, const char *forced)
{
    if (h->engine == 1 || (h->engine == 0 && forced && !strcmp(forced, "curl")))
        return "curl";
    const char *url = h->url->text;
    const char *origin = url[0] == '/' || !h->url->is_static ? host : url;
    const char *proxy = getenv("http_proxy") ? getenv("http_proxy") : getenv("HTTP_PROXY");
    int native = origin && !strncmp(origin, "http://", 7) && !sc->tls.ca_file &&
                 !sc->tls.cert_file && !sc->tls.key_file && !(proxy && *proxy);
    return native ? "native" : "curl";
}

static void describe_steps(FILE *f, const struct hn_scenario *sc, const struct hn_task *t,
                           const char *indent, const char *host, const char *engine)
{
    for (size_t k = 0; k < t->n_steps; k++) {
        if (t->steps[k].kind == HN_STEP_WS) {
            const struct hn_ws_step *w = &t->steps[k].ws;
            fprintf(f, "%sWS %s  (rows \"connect|message|session %s\", line %d)\n", indent,
                    w->url->text, w->name, t->steps[k].line);
            for (size_t i = 0; i < w->n_headers; i++)
                fprintf(f, "%s  header %s: %s\n", indent, w->headers[i].name,
                        w->headers[i].value->text);
            for (size_t i = 0; i < w->n_subs; i++) {
                const struct hn_ws_sub *u = &w->subs[i];
                if (u->action == HN_WS_SEND || u->action == HN_WS_SEND_BINARY)
                    fprintf(f, "%s  send%s %s\n", indent,
                            u->action == HN_WS_SEND_BINARY ? " binary" : "", u->payload->text);
                else if (u->action == HN_WS_EXPECT)
                    fprintf(f, "%s  expect %s within %lld ms\n", indent, u->desc,
                            (long long)u->ms);
                else
                    fprintf(f, "%s  hold %lld ms\n", indent, (long long)u->ms);
            }
            continue;
        }
        const struct hn_http_step *h = &t->steps[k].http;
        fprintf(f, "%s%s %s  (row \"%s\", line %d%s, %s engine)\n", indent, h->method,
                h->url->text, h->name, t->steps[k].line, h->is_dynamic ? ", templated" : "",
                step_engine(sc, h, host, engine));
        for (size_t i = 0; i < h->n_headers; i++)
            fprintf(f, "%s  header %s: %s\n", indent, h->headers[i].name,
                    h->headers[i].value->text);
        if (h->body)
            fprintf(f, "%s  body%s%s: %s\n", indent, h->content_type ? " " : "",
                    h->content_type ? h->content_type : "", h->body->text);
        if (h->timeout_ms)
            fprintf(f, "%s  timeout %lld ms\n", indent, (long long)h->timeout_ms);
        if (h->check.n_statuses) {
            fprintf(f, "%s  check status in [", indent);
            for (size_t i = 0; i < h->check.n_statuses; i++)
                fprintf(f, "%s%d", i ? ", " : "", h->check.statuses[i]);
            fprintf(f, "]\n");
        }
        if (h->check.body_contains)
            fprintf(f, "%s  check body contains '%s'\n", indent, h->check.body_contains);
        for (size_t i = 0; i < h->check.n_json; i++) {
            const struct hn_json_check *j = &h->check.json[i];
            fprintf(f, "%s  check %s %s%s\n", indent, j->path,
                    j->expect == HN_JSON_EXISTS ? "exists" :
                    j->expect == HN_JSON_MISSING ? "missing" : "== ",
                    j->expect == HN_JSON_EQUALS ? j->value : "");
        }
        for (size_t i = 0; i < h->n_captures; i++)
            fprintf(f, "%s  capture %s from %s %s\n", indent, h->captures[i].name,
                    h->captures[i].kind == HN_CAPTURE_JSON ? "json" : "header",
                    h->captures[i].expr);
    }
}

void hn_describe_model(FILE *f, const struct hn_scenario *sc, const char *host,
                       const char *engine)
{
    fprintf(f, "%s: ok\n", sc->path);
    fprintf(f, "host: %s\n", sc->host ? sc->host : "(none: pass -H)");
    for (size_t i = 0; i < sc->n_vars; i++)
        fprintf(f, "var %s: %zu values\n", sc->vars[i].name, sc->vars[i].n_values);
    for (size_t i = 0; i < sc->n_data; i++)
        fprintf(f, "data %s: %s, %zu rows x %zu columns%s\n", sc->data[i].name, sc->data[i].file,
                sc->data[i].n_rows, sc->data[i].n_columns, sc->data[i].wrap ? ", wraps" : "");
    for (size_t c = 0; c < sc->n_classes; c++) {
        const struct hn_user_class *uc = &sc->classes[c];
        fprintf(f, "user %s: ", uc->name);
        if (uc->has_fixed)
            fprintf(f, "fixed_count %llu", (unsigned long long)uc->fixed_count);
        else
            fprintf(f, "weight %u", uc->weight);
        const struct hn_wait *w = &uc->wait;
        if (w->kind == HN_WAIT_CONSTANT)
            fprintf(f, ", wait constant %gs", w->min_s);
        else if (w->kind == HN_WAIT_BETWEEN)
            fprintf(f, ", wait between %gs and %gs", w->min_s, w->max_s);
        else
            fprintf(f, ", pacing %gs", w->min_s);
        fprintf(f, "%s\n", uc->sequential ? ", tasks in sequence" : "");
        if (uc->on_start.n_steps) {
            fprintf(f, "  on_start:\n");
            describe_steps(f, sc, &uc->on_start, "    ", host, engine);
        }
        for (size_t t = 0; t < uc->n_tasks; t++) {
            fprintf(f, "  task %s (weight %u)", uc->tasks[t].name, uc->tasks[t].weight);
            for (size_t i = 0; i < uc->tasks[t].n_tags; i++)
                fprintf(f, "%s%s", i ? ", " : " tags ", uc->tasks[t].tags[i]);
            fprintf(f, ":\n");
            describe_steps(f, sc, &uc->tasks[t], "    ", host, engine);
        }
        if (uc->on_stop.n_steps) {
            fprintf(f, "  on_stop:\n");
            describe_steps(f, sc, &uc->on_stop, "    ", host, engine);
        }
    }
}

int hn_describe_validate_run(const struct hn_scenario *sc, uint64_t users, char *err,
                             size_t errlen)
{
    int any = 0;
    for (size_t c = 0; c < sc->n_classes; c++)
        any |= hn_scenario_class_active(&sc->classes[c]);
    if (!any) {
        snprintf(err, errlen, "%s: users: no task is left after --tags/--exclude-tags", sc->path);
        return HN_EINVAL;
    }
    for (size_t i = 0; i < sc->n_data; i++) {
        const struct hn_data_source *d = &sc->data[i];
        if (!d->wrap && d->n_rows < users) {
            snprintf(err, errlen,
                     "%s: data.%s: %s has %zu rows for %llu users; add rows, lower -u, or set "
                     "wrap: true to reuse rows",
                     sc->path, d->name, d->file, d->n_rows, (unsigned long long)users);
            return HN_EINVAL;
        }
    }
    return 0;
}

/* A step forced onto the native HTTP engine that it cannot run (not http://, or TLS settings):
 * said at once, with the step's line, instead of by every worker at its spawn. */
static int check_task_engines(const struct hn_scenario *sc, const struct hn_task *t,
                              const char *host, int forced, char *err, size_t errlen)
{
    int tls = sc->tls.ca_file || sc->tls.cert_file || sc->tls.key_file;
    for (size_t k = 0; k < t->n_steps; k++) {
        const struct hn_step *st = &t->steps[k];
        if (st->kind != HN_STEP_HTTP)
            continue;
        const struct hn_http_step *h = &st->http;
        if (h->engine != 2 && !(forced && h->engine == 0))
            continue;
        const char *url = h->url->text;
        const char *origin = url[0] == '/' || !h->url->is_static ? host : url;
        const char *why = strncmp(origin, "http://", 7) ? "not an http:// URL"
                          : tls ? "TLS settings (tls:, --ca-file, --client-cert) need curl"
                                : NULL;
        if (why) {
            snprintf(err, errlen, "%s:%d: %s %s: the native HTTP engine cannot run it: %s",
                     sc->path, st->line, h->method, h->name, why);
            return HN_EINVAL;
        }
    }
    return 0;
}

int hn_describe_check_engines(const struct hn_scenario *sc, const char *host, int native_forced,
                              char *err, size_t errlen)
{
    for (size_t c = 0; c < sc->n_classes; c++) {
        const struct hn_user_class *uc = &sc->classes[c];
        if (check_task_engines(sc, &uc->on_start, host, native_forced, err, errlen) ||
            check_task_engines(sc, &uc->on_stop, host, native_forced, err, errlen))
            return HN_EINVAL;
        for (size_t t = 0; t < uc->n_tasks; t++)
            if (check_task_engines(sc, &uc->tasks[t], host, native_forced, err, errlen))
                return HN_EINVAL;
    }
    return 0;
}
