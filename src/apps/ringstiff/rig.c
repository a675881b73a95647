/*
 * rig.c - the ring-stiffness rig as an app (apps/app.h): its endpoints,
 * its live view, its events.
 *
 * Endpoints (under /api/machines/{id}/ and, for the default machine, at
 * the specification's own paths /api/status, ...): status,
 * status/connection, parameters (GET, POST), command/start|stop|home,
 * servo/enable|disable|reset, jog/speed, clamp/upper/lock,
 * clamp/lower/lock, clamp/unlock. Commands are a table: which tags to
 * write, and for a pulse what to write back and when (the stop bit for
 * 100 ms, the alarm reset for 500 ms), done by a timer on the machine's
 * thread. Stop goes ahead of everything queued. Reads answer from the
 * newest snapshot; writes answer after the PLC confirmed them.
 *
 * command/start checks the interlocks first (409 naming what is
 * missing) and hands its optional body (sample id, operator, notes,
 * nominal SN, series) to the test workflow (flow.c), which records the
 * test the PLC then runs and makes the events.
 */
#include "rig_app.h"

#include <stdio.h>
#include <string.h>

/* The machine of the route, a rig; NULL after answering 404 or 503. */
static const gw_machine_cfg *rig_machine(const gw_app_http *http, gw_app_req *r, int *status)
{
    const gw_machine_cfg *m = http->machine(r, status);
    if (m && strcmp(m->profile, "ringstiff") != 0) {
        char d[300];
        snprintf(d, sizeof(d), "machine %s is a %s, not a ring-stiffness rig: %s is one of the "
                 "rig's endpoints", m->id, m->profile, http->path(r));
        *status = http->problem(r, 404, "Not Found", d);
        return NULL;
    }
    return m;
}

/* ---------------------------------------------------------------- reads */

/* A snapshot's values as {"name": value} for the named tags. */
static json_t *fields(const gw_machine_cfg *m, const gw_snapshot *s,
                      const char *const (*map)[2], size_t n)
{
    json_t *o = json_object();
    for (size_t k = 0; o && k < n; k++) {
        const gw_tag *t = gw_tagmap_find(m->tags, map[k][1]);
        json_t *v = NULL;
        if (t) {
            size_t i = (size_t)(t - gw_tagmap_at(m->tags, 0));
            if (s->quality[i] == GW_Q_GOOD || s->quality[i] == GW_Q_STALE)
                v = gw_tag_value_json(t, &s->values[i]);
        }
        json_object_set_new(o, map[k][0], v ? v : json_null());
    }
    return o;
}

/* The specification's live data (get_live_data) */
static const char *const live_fields[][2] = {
    {"actual_force", "Actual_Force"},         {"actual_deflection", "Actual_Deflection"},
    {"target_deflection", "Target_Deflection"}, {"ring_stiffness", "Ring_Stiffness"},
    {"force_at_target", "Force_At_Target"},   {"sn_class", "SN_Class"},
    {"test_status", "Test_Status"},           {"test_passed", "Test_Passed"},
    {"servo_ready", "Servo_Ready"},           {"servo_error", "Servo_Error"},
    {"at_home", "At_Home"},                   {"lock_upper", "Lock_Upper"},
    {"lock_lower", "Lock_Lower"},             {"actual_position", "Actual_Position"},
    {"enable", "Enable"},                     {"jog_velocity", "Jog_Velocity"},
};

/* The specification's parameters (get_parameters, and DB1's other two) */
static const char *const param_fields[][2] = {
    {"pipe_diameter", "Pipe_Diameter"},       {"pipe_length", "Pipe_Length"},
    {"deflection_percent", "Deflection_Percent"}, {"test_speed", "Test_Speed"},
    {"max_stroke", "Max_Stroke"},             {"max_force", "Max_Force"},
};

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static json_t *rig_live(const gw_machine_cfg *m, const gw_snapshot *s)
{
    return fields(m, s, live_fields, NFIELDS(live_fields));
}

static int get_view(const gw_app_http *http, gw_app_req *r, const char *const (*map)[2],
                    size_t n)
{
    int status;
    const gw_machine_cfg *m = rig_machine(http, r, &status);
    if (!m)
        return status;
    const gw_snapshot *s = gw_app_snapshot(http, r, m, &status);
    if (!s)
        return status;
    json_t *o = fields(m, s, map, n);
    gw_app_stamp(o, s);
    json_object_set_new(o, "machine", json_string(m->id));
    gw_snapshot_release(s);
    return http->json(r, 200, o);
}

