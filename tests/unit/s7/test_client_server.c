/*
 * test_client_server.c - our S7 client against our S7 server over real TCP
 * on 127.0.0.1, in one process (the server runs its own thread).
 *
 * Round-trip counts are worked out by hand (docs/s7comm.md section 10,
 * s7_plan.c): at PDU 240 a read request holds at most 19 items
 * (10 + 2 + 12 * 19 = 240), at 960 the limit is max_items 20; an item
 * carries at most PDU - 18 bytes (222 / 942). Writes: an item costs
 * 12 + 4 + len (+ fill) request bytes after the 12-byte header, a chunk at
 * most PDU - 28 bytes (212 / 932).
 *
 * Every socket wait has a deadline; the whole file runs in about a second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/s7/s7_internal.h"
#include "s7_test_fixture.h"

/* ------------------------------------------------------------ fixture */

#define DB4_SIZE 5000u

typedef struct {
    gw_s7_area area;
    uint16_t db;
    uint32_t start, len;
    char peer[64];
} write_ev;

typedef struct {
    pthread_mutex_t mu;
    size_t n;
    write_ev ev[64];
} hook_log;

static void on_write(void *user, const gw_s7_write_event *ev)
{
    hook_log *h = user;
    pthread_mutex_lock(&h->mu);
    if (h->n < 64) {
        write_ev *e = &h->ev[h->n++];
        e->area = ev->area;
        e->db = ev->db;
        e->start = ev->start;
        e->len = ev->len;
        snprintf(e->peer, sizeof(e->peer), "%s", ev->peer ? ev->peer : "");
    }
    pthread_mutex_unlock(&h->mu);
}

static size_t hook_count(hook_log *h)
{
    pthread_mutex_lock(&h->mu);
    size_t n = h->n;
    pthread_mutex_unlock(&h->mu);
    return n;
}

/* The hook runs on the server thread after the reply went out: wait. */
static size_t hook_wait(hook_log *h, size_t n)
{
    uint64_t deadline = gw_mono_ms() + 2000;
    while (hook_count(h) < n && gw_mono_ms() < deadline)
        usleep(1000);
    return hook_count(h);
}

static uint8_t db4_byte(uint32_t k)
{
    return (uint8_t)((k * 13u + 7u) ^ (k >> 8));
}

static gw_s7_server *server_up(uint16_t port, uint16_t max_pdu, hook_log *hl)
{
    gw_s7_server_opts so;
    memset(&so, 0, sizeof(so));
    so.host = "127.0.0.1";
    so.port = port;
    so.max_pdu = max_pdu;
    if (hl) {
        so.on_write = on_write;
        so.user = hl;
    }
    gw_s7_server *s = s7fx_server_new(&so);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 1, 100), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 2, 26), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 3, 10), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 4, DB4_SIZE), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_M, 0, 256), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_I, 0, 64), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_Q, 0, 64), GW_OK);
    uint8_t *pat = malloc(DB4_SIZE);
    for (uint32_t k = 0; k < DB4_SIZE; k++)
        pat[k] = db4_byte(k);
    assert_int_equal(gw_s7_server_set(s, GW_S7_DB, 4, 0, DB4_SIZE, pat), GW_OK);
    free(pat);
    s7fx_start(s);
    return s;
}

static gw_s7_range RR(gw_s7_area area, uint16_t db, uint32_t start, uint32_t len, uint8_t *dst)
{
    gw_s7_range r;
    memset(&r, 0, sizeof(r));
    r.area = area;
    r.db = db;
    r.start = start;
    r.len = len;
    r.dst = dst;
    r.result = GW_E_IO; /* must be overwritten */
    r.item_rc = 0x42;
    return r;
}

static gw_s7_range RW(gw_s7_area area, uint16_t db, uint32_t start, uint32_t len,
                      const uint8_t *src)
{
    gw_s7_range r = RR(area, db, start, len, NULL);
    r.src = src;
    return r;
}

static gw_s7_range RBIT(gw_s7_area area, uint16_t db, uint32_t byte, uint8_t bit,
                        const uint8_t *v)
{
    gw_s7_range r = RW(area, db, byte, 1, v);
    r.is_bit = true;
    r.bit = bit;
    return r;
}

static void put_real(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    p[0] = (uint8_t)(u >> 24);
    p[1] = (uint8_t)(u >> 16);
    p[2] = (uint8_t)(u >> 8);
    p[3] = (uint8_t)u;
}

