#include "cmd/convert.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

extern const char hn_locust_convert_py[];

int hn_convert_run(int argc, char **argv)
{
    if (argc != 3 || argv[2][0] == '-') {
        fprintf(stderr, "hornet: convert: expected one file: hornet convert locustfile.py > "
                        "scenario.yaml\n");
        return HN_EXIT_USAGE;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "hornet: convert: cannot start python3: %s\n", strerror(errno));
        return HN_EXIT_RUNTIME;
    }
    if (pid == 0) {
        /* -I: isolated (no user site, no PYTHON* variables, no script folder on the path) */
        char *args[] = {"python3", "-I", "-c", (char *)hn_locust_convert_py, argv[2], NULL};
        execvp("python3", args);
        fprintf(stderr, "hornet: convert: needs python3 (apt-get install python3): %s\n",
                strerror(errno));
        _exit(HN_EXIT_RUNTIME);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return HN_EXIT_RUNTIME;
    return WIFEXITED(st) ? WEXITSTATUS(st) : HN_EXIT_RUNTIME;
}
