#include "proto/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

#define KEY_FILE_MAX (1u << 20) /* an allow-list of ~15 000 keys */

/* The value of `name = "value"` (quotes optional) if line is that assignment, else NULL. */
static const char *assignment(char *line, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(line, name, n))
        return NULL;
    char *p = line + n;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '=')
        return NULL;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    char *end = p + strlen(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    if (*p == '"' && end > p + 1 && end[-1] == '"') {
        end[-1] = '\0';
        p++;
    }
    return p;
}

int hn_keys_parse(const char *text, char public_z85[41], char secret_z85[41], hn_key_add_fn *add,
                  void *ctx, char *err, size_t errlen)
{
    public_z85[0] = secret_z85[0] = '\0';
    char *copy = hn_strdup(text);
    int lineno = 0, rc = 0;
    for (char *l = copy, *next; l; l = next) {
        next = strchr(l, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        while (*l == ' ' || *l == '\t')
            l++;
        size_t len = strlen(l);
        while (len && (l[len - 1] == '\r' || l[len - 1] == ' ' || l[len - 1] == '\t'))
            l[--len] = '\0';
        if (!len || l[0] == '#')
            continue;
        const char *pub = assignment(l, "public-key"), *sec = assignment(l, "secret-key");
        const char *key = pub ? pub : sec ? sec : l;
        const char *what = pub ? "public-key" : sec ? "secret-key" : "a key";
        if (!pub && !sec && strchr(l, '=')) {
            snprintf(err, errlen, "%d: unknown field '%.*s' (expected public-key or secret-key)",
                     lineno, (int)strcspn(l, " \t="), l);
            rc = HN_EINVAL;
            break;
        }
        if (!hn_rpc_key_valid(key)) {
            snprintf(err, errlen, "%d: %s: expected a CURVE key of 40 Z85 characters (from "
                     "hornet keygen)", lineno, what);
            rc = HN_EINVAL;
            break;
        }
        if (sec) {
            snprintf(secret_z85, 41, "%s", key);
            continue;
        }
        if (!public_z85[0])
            snprintf(public_z85, 41, "%s", key);
        if (add)
            add(ctx, key);
    }
    free(copy);
    if (!rc && secret_z85[0]) {
        char derived[41];
        if (hn_rpc_key_public(secret_z85, derived) || (public_z85[0] && strcmp(derived, public_z85))) {
            snprintf(err, errlen, " secret-key and public-key are not one pair");
            return HN_EINVAL;
        }
        snprintf(public_z85, 41, "%s", derived);
    }
    return rc;
}

/* The file's text, or NULL with "PATH: why" in err. */
static char *read_text(const char *path, const char *flag, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "hornet: %s %s: %s", flag, path, strerror(errno));
        return NULL;
    }
    char *buf = hn_malloc(KEY_FILE_MAX + 1);
    size_t n = fread(buf, 1, KEY_FILE_MAX + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n > KEY_FILE_MAX) {
        snprintf(err, errlen, "hornet: %s %s: %s", flag, path,
                 bad ? "cannot be read" : "larger than 1 MiB");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) {
        snprintf(err, errlen, "hornet: %s %s: not a text file", flag, path);
        free(buf);
        return NULL;
    }
    return buf;
}

static void add_allowed(void *ctx, const char *key) { hn_rpc_keys_allow(ctx, key); }

/* Reads a key file for flag: its public key, its secret key if need_secret. */
static int read_key_file(const char *flag, const char *path, int need_secret, char pub[41],
                         char sec[41], struct hn_rpc_keys *allow, char *err, size_t errlen)
{
    char *text = read_text(path, flag, err, errlen);
    if (!text)
        return HN_EXIT_USAGE;
    char why[300];
    int rc = hn_keys_parse(text, pub, sec, allow ? add_allowed : NULL, allow, why, sizeof why);
    free(text);
    if (rc) {
        snprintf(err, errlen, "hornet: %s %s:%s", flag, path, why);
        return HN_EXIT_USAGE;
    }
    if (!pub[0]) {
        snprintf(err, errlen, "hornet: %s %s: no public-key in the file", flag, path);
        return HN_EXIT_USAGE;
    }
    if (need_secret && !sec[0]) {
        snprintf(err, errlen,
                 "hornet: %s %s: no secret-key in the file (give the NAME.key file that "
                 "hornet keygen wrote, not NAME.pub)",
                 flag, path);
        return HN_EXIT_USAGE;
    }
    return 0;
}

