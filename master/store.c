#include "master/store.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/template.h"
#include "common/util.h"

#define SCHEMA_VERSION 2

struct hn_store {
    sqlite3 *db;
    int degraded;
};

static const char k_schema[] =
    "CREATE TABLE IF NOT EXISTS runs ("
    " id INTEGER PRIMARY KEY, started_ms INTEGER NOT NULL, ended_ms INTEGER,"
    " status TEXT NOT NULL, command_line TEXT, scenario_path TEXT, scenario_text TEXT,"
    " scenario_hash TEXT, host TEXT, users INTEGER, spawn_rate REAL, run_time_ms INTEGER,"
    " version TEXT, exit_code INTEGER, verdicts TEXT, last_interval_ms INTEGER,"
    " duration_s REAL, pid INTEGER, node TEXT);"
    "CREATE TABLE IF NOT EXISTS history ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), seq INTEGER PRIMARY KEY, rows TEXT);"
    "CREATE TABLE IF NOT EXISTS exceptions ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), count INTEGER, message TEXT, traceback TEXT,"
    " nodes TEXT);"
    "CREATE TABLE IF NOT EXISTS users_over_time ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), ts_ms INTEGER, users INTEGER);"
    "CREATE TABLE IF NOT EXISTS intervals ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), ts_ms INTEGER NOT NULL, type TEXT NOT NULL,"
    " name TEXT NOT NULL, requests INTEGER, failures INTEGER, sum_us INTEGER, min_us INTEGER,"
    " max_us INTEGER, content_bytes INTEGER, hist BLOB);"
    "CREATE INDEX IF NOT EXISTS intervals_run ON intervals(run_id, ts_ms);"
    "CREATE TABLE IF NOT EXISTS final_stats ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), type TEXT NOT NULL, name TEXT NOT NULL,"
    " requests INTEGER, failures INTEGER, sum_us INTEGER, min_us INTEGER, max_us INTEGER,"
    " content_bytes INTEGER, hist BLOB);"
    "CREATE TABLE IF NOT EXISTS failures ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), type TEXT, name TEXT, message TEXT,"
    " occurrences INTEGER);"
    "CREATE TABLE IF NOT EXISTS workers ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), node_id TEXT, host TEXT, joined_ms INTEGER,"
    " left_ms INTEGER, state TEXT, cpu_peak REAL, rss_peak INTEGER);"
    "CREATE TABLE IF NOT EXISTS events ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), ts_ms INTEGER, kind TEXT, detail TEXT);";

/* Logs the first failure and turns persistence off; the run goes on. */
static void degrade(struct hn_store *s, const char *what)
{
    if (s->degraded)
        return;
    s->degraded = 1;
    hn_error("run history: %s: %s; the run goes on, persistence is off for the rest of it", what,
             sqlite3_errmsg(s->db));
}

static int exec(struct hn_store *s, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sqlite3_free(msg);
        degrade(s, what);
        return HN_EIO;
    }
    return 0;
}

/* Databases from before a column existed get it (ALTER TABLE ADD COLUMN); new tables come from
 * CREATE TABLE IF NOT EXISTS. */
static int migrate(sqlite3 *db)
{
    static const char *const cols[][2] = {
        {"last_interval_ms", "INTEGER"}, {"duration_s", "REAL"}, {"pid", "INTEGER"},
        {"node", "TEXT"}, {"verdicts", "TEXT"}};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        sqlite3_stmt *st = NULL;
        int found = 0;
        if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('runs') WHERE name=?;", -1,
                               &st, NULL) != SQLITE_OK)
            return -1;
        sqlite3_bind_text(st, 1, cols[i][0], -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        if (found)
            continue;
        char sql[128];
        snprintf(sql, sizeof sql, "ALTER TABLE runs ADD COLUMN %s %s;", cols[i][0], cols[i][1]);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return -1;
    }
    return 0;
}

/* Runs left 'running' whose master is gone (another host's masters cannot be checked: their
 * runs are left alone) become 'aborted'; a master still running here keeps its run. */
