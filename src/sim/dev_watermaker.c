/*
 * dev_watermaker.c - the watermaker PLC of seed 002 as a soft device
 * (docs/sim.md, "The watermaker's PLC program"); the registry entry is in
 * devices.c.
 *
 * Design:
 *   - System Mode (R1000) is the screen the PLC shows. A client's write
 *     changes it (on_write); the program changes it when a timed step ends
 *     (tick): 5 priming (R128, 180 s) -> 6 init (R129, 60 s) -> 7
 *     production; 8 flush (R133, 60 s) -> 2 standby. Control Command
 *     (R71) 256 runs the valve positioning (R138, 15 s); Step Skip Command
 *     (R67) 32841 passes from priming through init to production, 32968
 *     stops init and waits for the client's System Mode 7.
 *   - A timer is a deadline in simulated time, so that a step ends exactly
 *     its length after the write that started it, whenever the ticks fall;
 *     its register shows the tenths of a second left, 65535 when idle.
 *   - Strict mode (the device option "strict"): check_write refuses a
 *     System Mode write out of the specification's sequence with exception
 *     4. What R71 and R67 said since the mode began is kept by on_write;
 *     sim.c runs the check after the on_write of every earlier write, so
 *     the sequence is judged in the order the client wrote it.
 *   - The process: each sensor follows its mode's target through a
 *     first-order lag, with a little noise; an I/O set through the control
 *     API forces its sensor to read exactly that value (for tests). The
 *     water counters integrate the product flow in production, the runtime
 *     counter the time the pumps run; the RTC registers show the
 *     simulation clock (the wall time when the device was made, plus the
 *     simulated time since).
 *
 * Everything runs on the simulator's manager thread except the options,
 * which are atomics.
 */
#include "sim_internal.h"

#include <jansson.h>
#include <math.h>
#include <string.h>
#include <time.h>

/* R1000 values (seed 002, "R1000 System Mode Values"). */
enum {
    WM_STANDBY = 2, WM_PRIME = 5, WM_INIT = 6, WM_PRODUCTION = 7, WM_FLUSH = 8,
    WM_REQUEST = 34, WM_STANDBY_ALT = 65535
};

/* R71 and R67 codes (seed 002, "DTS Process Start Sequence", "DTS Process
 * Stop Sequences", "DTS Step Skip Sequences"). */
enum { CMD_VALVES = 256, CMD_STOP_PRIME = 512, CMD_STOP_PRODUCTION = 513, CMD_STOP_FLUSH = 1024 };
enum { SKIP_PRIME = 32841, SKIP_INIT = 32968 };

/* A timer register at 65535 (6553.5 s scaled) is not running (seed 002,
 * "Timer-Based Progress Calculation", "Special Values"). */
#define WM_IDLE 6553.5

/* After a skip from priming the PLC shows init this long (5 scans of
 * 100 ms) before production, so that a client polling the mode sees it. */
#define WM_SKIP_PASS_MS 500

/* Modbus Application Protocol V1.1b, 7: server device failure. */
#define WM_REFUSE 4

/* ---------------------------------------------------------------- tables */

enum { IO_FEED, IO_WATER, IO_TDS };

const gw_sim_io_spec sim__wm_ios[SIM_WM_NIOS] = {
    [IO_FEED] = {"feed_pressure_psi", GW_SIM_REAL, "PSI",
                 "feed pressure while the low pressure pump runs (default 40); setting it "
                 "forces Feed Pressure to it", false},
    [IO_WATER] = {"water_temp_F", GW_SIM_REAL, "F",
                  "sea water temperature (default 68); setting it forces Water Temperature to it",
                  false},
    [IO_TDS] = {"tds_ppm", GW_SIM_REAL, "PPM",
                "product TDS while the high pressure pump runs (default 180); setting it forces "
                "Product TDS #1 to it", false},
};

enum { WT_PRIME, WT_INIT, WT_FLUSH, WT_VALVE, WT__COUNT };

static const struct {
    const char *reg;      /* the register that shows it */
    uint32_t length_ms;   /* seed 002, "DTS Screen Definitions" and the timer table */
} timers[WT__COUNT] = {
    [WT_PRIME] = {"DTS Priming Timer", 180000},
    [WT_INIT] = {"DTS Initialize Timer", 60000},
    [WT_FLUSH] = {"DTS Fresh Water Flush Timer", 60000},
    [WT_VALVE] = {"DTS Valve Positioning Timer", 15000},
};

