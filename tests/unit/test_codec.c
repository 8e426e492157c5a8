/* Codec: every message round-trips; hostile bytes are refused without large allocations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <msgpack.h>

#include "common/util.h"
#include "proto/codec.h"

static void round_trip(const struct hn_msg *in, struct hn_msg *out)
{
    char *buf;
    size_t len;
    assert_int_equal(hn_msg_encode(in, &buf, &len), 0);
    char err[256] = "";
    int rc = hn_msg_decode(buf, len, out, err, sizeof err);
    if (rc)
        fprintf(stderr, "decode failed: %s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(out->type, in->type);
    assert_string_equal(out->node_id, in->node_id);
    free(buf);
}

static void test_simple_messages(void **state)
{
    (void)state;
    struct hn_msg m, d;
    hn_msg_init(&m, HN_MSG_CLIENT_READY, "host_1_abc");
    m.protocol_version = HN_PROTOCOL_VERSION;
    m.version = "0.1.0";
    round_trip(&m, &d);
    assert_int_equal(d.protocol_version, HN_PROTOCOL_VERSION);
    assert_string_equal(d.version, "0.1.0");
    hn_msg_fini(&d);

    hn_msg_init(&m, HN_MSG_ACK, "master");
    m.index = 7;
    m.error = "";
    round_trip(&m, &d);
    assert_int_equal(d.index, 7);
    assert_string_equal(d.error, "");
    hn_msg_fini(&d);

    hn_msg_init(&m, HN_MSG_HEARTBEAT, "w");
    m.state = "running";
    m.cpu_percent = 42.5;
    m.rss_bytes = 123456;
    m.user_count = 9;
    round_trip(&m, &d);
    assert_string_equal(d.state, "running");
    assert_true(d.cpu_percent == 42.5);
    assert_int_equal(d.rss_bytes, 123456);
    assert_int_equal(d.user_count, 9);
    hn_msg_fini(&d);

    enum hn_msg_type empties[] = {HN_MSG_STOP, HN_MSG_CLIENT_STOPPED};
    for (size_t i = 0; i < 2; i++) {
        hn_msg_init(&m, empties[i], "w");
        round_trip(&m, &d);
        hn_msg_fini(&d);
    }
    hn_msg_init(&m, HN_MSG_QUIT, "master");
    m.error = "the run is over";
    round_trip(&m, &d);
    assert_string_equal(d.error, "the run is over");
    hn_msg_fini(&d);

    hn_msg_init(&m, HN_MSG_EXCEPTION, "w");
    m.error = "boom";
    m.traceback = "worker.c:1";
    round_trip(&m, &d);
    assert_string_equal(d.error, "boom");
    assert_string_equal(d.traceback, "worker.c:1");
    hn_msg_fini(&d);
}

static void test_spawn_and_complete(void **state)
{
    (void)state;
    struct hn_class_count cc[2] = {{"NormalUser", 15}, {"HighLoadUser", 5}};
    const char *yaml = "host: http://x\nusers: []\n";
    struct hn_msg m, d;
    hn_msg_init(&m, HN_MSG_SPAWN, "master");
    m.seq = 3;
    m.host = "http://127.0.0.1:8000";
    m.scenario_name = "scenarios/aiaas.yaml";
    m.scenario = yaml;
    m.scenario_len = strlen(yaml);
    m.classes = cc;
    m.n_classes = 2;
    m.spawn_rate = 2.5;
    m.stats_interval_ms = 1000;
    m.request_timeout_ms = 60000;
    m.connect_timeout_ms = 10000;
    m.heartbeat_timeout_ms = 10000;
    m.user_count = 40;
    round_trip(&m, &d);
    assert_int_equal(d.seq, 3);
    assert_string_equal(d.host, m.host);
    assert_string_equal(d.scenario_name, m.scenario_name);
    assert_int_equal(d.scenario_len, strlen(yaml));
    assert_memory_equal(d.scenario, yaml, d.scenario_len);
    assert_int_equal(d.n_classes, 2);
    assert_string_equal(d.classes[1].name, "HighLoadUser");
    assert_int_equal(d.classes[1].count, 5);
    assert_true(d.spawn_rate == 2.5);
    assert_int_equal(d.user_count, 40);
    hn_msg_fini(&d);

    hn_msg_init(&m, HN_MSG_SPAWNING_COMPLETE, "w");
    m.seq = 3;
    m.user_count = 20;
    m.classes = cc;
    m.n_classes = 2;
    round_trip(&m, &d);
    assert_int_equal(d.user_count, 20);
    assert_int_equal(d.classes[0].count, 15);
    hn_msg_fini(&d);
}

static void build_stats(struct hn_stats *s)
{
    hn_stats_init(s);
    struct hn_stats_entry *e = hn_stats_entry(s, "GET", "/healthz");
    for (uint64_t i = 1; i <= 1000; i++)
        hn_stats_record(e, i * 37, 15, 1700000000 + (int64_t)(i % 3), i % 10 == 0);
    hn_stats_entry(s, "POST", "/never-used"); /* empty entries are not sent */
    struct hn_stats_entry *ws = hn_stats_entry(s, "WS", "session /ws/chat");
    ws->msgs_sent = 3; /* message counters alone are worth a report */
    ws->msgs_received = 5;
    ws->bytes_sent = 30;
    ws->bytes_received = 500;
    hn_stats_error_add(s, "GET", "/healthz", "HTTP 500", 100);
}

