/*
 * devices.c - the registry of soft device types (the seed's factory).
 *
 * memory      any tag map's memory, no behaviour: what clients write stays
 * ringstiff   the GRP pipe rig's S7-1214C (seed 000): DB1, DB2, DB3, the
 *             machine's sensors as I/Os, servo status and alarm latch
 * watermaker  the watermaker PLC (seed 002): system modes, the DTS timers
 *             counting down in simulated time, step skips, outputs
 *
 * Device logic runs on the simulator's manager thread only.
 */
#include "sim_internal.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- ringstiff */

enum { RS_LOAD, RS_POSITION, RS_FAULT, RS_HOME, RS_ENABLED };

static const gw_sim_io_spec ring_ios[] = {
    [RS_LOAD] = {"load_cell_kN", GW_SIM_REAL, "kN", "force on the load cell", false},
    [RS_POSITION] = {"position_mm", GW_SIM_REAL, "mm", "crosshead position (encoder)", false},
    [RS_FAULT] = {"servo_fault", GW_SIM_BOOL, NULL, "the servo drive reports a fault", false},
    [RS_HOME] = {"home_switch", GW_SIM_BOOL, NULL, "home limit switch", false},
    [RS_ENABLED] = {"servo_enabled", GW_SIM_BOOL, NULL, "drive enable output", true},
};

/* seed 000, 2.3: DB2 is 26 bytes (Test_Passed at 24, one pad byte) */
static const gw_sim_area ring_areas[] = {
    {GW_S7_DB, 1, 24}, {GW_S7_DB, 2, 26}, {GW_S7_DB, 3, 10},
};

typedef struct {
    bool fault;  /* latched until Alarm_Reset_Cmd with the fault gone */
} ring_state;

static gw_err ring_create(gw_sim_device *d, void **state)
{
    (void)d;
    *state = gw_calloc(1, sizeof(ring_state));
    return *state ? GW_OK : GW_E_NOMEM;
}

static void ring_tick(gw_sim_device *d, void *state, uint64_t sim_ms, uint32_t dt_ms)
{
    ring_state *st = state;
    (void)sim_ms;
    (void)dt_ms;
    if (gw_sim_io(d, RS_FAULT) != 0)
        st->fault = true;
    bool enable = gw_sim_get(d, "Enable") != 0;
    gw_sim_set(d, "Servo_Error", st->fault);
    gw_sim_set(d, "Servo_Ready", enable && !st->fault);
    gw_sim_io_set(d, RS_ENABLED, enable && !st->fault);
    gw_sim_set(d, "At_Home", gw_sim_io(d, RS_HOME));
    gw_sim_set(d, "Actual_Force", gw_sim_io(d, RS_LOAD));
    gw_sim_set(d, "Actual_Position", gw_sim_io(d, RS_POSITION));
}

static void ring_on_write(gw_sim_device *d, void *state, const gw_tag *t, const gw_value *v,
                          uint64_t sim_ms)
{
    (void)sim_ms;
    ring_state *st = state;
    if (strcmp(t->parameter, "Alarm_Reset_Cmd") == 0 && gw_value_as_double(v) != 0 &&
        gw_sim_io(d, RS_FAULT) == 0)
        st->fault = false;
}

/* ---------------------------------------------------------------- watermaker */

/* Modes of R1000 (seed 002, "R1000 System Mode Values"). */
enum { WM_STANDBY = 2, WM_PRIME = 5, WM_INIT = 6, WM_PRODUCTION = 7, WM_FLUSH = 8,
       WM_REQUEST = 34 };

/* A timer register counts tenths of a second down to 0; 65535 (6553.5 s
 * scaled) means not running (seed 002, "Special Values"). Each timer is a
 * deadline in simulated time, set by the write that started it, so that
 * it ends exactly its length after that write whenever the ticks fall. */
#define WM_IDLE 6553.5

