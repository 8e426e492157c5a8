/* The messages between master and workers, encoded with msgpack-c. Modelled on Locust's
 * runners.py: every message is [type, node_id, {fields}]. See proto/PROTOCOL.md.
 *
 * The decoder treats its input as hostile: it first walks the raw bytes and refuses any container
 * whose element count exceeds the bytes left, any nesting deeper than 32 and any trailing bytes
 * (so msgpack-c never allocates what a forged header asks for), then checks every field's type
 * and size. Not thread-safe (no shared state; use one hn_msg per call). */
#ifndef HN_CODEC_H
#define HN_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/scenario.h"
#include "common/stats.h"

#define HN_PROTOCOL_VERSION 1
#define HN_MSG_MAX_BYTES (16u << 20) /* also ZMQ_MAXMSGSIZE */
#define HN_NODE_ID_MAX 128
#define HN_NAME_MAX 1024      /* stats row names, class names */
#define HN_MESSAGE_MAX 4096   /* error messages */
#define HN_MAX_CLASSES 1024
#define HN_MAX_ENTRIES 100000 /* stats entries per report */

enum hn_msg_type {
    HN_MSG_CLIENT_READY = 1,
    HN_MSG_ACK,
    HN_MSG_SPAWN,
    HN_MSG_SPAWNING_COMPLETE,
    HN_MSG_STATS,
    HN_MSG_HEARTBEAT,
    HN_MSG_STOP,
    HN_MSG_CLIENT_STOPPED,
    HN_MSG_QUIT,
    HN_MSG_EXCEPTION,
};

struct hn_class_count {
    char *name;
    uint64_t count;
};

/* One message. Field use depends on type (see PROTOCOL.md). For encoding, the caller fills the
 * fields with pointers it owns; after hn_msg_decode the message owns them and hn_msg_fini frees
 * them. */
struct hn_msg {
    enum hn_msg_type type;
    char node_id[HN_NODE_ID_MAX];
    uint64_t seq;              /* spawn, spawning_complete, stats */
    uint64_t protocol_version; /* client_ready */
    const char *version;       /* client_ready: hornet version string */
    int64_t index;             /* ack: worker index */
    const char *error;         /* ack: refusal; exception: message; quit: reason */
    const char *run;           /* ack: the master's run (a worker's unsent delta stays in it) */
    const char *previous;      /* client_ready: the node id this worker had before it relinked */
    uint64_t acked;            /* heartbeat from the master: the last stats seq it merged from
                                  this worker; ack: the same for `previous` (0: none) */
    const char *traceback;     /* exception: where */
    /* spawn */
    const char *host;
    const char *scenario_name;
    const char *scenario;
    size_t scenario_len;
    struct hn_class_count *classes; /* spawn: targets; spawning_complete/heartbeat: running */
    size_t n_classes;
    double spawn_rate;
    int64_t stats_interval_ms;
    int64_t request_timeout_ms;
    int64_t connect_timeout_ms;
    int64_t heartbeat_timeout_ms;
    int64_t stop_timeout_ms;
    uint64_t user_id_base; /* this worker's users get {{user_id}} from here up */
    double arrival_rate;   /* open model: this worker's iterations per second (0: closed) */
    uint64_t iterations;   /* spawn: task iterations this worker may start in all, counted
                              since it loaded the scenario (-i; 0: no cap) */
    const char *http_engine; /* spawn: --http-engine (auto, curl, native); optional, NULL: auto */
    const char *tags;      /* --tags / --exclude-tags, comma-separated, "" = none */
    const char *exclude_tags;
    struct hn_kv *tls;     /* spawn: the TLS settings in force (insecure, ca_file, client_cert,
                              client_key; files named as in `files`); optional */
    size_t n_tls;
    struct hn_kv *env;     /* environment values the scenario used */
    size_t n_env;
    struct hn_kv *files;   /* data files the scenario read */
    size_t n_files;
    /* spawning_complete, stats, heartbeat */
    uint64_t user_count;
    const char *state; /* heartbeat: worker state */
    double cpu_percent;
    uint64_t rss_bytes;
    const struct hn_stats *stats; /* stats: the delta */
    /* decode-owned storage */
    int owned;
};

void hn_msg_init(struct hn_msg *m, enum hn_msg_type type, const char *node_id);
/* Frees what hn_msg_decode allocated; a no-op on messages built for encoding. */
void hn_msg_fini(struct hn_msg *m);
const char *hn_msg_type_name(enum hn_msg_type type);

/* Encodes into a malloc'd buffer the caller frees. */
int hn_msg_encode(const struct hn_msg *m, char **buf, size_t *len);
/* Decodes; on failure returns HN_EINVAL and a one-line reason in err. */
int hn_msg_decode(const void *buf, size_t len, struct hn_msg *m, char *err, size_t errlen);

/* The structural pre-check alone (exposed for tests and the fuzz target). */
int hn_msgpack_prescan(const uint8_t *p, size_t len);

#endif
