/*
 * test_server_cpu.c - CPU control in the S7 server and client: stop, hot
 * and cold start, the session password, the clock (docs/s7comm.md 16, 17).
 *
 * Most tests serve raw frames through s7__serve_packet (no sockets), each
 * from a heap copy of exactly its size so that ASan sees reads past the
 * end (the frame fixture of s7_test_fixture.h); the frames are the ones
 * snap7's client sends (S7-CLI, quoted in the document). The last tests
 * run our client against a started server on 127.0.0.1, port 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/s7/s7_internal.h"
#include "s7_doc_frames.h"
#include "s7_test_fixture.h"

#define SESSION_REF 0x4400
/* 2024-05-17 10:30:00.123 UTC, a Friday */
#define T0_MS 1715941800123LL

/* ------------------------------------------------------------ fixture */

typedef struct {
    int calls;
    gw_s7_cpu_state state;
    bool cold;
} hook_rec;

typedef struct {
    pthread_mutex_t mu;
    hook_rec rec;
    int64_t clock_ms;
} world;

/* the frame fixture of s7_test_fixture.h */
typedef s7fx fx;

/* the clock and the CPU state hook the fixture's server sees (one fixture
 * at a time) */
static world fx_world;

static void on_cpu_state(void *user, gw_s7_cpu_state state, bool cold)
{
    world *w = user;
    pthread_mutex_lock(&w->mu);
    w->rec.calls++;
    w->rec.state = state;
    w->rec.cold = cold;
    pthread_mutex_unlock(&w->mu);
}

static int64_t fake_clock(void *user)
{
    world *w = user;
    pthread_mutex_lock(&w->mu);
    int64_t t = w->clock_ms;
    pthread_mutex_unlock(&w->mu);
    return t;
}

static hook_rec hook_get(world *w)
{
    pthread_mutex_lock(&w->mu);
    hook_rec r = w->rec;
    pthread_mutex_unlock(&w->mu);
    return r;
}

static gw_s7_server *new_server(world *w, const char *password, uint16_t port)
{
    gw_s7_server_opts so;
    memset(&so, 0, sizeof(so));
    so.host = "127.0.0.1";
    so.port = port;
    so.password = password;
    so.on_cpu_state = on_cpu_state;
    so.clock_ms = fake_clock;
    so.user = w;
    gw_s7_server *s = s7fx_server_new(&so);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 1, 100), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_M, 0, 64), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_I, 0, 16), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_Q, 0, 16), GW_OK);
    return s;
}

/* No hook calls yet, the clock at T0_MS. */
static void world_init(world *w)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->mu, NULL);
    w->clock_ms = T0_MS;
}

static void fx_open(fx *x, const char *password)
{
    world_init(&fx_world);
    s7fx_open(x, new_server(&fx_world, password, 0), SESSION_REF);
}

static int setup(void **state)
{
    fx *x = malloc(sizeof(*x));
    fx_open(x, NULL);
    *state = x;
    return 0;
}

static int setup_pwd(void **state)
{
    fx *x = malloc(sizeof(*x));
    fx_open(x, "secret");
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    s7fx_close(*state);
    free(*state);
    pthread_mutex_destroy(&fx_world.mu);
    return 0;
}

/* Serves one packet of session c (the fixture of s7_test_fixture.h); the
 * answer must be there, and the connection must stay. */
static void serve_on(fx *x, s7_session *c, const uint8_t *frame, size_t len)
{
    assert_true(s7fx_serve_on(x, c, frame, len));
    assert_true(x->reply_len > 0);
}

static void serve(fx *x, const uint8_t *frame, size_t len)
{
    serve_on(x, &x->c, frame, len);
}

static void connect_session(fx *x, s7_session *c)
{
    s7fx_connect_on(x, c, 1, 480);
}

/* A userdata request: parameter 00 01 12 04 11 4g ss 00, then data. */
static size_t ud_frame(uint8_t *buf, uint16_t ref, uint8_t group, uint8_t sub,
                       const uint8_t *data, size_t dlen)
{
    return s7fx_ud_frame(buf, ref, group, sub, false, 0, data, dlen);
}

/* -- the frames snap7's client sends (docs/s7comm.md 16.1) */

static const uint8_t P_STOP[] = {0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 'P', '_',
                                 'P',  'R',  'O',  'G',  'R',  'A',  'M'};
static const uint8_t P_HOT[] = {0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFD, 0x00, 0x00,
                                0x09, 'P',  '_',  'P',  'R',  'O',  'G',  'R',  'A',  'M'};
