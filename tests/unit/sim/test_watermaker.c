/*
 * test_watermaker.c - the simulator's watermaker behaves like the PLC of
 * seed 002 (docs/sim.md, "The watermaker's PLC program"), driven over
 * Modbus as the gateway drives a real one: our own client (libmodbus
 * underneath), and libmodbus alone where the exception on the wire is the
 * point.
 *
 *   - timers read 65535 when idle; RTC, outputs and status at rest;
 *   - the whole DTS flow of the specification at a high time scale, in
 *     strict mode: 34, R71 256/0, R138 to 0, 5, R67 32841, 6, 7, R71
 *     513/0, 8, R133 down, 2;
 *   - priming's 180 s at time scale 50 in under 4 s, then init and
 *     production by themselves;
 *   - R67 32968 in init: the init timer stops, the PLC waits for 7;
 *   - strict mode: each out-of-sequence System Mode write refused with
 *     exception 4 and nothing changed; the in-sequence ones accepted; the
 *     option through the control API and the gateway config;
 *   - outputs and System Status per mode; sensors settling with noise;
 *     an I/O forcing its sensor;
 *   - water counters and runtime growing with the product flow (float
 *     pairs, high word first);
 *   - register_base 1: a map counted from 1 reaches the same registers,
 *     from a client and through the gateway's engine.
 *
 * Every wait is bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <modbus/modbus.h>

#include "sim_test_helpers.h"

#include "engine/engine.h"

/* ------------------------------------------------------------ helpers */

typedef struct {
    simfx *f;
    gw_sim_device *wm;
    gw_tagmap *m;
    gw_mb_client *c;
} wmfx;

static wmfx wm_up(double scale, bool control)
{
    wmfx x;
    x.f = simfx_up(scale, 0, false, true, control);
    x.wm = dev(x.f, "wm");
    x.m = load_map(WM_MAP);
    x.c = mb_up(x.f->mb_port, 2000);
    return x;
}

static void wm_down(wmfx *x)
{
    gw_mb_client_free(x->c);
    gw_tagmap_free(x->m);
    simfx_down(x->f);
}

/* A tag's value as a client reads it (one request). */
static double rd(const wmfx *x, const char *name)
{
    gw_error err;
    gw_error_clear(&err);
    double v = NAN;
    gw_err rc = mb_read_tag(x->c, x->m, name, &v, &err);
    if (rc != GW_OK)
        fail_msg("read %s: %s", name, err.msg);
    return v;
}

/* A holding register as it is on the wire. */
static unsigned raw(const wmfx *x, unsigned reg)
{
    char text[200];
    snprintf(text, sizeof(text), "{\"mapping\": {\"4%04u\": {\"parameter\": \"r\", \"function\": "
             "\"decode_16bit_uint\"}}, \"endianness\": {\"byteorder\": \">\", \"wordorder\": "
             "\">\"}}", reg);
    gw_tagmap *one = NULL;
    gw_diag d;
    assert_int_equal(gw_tagmap_load_buf("raw", text, strlen(text), &one, &d), GW_OK);
    gw_error err;
    gw_error_clear(&err);
    double v = NAN;
    assert_int_equal(mb_read_tag(x->c, one, "r", &v, &err), GW_OK);
    gw_tagmap_free(one);
    return (unsigned)v;
}

static gw_err wr_rc(const wmfx *x, const char *name, double value, gw_error *err)
{
    gw_error_clear(err);
    return mb_write_json(x->c, x->m, name, json_integer((json_int_t)value), err);
}

static void wr(const wmfx *x, const char *name, double value)
{
    gw_error err;
    gw_err rc = wr_rc(x, name, value, &err);
    if (rc != GW_OK)
        fail_msg("write %s = %g: %s", name, value, err.msg);
}

/* Strict mode refuses: exception 4 reaches the client, nothing changes
 * (the mode stays, no write is logged). */
static void refused(const wmfx *x, double mode)
{
    uint64_t since = wlog_next(x->f->sim), ev = gw_sim_events(x->f->sim);
    double before = gw_sim_get(x->wm, "System Mode");
    gw_error err;
    gw_err rc = wr_rc(x, "System Mode", mode, &err);
    if (rc != GW_E_DEVICE_REJECTED)
        fail_msg("System Mode %g -> %g: %s, want exception 4", before, mode,
                 rc == GW_OK ? "accepted" : err.msg);
    assert_int_equal(err.device_code, 4);
    assert_non_null(strstr(err.msg, "exception 4, server device failure"));
    assert_true(gw_sim_get(x->wm, "System Mode") == before);
    assert_true(raw(x, 1000) == (unsigned)before);
    gw_sim_write w[2];
    assert_int_equal(gw_sim_writes(x->f->sim, since, w, 2), 0);
    assert_int_equal(gw_sim_events(x->f->sim), ev);
}

/* Waits (real time, bounded) until the property equals want; polls the
 * device's memory closely, for states that last a few ms at high scales. */
