/*
 * history.c - the rig's history on the API: tests (list, one, PATCH, its
 * points as CSV), series, alarms (list, acknowledge), reports (PDF, XLSX).
 *
 * At the specification's paths (/api/tests, /api/report/pdf/{id}, ...) they cover
 * every machine's history; under /api/machines/{id}/ one machine's.
 * Documents are made as they are sent (gw_app_http's stream), from the
 * database's read connection, never holding up the recording.
 */
#include "rig_app.h"
#include "report/report.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_PAGE_DEFAULT 50
#define PER_PAGE_MAX 1000
#define EXPORT_MAX_TESTS 100000

/* ---------------------------------------------------------------- JSON */

static json_t *num(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static json_t *tri(int v)
{
    return v < 0 ? json_null() : json_boolean(v);
}

static json_t *text(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

json_t *rs_test_json(const gw_test *t)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_integer(t->id));
    json_object_set_new(o, "machine_id", json_string(t->machine_id));
    json_object_set_new(o, "sample_id", text(t->sample_id));
    json_object_set_new(o, "operator", text(t->operator_name));
    json_object_set_new(o, "notes", text(t->notes));
    json_object_set_new(o, "test_date", text(t->test_date));
    json_object_set_new(o, "finished_at", text(t->finished_at));
    json_object_set_new(o, "status", json_string(t->status));
    json_object_set_new(o, "reason", text(t->reason));
    json_object_set_new(o, "series_id", t->series_id ? json_integer(t->series_id) : json_null());
    json_object_set_new(o, "nominal_sn", t->nominal_sn ? json_integer(t->nominal_sn) : json_null());
    json_object_set_new(o, "pipe_diameter", num(t->pipe_diameter));
    json_object_set_new(o, "pipe_length", num(t->pipe_length));
    json_object_set_new(o, "deflection_percent", num(t->deflection_percent));
    json_object_set_new(o, "test_speed", num(t->test_speed));
    json_object_set_new(o, "max_stroke", num(t->max_stroke));
    json_object_set_new(o, "max_force", num(t->max_force));
    json_object_set_new(o, "force_at_target", num(t->force_at_target));
    json_object_set_new(o, "ring_stiffness", num(t->ring_stiffness));
    json_object_set_new(o, "sn_class", t->sn_class < 0 ? json_null() : json_integer(t->sn_class));
    json_object_set_new(o, "plc_passed", tri(t->plc_passed));
    json_object_set_new(o, "method", text(t->method));
    json_object_set_new(o, "wall_thickness", num(t->wall_thickness));
    json_object_set_new(o, "diameter_calc", num(t->diameter_calc));
    json_object_set_new(o, "target_deflection", num(t->target_deflection));
    json_object_set_new(o, "force_at_target_calc", num(t->force_at_target_calc));
    json_object_set_new(o, "ring_stiffness_calc", num(t->ring_stiffness_calc));
    json_object_set_new(o, "sn_class_calc",
                        t->sn_class_calc < 0 ? json_null() : json_integer(t->sn_class_calc));
    json_object_set_new(o, "passed", tri(t->passed));
    json_object_set_new(o, "mismatch", tri(t->mismatch));
    json_object_set_new(o, "npoints", json_integer(t->npoints));
    json_object_set_new(o, "points_sha256", text(t->points_sha256));
    return o;
}

static json_t *alarm_json(const gw_alarm *a)
{
    return json_pack("{s:I, s:s, s:i, s:s, s:s, s:s, s:b, s:o, s:o, s:o}", "id",
                     (json_int_t)a->id, "machine_id", a->machine_id, "code", a->code, "name",
                     a->name, "message", a->message, "timestamp", a->timestamp, "acknowledged",
                     a->acknowledged, "ack_timestamp", text(a->ack_timestamp), "ack_by",
                     text(a->ack_by), "test_id",
                     a->test_id ? json_integer(a->test_id) : json_null());
}

/* ---------------------------------------------------------------- requests */

/* The machine of a /api/machines/{id}/ route (a rig), or NULL for the
 * specification's paths (every machine); *status set when answered. */
static bool scope(const gw_app_http *http, gw_app_req *r, const gw_machine_cfg **m,
                  int *status)
{
    *m = NULL;
    *status = 0;
    if (strncmp(http->path(r), "/api/machines/", 14) != 0)
        return true;
    *m = http->machine(r, status);
    if (!*m)
        return false;
    if (strcmp((*m)->profile, "ringstiff") != 0) {
        char d[200];
        snprintf(d, sizeof(d), "machine %s is a %s: it has no test history", (*m)->id,
                 (*m)->profile);
        *status = http->problem(r, 404, "Not Found", d);
        return false;
    }
    return true;
}

/* The route's record id ({test_id}, ...): > 0, else 404 answered. */
static int64_t arg_id(const gw_app_http *http, gw_app_req *r, const char *what, int *status)
{
    const char *a = http->arg(r);
    char *end = NULL;
    long long v = a ? strtoll(a, &end, 10) : 0;
    if (!a || !*a || *end || v <= 0) {
        char d[160];
        snprintf(d, sizeof(d), "no %s \"%s\": ids are positive integers", what, a ? a : "");
        *status = http->problem(r, 404, "Not Found", d);
        return 0;
    }
    return v;
}

static int bad_query(const gw_app_http *http, gw_app_req *r, const char *name, const char *want)
{
    char d[200];
    snprintf(d, sizeof(d), "query parameter \"%s\": %s", name, want);
    return http->problem(r, 422, "Unprocessable Content", d);
}

