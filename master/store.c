#include "master/store.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/log.h"
#include "common/template.h"
#include "common/util.h"

#define SCHEMA_VERSION 3

struct batch;

struct hn_store {
    sqlite3 *db;
    int degraded;
    int read_only;
    struct batch *head, *tail; /* batches not written yet, oldest first */
    size_t queued_bytes, n_queued;
    int failing;
    uint64_t backoff_ms, retry_at_ms, n_recovered;
    char last_error[256];
};

static const char k_schema[] =
    "CREATE TABLE IF NOT EXISTS runs ("
    " id INTEGER PRIMARY KEY, started_ms INTEGER NOT NULL, ended_ms INTEGER,"
    " status TEXT NOT NULL, command_line TEXT, scenario_path TEXT, scenario_text TEXT,"
    " scenario_hash TEXT, host TEXT, users INTEGER, spawn_rate REAL, run_time_ms INTEGER,"
    " version TEXT, exit_code INTEGER, verdicts TEXT, last_interval_ms INTEGER,"
    " duration_s REAL, pid INTEGER, node TEXT, dropped_iterations INTEGER, arrival_rate REAL,"
    " conns_opened INTEGER, conns_reused INTEGER);"
    "CREATE TABLE IF NOT EXISTS history ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), seq INTEGER PRIMARY KEY, rows TEXT);"
    "CREATE TABLE IF NOT EXISTS exceptions ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), count INTEGER, message TEXT, traceback TEXT,"
    " nodes TEXT);"
    "CREATE TABLE IF NOT EXISTS per_second ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), sec INTEGER NOT NULL, requests INTEGER,"
    " failures INTEGER, PRIMARY KEY (run_id, sec));"
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
    "CREATE TABLE IF NOT EXISTS thresholds ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), row TEXT, expr TEXT, observed REAL,"
    " seen INTEGER, ok INTEGER, abort_on_fail INTEGER);"
    "CREATE TABLE IF NOT EXISTS service_times ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), type TEXT NOT NULL, name TEXT NOT NULL,"
    " sum_us INTEGER, min_us INTEGER, max_us INTEGER, hist BLOB);"
    "CREATE TABLE IF NOT EXISTS capacity_steps ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), users INTEGER, duration_s REAL,"
    " requests INTEGER, failures INTEGER, rps REAL, fail_ratio REAL, p50_ms REAL, p95_ms REAL,"
    " p99_ms REAL, passed INTEGER, failed TEXT, mode TEXT);"
    "CREATE TABLE IF NOT EXISTS events ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), ts_ms INTEGER, kind TEXT, detail TEXT);";

/* Writes are batches (one transaction each) kept in a queue: a batch that fails (a full disk,
 * another writer holding the lock past the busy timeout, an I/O error) stays queued, in order,
 * and is retried with backoff while the run goes on; the queue is bounded in bytes, and only
 * past that bound does persistence give up (logged once, hn_store_degraded). */
struct val {
    char type; /* 'i' int64, 'd' double, 't' text, 'b' blob, 'n' null */
    int64_t i;
    double d;
    char *p;
    size_t len;
};

struct stmt_rec {
    const char *sql; /* a literal */
    struct val *v;
    int n;
};

struct batch {
    const char *what; /* for the log: "an interval", "the run's end" */
    struct stmt_rec *st;
    size_t n, cap;
    size_t bytes;
    struct batch *next;
};

#define QUEUE_MAX_BYTES (64u << 20)
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 16000

static void degrade(struct hn_store *s, const char *what);

static struct batch *batch_new(const char *what)
{
    struct batch *b = hn_calloc(1, sizeof *b);
    b->what = what;
    return b;
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        for (int k = 0; k < b->st[i].n; k++)
            free(b->st[i].v[k].p);
        free(b->st[i].v);
    }
    free(b->st);
    free(b);
}

/* Starts a statement in the batch; the binds that follow belong to it. */
static void b_sql(struct batch *b, const char *sql)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        b->st = hn_realloc(b->st, b->cap * sizeof *b->st);
    }
    b->st[b->n++] = (struct stmt_rec){sql, NULL, 0};
    b->bytes += 64;
}

static struct val *b_val(struct batch *b, char type)
{
    struct stmt_rec *r = &b->st[b->n - 1];
    r->v = hn_realloc(r->v, (size_t)(r->n + 1) * sizeof *r->v);
    struct val *v = &r->v[r->n++];
    memset(v, 0, sizeof *v);
    v->type = type;
    b->bytes += sizeof *v;
    return v;
}

static void b_int(struct batch *b, int64_t i) { b_val(b, 'i')->i = i; }
static void b_double(struct batch *b, double d) { b_val(b, 'd')->d = d; }
static void b_null(struct batch *b) { b_val(b, 'n'); }

