/*
 * test_codec.c - the S7comm codec (s7_codec.h) against the example frames
 * of docs/s7comm.md, copied byte for byte from the document:
 *
 *   2.1  snap7 CR and the CC a snap7 server answers
 *   5    setup communication, snap7 request and S7-1200 reply
 *   6    read DB1.DBW2 request and response; two-item read data with a
 *        fill byte
 *   7    single-bit write M10.3 := 1 and its reply
 *   6.2  error items `0A 00 00 00` / `05 00 00 00` (S7NET-310)
 *   9    PUT/GET disabled: `32 02 00 00 00 00 00 00 00 00 81 04`
 *   11   SZL 0x0011 and 0x0424 requests and the snap7 server's answers
 *
 * Encoders must give exactly these bytes, decoders exactly the fields.
 * Every truncation of every frame is decoded from a heap copy of exactly
 * that many bytes, so that a read past the end shows up under ASan.
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

/* ------------------------------------------------------------ frames */

/* docs/s7comm.md 2.1: the CC a snap7 server answers to CR_SNAP7 */
static const uint8_t CC_SNAP7[] = {0x03, 0x00, 0x00, 0x16, 0x11, 0xD0, 0x00, 0x01,
                                   0x00, 0x01, 0x00, 0xC0, 0x01, 0x0A, 0xC1, 0x02,
                                   0x01, 0x00, 0xC2, 0x02, 0x01, 0x01};
/* docs/s7comm.md 5 */
static const uint8_t SETUP_REQ[] = {0x03, 0x00, 0x00, 0x19, 0x02, 0xF0, 0x80, 0x32, 0x01,
                                    0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0xF0,
                                    0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xE0};
static const uint8_t SETUP_RSP[] = {0x03, 0x00, 0x00, 0x1B, 0x02, 0xF0, 0x80, 0x32, 0x03,
                                    0x00, 0x00, 0x04, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
                                    0x00, 0xF0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0xF0};
/* docs/s7comm.md 6.2: DB1.DBB0 BYTE x3 then MB10 BYTE x1, data part */
static const uint8_t TWO_ITEMS[] = {0xFF, 0x04, 0x00, 0x18, 0xAA, 0xBB, 0xCC,
                                    0x00, 0xFF, 0x04, 0x00, 0x08, 0xDD};
/* docs/s7comm.md 6.2 (S7NET-310): S7 PDUs, no TPKT/COTP */
static const uint8_t PDU_MISSING_DB[] = {0x32, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
                                         0x04, 0x00, 0x00, 0x04, 0x01, 0x0A, 0x00, 0x00, 0x00};
static const uint8_t PDU_PAST_END[] = {0x32, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
                                       0x04, 0x00, 0x00, 0x04, 0x01, 0x05, 0x00, 0x00, 0x00};
/* docs/s7comm.md 9: PUT/GET disabled */
static const uint8_t PDU_PUTGET_OFF[] = {0x32, 0x02, 0x00, 0x00, 0x00, 0x00,
                                         0x00, 0x00, 0x00, 0x00, 0x81, 0x04};
/* docs/s7comm.md 11.3 (the request is in s7_doc_frames.h) */
static const uint8_t SZL11_RSP[] = {
    0x03, 0x00, 0x00, 0x99, 0x02, 0xF0, 0x80, 0x32, 0x07, 0x00, 0x00, 0x00, 0x03, 0x00, 0x0C,
    0x00, 0x7C, 0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF,
    0x09, 0x00, 0x78, 0x00, 0x11, 0x00, 0x00, 0x00, 0x1C, 0x00, 0x04,
    /* index 1: "6ES7 315-2EH14-0AB0 " */
    0x00, 0x01, 0x36, 0x45, 0x53, 0x37, 0x20, 0x33, 0x31, 0x35, 0x2D, 0x32, 0x45, 0x48, 0x31,
    0x34, 0x2D, 0x30, 0x41, 0x42, 0x30, 0x20, 0x00, 0xC0, 0x00, 0x04, 0x00, 0x01,
    /* index 6 */
    0x00, 0x06, 0x36, 0x45, 0x53, 0x37, 0x20, 0x33, 0x31, 0x35, 0x2D, 0x32, 0x45, 0x48, 0x31,
    0x34, 0x2D, 0x30, 0x41, 0x42, 0x30, 0x20, 0x00, 0xC0, 0x00, 0x04, 0x00, 0x01,
    /* index 7: firmware V3.2.6 */
    0x00, 0x07, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x00, 0xC0, 0x56, 0x03, 0x02, 0x06,
    /* index 0x81: "Boot Loader" */
    0x00, 0x81, 0x42, 0x6F, 0x6F, 0x74, 0x20, 0x4C, 0x6F, 0x61, 0x64, 0x65, 0x72, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x41, 0x20, 0x09, 0x09};
/* docs/s7comm.md 11.4 */
static const uint8_t SZL424_REQ[] = {0x03, 0x00, 0x00, 0x21, 0x02, 0xF0, 0x80, 0x32, 0x07,
                                     0x00, 0x00, 0x00, 0x04, 0x00, 0x08, 0x00, 0x08, 0x00,
                                     0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00, 0xFF, 0x09,
                                     0x00, 0x04, 0x04, 0x24, 0x00, 0x00};
static const uint8_t SZL424_RSP[] = {
    0x03, 0x00, 0x00, 0x3D, 0x02, 0xF0, 0x80, 0x32, 0x07, 0x00, 0x00, 0x00, 0x04, 0x00, 0x0C,
    0x00, 0x20, 0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF,
    0x09, 0x00, 0x1C, 0x04, 0x24, 0x00, 0x00, 0x00, 0x14, 0x00, 0x01, 0x51, 0x44, 0xFF, 0x08,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24, 0x05, 0x17, 0x10, 0x30, 0x00, 0x00,
    0x05};

typedef struct {
    const char *name;
    const uint8_t *bytes;
    size_t len;
} frame;

#define FRAME(a) {#a, a, sizeof(a)}

/* Every whole TPKT frame of the document. */
static const frame TPKT_FRAMES[] = {
    FRAME(CR_SNAP7),  FRAME(CC_SNAP7),      FRAME(SETUP_REQ), FRAME(SETUP_RSP),
    FRAME(READ_REQ),  FRAME(READ_RSP),      FRAME(WRITE_BIT_REQ), FRAME(WRITE_RSP),
    FRAME(SZL11_REQ), FRAME(SZL11_RSP),     FRAME(SZL424_REQ), FRAME(SZL424_RSP),
    FRAME(SZL11_REQ_PYSNAP7),
};

/* ------------------------------------------------------------ helpers */

/* A heap copy of exactly n bytes (n may be 0), so ASan sees overreads. */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    assert_non_null(q);
    if (n)
        memcpy(q, p, n);
    return q;
}

/* The S7 PDU inside a DT frame. */
static const uint8_t *dt_pdu(const uint8_t *f, size_t len, size_t *pdu_len)
{
    s7_cotp c;
    assert_int_equal(s7_cotp_decode(f, len, &c), GW_OK);
    assert_int_equal(c.type, S7_COTP_DT);
    assert_true(c.eot);
    *pdu_len = c.payload_len;
    return c.payload;
}

/* ------------------------------------------------------------ TPKT, COTP */

static void test_tpkt_length(void **state)
{
    (void)state;
    size_t total = 0;
    for (size_t i = 0; i < sizeof(TPKT_FRAMES) / sizeof(TPKT_FRAMES[0]); i++) {
        assert_int_equal(s7_tpkt_length(TPKT_FRAMES[i].bytes, &total), GW_OK);
        assert_int_equal(total, TPKT_FRAMES[i].len);
    }
    const uint8_t min7[4] = {3, 0, 0, 7}, len6[4] = {3, 0, 0, 6}, len0[4] = {3, 0, 0, 0};
    const uint8_t v2[4] = {2, 0, 0, 22}, v0[4] = {0, 0, 0, 22}, max[4] = {3, 0, 0xFF, 0xFF};
    assert_int_equal(s7_tpkt_length(min7, &total), GW_OK);
    assert_int_equal(total, 7);
    assert_int_equal(s7_tpkt_length(max, &total), GW_OK);
    assert_int_equal(total, 65535);
    assert_int_equal(s7_tpkt_length(len6, &total), GW_E_PROTOCOL);
    assert_int_equal(s7_tpkt_length(len0, &total), GW_E_PROTOCOL);
    assert_int_equal(s7_tpkt_length(v2, &total), GW_E_PROTOCOL);
    assert_int_equal(s7_tpkt_length(v0, &total), GW_E_PROTOCOL);
}

