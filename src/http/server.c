/*
 * server.c - the loop thread: accept, read, parse, time out, close.
 *
 * Every socket is non-blocking and registered once, edge-triggered, for
 * input, output and the peer's half-close. A connection is in one state:
 *
 *   HEAD   waiting for a request head: idle_timeout_ms while nothing has
 *          come, header_timeout_ms from its first byte
 *   BODY   reading its body (Content-Length or chunked), body_timeout_ms
 *   BUSY   a handler has the request; the next one waits in the buffer
 *   WS     a WebSocket: frames are read and checked here, whole messages
 *          go to the workers
 *   LINGER the answer is out and the write side shut; what the peer still
 *          sends is read and dropped for a second, so that a refusal sent
 *          while the peer was sending reaches it instead of a reset
 *
 * Every wait of a state has its deadline, checked every TICK_MS. Reading
 * stops while a request is with a handler (answers go out in order) and
 * while a WebSocket's inbox is full (the peer waits, memory does not
 * grow). A connection costs its struct (a few hundred bytes) and an input
 * buffer only while bytes are in it.
 */
#define _GNU_SOURCE /* accept4 */
#include "http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define TICK_MS 100
#define IN_CHUNK 4096
#define LINGER_MS 1000
#define STOP_GRACE_MS 3000
#define ADDR_BUCKETS 1024

struct addr_count {
    struct addr_count *next;
    uint8_t a[16];
    unsigned n;
};

void gw_http_opts_default(gw_http_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->host = "127.0.0.1";
    o->workers = 16;
    o->max_connections = 4096;
    o->max_per_address = 64;
    o->header_timeout_ms = 5000;
    o->body_timeout_ms = 10000;
    o->idle_timeout_ms = 30000;
    o->send_timeout_ms = 10000;
    o->max_head = 8192;
    o->max_body = 65536;
    o->max_message = 65536;
    o->max_output = 1u << 20;
    o->log_category = "http";
}

/* ---------------------------------------------------------------- addresses */

static struct addr_count **addr_bucket(gw_http *srv, const uint8_t a[16])
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ a[i]) * 16777619u;
    return &srv->addr_table[h % ADDR_BUCKETS];
}

static unsigned addr_count_of(gw_http *srv, const uint8_t a[16])
{
    for (struct addr_count *e = *addr_bucket(srv, a); e; e = e->next)
        if (memcmp(e->a, a, 16) == 0)
            return e->n;
    return 0;
}

static void addr_add(gw_http *srv, const uint8_t a[16], int delta)
{
    struct addr_count **p = addr_bucket(srv, a);
    for (; *p; p = &(*p)->next)
        if (memcmp((*p)->a, a, 16) == 0)
            break;
    if (!*p) {
        if (delta < 0)
            return;
        struct addr_count *e = gw_calloc(1, sizeof(*e));
        if (!e)
            return; /* not counted: the limit is not applied to it */
        memcpy(e->a, a, 16);
        *p = e;
    }
    struct addr_count *e = *p;
    e->n = delta < 0 && e->n < (unsigned)-delta ? 0 : (unsigned)((int)e->n + delta);
    if (e->n == 0) {
        *p = e->next;
        gw_free(e);
    }
}

/* The peer as a 16-byte key (IPv4 mapped into IPv6), its text, and
 * whether it is this host. */
static bool peer_of(const struct sockaddr_storage *sa, uint8_t key[16], char *text,
                    size_t size)
{
    memset(key, 0, 16);
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        key[10] = key[11] = 0xFF;
        memcpy(key + 12, &s4->sin_addr, 4);
    } else if (sa->ss_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    bool v4 = memcmp(key, v4mapped, 12) == 0;
    if (v4)
        inet_ntop(AF_INET, key + 12, text, (socklen_t)size);
    else
        inet_ntop(AF_INET6, key, text, (socklen_t)size);
    static const uint8_t v6loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return v4 ? key[12] == 127 : memcmp(key, v6loop, 16) == 0;
}

