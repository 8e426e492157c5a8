#include "worker/cookie.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/util.h"

/* One jar line's fields, pointing into a copy of the line. */
struct line {
    const char *domain, *path, *name, *value;
    int subdomains, secure, httponly;
    int64_t expires;
};

static int split(char *l, struct line *c)
{
    char *f[7];
    int n = 0;
    c->httponly = 0;
    if (!strncmp(l, "#HttpOnly_", 10)) {
        c->httponly = 1;
        l += 10;
    } else if (l[0] == '#') {
        return -1;
    }
    for (char *p = l; n < 7; n++) {
        f[n] = p;
        char *tab = n < 6 ? strchr(p, '\t') : NULL;
        if (n < 6 && !tab)
            return -1;
        if (tab) {
            *tab = '\0';
            p = tab + 1;
        }
    }
    c->domain = f[0];
    c->subdomains = !strcmp(f[1], "TRUE");
    c->path = f[2];
    c->secure = !strcmp(f[3], "TRUE");
    c->expires = strtoll(f[4], NULL, 10);
    c->name = f[5];
    c->value = f[6];
    return 0;
}

/* RFC 6265 5.1.3: host equals domain, or ends with "." + domain (not for IP addresses). */
static int domain_match(const char *host, const char *domain, int subdomains)
{
    if (domain[0] == '.')
        domain++;
    if (!strcasecmp(host, domain))
        return 1;
    if (!subdomains)
        return 0;
    size_t hl = strlen(host), dl = strlen(domain);
    return hl > dl && host[hl - dl - 1] == '.' && !strcasecmp(host + hl - dl, domain);
}

/* RFC 6265 5.1.4 */
static int path_match(const char *req, const char *cookie)
{
    size_t cl = strlen(cookie);
    if (strncmp(req, cookie, cl))
        return 0;
    return req[cl] == '\0' || req[cl] == '?' || cookie[cl - 1] == '/' || req[cl] == '/';
}

int hn_cookie_header(const char *jar, const char *host, const char *path, int secure,
                     int64_t now_s, struct hn_buf *out)
{
    int n = 0;
    if (!jar)
        return 0;
    char line[HN_COOKIE_JAR_MAX];
    for (const char *p = jar; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len < sizeof line) {
            memcpy(line, p, len);
            line[len] = '\0';
            struct line c;
            if (!split(line, &c) && domain_match(host, c.domain, c.subdomains) &&
                path_match(path, c.path) && (!c.secure || secure) &&
                (c.expires == 0 || c.expires > now_s)) {
                if (n++)
                    hn_buf_append(out, "; ", 2);
                hn_buf_append(out, c.name, strlen(c.name));
                hn_buf_append(out, "=", 1);
                hn_buf_append(out, c.value, strlen(c.value));
            }
        }
        p += len + (nl ? 1 : 0);
    }
    return n;
}

static const char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static int64_t parse_http_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    static const char *const fmts[] = {"%a, %d %b %Y %H:%M:%S", "%a, %d-%b-%Y %H:%M:%S",
                                       "%a, %d-%b-%y %H:%M:%S", "%a %b %d %H:%M:%S %Y"};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        memset(&tm, 0, sizeof tm);
        if (strptime(s, fmts[i], &tm)) {
            int64_t t = (int64_t)timegm(&tm);
            return t > 0 ? t : 1; /* a date before 1970 is in the past: expired */
        }
    }
    return -1;
}

