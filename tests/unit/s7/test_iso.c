/*
 * test_iso.c - the shared ISO-on-TCP transport (s7_iso.h).
 *
 * Client: s7_iso against a scripted peer thread on 127.0.0.1 that plays
 * py7's S7CommPlus emulator (CC without TSAPs, one TPKT of any size per
 * answer: docs/s7commplus.md S1) or a CPU (DR to a CR, TPDU 512,
 * silence). The peer records what it received; the test thread asserts.
 * Server: s7_iso_srv_packet and s7_iso_tpkt_frame on byte vectors.
 * Every socket wait has a deadline; the file runs in well under a second.
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

#include "drivers/s7/s7_iso.h"
#include "s7_doc_frames.h"

/* py7's CR (docs/s7commplus.md S1) and its emulator's CC for it. */
static const uint8_t CR_S7PLUS[] = {
    0x03, 0x00, 0x00, 0x24, 0x1F, 0xE0, 0x00, 0x00, 0x00, 0x01, 0x00, 0xC1, 0x02, 0x06,
    0x00, 0xC2, 0x10, 'S',  'I',  'M',  'A',  'T',  'I',  'C',  '-',  'R',  'O',  'O',
    'T',  '-',  'H',  'M',  'I',  0xC0, 0x01, 0x0A};
static const uint8_t CC_PY7[] = {0x03, 0x00, 0x00, 0x0E, 0x09, 0xD0, 0x00, 0x01,
                                 0x00, 0x01, 0x00, 0xC0, 0x01, 0x0A};

static s7_cotp s7plus_cr(void)
{
    s7_cotp cr = {0};
    cr.type = S7_COTP_CR;
    cr.src_ref = 1;
    cr.has_tpdu_size = true;
    cr.tpdu_size = 0x0A;
    cr.tpdu_size_last = true;
    cr.has_src_tsap = cr.has_dst_tsap = true;
    cr.src_tsap = 0x0600;
    s7_tsap_set(&cr.dst_tsap_bytes, "SIMATIC-ROOT-HMI", 16);
    return cr;
}

/* ------------------------------------------------------------ peer */

typedef enum { PEER_PY7, PEER_REFUSE, PEER_SPLIT, PEER_SILENT } peer_kind;

typedef struct {
    int lfd;
    uint16_t port;
    peer_kind kind;
    pthread_t th;
    /* what the peer saw, checked by the test thread after the join */
    bool cr_ok;
    size_t tpkt_len[8];     /* lengths of the TPKTs after the CR */
    bool tpkt_eot[8];
    size_t ntpkt;
    bool payload_ok;
    uint8_t dr[16];
    size_t dr_len;
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

/* One TPKT into buf (65536 bytes); its length, 0 at EOF or timeout. */
static size_t read_tpkt(int fd, uint8_t *buf)
{
    if (!read_all(fd, buf, 4))
        return 0;
    size_t total = (size_t)buf[2] << 8 | buf[3];
    if (total < 7 || !read_all(fd, buf + 4, total - 4))
        return 0;
    return total;
}

static void send_dt(int fd, const uint8_t *payload, size_t n, bool eot)
{
    uint8_t *f = malloc(n + S7_FRAME_HDR);
    memcpy(f + S7_FRAME_HDR, payload, n);
    size_t total = s7_frame_dt_part(f, n, eot);
    ssize_t w = send(fd, f, total, MSG_NOSIGNAL);
    (void)w;
    free(f);
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7 + 3);
}

/* Reads TPKTs until one with EOT; records them and whether the payload
 * joined is `want` pattern bytes. */
static void read_pdu(peer *p, int fd, uint8_t *buf, size_t want)
{
    size_t got = 0;
    bool ok = true;
    for (;;) {
        size_t n = read_tpkt(fd, buf);
        if (n == 0 || p->ntpkt == 8)
            return;
        p->tpkt_len[p->ntpkt] = n;
        p->tpkt_eot[p->ntpkt++] = (buf[6] & S7_COTP_EOT) != 0;
        for (size_t i = S7_FRAME_HDR; i < n; i++)
            ok = ok && buf[i] == pattern(got++);
        if (buf[6] & S7_COTP_EOT)
            break;
    }
    p->payload_ok = ok && got == want;
}

