#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

static int g_level = HN_LOG_INFO;
static char g_component[96] = "hornet";
static const char *const g_names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};

void hn_log_set_level(int level) { g_level = level; }

int hn_log_parse_level(const char *s, int *level)
{
    for (int i = 0; i <= HN_LOG_CRITICAL; i++) {
        if (strcasecmp(s, g_names[i]) == 0) {
            *level = i;
            return 0;
        }
    }
    return -1;
}

void hn_log_set_component(const char *name)
{
    snprintf(g_component, sizeof g_component, "%s", name);
}

void hn_log(int level, const char *fmt, ...)
{
    if (level < g_level)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);

    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One fprintf per line so lines from several processes sharing a terminal do not interleave. */
    fprintf(stderr, "[%s,%03ld] %s/%s: %s\n", ts, (long)(tv.tv_usec / 1000), g_names[level],
            g_component, msg);
}
