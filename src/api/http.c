/*
 * http.c - the HTTP server's set-up and the request dispatcher.
 *
 * One handler receives every request and matches it against the
 * route table: an unknown path is 404, a known path with another method is
 * 405 with an Allow header. Every response carries its length, a content
 * type, and nosniff; errors are application/problem+json (RFC 9457).
 *
 * Browsers: an origin in the config's "cors_origins" gets CORS headers
 * (and preflight answers); a request that changes something from any other
 * foreign origin is refused with 403 before its handler runs, so that a web
 * page open in an operator's browser cannot start the machine.
 */
#include "api_internal.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

/* The header lines every answer carries, then the caller's. */
static void header_lines(const api_req *req, const char *extra, char *out, size_t size)
{
    snprintf(out, size, "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n%s%s%s",
             extra ? extra : "", req->cors, req->headers);
}

int api__send_text(api_req *req, int status, const char *type, const char *body, size_t len)
{
    char lines[1024];
    header_lines(req, NULL, lines, sizeof(lines));
    gw_http_respond(req->hr, status, type, lines, body, len);
    req->hr = NULL;
    return status;
}

static int send_oom(api_req *req)
{
    static const char oom[] = "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\","
                              "\"status\":500,\"detail\":\"out of memory\"}";
    char lines[1024];
    header_lines(req, NULL, lines, sizeof(lines));
    gw_http_respond(req->hr, 500, "application/problem+json", lines, oom, sizeof(oom) - 1);
    req->hr = NULL;
    return 500;
}

int api__send_json(api_req *req, int status, json_t *body)
{
    /* exact numbers: see docs/mapping.md, "Output records" */
    char *s = body ? gw_json_dumps(body, 0) : NULL;
    json_decref(body);
    if (!s)
        return send_oom(req);
    api__send_text(req, status, "application/json", s, strlen(s));
    gw_free(s);
    return status;
}

static int send_problem_json(api_req *req, int status, const char *title, const char *detail,
                             const char *extra_headers)
{
    /* every text in it is valid UTF-8 (api__problem makes the detail so),
     * so that a failure here is an allocation's */
    json_t *p = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", "about:blank", "title", title,
                          "status", status, "detail", detail, "instance", req->path);
    char *s = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!s)
        return send_oom(req);
    char lines[1024];
    header_lines(req, extra_headers, lines, sizeof(lines));
    gw_http_respond(req->hr, status, "application/problem+json", lines, s, strlen(s));
    req->hr = NULL;
    free(s);
    return status;
}

