/* Histogram: percentiles against an exact sort, exact merge, sparse round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/histogram.h"
#include "common/util.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Locust's rank rule: the sample at rank min(N, floor(N*q)+1). */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double q)
{
    size_t rank = (size_t)((double)n * q) + 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static void check_distribution(uint64_t (*gen)(struct hn_rng *), size_t n, uint64_t seed)
{
    struct hn_rng rng;
    hn_rng_seed(&rng, seed);
    uint64_t *v = malloc(n * sizeof *v);
    struct hn_hist h;
    hn_hist_init(&h);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        v[i] = gen(&rng);
        sum += v[i];
        hn_hist_record(&h, v[i]);
    }
    qsort(v, n, sizeof *v, cmp_u64);
    assert_int_equal(h.count, n);
    assert_int_equal(h.sum_us, sum);
    assert_int_equal(h.min_us, v[0]);
    assert_int_equal(h.max_us, v[n - 1]);
    const double qs[] = {0, 0.01, 0.1, 0.25, 0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999,
                         0.9999, 1.0};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        uint64_t want = exact_percentile(v, n, qs[i]);
        uint64_t got = hn_hist_percentile(&h, qs[i]);
        double rel = want ? (double)(got > want ? got - want : want - got) / (double)want : 0;
        if (rel > 1.0 / 1024) {
            fprintf(stderr, "q=%g: histogram %llu, exact %llu (relative error %g)\n", qs[i],
                    (unsigned long long)got, (unsigned long long)want, rel);
            fail();
        }
        if (want < HN_HIST_EXACT)
            assert_int_equal(got, want); /* exact below 2048 us */
    }
    hn_hist_fini(&h);
    free(v);
}

static uint64_t gen_uniform(struct hn_rng *r) { return 1 + hn_rng_below(r, 5000000); }
static uint64_t gen_small(struct hn_rng *r) { return hn_rng_below(r, 3000); }
static uint64_t gen_lognormal(struct hn_rng *r)
{
    /* heavy tail spanning 1 us .. ~1 h */
    double e = hn_rng_unit(r) * 21.7;
    return (uint64_t)(1 << (int)e) + hn_rng_below(r, 1u << (int)(e > 1 ? e - 1 : 1));
}

static void test_percentiles_match_exact_sort(void **state)
{
    (void)state;
    check_distribution(gen_uniform, 200000, 1);
    check_distribution(gen_small, 50000, 2);
    check_distribution(gen_lognormal, 200000, 3);
    check_distribution(gen_uniform, 1, 4);
    check_distribution(gen_uniform, 7, 5);
}

static void test_bucket_bounds(void **state)
{
    (void)state;
    /* every bucket's low and high map back to it, and widths stay under 1/1024 of the value */
    for (uint32_t i = 0; i < HN_HIST_NBUCKETS; i++) {
        uint64_t lo = hn_hist_bucket_low(i), hi = hn_hist_bucket_high(i);
        assert_int_equal(hn_hist_index(lo), i);
        assert_int_equal(hn_hist_index(hi), i);
        if (i + 1 < HN_HIST_NBUCKETS)
            assert_int_equal(hn_hist_bucket_low(i + 1), hi + 1);
        assert_true((double)(hi - lo) <= (double)lo / 1024.0);
    }
    /* one hour fits; beyond the range clamps into the last bucket */
    assert_true(hn_hist_index(3600ull * 1000000) < HN_HIST_NBUCKETS);
    assert_int_equal(hn_hist_index(UINT64_MAX), HN_HIST_NBUCKETS - 1);
}

static void test_huge_values_keep_exact_extremes(void **state)
{
    (void)state;
    struct hn_hist h;
    hn_hist_init(&h);
    hn_hist_record(&h, UINT64_C(1) << 50);
    hn_hist_record(&h, 3);
    assert_int_equal(h.max_us, UINT64_C(1) << 50);
    assert_int_equal(hn_hist_percentile(&h, 1.0), UINT64_C(1) << 50);
    assert_int_equal(hn_hist_percentile(&h, 0.0), 3);
    hn_hist_fini(&h);
}

