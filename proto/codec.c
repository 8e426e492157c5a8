#include "proto/codec.h"

#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const char *const k_type_names[] = {
    [HN_MSG_CLIENT_READY] = "client_ready",
    [HN_MSG_ACK] = "ack",
    [HN_MSG_SPAWN] = "spawn",
    [HN_MSG_SPAWNING_COMPLETE] = "spawning_complete",
    [HN_MSG_STATS] = "stats",
    [HN_MSG_HEARTBEAT] = "heartbeat",
    [HN_MSG_STOP] = "stop",
    [HN_MSG_CLIENT_STOPPED] = "client_stopped",
    [HN_MSG_QUIT] = "quit",
    [HN_MSG_EXCEPTION] = "exception",
};
#define N_TYPES ((int)(sizeof k_type_names / sizeof k_type_names[0]))

const char *hn_msg_type_name(enum hn_msg_type type)
{
    return (int)type > 0 && (int)type < N_TYPES ? k_type_names[type] : "unknown";
}

void hn_msg_init(struct hn_msg *m, enum hn_msg_type type, const char *node_id)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    snprintf(m->node_id, sizeof m->node_id, "%s", node_id ? node_id : "");
}

/* ---------- encoding ---------- */

static void pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s ? s : "", n);
}

static void pack_key(msgpack_packer *pk, const char *k) { pack_str(pk, k); }

static void pack_classes(msgpack_packer *pk, const struct hn_class_count *c, size_t n)
{
    msgpack_pack_map(pk, n);
    for (size_t i = 0; i < n; i++) {
        pack_str(pk, c[i].name);
        msgpack_pack_uint64(pk, c[i].count);
    }
}

static void pack_kvs(msgpack_packer *pk, const struct hn_kv *kv, size_t n)
{
    msgpack_pack_map(pk, n);
    for (size_t i = 0; i < n; i++) {
        pack_str(pk, kv[i].key);
        msgpack_pack_str(pk, strlen(kv[i].value));
        msgpack_pack_str_body(pk, kv[i].value, strlen(kv[i].value));
    }
}

static void pack_bucket(void *ctx, uint32_t index, uint64_t count)
{
    msgpack_packer *pk = ctx;
    msgpack_pack_uint32(pk, index);
    msgpack_pack_uint64(pk, count);
}

static void pack_persec(msgpack_packer *pk, const struct hn_persec *p)
{
    size_t n = 0;
    for (unsigned i = 0; i < HN_PERSEC_SLOTS; i++)
        n += p->n[i] != 0;
    msgpack_pack_array(pk, n * 2);
    for (unsigned i = 0; i < HN_PERSEC_SLOTS; i++)
        if (p->n[i]) {
            msgpack_pack_int64(pk, p->sec[i]);
            msgpack_pack_uint64(pk, p->n[i]);
        }
}

static void pack_stats(msgpack_packer *pk, const struct hn_stats *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_entries; i++)
        n += hn_stats_entry_used(s->entries[i]);
    pack_key(pk, "entries");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < s->n_entries; i++) {
        const struct hn_stats_entry *e = s->entries[i];
        if (!hn_stats_entry_used(e))
            continue;
        int svc = e->service && e->service->count;
        msgpack_pack_array(pk, svc ? 16 : 15);
        pack_str(pk, e->type);
        pack_str(pk, e->name);
        msgpack_pack_uint64(pk, e->n_requests);
        msgpack_pack_uint64(pk, e->n_failures);
        msgpack_pack_uint64(pk, e->hist.sum_us);
        msgpack_pack_uint64(pk, e->hist.min_us);
        msgpack_pack_uint64(pk, e->hist.max_us);
        msgpack_pack_uint64(pk, e->content_bytes);
        msgpack_pack_array(pk, hn_hist_nonzero(&e->hist) * 2);
        hn_hist_foreach(&e->hist, pack_bucket, pk);
        pack_persec(pk, &e->reqs_per_s);
        pack_persec(pk, &e->fails_per_s);
        msgpack_pack_uint64(pk, e->msgs_sent);
        msgpack_pack_uint64(pk, e->msgs_received);
        msgpack_pack_uint64(pk, e->bytes_sent);
        msgpack_pack_uint64(pk, e->bytes_received);
        if (svc) { /* open model: [sum, min, max, buckets] of the uncorrected service times */
            msgpack_pack_array(pk, 4);
            msgpack_pack_uint64(pk, e->service->sum_us);
            msgpack_pack_uint64(pk, e->service->min_us);
            msgpack_pack_uint64(pk, e->service->max_us);
            msgpack_pack_array(pk, hn_hist_nonzero(e->service) * 2);
            hn_hist_foreach(e->service, pack_bucket, pk);
        }
    }
    n = 0;
    for (size_t i = 0; i < s->n_errors; i++)
        n += s->errors[i]->occurrences != 0;
    pack_key(pk, "errors");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < s->n_errors; i++) {
        const struct hn_stats_error *e = s->errors[i];
        if (!e->occurrences)
            continue;
        msgpack_pack_array(pk, 4);
        pack_str(pk, e->type);
        pack_str(pk, e->name);
        pack_str(pk, e->message);
        msgpack_pack_uint64(pk, e->occurrences);
    }
}

