/*
 * test_history.c - the ring-stiffness history (store/history.h) on a real
 * SQLite file: the migration of a version 1 file, a test's life (begin,
 * points in batches, finish, read back with its unknowns), listings with
 * every filter and their pages, updates, interrupted tests, alarms,
 * series, the integrity check, and that a long read never holds up a
 * write.
 */
#include "store/history.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

typedef struct {
    char path[256];
    gw_store *s;
} fixture;

static void remove_db(const char *path)
{
    char p[300];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static void db_path(fixture *f)
{
    const char *dir = getenv("TMPDIR");
    snprintf(f->path, sizeof(f->path), "%s/plcgw-test-history-%d.db", dir && *dir ? dir : "/tmp",
             (int)getpid());
    remove_db(f->path);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    db_path(f);
    gw_error err;
    if (gw_store_open(f->path, &f->s, &err) != GW_OK) {
        fprintf(stderr, "%s\n", err.msg);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

/* For the migration test: the file is made by hand first. */
static int setup_path(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    db_path(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gw_store_close(f->s);
    remove_db(f->path);
    free(f);
    return 0;
}

/* The first column of the first row of sql, as text ("" for NULL or none),
 * on a connection of its own. */
static void query(const char *path, const char *sql, char *out, size_t size)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    out[0] = '\0';
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s\n", msg ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(db);
}

/* ------------------------------------------------------------ migration */

/* store.c's schema_v1, as version 1 files have it (migrations are never
 * edited, so this copy stays true). */
static const char schema_v1[] =
    "CREATE TABLE users("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),"
    "  password_hash TEXT NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL);"
    "CREATE TABLE api_tokens("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  label TEXT NOT NULL,"
    "  token_hash BLOB NOT NULL UNIQUE,"
    "  revoked INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL);"
    "CREATE TABLE sessions("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  session_hash BLOB NOT NULL UNIQUE,"
    "  created_at TEXT NOT NULL,"
    "  expires_at TEXT NOT NULL);"
    "CREATE TABLE audit_log("
    "  id INTEGER PRIMARY KEY,"
    "  ts TEXT NOT NULL,"
    "  user_name TEXT,"
    "  role TEXT,"
    "  machine_id TEXT,"
    "  action TEXT NOT NULL,"
    "  \"values\" TEXT,"
    "  result TEXT NOT NULL);"
    /* seed 000, 6.1-6.3, with machine_id, status and timestamps */
    "CREATE TABLE tests("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  machine_id TEXT NOT NULL,"
    "  sample_id VARCHAR(50),"
    "  operator VARCHAR(100),"
    "  test_date DATETIME,"
    "  pipe_diameter REAL,"
    "  pipe_length REAL,"
    "  deflection_percent REAL,"
    "  force_at_target REAL,"
    "  ring_stiffness REAL,"
    "  sn_class INTEGER,"
    "  passed BOOLEAN,"
    "  status TEXT NOT NULL DEFAULT 'created',"
    "  created_at TEXT NOT NULL,"
    "  finished_at TEXT);"
    "CREATE TABLE test_data_points("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  test_id INTEGER NOT NULL REFERENCES tests(id) ON DELETE CASCADE,"
    "  timestamp REAL NOT NULL,"
    "  force REAL,"
    "  deflection REAL);"
    "CREATE INDEX test_data_points_test ON test_data_points(test_id, timestamp);"
    "CREATE TABLE alarms("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  machine_id TEXT NOT NULL,"
    "  alarm_code INTEGER NOT NULL,"
    "  message VARCHAR(255),"
    "  timestamp DATETIME NOT NULL,"
    "  acknowledged BOOLEAN NOT NULL DEFAULT 0,"
    "  ack_timestamp DATETIME,"
    "  ack_by TEXT);";

static void test_migrate_v1(void **state)
{
    fixture *f = *state;
    exec(f->path, schema_v1);
    exec(f->path, "INSERT INTO tests(machine_id, sample_id, operator, test_date, pipe_diameter, "
                  "pipe_length, deflection_percent, force_at_target, ring_stiffness, sn_class, "
                  "passed, status, created_at, finished_at) VALUES ('rig', 'P-1', 'ann', "
                  "'2026-01-02T03:04:05.006Z', 315, 300, 3, 2.5, 5.2, 5000, 1, 'complete', "
                  "'2026-01-02T03:04:05.006Z', '2026-01-02T03:09:00.000Z');"
                  "INSERT INTO test_data_points(test_id, timestamp, force, deflection) VALUES "
                  "(1, 0, 0, 0), (1, 0.5, 0.1, 0.2), (1, 1, 0.2, 0.4);"
                  "INSERT INTO alarms(machine_id, alarm_code, message, timestamp) VALUES "
                  "('rig', 3, 'servo', '2026-01-02T03:05:00.000Z');"
                  "PRAGMA user_version = 1;");
    gw_error err;
    assert_int_equal(gw_store_open(f->path, &f->s, &err), GW_OK);
    assert_int_equal(gw_store_schema_version(f->s), 2);
    assert_int_equal(GW_STORE_SCHEMA_VERSION, 2);
    char out[1024];
    query(f->path, "SELECT group_concat(name, ',') FROM pragma_table_info('tests')", out,
          sizeof(out));
    const char *want[] = {"notes", "reason", "series_id", "nominal_sn", "test_speed",
                          "max_stroke", "max_force", "plc_passed", "method", "wall_thickness",
                          "diameter_calc", "target_deflection", "force_at_target_calc",
                          "ring_stiffness_calc", "sn_class_calc", "mismatch", "npoints",
                          "points_sha256"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char col[40];
        snprintf(col, sizeof(col), ",%s", want[i]);
        assert_non_null(strstr(out, col));
    }
    query(f->path, "SELECT group_concat(name, ',') FROM pragma_table_info('test_data_points')",
          out, sizeof(out));
    assert_string_equal(out, "id,test_id,timestamp,force,deflection,position");
    query(f->path, "SELECT group_concat(name, ',') FROM pragma_table_info('alarms')", out,
          sizeof(out));
    assert_non_null(strstr(out, ",ack_by,name,test_id"));
    query(f->path, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
                   "('tests_machine_date', 'tests_series', 'tests_sample', 'alarms_machine_ack')",
          out, sizeof(out));
    assert_string_equal(out, "4");
    /* the old rows, read through the new code */
    gw_test t;
    assert_int_equal(gw_store_test_get(f->s, 1, &t, &err), GW_OK);
    assert_string_equal(t.machine_id, "rig");
    assert_string_equal(t.sample_id, "P-1");
    assert_string_equal(t.operator_name, "ann");
    assert_string_equal(t.test_date, "2026-01-02T03:04:05.006Z");
    assert_string_equal(t.status, "complete");
    assert_true(t.pipe_diameter == 315 && t.ring_stiffness == 5.2);
    assert_int_equal(t.sn_class, 5000);
    assert_int_equal(t.passed, 1);
    assert_int_equal(t.plc_passed, -1);
    assert_true(isnan(t.test_speed) && isnan(t.ring_stiffness_calc));
    assert_int_equal(t.npoints, 3); /* counted by the migration */
    assert_int_equal(t.series_id, 0);
    assert_string_equal(t.points_sha256, "");
    size_t total;
    assert_int_equal(gw_store_alarm_list(f->s, NULL, true, 0, 0, &total, NULL, NULL, &err), GW_OK);
    assert_int_equal(total, 1);
    /* and again: nothing left to migrate */
    gw_store_close(f->s);
    assert_int_equal(gw_store_open(f->path, &f->s, &err), GW_OK);
    assert_int_equal(gw_store_schema_version(f->s), 2);
}

/* ------------------------------------------------------------- a test */

static gw_test full_test(void)
{
    gw_test t;
    gw_test_init(&t);
    snprintf(t.machine_id, sizeof(t.machine_id), "rig");
    snprintf(t.sample_id, sizeof(t.sample_id), "PIPE-0042/1");
    snprintf(t.operator_name, sizeof(t.operator_name), "Zoë Operator");
    snprintf(t.notes, sizeof(t.notes), "first piece, turned 0°; 'quoted' \"text\"");
    snprintf(t.test_date, sizeof(t.test_date), "2026-12-07T21:18:58.108Z");
    t.series_id = 7;
    t.nominal_sn = 5000;
    t.pipe_diameter = 315.5;
    t.pipe_length = 300;
    t.deflection_percent = 3;
    t.test_speed = 8.5;
    t.max_stroke = 60;
    t.max_force = 50;
    return t;
}

static void finish_fields(gw_test *t)
{
    snprintf(t->status, sizeof(t->status), GW_TEST_COMPLETE);
    snprintf(t->finished_at, sizeof(t->finished_at), "2026-12-07T21:25:01.500Z");
    t->force_at_target = 2.456;
    t->ring_stiffness = 5.312;
    t->sn_class = 5000;
    t->plc_passed = 1;
    snprintf(t->method, sizeof(t->method), "ISO 9969");
    t->wall_thickness = NAN;
    t->diameter_calc = 305.25;
    t->target_deflection = 9.1575;
    t->force_at_target_calc = 2.4501;
    t->ring_stiffness_calc = 5.3001;
    t->sn_class_calc = 5000;
    t->passed = 1;
    t->mismatch = 0;
    t->npoints = 30;
    snprintf(t->points_sha256, sizeof(t->points_sha256), "%064d", 1);
}

/* Numbers equal, NAN equal to NAN. */
static void assert_num(double a, double b)
{
    assert_true((isnan(a) && isnan(b)) || a == b);
}

static void assert_same_test(const gw_test *a, const gw_test *b)
{
    assert_int_equal(a->id, b->id);
    assert_string_equal(a->machine_id, b->machine_id);
    assert_string_equal(a->sample_id, b->sample_id);
    assert_string_equal(a->operator_name, b->operator_name);
    assert_string_equal(a->notes, b->notes);
    assert_string_equal(a->test_date, b->test_date);
    assert_string_equal(a->finished_at, b->finished_at);
    assert_string_equal(a->status, b->status);
    assert_string_equal(a->reason, b->reason);
    assert_int_equal(a->series_id, b->series_id);
    assert_int_equal(a->nominal_sn, b->nominal_sn);
    assert_num(a->pipe_diameter, b->pipe_diameter);
    assert_num(a->pipe_length, b->pipe_length);
    assert_num(a->deflection_percent, b->deflection_percent);
    assert_num(a->test_speed, b->test_speed);
    assert_num(a->max_stroke, b->max_stroke);
    assert_num(a->max_force, b->max_force);
    assert_num(a->force_at_target, b->force_at_target);
    assert_num(a->ring_stiffness, b->ring_stiffness);
    assert_int_equal(a->sn_class, b->sn_class);
    assert_int_equal(a->plc_passed, b->plc_passed);
    assert_string_equal(a->method, b->method);
    assert_num(a->wall_thickness, b->wall_thickness);
    assert_num(a->diameter_calc, b->diameter_calc);
    assert_num(a->target_deflection, b->target_deflection);
    assert_num(a->force_at_target_calc, b->force_at_target_calc);
    assert_num(a->ring_stiffness_calc, b->ring_stiffness_calc);
    assert_int_equal(a->sn_class_calc, b->sn_class_calc);
    assert_int_equal(a->passed, b->passed);
    assert_int_equal(a->mismatch, b->mismatch);
    assert_int_equal(a->npoints, b->npoints);
    assert_string_equal(a->points_sha256, b->points_sha256);
}

typedef struct {
    size_t n;
    gw_test_point p[128];
} points;

static void on_point(void *ud, const gw_test_point *p)
{
    points *ps = ud;
    assert_true(ps->n < sizeof(ps->p) / sizeof(ps->p[0]));
    ps->p[ps->n++] = *p;
}

static void test_init(void **state)
{
    (void)state;
    gw_test t;
    memset(&t, 0x55, sizeof(t));
    gw_test_init(&t);
    assert_int_equal(t.id, 0);
    assert_string_equal(t.machine_id, "");
    assert_string_equal(t.points_sha256, "");
    assert_true(isnan(t.pipe_diameter) && isnan(t.max_force) && isnan(t.ring_stiffness) &&
                isnan(t.wall_thickness) && isnan(t.ring_stiffness_calc));
    assert_int_equal(t.sn_class, -1);
    assert_int_equal(t.plc_passed, -1);
    assert_int_equal(t.sn_class_calc, -1);
    assert_int_equal(t.passed, -1);
    assert_int_equal(t.mismatch, -1);
    assert_int_equal(t.nominal_sn, 0);
    assert_int_equal(t.series_id, 0);
    assert_int_equal(t.npoints, 0);
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    gw_error err;
    gw_test t = full_test(), got;
    assert_int_equal(gw_store_test_begin(f->s, &t, &err), GW_OK);
    assert_true(t.id > 0);
    assert_string_equal(t.status, GW_TEST_RUNNING);
    assert_int_equal(gw_store_test_get(f->s, t.id, &got, &err), GW_OK);
    assert_same_test(&got, &t);
    /* 30 points in three batches, as the recorder sends them */
    gw_test_point p[30];
    for (int i = 0; i < 30; i++)
        p[i] = (gw_test_point){i * 0.02, i * 0.1, i * 0.3, i % 3 ? 16.5 + i : NAN};
    for (int b = 0; b < 3; b++)
        assert_int_equal(gw_store_test_add_points(f->s, t.id, p + b * 10, 10, &err), GW_OK);
    assert_int_equal(gw_store_test_get(f->s, t.id, &got, &err), GW_OK);
    assert_int_equal(got.npoints, 30); /* kept up to date while it runs */
    finish_fields(&t);
    assert_int_equal(gw_store_test_finish(f->s, &t, &err), GW_OK);
    assert_int_equal(gw_store_test_get(f->s, t.id, &got, &err), GW_OK);
    assert_same_test(&got, &t);
    points ps = {0};
    assert_int_equal(gw_store_test_points(f->s, t.id, on_point, &ps, &err), GW_OK);
    assert_int_equal(ps.n, 30);
    for (int i = 0; i < 30; i++) {
        assert_num(ps.p[i].t_s, p[i].t_s);
        assert_num(ps.p[i].force_kN, p[i].force_kN);
        assert_num(ps.p[i].deflection_mm, p[i].deflection_mm);
        assert_num(ps.p[i].position_mm, p[i].position_mm);
    }
    /* the seed's columns hold the PLC's results under the seed's names */
    char out[256];
    query(f->path, "SELECT operator || '|' || force_at_target || '|' || sn_class || '|' || "
                   "nominal_sn || '|' || series_id FROM tests", out, sizeof(out));
    assert_string_equal(out, "Zoë Operator|2.456|5000|5000|7");
}

static void test_unknowns_are_null(void **state)
{
    fixture *f = *state;
    gw_error err;
    gw_test t, got;
    gw_test_init(&t);
    snprintf(t.machine_id, sizeof(t.machine_id), "rig");
    assert_int_equal(gw_store_test_begin(f->s, &t, &err), GW_OK);
    assert_int_equal(strlen(t.test_date), 24); /* now, when not given */
    assert_int_equal(t.test_date[23], 'Z');
    snprintf(t.status, sizeof(t.status), GW_TEST_ABORTED);
    snprintf(t.reason, sizeof(t.reason), "Stop pressed");
    assert_int_equal(gw_store_test_finish(f->s, &t, &err), GW_OK);
    assert_int_equal(gw_store_test_get(f->s, t.id, &got, &err), GW_OK);
    assert_int_equal(strlen(got.finished_at), 24); /* now, when not given */
    snprintf(t.finished_at, sizeof(t.finished_at), "%s", got.finished_at);
    assert_same_test(&got, &t);
    char out[256];
    query(f->path, "SELECT count(*) FROM tests WHERE sample_id IS NULL AND operator IS NULL AND "
                   "notes IS NULL AND series_id IS NULL AND nominal_sn IS NULL AND "
                   "pipe_diameter IS NULL AND pipe_length IS NULL AND deflection_percent IS NULL "
                   "AND test_speed IS NULL AND max_stroke IS NULL AND max_force IS NULL AND "
                   "force_at_target IS NULL AND ring_stiffness IS NULL AND sn_class IS NULL AND "
                   "plc_passed IS NULL AND method IS NULL AND wall_thickness IS NULL AND "
                   "diameter_calc IS NULL AND target_deflection IS NULL AND "
                   "force_at_target_calc IS NULL AND ring_stiffness_calc IS NULL AND "
                   "sn_class_calc IS NULL AND passed IS NULL AND mismatch IS NULL AND "
                   "points_sha256 IS NULL AND npoints = 0 AND reason = 'Stop pressed'",
          out, sizeof(out));
    assert_string_equal(out, "1");
    /* a class of 0 (reaches none) and a fail are values, not unknowns */
    t.sn_class_calc = 0;
    t.passed = 0;
    t.mismatch = 1;
    assert_int_equal(gw_store_test_finish(f->s, &t, &err), GW_OK);
    assert_int_equal(gw_store_test_get(f->s, t.id, &got, &err), GW_OK);
    assert_int_equal(got.sn_class_calc, 0);
    assert_int_equal(got.passed, 0);
    assert_int_equal(got.mismatch, 1);
}

static void test_invalid(void **state)
{
    fixture *f = *state;
    gw_error err;
    gw_test t = full_test();
    memset(t.sample_id, 'x', GW_TEST_SAMPLE_MAX);
    t.sample_id[GW_TEST_SAMPLE_MAX] = '\0';
    assert_int_equal(gw_store_test_begin(f->s, &t, &err), GW_OK); /* 50 is the most */
    memset(t.sample_id, 'x', sizeof(t.sample_id)); /* 51, no room for its end */
    assert_int_equal(gw_store_test_begin(f->s, &t, &err), GW_E_INVAL);
    assert_non_null(strstr(err.msg, "sample_id"));
    t = full_test();
    memset(t.operator_name, 'o', sizeof(t.operator_name));
    assert_int_equal(gw_store_test_begin(f->s, &t, &err), GW_E_INVAL);
    t = full_test();
    memset(t.notes, 'n', sizeof(t.notes));
    assert_int_equal(gw_store_test_begin(f->s, &t, &err), GW_E_INVAL);
    t = full_test();
    t.machine_id[0] = '\0';
    assert_int_equal(gw_store_test_begin(f->s, &t, &err), GW_E_INVAL);
    t = full_test();
    /* finish: an end status, a known test */
    snprintf(t.status, sizeof(t.status), "running");
    t.id = 1;
    assert_int_equal(gw_store_test_finish(f->s, &t, &err), GW_E_INVAL);
    snprintf(t.status, sizeof(t.status), "done");
    assert_int_equal(gw_store_test_finish(f->s, &t, &err), GW_E_INVAL);
    snprintf(t.status, sizeof(t.status), GW_TEST_COMPLETE);
    t.id = 999;
    assert_int_equal(gw_store_test_finish(f->s, &t, &err), GW_E_NOT_FOUND);
    gw_test got;
    assert_int_equal(gw_store_test_get(f->s, 999, &got, &err), GW_E_NOT_FOUND);
    assert_int_equal(got.id, 0);
    assert_true(isnan(got.pipe_diameter));
    char out[32];
    query(f->path, "SELECT count(*) FROM tests", out, sizeof(out));
    assert_string_equal(out, "1");
}

/* ------------------------------------------------------------ listings */

typedef struct {
    size_t n;
    int64_t id[64];
} ids;

static void on_test(void *ud, const gw_test *t)
{
    ids *l = ud;
    assert_true(l->n < sizeof(l->id) / sizeof(l->id[0]));
    l->id[l->n++] = t->id;
}

/* The ids of a listing, newest first, and its total. */
static size_t list(gw_store *s, const gw_test_filter *f, size_t offset, size_t limit,
                   ids *out)
{
    gw_error err;
    size_t total = 12345;
    memset(out, 0, sizeof(*out));
    assert_int_equal(gw_store_test_list(s, f, offset, limit, &total, on_test, out, &err), GW_OK);
    return total;
}

static gw_test_filter any(void)
{
    gw_test_filter f = {0};
    f.passed = -1;
    return f;
}

/* Six tests: id 1..6 in date order. */
static void six_tests(gw_store *s)
{
    static const struct {
        const char *machine, *date, *sample, *op, *status;
        int passed;
        int64_t series;
    } rows[] = {
        {"rig", "2026-12-06T23:59:59.999Z", "A", "ann", "complete", 1, 3},
        {"rig", "2026-12-07T00:00:00.000Z", "B", "bob", "complete", 0, 3},
        {"rig2", "2026-12-07T10:00:00.000Z", "A", "ann", "aborted", -1, 0},
        {"rig", "2026-12-07T10:00:00.500Z", "C", "bob", "complete", 1, 4},
        {"rig2", "2026-12-07T23:59:59.999Z", "A", "cy", "running", -1, 0},
        {"rig", "2026-12-08T00:00:00.000Z", "D", "ann", "complete", 1, 3},
    };
    gw_error err;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_test t;
        gw_test_init(&t);
        snprintf(t.machine_id, sizeof(t.machine_id), "%s", rows[i].machine);
        snprintf(t.test_date, sizeof(t.test_date), "%s", rows[i].date);
        snprintf(t.sample_id, sizeof(t.sample_id), "%s", rows[i].sample);
        snprintf(t.operator_name, sizeof(t.operator_name), "%s", rows[i].op);
        t.series_id = rows[i].series;
        assert_int_equal(gw_store_test_begin(s, &t, &err), GW_OK);
        assert_int_equal(t.id, (int64_t)i + 1);
        if (strcmp(rows[i].status, "running") != 0) {
            snprintf(t.status, sizeof(t.status), "%s", rows[i].status);
            t.passed = rows[i].passed;
            assert_int_equal(gw_store_test_finish(s, &t, &err), GW_OK);
        }
    }
}

static void assert_ids(const ids *l, size_t n, const int64_t *want)
{
    assert_int_equal(l->n, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(l->id[i], want[i]);
}

#define IDS(...) (const int64_t[]){__VA_ARGS__}
#define NIDS(...) (sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), IDS(__VA_ARGS__)

static void test_list_filters(void **state)
{
    fixture *f = *state;
    six_tests(f->s);
    ids l;
    gw_test_filter q = any();
    assert_int_equal(list(f->s, &q, 0, 0, &l), 6);
    assert_ids(&l, NIDS(6, 5, 4, 3, 2, 1)); /* newest first */
    assert_int_equal(list(f->s, NULL, 0, 0, &l), 6);
    q.machine_id = "rig2";
    assert_int_equal(list(f->s, &q, 0, 0, &l), 2);
    assert_ids(&l, NIDS(5, 3));
    q = any();
    q.machine_id = "nope";
    assert_int_equal(list(f->s, &q, 0, 0, &l), 0);
    assert_int_equal(l.n, 0);
    /* a bare date: the whole day, at both ends */
    q = any();
    q.from = "2026-12-07";
    q.to = "2026-12-07";
    assert_int_equal(list(f->s, &q, 0, 0, &l), 4);
    assert_ids(&l, NIDS(5, 4, 3, 2));
    q.from = NULL;
    assert_int_equal(list(f->s, &q, 0, 0, &l), 5);
    q = any();
    q.from = "2026-12-07";
    assert_int_equal(list(f->s, &q, 0, 0, &l), 5);
    assert_int_equal(l.id[4], 2);
    /* times: from and to inclusive, to the second or to the millisecond */
    q = any();
    q.from = "2026-12-07T10:00:00Z";
    q.to = "2026-12-07T10:00:00Z";
    assert_int_equal(list(f->s, &q, 0, 0, &l), 2);
    assert_ids(&l, NIDS(4, 3));
    q.to = "2026-12-07T10:00:00.000Z";
    assert_int_equal(list(f->s, &q, 0, 0, &l), 1);
    assert_ids(&l, NIDS(3));
    q.from = "2026-12-07T10:00:00.001Z";
    q.to = "2026-12-07T23:59:59.999Z";
    assert_int_equal(list(f->s, &q, 0, 0, &l), 2);
    assert_ids(&l, NIDS(5, 4));
    q.from = "2026-12-07T10";
    q.to = "2026-12-07T10:00";
    assert_int_equal(list(f->s, &q, 0, 0, &l), 2);
    /* exact texts */
    q = any();
    q.sample_id = "A";
    assert_int_equal(list(f->s, &q, 0, 0, &l), 3);
    assert_ids(&l, NIDS(5, 3, 1));
    q.sample_id = "a";
    assert_int_equal(list(f->s, &q, 0, 0, &l), 0);
    q = any();
    q.operator_name = "bob";
    assert_int_equal(list(f->s, &q, 0, 0, &l), 2);
    assert_ids(&l, NIDS(4, 2));
    q = any();
    q.passed = 1;
    assert_int_equal(list(f->s, &q, 0, 0, &l), 3);
    assert_ids(&l, NIDS(6, 4, 1));
    q.passed = 0;
    assert_int_equal(list(f->s, &q, 0, 0, &l), 1);
    assert_ids(&l, NIDS(2));
    q = any();
    q.status = GW_TEST_RUNNING;
    assert_int_equal(list(f->s, &q, 0, 0, &l), 1);
    assert_ids(&l, NIDS(5));
    q.status = GW_TEST_ABORTED;
    assert_int_equal(list(f->s, &q, 0, 0, &l), 1);
    assert_ids(&l, NIDS(3));
    q = any();
    q.series_id = 3;
    assert_int_equal(list(f->s, &q, 0, 0, &l), 3);
    assert_ids(&l, NIDS(6, 2, 1));
    /* several at once */
    q.machine_id = "rig";
    q.operator_name = "ann";
    q.to = "2026-12-07";
    assert_int_equal(list(f->s, &q, 0, 0, &l), 1);
    assert_ids(&l, NIDS(1));
    /* text that looks like SQL is only ever a value */
    q = any();
    q.sample_id = "A' OR '1'='1";
    assert_int_equal(list(f->s, &q, 0, 0, &l), 0);
    char out[32];
    query(f->path, "SELECT count(*) FROM tests", out, sizeof(out));
    assert_string_equal(out, "6");
}

static void test_list_pages(void **state)
{
    fixture *f = *state;
    six_tests(f->s);
    ids l;
    gw_test_filter q = any();
    assert_int_equal(list(f->s, &q, 0, 4, &l), 6);
    assert_ids(&l, NIDS(6, 5, 4, 3));
    assert_int_equal(list(f->s, &q, 4, 4, &l), 6);
    assert_ids(&l, NIDS(2, 1));
    assert_int_equal(list(f->s, &q, 6, 4, &l), 6);
    assert_int_equal(l.n, 0);
    assert_int_equal(list(f->s, &q, 2, 0, &l), 6);
    assert_ids(&l, NIDS(4, 3, 2, 1));
    q.machine_id = "rig";
    assert_int_equal(list(f->s, &q, 1, 2, &l), 4);
    assert_ids(&l, NIDS(4, 2));
    /* the same date: the later id first */
    gw_error err;
    gw_test t;
    gw_test_init(&t);
    snprintf(t.machine_id, sizeof(t.machine_id), "rig");
    snprintf(t.test_date, sizeof(t.test_date), "2026-12-08T00:00:00.000Z");
    assert_int_equal(gw_store_test_begin(f->s, &t, &err), GW_OK);
    assert_int_equal(list(f->s, &q, 0, 2, &l), 5);
    assert_ids(&l, NIDS(7, 6));
    /* total may be NULL */
    memset(&l, 0, sizeof(l));
    assert_int_equal(gw_store_test_list(f->s, &q, 0, 1, NULL, on_test, &l, &err), GW_OK);
    assert_ids(&l, NIDS(7));
}

/* -------------------------------------------------------- update etc. */

static void test_update(void **state)
{
    fixture *f = *state;
    gw_error err;
    gw_test t = full_test(), got;
    assert_int_equal(gw_store_test_begin(f->s, &t, &err), GW_OK);
    assert_int_equal(gw_store_test_update(f->s, t.id, "NEW-1", NULL, NULL, -1, &err), GW_OK);
    assert_int_equal(gw_store_test_get(f->s, t.id, &got, &err), GW_OK);
    assert_string_equal(got.sample_id, "NEW-1");
    assert_string_equal(got.operator_name, t.operator_name); /* NULL: left as it is */
    assert_string_equal(got.notes, t.notes);
    assert_int_equal(got.series_id, 7);
    assert_int_equal(gw_store_test_update(f->s, t.id, NULL, "eve", "re-read the gauge", 12,
                                          &err), GW_OK);
    assert_int_equal(gw_store_test_get(f->s, t.id, &got, &err), GW_OK);
    assert_string_equal(got.sample_id, "NEW-1");
    assert_string_equal(got.operator_name, "eve");
    assert_string_equal(got.notes, "re-read the gauge");
    assert_int_equal(got.series_id, 12);
    /* "" clears a text, 0 the series */
    assert_int_equal(gw_store_test_update(f->s, t.id, NULL, NULL, "", 0, &err), GW_OK);
    assert_int_equal(gw_store_test_get(f->s, t.id, &got, &err), GW_OK);
    assert_string_equal(got.notes, "");
    assert_int_equal(got.series_id, 0);
    char out[32];
    query(f->path, "SELECT count(*) FROM tests WHERE notes IS NULL AND series_id IS NULL", out,
          sizeof(out));
    assert_string_equal(out, "1");
    /* nothing to set still tells whether it exists */
    assert_int_equal(gw_store_test_update(f->s, t.id, NULL, NULL, NULL, -1, &err), GW_OK);
    assert_int_equal(gw_store_test_update(f->s, 999, NULL, NULL, NULL, -1, &err), GW_E_NOT_FOUND);
    assert_int_equal(gw_store_test_update(f->s, 999, "x", NULL, NULL, -1, &err), GW_E_NOT_FOUND);
    /* too long, each of them; nothing changes */
    char big[GW_TEST_NOTES_MAX + 2];
    memset(big, 'n', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(gw_store_test_update(f->s, t.id, NULL, NULL, big, -1, &err), GW_E_INVAL);
    assert_non_null(strstr(err.msg, "notes"));
    big[GW_TEST_NOTES_MAX] = '\0';
    assert_int_equal(gw_store_test_update(f->s, t.id, NULL, NULL, big, -1, &err), GW_OK);
    big[GW_TEST_SAMPLE_MAX + 1] = '\0';
    assert_int_equal(gw_store_test_update(f->s, t.id, big, NULL, NULL, -1, &err), GW_E_INVAL);
    assert_non_null(strstr(err.msg, "sample_id"));
    big[GW_TEST_SAMPLE_MAX + 1] = 'n';
    big[GW_TEST_OPERATOR_MAX + 1] = '\0';
    assert_int_equal(gw_store_test_update(f->s, t.id, NULL, big, NULL, -1, &err), GW_E_INVAL);
    assert_non_null(strstr(err.msg, "operator"));
    assert_int_equal(gw_store_test_get(f->s, t.id, &got, &err), GW_OK);
    assert_string_equal(got.sample_id, "NEW-1");
    assert_string_equal(got.operator_name, "eve");
    assert_int_equal(strlen(got.notes), GW_TEST_NOTES_MAX);
}

static void test_interrupt(void **state)
{
    fixture *f = *state;
    gw_error err;
    int64_t id[4];
    const char *machine[4] = {"rig", "rig", "rig2", "rig"};
    for (int i = 0; i < 4; i++) {
        gw_test t;
        gw_test_init(&t);
        snprintf(t.machine_id, sizeof(t.machine_id), "%s", machine[i]);
        assert_int_equal(gw_store_test_begin(f->s, &t, &err), GW_OK);
        id[i] = t.id;
        gw_test_point p[3] = {{0, 0, 0, NAN}, {1, 1, 1, NAN}, {2, 2, 2, NAN}};
        assert_int_equal(gw_store_test_add_points(f->s, t.id, p, (size_t)i, &err), GW_OK);
        if (i == 3) {
            snprintf(t.status, sizeof(t.status), GW_TEST_COMPLETE);
            t.npoints = 3;
            assert_int_equal(gw_store_test_finish(f->s, &t, &err), GW_OK);
        }
    }
    assert_int_equal(gw_store_tests_interrupt(f->s, "rig", "gateway restarted", &err), 2);
    gw_test got;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(gw_store_test_get(f->s, id[i], &got, &err), GW_OK);
        assert_string_equal(got.status, GW_TEST_INTERRUPTED);
        assert_string_equal(got.reason, "gateway restarted");
        assert_int_equal(strlen(got.finished_at), 24);
        assert_int_equal(got.npoints, i); /* the points it has */
    }
    assert_int_equal(gw_store_test_get(f->s, id[2], &got, &err), GW_OK);
    assert_string_equal(got.status, GW_TEST_RUNNING); /* another machine */
    assert_string_equal(got.finished_at, "");
    assert_int_equal(gw_store_test_get(f->s, id[3], &got, &err), GW_OK);
    assert_string_equal(got.status, GW_TEST_COMPLETE); /* not running */
    assert_string_equal(got.reason, "");
    assert_int_equal(gw_store_tests_interrupt(f->s, "rig", "again", &err), 0);
    assert_int_equal(gw_store_tests_interrupt(f->s, NULL, "shutdown", &err), 1);
    assert_int_equal(gw_store_test_get(f->s, id[2], &got, &err), GW_OK);
    assert_string_equal(got.status, GW_TEST_INTERRUPTED);
    assert_string_equal(got.reason, "shutdown");
    assert_int_equal(got.npoints, 2);
    assert_int_equal(gw_store_tests_interrupt(f->s, NULL, "none left", &err), 0);
    char big[GW_TEST_REASON_MAX + 2];
    memset(big, 'r', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(gw_store_tests_interrupt(f->s, NULL, big, &err), -1);
    assert_int_equal(err.code, GW_E_INVAL);
}

/* -------------------------------------------------------------- points */

static void test_points(void **state)
{
    fixture *f = *state;
    gw_error err;
    gw_test t = full_test();
    assert_int_equal(gw_store_test_begin(f->s, &t, &err), GW_OK);
    /* out of order across and within batches: read back in time order */
    gw_test_point b1[] = {{0.5, 5, 0.5, 1}, {0.1, 1, 0.1, 1}};
    gw_test_point b2[] = {{0.3, 3, 0.3, 1}, {0.0, 0, 0, 1}, {0.3, 3.5, 0.35, 1}};
    assert_int_equal(gw_store_test_add_points(f->s, t.id, b1, 2, &err), GW_OK);
    assert_int_equal(gw_store_test_add_points(f->s, t.id, b2, 3, &err), GW_OK);
    assert_int_equal(gw_store_test_add_points(f->s, t.id, NULL, 0, &err), GW_OK);
    points ps = {0};
    assert_int_equal(gw_store_test_points(f->s, t.id, on_point, &ps, &err), GW_OK);
    assert_int_equal(ps.n, 5);
    static const double want_t[] = {0.0, 0.1, 0.3, 0.3, 0.5};
    static const double want_f[] = {0, 1, 3, 3.5, 5}; /* equal times: as stored */
    for (size_t i = 0; i < 5; i++) {
        assert_num(ps.p[i].t_s, want_t[i]);
        assert_num(ps.p[i].force_kN, want_f[i]);
    }
    /* no such test: nothing stored */
    assert_int_equal(gw_store_test_add_points(f->s, 999, b1, 2, &err), GW_E_NOT_FOUND);
    assert_int_equal(gw_store_test_points(f->s, 999, on_point, &ps, &err), GW_E_NOT_FOUND);
    char out[32];
    query(f->path, "SELECT count(*) FROM test_data_points", out, sizeof(out));
    assert_string_equal(out, "5");
    /* a point without a time */
    gw_test_point bad[] = {{1, 1, 1, 1}, {NAN, 1, 1, 1}};
    assert_int_equal(gw_store_test_add_points(f->s, t.id, bad, 2, &err), GW_E_INVAL);
    /* a failure in the middle of a batch: none of it stays */
    exec(f->path, "CREATE TRIGGER boom BEFORE INSERT ON test_data_points WHEN NEW.force = 666 "
                  "BEGIN SELECT RAISE(ABORT, 'boom'); END;");
    gw_test_point mid[] = {{1, 1, 1, 1}, {2, 666, 2, 1}, {3, 3, 3, 1}};
    assert_int_equal(gw_store_test_add_points(f->s, t.id, mid, 3, &err), GW_E_STORE);
    assert_non_null(strstr(err.msg, "boom"));
    query(f->path, "SELECT count(*) FROM test_data_points", out, sizeof(out));
    assert_string_equal(out, "5");
    gw_test got;
    assert_int_equal(gw_store_test_get(f->s, t.id, &got, &err), GW_OK);
    assert_int_equal(got.npoints, 5);
    /* and the next batch goes in */
    mid[1].force_kN = 2;
    assert_int_equal(gw_store_test_add_points(f->s, t.id, mid, 3, &err), GW_OK);
    query(f->path, "SELECT count(*) FROM test_data_points", out, sizeof(out));
    assert_string_equal(out, "8");
}

/* A read's callback writes on the other connection and reads again. */
typedef struct {
    gw_store *s;
    int64_t test_id;
    size_t seen;
    gw_err write_rc;
} reentry;

static void write_while_reading(void *ud, const gw_test_point *p)
{
    reentry *r = ud;
    (void)p;
    if (r->seen++ > 0)
        return;
    gw_test_point more[100];
    for (int i = 0; i < 100; i++)
        more[i] = (gw_test_point){100 + i, 1, 1, NAN};
    gw_error err;
    r->write_rc = gw_store_test_add_points(r->s, r->test_id, more, 100, &err);
    if (r->write_rc != GW_OK)
        fprintf(stderr, "%s\n", err.msg);
}

static void read_while_listing(void *ud, const gw_test *t)
{
    reentry *r = ud;
    gw_test again;
    gw_error err;
    r->write_rc = gw_store_test_get(r->s, t->id, &again, &err);
    r->seen++;
}

static void test_read_does_not_block_write(void **state)
{
    fixture *f = *state;
    gw_error err;
    gw_test t = full_test();
    assert_int_equal(gw_store_test_begin(f->s, &t, &err), GW_OK);
    gw_test_point p[50];
    for (int i = 0; i < 50; i++)
        p[i] = (gw_test_point){i, i, i, i};
    assert_int_equal(gw_store_test_add_points(f->s, t.id, p, 50, &err), GW_OK);
    reentry r = {f->s, t.id, 0, GW_E_INVAL};
    assert_int_equal(gw_store_test_points(f->s, t.id, write_while_reading, &r, &err), GW_OK);
    assert_int_equal(r.write_rc, GW_OK);
    assert_int_equal(r.seen, 50); /* the reader kept its snapshot */
    gw_test got;
    assert_int_equal(gw_store_test_get(f->s, t.id, &got, &err), GW_OK);
    assert_int_equal(got.npoints, 150); /* a new read sees the write */
    /* a listing's callback may read again (the read connection's lock is
     * taken again by the same thread) */
    r = (reentry){f->s, 0, 0, GW_E_INVAL};
    gw_test_filter q = any();
    assert_int_equal(gw_store_test_list(f->s, &q, 0, 0, NULL, read_while_listing, &r, &err),
                     GW_OK);
    assert_int_equal(r.seen, 1);
    assert_int_equal(r.write_rc, GW_OK);
}

/* -------------------------------------------------------------- alarms */

typedef struct {
    size_t n;
    gw_alarm a[16];
} alarms;

static void on_alarm(void *ud, const gw_alarm *a)
{
    alarms *l = ud;
    assert_true(l->n < sizeof(l->a) / sizeof(l->a[0]));
    l->a[l->n++] = *a;
}

static size_t alarm_list(gw_store *s, const char *machine, bool active, size_t offset,
                         size_t limit, alarms *out)
{
    gw_error err;
    size_t total = 12345;
    memset(out, 0, sizeof(*out));
    assert_int_equal(gw_store_alarm_list(s, machine, active, offset, limit, &total, on_alarm, out,
                                         &err), GW_OK);
    return total;
}

static void test_alarms(void **state)
{
    fixture *f = *state;
    gw_error err;
    gw_alarm a;
    int64_t id[4];
    const char *machine[4] = {"rig", "rig2", "rig", "rig"};
    for (int i = 0; i < 4; i++) {
        memset(&a, 0, sizeof(a));
        snprintf(a.machine_id, sizeof(a.machine_id), "%s", machine[i]);
        a.code = i + 1;
        snprintf(a.name, sizeof(a.name), "servo_error");
        snprintf(a.message, sizeof(a.message), "alarm %d", i);
        if (i < 3)
            snprintf(a.timestamp, sizeof(a.timestamp), "2026-12-07T10:00:0%d.000Z", i);
        a.test_id = i == 1 ? 42 : 0;
        assert_int_equal(gw_store_alarm_add(f->s, &a, &err), GW_OK);
        assert_true(a.id > 0);
        id[i] = a.id;
    }
    assert_int_equal(strlen(a.timestamp), 24); /* now, when not given */
    memset(&a, 0, sizeof(a));
    assert_int_equal(gw_store_alarm_add(f->s, &a, &err), GW_E_INVAL); /* no machine */
    alarms l;
    assert_int_equal(alarm_list(f->s, NULL, false, 0, 0, &l), 4);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.a[0].id, id[3]); /* newest first */
    assert_int_equal(l.a[3].id, id[0]);
    assert_int_equal(l.a[2].test_id, 42);
    assert_int_equal(l.a[2].code, 2);
    assert_string_equal(l.a[2].name, "servo_error");
    assert_string_equal(l.a[2].message, "alarm 1");
    assert_string_equal(l.a[2].machine_id, "rig2");
    assert_string_equal(l.a[2].timestamp, "2026-12-07T10:00:01.000Z");
    assert_false(l.a[2].acknowledged);
    assert_string_equal(l.a[2].ack_by, "");
    assert_int_equal(l.a[3].test_id, 0);
    assert_int_equal(alarm_list(f->s, "rig", false, 0, 0, &l), 3);
    assert_int_equal(alarm_list(f->s, "rig", false, 1, 1, &l), 3);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.a[0].id, id[2]);
    /* acknowledge */
    gw_alarm out;
    assert_int_equal(gw_store_alarm_ack(f->s, id[2], "ann", &out, &err), GW_OK);
    assert_true(out.acknowledged);
    assert_string_equal(out.ack_by, "ann");
    assert_int_equal(strlen(out.ack_timestamp), 24);
    assert_int_equal(out.id, id[2]);
    assert_string_equal(out.message, "alarm 2");
    char first_ack[32];
    snprintf(first_ack, sizeof(first_ack), "%s", out.ack_timestamp);
    assert_int_equal(gw_store_alarm_ack(f->s, id[2], "bob", &out, &err), GW_E_INVAL);
    assert_non_null(strstr(err.msg, "acknowledged already"));
    assert_string_equal(out.ack_by, "ann"); /* the first one stands, and out is filled */
    assert_string_equal(out.ack_timestamp, first_ack);
    assert_int_equal(gw_store_alarm_ack(f->s, 999, "ann", &out, &err), GW_E_NOT_FOUND);
    assert_int_equal(out.id, 0);
    assert_int_equal(gw_store_alarm_ack(f->s, id[0], "ann", NULL, &err), GW_OK);
    /* active only */
    assert_int_equal(alarm_list(f->s, NULL, true, 0, 0, &l), 2);
    assert_int_equal(l.a[0].id, id[3]);
    assert_int_equal(l.a[1].id, id[1]);
    assert_int_equal(alarm_list(f->s, "rig", true, 0, 0, &l), 1);
    assert_int_equal(l.a[0].id, id[3]);
    assert_int_equal(alarm_list(f->s, NULL, true, 1, 5, &l), 2);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.a[0].id, id[1]);
    assert_int_equal(alarm_list(f->s, NULL, false, 0, 0, &l), 4);
    assert_true(l.a[1].acknowledged && l.a[3].acknowledged);
}

