/*
 * test_server_szl.c - the S7 server's system state lists (docs/s7comm.md
 * 11): raw frames through s7__serve_packet without sockets (the frame
 * fixture of s7_test_fixture.h: an exact heap copy per packet, so that
 * ASan sees reads past the end), then our client against a started server.
 *
 * Covered: every served ID and index and the list of lists naming exactly
 * those; the exact 0x0131 records (indexes 1-4, 6); answers longer than
 * the PDU in parts (11.8: sequence number, data unit reference, last data
 * unit); wrong, stale and abandoned follow-ups;
 * malformed requests; the diagnostic buffer's ring; gw_s7_read_szl
 * reassembling a multi-part list, and refusing one longer than its buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/s7/s7_internal.h"
#include "s7_doc_frames.h"
#include "s7_test_fixture.h"

#define SZL_BUF 2048

/* ------------------------------------------------------------ fixture */

/* the frame fixture of s7_test_fixture.h */
typedef s7fx fx;

static gw_s7_server *new_server(const char *password)
{
    gw_s7_server_opts so;
    memset(&so, 0, sizeof(so));
    so.host = "127.0.0.1";
    so.password = password;
    return s7fx_server_new(&so);
}

static void connect_pdu(fx *x, uint16_t pdu)
{
    assert_int_equal(s7fx_connect(x, 1, pdu), pdu);
}

static void fx_start(fx *x, gw_s7_server *s, uint16_t pdu)
{
    s7fx_open(x, s, 0x4400);
    connect_pdu(x, pdu);
}

static void fx_open(fx *x, const char *password, uint16_t pdu)
{
    fx_start(x, new_server(password), pdu);
}

