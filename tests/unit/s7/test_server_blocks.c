/*
 * test_server_blocks.c - the S7 server's block services (docs/s7comm.md
 * 14) through raw frames (s7__serve_packet, no I/O, every packet in an
 * exact heap copy: the frame fixture of s7_test_fixture.h), then our
 * client's block functions against a started server on 127.0.0.1.
 *
 * PI services (_INSE, _DELE, _GARB, _MODU) reach s7_blocks.c through the
 * CPU file's PI dispatch (s7__serve_pi); the frame tests call
 * s7__serve_block_pi with the parameter block a PI job carries; the
 * client test goes through the whole dispatch.
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

/* the frame fixture of s7_test_fixture.h; an answer may be two packets */
typedef s7fx fx;

static const gw_s7_block_decl DECL[] = {
    {GW_S7_BLK_FB, 1, 40, "MOTOR", "DRIVES", "ACME"},
    {GW_S7_BLK_OB, 1, 20, "MAIN", NULL, NULL},
    {GW_S7_BLK_DB, 9, 20, "BAD", NULL, NULL},   /* ignored: DBs are areas */
};

static gw_s7_server *new_server(uint16_t max_pdu)
{
    gw_s7_server_opts so;
    memset(&so, 0, sizeof(so));
    so.host = "127.0.0.1";
    so.max_pdu = max_pdu;
    so.blocks = DECL;
    so.nblocks = 3;
    gw_s7_server *s = s7fx_server_new(&so);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 1, 100), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 2, 26), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 3, 10), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_DB, 4, 500), GW_OK);
    assert_int_equal(gw_s7_server_add_area(s, GW_S7_M, 0, 64), GW_OK);
    uint8_t pat[500];
    for (size_t i = 0; i < sizeof(pat); i++)
        pat[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(gw_s7_server_set(s, GW_S7_DB, 4, 0, 500, pat), GW_OK);
    return s;
}

static uint16_t hdr_err(const s7_header *h)
{
    return (uint16_t)(h->err_class << 8 | h->err_code);
}

static uint16_t reply_err(fx *x)
{
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.rosctr, S7_ACK_DATA);
    return hdr_err(&h);
}

static void fx_open(fx *x, uint16_t pdu)
{
    s7fx_open(x, new_server(960), 0x4400);
    x->multi = true;
    assert_int_equal(s7fx_connect(x, 8, pdu), pdu);
}

static int setup(void **state)
{
    fx *x = malloc(sizeof(*x));
    fx_open(x, 240);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    s7fx_close(*state);
    free(*state);
    return 0;
}

/* A group-3 userdata request (S7-CLI); next: a continuation of seq. */
static bool ud(fx *x, uint8_t sub, bool next, uint8_t seq, const uint8_t *data, size_t dlen)
{
    uint8_t buf[128];
    return s7fx_serve(x, buf, s7fx_ud_frame(buf, 0x0100, 3, sub, next, seq, data, dlen));
}

static bool job(fx *x, const uint8_t *param, size_t plen)
{
    uint8_t buf[128];
    return s7fx_serve(x, buf, s7fx_job_frame(buf, 0x0200, param, plen, NULL, 0));
}

static void filename(uint8_t *p, uint8_t type, uint16_t number, uint8_t fs)
{
    p[0] = 9;
    p[1] = '_';
    s7_block_addr_encode(p + 2, type, number);
    p[9] = fs;
}

/* A PI service as s7__serve_pi hands it over: name and parameter block. */
static uint16_t pi(fx *x, const char *name, const uint8_t *args, size_t alen)
{
    s7_header h;
    memset(&h, 0, sizeof(h));
    h.rosctr = S7_JOB;
    h.pdu_ref = 0x0300;
    size_t n = s7__serve_block_pi(x->s, &x->c, &h, name, args, alen);
    assert_true(n > 0);
    memcpy(x->reply, x->s->tx, n);
    x->reply_len = n;
    s7_header r = s7fx_reply_hdr(x);
    assert_int_equal(r.rosctr, S7_ACK_DATA);
    if (!hdr_err(&r)) {
        assert_int_equal(r.param_len, 1);
        assert_int_equal(r.param[0], S7_FN_PI);
    }
    return hdr_err(&r);
}

