/*
 * test_server_frames.c - raw frames to the S7 server.
 *
 * Most tests run in-process through s7__serve_packet (one TPKT packet in,
 * the answer out, no I/O) with a gw_s7_server that is not started and an
 * s7_session; every packet is handed over in a heap copy of exactly its
 * size, so that reads past the end show up under ASan (the frame fixture
 * of s7_test_fixture.h). The last tests send
 * the same kind of frames over a real socket to a started server.
 *
 * Expected answers come from docs/s7comm.md: the example frames of sections
 * 2, 6 and 7, item codes of section 8 (and 7 for BIT with count > 1), the
 * 12-byte Ack of sections 9 and 12, the limits of sections 10 and 13.6.
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
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/s7/s7_internal.h"
#include "s7_doc_frames.h"
#include "s7_test_fixture.h"

#define SESSION_REF 0x4400

/* ------------------------------------------------------------ fixture */

/* the frame fixture of s7_test_fixture.h */
typedef s7fx fx;

static gw_s7_server *new_server_items(uint16_t max_pdu, uint16_t max_items)
{
    gw_s7_server_opts so;
    memset(&so, 0, sizeof(so));
    so.host = "127.0.0.1";
    so.max_pdu = max_pdu;
    so.max_items = max_items;
    gw_s7_server *s = s7fx_server_new(&so);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 1, 100), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 2, 26), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 3, 10), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_M, 0, 256), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_I, 0, 16), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_Q, 0, 16), GW_OK);
    return s;
}

/* max_items 20: snap7's limit (docs 10, 13.6) */
static gw_s7_server *new_server(uint16_t max_pdu)
{
    return new_server_items(max_pdu, 20);
}

static int setup(void **state)
{
    fx *x = malloc(sizeof(*x));
    s7fx_open(x, new_server(0), SESSION_REF);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    s7fx_close(*state);
    free(*state);
    return 0;
}

static void assert_reply(fx *x, const uint8_t *want, size_t n, const char *what)
{
    assert_bytes(x->reply, x->reply_len, want, n, what);
}

/* An S7ANY item spec with a chosen syntax id. */
static void put_spec(uint8_t *p, uint8_t syntax, uint8_t tsize, uint16_t count, uint16_t db,
                     uint8_t area, uint32_t bitaddr)
{
    p[0] = 0x12;
    p[1] = 0x0A;
    p[2] = syntax;
    p[3] = tsize;
    p[4] = (uint8_t)(count >> 8);
    p[5] = (uint8_t)count;
    p[6] = (uint8_t)(db >> 8);
    p[7] = (uint8_t)db;
    p[8] = area;
    p[9] = (uint8_t)(bitaddr >> 16);
    p[10] = (uint8_t)(bitaddr >> 8);
    p[11] = (uint8_t)bitaddr;
}

/* CR and setup; returns the negotiated PDU. */
static uint16_t connect_pdu(fx *x, uint16_t pdu)
{
    return s7fx_connect(x, 8, pdu);
}

/* A fresh session, connected with the given PDU. */
static void reconnect(fx *x, uint16_t pdu)
{
    s7fx_new_session(x, SESSION_REF);
    connect_pdu(x, pdu);
}

/* Serves a read of n items and returns its header; items decoded into d. */
static s7_header read_items(fx *x, const s7_item *it, size_t n, s7_data *d)
{
    uint8_t buf[1024];
    size_t len = s7_encode_read_req(buf, sizeof(buf), 0x0777, it, n);
    assert_true(len > 0);
    assert_true(s7fx_serve(x, buf, len));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.pdu_ref, 0x0777);
    if (d && h.err_class == 0) {
        assert_int_equal(h.param[0], S7_FN_READ);
        assert_int_equal(h.param[1], n);
        assert_int_equal(s7_decode_data(h.data, h.data_len, n, d), GW_OK);
    }
    return h;
}

static void assert_ack_8104(fx *x, uint16_t ref)
{
    const uint8_t want[] = {0x03, 0x00, 0x00, 0x13, 0x02, 0xF0, 0x80, 0x32, 0x02, 0x00,
                            0x00, (uint8_t)(ref >> 8), (uint8_t)ref, 0x00, 0x00, 0x00,
                            0x00, 0x81, 0x04};
    assert_reply(x, want, sizeof(want), "12-byte Ack 0x8104");
}

/* ------------------------------------------------------------ COTP */

static void test_job_before_cr(void **state)
{
    fx *x = *state;
    uint8_t buf[64];
    size_t n = s7fx_setup_frame(buf, 1, 1, 1, 480);
    assert_false(s7fx_serve(x, buf, n));
    assert_int_equal(x->reply_len, 0);
    assert_false(s7fx_serve(x, READ_REQ, sizeof(READ_REQ)));
    assert_int_equal(x->reply_len, 0);
    /* a DR before the CR: nothing to disconnect, close */
    uint8_t dr[16];
    n = s7_cotp_encode_dr(dr, sizeof(dr), 0, 1, 0);
    assert_false(s7fx_serve(x, dr, n));
}

static void test_cr_cc(void **state)
{
    fx *x = *state;
    assert_true(s7fx_serve(x, CR_SNAP7, sizeof(CR_SNAP7)));
    /* docs 2.1: the CR echoed as a CC, dst ref = the CR's src ref, our ref;
     * nodeS7: >= 22 bytes, LI = length - 5, type 0xD0 */
    const uint8_t cc[] = {0x03, 0x00, 0x00, 0x16, 0x11, 0xD0, 0x00, 0x01, 0x44, 0x00, 0x00,
                          0xC0, 0x01, 0x0A, 0xC1, 0x02, 0x01, 0x00, 0xC2, 0x02, 0x01, 0x01};
    assert_reply(x, cc, sizeof(cc), "CC");
    assert_true(x->c.cotp_up);
    /* a second CR on a connected session: close */
    assert_false(s7fx_serve(x, CR_SNAP7, sizeof(CR_SNAP7)));
}

static void test_cc_tpdu_and_tsaps(void **state)
{
    (void)state;
    static const struct {
        bool has;
        uint8_t asked, got;
    } t[] = {{true, 0x07, 0x07}, {true, 0x09, 0x09}, {true, 0x0A, 0x0A},
             {true, 0x0B, 0x0A}, {true, 0x0D, 0x0A}, {false, 0, 0x0A}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        fx y;
        s7fx_open(&y, new_server(0), 0x1234);
        s7_cotp cr = {0};
        cr.type = S7_COTP_CR;
        cr.src_ref = 0x0002;
        cr.has_tpdu_size = t[i].has;
        cr.tpdu_size = t[i].asked;
        cr.has_src_tsap = cr.has_dst_tsap = true;
        cr.src_tsap = 0x0100;
        cr.dst_tsap = s7_remote_tsap(S7_CONN_OP, 0, 2);
        uint8_t buf[64];
        size_t n = s7_cotp_encode_conn(buf, sizeof(buf), &cr);
        assert_true(s7fx_serve(&y, buf, n));
        s7_cotp cc;
        assert_int_equal(s7_cotp_decode(y.reply, y.reply_len, &cc), GW_OK);
        assert_int_equal(cc.type, S7_COTP_CC);
        assert_int_equal(cc.dst_ref, 0x0002);
        assert_int_equal(cc.src_ref, 0x1234);
        assert_true(cc.has_tpdu_size);
        assert_int_equal(cc.tpdu_size, t[i].got);
        assert_int_equal(cc.src_tsap, 0x0100);
        assert_int_equal(cc.dst_tsap, 0x0202);
        assert_true(y.reply_len >= 22);
        assert_int_equal(y.reply[4], y.reply_len - 5);
        s7fx_close(&y);
    }
}

static void test_dr_dc(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    uint8_t dr[16];
    size_t n = s7_cotp_encode_dr(dr, sizeof(dr), SESSION_REF, 0x0001, 0x80);
    assert_false(s7fx_serve(x, dr, n));
    /* DC: dst = the DR's src ref, src = ours */
    const uint8_t dc[] = {0x03, 0x00, 0x00, 0x0A, 0x05, 0xC0, 0x00, 0x01, 0x44, 0x00};
    assert_reply(x, dc, sizeof(dc), "DC");
}

