#include "master/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "master/verdicts.h"
#include "common/log.h"
#include "common/util.h"
#include "master/compare.h"
#include "master/report_csv.h"

void hn_report_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            /* control characters are not allowed in XML 1.0 (JUnit) and mean nothing here */
            fputc((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' ? ' ' : *s, f);
        }
    }
}

static void esc(FILE *f, const char *s) { hn_report_escape(f, s); }

static double ms(uint64_t us) { return (double)us / 1000.0; }

/* "<tr><td>type</td><td>name</td>" of a stats row. */
static void row_start(FILE *f, const struct hn_stats_entry *e)
{
    fprintf(f, "<tr><td class=\"l\">");
    esc(f, e->type);
    fprintf(f, "</td><td class=\"l\">");
    esc(f, e->name);
    fprintf(f, "</td>");
}

static void when(char *buf, size_t n, int64_t t_ms)
{
    time_t t = (time_t)(t_ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

/* One line chart: series of y values over x = index; an <svg> with a <path> per series. */
static void chart(FILE *f, const char *title, const char *const *labels, const double *const *ys,
                  const char *const *colors, int n_series, size_t n)
{
    const double W = 900, H = 220, L = 50, B = 25;
    double max = 0;
    for (int s = 0; s < n_series; s++)
        for (size_t i = 0; i < n; i++)
            if (ys[s][i] > max)
                max = ys[s][i];
    if (max <= 0)
        max = 1;
    fprintf(f, "<h3>");
    esc(f, title);
    fprintf(f, "</h3>\n<svg class=\"chart\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">"
               "<rect x=\"%.0f\" y=\"0\" width=\"%.0f\" height=\"%.0f\" class=\"plot\"/>"
               "<text x=\"2\" y=\"12\">%.1f</text><text x=\"2\" y=\"%.0f\">0</text>\n",
            W, H + B, W, H + B, L, W - L, H, max, H);
    for (int s = 0; s < n_series; s++) {
        /* the values themselves ride along, for tools and tests that read the chart */
        fprintf(f, "<path class=\"series\" data-label=\"");
        esc(f, labels[s]);
        fprintf(f, "\" data-values=\"");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%s%.6g", i ? "," : "", ys[s][i]);
        fprintf(f, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"", colors[s]);
        for (size_t i = 0; i < n; i++) {
            double x = L + (n > 1 ? (W - L) * (double)i / (double)(n - 1) : 0);
            double y = H - H * ys[s][i] / max;
            fprintf(f, "%s%.1f %.1f", i ? " L" : "M", x, y);
        }
        if (!n)
            fprintf(f, "M%.0f %.0f", L, H);
        fprintf(f, "\"/><text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">", L + 10 + 160 * s, H + 18,
                colors[s]);
        esc(f, labels[s]);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</svg>\n");
}

extern const char hn_dygraph_js[], hn_dygraph_css[];

/* The charts a reader works with: dygraphs (Debian's libjs-dygraphs, MIT, carried inside the
 * file so it works offline) with wall-clock time axes, values on hover, zoom by dragging or
 * the range selector, and one row's latency picked from a list (a 30 s WebSocket session's
 * row does not flatten the 40 ms requests). The static SVG charts below stay for readers
 * without JavaScript; the script hides them once its charts are drawn. step_ms: the rates'
 * spacing (1000), or 0 when they are one per stored interval (older runs). */
static void interactive_charts(FILE *f, struct hn_store *st, int64_t run,
                               const struct hn_series *se, const double *rps, const double *fps,
                               size_t n_rate, int64_t t0_ms, int64_t step_ms)
{
    fprintf(f, "<style>%s\n.hn-chart{width:900px;height:260px;margin:0.5em 0 2em}"
               "#static-charts.hn-hidden{display:none}</style>\n<script>%s</script>\n",
            hn_dygraph_css, hn_dygraph_js);
    fprintf(f, "<script>var HN_DATA={rates:[");
    for (size_t i = 0; i < n_rate; i++)
        fprintf(f, "%s[%lld,%.6g,%.6g]", i ? "," : "",
                (long long)(step_ms ? t0_ms + (int64_t)i * step_ms : se->ts_ms[i]), rps[i], fps[i]);
    fprintf(f, "],pct:[");
    for (size_t i = 0; i < se->n; i++)
        fprintf(f, "%s[%lld,%.3f,%.3f]", i ? "," : "", (long long)se->ts_ms[i],
                se->p50_ms ? se->p50_ms[i] : 0, se->p95_ms ? se->p95_ms[i] : 0);
    fprintf(f, "],users:[");
    for (size_t i = 0; i < se->n; i++)
        fprintf(f, "%s[%lld,%llu]", i ? "," : "", (long long)se->ts_ms[i],
                (unsigned long long)se->users[i]);
    fprintf(f, "],rows:");
    if (hn_store_write_row_series_json(st, run, f))
        fprintf(f, "{}");
    fprintf(f, "};</script>\n");
    fputs("<h3>Requests and failures per second</h3><div id=\"chart-rates\" class=\"hn-chart\"></div>\n"
          "<h3>Response time percentiles, all rows (ms)</h3><div id=\"chart-pct\" class=\"hn-chart\"></div>\n"
          "<h3>Response times of one row (ms): <select id=\"row-pick\"></select></h3>"
          "<div id=\"chart-row\" class=\"hn-chart\"></div>\n"
          "<h3>Users</h3><div id=\"chart-users\" class=\"hn-chart\"></div>\n"
          "<script>(function(){\n"
          "if(typeof Dygraph==='undefined')return;\n"
          "function rows(d){return d.map(function(r){return [new Date(r[0])].concat(r.slice(1));});}\n"
          "function mk(id,data,labels,colors){\n"
          "  if(!data.length)return null;\n"
          "  return new Dygraph(document.getElementById(id),rows(data),{labels:['time'].concat(labels),"
          "colors:colors,legend:'always',showRangeSelector:true,rangeSelectorHeight:24,"
          "labelsSeparateLines:false,strokeWidth:1.5,highlightCircleSize:3,drawPoints:false,axes:{x:{axisLabelWidth:70}}});}\n"
          "window.HN_CHARTS={rates:mk('chart-rates',HN_DATA.rates,['requests/s','failures/s'],['#2a6fdb','#d33']),\n"
          "  pct:mk('chart-pct',HN_DATA.pct,['p50','p95'],['#2a9d4a','#e08a00']),\n"
          "  users:mk('chart-users',HN_DATA.users,['users'],['#555'])};\n"
          "var pick=document.getElementById('row-pick'),names=Object.keys(HN_DATA.rows);\n"
          "names.forEach(function(n){var o=document.createElement('option');o.value=n;o.textContent=n;pick.appendChild(o);});\n"
          "function showRow(){var d=HN_DATA.rows[pick.value]||[];var data=d.map(function(r){return [r[0],r[1],r[2]];});\n"
          "  if(!HN_CHARTS.row)HN_CHARTS.row=mk('chart-row',data,['p50','p95'],['#2a9d4a','#e08a00']);\n"
          "  else HN_CHARTS.row.updateOptions({file:rows(data)});}\n"
          "pick.addEventListener('change',showRow);if(names.length)showRow();\n"
          "})();</script>\n",
          f);
}

/* The thresholds table: each threshold, what was observed, pass or fail. */
static void thresholds_html(FILE *f, const struct hn_verdict_row *v, size_t n)
{
    if (!n)
        return;
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !v[i].ok;
    fprintf(f, "<h2>Thresholds: %zu of %zu passed</h2>\n<table id=\"thresholds\"><tr>"
               "<th class=\"l\">Row</th><th class=\"l\">Threshold</th><th>Observed</th>"
               "<th class=\"l\">Result</th></tr>\n",
            n - failed, n);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "<tr><td class=\"l\">");
        esc(f, v[i].row);
        fprintf(f, "</td><td class=\"l\">");
        esc(f, v[i].expr);
        if (v[i].seen)
            fprintf(f, "</td><td>%.6g</td>", v[i].observed);
        else
            fprintf(f, "</td><td></td>");
        fprintf(f, "<td class=\"l%s\">%s</td></tr>\n", v[i].ok ? "" : " fail",
                !v[i].seen ? "&#10007; no data" : v[i].ok ? "&#10003; pass" : "&#10007; fail");
    }
    fprintf(f, "</table>\n");
}

/* A capacity search's steps: the answer first, then every step's figures. */
static void capacity_html(FILE *f, const struct hn_capacity_step *c, size_t n)
{
    if (!n)
        return;
    const struct hn_capacity_step *pass = NULL, *fail = NULL;
    for (size_t i = 0; i < n; i++) {
        if (c[i].passed)
            pass = &c[i];
        else if (!fail)
            fail = &c[i];
    }
    fprintf(f, "<h2>Capacity search</h2>\n<p id=\"capacity-answer\">");
    const char *unit = c[0].rate_mode ? "iterations/s" : "users";
    if (pass)
        fprintf(f, "<b>%llu %s</b> passed every threshold", (unsigned long long)pass->users,
                unit);
    else
        fprintf(f, "No step passed");
    if (fail) {
        fprintf(f, "; <b>%llu %s</b> failed: ", (unsigned long long)fail->users, unit);
        esc(f, fail->failed);
    }
    fprintf(f, ".</p>\n<table id=\"capacity\"><tr><th>%s</th><th>Seconds</th><th>Requests</th>"
               "<th>Requests/s</th><th>Fail %%</th><th>p50 (ms)</th><th>p95 (ms)</th>"
               "<th>p99 (ms)</th><th class=\"l\">Result</th></tr>\n",
            c[0].rate_mode ? "Iterations/s" : "Users");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "<tr><td>%llu</td><td>%.0f</td><td>%llu</td><td>%.1f</td><td>%.2f</td>"
                   "<td>%.1f</td><td>%.1f</td><td>%.1f</td><td class=\"l%s\">%s</td></tr>\n",
                (unsigned long long)c[i].users, c[i].duration_s,
                (unsigned long long)c[i].requests, c[i].rps, 100.0 * c[i].fail_ratio,
                c[i].p50_ms, c[i].p95_ms, c[i].p99_ms, c[i].passed ? "" : " fail",
                c[i].passed ? "&#10003; pass" : "&#10007; fail");
    fprintf(f, "</table>\n");
}