static uint16_t pi_block(fx *x, const char *name, uint8_t type, uint16_t number, uint8_t fs)
{
    uint8_t args[10] = {1, 0};
    s7_block_addr_encode(args + 2, type, number);
    args[9] = fs;
    return pi(x, name, args, sizeof(args));
}

/* ------------------------------------------------------------ list, info */

static void test_list_all(void **state)
{
    fx *x = *state;
    static const uint8_t data[4] = {0x0A, 0, 0, 0};
    assert_true(ud(x, 0x01, false, 0, data, 4));
    s7_header h;
    s7_userdata_param up = s7fx_ud_param(x, &h);
    assert_int_equal(up.err_code, 0);
    /* FF 09 00 1C, then '0' type count in snap7's server's order */
    static const uint8_t want[32] = {0xFF, 0x09, 0x00, 0x1C, '0', '8', 0, 1, '0', 'E', 0, 1,
                                     '0', 'C', 0, 0, '0', 'A', 0, 4, '0', 'B', 0, 0,
                                     '0', 'D', 0, 0, '0', 'F', 0, 0};
    assert_bytes(h.data, h.data_len, want, sizeof(want), "list all");
}

static void test_list_of_type(void **state)
{
    fx *x = *state;
    uint8_t data[6] = {0xFF, 0x09, 0x00, 0x02, '0', 'A'};
    assert_true(ud(x, 0x02, false, 0, data, 6));
    s7_header h;
    s7_userdata_param up = s7fx_ud_param(x, &h);
    assert_int_equal(up.err_code, 0);
    assert_true(up.last);
    static const uint8_t want[20] = {0xFF, 0x09, 0x00, 0x10, 0, 1, 0x22, 5, 0, 2, 0x22, 5,
                                     0, 3, 0x22, 5, 0, 4, 0x22, 5};
    assert_bytes(h.data, h.data_len, want, sizeof(want), "list of DBs");
    /* no FC: "no (further) block available" */
    data[5] = 'C';
    assert_true(ud(x, 0x02, false, 0, data, 6));
    up = s7fx_ud_param(x, &h);
    assert_int_equal(up.err_code, 0xD20E);
    /* malformed: an unknown type, a short data part */
    data[5] = 'Z';
    assert_true(ud(x, 0x02, false, 0, data, 6));
    assert_int_equal(s7fx_ud_param(x, &h).err_code, 0xD202);
    assert_true(ud(x, 0x02, false, 0, data, 3));
    assert_int_equal(s7fx_ud_param(x, &h).err_code, 0xD202);
    /* a continuation nobody started */
    static const uint8_t cont[4] = {0x0A, 0, 0, 0};
    assert_true(ud(x, 0x02, true, 7, cont, 4));
    assert_int_equal(s7fx_ud_param(x, &h).err_code, 0x8401);
}

static void test_list_of_type_in_parts(void **state)
{
    fx *x = *state;
    /* 53 items fit PDU 240 ((240 - 26) / 4); 80 more DBs make 84 */
    for (uint16_t n = 100; n < 180; n++)
        assert_int_equal(gw_s7_server_add_area(x->s, GW_S7_DB, (uint16_t)(279 - n), 2), GW_OK);
    uint8_t data[6] = {0xFF, 0x09, 0x00, 0x02, '0', 'A'};
    assert_true(ud(x, 0x02, false, 0, data, 6));
    s7_header h;
    s7_userdata_param up = s7fx_ud_param(x, &h);
    assert_false(up.last);
    assert_int_equal(h.data_len, 4 + 4 * 53);
    uint16_t prev = 0;
    size_t got = 0;
    for (size_t i = 0; i < 53; i++, got++) {
        uint16_t n = (uint16_t)(h.data[4 + 4 * i] << 8 | h.data[5 + 4 * i]);
        assert_true(n > prev);
        prev = n;
    }
    static const uint8_t cont[4] = {0x0A, 0, 0, 0};
    assert_true(ud(x, 0x02, true, up.seq, cont, 4));
    up = s7fx_ud_param(x, &h);
    assert_int_equal(up.err_code, 0);
    assert_true(up.last);
    assert_int_equal(h.data_len, 4 + 4 * 31);
    assert_int_equal(h.data[4] << 8 | h.data[5], prev + 1);
    assert_int_equal(h.data[4 + 4 * 30] << 8 | h.data[5 + 4 * 30], 179);
    (void)got;
}

