/* Locust's console tables: the live request table (every 2 s), and at the end the request
 * table, the response-time percentiles table and the error report. Writes to the given FILE. */
#ifndef HN_CONSOLE_H
#define HN_CONSOLE_H

#include <stdint.h>
#include <stdio.h>

#include "common/stats.h"

/* current: req/s over the last 10 s (live) instead of over the whole run (final). */
void hn_console_stats(FILE *f, const struct hn_stats *s, int current, int64_t now_s,
                      int64_t start_s, double duration_s);
/* The line above each live table: elapsed / run time as a progress bar, users now / target,
 * workers, current req/s and failure percentage. run_time_s 0 = until interrupted. */
void hn_console_status(FILE *f, double elapsed_s, double run_time_s, uint64_t users,
                       uint64_t target, size_t workers, double rps, double fail_pct);
void hn_console_percentiles(FILE *f, const struct hn_stats *s);
void hn_console_errors(FILE *f, const struct hn_stats *s);

/* Open model: the uncorrected service times beside the corrected table (nothing otherwise). */
void hn_console_service_times(FILE *f, const struct hn_stats *s);

#endif