/* Timers of the specification that this program never runs: idle. */
static const char *const idle_timers[] = {"DTS Stop Timer", "FWF Flush Timer", "DTS Flush Timer"};

enum { S_FEED, S_HP1, S_HP2, S_WATER_T, S_SYS_T, S_BRINE, S_FLOW1, S_TDS1, S__COUNT };

static const struct {
    const char *reg;
    double tau_s;     /* time constant of the first-order lag */
    double noise;     /* +- this much, uniform */
    double zero;      /* with a target of 0, below this it reads 0 (-1: never) */
    int forced_by;    /* the I/O that forces it, or -1 */
} signals[S__COUNT] = {
    [S_FEED] = {"Feed Pressure", 1.0, 0.6, 0.5, IO_FEED},
    [S_HP1] = {"High Pressure #1", 1.0, 3.0, 0.5, -1},
    [S_HP2] = {"High Pressure #2", 1.0, 3.0, 0.5, -1},
    [S_WATER_T] = {"Water Temperature", 20.0, 0.1, -1, IO_WATER},
    [S_SYS_T] = {"System Temperature", 60.0, 0.15, -1, -1},
    [S_BRINE] = {"Brine Flowmeter", 1.0, 0.05, 0.05, -1},
    [S_FLOW1] = {"1st Pass Product Flowmeter", 1.0, 0.05, 0.05, -1},
    [S_TDS1] = {"Product TDS #1", 1.5, 2.0, 1.0, IO_TDS},
};

/* Settled values per mode (docs/sim.md has the table). */
#define WM_HP1_PSI 800.0
#define WM_HP2_PSI 790.0
#define WM_SYS_T_F 75.0          /* standby; +4 F with the low, +9 F with the high pressure pump */

enum { C_RUNTIME, C_SP_TOTAL, C_SP_SINCE, C_DTS_TOTAL, C_DTS_SINCE, C__COUNT };

/* 32-bit float counters: what a PLC's retentive memory holds at start. */
static const struct {
    const char *reg;
    double initial;
} counters[C__COUNT] = {
    [C_RUNTIME] = {"Runtime Hours", 1250.0},
    [C_SP_TOTAL] = {"Single-Pass Total Gallons", 48210.0},
    [C_SP_SINCE] = {"Single-Pass Since Last", 0},
    [C_DTS_TOTAL] = {"DTS Total Gallons", 31522.0},
    [C_DTS_SINCE] = {"DTS Since Last Gallons", 0},
};

/* ---------------------------------------------------------------- state */

typedef struct {
    int mode;                    /* the mode this program last set */
    bool running[WT__COUNT];
    uint64_t end[WT__COUNT];     /* simulated ms */
    bool valve_hold;             /* R138 ended in mode 34: it shows 0 until the mode changes */
    bool skip_pass;              /* a skip from priming: production at skip_until */
    uint64_t skip_until;
    /* what the client did since the mode began (strict mode's sequence) */
    bool valve_cmd, valve_zero, valve_done;
    int stop_cmd;                /* 512, 513, 1024 or 0 */
    bool stop_zero;              /* R71 = 0 after it */
    bool init_skipped;           /* R67 = 32968 in init */
    /* the process */
    double x[S__COUNT];          /* each signal's lagged value */
    bool forced[SIM_WM_NIOS];    /* set through the control API */
    double acc[C__COUNT];        /* counters, in double: a float32 loses a tick's gallons */
    double shown[C__COUNT];      /* what the register holds, as this program wrote it */
    uint64_t noise;              /* xorshift64 */
    int64_t epoch_ms;            /* wall ms at simulated time 0 */
    atomic_bool strict;          /* the option */
} wm_state;

/* A uniform number in [-1, 1). */
static double noise(wm_state *st)
{
    st->noise ^= st->noise << 13;
    st->noise ^= st->noise >> 7;
    st->noise ^= st->noise << 17;
    return (double)(st->noise >> 11) / (double)(1ull << 52) - 1.0;
}

static bool low_pump(int mode)
{
    return mode >= WM_PRIME && mode <= WM_FLUSH;
}

static bool high_pump(int mode)
{
    return mode == WM_INIT || mode == WM_PRODUCTION;
}

static bool standby(int mode)
{
    return mode == WM_STANDBY || mode == WM_STANDBY_ALT;
}