static void test_cr_cc(void **state)
{
    (void)state;
    /* encode the snap7 CR (src ref wire bytes 00 01) */
    s7_cotp cr = {0};
    cr.type = S7_COTP_CR;
    cr.dst_ref = 0x0000;
    cr.src_ref = 0x0001;
    cr.class_opt = 0x00;
    cr.has_tpdu_size = true;
    cr.tpdu_size = 0x0A;
    cr.has_src_tsap = cr.has_dst_tsap = true;
    cr.src_tsap = 0x0100;
    cr.dst_tsap = 0x0101;
    uint8_t buf[64];
    size_t n = s7_cotp_encode_conn(buf, sizeof(buf), &cr);
    assert_bytes(buf, n, CR_SNAP7, sizeof(CR_SNAP7), "CR");
    assert_int_equal(s7_cotp_encode_conn(buf, sizeof(CR_SNAP7) - 1, &cr), 0);
    assert_int_equal(s7_cotp_encode_conn(buf, sizeof(CR_SNAP7), &cr), sizeof(CR_SNAP7));

    /* decode it */
    s7_cotp d;
    assert_int_equal(s7_cotp_decode(CR_SNAP7, sizeof(CR_SNAP7), &d), GW_OK);
    assert_int_equal(d.type, S7_COTP_CR);
    assert_int_equal(d.dst_ref, 0x0000);
    assert_int_equal(d.src_ref, 0x0001);
    assert_int_equal(d.class_opt, 0x00);
    assert_true(d.has_tpdu_size);
    assert_int_equal(d.tpdu_size, 0x0A);
    assert_true(d.has_src_tsap);
    assert_int_equal(d.src_tsap, 0x0100);
    assert_true(d.has_dst_tsap);
    assert_int_equal(d.dst_tsap, 0x0101);
    assert_null(d.payload);
    assert_int_equal(d.payload_len, 0);

    /* the CC of a snap7 server */
    s7_cotp cc = cr;
    cc.type = S7_COTP_CC;
    cc.dst_ref = 0x0001;
    cc.src_ref = 0x0001;
    n = s7_cotp_encode_conn(buf, sizeof(buf), &cc);
    assert_bytes(buf, n, CC_SNAP7, sizeof(CC_SNAP7), "CC");
    assert_int_equal(s7_cotp_decode(CC_SNAP7, sizeof(CC_SNAP7), &d), GW_OK);
    assert_int_equal(d.type, S7_COTP_CC);
    assert_int_equal(d.dst_ref, 0x0001);
    assert_int_equal(d.src_ref, 0x0001);
    assert_int_equal(d.tpdu_size, 0x0A);
    assert_int_equal(d.src_tsap, 0x0100);
    assert_int_equal(d.dst_tsap, 0x0101);

    /* parameters in python-snap7's order C1, C2, C0, and an unknown one */
    const uint8_t ps7[] = {0x03, 0x00, 0x00, 0x19, 0x14, 0xE0, 0x00, 0x00, 0x00,
                           0x01, 0x00, 0xC1, 0x02, 0x01, 0x00, 0xC2, 0x02, 0x03,
                           0x23, 0xC0, 0x01, 0x09, 0xC5, 0x01, 0x77};
    assert_int_equal(s7_cotp_decode(ps7, sizeof(ps7), &d), GW_OK);
    assert_int_equal(d.type, S7_COTP_CR);
    assert_int_equal(d.tpdu_size, 0x09);
    assert_int_equal(d.src_tsap, 0x0100);
    assert_int_equal(d.dst_tsap, 0x0323);

    /* no parameters at all (LI 6) */
    s7_cotp bare = {0};
    bare.type = S7_COTP_CC;
    bare.dst_ref = 0x1234;
    bare.src_ref = 0x5678;
    const uint8_t bare_bytes[] = {0x03, 0x00, 0x00, 0x0B, 0x06, 0xD0,
                                  0x12, 0x34, 0x56, 0x78, 0x00};
    n = s7_cotp_encode_conn(buf, sizeof(buf), &bare);
    assert_bytes(buf, n, bare_bytes, sizeof(bare_bytes), "bare CC");
    assert_int_equal(s7_cotp_decode(bare_bytes, sizeof(bare_bytes), &d), GW_OK);
    assert_false(d.has_tpdu_size || d.has_src_tsap || d.has_dst_tsap);
    assert_int_equal(d.dst_ref, 0x1234);
    assert_int_equal(d.src_ref, 0x5678);
}

/* TSAPs of other lengths than 2 (RFC 905 13.3.4 a)): S7CommPlus's CR, the
 * exact bytes of py7's client (docs/s7commplus.md S1), both ways. */
static const uint8_t CR_S7PLUS[] = {
    0x03, 0x00, 0x00, 0x24, 0x1F, 0xE0, 0x00, 0x00, 0x00, 0x01, 0x00, 0xC1, 0x02, 0x06,
    0x00, 0xC2, 0x10, 'S',  'I',  'M',  'A',  'T',  'I',  'C',  '-',  'R',  'O',  'O',
    'T',  '-',  'H',  'M',  'I',  0xC0, 0x01, 0x0A};

static void test_cr_tsap_string(void **state)
{
    (void)state;
    s7_cotp cr = {0};
    cr.type = S7_COTP_CR;
    cr.src_ref = 0x0001;
    cr.has_tpdu_size = true;
    cr.tpdu_size = 0x0A;
    cr.tpdu_size_last = true;                  /* C1 C2 C0, as py7 sends */
    cr.has_src_tsap = cr.has_dst_tsap = true;
    cr.src_tsap = 0x0600;                      /* the 2-byte form */
    assert_true(s7_tsap_set(&cr.dst_tsap_bytes, "SIMATIC-ROOT-HMI", 16));
    uint8_t buf[96];
    size_t n = s7_cotp_encode_conn(buf, sizeof(buf), &cr);
    assert_bytes(buf, n, CR_S7PLUS, sizeof(CR_S7PLUS), "S7CommPlus CR");
    assert_int_equal(s7_cotp_encode_conn(buf, sizeof(CR_S7PLUS) - 1, &cr), 0);
    /* the same with the calling TSAP as bytes */
    cr.src_tsap = 0;
    cr.src_tsap_bytes = s7_tsap_from16(0x0600);
    n = s7_cotp_encode_conn(buf, sizeof(buf), &cr);
    assert_bytes(buf, n, CR_S7PLUS, sizeof(CR_S7PLUS), "S7CommPlus CR, bytes");

    s7_cotp d;
    assert_int_equal(s7_cotp_decode(CR_S7PLUS, sizeof(CR_S7PLUS), &d), GW_OK);
    assert_int_equal(d.type, S7_COTP_CR);
    assert_int_equal(d.src_ref, 0x0001);
    assert_true(d.has_tpdu_size && d.tpdu_size_last);
    assert_int_equal(d.tpdu_size, 0x0A);
    assert_true(d.has_src_tsap && d.has_dst_tsap);
    assert_int_equal(d.src_tsap, 0x0600);
    s7_tsap want = s7_tsap_from16(0x0600);
    assert_true(s7_tsap_equal(&d.src_tsap_bytes, &want));
    assert_int_equal(d.dst_tsap, 0);           /* not a 2-byte TSAP */
    assert_int_equal(d.dst_tsap_bytes.len, 16);
    assert_memory_equal(d.dst_tsap_bytes.bytes, "SIMATIC-ROOT-HMI", 16);
    /* decode -> encode gives the same bytes */
    n = s7_cotp_encode_conn(buf, sizeof(buf), &d);
    assert_bytes(buf, n, CR_S7PLUS, sizeof(CR_S7PLUS), "S7CommPlus CR re-encoded");

    /* a TSAP over S7_TSAP_MAX: not encoded; on the wire ignored like an
     * unknown parameter */
    cr.dst_tsap_bytes.len = S7_TSAP_MAX + 1;
    assert_int_equal(s7_cotp_encode_conn(buf, sizeof(buf), &cr), 0);
    uint8_t big[4 + 7 + 2 + 33];
    memset(big, 'x', sizeof(big));
    memcpy(big, (const uint8_t[]){0x03, 0x00, 0x00, sizeof(big), 6 + 2 + 33, 0xE0, 0x00, 0x00,
                                  0x00, 0x01, 0x00, 0xC2, 33}, 13);
    assert_int_equal(s7_cotp_decode(big, sizeof(big), &d), GW_OK);
    assert_false(d.has_dst_tsap);
    assert_int_equal(d.dst_tsap_bytes.len, 0);
    /* ...but one that runs past LI stays an error */
    uint8_t lie[sizeof(CR_S7PLUS)];
    memcpy(lie, CR_S7PLUS, sizeof(lie));
    lie[16] = 0x14; /* C2 length 20, 19 bytes left */
    assert_int_equal(s7_cotp_decode(lie, sizeof(lie), &d), GW_E_PROTOCOL);
    lie[16] = 0x00; /* zero length: skipped, then C2's bytes read as parameters */
    assert_int_not_equal(s7_cotp_decode(lie, sizeof(lie), &d), GW_OK);
    assert_false(s7_tsap_set(&want, "x", 0));
    assert_false(s7_tsap_set(&want, big, S7_TSAP_MAX + 1));
    assert_int_equal(want.len, 0);
}

/* py7's emulator CC: `09 d0 <ref> 00 01 00 c0 01 0a`, no TSAPs
 * (docs/s7commplus.md S1). */
static void test_cc_py7(void **state)
{
    (void)state;
    const uint8_t cc_py7[] = {0x03, 0x00, 0x00, 0x0E, 0x09, 0xD0, 0x00, 0x01,
                              0x00, 0x01, 0x00, 0xC0, 0x01, 0x0A};
    s7_cotp d;
    assert_int_equal(s7_cotp_decode(cc_py7, sizeof(cc_py7), &d), GW_OK);
    assert_int_equal(d.type, S7_COTP_CC);
    assert_int_equal(d.dst_ref, 0x0001);
    assert_int_equal(d.src_ref, 0x0001);
    assert_true(d.has_tpdu_size);
    assert_int_equal(d.tpdu_size, 0x0A);
    assert_false(d.has_src_tsap || d.has_dst_tsap);
    s7_cotp cc = {0};
    cc.type = S7_COTP_CC;
    cc.dst_ref = 0x0001;
    cc.src_ref = 0x0001;
    cc.has_tpdu_size = true;
    cc.tpdu_size = 0x0A;
    uint8_t buf[64];
    size_t n = s7_cotp_encode_conn(buf, sizeof(buf), &cc);
    assert_bytes(buf, n, cc_py7, sizeof(cc_py7), "py7 CC");
}

static void test_dr_dc_dt(void **state)
{
    (void)state;
    uint8_t buf[64];
    const uint8_t dr[] = {0x03, 0x00, 0x00, 0x0B, 0x06, 0x80, 0x44, 0x00, 0x00, 0x01, 0x80};
    size_t n = s7_cotp_encode_dr(buf, sizeof(buf), 0x4400, 0x0001, 0x80);
    assert_bytes(buf, n, dr, sizeof(dr), "DR");
    assert_int_equal(s7_cotp_encode_dr(buf, sizeof(dr) - 1, 0x4400, 1, 0x80), 0);
    s7_cotp d;
    assert_int_equal(s7_cotp_decode(dr, sizeof(dr), &d), GW_OK);
    assert_int_equal(d.type, S7_COTP_DR);
    assert_int_equal(d.dst_ref, 0x4400);
    assert_int_equal(d.src_ref, 0x0001);
    assert_int_equal(d.reason, 0x80);

    const uint8_t dc[] = {0x03, 0x00, 0x00, 0x0A, 0x05, 0xC0, 0x00, 0x01, 0x44, 0x00};
    n = s7_cotp_encode_dc(buf, sizeof(buf), 0x0001, 0x4400);
    assert_bytes(buf, n, dc, sizeof(dc), "DC");
    assert_int_equal(s7_cotp_encode_dc(buf, sizeof(dc) - 1, 1, 0x4400), 0);
    assert_int_equal(s7_cotp_decode(dc, sizeof(dc), &d), GW_OK);
    assert_int_equal(d.type, S7_COTP_DC);
    assert_int_equal(d.dst_ref, 0x0001);
    assert_int_equal(d.src_ref, 0x4400);
    assert_int_equal(d.reason, 0);

    /* DT around a 2-byte payload */
    memset(buf, 0xEE, sizeof(buf));
    buf[7] = 0xAB;
    buf[8] = 0xCD;
    n = s7_frame_dt(buf, 2);
    const uint8_t dt[] = {0x03, 0x00, 0x00, 0x09, 0x02, 0xF0, 0x80, 0xAB, 0xCD};
    assert_bytes(buf, n, dt, sizeof(dt), "DT");
    assert_int_equal(s7_cotp_decode(dt, sizeof(dt), &d), GW_OK);
    assert_int_equal(d.type, S7_COTP_DT);
    assert_true(d.eot);
    assert_int_equal(d.payload_len, 2);
    assert_ptr_equal(d.payload, dt + 7);

    /* the 7-byte "fast acknowledge" DT without EOT (docs 1) */
    const uint8_t fast_ack[] = {0x03, 0x00, 0x00, 0x07, 0x02, 0xF0, 0x00};
    assert_int_equal(s7_cotp_decode(fast_ack, sizeof(fast_ack), &d), GW_OK);
    assert_int_equal(d.type, S7_COTP_DT);
    assert_false(d.eot);
    assert_int_equal(d.payload_len, 0);
}

