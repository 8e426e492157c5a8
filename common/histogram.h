/* An HDR-style log-linear histogram of microsecond values with 3 significant digits.
 *
 * Values below 2048 us are counted exactly; above, each power-of-two range [2^k, 2^(k+1)) is cut
 * into 1024 equal buckets, so a bucket is never wider than 1/1024 of its lowest value (relative
 * error < 0.1%). Values up to HN_HIST_MAX_US (~38 h) are kept; larger ones are clamped (and still
 * counted in min/max/sum exactly). Counts live in 1024-bucket chunks allocated on first use, so a
 * histogram of latencies that span two decades costs tens of KiB, not the whole range.
 *
 * Min, max, sum and count are exact. Merging is exact: merge(a, b) equals the histogram of the
 * union of both sample sets. Not thread-safe; one histogram per loop, merged (wrk2). */
#ifndef HN_HISTOGRAM_H
#define HN_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define HN_HIST_SUB_BITS 10                       /* 1024 sub-buckets per power of two */
#define HN_HIST_EXACT (2u << HN_HIST_SUB_BITS)    /* values below 2048 are exact */
#define HN_HIST_NCHUNKS 28                        /* chunk 0: exact range; k: [2^(k+10), 2^(k+11)) */
#define HN_HIST_NBUCKETS (HN_HIST_EXACT + (HN_HIST_NCHUNKS - 1) * (1u << HN_HIST_SUB_BITS))
#define HN_HIST_MAX_US ((UINT64_C(1) << (HN_HIST_NCHUNKS + HN_HIST_SUB_BITS)) - 1)

struct hn_hist {
    uint64_t *chunks[HN_HIST_NCHUNKS]; /* NULL until a value lands there */
    uint64_t count;
    uint64_t sum_us;
    uint64_t min_us; /* UINT64_MAX when empty */
    uint64_t max_us;
};

void hn_hist_init(struct hn_hist *h);
void hn_hist_fini(struct hn_hist *h);
/* Zeroes counts but keeps the chunks allocated (reused next interval). */
void hn_hist_reset(struct hn_hist *h);

void hn_hist_record(struct hn_hist *h, uint64_t value_us);
/* Adds every sample of src to dst. */
void hn_hist_merge(struct hn_hist *dst, const struct hn_hist *src);

/* Locust's percentile rule: the value of the sample at rank min(N, floor(N*q)+1) in ascending
 * order, q in [0, 1]. Reported as the bucket's midpoint, clamped to [min, max]; exact below
 * 2048 us. Returns 0 for an empty histogram. */
uint64_t hn_hist_percentile(const struct hn_hist *h, double q);

/* Bucket index of a value, and the lowest / highest value a bucket holds. */
uint32_t hn_hist_index(uint64_t value_us);
uint64_t hn_hist_bucket_low(uint32_t index);
uint64_t hn_hist_bucket_high(uint32_t index);

/* Sparse form for the wire: calls fn for each non-zero bucket in ascending order. */
typedef void (*hn_hist_bucket_fn)(void *ctx, uint32_t index, uint64_t count);
void hn_hist_foreach(const struct hn_hist *h, hn_hist_bucket_fn fn, void *ctx);
size_t hn_hist_nonzero(const struct hn_hist *h);
/* Adds count samples to a bucket without touching min/max/sum (the decoder sets those from the
 * wire). Returns HN_ERANGE for an index outside the histogram. */
int hn_hist_add_bucket(struct hn_hist *h, uint32_t index, uint64_t count);

#endif