static uint16_t g16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t g32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static s7_header info(fx *x, uint8_t type, uint16_t number, uint16_t *err_code)
{
    uint8_t data[12] = {0xFF, 0x09, 0x00, 0x08};
    s7_block_addr_encode(data + 4, type, number);
    data[11] = 'A';
    assert_true(ud(x, 0x03, false, 0, data, 12));
    s7_header h;
    *err_code = s7fx_ud_param(x, &h).err_code;
    return h;
}

static void test_info(void **state)
{
    fx *x = *state;
    uint16_t e;
    s7_header h = info(x, GW_S7_BLK_DB, 1, &e);
    assert_int_equal(e, 0);
    assert_int_equal(h.data_len, 82);
    const uint8_t *d = h.data;
    assert_int_equal(g16(d + 2), 78);
    assert_int_equal(d[4], '0');
    assert_int_equal(d[5], 'A');
    assert_int_equal(g16(d + 6), 74);
    const uint8_t *hd = d + 10, *ft = d + 46;
    assert_int_equal(hd[0], 'p');
    assert_int_equal(hd[4], 5);          /* DB */
    assert_int_equal(hd[5], 0x0A);
    assert_int_equal(g16(hd + 6), 1);
    assert_int_equal(g32(hd + 8), 100 + 92);
    assert_int_equal(g16(hd + 34), 100);
    /* the server's start, in days since 1984 */
    int64_t days = (x->s->started_ms / 1000 - 441763200) / 86400;
    assert_int_equal(g16(hd + 20), days);
    assert_string_equal((const char *)ft + 16, "DB1");
    assert_memory_equal(ft, "PLCGW\0\0\0", 8);
    /* a declared FB */
    h = info(x, GW_S7_BLK_FB, 1, &e);
    assert_int_equal(e, 0);
    hd = h.data + 10;
    ft = h.data + 46;
    assert_int_equal(hd[5], 0x0E);
    assert_int_equal(g16(hd + 34), 40);
    assert_int_equal(g32(hd + 8), 40 + 92);
    assert_memory_equal(ft, "ACME\0\0\0\0", 8);
    assert_memory_equal(ft + 8, "DRIVES\0\0", 8);
    assert_memory_equal(ft + 16, "MOTOR\0\0\0", 8);
    /* unknown blocks: a DB, an FC, a declared DB that was ignored */
    static const struct { uint8_t t; uint16_t n; } unknown[] = {
        {GW_S7_BLK_DB, 77}, {GW_S7_BLK_FC, 1}, {GW_S7_BLK_DB, 9}, {GW_S7_BLK_DB, 0}};
    for (size_t i = 0; i < 4; i++) {
        h = info(x, unknown[i].t, unknown[i].n, &e);
        assert_int_equal(e, 0xD209);
        static const uint8_t none[4] = {0x0A, 0x00, 0x00, 0x00};
        assert_bytes(h.data, h.data_len, none, 4, "unknown block");
    }
    /* a malformed block address */
    uint8_t bad[12] = {0xFF, 0x09, 0x00, 0x08, '0', 'A', '0', 'x', '0', '0', '1', 'A'};
    assert_true(ud(x, 0x03, false, 0, bad, 12));
    assert_int_equal(s7fx_ud_param(x, &h).err_code, 0xD201);
    assert_true(ud(x, 0x09, false, 0, bad, 12));
    assert_int_equal(s7fx_ud_param(x, &h).err_code, 0x8104);
}

/* ------------------------------------------------------------ upload */