static const uint8_t P_COLD[] = {0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFD,
                                 0x00, 0x02, 'C',  ' ',  0x09, 'P',  '_',  'P',
                                 'R',  'O',  'G',  'R',  'A',  'M'};

/* Serves a control job; returns the header error, checks the echo. */
static uint16_t control(fx *x, s7_session *c, const uint8_t *param, size_t plen,
                        uint8_t *detail)
{
    uint8_t buf[128];
    serve_on(x, c, buf, s7fx_job_frame(buf, 0x0100, param, plen, NULL, 0));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.rosctr, S7_ACK_DATA);
    assert_int_equal(h.pdu_ref, 0x0100);
    assert_int_equal(h.data_len, 0);
    assert_true(h.param_len >= 1);
    assert_int_equal(h.param[0], param[0]);
    uint16_t err = (uint16_t)(h.err_class << 8 | h.err_code);
    /* success: the function alone; refusal: function and a detail byte */
    assert_int_equal(h.param_len, err ? 2 : 1);
    if (detail)
        *detail = err ? h.param[1] : 0;
    return err;
}

/* The mode in SZL 0x0424: the low nibble of record byte 3 (docs 11.4). */
static uint8_t mode_of(fx *x)
{
    uint8_t buf[64];
    size_t n = s7_encode_szl_req(buf, sizeof(buf), 0x0200, S7_SZL_CPU_STATE, 0);
    serve(x, buf, n);
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.rosctr, S7_USERDATA);
    assert_true(h.data_len >= 12 + 4);
    return h.data[12 + 3] & 0x0F;
}

/* The userdata answer: error code and data. */
static uint16_t ud_answer(fx *x, uint8_t group, uint8_t sub, const uint8_t **d, size_t *dl)
{
    s7_header h;
    s7_userdata_param up = s7fx_ud_param(x, &h);
    assert_int_equal(up.type_group, 0x80 | group);
    assert_int_equal(up.subfunction, sub);
    if (d) {
        *d = h.data;
        *dl = h.data_len;
    }
    return up.err_code;
}

/* Enter password (group 5 subfunction 1): encoded as docs 16.3 says. */
static uint16_t give_password(fx *x, s7_session *c, const char *pw)
{
    uint8_t data[12] = {0xFF, 0x09, 0x00, 0x08};
    uint8_t plain[8];
    memset(plain, ' ', 8);
    memcpy(plain, pw, strlen(pw));
    for (int i = 0; i < 8; i++)
        data[4 + i] = (uint8_t)(plain[i] ^ 0x55 ^ (i >= 2 ? data[4 + i - 2] : 0));
    uint8_t buf[64];
    serve_on(x, c, buf, ud_frame(buf, 0x0300, 5, 1, data, sizeof(data)));
    return ud_answer(x, 5, 1, NULL, NULL);
}

static uint16_t clear_password(fx *x, s7_session *c)
{
    const uint8_t data[4] = {0x0A, 0x00, 0x00, 0x00};
    uint8_t buf[64];
    serve_on(x, c, buf, ud_frame(buf, 0x0301, 5, 2, data, sizeof(data)));
    return ud_answer(x, 5, 2, NULL, NULL);
}

/* Write one byte of DB1 at 0; returns the item code. */
static uint8_t write_db1(fx *x, s7_session *c, uint8_t v)
{
    s7_item it = {S7_TS_BYTE, 1, 1, S7_AREA_DB, 0};
    s7_data d = {0, S7_DTS_BYTE, &v, 1};
    uint8_t buf[64];
    size_t n = s7_encode_write_req(buf, sizeof(buf), 0x0400, &it, &d, 1);
    serve_on(x, c, buf, n);
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.err_class, 0);
    assert_int_equal(h.data_len, 1);
    return h.data[0];
}

static uint8_t read_db1(fx *x, uint8_t *v)
{
    s7_item it = {S7_TS_BYTE, 1, 1, S7_AREA_DB, 0};
    uint8_t buf[64];
    serve(x, buf, s7_encode_read_req(buf, sizeof(buf), 0x0401, &it, 1));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.err_class, 0);
    s7_data d;
    assert_int_equal(s7_decode_data(h.data, h.data_len, 1, &d), GW_OK);
    if (d.rc == S7_RC_OK)
        *v = d.bytes[0];
    return d.rc;
}

