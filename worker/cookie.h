/* A user's cookie jar for the native HTTP engine, in the format libcurl's engine keeps it (one
 * Netscape line per cookie: domain, subdomains TRUE/FALSE, path, secure TRUE/FALSE, expiry,
 * name, value; "#HttpOnly_" before an HttpOnly cookie's domain), so a user whose steps use
 * both engines has one jar. RFC 6265's matching: host-only or Domain= cookies, path prefix,
 * Secure only over https, Max-Age before Expires, an expired or Max-Age<=0 cookie removed.
 * Pure: strings in, strings out; the jar is capped at 16 KiB (newest cookies dropped beyond). */
#ifndef HN_COOKIE_H
#define HN_COOKIE_H

#include <stdint.h>

#include "common/template.h"

#define HN_COOKIE_JAR_MAX 16384

/* The Cookie header's value for a request to host and path ("a=1; b=2"), appended to out.
 * Returns how many cookies matched. */
int hn_cookie_header(const char *jar, const char *host, const char *path, int secure,
                     int64_t now_s, struct hn_buf *out);
/* A response's Set-Cookie value (from host, for a request to req_path) into *jar (malloc'd,
 * NULL while empty). A cookie for another domain is ignored. */
void hn_cookie_set(char **jar, const char *set_cookie, const char *host, const char *req_path,
                   int64_t now_s);

#endif
