/*
 * openapi.c - the API's description, generated from the route table:
 * /openapi.json (OpenAPI 3.1) and Swagger UI at /docs, served from the
 * binary (assets.c) so that it works without internet.
 *
 * Every operation lists the answers it really gives: 200 with a typed
 * schema and an example (the components below), and the error statuses
 * that its role, its body and its kind imply, each an
 * application/problem+json document:
 *
 *   a role above public        401 no or bad credentials, 403 too small a role
 *   a POST or PUT              400 malformed, 413 too large, 415 not JSON,
 *                              422 checked and refused
 *   API_E_MACHINE              404 no such machine (or not of its kind),
 *                              503 no values yet / the engine does not run
 *   API_E_WRITE                502 the PLC refused, 503 disconnected or busy,
 *                              504 no confirmation in time
 *   API_E_LOGIN                401 wrong name or password, 429 too many
 *                              failures, 503 no user database
 */
#include "api_internal.h"

#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- schemas */

#define NUM "{\"type\":\"number\"}"
#define INT "{\"type\":\"integer\"}"
#define BOOL "{\"type\":\"boolean\"}"
#define STR "{\"type\":\"string\"}"
#define STAMP                                                                                \
    "\"connected\":" BOOL ",\"ts\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"}," \
    "\"age_ms\":" INT ",\"machine\":" STR
#define RECORD                                                                               \
    "{\"type\":\"object\",\"required\":[\"parameter\",\"value\",\"datatype\"],\"properties\":{" \
    "\"parameter\":" STR ",\"value\":{\"type\":[\"number\",\"boolean\",\"string\",\"null\"]}," \
    "\"value_alt\":" STR ",\"datatype\":" STR ",\"unit\":" STR ",\"description\":" STR        \
    ",\"min\":" NUM ",\"max\":" NUM ",\"quality\":{\"enum\":[\"good\",\"bad\",\"stale\","   \
    "\"unknown\"]}}}"
#define SUMMARY_PROPS                                                                        \
    "\"id\":" STR ",\"name\":" STR ",\"profile\":" STR ",\"driver\":{\"enum\":[\"s7\","     \
    "\"modbus\"]},\"host\":" STR ",\"port\":" INT ",\"simulated\":" BOOL ",\"default\":" BOOL \
    ",\"tags\":" INT ",\"connected\":" BOOL ",\"error\":" STR