static void fx_open_opts(fx *x, const gw_s7_server_opts *so, uint16_t pdu)
{
    fx_start(x, s7fx_server_new(so), pdu);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* One userdata answer: its parameter (raw bytes 8..11 checked against the
 * decoded form) and data. */
static s7_header ud_answer(fx *x, uint16_t ref, s7_userdata_param *up)
{
    s7_header h;
    *up = s7fx_ud_param(x, &h);
    assert_int_equal(h.pdu_ref, ref);
    assert_int_equal(h.param_len, 12);
    assert_int_equal(up->method, 0x12);
    assert_int_equal(up->type_group, 0x84);
    assert_int_equal(up->subfunction, h.param[6]); /* echoed, 0x01 read SZL */
    assert_true(h.param[9] == 0x00 || h.param[9] == 0x01);
    assert_true(x->reply_len - S7_FRAME_HDR <= x->c.pdu_len);
    return h;
}

static void assert_error_answer(fx *x, uint16_t ref, uint16_t code)
{
    s7_userdata_param up;
    s7_header h = ud_answer(x, ref, &up);
    assert_int_equal(up.err_code, code);
    assert_true(up.last);
    const uint8_t notavail[4] = {0x0A, 0x00, 0x00, 0x00};
    assert_int_equal(h.data_len, 4);
    assert_memory_equal(h.data, notavail, 4);
}

/* Reads list (id, index) whole, part by part; returns the error code of
 * the first answer (0: *len bytes of list, SZL header first, in out) and
 * the number of parts. Checks every part: size within the PDU, FF 09 and
 * length, sequence number and data unit reference fixed and non-zero over
 * a multi-part answer, last data unit only on the last part. */
static uint16_t szl_get(fx *x, uint16_t id, uint16_t index, uint8_t *out, size_t *len,
                        int *parts)
{
    static uint16_t ref = 0x1000;
    uint8_t f[64];
    size_t n = s7_encode_szl_req(f, sizeof(f), ++ref, id, index);
    assert_true(s7fx_serve(x, f, n));
    s7_userdata_param up;
    s7_header h = ud_answer(x, ref, &up);
    *len = 0;
    *parts = 0;
    assert_int_equal(up.subfunction, 0x01);
    if (up.err_code) {
        assert_error_answer(x, ref, up.err_code);
        return up.err_code;
    }
    uint8_t seq = up.seq, dur = up.dur;
    if (!up.last) {
        assert_int_not_equal(seq, 0);
        assert_int_not_equal(dur, 0);
    } else {
        assert_int_equal(dur, 0);
    }
    for (;;) {
        assert_true(h.data_len >= 4);
        assert_int_equal(h.data[0], 0xFF);
        assert_int_equal(h.data[1], 0x09);
        size_t dl = get16(h.data + 2);
        assert_int_equal(dl + 4, h.data_len);
        assert_true(*len + dl <= SZL_BUF);
        memcpy(out + *len, h.data + 4, dl);
        *len += dl;
        (*parts)++;
        assert_int_equal(h.param[9], up.last ? 0x00 : 0x01);
        if (up.last)
            break;
        assert_true(*parts < 16);
        n = s7_encode_szl_next_req(f, sizeof(f), ++ref, seq);
        assert_true(s7fx_serve(x, f, n));
        h = ud_answer(x, ref, &up);
        assert_int_equal(up.err_code, 0);
        assert_int_equal(up.seq, seq);
        assert_int_equal(up.dur, dur);
    }
    assert_true(*len >= 8);
    assert_int_equal(get16(out), id);
    assert_int_equal(get16(out + 2), index);
    if ((id & 0xFF00) == 0x0F00)
        assert_int_equal(*len, 8);
    else
        assert_int_equal(*len, 8u + (size_t)get16(out + 4) * get16(out + 6));
    return 0;
}

/* Reads a list that must be served: its records at out + 8. */
static void szl_ok(fx *x, uint16_t id, uint16_t index, uint8_t *out, uint16_t rec_len,
                   uint16_t count)
{
    size_t len;
    int parts;
    assert_int_equal(szl_get(x, id, index, out, &len, &parts), 0);
    assert_int_equal(get16(out + 4), rec_len);
    assert_int_equal(get16(out + 6), count);
}

static void szl_refused(fx *x, uint16_t id, uint16_t index)
{
    uint8_t out[SZL_BUF];
    size_t len;
    int parts;
    assert_int_equal(szl_get(x, id, index, out, &len, &parts), 0xD402);
}

/* ------------------------------------------------------------ lists */

static const uint16_t served[] = {0x0000, 0x0011, 0x001C, 0x0074, 0x00A0, 0x0111,
                                  0x011C, 0x0131, 0x0174, 0x01A0, 0x0232, 0x0424,
                                  0x0F00, 0x0F11, 0x0F1C, 0x0F74, 0x0FA0};
#define NSERVED (sizeof(served) / sizeof(served[0]))

/* an index that exists for each served ID */
static uint16_t index_of(uint16_t id)
{
    switch (id) {
    case 0x0111:
    case 0x011C:
    case 0x0131:
    case 0x0232: return 1;
    case 0x0174: return 4;
    default: return 0;
    }
}

static void test_list_of_lists(void **state)
{
    (void)state;
    fx x;
    fx_open(&x, NULL, 960);
    uint8_t out[SZL_BUF];
    szl_ok(&x, 0x0000, 0, out, 2, NSERVED);
    uint16_t ids[NSERVED];
    for (size_t k = 0; k < NSERVED; k++) {
        ids[k] = get16(out + 8 + 2 * k);
        assert_int_equal(ids[k], served[k]);
    }
    /* each one listed answers; its header-only form agrees on the count */
    for (size_t k = 0; k < NSERVED; k++) {
        size_t len;
        int parts;
        assert_int_equal(szl_get(&x, ids[k], index_of(ids[k]), out, &len, &parts), 0);
    }
    uint8_t full[SZL_BUF];
    static const uint16_t base[] = {0x0000, 0x0011, 0x001C, 0x0074, 0x00A0};
    for (size_t k = 0; k < sizeof(base) / sizeof(base[0]); k++) {
        size_t len;
        int parts;
        assert_int_equal(szl_get(&x, base[k], 0, full, &len, &parts), 0);
        assert_int_equal(szl_get(&x, (uint16_t)(0x0F00 | base[k]), 0, out, &len, &parts), 0);
        assert_memory_equal(out + 4, full + 4, 4);
    }
    /* what is not listed is refused */
    static const uint16_t not_served[] = {0x0012, 0x0013, 0x0019, 0x0091, 0x0132, 0x0F31,
                                          0x0F24, 0x0A00, 0x0124, 0xFFFF};
    for (size_t k = 0; k < sizeof(not_served) / sizeof(not_served[0]); k++)
        szl_refused(&x, not_served[k], 0);
    s7fx_close(&x);
}

static void test_identity(void **state)
{
    (void)state;
    fx x;
    fx_open(&x, NULL, 960);
    uint8_t out[SZL_BUF];
    szl_ok(&x, 0x0011, 0, out, 28, 3);
    assert_int_equal(get16(out + 8), 1);
    assert_memory_equal(out + 10, "6ES7 214-1AG40-0XB0 ", 20);
    assert_int_equal(get16(out + 8 + 56), 7);
    assert_memory_equal(out + 8 + 56 + 24, "V\x04\x02\x01", 4);
    /* 0x0111: one record by index */
    static const uint16_t idx[] = {1, 6, 7};
    for (size_t k = 0; k < 3; k++) {
        uint8_t one[SZL_BUF];
        szl_ok(&x, 0x0111, idx[k], one, 28, 1);
        assert_memory_equal(one + 8, out + 8 + 28 * k, 28);
    }
    szl_refused(&x, 0x0111, 0x0002);
    szl_refused(&x, 0x0111, 0x0081);

    /* 0x001C: ten 34-byte records; 0x011C by index */
    szl_ok(&x, 0x001C, 0, out, 34, 10);
    assert_string_equal((const char *)out + 8 + 2, "S71200/ET200MP station_1");
    assert_string_equal((const char *)out + 8 + 34 + 2, "PLC_1");
    assert_string_equal((const char *)out + 8 + 4 * 34 + 2, "S C-PLCGW0000001");
    assert_int_equal(get16(out + 8 + 5 * 34), 7);
    assert_string_equal((const char *)out + 8 + 5 * 34 + 2, "CPU 1214C DC/DC/DC");
    uint8_t one[SZL_BUF];
    szl_ok(&x, 0x011C, 7, one, 34, 1);
    assert_memory_equal(one + 8, out + 8 + 5 * 34, 34);
    szl_ok(&x, 0x011C, 9, one, 34, 1);
    assert_int_equal(get16(one + 8 + 2), 0x002A);
    szl_refused(&x, 0x011C, 6);
    szl_refused(&x, 0x011C, 12);

    s7fx_close(&x);
}

/* 0x0131 (docs/s7comm.md 11.6): indexes 1, 2, 3, 4 and 6, one 40-byte record
 * each, exact bytes; the limits follow the options; 5, 7, 8 (no layout in
 * the sources) and the rest refused. */
static void test_comm_capabilities(void **state)
{
    (void)state;
    static const struct {
        uint16_t index;
        uint8_t head[16]; /* the record's first 16 bytes; the rest is 0 */
    } want[] = {
        /* index, pdu 960, anz 8 */
        {1, {0x00, 0x01, 0x03, 0xC0, 0x00, 0x08}},
        /* TIS: no function */
        {2, {0x00, 0x02}},
        /* O&M: read/write once; I, Q, M; DB, S7 counter; S7 timer; data 942 */
        {3, {0x00, 0x03, 0x03, 0xE0, 0x81, 0x01, 0x03, 0xAE}},
        /* OMS: delete (list); upload; load RAM, compress; hoch 8 */
        {4, {0x00, 0x04, 0x80, 0x01, 0x21, 0, 0, 0, 0, 0, 0, 0, 0, 0x08}},
        /* communication SFBs: none */
        {6, {0x00, 0x06}},
    };
    fx x;
    fx_open(&x, NULL, 240);
    uint8_t out[SZL_BUF];
    static const uint8_t zeros[40];
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        size_t len;
        int parts;
        assert_int_equal(szl_get(&x, 0x0131, want[k].index, out, &len, &parts), 0);
        assert_int_equal(len, 8u + 40u);
        assert_int_equal(parts, 1);
        assert_int_equal(get16(out + 4), 40);
        assert_int_equal(get16(out + 6), 1);
        assert_memory_equal(out + 8, want[k].head, 16);
        assert_memory_equal(out + 8 + 16, zeros, 24);
    }
    static const uint16_t refused[] = {0, 5, 7, 8, 9, 0x0010, 0x0106, 0xFFFF};
    for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++)
        szl_refused(&x, 0x0131, refused[k]);
    s7fx_close(&x);

    /* the limits are the server's options */
    gw_s7_server_opts so;
    memset(&so, 0, sizeof(so));
    so.host = "127.0.0.1";
    so.max_pdu = 480;
    so.max_clients = 3;
    fx_open_opts(&x, &so, 480);
    szl_ok(&x, 0x0131, 1, out, 40, 1);
    assert_int_equal(get16(out + 8 + 2), 480);
    assert_int_equal(get16(out + 8 + 4), 3);
    szl_ok(&x, 0x0131, 3, out, 40, 1);
    assert_int_equal(get16(out + 8 + 6), 462);
    szl_ok(&x, 0x0131, 4, out, 40, 1);
    assert_int_equal(out[8 + 13], 3);
    s7fx_close(&x);
}