/* The screens one reaches from standby and leaves back to it: alarm list,
 * settings, the four service screens, overview, support, seawater. */
static bool navigation(int mode)
{
    return mode == 3 || mode == 9 || (mode >= 15 && mode <= 18) || (mode >= 31 && mode <= 33);
}

/* ---------------------------------------------------------------- timers */

static void timer_start(gw_sim_device *d, wm_state *st, int t, uint64_t at_ms)
{
    st->running[t] = true;
    st->end[t] = at_ms + timers[t].length_ms;
    gw_sim_set(d, timers[t].reg, timers[t].length_ms / 1000.0);
}

static void timer_idle(gw_sim_device *d, wm_state *st, int t)
{
    st->running[t] = false;
    gw_sim_set(d, timers[t].reg, WM_IDLE);
}

static void counter_set(gw_sim_device *d, wm_state *st, int c, double v)
{
    st->acc[c] = v;
    gw_sim_set(d, counters[c].reg, v);
    st->shown[c] = (double)(float)v;
}

/* Enters a mode at simulated time at_ms: its step timer starts then
 * (seed 002, "DTS Mode to Timer Mapping") unless the step is skipped, the
 * other step timers stop, and what the client said in the mode before no
 * longer counts. */
static void enter_mode(gw_sim_device *d, wm_state *st, int mode, uint64_t at_ms, bool timed)
{
    bool new_run = mode == WM_PRIME && st->mode != WM_PRIME;
    st->mode = mode;
    gw_sim_set(d, "System Mode", mode);
    st->skip_pass = false;
    st->valve_cmd = st->valve_zero = st->valve_done = false;
    st->stop_cmd = 0;
    st->stop_zero = false;
    st->init_skipped = false;
    int want = !timed ? -1 : mode == WM_PRIME ? WT_PRIME : mode == WM_INIT ? WT_INIT
             : mode == WM_FLUSH ? WT_FLUSH : -1;
    for (int t = WT_PRIME; t <= WT_FLUSH; t++) {
        if (t == want)
            timer_start(d, st, t, at_ms);
        else
            timer_idle(d, st, t); /* a finished step's timer goes idle too */
    }
    if (st->valve_hold && mode != WM_REQUEST) {
        st->valve_hold = false;
        timer_idle(d, st, WT_VALVE);
    }
    /* a DTS run starts: the "since last" counters count it */
    if (new_run) {
        counter_set(d, st, C_SP_SINCE, 0);
        counter_set(d, st, C_DTS_SINCE, 0);
    }
}

static void set_mode(gw_sim_device *d, wm_state *st, int mode, uint64_t at_ms)
{
    enter_mode(d, st, mode, at_ms, true);
}

/* The mode the register shows (-1 when it cannot be read). */
static int mode_now(gw_sim_device *d)
{
    double m = gw_sim_get(d, "System Mode");
    return isnan(m) ? -1 : (int)lround(m);
}

/* Timers that are due; a finished step starts the next one when it ended,
 * not at this tick. */
static void run_timers(gw_sim_device *d, wm_state *st, uint64_t sim_ms)
{
    for (int t = 0; t < WT__COUNT; t++) {
        if (!st->running[t])
            continue;
        if (sim_ms < st->end[t]) {
            /* tenths of a second left, rounded up: 0 only when it ended; a
             * tick scheduled before the start shows the full length */
            uint64_t left = st->end[t] - sim_ms;
            if (left > timers[t].length_ms)
                left = timers[t].length_ms;
            gw_sim_set(d, timers[t].reg, (double)((left + 99) / 100) / 10.0);
            continue;
        }
        uint64_t end = st->end[t];
        gw_sim_set(d, timers[t].reg, 0);
        st->running[t] = false;
        if (t == WT_PRIME) {
            set_mode(d, st, WM_INIT, end);
        } else if (t == WT_INIT) {
            set_mode(d, st, WM_PRODUCTION, end);
        } else if (t == WT_FLUSH) {
            set_mode(d, st, WM_STANDBY, end);
        } else {
            /* the valves are in place: on the DTS request screen R138 shows
             * 0 (complete) until the mode changes; elsewhere it goes idle */
            st->valve_done = true;
            if (st->mode == WM_REQUEST)
                st->valve_hold = true;
            else
                timer_idle(d, st, t);
        }
    }
    if (st->skip_pass && sim_ms >= st->skip_until)
        set_mode(d, st, WM_PRODUCTION, st->skip_until);
}