static bool prop_is(gw_sim_device *d, const char *name, double want, unsigned ms)
{
    uint64_t deadline = gw_mono_ms() + ms;
    for (;;) {
        if (gw_sim_get(d, name) == want)
            return true;
        if (gw_mono_ms() >= deadline)
            return false;
        usleep(200);
    }
}

static void expect_prop(gw_sim_device *d, const char *name, double want, unsigned ms)
{
    if (!prop_is(d, name, want, ms))
        fail_msg("%s is %g, want %g (after %u ms)", name, gw_sim_get(d, name), want, ms);
}

static void set_strict(const wmfx *x, bool on)
{
    json_t *o = json_pack("{s:b}", "strict", on);
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_sim_device_set_options(x->wm, o, &err), GW_OK);
    json_decref(o);
}

/* Control Command c, then 0, as the specification's sequences write it. */
static void command(const wmfx *x, double c)
{
    wr(x, "Control Command", c);
    wr(x, "Control Command", 0);
}

/* ------------------------------------------------------------ at rest */

static void test_at_rest(void **state)
{
    (void)state;
    wmfx x = wm_up(1.0, false);
    /* every timer idle: 65535 on the wire, 6553.5 s scaled */
    static const struct {
        const char *name;
        unsigned reg;
    } timers[] = {
        {"FWF Flush Timer", 136},        {"DTS Valve Positioning Timer", 138},
        {"DTS Priming Timer", 128},      {"DTS Initialize Timer", 129},
        {"DTS Fresh Water Flush Timer", 133}, {"DTS Stop Timer", 135},
        {"DTS Flush Timer", 139},
    };
    for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++) {
        assert_int_equal(raw(&x, timers[i].reg), 65535);
        assert_true(rd(&x, timers[i].name) == 6553.5);
    }
    assert_true(rd(&x, "System Mode") == 2);
    assert_true(rd(&x, "System Status") == 0);
    static const char *outs[] = {"Low Pressure Pump", "High Pressure Pump", "Product Divert Valve",
                                 "Flush Solenoid", "Shore Feed Solenoid"};
    sleep_ms(250); /* a tick or two */
    for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
        assert_true(rd(&x, outs[i]) == 0);
    assert_true(rd(&x, "Feed Pressure") == 0);
    assert_true(rd(&x, "High Pressure #1") == 0);
    assert_true(rd(&x, "1st Pass Product Flowmeter") == 0);
    double wt = rd(&x, "Water Temperature");
    assert_true(wt > 67 && wt < 69);

    /* the RTC: the wall clock at time scale 1, within a few seconds */
    time_t now = time(NULL);
    struct tm tm;
    assert_non_null(localtime_r(&now, &tm));
    double year = rd(&x, "RTC Year"), month = rd(&x, "RTC Month"), day = rd(&x, "RTC Day");
    double minutes = rd(&x, "RTC Minutes"), seconds = rd(&x, "RTC Seconds");
    assert_true(rd(&x, "RTC Month (Alt)") == month);
    print_message("RTC %g-%02g-%02g ..:%02g:%02g\n", year, month, day, minutes, seconds);
    assert_true(month >= 1 && month <= 12 && day >= 1 && day <= 31);
    assert_true(minutes >= 0 && minutes <= 59 && seconds >= 0 && seconds <= 60);
    int plc_s = (int)minutes * 60 + (int)seconds, wall_s = tm.tm_min * 60 + tm.tm_sec;
    int diff = abs(plc_s - wall_s);
    if (diff > 1800)
        diff = 3600 - diff; /* across the hour */
    if (diff > 5 || year != tm.tm_year + 1900)
        fail_msg("RTC %g ..:%g:%g, wall clock %d ..:%d:%d", year, minutes, seconds,
                 tm.tm_year + 1900, tm.tm_min, tm.tm_sec);
    wm_down(&x);
}

/* The RTC runs on the simulation clock: at time scale 100 one real second
 * moves it 100 s. */
static void test_rtc_scaled(void **state)
{
    (void)state;
    wmfx x = wm_up(100.0, false);
    sleep_ms(150);
    int a = (int)rd(&x, "RTC Minutes") * 60 + (int)rd(&x, "RTC Seconds");
    sleep_ms(1000);
    int b = (int)rd(&x, "RTC Minutes") * 60 + (int)rd(&x, "RTC Seconds");
    int moved = (b - a + 3600) % 3600;
    print_message("RTC moved %d s in 1 s real at scale 100\n", moved);
    assert_true(moved >= 95 && moved <= 150);
    wm_down(&x);
}

/* ------------------------------------------------------------ DTS flow */

/*
 * The specification's whole DTS run, in strict mode so that every write
 * is also proven in sequence (docs/sim.md): start (34, valves 256/0, R138
 * to 0, priming), skip (R67 32841: init shows, then production), stop
 * (513/0, flush), and the flush running down to standby by itself.
 */