static void b_bytes(struct batch *b, char type, const void *p, size_t len)
{
    struct val *v = b_val(b, type);
    v->p = hn_malloc(len + 1);
    if (len)
        memcpy(v->p, p, len);
    v->p[len] = '\0';
    v->len = len;
    b->bytes += len;
}

static void b_text(struct batch *b, const char *t) { b_bytes(b, 't', t ? t : "", t ? strlen(t) : 0); }

/* One transaction; 0 or the SQLite error code (the transaction rolled back). */
static int batch_write(struct hn_store *s, const struct batch *b)
{
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE;", NULL, NULL, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < b->n; i++) {
        const struct stmt_rec *r = &b->st[i];
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(s->db, r->sql, -1, &st, NULL);
        for (int k = 0; rc == SQLITE_OK && k < r->n; k++) {
            const struct val *v = &r->v[k];
            switch (v->type) {
            case 'i': rc = sqlite3_bind_int64(st, k + 1, v->i); break;
            case 'd': rc = sqlite3_bind_double(st, k + 1, v->d); break;
            case 't': rc = sqlite3_bind_text(st, k + 1, v->p, (int)v->len, SQLITE_STATIC); break;
            case 'b': rc = sqlite3_bind_blob(st, k + 1, v->p, (int)v->len, SQLITE_STATIC); break;
            default: rc = sqlite3_bind_null(st, k + 1); break;
            }
        }
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(st);
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
        sqlite3_finalize(st);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "COMMIT;", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int keep = rc;
        const char *msg = sqlite3_errmsg(s->db);
        snprintf(s->last_error, sizeof s->last_error, "%s", msg ? msg : sqlite3_errstr(keep));
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK;", NULL, NULL, NULL);
        return keep;
    }
    return 0;
}

static void queue_clear(struct hn_store *s)
{
    while (s->head) {
        struct batch *b = s->head;
        s->head = b->next;
        batch_free(b);
    }
    s->tail = NULL;
    s->queued_bytes = 0;
    s->n_queued = 0;
}

/* Writes queued batches in order until one fails (then waits out the backoff) or none is left.
 * force: ignore the backoff (the run's end). Returns 0 when the queue is empty. */
static int flush(struct hn_store *s, int force)
{
    uint64_t now = hn_mono_us() / 1000;
    if (!s->head)
        return 0;
    if (!force && now < s->retry_at_ms)
        return HN_EAGAIN;
    while (s->head) {
        struct batch *b = s->head;
        if (batch_write(s, b)) {
            if (!s->failing)
                hn_error("run history: cannot record %s: %s; retrying, the unwritten seconds are "
                         "kept in memory (up to %u MiB)",
                         b->what, s->last_error, QUEUE_MAX_BYTES >> 20);
            s->failing = 1;
            s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : RETRY_FIRST_MS;
            if (s->backoff_ms > RETRY_MAX_MS)
                s->backoff_ms = RETRY_MAX_MS;
            s->retry_at_ms = now + s->backoff_ms;
            return HN_EIO;
        }
        s->head = b->next;
        if (!s->head)
            s->tail = NULL;
        s->queued_bytes -= b->bytes;
        s->n_queued--;
        s->n_recovered += s->failing;
        batch_free(b);
    }
    if (s->failing)
        hn_info("run history: the database accepts writes again; %llu delayed records written",
                (unsigned long long)s->n_recovered);
    s->failing = 0;
    s->backoff_ms = 0;
    s->n_recovered = 0;
    return 0;
}

/* Queues a batch (taking it) and writes what the backoff allows. */
static void submit(struct hn_store *s, struct batch *b)
{
    if (s->degraded) {
        batch_free(b);
        return;
    }
    if (s->tail)
        s->tail->next = b;
    else
        s->head = b;
    s->tail = b;
    s->queued_bytes += b->bytes;
    s->n_queued++;
    flush(s, 0);
    if (s->head && s->queued_bytes > QUEUE_MAX_BYTES) {
        snprintf(s->last_error + strlen(s->last_error),
                 sizeof s->last_error - strlen(s->last_error),
                 " (%zu records over %u MiB could not be written)", s->n_queued,
                 QUEUE_MAX_BYTES >> 20);
        degrade(s, "giving up");
    }
}

/* Logs once and turns persistence off; the run goes on. */
static void degrade(struct hn_store *s, const char *what)
{
    if (s->degraded)
        return;
    s->degraded = 1;
    queue_clear(s);
    hn_error("run history: %s: %s; the run goes on, persistence is off for the rest of it", what,
             s->last_error[0] ? s->last_error : sqlite3_errmsg(s->db));
}

/* Databases from before a column existed get it (ALTER TABLE ADD COLUMN); new tables come from
 * CREATE TABLE IF NOT EXISTS. */