static float get_real(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void read_ok(gw_s7_client *c, gw_s7_range *r, size_t n)
{
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_s7_read(c, r, n, &err);
    if (rc != GW_OK)
        print_error("read: %s\n", err.msg);
    assert_int_equal(rc, GW_OK);
}

static void write_ok(gw_s7_client *c, gw_s7_range *r, size_t n)
{
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_s7_write(c, r, n, &err);
    if (rc != GW_OK)
        print_error("write: %s\n", err.msg);
    assert_int_equal(rc, GW_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(r[i].result, GW_OK);
        assert_int_equal(r[i].item_rc, 0xFF);
    }
}

/* ------------------------------------------------------------ tests */

static void test_connect_pdu(void **state)
{
    (void)state;
    gw_s7_server *s = server_up(0, 0, NULL);
    uint16_t port = gw_s7_server_port(s);
    gw_s7_client *c = s7fx_client_up(port, 0); /* default request 960 */
    assert_int_equal(gw_s7_pdu_len(c), 960);
    assert_int_equal(gw_s7_amq(c), 8);
    gw_s7_client *c240 = s7fx_client_up(port, 240);
    assert_int_equal(gw_s7_pdu_len(c240), 240);
    gw_s7_client *c480 = s7fx_client_up(port, 480);
    assert_int_equal(gw_s7_pdu_len(c480), 480);
    gw_s7_client_free(c);
    gw_s7_client_free(c240);
    gw_s7_client_free(c480);
    gw_s7_server_free(s);

    /* a server that offers only 240 (an S7-1200) */
    s = server_up(0, 240, NULL);
    c = s7fx_client_up(gw_s7_server_port(s), 0);
    assert_int_equal(gw_s7_pdu_len(c), 240);
    gw_s7_close(c);
    assert_false(gw_s7_connected(c));
    assert_int_equal(gw_s7_pdu_len(c), 0);
    gw_s7_close(c); /* twice is fine */
    gw_s7_client_free(c);
    gw_s7_server_free(s);
}

static void test_write_read_types(void **state)
{
    (void)state;
    gw_s7_server *s = server_up(0, 0, NULL);
    gw_s7_client *c = s7fx_client_up(gw_s7_server_port(s), 0);
    uint8_t real1[4], real2[4], in16[2] = {0xFB, 0x2E}; /* INT -1234 */
    put_real(real1, 3.25f);
    put_real(real2, -0.5f);
    const uint8_t bytes[5] = {1, 2, 3, 4, 5}, mdw[4] = {0xDE, 0xAD, 0xBE, 0xEF};
    const uint8_t ib[2] = {0x0F, 0xF0}, qb[3] = {0xA5, 0x5A, 0x00};
    gw_s7_range w[7] = {RW(GW_S7_DB, 2, 0, 4, real1),  RW(GW_S7_DB, 2, 20, 2, in16),
                        RW(GW_S7_DB, 1, 10, 5, bytes), RW(GW_S7_DB, 3, 6, 4, real2),
                        RW(GW_S7_M, 0, 5, 4, mdw),     RW(GW_S7_I, 0, 0, 2, ib),
                        RW(GW_S7_Q, 0, 2, 3, qb)};
    uint64_t t0 = gw_s7_round_trips(c);
    write_ok(c, w, 7);
    assert_int_equal(gw_s7_round_trips(c) - t0, 1); /* 7 small items, one request */

    uint8_t got[7][8];
    memset(got, 0xEE, sizeof(got));
    gw_s7_range r[7];
    for (int i = 0; i < 7; i++)
        r[i] = RR(w[i].area, w[i].db, w[i].start, w[i].len, got[i]);
    t0 = gw_s7_round_trips(c);
    read_ok(c, r, 7);
    assert_int_equal(gw_s7_round_trips(c) - t0, 1);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(r[i].result, GW_OK);
        assert_int_equal(r[i].item_rc, 0xFF);
        assert_memory_equal(got[i], w[i].src, w[i].len);
        assert_int_equal(got[i][w[i].len], 0xEE); /* nothing past the range */
        uint8_t mem[8];
        assert_int_equal(gw_s7_server_get(s, w[i].area, w[i].db, w[i].start, w[i].len, mem),
                         GW_OK);
        assert_memory_equal(mem, w[i].src, w[i].len);
    }
    assert_true(get_real(got[0]) == 3.25f);
    assert_int_equal((int16_t)(got[1][0] << 8 | got[1][1]), -1234);
    assert_true(get_real(got[3]) == -0.5f);
    /* bytes around the writes were not touched */
    uint8_t around[2];
    assert_int_equal(gw_s7_server_get(s, GW_S7_DB, 1, 9, 1, around), GW_OK);
    assert_int_equal(gw_s7_server_get(s, GW_S7_DB, 1, 15, 1, around + 1), GW_OK);
    assert_int_equal(around[0], 0);
    assert_int_equal(around[1], 0);
    /* what the server side sets, the client reads */
    const uint8_t q7 = 0x81;
    assert_int_equal(gw_s7_server_set(s, GW_S7_Q, 0, 7, 1, &q7), GW_OK);
    uint8_t q = 0;
    gw_s7_range rq = RR(GW_S7_Q, 0, 7, 1, &q);
    read_ok(c, &rq, 1);
    assert_int_equal(q, 0x81);
    gw_s7_client_free(c);
    gw_s7_server_free(s);
}

/* A bit write changes only its bit, whatever the other bits hold. */
static void test_bit_writes(void **state)
{
    (void)state;
    gw_s7_server *s = server_up(0, 0, NULL);
    gw_s7_client *c = s7fx_client_up(gw_s7_server_port(s), 0);
    const uint8_t m10 = 0xF0, db3_1 = 0xFF, one = 1, zero = 0;
    assert_int_equal(gw_s7_server_set(s, GW_S7_M, 0, 10, 1, &m10), GW_OK);
    assert_int_equal(gw_s7_server_set(s, GW_S7_DB, 3, 1, 1, &db3_1), GW_OK);

    gw_s7_range b1 = RBIT(GW_S7_M, 0, 10, 3, &one);
    write_ok(c, &b1, 1);
    uint8_t v;
    gw_s7_server_get(s, GW_S7_M, 0, 10, 1, &v);
    assert_int_equal(v, 0xF8);
    gw_s7_range b2 = RBIT(GW_S7_M, 0, 10, 5, &zero);
    write_ok(c, &b2, 1);
    gw_s7_server_get(s, GW_S7_M, 0, 10, 1, &v);
    assert_int_equal(v, 0xD8);
    /* setting a bit that is set, clearing one that is clear: no change */
    gw_s7_range b3[2] = {RBIT(GW_S7_M, 0, 10, 7, &one), RBIT(GW_S7_M, 0, 10, 0, &zero)};
    write_ok(c, b3, 2);
    gw_s7_server_get(s, GW_S7_M, 0, 10, 1, &v);
    assert_int_equal(v, 0xD8);
    /* several bits of one DB byte in one call */
    gw_s7_range b4[3] = {RBIT(GW_S7_DB, 3, 1, 0, &zero), RBIT(GW_S7_DB, 3, 1, 7, &zero),
                         RBIT(GW_S7_DB, 3, 1, 4, &one)};
    uint64_t t0 = gw_s7_round_trips(c);
    write_ok(c, b4, 3);
    assert_int_equal(gw_s7_round_trips(c) - t0, 1);
    gw_s7_server_get(s, GW_S7_DB, 3, 1, 1, &v);
    assert_int_equal(v, 0x7E);
    /* the neighbours of the bytes are untouched */
    uint8_t nb[2];
    gw_s7_server_get(s, GW_S7_DB, 3, 0, 1, nb);
    gw_s7_server_get(s, GW_S7_DB, 3, 2, 1, nb + 1);
    assert_int_equal(nb[0], 0);
    assert_int_equal(nb[1], 0);
    /* a bit number above 7 is the caller's error */
    gw_s7_range bad = RBIT(GW_S7_M, 0, 10, 8, &one);
    gw_error err;
    assert_int_equal(gw_s7_write(c, &bad, 1, &err), GW_E_INVAL);
    assert_true(gw_s7_connected(c));
    gw_s7_client_free(c);
    gw_s7_server_free(s);
}