static void test_dc_and_other_tpdus_close(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    uint8_t dc[16];
    size_t n = s7_cotp_encode_dc(dc, sizeof(dc), SESSION_REF, 1);
    assert_false(s7fx_serve(x, dc, n));
    assert_int_equal(x->reply_len, 0);
    /* ER (0x70), ED (0x10), AK (0x60) on a fresh connected session */
    const uint8_t types[] = {0x70, 0x10, 0x60, 0x50, 0xE0};
    for (size_t i = 0; i < sizeof(types); i++) {
        reconnect(x, 480);
        uint8_t f[] = {0x03, 0x00, 0x00, 0x0B, 0x06, types[i], 0x44, 0x00, 0x00, 0x01, 0x00};
        assert_false(s7fx_serve(x, f, sizeof(f)));
    }
}

/* ------------------------------------------------------------ setup */

static void test_setup_negotiation(void **state)
{
    fx *x = *state;
    assert_true(s7fx_serve(x, CR_SNAP7, sizeof(CR_SNAP7)));
    uint8_t buf[64];
    size_t n = s7fx_setup_frame(buf, 0x0001, 8, 8, 960);
    assert_true(s7fx_serve(x, buf, n));
    const uint8_t want[] = {0x03, 0x00, 0x00, 0x1B, 0x02, 0xF0, 0x80, 0x32, 0x03, 0x00,
                            0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0xF0,
                            0x00, 0x00, 0x08, 0x00, 0x08, 0x03, 0xC0};
    assert_reply(x, want, sizeof(want), "setup answer");
    assert_true(x->c.setup_done);
    assert_int_equal(x->c.pdu_len, 960);
    /* asked -> granted (server max 960, min 240); AmQ within 1..8 */
    static const struct {
        uint16_t amq1, amq2, pdu, g1, g2, gpdu;
    } t[] = {{1, 1, 480, 1, 1, 480},  {8, 8, 240, 8, 8, 240},   {8, 8, 100, 8, 8, 240},
             {0, 0, 960, 1, 1, 960},  {20, 3, 2000, 8, 3, 960}, {1, 1, 65535, 1, 1, 960},
             {1, 1, 0, 1, 1, 240},    {1, 1, 961, 1, 1, 960},   {1, 1, 241, 1, 1, 241}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        n = s7fx_setup_frame(buf, (uint16_t)(0x100 + i), t[i].amq1, t[i].amq2, t[i].pdu);
        assert_true(s7fx_serve(x, buf, n));
        s7_header h = s7fx_reply_hdr(x);
        assert_int_equal(h.rosctr, S7_ACK_DATA);
        assert_int_equal(h.pdu_ref, 0x100 + i);
        assert_int_equal(h.err_class, 0);
        s7_setup got;
        assert_int_equal(s7_setup_decode_param(h.param, h.param_len, &got), GW_OK);
        assert_int_equal(got.amq_calling, t[i].g1);
        assert_int_equal(got.amq_called, t[i].g2);
        assert_int_equal(got.pdu_len, t[i].gpdu);
        assert_int_equal(x->c.pdu_len, t[i].gpdu);
    }
    /* a short setup parameter: an error answer, the link stays */
    const uint8_t shortp[4] = {0xF0, 0x00, 0x00, 0x01};
    n = s7fx_job_frame(buf, 0x0222, shortp, sizeof(shortp), NULL, 0);
    assert_true(s7fx_serve(x, buf, n));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.rosctr, S7_ACK_DATA);
    assert_int_not_equal(h.err_class, 0);
    assert_int_equal(h.pdu_ref, 0x0222);
    /* a server that offers 240 at most */
    fx y;
    s7fx_open(&y, new_server(240), 1);
    assert_int_equal(connect_pdu(&y, 960), 240);
    s7fx_close(&y);
}

/* ------------------------------------------------------------ jobs */

static void test_read_before_setup(void **state)
{
    fx *x = *state;
    assert_true(s7fx_serve(x, CR_SNAP7, sizeof(CR_SNAP7)));
    assert_true(s7fx_serve(x, READ_REQ, sizeof(READ_REQ)));
    assert_ack_8104(x, 0x0001);
    assert_true(s7fx_serve(x, WRITE_BIT_REQ, sizeof(WRITE_BIT_REQ)));
    assert_ack_8104(x, 0x0002);
    uint8_t m = 0xAA;
    gw_s7_server_get(x->s, GW_S7_M, 0, 10, 1, &m);
    assert_int_equal(m, 0); /* not written */
    assert_false(x->c.setup_done);
}

static void test_unknown_function(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    /* CPU services, 0xFF (upload start, PI service and PLC stop are
     * served: test_server_blocks.c, test_server_cpu.c) */
    const uint8_t fns[] = {0x00, 0x01, 0xFF};
    for (size_t i = 0; i < sizeof(fns); i++) {
        uint8_t param[8] = {fns[i], 0, 0, 0, 0, 0, 0, 0};
        uint8_t buf[64];
        size_t n = s7fx_job_frame(buf, (uint16_t)(0x0300 + i), param, sizeof(param), NULL, 0);
        assert_true(s7fx_serve(x, buf, n));
        assert_ack_8104(x, (uint16_t)(0x0300 + i));
    }
    /* and the session still serves */
    const uint8_t w[2] = {0x12, 0x34};
    gw_s7_server_set(x->s, GW_S7_DB, 1, 2, 2, w);
    assert_true(s7fx_serve(x, READ_REQ, sizeof(READ_REQ)));
    assert_reply(x, READ_RSP, sizeof(READ_RSP), "read after unknown functions");
}

/* The document's frames, answered byte for byte. */
static void test_doc_frames(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    const uint8_t w[2] = {0x12, 0x34};
    gw_s7_server_set(x->s, GW_S7_DB, 1, 2, 2, w);
    assert_true(s7fx_serve(x, READ_REQ, sizeof(READ_REQ)));
    assert_reply(x, READ_RSP, sizeof(READ_RSP), "read DB1.DBW2");

    const uint8_t m10 = 0x84;
    gw_s7_server_set(x->s, GW_S7_M, 0, 10, 1, &m10);
    assert_true(s7fx_serve(x, WRITE_BIT_REQ, sizeof(WRITE_BIT_REQ)));
    assert_reply(x, WRITE_RSP, sizeof(WRITE_RSP), "write M10.3");
    uint8_t v;
    gw_s7_server_get(x->s, GW_S7_M, 0, 10, 1, &v);
    assert_int_equal(v, 0x8C); /* only bit 3 changed */

    /* DB1.DBB0 BYTE x3 then MB10 BYTE x1 (docs 6.2) */
    const uint8_t abc[3] = {0xAA, 0xBB, 0xCC}, dd = 0xDD;
    gw_s7_server_set(x->s, GW_S7_DB, 1, 0, 3, abc);
    gw_s7_server_set(x->s, GW_S7_M, 0, 10, 1, &dd);
    s7_item it[2] = {{S7_TS_BYTE, 3, 1, S7_AREA_DB, 0}, {S7_TS_BYTE, 1, 0, S7_AREA_M, 80}};
    s7_header h = read_items(x, it, 2, NULL);
    const uint8_t data[] = {0xFF, 0x04, 0x00, 0x18, 0xAA, 0xBB, 0xCC,
                            0x00, 0xFF, 0x04, 0x00, 0x08, 0xDD};
    assert_int_equal(h.param_len, 2);
    assert_int_equal(h.data_len, sizeof(data));
    assert_memory_equal(h.data, data, sizeof(data));
}

/* Data transport sizes of the answers (docs 6.2, the snap7 server's). */
static void test_reply_transport_sizes(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    const uint8_t mem[8] = {0x40, 0x49, 0x0F, 0xDB, 0x80, 0x01, 0x02, 0x03};
    gw_s7_server_set(x->s, GW_S7_DB, 2, 0, 8, mem);
    s7_item it[8] = {{S7_TS_REAL, 1, 2, S7_AREA_DB, 0}, {S7_TS_INT, 1, 2, S7_AREA_DB, 32},
                     {S7_TS_DINT, 1, 2, S7_AREA_DB, 0}, {S7_TS_WORD, 2, 2, S7_AREA_DB, 0},
                     {S7_TS_CHAR, 3, 2, S7_AREA_DB, 8}, {S7_TS_BIT, 1, 2, S7_AREA_DB, 32 + 7},
                     {S7_TS_BIT, 1, 2, S7_AREA_DB, 32 + 6}, {S7_TS_DWORD, 1, 2, S7_AREA_DB, 32}};
    s7_data d[8];
    read_items(x, it, 8, d);
    const uint8_t dts[8] = {0x07, 0x05, 0x05, 0x04, 0x09, 0x03, 0x03, 0x04};
    const uint16_t len[8] = {4, 2, 4, 4, 3, 1, 1, 4};
    for (int i = 0; i < 8; i++) {
        assert_int_equal(d[i].rc, 0xFF);
        assert_int_equal(d[i].dts, dts[i]);
        assert_int_equal(d[i].len, len[i]);
    }
    assert_memory_equal(d[0].bytes, mem, 4);
    assert_memory_equal(d[1].bytes, mem + 4, 2);
    assert_memory_equal(d[4].bytes, mem + 1, 3);
    assert_int_equal(d[5].bytes[0], 1); /* bit 7 of 0x80 */
    assert_int_equal(d[6].bytes[0], 0);
    /* the BIT answer's length field is 1 (bit) */
    s7_header h = read_items(x, &it[5], 1, NULL);
    const uint8_t bitdata[] = {0xFF, 0x03, 0x00, 0x01, 0x01};
    assert_int_equal(h.data_len, sizeof(bitdata));
    assert_memory_equal(h.data, bitdata, sizeof(bitdata));
}

