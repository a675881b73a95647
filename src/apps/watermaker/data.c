/*
 * data.c - the watermaker's data endpoints (the specification's "System &
 * Status" and "Data Monitoring" tables: status, all, select, errors,
 * config, write/register, sensors, timers, rtc, outputs, runtime,
 * water_counters) and its live view. Their OpenAPI components are in
 * data_schema.c; docs/watermaker.md ("Endpoints") is the user's reference.
 *
 * Design: everything is read from the engine's newest snapshot (no PLC
 * read), and everything about a register comes from the tag map: its
 * number (the holding register of its key, "41003" is R1003), unit,
 * scale, category ("category": pressure, dts_timer, output, ...) and the
 * names of its values ("map"). The category puts a tag into the
 * specification's groups (system, sensors, timers, outputs, runtime,
 * water_counters, rtc); a tag the map gives no category joins "system"
 * when it is in the "control" scan group (R67, R71). What the map cannot
 * say is the specification's own tables, kept here: each timer's expected
 * start and each output's bit position.
 *
 * Every value is an entry: register, parameter, value (scaled, in its
 * unit), quality, and the raw register value where it differs (scaled
 * sensors, timers). A key is the parameter in snake case ("High Pressure
 * #2" is high_pressure_2).
 *
 * /api/machines/{id}/status and /api/status are also the rig's paths:
 * api/ sends a request to the route of the machine's profile.
 */
#include "wm_app.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- the map */

/* The specification's groups of /api/all, in its order. */
enum { G_SYSTEM, G_SENSORS, G_TIMERS, G_OUTPUTS, G_RUNTIME, G_COUNTERS, G_RTC, G__COUNT };
#define GBIT(g) (1u << (g))

static const char *const group_names[G__COUNT] = {
    "system", "sensors", "timers", "outputs", "runtime", "water_counters", "rtc",
};
#define GROUP_LIST "system, sensors, timers, outputs, runtime, water_counters, rtc"

/* The map's categories and the groups they put a tag in; the first five
 * are the sensors' (the specification's "Valid Categories"). */
static const struct {
    const char *category;
    unsigned groups;
} categories[] = {
    {"system", GBIT(G_SYSTEM) | GBIT(G_SENSORS)}, {"pressure", GBIT(G_SENSORS)},
    {"temperature", GBIT(G_SENSORS)},             {"flow", GBIT(G_SENSORS)},
    {"quality", GBIT(G_SENSORS)},                 {"control", GBIT(G_SYSTEM)},
    {"dts_timer", GBIT(G_TIMERS)},                {"fwf_timer", GBIT(G_TIMERS)},
    {"output", GBIT(G_OUTPUTS)},                  {"runtime", GBIT(G_RUNTIME)},
    {"water_counters", GBIT(G_COUNTERS)},         {"rtc", GBIT(G_RTC)},
};
#define NSENSOR_CATEGORIES 5
#define CATEGORY_LIST "system, pressure, temperature, flow, quality"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The specification's "Timer Registers" table: register, expected start
 * in tenths of a second (R136 600 is 60 s). */
static const unsigned timer_starts[][2] = {
    {136, 600}, {138, 150}, {128, 1800}, {129, 600}, {133, 600}, {135, 100}, {139, 600},
};

/* The specification's "Output Control Registers" table: register, bit. */
static const unsigned output_bits[][2] = {
    {257, 0}, {258, 1}, {259, 2}, {260, 3}, {264, 7}, {265, 8},
};

/* A timer register at 65535 is not running (the specification's
 * "Special Values"). */
#define TIMER_IDLE_RAW 65535

/* The API's version (the specification's "Current API Version"). */
#define API_VERSION "1.1"

#define KEY_MAX 64

static const char *tag_category(const gw_tag *t)
{
    for (size_t k = 0; k < t->nextras; k++)
        if (strcmp(t->extras[k].name, "category") == 0)
            return json_string_value(t->extras[k].value);
    return NULL;
}

/* The groups a tag is in (GBIT), 0: none. */
static unsigned tag_groups(const gw_tag *t)
{
    const char *c = tag_category(t);
    for (size_t k = 0; c && k < NELEMS(categories); k++)
        if (strcmp(categories[k].category, c) == 0)
            return categories[k].groups;
    return !c && t->group && strcmp(t->group, "control") == 0 ? GBIT(G_SYSTEM) : 0;
}

static bool is_sensor_category(const char *c)
{
    for (size_t k = 0; c && k < NSENSOR_CATEGORIES; k++)
        if (strcmp(categories[k].category, c) == 0)
            return true;
    return false;
}

/* Its holding register (R-number), or -1 for a tag of another class. */
static long tag_register(const gw_tag *t)
{
    return t->addr.driver == GW_DRIVER_MODBUS && t->addr.mb_class == GW_MB_HOLDING
               ? (long)t->addr.reg : -1;
}

