/*
 * eio.c - Engine.IO v4 over civetweb (see eio.h).
 *
 * A session is polling until a WebSocket with its sid sends "2probe"; the
 * answer is "3probe", polls get a noop ("6") from then on so that the
 * client's last poll returns, and the client's "5" switches the session
 * to the WebSocket. Every packet to send is in the session's queue, which
 * either a poll or a writer thread drains, never both: nothing is lost or
 * sent twice across the switch.
 *
 * Locks: srv->mu guards the table, the queues and each session's state;
 * s->wmu guards writes to a session's WebSocket and its pointers (taken
 * before srv->mu, never after). civetweb runs a WebSocket's data and close
 * handlers on its one worker, so the connection cannot vanish under them.
 */
#include "eio.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define EIO_QUEUE 256        /* frames queued per session before it is closed */
#define EIO_MAX_WRITERS 8
#define EIO_SID_LEN 20

struct eio_session {
    eio_server *srv;
    char sid[EIO_SID_LEN + 1];
    int refs;                      /* table, a poll, a writer, a WebSocket */
    bool closed;
    bool websocket;                /* the transport is the WebSocket */
    bool upgrading;                /* "3probe" sent: polls get a noop */
    bool get_active, post_active;
    bool in_ready, in_writer;
    bool close_sent;               /* the WebSocket close went out */
    bool late;                     /* a request found it late: the heartbeat closes it */
    bool client_closed;            /* the client sent "1": a pending poll gets a noop */
    uint64_t probe_at_ms;          /* a WebSocket with its sid began its handshake */
    struct mg_connection *ws;      /* the WebSocket transport (wmu) */
    struct mg_connection *probe;   /* the WebSocket being upgraded to (wmu) */
    eio_frame *q[EIO_QUEUE];
    size_t qhead, qlen;
    eio_frame *latest[EIO_SLOTS];  /* the replaceable frames, after the queue */
    const char *late_reason;
    uint64_t next_ping_ms, pong_deadline_ms, deadline_ms;
    pthread_cond_t cv;             /* a poll waits here */
    pthread_mutex_t wmu;
    /* the callbacks of one session run one at a time (recursive: a
     * callback may close its session), and none after on_close */
    pthread_mutex_t cbmu;
    bool gone;                     /* on_close has run (cbmu) */
    char remote[48];
    char cookies[1024];
    void *user;
    eio_session *next;             /* the table */
    eio_session *ready_next;       /* the writers' list */
};

struct eio_server {
    eio_opts o;
    pthread_mutex_t mu;
    pthread_cond_t writers_cv, hb_cv;
    eio_session *sessions;
    unsigned nsessions;
    eio_session *ready_head, *ready_tail;
    pthread_t writers[EIO_MAX_WRITERS];
    unsigned nwriters;
    pthread_t hb;
    bool hb_started;
    bool stop;
    bool draining;                 /* stopping: waiting polls return at once */
};

/* A condition whose timed waits run on CLOCK_MONOTONIC: a step of the
 * wall clock neither stalls nor hurries the heartbeat and the polls. */
static void monotonic_cond(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

/* ---------------------------------------------------------------- frames */

eio_frame *eio_frame_new(bool binary, const char *data, size_t len)
{
    eio_frame *f = gw_malloc(sizeof(*f) + len + 1);
    if (!f)
        return NULL;
    atomic_init(&f->refs, 1);
    f->binary = binary;
    f->len = len;
    if (len)
        memcpy(f->data, data, len);
    f->data[len] = '\0';
    return f;
}

eio_frame *eio_frame_message(const char *text, size_t len)
{
    eio_frame *f = gw_malloc(sizeof(*f) + len + 2);
    if (!f)
        return NULL;
    atomic_init(&f->refs, 1);
    f->binary = false;
    f->len = len + 1;
    f->data[0] = '4';
    memcpy(f->data + 1, text, len);
    f->data[len + 1] = '\0';
    return f;
}

eio_frame *eio_frame_retain(eio_frame *f)
{
    atomic_fetch_add(&f->refs, 1);
    return f;
}

void eio_frame_release(eio_frame *f)
{
    if (f && atomic_fetch_sub(&f->refs, 1) == 1)
        gw_free(f);
}

/* ---------------------------------------------------------------- sessions */

static void unref_locked(eio_session *s)
{
    if (--s->refs > 0)
        return;
    for (size_t i = 0; i < s->qlen; i++)
        eio_frame_release(s->q[(s->qhead + i) % EIO_QUEUE]);
    for (size_t i = 0; i < EIO_SLOTS; i++)
        eio_frame_release(s->latest[i]);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->wmu);
    pthread_mutex_destroy(&s->cbmu);
    gw_free(s);
}

static eio_session *find_locked(eio_server *srv, const char *sid)
{
    for (eio_session *s = srv->sessions; s; s = s->next)
        if (strcmp(s->sid, sid) == 0)
            return s;
    return NULL;
}

