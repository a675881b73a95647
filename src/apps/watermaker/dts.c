/*
 * dts.c - the watermaker's DTS sequences as tasks (docs/watermaker.md,
 * "DTS tasks"), the R1000 monitor and the last errors.
 *
 * A request (start, stop, skip) checks the mode it needs in the newest
 * snapshot, answers 202 with a task id at once, and hands the engine a
 * sequence (gw_engine_sequence) that runs on the machine's thread between
 * its scans: writes confirmed by the PLC, waits as timers, waits for a
 * register polled with fresh reads. Each sequence begins by reading the
 * mode again (the snapshot may be up to a scan old), and never retries a
 * refused write. One task at a time per machine.
 *
 * The engine's events (each step, the end) and the machine's mode changes
 * come here on the machine's thread; they are queued, and this workflow's
 * own thread keeps the tasks' state, writes the audit log (every write
 * with its task id), emits `dts_task` events and keeps the monitor.
 */
#include "wm_app.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WM_TASKS 16             /* kept for dts/status/{id} */
#define WM_STEPS 8
#define WM_WRITTEN 8
#define WM_CHANGES 50           /* the monitor's recent mode changes */
#define WM_ERRORS 10
#define WM_QUEUE 256
#define WM_OURS_MS 10000        /* a mode change this soon after our write of it is ours */

typedef struct {
    uint32_t settle_ms, valve_command_ms, valve_timeout_ms, stop_command_ms, skip_wait_ms;
} wm_settings;

typedef struct {
    long reg;
    double value;
    char at[32];
} wm_written;

typedef struct {
    char id[24];
    char kind[8];               /* start, stop, skip */
    char state[12];             /* running, completed, failed, cancelled */
    long mode;                  /* the mode it was asked in */
    char created[32], finished[32];
    gw_step steps[WM_STEPS];
    char what[WM_STEPS][96];
    size_t nsteps, done;        /* steps done */
    wm_written written[WM_WRITTEN];
    size_t nwritten;
    char error[480];
    uint64_t seq;
    gw_principal who;
} wm_task;

typedef struct {
    long from, to;
    char at[32];
    bool external;
    char task[24];
} wm_change;

typedef struct {
    char at[32];
    char what[160];
    char why[320];
} wm_error;

/* What the machine's thread hands over. */
typedef struct {
    enum { Q_SEQ, Q_MODE, Q_CONN } kind;
    gw_seq_event ev;
    char msg[480];
    long from, to;
    int64_t at_ms;
} wm_item;

struct wm_dts {
    const gw_machine_cfg *m;
    gw_app_env env;
    wm_settings st;
    long ix_mode;

    pthread_mutex_t mu;         /* everything below */
    pthread_cond_t cv;          /* the queue; a task's end */
    pthread_t thread;
    bool started, stop;
    wm_item q[WM_QUEUE];
    size_t qhead, qlen, dropped;
    wm_task tasks[WM_TASKS];    /* a ring, newest at (ntasks - 1) % WM_TASKS */
    size_t ntasks;
    wm_task *running;
    wm_change changes[WM_CHANGES];
    size_t nchanges;
    int64_t monitor_since;
    wm_error errors[WM_ERRORS];
    size_t nerrors;
    struct {
        long value;
        int64_t at_ms;
        char task[24];
    } ours[4];                  /* our latest writes of the mode */
    size_t nours;
};

/* ---------------------------------------------------------------- settings */

static const gw_field dts_fields[] = {
    {"mode_settle_ms", GW_KINDS_NUMBER, false, true, true, 0, 60000, "ms after R1000=34"},
    {"valve_command_ms", GW_KINDS_NUMBER, false, true, true, 0, 60000, "ms of R71=256"},
    {"valve_timeout_ms", GW_KINDS_NUMBER, false, true, true, 100, 600000,
     "ms to wait for R138 to reach 0"},
    {"stop_command_ms", GW_KINDS_NUMBER, false, true, true, 0, 60000,
     "ms of R71=512/513/1024"},
    {"skip_wait_ms", GW_KINDS_NUMBER, false, true, true, 0, 60000, "ms after R67=32968"},
};
static const gw_field app_fields[] = {
    {"dts", GW_KINDS_OBJECT, false, false, false, 0, 0, "the DTS sequences' waits"},
};

static bool load_settings(const gw_machine_cfg *m, wm_settings *st, gw_diag *d)
{
    *st = (wm_settings){2000, 2000, 15000, 1000, 1000};
    if (!m->app)
        return true;
    char ctx[80];
    snprintf(ctx, sizeof(ctx), "machine \"%s\" app", m->id);
    if (!gw_schema_check(d, m->app, app_fields, 1, GW_UNKNOWN_ERROR, ctx))
        return false;
    const gw_json *dts = gw_json_get(m->app, "dts");
    if (!dts)
        return true;
    if (!gw_schema_check(d, dts, dts_fields, sizeof(dts_fields) / sizeof(dts_fields[0]),
                         GW_UNKNOWN_ERROR, ctx))
        return false;
    uint32_t *to[] = {&st->settle_ms, &st->valve_command_ms, &st->valve_timeout_ms,
                      &st->stop_command_ms, &st->skip_wait_ms};
    for (size_t i = 0; i < 5; i++) {
        const gw_json *v = gw_json_get(dts, dts_fields[i].name);
        if (v && v->kind == GW_JSON_NUMBER)
            *to[i] = (uint32_t)v->u.num.d;
    }
    return true;
}