static const gw_sim_io_spec wm_ios[] = {
    {"feed_pressure_psi", GW_SIM_REAL, "PSI", "feed pressure sensor", false},
    {"water_temp_F", GW_SIM_REAL, "F", "water temperature sensor", false},
    {"tds_ppm", GW_SIM_REAL, "PPM", "product TDS sensor", false},
};

enum { WT_PRIME, WT_INIT, WT_FLUSH, WT_VALVE, WT__COUNT };

static const struct {
    const char *reg;      /* the register that shows it */
    uint32_t length_ms;   /* seed 002, "DTS Screen Definitions" and timer table */
} wm_timers[WT__COUNT] = {
    [WT_PRIME] = {"DTS Priming Timer", 180000},
    [WT_INIT] = {"DTS Initialize Timer", 60000},
    [WT_FLUSH] = {"DTS Fresh Water Flush Timer", 60000},
    [WT_VALVE] = {"DTS Valve Positioning Timer", 15000},
};

typedef struct {
    bool running[WT__COUNT];
    uint64_t end[WT__COUNT];   /* simulated ms */
} wm_state;

static void wm_timer_start(gw_sim_device *d, wm_state *st, int t, uint64_t at_ms)
{
    st->running[t] = true;
    st->end[t] = at_ms + wm_timers[t].length_ms;
    gw_sim_set(d, wm_timers[t].reg, wm_timers[t].length_ms / 1000.0);
}

static void wm_timer_idle(gw_sim_device *d, wm_state *st, int t)
{
    st->running[t] = false;
    gw_sim_set(d, wm_timers[t].reg, WM_IDLE);
}

static gw_err wm_create(gw_sim_device *d, void **state)
{
    wm_state *st = gw_calloc(1, sizeof(*st));
    if (!st)
        return GW_E_NOMEM;
    *state = st;
    static const char *others[] = {"DTS Stop Timer", "FWF Flush Timer", "DTS Flush Timer"};
    for (int t = 0; t < WT__COUNT; t++)
        wm_timer_idle(d, st, t);
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        gw_sim_set(d, others[i], WM_IDLE);
    gw_sim_set(d, "System Mode", WM_STANDBY);
    gw_sim_io_set(d, 0, 40.0);  /* shore pressure */
    gw_sim_io_set(d, 1, 68.0);
    gw_sim_io_set(d, 2, 180.0);
    return GW_OK;
}

/* Enters a mode at simulated time at_ms: the mode's timer starts then
 * (seed 002, "DTS Mode to Timer Mapping"), the other step timers stop. */
static void wm_set_mode(gw_sim_device *d, wm_state *st, int mode, uint64_t at_ms)
{
    gw_sim_set(d, "System Mode", mode);
    int want = mode == WM_PRIME ? WT_PRIME : mode == WM_INIT ? WT_INIT
             : mode == WM_FLUSH ? WT_FLUSH : -1;
    for (int t = WT_PRIME; t <= WT_FLUSH; t++) {
        if (t == want)
            wm_timer_start(d, st, t, at_ms);
        else
            wm_timer_idle(d, st, t); /* a finished step's timer goes idle too */
    }
}