static bool close_locked(eio_session *s);

/* find_locked for a request: a session whose pong or deadline is late is
 * closed first (the heartbeat may not have come round to it yet), so that
 * the protocol's timings hold to the millisecond. */
static eio_session *find_live_locked(eio_server *srv, const char *sid)
{
    eio_session *s = find_locked(srv, sid);
    if (!s)
        return NULL;
    uint64_t now = gw_mono_ms();
    bool late = (s->deadline_ms && now >= s->deadline_ms) ||
                (s->pong_deadline_ms && now >= s->pong_deadline_ms) ||
                (!s->pong_deadline_ms && now >= s->next_ping_ms + srv->o.ping_timeout_ms);
    if (late) {
        /* on_close runs from the heartbeat, which still sees it late */
        s->late = true;
        return NULL;
    }
    return s;
}

static void make_ready_locked(eio_session *s)
{
    eio_server *srv = s->srv;
    if (s->in_ready || s->in_writer || !s->websocket)
        return;
    s->in_ready = true;
    s->refs++;
    s->ready_next = NULL;
    if (srv->ready_tail)
        srv->ready_tail->ready_next = s;
    else
        srv->ready_head = s;
    srv->ready_tail = s;
    pthread_cond_signal(&srv->writers_cv);
}

/* Marks s closed and takes it out of the table; true for the caller that
 * closed it (who then calls on_close, without the lock). */
static bool close_locked(eio_session *s)
{
    if (s->closed)
        return false;
    s->closed = true;
    eio_server *srv = s->srv;
    for (eio_session **p = &srv->sessions; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            srv->nsessions--;
            break;
        }
    pthread_cond_broadcast(&s->cv);
    make_ready_locked(s); /* a WebSocket gets its close packet */
    return true;
}

static void finish_close(eio_session *s, bool closed_now, const char *reason)
{
    eio_server *srv = s->srv;
    if (!closed_now)
        return;
    gw_log_write(srv->o.log, GW_LOG_DEBUG, "eio", "session %s closed: %s", s->sid, reason);
    pthread_mutex_lock(&s->cbmu);
    s->gone = true;
    if (srv->o.on_close)
        srv->o.on_close(srv->o.ud, s, reason);
    pthread_mutex_unlock(&s->cbmu);
    pthread_mutex_lock(&srv->mu);
    unref_locked(s); /* the table's */
    pthread_mutex_unlock(&srv->mu);
}

void eio_close(eio_session *s, const char *reason)
{
    pthread_mutex_lock(&s->srv->mu);
    bool now = close_locked(s);
    pthread_mutex_unlock(&s->srv->mu);
    finish_close(s, now, reason);
}

static bool pending_locked(const eio_session *s)
{
    if (s->qlen)
        return true;
    for (size_t i = 0; i < EIO_SLOTS; i++)
        if (s->latest[i])
            return true;
    return false;
}

bool eio_send(eio_session *s, eio_frame *f, int slot)
{
    eio_server *srv = s->srv;
    pthread_mutex_lock(&srv->mu);
    bool ok = !s->closed && !s->late;
    if (ok && slot >= 0 && slot < EIO_SLOTS) {
        eio_frame_release(s->latest[slot]);
        s->latest[slot] = eio_frame_retain(f);
    } else if (ok && s->qlen == EIO_QUEUE) {
        /* closed by the heartbeat: callers may hold their own locks */
        s->late = true;
        s->late_reason = "the client does not keep up (send queue full)";
        ok = false;
    } else if (ok) {
        s->q[(s->qhead + s->qlen++) % EIO_QUEUE] = eio_frame_retain(f);
    }
    if (ok) {
        if (s->websocket)
            make_ready_locked(s);
        else
            pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&srv->mu);
    return ok;
}

void eio_set_deadline(eio_session *s, uint64_t mono_ms)
{
    pthread_mutex_lock(&s->srv->mu);
    s->deadline_ms = mono_ms;
    pthread_mutex_unlock(&s->srv->mu);
}

const char *eio_sid(const eio_session *s) { return s->sid; }
const char *eio_remote_addr(const eio_session *s) { return s->remote; }
const char *eio_cookies(const eio_session *s) { return s->cookies[0] ? s->cookies : NULL; }
void *eio_user(const eio_session *s) { return s->user; }
void eio_set_user(eio_session *s, void *user) { s->user = user; }