static void test_dts_flow(void **state)
{
    (void)state;
    wmfx x = wm_up(50.0, false);
    set_strict(&x, true);

    /* start: DTS request, valve positioning */
    wr(&x, "System Mode", 34);
    expect_prop(x.wm, "System Mode", 34, 1000);
    wr(&x, "Control Command", 256);
    expect_prop(x.wm, "Control Command", 256, 10);
    /* R138 starts at 150 (15.0 s) and counts down */
    uint64_t deadline = gw_mono_ms() + 1000;
    unsigned first = 65535;
    while ((first = raw(&x, 138)) == 65535 && gw_mono_ms() < deadline)
        usleep(200);
    assert_true(first <= 150 && first > 100);
    wr(&x, "Control Command", 0);
    unsigned last = first, seen = 0;
    deadline = gw_mono_ms() + 3000; /* 15 s simulated: 0.3 s real */
    while (gw_mono_ms() < deadline) {
        unsigned v = raw(&x, 138);
        assert_true(v <= last); /* never up, never idle in between */
        if (v != last)
            seen++;
        last = v;
        if (v == 0)
            break;
        usleep(500);
    }
    assert_int_equal(last, 0);
    assert_true(seen >= 2);
    /* on the request screen it holds 0 (complete) */
    sleep_ms(40);
    assert_int_equal(raw(&x, 138), 0);
    assert_true(rd(&x, "DTS Valve Positioning Timer") == 0);

    /* priming: R128 from 1800 (180.0 s), the low pressure pump, shore feed */
    wr(&x, "System Mode", 5);
    expect_prop(x.wm, "Low Pressure Pump", 1, 1000);
    unsigned p = raw(&x, 128);
    assert_true(p <= 1800 && p > 1500);
    assert_true(rd(&x, "Shore Feed Solenoid") == 1);
    assert_true(rd(&x, "High Pressure Pump") == 0);
    assert_int_equal(raw(&x, 138), 65535); /* left the request screen: idle */

    /* skip from priming: the PLC shows init, then production by itself */
    gw_sim_set_time_scale(x.f->sim, 2); /* init's pass (0.5 s) lasts 250 ms real */
    wr(&x, "Step Skip Command", 32841);
    expect_prop(x.wm, "System Mode", 6, 1000);
    assert_true(rd(&x, "System Mode") == 6); /* a client sees it too */
    assert_true(rd(&x, "DTS Priming Timer") == 6553.5);
    expect_prop(x.wm, "System Mode", 7, 2000);
    gw_sim_set_time_scale(x.f->sim, 50);
    expect_prop(x.wm, "Product Divert Valve", 1, 1000);
    assert_true(rd(&x, "High Pressure Pump") == 1);
    assert_true(rd(&x, "Step Skip Command") == 32841); /* as the client left it */

    /* stop from production: 513, 0, flush */
    command(&x, 513);
    wr(&x, "System Mode", 8);
    expect_prop(x.wm, "Flush Solenoid", 1, 1000);
    assert_true(rd(&x, "System Status") == 5);
    assert_true(rd(&x, "High Pressure Pump") == 0);
    double fl = rd(&x, "DTS Fresh Water Flush Timer");
    assert_true(fl <= 60 && fl > 50);
    /* R133 counts down, then standby by itself (60 s: 1.2 s real) */
    sleep_ms(300);
    double fl2 = rd(&x, "DTS Fresh Water Flush Timer");
    assert_true(fl2 < fl && fl2 > 0);
    expect_prop(x.wm, "System Mode", 2, 3000);
    assert_true(rd(&x, "DTS Fresh Water Flush Timer") == 6553.5);
    expect_prop(x.wm, "Low Pressure Pump", 0, 1000);
    assert_true(rd(&x, "System Status") == 0);
    wm_down(&x);
}

/* Priming's 180 s at time scale 50 take 3.6 s of real time, under 4;
 * then init (60 s) and production follow by themselves. */
static void test_priming_time(void **state)
{
    (void)state;
    wmfx x = wm_up(50.0, false);
    uint64_t t0 = gw_mono_ms(), s0 = gw_sim_clock_ms(x.f->sim);
    wr(&x, "System Mode", 5);
    expect_prop(x.wm, "System Mode", 6, 5000);
    uint64_t real = gw_mono_ms() - t0, sim = gw_sim_clock_ms(x.f->sim) - s0;
    print_message("priming: %llu ms real, %llu ms simulated\n", (unsigned long long)real,
                  (unsigned long long)sim);
    assert_true(real < 4000);
    assert_true(sim >= 180000 - 200);
    double init = rd(&x, "DTS Initialize Timer");
    assert_true(init <= 60 && init > 50);
    assert_true(rd(&x, "DTS Priming Timer") == 6553.5);
    assert_true(rd(&x, "High Pressure Pump") == 1 || prop_is(x.wm, "High Pressure Pump", 1, 500));
    expect_prop(x.wm, "System Mode", 7, 3000);
    assert_true(rd(&x, "DTS Initialize Timer") == 6553.5);
    wm_down(&x);
}

/* R67 = 32968 in init: the init timer stops and the PLC stays in init
 * until the client writes production (strict: only after the skip). */
