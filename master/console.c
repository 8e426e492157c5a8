#include "master/console.h"

#include <stdlib.h>
#include <string.h>

#define TYPE_W 8
#define NAME_W 60

static void dashes(FILE *f, int n)
{
    for (int i = 0; i < n; i++)
        fputc('-', f);
}

static void separator(FILE *f)
{
    int widths[] = {TYPE_W, NAME_W - TYPE_W + 4, 7, 13, 7, 7, 7, 7, 8, 11};
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        if (i)
            fputc('|', f);
        dashes(f, widths[i]);
    }
    fputc('\n', f);
}

static void row(FILE *f, const struct hn_stats_entry *e, int current, int64_t now_s,
                int64_t start_s, double duration_s)
{
    const struct hn_hist *h = &e->hist;
    double rps, fps;
    if (current) {
        rps = hn_persec_current(&e->reqs_per_s, now_s, start_s);
        fps = hn_persec_current(&e->fails_per_s, now_s, start_s);
    } else {
        rps = duration_s > 0 ? (double)e->n_requests / duration_s : 0;
        fps = duration_s > 0 ? (double)e->n_failures / duration_s : 0;
    }
    char fails[48];
    snprintf(fails, sizeof fails, "%llu(%.2f%%)", (unsigned long long)e->n_failures,
             e->n_requests ? 100.0 * (double)e->n_failures / (double)e->n_requests : 0.0);
    char type[TYPE_W + 2];
    snprintf(type, sizeof type, "%s", e->type);
    fprintf(f, "%-*s %-*s %7llu %12s |%7.0f %7.0f %7.0f%7.0f | %7.2f %11.2f\n", TYPE_W, type,
            NAME_W - TYPE_W + 4, e->name, (unsigned long long)e->n_requests, fails,
            h->count ? (double)h->sum_us / (double)h->count / 1000.0 : 0.0,
            h->count ? (double)h->min_us / 1000.0 : 0.0, (double)h->max_us / 1000.0,
            (double)hn_hist_percentile(h, 0.5) / 1000.0, rps, fps);
}

void hn_console_stats(FILE *f, const struct hn_stats *s, int current, int64_t now_s,
                      int64_t start_s, double duration_s)
{
    fprintf(f, "%-*s %-*s %7s %12s |%7s %7s %7s%7s | %7s %11s\n", TYPE_W, "Type",
            NAME_W - TYPE_W + 4, "Name", "# reqs", "# fails", "Avg", "Min", "Max", "Med", "req/s",
            "failures/s");
    separator(f);
    struct hn_stats_entry **v = hn_stats_sorted(s);
    for (size_t i = 0; i < s->n_entries; i++)
        row(f, v[i], current, now_s, start_s, duration_s);
    free(v);
    separator(f);
    row(f, &s->total, current, now_s, start_s, duration_s);
    fputc('\n', f);
    fflush(f);
}

void hn_console_percentiles(FILE *f, const struct hn_stats *s)
{
    fprintf(f, "Response time percentiles (approximated)\n");
    fprintf(f, "%-*s %-*s", TYPE_W, "Type", NAME_W, "Name");
    for (int i = 0; i < HN_N_PERCENTILES; i++)
        fprintf(f, i == 0 ? " %8s" : " %6s", hn_percentile_names[i]);
    fprintf(f, " %6s\n", "# reqs");
    dashes(f, TYPE_W);
    fputc('|', f);
    dashes(f, NAME_W);
    fputc('|', f);
    dashes(f, 8);
    for (int i = 1; i <= HN_N_PERCENTILES; i++) {
        fputc('|', f);
        dashes(f, 6);
    }
    fputc('\n', f);
    struct hn_stats_entry **v = hn_stats_sorted(s);
    for (size_t i = 0; i <= s->n_entries; i++) {
        const struct hn_stats_entry *e = i < s->n_entries ? v[i] : &s->total;
        if (i == s->n_entries) {
            dashes(f, TYPE_W);
            fputc('|', f);
            dashes(f, NAME_W);
            fputc('|', f);
            dashes(f, 8);
            for (int k = 1; k <= HN_N_PERCENTILES; k++) {
                fputc('|', f);
                dashes(f, 6);
            }
            fputc('\n', f);
        }
        if (!e->hist.count)
            continue;
        fprintf(f, "%-*s %-*s", TYPE_W, e->type, NAME_W, e->name);
        for (int k = 0; k < HN_N_PERCENTILES; k++)
            fprintf(f, k == 0 ? " %8.0f" : " %6.0f",
                    (double)hn_hist_percentile(&e->hist, hn_percentiles[k]) / 1000.0);
        fprintf(f, " %6llu\n", (unsigned long long)e->n_requests);
    }
    free(v);
    fputc('\n', f);
    fflush(f);
}

