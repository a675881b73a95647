/*
 * seed_routes.c - the endpoints of the specifications, on the engine.
 *
 * Seed 000 (the ring-stiffness rig): status, status/connection,
 * parameters (GET and POST), command/start|stop|home,
 * servo/enable|disable|reset, jog/speed, clamp/upper/lock,
 * clamp/lower/lock, clamp/unlock - under /api/machines/{id}/ and, for the
 * default machine, at the seed's own paths (/api/status, ...). Commands
 * are a table: which tags to write, and for a pulse what to write back
 * and when (the stop bit for 100 ms, the alarm reset for 500 ms), done by
 * a timer on the machine's thread. Stop goes ahead of everything queued.
 *
 * Seed 004 (the universal Modbus client): GET /modbus/read/{device} and
 * PUT /modbus/write/{device}, device = a Modbus machine's id.
 *
 * Reads answer from the newest snapshot; writes answer after the PLC
 * confirmed them.
 */
#include "api_internal.h"

#include <string.h>

static const gw_machine_cfg *rig_machine(api_req *req, int *status)
{
    const gw_machine_cfg *m = api__engine_machine(req, status);
    if (m && strcmp(m->profile, "ringstiff") != 0) {
        *status = api__problem(req, 404, "Not Found", "machine %s is a %s, not a ring-stiffness "
                               "rig: %s is one of the rig's endpoints", m->id, m->profile,
                               req->path);
        return NULL;
    }
    return m;
}

/* The machine's newest snapshot; NULL (503 answered) before the first. */
static const gw_snapshot *snapshot(api_req *req, const gw_machine_cfg *m, int *status)
{
    const gw_snapshot *s = gw_engine_snapshot(req->api->engine, m->id);
    if (!s)
        *status = api__problem(req, 503, "Service Unavailable", "no values for %s yet", m->id);
    return s;
}

/* ---------------------------------------------------------------- reads */

/* A snapshot's values as {"name": value} for the named tags. */
static json_t *fields(const gw_machine_cfg *m, const gw_snapshot *s,
                      const char *const (*map)[2], size_t n)
{
    json_t *o = json_object();
    for (size_t k = 0; o && k < n; k++) {
        const gw_tag *t = gw_tagmap_find(m->tags, map[k][1]);
        json_t *v = json_null();
        if (t) {
            size_t i = (size_t)(t - gw_tagmap_at(m->tags, 0));
            if (s->quality[i] == GW_Q_GOOD || s->quality[i] == GW_Q_STALE) {
                json_decref(v);
                v = gw_tag_value_json(t, &s->values[i]);
            }
        }
        json_object_set_new(o, map[k][0], v ? v : json_null());
    }
    return o;
}

/* The snapshot's time, age and connection, added to a body. */
static void stamp(json_t *o, const gw_snapshot *s)
{
    char ts[32] = "";
    if (s->ts_ms)
        gw_time_iso8601(s->ts_ms, ts, sizeof(ts));
    json_object_set_new(o, "connected", json_boolean(s->connected));
    json_object_set_new(o, "ts", s->ts_ms ? json_string(ts) : json_null());
    json_object_set_new(o, "age_ms", json_integer(s->ts_ms ? gw_wall_ms() - s->ts_ms : -1));
}

/* seed 000, 3.2 get_live_data */
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

/* seed 000, 3.2 get_parameters (and DB1's other two) */
static const char *const param_fields[][2] = {
    {"pipe_diameter", "Pipe_Diameter"},       {"pipe_length", "Pipe_Length"},
    {"deflection_percent", "Deflection_Percent"}, {"test_speed", "Test_Speed"},
    {"max_stroke", "Max_Stroke"},             {"max_force", "Max_Force"},
};

json_t *api__live_json(const gw_machine_cfg *m, const gw_snapshot *s)
{
    json_t *o;
    if (strcmp(m->profile, "ringstiff") == 0) {
        o = fields(m, s, live_fields, sizeof(live_fields) / sizeof(live_fields[0]));
    } else {
        json_t *tags = json_object();
        for (size_t i = 0; tags && i < s->n; i++) {
            const gw_tag *t = gw_tagmap_at(m->tags, i);
            json_t *v = s->quality[i] == GW_Q_GOOD || s->quality[i] == GW_Q_STALE
                            ? gw_tag_value_json(t, &s->values[i]) : NULL;
            json_object_set_new(tags, t->parameter, v ? v : json_null());
        }
        o = json_pack("{s:o}", "tags", tags ? tags : json_object());
    }
    if (!o)
        return NULL;
    stamp(o, s);
    json_object_set_new(o, "machine", json_string(m->id));
    return o;
}

