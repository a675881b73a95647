/*
 * history.c - the ring-stiffness rig's history (history.h): tests, their
 * recorded points, series and alarms.
 *
 * Writes go through the store's read-write connection under its lock. The
 * recorder's hot path, gw_store_test_add_points, is one BEGIN IMMEDIATE,
 * statements kept prepared for the process's life, and one COMMIT a batch:
 * never a sync per point (WAL, synchronous=NORMAL), and a failure anywhere
 * in the batch rolls all of it back.
 *
 * Reads use the read-only connection (store_internal.h), each in one read
 * transaction, so that a listing and its count, or a test and its points,
 * agree, and a report that reads for seconds never holds up the recorder
 * (in WAL a reader keeps its snapshot while the writer commits).
 *
 * Unknowns: NAN <-> NULL, tri-states -1 <-> NULL, ids and nominal_sn 0 <->
 * NULL, texts "" <-> NULL. Values from callers are always bound
 * parameters; SQL text is assembled from constant fragments only.
 */
#include "history.h"
#include "store_internal.h"

#include <limits.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

static gw_err db_fail(sqlite3 *db, gw_error *err, const char *what)
{
    return gw_error_set(err, GW_E_STORE, "database: %s: %s", what, sqlite3_errmsg(db));
}

static void now_text(char *buf, size_t size)
{
    gw_time_iso8601(gw_wall_ms(), buf, size);
}

/* The connection for a read, locked; reader_done unlocks it. */
static sqlite3 *reader(gw_store *s)
{
    if (s->rd) {
        pthread_mutex_lock(&s->rlock);
        return s->rd;
    }
    pthread_mutex_lock(&s->lock);
    return s->db;
}

static void reader_done(gw_store *s)
{
    pthread_mutex_unlock(s->rd ? &s->rlock : &s->lock);
}

/* Opens a read transaction unless one is open already (a callback reading
 * again inside a listing); true when this call opened it. */
static bool read_begin(sqlite3 *db)
{
    return sqlite3_get_autocommit(db) && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
}