/* Clock read: the 10 bytes after FF 09 00 0A. */
static void clock_read(fx *x, uint8_t out[10])
{
    const uint8_t data[4] = {0x0A, 0x00, 0x00, 0x00};
    uint8_t buf[64];
    serve(x, buf, ud_frame(buf, 0x0500, 7, 1, data, sizeof(data)));
    const uint8_t *d;
    size_t dl;
    assert_int_equal(ud_answer(x, 7, 1, &d, &dl), 0);
    assert_int_equal(dl, 14);
    assert_int_equal(d[0], 0xFF);
    assert_int_equal(d[1], 0x09);
    assert_int_equal(d[2], 0x00);
    assert_int_equal(d[3], 0x0A);
    memcpy(out, d + 4, 10);
}

static uint16_t clock_set(fx *x, s7_session *c, const uint8_t dt[8], size_t dlen_total)
{
    uint8_t data[16] = {0xFF, 0x09, 0x00, 0x0A, 0x00, 0x19};
    memcpy(data + 6, dt, 8);
    uint8_t buf[64];
    serve_on(x, c, buf, ud_frame(buf, 0x0501, 7, 2, data, dlen_total));
    return ud_answer(x, 7, 2, NULL, NULL);
}

/* ------------------------------------------------------------ run/stop */

static void test_stop_start(void **state)
{
    fx *x = *state;
    connect_session(x, &x->c);
    assert_int_equal(mode_of(x), 0x08);
    /* stop: an Ack_Data echoing 0x29, no error (S7-SRV PerformFunctionControl) */
    uint8_t buf[64];
    serve(x, buf, s7fx_job_frame(buf, 0x0102, P_STOP, sizeof(P_STOP), NULL, 0));
    const uint8_t want[] = {0x03, 0x00, 0x00, 0x14, 0x02, 0xF0, 0x80, 0x32, 0x03, 0x00,
                            0x00, 0x01, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x29};
    assert_bytes(x->reply, x->reply_len, want, sizeof(want), "stop answer");
    assert_int_equal(mode_of(x), 0x04);
    assert_int_equal(gw_s7_server_cpu_state(x->s), GW_S7_CPU_STOP);
    hook_rec r = hook_get(&fx_world);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.state, GW_S7_CPU_STOP);
    assert_false(r.cold);
    /* again: "already in STOP", 0x8404 with detail 0x07 (docs 16.2) */
    uint8_t detail;
    assert_int_equal(control(x, &x->c, P_STOP, sizeof(P_STOP), &detail), 0x8404);
    assert_int_equal(detail, 0x07);
    assert_int_equal(hook_get(&fx_world).calls, 1);
    /* hot start */
    assert_int_equal(control(x, &x->c, P_HOT, sizeof(P_HOT), NULL), 0);
    assert_int_equal(mode_of(x), 0x08);
    r = hook_get(&fx_world);
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.state, GW_S7_CPU_RUN);
    assert_false(r.cold);
    /* already running: 0x8404 with detail 0x03, for hot and cold start */
    assert_int_equal(control(x, &x->c, P_HOT, sizeof(P_HOT), &detail), 0x8404);
    assert_int_equal(detail, 0x03);
    assert_int_equal(control(x, &x->c, P_COLD, sizeof(P_COLD), &detail), 0x8404);
    assert_int_equal(detail, 0x03);
    assert_int_equal(hook_get(&fx_world).calls, 2);
    /* stop, cold start */
    assert_int_equal(control(x, &x->c, P_STOP, sizeof(P_STOP), NULL), 0);
    assert_int_equal(control(x, &x->c, P_COLD, sizeof(P_COLD), NULL), 0);
    assert_int_equal(mode_of(x), 0x08);
    r = hook_get(&fx_world);
    assert_int_equal(r.calls, 4);
    assert_int_equal(r.state, GW_S7_CPU_RUN);
    assert_true(r.cold);
    /* the host's own change is no client's: no hook */
    gw_s7_server_set_cpu_state(x->s, GW_S7_CPU_STOP);
    assert_int_equal(mode_of(x), 0x04);
    assert_int_equal(hook_get(&fx_world).calls, 4);
}

/* A stopped CPU still serves reads, writes, SZL and the clock (docs 16.4). */
static void test_stopped_serves(void **state)
{
    fx *x = *state;
    connect_session(x, &x->c);
    assert_int_equal(control(x, &x->c, P_STOP, sizeof(P_STOP), NULL), 0);
    assert_int_equal(write_db1(x, &x->c, 0x5A), S7_RC_OK);
    uint8_t v = 0;
    assert_int_equal(read_db1(x, &v), S7_RC_OK);
    assert_int_equal(v, 0x5A);
    uint8_t t[10];
    clock_read(x, t);
    assert_int_equal(mode_of(x), 0x04);
}

