/* The worker process: connects to the master, receives the scenario and its share of users,
 * runs them on one libuv loop, and streams stats deltas and heartbeats back. */
#ifndef HN_WORKER_H
#define HN_WORKER_H

#include "common/options.h"

/* Runs until the master says quit, the master is lost, or a signal arrives. Returns the
 * process exit code (HN_EXIT_*). */
int hn_worker_run(const struct hn_options *o);

#endif