static void test_state_leds_protection(void **state)
{
    (void)state;
    fx x;
    fx_open(&x, NULL, 240);
    uint8_t out[SZL_BUF];
    szl_ok(&x, 0x0424, 0, out, 20, 1);
    assert_int_equal(out[8 + 3], 0x08);
    szl_ok(&x, 0x0074, 0, out, 4, 4);
    static const uint8_t run_leds[16] = {0, 1, 0, 0, 0, 4, 1, 0, 0, 5, 0, 0, 0, 6, 0, 0};
    assert_memory_equal(out + 8, run_leds, 16);
    szl_ok(&x, 0x0174, 4, out, 4, 1);
    assert_memory_equal(out + 8, run_leds + 4, 4);
    szl_refused(&x, 0x0174, 2);
    gw_s7_server_set_cpu_state(x.s, GW_S7_CPU_STOP);
    szl_ok(&x, 0x0074, 0, out, 4, 4);
    static const uint8_t stop_leds[16] = {0, 1, 0, 0, 0, 4, 0, 0, 0, 5, 1, 0, 0, 6, 0, 0};
    assert_memory_equal(out + 8, stop_leds, 16);
    szl_ok(&x, 0x0424, 0, out, 20, 1);
    assert_int_equal(out[8 + 3], 0x04);
    /* no password: level 1, param 0, bart_sch STOP */
    szl_ok(&x, 0x0232, 4, out, 40, 1);
    assert_int_equal(get16(out + 8 + 2), 1);
    assert_int_equal(get16(out + 8 + 4), 0);
    assert_int_equal(get16(out + 8 + 6), 1);
    assert_int_equal(get16(out + 8 + 8), 3);
    szl_ok(&x, 0x0232, 1, out, 40, 1);
    assert_int_equal(get16(out + 8 + 16), 8);
    szl_refused(&x, 0x0232, 2);
    szl_refused(&x, 0x0232, 0);
    s7fx_close(&x);

    /* a password: its level 2; in force 2 until the session gives it */
    fx_open(&x, "secret", 240);
    szl_ok(&x, 0x0232, 4, out, 40, 1);
    assert_int_equal(get16(out + 8 + 4), 2);
    assert_int_equal(get16(out + 8 + 6), 2);
    assert_int_equal(get16(out + 8 + 8), 2);
    x.c.authorized = true;
    szl_ok(&x, 0x0232, 4, out, 40, 1);
    assert_int_equal(get16(out + 8 + 4), 2);
    assert_int_equal(get16(out + 8 + 6), 1);
    s7fx_close(&x);
}