/* ------------------------------------------------------------ malformed */

static void test_malformed_jobs(void **state)
{
    fx *x = *state;
    connect_session(x, &x->c);
    struct {
        const char *what;
        uint8_t p[40];
        size_t n;
        uint16_t err;
    } cases[] = {
        {"1-byte PI", {0x28}, 1, 0x8404},
        {"1-byte stop", {0x29}, 1, 0x8404},
        {"PI of 8 zero bytes", {0x28, 0, 0, 0, 0, 0, 0, 0}, 8, 0x8404},
        {"stop of 8 zero bytes", {0x29, 0, 0, 0, 0, 0, 0, 0}, 8, 0x8404},
        {"PI block longer than the parameter",
         {0x28, 0, 0, 0, 0, 0, 0, 0xFD, 0x00, 0x20, 0x01, 'X'}, 12, 0x8404},
        {"PI block length 0xFFFF", {0x28, 0, 0, 0, 0, 0, 0, 0xFD, 0xFF, 0xFF, 0x01, 'X'}, 12,
         0x8404},
        {"PI name longer than the parameter",
         {0x28, 0, 0, 0, 0, 0, 0, 0xFD, 0x00, 0x00, 0x0A, 'P', '_', 'P', 'R', 'O', 'G', 'R',
          'A', 'M'}, 20, 0x8404},
        {"PI name shorter than the parameter",
         {0x28, 0, 0, 0, 0, 0, 0, 0xFD, 0x00, 0x00, 0x08, 'P', '_', 'P', 'R', 'O', 'G', 'R',
          'A', 'M'}, 20, 0x8404},
        {"PI empty name", {0x28, 0, 0, 0, 0, 0, 0, 0xFD, 0x00, 0x00, 0x00}, 11, 0x8404},
        {"PI name with a NUL",
         {0x28, 0, 0, 0, 0, 0, 0, 0xFD, 0x00, 0x00, 0x03, 'P', 0x00, 'X'}, 14, 0x8404},
        {"stop name longer than the parameter",
         {0x29, 0, 0, 0, 0, 0, 0x0A, 'P', '_', 'P', 'R', 'O', 'G', 'R', 'A', 'M'}, 16, 0x8404},
        {"stop with a trailing byte",
         {0x29, 0, 0, 0, 0, 0, 0x09, 'P', '_', 'P', 'R', 'O', 'G', 'R', 'A', 'M', 0}, 17,
         0x8404},
        {"stop of another service",
         {0x29, 0, 0, 0, 0, 0, 0x09, 'P', '_', 'P', 'R', 'O', 'G', 'R', 'A', 'X'}, 16, 0x8104},
        {"unknown PI name", {0x28, 0, 0, 0, 0, 0, 0, 0xFD, 0x00, 0x00, 0x04, '_', 'X', 'Y', 'Z'},
         15, 0x8104},
        {"P_PROGRAM with an unknown argument",
         {0x28, 0, 0, 0, 0, 0, 0, 0xFD, 0x00, 0x01, 'A', 0x09, 'P', '_', 'P', 'R', 'O', 'G',
          'R', 'A', 'M'}, 21, 0xD202},
        {"P_PROGRAM with 'C' and no space",
         {0x28, 0, 0, 0, 0, 0, 0, 0xFD, 0x00, 0x02, 'C', 'X', 0x09, 'P', '_', 'P', 'R', 'O',
          'G', 'R', 'A', 'M'}, 22, 0xD202},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[128];
        serve(x, buf, s7fx_job_frame(buf, (uint16_t)(0x0600 + i), cases[i].p, cases[i].n, NULL, 0));
        s7_header h = s7fx_reply_hdr(x);
        uint16_t err = (uint16_t)(h.err_class << 8 | h.err_code);
        if (h.rosctr != S7_ACK_DATA || h.pdu_ref != 0x0600 + i || err != cases[i].err ||
            h.param_len != 2 || h.param[0] != cases[i].p[0]) {
            print_error("%s: type %u ref %04X error %04X param %u\n", cases[i].what, h.rosctr,
                        h.pdu_ref, err, h.param_len);
            fail();
        }
    }
    /* a stop or start job with a data part */
    uint8_t buf[128];
    const uint8_t extra[2] = {1, 2};
    serve(x, buf, s7fx_job_frame(buf, 0x0700, P_STOP, sizeof(P_STOP), extra, 2));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.err_class << 8 | h.err_code, 0x8404);
    serve(x, buf, s7fx_job_frame(buf, 0x0701, P_HOT, sizeof(P_HOT), extra, 2));
    h = s7fx_reply_hdr(x);
    assert_int_equal(h.err_class << 8 | h.err_code, 0x8404);
    /* nothing changed, and the session still serves */
    assert_int_equal(mode_of(x), 0x08);
    assert_int_equal(hook_get(&fx_world).calls, 0);
    assert_int_equal(write_db1(x, &x->c, 1), S7_RC_OK);
    /* userdata of groups 5 and 7: unknown subfunctions, short data */
    serve(x, buf, ud_frame(buf, 0x0702, 5, 0x09, NULL, 0));
    assert_int_equal(ud_answer(x, 5, 0x09, NULL, NULL), 0x8104);
    serve(x, buf, ud_frame(buf, 0x0703, 7, 0x09, NULL, 0));
    assert_int_equal(ud_answer(x, 7, 0x09, NULL, NULL), 0x8104);
    serve(x, buf, ud_frame(buf, 0x0704, 5, 1, extra, 2));
    assert_int_equal(ud_answer(x, 5, 1, NULL, NULL), 0xD601);
    serve(x, buf, ud_frame(buf, 0x0705, 5, 1, NULL, 0));
    assert_int_equal(ud_answer(x, 5, 1, NULL, NULL), 0xD601);
    serve(x, buf, ud_frame(buf, 0x0706, 7, 2, extra, 2));
    assert_int_equal(ud_answer(x, 7, 2, NULL, NULL), 0xDC01);
    /* a clock read with no data is still a read */
    serve(x, buf, ud_frame(buf, 0x0707, 7, 1, NULL, 0));
    assert_int_equal(ud_answer(x, 7, 1, NULL, NULL), 0);
}

