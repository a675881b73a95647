/*
 * eio.c - Engine.IO v4 on the http module (see eio.h).
 *
 * A session is polling until a WebSocket with its sid sends "2probe"; the
 * answer is "3probe", a parked poll is ended with a noop ("6"), and the
 * client's "5" switches the session to the WebSocket: what was queued for
 * polling goes out on it first, in order, under srv->mu, and everything
 * after goes straight to the connection. Nothing is lost or sent twice
 * across the switch.
 *
 * Locks: srv->mu guards the table and every session's state. It may be
 * held while the http module queues output (its connection lock comes
 * after ours and never calls back); callbacks run without it.
 *
 * References of a session: the table's (until on_close has run), one per
 * WebSocket connection that carries it (until that connection's close),
 * and a caller's while it works with it.
 */
#include "eio.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define EIO_QUEUE 256        /* frames queued per polling session before it is closed */
#define EIO_SID_LEN 20
#define PROBE_WAIT_MS 100    /* a poll during a probe waits this long for the switch */
#define CLOSE_WAIT_MS 50     /* a client's close waits this long for its own poll */

struct eio_session {
    eio_server *srv;
    char sid[EIO_SID_LEN + 1];
    int refs;
    bool closed;
    bool websocket;                /* the transport is the WebSocket */
    bool upgrading;                /* "3probe" sent */
    bool post_active;
    bool late;                     /* a request found it late: the heartbeat closes it */
    bool client_closed;            /* the client sent "1" */
    const char *late_reason;
    uint64_t created_ms;
    uint64_t probe_at_ms;          /* a WebSocket with its sid began its handshake */
    uint64_t next_ping_ms, pong_deadline_ms, deadline_ms;
    gw_http_conn *ws;              /* the WebSocket transport (borrowed until its close) */
    gw_http_conn *probe;           /* the WebSocket being upgraded to (likewise) */
    gw_http_req *poll;             /* a parked GET */
    gw_http_req *close_post;       /* the client's close, answered when it is closed */
    bool poll_probe;               /* parked during a probe */
    uint64_t poll_deadline_ms;
    char poll_cors[512];
    eio_frame *q[EIO_QUEUE];
    size_t qhead, qlen;
    eio_frame *latest[EIO_SLOTS];  /* the replaceable frames, after the queue */
    /* the callbacks of one session run one at a time (recursive: a
     * callback may close its session), and none after on_close */
    pthread_mutex_t cbmu;
    bool gone;                     /* on_close has run (cbmu) */
    char remote[48];
    char cookies[1024];
    void *user;
    eio_session *next;
};

struct eio_server {
    eio_opts o;
    pthread_mutex_t mu;
    pthread_cond_t hb_cv;
    eio_session *sessions;
    unsigned nsessions;            /* in the table or reserved */
    pthread_t hb;
    bool hb_started;
    bool stop;
    bool draining;
    struct poll_answer *hb_polls;  /* the heartbeat's, HB_BATCH of them */
};

/* A parked poll taken out of its session, to answer without the lock. */
typedef struct poll_answer {
    gw_http_req *r;
    eio_frame *frames[EIO_QUEUE + EIO_SLOTS];
    size_t n;
    int error;                     /* >= 0: the protocol error to answer */
    bool close;                    /* a close packet after the frames */
    char cors[512];
    gw_http_req *ok;               /* a POST to answer "ok" (the client's close) */
} poll_answer;

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
    return gw_ws_msg_new(binary, data, len);
}

eio_frame *eio_frame_message(const char *text, size_t len)
{
    eio_frame *f = gw_ws_msg_new(false, NULL, len + 1);
    if (f) {
        f->data[0] = '4';
        memcpy(f->data + 1, text, len);
    }
    return f;
}

eio_frame *eio_frame_retain(eio_frame *f)
{
    return gw_ws_msg_retain(f);
}

void eio_frame_release(eio_frame *f)
{
    gw_ws_msg_release(f);
}

/* ---------------------------------------------------------------- answers */

static void send_body(gw_http_req *r, int status, const char *type, const char *cors,
                      const char *body, size_t len)
{
    char lines[1100];
    snprintf(lines, sizeof(lines), "Cache-Control: no-store\r\n%s", cors ? cors : "");
    gw_http_respond(r, status, type, lines, body, len);
}

enum { E_TRANSPORT, E_SID, E_METHOD, E_BAD, E_FORBIDDEN, E_VERSION };

/* The protocol's 400 answers (engine.io's server: code and message). */
static void send_error(gw_http_req *r, const char *cors, int code)
{
    static const char *const messages[] = {
        "Transport unknown", "Session ID unknown", "Bad handshake method", "Bad request",
        "Forbidden", "Unsupported protocol version",
    };
    char body[96];
    int n = snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", code,
                     messages[code]);
    send_body(r, code == E_FORBIDDEN ? 403 : 400, "application/json", cors, body, (size_t)n);
}