/* 2024-05-17 10:30:00.123 UTC, a Friday */
#define T0_MS 1715941800123LL

static void test_diag_buffer(void **state)
{
    (void)state;
    fx x;
    fx_open(&x, NULL, 960);
    uint8_t out[SZL_BUF];
    szl_ok(&x, 0x00A0, 0, out, 20, 0); /* nothing happened yet */
    pthread_mutex_lock(&x.s->lock);
    s7__diag_mode_change(x.s, GW_S7_CPU_RUN, GW_S7_CPU_STOP, false, T0_MS);
    s7__diag_mode_change(x.s, GW_S7_CPU_STOP, GW_S7_CPU_RUN, false, T0_MS + 1000);
    s7__diag_mode_change(x.s, GW_S7_CPU_RUN, GW_S7_CPU_RUN, false, T0_MS + 2000);
    pthread_mutex_unlock(&x.s->lock);
    szl_ok(&x, 0x00A0, 0, out, 20, 3);
    /* newest first: STARTUP->RUN, STOP->STARTUP, PG STOP */
    assert_int_equal(get16(out + 8), 0x4302);
    assert_int_equal(get16(out + 28), 0x4301);
    assert_int_equal(get16(out + 48), 0x4304);
    static const uint8_t t0[8] = {0x24, 0x05, 0x17, 0x10, 0x30, 0x00, 0x12, 0x36};
    assert_memory_equal(out + 48 + 12, t0, 8);
    assert_int_equal(out[8 + 17], 0x01); /* one second later */
    /* 0x0424's time stamp is the last mode change */
    uint8_t st[SZL_BUF];
    szl_ok(&x, 0x0424, 0, st, 20, 1);
    assert_memory_equal(st + 8 + 12, out + 8 + 12, 8);
    /* 0x01A0: the n newest */
    uint8_t one[SZL_BUF];
    szl_ok(&x, 0x01A0, 1, one, 20, 1);
    assert_memory_equal(one + 8, out + 8, 20);
    szl_ok(&x, 0x01A0, 0, one, 20, 0);
    szl_ok(&x, 0x01A0, 100, one, 20, 3);
    /* bounded: the ring keeps the newest S7_DIAG_MAX */
    pthread_mutex_lock(&x.s->lock);
    for (int k = 0; k < 40; k++)
        s7__diag_mode_change(x.s, k % 2 ? GW_S7_CPU_STOP : GW_S7_CPU_RUN,
                             k % 2 ? GW_S7_CPU_RUN : GW_S7_CPU_STOP, k % 4 == 1,
                             T0_MS + 10000 + k);
    pthread_mutex_unlock(&x.s->lock);
    szl_ok(&x, 0x00A0, 0, out, 20, S7_DIAG_MAX);
    assert_int_equal(get16(out + 8), 0x4302);
    s7fx_close(&x);
}