static const gw_app_component components[] = {
    {"Problem",
     "{\"type\":\"object\",\"description\":\"RFC 9457 problem details\",\"required\":[\"type\","
     "\"title\",\"status\",\"detail\"],\"properties\":{\"type\":" STR ",\"title\":" STR
     ",\"status\":" INT ",\"detail\":" STR ",\"instance\":" STR "},\"example\":{\"type\":"
     "\"about:blank\",\"title\":\"Unprocessable Content\",\"status\":422,\"detail\":"
     "\"Pipe_Diameter: 5000 is above the maximum 3000\",\"instance\":\"/api/parameters\"}}"},
    {"Written",
     "{\"type\":\"object\",\"description\":\"the tags written, after the PLC confirmed them\","
     "\"required\":[\"machine\",\"written\"],\"properties\":{\"machine\":" STR ",\"written\":"
     "{\"type\":\"array\",\"items\":" STR "}},\"example\":{\"machine\":\"rig\",\"written\":["
     "\"Pipe_Diameter\",\"Pipe_Length\"]}}"},
    {"MachineList",
     "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{" SUMMARY_PROPS "}},"
     "\"example\":[{\"id\":\"rig\",\"name\":\"GRP pipe ring-stiffness rig\",\"profile\":"
     "\"ringstiff\",\"driver\":\"s7\",\"host\":\"192.168.0.10\",\"port\":102,\"simulated\":"
     "false,\"default\":true,\"tags\":28,\"connected\":true}]}"},
    {"Machine",
     "{\"type\":\"object\",\"properties\":{" SUMMARY_PROPS ",\"tag_map\":{\"type\":\"array\","
     "\"items\":{\"type\":\"object\",\"properties\":{\"parameter\":" STR ",\"address\":" STR
     ",\"function\":" STR ",\"datatype\":" STR ",\"access\":{\"enum\":[\"r\",\"rw\"]},\"unit\":"
     STR ",\"description\":" STR ",\"min\":" NUM ",\"max\":" NUM ",\"group\":" STR "}}},"
     "\"scan\":{\"type\":\"object\",\"additionalProperties\":" INT "}},\"example\":{\"id\":"
     "\"rig\",\"name\":\"GRP pipe ring-stiffness rig\",\"profile\":\"ringstiff\",\"driver\":"
     "\"s7\",\"host\":\"192.168.0.10\",\"port\":102,\"simulated\":false,\"default\":true,"
     "\"tags\":28,\"connected\":true,\"tag_map\":[{\"parameter\":\"Pipe_Diameter\",\"address\":"
     "\"DB1.DBD0\",\"function\":\"real\",\"datatype\":\"float\",\"access\":\"rw\",\"unit\":"
     "\"mm\"}],\"scan\":{\"live\":100,\"params\":1000}}}"},
    {"TagValues",
     "{\"type\":\"object\",\"properties\":{\"machine\":" STR ",\"connected\":" BOOL ",\"ts\":"
     STR ",\"age_ms\":" INT ",\"seq\":" INT ",\"error\":" STR ",\"tags\":{\"type\":\"array\","
     "\"items\":" RECORD "}},\"example\":{\"machine\":\"watermaker\",\"connected\":true,\"ts\":"
     "\"2026-12-07T21:18:58.108Z\",\"age_ms\":67,\"seq\":16,\"tags\":[{\"parameter\":"
     "\"System Mode\",\"value\":2,\"value_alt\":\"Home/Standby\",\"datatype\":\"int\","
     "\"quality\":\"good\"}]}}"},
    {"Records",
     "{\"type\":\"array\",\"items\":" RECORD ",\"example\":[{\"parameter\":\"Feed Pressure\","
     "\"value\":12,\"datatype\":\"int\",\"unit\":\"PSI\",\"category\":\"pressure\"}]}"},
    {"Health",
     "{\"type\":\"object\",\"properties\":{\"status\":{\"const\":\"ok\"},\"version\":" STR
     ",\"uptime_s\":" INT ",\"machines\":" INT ",\"live\":{\"type\":\"object\",\"properties\":"
     "{\"clients\":" INT ",\"ticks\":" INT ",\"live_data_sent\":" INT "}}},\"example\":{"
     "\"status\":\"ok\",\"version\":\"" GW_VERSION "\",\"uptime_s\":3600,\"machines\":2,"
     "\"live\":{\"clients\":3,\"ticks\":36000,\"live_data_sent\":108000}}}"},
    {"Ready",
     "{\"type\":\"object\",\"description\":\"ready: every machine's PLC answers (the error only "
     "for a signed-in viewer or more)\",\"properties\":{\"ready\":" BOOL ",\"machines\":{"
     "\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"id\":" STR
     ",\"connected\":" BOOL ",\"error\":" STR "}}}},\"example\":{\"ready\":false,\"machines\":["
     "{\"id\":\"rig\",\"connected\":true},{\"id\":\"watermaker\",\"connected\":false,\"error\":"
     "\"TCP connect to 192.168.0.20:502 failed: Connection refused\"}]}}"},
    {"Me",
     "{\"type\":\"object\",\"properties\":{\"user\":{\"type\":[\"string\",\"null\"]},\"role\":{"
     "\"enum\":[\"public\",\"viewer\",\"operator\",\"admin\"]}},\"example\":{\"user\":\"op\","
     "\"role\":\"operator\"}}"},
    {"Login",
     "{\"type\":\"object\",\"properties\":{\"user\":" STR ",\"role\":" STR ",\"expires_in_s\":"
     INT "},\"example\":{\"user\":\"op\",\"role\":\"operator\",\"expires_in_s\":43200}}"},
    {"SignedOut",
     "{\"type\":\"object\",\"properties\":{\"signed_out\":" BOOL "},\"example\":{\"signed_out\":"
     "true}}"},
};

