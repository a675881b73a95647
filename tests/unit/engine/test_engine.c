/*
 * test_engine.c - the engine against the simulator in one process: both
 * machines connect, values arrive in snapshots with their quality, a
 * fault of the simulator's front-end is seen as "disconnected" with stale
 * values and the engine reconnects when it clears, and the engine stops
 * promptly while its PLC is gone.
 */
#include "engine/engine.h"
#include "sim/sim.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct {
    gw_sim *sim;
    gw_config *cfg;
    gw_engine *engine;
    char path[256];
} fixture;

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    gw_sim_opts so = {NULL, 1.0, 0, NULL};
    gw_error err;
    if (gw_sim_new(&so, &f->sim) != GW_OK)
        return -1;
    gw_sim_frontend_address(f->sim, GW_DRIVER_S7, "127.0.0.1", 0);
    gw_sim_frontend_address(f->sim, GW_DRIVER_MODBUS, "127.0.0.1", 0);
    if (gw_sim_add_device(f->sim, "ringstiff", "rig", GW_SOURCE_DIR "/config/s7/ringstiff.json",
                          &err) != GW_OK ||
        gw_sim_add_device(f->sim, "watermaker", "watermaker",
                          GW_SOURCE_DIR "/config/modbus/watermaker.json", &err) != GW_OK ||
        gw_sim_start(f->sim, &err) != GW_OK) {
        fprintf(stderr, "sim: %s\n", err.msg);
        return -1;
    }
    /* a gateway config on the simulator's ports */
    snprintf(f->path, sizeof(f->path), "/tmp/plcgw-test-engine-%d.json", (int)getpid());
    FILE *fp = fopen(f->path, "w");
    fprintf(fp, "{\"machines\": ["
                "{\"id\": \"rig\", \"driver\": \"s7\", \"port\": %u, \"timeout_ms\": 500, "
                "\"tags\": \"%s/config/s7/ringstiff.json\", \"scan\": {\"live\": 50, \"params\": 500}},"
                "{\"id\": \"watermaker\", \"driver\": \"modbus\", \"port\": %u, \"timeout_ms\": 500, "
                "\"tags\": \"%s/config/modbus/watermaker.json\"}]}",
            gw_tcpsrv_port(gw_sim_frontend(f->sim, GW_DRIVER_S7)), GW_SOURCE_DIR,
            gw_tcpsrv_port(gw_sim_frontend(f->sim, GW_DRIVER_MODBUS)), GW_SOURCE_DIR);
    fclose(fp);
    gw_diag d;
    if (gw_config_load(f->path, &f->cfg, &d) != GW_OK) {
        gw_diag_print(&d, stderr);
        return -1;
    }
    if (gw_engine_new(f->cfg, NULL, &f->engine) != GW_OK ||
        gw_engine_start(f->engine, &err) != GW_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gw_engine_free(f->engine);
    gw_config_free(f->cfg);
    gw_sim_free(f->sim);
    unlink(f->path);
    free(f);
    return 0;
}

static size_t tag_index(const gw_snapshot *s, const char *param)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(gw_tagmap_at(s->machine->tags, i)->parameter, param) == 0)
            return i;
    fail_msg("no tag %s", param);
    return 0;
}

/* Waits (at most timeout_ms) until the machine's snapshot has `param`
 * with quality q and, when want is not NaN, that value. */
static bool wait_value(fixture *f, const char *id, const char *param, gw_quality q, double want,
                       unsigned timeout_ms)
{
    uint64_t deadline = gw_mono_ms() + timeout_ms;
    for (;;) {
        const gw_snapshot *s = gw_engine_snapshot(f->engine, id);
        assert_non_null(s);
        size_t i = tag_index(s, param);
        bool ok = s->quality[i] == q &&
                  (isnan(want) || gw_value_as_double(&s->values[i]) == want);
        gw_snapshot_release(s);
        if (ok)
            return true;
        if (gw_mono_ms() >= deadline)
            return false;
        sleep_ms(10);
    }
}