int hn_msg_encode(const struct hn_msg *m, char **buf, size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    pack_str(&pk, hn_msg_type_name(m->type));
    pack_str(&pk, m->node_id);
    switch (m->type) {
    case HN_MSG_CLIENT_READY:
        msgpack_pack_map(&pk, 3);
        pack_key(&pk, "protocol");
        msgpack_pack_uint64(&pk, m->protocol_version);
        pack_key(&pk, "version");
        pack_str(&pk, m->version);
        pack_key(&pk, "previous");
        pack_str(&pk, m->previous ? m->previous : "");
        break;
    case HN_MSG_ACK:
        msgpack_pack_map(&pk, 4);
        pack_key(&pk, "index");
        msgpack_pack_int64(&pk, m->index);
        pack_key(&pk, "error");
        pack_str(&pk, m->error);
        pack_key(&pk, "run");
        pack_str(&pk, m->run ? m->run : "");
        pack_key(&pk, "acked");
        msgpack_pack_uint64(&pk, m->acked);
        break;
    case HN_MSG_SPAWN:
        msgpack_pack_map(&pk, 21);
        pack_key(&pk, "http_engine");
        pack_str(&pk, m->http_engine ? m->http_engine : "auto");
        pack_key(&pk, "iterations");
        msgpack_pack_uint64(&pk, m->iterations);
        pack_key(&pk, "tls");
        pack_kvs(&pk, m->tls, m->n_tls);
        pack_key(&pk, "arrival_rate");
        msgpack_pack_double(&pk, m->arrival_rate);
        pack_key(&pk, "stop_timeout_ms");
        msgpack_pack_int64(&pk, m->stop_timeout_ms);
        pack_key(&pk, "user_id_base");
        msgpack_pack_uint64(&pk, m->user_id_base);
        pack_key(&pk, "tags");
        pack_str(&pk, m->tags);
        pack_key(&pk, "exclude_tags");
        pack_str(&pk, m->exclude_tags);
        pack_key(&pk, "env");
        pack_kvs(&pk, m->env, m->n_env);
        pack_key(&pk, "files");
        pack_kvs(&pk, m->files, m->n_files);
        pack_key(&pk, "seq");
        msgpack_pack_uint64(&pk, m->seq);
        pack_key(&pk, "host");
        pack_str(&pk, m->host);
        pack_key(&pk, "scenario_name");
        pack_str(&pk, m->scenario_name);
        pack_key(&pk, "scenario");
        msgpack_pack_str(&pk, m->scenario_len);
        msgpack_pack_str_body(&pk, m->scenario, m->scenario_len);
        pack_key(&pk, "user_classes");
        pack_classes(&pk, m->classes, m->n_classes);
        pack_key(&pk, "spawn_rate");
        msgpack_pack_double(&pk, m->spawn_rate);
        pack_key(&pk, "stats_interval_ms");
        msgpack_pack_int64(&pk, m->stats_interval_ms);
        pack_key(&pk, "request_timeout_ms");
        msgpack_pack_int64(&pk, m->request_timeout_ms);
        pack_key(&pk, "connect_timeout_ms");
        msgpack_pack_int64(&pk, m->connect_timeout_ms);
        pack_key(&pk, "heartbeat_timeout_ms");
        msgpack_pack_int64(&pk, m->heartbeat_timeout_ms);
        pack_key(&pk, "user_count");
        msgpack_pack_uint64(&pk, m->user_count);
        break;
    case HN_MSG_SPAWNING_COMPLETE:
        msgpack_pack_map(&pk, 3);
        pack_key(&pk, "seq");
        msgpack_pack_uint64(&pk, m->seq);
        pack_key(&pk, "user_count");
        msgpack_pack_uint64(&pk, m->user_count);
        pack_key(&pk, "user_classes");
        pack_classes(&pk, m->classes, m->n_classes);
        break;
    case HN_MSG_STATS:
        msgpack_pack_map(&pk, 8);
        pack_key(&pk, "conns_opened");
        msgpack_pack_uint64(&pk, m->stats->conns_opened);
        pack_key(&pk, "conns_reused");
        msgpack_pack_uint64(&pk, m->stats->conns_reused);
        pack_key(&pk, "dropped");
        msgpack_pack_uint64(&pk, m->stats->dropped_iterations);
        pack_key(&pk, "iterations");
        msgpack_pack_uint64(&pk, m->stats->iterations);
        pack_key(&pk, "seq");
        msgpack_pack_uint64(&pk, m->seq);
        pack_key(&pk, "user_count");
        msgpack_pack_uint64(&pk, m->user_count);
        hn_assert(m->stats);
        pack_stats(&pk, m->stats);
        break;
    case HN_MSG_HEARTBEAT:
        msgpack_pack_map(&pk, 5);
        pack_key(&pk, "acked");
        msgpack_pack_uint64(&pk, m->acked);
        pack_key(&pk, "state");
        pack_str(&pk, m->state);
        pack_key(&pk, "cpu_percent");
        msgpack_pack_double(&pk, m->cpu_percent);
        pack_key(&pk, "rss_bytes");
        msgpack_pack_uint64(&pk, m->rss_bytes);
        pack_key(&pk, "user_count");
        msgpack_pack_uint64(&pk, m->user_count);
        break;
    case HN_MSG_EXCEPTION:
        msgpack_pack_map(&pk, 2);
        pack_key(&pk, "msg");
        pack_str(&pk, m->error);
        pack_key(&pk, "traceback");
        pack_str(&pk, m->traceback);
        break;
    case HN_MSG_QUIT:
        msgpack_pack_map(&pk, 1);
        pack_key(&pk, "reason");
        pack_str(&pk, m->error);
        break;
    case HN_MSG_STOP:
    case HN_MSG_CLIENT_STOPPED:
        msgpack_pack_map(&pk, 0);
        break;
    default:
        msgpack_sbuffer_destroy(&sb);
        return HN_EINVAL;
    }
    if (sb.size > HN_MSG_MAX_BYTES) {
        msgpack_sbuffer_destroy(&sb);
        return HN_ENOMEM;
    }
    *buf = sb.data;
    *len = sb.size;
    return 0;
}