/* ---------------------------------------------------------------- closing */

static void conn_close(gw_http_conn *c, const char *reason)
{
    gw_http *srv = c->srv;
    if (c->state == ST_CLOSED)
        return;
    pthread_mutex_lock(&c->mu);
    int fd = c->fd;
    c->fd = -1;
    http__out_free_locked(c);
    bool ws = c->is_ws;
    if (fd >= 0)
        close(fd);
    pthread_mutex_unlock(&c->mu);
    c->state = ST_CLOSED;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->nconns--;
    addr_add(srv, c->addr, -1);
    http__req_free(c->building);
    c->building = NULL;
    gw_free(c->in);
    c->in = NULL;
    c->in_len = c->in_cap = 0;
    if (ws)
        http__ws_deliver_close(c, reason);
    gw_log_write(srv->o.log, GW_LOG_DEBUG, srv->category, "%s: closed (%s)", c->remote, reason);
    gw_http_conn_release(c); /* the loop's */
}

/* The answer is out: shut the write side, drop what still comes for a
 * moment, then close (a close with unread input would reset the
 * connection and could destroy the answer before the peer read it). */
static void conn_linger(gw_http_conn *c)
{
    pthread_mutex_lock(&c->mu);
    bool gone = c->peer_gone || c->fd < 0;
    if (!gone)
        shutdown(c->fd, SHUT_WR);
    pthread_mutex_unlock(&c->mu);
    if (gone || c->rd_eof) {
        conn_close(c, "done");
        return;
    }
    c->state = ST_LINGER;
    c->deadline_ms = gw_mono_ms() + LINGER_MS;
}

/* The connection ends once what is queued is out (W_CLOSE then), or now
 * when nothing is. */
static void end_after_output(gw_http_conn *c)
{
    pthread_mutex_lock(&c->mu);
    c->close_after_write = true;
    bool pending = c->out_head != NULL;
    pthread_mutex_unlock(&c->mu);
    if (!pending)
        conn_linger(c);
}

/* Refuses the request on c: a problem answer, then the connection ends. */
static void refuse(gw_http_conn *c, int status, const char *detail)
{
    gw_http *srv = c->srv;
    gw_log_write(srv->o.log, GW_LOG_DEBUG, srv->category, "%s: %d %s", c->remote, status, detail);
    http__req_free(c->building);
    c->building = NULL;
    c->state = ST_BUSY;
    c->deadline_ms = 0;
    pthread_mutex_lock(&c->mu);
    c->close_after_write = true;
    if (!http__queue_msg_locked(c, http__problem(status, detail, NULL)))
        http__wake(c, W_CLOSE);
    pthread_mutex_unlock(&c->mu);
}

/* ---------------------------------------------------------------- requests */

static void run_request(http_task *t)
{
    gw_http_req *r = (gw_http_req *)t;
    gw_http *srv = r->conn->srv;
    srv->o.handler(srv->o.ud, r);
}

static void dispatch(gw_http_conn *c)
{
    gw_http_req *r = c->building;
    c->building = NULL;
    c->state = ST_BUSY;
    c->deadline_ms = 0;
    if (r->body)
        r->body[r->body_len] = '\0';
    if (atomic_load(&c->srv->stopping) || c->rd_eof)
        r->keep_alive = false;
    pthread_mutex_lock(&c->mu);
    c->keep_alive = r->keep_alive;
    pthread_mutex_unlock(&c->mu);
    r->task.run = run_request;
    http__task_push(c->srv, &r->task);
}

/* A request from its parsed head: method, decoded path, query and fields,
 * copied (the input buffer moves on). NULL with *status and *detail. */
