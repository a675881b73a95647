/*
 * http.c - civetweb set-up and the request dispatcher.
 *
 * One civetweb handler receives every request and matches it against the
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

static int send_headers(api_req *req, int status, const char *type, size_t len,
                        const char *extra)
{
    mg_response_header_start(req->conn, status);
    mg_response_header_add(req->conn, "Content-Type", type, -1);
    char n[24];
    snprintf(n, sizeof(n), "%zu", len);
    mg_response_header_add(req->conn, "Content-Length", n, -1);
    mg_response_header_add(req->conn, "X-Content-Type-Options", "nosniff", -1);
    mg_response_header_add(req->conn, "Cache-Control", "no-store", -1);
    if (extra)
        mg_response_header_add_lines(req->conn, extra);
    if (req->cors[0])
        mg_response_header_add_lines(req->conn, req->cors);
    if (req->headers[0])
        mg_response_header_add_lines(req->conn, req->headers);
    return mg_response_header_send(req->conn);
}

int api__send_text(api_req *req, int status, const char *type, const char *body, size_t len)
{
    send_headers(req, status, type, len, NULL);
    if (strcmp(req->method, "HEAD") != 0 && len)
        mg_write(req->conn, body, len);
    return status;
}

int api__send_json(api_req *req, int status, json_t *body)
{
    /* 15 significant digits: see docs/mapping.md, "Output records" */
    char *s = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(body);
    if (!s) {
        static const char oom[] = "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\","
                                  "\"status\":500,\"detail\":\"out of memory\"}";
        return api__send_text(req, 500, "application/problem+json", oom, sizeof(oom) - 1);
    }
    api__send_text(req, status, "application/json", s, strlen(s));
    free(s);
    return status;
}

static int send_problem_json(api_req *req, int status, const char *title, const char *detail,
                             const char *extra_headers)
{
    json_t *p = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", "about:blank", "title", title,
                          "status", status, "detail", detail, "instance", req->path);
    char *s = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!s)
        return api__send_text(req, 500, "text/plain", "out of memory\n", 14);
    send_headers(req, status, "application/problem+json", strlen(s), extra_headers);
    if (strcmp(req->method, "HEAD") != 0)
        mg_write(req->conn, s, strlen(s));
    free(s);
    return status;
}

int api__problem(api_req *req, int status, const char *title, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return send_problem_json(req, status, title, detail, NULL);
}

json_t *api__read_json(api_req *req, int *status)
{
    char *buf = gw_malloc(API_MAX_BODY + 1);
    if (!buf) {
        *status = api__problem(req, 500, "Internal Server Error", "out of memory");
        return NULL;
    }
    size_t len = 0;
    int n;
    while (len < API_MAX_BODY && (n = mg_read(req->conn, buf + len, API_MAX_BODY - len)) > 0)
        len += (size_t)n;
    if (len == API_MAX_BODY && mg_read(req->conn, buf, 1) > 0) {
        gw_free(buf);
        *status = api__problem(req, 413, "Payload Too Large", "request bodies are limited to %u "
                               "bytes", API_MAX_BODY);
        return NULL;
    }
    json_error_t e;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
    gw_free(buf);
    if (!j || !json_is_object(j)) {
        *status = j ? api__problem(req, 400, "Bad Request", "the body must be a JSON object")
                    : api__problem(req, 400, "Bad Request", "malformed JSON at line %d, column "
                                   "%d: %s", e.line, e.column, e.text);
        json_decref(j);
        return NULL;
    }
    return j;
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
    char lines[400];
    int n = snprintf(lines, sizeof(lines), "Allow: %s, OPTIONS\r\n", allow);
    if (req->cors[0])
        snprintf(lines + n, sizeof(lines) - (size_t)n,
                 "Access-Control-Allow-Methods: %s\r\nAccess-Control-Allow-Headers: "
                 "Content-Type, Authorization\r\nAccess-Control-Max-Age: 600\r\n", allow);
    mg_response_header_start(req->conn, 204);
    mg_response_header_add_lines(req->conn, lines);
    if (req->cors[0])
        mg_response_header_add_lines(req->conn, req->cors);
    mg_response_header_send(req->conn);
    return 204;
}

