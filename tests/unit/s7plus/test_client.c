/*
 * test_client.c - the S7CommPlus V1 client (s7plus.h) against a scripted
 * fake server on 127.0.0.1: a thread that accepts, checks the exact bytes
 * the client sends at each step of a V1 session (docs/s7commplus.md S5:
 * COTP CR, InitSSL, CreateObject, the attr-306 echo in a V2 frame,
 * absolute reads and writes, Explore, DeleteObject) and answers with the
 * bytes py7's emulator sends, or misbehaves: closes mid-request, stays
 * silent, answers another sequence number, fragments its answer.
 * The response parsers (s7p_client_internal.h) are also tested on bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/s7plus/s7p_client_internal.h"

/* ------------------------------------------------------------ bytes (S1, S5) */

#define CR "03 00 00 24 1f e0 00 00 00 01 00 c1 02 06 00 c2 10 " \
           "53 49 4d 41 54 49 43 2d 52 4f 4f 54 2d 48 4d 49 c0 01 0a"
#define CC "03 00 00 0e 09 d0 00 01 00 01 00 c0 01 0a"
#define OQ "00 00 04 e8 89 69 00 12 00 00 00 00 89 6a 00 13 00 89 6b 00 04 00 00 00 00"

#define INITSSL_REQ "31 0000 05b3 0000 0000 00000000 30 | 00000000"
#define INITSSL_RSP "32 0000 05b3 0000 0000 00 | 00 00000000"
/* header, RequestId 285, UDInt 0, u32 0, A1 RID 211 class 287, attr 300 = RID */
#define CREATE_REQ "31 0000 04ca 0000 0001 00000120 36 | 0000011d 00 04 00 00000000 " \
                   "a1 000000d3 82 1f 00 00 a3 82 2c 00 12 80 c3 c9 01"
#define CREATE_RSP "32 0000 04ca 0000 0001 00 | 00 01 01 a1 00000001 00 00 00 " \
                   "a3 82 31 00 04 01 a3 82 32 00 02 01 a3 82 32 00 04 01 a2 00000000"
#define SETUP_REQ "31 0000 0542 0000 0002 00000001 34 | 00000001 01 01 82 32 01 00 04 01 00 " \
                  OQ " 00000000"
#define SETUP_RSP "32 0000 0542 0000 0002 00 | 00 00 00"
#define READ_DB1_REQ(seq) "31 0000 054c 0000 " seq " 00000001 34 | 00000000 01 06 " \
                          "00 88d0b88001 03 9376 01 04 " OQ " 01 00000000"
#define READ_DB1_RSP(seq) "32 0000 054c 0000 " seq " 00 | 00 01 00 14 04 41 bc 00 00 00 00 00"
#define DELETE_REQ(seq) "31 0000 04d4 0000 " seq " 00000001 36 | 00000000"
#define DELETE_RSP(seq) "32 0000 04d4 0000 " seq " 00 | 00"

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        int v;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            assert_true(n < cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1);
    return n;
}

/* ------------------------------------------------------------ the fake server */

typedef enum {
    A_REPLY,     /* answer `reply` in one frame */
    A_FRAGMENT,  /* answer `reply` in three frames, three TPKTs */
    A_CLOSE,     /* read the request, close without answering */
    A_SILENT,    /* read the request, answer nothing until the client closes */
    A_RAW        /* expect: a whole TPKT (the CR); reply: raw bytes (the CC) */
} action;

typedef struct {
    const char *expect;   /* frame data (header + payload), hex */
    uint8_t vv;           /* its frame version */
    bool prefix;          /* only the first bytes are checked */
    const char *reply;    /* response frame data, hex */
    uint8_t reply_vv;     /* 0 = 1 */
    action act;
} step;

#define MAX_CONNS 3

typedef struct {
    int lfd;
    uint16_t port;
    pthread_t th;
    const step *script[MAX_CONNS];
    size_t nsteps[MAX_CONNS];
    size_t nconns;
    bool wait_close;      /* after the script: read until the client closes */
    /* results, read by the test thread after the join */
    int bad;
    char why[512];
    size_t done;          /* steps completed */
} peer;