static void test_tpdu_bytes_and_tsap(void **state)
{
    (void)state;
    /* docs/s7comm.md 2.1, TPDU-size table */
    static const struct {
        uint8_t code;
        size_t bytes;
    } t[] = {{0x00, 0},   {0x01, 0},    {0x06, 0},    {0x07, 128},  {0x08, 256},
             {0x09, 512}, {0x0A, 1024}, {0x0B, 2048}, {0x0C, 4096}, {0x0D, 8192},
             {0x0E, 0},   {0x10, 0},    {0x8A, 0},    {0xFF, 0}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (s7_tpdu_bytes(t[i].code) != t[i].bytes)
            print_error("code 0x%02X\n", t[i].code);
        assert_int_equal(s7_tpdu_bytes(t[i].code), t[i].bytes);
    }
    /* docs/s7comm.md 3: (type << 8) + rack * 0x20 + slot */
    assert_int_equal(s7_remote_tsap(S7_CONN_PG, 0, 1), 0x0101);
    assert_int_equal(s7_remote_tsap(S7_CONN_PG, 0, 2), 0x0102);
    assert_int_equal(s7_remote_tsap(S7_CONN_OP, 0, 2), 0x0202);
    assert_int_equal(s7_remote_tsap(S7_CONN_PG, 1, 3), 0x0123);
    assert_int_equal(s7_remote_tsap(S7_CONN_BASIC, 0, 0), 0x0300);
    assert_int_equal(s7_remote_tsap(S7_CONN_PG, 7, 31), 0x01FF);
}

/* ------------------------------------------------------------ S7 header */

static void test_setup_frames(void **state)
{
    (void)state;
    /* the snap7 request: ref 0, AmQ 1/1, PDU 480 */
    uint8_t buf[64];
    uint8_t *p = buf + S7_FRAME_HDR;
    size_t h = s7_header_encode(p, S7_JOB, 0x0000, S7_SETUP_PARAM, 0, 0, 0);
    assert_int_equal(h, S7_HDR_JOB);
    s7_setup want = {1, 1, 480};
    assert_int_equal(s7_setup_encode_param(p + h, &want), S7_SETUP_PARAM);
    size_t n = s7_frame_dt(buf, h + S7_SETUP_PARAM);
    assert_bytes(buf, n, SETUP_REQ, sizeof(SETUP_REQ), "setup request");

    /* the S7-1200 reply: ref 0x0400, AmQ 1/1, PDU 240 */
    size_t pl;
    const uint8_t *pdu = dt_pdu(SETUP_RSP, sizeof(SETUP_RSP), &pl);
    s7_header hd;
    assert_int_equal(s7_header_decode(pdu, pl, &hd), GW_OK);
    assert_int_equal(hd.rosctr, S7_ACK_DATA);
    assert_int_equal(hd.pdu_ref, 0x0400);
    assert_int_equal(hd.param_len, 8);
    assert_int_equal(hd.data_len, 0);
    assert_int_equal(hd.err_class, 0);
    assert_int_equal(hd.err_code, 0);
    assert_ptr_equal(hd.param, pdu + 12);
    s7_setup got;
    assert_int_equal(s7_setup_decode_param(hd.param, hd.param_len, &got), GW_OK);
    assert_int_equal(got.amq_calling, 1);
    assert_int_equal(got.amq_called, 1);
    assert_int_equal(got.pdu_len, 240);
    /* and encoding the same fields gives the same bytes */
    h = s7_header_encode(p, S7_ACK_DATA, 0x0400, S7_SETUP_PARAM, 0, 0, 0);
    assert_int_equal(h, S7_HDR_ACK);
    s7_setup_encode_param(p + h, &got);
    n = s7_frame_dt(buf, h + S7_SETUP_PARAM);
    assert_bytes(buf, n, SETUP_RSP, sizeof(SETUP_RSP), "setup reply");

    /* setup parameter: wrong function, short */
    const uint8_t bad_fn[8] = {0x04, 0, 0, 1, 0, 1, 0, 0xF0};
    assert_int_equal(s7_setup_decode_param(bad_fn, 8, &got), GW_E_PROTOCOL);
    assert_int_equal(s7_setup_decode_param(hd.param, 7, &got), GW_E_PROTOCOL);
}

static void test_ack_putget_disabled(void **state)
{
    (void)state;
    s7_header h;
    assert_int_equal(s7_header_decode(PDU_PUTGET_OFF, sizeof(PDU_PUTGET_OFF), &h), GW_OK);
    assert_int_equal(h.rosctr, S7_ACK);
    assert_int_equal(h.pdu_ref, 0);
    assert_int_equal(h.param_len, 0);
    assert_int_equal(h.data_len, 0);
    assert_int_equal(h.err_class, 0x81);
    assert_int_equal(h.err_code, 0x04);
    uint8_t buf[16];
    size_t n = s7_header_encode(buf, S7_ACK, 0, 0, 0, 0x81, 0x04);
    assert_bytes(buf, n, PDU_PUTGET_OFF, sizeof(PDU_PUTGET_OFF), "PUT/GET ack");
    assert_string_equal(s7_header_error_text(0x81, 0x04),
                        "function not supported or not allowed by the CPU");
    assert_string_equal(s7_header_error_text(0, 0), "no error");
    assert_string_equal(s7_header_error_text(0x87, 0x01), "access error");
    assert_string_equal(s7_header_error_text(0x12, 0x34), "unknown error");

    /* a job header is 10 bytes, and has no error bytes */
    n = s7_header_encode(buf, S7_JOB, 0xBEEF, 0x0102, 0x0304, 0x81, 0x04);
    const uint8_t job[] = {0x32, 0x01, 0x00, 0x00, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04};
    assert_bytes(buf, n, job, sizeof(job), "job header");
    n = s7_header_encode(buf, S7_USERDATA, 1, 0, 0, 0, 0);
    assert_int_equal(n, S7_HDR_JOB);
}

static void test_header_lies(void **state)
{
    (void)state;
    s7_header h;
    /* read request PDU, 24 bytes: 10 header + 14 parameter */
    size_t pl;
    const uint8_t *pdu = dt_pdu(READ_REQ, sizeof(READ_REQ), &pl);
    assert_int_equal(pl, 24);
    uint8_t b[64];
    memcpy(b, pdu, pl);
    assert_int_equal(s7_header_decode(b, pl, &h), GW_OK);

    b[7] = 0x0F; /* parameter length 15 > 14 present */
    assert_int_equal(s7_header_decode(b, pl, &h), GW_E_PROTOCOL);
    b[7] = 0x0E;
    b[9] = 0x01; /* data length 1, none present */
    assert_int_equal(s7_header_decode(b, pl, &h), GW_E_PROTOCOL);
    b[9] = 0x00;
    b[6] = 0xFF; /* parameter length 0xFF0E */
    assert_int_equal(s7_header_decode(b, pl, &h), GW_E_PROTOCOL);
    b[6] = 0x00;
    b[8] = 0xFF; /* data length 0xFF00 */
    assert_int_equal(s7_header_decode(b, pl, &h), GW_E_PROTOCOL);
    b[8] = 0x00;
    b[0] = 0x72; /* S7CommPlus */
    assert_int_equal(s7_header_decode(b, pl, &h), GW_E_PROTOCOL);
    b[0] = 0x32;
    for (unsigned r = 0; r < 256; r++) { /* only ROSCTR 1, 2, 3, 7 */
        b[1] = (uint8_t)r;
        gw_err want = (r == 1 || r == 7) ? GW_OK : GW_E_PROTOCOL;
        if (r == 2 || r == 3) /* 12-byte header: the parameter now overruns by 2 */
            want = GW_E_PROTOCOL;
        assert_int_equal(s7_header_decode(b, pl, &h), want);
    }
    /* an ack_data of only 10 bytes: no room for the error bytes */
    const uint8_t short_ack[10] = {0x32, 0x03, 0, 0, 0, 1, 0, 0, 0, 0};
    assert_int_equal(s7_header_decode(short_ack, 10, &h), GW_E_PROTOCOL);
    /* the PDU of the read response: ack_data, parameter 2, data 6 */
    const uint8_t *rsp = dt_pdu(READ_RSP, sizeof(READ_RSP), &pl);
    memcpy(b, rsp, pl);
    assert_int_equal(s7_header_decode(b, pl, &h), GW_OK);
    b[9] = 0x07; /* data 7 > 6 */
    assert_int_equal(s7_header_decode(b, pl, &h), GW_E_PROTOCOL);
}

/* ------------------------------------------------------------ read/write */