/* The parameter in snake case: "High Pressure #2" -> high_pressure_2. */
static void tag_key(const char *parameter, char *out, size_t size)
{
    size_t n = 0;
    bool gap = false;
    for (const char *p = parameter; *p && n + 2 < size; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c)) {
            if (gap && n)
                out[n++] = '_';
            out[n++] = (char)tolower(c);
            gap = false;
        } else {
            gap = true;
        }
    }
    out[n] = '\0';
}

/* The tag's row of a specification table ({register, x}): x, or -1. */
static int spec_row(const unsigned (*table)[2], size_t n, const gw_tag *t)
{
    for (size_t k = 0; k < n; k++)
        if (tag_register(t) == (long)table[k][0])
            return (int)table[k][1];
    return -1;
}
#define timer_start(t) spec_row(timer_starts, NELEMS(timer_starts), t)
#define output_bit(t) spec_row(output_bits, NELEMS(output_bits), t)

static bool is_timer(const char *c)
{
    return c && (strcmp(c, "dts_timer") == 0 || strcmp(c, "fwf_timer") == 0);
}

/* ---------------------------------------------------------------- values */

/* Tag i's value in s, when good or stale. */
static bool value_at(const gw_snapshot *s, size_t i, double *v)
{
    if (i >= s->n || (s->quality[i] != GW_Q_GOOD && s->quality[i] != GW_Q_STALE))
        return false;
    *v = gw_value_as_double(&s->values[i]);
    return !isnan(*v);
}

/* The decimals of a scale factor: the fewest that write it exactly (0.1:
 * one, 0.25: two), at most 6. */
static int decimals(double x)
{
    int d = 0;
    for (double p = 1; d < 6 && fabs(x * p - round(x * p)) > 1e-9 * p; p *= 10)
        d++;
    return d;
}

/* A value to the precision it really has: a scaled one to the decimals
 * of its multiplier and offset (R1017 681 reads 68.1, not
 * 68.10000000000001), a 32-bit float to the fewest digits that give the
 * same float (R5014's 0.1f reads 0.1, not 0.10000000149011612). */
static double tidy(const gw_tag *t, double v)
{
    if (t->scaled) {
        int dm = decimals(t->multiplier), doff = decimals(t->offset);
        double p = pow(10, dm > doff ? dm : doff);
        return round(v * p) / p;
    }
    if (t->type == GW_T_F32 || t->type == GW_T_F16) {
        char buf[32];
        for (int prec = 6; prec <= 9; prec++) {
            snprintf(buf, sizeof(buf), "%.*g", prec, v);
            double x = strtod(buf, NULL);
            if ((float)x == (float)v)
                return x;
        }
    }
    return v;
}

/* A value as JSON: a scaled or float one a number, else an integer. */
static json_t *number_json(const gw_tag *t, double v)
{
    if (isnan(v) || isinf(v))
        return json_null();
    if (t->scaled || gw_type_is_float(t->type))
        return json_real(tidy(t, v));
    return json_integer((json_int_t)llround(v));
}

/* The register's own value behind a scaled 16-bit value. */
static long raw_of(const gw_tag *t, double v)
{
    return t->scaled ? lround((v - t->offset) / t->multiplier) : lround(v);
}

static const char *enum_text(const gw_tag *t, double v)
{
    for (size_t k = 0; k < t->nenums; k++)
        if ((double)t->enums[k].key == v)
            return t->enums[k].text;
    return NULL;
}