/* Many ranges in one call: packed into as few requests as fit. */
static void test_multi_range_writes(void **state)
{
    (void)state;
    gw_s7_server *s = server_up(0, 0, NULL);
    uint16_t port = gw_s7_server_port(s);
    gw_s7_client *c960 = s7fx_client_up(port, 960);
    gw_s7_client *c240 = s7fx_client_up(port, 240);
    /* 14 ranges of 2 bytes: 18 request bytes each after the 12-byte
     * header; at 240: 12 + 18 * 12 = 228, the 13th would make 246 -> 12 + 2;
     * at 960: all 14 (max 20) */
    uint8_t src[14][2];
    gw_s7_range w[14];
    for (int i = 0; i < 14; i++) {
        src[i][0] = (uint8_t)(0x10 + i);
        src[i][1] = (uint8_t)(0x80 + i);
        w[i] = RW(GW_S7_M, 0, 4u * (uint32_t)i, 2, src[i]);
    }
    uint64_t t0 = gw_s7_round_trips(c960);
    write_ok(c960, w, 14);
    assert_int_equal(gw_s7_round_trips(c960) - t0, 1);
    for (int i = 0; i < 14; i++) {
        src[i][0] ^= 0xFF;
        w[i].src = src[i];
    }
    t0 = gw_s7_round_trips(c240);
    write_ok(c240, w, 14);
    assert_int_equal(gw_s7_round_trips(c240) - t0, 2);
    for (int i = 0; i < 14; i++) {
        uint8_t m[2];
        gw_s7_server_get(s, GW_S7_M, 0, 4u * (uint32_t)i, 2, m);
        assert_memory_equal(m, src[i], 2);
    }
    /* 500 bytes at 240: chunks of 240 - 28 = 212: 212, 212, 76, each alone */
    uint8_t *big = malloc(500);
    for (int i = 0; i < 500; i++)
        big[i] = (uint8_t)(i * 3 + 1);
    gw_s7_range wb = RW(GW_S7_DB, 4, 1000, 500, big);
    t0 = gw_s7_round_trips(c240);
    write_ok(c240, &wb, 1);
    assert_int_equal(gw_s7_round_trips(c240) - t0, 3);
    uint8_t *back = malloc(502);
    gw_s7_server_get(s, GW_S7_DB, 4, 999, 502, back);
    assert_int_equal(back[0], db4_byte(999));
    assert_memory_equal(back + 1, big, 500);
    assert_int_equal(back[501], db4_byte(1500));
    /* and 500 bytes at 960 in one request */
    for (int i = 0; i < 500; i++)
        big[i] ^= 0x5A;
    t0 = gw_s7_round_trips(c960);
    write_ok(c960, &wb, 1);
    assert_int_equal(gw_s7_round_trips(c960) - t0, 1);
    gw_s7_server_get(s, GW_S7_DB, 4, 1000, 500, back);
    assert_memory_equal(back, big, 500);
    free(big);
    free(back);
    gw_s7_client_free(c960);
    gw_s7_client_free(c240);
    gw_s7_server_free(s);
}

/* 19, 20, 21 and 100 separate 2-byte ranges (24 bytes apart, gap 22):
 * round trips at 240 = ceil(n / 19), at 960 = ceil(n / 20). */
static void test_many_ranges(void **state)
{
    (void)state;
    gw_s7_server *s = server_up(0, 0, NULL);
    const uint16_t pdus[2] = {240, 960};
    const size_t counts[4] = {19, 20, 21, 100};
    const uint64_t trips[2][4] = {{1, 2, 2, 6}, {1, 1, 2, 5}};
    uint8_t buf[100][2];
    gw_s7_range r[100];
    for (int k = 0; k < 2; k++) {
        gw_s7_client *c = s7fx_client_up(gw_s7_server_port(s), pdus[k]);
        assert_int_equal(gw_s7_pdu_len(c), pdus[k]);
        for (int j = 0; j < 4; j++) {
            size_t n = counts[j];
            memset(buf, 0xEE, sizeof(buf));
            for (size_t i = 0; i < n; i++)
                r[i] = RR(GW_S7_DB, 4, 24u * (uint32_t)i + 3, 2, buf[i]);
            uint64_t t0 = gw_s7_round_trips(c);
            read_ok(c, r, n);
            if (gw_s7_round_trips(c) - t0 != trips[k][j])
                print_error("PDU %u, %zu ranges: %llu round trips\n", pdus[k], n,
                            (unsigned long long)(gw_s7_round_trips(c) - t0));
            assert_int_equal(gw_s7_round_trips(c) - t0, trips[k][j]);
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(r[i].result, GW_OK);
                assert_int_equal(r[i].item_rc, 0xFF);
                assert_int_equal(buf[i][0], db4_byte(24u * (uint32_t)i + 3));
                assert_int_equal(buf[i][1], db4_byte(24u * (uint32_t)i + 4));
            }
        }
        gw_s7_client_free(c);
    }
    gw_s7_server_free(s);
}

/* 4096 bytes in one range: 19 requests at 240 (18 x 222 + 100), 5 at 960
 * (4 x 942 + 328). */
static void test_read_4k(void **state)
{
    (void)state;
    gw_s7_server *s = server_up(0, 0, NULL);
    const uint16_t pdus[2] = {240, 960};
    const uint64_t trips[2] = {19, 5};
    uint8_t *buf = malloc(4096);
    for (int k = 0; k < 2; k++) {
        gw_s7_client *c = s7fx_client_up(gw_s7_server_port(s), pdus[k]);
        memset(buf, 0xEE, 4096);
        gw_s7_range r = RR(GW_S7_DB, 4, 777, 4096, buf);
        uint64_t t0 = gw_s7_round_trips(c);
        read_ok(c, &r, 1);
        assert_int_equal(gw_s7_round_trips(c) - t0, trips[k]);
        assert_int_equal(r.result, GW_OK);
        for (uint32_t i = 0; i < 4096; i++) {
            if (buf[i] != db4_byte(777 + i))
                print_error("PDU %u byte %u\n", pdus[k], i);
            assert_int_equal(buf[i], db4_byte(777 + i));
        }
        /* a prepared plan, used twice */
        gw_s7_plan_opts po = {.pdu_len = gw_s7_pdu_len(c), .max_items = 20, .gap = 16};
        gw_s7_plan *p = NULL;
        assert_int_equal(gw_s7_plan_new(&r, 1, &po, &p), GW_OK);
        for (int rep = 0; rep < 2; rep++) {
            memset(buf, 0, 4096);
            gw_error err;
            assert_int_equal(gw_s7_read_plan(c, p, &r, &err), GW_OK);
            assert_int_equal(buf[4095], db4_byte(777 + 4095));
            assert_int_equal(buf[0], db4_byte(777));
        }
        gw_s7_plan_free(p);
        gw_s7_client_free(c);
    }
    free(buf);
    gw_s7_server_free(s);
}

