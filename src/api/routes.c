/*
 * routes.c - the route table and its handlers. The OpenAPI document and
 * the /docs page are generated from the table.
 */
#include "api_internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *driver_name(gw_driver d)
{
    return d == GW_DRIVER_S7 ? "s7" : "modbus";
}

static void html_escape(gw_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': gw_buf_puts(b, "&lt;"); break;
        case '>': gw_buf_puts(b, "&gt;"); break;
        case '&': gw_buf_puts(b, "&amp;"); break;
        case '"': gw_buf_puts(b, "&quot;"); break;
        default: gw_buf_append(b, s, 1);
        }
    }
}

static int send_html(api_req *req, gw_buf *b)
{
    if (b->failed) {
        gw_buf_clear(b);
        return api__problem(req, 500, "Internal Server Error", "out of memory");
    }
    int rc = api__send_text(req, 200, "text/html; charset=utf-8", gw_buf_cstr(b), b->len);
    gw_buf_clear(b);
    return rc;
}

/* ---------------------------------------------------------------- machines */

static json_t *machine_summary(gw_api *api, const gw_machine_cfg *m, bool is_default)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:b, s:i}", "id", m->id, "name",
                          m->name, "profile", m->profile, "driver", driver_name(m->driver), "host",
                          m->host, "port", m->port, "simulated", m->simulate, "default",
                          is_default, "tags", (int)gw_tagmap_count(m->tags));
    const gw_snapshot *s = api->engine ? gw_engine_snapshot(api->engine, m->id) : NULL;
    if (j && s) {
        json_object_set_new(j, "connected", json_boolean(s->connected));
        if (!s->connected && s->error[0])
            json_object_set_new(j, "error", json_string(s->error));
    }
    gw_snapshot_release(s);
    return j;
}

static json_t *tag_json(const gw_machine_cfg *m, const gw_tag *t)
{
    char addr[48];
    gw_addr_format(&t->addr, addr, sizeof(addr));
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "parameter", t->parameter, "address", addr,
                          "function", gw_type_name(t->type, m->driver), "datatype",
                          gw_tag_avro_type(t), "access", t->access == GW_ACCESS_RW ? "rw" : "r");
    if (!j)
        return NULL;
    if (t->unit)
        json_object_set_new(j, "unit", json_string(t->unit));
    if (t->description)
        json_object_set_new(j, "description", json_string(t->description));
    if (t->has_min)
        json_object_set_new(j, "min", json_real(t->min));
    if (t->has_max)
        json_object_set_new(j, "max", json_real(t->max));
    if (t->group)
        json_object_set_new(j, "group", json_string(t->group));
    return j;
}

static int get_machines(const gw_app_http *http, api_req *req)
{
    const gw_config *cfg = req->api->config;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < cfg->nmachines; i++) {
        const gw_machine_cfg *m = &cfg->machines[i];
        json_array_append_new(arr, machine_summary(req->api, m,
                                                   strcmp(m->id, cfg->default_machine) == 0));
    }
    return api__send_json(req, 200, arr);
}

static int get_machine(const gw_app_http *http, api_req *req)
{
    const gw_config *cfg = req->api->config;
    const gw_machine_cfg *m = gw_config_machine(cfg, req->params[0]);
    if (!m)
        return api__problem(req, 404, "Not Found", "no machine \"%s\"; GET /api/machines lists them",
                            req->params[0]);
    json_t *j = machine_summary(req->api, m, strcmp(m->id, cfg->default_machine) == 0);
    json_t *tags = json_array();
    for (size_t i = 0; tags && i < gw_tagmap_count(m->tags); i++)
        json_array_append_new(tags, tag_json(m, gw_tagmap_at(m->tags, i)));
    json_t *groups = json_object();
    for (size_t i = 0; groups && i < m->ngroups; i++)
        json_object_set_new(groups, m->groups[i].name, json_integer(m->groups[i].interval_ms));
    if (j) {
        json_object_set_new(j, "tag_map", tags);
        json_object_set_new(j, "scan", groups);
    } else {
        json_decref(tags);
        json_decref(groups);
    }
    return api__send_json(req, 200, j);
}

