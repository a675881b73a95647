/*
 * control.c - the simulator's self-description and its HTTP/JSON control
 * API on its own loopback port (docs/sim.md):
 *
 *   GET    /sim                                  state, clock, devices
 *   GET    /sim/devices                          every device, described
 *   GET    /sim/devices/{d}                      one device
 *   GET    /sim/devices/{d}/properties/{p}       a property's value
 *   PUT    /sim/devices/{d}/properties/{p}       {"value": v}: set_property
 *   GET    /sim/devices/{d}/ios/{io}             an I/O's value
 *   PUT    /sim/devices/{d}/ios/{io}             {"value": v}: set_io
 *   POST   /sim/frontends/{s7|modbus}/{start|stop}
 *   GET    /sim/faults                           active faults
 *   POST   /sim/faults   {"frontend", "fault", "duration_ms", "delay_ms"}
 *   DELETE /sim/faults                           clear every fault
 *   GET    /sim/writes?since=N                   the write log
 *   GET    /sim/clock, PUT /sim/clock {"time_scale": x}
 *
 * Names in paths are URL-encoded ("High%20Pressure%20%231").
 */
#include "sim_internal.h"

#include <civetweb.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- describe */

static json_t *frontend_json(gw_sim *s, gw_driver d)
{
    gw_tcpsrv *t = gw_sim_frontend(s, d);
    if (!t)
        return json_null();
    json_t *faults = json_object();
    for (int f = 0; f < GW_FAULT__COUNT; f++) {
        uint32_t delay = 0, left = gw_tcpsrv_fault_left(t, (gw_fault)f, &delay);
        if (!left)
            continue;
        json_t *o = json_pack("{s:I}", "left_ms", (json_int_t)left);
        if (f == GW_FAULT_DELAY)
            json_object_set_new(o, "delay_ms", json_integer(delay));
        json_object_set_new(faults, gw_fault_name((gw_fault)f), o);
    }
    return json_pack("{s:s, s:s, s:i, s:i, s:o}", "state",
                     gw_tcpsrv_state_name(gw_tcpsrv_get_state(t)), "host", s->fe[d].host, "port",
                     gw_tcpsrv_port(t), "clients", (int)gw_tcpsrv_clients(t), "faults", faults);
}

void *gw_sim_describe_device(gw_sim_device *d)
{
    json_t *props = json_array();
    for (size_t i = 0; i < gw_tagmap_count(d->map); i++) {
        const gw_tag *t = gw_tagmap_at(d->map, i);
        gw_value v;
        json_t *value = json_null();
        if (gw_sim_get_property(d, t->parameter, &v, NULL) == GW_OK) {
            json_decref(value);
            value = gw_tag_value_json(t, &v);
            gw_value_clear(&v);
        }
        json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", t->parameter, "type",
                              gw_sim_type_name(gw_sim_type_of(t)), "access",
                              t->access == GW_ACCESS_RW ? "rw" : "r", "binding", t->key, "value",
                              value ? value : json_null());
        if (t->unit)
            json_object_set_new(p, "unit", json_string(t->unit));
        json_array_append_new(props, p);
    }
    json_t *ios = json_array();
    for (size_t i = 0; i < d->type->nios; i++) {
        const gw_sim_io_spec *io = &d->type->ios[i];
        double v = gw_sim_io(d, i);
        json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "name", io->name, "type",
                              gw_sim_type_name(io->type), "direction",
                              io->output ? "output" : "input", "value",
                              io->type == GW_SIM_BOOL ? json_boolean(v != 0) : json_real(v));
        if (io->unit)
            json_object_set_new(o, "unit", json_string(io->unit));
        if (io->description)
            json_object_set_new(o, "description", json_string(io->description));
        json_array_append_new(ios, o);
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "name", d->name, "type", d->type->name,
                     "driver", d->driver == GW_DRIVER_S7 ? "s7" : "modbus", "properties", props,
                     "ios", ios);
}

void *gw_sim_describe(gw_sim *s)
{
    json_t *devs = json_array();
    for (size_t i = 0; i < s->ndev; i++)
        json_array_append_new(devs, gw_sim_describe_device(s->dev[i]));
    json_t *types = json_array();
    for (size_t i = 0; gw_sim_device_type_at(i); i++) {
        const gw_sim_device_type *t = gw_sim_device_type_at(i);
        json_array_append_new(types, json_pack("{s:s, s:s}", "name", t->name, "description",
                                               t->description));
    }
    return json_pack("{s:I, s:f, s:I, s:I, s:{s:o, s:o}, s:o, s:o}", "clock_ms",
                     (json_int_t)gw_sim_clock_ms(s), "time_scale", gw_sim_time_scale(s), "events",
                     (json_int_t)gw_sim_events(s), "overflows", (json_int_t)gw_sim_overflows(s),
                     "frontends", "s7", frontend_json(s, GW_DRIVER_S7), "modbus",
                     frontend_json(s, GW_DRIVER_MODBUS), "devices", devs, "types", types);
}