static void mark_aborted(struct hn_store *s)
{
    char host[128] = "";
    gethostname(host, sizeof host - 1);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT id, pid, node FROM runs WHERE status='running';", -1,
                           &st, NULL) != SQLITE_OK)
        return;
    int64_t dead[256];
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < 256) {
        pid_t pid = (pid_t)sqlite3_column_int64(st, 1);
        const char *node = (const char *)sqlite3_column_text(st, 2);
        int here = node && !strcmp(node, host);
        int alive = here && pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
        if (!alive && (here || !node))
            dead[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "UPDATE runs SET status='aborted', ended_ms=COALESCE(last_interval_ms,"
                 " started_ms) WHERE id=%lld;",
                 (long long)dead[i]);
        sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    }
}

int hn_store_open(const char *path, struct hn_store **out, char *err, size_t errlen)
{
    struct hn_store *s = hn_calloc(1, sizeof *s);
    *out = NULL;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "--db %s: cannot open: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        hn_store_close(&s);
        return HN_EIO;
    }
    sqlite3_busy_timeout(s->db, 2000);
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
                          &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, k_schema, NULL, NULL, &msg);
    if (rc == SQLITE_OK && migrate(s->db) != 0)
        rc = SQLITE_ERROR;
    if (rc == SQLITE_OK) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d;", SCHEMA_VERSION);
        rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    }
    /* a run its master never finished: keep what it committed, say it was aborted */
    if (rc == SQLITE_OK && strcmp(path, ":memory:"))
        mark_aborted(s);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "--db %s: %s", path, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        hn_store_close(&s);
        return HN_EIO;
    }
    *out = s;
    return 0;
}

void hn_store_close(struct hn_store **sp)
{
    struct hn_store *s = sp ? *sp : NULL;
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s);
    *sp = NULL;
}

int hn_store_degraded(const struct hn_store *s) { return s && s->degraded; }

int64_t hn_store_run_begin(struct hn_store *s, const struct hn_run_meta *m)
{
    if (!s || s->degraded)
        return 0;
    sqlite3_stmt *st = NULL;
    const char *sql = "INSERT INTO runs (started_ms, status, command_line, scenario_path,"
                      " scenario_text, scenario_hash, host, users, spawn_rate, run_time_ms,"
                      " version, pid, node) VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        degrade(s, "cannot record the run");
        return 0;
    }
    /* FNV-1a of the scenario text: enough to tell runs of the same file apart */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < m->scenario_len; i++)
        h = (h ^ (unsigned char)m->scenario_text[i]) * 0x100000001b3ull;
    char hash[20];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)h);
    sqlite3_bind_int64(st, 1, m->started_ms);
    sqlite3_bind_text(st, 2, m->command_line, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, m->scenario_path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, m->scenario_text, (int)m->scenario_len, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, m->host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)m->users);
    sqlite3_bind_double(st, 8, m->spawn_rate);
    sqlite3_bind_int64(st, 9, m->run_time_ms);
    sqlite3_bind_text(st, 10, HORNET_VERSION, -1, SQLITE_STATIC);
    char host[128] = "";
    gethostname(host, sizeof host - 1);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)getpid());
    sqlite3_bind_text(st, 12, host, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        degrade(s, "cannot record the run");
        return 0;
    }
    return sqlite3_last_insert_rowid(s->db);
}

/* Histogram blob: little-endian (uint32 bucket index, uint64 count) pairs. */
struct blob {
    unsigned char *p;
    size_t len, cap;
};

static void put_bucket(void *ctx, uint32_t index, uint64_t count)
{
    struct blob *b = ctx;
    if (b->len + 12 > b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->p = hn_realloc(b->p, b->cap);
    }
    for (int i = 0; i < 4; i++)
        b->p[b->len++] = (unsigned char)(index >> (8 * i));
    for (int i = 0; i < 8; i++)
        b->p[b->len++] = (unsigned char)(count >> (8 * i));
}

static int insert_row(struct hn_store *s, sqlite3_stmt *st, int64_t run, int64_t ts,
                      const struct hn_stats_entry *e, int with_ts)
{
    struct blob b = {0};
    hn_hist_foreach(&e->hist, put_bucket, &b);
    int i = 1;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, i++, run);
    if (with_ts)
        sqlite3_bind_int64(st, i++, ts);
    sqlite3_bind_text(st, i++, e->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i++, e->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)e->n_requests);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)e->n_failures);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)e->hist.sum_us);
    sqlite3_bind_int64(st, i++, e->hist.count ? (sqlite3_int64)e->hist.min_us : 0);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)e->hist.max_us);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)e->content_bytes);
    sqlite3_bind_blob(st, i++, b.p ? (const void *)b.p : "", (int)b.len, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    free(b.p);
    return rc == SQLITE_DONE ? 0 : HN_EIO;
}