static json_t *text_json(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* One entry: register, parameter, value, unit, category, quality, and
 * what its kind adds (raw value; a timer's state and progress; an
 * output's bit). */
static json_t *entry_json(const gw_machine_cfg *m, const gw_snapshot *s, size_t i)
{
    const gw_tag *t = gw_tagmap_at(m->tags, i);
    const char *cat = tag_category(t);
    double v = 0;
    bool have = value_at(s, i, &v);
    json_t *o = json_object();
    if (!o)
        return NULL;
    long reg = tag_register(t);
    json_object_set_new(o, "register", reg >= 0 ? json_integer(reg) : json_null());
    if (t->nregs == 2)
        json_object_set_new(o, "pair_register", json_integer(reg + 1));
    json_object_set_new(o, "parameter", json_string(t->parameter));
    json_object_set_new(o, "value", have ? number_json(t, v) : json_null());
    json_object_set_new(o, "unit", text_json(t->unit));
    json_object_set_new(o, "category", text_json(cat));
    json_object_set_new(o, "quality", json_string(gw_quality_name(i < s->n ? s->quality[i]
                                                                         : GW_Q_UNKNOWN)));
    if (t->nenums)
        json_object_set_new(o, "value_text", have ? text_json(enum_text(t, v)) : json_null());
    bool raw_kind = t->nregs == 1 && !gw_type_is_float(t->type);
    if (is_timer(cat)) {
        long raw = have ? raw_of(t, v) : -1;
        int start = timer_start(t);
        json_object_set_new(o, "raw", have ? json_integer(raw) : json_null());
        json_object_set_new(o, "seconds", have ? number_json(t, v) : json_null());
        json_object_set_new(o, "active", json_boolean(have && raw != TIMER_IDLE_RAW));
        json_object_set_new(o, "expected_start", start >= 0 ? json_integer(start) : json_null());
        json_object_set_new(o, "expected_start_s",
                            start >= 0 ? json_real(start / 10.0) : json_null());
        json_object_set_new(o, "progress_percent",
                            have && start >= 0
                                ? json_real(round(wm_timer_progress(start / 10.0, v) * 10) / 10)
                                : json_null());
    } else if (cat && strcmp(cat, "output") == 0) {
        int bit = output_bit(t);
        json_object_set_new(o, "bit", bit >= 0 ? json_integer(bit) : json_null());
        json_object_set_new(o, "on", have ? json_boolean(v != 0) : json_null());
    } else if (t->scaled && raw_kind) {
        json_object_set_new(o, "raw", have ? json_integer(raw_of(t, v)) : json_null());
    }
    return o;
}

/* A group's entries by key; only those of category (NULL: all) and, with
 * only_on, the outputs that are on. *count: how many. */
static json_t *group_json(const gw_machine_cfg *m, const gw_snapshot *s, int g,
                          const char *category, bool only_on, size_t *count)
{
    json_t *o = json_object();
    size_t n = 0;
    for (size_t i = 0; o && i < gw_tagmap_count(m->tags); i++) {
        const gw_tag *t = gw_tagmap_at(m->tags, i);
        if (!(tag_groups(t) & GBIT(g)))
            continue;
        const char *c = tag_category(t);
        if (category && !(c && strcmp(c, category) == 0))
            continue;
        double v;
        if (only_on && !(value_at(s, i, &v) && v != 0))
            continue;
        char key[KEY_MAX];
        tag_key(t->parameter, key, sizeof(key));
        json_object_set_new(o, key, entry_json(m, s, i));
        n++;
    }
    if (count)
        *count = n;
    return o;
}

/* R1000: {value, name} (null when unknown). */
static json_t *mode_json(const gw_machine_cfg *m, const gw_snapshot *s)
{
    double v;
    if (!wm_value(m, s, "System Mode", &v))
        return json_pack("{s:n, s:n}", "value", "name");
    return json_pack("{s:I, s:o}", "value", (json_int_t)llround(v), "name",
                     text_json(wm_mode_name(lround(v))));
}

/* The specification's R1036 values, for a map that does not name them. */
static const char *status_meaning(long v)
{
    return v == 0 ? "Standby" : v == 5 ? "FWF" : v == 7 ? "Service Mode" : NULL;
}

/* R1036: {value, meaning}. */
static json_t *system_status_json(const gw_machine_cfg *m, const gw_snapshot *s)
{
    const gw_tag *t = gw_tagmap_find(m->tags, "System Status");
    double v;
    if (!t || !wm_value(m, s, "System Status", &v))
        return json_pack("{s:n, s:n}", "value", "meaning");
    const char *text = enum_text(t, v);
    return json_pack("{s:I, s:o}", "value", (json_int_t)llround(v), "meaning",
                     text_json(text ? text : status_meaning(lround(v))));
}

/* ---------------------------------------------------------------- requests */

/* The watermaker of the route and its newest snapshot; false when answered. */
static bool begin(const gw_app_http *http, gw_app_req *r, const gw_machine_cfg **m,
                  const gw_snapshot **s, int *status)
{
    *m = wm_machine(http, r, status);
    return *m && (*s = gw_app_snapshot(http, r, *m, status)) != NULL;
}

/* Answers o's members (o taken) after the machine and the snapshot's
 * time; releases s. */
static int answer(const gw_app_http *http, gw_app_req *r, const gw_machine_cfg *m,
                  const gw_snapshot *s, json_t *o)
{
    json_t *body = o ? json_pack("{s:s}", "machine", m->id) : NULL;
    gw_app_stamp(body, s);
    if (body && json_object_update(body, o) != 0) {
        json_decref(body);
        body = NULL;
    }
    json_decref(o);
    gw_snapshot_release(s);
    return http->json(r, 200, body);
}

static json_t *status_json(const gw_machine_cfg *m, const gw_snapshot *s)
{
    json_t *o = json_pack("{s:s, s:o, s:o, s:s, s:i, s:i, s:I, s:s}", "name", m->name, "mode",
                          mode_json(m, s), "system_status", system_status_json(m, s), "host",
                          m->host, "port", m->port, "unit", m->unit, "connects",
                          (json_int_t)s->connects, "api_version", API_VERSION);
    if (o && !s->connected)
        json_object_set_new(o, "error", json_string(s->error[0] ? s->error : "not connected"));
    return o;
}

static int status_of(const gw_app_http *http, gw_app_req *r, const gw_machine_cfg *m)
{
    int status;
    const gw_snapshot *s = gw_app_snapshot(http, r, m, &status);
    return s ? answer(http, r, m, s, status_json(m, s)) : status;
}

/* GET status (api/ sends the rig's own status path to the rig's app) */
int wm__data_status(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m = wm_machine(http, r, &status);
    return m ? status_of(http, r, m) : status;
}

/* The body of /api/all with the groups in mask. */
static json_t *groups_json(const gw_machine_cfg *m, const gw_snapshot *s, unsigned mask)
{
    json_t *o = json_object();
    for (int g = 0; o && g < G__COUNT; g++)
        if (mask & GBIT(g))
            json_object_set_new(o, group_names[g], group_json(m, s, g, NULL, false, NULL));
    return o;
}

int wm__data_all(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m;
    const gw_snapshot *s;
    if (!begin(http, r, &m, &s, &status))
        return status;
    json_t *o = groups_json(m, s, GBIT(G__COUNT) - 1);
    if (o)
        json_object_set_new(o, "mode", mode_json(m, s));
    return answer(http, r, m, s, o);
}

/* ------------------------------------------------------------- select */

/* Levenshtein distance of two short texts (each cut at KEY_MAX). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strnlen(a, KEY_MAX - 1), lb = strnlen(b, KEY_MAX - 1);
    size_t row[KEY_MAX], prev[KEY_MAX];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = row[j - 1] + 1;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, row, (lb + 1) * sizeof(row[0]));
    }
    return prev[lb];
}

/* Does the key share a word of 4 letters or more with want? */
static bool shares_word(const char *key, const char *want)
{
    char w[KEY_MAX];
    snprintf(w, sizeof(w), "%s", want);
    for (char *save = NULL, *tok = strtok_r(w, "_", &save); tok; tok = strtok_r(NULL, "_", &save))
        if (strlen(tok) >= 4 && strstr(key, tok))
            return true;
    return false;
}

/* 422 for an unknown key: the keys like it, and where all are listed
 * (forty keys do not fit a problem's detail). */
static int unknown_key(const gw_app_http *http, gw_app_req *r, const gw_machine_cfg *m,
                       const char *want)
{
    char snake[KEY_MAX], like[200] = "";
    tag_key(want, snake, sizeof(snake));
    size_t used = 0, n = 0;
    for (size_t i = 0; i < gw_tagmap_count(m->tags) && n < 6; i++) {
        char key[KEY_MAX];
        tag_key(gw_tagmap_at(m->tags, i)->parameter, key, sizeof(key));
        size_t d = distance(key, snake), len = strlen(snake);
        if (snake[0] && (d <= (len > 12 ? 3u : 2u) || shares_word(key, snake))) {
            int k = snprintf(like + used, sizeof(like) - used, "%s%s", n ? ", " : "", key);
            if (k < 0 || (size_t)k >= sizeof(like) - used)
                break;
            used += (size_t)k;
            n++;
        }
    }
    char d[600];
    snprintf(d, sizeof(d), "unknown key \"%.60s\"%s%s%s; a key is a parameter of the tag map "
             "(\"Feed Pressure\") or its snake_case key (feed_pressure): GET /api/machines/%s/"
             "config lists every key", want, n ? " (like it: " : "", like, n ? ")" : "", m->id);
    return http->problem(r, 422, "Unprocessable Content", d);
}

/* A key or parameter: its tag's index, or -1. */
static long find_key(const gw_machine_cfg *m, const char *want)
{
    for (size_t i = 0; i < gw_tagmap_count(m->tags); i++) {
        const gw_tag *t = gw_tagmap_at(m->tags, i);
        char key[KEY_MAX];
        tag_key(t->parameter, key, sizeof(key));
        if (strcasecmp(t->parameter, want) == 0 || strcasecmp(key, want) == 0)
            return (long)i;
    }
    return -1;
}

/* The next comma-separated item of *p, trimmed, into out ("" at the end). */
static void next_item(const char **p, char *out, size_t size)
{
    while (**p == ',' || **p == ' ')
        (*p)++;
    size_t n = strcspn(*p, ",");
    const char *item = *p;
    *p += n;
    while (n && item[n - 1] == ' ')
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(out, item, n);
    out[n] = '\0';
}

/* A query parameter into buf; false when answered (too long, bad). */
static bool query_list(const gw_app_http *http, gw_app_req *r, const char *name, char *buf,
                       size_t size, int *status)
{
    buf[0] = '\0';
    int rc = http->query(r, name, buf, size);
    if (rc >= 0)
        return true;
    char d[160];
    snprintf(d, sizeof(d), "query parameter \"%s\": %s", name,
             rc == -1 ? "too long" : "badly encoded");
    *status = http->problem(r, 422, "Unprocessable Content", d);
    return false;
}

int wm__data_select(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m = wm_machine(http, r, &status);
    if (!m)
        return status;
    char groups[512], keys[2048], item[KEY_MAX * 2];
    if (!query_list(http, r, "groups", groups, sizeof(groups), &status) ||
        !query_list(http, r, "keys", keys, sizeof(keys), &status))
        return status;
    unsigned mask = 0;
    for (const char *p = groups; next_item(&p, item, sizeof(item)), item[0];) {
        int g = 0;
        while (g < G__COUNT && strcmp(group_names[g], item) != 0)
            g++;
        if (g == G__COUNT) {
            char d[300];
            snprintf(d, sizeof(d), "unknown group \"%.60s\": the groups are " GROUP_LIST, item);
            return http->problem(r, 422, "Unprocessable Content", d);
        }
        mask |= GBIT(g);
    }
    size_t nkeys = 0;
    for (const char *p = keys; next_item(&p, item, sizeof(item)), item[0]; nkeys++)
        if (find_key(m, item) < 0)
            return unknown_key(http, r, m, item);
    if (!mask && !nkeys)
        return http->problem(r, 422, "Unprocessable Content",
                             "name what to select: ?groups= (" GROUP_LIST ") and/or ?keys= "
                             "(parameters or their snake_case keys, comma-separated)");
    const gw_snapshot *s = gw_app_snapshot(http, r, m, &status);
    if (!s)
        return status;
    json_t *o = groups_json(m, s, mask);
    json_t *values = nkeys ? json_object() : NULL;
    for (const char *p = keys; values && (next_item(&p, item, sizeof(item)), item[0]);) {
        long i = find_key(m, item);
        char key[KEY_MAX];
        tag_key(gw_tagmap_at(m->tags, (size_t)i)->parameter, key, sizeof(key));
        json_object_set_new(values, key, entry_json(m, s, (size_t)i));
    }
    if (o && values)
        json_object_set_new(o, "values", values);
    else
        json_decref(values);
    return answer(http, r, m, s, o);
}

/* ------------------------------------------------------------- errors, config */

int wm__data_errors(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m = wm_machine(http, r, &status);
    if (!m)
        return status;
    wm_dts *w = http->state(r, m);
    json_t *list = w ? wm_dts_errors(w) : NULL;
    if (!json_is_array(list)) {
        json_decref(list);
        list = json_array();
    }
    return http->json(r, 200, json_pack("{s:s, s:I, s:o}", "machine", m->id, "count",
                                        (json_int_t)json_array_size(list), "errors", list));
}

/* The scan group of a tag: its own, else the machine's first. */
static const char *scan_group_of(const gw_machine_cfg *m, const gw_tag *t)
{
    return t->group ? t->group : m->ngroups ? m->groups[0].name : "default";
}

static json_t *scan_json(const gw_machine_cfg *m)
{
    json_t *a = json_array();
    for (size_t g = 0; a && g < m->ngroups; g++) {
        size_t n = 0;
        for (size_t i = 0; i < gw_tagmap_count(m->tags); i++)
            n += strcmp(scan_group_of(m, gw_tagmap_at(m->tags, i)), m->groups[g].name) == 0;
        json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "name", m->groups[g].name,
                                           "interval_ms", (json_int_t)m->groups[g].interval_ms,
                                           "registers", (json_int_t)n));
    }
    return a;
}

