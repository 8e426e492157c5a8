/* What a scenario amounts to before any load: the users per class for a user count, Locust's
 * --list and --show-task-ratio, hornet's --check (the compiled model), and the run-time checks
 * that need the user count (data sources large enough). Writes to the given FILE; pure
 * otherwise. */
#ifndef HN_DESCRIBE_H
#define HN_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/scenario.h"

/* Users per class for `users` in total (fixed counts first, then by weight). */
void hn_describe_class_counts(const struct hn_scenario *sc, uint64_t users, uint64_t *counts);
void hn_describe_list(FILE *f, const struct hn_scenario *sc);
void hn_describe_ratio(FILE *f, const struct hn_scenario *sc, uint64_t users);
/* The same as Locust's --show-task-ratio-json. */
void hn_describe_ratio_json(FILE *f, const struct hn_scenario *sc, uint64_t users);
void hn_describe_model(FILE *f, const struct hn_scenario *sc, const char *host,
                       const char *engine);
/* Returns HN_EINVAL with one line in err when the run cannot work: no spawnable class, or a
 * data source with fewer rows than users and no wrap. */
int hn_describe_validate_run(const struct hn_scenario *sc, uint64_t users, char *err,
                             size_t errlen);

/* Steps forced onto the native HTTP engine (--http-engine native, or a step's engine: native)
 * that it cannot run: an https:// URL or TLS settings. Returns 0, or HN_EINVAL with
 * "FILE:LINE: METHOD NAME: ..." in err. */
int hn_describe_check_engines(const struct hn_scenario *sc, const char *host, int native_forced,
                              char *err, size_t errlen);

#endif