void hn_store_interval(struct hn_store *s, int64_t run, int64_t ts_ms, const struct hn_stats *d)
{
    if (!s || s->degraded || !run || !d->total.n_requests)
        return;
    if (exec(s, "BEGIN;", "cannot start an interval"))
        return;
    sqlite3_stmt *st = NULL;
    int bad = sqlite3_prepare_v2(s->db,
                                 "INSERT INTO intervals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);",
                                 -1, &st, NULL) != SQLITE_OK;
    for (size_t i = 0; !bad && i < d->n_entries; i++)
        if (d->entries[i]->n_requests)
            bad = insert_row(s, st, run, ts_ms, d->entries[i], 1) != 0;
    if (!bad)
        bad = insert_row(s, st, run, ts_ms, &d->total, 1) != 0;
    sqlite3_finalize(st);
    if (!bad) {
        char sql[128];
        snprintf(sql, sizeof sql, "UPDATE runs SET last_interval_ms=%lld WHERE id=%lld;",
                 (long long)ts_ms, (long long)run);
        bad = exec(s, sql, "cannot record an interval") != 0;
    }
    if (bad) {
        degrade(s, "cannot record an interval");
        sqlite3_exec(s->db, "ROLLBACK;", NULL, NULL, NULL);
        return;
    }
    if (exec(s, "COMMIT;", "cannot commit an interval"))
        sqlite3_exec(s->db, "ROLLBACK;", NULL, NULL, NULL);
}

void hn_store_event(struct hn_store *s, int64_t run, int64_t ts_ms, const char *kind,
                    const char *detail)
{
    if (!s || s->degraded || !run)
        return;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO events VALUES (?, ?, ?, ?);", -1, &st, NULL) !=
        SQLITE_OK) {
        degrade(s, "cannot record an event");
        return;
    }
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_int64(st, 2, ts_ms);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, detail, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        degrade(s, "cannot record an event");
    sqlite3_finalize(st);
}

void hn_store_history(struct hn_store *s, int64_t run, int64_t ts_ms, uint64_t users,
                      const char *rows)
{
    if (!s || s->degraded || !run)
        return;
    sqlite3_stmt *h = NULL, *u = NULL;
    int bad = sqlite3_prepare_v2(s->db, "INSERT INTO history (run_id, rows) VALUES (?, ?);", -1,
                                 &h, NULL) != SQLITE_OK ||
              sqlite3_prepare_v2(s->db, "INSERT INTO users_over_time VALUES (?, ?, ?);", -1, &u,
                                 NULL) != SQLITE_OK;
    if (!bad) {
        sqlite3_bind_int64(h, 1, run);
        sqlite3_bind_text(h, 2, rows, -1, SQLITE_STATIC);
        sqlite3_bind_int64(u, 1, run);
        sqlite3_bind_int64(u, 2, ts_ms);
        sqlite3_bind_int64(u, 3, (sqlite3_int64)users);
        bad = sqlite3_step(h) != SQLITE_DONE || sqlite3_step(u) != SQLITE_DONE;
    }
    sqlite3_finalize(h);
    sqlite3_finalize(u);
    if (bad)
        degrade(s, "cannot record a history row");
}

void hn_store_worker(struct hn_store *s, int64_t run, const char *node_id, int64_t joined_ms,
                     int64_t left_ms, const char *state, double cpu_peak, uint64_t rss_peak)
{
    if (!s || s->degraded || !run)
        return;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO workers VALUES (?, ?, ?, ?, ?, ?, ?, ?);", -1,
                           &st, NULL) != SQLITE_OK) {
        degrade(s, "cannot record a worker");
        return;
    }
    /* node ids are hostname_pid_random: the host is the part before the pid */
    char host[128];
    snprintf(host, sizeof host, "%s", node_id);
    char *us = strrchr(host, '_');
    if (us) {
        *us = '\0';
        us = strrchr(host, '_');
        if (us)
            *us = '\0';
    }
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_text(st, 2, node_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, joined_ms);
    if (left_ms)
        sqlite3_bind_int64(st, 5, left_ms);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_text(st, 6, state, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 7, cpu_peak);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)rss_peak);
    if (sqlite3_step(st) != SQLITE_DONE)
        degrade(s, "cannot record a worker");
    sqlite3_finalize(st);
}