static void test_values_arrive(void **state)
{
    fixture *f = *state;
    assert_true(wait_value(f, "watermaker", "System Mode", GW_Q_GOOD, 2, 3000));
    assert_true(wait_value(f, "rig", "Test_Status", GW_Q_GOOD, 0, 3000));
    gw_error err;
    assert_int_equal(gw_sim_set_io(gw_sim_device_find(f->sim, "rig"), "load_cell_kN", 12.5, &err),
                     GW_OK);
    /* the live group runs every 50 ms */
    assert_true(wait_value(f, "rig", "Actual_Force", GW_Q_GOOD, 12.5, 1000));
    const gw_snapshot *s = gw_engine_snapshot(f->engine, "rig");
    assert_true(s->connected);
    assert_true(s->ts_ms > 0);
    assert_true(gw_wall_ms() - s->ts_ms < 1000);
    assert_string_equal(s->error, "");
    uint64_t seq = s->seq;
    gw_snapshot_release(s);
    sleep_ms(300);
    s = gw_engine_snapshot(f->engine, "rig");
    assert_true(s->seq > seq + 2); /* new snapshots keep coming */
    gw_snapshot_release(s);
    assert_null(gw_engine_snapshot(f->engine, "nope"));
}

static void test_fault_stale_and_reconnect(void **state)
{
    fixture *f = *state;
    assert_true(wait_value(f, "rig", "Test_Status", GW_Q_GOOD, 0, 3000));
    const gw_snapshot *s = gw_engine_snapshot(f->engine, "rig");
    uint64_t connects = s->connects;
    gw_snapshot_release(s);
    /* the PLC drops us and refuses for a while */
    gw_tcpsrv *t = gw_sim_frontend(f->sim, GW_DRIVER_S7);
    gw_tcpsrv_fault(t, GW_FAULT_REFUSE, 800, 0);
    gw_tcpsrv_fault(t, GW_FAULT_DROP, 0, 0);
    assert_true(wait_value(f, "rig", "Test_Status", GW_Q_STALE, NAN, 2000));
    s = gw_engine_snapshot(f->engine, "rig");
    assert_false(s->connected);
    assert_true(s->error[0] != '\0');
    gw_snapshot_release(s);
    /* the watermaker's connection is not affected */
    assert_true(wait_value(f, "watermaker", "System Mode", GW_Q_GOOD, 2, 1000));
    /* back after the fault, with a new connection */
    assert_true(wait_value(f, "rig", "Test_Status", GW_Q_GOOD, 0, 6000));
    s = gw_engine_snapshot(f->engine, "rig");
    assert_true(s->connected);
    assert_true(s->connects > connects);
    gw_snapshot_release(s);
}

static void test_silent_plc_times_out(void **state)
{
    fixture *f = *state;
    assert_true(wait_value(f, "watermaker", "System Mode", GW_Q_GOOD, 2, 3000));
    /* a PLC that stops answering: the 500 ms timeout marks it stale */
    gw_tcpsrv_fault(gw_sim_frontend(f->sim, GW_DRIVER_MODBUS), GW_FAULT_SILENT, 1500, 0);
    assert_true(wait_value(f, "watermaker", "System Mode", GW_Q_STALE, NAN, 3000));
    assert_true(wait_value(f, "watermaker", "System Mode", GW_Q_GOOD, 2, 8000));
}

static void test_stop_while_disconnected(void **state)
{
    fixture *f = *state;
    assert_true(wait_value(f, "rig", "Test_Status", GW_Q_GOOD, 0, 3000));
    gw_sim_frontend_stop(f->sim, GW_DRIVER_S7);
    assert_true(wait_value(f, "rig", "Test_Status", GW_Q_STALE, NAN, 3000));
    uint64_t t0 = gw_mono_ms();
    gw_engine_free(f->engine);
    f->engine = NULL;
    assert_true(gw_mono_ms() - t0 < 2000); /* no thread left waiting on a dead PLC */
    gw_error err;
    assert_int_equal(gw_sim_frontend_start(f->sim, GW_DRIVER_S7, &err), GW_OK);
}