static int migrate(sqlite3 *db)
{
    static const char *const cols[][2] = {
        {"last_interval_ms", "INTEGER"}, {"duration_s", "REAL"}, {"pid", "INTEGER"},
        {"node", "TEXT"}, {"verdicts", "TEXT"}, {"dropped_iterations", "INTEGER"},
        {"arrival_rate", "REAL"}, {"conns_opened", "INTEGER"}, {"conns_reused", "INTEGER"}};
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

/* Is the master of a run recorded with this pid and node gone? Only this host's masters can be
 * checked; a run of another host's master is not known to be gone. */
static int master_gone(pid_t pid, const char *node)
{
    char host[128] = "";
    gethostname(host, sizeof host - 1);
    int here = node && !strcmp(node, host);
    int alive = here && pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
    return !alive && (here || !node);
}

/* Runs left 'running' whose master is gone (another host's masters cannot be checked: their
 * runs are left alone) become 'aborted'; a master still running here keeps its run. */
static void mark_aborted(struct hn_store *s)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT id, pid, node FROM runs WHERE status='running';", -1,
                           &st, NULL) != SQLITE_OK)
        return;
    int64_t dead[256];
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < 256)
        if (master_gone((pid_t)sqlite3_column_int64(st, 1),
                        (const char *)sqlite3_column_text(st, 2)))
            dead[n++] = sqlite3_column_int64(st, 0);
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
    sqlite3_busy_timeout(s->db, 1000); /* a failed write is retried later: never stall long */
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

/* file: URI of a path (?, # and % escaped). */
static void path_uri(char *out, size_t n, const char *path, const char *query)
{
    size_t o = 0;
    o += (size_t)snprintf(out, n, "file:");
    for (const char *p = path; *p && o + 4 < n; p++) {
        if (*p == '?' || *p == '#' || *p == '%')
            o += (size_t)snprintf(out + o, n - o, "%%%02X", (unsigned char)*p);
        else
            out[o++] = *p;
    }
    snprintf(out + o, n > o ? n - o : 0, "?%s", query);
}

int hn_store_open_read(const char *path, struct hn_store **out, char *err, size_t errlen)
{
    /* mode=ro reads a WAL database when its -shm can be used; a read-only folder or mount
     * needs immutable=1 (nothing else may write it meanwhile, which holds for a reader of a
     * finished history) */
    static const char *const modes[] = {"mode=ro", "immutable=1"};
    *out = NULL;
    int rc = SQLITE_ERROR;
    for (int i = 0; i < 2; i++) {
        struct hn_store *s = hn_calloc(1, sizeof *s);
        s->read_only = 1;
        char uri[4200];
        path_uri(uri, sizeof uri, path, modes[i]);
        rc = sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_busy_timeout(s->db, 2000);
            rc = sqlite3_exec(s->db, "SELECT count(*) FROM runs;", NULL, NULL, NULL);
        }
        if (rc == SQLITE_OK) {
            *out = s;
            return 0;
        }
        snprintf(err, errlen, "--db %s: cannot read: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        hn_store_close(&s);
        if (rc != SQLITE_CANTOPEN && rc != SQLITE_READONLY && rc != SQLITE_IOERR &&
            (rc & 0xff) != SQLITE_CANTOPEN && (rc & 0xff) != SQLITE_READONLY &&
            (rc & 0xff) != SQLITE_IOERR)
            break;
    }
    return HN_EIO;
}

void hn_store_close(struct hn_store **sp)
{
    struct hn_store *s = sp ? *sp : NULL;
    if (!s)
        return;
    queue_clear(s);
    sqlite3_close(s->db);
    free(s);
    *sp = NULL;
}

int hn_store_snapshot(struct hn_store *src, struct hn_store **out)
{
    char err[128];
    *out = NULL;
    if (!src || src->degraded)
        return HN_EIO;
    flush(src, 1);
    struct hn_store *s;
    if (hn_store_open(":memory:", &s, err, sizeof err))
        return HN_EIO;
    sqlite3_backup *b = sqlite3_backup_init(s->db, "main", src->db, "main");
    int rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
    if (b)
        sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        hn_store_close(&s);
        return HN_EIO;
    }
    *out = s;
    return 0;
}

int hn_store_degraded(const struct hn_store *s) { return s && s->degraded; }

