/*
 * http.h - an HTTP/1.1 and WebSocket server on one epoll thread.
 *
 * One loop thread accepts, reads and parses every connection and writes
 * what is queued to them; handlers run on a small pool of worker threads.
 * An idle or slow connection costs a few hundred bytes and no thread, so
 * that no number of idle, half-sent or slow clients can hold the workers
 * that other requests need.
 *
 * Requests are whole or refused: a handler sees a request only when its
 * head and its whole body have arrived (within the header and body
 * timeouts) and passed the checks of RFC 9112: one Host, one
 * Content-Length (or chunked, never both), no obsolete line folding, no
 * bare CR, a path that decodes to UTF-8 without NUL or dot segments. What
 * fails answers a 4xx/5xx application/problem+json and closes the
 * connection.
 *
 * A handler answers its request once, with gw_http_respond, from its own
 * thread or later from any other (a long poll parks its request), or
 * streams a large answer as it makes it (gw_http_stream_begin). A
 * WebSocket handshake is accepted with gw_http_upgrade; from then on the
 * loop reads the connection's frames (RFC 6455: masked, no RSV bits,
 * control frames of at most 125 bytes, a message larger than the limit is
 * refused after its header, before its payload is read) and hands whole
 * messages to the worker pool, one at a time per connection.
 *
 * Threads: gw_http_start/close/free from one controlling thread; every
 * other function from any thread.
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include "core/core.h"

#include <stdatomic.h>

typedef struct gw_http gw_http;
typedef struct gw_http_req gw_http_req;
typedef struct gw_http_conn gw_http_conn;

/* Runs on a worker thread for each whole request; answers it (now or
 * later) with gw_http_respond, or hands it to gw_http_upgrade. */
typedef void (*gw_http_handler)(void *ud, gw_http_req *req);

typedef struct {
    const char *host;              /* numeric address to listen on */
    uint16_t port;                 /* 0: any free port */
    unsigned workers;              /* handler threads (16) */
    unsigned max_connections;      /* open at once (4096); more are answered 503 */
    unsigned max_per_address;      /* open at once from one address (64); 0: no limit */
    bool limit_loopback;           /* also for 127.0.0.0/8 and ::1 (false: a reverse
                                      proxy on this host brings every client from there) */
    uint32_t header_timeout_ms;    /* a request's head, from its first byte (5000) */
    uint32_t body_timeout_ms;      /* its body, from the end of the head (10000) */
    uint32_t idle_timeout_ms;      /* a kept-alive connection between requests (30000) */
    uint32_t send_timeout_ms;      /* queued output without progress (10000) */
    size_t max_head;               /* request line and headers (8192); more: 431 */
    size_t max_body;               /* (65536); more: 413 */
    size_t max_message;            /* a WebSocket message (65536); more: close 1009 */
    size_t max_output;             /* queued for one connection (1 MiB); more: closed */
    gw_http_handler handler;
    void *ud;
    gw_log *log;                   /* borrowed */
    const char *log_category;      /* "http" */
} gw_http_opts;

/* Fills opts with the defaults above (handler and host left to set). */
void gw_http_opts_default(gw_http_opts *opts);

/* Binds and starts the loop and the workers. GW_E_IO when the address
 * cannot be bound (err says why). */
gw_err gw_http_start(const gw_http_opts *opts, gw_http **out, gw_error *err);
uint16_t gw_http_port(const gw_http *srv);
/* Stops accepting and reading, closes every connection (WebSockets with
 * 1001), waits for running handlers to return and for the workers to end.
 * Parked requests may still be answered (nothing is sent). */
void gw_http_close(gw_http *srv);
/* Closes (if not yet) and frees. NULL is a no-op. Parked requests must
 * have been answered or freed. */
void gw_http_free(gw_http *srv);

typedef struct {
    unsigned connections;          /* open now */
    unsigned websockets;           /* of them */
    unsigned long long accepted, refused; /* since the start */
} gw_http_stats;
void gw_http_get_stats(gw_http *srv, gw_http_stats *st);

/* ---------------------------------------------------------------- requests */

const char *gw_http_req_method(const gw_http_req *r);
/* The decoded path: valid UTF-8, no NUL, no dot segments ("*" for
 * OPTIONS *). */
const char *gw_http_req_path(const gw_http_req *r);
/* The query string as sent (without '?'); "" when none. */
const char *gw_http_req_query(const gw_http_req *r);
/* A header's value (the first of its name, case-insensitive), NULL. */
const char *gw_http_req_header(const gw_http_req *r, const char *name);
/* How many header lines carry name. */
unsigned gw_http_req_header_count(const gw_http_req *r, const char *name);
/* The body (whole, dechunked; NUL-terminated for convenience) and its length. */
const char *gw_http_req_body(const gw_http_req *r, size_t *len);
/* The peer's address ("127.0.0.1", "::1"). */
const char *gw_http_req_remote(const gw_http_req *r);
/* Is it a WebSocket handshake (GET with Upgrade: websocket)? */
bool gw_http_req_is_upgrade(const gw_http_req *r);
/* The request's connection (borrowed; valid until the request is answered). */
gw_http_conn *gw_http_req_conn(const gw_http_req *r);

