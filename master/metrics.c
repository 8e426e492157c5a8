#include "master/metrics.h"

#include <stdlib.h>
#include <string.h>

/* Bucket bounds in seconds: from 1 ms to 60 s, the range of a web request's latency. */
static const double k_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                              0.25,  0.5,    1,     2.5,  5,     10,   30, 60};
#define N_LE (sizeof k_le / sizeof k_le[0])

void hn_metrics_label(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', f), fputc(*s, f);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void labels(FILE *f, const char *run, const char *type, const char *name)
{
    fputs("{run_id=\"", f);
    hn_metrics_label(f, run);
    fputs("\",type=\"", f);
    hn_metrics_label(f, type);
    fputs("\",name=\"", f);
    hn_metrics_label(f, name);
    fputc('"', f);
}

struct cum {
    uint64_t n[N_LE];
};

static void bucket(void *arg, uint32_t index, uint64_t count)
{
    struct cum *c = arg;
    /* a sample counts in every bucket whose bound its bucket's upper edge fits under */
    double high_s = (double)hn_hist_bucket_high(index) / 1e6;
    for (size_t i = 0; i < N_LE; i++)
        if (high_s <= k_le[i] + 1e-12)
            c->n[i] += count;
}

/* One row's series: its counters and its histogram. */
static void row(FILE *f, const char *run, const char *type, const char *name,
                const struct hn_stats_entry *e, int part)
{
    switch (part) {
    case 0:
        fputs("hornet_requests_total", f);
        labels(f, run, type, name);
        fprintf(f, "} %llu\n", (unsigned long long)e->n_requests);
        break;
    case 1:
        fputs("hornet_failures_total", f);
        labels(f, run, type, name);
        fprintf(f, "} %llu\n", (unsigned long long)e->n_failures);
        break;
    default: {
        struct cum c;
        memset(&c, 0, sizeof c);
        hn_hist_foreach(&e->hist, bucket, &c);
        for (size_t i = 0; i < N_LE; i++) {
            fputs("hornet_response_time_seconds_bucket", f);
            labels(f, run, type, name);
            fprintf(f, ",le=\"%g\"} %llu\n", k_le[i], (unsigned long long)c.n[i]);
        }
        fputs("hornet_response_time_seconds_bucket", f);
        labels(f, run, type, name);
        fprintf(f, ",le=\"+Inf\"} %llu\n", (unsigned long long)e->hist.count);
        fputs("hornet_response_time_seconds_sum", f);
        labels(f, run, type, name);
        fprintf(f, "} %.6f\n", (double)e->hist.sum_us / 1e6);
        fputs("hornet_response_time_seconds_count", f);
        labels(f, run, type, name);
        fprintf(f, "} %llu\n", (unsigned long long)e->hist.count);
    }
    }
}

static void gauge(FILE *f, const char *name, const char *help, const char *type)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void hn_metrics_write(FILE *f, const struct hn_metrics_in *in)
{
    const struct hn_stats *s = in->stats;
    struct hn_stats_entry **v = hn_stats_sorted(s);
    size_t shown = s->n_entries < HN_METRICS_MAX_ROWS ? s->n_entries : HN_METRICS_MAX_ROWS;
    /* the rows past the cap, merged into one */
    struct hn_stats_entry other;
    memset(&other, 0, sizeof other);
    hn_hist_init(&other.hist);
    for (size_t i = shown; i < s->n_entries; i++) {
        other.n_requests += v[i]->n_requests;
        other.n_failures += v[i]->n_failures;
        hn_hist_merge(&other.hist, &v[i]->hist);
    }
    static const char *const names[3] = {"hornet_requests_total", "hornet_failures_total",
                                         "hornet_response_time_seconds"};
    static const char *const helps[3] = {
        "Requests completed, per stats row (Aggregated: all rows)",
        "Requests that failed, per stats row",
        "Response times, per stats row (buckets from hornet's exact histogram)"};
    for (int part = 0; part < 3; part++) {
        gauge(f, names[part], helps[part], part < 2 ? "counter" : "histogram");
        for (size_t i = 0; i < shown; i++)
            row(f, in->run_id, v[i]->type, v[i]->name, v[i], part);
        if (s->n_entries > shown)
            row(f, in->run_id, "", "(other rows)", &other, part);
        row(f, in->run_id, "", "Aggregated", &s->total, part);
    }
    hn_hist_fini(&other.hist);
    free(v);

    gauge(f, "hornet_rows_over_cap", "Stats rows merged into name=\"(other rows)\"", "gauge");
    fprintf(f, "hornet_rows_over_cap{run_id=\"%s\"} %zu\n", in->run_id, s->n_entries - shown);
    gauge(f, "hornet_running", "1 while the run goes on", "gauge");
    fprintf(f, "hornet_running{run_id=\"%s\"} %d\n", in->run_id, in->running);
    gauge(f, "hornet_users", "Users running now", "gauge");
    fprintf(f, "hornet_users{run_id=\"%s\"} %llu\n", in->run_id, (unsigned long long)in->users);
    gauge(f, "hornet_target_users", "Users the run asks for now", "gauge");
    fprintf(f, "hornet_target_users{run_id=\"%s\"} %llu\n", in->run_id,
            (unsigned long long)in->target_users);
    gauge(f, "hornet_requests_per_second", "All rows' current requests per second", "gauge");
    fprintf(f, "hornet_requests_per_second{run_id=\"%s\"} %.3f\n", in->run_id, in->rps);
    gauge(f, "hornet_dropped_iterations_total",
          "Open model: iterations due when no user was free", "counter");
    fprintf(f, "hornet_dropped_iterations_total{run_id=\"%s\"} %llu\n", in->run_id,
            (unsigned long long)s->dropped_iterations);
    gauge(f, "hornet_http_connections_opened_total",
          "Native HTTP engine: connections opened", "counter");
    fprintf(f, "hornet_http_connections_opened_total{run_id=\"%s\"} %llu\n", in->run_id,
            (unsigned long long)s->conns_opened);
    gauge(f, "hornet_http_connection_reuses_total",
          "Native HTTP engine: requests sent on a reused connection", "counter");
    fprintf(f, "hornet_http_connection_reuses_total{run_id=\"%s\"} %llu\n", in->run_id,
            (unsigned long long)s->conns_reused);

    gauge(f, "hornet_workers", "Workers by state", "gauge");
    for (int st = HN_PEER_READY; st <= HN_PEER_GONE; st++) {
        size_t n = 0;
        for (size_t i = 0; i < in->n_peers; i++)
            n += in->peers[i].state == (enum hn_peer_state)st;
        fprintf(f, "hornet_workers{run_id=\"%s\",state=\"%s\"} %zu\n", in->run_id,
                hn_peer_state_name((enum hn_peer_state)st), n);
    }
    gauge(f, "hornet_worker_cpu_percent", "A worker's CPU use (100: one core)", "gauge");
    for (size_t i = 0; i < in->n_peers; i++) {
        fprintf(f, "hornet_worker_cpu_percent{run_id=\"%s\",worker=\"", in->run_id);
        hn_metrics_label(f, in->peers[i].id);
        fprintf(f, "\"} %.1f\n", in->peers[i].cpu_percent);
    }
    gauge(f, "hornet_worker_rss_bytes", "A worker's resident memory", "gauge");
    for (size_t i = 0; i < in->n_peers; i++) {
        fprintf(f, "hornet_worker_rss_bytes{run_id=\"%s\",worker=\"", in->run_id);
        hn_metrics_label(f, in->peers[i].id);
        fprintf(f, "\"} %llu\n", (unsigned long long)in->peers[i].rss_bytes);
    }
    gauge(f, "hornet_threshold_passing",
          "1 if a threshold holds, 0 if it fails, -1 while its row has no data", "gauge");
    for (size_t i = 0; i < in->n_ths; i++) {
        fprintf(f, "hornet_threshold_passing{run_id=\"%s\",row=\"", in->run_id);
        hn_metrics_label(f, in->ths[i].row);
        fputs("\",threshold=\"", f);
        hn_metrics_label(f, in->ths[i].expr);
        fprintf(f, "\"} %d\n", !in->verdicts[i].seen ? -1 : in->verdicts[i].ok);
    }
}