/* Who is asking, and may they use route r? 0 when yes, else the answer
 * (401 without valid credentials, 403 with too small a role). A session
 * that ended does not stop public routes (the login page). */
static int authorize(api_req *req, const api_route *r)
{
    static const char challenge[] = "WWW-Authenticate: Bearer realm=\"plcgw\"\r\n";
    const struct mg_request_info *ri = mg_get_request_info(req->conn);
    api_credentials c = {mg_get_header(req->conn, "Authorization"),
                         mg_get_header(req->conn, "Cookie"), NULL, ri->remote_addr};
    gw_error err;
    api_cred cred = api__identify(req->api->store, req->api->config, &c, &req->who, &err);
    if (cred == API_CRED_BAD_TOKEN || (cred == API_CRED_BAD_SESSION && r->role > GW_ROLE_PUBLIC)) {
        gw_log_write(req->api->log, GW_LOG_WARN, "http", "%s %s from %s: %s", req->method,
                     req->path, ri->remote_addr, err.msg);
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

static int dispatch(struct mg_connection *conn, void *cbdata)
{
    gw_api *api = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    api_req req;
    memset(&req, 0, sizeof(req));
    req.conn = conn;
    req.api = api;
    req.method = ri->request_method;
    req.path = ri->local_uri ? ri->local_uri : "/";
    if (api->sio && sio_hub_cors_any(api->sio) && sio_hub_path(api->sio, req.path))
        return sio_hub_http(api->sio, conn, req.path, NULL);
    const char *origin = mg_get_header(conn, "Origin");
    bool safe = strcmp(req.method, "GET") == 0 || strcmp(req.method, "HEAD") == 0 ||
                strcmp(req.method, "OPTIONS") == 0;
    if (origin && origin_allowed(api->config, origin))
        snprintf(req.cors, sizeof(req.cors), "Access-Control-Allow-Origin: %s\r\n"
                 "Access-Control-Allow-Credentials: true\r\nVary: Origin\r\n", origin);
    else if (origin && !safe && !same_origin(origin, mg_get_header(conn, "Host")))
        return api__problem(&req, 403, "Forbidden", "%s from the web origin %s is refused: it "
                            "is not in the config's \"cors_origins\"", req.method, origin);
    /* the live channel answers in its own protocol, its limits its own */
    if (api->sio && sio_hub_path(api->sio, req.path))
        return sio_hub_http(api->sio, conn, req.path, req.cors);
    if (ri->content_length > (long long)API_MAX_BODY)
        return api__problem(&req, 413, "Payload Too Large", "request bodies are limited to %u bytes",
                            API_MAX_BODY);
    bool path_known = false;
    char allow[128] = "";
    const api_route *r;
    for (size_t i = 0; (r = api__route(i)) != NULL; i++) {
        if (!match(r->pattern, req.path, &req))
            continue;
        path_known = true;
        bool head_ok = strcmp(req.method, "HEAD") == 0 && strcmp(r->method, "GET") == 0;
        if (strcmp(r->method, req.method) == 0 || head_ok) {
            int status = authorize(&req, r);
            if (status)
                return status;
            status = r->handler(&req);
            gw_log_write(api->log, GW_LOG_DEBUG, "http", "%s %s -> %d", req.method, req.path,
                         status);
            return status;
        }
        size_t used = strlen(allow);
        snprintf(allow + used, sizeof(allow) - used, "%s%s", used ? ", " : "", r->method);
    }
    if (!path_known)
        return api__problem(&req, 404, "Not Found", "no resource at %s; see /docs for the API",
                            req.path);
    if (strcmp(req.method, "OPTIONS") == 0)
        return send_options(&req, allow);
    char hdr[160];
    snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
    char detail[200];
    snprintf(detail, sizeof(detail), "%s is not allowed on %s; allowed: %s", req.method, req.path,
             allow);
    return send_problem_json(&req, 405, "Method Not Allowed", detail, hdr);
}

static int log_message(const struct mg_connection *conn, const char *message)
{
    const struct mg_context *ctx = mg_get_context(conn);
    gw_api *api = ctx ? mg_get_user_data(ctx) : NULL;
    gw_log_write(api ? api->log : NULL, GW_LOG_WARN, "http", "%s", message);
    return 1;
}

gw_err gw_api_start(const gw_api_opts *opts, gw_api **out, gw_error *err)
{
    *out = NULL;
    gw_api *api = gw_calloc(1, sizeof(*api));
    if (!api)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    api->config = opts->config;
    api->engine = opts->engine;
    api->store = opts->store;
    api->log = opts->log;
    api->started_ms = gw_wall_ms();
    pthread_mutex_init(&api->login_lock, NULL);
    const char *host = opts->listen_host ? opts->listen_host : opts->config->listen_host;
    uint16_t port = opts->listen_host ? opts->listen_port : opts->config->listen_port;
    char ports[300], threads[16], ws_timeout[16];
    snprintf(ports, sizeof(ports), "%s:%u", host, port);
    /* a WebSocket or a waiting poll holds a worker: one per live client */
    snprintf(threads, sizeof(threads), "%u", (opts->threads ? opts->threads : 8u) +
             opts->config->live_max_clients);
    /* civetweb's read of a WebSocket outlasts the Engine.IO heartbeat */
    snprintf(ws_timeout, sizeof(ws_timeout), "%u", opts->config->ping_interval_ms +
             opts->config->ping_timeout_ms + 5000);
    const char *options[] = {
        "listening_ports", ports,
        "num_threads", threads,
        /* also the longest a write to a client that does not read blocks a
         * live-channel writer thread: then that client is closed */
        "request_timeout_ms", "5000",
        "enable_keep_alive", "yes",
        /* small answers go out at once: without it a keep-alive client
         * waits out the peer's delayed ACK, 40 ms a request */
        "tcp_nodelay", "1",
        /* civetweb answers preflights itself with "*" unless told not to;
         * the allow-list is ours (dispatch) */
        "access_control_allow_origin", "",
        "websocket_timeout_ms", ws_timeout,
        NULL,
    };
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    cb.log_message = log_message;
    struct mg_init_data init = {&cb, api, options};
    char text[256] = "";
    unsigned code = 0;
    struct mg_error_data error = {&code, text, sizeof(text)};
    mg_init_library(0);
    api->ctx = mg_start2(&init, &error);
    if (!api->ctx) {
        gw_free(api);
        mg_exit_library();
        gw_error_set(err, GW_E_IO, "cannot listen on %s: %s", ports, text[0] ? text : "unknown error");
        gw_error_hint(err, "is another plcgw running there? choose another with --listen ADDR:PORT");
        return GW_E_IO;
    }
    sio_opts so = {opts->protocol_test, opts->config->live_interval_ms,
                   opts->config->jog_release_ms, opts->config->live_max_clients,
                   opts->config->ping_interval_ms, opts->config->ping_timeout_ms};
    if (sio_hub_new(api, &so, &api->sio, err) != GW_OK) {
        mg_stop(api->ctx);
        mg_exit_library();
        pthread_mutex_destroy(&api->login_lock);
        gw_free(api);
        return err->code;
    }
    sio_hub_attach(api->sio, api->ctx);
    mg_set_request_handler(api->ctx, "/", dispatch, api);
    struct mg_server_port sp[4];
    int n = mg_get_server_ports(api->ctx, 4, sp);
    api->port = n > 0 ? (uint16_t)sp[0].port : port;
    gw_log_info(api->log, "http", "listening on http://%s:%u", host, api->port);
    *out = api;
    return GW_OK;
}

void gw_api_close(gw_api *api)
{
    if (!api || api->closed)
        return;
    api->closed = true;
    sio_hub_drain(api->sio);
    mg_stop(api->ctx); /* the WebSockets close first */
    sio_hub_close(api->sio);
}

void gw_api_stop(gw_api *api)
{
    if (!api)
        return;
    gw_api_close(api);
    sio_hub_free(api->sio);
    mg_exit_library();
    pthread_mutex_destroy(&api->login_lock);
    gw_free(api);
}

uint16_t gw_api_port(const gw_api *api)
{
    return api->port;
}