static void test_stats_round_trip(void **state)
{
    (void)state;
    struct hn_stats s;
    build_stats(&s);
    struct hn_msg m, d;
    hn_msg_init(&m, HN_MSG_STATS, "w");
    m.seq = 12;
    m.user_count = 10;
    m.stats = &s;
    s.conns_opened = 7;
    s.conns_reused = 993;
    round_trip(&m, &d);
    assert_int_equal(d.seq, 12);
    assert_int_equal(d.stats->conns_opened, 7);
    assert_int_equal(d.stats->conns_reused, 993);
    assert_int_equal(d.stats->n_entries, 2);
    const struct hn_stats_entry *w = hn_stats_find(d.stats, "WS", "session /ws/chat");
    assert_non_null(w);
    assert_int_equal(w->n_requests, 0);
    assert_int_equal(w->msgs_sent, 3);
    assert_int_equal(w->msgs_received, 5);
    assert_int_equal(w->bytes_sent, 30);
    assert_int_equal(w->bytes_received, 500);
    const struct hn_stats_entry *a = s.entries[0], *b = d.stats->entries[0];
    assert_string_equal(b->name, "/healthz");
    assert_int_equal(b->n_requests, a->n_requests);
    assert_int_equal(b->n_failures, a->n_failures);
    assert_int_equal(b->content_bytes, a->content_bytes);
    assert_int_equal(b->hist.sum_us, a->hist.sum_us);
    assert_int_equal(b->hist.min_us, a->hist.min_us);
    assert_int_equal(b->hist.max_us, a->hist.max_us);
    for (double q = 0; q <= 1.0; q += 0.01)
        assert_int_equal(hn_hist_percentile(&b->hist, q), hn_hist_percentile(&a->hist, q));
    for (int64_t t = 1700000000; t < 1700000003; t++) {
        assert_int_equal(hn_persec_get(&b->reqs_per_s, t), hn_persec_get(&a->reqs_per_s, t));
        assert_int_equal(hn_persec_get(&b->fails_per_s, t), hn_persec_get(&a->fails_per_s, t));
    }
    assert_int_equal(d.stats->n_errors, 1);
    assert_int_equal(d.stats->errors[0]->occurrences, 100);
    hn_msg_fini(&d);
    hn_stats_fini(&s);
}

static int decode_bytes(const void *p, size_t n)
{
    struct hn_msg d;
    char err[256];
    int rc = hn_msg_decode(p, n, &d, err, sizeof err);
    if (rc == 0)
        hn_msg_fini(&d);
    return rc;
}

static void test_forged_counts_are_refused(void **state)
{
    (void)state;
    /* array32 claiming 4 billion elements in 5 bytes: msgpack-c would allocate ~100 GB */
    const uint8_t arr[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    assert_int_not_equal(hn_msgpack_prescan(arr, sizeof arr), 0);
    assert_int_not_equal(decode_bytes(arr, sizeof arr), 0);
    const uint8_t map[] = {0xdf, 0x7f, 0xff, 0xff, 0xff, 0x01, 0x02};
    assert_int_not_equal(hn_msgpack_prescan(map, sizeof map), 0);
    const uint8_t str[] = {0xdb, 0xff, 0xff, 0xff, 0xf0, 'a'};
    assert_int_not_equal(hn_msgpack_prescan(str, sizeof str), 0);
    const uint8_t never[] = {0xc1};
    assert_int_not_equal(hn_msgpack_prescan(never, 1), 0);
    const uint8_t trailing[] = {0x01, 0x02};
    assert_int_not_equal(hn_msgpack_prescan(trailing, 2), 0);
    assert_int_not_equal(hn_msgpack_prescan(NULL, 0), 0);
    /* nesting bomb: 1000 nested one-element arrays */
    uint8_t deep[1001];
    memset(deep, 0x91, 1000);
    deep[1000] = 0x00;
    assert_int_not_equal(hn_msgpack_prescan(deep, sizeof deep), 0);
    /* a valid small value passes */
    const uint8_t ok[] = {0x92, 0x01, 0xa1, 'x'};
    assert_int_equal(hn_msgpack_prescan(ok, sizeof ok), 0);
}

static void pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

/* A stats message with one entry of `requests` and `failures`, otherwise well formed: 15
 * fields (type, name, 6 counts, histogram, 2 per-second lists, 4 message counters) and a
 * histogram holding exactly `requests` samples. */
static void pack_stats_entry(msgpack_sbuffer *sb, uint64_t requests, uint64_t failures)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    pack_str(&pk, "stats");
    pack_str(&pk, "w");
    msgpack_pack_map(&pk, 4);
    pack_str(&pk, "seq");
    msgpack_pack_uint64(&pk, 1);
    pack_str(&pk, "user_count");
    msgpack_pack_uint64(&pk, 1);
    pack_str(&pk, "entries");
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 15);
    pack_str(&pk, "GET");
    pack_str(&pk, "/x");
    msgpack_pack_uint64(&pk, requests);
    msgpack_pack_uint64(&pk, failures);
    msgpack_pack_uint64(&pk, 10 * requests); /* sum */
    msgpack_pack_uint64(&pk, 10);            /* min */
    msgpack_pack_uint64(&pk, 10);            /* max */
    msgpack_pack_uint64(&pk, 0);             /* content bytes */
    msgpack_pack_array(&pk, 2);              /* histogram: all samples at 10 us */
    msgpack_pack_uint32(&pk, hn_hist_index(10));
    msgpack_pack_uint64(&pk, requests);
    msgpack_pack_array(&pk, 0); /* requests per second */
    msgpack_pack_array(&pk, 0); /* failures per second */
    for (int i = 0; i < 4; i++)
        msgpack_pack_uint64(&pk, 0); /* message counters */
    pack_str(&pk, "errors");
    msgpack_pack_array(&pk, 0);
}