/* ------------------------------------------------------------ parts */

static void fill_diag(gw_s7_server *s)
{
    pthread_mutex_lock(&s->lock);
    for (int k = 0; k < 32; k++)
        s7__diag_mode_change(s, k % 2 ? GW_S7_CPU_STOP : GW_S7_CPU_RUN,
                             k % 2 ? GW_S7_CPU_RUN : GW_S7_CPU_STOP, false, T0_MS + 1000 * k);
    pthread_mutex_unlock(&s->lock);
}

/* At PDU 240 every list arrives whole, the long ones in parts, with the
 * same bytes as in one answer at PDU 960. */
static void test_parts_at_pdu_240(void **state)
{
    (void)state;
    fx small, big;
    fx_open(&small, NULL, 240);
    fx_open(&big, NULL, 960);
    fill_diag(small.s);
    fill_diag(big.s);
    for (size_t k = 0; k < NSERVED; k++) {
        uint8_t a[SZL_BUF], b[SZL_BUF];
        size_t la, lb;
        int pa, pb;
        uint16_t id = served[k], idx = index_of(id);
        assert_int_equal(szl_get(&small, id, idx, a, &la, &pa), 0);
        assert_int_equal(szl_get(&big, id, idx, b, &lb, &pb), 0);
        assert_int_equal(la, lb);
        assert_int_equal(pb, 1);
        /* whole list bytes, at most 214 per answer (240 - 26) */
        assert_int_equal(pa, (int)((la + 213) / 214));
        assert_memory_equal(a, b, la);
    }
    /* 0x00A0 with 32 entries: 648 bytes in 4 parts; 0x001C: 348 in 2 */
    uint8_t a[SZL_BUF];
    size_t la;
    int pa;
    assert_int_equal(szl_get(&small, 0x00A0, 0, a, &la, &pa), 0);
    assert_int_equal(la, 648);
    assert_int_equal(pa, 4);
    assert_int_equal(szl_get(&small, 0x001C, 0, a, &la, &pa), 0);
    assert_int_equal(la, 348);
    assert_int_equal(pa, 2);
    s7fx_close(&small);
    s7fx_close(&big);
}

/* Starts a multi-part answer of 0x001C; returns its sequence number. */
static uint8_t start_parts(fx *x, uint16_t ref)
{
    uint8_t f[64];
    size_t n = s7_encode_szl_req(f, sizeof(f), ref, 0x001C, 0);
    assert_true(s7fx_serve(x, f, n));
    s7_userdata_param up;
    ud_answer(x, ref, &up);
    assert_int_equal(up.err_code, 0);
    assert_false(up.last);
    return up.seq;
}

