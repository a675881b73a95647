/*
 * api_internal.h - shared by the files of the api module.
 */
#ifndef GW_API_INTERNAL_H
#define GW_API_INTERNAL_H

#include "api.h"
#include "apps/app.h"
#include "store/store.h"

#include "http/http.h"
#include <jansson.h>
#include <pthread.h>

/* Login attempts per address: at most API_LOGIN_FAILS failures within
 * API_LOGIN_WINDOW_MS, then 429 until the window has passed. */
#define API_LOGIN_FAILS 5
#define API_LOGIN_WINDOW_MS 60000
#define API_LOGIN_SLOTS 64
#define API_SESSION_TTL_S (12u * 3600u)


/* Largest request body accepted; larger ones get 413. */
#define API_MAX_BODY (64u * 1024u)

typedef struct sio_hub sio_hub;

struct gw_api {
    gw_http *http;
    sio_hub *sio;
    bool closed;                /* gw_api_close has run */
    const gw_config *config;
    gw_engine *engine;
    gw_store *store;
    gw_log *log;
    uint16_t port;
    int64_t started_ms;
    void *app_state[GW_MAX_MACHINES]; /* each machine's workflow (gw_app.start) */
    char web_root[4096];         /* the HMI's folder (real path), "" none */
    pthread_mutex_t login_lock;
    struct {
        char addr[48];
        int64_t since_ms;  /* start of the window */
        int fails;
    } logins[API_LOGIN_SLOTS];
};

/* One request as a handler sees it: path parameters already extracted.
 * (An app's handler sees it as the opaque gw_app_req.) */
struct gw_app_req {
    gw_http_req *hr;
    gw_api *api;
    const char *method;
    const char *path;
    const char *pattern; /* of the route matched */
    char remote[48];     /* the client's address */
    char params[2][64];  /* {id}-style path parameters in order */
    char cors[256];      /* CORS header lines for an allowed origin, or "" */
    gw_principal who;    /* who is asking (user_id 0: anonymous) */
    char headers[256];   /* more header lines for the answer (Set-Cookie) */
};
typedef struct gw_app_req api_req;

/* Routes: api/'s own and the apps' have one shape (apps/app.h). */
typedef gw_app_route api_route;
#define API_E_MACHINE GW_APP_E_MACHINE
#define API_E_WRITE GW_APP_E_WRITE
#define API_E_LOGIN GW_APP_E_LOGIN

/* Request bodies shared by several routes (JSON Schema texts). */
#define API_SCHEMA_TAG_WRITES                                                              \
    "{\"type\":\"object\",\"minProperties\":1,\"description\":\"tag name (parameter) "     \
    "to value; every value is checked against the tag map before anything is written\","  \
    "\"additionalProperties\":{\"type\":[\"number\",\"boolean\",\"string\",\"array\"]}}"

/* The route table (routes.c), the universal Modbus API (modbus_routes.c). */
extern const api_route api__routes[];
extern const size_t api__nroutes;
extern const api_route api__modbus_routes[];
extern const size_t api__nmodbus_routes;
/* What api/ does for a handler (http.c). */
extern const gw_app_http api__http;
/* Checks {tag: value} pairs (422 naming the first bad one), writes them
 * through the engine and answers once the PLC confirmed them: 200
 * {machine, written}, 503 disconnected or busy, 504 timeout, 502 refused.
 * With release, each tag is written back to its release value hold_ms
 * after the confirmation; urgent goes ahead of everything queued. */
int api__write_tags(api_req *req, const gw_machine_cfg *m, json_t *pairs, json_t *release,
                    uint32_t hold_ms, bool urgent);
#define API_SESSION_COOKIE "plcgw_session"
/* The session id from the request's cookie; false when there is none. */
bool api__session_id(api_req *req, char id[GW_TOKEN_LEN + 2]);

/* What a request or a Socket.IO connect carries (auth.c). Any may be NULL. */
typedef struct {
    const char *authorization; /* the Authorization header */
    const char *cookies;       /* the Cookie header */
    const char *token;         /* a token given otherwise (Socket.IO's auth) */
    const char *remote_addr;
} api_credentials;

typedef enum {
    API_CRED_NONE,        /* anonymous */
    API_CRED_LOOPBACK,    /* anonymous viewer on this host (auth.loopback_viewer) */
    API_CRED_TOKEN,       /* a valid API token */
    API_CRED_SESSION,     /* a valid session cookie */
    API_CRED_BAD_TOKEN,   /* a token (or another scheme) that is not valid: err says why */
    API_CRED_BAD_SESSION, /* a session cookie that ended or expired: err says why */
} api_cred;

