/* libFuzzer target for the message decoder. scripts/fuzz.sh builds it with clang and runs it
 * from a seed corpus of real messages, which this file writes when HORNET_FUZZ_SEEDS names a
 * directory (one file per message type). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void seed(const char *dir, const char *name, const struct hn_msg *m)
{
    char *buf;
    size_t len;
    if (hn_msg_encode(m, &buf, &len))
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(buf, 1, len, f);
        fclose(f);
    }
    free(buf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("HORNET_FUZZ_SEEDS");
    if (!dir)
        return 0;
    struct hn_msg m;
    hn_msg_init(&m, HN_MSG_CLIENT_READY, "w");
    m.protocol_version = 1;
    m.version = "0.1.0";
    seed(dir, "client_ready", &m);
    hn_msg_init(&m, HN_MSG_ACK, "master");
    m.error = "";
    seed(dir, "ack", &m);
    struct hn_class_count cc[2] = {{"A", 3}, {"B", 1}};
    hn_msg_init(&m, HN_MSG_SPAWN, "master");
    m.host = "http://h";
    m.scenario_name = "s.yaml";
    m.scenario = "users: []";
    m.scenario_len = 9;
    m.classes = cc;
    m.n_classes = 2;
    m.spawn_rate = 1;
    m.stats_interval_ms = 1000;
    m.request_timeout_ms = m.connect_timeout_ms = m.heartbeat_timeout_ms = 10000;
    seed(dir, "spawn", &m);
    hn_msg_init(&m, HN_MSG_SPAWNING_COMPLETE, "w");
    m.classes = cc;
    m.n_classes = 2;
    seed(dir, "spawning_complete", &m);
    struct hn_stats s;
    hn_stats_init(&s);
    struct hn_stats_entry *e = hn_stats_entry(&s, "GET", "/x");
    for (uint64_t i = 1; i < 50; i++)
        hn_stats_record(e, i * 997, 10, 1700000000, i % 7 == 0);
    hn_stats_error_add(&s, "GET", "/x", "HTTP 500", 7);
    hn_msg_init(&m, HN_MSG_STATS, "w");
    m.stats = &s;
    seed(dir, "stats", &m);
    hn_stats_fini(&s);
    hn_msg_init(&m, HN_MSG_HEARTBEAT, "w");
    m.state = "running";
    seed(dir, "heartbeat", &m);
    hn_msg_init(&m, HN_MSG_EXCEPTION, "w");
    m.error = "e";
    m.traceback = "t";
    seed(dir, "exception", &m);
    hn_msg_init(&m, HN_MSG_QUIT, "w");
    m.error = "bye";
    seed(dir, "quit", &m);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hn_msg m;
    char err[256];
    if (hn_msg_decode(data, size, &m, err, sizeof err) == 0)
        hn_msg_fini(&m);
    return 0;
}