/* An integer query parameter in [lo, hi]; *v unchanged when absent. */
static bool query_int(const gw_app_http *http, gw_app_req *r, const char *name, long long lo,
                      long long hi, long long *v, int *status)
{
    char buf[32];
    int rc = http->query(r, name, buf, sizeof(buf));
    if (rc == 0)
        return true;
    char *end = NULL;
    long long x = rc == 1 ? strtoll(buf, &end, 10) : 0;
    if (rc != 1 || !buf[0] || *end || x < lo || x > hi) {
        char want[80];
        snprintf(want, sizeof(want), "an integer from %lld to %lld", lo, hi);
        *status = bad_query(http, r, name, want);
        return false;
    }
    *v = x;
    return true;
}

/* true/false; *v unchanged when absent. */
static bool query_bool(const gw_app_http *http, gw_app_req *r, const char *name, int *v,
                       int *status)
{
    char buf[8];
    int rc = http->query(r, name, buf, sizeof(buf));
    if (rc == 0)
        return true;
    if (rc == 1 && (strcmp(buf, "true") == 0 || strcmp(buf, "false") == 0)) {
        *v = buf[0] == 't';
        return true;
    }
    *status = bad_query(http, r, name, "true or false");
    return false;
}

static bool query_text(const gw_app_http *http, gw_app_req *r, const char *name, char *out,
                       size_t size, int *status)
{
    out[0] = '\0';
    int rc = http->query(r, name, out, size);
    if (rc >= 0)
        return true;
    *status = bad_query(http, r, name, rc == -1 ? "too long" : "badly encoded");
    return false;
}