static void *peer_main(void *arg)
{
    peer *p = arg;
    char name[64];
    int fd = gw_net_accept(p->lfd, false, name, sizeof(name));
    if (fd < 0)
        return NULL;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    uint8_t *buf = malloc(65536), *big = malloc(65536);
    for (size_t i = 0; i < 65536; i++)
        big[i] = pattern(i);
    size_t n = read_tpkt(fd, buf);
    p->cr_ok = n == sizeof(CR_S7PLUS) && memcmp(buf, CR_S7PLUS, n) == 0;
    uint8_t f[64];
    switch (p->kind) {
    case PEER_PY7:
        if (send(fd, CC_PY7, sizeof(CC_PY7), MSG_NOSIGNAL) < 0)
            break;
        read_pdu(p, fd, buf, 3000);               /* one TPKT of 3000 */
        send_dt(fd, big, 5000, true);             /* over the TPDU size */
        for (int round = 0; round < 2; round++) { /* 10 + 20 + 30 */
            send_dt(fd, big, 10, false);
            send_dt(fd, big + 10, 20, false);
            send_dt(fd, big + 30, 30, true);
        }
        read_pdu(p, fd, buf, 2500);               /* split at 1024 */
        p->dr_len = read_tpkt(fd, buf);           /* the DR of the close */
        if (p->dr_len && p->dr_len <= sizeof(p->dr))
            memcpy(p->dr, buf, p->dr_len);
        n = s7_cotp_encode_dc(f, sizeof(f), 1, 1);
        if (send(fd, f, n, MSG_NOSIGNAL) < 0)
            break;
        break;
    case PEER_REFUSE:
        n = s7_cotp_encode_dr(f, sizeof(f), 1, 0, 0x81);
        if (send(fd, f, n, MSG_NOSIGNAL) < 0)
            break;
        read_tpkt(fd, buf);                       /* until the client closes */
        break;
    case PEER_SPLIT: {
        s7_cotp cc = {0};
        cc.type = S7_COTP_CC;
        cc.dst_ref = 1;
        cc.src_ref = 0x4400;
        cc.has_tpdu_size = true;
        cc.tpdu_size = 0x09;                      /* 512 */
        n = s7_cotp_encode_conn(f, sizeof(f), &cc);
        if (send(fd, f, n, MSG_NOSIGNAL) < 0)
            break;
        read_pdu(p, fd, buf, 1200);
        send_dt(fd, big, 60, false);              /* 100 bytes for a 50-byte buffer */
        send_dt(fd, big + 60, 40, true);
        read_tpkt(fd, buf);
        break;
    }
    case PEER_SILENT:
        if (send(fd, CC_PY7, sizeof(CC_PY7), MSG_NOSIGNAL) < 0)
            break;
        read_tpkt(fd, buf);
        break;
    }
    free(buf);
    free(big);
    close(fd);
    return NULL;
}

static void peer_start(peer *p, peer_kind kind)
{
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    assert_int_equal(gw_net_listen("127.0.0.1", 0, 4, &p->lfd, &p->port, NULL), GW_OK);
    assert_int_equal(pthread_create(&p->th, NULL, peer_main, p), 0);
}

static void peer_join(peer *p)
{
    pthread_join(p->th, NULL);
    close(p->lfd);
}

static s7_iso *client(const peer *p, uint32_t recv_ms)
{
    s7_iso_opts o = {"127.0.0.1", p->port, 1000, 1000, recv_ms, NULL, "test", "S7"};
    s7_iso *t;
    assert_int_equal(s7_iso_new(&o, &t), GW_OK);
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(s7_iso_tcp_connect(t, &err), GW_OK);
    return t;
}

/* ------------------------------------------------------------ client tests */