static void test_skip_from_init(void **state)
{
    (void)state;
    wmfx x = wm_up(50.0, false);
    wr(&x, "System Mode", 6); /* not strict: straight into init */
    expect_prop(x.wm, "High Pressure Pump", 1, 1000);
    double init = rd(&x, "DTS Initialize Timer");
    assert_true(init <= 60 && init > 40);
    set_strict(&x, true);
    refused(&x, 7); /* production from init needs the skip first */
    wr(&x, "Step Skip Command", 32968);
    expect_prop(x.wm, "DTS Initialize Timer", 6553.5, 1000);
    /* past the 60 s the timer would have run: still init */
    sleep_ms(1500);
    assert_true(rd(&x, "System Mode") == 6);
    assert_int_equal(raw(&x, 129), 65535);
    wr(&x, "System Mode", 7);
    expect_prop(x.wm, "Product Divert Valve", 1, 1000);
    assert_true(rd(&x, "System Mode") == 7);
    wm_down(&x);
}

/* ------------------------------------------------------------ strict mode */

static void test_strict_option(void **state)
{
    (void)state;
    wmfx x = wm_up(1.0, true);
    uint16_t port = x.f->ctl_port;
    http_reply r = http_expect(port, "GET", "/sim/devices/wm/options", NULL, 200);
    assert_true(json_is_false(json_object_get(r.json, "strict")));
    http_reply_free(&r);
    r = http_expect(port, "PUT", "/sim/devices/wm/options", "{\"strict\": true}", 200);
    assert_true(json_is_true(json_object_get(r.json, "strict")));
    http_reply_free(&r);
    r = http_expect(port, "GET", "/sim/devices/wm", NULL, 200);
    assert_true(json_is_true(json_object_get(json_object_get(r.json, "options"), "strict")));
    http_reply_free(&r);
    /* strict: standby to priming is out of sequence */
    refused(&x, 5);
    /* all or none: an unknown option or a bad value changes nothing */
    r = http_expect(port, "PUT", "/sim/devices/wm/options", "{\"strict\": false, \"nope\": 1}",
                    422);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "detail")), "nope"));
    http_reply_free(&r);
    r = http_expect(port, "PUT", "/sim/devices/wm/options", "{\"strict\": 1}", 422);
    http_reply_free(&r);
    r = http_expect(port, "PUT", "/sim/devices/wm/options", "[]", 400);
    http_reply_free(&r);
    r = http_expect(port, "POST", "/sim/devices/wm/options", "{}", 405);
    http_reply_free(&r);
    r = http_expect(port, "GET", "/sim/devices/nope/options", NULL, 404);
    http_reply_free(&r);
    refused(&x, 5);
    /* off again: any mode goes */
    r = http_expect(port, "PUT", "/sim/devices/wm/options", "{\"strict\": false}", 200);
    http_reply_free(&r);
    wr(&x, "System Mode", 5);
    expect_prop(x.wm, "Low Pressure Pump", 1, 1000);
    wm_down(&x);
}

/*
 * Every out-of-sequence System Mode write is refused with exception 4 and
 * changes nothing; the in-sequence ones go through (docs/sim.md, "Strict
 * mode"). Time scale 10: the valve positioning runs 1.5 s real.
 */
static void test_strict_sequence(void **state)
{
    (void)state;
    wmfx x = wm_up(10.0, false);
    set_strict(&x, true);

    /* from standby: the request and the navigation screens only */
    static const double from_standby_no[] = {5, 6, 7, 8, 42};
    for (size_t i = 0; i < sizeof(from_standby_no) / sizeof(from_standby_no[0]); i++)
        refused(&x, from_standby_no[i]);
    static const double screens[] = {3, 9, 15, 16, 17, 18, 31, 32, 33};
    for (size_t i = 0; i < sizeof(screens) / sizeof(screens[0]); i++) {
        wr(&x, "System Mode", screens[i]);
        refused(&x, i + 1 < sizeof(screens) / sizeof(screens[0]) ? screens[i + 1] : 3);
        refused(&x, 34);
        if (screens[i] >= 15 && screens[i] <= 18)
            expect_prop(x.wm, "System Status", 7, 1000);
        wr(&x, "System Mode", 2);
    }
    wr(&x, "System Mode", 2); /* the mode it is in */
    wr(&x, "System Mode", 65535);
    wr(&x, "System Mode", 2);

    /* the request: priming only after 256, 0 and R138 at 0 */
    wr(&x, "System Mode", 34);
    refused(&x, 5);
    refused(&x, 7);
    refused(&x, 9);
    wr(&x, "Control Command", 256);
    refused(&x, 5); /* no 0 yet */
    wr(&x, "Control Command", 0);
    refused(&x, 5); /* R138 still runs */
    expect_prop(x.wm, "DTS Valve Positioning Timer", 0, 3000);
    wr(&x, "System Mode", 34); /* the mode it is in: allowed, changes nothing */
    wr(&x, "System Mode", 5);
    expect_prop(x.wm, "Low Pressure Pump", 1, 1000);

    /* priming: only a stop (512, 0) to flush */
    refused(&x, 6);
    refused(&x, 7);
    refused(&x, 2);
    refused(&x, 8);
    wr(&x, "Control Command", 513); /* the stop of another mode */
    wr(&x, "Control Command", 0);
    refused(&x, 8);
    wr(&x, "Control Command", 512);
    assert_true(rd(&x, "Control Command") == 512); /* acknowledged: stored */
    refused(&x, 8); /* no 0 yet */
    wr(&x, "Control Command", 0);
    wr(&x, "System Mode", 8);
    expect_prop(x.wm, "Flush Solenoid", 1, 1000);

    /* flush: only 1024, 0 to standby; the stop of priming no longer counts */
    refused(&x, 2);
    refused(&x, 5);
    refused(&x, 34);
    command(&x, 1024);
    /* the same refusal as libmodbus alone sees it: FC 16, exception 4 */
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", x.f->mb_port);
    assert_non_null(ctx);
    modbus_set_slave(ctx, 1);
    assert_int_equal(modbus_connect(ctx), 0);
    uint16_t five = 5;
    assert_int_equal(modbus_write_registers(ctx, 1000, 1, &five), -1);
    assert_int_equal(errno, EMBXSFAIL);
    assert_int_equal(modbus_write_register(ctx, 1000, 7), -1);
    assert_int_equal(errno, EMBXSFAIL);
    uint16_t two = 2;
    assert_int_equal(modbus_write_registers(ctx, 1000, 1, &two), 1);
    modbus_close(ctx);
    modbus_free(ctx);
    expect_prop(x.wm, "Flush Solenoid", 0, 1000);
    assert_true(rd(&x, "System Mode") == 2);
    assert_true(rd(&x, "DTS Fresh Water Flush Timer") == 6553.5);

    /* production: only 513, 0 to flush (not strict on the way in) */
    set_strict(&x, false);
    wr(&x, "System Mode", 7);
    set_strict(&x, true);
    refused(&x, 8);
    refused(&x, 2);
    command(&x, 512);
    refused(&x, 8);
    command(&x, 513);
    wr(&x, "System Mode", 8);
    expect_prop(x.wm, "System Status", 5, 1000);

    /* refusals are logged with the reason */
    char *log = test_log_text(&x.f->log);
    assert_non_null(strstr(log, "System Mode 34 -> 5 refused with exception 4: the valve "
                                "positioning has not finished"));
    free(log);
    wm_down(&x);
}