int64_t hn_store_run_begin(struct hn_store *s, const struct hn_run_meta *m)
{
    if (!s || s->degraded)
        return 0;
    sqlite3_stmt *st = NULL;
    const char *sql = "INSERT INTO runs (started_ms, status, command_line, scenario_path,"
                      " scenario_text, scenario_hash, host, users, spawn_rate, run_time_ms,"
                      " version, pid, node, arrival_rate)"
                      " VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);";
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
    sqlite3_bind_double(st, 13, m->arrival_rate);
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

/* A stats row as an INSERT into intervals (with_ts) or final_stats. */
static void add_row(struct batch *bt, int64_t run, int64_t ts, const struct hn_stats_entry *e,
                    int with_ts)
{
    struct blob b = {0};
    hn_hist_foreach(&e->hist, put_bucket, &b);
    b_sql(bt, with_ts ? "INSERT INTO intervals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);"
                      : "INSERT INTO final_stats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?);");
    b_int(bt, run);
    if (with_ts)
        b_int(bt, ts);
    b_text(bt, e->type);
    b_text(bt, e->name);
    b_int(bt, (int64_t)e->n_requests);
    b_int(bt, (int64_t)e->n_failures);
    b_int(bt, (int64_t)e->hist.sum_us);
    b_int(bt, e->hist.count ? (int64_t)e->hist.min_us : 0);
    b_int(bt, (int64_t)e->hist.max_us);
    b_int(bt, (int64_t)e->content_bytes);
    b_bytes(bt, 'b', b.p ? (const void *)b.p : "", b.len);
    free(b.p);
}

void hn_store_interval(struct hn_store *s, int64_t run, int64_t ts_ms, const struct hn_stats *d)
{
    if (!s || s->degraded || !run || !d->total.n_requests)
        return;
    struct batch *bt = batch_new("an interval");
    for (size_t i = 0; i < d->n_entries; i++)
        if (d->entries[i]->n_requests)
            add_row(bt, run, ts_ms, d->entries[i], 1);
    add_row(bt, run, ts_ms, &d->total, 1);
    b_sql(bt, "UPDATE runs SET last_interval_ms=? WHERE id=?;");
    b_int(bt, ts_ms);
    b_int(bt, run);
    submit(s, bt);
}

void hn_store_per_second(struct hn_store *s, int64_t run, int64_t sec, uint64_t requests,
                         uint64_t failures)
{
    if (!s || s->degraded || !run)
        return;
    struct batch *bt = batch_new("a second's rate");
    b_sql(bt, "INSERT OR REPLACE INTO per_second VALUES (?, ?, ?, ?);");
    b_int(bt, run);
    b_int(bt, sec);
    b_int(bt, (int64_t)requests);
    b_int(bt, (int64_t)failures);
    submit(s, bt);
}

int hn_store_load_rates(struct hn_store *s, int64_t run, int64_t **sec, uint64_t **requests,
                        uint64_t **failures, size_t *n)
{
    *sec = NULL;
    *requests = *failures = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    /* a database from before this table, opened read-only, has none: no rates */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT sec, requests, failures FROM per_second WHERE run_id=?"
                           " ORDER BY sec;",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, run);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *sec = hn_realloc(*sec, cap * sizeof **sec);
            *requests = hn_realloc(*requests, cap * sizeof **requests);
            *failures = hn_realloc(*failures, cap * sizeof **failures);
        }
        (*sec)[*n] = sqlite3_column_int64(st, 0);
        (*requests)[*n] = (uint64_t)sqlite3_column_int64(st, 1);
        (*failures)[(*n)++] = (uint64_t)sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    return 0;
}

void hn_store_event(struct hn_store *s, int64_t run, int64_t ts_ms, const char *kind,
                    const char *detail)
{
    if (!s || s->degraded || !run)
        return;
    struct batch *bt = batch_new("an event");
    b_sql(bt, "INSERT INTO events VALUES (?, ?, ?, ?);");
    b_int(bt, run);
    b_int(bt, ts_ms);
    b_text(bt, kind);
    b_text(bt, detail);
    submit(s, bt);
}

void hn_store_history(struct hn_store *s, int64_t run, int64_t ts_ms, uint64_t users,
                      const char *rows, int replace_last)
{
    if (!s || s->degraded || !run)
        return;
    struct batch *bt = batch_new("a history row");
    if (replace_last) {
        b_sql(bt, "DELETE FROM history WHERE run_id = ? AND seq = "
                  "(SELECT MAX(seq) FROM history WHERE run_id = ?);");
        b_int(bt, run);
        b_int(bt, run);
    }
    b_sql(bt, "INSERT INTO history (run_id, rows) VALUES (?, ?);");
    b_int(bt, run);
    b_text(bt, rows);
    b_sql(bt, "INSERT INTO users_over_time VALUES (?, ?, ?);");
    b_int(bt, run);
    b_int(bt, ts_ms);
    b_int(bt, (int64_t)users);
    submit(s, bt);
}