static int get_view(api_req *req, const char *const (*map)[2], size_t n)
{
    int status;
    const gw_machine_cfg *m = rig_machine(req, &status);
    if (!m)
        return status;
    const gw_snapshot *s = snapshot(req, m, &status);
    if (!s)
        return status;
    json_t *o = fields(m, s, map, n);
    stamp(o, s);
    json_object_set_new(o, "machine", json_string(m->id));
    gw_snapshot_release(s);
    return api__send_json(req, 200, o);
}

static int get_status(api_req *req)
{
    return get_view(req, live_fields, sizeof(live_fields) / sizeof(live_fields[0]));
}

static int get_parameters(api_req *req)
{
    return get_view(req, param_fields, sizeof(param_fields) / sizeof(param_fields[0]));
}

static int get_connection(api_req *req)
{
    int status;
    const gw_machine_cfg *m = api__engine_machine(req, &status);
    if (!m)
        return status;
    const gw_snapshot *s = snapshot(req, m, &status);
    if (!s)
        return status;
    json_t *o = json_pack("{s:s, s:b, s:s, s:i, s:I}", "machine", m->id, "connected",
                          s->connected, "host", m->host, "port", m->port, "connects",
                          (json_int_t)s->connects);
    if (!s->connected && s->error[0])
        json_object_set_new(o, "error", json_string(s->error));
    gw_snapshot_release(s);
    return api__send_json(req, 200, o);
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

/* seed 000, 3.3 command_service */
static const rig_command rig_commands[] = {
    {"command/start", "{\"Start_Test\": true}", NULL, 0, false},
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

static int post_command(api_req *req)
{
    int status;
    const gw_machine_cfg *m = rig_machine(req, &status);
    if (!m)
        return status;
    const rig_command *c = NULL;
    size_t plen = strlen(req->path);
    for (size_t i = 0; i < sizeof(rig_commands) / sizeof(rig_commands[0]); i++) {
        size_t sl = strlen(rig_commands[i].suffix);
        if (plen > sl && strcmp(req->path + plen - sl, rig_commands[i].suffix) == 0 &&
            req->path[plen - sl - 1] == '/')
            c = &rig_commands[i];
    }
    if (!c)
        return api__problem(req, 404, "Not Found", "no such command");
    json_t *set = json_loads(c->set, 0, NULL);
    json_t *rel = c->release ? json_loads(c->release, 0, NULL) : NULL;
    status = api__write_tags(req, m, set, rel, c->hold_ms, c->urgent);
    json_decref(set);
    json_decref(rel);
    return status;
}

/* A body of the seed's names ({name: number}) written as the rig's tags:
 * names maps each accepted name to its tag; an unknown name or one that is
 * not a number is 422, and so is a body without `required` (when given). */
static int post_named(api_req *req, const char *const (*names)[2], size_t n,
                      const char *required, const char *listed)
{
    int status;
    const gw_machine_cfg *m = rig_machine(req, &status);
    if (!m)
        return status;
    json_t *body = api__read_json(req, &status);
    if (!body)
        return status;
    json_t *pairs = json_object();
    status = 0;
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        size_t k = 0;
        while (k < n && strcmp(names[k][0], key) != 0)
            k++;
        if (k == n) {
            status = api__problem(req, 422, "Unprocessable Content", "unknown parameter \"%s\" "
                                  "(%s)", key, listed);
            break;
        }
        if (!json_is_number(v)) {
            status = api__problem(req, 422, "Unprocessable Content", "\"%s\" must be a number",
                                  key);
            break;
        }
        if (json_object_get(pairs, names[k][1])) {
            /* two names of one tag: which value was meant? */
            status = api__problem(req, 422, "Unprocessable Content", "\"%s\" names %s, which "
                                  "another member of the body names too: send one of them",
                                  key, names[k][1]);
            break;
        }
        json_object_set(pairs, names[k][1], v);
    }
    if (!status && required && !json_object_get(body, required))
        status = api__problem(req, 422, "Unprocessable Content", "the body needs \"%s\"",
                              required);
    if (!status)
        status = api__write_tags(req, m, pairs, NULL, 0, false);
    json_decref(pairs);
    json_decref(body);
    return status;
}

/* seed 000: POST /api/jog/speed {velocity} */
static int post_jog_speed(api_req *req)
{
    static const char *const names[][2] = {{"velocity", "Jog_Velocity"}};
    return post_named(req, names, 1, "velocity", "velocity");
}

/* seed 000: POST /api/parameters; the GET's names, or set_parameters()'s
 * (diameter, length, deflection_pct) */
static int post_parameters(api_req *req)
{
    static const char *const names[][2] = {
        {"pipe_diameter", "Pipe_Diameter"},   {"diameter", "Pipe_Diameter"},
        {"pipe_length", "Pipe_Length"},       {"length", "Pipe_Length"},
        {"deflection_percent", "Deflection_Percent"}, {"deflection_pct", "Deflection_Percent"},
        {"test_speed", "Test_Speed"},         {"max_stroke", "Max_Stroke"},
        {"max_force", "Max_Force"},
    };
    return post_named(req, names, sizeof(names) / sizeof(names[0]), NULL,
                      "pipe_diameter, pipe_length, deflection_percent, test_speed, max_stroke, "
                      "max_force");
}

/* ---------------------------------------------------------------- seed 004 */

static const gw_machine_cfg *modbus_device(api_req *req, int *status)
{
    const gw_machine_cfg *m = api__engine_machine(req, status);
    if (m && m->driver != GW_DRIVER_MODBUS) {
        *status = api__problem(req, 404, "Not Found", "%s is not a Modbus device", m->id);
        return NULL;
    }
    return m;
}

static int modbus_read(api_req *req)
{
    int status;
    const gw_machine_cfg *m = modbus_device(req, &status);
    if (!m)
        return status;
    const gw_snapshot *s = snapshot(req, m, &status);
    if (!s)
        return status;
    if (!s->connected && !s->ts_ms) {
        status = api__problem(req, 503, "Service Unavailable", "%s: no values: %s", m->id,
                              s->error);
        gw_snapshot_release(s);
        return status;
    }
    json_t *records = json_array();
    for (size_t i = 0; i < s->n; i++)
        if (s->quality[i] == GW_Q_GOOD || s->quality[i] == GW_Q_STALE)
            gw_tag_records(gw_tagmap_at(m->tags, i), &s->values[i], records);
    gw_snapshot_release(s);
    return api__send_json(req, 200, records);
}

static int modbus_write(api_req *req)
{
    int status;
    const gw_machine_cfg *m = modbus_device(req, &status);
    if (!m)
        return status;
    json_t *body = api__read_json(req, &status);
    if (!body)
        return status;
    status = api__write_tags(req, m, body, NULL, 0, false);
    json_decref(body);
    return status;
}

/* ---------------------------------------------------------------- table */

#define RIG(method, path, role, summary, answer, fn, body, errors)                        \
    {method, "/api/machines/{id}/" path, role, summary, answer, fn, body, errors},         \
    {method, "/api/" path, role, summary " (the default machine)", answer, fn, body, errors}

#define NUM "{\"type\":\"number\"}"
/* POST parameters: the GET's names or set_parameters()'s; only what may be
 * written (Test_Speed is the PLC's) */
#define PARAMETERS_SCHEMA                                                                    \
    "{\"type\":\"object\",\"minProperties\":1,\"additionalProperties\":false,"             \
    "\"properties\":{\"pipe_diameter\":" NUM ",\"diameter\":" NUM ",\"pipe_length\":" NUM  \
    ",\"length\":" NUM ",\"deflection_percent\":" NUM ",\"deflection_pct\":" NUM          \
    ",\"max_stroke\":" NUM ",\"max_force\":" NUM "},\"example\":{\"pipe_diameter\":315,"    \
    "\"pipe_length\":300,\"deflection_percent\":3}}"
#define JOG_SPEED_SCHEMA                                                                     \
    "{\"type\":\"object\",\"required\":[\"velocity\"],\"additionalProperties\":false,"     \
    "\"properties\":{\"velocity\":" NUM "},\"example\":{\"velocity\":5}}"

#define RIG_READ (API_E_MACHINE)
#define RIG_WRITE (API_E_MACHINE | API_E_WRITE)

const api_route api__seed_routes[] = {
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
    RIG("POST", "command/start", GW_ROLE_OPERATOR, "Start the automatic test", "Written",
        post_command, NULL, RIG_WRITE),
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
    RIG("POST", "jog/speed", GW_ROLE_OPERATOR, "Set the jog velocity {velocity}", "Written",
        post_jog_speed, JOG_SPEED_SCHEMA, RIG_WRITE),
    RIG("POST", "clamp/upper/lock", GW_ROLE_OPERATOR, "Lock the upper clamp", "Written",
        post_command, NULL, RIG_WRITE),
    RIG("POST", "clamp/lower/lock", GW_ROLE_OPERATOR, "Lock the lower clamp", "Written",
        post_command, NULL, RIG_WRITE),
    RIG("POST", "clamp/unlock", GW_ROLE_OPERATOR, "Unlock both clamps", "Written", post_command,
        NULL, RIG_WRITE),
    {"GET", "/modbus/read/{id}", GW_ROLE_VIEWER,
     "The universal Modbus API: a Modbus device's values as records", "Records", modbus_read,
     NULL, API_E_MACHINE},
    {"PUT", "/modbus/write/{id}", GW_ROLE_OPERATOR,
     "The universal Modbus API: write {\"param\": value} to a Modbus device", "Written",
     modbus_write, API_SCHEMA_TAG_WRITES, API_E_MACHINE | API_E_WRITE},
};

const size_t api__nseed_routes = sizeof(api__seed_routes) / sizeof(api__seed_routes[0]);