/* Every key with its register and groups, and the writable registers. */
static void keys_json(const gw_machine_cfg *m, json_t *o)
{
    json_t *keys = json_object(), *writable = json_array();
    size_t words = 0;
    for (size_t i = 0; keys && writable && i < gw_tagmap_count(m->tags); i++) {
        const gw_tag *t = gw_tagmap_at(m->tags, i);
        char key[KEY_MAX];
        tag_key(t->parameter, key, sizeof(key));
        json_t *in = json_array();
        for (int g = 0; in && g < G__COUNT; g++)
            if (tag_groups(t) & GBIT(g))
                json_array_append_new(in, json_string(group_names[g]));
        long reg = tag_register(t);
        json_object_set_new(keys, key, json_pack("{s:s, s:o, s:o}", "parameter", t->parameter,
                                                 "register", reg >= 0 ? json_integer(reg)
                                                                      : json_null(),
                                                 "groups", in ? in : json_array()));
        if (reg >= 0 && t->access == GW_ACCESS_RW)
            json_array_append_new(writable, json_integer(reg));
        words += t->nregs;
    }
    json_object_set_new(o, "registers", json_integer((json_int_t)gw_tagmap_count(m->tags)));
    json_object_set_new(o, "register_words", json_integer((json_int_t)words));
    json_object_set_new(o, "writable_registers", writable ? writable : json_array());
    json_object_set_new(o, "keys", keys ? keys : json_object());
}