/* Uploads a block by frames; returns its bytes (malloc) and length. */
static uint8_t *upload(fx *x, uint8_t type, uint16_t number, size_t *len, size_t *pieces)
{
    uint8_t par[18] = {S7_FN_UPLOAD_START, 0, 0, 0, 0, 0, 0, 0};
    filename(par + 8, type, number, 'A');
    assert_true(job(x, par, 18));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(hdr_err(&h), 0);
    assert_int_equal(h.param_len, 16);
    assert_int_equal(h.param[8], 7);
    uint32_t load = 0;
    for (int i = 0; i < 7; i++)
        load = load * 10 + (uint32_t)(h.param[9 + i] - '0');
    uint8_t id[4];
    memcpy(id, h.param + 4, 4);
    uint8_t *out = malloc(load);
    size_t have = 0;
    *pieces = 0;
    for (;;) {
        uint8_t up[8] = {S7_FN_UPLOAD, 0, 0, 0, id[0], id[1], id[2], id[3]};
        assert_true(job(x, up, 8));
        h = s7fx_reply_hdr(x);
        assert_int_equal(hdr_err(&h), 0);
        assert_int_equal(h.param[0], S7_FN_UPLOAD);
        assert_true(x->reply_len - 7 <= x->c.pdu_len);
        size_t n = g16(h.data);
        assert_int_equal(n, h.data_len - 4);
        assert_int_equal(h.data[3], 0xFB);
        assert_true(have + n <= load);
        memcpy(out + have, h.data + 4, n);
        have += n;
        (*pieces)++;
        if (!(h.param[1] & 1))
            break;
    }
    uint8_t end[8] = {S7_FN_UPLOAD_END, 0, 0, 0, id[0], id[1], id[2], id[3]};
    assert_true(job(x, end, 8));
    h = s7fx_reply_hdr(x);
    assert_int_equal(hdr_err(&h), 0);
    assert_int_equal(h.param[0], S7_FN_UPLOAD_END);
    assert_int_equal(have, load);
    *len = have;
    return out;
}

static void test_upload_pieces(void **state)
{
    fx *x = *state;
    size_t len, pieces;
    uint8_t *b = upload(x, GW_S7_BLK_DB, 4, &len, &pieces);
    assert_int_equal(len, 592);
    assert_int_equal(pieces, 3);          /* 222 + 222 + 148 at PDU 240 */
    assert_int_equal(g32(b + 8), 592);
    assert_int_equal(g16(b + 34), 500);
    for (size_t i = 0; i < 500; i++)
        assert_int_equal(b[36 + i], (uint8_t)(i * 7 + 3));
    /* the footer's checksum: CRC-16/CCITT-FALSE with the field zero, and
     * the one block info reports */
    uint16_t sum = g16(b + len - 36 + 26);
    b[len - 10] = b[len - 9] = 0;
    assert_int_equal(s7_crc16(b, len), sum);
    uint16_t e;
    s7_header h = info(x, GW_S7_BLK_DB, 4, &e);
    assert_int_equal(g16(h.data + 46 + 26), sum);
    free(b);
    /* a declared OB: header, zero code, footer */
    b = upload(x, GW_S7_BLK_OB, 1, &len, &pieces);
    assert_int_equal(len, 20 + 92);
    assert_int_equal(b[5], 0x08);
    for (size_t i = 0; i < 20; i++)
        assert_int_equal(b[36 + i], 0);
    free(b);
}