/* YYYY-MM-DD, or with THH:MM[:SS[.fff]][Z] */
static bool iso_time_ok(const char *s)
{
    static const char date[] = "dddd-dd-dd", time_[] = "Tdd:dd";
    size_t n = strlen(s), i;
    for (i = 0; i < 10; i++)
        if (i >= n || (date[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != date[i]))
            return false;
    if (n == 10)
        return true;
    for (; i < 16; i++)
        if (i >= n || (time_[i - 10] == 'd' ? !isdigit((unsigned char)s[i])
                                             : s[i] != time_[i - 10]))
            return false;
    for (; i < n; i++)
        if (!isdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.' &&
            !(s[i] == 'Z' && i == n - 1))
            return false;
    return true;
}

typedef struct {
    char from[40], to[40], sample[GW_TEST_SAMPLE_MAX + 1], op[GW_TEST_OPERATOR_MAX + 1];
    char status[16], machine[GW_MACHINE_ID_MAX + 1];
    gw_test_filter f;
} filters;

/* The filters of /api/tests and /api/report/excel; false when answered. */
static bool read_filters(const gw_app_http *http, gw_app_req *r, const gw_machine_cfg *m,
                         filters *fl, int *status)
{
    memset(fl, 0, sizeof(*fl));
    fl->f.passed = -1;
    long long series = 0;
    if (!query_text(http, r, "from", fl->from, sizeof(fl->from), status) ||
        !query_text(http, r, "to", fl->to, sizeof(fl->to), status) ||
        !query_text(http, r, "sample_id", fl->sample, sizeof(fl->sample), status) ||
        !query_text(http, r, "operator", fl->op, sizeof(fl->op), status) ||
        !query_text(http, r, "status", fl->status, sizeof(fl->status), status) ||
        !query_text(http, r, "machine", fl->machine, sizeof(fl->machine), status) ||
        !query_bool(http, r, "passed", &fl->f.passed, status) ||
        !query_int(http, r, "series_id", 1, INT64_MAX, &series, status))
        return false;
    if (fl->from[0] && !iso_time_ok(fl->from)) {
        *status = bad_query(http, r, "from", "a date (2026-12-07) or a UTC time "
                            "(2026-12-07T08:00:00Z)");
        return false;
    }
    if (fl->to[0] && !iso_time_ok(fl->to)) {
        *status = bad_query(http, r, "to", "a date (2026-12-07) or a UTC time "
                            "(2026-12-07T18:00:00Z)");
        return false;
    }
    if (fl->status[0] && strcmp(fl->status, GW_TEST_RUNNING) != 0 &&
        strcmp(fl->status, GW_TEST_COMPLETE) != 0 && strcmp(fl->status, GW_TEST_ABORTED) != 0 &&
        strcmp(fl->status, GW_TEST_INTERRUPTED) != 0) {
        *status = bad_query(http, r, "status", "running, complete, aborted or interrupted");
        return false;
    }
    fl->f.machine_id = m ? m->id : fl->machine[0] ? fl->machine : NULL;
    fl->f.from = fl->from[0] ? fl->from : NULL;
    fl->f.to = fl->to[0] ? fl->to : NULL;
    fl->f.sample_id = fl->sample[0] ? fl->sample : NULL;
    fl->f.operator_name = fl->op[0] ? fl->op : NULL;
    fl->f.status = fl->status[0] ? fl->status : NULL;
    fl->f.series_id = series;
    return true;
}

static int store_error(const gw_app_http *http, gw_app_req *r, gw_err rc, const gw_error *err,
                       const char *what)
{
    char d[400];
    if (rc == GW_E_NOT_FOUND) {
        snprintf(d, sizeof(d), "no %s", what);
        return http->problem(r, 404, "Not Found", d);
    }
    snprintf(d, sizeof(d), "%s: %s", what, err->msg);
    return http->problem(r, 500, "Internal Server Error", d);
}

/* The test of the route, in the route's machine; false when answered. */
static bool load_test(const gw_app_http *http, gw_app_req *r, gw_store **store, gw_test *t,
                      int *status)
{
    const gw_machine_cfg *m;
    if (!scope(http, r, &m, status))
        return false;
    int64_t id = arg_id(http, r, "test", status);
    if (!id)
        return false;
    if (!(*store = http->store(r, status)))
        return false;
    gw_error err;
    char what[64];
    snprintf(what, sizeof(what), "test %lld", (long long)id);
    gw_err rc = gw_store_test_get(*store, id, t, &err);
    if (rc == GW_OK && m && strcmp(t->machine_id, m->id) != 0)
        rc = GW_E_NOT_FOUND;
    if (rc != GW_OK) {
        *status = store_error(http, r, rc, &err, what);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- tests */

static void add_test(void *ud, const gw_test *t)
{
    json_array_append_new(ud, rs_test_json(t));
}

static int get_tests(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m;
    filters fl;
    long long page = 1, per = PER_PAGE_DEFAULT;
    if (!scope(http, r, &m, &status) || !read_filters(http, r, m, &fl, &status) ||
        !query_int(http, r, "page", 1, 1000000, &page, &status) ||
        !query_int(http, r, "per_page", 1, PER_PAGE_MAX, &per, &status))
        return status;
    gw_store *store = http->store(r, &status);
    if (!store)
        return status;
    json_t *list = json_array();
    size_t total = 0;
    gw_error err;
    gw_err rc = gw_store_test_list(store, &fl.f, (size_t)((page - 1) * per), (size_t)per, &total,
                                   add_test, list, &err);
    if (rc != GW_OK) {
        json_decref(list);
        return store_error(http, r, rc, &err, "the tests");
    }
    return http->json(r, 200, json_pack("{s:o, s:I, s:I, s:I, s:I}", "tests", list, "page",
                                        (json_int_t)page, "per_page", (json_int_t)per, "total",
                                        (json_int_t)total, "pages",
                                        (json_int_t)((total + (size_t)per - 1) / (size_t)per)));
}

/* Points into a growing array. */
typedef struct {
    gw_test_point *p;
    size_t n, cap;
    bool failed;
} point_vec;

static void add_point(void *ud, const gw_test_point *p)
{
    point_vec *v = ud;
    if (!v->failed && !gw_grow((void **)&v->p, &v->cap, v->n, sizeof(*p), SIZE_MAX))
        v->failed = true;
    if (v->failed)
        return;
    v->p[v->n++] = *p;
}

static bool load_points(const gw_app_http *http, gw_app_req *r, gw_store *store, int64_t id,
                        point_vec *v, int *status)
{
    memset(v, 0, sizeof(*v));
    gw_error err;
    gw_err rc = gw_store_test_points(store, id, add_point, v, &err);
    if (rc == GW_OK && v->failed) {
        rc = GW_E_NOMEM;
        gw_error_set(&err, GW_E_NOMEM, "out of memory");
    }
    if (rc != GW_OK) {
        gw_free(v->p);
        *status = store_error(http, r, rc, &err, "the test's points");
        return false;
    }
    return true;
}

static int get_test(const gw_app_http *http, gw_app_req *r)
{
    int status, with_points = 1;
    gw_store *store;
    gw_test t;
    if (!query_bool(http, r, "points", &with_points, &status) ||
        !load_test(http, r, &store, &t, &status))
        return status;
    json_t *o = rs_test_json(&t);
    if (with_points) {
        point_vec v;
        if (!load_points(http, r, store, t.id, &v, &status)) {
            json_decref(o);
            return status;
        }
        json_t *pts = json_array();
        for (size_t i = 0; pts && i < v.n; i++)
            json_array_append_new(pts, json_pack("{s:f, s:f, s:f, s:o}", "timestamp", v.p[i].t_s,
                                                 "force", v.p[i].force_kN, "deflection",
                                                 v.p[i].deflection_mm, "position",
                                                 num(v.p[i].position_mm)));
        gw_free(v.p);
        json_object_set_new(o, "points", pts);
    }
    return http->json(r, 200, o);
}

static int patch_test(const gw_app_http *http, gw_app_req *r)
{
    int status;
    gw_store *store;
    gw_test t;
    if (!load_test(http, r, &store, &t, &status))
        return status;
    json_t *body = http->body(r, &status);
    if (!body)
        return status;
    static const struct {
        const char *name;
        size_t max;
    } texts[] = {{"sample_id", GW_TEST_SAMPLE_MAX},
                 {"operator", GW_TEST_OPERATOR_MAX},
                 {"notes", GW_TEST_NOTES_MAX}};
    const char *vals[3] = {NULL, NULL, NULL};
    int64_t series = -1;
    char d[300] = "";
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        size_t k = 0;
        while (k < 3 && strcmp(texts[k].name, key) != 0)
            k++;
        if (k < 3) {
            if (!json_is_string(v))
                snprintf(d, sizeof(d), "\"%s\" must be a string", key);
            else if (json_string_length(v) > texts[k].max)
                snprintf(d, sizeof(d), "\"%s\" is longer than %zu bytes", key, texts[k].max);
            else
                vals[k] = json_string_value(v);
        } else if (strcmp(key, "series_id") == 0) {
            if (json_is_null(v))
                series = 0;
            else if (json_is_integer(v) && json_integer_value(v) > 0)
                series = json_integer_value(v);
            else
                snprintf(d, sizeof(d), "\"series_id\" must be a positive integer or null");
        } else {
            snprintf(d, sizeof(d), "unknown member \"%s\" (sample_id, operator, notes, "
                     "series_id)", key);
        }
        if (d[0])
            break;
    }
    if (!d[0] && json_object_size(body) == 0)
        snprintf(d, sizeof(d), "nothing to change: send sample_id, operator, notes or "
                 "series_id");
    if (d[0]) {
        json_decref(body);
        return http->problem(r, 422, "Unprocessable Content", d);
    }
    gw_error err;
    gw_err rc = gw_store_test_update(store, t.id, vals[0], vals[1], vals[2], series, &err);
    char *values = json_dumps(body, JSON_COMPACT);
    http->audit(r, t.machine_id, values, rc == GW_OK ? "ok" : err.msg);
    free(values);
    json_decref(body);
    if (rc == GW_OK)
        rc = gw_store_test_get(store, t.id, &t, &err);
    if (rc != GW_OK)
        return store_error(http, r, rc, &err, "the test");
    return http->json(r, 200, rs_test_json(&t));
}

/* ---------------------------------------------------------------- documents */

/* A sink that begins the response with its first bytes, so that a
 * document that fails before any is still a problem answer. */
typedef struct {
    const gw_app_http *http;
    gw_app_req *r;
    gw_app_stream *s;
    const char *type;
    char headers[256];
    bool gone;
} doc_sink;

static bool sink_write(void *ud, const void *data, size_t len)
{
    doc_sink *ds = ud;
    if (ds->gone)
        return false;
    if (!ds->s) {
        ds->s = ds->http->stream_begin(ds->r, 200, ds->type, ds->headers);
        if (!ds->s) {
            ds->gone = true;
            return false;
        }
    }
    if (!ds->http->stream_write(ds->s, data, len))
        ds->gone = true;
    return !ds->gone;
}

/* The end of a document: the stream's end, or the problem when none
 * began. */
static int sink_end(doc_sink *ds, gw_err rc, const gw_error *err)
{
    if (ds->s)
        return ds->http->stream_end(ds->s);
    if (ds->gone)
        return 200; /* the client went away; nothing to answer */
    if (rc == GW_OK) {
        ds->s = ds->http->stream_begin(ds->r, 200, ds->type, ds->headers);
        return ds->s ? ds->http->stream_end(ds->s) : 200;
    }
    return ds->http->problem(ds->r, 500, "Internal Server Error", err->msg);
}

static void sink_init(doc_sink *ds, const gw_app_http *http, gw_app_req *r, const char *type,
                      const char *filename)
{
    memset(ds, 0, sizeof(*ds));
    ds->http = http;
    ds->r = r;
    ds->type = type;
    snprintf(ds->headers, sizeof(ds->headers),
             "Content-Disposition: attachment; filename=\"%s\"\r\n",
             filename);
}

static int get_points_csv(const gw_app_http *http, gw_app_req *r)
{
    int status;
    gw_store *store;
    gw_test t;
    if (!load_test(http, r, &store, &t, &status))
        return status;
    point_vec v;
    if (!load_points(http, r, store, t.id, &v, &status))
        return status;
    char name[64];
    snprintf(name, sizeof(name), "test-%lld-points.csv", (long long)t.id);
    doc_sink ds;
    sink_init(&ds, http, r, "text/csv; charset=utf-8", name);
    char buf[64 * 1024];
    size_t used = gw_report_csv_header(buf, sizeof(buf));
    for (size_t i = 0; i < v.n && !ds.gone; i++) {
        if (sizeof(buf) - used < GW_REPORT_CSV_LINE) {
            sink_write(&ds, buf, used);
            used = 0;
        }
        used += gw_report_csv_line(&v.p[i], buf + used, sizeof(buf) - used);
    }
    if (used && !ds.gone)
        sink_write(&ds, buf, used);
    gw_free(v.p);
    return sink_end(&ds, GW_OK, NULL);
}

/* The settings of a test's machine (its flow's, else the defaults). */
static void machine_settings(const gw_app_http *http, gw_app_req *r, const char *machine_id,
                             rs_settings *st)
{
    const gw_machine_cfg *m = gw_config_machine(http->config(r), machine_id);
    rs_flow *f = m ? http->state(r, m) : NULL;
    if (f) {
        *st = *rs_flow_settings(f);
        return;
    }
    gw_machine_cfg none;
    memset(&none, 0, sizeof(none));
    snprintf(none.name, sizeof(none.name), "%s", machine_id);
    gw_diag d;
    gw_diag_init(&d, "");
    rs_settings_load(m ? m : &none, st, &d);
}

/* The series of the tests with series_id: its complete tests' mean S. */
typedef struct {
    size_t n, nplc;
    double sum, sum_plc;
    json_t *tests;
} series_acc;

static void add_series_test(void *ud, const gw_test *t)
{
    series_acc *a = ud;
    if (a->tests)
        json_array_append_new(a->tests, rs_test_json(t));
    if (strcmp(t->status, GW_TEST_COMPLETE) != 0 || isnan(t->ring_stiffness_calc))
        return;
    a->n++;
    a->sum += t->ring_stiffness_calc;
    if (!isnan(t->ring_stiffness)) {
        a->nplc++;
        a->sum_plc += t->ring_stiffness;
    }
}

static gw_err series_summary(gw_store *store, int64_t id, const rs_settings *st,
                             gw_report_series *out, json_t *tests, gw_error *err)
{
    series_acc a = {0, 0, 0, 0, tests};
    gw_test_filter f = {NULL, NULL, NULL, NULL, NULL, -1, NULL, id};
    size_t total;
    gw_err rc = gw_store_test_list(store, &f, 0, 0, &total, add_series_test, &a, err);
    memset(out, 0, sizeof(*out));
    out->id = id;
    out->ntests = a.n;
    out->mean_ring_stiffness_calc = a.n ? a.sum / (double)a.n : NAN;
    out->mean_ring_stiffness = a.n && a.nplc == a.n ? a.sum_plc / (double)a.nplc : NAN;
    out->sn_class = a.n ? (int)gw_rs_sn_class(out->mean_ring_stiffness_calc, st->classes,
                                              st->nclasses) : 0;
    if (rc == GW_OK && total == 0)
        rc = gw_error_set(err, GW_E_NOT_FOUND, "no tests in series %lld", (long long)id);
    return rc;
}

static int get_report_pdf(const gw_app_http *http, gw_app_req *r)
{
    int status;
    gw_store *store;
    gw_test t;
    if (!load_test(http, r, &store, &t, &status))
        return status;
    point_vec v;
    if (!load_points(http, r, store, t.id, &v, &status))
        return status;
    rs_settings st;
    machine_settings(http, r, t.machine_id, &st);
    gw_report_series series, *sp = NULL;
    gw_error err;
    if (t.series_id && series_summary(store, t.series_id, &st, &series, NULL, &err) == GW_OK)
        sp = &series;
    gw_report_lab lab = {st.lab_name, st.lab_logo};
    char name[64];
    snprintf(name, sizeof(name), "test-%lld.pdf", (long long)t.id);
    doc_sink ds;
    sink_init(&ds, http, r, "application/pdf", name);
    gw_err rc = gw_report_pdf(&lab, &t, v.p, v.n, sp, sink_write, &ds, &err);
    gw_free(v.p);
    return sink_end(&ds, rc, &err);
}

/* The tests of an export, by id, read one at a time. */
typedef struct {
    gw_store *store;
    int64_t *ids;
    size_t n, cap, next;
    bool failed;
} export_src;

static void add_id(void *ud, const gw_test *t)
{
    export_src *x = ud;
    if (!x->failed && !gw_grow((void **)&x->ids, &x->cap, x->n, sizeof(*x->ids), SIZE_MAX))
        x->failed = true;
    if (x->failed)
        return;
    x->ids[x->n++] = t->id;
}

static bool export_next(void *ud, gw_test *t)
{
    export_src *x = ud;
    gw_error err;
    while (x->next < x->n)
        if (gw_store_test_get(x->store, x->ids[x->next++], t, &err) == GW_OK)
            return true;
    return false;
}

static gw_err export_points(void *ud, int64_t id, gw_store_point_fn fn, void *fn_ud,
                            gw_error *err)
{
    export_src *x = ud;
    return gw_store_test_points(x->store, id, fn, fn_ud, err);
}

static int get_report_excel(const gw_app_http *http, gw_app_req *r)
{
    int status, with_points = 1;
    const gw_machine_cfg *m;
    filters fl;
    long long one = 0;
    if (!scope(http, r, &m, &status) || !read_filters(http, r, m, &fl, &status) ||
        !query_int(http, r, "id", 1, INT64_MAX, &one, &status) ||
        !query_bool(http, r, "points", &with_points, &status))
        return status;
    gw_store *store = http->store(r, &status);
    if (!store)
        return status;
    export_src x = {store, NULL, 0, 0, 0, false};
    gw_error err;
    gw_err rc = GW_OK;
    if (one) {
        gw_test t;
        rc = gw_store_test_get(store, one, &t, &err);
        if (rc == GW_OK && m && strcmp(t.machine_id, m->id) != 0)
            rc = GW_E_NOT_FOUND;
        if (rc == GW_OK)
            add_id(&x, &t);
    } else {
        size_t total = 0;
        rc = gw_store_test_list(store, &fl.f, 0, EXPORT_MAX_TESTS, &total, add_id, &x, &err);
        if (rc == GW_OK && total > EXPORT_MAX_TESTS) {
            gw_free(x.ids);
            char d[200];
            snprintf(d, sizeof(d), "%zu tests match: an export takes at most %d; narrow it with "
                     "from, to or the other filters", total, EXPORT_MAX_TESTS);
            return http->problem(r, 422, "Unprocessable Content", d);
        }
    }
    if (rc == GW_OK && x.failed)
        rc = gw_error_set(&err, GW_E_NOMEM, "out of memory");
    if (rc != GW_OK) {
        gw_free(x.ids);
        char what[64];
        snprintf(what, sizeof(what), "test %lld", one);
        return store_error(http, r, rc, &err, one ? what : "the tests");
    }
    rs_settings st;
    machine_settings(http, r, m ? m->id : http->config(r)->default_machine, &st);
    gw_report_lab lab = {st.lab_name, st.lab_logo};
    gw_report_tests src = {export_next, export_points, &x};
    char name[64];
    if (one)
        snprintf(name, sizeof(name), "test-%lld.xlsx", one);
    else
        snprintf(name, sizeof(name), "tests.xlsx");
    doc_sink ds;
    sink_init(&ds, http, r, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              name);
    rc = gw_report_xlsx(&lab, &src, with_points, one != 0, NULL, sink_write, &ds, &err);
    gw_free(x.ids);
    return sink_end(&ds, rc, &err);
}

/* ---------------------------------------------------------------- series */

static int get_series(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m;
    if (!scope(http, r, &m, &status))
        return status;
    int64_t id = arg_id(http, r, "series", &status);
    if (!id)
        return status;
    gw_store *store = http->store(r, &status);
    if (!store)
        return status;
    rs_settings st;
    machine_settings(http, r, m ? m->id : http->config(r)->default_machine, &st);
    json_t *tests = json_array();
    gw_report_series s;
    gw_error err;
    gw_err rc = series_summary(store, id, &st, &s, tests, &err);
    if (rc != GW_OK) {
        json_decref(tests);
        char what[64];
        snprintf(what, sizeof(what), "series %lld", (long long)id);
        return store_error(http, r, rc, &err, what);
    }
    return http->json(r, 200, json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}", "series_id",
                                        (json_int_t)id, "ntests", (json_int_t)s.ntests,
                                        "mean_ring_stiffness_calc",
                                        num(s.mean_ring_stiffness_calc), "mean_ring_stiffness",
                                        num(s.mean_ring_stiffness), "sn_class",
                                        s.ntests ? json_integer(s.sn_class) : json_null(),
                                        "tests", tests));
}

