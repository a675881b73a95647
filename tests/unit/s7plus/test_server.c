/*
 * test_server.c - the S7CommPlus V1 server (s7plus.h, s7p_server.c): the
 * V1 session of the protocol facts (S5, python-snap7's client against its
 * emulator) replayed through the session function and answered with the
 * emulator's bytes; several items with one failing; past the end; Explore
 * in both name forms; distinct session ids; fragmented requests; every
 * kind of malformed input answered with the Error answer or a clean close;
 * a stopped CPU still served; and real sockets on 127.0.0.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/s7plus/s7p_server_internal.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* S3: the ObjectQualifier, py7 form */
#define OQ                                                                                   \
    0x00, 0x00, 0x04, 0xe8, 0x89, 0x69, 0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x89, 0x6a, 0x00, \
        0x13, 0x00, 0x89, 0x6b, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00

/* S1: python-snap7's COTP CR and the emulator's CC */
static const uint8_t CR[] = {0x03, 0x00, 0x00, 0x24, 0x1f, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00,
                             0xc1, 0x02, 0x06, 0x00, 0xc2, 0x10, 'S',  'I',  'M',  'A',  'T',
                             'I',  'C',  '-',  'R',  'O',  'O',  'T',  '-',  'H',  'M',  'I',
                             0xc0, 0x01, 0x0a};
static const uint8_t CC[] = {0x03, 0x00, 0x00, 0x0e, 0x09, 0xd0, 0x00, 0x01,
                             0x00, 0x01, 0x00, 0xc0, 0x01, 0x0a};

/* ---------------------------------------------------------------- fixture */

typedef struct {
    gw_s7_server *mem;
    gw_s7p_server *srv;
    int writes;
    gw_s7_write_event last;
    uint8_t last_after[64];
    char last_peer[64];
} fix;

static void on_write(void *user, const gw_s7_write_event *ev)
{
    fix *f = user;
    f->writes++;
    f->last = *ev;
    memcpy(f->last_after, ev->after, ev->len < 64 ? ev->len : 64);
    snprintf(f->last_peer, sizeof(f->last_peer), "%s", ev->peer);
}

static fix *fix_new(const s7p_opts *forms, bool split)
{
    fix *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    gw_s7_server_opts so = {0};
    so.host = "127.0.0.1";
    so.on_write = on_write;
    so.user = f;
    assert_int_equal(gw_s7_server_new(&so, &f->mem, NULL), GW_OK);
    assert_int_equal(gw_s7_server_add_area(f->mem, GW_S7_DB, 1, 24), GW_OK);
    assert_int_equal(gw_s7_server_add_area(f->mem, GW_S7_DB, 3, 10), GW_OK);
    assert_int_equal(gw_s7_server_add_area(f->mem, GW_S7_DB, 2, 26), GW_OK);
    assert_int_equal(gw_s7_server_add_area(f->mem, GW_S7_M, 0, 16), GW_OK);
    static const uint8_t v[] = {0x41, 0xbc, 0x00, 0x00}; /* 23.5, S5 */
    assert_int_equal(gw_s7_server_set(f->mem, GW_S7_DB, 1, 0, 4, v), GW_OK);
    gw_s7p_server_opts po = {0};
    po.host = "127.0.0.1";
    po.memory = f->mem;
    po.split_tpdu = split;
    if (forms)
        po.forms = *forms;
    assert_int_equal(gw_s7p_server_new(&po, &f->srv, NULL), GW_OK);
    return f;
}

static void fix_free(fix *f)
{
    gw_s7p_server_free(f->srv);
    gw_s7_server_free(f->mem);
    free(f);
}

/* ---------------------------------------------------------------- bytes */

typedef struct {
    uint8_t b[300000];
    size_t n;
} buf;

/* A TPKT + COTP DT carrying a frame 72 vv LL LL pdu [72 vv 00 00]. */
static size_t packet(uint8_t *out, uint8_t vv, const uint8_t *data, size_t n, bool last)
{
    size_t fl = 4 + n + (last ? 4 : 0);
    size_t total = 7 + fl;
    out[0] = 3;
    out[1] = 0;
    out[2] = (uint8_t)(total >> 8);
    out[3] = (uint8_t)total;
    out[4] = 2;
    out[5] = 0xf0;
    out[6] = 0x80;
    out[7] = 0x72;
    out[8] = vv;
    out[9] = (uint8_t)(n >> 8);
    out[10] = (uint8_t)n;
    memcpy(out + 11, data, n);
    if (last) {
        out[11 + n] = 0x72;
        out[12 + n] = vv;
        out[13 + n] = 0;
        out[14 + n] = 0;
    }
    return total;
}

/* The answer's TPKT packets, each a COTP DT with one frame, joined into
 * one PDU (rsp); returns the number of packets. Fails the test on any
 * malformed packet. max_tpkt: the largest packet allowed. */
static size_t join_answer(const uint8_t *p, size_t n, buf *rsp, size_t max_tpkt)
{
    static uint8_t ra_buf[300000];
    s7p_reasm ra;
    s7p_reasm_init(&ra, ra_buf, sizeof(ra_buf));
    size_t off = 0, packets = 0;
    rsp->n = 0;
    bool whole = false;
    while (off < n) {
        assert_true(n - off >= 7);
        size_t tl = ((size_t)p[off + 2] << 8) | p[off + 3];
        assert_int_equal(p[off], 3);
        assert_true(tl >= 7 && tl <= n - off && tl <= max_tpkt);
        assert_int_equal(p[off + 5], 0xf0);
        assert_int_equal(p[off + 6], 0x80);
        s7p_frame f;
        bool done;
        assert_int_equal(s7p_reasm_feed(&ra, p + off + 7, tl - 7, &f, &done), GW_OK);
        if (done) {
            assert_int_equal(f.vv, S7P_V1);
            assert_false(whole);
            assert_true(f.data_len <= sizeof(rsp->b));
            memcpy(rsp->b, f.data, f.data_len);
            rsp->n = f.data_len;
            whole = true;
        }
        off += tl;
        packets++;
    }
    assert_true(whole);
    return packets;
}

/* One request PDU in one frame (vv) through the session; the answer PDU. */
static void ask(fix *f, s7p_session *c, uint8_t vv, const uint8_t *pdu, size_t n, buf *rsp)
{
    static uint8_t pk[70000];
    size_t pl = packet(pk, vv, pdu, n, true);
    const uint8_t *reply;
    size_t rl;
    assert_true(s7p__serve_packet(f->srv, c, pk, pl, &reply, &rl));
    join_answer(reply, rl, rsp, 65535);
}

static bool contains(const uint8_t *p, size_t n, const uint8_t *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(p + i, needle, m) == 0)
            return true;
    return false;
}