static void test_read_db1_dbw2(void **state)
{
    (void)state;
    s7_item it = {S7_TS_WORD, 1, 1, S7_AREA_DB, 2 * 8};
    uint8_t buf[128];
    size_t n = s7_encode_read_req(buf, sizeof(buf), 0x0001, &it, 1);
    assert_bytes(buf, n, READ_REQ, sizeof(READ_REQ), "read request");
    assert_int_equal(s7_encode_read_req(buf, sizeof(READ_REQ) - 1, 1, &it, 1), 0);
    assert_int_equal(s7_encode_read_req(buf, sizeof(READ_REQ), 1, &it, 1), sizeof(READ_REQ));
    assert_int_equal(S7_READ_REQ_SIZE(1), 24);

    /* decode the request back */
    size_t pl;
    const uint8_t *pdu = dt_pdu(READ_REQ, sizeof(READ_REQ), &pl);
    s7_header h;
    assert_int_equal(s7_header_decode(pdu, pl, &h), GW_OK);
    assert_int_equal(h.rosctr, S7_JOB);
    assert_int_equal(h.pdu_ref, 1);
    assert_int_equal(h.param_len, 14);
    assert_int_equal(h.data_len, 0);
    assert_int_equal(h.param[0], S7_FN_READ);
    s7_item items[4];
    size_t count = 99;
    assert_int_equal(s7_decode_items(h.param, h.param_len, items, 4, &count), GW_OK);
    assert_int_equal(count, 1);
    assert_int_equal(items[0].tsize, S7_TS_WORD);
    assert_int_equal(items[0].count, 1);
    assert_int_equal(items[0].db, 1);
    assert_int_equal(items[0].area, S7_AREA_DB);
    assert_int_equal(items[0].bitaddr, 0x10);

    /* the response */
    pdu = dt_pdu(READ_RSP, sizeof(READ_RSP), &pl);
    assert_int_equal(s7_header_decode(pdu, pl, &h), GW_OK);
    assert_int_equal(h.rosctr, S7_ACK_DATA);
    assert_int_equal(h.pdu_ref, 1);
    assert_int_equal(h.param_len, 2);
    assert_int_equal(h.data_len, 6);
    assert_int_equal(h.err_class, 0);
    assert_int_equal(h.param[0], S7_FN_READ);
    assert_int_equal(h.param[1], 1);
    s7_data d;
    assert_int_equal(s7_decode_data(h.data, h.data_len, 1, &d), GW_OK);
    assert_int_equal(d.rc, S7_RC_OK);
    assert_int_equal(d.dts, S7_DTS_BYTE);
    assert_int_equal(d.len, 2);
    assert_int_equal(d.bytes[0], 0x12);
    assert_int_equal(d.bytes[1], 0x34);

    /* encode the response: header, 04 01, data */
    const uint8_t word[2] = {0x12, 0x34};
    s7_data out = {S7_RC_OK, s7_reply_dts(S7_TS_WORD), word, 2};
    uint8_t *p = buf + S7_FRAME_HDR;
    size_t dl = s7_encode_data(p + S7_HDR_ACK + 2, 64, &out, 1);
    assert_int_equal(dl, 6);
    size_t hl = s7_header_encode(p, S7_ACK_DATA, 1, 2, (uint16_t)dl, 0, 0);
    p[hl] = S7_FN_READ;
    p[hl + 1] = 1;
    n = s7_frame_dt(buf, hl + 2 + dl);
    assert_bytes(buf, n, READ_RSP, sizeof(READ_RSP), "read response");
    uint16_t lens[1] = {2};
    assert_int_equal(s7_read_reply_size(lens, 1), pl);
}

static void test_two_items_fill(void **state)
{
    (void)state;
    s7_data d[2];
    assert_int_equal(s7_decode_data(TWO_ITEMS, sizeof(TWO_ITEMS), 2, d), GW_OK);
    assert_int_equal(d[0].rc, 0xFF);
    assert_int_equal(d[0].dts, S7_DTS_BYTE);
    assert_int_equal(d[0].len, 3);
    assert_ptr_equal(d[0].bytes, TWO_ITEMS + 4);
    assert_int_equal(d[1].rc, 0xFF);
    assert_int_equal(d[1].len, 1);
    assert_ptr_equal(d[1].bytes, TWO_ITEMS + 12);
    assert_int_equal(d[1].bytes[0], 0xDD);

    const uint8_t abc[3] = {0xAA, 0xBB, 0xCC}, dd[1] = {0xDD};
    s7_data in[2] = {{S7_RC_OK, S7_DTS_BYTE, abc, 3}, {S7_RC_OK, S7_DTS_BYTE, dd, 1}};
    uint8_t buf[32];
    memset(buf, 0x55, sizeof(buf));
    size_t n = s7_encode_data(buf, sizeof(buf), in, 2);
    assert_bytes(buf, n, TWO_ITEMS, sizeof(TWO_ITEMS), "two items");
    assert_int_equal(s7_encode_data(buf, sizeof(TWO_ITEMS) - 1, in, 2), 0);
    assert_int_equal(s7_encode_data(buf, sizeof(TWO_ITEMS), in, 2), sizeof(TWO_ITEMS));
    /* datlen 13 -> PDU 12 + 2 + 13 */
    uint16_t lens[2] = {3, 1};
    assert_int_equal(s7_read_reply_size(lens, 2), 27);
}

static void test_write_bit_m10_3(void **state)
{
    (void)state;
    s7_item it = {S7_TS_BIT, 1, 0, S7_AREA_M, 10 * 8 + 3};
    const uint8_t one = 1;
    s7_data d = {0, S7_DTS_BIT, &one, 1};
    uint8_t buf[128];
    size_t n = s7_encode_write_req(buf, sizeof(buf), 0x0002, &it, &d, 1);
    assert_bytes(buf, n, WRITE_BIT_REQ, sizeof(WRITE_BIT_REQ), "bit write");
    assert_int_equal(s7_encode_write_req(buf, sizeof(WRITE_BIT_REQ) - 1, 2, &it, &d, 1), 0);
    assert_int_equal(s7_encode_write_req(buf, sizeof(WRITE_BIT_REQ), 2, &it, &d, 1),
                     sizeof(WRITE_BIT_REQ));

    size_t pl;
    const uint8_t *pdu = dt_pdu(WRITE_BIT_REQ, sizeof(WRITE_BIT_REQ), &pl);
    s7_header h;
    assert_int_equal(s7_header_decode(pdu, pl, &h), GW_OK);
    assert_int_equal(h.param_len, 14);
    assert_int_equal(h.data_len, 5);
    assert_int_equal(h.param[0], S7_FN_WRITE);
    s7_item items[1];
    size_t cnt;
    assert_int_equal(s7_decode_items(h.param, h.param_len, items, 1, &cnt), GW_OK);
    assert_int_equal(cnt, 1);
    assert_int_equal(items[0].tsize, S7_TS_BIT);
    assert_int_equal(items[0].area, S7_AREA_M);
    assert_int_equal(items[0].db, 0);
    assert_int_equal(items[0].bitaddr, 0x53);
    s7_data got;
    assert_int_equal(s7_decode_data(h.data, h.data_len, 1, &got), GW_OK);
    assert_int_equal(got.rc, 0);
    assert_int_equal(got.dts, S7_DTS_BIT);
    assert_int_equal(got.len, 1);
    assert_int_equal(got.bytes[0], 1);

    pdu = dt_pdu(WRITE_RSP, sizeof(WRITE_RSP), &pl);
    assert_int_equal(s7_header_decode(pdu, pl, &h), GW_OK);
    assert_int_equal(h.rosctr, S7_ACK_DATA);
    assert_int_equal(h.pdu_ref, 2);
    assert_int_equal(h.param_len, 2);
    assert_int_equal(h.data_len, 1);
    assert_int_equal(h.param[0], S7_FN_WRITE);
    assert_int_equal(h.param[1], 1);
    assert_int_equal(h.data[0], S7_RC_OK);
}

static void test_write_multi_items(void **state)
{
    (void)state;
    /* DB3.DBB1 BYTE x3 (odd: fill), DB2.DBD0 REAL x1 with data 0x07
     * (bytes), MW4 INT x1 with data 0x05 (bits) */
    s7_item it[3] = {{S7_TS_BYTE, 3, 3, S7_AREA_DB, 8},
                     {S7_TS_REAL, 1, 2, S7_AREA_DB, 0},
                     {S7_TS_INT, 1, 0, S7_AREA_M, 32}};
    const uint8_t a[3] = {1, 2, 3}, r[4] = {0x41, 0x20, 0x00, 0x00}, w[2] = {0xFF, 0xFE};
    s7_data d[3] = {{0, S7_DTS_BYTE, a, 3}, {0, S7_DTS_REAL, r, 4}, {0, S7_DTS_INT, w, 2}};
    uint8_t buf[256];
    size_t n = s7_encode_write_req(buf, sizeof(buf), 0x1234, it, d, 3);
    const uint8_t want[] = {
        0x03, 0x00, 0x00, 0x4D, 0x02, 0xF0, 0x80,             /* TPKT 77, DT */
        0x32, 0x01, 0x00, 0x00, 0x12, 0x34, 0x00, 0x26, 0x00, 0x16, /* par 38, data 22 */
        0x05, 0x03,                                           /* write, 3 items */
        0x12, 0x0A, 0x10, 0x02, 0x00, 0x03, 0x00, 0x03, 0x84, 0x00, 0x00, 0x08,
        0x12, 0x0A, 0x10, 0x08, 0x00, 0x01, 0x00, 0x02, 0x84, 0x00, 0x00, 0x00,
        0x12, 0x0A, 0x10, 0x05, 0x00, 0x01, 0x00, 0x00, 0x83, 0x00, 0x00, 0x20,
        0x00, 0x04, 0x00, 0x18, 0x01, 0x02, 0x03, 0x00,       /* 24 bits, fill */
        0x00, 0x07, 0x00, 0x04, 0x41, 0x20, 0x00, 0x00,       /* 4 bytes */
        0x00, 0x05, 0x00, 0x10, 0xFF, 0xFE};                  /* 16 bits */
    assert_bytes(buf, n, want, sizeof(want), "3-item write");
    size_t pl;
    const uint8_t *pdu = dt_pdu(buf, n, &pl);
    s7_header h;
    assert_int_equal(s7_header_decode(pdu, pl, &h), GW_OK);
    s7_data got[3];
    assert_int_equal(s7_decode_data(h.data, h.data_len, 3, got), GW_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(got[i].dts, d[i].dts);
        assert_int_equal(got[i].len, d[i].len);
        assert_memory_equal(got[i].bytes, d[i].bytes, d[i].len);
    }
    /* too many items */
    static s7_item many[256];
    static s7_data many_d[256];
    assert_int_equal(s7_encode_read_req(buf, sizeof(buf), 1, many, 256), 0);
    assert_int_equal(s7_encode_write_req(buf, sizeof(buf), 1, many, many_d, 256), 0);
}