/* ---------------------------------------------------------------- document */

static void add_error(json_t *responses, int status, const char *why)
{
    char code[8];
    snprintf(code, sizeof(code), "%d", status);
    json_t *prev = json_object_get(responses, code);
    if (prev) {
        /* two reasons for one status: both are told */
        const char *d = json_string_value(json_object_get(prev, "description"));
        char both[300];
        snprintf(both, sizeof(both), "%s; %s", d ? d : "", why);
        json_object_set_new(prev, "description", json_string(both));
        return;
    }
    json_object_set_new(responses, code, json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", why,
                                                   "content", "application/problem+json",
                                                   "schema", "$ref",
                                                   "#/components/schemas/Problem"));
}

static json_t *responses_of(const api_route *r)
{
    json_t *res = json_object();
    if (strcmp(r->response, "html") == 0) {
        json_object_set_new(res, "200", json_pack("{s:s, s:{s:{s:{s:s}}}}", "description",
                                                  "an HTML page", "content", "text/html",
                                                  "schema", "type", "string"));
    } else if (strcmp(r->response, "openapi") == 0) {
        json_object_set_new(res, "200", json_pack("{s:s, s:{s:{s:{s:s}}}}", "description",
                                                  "this document", "content",
                                                  "application/json", "schema", "type",
                                                  "object"));
    } else if (strcmp(r->response, "pdf") == 0 || strcmp(r->response, "xlsx") == 0 ||
               strcmp(r->response, "csv") == 0) {
        const char *type = r->response[0] == 'p' ? "application/pdf"
                           : r->response[0] == 'x'
                               ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                               : "text/csv";
        json_object_set_new(res, "200", json_pack("{s:s, s:{s:{s:{s:s, s:s}}}}", "description",
                                                  "a document, streamed as it is made",
                                                  "content", type, "schema", "type", "string",
                                                  "format", "binary"));
    } else {
        char ref[80];
        snprintf(ref, sizeof(ref), "#/components/schemas/%s", r->response);
        json_object_set_new(res, "200", json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", "OK",
                                                  "content", "application/json", "schema",
                                                  "$ref", ref));
    }
    if (r->role > GW_ROLE_PUBLIC) {
        add_error(res, 401, "no credentials, or ones that are not valid");
        add_error(res, 403, "the user's role is too small");
    }
    if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
        strcmp(r->method, "PATCH") == 0) {
        add_error(res, 400, "the body is not JSON, or nested more than 64 deep");
        add_error(res, 413, "the body is larger than 64 KiB");
        add_error(res, 415, "the body is not application/json");
        add_error(res, 422, r->request ? "a value is refused: unknown, read-only, of the wrong "
                                          "type or out of range"
                                        : "this route takes no parameters (send no body or {})");
    }
    if (r->errors & API_E_MACHINE) {
        add_error(res, 404, "no such machine, or not one of this kind");
        add_error(res, 503, "no values yet, or the engine does not run");
    }
    if (r->errors & API_E_WRITE) {
        add_error(res, 502, "the PLC refused the write");
        add_error(res, 503, "the PLC is disconnected or busy: nothing was written");
        add_error(res, 504, "no confirmation from the PLC in time");
    }
    if (r->errors & GW_APP_E_CONFLICT)
        add_error(res, 409, "the machine's state does not allow it: the detail names what is "
                  "missing");
    if (r->errors & GW_APP_E_NOT_FOUND)
        add_error(res, 404, "no such record");
    if (r->errors & GW_APP_E_INVALID)
        add_error(res, 422, "a query parameter is refused");
    if (r->errors & GW_APP_E_STORE)
        add_error(res, 503, "the gateway runs without a database");
    if (r->errors & API_E_LOGIN) {
        add_error(res, 401, "wrong name or password");
        add_error(res, 429, "too many failed logins from this address: Retry-After");
        add_error(res, 503, "this gateway runs without a user database");
    }
    return res;
}