static void test_upload_sequence(void **state)
{
    fx *x = *state;
    /* upload and end without a start */
    uint8_t up[8] = {S7_FN_UPLOAD, 0, 0, 0, 0, 0, 0, 1};
    assert_true(job(x, up, 8));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.rosctr, S7_ACK_DATA);
    assert_int_equal(hdr_err(&h), 0x8401);
    up[0] = S7_FN_UPLOAD_END;
    assert_true(job(x, up, 8));
    assert_int_equal(reply_err(x), 0x8401);
    /* unknown block, bad name, short parameter */
    uint8_t par[18] = {S7_FN_UPLOAD_START};
    filename(par + 8, GW_S7_BLK_DB, 55, 'A');
    assert_true(job(x, par, 18));
    assert_int_equal(reply_err(x), 0xD209);
    par[10] = 'X';
    assert_true(job(x, par, 18));
    assert_int_equal(reply_err(x), 0xD201);
    assert_true(job(x, par, 12));
    assert_int_equal(reply_err(x), 0xD201);
    /* a second upload while one runs; a wrong id */
    filename(par + 8, GW_S7_BLK_DB, 1, 'A');
    assert_true(job(x, par, 18));
    h = s7fx_reply_hdr(x);
    assert_int_equal(hdr_err(&h), 0);
    uint8_t id = h.param[7];
    assert_true(job(x, par, 18));
    assert_int_equal(reply_err(x), 0x8304);
    uint8_t wrong[8] = {S7_FN_UPLOAD, 0, 0, 0, 0, 0, 0, (uint8_t)(id + 1)};
    assert_true(job(x, wrong, 8));
    assert_int_equal(reply_err(x), 0x8401);
    /* the whole block in one piece, then one upload too many */
    uint8_t right[8] = {S7_FN_UPLOAD, 0, 0, 0, 0, 0, 0, id};
    assert_true(job(x, right, 8));
    h = s7fx_reply_hdr(x);
    assert_int_equal(hdr_err(&h), 0);
    assert_int_equal(h.param[1], 0);
    assert_true(job(x, right, 8));
    assert_int_equal(reply_err(x), 0x8401);
    right[0] = S7_FN_UPLOAD_END;
    assert_true(job(x, right, 8));
    assert_int_equal(reply_err(x), 0);
    /* a Download Ended job from a client */
    uint8_t de[18] = {S7_FN_DOWNLOAD_END};
    filename(de + 8, GW_S7_BLK_DB, 1, 'P');
    assert_true(job(x, de, 18));
    assert_int_equal(reply_err(x), 0x8401);
}

/* ------------------------------------------------------------ download */

static size_t request_download(fx *x, uint16_t number, size_t load, size_t mc7)
{
    uint8_t par[32] = {S7_FN_REQ_DOWNLOAD, 0, 1, 0, 0, 0, 0, 0};
    filename(par + 8, GW_S7_BLK_DB, number, 'P');
    par[18] = 0x0D;
    par[19] = '1';
    char digits[13];
    snprintf(digits, sizeof(digits), "%06zu%06zu", load, mc7);
    memcpy(par + 20, digits, 12);
    assert_true(job(x, par, 32));
    return x->npackets;
}

/* Answers the CPU's jobs with the block's bytes; returns the error code
 * of its Download Ended job. */
static uint16_t download_bytes(fx *x, const uint8_t *b, size_t len)
{
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(hdr_err(&h), 0);
    assert_int_equal(h.param[0], S7_FN_REQ_DOWNLOAD);
    assert_int_equal(x->npackets, 2);
    s7_header j = s7fx_hdr_at(x, x->second);
    size_t off = 0;
    for (int guard = 0; guard < 100; guard++) {
        assert_int_equal(j.rosctr, S7_JOB);
        assert_int_equal(j.param_len, 18);
        assert_int_equal(j.param[8], 9);
        if (j.param[0] == S7_FN_DOWNLOAD_END) {
            uint16_t code = g16(j.param + 2);
            uint8_t ack = S7_FN_DOWNLOAD_END;
            uint8_t buf[64];
            assert_true(s7fx_serve(x, buf, s7fx_pdu_frame(buf, S7_ACK_DATA, j.pdu_ref, &ack, 1, NULL, 0)));
            /* nothing to say: the empty DT without EOT */
            static const uint8_t dt[7] = {3, 0, 0, 7, 2, 0xF0, 0};
            assert_bytes(x->reply, x->reply_len, dt, 7, "after download ended");
            return code;
        }
        assert_int_equal(j.param[0], S7_FN_DOWNLOAD);
        size_t slice = len - off < 222 ? len - off : 222;
        uint8_t par[2] = {S7_FN_DOWNLOAD, off + slice < len ? 1 : 0};
        uint8_t data[4 + 222] = {(uint8_t)(slice >> 8), (uint8_t)slice, 0x00, 0xFB};
        memcpy(data + 4, b + off, slice);
        off += slice;
        uint8_t buf[300];
        assert_true(s7fx_serve(x, buf, s7fx_pdu_frame(buf, S7_ACK_DATA, j.pdu_ref, par, 2, data, 4 + slice)));
        assert_int_equal(x->npackets, 1);
        j = s7fx_reply_hdr(x);
    }
    fail();
    return 0;
}