static int post_series(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m;
    if (!scope(http, r, &m, &status))
        return status;
    gw_store *store = http->store(r, &status);
    if (!store)
        return status;
    int64_t id;
    gw_error err;
    gw_err rc = gw_store_series_new(store, &id, &err);
    if (rc != GW_OK)
        return store_error(http, r, rc, &err, "a new series");
    char values[48];
    snprintf(values, sizeof(values), "{\"series_id\":%lld}", (long long)id);
    http->audit(r, m ? m->id : NULL, values, "ok");
    return http->json(r, 201, json_pack("{s:I}", "series_id", (json_int_t)id));
}

/* ---------------------------------------------------------------- alarms */

static void add_alarm(void *ud, const gw_alarm *a)
{
    json_array_append_new(ud, alarm_json(a));
}

static int get_alarms(const gw_app_http *http, gw_app_req *r)
{
    int status, active = 0;
    const gw_machine_cfg *m;
    long long page = 1, per = PER_PAGE_DEFAULT;
    if (!scope(http, r, &m, &status) || !query_bool(http, r, "active", &active, &status) ||
        !query_int(http, r, "page", 1, 1000000, &page, &status) ||
        !query_int(http, r, "per_page", 1, PER_PAGE_MAX, &per, &status))
        return status;
    gw_store *store = http->store(r, &status);
    if (!store)
        return status;
    json_t *list = json_array();
    size_t total = 0;
    gw_error err;
    gw_err rc = gw_store_alarm_list(store, m ? m->id : NULL, active, (size_t)((page - 1) * per),
                                    (size_t)per, &total, add_alarm, list, &err);
    if (rc != GW_OK) {
        json_decref(list);
        return store_error(http, r, rc, &err, "the alarms");
    }
    return http->json(r, 200, json_pack("{s:o, s:I, s:I, s:I}", "alarms", list, "page",
                                        (json_int_t)page, "per_page", (json_int_t)per, "total",
                                        (json_int_t)total));
}