/* ---------- structural pre-check ---------- */

static int be(const uint8_t *p, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = (x << 8) | p[i];
    *v = x;
    return 0;
}

int hn_msgpack_prescan(const uint8_t *p, size_t len)
{
    enum { MAX_DEPTH = 32 };
    uint64_t pending[MAX_DEPTH + 1]; /* objects still to read at each depth */
    int depth = 0;
    pending[0] = 1;
    size_t i = 0;
    while (depth >= 0) {
        if (pending[depth] == 0) {
            depth--;
            continue;
        }
        pending[depth]--;
        if (i >= len)
            return HN_EINVAL;
        uint8_t b = p[i++];
        uint64_t skip = 0, count = 0;
        int container = 0;
        size_t hdr = 0;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            /* fixint, nil, bool */
        } else if (b >= 0x80 && b <= 0x8f) {
            container = 1;
            count = (uint64_t)(b & 0x0f) * 2;
        } else if (b >= 0x90 && b <= 0x9f) {
            container = 1;
            count = b & 0x0f;
        } else if (b >= 0xa0 && b <= 0xbf) {
            skip = b & 0x1f;
        } else {
            switch (b) {
            case 0xc4: case 0xd9: hdr = 1; break;
            case 0xc5: case 0xda: hdr = 2; break;
            case 0xc6: case 0xdb: hdr = 4; break;
            case 0xc7: hdr = 1; skip = 1; break;
            case 0xc8: hdr = 2; skip = 1; break;
            case 0xc9: hdr = 4; skip = 1; break;
            case 0xca: skip = 4; break;
            case 0xcb: skip = 8; break;
            case 0xcc: case 0xd0: skip = 1; break;
            case 0xcd: case 0xd1: skip = 2; break;
            case 0xce: case 0xd2: skip = 4; break;
            case 0xcf: case 0xd3: skip = 8; break;
            case 0xd4: skip = 2; break;
            case 0xd5: skip = 3; break;
            case 0xd6: skip = 5; break;
            case 0xd7: skip = 9; break;
            case 0xd8: skip = 17; break;
            case 0xdc: hdr = 2; container = 1; break;
            case 0xdd: hdr = 4; container = 1; break;
            case 0xde: hdr = 2; container = 2; break;
            case 0xdf: hdr = 4; container = 2; break;
            default: return HN_EINVAL; /* 0xc1 is never used */
            }
            if (hdr) {
                if (len - i < hdr)
                    return HN_EINVAL;
                uint64_t v;
                be(p + i, hdr, &v);
                i += hdr;
                if (container)
                    count = container == 2 ? v * 2 : v;
                else
                    skip += v;
            }
        }
        if (container) {
            /* every element takes at least one byte: a count beyond the bytes left is a lie */
            if (count > len - i)
                return HN_EINVAL;
            if (count) {
                if (depth == MAX_DEPTH)
                    return HN_EINVAL;
                pending[++depth] = count;
            }
        } else {
            if (skip > len - i)
                return HN_EINVAL;
            i += (size_t)skip;
        }
    }
    return i == len ? 0 : HN_EINVAL;
}

