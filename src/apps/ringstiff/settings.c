/*
 * settings.c - the rig's "app" settings in the gateway config
 * (docs/ringstiff.md, "Settings"): Test_Status codes, the interlocks of
 * command/start, the recording's interval, the specimen (ISO 9969 or
 * ISO 7685), the SN classes, the PLC/independent tolerance, the reports'
 * header. Every problem is reported at its file:line:column.
 */
#include "rig_app.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const gw_field app_fields[] = {
    {"test_status", GW_KINDS_OBJECT, false, false, false, 0, 0,
     "the PLC's Test_Status codes: {idle, running, complete, aborted}"},
    {"interlocks", GW_KINDS_OBJECT, false, false, false, 0, 0,
     "{servo_ready, enabled, clamps, not_running, parameters}: true or false"},
    {"record_interval_ms", GW_KINDS_NUMBER, false, true, true, 5, 10000,
     "the scan interval of the measured values while a test runs"},
    {"specimen", GW_KINDS_OBJECT, false, false, false, 0, 0,
     "{material: \"thermoplastic\" or \"GRP\", wall_thickness: mm}"},
    {"sn_classes", GW_KINDS_ARRAY, false, false, false, 0, 0,
     "nominal ring stiffness classes in N/m2"},
    {"tolerance_percent", GW_KINDS_NUMBER, false, false, true, 0, 100,
     "how far the PLC's ring stiffness may be from ours, in %"},
    {"lab", GW_KINDS_OBJECT, false, false, false, 0, 0, "{name, logo}: the reports' header"},
};

static const gw_field status_fields[] = {
    {"idle", GW_KINDS_NUMBER, false, true, true, -32768, 32767, "an INT code"},
    {"running", GW_KINDS_NUMBER, false, true, true, -32768, 32767, "an INT code"},
    {"complete", GW_KINDS_NUMBER, false, true, true, -32768, 32767, "an INT code"},
    {"aborted", GW_KINDS_NUMBER, false, true, true, -32768, 32767, "an INT code"},
};

static const gw_field lock_fields[] = {
    {"servo_ready", GW_KINDS_BOOL, false, false, false, 0, 0, NULL},
    {"enabled", GW_KINDS_BOOL, false, false, false, 0, 0, NULL},
    {"clamps", GW_KINDS_BOOL, false, false, false, 0, 0, NULL},
    {"not_running", GW_KINDS_BOOL, false, false, false, 0, 0, NULL},
    {"parameters", GW_KINDS_BOOL, false, false, false, 0, 0, NULL},
};

static const gw_field specimen_fields[] = {
    {"material", GW_KINDS_STRING, false, false, false, 0, 0, "\"thermoplastic\" or \"GRP\""},
    {"wall_thickness", GW_KINDS_NUMBER, false, false, true, 0.001, 10000, "mm"},
};