/* The gateway config's "simulator": {"strict": true} is read and checked. */
static void test_strict_config(void **state)
{
    (void)state;
    char dir[] = "/tmp/gw_wm_cfg_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/gw.json", dir);
    static const char *const bodies[] = {
        "{\"simulator\": {\"strict\": true}, \"machines\": [{\"id\": \"wm\", \"driver\": "
        "\"modbus\", \"simulate\": true, \"tags\": \"" WM_MAP "\"}]}",
        "{\"machines\": [{\"id\": \"wm\", \"driver\": \"modbus\", \"tags\": \"" WM_MAP "\"}]}",
        "{\"simulator\": {\"strict\": 1}, \"machines\": [{\"id\": \"wm\", \"driver\": "
        "\"modbus\", \"tags\": \"" WM_MAP "\"}]}",
    };
    for (size_t i = 0; i < 3; i++) {
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(bodies[i], fp);
        fclose(fp);
        gw_config *cfg = NULL;
        gw_diag d;
        gw_diag_init(&d, path);
        gw_err rc = gw_config_load(path, &cfg, &d);
        if (i < 2) {
            assert_int_equal(rc, GW_OK);
            assert_int_equal(cfg->sim_strict, i == 0);
            gw_config_free(cfg);
        } else {
            assert_int_equal(rc, GW_E_CONFIG);
            char first[300];
            gw_diag_first(&d, first, sizeof(first));
            print_message("%s\n", first);
            assert_non_null(strstr(first, "\"strict\" must be"));
            assert_non_null(strstr(first, "gw.json:1:26:"));
        }
    }
    unlink(path);
    rmdir(dir);
}

/* ------------------------------------------------------------ outputs and sensors */

