/* The scenario model: user classes with a weight (or a fixed count), a wait time and tags, each
 * with on_start / on_stop steps and weighted (or sequential) tasks made of steps. Strings that
 * go on the wire are compiled templates (common/template.h). Loaded once (scenario_load.c, from
 * YAML) and then read-only; workers receive the YAML text, the data files and the environment
 * values the master used, and load the same model.
 *
 * Pure data and pure helpers (task pick, wait time, tag filter): no I/O, no clock. */
#ifndef HN_SCENARIO_H
#define HN_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "common/stages.h"
#include "common/template.h"
#include "common/threshold.h"
#include "common/util.h"

#define HN_SCENARIO_MAX_BYTES (4u << 20)
#define HN_DATA_MAX_BYTES (8u << 20)
#define HN_BODY_CAP_DEFAULT (1u << 20)
#define HN_CAPTURE_MAX_BYTES 4096

struct hn_kv {
    char *key;
    char *value;
};

struct hn_header {
    char *name;
    struct hn_tpl *value;
};

enum hn_json_expect { HN_JSON_EXISTS = 1, HN_JSON_MISSING, HN_JSON_EQUALS };

struct hn_json_check {
    char *path;
    enum hn_json_expect expect;
    char *value; /* for HN_JSON_EQUALS: the expected scalar as text */
};

struct hn_check {
    int *statuses; /* NULL = any status below 400 passes */
    size_t n_statuses;
    char *body_contains;
    struct hn_json_check *json;
    size_t n_json;
};

enum hn_capture_kind { HN_CAPTURE_JSON = 1, HN_CAPTURE_HEADER };

struct hn_capture {
    char *name;
    uint32_t slot; /* index into the user's captured values */
    enum hn_capture_kind kind;
    char *expr;    /* JSONPath or header name */
};

struct hn_http_step {
    char *method;          /* upper case: GET, POST, ... */
    struct hn_tpl *url;    /* path or absolute URL, with query: appended */
    char *name;            /* stats row name; defaults to the URL without its query */
    struct hn_header *headers;
    size_t n_headers;
    struct hn_tpl *body;   /* NULL when the request has no body */
    char *content_type;    /* json: and form: bodies, unless a Content-Type header is given */
    int64_t timeout_ms;    /* 0 = the run's default */
    struct hn_check check;
    struct hn_capture *captures;
    size_t n_captures;
    int needs_body;        /* a check or capture reads the body */
    int is_dynamic;        /* some part is a non-static template */
    int no_cookies;        /* cookies: false: neither send nor keep the user's cookies */
    int no_redirects;      /* follow_redirects: false: a 3xx is the response */
    int insecure;          /* insecure: true: do not verify the server's certificate */
    int engine;            /* engine: 0 auto (the run's --http-engine), 1 curl, 2 native */
};

enum hn_ws_action { HN_WS_SEND = 1, HN_WS_SEND_BINARY, HN_WS_EXPECT, HN_WS_HOLD };

/* One action inside a ws: step. */
struct hn_ws_sub {
    enum hn_ws_action action;
    struct hn_tpl *payload; /* send */
    int64_t ms;             /* expect: timeout; hold: duration */
    /* expect: a message matches when every given condition holds (any: true = the next one) */
    char *contains;
    struct hn_json_check *json;
    size_t n_json;
    struct hn_capture *captures; /* from the matching message (JSON) */
    size_t n_captures;
    char *desc;             /* "matching {"$.type": agent_response}", for messages */
};

struct hn_ws_step {
    struct hn_tpl *url;     /* /path (host's scheme becomes ws/wss) or ws:// wss:// */
    char *name;             /* rows "connect NAME", "message NAME", "session NAME" */
    struct hn_header *headers;
    size_t n_headers;
    char *subprotocol;
    struct hn_ws_sub *subs;
    size_t n_subs;
    int64_t ping_interval_ms;
    size_t max_message_bytes;
    int64_t connect_timeout_ms; /* 0 = the run's --connect-timeout */
};

enum hn_step_kind { HN_STEP_HTTP = 1, HN_STEP_WS };

struct hn_step {
    enum hn_step_kind kind;
    int line; /* 1-based line in the scenario file, for messages */
    struct hn_http_step http;
    struct hn_ws_step ws;
};

struct hn_task {
    char *name;
    uint32_t weight;
    char **tags;
    size_t n_tags;
    struct hn_step *steps;
    size_t n_steps;
};

enum hn_wait_kind { HN_WAIT_CONSTANT = 1, HN_WAIT_BETWEEN, HN_WAIT_PACING };

struct hn_wait {
    enum hn_wait_kind kind;
    double min_s;
    double max_s; /* == min_s for constant; pacing: the task period (throughput N: 1/N) */
};

struct hn_user_class {
    char *name;
    uint32_t weight;      /* 0 when fixed_count is set */
    uint64_t fixed_count; /* users of this class cluster-wide, placed before weighted ones */
    int has_fixed;
    struct hn_wait wait;
    char **tags;
    size_t n_tags;
    int sequential;       /* sequence: tasks run in order instead of a weighted pick */
    struct hn_task *tasks;
    size_t n_tasks;
    uint64_t *cum_weight; /* cum_weight[i] = sum of weights of tasks 0..i */
    struct hn_task on_start; /* n_steps == 0 when absent */
    struct hn_task on_stop;
    char **capture_names; /* slot -> name */
    size_t n_captures;
};

struct hn_var {
    char *name;
    char **values;
    size_t n_values;
};