/* A checked write of one tag (the caller's gw_write). */
static void prepare(fixture *f, const char *id, const char *param, json_t *value, gw_write *w)
{
    const gw_machine_cfg *m = gw_config_machine(f->cfg, id);
    gw_error err;
    assert_int_equal(gw_tag_prepare_write(m->tags, gw_tagmap_find(m->tags, param), value, w, &err),
                     GW_OK);
    json_decref(value);
}

static void test_write_then_read(void **state)
{
    fixture *f = *state;
    assert_true(wait_value(f, "rig", "Test_Status", GW_Q_GOOD, 0, 3000));
    gw_write w[2];
    prepare(f, "rig", "Pipe_Diameter", json_real(315.5), &w[0]);
    prepare(f, "rig", "Lock_Upper", json_true(), &w[1]);
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_engine_write(f->engine, "rig", w, NULL, 2, 0, false, 2000, &err), GW_OK);
    /* confirmed by the PLC: it is in its memory now */
    gw_value v;
    gw_sim_device *rig = gw_sim_device_find(f->sim, "rig");
    assert_int_equal(gw_sim_get_property(rig, "Pipe_Diameter", &v, &err), GW_OK);
    assert_true(gw_value_as_double(&v) == 315.5);
    assert_true(gw_sim_get(rig, "Lock_Upper") == 1);
    /* and in the next snapshot, though its group runs every 500 ms */
    assert_true(wait_value(f, "rig", "Pipe_Diameter", GW_Q_GOOD, 315.5, 250));
    assert_int_equal(gw_engine_write(f->engine, "nope", w, NULL, 1, 0, false, 100, &err),
                     GW_E_NOT_FOUND);
}

static void test_write_disconnected_and_timeout(void **state)
{
    fixture *f = *state;
    assert_true(wait_value(f, "watermaker", "System Mode", GW_Q_GOOD, 2, 3000));
    gw_write w;
    prepare(f, "watermaker", "System Mode", json_integer(34), &w);
    gw_error err;
    /* a PLC that stops answering: the write times out */
    gw_tcpsrv_fault(gw_sim_frontend(f->sim, GW_DRIVER_MODBUS), GW_FAULT_SILENT, 3000, 0);
    uint64_t t0 = gw_mono_ms();
    gw_err rc = gw_engine_write(f->engine, "watermaker", &w, NULL, 1, 0, false, 2000, &err);
    assert_int_equal(rc, GW_E_TIMEOUT);
    assert_true(gw_mono_ms() - t0 < 2500);
    /* now it is known to be down: refused at once, nothing queued */
    assert_true(wait_value(f, "watermaker", "System Mode", GW_Q_STALE, NAN, 2000));
    t0 = gw_mono_ms();
    assert_int_equal(gw_engine_write(f->engine, "watermaker", &w, NULL, 1, 0, false, 2000, &err),
                     GW_E_CONN_LOST);
    assert_true(gw_mono_ms() - t0 < 100);
    assert_non_null(strstr(err.msg, "not connected"));
}

/* The seed's stop: true, and false 100 ms later by a timer on the
 * machine's thread; the simulator's write log shows both, in order. */
static void test_pulse(void **state)
{
    fixture *f = *state;
    assert_true(wait_value(f, "rig", "Test_Status", GW_Q_GOOD, 0, 3000));
    gw_write on, off;
    prepare(f, "rig", "Stop", json_true(), &on);
    prepare(f, "rig", "Stop", json_false(), &off);
    gw_sim_write *log = calloc(64, sizeof(*log));
    size_t before = gw_sim_writes(f->sim, 0, log, 64);
    gw_error err;
    assert_int_equal(gw_engine_write(f->engine, "rig", &on, &off, 1, 100, true, 2000, &err), GW_OK);
    assert_true(gw_sim_get(gw_sim_device_find(f->sim, "rig"), "Stop") == 1);
    uint64_t deadline = gw_mono_ms() + 2000;
    size_t n;
    while ((n = gw_sim_writes(f->sim, before, log, 64)) < 2 && gw_mono_ms() < deadline)
        sleep_ms(10);
    assert_int_equal(n, 2);
    assert_string_equal(log[0].parameter, "Stop");
    assert_string_equal(log[0].after, "true");
    assert_string_equal(log[1].parameter, "Stop");
    assert_string_equal(log[1].after, "false");
    uint64_t held = log[1].sim_ms - log[0].sim_ms;
    assert_true(held >= 100 && held < 400);
    free(log);
}