static json_t *operation(const api_route *r)
{
    json_t *params = json_array();
    for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        bool machine = strncmp(p, "{id}", 4) == 0;
        json_array_append_new(params, json_pack("{s:s%, s:s, s:b, s:{s:s}, s:o}", "name", p + 1,
                                                (size_t)(close - p - 1), "in", "path", "required",
                                                1, "schema", "type", machine ? "string" : "integer",
                                                "example", !machine ? json_integer(1)
                                                : json_string(strstr(r->pattern, "/modbus/")
                                                                  ? "watermaker" : "rig")));
    }
    json_t *op = json_pack("{s:s, s:o, s:s, s:o}", "summary", r->summary, "parameters", params,
                           "x-plcgw-role", gw_role_name(r->role), "responses", responses_of(r));
    if (!op)
        return NULL;
    /* a role above public: a token or a session cookie (or, with
     * auth.loopback_viewer, nothing for viewer routes from this host) */
    if (r->role > GW_ROLE_PUBLIC)
        json_object_set_new(op, "security", json_pack("[{s:[]}, {s:[]}]", "bearer", "session"));
    if (r->query) {
        json_t *q = json_loads(r->query, 0, NULL);
        json_array_extend(params, q);
        json_decref(q);
    }
    if (r->request) {
        json_t *schema = json_loads(r->request, 0, NULL);
        json_object_set_new(op, "requestBody", json_pack("{s:b, s:{s:{s:o}}}", "required",
                                                         !(r->errors & GW_APP_BODY_OPTIONAL),
                                                         "content", "application/json",
                                                         "schema", schema ? schema
                                                                          : json_object()));
    }
    return op;
}

int api__get_openapi(const gw_app_http *http, api_req *req)
{
    json_t *paths = json_object();
    const api_route *r;
    for (size_t i = 0; paths && (r = api__route(i)) != NULL; i++) {
        if (strchr(r->pattern, '{') && strncmp(r->pattern, "/docs/", 6) == 0)
            continue; /* the page's own files */
        json_t *item = json_object_get(paths, r->pattern);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, r->pattern, item);
        }
        char method[8];
        size_t k = 0;
        for (; r->method[k] && k < sizeof(method) - 1; k++)
            method[k] = (char)(r->method[k] | 0x20);
        method[k] = '\0';
        json_t *prev = json_object_get(item, method);
        if (!prev) {
            json_object_set_new(item, method, operation(r));
            continue;
        }
        /* one path of two apps (GET /api/status): the machine's profile
         * decides which answers; both are told */
        char both[600];
        snprintf(both, sizeof(both), "%s; or, when the machine is a %s: %s",
                 json_string_value(json_object_get(prev, "summary")), api__route_profile(i),
                 r->summary);
        json_object_set_new(prev, "summary", json_string(both));
        json_t *ok = json_object_get(json_object_get(prev, "responses"), "200");
        json_t *schema = json_object_get(json_object_get(json_object_get(ok, "content"),
                                                         "application/json"), "schema");
        char ref[80];
        snprintf(ref, sizeof(ref), "#/components/schemas/%s", r->response);
        const char *first = json_string_value(json_object_get(schema, "$ref"));
        if (first) {
            json_t *one = json_pack("[{s:s}, {s:s}]", "$ref", first, "$ref", ref);
            json_object_del(schema, "$ref"); /* first is gone with it */
            json_object_set_new(schema, "oneOf", one);
        }
    }
    json_t *schemas = json_object();
    for (size_t i = 0; schemas && i < sizeof(components) / sizeof(components[0]); i++)
        json_object_set_new(schemas, components[i].name, json_loads(components[i].schema, 0,
                                                                    NULL));
    const gw_app *app;
    for (size_t k = 0; schemas && (app = gw_app_at(k)) != NULL; k++) {
        const gw_app_component *c;
        for (size_t i = 0; (c = app->component(i)) != NULL; i++)
            json_object_set_new(schemas, c->name, json_loads(c->schema, 0, NULL));
    }
    json_t *doc = json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:o, s:{s:o, s:{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}}}}",
        "openapi", "3.1.0", "info", "title", "plcgw", "version", GW_VERSION, "description",
        "PLC-controlled machines on the web: live values, commands and settings of the "
        "ring-stiffness rig, the watermaker, and any S7 or Modbus TCP machine by its tag map. "
        "Sign in with POST /api/auth/login (a session cookie) or send an API token (plcgw token "
        "create USER) with Authorize.",
        "paths", paths, "components", "schemas", schemas, "securitySchemes", "bearer", "type",
        "http", "scheme", "bearer", "description", "an API token: plcgw token create USER",
        "session", "type", "apiKey", "in", "cookie", "name", API_SESSION_COOKIE, "description",
        "the session of POST /api/auth/login");
    return api__send_json(req, 200, doc);
}