unsigned eio_count(eio_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    unsigned n = srv->nsessions;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

/* Takes every queued frame (and the replaceable one) into out. */
static size_t take_locked(eio_session *s, eio_frame **out)
{
    size_t n = 0;
    for (; s->qlen; s->qlen--, s->qhead = (s->qhead + 1) % EIO_QUEUE)
        out[n++] = s->q[s->qhead];
    for (size_t i = 0; i < EIO_SLOTS; i++)
        if (s->latest[i]) {
            out[n++] = s->latest[i];
            s->latest[i] = NULL;
        }
    return n;
}

/* "0{...}": the open packet. */
static int open_packet(eio_server *srv, const eio_session *s, char *buf, size_t size)
{
    return snprintf(buf, size, "0{\"sid\":\"%s\",\"upgrades\":[%s],\"pingInterval\":%u,"
                    "\"pingTimeout\":%u,\"maxPayload\":%u}", s->sid,
                    s->websocket ? "" : "\"websocket\"", srv->o.ping_interval_ms,
                    srv->o.ping_timeout_ms, srv->o.max_payload);
}

static int ws_write(struct mg_connection *conn, int opcode, const char *data, size_t len)
{
    return mg_websocket_write(conn, opcode, data, len);
}

/* A new session: on_open runs before any other thread can see it, then
 * it goes into the table with one reference for the table, and one for
 * the caller. NULL when the table is full. */
static eio_session *create_session(eio_server *srv, struct mg_connection *conn, bool websocket)
{
    pthread_mutex_lock(&srv->mu);
    bool full = srv->nsessions >= srv->o.max_sessions;
    pthread_mutex_unlock(&srv->mu);
    eio_session *s = full ? NULL : gw_calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->srv = srv;
    unsigned char raw[15];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(s->sid, sizeof(s->sid), raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    s->refs = 2;
    s->websocket = websocket;
    s->ws = websocket ? conn : NULL;
    monotonic_cond(&s->cv);
    pthread_mutex_init(&s->wmu, NULL);
    pthread_mutexattr_t ra;
    pthread_mutexattr_init(&ra);
    pthread_mutexattr_settype(&ra, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s->cbmu, &ra);
    pthread_mutexattr_destroy(&ra);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    snprintf(s->remote, sizeof(s->remote), "%s", ri->remote_addr);
    const char *cookies = mg_get_header(conn, "Cookie");
    if (cookies && strlen(cookies) < sizeof(s->cookies))
        snprintf(s->cookies, sizeof(s->cookies), "%s", cookies);
    if (srv->o.on_open)
        srv->o.on_open(srv->o.ud, s);
    if (websocket) {
        /* the open packet goes out before anything another thread queues */
        char open[256];
        int n = open_packet(srv, s, open, sizeof(open));
        ws_write(conn, MG_WEBSOCKET_OPCODE_TEXT, open, (size_t)n);
    }
    pthread_mutex_lock(&s->wmu);
    pthread_mutex_lock(&srv->mu);
    if (s->closed) {
        /* on_open gave up on it (out of memory): its close dropped the
         * table's reference; no writer may use the connection */
        s->ws = NULL;
        pthread_mutex_unlock(&srv->mu);
        pthread_mutex_unlock(&s->wmu);
        pthread_mutex_lock(&srv->mu);
        unref_locked(s);
        pthread_mutex_unlock(&srv->mu);
        return NULL;
    }
    pthread_mutex_unlock(&s->wmu);
    s->next_ping_ms = gw_mono_ms() + srv->o.ping_interval_ms;
    s->next = srv->sessions;
    srv->sessions = s;
    srv->nsessions++;
    pthread_mutex_unlock(&srv->mu);
    return s;
}

/* ---------------------------------------------------------------- packets in */

static void deliver(eio_session *s, const char *p, size_t len, bool binary)
{
    eio_server *srv = s->srv;
    pthread_mutex_lock(&s->cbmu);
    if (!s->gone && srv->o.on_message)
        srv->o.on_message(srv->o.ud, s, p, len, binary);
    pthread_mutex_unlock(&s->cbmu);
}

typedef enum { IN_OK, IN_CLOSE, IN_BAD } in_result;

/* One packet from the client over the session's transport. */
static in_result packet_in(eio_session *s, const char *p, size_t len, bool binary)
{
    eio_server *srv = s->srv;
    if (binary) {
        deliver(s, p, len, true);
        return IN_OK;
    }
    if (len == 0)
        return IN_BAD;
    switch (p[0]) {
    case '1':
        return IN_CLOSE;
    case '3':
        pthread_mutex_lock(&srv->mu);
        s->pong_deadline_ms = 0;
        s->next_ping_ms = gw_mono_ms() + srv->o.ping_interval_ms;
        pthread_mutex_unlock(&srv->mu);
        return IN_OK;
    case '4':
        deliver(s, p + 1, len - 1, false);
        return IN_OK;
    case '6':
        return IN_OK;
    default: /* open, ping (v3), upgrade outside a probe, unknown */
        return IN_BAD;
    }
}

/* Waits on the session's condition for at most ms (srv->mu held). */
static void wait_ms_locked(eio_session *s, unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* the condition uses this clock */
    long ns = ts.tv_nsec + (long)(ms % 1000) * 1000000L;
    ts.tv_sec += (time_t)(ms / 1000) + ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    pthread_cond_timedwait(&s->cv, &s->srv->mu, &ts);
}

/* ---------------------------------------------------------------- polling */

static int send_body(struct mg_connection *conn, int status, const char *type,
                     const char *cors, const char *body, size_t len)
{
    mg_response_header_start(conn, status);
    mg_response_header_add(conn, "Content-Type", type, -1);
    char n[24];
    snprintf(n, sizeof(n), "%zu", len);
    mg_response_header_add(conn, "Content-Length", n, -1);
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
    if (cors && cors[0])
        mg_response_header_add_lines(conn, cors);
    mg_response_header_send(conn);
    if (len)
        mg_write(conn, body, len);
    return status;
}

/* The protocol's 400 answers (engine.io's server: code and message). */
static int send_error(struct mg_connection *conn, const char *cors, int code)
{
    static const char *const messages[] = {
        "Transport unknown", "Session ID unknown", "Bad handshake method", "Bad request",
        "Forbidden", "Unsupported protocol version",
    };
    char body[96];
    int n = snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", code,
                     messages[code]);
    return send_body(conn, code == 4 ? 403 : 400, "application/json", cors, body, (size_t)n);
}

enum { E_TRANSPORT, E_SID, E_METHOD, E_BAD, E_FORBIDDEN, E_VERSION };

typedef struct {
    char eio[8], transport[16], sid[EIO_SID_LEN + 8];
    bool has_sid;
} query;

static void parse_query(const struct mg_request_info *ri, query *q)
{
    memset(q, 0, sizeof(*q));
    const char *qs = ri->query_string ? ri->query_string : "";
    size_t n = strlen(qs);
    mg_get_var(qs, n, "EIO", q->eio, sizeof(q->eio));
    mg_get_var(qs, n, "transport", q->transport, sizeof(q->transport));
    /* present but too long (-2) is a sid too: an unknown one */
    int r = mg_get_var(qs, n, "sid", q->sid, sizeof(q->sid));
    q->has_sid = r != -1;
    if (r < 0)
        q->sid[0] = '\0';
}

/* The checks of engine.io's server, in its order: the transport, then the
 * sid (a session's transport), then the handshake's method and protocol
 * version. -1 when the request may go on, else the error code. */
static int check_query(eio_server *srv, const query *q, const char *method, bool upgrade)
{
    bool ws = strcmp(q->transport, "websocket") == 0;
    if (!ws && strcmp(q->transport, "polling") != 0)
        return E_TRANSPORT;
    if (q->has_sid) {
        pthread_mutex_lock(&srv->mu);
        eio_session *s = find_live_locked(srv, q->sid);
        int e = !s ? E_SID
                : upgrade ? (!ws || s->websocket || s->probe ? E_BAD : -1)
                : (ws || s->websocket ? E_BAD : -1);
        pthread_mutex_unlock(&srv->mu);
        return e;
    }
    if (strcmp(method, "GET") != 0)
        return E_METHOD;
    if (ws != upgrade)
        return E_BAD;
    if (strcmp(q->eio, "4") != 0)
        return E_VERSION;
    return -1;
}

static void base64_into(gw_buf *b, const char *data, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *tmp = gw_malloc(cap);
    if (!tmp)
        return;
    sodium_bin2base64(tmp, cap, (const unsigned char *)data, len, sodium_base64_VARIANT_ORIGINAL);
    gw_buf_puts(b, tmp);
    gw_free(tmp);
}

static int poll_get(eio_server *srv, struct mg_connection *conn, const char *cors,
                    const query *q)
{
    pthread_mutex_lock(&srv->mu);
    eio_session *s = find_live_locked(srv, q->sid);
    if (!s) {
        pthread_mutex_unlock(&srv->mu);
        return send_error(conn, cors, E_SID);
    }
    if (s->websocket) {
        pthread_mutex_unlock(&srv->mu);
        return send_error(conn, cors, E_BAD);
    }
    bool probing = s->upgrading || s->probe || gw_mono_ms() - s->probe_at_ms < 1000;
    if (probing && !s->get_active) {
        /* a poll sent while the client switches to its WebSocket: the
         * reference server would have read the WebSocket's "5" first, so
         * wait a moment for it; then it is refused, as after the switch */
        s->refs++;
        uint64_t until = gw_mono_ms() + 100;
        while (!s->websocket && !s->closed && !pending_locked(s) && gw_mono_ms() < until)
            wait_ms_locked(s, 5);
        bool switched = s->websocket, closed = s->closed;
        unref_locked(s); /* s is gone now unless it is still in the table (open) */
        if (switched || closed) {
            pthread_mutex_unlock(&srv->mu);
            return send_error(conn, cors, switched ? E_BAD : E_SID);
        }
    }
    if (s->get_active) {
        /* two polls at once: the protocol closes the session */
        bool now = close_locked(s);
        pthread_mutex_unlock(&srv->mu);
        finish_close(s, now, "overlapping polling requests");
        return send_error(conn, cors, E_BAD);
    }
    s->get_active = true;
    s->refs++;
    pthread_cond_broadcast(&s->cv); /* a close waiting for this poll */
    uint64_t until = gw_mono_ms() + srv->o.ping_interval_ms + srv->o.ping_timeout_ms;
    while (!s->closed && !s->websocket && !s->upgrading && !pending_locked(s) && !srv->draining) {
        uint64_t now = gw_mono_ms();
        if (now >= until)
            break;
        uint64_t wait = until - now;
        wait_ms_locked(s, wait > 1000 ? 1000 : (unsigned)wait);
    }
    eio_frame *frames[EIO_QUEUE + EIO_SLOTS];
    size_t n = s->websocket ? 0 : take_locked(s, frames);
    bool closed = s->closed && !s->client_closed;
    s->get_active = false;
    unref_locked(s);
    pthread_mutex_unlock(&srv->mu);
    gw_buf b;
    gw_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        if (i)
            gw_buf_append(&b, "\x1e", 1);
        if (frames[i]->binary) {
            gw_buf_append(&b, "b", 1);
            base64_into(&b, frames[i]->data, frames[i]->len);
        } else {
            gw_buf_append(&b, frames[i]->data, frames[i]->len);
        }
        eio_frame_release(frames[i]);
    }
    if (closed)
        gw_buf_puts(&b, n ? "\x1e" "1" : "1");
    else if (n == 0)
        gw_buf_append(&b, "6", 1); /* upgrading, switched, or nothing within the wait */
    int rc = send_body(conn, 200, "text/plain; charset=UTF-8", cors, gw_buf_cstr(&b), b.len);
    gw_buf_clear(&b);
    return rc;
}