void hn_store_worker(struct hn_store *s, int64_t run, const char *node_id, int64_t joined_ms,
                     int64_t left_ms, const char *state, double cpu_peak, uint64_t rss_peak)
{
    if (!s || s->degraded || !run)
        return;
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
    struct batch *bt = batch_new("a worker");
    b_sql(bt, "INSERT INTO workers VALUES (?, ?, ?, ?, ?, ?, ?, ?);");
    b_int(bt, run);
    b_text(bt, node_id);
    b_text(bt, host);
    b_int(bt, joined_ms);
    if (left_ms)
        b_int(bt, left_ms);
    else
        b_null(bt);
    b_text(bt, state);
    b_double(bt, cpu_peak);
    b_int(bt, (int64_t)rss_peak);
    submit(s, bt);
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

void hn_store_threshold(struct hn_store *s, int64_t run, const char *row, const char *expr,
                        double observed, int seen, int ok, int abort_on_fail)
{
    if (!s || s->degraded || !run)
        return;
    struct batch *bt = batch_new("a threshold");
    b_sql(bt, "INSERT INTO thresholds VALUES (?, ?, ?, ?, ?, ?, ?);");
    b_int(bt, run);
    b_text(bt, row);
    b_text(bt, expr);
    b_double(bt, observed);
    b_int(bt, seen);
    b_int(bt, ok);
    b_int(bt, abort_on_fail);
    submit(s, bt);
    bt = batch_new("a verdict");
    b_sql(bt, "UPDATE runs SET verdicts=CASE WHEN ?=1 AND COALESCE(verdicts,'pass')='pass'"
              " THEN 'pass' ELSE 'fail' END WHERE id=?;");
    b_int(bt, ok);
    b_int(bt, run);
    submit(s, bt);
}

int hn_store_load_thresholds(struct hn_store *s, int64_t run, struct hn_verdict_row **out,
                             size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT row, expr, observed, seen, ok, abort_on_fail FROM thresholds"
                           " WHERE run_id=? ORDER BY rowid;",
                           -1, &st, NULL) != SQLITE_OK)
        return 0; /* a database from before thresholds, opened read-only: none */
    sqlite3_bind_int64(st, 1, run);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = hn_realloc(*out, cap * sizeof **out);
        }
        struct hn_verdict_row *t = &(*out)[(*n)++];
        const char *row = (const char *)sqlite3_column_text(st, 0);
        const char *expr = (const char *)sqlite3_column_text(st, 1);
        t->row = hn_strdup(row ? row : "");
        t->expr = hn_strdup(expr ? expr : "");
        t->observed = sqlite3_column_double(st, 2);
        t->seen = sqlite3_column_int(st, 3);
        t->ok = sqlite3_column_int(st, 4);
        t->abort_on_fail = sqlite3_column_int(st, 5);
    }
    sqlite3_finalize(st);
    return 0;
}

void hn_store_capacity_step(struct hn_store *s, int64_t run, const struct hn_capacity_step *c)
{
    if (!s || s->degraded || !run)
        return;
    struct batch *bt = batch_new("a capacity step");
    b_sql(bt, "INSERT INTO capacity_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);");
    b_int(bt, run);
    b_int(bt, (int64_t)c->users);
    b_double(bt, c->duration_s);
    b_int(bt, (int64_t)c->requests);
    b_int(bt, (int64_t)c->failures);
    b_double(bt, c->rps);
    b_double(bt, c->fail_ratio);
    b_double(bt, c->p50_ms);
    b_double(bt, c->p95_ms);
    b_double(bt, c->p99_ms);
    b_int(bt, c->passed);
    b_text(bt, c->failed);
    b_text(bt, c->rate_mode ? "rate" : "users");
    submit(s, bt);
}

int hn_store_load_capacity(struct hn_store *s, int64_t run, struct hn_capacity_step **out,
                           size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT users, duration_s, requests, failures, rps, fail_ratio,"
                           " p50_ms, p95_ms, p99_ms, passed, failed, mode FROM capacity_steps"
                           " WHERE run_id=? ORDER BY rowid;",
                           -1, &st, NULL) != SQLITE_OK)
        return 0; /* a database from before capacity searches, opened read-only: none */
    sqlite3_bind_int64(st, 1, run);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = hn_realloc(*out, cap * sizeof **out);
        }
        struct hn_capacity_step *c = &(*out)[(*n)++];
        memset(c, 0, sizeof *c);
        c->users = (uint64_t)sqlite3_column_int64(st, 0);
        c->duration_s = sqlite3_column_double(st, 1);
        c->requests = (uint64_t)sqlite3_column_int64(st, 2);
        c->failures = (uint64_t)sqlite3_column_int64(st, 3);
        c->rps = sqlite3_column_double(st, 4);
        c->fail_ratio = sqlite3_column_double(st, 5);
        c->p50_ms = sqlite3_column_double(st, 6);
        c->p95_ms = sqlite3_column_double(st, 7);
        c->p99_ms = sqlite3_column_double(st, 8);
        c->passed = sqlite3_column_int(st, 9);
        const char *f = (const char *)sqlite3_column_text(st, 10);
        snprintf(c->failed, sizeof c->failed, "%s", f ? f : "");
        const char *mode = (const char *)sqlite3_column_text(st, 11);
        c->rate_mode = mode && !strcmp(mode, "rate");
    }
    sqlite3_finalize(st);
    return 0;
}

void hn_store_exception(struct hn_store *s, int64_t run, uint64_t count, const char *msg,
                        const char *traceback, const char *nodes)
{
    if (!s || s->degraded || !run)
        return;
    struct batch *bt = batch_new("an exception");
    b_sql(bt, "INSERT INTO exceptions VALUES (?, ?, ?, ?, ?);");
    b_int(bt, run);
    b_int(bt, (int64_t)count);
    b_text(bt, msg);
    b_text(bt, traceback);
    b_text(bt, nodes);
    submit(s, bt);
}

