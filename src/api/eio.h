/*
 * eio.h - an Engine.IO v4 server on civetweb: HTTP long-polling with the
 * upgrade to WebSocket, WebSocket-only sessions, and the server's
 * heartbeat (socketio/engine.io-protocol, v4).
 *
 * Threads: civetweb's workers run the polling requests and read the
 * WebSockets; a few writer threads of ours drain the sessions' queues to
 * their WebSockets, so that one slow client holds up no other; a heartbeat
 * thread sends pings, and closes sessions whose pong or deadline is late.
 * Callbacks run on any of these threads, never with a lock of ours held.
 */
#ifndef GW_EIO_H
#define GW_EIO_H

#include "core/core.h"

#include <civetweb.h>
#include <stdatomic.h>

typedef struct eio_server eio_server;
typedef struct eio_session eio_session;

/* One packet to send, shared by every session it goes to: a text packet
 * with its Engine.IO type first ("4..." a message, "2" a ping), or a
 * binary message. Reference-counted; immutable once made. */
typedef struct {
    atomic_int refs;
    bool binary;
    size_t len;
    char data[];
} eio_frame;

eio_frame *eio_frame_new(bool binary, const char *data, size_t len);
/* A text message ("4" + text), the usual frame. */
eio_frame *eio_frame_message(const char *text, size_t len);
eio_frame *eio_frame_retain(eio_frame *f);
void eio_frame_release(eio_frame *f);

typedef struct {
    uint32_t ping_interval_ms;   /* 25000 */
    uint32_t ping_timeout_ms;    /* 20000 */
    uint32_t max_payload;        /* bytes per HTTP body or WebSocket message */
    unsigned max_sessions;
    unsigned writers;            /* writer threads; 0: 2 */
    bool cors_any;               /* Access-Control-Allow-Origin: * (protocol tests) */
    void *ud;
    /* a new session (before its first packet) */
    void (*on_open)(void *ud, eio_session *s);
    /* a message; data is valid for the call only */
    void (*on_message)(void *ud, eio_session *s, const char *data, size_t len, bool binary);
    /* the session ended (once); after it returns, s is no longer used */
    void (*on_close)(void *ud, eio_session *s, const char *reason);
    /* may this WebSocket handshake go on (its Origin)? NULL: yes */
    bool (*allow_ws)(void *ud, const struct mg_connection *conn);
    gw_log *log;
} eio_opts;

gw_err eio_server_new(const eio_opts *opts, eio_server **out, gw_error *err);
/* Serves the endpoint `path` ("/socket.io/") of ctx: its WebSocket
 * handlers are set here; polling requests come through eio_handle_http. */
void eio_server_attach(eio_server *srv, struct mg_context *ctx, const char *path);
/* Stopping: polls waiting for packets return now, new ones at once, so
 * that civetweb's workers can end (before mg_stop). */
void eio_server_drain(eio_server *srv);
/* Closes every session now (on_close for each). */
void eio_server_close_all(eio_server *srv);
/* Closes every session (on_close for each) and stops the threads. */
void eio_server_free(eio_server *srv);

/* A polling request (GET or POST) to the endpoint, or OPTIONS. Returns
 * the HTTP status it answered. cors: header lines to add, or "". */
int eio_handle_http(eio_server *srv, struct mg_connection *conn, const char *cors);

/* Queues a frame (a new reference is taken). slot -1: in order, after
 * what is queued; slot 0..EIO_SLOTS-1: the frame replaces the one in that
 * slot while it is not yet sent (live data: a slow client gets the newest,
 * not a backlog); slots go out after the queue. False when the session is
 * closed or its queue is full (the heartbeat then closes it). */
#define EIO_SLOTS 4
bool eio_send(eio_session *s, eio_frame *f, int slot);
/* Ends a session: a close packet to the client, on_close. */
void eio_close(eio_session *s, const char *reason);
/* Closes the session at mono_ms unless cleared with 0 (Socket.IO's
 * connect timeout). */
void eio_set_deadline(eio_session *s, uint64_t mono_ms);

/* Splits an HTTP long-polling body into its packets ("\x1e" between
 * them) and calls fn with each, a "b<base64>" one decoded as binary.
 * Stops at fn's false or a packet that does not decode; false then. */
bool eio_payload_each(const char *body, size_t len,
                      bool (*fn)(void *ud, const char *p, size_t n, bool binary), void *ud);

/* What the session's handshake request carried, for authentication. */
const char *eio_sid(const eio_session *s);
const char *eio_remote_addr(const eio_session *s);
const char *eio_cookies(const eio_session *s);
void *eio_user(const eio_session *s);
void eio_set_user(eio_session *s, void *user);
/* Sessions open now. */
unsigned eio_count(eio_server *srv);

#endif