/* Cut frames: every prefix of a stop and a start job, with the lengths
 * rewritten to match, is answered or closed cleanly (ASan checks reads). */
static void test_cut_jobs(void **state)
{
    fx *x = *state;
    connect_session(x, &x->c);
    const uint8_t *jobs[] = {P_STOP, P_HOT, P_COLD};
    const size_t lens[] = {sizeof(P_STOP), sizeof(P_HOT), sizeof(P_COLD)};
    for (size_t j = 0; j < 3; j++) {
        for (size_t n = 1; n < lens[j]; n++) {
            uint8_t buf[128];
            serve(x, buf, s7fx_job_frame(buf, 0x0800, jobs[j], n, NULL, 0));
            s7_header h = s7fx_reply_hdr(x);
            assert_int_equal(h.rosctr, S7_ACK_DATA);
            assert_int_not_equal(h.err_class, 0);
        }
    }
    assert_int_equal(mode_of(x), 0x08);
}

/* ------------------------------------------------------------ password */

static void test_password(void **state)
{
    fx *x = *state;
    connect_session(x, &x->c);
    /* reads work, writes are refused item by item (item code 0x03) */
    uint8_t v;
    assert_int_equal(read_db1(x, &v), S7_RC_OK);
    assert_int_equal(write_db1(x, &x->c, 0x11), S7_RC_ACCESS);
    /* stop and start refused with 0xD241, mode unchanged, no hook */
    uint8_t detail;
    assert_int_equal(control(x, &x->c, P_STOP, sizeof(P_STOP), &detail), 0xD241);
    assert_int_equal(detail, 0);
    assert_int_equal(mode_of(x), 0x08);
    gw_s7_server_set_cpu_state(x->s, GW_S7_CPU_STOP);
    assert_int_equal(control(x, &x->c, P_HOT, sizeof(P_HOT), NULL), 0xD241);
    assert_int_equal(control(x, &x->c, P_COLD, sizeof(P_COLD), NULL), 0xD241);
    assert_int_equal(mode_of(x), 0x04);
    gw_s7_server_set_cpu_state(x->s, GW_S7_CPU_RUN);
    assert_int_equal(hook_get(&fx_world).calls, 0);
    /* clock set refused, clock unchanged */
    uint8_t before[10], after[10];
    clock_read(x, before);
    const uint8_t dt[8] = {0x31, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x04};
    assert_int_equal(clock_set(x, &x->c, dt, 14), 0xD241);
    clock_read(x, after);
    assert_memory_equal(before, after, 10);
    /* a wrong password: 0xD602, still refused */
    assert_int_equal(give_password(x, &x->c, "Secret"), 0xD602);
    assert_int_equal(write_db1(x, &x->c, 0x11), S7_RC_ACCESS);
    /* the right one: writes, stop, clock set */
    assert_int_equal(give_password(x, &x->c, "secret"), 0);
    assert_true(x->c.authorized);
    assert_int_equal(write_db1(x, &x->c, 0x11), S7_RC_OK);
    assert_int_equal(control(x, &x->c, P_STOP, sizeof(P_STOP), NULL), 0);
    assert_int_equal(clock_set(x, &x->c, dt, 14), 0);
    /* another session has not given it */
    s7_session other;
    assert_int_equal(s7__session_init(&other, "other", SESSION_REF + 1), GW_OK);
    connect_session(x, &other);
    assert_int_equal(write_db1(x, &other, 0x22), S7_RC_ACCESS);
    assert_int_equal(control(x, &other, P_HOT, sizeof(P_HOT), NULL), 0xD241);
    s7__session_clear(&other);
    /* a wrong password after the right one ends the legitimation */
    assert_int_equal(give_password(x, &x->c, "wrong"), 0xD602);
    assert_int_equal(write_db1(x, &x->c, 0x11), S7_RC_ACCESS);
    assert_int_equal(give_password(x, &x->c, "secret"), 0);
    /* clear: not authorized any more */
    assert_int_equal(clear_password(x, &x->c), 0);
    assert_false(x->c.authorized);
    assert_int_equal(write_db1(x, &x->c, 0x11), S7_RC_ACCESS);
    assert_int_equal(control(x, &x->c, P_HOT, sizeof(P_HOT), NULL), 0xD241);
}