/* docs 13.6: more than max_items (20) items is a header error, not 20
 * answers; at PDU 240, 20 items do not fit the request (252 bytes). */
static void test_item_limits(void **state)
{
    fx *x = *state;
    assert_int_equal(connect_pdu(x, 960), 960);
    s7_item it[21];
    for (int i = 0; i < 21; i++)
        it[i] = (s7_item){S7_TS_BYTE, 1, 1, S7_AREA_DB, 8u * (uint32_t)i};
    s7_header h = read_items(x, it, 21, NULL);
    assert_int_equal(h.rosctr, S7_ACK_DATA);
    assert_int_not_equal(h.err_class, 0);
    assert_int_equal(h.err_class, 0x85); /* docs 9: 0x8500, PDU size error */
    assert_int_equal(h.err_code, 0x00);
    assert_int_equal(h.param_len, 0);
    assert_int_equal(h.data_len, 0);
    s7_data d[21];
    h = read_items(x, it, 20, d);
    assert_int_equal(h.err_class, 0);
    assert_int_equal(h.param[1], 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(d[i].rc, 0xFF);
    /* writes: 21 items refused too */
    uint8_t one[21];
    s7_data wd[21];
    for (int i = 0; i < 21; i++) {
        one[i] = (uint8_t)i;
        wd[i] = (s7_data){0, S7_DTS_BYTE, &one[i], 1};
    }
    uint8_t buf[1024];
    size_t n = s7_encode_write_req(buf, sizeof(buf), 0x0888, it, wd, 21);
    assert_true(s7fx_serve(x, buf, n));
    h = s7fx_reply_hdr(x);
    assert_int_not_equal(h.err_class, 0);
    uint8_t v[21];
    gw_s7_server_get(x->s, GW_S7_DB, 1, 0, 21, v);
    for (int i = 0; i < 21; i++)
        assert_int_equal(v[i], 0); /* nothing written */

    /* PDU 240, negotiated again on the same session */
    n = s7fx_setup_frame(buf, 0x0889, 1, 1, 240);
    assert_true(s7fx_serve(x, buf, n));
    assert_int_equal(x->c.pdu_len, 240);
    h = read_items(x, it, 20, NULL);
    assert_int_not_equal(h.err_class, 0);
    h = read_items(x, it, 19, d);
    assert_int_equal(h.err_class, 0);
    /* an answer that would not fit 240: 14 + 4 + 230 */
    s7_item big = {S7_TS_BYTE, 230, 2, S7_AREA_DB, 0};
    gw_s7_server_free(x->s);
    x->s = new_server(0);
    assert_int_equal(gw_s7_server_add_area(x->s, GW_S7_DB, 9, 400), GW_OK);
    big.db = 9;
    h = read_items(x, &big, 1, NULL);
    assert_int_equal(h.err_class, 0x85);
    big.count = 222; /* 14 + 4 + 222 = 240 fits */
    h = read_items(x, &big, 1, d);
    assert_int_equal(h.err_class, 0);
    assert_int_equal(d[0].len, 222);
}

/* Without max_items the server answers as many items as fit the PDU, as
 * a CPU does: (960 - 12) / 12 = 79 items per request at 960. */
static void test_item_limits_default(void **state)
{
    (void)state;
    fx y;
    s7fx_open(&y, new_server_items(0, 0), 1);
    assert_int_equal(connect_pdu(&y, 960), 960);
    static s7_item it[80];
    static s7_data d[80];
    for (int i = 0; i < 80; i++)
        it[i] = (s7_item){S7_TS_BYTE, 1, 1, S7_AREA_DB, 8u * (uint32_t)i};
    s7_header h = read_items(&y, it, 21, d);
    assert_int_equal(h.err_class, 0);
    assert_int_equal(h.param[1], 21);
    h = read_items(&y, it, 79, d);
    assert_int_equal(h.err_class, 0);
    assert_int_equal(h.param[1], 79);
    h = read_items(&y, it, 80, NULL); /* 10 + 2 + 960 > 960 */
    assert_int_not_equal(h.err_class, 0);
    s7fx_close(&y);
}

/* Item return codes that check_item assigns (docs 8). */
static void test_item_codes(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    const uint8_t ab[2] = {0x5A, 0xA5};
    gw_s7_server_set(x->s, GW_S7_DB, 1, 0, 2, ab);
    gw_s7_server_set(x->s, GW_S7_M, 0, 3, 1, ab);
    s7_item it[11] = {
        {S7_TS_BYTE, 2, 1, S7_AREA_DB, 0},       /* ok */
        {S7_TS_BYTE, 1, 0, 0x99, 0},             /* unknown area: 0x0A */
        {S7_TS_BYTE, 1, 0, S7_AREA_COUNTER, 0},  /* counters read as bytes: 0x05 */
        {0x09, 1, 1, S7_AREA_DB, 0},             /* DATE: 0x06 */
        {0x00, 1, 1, S7_AREA_DB, 0},             /* 0x06 */
        {S7_TS_BYTE, 2, 1, S7_AREA_DB, 8 * 4 + 3}, /* not byte aligned: 0x05 */
        {S7_TS_BYTE, 4, 99, S7_AREA_DB, 0},      /* no DB99: 0x0A */
        {S7_TS_BYTE, 4, 1, S7_AREA_DB, 98 * 8},  /* past the end of DB1: 0x05 */
        {S7_TS_BIT, 1, 1, S7_AREA_DB, 6},        /* DB1.DBX0.6 ok */
        {S7_TS_BYTE, 1, 0, S7_AREA_M, 24},       /* MB3 ok */
        {S7_TS_BYTE, 1, 1, S7_AREA_DI, 8},       /* DI1 = DB1: ok */
    };
    const uint8_t want[11] = {0xFF, 0x0A, 0x05, 0x06, 0x06, 0x05, 0x0A, 0x05, 0xFF, 0xFF, 0xFF};
    s7_data d[11];
    read_items(x, it, 11, d);
    for (int i = 0; i < 11; i++) {
        if (d[i].rc != want[i])
            print_error("item %d: 0x%02X, want 0x%02X\n", i, d[i].rc, want[i]);
        assert_int_equal(d[i].rc, want[i]);
        if (want[i] != 0xFF) { /* docs 13.3: error items are 4 bytes, length 0 */
            assert_int_equal(d[i].dts, 0);
            assert_int_equal(d[i].len, 0);
        }
    }
    assert_memory_equal(d[0].bytes, ab, 2);
    assert_int_equal(d[8].bytes[0], 1); /* 0x5A bit 6 */
    assert_int_equal(d[9].bytes[0], 0x5A);
    assert_int_equal(d[10].bytes[0], 0xA5);
    /* the same items in a write: the same codes */
    uint8_t b4[4] = {1, 2, 3, 4};
    s7_data wd[11];
    for (int i = 0; i < 11; i++) {
        size_t nb = s7_item_bytes(it[i].tsize, it[i].count);
        wd[i] = (s7_data){0, it[i].tsize == S7_TS_BIT ? S7_DTS_BIT : S7_DTS_BYTE, b4,
                          (uint16_t)(nb ? nb : 1)};
    }
    uint8_t buf[1024];
    size_t n = s7_encode_write_req(buf, sizeof(buf), 0x0999, it, wd, 11);
    assert_true(s7fx_serve(x, buf, n));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.err_class, 0);
    assert_int_equal(h.param[0], S7_FN_WRITE);
    assert_int_equal(h.param[1], 11);
    assert_int_equal(h.data_len, 11);
    for (int i = 0; i < 11; i++)
        assert_int_equal(h.data[i], want[i]);
}

