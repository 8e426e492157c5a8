/* Local mode's worker processes: the same binary forked and exec'd as `--worker` against the
 * master's loopback port, each in a process group of its own (a terminal's Ctrl-C and
 * `timeout`'s SIGTERM reach only the master, which stops them the orderly way) and ending with
 * the master (PR_SET_PDEATHSIG). The cluster secret reaches them through their environment. */
#ifndef HN_CHILDREN_H
#define HN_CHILDREN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct hn_children;

/* Starts n workers (logging to logfile too when not NULL). Returns 0, or HN_EIO (logged); *out is set either way (stop it). */
int hn_children_start(uint64_t n, unsigned port, int loglevel, const char *logfile,
                      int64_t heartbeat_timeout_ms, const char *secret, struct hn_children **out);
/* Reaps the workers that exited; for each, fn(ctx, pid, why) ("its process exited (signal
 * 9)"). Returns how many. */
int hn_children_reap(struct hn_children *c, void (*fn)(void *ctx, pid_t pid, const char *why),
                     void *ctx);
/* Waits up to 5 s for the workers to exit (they were told to quit), kills the rest, frees. */
void hn_children_stop(struct hn_children **cp);

#endif
