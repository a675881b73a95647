/*
 * app.h - a machine profile's workflow ("an app"), as api/ mounts it.
 *
 * An app hands api/ its routes (with their OpenAPI schemas), its live
 * view (the body of live_data and of its status), the events it makes of
 * the machine's changes, and its hold-to-run tags. api/ knows no profile:
 * it serves every app's routes and asks the app of a machine for the rest.
 *
 * Apps sit below api/ (DESIGN.md: api -> apps -> engine), so a handler
 * does its HTTP work through the table of functions api/ passes it
 * (gw_app_http), on a request it cannot look into (gw_app_req).
 *
 * Threads: handlers run on the HTTP workers; live and on_change on the
 * live channel's ticker and the machine's thread. Apps keep no state
 * between calls here (a workflow's own state is its business, behind its
 * own lock).
 */
#ifndef GW_APP_H
#define GW_APP_H

#include "engine/engine.h"
#include "store/store.h"

#include <jansson.h>

typedef struct gw_app_req gw_app_req;
typedef struct gw_app_stream gw_app_stream;

/* What api/ does for a handler. Every function that answers returns the
 * HTTP status it sent; a handler answers its request exactly once. */
typedef struct {
    /* The machine of the route ({id}, or the default machine) with the
     * engine running; NULL after answering 404 or 503. */
    const gw_machine_cfg *(*machine)(gw_app_req *r, int *status);
    gw_engine *(*engine)(gw_app_req *r);
    const char *(*path)(const gw_app_req *r);
    /* The body as a JSON object; NULL after answering 400, 415. */
    json_t *(*body)(gw_app_req *r, int *status);
    int (*json)(gw_app_req *r, int status, json_t *body /* taken */);
    int (*problem)(gw_app_req *r, int status, const char *title, const char *detail);
    /* Checks {tag: value} pairs (422 naming the first bad one), writes them
     * through the engine, audits, and answers once the PLC confirmed them
     * (200 Written; 503, 504, 502); release and hold_ms as api/'s. */
    int (*write)(gw_app_req *r, const gw_machine_cfg *m, json_t *pairs, json_t *release,
                 uint32_t hold_ms, bool urgent);
    /* Does the request carry a body (for a route whose body is optional)? */
    bool (*has_body)(const gw_app_req *r);
    /* The route's own path parameter ({test_id} of .../tests/{test_id});
     * NULL when it has none. */
    const char *(*arg)(const gw_app_req *r);
    /* A query parameter, decoded: 1 found, 0 absent, -1 too long, -2 bad. */
    int (*query)(const gw_app_req *r, const char *name, char *out, size_t size);
    /* Who is asking (user_id 0: anonymous). */
    const gw_principal *(*who)(const gw_app_req *r);
    /* The gateway's database; NULL after answering 503 (none). */
    gw_store *(*store)(gw_app_req *r, int *status);
    const gw_config *(*config)(gw_app_req *r);
    /* The workflow the app started for machine m (gw_app.start), or NULL. */
    void *(*state)(gw_app_req *r, const gw_machine_cfg *m);
    /* A line of the audit log for this request (action: its path). */
    void (*audit)(gw_app_req *r, const char *machine, const char *values, const char *result);
    /* A response made as it goes (gw_http_stream_*): begin (NULL: the
     * client has gone; nothing to end), write (false: stop, the client
     * has gone), end (returns the status sent). */
    gw_app_stream *(*stream_begin)(gw_app_req *r, int status, const char *type,
                                   const char *headers);
    bool (*stream_write)(gw_app_stream *s, const void *data, size_t len);
    int (*stream_end)(gw_app_stream *s);
} gw_app_http;

/* The errors a route's kind answers, besides those of its role and its
 * method (the OpenAPI document lists them). */