/* Bad ranges among good ones: only they fail, with the PLC's item code. */
static void test_bad_ranges(void **state)
{
    (void)state;
    gw_s7_server *s = server_up(0, 0, NULL);
    gw_s7_client *c = s7fx_client_up(gw_s7_server_port(s), 240);
    const uint8_t init[4] = {9, 8, 7, 6}, mb[4] = {1, 1, 2, 3};
    gw_s7_server_set(s, GW_S7_DB, 1, 0, 4, init);
    gw_s7_server_set(s, GW_S7_M, 0, 0, 4, mb);
    uint8_t g0[4], g1[4], g2[4], g3[4], g4[26];
    memset(g1, 0xEE, 4);
    memset(g2, 0xEE, 4);
    gw_s7_range r[5] = {RR(GW_S7_DB, 1, 0, 4, g0), RR(GW_S7_DB, 99, 0, 4, g1),
                        RR(GW_S7_DB, 1, 98, 4, g2), /* DB1 has 100 bytes */
                        RR(GW_S7_M, 0, 0, 4, g3), RR(GW_S7_DB, 2, 0, 26, g4)};
    read_ok(c, r, 5);
    assert_int_equal(r[0].result, GW_OK);
    assert_memory_equal(g0, init, 4);
    assert_int_equal(r[1].result, GW_E_NOT_FOUND);
    assert_int_equal(r[1].item_rc, 0x0A);
    assert_int_equal(r[2].result, GW_E_RANGE);
    assert_int_equal(r[2].item_rc, 0x05);
    assert_int_equal(g1[0], 0xEE); /* nothing stored for failed ranges */
    assert_int_equal(g2[0], 0xEE);
    assert_int_equal(r[3].result, GW_OK);
    assert_memory_equal(g3, mb, 4);
    assert_int_equal(r[4].result, GW_OK);
    assert_int_equal(r[4].item_rc, 0xFF);
    assert_true(gw_s7_connected(c));
    assert_string_equal(gw_s7_item_rc_text(0x0A), "object does not exist");
    assert_true(strlen(gw_s7_item_rc_hint(0x05)) > 0);

    /* writes: the same codes, the good ranges written */
    const uint8_t nv[4] = {0x44, 0x33, 0x22, 0x11};
    gw_s7_range w[4] = {RW(GW_S7_DB, 1, 0, 4, nv), RW(GW_S7_DB, 99, 0, 4, nv),
                        RW(GW_S7_DB, 1, 97, 4, nv), RW(GW_S7_M, 0, 0, 4, nv)};
    gw_error err;
    assert_int_equal(gw_s7_write(c, w, 4, &err), GW_OK);
    assert_int_equal(w[0].result, GW_OK);
    assert_int_equal(w[1].result, GW_E_NOT_FOUND);
    assert_int_equal(w[1].item_rc, 0x0A);
    assert_int_equal(w[2].result, GW_E_RANGE);
    assert_int_equal(w[2].item_rc, 0x05);
    assert_int_equal(w[3].result, GW_OK);
    uint8_t v[4];
    gw_s7_server_get(s, GW_S7_DB, 1, 0, 4, v);
    assert_memory_equal(v, nv, 4);
    gw_s7_server_get(s, GW_S7_DB, 1, 96, 4, v);
    assert_int_equal(v[1] | v[2] | v[3], 0); /* nothing written past the failed item */
    gw_s7_server_get(s, GW_S7_M, 0, 0, 4, v);
    assert_memory_equal(v, nv, 4);
    assert_true(gw_s7_connected(c));
    gw_s7_client_free(c);
    gw_s7_server_free(s);
}

/* s7.h: "one bad address fails that range and not the others" - also when
 * the planner merged the bad range with a good neighbour into one item:
 * DB1 has 100 bytes; [90,94) is inside, [98,102) runs past the end. With
 * gap 16 they are read as one item [90,102); with any gap, [94,98) touches
 * [98,102). */
static void bad_next_to_good(uint16_t gap, uint32_t good_start)
{
    gw_s7_server *s = server_up(0, 0, NULL);
    gw_s7_client *c = s7fx_client_up_gap(gw_s7_server_port(s), 0, gap);
    const uint8_t init[4] = {0xA1, 0xA2, 0xA3, 0xA4};
    gw_s7_server_set(s, GW_S7_DB, 1, good_start, 4, init);
    uint8_t good[4] = {0}, bad[4] = {0};
    gw_s7_range r[2] = {RR(GW_S7_DB, 1, good_start, 4, good), RR(GW_S7_DB, 1, 98, 4, bad)};
    gw_error err;
    uint64_t t0 = gw_s7_round_trips(c);
    gw_err rc = gw_s7_read(c, r, 2, &err);
    /* one request for the merged item, one to read the two ranges alone */
    uint64_t trips = gw_s7_round_trips(c) - t0;
    gw_s7_client_free(c);
    gw_s7_server_free(s);
    assert_int_equal(rc, GW_OK);
    assert_int_equal(r[1].result, GW_E_RANGE);
    assert_int_equal(r[1].item_rc, 0x05);
    if (r[0].result != GW_OK)
        print_error("gap %u: the good range DB1.DBB%u got %s (item code 0x%02X) because it "
                    "was merged with the bad one\n", gap, good_start, gw_err_name(r[0].result),
                    r[0].item_rc);
    assert_int_equal(r[0].result, GW_OK);
    assert_int_equal(r[0].item_rc, 0xFF);
    assert_memory_equal(good, init, 4);
    assert_int_equal(trips, 2);
}

static void test_bad_range_near_good(void **state)
{
    (void)state;
    bad_next_to_good(16, 90);
}

static void test_bad_range_touching_good(void **state)
{
    (void)state;
    bad_next_to_good(0, 94);
}

/* s7.h, gw_s7_opts.gap: "default GW_S7_DEFAULT_GAP". 20 ranges of 2 bytes,
 * 2 bytes apart, at PDU 240: merged (gap 2 <= 16) they are one item and one
 * round trip; unmerged, 20 items need 2 requests (19 per request). */