static int write_html(struct hn_store *st, FILE *f, const struct hn_run_info *ri,
                      const struct hn_series *se, const struct hn_stats *s, double dur,
                      const char *compare_text, const struct hn_verdict_row *th, size_t n_th,
                      const struct hn_capacity_step *cap, size_t n_cap)
{
    char started[32], ended[32];
    when(started, sizeof started, ri->started_ms);
    when(ended, sizeof ended, ri->ended_ms);
    fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>hornet run %lld</title>\n"
               "<style>body{font-family:sans-serif;margin:2em;color:#222}"
               "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
               "padding:3px 8px;text-align:right}td.l,th.l{text-align:left}"
               "th{background:#eee}.plot{fill:#fafafa;stroke:#ccc}.fail{color:#b00}"
               "svg text{font-size:11px}</style></head><body>\n",
            (long long)ri->id);
    fprintf(f, "<h1>hornet run %lld</h1>\n<table id=\"summary\">", (long long)ri->id);
    fprintf(f, "<tr><th class=\"l\">scenario</th><td class=\"l\">");
    esc(f, ri->scenario_path);
    fprintf(f, "</td></tr><tr><th class=\"l\">host</th><td class=\"l\">");
    esc(f, ri->host);
    fprintf(f, "</td></tr><tr><th class=\"l\">started / ended</th><td class=\"l\">%s / %s (%.1f s)"
               "</td></tr><tr><th class=\"l\">users / spawn rate</th><td class=\"l\">%llu / %g per s"
               "</td></tr><tr><th class=\"l\">status / exit code</th><td class=\"l\">",
            started, ended, dur, (unsigned long long)ri->users, ri->spawn_rate);
    esc(f, ri->status);
    if (!strcmp(ri->status, "running"))
        fprintf(f, " (the run so far: it has no exit code yet)</td></tr>");
    else
        fprintf(f, " / %d</td></tr>", ri->exit_code);
    if (ri->conns_opened || ri->conns_reused)
        fprintf(f, "<tr><th class=\"l\">HTTP connections (native engine)</th><td class=\"l\">"
                   "%llu opened, %llu requests on a reused one</td></tr>",
                (unsigned long long)ri->conns_opened, (unsigned long long)ri->conns_reused);
    if (ri->dropped_iterations)
        fprintf(f, "<tr><th class=\"l\">dropped iterations</th><td class=\"l fail\">%llu (due "
                   "when no user of the pool was free)</td></tr>",
                (unsigned long long)ri->dropped_iterations);
    fprintf(f, "<tr><th class=\"l\">command</th><td class=\"l\">");
    esc(f, ri->command_line);
    fprintf(f, "</td></tr><tr><th class=\"l\">hornet</th><td class=\"l\">");
    esc(f, ri->version);
    fprintf(f, "</td></tr></table>\n");
    thresholds_html(f, th, n_th);
    capacity_html(f, cap, n_cap);

    struct hn_stats_entry **v = hn_stats_sorted(s);
    fprintf(f, "<h2>Request statistics</h2>\n<table id=\"requests\"><tr><th class=\"l\">Type</th>"
               "<th class=\"l\">Name</th><th># Requests</th><th># Fails</th><th>Average (ms)</th>"
               "<th>Min (ms)</th><th>Max (ms)</th><th>Average size (bytes)</th><th>RPS</th>"
               "<th>Failures/s</th></tr>\n");
    for (size_t i = 0; i <= s->n_entries; i++) {
        const struct hn_stats_entry *e = i < s->n_entries ? v[i] : &s->total;
        row_start(f, e);
        fprintf(f, "<td>%llu</td><td%s>%llu</td><td>%.2f</td><td>%.2f</td><td>%.2f</td>"
                   "<td>%.1f</td><td>%.2f</td><td>%.2f</td></tr>\n",
                (unsigned long long)e->n_requests, e->n_failures ? " class=\"fail\"" : "",
                (unsigned long long)e->n_failures,
                e->hist.count ? ms(e->hist.sum_us) / (double)e->hist.count : 0,
                e->hist.count ? ms(e->hist.min_us) : 0, ms(e->hist.max_us),
                e->n_requests ? (double)e->content_bytes / (double)e->n_requests : 0,
                dur > 0 ? (double)e->n_requests / dur : 0,
                dur > 0 ? (double)e->n_failures / dur : 0);
    }
    fprintf(f, "</table>\n<h2>Response time percentiles (ms)</h2>\n<table id=\"percentiles\"><tr>"
               "<th class=\"l\">Type</th><th class=\"l\">Name</th>");
    for (int k = 0; k < HN_N_PERCENTILES; k++)
        fprintf(f, "<th>%s</th>", hn_percentile_names[k]);
    fprintf(f, "</tr>\n");
    for (size_t i = 0; i <= s->n_entries; i++) {
        const struct hn_stats_entry *e = i < s->n_entries ? v[i] : &s->total;
        row_start(f, e);
        for (int k = 0; k < HN_N_PERCENTILES; k++)
            fprintf(f, "<td>%.1f</td>", ms(hn_hist_percentile(&e->hist, hn_percentiles[k])));
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
    if (s->total.service && s->total.service->count) {
        /* open model: the table above is from each iteration's intended start */
        fprintf(f, "<p>Open model: the times above are measured from each iteration's intended "
                   "start (coordinated omission corrected); the service times below from each "
                   "request's actual send.</p>\n<h2>Service time percentiles (ms)</h2>\n"
                   "<table id=\"service\"><tr><th class=\"l\">Type</th>"
                   "<th class=\"l\">Name</th>");
        for (int k = 0; k < HN_N_PERCENTILES; k++)
            fprintf(f, "<th>%s</th>", hn_percentile_names[k]);
        fprintf(f, "</tr>\n");
        for (size_t i = 0; i <= s->n_entries; i++) {
            const struct hn_stats_entry *e = i < s->n_entries ? v[i] : &s->total;
            if (!e->service || !e->service->count)
                continue;
            row_start(f, e);
            for (int k = 0; k < HN_N_PERCENTILES; k++)
                fprintf(f, "<td>%.1f</td>", ms(hn_hist_percentile(e->service, hn_percentiles[k])));
            fprintf(f, "</tr>\n");
        }
        fprintf(f, "</table>\n");
    }
    free(v);

    fprintf(f, "<h2>Charts</h2>\n");
    /* Rates by the second requests completed in, not by when their reports reached the master:
     * a worker's report landing just before or after the master's second would draw a double
     * spike and a dip where the rate was flat. Seconds without requests are zeros. */
    int64_t *sec;
    uint64_t *rq, *fl;
    size_t n_sec;
    hn_store_load_rates(st, ri->id, &sec, &rq, &fl, &n_sec);
    size_t n_rate = n_sec ? (size_t)(sec[n_sec - 1] - sec[0] + 1) : se->n;
    double *rps = hn_calloc(n_rate + 1, sizeof *rps), *fps = hn_calloc(n_rate + 1, sizeof *fps);
    for (size_t i = 0; i < n_sec; i++) {
        rps[sec[i] - sec[0]] = (double)rq[i];
        fps[sec[i] - sec[0]] = (double)fl[i];
    }
    for (size_t i = 0; !n_sec && i < se->n; i++) { /* a run recorded before per-second rates */
        rps[i] = (double)se->requests[i];
        fps[i] = (double)se->failures[i];
    }
    double *usr = hn_calloc(se->n + 1, sizeof *usr);
    for (size_t i = 0; i < se->n; i++)
        usr[i] = (double)se->users[i];
    int64_t rate_t0_ms = n_sec ? sec[0] * 1000 : se->n ? se->ts_ms[0] : 0;
    interactive_charts(f, st, ri->id, se, rps, fps, n_rate, rate_t0_ms, n_sec ? 1000 : 0);
    fprintf(f, "<div id=\"static-charts\">\n");
    const char *l1[] = {"requests/s", "failures/s"}, *c1[] = {"#2a6fdb", "#d33"};
    const double *y1[] = {rps, fps};
    chart(f, "Requests and failures per second", l1, y1, c1, 2, n_rate);
    const char *l2[] = {"p50 (ms)", "p95 (ms)"}, *c2[] = {"#2a9d4a", "#e08a00"};
    const double *y2[] = {se->p50_ms ? se->p50_ms : usr, se->p95_ms ? se->p95_ms : usr};
    chart(f, "Response time percentiles", l2, y2, c2, 2, se->n);
    const char *l3[] = {"users"}, *c3[] = {"#555"};
    const double *y3[] = {usr};
    chart(f, "Users", l3, y3, c3, 1, se->n);
    /* drawn interactively above: the static ones are for readers without JavaScript */
    fprintf(f, "</div>\n<script>if(window.HN_CHARTS&&HN_CHARTS.rates)"
               "document.getElementById('static-charts').className='hn-hidden';</script>\n");
    free(rps);
    free(fps);
    free(usr);
    free(sec);
    free(rq);
    free(fl);

    struct hn_stats_error **ev = hn_stats_errors_sorted(s);
    fprintf(f, "<h2>Failures</h2>\n<table id=\"failures\"><tr><th class=\"l\">Method</th>"
               "<th class=\"l\">Name</th><th class=\"l\">Error</th><th>Occurrences</th></tr>\n");
    for (size_t i = 0; i < s->n_errors; i++) {
        fprintf(f, "<tr><td class=\"l\">");
        esc(f, ev[i]->type);
        fprintf(f, "</td><td class=\"l\">");
        esc(f, ev[i]->name);
        fprintf(f, "</td><td class=\"l\">");
        esc(f, ev[i]->message);
        fprintf(f, "</td><td>%llu</td></tr>\n", (unsigned long long)ev[i]->occurrences);
    }
    free(ev);
    fprintf(f, "</table>\n");
    hn_store_write_workers_html(st, ri->id, f, esc);
    if (compare_text) {
        fprintf(f, "<h2>Against the baseline</h2>\n<pre id=\"baseline\">");
        esc(f, compare_text);
        fprintf(f, "</pre>\n");
    }
    fprintf(f, "</body></html>\n");
    return ferror(f) ? HN_EIO : 0;
}

