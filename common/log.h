/* Logging: one line per event on stderr, Locust-like "[time] LEVEL component: message".
 * The level and the component name are process-wide; not thread-safe (hornet is single-threaded
 * per process). */
#ifndef HN_LOG_H
#define HN_LOG_H

#include <stdint.h>
#include <stdio.h>

enum hn_log_level { HN_LOG_DEBUG, HN_LOG_INFO, HN_LOG_WARNING, HN_LOG_ERROR, HN_LOG_CRITICAL };

void hn_log_set_level(int level);
/* --logfile: lines go to f instead of stderr (NULL: back to stderr). */
void hn_log_set_file(FILE *f);
/* Parses DEBUG/INFO/WARNING/ERROR/CRITICAL (any case). Returns 0 or -1. */
int hn_log_parse_level(const char *s, int *level);
/* Component shown in each line, e.g. "master" or "worker host_123". Copied. */
void hn_log_set_component(const char *name);

void hn_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Control characters in a message are written as \xNN: one event, one line. */

/* Lines about one source (a peer, a worker) per second: allow lets at most per_s through in
 * each one-second window and counts the rest; when a new window opens, *suppressed says how many
 * the last one held back (say so in the next line that passes). Pure: the caller passes now. */
struct hn_ratelimit {
    uint64_t window_start_us;
    unsigned n, suppressed;
};
int hn_ratelimit_allow(struct hn_ratelimit *rl, uint64_t now_us, unsigned per_s,
                       unsigned *suppressed);

#define hn_debug(...) hn_log(HN_LOG_DEBUG, __VA_ARGS__)
#define hn_info(...) hn_log(HN_LOG_INFO, __VA_ARGS__)
#define hn_warn(...) hn_log(HN_LOG_WARNING, __VA_ARGS__)
#define hn_error(...) hn_log(HN_LOG_ERROR, __VA_ARGS__)

#endif