static int post_alarm_ack(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m;
    if (!scope(http, r, &m, &status))
        return status;
    int64_t id = arg_id(http, r, "alarm", &status);
    if (!id)
        return status;
    gw_store *store = http->store(r, &status);
    if (!store)
        return status;
    const gw_principal *who = http->who(r);
    gw_alarm a;
    gw_error err;
    gw_err rc = GW_OK;
    /* under a machine's path, only that machine's alarm: checked first,
     * so that a wrong path acknowledges nothing */
    if (m && (rc = gw_store_alarm_get(store, id, &a, &err)) == GW_OK &&
        strcmp(a.machine_id, m->id) != 0)
        rc = gw_error_set(&err, GW_E_NOT_FOUND, "alarm %lld is not %s's", (long long)id, m->id);
    if (rc == GW_OK)
        rc = gw_store_alarm_ack(store, id, who->user_id ? who->name : "anonymous", &a, &err);
    char values[48];
    snprintf(values, sizeof(values), "{\"alarm_id\":%lld}", (long long)id);
    http->audit(r, rc == GW_OK ? a.machine_id : NULL, values, rc == GW_OK ? "ok" : err.msg);
    if (rc == GW_E_INVAL) {
        char d[200];
        snprintf(d, sizeof(d), "alarm %lld was acknowledged already, by %s at %s", (long long)id,
                 a.ack_by, a.ack_timestamp);
        return http->problem(r, 409, "Conflict", d);
    }
    if (rc != GW_OK) {
        char what[64];
        snprintf(what, sizeof(what), "alarm %lld", (long long)id);
        return store_error(http, r, rc, &err, what);
    }
    return http->json(r, 200, alarm_json(&a));
}

