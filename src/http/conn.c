/*
 * conn.c - what other threads do with a connection: answer its request,
 * upgrade it, send WebSocket messages, close it; and the worker pool that
 * runs handlers and WebSocket callbacks.
 *
 * Output: each connection has one queue of items (responses and frames)
 * under c->mu. Whoever queues an item writes what the socket takes at
 * once, so a live_data frame goes out from the thread that made it without
 * a hop through the loop; what the socket does not take waits for EPOLLOUT
 * on the loop. A queue that makes no progress for send_timeout_ms, or
 * grows past max_output, closes the connection: a client that does not
 * read costs its own connection, nobody else's.
 */
#include "http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- messages */

gw_ws_msg *gw_ws_msg_new(bool binary, const char *data, size_t len)
{
    gw_ws_msg *m = gw_malloc(sizeof(*m) + len + 1);
    if (!m)
        return NULL;
    atomic_init(&m->refs, 1);
    m->binary = binary;
    m->len = len;
    if (data && len)
        memcpy(m->data, data, len);
    else if (len)
        memset(m->data, 0, len);
    m->data[len] = '\0';
    return m;
}

gw_ws_msg *gw_ws_msg_retain(gw_ws_msg *m)
{
    atomic_fetch_add(&m->refs, 1);
    return m;
}

void gw_ws_msg_release(gw_ws_msg *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1)
        gw_free(m);
}

/* ---------------------------------------------------------------- tasks, wakes */

void http__task_push(gw_http *srv, http_task *t)
{
    t->next = NULL;
    pthread_mutex_lock(&srv->task_mu);
    if (srv->task_tail)
        srv->task_tail->next = t;
    else
        srv->task_head = t;
    srv->task_tail = t;
    pthread_cond_signal(&srv->task_cv);
    pthread_mutex_unlock(&srv->task_mu);
}

void http__wake(gw_http_conn *c, unsigned what)
{
    gw_http *srv = c->srv;
    bool signal = false;
    pthread_mutex_lock(&srv->wake_mu);
    c->wake |= what;
    if (!c->in_wake) {
        c->in_wake = true;
        gw_http_conn_retain(c);
        c->wake_next = srv->wake_head;
        signal = srv->wake_head == NULL;
        srv->wake_head = c;
    }
    pthread_mutex_unlock(&srv->wake_mu);
    if (signal) {
        uint64_t one = 1;
        ssize_t n = write(srv->evfd, &one, sizeof(one));
        (void)n; /* a full counter has woken the loop already */
    }
}

/* ---------------------------------------------------------------- output */

void http__out_free_locked(gw_http_conn *c)
{
    for (out_item *it = c->out_head, *next; it; it = next) {
        next = it->next;
        gw_ws_msg_release(it->msg);
        gw_free(it);
    }
    c->out_head = c->out_tail = NULL;
    c->out_bytes = 0;
    http__stream_signal_locked(c); /* a waiting stream: the client is gone */
}

void http__flush_locked(gw_http_conn *c)
{
    while (c->out_head && c->fd >= 0 && !c->wr_blocked) {
        struct iovec iov[32];
        int n = 0;
        for (out_item *it = c->out_head; it && n < 30; it = it->next) {
            size_t off = it->off;
            if (off < it->hlen) {
                iov[n].iov_base = it->hdr + off;
                iov[n++].iov_len = it->hlen - off;
                off = it->hlen;
            }
            size_t body_off = off - it->hlen;
            if (body_off < it->msg->len) {
                iov[n].iov_base = it->msg->data + body_off;
                iov[n++].iov_len = it->msg->len - body_off;
            }
        }
        struct msghdr mh = {0};
        mh.msg_iov = iov;
        mh.msg_iovlen = (size_t)n;
        ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->wr_blocked = true;
                break;
            }
            /* the peer reset it: the loop closes it */
            c->peer_gone = true;
            http__out_free_locked(c);
            http__wake(c, W_CLOSE);
            return;
        }
        c->out_since_ms = gw_mono_ms();
        size_t left = (size_t)w;
        while (left && c->out_head) {
            out_item *it = c->out_head;
            size_t total = it->hlen + it->msg->len;
            size_t take = total - it->off < left ? total - it->off : left;
            it->off += take;
            left -= take;
            c->out_bytes -= take;
            if (it->off < total)
                break;
            c->out_head = it->next;
            if (!c->out_head)
                c->out_tail = NULL;
            gw_ws_msg_release(it->msg);
            gw_free(it);
        }
    }
    if (c->drain_cv && c->out_bytes <= HTTP_STREAM_LOW)
        http__stream_signal_locked(c);
    if (!c->out_head && c->close_after_write && c->fd >= 0)
        http__wake(c, W_CLOSE);
}

