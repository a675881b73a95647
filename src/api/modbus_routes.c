/*
 * modbus_routes.c - the universal Modbus API: GET /modbus/read/{device}
 * and PUT /modbus/write/{device}, device = a Modbus machine's id. Reads
 * answer from the newest snapshot as the universal client's records;
 * writes answer after the PLC confirmed them.
 */
#include "api_internal.h"

#include <string.h>

/* The machine's newest snapshot; NULL (503 answered) before the first. */
static const gw_snapshot *snapshot(api_req *req, const gw_machine_cfg *m, int *status)
{
    const gw_snapshot *s = gw_engine_snapshot(req->api->engine, m->id);
    if (!s)
        *status = api__problem(req, 503, "Service Unavailable", "no values for %s yet", m->id);
    return s;
}

static const gw_machine_cfg *modbus_device(api_req *req, int *status)
{
    const gw_machine_cfg *m = api__engine_machine(req, status);
    if (m && m->driver != GW_DRIVER_MODBUS) {
        *status = api__problem(req, 404, "Not Found", "%s is not a Modbus device", m->id);
        return NULL;
    }
    return m;
}

static int modbus_read(const gw_app_http *http, api_req *req)
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

static int modbus_write(const gw_app_http *http, api_req *req)
{
    int status;
    const gw_machine_cfg *m = modbus_device(req, &status);
    return m ? api__write_body(req, m) : status;
}

const api_route api__modbus_routes[] = {
    {"GET", "/modbus/read/{id}", GW_ROLE_VIEWER,
     "The universal Modbus API: a Modbus device's values as records", "Records", modbus_read,
     NULL, API_E_MACHINE, NULL},
    {"PUT", "/modbus/write/{id}", GW_ROLE_OPERATOR,
     "The universal Modbus API: write {\"param\": value} to a Modbus device", "Written",
     modbus_write, API_SCHEMA_TAG_WRITES, API_E_MACHINE | API_E_WRITE, NULL},
};

const size_t api__nmodbus_routes = sizeof(api__modbus_routes) / sizeof(api__modbus_routes[0]);