/* ---------- decoding ---------- */

struct dec {
    char *err;
    size_t errlen;
    const char *type;
};

static int derr(struct dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int derr(struct dec *d, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(d->err, d->errlen, "bad %s message: %s", d->type ? d->type : "", msg);
    return HN_EINVAL;
}

static const msgpack_object *field(const msgpack_object *map, const char *key)
{
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl &&
            memcmp(k->via.str.ptr, key, kl) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static int obj_u64(const msgpack_object *o, uint64_t *v)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return HN_EINVAL;
    *v = o->via.u64;
    return 0;
}

static int obj_i64(const msgpack_object *o, int64_t *v)
{
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *v = o->via.i64;
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
        *v = (int64_t)o->via.u64;
        return 0;
    }
    return HN_EINVAL;
}

static int get_u64(struct dec *d, const msgpack_object *map, const char *key, uint64_t *v)
{
    const msgpack_object *o = field(map, key);
    if (!o || obj_u64(o, v))
        return derr(d, "field '%s' must be a non-negative integer", key);
    return 0;
}

static int get_i64(struct dec *d, const msgpack_object *map, const char *key, int64_t min,
                   int64_t max, int64_t *v)
{
    const msgpack_object *o = field(map, key);
    if (!o || obj_i64(o, v) || *v < min || *v > max)
        return derr(d, "field '%s' must be an integer from %lld to %lld", key, (long long)min,
                    (long long)max);
    return 0;
}

static int get_double(struct dec *d, const msgpack_object *map, const char *key, double *v)
{
    const msgpack_object *o = field(map, key);
    if (o && (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32))
        *v = o->via.f64;
    else if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *v = (double)o->via.u64;
    else
        return derr(d, "field '%s' must be a number", key);
    if (*v != *v || *v < 0 || *v > 1e12)
        return derr(d, "field '%s' is out of range", key);
    return 0;
}

/* Strings are copied NUL-terminated; embedded NULs are refused (they would truncate names). */
static char *obj_strdup(const msgpack_object *o, size_t max)
{
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size > max ||
        memchr(o->via.str.ptr, 0, o->via.str.size))
        return NULL;
    return hn_strndup(o->via.str.ptr, o->via.str.size);
}

static int get_str(struct dec *d, const msgpack_object *map, const char *key, size_t max,
                   const char **out)
{
    const msgpack_object *o = field(map, key);
    char *s = o ? obj_strdup(o, max) : NULL;
    if (!s)
        return derr(d, "field '%s' must be a string of at most %zu bytes", key, max);
    *out = s;
    return 0;
}