static gw_http_req *req_new(gw_http_conn *c, const gw_http_head *h, int *status,
                            const char **detail)
{
    size_t fields = 0;
    for (size_t i = 0; i < h->nfields; i++)
        fields += h->fields[i].name_len + h->fields[i].value_len + 2;
    size_t path_size = h->target_len + 2;
    gw_http_req *r = gw_calloc(1, sizeof(*r) + path_size + h->target_len + 1 + fields);
    if (!r) {
        *status = 503;
        *detail = "out of memory";
        return NULL;
    }
    memcpy(r->method, h->method, h->method_len);
    r->path = r->mem;
    const char *q;
    size_t qlen;
    bool options = h->method_len == 7 && memcmp(h->method, "OPTIONS", 7) == 0;
    int st = gw_http_parse_target(h->target, h->target_len, options, r->path, path_size, &q,
                                  &qlen, detail);
    if (st) {
        gw_free(r);
        *status = st;
        return NULL;
    }
    r->query = r->mem + path_size;
    memcpy(r->query, q, qlen);
    r->query[qlen] = '\0';
    char *f = r->query + h->target_len + 1;
    for (size_t i = 0; i < h->nfields; i++) {
        const gw_http_field *hf = &h->fields[i];
        r->names[i] = f;
        memcpy(f, hf->name, hf->name_len);
        f += hf->name_len;
        *f++ = '\0';
        r->values[i] = f;
        memcpy(f, hf->value, hf->value_len);
        f += hf->value_len;
        *f++ = '\0';
    }
    r->nfields = h->nfields;
    r->keep_alive = h->keep_alive;
    r->upgrade = h->upgrade;
    r->head_only = strcmp(r->method, "HEAD") == 0;
    r->http10 = h->minor == 0;
    r->conn = gw_http_conn_retain(c);
    return r;
}

static void consume(gw_http_conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
    if (c->in_len == 0) {
        gw_free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
}

/* A head in the buffer: a request (to dispatch, or whose body follows). */
static void input_head(gw_http_conn *c)
{
    gw_http *srv = c->srv;
    gw_http_head h;
    int status;
    const char *detail;
    long n = gw_http_parse_head(c->in, c->in_len, srv->o.max_head, &h, &status, &detail);
    if (n == 0)
        return;
    if (n < 0) {
        refuse(c, status, detail);
        return;
    }
    if (h.content_length > (int64_t)srv->o.max_body) {
        refuse(c, 413, "the body is larger than the limit");
        return;
    }
    gw_http_req *r = req_new(c, &h, &status, &detail);
    if (!r) {
        refuse(c, status, detail);
        return;
    }
    bool expect = h.expect_continue;
    size_t cap = h.chunked ? srv->o.max_body : (size_t)(h.content_length > 0 ? h.content_length : 0);
    consume(c, (size_t)n);
    c->building = r;
    if (!h.chunked && h.content_length <= 0) {
        dispatch(c);
        return;
    }
    r->body = gw_malloc(cap + 1);
    if (!r->body) {
        refuse(c, 503, "out of memory");
        return;
    }
    r->body_cap = cap;
    memset(&c->chunked, 0, sizeof(c->chunked));
    c->body_need = h.chunked ? 0 : (size_t)h.content_length;
    c->state = ST_BODY;
    c->deadline_ms = gw_mono_ms() + srv->o.body_timeout_ms;
    if (expect && c->in_len == 0) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        pthread_mutex_lock(&c->mu);
        http__queue_msg_locked(c, gw_ws_msg_new(false, cont, sizeof(cont) - 1));
        pthread_mutex_unlock(&c->mu);
    }
}

static void input_body(gw_http_conn *c)
{
    gw_http_req *r = c->building;
    if (c->body_need) {
        size_t n = c->in_len < c->body_need ? c->in_len : c->body_need;
        memcpy(r->body + r->body_len, c->in, n);
        r->body_len += n;
        c->body_need -= n;
        consume(c, n);
        if (c->body_need == 0)
            dispatch(c);
        return;
    }
    bool done = false;
    int status;
    const char *detail;
    long n = gw_http_chunked_feed(&c->chunked, c->in, c->in_len, r->body, &r->body_len,
                                  r->body_cap, &done, &status, &detail);
    if (n < 0) {
        refuse(c, status, detail);
        return;
    }
    consume(c, (size_t)n);
    if (done)
        dispatch(c);
}

