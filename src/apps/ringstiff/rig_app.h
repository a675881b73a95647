/*
 * rig_app.h - the parts of the ring-stiffness app (apps/ringstiff/):
 * its settings, the test workflow (flow.c) and the endpoints (rig.c,
 * history.c). Private to the app.
 */
#ifndef GW_RIG_APP_H
#define GW_RIG_APP_H

#include "apps/app.h"
#include "apps/ringstiff/ringstiff.h"
#include "store/history.h"

#define RS_MAX_CLASSES 16

/* The machine's "app" settings (docs/ringstiff.md). */
typedef struct {
    /* Test_Status codes */
    int st_idle, st_running, st_complete, st_aborted;
    /* interlocks of command/start */
    bool lock_servo_ready, lock_enabled, lock_clamps, lock_not_running, lock_parameters;
    /* the recording's scan interval while a test runs */
    uint32_t record_interval_ms;
    /* the specimen: ISO 7685 with dm = d + e when GRP with a wall */
    gw_rs_method method;
    double wall_mm;           /* NAN: none */
    unsigned classes[RS_MAX_CLASSES];
    size_t nclasses;
    double tolerance;         /* fraction: 0.01 = 1 % */
    /* the reports' header */
    char lab_name[128];
    char lab_logo[512];       /* resolved against the config's folder */
} rs_settings;

/* Reads m->app (defaults for what is absent); false with d's errors. */
bool rs_settings_load(const gw_machine_cfg *m, rs_settings *out, gw_diag *d);

/* Alarm codes (alarms.alarm_code; docs/ringstiff.md) */
enum {
    RS_ALARM_SERVO_ERROR = 1,
    RS_ALARM_CONNECTION_LOST = 2,
    RS_ALARM_MAX_FORCE = 3,
    RS_ALARM_MAX_STROKE = 4,
    RS_ALARM_MISMATCH = 5,
    RS_ALARM_INTERRUPTED = 6,
    RS_ALARM_RECORDING = 7,
};
const char *rs_alarm_name(int code);

typedef struct rs_flow rs_flow;

/* What an operator gives with command/start. */
typedef struct {
    char sample_id[GW_TEST_SAMPLE_MAX + 1];
    char operator_name[GW_TEST_OPERATOR_MAX + 1];
    char notes[GW_TEST_NOTES_MAX + 1];
    unsigned nominal_sn;
    int64_t series_id;
} rs_intent;

/* The app's start/stop (gw_app.start/stop). */
void *rs_flow_start(const gw_app_env *env, const gw_machine_cfg *m, gw_error *err);
void rs_flow_stop(void *flow);

const rs_settings *rs_flow_settings(const rs_flow *f);
/* The test being recorded, 0 when none. */
int64_t rs_flow_current(rs_flow *f);
/* What the next test the PLC reports running gets (within 30 s). */
void rs_flow_set_intent(rs_flow *f, const rs_intent *in);
void rs_flow_clear_intent(rs_flow *f);
/* The API's stop: the abort that follows is put down to it. */
void rs_flow_note_stop(rs_flow *f);

/* The endpoints of the history (history.c): tests, series, alarms,
 * reports. */
extern const gw_app_route rs_history_routes[];
extern const size_t rs_history_nroutes;
extern const gw_app_component rs_history_components[];
extern const size_t rs_history_ncomponents;

/* A test as JSON (history.c; shared with the events). */
json_t *rs_test_json(const gw_test *t);

/* A specimen from a test's row and the settings. */
void rs_specimen(const gw_test *t, const rs_settings *st, gw_rs_specimen *sp);

#endif
