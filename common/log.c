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

static FILE *g_file;

void hn_log_set_level(int level) { g_level = level; }
void hn_log_set_file(FILE *f) { g_file = f; }

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
    /* Text from peers and targets (node ids, error strings) lands in messages: control
     * characters are escaped, so a line stays one line and cannot drive the terminal. */
    char safe[sizeof msg * 4];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < sizeof safe; p++) {
        if (*p < 0x20 || *p == 0x7f)
            o += (size_t)snprintf(safe + o, sizeof safe - o, "\\x%02x", *p);
        else
            safe[o++] = (char)*p;
    }
    safe[o] = '\0';
    /* One fprintf per line so lines from several processes sharing a terminal do not interleave. */
    FILE *out = g_file ? g_file : stderr;
    fprintf(out, "[%s,%03ld] %s/%s: %s\n", ts, (long)(tv.tv_usec / 1000), g_names[level],
            g_component, safe);
    if (g_file)
        fflush(g_file);
}

int hn_ratelimit_allow(struct hn_ratelimit *rl, uint64_t now_us, unsigned per_s,
                       unsigned *suppressed)
{
    *suppressed = 0;
    if (now_us - rl->window_start_us >= 1000000 || rl->window_start_us == 0) {
        *suppressed = rl->suppressed;
        rl->window_start_us = now_us ? now_us : 1;
        rl->n = 0;
        rl->suppressed = 0;
    }
    if (rl->n < per_s) {
        rl->n++;
        return 1;
    }
    rl->suppressed++;
    return 0;
}
