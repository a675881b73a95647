#define _GNU_SOURCE /* strcasestr */
/*
 * test_api.c - the HTTP API in-process on a free loopback port, driven by a
 * plain socket client: statuses, content types, problem documents, the
 * OpenAPI document generated from the route table.
 */
#include "api/api.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct {
    gw_config *cfg;
    gw_api *api;
    uint16_t port;
} fixture;

typedef struct {
    int status;
    char headers[2048];
    char *body;
} response;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    gw_diag d;
    if (gw_config_load(GW_SOURCE_DIR "/config/demo.json", &f->cfg, &d) != GW_OK) {
        gw_diag_print(&d, stderr);
        return -1;
    }
    /* / is the overview page here; the HMI's files are web_static's */
    f->cfg->web_root[0] = '\0';
    gw_api_opts opts = {f->cfg, NULL, "127.0.0.1", 0, 2, NULL, NULL, false};
    gw_error err;
    if (gw_api_start(&opts, &f->api, &err) != GW_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    f->port = gw_api_port(f->api);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gw_api_stop(f->api);
    gw_config_free(f->cfg);
    free(f);
    return 0;
}

/* Sends a raw request and reads the whole response (Connection: close). */
static response http(fixture *f, const char *raw)
{
    response r = {0, "", NULL};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(f->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(write(fd, raw, strlen(raw)), (ssize_t)strlen(raw));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (len + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    close(fd);
    buf[len] = '\0';
    assert_int_equal(sscanf(buf, "HTTP/1.1 %d", &r.status), 1);
    char *sep = strstr(buf, "\r\n\r\n");
    assert_non_null(sep);
    size_t hl = (size_t)(sep - buf);
    if (hl >= sizeof(r.headers))
        hl = sizeof(r.headers) - 1;
    memcpy(r.headers, buf, hl);
    r.headers[hl] = '\0';
    r.body = strdup(sep + 4);
    free(buf);
    return r;
}

static response get(fixture *f, const char *path)
{
    char req[512];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
             path);
    return http(f, req);
}

static json_t *body_json(const response *r)
{
    json_error_t e;
    json_t *j = json_loads(r->body, 0, &e);
    if (!j)
        fail_msg("body is not JSON (%s): %.200s", e.text, r->body);
    return j;
}

/* j's member at a path of keys ending in NULL; NULL when one is missing. */
static json_t *dig(json_t *j, ...)
{
    va_list ap;
    va_start(ap, j);
    for (const char *k; j && (k = va_arg(ap, const char *)) != NULL;)
        j = json_object_get(j, k);
    va_end(ap);
    return j;
}

static void test_health(void **state)
{
    response r = get(*state, "/api/health");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "Content-Type: application/json"));
    assert_non_null(strstr(r.headers, "X-Content-Type-Options: nosniff"));
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(j, "version")), GW_VERSION);
    assert_int_equal(json_integer_value(json_object_get(j, "machines")), 2);
    json_decref(j);
    free(r.body);
}

static void test_machines(void **state)
{
    response r = get(*state, "/api/machines");
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    assert_int_equal(json_array_size(j), 2);
    json_t *rig = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(rig, "id")), "rig");
    assert_string_equal(json_string_value(json_object_get(rig, "driver")), "s7");
    assert_true(json_is_true(json_object_get(rig, "default")));
    assert_int_equal(json_integer_value(json_object_get(rig, "tags")), 28);
    json_t *wm = json_array_get(j, 1);
    assert_string_equal(json_string_value(json_object_get(wm, "driver")), "modbus");
    assert_true(json_is_false(json_object_get(wm, "default")));
    json_decref(j);
    free(r.body);
}

static void test_machine_detail(void **state)
{
    response r = get(*state, "/api/machines/rig");
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    json_t *tags = json_object_get(j, "tag_map");
    assert_int_equal(json_array_size(tags), 28);
    /* DB3.DBX1.3 Lock_Upper, rw bool */
    bool found = false;
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) {
        if (strcmp(json_string_value(json_object_get(t, "parameter")), "Lock_Upper") == 0) {
            found = true;
            assert_string_equal(json_string_value(json_object_get(t, "address")), "DB3.DBX1.3");
            assert_string_equal(json_string_value(json_object_get(t, "function")), "bool");
            assert_string_equal(json_string_value(json_object_get(t, "access")), "rw");
        }
    }
    assert_true(found);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "scan"), "live")), 100);
    json_decref(j);
    free(r.body);
}

static void test_unknown_machine(void **state)
{
    response r = get(*state, "/api/machines/press-9");
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.headers, "Content-Type: application/problem+json"));
    json_t *j = body_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
    assert_non_null(strstr(json_string_value(json_object_get(j, "detail")), "press-9"));
    json_decref(j);
    free(r.body);
}