/* A CPU without a password: set is 0xD605, clear 0xD604; writes free. */
static void test_no_password(void **state)
{
    fx *x = *state;
    connect_session(x, &x->c);
    assert_int_equal(give_password(x, &x->c, "secret"), 0xD605);
    assert_int_equal(clear_password(x, &x->c), 0xD604);
    assert_int_equal(write_db1(x, &x->c, 0x33), S7_RC_OK);
    assert_int_equal(control(x, &x->c, P_STOP, sizeof(P_STOP), NULL), 0);
}

/* An 8-character password, and the encoding's example from the doc. */
static void test_password_8(void **state)
{
    (void)state;
    fx *x = malloc(sizeof(*x));
    fx_open(x, "ABCDEFGH");
    connect_session(x, &x->c);
    assert_int_equal(give_password(x, &x->c, "ABCDEFG"), 0xD602);
    assert_int_equal(give_password(x, &x->c, "ABCDEFGH"), 0);
    teardown((void **)&x);
    /* docs/s7comm.md 16.3: "secret" travels as 26 30 10 17 20 36 55 43 */
    const uint8_t data[12] = {0xFF, 0x09, 0x00, 0x08, 0x26, 0x30, 0x10, 0x17,
                              0x20, 0x36, 0x55, 0x43};
    uint8_t buf[64];
    x = malloc(sizeof(*x));
    fx_open(x, "secret");
    connect_session(x, &x->c);
    serve(x, buf, ud_frame(buf, 0x0302, 5, 1, data, sizeof(data)));
    assert_int_equal(ud_answer(x, 5, 1, NULL, NULL), 0);
    teardown((void **)&x);
}

/* ------------------------------------------------------------ clock */