/* Makes room for more input; false when the state allows no more. */
static bool in_reserve(gw_http_conn *c)
{
    gw_http *srv = c->srv;
    size_t limit = c->state == ST_WS ? srv->o.max_message + 14 + IN_CHUNK
                                     : srv->o.max_head + IN_CHUNK;
    if (c->in_len < c->in_cap)
        return true;
    if (c->in_cap >= limit)
        return false;
    size_t cap = c->in_cap ? c->in_cap * 2 : IN_CHUNK;
    if (cap > limit)
        cap = limit;
    char *p = gw_realloc(c->in, cap);
    if (!p)
        return false;
    c->in = p;
    c->in_cap = cap;
    return true;
}

/* Reads once: 1 bytes came, 0 nothing more now, -1 end of input. */
static int read_some(gw_http_conn *c)
{
    if (!in_reserve(c))
        return 0;
    ssize_t n = recv(c->fd_loop, c->in + c->in_len, c->in_cap - c->in_len, 0);
    if (n > 0) {
        c->in_len += (size_t)n;
        return 1;
    }
    if (n < 0 && errno == EINTR)
        return 1;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c->rd_ready = false;
        if (c->in_len == 0) {
            gw_free(c->in);
            c->in = NULL;
            c->in_cap = 0;
        }
        return 0;
    }
    if (n < 0) {
        pthread_mutex_lock(&c->mu);
        c->peer_gone = true;
        pthread_mutex_unlock(&c->mu);
    }
    c->rd_eof = true;
    c->rd_ready = false;
    return -1;
}

static void input_eof(gw_http_conn *c)
{
    switch (c->state) {
    case ST_HEAD:
        if (c->in_len == 0)
            conn_close(c, "the client closed it");
        else
            refuse(c, 400, "the request ended before its head was complete");
        break;
    case ST_BODY:
        refuse(c, 400, "the body ended before it was complete: nothing was done");
        break;
    case ST_WS:
        conn_close(c, "transport close");
        break;
    case ST_LINGER:
        conn_close(c, "done");
        break;
    default: /* BUSY: the answer goes out, then the connection closes */
        break;
    }
}

/* Reads and handles what is there, in bounded rounds. */
static void conn_input(gw_http_conn *c)
{
    gw_http *srv = c->srv;
    for (int round = 0; round < 64; round++) {
        if (c->state == ST_HEAD && c->in_len) {
            if (c->deadline_ms == 0 || c->deadline_ms > gw_mono_ms() + srv->o.header_timeout_ms)
                c->deadline_ms = gw_mono_ms() + srv->o.header_timeout_ms;
            input_head(c);
        } else if (c->state == ST_BODY && c->in_len) {
            input_body(c);
        } else if (c->state == ST_WS && c->in_len) {
            if (!http__ws_input(c)) {
                /* closing: the rest of the input is not read; the
                 * connection ends when the close frame is out */
                c->state = ST_BUSY;
                end_after_output(c);
                return;
            }
        } else if (c->state == ST_LINGER) {
            c->in_len = 0;
        }
        if (c->state == ST_CLOSED || c->state == ST_BUSY)
            return;
        if (c->state == ST_WS && c->rd_paused)
            return;
        if (!c->rd_ready)
            return;
        size_t before = c->in_len;
        int r = read_some(c);
        if (r < 0) {
            input_eof(c);
            return;
        }
        if (r == 0 && c->in_len == before && c->rd_ready) {
            /* the buffer is at its limit and nothing could be handled */
            if (c->state == ST_WS)
                conn_close(c, "a frame larger than the buffer");
            else
                refuse(c, 431, "the request head is too large");
            return;
        }
    }
    http__wake(c, W_READ); /* more later: others get their turn */
}

/* ---------------------------------------------------------------- accepting */