/* A handshake over the session limit: 503, a problem naming the limit
 * (with engine.io's "message" member, which its clients read). */
static void send_full(eio_server *srv, gw_http_req *r, const char *cors)
{
    char detail[200], body[512];
    snprintf(detail, sizeof(detail), "the live channel serves at most %u clients at once "
             "(%s in the config)", srv->o.max_sessions,
             srv->o.limit_config ? srv->o.limit_config : "its limit");
    int n = snprintf(body, sizeof(body), "{\"type\":\"about:blank\",\"title\":\"Service "
                     "Unavailable\",\"status\":503,\"detail\":\"%s\",\"message\":\"%s\"}",
                     detail, detail);
    char lines[1024];
    snprintf(lines, sizeof(lines), "Retry-After: 5\r\n%s", cors ? cors : "");
    send_body(r, 503, "application/problem+json", lines, body, (size_t)n);
}

static void base64_into(gw_buf *b, const char *data, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *tmp = gw_malloc(cap);
    if (!tmp) {
        b->failed = true;
        return;
    }
    sodium_bin2base64(tmp, cap, (const unsigned char *)data, len, sodium_base64_VARIANT_ORIGINAL);
    gw_buf_puts(b, tmp);
    gw_free(tmp);
}

static void answer_poll(poll_answer *a)
{
    if (a->ok) {
        send_body(a->ok, 200, "text/html", a->cors, "ok", 2);
        a->ok = NULL;
    }
    if (!a->r)
        return;
    if (a->error >= 0) {
        send_error(a->r, a->cors, a->error);
        for (size_t i = 0; i < a->n; i++)
            eio_frame_release(a->frames[i]);
        return;
    }
    gw_buf b;
    gw_buf_init(&b);
    for (size_t i = 0; i < a->n; i++) {
        if (i)
            gw_buf_append(&b, "\x1e", 1);
        if (a->frames[i]->binary) {
            gw_buf_append(&b, "b", 1);
            base64_into(&b, a->frames[i]->data, a->frames[i]->len);
        } else {
            gw_buf_append(&b, a->frames[i]->data, a->frames[i]->len);
        }
        eio_frame_release(a->frames[i]);
    }
    if (a->close)
        gw_buf_puts(&b, a->n ? "\x1e" "1" : "1");
    else if (a->n == 0)
        gw_buf_append(&b, "6", 1); /* a noop: nothing within the wait */
    if (b.failed)
        gw_http_req_drop(a->r);
    else
        send_body(a->r, 200, "text/plain; charset=UTF-8", a->cors, gw_buf_cstr(&b), b.len);
    gw_buf_clear(&b);
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

/* find_locked for a request: a session whose pong or deadline is late is
 * not found (the heartbeat closes it), so that the protocol's timings hold
 * to the millisecond. */
static eio_session *find_live_locked(eio_server *srv, const char *sid)
{
    eio_session *s = find_locked(srv, sid);
    if (!s)
        return NULL;
    uint64_t now = gw_mono_ms();
    bool late = (s->deadline_ms && now >= s->deadline_ms) ||
                (s->pong_deadline_ms && now >= s->pong_deadline_ms) ||
                (!s->pong_deadline_ms && now >= s->next_ping_ms + s->srv->o.ping_timeout_ms);
    if (late) {
        s->late = true;
        pthread_cond_signal(&s->srv->hb_cv);
        return NULL;
    }
    return s;
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

/* Takes every queued frame (and the replaceable ones) into out. */
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

/* Detaches the parked poll with what it is to carry. */
static void unpark_locked(eio_session *s, poll_answer *a, int error)
{
    a->r = s->poll;
    a->n = 0;
    a->error = error;
    a->close = false;
    a->ok = NULL;
    if (!a->r)
        return;
    s->poll = NULL;
    memcpy(a->cors, s->poll_cors, sizeof(a->cors));
    if (error < 0) {
        a->n = s->websocket ? 0 : take_locked(s, a->frames);
        a->close = s->closed && !s->client_closed;
    }
}

/* Marks s closed and takes it out of the table; true for the caller that
 * closed it (who then calls finish_close, without the lock). A parked
 * poll is detached into a (answer it after the lock). */
static bool close_locked(eio_session *s, poll_answer *a)
{
    a->r = NULL;
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
    unpark_locked(s, a, -1);
    a->ok = s->close_post;
    s->close_post = NULL;
    if (a->ok && !a->r)
        memcpy(a->cors, s->poll_cors, sizeof(a->cors));
    return true;
}

/* After a close: a close packet on the WebSocket, then on_close, then
 * the table's reference goes. */
static void finish_close(eio_session *s, bool closed_now, const char *reason, poll_answer *a)
{
    eio_server *srv = s->srv;
    answer_poll(a);
    if (!closed_now)
        return;
    pthread_mutex_lock(&srv->mu);
    gw_http_conn *ws = s->ws ? gw_http_conn_retain(s->ws) : NULL;
    gw_http_conn *probe = s->probe ? gw_http_conn_retain(s->probe) : NULL;
    bool by_client = s->client_closed;
    pthread_mutex_unlock(&srv->mu);
    if (ws) {
        if (!by_client) {
            eio_frame *f = eio_frame_new(false, "1", 1);
            if (f)
                gw_ws_send(ws, f, -1);
            eio_frame_release(f);
        }
        gw_ws_close(ws, 1000, NULL);
        gw_http_conn_release(ws);
    }
    if (probe) {
        gw_ws_close(probe, 1000, NULL);
        gw_http_conn_release(probe);
    }
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
    poll_answer a;
    pthread_mutex_lock(&s->srv->mu);
    bool now = close_locked(s, &a);
    pthread_mutex_unlock(&s->srv->mu);
    finish_close(s, now, reason, &a);
}

bool eio_send(eio_session *s, eio_frame *f, int slot)
{
    eio_server *srv = s->srv;
    poll_answer a = {0};
    pthread_mutex_lock(&srv->mu);
    bool ok = !s->closed && !s->late;
    gw_http_conn *ws = ok && s->websocket && s->ws ? gw_http_conn_retain(s->ws) : NULL;
    if (ok && !s->websocket) {
        if (slot >= 0 && slot < EIO_SLOTS) {
            eio_frame_release(s->latest[slot]);
            s->latest[slot] = eio_frame_retain(f);
        } else if (s->qlen == EIO_QUEUE) {
            /* closed by the heartbeat: callers may hold their own locks */
            s->late = true;
            s->late_reason = "the client does not keep up (send queue full)";
            pthread_cond_signal(&srv->hb_cv);
            ok = false;
        } else {
            s->q[(s->qhead + s->qlen++) % EIO_QUEUE] = eio_frame_retain(f);
        }
        if (ok && s->poll && !s->poll_probe)
            unpark_locked(s, &a, -1);
    }
    pthread_mutex_unlock(&srv->mu);
    answer_poll(&a);
    if (ws) {
        ok = gw_ws_send(ws, f, slot);
        gw_http_conn_release(ws);
    }
    return ok;
}

void eio_set_deadline(eio_session *s, uint64_t mono_ms)
{
    pthread_mutex_lock(&s->srv->mu);
    s->deadline_ms = mono_ms;
    pthread_cond_signal(&s->srv->hb_cv);
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

/* "0{...}": the open packet. */
static int open_packet(eio_server *srv, const eio_session *s, bool websocket, char *buf,
                       size_t size)
{
    return snprintf(buf, size, "0{\"sid\":\"%s\",\"upgrades\":[%s],\"pingInterval\":%u,"
                    "\"pingTimeout\":%u,\"maxPayload\":%u}", s->sid,
                    websocket ? "" : "\"websocket\"", srv->o.ping_interval_ms,
                    srv->o.ping_timeout_ms, srv->o.max_payload);
}

/* Makes room for a pending session from addr (srv->mu held). A client
 * connects within a round trip of its handshake, so only sessions pending
 * longer than PENDING_GRACE_MS count: when the address holds its most of
 * those, its oldest is detached for the caller to close. A burst of
 * clients from one address (a test bench, a proxy) is never displaced;
 * a flood of handshakes keeps at most the limit beyond its last second. */
#define PENDING_GRACE_MS 1000

static eio_session *evict_locked(eio_server *srv, const char *addr)
{
    bool full = srv->nsessions >= srv->o.max_sessions;
    if (!srv->o.max_pending_per_address && !full)
        return NULL;
    uint64_t now = gw_mono_ms();
    unsigned n = 0;
    eio_session *oldest = NULL, *oldest_any = NULL;
    for (eio_session *s = srv->sessions; s; s = s->next) {
        if (!s->deadline_ms || s->closed || s->client_closed ||
            now - s->created_ms < PENDING_GRACE_MS)
            continue;
        if (!oldest_any || s->created_ms <= oldest_any->created_ms)
            oldest_any = s;
        if (strcmp(s->remote, addr) == 0) {
            n++;
            if (!oldest || s->created_ms <= oldest->created_ms)
                oldest = s;
        }
    }
    /* the address's own first; a full table takes one from anyone */
    eio_session *e = srv->o.max_pending_per_address && n >= srv->o.max_pending_per_address
                         ? oldest : full ? oldest_any : NULL;
    if (e)
        e->refs++;
    return e;
}

/* A new session: its place is reserved and checked against the limit in
 * one step; on_open runs before any other thread can see it; then it goes
 * into the table with a reference for the table and one for the caller.
 * NULL when the table is full (*full) or out of memory. */
static eio_session *create_session(eio_server *srv, const gw_http_req *r, bool *full)
{
    const char *remote = gw_http_req_remote(r);
    for (int i = 0; i < 64; i++) {
        pthread_mutex_lock(&srv->mu);
        eio_session *evict = evict_locked(srv, remote);
        pthread_mutex_unlock(&srv->mu);
        if (!evict)
            break;
        gw_log_write(srv->o.log, i ? GW_LOG_DEBUG : GW_LOG_INFO, "eio", "%s: session %s "
                     "closed to make room: %u sessions from this address have not connected "
                     "for a second", remote, evict->sid, srv->o.max_pending_per_address);
        eio_close(evict, "displaced by a newer handshake from its address");
        pthread_mutex_lock(&srv->mu);
        unref_locked(evict);
        pthread_mutex_unlock(&srv->mu);
    }
    pthread_mutex_lock(&srv->mu);
    *full = srv->nsessions >= srv->o.max_sessions;
    if (!*full)
        srv->nsessions++; /* reserved: checked and taken in one step */
    pthread_mutex_unlock(&srv->mu);
    if (*full)
        return NULL;
    eio_session *s = gw_calloc(1, sizeof(*s));
    if (!s) {
        pthread_mutex_lock(&srv->mu);
        srv->nsessions--;
        pthread_mutex_unlock(&srv->mu);
        return NULL;
    }
    s->srv = srv;
    unsigned char raw[15];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(s->sid, sizeof(s->sid), raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    s->refs = 2;
    s->created_ms = gw_mono_ms();
    pthread_mutexattr_t ra;
    pthread_mutexattr_init(&ra);
    pthread_mutexattr_settype(&ra, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s->cbmu, &ra);
    pthread_mutexattr_destroy(&ra);
    snprintf(s->remote, sizeof(s->remote), "%s", remote);
    const char *cookies = gw_http_req_header(r, "Cookie");
    if (cookies && strlen(cookies) < sizeof(s->cookies))
        snprintf(s->cookies, sizeof(s->cookies), "%s", cookies);
    if (srv->o.on_open)
        srv->o.on_open(srv->o.ud, s);
    pthread_mutex_lock(&srv->mu);
    if (s->closed) {
        /* on_open gave up on it (out of memory): it never was in the table */
        srv->nsessions--;
        s->refs = 1;
        unref_locked(s);
        pthread_mutex_unlock(&srv->mu);
        return NULL;
    }
    s->next_ping_ms = gw_mono_ms() + srv->o.ping_interval_ms;
    s->next = srv->sessions;
    srv->sessions = s;
    pthread_cond_signal(&srv->hb_cv);
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

/* ---------------------------------------------------------------- polling */

typedef struct {
    char eio[8], transport[16], sid[EIO_SID_LEN + 8];
    bool has_sid;
} query;

static void parse_query(const gw_http_req *r, query *q)
{
    memset(q, 0, sizeof(*q));
    const char *qs = gw_http_req_query(r);
    if (gw_http_query_param(qs, "EIO", q->eio, sizeof(q->eio)) < 0)
        snprintf(q->eio, sizeof(q->eio), "?");
    if (gw_http_query_param(qs, "transport", q->transport, sizeof(q->transport)) < 0)
        snprintf(q->transport, sizeof(q->transport), "?");
    /* present but too long or badly encoded is a sid too: an unknown one */
    int rc = gw_http_query_param(qs, "sid", q->sid, sizeof(q->sid));
    q->has_sid = rc != 0;
    if (rc < 0)
        q->sid[0] = '\0';
}

/* The checks of engine.io's server, in its order: the transport, then the
 * sid (a session's transport), then the handshake's method and protocol
 * version. -1 when the request may go on, else the error code. A
 * WebSocket to a session that has one already is accepted, then closed
 * (the reference server's onWebSocket): -1 and *stale. */
static int check_query(eio_server *srv, const query *q, const char *method, bool upgrade,
                       bool *stale)
{
    *stale = false;
    bool ws = strcmp(q->transport, "websocket") == 0;
    if (!ws && strcmp(q->transport, "polling") != 0)
        return E_TRANSPORT;
    if (q->has_sid) {
        pthread_mutex_lock(&srv->mu);
        eio_session *s = find_live_locked(srv, q->sid);
        int e = -1;
        if (!s)
            e = E_SID;
        else if (upgrade)
            *stale = !ws || s->websocket || s->probe;
        else if (ws || s->websocket)
            e = E_BAD;
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

static void poll_get(eio_server *srv, gw_http_req *r, const char *cors, const query *q)
{
    poll_answer a = {0};
    a.error = -1;
    pthread_mutex_lock(&srv->mu);
    eio_session *s = find_live_locked(srv, q->sid);
    if (!s || s->websocket) {
        pthread_mutex_unlock(&srv->mu);
        send_error(r, cors, !s ? E_SID : E_BAD);
        return;
    }
    if (s->poll) {
        /* two polls at once: the protocol closes the session */
        bool now = close_locked(s, &a);
        pthread_mutex_unlock(&srv->mu);
        finish_close(s, now, "overlapping polling requests", &a);
        send_error(r, cors, E_BAD);
        return;
    }
    if (s->client_closed) {
        /* its own close came first: this poll ends the session */
        a.r = r;
        snprintf(a.cors, sizeof(a.cors), "%s", cors);
        poll_answer c;
        bool now = close_locked(s, &c);
        pthread_mutex_unlock(&srv->mu);
        answer_poll(&a);
        finish_close(s, now, "the client closed it", &c);
        return;
    }
    uint64_t now = gw_mono_ms();
    bool probing = s->upgrading || s->probe || now - s->probe_at_ms < 1000;
    s->poll = r;
    snprintf(s->poll_cors, sizeof(s->poll_cors), "%s", cors);
    if (srv->draining) {
        unpark_locked(s, &a, -1);
    } else if (probing) {
        /* sent while the client switches to its WebSocket: the reference
         * server would have read the WebSocket's "5" first; it waits for
         * it a moment, then goes on as a poll during the upgrade */
        s->poll_probe = true;
        s->poll_deadline_ms = now + PROBE_WAIT_MS;
    } else if (pending_locked(s)) {
        unpark_locked(s, &a, -1);
    } else {
        s->poll_probe = false;
        s->poll_deadline_ms = now + srv->o.ping_interval_ms + srv->o.ping_timeout_ms;
    }
    pthread_cond_signal(&srv->hb_cv);
    pthread_mutex_unlock(&srv->mu);
    answer_poll(&a);
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

static void poll_post(eio_server *srv, gw_http_req *r, const char *cors, const query *q)
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
    if (e >= 0) {
        send_error(r, cors, e);
        return;
    }
    if (overlap) {
        /* two POSTs at once: the reference server closes the session */
        eio_close(s, "overlapping POST requests");
        send_error(r, cors, E_BAD);
        return;
    }
    size_t len;
    const char *body = gw_http_req_body(r, &len);
    post_ctx pc = {s, IN_OK};
    if (!eio_payload_each(body, len, post_packet, &pc) && pc.r == IN_OK)
        pc.r = IN_BAD; /* base64 that does not decode */
    const char *why = NULL;
    poll_answer a = {0};
    bool parked = false;
    if (pc.r == IN_BAD) {
        why = "malformed packet";
    } else if (pc.r == IN_CLOSE) {
        pthread_mutex_lock(&srv->mu);
        s->client_closed = true;
        if (s->poll) {
            /* its poll gets a noop, as from the reference server */
            unpark_locked(s, &a, -1);
            why = "the client closed it";
        } else {
            /* the reference reads a poll sent with the close first: one
             * that comes within a moment gets its noop; the close is
             * answered when the session is closed */
            s->close_post = r;
            snprintf(s->poll_cors, sizeof(s->poll_cors), "%s", cors);
            s->deadline_ms = gw_mono_ms() + CLOSE_WAIT_MS;
            pthread_cond_signal(&srv->hb_cv);
            parked = true;
        }
        pthread_mutex_unlock(&srv->mu);
    }
    /* done with it before the answer: the client's next POST may come at
     * once, and must not look like one sent alongside this one */
    pthread_mutex_lock(&srv->mu);
    s->post_active = false;
    pthread_mutex_unlock(&srv->mu);
    if (why)
        eio_close(s, why);
    if (pc.r == IN_BAD)
        send_error(r, cors, E_BAD);
    else if (!parked)
        send_body(r, 200, "text/html", cors, "ok", 2);
    answer_poll(&a);
    pthread_mutex_lock(&srv->mu);
    unref_locked(s);
    pthread_mutex_unlock(&srv->mu);
}

/* ---------------------------------------------------------------- websocket */

static void ws_message(void *user, gw_http_conn *c, bool binary, const char *data, size_t len);
static void ws_closed(void *user, gw_http_conn *c, const char *reason);
static const gw_ws_handler ws_handler = {ws_message, ws_closed};

/* A WebSocket that carries no session (its sid's session has one): the
 * reference server accepts it, then closes it. */
static void stale_message(void *user, gw_http_conn *c, bool binary, const char *data,
                          size_t len)
{
    (void)user, (void)c, (void)binary, (void)data, (void)len;
}

static void stale_closed(void *user, gw_http_conn *c, const char *reason)
{
    (void)user, (void)reason;
    gw_http_conn_release(c);
}

static const gw_ws_handler stale_handler = {stale_message, stale_closed};

/* The probe's messages: "2probe" then "5" (the switch). */
static void probe_message(eio_session *s, gw_http_conn *c, bool binary, const char *data,
                          size_t len)
{
    eio_server *srv = s->srv;
    poll_answer a = {0};
    a.error = -1;
    if (!binary && len == 6 && memcmp(data, "2probe", 6) == 0) {
        eio_frame *f = eio_frame_new(false, "3probe", 6);
        if (f)
            gw_ws_send(c, f, -1);
        eio_frame_release(f);
        pthread_mutex_lock(&srv->mu);
        s->upgrading = true;
        if (s->poll && !s->poll_probe)
            unpark_locked(s, &a, -1); /* a noop ends it */
        pthread_mutex_unlock(&srv->mu);
        answer_poll(&a);
        return;
    }
    if (!binary && len == 1 && data[0] == '5') {
        pthread_mutex_lock(&srv->mu);
        bool ok = s->upgrading && !s->closed && s->probe == c;
        if (ok) {
            /* what was queued for polling goes out first, in order */
            eio_frame *frames[EIO_QUEUE + EIO_SLOTS];
            size_t n = take_locked(s, frames);
            for (size_t i = 0; i < n; i++) {
                gw_ws_send(c, frames[i], -1);
                eio_frame_release(frames[i]);
            }
            s->websocket = true;
            s->ws = c;
            s->probe = NULL;
            s->upgrading = false;
            if (s->poll)
                unpark_locked(s, &a, s->poll_probe ? E_BAD : -1);
        }
        pthread_mutex_unlock(&srv->mu);
        answer_poll(&a);
        if (ok)
            return;
    }
    gw_ws_close(c, 1002, "expected 2probe, then 5");
}

static void ws_message(void *user, gw_http_conn *c, bool binary, const char *data, size_t len)
{
    eio_session *s = user;
    eio_server *srv = s->srv;
    pthread_mutex_lock(&srv->mu);
    bool is_probe = s->probe == c && !s->websocket, is_ws = s->ws == c, closed = s->closed;
    pthread_mutex_unlock(&srv->mu);
    if (closed)
        return;
    if (is_probe) {
        probe_message(s, c, binary, data, len);
        return;
    }
    if (!is_ws)
        return;
    in_result r = packet_in(s, data, len, binary);
    if (r != IN_OK) {
        gw_log_write(srv->o.log, GW_LOG_DEBUG, "eio", "session %s: %s", s->sid,
                     r == IN_CLOSE ? "closed by the client" : "malformed packet");
        if (r == IN_CLOSE) {
            pthread_mutex_lock(&srv->mu);
            s->client_closed = true;
            pthread_mutex_unlock(&srv->mu);
        }
        eio_close(s, r == IN_CLOSE ? "the client closed it" : "malformed packet");
    }
}

static void ws_closed(void *user, gw_http_conn *c, const char *reason)
{
    (void)reason;
    eio_session *s = user;
    eio_server *srv = s->srv;
    poll_answer a = {0};
    pthread_mutex_lock(&srv->mu);
    bool now = false;
    if (s->probe == c) {
        s->probe = NULL;
        s->upgrading = false;
    } else if (s->ws == c) {
        s->ws = NULL;
        now = close_locked(s, &a);
    }
    pthread_mutex_unlock(&srv->mu);
    finish_close(s, now, "transport close", &a);
    gw_http_conn_release(c); /* the upgrade's */
    pthread_mutex_lock(&srv->mu);
    unref_locked(s); /* the connection's */
    pthread_mutex_unlock(&srv->mu);
}

static void ws_handshake(eio_server *srv, gw_http_req *r, const char *cors, const query *q)
{
    bool stale;
    int e = check_query(srv, q, "GET", true, &stale);
    if (e < 0 && srv->o.allow_ws && !srv->o.allow_ws(srv->o.ud, r))
        e = E_FORBIDDEN;
    if (e >= 0) {
        send_error(r, cors, e);
        return;
    }
    if (stale) {
        gw_http_conn *c = gw_http_upgrade(r, &stale_handler, NULL, NULL);
        if (c)
            gw_ws_close(c, 1000, "the session has a WebSocket already");
        return;
    }
    if (q->has_sid) {
        pthread_mutex_lock(&srv->mu);
        eio_session *s = find_live_locked(srv, q->sid);
        bool ok = s && !s->websocket && !s->probe && !s->closed;
        if (ok) {
            s->probe = gw_http_req_conn(r); /* one probe per session */
            s->probe_at_ms = gw_mono_ms();
            s->refs++; /* the connection's */
        }
        pthread_mutex_unlock(&srv->mu);
        if (!ok) {
            send_error(r, cors, s ? E_BAD : E_SID);
            return;
        }
        if (!gw_http_upgrade(r, &ws_handler, s, NULL)) {
            pthread_mutex_lock(&srv->mu);
            s->probe = NULL;
            unref_locked(s);
            pthread_mutex_unlock(&srv->mu);
        }
        return;
    }
    bool full;
    eio_session *s = create_session(srv, r, &full);
    if (!s) {
        if (full)
            send_full(srv, r, cors);
        else
            send_body(r, 503, "text/plain", cors, "out of memory", 13);
        return;
    }
    gw_http_conn *c = gw_http_req_conn(r);
    pthread_mutex_lock(&srv->mu);
    s->websocket = true;
    s->ws = c;
    s->refs++; /* the connection's */
    pthread_mutex_unlock(&srv->mu);
    gw_http_conn_retain(c); /* ours, until the open packet is queued */
    if (!gw_http_upgrade(r, &ws_handler, s, NULL)) {
        gw_http_conn_release(c);
        pthread_mutex_lock(&srv->mu);
        s->ws = NULL;
        s->refs--;
        pthread_mutex_unlock(&srv->mu);
        eio_close(s, "the WebSocket handshake failed");
    } else {
        char open[256];
        int n = open_packet(srv, s, true, open, sizeof(open));
        eio_frame *f = eio_frame_new(false, open, (size_t)n);
        if (f)
            gw_ws_send(c, f, -1);
        eio_frame_release(f);
        gw_http_conn_release(c);
    }
    pthread_mutex_lock(&srv->mu);
    unref_locked(s); /* the creator's */
    pthread_mutex_unlock(&srv->mu);
}

void eio_handle_http(eio_server *srv, gw_http_req *r, const char *cors)
{
    char cors_lines[512];
    snprintf(cors_lines, sizeof(cors_lines), "%s", srv->o.cors_any ?
             "Access-Control-Allow-Origin: *\r\n" : cors ? cors : "");
    const char *method = gw_http_req_method(r);
    if (strcmp(method, "OPTIONS") == 0) {
        char lines[700];
        snprintf(lines, sizeof(lines), "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
                 "Access-Control-Allow-Headers: Content-Type\r\n%s", cors_lines);
        gw_http_respond(r, 204, NULL, lines, NULL, 0);
        return;
    }
    query q;
    parse_query(r, &q);
    if (gw_http_req_is_upgrade(r)) {
        ws_handshake(srv, r, cors_lines, &q);
        return;
    }
    bool stale;
    int e = check_query(srv, &q, method, false, &stale);
    if (e >= 0) {
        send_error(r, cors_lines, e);
        return;
    }
    if (q.has_sid) {
        if (strcmp(method, "GET") == 0)
            poll_get(srv, r, cors_lines, &q);
        else if (strcmp(method, "POST") == 0)
            poll_post(srv, r, cors_lines, &q);
        else
            send_error(r, cors_lines, E_BAD);
        return;
    }
    bool full;
    eio_session *s = create_session(srv, r, &full);
    if (!s) {
        if (full)
            send_full(srv, r, cors_lines);
        else
            send_body(r, 503, "text/plain", cors_lines, "out of memory", 13);
        return;
    }
    char open[256];
    int n = open_packet(srv, s, false, open, sizeof(open));
    send_body(r, 200, "text/plain; charset=UTF-8", cors_lines, open, (size_t)n);
    pthread_mutex_lock(&srv->mu);
    unref_locked(s);
    pthread_mutex_unlock(&srv->mu);
}

/* ---------------------------------------------------------------- heartbeat */

#define HB_BATCH 64

/* One pass over the sessions (srv->mu held): what is late, pings due,
 * polls whose time is up. Returns when the next thing is due. */
static uint64_t heartbeat_pass(eio_server *srv, uint64_t now, eio_session **late,
                               const char **why, size_t *nlate, gw_http_conn **ping_ws,
                               size_t *nping, poll_answer *polls, size_t *npolls,
                               eio_frame *ping)
{
    uint64_t next = now + 1000;
#define DUE(t) do { if ((t) && (t) < next) next = (t); } while (0)
    for (eio_session *s = srv->sessions; s; s = s->next) {
        const char *reason = NULL;
        if (s->deadline_ms && now >= s->deadline_ms)
            reason = s->client_closed ? "the client closed it" : "connect timeout";
        else if ((s->pong_deadline_ms && now >= s->pong_deadline_ms) || s->late)
            reason = s->late_reason ? s->late_reason : "ping timeout";
        if (reason) {
            if (*nlate < HB_BATCH) {
                s->refs++;
                late[*nlate] = s;
                why[(*nlate)++] = reason;
            }
            continue;
        }
        if (!s->pong_deadline_ms && now >= s->next_ping_ms && ping) {
            if (s->websocket && s->ws && *nping < HB_BATCH) {
                ping_ws[(*nping)++] = gw_http_conn_retain(s->ws);
            } else if (!s->websocket && s->qlen < EIO_QUEUE) {
                s->q[(s->qhead + s->qlen++) % EIO_QUEUE] = eio_frame_retain(ping);
                if (s->poll && !s->poll_probe && *npolls < HB_BATCH)
                    unpark_locked(s, &polls[(*npolls)++], -1);
            } else if (s->websocket) {
                continue; /* the next pass */
            }
            /* from when it was due, not from when this pass came round */
            s->pong_deadline_ms = s->next_ping_ms + srv->o.ping_timeout_ms;
        }
        if (s->poll && now >= s->poll_deadline_ms && *npolls < HB_BATCH) {
            unpark_locked(s, &polls[(*npolls)++], -1);
        }
        DUE(s->deadline_ms);
        DUE(s->pong_deadline_ms ? s->pong_deadline_ms : s->next_ping_ms);
        if (s->poll)
            DUE(s->poll_deadline_ms);
    }
#undef DUE
    return next;
}

static void *heartbeat_main(void *arg)
{
    eio_server *srv = arg;
    eio_frame *ping = eio_frame_new(false, "2", 1);
    poll_answer *polls = srv->hb_polls;
    pthread_mutex_lock(&srv->mu);
    while (!srv->stop) {
        uint64_t now = gw_mono_ms();
        eio_session *late[HB_BATCH];
        const char *why[HB_BATCH];
        gw_http_conn *ping_ws[HB_BATCH];
        size_t nlate = 0, nping = 0, npolls = 0;
        uint64_t next = heartbeat_pass(srv, now, late, why, &nlate, ping_ws, &nping, polls,
                                       &npolls, ping);
        pthread_mutex_unlock(&srv->mu);
        for (size_t i = 0; i < npolls; i++)
            answer_poll(&polls[i]);
        for (size_t i = 0; i < nping; i++) {
            gw_ws_send(ping_ws[i], ping, -1);
            gw_http_conn_release(ping_ws[i]);
        }
        for (size_t i = 0; i < nlate; i++) {
            poll_answer a;
            pthread_mutex_lock(&srv->mu);
            bool closed_now = close_locked(late[i], &a);
            pthread_mutex_unlock(&srv->mu);
            finish_close(late[i], closed_now, why[i], &a);
            pthread_mutex_lock(&srv->mu);
            unref_locked(late[i]);
            pthread_mutex_unlock(&srv->mu);
        }
        pthread_mutex_lock(&srv->mu);
        if (nlate == HB_BATCH || npolls == HB_BATCH || nping == HB_BATCH || srv->stop)
            continue; /* more of them: at once */
        now = gw_mono_ms();
        if (next > now) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t wait = next - now;
            long ns = ts.tv_nsec + (long)(wait % 1000) * 1000000L;
            ts.tv_sec += (time_t)(wait / 1000) + ns / 1000000000L;
            ts.tv_nsec = ns % 1000000000L;
            pthread_cond_timedwait(&srv->hb_cv, &srv->mu, &ts);
        }
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
    pthread_mutex_init(&srv->mu, NULL);
    monotonic_cond(&srv->hb_cv);
    /* off the stack: a heartbeat pass detaches up to HB_BATCH polls */
    srv->hb_polls = gw_calloc(HB_BATCH, sizeof(*srv->hb_polls));
    if (!srv->hb_polls || pthread_create(&srv->hb, NULL, heartbeat_main, srv) != 0) {
        eio_server_free(srv);
        return gw_error_set(err, GW_E_NOMEM, "cannot start the Socket.IO heartbeat");
    }
    srv->hb_started = true;
    *out = srv;
    return GW_OK;
}

void eio_server_drain(eio_server *srv)
{
    if (!srv)
        return;
    for (;;) {
        poll_answer a = {0};
        pthread_mutex_lock(&srv->mu);
        srv->draining = true;
        eio_session *s = srv->sessions;
        while (s && !s->poll)
            s = s->next;
        if (s)
            unpark_locked(s, &a, -1);
        pthread_mutex_unlock(&srv->mu);
        if (!a.r)
            break;
        answer_poll(&a);
    }
}

void eio_server_close_all(eio_server *srv)
{
    if (!srv)
        return;
    for (;;) {
        poll_answer a;
        pthread_mutex_lock(&srv->mu);
        eio_session *s = srv->sessions;
        bool now = s && close_locked(s, &a);
        pthread_mutex_unlock(&srv->mu);
        if (!s)
            break;
        finish_close(s, now, "the gateway is stopping", &a);
    }
}

void eio_server_free(eio_server *srv)
{
    if (!srv)
        return;
    eio_server_close_all(srv);
    pthread_mutex_lock(&srv->mu);
    srv->stop = true;
    pthread_cond_broadcast(&srv->hb_cv);
    pthread_mutex_unlock(&srv->mu);
    if (srv->hb_started)
        pthread_join(srv->hb, NULL);
    pthread_cond_destroy(&srv->hb_cv);
    pthread_mutex_destroy(&srv->mu);
    gw_free(srv->hb_polls);
    gw_free(srv);
}
