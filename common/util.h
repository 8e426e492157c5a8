/* Small shared helpers: aborting allocation, error codes, exit codes, clocks, durations, and a
 * seeded PRNG. No I/O policy lives here. */
#ifndef HN_UTIL_H
#define HN_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Error codes: functions return 0 or one of these (negative). */
enum {
    HN_OK = 0,
    HN_EINVAL = -1,   /* malformed input */
    HN_ENOMEM = -2,   /* a cap was hit */
    HN_EIO = -3,      /* an OS call failed */
    HN_EAGAIN = -4,   /* nothing available now */
    HN_EPROTO = -5,   /* peer spoke a different protocol */
    HN_ERANGE = -6,   /* value out of range */
};
const char *hn_strerror(int err);

/* Exit codes of the hornet binary (documented in README.md). */
enum {
    HN_EXIT_OK = 0,
    HN_EXIT_FAILURES = 1,  /* run finished, some requests failed (--exit-code-on-error) */
    HN_EXIT_USAGE = 2,     /* bad flag or flag value */
    HN_EXIT_CONFIG = 3,    /* scenario file missing or invalid */
    HN_EXIT_CLUSTER = 4,   /* master/worker could not connect, protocol mismatch, lost peer */
    HN_EXIT_RUNTIME = 5,   /* the OS refused something we need (bind, fork, file write) */
    HN_EXIT_PERSISTENCE = 6, /* the run history could not be written (CSV was) */
    HN_EXIT_THRESHOLDS = 99,      /* a threshold failed (k6's code) */
    HN_EXIT_THRESHOLD_ABORT = 100, /* a threshold with abort_on_fail ended the run early */
    HN_EXIT_INTERRUPTED = 130,
};

/* Allocation that aborts on out-of-memory: callers never check. */
void *hn_malloc(size_t n);
void *hn_calloc(size_t n, size_t size);
void *hn_realloc(void *p, size_t n);
char *hn_strdup(const char *s);
char *hn_strndup(const char *s, size_t n);

/* Programming errors: log file:line and abort. */
#define hn_assert(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            hn_assert_fail(#cond, __FILE__, __LINE__);                                             \
    } while (0)
void hn_assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));

/* Monotonic clock in microseconds, and wall clock in milliseconds / seconds since the epoch. */
uint64_t hn_mono_us(void);
int64_t hn_wall_ms(void);

/* Parses a Locust/k6 timespan: "30", "30s", "500ms", "5m", "1h30m", "2h5m10s". Plain numbers are
 * seconds. Returns 0 and *ms, or HN_EINVAL. */
int hn_parse_duration_ms(const char *s, int64_t *ms);
/* Parses a non-negative decimal integer with no trailing garbage. */
int hn_parse_u64(const char *s, uint64_t *out);
int hn_parse_double(const char *s, double *out);

/* xorshift64* PRNG: small, fast, per-loop state (never shared across threads). */
struct hn_rng {
    uint64_t s;
};
void hn_rng_seed(struct hn_rng *r, uint64_t seed);
uint64_t hn_rng_next(struct hn_rng *r);
/* Uniform in [0, n), n > 0, without modulo bias. */
uint64_t hn_rng_below(struct hn_rng *r, uint64_t n);
/* Uniform double in [0, 1). */
double hn_rng_unit(struct hn_rng *r);

/* Checks a base URL a run targets: http:// or https://, a host name, IPv4 or bracketed IPv6
 * address, an optional port from 1 to 65535, an optional path; no spaces or control characters.
 * Returns 0, or HN_EINVAL with what is wrong in why ("port 99999 is out of range"). */
int hn_url_check(const char *url, char *why, size_t n);
/* A small file (up to 1 MiB) read whole, NUL-terminated. Returns 0 or HN_EIO (errno kept). */
int hn_read_file(const char *path, char **out, size_t *len);

/* Levenshtein distance, capped at 16 (for did-you-mean suggestions). */
int hn_edit_distance(const char *a, const char *b);

#endif
