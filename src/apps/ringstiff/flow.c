/*
 * flow.c - the rig's test workflow: the PLC's Test_Status is the authority
 * on a test (docs/ringstiff.md, "A test's life").
 *
 * The engine hands every changed snapshot of the rig to on_change on the
 * machine's thread; it only queues a reference (bounded; what overflows is
 * counted and raised as an alarm) and returns. The workflow's own thread
 * reads the queue in order and
 *   - begins a test when Test_Status becomes running (from the API's start
 *     or the machine's own panel): a row with DB1 as the PLC has it, and
 *     the measured values' scan group at the recording interval (20 ms);
 *   - records force, deflection and position with their time offset, in
 *     memory and in batches to the database (at most one commit a second);
 *   - finishes it when Test_Status leaves running: complete (the PLC's
 *     results, ours from the recorded curve, the SN class, the verdict, the
 *     mismatch flag), aborted (the likely cause), or interrupted (the PLC
 *     connection lost; the gateway stopped);
 *   - raises alarms: Servo_Error rising, a connection lost during a test,
 *     a limit abort, a mismatch, a test interrupted by a restart.
 * Nothing here blocks the machine's thread, and no database call is made
 * on it.
 */
#include "rig_app.h"
#include "report/report.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define RS_QUEUE 1024
#define RS_INTENT_MS 30000       /* a start's sample id waits this long for running */
#define RS_MAX_POINTS 1000000    /* 5.5 h at 50 Hz */
#define RS_COMMIT_MS 1000

/* The tags the workflow reads, by the memory map's names. */
enum {
    T_STATUS, T_FORCE, T_DEFL, T_POS, T_SERVO_ERR, T_STOP, T_ENABLE,
    T_DIAM, T_LEN, T_DPCT, T_SPEED, T_MAXS, T_MAXF,
    T_FAT, T_RS, T_SNC, T_PASSED, T_COUNT
};
static const char *const tag_names[T_COUNT] = {
    "Test_Status", "Actual_Force", "Actual_Deflection", "Actual_Position", "Servo_Error",
    "Stop", "Enable", "Pipe_Diameter", "Pipe_Length", "Deflection_Percent", "Test_Speed",
    "Max_Stroke", "Max_Force", "Force_At_Target", "Ring_Stiffness", "SN_Class", "Test_Passed",
};

typedef struct {
    const gw_snapshot *s;
    bool conn_changed;
} rs_item;

struct rs_flow {
    const gw_machine_cfg *m;
    gw_app_env env;
    rs_settings st;
    char group[32];             /* the scan group of the measured values */
    long ix[T_COUNT];           /* tag index, -1: not in the map */

    pthread_mutex_t mu;         /* the queue, the intent, stop */
    pthread_cond_t cv;
    pthread_t thread;
    bool started, stop;
    rs_item q[RS_QUEUE];
    size_t qhead, qlen;
    uint64_t dropped;
    rs_intent intent;
    int64_t intent_ms;          /* 0: none */
    int64_t stop_ms;            /* the API's last stop */
    _Atomic int64_t current;    /* the test being recorded */

    /* the workflow's thread only */
    bool status_known, servo_known, servo_err;
    int status;
    bool in_test;
    gw_test t;
    int64_t t0_ms;
    gw_test_point *pts;
    size_t npts, cap, saved;
    uint64_t last_commit_ms;
    double max_force, max_pos;
    bool stop_seen, servo_seen, disabled_seen, points_capped;
    uint64_t dropped_seen;
};

/* ---------------------------------------------------------------- values */

static bool get_num(const rs_flow *f, const gw_snapshot *s, int role, double *out)
{
    long i = f->ix[role];
    if (i < 0 || (size_t)i >= s->n || s->quality[i] != GW_Q_GOOD)
        return false;
    *out = gw_value_as_double(&s->values[i]);
    return true;
}

static double num_or_nan(const rs_flow *f, const gw_snapshot *s, int role)
{
    double v;
    return get_num(f, s, role, &v) ? v : NAN;
}

/* ---------------------------------------------------------------- events */

static void emit(rs_flow *f, const char *event, json_t *payload)
{
    if (payload && f->env.emit)
        f->env.emit(f->env.emit_ud, event, payload);
    else
        json_decref(payload);
}