/* docs 7: "snap7 client and server reject BIT with count > 1 (... server
 * item code 0x05)"; docs 8: 0x05 covers an invalid type/bit number. */
static void test_bit_count_2(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    s7_item it[2] = {{S7_TS_BIT, 2, 1, S7_AREA_DB, 0}, {S7_TS_BYTE, 1, 1, S7_AREA_DB, 0}};
    s7_data d[2];
    read_items(x, it, 2, d);
    assert_int_equal(d[1].rc, 0xFF);
    if (d[0].rc != S7_RC_OUT_OF_RANGE)
        print_error("BIT x2 got item code 0x%02X, docs/s7comm.md 7 says 0x05\n", d[0].rc);
    assert_int_equal(d[0].rc, S7_RC_OUT_OF_RANGE);
}

/* Write data whose transport size or length does not match the item: 0x07
 * (docs 8, "data type inconsistent"); the item's memory is not touched,
 * the good items of the same request are written. */
static void test_write_mismatch(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    const uint8_t b[4] = {0x11, 0x22, 0x33, 0x44};
    s7_item it[6] = {
        {S7_TS_BYTE, 4, 1, S7_AREA_DB, 10 * 8}, /* 3 bytes sent */
        {S7_TS_BIT, 1, 1, S7_AREA_DB, 20 * 8 + 1}, /* BIT item, BYTE data */
        {S7_TS_REAL, 1, 1, S7_AREA_DB, 30 * 8}, /* REAL, 3 bytes */
        {S7_TS_BYTE, 2, 1, S7_AREA_DB, 40 * 8}, /* ok */
        {S7_TS_WORD, 1, 1, S7_AREA_DB, 50 * 8}, /* ok: 16 bits */
        {S7_TS_BIT, 1, 1, S7_AREA_DB, 60 * 8},  /* BIT item, 2 data bytes */
    };
    s7_data d[6] = {{0, S7_DTS_BYTE, b, 3}, {0, S7_DTS_BYTE, b, 1}, {0, S7_DTS_REAL, b, 3},
                    {0, S7_DTS_BYTE, b, 2}, {0, S7_DTS_BYTE, b, 2}, {0, S7_DTS_OCTET, b, 2}};
    uint8_t buf[512];
    size_t n = s7_encode_write_req(buf, sizeof(buf), 0x0444, it, d, 6);
    assert_true(s7fx_serve(x, buf, n));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.err_class, 0);
    assert_int_equal(h.data_len, 6);
    const uint8_t want[6] = {0x07, 0x07, 0x07, 0xFF, 0xFF, 0x07};
    for (int i = 0; i < 6; i++) {
        if (h.data[i] != want[i])
            print_error("item %d: 0x%02X, want 0x%02X\n", i, h.data[i], want[i]);
        assert_int_equal(h.data[i], want[i]);
    }
    uint8_t mem[100];
    gw_s7_server_get(x->s, GW_S7_DB, 1, 0, 100, mem);
    const uint8_t z[4] = {0};
    assert_memory_equal(mem + 10, z, 4);
    assert_int_equal(mem[20], 0);
    assert_memory_equal(mem + 30, z, 4);
    assert_memory_equal(mem + 40, b, 2);
    assert_memory_equal(mem + 50, b, 2);
    assert_int_equal(mem[60], 0);
}

/* The test-only snap7 mode (s7__server_emulate_snap7_writes, docs 7.1):
 * a 3-item write is answered with one return code and only the first item
 * is written; a single-item write is served as ever; off by default. */
static void test_snap7_write_emulation(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    const uint8_t b[4] = {0x11, 0x22, 0x33, 0x44}, one = 1;
    s7_item it[3] = {{S7_TS_BYTE, 2, 1, S7_AREA_DB, 10 * 8},
                     {S7_TS_BIT, 1, 0, S7_AREA_M, 5 * 8 + 3},
                     {S7_TS_BYTE, 4, 2, S7_AREA_DB, 0}};
    s7_data d[3] = {{0, S7_DTS_BYTE, b, 2}, {0, S7_DTS_BIT, &one, 1}, {0, S7_DTS_BYTE, b, 4}};
    uint8_t buf[256];
    s7__server_emulate_snap7_writes(x->s, true);
    size_t n = s7_encode_write_req(buf, sizeof(buf), 0x0555, it, d, 3);
    assert_true(s7fx_serve(x, buf, n));
    /* 32 03 .. 00 02 00 01 00 00 | 05 01 | FF */
    const uint8_t want[] = {0x03, 0x00, 0x00, 0x16, 0x02, 0xF0, 0x80, 0x32, 0x03, 0x00, 0x00,
                            0x05, 0x55, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x05, 0x01, 0xFF};
    assert_reply(x, want, sizeof(want), "snap7-style write reply");
    uint8_t db1[2], m5, db2[4];
    gw_s7_server_get(x->s, GW_S7_DB, 1, 10, 2, db1);
    gw_s7_server_get(x->s, GW_S7_M, 0, 5, 1, &m5);
    gw_s7_server_get(x->s, GW_S7_DB, 2, 0, 4, db2);
    assert_memory_equal(db1, b, 2);
    assert_int_equal(m5, 0);
    const uint8_t z[4] = {0};
    assert_memory_equal(db2, z, 4);
    /* one item alone: written and answered */
    n = s7_encode_write_req(buf, sizeof(buf), 0x0556, &it[2], &d[2], 1);
    assert_true(s7fx_serve(x, buf, n));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.param[1], 1);
    assert_int_equal(h.data[0], 0xFF);
    gw_s7_server_get(x->s, GW_S7_DB, 2, 0, 4, db2);
    assert_memory_equal(db2, b, 4);
    /* off again: all three answered */
    s7__server_emulate_snap7_writes(x->s, false);
    n = s7_encode_write_req(buf, sizeof(buf), 0x0557, it, d, 3);
    assert_true(s7fx_serve(x, buf, n));
    h = s7fx_reply_hdr(x);
    assert_int_equal(h.param[1], 3);
    assert_int_equal(h.data_len, 3);
    gw_s7_server_get(x->s, GW_S7_M, 0, 5, 1, &m5);
    assert_int_equal(m5, 0x08);
}

/* ------------------------------------------------------------ malformed */

static void test_malformed_close(void **state)
{
    fx *x = *state;
    uint8_t f[64];
    struct {
        const char *what;
        size_t off;
        uint8_t val;
    } t[] = {
        {"TPKT version 2", 0, 0x02},
        {"TPKT length 6", 3, 0x06},
        {"TPKT length one short", 3, 0x1E},
        {"TPKT length one long", 3, 0x20},
        {"COTP LI beyond the frame", 4, 0x40},
        {"COTP LI 0", 4, 0x00},
        {"S7 protocol id 0x72", 7, 0x72},
        {"ROSCTR 5", 8, 0x05},
        {"ROSCTR 3 from a client", 8, 0x03},
        {"parameter length beyond the PDU", 14, 0x0F},
        {"parameter length 0xFF0E", 13, 0xFF},
        {"data length beyond the PDU", 16, 0x01},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        reconnect(x, 480);
        memcpy(f, READ_REQ, sizeof(READ_REQ));
        f[t[i].off] = t[i].val;
        if (s7fx_serve(x, f, sizeof(READ_REQ))) {
            print_error("%s: connection kept\n", t[i].what);
            fail();
        }
    }
    /* TPKT length < 7 as a whole frame: 03 00 00 06 02 F0 */
    reconnect(x, 480);
    const uint8_t six[6] = {0x03, 0x00, 0x00, 0x06, 0x02, 0xF0};
    assert_false(s7fx_serve(x, six, 6));
    /* a job without parameter: not a job we can serve */
    reconnect(x, 480);
    size_t n = s7fx_job_frame(f, 9, NULL, 0, NULL, 0);
    bool kept = s7fx_serve(x, f, n);
    if (kept) { /* then it must be an error answer */
        s7_header h = s7fx_reply_hdr(x);
        assert_true(h.rosctr == S7_ACK || h.err_class != 0);
    }
}

/* Well-framed jobs whose parameter or data do not add up: an error answer,
 * and the session goes on. */