void hn_console_errors(FILE *f, const struct hn_stats *s)
{
    if (!s->n_errors)
        return;
    fprintf(f, "Error report\n");
    fprintf(f, "%-18s %-100s\n", "# occurrences", "Error");
    dashes(f, 18);
    fputc('|', f);
    dashes(f, 80 + NAME_W - 19);
    fputc('\n', f);
    struct hn_stats_error **v = hn_stats_errors_sorted(s);
    for (size_t i = 0; i < s->n_errors; i++)
        if (v[i]->occurrences) /* none: cleared by --reset-stats */
            fprintf(f, "%-18llu %s %s: %s\n", (unsigned long long)v[i]->occurrences,
                    v[i]->type, v[i]->name, v[i]->message);
    free(v);
    dashes(f, 18);
    fputc('|', f);
    dashes(f, 80 + NAME_W - 19);
    fputc('\n', f);
    fputc('\n', f);
    fflush(f);
}

void hn_console_status(FILE *f, double elapsed_s, double run_time_s, uint64_t users,
                       uint64_t target, size_t workers, double rps, double fail_pct)
{
    char bar[32];
    const int width = 20;
    int filled = run_time_s > 0 ? (int)(width * (elapsed_s / run_time_s) + 0.5) : 0;
    if (filled > width)
        filled = width;
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    if (run_time_s > 0)
        fprintf(f, "[%s] %.0fs/%.0fs", bar, elapsed_s, run_time_s);
    else
        fprintf(f, "%.0fs (until Ctrl-C)", elapsed_s);
    fprintf(f, " | users %llu/%llu | workers %zu | %.1f req/s | %.2f%% failed\n",
            (unsigned long long)users, (unsigned long long)target, workers, rps, fail_pct);
}

void hn_console_service_times(FILE *f, const struct hn_stats *s)
{
    if (!s->total.service || !s->total.service->count)
        return;
    fprintf(f, "\nOpen model: the times above are from each iteration's intended start "
               "(coordinated omission corrected); the service times, from each request's "
               "actual send (ms):\n");
    fprintf(f, "%-*s %-*s %8s %8s %8s %8s %8s\n", TYPE_W, "Type", NAME_W, "Name", "50%", "95%",
            "99%", "100%", "# reqs");
    struct hn_stats_entry **v = hn_stats_sorted(s);
    for (size_t i = 0; i <= s->n_entries; i++) {
        const struct hn_stats_entry *e = i < s->n_entries ? v[i] : &s->total;
        if (!e->service || !e->service->count)
            continue;
        fprintf(f, "%-*s %-*.*s %8.1f %8.1f %8.1f %8.1f %8llu\n", TYPE_W, e->type, NAME_W,
                NAME_W, e->name, (double)hn_hist_percentile(e->service, 0.5) / 1000.0,
                (double)hn_hist_percentile(e->service, 0.95) / 1000.0,
                (double)hn_hist_percentile(e->service, 0.99) / 1000.0,
                (double)e->service->max_us / 1000.0, (unsigned long long)e->service->count);
    }
    free(v);
}