static bool read_all(int fd, uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n;) {
        ssize_t r = recv(fd, p + off, n - off, 0);
        if (r <= 0)
            return false;
        off += (size_t)r;
    }
    return true;
}

static size_t read_tpkt(int fd, uint8_t *buf)
{
    if (!read_all(fd, buf, 4))
        return 0;
    size_t total = (size_t)buf[2] << 8 | buf[3];
    if (total < 7 || !read_all(fd, buf + 4, total - 4))
        return 0;
    return total;
}

/* One COTP DT (EOT) in one TPKT around payload. */
static void send_dt(int fd, const uint8_t *payload, size_t n)
{
    uint8_t *f = malloc(n + 7);
    size_t total = n + 7;
    f[0] = 3;
    f[1] = 0;
    f[2] = (uint8_t)(total >> 8);
    f[3] = (uint8_t)total;
    f[4] = 2;
    f[5] = 0xF0;
    f[6] = 0x80;
    memcpy(f + 7, payload, n);
    ssize_t w = send(fd, f, total, MSG_NOSIGNAL);
    (void)w;
    free(f);
}

/* A frame: 72 vv LL LL data [72 vv 00 00]. */
static size_t frame(uint8_t *out, uint8_t vv, const uint8_t *data, size_t n, bool last)
{
    out[0] = 0x72;
    out[1] = vv;
    out[2] = (uint8_t)(n >> 8);
    out[3] = (uint8_t)n;
    memcpy(out + 4, data, n);
    if (!last)
        return n + 4;
    out[n + 4] = 0x72;
    out[n + 5] = vv;
    out[n + 6] = 0;
    out[n + 7] = 0;
    return n + 8;
}

static void bad(peer *p, size_t conn, size_t k, const char *what, const uint8_t *got, size_t n)
{
    if (p->bad++)
        return;
    int off = snprintf(p->why, sizeof(p->why), "conn %zu step %zu: %s; got", conn, k, what);
    for (size_t i = 0; i < n && off > 0 && (size_t)off < sizeof(p->why) - 4; i++)
        off += snprintf(p->why + off, sizeof(p->why) - (size_t)off, " %02x", got[i]);
}

/* Runs one step; false when the connection is over. */
static bool run_step(peer *p, int fd, size_t conn, size_t k, uint8_t *buf)
{
    const step *s = &p->script[conn][k];
    uint8_t want[2048], out[4096];
    size_t n = read_tpkt(fd, buf);
    if (n == 0) {
        bad(p, conn, k, "no request", buf, 0);
        return false;
    }
    size_t wn = unhex(s->expect, want, sizeof(want));
    if (s->act == A_RAW) {
        if (n != wn || memcmp(buf, want, n) != 0)
            bad(p, conn, k, "not the expected TPKT", buf, n);
        size_t rn = unhex(s->reply, out, sizeof(out));
        return send(fd, out, rn, MSG_NOSIGNAL) == (ssize_t)rn;
    }
    /* TPKT, COTP DT with EOT, one whole frame of version vv */
    const uint8_t *d = buf + 7;
    size_t dn = n - 7;
    if (n < 15 || buf[4] != 2 || buf[5] != 0xF0 || buf[6] != 0x80 || d[0] != 0x72 ||
        d[1] != s->vv || ((size_t)d[2] << 8 | d[3]) + 8 != dn ||
        memcmp(d + dn - 4, (uint8_t[]){0x72, s->vv, 0, 0}, 4) != 0) {
        bad(p, conn, k, "not one DT with one whole frame of the expected version", buf, n);
        return false;
    }
    size_t ln = dn - 8;
    if (s->prefix ? ln < wn || memcmp(d + 4, want, wn) != 0
                  : ln != wn || memcmp(d + 4, want, wn) != 0)
        bad(p, conn, k, "not the expected request", d + 4, ln);
    if (s->act == A_CLOSE)
        return false;
    if (s->act == A_SILENT) {
        while (read_tpkt(fd, buf) > 0) {
        }
        return false;
    }
    uint8_t rsp[2048];
    size_t rn = unhex(s->reply, rsp, sizeof(rsp));
    uint8_t vv = s->reply_vv ? s->reply_vv : 1;
    if (s->act == A_FRAGMENT) {
        size_t a = rn / 3, b = 2 * rn / 3;
        send_dt(fd, out, frame(out, vv, rsp, a, false));
        send_dt(fd, out, frame(out, vv, rsp + a, b - a, false));
        send_dt(fd, out, frame(out, vv, rsp + b, rn - b, true));
    } else {
        send_dt(fd, out, frame(out, vv, rsp, rn, true));
    }
    return true;
}