/* ---------------------------------------------------------------- process */

/* Each signal's settled value in a mode. */
static void targets(gw_sim_device *d, int mode, double *t)
{
    bool lp = low_pump(mode), hp = high_pump(mode);
    double feed = gw_sim_io(d, IO_FEED);
    t[S_FEED] = lp ? feed : 0;
    /* with the high pressure pump off the line sees the feed pressure */
    t[S_HP1] = hp ? WM_HP1_PSI : lp ? feed : 0;
    t[S_HP2] = hp ? WM_HP2_PSI : lp ? feed : 0;
    t[S_WATER_T] = gw_sim_io(d, IO_WATER);
    t[S_SYS_T] = WM_SYS_T_F + (lp ? 4.0 : 0) + (hp ? 9.0 : 0);
    t[S_BRINE] = mode == WM_PRIME ? 6.5 : hp ? 9.0 : mode == WM_FLUSH ? 5.5 : 0;
    t[S_FLOW1] = mode == WM_INIT ? 3.0 : mode == WM_PRODUCTION ? 4.5 : 0;
    t[S_TDS1] = hp ? gw_sim_io(d, IO_TDS) : 0;
}

static void sensors(gw_sim_device *d, wm_state *st, int mode, uint32_t dt_ms)
{
    double t[S__COUNT];
    targets(d, mode, t);
    for (int i = 0; i < S__COUNT; i++) {
        double *x = &st->x[i];
        if (signals[i].forced_by >= 0 && st->forced[signals[i].forced_by]) {
            *x = t[i];
            gw_sim_set(d, signals[i].reg, t[i]);
            continue;
        }
        *x += (t[i] - *x) * (1.0 - exp(-(double)dt_ms / 1000.0 / signals[i].tau_s));
        double shown = *x + signals[i].noise * noise(st);
        if (t[i] == 0 && *x < signals[i].zero) {
            *x = 0;
            shown = 0;
        }
        gw_sim_set(d, signals[i].reg, shown > 0 ? shown : 0);
    }
}

/* Adds to a counter. A value set through the control API since this
 * program wrote it is taken as the new count. */
static void count(gw_sim_device *d, wm_state *st, int c, double add)
{
    double now = gw_sim_get(d, counters[c].reg);
    if (!isnan(now) && now != st->shown[c])
        st->acc[c] = now;
    st->acc[c] += add;
    double f = (double)(float)st->acc[c];
    if (f != st->shown[c]) {
        gw_sim_set(d, counters[c].reg, st->acc[c]);
        st->shown[c] = f;
    }
}

static void counting(gw_sim_device *d, wm_state *st, int mode, uint32_t dt_ms)
{
    double hours = (double)dt_ms / 3600000.0;
    count(d, st, C_RUNTIME, low_pump(mode) ? hours : 0);
    /* gallons = GPM x minutes of the product flow, in production only */
    double gallons = mode == WM_PRODUCTION ? st->x[S_FLOW1] * (double)dt_ms / 60000.0 : 0;
    for (int c = C_SP_TOTAL; c <= C_DTS_SINCE; c++)
        count(d, st, c, gallons);
}

static void outputs(gw_sim_device *d, int mode)
{
    gw_sim_set(d, "Low Pressure Pump", low_pump(mode));
    gw_sim_set(d, "High Pressure Pump", high_pump(mode));
    gw_sim_set(d, "Product Divert Valve", mode == WM_PRODUCTION);
    gw_sim_set(d, "Flush Solenoid", mode == WM_FLUSH);
    /* priming flushes with shore pressure (seed 002, "DTS Screen Definitions") */
    gw_sim_set(d, "Shore Feed Solenoid", mode == WM_PRIME);
    /* R1036: 0 standby, 5 fresh water flush, 7 service mode */
    gw_sim_set(d, "System Status", mode == WM_FLUSH ? 5 : mode >= 15 && mode <= 18 ? 7 : 0);
}