static int write_json(FILE *f, const struct hn_run_info *ri, const struct hn_stats *s,
                      double dur, const struct hn_verdict_row *th, size_t n_th,
                      const struct hn_capacity_step *cap, size_t n_cap)
{
    struct hn_json *root = hn_json_object(), *run = hn_json_object(), *rows = hn_json_array();
    hn_json_set(run, "id", hn_json_integer(ri->id));
    hn_json_set(run, "status", hn_json_string(ri->status, strlen(ri->status)));
    hn_json_set(run, "scenario", hn_json_string(ri->scenario_path, strlen(ri->scenario_path)));
    hn_json_set(run, "host", hn_json_string(ri->host, strlen(ri->host)));
    hn_json_set(run, "users", hn_json_integer((long long)ri->users));
    hn_json_set(run, "spawn_rate", hn_json_real(ri->spawn_rate));
    hn_json_set(run, "start_time_ms", hn_json_integer(ri->started_ms));
    hn_json_set(run, "end_time_ms", hn_json_integer(ri->ended_ms));
    hn_json_set(run, "duration_s", hn_json_real(dur));
    hn_json_set(run, "exit_code", strcmp(ri->status, "running") ? hn_json_integer(ri->exit_code)
                                                                 : hn_json_null());
    hn_json_set(run, "dropped_iterations", hn_json_integer((long long)ri->dropped_iterations));
    hn_json_set(run, "arrival_rate", hn_json_real(ri->arrival_rate));
    hn_json_set(run, "http_connections_opened", hn_json_integer((long long)ri->conns_opened));
    hn_json_set(run, "http_connection_reuses", hn_json_integer((long long)ri->conns_reused));
    hn_json_set(root, "run", run);
    for (size_t i = 0; i <= s->n_entries; i++) {
        const struct hn_stats_entry *e = i < s->n_entries ? s->entries[i] : &s->total;
        struct hn_json *o = hn_json_object(), *p = hn_json_object();
        hn_json_set(o, "method", hn_json_string(e->type, strlen(e->type)));
        hn_json_set(o, "name", hn_json_string(e->name, strlen(e->name)));
        hn_json_set(o, "num_requests", hn_json_integer((long long)e->n_requests));
        hn_json_set(o, "num_failures", hn_json_integer((long long)e->n_failures));
        hn_json_set(o, "avg_response_time",
                    hn_json_real(e->hist.count ? ms(e->hist.sum_us) / (double)e->hist.count : 0));
        hn_json_set(o, "min_response_time", hn_json_real(e->hist.count ? ms(e->hist.min_us) : 0));
        hn_json_set(o, "max_response_time", hn_json_real(ms(e->hist.max_us)));
        hn_json_set(o, "avg_content_length",
                    hn_json_real(e->n_requests ? (double)e->content_bytes / e->n_requests : 0));
        hn_json_set(o, "total_rps", hn_json_real(dur > 0 ? (double)e->n_requests / dur : 0));
        hn_json_set(o, "total_fail_per_sec", hn_json_real(dur > 0 ? (double)e->n_failures / dur : 0));
        for (int k = 0; k < HN_N_PERCENTILES; k++)
            hn_json_set(p, hn_percentile_names[k],
                        hn_json_real(ms(hn_hist_percentile(&e->hist, hn_percentiles[k]))));
        hn_json_set(o, "response_time_percentiles", p);
        if (e->service && e->service->count) { /* open model: the uncorrected times beside */
            struct hn_json *sp = hn_json_object();
            for (int k = 0; k < HN_N_PERCENTILES; k++)
                hn_json_set(sp, hn_percentile_names[k],
                            hn_json_real(ms(hn_hist_percentile(e->service, hn_percentiles[k]))));
            hn_json_set(o, "service_time_percentiles", sp);
        }
        hn_json_append(rows, o);
    }
    hn_json_set(root, "stats", rows);
    struct hn_json *fails = hn_json_array();
    for (size_t i = 0; i < s->n_errors; i++) {
        const struct hn_stats_error *e = s->errors[i];
        struct hn_json *o = hn_json_object();
        hn_json_set(o, "method", hn_json_string(e->type, strlen(e->type)));
        hn_json_set(o, "name", hn_json_string(e->name, strlen(e->name)));
        hn_json_set(o, "error", hn_json_string(e->message, strlen(e->message)));
        hn_json_set(o, "occurrences", hn_json_integer((long long)e->occurrences));
        hn_json_append(fails, o);
    }
    hn_json_set(root, "failures", fails);
    struct hn_json *ths = hn_json_array();
    for (size_t i = 0; i < n_th; i++) {
        struct hn_json *o = hn_json_object();
        hn_json_set(o, "row", hn_json_string(th[i].row, strlen(th[i].row)));
        hn_json_set(o, "threshold", hn_json_string(th[i].expr, strlen(th[i].expr)));
        hn_json_set(o, "observed", th[i].seen ? hn_json_real(th[i].observed) : hn_json_null());
        hn_json_set(o, "ok", hn_json_bool(th[i].ok));
        hn_json_set(o, "abort_on_fail", hn_json_bool(th[i].abort_on_fail));
        hn_json_append(ths, o);
    }
    hn_json_set(root, "thresholds", ths);
    if (n_cap) {
        struct hn_json *steps = hn_json_array(), *c = hn_json_object();
        long long pass = -1, fail = -1;
        for (size_t i = 0; i < n_cap; i++) {
            struct hn_json *o = hn_json_object();
            hn_json_set(o, cap[i].rate_mode ? "rate" : "users",
                        hn_json_integer((long long)cap[i].users));
            hn_json_set(o, "duration_s", hn_json_real(cap[i].duration_s));
            hn_json_set(o, "requests", hn_json_integer((long long)cap[i].requests));
            hn_json_set(o, "rps", hn_json_real(cap[i].rps));
            hn_json_set(o, "fail_ratio", hn_json_real(cap[i].fail_ratio));
            hn_json_set(o, "p50_ms", hn_json_real(cap[i].p50_ms));
            hn_json_set(o, "p95_ms", hn_json_real(cap[i].p95_ms));
            hn_json_set(o, "p99_ms", hn_json_real(cap[i].p99_ms));
            hn_json_set(o, "passed", hn_json_bool(cap[i].passed));
            hn_json_set(o, "failed", hn_json_string(cap[i].failed, strlen(cap[i].failed)));
            hn_json_append(steps, o);
            if (cap[i].passed)
                pass = (long long)cap[i].users;
            else if (fail < 0)
                fail = (long long)cap[i].users;
        }
        int rm = cap[0].rate_mode;
        hn_json_set(c, "mode", hn_json_string(rm ? "rate" : "users", rm ? 4 : 5));
        hn_json_set(c, rm ? "last_passing_rate" : "last_passing_users",
                    pass >= 0 ? hn_json_integer(pass) : hn_json_null());
        hn_json_set(c, rm ? "first_failing_rate" : "first_failing_users",
                    fail >= 0 ? hn_json_integer(fail) : hn_json_null());
        hn_json_set(c, "steps", steps);
        hn_json_set(root, "capacity", c);
    }
    char *text = hn_json_dump(root);
    hn_json_free(root);
    int rc = text && fputs(text, f) >= 0 && fputc('\n', f) != EOF ? 0 : HN_EIO;
    free(text);
    return rc;
}