static void test_client_default_gap(void **state)
{
    (void)state;
    gw_s7_server *s = server_up(0, 0, NULL);
    uint16_t port = gw_s7_server_port(s);
    uint8_t buf[20][2];
    gw_s7_range r[20];
    for (int i = 0; i < 20; i++)
        r[i] = RR(GW_S7_DB, 4, 4u * (uint32_t)i, 2, buf[i]);
    gw_s7_client *explicit16 = s7fx_client_up_gap(port, 240, GW_S7_DEFAULT_GAP);
    uint64_t t0 = gw_s7_round_trips(explicit16);
    read_ok(explicit16, r, 20);
    uint64_t trips16 = gw_s7_round_trips(explicit16) - t0;
    gw_s7_client *dflt = s7fx_client_up(port, 240);
    t0 = gw_s7_round_trips(dflt);
    read_ok(dflt, r, 20);
    uint64_t trips_default = gw_s7_round_trips(dflt) - t0;
    for (int i = 0; i < 20; i++)
        assert_int_equal(buf[i][1], db4_byte(4u * (uint32_t)i + 1));
    gw_s7_client_free(explicit16);
    gw_s7_client_free(dflt);
    gw_s7_server_free(s);
    assert_int_equal(trips16, 1);
    if (trips_default != 1)
        print_error("gap left 0 in gw_s7_opts: %llu round trips, not 1 - the default gap "
                    "is not applied\n", (unsigned long long)trips_default);
    assert_int_equal(trips_default, 1);
}

/* Byte offsets from 0x200000 on do not fit the 24-bit bit address; a write
 * there must fail, not wrap to another address. */
static void test_write_beyond_address_space(void **state)
{
    (void)state;
    gw_s7_server *s = server_up(0, 0, NULL);
    gw_s7_client *c = s7fx_client_up(gw_s7_server_port(s), 0);
    const uint8_t init[2] = {0x11, 0x22}, nv[2] = {0xDE, 0xAD};
    gw_s7_server_set(s, GW_S7_DB, 1, 0, 2, init);
    /* reads refuse it (the plan checks the address space) */
    uint8_t dst[2];
    gw_s7_range rr = RR(GW_S7_DB, 1, 0x200000, 2, dst);
    gw_error err;
    assert_int_equal(gw_s7_read(c, &rr, 1, &err), GW_E_RANGE);
    /* the write of the same range */
    gw_s7_range w = RW(GW_S7_DB, 1, 0x200000, 2, nv);
    gw_err rc = gw_s7_write(c, &w, 1, &err);
    uint8_t v[2];
    gw_s7_server_get(s, GW_S7_DB, 1, 0, 2, v);
    gw_s7_client_free(c);
    gw_s7_server_free(s);
    if (v[0] != 0x11 || v[1] != 0x22)
        print_error("write to DB1.DBB2097152 changed DB1.DBB0..1 to %02X %02X (rc %s, "
                    "result %s)\n", v[0], v[1], gw_err_name(rc), gw_err_name(w.result));
    assert_memory_equal(v, init, 2);
    assert_true(rc != GW_OK || w.result != GW_OK);
}

static void test_szl(void **state)
{
    (void)state;
    gw_s7_server *s = server_up(0, 0, NULL);
    gw_s7_client *c = s7fx_client_up(gw_s7_server_port(s), 0);
    gw_s7_cpu_info info;
    gw_error err;
    assert_int_equal(gw_s7_cpu_info_read(c, &info, &err), GW_OK);
    assert_string_equal(info.order_code, "6ES7 214-1AG40-0XB0");
    assert_string_equal(info.firmware, "V4.2.1");
    gw_s7_cpu_state st = GW_S7_CPU_UNKNOWN;
    assert_int_equal(gw_s7_cpu_state_read(c, &st, &err), GW_OK);
    assert_int_equal(st, GW_S7_CPU_RUN);
    gw_s7_server_set_cpu_state(s, GW_S7_CPU_STOP);
    assert_int_equal(gw_s7_cpu_state_read(c, &st, &err), GW_OK);
    assert_int_equal(st, GW_S7_CPU_STOP);
    gw_s7_server_set_cpu_state(s, GW_S7_CPU_RUN);
    assert_int_equal(gw_s7_cpu_state_read(c, &st, &err), GW_OK);
    assert_int_equal(st, GW_S7_CPU_RUN);
    /* the raw list: 3 records of 28 bytes */
    uint8_t buf[256];
    size_t len = 0;
    uint16_t rl = 0, cnt = 0;
    assert_int_equal(gw_s7_read_szl(c, 0x0011, 0, buf, sizeof(buf), &len, &rl, &cnt, &err),
                     GW_OK);
    assert_int_equal(rl, 28);
    assert_int_equal(cnt, 3);
    assert_int_equal(len, 84);
    assert_int_equal(buf[0] << 8 | buf[1], 0x0001);
    assert_memory_equal(buf + 2, "6ES7 214-1AG40-0XB0 ", 20);
    /* an SZL the server does not have: refused, the link stays */
    gw_error_clear(&err);
    assert_int_equal(gw_s7_read_szl(c, 0x0132, 4, buf, sizeof(buf), &len, &rl, &cnt, &err),
                     GW_E_DEVICE_REJECTED);
    assert_int_equal(err.device_code, 0xD402);
    assert_true(gw_s7_connected(c));
    gw_s7_client_free(c);
    gw_s7_server_free(s);

    /* another CPU */
    gw_s7_server_opts so;
    memset(&so, 0, sizeof(so));
    so.host = "127.0.0.1";
    so.order_code = "6ES7 515-2AM01-0AB0";
    so.firmware = "V2.9.4";
    assert_int_equal(gw_s7_server_new(&so, &s, &err), GW_OK);
    assert_int_equal(gw_s7_server_start(s, &err), GW_OK);
    c = s7fx_client_up(gw_s7_server_port(s), 0);
    assert_int_equal(gw_s7_cpu_info_read(c, &info, &err), GW_OK);
    assert_string_equal(info.order_code, "6ES7 515-2AM01-0AB0");
    assert_string_equal(info.firmware, "V2.9.4");
    gw_s7_client_free(c);
    gw_s7_server_free(s);
}