static void raise_alarm(rs_flow *f, int code, int64_t test_id, const char *fmt, ...)
    GW_PRINTF(4, 5);
static void raise_alarm(rs_flow *f, int code, int64_t test_id, const char *fmt, ...)
{
    gw_alarm a;
    memset(&a, 0, sizeof(a));
    snprintf(a.machine_id, sizeof(a.machine_id), "%s", f->m->id);
    a.code = code;
    snprintf(a.name, sizeof(a.name), "%s", rs_alarm_name(code));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a.message, sizeof(a.message), fmt, ap);
    va_end(ap);
    a.test_id = test_id;
    gw_time_iso8601(gw_wall_ms(), a.timestamp, sizeof(a.timestamp));
    gw_error err;
    if (f->env.store && gw_store_alarm_add(f->env.store, &a, &err) != GW_OK)
        gw_log_error(f->env.log, "rig", "%s: alarm not stored: %s", f->m->id, err.msg);
    gw_log_warn(f->env.log, "rig", "%s: alarm %d %s: %s", f->m->id, code, a.name, a.message);
    emit(f, "alarm", json_pack("{s:o, s:s, s:i, s:s, s:s, s:s, s:o}", "id",
                               a.id ? json_integer(a.id) : json_null(), "machine", f->m->id,
                               "code", code, "name", a.name, "message", a.message, "timestamp",
                               a.timestamp, "test_id",
                               test_id ? json_integer(test_id) : json_null()));
}

/* ---------------------------------------------------------------- recording */

static void flush_points(rs_flow *f)
{
    f->last_commit_ms = gw_mono_ms();
    if (!f->env.store || f->saved >= f->npts || !f->t.id)
        return;
    gw_error err;
    if (gw_store_test_add_points(f->env.store, f->t.id, f->pts + f->saved, f->npts - f->saved,
                                 &err) != GW_OK) {
        /* kept in memory: the next batch tries again */
        gw_log_error(f->env.log, "rig", "%s: test %lld: points not stored: %s", f->m->id,
                     (long long)f->t.id, err.msg);
        return;
    }
    f->saved = f->npts;
}

static void record(rs_flow *f, const gw_snapshot *s)
{
    double force, defl, v;
    if (get_num(f, s, T_FORCE, &force) && force > f->max_force)
        f->max_force = force;
    double pos = num_or_nan(f, s, T_POS);
    if (!isnan(pos) && pos > f->max_pos)
        f->max_pos = pos;
    if (get_num(f, s, T_STOP, &v) && v != 0)
        f->stop_seen = true;
    if (get_num(f, s, T_SERVO_ERR, &v) && v != 0)
        f->servo_seen = true;
    if (get_num(f, s, T_ENABLE, &v) && v == 0)
        f->disabled_seen = true;
    if (!get_num(f, s, T_FORCE, &force) || !get_num(f, s, T_DEFL, &defl))
        return;
    if (f->npts > 0) {
        const gw_test_point *l = &f->pts[f->npts - 1];
        /* nothing new measured: no point */
        if (l->force_kN == force && l->deflection_mm == defl &&
            (l->position_mm == pos || (isnan(pos) && isnan(l->position_mm))))
            return;
    }
    if (!gw_grow((void **)&f->pts, &f->cap, f->npts, sizeof(*f->pts), RS_MAX_POINTS)) {
        f->points_capped = true;
        return;
    }
    gw_test_point *p = &f->pts[f->npts++];
    p->t_s = (double)(s->ts_ms - f->t0_ms) / 1000.0;
    p->force_kN = force;
    p->deflection_mm = defl;
    p->position_mm = pos;
}

/* ---------------------------------------------------------------- a test */

