/*
 * stream.c - a response sent as it is made: a PDF report, an XLSX or CSV
 * export, too large to build in memory first.
 *
 * The handler's thread queues the head, then one chunk per write
 * (RFC 9112 section 7.1), on the connection's output queue like any
 * answer; whoever queues writes what the socket takes, the loop the rest.
 * Memory is bounded by back-pressure, not by a limit that closes the
 * connection: a write that leaves more than HTTP_STREAM_HIGH bytes queued
 * waits on the stream's condition variable until at most HTTP_STREAM_LOW
 * are. The flusher signals it at the low-water mark, and whatever drops
 * the output (a reset, the loop closing the connection, the send timeout)
 * or stops the server signals it too. Each wait is a timed wait, bounded
 * by send_timeout_ms without progress, the same rule the loop applies to
 * every queue; so a client that stops reading fails the write, and a slow
 * one that still reads only slows its own handler.
 *
 * The connection stays BUSY (no idle or head timeout, input not read)
 * until end sends W_DONE, as after gw_http_respond. A stream whose write
 * failed is aborted at end: its queue is dropped and the connection reset,
 * since the client cannot get a whole document from it.
 *
 * The stream lives in its request (no allocation that could fail between
 * begin and end), is used by one thread at a time, and waits with c->mu
 * held only by the wait itself (lock order: c->mu, then srv->wake_mu).
 */
#include "http_internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

void http__stream_signal_locked(gw_http_conn *c)
{
    if (c->drain_cv)
        pthread_cond_signal(c->drain_cv);
}

/* Gives up on the connection (c->mu held): what is queued is dropped and
 * the loop closes it with a reset, so that no client, HTTP/1.0 ones
 * included, takes a cut document for a whole one. */
