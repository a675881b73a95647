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
 *   GET    /sim/devices/{d}/options              the device's options
 *   PUT    /sim/devices/{d}/options              {"strict": true}: set_options
 *   POST   /sim/frontends/{s7|modbus|s7plus}/{start|stop}
 *   GET    /sim/faults                           active faults
 *   POST   /sim/faults   {"frontend", "fault", "duration_ms", "delay_ms"}
 *   DELETE /sim/faults                           clear every fault
 *   GET    /sim/writes?since=N                   the write log
 *   GET    /sim/clock, PUT /sim/clock {"time_scale": x}
 *
 * Names in paths are URL-encoded ("High%20Pressure%20%231").
 */
#include "sim_internal.h"

#include "http/http.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- describe */

/* The front-ends by index: S7comm and Modbus (their gw_driver values),
 * then S7CommPlus. */
#define NFE 3
#define FE_S7PLUS 2
static const char *const fe_names[NFE] = {"modbus", "s7", "s7plus"};

static gw_tcpsrv *fe_tcp(gw_sim *s, int k)
{
    return k == FE_S7PLUS ? gw_sim_s7plus_frontend(s) : gw_sim_frontend(s, (gw_driver)k);
}

static bool fe_of(const char *name, int *k)
{
    for (int i = 0; i < NFE; i++)
        if (strcmp(name, fe_names[i]) == 0) {
            *k = i;
            return true;
        }
    return false;
}

static json_t *frontend_json(gw_sim *s, int d)
{
    gw_tcpsrv *t = fe_tcp(s, d);
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
    json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:o}", "state",
                          gw_tcpsrv_state_name(gw_tcpsrv_get_state(t)), "host",
                          d == FE_S7PLUS ? gw_sim_s7plus_host(s) : s->fe[d].host,
                          "port", gw_tcpsrv_port(t), "clients", (int)gw_tcpsrv_clients(t),
                          "faults", faults);
    /* the simulated CPU's mode: a client may stop it (docs/sim.md); the
     * S7CommPlus front-end serves the same CPU */
    if (d == GW_DRIVER_S7 || d == FE_S7PLUS)
        json_object_set_new(o, "cpu", json_string(gw_sim_s7_cpu_state(s) == GW_S7_CPU_RUN
                                                      ? "run" : "stop"));
    return o;
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
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "name", d->name, "type", d->type->name,
                     "driver", d->driver == GW_DRIVER_S7 ? "s7" : "modbus", "properties", props,
                     "ios", ios, "options", (json_t *)gw_sim_device_options(d));
}

void *gw_sim_device_options(gw_sim_device *d)
{
    if (d->hooks && d->hooks->get_options)
        return d->hooks->get_options(d, d->state);
    return json_object();
}

gw_err gw_sim_device_set_options(gw_sim_device *d, const void *json, gw_error *err)
{
    if (!json_is_object((const json_t *)json))
        return gw_error_set(err, GW_E_TYPE, "options are a JSON object");
    if (d->hooks && d->hooks->set_options)
        return d->hooks->set_options(d, d->state, json, err);
    void *first = json_object_iter((json_t *)json);
    if (first)
        return gw_error_set(err, GW_E_NOT_FOUND, "device %s (%s) has no option \"%s\"", d->name,
                            d->type->name, json_object_iter_key(first));
    return GW_OK;
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
    return json_pack("{s:I, s:f, s:I, s:I, s:{s:o, s:o, s:o}, s:o, s:o}", "clock_ms",
                     (json_int_t)gw_sim_clock_ms(s), "time_scale", gw_sim_time_scale(s), "events",
                     (json_int_t)gw_sim_events(s), "overflows", (json_int_t)gw_sim_overflows(s),
                     "frontends", "s7", frontend_json(s, GW_DRIVER_S7), "modbus",
                     frontend_json(s, GW_DRIVER_MODBUS), "s7plus", frontend_json(s, FE_S7PLUS),
                     "devices", devs, "types", types);
}

/* ---------------------------------------------------------------- HTTP */

struct gw_sim_control {
    gw_sim *sim;
    gw_http *http;
    uint16_t port;
};

static int send_json(gw_http_req *c, int status, json_t *body)
{
    char *s = body ? gw_json_dumps(body, 0) : NULL;
    json_decref(body);
    if (!s) {
        static const char oom[] = "{\"type\":\"about:blank\",\"status\":500,\"detail\":"
                                  "\"out of memory\"}";
        gw_http_respond(c, 500, "application/problem+json", NULL, oom, sizeof(oom) - 1);
        return 500;
    }
    gw_http_respond(c, status, status < 400 ? "application/json" : "application/problem+json",
                    "Cache-Control: no-store\r\n", s, strlen(s));
    gw_free(s);
    return status;
}

static int problem(gw_http_req *c, int status, const char *fmt, ...) GW_PRINTF(3, 4);

static int problem(gw_http_req *c, int status, const char *fmt, ...)
{
    char text[400], detail[400];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
    /* details quote names from the request: whole characters, valid UTF-8 */
    gw_utf8_sanitize(text, gw_utf8_prefix(text, len, sizeof(detail) - 1), detail, sizeof(detail));
    return send_json(c, status, json_pack("{s:s, s:i, s:s}", "type", "about:blank", "status",
                                          status, "detail", detail));
}

