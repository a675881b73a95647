/*
 * s7_test_fixture.h - the plumbing the S7 server and client unit tests
 * share (static inline: each file uses some of it). Include after
 * <cmocka.h> and "drivers/s7/s7_internal.h".
 *
 * Frames without sockets: an s7fx holds a gw_s7_server that is not
 * started and an s7_session; s7fx_serve hands one TPKT packet to
 * s7__serve_packet in a heap copy of exactly its size, so that reads past
 * the end show up under ASan, and checks that the answer is whole TPKT
 * packets with a COTP header (one at most unless the test allows more).
 * Frame builders (setup, job, userdata), CR + setup, the answer's S7
 * header and userdata parameter.
 *
 * Over TCP: a started server on 127.0.0.1 (port 0: a free one) and our
 * client connected to it, every wait bounded by the client's timeouts.
 */
#ifndef GW_TEST_S7_TEST_FIXTURE_H
#define GW_TEST_S7_TEST_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s7_doc_frames.h"

/* ------------------------------------------------------------ frames */

typedef struct {
    gw_s7_server *s;
    s7_session c;
    uint8_t reply[2 * 4096];
    size_t reply_len;
    size_t npackets; /* whole TPKT packets in reply */
    size_t second;   /* offset of a second packet (the CPU's own job) */
    bool keep;       /* s7__serve_packet's answer: the connection stays */
    bool multi;      /* an answer may be several packets (else one at most) */
} s7fx;

static inline gw_s7_server *s7fx_server_new(const gw_s7_server_opts *so)
{
    gw_s7_server *s = NULL;
    gw_error err;
    assert_int_equal(gw_s7_server_new(so, &s, &err), GW_OK);
    return s;
}

/* x serves with s (x owns it from here) on a session with our ref. */
static inline void s7fx_open(s7fx *x, gw_s7_server *s, uint16_t ref)
{
    memset(x, 0, sizeof(*x));
    x->s = s;
    assert_int_equal(s7__session_init(&x->c, "test", ref), GW_OK);
}

/* A fresh session in place of x's (not connected). */
static inline void s7fx_new_session(s7fx *x, uint16_t ref)
{
    s7__session_clear(&x->c);
    assert_int_equal(s7__session_init(&x->c, "test", ref), GW_OK);
}

static inline void s7fx_close(s7fx *x)
{
    s7__session_clear(&x->c);
    gw_s7_server_free(x->s);
}

/* Serves one packet of session c from an exact heap copy; the answer goes
 * to x->reply, the hook hears of the writes. Returns keep. */
static inline bool s7fx_serve_on(s7fx *x, s7_session *c, const uint8_t *frame, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, frame, len);
    const uint8_t *rp = NULL;
    size_t rl = 99; /* the server must set it, also to 0 */
    x->keep = s7__serve_packet(x->s, c, copy, len, &rp, &rl);
    free(copy);
    assert_true(rl <= sizeof(x->reply));
    x->reply_len = rl;
    x->npackets = 0;
    x->second = 0;
    if (rl) {
        assert_non_null(rp);
        memcpy(x->reply, rp, rl);
    }
    for (size_t off = 0; off < rl; x->npackets++) {
        size_t total = 0;
        assert_true(rl - off >= S7_TPKT_HDR + 3);
        assert_int_equal(s7_tpkt_length(x->reply + off, &total), GW_OK);
        assert_true(total <= rl - off);
        s7_cotp cotp;
        assert_int_equal(s7_cotp_decode(x->reply + off, total, &cotp), GW_OK);
        if (x->npackets == 1)
            x->second = off;
        off += total;
    }
    if (!x->multi)
        assert_true(x->npackets <= 1);
    s7__fire_writes(x->s, c->peer);
    return x->keep;
}

static inline bool s7fx_serve(s7fx *x, const uint8_t *frame, size_t len)
{
    return s7fx_serve_on(x, &x->c, frame, len);
}

/* The S7 header of the answer's packet at `off` (a DT with EOT). */
static inline s7_header s7fx_hdr_at(s7fx *x, size_t off)
{
    assert_true(off < x->reply_len);
    size_t total = 0;
    assert_int_equal(s7_tpkt_length(x->reply + off, &total), GW_OK);
    assert_true(total <= x->reply_len - off);
    s7_cotp c;
    assert_int_equal(s7_cotp_decode(x->reply + off, total, &c), GW_OK);
    assert_int_equal(c.type, S7_COTP_DT);
    assert_true(c.eot);
    s7_header h;
    assert_int_equal(s7_header_decode(c.payload, c.payload_len, &h), GW_OK);
    /* our answers are exact: header + parameter + data = PDU */
    size_t hl = (h.rosctr == S7_ACK || h.rosctr == S7_ACK_DATA) ? 12 : 10;
    assert_int_equal(hl + h.param_len + h.data_len, c.payload_len);
    return h;
}

static inline s7_header s7fx_reply_hdr(s7fx *x)
{
    return s7fx_hdr_at(x, 0);
}

/* The answer's userdata parameter; *h its S7 header. */
static inline s7_userdata_param s7fx_ud_param(s7fx *x, s7_header *h)
{
    *h = s7fx_reply_hdr(x);
    assert_int_equal(h->rosctr, S7_USERDATA);
    s7_userdata_param up;
    assert_int_equal(s7_decode_userdata_param(h->param, h->param_len, &up), GW_OK);
    return up;
}