int api__problem(api_req *req, int status, const char *title, const char *fmt, ...)
{
    char text[1024], detail[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
    /* a detail may quote what the client sent: cut on a character, and
     * never a byte that is not UTF-8 */
    gw_utf8_sanitize(text, gw_utf8_prefix(text, len, sizeof(detail) - 1), detail,
                     sizeof(detail));
    return send_problem_json(req, status, title, detail, NULL);
}

/* Is the request's Content-Type application/json (parameters allowed)? */
static bool is_json_type(const char *type)
{
    if (!type)
        return false;
    size_t n = strcspn(type, "; \t");
    return n == 16 && strncasecmp(type, "application/json", 16) == 0;
}

json_t *api__read_json(api_req *req, int *status)
{
    size_t len;
    const char *buf = gw_http_req_body(req->hr, &len);
    if (!is_json_type(gw_http_req_header(req->hr, "Content-Type"))) {
        *status = api__problem(req, 415, "Unsupported Media Type", "%s %s takes a JSON body: send "
                               "\"Content-Type: application/json\"", req->method, req->path);
        return NULL;
    }
    json_error_t e;
    json_t *j = gw_json_load_untrusted(buf, len, JSON_REJECT_DUPLICATES, &e);
    if (!j || !json_is_object(j)) {
        *status = j ? api__problem(req, 400, "Bad Request", "the body must be a JSON object")
                    : api__problem(req, 400, "Bad Request", "malformed JSON at line %d, column "
                                   "%d: %s", e.line, e.column, e.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

/* A route that takes no body: none, or an empty JSON object. 0, or the
 * refusal it answered. */
static int check_no_body(api_req *req)
{
    size_t len;
    gw_http_req_body(req->hr, &len);
    if (len == 0)
        return 0;
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0 ||
        strcmp(req->method, "OPTIONS") == 0)
        return api__problem(req, 400, "Bad Request", "a %s takes no body", req->method);
    int status;
    json_t *j = api__read_json(req, &status);
    if (!j)
        return status;
    size_t members = json_object_size(j);
    json_decref(j);
    if (members)
        return api__problem(req, 422, "Unprocessable Content", "%s %s takes no parameters; "
                            "send no body or {}", req->method, req->path);
    return 0;
}

/* Matches "/api/machines/{id}" against a path; fills params. Parameters
 * match one non-empty segment of [A-Za-z0-9._-]. */
static bool match(const char *pattern, const char *path, api_req *req)
{
    int np = 0;
    const char *p = pattern, *s = path;
    while (*p) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t n = 0;
            while (s[n] && s[n] != '/') {
                char c = s[n];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.'))
                    return false;
                n++;
            }
            if (n == 0 || n >= sizeof(req->params[0]) || np >= 2)
                return false;
            memcpy(req->params[np], s, n);
            req->params[np][n] = '\0';
            np++;
            s += n;
            p = close + 1;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    return *s == '\0';
}

/* Is origin ("http://host:port") in the allow-list? */
static bool origin_allowed(const gw_config *cfg, const char *origin)
{
    for (size_t i = 0; i < cfg->ncors_origins; i++)
        if (strcmp(cfg->cors_origins[i], origin) == 0)
            return true;
    return false;
}

/* Does origin name the host the request was sent to (our own pages)? */
static bool same_origin(const char *origin, const char *host)
{
    const char *o = strncmp(origin, "http://", 7) == 0 ? origin + 7
                    : strncmp(origin, "https://", 8) == 0 ? origin + 8 : NULL;
    return o && host && strcmp(o, host) == 0;
}

/* OPTIONS: the methods of the path, and for an allowed origin the CORS
 * preflight answer. */
static int send_options(api_req *req, const char *allow)
{
    char lines[800];
    int n = snprintf(lines, sizeof(lines), "Allow: %s, OPTIONS\r\n", allow);
    if (req->cors[0])
        snprintf(lines + n, sizeof(lines) - (size_t)n,
                 "Access-Control-Allow-Methods: %s\r\nAccess-Control-Allow-Headers: "
                 "Content-Type, Authorization\r\nAccess-Control-Max-Age: 600\r\n%s", allow,
                 req->cors);
    gw_http_respond(req->hr, 204, NULL, lines, NULL, 0);
    req->hr = NULL;
    return 204;
}

/* Who is asking, and may they use route r? 0 when yes, else the answer
 * (401 without valid credentials, 403 with too small a role). A session
 * that ended does not stop public routes (the login page). */
static int authorize(api_req *req, const api_route *r)
{
    static const char challenge[] = "WWW-Authenticate: Bearer realm=\"plcgw\"\r\n";
    const char *remote = req->remote;
    api_credentials c = {gw_http_req_header(req->hr, "Authorization"),
                         gw_http_req_header(req->hr, "Cookie"), NULL, remote};
    gw_error err;
    api_cred cred = api__identify(req->api->store, req->api->config, &c, &req->who, &err);
    if (cred == API_CRED_BAD_TOKEN || (cred == API_CRED_BAD_SESSION && r->role > GW_ROLE_PUBLIC)) {
        gw_log_write(req->api->log, GW_LOG_WARN, "http", "%s %s from %s: %s", req->method,
                     req->path, remote, err.msg);
        return send_problem_json(req, 401, "Unauthorized", err.msg, challenge);
    }
    if (r->role <= req->who.role)
        return 0;
    if (req->who.user_id == 0) {
        char detail[200];
        snprintf(detail, sizeof(detail), "%s %s needs the %s role: send \"Authorization: "
                 "Bearer TOKEN\" (plcgw token create USER)", req->method, req->path,
                 gw_role_name(r->role));
        return send_problem_json(req, 401, "Unauthorized", detail, challenge);
    }
    return api__problem(req, 403, "Forbidden", "%s %s needs the %s role; %s is %s", req->method,
                        req->path, gw_role_name(r->role), req->who.name,
                        gw_role_name(req->who.role));
}

/* ---------------------------------------------------------------- for apps */

static gw_engine *app_engine(gw_app_req *r)
{
    return r->api->engine;
}

static const char *app_path(const gw_app_req *r)
{
    return r->path;
}

static int app_problem(gw_app_req *r, int status, const char *title, const char *detail)
{
    return api__problem(r, status, title, "%s", detail);
}

static bool app_has_body(const gw_app_req *r)
{
    size_t len = 0;
    if (r->hr)
        gw_http_req_body(r->hr, &len);
    return len > 0;
}

/* The first path parameter not named {id} (the machine). */
static const char *app_arg(const gw_app_req *r)
{
    int np = 0;
    for (const char *p = r->pattern; p && (p = strchr(p, '{')) != NULL; p++, np++)
        if (strncmp(p, "{id}", 4) != 0 && np < 2)
            return r->params[np];
    return NULL;
}

static int app_query(const gw_app_req *r, const char *name, char *out, size_t size)
{
    const char *q = r->hr ? gw_http_req_query(r->hr) : NULL;
    return q ? gw_http_query_param(q, name, out, size) : 0;
}

static const gw_principal *app_who(const gw_app_req *r)
{
    return &r->who;
}

static gw_store *app_store(gw_app_req *r, int *status)
{
    if (!r->api->store)
        *status = api__problem(r, 503, "Service Unavailable", "the gateway runs without a "
                               "database: no history");
    return r->api->store;
}

static const gw_config *app_config(gw_app_req *r)
{
    return r->api->config;
}

static void *app_state(gw_app_req *r, const gw_machine_cfg *m)
{
    size_t i = (size_t)(m - r->api->config->machines);
    return i < GW_MAX_MACHINES ? r->api->app_state[i] : NULL;
}

static void app_audit(gw_app_req *r, const char *machine, const char *values, const char *result)
{
    gw_error err;
    if (r->api->store && gw_store_audit(r->api->store, &r->who, machine, r->path, values, result,
                                        &err) != GW_OK)
        gw_log_error(r->api->log, "http", "audit: %s", err.msg);
}

struct gw_app_stream {
    gw_http_stream *s;
    int status;
    bool failed;
};

static gw_app_stream *app_stream_begin(gw_app_req *r, int status, const char *type,
                                       const char *headers)
{
    gw_app_stream *st = gw_calloc(1, sizeof(*st));
    if (!st) {
        send_oom(r);
        return NULL;
    }
    char hdr[1024];
    header_lines(r, headers, hdr, sizeof(hdr));
    st->s = gw_http_stream_begin(r->hr, status, type, hdr);
    r->hr = NULL; /* the stream has it */
    st->status = status;
    if (!st->s) {
        gw_free(st);
        return NULL;
    }
    return st;
}

static bool app_stream_write(gw_app_stream *st, const void *data, size_t len)
{
    if (!st->failed && !gw_http_stream_write(st->s, data, len))
        st->failed = true;
    return !st->failed;
}

static int app_stream_end(gw_app_stream *st)
{
    int status = st->status;
    gw_http_stream_end(st->s);
    gw_free(st);
    return status;
}

const gw_app_http api__http = {
    api__engine_machine, app_engine, app_path, api__read_json, api__send_json, app_problem,
    api__write_tags, app_has_body, app_arg, app_query, app_who, app_store, app_config, app_state, app_audit,
    app_stream_begin, app_stream_write, app_stream_end,
};

/* Is an app's route (of profile; NULL: api/'s own) for the machine of
 * the request: its {id}, or the default machine? An unknown machine is
 * left to the route (404). */
static bool for_machine(const api_req *req, const api_route *r, const char *profile)
{
    if (!profile)
        return true;
    const gw_config *cfg = req->api->config;
    const gw_machine_cfg *m = gw_config_machine(cfg, strstr(r->pattern, "{id}") ? req->params[0]
                                                                               : cfg->default_machine);
    return !m || strcmp(m->profile, profile) == 0;
}

static int dispatch_route(api_req *req, const api_route *r)
{
    req->pattern = r->pattern;
    int status = authorize(req, r);
    if (!status && !r->request)
        status = check_no_body(req);
    return status ? status : r->handler(&api__http, req);
}

/* The route for the request, answered; the status sent (0: parked). */
static int route(api_req *req)
{
    gw_api *api = req->api;
    gw_http_req *hr = req->hr;
    if (api->sio && sio_hub_cors_any(api->sio) && sio_hub_path(api->sio, req->path)) {
        sio_hub_http(api->sio, hr, req->path, NULL);
        return 0;
    }
    if (strcmp(req->path, "*") == 0) {
        /* OPTIONS *: what the server as a whole allows (RFC 9110 9.3.7) */
        gw_http_respond(hr, 204, NULL, "Allow: GET, HEAD, POST, PUT, PATCH, OPTIONS\r\n", NULL, 0);
        req->hr = NULL;
        return 204;
    }
    const char *origin = gw_http_req_header(hr, "Origin");
    bool safe = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0 ||
                strcmp(req->method, "OPTIONS") == 0;
    if (origin && origin_allowed(api->config, origin))
        snprintf(req->cors, sizeof(req->cors), "Access-Control-Allow-Origin: %s\r\n"
                 "Access-Control-Allow-Credentials: true\r\nVary: Origin\r\n", origin);
    else if (origin && !safe && !same_origin(origin, gw_http_req_header(hr, "Host")))
        return api__problem(req, 403, "Forbidden", "%s from the web origin %s is refused: it "
                            "is not in the config's \"cors_origins\"", req->method, origin);
    /* the live channel answers in its own protocol, its limits its own */
    if (api->sio && sio_hub_path(api->sio, req->path)) {
        sio_hub_http(api->sio, hr, req->path, req->cors);
        return 0;
    }
    if (gw_http_req_is_upgrade(hr))
        return api__problem(req, 404, "Not Found", "no WebSocket at %s; the live channel is "
                            "/socket.io/", req->path);
    bool path_known = false;
    char allow[128] = "";
    const api_route *r, *other = NULL;
    for (size_t i = 0; (r = api__route(i)) != NULL; i++) {
        if (!match(r->pattern, req->path, req))
            continue;
        bool head_ok = strcmp(req->method, "HEAD") == 0 && strcmp(r->method, "GET") == 0;
        bool method_ok = strcmp(r->method, req->method) == 0 || head_ok;
        /* an app's route is for the machines of its profile: another
         * app's route of the same path may be the machine's */
        if (method_ok && !for_machine(req, r, api__route_profile(i))) {
            if (!other)
                other = r;
            continue;
        }
        path_known = true;
        if (method_ok)
            return dispatch_route(req, r);
        size_t used = strlen(allow);
        snprintf(allow + used, sizeof(allow) - used, "%s%s", used ? ", " : "", r->method);
    }
    /* no app of the machine's profile has the path: the first route says
     * why (not a machine of its kind) */
    if (other && match(other->pattern, req->path, req))
        return dispatch_route(req, other);
    int web = path_known ? 0 : api__web(req);
    if (web)
        return web;
    if (!path_known)
        return api__problem(req, 404, "Not Found", "no resource at %s; see /docs for the API",
                            req->path);
    if (strcmp(req->method, "OPTIONS") == 0)
        return send_options(req, allow);
    char hdr[160];
    snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
    char detail[200];
    snprintf(detail, sizeof(detail), "%s is not allowed on %s; allowed: %s", req->method, req->path,
             allow);
    return send_problem_json(req, 405, "Method Not Allowed", detail, hdr);
}

/* Every request, on an http worker. */
static void dispatch(void *ud, gw_http_req *hr)
{
    gw_api *api = ud;
    api_req req;
    memset(&req, 0, sizeof(req));
    req.hr = hr;
    req.api = api;
    req.method = gw_http_req_method(hr);
    req.path = gw_http_req_path(hr);
    /* kept: hr (and these texts with it) goes when it is answered */
    char method[33], path[2048];
    snprintf(method, sizeof(method), "%s", req.method);
    /* no route is that long; the instance of the answer is cut on a
     * character (it goes into JSON) */
    size_t full = strlen(req.path), plen = gw_utf8_prefix(req.path, full, sizeof(path) - 1);
    memcpy(path, req.path, plen);
    path[plen] = '\0';
    req.method = method;
    req.path = path;
    snprintf(req.remote, sizeof(req.remote), "%s", gw_http_req_remote(hr));
    int status = plen < full ? api__problem(&req, 414, "URI Too Long", "no resource has a path "
                                            "of %zu bytes", full)
                             : route(&req);
    if (req.hr && status != 0) {
        /* a handler that returned without answering: a bug, never a hang */
        gw_log_error(api->log, "http", "%s %s: no answer from its handler", method, path);
        send_oom(&req);
    }
    gw_log_write(api->log, GW_LOG_DEBUG, "http", "%s %s -> %d", method, path, status);
}

gw_err gw_api_start(const gw_api_opts *opts, gw_api **out, gw_error *err)
{
    *out = NULL;
    gw_api *api = gw_calloc(1, sizeof(*api));
    if (!api)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    const gw_config *cfg = opts->config;
    api->config = cfg;
    api->engine = opts->engine;
    api->store = opts->store;
    api->log = opts->log;
    api->started_ms = gw_wall_ms();
    api__web_init(api, cfg->web_root);
    pthread_mutex_init(&api->login_lock, NULL);
    sio_opts so = {opts->protocol_test, cfg->live_interval_ms, cfg->jog_release_ms,
                   cfg->live_max_clients, cfg->ping_interval_ms, cfg->ping_timeout_ms,
                   cfg->live_connect_timeout_ms, cfg->live_max_unconnected};
    if (sio_hub_new(api, &so, &api->sio, err) != GW_OK) {
        pthread_mutex_destroy(&api->login_lock);
        gw_free(api);
        return err ? err->code : GW_E_NOMEM;
    }
    gw_http_opts ho;
    gw_http_opts_default(&ho);
    ho.host = opts->listen_host ? opts->listen_host : cfg->listen_host;
    ho.port = opts->listen_host ? opts->listen_port : cfg->listen_port;
    ho.workers = opts->threads ? opts->threads : cfg->http_workers;
    ho.max_connections = cfg->http_max_connections;
    ho.max_per_address = cfg->http_max_per_address;
    ho.limit_loopback = cfg->http_limit_loopback;
    ho.header_timeout_ms = cfg->http_header_timeout_ms;
    ho.body_timeout_ms = cfg->http_body_timeout_ms;
    ho.idle_timeout_ms = cfg->http_idle_timeout_ms;
    ho.send_timeout_ms = cfg->http_send_timeout_ms;
    /* the protocol suites' Engine.IO payloads are up to 1,000,000 bytes */
    ho.max_body = opts->protocol_test ? 1000000 : API_MAX_BODY;
    ho.max_message = ho.max_body;
    ho.handler = dispatch;
    ho.ud = api;
    ho.log = opts->log;
    if (gw_http_start(&ho, &api->http, err) != GW_OK) {
        sio_hub_free(api->sio);
        pthread_mutex_destroy(&api->login_lock);
        gw_free(api);
        gw_error_hint(err, "is another plcgw running there? choose another with --listen "
                      "ADDR:PORT");
        return err ? err->code : GW_E_IO;
    }
    api->port = gw_http_port(api->http);
    gw_log_info(api->log, "http", "listening on http://%s:%u", ho.host, api->port);
    /* the machines' workflows subscribe to the engine, which starts after */
    gw_app_env env = {cfg, api->engine, api->store, api->log, sio_hub_emit, api->sio};
    for (size_t i = 0; api->engine && i < cfg->nmachines && i < GW_MAX_MACHINES; i++) {
        const gw_app *app = gw_app_find(cfg->machines[i].profile);
        if (!app || !app->start)
            continue;
        api->app_state[i] = app->start(&env, &cfg->machines[i], err);
        if (!api->app_state[i]) {
            gw_api_stop(api);
            return err ? err->code : GW_E_NOMEM;
        }
    }
    *out = api;
    return GW_OK;
}

void gw_api_close(gw_api *api)
{
    if (!api || api->closed)
        return;
    api->closed = true;
    sio_hub_drain(api->sio);   /* parked polls are answered */
    gw_http_close(api->http);  /* the WebSockets close first */
    sio_hub_close(api->sio);
}

void gw_api_stop(gw_api *api)
{
    if (!api)
        return;
    gw_api_close(api);
    /* after the engine: no more changes come to them */
    for (size_t i = 0; i < api->config->nmachines && i < GW_MAX_MACHINES; i++) {
        const gw_app *app = gw_app_find(api->config->machines[i].profile);
        if (app && app->stop && api->app_state[i])
            app->stop(api->app_state[i]);
        api->app_state[i] = NULL;
    }
    sio_hub_free(api->sio);
    gw_http_free(api->http);
    pthread_mutex_destroy(&api->login_lock);
    gw_free(api);
}

uint16_t gw_api_port(const gw_api *api)
{
    return api->port;
}