static void reject(gw_http *srv, int fd, const char *detail)
{
    gw_ws_msg *m = http__problem(503, detail, "Retry-After: 5\r\n");
    if (m) {
        ssize_t n = send(fd, m->data, m->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)n; /* best effort */
        gw_ws_msg_release(m);
    }
    close(fd);
    atomic_fetch_add(&srv->refused, 1);
}

static void accept_all(gw_http *srv)
{
    for (int i = 0; i < 256; i++) {
        struct sockaddr_storage sa;
        socklen_t sl = sizeof(sa);
        int fd = accept4(srv->listen_fd, (struct sockaddr *)&sa, &sl,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* out of descriptors: waiting ones stay in the backlog */
                gw_log_warn(srv->o.log, srv->category, "accept: %s; accepting again in 100 ms",
                            strerror(errno));
                epoll_ctl(srv->epfd, EPOLL_CTL_DEL, srv->listen_fd, NULL);
                srv->accept_paused = true;
                srv->accept_resume_ms = gw_mono_ms() + 100;
            }
            return;
        }
        uint8_t key[16];
        char remote[INET6_ADDRSTRLEN];
        bool loopback = peer_of(&sa, key, remote, sizeof(remote));
        bool limited = srv->o.max_per_address && (srv->o.limit_loopback || !loopback);
        if (srv->nconns >= srv->o.max_connections) {
            char d[160];
            snprintf(d, sizeof(d), "the gateway serves at most %u connections at once "
                     "(http.max_connections in the config)", srv->o.max_connections);
            reject(srv, fd, d);
            continue;
        }
        if (limited && addr_count_of(srv, key) >= srv->o.max_per_address) {
            char d[160];
            snprintf(d, sizeof(d), "at most %u connections at once from one address "
                     "(http.max_connections_per_address in the config)", srv->o.max_per_address);
            reject(srv, fd, d);
            continue;
        }
        gw_http_conn *c = gw_calloc(1, sizeof(*c));
        if (!c) {
            reject(srv, fd, "out of memory");
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->srv = srv;
        atomic_init(&c->refs, 1);
        pthread_mutex_init(&c->mu, NULL);
        c->fd = c->fd_loop = fd;
        memcpy(c->addr, key, 16);
        snprintf(c->remote, sizeof(c->remote), "%s", remote);
        c->limited = limited;
        c->state = ST_HEAD;
        c->deadline_ms = gw_mono_ms() + srv->o.idle_timeout_ms;
        struct epoll_event ev = {EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, {.ptr = c}};
        if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            pthread_mutex_destroy(&c->mu);
            gw_free(c);
            continue;
        }
        c->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = c;
        srv->conns = c;
        srv->nconns++;
        addr_add(srv, key, +1);
        atomic_fetch_add(&srv->accepted, 1);
    }
}

/* ---------------------------------------------------------------- the loop */

static void on_done(gw_http_conn *c)
{
    gw_http *srv = c->srv;
    if (c->state != ST_BUSY)
        return;
    pthread_mutex_lock(&c->mu);
    bool ws = c->is_ws, close_next = c->close_after_write || !c->keep_alive;
    pthread_mutex_unlock(&c->mu);
    if (close_next)
        return; /* W_CLOSE comes when the answer is out */
    if (c->rd_eof) {
        /* the peer half-closed while its request was handled: it gets
         * its answer, then the connection ends */
        end_after_output(c);
        return;
    }
    if (ws) {
        c->state = ST_WS;
        c->deadline_ms = 0;
    } else {
        c->state = ST_HEAD;
        c->deadline_ms = gw_mono_ms() + (c->in_len ? srv->o.header_timeout_ms
                                                   : srv->o.idle_timeout_ms);
    }
    conn_input(c);
}

static void on_close_asked(gw_http_conn *c)
{
    if (c->state == ST_CLOSED || c->state == ST_LINGER)
        return;
    pthread_mutex_lock(&c->mu);
    bool gone = c->peer_gone, pending = c->out_head != NULL;
    pthread_mutex_unlock(&c->mu);
    if (gone)
        conn_close(c, "the client went away");
    else if (!pending)
        conn_linger(c);
}