static void read_db(fx *x, uint16_t db, uint8_t *out, size_t n, uint8_t *rc)
{
    memset(out, 0, n);
    gw_err e = gw_s7_server_get(x->s, GW_S7_DB, db, 0, (uint32_t)n, out);
    *rc = e == GW_OK ? S7_RC_OK : S7_RC_NO_OBJECT;
}

static void test_download_create_replace(void **state)
{
    fx *x = *state;
    size_t len, pieces;
    uint8_t *b = upload(x, GW_S7_BLK_DB, 4, &len, &pieces);
    /* as DB10 (a new DB): patch the header's number, as snap7 does */
    b[6] = 0;
    b[7] = 10;
    request_download(x, 10, len, 500);
    assert_int_equal(download_bytes(x, b, len), 0);
    /* passive until inserted */
    uint16_t e;
    info(x, GW_S7_BLK_DB, 10, &e);
    assert_int_equal(e, 0xD209);
    assert_int_equal(pi_block(x, "_INSE", GW_S7_BLK_DB, 10, 'P'), 0);
    uint8_t got[500], rc;
    read_db(x, 10, got, 500, &rc);
    assert_int_equal(rc, S7_RC_OK);
    assert_memory_equal(got, b + 36, 500);
    /* a Read Var sees it too */
    uint8_t rd[14] = {S7_FN_READ, 1, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x04, 0x00, 10, 0x84, 0, 0, 0};
    assert_true(job(x, rd, 14));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.data[0], 0xFF);
    assert_memory_equal(h.data + 4, b + 36, 4);
    /* info: downloaded at the CPU clock, names from the footer */
    h = info(x, GW_S7_BLK_DB, 10, &e);
    assert_int_equal(e, 0);
    assert_int_equal(g16(h.data + 10 + 34), 500);
    assert_string_equal((const char *)h.data + 46 + 16, "DB4");
    /* replace DB2 (26 bytes) with 500 bytes */
    b[7] = 2;
    request_download(x, 2, len, 500);
    assert_int_equal(download_bytes(x, b, len), 0);
    assert_int_equal(pi_block(x, "_INSE", GW_S7_BLK_DB, 2, 'P'), 0);
    read_db(x, 2, got, 500, &rc);
    assert_int_equal(rc, S7_RC_OK);
    assert_memory_equal(got, b + 36, 500);
    /* _INSE again: nothing passive is left */
    assert_int_equal(pi_block(x, "_INSE", GW_S7_BLK_DB, 2, 'P'), 0xD209);
    free(b);
}

static void test_download_malformed(void **state)
{
    fx *x = *state;
    size_t len, pieces;
    uint8_t *b = upload(x, GW_S7_BLK_DB, 1, &len, &pieces);
    uint8_t before[100], got[100], rc;
    read_db(x, 1, before, 100, &rc);
    /* each fault: refused at Download Ended and at _INSE; DB1 unchanged */
    static const struct { size_t at; uint8_t v; uint16_t code; } faults[] = {
        {0, 'x', 0xD226},     /* not "pp" */
        {5, 0x0E, 0xD212},    /* an FB */
        {7, 2, 0xD212},       /* another number */
        {11, 0, 0xD219},      /* load length */
        {34, 0xFF, 0xD219},   /* MC7 length */
    };
    for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
        uint8_t *bad = malloc(len);
        memcpy(bad, b, len);
        bad[faults[i].at] = faults[i].v;
        request_download(x, 1, len, 100);
        assert_int_equal(download_bytes(x, bad, len), faults[i].code);
        assert_int_equal(pi_block(x, "_INSE", GW_S7_BLK_DB, 1, 'P'), faults[i].code);
        read_db(x, 1, got, 100, &rc);
        assert_memory_equal(got, before, 100);
        free(bad);
    }
    /* fewer bytes than announced */
    request_download(x, 1, len, 100);
    assert_int_equal(download_bytes(x, b, len - 1), 0xD219);
    /* refused requests: an FB, no part 2, lengths, a number 0 */
    uint8_t par[32] = {S7_FN_REQ_DOWNLOAD, 0, 1, 0, 0, 0, 0, 0};
    filename(par + 8, GW_S7_BLK_FB, 1, 'P');
    memcpy(par + 18, "\x0D" "1000132000040", 14);
    assert_true(job(x, par, 32));
    assert_int_equal(reply_err(x), 0xD238);
    filename(par + 8, GW_S7_BLK_DB, 1, 'P');
    assert_true(job(x, par, 18));
    assert_int_equal(reply_err(x), 0xD202);
    request_download(x, 1, 50, 100);
    assert_int_equal(reply_err(x), 0xD219);
    request_download(x, 1, 999999, 65000);
    assert_int_equal(reply_err(x), 0xD20F);
    filename(par + 8, GW_S7_BLK_DB, 0, 'P');
    assert_true(job(x, par, 32));
    assert_int_equal(reply_err(x), 0xD201);
    /* a second request while loading; an Ack_Data out of step closes */
    request_download(x, 1, len, 100);
    assert_int_equal(x->npackets, 2);
    request_download(x, 1, len, 100);
    assert_int_equal(reply_err(x), 0x8401);
    uint8_t ack[2] = {S7_FN_DOWNLOAD, 0};
    uint8_t buf[64];
    assert_false(s7fx_serve(x, buf, s7fx_pdu_frame(buf, S7_ACK_DATA, 0x7777, ack, 2, NULL, 0)));
    read_db(x, 1, got, 100, &rc);
    assert_memory_equal(got, before, 100);
    free(b);
}