bool eio_payload_each(const char *body, size_t len,
                      bool (*fn)(void *ud, const char *p, size_t n, bool binary), void *ud)
{
    for (size_t at = 0; at <= len;) {
        const char *p = body + at;
        const char *end = memchr(p, '\x1e', len - at);
        size_t n = end ? (size_t)(end - p) : len - at;
        at += n + 1;
        if (n && p[0] == 'b') {
            size_t out = 0;
            unsigned char *bin = gw_malloc(n);
            bool ok = bin && sodium_base642bin(bin, n, p + 1, n - 1, NULL, &out, NULL,
                                               sodium_base64_VARIANT_ORIGINAL) == 0 &&
                      fn(ud, (const char *)bin, out, true);
            gw_free(bin);
            if (!ok)
                return false;
        } else if (!fn(ud, p, n, false)) {
            return false;
        }
    }
    return true;
}

typedef struct {
    eio_session *s;
    in_result r;
} post_ctx;

static bool post_packet(void *ud, const char *p, size_t n, bool binary)
{
    post_ctx *c = ud;
    c->r = packet_in(c->s, p, n, binary);
    return c->r == IN_OK;
}

static int poll_post(eio_server *srv, struct mg_connection *conn, const char *cors,
                     const query *q)
{
    pthread_mutex_lock(&srv->mu);
    eio_session *s = find_live_locked(srv, q->sid);
    int e = !s ? E_SID : s->websocket ? E_BAD : -1;
    bool overlap = e < 0 && s->post_active;
    if (e < 0 && !overlap) {
        s->refs++;
        s->post_active = true;
    }
    pthread_mutex_unlock(&srv->mu);
    if (e >= 0)
        return send_error(conn, cors, e);
    if (overlap) {
        /* two POSTs at once: the reference server closes the session */
        eio_close(s, "overlapping POST requests");
        return send_error(conn, cors, E_BAD);
    }
    size_t cap = srv->o.max_payload + 1, len = 0;
    char *body = gw_malloc(cap + 1);
    int n = 0;
    while (body && len < cap && (n = mg_read(conn, body + len, cap - len)) > 0)
        len += (size_t)n;
    int rc;
    const char *why = NULL;
    if (!body) {
        rc = send_body(conn, 500, "text/plain", cors, "out of memory", 13);
    } else if (len > srv->o.max_payload) {
        why = "payload too large";
        rc = send_body(conn, 413, "text/plain", cors, "Payload Too Large", 17);
    } else {
        post_ctx pc = {s, IN_OK};
        if (!eio_payload_each(body, len, post_packet, &pc) && pc.r == IN_OK)
            pc.r = IN_BAD; /* base64 that does not decode */
        in_result r = pc.r;
        if (r == IN_BAD) {
            why = "malformed packet";
            rc = send_error(conn, cors, E_BAD);
        } else {
            if (r == IN_CLOSE) {
                why = "the client closed it";
                pthread_mutex_lock(&srv->mu);
                s->client_closed = true;
                /* a poll the client sent with its close gets its noop, as
                 * from the reference server, which reads that poll first */
                uint64_t until = gw_mono_ms() + 50;
                while (!s->get_active && !s->closed && gw_mono_ms() < until)
                    wait_ms_locked(s, 5);
                pthread_mutex_unlock(&srv->mu);
            }
            rc = send_body(conn, 200, "text/html", cors, "ok", 2);
        }
    }
    gw_free(body);
    if (why)
        eio_close(s, why);
    pthread_mutex_lock(&srv->mu);
    s->post_active = false;
    unref_locked(s);
    pthread_mutex_unlock(&srv->mu);
    return rc;
}

