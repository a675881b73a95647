/*
 * api.h - the gateway's HTTP surface, on the http module.
 *
 * Routes come from one table (method, path pattern, role, summary,
 * handler); the OpenAPI document at /openapi.json and the page at /docs
 * are generated from it, so they cannot drift from what is served.
 * Errors are RFC 9457 application/problem+json.
 *
 * Threads: the http module runs handlers on its worker threads; handlers only
 * read the configuration (immutable) and never touch a PLC.
 */
#ifndef GW_API_H
#define GW_API_H

#include "engine/engine.h"

typedef struct gw_api gw_api;

typedef struct {
    const gw_config *config;   /* borrowed; must outlive the api */
    gw_log *log;               /* borrowed */
    const char *listen_host;   /* when not NULL, overrides the config's address */
    uint16_t listen_port;      /* with listen_host; 0 = any free port */
    unsigned threads;          /* worker threads, 0 = the config's http.workers */
    gw_engine *engine;         /* borrowed; NULL: no live values (503) */
    struct gw_store *store;    /* borrowed; users, tokens, audit. NULL: only
                                  anonymous requests (and no audit) */
    bool protocol_test;        /* Socket.IO as the protocol suites' reference
                                  server (plcgw serve --protocol-test) */
} gw_api_opts;

/* Starts listening; returns GW_E_IO with a message when the address is in
 * use or cannot be bound. Start it before the engine: the live channel
 * subscribes to the engine's change events, which must be done first. */
gw_err gw_api_start(const gw_api_opts *opts, gw_api **out, gw_error *err);
/* Stops serving: parked polls are answered, the server stops, every live
 * client is closed (a held jog is released through the engine, which must
 * still run). Then stop the engine, then gw_api_stop. */
void gw_api_close(gw_api *api);
/* Closes (if not yet) and frees. NULL is a no-op. */
void gw_api_stop(gw_api *api);
/* The port actually bound (useful with port 0 in tests). */
uint16_t gw_api_port(const gw_api *api);

#endif