/* Two clients at once, each with its own PDU. */
static void test_several_clients(void **state)
{
    (void)state;
    gw_s7_server *s = server_up(0, 0, NULL);
    uint16_t port = gw_s7_server_port(s);
    gw_s7_client *a = s7fx_client_up(port, 240);
    gw_s7_client *b = s7fx_client_up(port, 960);
    assert_int_equal(gw_s7_pdu_len(a), 240);
    assert_int_equal(gw_s7_pdu_len(b), 960);
    assert_int_equal(gw_s7_server_clients(s), 2);
    uint8_t ba[300], bb[300];
    for (int rep = 0; rep < 3; rep++) {
        gw_s7_range ra = RR(GW_S7_DB, 4, 10, 300, ba), rb = RR(GW_S7_DB, 4, 10, 300, bb);
        uint64_t ta = gw_s7_round_trips(a), tb = gw_s7_round_trips(b);
        read_ok(a, &ra, 1);
        read_ok(b, &rb, 1);
        assert_int_equal(gw_s7_round_trips(a) - ta, 2); /* 222 + 78 */
        assert_int_equal(gw_s7_round_trips(b) - tb, 1);
        assert_memory_equal(ba, bb, 300);
        assert_int_equal(ba[0], db4_byte(10));
        assert_int_equal(ba[299], db4_byte(309));
    }
    /* a plan for 960 is refused on the 240 connection, which stays up */
    gw_s7_range r = RR(GW_S7_DB, 4, 0, 500, ba);
    gw_s7_plan_opts po = {.pdu_len = 960, .max_items = 20, .gap = 16};
    gw_s7_plan *p = NULL;
    assert_int_equal(gw_s7_plan_new(&r, 1, &po, &p), GW_OK);
    gw_error err;
    assert_int_equal(gw_s7_read_plan(a, p, &r, &err), GW_E_INVAL);
    assert_true(gw_s7_connected(a));
    gw_s7_plan_free(p);
    /* what one writes the other reads */
    const uint8_t v[3] = {7, 8, 9};
    gw_s7_range w = RW(GW_S7_Q, 0, 1, 3, v);
    write_ok(a, &w, 1);
    uint8_t got[3] = {0};
    gw_s7_range rq = RR(GW_S7_Q, 0, 1, 3, got);
    read_ok(b, &rq, 1);
    assert_memory_equal(got, v, 3);
    gw_s7_client_free(a);
    gw_s7_client_free(b);
    gw_s7_server_free(s);
}

static void test_write_hook(void **state)
{
    (void)state;
    hook_log hl;
    memset(&hl, 0, sizeof(hl));
    pthread_mutex_init(&hl.mu, NULL);
    gw_s7_server *s = server_up(0, 0, &hl);
    gw_s7_client *c = s7fx_client_up(gw_s7_server_port(s), 0);
    const uint8_t four[4] = {1, 2, 3, 4}, one = 1;
    gw_s7_range w[3] = {RW(GW_S7_DB, 2, 4, 4, four), RBIT(GW_S7_M, 0, 10, 3, &one),
                        RW(GW_S7_Q, 0, 0, 2, four)};
    write_ok(c, w, 3);
    gw_s7_range w2[2] = {RW(GW_S7_DB, 1, 50, 3, four), RW(GW_S7_I, 0, 7, 1, four)};
    write_ok(c, w2, 2);
    /* a failed item is no write */
    gw_s7_range w3 = RW(GW_S7_DB, 99, 0, 1, four);
    gw_error err;
    assert_int_equal(gw_s7_write(c, &w3, 1, &err), GW_OK);
    assert_int_equal(w3.item_rc, 0x0A);
    /* reads are no writes */
    uint8_t tmp[4];
    gw_s7_range r = RR(GW_S7_DB, 2, 4, 4, tmp);
    read_ok(c, &r, 1);
    gw_s7_range w4 = RW(GW_S7_DB, 4, 4000, 4, four);
    write_ok(c, &w4, 1);

    assert_int_equal(hook_wait(&hl, 6), 6);
    usleep(20000);
    assert_int_equal(hook_count(&hl), 6);
    const write_ev want[6] = {{GW_S7_DB, 2, 4, 4, ""}, {GW_S7_M, 0, 10, 1, ""},
                              {GW_S7_Q, 0, 0, 2, ""},  {GW_S7_DB, 1, 50, 3, ""},
                              {GW_S7_I, 0, 7, 1, ""},  {GW_S7_DB, 4, 4000, 4, ""}};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(hl.ev[i].area, want[i].area);
        assert_int_equal(hl.ev[i].db, want[i].db);
        assert_int_equal(hl.ev[i].start, want[i].start);
        assert_int_equal(hl.ev[i].len, want[i].len);
        assert_non_null(strstr(hl.ev[i].peer, "127.0.0.1:"));
    }
    gw_s7_client_free(c);
    gw_s7_server_free(s);
    pthread_mutex_destroy(&hl.mu);
}

/* Lines of a log file that contain `needle`. */
static size_t log_lines_with(FILE *f, const char *needle)
{
    fflush(f);
    rewind(f);
    char line[1200];
    size_t n = 0;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, needle))
            n++;
    fseek(f, 0, SEEK_END);
    return n;
}

#define PARTIAL_LOG "acknowledged only 1 of 3 items of a write"

/* A server that answers a multi-item write as python-snap7's does (first
 * item written, one return code; docs/s7comm.md 7.1), a client that logs
 * at info to a temporary file. */
static gw_s7_server *snap7_like_up(gw_s7_client **c, gw_log **log, FILE **logf)
{
    gw_s7_server *s = server_up(0, 0, NULL);
    s7__server_emulate_snap7_writes(s, true);
    *logf = tmpfile();
    assert_non_null(*logf);
    *log = gw_log_new(*logf, GW_LOG_INFO);
    assert_non_null(*log);
    gw_s7_opts o;
    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port = gw_s7_server_port(s);
    o.slot = 1;
    o.log = *log;
    assert_int_equal(gw_s7_client_new(&o, c), GW_OK);
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_s7_connect(*c, &err), GW_OK);
    return s;
}

/* s7.h gw_s7_write: a PLC that acknowledges only the first item of a
 * 3-item write gets the other two one per request; all three are written
 * and each is reported written. Logged once per connection; later writes
 * on the connection go one item per request at once. */