static void test_clock(void **state)
{
    fx *x = *state;
    connect_session(x, &x->c);
    /* 2024-05-17 10:30:00.123, Friday (weekday 6): docs/s7comm.md 17 */
    uint8_t t[10];
    clock_read(x, t);
    const uint8_t want[10] = {0x00, 0x20, 0x24, 0x05, 0x17, 0x10, 0x30, 0x00, 0x12, 0x36};
    assert_memory_equal(t, want, 10);
    /* set 1999-12-31 23:59:58.000 (a Friday); the clock runs on from there */
    const uint8_t dt[8] = {0x99, 0x12, 0x31, 0x23, 0x59, 0x58, 0x00, 0x06};
    assert_int_equal(clock_set(x, &x->c, dt, 14), 0);
    clock_read(x, t);
    const uint8_t w1[10] = {0x00, 0x19, 0x99, 0x12, 0x31, 0x23, 0x59, 0x58, 0x00, 0x06};
    assert_memory_equal(t, w1, 10);
    pthread_mutex_lock(&fx_world.mu);
    fx_world.clock_ms += 2500;
    pthread_mutex_unlock(&fx_world.mu);
    clock_read(x, t);
    /* 2000-01-01 00:00:00.500, a Saturday */
    const uint8_t w2[10] = {0x00, 0x20, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x50, 0x07};
    assert_memory_equal(t, w2, 10);
    /* invalid dates and times: 0xDC01, nothing changed */
    const uint8_t bad[][8] = {
        {0x24, 0x1A, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01}, /* month not BCD */
        {0x24, 0x13, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01}, /* month 13 */
        {0x24, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01}, /* month 0 */
        {0x23, 0x02, 0x29, 0x00, 0x00, 0x00, 0x00, 0x01}, /* 2023-02-29 */
        {0x24, 0x04, 0x31, 0x00, 0x00, 0x00, 0x00, 0x01}, /* April 31 */
        {0x24, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}, /* day 0 */
        {0x24, 0x01, 0x01, 0x24, 0x00, 0x00, 0x00, 0x01}, /* hour 24 */
        {0x24, 0x01, 0x01, 0x00, 0x60, 0x00, 0x00, 0x01}, /* minute 60 */
        {0x24, 0x01, 0x01, 0x00, 0x00, 0x60, 0x00, 0x01}, /* second 60 */
        {0x24, 0x01, 0x01, 0x00, 0x00, 0x00, 0xA0, 0x01}, /* ms not BCD */
        {0x24, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0xA1}, /* last ms digit */
        {0xF0, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01}, /* year not BCD */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(clock_set(x, &x->c, bad[i], 14), 0xDC01);
        uint8_t now[10];
        clock_read(x, now);
        assert_memory_equal(now, w2, 10);
    }
    /* a leap day is valid, and a short data part is not */
    const uint8_t leap[8] = {0x24, 0x02, 0x29, 0x12, 0x00, 0x00, 0x00, 0x05};
    assert_int_equal(clock_set(x, &x->c, leap, 13), 0xDC01);
    assert_int_equal(clock_set(x, &x->c, leap, 14), 0);
    clock_read(x, t);
    assert_int_equal(t[3], 0x02);
    assert_int_equal(t[4], 0x29);
    assert_int_equal(t[9] & 0x0F, 5); /* 2024-02-29 was a Thursday */
}

static void test_dt_codec(void **state)
{
    (void)state;
    /* round trips over the whole range, a day and some ms apart */
    for (int64_t ms = S7_DT_MIN_MS; ms <= S7_DT_MAX_MS; ms += 86400000LL * 37 + 3601007) {
        uint8_t b[8];
        s7_dt_encode(b, ms);
        int64_t back;
        assert_int_equal(s7_dt_decode(b, &back), GW_OK);
        assert_true(back == ms);
    }
    uint8_t b[8];
    int64_t back;
    s7_dt_encode(b, S7_DT_MAX_MS);
    assert_int_equal(s7_dt_decode(b, &back), GW_OK);
    assert_true(back == S7_DT_MAX_MS);
    /* outside the range: clamped */
    s7_dt_encode(b, 0);
    assert_int_equal(s7_dt_decode(b, &back), GW_OK);
    assert_true(back == S7_DT_MIN_MS);
    s7_dt_encode(b, INT64_MAX / 2);
    assert_int_equal(s7_dt_decode(b, &back), GW_OK);
    assert_true(back == S7_DT_MAX_MS);
}

/* ------------------------------------------------------------ our client */

static void hook_wait(world *w, int calls)
{
    uint64_t deadline = gw_mono_ms() + 2000;
    while (hook_get(w).calls < calls && gw_mono_ms() < deadline)
        usleep(1000);
    assert_int_equal(hook_get(w).calls, calls);
}