static void test_malformed_error_answer(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    uint8_t f[128], p[64];
    /* item count 2 with one item in the parameter */
    p[0] = S7_FN_READ;
    p[1] = 2;
    put_spec(p + 2, 0x10, S7_TS_BYTE, 1, 1, S7_AREA_DB, 0);
    size_t n = s7fx_job_frame(f, 0x0501, p, 14, NULL, 0);
    assert_true(s7fx_serve(x, f, n));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.pdu_ref, 0x0501);
    assert_int_not_equal(h.err_class, 0);
    assert_int_equal(h.param_len, 0);
    /* item count 0 */
    p[1] = 0;
    n = s7fx_job_frame(f, 0x0502, p, 2, NULL, 0);
    assert_true(s7fx_serve(x, f, n));
    h = s7fx_reply_hdr(x);
    assert_int_not_equal(h.err_class, 0);
    /* count 255 in a 14-byte parameter */
    p[1] = 255;
    n = s7fx_job_frame(f, 0x0503, p, 14, NULL, 0);
    assert_true(s7fx_serve(x, f, n));
    h = s7fx_reply_hdr(x);
    assert_int_not_equal(h.err_class, 0);
    /* a write whose data is shorter than its items say */
    p[0] = S7_FN_WRITE;
    p[1] = 1;
    put_spec(p + 2, 0x10, S7_TS_BYTE, 4, 1, S7_AREA_DB, 0);
    const uint8_t d[6] = {0x00, 0x04, 0x00, 0x20, 0x01, 0x02}; /* 4 bytes claimed */
    n = s7fx_job_frame(f, 0x0504, p, 14, d, sizeof(d));
    assert_true(s7fx_serve(x, f, n));
    h = s7fx_reply_hdr(x);
    assert_int_not_equal(h.err_class, 0);
    uint8_t v[4];
    gw_s7_server_get(x->s, GW_S7_DB, 1, 0, 4, v);
    assert_int_equal(v[0] | v[1], 0);
    /* a write with no data at all */
    n = s7fx_job_frame(f, 0x0505, p, 14, NULL, 0);
    assert_true(s7fx_serve(x, f, n));
    h = s7fx_reply_hdr(x);
    assert_int_not_equal(h.err_class, 0);
    /* a read parameter of one byte */
    p[0] = S7_FN_READ;
    n = s7fx_job_frame(f, 0x0506, p, 1, NULL, 0);
    assert_true(s7fx_serve(x, f, n));
    h = s7fx_reply_hdr(x);
    assert_int_not_equal(h.err_class, 0);
    /* still serving */
    const uint8_t w[2] = {0x12, 0x34};
    gw_s7_server_set(x->s, GW_S7_DB, 1, 2, 2, w);
    assert_true(s7fx_serve(x, READ_REQ, sizeof(READ_REQ)));
    assert_reply(x, READ_RSP, sizeof(READ_RSP), "read after errors");
}

/* docs 13.6: "Our server: reject n > 20 or n*12+2 != parlen with an error
 * answer". Here the count says 1 and the parameter holds 2 items. */
static void test_param_longer_than_count(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    uint8_t f[128], p[64];
    p[0] = S7_FN_READ;
    p[1] = 1;
    put_spec(p + 2, 0x10, S7_TS_BYTE, 1, 1, S7_AREA_DB, 0);
    put_spec(p + 14, 0x10, S7_TS_BYTE, 1, 1, S7_AREA_DB, 8);
    size_t n = s7fx_job_frame(f, 0x0601, p, 26, NULL, 0);
    assert_true(s7fx_serve(x, f, n));
    s7_header h = s7fx_reply_hdr(x);
    if (h.err_class == 0)
        print_error("count 1 with a 26-byte parameter was answered as %u item(s)\n",
                    h.param_len >= 2 ? h.param[1] : 0);
    assert_int_not_equal(h.err_class, 0);
}

/* docs 4: TPKT length = 7 + header + parlen + datlen; docs 12: close on
 * "lengths inconsistent". A read whose PDU carries 3 bytes more than its
 * header accounts for. */
static void test_pdu_longer_than_header(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    uint8_t f[64];
    memcpy(f, READ_REQ, sizeof(READ_REQ));
    f[sizeof(READ_REQ)] = 0xAB;
    f[sizeof(READ_REQ) + 1] = 0xCD;
    f[sizeof(READ_REQ) + 2] = 0xEF;
    size_t n = sizeof(READ_REQ) + 3;
    f[3] = (uint8_t)n;
    bool kept = s7fx_serve(x, f, n);
    bool answered_normally = false;
    if (kept && x->reply_len) {
        s7_header h = s7fx_reply_hdr(x);
        answered_normally = h.err_class == 0 && h.rosctr == S7_ACK_DATA;
    }
    if (answered_normally)
        print_error("a PDU 3 bytes longer than 10 + parlen + datlen was served\n");
    assert_false(answered_normally);
}

/* docs 6.1: "a non-S7ANY item should be answered with an item error" -
 * the other items of the request are answered. */
static void test_non_s7any_item(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    const uint8_t ab[2] = {0x5A, 0xA5};
    gw_s7_server_set(x->s, GW_S7_DB, 1, 0, 2, ab);
    uint8_t f[128], p[64];
    p[0] = S7_FN_READ;
    p[1] = 2;
    put_spec(p + 2, 0x10, S7_TS_BYTE, 2, 1, S7_AREA_DB, 0);
    put_spec(p + 14, 0xB2, S7_TS_BYTE, 2, 1, S7_AREA_DB, 0); /* 1200SYM syntax id */
    size_t n = s7fx_job_frame(f, 0x0701, p, 26, NULL, 0);
    assert_true(s7fx_serve(x, f, n));
    s7_header h = s7fx_reply_hdr(x);
    if (h.err_class != 0)
        print_error("answered with header error 0x%02X%02X instead of an item error\n",
                    h.err_class, h.err_code);
    assert_int_equal(h.err_class, 0);
    assert_int_equal(h.param[1], 2);
    s7_data d[2];
    assert_int_equal(s7_decode_data(h.data, h.data_len, 2, d), GW_OK);
    assert_int_equal(d[0].rc, 0xFF);
    assert_memory_equal(d[0].bytes, ab, 2);
    assert_true(d[1].rc != 0xFF && d[1].rc != 0x00);
}

/* ------------------------------------------------------------ userdata */