static int get_status(const gw_app_http *http, gw_app_req *r)
{
    return get_view(http, r, live_fields, NFIELDS(live_fields));
}

static int get_parameters(const gw_app_http *http, gw_app_req *r)
{
    return get_view(http, r, param_fields, NFIELDS(param_fields));
}

static int get_connection(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m = rig_machine(http, r, &status);
    if (!m)
        return status;
    const gw_snapshot *s = gw_app_snapshot(http, r, m, &status);
    if (!s)
        return status;
    json_t *o = json_pack("{s:s, s:b, s:s, s:i, s:I}", "machine", m->id, "connected",
                          s->connected, "host", m->host, "port", m->port, "connects",
                          (json_int_t)s->connects);
    if (o && !s->connected && s->error[0])
        json_object_set_new(o, "error", json_string(s->error));
    gw_snapshot_release(s);
    return http->json(r, 200, o);
}

/* ---------------------------------------------------------------- writes */

/* A rig command: the tags it sets, and for a pulse what it writes back. */
typedef struct {
    const char *suffix;        /* "command/stop" */
    const char *set;           /* JSON object of tag -> value */
    const char *release;       /* NULL, or what to write back */
    uint32_t hold_ms;
    bool urgent;
} rig_command;

/* The specification's command_service */
static const rig_command rig_commands[] = {
    /* emergency stop: ahead of everything queued, released after 100 ms */
    {"command/stop", "{\"Stop\": true}", "{\"Stop\": false}", 100, true},
    {"command/home", "{\"Home\": true}", NULL, 0, false},
    {"servo/enable", "{\"Enable\": true}", NULL, 0, false},
    {"servo/disable", "{\"Enable\": false}", NULL, 0, false},
    {"servo/reset", "{\"Alarm_Reset_Cmd\": true}", "{\"Alarm_Reset_Cmd\": false}", 500, false},
    {"clamp/upper/lock", "{\"Lock_Upper\": true}", NULL, 0, false},
    {"clamp/lower/lock", "{\"Lock_Lower\": true}", NULL, 0, false},
    {"clamp/unlock", "{\"Lock_Upper\": false, \"Lock_Lower\": false}", NULL, 0, false},
};

static int post_command(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m = rig_machine(http, r, &status);
    if (!m)
        return status;
    const char *path = http->path(r);
    const rig_command *c = NULL;
    size_t plen = strlen(path);
    for (size_t i = 0; i < NFIELDS(rig_commands); i++) {
        size_t sl = strlen(rig_commands[i].suffix);
        if (plen > sl && strcmp(path + plen - sl, rig_commands[i].suffix) == 0 &&
            path[plen - sl - 1] == '/')
            c = &rig_commands[i];
    }
    if (!c)
        return http->problem(r, 404, "Not Found", "no such command");
    rs_flow *flow = http->state(r, m);
    if (flow && strcmp(c->suffix, "command/stop") == 0)
        rs_flow_note_stop(flow);
    json_t *set = json_loads(c->set, 0, NULL);
    json_t *rel = c->release ? json_loads(c->release, 0, NULL) : NULL;
    status = http->write(r, m, set, rel, c->hold_ms, c->urgent);
    json_decref(set);
    json_decref(rel);
    return status;
}

/* ---------------------------------------------------------------- start */

/* A tag's value in s when it is good; false when it is not. */
static bool good_value(const gw_machine_cfg *m, const gw_snapshot *s, const char *name,
                       double *v)
{
    const gw_tag *t = gw_tagmap_find(m->tags, name);
    if (!t)
        return false;
    size_t i = (size_t)(t - gw_tagmap_at(m->tags, 0));
    if (s->quality[i] != GW_Q_GOOD)
        return false;
    *v = gw_value_as_double(&s->values[i]);
    return true;
}

/* The interlocks of command/start: "" when the rig may start, else what
 * is missing, every item. */
