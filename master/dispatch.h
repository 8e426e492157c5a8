/* Pure dispatch: how many users of each class, and which worker runs them. No I/O, no clock:
 * inputs in, counts out (Locust's dispatch.py plays the same role and is tested the same way). */
#ifndef HN_DISPATCH_H
#define HN_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

/* Splits total users over classes: first classes with a fixed count (weight 0) get theirs, in
 * order, as far as users go (Locust's fixed_count); the rest go to weighted classes in
 * proportion (largest remainder, ties to the earlier class). Counts sum to total unless every
 * class is fixed. fixed may be NULL. */
void hn_dispatch_classes(const uint32_t *weights, const uint64_t *fixed, size_t n_classes,
                         uint64_t total, uint64_t *counts);

/* Splits each class's count over n_workers so every worker's total differs by at most one and
 * so does every class's share: out[w * n_classes + c]. */
void hn_dispatch_workers(const uint64_t *class_counts, size_t n_classes, size_t n_workers,
                         uint64_t *out);

/* A worker's share of the cluster spawn rate: proportional to its users, so all workers finish
 * ramping together and the shares sum to rate. */
double hn_dispatch_rate(double rate, uint64_t worker_users, uint64_t total_users,
                        size_t n_workers);

#endif