/* The app's routes that answer for m: its own paths ({id} filled in), and
 * the top-level ones when m is the default machine. */
static json_t *endpoints_json(const gw_machine_cfg *m, bool is_default)
{
    json_t *a = json_array();
    const gw_app *app = gw_app_find("watermaker");
    const gw_app_route *rt;
    for (size_t i = 0; a && app && (rt = app->route(i)) != NULL; i++) {
        const char *id = strstr(rt->pattern, "{id}");
        if (!id && !is_default)
            continue;
        char path[256];
        if (id)
            snprintf(path, sizeof(path), "%.*s%s%s", (int)(id - rt->pattern), rt->pattern, m->id,
                     id + 4);
        else
            snprintf(path, sizeof(path), "%s", rt->pattern);
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "method", rt->method, "path",
                                           path, "role", gw_role_name(rt->role), "summary",
                                           rt->summary));
    }
    return a;
}

int wm__data_config(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m = wm_machine(http, r, &status);
    if (!m)
        return status;
    const gw_config *cfg = http->config(r);
    bool is_default = strcmp(cfg->default_machine, m->id) == 0;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:I, s:b, s:b, s:o}", "api_version",
                          API_VERSION, "machine", m->id, "name", m->name, "host", m->host,
                          "port", m->port, "unit", m->unit, "timeout_ms",
                          (json_int_t)m->timeout_ms, "simulated", m->simulate, "default",
                          is_default, "scan_groups", scan_json(m));
    if (o) {
        keys_json(m, o);
        json_t *g = json_array(), *c = json_array();
        for (int k = 0; g && k < G__COUNT; k++)
            json_array_append_new(g, json_string(group_names[k]));
        for (size_t k = 0; c && k < NSENSOR_CATEGORIES; k++)
            json_array_append_new(c, json_string(categories[k].category));
        json_object_set_new(o, "groups", g ? g : json_array());
        json_object_set_new(o, "sensor_categories", c ? c : json_array());
        json_object_set_new(o, "endpoints", endpoints_json(m, is_default));
    }
    return http->json(r, 200, o);
}