/* Outputs and System Status per mode (docs/sim.md, not strict). */
static void test_outputs(void **state)
{
    (void)state;
    wmfx x = wm_up(10.0, false);
    static const struct {
        int mode;
        int lp, hp, divert, flush, shore, status;
    } want[] = {
        {5, 1, 0, 0, 0, 1, 0}, {6, 1, 1, 0, 0, 0, 0}, {7, 1, 1, 1, 0, 0, 0},
        {8, 1, 0, 0, 1, 0, 5}, {2, 0, 0, 0, 0, 0, 0}, {34, 0, 0, 0, 0, 0, 0},
        {15, 0, 0, 0, 0, 0, 7}, {18, 0, 0, 0, 0, 0, 7}, {9, 0, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        wr(&x, "System Mode", want[i].mode);
        expect_prop(x.wm, "System Status", want[i].status, 1000);
        expect_prop(x.wm, "Low Pressure Pump", want[i].lp, 1000);
        expect_prop(x.wm, "High Pressure Pump", want[i].hp, 1000);
        expect_prop(x.wm, "Product Divert Valve", want[i].divert, 1000);
        expect_prop(x.wm, "Flush Solenoid", want[i].flush, 1000);
        expect_prop(x.wm, "Shore Feed Solenoid", want[i].shore, 1000);
        assert_true(rd(&x, "Double Pass Solenoid") == 0);
    }
    wm_down(&x);
}

/* Reads a sensor until it is within tol of want (bounded). */
static double settles(const wmfx *x, const char *name, double want, double tol, unsigned ms)
{
    uint64_t deadline = gw_mono_ms() + ms;
    double v;
    while (fabs((v = rd(x, name)) - want) > tol + 1e-9) {
        if (gw_mono_ms() > deadline)
            fail_msg("%s = %g, want %g +- %g", name, v, want, tol);
        sleep_ms(10);
    }
    return v;
}

/* Sensors follow the mode's values with a lag and a little noise; a
 * stopped pump reads 0; an I/O set through the control API forces its
 * sensor exactly. */
static void test_sensors(void **state)
{
    (void)state;
    wmfx x = wm_up(20.0, false);
    wr(&x, "System Mode", 7);
    /* a lag: shortly after the start the high pressure is on its way up */
    sleep_ms(10);
    double early = rd(&x, "High Pressure #1");
    assert_true(early < 700);
    settles(&x, "High Pressure #1", 800, 10, 3000);
    settles(&x, "High Pressure #2", 790, 10, 3000);
    settles(&x, "Feed Pressure", 40, 2, 3000);
    settles(&x, "1st Pass Product Flowmeter", 4.5, 0.15, 3000);
    settles(&x, "Brine Flowmeter", 9, 0.15, 3000);
    settles(&x, "Product TDS #1", 180, 5, 3000);
    settles(&x, "Water Temperature", 68, 0.3, 3000);
    /* the system warms up with the pumps running (75 F + 13 F, slowly) */
    settles(&x, "System Temperature", 88, 1, 8000);
    /* noise: not one value over many scans */
    double lo = 1e9, hi = -1e9;
    for (int i = 0; i < 40; i++) {
        double v = rd(&x, "High Pressure #1");
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sleep_ms(6);
    }
    print_message("High Pressure #1 in production: %g..%g PSI\n", lo, hi);
    assert_true(hi > lo);
    assert_true(lo >= 790 && hi <= 810);
    /* an I/O forces its sensor, exactly */
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_sim_set_io(x.wm, "tds_ppm", 250, &err), GW_OK);
    settles(&x, "Product TDS #1", 250, 0, 1000);
    for (int i = 0; i < 10; i++) {
        assert_true(rd(&x, "Product TDS #1") == 250);
        sleep_ms(5);
    }
    /* standby: pressures and flows fall to 0 exactly */
    wr(&x, "System Mode", 2);
    settles(&x, "High Pressure #1", 0, 0, 3000);
    settles(&x, "Feed Pressure", 0, 0, 3000);
    settles(&x, "1st Pass Product Flowmeter", 0, 0, 3000);
    settles(&x, "Brine Flowmeter", 0, 0, 3000);
    settles(&x, "Product TDS #1", 0, 0, 3000);
    wm_down(&x);
}

/* ------------------------------------------------------------ counters */

/*
 * In production the single-pass and DTS counters grow by the product flow
 * (gallons = GPM x minutes), runtime by the time the pumps run; the
 * "since last" counters restart with a DTS run; the double-pass ones
 * stay. Floats are pairs with the high word at the lower address.
 */