/* ---------------------------------------------------------------- schemas */

#define NUMN "{\"type\":[\"number\",\"null\"]}"
#define INTN "{\"type\":[\"integer\",\"null\"]}"
#define STRN "{\"type\":[\"string\",\"null\"]}"
#define BOOLN "{\"type\":[\"boolean\",\"null\"]}"

#define TEST_PROPS                                                                           \
    "\"id\":{\"type\":\"integer\"},\"machine_id\":{\"type\":\"string\"},\"sample_id\":" STRN   \
    ",\"operator\":" STRN ",\"notes\":" STRN ",\"test_date\":" STRN ",\"finished_at\":" STRN \
    ",\"status\":{\"enum\":[\"running\",\"complete\",\"aborted\",\"interrupted\"]},"          \
    "\"reason\":" STRN ",\"series_id\":" INTN ",\"nominal_sn\":" INTN                          \
    ",\"pipe_diameter\":" NUMN ",\"pipe_length\":" NUMN ",\"deflection_percent\":" NUMN       \
    ",\"test_speed\":" NUMN ",\"max_stroke\":" NUMN ",\"max_force\":" NUMN                    \
    ",\"force_at_target\":" NUMN ",\"ring_stiffness\":" NUMN ",\"sn_class\":" INTN            \
    ",\"plc_passed\":" BOOLN ",\"method\":" STRN ",\"wall_thickness\":" NUMN                  \
    ",\"diameter_calc\":" NUMN ",\"target_deflection\":" NUMN ",\"force_at_target_calc\":"    \
    NUMN ",\"ring_stiffness_calc\":" NUMN ",\"sn_class_calc\":" INTN ",\"passed\":" BOOLN     \
    ",\"mismatch\":" BOOLN ",\"npoints\":{\"type\":\"integer\"},\"points_sha256\":" STRN