static int get_classes(struct dec *d, const msgpack_object *map, struct hn_msg *m)
{
    const msgpack_object *o = field(map, "user_classes");
    if (!o || o->type != MSGPACK_OBJECT_MAP || o->via.map.size > HN_MAX_CLASSES)
        return derr(d, "field 'user_classes' must be a map of at most %d classes", HN_MAX_CLASSES);
    m->classes = hn_calloc(o->via.map.size, sizeof *m->classes);
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        char *name = obj_strdup(&o->via.map.ptr[i].key, HN_NAME_MAX);
        uint64_t n;
        if (!name || obj_u64(&o->via.map.ptr[i].val, &n) || n > 100000000) {
            free(name);
            return derr(d, "user_classes entry %u must map a name to a count", i);
        }
        m->classes[m->n_classes].name = name;
        m->classes[m->n_classes++].count = n;
    }
    return 0;
}

static int get_kvs(struct dec *d, const msgpack_object *map, const char *key, size_t max_value,
                   struct hn_kv **out, size_t *n)
{
    const msgpack_object *o = field(map, key);
    if (!o || o->type != MSGPACK_OBJECT_MAP || o->via.map.size > 1024)
        return derr(d, "field '%s' must be a map of at most 1024 strings", key);
    *out = hn_calloc(o->via.map.size, sizeof **out);
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        char *k = obj_strdup(&o->via.map.ptr[i].key, 4096);
        char *v = obj_strdup(&o->via.map.ptr[i].val, max_value);
        if (!k || !v) {
            free(k);
            free(v);
            return derr(d, "entry %u of '%s' must map a string to a string", i, key);
        }
        (*out)[*n].key = k;
        (*out)[(*n)++].value = v;
    }
    return 0;
}

static int decode_persec(struct dec *d, const msgpack_object *o, struct hn_persec *p)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size % 2)
        return derr(d, "per-second counts must be an array of [second, count] pairs");
    for (uint32_t i = 0; i < o->via.array.size; i += 2) {
        int64_t sec;
        uint64_t n;
        if (obj_i64(&o->via.array.ptr[i], &sec) || obj_u64(&o->via.array.ptr[i + 1], &n) ||
            sec <= 0)
            return derr(d, "per-second count %u is malformed", i / 2);
        hn_persec_add(p, sec, n);
    }
    return 0;
}

/* The open model's service times of an entry: [sum, min, max, [index, count, ...]], one
 * sample per request of the entry. */
static int decode_service(struct dec *d, const msgpack_object *o, struct hn_stats_entry *e)
{
    uint64_t sum, min, max, total = 0;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 4 ||
        obj_u64(&o->via.array.ptr[0], &sum) || obj_u64(&o->via.array.ptr[1], &min) ||
        obj_u64(&o->via.array.ptr[2], &max) || min > max)
        return derr(d, "service times of '%s' must be [sum, min, max, buckets]", e->name);
    const msgpack_object *h = &o->via.array.ptr[3];
    if (h->type != MSGPACK_OBJECT_ARRAY || h->via.array.size % 2)
        return derr(d, "service times of '%s': buckets must be [index, count] pairs", e->name);
    e->service = hn_malloc(sizeof *e->service);
    hn_hist_init(e->service);
    for (uint32_t i = 0; i < h->via.array.size; i += 2) {
        uint64_t idx, n;
        if (obj_u64(&h->via.array.ptr[i], &idx) || obj_u64(&h->via.array.ptr[i + 1], &n) ||
            idx >= HN_HIST_NBUCKETS || n == 0 || n > e->n_requests - total)
            return derr(d, "service time bucket %u of '%s' is malformed", i / 2, e->name);
        hn_hist_add_bucket(e->service, (uint32_t)idx, n);
        total += n;
    }
    if (total != e->n_requests)
        return derr(d, "service times of '%s' hold %llu samples, the entry %llu", e->name,
                    (unsigned long long)total, (unsigned long long)e->n_requests);
    e->service->sum_us = sum;
    e->service->min_us = min;
    e->service->max_us = max;
    return 0;
}