static void interlocks(const gw_machine_cfg *m, const gw_snapshot *s, const rs_settings *st,
                       int64_t current, char *why, size_t size)
{
    why[0] = '\0';
    size_t used = 0;
#define MISSING(...)                                                                        \
    do {                                                                                    \
        if (used < size)                                                                    \
            used += (size_t)snprintf(why + used, size - used, "%s", used ? "; " : "");     \
        if (used < size)                                                                    \
            used += (size_t)snprintf(why + used, size - used, __VA_ARGS__);                \
    } while (0)
    if (!s->connected) {
        MISSING("the PLC is disconnected (%s)", s->error[0] ? s->error : "not connected");
        return;
    }
    double v;
    if (st->lock_servo_ready && !(good_value(m, s, "Servo_Ready", &v) && v != 0))
        MISSING("the servo is not ready (Servo_Ready)");
    if (st->lock_enabled && !(good_value(m, s, "Enable", &v) && v != 0))
        MISSING("the servo is not enabled (Enable): POST servo/enable");
    if (st->lock_clamps && !(good_value(m, s, "Lock_Upper", &v) && v != 0))
        MISSING("the upper clamp is open (Lock_Upper)");
    if (st->lock_clamps && !(good_value(m, s, "Lock_Lower", &v) && v != 0))
        MISSING("the lower clamp is open (Lock_Lower)");
    if (good_value(m, s, "Stop", &v) && v != 0)
        MISSING("Stop is still set (it is released 100 ms after the stop)");
    static const char *const params[] = {"Pipe_Diameter", "Pipe_Length", "Deflection_Percent"};
    for (size_t k = 0; st->lock_parameters && k < 3; k++)
        if (!(good_value(m, s, params[k], &v) && v > 0))
            MISSING("%s is not set (POST parameters)", params[k]);
    if (st->lock_not_running) {
        if (current)
            MISSING("test %lld is running", (long long)current);
        else if (good_value(m, s, "Test_Status", &v) && (int)v == st->st_running)
            MISSING("a test is running (Test_Status %d)", st->st_running);
    }
#undef MISSING
}

/* command/start's optional body into in; 0, or the 422 answered. */
static int start_body(const gw_app_http *http, gw_app_req *r, rs_intent *in)
{
    int status = 0;
    json_t *body = http->body(r, &status);
    if (!body)
        return status;
    static const struct {
        const char *name;
        size_t max;
    } texts[] = {
        {"sample_id", GW_TEST_SAMPLE_MAX},
        {"operator", GW_TEST_OPERATOR_MAX},
        {"notes", GW_TEST_NOTES_MAX},
    };
    char *dest[3] = {in->sample_id, in->operator_name, in->notes};
    char d[300];
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        size_t k = 0;
        while (k < 3 && strcmp(texts[k].name, key) != 0)
            k++;
        if (k < 3) {
            if (!json_is_string(v)) {
                snprintf(d, sizeof(d), "\"%s\" must be a string", key);
            } else if (json_string_length(v) > texts[k].max) {
                snprintf(d, sizeof(d), "\"%s\" is longer than %zu bytes", key, texts[k].max);
            } else {
                memcpy(dest[k], json_string_value(v), json_string_length(v) + 1);
                continue;
            }
        } else if (strcmp(key, "nominal_sn") == 0) {
            json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
            if (n > 0 && n <= 10000000) {
                in->nominal_sn = (unsigned)n;
                continue;
            }
            snprintf(d, sizeof(d), "\"nominal_sn\" must be a class in N/m2 (an integer such "
                     "as 5000 for SN 5000)");
        } else if (strcmp(key, "series_id") == 0) {
            json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
            if (n > 0) {
                in->series_id = n;
                continue;
            }
            snprintf(d, sizeof(d), "\"series_id\" must be a positive integer (POST /api/series "
                     "makes one)");
        } else {
            snprintf(d, sizeof(d), "unknown member \"%s\" (sample_id, operator, notes, "
                     "nominal_sn, series_id)", key);
        }
        status = http->problem(r, 422, "Unprocessable Content", d);
        break;
    }
    json_decref(body);
    return status;
}