static void test_merge_equals_union(void **state)
{
    (void)state;
    struct hn_rng rng;
    hn_rng_seed(&rng, 42);
    struct hn_hist a, b, all;
    hn_hist_init(&a);
    hn_hist_init(&b);
    hn_hist_init(&all);
    for (int i = 0; i < 100000; i++) {
        uint64_t v = gen_lognormal(&rng);
        hn_hist_record(i % 3 ? &a : &b, v);
        hn_hist_record(&all, v);
    }
    hn_hist_merge(&a, &b);
    assert_int_equal(a.count, all.count);
    assert_int_equal(a.sum_us, all.sum_us);
    assert_int_equal(a.min_us, all.min_us);
    assert_int_equal(a.max_us, all.max_us);
    for (unsigned c = 0; c < HN_HIST_NCHUNKS; c++) {
        assert_int_equal(a.chunks[c] != NULL, all.chunks[c] != NULL);
        if (a.chunks[c])
            assert_memory_equal(a.chunks[c], all.chunks[c],
                                (c ? 1024 : HN_HIST_EXACT) * sizeof(uint64_t));
    }
    /* merging into an empty histogram copies */
    struct hn_hist e;
    hn_hist_init(&e);
    hn_hist_merge(&e, &all);
    for (double q = 0; q <= 1.0; q += 0.05)
        assert_int_equal(hn_hist_percentile(&e, q), hn_hist_percentile(&all, q));
    hn_hist_fini(&e);
    hn_hist_fini(&a);
    hn_hist_fini(&b);
    hn_hist_fini(&all);
}

struct sink {
    struct hn_hist *h;
    size_t n;
};

static void copy_bucket(void *ctx, uint32_t index, uint64_t count)
{
    struct sink *s = ctx;
    assert_int_equal(hn_hist_add_bucket(s->h, index, count), 0);
    s->n++;
}

static void test_sparse_round_trip_and_reset(void **state)
{
    (void)state;
    struct hn_hist h, copy;
    hn_hist_init(&h);
    hn_hist_init(&copy);
    uint64_t vals[] = {1, 1, 2, 5000, 5001, 1000000, 60000000};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        hn_hist_record(&h, vals[i]);
    struct sink s = {&copy, 0};
    hn_hist_foreach(&h, copy_bucket, &s);
    assert_int_equal(s.n, hn_hist_nonzero(&h));
    assert_int_equal(s.n, 5); /* 1 counted twice; 5000 and 5001 share a 4 us wide bucket */
    assert_int_equal(copy.count, h.count);
    assert_int_equal(hn_hist_add_bucket(&copy, HN_HIST_NBUCKETS, 1), HN_ERANGE);
    hn_hist_reset(&h);
    assert_int_equal(h.count, 0);
    assert_int_equal(hn_hist_nonzero(&h), 0);
    assert_int_equal(hn_hist_percentile(&h, 0.5), 0);
    hn_hist_fini(&h);
    hn_hist_fini(&copy);
}

/* The occupancy bitmap: after a reset, merges, walks and percentiles see only what was
 * recorded since; a merge of a sparse delta touches only its buckets. */
static void count_cb(void *ctx, uint32_t index, uint64_t count)
{
    (void)index;
    *(uint64_t *)ctx += count;
}

static void test_reset_then_reuse(void **state)
{
    (void)state;
    struct hn_hist h, dst;
    hn_hist_init(&h);
    hn_hist_init(&dst);
    for (uint64_t v = 1; v < 100000; v += 7)
        hn_hist_record(&h, v);
    hn_hist_reset(&h);
    hn_hist_record(&h, 5000);
    hn_hist_record(&h, 5000);
    hn_hist_record(&h, 9000);
    uint64_t seen = 0;
    hn_hist_foreach(&h, count_cb, &seen);
    assert_int_equal(seen, 3);
    assert_int_equal(hn_hist_nonzero(&h), 2);
    assert_true(hn_hist_percentile(&h, 0.5) >= 4995 && hn_hist_percentile(&h, 0.5) <= 5005);
    hn_hist_merge(&dst, &h);
    assert_int_equal(dst.count, 3);
    assert_int_equal(hn_hist_nonzero(&dst), 2);
    /* a chunk used before the reset but empty now allocates nothing in dst */
    struct hn_hist z, e;
    hn_hist_init(&z);
    hn_hist_init(&e);
    hn_hist_record(&z, 50);
    hn_hist_reset(&z);
    hn_hist_merge(&e, &z);
    for (unsigned c = 0; c < HN_HIST_NCHUNKS; c++)
        assert_null(e.chunks[c]);
    hn_hist_fini(&h);
    hn_hist_fini(&dst);
    hn_hist_fini(&z);
    hn_hist_fini(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_then_reuse),
        cmocka_unit_test(test_percentiles_match_exact_sort),
        cmocka_unit_test(test_bucket_bounds),
        cmocka_unit_test(test_huge_values_keep_exact_extremes),
        cmocka_unit_test(test_merge_equals_union),
        cmocka_unit_test(test_sparse_round_trip_and_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