static void test_counters(void **state)
{
    (void)state;
    wmfx x = wm_up(100.0, false);
    double rt0 = rd(&x, "Runtime Hours");
    assert_true(rt0 >= 1250 && rt0 < 1251);
    /* the float pair on the wire: the high word first (R5014) */
    float f = (float)rt0;
    uint32_t bits;
    memcpy(&bits, &f, 4);
    assert_int_equal(raw(&x, 5014), bits >> 16);
    assert_int_equal(raw(&x, 5015), bits & 0xFFFF);
    double dp_total = rd(&x, "Double-Pass Total Gallons");
    assert_true(dp_total == 10480);
    double sp0 = rd(&x, "Single-Pass Total Gallons");

    /* standby: nothing grows */
    sleep_ms(200);
    assert_true(rd(&x, "Runtime Hours") == rt0);
    assert_true(rd(&x, "Single-Pass Total Gallons") == sp0);

    /* a DTS run: priming restarts the "since last" counters */
    wr(&x, "System Mode", 5);
    expect_prop(x.wm, "Low Pressure Pump", 1, 1000);
    assert_true(rd(&x, "DTS Since Last Gallons") == 0);
    assert_true(rd(&x, "Single-Pass Since Last") == 0);
    wr(&x, "Step Skip Command", 32841);
    expect_prop(x.wm, "System Mode", 7, 2000);
    /* the flow settles (1 s lag: 10 s simulated is 0.1 s real) */
    settles(&x, "1st Pass Product Flowmeter", 4.5, 0.1, 2000);
    sleep_ms(100);
    uint64_t a0 = gw_sim_clock_ms(x.f->sim);
    double sp_a = rd(&x, "Single-Pass Total Gallons");
    double spl_a = rd(&x, "Single-Pass Since Last");
    double dts_a = rd(&x, "DTS Total Gallons");
    double dtsl_a = rd(&x, "DTS Since Last Gallons");
    double rt_a = rd(&x, "Runtime Hours");
    uint64_t a1 = gw_sim_clock_ms(x.f->sim);
    sleep_ms(1200); /* 2 minutes simulated */
    uint64_t b0 = gw_sim_clock_ms(x.f->sim);
    double sp_b = rd(&x, "Single-Pass Total Gallons");
    double spl_b = rd(&x, "Single-Pass Since Last");
    double dts_b = rd(&x, "DTS Total Gallons");
    double dtsl_b = rd(&x, "DTS Since Last Gallons");
    double rt_b = rd(&x, "Runtime Hours");
    uint64_t b1 = gw_sim_clock_ms(x.f->sim);
    /* between the reads: at least b0 - a1, at most b1 - a0 of simulated
     * time, a tick (100 ms) either way */
    double min_lo = (double)(b0 - a1 - 200) / 60000.0, min_hi = (double)(b1 - a0 + 200) / 60000.0;
    double gal = sp_b - sp_a;
    print_message("%.2f gallons in %.3f..%.3f min; runtime +%.4f h\n", gal, min_lo, min_hi,
                  rt_b - rt_a);
    /* 4.5 GPM +- 0.1 (the flow's lag has settled), float32 rounding of
     * 48 000 gallons (0.004) */
    const double grown[] = {gal, dts_b - dts_a, spl_b - spl_a, dtsl_b - dtsl_a};
    for (size_t i = 0; i < 4; i++)
        if (!(grown[i] >= 4.4 * min_lo - 0.01 && grown[i] <= 4.6 * min_hi + 0.01))
            fail_msg("counter %zu grew %g gallons in %.3f..%.3f min", i, grown[i], min_lo,
                     min_hi);
    assert_true(spl_b > 0 && dtsl_b > 0);
    assert_true(rt_b - rt_a >= min_lo / 60.0 - 0.0002 && rt_b - rt_a <= min_hi / 60.0 + 0.0002);
    assert_true(rd(&x, "Double-Pass Total Gallons") == dp_total);

    /* a value set through the control API is the new count */
    json_t *v = json_real(100000.0);
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_sim_set_property(x.wm, "DTS Total Gallons", v, &err), GW_OK);
    json_decref(v);
    sleep_ms(100);
    double dts_c = rd(&x, "DTS Total Gallons");
    assert_true(dts_c > 100000 && dts_c < 100100);
    wm_down(&x);
}

/* ------------------------------------------------------------ register_base */

/* The sequence number after the server's newest logged request. */
static uint64_t log_end(gw_mb_server *s)
{
    gw_mb_logged l[64];
    uint64_t seen = 0;
    size_t n;
    while ((n = gw_mb_server_log(s, seen, l, 64)) > 0)
        seen = l[n - 1].seq + 1;
    return seen;
}

/*
 * A map counted from 1, as a PLC's documentation that counts from 1 would
 * give it ("41001" for the simulator's R1000), read and written with
 * register_base 1: the same registers on the wire (the server's request
 * log shows PDU address 1000).
 */
static void test_register_base(void **state)
{
    (void)state;
    wmfx x = wm_up(1.0, false);
    static const char one_based[] =
        "{\"endianness\": {\"byteorder\": \">\", \"wordorder\": \">\"}, \"mapping\": {"
        "\"41001\": {\"parameter\": \"System Mode\", \"function\": \"decode_16bit_uint\"},"
        "\"40139\": {\"parameter\": \"DTS Valve Positioning Timer\", \"function\": "
        "\"decode_16bit_uint\", \"multiplier\": 0.1},"
        "\"45015/45016\": {\"parameter\": \"Runtime Hours\", \"function\": \"decode_32bit_float\"}}}";
    gw_tagmap *m1 = NULL;
    gw_diag d;
    assert_int_equal(gw_tagmap_load_buf("one", one_based, strlen(one_based), &m1, &d), GW_OK);
    gw_mb_opts o;
    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port = x.f->mb_port;
    o.unit = 1;
    o.register_base = 1;
    gw_mb_client *c1 = NULL;
    assert_int_equal(gw_mb_client_new(&o, &c1), GW_OK);
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_mb_connect(c1, &err), GW_OK);

    double runtime = rd(&x, "Runtime Hours"); /* through the zero-based map */
    gw_mb_plan *p = NULL;
    assert_int_equal(gw_mb_plan_new(m1, NULL, &p), GW_OK);
    gw_mb_readout *r = NULL;
    assert_int_equal(gw_mb_readout_new(p, &r), GW_OK);
    uint64_t start = log_end(x.f->sim->mb);
    assert_int_equal(gw_mb_read_plan(c1, p, r, &err), GW_OK);
    static const char *const names[] = {"System Mode", "DTS Valve Positioning Timer",
                                        "Runtime Hours"};
    double want[] = {2, 6553.5, runtime};
    for (size_t i = 0; i < 3; i++) {
        gw_value v;
        assert_int_equal(gw_mb_readout_value(p, r, tag_index(m1, names[i]), &v, &err), GW_OK);
        if (fabs(gw_value_as_double(&v) - want[i]) > 0.001)
            fail_msg("%s through the one-based map: %g, want %g", names[i],
                     gw_value_as_double(&v), want[i]);
        gw_value_clear(&v);
    }
    /* a write through the one-based map reaches R1000 */
    const gw_tag *t = gw_tagmap_find(m1, "System Mode");
    json_t *j = json_integer(34);
    gw_write w;
    assert_int_equal(gw_tag_prepare_write(m1, t, j, &w, &err), GW_OK);
    json_decref(j);
    assert_int_equal(gw_mb_write(c1, &w, &err), GW_OK);
    expect_prop(x.wm, "System Mode", 34, 1000);
    /* the wire: PDU addresses one lower than the map's */
    gw_mb_logged l[16];
    size_t n = gw_mb_server_log(x.f->sim->mb, start, l, 16);
    static const struct {
        uint8_t fc;
        uint16_t addr, count;
    } wire[] = {{3, 138, 1}, {3, 1000, 1}, {3, 5014, 2}, {6, 1000, 1}};
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        if (l[i].fc != wire[i].fc || l[i].addr != wire[i].addr || l[i].count != wire[i].count)
            fail_msg("request %zu: FC %u at %u (%u), want FC %u at %u (%u)", i, l[i].fc,
                     l[i].addr, l[i].count, wire[i].fc, wire[i].addr, wire[i].count);
    }
    gw_mb_readout_free(r);
    gw_mb_plan_free(p);
    gw_mb_client_free(c1);
    gw_tagmap_free(m1);
    wm_down(&x);
}

