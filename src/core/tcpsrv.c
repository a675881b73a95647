/*
 * tcpsrv.c - the TCP server loop shared by the protocol servers, and the
 * faults a simulator injects into it (core.h, "A small TCP server").
 *
 * Design: one thread, one poll() over the listener, a wake pipe and every
 * connection. Input is buffered per connection and cut into frames by the
 * protocol; replies are queued per connection with a due time (DELAY) and
 * sent when due and writable, so a slow reader or a delayed reply never
 * blocks the others. Fault state lives under a mutex; setting a fault
 * wakes the thread.
 */
/* pipe2 (Linux) */
#define _GNU_SOURCE
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct out_buf {
    struct out_buf *next;
    uint64_t due;        /* gw_mono_ms when it may be sent */
    size_t len, off;
    uint8_t data[];
} out_buf;

struct gw_conn {
    int fd;
    char peer[64];
    void *user;
    uint8_t *in;
    size_t in_len;
    out_buf *out, *out_tail;
    bool closing;        /* close once the replies are out */
    gw_tcpsrv *srv;
};

struct gw_tcpsrv {
    gw_tcpsrv_opts opts;
    char host[256];
    char name[24];
    pthread_t thread;
    bool running;
    atomic_bool stop;
    int wake[2];
    int listen_fd;
    uint16_t port;
    pthread_mutex_t lock;           /* state, faults, nconns */
    gw_tcpsrv_state state;
    uint64_t until[GW_FAULT__COUNT];/* gw_mono_ms when each fault ends */
    uint32_t delay_ms;
    bool drop_now;
    gw_conn **conns;
    size_t nconns;
};

static const char *fault_names[GW_FAULT__COUNT] = {"drop", "refuse", "delay", "silent", "error",
                                                   "corrupt"};

const char *gw_fault_name(gw_fault f)
{
    return (unsigned)f < GW_FAULT__COUNT ? fault_names[f] : "?";
}

bool gw_fault_parse(const char *name, gw_fault *out)
{
    for (int i = 0; i < GW_FAULT__COUNT; i++)
        if (strcmp(name, fault_names[i]) == 0) {
            *out = (gw_fault)i;
            return true;
        }
    return false;
}

const char *gw_tcpsrv_state_name(gw_tcpsrv_state st)
{
    return st == GW_TCPSRV_STARTED ? "started" : st == GW_TCPSRV_ERROR ? "error" : "stopped";
}

gw_err gw_tcpsrv_new(const gw_tcpsrv_opts *opts, gw_tcpsrv **out)
{
    *out = NULL;
    gw_tcpsrv *s = gw_calloc(1, sizeof(*s));
    if (!s)
        return GW_E_NOMEM;
    s->opts = *opts;
    snprintf(s->host, sizeof(s->host), "%s", opts->host ? opts->host : "127.0.0.1");
    snprintf(s->name, sizeof(s->name), "%s", opts->name ? opts->name : "tcp");
    s->opts.host = s->host;
    s->opts.name = s->name;
    if (!s->opts.max_clients)
        s->opts.max_clients = 8;
    if (!s->opts.max_frame)
        s->opts.max_frame = 65536;
    s->listen_fd = -1;
    s->wake[0] = s->wake[1] = -1;
    s->port = opts->port;
    pthread_mutex_init(&s->lock, NULL);
    s->conns = gw_calloc(s->opts.max_clients, sizeof(*s->conns));
    if (!s->conns || pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        gw_tcpsrv_free(s);
        return GW_E_NOMEM;
    }
    *out = s;
    return GW_OK;
}

uint16_t gw_tcpsrv_port(const gw_tcpsrv *s)
{
    return s->port;
}

gw_tcpsrv_state gw_tcpsrv_get_state(gw_tcpsrv *s)
{
    pthread_mutex_lock(&s->lock);
    gw_tcpsrv_state st = s->state;
    pthread_mutex_unlock(&s->lock);
    return st;
}