static void test_client_py7(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, PEER_PY7);
    s7_iso *t = client(&p, 1000);
    gw_error err;
    gw_error_clear(&err);
    s7_cotp cr = s7plus_cr(), cc;
    assert_int_equal(s7_iso_cotp_connect(t, &cr, &cc, &err), GW_OK);
    assert_int_equal(cc.type, S7_COTP_CC);
    assert_false(cc.has_src_tsap || cc.has_dst_tsap);
    assert_null(cc.payload);

    uint8_t *pdu = malloc(65536);
    for (size_t i = 0; i < 3000; i++)
        pdu[i] = pattern(i);
    assert_int_equal(s7_iso_send_pdu(t, pdu, 3000, true, &err), GW_OK);
    size_t len;
    assert_int_equal(s7_iso_recv_pdu(t, pdu, 65536, &len, &err), GW_OK);
    assert_int_equal(len, 5000);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(pdu[i], pattern(i));
    /* DT payloads one by one, then joined */
    const size_t parts[] = {10, 20, 30};
    for (size_t i = 0; i < 3; i++) {
        const uint8_t *pl;
        bool eot;
        assert_int_equal(s7_iso_recv_dt(t, 0, &pl, &len, &eot, &err), GW_OK);
        assert_int_equal(len, parts[i]);
        assert_int_equal(eot, i == 2);
    }
    assert_int_equal(s7_iso_recv_pdu(t, pdu, 65536, &len, &err), GW_OK);
    assert_int_equal(len, 60);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(pdu[i], pattern(i));
    for (size_t i = 0; i < 2500; i++)
        pdu[i] = pattern(i);
    assert_int_equal(s7_iso_send_pdu(t, pdu, 2500, false, &err), GW_OK);
    s7_iso_set_established(t);
    s7_iso_close(t);
    assert_false(s7_iso_is_open(t));
    /* closed: sending says so */
    assert_int_equal(s7_iso_send_pdu(t, pdu, 10, false, &err), GW_E_CONN_LOST);
    assert_non_null(strstr(err.msg, "not connected"));
    free(pdu);
    s7_iso_free(t);
    peer_join(&p);

    assert_true(p.cr_ok);
    assert_true(p.payload_ok);
    /* 3000 in one TPKT; 2500 as 1021 + 1021 + 458 (TPDU 1024 - DT header) */
    assert_int_equal(p.ntpkt, 4);
    assert_int_equal(p.tpkt_len[0], 3007);
    assert_true(p.tpkt_eot[0]);
    assert_int_equal(p.tpkt_len[1], 1028);
    assert_false(p.tpkt_eot[1]);
    assert_int_equal(p.tpkt_len[2], 1028);
    assert_false(p.tpkt_eot[2]);
    assert_int_equal(p.tpkt_len[3], 465);
    assert_true(p.tpkt_eot[3]);
    /* DR to the CC's src ref, from the CR's, reason 0x80 */
    const uint8_t dr[] = {0x03, 0x00, 0x00, 0x0B, 0x06, 0x80, 0x00, 0x01, 0x00, 0x01, 0x80};
    assert_bytes(p.dr, p.dr_len, dr, sizeof(dr), "DR");
}

static void test_client_refused(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, PEER_REFUSE);
    s7_iso *t = client(&p, 1000);
    gw_error err;
    gw_error_clear(&err);
    s7_cotp cr = s7plus_cr(), cc;
    assert_int_equal(s7_iso_cotp_connect(t, &cr, &cc, &err), GW_E_CONN_REFUSED);
    char want[128];
    snprintf(want, sizeof(want), "plc 127.0.0.1:%u: the CPU refused the connection (COTP DR, "
             "reason 129)", p.port);
    assert_string_equal(err.msg, want);
    assert_false(s7_iso_is_open(t));
    s7_iso_free(t);
    peer_join(&p);
    assert_true(p.cr_ok);
}

static void test_client_split_and_limit(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, PEER_SPLIT);
    s7_iso *t = client(&p, 1000);
    gw_error err;
    gw_error_clear(&err);
    s7_cotp cr = s7plus_cr(), cc;
    assert_int_equal(s7_iso_cotp_connect(t, &cr, &cc, &err), GW_OK);
    uint8_t pdu[1200];
    for (size_t i = 0; i < sizeof(pdu); i++)
        pdu[i] = pattern(i);
    assert_int_equal(s7_iso_send_pdu(t, pdu, sizeof(pdu), false, &err), GW_OK);
    size_t len;
    assert_int_equal(s7_iso_recv_pdu(t, pdu, 50, &len, &err), GW_E_PROTOCOL);
    assert_int_equal(len, 0);
    char want[128];
    snprintf(want, sizeof(want), "plc 127.0.0.1:%u: S7 PDU longer than 50 bytes", p.port);
    assert_string_equal(err.msg, want);
    assert_false(s7_iso_is_open(t));
    s7_iso_free(t);
    peer_join(&p);
    /* TPDU 512: 509 + 509 + 182 */
    assert_true(p.payload_ok);
    assert_int_equal(p.ntpkt, 3);
    assert_int_equal(p.tpkt_len[0], 516);
    assert_int_equal(p.tpkt_len[1], 516);
    assert_int_equal(p.tpkt_len[2], 189);
    assert_true(p.tpkt_eot[2]);
}

static void test_client_timeout(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, PEER_SILENT);
    s7_iso *t = client(&p, 100);
    gw_error err;
    gw_error_clear(&err);
    s7_cotp cr = s7plus_cr(), cc;
    assert_int_equal(s7_iso_cotp_connect(t, &cr, &cc, &err), GW_OK);
    uint8_t pdu[16];
    size_t len;
    uint64_t t0 = gw_mono_ms();
    assert_int_equal(s7_iso_recv_pdu(t, pdu, sizeof(pdu), &len, &err), GW_E_TIMEOUT);
    assert_true(gw_mono_ms() - t0 >= 90);
    char want[128];
    snprintf(want, sizeof(want), "plc 127.0.0.1:%u: no answer within 100 ms", p.port);
    assert_string_equal(err.msg, want);
    assert_false(s7_iso_is_open(t));
    s7_iso_free(t);
    peer_join(&p);
}

