#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *hn_strerror(int err)
{
    switch (err) {
    case HN_OK: return "ok";
    case HN_EINVAL: return "invalid input";
    case HN_ENOMEM: return "size limit exceeded";
    case HN_EIO: return "I/O error";
    case HN_EAGAIN: return "try again";
    case HN_EPROTO: return "protocol mismatch";
    case HN_ERANGE: return "out of range";
    default: return "unknown error";
    }
}

static void oom(size_t n)
{
    fprintf(stderr, "hornet: out of memory allocating %zu bytes\n", n);
    abort();
}

void *hn_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *hn_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *hn_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *hn_strdup(const char *s) { return hn_strndup(s, strlen(s)); }

char *hn_strndup(const char *s, size_t n)
{
    char *p = hn_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void hn_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "hornet: assertion failed at %s:%d: %s\n", file, line, expr);
    abort();
}

uint64_t hn_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t hn_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int hn_parse_duration_ms(const char *s, int64_t *ms)
{
    if (!s || !*s)
        return HN_EINVAL;
    int64_t total = 0;
    const char *p = s;
    int parts = 0;
    int last_rank = 5; /* units in decreasing order, each once: 1h30m, not 1s1s or 30m1h */
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return HN_EINVAL;
        int64_t v = 0;
        while (isdigit((unsigned char)*p)) {
            v = v * 10 + (*p - '0');
            if (v > 100000000)
                return HN_EINVAL;
            p++;
        }
        int64_t unit;
        int rank;
        if (*p == '\0') {
            if (parts > 0)
                return HN_EINVAL; /* "1h30" is ambiguous */
            unit = 1000;
            rank = 1;
        } else if (p[0] == 'm' && p[1] == 's') {
            unit = 1;
            rank = 0;
            p += 2;
        } else if (*p == 'h') {
            unit = 3600000;
            rank = 3;
            p++;
        } else if (*p == 'm') {
            unit = 60000;
            rank = 2;
            p++;
        } else if (*p == 's') {
            unit = 1000;
            rank = 1;
            p++;
        } else {
            return HN_EINVAL;
        }
        if (rank >= last_rank)
            return HN_EINVAL;
        last_rank = rank;
        total += v * unit;
        parts++;
    }
    *ms = total;
    return 0;
}

int hn_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return HN_EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return HN_EINVAL;
    *out = v;
    return 0;
}

int hn_parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return HN_EINVAL;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || v != v)
        return HN_EINVAL;
    *out = v;
    return 0;
}

void hn_rng_seed(struct hn_rng *r, uint64_t seed)
{
    /* splitmix64 scramble so nearby seeds give unrelated streams; state must be non-zero. */
    uint64_t z = seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    r->s = z ? z : 0x2545f4914f6cdd1dull;
}

uint64_t hn_rng_next(struct hn_rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545f4914f6cdd1dull;
}

uint64_t hn_rng_below(struct hn_rng *r, uint64_t n)
{
    hn_assert(n > 0);
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = hn_rng_next(r);
    } while (x >= limit);
    return x % n;
}

double hn_rng_unit(struct hn_rng *r) { return (double)(hn_rng_next(r) >> 11) * 0x1.0p-53; }

int hn_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 32 || lb > 32)
        return 16;
    int prev[33], cur[33];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v)
                v = prev[j - 1] + cost;
            cur[j] = v;
        }
        memcpy(prev, cur, sizeof prev);
    }
    return prev[lb] > 16 ? 16 : prev[lb];
}

int hn_url_check(const char *url, char *why, size_t n)
{
    const char *p;
    if (!strncmp(url, "http://", 7)) {
        p = url + 7;
    } else if (!strncmp(url, "https://", 8)) {
        p = url + 8;
    } else {
        snprintf(why, n, "expected a URL starting with http:// or https://");
        return HN_EINVAL;
    }
    for (const char *q = url; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 0x7f) {
            snprintf(why, n, "the URL holds a space or control character at offset %d",
                     (int)(q - url));
            return HN_EINVAL;
        }
    size_t alen = strcspn(p, "/?#");
    const char *end = p + alen, *port = NULL;
    if (memchr(p, '@', alen)) {
        snprintf(why, n, "credentials in the URL are not supported; use an Authorization header");
        return HN_EINVAL;
    }
    if (*p == '[') {
        const char *close = memchr(p, ']', alen);
        if (!close) {
            snprintf(why, n, "the IPv6 address has no closing ']'");
            return HN_EINVAL;
        }
        if (close == p + 1) {
            snprintf(why, n, "the URL has no host");
            return HN_EINVAL;
        }
        for (const char *q = p + 1; q < close; q++)
            if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.') {
                snprintf(why, n, "'%.*s' is not an IPv6 address", (int)(close - p + 1), p);
                return HN_EINVAL;
            }
        if (close + 1 < end && close[1] != ':') {
            snprintf(why, n, "unexpected text after the IPv6 address");
            return HN_EINVAL;
        }
        port = close + 1 < end ? close + 2 : NULL;
    } else {
        const char *colon = memchr(p, ':', alen);
        const char *hend = colon ? colon : end;
        if (hend == p) {
            snprintf(why, n, "the URL has no host");
            return HN_EINVAL;
        }
        for (const char *q = p; q < hend; q++)
            if (!isalnum((unsigned char)*q) && *q != '.' && *q != '-' && *q != '_') {
                snprintf(why, n, "'%.*s' is not a host name", (int)(hend - p), p);
                return HN_EINVAL;
            }
        port = colon ? colon + 1 : NULL;
    }
    if (port) {
        uint64_t v = 0;
        const char *q = port;
        if (q == end) {
            snprintf(why, n, "the port is empty");
            return HN_EINVAL;
        }
        for (; q < end; q++) {
            if (!isdigit((unsigned char)*q) || v > 65535) {
                snprintf(why, n, "port '%.*s' is not a number from 1 to 65535",
                         (int)(end - port), port);
                return HN_EINVAL;
            }
            v = v * 10 + (uint64_t)(*q - '0');
        }
        if (v < 1 || v > 65535) {
            snprintf(why, n, "port %llu is out of range (1 to 65535)", (unsigned long long)v);
            return HN_EINVAL;
        }
    }
    return 0;
}

int hn_read_file(const char *path, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return HN_EIO;
    size_t cap = 4096, n = 0;
    char *buf = hn_malloc(cap + 1);
    for (size_t r; (r = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            if (cap >= 1u << 20) { /* a certificate or key is far smaller */
                free(buf);
                fclose(f);
                errno = EFBIG;
                return HN_EIO;
            }
            cap *= 2;
            buf = hn_realloc(buf, cap + 1);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return HN_EIO;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}