static void test_not_found_and_method(void **state)
{
    response r = get(*state, "/api/nothing/here");
    assert_int_equal(r.status, 404);
    free(r.body);
    r = http(*state, "DELETE /api/machines HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.headers, "Allow: GET"));
    free(r.body);
    /* a path parameter with characters outside [A-Za-z0-9._-] matches nothing */
    r = get(*state, "/api/machines/a%20b");
    assert_int_equal(r.status, 404);
    free(r.body);
}

static void test_tags_need_the_engine(void **state)
{
    /* this fixture runs the API without an engine: no live values */
    response r = get(*state, "/api/machines/rig/tags");
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.headers, "application/problem+json"));
    free(r.body);
    r = get(*state, "/api/machines/nope/tags");
    assert_int_equal(r.status, 404);
    free(r.body);
}

static void test_body_too_large(void **state)
{
    response r = http(*state, "GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                              "Content-Length: 10000000\r\n\r\n");
    assert_int_equal(r.status, 413);
    free(r.body);
}

static void test_head(void **state)
{
    response r = http(*state, "HEAD /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "");
    assert_non_null(strstr(r.headers, "Content-Length: "));
    free(r.body);
}

static void test_openapi(void **state)
{
    response r = get(*state, "/openapi.json");
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "openapi")), "3.1.0");
    json_t *paths = json_object_get(j, "paths");
    json_t *op = json_object_get(json_object_get(paths, "/api/machines/{id}"), "get");
    assert_non_null(op);
    json_t *param = json_array_get(json_object_get(op, "parameters"), 0);
    assert_string_equal(json_string_value(json_object_get(param, "name")), "id");
    assert_string_equal(json_string_value(json_object_get(param, "in")), "path");
    json_t *health = json_object_get(json_object_get(paths, "/api/health"), "get");
    assert_non_null(health);
    /* who may call what: public routes need nothing, others a token or a session */
    assert_null(json_object_get(health, "security"));
    json_t *stop = json_object_get(json_object_get(paths, "/api/command/stop"), "post");
    assert_string_equal(json_string_value(json_object_get(stop, "x-plcgw-role")), "operator");
    assert_int_equal(json_array_size(json_object_get(stop, "security")), 2);
    /* request bodies: every route that takes one declares its schema */
    json_t *schema = dig(paths, "/api/machines/{id}/tags", "put", "requestBody", "content",
                         "application/json", "schema", NULL);
    assert_string_equal(json_string_value(json_object_get(schema, "type")), "object");
    assert_non_null(json_object_get(schema, "additionalProperties"));
    const char *with_body[][2] = {
        {"/api/parameters", "post"}, {"/api/machines/{id}/jog/speed", "post"},
        {"/api/auth/login", "post"}, {"/modbus/write/{id}", "put"},
    };
    for (size_t i = 0; i < sizeof(with_body) / sizeof(with_body[0]); i++) {
        schema = dig(paths, with_body[i][0], with_body[i][1], "requestBody", "content",
                     "application/json", "schema", NULL);
        /* a schema text that did not parse would show as {} */
        if (!json_is_string(json_object_get(schema, "type")))
            fail_msg("%s %s: no request schema", with_body[i][1], with_body[i][0]);
    }
    assert_non_null(dig(paths, "/api/parameters", "post", "requestBody", "content",
                        "application/json", "schema", "properties", "deflection_pct", NULL));
    assert_null(dig(paths, "/api/command/stop", "post", "requestBody", NULL));
    /* every answer is described: the errors each route really gives, with
     * the problem schema, and a typed 200 with an example */
    const char *want[] = {"200", "400", "401", "403", "404", "413", "415", "422", "502", "503",
                          "504"};
    json_t *responses = json_object_get(stop, "responses");
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_non_null(json_object_get(responses, want[i]));
    assert_string_equal(json_string_value(dig(responses, "422", "content",
                                              "application/problem+json", "schema", "$ref",
                                              NULL)), "#/components/schemas/Problem");
    assert_string_equal(json_string_value(dig(responses, "200", "content", "application/json",
                                              "schema", "$ref", NULL)),
                        "#/components/schemas/Written");
    assert_null(json_object_get(json_object_get(health, "responses"), "401"));
    json_t *comps = dig(j, "components", "schemas", NULL);
    const char *name;
    json_t *c;
    json_object_foreach(comps, name, c) {
        if (!json_object_get(c, "example"))
            fail_msg("schema %s has no example", name);
    }
    /* only what may be written: Test_Speed is the PLC's */
    assert_null(dig(paths, "/api/parameters", "post", "requestBody", "content",
                    "application/json", "schema", "properties", "test_speed", NULL));
    assert_non_null(dig(paths, "/api/ready", "get", NULL));
    /* no internal vocabulary in what users read */
    char *text = json_dumps(j, 0);
    assert_null(strcasestr(text, "seed"));
    free(text);
    json_t *schemes = json_object_get(json_object_get(j, "components"), "securitySchemes");
    assert_string_equal(json_string_value(json_object_get(json_object_get(schemes, "bearer"),
                                                          "scheme")), "bearer");
    assert_string_equal(json_string_value(json_object_get(json_object_get(schemes, "session"),
                                                          "name")), "plcgw_session");
    json_decref(j);
    free(r.body);
}