static void abort_locked(gw_http_conn *c)
{
    if (c->fd >= 0) {
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    c->keep_alive = false;
    c->close_after_write = true;
    c->peer_gone = true;
    http__out_free_locked(c);
    http__wake(c, W_CLOSE);
}

/* CLOCK_MONOTONIC (the condition variable's clock) ms from now. */
static struct timespec mono_after(uint64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000u);
    ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

gw_http_stream *gw_http_stream_begin(gw_http_req *r, int status, const char *type,
                                     const char *headers)
{
    gw_http_conn *c = r->conn;
    gw_http_stream *s = &r->stream;
    memset(s, 0, sizeof(*s));
    s->req = r;
    /* RFC 9110 section 8.6 and RFC 9112 section 6.1: no body and no
     * Transfer-Encoding in 1xx, 204 and 304 */
    bool no_length = status < 200 || status == 204 || status == 304;
    s->no_body = no_length || r->head_only;
    /* a HEAD answer carries the head a GET would (RFC 9112 section 6.1
     * allows Transfer-Encoding there); an HTTP/1.0 client knows no chunks:
     * its body ends with the connection */
    s->chunked = !r->http10 && !no_length;
    s->keep = r->keep_alive && !atomic_load(&c->srv->stopping) && (s->chunked || no_length);

    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    s->cv_ready = pthread_cond_init(&s->drained, &a) == 0;
    pthread_condattr_destroy(&a);

    gw_buf b;
    gw_buf_init(&b);
    http__head(&b, status, type, s->chunked ? "Transfer-Encoding: chunked\r\n" : NULL, s->keep,
               headers);
    gw_ws_msg *m = b.failed ? NULL : gw_ws_msg_new(false, b.data, b.len);
    gw_buf_clear(&b);
    pthread_mutex_lock(&c->mu);
    c->keep_alive = s->keep;
    if (!http__queue_msg_locked(c, m) || !s->cv_ready)
        s->failed = true; /* closed meanwhile, or out of memory: end aborts */
    pthread_mutex_unlock(&c->mu);
    return s;
}

/* One chunk: "<hex length>\r\n<data>\r\n", or the bare data when the body
 * ends with the connection. NULL when out of memory. */
static gw_ws_msg *chunk_new(bool chunked, const void *data, size_t len)
{
    char size_line[24] = "";
    int hl = chunked ? snprintf(size_line, sizeof(size_line), "%zx\r\n", len) : 0;
    size_t extra = chunked ? (size_t)hl + 2 : 0;
    if (len > SIZE_MAX - extra - 1)
        return NULL;
    gw_ws_msg *m = gw_ws_msg_new(false, NULL, len + extra);
    if (!m)
        return NULL;
    memcpy(m->data, size_line, (size_t)hl);
    memcpy(m->data + hl, data, len);
    if (chunked)
        memcpy(m->data + hl + len, "\r\n", 2);
    return m;
}

/* After queueing: waits while more than the high-water mark is queued,
 * until at most the low-water mark is (c->mu held). False when the
 * connection is closed or failed, the server stops, or the client took
 * nothing for send_timeout_ms (the connection is closed then). */
static bool drain_locked(gw_http_stream *s, gw_http_conn *c)
{
    gw_http *srv = c->srv;
    if (c->out_bytes <= HTTP_STREAM_HIGH)
        return c->fd >= 0 && !c->peer_gone;
    bool ok = false;
    c->drain_cv = &s->drained;
    for (;;) {
        if (c->fd < 0 || c->peer_gone || atomic_load(&srv->stopping))
            break;
        if (c->out_bytes <= HTTP_STREAM_LOW) {
            ok = true;
            break;
        }
        /* the deadline moves with each bit of progress the flusher makes */
        uint64_t now = gw_mono_ms(), deadline = c->out_since_ms + srv->o.send_timeout_ms;
        if (now >= deadline) {
            gw_log_write(srv->o.log, GW_LOG_INFO, srv->category, "%s: closed: it read nothing "
                         "of a streamed answer for %u ms", c->remote, srv->o.send_timeout_ms);
            abort_locked(c);
            break;
        }
        struct timespec ts = mono_after(deadline - now);
        pthread_cond_timedwait(&s->drained, &c->mu, &ts);
    }
    c->drain_cv = NULL;
    return ok;
}

bool gw_http_stream_write(gw_http_stream *s, const void *data, size_t len)
{
    if (s->failed)
        return false;
    if (s->no_body || len == 0) /* a chunk of 0 bytes would end the body */
        return true;
    gw_http_conn *c = s->req->conn;
    gw_ws_msg *m = atomic_load(&c->srv->stopping) ? NULL : chunk_new(s->chunked, data, len);
    if (!m) {
        s->failed = true;
        return false;
    }
    pthread_mutex_lock(&c->mu);
    bool ok = http__queue_msg_locked(c, m) && drain_locked(s, c);
    pthread_mutex_unlock(&c->mu);
    if (!ok)
        s->failed = true;
    return ok;
}

void gw_http_stream_end(gw_http_stream *s)
{
    gw_http_req *r = s->req;
    gw_http_conn *c = r->conn;
    gw_ws_msg *last = NULL;
    if (!s->failed && s->chunked && !s->no_body) {
        /* the last chunk, no trailers (RFC 9112 section 7.1) */
        last = gw_ws_msg_new(false, "0\r\n\r\n", 5);
        if (!last)
            s->failed = true;
    }
    pthread_mutex_lock(&c->mu);
    if (last && !http__queue_msg_locked(c, last))
        s->failed = true;
    if (s->failed) {
        abort_locked(c); /* the document is cut short */
    } else {
        c->keep_alive = s->keep && !atomic_load(&c->srv->stopping);
        if (!c->keep_alive) {
            c->close_after_write = true;
            if (!c->out_head)
                http__wake(c, W_CLOSE);
        }
    }
    pthread_mutex_unlock(&c->mu);
    http__wake(c, W_DONE);
    if (s->cv_ready)
        pthread_cond_destroy(&s->drained);
    http__req_free(r);
}