static void *peer_main(void *arg)
{
    peer *p = arg;
    uint8_t *buf = malloc(65536);
    for (size_t conn = 0; conn < p->nconns; conn++) {
        char name[64];
        int fd = gw_net_accept(p->lfd, false, name, sizeof(name));
        if (fd < 0)
            break;
        struct timeval tv = {3, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        size_t k = 0;
        while (k < p->nsteps[conn] && run_step(p, fd, conn, k, buf)) {
            k++;
            p->done++;
        }
        if (k == p->nsteps[conn] && p->wait_close) {
            /* the client's DR ends it; we just close */
            while (read_tpkt(fd, buf) > 0) {
            }
        }
        close(fd);
    }
    free(buf);
    return NULL;
}

static void peer_start(peer *p)
{
    assert_int_equal(gw_net_listen("127.0.0.1", 0, 4, &p->lfd, &p->port, NULL), GW_OK);
    assert_int_equal(pthread_create(&p->th, NULL, peer_main, p), 0);
}

static void peer_join(peer *p)
{
    pthread_join(p->th, NULL);
    close(p->lfd);
    if (p->bad)
        fail_msg("fake server: %s", p->why);
}

static gw_s7p_client *client(const peer *p, uint32_t recv_ms)
{
    gw_s7p_opts o = {0};
    o.host = "127.0.0.1";
    o.port = p->port;
    o.connect_timeout_ms = o.send_timeout_ms = 1000;
    o.recv_timeout_ms = recv_ms;
    gw_s7p_client *c;
    assert_int_equal(gw_s7p_client_new(&o, &c), GW_OK);
    return c;
}

#define NSTEPS(s) (sizeof(s) / sizeof((s)[0]))

/* Starts p on a script (a, na) and, when b, a second connection's (b,
 * nb); wait_close as p's; then a client (recv_ms) connects, checked. */
static gw_s7p_client *start_connected(peer *p, const step *a, size_t na, const step *b,
                                      size_t nb, bool wait_close, uint32_t recv_ms,
                                      gw_error *err)
{
    p->script[0] = a;
    p->nsteps[0] = na;
    p->script[1] = b;
    p->nsteps[1] = nb;
    p->nconns = b ? 2 : 1;
    p->wait_close = wait_close;
    peer_start(p);
    gw_s7p_client *c = client(p, recv_ms);
    gw_error_clear(err);
    assert_int_equal(gw_s7p_connect(c, err), GW_OK);
    return c;
}

/* The session set-up every connection starts with. */
#define HANDSHAKE                                                  \
    {CR, 0, false, CC, 0, A_RAW}, {INITSSL_REQ, 1, false, INITSSL_RSP, 0, A_REPLY}, \
    {CREATE_REQ, 1, true, CREATE_RSP, 0, A_REPLY}, {SETUP_REQ, 2, false, SETUP_RSP, 0, A_REPLY}

static gw_s7_range db_range(uint16_t db, uint32_t start, uint32_t len, uint8_t *dst)
{
    return (gw_s7_range){GW_S7_DB, db, start, len, false, 0, dst, NULL, GW_OK, 0};
}

/* ------------------------------------------------------------ a whole session */

static const step SESSION[] = {
    HANDSHAKE,
    /* DB1 bytes 0..3 = 23.5 */
    {READ_DB1_REQ("0003"), 1, false, READ_DB1_RSP("0003"), 0, A_REPLY},
    /* DB1 0..3 and DB9 0..1: DB9 is missing */
    {"31 0000 054c 0000 0004 00000001 34 | 00000000 02 0c 00 88d0b88001 03 9376 01 04 "
     "00 88d0b88009 03 9376 01 02 " OQ " 01 00000000",
     1, false, "32 0000 054c 0000 0004 00 | 00 01 00 14 04 41 bc 00 00 00 02 82 82 04 00 00", 0,
     A_REPLY},
    /* write DB2 offset 2 = de ad */
    {"31 0000 0542 0000 0005 00000001 36 | 00000000 01 06 00 88d0b88002 03 9376 03 02 "
     "01 00 14 02 de ad 00 " OQ " 01 00000000",
     1, false, "32 0000 0542 0000 0005 00 | 00 00 00", 0, A_REPLY},
    /* DB2.DBX4.1 := 1: the byte read (f0), then written (f2) */
    {"31 0000 054c 0000 0006 00000001 34 | 00000000 01 06 00 88d0b88002 03 9376 05 01 " OQ
     " 01 00000000",
     1, false, "32 0000 054c 0000 0006 00 | 00 01 00 14 01 f0 00 00 00", 0, A_REPLY},
    {"31 0000 0542 0000 0007 00000001 36 | 00000000 01 06 00 88d0b88002 03 9376 05 01 "
     "01 00 14 01 f2 00 " OQ " 01 00000000",
     1, false, "32 0000 0542 0000 0007 00 | 00 00 00", 0, A_REPLY},
    /* Explore: DB1 named in UTF-16BE, DB2 in UTF-8 */
    {"31 0000 04bb 0000 0008 00000001 34 | 00000003 00 01 01 00 00 02 81 69 93 59 00000000 00",
     1, false,
     "32 0000 04bb 0000 0008 00 | 00 "
     "a1 8a0e0001 94 0e 00 00 a3 81 69 00 15 06 00 44 00 42 00 31 a3 93 59 00 04 01 "
     "a3 02 00 04 88 00 a1 00000000 00 00 00 a3 81 69 00 15 08 00 74 00 65 00 6d 00 70 a2 "
     "a1 00000000 00 00 00 a3 81 69 00 15 04 00 72 00 70 a2 a2 "
     "a1 8a0e0002 94 0e 00 00 a3 81 69 00 15 03 44 42 32 a3 93 59 00 04 02 a3 02 00 04 10 "
     "a1 00000000 00 00 00 a3 81 69 00 15 06 c3 a4 6e 64 65 72 a2 a2 00000000",
     0, A_REPLY},
    /* the same read, its answer in three fragments */
    {READ_DB1_REQ("0009"), 1, false, READ_DB1_RSP("0009"), 0, A_FRAGMENT},
    {DELETE_REQ("000a"), 1, false, DELETE_RSP("000a"), 0, A_REPLY},
};

static void test_session(void **state)
{
    (void)state;
    peer p = {0};
    gw_error err;
    gw_s7p_client *c = start_connected(&p, SESSION, NSTEPS(SESSION), NULL, 0, true,
                                       2000, &err);
    assert_true(gw_s7p_connected(c));
    assert_int_equal(gw_s7p_session_id(c), 1);
    assert_int_equal(gw_s7p_round_trips(c), 3);

    uint8_t v[4], w[2];
    gw_s7_range r = db_range(1, 0, 4, v);
    assert_int_equal(gw_s7p_read(c, &r, 1, &err), GW_OK);
    assert_int_equal(r.result, GW_OK);
    assert_memory_equal(v, ((uint8_t[]){0x41, 0xbc, 0, 0}), 4);
    float f;
    uint32_t bits = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
    memcpy(&f, &bits, 4);
    assert_true(f == 23.5f);

    /* one missing DB fails its range alone */
    memset(v, 0, 4);
    gw_s7_range two[2] = {db_range(1, 0, 4, v), db_range(9, 0, 2, w)};
    assert_int_equal(gw_s7p_read(c, two, 2, &err), GW_OK);
    assert_int_equal(two[0].result, GW_OK);
    assert_int_equal(v[0], 0x41);
    assert_int_equal(two[1].result, GW_E_NOT_FOUND);
    assert_int_equal(two[1].item_rc, 0x0A);

    static const uint8_t dead[] = {0xde, 0xad};
    gw_s7_range wr = {GW_S7_DB, 2, 2, 2, false, 0, NULL, dead, GW_OK, 0};
    assert_int_equal(gw_s7p_write(c, &wr, 1, &err), GW_OK);
    assert_int_equal(wr.result, GW_OK);

    static const uint8_t one = 1;
    gw_s7_range bit = {GW_S7_DB, 2, 4, 1, true, 1, NULL, &one, GW_OK, 0};
    assert_int_equal(gw_s7p_write(c, &bit, 1, &err), GW_OK);
    assert_int_equal(bit.result, GW_OK);

    gw_s7p_db *dbs;
    size_t n;
    assert_int_equal(gw_s7p_explore(c, &dbs, &n, &err), GW_OK);
    assert_int_equal(n, 2);
    assert_int_equal(dbs[0].number, 1);
    assert_string_equal(dbs[0].name, "DB1");
    assert_int_equal(dbs[0].size, 1024);
    assert_int_equal(dbs[0].nvars, 2);
    assert_string_equal(dbs[0].vars[0], "temp");
    assert_string_equal(dbs[0].vars[1], "rp");
    assert_int_equal(dbs[1].number, 2);
    assert_string_equal(dbs[1].name, "DB2");
    assert_int_equal(dbs[1].size, 16);
    assert_int_equal(dbs[1].nvars, 1);
    assert_string_equal(dbs[1].vars[0], "\xc3\xa4nder");
    gw_s7p_dbs_free(dbs, n);

    memset(v, 0, 4);
    assert_int_equal(gw_s7p_read(c, &r, 1, &err), GW_OK);
    assert_int_equal(v[1], 0xbc);
    assert_int_equal(gw_s7p_round_trips(c), 10);
    gw_s7p_close(c);
    assert_false(gw_s7p_connected(c));
    gw_s7p_client_free(c);
    peer_join(&p);
    assert_int_equal(p.done, p.nsteps[0]);
}

/* ------------------------------------------------------------ failures */

static const step LOST[] = {
    HANDSHAKE,
    {READ_DB1_REQ("0003"), 1, false, NULL, 0, A_CLOSE},
};
static const step AGAIN[] = {
    HANDSHAKE,
    {READ_DB1_REQ("0003"), 1, false, READ_DB1_RSP("0003"), 0, A_REPLY},
    {DELETE_REQ("0004"), 1, false, DELETE_RSP("0004"), 0, A_REPLY},
};

static void test_lost_then_reconnect(void **state)
{
    (void)state;
    peer p = {0};
    gw_error err;
    gw_s7p_client *c = start_connected(&p, LOST, NSTEPS(LOST), AGAIN, NSTEPS(AGAIN), true,
                                       2000, &err);
    uint8_t v[4];
    gw_s7_range r = db_range(1, 0, 4, v);
    assert_int_equal(gw_s7p_read(c, &r, 1, &err), GW_E_CONN_LOST);
    assert_false(gw_s7p_connected(c));
    char want[64];
    snprintf(want, sizeof(want), "plc 127.0.0.1:%u: ", p.port);
    assert_memory_equal(err.msg, want, strlen(want));
    /* a call on a closed client says so */
    assert_int_equal(gw_s7p_read(c, &r, 1, &err), GW_E_CONN_LOST);
    /* and a new connection starts from sequence 0 again */
    assert_int_equal(gw_s7p_connect(c, &err), GW_OK);
    assert_int_equal(gw_s7p_read(c, &r, 1, &err), GW_OK);
    assert_int_equal(r.result, GW_OK);
    gw_s7p_client_free(c);
    peer_join(&p);
}

static const step SILENT[] = {
    HANDSHAKE,
    {READ_DB1_REQ("0003"), 1, false, NULL, 0, A_SILENT},
};

static void test_timeout(void **state)
{
    (void)state;
    peer p = {0};
    gw_error err;
    gw_s7p_client *c = start_connected(&p, SILENT, NSTEPS(SILENT), NULL, 0, false,
                                       300, &err);
    uint8_t v[4];
    gw_s7_range r = db_range(1, 0, 4, v);
    uint64_t t0 = gw_mono_ms();
    assert_int_equal(gw_s7p_read(c, &r, 1, &err), GW_E_TIMEOUT);
    uint64_t took = gw_mono_ms() - t0;
    assert_true(took >= 250 && took < 1000);
    assert_non_null(strstr(err.msg, "no answer within 300 ms"));
    assert_false(gw_s7p_connected(c));
    gw_s7p_client_free(c);
    peer_join(&p);
}

static const step WRONG_SEQ[] = {
    HANDSHAKE,
    {READ_DB1_REQ("0003"), 1, false, READ_DB1_RSP("0004"), 0, A_REPLY},
};

static void test_wrong_sequence(void **state)
{
    (void)state;
    peer p = {0};
    gw_error err;
    gw_s7p_client *c = start_connected(&p, WRONG_SEQ, NSTEPS(WRONG_SEQ), NULL, 0, true,
                                       1000, &err);
    uint8_t v[4];
    gw_s7_range r = db_range(1, 0, 4, v);
    assert_int_equal(gw_s7p_read(c, &r, 1, &err), GW_E_PROTOCOL);
    assert_non_null(strstr(err.msg, "answer to request 4, not to 3"));
    assert_false(gw_s7p_connected(c));
    gw_s7p_client_free(c);
    peer_join(&p);
}

/* An Error answer refuses the request; the link stays. A V2 CreateObject
 * answer (TLS or session key) is not for us. */
static const step REFUSED[] = {
    HANDSHAKE,
    {READ_DB1_REQ("0003"), 1, false, "32 0000 04b1 0000 0003 00 | 89 31 00 00 00 00", 0,
     A_REPLY},
    {READ_DB1_REQ("0004"), 1, false, READ_DB1_RSP("0004"), 0, A_REPLY},
    {DELETE_REQ("0005"), 1, false, DELETE_RSP("0005"), 0, A_REPLY},
};
static const step V2[] = {
    {CR, 0, false, CC, 0, A_RAW},
    {INITSSL_REQ, 1, false, INITSSL_RSP, 0, A_REPLY},
    {CREATE_REQ, 1, true, CREATE_RSP, 2, A_REPLY},
};

static void test_refused_and_v2(void **state)
{
    (void)state;
    peer p = {0};
    gw_error err;
    gw_s7p_client *c = start_connected(&p, REFUSED, NSTEPS(REFUSED), V2, NSTEPS(V2), true,
                                       1000, &err);
    uint8_t v[4];
    gw_s7_range r = db_range(1, 0, 4, v);
    assert_int_equal(gw_s7p_read(c, &r, 1, &err), GW_E_DEVICE_REJECTED);
    assert_int_equal(r.result, GW_E_DEVICE_REJECTED);
    assert_int_equal(err.device_code, 1201);
    assert_true(gw_s7p_connected(c));
    assert_int_equal(gw_s7p_read(c, &r, 1, &err), GW_OK);
    assert_int_equal(r.result, GW_OK);
    assert_int_equal(gw_s7p_connect(c, &err), GW_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "protocol V2"));
    assert_false(gw_s7p_connected(c));
    gw_s7p_client_free(c);
    peer_join(&p);
}