/* ------------------------------------------------------------ server tests */

static s7_iso_srv_step srv(s7_iso_srv *t, const s7_iso_accept *acc, const uint8_t *f, size_t n,
                           uint8_t *out, size_t *out_len, const uint8_t **pdu, size_t *pdu_len)
{
    return s7_iso_srv_packet(t, acc, f, n, out, 256, out_len, pdu, pdu_len);
}

static void test_srv_connect(void **state)
{
    (void)state;
    uint8_t out[256];
    size_t out_len, pl;
    const uint8_t *pdu;
    s7_iso_srv t;
    /* py7's emulator: TPDU size, no TSAPs */
    const s7_iso_accept py7 = {0x0A, false, {0}, {0}};
    assert_int_equal(s7_iso_srv_init(&t, 0x0001, 64), GW_OK);
    assert_int_equal(srv(&t, &py7, CR_S7PLUS, sizeof(CR_S7PLUS), out, &out_len, &pdu, &pl),
                     S7_ISO_SRV_KEEP);
    assert_bytes(out, out_len, CC_PY7, sizeof(CC_PY7), "py7 CC");
    assert_true(t.up);
    assert_int_equal(t.dst_tsap.len, 16);
    assert_memory_equal(t.dst_tsap.bytes, "SIMATIC-ROOT-HMI", 16);
    /* a second CR closes */
    assert_int_equal(srv(&t, &py7, CR_S7PLUS, sizeof(CR_S7PLUS), out, &out_len, &pdu, &pl),
                     S7_ISO_SRV_CLOSE);
    s7_iso_srv_clear(&t);

    /* echoing the TSAPs, the called one a string */
    const s7_iso_accept echo = {0x0A, true, {2, {0x01, 0x00}}, {2, {0x01, 0x02}}};
    assert_int_equal(s7_iso_srv_init(&t, 0x4400, 64), GW_OK);
    assert_int_equal(srv(&t, &echo, CR_S7PLUS, sizeof(CR_S7PLUS), out, &out_len, &pdu, &pl),
                     S7_ISO_SRV_KEEP);
    s7_cotp cc;
    assert_int_equal(s7_cotp_decode(out, out_len, &cc), GW_OK);
    assert_int_equal(cc.type, S7_COTP_CC);
    assert_int_equal(cc.dst_ref, 0x0001);
    assert_int_equal(cc.src_ref, 0x4400);
    assert_int_equal(cc.tpdu_size, 0x0A);
    assert_int_equal(cc.src_tsap, 0x0600);
    assert_int_equal(cc.dst_tsap_bytes.len, 16);
    assert_memory_equal(cc.dst_tsap_bytes.bytes, "SIMATIC-ROOT-HMI", 16);
    s7_iso_srv_clear(&t);

    /* TPDU size: the CR's within 0x07..max, else max; defaults for TSAPs */
    const struct { uint8_t asked; bool has; uint8_t got; } sz[] = {
        {0x08, true, 0x08}, {0x0A, true, 0x0A}, {0x0D, true, 0x0A}, {0x05, true, 0x0A},
        {0, false, 0x0A}};
    for (size_t i = 0; i < sizeof(sz) / sizeof(sz[0]); i++) {
        s7_cotp cr = {0};
        cr.type = S7_COTP_CR;
        cr.src_ref = 7;
        cr.has_tpdu_size = sz[i].has;
        cr.tpdu_size = sz[i].asked;
        uint8_t f[64];
        size_t n = s7_cotp_encode_conn(f, sizeof(f), &cr);
        assert_int_equal(s7_iso_srv_init(&t, 0x4400, 64), GW_OK);
        assert_int_equal(srv(&t, &echo, f, n, out, &out_len, &pdu, &pl), S7_ISO_SRV_KEEP);
        assert_int_equal(s7_cotp_decode(out, out_len, &cc), GW_OK);
        assert_int_equal(cc.tpdu_size, sz[i].got);
        assert_int_equal(cc.src_tsap, 0x0100);
        assert_int_equal(cc.dst_tsap, 0x0102);
        s7_iso_srv_clear(&t);
    }
}