/* Open model: a row's uncorrected service times, beside its final row. */
static void add_service(struct batch *bt, int64_t run, const struct hn_stats_entry *e)
{
    if (!e->service || !e->service->count)
        return;
    struct blob b = {0};
    hn_hist_foreach(e->service, put_bucket, &b);
    b_sql(bt, "INSERT INTO service_times VALUES (?, ?, ?, ?, ?, ?, ?);");
    b_int(bt, run);
    b_text(bt, e->type);
    b_text(bt, e->name);
    b_int(bt, (int64_t)e->service->sum_us);
    b_int(bt, (int64_t)e->service->min_us);
    b_int(bt, (int64_t)e->service->max_us);
    b_bytes(bt, 'b', b.p ? (const void *)b.p : "", b.len);
    free(b.p);
}

void hn_store_run_end(struct hn_store *s, int64_t run, int64_t ended_ms, const char *status,
                      int exit_code, const struct hn_stats *total, double duration_s)
{
    if (!s || s->degraded || !run)
        return;
    struct batch *bt = batch_new("the run's end");
    for (size_t i = 0; i < total->n_entries; i++) {
        add_row(bt, run, 0, total->entries[i], 0);
        add_service(bt, run, total->entries[i]);
    }
    add_row(bt, run, 0, &total->total, 0);
    add_service(bt, run, &total->total);
    for (size_t i = 0; i < total->n_errors; i++) {
        const struct hn_stats_error *e = total->errors[i];
        b_sql(bt, "INSERT INTO failures VALUES (?, ?, ?, ?, ?);");
        b_int(bt, run);
        b_text(bt, e->type);
        b_text(bt, e->name);
        b_text(bt, e->message);
        b_int(bt, (int64_t)e->occurrences);
    }
    b_sql(bt, "UPDATE runs SET status=?, ended_ms=?, exit_code=?, duration_s=?,"
              " dropped_iterations=?, conns_opened=?, conns_reused=? WHERE id=?;");
    b_text(bt, status);
    b_int(bt, ended_ms);
    b_int(bt, exit_code);
    b_double(bt, duration_s);
    b_int(bt, (int64_t)total->dropped_iterations);
    b_int(bt, (int64_t)total->conns_opened);
    b_int(bt, (int64_t)total->conns_reused);
    b_int(bt, run);
    submit(s, bt);
    /* the end: what is still queued gets a few more tries (bounded), then persistence gives up
     * and the exit code says so */
    for (int attempt = 0; attempt < 5 && s->head; attempt++) {
        if (flush(s, 1) == 0)
            break;
        usleep(500000);
    }
    if (s->head)
        degrade(s, "cannot finish the run");
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

int hn_store_write_row_series_json(struct hn_store *s, int64_t run, FILE *f)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT type, name, ts_ms, requests, min_us, max_us, hist FROM intervals"
                           " WHERE run_id=? AND NOT (type='' AND name='Aggregated')"
                           " ORDER BY type, name, ts_ms;",
                           -1, &st, NULL) != SQLITE_OK)
        return HN_EIO;
    sqlite3_bind_int64(st, 1, run);
    char last[1200] = "";
    int rows = 0;
    fputc('{', f);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        char row[1200];
        snprintf(row, sizeof row, "%s %s", type ? type : "", name ? name : "");
        if (strcmp(row, last)) {
            /* a new row: its name as a JSON string (escaped by the JSON writer) */
            struct hn_json *k = hn_json_string(row, strlen(row));
            char *ks = hn_json_dump(k);
            hn_json_free(k);
            /* HTML-safe JSON: the object sits in a <script> element, where "</script>" in a
             * row's name would end it */
            fputs(rows++ ? "]," : "", f);
            for (const char *c = ks ? ks : "\"?\""; *c; c++) {
                if (*c == '<' || *c == '>' || *c == '&')
                    fprintf(f, "\\u%04x", (unsigned)*c);
                else
                    fputc(*c, f);
            }
            fputs(":[", f);
            free(ks);
            snprintf(last, sizeof last, "%s", row);
        } else {
            fputc(',', f);
        }
        const void *blob = sqlite3_column_blob(st, 6);
        int len = sqlite3_column_bytes(st, 6);
        uint64_t mn = (uint64_t)sqlite3_column_int64(st, 4), mx = (uint64_t)sqlite3_column_int64(st, 5);
        fprintf(f, "[%lld,%.3f,%.3f,%lld]", (long long)sqlite3_column_int64(st, 2),
                blob_percentile_ms(blob, len, mn, mx, 0.5), blob_percentile_ms(blob, len, mn, mx, 0.95),
                (long long)sqlite3_column_int64(st, 3));
    }
    fputs(rows ? "]}" : "}", f);
    sqlite3_finalize(st);
    return 0;
}