static void test_snap7_partial_write(void **state)
{
    (void)state;
    gw_s7_client *c;
    gw_log *log;
    FILE *logf;
    gw_s7_server *s = snap7_like_up(&c, &log, &logf);
    uint8_t real1[4], one = 1;
    put_real(real1, 12.5f);
    const uint8_t mw[2] = {0xBE, 0xEF};
    gw_s7_range w[3] = {RW(GW_S7_DB, 1, 20, 4, real1), RW(GW_S7_M, 0, 40, 2, mw),
                        RBIT(GW_S7_Q, 0, 3, 6, &one)};
    uint64_t t0 = gw_s7_round_trips(c);
    write_ok(c, w, 3); /* each result GW_OK, item code 0xFF */
    /* one request for all three (one acknowledged), then one each */
    assert_int_equal(gw_s7_round_trips(c) - t0, 3);
    assert_true(gw_s7_connected(c));
    uint8_t v[4];
    gw_s7_server_get(s, GW_S7_DB, 1, 20, 4, v);
    assert_memory_equal(v, real1, 4);
    gw_s7_server_get(s, GW_S7_M, 0, 40, 2, v);
    assert_memory_equal(v, mw, 2);
    gw_s7_server_get(s, GW_S7_Q, 0, 3, 1, v);
    assert_int_equal(v[0], 0x40);
    assert_int_equal(log_lines_with(logf, PARTIAL_LOG), 1);

    /* the next write on this connection: one item per request at once,
     * no second log line */
    const uint8_t mw2[2] = {0x12, 0x34}, zero = 0;
    put_real(real1, -3.0f);
    w[1].src = mw2;
    w[2].src = &zero;
    t0 = gw_s7_round_trips(c);
    write_ok(c, w, 3);
    assert_int_equal(gw_s7_round_trips(c) - t0, 3);
    gw_s7_server_get(s, GW_S7_DB, 1, 20, 4, v);
    assert_memory_equal(v, real1, 4);
    gw_s7_server_get(s, GW_S7_M, 0, 40, 2, v);
    assert_memory_equal(v, mw2, 2);
    gw_s7_server_get(s, GW_S7_Q, 0, 3, 1, v);
    assert_int_equal(v[0], 0x00);
    assert_int_equal(log_lines_with(logf, "acknowledged only"), 1);

    /* a new connection finds out again, and says so again */
    gw_error err;
    assert_int_equal(gw_s7_connect(c, &err), GW_OK);
    put_real(real1, 7.0f);
    t0 = gw_s7_round_trips(c);
    write_ok(c, w, 3);
    assert_int_equal(gw_s7_round_trips(c) - t0, 3);
    gw_s7_server_get(s, GW_S7_DB, 1, 20, 4, v);
    assert_memory_equal(v, real1, 4);
    assert_int_equal(log_lines_with(logf, PARTIAL_LOG), 2);
    gw_s7_client_free(c);
    gw_s7_server_free(s);
    gw_log_free(log);
    fclose(logf);
}

/* 25 ranges (two requests of at most 20 items) to the same PLC: the first
 * request is acknowledged for one item, everything after it goes one item
 * per request, in the order given; all are written. */
static void test_snap7_partial_write_many(void **state)
{
    (void)state;
    gw_s7_client *c;
    gw_log *log;
    FILE *logf;
    gw_s7_server *s = snap7_like_up(&c, &log, &logf);
    uint8_t src[25][2];
    gw_s7_range w[25];
    for (uint32_t i = 0; i < 25; i++) {
        src[i][0] = (uint8_t)(0x30 + i);
        src[i][1] = (uint8_t)(0xC0 + i);
        w[i] = RW(GW_S7_DB, 4, 100u + 8u * i, 2, src[i]);
    }
    uint64_t t0 = gw_s7_round_trips(c);
    write_ok(c, w, 25);
    assert_int_equal(gw_s7_round_trips(c) - t0, 25);
    for (uint32_t i = 0; i < 25; i++) {
        uint8_t v[3];
        gw_s7_server_get(s, GW_S7_DB, 4, 100u + 8u * i, 3, v);
        assert_memory_equal(v, src[i], 2);
        assert_int_equal(v[2], db4_byte(102u + 8u * i));
    }
    assert_int_equal(log_lines_with(logf, "acknowledged only 1 of 20 items"), 1);
    gw_s7_client_free(c);
    gw_s7_server_free(s);
    gw_log_free(log);
    fclose(logf);
}

/* The same PLC refuses one of the items written again alone (DB1 has 100
 * bytes): that item is reported refused with the PLC's code, the others
 * written; and so when the refused item is the acknowledged first one. */
static void test_snap7_partial_write_refused(void **state)
{
    (void)state;
    gw_s7_client *c;
    gw_log *log;
    FILE *logf;
    gw_s7_server *s = snap7_like_up(&c, &log, &logf);
    const uint8_t a[2] = {0xA1, 0xA2}, b[4] = {0xB1, 0xB2, 0xB3, 0xB4}, m[1] = {0xC1};
    gw_s7_range w[3] = {RW(GW_S7_DB, 1, 0, 2, a), RW(GW_S7_DB, 1, 98, 4, b),
                        RW(GW_S7_M, 0, 7, 1, m)};
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_s7_write(c, w, 3, &err), GW_OK);
    assert_int_equal(w[0].result, GW_OK);
    assert_int_equal(w[0].item_rc, 0xFF);
    assert_int_equal(w[1].result, GW_E_RANGE);
    assert_int_equal(w[1].item_rc, S7_RC_OUT_OF_RANGE);
    assert_int_equal(w[2].result, GW_OK);
    assert_int_equal(w[2].item_rc, 0xFF);
    uint8_t v[4];
    gw_s7_server_get(s, GW_S7_DB, 1, 0, 2, v);
    assert_memory_equal(v, a, 2);
    gw_s7_server_get(s, GW_S7_DB, 1, 96, 4, v);
    const uint8_t z[4] = {0};
    assert_memory_equal(v, z, 4);
    gw_s7_server_get(s, GW_S7_M, 0, 7, 1, v);
    assert_int_equal(v[0], 0xC1);
    assert_true(gw_s7_connected(c));
    assert_int_equal(log_lines_with(logf, PARTIAL_LOG), 1);
    gw_s7_client_free(c);

    /* a fresh client on the same server, the bad item first: its code
     * comes in the partial answer, the two good ones are written alone */
    assert_int_equal(gw_s7_server_set(s, GW_S7_M, 0, 7, 1, z), GW_OK);
    gw_s7_opts o;
    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port = gw_s7_server_port(s);
    o.slot = 1;
    o.log = log;
    assert_int_equal(gw_s7_client_new(&o, &c), GW_OK);
    assert_int_equal(gw_s7_connect(c, &err), GW_OK);
    gw_s7_range w2[3] = {RW(GW_S7_DB, 99, 0, 2, a), RW(GW_S7_DB, 2, 10, 4, b),
                         RW(GW_S7_M, 0, 7, 1, m)};
    assert_int_equal(gw_s7_write(c, w2, 3, &err), GW_OK);
    assert_int_equal(w2[0].result, GW_E_NOT_FOUND);
    assert_int_equal(w2[0].item_rc, S7_RC_NO_OBJECT);
    assert_int_equal(w2[1].result, GW_OK);
    assert_int_equal(w2[2].result, GW_OK);
    gw_s7_server_get(s, GW_S7_DB, 2, 10, 4, v);
    assert_memory_equal(v, b, 4);
    gw_s7_server_get(s, GW_S7_M, 0, 7, 1, v);
    assert_int_equal(v[0], 0xC1);
    assert_int_equal(log_lines_with(logf, PARTIAL_LOG), 2);
    gw_s7_client_free(c);
    gw_s7_server_free(s);
    gw_log_free(log);
    fclose(logf);
}

