/*
 * wm_app.h - the watermaker app (apps/watermaker/): its data endpoints
 * (data.c), its DTS sequences as tasks (dts.c), and what they share
 * (wm.c). Private to the app. docs/watermaker.md is the user's reference.
 *
 * Registers are named by the tag map's parameters (config/modbus/
 * watermaker.json): "System Mode" is R1000, "Control Command" R71, ...
 */
#ifndef GW_WM_APP_H
#define GW_WM_APP_H

#include "apps/app.h"

/* R1000 modes (the specification's "R1000 System Mode Values") */
enum {
    WM_MODE_STANDBY = 2, WM_MODE_ALARMS = 3, WM_MODE_PRIME = 5, WM_MODE_INIT = 6,
    WM_MODE_PRODUCTION = 7, WM_MODE_FLUSH = 8, WM_MODE_REQUEST = 34,
    WM_MODE_STANDBY_ALT = 65535,
};

/* A mode's name ("DTS Prime"); NULL for a value the table does not have. */
const char *wm_mode_name(long mode);

/* The machine of the route, a watermaker; NULL after answering 404/503. */
const gw_machine_cfg *wm_machine(const gw_app_http *http, gw_app_req *r, int *status);

/* A tag's value in s when good (or stale), else false. */
bool wm_value(const gw_machine_cfg *m, const gw_snapshot *s, const char *parameter, double *v);

/* Timer progress (%) from its initial and current value (seconds):
 * 65535 raw (6553.5 s) inactive = 0, 0 = 100, else (initial - current) /
 * initial * 100, clamped to 0..100. */
double wm_timer_progress(double initial_s, double current_s);

/* The data endpoints (data.c) and the DTS endpoints (dts.c). */
extern const gw_app_route wm_data_routes[];
extern const size_t wm_data_nroutes;
extern const gw_app_component wm_data_components[];
extern const size_t wm_data_ncomponents;
extern const gw_app_route wm_dts_routes[];
extern const size_t wm_dts_nroutes;
extern const gw_app_component wm_dts_components[];
extern const size_t wm_dts_ncomponents;

/* live_data of a watermaker (data.c): mode with its name, sensors,
 * timers with progress, outputs. */
json_t *wm_live(const gw_machine_cfg *m, const gw_snapshot *s);

/* The DTS workflow (dts.c): gw_app.start/stop, and its settings check. */
void *wm_dts_start(const gw_app_env *env, const gw_machine_cfg *m, gw_error *err);
void wm_dts_stop(void *state);
bool wm_settings_check(const gw_machine_cfg *m, gw_diag *d);

/* The last errors of a machine (the specification's /api/errors: the last
 * 10), kept by the DTS workflow; data.c's errors route reads them. */
typedef struct wm_dts wm_dts;
json_t *wm_dts_errors(wm_dts *w);
/* Adds an error (what failed, and why). Any thread. */
void wm_dts_error(wm_dts *w, const char *what, const char *why);

#endif
