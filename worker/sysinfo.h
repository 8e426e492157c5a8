/* Process CPU and memory readings for heartbeats. Linux /proc; no state beyond the caller's. */
#ifndef HN_SYSINFO_H
#define HN_SYSINFO_H

#include <stdint.h>

struct hn_cpu_meter {
    uint64_t last_cpu_us;
    uint64_t last_wall_us;
};

void hn_cpu_meter_init(struct hn_cpu_meter *m);
/* CPU use of this process since the previous call, in percent of one core. */
double hn_cpu_meter_percent(struct hn_cpu_meter *m);
/* Resident set size in bytes (0 if unknown). */
uint64_t hn_rss_bytes(void);

#endif