static void process_wakes(gw_http *srv)
{
    pthread_mutex_lock(&srv->wake_mu);
    gw_http_conn *list = srv->wake_head;
    srv->wake_head = NULL;
    pthread_mutex_unlock(&srv->wake_mu);
    while (list) {
        gw_http_conn *c = list;
        pthread_mutex_lock(&srv->wake_mu);
        list = c->wake_next;
        unsigned what = c->wake;
        c->wake = 0;
        c->in_wake = false;
        pthread_mutex_unlock(&srv->wake_mu);
        if (c->state != ST_CLOSED) {
            if (what & W_DONE)
                on_done(c);
            if ((what & W_READ) && c->state != ST_CLOSED) {
                pthread_mutex_lock(&c->mu);
                bool full = c->inbox_bytes > 4 * srv->o.max_message;
                pthread_mutex_unlock(&c->mu);
                c->rd_paused = full;
                if (!full)
                    conn_input(c);
            }
            if ((what & W_CLOSING) && c->state != ST_CLOSED && c->state != ST_LINGER)
                c->deadline_ms = gw_mono_ms() + LINGER_MS;
            if (what & W_CLOSE)
                on_close_asked(c);
        }
        gw_http_conn_release(c); /* the wake list's */
    }
}

static void on_timers(gw_http *srv, uint64_t now)
{
    if (srv->accept_paused && now >= srv->accept_resume_ms && srv->listen_fd >= 0) {
        struct epoll_event ev = {EPOLLIN, {.ptr = &srv->listen_fd}};
        if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->listen_fd, &ev) == 0)
            srv->accept_paused = false;
        else
            srv->accept_resume_ms = now + 100;
    }
    for (gw_http_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        pthread_mutex_lock(&c->mu);
        bool stalled = c->out_head && now - c->out_since_ms > srv->o.send_timeout_ms;
        if (stalled)
            c->peer_gone = true;
        pthread_mutex_unlock(&c->mu);
        if (stalled) {
            gw_log_write(srv->o.log, GW_LOG_INFO, srv->category, "%s: closed: it read nothing "
                         "for %u ms", c->remote, srv->o.send_timeout_ms);
            conn_close(c, "the client does not read");
            continue;
        }
        if (!c->deadline_ms || now < c->deadline_ms)
            continue;
        switch (c->state) {
        case ST_HEAD:
            if (c->in_len)
                refuse(c, 408, "the request head did not come in time");
            else
                conn_close(c, "idle");
            break;
        case ST_BODY:
            refuse(c, 408, "the body did not come in time: nothing was done");
            break;
        default: /* a closing handshake or a linger that ran out */
            conn_close(c, "closing timed out");
            break;
        }
    }
}

/* Stopping: no new connections, idle ones closed, WebSockets told, a
 * streamed response waiting for its client woken (its write fails). */
static void begin_stop(gw_http *srv)
{
    if (srv->listen_fd >= 0) {
        epoll_ctl(srv->epfd, EPOLL_CTL_DEL, srv->listen_fd, NULL);
        close(srv->listen_fd);
        srv->listen_fd = -1;
    }
    for (gw_http_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        if (c->state == ST_WS)
            gw_ws_close(c, 1001, "the gateway is stopping");
        else if (c->state == ST_HEAD || c->state == ST_BODY || c->state == ST_LINGER)
            conn_close(c, "the gateway is stopping");
        else if (c->state == ST_BUSY) {
            pthread_mutex_lock(&c->mu);
            http__stream_signal_locked(c);
            pthread_mutex_unlock(&c->mu);
        }
    }
}