static int post_start(const gw_app_http *http, gw_app_req *r)
{
    int status;
    const gw_machine_cfg *m = rig_machine(http, r, &status);
    if (!m)
        return status;
    rs_flow *flow = http->state(r, m);
    rs_intent in;
    memset(&in, 0, sizeof(in));
    if (http->has_body(r) && (status = start_body(http, r, &in)) != 0)
        return status;
    const gw_principal *who = http->who(r);
    if (!in.operator_name[0] && who->user_id)
        snprintf(in.operator_name, sizeof(in.operator_name), "%s", who->name);
    const gw_snapshot *s = gw_app_snapshot(http, r, m, &status);
    if (!s)
        return status;
    char why[600];
    rs_settings defaults;
    const rs_settings *st = flow ? rs_flow_settings(flow) : NULL;
    if (!st) {
        gw_diag d;
        gw_diag_init(&d, "");
        rs_settings_load(m, &defaults, &d);
        st = &defaults;
    }
    interlocks(m, s, st, flow ? rs_flow_current(flow) : 0, why, sizeof(why));
    gw_snapshot_release(s);
    if (why[0]) {
        char d[700];
        snprintf(d, sizeof(d), "the test cannot start: %s", why);
        http->audit(r, m->id, "{\"Start_Test\":true}", d);
        return http->problem(r, 409, "Conflict", d);
    }
    if (flow)
        rs_flow_set_intent(flow, &in);
    json_t *set = json_pack("{s:b}", "Start_Test", 1);
    status = http->write(r, m, set, NULL, 0, false);
    json_decref(set);
    if (flow && status != 200)
        rs_flow_clear_intent(flow);
    return status;
}

/* A body of the specification's names ({name: number}) written as the
 * rig's tags: names maps each accepted name to its tag; an unknown name,
 * one that is not a number, or two names of one tag are 422, and so is a
 * body without `required` (when given). */
static int post_named(const gw_app_http *http, gw_app_req *r, const char *const (*names)[2],
                      size_t n, const char *required, const char *listed)
{
    int status;
    const gw_machine_cfg *m = rig_machine(http, r, &status);
    if (!m)
        return status;
    json_t *body = http->body(r, &status);
    if (!body)
        return status;
    json_t *pairs = json_object();
    status = 0;
    char d[400];
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        size_t k = 0;
        while (k < n && strcmp(names[k][0], key) != 0)
            k++;
        if (k == n)
            snprintf(d, sizeof(d), "unknown parameter \"%s\" (%s)", key, listed);
        else if (!json_is_number(v))
            snprintf(d, sizeof(d), "\"%s\" must be a number", key);
        else if (json_object_get(pairs, names[k][1]))
            /* two names of one tag: which value was meant? */
            snprintf(d, sizeof(d), "\"%s\" names %s, which another member of the body names "
                     "too: send one of them", key, names[k][1]);
        else {
            json_object_set(pairs, names[k][1], v);
            continue;
        }
        status = http->problem(r, 422, "Unprocessable Content", d);
        break;
    }
    if (!status && required && !json_object_get(body, required)) {
        snprintf(d, sizeof(d), "the body needs \"%s\"", required);
        status = http->problem(r, 422, "Unprocessable Content", d);
    }
    if (!status)
        status = http->write(r, m, pairs, NULL, 0, false);
    json_decref(pairs);
    json_decref(body);
    return status;
}

/* POST /api/jog/speed {velocity} */
static int post_jog_speed(const gw_app_http *http, gw_app_req *r)
{
    static const char *const names[][2] = {{"velocity", "Jog_Velocity"}};
    return post_named(http, r, names, 1, "velocity", "velocity");
}

/* POST /api/parameters; the GET's names, or set_parameters()'s
 * (diameter, length, deflection_pct) */
static int post_parameters(const gw_app_http *http, gw_app_req *r)
{
    static const char *const names[][2] = {
        {"pipe_diameter", "Pipe_Diameter"},   {"diameter", "Pipe_Diameter"},
        {"pipe_length", "Pipe_Length"},       {"length", "Pipe_Length"},
        {"deflection_percent", "Deflection_Percent"}, {"deflection_pct", "Deflection_Percent"},
        {"test_speed", "Test_Speed"},         {"max_stroke", "Max_Stroke"},
        {"max_force", "Max_Force"},
    };
    return post_named(http, r, names, NFIELDS(names), NULL,
                      "pipe_diameter, pipe_length, deflection_percent, max_stroke, max_force");
}

/* ---------------------------------------------------------------- schemas */

#define NUM "{\"type\":\"number\"}"
#define INT "{\"type\":\"integer\"}"
#define BOOL "{\"type\":\"boolean\"}"
#define STR "{\"type\":\"string\"}"
#define STAMP                                                                                \
    "\"connected\":" BOOL ",\"ts\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"}," \
    "\"age_ms\":" INT ",\"machine\":" STR