/* ------------------------------------------------------------- write/register */

/* The tag that is holding register reg as a whole (or the tag it is a
 * part of, in *part); NULL: none. */
static const gw_tag *register_tag(const gw_machine_cfg *m, long reg, const gw_tag **part)
{
    *part = NULL;
    for (size_t i = 0; i < gw_tagmap_count(m->tags); i++) {
        const gw_tag *t = gw_tagmap_at(m->tags, i);
        long first = tag_register(t);
        if (first < 0 || reg < first || reg >= first + (t->nregs ? t->nregs : 1))
            continue;
        if (first == reg && t->addr.half == GW_HALF_NONE)
            return t;
        *part = t;
    }
    return NULL;
}

/* "67 (Step Skip Command), 71 (...)" into buf. */
static void writable_list(const gw_machine_cfg *m, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < gw_tagmap_count(m->tags); i++) {
        const gw_tag *t = gw_tagmap_at(m->tags, i);
        if (tag_register(t) < 0 || t->access != GW_ACCESS_RW || t->nregs != 1)
            continue;
        int k = snprintf(buf + used, size - used, "%s%ld (%s)", used ? ", " : "",
                         tag_register(t), t->parameter);
        if (k < 0 || (size_t)k >= size - used) {
            buf[used] = '\0';
            break;
        }
        used += (size_t)k;
    }
}

/* 422 for a body that names no writable register; d is what is wrong. */
static int bad_register(const gw_app_http *http, gw_app_req *r, const gw_machine_cfg *m,
                        const char *what)
{
    char list[300], d[500];
    writable_list(m, list, sizeof(list));
    snprintf(d, sizeof(d), "%s; the writable registers are %s", what, list[0] ? list : "none");
    return http->problem(r, 422, "Unprocessable Content", d);
}

/* Checks the body {"register": n, "value": v}: the tag and raw value, or
 * the 422 answered. */
static const gw_tag *check_write(const gw_app_http *http, gw_app_req *r, const gw_machine_cfg *m,
                                 json_t *body, long *raw, int *status)
{
    char d[300];
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        if (strcmp(key, "register") != 0 && strcmp(key, "value") != 0) {
            snprintf(d, sizeof(d), "unknown member \"%.60s\": the body is {\"register\": n, "
                     "\"value\": v}", key);
            *status = http->problem(r, 422, "Unprocessable Content", d);
            return NULL;
        }
    }
    json_t *reg = json_object_get(body, "register"), *val = json_object_get(body, "value");
    if (!reg || !val) {
        snprintf(d, sizeof(d), "the body needs \"%s\": {\"register\": n, \"value\": v}, n a "
                 "holding register (1000 for R1000), v an integer 0..65535",
                 reg ? "value" : "register");
        *status = http->problem(r, 422, "Unprocessable Content", d);
        return NULL;
    }
    json_int_t n = json_is_integer(reg) ? json_integer_value(reg) : -1;
    if (n < 0 || n > 65535) {
        *status = bad_register(http, r, m, "\"register\" must be a holding register number, an "
                               "integer 0..65535 (1000 for R1000)");
        return NULL;
    }
    const gw_tag *part, *t = register_tag(m, (long)n, &part);
    if (!t) {
        if (part)
            snprintf(d, sizeof(d), "register %lld is part of %s (%s, registers %ld..%ld), not "
                     "a register of its own", (long long)n, part->parameter,
                     gw_type_name(part->type, GW_DRIVER_MODBUS), tag_register(part),
                     tag_register(part) + (part->nregs ? part->nregs : 1) - 1);
        else
            snprintf(d, sizeof(d), "register %lld is not in the tag map", (long long)n);
        *status = bad_register(http, r, m, d);
        return NULL;
    }
    if (t->access != GW_ACCESS_RW || t->nregs != 1) {
        snprintf(d, sizeof(d), "register %lld (%s) is %s", (long long)n, t->parameter,
                 t->access != GW_ACCESS_RW ? "read-only" : "not a single register");
        *status = bad_register(http, r, m, d);
        return NULL;
    }
    json_int_t x = json_is_integer(val) ? json_integer_value(val) : -1;
    if (x < 0 || x > 65535) {
        char got[40];
        if (json_is_integer(val))
            snprintf(got, sizeof(got), "%lld", (long long)x);
        else if (json_is_real(val))
            snprintf(got, sizeof(got), "%g", json_real_value(val));
        else
            snprintf(got, sizeof(got), "%s", json_is_string(val) ? "a string"
                     : json_is_boolean(val) ? "a boolean" : json_is_null(val) ? "null"
                     : "an array or object");
        snprintf(d, sizeof(d), "\"value\" must be an integer 0..65535 (the register's raw "
                 "value), got %s", got);
        *status = http->problem(r, 422, "Unprocessable Content", d);
        return NULL;
    }
    *raw = (long)x;
    return t;
}

