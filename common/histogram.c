#include "common/histogram.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define SUB_COUNT (1u << HN_HIST_SUB_BITS)

static size_t chunk_len(unsigned c) { return c == 0 ? HN_HIST_EXACT : SUB_COUNT; }

/* A chunk is its counts followed by an occupancy bitmap (one bit per bucket that was ever
 * counted since the last reset), so merging, walking and percentiles visit only the buckets in
 * use: a delta of a few samples merges in a few steps, not a few thousand. */
static size_t chunk_words(unsigned c) { return chunk_len(c) + chunk_len(c) / 64; }
static uint64_t *occ(uint64_t *chunk, unsigned c) { return chunk + chunk_len(c); }
static const uint64_t *occ_c(const uint64_t *chunk, unsigned c) { return chunk + chunk_len(c); }

static uint64_t *chunk_new(unsigned c) { return hn_calloc(chunk_words(c), sizeof(uint64_t)); }

static uint32_t chunk_base(unsigned c)
{
    return c == 0 ? 0 : HN_HIST_EXACT + (c - 1) * SUB_COUNT;
}

void hn_hist_init(struct hn_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min_us = UINT64_MAX;
}

void hn_hist_fini(struct hn_hist *h)
{
    for (unsigned c = 0; c < HN_HIST_NCHUNKS; c++)
        free(h->chunks[c]);
    hn_hist_init(h);
}

void hn_hist_reset(struct hn_hist *h)
{
    for (unsigned c = 0; c < HN_HIST_NCHUNKS; c++)
        if (h->chunks[c]) /* only the words the bitmap says were used */
            for (size_t w = 0; w < chunk_len(c) / 64; w++) {
                uint64_t bits = occ(h->chunks[c], c)[w];
                if (!bits)
                    continue;
                memset(h->chunks[c] + w * 64, 0, 64 * sizeof(uint64_t));
                occ(h->chunks[c], c)[w] = 0;
            }
    h->count = h->sum_us = h->max_us = 0;
    h->min_us = UINT64_MAX;
}

uint32_t hn_hist_index(uint64_t v)
{
    if (v > HN_HIST_MAX_US)
        v = HN_HIST_MAX_US;
    if (v < HN_HIST_EXACT)
        return (uint32_t)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v) - HN_HIST_SUB_BITS; /* >= 1 */
    return HN_HIST_EXACT + (e - 1) * SUB_COUNT + (uint32_t)((v >> e) - SUB_COUNT);
}

uint64_t hn_hist_bucket_low(uint32_t index)
{
    if (index < HN_HIST_EXACT)
        return index;
    uint32_t off = index - HN_HIST_EXACT;
    unsigned e = off / SUB_COUNT + 1;
    return (uint64_t)(SUB_COUNT + off % SUB_COUNT) << e;
}

uint64_t hn_hist_bucket_high(uint32_t index)
{
    if (index < HN_HIST_EXACT)
        return index;
    unsigned e = (index - HN_HIST_EXACT) / SUB_COUNT + 1;
    return hn_hist_bucket_low(index) + (UINT64_C(1) << e) - 1;
}

static uint64_t *slot(struct hn_hist *h, uint32_t index)
{
    unsigned c = index < HN_HIST_EXACT ? 0 : (index - HN_HIST_EXACT) / SUB_COUNT + 1;
    if (!h->chunks[c])
        h->chunks[c] = chunk_new(c);
    uint32_t i = index - chunk_base(c);
    occ(h->chunks[c], c)[i / 64] |= UINT64_C(1) << (i % 64);
    return &h->chunks[c][i];
}

void hn_hist_record(struct hn_hist *h, uint64_t v)
{
    (*slot(h, hn_hist_index(v)))++;
    h->count++;
    h->sum_us += v;
    if (v < h->min_us)
        h->min_us = v;
    if (v > h->max_us)
        h->max_us = v;
}

int hn_hist_add_bucket(struct hn_hist *h, uint32_t index, uint64_t count)
{
    if (index >= HN_HIST_NBUCKETS)
        return HN_ERANGE;
    *slot(h, index) += count;
    h->count += count;
    return 0;
}

void hn_hist_merge(struct hn_hist *dst, const struct hn_hist *src)
{
    for (unsigned c = 0; c < HN_HIST_NCHUNKS; c++) {
        const uint64_t *s = src->chunks[c];
        if (!s)
            continue;
        const uint64_t *so = occ_c(s, c);
        uint64_t *d = dst->chunks[c];
        for (size_t w = 0; w < chunk_len(c) / 64; w++) {
            uint64_t bits = so[w];
            while (bits) {
                size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
                bits &= bits - 1;
                if (!s[i])
                    continue; /* used since the reset, zero now: nothing to add */
                if (!d)
                    d = dst->chunks[c] = chunk_new(c);
                d[i] += s[i];
                occ(d, c)[w] |= UINT64_C(1) << (i % 64);
            }
        }
    }
    dst->count += src->count;
    dst->sum_us += src->sum_us;
    if (src->min_us < dst->min_us)
        dst->min_us = src->min_us;
    if (src->max_us > dst->max_us)
        dst->max_us = src->max_us;
}

uint64_t hn_hist_percentile(const struct hn_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q < 0)
        q = 0;
    uint64_t rank = (uint64_t)((double)h->count * q) + 1;
    if (rank > h->count)
        rank = h->count;
    if (rank == h->count)
        return h->max_us;
    uint64_t seen = 0;
    for (unsigned c = 0; c < HN_HIST_NCHUNKS; c++) {
        const uint64_t *s = h->chunks[c];
        if (!s)
            continue;
        for (size_t w = 0; w < chunk_len(c) / 64; w++)
        for (uint64_t bits = occ_c(s, c)[w]; bits; bits &= bits - 1) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
            if (!s[i])
                continue;
            seen += s[i];
            if (seen >= rank) {
                uint32_t idx = chunk_base(c) + (uint32_t)i;
                uint64_t lo = hn_hist_bucket_low(idx), hi = hn_hist_bucket_high(idx);
                uint64_t v = lo + (hi - lo) / 2;
                if (v < h->min_us)
                    v = h->min_us;
                if (v > h->max_us)
                    v = h->max_us;
                return v;
            }
        }
    }
    return h->max_us;
}

void hn_hist_foreach(const struct hn_hist *h, hn_hist_bucket_fn fn, void *ctx)
{
    for (unsigned c = 0; c < HN_HIST_NCHUNKS; c++) {
        const uint64_t *s = h->chunks[c];
        if (!s)
            continue;
        for (size_t w = 0; w < chunk_len(c) / 64; w++)
            for (uint64_t bits = occ_c(s, c)[w]; bits; bits &= bits - 1) {
                size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
                if (s[i])
                    fn(ctx, chunk_base(c) + (uint32_t)i, s[i]);
            }
    }
}

static void count_one(void *ctx, uint32_t index, uint64_t count)
{
    (void)index;
    (void)count;
    (*(size_t *)ctx)++;
}

size_t hn_hist_nonzero(const struct hn_hist *h)
{
    size_t n = 0;
    hn_hist_foreach(h, count_one, &n);
    return n;
}