static void test_delete_compress_copy(void **state)
{
    fx *x = *state;
    assert_int_equal(pi_block(x, "_DELE", GW_S7_BLK_DB, 3, 'B'), 0);
    uint8_t got[10], rc;
    read_db(x, 3, got, 10, &rc);
    assert_int_equal(rc, S7_RC_NO_OBJECT);
    /* a Read Var of the deleted DB: "object does not exist" */
    uint8_t rd[14] = {S7_FN_READ, 1, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x01, 0x00, 3, 0x84, 0, 0, 0};
    assert_true(job(x, rd, 14));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.data[0], S7_RC_NO_OBJECT);
    assert_int_equal(pi_block(x, "_DELE", GW_S7_BLK_DB, 3, 'B'), 0xD209);
    assert_int_equal(pi_block(x, "_DELE", GW_S7_BLK_FB, 1, 'B'), 0);
    uint16_t e;
    info(x, GW_S7_BLK_FB, 1, &e);
    assert_int_equal(e, 0xD209);
    /* malformed parameter blocks */
    assert_int_equal(pi(x, "_DELE", (const uint8_t *)"\x01\x00", 2), 0xD202);
    assert_int_equal(pi(x, "_DELE", (const uint8_t *)"\x00\x00", 2), 0xD202);
    assert_int_equal(pi(x, "_DELE", NULL, 0), 0xD202);
    /* compress: acknowledged; copy RAM to ROM only in STOP */
    assert_int_equal(pi(x, "_GARB", NULL, 0), 0);
    assert_int_equal(pi(x, "_MODU", (const uint8_t *)"EP", 2), 0xD081);
    gw_s7_server_set_cpu_state(x->s, GW_S7_CPU_STOP);
    assert_int_equal(pi(x, "_MODU", (const uint8_t *)"EP", 2), 0);
    /* other PI names are not ours */
    s7_header j;
    memset(&j, 0, sizeof(j));
    assert_int_equal(s7__serve_block_pi(x->s, &x->c, &j, "P_PROGRAM", NULL, 0), 0);
    /* with a password set, a session without it is refused */
    pthread_mutex_lock(&x->s->lock);
    snprintf(x->s->password, sizeof(x->s->password), "secret");
    pthread_mutex_unlock(&x->s->lock);
    assert_int_equal(pi_block(x, "_DELE", GW_S7_BLK_DB, 1, 'B'), 0xD241);
    assert_int_equal(pi(x, "_GARB", NULL, 0), 0xD241);
    assert_int_equal(pi(x, "_MODU", (const uint8_t *)"EP", 2), 0xD241);
    request_download(x, 1, 192, 100);
    assert_int_equal(reply_err(x), 0xD241);
    read_db(x, 1, got, 10, &rc);
    assert_int_equal(rc, S7_RC_OK);
}

/* ------------------------------------------------------------ our client */