static int decode_entry(struct dec *d, const msgpack_object *o, struct hn_stats *s)
{
    if (o->type != MSGPACK_OBJECT_ARRAY ||
        (o->via.array.size != 15 && o->via.array.size != 16))
        return derr(d, "a stats entry must be an array of 15 fields (16 with service times)");
    const msgpack_object *f = o->via.array.ptr;
    char *type = obj_strdup(&f[0], 64), *name = obj_strdup(&f[1], HN_NAME_MAX);
    uint64_t v[6];
    int bad = !type || !name;
    for (int i = 0; i < 6 && !bad; i++)
        bad = obj_u64(&f[2 + i], &v[i]) != 0;
    /* n_requests, n_failures, sum, min, max, content: failures never exceed requests */
    uint64_t m[4];
    for (int i = 0; i < 4 && !bad; i++)
        bad = obj_u64(&f[11 + i], &m[i]) != 0;
    if (!bad && v[1] > v[0]) {
        derr(d, "stats entry '%s %s': failures (%llu) exceed requests (%llu)", type, name,
             (unsigned long long)v[1], (unsigned long long)v[0]);
        free(type);
        free(name);
        return HN_EINVAL;
    }
    bad = bad || (v[0] == 0 && !m[0] && !m[1]) || (v[0] && v[3] > v[4]);
    if (bad) {
        free(type);
        free(name);
        return derr(d, "a stats entry has a malformed name or count");
    }
    struct hn_stats_entry *e = hn_stats_entry(s, type, name);
    free(type);
    free(name);
    if (hn_stats_entry_used(e))
        return derr(d, "stats entry '%s %s' appears twice", e->type, e->name);
    e->msgs_sent = m[0];
    e->msgs_received = m[1];
    e->bytes_sent = m[2];
    e->bytes_received = m[3];
    e->n_requests = v[0];
    e->n_failures = v[1];
    e->content_bytes = v[5];
    const msgpack_object *h = &f[8];
    if (h->type != MSGPACK_OBJECT_ARRAY || h->via.array.size % 2)
        return derr(d, "histogram of '%s' must be an array of [index, count] pairs", e->name);
    uint64_t total = 0;
    for (uint32_t i = 0; i < h->via.array.size; i += 2) {
        uint64_t idx, n;
        if (obj_u64(&h->via.array.ptr[i], &idx) || obj_u64(&h->via.array.ptr[i + 1], &n) ||
            idx >= HN_HIST_NBUCKETS || n == 0 || n > v[0] - total)
            return derr(d, "histogram bucket %u of '%s' is malformed", i / 2, e->name);
        hn_hist_add_bucket(&e->hist, (uint32_t)idx, n);
        total += n;
    }
    if (total != v[0])
        return derr(d, "histogram of '%s' holds %llu samples, entry says %llu", e->name,
                    (unsigned long long)total, (unsigned long long)v[0]);
    e->hist.sum_us = v[2];
    e->hist.min_us = v[0] ? v[3] : UINT64_MAX;
    e->hist.max_us = v[4];
    if (decode_persec(d, &f[9], &e->reqs_per_s) || decode_persec(d, &f[10], &e->fails_per_s))
        return HN_EINVAL;
    return o->via.array.size == 16 ? decode_service(d, &f[15], e) : 0;
}

static int decode_stats(struct dec *d, const msgpack_object *map, struct hn_msg *m)
{
    struct hn_stats *s = hn_malloc(sizeof *s);
    hn_stats_init(s);
    m->stats = s;
    const msgpack_object *ents = field(map, "entries"), *errs = field(map, "errors");
    if (!ents || ents->type != MSGPACK_OBJECT_ARRAY || ents->via.array.size > HN_MAX_ENTRIES)
        return derr(d, "field 'entries' must be an array of at most %d entries", HN_MAX_ENTRIES);
    if (!errs || errs->type != MSGPACK_OBJECT_ARRAY || errs->via.array.size > HN_MAX_ENTRIES)
        return derr(d, "field 'errors' must be an array of at most %d errors", HN_MAX_ENTRIES);
    for (uint32_t i = 0; i < ents->via.array.size; i++)
        if (decode_entry(d, &ents->via.array.ptr[i], s))
            return HN_EINVAL;
    for (uint32_t i = 0; i < errs->via.array.size; i++) {
        const msgpack_object *o = &errs->via.array.ptr[i];
        if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 4)
            return derr(d, "error %u must be [type, name, message, occurrences]", i);
        char *t = obj_strdup(&o->via.array.ptr[0], 64);
        char *n = obj_strdup(&o->via.array.ptr[1], HN_NAME_MAX);
        char *msg = obj_strdup(&o->via.array.ptr[2], HN_MESSAGE_MAX);
        uint64_t occ;
        int bad = !t || !n || !msg || obj_u64(&o->via.array.ptr[3], &occ) || occ == 0;
        if (!bad)
            hn_stats_error_add(s, t, n, msg, occ);
        free(t);
        free(n);
        free(msg);
        if (bad)
            return derr(d, "error %u is malformed", i);
    }
    /* optional: iterations the worker's open-model scheduler could not start */
    if (field(map, "dropped") && get_u64(d, map, "dropped", &s->dropped_iterations))
        return HN_EINVAL;
    if (field(map, "iterations") && get_u64(d, map, "iterations", &s->iterations))
        return HN_EINVAL;
    /* optional: the native HTTP engine's connections opened and reused in this interval */
    if ((field(map, "conns_opened") && get_u64(d, map, "conns_opened", &s->conns_opened)) ||
        (field(map, "conns_reused") && get_u64(d, map, "conns_reused", &s->conns_reused)))
        return HN_EINVAL;
    return 0;
}

