#include "master/dispatch.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void hn_dispatch_classes(const uint32_t *weights, const uint64_t *fixed, size_t n,
                         uint64_t total, uint64_t *counts)
{
    uint64_t wsum = 0;
    for (size_t i = 0; i < n; i++) {
        counts[i] = 0;
        wsum += weights[i];
        if (!weights[i] && fixed) {
            counts[i] = fixed[i] < total ? fixed[i] : total;
            total -= counts[i];
        }
    }
    if (wsum == 0)
        return;
    uint64_t given = 0;
    double *rem = hn_calloc(n, sizeof *rem);
    for (size_t i = 0; i < n; i++) {
        if (!weights[i]) {
            rem[i] = -2;
            continue;
        }
        long double exact = (long double)total * weights[i] / (long double)wsum;
        counts[i] = (uint64_t)exact;
        rem[i] = (double)(exact - (long double)counts[i]);
        given += counts[i];
    }
    while (given < total) {
        size_t best = 0;
        for (size_t i = 1; i < n; i++)
            if (rem[i] > rem[best])
                best = i;
        counts[best]++;
        rem[best] = -1;
        given++;
    }
    free(rem);
    /* Small counts: every weighted class runs once there are users enough for each (-u 2 at
     * 3:1 is one of each, not two of the heavier class and none of the other). Each class left
     * out takes one user from the class most above its exact share. */
    size_t n_weighted = 0;
    for (size_t i = 0; i < n; i++)
        n_weighted += weights[i] != 0;
    if (total < n_weighted)
        return;
    for (size_t i = 0; i < n; i++) {
        if (!weights[i] || counts[i])
            continue;
        size_t donor = n;
        long double most = 0;
        for (size_t j = 0; j < n; j++) {
            if (!weights[j] || counts[j] < 2)
                continue;
            long double over = (long double)counts[j] - (long double)total * weights[j] / wsum;
            if (donor == n || over > most) {
                donor = j;
                most = over;
            }
        }
        if (donor == n)
            return;
        counts[donor]--;
        counts[i]++;
    }
}

void hn_dispatch_workers(const uint64_t *class_counts, size_t n_classes, size_t n_workers,
                         uint64_t *out)
{
    memset(out, 0, n_workers * n_classes * sizeof *out);
    if (!n_workers)
        return;
    /* Deal classes round-robin, continuing the rotation across classes: worker totals and each
     * class's shares then differ by at most one. */
    size_t next = 0;
    for (size_t c = 0; c < n_classes; c++) {
        uint64_t q = class_counts[c] / n_workers, r = class_counts[c] % n_workers;
        for (size_t w = 0; w < n_workers; w++)
            out[w * n_classes + c] = q;
        for (uint64_t k = 0; k < r; k++) {
            out[next * n_classes + c]++;
            next = (next + 1) % n_workers;
        }
    }
}

double hn_dispatch_rate(double rate, uint64_t worker_users, uint64_t total_users,
                        size_t n_workers)
{
    if (total_users == 0)
        return n_workers ? rate / (double)n_workers : rate;
    return rate * (double)worker_users / (double)total_users;
}