int hn_store_runs(struct hn_store *s, int limit, struct hn_run_row **out, size_t *n_out)
{
    const char *sql =
        "SELECT r.id, r.started_ms, COALESCE(r.ended_ms, r.last_interval_ms, r.started_ms),"
        " r.scenario_path, r.users, r.status, f.requests, f.failures, f.min_us, f.max_us, f.hist,"
        " (SELECT SUM(requests) FROM intervals i WHERE i.run_id = r.id AND i.name = 'Aggregated'"
        "  AND i.type = ''), r.pid, r.node, r.host"
        " FROM runs r LEFT JOIN final_stats f ON f.run_id = r.id AND f.name = 'Aggregated'"
        " AND f.type = '' ORDER BY r.id DESC LIMIT ?;";
    sqlite3_stmt *st = NULL;
    *out = NULL;
    *n_out = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return HN_EIO;
    sqlite3_bind_int(st, 1, limit);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n_out == cap) {
            cap = cap ? cap * 2 : 32;
            *out = hn_realloc(*out, cap * sizeof **out);
        }
        struct hn_run_row *r = &(*out)[(*n_out)++];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(st, 0);
        r->started_ms = sqlite3_column_int64(st, 1);
        r->duration_s = (double)(sqlite3_column_int64(st, 2) - r->started_ms) / 1000.0;
        int has_final = sqlite3_column_type(st, 6) != SQLITE_NULL;
        r->requests = (uint64_t)(has_final ? sqlite3_column_int64(st, 6)
                                           : sqlite3_column_int64(st, 11));
        r->failures = has_final ? (uint64_t)sqlite3_column_int64(st, 7) : 0;
        r->p95_ms = -1;
        if (has_final && r->requests > 0)
            r->p95_ms = blob_percentile_ms(sqlite3_column_blob(st, 10),
                                           sqlite3_column_bytes(st, 10),
                                           (uint64_t)sqlite3_column_int64(st, 8),
                                           (uint64_t)sqlite3_column_int64(st, 9), 0.95);
        r->has_final = has_final;
        r->users = (uint64_t)sqlite3_column_int64(st, 4);
        const char *status = (const char *)sqlite3_column_text(st, 5);
        if (status && !strcmp(status, "running") &&
            master_gone((pid_t)sqlite3_column_int64(st, 12),
                        (const char *)sqlite3_column_text(st, 13)))
            status = "aborted"; /* shown as it is; only a writer marks it */
        snprintf(r->status, sizeof r->status, "%s", status ? status : "?");
        const char *sc = (const char *)sqlite3_column_text(st, 3);
        r->scenario_path = hn_strdup(sc ? sc : "");
        const char *host = (const char *)sqlite3_column_text(st, 14);
        r->host = hn_strdup(host ? host : "");
    }
    sqlite3_finalize(st);
    return 0;
}

void hn_run_rows_free(struct hn_run_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].scenario_path);
        free(rows[i].host);
    }
    free(rows);
}

int hn_store_list_runs(struct hn_store *s, FILE *f, int limit)
{
    struct hn_run_row *rows;
    size_t n;
    if (hn_store_runs(s, limit, &rows, &n))
        return HN_EIO;
    fprintf(f, "%5s  %-19s  %-28s %7s %9s  %-9s %9s %9s %7s\n", "id", "started", "scenario",
            "users", "duration", "status", "req/s", "p95 ms", "fail %");
    for (size_t i = 0; i < n; i++) {
        const struct hn_run_row *r = &rows[i];
        time_t t = (time_t)(r->started_ms / 1000);
        struct tm tm;
        localtime_r(&t, &tm);
        char when[32];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        char p95[32] = "-", rps[32] = "-", failp[32] = "-";
        if (r->has_final && r->requests > 0) {
            snprintf(p95, sizeof p95, "%.1f", r->p95_ms);
            snprintf(failp, sizeof failp, "%.2f",
                     100.0 * (double)r->failures / (double)r->requests);
        }
        if (r->duration_s > 0 && r->requests > 0)
            snprintf(rps, sizeof rps, "%.1f", (double)r->requests / r->duration_s);
        const char *slash = strrchr(r->scenario_path, '/');
        /* the file name says which scenario; the full path is stored */
        fprintf(f, "%5lld  %-19s  %-28.28s %7llu %8.0fs  %-9s %9s %9s %7s\n", (long long)r->id,
                when, slash ? slash + 1 : r->scenario_path, (unsigned long long)r->users,
                r->duration_s, r->status, rps, p95, failp);
    }
    hn_run_rows_free(rows, n);
    return 0;
}

/* An aborted run's figures: the sum of its committed seconds (intervals carry every row's
 * counts and histogram). Returns how many seconds there were. */