int eio_handle_http(eio_server *srv, struct mg_connection *conn, const char *cors)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    char cors_lines[512];
    snprintf(cors_lines, sizeof(cors_lines), "%s", srv->o.cors_any ?
             "Access-Control-Allow-Origin: *\r\n" : cors ? cors : "");
    if (strcmp(ri->request_method, "OPTIONS") == 0) {
        mg_response_header_start(conn, 204);
        mg_response_header_add_lines(conn, "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
                                           "Access-Control-Allow-Headers: Content-Type\r\n");
        if (cors_lines[0])
            mg_response_header_add_lines(conn, cors_lines);
        mg_response_header_send(conn);
        return 204;
    }
    query q;
    parse_query(ri, &q);
    int e = check_query(srv, &q, ri->request_method, false);
    if (e >= 0)
        return send_error(conn, cors_lines, e);
    if (q.has_sid) {
        if (strcmp(ri->request_method, "GET") == 0)
            return poll_get(srv, conn, cors_lines, &q);
        if (strcmp(ri->request_method, "POST") == 0)
            return poll_post(srv, conn, cors_lines, &q);
        return send_error(conn, cors_lines, E_BAD);
    }
    eio_session *s = create_session(srv, conn, false);
    if (!s)
        return send_error(conn, cors_lines, E_FORBIDDEN);
    char open[256];
    int n = open_packet(srv, s, open, sizeof(open));
    int rc = send_body(conn, 200, "text/plain; charset=UTF-8", cors_lines, open, (size_t)n);
    pthread_mutex_lock(&srv->mu);
    unref_locked(s);
    pthread_mutex_unlock(&srv->mu);
    return rc;
}