/* Live values from the engine's newest snapshot: never a PLC read. */
static int get_machine_tags(const gw_app_http *http, api_req *req)
{
    int status;
    const gw_machine_cfg *m = api__engine_machine(req, &status);
    if (!m)
        return status;
    const gw_snapshot *s = gw_engine_snapshot(req->api->engine, m->id);
    if (!s)
        return api__problem(req, 503, "Service Unavailable", "no values for %s yet", m->id);
    json_t *records = json_array();
    for (size_t i = 0; records && i < s->n; i++) {
        const gw_tag *t = gw_tagmap_at(m->tags, i);
        size_t before = json_array_size(records);
        if (s->quality[i] == GW_Q_GOOD || s->quality[i] == GW_Q_STALE) {
            gw_tag_records(t, &s->values[i], records);
        } else {
            json_array_append_new(records, json_pack("{s:s, s:n, s:s}", "parameter", t->parameter,
                                                     "value", "datatype", gw_tag_avro_type(t)));
        }
        for (size_t k = before; k < json_array_size(records); k++)
            json_object_set_new(json_array_get(records, k), "quality",
                                json_string(gw_quality_name((gw_quality)s->quality[i])));
    }
    char ts[32] = "";
    if (s->ts_ms)
        gw_time_iso8601(s->ts_ms, ts, sizeof(ts));
    json_t *j = json_pack("{s:s, s:b, s:s?, s:I, s:I, s:o}", "machine", m->id, "connected",
                          s->connected, "ts", s->ts_ms ? ts : NULL, "age_ms",
                          (json_int_t)(s->ts_ms ? gw_wall_ms() - s->ts_ms : -1), "seq",
                          (json_int_t)s->seq, "tags", records);
    if (j && !s->connected && s->error[0])
        json_object_set_new(j, "error", json_string(s->error));
    gw_snapshot_release(s);
    return api__send_json(req, 200, j);
}

/* The HTTP status and title of an engine write's outcome. */
static int write_status(gw_err rc, const char **title)
{
    switch (rc) {
    case GW_E_CONN_LOST:
    case GW_E_BUSY: *title = "Service Unavailable"; return 503;
    case GW_E_TIMEOUT: *title = "Gateway Timeout"; return 504;
    case GW_E_NOT_FOUND: *title = "Not Found"; return 404;
    case GW_E_DEVICE_REJECTED:
    case GW_E_ACCESS: *title = "Bad Gateway"; return 502; /* the PLC said no */
    default: *title = "Internal Server Error"; return 500;
    }
}

int api__write_tags(api_req *req, const gw_machine_cfg *m, json_t *pairs, json_t *release,
                    uint32_t hold_ms, bool urgent)
{
    size_t n = json_object_size(pairs);
    gw_write *w = gw_calloc(n ? n : 1, sizeof(*w));
    gw_write *r = release ? gw_calloc(n ? n : 1, sizeof(*r)) : NULL;
    if (!w || (release && !r)) {
        gw_free(w);
        gw_free(r);
        return api__problem(req, 500, "Internal Server Error", "out of memory");
    }
    const char *name;
    json_t *value;
    size_t k = 0;
    gw_error err;
    gw_error_clear(&err);
    int status = 0;
    json_object_foreach(pairs, name, value) {
        const gw_tag *t = gw_tagmap_find(m->tags, name);
        if (!t) {
            status = api__problem(req, 422, "Unprocessable Content", "machine %s has no tag "
                                  "\"%s\"; GET /api/machines/%s lists them", m->id, name, m->id);
            break;
        }
        if (gw_tag_prepare_write(m->tags, t, value, &w[k], &err) != GW_OK ||
            (release && gw_tag_prepare_write(m->tags, t, json_object_get(release, name), &r[k],
                                             &err) != GW_OK)) {
            status = api__problem(req, 422, "Unprocessable Content", "%s%s%s", err.msg,
                                  err.hint[0] ? "; " : "", err.hint);
            break;
        }
        k++;
    }
    if (!status && k == 0)
        status = api__problem(req, 422, "Unprocessable Content", "name at least one tag");
    if (!status) {
        uint32_t timeout = m->timeout_ms * 2 + 500;
        gw_err rc = gw_engine_write(req->api->engine, m->id, w, r, k, hold_ms, urgent, timeout,
                                    &err);
        if (req->api->store) {
            /* who, what, the values, the result: every write the engine ran */
            char *values = json_dumps(pairs, JSON_COMPACT | JSON_SORT_KEYS);
            gw_error aerr;
            if (gw_store_audit(req->api->store, &req->who, m->id, req->path, values,
                               rc == GW_OK ? "ok" : err.msg, &aerr) != GW_OK)
                gw_log_error(req->api->log, "http", "audit: %s", aerr.msg);
            free(values);
        }
        gw_log_write(req->api->log, GW_LOG_INFO, "http", "%s %s: write of %zu tag%s on %s: %s",
                     req->method, req->path, k, k == 1 ? "" : "s", m->id,
                     rc == GW_OK ? "done" : err.msg);
        if (rc == GW_OK) {
            json_t *names = json_array();
            for (size_t i = 0; i < k; i++)
                json_array_append_new(names, json_string(w[i].tag->parameter));
            status = api__send_json(req, 200, json_pack("{s:s, s:o}", "machine", m->id,
                                                        "written", names));
        } else {
            const char *title;
            int code = write_status(rc, &title);
            status = api__problem(req, code, title, "%s%s%s", err.msg, err.hint[0] ? "; " : "",
                                  err.hint);
        }
    }
    gw_free(w);
    gw_free(r);
    return status;
}