static void rtc(gw_sim_device *d, const wm_state *st, uint64_t sim_ms)
{
    time_t secs = (time_t)((st->epoch_ms + (int64_t)sim_ms) / 1000);
    struct tm tm;
    if (!localtime_r(&secs, &tm))
        return;
    gw_sim_set(d, "RTC Minutes", tm.tm_min);
    gw_sim_set(d, "RTC Seconds", tm.tm_sec);
    gw_sim_set(d, "RTC Year", tm.tm_year + 1900);
    gw_sim_set(d, "RTC Month", tm.tm_mon + 1);
    gw_sim_set(d, "RTC Day", tm.tm_mday);
    gw_sim_set(d, "RTC Month (Alt)", tm.tm_mon + 1);
}

void sim__wm_tick(gw_sim_device *d, void *state, uint64_t sim_ms, uint32_t dt_ms)
{
    wm_state *st = state;
    run_timers(d, st, sim_ms);
    int mode = mode_now(d);
    outputs(d, mode);
    sensors(d, st, mode, dt_ms);
    counting(d, st, mode, dt_ms);
    rtc(d, st, sim_ms);
}

/* ---------------------------------------------------------------- writes */

void sim__wm_on_write(gw_sim_device *d, void *state, const gw_tag *t, const gw_value *v,
                      uint64_t sim_ms)
{
    wm_state *st = state;
    long x = lround(gw_value_as_double(v));
    if (strcmp(t->parameter, "System Mode") == 0) {
        /* a mode set from outside starts that step's timer at the write;
         * the mode it is in already changes nothing */
        if (x != st->mode)
            set_mode(d, st, (int)x, sim_ms);
    } else if (strcmp(t->parameter, "Control Command") == 0) {
        if (x == CMD_VALVES) {
            st->valve_hold = false;
            timer_start(d, st, WT_VALVE, sim_ms);
            st->valve_cmd = true;
            st->valve_zero = st->valve_done = false;
        } else if (x == 0) {
            /* the sequences end each command with 0 */
            st->valve_zero = st->valve_cmd;
            st->stop_zero = st->stop_cmd != 0;
        } else if (x == CMD_STOP_PRIME || x == CMD_STOP_PRODUCTION || x == CMD_STOP_FLUSH) {
            st->stop_cmd = (int)x;
            st->stop_zero = false;
        }
    } else if (strcmp(t->parameter, "Step Skip Command") == 0) {
        /* seed 002, "DTS Step Skip Sequences": from priming the PLC goes on
         * through init to production; from init it stops the init timer
         * and the client sets production itself */
        if (x == SKIP_PRIME && st->mode == WM_PRIME) {
            enter_mode(d, st, WM_INIT, sim_ms, false);
            st->skip_pass = true;
            st->skip_until = sim_ms + WM_SKIP_PASS_MS;
        } else if (x == SKIP_INIT && st->mode == WM_INIT && !st->skip_pass) {
            timer_idle(d, st, WT_INIT);
            st->init_skipped = true;
        }
    }
}

/* An I/O set through the control API forces its sensor from now on. */
void sim__wm_on_io(gw_sim_device *d, void *state, size_t io, double value, uint64_t sim_ms)
{
    (void)d;
    (void)value;
    (void)sim_ms;
    wm_state *st = state;
    if (io < SIM_WM_NIOS)
        st->forced[io] = true;
}

/* ---------------------------------------------------------------- strict mode */

/* Why the sequence does not allow from -> to, or NULL when it does (docs/sim.md,
 * "Strict mode"). */
static const char *refusal(const wm_state *st, int from, int to)
{
    if (from == to)
        return NULL;
    if (standby(from))
        return to == WM_REQUEST || navigation(to) || standby(to)
                   ? NULL
                   : "from standby only DTS Request (34) and the screens 3, 9, 15-18 and 31-33";
    if (navigation(from))
        return to == WM_STANDBY ? NULL : "from this screen only back to standby (2)";
    switch (from) {
    case WM_REQUEST:
        if (to == WM_STANDBY)
            return NULL;
        if (to != WM_PRIME)
            return "from DTS Request only priming (5) or back to standby (2)";
        if (!st->valve_cmd)
            return "priming needs the valve positioning first: Control Command 256, then 0";
        if (!st->valve_zero)
            return "priming needs Control Command 0 after 256";
        if (!st->valve_done)
            return "the valve positioning has not finished (DTS Valve Positioning Timer)";
        return NULL;
    case WM_PRIME:
        if (to != WM_FLUSH)
            return "priming ends by itself, by Step Skip Command 32841, or with a stop to "
                   "flush (8)";
        return st->stop_cmd == CMD_STOP_PRIME && st->stop_zero
                   ? NULL : "flush from priming needs Control Command 512, then 0";
    case WM_INIT:
        if (to != WM_PRODUCTION)
            return "init ends by itself in production (7)";
        return st->init_skipped ? NULL : "production from init needs Step Skip Command 32968";
    case WM_PRODUCTION:
        if (to != WM_FLUSH)
            return "production ends with a stop to flush (8)";
        return st->stop_cmd == CMD_STOP_PRODUCTION && st->stop_zero
                   ? NULL : "flush from production needs Control Command 513, then 0";
    case WM_FLUSH:
        if (to != WM_STANDBY)
            return "flush ends by itself or with a stop to standby (2)";
        return st->stop_cmd == CMD_STOP_FLUSH && st->stop_zero
                   ? NULL : "standby from flush needs Control Command 1024, then 0";
    default:
        return "the mode is not one of the specification's";
    }
}