/* The tag's value of a raw register value (its scale, its sign). */
static json_t *value_of_raw(const gw_tag *t, long raw)
{
    double v = (double)raw;
    if (t->type == GW_T_I16 && raw > 32767)
        v -= 65536;
    else if (t->type == GW_T_F16)
        v = gw_half_to_double((uint16_t)raw);
    if (t->scaled)
        return json_real(tidy(t, t->multiplier * v + t->offset));
    return gw_type_is_float(t->type) ? json_real(v) : json_integer((json_int_t)v);
}

static const char *write_failure(int status)
{
    switch (status) {
    case 422: return "the tag map refused the value";
    case 502: return "the PLC refused the write";
    case 503: return "the PLC is disconnected or busy: nothing was written";
    case 504: return "no confirmation from the PLC in time";
    default: return "the write failed";
    }
}

int wm__data_write_register(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m = wm_machine(http, r, &status);
    if (!m)
        return status;
    json_t *body = http->body(r, &status);
    if (!body)
        return status;
    long raw = 0;
    const gw_tag *t = check_write(http, r, m, body, &raw, &status);
    json_decref(body);
    if (!t)
        return status;
    json_t *pairs = json_object();
    json_object_set_new(pairs, t->parameter, value_of_raw(t, raw));
    status = http->write(r, m, pairs, NULL, 0, false);
    json_decref(pairs);
    wm_dts *w = status != 200 ? http->state(r, m) : NULL;
    if (w) {
        char what[160], why[100];
        snprintf(what, sizeof(what), "write R%ld (%s) = %ld", tag_register(t), t->parameter, raw);
        snprintf(why, sizeof(why), "%s (HTTP %d)", write_failure(status), status);
        wm_dts_error(w, what, why);
    }
    return status;
}

/* ------------------------------------------------------------- groups */

/* A group's endpoint: {machine, <name>: entries, count, ...stamp}. */
static int serve_group(const gw_app_http *http, gw_app_req *r, int g, const char *category,
                       bool only_on)
{
    int status;
    const gw_machine_cfg *m;
    const gw_snapshot *s;
    if (!begin(http, r, &m, &s, &status))
        return status;
    size_t n = 0;
    json_t *entries = group_json(m, s, g, category, only_on, &n);
    json_t *o = json_pack("{s:o, s:I}", group_names[g], entries, "count", (json_int_t)n);
    if (o && category)
        json_object_set_new(o, "category", json_string(category));
    return answer(http, r, m, s, o);
}

/* The group endpoints by their path's end: group, category, only the
 * outputs that are on. */
static const struct {
    const char *suffix;
    int group;
    const char *category;
    bool only_on;
} group_routes[] = {
    {"/sensors", G_SENSORS, NULL, false},       {"/timers", G_TIMERS, NULL, false},
    {"/timers/dts", G_TIMERS, "dts_timer", false}, {"/timers/fwf", G_TIMERS, "fwf_timer", false},
    {"/outputs", G_OUTPUTS, NULL, false},       {"/outputs/active", G_OUTPUTS, NULL, true},
    {"/runtime", G_RUNTIME, NULL, false},       {"/water_counters", G_COUNTERS, NULL, false},
};

int wm__data_group(const gw_app_http *http, gw_app_req *r)
{
    const char *path = http->path(r);
    size_t plen = strlen(path);
    for (size_t k = 0; k < NELEMS(group_routes); k++) {
        size_t sl = strlen(group_routes[k].suffix);
        if (plen >= sl && strcmp(path + plen - sl, group_routes[k].suffix) == 0)
            return serve_group(http, r, group_routes[k].group, group_routes[k].category,
                               group_routes[k].only_on);
    }
    return http->problem(r, 404, "Not Found", "no such group of values");
}