#define TEST_EXAMPLE                                                                         \
    "{\"id\":42,\"machine_id\":\"rig\",\"sample_id\":\"P-2026-0042\",\"operator\":"           \
    "\"j.smith\",\"notes\":null,\"test_date\":\"2026-12-07T09:14:02.118Z\",\"finished_at\":"  \
    "\"2026-12-07T09:15:00.530Z\",\"status\":\"complete\",\"reason\":null,\"series_id\":7,"  \
    "\"nominal_sn\":5000,\"pipe_diameter\":315.0,\"pipe_length\":300.0,"                      \
    "\"deflection_percent\":3.0,\"test_speed\":10.0,\"max_stroke\":100.0,\"max_force\":50.0," \
    "\"force_at_target\":0.5764,\"ring_stiffness\":5.8643,\"sn_class\":5000,\"plc_passed\":"  \
    "true,\"method\":\"ISO 9969\",\"wall_thickness\":null,\"diameter_calc\":315.0,"           \
    "\"target_deflection\":9.45,\"force_at_target_calc\":0.5763,\"ring_stiffness_calc\":"     \
    "5.8633,\"sn_class_calc\":5000,\"passed\":true,\"mismatch\":false,\"npoints\":2871,"      \
    "\"points_sha256\":\"9f2c...\"}"

#define PAGE_PROPS                                                                           \
    "\"page\":{\"type\":\"integer\"},\"per_page\":{\"type\":\"integer\"},\"total\":"           \
    "{\"type\":\"integer\"}"

#define ALARM_PROPS                                                                          \
    "\"id\":{\"type\":\"integer\"},\"machine_id\":{\"type\":\"string\"},\"code\":{\"type\":"  \
    "\"integer\",\"description\":\"1 servo_error, 2 connection_lost, 3 max_force, 4 "        \
    "max_stroke, 5 result_mismatch, 6 test_interrupted, 7 recording\"},\"name\":{\"type\":"  \
    "\"string\"},\"message\":{\"type\":\"string\"},\"timestamp\":{\"type\":\"string\"},"     \
    "\"acknowledged\":{\"type\":\"boolean\"},\"ack_timestamp\":" STRN ",\"ack_by\":" STRN     \
    ",\"test_id\":" INTN
#define ALARM_EXAMPLE                                                                        \
    "{\"id\":3,\"machine_id\":\"rig\",\"code\":1,\"name\":\"servo_error\",\"message\":"      \
    "\"servo alarm (Servo_Error)\",\"timestamp\":\"2026-12-07T09:20:11.004Z\","              \
    "\"acknowledged\":false,\"ack_timestamp\":null,\"ack_by\":null,\"test_id\":null}"

const gw_app_component rs_history_components[] = {
    {"Test", "{\"type\":\"object\",\"description\":\"a test: force_at_target, "
             "ring_stiffness and sn_class are the PLC's results, the *_calc ones ours from "
             "the recorded curve; passed is the verdict (ring_stiffness_calc >= nominal_sn "
             "when one was given, else the PLC's). Units: kN, mm, mm/min, kN/m2; SN classes "
             "in N/m2\",\"properties\":{" TEST_PROPS ",\"points\":{\"type\":\"array\","
             "\"description\":\"timestamp s since the start, force kN, deflection mm, "
             "position mm\",\"items\":{\"type\":\"object\"}}},\"example\":" TEST_EXAMPLE "}"},
    {"TestList", "{\"type\":\"object\",\"properties\":{\"tests\":{\"type\":\"array\",\"items\":"
                 "{\"type\":\"object\",\"properties\":{" TEST_PROPS "}}}," PAGE_PROPS
                 ",\"pages\":{\"type\":\"integer\"}},\"example\":{\"tests\":[" TEST_EXAMPLE
                 "],\"page\":1,\"per_page\":50,\"total\":1,\"pages\":1}}"},
    {"Series", "{\"type\":\"object\",\"description\":\"ISO 9969: the pieces of one pipe; the "
               "mean of our S over its complete tests and the class it reaches\",\"properties\""
               ":{\"series_id\":{\"type\":\"integer\"},\"ntests\":{\"type\":\"integer\"},"
               "\"mean_ring_stiffness_calc\":" NUMN ",\"mean_ring_stiffness\":" NUMN
               ",\"sn_class\":" INTN ",\"tests\":{\"type\":\"array\"}},\"example\":{\"series_id\""
               ":7,\"ntests\":3,\"mean_ring_stiffness_calc\":5.87,\"mean_ring_stiffness\":5.88,"
               "\"sn_class\":5000,\"tests\":[]}}"},
    {"NewSeries", "{\"type\":\"object\",\"properties\":{\"series_id\":{\"type\":\"integer\"}},"
                  "\"example\":{\"series_id\":8}}"},
    {"Alarm", "{\"type\":\"object\",\"properties\":{" ALARM_PROPS "},\"example\":"
              ALARM_EXAMPLE "}"},
    {"AlarmList", "{\"type\":\"object\",\"properties\":{\"alarms\":{\"type\":\"array\","
                  "\"items\":{\"type\":\"object\",\"properties\":{" ALARM_PROPS "}}},"
                  PAGE_PROPS "},\"example\":{\"alarms\":[" ALARM_EXAMPLE "],\"page\":1,"
                  "\"per_page\":50,\"total\":1}}"},
};
const size_t rs_history_ncomponents =
    sizeof(rs_history_components) / sizeof(rs_history_components[0]);

