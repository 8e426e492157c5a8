/* Locust-compatible CSV files: PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv,
 * PREFIX_exceptions.csv, with Locust's names, headers, row order and CRLF line ends. Times are
 * milliseconds with up to three decimals, from the exact histogram (no 2-digit rounding).
 * Whole-table files are written to a temporary name and renamed, so a reader never sees half a
 * file. */
#ifndef HN_REPORT_CSV_H
#define HN_REPORT_CSV_H

#include <stdint.h>
#include <stdio.h>

#include "common/stats.h"

struct hn_exception {
    char *msg;
    char *traceback;
    char *nodes; /* comma-separated node ids */
    uint64_t count;
};

/* duration_s: seconds the run has lasted (for Requests/s and Failures/s). Return 0 or HN_EIO
 * (errno kept). */
int hn_csv_write_stats(const char *prefix, const struct hn_stats *s, double duration_s);
int hn_csv_write_failures(const char *prefix, const struct hn_stats *s);
int hn_csv_write_exceptions(const char *prefix, const struct hn_exception *ex, size_t n);

/* hornet's addition: PREFIX_messages.csv (Type, Name, Messages Sent, Messages Received,
 * Bytes Sent, Bytes Received) for rows that carry messages (WebSocket sessions); written only
 * when some row does. */
int hn_csv_write_messages(const char *prefix, const struct hn_stats *s);

/* Opens PREFIX_stats_history.csv and writes its header; NULL on error (errno kept). */
FILE *hn_csv_history_open(const char *prefix);
/* Appends one row per entry (full history) plus the Aggregated row. windows, when not NULL,
 * holds each entry's last-10-seconds histogram by entry index and total_window the total's:
 * full history rows use them for percentiles, as Locust does. */
void hn_csv_history_append(FILE *f, int64_t ts, uint64_t user_count, const struct hn_stats *s,
                           int64_t now_s, int64_t start_s, const struct hn_hist *windows,
                           const struct hn_hist *total_window);

/* One CSV field as Locust writes them (quoted when it must be), then ',' or CRLF if last. */
void hn_csv_field(FILE *f, const char *s, int last);
/* A response time (µs) as Locust writes it in its median and percentile columns: milliseconds
 * rounded to whole ms below 100, to 10 ms below 1 s, to 100 ms below 10 s, then to 1 s. */
long long hn_csv_locust_ms(double us);
/* _stats.csv's and _failures.csv's tables, written to f (the files, and the web API's
 * downloads). */
void hn_csv_stats_table(FILE *f, const struct hn_stats *s, double duration_s);
void hn_csv_failures_table(FILE *f, const struct hn_stats *s);
void hn_csv_exceptions_table(FILE *f, const struct hn_exception *ex, size_t n);

/* Open model: PREFIX_open_model.csv, the run's arrival rate, pool and dropped iterations
 * (Arrival Rate,Users,Dropped Iterations). Returns 0 or HN_EIO. */
int hn_csv_write_open_model(const char *prefix, double arrival_rate, uint64_t users,
                            uint64_t dropped);

/* Open model: PREFIX_service_time.csv, the uncorrected service times beside _stats.csv's
 * corrected ones (Type,Name,Request Count,50%,95%,99%,100%). Nothing is written without
 * them; returns 0 or HN_EIO. */
int hn_csv_write_service_times(const char *prefix, const struct hn_stats *s);

#endif
