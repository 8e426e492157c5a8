/* The master process: waits for workers, splits users and spawn rate over them, drives the run
 * time, merges their stats deltas, prints Locust's console tables and writes the CSV files.
 * In local mode it also starts its own worker processes (same protocol, same code path). */
#ifndef HN_MASTER_H
#define HN_MASTER_H

#include "common/options.h"

/* Runs one test to the end. Returns the process exit code (HN_EXIT_*). */
int hn_master_run(const struct hn_options *o);
/* `hornet runs`: lists the recorded runs of o->db_path. Returns the exit code. */
int hn_master_list_runs(const struct hn_options *o);
/* `hornet report RUN`: regenerates CSV / JSON / HTML from the history. */
int hn_master_report(const struct hn_options *o, const char *run);
/* `hornet compare BASE RUN`: exit 0, 1 (regression), 2 (bad ids) or 5. */
int hn_master_compare(const struct hn_options *o, const char *base, const char *run);

#endif
