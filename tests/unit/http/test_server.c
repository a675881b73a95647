/*
 * test_server.c - the HTTP/WebSocket server on a loopback port, driven by
 * raw sockets: keep-alive and pipelining, whole requests only (a short
 * body is never handled), timeouts, limits, the WebSocket rules a
 * server must enforce, and streamed responses (chunked, HEAD, HTTP/1.0, a
 * client that stops reading or goes away, the server stopping meanwhile).
 */
#define _GNU_SOURCE /* memmem */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct {
    gw_http *srv;
    uint16_t port;
    atomic_int handled;      /* requests the handler saw */
    atomic_int closed;       /* WebSocket on_close calls */
    char last_body[256];
    pthread_mutex_t mu;
    /* the streaming handler's outcome */
    atomic_int streams_done;  /* gw_http_stream_end calls */
    atomic_int stream_failed; /* streams whose write returned false */
    atomic_int in_write;      /* a write is running now */
    atomic_llong failed_write_ms; /* how long the failing write took */
    atomic_llong stream_sent; /* bytes of the last stream written before it ended */
} fixture;

/* The streamed document's byte at offset i: no short period, so a lost,
 * doubled or reordered chunk changes the checksum. */
static uint8_t doc_byte(uint64_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13 ^ i >> 16);
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

#define FNV_START 14695981039346656037u

static uint64_t doc_hash(uint64_t size)
{
    uint64_t h = FNV_START;
    for (uint64_t i = 0; i < size; i++) {
        uint8_t b = doc_byte(i);
        h = fnv1a(h, &b, 1);
    }
    return h;
}

static uint64_t query_u64(const gw_http_req *r, const char *name, uint64_t dflt)
{
    char v[32];
    return gw_http_query_param(gw_http_req_query(r), name, v, sizeof(v)) == 1
               ? strtoull(v, NULL, 10) : dflt;
}

/* /stream?size=N&chunk=N&pause_ms=N&pause_at=N: N bytes of doc_byte() in
 * writes of chunk bytes, pausing pause_ms after pause_at bytes (longer
 * than the idle and head timeouts: the connection must not be timed out
 * meanwhile). */
static void stream_handler(fixture *f, gw_http_req *r)
{
    uint64_t size = query_u64(r, "size", 1000), chunk = query_u64(r, "chunk", 65536);
    uint64_t pause_ms = query_u64(r, "pause_ms", 0), pause_at = query_u64(r, "pause_at", 0);
    gw_http_stream *s = gw_http_stream_begin(r, 200, "text/csv", "X-Stream: yes\r\n"
                                             "Content-Disposition: attachment; "
                                             "filename=\"r.csv\"\r\n");
    uint8_t *buf = malloc(chunk);
    uint64_t sent = 0;
    bool ok = true;
    while (ok && sent < size) {
        size_t n = size - sent < chunk ? (size_t)(size - sent) : (size_t)chunk;
        for (size_t i = 0; i < n; i++)
            buf[i] = doc_byte(sent + i);
        if (pause_ms && sent <= pause_at && sent + n > pause_at)
            usleep((useconds_t)pause_ms * 1000);
        atomic_store(&f->in_write, 1);
        uint64_t t0 = gw_mono_ms();
        ok = gw_http_stream_write(s, buf, n);
        atomic_store(&f->in_write, 0);
        if (!ok)
            atomic_store(&f->failed_write_ms, (long long)(gw_mono_ms() - t0));
        else
            sent += n;
        if (ok) /* a write of 0 bytes is skipped, not the end of the body */
            ok = gw_http_stream_write(s, buf, 0);
    }
    free(buf);
    if (!ok)
        atomic_fetch_add(&f->stream_failed, 1);
    atomic_store(&f->stream_sent, (long long)sent);
    gw_http_stream_end(s);
    atomic_fetch_add(&f->streams_done, 1);
}

static void on_ws_message(void *user, gw_http_conn *c, bool binary, const char *data, size_t len)
{
    (void)user;
    gw_ws_msg *m = gw_ws_msg_new(binary, data, len);
    gw_ws_send(c, m, -1);
    gw_ws_msg_release(m);
}

static void on_ws_close(void *user, gw_http_conn *c, const char *reason)
{
    (void)reason;
    fixture *f = user;
    atomic_fetch_add(&f->closed, 1);
    gw_http_conn_release(c);
}

static const gw_ws_handler ws_echo = {on_ws_message, on_ws_close};