int hn_store_write_workers_html(struct hn_store *s, int64_t run, FILE *f,
                                void (*esc)(FILE *, const char *))
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT node_id, host, state, cpu_peak, rss_peak FROM workers"
                           " WHERE run_id=? ORDER BY rowid;",
                           -1, &st, NULL) != SQLITE_OK)
        return HN_EIO;
    sqlite3_bind_int64(st, 1, run);
    fprintf(f, "<h2>Workers</h2>\n<table id=\"workers\"><tr><th class=\"l\">Node</th>"
               "<th class=\"l\">Host</th><th class=\"l\">State</th><th>CPU peak (%%)</th>"
               "<th>RSS peak (MB)</th></tr>\n");
    while (sqlite3_step(st) == SQLITE_ROW) {
        double cpu = sqlite3_column_double(st, 3);
        fprintf(f, "<tr><td class=\"l\">");
        esc(f, (const char *)sqlite3_column_text(st, 0));
        fprintf(f, "</td><td class=\"l\">");
        esc(f, (const char *)sqlite3_column_text(st, 1));
        fprintf(f, "</td><td class=\"l\">");
        esc(f, (const char *)sqlite3_column_text(st, 2));
        fprintf(f, "</td><td%s>%.0f%s</td><td>%.1f</td></tr>\n",
                cpu > 90 ? " class=\"fail\"" : "", cpu,
                cpu > 90 ? " (saturated: its response times may be inflated)" : "",
                (double)sqlite3_column_int64(st, 4) / 1048576.0);
    }
    sqlite3_finalize(st);
    fprintf(f, "</table>\n");
    return 0;
}

void hn_store_exception(struct hn_store *s, int64_t run, uint64_t count, const char *msg,
                        const char *traceback, const char *nodes)
{
    if (!s || s->degraded || !run)
        return;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO exceptions VALUES (?, ?, ?, ?, ?);", -1, &st,
                           NULL) != SQLITE_OK) {
        degrade(s, "cannot record an exception");
        return;
    }
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)count);
    sqlite3_bind_text(st, 3, msg, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, traceback, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, nodes, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        degrade(s, "cannot record an exception");
    sqlite3_finalize(st);
}