static void test_pages(void **state)
{
    /* Swagger UI, from the binary: no file or network beside it */
    response r = get(*state, "/docs");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "text/html"));
    assert_non_null(strstr(r.body, "/docs/swagger-ui-bundle.js"));
    assert_null(strstr(r.body, "http"));
    free(r.body);
    r = get(*state, "/docs/swagger-ui-bundle.js");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "Content-Type: text/javascript"));
    assert_non_null(strstr(r.headers, "Cache-Control: public, max-age=86400"));
    assert_null(strstr(r.headers, "Content-Encoding"));
    assert_true(strlen(r.body) > 1000000);
    free(r.body);
    r = http(*state, "GET /docs/swagger-ui-bundle.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: "
                     "gzip, deflate\r\nConnection: close\r\n\r\n");
    assert_non_null(strstr(r.headers, "Content-Encoding: gzip"));
    assert_non_null(strstr(r.headers, "Vary: Accept-Encoding"));
    assert_memory_equal(r.body, "\x1f\x8b", 2);
    free(r.body);
    r = http(*state, "GET /docs/swagger-ui.css HTTP/1.1\r\nHost: x\r\nIf-None-Match: "
                     "\"plcgw-" GW_VERSION "-swagger-ui.css\"\r\nConnection: close\r\n\r\n");
    assert_int_equal(r.status, 304);
    free(r.body);
    r = get(*state, "/docs/init.js");
    assert_non_null(strstr(r.body, "/openapi.json"));
    free(r.body);
    r = get(*state, "/docs/nothing.js");
    assert_int_equal(r.status, 404);
    free(r.body);
    r = get(*state, "/");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "GRP pipe ring-stiffness rig"));
    assert_non_null(strstr(r.body, "DB3.DBX1.3"));
    assert_null(strstr(r.body, "<script"));
    free(r.body);
}

static void test_listen_conflict(void **state)
{
    fixture *f = *state;
    gw_api_opts opts = {f->cfg, NULL, "127.0.0.1", f->port, 1, NULL, NULL, false};
    gw_api *second = NULL;
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_api_start(&opts, &second, &err), GW_E_IO);
    assert_null(second);
    assert_non_null(strstr(err.msg, "cannot listen on 127.0.0.1:"));
}

static void test_cors(void **state)
{
    fixture *f = *state;
    snprintf(f->cfg->cors_origins[0], sizeof(f->cfg->cors_origins[0]), "http://10.0.0.5:3000");
    f->cfg->ncors_origins = 1;
    char raw[512];
    /* preflight from the allowed origin: its methods, its origin named */
    response r = http(f, "OPTIONS /api/command/stop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         "Origin: http://10.0.0.5:3000\r\n"
                         "Access-Control-Request-Method: POST\r\n\r\n");
    assert_int_equal(r.status, 204);
    assert_non_null(strstr(r.headers, "Access-Control-Allow-Origin: http://10.0.0.5:3000\r\n"));
    assert_non_null(strstr(r.headers, "Access-Control-Allow-Methods: POST\r\n"));
    free(r.body);
    /* from any other origin: no CORS headers at all (no "*") */
    r = http(f, "OPTIONS /api/command/stop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                "Origin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\n\r\n");
    assert_int_equal(r.status, 204);
    assert_null(strstr(r.headers, "Access-Control-Allow-Origin"));
    free(r.body);
    /* a command from a foreign page is refused before anything runs */
    r = http(f, "POST /api/command/start HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                "Origin: http://evil.example\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "http://evil.example is refused"));
    free(r.body);
    /* our own pages and the allowed origin get past the origin check to
     * authorization (401: this fixture has no user database) */
    snprintf(raw, sizeof(raw), "POST /api/command/start HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
             "Connection: close\r\nOrigin: http://127.0.0.1:%u\r\nContent-Length: 0\r\n\r\n",
             f->port, f->port);
    r = http(f, raw);
    assert_int_equal(r.status, 401);
    free(r.body);
    r = http(f, "POST /api/command/start HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                "Origin: http://10.0.0.5:3000\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.headers, "Access-Control-Allow-Origin: http://10.0.0.5:3000\r\n"));
    free(r.body);
    /* reads from a foreign origin are answered, without CORS headers, so
     * its scripts cannot see them */
    r = http(f, "GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                "Origin: http://evil.example\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.headers, "Access-Control-Allow-Origin"));
    free(r.body);
    f->cfg->ncors_origins = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health),       cmocka_unit_test(test_machines),
        cmocka_unit_test(test_machine_detail), cmocka_unit_test(test_unknown_machine),
        cmocka_unit_test(test_not_found_and_method), cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_tags_need_the_engine),
        cmocka_unit_test(test_head),         cmocka_unit_test(test_openapi),
        cmocka_unit_test(test_pages),        cmocka_unit_test(test_listen_conflict),
        cmocka_unit_test(test_cors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