static void *loop_main(void *arg)
{
    gw_http *srv = arg;
    struct epoll_event ev[128];
    uint64_t next_tick = gw_mono_ms() + TICK_MS, stop_at = 0;
    for (;;) {
        uint64_t now = gw_mono_ms();
        if (atomic_load(&srv->stopping)) {
            if (!stop_at) {
                begin_stop(srv);
                stop_at = now + STOP_GRACE_MS;
            }
            if (!srv->conns || now >= stop_at)
                break;
        }
        int timeout = next_tick > now ? (int)(next_tick - now) : 0;
        int n = epoll_wait(srv->epfd, ev, 128, timeout);
        for (int i = 0; i < n; i++) {
            void *p = ev[i].data.ptr;
            if (p == &srv->listen_fd) {
                accept_all(srv);
                continue;
            }
            if (p == &srv->evfd) {
                uint64_t v;
                ssize_t r = read(srv->evfd, &v, sizeof(v));
                (void)r; /* the wakes, below */
                continue;
            }
            gw_http_conn *c = p;
            uint32_t e = ev[i].events;
            if (e & EPOLLERR) {
                pthread_mutex_lock(&c->mu);
                c->peer_gone = true;
                pthread_mutex_unlock(&c->mu);
                conn_close(c, "connection error");
                continue;
            }
            if (e & EPOLLOUT) {
                pthread_mutex_lock(&c->mu);
                c->wr_blocked = false;
                http__flush_locked(c);
                pthread_mutex_unlock(&c->mu);
            }
            if (e & (EPOLLRDHUP | EPOLLHUP)) {
                c->rd_ready = true; /* the read sees the end */
                if (c->state == ST_BUSY)
                    c->rd_eof = true;
            }
            if (e & EPOLLIN)
                c->rd_ready = true;
            if (c->rd_ready && c->state != ST_BUSY)
                conn_input(c);
        }
        process_wakes(srv);
        now = gw_mono_ms();
        if (now >= next_tick) {
            on_timers(srv, now);
            next_tick = now + TICK_MS;
        }
    }
    while (srv->conns)
        conn_close(srv->conns, "the gateway is stopping");
    process_wakes(srv); /* references held by wakes */
    pthread_mutex_lock(&srv->task_mu);
    srv->tasks_end = true;
    pthread_cond_broadcast(&srv->task_cv);
    pthread_mutex_unlock(&srv->task_mu);
    return NULL;
}

static void *worker_main(void *arg)
{
    gw_http *srv = arg;
    for (;;) {
        pthread_mutex_lock(&srv->task_mu);
        while (!srv->task_head && !srv->tasks_end)
            pthread_cond_wait(&srv->task_cv, &srv->task_mu);
        http_task *t = srv->task_head;
        if (t) {
            srv->task_head = t->next;
            if (!srv->task_head)
                srv->task_tail = NULL;
        }
        pthread_mutex_unlock(&srv->task_mu);
        if (!t)
            break;
        t->run(t);
    }
    return NULL;
}

/* ---------------------------------------------------------------- set-up */

/* Handlers parse JSON (nesting bounded by GW_JSON_MAX_DEPTH) and build
 * answers on these stacks: 1 MiB, far above the worst case allowed. */
#define WORKER_STACK (1024u * 1024u)