/* The machine a route is for: its {id}, or the default machine. */
const gw_machine_cfg *api__engine_machine(api_req *req, int *status)
{
    const gw_config *cfg = req->api->config;
    /* {id} is the machine; a route without one is the default machine's */
    const char *id = req->pattern && strstr(req->pattern, "{id}") ? req->params[0]
                                                                  : cfg->default_machine;
    const gw_machine_cfg *m = gw_config_machine(cfg, id);
    if (!m) {
        *status = api__problem(req, 404, "Not Found", "no machine \"%s\"; GET /api/machines lists them", id);
        return NULL;
    }
    if (!req->api->engine) {
        *status = api__problem(req, 503, "Service Unavailable", "the engine does not run: no live values");
        return NULL;
    }
    return m;
}

int api__write_body(api_req *req, const gw_machine_cfg *m)
{
    int status;
    json_t *body = api__read_json(req, &status);
    if (!body)
        return status;
    status = api__write_tags(req, m, body, NULL, 0, false);
    json_decref(body);
    return status;
}

static int put_machine_tags(const gw_app_http *http, api_req *req)
{
    int status;
    const gw_machine_cfg *m = api__engine_machine(req, &status);
    return m ? api__write_body(req, m) : status;
}

/* ---------------------------------------------------------------- auth */

/* Login attempts: true when addr may try now. */
static bool login_allowed(gw_api *api, const char *addr, int *retry_s)
{
    int64_t now = gw_mono_ms();
    bool ok = true;
    pthread_mutex_lock(&api->login_lock);
    for (size_t i = 0; i < API_LOGIN_SLOTS; i++)
        if (strcmp(api->logins[i].addr, addr) == 0 &&
            now - api->logins[i].since_ms < API_LOGIN_WINDOW_MS &&
            api->logins[i].fails >= API_LOGIN_FAILS) {
            ok = false;
            *retry_s = (int)((api->logins[i].since_ms + API_LOGIN_WINDOW_MS - now) / 1000) + 1;
        }
    pthread_mutex_unlock(&api->login_lock);
    return ok;
}

/* Counts a failure for addr (failed = true) or forgets it (a success). */
static void login_result(gw_api *api, const char *addr, bool failed)
{
    int64_t now = gw_mono_ms();
    pthread_mutex_lock(&api->login_lock);
    size_t slot = 0;
    for (size_t i = 0; i < API_LOGIN_SLOTS; i++) {
        if (strcmp(api->logins[i].addr, addr) == 0) {
            slot = i;
            break;
        }
        if (api->logins[i].since_ms < api->logins[slot].since_ms)
            slot = i; /* the oldest slot, if addr has none */
    }
    if (strcmp(api->logins[slot].addr, addr) != 0 ||
        now - api->logins[slot].since_ms >= API_LOGIN_WINDOW_MS) {
        snprintf(api->logins[slot].addr, sizeof(api->logins[slot].addr), "%s", addr);
        api->logins[slot].since_ms = now;
        api->logins[slot].fails = 0;
    }
    if (failed)
        api->logins[slot].fails++;
    else
        api->logins[slot].addr[0] = '\0';
    pthread_mutex_unlock(&api->login_lock);
}