/* A report to a path (opened and closed here) or to an open stream (path NULL). */
static FILE *out_open(const char *path, FILE *given)
{
    return path ? fopen(path, "w") : given;
}

static int out_close(const char *path, FILE *f, int rc)
{
    if (path && f && fclose(f))
        rc = HN_EIO;
    return f ? rc : HN_EIO;
}

static int report(struct hn_store *st, int64_t run, const char *csv_prefix, const char *json_path,
                  FILE *json_f, const char *html_path, FILE *html_f, int64_t baseline)
{
    char *compare_text = NULL;
    size_t compare_len = 0;
    struct hn_stats s;
    hn_stats_init(&s);
    double dur = 0;
    char err[256];
    int code = 0;
    struct hn_run_info ri;
    struct hn_series se;
    char *history = NULL;
    struct hn_exception *exc = NULL;
    size_t n_exc = 0, n_th = 0, n_cap = 0;
    struct hn_verdict_row *th = NULL;
    struct hn_capacity_step *cap = NULL;
    memset(&ri, 0, sizeof ri);
    memset(&se, 0, sizeof se);
    int64_t secs;
    if (hn_store_load_final(st, run, &s, &dur, &secs, err, sizeof err)) {
        fprintf(stderr, "hornet: report: %s\n", err);
        code = 2;
        goto out;
    }
    if (secs)
        fprintf(stderr, "hornet: report: run %lld was aborted (its master died): the report "
                        "covers the %lld seconds it committed\n",
                (long long)run, (long long)(secs > 0 ? secs : 0));
    if (hn_store_load_info(st, run, &ri, &se) ||
        hn_store_load_extras(st, run, &history, &exc, &n_exc) ||
        hn_store_load_thresholds(st, run, &th, &n_th) ||
        hn_store_load_capacity(st, run, &cap, &n_cap)) {
        fprintf(stderr, "hornet: report: cannot read run %lld\n", (long long)run);
        code = 5;
        goto out;
    }
    if (csv_prefix) {
        FILE *h = hn_csv_history_open(csv_prefix);
        int bad = !h || fputs(history, h) < 0;
        if (h && fclose(h))
            bad = 1;
        if (bad || hn_csv_write_stats(csv_prefix, &s, dur) || hn_csv_write_failures(csv_prefix, &s) ||
            hn_csv_write_exceptions(csv_prefix, exc, n_exc) ||
            hn_csv_write_service_times(csv_prefix, &s) ||
            (ri.arrival_rate > 0 && hn_csv_write_open_model(csv_prefix, ri.arrival_rate, ri.users,
                                                            ri.dropped_iterations)) ||
            (n_th && hn_verdicts_write_csv(csv_prefix, th, n_th)) ||
            (n_cap && hn_capacity_write_csv(csv_prefix, cap, n_cap, cap[0].rate_mode))) {
            fprintf(stderr, "hornet: report: cannot write %s_*.csv: %s\n", csv_prefix, strerror(errno));
            code = HN_EXIT_PERSISTENCE;
            goto out;
        }
    }
    if (json_path || json_f) {
        FILE *f = out_open(json_path, json_f);
        if (out_close(json_path, f, f ? write_json(f, &ri, &s, dur, th, n_th, cap, n_cap) : 0)) {
            fprintf(stderr, "hornet: report: cannot write %s: %s\n",
                    json_path ? json_path : "the JSON report", strerror(errno));
            code = HN_EXIT_PERSISTENCE;
            goto out;
        }
    }
    if ((html_path || html_f) && baseline) {
        struct hn_stats b;
        double bdur;
        hn_stats_init(&b);
        if (hn_store_load_final(st, baseline, &b, &bdur, NULL, err, sizeof err)) {
            fprintf(stderr, "hornet: report: --baseline: %s\n", err);
            hn_stats_fini(&b);
            code = 2;
            goto out;
        }
        FILE *mem = open_memstream(&compare_text, &compare_len);
        if (mem) {
            struct hn_compare_limits l;
            hn_compare_defaults(&l);
            fprintf(mem, "run %lld against baseline %lld\n", (long long)run, (long long)baseline);
            hn_compare(mem, &b, bdur, &s, dur, &l);
            fclose(mem);
        }
        hn_stats_fini(&b);
    }
    if (html_path || html_f) {
        FILE *f = out_open(html_path, html_f);
        if (out_close(html_path, f,
                      f ? write_html(st, f, &ri, &se, &s, dur, compare_text, th, n_th, cap, n_cap)
                        : 0)) {
            fprintf(stderr, "hornet: report: cannot write %s: %s\n",
                    html_path ? html_path : "the HTML report", strerror(errno));
            code = HN_EXIT_PERSISTENCE;
        }
    }
out:
    free(compare_text);
    hn_stats_fini(&s);
    hn_run_info_fini(&ri, &se);
    free(history);
    for (size_t i = 0; i < n_exc; i++) {
        free(exc[i].msg);
        free(exc[i].traceback);
        free(exc[i].nodes);
    }
    free(exc);
    hn_verdicts_free(th, n_th);
    free(cap);
    return code;
}

