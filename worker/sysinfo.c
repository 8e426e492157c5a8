#include "worker/sysinfo.h"

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/util.h"

static uint64_t cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

void hn_cpu_meter_init(struct hn_cpu_meter *m)
{
    m->last_cpu_us = cpu_us();
    m->last_wall_us = hn_mono_us();
}

double hn_cpu_meter_percent(struct hn_cpu_meter *m)
{
    uint64_t c = cpu_us(), w = hn_mono_us();
    double pct = w > m->last_wall_us ? 100.0 * (double)(c - m->last_cpu_us) /
                                           (double)(w - m->last_wall_us)
                                     : 0.0;
    m->last_cpu_us = c;
    m->last_wall_us = w;
    return pct;
}

uint64_t hn_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    return n == 2 ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}
