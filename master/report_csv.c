#include "master/report_csv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Python csv's QUOTE_MINIMAL: quote fields holding a comma, a quote or a line break. */
void hn_csv_field(FILE *f, const char *s, int last)
{
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', f);
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                fputc('"', f);
            fputc(*p, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputs(last ? "\r\n" : ",", f);
}

static void field(FILE *f, const char *s, int last) { hn_csv_field(f, s, last); }

static void ufield(FILE *f, uint64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    field(f, b, 0);
}

static void msfield(FILE *f, double us, int last)
{
    char b[48];
    field(f, hn_fmt_ms(b, sizeof b, us), last);
}

/* Locust keeps response times rounded to two significant digits (147 ms as 150, 3432 as 3400)
 * and writes its median and percentile columns as those integers; scripts parse them with int().
 * hornet's exact figures stay in the JSON, the HTML report, the run history and the console. */
long long hn_csv_locust_ms(double us)
{
    double ms = us / 1000.0;
    double unit = ms < 100 ? 1 : ms < 1000 ? 10 : ms < 10000 ? 100 : 1000;
    return (long long)(floor(ms / unit + 0.5) * unit);
}

static void intfield(FILE *f, long long v, int last)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", v);
    field(f, b, last);
}

static void numfield(FILE *f, double v)
{
    char b[48];
    field(f, hn_fmt_num(b, sizeof b, v, 3), 0);
}

static void percentile_fields(FILE *f, const struct hn_hist *h, uint64_t n_requests, int last)
{
    for (int i = 0; i < HN_N_PERCENTILES; i++) {
        int is_last = last && i == HN_N_PERCENTILES - 1;
        if (!n_requests || !h->count)
            field(f, "N/A", is_last);
        else
            intfield(f, hn_csv_locust_ms((double)hn_hist_percentile(h, hn_percentiles[i])),
                     is_last);
    }
}

static void header(FILE *f, const char *const *cols, size_t n, int with_percentiles,
                   const char *const *tail, size_t n_tail)
{
    for (size_t i = 0; i < n; i++)
        field(f, cols[i], !with_percentiles && !n_tail && i == n - 1);
    for (int i = 0; with_percentiles && i < HN_N_PERCENTILES; i++)
        field(f, hn_percentile_names[i], !n_tail && i == HN_N_PERCENTILES - 1);
    for (size_t i = 0; i < n_tail; i++)
        field(f, tail[i], i == n_tail - 1);
}

/* Response-time summary columns shared by _stats.csv and the history's "Total" columns:
 * Median, Average, Min, Max, Average Content Size. */
static void summary_fields(FILE *f, const struct hn_stats_entry *e, int last)
{
    const struct hn_hist *h = &e->hist;
    /* as Locust: the rounded median, kept within the exact min and max */
    long long median = 0;
    if (h->count) {
        median = hn_csv_locust_ms((double)hn_hist_percentile(h, 0.5));
        if ((double)median > (double)h->max_us / 1000.0)
            median = llround((double)h->max_us / 1000.0);
        if ((double)median < (double)h->min_us / 1000.0)
            median = llround((double)h->min_us / 1000.0);
    }
    intfield(f, median, 0);
    msfield(f, h->count ? (double)h->sum_us / (double)h->count : 0.0, 0);
    msfield(f, h->count ? (double)h->min_us : 0.0, 0);
    msfield(f, (double)h->max_us, 0);
    char b[48];
    field(f, hn_fmt_num(b, sizeof b, e->n_requests ? (double)e->content_bytes / e->n_requests : 0,
                        3),
          last);
}

static FILE *open_tmp(const char *prefix, const char *suffix, char *path, size_t n, char *tmp,
                      size_t tn)
{
    snprintf(path, n, "%s%s", prefix, suffix);
    snprintf(tmp, tn, "%s.tmp", path);
    return fopen(tmp, "w");
}

static int commit(FILE *f, const char *tmp, const char *path)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        errno = e ? e : EIO;
        return HN_EIO;
    }
    return 0;
}

static void stats_row(FILE *f, const struct hn_stats_entry *e, double duration_s)
{
    field(f, e->type, 0);
    field(f, e->name, 0);
    ufield(f, e->n_requests);
    ufield(f, e->n_failures);
    summary_fields(f, e, 0);
    numfield(f, duration_s > 0 ? (double)e->n_requests / duration_s : 0);
    numfield(f, duration_s > 0 ? (double)e->n_failures / duration_s : 0);
    percentile_fields(f, &e->hist, e->n_requests, 1);
}