int hn_report_write(struct hn_store *st, int64_t run, const char *csv_prefix,
                    const char *json_path, const char *html_path, int64_t baseline)
{
    return report(st, run, csv_prefix, json_path, NULL, html_path, NULL, baseline);
}

int hn_report_stream(struct hn_store *st, int64_t run, FILE *json, FILE *html, int64_t baseline)
{
    return report(st, run, NULL, NULL, json, NULL, html, baseline);
}

int hn_report_compare(struct hn_store *st, int64_t base, int64_t run,
                      const struct hn_compare_limits *l, FILE *f, char *err, size_t errlen)
{
    struct hn_stats s[2];
    double dur[2];
    int64_t ids[2] = {base, run};
    int rc = 0;
    hn_stats_init(&s[0]);
    hn_stats_init(&s[1]);
    for (int i = 0; i < 2 && !rc; i++) {
        int64_t secs;
        if (hn_store_load_final(st, ids[i], &s[i], &dur[i], &secs, err, errlen))
            rc = -1;
        else if (secs)
            fprintf(f, "run %lld was aborted (its master died): compared on the %lld seconds it "
                       "committed\n",
                    (long long)ids[i], (long long)(secs > 0 ? secs : 0));
    }
    if (!rc) {
        fprintf(f, "run %lld against baseline %lld\n", (long long)run, (long long)base);
        rc = hn_compare(f, &s[0], dur[0], &s[1], dur[1], l) ? 1 : 0;
    }
    hn_stats_fini(&s[0]);
    hn_stats_fini(&s[1]);
    return rc;
}