static void begin_test(rs_flow *f, const gw_snapshot *s, bool joined)
{
    gw_test *t = &f->t;
    gw_test_init(t);
    snprintf(t->machine_id, sizeof(t->machine_id), "%s", f->m->id);
    pthread_mutex_lock(&f->mu);
    if (f->intent_ms && gw_wall_ms() - f->intent_ms <= RS_INTENT_MS) {
        snprintf(t->sample_id, sizeof(t->sample_id), "%s", f->intent.sample_id);
        snprintf(t->operator_name, sizeof(t->operator_name), "%s", f->intent.operator_name);
        snprintf(t->notes, sizeof(t->notes), "%s", f->intent.notes);
        t->nominal_sn = f->intent.nominal_sn;
        t->series_id = f->intent.series_id;
    }
    f->intent_ms = 0;
    pthread_mutex_unlock(&f->mu);
    t->pipe_diameter = num_or_nan(f, s, T_DIAM);
    t->pipe_length = num_or_nan(f, s, T_LEN);
    t->deflection_percent = num_or_nan(f, s, T_DPCT);
    t->test_speed = num_or_nan(f, s, T_SPEED);
    t->max_stroke = num_or_nan(f, s, T_MAXS);
    t->max_force = num_or_nan(f, s, T_MAXF);
    t->wall_thickness = f->st.method == GW_RS_ISO7685 ? f->st.wall_mm : NAN;
    gw_time_iso8601(gw_wall_ms(), t->test_date, sizeof(t->test_date));
    if (joined)
        snprintf(t->reason, sizeof(t->reason), "the recording began while the test ran");
    gw_error err;
    if (f->env.store && gw_store_test_begin(f->env.store, t, &err) != GW_OK)
        gw_log_error(f->env.log, "rig", "%s: the test is not stored: %s", f->m->id, err.msg);
    f->in_test = true;
    f->t0_ms = s->ts_ms;
    f->npts = f->saved = 0;
    f->max_force = f->max_pos = -INFINITY;
    f->stop_seen = f->servo_seen = f->disabled_seen = f->points_capped = false;
    f->last_commit_ms = gw_mono_ms();
    atomic_store(&f->current, t->id);
    gw_engine_set_interval(f->env.engine, f->m->id, f->group, f->st.record_interval_ms);
    gw_log_info(f->env.log, "rig", "%s: test %lld running (sample \"%s\")", f->m->id,
                (long long)t->id, t->sample_id);
    emit(f, "test_started", json_pack("{s:s, s:I, s:s, s:s}", "machine", f->m->id, "test_id",
                                      (json_int_t)t->id, "sample_id", t->sample_id,
                                      "timestamp", t->test_date));
}

/* Our results from the recorded curve, the class, the verdict, the flag. */
static void compute(rs_flow *f)
{
    gw_test *t = &f->t;
    gw_rs_specimen sp;
    rs_specimen(t, &f->st, &sp);
    snprintf(t->method, sizeof(t->method), "%s", gw_rs_method_name(sp.method));
    gw_rs_point *rp = gw_malloc((f->npts ? f->npts : 1) * sizeof(*rp));
    gw_rs_result res;
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = rp ? GW_OK : GW_E_NOMEM;
    for (size_t i = 0; rp && i < f->npts; i++)
        rp[i] = (gw_rs_point){f->pts[i].t_s, f->pts[i].force_kN, f->pts[i].deflection_mm};
    if (rc == GW_OK)
        rc = gw_rs_compute(&sp, rp, f->npts, &res, &err);
    gw_free(rp);
    if (rc != GW_OK) {
        size_t used = strlen(t->reason);
        snprintf(t->reason + used, sizeof(t->reason) - used, "%sno independent result: %s",
                 used ? "; " : "", rc == GW_E_NOMEM ? "out of memory" : err.msg);
        t->passed = t->nominal_sn ? 0 : t->plc_passed;
        return;
    }
    t->diameter_calc = res.d_mm;
    t->target_deflection = res.y_mm;
    t->force_at_target_calc = res.force_kN;
    t->ring_stiffness_calc = res.stiffness_kNm2;
    t->sn_class_calc = (int)gw_rs_sn_class(res.stiffness_kNm2, f->st.classes, f->st.nclasses);
    /* the verdict: our S against the class asked for, else the PLC's */
    if (t->nominal_sn)
        t->passed = res.stiffness_kNm2 * 1000.0 >= (double)t->nominal_sn;
    else
        t->passed = t->plc_passed;
    if (!isnan(t->ring_stiffness)) {
        t->mismatch = gw_rs_mismatch(t->ring_stiffness, res.stiffness_kNm2, f->st.tolerance);
        if (t->mismatch)
            raise_alarm(f, RS_ALARM_MISMATCH, t->id, "test %lld: the PLC's ring stiffness %.4g "
                        "kN/m2 differs from the independent %.4g kN/m2 by %.2f %% (tolerance "
                        "%.2f %%)", (long long)t->id, t->ring_stiffness, res.stiffness_kNm2,
                        100.0 * fabs(t->ring_stiffness - res.stiffness_kNm2) /
                            res.stiffness_kNm2, 100.0 * f->st.tolerance);
    }
}

