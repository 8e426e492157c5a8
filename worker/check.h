/* Checks and captures of a response (Locust's catch_response): decides whether a request
 * counts as failed, with a message naming the check, and stores captured values for the user's
 * later templates. The body is parsed as JSON only when a JSON check or capture needs it. */
#ifndef HN_CHECK_H
#define HN_CHECK_H

#include <stddef.h>

#include "common/scenario.h"
#include "worker/http.h"

enum hn_verdict { HN_PASS = 0, HN_FAIL, HN_FAIL_STOP_TASK };

/* Evaluates step's checks, then its captures into captures[slot] (malloc'd, replaced). On
 * failure writes a stable message into msg: "status 503 not in [200, 201]", "$.reply missing",
 * "capture token: header X-Token missing". A failed capture returns HN_FAIL_STOP_TASK: later
 * steps would send garbage. */
enum hn_verdict hn_check_response(const struct hn_http_step *step,
                                  const struct hn_http_result *res, char **captures, char *msg,
                                  size_t msglen);

#endif
