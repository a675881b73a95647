/*
 * devices.c - the registry of soft device types (the seed's factory).
 *
 * memory      any tag map's memory, no behaviour: what clients write stays
 * ringstiff   the GRP pipe rig's S7-1214C (seed 000): DB1, DB2, DB3, the
 *             machine's sensors as I/Os, servo status and alarm latch
 * watermaker  the watermaker PLC (seed 002): system modes, the DTS timers
 *             counting down in simulated time, step skips, strict mode,
 *             sensors, outputs, counters, clock (dev_watermaker.c)
 *
 * Device logic runs on the simulator's manager thread only.
 */
#include "sim_internal.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- ringstiff */

/*
 * The rig's PLC program, as a test lab's S7-1214C runs it (docs/sim.md,
 * "The ring-stiffness rig"):
 *
 *   - Test_Speed follows the diameter as ISO 9969's table of deflection
 *     speeds gives it (2, 5, 10, 20, 50 mm/min);
 *   - Start_Test is taken (cleared) at the next scan; a test starts only
 *     when the servo is enabled and ready and both clamps are locked, and
 *     walks Test_Status 0 idle -> 1 running -> 2 complete, or 3 aborted
 *     (Stop, Max_Force, Max_Stroke, a servo fault, the enable dropped);
 *   - running, the crosshead moves down at Test_Speed from where it touched
 *     the pipe; the load cell reads the pipe's force: a pipe of the
 *     stiffness pipe_stiffness_kNm2 (an I/O), slightly softening and with
 *     a noisy load cell;
 *   - at the target deflection the program sets DB2's results as the
 *     seed's PLC does: Force_At_Target, Ring_Stiffness (ISO 9969), SN_Class
 *     (the largest class reached) and Test_Passed (a class reached);
 *   - Home is taken and drives the crosshead up to the home switch; jogs
 *     move it at Jog_Velocity while no test runs;
 *   - Servo_Error latches a drive fault until Alarm_Reset_Cmd with the
 *     fault gone.
 *
 * The sensors are I/Os: while the program moves the crosshead it sets
 * them; at rest, what the control API sets stays.
 */
enum { RS_LOAD, RS_POSITION, RS_FAULT, RS_HOME, RS_ENABLED, RS_STIFFNESS };

static const gw_sim_io_spec ring_ios[] = {
    [RS_LOAD] = {"load_cell_kN", GW_SIM_REAL, "kN", "force on the load cell", false},
    [RS_POSITION] = {"position_mm", GW_SIM_REAL, "mm", "crosshead position (encoder)", false},
    [RS_FAULT] = {"servo_fault", GW_SIM_BOOL, NULL, "the servo drive reports a fault", false},
    [RS_HOME] = {"home_switch", GW_SIM_BOOL, NULL, "home limit switch", false},
    [RS_ENABLED] = {"servo_enabled", GW_SIM_BOOL, NULL, "drive enable output", true},
    [RS_STIFFNESS] = {"pipe_stiffness_kNm2", GW_SIM_REAL, "kN/m2",
                      "the specimen's ring stiffness (0: 6 kN/m2)", false},
};

/* seed 000, 2.3: DB2 is 26 bytes (Test_Passed at 24, one pad byte) */
static const gw_sim_area ring_areas[] = {
    {GW_S7_DB, 1, 24}, {GW_S7_DB, 2, 26}, {GW_S7_DB, 3, 10},
};

enum { RIG_IDLE = 0, RIG_RUNNING = 1, RIG_COMPLETE = 2, RIG_ABORTED = 3 };
enum { MOVE_NONE, MOVE_TEST, MOVE_HOME };

#define RIG_HOME_SPEED_MM_S 20.0
#define RIG_DEFAULT_STIFFNESS 6.0 /* kN/m2: an SN 5000 pipe */

typedef struct {
    bool fault;        /* latched until Alarm_Reset_Cmd with the fault gone */
    int move;
    double contact_mm; /* where the plate met the pipe */
    double defl_mm;
    uint64_t noise;    /* xorshift64 */
} ring_state;

static gw_err ring_create(gw_sim_device *d, void **state)
{
    ring_state *st = gw_calloc(1, sizeof(ring_state));
    if (st)
        st->noise = 0x9E3779B97F4A7C15ull;
    /* DB1 as a PLC keeps it (retentive): the last specimen, a DN 315 pipe */
    gw_sim_set(d, "Pipe_Diameter", 315);
    gw_sim_set(d, "Pipe_Length", 300);
    gw_sim_set(d, "Deflection_Percent", 3);
    gw_sim_set(d, "Max_Stroke", 200);
    gw_sim_set(d, "Max_Force", 50);
    *state = st;
    return st ? GW_OK : GW_E_NOMEM;
}