static void read_end(sqlite3 *db, bool began)
{
    if (began && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* true when s (NULL: absent) is longer than max bytes */
static bool too_long(const char *s, size_t max)
{
    return s && strnlen(s, max + 1) > max;
}

static bool empty(const char *s)
{
    return !s || !s[0];
}

static void bind_num(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

/* A tri-state boolean: -1 NULL, else 0 or 1. */
static void bind_tri(sqlite3_stmt *st, int i, int v)
{
    if (v < 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int(st, i, v != 0);
}

/* An integer whose unknown is -1 (an SN class). */
static void bind_class(sqlite3_stmt *st, int i, int v)
{
    if (v < 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int(st, i, v);
}

/* An id whose "none" is 0. */
static void bind_id(sqlite3_stmt *st, int i, int64_t v)
{
    if (v <= 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

/* A text: NULL or "" is NULL. */
static void bind_str(sqlite3_stmt *st, int i, const char *v)
{
    if (empty(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* A struct's char array: never read past its size. */
static void bind_field(sqlite3_stmt *st, int i, const char *v, size_t size)
{
    size_t n = strnlen(v, size);
    if (n == 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, v, (int)n, SQLITE_STATIC);
}

static double col_num(sqlite3_stmt *st, int c)
{
    return sqlite3_column_type(st, c) == SQLITE_NULL ? NAN : sqlite3_column_double(st, c);
}

/* A tri-state or a class: NULL is -1. */
static int col_int(sqlite3_stmt *st, int c)
{
    return sqlite3_column_type(st, c) == SQLITE_NULL ? -1 : sqlite3_column_int(st, c);
}

static void col_str(sqlite3_stmt *st, int c, char *buf, size_t size)
{
    const char *t = (const char *)sqlite3_column_text(st, c);
    snprintf(buf, size, "%s", t ? t : "");
}

/* A statement kept for the process's life (lock held). */
static bool kept(gw_store *s, sqlite3_stmt **cache, const char *sql)
{
    return *cache || sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, cache,
                                        NULL) == SQLITE_OK;
}

/* ---------------------------------------------------- building SQL */

/*
 * A clause built from constant fragments, each with at most one '?', and
 * the values bound to them in order: a WHERE (" WHERE ", " AND ") or a SET
 * ("", ", ").
 */
typedef struct {
    char text[512];
    size_t len;
    bool overflow;
    const char *sep_first, *sep;
    int n;
    struct {
        bool is_text;
        const char *s;  /* is_text: NULL or "" binds NULL */
        int64_t i;
    } arg[10];
} clause;

static void clause_init(clause *c, const char *sep_first, const char *sep)
{
    memset(c, 0, sizeof(*c));
    c->sep_first = sep_first;
    c->sep = sep;
}

/* A fragment without a value ("acknowledged = 0"). */
static void clause_add(clause *c, const char *frag)
{
    int n = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s%s",
                     c->len ? c->sep : c->sep_first, frag);
    if (n < 0 || (size_t)n >= sizeof(c->text) - c->len)
        c->overflow = true;
    else
        c->len += (size_t)n;
}

static void clause_text(clause *c, const char *frag, const char *v)
{
    if (c->n == (int)(sizeof(c->arg) / sizeof(c->arg[0]))) {
        c->overflow = true;
        return;
    }
    clause_add(c, frag);
    c->arg[c->n].is_text = true;
    c->arg[c->n++].s = v;
}

static void clause_int(clause *c, const char *frag, int64_t v)
{
    if (c->n == (int)(sizeof(c->arg) / sizeof(c->arg[0]))) {
        c->overflow = true;
        return;
    }
    clause_add(c, frag);
    c->arg[c->n++].i = v;
}

/* prefix, the clause and suffix, prepared on db with the clause's values
 * bound to parameters 1..n; *next is n + 1. */
static gw_err clause_prepare(sqlite3 *db, const char *prefix, const clause *c,
                             const char *suffix, sqlite3_stmt **st, int *next, gw_error *err)
{
    char sql[1024];
    int len = snprintf(sql, sizeof(sql), "%s%s%s", prefix, c->text, suffix);
    if (c->overflow || len < 0 || (size_t)len >= sizeof(sql))
        return gw_error_set(err, GW_E_STORE, "database: a query of \"%.40s\" is too long", prefix);
    if (sqlite3_prepare_v2(db, sql, len + 1, st, NULL) != SQLITE_OK)
        return db_fail(db, err, "prepare a query");
    for (int i = 0; i < c->n; i++) {
        if (c->arg[i].is_text)
            bind_str(*st, i + 1, c->arg[i].s);
        else
            sqlite3_bind_int64(*st, i + 1, c->arg[i].i);
    }
    *next = c->n + 1;
    return GW_OK;
}

/* count(*) of prefix + where into *total. */
static gw_err clause_count(sqlite3 *db, const char *prefix, const clause *w, size_t *total,
                           gw_error *err)
{
    sqlite3_stmt *st;
    int next;
    gw_err rc = clause_prepare(db, prefix, w, "", &st, &next, err);
    if (rc != GW_OK)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *total = (size_t)sqlite3_column_int64(st, 0);
    else
        rc = db_fail(db, err, "count rows");
    sqlite3_finalize(st);
    return rc;
}

/* LIMIT and OFFSET as parameters next and next + 1 (limit 0: none). */
static void bind_page(sqlite3_stmt *st, int next, size_t offset, size_t limit)
{
    sqlite3_bind_int64(st, next, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
    sqlite3_bind_int64(st, next + 1, offset > INT64_MAX ? INT64_MAX : (int64_t)offset);
}

/*
 * A listing's from/to as text comparable with stored times
 * ("2026-12-07T21:18:58.108Z"): a time given to the day, hour, minute,
 * second or millisecond, with or without the 'Z', is completed to its
 * first (from) or last (to) millisecond, so that to "2026-12-07" takes in
 * the whole day and from "2026-12-07T10:00:00Z" the test at 10:00:00.000.
 * Anything else is compared as it is: checking it is the API's job.
 */
static const char *time_bound(const char *in, bool last, char *buf, size_t size)
{
    static const char first_ms[] = "0000-01-01T00:00:00.000Z";
    static const char last_ms[] = "9999-12-31T23:59:59.999Z";
    size_t n = strlen(in);
    if (n > 10 && in[n - 1] == 'Z')
        n--;
    if (n != 10 && n != 13 && n != 16 && n != 19 && n != 23)
        return in;
    int len = snprintf(buf, size, "%.*s%s", (int)n, in, (last ? last_ms : first_ms) + n);
    return len < 0 || (size_t)len >= size ? in : buf;
}

/* -------------------------------------------------------------- tests */

void gw_test_init(gw_test *t)
{
    memset(t, 0, sizeof(*t));
    t->pipe_diameter = t->pipe_length = t->deflection_percent = NAN;
    t->test_speed = t->max_stroke = t->max_force = NAN;
    t->force_at_target = t->ring_stiffness = NAN;
    t->wall_thickness = t->diameter_calc = t->target_deflection = NAN;
    t->force_at_target_calc = t->ring_stiffness_calc = NAN;
    t->sn_class = t->plc_passed = t->sn_class_calc = t->passed = t->mismatch = -1;
}

/* The columns test_from_row reads, in its order. */
#define TEST_COLUMNS                                                                          \
    "id, machine_id, sample_id, operator, notes, test_date, finished_at, status, reason, "   \
    "series_id, nominal_sn, pipe_diameter, pipe_length, deflection_percent, test_speed, "     \
    "max_stroke, max_force, force_at_target, ring_stiffness, sn_class, plc_passed, method, "  \
    "wall_thickness, diameter_calc, target_deflection, force_at_target_calc, "                \
    "ring_stiffness_calc, sn_class_calc, passed, mismatch, npoints, points_sha256"

static void test_from_row(sqlite3_stmt *st, gw_test *t)
{
    gw_test_init(t);
    t->id = sqlite3_column_int64(st, 0);
    col_str(st, 1, t->machine_id, sizeof(t->machine_id));
    col_str(st, 2, t->sample_id, sizeof(t->sample_id));
    col_str(st, 3, t->operator_name, sizeof(t->operator_name));
    col_str(st, 4, t->notes, sizeof(t->notes));
    col_str(st, 5, t->test_date, sizeof(t->test_date));
    col_str(st, 6, t->finished_at, sizeof(t->finished_at));
    col_str(st, 7, t->status, sizeof(t->status));
    col_str(st, 8, t->reason, sizeof(t->reason));
    t->series_id = sqlite3_column_int64(st, 9);
    int64_t sn = sqlite3_column_int64(st, 10);
    t->nominal_sn = sn > 0 && sn <= UINT_MAX ? (unsigned)sn : 0;
    t->pipe_diameter = col_num(st, 11);
    t->pipe_length = col_num(st, 12);
    t->deflection_percent = col_num(st, 13);
    t->test_speed = col_num(st, 14);
    t->max_stroke = col_num(st, 15);
    t->max_force = col_num(st, 16);
    t->force_at_target = col_num(st, 17);
    t->ring_stiffness = col_num(st, 18);
    t->sn_class = col_int(st, 19);
    t->plc_passed = col_int(st, 20);
    col_str(st, 21, t->method, sizeof(t->method));
    t->wall_thickness = col_num(st, 22);
    t->diameter_calc = col_num(st, 23);
    t->target_deflection = col_num(st, 24);
    t->force_at_target_calc = col_num(st, 25);
    t->ring_stiffness_calc = col_num(st, 26);
    t->sn_class_calc = col_int(st, 27);
    t->passed = col_int(st, 28);
    t->mismatch = col_int(st, 29);
    t->npoints = sqlite3_column_int64(st, 30);
    col_str(st, 31, t->points_sha256, sizeof(t->points_sha256));
}

/* What people type in: sample id, operator, notes (NULL: not given). */
static gw_err check_texts(const char *sample_id, const char *operator_name, const char *notes,
                          gw_error *err)
{
    if (too_long(sample_id, GW_TEST_SAMPLE_MAX))
        return gw_error_set(err, GW_E_INVAL, "sample_id: at most %d bytes", GW_TEST_SAMPLE_MAX);
    if (too_long(operator_name, GW_TEST_OPERATOR_MAX))
        return gw_error_set(err, GW_E_INVAL, "operator: at most %d bytes", GW_TEST_OPERATOR_MAX);
    if (too_long(notes, GW_TEST_NOTES_MAX))
        return gw_error_set(err, GW_E_INVAL, "notes: at most %d bytes", GW_TEST_NOTES_MAX);
    return GW_OK;
}

static gw_err check_machine(const char *machine_id, size_t max, gw_error *err)
{
    if (empty(machine_id) || too_long(machine_id, max))
        return gw_error_set(err, GW_E_INVAL, "machine_id: 1 to %zu bytes", max);
    return GW_OK;
}

gw_err gw_store_test_begin(gw_store *s, gw_test *t, gw_error *err)
{
    gw_err rc = check_machine(t->machine_id, sizeof(t->machine_id) - 1, err);
    if (rc == GW_OK)
        rc = check_texts(t->sample_id, t->operator_name, t->notes, err);
    if (rc != GW_OK)
        return rc;
    char now[32];
    now_text(now, sizeof(now));
    if (!t->test_date[0])
        snprintf(t->test_date, sizeof(t->test_date), "%s", now);
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO tests(machine_id, sample_id, operator, notes, "
                           "series_id, nominal_sn, pipe_diameter, pipe_length, "
                           "deflection_percent, test_speed, max_stroke, max_force, test_date, "
                           "created_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                           "?, 'running')", -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(s->db, err, "begin a test");
    } else {
        bind_field(st, 1, t->machine_id, sizeof(t->machine_id));
        bind_field(st, 2, t->sample_id, sizeof(t->sample_id));
        bind_field(st, 3, t->operator_name, sizeof(t->operator_name));
        bind_field(st, 4, t->notes, sizeof(t->notes));
        bind_id(st, 5, t->series_id);
        bind_id(st, 6, t->nominal_sn);
        bind_num(st, 7, t->pipe_diameter);
        bind_num(st, 8, t->pipe_length);
        bind_num(st, 9, t->deflection_percent);
        bind_num(st, 10, t->test_speed);
        bind_num(st, 11, t->max_stroke);
        bind_num(st, 12, t->max_force);
        bind_field(st, 13, t->test_date, sizeof(t->test_date));
        sqlite3_bind_text(st, 14, now, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(s->db, err, "begin a test");
        else
            t->id = sqlite3_last_insert_rowid(s->db);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc == GW_OK)
        snprintf(t->status, sizeof(t->status), "%s", GW_TEST_RUNNING);
    return rc;
}

/* One step of a kept statement, reset after; the error (lock held) is
 * taken before the reset. */
static gw_err step_kept(gw_store *s, sqlite3_stmt *st, const char *what, gw_error *err)
{
    gw_err rc = sqlite3_step(st) == SQLITE_DONE ? GW_OK : db_fail(s->db, err, what);
    sqlite3_reset(st);
    return rc;
}

/* The batch as one transaction (lock held): the test's npoints grows by n,
 * which also tells whether there is such a test, then the points. */
static gw_err append_points(gw_store *s, int64_t test_id, const gw_test_point *p, size_t n,
                            gw_error *err)
{
    if (!kept(s, &s->point_count, "UPDATE tests SET npoints = npoints + ? WHERE id = ?") ||
        !kept(s, &s->point_insert, "INSERT INTO test_data_points(test_id, timestamp, force, "
              "deflection, position) VALUES (?, ?, ?, ?, ?)"))
        return db_fail(s->db, err, "prepare the points' statements");
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(s->db, err, "begin a batch of points");
    sqlite3_bind_int64(s->point_count, 1, (int64_t)n);
    sqlite3_bind_int64(s->point_count, 2, test_id);
    gw_err rc = step_kept(s, s->point_count, "count the points", err);
    if (rc == GW_OK && sqlite3_changes(s->db) != 1)
        rc = gw_error_set(err, GW_E_NOT_FOUND, "no test %lld to add points to",
                          (long long)test_id);
    sqlite3_stmt *st = s->point_insert;
    for (size_t i = 0; rc == GW_OK && i < n; i++) {
        sqlite3_bind_int64(st, 1, test_id);
        sqlite3_bind_double(st, 2, p[i].t_s);
        bind_num(st, 3, p[i].force_kN);
        bind_num(st, 4, p[i].deflection_mm);
        bind_num(st, 5, p[i].position_mm);
        rc = step_kept(s, st, "store a point", err);
    }
    if (rc == GW_OK && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(s->db, err, "commit a batch of points");
    if (rc != GW_OK && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

gw_err gw_store_test_add_points(gw_store *s, int64_t test_id, const gw_test_point *p,
                                size_t n, gw_error *err)
{
    if (n == 0)
        return GW_OK;
    if (!p)
        return gw_error_set(err, GW_E_INVAL, "no points given");
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i].t_s))
            return gw_error_set(err, GW_E_INVAL, "point %zu of test %lld has no time", i,
                                (long long)test_id);
    pthread_mutex_lock(&s->lock);
    gw_err rc = append_points(s, test_id, p, n, err);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static bool end_status(const char *status, size_t size)
{
    static const char *const ends[] = {GW_TEST_COMPLETE, GW_TEST_ABORTED, GW_TEST_INTERRUPTED};
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
        if (strnlen(status, size) == strlen(ends[i]) && strncmp(status, ends[i], size) == 0)
            return true;
    return false;
}

static void bind_finish(sqlite3_stmt *st, const gw_test *t, const char *finished_at)
{
    sqlite3_bind_int64(st, 1, t->id);
    bind_field(st, 2, t->status, sizeof(t->status));
    bind_field(st, 3, t->reason, sizeof(t->reason));
    sqlite3_bind_text(st, 4, finished_at, -1, SQLITE_STATIC);
    bind_num(st, 5, t->force_at_target);
    bind_num(st, 6, t->ring_stiffness);
    bind_class(st, 7, t->sn_class);
    bind_tri(st, 8, t->plc_passed);
    bind_field(st, 9, t->method, sizeof(t->method));
    bind_num(st, 10, t->wall_thickness);
    bind_num(st, 11, t->diameter_calc);
    bind_num(st, 12, t->target_deflection);
    bind_num(st, 13, t->force_at_target_calc);
    bind_num(st, 14, t->ring_stiffness_calc);
    bind_class(st, 15, t->sn_class_calc);
    bind_tri(st, 16, t->passed);
    bind_tri(st, 17, t->mismatch);
    sqlite3_bind_int64(st, 18, t->npoints);
    bind_field(st, 19, t->points_sha256, sizeof(t->points_sha256));
}

gw_err gw_store_test_finish(gw_store *s, const gw_test *t, gw_error *err)
{
    if (!end_status(t->status, sizeof(t->status)))
        return gw_error_set(err, GW_E_INVAL, "a test ends \"%s\", \"%s\" or \"%s\"",
                            GW_TEST_COMPLETE, GW_TEST_ABORTED, GW_TEST_INTERRUPTED);
    if (too_long(t->reason, GW_TEST_REASON_MAX) || t->npoints < 0)
        return gw_error_set(err, GW_E_INVAL, "test %lld: reason over %d bytes or npoints < 0",
                            (long long)t->id, GW_TEST_REASON_MAX);
    char finished[32];
    if (t->finished_at[0])
        snprintf(finished, sizeof(finished), "%.*s", (int)sizeof(t->finished_at),
                 t->finished_at);
    else
        now_text(finished, sizeof(finished));
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    gw_err rc = GW_OK;
    if (sqlite3_prepare_v2(s->db, "UPDATE tests SET status = ?2, reason = ?3, finished_at = ?4, "
                           "force_at_target = ?5, ring_stiffness = ?6, sn_class = ?7, "
                           "plc_passed = ?8, method = ?9, wall_thickness = ?10, "
                           "diameter_calc = ?11, target_deflection = ?12, "
                           "force_at_target_calc = ?13, ring_stiffness_calc = ?14, "
                           "sn_class_calc = ?15, passed = ?16, mismatch = ?17, npoints = ?18, "
                           "points_sha256 = ?19 WHERE id = ?1", -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(s->db, err, "finish a test");
    } else {
        bind_finish(st, t, finished);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(s->db, err, "finish a test");
        else if (sqlite3_changes(s->db) != 1)
            rc = gw_error_set(err, GW_E_NOT_FOUND, "no test %lld", (long long)t->id);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Whether test id exists, on db (its lock held). */
static gw_err test_exists(sqlite3 *db, int64_t id, gw_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM tests WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, "find a test");
    sqlite3_bind_int64(st, 1, id);
    int r = sqlite3_step(st);
    gw_err rc = r == SQLITE_ROW ? GW_OK
              : r == SQLITE_DONE ? gw_error_set(err, GW_E_NOT_FOUND, "no test %lld", (long long)id)
              : db_fail(db, err, "find a test");
    sqlite3_finalize(st);
    return rc;
}

gw_err gw_store_test_update(gw_store *s, int64_t id, const char *sample_id,
                            const char *operator_name, const char *notes, int64_t series_id,
                            gw_error *err)
{
    gw_err rc = check_texts(sample_id, operator_name, notes, err);
    if (rc != GW_OK)
        return rc;
    clause set;
    clause_init(&set, "", ", ");
    if (sample_id)
        clause_text(&set, "sample_id = ?", sample_id);
    if (operator_name)
        clause_text(&set, "operator = ?", operator_name);
    if (notes)
        clause_text(&set, "notes = ?", notes);
    if (series_id > 0)
        clause_int(&set, "series_id = ?", series_id);
    else if (series_id == 0)
        clause_text(&set, "series_id = ?", NULL);
    pthread_mutex_lock(&s->lock);
    if (set.n == 0) {
        rc = test_exists(s->db, id, err);
    } else {
        sqlite3_stmt *st;
        int next;
        rc = clause_prepare(s->db, "UPDATE tests SET ", &set, " WHERE id = ?", &st, &next, err);
        if (rc == GW_OK) {
            sqlite3_bind_int64(st, next, id);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = db_fail(s->db, err, "update a test");
            else if (sqlite3_changes(s->db) != 1)
                rc = gw_error_set(err, GW_E_NOT_FOUND, "no test %lld", (long long)id);
            sqlite3_finalize(st);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

long gw_store_tests_interrupt(gw_store *s, const char *machine_id, const char *reason,
                              gw_error *err)
{
    if (too_long(reason, GW_TEST_REASON_MAX)) {
        gw_error_set(err, GW_E_INVAL, "reason: at most %d bytes", GW_TEST_REASON_MAX);
        return -1;
    }
    char now[32];
    now_text(now, sizeof(now));
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    long n = -1;
    if (sqlite3_prepare_v2(s->db, "UPDATE tests SET status = 'interrupted', reason = ?1, "
                           "finished_at = ?2, npoints = (SELECT count(*) FROM test_data_points "
                           "p WHERE p.test_id = tests.id) WHERE status = 'running' AND "
                           "(?3 IS NULL OR machine_id = ?3)", -1, &st, NULL) != SQLITE_OK) {
        db_fail(s->db, err, "interrupt the running tests");
    } else {
        bind_str(st, 1, reason);
        sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
        if (machine_id)
            sqlite3_bind_text(st, 3, machine_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            db_fail(s->db, err, "interrupt the running tests");
        else
            n = (long)sqlite3_changes(s->db);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

gw_err gw_store_test_get(gw_store *s, int64_t id, gw_test *out, gw_error *err)
{
    gw_test_init(out);
    sqlite3 *db = reader(s);
    sqlite3_stmt *st;
    gw_err rc = GW_OK;
    if (sqlite3_prepare_v2(db, "SELECT " TEST_COLUMNS " FROM tests WHERE id = ?", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = db_fail(db, err, "read a test");
    } else {
        sqlite3_bind_int64(st, 1, id);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW)
            test_from_row(st, out);
        else if (r == SQLITE_DONE)
            rc = gw_error_set(err, GW_E_NOT_FOUND, "no test %lld", (long long)id);
        else
            rc = db_fail(db, err, "read a test");
        sqlite3_finalize(st);
    }
    reader_done(s);
    return rc;
}

/* The WHERE of a listing; from and to are buffers for time_bound. */
static void test_where(clause *w, const gw_test_filter *f, char from[32], char to[32])
{
    clause_init(w, " WHERE ", " AND ");
    if (!f)
        return;
    if (!empty(f->machine_id))
        clause_text(w, "machine_id = ?", f->machine_id);
    if (!empty(f->from))
        clause_text(w, "test_date >= ?", time_bound(f->from, false, from, 32));
    if (!empty(f->to))
        clause_text(w, "test_date <= ?", time_bound(f->to, true, to, 32));
    if (!empty(f->sample_id))
        clause_text(w, "sample_id = ?", f->sample_id);
    if (!empty(f->operator_name))
        clause_text(w, "operator = ?", f->operator_name);
    if (f->passed == 0 || f->passed == 1)
        clause_int(w, "passed = ?", f->passed);
    if (!empty(f->status))
        clause_text(w, "status = ?", f->status);
    if (f->series_id > 0)
        clause_int(w, "series_id = ?", f->series_id);
}

gw_err gw_store_test_list(gw_store *s, const gw_test_filter *f, size_t offset, size_t limit,
                          size_t *total, gw_store_test_fn fn, void *ud, gw_error *err)
{
    if (total)
        *total = 0;
    char from[32], to[32];
    clause w;
    test_where(&w, f, from, to);
    sqlite3 *db = reader(s);
    bool began = read_begin(db);
    gw_err rc = total ? clause_count(db, "SELECT count(*) FROM tests", &w, total, err) : GW_OK;
    sqlite3_stmt *st = NULL;
    int next;
    if (rc == GW_OK)
        rc = clause_prepare(db, "SELECT " TEST_COLUMNS " FROM tests", &w,
                            " ORDER BY test_date DESC, id DESC LIMIT ? OFFSET ?", &st, &next,
                            err);
    if (rc == GW_OK && fn) {
        bind_page(st, next, offset, limit);
        gw_test t;
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            test_from_row(st, &t);
            fn(ud, &t);
        }
        if (r != SQLITE_DONE)
            rc = db_fail(db, err, "list tests");
    }
    sqlite3_finalize(st);
    read_end(db, began);
    reader_done(s);
    return rc;
}

gw_err gw_store_test_points(gw_store *s, int64_t test_id, gw_store_point_fn fn, void *ud,
                            gw_error *err)
{
    sqlite3 *db = reader(s);
    bool began = read_begin(db);
    gw_err rc = test_exists(db, test_id, err);
    sqlite3_stmt *st = NULL;
    if (rc == GW_OK && sqlite3_prepare_v2(db, "SELECT timestamp, force, deflection, position "
                                          "FROM test_data_points WHERE test_id = ? ORDER BY "
                                          "timestamp, id", -1, &st, NULL) != SQLITE_OK)
        rc = db_fail(db, err, "read a test's points");
    if (rc == GW_OK) {
        sqlite3_bind_int64(st, 1, test_id);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            gw_test_point p = {col_num(st, 0), col_num(st, 1), col_num(st, 2), col_num(st, 3)};
            fn(ud, &p);
        }
        if (r != SQLITE_DONE)
            rc = db_fail(db, err, "read a test's points");
    }
    sqlite3_finalize(st);
    read_end(db, began);
    reader_done(s);
    return rc;
}

gw_err gw_store_series_new(gw_store *s, int64_t *id, gw_error *err)
{
    *id = 0;
    char now[32];
    now_text(now, sizeof(now));
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    gw_err rc = GW_OK;
    /* past every id handed out and every id in use (one set by hand too) */
    if (sqlite3_prepare_v2(s->db, "INSERT INTO series(id, created_at) VALUES (max(coalesce(("
                           "SELECT max(id) FROM series), 0), coalesce((SELECT max(series_id) "
                           "FROM tests), 0)) + 1, ?)", -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(s->db, err, "new series");
    } else {
        sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(s->db, err, "new series");
        else
            *id = sqlite3_last_insert_rowid(s->db);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ------------------------------------------------------------- alarms */

#define ALARM_COLUMNS                                                                         \
    "id, machine_id, alarm_code, name, message, timestamp, acknowledged, ack_timestamp, "    \
    "ack_by, test_id"

static void alarm_from_row(sqlite3_stmt *st, gw_alarm *a)
{
    memset(a, 0, sizeof(*a));
    a->id = sqlite3_column_int64(st, 0);
    col_str(st, 1, a->machine_id, sizeof(a->machine_id));
    a->code = sqlite3_column_int(st, 2);
    col_str(st, 3, a->name, sizeof(a->name));
    col_str(st, 4, a->message, sizeof(a->message));
    col_str(st, 5, a->timestamp, sizeof(a->timestamp));
    a->acknowledged = sqlite3_column_int(st, 6) != 0;
    col_str(st, 7, a->ack_timestamp, sizeof(a->ack_timestamp));
    col_str(st, 8, a->ack_by, sizeof(a->ack_by));
    a->test_id = sqlite3_column_int64(st, 9);
}

gw_err gw_store_alarm_add(gw_store *s, gw_alarm *a, gw_error *err)
{
    gw_err rc = check_machine(a->machine_id, sizeof(a->machine_id) - 1, err);
    if (rc != GW_OK)
        return rc;
    if (!a->timestamp[0])
        now_text(a->timestamp, sizeof(a->timestamp));
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO alarms(machine_id, alarm_code, name, message, "
                           "timestamp, acknowledged, test_id) VALUES (?, ?, ?, ?, ?, 0, ?)", -1,
                           &st, NULL) != SQLITE_OK) {
        rc = db_fail(s->db, err, "add an alarm");
    } else {
        bind_field(st, 1, a->machine_id, sizeof(a->machine_id));
        sqlite3_bind_int(st, 2, a->code);
        bind_field(st, 3, a->name, sizeof(a->name));
        bind_field(st, 4, a->message, sizeof(a->message));
        bind_field(st, 5, a->timestamp, sizeof(a->timestamp));
        bind_id(st, 6, a->test_id);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(s->db, err, "add an alarm");
        else
            a->id = sqlite3_last_insert_rowid(s->db);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

gw_err gw_store_alarm_list(gw_store *s, const char *machine_id, bool active_only,
                           size_t offset, size_t limit, size_t *total, gw_store_alarm_fn fn,
                           void *ud, gw_error *err)
{
    if (total)
        *total = 0;
    clause w;
    clause_init(&w, " WHERE ", " AND ");
    if (!empty(machine_id))
        clause_text(&w, "machine_id = ?", machine_id);
    if (active_only)
        clause_add(&w, "acknowledged = 0");
    sqlite3 *db = reader(s);
    bool began = read_begin(db);
    gw_err rc = total ? clause_count(db, "SELECT count(*) FROM alarms", &w, total, err) : GW_OK;
    sqlite3_stmt *st = NULL;
    int next;
    if (rc == GW_OK)
        rc = clause_prepare(db, "SELECT " ALARM_COLUMNS " FROM alarms", &w,
                            " ORDER BY timestamp DESC, id DESC LIMIT ? OFFSET ?", &st, &next,
                            err);
    if (rc == GW_OK && fn) {
        bind_page(st, next, offset, limit);
        gw_alarm a;
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            alarm_from_row(st, &a);
            fn(ud, &a);
        }
        if (r != SQLITE_DONE)
            rc = db_fail(db, err, "list alarms");
    }
    sqlite3_finalize(st);
    read_end(db, began);
    reader_done(s);
    return rc;
}

/* Alarm id into *a (lock held): GW_E_NOT_FOUND when there is none. */
static gw_err alarm_read(gw_store *s, int64_t id, gw_alarm *a, gw_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT " ALARM_COLUMNS " FROM alarms WHERE id = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return db_fail(s->db, err, "read an alarm");
    sqlite3_bind_int64(st, 1, id);
    int r = sqlite3_step(st);
    gw_err rc = GW_OK;
    if (r == SQLITE_ROW)
        alarm_from_row(st, a);
    else if (r == SQLITE_DONE)
        rc = gw_error_set(err, GW_E_NOT_FOUND, "no alarm %lld", (long long)id);
    else
        rc = db_fail(s->db, err, "read an alarm");
    sqlite3_finalize(st);
    return rc;
}

gw_err gw_store_alarm_get(gw_store *s, int64_t id, gw_alarm *out, gw_error *err)
{
    pthread_mutex_lock(&s->lock);
    gw_err rc = alarm_read(s, id, out, err);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

gw_err gw_store_alarm_ack(gw_store *s, int64_t id, const char *by, gw_alarm *out,
                          gw_error *err)
{
    gw_alarm a;
    memset(&a, 0, sizeof(a));
    if (out)
        *out = a;
    if (too_long(by, GW_USER_NAME_MAX))
        return gw_error_set(err, GW_E_INVAL, "user name: at most %d bytes", GW_USER_NAME_MAX);
    char now[32];
    now_text(now, sizeof(now));
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st;
    gw_err rc = GW_OK;
    int changed = 0;
    /* only an unacknowledged one: the first acknowledgement stands */
    if (sqlite3_prepare_v2(s->db, "UPDATE alarms SET acknowledged = 1, ack_timestamp = ?, "
                           "ack_by = ? WHERE id = ? AND acknowledged = 0", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = db_fail(s->db, err, "acknowledge an alarm");
    } else {
        sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
        bind_str(st, 2, by);
        sqlite3_bind_int64(st, 3, id);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(s->db, err, "acknowledge an alarm");
        else
            changed = sqlite3_changes(s->db);
        sqlite3_finalize(st);
    }
    if (rc == GW_OK)
        rc = alarm_read(s, id, &a, err);
    pthread_mutex_unlock(&s->lock);
    if (rc == GW_OK && changed != 1)
        rc = gw_error_set(err, GW_E_INVAL, "alarm %lld was acknowledged already (by %s at %s)",
                          (long long)id, a.ack_by[0] ? a.ack_by : "?", a.ack_timestamp);
    if (out && (rc == GW_OK || rc == GW_E_INVAL))
        *out = a;
    return rc;
}

/* -------------------------------------------------------------- file */

bool gw_store_integrity_ok(gw_store *s, char *why, size_t size)
{
    char text[256] = "";
    bool ok = false;
    sqlite3 *db = reader(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
        snprintf(text, sizeof(text), "integrity_check: %s", sqlite3_errmsg(db));
    } else {
        long rows = 0;
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW)
            if (rows++ == 0)
                col_str(st, 0, text, sizeof(text));
        ok = r == SQLITE_DONE && rows == 1 && strcmp(text, "ok") == 0;
        if (r != SQLITE_DONE)
            snprintf(text, sizeof(text), "integrity_check: %s", sqlite3_errmsg(db));
        else if (rows > 1)
            snprintf(text + strlen(text), sizeof(text) - strlen(text), " (and %ld more)",
                     rows - 1);
    }
    sqlite3_finalize(st);
    reader_done(s);
    if (why && size)
        snprintf(why, size, "%s", text);
    return ok;
}

void store__history_close(gw_store *s)
{
    sqlite3_finalize(s->point_insert);
    sqlite3_finalize(s->point_count);
    s->point_insert = s->point_count = NULL;
}