static void test_error_items(void **state)
{
    (void)state;
    const uint8_t *pdus[2] = {PDU_MISSING_DB, PDU_PAST_END};
    const uint8_t rcs[2] = {S7_RC_NO_OBJECT, S7_RC_OUT_OF_RANGE};
    for (int k = 0; k < 2; k++) {
        s7_header h;
        assert_int_equal(s7_header_decode(pdus[k], 18, &h), GW_OK);
        assert_int_equal(h.rosctr, S7_ACK_DATA);
        assert_int_equal(h.param_len, 2);
        assert_int_equal(h.data_len, 4);
        assert_int_equal(h.param[0], S7_FN_READ);
        assert_int_equal(h.param[1], 1);
        s7_data d;
        assert_int_equal(s7_decode_data(h.data, h.data_len, 1, &d), GW_OK);
        assert_int_equal(d.rc, rcs[k]);
        assert_int_equal(d.dts, S7_DTS_NULL);
        assert_int_equal(d.len, 0);
    }
    /* an error item in the middle: 4 bytes, no data, no fill */
    const uint8_t mix[] = {0xFF, 0x04, 0x00, 0x08, 0x11, 0x00, 0x0A, 0x00,
                           0x00, 0x00, 0xFF, 0x09, 0x00, 0x01, 0x22};
    s7_data d[3];
    assert_int_equal(s7_decode_data(mix, sizeof(mix), 3, d), GW_OK);
    assert_int_equal(d[0].len, 1);
    assert_int_equal(d[0].bytes[0], 0x11);
    assert_int_equal(d[1].rc, 0x0A);
    assert_int_equal(d[1].len, 0);
    assert_int_equal(d[2].dts, S7_DTS_OCTET);
    assert_int_equal(d[2].len, 1);
    assert_int_equal(d[2].bytes[0], 0x22);
    /* and encoding gives 0A 00 00 00 */
    const uint8_t b11 = 0x11, b22 = 0x22;
    s7_data in[3] = {{0xFF, S7_DTS_BYTE, &b11, 1}, {0x0A, S7_DTS_NULL, NULL, 0},
                     {0xFF, S7_DTS_OCTET, &b22, 1}};
    uint8_t buf[32];
    size_t n = s7_encode_data(buf, sizeof(buf), in, 3);
    assert_bytes(buf, n, mix, sizeof(mix), "error item in the middle");
    /* docs 13.3: the snap7 server sends error items with length 4 and no
     * data; an error item carries no data whatever its length says */
    const uint8_t snap7_err[] = {0x0A, 0x00, 0x00, 0x04, 0xFF, 0x04, 0x00, 0x08, 0x33};
    assert_int_equal(s7_decode_data(snap7_err, sizeof(snap7_err), 2, d), GW_OK);
    assert_int_equal(d[0].rc, 0x0A);
    assert_int_equal(d[0].len, 0);
    assert_int_equal(d[1].rc, 0xFF);
    assert_int_equal(d[1].len, 1);
    assert_int_equal(d[1].bytes[0], 0x33);
    assert_string_equal(s7_item_rc_text(0x0A), "object does not exist");
    assert_string_equal(s7_item_rc_text(0x05), "address out of range");
    assert_string_equal(s7_item_rc_text(0xFF), "success");
    assert_string_equal(s7_item_rc_text(0x42), "unknown item return code");
}