void hn_store_run_end(struct hn_store *s, int64_t run, int64_t ended_ms, const char *status,
                      int exit_code, const struct hn_stats *total, double duration_s)
{
    if (!s || s->degraded || !run)
        return;
    if (exec(s, "BEGIN;", "cannot finish the run"))
        return;
    sqlite3_stmt *st = NULL, *fs = NULL, *up = NULL;
    int bad = sqlite3_prepare_v2(s->db,
                                 "INSERT INTO final_stats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?);",
                                 -1, &st, NULL) != SQLITE_OK;
    for (size_t i = 0; !bad && i < total->n_entries; i++)
        bad = insert_row(s, st, run, 0, total->entries[i], 0) != 0;
    if (!bad)
        bad = insert_row(s, st, run, 0, &total->total, 0) != 0;
    bad = bad || sqlite3_prepare_v2(s->db, "INSERT INTO failures VALUES (?, ?, ?, ?, ?);", -1,
                                    &fs, NULL) != SQLITE_OK;
    for (size_t i = 0; !bad && i < total->n_errors; i++) {
        const struct hn_stats_error *e = total->errors[i];
        sqlite3_reset(fs);
        sqlite3_bind_int64(fs, 1, run);
        sqlite3_bind_text(fs, 2, e->type, -1, SQLITE_STATIC);
        sqlite3_bind_text(fs, 3, e->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(fs, 4, e->message, -1, SQLITE_STATIC);
        sqlite3_bind_int64(fs, 5, (sqlite3_int64)e->occurrences);
        bad = sqlite3_step(fs) != SQLITE_DONE;
    }
    bad = bad || sqlite3_prepare_v2(s->db,
                                    "UPDATE runs SET status=?, ended_ms=?, exit_code=?,"
                                    " duration_s=? WHERE id=?;",
                                    -1, &up, NULL) != SQLITE_OK;
    if (!bad) {
        sqlite3_bind_text(up, 1, status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(up, 2, ended_ms);
        sqlite3_bind_int(up, 3, exit_code);
        sqlite3_bind_double(up, 4, duration_s);
        sqlite3_bind_int64(up, 5, run);
        bad = sqlite3_step(up) != SQLITE_DONE;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(fs);
    sqlite3_finalize(up);
    if (bad) {
        degrade(s, "cannot finish the run");
        sqlite3_exec(s->db, "ROLLBACK;", NULL, NULL, NULL);
        return;
    }
    if (exec(s, "COMMIT;", "cannot finish the run"))
        sqlite3_exec(s->db, "ROLLBACK;", NULL, NULL, NULL);
}

static void blob_to_hist(const void *blob, int len, struct hn_hist *h)
{
    const unsigned char *p = blob;
    for (int off = 0; off + 12 <= len; off += 12) {
        uint32_t idx = 0;
        uint64_t n = 0;
        for (int i = 0; i < 4; i++)
            idx |= (uint32_t)p[off + i] << (8 * i);
        for (int i = 0; i < 8; i++)
            n |= (uint64_t)p[off + 4 + i] << (8 * i);
        hn_hist_add_bucket(h, idx, n); /* a corrupt index is refused there */
    }
}

/* A percentile of a stored row's histogram blob. */
static double blob_percentile_ms(const void *blob, int len, uint64_t min_us, uint64_t max_us,
                                 double q)
{
    struct hn_hist h;
    hn_hist_init(&h);
    blob_to_hist(blob, len, &h);
    h.min_us = min_us;
    h.max_us = max_us;
    double v = (double)hn_hist_percentile(&h, q) / 1000.0;
    hn_hist_fini(&h);
    return v;
}

int hn_store_list_runs(struct hn_store *s, FILE *f, int limit)
{
    const char *sql =
        "SELECT r.id, r.started_ms, COALESCE(r.ended_ms, r.last_interval_ms, r.started_ms),"
        " r.scenario_path, r.users, r.status, f.requests, f.failures, f.min_us, f.max_us, f.hist,"
        " (SELECT SUM(requests) FROM intervals i WHERE i.run_id = r.id AND i.name = 'Aggregated'"
        "  AND i.type = '')"
        " FROM runs r LEFT JOIN final_stats f ON f.run_id = r.id AND f.name = 'Aggregated'"
        " AND f.type = '' ORDER BY r.id DESC LIMIT ?;";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return HN_EIO;
    sqlite3_bind_int(st, 1, limit);
    fprintf(f, "%5s  %-19s  %-28s %7s %9s  %-9s %9s %9s %7s\n", "id", "started", "scenario",
            "users", "duration", "status", "req/s", "p95 ms", "fail %");
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t started = sqlite3_column_int64(st, 1), ended = sqlite3_column_int64(st, 2);
        time_t t = (time_t)(started / 1000);
        struct tm tm;
        localtime_r(&t, &tm);
        char when[32];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        double dur = (double)(ended - started) / 1000.0;
        int has_final = sqlite3_column_type(st, 6) != SQLITE_NULL;
        int64_t reqs = has_final ? sqlite3_column_int64(st, 6) : sqlite3_column_int64(st, 11);
        int64_t fails = has_final ? sqlite3_column_int64(st, 7) : 0;
        char p95[32] = "-", rps[32] = "-", failp[32] = "-";
        if (has_final && reqs > 0) {
            snprintf(p95, sizeof p95, "%.1f",
                     blob_percentile_ms(sqlite3_column_blob(st, 10), sqlite3_column_bytes(st, 10),
                                        (uint64_t)sqlite3_column_int64(st, 8),
                                        (uint64_t)sqlite3_column_int64(st, 9), 0.95));
            snprintf(failp, sizeof failp, "%.2f", 100.0 * (double)fails / (double)reqs);
        }
        if (dur > 0 && reqs > 0)
            snprintf(rps, sizeof rps, "%.1f", (double)reqs / dur);
        const char *sc = (const char *)sqlite3_column_text(st, 3);
        const char *slash = sc ? strrchr(sc, '/') : NULL;
        if (slash)
            sc = slash + 1; /* the file name says which scenario; the full path is stored */
        fprintf(f, "%5lld  %-19s  %-28.28s %7lld %8.0fs  %-9s %9s %9s %7s\n",
                (long long)sqlite3_column_int64(st, 0), when, sc ? sc : "",
                (long long)sqlite3_column_int64(st, 4), dur,
                (const char *)sqlite3_column_text(st, 5), rps, p95, failp);
    }
    sqlite3_finalize(st);
    return 0;
}

int hn_store_load_final(struct hn_store *s, int64_t run, struct hn_stats *out,
                        double *duration_s, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT status, started_ms, ended_ms, duration_s FROM runs WHERE id=?;",
                           -1, &st, NULL) != SQLITE_OK)
        return HN_EIO;
    sqlite3_bind_int64(st, 1, run);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        snprintf(err, errlen, "run %lld is not in the database", (long long)run);
        return HN_EINVAL;
    }
    char status[32];
    const char *col = (const char *)sqlite3_column_text(st, 0);
    snprintf(status, sizeof status, "%s", col ? col : "?"); /* the column dies with st */
    *duration_s = sqlite3_column_type(st, 3) != SQLITE_NULL
                      ? sqlite3_column_double(st, 3) /* the very value the live CSV used */
                      : (double)(sqlite3_column_int64(st, 2) - sqlite3_column_int64(st, 1)) / 1000.0;
    sqlite3_finalize(st);
    if (strcmp(status, "finished")) {
        snprintf(err, errlen, "run %lld did not finish (%s): it has no final statistics",
                 (long long)run, status);
        return HN_EINVAL;
    }
    if (sqlite3_prepare_v2(s->db,
                           "SELECT type, name, requests, failures, sum_us, min_us, max_us,"
                           " content_bytes, hist FROM final_stats WHERE run_id=?;",
                           -1, &st, NULL) != SQLITE_OK)
        return HN_EIO;
    sqlite3_bind_int64(st, 1, run);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        struct hn_stats_entry *e = !strcmp(name ? name : "", "Aggregated") && type && !*type
                                       ? &out->total
                                       : hn_stats_entry(out, type ? type : "", name ? name : "");
        e->n_requests = (uint64_t)sqlite3_column_int64(st, 2);
        e->n_failures = (uint64_t)sqlite3_column_int64(st, 3);
        e->content_bytes = (uint64_t)sqlite3_column_int64(st, 7);
        blob_to_hist(sqlite3_column_blob(st, 8), sqlite3_column_bytes(st, 8), &e->hist);
        e->hist.sum_us = (uint64_t)sqlite3_column_int64(st, 4);
        e->hist.min_us = e->hist.count ? (uint64_t)sqlite3_column_int64(st, 5) : UINT64_MAX;
        e->hist.max_us = (uint64_t)sqlite3_column_int64(st, 6);
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT type, name, message, occurrences FROM failures WHERE run_id=?;",
                           -1, &st, NULL) != SQLITE_OK)
        return HN_EIO;
    sqlite3_bind_int64(st, 1, run);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        const char *n = (const char *)sqlite3_column_text(st, 1);
        const char *m = (const char *)sqlite3_column_text(st, 2);
        hn_stats_error_add(out, t ? t : "", n ? n : "", m ? m : "",
                           (uint64_t)sqlite3_column_int64(st, 3));
    }
    sqlite3_finalize(st);
    return 0;
}