/* A client's own release of a held tag (false written without a release)
 * does the pending timed release: the PLC gets false once, not again
 * hold_ms later. */
static void test_release_done_by_write(void **state)
{
    fixture *f = *state;
    assert_true(wait_value(f, "rig", "Test_Status", GW_Q_GOOD, NAN, 3000));
    gw_write on, off;
    prepare(f, "rig", "Jog_Forward", json_true(), &on);
    prepare(f, "rig", "Jog_Forward", json_false(), &off);
    gw_sim_write *log = calloc(64, sizeof(*log));
    size_t before = gw_sim_writes(f->sim, 0, log, 64);
    gw_error err;
    assert_int_equal(gw_engine_write(f->engine, "rig", &on, &off, 1, 300, false, 2000, &err),
                     GW_OK);
    assert_int_equal(gw_engine_write(f->engine, "rig", &off, NULL, 1, 0, false, 2000, &err),
                     GW_OK);
    sleep_ms(700); /* past the release's time */
    size_t n = gw_sim_writes(f->sim, before, log, 64);
    assert_int_equal(n, 2);
    assert_string_equal(log[0].after, "true");
    assert_string_equal(log[1].after, "false");
    free(log);
}

/* A renewed hold (hold-to-run): writing the tag again with a release
 * moves its one pending release; the bit drops once, hold_ms after the
 * last write, not after the first. */
static void test_renewed_hold(void **state)
{
    fixture *f = *state;
    assert_true(wait_value(f, "rig", "Test_Status", GW_Q_GOOD, 0, 3000));
    gw_write on, off;
    prepare(f, "rig", "Jog_Forward", json_true(), &on);
    prepare(f, "rig", "Jog_Forward", json_false(), &off);
    gw_sim_write *log = calloc(64, sizeof(*log));
    size_t before = gw_sim_writes(f->sim, 0, log, 64);
    gw_error err;
    for (int i = 0; i < 4; i++) { /* renewed every 100 ms, held 300 ms */
        assert_int_equal(gw_engine_write(f->engine, "rig", &on, &off, 1, 300, false, 2000, &err),
                         GW_OK);
        sleep_ms(100);
    }
    uint64_t deadline = gw_mono_ms() + 2000;
    size_t n = 0;
    bool released = false;
    while (!released && gw_mono_ms() < deadline) {
        n = gw_sim_writes(f->sim, before, log, 64);
        for (size_t i = 0; i < n; i++)
            released = released || strcmp(log[i].after, "false") == 0;
        sleep_ms(10);
    }
    sleep_ms(400); /* no second release comes */
    n = gw_sim_writes(f->sim, before, log, 64);
    size_t falses = 0, last_true = 0, first_false = 0;
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(log[i].parameter, "Jog_Forward");
        if (strcmp(log[i].after, "true") == 0)
            last_true = i;
        else if (falses++ == 0)
            first_false = i;
    }
    assert_int_equal(falses, 1);
    assert_true(first_false > last_true); /* never released while renewed */
    uint64_t held = log[first_false].sim_ms - log[last_true].sim_ms;
    assert_true(held >= 300 && held < 600);
    free(log);
}

/* Change events: what a subscriber hears, on the machines' threads. */
typedef struct {
    pthread_mutex_t lock;
    int first_events;        /* events without a previous snapshot */
    int connect_events;      /* rig went connected */
    int drop_events;         /* rig went disconnected */
    int force_events;        /* rig's Actual_Force changed to 7.25 */
    int max_force_changes;   /* Max_Force listed after the first event */
    int events;
} recorder;