void hn_cookie_set(char **jar, const char *set_cookie, const char *host, const char *req_path,
                   int64_t now_s)
{
    char buf[4096];
    if (strlen(set_cookie) >= sizeof buf)
        return; /* a cookie this large is not kept (the jar is capped anyway) */
    snprintf(buf, sizeof buf, "%s", set_cookie);
    char *save = NULL, *pair = strtok_r(buf, ";", &save);
    if (!pair)
        return;
    char *eq = strchr(pair, '=');
    if (!eq)
        return;
    *eq = '\0';
    const char *name = trim(pair), *value = trim(eq + 1);
    if (!name[0] || strpbrk(name, "\t\n\r") || strpbrk(value, "\t\n\r"))
        return;
    char domain[256] = "", path[1024] = "";
    int secure = 0, httponly = 0, subdomains = 0, have_max_age = 0;
    int64_t expires = 0;
    for (char *a; (a = strtok_r(NULL, ";", &save));) {
        char *v = strchr(a, '=');
        if (v)
            *v++ = '\0';
        const char *k = trim(a), *val = v ? trim(v) : "";
        if (!strcasecmp(k, "Domain") && val[0]) {
            snprintf(domain, sizeof domain, "%s", val[0] == '.' ? val + 1 : val);
            subdomains = 1;
        } else if (!strcasecmp(k, "Path") && val[0] == '/') {
            snprintf(path, sizeof path, "%s", val);
        } else if (!strcasecmp(k, "Secure")) {
            secure = 1;
        } else if (!strcasecmp(k, "HttpOnly")) {
            httponly = 1;
        } else if (!strcasecmp(k, "Max-Age")) {
            char *end;
            long long s = strtoll(val, &end, 10);
            if (end != val && !*end) {
                have_max_age = 1;
                expires = s <= 0 ? 1 : now_s + s;
            }
        } else if (!strcasecmp(k, "Expires") && !have_max_age) {
            int64_t t = parse_http_date(val);
            if (t > 0)
                expires = t;
        }
    }
    if (!domain[0]) {
        snprintf(domain, sizeof domain, "%s", host);
    } else if (!domain_match(host, domain, 1)) {
        return; /* a cookie for another site */
    }
    if (!path[0]) { /* the request path's directory (RFC 6265 5.1.4) */
        const char *q = strchr(req_path, '?');
        size_t pl = q ? (size_t)(q - req_path) : strlen(req_path);
        const char *last = NULL;
        for (size_t i = 0; i < pl; i++)
            if (req_path[i] == '/')
                last = req_path + i;
        if (!last || last == req_path)
            snprintf(path, sizeof path, "/");
        else
            snprintf(path, sizeof path, "%.*s", (int)(last - req_path), req_path);
    }
    int remove = expires != 0 && expires <= now_s;
    /* the jar without this cookie (same name, domain and path), then the cookie */
    struct hn_buf out;
    hn_buf_init(&out, HN_COOKIE_JAR_MAX);
    char line[HN_COOKIE_JAR_MAX];
    for (const char *p = *jar ? *jar : ""; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        int keep = 1;
        if (len < sizeof line) {
            memcpy(line, p, len);
            line[len] = '\0';
            struct line c;
            keep = split(line, &c) || strcmp(c.name, name) || strcmp(c.path, path) ||
                   strcasecmp(c.domain[0] == '.' ? c.domain + 1 : c.domain, domain);
        }
        if (keep && out.len + len + 1 < HN_COOKIE_JAR_MAX) {
            hn_buf_append(&out, p, len);
            hn_buf_append(&out, "\n", 1);
        }
        p += len + (nl ? 1 : 0);
    }
    if (!remove) {
        char add[HN_COOKIE_JAR_MAX];
        int n = snprintf(add, sizeof add, "%s%s%s\t%s\t%s\t%s\t%lld\t%s\t%s\n",
                         httponly ? "#HttpOnly_" : "", subdomains ? "." : "", domain,
                         subdomains ? "TRUE" : "FALSE", path, secure ? "TRUE" : "FALSE",
                         (long long)expires, name, value);
        if (n > 0 && (size_t)n < sizeof add && out.len + (size_t)n < HN_COOKIE_JAR_MAX)
            hn_buf_append(&out, add, (size_t)n);
    }
    free(*jar);
    *jar = out.len ? hn_strdup(hn_buf_cstr(&out)) : NULL;
    hn_buf_fini(&out);
}