/* ---------------------------------------------------------------- HTTP */

struct gw_sim_control {
    gw_sim *sim;
    struct mg_context *ctx;
    uint16_t port;
};

static int send_json(struct mg_connection *c, int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(body);
    if (!s)
        s = strdup("{\"error\":\"out of memory\"}");
    mg_response_header_start(c, status);
    mg_response_header_add(c, "Content-Type", status < 400 ? "application/json"
                                                            : "application/problem+json", -1);
    char n[24];
    snprintf(n, sizeof(n), "%zu", strlen(s));
    mg_response_header_add(c, "Content-Length", n, -1);
    mg_response_header_send(c);
    mg_write(c, s, strlen(s));
    free(s);
    return status;
}

static int problem(struct mg_connection *c, int status, const char *fmt, ...) GW_PRINTF(3, 4);

static int problem(struct mg_connection *c, int status, const char *fmt, ...)
{
    char detail[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return send_json(c, status, json_pack("{s:s, s:i, s:s}", "type", "about:blank", "status",
                                          status, "detail", detail));
}

/* The request body as JSON (an object), or an answered 400. */
static json_t *read_body(struct mg_connection *c)
{
    char buf[8192];
    size_t len = 0;
    int n;
    while (len < sizeof(buf) - 1 && (n = mg_read(c, buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)n;
    json_error_t e;
    json_t *j = json_loadb(buf, len, 0, &e);
    if (!j || !json_is_object(j)) {
        problem(c, 400, "the body must be a JSON object: %s", j ? "got another kind" : e.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Splits "/sim/devices/a%20b/properties/x" into decoded segments. */
static size_t segments(const char *uri, char seg[6][128])
{
    size_t n = 0;
    const char *p = uri;
    while (*p == '/')
        p++;
    while (*p && n < 6) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char raw[256];
        snprintf(raw, sizeof(raw), "%.*s", (int)(len < 255 ? len : 255), p);
        if (mg_url_decode(raw, (int)strlen(raw), seg[n], 128, 0) < 0)
            seg[n][0] = '\0';
        n++;
        p += len;
        while (*p == '/')
            p++;
    }
    return n;
}

static int device_route(struct mg_connection *c, gw_sim *s, const char *method, char seg[6][128],
                        size_t n)
{
    gw_sim_device *d = gw_sim_device_find(s, seg[2]);
    if (!d)
        return problem(c, 404, "no device \"%s\"", seg[2]);
    if (n == 3 && strcmp(method, "GET") == 0)
        return send_json(c, 200, gw_sim_describe_device(d));
    if (n != 5)
        return problem(c, 404, "no such resource");
    gw_error err;
    gw_error_clear(&err);
    bool prop = strcmp(seg[3], "properties") == 0, io = strcmp(seg[3], "ios") == 0;
    if (!prop && !io)
        return problem(c, 404, "no such resource");
    if (strcmp(method, "GET") == 0) {
        if (prop) {
            gw_value v;
            if (gw_sim_get_property(d, seg[4], &v, &err) != GW_OK)
                return problem(c, 404, "%s", err.msg);
            const gw_tag *t = gw_tagmap_find(d->map, seg[4]);
            json_t *j = json_pack("{s:s, s:o}", "name", seg[4], "value", gw_tag_value_json(t, &v));
            gw_value_clear(&v);
            return send_json(c, 200, j);
        }
        double v;
        if (gw_sim_get_io(d, seg[4], &v, &err) != GW_OK)
            return problem(c, 404, "%s", err.msg);
        return send_json(c, 200, json_pack("{s:s, s:f}", "name", seg[4], "value", v));
    }
    if (strcmp(method, "PUT") != 0)
        return problem(c, 405, "use GET or PUT");
    json_t *body = read_body(c);
    if (!body)
        return 400;
    json_t *value = json_object_get(body, "value");
    int status;
    if (!value) {
        status = problem(c, 400, "the body needs a \"value\"");
    } else if (prop) {
        gw_err rc = gw_sim_set_property(d, seg[4], value, &err);
        status = rc == GW_OK ? send_json(c, 200, json_pack("{s:s, s:O}", "name", seg[4], "value",
                                                           value))
                 : problem(c, rc == GW_E_NOT_FOUND ? 404 : 422, "%s", err.msg);
    } else {
        double v = json_is_boolean(value) ? json_is_true(value) : json_number_value(value);
        gw_err rc = json_is_number(value) || json_is_boolean(value)
                        ? gw_sim_set_io(d, seg[4], v, &err)
                        : gw_error_set(&err, GW_E_TYPE, "an I/O takes a number or a boolean");
        status = rc == GW_OK ? send_json(c, 200, json_pack("{s:s, s:f}", "name", seg[4], "value",
                                                           v))
                 : problem(c, rc == GW_E_NOT_FOUND ? 404 : 422, "%s", err.msg);
    }
    json_decref(body);
    return status;
}

static bool driver_of(const char *name, gw_driver *d)
{
    if (strcmp(name, "s7") == 0)
        *d = GW_DRIVER_S7;
    else if (strcmp(name, "modbus") == 0)
        *d = GW_DRIVER_MODBUS;
    else
        return false;
    return true;
}

static int faults_route(struct mg_connection *c, gw_sim *s, const char *method)
{
    if (strcmp(method, "GET") == 0)
        return send_json(c, 200, json_pack("{s:o, s:o}", "s7", frontend_json(s, GW_DRIVER_S7),
                                           "modbus", frontend_json(s, GW_DRIVER_MODBUS)));
    if (strcmp(method, "DELETE") == 0) {
        for (int d = 0; d < 2; d++)
            if (gw_sim_frontend(s, (gw_driver)d))
                gw_tcpsrv_fault_clear(gw_sim_frontend(s, (gw_driver)d));
        return send_json(c, 200, json_pack("{s:b}", "cleared", 1));
    }
    if (strcmp(method, "POST") != 0)
        return problem(c, 405, "use GET, POST or DELETE");
    json_t *body = read_body(c);
    if (!body)
        return 400;
    json_t *fej = json_object_get(body, "frontend");
    const char *fe = json_string_value(fej);
    if (fej && !fe) {
        json_decref(body);
        return problem(c, 422, "\"frontend\" must be \"s7\", \"modbus\" or \"all\"");
    }
    const char *name = json_string_value(json_object_get(body, "fault"));
    json_t *dur = json_object_get(body, "duration_ms"), *del = json_object_get(body, "delay_ms");
    gw_fault f;
    int status;
    if (!name || !gw_fault_parse(name, &f)) {
        status = problem(c, 422, "\"fault\" must be one of drop, refuse, delay, silent, error, "
                         "corrupt");
    } else if (dur && (!json_is_integer(dur) || json_integer_value(dur) < 0 ||
                       json_integer_value(dur) > 3600000)) {
        status = problem(c, 422, "\"duration_ms\" must be 0..3600000");
    } else if (f == GW_FAULT_DELAY && (!json_is_integer(del) || json_integer_value(del) < 1 ||
                                       json_integer_value(del) > 600000)) {
        status = problem(c, 422, "a delay fault needs \"delay_ms\" 1..600000");
    } else {
        uint32_t ms = dur ? (uint32_t)json_integer_value(dur) : 0;
        uint32_t delay = del ? (uint32_t)json_integer_value(del) : 0;
        int applied = 0;
        for (int d = 0; d < 2; d++) {
            const char *dn = d == GW_DRIVER_S7 ? "s7" : "modbus";
            gw_tcpsrv *t = gw_sim_frontend(s, (gw_driver)d);
            if (!t || (fe && strcmp(fe, "all") != 0 && strcmp(fe, dn) != 0))
                continue;
            gw_tcpsrv_fault(t, f, ms, delay);
            applied++;
        }
        status = applied ? send_json(c, 200, json_pack("{s:s, s:I, s:i}", "fault", name,
                                                       "duration_ms", (json_int_t)ms, "frontends",
                                                       applied))
                         : problem(c, 404, "no front-end \"%s\" runs", fe ? fe : "");
    }
    json_decref(body);
    return status;
}

static int writes_route(struct mg_connection *c, gw_sim *s)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    char since_s[32] = "0";
    if (ri->query_string)
        mg_get_var(ri->query_string, strlen(ri->query_string), "since", since_s, sizeof(since_s));
    uint64_t since = strtoull(since_s, NULL, 10);
    enum { MAX = 512 };
    gw_sim_write *w = gw_malloc(MAX * sizeof(*w));
    if (!w)
        return problem(c, 500, "out of memory");
    size_t n = gw_sim_writes(s, since, w, MAX);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_error_t e;
        json_t *before = json_loads(w[i].before, JSON_DECODE_ANY, &e);
        json_t *after = json_loads(w[i].after, JSON_DECODE_ANY, &e);
        json_array_append_new(arr, json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:o, s:o}",
                                             "seq", (json_int_t)w[i].seq, "wall_ms",
                                             (json_int_t)w[i].wall_ms, "sim_ms",
                                             (json_int_t)w[i].sim_ms, "client", w[i].client,
                                             "device", w[i].device, "parameter", w[i].parameter,
                                             "address", w[i].address, "before",
                                             before ? before : json_null(), "after",
                                             after ? after : json_null()));
    }
    gw_free(w);
    return send_json(c, 200, arr);
}

static int dispatch(struct mg_connection *c, void *cbdata)
{
    gw_sim_control *ctl = cbdata;
    gw_sim *s = ctl->sim;
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *m = ri->request_method;
    char seg[6][128];
    size_t n = segments(ri->local_uri ? ri->local_uri : "/", seg);
    if (n == 0 || strcmp(seg[0], "sim") != 0)
        return problem(c, 404, "the control API lives under /sim");
    if (n == 1)
        return strcmp(m, "GET") == 0 ? send_json(c, 200, gw_sim_describe(s))
                                     : problem(c, 405, "use GET");
    if (strcmp(seg[1], "devices") == 0) {
        if (n == 2) {
            json_t *arr = json_array();
            for (size_t i = 0; i < s->ndev; i++)
                json_array_append_new(arr, gw_sim_describe_device(s->dev[i]));
            return send_json(c, 200, arr);
        }
        return device_route(c, s, m, seg, n);
    }
    if (strcmp(seg[1], "faults") == 0 && n == 2)
        return faults_route(c, s, m);
    if (strcmp(seg[1], "writes") == 0 && n == 2)
        return strcmp(m, "GET") == 0 ? writes_route(c, s) : problem(c, 405, "use GET");
    if (strcmp(seg[1], "clock") == 0 && n == 2) {
        if (strcmp(m, "GET") != 0 && strcmp(m, "PUT") != 0)
            return problem(c, 405, "use GET or PUT");
        if (strcmp(m, "PUT") == 0) {
            json_t *body = read_body(c);
            if (!body)
                return 400;
            double x = json_number_value(json_object_get(body, "time_scale"));
            json_decref(body);
            if (!(x >= 0.01 && x <= 1000))
                return problem(c, 422, "\"time_scale\" must be 0.01..1000");
            gw_sim_set_time_scale(s, x);
        }
        return send_json(c, 200, json_pack("{s:I, s:f}", "clock_ms",
                                           (json_int_t)gw_sim_clock_ms(s), "time_scale",
                                           gw_sim_time_scale(s)));
    }
    gw_driver d;
    if (strcmp(seg[1], "frontends") == 0 && n == 4 && driver_of(seg[2], &d)) {
        if (strcmp(m, "POST") != 0)
            return problem(c, 405, "use POST");
        gw_error err;
        gw_error_clear(&err);
        if (strcmp(seg[3], "start") == 0) {
            if (gw_sim_frontend_start(s, d, &err) != GW_OK)
                return problem(c, err.code == GW_E_NOT_FOUND ? 404 : 500, "%s", err.msg);
        } else if (strcmp(seg[3], "stop") == 0) {
            if (!gw_sim_frontend(s, d))
                return problem(c, 404, "no %s front-end runs", seg[2]);
            gw_sim_frontend_stop(s, d);
        } else {
            return problem(c, 404, "use .../start or .../stop");
        }
        return send_json(c, 200, frontend_json(s, d));
    }
    return problem(c, 404, "no such resource");
}

gw_err gw_sim_control_start(gw_sim *s, const char *host, uint16_t port, gw_sim_control **out,
                            gw_error *err)
{
    *out = NULL;
    gw_sim_control *ctl = gw_calloc(1, sizeof(*ctl));
    if (!ctl)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    ctl->sim = s;
    char ports[300];
    snprintf(ports, sizeof(ports), "%s:%u", host, port);
    const char *options[] = {"listening_ports", ports, "num_threads", "4", NULL};
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    struct mg_init_data init = {&cb, ctl, options};
    char text[256] = "";
    unsigned code = 0;
    struct mg_error_data error = {&code, text, sizeof(text)};
    mg_init_library(0);
    ctl->ctx = mg_start2(&init, &error);
    if (!ctl->ctx) {
        gw_free(ctl);
        mg_exit_library();
        return gw_error_set(err, GW_E_IO, "sim control: cannot listen on %s: %s", ports, text);
    }
    mg_set_request_handler(ctl->ctx, "/", dispatch, ctl);
    struct mg_server_port sp[2];
    ctl->port = mg_get_server_ports(ctl->ctx, 2, sp) > 0 ? (uint16_t)sp[0].port : port;
    gw_log_write(s->log, GW_LOG_INFO, "sim", "control API on http://%s:%u/sim", host, ctl->port);
    *out = ctl;
    return GW_OK;
}

uint16_t gw_sim_control_port(const gw_sim_control *c)
{
    return c->port;
}

void gw_sim_control_stop(gw_sim_control *c)
{
    if (!c)
        return;
    mg_stop(c->ctx);
    mg_exit_library();
    gw_free(c);
}