/* ---------------------------------------------------------------- Swagger UI */

static const char docs_page[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>plcgw API</title><link rel=\"stylesheet\" href=\"/docs/swagger-ui.css\">"
    "<link rel=\"icon\" type=\"image/png\" href=\"/docs/favicon-32x32.png\"></head><body>"
    "<div id=\"swagger-ui\"></div><script src=\"/docs/swagger-ui-bundle.js\"></script>"
    "<script src=\"/docs/init.js\"></script></body></html>";

int api__get_docs(const gw_app_http *http, api_req *req)
{
    return api__send_text(req, 200, "text/html; charset=utf-8", docs_page, sizeof(docs_page) - 1);
}

/* Does the client take gzip (Accept-Encoding, RFC 9110 section 12.5.3)? */
static bool takes_gzip(const char *accept)
{
    for (const char *p = accept; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        if (n >= 4 && strncasecmp(p, "gzip", 4) == 0 && (n == 4 || p[4] == ';' || p[4] == ' '))
            return !strstr(p, "q=0") || strstr(p, "q=0.");
        p += n;
    }
    return false;
}

int api__get_docs_asset(const gw_app_http *http, api_req *req)
{
    const api_asset *a = api__asset(req->params[0]);
    if (!a)
        return api__problem(req, 404, "Not Found", "no file %s", req->path);
    char etag[64];
    snprintf(etag, sizeof(etag), "\"plcgw-%s-%s\"", GW_VERSION, a->name);
    const char *inm = gw_http_req_header(req->hr, "If-None-Match");
    char lines[300];
    bool gz = a->gz && takes_gzip(gw_http_req_header(req->hr, "Accept-Encoding"));
    /* the same name carries the same bytes until plcgw is upgraded */
    int n = snprintf(lines, sizeof(lines), "Cache-Control: public, max-age=86400\r\nETag: %s\r\n"
                     "X-Content-Type-Options: nosniff\r\n%s", etag, a->gz ? "Vary: "
                     "Accept-Encoding\r\n" : "");
    if (inm && strcmp(inm, etag) == 0) {
        gw_http_respond(req->hr, 304, NULL, lines, NULL, 0);
        req->hr = NULL;
        return 304;
    }
    if (gz)
        snprintf(lines + n, sizeof(lines) - (size_t)n, "Content-Encoding: gzip\r\n");
    gw_http_respond(req->hr, 200, a->type, lines, gz ? a->gz : a->data,
                    (size_t)(gz ? a->gz_end - a->gz : a->data_end - a->data));
    req->hr = NULL;
    return 200;
}