static const gw_app_component components[] = {
    {"RigStatus",
     "{\"type\":\"object\",\"description\":\"the rig's live values (null: no good value); "
     "force kN, lengths mm, stiffness kN/m2\",\"properties\":{\"actual_force\":" NUM
     ",\"actual_deflection\":" NUM ",\"target_deflection\":" NUM ",\"ring_stiffness\":" NUM
     ",\"force_at_target\":" NUM ",\"sn_class\":" INT ",\"test_status\":" INT ",\"test_passed\":"
     BOOL ",\"servo_ready\":" BOOL ",\"servo_error\":" BOOL ",\"at_home\":" BOOL ",\"lock_upper\":"
     BOOL ",\"lock_lower\":" BOOL ",\"actual_position\":" NUM ",\"enable\":" BOOL
     ",\"jog_velocity\":" NUM "," STAMP "},\"example\":{\"actual_force\":0.43,"
     "\"actual_deflection\":4.7,\"target_deflection\":9.45,\"ring_stiffness\":0.0,"
     "\"force_at_target\":0.0,\"sn_class\":0,\"test_status\":1,\"test_passed\":false,"
     "\"servo_ready\":true,\"servo_error\":false,\"at_home\":false,\"lock_upper\":true,"
     "\"lock_lower\":true,\"actual_position\":16.7,\"enable\":true,\"jog_velocity\":300.0,"
     "\"connected\":true,\"ts\":\"2026-12-07T21:18:58.108Z\",\"age_ms\":40,\"machine\":"
     "\"rig\"}}"},
    {"RigParameters",
     "{\"type\":\"object\",\"description\":\"the test parameters (DB1): mm, %, mm/min, kN\","
     "\"properties\":{\"pipe_diameter\":" NUM ",\"pipe_length\":" NUM ",\"deflection_percent\":"
     NUM ",\"test_speed\":" NUM ",\"max_stroke\":" NUM ",\"max_force\":" NUM "," STAMP
     "},\"example\":{\"pipe_diameter\":315.0,\"pipe_length\":300.0,\"deflection_percent\":3.0,"
     "\"test_speed\":10.0,\"max_stroke\":100.0,\"max_force\":50.0,\"connected\":true,\"ts\":"
     "\"2026-12-07T21:18:58.108Z\",\"age_ms\":47,\"machine\":\"rig\"}}"},
    {"Connection",
     "{\"type\":\"object\",\"properties\":{\"machine\":" STR ",\"connected\":" BOOL ",\"host\":"
     STR ",\"port\":" INT ",\"connects\":" INT ",\"error\":" STR "},\"example\":{\"machine\":"
     "\"rig\",\"connected\":true,\"host\":\"192.168.0.10\",\"port\":102,\"connects\":1}}"},
};

/* POST parameters: the GET's names or set_parameters()'s; only what may
 * be written (Test_Speed is the PLC's) */
#define PARAMETERS_SCHEMA                                                                    \
    "{\"type\":\"object\",\"minProperties\":1,\"additionalProperties\":false,"             \
    "\"properties\":{\"pipe_diameter\":" NUM ",\"diameter\":" NUM ",\"pipe_length\":" NUM  \
    ",\"length\":" NUM ",\"deflection_percent\":" NUM ",\"deflection_pct\":" NUM          \
    ",\"max_stroke\":" NUM ",\"max_force\":" NUM "},\"example\":{\"pipe_diameter\":315,"    \
    "\"pipe_length\":300,\"deflection_percent\":3}}"
#define START_SCHEMA                                                                         \
    "{\"type\":\"object\",\"additionalProperties\":false,\"description\":\"optional: what "    \
    "the test gets (operator: the signed-in user when absent)\",\"properties\":{"              \
    "\"sample_id\":{\"type\":\"string\",\"maxLength\":50},\"operator\":{\"type\":\"string\","  \
    "\"maxLength\":100},\"notes\":{\"type\":\"string\",\"maxLength\":1000},\"nominal_sn\":{"    \
    "\"type\":\"integer\",\"minimum\":1,\"description\":\"the class the specimen should reach, "  \
    "N/m2 (5000 = SN 5000)\"},\"series_id\":{\"type\":\"integer\",\"minimum\":1}},\"example\":" \
    "{\"sample_id\":\"P-2026-0042\",\"operator\":\"j.smith\",\"nominal_sn\":5000}}"
#define JOG_SPEED_SCHEMA                                                                     \
    "{\"type\":\"object\",\"required\":[\"velocity\"],\"additionalProperties\":false,"     \
    "\"properties\":{\"velocity\":" NUM "},\"example\":{\"velocity\":300}}"