static void test_semantic_checks(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    struct hn_msg d;
    char err[256];
    /* the control: the same entry with failures <= requests decodes */
    msgpack_sbuffer_init(&sb);
    pack_stats_entry(&sb, 5, 5);
    assert_int_equal(hn_msg_decode(sb.data, sb.size, &d, err, sizeof err), 0);
    assert_int_equal(d.stats->entries[0]->n_failures, 5);
    hn_msg_fini(&d);
    msgpack_sbuffer_destroy(&sb);
    /* failures exceed requests: refused by that rule, and the reason says so */
    msgpack_sbuffer_init(&sb);
    pack_stats_entry(&sb, 1, 5);
    assert_int_not_equal(hn_msg_decode(sb.data, sb.size, &d, err, sizeof err), 0);
    assert_string_equal(err, "bad stats message: stats entry 'GET /x': failures (5) exceed requests (1)");
    msgpack_sbuffer_destroy(&sb);

    /* unknown type, wrong shapes */
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    pack_str(&pk, "launch_missiles");
    pack_str(&pk, "w");
    msgpack_pack_map(&pk, 0);
    assert_int_not_equal(hn_msg_decode(sb.data, sb.size, &d, err, sizeof err), 0);
    assert_non_null(strstr(err, "unknown message type"));
    msgpack_sbuffer_destroy(&sb);

    /* missing field */
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    pack_str(&pk, "ack");
    pack_str(&pk, "master");
    msgpack_pack_map(&pk, 0);
    assert_int_not_equal(hn_msg_decode(sb.data, sb.size, &d, err, sizeof err), 0);
    assert_non_null(strstr(err, "index"));
    msgpack_sbuffer_destroy(&sb);
}

static void test_mutations_never_crash(void **state)
{
    (void)state;
    struct hn_stats s;
    build_stats(&s);
    struct hn_msg m;
    hn_msg_init(&m, HN_MSG_STATS, "w");
    m.seq = 1;
    m.stats = &s;
    char *buf;
    size_t len;
    assert_int_equal(hn_msg_encode(&m, &buf, &len), 0);
    struct hn_rng rng;
    hn_rng_seed(&rng, 7);
    uint8_t *copy = malloc(len);
    int accepted = 0;
    for (int i = 0; i < 3000; i++) {
        memcpy(copy, buf, len);
        int flips = 1 + (int)hn_rng_below(&rng, 4);
        for (int k = 0; k < flips; k++)
            copy[hn_rng_below(&rng, len)] = (uint8_t)hn_rng_next(&rng);
        size_t cut = hn_rng_below(&rng, 4) == 0 ? hn_rng_below(&rng, len) : len;
        accepted += decode_bytes(copy, cut) == 0;
    }
    /* most random corruptions must be caught; the point is no crash and no leak (ASan) */
    assert_true(accepted < 3000);
    free(copy);
    free(buf);
    hn_stats_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_messages),
        cmocka_unit_test(test_spawn_and_complete),
        cmocka_unit_test(test_stats_round_trip),
        cmocka_unit_test(test_forged_counts_are_refused),
        cmocka_unit_test(test_semantic_checks),
        cmocka_unit_test(test_mutations_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