void hn_msg_fini(struct hn_msg *m)
{
    if (!m->owned)
        return;
    free((char *)m->version);
    free((char *)m->error);
    free((char *)m->run);
    free((char *)m->previous);
    free((char *)m->traceback);
    free((char *)m->host);
    free((char *)m->scenario_name);
    free((char *)m->scenario);
    free((char *)m->state);
    for (size_t i = 0; i < m->n_classes; i++)
        free(m->classes[i].name);
    free(m->classes);
    free((char *)m->tags);
    free((char *)m->exclude_tags);
    free((char *)m->http_engine);
    for (size_t i = 0; i < m->n_env; i++) {
        free(m->env[i].key);
        free(m->env[i].value);
    }
    free(m->env);
    for (size_t i = 0; i < m->n_tls; i++) {
        free(m->tls[i].key);
        free(m->tls[i].value);
    }
    free(m->tls);
    for (size_t i = 0; i < m->n_files; i++) {
        free(m->files[i].key);
        free(m->files[i].value);
    }
    free(m->files);
    if (m->stats) {
        hn_stats_fini((struct hn_stats *)m->stats);
        free((struct hn_stats *)m->stats);
    }
    memset(m, 0, sizeof *m);
}

static int decode_body(struct dec *d, const msgpack_object *map, struct hn_msg *m)
{
    const int64_t day_ms = 86400000;
    switch (m->type) {
    case HN_MSG_CLIENT_READY:
        if (get_u64(d, map, "protocol", &m->protocol_version) ||
            get_str(d, map, "version", 64, &m->version))
            return HN_EINVAL;
        return field(map, "previous") ? get_str(d, map, "previous", HN_NODE_ID_MAX - 1,
                                                &m->previous)
                                      : 0;
    case HN_MSG_ACK:
        if (get_i64(d, map, "index", 0, 1000000, &m->index) ||
            get_str(d, map, "error", HN_MESSAGE_MAX, &m->error))
            return HN_EINVAL;
        /* optional (masters before them did not send them) */
        if (field(map, "run") && get_str(d, map, "run", 64, &m->run))
            return HN_EINVAL;
        return field(map, "acked") ? get_u64(d, map, "acked", &m->acked) : 0;
    case HN_MSG_SPAWN: {
        const msgpack_object *sc = field(map, "scenario");
        if (get_u64(d, map, "seq", &m->seq) ||
            get_str(d, map, "host", 2048, &m->host) ||
            get_str(d, map, "scenario_name", 4096, &m->scenario_name) ||
            get_str(d, map, "scenario", HN_MSG_MAX_BYTES, &m->scenario) ||
            get_classes(d, map, m) || get_double(d, map, "spawn_rate", &m->spawn_rate) ||
            get_i64(d, map, "stats_interval_ms", 100, day_ms, &m->stats_interval_ms) ||
            get_i64(d, map, "request_timeout_ms", 1, day_ms, &m->request_timeout_ms) ||
            get_i64(d, map, "connect_timeout_ms", 1, day_ms, &m->connect_timeout_ms) ||
            get_i64(d, map, "heartbeat_timeout_ms", 1000, day_ms, &m->heartbeat_timeout_ms) ||
            get_u64(d, map, "user_count", &m->user_count) ||
            get_i64(d, map, "stop_timeout_ms", 0, day_ms, &m->stop_timeout_ms) ||
            get_u64(d, map, "user_id_base", &m->user_id_base) ||
            get_str(d, map, "tags", 4096, &m->tags) ||
            get_str(d, map, "exclude_tags", 4096, &m->exclude_tags) ||
            get_kvs(d, map, "env", 65536, &m->env, &m->n_env) ||
            get_kvs(d, map, "files", HN_DATA_MAX_BYTES, &m->files, &m->n_files) ||
            (field(map, "arrival_rate") && get_double(d, map, "arrival_rate", &m->arrival_rate)) ||
            (field(map, "tls") && get_kvs(d, map, "tls", 4200, &m->tls, &m->n_tls)) ||
            (field(map, "iterations") && get_u64(d, map, "iterations", &m->iterations)) ||
            (field(map, "http_engine") && get_str(d, map, "http_engine", 16, &m->http_engine)))
            return HN_EINVAL;
        if (m->arrival_rate > 1e7)
            return derr(d, "field 'arrival_rate' is out of range");
        m->scenario_len = sc->via.str.size;
        return 0;
    }
    case HN_MSG_SPAWNING_COMPLETE:
        if (get_u64(d, map, "seq", &m->seq) || get_u64(d, map, "user_count", &m->user_count))
            return HN_EINVAL;
        return get_classes(d, map, m);
    case HN_MSG_STATS:
        if (get_u64(d, map, "seq", &m->seq) || get_u64(d, map, "user_count", &m->user_count))
            return HN_EINVAL;
        return decode_stats(d, map, m);
    case HN_MSG_HEARTBEAT:
        if (get_str(d, map, "state", 32, &m->state) ||
            get_double(d, map, "cpu_percent", &m->cpu_percent) ||
            get_u64(d, map, "rss_bytes", &m->rss_bytes) ||
            get_u64(d, map, "user_count", &m->user_count))
            return HN_EINVAL;
        return field(map, "acked") ? get_u64(d, map, "acked", &m->acked) : 0;
    case HN_MSG_EXCEPTION:
        if (get_str(d, map, "msg", HN_MESSAGE_MAX, &m->error))
            return HN_EINVAL;
        return get_str(d, map, "traceback", HN_MESSAGE_MAX, &m->traceback);
    case HN_MSG_QUIT:
        return get_str(d, map, "reason", HN_MESSAGE_MAX, &m->error);
    case HN_MSG_STOP:
    case HN_MSG_CLIENT_STOPPED:
        return 0;
    }
    return derr(d, "unknown type");
}

