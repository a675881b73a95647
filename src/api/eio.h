/*
 * eio.h - an Engine.IO v4 server on the http module: HTTP long-polling
 * with the upgrade to WebSocket, WebSocket-only sessions, and the
 * server's heartbeat (socketio/engine.io-protocol, v4).
 *
 * Nothing here holds a thread while it waits: a long poll with nothing to
 * send is parked and answered when a packet comes, its time is up, or the
 * session ends; WebSocket frames go out through the http module's
 * connection queues from the thread that sends them. One heartbeat thread
 * sends pings, closes sessions whose pong or deadline is late, and ends
 * parked polls on time.
 *
 * Limits: max_sessions at once, counted and taken in one step; a session
 * the application has not accepted yet (its deadline set, see
 * eio_set_deadline) is "pending", and one address holds at most
 * max_pending_per_address of them: another handshake from it closes its
 * oldest, so that a flood of handshakes only ever displaces its own.
 *
 * Callbacks run on the http workers or the heartbeat thread, never with a
 * lock of ours held; those of one session one at a time.
 */
#ifndef GW_EIO_H
#define GW_EIO_H

#include "core/core.h"
#include "http/http.h"

typedef struct eio_server eio_server;
typedef struct eio_session eio_session;

/* One packet to send, shared by every session it goes to: a text packet
 * with its Engine.IO type first ("4..." a message, "2" a ping), or a
 * binary message. Reference-counted; immutable once made. */
typedef gw_ws_msg eio_frame;

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
    unsigned max_pending_per_address; /* 0: no limit */
    const char *limit_config;    /* the config member that sets max_sessions, for messages */
    bool cors_any;               /* Access-Control-Allow-Origin: * (protocol tests) */
    void *ud;
    /* a new session (before its first packet) */
    void (*on_open)(void *ud, eio_session *s);
    /* a message; data is valid for the call only */
    void (*on_message)(void *ud, eio_session *s, const char *data, size_t len, bool binary);
    /* the session ended (once); after it returns, s is no longer used */
    void (*on_close)(void *ud, eio_session *s, const char *reason);
    /* may this WebSocket handshake go on (its Origin)? NULL: yes */
    bool (*allow_ws)(void *ud, const gw_http_req *r);
    gw_log *log;
} eio_opts;

gw_err eio_server_new(const eio_opts *opts, eio_server **out, gw_error *err);
/* Stopping: parked polls are answered now, new ones at once. */
void eio_server_drain(eio_server *srv);
/* Closes every session now (on_close for each). */
void eio_server_close_all(eio_server *srv);
/* Closes every session (on_close for each) and stops the heartbeat. */
void eio_server_free(eio_server *srv);

/* A request to the endpoint: a polling GET or POST, OPTIONS, or a
 * WebSocket handshake. It is answered (now, or later when parked).
 * cors: header lines to add, or "". */
void eio_handle_http(eio_server *srv, gw_http_req *r, const char *cors);

/* Queues a frame (a new reference is taken). slot -1: in order, after
 * what is queued; slot 0..EIO_SLOTS-1: the frame replaces the one in that
 * slot while it is not yet sent (live data: a slow client gets the newest,
 * not a backlog). False when the session is closed or its queue is full
 * (the heartbeat then closes it). */
#define EIO_SLOTS 4
bool eio_send(eio_session *s, eio_frame *f, int slot);
/* Ends a session: a close packet to the client, on_close. */
void eio_close(eio_session *s, const char *reason);
/* Closes the session at mono_ms unless cleared with 0 (Socket.IO's
 * connect timeout); a session with a deadline is pending. */
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