static void test_userdata(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    uint8_t f[128];
    /* SZL 0x0424 */
    size_t n = s7_encode_szl_req(f, sizeof(f), 0x0042, S7_SZL_CPU_STATE, 0);
    assert_true(s7fx_serve(x, f, n));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.rosctr, S7_USERDATA);
    assert_int_equal(h.pdu_ref, 0x0042);
    s7_userdata_param up;
    assert_int_equal(s7_decode_userdata_param(h.param, h.param_len, &up), GW_OK);
    assert_int_equal(up.method, 0x12);
    assert_int_equal(up.type_group, 0x84);
    assert_int_equal(up.subfunction, 0x01);
    assert_true(up.last);
    assert_int_equal(up.err_code, 0);
    s7_data d;
    assert_int_equal(s7_decode_data(h.data, h.data_len, 1, &d), GW_OK);
    assert_int_equal(d.dts, S7_DTS_OCTET);
    assert_int_equal(d.len, 8 + 20);
    assert_int_equal(d.bytes[0] << 8 | d.bytes[1], 0x0424);
    assert_int_equal(d.bytes[4] << 8 | d.bytes[5], 20);
    assert_int_equal(d.bytes[6] << 8 | d.bytes[7], 1);
    assert_int_equal(d.bytes[8 + 2], 0xFF);
    assert_int_equal(d.bytes[8 + 3], 0x08); /* RUN, high nibble 0 (docs 11.4) */
    gw_s7_server_set_cpu_state(x->s, GW_S7_CPU_STOP);
    assert_true(s7fx_serve(x, f, n));
    h = s7fx_reply_hdr(x);
    assert_int_equal(s7_decode_data(h.data, h.data_len, 1, &d), GW_OK);
    assert_int_equal(d.bytes[8 + 3], 0x04);

    /* an SZL we do not have: 0xD402, data 0A 00 00 00 (docs 11.2) */
    n = s7_encode_szl_req(f, sizeof(f), 0x0043, 0x0132, 4);
    assert_true(s7fx_serve(x, f, n));
    h = s7fx_reply_hdr(x);
    assert_int_equal(s7_decode_userdata_param(h.param, h.param_len, &up), GW_OK);
    assert_int_equal(up.err_code, 0xD402);
    const uint8_t notavail[4] = {0x0A, 0x00, 0x00, 0x00};
    assert_int_equal(h.data_len, 4);
    assert_memory_equal(h.data, notavail, 4);

    /* another function group (PBC BSEND, 0x46; block functions are served:
     * test_server_blocks.c): 0x8104 */
    n = s7_encode_szl_req(f, sizeof(f), 0x0044, 0x0011, 0);
    f[S7_FRAME_HDR + 10 + 5] = 0x46;
    assert_true(s7fx_serve(x, f, n));
    h = s7fx_reply_hdr(x);
    assert_int_equal(s7_decode_userdata_param(h.param, h.param_len, &up), GW_OK);
    assert_int_equal(up.err_code, 0x8104);

    /* SZL data cut short: claims 4 bytes of id/index, has 2 */
    n = s7_encode_szl_req(f, sizeof(f), 0x0045, 0x0011, 0);
    f[S7_FRAME_HDR + 10 + 8 + 3] = 0x02;
    assert_true(s7fx_serve(x, f, n));
    h = s7fx_reply_hdr(x);
    assert_int_equal(s7_decode_userdata_param(h.param, h.param_len, &up), GW_OK);
    assert_int_not_equal(up.err_code, 0);

    /* SZL 0x001C (10 records of 34 bytes) on a PDU-240 session: in
     * parts, each within the PDU, the first "more follows" under the
     * sequence number the server assigns (docs 11.8; the part by part
     * checks are in test_server_szl.c) */
    n = s7fx_setup_frame(f, 0x0047, 1, 1, 240);
    assert_true(s7fx_serve(x, f, n));
    n = s7_encode_szl_req(f, sizeof(f), 0x0048, S7_SZL_COMPONENTS, 0);
    assert_true(s7fx_serve(x, f, n));
    h = s7fx_reply_hdr(x);
    assert_true(x->reply_len - S7_FRAME_HDR <= 240);
    assert_int_equal(s7_decode_userdata_param(h.param, h.param_len, &up), GW_OK);
    assert_int_equal(up.err_code, 0);
    assert_false(up.last);
    assert_int_not_equal(up.seq, 0);
    assert_int_equal(s7_decode_data(h.data, h.data_len, 1, &d), GW_OK);
    uint16_t rl = (uint16_t)(d.bytes[4] << 8 | d.bytes[5]);
    uint16_t cnt = (uint16_t)(d.bytes[6] << 8 | d.bytes[7]);
    assert_int_equal(rl, 34);
    assert_int_equal(cnt, 10); /* the whole list's count */
    size_t got = d.len;
    uint8_t seq = up.seq;
    for (int parts = 1; !up.last; parts++) {
        assert_true(parts < 8);
        n = s7_encode_szl_next_req(f, sizeof(f), (uint16_t)(0x0100 + parts), seq);
        assert_true(s7fx_serve(x, f, n));
        h = s7fx_reply_hdr(x);
        assert_true(x->reply_len - S7_FRAME_HDR <= 240);
        assert_int_equal(s7_decode_userdata_param(h.param, h.param_len, &up), GW_OK);
        assert_int_equal(up.err_code, 0);
        assert_int_equal(up.seq, seq);
        assert_int_equal(s7_decode_data(h.data, h.data_len, 1, &d), GW_OK);
        got += d.len;
    }
    assert_int_equal(got, 8u + 34u * 10u);

    /* a userdata parameter that is not one: an Ack_Data with 0x8404 the
     * client can read, and the connection stays */
    n = s7_encode_szl_req(f, sizeof(f), 0x0046, 0x0011, 0);
    f[S7_FRAME_HDR + 10 + 3] = 0x20; /* parameter length 32 of 8 */
    assert_true(s7fx_serve(x, f, n));
    h = s7fx_reply_hdr(x);
    assert_int_equal(h.rosctr, S7_ACK_DATA);
    assert_int_equal(h.pdu_ref, 0x0046);
    assert_int_equal(h.err_class, 0x84);
    assert_int_equal(h.err_code, 0x04);
}

/* docs/s7comm.md 11.2: python-snap7's client sends the SZL request data as
 * 0A 00 00 04 + ID + index where snap7's sends FF 09 00 04; a CPU and
 * snap7's server answer both. The answer is the same byte for byte. */
static void test_szl_python_snap7(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    assert_true(s7fx_serve(x, SZL11_REQ, sizeof(SZL11_REQ)));
    uint8_t want[512];
    size_t want_len = x->reply_len;
    memcpy(want, x->reply, want_len);
    s7_header h = s7fx_reply_hdr(x);
    s7_userdata_param up;
    assert_int_equal(s7_decode_userdata_param(h.param, h.param_len, &up), GW_OK);
    assert_int_equal(up.err_code, 0);
    assert_int_equal(h.pdu_ref, 0x0003);
    assert_int_equal(h.data[0], 0xFF);
    assert_int_equal(h.data[1], 0x09);
    assert_int_equal(h.data[4] << 8 | h.data[5], 0x0011);

    assert_true(s7fx_serve(x, SZL11_REQ_PYSNAP7, sizeof(SZL11_REQ_PYSNAP7)));
    assert_reply(x, want, want_len, "answer to python-snap7's SZL 0x0011 request");

    /* other header bytes, and SZL 0x0424, the same way */
    uint8_t f[64], g[64];
    size_t n = s7_encode_szl_req(f, sizeof(f), 0x0061, S7_SZL_CPU_STATE, 0);
    assert_true(s7fx_serve(x, f, n));
    want_len = x->reply_len;
    memcpy(want, x->reply, want_len);
    static const uint8_t heads[][2] = {{0x0A, 0x00}, {0x00, 0x00}, {0xFF, 0x04}, {0x12, 0x34}};
    for (size_t k = 0; k < sizeof(heads) / sizeof(heads[0]); k++) {
        memcpy(g, f, n);
        g[S7_FRAME_HDR + 10 + 8] = heads[k][0];
        g[S7_FRAME_HDR + 10 + 8 + 1] = heads[k][1];
        assert_true(s7fx_serve(x, g, n));
        assert_reply(x, want, want_len, "SZL 0x0424 with another data header");
    }
    /* the length is still checked: 0A 00 00 02 is cut short */
    memcpy(g, SZL11_REQ_PYSNAP7, sizeof(SZL11_REQ_PYSNAP7));
    g[S7_FRAME_HDR + 10 + 8 + 3] = 0x02;
    assert_true(s7fx_serve(x, g, sizeof(SZL11_REQ_PYSNAP7)));
    h = s7fx_reply_hdr(x);
    assert_int_equal(s7_decode_userdata_param(h.param, h.param_len, &up), GW_OK);
    assert_int_not_equal(up.err_code, 0);
    /* and an SZL we do not have stays 0xD402 */
    memcpy(g, SZL11_REQ_PYSNAP7, sizeof(SZL11_REQ_PYSNAP7));
    g[S7_FRAME_HDR + 10 + 8 + 4] = 0x01;
    g[S7_FRAME_HDR + 10 + 8 + 5] = 0x32;
    assert_true(s7fx_serve(x, g, sizeof(SZL11_REQ_PYSNAP7)));
    h = s7fx_reply_hdr(x);
    assert_int_equal(s7_decode_userdata_param(h.param, h.param_len, &up), GW_OK);
    assert_int_equal(up.err_code, 0xD402);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Reads one SZL through the server; returns the parameter's error code and
 * leaves the answer's data part (from the SZL-ID on) in *d. */
static uint16_t szl_read(fx *x, uint16_t ref, uint16_t id, uint16_t index, s7_data *d)
{
    uint8_t f[64];
    size_t n = s7_encode_szl_req(f, sizeof(f), ref, id, index);
    assert_true(s7fx_serve(x, f, n));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.rosctr, S7_USERDATA);
    assert_int_equal(h.pdu_ref, ref);
    s7_userdata_param up;
    assert_int_equal(s7_decode_userdata_param(h.param, h.param_len, &up), GW_OK);
    if (up.err_code) {
        const uint8_t notavail[4] = {0x0A, 0x00, 0x00, 0x00};
        assert_int_equal(h.data_len, 4);
        assert_memory_equal(h.data, notavail, 4);
        return up.err_code;
    }
    assert_true(up.last);
    assert_int_equal(s7_decode_data(h.data, h.data_len, 1, d), GW_OK);
    assert_int_equal(d->dts, S7_DTS_OCTET);
    assert_true(d->len >= 8);
    assert_int_equal(get16(d->bytes), id);
    assert_int_equal(get16(d->bytes + 2), index);
    /* LENTHDR x N_DR is exactly the records that follow; a 0x0Fxx list
     * is the header alone */
    if ((id & 0xFF00) == 0x0F00)
        assert_int_equal(d->len, 8u);
    else
        assert_int_equal(d->len, 8u + (size_t)get16(d->bytes + 4) * get16(d->bytes + 6));
    return 0;
}

