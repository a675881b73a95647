/*
 * http_internal.h - shared by the files of the http module: the server,
 * its connections and requests.
 *
 * Ownership: the loop thread owns a connection's socket reads, its input
 * buffer and its parse state; c->mu guards what other threads touch (the
 * output queue, the socket for writes and its closing, the WebSocket
 * inbox, the flags below it). The socket is closed only by the loop, with
 * c->mu held, so a writer holding c->mu never writes to a closed or
 * reused descriptor. Lock order: c->mu, then srv->wake_mu or srv->task_mu;
 * never two connections' locks at once. A streamed response's write waits
 * on its stream's condition variable with c->mu (and nothing else) held.
 */
#ifndef GW_HTTP_INTERNAL_H
#define GW_HTTP_INTERNAL_H

#include "http.h"

#include <netinet/in.h>
#include <pthread.h>

/* Work for the pool: a request to handle, or a WebSocket's inbox. */
typedef struct http_task {
    struct http_task *next;
    void (*run)(struct http_task *t);
} http_task;

/* A piece of output: an HTTP response or a WebSocket frame. */
typedef struct out_item {
    struct out_item *next;
    gw_ws_msg *msg;                /* the bytes (a reference) */
    uint8_t hdr[10];               /* a WebSocket frame's header, hlen bytes */
    uint8_t hlen;
    int slot;                      /* -1, or a replaceable slot */
    size_t off;                    /* of hlen + msg->len, bytes already sent */
} out_item;

/* A received WebSocket message waiting for a worker. */
typedef struct ws_in {
    struct ws_in *next;
    bool binary;
    size_t len;
    char data[];
} ws_in;

enum {
    ST_HEAD,   /* reading a request head (or idle between requests) */
    ST_BODY,   /* reading its body */
    ST_BUSY,   /* a handler has the request; input waits */
    ST_WS,     /* a WebSocket */
    ST_CLOSED,
    ST_LINGER, /* the answer is out: the rest of the input is dropped */
};

/* What another thread asks the loop to do with a connection. */
#define W_DONE 1u      /* its request was answered (or upgraded) */
#define W_CLOSE 2u     /* close it (a failed write, or the output ended) */
#define W_READ 4u      /* its inbox has room again: read on */
#define W_CLOSING 8u   /* a WebSocket closing handshake began: time it */

/* A streamed response's write waits while more than HTTP_STREAM_HIGH bytes
 * are queued on its connection, until at most HTTP_STREAM_LOW are: the
 * memory a slow client costs, and how much the handler may make before it
 * waits again. */
#define HTTP_STREAM_HIGH (256u * 1024u)
#define HTTP_STREAM_LOW (128u * 1024u)

/* A response streamed as it is made (stream.c); lives in its request. */
struct gw_http_stream {
    gw_http_req *req;
    pthread_cond_t drained;        /* c->drain_cv while a write waits */
    bool cv_ready;
    bool chunked;                  /* HTTP/1.1: chunks; else up to the close */
    bool no_body;                  /* HEAD, 204, 304: the head only */
    bool keep;                     /* the head did not say Connection: close */
    bool failed;                   /* a write failed: end resets the connection */
};

struct gw_http_conn {
    gw_http *srv;
    atomic_int refs;
    char remote[INET6_ADDRSTRLEN];
    uint8_t addr[16];              /* the peer's address (IPv4 mapped) */
    bool limited;                  /* counted against max_per_address */

    /* loop thread only */
    gw_http_conn *prev, *next;     /* srv->conns */
    int state;
    int fd_loop;                   /* the descriptor, for epoll */
    char *in;
    size_t in_len, in_cap;
    uint64_t deadline_ms;          /* of the current state, 0: none */
    bool rd_ready;                 /* readable: read until EAGAIN */
    bool rd_eof;                   /* the peer sent FIN */
    bool rd_paused;                /* the inbox is full: read later */
    gw_http_req *building;         /* the request whose body is coming */
    gw_http_chunked chunked;
    size_t body_need;              /* Content-Length still to come */
    char *frag;                    /* a fragmented message so far */
    size_t frag_len;
    bool frag_binary, in_frag;

