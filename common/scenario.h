/* The scenario model: user classes with a weight and a wait time, each with weighted tasks made of
 * steps. Loaded once (scenario_load.c, from YAML) and then read-only; workers receive the YAML
 * text from the master and load it the same way, so every process runs the same model.
 *
 * Pure data and pure helpers (task pick, wait time): no I/O, no clock. */
#ifndef HN_SCENARIO_H
#define HN_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define HN_SCENARIO_MAX_BYTES (4u << 20)

struct hn_kv {
    char *key;
    char *value;
};

struct hn_http_step {
    char *method;       /* upper case: GET, POST, ... */
    char *url;          /* as written: "/path" (relative to host) or absolute http(s):// */
    char *name;         /* stats row name; defaults to the URL without its query */
    struct hn_kv *headers;
    size_t n_headers;
    char *body;         /* NULL when the request has no body */
    size_t body_len;
    char *content_type; /* set for json: bodies, unless a Content-Type header is given */
    int64_t timeout_ms; /* 0 = the run's default */
};

enum hn_step_kind { HN_STEP_HTTP = 1 };

struct hn_step {
    enum hn_step_kind kind;
    int line; /* 1-based line in the scenario file, for messages */
    struct hn_http_step http;
};

struct hn_task {
    char *name;
    uint32_t weight;
    struct hn_step *steps;
    size_t n_steps;
};

enum hn_wait_kind { HN_WAIT_CONSTANT = 1, HN_WAIT_BETWEEN };

struct hn_wait {
    enum hn_wait_kind kind;
    double min_s;
    double max_s; /* == min_s for constant */
};

struct hn_user_class {
    char *name;
    uint32_t weight;
    struct hn_wait wait;
    struct hn_task *tasks;
    size_t n_tasks;
    uint64_t *cum_weight; /* cum_weight[i] = sum of weights of tasks 0..i */
};

struct hn_scenario {
    char *path; /* file name used in messages */
    char *host; /* NULL when the file has none */
    struct hn_user_class *classes;
    size_t n_classes;
    char *text; /* the YAML source, sent to workers */
    size_t text_len;
};

void hn_scenario_destroy(struct hn_scenario **sp);

/* Weighted random task of a class. */
size_t hn_scenario_pick_task(const struct hn_user_class *c, struct hn_rng *rng);
/* Milliseconds to wait after a task. */
uint64_t hn_scenario_wait_ms(const struct hn_wait *w, struct hn_rng *rng);
/* Index of the class with this name, or -1. */
int hn_scenario_find_class(const struct hn_scenario *s, const char *name);

/* scenario_load.c: parse YAML. On error returns HN_EINVAL (or HN_EIO for an unreadable file) and
 * writes one line "FILE:LINE:COL: field: problem" into err. The caller owns *out. */
int hn_scenario_load_file(const char *path, struct hn_scenario **out, char *err, size_t errlen);
int hn_scenario_load_buffer(const char *name, const char *text, size_t len,
                            struct hn_scenario **out, char *err, size_t errlen);

#endif