static void expect(const buf *rsp, const uint8_t *want, size_t n)
{
    if (rsp->n != n || memcmp(rsp->b, want, n) != 0) {
        fprintf(stderr, "got %zu bytes:", rsp->n);
        for (size_t i = 0; i < rsp->n && i < 200; i++)
            fprintf(stderr, " %02x", rsp->b[i]);
        fprintf(stderr, "\n");
    }
    assert_int_equal(rsp->n, n);
    assert_memory_equal(rsp->b, want, n);
}

static s7p_session *connect_session(fix *f)
{
    s7p_session *c;
    assert_int_equal(s7p__session_new(f->srv, "127.0.0.1:4711", &c), GW_OK);
    const uint8_t *reply;
    size_t rl;
    assert_true(s7p__serve_packet(f->srv, c, CR, sizeof(CR), &reply, &rl));
    assert_int_equal(rl, sizeof(CC));
    assert_memory_equal(reply, CC, sizeof(CC));
    return c;
}

/* CreateObject as python-snap7 sends it (S5.3, the codec's encoder). */
static uint32_t create(fix *f, s7p_session *c, uint16_t seq)
{
    uint8_t pdu[512];
    s7p_w w;
    s7p_w_init(&w, pdu, sizeof(pdu));
    s7p_hdr h = {S7P_OP_REQUEST, S7P_FN_CREATE_OBJECT, seq, 288, 0x36};
    s7p_put_hdr(&w, &h);
    s7p_createobj_req_encode_session(&w, NULL);
    assert_true(s7p_w_ok(&w));
    buf rsp;
    ask(f, c, 1, pdu, w.len, &rsp);
    s7p_hdr rh;
    const uint8_t *p;
    size_t pl;
    assert_int_equal(s7p_hdr_decode(rsp.b, rsp.n, &rh, &p, &pl), GW_OK);
    assert_int_equal(rh.function, S7P_FN_CREATE_OBJECT);
    s7p_createobj_rsp cr;
    assert_int_equal(s7p_createobj_rsp_decode(p, pl, NULL, &cr), GW_OK);
    assert_true(cr.has_version);
    assert_int_equal(cr.session_id, s7p__session_id(c));
    return cr.session_id;
}

/* A GetMulti of n DB ranges (py7 addresses); the answer payload. */
static void getmulti(fix *f, s7p_session *c, const s7p_opts *o, const uint16_t *db,
                     const uint32_t *start, const uint32_t *len, uint32_t n, buf *rsp)
{
    static uint8_t pdu[65000];
    s7p_addr a[64];
    for (uint32_t k = 0; k < n; k++)
        assert_int_equal(s7p_addr_db(o, db[k], start[k], len[k], &a[k]), GW_OK);
    s7p_w w;
    s7p_w_init(&w, pdu, sizeof(pdu));
    s7p_hdr h = {S7P_OP_REQUEST, S7P_FN_GET_MULTI, 7, s7p__session_id(c), 0x34};
    s7p_put_hdr(&w, &h);
    s7p_tail t = {false, false, true, 1};
    s7p_getmulti_req_encode(&w, o, a, n, &t);
    assert_true(s7p_w_ok(&w));
    ask(f, c, 1, pdu, w.len, rsp);
}

/* ---------------------------------------------------------------- S5 session */