/* ---------------------------------------------------------------- websocket */

static int ws_connect(const struct mg_connection *cconn, void *cbdata)
{
    eio_server *srv = cbdata;
    struct mg_connection *conn = (struct mg_connection *)cconn;
    query q;
    parse_query(mg_get_request_info(conn), &q);
    int e = check_query(srv, &q, "GET", true);
    if (e < 0 && q.has_sid) {
        pthread_mutex_lock(&srv->mu);
        eio_session *s = find_locked(srv, q.sid);
        if (s)
            s->probe_at_ms = gw_mono_ms(); /* polls wait a moment for it (poll_get) */
        pthread_mutex_unlock(&srv->mu);
    }
    if (e < 0 && ((!q.has_sid && eio_count(srv) >= srv->o.max_sessions) ||
                  (srv->o.allow_ws && !srv->o.allow_ws(srv->o.ud, conn))))
        e = E_FORBIDDEN;
    if (e >= 0) {
        send_error(conn, srv->o.cors_any ? "Access-Control-Allow-Origin: *\r\n" : "", e);
        return 1; /* no handshake */
    }
    return 0;
}

static void ws_ready(struct mg_connection *conn, void *cbdata)
{
    eio_server *srv = cbdata;
    query q;
    parse_query(mg_get_request_info(conn), &q);
    if (q.has_sid) {
        pthread_mutex_lock(&srv->mu);
        eio_session *s = find_locked(srv, q.sid);
        if (s)
            s->refs++;
        pthread_mutex_unlock(&srv->mu);
        if (!s) {
            mg_set_user_connection_data(conn, NULL); /* closed at its first frame */
            return;
        }
        /* checked and taken in one section: one probe per session */
        pthread_mutex_lock(&s->wmu);
        pthread_mutex_lock(&srv->mu);
        bool ok = !s->websocket && !s->probe && !s->closed;
        if (ok)
            s->probe = conn; /* keeps the reference: the WebSocket's */
        else
            unref_locked(s);
        pthread_mutex_unlock(&srv->mu);
        pthread_mutex_unlock(&s->wmu); /* ok: s is referenced; else not touched again */
        mg_set_user_connection_data(conn, ok ? s : NULL);
        return;
    }
    /* the caller's reference is the WebSocket's */
    mg_set_user_connection_data(conn, create_session(srv, conn, true));
}

