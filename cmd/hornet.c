/* hornet: one binary, Locust's flags. Local mode (default), --master or --worker. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/convert.h"
#include "common/log.h"
#include "common/options.h"
#include "common/util.h"
#include "master/master.h"
#include "proto/keys.h"
#include "worker/worker.h"

static int run(struct hn_options *o, char **argv, int runs, int compare, int report);

static const char *env_get(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

/* One config file into o. A default file that is not there is skipped; --config's must be. */
static int apply_file(struct hn_options *o, const char *path, int must, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (!must && errno == ENOENT)
            return 0;
        snprintf(err, errlen, "hornet: %s %s: %s", must ? "--config" : "config file", path,
                 strerror(errno));
        return HN_EXIT_USAGE;
    }
    char *text = malloc(1 << 20);
    size_t n = text ? fread(text, 1, 1 << 20, f) : 0;
    int bad = !text || ferror(f) || n == 1 << 20;
    fclose(f);
    int rc = 0;
    if (bad)
        snprintf(err, errlen, "hornet: %s: cannot read it (or it is over 1 MiB)", path), rc = HN_EXIT_USAGE;
    else
        rc = hn_options_apply_config(o, path, text, n, err, errlen);
    free(text);
    return rc;
}

/* Everything below the command line, in Locust's order: ~/.hornet.conf, ./hornet.conf,
 * --config FILE, then the environment. */
static int apply_settings(struct hn_options *o, int argc, char **argv, char *err, size_t errlen)
{
    char home[4096];
    const char *h = getenv("HOME");
    int rc = 0;
    if (h && *h) {
        snprintf(home, sizeof home, "%s/.hornet.conf", h);
        rc = apply_file(o, home, 0, err, errlen);
    }
    if (!rc)
        rc = apply_file(o, "hornet.conf", 0, err, errlen);
    const char *cfg = hn_options_config_arg(argc, argv);
    if (!rc && cfg)
        rc = apply_file(o, cfg, 1, err, errlen);
    return rc ? rc : hn_options_apply_env(o, env_get, NULL, err, errlen);
}

int main(int argc, char **argv)
{
    struct hn_options o;
    hn_options_defaults(&o);
    char err[4608];
    /* subcommands come first: `hornet runs [--db PATH]`, `hornet compare BASE RUN [...]` */
    if (argc > 1 && !strcmp(argv[1], "keygen")) {
        if (argc != 3 || argv[2][0] == '-') {
            fprintf(stderr, "hornet: keygen: expected one name: hornet keygen NAME (writes "
                            "NAME.key and NAME.pub)\n");
            return HN_EXIT_USAGE;
        }
        char pub[41];
        int rc = hn_keys_generate(argv[2], pub, err, sizeof err);
        if (rc) {
            fprintf(stderr, "%s\n", err);
            return rc;
        }
        printf("wrote %s.key (the key pair, mode 0600: keep it on its machine) and %s.pub\n"
               "public key: %s\n",
               argv[2], argv[2], pub);
        return HN_EXIT_OK;
    }
    if (argc > 1 && !strcmp(argv[1], "convert"))
        return hn_convert_run(argc, argv);
    int runs = argc > 1 && !strcmp(argv[1], "runs");
    int compare = argc > 1 && !strcmp(argv[1], "compare");
    int report = argc > 1 && !strcmp(argv[1], "report");
    if (report && argc < 3) {
        fprintf(stderr, "hornet: report: expected a run id: hornet report RUN --html FILE\n");
        return HN_EXIT_USAGE;
    }
    if (compare && argc < 4) {
        fprintf(stderr, "hornet: compare: expected two run ids: hornet compare BASE RUN\n");
        return HN_EXIT_USAGE;
    }
    int skip = runs ? 1 : compare ? 3 : report ? 2 : 0;
    int rc = apply_settings(&o, argc - skip, argv + skip, err, sizeof err);
    if (!rc)
        rc = hn_options_parse(&o, argc - skip, argv + skip, err, sizeof err);
    if (rc) {
        fprintf(stderr, "%s\n", err);
        hn_options_fini(&o);
        return rc;
    }
    if (o.show_help) {
        hn_options_help(stdout);
        hn_options_fini(&o);
        return HN_EXIT_OK;
    }
    if (o.show_version) {
        printf("hornet %s\n", HORNET_VERSION);
        hn_options_fini(&o);
        return HN_EXIT_OK;
    }
    hn_log_set_level(o.loglevel);
    FILE *logfile = NULL;
    if (o.logfile) {
        logfile = fopen(o.logfile, "a");
        if (!logfile) {
            fprintf(stderr, "hornet: --logfile %s: %s\n", o.logfile, strerror(errno));
            hn_options_fini(&o);
            return HN_EXIT_USAGE;
        }
        hn_log_set_file(logfile);
    }
    rc = run(&o, argv, runs, compare, report);
    if (logfile) {
        hn_log_set_file(NULL);
        fclose(logfile);
    }
    hn_options_fini(&o);
    return rc;
}

/* The command, once the options are parsed and the log is set up. */
static int run(struct hn_options *o, char **argv, int runs, int compare, int report)
{
    if (runs)
        return hn_master_list_runs(o);
    if (compare)
        return hn_master_compare(o, argv[2], argv[3]);
    if (report)
        return hn_master_report(o, argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (o->mode == HN_MODE_WORKER)
        return hn_worker_run(o);
    return hn_master_run(o);
}