/* Why the PLC aborted, as far as the recorded data shows; raises the
 * limit alarms. */
static void abort_reason(rs_flow *f, int status)
{
    gw_test *t = &f->t;
    bool api_stop;
    pthread_mutex_lock(&f->mu);
    api_stop = f->stop_ms && f->stop_ms >= f->t0_ms;
    pthread_mutex_unlock(&f->mu);
    double maxf = t->max_force, maxs = t->max_stroke;
    char why[200];
    if (f->servo_seen) {
        snprintf(why, sizeof(why), "servo error (Servo_Error)");
    } else if (f->stop_seen || api_stop) {
        snprintf(why, sizeof(why), "stopped (Stop)");
    } else if (maxf > 0 && f->max_force >= 0.95 * maxf) {
        snprintf(why, sizeof(why), "Max_Force reached: %.4g of %.4g kN", f->max_force, maxf);
        raise_alarm(f, RS_ALARM_MAX_FORCE, t->id, "test %lld aborted: Max_Force reached (%.4g "
                    "of %.4g kN)", (long long)t->id, f->max_force, maxf);
    } else if (maxs > 0 && f->max_pos >= 0.98 * maxs) {
        snprintf(why, sizeof(why), "Max_Stroke reached: %.4g of %.4g mm", f->max_pos, maxs);
        raise_alarm(f, RS_ALARM_MAX_STROKE, t->id, "test %lld aborted: Max_Stroke reached "
                    "(%.4g of %.4g mm)", (long long)t->id, f->max_pos, maxs);
    } else if (f->disabled_seen) {
        snprintf(why, sizeof(why), "servo disabled (Enable off)");
    } else if (status == f->st.st_aborted) {
        snprintf(why, sizeof(why), "aborted by the PLC (Test_Status %d); the cause is not in the "
                 "recorded values", status);
    } else {
        snprintf(why, sizeof(why), "Test_Status went from running to %d without a result",
                 status);
    }
    size_t used = strlen(t->reason);
    snprintf(t->reason + used, sizeof(t->reason) - used, "%s%s", used ? "; " : "", why);
}

static void finish_test(rs_flow *f, const gw_snapshot *s, const char *status, int plc_status,
                        const char *why)
{
    gw_test *t = &f->t;
    flush_points(f);
    snprintf(t->status, sizeof(t->status), "%s", status);
    gw_time_iso8601(gw_wall_ms(), t->finished_at, sizeof(t->finished_at));
    if (strcmp(status, GW_TEST_COMPLETE) == 0) {
        double v;
        t->force_at_target = num_or_nan(f, s, T_FAT);
        t->ring_stiffness = num_or_nan(f, s, T_RS);
        t->sn_class = get_num(f, s, T_SNC, &v) ? (int)v : -1;
        t->plc_passed = get_num(f, s, T_PASSED, &v) ? v != 0 : -1;
        compute(f);
    } else if (strcmp(status, GW_TEST_ABORTED) == 0) {
        abort_reason(f, plc_status);
    } else if (why) {
        size_t used = strlen(t->reason);
        snprintf(t->reason + used, sizeof(t->reason) - used, "%s%s", used ? "; " : "", why);
    }
    if (f->points_capped) {
        size_t used = strlen(t->reason);
        snprintf(t->reason + used, sizeof(t->reason) - used, "%spoints after the %zu-th not "
                 "recorded", used ? "; " : "", f->npts);
    }
    gw_report_digest dg;
    gw_report_digest_init(&dg);
    for (size_t i = 0; i < f->npts; i++)
        gw_report_digest_point(&dg, &f->pts[i]);
    gw_report_digest_final(&dg, t->points_sha256);
    t->npoints = (int64_t)f->saved;
    gw_error err;
    if (f->env.store && t->id && gw_store_test_finish(f->env.store, t, &err) != GW_OK)
        gw_log_error(f->env.log, "rig", "%s: test %lld: the end is not stored: %s", f->m->id,
                     (long long)t->id, err.msg);
    gw_engine_set_interval(f->env.engine, f->m->id, f->group, 0);
    f->in_test = false;
    atomic_store(&f->current, 0);
    gw_log_info(f->env.log, "rig", "%s: test %lld %s%s%s (%zu points)", f->m->id,
                (long long)t->id, status, t->reason[0] ? ": " : "", t->reason, f->npts);
    json_t *o = rs_test_json(t);
    if (o) {
        json_object_set_new(o, "machine", json_string(f->m->id));
        json_object_set_new(o, "test_id", json_integer(t->id));
        json_object_set_new(o, "timestamp", json_string(t->finished_at));
    }
    emit(f, "test_complete", o);
}