void http__queue_locked(gw_http_conn *c, out_item *it)
{
    it->next = NULL;
    if (!c->out_head)
        c->out_since_ms = gw_mono_ms();
    if (c->out_tail)
        c->out_tail->next = it;
    else
        c->out_head = it;
    c->out_tail = it;
    c->out_bytes += it->hlen + it->msg->len;
    http__flush_locked(c);
}

static out_item *item_new(gw_ws_msg *m, int slot)
{
    out_item *it = gw_calloc(1, sizeof(*it));
    if (it) {
        it->msg = m;
        it->slot = slot;
    }
    return it;
}

bool http__queue_msg_locked(gw_http_conn *c, gw_ws_msg *m)
{
    out_item *it = m && c->fd >= 0 ? item_new(m, -1) : NULL;
    if (!it) {
        gw_ws_msg_release(m);
        return false;
    }
    http__queue_locked(c, it);
    return true;
}

/* ---------------------------------------------------------------- responses */

static void http_date(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

void http__head(gw_buf *b, int status, const char *type, const char *framing,
                bool keep_alive, const char *headers)
{
    char date[40];
    http_date(date, sizeof(date));
    gw_buf_printf(b, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, gw_http_reason(status), date);
    if (type)
        gw_buf_printf(b, "Content-Type: %s\r\n", type);
    if (framing)
        gw_buf_puts(b, framing);
    if (!keep_alive && status != 101)
        gw_buf_puts(b, "Connection: close\r\n");
    if (headers)
        gw_buf_puts(b, headers);
    gw_buf_puts(b, "\r\n");
}

gw_ws_msg *http__response(int status, const char *type, const char *headers,
                          const void *body, size_t len, bool keep_alive, bool head_only)
{
    /* RFC 9110 section 8.6: no Content-Length in 1xx and 204 */
    bool no_length = status < 200 || status == 204 || status == 304;
    bool no_body = no_length || head_only;
    char framing[48];
    snprintf(framing, sizeof(framing), "Content-Length: %zu\r\n", len);
    gw_buf b;
    gw_buf_init(&b);
    http__head(&b, status, type, no_length ? NULL : framing, keep_alive, headers);
    if (b.failed) {
        gw_buf_clear(&b);
        return NULL;
    }
    gw_ws_msg *m = gw_ws_msg_new(false, NULL, b.len + (no_body ? 0 : len));
    if (m) {
        memcpy(m->data, b.data, b.len);
        if (!no_body && len)
            memcpy(m->data + b.len, body, len);
    }
    gw_buf_clear(&b);
    return m;
}

gw_ws_msg *http__problem(int status, const char *detail, const char *headers)
{
    char body[512];
    /* the details are this module's own ASCII texts: no escaping needed */
    int n = snprintf(body, sizeof(body), "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,"
                     "\"detail\":\"%s\"}", gw_http_reason(status), status, detail);
    if (n < 0 || (size_t)n >= sizeof(body))
        n = 0;
    return http__response(status, "application/problem+json", headers, body, (size_t)n, false,
                          false);
}

void http__req_free(gw_http_req *r)
{
    if (!r)
        return;
    gw_http_conn_release(r->conn);
    gw_free(r->body);
    gw_free(r);
}

void gw_http_respond(gw_http_req *r, int status, const char *type, const char *headers,
                     const void *body, size_t len)
{
    gw_http_conn *c = r->conn;
    gw_http *srv = c->srv;
    bool keep = r->keep_alive && !atomic_load(&srv->stopping);
    gw_ws_msg *m = http__response(status, type, headers, body, len, keep, r->head_only);
    pthread_mutex_lock(&c->mu);
    c->keep_alive = keep && m;
    http__queue_msg_locked(c, m);
    if (!c->keep_alive) {
        c->close_after_write = true;
        if (!c->out_head)
            http__wake(c, W_CLOSE);
    }
    pthread_mutex_unlock(&c->mu);
    http__wake(c, W_DONE);
    http__req_free(r);
}

void gw_http_req_drop(gw_http_req *r)
{
    gw_http_conn *c = r->conn;
    pthread_mutex_lock(&c->mu);
    c->keep_alive = false;
    c->close_after_write = true;
    pthread_mutex_unlock(&c->mu);
    http__wake(c, W_DONE | W_CLOSE);
    http__req_free(r);
}

/* ---------------------------------------------------------------- requests */

const char *gw_http_req_method(const gw_http_req *r) { return r->method; }
const char *gw_http_req_path(const gw_http_req *r) { return r->path; }
const char *gw_http_req_query(const gw_http_req *r) { return r->query; }
const char *gw_http_req_remote(const gw_http_req *r) { return r->conn->remote; }
bool gw_http_req_is_upgrade(const gw_http_req *r) { return r->upgrade; }
gw_http_conn *gw_http_req_conn(const gw_http_req *r) { return r->conn; }

const char *gw_http_req_body(const gw_http_req *r, size_t *len)
{
    if (len)
        *len = r->body_len;
    return r->body ? r->body : "";
}

const char *gw_http_req_header(const gw_http_req *r, const char *name)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (strcasecmp(r->names[i], name) == 0)
            return r->values[i];
    return NULL;
}