/* ISO 9969, table 1: the deflection speed by nominal diameter, mm/min. */
static double iso9969_speed(double d_mm)
{
    return d_mm <= 100 ? 2 : d_mm <= 200 ? 5 : d_mm <= 400 ? 10 : d_mm <= 1000 ? 20 : 50;
}

/* A uniform number in [-1, 1). */
static double noise(ring_state *st)
{
    st->noise ^= st->noise << 13;
    st->noise ^= st->noise >> 7;
    st->noise ^= st->noise << 17;
    return (double)(st->noise >> 11) / (double)(1ull << 52) - 1.0;
}

/* The pipe's force at a deflection: S = f F / (L y) turned round, a
 * little softer as it deflects; the load cell adds 0.3 % and 2 N of noise. */
static double pipe_force(gw_sim_device *d, ring_state *st, double y_mm, bool noisy)
{
    double dia = gw_sim_get(d, "Pipe_Diameter"), len = gw_sim_get(d, "Pipe_Length");
    double s = gw_sim_io(d, RS_STIFFNESS);
    if (!(s > 0))
        s = RIG_DEFAULT_STIFFNESS;
    if (!(dia > 0) || !(len > 0) || !(y_mm > 0))
        return 0;
    double f = 0.0186 + 0.025 * y_mm / dia;
    double force = s * (len / 1000.0) * (y_mm / 1000.0) / f * (1.0 - 0.8 * y_mm / dia);
    if (noisy)
        force = force * (1.0 + 0.003 * noise(st)) + 0.002 * noise(st);
    return force;
}

static void ring_end_test(gw_sim_device *d, ring_state *st, int status)
{
    st->move = MOVE_NONE;
    gw_sim_set(d, "Test_Status", status);
}

static void ring_complete(gw_sim_device *d, ring_state *st, double force)
{
    double dia = gw_sim_get(d, "Pipe_Diameter"), len = gw_sim_get(d, "Pipe_Length");
    double y = gw_sim_get(d, "Target_Deflection");
    double s = (0.0186 + 0.025 * y / dia) * force * 1e6 / (len * y);
    static const unsigned classes[] = {630, 1250, 2500, 5000, 10000, 20000, 40000};
    unsigned sn = 0;
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        if (s * 1000.0 >= classes[i])
            sn = classes[i];
    gw_sim_set(d, "Force_At_Target", force);
    gw_sim_set(d, "Ring_Stiffness", s);
    gw_sim_set(d, "SN_Class", sn);
    gw_sim_set(d, "Test_Passed", sn > 0);
    ring_end_test(d, st, RIG_COMPLETE);
}

static void ring_start(gw_sim_device *d, ring_state *st)
{
    bool ok = gw_sim_get(d, "Enable") != 0 && !st->fault && gw_sim_get(d, "Stop") == 0 &&
              gw_sim_get(d, "Lock_Upper") != 0 &&
              gw_sim_get(d, "Lock_Lower") != 0 && st->move != MOVE_TEST &&
              gw_sim_get(d, "Pipe_Diameter") > 0 && gw_sim_get(d, "Pipe_Length") > 0 &&
              gw_sim_get(d, "Deflection_Percent") > 0;
    gw_sim_set(d, "Start_Test", 0); /* taken: cleared whether it starts or not */
    if (!ok)
        return;
    st->move = MOVE_TEST;
    st->contact_mm = gw_sim_io(d, RS_POSITION);
    st->defl_mm = 0;
    gw_sim_set(d, "Target_Deflection",
               gw_sim_get(d, "Deflection_Percent") / 100.0 * gw_sim_get(d, "Pipe_Diameter"));
    gw_sim_set(d, "Actual_Deflection", 0);
    gw_sim_set(d, "Force_At_Target", 0);
    gw_sim_set(d, "Ring_Stiffness", 0);
    gw_sim_set(d, "SN_Class", 0);
    gw_sim_set(d, "Test_Passed", 0);
    gw_sim_set(d, "Test_Status", RIG_RUNNING);
}