/* ---------------------------------------------------------------- the thread */

static void process(rs_flow *f, const gw_snapshot *s, bool conn_changed)
{
    if (conn_changed && !s->connected) {
        f->status_known = f->servo_known = false;
        if (f->in_test) {
            int64_t id = f->t.id;
            char why[GW_TEST_REASON_MAX + 1];
            snprintf(why, sizeof(why), "PLC connection lost: %.200s", s->error);
            finish_test(f, s, GW_TEST_INTERRUPTED, 0, why);
            raise_alarm(f, RS_ALARM_CONNECTION_LOST, id, "test %lld interrupted: the PLC "
                        "connection was lost (%.150s)", (long long)id, s->error);
        }
        return;
    }
    if (!s->connected)
        return;
    double v;
    if (get_num(f, s, T_SERVO_ERR, &v)) {
        bool se = v != 0;
        if (f->servo_known && se && !f->servo_err)
            raise_alarm(f, RS_ALARM_SERVO_ERROR, atomic_load(&f->current),
                        "servo alarm (Servo_Error)");
        f->servo_err = se;
        f->servo_known = true;
    }
    if (f->in_test)
        record(f, s);
    if (!get_num(f, s, T_STATUS, &v))
        return;
    int status = (int)v;
    bool known = f->status_known;
    int prev = f->status;
    f->status = status;
    f->status_known = true;
    if (!f->in_test && status == f->st.st_running && (!known || prev != status)) {
        begin_test(f, s, !known);
        record(f, s);
    } else if (f->in_test && status != f->st.st_running) {
        if (status == f->st.st_complete)
            finish_test(f, s, GW_TEST_COMPLETE, status, NULL);
        else
            finish_test(f, s, GW_TEST_ABORTED, status, NULL);
    }
}

static void *flow_main(void *arg)
{
    rs_flow *f = arg;
    rs_item batch[64];
    for (;;) {
        pthread_mutex_lock(&f->mu);
        if (!f->stop && f->qlen == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 250 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&f->cv, &f->mu, &ts);
        }
        size_t n = 0;
        while (f->qlen > 0 && n < sizeof(batch) / sizeof(batch[0])) {
            batch[n++] = f->q[f->qhead];
            f->qhead = (f->qhead + 1) % RS_QUEUE;
            f->qlen--;
        }
        bool stop = f->stop;
        uint64_t dropped = f->dropped;
        pthread_mutex_unlock(&f->mu);
        for (size_t i = 0; i < n; i++) {
            process(f, batch[i].s, batch[i].conn_changed);
            gw_snapshot_release(batch[i].s);
        }
        if (dropped > f->dropped_seen) {
            raise_alarm(f, RS_ALARM_RECORDING, atomic_load(&f->current), "the recording fell "
                        "behind: %llu snapshots not seen", (unsigned long long)(dropped -
                                                                              f->dropped_seen));
            f->dropped_seen = dropped;
        }
        if (f->in_test && gw_mono_ms() - f->last_commit_ms >= RS_COMMIT_MS)
            flush_points(f);
        if (stop && n == 0)
            break;
    }
    if (f->in_test) {
        int64_t id = f->t.id;
        finish_test(f, NULL, GW_TEST_INTERRUPTED, 0, "the gateway stopped during the test");
        raise_alarm(f, RS_ALARM_INTERRUPTED, id, "test %lld interrupted: the gateway stopped "
                    "during it", (long long)id);
    }
    return NULL;
}