static int64_t sum_intervals(struct hn_store *s, int64_t run, struct hn_stats *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT type, name, requests, failures, sum_us, min_us, max_us,"
                           " content_bytes, hist, ts_ms FROM intervals WHERE run_id=?"
                           " ORDER BY ts_ms;",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, run);
    int64_t seconds = 0, last_ts = -1;
    struct hn_hist h;
    hn_hist_init(&h);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        struct hn_stats_entry *e = !strcmp(name ? name : "", "Aggregated") && type && !*type
                                       ? &out->total
                                       : hn_stats_entry(out, type ? type : "", name ? name : "");
        int64_t ts = sqlite3_column_int64(st, 9);
        seconds += ts != last_ts;
        last_ts = ts;
        e->n_requests += (uint64_t)sqlite3_column_int64(st, 2);
        e->n_failures += (uint64_t)sqlite3_column_int64(st, 3);
        e->content_bytes += (uint64_t)sqlite3_column_int64(st, 7);
        hn_hist_reset(&h);
        blob_to_hist(sqlite3_column_blob(st, 8), sqlite3_column_bytes(st, 8), &h);
        h.sum_us = (uint64_t)sqlite3_column_int64(st, 4);
        h.min_us = h.count ? (uint64_t)sqlite3_column_int64(st, 5) : UINT64_MAX;
        h.max_us = (uint64_t)sqlite3_column_int64(st, 6);
        hn_hist_merge(&e->hist, &h);
    }
    hn_hist_fini(&h);
    sqlite3_finalize(st);
    return seconds;
}

int hn_store_load_final(struct hn_store *s, int64_t run, struct hn_stats *out,
                        double *duration_s, int64_t *seconds, char *err, size_t errlen)
{
    if (seconds)
        *seconds = 0;
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
    if (!strcmp(status, "aborted")) {
        int64_t n = sum_intervals(s, run, out);
        if (seconds)
            *seconds = n ? n : -1;
        return 0;
    }
    /* a finished or failed run's end wrote its final rows (the Aggregated row at least); a
     * running one has none, unless this is a mid-run copy with its end written in */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT type, name, requests, failures, sum_us, min_us, max_us,"
                           " content_bytes, hist FROM final_stats WHERE run_id=?;",
                           -1, &st, NULL) != SQLITE_OK)
        return HN_EIO;
    sqlite3_bind_int64(st, 1, run);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        rows++;
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
    if (!rows) {
        snprintf(err, errlen, "run %lld is %s: it has no statistics to read yet", (long long)run,
                 status);
        return HN_EINVAL;
    }
    /* a database from before the open model, opened read-only, has no such table: none */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT type, name, sum_us, min_us, max_us, hist FROM service_times"
                           " WHERE run_id=?;",
                           -1, &st, NULL) != SQLITE_OK)
        st = NULL;
    if (st)
        sqlite3_bind_int64(st, 1, run);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        struct hn_stats_entry *e = !strcmp(name ? name : "", "Aggregated") && type && !*type
                                       ? &out->total
                                       : hn_stats_entry(out, type ? type : "", name ? name : "");
        if (!e->service) {
            e->service = hn_malloc(sizeof *e->service);
            hn_hist_init(e->service);
        }
        blob_to_hist(sqlite3_column_blob(st, 5), sqlite3_column_bytes(st, 5), e->service);
        e->service->sum_us = (uint64_t)sqlite3_column_int64(st, 2);
        e->service->min_us = (uint64_t)sqlite3_column_int64(st, 3);
        e->service->max_us = (uint64_t)sqlite3_column_int64(st, 4);
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
    /* a database from an earlier hornet, opened read-only (not migrated), lacks the newer
     * columns: 0 for them */
#define RUN_COLS \
    "SELECT id, started_ms, COALESCE(ended_ms, started_ms), status, scenario_path, host," \
    " command_line, version, users, spawn_rate, run_time_ms, COALESCE(exit_code, -1),"
    static const char *const sql[3] = {
        RUN_COLS " COALESCE(dropped_iterations, 0), COALESCE(arrival_rate, 0),"
                 " COALESCE(conns_opened, 0), COALESCE(conns_reused, 0) FROM runs WHERE id=?;",
        RUN_COLS " COALESCE(dropped_iterations, 0), COALESCE(arrival_rate, 0), 0, 0"
                 " FROM runs WHERE id=?;",
        RUN_COLS " 0, 0, 0, 0 FROM runs WHERE id=?;"};
#undef RUN_COLS
    int prepared = 0;
    for (int i = 0; i < 3 && !prepared; i++)
        prepared = sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL) == SQLITE_OK;
    if (!prepared)
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
    info->dropped_iterations = (uint64_t)sqlite3_column_int64(st, 12);
    info->arrival_rate = sqlite3_column_double(st, 13);
    info->conns_opened = (uint64_t)sqlite3_column_int64(st, 14);
    info->conns_reused = (uint64_t)sqlite3_column_int64(st, 15);
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