static void record(void *ud, const gw_change *c)
{
    recorder *r = ud;
    pthread_mutex_lock(&r->lock);
    r->events++;
    if (!c->prev)
        r->first_events++;
    if (strcmp(c->now->machine->id, "rig") == 0) {
        if (c->connection_changed && c->now->connected)
            r->connect_events++;
        if (c->connection_changed && !c->now->connected && c->prev && c->prev->connected)
            r->drop_events++;
        for (size_t k = 0; k < c->nchanged; k++) {
            const gw_tag *t = gw_tagmap_at(c->now->machine->tags, c->changed[k]);
            if (strcmp(t->parameter, "Actual_Force") == 0 &&
                gw_value_as_double(&c->now->values[c->changed[k]]) == 7.25)
                r->force_events++;
            if (strcmp(t->parameter, "Max_Force") == 0 && c->prev && c->prev->connected &&
                c->now->connected)
                r->max_force_changes++;
        }
    }
    pthread_mutex_unlock(&r->lock);
}

static int recorded(recorder *r, const int *field)
{
    pthread_mutex_lock(&r->lock);
    int v = *field;
    pthread_mutex_unlock(&r->lock);
    return v;
}

static bool wait_recorded(recorder *r, const int *field, int want, unsigned timeout_ms)
{
    uint64_t deadline = gw_mono_ms() + timeout_ms;
    while (recorded(r, field) < want && gw_mono_ms() < deadline)
        sleep_ms(10);
    return recorded(r, field) >= want;
}

/* Sequences: steps in order on the machine's thread, waits as timers, a
 * wait for a register with fresh reads; a refused tag is refused first, a
 * second sequence is busy, cancel ends it before its next step. */
typedef struct {
    pthread_mutex_t mu;
    gw_seq_event ev[32];
    size_t n;
    bool ended;
} seq_log;

static void seq_record(void *ud, const gw_seq_event *ev)
{
    seq_log *l = ud;
    pthread_mutex_lock(&l->mu);
    if (l->n < 32)
        l->ev[l->n++] = *ev;
    if (ev->state != GW_SEQ_STEP)
        l->ended = true;
    pthread_mutex_unlock(&l->mu);
}

static bool seq_wait(seq_log *l, unsigned ms)
{
    uint64_t deadline = gw_mono_ms() + ms;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        bool ended = l->ended;
        pthread_mutex_unlock(&l->mu);
        if (ended || gw_mono_ms() >= deadline)
            return ended;
        sleep_ms(10);
    }
}