static void test_items_lie(void **state)
{
    (void)state;
    size_t pl;
    const uint8_t *pdu = dt_pdu(READ_REQ, sizeof(READ_REQ), &pl);
    uint8_t par[64];
    memcpy(par, pdu + 10, 14);
    s7_item it[5];
    size_t n = 7;
    /* item count 2 in a 14-byte parameter */
    par[1] = 2;
    assert_int_equal(s7_decode_items(par, 14, it, 4, &n), GW_E_PROTOCOL);
    assert_int_equal(n, 0);
    par[1] = 255;
    assert_int_equal(s7_decode_items(par, 14, it, 4, &n), GW_E_PROTOCOL);
    par[1] = 1;
    /* a parameter shorter than one item */
    for (size_t k = 0; k < 14; k++) {
        uint8_t *cut = dup_exact(par, k);
        assert_int_not_equal(s7_decode_items(cut, k, it, 4, &n), GW_OK);
        free(cut);
    }
    /* more items than the caller has room for */
    uint8_t par5[2 + 12 * 5];
    par5[0] = S7_FN_READ;
    par5[1] = 5;
    for (int i = 0; i < 5; i++)
        memcpy(par5 + 2 + 12 * i, par + 2, 12);
    assert_int_equal(s7_decode_items(par5, sizeof(par5), it, 4, &n), GW_E_RANGE);
    assert_int_equal(s7_decode_items(par5, sizeof(par5), it, 5, &n), GW_OK);
    /* a variable specification other than 0x12, or an item length that
     * overruns the parameter, is malformed */
    for (int b = 0; b < 2; b++) {
        memcpy(par, pdu + 10, 14);
        par[2 + b] ^= 0x01;
        assert_int_equal(s7_decode_items(par, 14, it, 4, &n), GW_E_PROTOCOL);
    }
    /* another syntax id than S7ANY decodes as an item nobody serves
     * (transport size 0, count 1), so that it fails alone */
    memcpy(par, pdu + 10, 14);
    par[4] = 0xB2;
    assert_int_equal(s7_decode_items(par, 14, it, 4, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(it[0].tsize, 0);
    assert_int_equal(it[0].count, 1);
    /* zero items is a valid parameter */
    const uint8_t zero[2] = {S7_FN_READ, 0};
    assert_int_equal(s7_decode_items(zero, 2, it, 4, &n), GW_OK);
    assert_int_equal(n, 0);
}

/* Lengths in bits where bytes are meant and the other way round
 * (docs/s7comm.md 6.2, 13.1). */
static void test_data_bits_vs_bytes(void **state)
{
    (void)state;
    s7_data d[2];
    /* REAL (0x07, bytes) with its length given in bits: 32 bytes claimed */
    const uint8_t real_bits[] = {0xFF, 0x07, 0x00, 0x20, 0x41, 0x20, 0x00, 0x00};
    assert_int_equal(s7_decode_data(real_bits, sizeof(real_bits), 1, d), GW_E_PROTOCOL);
    /* octet string (0x09) with a bit length */
    const uint8_t oct_bits[] = {0xFF, 0x09, 0x00, 0x10, 0x01, 0x02};
    assert_int_equal(s7_decode_data(oct_bits, sizeof(oct_bits), 1, d), GW_E_PROTOCOL);
    /* BYTE (0x04, bits) with a byte count: 3 -> one byte, so the second
     * item is read from the middle of the first and claims 0xFF04 bytes */
    const uint8_t byte_bytes[] = {0xFF, 0x04, 0x00, 0x03, 0xAA, 0xBB, 0xCC,
                                  0x00, 0xFF, 0x04, 0x00, 0x08, 0xDD};
    gw_err drc = s7_decode_data(byte_bytes, sizeof(byte_bytes), 2, d);
    /* the codec cannot know the lengths asked; it must at least not make
     * two good items of it (it may see a bogus error item 0xCC) ... */
    assert_true(drc != GW_OK || d[0].len != 3 || d[1].rc != S7_RC_OK);
    /* ... and the reply parser, which knows them, refuses the reply */
    gw_s7_range two[2] = {{.area = GW_S7_DB, .db = 1, .start = 0, .len = 3},
                          {.area = GW_S7_M, .start = 10, .len = 1}};
    gw_s7_plan_opts po = {.pdu_len = 240, .max_items = 20, .gap = 16};
    gw_s7_plan *plan = NULL;
    assert_int_equal(gw_s7_plan_new(two, 2, &po, &plan), GW_OK);
    assert_int_equal(plan->nitems, 2);
    uint8_t pdu[64];
    size_t hl = s7_header_encode(pdu, S7_ACK_DATA, 1, 2, sizeof(byte_bytes), 0, 0);
    pdu[hl] = S7_FN_READ;
    pdu[hl + 1] = 2;
    memcpy(pdu + hl + 2, byte_bytes, sizeof(byte_bytes));
    s7_header h;
    assert_int_equal(s7_header_decode(pdu, hl + 2 + sizeof(byte_bytes), &h), GW_OK);
    uint8_t scratch[8], rc[2];
    char why[128];
    assert_int_equal(s7__parse_read_reply(plan, 0, &h, scratch, rc, why, sizeof(why)),
                     GW_E_PROTOCOL);
    /* the honest reply goes through */
    const uint8_t honest[] = {0xFF, 0x04, 0x00, 0x18, 0xAA, 0xBB, 0xCC,
                              0x00, 0xFF, 0x04, 0x00, 0x08, 0xDD};
    memcpy(pdu + hl + 2, honest, sizeof(honest));
    assert_int_equal(s7__parse_read_reply(plan, 0, &h, scratch, rc, why, sizeof(why)), GW_OK);
    assert_memory_equal(scratch, honest + 4, 3);
    assert_int_equal(scratch[3], 0xDD);
    gw_s7_plan_free(plan);
    /* bit lengths that are not whole bytes round up (Wireshark) */
    const uint8_t bit1[] = {0xFF, 0x03, 0x00, 0x01, 0x01};
    assert_int_equal(s7_decode_data(bit1, sizeof(bit1), 1, d), GW_OK);
    assert_int_equal(d[0].len, 1);
    const uint8_t bits9[] = {0xFF, 0x04, 0x00, 0x09, 0x01, 0x02};
    assert_int_equal(s7_decode_data(bits9, sizeof(bits9), 1, d), GW_OK);
    assert_int_equal(d[0].len, 2);
    /* DINT data (0x06) counts bytes (Wireshark) */
    const uint8_t dint[] = {0xFF, 0x06, 0x00, 0x04, 1, 2, 3, 4};
    assert_int_equal(s7_decode_data(dint, sizeof(dint), 1, d), GW_OK);
    assert_int_equal(d[0].len, 4);
    const uint8_t dint_bits[] = {0xFF, 0x06, 0x00, 0x20, 1, 2, 3, 4};
    assert_int_equal(s7_decode_data(dint_bits, sizeof(dint_bits), 1, d), GW_E_PROTOCOL);
    /* more items than the data holds */
    assert_int_equal(s7_decode_data(TWO_ITEMS, sizeof(TWO_ITEMS), 3, d), GW_E_PROTOCOL);
    assert_int_equal(s7_decode_data(NULL, 0, 0, d), GW_OK);

    /* encoding: bits for 0x03/0x04/0x05, bytes for 0x06/0x07/0x09 */
    const uint8_t four[4] = {1, 2, 3, 4};
    static const struct {
        uint8_t dts;
        uint16_t len, field;
    } t[] = {{S7_DTS_BYTE, 4, 32}, {S7_DTS_INT, 2, 16}, {S7_DTS_DINT, 4, 4},
             {S7_DTS_REAL, 4, 4},  {S7_DTS_OCTET, 3, 3}, {S7_DTS_BIT, 1, 1}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        s7_data in = {0xFF, t[i].dts, four, t[i].len};
        uint8_t buf[16];
        size_t n = s7_encode_data(buf, sizeof(buf), &in, 1);
        assert_int_equal(n, 4u + t[i].len);
        assert_int_equal(buf[2] << 8 | buf[3], t[i].field);
        s7_data back;
        assert_int_equal(s7_decode_data(buf, n, 1, &back), GW_OK);
        assert_int_equal(back.len, t[i].len);
    }
}

/* A reply whose item lengths disagree with the plan is refused by the
 * client's reply parser, whatever the codec made of it. */
static void test_reply_length_lies(void **state)
{
    (void)state;
    gw_s7_range r = {GW_S7_DB, 1, 2, 2, false, 0, NULL, NULL, GW_OK, 0};
    gw_s7_plan_opts po = {.pdu_len = 240, .max_items = 20, .gap = 16};
    gw_s7_plan *plan = NULL;
    assert_int_equal(gw_s7_plan_new(&r, 1, &po, &plan), GW_OK);
    assert_int_equal(plan->nitems, 1);
    uint8_t scratch[16], rc[4];
    char why[128];
    s7_header h;
    size_t pl;
    const uint8_t *pdu = dt_pdu(READ_RSP, sizeof(READ_RSP), &pl);
    assert_int_equal(s7_header_decode(pdu, pl, &h), GW_OK);
    assert_int_equal(s7__parse_read_reply(plan, 0, &h, scratch, rc, why, sizeof(why)), GW_OK);
    assert_int_equal(rc[0], 0xFF);
    assert_int_equal(scratch[0], 0x12);
    assert_int_equal(scratch[1], 0x34);
    /* the same reply with the length in bytes (2) instead of bits (16) */
    uint8_t b[32];
    memcpy(b, pdu, pl);
    b[17] = 0x02;
    assert_int_equal(s7_header_decode(b, pl, &h), GW_OK);
    assert_int_equal(s7__parse_read_reply(plan, 0, &h, scratch, rc, why, sizeof(why)),
                     GW_E_PROTOCOL);
    /* 24 bits: 3 bytes claimed, 2 present */
    b[17] = 0x18;
    assert_int_equal(s7__parse_read_reply(plan, 0, &h, scratch, rc, why, sizeof(why)),
                     GW_E_PROTOCOL);
    /* item count 2 for a 1-item request */
    b[17] = 0x10;
    b[13] = 2;
    assert_int_equal(s7__parse_read_reply(plan, 0, &h, scratch, rc, why, sizeof(why)),
                     GW_E_PROTOCOL);
    /* a write reply to a read */
    b[13] = 1;
    b[12] = S7_FN_WRITE;
    assert_int_equal(s7__parse_read_reply(plan, 0, &h, scratch, rc, why, sizeof(why)),
                     GW_E_PROTOCOL);
    /* the error items of S7NET-310 are per-item codes, not errors */
    const uint8_t *errs[2] = {PDU_MISSING_DB, PDU_PAST_END};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(s7_header_decode(errs[k], 18, &h), GW_OK);
        assert_int_equal(s7__parse_read_reply(plan, 0, &h, scratch, rc, why, sizeof(why)),
                         GW_OK);
        assert_int_equal(rc[0], k == 0 ? 0x0A : 0x05);
    }
    /* PUT/GET disabled: a header error, every item of the request gets 0 */
    rc[0] = 0x77;
    assert_int_equal(s7_header_decode(PDU_PUTGET_OFF, sizeof(PDU_PUTGET_OFF), &h), GW_OK);
    assert_int_equal(s7__parse_read_reply(plan, 0, &h, scratch, rc, why, sizeof(why)),
                     GW_E_DEVICE_REJECTED);
    assert_int_equal(rc[0], 0);
    gw_s7_plan_free(plan);
}

/* ------------------------------------------------------------ SZL */

static void test_szl_0011(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t n = s7_encode_szl_req(buf, sizeof(buf), 0x0003, S7_SZL_CPU_ORDER, 0x0000);
    assert_bytes(buf, n, SZL11_REQ, sizeof(SZL11_REQ), "SZL 0x0011 request");
    assert_int_equal(s7_encode_szl_req(buf, sizeof(SZL11_REQ) - 1, 3, 0x11, 0), 0);

    size_t pl;
    const uint8_t *pdu = dt_pdu(SZL11_REQ, sizeof(SZL11_REQ), &pl);
    s7_header h;
    assert_int_equal(s7_header_decode(pdu, pl, &h), GW_OK);
    assert_int_equal(h.rosctr, S7_USERDATA);
    s7_userdata_param up;
    assert_int_equal(s7_decode_userdata_param(h.param, h.param_len, &up), GW_OK);
    assert_int_equal(up.method, 0x11);
    assert_int_equal(up.type_group, 0x44);
    assert_int_equal(up.subfunction, 0x01);
    assert_int_equal(up.seq, 0);
    assert_true(up.last);
    assert_int_equal(up.err_code, 0);

    pdu = dt_pdu(SZL11_RSP, sizeof(SZL11_RSP), &pl);
    assert_int_equal(s7_header_decode(pdu, pl, &h), GW_OK);
    assert_int_equal(h.rosctr, S7_USERDATA);
    assert_int_equal(h.pdu_ref, 3);
    assert_int_equal(h.param_len, 12);
    assert_int_equal(h.data_len, 0x7C);
    assert_int_equal(s7_decode_userdata_param(h.param, h.param_len, &up), GW_OK);
    assert_int_equal(up.method, 0x12);
    assert_int_equal(up.type_group, 0x84);
    assert_int_equal(up.subfunction, 0x01);
    assert_true(up.last);
    assert_int_equal(up.err_code, 0);
    s7_data d;
    assert_int_equal(s7_decode_data(h.data, h.data_len, 1, &d), GW_OK);
    assert_int_equal(d.rc, 0xFF);
    assert_int_equal(d.dts, S7_DTS_OCTET);
    assert_int_equal(d.len, 0x78);
    const uint8_t *p = d.bytes;
    assert_int_equal(p[0] << 8 | p[1], 0x0011); /* SZL id */
    assert_int_equal(p[2] << 8 | p[3], 0x0000); /* index */
    assert_int_equal(p[4] << 8 | p[5], 28);     /* LENTHDR */
    assert_int_equal(p[6] << 8 | p[7], 4);      /* N_DR */
    assert_memory_equal(p + 8 + 2, "6ES7 315-2EH14-0AB0 ", 20);
    const uint8_t *fw = p + 8 + 2 * 28; /* index 7 */
    assert_int_equal(fw[0] << 8 | fw[1], 0x0007);
    assert_int_equal(fw[24], 'V');
    assert_int_equal(fw[25], 3);
    assert_int_equal(fw[26], 2);
    assert_int_equal(fw[27], 6);
}

static void test_szl_0424(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t n = s7_encode_szl_req(buf, sizeof(buf), 0x0004, S7_SZL_CPU_STATE, 0x0000);
    assert_bytes(buf, n, SZL424_REQ, sizeof(SZL424_REQ), "SZL 0x0424 request");
    size_t pl;
    const uint8_t *pdu = dt_pdu(SZL424_RSP, sizeof(SZL424_RSP), &pl);
    s7_header h;
    assert_int_equal(s7_header_decode(pdu, pl, &h), GW_OK);
    assert_int_equal(h.pdu_ref, 4);
    assert_int_equal(h.data_len, 0x20);
    s7_userdata_param up;
    assert_int_equal(s7_decode_userdata_param(h.param, h.param_len, &up), GW_OK);
    assert_int_equal(up.type_group, 0x84);
    s7_data d;
    assert_int_equal(s7_decode_data(h.data, h.data_len, 1, &d), GW_OK);
    assert_int_equal(d.len, 28);
    assert_int_equal(d.bytes[0] << 8 | d.bytes[1], 0x0424);
    assert_int_equal(d.bytes[4] << 8 | d.bytes[5], 20);
    assert_int_equal(d.bytes[6] << 8 | d.bytes[7], 1);
    const uint8_t *rec = d.bytes + 8;
    assert_int_equal(rec[0] << 8 | rec[1], 0x5144);
    assert_int_equal(rec[2], 0xFF);
    assert_int_equal(rec[3] & 0x0F, 0x08); /* RUN */
}

/* docs/s7comm.md 11.2: python-snap7's client starts the SZL request data
 * with 0A 00 (return code, transport size) where snap7's sends FF 09; both
 * name the same list. The length (bytes) must still hold ID and index. */
static void test_szl_req_data_any_header(void **state)
{
    (void)state;
    /* the two frames differ only in those two bytes */
    assert_int_equal(sizeof(SZL11_REQ_PYSNAP7), sizeof(SZL11_REQ));
    for (size_t i = 0; i < sizeof(SZL11_REQ); i++)
        if (i != 25 && i != 26)
            assert_int_equal(SZL11_REQ_PYSNAP7[i], SZL11_REQ[i]);
    const uint8_t *frames[2] = {SZL11_REQ, SZL11_REQ_PYSNAP7};
    for (int f = 0; f < 2; f++) {
        size_t pl;
        const uint8_t *pdu = dt_pdu(frames[f], sizeof(SZL11_REQ), &pl);
        s7_header h;
        assert_int_equal(s7_header_decode(pdu, pl, &h), GW_OK);
        assert_int_equal(h.rosctr, S7_USERDATA);
        s7_userdata_param up;
        assert_int_equal(s7_decode_userdata_param(h.param, h.param_len, &up), GW_OK);
        assert_int_equal(up.method, 0x11);
        assert_int_equal(up.type_group, 0x44);
        assert_int_equal(up.subfunction, 0x01);
        uint16_t id = 0xFFFF, index = 0xFFFF;
        assert_int_equal(s7_decode_szl_req_data(h.data, h.data_len, &id, &index), GW_OK);
        assert_int_equal(id, S7_SZL_CPU_ORDER);
        assert_int_equal(index, 0x0000);
    }
    /* any two header bytes; ID 0x0424, index 0x0001 */
    static const uint8_t heads[][2] = {{0xFF, 0x09}, {0x0A, 0x00}, {0x00, 0x00},
                                       {0xFF, 0x04}, {0x12, 0x34}};
    for (size_t k = 0; k < sizeof(heads) / sizeof(heads[0]); k++) {
        uint8_t d[8] = {heads[k][0], heads[k][1], 0x00, 0x04, 0x04, 0x24, 0x00, 0x01};
        uint16_t id, index;
        assert_int_equal(s7_decode_szl_req_data(d, sizeof(d), &id, &index), GW_OK);
        assert_int_equal(id, 0x0424);
        assert_int_equal(index, 0x0001);
        /* every truncation, from an exact heap copy */
        for (size_t cut = 0; cut < sizeof(d); cut++) {
            uint8_t *c = dup_exact(d, cut);
            assert_int_equal(s7_decode_szl_req_data(c, cut, &id, &index), GW_E_PROTOCOL);
            free(c);
        }
    }
    /* the length field: below 4, or past the data, is refused; a longer
     * data part that holds it is fine */
    uint8_t d[10] = {0x0A, 0x00, 0x00, 0x03, 0x00, 0x11, 0x00, 0x00, 0xAA, 0xBB};
    uint16_t id, index;
    assert_int_equal(s7_decode_szl_req_data(d, 8, &id, &index), GW_E_PROTOCOL);
    d[3] = 0x00;
    assert_int_equal(s7_decode_szl_req_data(d, 8, &id, &index), GW_E_PROTOCOL);
    d[3] = 0x05;
    assert_int_equal(s7_decode_szl_req_data(d, 8, &id, &index), GW_E_PROTOCOL);
    d[2] = 0x01;
    d[3] = 0x04; /* 260 */
    assert_int_equal(s7_decode_szl_req_data(d, 10, &id, &index), GW_E_PROTOCOL);
    d[2] = 0x00;
    d[3] = 0x06;
    assert_int_equal(s7_decode_szl_req_data(d, 10, &id, &index), GW_OK);
    assert_int_equal(id, 0x0011);
}

/* A Write Var reply of `count` codes (data_len bytes of `codes`). */
static s7_header write_reply(uint8_t *pdu, uint8_t fn, uint8_t count, const uint8_t *codes,
                             size_t data_len, uint8_t err_class)
{
    size_t hl = s7_header_encode(pdu, S7_ACK_DATA, 9, 2, (uint16_t)data_len, err_class,
                                 err_class ? 0x04 : 0x00);
    pdu[hl] = fn;
    pdu[hl + 1] = count;
    memcpy(pdu + hl + 2, codes, data_len);
    s7_header h;
    assert_int_equal(s7_header_decode(pdu, hl + 2 + data_len, &h), GW_OK);
    return h;
}

/* docs/s7comm.md 7 and 7.1: one return code per item; fewer than the
 * items sent is python-snap7's server (first item only), none or more
 * than sent is no answer to the request. */
static void test_parse_write_reply(void **state)
{
    (void)state;
    uint8_t codes[8], pdu[64];
    size_t nc = 99;
    char why[128];
    /* the document's reply to M10.3 := 1 */
    size_t pl;
    const uint8_t *doc = dt_pdu(WRITE_RSP, sizeof(WRITE_RSP), &pl);
    s7_header h;
    assert_int_equal(s7_header_decode(doc, pl, &h), GW_OK);
    assert_int_equal(s7__parse_write_reply(&h, 1, codes, &nc, why, sizeof(why)), GW_OK);
    assert_int_equal(nc, 1);
    assert_int_equal(codes[0], 0xFF);
    /* all three */
    const uint8_t three[4] = {0xFF, 0x05, 0xFF, 0x0A};
    h = write_reply(pdu, S7_FN_WRITE, 3, three, 3, 0);
    assert_int_equal(s7__parse_write_reply(&h, 3, codes, &nc, why, sizeof(why)), GW_OK);
    assert_int_equal(nc, 3);
    assert_memory_equal(codes, three, 3);
    /* python-snap7's server: 05 01 FF for three items */
    h = write_reply(pdu, S7_FN_WRITE, 1, three, 1, 0);
    assert_int_equal(s7__parse_write_reply(&h, 3, codes, &nc, why, sizeof(why)), GW_OK);
    assert_int_equal(nc, 1);
    assert_int_equal(codes[0], 0xFF);
    h = write_reply(pdu, S7_FN_WRITE, 2, three + 1, 2, 0);
    assert_int_equal(s7__parse_write_reply(&h, 3, codes, &nc, why, sizeof(why)), GW_OK);
    assert_int_equal(nc, 2);
    assert_int_equal(codes[1], 0xFF);
    /* no codes; more codes than items; fewer code bytes than announced */
    h = write_reply(pdu, S7_FN_WRITE, 0, three, 0, 0);
    assert_int_equal(s7__parse_write_reply(&h, 3, codes, &nc, why, sizeof(why)), GW_E_PROTOCOL);
    assert_int_equal(nc, 0);
    h = write_reply(pdu, S7_FN_WRITE, 4, three, 4, 0);
    assert_int_equal(s7__parse_write_reply(&h, 3, codes, &nc, why, sizeof(why)), GW_E_PROTOCOL);
    assert_non_null(strstr(why, "4 return codes for 3 items"));
    h = write_reply(pdu, S7_FN_WRITE, 2, three, 2, 0);
    assert_int_equal(s7__parse_write_reply(&h, 1, codes, &nc, why, sizeof(why)), GW_E_PROTOCOL);
    h = write_reply(pdu, S7_FN_WRITE, 3, three, 2, 0);
    assert_int_equal(s7__parse_write_reply(&h, 3, codes, &nc, why, sizeof(why)), GW_E_PROTOCOL);
    /* not a Write Var answer; a header error */
    h = write_reply(pdu, S7_FN_READ, 1, three, 1, 0);
    assert_int_equal(s7__parse_write_reply(&h, 1, codes, &nc, why, sizeof(why)), GW_E_PROTOCOL);
    h = write_reply(pdu, S7_FN_WRITE, 1, three, 1, 0x81);
    assert_int_equal(s7__parse_write_reply(&h, 1, codes, &nc, why, sizeof(why)),
                     GW_E_DEVICE_REJECTED);
}

static void test_userdata_param_lies(void **state)
{
    (void)state;
    s7_userdata_param up;
    const uint8_t ok_req[8] = {0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00};
    assert_int_equal(s7_decode_userdata_param(ok_req, 8, &up), GW_OK);
    uint8_t b[12];
    memcpy(b, ok_req, 8);
    b[3] = 0x08; /* claims 8 bytes, 4 present */
    assert_int_equal(s7_decode_userdata_param(b, 8, &up), GW_E_PROTOCOL);
    b[3] = 0x03; /* shorter than method, type, subfunction, seq */
    assert_int_equal(s7_decode_userdata_param(b, 8, &up), GW_E_PROTOCOL);
    b[3] = 0x04;
    for (int k = 0; k < 3; k++) { /* head 00 01 12 */
        memcpy(b, ok_req, 8);
        b[k] ^= 0x40;
        assert_int_equal(s7_decode_userdata_param(b, 8, &up), GW_E_PROTOCOL);
    }
    /* response: not last, error 0xD402 */
    const uint8_t rsp[12] = {0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, 0x05,
                             0x00, 0x01, 0xD4, 0x02};
    assert_int_equal(s7_decode_userdata_param(rsp, 12, &up), GW_OK);
    assert_false(up.last);
    assert_int_equal(up.seq, 5);
    assert_int_equal(up.err_code, 0xD402);
    for (size_t k = 0; k < 12; k++) {
        uint8_t *cut = dup_exact(rsp, k);
        assert_int_not_equal(s7_decode_userdata_param(cut, k, &up), GW_OK);
        free(cut);
    }
}

/* ------------------------------------------------------------ truncation */

/* Every prefix of every frame is rejected at the layer it cuts, from an
 * exactly-sized heap copy. */
static void test_truncations(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof(TPKT_FRAMES) / sizeof(TPKT_FRAMES[0]); f++) {
        const frame *fr = &TPKT_FRAMES[f];
        s7_cotp c;
        assert_int_equal(s7_cotp_decode(fr->bytes, fr->len, &c), GW_OK);
        for (size_t k = 0; k < fr->len; k++) {
            uint8_t *cut = dup_exact(fr->bytes, k);
            s7_cotp cc;
            if (s7_cotp_decode(cut, k, &cc) == GW_OK) {
                print_error("%s cut to %zu bytes decoded as COTP\n", fr->name, k);
                fail();
            }
            /* the same prefix with a TPKT length that agrees: LI or payload
             * must still be checked */
            if (k >= 4) {
                cut[2] = (uint8_t)(k >> 8);
                cut[3] = (uint8_t)k;
                gw_err rc = s7_cotp_decode(cut, k, &cc);
                if (rc == GW_OK && cc.type == S7_COTP_DT) {
                    s7_header h;
                    if (s7_header_decode(cc.payload, cc.payload_len, &h) == GW_OK) {
                        print_error("%s cut to %zu bytes decoded as S7\n", fr->name, k);
                        fail();
                    }
                }
                if (rc == GW_OK && (cc.type == S7_COTP_CR || cc.type == S7_COTP_CC))
                    assert_true(cc.payload_len == 0);
            }
            free(cut);
        }
        if (c.type != S7_COTP_DT)
            continue;
        /* the S7 PDU cut, from its own exact copy */
        size_t pl = c.payload_len;
        for (size_t k = 0; k < pl; k++) {
            uint8_t *cut = dup_exact(c.payload, k);
            s7_header h;
            if (s7_header_decode(cut, k, &h) == GW_OK) {
                print_error("%s PDU cut to %zu bytes decoded\n", fr->name, k);
                fail();
            }
            free(cut);
        }
        /* parameter and data cut */
        s7_header h;
        assert_int_equal(s7_header_decode(c.payload, pl, &h), GW_OK);
        uint8_t fn = h.param_len ? h.param[0] : 0;
        bool rw_req = h.rosctr == S7_JOB && (fn == S7_FN_READ || fn == S7_FN_WRITE);
        bool rw_data = (h.rosctr == S7_JOB && fn == S7_FN_WRITE) ||
                       (h.rosctr == S7_ACK_DATA && fn == S7_FN_READ) || h.rosctr == S7_USERDATA;
        size_t nitems = h.rosctr == S7_USERDATA ? 1 : h.param_len >= 2 ? h.param[1] : 0;
        for (size_t k = 0; k < h.param_len; k++) {
            uint8_t *cut = dup_exact(h.param, k);
            s7_item it[8];
            size_t n;
            s7_setup su;
            s7_userdata_param up;
            if (rw_req)
                assert_int_not_equal(s7_decode_items(cut, k, it, 8, &n), GW_OK);
            if (fn == S7_FN_SETUP)
                assert_int_not_equal(s7_setup_decode_param(cut, k, &su), GW_OK);
            if (h.rosctr == S7_USERDATA)
                assert_int_not_equal(s7_decode_userdata_param(cut, k, &up), GW_OK);
            free(cut);
        }
        if (!rw_data)
            continue;
        /* an SZL request's data has its own decoder, which ignores the
         * return code byte (docs 11.2: python-snap7 sends 0A there, which
         * s7_decode_data takes for an error item without data) */
        s7_userdata_param uph;
        bool szl_req = h.rosctr == S7_USERDATA &&
                       s7_decode_userdata_param(h.param, h.param_len, &uph) == GW_OK &&
                       uph.method == 0x11;
        for (size_t k = 0; k < h.data_len; k++) {
            uint8_t *cut = dup_exact(h.data, k);
            s7_data d[8];
            uint16_t id, index;
            if (szl_req ? s7_decode_szl_req_data(cut, k, &id, &index) == GW_OK
                        : s7_decode_data(cut, k, nitems, d) == GW_OK) {
                print_error("%s data cut to %zu bytes decoded\n", fr->name, k);
                fail();
            }
            free(cut);
        }
    }
    /* the two-item data part */
    for (size_t k = 0; k < sizeof(TWO_ITEMS); k++) {
        uint8_t *cut = dup_exact(TWO_ITEMS, k);
        s7_data d[2];
        assert_int_not_equal(s7_decode_data(cut, k, 2, d), GW_OK);
        free(cut);
    }
}