bool wm_settings_check(const gw_machine_cfg *m, gw_diag *d)
{
    wm_settings st;
    return load_settings(m, &st, d);
}

/* ---------------------------------------------------------------- helpers */

static void now_iso(char *buf, size_t size)
{
    gw_time_iso8601(gw_wall_ms(), buf, size);
}

/* A tag's holding register number (R1000 for "41000"), -1 if not one. */
static long reg_of(const gw_machine_cfg *m, const char *parameter)
{
    const gw_tag *t = gw_tagmap_find(m->tags, parameter);
    if (!t || t->key[0] != '4' || strlen(t->key) < 5)
        return -1;
    return strtol(t->key + 1, NULL, 10);
}

/* A text cut to size (the source may be another member of the workflow). */
static void copy_text(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memmove(dst, src, n);
    dst[n] = '\0';
}

static void add_error_locked(wm_dts *w, const char *what, const char *why)
{
    wm_error *e = &w->errors[w->nerrors++ % WM_ERRORS];
    now_iso(e->at, sizeof(e->at));
    copy_text(e->what, sizeof(e->what), what);
    copy_text(e->why, sizeof(e->why), why);
}

void wm_dts_error(wm_dts *w, const char *what, const char *why)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    add_error_locked(w, what, why);
    pthread_mutex_unlock(&w->mu);
}

json_t *wm_dts_errors(wm_dts *w)
{
    json_t *a = json_array();
    if (!w || !a)
        return a;
    pthread_mutex_lock(&w->mu);
    size_t n = w->nerrors < WM_ERRORS ? w->nerrors : WM_ERRORS;
    for (size_t k = 0; k < n; k++) {
        const wm_error *e = &w->errors[(w->nerrors - 1 - k) % WM_ERRORS];
        json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "timestamp", e->at, "what",
                                           e->what, "error", e->why));
    }
    pthread_mutex_unlock(&w->mu);
    return a;
}

static json_t *task_json(const wm_dts *w, const wm_task *t)
{
    json_t *steps = json_array(), *written = json_array();
    for (size_t i = 0; i < t->nsteps; i++)
        json_array_append_new(steps, json_pack("{s:i, s:s, s:s}", "step", (int)i + 1, "what",
                                               t->what[i], "state",
                                               i < t->done ? "done"
                                               : i == t->done && !strcmp(t->state, "running")
                                                   ? "running"
                                               : i == t->done && !strcmp(t->state, "failed")
                                                   ? "failed"
                                                   : "not run"));
    for (size_t i = 0; i < t->nwritten; i++) {
        char reg[24];
        snprintf(reg, sizeof(reg), "R%ld", t->written[i].reg);
        json_array_append_new(written, json_pack("{s:s, s:I, s:f, s:s}", "register", reg,
                                                 "address", (json_int_t)t->written[i].reg,
                                                 "value", t->written[i].value, "timestamp",
                                                 t->written[i].at));
    }
    const char *name = wm_mode_name(t->mode);
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s?, s:i, s:i, s:f, s:o, s:o, s:s, s:s?, s:s?, "
                     "s:s}",
                     "task_id", t->id, "machine", w->m->id, "kind", t->kind, "state", t->state,
                     "mode_at_request", (int)t->mode, "mode_name", name, "step",
                     (int)(t->done < t->nsteps ? t->done + 1 : t->nsteps), "steps_total",
                     (int)t->nsteps, "progress",
                     t->nsteps ? 100.0 * (double)t->done / (double)t->nsteps : 0.0, "steps",
                     steps, "written", written, "created", t->created, "finished",
                     t->finished[0] ? t->finished : NULL, "error",
                     t->error[0] ? t->error : NULL, "requested_by",
                     t->who.user_id ? t->who.name : "anonymous");
}

static void emit(wm_dts *w, const char *event, json_t *payload)
{
    if (payload && w->env.emit)
        w->env.emit(w->env.emit_ud, event, payload);
    else
        json_decref(payload);
}

/* ---------------------------------------------------------------- the thread */

static wm_task *task_by_seq_locked(wm_dts *w, uint64_t seq)
{
    for (size_t i = 0; i < WM_TASKS && i < w->ntasks; i++)
        if (w->tasks[i].seq == seq)
            return &w->tasks[i];
    return NULL;
}

static void audit(wm_dts *w, const wm_task *t, const char *values, const char *result)
{
    gw_error err;
    char action[64];
    snprintf(action, sizeof(action), "dts/%s %s", t->kind, t->id);
    if (w->env.store && gw_store_audit(w->env.store, t->who.user_id ? &t->who : NULL, w->m->id,
                                       action, values, result, &err) != GW_OK)
        gw_log_error(w->env.log, "dts", "audit: %s", err.msg);
}