static void test_sequence(void **state)
{
    fixture *f = *state;
    assert_true(wait_value(f, "watermaker", "System Mode", GW_Q_GOOD, NAN, 3000));
    gw_sim_device *wm = gw_sim_device_find(f->sim, "watermaker");
    gw_sim_set(wm, "System Mode", 2);
    assert_true(wait_value(f, "watermaker", "System Mode", GW_Q_GOOD, 2, 3000));
    seq_log l = {PTHREAD_MUTEX_INITIALIZER, {{0}}, 0, false};
    gw_step steps[] = {
        {GW_STEP_EXPECT, "System Mode", 2, 0},
        {GW_STEP_WRITE_UNLESS, "System Mode", 34, 0},
        {GW_STEP_WAIT, NULL, 0, 300},
        {GW_STEP_WRITE, "Control Command", 7, 0},
        {GW_STEP_WAIT_UNTIL, "System Mode", 9, 2000},
        {GW_STEP_WRITE, "Control Command", 0, 0},
    };
    gw_error err;
    uint64_t id = 0, id2;
    /* an unknown tag is refused before anything runs */
    gw_step bad = {GW_STEP_WRITE, "No Such Register", 1, 0};
    assert_int_equal(gw_engine_sequence(f->engine, "watermaker", &bad, 1, seq_record, &l, &id2,
                                        &err), GW_E_INVAL);
    gw_sim_write *log = calloc(64, sizeof(*log));
    size_t before = gw_sim_writes(f->sim, 0, log, 64);
    assert_int_equal(gw_engine_sequence(f->engine, "watermaker", steps, 6, seq_record, &l, &id,
                                        &err), GW_OK);
    assert_int_equal(gw_engine_sequence(f->engine, "watermaker", steps, 6, seq_record, &l, &id2,
                                        &err), GW_E_BUSY);
    /* the wait for mode 9: the "panel" sets it after a while */
    sleep_ms(800);
    gw_sim_set(wm, "System Mode", 9);
    assert_true(seq_wait(&l, 5000));
    assert_int_equal(l.ev[l.n - 1].state, GW_SEQ_DONE);
    assert_int_equal(l.n, 7); /* six steps and the end */
    assert_false(l.ev[0].wrote);
    assert_true(l.ev[1].wrote && l.ev[3].wrote && l.ev[5].wrote);
    assert_true(l.ev[4].reading == 9);
    size_t n = gw_sim_writes(f->sim, before, log, 64);
    assert_int_equal(n, 3);
    assert_string_equal(log[0].parameter, "System Mode");
    assert_string_equal(log[1].parameter, "Control Command");
    assert_true(log[1].wall_ms - log[0].wall_ms >= 300);
    assert_string_equal(log[2].parameter, "Control Command");

    /* a wait that times out fails the sequence, naming the register */
    seq_log t = {PTHREAD_MUTEX_INITIALIZER, {{0}}, 0, false};
    gw_step wait[] = {{GW_STEP_WAIT_UNTIL, "System Mode", 77, 300}};
    assert_int_equal(gw_engine_sequence(f->engine, "watermaker", wait, 1, seq_record, &t, &id,
                                        &err), GW_OK);
    assert_true(seq_wait(&t, 3000));
    assert_int_equal(t.ev[t.n - 1].state, GW_SEQ_FAILED);
    assert_int_equal(t.ev[t.n - 1].rc, GW_E_TIMEOUT);

    /* cancel: it ends before its next step */
    seq_log c = {PTHREAD_MUTEX_INITIALIZER, {{0}}, 0, false};
    gw_step slow[] = {{GW_STEP_WAIT, NULL, 0, 5000}, {GW_STEP_WRITE, "Control Command", 1, 0}};
    before = gw_sim_writes(f->sim, 0, log, 64);
    assert_int_equal(gw_engine_sequence(f->engine, "watermaker", slow, 2, seq_record, &c, &id,
                                        &err), GW_OK);
    sleep_ms(100);
    assert_int_equal(gw_engine_sequence_cancel(f->engine, "watermaker", id), GW_OK);
    assert_true(seq_wait(&c, 2000));
    assert_int_equal(c.ev[c.n - 1].state, GW_SEQ_CANCELLED);
    assert_int_equal(gw_sim_writes(f->sim, before, log, 64), 0);
    assert_int_equal(gw_engine_sequence_cancel(f->engine, "watermaker", id), GW_E_NOT_FOUND);
    free(log);
}

static void test_change_events(void **state)
{
    fixture *f = *state;
    recorder r = {.lock = PTHREAD_MUTEX_INITIALIZER};
    gw_engine *e;
    gw_error err;
    assert_int_equal(gw_engine_new(f->cfg, NULL, &e), GW_OK);
    assert_int_equal(gw_engine_subscribe(e, record, &r), GW_OK);
    assert_int_equal(gw_engine_start(e, &err), GW_OK);
    assert_int_equal(gw_engine_subscribe(e, record, &r), GW_E_INVAL); /* too late */
    assert_true(wait_recorded(&r, &r.connect_events, 1, 3000));
    assert_int_equal(gw_sim_set_io(gw_sim_device_find(f->sim, "rig"), "load_cell_kN", 7.25, &err),
                     GW_OK);
    assert_true(wait_recorded(&r, &r.force_events, 1, 1000));
    /* quiet scans publish snapshots but no events for unchanged tags */
    sleep_ms(300);
    assert_int_equal(recorded(&r, &r.max_force_changes), 0);
    gw_tcpsrv_fault(gw_sim_frontend(f->sim, GW_DRIVER_S7), GW_FAULT_DROP, 300, 0);
    assert_true(wait_recorded(&r, &r.drop_events, 1, 2000));
    assert_true(wait_recorded(&r, &r.connect_events, 2, 5000));
    gw_engine_free(e);
    assert_int_equal(r.first_events, 0); /* the first snapshot precedes start */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_values_arrive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_stale_and_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_plc_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_while_disconnected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_then_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_disconnected_and_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pulse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renewed_hold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_done_by_write, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
