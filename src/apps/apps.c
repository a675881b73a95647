/*
 * apps.c - the machine profiles that have an app, and what api/ and the
 * apps share.
 */
#include "app.h"

#include <stdio.h>
#include <string.h>

extern const gw_app gw_app_ringstiff;
extern const gw_app gw_app_watermaker;

static const gw_app *const apps[] = {
    &gw_app_ringstiff,
    &gw_app_watermaker,
};

const gw_app *gw_app_find(const char *profile)
{
    for (size_t i = 0; profile && i < sizeof(apps) / sizeof(apps[0]); i++)
        if (strcmp(apps[i]->profile, profile) == 0)
            return apps[i];
    return NULL;
}

const gw_app *gw_app_at(size_t i)
{
    return i < sizeof(apps) / sizeof(apps[0]) ? apps[i] : NULL;
}

bool gw_apps_check(const gw_config *cfg, gw_diag *d)
{
    bool ok = true;
    for (size_t i = 0; i < cfg->nmachines; i++) {
        const gw_machine_cfg *m = &cfg->machines[i];
        const gw_app *app = gw_app_find(m->profile);
        if (app && app->check)
            ok &= app->check(m, d);
        else if (m->app) {
            gw_diag_error(d, m->app->loc, "machine \"%s\": the %s profile takes no \"app\" "
                          "settings", m->id, m->profile);
            ok = false;
        }
    }
    return ok;
}

void gw_app_stamp(json_t *o, const gw_snapshot *s)
{
    if (!o)
        return;
    char ts[32] = "";
    if (s->ts_ms)
        gw_time_iso8601(s->ts_ms, ts, sizeof(ts));
    json_object_set_new(o, "connected", json_boolean(s->connected));
    json_object_set_new(o, "ts", s->ts_ms ? json_string(ts) : json_null());
    json_object_set_new(o, "age_ms", json_integer(s->ts_ms ? gw_wall_ms() - s->ts_ms : -1));
}

const gw_snapshot *gw_app_snapshot(const gw_app_http *http, gw_app_req *r,
                                   const gw_machine_cfg *m, int *status)
{
    const gw_snapshot *s = gw_engine_snapshot(http->engine(r), m->id);
    if (!s) {
        char d[100];
        snprintf(d, sizeof(d), "no values for %s yet", m->id);
        *status = http->problem(r, 503, "Service Unavailable", d);
    }
    return s;
}
