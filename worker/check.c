#include "worker/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

static void status_list(const struct hn_check *k, char *buf, size_t n)
{
    size_t off = 0;
    for (size_t i = 0; i < k->n_statuses && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%d", i ? ", " : "", k->statuses[i]);
}

enum hn_verdict hn_check_response(const struct hn_http_step *step,
                                  const struct hn_http_result *res, char **captures, char *msg,
                                  size_t msglen)
{
    const struct hn_check *k = &step->check;
    if (res->status == 0) { /* no response at all: the transport's message stands */
        snprintf(msg, msglen, "%s", res->error);
        return step->n_captures ? HN_FAIL_STOP_TASK : HN_FAIL;
    }
    if (k->n_statuses) {
        int ok = 0;
        for (size_t i = 0; i < k->n_statuses; i++)
            ok |= k->statuses[i] == res->status;
        if (!ok) {
            char list[128];
            status_list(k, list, sizeof list);
            snprintf(msg, msglen, "status %ld not in [%s]", res->status, list);
            return step->n_captures ? HN_FAIL_STOP_TASK : HN_FAIL;
        }
    } else if (res->failed) {
        snprintf(msg, msglen, "%s", res->error);
        return step->n_captures ? HN_FAIL_STOP_TASK : HN_FAIL;
    }
    const char *body = res->body ? res->body : "";
    if (k->body_contains && !memmem(body, res->body_len, k->body_contains,
                                    strlen(k->body_contains))) {
        snprintf(msg, msglen, "body does not contain '%s'", k->body_contains);
        return step->n_captures ? HN_FAIL_STOP_TASK : HN_FAIL;
    }
    int need_json = k->n_json > 0;
    for (size_t i = 0; i < step->n_captures; i++)
        need_json |= step->captures[i].kind == HN_CAPTURE_JSON;
    struct hn_json *doc = need_json ? hn_json_parse(body, res->body_len) : NULL;
    enum hn_verdict v = HN_PASS;
    char text[HN_CAPTURE_MAX_BYTES];
    for (size_t i = 0; i < k->n_json && v == HN_PASS; i++) {
        const struct hn_json_check *jc = &k->json[i];
        const struct hn_json *got = doc ? hn_json_path_get(doc, jc->path) : NULL;
        if (!doc && jc->expect != HN_JSON_MISSING) {
            snprintf(msg, msglen, "%s: response is not JSON", jc->path);
            v = HN_FAIL;
        } else if (jc->expect == HN_JSON_EXISTS && !got) {
            snprintf(msg, msglen, "%s missing", jc->path);
            v = HN_FAIL;
        } else if (jc->expect == HN_JSON_MISSING && got) {
            snprintf(msg, msglen, "%s present, expected missing", jc->path);
            v = HN_FAIL;
        } else if (jc->expect == HN_JSON_EQUALS) {
            if (!got) {
                snprintf(msg, msglen, "%s missing", jc->path);
                v = HN_FAIL;
            } else if (hn_json_text(got, text, sizeof text), strcmp(text, jc->value)) {
                /* the expected value only: the received one would make every row unique */
                snprintf(msg, msglen, "%s is not '%s'", jc->path, jc->value);
                v = HN_FAIL;
            }
        }
    }
    if (v != HN_PASS && step->n_captures)
        v = HN_FAIL_STOP_TASK;
    for (size_t i = 0; i < step->n_captures && v == HN_PASS; i++) {
        const struct hn_capture *c = &step->captures[i];
        const char *val = NULL;
        if (c->kind == HN_CAPTURE_JSON) {
            const struct hn_json *got = doc ? hn_json_path_get(doc, c->expr) : NULL;
            if (got) {
                hn_json_text(got, text, sizeof text);
                val = text;
            }
        } else {
            val = hn_http_result_header(res, c->expr, text, sizeof text);
        }
        if (!val) {
            snprintf(msg, msglen, "capture %s: %s%s missing", c->name,
                     c->kind == HN_CAPTURE_HEADER ? "header " : "", c->expr);
            v = HN_FAIL_STOP_TASK;
            break;
        }
        free(captures[c->slot]);
        captures[c->slot] = hn_strdup(val);
    }
    if (doc)
        hn_json_free(doc);
    return v;
}