/* TPKT length and COTP LI that do not match the bytes. */
static void test_cotp_lies(void **state)
{
    (void)state;
    uint8_t b[64];
    s7_cotp c;
    for (size_t f = 0; f < sizeof(TPKT_FRAMES) / sizeof(TPKT_FRAMES[0]); f++) {
        const frame *fr = &TPKT_FRAMES[f];
        memcpy(b, fr->bytes, fr->len < sizeof(b) ? fr->len : sizeof(b));
        if (fr->len > sizeof(b))
            continue;
        size_t n = fr->len;
        /* TPKT length one more, one less, zero, maximum */
        const size_t lies[] = {n + 1, n - 1, 0, 7, 0xFFFF};
        for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
            b[2] = (uint8_t)(lies[i] >> 8);
            b[3] = (uint8_t)lies[i];
            assert_int_equal(s7_cotp_decode(b, n, &c), GW_E_PROTOCOL);
        }
        b[2] = (uint8_t)(n >> 8);
        b[3] = (uint8_t)n;
        /* version */
        b[0] = 0x02;
        assert_int_equal(s7_cotp_decode(b, n, &c), GW_E_PROTOCOL);
        b[0] = 0x03;
        /* LI reaching past the frame, and LI 0 */
        uint8_t li = b[4];
        for (size_t v = n - 4; v < 256; v += 37) {
            b[4] = (uint8_t)v;
            assert_int_equal(s7_cotp_decode(b, n, &c), GW_E_PROTOCOL);
        }
        b[4] = 0;
        assert_int_equal(s7_cotp_decode(b, n, &c), GW_E_PROTOCOL);
        b[4] = li;
        assert_int_equal(s7_cotp_decode(b, n, &c), GW_OK);
    }
    /* DT with LI 1: no TPDU number byte */
    const uint8_t dt_li1[] = {0x03, 0x00, 0x00, 0x07, 0x01, 0xF0, 0x80};
    assert_int_equal(s7_cotp_decode(dt_li1, sizeof(dt_li1), &c), GW_E_PROTOCOL);
    /* CR with LI 5: no class byte */
    const uint8_t cr_li5[] = {0x03, 0x00, 0x00, 0x0A, 0x05, 0xE0, 0x00, 0x00, 0x00, 0x01};
    assert_int_equal(s7_cotp_decode(cr_li5, sizeof(cr_li5), &c), GW_E_PROTOCOL);
    /* CR parameter whose length runs past LI */
    memcpy(b, CR_SNAP7, sizeof(CR_SNAP7));
    b[19] = 0x03; /* C2 len 3, 2 bytes left */
    assert_int_equal(s7_cotp_decode(b, sizeof(CR_SNAP7), &c), GW_E_PROTOCOL);
    memcpy(b, CR_SNAP7, sizeof(CR_SNAP7));
    b[12] = 0xFF; /* C0 len 255 */
    assert_int_equal(s7_cotp_decode(b, sizeof(CR_SNAP7), &c), GW_E_PROTOCOL);
    /* a parameter code without its length byte: LI 7 */
    const uint8_t cr_dangling[] = {0x03, 0x00, 0x00, 0x0C, 0x07, 0xE0,
                                   0x00, 0x00, 0x00, 0x01, 0x00, 0xC0};
    assert_int_equal(s7_cotp_decode(cr_dangling, sizeof(cr_dangling), &c), GW_E_PROTOCOL);
    /* DR with LI 4 */
    const uint8_t dr_li4[] = {0x03, 0x00, 0x00, 0x09, 0x04, 0x80, 0x00, 0x01, 0x00};
    assert_int_equal(s7_cotp_decode(dr_li4, sizeof(dr_li4), &c), GW_E_PROTOCOL);
    /* a frame shorter than TPKT + LI + type */
    const uint8_t tiny[] = {0x03, 0x00, 0x00, 0x05, 0x00};
    assert_int_equal(s7_cotp_decode(tiny, sizeof(tiny), &c), GW_E_PROTOCOL);
}

