/*
 * wm.c - the watermaker as an app (apps/app.h): its routes (data.c,
 * dts.c), live view, settings and workflow, and what they share.
 */
#include "wm_app.h"

#include <math.h>
#include <string.h>

const char *wm_mode_name(long mode)
{
    switch (mode) {
    case 2: return "Home/Standby";
    case 3: return "Alarm List";
    case 5: return "DTS Prime";
    case 6: return "DTS Initialization";
    case 7: return "DTS Running/Production";
    case 8: return "Fresh Water Flush";
    case 9: return "Settings";
    case 15: return "Service Mode (Quality & Flush Valves / Pumps)";
    case 16: return "Service Mode (Double Pass & Feed Valves)";
    case 17: return "Service Mode (APC Need Valves)";
    case 18: return "Service Mode (Sensors - TDS, PPM, Flow, Temperature)";
    case 31: return "Overview Schematic";
    case 32: return "Contact Support";
    case 33: return "Seawater (Choose Single or Double Pass)";
    case 34: return "DTS Request";
    case 65535: return "Standby";
    default: return NULL;
    }
}

const gw_machine_cfg *wm_machine(const gw_app_http *http, gw_app_req *r, int *status)
{
    const gw_machine_cfg *m = http->machine(r, status);
    if (m && strcmp(m->profile, "watermaker") != 0) {
        char d[300];
        snprintf(d, sizeof(d), "machine %s is a %s, not a watermaker: %s is one of the "
                 "watermaker's endpoints", m->id, m->profile, http->path(r));
        *status = http->problem(r, 404, "Not Found", d);
        return NULL;
    }
    return m;
}

bool wm_value(const gw_machine_cfg *m, const gw_snapshot *s, const char *parameter, double *v)
{
    const gw_tag *t = gw_tagmap_find(m->tags, parameter);
    if (!t)
        return false;
    size_t i = (size_t)(t - gw_tagmap_at(m->tags, 0));
    if (i >= s->n || (s->quality[i] != GW_Q_GOOD && s->quality[i] != GW_Q_STALE))
        return false;
    *v = gw_value_as_double(&s->values[i]);
    return true;
}

double wm_timer_progress(double initial_s, double current_s)
{
    if (current_s >= 6553.5 || !(initial_s > 0))
        return 0;
    if (current_s <= 0)
        return 100;
    double p = (initial_s - current_s) / initial_s * 100.0;
    return p < 0 ? 0 : p > 100 ? 100 : p;
}

static const gw_app_route *wm_route(size_t i)
{
    if (i < wm_data_nroutes)
        return &wm_data_routes[i];
    i -= wm_data_nroutes;
    return i < wm_dts_nroutes ? &wm_dts_routes[i] : NULL;
}

static const gw_app_component *wm_component(size_t i)
{
    if (i < wm_data_ncomponents)
        return &wm_data_components[i];
    i -= wm_data_ncomponents;
    return i < wm_dts_ncomponents ? &wm_dts_components[i] : NULL;
}

const gw_app gw_app_watermaker = {
    "watermaker",
    wm_route,
    wm_component,
    wm_live,
    NULL, /* the events are the workflow's (dts.c) */
    {NULL, NULL},
    wm_settings_check,
    wm_dts_start,
    wm_dts_stop,
};