static void handler(void *ud, gw_http_req *r)
{
    fixture *f = ud;
    atomic_fetch_add(&f->handled, 1);
    if (gw_http_req_is_upgrade(r)) {
        gw_http_upgrade(r, &ws_echo, f, NULL);
        return;
    }
    if (strcmp(gw_http_req_path(r), "/stream") == 0) {
        stream_handler(f, r);
        return;
    }
    size_t len;
    const char *body = gw_http_req_body(r, &len);
    pthread_mutex_lock(&f->mu);
    snprintf(f->last_body, sizeof(f->last_body), "%.*s", (int)len, body);
    pthread_mutex_unlock(&f->mu);
    char out[512];
    int n = snprintf(out, sizeof(out), "%s %s [%s] %zu", gw_http_req_method(r),
                     gw_http_req_path(r), gw_http_req_query(r), len);
    gw_http_respond(r, 200, "text/plain", NULL, out, (size_t)n);
}

static int start(void **state, uint32_t send_timeout_ms)
{
    fixture *f = calloc(1, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    gw_http_opts o;
    gw_http_opts_default(&o);
    o.port = 0;
    o.send_timeout_ms = send_timeout_ms;
    o.workers = 4;
    o.header_timeout_ms = 400;
    o.body_timeout_ms = 400;
    o.idle_timeout_ms = 800;
    o.max_body = 1024;
    o.max_message = 1024;
    o.max_per_address = 4;
    o.limit_loopback = true;
    o.handler = handler;
    o.ud = f;
    gw_error err;
    if (gw_http_start(&o, &f->srv, &err) != GW_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    f->port = gw_http_port(f->srv);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return start(state, 10000);
}

/* A client that does not read is given up on after 300 ms. */
static int setup_short_send(void **state)
{
    return start(state, 300);
}

static int teardown(void **state)
{
    fixture *f = *state;
    gw_http_free(f->srv);
    pthread_mutex_destroy(&f->mu);
    free(f);
    return 0;
}

static int dial(fixture *f)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(f->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void put(int fd, const void *data, size_t len)
{
    assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads until the peer closes or ms pass; returns what came. */
static char *slurp(int fd, int ms, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, ms) <= 0)
            break;
        ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n + 1 >= cap)
            break;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* Reads one response with a Content-Length body. */
static char *one_response(int fd)
{
    char *buf = calloc(1, 8192);
    size_t n = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 2000) <= 0)
            break;
        ssize_t r = recv(fd, buf + n, 8191 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        char *end = strstr(buf, "\r\n\r\n");
        const char *cl = strstr(buf, "Content-Length: ");
        if (end && cl && n >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10))
            break;
    }
    return buf;
}