/* ------------------------------------------------------- series, file */

static void test_series(void **state)
{
    fixture *f = *state;
    gw_error err;
    int64_t a, b, c;
    assert_int_equal(gw_store_series_new(f->s, &a, &err), GW_OK);
    assert_int_equal(gw_store_series_new(f->s, &b, &err), GW_OK);
    assert_true(a >= 1);
    assert_true(b > a); /* distinct before any test uses them */
    /* an id in use (given by hand) is never handed out again */
    gw_test t = full_test();
    t.series_id = 100;
    assert_int_equal(gw_store_test_begin(f->s, &t, &err), GW_OK);
    assert_int_equal(gw_store_series_new(f->s, &c, &err), GW_OK);
    assert_int_equal(c, 101);
    /* and it lasts */
    gw_store_close(f->s);
    assert_int_equal(gw_store_open(f->path, &f->s, &err), GW_OK);
    assert_int_equal(gw_store_series_new(f->s, &a, &err), GW_OK);
    assert_int_equal(a, 102);
}

static void test_integrity(void **state)
{
    fixture *f = *state;
    char why[128] = "x";
    assert_true(gw_store_integrity_ok(f->s, why, sizeof(why)));
    assert_string_equal(why, "ok");
    assert_true(gw_store_integrity_ok(f->s, NULL, 0));
}

/* An in-memory database has one connection: reads share it. */
static void test_in_memory(void **state)
{
    (void)state;
    gw_store *s;
    gw_error err;
    assert_int_equal(gw_store_open(":memory:", &s, &err), GW_OK);
    gw_test t = full_test(), got;
    assert_int_equal(gw_store_test_begin(s, &t, &err), GW_OK);
    gw_test_point p = {0, 1, 2, 3};
    assert_int_equal(gw_store_test_add_points(s, t.id, &p, 1, &err), GW_OK);
    assert_int_equal(gw_store_test_get(s, t.id, &got, &err), GW_OK);
    assert_int_equal(got.npoints, 1);
    ids l;
    gw_test_filter q = any();
    assert_int_equal(list(s, &q, 0, 0, &l), 1);
    assert_true(gw_store_integrity_ok(s, NULL, 0));
    gw_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrate_v1, setup_path, teardown),
        cmocka_unit_test(test_init),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknowns_are_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_points, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_does_not_block_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alarms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_series, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integrity, setup, teardown),
        cmocka_unit_test(test_in_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