void hn_csv_stats_table(FILE *f, const struct hn_stats *s, double duration_s)
{
    static const char *const cols[] = {"Type", "Name", "Request Count", "Failure Count",
                                       "Median Response Time", "Average Response Time",
                                       "Min Response Time", "Max Response Time",
                                       "Average Content Size", "Requests/s", "Failures/s"};
    header(f, cols, sizeof cols / sizeof cols[0], 1, NULL, 0);
    struct hn_stats_entry **v = hn_stats_sorted(s);
    for (size_t i = 0; i < s->n_entries; i++)
        stats_row(f, v[i], duration_s);
    free(v);
    stats_row(f, &s->total, duration_s);
}

int hn_csv_write_stats(const char *prefix, const struct hn_stats *s, double duration_s)
{
    char path[4096], tmp[4200];
    FILE *f = open_tmp(prefix, "_stats.csv", path, sizeof path, tmp, sizeof tmp);
    if (!f)
        return HN_EIO;
    hn_csv_stats_table(f, s, duration_s);
    return commit(f, tmp, path);
}

int hn_csv_write_failures(const char *prefix, const struct hn_stats *s)
{
    char path[4096], tmp[4200];
    FILE *f = open_tmp(prefix, "_failures.csv", path, sizeof path, tmp, sizeof tmp);
    if (!f)
        return HN_EIO;
    hn_csv_failures_table(f, s);
    return commit(f, tmp, path);
}

void hn_csv_failures_table(FILE *f, const struct hn_stats *s)
{
    static const char *const cols[] = {"Method", "Name", "Error", "Occurrences"};
    header(f, cols, 4, 0, NULL, 0);
    struct hn_stats_error **v = hn_stats_errors_sorted(s);
    for (size_t i = 0; i < s->n_errors; i++) {
        if (!v[i]->occurrences)
            continue; /* cleared by --reset-stats */
        field(f, v[i]->type, 0);
        field(f, v[i]->name, 0);
        field(f, v[i]->message, 0);
        char b[32];
        snprintf(b, sizeof b, "%llu", (unsigned long long)v[i]->occurrences);
        field(f, b, 1);
    }
    free(v);
}

void hn_csv_exceptions_table(FILE *f, const struct hn_exception *ex, size_t n)
{
    static const char *const cols[] = {"Count", "Message", "Traceback", "Nodes"};
    header(f, cols, 4, 0, NULL, 0);
    for (size_t i = 0; i < n; i++) {
        ufield(f, ex[i].count);
        field(f, ex[i].msg, 0);
        field(f, ex[i].traceback, 0);
        field(f, ex[i].nodes, 1);
    }
}

int hn_csv_write_exceptions(const char *prefix, const struct hn_exception *ex, size_t n)
{
    char path[4096], tmp[4200];
    FILE *f = open_tmp(prefix, "_exceptions.csv", path, sizeof path, tmp, sizeof tmp);
    if (!f)
        return HN_EIO;
    hn_csv_exceptions_table(f, ex, n);
    return commit(f, tmp, path);
}

int hn_csv_write_messages(const char *prefix, const struct hn_stats *s)
{
    int any = 0;
    for (size_t i = 0; i < s->n_entries; i++)
        any |= s->entries[i]->msgs_sent || s->entries[i]->msgs_received;
    if (!any)
        return 0;
    static const char *const cols[] = {"Type", "Name", "Messages Sent", "Messages Received",
                                       "Bytes Sent", "Bytes Received"};
    char path[4096], tmp[4200];
    FILE *f = open_tmp(prefix, "_messages.csv", path, sizeof path, tmp, sizeof tmp);
    if (!f)
        return HN_EIO;
    header(f, cols, 6, 0, NULL, 0);
    struct hn_stats_entry **v = hn_stats_sorted(s);
    for (size_t i = 0; i < s->n_entries; i++) {
        const struct hn_stats_entry *e = v[i];
        if (!e->msgs_sent && !e->msgs_received)
            continue;
        field(f, e->type, 0);
        field(f, e->name, 0);
        ufield(f, e->msgs_sent);
        ufield(f, e->msgs_received);
        ufield(f, e->bytes_sent);
        char b[32];
        snprintf(b, sizeof b, "%llu", (unsigned long long)e->bytes_received);
        field(f, b, 1);
    }
    free(v);
    return commit(f, tmp, path);
}

