#include "master/verdicts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "master/report.h"
#include "master/report_csv.h"

static const char *result(const struct hn_verdict_row *v)
{
    return !v->seen ? "no data" : v->ok ? "pass" : "fail";
}

void hn_verdicts_console(FILE *f, const struct hn_verdict_row *v, size_t n)
{
    if (!n)
        return;
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !v[i].ok;
    fprintf(f, "Thresholds: %zu of %zu passed\n", n - failed, n);
    for (size_t i = 0; i < n; i++) {
        if (v[i].seen)
            fprintf(f, "  %s %-40s %-24s observed %.6g\n", v[i].ok ? "✓" : "✗", v[i].row,
                    v[i].expr, v[i].observed);
        else
            fprintf(f, "  ✗ %-40s %-24s no data: the row never appeared\n", v[i].row,
                    v[i].expr);
    }
}

int hn_verdicts_write_csv(const char *prefix, const struct hn_verdict_row *v, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s_thresholds.csv", prefix);
    FILE *f = fopen(path, "w");
    if (!f)
        return HN_EIO;
    fputs("Row,Threshold,Observed,Result\r\n", f);
    for (size_t i = 0; i < n; i++) {
        hn_csv_field(f, v[i].row, 0);
        hn_csv_field(f, v[i].expr, 0);
        if (v[i].seen)
            fprintf(f, "%.6g,%s\r\n", v[i].observed, result(&v[i]));
        else
            fprintf(f, ",%s\r\n", result(&v[i]));
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return HN_EIO;
    return 0;
}

int hn_verdicts_write_junit(const char *path, const struct hn_verdict_row *v, size_t n,
                            double duration_s)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return HN_EIO;
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !v[i].ok;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<testsuites name=\"hornet\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
               "time=\"%.3f\">\n"
               "  <testsuite name=\"hornet thresholds\" tests=\"%zu\" failures=\"%zu\" "
               "errors=\"0\" skipped=\"0\" time=\"%.3f\">\n",
            n, failed, duration_s, n, failed, duration_s);
    for (size_t i = 0; i < n; i++) {
        fputs("    <testcase classname=\"", f);
        hn_report_escape(f, v[i].row);
        fputs("\" name=\"", f);
        hn_report_escape(f, v[i].expr);
        fputs("\" time=\"0\"", f);
        if (v[i].ok) {
            fputs("/>\n", f);
            continue;
        }
        fputs(">\n      <failure message=\"", f);
        char msg[256];
        if (v[i].seen)
            snprintf(msg, sizeof msg, "observed %.6g", v[i].observed);
        else
            snprintf(msg, sizeof msg, "no data: the row never appeared");
        hn_report_escape(f, msg);
        fputs("\" type=\"threshold\">", f);
        hn_report_escape(f, v[i].row);
        fputs(": ", f);
        hn_report_escape(f, v[i].expr);
        fputs(" (", f);
        hn_report_escape(f, msg);
        fputs(")</failure>\n    </testcase>\n", f);
    }
    fputs("  </testsuite>\n</testsuites>\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return HN_EIO;
    return 0;
}

void hn_verdicts_free(struct hn_verdict_row *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].row);
        free(v[i].expr);
    }
    free(v);
}

void hn_capacity_console(FILE *f, const struct hn_capacity_step *s, size_t n, int complete,
                         int rate_mode)
{
    const char *unit = rate_mode ? "iterations/s" : "users";
    const struct hn_capacity_step *pass = NULL, *fail = NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i].passed)
            pass = &s[i];
        else if (!fail)
            fail = &s[i];
    }
    if (pass && fail)
        fprintf(f, "Capacity: %llu %s passed; %llu %s failed (%s)\n",
                (unsigned long long)pass->users, unit, (unsigned long long)fail->users, unit,
                fail->failed);
    else if (fail)
        fprintf(f, "Capacity: no step passed; %llu %s failed (%s)\n",
                (unsigned long long)fail->users, unit, fail->failed);
    else if (pass)
        fprintf(f, "Capacity: %llu %s passed%s\n", (unsigned long long)pass->users, unit,
                complete ? ", the search's max" : " so far (the run ended before the search did)");
    else
        fprintf(f, "Capacity: no step was judged (the run ended first)\n");
    fprintf(f, "%8s %8s %10s %10s %8s %10s %10s %10s  %s\n", rate_mode ? "iter/s" : "users",
            "seconds", "requests",
            "req/s", "fail %", "p50 ms", "p95 ms", "p99 ms", "result");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%8llu %8.0f %10llu %10.1f %8.2f %10.1f %10.1f %10.1f  %s\n",
                (unsigned long long)s[i].users, s[i].duration_s,
                (unsigned long long)s[i].requests, s[i].rps, 100.0 * s[i].fail_ratio,
                s[i].p50_ms, s[i].p95_ms, s[i].p99_ms, s[i].passed ? "✓ pass" : "✗ fail");
}

int hn_capacity_write_csv(const char *prefix, const struct hn_capacity_step *s, size_t n,
                          int rate_mode)
{
    char path[4096];
    snprintf(path, sizeof path, "%s_capacity.csv", prefix);
    FILE *f = fopen(path, "w");
    if (!f)
        return HN_EIO;
    fputs(rate_mode ? "Iterations/s" : "Users", f);
    fputs(",Duration,Requests,Requests/s,Failure Ratio,50%,95%,99%,Result,Failed threshold\r\n",
          f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%llu,%.3f,%llu,%.3f,%.6f,%.3f,%.3f,%.3f,%s,", (unsigned long long)s[i].users,
                s[i].duration_s, (unsigned long long)s[i].requests, s[i].rps, s[i].fail_ratio,
                s[i].p50_ms, s[i].p95_ms, s[i].p99_ms, s[i].passed ? "pass" : "fail");
        hn_csv_field(f, s[i].failed, 1);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return HN_EIO;
    return 0;
}