int hn_store_load_extras(struct hn_store *s, int64_t run, char **history,
                         struct hn_exception **exc, size_t *n_exc)
{
    sqlite3_stmt *st = NULL;
    struct hn_buf b;
    hn_buf_init(&b, 256u << 20);
    if (sqlite3_prepare_v2(s->db, "SELECT rows FROM history WHERE run_id=? ORDER BY seq;", -1,
                           &st, NULL) != SQLITE_OK)
        return HN_EIO;
    sqlite3_bind_int64(st, 1, run);
    while (sqlite3_step(st) == SQLITE_ROW)
        hn_buf_append(&b, (const char *)sqlite3_column_text(st, 0),
                      (size_t)sqlite3_column_bytes(st, 0));
    sqlite3_finalize(st);
    *history = hn_strdup(hn_buf_cstr(&b));
    hn_buf_fini(&b);
    *exc = NULL;
    *n_exc = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT count, message, traceback, nodes FROM exceptions WHERE run_id=?"
                           " ORDER BY rowid;",
                           -1, &st, NULL) != SQLITE_OK)
        return HN_EIO;
    sqlite3_bind_int64(st, 1, run);
    while (sqlite3_step(st) == SQLITE_ROW) {
        *exc = hn_realloc(*exc, (*n_exc + 1) * sizeof **exc);
        struct hn_exception *e = &(*exc)[(*n_exc)++];
        const char *c1 = (const char *)sqlite3_column_text(st, 1);
        const char *c2 = (const char *)sqlite3_column_text(st, 2);
        const char *c3 = (const char *)sqlite3_column_text(st, 3);
        e->count = (uint64_t)sqlite3_column_int64(st, 0);
        e->msg = hn_strdup(c1 ? c1 : "");
        e->traceback = hn_strdup(c2 ? c2 : "");
        e->nodes = hn_strdup(c3 ? c3 : "");
    }
    sqlite3_finalize(st);
    return 0;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return hn_strdup(t ? t : "");
}

