#include "master/children.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/options.h"
#include "common/util.h"

struct hn_children {
    pid_t *pids; /* 0 once reaped */
    size_t n;
};

int hn_children_start(uint64_t n, unsigned port, int loglevel, const char *logfile,
                      int64_t heartbeat_timeout_ms, const char *secret, struct hn_children **out)
{
    struct hn_children *c = hn_calloc(1, sizeof *c);
    *out = c;
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) {
        hn_error("cannot find the hornet binary to start workers: %s", strerror(errno));
        return HN_EIO;
    }
    exe[len] = '\0';
    char portbuf[16], hbbuf[32], level[16];
    snprintf(portbuf, sizeof portbuf, "%u", port);
    snprintf(hbbuf, sizeof hbbuf, "%lldms", (long long)heartbeat_timeout_ms);
    static const char *const levels[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};
    snprintf(level, sizeof level, "%s", levels[loglevel]);
    c->pids = hn_calloc(n ? n : 1, sizeof *c->pids);
    pid_t parent = getpid();
    for (uint64_t i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            hn_error("cannot start a worker process: %s", strerror(errno));
            return HN_EIO;
        }
        if (pid == 0) {
            setpgid(0, 0);
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (secret)
                setenv(HN_CLUSTER_SECRET_ENV, secret, 1);
            if (getppid() != parent)
                _exit(HN_EXIT_CLUSTER); /* the master died before prctl took effect */
            int fd = open("/dev/null", O_RDONLY);
            if (fd >= 0) {
                dup2(fd, 0);
                close(fd);
            }
            char *argv[] = {exe,           "--worker",           "--master-host", "127.0.0.1",
                            "--master-port", portbuf,            "--loglevel",    level,
                            "--heartbeat-timeout", hbbuf, "--master-connect-timeout", "15s",
                            logfile ? "--logfile" : NULL, (char *)logfile, NULL};
            execv(exe, argv);
            fprintf(stderr, "hornet: cannot start worker %s: %s\n", exe, strerror(errno));
            _exit(HN_EXIT_RUNTIME);
        }
        c->pids[c->n++] = pid;
    }
    return 0;
}

int hn_children_reap(struct hn_children *c, void (*fn)(void *ctx, pid_t pid, const char *why),
                     void *ctx)
{
    int died = 0;
    for (size_t i = 0; c && i < c->n; i++) {
        if (c->pids[i] <= 0)
            continue;
        int st;
        pid_t r = waitpid(c->pids[i], &st, WNOHANG);
        if (r != c->pids[i])
            continue;
        c->pids[i] = 0;
        died++;
        if (!fn)
            continue;
        char why[64];
        snprintf(why, sizeof why, "its process exited (%s %d)", WIFEXITED(st) ? "code" : "signal",
                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        fn(ctx, r, why);
    }
    return died;
}

void hn_children_stop(struct hn_children **cp)
{
    struct hn_children *c = cp ? *cp : NULL;
    if (!c)
        return;
    uint64_t deadline = hn_mono_us() / 1000 + 5000;
    for (;;) {
        hn_children_reap(c, NULL, NULL);
        int left = 0;
        for (size_t i = 0; i < c->n; i++)
            left += c->pids[i] > 0;
        if (!left || hn_mono_us() / 1000 > deadline)
            break;
        usleep(20000);
    }
    for (size_t i = 0; i < c->n; i++) {
        if (c->pids[i] > 0) {
            hn_warn("worker process %d did not exit; killing it", (int)c->pids[i]);
            kill(c->pids[i], SIGKILL);
            waitpid(c->pids[i], NULL, 0);
        }
    }
    free(c->pids);
    free(c);
    *cp = NULL;
}