static void test_client(void **state)
{
    (void)state;
    gw_s7_server *s = new_server(960);
    s7fx_start(s);
    gw_s7_client *c = s7fx_client_up(gw_s7_server_port(s), 240);
    gw_error err;
    gw_error_clear(&err);

    gw_s7_block_counts bc;
    assert_int_equal(gw_s7_list_blocks(c, &bc, &err), GW_OK);
    assert_int_equal(bc.db, 4);
    assert_int_equal(bc.ob, 1);
    assert_int_equal(bc.fb, 1);
    assert_int_equal(bc.fc, 0);
    uint16_t nums[8];
    size_t n;
    assert_int_equal(gw_s7_list_blocks_of_type(c, GW_S7_BLK_DB, nums, 8, &n, &err), GW_OK);
    assert_int_equal(n, 4);
    assert_int_equal(nums[3], 4);
    assert_int_equal(gw_s7_list_blocks_of_type(c, GW_S7_BLK_FC, nums, 8, &n, &err), GW_OK);
    assert_int_equal(n, 0);
    assert_int_equal(gw_s7_list_blocks_of_type(c, GW_S7_BLK_DB, nums, 2, &n, &err), GW_E_RANGE);

    gw_s7_block_info bi;
    assert_int_equal(gw_s7_block_info_read(c, GW_S7_BLK_DB, 4, &bi, &err), GW_OK);
    assert_int_equal(bi.type, GW_S7_BLK_DB);
    assert_int_equal(bi.mc7_size, 500);
    assert_int_equal(bi.load_size, 592);
    assert_int_equal(bi.lang, 5);
    assert_string_equal(bi.name, "DB4");
    assert_true(bi.code_ms / 86400000 == s->started_ms / 86400000);
    uint16_t info_sum = bi.checksum;
    gw_error_clear(&err);
    assert_int_equal(gw_s7_block_info_read(c, GW_S7_BLK_DB, 99, &bi, &err), GW_E_NOT_FOUND);
    assert_int_equal(err.device_code, 0xD209);
    assert_true(gw_s7_connected(c));

    uint8_t *blk = NULL;
    size_t len = 0;
    assert_int_equal(gw_s7_upload(c, GW_S7_BLK_DB, 4, &blk, &len, &err), GW_OK);
    assert_int_equal(len, 592);
    uint16_t sum = g16(blk + len - 10);
    blk[len - 10] = blk[len - 9] = 0;
    assert_int_equal(s7_crc16(blk, len), sum);
    assert_int_equal(sum, info_sum);
    gw_error_clear(&err);
    uint8_t *none = NULL;
    size_t none_len = 0;
    assert_int_equal(gw_s7_upload(c, GW_S7_BLK_FC, 3, &none, &none_len, &err), GW_E_NOT_FOUND);
    assert_null(none);
    assert_true(gw_s7_connected(c));

    /* download as DB20, read it back */
    blk[7] = 20;
    gw_error_clear(&err);
    gw_err rc = gw_s7_download(c, blk, len, &err);
    assert_int_equal(rc, GW_OK);
    uint8_t back[500];
    gw_s7_range r;
    memset(&r, 0, sizeof(r));
    r.area = GW_S7_DB;
    r.db = 20;
    r.len = 500;
    r.dst = back;
    assert_int_equal(gw_s7_read(c, &r, 1, &err), GW_OK);
    assert_int_equal(r.result, GW_OK);
    assert_memory_equal(back, blk + 36, 500);
    assert_int_equal(gw_s7_block_delete(c, GW_S7_BLK_DB, 20, &err), GW_OK);
    assert_int_equal(gw_s7_compress(c, &err), GW_OK);
    gw_error_clear(&err);
    assert_int_equal(gw_s7_copy_ram_to_rom(c, &err), GW_E_DEVICE_REJECTED);
    assert_int_equal(err.device_code, 0xD081);
    /* a block that is no block is refused before anything is sent */
    blk[0] = 'x';
    assert_int_equal(gw_s7_download(c, blk, len, &err), GW_E_INVAL);
    assert_true(gw_s7_connected(c));
    gw_free(blk);
    gw_s7_client_free(c);
    gw_s7_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_of_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_of_type_in_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_download_create_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_download_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_compress_copy, setup, teardown),
        cmocka_unit_test(test_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