/* docs/s7comm.md 11.5-11.7: the list of lists, 0x0131 and 0x0232. */
static void test_szl_lists(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    s7_data d;
    /* 0x0000: 2-byte records, each an SZL-ID this server answers */
    assert_int_equal(szl_read(x, 0x0070, 0x0000, 0x0000, &d), 0);
    assert_int_equal(get16(d.bytes + 4), 2);
    uint16_t n = get16(d.bytes + 6);
    static const uint16_t want[] = {0x0000, 0x0011, 0x001C, 0x0074, 0x00A0, 0x0111,
                                    0x011C, 0x0131, 0x0174, 0x01A0, 0x0232, 0x0424,
                                    0x0F00, 0x0F11, 0x0F1C, 0x0F74, 0x0FA0};
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    uint8_t list[64]; /* d points into the reply, which the next read reuses */
    memcpy(list, d.bytes + 8, 2u * n);
    for (uint16_t k = 0; k < n; k++) {
        uint16_t id = get16(list + 2 * k);
        assert_int_equal(id, want[k]);
        /* every listed ID is served (with the index a client reads) */
        uint16_t idx = id == 0x0131 || id == 0x0232 || id == 0x0111 || id == 0x011C ||
                       id == 0x0174 ? 1 : 0;
        s7_data e;
        assert_int_equal(szl_read(x, (uint16_t)(0x0100 + k), id, idx, &e), 0);
    }

    /* 0x0131 index 1: one 40-byte record, PDU and connection limits */
    assert_int_equal(szl_read(x, 0x0071, 0x0131, 0x0001, &d), 0);
    assert_int_equal(get16(d.bytes + 4), 40);
    assert_int_equal(get16(d.bytes + 6), 1);
    const uint8_t *r = d.bytes + 8;
    assert_int_equal(get16(r), 0x0001);
    assert_int_equal(get16(r + 2), 960); /* the configured maximum */
    assert_int_equal(get16(r + 4), 8);   /* max_clients default */
    /* an index without a record: the "not available" answer */
    assert_int_equal(szl_read(x, 0x0072, 0x0131, 0x0000, &d), 0xD402);
    assert_int_equal(szl_read(x, 0x0073, 0x0131, 0x0005, &d), 0xD402);

    /* 0x0232 index 4: protection level 1, no password, bart_sch RUN_P */
    assert_int_equal(szl_read(x, 0x0074, 0x0232, 0x0004, &d), 0);
    assert_int_equal(get16(d.bytes + 4), 40);
    assert_int_equal(get16(d.bytes + 6), 1);
    r = d.bytes + 8;
    assert_int_equal(get16(r), 0x0004);
    assert_int_equal(get16(r + 2), 1); /* key */
    assert_int_equal(get16(r + 4), 0); /* param: no password assigned */
    assert_int_equal(get16(r + 6), 1); /* real: protection level 1 */
    assert_int_equal(get16(r + 8), 2); /* RUN_P */
    gw_s7_server_set_cpu_state(x->s, GW_S7_CPU_STOP);
    assert_int_equal(szl_read(x, 0x0075, 0x0232, 0x0004, &d), 0);
    assert_int_equal(get16(d.bytes + 8 + 8), 3); /* STOP */
    gw_s7_server_set_cpu_state(x->s, GW_S7_CPU_RUN);
    /* 0x0232 index 1: free connections (none connected: not started) */
    assert_int_equal(szl_read(x, 0x0076, 0x0232, 0x0001, &d), 0);
    r = d.bytes + 8;
    assert_int_equal(get16(r), 0x0001);
    assert_int_equal(get16(r + 16), 8);
    assert_int_equal(get16(r + 18), 0);
    assert_int_equal(szl_read(x, 0x0077, 0x0232, 0x0002, &d), 0xD402);
    assert_int_equal(szl_read(x, 0x0078, 0x0132, 0x0004, &d), 0xD402);

    /* the smallest PDU still holds every one of them whole */
    uint8_t f[64];
    size_t fl = s7fx_setup_frame(f, 0x0079, 1, 1, 240);
    assert_true(s7fx_serve(x, f, fl));
    assert_int_equal(szl_read(x, 0x007A, 0x0000, 0x0000, &d), 0);
    assert_int_equal(get16(d.bytes + 6), sizeof(want) / sizeof(want[0]));
    assert_int_equal(szl_read(x, 0x007B, 0x0131, 0x0001, &d), 0);
    assert_int_equal(get16(d.bytes + 8 + 2), 960);
}

/* ------------------------------------------------------------ fragments */

static void test_fragmented_dt(void **state)
{
    fx *x = *state;
    connect_pdu(x, 480);
    const uint8_t w[2] = {0x12, 0x34};
    gw_s7_server_set(x->s, GW_S7_DB, 1, 2, 2, w);
    /* READ_REQ's 24-byte PDU in two DTs: 10 bytes without EOT, then 14 */
    size_t pl = sizeof(READ_REQ) - 7;
    uint8_t f1[32], f2[32];
    memcpy(f1 + 7, READ_REQ + 7, 10);
    s7_frame_dt(f1, 10);
    f1[6] = 0x00; /* TPDU 0, not last */
    memcpy(f2 + 7, READ_REQ + 17, pl - 10);
    s7_frame_dt(f2, pl - 10);
    f2[6] = 0x81; /* TPDU 1, last */
    assert_true(s7fx_serve(x, f1, 17));
    assert_int_equal(x->reply_len, 0);
    assert_true(s7fx_serve(x, f2, 7 + pl - 10));
    assert_reply(x, READ_RSP, sizeof(READ_RSP), "read from two DTs");
    /* the fast-acknowledge empty DT without EOT, then the whole request */
    const uint8_t fast_ack[7] = {0x03, 0x00, 0x00, 0x07, 0x02, 0xF0, 0x00};
    assert_true(s7fx_serve(x, fast_ack, 7));
    assert_int_equal(x->reply_len, 0);
    assert_true(s7fx_serve(x, READ_REQ, sizeof(READ_REQ)));
    assert_reply(x, READ_RSP, sizeof(READ_RSP), "read after an empty DT");
    /* fragments adding up to more than any PDU: close */
    uint8_t big[7 + 600];
    memset(big, 0x32, sizeof(big));
    s7_frame_dt(big, 600);
    big[6] = 0x00;
    bool kept = s7fx_serve(x, big, sizeof(big));
    if (kept)
        kept = s7fx_serve(x, big, sizeof(big));
    assert_false(kept);
}

/* Every truncation and many mutations of valid frames: no crash, no read
 * out of bounds (ASan), every answer a whole TPKT packet (serve checks). */
static void test_cut_and_mutated_frames(void **state)
{
    fx *x = *state;
    uint8_t wf[256];
    s7_item wit[3] = {{S7_TS_BYTE, 3, 1, S7_AREA_DB, 8}, {S7_TS_BIT, 1, 0, S7_AREA_M, 83},
                      {S7_TS_REAL, 1, 2, S7_AREA_DB, 0}};
    const uint8_t b4[4] = {1, 2, 3, 4}, one = 1;
    s7_data wd[3] = {{0, S7_DTS_BYTE, b4, 3}, {0, S7_DTS_BIT, &one, 1}, {0, S7_DTS_REAL, b4, 4}};
    size_t wn = s7_encode_write_req(wf, sizeof(wf), 7, wit, wd, 3);
    uint8_t sf[64];
    size_t sn = s7_encode_szl_req(sf, sizeof(sf), 8, 0x0011, 0);
    const struct {
        const uint8_t *b;
        size_t n;
    } frames[] = {{READ_REQ, sizeof(READ_REQ)}, {WRITE_BIT_REQ, sizeof(WRITE_BIT_REQ)},
                  {wf, wn}, {sf, sn}, {CR_SNAP7, sizeof(CR_SNAP7)}};
    uint8_t f[512];
    for (size_t k = 0; k < sizeof(frames) / sizeof(frames[0]); k++) {
        for (size_t cut = 0; cut < frames[k].n; cut++) {
            reconnect(x, 480);
            memcpy(f, frames[k].b, cut);
            if (cut >= 4) { /* the TPKT length agrees with the cut */
                f[2] = (uint8_t)(cut >> 8);
                f[3] = (uint8_t)cut;
            }
            s7fx_serve(x, f, cut);
        }
    }
    uint32_t seed = 777;
#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7FFF)
    for (int iter = 0; iter < 4000; iter++) {
        if (iter % 50 == 0 || !x->keep) {
            reconnect(x, RND() % 2 ? 240 : 960);
        }
        size_t k = RND() % 4;
        size_t n = frames[k].n;
        memcpy(f, frames[k].b, n);
        int flips = 1 + RND() % 4;
        for (int j = 0; j < flips; j++) {
            size_t pos = 7 + RND() % (n - 7); /* keep TPKT/DT mostly valid */
            f[pos] = (uint8_t)RND();
        }
        if (RND() % 8 == 0) { /* sometimes grow or shrink the frame */
            size_t extra = RND() % 40;
            size_t m = RND() % 2 ? n + extra : (n > extra + 7 ? n - extra : n);
            if (m > n)
                memset(f + n, (int)RND(), m - n);
            f[2] = (uint8_t)(m >> 8);
            f[3] = (uint8_t)m;
            n = m;
        }
        s7fx_serve(x, f, n);
    }
#undef RND
}