static void wm_tick(gw_sim_device *d, void *state, uint64_t sim_ms, uint32_t dt_ms)
{
    wm_state *st = state;
    (void)dt_ms;
    for (int t = 0; t < WT__COUNT; t++) {
        if (!st->running[t])
            continue;
        if (sim_ms < st->end[t]) {
            /* tenths of a second left, rounded up: 0 only when it ended; a
             * tick scheduled before the start shows the full length */
            uint64_t left = st->end[t] - sim_ms;
            if (left > wm_timers[t].length_ms)
                left = wm_timers[t].length_ms;
            gw_sim_set(d, wm_timers[t].reg, (double)((left + 99) / 100) / 10.0);
            continue;
        }
        uint64_t end = st->end[t];
        gw_sim_set(d, wm_timers[t].reg, 0);
        st->running[t] = false;
        /* the next step starts when this one ended, not at this tick */
        if (t == WT_PRIME)
            wm_set_mode(d, st, WM_INIT, end);
        else if (t == WT_INIT)
            wm_set_mode(d, st, WM_PRODUCTION, end);
        else if (t == WT_FLUSH)
            wm_set_mode(d, st, WM_STANDBY, end);
        else
            wm_timer_idle(d, st, t);
    }
    int mode = (int)gw_sim_get(d, "System Mode");
    bool running = mode == WM_PRIME || mode == WM_INIT || mode == WM_PRODUCTION || mode == WM_FLUSH;
    bool high = mode == WM_INIT || mode == WM_PRODUCTION;
    gw_sim_set(d, "Low Pressure Pump", running);
    gw_sim_set(d, "High Pressure Pump", high);
    gw_sim_set(d, "Flush Solenoid", mode == WM_FLUSH);
    gw_sim_set(d, "Product Divert Valve", mode == WM_PRODUCTION);
    double feed = gw_sim_io(d, 0);
    gw_sim_set(d, "Feed Pressure", running ? feed : 0);
    gw_sim_set(d, "High Pressure #1", high ? 800 : 0);
    gw_sim_set(d, "High Pressure #2", high ? 790 : 0);
    gw_sim_set(d, "Water Temperature", gw_sim_io(d, 1));
    gw_sim_set(d, "Product TDS #1", mode == WM_PRODUCTION ? gw_sim_io(d, 2) : 0);
    gw_sim_set(d, "1st Pass Product Flowmeter", mode == WM_PRODUCTION ? 4.5 : 0);
    gw_sim_set(d, "Brine Flowmeter", high ? 9.0 : 0);
    gw_sim_set(d, "System Status", mode == WM_FLUSH ? 5 : 0);
}

static void wm_on_write(gw_sim_device *d, void *state, const gw_tag *t, const gw_value *v,
                        uint64_t sim_ms)
{
    wm_state *st = state;
    long x = lround(gw_value_as_double(v));
    if (strcmp(t->parameter, "System Mode") == 0) {
        /* a mode set from outside starts that step's timer at the write */
        wm_set_mode(d, st, (int)x, sim_ms);
    } else if (strcmp(t->parameter, "Control Command") == 0 && x == 256) {
        wm_timer_start(d, st, WT_VALVE, sim_ms);
    } else if (strcmp(t->parameter, "Step Skip Command") == 0) {
        int mode = (int)gw_sim_get(d, "System Mode");
        /* seed 002, "DTS Step Skip Sequences": from priming the PLC goes on
         * to production; from init the caller sets production itself */
        if (x == 32841 && mode == WM_PRIME)
            wm_set_mode(d, st, WM_PRODUCTION, sim_ms);
        else if (x == 32968 && mode == WM_INIT)
            wm_timer_idle(d, st, WT_INIT);
    }
}

/* ---------------------------------------------------------------- registry */

static const gw_sim_device_type types[] = {
    {"memory", "plain PLC memory for any tag map: what clients write stays", NULL, NULL, 0, 0,
     NULL, 0, NULL, NULL, NULL, NULL, NULL},
    {"ringstiff", "GRP pipe ring-stiffness rig, S7-1214C (DB1 parameters, DB2 results, DB3 "
     "servo)", "s7/ringstiff.json", ring_ios, sizeof(ring_ios) / sizeof(ring_ios[0]), 10,
     ring_areas, sizeof(ring_areas) / sizeof(ring_areas[0]), ring_create, gw_free, ring_tick,
     ring_on_write, NULL},
    {"watermaker", "watermaker PLC over Modbus: modes, DTS timers, outputs",
     "modbus/watermaker.json", wm_ios, sizeof(wm_ios) / sizeof(wm_ios[0]), 100, NULL, 0,
     wm_create, gw_free, wm_tick, wm_on_write, NULL},
};

const gw_sim_device_type *gw_sim_device_type_find(const char *name)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(types[i].name, name) == 0)
            return &types[i];
    return NULL;
}

const gw_sim_device_type *gw_sim_device_type_at(size_t i)
{
    return i < sizeof(types) / sizeof(types[0]) ? &types[i] : NULL;
}