/* A query parameter, percent- and '+'-decoded into out: 1 found, 0 absent,
 * -1 too long for out, -2 badly encoded (bad %XX, NUL, not UTF-8). */
int gw_http_query_param(const char *query, const char *name, char *out, size_t size);

/* Answers r and frees it, from any thread, once. type may be NULL (no
 * body); headers: more lines "Name: value\r\n", or NULL. Content-Length,
 * Date and (when the connection ends) Connection: close are added; a HEAD
 * request gets the headers only. When the client has gone, nothing is
 * sent. */
void gw_http_respond(gw_http_req *r, int status, const char *type, const char *headers,
                     const void *body, size_t len);
/* Frees r unanswered: its connection is closed. */
void gw_http_req_drop(gw_http_req *r);

/* A response sent as it is made (a PDF report, an XLSX or CSV export),
 * never whole in memory: instead of gw_http_respond, from the thread that
 * has the request, one thread at a time per stream.
 *
 * gw_http_stream_begin takes r (end frees it) and queues the status line
 * and headers: Date, Content-Type (type may be NULL), the caller's lines
 * ("Name: value\r\n", or NULL) and, for an HTTP/1.1 request,
 * Transfer-Encoding: chunked; an HTTP/1.0 request gets Connection: close
 * and the body up to the connection's close. A HEAD request (and a 204
 * or 304) gets the head only. Never NULL: when the head cannot go out
 * (the client has gone, out of memory), the first write returns false.
 *
 * gw_http_stream_write copies data[0..len) into one chunk (len 0: nothing
 * is sent, true) and returns at once while at most 256 KiB are queued on
 * the connection, else waits until at most 128 KiB are: a slow client
 * holds up its own handler, never memory. False when the client has gone,
 * when it took nothing for the server's send_timeout_ms, when the server
 * is stopping (gw_http_close wakes a waiting write), or out of memory:
 * stop making the document and call end. After a false, every write
 * returns false. For a head-only answer it does nothing and returns true.
 *
 * gw_http_stream_end sends the last chunk and frees the stream and r; the
 * connection then goes on as after gw_http_respond (the next request, or
 * closed for Connection: close and HTTP/1.0). After a failed write it
 * drops what is queued and resets the connection instead, so that no
 * client takes a cut document for a whole one. Call it once, also after
 * a failure.
 *
 * Until end the connection reads nothing more and no idle or head timeout
 * applies to it, only the send timeout. Each write becomes a chunk: write
 * pieces of tens of KiB (64 KiB), not bytes. */
typedef struct gw_http_stream gw_http_stream;
gw_http_stream *gw_http_stream_begin(gw_http_req *r, int status, const char *type,
                                     const char *headers);
bool gw_http_stream_write(gw_http_stream *s, const void *data, size_t len);
void gw_http_stream_end(gw_http_stream *s);
/* The standard reason phrase of status ("Not Found"); "Unknown" else. */
const char *gw_http_reason(int status);

/* ---------------------------------------------------------------- WebSocket */

/* An outgoing WebSocket message: reference-counted, immutable once made,
 * shared by every connection it is sent to. */
typedef struct {
    atomic_int refs;
    bool binary;
    size_t len;
    char data[];
} gw_ws_msg;

/* A message of len bytes copied from data (data may be NULL: zeroed, to
 * fill in before it is sent). NULL when out of memory. */
gw_ws_msg *gw_ws_msg_new(bool binary, const char *data, size_t len);
gw_ws_msg *gw_ws_msg_retain(gw_ws_msg *m);
void gw_ws_msg_release(gw_ws_msg *m);

typedef struct {
    /* A whole message (defragmented; text is valid UTF-8). data is valid
     * for the call only. */
    void (*on_message)(void *user, gw_http_conn *c, bool binary, const char *data, size_t len);
    /* The connection closed (either side, or an error): once, last. */
    void (*on_close)(void *user, gw_http_conn *c, const char *reason);
} gw_ws_handler;

/* Accepts r's WebSocket handshake (RFC 6455 section 4.2.2): answers 101
 * with Sec-WebSocket-Accept (and headers, may be NULL) and frees r. From
 * then on h's callbacks run with user on the worker threads, one at a
 * time for this connection, never before this returns. Returns the
 * connection with a reference for the caller (gw_http_conn_release), or
 * NULL after answering an error (400 bad key, 426 another version). */
gw_http_conn *gw_http_upgrade(gw_http_req *r, const gw_ws_handler *h, void *user,
                              const char *headers);
/* Queues a message (a new reference is taken). slot < 0: after what is
 * queued; slot >= 0: replaces a message of the same slot that has not
 * begun to go out (the newest live data, not a backlog). False when the
 * connection is closing, or its queue is over max_output (it is closed). */