static void test_srv_data(void **state)
{
    (void)state;
    uint8_t out[256], f[128];
    size_t out_len, pl;
    const uint8_t *pdu;
    s7_iso_srv t;
    const s7_iso_accept py7 = {0x0A, false, {0}, {0}};
    assert_int_equal(s7_iso_srv_init(&t, 0x0001, 64), GW_OK);
    /* DT before the CR closes */
    f[S7_FRAME_HDR] = 0x72;
    size_t n = s7_frame_dt(f, 1);
    assert_int_equal(srv(&t, &py7, f, n, out, &out_len, &pdu, &pl), S7_ISO_SRV_CLOSE);
    assert_int_equal(out_len, 0);
    assert_int_equal(srv(&t, &py7, CR_S7PLUS, sizeof(CR_S7PLUS), out, &out_len, &pdu, &pl),
                     S7_ISO_SRV_KEEP);
    /* 40 + 24 bytes joined; one more byte is over the 64-byte bound */
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < 40; i++)
            f[S7_FRAME_HDR + i] = pattern(i);
        n = s7_frame_dt_part(f, 40, false);
        assert_int_equal(srv(&t, &py7, f, n, out, &out_len, &pdu, &pl), S7_ISO_SRV_KEEP);
        assert_null(pdu);
        size_t last = round == 0 ? 24 : 25;
        for (size_t i = 0; i < last; i++)
            f[S7_FRAME_HDR + i] = pattern(40 + i);
        n = s7_frame_dt_part(f, last, true);
        s7_iso_srv_step st = srv(&t, &py7, f, n, out, &out_len, &pdu, &pl);
        if (round == 1) {
            assert_int_equal(st, S7_ISO_SRV_CLOSE);
            break;
        }
        assert_int_equal(st, S7_ISO_SRV_PDU);
        assert_int_equal(pl, 64);
        for (size_t i = 0; i < pl; i++)
            assert_int_equal(pdu[i], pattern(i));
    }
    s7_iso_srv_clear(&t);

    /* DR: a DC back, then close; malformed: BAD */
    assert_int_equal(s7_iso_srv_init(&t, 0x4400, 64), GW_OK);
    assert_int_equal(srv(&t, &py7, CR_S7PLUS, sizeof(CR_S7PLUS), out, &out_len, &pdu, &pl),
                     S7_ISO_SRV_KEEP);
    n = s7_cotp_encode_dr(f, sizeof(f), 0x4400, 0x0001, 0x80);
    assert_int_equal(srv(&t, &py7, f, n, out, &out_len, &pdu, &pl), S7_ISO_SRV_CLOSE);
    const uint8_t dc[] = {0x03, 0x00, 0x00, 0x0A, 0x05, 0xC0, 0x00, 0x01, 0x44, 0x00};
    assert_bytes(out, out_len, dc, sizeof(dc), "DC");
    const uint8_t bad[] = {0x03, 0x00, 0x00, 0x07, 0x09, 0xF0, 0x80};
    assert_int_equal(srv(&t, &py7, bad, sizeof(bad), out, &out_len, &pdu, &pl), S7_ISO_SRV_BAD);
    s7_iso_srv_clear(&t);
}

static void test_tpkt_frame(void **state)
{
    (void)state;
    const uint8_t hdr[] = {0x03, 0x00, 0x00, 0x24};
    assert_int_equal(s7_iso_tpkt_frame(hdr, 3), 0);
    assert_int_equal(s7_iso_tpkt_frame(hdr, 4), 0);
    assert_int_equal(s7_iso_tpkt_frame(CR_S7PLUS, sizeof(CR_S7PLUS) - 1), 0);
    assert_int_equal(s7_iso_tpkt_frame(CR_S7PLUS, sizeof(CR_S7PLUS)), sizeof(CR_S7PLUS));
    const uint8_t v2[] = {0x02, 0x00, 0x00, 0x24};
    const uint8_t short6[] = {0x03, 0x00, 0x00, 0x06};
    assert_int_equal(s7_iso_tpkt_frame(v2, 4), -1);
    assert_int_equal(s7_iso_tpkt_frame(short6, 4), -1);
    /* the largest TPKT, whatever TPDU size */
    const uint8_t max[] = {0x03, 0x00, 0xFF, 0xFF};
    assert_int_equal(s7_iso_tpkt_frame(max, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_py7),
        cmocka_unit_test(test_client_refused),
        cmocka_unit_test(test_client_split_and_limit),
        cmocka_unit_test(test_client_timeout),
        cmocka_unit_test(test_srv_connect),
        cmocka_unit_test(test_srv_data),
        cmocka_unit_test(test_tpkt_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