    /* c->mu */
    pthread_mutex_t mu;
    int fd;                        /* -1 once closed */
    out_item *out_head, *out_tail;
    size_t out_bytes;
    uint64_t out_since_ms;         /* the last progress of a waiting queue */
    bool wr_blocked;               /* a write met EAGAIN: EPOLLOUT resumes */
    bool close_after_write;
    bool keep_alive;               /* of the request being handled */
    bool is_ws;                    /* upgraded */
    bool ws_closing;               /* a close frame was queued */
    bool peer_gone;                /* the peer half-closed or reset */
    pthread_cond_t *drain_cv;      /* a stream's write waiting for the queue to
                                      drain; signalled at HTTP_STREAM_LOW and
                                      when the output is dropped */
    const gw_ws_handler *wsh;
    void *wsuser;
    ws_in *inbox_head, *inbox_tail;
    size_t inbox_bytes;
    bool scheduled;                /* its task is queued or running */
    bool close_due;                /* on_close waits in the inbox */
    bool close_done;               /* on_close has run */
    const char *close_reason;
    http_task task;

    /* srv->wake_mu */
    unsigned wake;                 /* W_* asked */
    bool in_wake;
    gw_http_conn *wake_next;
};

struct gw_http_req {
    http_task task;
    gw_http_conn *conn;            /* a reference */
    char method[33];
    char *path;
    char *query;
    const char *names[GW_HTTP_MAX_FIELDS];
    const char *values[GW_HTTP_MAX_FIELDS];
    size_t nfields;
    char *body;
    size_t body_len, body_cap;
    bool keep_alive, upgrade, head_only;
    bool http10;                   /* an HTTP/1.0 request: no chunked answer */
    gw_http_stream stream;         /* when answered with gw_http_stream_begin */
    char mem[];                    /* path, query and the fields, NUL-terminated */
};

struct gw_http {
    gw_http_opts o;
    char category[24];
    int listen_fd, epfd, evfd;
    uint16_t port;
    pthread_t loop;
    bool loop_started;
    atomic_bool stopping;
    bool accept_paused;            /* out of descriptors: accept later */
    uint64_t accept_resume_ms;
    gw_http_conn *conns;           /* loop thread */
    atomic_uint nconns;
    struct addr_count **addr_table;/* loop thread: open connections per address */

    pthread_mutex_t wake_mu;
    gw_http_conn *wake_head;

    pthread_mutex_t task_mu;
    pthread_cond_t task_cv;
    http_task *task_head, *task_tail;
    bool tasks_end;                /* the loop has ended: workers leave when idle */
    pthread_t *workers;
    unsigned nworkers;

    atomic_uint nws;
    atomic_ullong accepted, refused;
};

/* conn.c */
void http__task_push(gw_http *srv, http_task *t);
void http__wake(gw_http_conn *c, unsigned what);
/* Queues an item and writes what the socket takes (c->mu held). */
void http__queue_locked(gw_http_conn *c, out_item *it);
void http__flush_locked(gw_http_conn *c);
/* Queues a whole message (taken) unless the connection is closed; false
 * then (it is released). */
bool http__queue_msg_locked(gw_http_conn *c, gw_ws_msg *m);
void http__out_free_locked(gw_http_conn *c);
/* A response's status line and headers into b: Date, Content-Type (type
 * may be NULL), framing (a "Content-Length: N\r\n" or "Transfer-Encoding:
 * chunked\r\n" line, or NULL), Connection: close unless keep_alive (or a
 * 101), the caller's headers and the empty line. */
void http__head(gw_buf *b, int status, const char *type, const char *framing,
                bool keep_alive, const char *headers);
/* A whole response (status line, headers, body) as a message. */
gw_ws_msg *http__response(int status, const char *type, const char *headers,
                          const void *body, size_t len, bool keep_alive, bool head_only);
/* A problem+json response for the HTTP layer's own refusals. */
gw_ws_msg *http__problem(int status, const char *detail, const char *headers);
/* The inbox of a WebSocket gets a message or, last, its close. */
void http__ws_deliver(gw_http_conn *c, ws_in *m);
void http__ws_deliver_close(gw_http_conn *c, const char *reason);
/* A control frame (pong, close) queued ahead of nothing: in order. */
void http__ws_control_locked(gw_http_conn *c, uint8_t opcode, const void *data, size_t len);
void http__req_free(gw_http_req *r);

/* stream.c: wakes a stream's write waiting on c (c->mu held): the
 * queue drained, the output was dropped, or the server is stopping. */
void http__stream_signal_locked(gw_http_conn *c);

/* ws_conn.c: the loop's reading of a WebSocket's frames; false when the
 * connection is to be closed (after what is queued). */
bool http__ws_input(gw_http_conn *c);

#endif