/* ---------------------------------------------------------------- table */

#define RIG(method, path, role, summary, answer, fn, body, errors)                        \
    {method, "/api/machines/{id}/" path, role, summary, answer, fn, body, errors, NULL},   \
    {method, "/api/" path, role, summary " (the default machine)", answer, fn, body, errors, NULL}

#define RIG_READ (GW_APP_E_MACHINE)
#define RIG_WRITE (GW_APP_E_MACHINE | GW_APP_E_WRITE)

static const gw_app_route routes[] = {
    RIG("GET", "status", GW_ROLE_VIEWER, "Live values of the ring-stiffness rig", "RigStatus",
        get_status, NULL, RIG_READ),
    RIG("GET", "status/connection", GW_ROLE_VIEWER, "The PLC connection's state", "Connection",
        get_connection, NULL, RIG_READ),
    RIG("GET", "parameters", GW_ROLE_VIEWER, "The rig's test parameters (DB1)", "RigParameters",
        get_parameters, NULL, RIG_READ),
    RIG("POST", "parameters", GW_ROLE_OPERATOR,
        "Set test parameters {pipe_diameter|diameter, pipe_length|length, "
        "deflection_percent|deflection_pct, max_stroke, max_force}: checked against the tag "
        "map, answered after the PLC confirmed", "Written", post_parameters, PARAMETERS_SCHEMA,
        RIG_WRITE),
    RIG("POST", "command/start", GW_ROLE_OPERATOR,
        "Start the automatic test: the interlocks first (409 naming what is missing), then "
        "Start_Test, which the PLC clears when it takes it; the optional body goes to the test "
        "the PLC then runs", "Written", post_start, START_SCHEMA, RIG_WRITE | GW_APP_E_CONFLICT | GW_APP_BODY_OPTIONAL),
    RIG("POST", "command/stop", GW_ROLE_OPERATOR,
        "Stop: ahead of everything queued; Stop is released after 100 ms", "Written",
        post_command, NULL, RIG_WRITE),
    RIG("POST", "command/home", GW_ROLE_OPERATOR, "Move to the home position", "Written",
        post_command, NULL, RIG_WRITE),
    RIG("POST", "servo/enable", GW_ROLE_OPERATOR, "Enable the servo", "Written", post_command,
        NULL, RIG_WRITE),
    RIG("POST", "servo/disable", GW_ROLE_OPERATOR, "Disable the servo", "Written", post_command,
        NULL, RIG_WRITE),
    RIG("POST", "servo/reset", GW_ROLE_OPERATOR,
        "Reset the servo alarm (released after 500 ms)", "Written", post_command, NULL,
        RIG_WRITE),
    RIG("POST", "jog/speed", GW_ROLE_OPERATOR, "Set the jog velocity {velocity} (mm/min)",
        "Written", post_jog_speed, JOG_SPEED_SCHEMA, RIG_WRITE),
    RIG("POST", "clamp/upper/lock", GW_ROLE_OPERATOR, "Lock the upper clamp", "Written",
        post_command, NULL, RIG_WRITE),
    RIG("POST", "clamp/lower/lock", GW_ROLE_OPERATOR, "Lock the lower clamp", "Written",
        post_command, NULL, RIG_WRITE),
    RIG("POST", "clamp/unlock", GW_ROLE_OPERATOR, "Unlock both clamps", "Written", post_command,
        NULL, RIG_WRITE),
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))
#define NCOMPONENTS (sizeof(components) / sizeof(components[0]))

static const gw_app_route *rig_route(size_t i)
{
    if (i < NROUTES)
        return &routes[i];
    i -= NROUTES;
    return i < rs_history_nroutes ? &rs_history_routes[i] : NULL;
}

static const gw_app_component *rig_component(size_t i)
{
    if (i < NCOMPONENTS)
        return &components[i];
    i -= NCOMPONENTS;
    return i < rs_history_ncomponents ? &rs_history_components[i] : NULL;
}

static bool rig_check(const gw_machine_cfg *m, gw_diag *d)
{
    rs_settings st;
    return rs_settings_load(m, &st, d);
}

const gw_app gw_app_ringstiff = {
    "ringstiff",
    rig_route,
    rig_component,
    rig_live,
    NULL, /* the events are the workflow's (flow.c) */
    {"Jog_Forward", "Jog_Backward"},
    rig_check,
    rs_flow_start,
    rs_flow_stop,
};