static void on_seq_event(wm_dts *w, const gw_seq_event *ev, const char *msg)
{
    pthread_mutex_lock(&w->mu);
    wm_task *t = task_by_seq_locked(w, ev->id);
    if (!t) {
        pthread_mutex_unlock(&w->mu);
        return;
    }
    char values[160] = "";
    const gw_step *s = ev->step < t->nsteps ? &t->steps[ev->step] : NULL;
    if (ev->state == GW_SEQ_STEP) {
        t->done = ev->step + 1;
        if (ev->wrote && s && t->nwritten < WM_WRITTEN) {
            wm_written *wr = &t->written[t->nwritten++];
            wr->reg = reg_of(w->m, s->tag);
            wr->value = s->value;
            now_iso(wr->at, sizeof(wr->at));
            snprintf(values, sizeof(values), "{\"register\":\"R%ld\",\"value\":%g,\"task_id\":"
                     "\"%s\"}", wr->reg, s->value, t->id);
            if (strcmp(s->tag, "System Mode") == 0) {
                size_t k = w->nours++ % 4;
                w->ours[k].value = (long)s->value;
                w->ours[k].at_ms = gw_wall_ms();
                memcpy(w->ours[k].task, t->id, sizeof(w->ours[k].task));
            }
        }
    } else {
        snprintf(t->state, sizeof(t->state), "%s",
                 ev->state == GW_SEQ_DONE ? "completed"
                 : ev->state == GW_SEQ_FAILED ? "failed" : "cancelled");
        now_iso(t->finished, sizeof(t->finished));
        if (ev->state == GW_SEQ_FAILED) {
            snprintf(t->error, sizeof(t->error), "step %zu (%.90s): %.370s", ev->step + 1,
                     s ? t->what[ev->step] : "", msg);
            char what[160];
            snprintf(what, sizeof(what), "DTS %s task %s", t->kind, t->id);
            add_error_locked(w, what, t->error);
        } else if (ev->state == GW_SEQ_CANCELLED) {
            size_t used = (size_t)snprintf(t->error, sizeof(t->error), "%s after %zu of %zu "
                                           "steps; written:", msg, t->done, t->nsteps);
            for (size_t i = 0; i < t->nwritten && used < sizeof(t->error); i++)
                used += (size_t)snprintf(t->error + used, sizeof(t->error) - used, " R%ld=%g",
                                         t->written[i].reg, t->written[i].value);
            if (!t->nwritten && used < sizeof(t->error))
                snprintf(t->error + used, sizeof(t->error) - used, " nothing");
        }
        if (w->running == t)
            w->running = NULL;
        pthread_cond_broadcast(&w->cv);
    }
    json_t *o = task_json(w, t);
    wm_task copy = *t;
    pthread_mutex_unlock(&w->mu);
    if (values[0])
        audit(w, &copy, values, "ok");
    else if (ev->state == GW_SEQ_FAILED)
        audit(w, &copy, NULL, copy.error);
    gw_log_write(w->env.log, ev->state == GW_SEQ_FAILED ? GW_LOG_WARN : GW_LOG_INFO, "dts",
                 "%s: task %s (%s): %s%s%s", w->m->id, copy.id, copy.kind,
                 ev->state == GW_SEQ_STEP ? "step " : copy.state,
                 ev->state == GW_SEQ_STEP ? copy.what[ev->step] : "",
                 copy.error[0] && ev->state != GW_SEQ_STEP ? copy.error : "");
    emit(w, "dts_task", o);
}

static void on_mode(wm_dts *w, long from, long to, int64_t at_ms)
{
    pthread_mutex_lock(&w->mu);
    wm_change *c = &w->changes[w->nchanges++ % WM_CHANGES];
    c->from = from;
    c->to = to;
    gw_time_iso8601(at_ms, c->at, sizeof(c->at));
    c->external = true;
    c->task[0] = '\0';
    for (size_t k = 0; k < 4 && k < w->nours; k++)
        if (w->ours[k].value == to && at_ms - w->ours[k].at_ms <= WM_OURS_MS &&
            at_ms >= w->ours[k].at_ms - 1000) {
            c->external = false;
            snprintf(c->task, sizeof(c->task), "%s", w->ours[k].task);
            w->ours[k].at_ms = 0; /* one change per write */
        }
    json_t *o = json_pack("{s:s, s:i, s:s?, s:i, s:s?, s:s, s:b}", "machine", w->m->id, "from",
                          (int)from, "from_name", wm_mode_name(from), "to", (int)to, "to_name",
                          wm_mode_name(to), "timestamp", c->at, "external", c->external);
    pthread_mutex_unlock(&w->mu);
    emit(w, "mode_change", o);
}

static void *dts_main(void *arg)
{
    wm_dts *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->stop && w->qlen == 0)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->qlen == 0) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        wm_item it = w->q[w->qhead];
        w->qhead = (w->qhead + 1) % WM_QUEUE;
        w->qlen--;
        pthread_mutex_unlock(&w->mu);
        if (it.kind == Q_SEQ) {
            on_seq_event(w, &it.ev, it.msg);
        } else if (it.kind == Q_MODE) {
            on_mode(w, it.from, it.to, it.at_ms);
        } else {
            char what[64];
            snprintf(what, sizeof(what), "PLC %s", w->m->id);
            wm_dts_error(w, what, it.msg);
        }
    }
    return NULL;
}