static void follow_up(fx *x, uint16_t ref, uint8_t seq)
{
    uint8_t f[64];
    size_t n = s7_encode_szl_next_req(f, sizeof(f), ref, seq);
    assert_true(s7fx_serve(x, f, n));
}

static void test_follow_up_errors(void **state)
{
    (void)state;
    fx x;
    fx_open(&x, NULL, 240);
    /* nothing pending */
    follow_up(&x, 0x0200, 1);
    assert_error_answer(&x, 0x0200, 0xD001);
    /* a wrong sequence number: an error, and the answer is dropped */
    uint8_t seq = start_parts(&x, 0x0201);
    follow_up(&x, 0x0202, (uint8_t)(seq + 1));
    assert_error_answer(&x, 0x0202, 0xD001);
    follow_up(&x, 0x0203, seq);
    assert_error_answer(&x, 0x0203, 0xD001);
    /* finished: asking again gets the error, not the last part again */
    seq = start_parts(&x, 0x0204);
    follow_up(&x, 0x0205, seq);
    s7_userdata_param up;
    ud_answer(&x, 0x0205, &up);
    assert_int_equal(up.err_code, 0);
    assert_true(up.last);
    follow_up(&x, 0x0206, seq);
    assert_error_answer(&x, 0x0206, 0xD001);
    /* a new request abandons the unfinished answer; a second multi-part
     * answer gets a new sequence number and its own parts */
    uint8_t s1 = start_parts(&x, 0x0207);
    uint8_t out[SZL_BUF];
    size_t len;
    int parts;
    assert_int_equal(szl_get(&x, 0x0011, 0, out, &len, &parts), 0);
    follow_up(&x, 0x0208, s1);
    assert_error_answer(&x, 0x0208, 0xD001);
    s1 = start_parts(&x, 0x0209);
    uint8_t s2 = start_parts(&x, 0x020A);
    assert_int_not_equal(s1, s2);
    follow_up(&x, 0x020B, s1);
    assert_error_answer(&x, 0x020B, 0xD001);
    s2 = start_parts(&x, 0x020C);
    follow_up(&x, 0x020D, s2);
    s7_header h = ud_answer(&x, 0x020D, &up);
    assert_int_equal(up.err_code, 0);
    assert_int_equal(up.seq, s2);
    assert_int_equal(get16(h.data + 2), 348 - 214);
    /* a follow-up on a closed session's state: session cleared frees it */
    s1 = start_parts(&x, 0x020E);
    assert_non_null(x.c.szl);
    s7fx_close(&x);
}

static void test_malformed(void **state)
{
    (void)state;
    fx x;
    fx_open(&x, NULL, 240);
    uint8_t f[64], g[64];
    /* subfunction 2 (message service) and 0x7F: not served */
    size_t n = s7_encode_szl_req(f, sizeof(f), 0x0300, 0x0011, 0);
    memcpy(g, f, n);
    g[S7_FRAME_HDR + 10 + 6] = 0x02;
    assert_true(s7fx_serve(&x, g, n));
    assert_error_answer(&x, 0x0300, 0x8104);
    /* data length beyond the data, and shorter than ID + index */
    memcpy(g, f, n);
    g[S7_FRAME_HDR + 10 + 8 + 3] = 0x09;
    assert_true(s7fx_serve(&x, g, n));
    assert_error_answer(&x, 0x0300, 0x8104);
    memcpy(g, f, n);
    g[S7_FRAME_HDR + 10 + 8 + 3] = 0x02;
    assert_true(s7fx_serve(&x, g, n));
    assert_error_answer(&x, 0x0300, 0x8104);
    /* python-snap7's data header 0A 00 00 04 is a request like FF 09 */
    memcpy(g, f, n);
    g[S7_FRAME_HDR + 10 + 8] = 0x0A;
    g[S7_FRAME_HDR + 10 + 8 + 1] = 0x00;
    assert_true(s7fx_serve(&x, g, n));
    s7_userdata_param up;
    ud_answer(&x, 0x0300, &up);
    assert_int_equal(up.err_code, 0);
    /* a follow-up whose data length overruns */
    uint8_t seq = start_parts(&x, 0x0301);
    n = s7_encode_szl_next_req(f, sizeof(f), 0x0302, seq);
    memcpy(g, f, n);
    g[S7_FRAME_HDR + 10 + 12 + 3] = 0x20;
    assert_true(s7fx_serve(&x, g, n));
    assert_error_answer(&x, 0x0302, 0x8104);
    /* every cut of a request and a follow-up: answered or closed, never a
     * read past the end (ASan) */
    size_t fn = s7_encode_szl_req(f, sizeof(f), 0x0303, 0x001C, 0);
    size_t gn = s7_encode_szl_next_req(g, sizeof(g), 0x0304, seq);
    for (size_t cut = 7; cut < gn; cut++) {
        uint8_t h2[64];
        memcpy(h2, g, cut);
        s7_frame_dt(h2, cut - S7_FRAME_HDR);
        (void)s7fx_serve(&x, h2, cut);
        if (!x.c.cotp_up) {
            s7fx_new_session(&x, 0x4400);
            connect_pdu(&x, 240);
        }
        memcpy(h2, f, cut < fn ? cut : fn);
        s7_frame_dt(h2, (cut < fn ? cut : fn) - S7_FRAME_HDR);
        (void)s7fx_serve(&x, h2, cut < fn ? cut : fn);
    }
    /* every byte of a follow-up flipped */
    for (size_t k = S7_FRAME_HDR; k < gn; k++) {
        uint8_t h2[64];
        memcpy(h2, g, gn);
        h2[k] ^= 0xFF;
        bool keep = s7fx_serve(&x, h2, gn);
        if (!keep) {
            s7fx_new_session(&x, 0x4400);
            connect_pdu(&x, 240);
        }
    }
    s7fx_close(&x);
}