int hn_keys_from_options(const struct hn_options *o, int master_side, struct hn_rpc_keys *k,
                         int *have, char *err, size_t errlen)
{
    memset(k, 0, sizeof *k);
    *have = 0;
    err[0] = '\0';
    const char *secret = hn_options_cluster_secret(o, err, errlen);
    if (err[0])
        return HN_EXIT_USAGE;
    const char *own = master_side ? o->master_key : o->worker_key;
    const char *other = master_side ? o->worker_keys : o->master_public_key;
    const char *own_flag = master_side ? "--master-key" : "--worker-key";
    const char *other_flag = master_side ? "--worker-keys" : "--master-public-key";
    if (own || other) {
        if (o->cluster_secret) {
            snprintf(err, errlen, "hornet: --cluster-secret and %s are two ways to secure the "
                     "links; use one", own ? own_flag : other_flag);
            return HN_EXIT_USAGE;
        }
        if (!own || !other) {
            snprintf(err, errlen, "hornet: %s needs %s as well%s", own ? own_flag : other_flag,
                     own ? other_flag : own_flag,
                     master_side ? " (the master's key pair and the workers it admits)"
                                 : " (this worker's key pair and the master's public key)");
            return HN_EXIT_USAGE;
        }
        char unused_pub[41], unused_sec[41];
        int rc = master_side
                     ? read_key_file(own_flag, own, 1, k->server_public, k->server_secret, NULL,
                                     err, errlen)
                     : read_key_file(own_flag, own, 1, k->client_public, k->client_secret, NULL,
                                     err, errlen);
        if (!rc)
            rc = master_side ? read_key_file(other_flag, other, 0, unused_pub, unused_sec, k,
                                             err, errlen)
                             : read_key_file(other_flag, other, 0, k->server_public, unused_sec,
                                             NULL, err, errlen);
        if (rc) {
            hn_rpc_keys_fini(k);
            return rc;
        }
        *have = 1;
        return 0;
    }
    if (!secret)
        return 0;
    if (hn_rpc_keys_from_secret(secret, k)) {
        snprintf(err, errlen, "hornet: this libzmq has no CURVE support (needed for the "
                 "cluster secret)");
        hn_rpc_keys_fini(k);
        return HN_EXIT_USAGE;
    }
    *have = 1;
    return 0;
}

/* Creates path with mode, refusing to replace a file. */
static int write_new(const char *path, mode_t mode, const char *text, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        snprintf(err, errlen, "hornet: keygen: %s: %s", path,
                 errno == EEXIST ? "already exists (not replaced)" : strerror(errno));
        return errno == EEXIST ? HN_EXIT_USAGE : HN_EXIT_RUNTIME;
    }
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);
    int bad = w != (ssize_t)n || fsync(fd) != 0;
    if (close(fd) != 0 || bad) {
        snprintf(err, errlen, "hornet: keygen: cannot write %s: %s", path, strerror(errno));
        unlink(path);
        return HN_EXIT_RUNTIME;
    }
    return 0;
}

int hn_keys_generate(const char *name, char public_z85[41], char *err, size_t errlen)
{
    char sec[41], keyp[4096], pubp[4096], text[400];
    if (!*name || strlen(name) > 4000) {
        snprintf(err, errlen, "hornet: keygen: expected a file name prefix: hornet keygen NAME");
        return HN_EXIT_USAGE;
    }
    if (hn_rpc_keygen(public_z85, sec)) {
        snprintf(err, errlen, "hornet: keygen: this libzmq has no CURVE support");
        return HN_EXIT_RUNTIME;
    }
    snprintf(keyp, sizeof keyp, "%s.key", name);
    snprintf(pubp, sizeof pubp, "%s.pub", name);
    snprintf(text, sizeof text,
             "# hornet CURVE key pair. Keep it secret: it lets its holder serve as a master or\n"
             "# join as a worker. The public key alone is in %s.pub.\n"
             "public-key = \"%s\"\n"
             "secret-key = \"%s\"\n",
             name, public_z85, sec);
    memset(sec, 0, sizeof sec);
    int rc = write_new(keyp, 0600, text, err, errlen);
    memset(text, 0, sizeof text);
    if (rc)
        return rc;
    snprintf(text, sizeof text,
             "# hornet CURVE public key: give it to the master (--worker-keys) or to the\n"
             "# workers (--master-public-key)\n"
             "public-key = \"%s\"\n",
             public_z85);
    rc = write_new(pubp, 0644, text, err, errlen);
    if (rc)
        unlink(keyp);
    return rc;
}