static const gw_field lab_fields[] = {
    {"name", GW_KINDS_STRING, false, false, false, 0, 0, "the lab's name"},
    {"logo", GW_KINDS_STRING, false, false, false, 0, 0, "a PNG file"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void get_int(const gw_json *obj, const char *key, int *to)
{
    const gw_json *v = gw_json_get(obj, key);
    if (v && v->kind == GW_JSON_NUMBER)
        *to = (int)v->u.num.d;
}

static void get_bool(const gw_json *obj, const char *key, bool *to)
{
    const gw_json *v = gw_json_get(obj, key);
    if (v && v->kind == GW_JSON_BOOL)
        *to = v->u.b;
}

/* The config file's folder joined with a relative path. */
static void resolve(const char *config_path, const char *p, char *out, size_t size)
{
    const char *slash = strrchr(config_path, '/');
    if (p[0] == '/' || !slash)
        snprintf(out, size, "%s", p);
    else
        snprintf(out, size, "%.*s/%s", (int)(slash - config_path), config_path, p);
}

bool rs_settings_load(const gw_machine_cfg *m, rs_settings *st, gw_diag *d)
{
    memset(st, 0, sizeof(*st));
    st->st_idle = 0;
    st->st_running = 1;
    st->st_complete = 2;
    st->st_aborted = 3;
    st->lock_servo_ready = st->lock_enabled = st->lock_clamps = st->lock_not_running = true;
    st->lock_parameters = true;
    st->record_interval_ms = 20;
    st->method = GW_RS_ISO9969;
    st->wall_mm = NAN;
    memcpy(st->classes, gw_rs_default_classes, sizeof(gw_rs_default_classes));
    st->nclasses = N(gw_rs_default_classes);
    st->tolerance = 0.01;
    snprintf(st->lab_name, sizeof(st->lab_name), "%s", m->name);
    const gw_json *app = m->app;
    if (!app)
        return true;
    char ctx[80];
    snprintf(ctx, sizeof(ctx), "machine \"%s\" app", m->id);
    bool ok = gw_schema_check(d, app, app_fields, N(app_fields), GW_UNKNOWN_ERROR, ctx);

    const gw_json *ts = gw_json_get(app, "test_status");
    if (ts && gw_schema_check(d, ts, status_fields, N(status_fields), GW_UNKNOWN_ERROR, ctx)) {
        get_int(ts, "idle", &st->st_idle);
        get_int(ts, "running", &st->st_running);
        get_int(ts, "complete", &st->st_complete);
        get_int(ts, "aborted", &st->st_aborted);
        int c[4] = {st->st_idle, st->st_running, st->st_complete, st->st_aborted};
        for (int i = 0; i < 4; i++)
            for (int k = i + 1; k < 4; k++)
                if (c[i] == c[k]) {
                    gw_diag_error(d, ts->loc, "%s: test_status: two states have the code %d",
                                  ctx, c[i]);
                    ok = false;
                    i = k = 4;
                }
    } else if (ts) {
        ok = false;
    }
    const gw_json *il = gw_json_get(app, "interlocks");
    if (il && gw_schema_check(d, il, lock_fields, N(lock_fields), GW_UNKNOWN_ERROR, ctx)) {
        get_bool(il, "servo_ready", &st->lock_servo_ready);
        get_bool(il, "enabled", &st->lock_enabled);
        get_bool(il, "clamps", &st->lock_clamps);
        get_bool(il, "not_running", &st->lock_not_running);
        get_bool(il, "parameters", &st->lock_parameters);
    } else if (il) {
        ok = false;
    }
    const gw_json *ri = gw_json_get(app, "record_interval_ms");
    if (ri && ri->kind == GW_JSON_NUMBER)
        st->record_interval_ms = (uint32_t)ri->u.num.d;

    const gw_json *sp = gw_json_get(app, "specimen");
    if (sp && gw_schema_check(d, sp, specimen_fields, N(specimen_fields), GW_UNKNOWN_ERROR, ctx)) {
        const gw_json *mat = gw_json_get(sp, "material");
        const gw_json *wall = gw_json_get(sp, "wall_thickness");
        if (wall && wall->kind == GW_JSON_NUMBER)
            st->wall_mm = wall->u.num.d;
        if (mat && mat->kind == GW_JSON_STRING) {
            if (strcmp(mat->u.str.s, "GRP") == 0) {
                if (!wall) {
                    gw_diag_error(d, mat->loc, "%s: a GRP specimen needs \"wall_thickness\" "
                                  "(mm): ISO 7685 uses the mean diameter", ctx);
                    ok = false;
                }
                st->method = GW_RS_ISO7685;
            } else if (strcmp(mat->u.str.s, "thermoplastic") != 0) {
                gw_diag_error(d, mat->loc, "%s: material must be \"thermoplastic\" (ISO 9969) "
                              "or \"GRP\" (ISO 7685), not \"%s\"", ctx, mat->u.str.s);
                ok = false;
            }
        }
    } else if (sp) {
        ok = false;
    }
    const gw_json *cl = gw_json_get(app, "sn_classes");
    if (cl && cl->kind == GW_JSON_ARRAY) {
        if (cl->u.arr.n == 0 || cl->u.arr.n > RS_MAX_CLASSES) {
            gw_diag_error(d, cl->loc, "%s: sn_classes needs 1 to %d classes", ctx,
                          RS_MAX_CLASSES);
            ok = false;
        }
        st->nclasses = 0;
        for (size_t i = 0; i < cl->u.arr.n && i < RS_MAX_CLASSES; i++) {
            const gw_json *v = cl->u.arr.items[i];
            uint64_t u;
            if (!gw_json_u64(v, &u) || u == 0 || u > 10000000) {
                gw_diag_error(d, v->loc, "%s: an SN class is a whole number of N/m2 "
                              "(630 ... 10000000)", ctx);
                ok = false;
                continue;
            }
            st->classes[st->nclasses++] = (unsigned)u;
        }
    }
    const gw_json *tol = gw_json_get(app, "tolerance_percent");
    if (tol && tol->kind == GW_JSON_NUMBER)
        st->tolerance = tol->u.num.d / 100.0;
    const gw_json *lab = gw_json_get(app, "lab");
    if (lab && gw_schema_check(d, lab, lab_fields, N(lab_fields), GW_UNKNOWN_ERROR, ctx)) {
        const gw_json *name = gw_json_get(lab, "name");
        const gw_json *logo = gw_json_get(lab, "logo");
        if (name && name->kind == GW_JSON_STRING)
            snprintf(st->lab_name, sizeof(st->lab_name), "%s", name->u.str.s);
        if (logo && logo->kind == GW_JSON_STRING && logo->u.str.s[0])
            resolve(d->file, logo->u.str.s, st->lab_logo, sizeof(st->lab_logo));
    } else if (lab) {
        ok = false;
    }
    return ok && !gw_diag_failed(d);
}

void rs_specimen(const gw_test *t, const rs_settings *st, gw_rs_specimen *sp)
{
    sp->diameter_mm = t->pipe_diameter;
    sp->length_mm = t->pipe_length;
    sp->deflection_pct = t->deflection_percent;
    sp->wall_mm = isnan(t->wall_thickness) ? st->wall_mm : t->wall_thickness;
    sp->method = st->method;
}

const char *rs_alarm_name(int code)
{
    static const char *const names[] = {
        "", "servo_error", "connection_lost", "max_force", "max_stroke", "result_mismatch",
        "test_interrupted", "recording",
    };
    return code > 0 && (size_t)code < N(names) ? names[code] : "alarm";
}