/* The same through the gateway: a machine with "register_base": 1 and the
 * one-based map, read and written by the engine. */
static void test_register_base_engine(void **state)
{
    (void)state;
    wmfx x = wm_up(1.0, false);
    char dir[] = "/tmp/gw_wm_rb_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char mpath[64], cpath[64];
    snprintf(mpath, sizeof(mpath), "%s/map.json", dir);
    snprintf(cpath, sizeof(cpath), "%s/gw.json", dir);
    FILE *fp = fopen(mpath, "w");
    assert_non_null(fp);
    fputs("{\"endianness\": {\"byteorder\": \">\"}, \"mapping\": {"
          "\"41001\": {\"parameter\": \"System Mode\", \"function\": \"decode_16bit_uint\"},"
          "\"41004\": {\"parameter\": \"Feed Pressure\", \"function\": \"decode_16bit_uint\","
          " \"access\": \"r\"}}}", fp);
    fclose(fp);
    fp = fopen(cpath, "w");
    assert_non_null(fp);
    fprintf(fp, "{\"machines\": [{\"id\": \"wm\", \"driver\": \"modbus\", \"port\": %u, "
            "\"register_base\": 1, \"timeout_ms\": 500, \"tags\": \"map.json\", "
            "\"scan\": {\"fast\": 50}}]}", x.f->mb_port);
    fclose(fp);
    gw_config *cfg = NULL;
    gw_diag d;
    gw_diag_init(&d, cpath);
    assert_int_equal(gw_config_load(cpath, &cfg, &d), GW_OK);
    gw_engine *e = NULL;
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_engine_new(cfg, NULL, &e), GW_OK);
    assert_int_equal(gw_engine_start(e, &err), GW_OK);
    /* the engine reads R1000 as "41001" */
    uint64_t deadline = gw_mono_ms() + 3000;
    double mode = NAN;
    while (gw_mono_ms() < deadline) {
        const gw_snapshot *snap = gw_engine_snapshot(e, "wm");
        assert_non_null(snap);
        if (snap->quality[0] == GW_Q_GOOD)
            mode = gw_value_as_double(&snap->values[0]);
        gw_snapshot_release(snap);
        if (mode == 2)
            break;
        sleep_ms(10);
    }
    assert_true(mode == 2);
    /* and writes it there */
    const gw_tag *t = gw_tagmap_find(cfg->machines[0].tags, "System Mode");
    json_t *j = json_integer(34);
    gw_write w;
    assert_int_equal(gw_tag_prepare_write(cfg->machines[0].tags, t, j, &w, &err), GW_OK);
    json_decref(j);
    assert_int_equal(gw_engine_write(e, "wm", &w, NULL, 1, 0, false, 2000, &err), GW_OK);
    expect_prop(x.wm, "System Mode", 34, 1000);
    gw_engine_free(e);
    gw_config_free(cfg);
    unlink(mpath);
    unlink(cpath);
    rmdir(dir);
    wm_down(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_at_rest),
        cmocka_unit_test(test_rtc_scaled),
        cmocka_unit_test(test_dts_flow),
        cmocka_unit_test(test_priming_time),
        cmocka_unit_test(test_skip_from_init),
        cmocka_unit_test(test_strict_option),
        cmocka_unit_test(test_strict_sequence),
        cmocka_unit_test(test_strict_config),
        cmocka_unit_test(test_outputs),
        cmocka_unit_test(test_sensors),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_register_base),
        cmocka_unit_test(test_register_base_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