/* ------------------------------------------------------------ client */

static void test_client_reassembles(void **state)
{
    (void)state;
    gw_s7_server_opts so;
    memset(&so, 0, sizeof(so));
    so.host = "127.0.0.1";
    so.max_pdu = 240;
    gw_s7_server *s = s7fx_server_new(&so);
    fill_diag(s);
    s7fx_start(s);
    gw_s7_client *c = s7fx_client_up(gw_s7_server_port(s), 240);
    gw_error err;
    uint8_t buf[SZL_BUF];
    size_t len = 0;
    uint16_t rl = 0, cnt = 0;
    assert_int_equal(gw_s7_read_szl(c, 0x001C, 0, buf, sizeof(buf), &len, &rl, &cnt, &err), GW_OK);
    assert_int_equal(rl, 34);
    assert_int_equal(cnt, 10);
    assert_int_equal(len, 340);
    assert_string_equal((const char *)buf + 5 * 34 + 2, "CPU 1214C DC/DC/DC");
    assert_int_equal(gw_s7_read_szl(c, 0x00A0, 0, buf, sizeof(buf), &len, &rl, &cnt, &err), GW_OK);
    assert_int_equal(cnt, 32);
    assert_int_equal(len, 640);
    assert_int_equal(get16(buf), 0x4302);
    /* a buffer too small: an error, the link stays and the next read works */
    gw_error_clear(&err);
    assert_int_equal(gw_s7_read_szl(c, 0x00A0, 0, buf, 300, &len, &rl, &cnt, &err), GW_E_RANGE);
    assert_int_equal(len, 0);
    assert_true(gw_s7_connected(c));
    assert_int_equal(gw_s7_read_szl(c, 0x001C, 0, buf, sizeof(buf), &len, &rl, &cnt, &err), GW_OK);
    assert_int_equal(len, 340);
    gw_s7_cpu_info info;
    assert_int_equal(gw_s7_cpu_info_read(c, &info, &err), GW_OK);
    assert_string_equal(info.firmware, "V4.2.1");
    /* SZL 0x001C read at PDU 240 in parts, looked up by index */
    assert_string_equal(info.module_name, "CPU 1214C DC/DC/DC");
    assert_string_equal(info.plc_name, "PLC_1");
    assert_string_equal(info.serial, "S C-PLCGW0000001");
    assert_string_equal(info.station_name, "S71200/ET200MP station_1");
    gw_s7_client_free(c);
    gw_s7_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_of_lists),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_comm_capabilities),
        cmocka_unit_test(test_state_leds_protection),
        cmocka_unit_test(test_diag_buffer),
        cmocka_unit_test(test_parts_at_pdu_240),
        cmocka_unit_test(test_follow_up_errors),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_client_reassembles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