static int ws_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
    eio_server *srv = cbdata;
    eio_session *s = mg_get_user_connection_data(conn);
    int op = bits & 0x0f;
    if (!s || op == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
        return 0;
    if (op == MG_WEBSOCKET_OPCODE_PING) {
        pthread_mutex_lock(&s->wmu);
        ws_write(conn, MG_WEBSOCKET_OPCODE_PONG, data, len <= 125 ? len : 125);
        pthread_mutex_unlock(&s->wmu);
        return 1;
    }
    if (op == MG_WEBSOCKET_OPCODE_PONG)
        return 1;
    /* no fragments, nothing over the limit */
    if (!(bits & 0x80) || op == MG_WEBSOCKET_OPCODE_CONTINUATION || len > srv->o.max_payload)
        return 0;
    bool binary = op == MG_WEBSOCKET_OPCODE_BINARY;
    if (!binary && op != MG_WEBSOCKET_OPCODE_TEXT)
        return 0;
    pthread_mutex_lock(&srv->mu);
    bool is_probe = s->probe == conn && !s->websocket;
    bool closed = s->closed;
    pthread_mutex_unlock(&srv->mu);
    if (closed)
        return 0;
    if (is_probe) {
        if (!binary && len == 6 && memcmp(data, "2probe", 6) == 0) {
            pthread_mutex_lock(&s->wmu);
            ws_write(conn, MG_WEBSOCKET_OPCODE_TEXT, "3probe", 6);
            pthread_mutex_unlock(&s->wmu);
            pthread_mutex_lock(&srv->mu);
            s->upgrading = true;
            pthread_cond_broadcast(&s->cv); /* the poll returns a noop */
            pthread_mutex_unlock(&srv->mu);
            return 1;
        }
        if (!binary && len == 1 && data[0] == '5') {
            pthread_mutex_lock(&s->wmu);
            pthread_mutex_lock(&srv->mu);
            bool ok = s->upgrading && !s->closed;
            if (ok) {
                s->websocket = true;
                s->ws = conn;
                s->probe = NULL;
                s->upgrading = false;
                pthread_cond_broadcast(&s->cv);
                if (pending_locked(s))
                    make_ready_locked(s);
            }
            pthread_mutex_unlock(&srv->mu);
            pthread_mutex_unlock(&s->wmu);
            return ok;
        }
        return 0;
    }
    in_result r = packet_in(s, data, len, binary);
    if (r != IN_OK)
        gw_log_write(srv->o.log, GW_LOG_DEBUG, "eio", "session %s: %s", s->sid,
                     r == IN_CLOSE ? "closed by the client" : "malformed packet");
    return r == IN_OK;
}

static void ws_close(const struct mg_connection *cconn, void *cbdata)
{
    eio_server *srv = cbdata;
    struct mg_connection *conn = (struct mg_connection *)cconn;
    eio_session *s = mg_get_user_connection_data(conn);
    if (!s)
        return;
    pthread_mutex_lock(&s->wmu);
    pthread_mutex_lock(&srv->mu);
    bool now = false;
    if (s->probe == conn) {
        s->probe = NULL;
        s->upgrading = false;
    } else if (s->ws == conn) {
        s->ws = NULL;
        now = close_locked(s);
    }
    pthread_mutex_unlock(&srv->mu);
    pthread_mutex_unlock(&s->wmu);
    finish_close(s, now, "transport close");
    pthread_mutex_lock(&srv->mu);
    unref_locked(s); /* the WebSocket's */
    pthread_mutex_unlock(&srv->mu);
}

/* ---------------------------------------------------------------- threads */