/* Who is asking: *who is the token's or the session's user, a viewer for
 * API_CRED_LOOPBACK, else anonymous (GW_ROLE_PUBLIC). A token wins over a
 * cookie; a store of NULL knows no one. */
api_cred api__identify(gw_store *store, const gw_config *cfg, const api_credentials *c,
                       gw_principal *who, gw_error *err);
bool api__is_loopback(const char *addr);
/* The request's body ({tag: value}) written with api__write_tags. */
int api__write_body(api_req *req, const gw_machine_cfg *m);
/* The machine a route is for (its {id}, or the default machine for the
 * top-level paths) with the engine running; NULL with 404 or 503 answered. */
const gw_machine_cfg *api__engine_machine(api_req *req, int *status);
/* A file served from the binary (assets.c): its bytes, and gzip-compressed
 * (gz NULL: only as it is). */
typedef struct {
    const char *name;
    const char *type;
    const char *data, *data_end;
    const char *gz, *gz_end;
} api_asset;
const api_asset *api__asset(const char *name);

/* The OpenAPI document, Swagger UI's page and its files (openapi.c). */
int api__get_openapi(const gw_app_http *http, api_req *req);
int api__get_docs(const gw_app_http *http, api_req *req);
int api__get_docs_asset(const gw_app_http *http, api_req *req);

/* Route i of api/'s tables and then the apps', NULL past the end. */
const api_route *api__route(size_t i);
/* The HMI's files (web.c): init checks the configured folder (a warning
 * when it has no index.html); api__web answers a GET of a file or of the
 * app's own route, 0 when it is none of them. */
void api__web_init(gw_api *api, const char *configured);
int api__web(api_req *req);
/* The profile of the app that route i belongs to; NULL for api/'s own. */
const char *api__route_profile(size_t i);

/* Responses (http.c). Each returns the HTTP status it sent. */
int api__send_json(api_req *req, int status, json_t *body /* taken */);
int api__send_text(api_req *req, int status, const char *type, const char *body, size_t len);
int api__problem(api_req *req, int status, const char *title, const char *fmt, ...)
    GW_PRINTF(4, 5);
/* Reads the request body as a JSON object. On failure it has answered
 * (400, 413) and returns NULL with *status set. */
json_t *api__read_json(api_req *req, int *status);

/* A machine's live values as the live_data event and GET /api/status
 * carry them: the seed's names for the rig, {tags: {name: value}} for
 * others, with machine, connected, ts and age_ms. */
json_t *api__live_json(const gw_machine_cfg *m, const gw_snapshot *s);

/* The live channel (sio.c): Socket.IO at /socket.io/ (and in the
 * protocol-test mode, the bare Engine.IO endpoint /engine.io/). */
typedef struct {
    bool protocol_test;
    uint32_t live_interval_ms, jog_release_ms, max_clients;
    uint32_t ping_interval_ms, ping_timeout_ms;
    uint32_t connect_timeout_ms;       /* a session's CONNECT, from its handshake */
    uint32_t max_pending_per_address;  /* sessions not yet connected, per address */
} sio_opts;

gw_err sio_hub_new(gw_api *api, const sio_opts *o, sio_hub **out, gw_error *err);
/* Is path one of its endpoints; answer a request to it (polling, or a
 * WebSocket handshake): now, or later when a poll is parked. */
bool sio_hub_path(const sio_hub *h, const char *path);
void sio_hub_http(sio_hub *h, gw_http_req *r, const char *path, const char *cors);
/* CORS "*" and no origin checks (the protocol-test mode). */
bool sio_hub_cors_any(const sio_hub *h);
void sio_hub_stats(sio_hub *h, unsigned *clients, unsigned long long *ticks,
                   unsigned long long *frames);
/* Before the HTTP server stops: parked polls are answered. */
void sio_hub_drain(sio_hub *h);
/* After the HTTP server, while the engine runs: the ticker stops, every
 * client is closed (a jog is released). The engine may call on_change
 * until freed. */
void sio_hub_close(sio_hub *h);
/* After the engine: frees (closing first if it was not). */
void sio_hub_free(sio_hub *h);
/* An app's event to every client on "/" (gw_app_emit; ud the hub). Any
 * thread; after close, to no one. */
void sio_hub_emit(void *ud, const char *event, json_t *payload);

#endif