/* A setup-communication job frame. */
static inline size_t s7fx_setup_frame(uint8_t *buf, uint16_t ref, uint16_t amq1, uint16_t amq2,
                                      uint16_t pdu)
{
    uint8_t *p = buf + S7_FRAME_HDR;
    size_t h = s7_header_encode(p, S7_JOB, ref, S7_SETUP_PARAM, 0, 0, 0);
    s7_setup su = {amq1, amq2, pdu};
    s7_setup_encode_param(p + h, &su);
    return s7_frame_dt(buf, h + S7_SETUP_PARAM);
}

/* A PDU frame from raw parameter and data bytes. */
static inline size_t s7fx_pdu_frame(uint8_t *buf, uint8_t rosctr, uint16_t ref,
                                    const uint8_t *param, size_t plen, const uint8_t *data,
                                    size_t dlen)
{
    uint8_t *p = buf + S7_FRAME_HDR;
    size_t h = s7_header_encode(p, rosctr, ref, (uint16_t)plen, (uint16_t)dlen, 0, 0);
    if (plen)
        memcpy(p + h, param, plen);
    if (dlen)
        memcpy(p + h + plen, data, dlen);
    return s7_frame_dt(buf, h + plen + dlen);
}

static inline size_t s7fx_job_frame(uint8_t *buf, uint16_t ref, const uint8_t *param,
                                    size_t plen, const uint8_t *data, size_t dlen)
{
    return s7fx_pdu_frame(buf, S7_JOB, ref, param, plen, data, dlen);
}

/* A userdata request as snap7's client sends it: parameter 00 01 12 04 11
 * 4g ss 00 (g the function group, ss the subfunction); next: a follow-up
 * of seq, 00 01 12 08 12 4g ss seq 00 00 00 00. */
static inline size_t s7fx_ud_frame(uint8_t *buf, uint16_t ref, uint8_t group, uint8_t sub,
                                   bool next, uint8_t seq, const uint8_t *data, size_t dlen)
{
    const uint8_t par[12] = {0x00, 0x01, 0x12, next ? 0x08 : 0x04, next ? 0x12 : 0x11,
                             (uint8_t)(0x40 | group), sub, seq};
    return s7fx_pdu_frame(buf, S7_USERDATA, ref, par, next ? 12 : 8, data, dlen);
}

/* snap7's CR (docs/s7comm.md 2.1) and a setup with amq calling = called
 * on session c; returns the negotiated PDU. */
static inline uint16_t s7fx_connect_on(s7fx *x, s7_session *c, uint16_t amq, uint16_t pdu)
{
    assert_true(s7fx_serve_on(x, c, CR_SNAP7, sizeof(CR_SNAP7)));
    assert_true(x->reply_len > 0);
    uint8_t buf[64];
    size_t n = s7fx_setup_frame(buf, 0x0001, amq, amq, pdu);
    assert_true(s7fx_serve_on(x, c, buf, n));
    s7_header h = s7fx_reply_hdr(x);
    assert_int_equal(h.rosctr, S7_ACK_DATA);
    s7_setup got;
    assert_int_equal(s7_setup_decode_param(h.param, h.param_len, &got), GW_OK);
    assert_true(c->setup_done);
    assert_int_equal(c->pdu_len, got.pdu_len);
    return got.pdu_len;
}

static inline uint16_t s7fx_connect(s7fx *x, uint16_t amq, uint16_t pdu)
{
    return s7fx_connect_on(x, &x->c, amq, pdu);
}

/* ------------------------------------------------------------ TCP */

/* Starts s (its port as in its options, 0: a free one on 127.0.0.1). */
static inline void s7fx_start(gw_s7_server *s)
{
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_s7_server_start(s, &err);
    if (rc != GW_OK)
        print_error("server start: %s\n", err.msg);
    assert_int_equal(rc, GW_OK);
    assert_int_not_equal(gw_s7_server_port(s), 0);
}

/* Our client for 127.0.0.1:port, rack 0 slot 1, not connected; gap 0:
 * the default, GW_S7_DEFAULT_GAP (s7.h). */
static inline gw_s7_client *s7fx_client_new(uint16_t port, uint16_t pdu_request,
                                            uint32_t timeout_ms, uint16_t gap)
{
    gw_s7_opts o;
    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port = port;
    o.rack = 0;
    o.slot = 1;
    o.pdu_request = pdu_request;
    o.connect_timeout_ms = timeout_ms;
    o.send_timeout_ms = timeout_ms;
    o.recv_timeout_ms = timeout_ms;
    o.gap = gap;
    gw_s7_client *c = NULL;
    assert_int_equal(gw_s7_client_new(&o, &c), GW_OK);
    return c;
}

/* Our client connected (2 s timeouts; pdu_request 0: the default). */
static inline gw_s7_client *s7fx_client_up_gap(uint16_t port, uint16_t pdu_request,
                                               uint16_t gap)
{
    gw_s7_client *c = s7fx_client_new(port, pdu_request, 2000, gap);
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_s7_connect(c, &err);
    if (rc != GW_OK)
        print_error("connect: %s\n", err.msg);
    assert_int_equal(rc, GW_OK);
    assert_true(gw_s7_connected(c));
    return c;
}

static inline gw_s7_client *s7fx_client_up(uint16_t port, uint16_t pdu_request)
{
    return s7fx_client_up_gap(port, pdu_request, 0);
}

#endif
