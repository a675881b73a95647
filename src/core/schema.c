/*
 * schema.c - checks a JSON object against a table of fields (name, allowed
 * kinds, required, integer, range), in the manner of redis's standardConfig
 * table: one declaration per field instead of a chain of strcmp branches.
 */
#include "core.h"

#include <math.h>
#include <strings.h>
#include <string.h>

static const gw_field *find_field(const gw_field *fields, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

static void kinds_text(unsigned kinds, char *buf, size_t size)
{
    buf[0] = '\0';
    size_t used = 0;
    unsigned count = 0;
    for (int k = GW_JSON_NULL; k <= GW_JSON_OBJECT; k++)
        if (kinds & GW_KIND_BIT(k))
            count++;
    unsigned seen = 0;
    for (int k = GW_JSON_NULL; k <= GW_JSON_OBJECT; k++) {
        if (!(kinds & GW_KIND_BIT(k)))
            continue;
        seen++;
        const char *sep = seen == 1 ? "" : seen == count ? " or " : ", ";
        int w = snprintf(buf + used, size - used, "%s%s", sep, gw_json_kind_name((gw_json_kind)k));
        if (w < 0 || (size_t)w >= size - used)
            return;
        used += (size_t)w;
    }
}

static bool check_value(gw_diag *d, const gw_field *f, const gw_json_member *m,
                        const char *context)
{
    const gw_json *v = m->value;
    if (!(f->kinds & GW_KIND_BIT(v->kind))) {
        char want[96];
        kinds_text(f->kinds, want, sizeof(want));
        if (f->what)
            gw_diag_error(d, v->loc, "%s: \"%s\" must be %s (%s), got %s", context, f->name,
                          want, f->what, gw_json_kind_name(v->kind));
        else
            gw_diag_error(d, v->loc, "%s: \"%s\" must be %s, got %s", context, f->name, want,
                          gw_json_kind_name(v->kind));
        return false;
    }
    if (v->kind != GW_JSON_NUMBER)
        return true;
    if (f->integer && !v->u.num.integral) {
        gw_diag_error(d, v->loc, "%s: \"%s\" must be a whole number, got %s", context, f->name,
                      v->u.num.text);
        return false;
    }
    if (f->has_range && (v->u.num.d < f->min || v->u.num.d > f->max || isnan(v->u.num.d))) {
        gw_diag_error(d, v->loc, "%s: \"%s\" must be %.15g..%.15g, got %s", context, f->name,
                      f->min, f->max, v->u.num.text);
        return false;
    }
    return true;
}

bool gw_schema_check(gw_diag *d, const gw_json *obj, const gw_field *fields,
                     size_t nfields, gw_unknown_policy unknown, const char *context)
{
    size_t before = d->errors;
    if (!obj || obj->kind != GW_JSON_OBJECT) {
        gw_diag_error(d, obj ? obj->loc : (gw_loc){1, 1}, "%s must be an object, got %s",
                      context, obj ? gw_json_kind_name(obj->kind) : "nothing");
        return false;
    }
    for (size_t i = 0; i < obj->u.obj.n; i++) {
        const gw_json_member *m = &obj->u.obj.members[i];
        const gw_field *f = find_field(fields, nfields, m->key);
        if (f) {
            check_value(d, f, m, context);
            continue;
        }
        /* a near miss in letter case is almost always a typo */
        const gw_field *near = NULL;
        for (size_t k = 0; k < nfields && !near; k++)
            if (strcasecmp(fields[k].name, m->key) == 0)
                near = &fields[k];
        if (near) {
            if (unknown == GW_UNKNOWN_ERROR)
                gw_diag_error(d, m->key_loc, "%s: unknown member \"%s\"", context, m->key);
            else
                gw_diag_warn(d, m->key_loc, "%s: unknown member \"%s\" is %s", context, m->key,
                             unknown == GW_UNKNOWN_ALLOW ? "passed through as is" : "ignored");
            gw_diag_hint(d, "did you mean \"%s\"? names are case-sensitive", near->name);
        } else if (unknown == GW_UNKNOWN_ERROR) {
            gw_diag_error(d, m->key_loc, "%s: unknown member \"%s\"", context, m->key);
        } else if (unknown == GW_UNKNOWN_WARN) {
            gw_diag_warn(d, m->key_loc, "%s: unknown member \"%s\" is ignored", context, m->key);
        }
    }
    for (size_t i = 0; i < nfields; i++) {
        if (fields[i].required && !gw_json_get(obj, fields[i].name)) {
            char want[96];
            kinds_text(fields[i].kinds, want, sizeof(want));
            gw_diag_error(d, obj->loc, "%s: missing required member \"%s\" (%s%s%s)", context,
                          fields[i].name, want, fields[i].what ? ", " : "",
                          fields[i].what ? fields[i].what : "");
        }
    }
    return d->errors == before;
}