unsigned gw_http_req_header_count(const gw_http_req *r, const char *name)
{
    unsigned n = 0;
    for (size_t i = 0; i < r->nfields; i++)
        n += strcasecmp(r->names[i], name) == 0;
    return n;
}

/* ---------------------------------------------------------------- WebSocket */

const char *gw_http_conn_remote(const gw_http_conn *c) { return c->remote; }

gw_http_conn *gw_http_conn_retain(gw_http_conn *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

void gw_http_conn_release(gw_http_conn *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    /* the last reference: the loop has closed it (it holds one while open) */
    pthread_mutex_lock(&c->mu);
    http__out_free_locked(c);
    for (ws_in *m = c->inbox_head, *next; m; m = next) {
        next = m->next;
        gw_free(m);
    }
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_destroy(&c->mu);
    gw_free(c->in);
    gw_free(c->frag);
    gw_free(c);
}

gw_http_conn *gw_http_upgrade(gw_http_req *r, const gw_ws_handler *h, void *user,
                              const char *headers)
{
    const char *key = gw_http_req_header(r, "Sec-WebSocket-Key");
    const char *version = gw_http_req_header(r, "Sec-WebSocket-Version");
    char accept[29];
    if (!version || strcmp(version, "13") != 0) {
        /* RFC 6455 section 4.4 */
        static const char d[] = "{\"type\":\"about:blank\",\"title\":\"Upgrade Required\","
                                "\"status\":426,\"detail\":\"only WebSocket version 13 is "
                                "served\"}";
        r->keep_alive = false;
        gw_http_respond(r, 426, "application/problem+json", "Sec-WebSocket-Version: 13\r\n", d,
                        sizeof(d) - 1);
        return NULL;
    }
    if (strcmp(r->method, "GET") != 0 || !key || !gw_ws_accept_key(key, strlen(key), accept)) {
        static const char d[] = "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":"
                                "400,\"detail\":\"a WebSocket handshake needs GET and a "
                                "Sec-WebSocket-Key of 16 bytes in base64\"}";
        r->keep_alive = false;
        gw_http_respond(r, 400, "application/problem+json", NULL, d, sizeof(d) - 1);
        return NULL;
    }
    gw_http_conn *c = r->conn;
    char lines[512];
    snprintf(lines, sizeof(lines), "Upgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: %s\r\n%s", accept, headers ? headers : "");
    gw_ws_msg *m = http__response(101, NULL, lines, NULL, 0, true, false);
    if (!m) {
        gw_http_req_drop(r);
        return NULL;
    }
    pthread_mutex_lock(&c->mu);
    c->wsh = h;
    c->wsuser = user;
    c->is_ws = true;
    c->keep_alive = true;
    bool gone = !http__queue_msg_locked(c, m);
    pthread_mutex_unlock(&c->mu);
    gw_http_conn_retain(c);
    atomic_fetch_add(&c->srv->nws, 1);
    if (gone) /* closed while its handshake was handled: on_close all the same */
        http__ws_deliver_close(c, "the client went away");
    http__wake(c, W_DONE);
    http__req_free(r);
    return c;
}

static uint8_t opcode_of(const gw_ws_msg *m)
{
    return m->binary ? GW_WS_BINARY : GW_WS_TEXT;
}

bool gw_ws_send(gw_http_conn *c, gw_ws_msg *m, int slot)
{
    bool ok = false;
    pthread_mutex_lock(&c->mu);
    if (c->fd < 0 || c->ws_closing || !c->is_ws)
        goto out;
    if (slot >= 0) {
        /* the newest replaces one of its slot that has not begun to go out */
        for (out_item *it = c->out_head; it; it = it->next)
            if (it->slot == slot && it->off == 0) {
                c->out_bytes -= it->hlen + it->msg->len;
                gw_ws_msg_release(it->msg);
                it->msg = gw_ws_msg_retain(m);
                it->hlen = (uint8_t)gw_ws_frame_header(it->hdr, true, opcode_of(m), m->len);
                c->out_bytes += it->hlen + m->len;
                ok = true;
                goto out;
            }
    }
    if (c->out_bytes + m->len > c->srv->o.max_output) {
        /* it does not read: closed, not buffered without end */
        gw_log_write(c->srv->o.log, GW_LOG_INFO, c->srv->category, "%s: closed, %zu bytes "
                     "queued that it does not read", c->remote, c->out_bytes);
        c->peer_gone = true;
        http__out_free_locked(c);
        http__wake(c, W_CLOSE);
        goto out;
    }
    out_item *it = item_new(gw_ws_msg_retain(m), slot);
    if (!it) {
        gw_ws_msg_release(m);
        goto out;
    }
    it->hlen = (uint8_t)gw_ws_frame_header(it->hdr, true, opcode_of(m), m->len);
    http__queue_locked(c, it);
    ok = c->fd >= 0;
out:
    pthread_mutex_unlock(&c->mu);
    return ok;
}

void http__ws_control_locked(gw_http_conn *c, uint8_t opcode, const void *data, size_t len)
{
    gw_ws_msg *m = gw_ws_msg_new(false, data, len);
    out_item *it = m ? item_new(m, -1) : NULL;
    if (!it) {
        gw_ws_msg_release(m);
        return;
    }
    it->hlen = (uint8_t)gw_ws_frame_header(it->hdr, true, opcode, len);
    http__queue_locked(c, it);
}

void gw_ws_close(gw_http_conn *c, uint16_t code, const char *reason)
{
    pthread_mutex_lock(&c->mu);
    bool now = c->is_ws && c->fd >= 0 && !c->ws_closing;
    if (now) {
        uint8_t p[125];
        size_t rl = reason ? gw_utf8_prefix(reason, strlen(reason), sizeof(p) - 2) : 0;
        p[0] = (uint8_t)(code >> 8);
        p[1] = (uint8_t)code;
        if (rl)
            memcpy(p + 2, reason, rl);
        c->ws_closing = true;
        http__ws_control_locked(c, GW_WS_CLOSE, p, 2 + rl);
    }
    pthread_mutex_unlock(&c->mu);
    if (now)
        http__wake(c, W_CLOSING);
}

/* ---------------------------------------------------------------- inbox */

static void run_ws(http_task *t)
{
    gw_http_conn *c = (gw_http_conn *)((char *)t - offsetof(gw_http_conn, task));
    size_t limit = c->srv->o.max_message;
    for (int done = 0; done < 16; done++) {
        pthread_mutex_lock(&c->mu);
        ws_in *m = c->inbox_head;
        if (m) {
            c->inbox_head = m->next;
            if (!c->inbox_head)
                c->inbox_tail = NULL;
            size_t before = c->inbox_bytes;
            c->inbox_bytes -= m->len;
            if (before > 4 * limit && c->inbox_bytes <= 4 * limit)
                http__wake(c, W_READ);
        }
        bool closing = !m && c->close_due && !c->close_done;
        if (closing)
            c->close_done = true;
        const char *reason = c->close_reason;
        if (!m && !closing) {
            c->scheduled = false;
            pthread_mutex_unlock(&c->mu);
            gw_http_conn_release(c); /* the task's */
            return;
        }
        pthread_mutex_unlock(&c->mu);
        if (m) {
            if (c->wsh && c->wsh->on_message)
                c->wsh->on_message(c->wsuser, c, m->binary, m->data, m->len);
            gw_free(m);
        } else {
            if (c->wsh && c->wsh->on_close)
                c->wsh->on_close(c->wsuser, c, reason ? reason : "closed");
            atomic_fetch_sub(&c->srv->nws, 1);
        }
    }
    /* others wait too: to the back of the queue */
    http__task_push(c->srv, &c->task);
}

static void schedule_locked(gw_http_conn *c)
{
    if (c->scheduled)
        return;
    c->scheduled = true;
    gw_http_conn_retain(c);
    c->task.run = run_ws;
    http__task_push(c->srv, &c->task);
}

void http__ws_deliver(gw_http_conn *c, ws_in *m)
{
    pthread_mutex_lock(&c->mu);
    m->next = NULL;
    if (c->close_due) {
        pthread_mutex_unlock(&c->mu);
        gw_free(m);
        return;
    }
    if (c->inbox_tail)
        c->inbox_tail->next = m;
    else
        c->inbox_head = m;
    c->inbox_tail = m;
    c->inbox_bytes += m->len;
    if (c->inbox_bytes > 4 * c->srv->o.max_message)
        c->rd_paused = true; /* the loop reads on after W_READ */
    schedule_locked(c);
    pthread_mutex_unlock(&c->mu);
}

void http__ws_deliver_close(gw_http_conn *c, const char *reason)
{
    pthread_mutex_lock(&c->mu);
    if (c->is_ws && !c->close_due) {
        c->close_due = true;
        c->close_reason = reason;
        schedule_locked(c);
    }
    pthread_mutex_unlock(&c->mu);
}