#define Q(name, type, desc)                                                                  \
    "{\"name\":\"" name "\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\""      \
    type "\"},\"description\":\"" desc "\"}"
#define Q_PAGE Q("page", "integer", "from 1") "," Q("per_page", "integer", "1 to 1000; 50")
#define Q_FILTERS                                                                            \
    Q("from", "string", "test_date from: 2026-12-07 or 2026-12-07T08:00:00Z") ","             \
    Q("to", "string", "test_date to (a date: the whole day)") ","                            \
    Q("sample_id", "string", "exactly") "," Q("operator", "string", "exactly") ","            \
    Q("passed", "boolean", "the verdict") ","                                                \
    Q("status", "string", "running, complete, aborted or interrupted") ","                   \
    Q("series_id", "integer", "the series") ","                                              \
    Q("machine", "string", "one machine (at the paths without one)")

#define PATCH_SCHEMA                                                                         \
    "{\"type\":\"object\",\"minProperties\":1,\"additionalProperties\":false,\"properties\":{" \
    "\"sample_id\":{\"type\":\"string\",\"maxLength\":50},\"operator\":{\"type\":\"string\"," \
    "\"maxLength\":100},\"notes\":{\"type\":\"string\",\"maxLength\":1000},\"series_id\":"   \
    "{\"type\":[\"integer\",\"null\"],\"minimum\":1}},\"example\":{\"sample_id\":"          \
    "\"P-2026-0042\"}}"

#define H(method, path, role, summary, answer, fn, body, errors, query)                      \
    {method, "/api/" path, role, summary, answer, fn, body, errors, query},                  \
    {method, "/api/machines/{id}/" path, role, summary " (one machine's)", answer, fn, body,  \
     (errors) | GW_APP_E_MACHINE, query}

#define E_READ (GW_APP_E_STORE | GW_APP_E_INVALID)
#define E_ONE (GW_APP_E_STORE | GW_APP_E_NOT_FOUND)

const gw_app_route rs_history_routes[] = {
    H("GET", "tests", GW_ROLE_VIEWER, "Test history, newest first, with the total count",
      "TestList", get_tests, NULL, E_READ, "[" Q_PAGE "," Q_FILTERS "]"),
    H("GET", "tests/{test_id}", GW_ROLE_VIEWER, "One test with its points (?points=false: "
      "without)", "Test", get_test, NULL, E_ONE | GW_APP_E_INVALID,
      "[" Q("points", "boolean", "with the points; true") "]"),
    H("PATCH", "tests/{test_id}", GW_ROLE_OPERATOR, "Set a test's sample id, operator, notes "
      "or series (audited)", "Test", patch_test, PATCH_SCHEMA, E_ONE, NULL),
    H("GET", "tests/{test_id}/points.csv", GW_ROLE_VIEWER, "A test's points as CSV (t_s, "
      "force_kN, deflection_mm, position_mm); its SHA-256 is the one on the PDF report",
      "csv", get_points_csv, NULL, E_ONE, NULL),
    H("GET", "report/pdf/{test_id}", GW_ROLE_VIEWER, "A test's PDF report (A4)", "pdf",
      get_report_pdf, NULL, E_ONE, NULL),
    H("GET", "report/excel", GW_ROLE_VIEWER, "Tests as an Excel workbook (the filters of "
      "/api/tests; ?id= one test with its chart; ?points=false without points)", "xlsx",
      get_report_excel, NULL, E_READ | GW_APP_E_NOT_FOUND,
      "[" Q_FILTERS "," Q("id", "integer", "one test") "," Q("points", "boolean",
                                                               "with the points; true") "]"),
    H("GET", "series/{series_id}", GW_ROLE_VIEWER, "A series of pieces of one pipe: its "
      "tests, the mean ring stiffness and its class", "Series", get_series, NULL, E_ONE, NULL),
    H("POST", "series", GW_ROLE_OPERATOR, "A new series id for command/start's series_id",
      "NewSeries", post_series, NULL, GW_APP_E_STORE, NULL),
    H("GET", "alarms", GW_ROLE_VIEWER, "Alarms, newest first (?active=true: not acknowledged)",
      "AlarmList", get_alarms, NULL, E_READ,
      "[" Q_PAGE "," Q("active", "boolean", "only those not acknowledged") "]"),
    H("POST", "alarms/{alarm_id}/ack", GW_ROLE_OPERATOR, "Acknowledge an alarm (audited)",
      "Alarm", post_alarm_ack, NULL, E_ONE | GW_APP_E_CONFLICT, NULL),
};
const size_t rs_history_nroutes = sizeof(rs_history_routes) / sizeof(rs_history_routes[0]);