static void test_client(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    gw_s7_server *s = new_server(&w, "pass1", 0);
    s7fx_start(s);
    gw_s7_client *c = s7fx_client_up(gw_s7_server_port(s), 0);
    gw_error err;
    gw_s7_protection p;
    assert_int_equal(gw_s7_protection_read(c, &p, &err), GW_OK);
    assert_true(p.sch_rel >= 1 && p.sch_rel <= 3);
    assert_int_equal(p.bart_sch, 2);
    /* refused without the password: GW_E_ACCESS, the CPU's code, connected */
    gw_error_clear(&err);
    assert_int_equal(gw_s7_plc_stop(c, &err), GW_E_ACCESS);
    assert_int_equal(err.device_code, 0xD241);
    assert_true(gw_s7_connected(c));
    assert_int_equal(gw_s7_clock_set(c, T0_MS, &err), GW_E_ACCESS);
    assert_int_equal(gw_s7_set_password(c, "pass2", &err), GW_E_ACCESS);
    assert_int_equal(err.device_code, 0xD602);
    assert_int_equal(gw_s7_set_password(c, "", &err), GW_E_INVAL);
    assert_int_equal(gw_s7_set_password(c, "123456789", &err), GW_E_INVAL);
    assert_true(gw_s7_connected(c));
    /* with it */
    assert_int_equal(gw_s7_set_password(c, "pass1", &err), GW_OK);
    assert_int_equal(gw_s7_plc_stop(c, &err), GW_OK);
    hook_wait(&w, 1);
    gw_s7_cpu_state st;
    assert_int_equal(gw_s7_cpu_state_read(c, &st, &err), GW_OK);
    assert_int_equal(st, GW_S7_CPU_STOP);
    gw_error_clear(&err);
    assert_int_equal(gw_s7_plc_stop(c, &err), GW_E_DEVICE_REJECTED);
    assert_int_equal(err.device_code, 0x8404);
    assert_non_null(strstr(err.msg, "already in STOP"));
    assert_int_equal(gw_s7_plc_hot_start(c, &err), GW_OK);
    hook_wait(&w, 2);
    gw_error_clear(&err);
    assert_int_equal(gw_s7_plc_cold_start(c, &err), GW_E_DEVICE_REJECTED);
    assert_non_null(strstr(err.msg, "already in RUN"));
    assert_int_equal(gw_s7_plc_stop(c, &err), GW_OK);
    assert_int_equal(gw_s7_plc_cold_start(c, &err), GW_OK);
    hook_wait(&w, 4);
    assert_true(hook_get(&w).cold);
    assert_int_equal(gw_s7_cpu_state_read(c, &st, &err), GW_OK);
    assert_int_equal(st, GW_S7_CPU_RUN);
    /* the clock */
    int64_t t;
    assert_int_equal(gw_s7_clock_read(c, &t, &err), GW_OK);
    assert_true(t == T0_MS);
    const int64_t t1 = 1893456000000LL + 12345; /* 2030-01-01 00:00:12.345 */
    assert_int_equal(gw_s7_clock_set(c, t1, &err), GW_OK);
    assert_int_equal(gw_s7_clock_read(c, &t, &err), GW_OK);
    assert_true(t == t1);
    assert_int_equal(gw_s7_clock_set(c, 0, &err), GW_E_RANGE);
    /* clear: refused again */
    assert_int_equal(gw_s7_clear_password(c, &err), GW_OK);
    assert_int_equal(gw_s7_plc_stop(c, &err), GW_E_ACCESS);
    assert_true(gw_s7_connected(c));
    gw_s7_client_free(c);
    gw_s7_server_free(s);
    /* not connected: a link error */
    gw_s7_opts o;
    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port = 1;
    assert_int_equal(gw_s7_client_new(&o, &c), GW_OK);
    assert_int_equal(gw_s7_plc_stop(c, &err), GW_E_CONN_LOST);
    assert_int_equal(gw_s7_clock_read(c, &t, &err), GW_E_CONN_LOST);
    gw_s7_client_free(c);
    pthread_mutex_destroy(&w.mu);
}

/* A server without a password: the client's set and clear are refused. */
static void test_client_no_password(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    gw_s7_server *s = new_server(&w, NULL, 0);
    s7fx_start(s);
    gw_s7_client *c = s7fx_client_up(gw_s7_server_port(s), 0);
    gw_error err;
    assert_int_equal(gw_s7_set_password(c, "x", &err), GW_E_DEVICE_REJECTED);
    assert_int_equal(err.device_code, 0xD605);
    assert_int_equal(gw_s7_clear_password(c, &err), GW_E_DEVICE_REJECTED);
    assert_int_equal(err.device_code, 0xD604);
    assert_int_equal(gw_s7_plc_stop(c, &err), GW_OK);
    gw_s7_client_free(c);
    gw_s7_server_free(s);
    pthread_mutex_destroy(&w.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stop_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stopped_serves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password, setup_pwd, teardown),
        cmocka_unit_test_setup_teardown(test_no_password, setup, teardown),
        cmocka_unit_test(test_password_8),
        cmocka_unit_test_setup_teardown(test_clock, setup, teardown),
        cmocka_unit_test(test_dt_codec),
        cmocka_unit_test(test_client),
        cmocka_unit_test(test_client_no_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