/* ------------------------------------------------------------ sizes */

static void test_item_bytes_and_dts(void **state)
{
    (void)state;
    /* docs/s7comm.md 6.1 request transport sizes, bytes per element */
    static const struct {
        uint8_t ts;
        size_t per;
        uint8_t dts; /* docs 6.2: what the snap7 server answers */
    } t[] = {{S7_TS_BIT, 1, S7_DTS_BIT},      {S7_TS_BYTE, 1, S7_DTS_BYTE},
             {S7_TS_CHAR, 1, S7_DTS_OCTET},   {S7_TS_WORD, 2, S7_DTS_BYTE},
             {S7_TS_INT, 2, S7_DTS_INT},      {S7_TS_DWORD, 4, S7_DTS_BYTE},
             {S7_TS_DINT, 4, S7_DTS_INT},     {S7_TS_REAL, 4, S7_DTS_REAL},
             {S7_TS_COUNTER, 2, S7_DTS_OCTET}, {S7_TS_TIMER, 2, S7_DTS_OCTET}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(s7_item_bytes(t[i].ts, 1), t[i].per);
        assert_int_equal(s7_item_bytes(t[i].ts, 7), 7 * t[i].per);
        assert_int_equal(s7_item_bytes(t[i].ts, 0), 0);
        assert_int_equal(s7_item_bytes(t[i].ts, 65535), 65535u * t[i].per);
        if (s7_reply_dts(t[i].ts) != t[i].dts)
            print_error("transport size 0x%02X\n", t[i].ts);
        assert_int_equal(s7_reply_dts(t[i].ts), t[i].dts);
    }
    /* Wireshark-only and unknown sizes */
    const uint8_t unknown[] = {0x00, 0x09, 0x0A, 0x0B, 0x0C, 0x0F, 0x1E, 0x1F, 0x20, 0xFF};
    for (size_t i = 0; i < sizeof(unknown); i++)
        assert_int_equal(s7_item_bytes(unknown[i], 1), 0);
}

static void test_read_reply_size(void **state)
{
    (void)state;
    /* docs/s7comm.md 10: 12 + 2 + sum(4 + len_i) + odd lengths among items
     * 1..n-1 */
    uint16_t none[1] = {0};
    assert_int_equal(s7_read_reply_size(none, 0), 14);
    uint16_t a[] = {2};
    assert_int_equal(s7_read_reply_size(a, 1), 20);
    uint16_t b[] = {1};
    assert_int_equal(s7_read_reply_size(b, 1), 19);
    uint16_t c[] = {3, 3, 3};
    assert_int_equal(s7_read_reply_size(c, 3), 14 + 8 + 8 + 7);
    uint16_t d[] = {0, 1, 0, 1};
    assert_int_equal(s7_read_reply_size(d, 4), 14 + 4 + 6 + 4 + 5);
    uint16_t e[] = {222};
    assert_int_equal(s7_read_reply_size(e, 1), 240);
    uint16_t f[] = {942};
    assert_int_equal(s7_read_reply_size(f, 1), 960);
    /* 19 items of 2 bytes: 14 + 19 * 6 */
    uint16_t g[19];
    for (int i = 0; i < 19; i++)
        g[i] = 2;
    assert_int_equal(s7_read_reply_size(g, 19), 128);
    assert_int_equal(S7_READ_REQ_SIZE(19), 240);
    assert_int_equal(S7_READ_REQ_SIZE(20), 252);
    assert_int_equal(S7_RW_PARAM(0), 2);
    assert_int_equal(S7_RW_PARAM(20), 242);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tpkt_length),
        cmocka_unit_test(test_cr_cc),
        cmocka_unit_test(test_cr_tsap_string),
        cmocka_unit_test(test_cc_py7),
        cmocka_unit_test(test_dr_dc_dt),
        cmocka_unit_test(test_tpdu_bytes_and_tsap),
        cmocka_unit_test(test_setup_frames),
        cmocka_unit_test(test_ack_putget_disabled),
        cmocka_unit_test(test_header_lies),
        cmocka_unit_test(test_read_db1_dbw2),
        cmocka_unit_test(test_two_items_fill),
        cmocka_unit_test(test_write_bit_m10_3),
        cmocka_unit_test(test_write_multi_items),
        cmocka_unit_test(test_error_items),
        cmocka_unit_test(test_items_lie),
        cmocka_unit_test(test_data_bits_vs_bytes),
        cmocka_unit_test(test_reply_length_lies),
        cmocka_unit_test(test_szl_0011),
        cmocka_unit_test(test_szl_0424),
        cmocka_unit_test(test_szl_req_data_any_header),
        cmocka_unit_test(test_parse_write_reply),
        cmocka_unit_test(test_userdata_param_lies),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_cotp_lies),
        cmocka_unit_test(test_item_bytes_and_dts),
        cmocka_unit_test(test_read_reply_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