/* POST /api/auth/login {username, password}: a session cookie */
static int post_login(const gw_app_http *http, api_req *req)
{
    gw_store *store = req->api->store;
    if (!store)
        return api__problem(req, 503, "Service Unavailable", "this gateway runs without a user "
                            "database");
    const char *addr = req->remote;
    int retry = 0;
    if (!login_allowed(req->api, addr, &retry)) {
        snprintf(req->headers, sizeof(req->headers), "Retry-After: %d\r\n", retry);
        return api__problem(req, 429, "Too Many Requests", "too many failed logins from %s; "
                            "try again in %d s", addr, retry);
    }
    int status;
    json_t *body = api__read_json(req, &status);
    if (!body)
        return status;
    const char *name = json_string_value(json_object_get(body, "username"));
    const char *pw = json_string_value(json_object_get(body, "password"));
    if (!name || !pw) {
        json_decref(body);
        return api__problem(req, 422, "Unprocessable Content", "the body needs \"username\" and "
                            "\"password\" as strings");
    }
    gw_error err;
    gw_principal who;
    gw_err rc = gw_store_user_login(store, name, pw, &who, &err);
    json_t *v = json_pack("{s:s, s:s}", "user", name, "from", addr);
    char *values = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (rc != GW_OK) {
        login_result(req->api, addr, true);
        gw_store_audit(store, NULL, NULL, "login", values, err.msg, NULL);
        free(values);
        json_decref(body);
        return api__problem(req, rc == GW_E_ACCESS ? 401 : 500,
                            rc == GW_E_ACCESS ? "Unauthorized" : "Internal Server Error", "%s",
                            err.msg);
    }
    login_result(req->api, addr, false);
    char sid[GW_TOKEN_LEN + 1];
    rc = gw_store_session_create(store, &who, API_SESSION_TTL_S, sid, &err);
    gw_store_audit(store, &who, NULL, "login", values, rc == GW_OK ? "ok" : err.msg, NULL);
    free(values);
    if (rc != GW_OK) {
        json_decref(body);
        return api__problem(req, 500, "Internal Server Error", "%s", err.msg);
    }
    snprintf(req->headers, sizeof(req->headers), "Set-Cookie: " API_SESSION_COOKIE "=%s; Path=/; "
             "HttpOnly; SameSite=Strict; Max-Age=%u\r\n", sid, API_SESSION_TTL_S);
    sodium_memzero(sid, sizeof(sid));
    json_decref(body);
    return api__send_json(req, 200, json_pack("{s:s, s:s, s:i}", "user", who.name, "role",
                                              gw_role_name(who.role), "expires_in_s",
                                              (int)API_SESSION_TTL_S));
}

/* POST /api/auth/logout: ends the cookie's session */
static int post_logout(const gw_app_http *http, api_req *req)
{
    char sid[GW_TOKEN_LEN + 2];
    if (req->api->store && api__session_id(req, sid))
        gw_store_session_delete(req->api->store, sid);
    snprintf(req->headers, sizeof(req->headers), "Set-Cookie: " API_SESSION_COOKIE "=; Path=/; "
             "HttpOnly; SameSite=Strict; Max-Age=0\r\n");
    return api__send_json(req, 200, json_pack("{s:b}", "signed_out", 1));
}

/* GET /api/auth/me: who the request is from */
static int get_me(const gw_app_http *http, api_req *req)
{
    return api__send_json(req, 200, json_pack("{s:o, s:s}", "user", req->who.user_id ?
                                                                    json_string(req->who.name)
                                                                    : json_null(),
                                              "role", gw_role_name(req->who.role)));
}

static int get_health(const gw_app_http *http, api_req *req)
{
    const gw_config *cfg = req->api->config;
    unsigned clients = 0;
    unsigned long long ticks = 0, frames = 0;
    if (req->api->sio)
        sio_hub_stats(req->api->sio, &clients, &ticks, &frames);
    json_t *j = json_pack("{s:s, s:s, s:I, s:i, s:{s:i, s:I, s:I}}", "status", "ok", "version",
                          GW_VERSION, "uptime_s",
                          (json_int_t)((gw_wall_ms() - req->api->started_ms) / 1000),
                          "machines", (int)cfg->nmachines, "live", "clients", (int)clients,
                          "ticks", (json_int_t)ticks, "live_data_sent", (json_int_t)frames);
    return api__send_json(req, 200, j);
}