int hn_msg_decode(const void *buf, size_t len, struct hn_msg *m, char *err, size_t errlen)
{
    struct dec d = {.err = err, .errlen = errlen};
    memset(m, 0, sizeof *m);
    if (len > HN_MSG_MAX_BYTES || hn_msgpack_prescan(buf, len)) {
        snprintf(err, errlen, "malformed message (%zu bytes)", len);
        return HN_EINVAL;
    }
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    if (msgpack_unpack_next(&up, buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len) {
        msgpack_unpacked_destroy(&up);
        snprintf(err, errlen, "malformed message (%zu bytes)", len);
        return HN_EINVAL;
    }
    const msgpack_object *root = &up.data;
    int rc = HN_EINVAL;
    m->owned = 1;
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size != 3 ||
        root->via.array.ptr[0].type != MSGPACK_OBJECT_STR ||
        root->via.array.ptr[1].type != MSGPACK_OBJECT_STR ||
        root->via.array.ptr[2].type != MSGPACK_OBJECT_MAP) {
        snprintf(err, errlen, "malformed message: expected [type, node_id, {fields}]");
        goto out;
    }
    const msgpack_object *t = &root->via.array.ptr[0], *nid = &root->via.array.ptr[1];
    for (int i = 1; i < N_TYPES; i++)
        if (t->via.str.size == strlen(k_type_names[i]) &&
            !memcmp(t->via.str.ptr, k_type_names[i], t->via.str.size))
            m->type = (enum hn_msg_type)i;
    if (!m->type) {
        snprintf(err, errlen, "unknown message type '%.*s'",
                 (int)(t->via.str.size > 32 ? 32 : t->via.str.size), t->via.str.ptr);
        goto out;
    }
    d.type = k_type_names[m->type];
    if (nid->via.str.size >= HN_NODE_ID_MAX || memchr(nid->via.str.ptr, 0, nid->via.str.size)) {
        derr(&d, "node id longer than %d bytes", HN_NODE_ID_MAX - 1);
        goto out;
    }
    memcpy(m->node_id, nid->via.str.ptr, nid->via.str.size);
    m->node_id[nid->via.str.size] = '\0';
    rc = decode_body(&d, &root->via.array.ptr[2], m);
out:
    msgpack_unpacked_destroy(&up);
    if (rc)
        hn_msg_fini(m);
    return rc;
}