static void test_s5_session(void **state)
{
    (void)state;
    fix *f = fix_new(NULL, false);
    s7p_session *c = connect_session(f);
    buf rsp;

    /* S5.2 InitSSL */
    static const uint8_t initssl[] = {0x31, 0, 0, 0x05, 0xb3, 0, 0, 0, 0, 0, 0, 0, 0, 0x30,
                                      0, 0, 0, 0};
    static const uint8_t initssl_rsp[] = {0x32, 0, 0, 0x05, 0xb3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    ask(f, c, 1, initssl, sizeof(initssl), &rsp);
    expect(&rsp, initssl_rsp, sizeof(initssl_rsp));

    /* S5.3 CreateObject: the emulator's answer (S4), session 1 */
    uint8_t pdu[512];
    s7p_w w;
    s7p_w_init(&w, pdu, sizeof(pdu));
    static const uint8_t co_hdr[] = {0x31, 0, 0, 0x04, 0xca, 0, 0, 0, 1, 0, 0, 1, 0x20, 0x36};
    s7p_put_bytes(&w, co_hdr, sizeof(co_hdr));
    s7p_createobj_req_encode_session(&w, NULL);
    ask(f, c, 1, pdu, w.len, &rsp);
    static const uint8_t co_rsp[] = {
        0x32, 0, 0, 0x04, 0xca, 0, 0, 0, 1, 0,                  /* header */
        0x00, 0x01, 0x01,                                       /* RV, 1 id: session 1 */
        0xa1, 0, 0, 0, 1, 0, 0, 0,                              /* object */
        0xa3, 0x82, 0x31, 0x00, 0x04, 0x01,                     /* 305 UDInt 1 */
        0xa3, 0x82, 0x32, 0x00, 0x02, 0x01,                     /* 306 USInt 1 */
        0xa3, 0x82, 0x32, 0x00, 0x04, 0x01,                     /* 306 UDInt 1 */
        0xa2, 0, 0, 0, 0};
    expect(&rsp, co_rsp, sizeof(co_rsp));
    assert_int_equal(s7p__session_id(c), 1);

    /* S5.4 session setup in a 72 02 frame */
    static const uint8_t setup[] = {0x31, 0, 0, 0x05, 0x42, 0, 0, 0, 2, 0, 0, 0, 1, 0x34,
                                    0, 0, 0, 1, 0x01, 0x01, 0x82, 0x32, 0x01, 0x00, 0x04, 0x01,
                                    0x00, OQ, 0, 0, 0, 0};
    static const uint8_t setup_rsp[] = {0x32, 0, 0, 0x05, 0x42, 0, 0, 0, 2, 0, 0, 0, 0};
    ask(f, c, 2, setup, sizeof(setup), &rsp);
    expect(&rsp, setup_rsp, sizeof(setup_rsp));

    /* S5.5 absolute read of DB1 bytes 0..3 */
    static const uint8_t rd[] = {0x31, 0, 0, 0x05, 0x4c, 0, 0, 0, 4, 0, 0, 0, 1, 0x34,
                                 0, 0, 0, 0, 0x01, 0x06, 0x00, 0x88, 0xd0, 0xb8, 0x80, 0x01,
                                 0x03, 0x93, 0x76, 0x01, 0x04, OQ, 0x01, 0, 0, 0, 0};
    static const uint8_t rd_rsp[] = {0x32, 0, 0, 0x05, 0x4c, 0, 0, 0, 4, 0,
                                     0x00, 0x01, 0x00, 0x14, 0x04, 0x41, 0xbc, 0x00, 0x00,
                                     0x00, 0x00, 0x00};
    ask(f, c, 1, rd, sizeof(rd), &rsp);
    expect(&rsp, rd_rsp, sizeof(rd_rsp));

    /* S5.6 absolute write of DB2 at offset 2: in memory, through the hook */
    static const uint8_t wr[] = {0x31, 0, 0, 0x05, 0x42, 0, 0, 0, 5, 0, 0, 0, 1, 0x36,
                                 0, 0, 0, 0, 0x01, 0x06, 0x00, 0x88, 0xd0, 0xb8, 0x80, 0x02,
                                 0x03, 0x93, 0x76, 0x03, 0x02, 0x01, 0x00, 0x14, 0x02, 0xde,
                                 0xad, 0x00, OQ, 0x01, 0, 0, 0, 0};
    static const uint8_t wr_rsp[] = {0x32, 0, 0, 0x05, 0x42, 0, 0, 0, 5, 0, 0, 0, 0};
    ask(f, c, 1, wr, sizeof(wr), &rsp);
    expect(&rsp, wr_rsp, sizeof(wr_rsp));
    uint8_t m[4];
    assert_int_equal(gw_s7_server_get(f->mem, GW_S7_DB, 2, 1, 4, m), GW_OK);
    static const uint8_t m_want[] = {0, 0xde, 0xad, 0};
    assert_memory_equal(m, m_want, 4);
    assert_int_equal(f->writes, 1);
    assert_int_equal(f->last.db, 2);
    assert_int_equal(f->last.start, 2);
    assert_int_equal(f->last.len, 2);
    assert_int_equal(f->last.bit, -1);
    assert_string_equal(f->last_peer, "127.0.0.1:4711");

    /* S5.5: a missing DB in a multi-read: 02 82 82 04 in the error list */
    static const uint8_t rd2[] = {0x31, 0, 0, 0x05, 0x4c, 0, 0, 0, 6, 0, 0, 0, 1, 0x34,
                                  0, 0, 0, 0, 0x02, 0x0c,
                                  0x00, 0x88, 0xd0, 0xb8, 0x80, 0x01, 0x03, 0x93, 0x76, 0x01, 0x02,
                                  0x00, 0x88, 0xd0, 0xb8, 0x80, 0x09, 0x03, 0x93, 0x76, 0x01, 0x02,
                                  OQ, 0x01, 0, 0, 0, 0};
    static const uint8_t rd2_rsp[] = {0x32, 0, 0, 0x05, 0x4c, 0, 0, 0, 6, 0,
                                      0x00, 0x01, 0x00, 0x14, 0x02, 0x41, 0xbc, 0x00,
                                      0x02, 0x82, 0x82, 0x04, 0x00, 0x00};
    ask(f, c, 1, rd2, sizeof(rd2), &rsp);
    expect(&rsp, rd2_rsp, sizeof(rd2_rsp));

    /* S5.8 DeleteObject (py7's short form) */
    static const uint8_t del[] = {0x31, 0, 0, 0x04, 0xd4, 0, 0, 0, 9, 0, 0, 0, 1, 0x36,
                                  0, 0, 0, 0};
    static const uint8_t del_rsp[] = {0x32, 0, 0, 0x04, 0xd4, 0, 0, 0, 9, 0, 0x00};
    ask(f, c, 1, del, sizeof(del), &rsp);
    expect(&rsp, del_rsp, sizeof(del_rsp));
    assert_int_equal(s7p__session_id(c), 0);

    /* COTP DR: a DC and a close */
    static const uint8_t dr[] = {3, 0, 0, 11, 6, 0x80, 0, 1, 0, 1, 0};
    const uint8_t *reply;
    size_t rl;
    assert_false(s7p__serve_packet(f->srv, c, dr, sizeof(dr), &reply, &rl));
    assert_true(rl > 5);
    assert_int_equal(reply[5], 0xc0);
    s7p__session_free(c);
    fix_free(f);
}

/* ---------------------------------------------------------------- items */

static void test_multi_items_one_fails(void **state)
{
    (void)state;
    fix *f = fix_new(NULL, false);
    s7p_session *c = connect_session(f);
    create(f, c, 1);
    static const uint8_t db3[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    assert_int_equal(gw_s7_server_set(f->mem, GW_S7_DB, 3, 0, 10, db3), GW_OK);
    uint16_t db[] = {1, 7, 3, 3};
    uint32_t st[] = {0, 0, 2, 8}, ln[] = {4, 2, 3, 4};
    buf rsp;
    getmulti(f, c, NULL, db, st, ln, 4, &rsp);
    s7p_hdr h;
    const uint8_t *p;
    size_t pl;
    assert_int_equal(s7p_hdr_decode(rsp.b, rsp.n, &h, &p, &pl), GW_OK);
    assert_int_equal(h.function, S7P_FN_GET_MULTI);
    assert_int_equal(h.seq, 7);
    s7p_getmulti_rsp gr;
    assert_int_equal(s7p_getmulti_rsp_decode(p, pl, NULL, &gr), GW_OK);
    size_t pos = 0;
    uint32_t item;
    s7p_pvalue pv;
    assert_int_equal(s7p_value_next(gr.values, gr.values_len, NULL, &pos, &item, &pv), GW_OK);
    assert_int_equal(item, 1);
    assert_int_equal(pv.type, S7P_T_BLOB);
    assert_int_equal(pv.data_len, 4);
    assert_int_equal(s7p_value_next(gr.values, gr.values_len, NULL, &pos, &item, &pv), GW_OK);
    assert_int_equal(item, 3);
    static const uint8_t want3[] = {3, 4, 5};
    assert_int_equal(pv.data_len, 3);
    assert_memory_equal(pv.data, want3, 3);
    assert_int_equal(s7p_value_next(gr.values, gr.values_len, NULL, &pos, &item, &pv),
                     GW_E_NOT_FOUND);
    uint64_t code;
    pos = 0;
    assert_int_equal(s7p_error_next(gr.errors, gr.errors_len, &pos, &item, &code), GW_OK);
    assert_int_equal(item, 2);
    assert_int_equal(code, GW_S7P_SRV_ERR_NO_OBJECT);
    /* past the end of DB3 (10 bytes): an error, not zeros */
    assert_int_equal(s7p_error_next(gr.errors, gr.errors_len, &pos, &item, &code), GW_OK);
    assert_int_equal(item, 4);
    assert_int_equal(code, GW_S7P_SRV_ERR_RANGE);
    assert_int_equal(s7p_error_next(gr.errors, gr.errors_len, &pos, &item, &code),
                     GW_E_NOT_FOUND);
    s7p__session_free(c);
    fix_free(f);
}

/* A SetMulti of n DB writes with Blob values. */
static void setmulti(fix *f, s7p_session *c, const s7p_opts *o, const uint16_t *db,
                     const uint32_t *start, const uint8_t *const *data, const uint32_t *len,
                     uint32_t n, buf *rsp)
{
    static uint8_t pdu[65000];
    s7p_addr a[16];
    for (uint32_t k = 0; k < n; k++)
        assert_int_equal(s7p_addr_db(o, db[k], start[k], len[k], &a[k]), GW_OK);
    s7p_w w;
    s7p_w_init(&w, pdu, sizeof(pdu));
    s7p_hdr h = {S7P_OP_REQUEST, S7P_FN_SET_MULTI, 8, s7p__session_id(c), 0x36};
    s7p_put_hdr(&w, &h);
    s7p_setmulti_req_begin_addrs(&w, a, n);
    for (uint32_t k = 0; k < n; k++) {
        s7p_put_vlq_u32(&w, k + 1);
        s7p_put_pv_blob(&w, o, data[k], len[k]);
    }
    s7p_tail t = {false, false, true, 1};
    s7p_setmulti_req_end(&w, o, &t);
    assert_true(s7p_w_ok(&w));
    ask(f, c, 1, pdu, w.len, rsp);
}

static void test_write_errors(void **state)
{
    (void)state;
    fix *f = fix_new(NULL, false);
    s7p_session *c = connect_session(f);
    create(f, c, 1);
    static const uint8_t a[] = {0x11, 0x22}, b[] = {1, 2, 3, 4}, d[] = {9};
    const uint8_t *data[] = {a, b, d};
    uint16_t db[] = {1, 3, 9};
    uint32_t st[] = {4, 8, 0}, ln[] = {2, 4, 1};
    buf rsp;
    setmulti(f, c, NULL, db, st, data, ln, 3, &rsp);
    s7p_setmulti_rsp sr;
    assert_int_equal(s7p_setmulti_rsp_decode(rsp.b + S7P_RSP_HDR, rsp.n - S7P_RSP_HDR, &sr),
                     GW_OK);
    size_t pos = 0;
    uint32_t item;
    uint64_t code;
    assert_int_equal(s7p_error_next(sr.errors, sr.errors_len, &pos, &item, &code), GW_OK);
    assert_int_equal(item, 2);
    assert_int_equal(code, GW_S7P_SRV_ERR_RANGE);
    assert_int_equal(s7p_error_next(sr.errors, sr.errors_len, &pos, &item, &code), GW_OK);
    assert_int_equal(item, 3);
    assert_int_equal(code, GW_S7P_SRV_ERR_NO_OBJECT);
    assert_int_equal(s7p_error_next(sr.errors, sr.errors_len, &pos, &item, &code),
                     GW_E_NOT_FOUND);
    /* only the first landed, nothing of DB3 was truncated into memory */
    assert_int_equal(f->writes, 1);
    uint8_t m[10];
    assert_int_equal(gw_s7_server_get(f->mem, GW_S7_DB, 3, 0, 10, m), GW_OK);
    static const uint8_t zero[10] = {0};
    assert_memory_equal(m, zero, 10);
    assert_int_equal(gw_s7_server_get(f->mem, GW_S7_DB, 1, 4, 2, m), GW_OK);
    assert_memory_equal(m, a, 2);
    s7p__session_free(c);
    fix_free(f);
}

/* The real-CPU forms: LIDs [3, offset, size], Blobs with a root id. */
static void test_classic_forms(void **state)
{
    (void)state;
    s7p_opts o = {0};
    o.lid_classic = true;
    o.blob_root_id = true;
    fix *f = fix_new(&o, false);
    s7p_session *c = connect_session(f);
    create(f, c, 1);
    static const uint8_t v[] = {0xca, 0xfe};
    const uint8_t *data[] = {v};
    uint16_t db[] = {2};
    uint32_t st[] = {10}, ln[] = {2};
    buf rsp;
    setmulti(f, c, &o, db, st, data, ln, 1, &rsp);
    static const uint8_t ok_rsp[] = {0x32, 0, 0, 0x05, 0x42, 0, 0, 0, 8, 0, 0, 0, 0};
    expect(&rsp, ok_rsp, sizeof(ok_rsp));
    getmulti(f, c, &o, db, st, ln, 1, &rsp);
    s7p_getmulti_rsp gr;
    assert_int_equal(s7p_getmulti_rsp_decode(rsp.b + S7P_RSP_HDR, rsp.n - S7P_RSP_HDR, &o, &gr),
                     GW_OK);
    size_t pos = 0;
    uint32_t item;
    s7p_pvalue pv;
    assert_int_equal(s7p_value_next(gr.values, gr.values_len, &o, &pos, &item, &pv), GW_OK);
    assert_true(pv.has_root);
    assert_int_equal(pv.data_len, 2);
    assert_memory_equal(pv.data, v, 2);
    s7p__session_free(c);
    fix_free(f);
}

/* Typed scalar values (a real CPU's client may send them) and M. */
static void test_typed_values_and_m(void **state)
{
    (void)state;
    fix *f = fix_new(NULL, false);
    s7p_session *c = connect_session(f);
    create(f, c, 1);
    uint8_t pdu[512];
    s7p_addr a[2];
    assert_int_equal(s7p_addr_db(NULL, 1, 0, 4, &a[0]), GW_OK);
    assert_int_equal(s7p_addr_db(NULL, 1, 4, 2, &a[1]), GW_OK);
    a[1].area = S7P_ID_AREA_M;
    a[1].sub_area = S7P_ID_CONTROLLER_AREA_VALUE_ACTUAL;
    s7p_w w;
    s7p_w_init(&w, pdu, sizeof(pdu));
    s7p_hdr h = {S7P_OP_REQUEST, S7P_FN_SET_MULTI, 3, 1, 0x36};
    s7p_put_hdr(&w, &h);
    s7p_setmulti_req_begin_addrs(&w, a, 2);
    s7p_put_vlq_u32(&w, 1);
    s7p_put_pv_real(&w, 315.0f);
    s7p_put_vlq_u32(&w, 2);
    s7p_put_pv_i(&w, S7P_T_INT, -2);
    s7p_setmulti_req_end(&w, NULL, NULL);
    buf rsp;
    ask(f, c, 1, pdu, w.len, &rsp);
    static const uint8_t ok_rsp[] = {0x32, 0, 0, 0x05, 0x42, 0, 0, 0, 3, 0, 0, 0, 0};
    expect(&rsp, ok_rsp, sizeof(ok_rsp));
    uint8_t m[4];
    assert_int_equal(gw_s7_server_get(f->mem, GW_S7_DB, 1, 0, 4, m), GW_OK);
    static const uint8_t r315[] = {0x43, 0x9d, 0x80, 0x00};
    assert_memory_equal(m, r315, 4);
    assert_int_equal(gw_s7_server_get(f->mem, GW_S7_M, 0, 4, 2, m), GW_OK);
    assert_int_equal(m[0], 0xff);
    assert_int_equal(m[1], 0xfe);
    s7p__session_free(c);
    fix_free(f);
}

/* ---------------------------------------------------------------- Explore */

static void explore_check(const s7p_opts *o)
{
    fix *f = fix_new(o, false);
    static const char *const n1[] = {"Pipe_Diameter", "Force", "Ä_Umlaut"};
    static const char *const n3[] = {"Status"};
    assert_int_equal(gw_s7p_server_set_names(f->srv, 1, n1, 3), GW_OK);
    assert_int_equal(gw_s7p_server_set_names(f->srv, 3, n3, 1), GW_OK);
    s7p_session *c = connect_session(f);
    create(f, c, 1);
    uint8_t pdu[64];
    s7p_w w;
    s7p_w_init(&w, pdu, sizeof(pdu));
    s7p_hdr h = {S7P_OP_REQUEST, S7P_FN_EXPLORE, 3, 1, 0x34};
    s7p_put_hdr(&w, &h);
    static const uint32_t attrs[] = {233, 2521};
    s7p_explore_req_encode(&w, 3, 0, 1, 0, attrs, 2, NULL);
    buf rsp;
    ask(f, c, 1, pdu, w.len, &rsp);
    if (!o || !o->names_utf8) {
        static const uint8_t db1_utf16[] = {0x15, 0x06, 0x00, 0x44, 0x00, 0x42, 0x00, 0x31};
        assert_true(contains(rsp.b, rsp.n, db1_utf16, sizeof(db1_utf16)));
    } else {
        static const uint8_t db1_utf8[] = {0x15, 0x03, 'D', 'B', '1'};
        assert_true(contains(rsp.b, rsp.n, db1_utf8, sizeof(db1_utf8)));
    }
    /* ends with u32 0 (S4) */
    static const uint8_t end[] = {0xa2, 0, 0, 0, 0};
    assert_memory_equal(rsp.b + rsp.n - 5, end, 5);
    s7p_explore_rsp er;
    assert_int_equal(s7p_explore_rsp_decode(rsp.b + S7P_RSP_HDR, rsp.n - S7P_RSP_HDR, o, &er),
                     GW_OK);
    if (o && o->explore_id)
        assert_int_equal(er.explore_id, 3);
    static const uint16_t want_db[] = {1, 2, 3};
    static const uint32_t want_size[] = {24, 26, 10};
    size_t pos = 0, k = 0;
    s7p_obj obj;
    while (s7p_explore_next(&er, o, &pos, &obj) == GW_OK) {
        assert_true(k < 3);
        s7p_explore_db info;
        assert_int_equal(s7p_explore_db_info(&obj, o, &info), GW_OK);
        assert_true(info.is_db);
        assert_int_equal(info.number, want_db[k]);
        assert_int_equal(info.size, want_size[k]);
        char name[8];
        snprintf(name, sizeof(name), "DB%u", want_db[k]);
        assert_string_equal(info.name, name);
        /* the children: one per variable name, in order */
        const char *const *want = k == 0 ? n1 : k == 2 ? n3 : NULL;
        size_t nwant = k == 0 ? 3 : k == 2 ? 1 : 0, got = 0, op = 0;
        s7p_obj_item it;
        while (s7p_obj_next(&obj, o, &op, &it) == GW_OK) {
            if (!it.is_obj)
                continue;
            s7p_pvalue pv;
            assert_int_equal(s7p_obj_attr(&it.child, o, 233, &pv), GW_OK);
            char vn[64];
            assert_int_equal(s7p_name_utf8(pv.data, pv.data_len, vn, sizeof(vn)), GW_OK);
            assert_true(got < nwant);
            assert_string_equal(vn, want[got]);
            got++;
        }
        assert_int_equal(got, nwant);
        k++;
    }
    assert_int_equal(k, 3);
    s7p__session_free(c);
    fix_free(f);
}

static void test_explore_utf16(void **state)
{
    (void)state;
    explore_check(NULL);
}

static void test_explore_utf8(void **state)
{
    (void)state;
    s7p_opts o = {0};
    o.names_utf8 = true;
    o.explore_id = true;
    explore_check(&o);
}

/* ---------------------------------------------------------------- sessions */

static void test_distinct_sessions(void **state)
{
    (void)state;
    fix *f = fix_new(NULL, false);
    s7p_session *a = connect_session(f), *b = connect_session(f);
    uint32_t ia = create(f, a, 1), ib = create(f, b, 1);
    assert_int_not_equal(ia, 0);
    assert_int_not_equal(ib, 0);
    assert_int_not_equal(ia, ib);
    /* a second CreateObject on a connection: a new id again */
    uint32_t ia2 = create(f, a, 2);
    assert_int_not_equal(ia2, ia);
    assert_int_not_equal(ia2, ib);
    s7p__session_free(a);
    s7p__session_free(b);
    fix_free(f);
}

/* ---------------------------------------------------------------- fragments */

static void test_fragmented_request(void **state)
{
    (void)state;
    fix *f = fix_new(NULL, false);
    s7p_session *c = connect_session(f);
    create(f, c, 1);
    static const uint8_t rd[] = {0x31, 0, 0, 0x05, 0x4c, 0, 0, 0, 4, 0, 0, 0, 1, 0x34,
                                 0, 0, 0, 0, 0x01, 0x06, 0x00, 0x88, 0xd0, 0xb8, 0x80, 0x01,
                                 0x03, 0x93, 0x76, 0x01, 0x04, OQ, 0x01, 0, 0, 0, 0};
    static const uint8_t rd_rsp[] = {0x32, 0, 0, 0x05, 0x4c, 0, 0, 0, 4, 0,
                                     0x00, 0x01, 0x00, 0x14, 0x04, 0x41, 0xbc, 0x00, 0x00,
                                     0x00, 0x00, 0x00};
    uint8_t pk[256];
    const uint8_t *reply;
    size_t rl;
    /* three frames: two without a trailer, the last with it */
    size_t cut1 = 10, cut2 = 30;
    size_t pl = packet(pk, 1, rd, cut1, false);
    assert_true(s7p__serve_packet(f->srv, c, pk, pl, &reply, &rl));
    assert_int_equal(rl, 0);
    /* a keep-alive in between does not disturb it */
    static const uint8_t ka[] = {3, 0, 0, 11, 2, 0xf0, 0x80, 0x72, 0xff, 0x01, 0x00};
    assert_true(s7p__serve_packet(f->srv, c, ka, sizeof(ka), &reply, &rl));
    assert_int_equal(rl, 0);
    pl = packet(pk, 1, rd + cut1, cut2 - cut1, false);
    assert_true(s7p__serve_packet(f->srv, c, pk, pl, &reply, &rl));
    assert_int_equal(rl, 0);
    pl = packet(pk, 1, rd + cut2, sizeof(rd) - cut2, true);
    assert_true(s7p__serve_packet(f->srv, c, pk, pl, &reply, &rl));
    buf rsp;
    join_answer(reply, rl, &rsp, 65535);
    expect(&rsp, rd_rsp, sizeof(rd_rsp));
    /* and a frame split over two COTP DTs (no EOT on the first) */
    pl = packet(pk, 1, rd, sizeof(rd), true);
    uint8_t p1[64], p2[256];
    size_t first = 20;
    memcpy(p1, pk, first);
    p1[2] = 0;
    p1[3] = (uint8_t)first;
    p1[6] = 0x00;
    memcpy(p2, pk, 7);
    memcpy(p2 + 7, pk + first, pl - first);
    size_t l2 = 7 + pl - first;
    p2[2] = (uint8_t)(l2 >> 8);
    p2[3] = (uint8_t)l2;
    assert_true(s7p__serve_packet(f->srv, c, p1, first, &reply, &rl));
    assert_int_equal(rl, 0);
    assert_true(s7p__serve_packet(f->srv, c, p2, l2, &reply, &rl));
    join_answer(reply, rl, &rsp, 65535);
    expect(&rsp, rd_rsp, sizeof(rd_rsp));
    s7p__session_free(c);
    fix_free(f);
}

/* A response above 64 KiB: frames of one TPKT each; with split_tpdu every
 * response in frames that fit the TPDU (1024). */
static void big_read(bool split, size_t max_tpkt, size_t min_packets)
{
    fix *f = fix_new(NULL, split);
    assert_int_equal(gw_s7_server_add_area(f->mem, GW_S7_DB, 100, 100000), GW_OK);
    uint8_t *pattern = malloc(100000);
    assert_non_null(pattern);
    for (size_t i = 0; i < 100000; i++)
        pattern[i] = (uint8_t)(i * 7u);
    assert_int_equal(gw_s7_server_set(f->mem, GW_S7_DB, 100, 0, 100000, pattern), GW_OK);
    s7p_session *c = connect_session(f);
    create(f, c, 1);
    static uint8_t pdu[256];
    s7p_addr a;
    assert_int_equal(s7p_addr_db(NULL, 100, 0, 100000, &a), GW_OK);
    s7p_w w;
    s7p_w_init(&w, pdu, sizeof(pdu));
    s7p_hdr h = {S7P_OP_REQUEST, S7P_FN_GET_MULTI, 5, 1, 0x34};
    s7p_put_hdr(&w, &h);
    s7p_getmulti_req_encode(&w, NULL, &a, 1, NULL);
    uint8_t pk[512];
    size_t pl = packet(pk, 1, pdu, w.len, true);
    const uint8_t *reply;
    size_t rl;
    assert_true(s7p__serve_packet(f->srv, c, pk, pl, &reply, &rl));
    static buf rsp;
    size_t packets = join_answer(reply, rl, &rsp, max_tpkt);
    assert_true(packets >= min_packets);
    s7p_getmulti_rsp gr;
    assert_int_equal(s7p_getmulti_rsp_decode(rsp.b + S7P_RSP_HDR, rsp.n - S7P_RSP_HDR, NULL, &gr),
                     GW_OK);
    size_t pos = 0;
    uint32_t item;
    s7p_pvalue pv;
    assert_int_equal(s7p_value_next(gr.values, gr.values_len, NULL, &pos, &item, &pv), GW_OK);
    assert_int_equal(pv.data_len, 100000);
    assert_memory_equal(pv.data, pattern, 100000);
    free(pattern);
    s7p__session_free(c);
    fix_free(f);
}

static void test_big_response(void **state)
{
    (void)state;
    big_read(false, 65535, 2);
    big_read(true, 1024, 98);
}

/* ---------------------------------------------------------------- malformed */

typedef enum { ERROR_ANSWER, CLOSE } outcome;

/* A fresh connected session with a session, then one packet. */
static void bad_packet(const uint8_t *pk, size_t n, outcome want)
{
    fix *f = fix_new(NULL, false);
    s7p_session *c = connect_session(f);
    create(f, c, 1);
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, pk, n);
    const uint8_t *reply;
    size_t rl;
    bool keep = s7p__serve_packet(f->srv, c, copy, n, &reply, &rl);
    free(copy);
    if (want == CLOSE) {
        assert_false(keep);
    } else {
        assert_true(keep);
        buf rsp;
        join_answer(reply, rl, &rsp, 65535);
        assert_int_equal(rsp.n, 16);
        assert_int_equal(rsp.b[0], 0x32);
        assert_int_equal(rsp.b[3], 0x04);
        assert_int_equal(rsp.b[4], 0xb1);
        static const uint8_t body[] = {0x89, 0x31, 0, 0, 0, 0};
        assert_memory_equal(rsp.b + 10, body, 6);
        /* and the session goes on */
        uint16_t db[] = {1};
        uint32_t st[] = {0}, ln[] = {4};
        getmulti(f, c, NULL, db, st, ln, 1, &rsp);
        assert_int_equal(rsp.b[4], 0x4c);
    }
    s7p__session_free(c);
    fix_free(f);
}

static void bad_pdu(uint8_t vv, const uint8_t *pdu, size_t n, outcome want)
{
    uint8_t pk[1024];
    size_t pl = packet(pk, vv, pdu, n, true);
    bad_packet(pk, pl, want);
}

static void test_malformed(void **state)
{
    (void)state;
    /* truncated request headers */
    static const uint8_t h5[] = {0x31, 0, 0, 0x05, 0x4c};
    bad_pdu(1, h5, sizeof(h5), ERROR_ANSWER);
    bad_pdu(1, h5, 0, ERROR_ANSWER);
    static const uint8_t h13[] = {0x31, 0, 0, 0x05, 0x4c, 0, 0, 0, 4, 0, 0, 0, 1};
    bad_pdu(1, h13, sizeof(h13), ERROR_ANSWER);
    /* a response sent to us, a notification */
    static const uint8_t rsp[] = {0x32, 0, 0, 0x05, 0x4c, 0, 0, 0, 4, 0, 0, 0, 0};
    bad_pdu(1, rsp, sizeof(rsp), ERROR_ANSWER);
    static const uint8_t note[] = {0x33, 0, 0, 0x05, 0x4c, 0, 0, 0, 4, 0, 0, 0, 0, 0};
    bad_pdu(1, note, sizeof(note), ERROR_ANSWER);
    /* functions we do not serve */
    static const uint8_t inv[] = {0x31, 0, 0, 0x05, 0x6b, 0, 0, 0, 4, 0, 0, 0, 1, 0x34, 0, 0, 0, 0};
    bad_pdu(1, inv, sizeof(inv), ERROR_ANSWER);
    static const uint8_t gsv[] = {0x31, 0, 0, 0x05, 0x86, 0, 0, 0, 4, 0, 0, 0, 1, 0x34, 0, 0, 0, 0};
    bad_pdu(1, gsv, sizeof(gsv), ERROR_ANSWER);
    /* garbage payloads of every function we serve */
    static const uint16_t fns[] = {S7P_FN_GET_MULTI, S7P_FN_SET_MULTI, S7P_FN_CREATE_OBJECT,
                                   S7P_FN_INIT_SSL, S7P_FN_EXPLORE, S7P_FN_DELETE_OBJECT};
    static const uint8_t garbage[][12] = {
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
        {0, 0, 0, 0, 0x8f, 0xff, 0xff, 0xff, 0x7f, 0x05, 0x00, 0x88},
        {0, 0, 0, 0, 0x01, 0x06, 0x00, 0x88, 0xd0, 0xb8, 0x80, 0x01},
        {0x00, 0x00},
    };
    static const size_t glen[] = {12, 12, 12, 2};
    for (size_t k = 0; k < N(fns); k++)
        for (size_t g = 0; g < N(garbage); g++) {
            uint8_t pdu[32] = {0x31, 0, 0, (uint8_t)(fns[k] >> 8), (uint8_t)fns[k], 0, 0, 0, 4,
                               0, 0, 0, 1, 0x34};
            memcpy(pdu + 14, garbage[g], glen[g]);
            /* a 2-byte garbage Explore is an empty-looking request: only
             * the decoders decide; every answer must be whole */
            uint8_t pk[128];
            size_t pl = packet(pk, 1, pdu, 14 + glen[g], true);
            fix *f = fix_new(NULL, false);
            s7p_session *c = connect_session(f);
            create(f, c, 1);
            const uint8_t *reply;
            size_t rl;
            assert_true(s7p__serve_packet(f->srv, c, pk, pl, &reply, &rl));
            buf r;
            join_answer(reply, rl, &r, 65535);
            assert_int_equal(r.b[0], 0x32);
            s7p__session_free(c);
            fix_free(f);
        }
    static const uint8_t gm_bad[] = {0x31, 0, 0, 0x05, 0x4c, 0, 0, 0, 4, 0, 0, 0, 1, 0x34,
                                     0, 0, 0, 0, 0x05, 0x06, 0x00, 0x88};
    bad_pdu(1, gm_bad, sizeof(gm_bad), ERROR_ANSWER);
    /* V3 (a digest first): the header is not one */
    static const uint8_t rd[] = {0x31, 0, 0, 0x05, 0x4c, 0, 0, 0, 4, 0, 0, 0, 1, 0x34,
                                 0, 0, 0, 0, 0x01, 0x06, 0x00, 0x88, 0xd0, 0xb8, 0x80, 0x01,
                                 0x03, 0x93, 0x76, 0x01, 0x04, OQ, 0x01, 0, 0, 0, 0};
    uint8_t v3[128] = {0x20};
    memcpy(v3 + 33, rd, sizeof(rd));
    bad_pdu(3, v3, 33 + sizeof(rd), ERROR_ANSWER);

    /* frames: bad version, LL past the end, LL short, no magic, bad trailer */
    uint8_t pk[256];
    size_t pl = packet(pk, 9, rd, sizeof(rd), true);
    bad_packet(pk, pl, CLOSE);
    pl = packet(pk, 1, rd, sizeof(rd), true);
    pk[10] = (uint8_t)(pk[10] + 5);
    bad_packet(pk, pl, CLOSE);
    pl = packet(pk, 1, rd, sizeof(rd), true);
    pk[10] = (uint8_t)(pk[10] - 3);
    bad_packet(pk, pl, CLOSE);
    pl = packet(pk, 1, rd, sizeof(rd), true);
    pk[7] = 0x32;
    bad_packet(pk, pl, CLOSE);
    pl = packet(pk, 1, rd, sizeof(rd), true);
    pk[pl - 4] = 0x73;
    bad_packet(pk, pl, CLOSE);
    /* a frame shorter than its header */
    static const uint8_t tiny[] = {3, 0, 0, 9, 2, 0xf0, 0x80, 0x72, 0x01};
    bad_packet(tiny, sizeof(tiny), CLOSE);
    /* COTP: garbage, a second CR, a TPKT shorter than COTP */
    static const uint8_t cotp_bad[] = {3, 0, 0, 8, 9, 0xf0, 0x80, 0x72};
    bad_packet(cotp_bad, sizeof(cotp_bad), CLOSE);
    bad_packet(CR, sizeof(CR), CLOSE);
    static const uint8_t short_tpkt[] = {3, 0, 0, 5, 2};
    bad_packet(short_tpkt, sizeof(short_tpkt), CLOSE);
}

/* Data requests before CreateObject and after DeleteObject: the Error answer. */
static void test_no_session(void **state)
{
    (void)state;
    fix *f = fix_new(NULL, false);
    s7p_session *c = connect_session(f);
    uint16_t db[] = {1};
    uint32_t st[] = {0}, ln[] = {4};
    buf rsp;
    getmulti(f, c, NULL, db, st, ln, 1, &rsp);
    assert_int_equal(rsp.b[3], 0x04);
    assert_int_equal(rsp.b[4], 0xb1);
    /* a DT before the CR closes */
    s7p_session *d;
    assert_int_equal(s7p__session_new(f->srv, "x", &d), GW_OK);
    uint8_t pk[64];
    static const uint8_t initssl[] = {0x31, 0, 0, 0x05, 0xb3, 0, 0, 0, 0, 0, 0, 0, 0, 0x30,
                                      0, 0, 0, 0};
    size_t pl = packet(pk, 1, initssl, sizeof(initssl), true);
    const uint8_t *reply;
    size_t rl;
    assert_false(s7p__serve_packet(f->srv, d, pk, pl, &reply, &rl));
    s7p__session_free(d);
    s7p__session_free(c);
    fix_free(f);
}

/* A stopped CPU still answers reads and writes, as S7comm does. */
static void test_stopped_cpu(void **state)
{
    (void)state;
    fix *f = fix_new(NULL, false);
    gw_s7_server_set_cpu_state(f->mem, GW_S7_CPU_STOP);
    s7p_session *c = connect_session(f);
    create(f, c, 1);
    uint16_t db[] = {1};
    uint32_t st[] = {0}, ln[] = {4};
    buf rsp;
    getmulti(f, c, NULL, db, st, ln, 1, &rsp);
    static const uint8_t body[] = {0x00, 0x01, 0x00, 0x14, 0x04, 0x41, 0xbc, 0x00, 0x00,
                                   0x00, 0x00, 0x00};
    assert_int_equal(rsp.n, S7P_RSP_HDR + sizeof(body));
    assert_memory_equal(rsp.b + S7P_RSP_HDR, body, sizeof(body));
    static const uint8_t v[] = {7};
    const uint8_t *data[] = {v};
    uint32_t l1[] = {1};
    setmulti(f, c, NULL, db, st, data, l1, 1, &rsp);
    assert_int_equal(f->writes, 1);
    assert_int_equal(gw_s7_server_cpu_state(f->mem), GW_S7_CPU_STOP);
    s7p__session_free(c);
    fix_free(f);
}

/* The ERROR fault's answers: a DR to a CR, the Error answer to a request. */
static void test_fault_error_reply(void **state)
{
    (void)state;
    fix *f = fix_new(NULL, false);
    gw_error err;
    assert_int_equal(gw_s7p_server_start(f->srv, &err), GW_OK);
    uint16_t port = gw_s7p_server_port(f->srv);
    assert_int_equal(gw_tcpsrv_fault(gw_s7p_server_tcp(f->srv), GW_FAULT_ERROR, 5000, 0), GW_OK);
    int fd;
    assert_int_equal(gw_net_connect("127.0.0.1", port, 2000, &fd, &err), GW_OK);
    int e;
    assert_int_equal(gw_net_send_all(fd, CR, sizeof(CR), gw_mono_ms() + 2000, &e), GW_OK);
    uint8_t in[64];
    size_t got = 0;
    uint64_t end = gw_mono_ms() + 2000;
    while (got < 7 && gw_mono_ms() < end) {
        if (gw_net_wait(fd, POLLIN, end) != GW_OK)
            break;
        ssize_t r = recv(fd, in + got, sizeof(in) - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    assert_true(got >= 7);
    assert_int_equal(in[5], 0x80); /* DR */
    close(fd);
    gw_s7p_server_free(f->srv);
    f->srv = NULL;
    fix_free(f);
}

/* ---------------------------------------------------------------- sockets */

static int sock_connect(uint16_t port)
{
    int fd;
    gw_error err;
    assert_int_equal(gw_net_connect("127.0.0.1", port, 2000, &fd, &err), GW_OK);
    return fd;
}

static void sock_send(int fd, const uint8_t *p, size_t n)
{
    int e;
    assert_int_equal(gw_net_send_all(fd, p, n, gw_mono_ms() + 2000, &e), GW_OK);
}

/* One TPKT packet. */
static size_t sock_recv(int fd, uint8_t *out, size_t cap)
{
    size_t got = 0, want = 4;
    uint64_t end = gw_mono_ms() + 3000;
    while (got < want) {
        assert_int_equal(gw_net_wait(fd, POLLIN, end), GW_OK);
        ssize_t r = recv(fd, out + got, want - got, 0);
        assert_true(r > 0);
        got += (size_t)r;
        if (got == 4) {
            want = ((size_t)out[2] << 8) | out[3];
            assert_true(want >= 7 && want <= cap);
        }
    }
    return got;
}

static uint32_t sock_session(int fd)
{
    sock_send(fd, CR, sizeof(CR));
    uint8_t in[2048];
    size_t n = sock_recv(fd, in, sizeof(in));
    assert_int_equal(n, sizeof(CC));
    assert_memory_equal(in, CC, sizeof(CC));
    uint8_t pdu[512], pk[600];
    s7p_w w;
    s7p_w_init(&w, pdu, sizeof(pdu));
    s7p_hdr h = {S7P_OP_REQUEST, S7P_FN_CREATE_OBJECT, 1, 288, 0x36};
    s7p_put_hdr(&w, &h);
    s7p_createobj_req_encode_session(&w, NULL);
    size_t pl = packet(pk, 1, pdu, w.len, true);
    sock_send(fd, pk, pl);
    n = sock_recv(fd, in, sizeof(in));
    buf rsp;
    join_answer(in, n, &rsp, 65535);
    s7p_createobj_rsp cr;
    assert_int_equal(s7p_createobj_rsp_decode(rsp.b + S7P_RSP_HDR, rsp.n - S7P_RSP_HDR, NULL, &cr),
                     GW_OK);
    return cr.session_id;
}

static void test_sockets(void **state)
{
    (void)state;
    fix *f = fix_new(NULL, false);
    gw_error err;
    assert_int_equal(gw_s7p_server_start(f->srv, &err), GW_OK);
    uint16_t port = gw_s7p_server_port(f->srv);
    assert_int_not_equal(port, 0);
    int a = sock_connect(port), b = sock_connect(port);
    uint32_t ia = sock_session(a), ib = sock_session(b);
    assert_int_not_equal(ia, 0);
    assert_int_not_equal(ib, 0);
    assert_int_not_equal(ia, ib);
    assert_int_equal(gw_s7p_server_clients(f->srv), 2);
    /* a read over the socket */
    static const uint8_t rd[] = {0x31, 0, 0, 0x05, 0x4c, 0, 0, 0, 4, 0, 0, 0, 1, 0x34,
                                 0, 0, 0, 0, 0x01, 0x06, 0x00, 0x88, 0xd0, 0xb8, 0x80, 0x01,
                                 0x03, 0x93, 0x76, 0x01, 0x04, OQ, 0x01, 0, 0, 0, 0};
    uint8_t pk[256], in[2048];
    size_t pl = packet(pk, 1, rd, sizeof(rd), true);
    sock_send(b, pk, pl);
    size_t n = sock_recv(b, in, sizeof(in));
    buf rsp;
    join_answer(in, n, &rsp, 65535);
    assert_int_equal(rsp.b[S7P_RSP_HDR + 5], 0x41);
    /* garbage closes only that connection */
    static const uint8_t junk[] = {0x47, 0x45, 0x54, 0x20, 0x2f, 0x20, 0x48, 0x54};
    sock_send(a, junk, sizeof(junk));
    uint64_t end = gw_mono_ms() + 2000;
    ssize_t r = 1;
    while (r > 0 && gw_mono_ms() < end) {
        gw_net_wait(a, POLLIN, end);
        r = recv(a, in, sizeof(in), 0);
    }
    assert_true(r == 0 || r < 0);
    sock_send(b, pk, pl);
    n = sock_recv(b, in, sizeof(in));
    join_answer(in, n, &rsp, 65535);
    close(a);
    close(b);
    fix_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s5_session),
        cmocka_unit_test(test_multi_items_one_fails),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_classic_forms),
        cmocka_unit_test(test_typed_values_and_m),
        cmocka_unit_test(test_explore_utf16),
        cmocka_unit_test(test_explore_utf8),
        cmocka_unit_test(test_distinct_sessions),
        cmocka_unit_test(test_fragmented_request),
        cmocka_unit_test(test_big_response),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_no_session),
        cmocka_unit_test(test_stopped_cpu),
        cmocka_unit_test(test_fault_error_reply),
        cmocka_unit_test(test_sockets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
