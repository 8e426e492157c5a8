/* Request statistics, keyed like Locust's: entries by (type, name), errors by (type, name,
 * message). One table per worker loop (deltas since the last report) and one on the master (the
 * merged run). Rows are general: type is an HTTP method today, "WS" and others later.
 *
 * Entries are heap objects whose addresses never change, so the worker resolves a step's entry
 * once and records into it directly on the hot path. Not thread-safe. */
#ifndef HN_STATS_H
#define HN_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "common/histogram.h"

#define HN_PERSEC_SLOTS 32 /* seconds of per-second counts kept (ring) */
#define HN_STATS_WINDOW 10 /* seconds for "current" percentiles (Locust's window) */

/* The percentiles Locust reports, and their column names. */
#define HN_N_PERCENTILES 11
extern const double hn_percentiles[HN_N_PERCENTILES];
extern const char *const hn_percentile_names[HN_N_PERCENTILES];

/* Counts per unix second, for the last HN_PERSEC_SLOTS seconds. */
struct hn_persec {
    int64_t sec[HN_PERSEC_SLOTS];
    uint64_t n[HN_PERSEC_SLOTS];
};
void hn_persec_add(struct hn_persec *p, int64_t sec, uint64_t n);
uint64_t hn_persec_get(const struct hn_persec *p, int64_t sec);

struct hn_stats_entry {
    uint32_t index; /* position in hn_stats.entries (insertion order) */
    char *type;
    char *name;
    uint64_t n_requests;
    uint64_t n_failures;
    uint64_t content_bytes;
    /* message counters (WebSocket session rows): sent / received messages and bytes */
    uint64_t msgs_sent, msgs_received, bytes_sent, bytes_received;
    struct hn_hist hist; /* holds sum, min, max of response times */
    struct hn_persec reqs_per_s;
    struct hn_persec fails_per_s;
    /* open model: the uncorrected service times (hist holds the times from each iteration's
     * intended start); NULL unless some were recorded */
    struct hn_hist *service;
};

struct hn_stats_error {
    char *type;
    char *name;
    char *message;
    uint64_t occurrences;
};

struct hn_stats {
    struct hn_stats_entry **entries; /* in insertion order */
    size_t n_entries, cap_entries;
    struct hn_stats_error **errors;
    size_t n_errors, cap_errors;
    /* open-addressing indexes over entries / errors (index + 1; 0 = empty) */
    uint32_t *entry_index, *error_index;
    size_t index_cap, error_index_cap;
    struct hn_stats_entry total; /* "Aggregated"; maintained only by hn_stats_merge */
    uint64_t dropped_iterations; /* open model: iterations due when no user was free */
    uint64_t iterations;         /* task iterations ended (for -i/--iterations) */
    uint64_t conns_opened;       /* native HTTP engine: connections opened */
    uint64_t conns_reused;       /* native HTTP engine: requests sent on a reused connection */
};

void hn_stats_init(struct hn_stats *s);
void hn_stats_fini(struct hn_stats *s);
/* Zeroes every count but keeps entries (the worker reuses them after each report). */
void hn_stats_reset(struct hn_stats *s);

/* Finds or creates the (type, name) entry. The pointer stays valid until hn_stats_fini. */
struct hn_stats_entry *hn_stats_entry(struct hn_stats *s, const char *type, const char *name);
struct hn_stats_entry *hn_stats_find(const struct hn_stats *s, const char *type, const char *name);
/* Distinct error rows kept; later new messages are counted under HN_STATS_OTHER_ERRORS. */
#define HN_STATS_MAX_ERRORS 1000
#define HN_STATS_OTHER_ERRORS "(other errors: more than 1000 distinct messages)"

/* Adds n occurrences of an error (message copied on first use). Past HN_STATS_MAX_ERRORS
 * distinct rows a new message is counted in the (type, name, HN_STATS_OTHER_ERRORS) row. */
void hn_stats_error_add(struct hn_stats *s, const char *type, const char *name,
                        const char *message, uint64_t n);

/* Hot path: one completed request, successful or not (Locust records a failure's response time). */
static inline void hn_stats_record(struct hn_stats_entry *e, uint64_t latency_us,
                                   uint64_t content_bytes, int64_t now_s, int failed)
{
    e->n_requests++;
    e->content_bytes += content_bytes;
    hn_hist_record(&e->hist, latency_us);
    hn_persec_add(&e->reqs_per_s, now_s, 1);
    if (failed) {
        e->n_failures++;
        hn_persec_add(&e->fails_per_s, now_s, 1);
    }
}

/* Does the entry hold anything worth reporting? */
static inline int hn_stats_entry_used(const struct hn_stats_entry *e)
{
    return e->n_requests || e->msgs_sent || e->msgs_received;
}

/* Open model: one request's service time (from its actual send), beside the corrected time
 * hn_stats_record keeps. */
void hn_stats_record_service(struct hn_stats_entry *e, uint64_t service_us);

/* Whether a row counts in Aggregated: requests, WebSocket connects and messages do; a
 * WebSocket session row (type WS, name "session ...": how long a whole session was held) is
 * its own row only, so Aggregated's percentiles and thresholds judge requests. */
int hn_stats_in_total(const struct hn_stats_entry *e);

/* Adds every count of src into dst: entries into the matching entries and into dst->total,
 * errors into errors. Used by the master for each worker delta. */
void hn_stats_merge(struct hn_stats *dst, const struct hn_stats *src);
void hn_stats_entry_merge(struct hn_stats_entry *dst, const struct hn_stats_entry *src);

/* Entries sorted by (name, type), as Locust prints and writes them. Caller frees the array. */
struct hn_stats_entry **hn_stats_sorted(const struct hn_stats *s);
/* Errors sorted by (name, type, message). Caller frees the array. */
struct hn_stats_error **hn_stats_errors_sorted(const struct hn_stats *s);

/* Locust's current_rps: the mean of the per-second counts over [now-12, now-2), not before
 * start_s. */
double hn_persec_current(const struct hn_persec *p, int64_t now_s, int64_t start_s);

/* Formats a microsecond value as milliseconds with at most 3 decimals, trailing zeros trimmed
 * ("50", "0.312", "1234.5"). Returns buf. */
char *hn_fmt_ms(char *buf, size_t n, double us);
/* Formats a double with at most `decimals` decimals, trailing zeros trimmed. Returns buf. */
char *hn_fmt_num(char *buf, size_t n, double v, int decimals);

#endif