int wm__data_sensors_category(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m = wm_machine(http, r, &status);
    if (!m)
        return status;
    const char *c = http->arg(r);
    if (!is_sensor_category(c)) {
        char d[200];
        snprintf(d, sizeof(d), "no sensor category \"%.40s\": the categories are "
                 CATEGORY_LIST, c ? c : "");
        return http->problem(r, 404, "Not Found", d);
    }
    return serve_group(http, r, G_SENSORS, c, false);
}

/* An RTC field: the value of the first of names the map has. */
static bool rtc_field(const gw_machine_cfg *m, const gw_snapshot *s, const char *const *names,
                      long *v)
{
    for (; *names; names++) {
        double x;
        if (wm_value(m, s, *names, &x)) {
            *v = lround(x);
            return true;
        }
    }
    return false;
}

/* The RTC as "2026-12-07" and, with an hour register in the map (the
 * specification's RTC has none), "2026-12-07T14:05:09"; null unless every
 * field is in range. */
static void rtc_dates(const gw_machine_cfg *m, const gw_snapshot *s, json_t *o)
{
    static const char *const year[] = {"RTC Year", NULL}, *const month[] = {"RTC Month", NULL},
                             *const day[] = {"RTC Day", NULL},
                             *const hour[] = {"RTC Hours", "RTC Hour", NULL},
                             *const minute[] = {"RTC Minutes", NULL},
                             *const second[] = {"RTC Seconds", NULL};
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    long y, mo, d, h, mi, se;
    bool date_ok = rtc_field(m, s, year, &y) && rtc_field(m, s, month, &mo) &&
                   rtc_field(m, s, day, &d) && y >= 1970 && y <= 9999 && mo >= 1 && mo <= 12 &&
                   d >= 1 && d <= mdays[mo - 1] &&
                   !(mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    bool time_ok = date_ok && rtc_field(m, s, hour, &h) && rtc_field(m, s, minute, &mi) &&
                   rtc_field(m, s, second, &se) && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 &&
                   se >= 0 && se <= 59;
    char buf[40];
    if (date_ok)
        snprintf(buf, sizeof(buf), "%04ld-%02ld-%02ld", y, mo, d);
    json_object_set_new(o, "date", date_ok ? json_string(buf) : json_null());
    if (time_ok)
        snprintf(buf, sizeof(buf), "%04ld-%02ld-%02ldT%02ld:%02ld:%02ld", y, mo, d, h, mi, se);
    json_object_set_new(o, "datetime", time_ok ? json_string(buf) : json_null());
    json_object_set_new(o, "valid", json_boolean(date_ok));
}

int wm__data_rtc(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m;
    const gw_snapshot *s;
    if (!begin(http, r, &m, &s, &status))
        return status;
    json_t *o = json_pack("{s:o}", "rtc", group_json(m, s, G_RTC, NULL, false, NULL));
    if (o)
        rtc_dates(m, s, o);
    return answer(http, r, m, s, o);
}

/* ---------------------------------------------------------------- live */

json_t *wm_live(const gw_machine_cfg *m, const gw_snapshot *s)
{
    json_t *o = json_object(), *sensors = json_object(), *timers = json_object(),
           *outputs = json_object();
    if (!o || !sensors || !timers || !outputs) {
        json_decref(sensors);
        json_decref(timers);
        json_decref(outputs);
        return o; /* out of memory: what there is */
    }
    for (size_t i = 0; i < gw_tagmap_count(m->tags); i++) {
        const gw_tag *t = gw_tagmap_at(m->tags, i);
        const char *c = tag_category(t);
        unsigned g = tag_groups(t);
        char key[KEY_MAX];
        tag_key(t->parameter, key, sizeof(key));
        double v = 0;
        bool have = value_at(s, i, &v);
        if ((g & GBIT(G_SENSORS)) && !(c && strcmp(c, "system") == 0)) {
            json_object_set_new(sensors, key, have ? number_json(t, v) : json_null());
        } else if (g & GBIT(G_TIMERS)) {
            int start = timer_start(t);
            double p = have && start >= 0 ? wm_timer_progress(start / 10.0, v) : 0;
            json_object_set_new(timers, key, json_pack(
                "{s:o, s:b, s:o}", "seconds", have ? number_json(t, v) : json_null(), "active",
                have && raw_of(t, v) != TIMER_IDLE_RAW, "progress",
                have && start >= 0 ? json_real(round(p * 10) / 10) : json_null()));
        } else if (g & GBIT(G_OUTPUTS)) {
            json_object_set_new(outputs, key, have ? json_boolean(v != 0) : json_null());
        }
    }
    json_object_set_new(o, "mode", mode_json(m, s));
    json_object_set_new(o, "system_status", system_status_json(m, s));
    json_object_set_new(o, "sensors", sensors);
    json_object_set_new(o, "timers", timers);
    json_object_set_new(o, "outputs", outputs);
    return o;
}