/* ------------------------------------------------------------ parsers on bytes */

static void test_parse_read(void **state)
{
    (void)state;
    uint8_t p[64], buf[8];
    s7p_item it[2] = {{GW_S7_DB, 1, 0, 4, 0, NULL, GW_OK, 0},
                      {GW_S7_DB, 9, 0, 2, 4, NULL, GW_OK, 0}};
    char why[128];
    /* a value of the wrong length fails its item only */
    size_t n = unhex("00 01 00 14 03 01 02 03 00 02 82 82 04 00 00", p, sizeof(p));
    assert_int_equal(s7p__parse_read(NULL, p, n, it, 2, buf, sizeof(buf), why, sizeof(why)),
                     GW_OK);
    assert_int_equal(it[0].result, GW_E_RANGE);
    assert_int_equal(it[1].result, GW_E_NOT_FOUND);
    assert_int_equal(it[1].code, 0x8104);
    /* a USInt array is bytes too; an item the answer names nowhere fails */
    n = unhex("00 01 10 02 04 0a 0b 0c 0d 00 00 00", p, sizeof(p));
    assert_int_equal(s7p__parse_read(NULL, p, n, it, 2, buf, sizeof(buf), why, sizeof(why)),
                     GW_OK);
    assert_int_equal(it[0].result, GW_OK);
    assert_memory_equal(buf, ((uint8_t[]){0x0a, 0x0b, 0x0c, 0x0d}), 4);
    assert_int_equal(it[1].result, GW_E_PROTOCOL);
    /* an item twice, or one we did not ask for, is a malformed answer */
    n = unhex("00 01 00 14 04 01 02 03 04 01 00 14 04 01 02 03 04 00 00 00", p, sizeof(p));
    assert_int_equal(s7p__parse_read(NULL, p, n, it, 2, buf, sizeof(buf), why, sizeof(why)),
                     GW_E_PROTOCOL);
    n = unhex("00 00 03 82 82 04 00 00", p, sizeof(p));
    assert_int_equal(s7p__parse_read(NULL, p, n, it, 2, buf, sizeof(buf), why, sizeof(why)),
                     GW_E_PROTOCOL);
    /* a refusing ReturnValue fails every item */
    n = unhex("05 00 00 00", p, sizeof(p));
    assert_int_equal(s7p__parse_read(NULL, p, n, it, 2, buf, sizeof(buf), why, sizeof(why)),
                     GW_E_DEVICE_REJECTED);
    assert_int_equal(it[0].result, GW_E_DEVICE_REJECTED);
    /* SetMulti: an error list entry fails its item */
    n = unhex("00 02 82 82 04 00 00", p, sizeof(p));
    assert_int_equal(s7p__parse_write(p, n, it, 2, why, sizeof(why)), GW_OK);
    assert_int_equal(it[0].result, GW_OK);
    assert_int_equal(it[1].result, GW_E_NOT_FOUND);
}