FILE *hn_csv_history_open(const char *prefix)
{
    static const char *const cols[] = {"Timestamp", "User Count", "Type", "Name", "Requests/s",
                                       "Failures/s"};
    static const char *const tail[] = {"Total Request Count",        "Total Failure Count",
                                       "Total Median Response Time", "Total Average Response Time",
                                       "Total Min Response Time",    "Total Max Response Time",
                                       "Total Average Content Size"};
    char path[4096];
    snprintf(path, sizeof path, "%s_stats_history.csv", prefix);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    header(f, cols, 6, 1, tail, 7);
    fflush(f);
    return f;
}

static void history_row(FILE *f, int64_t ts, uint64_t users, const struct hn_stats_entry *e,
                        int64_t now_s, int64_t start_s, const struct hn_hist *window)
{
    char b[64];
    snprintf(b, sizeof b, "%lld", (long long)ts);
    field(f, b, 0);
    ufield(f, users);
    field(f, e->type, 0);
    field(f, e->name, 0);
    snprintf(b, sizeof b, "%f", hn_persec_current(&e->reqs_per_s, now_s, start_s));
    field(f, b, 0);
    snprintf(b, sizeof b, "%f", hn_persec_current(&e->fails_per_s, now_s, start_s));
    field(f, b, 0);
    const struct hn_hist *h = window ? window : &e->hist;
    percentile_fields(f, h, e->n_requests, 0);
    ufield(f, e->n_requests);
    ufield(f, e->n_failures);
    summary_fields(f, e, 1);
}

void hn_csv_history_append(FILE *f, int64_t ts, uint64_t user_count, const struct hn_stats *s,
                           int64_t now_s, int64_t start_s, const struct hn_hist *windows,
                           const struct hn_hist *total_window)
{
    if (windows) {
        struct hn_stats_entry **v = hn_stats_sorted(s);
        for (size_t i = 0; i < s->n_entries; i++)
            history_row(f, ts, user_count, v[i], now_s, start_s, &windows[v[i]->index]);
        free(v);
    }
    history_row(f, ts, user_count, &s->total, now_s, start_s, windows ? total_window : NULL);
}

int hn_csv_write_service_times(const char *prefix, const struct hn_stats *s)
{
    if (!s->total.service || !s->total.service->count)
        return 0;
    static const char *const cols[] = {"Type", "Name", "Request Count", "50%", "95%", "99%",
                                       "100%"};
    char path[4096], tmp[4200];
    FILE *f = open_tmp(prefix, "_service_time.csv", path, sizeof path, tmp, sizeof tmp);
    if (!f)
        return HN_EIO;
    header(f, cols, sizeof cols / sizeof cols[0], 0, NULL, 0);
    struct hn_stats_entry **v = hn_stats_sorted(s);
    for (size_t i = 0; i <= s->n_entries; i++) {
        const struct hn_stats_entry *e = i < s->n_entries ? v[i] : &s->total;
        if (!e->service || !e->service->count)
            continue;
        field(f, e->type, 0);
        field(f, e->name, 0);
        ufield(f, e->service->count);
        msfield(f, (double)hn_hist_percentile(e->service, 0.5), 0);
        msfield(f, (double)hn_hist_percentile(e->service, 0.95), 0);
        msfield(f, (double)hn_hist_percentile(e->service, 0.99), 0);
        msfield(f, (double)e->service->max_us, 1);
    }
    free(v);
    return commit(f, tmp, path);
}

int hn_csv_write_open_model(const char *prefix, double arrival_rate, uint64_t users,
                            uint64_t dropped)
{
    static const char *const cols[] = {"Arrival Rate", "Users", "Dropped Iterations"};
    char path[4096], tmp[4200];
    FILE *f = open_tmp(prefix, "_open_model.csv", path, sizeof path, tmp, sizeof tmp);
    if (!f)
        return HN_EIO;
    header(f, cols, sizeof cols / sizeof cols[0], 0, NULL, 0);
    numfield(f, arrival_rate);
    ufield(f, users);
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)dropped);
    field(f, b, 1);
    return commit(f, tmp, path);
}