int hn_store_load_info(struct hn_store *s, int64_t run, struct hn_run_info *info,
                       struct hn_series *series)
{
    memset(info, 0, sizeof *info);
    memset(series, 0, sizeof *series);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, started_ms, COALESCE(ended_ms, started_ms), status,"
                           " scenario_path, host, command_line, version, users, spawn_rate,"
                           " run_time_ms, COALESCE(exit_code, -1) FROM runs WHERE id=?;",
                           -1, &st, NULL) != SQLITE_OK)
        return HN_EIO;
    sqlite3_bind_int64(st, 1, run);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return HN_EINVAL;
    }
    info->id = sqlite3_column_int64(st, 0);
    info->started_ms = sqlite3_column_int64(st, 1);
    info->ended_ms = sqlite3_column_int64(st, 2);
    const char *status = (const char *)sqlite3_column_text(st, 3);
    snprintf(info->status, sizeof info->status, "%s", status ? status : "?");
    info->scenario_path = col_dup(st, 4);
    info->host = col_dup(st, 5);
    info->command_line = col_dup(st, 6);
    info->version = col_dup(st, 7);
    info->users = (uint64_t)sqlite3_column_int64(st, 8);
    info->spawn_rate = sqlite3_column_double(st, 9);
    info->run_time_ms = sqlite3_column_int64(st, 10);
    info->exit_code = sqlite3_column_int(st, 11);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT i.ts_ms, i.requests, i.failures, i.min_us, i.max_us, i.hist,"
                           " (SELECT users FROM users_over_time u WHERE u.run_id = i.run_id AND"
                           "  u.ts_ms <= i.ts_ms + 1000 ORDER BY u.ts_ms DESC LIMIT 1)"
                           " FROM intervals i WHERE i.run_id=? AND i.type='' AND"
                           " i.name='Aggregated' ORDER BY i.ts_ms;",
                           -1, &st, NULL) != SQLITE_OK)
        return HN_EIO;
    sqlite3_bind_int64(st, 1, run);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (series->n == cap) {
            cap = cap ? cap * 2 : 64;
            series->ts_ms = hn_realloc(series->ts_ms, cap * sizeof *series->ts_ms);
            series->requests = hn_realloc(series->requests, cap * sizeof *series->requests);
            series->failures = hn_realloc(series->failures, cap * sizeof *series->failures);
            series->users = hn_realloc(series->users, cap * sizeof *series->users);
            series->p50_ms = hn_realloc(series->p50_ms, cap * sizeof *series->p50_ms);
            series->p95_ms = hn_realloc(series->p95_ms, cap * sizeof *series->p95_ms);
        }
        size_t i = series->n++;
        uint64_t mn = (uint64_t)sqlite3_column_int64(st, 3), mx = (uint64_t)sqlite3_column_int64(st, 4);
        series->ts_ms[i] = sqlite3_column_int64(st, 0);
        series->requests[i] = (uint64_t)sqlite3_column_int64(st, 1);
        series->failures[i] = (uint64_t)sqlite3_column_int64(st, 2);
        series->users[i] = (uint64_t)sqlite3_column_int64(st, 6);
        series->p50_ms[i] = blob_percentile_ms(sqlite3_column_blob(st, 5),
                                               sqlite3_column_bytes(st, 5), mn, mx, 0.5);
        series->p95_ms[i] = blob_percentile_ms(sqlite3_column_blob(st, 5),
                                               sqlite3_column_bytes(st, 5), mn, mx, 0.95);
    }
    sqlite3_finalize(st);
    return 0;
}

void hn_run_info_fini(struct hn_run_info *info, struct hn_series *series)
{
    free(info->scenario_path);
    free(info->host);
    free(info->command_line);
    free(info->version);
    free(series->ts_ms);
    free(series->requests);
    free(series->failures);
    free(series->users);
    free(series->p50_ms);
    free(series->p95_ms);
}