/* A real CPU's Struct 314: member 319 (PAOM) goes back blank, the rest
 * verbatim. */
static void test_session_echo(void **state)
{
    (void)state;
    uint8_t in[64], out[64], want[64];
    size_t n = unhex("00 17 00 00 01 3a 82 3f 00 15 03 41 42 43 82 40 00 04 07 00", in,
                     sizeof(in));
    s7p_r r;
    s7p_pvalue pv;
    s7p_r_init(&r, in, n);
    assert_int_equal(s7p_get_pvalue(&r, NULL, &pv), GW_OK);
    s7p_w w;
    s7p_w_init(&w, out, sizeof(out));
    s7p__session_echo(&w, NULL, &pv);
    size_t len;
    assert_int_equal(s7p_w_finish(&w, &len), GW_OK);
    size_t wn = unhex("00 17 00 00 01 3a 82 3f 00 15 00 82 40 00 04 07 00", want, sizeof(want));
    assert_int_equal(len, wn);
    assert_memory_equal(out, want, wn);
    /* a UDInt goes back as it came */
    n = unhex("00 04 01", in, sizeof(in));
    s7p_r_init(&r, in, n);
    assert_int_equal(s7p_get_pvalue(&r, NULL, &pv), GW_OK);
    s7p_w_init(&w, out, sizeof(out));
    s7p__session_echo(&w, NULL, &pv);
    assert_int_equal(s7p_w_finish(&w, &len), GW_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(out, in, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session),
        cmocka_unit_test(test_lost_then_reconnect),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_wrong_sequence),
        cmocka_unit_test(test_refused_and_v2),
        cmocka_unit_test(test_parse_read),
        cmocka_unit_test(test_session_echo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
