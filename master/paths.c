#include "master/paths.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

int hn_mkdir_parents(const char *prefix)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", prefix);
    char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    *slash = '\0';
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0777) && errno != EEXIST ? -1 : 0;
}

/* Can a file be written at path? It exists as a writable regular file, or its folder exists
 * and is writable. One line naming the flag otherwise. */
int hn_check_output_path(const char *flag, const char *path)
{
    if (!path)
        return 0;
    struct stat st;
    const char *why = NULL;
    /* like --csv, a report's folder is created (--db's is not: a typo there would scatter
     * databases) */
    if (strcmp(flag, "--db") && hn_mkdir_parents(path) != 0) {
        fprintf(stderr, "hornet: %s %s: cannot create its folder: %s\n", flag, path,
                strerror(errno));
        return HN_EIO;
    }
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            why = S_ISDIR(st.st_mode) ? "is a folder" : "is not a regular file";
        else if (access(path, W_OK) != 0)
            why = strerror(errno);
    } else if (errno == ENOENT) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (!slash)
            snprintf(dir, sizeof dir, ".");
        else if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
        if (stat(dir, &st) != 0)
            why = errno == ENOENT ? "its folder does not exist" : strerror(errno);
        else if (!S_ISDIR(st.st_mode))
            why = "its folder is not a folder";
        else if (access(dir, W_OK | X_OK) != 0)
            why = strerror(errno);
    } else {
        why = strerror(errno);
    }
    if (!why)
        return 0;
    fprintf(stderr, "hornet: %s %s: cannot write there: %s\n", flag, path, why);
    return HN_EIO;
}