gw_err gw_http_start(const gw_http_opts *opts, gw_http **out, gw_error *err)
{
    *out = NULL;
    gw_http *srv = gw_calloc(1, sizeof(*srv));
    if (!srv)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    srv->o = *opts;
    snprintf(srv->category, sizeof(srv->category), "%s",
             opts->log_category ? opts->log_category : "http");
    srv->listen_fd = srv->epfd = srv->evfd = -1;
    pthread_mutex_init(&srv->wake_mu, NULL);
    pthread_mutex_init(&srv->task_mu, NULL);
    pthread_cond_init(&srv->task_cv, NULL);
    srv->addr_table = gw_calloc(ADDR_BUCKETS, sizeof(*srv->addr_table));
    srv->nworkers = opts->workers ? opts->workers : 16;
    srv->workers = gw_calloc(srv->nworkers, sizeof(pthread_t));
    gw_err rc = srv->addr_table && srv->workers ? GW_OK : GW_E_NOMEM;
    if (rc != GW_OK) {
        gw_error_set(err, rc, "out of memory");
        goto fail;
    }
    rc = gw_net_listen(opts->host, opts->port, 1024, &srv->listen_fd, &srv->port, err);
    if (rc != GW_OK)
        goto fail;
    srv->epfd = epoll_create1(EPOLL_CLOEXEC);
    srv->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event le = {EPOLLIN, {.ptr = &srv->listen_fd}};
    struct epoll_event we = {EPOLLIN | EPOLLET, {.ptr = &srv->evfd}};
    int fl = fcntl(srv->listen_fd, F_GETFL);
    if (srv->epfd < 0 || srv->evfd < 0 || fl < 0 ||
        fcntl(srv->listen_fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
        epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->listen_fd, &le) != 0 ||
        epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->evfd, &we) != 0) {
        rc = gw_error_set(err, GW_E_IO, "cannot set up the HTTP loop: %s", strerror(errno));
        goto fail;
    }
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, WORKER_STACK);
    for (unsigned i = 0; i < srv->nworkers; i++)
        if (pthread_create(&srv->workers[i], &a, worker_main, srv) != 0) {
            srv->nworkers = i;
            pthread_attr_destroy(&a);
            rc = gw_error_set(err, GW_E_NOMEM, "cannot start the HTTP workers");
            goto fail;
        }
    pthread_attr_destroy(&a);
    if (pthread_create(&srv->loop, NULL, loop_main, srv) != 0) {
        rc = gw_error_set(err, GW_E_NOMEM, "cannot start the HTTP loop");
        goto fail;
    }
    srv->loop_started = true;
    *out = srv;
    return GW_OK;
fail:
    gw_http_free(srv);
    return rc;
}

uint16_t gw_http_port(const gw_http *srv)
{
    return srv->port;
}

void gw_http_close(gw_http *srv)
{
    if (!srv)
        return;
    if (!atomic_exchange(&srv->stopping, true) && srv->loop_started) {
        uint64_t one = 1;
        ssize_t n = write(srv->evfd, &one, sizeof(one));
        (void)n;
    }
    if (srv->loop_started) {
        pthread_join(srv->loop, NULL);
        srv->loop_started = false;
    } else {
        pthread_mutex_lock(&srv->task_mu);
        srv->tasks_end = true;
        pthread_cond_broadcast(&srv->task_cv);
        pthread_mutex_unlock(&srv->task_mu);
    }
    for (unsigned i = 0; i < srv->nworkers; i++)
        pthread_join(srv->workers[i], NULL);
    srv->nworkers = 0;
}

void gw_http_free(gw_http *srv)
{
    if (!srv)
        return;
    gw_http_close(srv);
    /* wakes that came after the loop ended (an answer to a request the
     * loop had closed) hold references */
    while (srv->wake_head) {
        gw_http_conn *c = srv->wake_head;
        srv->wake_head = c->wake_next;
        c->in_wake = false;
        gw_http_conn_release(c);
    }
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    if (srv->epfd >= 0)
        close(srv->epfd);
    if (srv->evfd >= 0)
        close(srv->evfd);
    if (srv->addr_table) {
        for (size_t i = 0; i < ADDR_BUCKETS; i++)
            for (struct addr_count *e = srv->addr_table[i], *next; e; e = next) {
                next = e->next;
                gw_free(e);
            }
        gw_free(srv->addr_table);
    }
    gw_free(srv->workers);
    pthread_cond_destroy(&srv->task_cv);
    pthread_mutex_destroy(&srv->task_mu);
    pthread_mutex_destroy(&srv->wake_mu);
    gw_free(srv);
}

void gw_http_get_stats(gw_http *srv, gw_http_stats *st)
{
    st->connections = atomic_load(&srv->nconns);
    st->websockets = atomic_load(&srv->nws);
    st->accepted = atomic_load(&srv->accepted);
    st->refused = atomic_load(&srv->refused);
}