/* ---------------------------------------------------------------- pages */

static const char page_head[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>%s</title><style>"
    "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;"
    "color:#1d2330}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}"
    "table{border-collapse:collapse;width:100%%;margin:.5rem 0}th,td{text-align:left;"
    "padding:.3rem .6rem;border-bottom:1px solid #dde2ea}th{background:#f3f5f8}"
    "code{background:#f3f5f8;padding:0 .25rem;border-radius:3px}.m{font-family:monospace}"
    "a{color:#0b5cad}</style></head><body>";

static int get_index(const gw_app_http *http, api_req *req)
{
    /* the HMI when it is built and configured */
    int web = api__web(req);
    if (web)
        return web;
    const gw_config *cfg = req->api->config;
    gw_buf b;
    gw_buf_init(&b);
    gw_buf_printf(&b, page_head, "plcgw");
    gw_buf_printf(&b, "<h1>plcgw %s</h1><p>PLC gateway. API: <a href=\"/docs\">/docs</a>, "
                  "<a href=\"/openapi.json\">/openapi.json</a>, <a href=\"/api/health\">"
                  "/api/health</a>, <a href=\"/api/machines\">/api/machines</a>.</p>", GW_VERSION);
    for (size_t i = 0; i < cfg->nmachines; i++) {
        const gw_machine_cfg *m = &cfg->machines[i];
        gw_buf_puts(&b, "<h2>");
        html_escape(&b, m->name);
        gw_buf_printf(&b, " <small class=\"m\">(<a href=\"/api/machines/%s\">%s</a>, %s, %s "
                      "%s:%u%s)</small></h2>", m->id, m->id, m->profile, driver_name(m->driver),
                      m->host, m->port, m->simulate ? ", simulated" : "");
        gw_buf_puts(&b, "<table><tr><th>Address</th><th>Parameter</th><th>Type</th>"
                        "<th>Unit</th><th>Access</th><th>Description</th></tr>");
        for (size_t k = 0; k < gw_tagmap_count(m->tags); k++) {
            const gw_tag *t = gw_tagmap_at(m->tags, k);
            char addr[48];
            gw_addr_format(&t->addr, addr, sizeof(addr));
            gw_buf_printf(&b, "<tr><td class=\"m\">%s</td><td>", addr);
            html_escape(&b, t->parameter);
            gw_buf_printf(&b, "</td><td class=\"m\">%s</td><td>", gw_type_name(t->type, m->driver));
            html_escape(&b, t->unit);
            gw_buf_printf(&b, "</td><td>%s</td><td>", t->access == GW_ACCESS_RW ? "rw" : "r");
            html_escape(&b, t->description);
            gw_buf_puts(&b, "</td></tr>");
        }
        gw_buf_puts(&b, "</table>");
    }
    gw_buf_puts(&b, "</body></html>");
    return send_html(req, &b);
}

/* Readiness: every machine's PLC answers (load balancers, monitoring).
 * Which is not, and why for a signed-in viewer or more (the error names
 * the PLC's address). */
static int get_ready(const gw_app_http *http, api_req *req)
{
    const gw_config *cfg = req->api->config;
    json_t *list = json_array();
    bool ready = req->api->engine != NULL;
    for (size_t i = 0; list && i < cfg->nmachines; i++) {
        const gw_machine_cfg *m = &cfg->machines[i];
        const gw_snapshot *s = req->api->engine ? gw_engine_snapshot(req->api->engine, m->id)
                                                : NULL;
        bool up = s && s->connected;
        ready = ready && up;
        json_t *o = json_pack("{s:s, s:b}", "id", m->id, "connected", up);
        if (o && !up && req->who.role >= GW_ROLE_VIEWER)
            json_object_set_new(o, "error", json_string(s && s->error[0] ? s->error
                                                         : "no values yet"));
        json_array_append_new(list, o);
        gw_snapshot_release(s);
    }
    return api__send_json(req, ready ? 200 : 503, json_pack("{s:b, s:o}", "ready", ready,
                                                            "machines", list));
}

/* ---------------------------------------------------------------- table */

const api_route api__routes[] = {
    {"GET", "/", GW_ROLE_PUBLIC, "Overview page of the gateway and its machines", "html",
     get_index, NULL, 0, NULL},
    {"GET", "/docs", GW_ROLE_PUBLIC, "This API's documentation: Swagger UI (Authorize with a "
     "token, Try it out)", "html", api__get_docs, NULL, 0, NULL},
    {"GET", "/docs/{file}", GW_ROLE_PUBLIC, "Swagger UI's files", "html", api__get_docs_asset,
     NULL, 0, NULL},
    {"GET", "/openapi.json", GW_ROLE_PUBLIC, "OpenAPI 3.1 description of the API", "openapi",
     api__get_openapi, NULL, 0, NULL},
    {"POST", "/api/auth/login", GW_ROLE_PUBLIC,
     "Sign in {username, password}: a session cookie (HttpOnly, SameSite=Strict, 12 h); "
     "5 failures a minute per address, then 429", "Login", post_login,
     "{\"type\":\"object\",\"required\":[\"username\",\"password\"],\"properties\":{"
     "\"username\":{\"type\":\"string\"},\"password\":{\"type\":\"string\"}},"
     "\"example\":{\"username\":\"op\",\"password\":\"op-pass-123\"}}", API_E_LOGIN, NULL},
    {"POST", "/api/auth/logout", GW_ROLE_PUBLIC, "Sign out: ends the cookie's session",
     "SignedOut", post_logout, NULL, 0, NULL},
    {"GET", "/api/auth/me", GW_ROLE_PUBLIC, "Who this request is from (token, cookie or none)",
     "Me", get_me, NULL, 0, NULL},
    {"GET", "/api/health", GW_ROLE_PUBLIC,
     "Liveness: the gateway answers (version, uptime, machine count, live-channel clients)",
     "Health", get_health, NULL, 0, NULL},
    {"GET", "/api/ready", GW_ROLE_PUBLIC,
     "Readiness: 200 when every machine's PLC answers, else 503 naming which does not",
     "Ready", get_ready, NULL, 0, NULL},
    {"GET", "/api/machines", GW_ROLE_VIEWER, "The machines this gateway serves", "MachineList",
     get_machines, NULL, 0, NULL},
    {"GET", "/api/machines/{id}", GW_ROLE_VIEWER, "One machine with its tag map and scan groups",
     "Machine", get_machine, NULL, API_E_MACHINE, NULL},
    {"GET", "/api/machines/{id}/tags", GW_ROLE_VIEWER,
     "Live values from the newest snapshot (no PLC read): records with quality", "TagValues",
     get_machine_tags, NULL, API_E_MACHINE, NULL},
    {"PUT", "/api/machines/{id}/tags", GW_ROLE_OPERATOR,
     "Write tags {\"param\": value}: checked first (422), answered after the PLC confirmed "
     "(503 disconnected, 504 timeout, 502 refused)", "Written", put_machine_tags,
     API_SCHEMA_TAG_WRITES, API_E_MACHINE | API_E_WRITE, NULL},
};

const size_t api__nroutes = sizeof(api__routes) / sizeof(api__routes[0]);

const api_route *api__route(size_t i)
{
    if (i < api__nroutes)
        return &api__routes[i];
    i -= api__nroutes;
    if (i < api__nmodbus_routes)
        return &api__modbus_routes[i];
    i -= api__nmodbus_routes;
    const gw_app *app;
    for (size_t k = 0; (app = gw_app_at(k)) != NULL; k++) {
        size_t n = 0;
        const gw_app_route *r;
        while ((r = app->route(n)) != NULL) {
            if (n == i)
                return r;
            n++;
        }
        i -= n;
    }
    return NULL;
}

const char *api__route_profile(size_t i)
{
    if (i < api__nroutes + api__nmodbus_routes)
        return NULL;
    i -= api__nroutes + api__nmodbus_routes;
    const gw_app *app;
    for (size_t k = 0; (app = gw_app_at(k)) != NULL; k++) {
        size_t n = 0;
        while (app->route(n))
            n++;
        if (i < n)
            return app->profile;
        i -= n;
    }
    return NULL;
}

json_t *api__live_json(const gw_machine_cfg *m, const gw_snapshot *s)
{
    const gw_app *app = gw_app_find(m->profile);
    json_t *o;
    if (app && app->live) {
        o = app->live(m, s);
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
    gw_app_stamp(o, s);
    json_object_set_new(o, "machine", json_string(m->id));
    return o;
}