/* On the machine's thread: queue it, never wait. */
static void on_change(void *ud, const gw_change *c)
{
    rs_flow *f = ud;
    if (c->now->machine != f->m)
        return;
    pthread_mutex_lock(&f->mu);
    if (f->qlen == RS_QUEUE) {
        f->dropped++;
    } else {
        f->q[(f->qhead + f->qlen) % RS_QUEUE] =
            (rs_item){gw_snapshot_retain(c->now), c->connection_changed};
        f->qlen++;
        pthread_cond_signal(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
}

/* ---------------------------------------------------------------- start, stop */

void *rs_flow_start(const gw_app_env *env, const gw_machine_cfg *m, gw_error *err)
{
    rs_flow *f = gw_calloc(1, sizeof(*f));
    if (!f) {
        gw_error_set(err, GW_E_NOMEM, "out of memory");
        return NULL;
    }
    f->m = m;
    f->env = *env;
    gw_diag d;
    gw_diag_init(&d, env->config->path);
    if (!rs_settings_load(m, &f->st, &d)) {
        char first[400];
        gw_diag_first(&d, first, sizeof(first));
        gw_error_set(err, GW_E_CONFIG, "%s", first);
        gw_free(f);
        return NULL;
    }
    for (int i = 0; i < T_COUNT; i++) {
        const gw_tag *t = gw_tagmap_find(m->tags, tag_names[i]);
        f->ix[i] = t ? (long)(t - gw_tagmap_at(m->tags, 0)) : -1;
    }
    const gw_tag *ft = gw_tagmap_find(m->tags, "Actual_Force");
    snprintf(f->group, sizeof(f->group), "%s",
             ft && ft->group ? ft->group : m->ngroups ? m->groups[0].name : "default");
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    if (env->store) {
        long n = gw_store_tests_interrupt(env->store, m->id, "the gateway was restarted during "
                                          "the test", err);
        if (n > 0)
            raise_alarm(f, RS_ALARM_INTERRUPTED, 0, "%ld test%s interrupted: the gateway was "
                        "restarted during %s", n, n == 1 ? "" : "s", n == 1 ? "it" : "them");
    }
    if (gw_engine_subscribe(env->engine, on_change, f) != GW_OK ||
        pthread_create(&f->thread, NULL, flow_main, f) != 0) {
        gw_error_set(err, GW_E_IO, "machine %s: cannot start its test workflow", m->id);
        pthread_mutex_destroy(&f->mu);
        pthread_cond_destroy(&f->cv);
        gw_free(f);
        return NULL;
    }
    f->started = true;
    return f;
}

void rs_flow_stop(void *arg)
{
    rs_flow *f = arg;
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    if (f->started)
        pthread_join(f->thread, NULL);
    for (; f->qlen > 0; f->qlen--, f->qhead = (f->qhead + 1) % RS_QUEUE)
        gw_snapshot_release(f->q[f->qhead].s);
    gw_free(f->pts);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    gw_free(f);
}

const rs_settings *rs_flow_settings(const rs_flow *f)
{
    return &f->st;
}

int64_t rs_flow_current(rs_flow *f)
{
    return atomic_load(&f->current);
}

void rs_flow_set_intent(rs_flow *f, const rs_intent *in)
{
    pthread_mutex_lock(&f->mu);
    f->intent = *in;
    f->intent_ms = gw_wall_ms();
    pthread_mutex_unlock(&f->mu);
}

void rs_flow_clear_intent(rs_flow *f)
{
    pthread_mutex_lock(&f->mu);
    f->intent_ms = 0;
    pthread_mutex_unlock(&f->mu);
}

void rs_flow_note_stop(rs_flow *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop_ms = gw_wall_ms();
    pthread_mutex_unlock(&f->mu);
}