static int wm_check_write(gw_sim_device *d, void *state, const gw_tag *t, const gw_value *v,
                          uint64_t sim_ms)
{
    (void)sim_ms;
    wm_state *st = state;
    if (!atomic_load(&st->strict) || strcmp(t->parameter, "System Mode") != 0)
        return 0;
    int from = mode_now(d);
    int to = (int)lround(gw_value_as_double(v));
    const char *why = refusal(st, from, to);
    if (!why)
        return 0;
    gw_log_write(d->sim->log, GW_LOG_INFO, "sim", "device %s (strict): System Mode %d -> %d "
                 "refused with exception %d: %s", d->name, from, to, WM_REFUSE, why);
    return WM_REFUSE;
}

static void *wm_get_options(gw_sim_device *d, void *state)
{
    (void)d;
    wm_state *st = state;
    return json_pack("{s:b}", "strict", atomic_load(&st->strict));
}

static gw_err wm_set_options(gw_sim_device *d, void *state, const void *json, gw_error *err)
{
    wm_state *st = state;
    const char *key;
    json_t *value;
    /* all or none: check every member first */
    json_object_foreach((json_t *)json, key, value) {
        if (strcmp(key, "strict") != 0)
            return gw_error_set(err, GW_E_NOT_FOUND, "device %s (watermaker) has no option "
                                "\"%s\"; it has \"strict\"", d->name, key);
        if (!json_is_boolean(value))
            return gw_error_set(err, GW_E_TYPE, "device %s: \"strict\" is true or false",
                                d->name);
    }
    json_t *strict = json_object_get(json, "strict");
    if (strict) {
        atomic_store(&st->strict, json_is_true(strict));
        atomic_store(&d->check_writes, json_is_true(strict));
    }
    return GW_OK;
}

static const sim_device_hooks wm_hooks = {wm_check_write, wm_get_options, wm_set_options};

/* ---------------------------------------------------------------- create */

gw_err sim__wm_create(gw_sim_device *d, void **state)
{
    wm_state *st = gw_calloc(1, sizeof(*st));
    if (!st)
        return GW_E_NOMEM;
    *state = st;
    st->noise = 0x2545F4914F6CDD1Dull;
    st->epoch_ms = gw_wall_ms() - (int64_t)gw_sim_clock_ms(d->sim);
    atomic_init(&st->strict, false);
    d->hooks = &wm_hooks;
    for (int t = 0; t < WT__COUNT; t++)
        timer_idle(d, st, t);
    for (size_t i = 0; i < sizeof(idle_timers) / sizeof(idle_timers[0]); i++)
        gw_sim_set(d, idle_timers[i], WM_IDLE);
    st->mode = WM_STANDBY;
    gw_sim_set(d, "System Mode", WM_STANDBY);
    gw_sim_io_set(d, IO_FEED, 40.0);   /* shore pressure through the low pressure pump */
    gw_sim_io_set(d, IO_WATER, 68.0);
    gw_sim_io_set(d, IO_TDS, 180.0);
    st->x[S_WATER_T] = 68.0;
    st->x[S_SYS_T] = WM_SYS_T_F;
    gw_sim_set(d, "Water Temperature", 68.0);
    gw_sim_set(d, "System Temperature", WM_SYS_T_F);
    for (int c = 0; c < C__COUNT; c++)
        counter_set(d, st, c, counters[c].initial);
    gw_sim_set(d, "Double-Pass Total Gallons", 10480.0); /* not simulated: it stays */
    return GW_OK;
}