bool gw_ws_send(gw_http_conn *c, gw_ws_msg *m, int slot);
/* Starts the closing handshake (code 1000 normal, 1001 going away, 1008
 * policy); the connection is closed after the peer's answer or 1 s. */
void gw_ws_close(gw_http_conn *c, uint16_t code, const char *reason);
/* The peer's address. */
const char *gw_http_conn_remote(const gw_http_conn *c);
gw_http_conn *gw_http_conn_retain(gw_http_conn *c);
void gw_http_conn_release(gw_http_conn *c);

/* ---------------------------------------------------------------- codecs */

/* Request heads and WebSocket frames (parse.c, ws.c): no I/O, fuzzed. */

#define GW_HTTP_MAX_FIELDS 64

typedef struct {
    const char *name, *value;      /* into the parsed buffer (not terminated) */
    size_t name_len, value_len;    /* value without surrounding whitespace */
} gw_http_field;

typedef struct {
    const char *method, *target;
    size_t method_len, target_len;
    int minor;                     /* HTTP/1.minor */
    gw_http_field fields[GW_HTTP_MAX_FIELDS];
    size_t nfields;
    int64_t content_length;        /* -1: none */
    bool chunked;
    bool keep_alive;               /* the connection may carry another request */
    bool expect_continue;
    bool upgrade;                  /* Connection: upgrade and Upgrade: websocket */
} gw_http_head;

/* Parses a request head at the start of buf. Returns its length (the
 * empty line included) when it is whole and well-formed; 0 when more
 * bytes are needed (and fewer than max_head have come); -1 with *status
 * (400, 413, 414, 431, 501, 505) and *detail (a static text) when it is
 * refused. */
long gw_http_parse_head(const char *buf, size_t len, size_t max_head, gw_http_head *h,
                        int *status, const char **detail);

/* Splits a request target into its decoded path (into path, size bytes)
 * and its query (into target, not decoded). Origin-form "/p?q",
 * absolute-form "http://host/p?q" and, for OPTIONS, "*". 0, or the status
 * to answer (400, 414) with *detail. */
int gw_http_parse_target(const char *target, size_t len, bool options, char *path,
                         size_t size, const char **query, size_t *query_len,
                         const char **detail);

/* A chunked body (RFC 9112 section 7.1), decoded as it comes. */
typedef struct {
    int state;
    uint64_t left;                 /* bytes of the current chunk still to come */
    unsigned digits;               /* hex digits of its size */
    size_t line;                   /* bytes of the current size or trailer line */
    size_t trailers;               /* bytes of trailer fields */
} gw_http_chunked;

/* Feeds in[0..len): decoded bytes go to out (at most cap in all; more:
 * 413). Returns the bytes of in consumed (>= 0; *done when the last chunk
 * and the trailers are through), or -1 with *status and *detail. */
long gw_http_chunked_feed(gw_http_chunked *c, const char *in, size_t len, char *out,
                          size_t *out_len, size_t cap, bool *done, int *status,
                          const char **detail);

typedef struct {
    bool fin;
    uint8_t rsv;                   /* RSV1..3 as bits 2..0 */
    uint8_t opcode;
    bool masked;
    uint8_t mask[4];
    uint64_t len;                  /* payload length */
    size_t header_len;
} gw_ws_frame;

#define GW_WS_CONT 0x0
#define GW_WS_TEXT 0x1
#define GW_WS_BINARY 0x2
#define GW_WS_CLOSE 0x8
#define GW_WS_PING 0x9
#define GW_WS_PONG 0xA

/* Parses a frame header at the start of buf: its length, 0 when more bytes
 * are needed. Then checks it as a server must (RFC 6455 section 5): masked,
 * no RSV bits (no extension is negotiated), a known opcode, control frames
 * whole and at most 125 bytes, the 64-bit length's top bit clear, payload
 * at most max_payload: returns -1 with *code (1002, 1009) and *detail. */
long gw_ws_parse_frame(const uint8_t *buf, size_t len, size_t max_payload, gw_ws_frame *f,
                       uint16_t *code, const char **detail);
/* XORs data with mask, starting offset bytes into the payload. */
void gw_ws_unmask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset);
/* A server frame's header (unmasked) into out: its length (2, 4 or 10). */
size_t gw_ws_frame_header(uint8_t out[10], bool fin, uint8_t opcode, uint64_t len);
/* Sec-WebSocket-Accept of a Sec-WebSocket-Key: false when the key is not
 * 16 bytes in base64. out gets 28 characters and a NUL. */
bool gw_ws_accept_key(const char *key, size_t len, char out[29]);
/* SHA-1 (FIPS 180-4), for the handshake only. */
void gw_sha1(const void *data, size_t len, uint8_t out[20]);
/* Is code one a peer may send in a close frame (RFC 6455 section 7.4)? */
bool gw_ws_close_code_ok(uint16_t code);

#endif