/* One scan of a running test. */
static void ring_test_step(gw_sim_device *d, ring_state *st, uint32_t dt_ms)
{
    if (gw_sim_get(d, "Stop") != 0 || st->fault || gw_sim_get(d, "Enable") == 0) {
        ring_end_test(d, st, RIG_ABORTED);
        return;
    }
    double target = gw_sim_get(d, "Target_Deflection");
    st->defl_mm += gw_sim_get(d, "Test_Speed") / 60.0 * dt_ms / 1000.0;
    bool done = st->defl_mm >= target;
    if (done)
        st->defl_mm = target;
    double force = pipe_force(d, st, st->defl_mm, true);
    double pos = st->contact_mm + st->defl_mm;
    gw_sim_io_set(d, RS_POSITION, pos);
    gw_sim_io_set(d, RS_LOAD, force);
    gw_sim_io_set(d, RS_HOME, 0);
    gw_sim_set(d, "Actual_Deflection", st->defl_mm);
    double max_f = gw_sim_get(d, "Max_Force"), max_s = gw_sim_get(d, "Max_Stroke");
    if ((max_f > 0 && force > max_f) || (max_s > 0 && pos > max_s))
        ring_end_test(d, st, RIG_ABORTED);
    else if (done)
        ring_complete(d, st, force);
}

/* Home and the jogs: the crosshead moves, nothing presses. */
static void ring_move(gw_sim_device *d, ring_state *st, uint32_t dt_ms)
{
    double pos = gw_sim_io(d, RS_POSITION);
    bool ready = gw_sim_get(d, "Enable") != 0 && !st->fault;
    if (st->move == MOVE_HOME) {
        pos -= RIG_HOME_SPEED_MM_S * dt_ms / 1000.0;
        if (pos <= 0) {
            pos = 0;
            st->move = MOVE_NONE;
            gw_sim_io_set(d, RS_HOME, 1);
        }
        gw_sim_io_set(d, RS_POSITION, pos);
        gw_sim_io_set(d, RS_LOAD, 0);
        return;
    }
    bool fwd = gw_sim_get(d, "Jog_Forward") != 0, back = gw_sim_get(d, "Jog_Backward") != 0;
    if (!ready || fwd == back)
        return;
    double v = gw_sim_get(d, "Jog_Velocity") / 60.0 * dt_ms / 1000.0;
    pos += fwd ? v : -v;
    if (pos < 0)
        pos = 0;
    gw_sim_io_set(d, RS_POSITION, pos);
    gw_sim_io_set(d, RS_HOME, pos <= 0);
}

static void ring_tick(gw_sim_device *d, void *state, uint64_t sim_ms, uint32_t dt_ms)
{
    ring_state *st = state;
    (void)sim_ms;
    if (gw_sim_io(d, RS_FAULT) != 0)
        st->fault = true;
    bool enable = gw_sim_get(d, "Enable") != 0;
    gw_sim_set(d, "Servo_Error", st->fault);
    gw_sim_set(d, "Servo_Ready", enable && !st->fault);
    gw_sim_io_set(d, RS_ENABLED, enable && !st->fault);
    gw_sim_set(d, "Test_Speed", iso9969_speed(gw_sim_get(d, "Pipe_Diameter")));
    if (gw_sim_get(d, "Start_Test") != 0)
        ring_start(d, st);
    if (gw_sim_get(d, "Home") != 0) {
        gw_sim_set(d, "Home", 0); /* taken */
        if (st->move != MOVE_TEST && enable && !st->fault)
            st->move = MOVE_HOME;
    }
    if (st->move == MOVE_TEST)
        ring_test_step(d, st, dt_ms);
    else
        ring_move(d, st, dt_ms);
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

/* ---------------------------------------------------------------- registry */

static const gw_sim_device_type types[] = {
    {"memory", "plain PLC memory for any tag map: what clients write stays", NULL, NULL, 0, 0,
     NULL, 0, NULL, NULL, NULL, NULL, NULL},
    {"ringstiff", "GRP pipe ring-stiffness rig, S7-1214C (DB1 parameters, DB2 results, DB3 "
     "servo)", "s7/ringstiff.json", ring_ios, sizeof(ring_ios) / sizeof(ring_ios[0]), 10,
     ring_areas, sizeof(ring_areas) / sizeof(ring_areas[0]), ring_create, gw_free, ring_tick,
     ring_on_write, NULL},
    {"watermaker", "watermaker PLC over Modbus: modes, DTS timers, outputs",
     "modbus/watermaker.json", sim__wm_ios, SIM_WM_NIOS, 100, NULL, 0, sim__wm_create, gw_free,
     sim__wm_tick, sim__wm_on_write, sim__wm_on_io},
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