/* ------------------------------------------------------------ sockets */

static gw_s7_server *started(void)
{
    gw_s7_server *s = new_server(0);
    s7fx_start(s);
    return s;
}

static int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void raw_send(int fd, const uint8_t *b, size_t n)
{
    assert_int_equal(send(fd, b, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Reads one TPKT packet: its length, 0 when the server closed, -1 on
 * timeout. */
static long raw_recv(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
    size_t have = 0, want = 4;
    uint64_t deadline = gw_mono_ms() + (uint64_t)timeout_ms;
    while (have < want) {
        uint64_t now = gw_mono_ms();
        if (now >= deadline)
            return -1;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)(deadline - now)) <= 0)
            return -1;
        ssize_t n = recv(fd, buf + have, want - have, 0);
        if (n <= 0)
            return 0;
        have += (size_t)n;
        if (have == 4) {
            want = (size_t)(buf[2] << 8 | buf[3]);
            assert_true(want >= 7 && want <= cap);
        }
    }
    return (long)have;
}

static void sock_connect(int fd)
{
    uint8_t buf[256];
    raw_send(fd, CR_SNAP7, sizeof(CR_SNAP7));
    assert_int_equal(raw_recv(fd, buf, sizeof(buf), 2000), 22);
    assert_int_equal(buf[5], 0xD0);
    uint8_t f[64];
    size_t n = s7fx_setup_frame(f, 1, 1, 1, 480);
    raw_send(fd, f, n);
    assert_int_equal(raw_recv(fd, buf, sizeof(buf), 2000), 27);
}

static void test_socket_closes(void **state)
{
    (void)state;
    gw_s7_server *s = started();
    uint16_t port = gw_s7_server_port(s);
    uint8_t buf[256];
    /* a job before the CR */
    int fd = raw_connect(port);
    raw_send(fd, READ_REQ, sizeof(READ_REQ));
    assert_int_equal(raw_recv(fd, buf, sizeof(buf), 2000), 0);
    close(fd);
    /* bad TPKT version */
    fd = raw_connect(port);
    sock_connect(fd);
    uint8_t f[64];
    memcpy(f, READ_REQ, sizeof(READ_REQ));
    f[0] = 0x04;
    raw_send(fd, f, sizeof(READ_REQ));
    assert_int_equal(raw_recv(fd, buf, sizeof(buf), 2000), 0);
    close(fd);
    /* TPKT length 5 */
    fd = raw_connect(port);
    sock_connect(fd);
    const uint8_t five[7] = {0x03, 0x00, 0x00, 0x05, 0x02, 0xF0, 0x80};
    raw_send(fd, five, sizeof(five));
    assert_int_equal(raw_recv(fd, buf, sizeof(buf), 2000), 0);
    close(fd);
    /* DR: a DC, then the close */
    fd = raw_connect(port);
    sock_connect(fd);
    size_t n = s7_cotp_encode_dr(f, sizeof(f), SESSION_REF, 0x0001, 0x80);
    raw_send(fd, f, n);
    assert_int_equal(raw_recv(fd, buf, sizeof(buf), 2000), 10);
    assert_int_equal(buf[5], 0xC0);
    assert_int_equal(buf[6] << 8 | buf[7], 0x0001);
    assert_int_equal(raw_recv(fd, buf, sizeof(buf), 2000), 0);
    close(fd);
    /* all gone on the server side */
    uint64_t deadline = gw_mono_ms() + 2000;
    while (gw_s7_server_clients(s) && gw_mono_ms() < deadline)
        usleep(1000);
    assert_int_equal(gw_s7_server_clients(s), 0);
    gw_s7_server_free(s);
}

static void test_socket_stream(void **state)
{
    (void)state;
    gw_s7_server *s = started();
    uint16_t port = gw_s7_server_port(s);
    const uint8_t w[2] = {0x12, 0x34};
    gw_s7_server_set(s, GW_S7_DB, 1, 2, 2, w);
    uint8_t buf[256], f[256];
    /* CR, setup and a read in one send */
    int fd = raw_connect(port);
    size_t n = 0;
    memcpy(f, CR_SNAP7, sizeof(CR_SNAP7));
    n += sizeof(CR_SNAP7);
    n += s7fx_setup_frame(f + n, 1, 1, 1, 240);
    memcpy(f + n, READ_REQ, sizeof(READ_REQ));
    n += sizeof(READ_REQ);
    raw_send(fd, f, n);
    assert_int_equal(raw_recv(fd, buf, sizeof(buf), 2000), 22);
    assert_int_equal(raw_recv(fd, buf, sizeof(buf), 2000), 27);
    assert_int_equal(raw_recv(fd, buf, sizeof(buf), 2000), sizeof(READ_RSP));
    assert_memory_equal(buf, READ_RSP, sizeof(READ_RSP));
    /* a read sent byte by byte */
    for (size_t i = 0; i < sizeof(READ_REQ); i++) {
        raw_send(fd, READ_REQ + i, 1);
        if (i + 1 < sizeof(READ_REQ))
            assert_int_equal(raw_recv(fd, buf, sizeof(buf), 2), -1);
    }
    assert_int_equal(raw_recv(fd, buf, sizeof(buf), 2000), sizeof(READ_RSP));
    assert_memory_equal(buf, READ_RSP, sizeof(READ_RSP));
    /* 21 items: a header error over the wire, the connection stays */
    s7_item it[21];
    for (int i = 0; i < 21; i++)
        it[i] = (s7_item){S7_TS_BYTE, 1, 1, S7_AREA_DB, 8u * (uint32_t)i};
    uint8_t big[512];
    n = s7_encode_read_req(big, sizeof(big), 0x0123, it, 21);
    raw_send(fd, big, n);
    long got = raw_recv(fd, buf, sizeof(buf), 2000);
    assert_int_equal(got, 19);
    assert_int_equal(buf[7 + 1], S7_ACK_DATA);
    assert_int_equal(buf[7 + 10], 0x85);
    /* a bad client does not disturb a good one */
    int bad = raw_connect(port);
    raw_send(bad, (const uint8_t *)"GET / HTTP/1.0\r\n\r\n", 18);
    assert_int_equal(raw_recv(bad, buf, sizeof(buf), 2000), 0);
    close(bad);
    raw_send(fd, READ_REQ, sizeof(READ_REQ));
    assert_int_equal(raw_recv(fd, buf, sizeof(buf), 2000), sizeof(READ_RSP));
    close(fd);
    gw_s7_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_job_before_cr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cr_cc, setup, teardown),
        cmocka_unit_test(test_cc_tpdu_and_tsaps),
        cmocka_unit_test_setup_teardown(test_dr_dc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dc_and_other_tpdus_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setup_negotiation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_before_setup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_function, setup, teardown),
        cmocka_unit_test_setup_teardown(test_doc_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_transport_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_item_limits, setup, teardown),
        cmocka_unit_test(test_item_limits_default),
        cmocka_unit_test_setup_teardown(test_item_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bit_count_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snap7_write_emulation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_error_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_param_longer_than_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pdu_longer_than_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_s7any_item, setup, teardown),
        cmocka_unit_test_setup_teardown(test_userdata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_szl_python_snap7, setup, teardown),
        cmocka_unit_test_setup_teardown(test_szl_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fragmented_dt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_and_mutated_frames, setup, teardown),
        cmocka_unit_test(test_socket_closes),
        cmocka_unit_test(test_socket_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