struct hn_data_source {
    char *name;
    char *file;       /* as written in the scenario */
    char **columns;
    size_t n_columns;
    char ***rows;     /* rows[r][c] */
    size_t n_rows;
    int wrap;         /* more users than rows: rows are reused (else an error) */
};

/* load: {arrival_rate: {rate: 200, per: 1s, duration: 5m, max_users: 1000}}: the open model
 * (k6's constant-arrival-rate): iterations start at rate_per_s whatever the responses do, on a
 * pool of max_users users; one that finds no free user is dropped and counted. */
struct hn_arrival_plan {
    double rate_per_s;
    int64_t duration_ms; /* 0: until -t or a stop */
    uint64_t max_users;
    struct hn_rate_stage *stages; /* load: {arrival_stages: [...], max_users}: a rate plan */
    size_t n_stages;
};

/* load: {capacity: {start, step, step_duration, max, spawn_rate}}: users step up from start by
 * step, each held step_ms, until a threshold fails or max is passed. */
struct hn_capacity_plan {
    uint64_t start, step, max; /* users, or iterations per second with rate_mode */
    int64_t step_ms;
    double spawn_rate; /* 0: each step reached within a second */
    int rate_mode;      /* mode: rate: the open model's arrival rate steps up */
    uint64_t max_users; /* rate_mode: the pool */
};

/* tls: at the top level, or the --insecure/--ca-file/--client-cert/--client-key flags. Files are
 * named as in `files` (their PEM text travels to workers with the scenario); NULL = none. */
struct hn_tls {
    int insecure;     /* skip certificate verification for every https request */
    char *ca_file;    /* trust these CA certificates instead of the system's */
    char *cert_file;  /* client certificate (PEM) */
    char *key_file;   /* its private key (PEM); default: in cert_file */
};

struct hn_scenario {
    char *path; /* file name used in messages */
    char *host; /* NULL when the file has none */
    struct hn_user_class *classes;
    size_t n_classes;
    struct hn_var *vars;
    size_t n_vars;
    struct hn_data_source *data;
    size_t n_data;
    size_t max_body_bytes;
    char *text; /* the YAML source, sent to workers */
    size_t text_len;
    struct hn_kv *env;   /* environment values the file used (sent to workers) */
    size_t n_env;
    struct hn_kv *files; /* data files the file read: name as written -> content */
    size_t n_files;
    struct hn_threshold *thresholds; /* thresholds: {ROW: [EXPR, ...]}, in file order */
    size_t n_thresholds;
    struct hn_stage *stages;         /* load: {stages: [...]} */
    size_t n_stages;
    struct hn_capacity_plan capacity; /* load: {capacity: {...}}; step 0 = none */
    struct hn_arrival_plan arrival;   /* load: {arrival_rate: {...}}; rate 0 = none */
    struct hn_tls tls;
};

void hn_scenario_destroy(struct hn_scenario **sp);

/* Weighted random task of a class. */
size_t hn_scenario_pick_task(const struct hn_user_class *c, struct hn_rng *rng);
/* Milliseconds to wait after a task that took task_ms. */
uint64_t hn_scenario_wait_ms(const struct hn_wait *w, uint64_t task_ms, struct hn_rng *rng);
/* The content of a file the scenario read (data, TLS), or NULL. */
const char *hn_scenario_file(const struct hn_scenario *s, const char *name);
/* Index of the class with this name, or -1. */
int hn_scenario_find_class(const struct hn_scenario *s, const char *name);

/* --tags / --exclude-tags, Locust's rule: with tags, keep only tasks whose own or class tags
 * meet one of them; then drop tasks with an excluded tag. A class left without tasks gets
 * weight 0 and no fixed count (it is not spawned). Lists are comma-separated; NULL = none. */
void hn_scenario_filter_tags(struct hn_scenario *s, const char *tags, const char *exclude);
/* Is this class spawnable (has tasks after filtering)? */
int hn_scenario_class_active(const struct hn_user_class *c);

/* Where the loader gets environment values and data files. The master reads the real ones; a
 * worker answers from what the master sent. Return NULL when absent. */
struct hn_scenario_io {
    const char *(*getenv)(void *ctx, const char *name);
    /* returns malloc'd content and its length, or NULL with errno set */
    char *(*read_file)(void *ctx, const char *name, size_t *len);
    void *ctx;
};

/* scenario_load.c: parse YAML. On error returns HN_EINVAL (or HN_EIO for an unreadable file) and
 * writes one line "FILE:LINE:COL: field: problem" into err. io NULL = the process environment
 * and files relative to the scenario's folder. The caller owns *out. */
int hn_scenario_load_file(const char *path, const struct hn_scenario_io *io,
                          struct hn_scenario **out, char *err, size_t errlen);
int hn_scenario_load_buffer(const char *name, const char *text, size_t len,
                            const struct hn_scenario_io *io, struct hn_scenario **out, char *err,
                            size_t errlen);
/* TLS settings over the scenario's: insecure (if set), and the files named (NULL = keep the
 * scenario's). io NULL (the master's command line): paths relative to the current folder, kept
 * in s->files as "cli:PATH" so they travel to workers; otherwise (a worker applying what the
 * master sent) names are read through io. Returns 0, or HN_EINVAL with one line in err. */
int hn_scenario_set_tls(struct hn_scenario *s, const struct hn_scenario_io *io, int insecure,
                        const char *ca_file, const char *cert_file, const char *key_file,
                        char *err, size_t errlen);

#endif
