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
} gw_app_http;

/* The errors a route's kind answers, besides those of its role and its
 * method (the OpenAPI document lists them). */
#define GW_APP_E_MACHINE 1u  /* 404 no such machine, 503 no values */
#define GW_APP_E_WRITE 2u    /* 502 refused, 503 disconnected, 504 no confirmation */
#define GW_APP_E_LOGIN 4u    /* 401 wrong password, 429 too many, 503 no user database */

typedef int (*gw_app_handler)(const gw_app_http *http, gw_app_req *r);

typedef struct {
    const char *method;
    const char *pattern;    /* "/api/machines/{id}/status" */
    gw_role role;
    const char *summary;
    const char *response;   /* the 200 body: a component's name, "html" or "openapi" */
    gw_app_handler handler;
    const char *request;    /* JSON Schema of the body (a JSON text), NULL: none */
    unsigned errors;        /* GW_APP_E_* */
} gw_app_route;

/* A schema of the OpenAPI document's components, with an example. */
typedef struct {
    const char *name;
    const char *schema;     /* JSON text */
} gw_app_component;

/* An event for the live channel's clients: name and payload (taken). */
typedef void (*gw_app_emit)(void *ud, const char *event, json_t *payload);

typedef struct {
    const char *profile;    /* the machine config's "profile" */
    const gw_app_route *routes;
    size_t nroutes;
    const gw_app_component *components;
    size_t ncomponents;
    /* The machine's live values (live_data, its status route): an object
     * of the app's members; the caller adds machine, connected, ts, age_ms.
     * NULL: the generic {tags: {name: value}}. */
    json_t *(*live)(const gw_machine_cfg *m, const gw_snapshot *s);
    /* Events of a change (on the machine's thread). NULL: none. */
    void (*on_change)(const gw_machine_cfg *m, const gw_change *c, gw_app_emit emit, void *ud);
    /* Hold-to-run tags: forward and backward (NULL: no jog). */
    const char *jog[2];
} gw_app;

/* The app of a profile; NULL for a machine without one (generic). */
const gw_app *gw_app_find(const char *profile);
/* Every app, for mounting routes: NULL past the end. */
const gw_app *gw_app_at(size_t i);

/* Common to api/ and the apps: a snapshot's connection, time and age
 * added to a body (connected, ts, age_ms). */
void gw_app_stamp(json_t *o, const gw_snapshot *s);

#endif