/* The request body as JSON (an object), or an answered 400. */
static json_t *read_body(gw_http_req *c)
{
    size_t len;
    const char *buf = gw_http_req_body(c, &len);
    json_error_t e;
    json_t *j = gw_json_load_untrusted(buf, len, JSON_REJECT_DUPLICATES, &e);
    if (!j || !json_is_object(j)) {
        if (j)
            problem(c, 400, "the body must be a JSON object: got another kind");
        else
            problem(c, 400, "the body must be a JSON object: line %d, column %d: %s", e.line,
                    e.column, e.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Splits the decoded path "/sim/devices/a b/properties/x" into segments;
 * more than 6, or one longer than 127 bytes, makes no route. */
static size_t segments(const char *path, char seg[6][128])
{
    size_t n = 0;
    const char *p = path;
    while (*p == '/')
        p++;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n == 6 || len >= 128)
            return 0;
        memcpy(seg[n], p, len);
        seg[n][len] = '\0';
        n++;
        p += len;
        while (*p == '/')
            p++;
    }
    return n;
}

/* GET, PUT /sim/devices/{d}/options: the options after the change. */
static int options_route(gw_http_req *c, gw_sim_device *d, const char *method)
{
    if (strcmp(method, "GET") == 0)
        return send_json(c, 200, gw_sim_device_options(d));
    if (strcmp(method, "PUT") != 0)
        return problem(c, 405, "use GET or PUT");
    json_t *body = read_body(c);
    if (!body)
        return 400;
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_sim_device_set_options(d, body, &err);
    json_decref(body);
    if (rc != GW_OK)
        return problem(c, 422, "%s", err.msg);
    return send_json(c, 200, gw_sim_device_options(d));
}

static int device_route(gw_http_req *c, gw_sim *s, const char *method, char seg[6][128],
                        size_t n)
{
    gw_sim_device *d = gw_sim_device_find(s, seg[2]);
    if (!d)
        return problem(c, 404, "no device \"%s\"", seg[2]);
    if (n == 3 && strcmp(method, "GET") == 0)
        return send_json(c, 200, gw_sim_describe_device(d));
    if (n == 4 && strcmp(seg[3], "options") == 0)
        return options_route(c, d, method);
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

static int faults_route(gw_http_req *c, gw_sim *s, const char *method)
{
    if (strcmp(method, "GET") == 0)
        return send_json(c, 200, json_pack("{s:o, s:o, s:o}", "s7",
                                           frontend_json(s, GW_DRIVER_S7), "modbus",
                                           frontend_json(s, GW_DRIVER_MODBUS), "s7plus",
                                           frontend_json(s, FE_S7PLUS)));
    if (strcmp(method, "DELETE") == 0) {
        for (int d = 0; d < NFE; d++)
            if (fe_tcp(s, d))
                gw_tcpsrv_fault_clear(fe_tcp(s, d));
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
        return problem(c, 422, "\"frontend\" must be \"s7\", \"modbus\", \"s7plus\" or "
                       "\"all\"");
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
        for (int d = 0; d < NFE; d++) {
            const char *dn = fe_names[d];
            gw_tcpsrv *t = fe_tcp(s, d);
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

static int writes_route(gw_http_req *c, gw_sim *s)
{
    char since_s[32] = "0";
    if (gw_http_query_param(gw_http_req_query(c), "since", since_s, sizeof(since_s)) < 0)
        return problem(c, 400, "\"since\" must be a sequence number");
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

static int route(gw_http_req *c, gw_sim_control *ctl)
{
    gw_sim *s = ctl->sim;
    const char *m = gw_http_req_method(c);
    char seg[6][128];
    size_t n = segments(gw_http_req_path(c), seg);
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
    int d;
    if (strcmp(seg[1], "frontends") == 0 && n == 4 && fe_of(seg[2], &d)) {
        if (strcmp(m, "POST") != 0)
            return problem(c, 405, "use POST");
        gw_error err;
        gw_error_clear(&err);
        if (strcmp(seg[3], "start") == 0) {
            gw_err rc = d == FE_S7PLUS ? gw_sim_s7plus_start(s, &err)
                                       : gw_sim_frontend_start(s, (gw_driver)d, &err);
            if (rc != GW_OK)
                return problem(c, err.code == GW_E_NOT_FOUND ? 404 : 500, "%s", err.msg);
        } else if (strcmp(seg[3], "stop") == 0) {
            if (!fe_tcp(s, d))
                return problem(c, 404, "no %s front-end runs", seg[2]);
            if (d == FE_S7PLUS)
                gw_sim_s7plus_stop(s);
            else
                gw_sim_frontend_stop(s, (gw_driver)d);
        } else {
            return problem(c, 404, "use .../start or .../stop");
        }
        return send_json(c, 200, frontend_json(s, d));
    }
    return problem(c, 404, "no such resource");
}

static void dispatch(void *ud, gw_http_req *c)
{
    route(c, ud);
}

gw_err gw_sim_control_start(gw_sim *s, const char *host, uint16_t port, gw_sim_control **out,
                            gw_error *err)
{
    *out = NULL;
    gw_sim_control *ctl = gw_calloc(1, sizeof(*ctl));
    if (!ctl)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    ctl->sim = s;
    gw_http_opts o;
    gw_http_opts_default(&o);
    o.host = host;
    o.port = port;
    o.workers = 2;
    o.max_connections = 256;
    o.max_body = 8192;
    o.handler = dispatch;
    o.ud = ctl;
    o.log = s->log;
    o.log_category = "sim";
    if (gw_http_start(&o, &ctl->http, err) != GW_OK) {
        gw_free(ctl);
        return err ? err->code : GW_E_IO;
    }
    ctl->port = gw_http_port(ctl->http);
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
    gw_http_free(c->http);
    gw_free(c);
}