/* On the machine's thread: queue, never wait. */
static void enqueue(wm_dts *w, const wm_item *it)
{
    pthread_mutex_lock(&w->mu);
    if (w->qlen == WM_QUEUE) {
        w->dropped++;
    } else {
        w->q[(w->qhead + w->qlen) % WM_QUEUE] = *it;
        w->qlen++;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

static void seq_cb(void *ud, const gw_seq_event *ev)
{
    wm_item it;
    memset(&it, 0, sizeof(it));
    it.kind = Q_SEQ;
    it.ev = *ev;
    snprintf(it.msg, sizeof(it.msg), "%s", ev->msg ? ev->msg : "");
    it.ev.msg = NULL;
    enqueue(ud, &it);
}

static void on_change(void *ud, const gw_change *c)
{
    wm_dts *w = ud;
    if (c->now->machine != w->m)
        return;
    wm_item it;
    memset(&it, 0, sizeof(it));
    it.at_ms = c->now->ts_ms ? c->now->ts_ms : gw_wall_ms();
    if (c->connection_changed && !c->now->connected) {
        it.kind = Q_CONN;
        snprintf(it.msg, sizeof(it.msg), "connection lost: %s", c->now->error);
        enqueue(w, &it);
        return;
    }
    long i = w->ix_mode;
    if (i < 0 || !c->prev || c->prev->quality[i] != GW_Q_GOOD || c->now->quality[i] != GW_Q_GOOD)
        return;
    long from = lround(gw_value_as_double(&c->prev->values[i]));
    long to = lround(gw_value_as_double(&c->now->values[i]));
    if (from == to)
        return;
    it.kind = Q_MODE;
    it.from = from;
    it.to = to;
    enqueue(w, &it);
}

/* ---------------------------------------------------------------- start, stop */

void *wm_dts_start(const gw_app_env *env, const gw_machine_cfg *m, gw_error *err)
{
    wm_dts *w = gw_calloc(1, sizeof(*w));
    if (!w) {
        gw_error_set(err, GW_E_NOMEM, "out of memory");
        return NULL;
    }
    w->m = m;
    w->env = *env;
    gw_diag d;
    gw_diag_init(&d, env->config->path);
    if (!load_settings(m, &w->st, &d)) {
        char first[400];
        gw_diag_first(&d, first, sizeof(first));
        gw_error_set(err, GW_E_CONFIG, "%s", first);
        gw_free(w);
        return NULL;
    }
    const gw_tag *t = gw_tagmap_find(m->tags, "System Mode");
    w->ix_mode = t ? (long)(t - gw_tagmap_at(m->tags, 0)) : -1;
    w->monitor_since = gw_wall_ms();
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (gw_engine_subscribe(env->engine, on_change, w) != GW_OK ||
        pthread_create(&w->thread, NULL, dts_main, w) != 0) {
        gw_error_set(err, GW_E_IO, "machine %s: cannot start its DTS workflow", m->id);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        gw_free(w);
        return NULL;
    }
    w->started = true;
    return w;
}

void wm_dts_stop(void *arg)
{
    wm_dts *w = arg;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (w->started)
        pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    gw_free(w);
}

/* ---------------------------------------------------------------- requests */

/* The machine (a watermaker), its workflow and its mode now; false when
 * answered. */
static bool dts_context(const gw_app_http *http, gw_app_req *r, const gw_machine_cfg **m,
                        wm_dts **w, long *mode, int *status)
{
    if (!(*m = wm_machine(http, r, status)))
        return false;
    *w = http->state(r, *m);
    if (!*w) {
        *status = http->problem(r, 503, "Service Unavailable", "the DTS workflow does not run");
        return false;
    }
    const gw_snapshot *s = gw_engine_snapshot(http->engine(r), (*m)->id);
    double v = NAN;
    bool ok = s && s->connected && wm_value(*m, s, "System Mode", &v);
    char why[400];
    if (!ok)
        snprintf(why, sizeof(why), "machine %s is not connected: %s", (*m)->id,
                 s && s->error[0] ? s->error : "no values yet");
    gw_snapshot_release(s);
    if (!ok) {
        *status = http->problem(r, 503, "Service Unavailable", why);
        return false;
    }
    *mode = lround(v);
    return true;
}

typedef struct {
    gw_step_kind kind;
    const char *tag;
    double value;
    uint32_t ms;
    char what[96];
} plan_step;

/* Starts task kind with the steps; answers 202, 409 or 503. */
static int run_task(const gw_app_http *http, gw_app_req *r, const gw_machine_cfg *m, wm_dts *w,
                    const char *kind, long mode, const plan_step *ps, size_t n)
{
    pthread_mutex_lock(&w->mu);
    if (w->running) {
        char d[200];
        snprintf(d, sizeof(d), "DTS task %s (%s) is running: one task at a time; cancel it "
                 "with POST dts/cancel", w->running->id, w->running->kind);
        pthread_mutex_unlock(&w->mu);
        return http->problem(r, 409, "Conflict", d);
    }
    wm_task *t = &w->tasks[w->ntasks % WM_TASKS];
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "dts-%zu", w->ntasks + 1);
    snprintf(t->kind, sizeof(t->kind), "%s", kind);
    snprintf(t->state, sizeof(t->state), "running");
    now_iso(t->created, sizeof(t->created));
    t->mode = mode;
    t->who = *http->who(r);
    t->nsteps = n;
    for (size_t i = 0; i < n; i++) {
        t->steps[i] = (gw_step){ps[i].kind, ps[i].tag, ps[i].value, ps[i].ms};
        snprintf(t->what[i], sizeof(t->what[i]), "%s", ps[i].what);
    }
    gw_error err;
    uint64_t seq = 0;
    /* under w->mu: the sequence's first event waits for its task's id */
    gw_err rc = gw_engine_sequence(http->engine(r), m->id, t->steps, n, seq_cb, w, &seq, &err);
    if (rc != GW_OK) {
        pthread_mutex_unlock(&w->mu);
        char what[64];
        snprintf(what, sizeof(what), "DTS %s", kind);
        wm_dts_error(w, what, err.msg);
        return http->problem(r, rc == GW_E_BUSY ? 409 : rc == GW_E_CONN_LOST ? 503 : 500,
                             rc == GW_E_BUSY ? "Conflict" : rc == GW_E_CONN_LOST
                                 ? "Service Unavailable" : "Internal Server Error", err.msg);
    }
    t->seq = seq;
    w->ntasks++;
    w->running = t;
    json_t *o = task_json(w, t);
    pthread_mutex_unlock(&w->mu);
    char action[300];
    snprintf(action, sizeof(action), "{\"task_id\":\"%s\",\"mode\":%ld}", t->id, mode);
    http->audit(r, m->id, action, "accepted");
    char url[160];
    snprintf(url, sizeof(url), "/api/machines/%s/dts/status/%s", m->id,
             json_string_value(json_object_get(o, "task_id")));
    json_object_set_new(o, "status_url", json_string(url));
    emit(w, "dts_task", json_deep_copy(o));
    return http->json(r, 202, o);
}

static int wrong_mode(const gw_app_http *http, gw_app_req *r, const char *what, long mode,
                      const char *allowed)
{
    char d[300];
    const char *name = wm_mode_name(mode);
    snprintf(d, sizeof(d), "cannot %s in mode %ld (%s): %s", what, mode, name ? name : "unknown",
             allowed);
    return http->problem(r, 409, "Conflict", d);
}

static int post_start(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m;
    wm_dts *w;
    long mode;
    if (!dts_context(http, r, &m, &w, &mode, &status))
        return status;
    const wm_settings *st = &w->st;
    plan_step ps[] = {
        {GW_STEP_WRITE_UNLESS, "System Mode", 34, 0, "R1000 = 34 (DTS request) unless it is"},
        {GW_STEP_WAIT, NULL, 0, st->settle_ms, "wait for the mode to settle"},
        {GW_STEP_WRITE, "Control Command", 256, 0, "R71 = 256 (valve positioning)"},
        {GW_STEP_WAIT, NULL, 0, st->valve_command_ms, "wait for the command"},
        {GW_STEP_WRITE, "Control Command", 0, 0, "R71 = 0"},
        {GW_STEP_WAIT_UNTIL, "DTS Valve Positioning Timer", 0, st->valve_timeout_ms,
         "wait for the valves: R138 reaches 0"},
        {GW_STEP_WRITE, "System Mode", 5, 0, "R1000 = 5 (DTS priming)"},
    };
    if (mode != 34 && mode != WM_MODE_STANDBY && mode != WM_MODE_STANDBY_ALT)
        return wrong_mode(http, r, "start the DTS", mode, "start from standby (2) or the DTS "
                          "request (34)");
    return run_task(http, r, m, w, "start", mode, ps, sizeof(ps) / sizeof(ps[0]));
}

static int post_stop(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m;
    wm_dts *w;
    long mode;
    if (!dts_context(http, r, &m, &w, &mode, &status))
        return status;
    long cmd, next;
    if (mode == WM_MODE_PRIME)
        cmd = 512, next = WM_MODE_FLUSH;
    else if (mode == WM_MODE_PRODUCTION)
        cmd = 513, next = WM_MODE_FLUSH;
    else if (mode == WM_MODE_FLUSH)
        cmd = 1024, next = WM_MODE_STANDBY;
    else
        return wrong_mode(http, r, "stop", mode, "stop is for priming (5), production (7) and "
                          "the flush (8)");
    plan_step ps[5];
    ps[0] = (plan_step){GW_STEP_EXPECT, "System Mode", (double)mode, 0, ""};
    snprintf(ps[0].what, sizeof(ps[0].what), "R1000 still reads %ld", mode);
    ps[1] = (plan_step){GW_STEP_WRITE, "Control Command", (double)cmd, 0, ""};
    snprintf(ps[1].what, sizeof(ps[1].what), "R71 = %ld (stop command)", cmd);
    ps[2] = (plan_step){GW_STEP_WAIT, NULL, 0, w->st.stop_command_ms, "wait for the command"};
    ps[3] = (plan_step){GW_STEP_WRITE, "Control Command", 0, 0, "R71 = 0"};
    ps[4] = (plan_step){GW_STEP_WRITE, "System Mode", (double)next, 0, ""};
    snprintf(ps[4].what, sizeof(ps[4].what), "R1000 = %ld (%s)", next, wm_mode_name(next));
    return run_task(http, r, m, w, "stop", mode, ps, 5);
}

static int post_skip(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m;
    wm_dts *w;
    long mode;
    if (!dts_context(http, r, &m, &w, &mode, &status))
        return status;
    if (mode == WM_MODE_PRIME) {
        plan_step ps[] = {
            {GW_STEP_EXPECT, "System Mode", 5, 0, "R1000 still reads 5"},
            {GW_STEP_WRITE, "Step Skip Command", 32841, 0,
             "R67 = 32841 (skip priming: the PLC goes on to 6, then 7)"},
        };
        return run_task(http, r, m, w, "skip", mode, ps, 2);
    }
    if (mode == WM_MODE_INIT) {
        plan_step ps[] = {
            {GW_STEP_EXPECT, "System Mode", 6, 0, "R1000 still reads 6"},
            {GW_STEP_WRITE, "Step Skip Command", 32968, 0, "R67 = 32968 (skip the init)"},
            {GW_STEP_WAIT, NULL, 0, w->st.skip_wait_ms, "wait for the command"},
            {GW_STEP_WRITE, "System Mode", 7, 0, "R1000 = 7 (production)"},
        };
        return run_task(http, r, m, w, "skip", mode, ps, 4);
    }
    return wrong_mode(http, r, "skip a step", mode, "skip is for priming (5) and the init (6)");
}

/* The task of the route's {task_id}, or the latest (NULL: none). */
static wm_task *find_task_locked(wm_dts *w, const char *id)
{
    if (!id)
        return w->ntasks ? &w->tasks[(w->ntasks - 1) % WM_TASKS] : NULL;
    for (size_t i = 0; i < WM_TASKS && i < w->ntasks; i++)
        if (strcmp(w->tasks[i].id, id) == 0)
            return &w->tasks[i];
    return NULL;
}

static int get_status(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m = wm_machine(http, r, &status);
    if (!m)
        return status;
    wm_dts *w = http->state(r, m);
    const char *id = http->arg(r);
    json_t *o = NULL;
    if (w) {
        pthread_mutex_lock(&w->mu);
        wm_task *t = find_task_locked(w, id);
        if (t)
            o = task_json(w, t);
        pthread_mutex_unlock(&w->mu);
    }
    if (!o && id) {
        char d[160];
        snprintf(d, sizeof(d), "no DTS task \"%s\" (the last %d are kept)", id, WM_TASKS);
        return http->problem(r, 404, "Not Found", d);
    }
    if (!o)
        o = json_pack("{s:s, s:n, s:s}", "machine", m->id, "task_id", "state", "none");
    return http->json(r, 200, o);
}

static int post_cancel(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m = wm_machine(http, r, &status);
    if (!m)
        return status;
    wm_dts *w = http->state(r, m);
    if (!w)
        return http->problem(r, 503, "Service Unavailable", "the DTS workflow does not run");
    const char *id = http->arg(r);
    pthread_mutex_lock(&w->mu);
    wm_task *t = id ? find_task_locked(w, id) : w->running;
    char d[200];
    if (!t || (id && t != w->running)) {
        if (!t && id)
            snprintf(d, sizeof(d), "no DTS task \"%s\"", id);
        else if (t)
            snprintf(d, sizeof(d), "DTS task %s is %s, not running", t->id, t->state);
        else
            snprintf(d, sizeof(d), "no DTS task runs");
        pthread_mutex_unlock(&w->mu);
        return http->problem(r, !t && id ? 404 : 409, !t && id ? "Not Found" : "Conflict", d);
    }
    uint64_t seq = t->seq;
    gw_engine_sequence_cancel(http->engine(r), m->id, seq);
    /* the engine ends it before its next step: wait for that, bounded */
    int64_t until = gw_wall_ms() + 3000;
    while (w->running == t && gw_wall_ms() < until) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
    json_t *o = task_json(w, t);
    pthread_mutex_unlock(&w->mu);
    char values[64];
    snprintf(values, sizeof(values), "{\"task_id\":\"%s\"}", json_string_value(
                 json_object_get(o, "task_id")));
    http->audit(r, m->id, values, "ok");
    return http->json(r, 200, o);
}

/* The timer of a mode, and its expected start (seconds). */
static const char *mode_timer(long mode, double *initial_s, long *reg)
{
    switch (mode) {
    case WM_MODE_REQUEST: *initial_s = 15; *reg = 138; return "DTS Valve Positioning Timer";
    case WM_MODE_PRIME: *initial_s = 180; *reg = 128; return "DTS Priming Timer";
    case WM_MODE_INIT: *initial_s = 60; *reg = 129; return "DTS Initialize Timer";
    case WM_MODE_FLUSH: *initial_s = 60; *reg = 133; return "DTS Fresh Water Flush Timer";
    default: return NULL;
    }
}

static int get_progress(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m = wm_machine(http, r, &status);
    if (!m)
        return status;
    const gw_snapshot *s = gw_engine_snapshot(http->engine(r), m->id);
    double mode_v;
    if (!s || !wm_value(m, s, "System Mode", &mode_v)) {
        gw_snapshot_release(s);
        return http->problem(r, 503, "Service Unavailable", "the mode (R1000) is not known yet");
    }
    long mode = lround(mode_v);
    double initial = 0, cur = NAN;
    long reg = 0;
    const char *timer = mode_timer(mode, &initial, &reg);
    json_t *o = json_pack("{s:s, s:i, s:s?, s:b}", "machine", m->id, "mode", (int)mode,
                          "mode_name", wm_mode_name(mode), "connected", s->connected);
    if (timer && wm_value(m, s, timer, &cur)) {
        bool active = cur < 6553.5;
        char regname[16];
        snprintf(regname, sizeof(regname), "R%ld", reg);
        json_object_set_new(o, "timer", json_pack("{s:s, s:s, s:f, s:f, s:b, s:s}", "name",
                                                  timer, "register", regname, "initial_s",
                                                  initial, "remaining_s", active ? cur : 0.0,
                                                  "active", active, "unit", "s"));
        json_object_set_new(o, "progress", json_real(wm_timer_progress(initial, cur)));
    } else {
        json_object_set_new(o, "timer", json_null());
        json_object_set_new(o, "progress", json_null());
        json_object_set_new(o, "note", json_string(mode == WM_MODE_PRODUCTION
                                                       ? "production runs until stopped: no timer"
                                                       : "this mode has no step timer"));
    }
    wm_dts *w = http->state(r, m);
    if (w) {
        pthread_mutex_lock(&w->mu);
        json_object_set_new(o, "task_id", w->running ? json_string(w->running->id) : json_null());
        pthread_mutex_unlock(&w->mu);
    }
    gw_app_stamp(o, s);
    gw_snapshot_release(s);
    return http->json(r, 200, o);
}

static int get_monitor(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m = wm_machine(http, r, &status);
    if (!m)
        return status;
    wm_dts *w = http->state(r, m);
    const gw_snapshot *s = gw_engine_snapshot(http->engine(r), m->id);
    double v;
    bool known = s && wm_value(m, s, "System Mode", &v);
    json_t *o = json_pack("{s:s, s:o, s:o}", "machine", m->id, "mode",
                          known ? json_integer(lround(v)) : json_null(), "mode_name",
                          known && wm_mode_name(lround(v)) ? json_string(wm_mode_name(lround(v)))
                                                           : json_null());
    json_t *changes = json_array();
    if (w) {
        pthread_mutex_lock(&w->mu);
        size_t n = w->nchanges < WM_CHANGES ? w->nchanges : WM_CHANGES;
        for (size_t k = 0; k < n; k++) {
            const wm_change *c = &w->changes[(w->nchanges - 1 - k) % WM_CHANGES];
            json_array_append_new(changes, json_pack("{s:i, s:s?, s:i, s:s?, s:s, s:b, s:s?}",
                                                     "from", (int)c->from, "from_name",
                                                     wm_mode_name(c->from), "to", (int)c->to,
                                                     "to_name", wm_mode_name(c->to), "timestamp",
                                                     c->at, "external", c->external, "task_id",
                                                     c->task[0] ? c->task : NULL));
        }
        char since[32];
        gw_time_iso8601(w->monitor_since, since, sizeof(since));
        json_object_set_new(o, "monitoring_since", json_string(since));
        json_object_set_new(o, "total_changes", json_integer((json_int_t)w->nchanges));
        pthread_mutex_unlock(&w->mu);
    }
    json_object_set_new(o, "changes", changes);
    if (s)
        gw_app_stamp(o, s);
    gw_snapshot_release(s);
    return http->json(r, 200, o);
}

/* ---------------------------------------------------------------- table */

#define TASK_EXAMPLE                                                                         \
    "{\"task_id\":\"dts-3\",\"machine\":\"watermaker\",\"kind\":\"start\",\"state\":"        \
    "\"running\",\"mode_at_request\":2,\"mode_name\":\"Home/Standby\",\"step\":6,"           \
    "\"steps_total\":7,\"progress\":71.4,\"steps\":[{\"step\":1,\"what\":\"R1000 = 34 (DTS " \
    "request) unless it is\",\"state\":\"done\"}],\"written\":[{\"register\":\"R1000\","     \
    "\"address\":1000,\"value\":34.0,\"timestamp\":\"2026-12-07T23:40:01.120Z\"}],"           \
    "\"created\":\"2026-12-07T23:40:01.100Z\",\"finished\":null,\"error\":null,"             \
    "\"requested_by\":\"op\",\"status_url\":\"/api/machines/watermaker/dts/status/dts-3\"}"

const gw_app_component wm_dts_components[] = {
    {"DtsTask", "{\"type\":\"object\",\"description\":\"a DTS sequence run as a task: its "
                "steps, the registers it wrote, its state (running, completed, failed, "
                "cancelled) and what failed\",\"properties\":{\"task_id\":{\"type\":\"string\"},"
                "\"kind\":{\"enum\":[\"start\",\"stop\",\"skip\"]},\"state\":{\"enum\":["
                "\"running\",\"completed\",\"failed\",\"cancelled\",\"none\"]},\"step\":{\"type\":"
                "\"integer\"},\"steps_total\":{\"type\":\"integer\"},\"progress\":{\"type\":"
                "\"number\"},\"steps\":{\"type\":\"array\"},\"written\":{\"type\":\"array\"},"
                "\"error\":{\"type\":[\"string\",\"null\"]}},\"example\":" TASK_EXAMPLE "}"},
    {"DtsProgress", "{\"type\":\"object\",\"description\":\"the step the machine is in, from "
                    "R1000 and its timer (34: R138, 5: R128, 6: R129, 8: R133): progress = "
                    "(initial - current) / initial x 100\",\"properties\":{\"mode\":{\"type\":\"integer\"},"
                    "\"mode_name\":{\"type\":[\"string\",\"null\"]},\"timer\":{\"type\":["
                    "\"object\",\"null\"]},\"progress\":{\"type\":[\"number\",\"null\"]},"
                    "\"task_id\":{\"type\":[\"string\",\"null\"]}},\"example\":{\"machine\":"
                    "\"watermaker\",\"mode\":5,\"mode_name\":\"DTS Prime\",\"connected\":true,"
                    "\"timer\":{\"name\":\"DTS Priming Timer\",\"register\":\"R128\","
                    "\"initial_s\":180.0,\"remaining_s\":120.5,\"active\":true,\"unit\":\"s\"},"
                    "\"progress\":33.05,\"task_id\":null,\"ts\":\"2026-12-07T23:41:00.000Z\","
                    "\"age_ms\":120}}"},
    {"R1000Monitor", "{\"type\":\"object\",\"description\":\"R1000's recent changes, newest "
                     "first; external: not caused by a task of this gateway\",\"properties\":{"
                     "\"mode\":{\"type\":[\"integer\",\"null\"]},\"changes\":{\"type\":"
                     "\"array\"}},\"example\":{\"machine\":\"watermaker\",\"mode\":6,"
                     "\"mode_name\":\"DTS Initialization\",\"monitoring_since\":"
                     "\"2026-12-07T23:30:00.000Z\",\"total_changes\":3,\"changes\":[{\"from\":5,"
                     "\"from_name\":\"DTS Prime\",\"to\":6,\"to_name\":\"DTS Initialization\","
                     "\"timestamp\":\"2026-12-07T23:43:01.000Z\",\"external\":true,"
                     "\"task_id\":null}]}}"},
};
const size_t wm_dts_ncomponents = sizeof(wm_dts_components) / sizeof(wm_dts_components[0]);

#define WM(method, path, role, summary, answer, fn, errors)                                   \
    {method, "/api/machines/{id}/" path, role, summary, answer, fn, NULL,                  \
     (errors) | GW_APP_E_MACHINE, NULL},                                                   \
    {method, "/api/" path, role, summary " (the default machine)", answer, fn, NULL,       \
     (errors) | GW_APP_E_MACHINE, NULL}

#define E_TASK (GW_APP_E_CONFLICT)

const gw_app_route wm_dts_routes[] = {
    WM("POST", "dts/start", GW_ROLE_OPERATOR, "Start the DTS: R1000=34, R71=256/0, the valves "
       "(R138), R1000=5; 202 with a task id at once", "DtsTask", post_start, E_TASK),
    WM("POST", "dts/stop", GW_ROLE_OPERATOR, "Stop by the mode: 5 or 7 to the flush (8), 8 to "
       "standby (2); 202 with a task id", "DtsTask", post_stop, E_TASK),
    WM("POST", "dts/skip", GW_ROLE_OPERATOR, "Skip the step: priming (R67=32841) or the init "
       "(R67=32968, R1000=7); 202 with a task id", "DtsTask", post_skip, E_TASK),
    WM("GET", "dts/status", GW_ROLE_VIEWER, "The latest DTS task", "DtsTask", get_status, 0),
    WM("GET", "dts/status/{task_id}", GW_ROLE_VIEWER, "One DTS task", "DtsTask", get_status,
       GW_APP_E_NOT_FOUND),
    WM("POST", "dts/cancel", GW_ROLE_OPERATOR, "Cancel the running DTS task: it ends before its "
       "next step, and says what it had written", "DtsTask", post_cancel, E_TASK),
    WM("POST", "dts/cancel/{task_id}", GW_ROLE_OPERATOR, "Cancel a DTS task", "DtsTask",
       post_cancel, E_TASK | GW_APP_E_NOT_FOUND),
    WM("GET", "dts/current-step-progress", GW_ROLE_VIEWER, "The step the machine is in and its "
       "timer's progress (also for a sequence started at the machine)", "DtsProgress",
       get_progress, 0),
    WM("GET", "dts/r1000-monitor", GW_ROLE_VIEWER, "R1000's recent changes (external: not "
       "ours)", "R1000Monitor", get_monitor, 0),
};
const size_t wm_dts_nroutes = sizeof(wm_dts_routes) / sizeof(wm_dts_routes[0]);
