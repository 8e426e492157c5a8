#include "common/stages.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define MAX_STAGES 1000

int hn_stages_parse(const char *s, struct hn_stage **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    char *copy = hn_strdup(s), *save = NULL;
    int rc = 0;
    size_t k = 0;
    for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        k++;
        struct hn_stage st = {0};
        char *colon = strchr(part, ':');
        if (!colon) {
            snprintf(err, errlen, "hornet: --stages: stage %zu '%s': expected DURATION:USERS "
                     "(e.g. 7m:50 or 7m:50@5)", k, part);
            rc = HN_EXIT_USAGE;
            break;
        }
        *colon = '\0';
        char *users = colon + 1, *at = strchr(users, '@');
        if (at)
            *at = '\0';
        size_t ul = strlen(users);
        if (ul && users[ul - 1] == '~') {
            st.linear = 1;
            users[ul - 1] = '\0';
        }
        if (hn_parse_duration_ms(part, &st.duration_ms) || st.duration_ms <= 0) {
            snprintf(err, errlen, "hornet: --stages: stage %zu: bad duration '%s' (e.g. 30s, 7m)",
                     k, part);
            rc = HN_EXIT_USAGE;
            break;
        }
        if (hn_parse_u64(users, &st.users) || st.users > 10000000) {
            snprintf(err, errlen, "hornet: --stages: stage %zu: expected a user count from 0 to "
                     "10000000, got '%s'", k, users);
            rc = HN_EXIT_USAGE;
            break;
        }
        if (at && (hn_parse_double(at + 1, &st.spawn_rate) || !(st.spawn_rate > 0) ||
                   st.spawn_rate > 1e6)) {
            snprintf(err, errlen, "hornet: --stages: stage %zu: expected a spawn rate above 0 "
                     "after '@', got '%s'", k, at + 1);
            rc = HN_EXIT_USAGE;
            break;
        }
        if (*n == MAX_STAGES) {
            snprintf(err, errlen, "hornet: --stages: at most %d stages", MAX_STAGES);
            rc = HN_EXIT_USAGE;
            break;
        }
        *out = hn_realloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = st;
    }
    free(copy);
    if (!rc && !*n) {
        snprintf(err, errlen, "hornet: --stages: expected at least one DURATION:USERS stage");
        rc = HN_EXIT_USAGE;
    }
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* A stage's duration: both stage structs begin with duration_ms, so one walk serves both. */
_Static_assert(offsetof(struct hn_stage, duration_ms) == 0, "duration_ms leads hn_stage");
_Static_assert(offsetof(struct hn_rate_stage, duration_ms) == 0,
               "duration_ms leads hn_rate_stage");

static int64_t duration_at(const void *st, size_t stride, size_t i)
{
    int64_t d;
    memcpy(&d, (const char *)st + i * stride, sizeof d);
    return d;
}

static int64_t total_ms(const void *st, size_t stride, size_t n)
{
    int64_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += duration_at(st, stride, i);
    return t;
}

/* The stage elapsed_ms falls in (n once past the last), and when it began. */
static size_t locate(const void *st, size_t stride, size_t n, int64_t elapsed_ms, int64_t *start)
{
    int64_t t = 0;
    size_t i = 0;
    while (i < n && elapsed_ms >= t + duration_at(st, stride, i)) {
        t += duration_at(st, stride, i);
        i++;
    }
    *start = t;
    return i;
}

int64_t hn_stages_total_ms(const struct hn_stage *st, size_t n)
{
    return total_ms(st, sizeof *st, n);
}

void hn_stages_at(const struct hn_stage *st, size_t n, int64_t elapsed_ms,
                  struct hn_stage_point *p)
{
    memset(p, 0, sizeof *p);
    if (!n)
        return;
    if (elapsed_ms < 0)
        elapsed_ms = 0;
    int64_t start;
    size_t i = locate(st, sizeof *st, n, elapsed_ms, &start);
    if (i == n) { /* the plan is over: the last count holds until the run stops */
        p->done = 1;
        p->stage = n - 1;
        p->users = st[n - 1].users;
        p->spawn_rate = st[n - 1].spawn_rate > 0 ? st[n - 1].spawn_rate : 1;
        return;
    }
    uint64_t prev = i ? st[i - 1].users : 0, to = st[i].users;
    double delta = fabs((double)to - (double)prev);
    p->stage = i;
    if (st[i].linear) {
        /* whole seconds into the stage, so the count changes at most once a second */
        int64_t in = (elapsed_ms - start) / 1000 * 1000;
        double f = (double)in / (double)st[i].duration_ms;
        p->users = (uint64_t)llround((double)prev + ((double)to - (double)prev) * f);
        double slope = delta * 1000.0 / (double)st[i].duration_ms;
        p->spawn_rate = st[i].spawn_rate > 0 ? st[i].spawn_rate : (slope > 1 ? slope : 1);
    } else {
        p->users = to;
        p->spawn_rate = st[i].spawn_rate > 0 ? st[i].spawn_rate : (delta > 1 ? delta : 1);
    }
}

int64_t hn_rate_stages_total_ms(const struct hn_rate_stage *st, size_t n)
{
    return total_ms(st, sizeof *st, n);
}

double hn_rate_stages_at(const struct hn_rate_stage *st, size_t n, int64_t elapsed_ms,
                         size_t *stage, int *done)
{
    *stage = 0;
    *done = 0;
    if (!n)
        return 0;
    if (elapsed_ms < 0)
        elapsed_ms = 0;
    int64_t start;
    size_t i = locate(st, sizeof *st, n, elapsed_ms, &start);
    if (i == n) {
        *done = 1;
        *stage = n - 1;
        return st[n - 1].rate;
    }
    *stage = i;
    if (!st[i].linear)
        return st[i].rate;
    double prev = i ? st[i - 1].rate : st[i].rate;
    int64_t in = (elapsed_ms - start) / 1000 * 1000;
    return prev + (st[i].rate - prev) * (double)in / (double)st[i].duration_ms;
}