#define GW_APP_E_MACHINE 1u  /* 404 no such machine, 503 no values */
#define GW_APP_E_WRITE 2u    /* 502 refused, 503 disconnected, 504 no confirmation */
#define GW_APP_E_LOGIN 4u    /* 401 wrong password, 429 too many, 503 no user database */
#define GW_APP_E_CONFLICT 8u /* 409 the machine's state does not allow it */
#define GW_APP_E_NOT_FOUND 16u /* 404 no such record */
#define GW_APP_E_STORE 32u   /* 503 no database */
#define GW_APP_E_INVALID 64u /* 422 a bad parameter */
#define GW_APP_BODY_OPTIONAL 128u /* the body (request) may be left out */

typedef int (*gw_app_handler)(const gw_app_http *http, gw_app_req *r);

typedef struct {
    const char *method;
    const char *pattern;    /* "/api/machines/{id}/status" */
    gw_role role;
    const char *summary;
    const char *response;   /* the 200 body: a component's name, "html", "openapi",
                               "pdf", "xlsx" or "csv" */
    gw_app_handler handler;
    const char *request;    /* JSON Schema of the body (a JSON text), NULL: none */
    unsigned errors;        /* GW_APP_E_* */
    const char *query;      /* its query parameters: an OpenAPI parameter array (JSON
                               text), NULL: none */
} gw_app_route;

/* A schema of the OpenAPI document's components, with an example. */
typedef struct {
    const char *name;
    const char *schema;     /* JSON text */
} gw_app_component;

/* An event for the live channel's clients: name and payload (taken).
 * Any thread. */
typedef void (*gw_app_emit)(void *ud, const char *event, json_t *payload);

/* What a workflow gets from the gateway (borrowed; outlives it). */
typedef struct {
    const gw_config *config;
    gw_engine *engine;
    gw_store *store;          /* NULL: no database (nothing is recorded) */
    gw_log *log;
    gw_app_emit emit;
    void *emit_ud;
} gw_app_env;

typedef struct {
    const char *profile;    /* the machine config's "profile" */
    /* Its routes and OpenAPI components by index; NULL past the end. */
    const gw_app_route *(*route)(size_t i);
    const gw_app_component *(*component)(size_t i);
    /* The machine's live values (live_data, its status route): an object
     * of the app's members; the caller adds machine, connected, ts, age_ms.
     * NULL: the generic {tags: {name: value}}. */
    json_t *(*live)(const gw_machine_cfg *m, const gw_snapshot *s);
    /* Events of a change (on the machine's thread). NULL: none. */
    void (*on_change)(const gw_machine_cfg *m, const gw_change *c, gw_app_emit emit, void *ud);
    /* Hold-to-run tags: forward and backward (NULL: no jog). */
    const char *jog[2];
    /* Checks the machine's "app" settings (m->app, NULL when absent) into
     * d (file:line:column). NULL: the profile takes none. */
    bool (*check)(const gw_machine_cfg *m, gw_diag *d);
    /* The app's workflow for machine m, subscribed to the engine's
     * changes: started before the engine, stopped after it. NULL: none. */
    void *(*start)(const gw_app_env *env, const gw_machine_cfg *m, gw_error *err);
    void (*stop)(void *state);
} gw_app;

/* The app of a profile; NULL for a machine without one (generic). */
const gw_app *gw_app_find(const char *profile);
/* Every app, for mounting routes: NULL past the end. */
const gw_app *gw_app_at(size_t i);

/* Checks every machine's "app" settings with its profile's app (an
 * "app" section for a profile that takes none is an error). */
bool gw_apps_check(const gw_config *cfg, gw_diag *d);

/* The machine's newest snapshot (release it); NULL, with 503 answered,
 * before the first. */
const gw_snapshot *gw_app_snapshot(const gw_app_http *http, gw_app_req *r,
                                   const gw_machine_cfg *m, int *status);

/* Common to api/ and the apps: a snapshot's connection, time and age
 * added to a body (connected, ts, age_ms). */
void gw_app_stamp(json_t *o, const gw_snapshot *s);

#endif