static void *writer_main(void *arg)
{
    eio_server *srv = arg;
    pthread_mutex_lock(&srv->mu);
    while (!srv->stop) {
        eio_session *s = srv->ready_head;
        if (!s) {
            pthread_cond_wait(&srv->writers_cv, &srv->mu);
            continue;
        }
        srv->ready_head = s->ready_next;
        if (!srv->ready_head)
            srv->ready_tail = NULL;
        s->in_ready = false;
        s->in_writer = true;
        eio_frame *frames[EIO_QUEUE + EIO_SLOTS];
        size_t n = take_locked(s, frames);
        bool send_close = s->closed && !s->close_sent;
        s->close_sent = s->close_sent || send_close;
        pthread_mutex_unlock(&srv->mu);
        pthread_mutex_lock(&s->wmu);
        bool failed = false;
        for (size_t i = 0; i < n; i++) {
            /* a write that fails or times out (civetweb's send timeout):
             * the client does not read; nothing more is tried on it */
            if (s->ws && !failed)
                failed = ws_write(s->ws, frames[i]->binary ? MG_WEBSOCKET_OPCODE_BINARY
                                                           : MG_WEBSOCKET_OPCODE_TEXT,
                                  frames[i]->data, frames[i]->len) <= 0;
            eio_frame_release(frames[i]);
        }
        if (send_close && s->ws && !failed) {
            ws_write(s->ws, MG_WEBSOCKET_OPCODE_TEXT, "1", 1);
            ws_write(s->ws, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "\x03\xe8", 2);
        }
        pthread_mutex_unlock(&s->wmu);
        pthread_mutex_lock(&srv->mu);
        s->in_writer = false;
        if (failed && !s->closed) {
            s->late = true; /* the heartbeat closes it */
            s->late_reason = "the client does not read";
        }
        if ((!s->closed && !failed && pending_locked(s)) || (s->closed && !s->close_sent))
            make_ready_locked(s);
        unref_locked(s); /* the ready list's */
    }
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

static void *heartbeat_main(void *arg)
{
    eio_server *srv = arg;
    eio_frame *ping = eio_frame_new(false, "2", 1);
    pthread_mutex_lock(&srv->mu);
    while (!srv->stop) {
        uint64_t now = gw_mono_ms();
        eio_session *late[64];
        const char *why[64];
        size_t nlate = 0;
        for (eio_session *s = srv->sessions; s && nlate < 64; s = s->next) {
            const char *reason = NULL;
            if (s->deadline_ms && now >= s->deadline_ms)
                reason = "connect timeout";
            else if ((s->pong_deadline_ms && now >= s->pong_deadline_ms) || s->late)
                reason = s->late_reason ? s->late_reason : "ping timeout";
            if (reason) {
                s->refs++;
                late[nlate] = s;
                why[nlate++] = reason;
            } else if (!s->pong_deadline_ms && now >= s->next_ping_ms && ping) {
                if (s->qlen < EIO_QUEUE) {
                    s->q[(s->qhead + s->qlen++) % EIO_QUEUE] = eio_frame_retain(ping);
                    if (s->websocket)
                        make_ready_locked(s);
                    else
                        pthread_cond_broadcast(&s->cv);
                }
                /* from when it was due, not from when this pass came round */
                s->pong_deadline_ms = s->next_ping_ms + srv->o.ping_timeout_ms;
            }
        }
        for (size_t i = 0; i < nlate; i++) {
            bool closed_now = close_locked(late[i]);
            pthread_mutex_unlock(&srv->mu);
            finish_close(late[i], closed_now, why[i]);
            pthread_mutex_lock(&srv->mu);
            unref_locked(late[i]);
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 5 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (!srv->stop)
            pthread_cond_timedwait(&srv->hb_cv, &srv->mu, &ts);
    }
    pthread_mutex_unlock(&srv->mu);
    eio_frame_release(ping);
    return NULL;
}

gw_err eio_server_new(const eio_opts *opts, eio_server **out, gw_error *err)
{
    eio_server *srv = gw_calloc(1, sizeof(*srv));
    if (!srv)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    srv->o = *opts;
    if (!srv->o.max_sessions)
        srv->o.max_sessions = 256;
    if (!srv->o.max_payload)
        srv->o.max_payload = 1000000;
    srv->nwriters = opts->writers ? opts->writers : 2;
    if (srv->nwriters > EIO_MAX_WRITERS)
        srv->nwriters = EIO_MAX_WRITERS;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->writers_cv, NULL);
    monotonic_cond(&srv->hb_cv);
    for (unsigned i = 0; i < srv->nwriters; i++)
        if (pthread_create(&srv->writers[i], NULL, writer_main, srv) != 0) {
            srv->nwriters = i;
            eio_server_free(srv);
            return gw_error_set(err, GW_E_NOMEM, "cannot start the Socket.IO writers");
        }
    if (pthread_create(&srv->hb, NULL, heartbeat_main, srv) != 0) {
        eio_server_free(srv);
        return gw_error_set(err, GW_E_NOMEM, "cannot start the Socket.IO heartbeat");
    }
    srv->hb_started = true;
    *out = srv;
    return GW_OK;
}

void eio_server_attach(eio_server *srv, struct mg_context *ctx, const char *path)
{
    mg_set_websocket_handler(ctx, path, ws_connect, ws_ready, ws_data, ws_close, srv);
}

void eio_server_drain(eio_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    srv->draining = true;
    for (eio_session *s = srv->sessions; s; s = s->next)
        pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&srv->mu);
}

void eio_server_close_all(eio_server *srv)
{
    if (!srv)
        return;
    for (;;) {
        pthread_mutex_lock(&srv->mu);
        eio_session *s = srv->sessions;
        bool now = s && close_locked(s);
        pthread_mutex_unlock(&srv->mu);
        if (!s)
            break;
        finish_close(s, now, "the gateway is stopping");
    }
}

void eio_server_free(eio_server *srv)
{
    if (!srv)
        return;
    eio_server_close_all(srv);
    pthread_mutex_lock(&srv->mu);
    srv->stop = true;
    pthread_cond_broadcast(&srv->writers_cv);
    pthread_cond_broadcast(&srv->hb_cv);
    pthread_mutex_unlock(&srv->mu);
    for (unsigned i = 0; i < srv->nwriters; i++)
        pthread_join(srv->writers[i], NULL);
    if (srv->hb_started)
        pthread_join(srv->hb, NULL);
    /* what the writers did not take */
    while (srv->ready_head) {
        eio_session *s = srv->ready_head;
        srv->ready_head = s->ready_next;
        unref_locked(s);
    }
    pthread_cond_destroy(&srv->writers_cv);
    pthread_cond_destroy(&srv->hb_cv);
    pthread_mutex_destroy(&srv->mu);
    gw_free(srv);
}