static void test_keepalive_pipelining(void **state)
{
    fixture *f = *state;
    int fd = dial(f);
    const char *two = "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
                      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz";
    put(fd, two, strlen(two));
    char *a = one_response(fd);
    assert_non_null(strstr(a, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(a, "GET /a [x=1] 0"));
    char *b = strstr(a, "POST") ? a : one_response(fd);
    assert_non_null(strstr(b, "POST /b [] 3"));
    if (b != a)
        free(b);
    free(a);
    /* chunked, and a HEAD answer without its body */
    const char *ch = "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    put(fd, ch, strlen(ch));
    char *c = one_response(fd);
    assert_non_null(strstr(c, "PUT /c [] 5"));
    free(c);
    const char *hd = "HEAD /d HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    put(fd, hd, strlen(hd));
    size_t len;
    char *d = slurp(fd, 2000, &len);
    assert_non_null(strstr(d, "Content-Length: 12\r\n"));
    assert_non_null(strstr(d, "Connection: close\r\n"));
    assert_int_equal(len, (size_t)(strstr(d, "\r\n\r\n") + 4 - d)); /* no body, then closed */
    free(d);
    close(fd);
}

static void test_short_body_never_handled(void **state)
{
    fixture *f = *state;
    int before = atomic_load(&f->handled);
    /* the client half-closes after 3 of 10 bytes: 400, nothing handled */
    int fd = dial(f);
    const char *req = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n301";
    put(fd, req, strlen(req));
    shutdown(fd, SHUT_WR);
    char *r = slurp(fd, 2000, NULL);
    assert_non_null(strstr(r, "HTTP/1.1 400 "));
    assert_non_null(strstr(r, "application/problem+json"));
    free(r);
    close(fd);
    /* or it just stops: 408 after the body timeout, nothing handled */
    fd = dial(f);
    put(fd, req, strlen(req));
    r = slurp(fd, 3000, NULL);
    assert_non_null(strstr(r, "HTTP/1.1 408 "));
    free(r);
    close(fd);
    /* a head that never ends */
    fd = dial(f);
    put(fd, "GET / HTTP/1.1\r\nHost", 20);
    r = slurp(fd, 3000, NULL);
    assert_non_null(strstr(r, "HTTP/1.1 408 "));
    free(r);
    close(fd);
    assert_int_equal(atomic_load(&f->handled), before);
}

static void expect_status(fixture *f, const char *req, const char *status)
{
    int fd = dial(f);
    put(fd, req, strlen(req));
    char *r = slurp(fd, 2000, NULL);
    if (!strstr(r, status))
        fail_msg("%s -> %.80s; want %s", req, r, status);
    free(r);
    close(fd);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    int before = atomic_load(&f->handled);
    expect_status(f, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 3\r\n"
                     "\r\nabc", "HTTP/1.1 400 ");
    expect_status(f, "GET /api/machines/rig%00/tags HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 400 ");
    expect_status(f, "GET /api/machines/%ff HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 400 ");
    expect_status(f, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n", "HTTP/1.1 413 ");
    expect_status(f, "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 ");
    expect_status(f, "GET / HTTP/3.0\r\nHost: h\r\n\r\n", "HTTP/1.1 505 ");
    assert_int_equal(atomic_load(&f->handled), before);
    /* OPTIONS * and an absolute-form target are answered */
    expect_status(f, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS * [] 0");
    expect_status(f, "GET http://h:1/x?y HTTP/1.1\r\nHost: h\r\n\r\n", "GET /x [y] 0");
}

static void test_per_address_limit(void **state)
{
    fixture *f = *state;
    int fds[4];
    for (int i = 0; i < 4; i++)
        fds[i] = dial(f);
    usleep(100 * 1000);
    int fd = dial(f); /* the fifth from 127.0.0.1 */
    char *r = slurp(fd, 2000, NULL);
    assert_non_null(strstr(r, "HTTP/1.1 503 "));
    assert_non_null(strstr(r, "max_connections_per_address"));
    free(r);
    close(fd);
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    usleep(200 * 1000);
    expect_status(f, "GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "200 OK");
}

static void test_idle_closed(void **state)
{
    fixture *f = *state;
    int fd = dial(f);
    size_t len;
    char *r = slurp(fd, 3000, &len); /* closed after the idle timeout, silently */
    assert_int_equal(len, 0);
    free(r);
    close(fd);
}

static int ws_open(fixture *f)
{
    int fd = dial(f);
    const char *hs = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    put(fd, hs, strlen(hs));
    char buf[512] = "";
    size_t n = 0;
    while (!strstr(buf, "\r\n\r\n")) {
        struct pollfd p = {fd, POLLIN, 0};
        assert_true(poll(&p, 1, 2000) > 0);
        ssize_t r = recv(fd, buf + n, 1, 0);
        assert_true(r == 1);
        n++;
        buf[n] = '\0';
    }
    assert_non_null(strstr(buf, "HTTP/1.1 101 Switching Protocols\r\n"));
    assert_non_null(strstr(buf, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    return fd;
}

static size_t frame(uint8_t *out, uint8_t b0, bool masked, const char *payload, size_t len)
{
    size_t h = gw_ws_frame_header(out, true, 0, len);
    out[0] = b0;
    if (!masked) {
        memcpy(out + h, payload, len);
        return h + len;
    }
    out[1] |= 0x80;
    const uint8_t mask[4] = {9, 8, 7, 6};
    memcpy(out + h, mask, 4);
    for (size_t i = 0; i < len; i++)
        out[h + 4 + i] = (uint8_t)payload[i] ^ mask[i & 3];
    return h + 4 + len;
}

/* The close code of the close frame in what came, or 0. */
static int close_code(const uint8_t *d, size_t len)
{
    size_t at = 0;
    while (at + 2 <= len) {
        size_t pl = d[at + 1] & 0x7F, h = 2;
        if (pl == 126) {
            pl = (size_t)d[at + 2] << 8 | d[at + 3];
            h = 4;
        }
        if ((d[at] & 0x0F) == GW_WS_CLOSE)
            return pl >= 2 ? d[at + h] << 8 | d[at + h + 1] : 1005;
        at += h + pl;
    }
    return 0;
}

static void test_websocket(void **state)
{
    fixture *f = *state;
    int closed = atomic_load(&f->closed);
    int fd = ws_open(f);
    uint8_t buf[2048];
    size_t n = frame(buf, 0x81, true, "hello", 5);
    /* fragmented with a ping between the fragments */
    n += frame(buf + n, 0x01, true, "ab", 2);
    n += frame(buf + n, 0x89, true, "p", 1);
    n += frame(buf + n, 0x80, true, "cd", 2);
    put(fd, buf, n);
    /* the pong is the loop's, the echoes the worker's: any order between them */
    uint8_t in[256];
    size_t got = 0;
    while (got < 7 + 3 + 6) {
        struct pollfd p = {fd, POLLIN, 0};
        assert_true(poll(&p, 1, 2000) > 0);
        ssize_t r = recv(fd, in + got, sizeof(in) - got, 0);
        assert_true(r > 0);
        got += (size_t)r;
    }
    assert_int_equal(got, 16);
    uint8_t *pong = memmem(in, got, "\x8a\x01p", 3);
    assert_non_null(pong);
    memmove(pong, pong + 3, (size_t)(in + got - pong - 3));
    assert_memory_equal(in, "\x81\x05hello\x81\x04" "abcd", 13);
    /* a clean close is answered with its code */
    n = frame(buf, 0x88, true, "\x03\xe8" "bye", 5);
    put(fd, buf, n);
    size_t len;
    char *r = slurp(fd, 2000, &len);
    assert_int_equal(close_code((uint8_t *)r, len), 1000);
    free(r);
    close(fd);
    for (int i = 0; i < 100 && atomic_load(&f->closed) == closed; i++)
        usleep(10000);
    assert_int_equal(atomic_load(&f->closed), closed + 1);
}

static void ws_violation(fixture *f, const uint8_t *frame_bytes, size_t n, int code)
{
    int fd = ws_open(f);
    put(fd, frame_bytes, n);
    size_t len;
    char *r = slurp(fd, 2000, &len);
    if (close_code((uint8_t *)r, len) != code)
        fail_msg("want close %d, got %d (%zu bytes)", code, close_code((uint8_t *)r, len), len);
    free(r);
    close(fd);
}

static void test_websocket_violations(void **state)
{
    fixture *f = *state;
    uint8_t buf[512];
    ws_violation(f, buf, frame(buf, 0x81, false, "x", 1), 1002);   /* unmasked */
    ws_violation(f, buf, frame(buf, 0xC1, true, "x", 1), 1002);    /* RSV1 */
    ws_violation(f, buf, frame(buf, 0x83, true, "x", 1), 1002);    /* opcode 3 */
    ws_violation(f, buf, frame(buf, 0x80, true, "x", 1), 1002);    /* lone continuation */
    ws_violation(f, buf, frame(buf, 0x81, true, "\xff", 1), 1007); /* not UTF-8 */
    char big[200];
    memset(big, 'a', sizeof(big));
    ws_violation(f, buf, frame(buf, 0x89, true, big, 126), 1002);  /* ping > 125 */
    ws_violation(f, buf, frame(buf, 0x88, true, "\x03\xed", 2), 1002); /* code 1005 */
    /* 256 MiB announced: refused at once, from the header */
    uint8_t hdr[14] = {0x82, 0xFF, 0, 0, 0, 0, 0x10, 0, 0, 0, 1, 2, 3, 4};
    ws_violation(f, hdr, sizeof(hdr), 1009);
    /* a message over the limit in fragments */
    size_t n = frame(buf, 0x02, true, big, 200);
    int fd = ws_open(f);
    for (int i = 0; i < 6; i++) { /* 1,200 bytes against 1,024 */
        put(fd, buf, n);
        buf[0] = 0x00;
        n = frame(buf, 0x00, true, big, 200);
    }
    size_t len;
    char *r = slurp(fd, 2000, &len);
    assert_int_equal(close_code((uint8_t *)r, len), 1009);
    free(r);
    close(fd);
}

static void test_ws_bad_handshake(void **state)
{
    fixture *f = *state;
    expect_status(f, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
                  "HTTP/1.1 400 ");
    expect_status(f, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
                  "HTTP/1.1 426 ");
}

/* ---------------------------------------------------------------- streams */

/* A buffered reader over a client socket, every wait bounded. */
typedef struct {
    int fd;
    size_t off, len;
    uint64_t total;           /* bytes received */
    uint64_t pause_every;     /* a slow client: it stops for 50 ms after so many */
    char buf[1 << 16];
} reader;

static reader *reader_new(int fd)
{
    reader *rd = calloc(1, sizeof(*rd));
    rd->fd = fd;
    return rd;
}

/* More bytes into the buffer: false at the end of input or after 5 s. */
static bool rd_fill(reader *rd)
{
    if (rd->off == rd->len)
        rd->off = rd->len = 0;
    if (rd->len == sizeof(rd->buf)) {
        memmove(rd->buf, rd->buf + rd->off, rd->len - rd->off);
        rd->len -= rd->off;
        rd->off = 0;
    }
    struct pollfd p = {rd->fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0)
        return false;
    ssize_t n = recv(rd->fd, rd->buf + rd->len, sizeof(rd->buf) - rd->len, 0);
    if (n <= 0)
        return false;
    rd->len += (size_t)n;
    if (rd->pause_every && rd->total / rd->pause_every != (rd->total + (size_t)n) / rd->pause_every)
        usleep(50 * 1000);
    rd->total += (size_t)n;
    return true;
}

/* A line without its CRLF into out. */
static bool rd_line(reader *rd, char *out, size_t size)
{
    for (;;) {
        char *at = memmem(rd->buf + rd->off, rd->len - rd->off, "\r\n", 2);
        if (at) {
            size_t n = (size_t)(at - (rd->buf + rd->off));
            assert_true(n < size);
            memcpy(out, rd->buf + rd->off, n);
            out[n] = '\0';
            rd->off += n + 2;
            return true;
        }
        assert_true(rd->len - rd->off < 1024); /* no line is that long here */
        if (!rd_fill(rd))
            return false;
    }
}

/* A response head (the empty line included) into out. */
static void rd_head(reader *rd, char *out, size_t size)
{
    size_t n = 0;
    char line[1024];
    do {
        assert_true(rd_line(rd, line, sizeof(line)));
        int w = snprintf(out + n, size - n, "%s\r\n", line);
        assert_true(w > 0 && (size_t)w < size - n);
        n += (size_t)w;
    } while (line[0]);
}

/* Up to want bytes (or to the end of input) into the hash; how many came. */
static uint64_t rd_body(reader *rd, uint64_t want, uint64_t *hash)
{
    uint64_t got = 0;
    while (got < want) {
        if (rd->off == rd->len && !rd_fill(rd))
            break;
        size_t n = rd->len - rd->off;
        if (n > want - got)
            n = (size_t)(want - got);
        *hash = fnv1a(*hash, rd->buf + rd->off, n);
        rd->off += n;
        got += n;
    }
    return got;
}

/* A chunked body (RFC 9112 section 7.1) to its last chunk: its length and
 * hash; the count of chunks into *chunks. */
static uint64_t rd_chunked(reader *rd, uint64_t *hash, unsigned *chunks)
{
    uint64_t total = 0;
    char line[1024];
    *chunks = 0;
    for (;;) {
        assert_true(rd_line(rd, line, sizeof(line)));
        char *end;
        uint64_t n = strtoull(line, &end, 16);
        assert_true(end != line && *end == '\0');
        if (n == 0)
            break;
        assert_int_equal(rd_body(rd, n, hash), n);
        assert_true(rd_line(rd, line, sizeof(line)));
        assert_string_equal(line, ""); /* the CRLF after the data */
        total += n;
        (*chunks)++;
    }
    assert_true(rd_line(rd, line, sizeof(line)));
    assert_string_equal(line, ""); /* no trailers */
    return total;
}

static void wait_streams(fixture *f, int n, int ms)
{
    for (int i = 0; i < ms / 10 && atomic_load(&f->streams_done) < n; i++)
        usleep(10000);
    assert_int_equal(atomic_load(&f->streams_done), n);
}

/* A client socket that takes little: the server meets back-pressure soon. */
static int dial_small(fixture *f)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(f->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* The server gave up on a streamed answer: what came is read, then the
 * connection ends with a reset, not a clean end a client could take for
 * the end of the document. */
static void expect_reset(int fd)
{
    char buf[65536];
    ssize_t r;
    do {
        struct pollfd p = {fd, POLLIN, 0};
        assert_true(poll(&p, 1, 3000) > 0);
        r = recv(fd, buf, sizeof(buf), 0);
    } while (r > 0);
    assert_true(r < 0 && errno == ECONNRESET);
}

static void test_stream_chunked(void **state)
{
    fixture *f = *state;
    const uint64_t size = 8u << 20;
    int fd = dial_small(f); /* the handler outruns it: its writes wait */
    /* paused half-way for longer than the idle (800 ms) and head (400 ms)
     * timeouts: a handler making its document holds the connection */
    const char *req = "GET /stream?size=8388608&chunk=65536&pause_ms=1000&pause_at=1048576 "
                      "HTTP/1.1\r\nHost: h\r\n\r\n";
    put(fd, req, strlen(req));
    reader *rd = reader_new(fd);
    rd->pause_every = 1u << 20; /* the handler waits, the flusher wakes it */
    char head[2048];
    rd_head(rd, head, sizeof(head));
    assert_non_null(strstr(head, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(head, "\r\nTransfer-Encoding: chunked\r\n"));
    assert_non_null(strstr(head, "\r\nContent-Type: text/csv\r\n"));
    assert_non_null(strstr(head, "\r\nDate: "));
    assert_non_null(strstr(head, "\r\nX-Stream: yes\r\n"));
    assert_non_null(strstr(head, "filename=\"r.csv\"\r\n"));
    assert_null(strstr(head, "Content-Length"));
    assert_null(strstr(head, "Connection: close"));
    uint64_t hash = FNV_START;
    unsigned chunks;
    assert_int_equal(rd_chunked(rd, &hash, &chunks), size);
    assert_true(hash == doc_hash(size));
    assert_int_equal(chunks, size / 65536); /* zero-length writes sent nothing */
    wait_streams(f, 1, 2000);
    assert_int_equal(atomic_load(&f->stream_failed), 0);
    /* the connection carries the next request */
    const char *next = "GET /after HTTP/1.1\r\nHost: h\r\n\r\n";
    put(fd, next, strlen(next));
    rd_head(rd, head, sizeof(head));
    assert_non_null(strstr(head, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(head, "Content-Length: 15\r\n"));
    char body[32] = "";
    while (rd->len - rd->off < 15)
        assert_true(rd_fill(rd));
    memcpy(body, rd->buf + rd->off, 15);
    assert_string_equal(body, "GET /after [] 0");
    rd->off += 15;
    /* and another stream after it, pipelined behind a plain request */
    const char *two = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"
                      "GET /stream?size=100000&chunk=4000 HTTP/1.1\r\nHost: h\r\n"
                      "Connection: close\r\n\r\n";
    put(fd, two, strlen(two));
    rd_head(rd, head, sizeof(head));
    assert_non_null(strstr(head, "Content-Length: 11\r\n"));
    assert_int_equal(rd_body(rd, 11, &hash), 11);
    rd_head(rd, head, sizeof(head));
    assert_non_null(strstr(head, "\r\nTransfer-Encoding: chunked\r\n"));
    assert_non_null(strstr(head, "\r\nConnection: close\r\n"));
    hash = FNV_START;
    assert_int_equal(rd_chunked(rd, &hash, &chunks), 100000);
    assert_true(hash == doc_hash(100000));
    assert_false(rd_fill(rd)); /* then closed */
    free(rd);
    close(fd);
    wait_streams(f, 2, 2000);
}

static void test_stream_head(void **state)
{
    fixture *f = *state;
    int fd = dial(f);
    const char *req = "HEAD /stream?size=300000 HTTP/1.1\r\nHost: h\r\n\r\n";
    put(fd, req, strlen(req));
    reader *rd = reader_new(fd);
    char head[2048];
    rd_head(rd, head, sizeof(head));
    assert_non_null(strstr(head, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(head, "\r\nX-Stream: yes\r\n"));
    assert_non_null(strstr(head, "\r\nTransfer-Encoding: chunked\r\n")); /* as for GET */
    assert_null(strstr(head, "Content-Length"));
    wait_streams(f, 1, 2000);
    assert_int_equal(atomic_load(&f->stream_failed), 0); /* writes returned true */
    assert_int_equal(atomic_load(&f->stream_sent), 300000);
    /* no body came, and the connection goes on */
    assert_int_equal(rd->len - rd->off, 0);
    const char *next = "GET /next HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    put(fd, next, strlen(next));
    size_t len;
    char *r = slurp(fd, 2000, &len);
    assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(r, "GET /next [] 0"));
    free(r);
    free(rd);
    close(fd);
}

static void test_stream_http10(void **state)
{
    fixture *f = *state;
    const uint64_t size = 1000000;
    int fd = dial(f);
    const char *req = "GET /stream?size=1000000&chunk=30000 HTTP/1.0\r\n\r\n";
    put(fd, req, strlen(req));
    reader *rd = reader_new(fd);
    char head[2048];
    rd_head(rd, head, sizeof(head));
    assert_non_null(strstr(head, " 200 OK\r\n"));
    assert_non_null(strstr(head, "\r\nConnection: close\r\n"));
    assert_null(strstr(head, "Transfer-Encoding"));
    assert_null(strstr(head, "Content-Length"));
    /* the bare document, then the close */
    uint64_t hash = FNV_START;
    assert_int_equal(rd_body(rd, size + 1, &hash), size);
    assert_true(hash == doc_hash(size));
    free(rd);
    close(fd);
    wait_streams(f, 1, 2000);
    assert_int_equal(atomic_load(&f->stream_failed), 0);
}

static void test_stream_client_stops_reading(void **state)
{
    fixture *f = *state; /* send_timeout_ms 300 */
    int fd = dial_small(f);
    const char *req = "GET /stream?size=1073741824&chunk=65536 HTTP/1.1\r\nHost: h\r\n\r\n";
    uint64_t t0 = gw_mono_ms();
    put(fd, req, strlen(req));
    char first[100];
    struct pollfd p = {fd, POLLIN, 0};
    assert_true(poll(&p, 1, 2000) > 0);
    assert_true(recv(fd, first, sizeof(first), 0) > 0);
    /* then it reads nothing: the blocked write gives up after the send
     * timeout, and the handler ends */
    wait_streams(f, 1, 5000);
    assert_int_equal(atomic_load(&f->stream_failed), 1);
    long long waited = atomic_load(&f->failed_write_ms);
    assert_true(waited >= 150 && waited < 300 + 700);
    assert_true(gw_mono_ms() - t0 < 4000);
    assert_true(atomic_load(&f->stream_sent) < 1073741824);
    expect_reset(fd);
    close(fd);
}

static void test_stream_client_closes(void **state)
{
    fixture *f = *state;
    int fd = dial(f);
    const char *req = "GET /stream?size=1073741824&chunk=65536 HTTP/1.1\r\nHost: h\r\n\r\n";
    put(fd, req, strlen(req));
    char first[4096];
    struct pollfd p = {fd, POLLIN, 0};
    assert_true(poll(&p, 1, 2000) > 0);
    assert_true(recv(fd, first, sizeof(first), 0) > 0);
    uint64_t t0 = gw_mono_ms();
    close(fd); /* unread data: a reset */
    wait_streams(f, 1, 3000);
    assert_true(gw_mono_ms() - t0 < 2000); /* long before the send timeout (10 s) */
    assert_int_equal(atomic_load(&f->stream_failed), 1);
    /* the server goes on */
    expect_status(f, "GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "200 OK");
}

static void test_stream_server_stops(void **state)
{
    fixture *f = *state; /* send timeout 10 s: only the stop ends the wait */
    int fd = dial_small(f);
    /* HTTP/1.0: the body would end with the connection, so a cut one must
     * end with a reset */
    const char *req = "GET /stream?size=1073741824&chunk=65536 HTTP/1.0\r\n\r\n";
    put(fd, req, strlen(req));
    /* the client reads nothing: the handler comes to wait in a write */
    for (int i = 0; i < 100 && atomic_load(&f->in_write) == 0; i++)
        usleep(10000);
    usleep(500 * 1000);
    assert_int_equal(atomic_load(&f->in_write), 1);
    assert_int_equal(atomic_load(&f->streams_done), 0);
    uint64_t t0 = gw_mono_ms();
    gw_http_close(f->srv); /* joins the workers: the write must have returned */
    assert_true(gw_mono_ms() - t0 < 1500);
    assert_int_equal(atomic_load(&f->streams_done), 1);
    assert_int_equal(atomic_load(&f->stream_failed), 1);
    expect_reset(fd);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keepalive_pipelining, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_body_never_handled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_address_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_websocket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_websocket_violations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ws_bad_handshake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_chunked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_http10, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_client_stops_reading, setup_short_send,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_client_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_server_stops, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
