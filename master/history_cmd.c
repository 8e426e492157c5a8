/* The history sub-commands: `hornet runs`, `hornet report RUN`, `hornet compare BASE RUN`. They
 * only read the database (hn_store_open_read). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/stats.h"
#include "common/util.h"
#include "master/compare.h"
#include "master/master.h"
#include "master/paths.h"
#include "master/report.h"
#include "master/store.h"

static int open_history(const struct hn_options *o, const char *cmd, struct hn_store **st)
{
    if (!o->db_path) {
        fprintf(stderr, "hornet: %s: --no-db leaves nothing to read\n", cmd);
        return HN_EXIT_USAGE;
    }
    if (access(o->db_path, F_OK) != 0) {
        fprintf(stderr, "hornet: %s: --db %s: no such database (a run creates it)\n", cmd,
                o->db_path);
        return HN_EXIT_USAGE;
    }
    char err[512];
    if (hn_store_open_read(o->db_path, st, err, sizeof err)) {
        fprintf(stderr, "hornet: %s: %s\n", cmd, err);
        return HN_EXIT_RUNTIME;
    }
    return 0;
}

int hn_master_report(const struct hn_options *o, const char *run)
{
    uint64_t id;
    if (hn_parse_u64(run, &id)) {
        fprintf(stderr, "hornet: report: expected a run id (see hornet runs), got '%s'\n", run);
        return HN_EXIT_USAGE;
    }
    if (!o->csv_prefix && !o->json_path && !o->html_path) {
        fprintf(stderr, "hornet: report: say what to write: --csv PREFIX, --json FILE, --html FILE\n");
        return HN_EXIT_USAGE;
    }
    struct hn_store *st;
    int rc = open_history(o, "report", &st);
    if (rc)
        return rc;
    if (o->csv_prefix && hn_mkdir_parents(o->csv_prefix) != 0) {
        fprintf(stderr, "hornet: report: --csv %s: cannot create its folder: %s\n", o->csv_prefix,
                strerror(errno));
        hn_store_close(&st);
        return HN_EXIT_USAGE;
    }
    rc = hn_report_write(st, (int64_t)id, o->csv_prefix, o->json_path, o->html_path,
                         (int64_t)o->baseline_run);
    hn_store_close(&st);
    return rc;
}

int hn_master_compare(const struct hn_options *o, const char *base, const char *run)
{
    uint64_t ids[2];
    if (hn_parse_u64(base, &ids[0]) || hn_parse_u64(run, &ids[1])) {
        fprintf(stderr, "hornet: compare: expected two run ids (see hornet runs), got '%s' '%s'\n",
                base, run);
        return HN_EXIT_USAGE;
    }
    struct hn_store *st;
    int rc = open_history(o, "compare", &st);
    if (rc)
        return rc;
    struct hn_compare_limits l = {o->max_latency_pct, o->max_latency_ms, o->max_rps_drop_pct,
                                  o->max_fail_points};
    char err[256];
    rc = hn_report_compare(st, (int64_t)ids[0], (int64_t)ids[1], &l, stdout, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "hornet: compare: %s\n", err);
    rc = rc < 0 ? HN_EXIT_USAGE : rc ? HN_EXIT_FAILURES : 0;
    hn_store_close(&st);
    return rc;
}

int hn_master_list_runs(const struct hn_options *o)
{
    struct hn_store *st;
    int orc = open_history(o, "runs", &st);
    if (orc)
        return orc;
    int rc = hn_store_list_runs(st, stdout, 1000);
    hn_store_close(&st);
    return rc ? HN_EXIT_RUNTIME : HN_EXIT_OK;
}