size_t gw_tcpsrv_clients(gw_tcpsrv *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->nconns;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void wake(gw_tcpsrv *s)
{
    ssize_t w = write(s->wake[1], "x", 1);
    (void)w;
}

gw_err gw_tcpsrv_fault(gw_tcpsrv *s, gw_fault f, uint32_t duration_ms, uint32_t delay_ms)
{
    if ((unsigned)f >= GW_FAULT__COUNT)
        return GW_E_INVAL;
    pthread_mutex_lock(&s->lock);
    s->until[f] = gw_mono_ms() + duration_ms;
    if (f == GW_FAULT_DELAY)
        s->delay_ms = delay_ms;
    if (f == GW_FAULT_DROP)
        s->drop_now = true;
    pthread_mutex_unlock(&s->lock);
    gw_log_write(s->opts.log, GW_LOG_WARN, s->name, "server: fault %s for %u ms%s", fault_names[f],
                 duration_ms, f == GW_FAULT_DELAY ? " (replies delayed)" : "");
    wake(s);
    return GW_OK;
}

void gw_tcpsrv_fault_clear(gw_tcpsrv *s)
{
    pthread_mutex_lock(&s->lock);
    memset(s->until, 0, sizeof(s->until));
    s->drop_now = false;
    pthread_mutex_unlock(&s->lock);
    wake(s);
}

uint32_t gw_tcpsrv_fault_left(gw_tcpsrv *s, gw_fault f, uint32_t *delay_ms)
{
    if ((unsigned)f >= GW_FAULT__COUNT)
        return 0;
    uint64_t now = gw_mono_ms();
    pthread_mutex_lock(&s->lock);
    uint32_t left = s->until[f] > now ? (uint32_t)(s->until[f] - now) : 0;
    if (delay_ms)
        *delay_ms = s->delay_ms;
    pthread_mutex_unlock(&s->lock);
    return left;
}

static bool active(const gw_tcpsrv *s, gw_fault f, uint64_t now)
{
    return s->until[f] > now;
}

/* ---------------------------------------------------------------- connections */

const char *gw_conn_peer(const gw_conn *c)
{
    return c->peer;
}

void *gw_conn_user(const gw_conn *c)
{
    return c->user;
}

void gw_conn_set_user(gw_conn *c, void *user)
{
    c->user = user;
}

void gw_conn_reply(gw_conn *c, const uint8_t *data, size_t len)
{
    gw_tcpsrv *s = c->srv;
    out_buf *b = gw_malloc(sizeof(*b) + len);
    if (!b) {
        gw_log_write(s->opts.log, GW_LOG_ERROR, s->name, "server: %s: out of memory for a reply; "
                     "closing", c->peer);
        c->closing = true;
        return;
    }
    memcpy(b->data, data, len);
    b->len = len;
    b->off = 0;
    b->next = NULL;
    uint64_t now = gw_mono_ms();
    pthread_mutex_lock(&s->lock);
    b->due = active(s, GW_FAULT_DELAY, now) ? now + s->delay_ms : now;
    bool corrupt = active(s, GW_FAULT_CORRUPT, now);
    pthread_mutex_unlock(&s->lock);
    if (corrupt) {
        if (len > 0)
            b->data[0] ^= 0xFF;
        if (len > 2)
            b->data[2] ^= 0xFF;
    }
    if (c->out_tail)
        c->out_tail->next = b;
    else
        c->out = b;
    c->out_tail = b;
}

static void conn_free(gw_tcpsrv *s, size_t i, const char *why)
{
    gw_conn *c = s->conns[i];
    if (s->opts.handler.close)
        s->opts.handler.close(s->opts.user, c);
    gw_log_write(s->opts.log, GW_LOG_INFO, s->name, "server: %s disconnected%s%s", c->peer,
                 why ? ": " : "", why ? why : "");
    close(c->fd);
    while (c->out) {
        out_buf *n = c->out->next;
        gw_free(c->out);
        c->out = n;
    }
    gw_free(c->in);
    gw_free(c);
    pthread_mutex_lock(&s->lock);
    s->conns[i] = s->conns[s->nconns - 1];
    s->nconns--;
    pthread_mutex_unlock(&s->lock);
}

static void accept_one(gw_tcpsrv *s, uint64_t now)
{
    char peer[64];
    int fd = gw_net_accept(s->listen_fd, true, peer, sizeof(peer));
    if (fd < 0)
        return;
    pthread_mutex_lock(&s->lock);
    bool dropping = active(s, GW_FAULT_DROP, now);
    bool full = s->nconns >= s->opts.max_clients;
    pthread_mutex_unlock(&s->lock);
    if (dropping || full) {
        gw_log_write(s->opts.log, GW_LOG_WARN, s->name, "server: %s dropped: %s", peer,
                     dropping ? "fault drop" : "too many clients");
        close(fd);
        return;
    }
    gw_conn *c = gw_calloc(1, sizeof(*c));
    if (c)
        c->in = gw_malloc(s->opts.max_frame);
    if (!c || !c->in) {
        if (c)
            gw_free(c);
        close(fd);
        return;
    }
    c->fd = fd;
    c->srv = s;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    if (s->opts.handler.open && !s->opts.handler.open(s->opts.user, c)) {
        gw_free(c->in);
        gw_free(c);
        close(fd);
        return;
    }
    pthread_mutex_lock(&s->lock);
    s->conns[s->nconns++] = c;
    pthread_mutex_unlock(&s->lock);
    gw_log_write(s->opts.log, GW_LOG_INFO, s->name, "server: %s connected", peer);
}

/* Reads what arrived and serves every complete frame; false to close. */
static bool conn_readable(gw_tcpsrv *s, gw_conn *c, uint64_t now, const char **why)
{
    ssize_t n = recv(c->fd, c->in + c->in_len, s->opts.max_frame - c->in_len, 0);
    if (n == 0)
        return false;
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
            return true;
        *why = strerror(errno);
        return false;
    }
    c->in_len += (size_t)n;
    size_t off = 0;
    pthread_mutex_lock(&s->lock);
    bool silent = active(s, GW_FAULT_SILENT, now), error = active(s, GW_FAULT_ERROR, now);
    pthread_mutex_unlock(&s->lock);
    while (off < c->in_len && !c->closing) {
        long f = s->opts.handler.frame(s->opts.user, c->in + off, c->in_len - off);
        if (f < 0) {
            *why = "not this protocol";
            return false;
        }
        if (f == 0)
            break;
        const uint8_t *frame = c->in + off;
        if (silent) {
            /* fault: the request vanishes, the socket stays open */
        } else if (error && s->opts.handler.error_reply) {
            uint8_t buf[512];
            size_t r = s->opts.handler.error_reply(s->opts.user, frame, (size_t)f, buf, sizeof(buf));
            if (r)
                gw_conn_reply(c, buf, r);
        } else if (!s->opts.handler.serve(s->opts.user, c, frame, (size_t)f)) {
            c->closing = true;
        }
        off += (size_t)f;
    }
    if (c->in_len - off == s->opts.max_frame) {
        *why = "frame larger than the server accepts";
        return false;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return true;
}

/* Sends what is due; false when the connection failed. */
static bool conn_flush(gw_conn *c, uint64_t now)
{
    while (c->out && c->out->due <= now) {
        out_buf *b = c->out;
        ssize_t n = send(c->fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        b->off += (size_t)n;
        if (b->off < b->len)
            return true;
        c->out = b->next;
        if (!c->out)
            c->out_tail = NULL;
        gw_free(b);
    }
    return true;
}

static bool relisten(gw_tcpsrv *s, gw_error *err)
{
    uint16_t bound;
    int fd;
    if (gw_net_listen(s->host, s->port, 16, &fd, &bound, err) != GW_OK)
        return false;
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    s->listen_fd = fd;
    s->port = bound;
    return true;
}

static void *server_main(void *arg)
{
    gw_tcpsrv *s = arg;
    struct pollfd *pfd = gw_calloc(s->opts.max_clients + 2u, sizeof(*pfd));
    if (!pfd)
        return NULL;
    while (!atomic_load(&s->stop)) {
        uint64_t now = gw_mono_ms();
        pthread_mutex_lock(&s->lock);
        bool refuse = active(s, GW_FAULT_REFUSE, now), drop = s->drop_now;
        uint64_t refuse_end = s->until[GW_FAULT_REFUSE];
        s->drop_now = false;
        pthread_mutex_unlock(&s->lock);
        if (drop)
            while (s->nconns)
                conn_free(s, s->nconns - 1, "fault drop");
        if (refuse && s->listen_fd >= 0) {
            close(s->listen_fd);
            s->listen_fd = -1;
        } else if (!refuse && s->listen_fd < 0) {
            gw_error err;
            if (!relisten(s, &err)) {
                gw_log_write(s->opts.log, GW_LOG_ERROR, s->name, "server: %s", err.msg);
                pthread_mutex_lock(&s->lock);
                s->state = GW_TCPSRV_ERROR;
                pthread_mutex_unlock(&s->lock);
                break;
            }
        }
        /* poll: listener, wake pipe, connections; wake up for due replies */
        int timeout = 1000;
        if (refuse && refuse_end > now && refuse_end - now < (uint64_t)timeout)
            timeout = (int)(refuse_end - now) + 1;
        size_t n = s->nconns;
        pfd[0] = (struct pollfd){s->listen_fd, POLLIN, 0};
        pfd[1] = (struct pollfd){s->wake[0], POLLIN, 0};
        for (size_t i = 0; i < n; i++) {
            gw_conn *c = s->conns[i];
            short ev = c->closing ? 0 : POLLIN;
            if (c->out && c->out->due <= now)
                ev |= POLLOUT;
            else if (c->out && c->out->due - now < (uint64_t)timeout)
                timeout = (int)(c->out->due - now) + 1;
            pfd[2 + i] = (struct pollfd){c->fd, ev, 0};
        }
        int rc = poll(pfd, n + 2, timeout);
        if (rc < 0 && errno != EINTR)
            break;
        if (pfd[1].revents) {
            char drain[64];
            while (read(s->wake[0], drain, sizeof(drain)) > 0) {
            }
        }
        now = gw_mono_ms();
        for (size_t i = n; i-- > 0;) {
            gw_conn *c = s->conns[i];
            const char *why = NULL;
            bool ok = true;
            if (pfd[2 + i].revents & (POLLIN | POLLHUP | POLLERR))
                ok = conn_readable(s, c, now, &why);
            if (ok)
                ok = conn_flush(c, gw_mono_ms());
            if (ok && c->closing && !c->out)
                ok = false;
            if (!ok)
                conn_free(s, i, why);
        }
        if (s->listen_fd >= 0 && (pfd[0].revents & POLLIN))
            accept_one(s, now);
    }
    while (s->nconns)
        conn_free(s, s->nconns - 1, "server stopping");
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    gw_free(pfd);
    return NULL;
}

gw_err gw_tcpsrv_start(gw_tcpsrv *s, gw_error *err)
{
    if (s->running) {
        if (gw_tcpsrv_get_state(s) != GW_TCPSRV_ERROR)
            return GW_OK;
        /* the thread ended because it could not listen again: restart */
        pthread_join(s->thread, NULL);
        s->running = false;
    }
    if (!relisten(s, err)) {
        pthread_mutex_lock(&s->lock);
        s->state = GW_TCPSRV_ERROR;
        pthread_mutex_unlock(&s->lock);
        if (err && err->msg[0]) {
            char msg[sizeof(err->msg)];
            snprintf(msg, sizeof(msg), "%s", err->msg);
            gw_error_set(err, err->code, "%s server: %s", s->name, msg);
        }
        return err ? err->code : GW_E_IO;
    }
    atomic_store(&s->stop, false);
    if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
        close(s->listen_fd);
        s->listen_fd = -1;
        return gw_error_set(err, GW_E_IO, "%s server: cannot start its thread", s->name);
    }
    s->running = true;
    pthread_mutex_lock(&s->lock);
    s->state = GW_TCPSRV_STARTED;
    pthread_mutex_unlock(&s->lock);
    gw_log_write(s->opts.log, GW_LOG_INFO, s->name, "server: listening on %s:%u", s->host,
                 s->port);
    return GW_OK;
}

void gw_tcpsrv_stop(gw_tcpsrv *s)
{
    if (!s || !s->running)
        return;
    atomic_store(&s->stop, true);
    wake(s);
    pthread_join(s->thread, NULL);
    s->running = false;
    pthread_mutex_lock(&s->lock);
    s->state = GW_TCPSRV_STOPPED;
    pthread_mutex_unlock(&s->lock);
    gw_log_write(s->opts.log, GW_LOG_INFO, s->name, "server: stopped");
}

void gw_tcpsrv_free(gw_tcpsrv *s)
{
    if (!s)
        return;
    gw_tcpsrv_stop(s);
    if (s->wake[0] >= 0) {
        close(s->wake[0]);
        close(s->wake[1]);
    }
    gw_free(s->conns);
    pthread_mutex_destroy(&s->lock);
    gw_free(s);
}