/* A port where nothing listens: bound, never listen()ed, so nobody else
 * can take it while the test runs. */
static void test_conn_refused(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t sl = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    gw_s7_client *c = s7fx_client_new(ntohs(sa.sin_port), 0, 1000, 0);
    gw_error err;
    gw_error_clear(&err);
    uint64_t t0 = gw_mono_ms();
    assert_int_equal(gw_s7_connect(c, &err), GW_E_CONN_REFUSED);
    assert_true(gw_mono_ms() - t0 < 1000);
    assert_int_equal(err.code, GW_E_CONN_REFUSED);
    assert_false(gw_s7_connected(c));
    uint8_t b[2];
    gw_s7_range r = RR(GW_S7_DB, 1, 0, 2, b);
    assert_int_equal(gw_s7_read(c, &r, 1, &err), GW_E_CONN_LOST);
    gw_s7_client_free(c);
    close(fd);
}

/* A listening socket that never accepts nor answers: the TCP handshake
 * completes in the kernel, the COTP confirm never comes. */
static void test_timeout_no_answer(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t sl = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    gw_s7_client *c = s7fx_client_new(ntohs(sa.sin_port), 0, 300, 0);
    gw_error err;
    gw_error_clear(&err);
    uint64_t t0 = gw_mono_ms();
    assert_int_equal(gw_s7_connect(c, &err), GW_E_TIMEOUT);
    uint64_t dt = gw_mono_ms() - t0;
    assert_true(dt >= 250);
    assert_true(dt < 1500);
    assert_false(gw_s7_connected(c));
    gw_s7_client_free(c);
    close(fd);
}

/* The server goes away: the next read fails with a connection error and
 * the client says it is not connected; a new server on the same port takes
 * a reconnect. */
static void test_server_gone_and_back(void **state)
{
    (void)state;
    gw_s7_server *s = server_up(0, 0, NULL);
    uint16_t port = gw_s7_server_port(s);
    gw_s7_client *c = s7fx_client_up(port, 0);
    uint8_t b[4];
    gw_s7_range r = RR(GW_S7_DB, 4, 0, 4, b);
    read_ok(c, &r, 1);
    gw_s7_server_free(s);
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_s7_read(c, &r, 1, &err);
    assert_int_equal(rc, GW_E_CONN_LOST);
    assert_int_equal(err.code, GW_E_CONN_LOST);
    assert_false(gw_s7_connected(c));
    /* still down: the next call fails at once */
    assert_int_equal(gw_s7_read(c, &r, 1, &err), GW_E_CONN_LOST);
    assert_int_equal(gw_s7_connect(c, &err), GW_E_CONN_REFUSED);

    s = server_up(port, 0, NULL);
    assert_int_equal(gw_s7_server_port(s), port);
    gw_error_clear(&err);
    assert_int_equal(gw_s7_connect(c, &err), GW_OK);
    assert_true(gw_s7_connected(c));
    memset(b, 0, 4);
    read_ok(c, &r, 1);
    assert_int_equal(b[3], db4_byte(3));
    gw_s7_client_free(c);
    gw_s7_server_free(s);
}

/* Our client's DR is answered and the server forgets the client. */
static void test_close_frees_server_slot(void **state)
{
    (void)state;
    gw_s7_server *s = server_up(0, 0, NULL);
    gw_s7_client *c = s7fx_client_up(gw_s7_server_port(s), 0);
    assert_int_equal(gw_s7_server_clients(s), 1);
    gw_s7_close(c);
    uint64_t deadline = gw_mono_ms() + 2000;
    while (gw_s7_server_clients(s) != 0 && gw_mono_ms() < deadline)
        usleep(1000);
    assert_int_equal(gw_s7_server_clients(s), 0);
    gw_error err;
    assert_int_equal(gw_s7_connect(c, &err), GW_OK);
    assert_int_equal(gw_s7_server_clients(s), 1);
    gw_s7_client_free(c);
    gw_s7_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_pdu),
        cmocka_unit_test(test_write_read_types),
        cmocka_unit_test(test_bit_writes),
        cmocka_unit_test(test_multi_range_writes),
        cmocka_unit_test(test_many_ranges),
        cmocka_unit_test(test_read_4k),
        cmocka_unit_test(test_bad_ranges),
        cmocka_unit_test(test_bad_range_near_good),
        cmocka_unit_test(test_bad_range_touching_good),
        cmocka_unit_test(test_client_default_gap),
        cmocka_unit_test(test_write_beyond_address_space),
        cmocka_unit_test(test_szl),
        cmocka_unit_test(test_several_clients),
        cmocka_unit_test(test_write_hook),
        cmocka_unit_test(test_snap7_partial_write),
        cmocka_unit_test(test_snap7_partial_write_many),
        cmocka_unit_test(test_snap7_partial_write_refused),
        cmocka_unit_test(test_conn_refused),
        cmocka_unit_test(test_timeout_no_answer),
        cmocka_unit_test(test_server_gone_and_back),
        cmocka_unit_test(test_close_frees_server_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
