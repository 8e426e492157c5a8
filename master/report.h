/* Reports regenerated from the run history: Locust's CSV files (byte for byte what the live run
 * wrote), a JSON summary for tooling, and a self-contained HTML report (inline CSS and SVG
 * charts, no network). Every string from a scenario, a target or a worker is HTML-escaped. */
#ifndef HN_REPORT_H
#define HN_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "master/compare.h"
#include "master/store.h"

/* Writes whichever outputs are non-NULL; baseline (a run id, 0 = none) adds the comparison to
 * the HTML. Returns an exit code (0, 2 for an unknown or unfinished run, 5 when a file cannot
 * be written), after one line on stderr. */
int hn_report_write(struct hn_store *st, int64_t run, const char *csv_prefix,
                    const char *json_path, const char *html_path, int64_t baseline);

/* The same JSON and HTML reports into open streams (either may be NULL). */
int hn_report_stream(struct hn_store *st, int64_t run, FILE *json, FILE *html, int64_t baseline);

/* Two recorded runs compared as `hornet compare` prints it, into f. Returns 0 (no
 * regression), 1 (a regression), or -1 with a reason in err (an unknown or unfinished run). */
int hn_report_compare(struct hn_store *st, int64_t base, int64_t run,
                      const struct hn_compare_limits *l, FILE *f, char *err, size_t errlen);

/* Text for HTML or XML: markup characters as entities, control characters as spaces. */
void hn_report_escape(FILE *f, const char *s);

#endif
