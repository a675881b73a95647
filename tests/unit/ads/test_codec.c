/*
 * test_codec.c - the ADS/AMS codec (ads_codec.h) against hand-made vectors
 * built from the layouts of docs/ads.md: every command both ways byte for
 * byte, notification streams, sum read/write/read-write with per-item
 * errors, symbol and data type entries, AmsNetIds, return codes. Every
 * truncation of every valid input is decoded from a heap copy of exactly
 * that many bytes (ASan sees any over-read) and must fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/ads/ads_codec.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t *dup_n(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    assert_non_null(c);
    if (n)
        memcpy(c, p, n);
    return c;
}

/* Every strict prefix of v fails; v + one extra byte fails too. */
#define TRUNCATIONS(v, call)                                                                 \
    do {                                                                                     \
        for (size_t n_ = 0; n_ < sizeof(v); n_++) {                                          \
            uint8_t *p_ = dup_n(v, n_);                                                      \
            const uint8_t *P = p_;                                                           \
            size_t L = n_;                                                                   \
            assert_int_not_equal(call, GW_OK);                                               \
            free(p_);                                                                        \
        }                                                                                    \
        uint8_t x_[sizeof(v) + 1];                                                           \
        memcpy(x_, v, sizeof(v));                                                            \
        x_[sizeof(v)] = 0;                                                                   \
        const uint8_t *P = x_;                                                               \
        size_t L = sizeof(x_);                                                               \
        assert_int_not_equal(call, GW_OK);                                                   \
    } while (0)

static uint8_t buf[4096];

static void assert_bytes(const ads_w *w, const uint8_t *v, size_t n)
{
    size_t len = 0;
    assert_int_equal(ads_w_finish(w, &len), GW_OK);
    assert_int_equal(len, n);
    assert_memory_equal(w->p, v, n);
}

/* Read of %MB0 (ig 0x4020, io 0, 4 bytes) from 10.0.0.1.1.1:32905 to
 * 5.1.2.3.1.1:851, invoke id 1 (layout ADSSPEC/AMSH). */
static const uint8_t READ_PKT[] = {
    0x00, 0x00, 0x2c, 0x00, 0x00, 0x00,                         /* AMS/TCP: len 44 */
    0x05, 0x01, 0x02, 0x03, 0x01, 0x01, 0x53, 0x03,             /* target :851 */
    0x0a, 0x00, 0x00, 0x01, 0x01, 0x01, 0x89, 0x80,             /* source :32905 */
    0x02, 0x00, 0x04, 0x00, 0x0c, 0x00, 0x00, 0x00,             /* Read, request, 12 */
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,             /* error 0, invoke 1 */
    0x20, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00};

static ads_ams_hdr read_hdr(void)
{
    ads_ams_hdr h = {0};
    assert_int_equal(ads_netid_parse("5.1.2.3.1.1", &h.target.net), GW_OK);
    h.target.port = 851;
    assert_int_equal(ads_netid_parse("10.0.0.1.1.1", &h.source.net), GW_OK);
    h.source.port = 32905;
    h.cmd = ADS_CMD_READ;
    h.flags = ADS_SF_REQUEST_STD;
    h.invoke_id = 1;
    return h;
}

static void test_read_packet(void **state)
{
    (void)state;
    ads_w w;
    ads_w_init(&w, buf, sizeof(buf));
    ads_ams_hdr h = read_hdr();
    size_t st = ads_packet_begin(&w, &h);
    ads_read_req q = {ADS_IG_PLC_M, 0, 4};
    ads_read_req_put(&w, &q);
    assert_int_equal(ads_packet_end(&w, st), GW_OK);
    assert_bytes(&w, READ_PKT, sizeof(READ_PKT));

    ads_packet pk;
    assert_int_equal(ads_packet_get(READ_PKT, sizeof(READ_PKT), &pk), GW_OK);
    assert_int_equal(pk.tcp_cmd, 0);
    assert_int_equal(pk.hdr.target.port, 851);
    assert_int_equal(pk.hdr.source.port, 32905);
    assert_int_equal(pk.hdr.cmd, ADS_CMD_READ);
    assert_false(ads_ams_is_response(&pk.hdr));
    assert_int_equal(pk.hdr.data_len, 12);
    assert_int_equal(pk.hdr.invoke_id, 1);
    ads_read_req r;
    assert_int_equal(ads_read_req_get(pk.data, pk.data_len, &r), GW_OK);
    assert_int_equal(r.ig, 0x4020);
    assert_int_equal(r.len, 4);
    TRUNCATIONS(READ_PKT, ads_packet_get(P, L, &pk));

    /* lengths that disagree with the header */
    uint8_t bad[sizeof(READ_PKT)];
    memcpy(bad, READ_PKT, sizeof(bad));
    bad[26] = 0x0b; /* AMS data length 11 */
    assert_int_equal(ads_packet_get(bad, sizeof(bad), &pk), GW_E_PROTOCOL);
    memcpy(bad, READ_PKT, sizeof(bad));
    bad[2] = 0x2d; /* TCP length 45 */
    assert_int_equal(ads_packet_get(bad, sizeof(bad), &pk), GW_E_PROTOCOL);
    /* a small writer overflows, never writes past */
    uint8_t small[20];
    ads_w_init(&w, small, sizeof(small));
    st = ads_packet_begin(&w, &h);
    assert_int_equal(ads_packet_end(&w, st), GW_E_RANGE);
}

static void test_framer(void **state)
{
    (void)state;
    uint8_t two[2 * sizeof(READ_PKT)];
    memcpy(two, READ_PKT, sizeof(READ_PKT));
    memcpy(two + sizeof(READ_PKT), READ_PKT, sizeof(READ_PKT));
    size_t pkt;
    for (size_t n = 0; n < sizeof(READ_PKT); n++) {
        assert_int_equal(ads_frame_next(two, n, 0, &pkt), GW_OK);
        assert_int_equal(pkt, 0);
    }
    assert_int_equal(ads_frame_next(two, sizeof(two), 0, &pkt), GW_OK);
    assert_int_equal(pkt, sizeof(READ_PKT));
    assert_int_equal(ads_frame_next(two, sizeof(READ_PKT) + 3, 0, &pkt), GW_OK);
    assert_int_equal(pkt, sizeof(READ_PKT));
    assert_int_equal(ads_frame_next(two, 6, 49, &pkt), GW_E_RANGE);
    assert_int_equal(ads_frame_next(two, 6, 50, &pkt), GW_OK);
    const uint8_t huge[6] = {0, 0, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(ads_frame_next(huge, 6, 0, &pkt), GW_E_RANGE);
    /* a router command: port connect response (ADSC) */
    const uint8_t conn[] = {0x00, 0x10, 0x08, 0x00, 0x00, 0x00, 0xc0, 0xa8,
                            0x01, 0x0a, 0x01, 0x01, 0x21, 0x80};
    ads_packet pk;
    assert_int_equal(ads_packet_get(conn, sizeof(conn), &pk), GW_OK);
    assert_int_equal(pk.tcp_cmd, ADS_TCP_PORT_CONNECT);
    ads_addr a;
    assert_int_equal(ads_port_connect_rsp_get(pk.data, pk.data_len, &a), GW_OK);
    char s[ADS_NETID_STR];
    assert_string_equal(ads_netid_format(&a.net, s), "192.168.1.10.1.1");
    assert_int_equal(a.port, 32801);
}

static void test_netid(void **state)
{
    (void)state;
    const char *good[] = {"127.0.0.1.1.1", "0.0.0.0.0.0", "255.255.255.255.255.255",
                          "5.1.2.3.1.1", "192.168.10.200.1.1"};
    for (size_t i = 0; i < N(good); i++) {
        ads_netid id;
        char s[ADS_NETID_STR];
        assert_int_equal(ads_netid_parse(good[i], &id), GW_OK);
        assert_string_equal(ads_netid_format(&id, s), good[i]);
    }
    ads_netid id;
    assert_int_equal(ads_netid_parse("127.0.0.1.1.1", &id), GW_OK);
    const uint8_t lo[6] = {127, 0, 0, 1, 1, 1};
    assert_memory_equal(id.b, lo, 6);
    const char *bad[] = {"", "1.2.3.4.5", "1.2.3.4.5.6.7", "256.0.0.0.0.0", "1..2.3.4.5",
                         "1.2.3.4.5.", ".1.2.3.4.5", "a.b.c.d.e.f", "1.2.3.4.5.6 ",
                         " 1.2.3.4.5.6", "-1.2.3.4.5.6", "+1.2.3.4.5.6", "0001.2.3.4.5.6",
                         "1.2.3.4.5.6x"};
    for (size_t i = 0; i < N(bad); i++)
        assert_int_equal(ads_netid_parse(bad[i], &id), GW_E_INVAL);
    assert_int_equal(ads_netid_parse(NULL, &id), GW_E_INVAL);
}

static void test_requests(void **state)
{
    (void)state;
    ads_w w;
    static const uint8_t WR[] = {0x05, 0xf0, 0, 0, 0x78, 0x56, 0x34, 0x12, 2, 0, 0, 0, 0xaa, 0xbb};
    ads_write_req wq = {ADS_IG_SYM_VAL_BYHND, 0x12345678, 2, WR + 12}, wd;
    ads_w_init(&w, buf, sizeof(buf));
    ads_write_req_put(&w, &wq);
    assert_bytes(&w, WR, sizeof(WR));
    assert_int_equal(ads_write_req_get(WR, sizeof(WR), &wd), GW_OK);
    assert_int_equal(wd.io, 0x12345678);
    assert_int_equal(wd.len, 2);
    assert_int_equal(wd.data[1], 0xbb);
    TRUNCATIONS(WR, ads_write_req_get(P, L, &wd));

    static const uint8_t RW[] = {0x03, 0xf0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0,
                                 'M',  'A',  'I', 'N', '.'};
    ads_rw_req rq = {ADS_IG_SYM_HND_BYNAME, 0, 4, 5, RW + 16}, rd;
    ads_w_init(&w, buf, sizeof(buf));
    ads_rw_req_put(&w, &rq);
    assert_bytes(&w, RW, sizeof(RW));
    ads_w_init(&w, buf, sizeof(buf));
    ads_handle_req_put(&w, "MAIN.", 5);
    assert_bytes(&w, RW, sizeof(RW));
    assert_int_equal(ads_rw_req_get(RW, sizeof(RW), &rd), GW_OK);
    ads_str name;
    assert_int_equal(ads_symname_get(&rd, &name), GW_OK);
    assert_int_equal(name.len, 5);
    assert_memory_equal(name.p, "MAIN.", 5);
    TRUNCATIONS(RW, ads_rw_req_get(P, L, &rd));
    /* a name with its NUL, as ads-client sends it */
    static const uint8_t RWZ[] = {0x03, 0xf0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 'a', 'b', 0};
    assert_int_equal(ads_rw_req_get(RWZ, sizeof(RWZ), &rd), GW_OK);
    assert_int_equal(ads_symname_get(&rd, &name), GW_OK);
    assert_int_equal(name.len, 2);

    static const uint8_t WC[] = {5, 0, 0, 0, 1, 0, 0, 0, 0x42};
    ads_wrctl_req cq = {ADS_STATE_RUN, 0, 1, WC + 8}, cd;
    ads_w_init(&w, buf, sizeof(buf));
    ads_wrctl_req_put(&w, &cq);
    assert_bytes(&w, WC, sizeof(WC));
    assert_int_equal(ads_wrctl_req_get(WC, sizeof(WC), &cd), GW_OK);
    assert_int_equal(cd.ads_state, ADS_STATE_RUN);
    TRUNCATIONS(WC, ads_wrctl_req_get(P, L, &cd));

    /* AddDeviceNotification: 4 bytes of handle 7, on change, max delay 0,
     * cycle 100 ms = 1,000,000 × 100 ns */
    static const uint8_t AN[40] = {0x05, 0xf0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0,
                                   0,    0,    0, 0, 0x40, 0x42, 0x0f, 0};
    ads_addnote_req aq = {ADS_IG_SYM_VAL_BYHND, 7, 4, ADS_TRANS_SERVER_ONCHA, 0, 1000000}, ad;
    ads_w_init(&w, buf, sizeof(buf));
    ads_addnote_req_put(&w, &aq);
    assert_bytes(&w, AN, sizeof(AN));
    assert_int_equal(ads_addnote_req_get(AN, sizeof(AN), &ad), GW_OK);
    assert_int_equal(ad.cycle_100ns, 1000000);
    assert_int_equal(ad.mode, ADS_TRANS_SERVER_ONCHA);
    TRUNCATIONS(AN, ads_addnote_req_get(P, L, &ad));

    static const uint8_t DN[] = {0x2a, 0, 0, 0};
    uint32_t h;
    ads_w_init(&w, buf, sizeof(buf));
    ads_u32_put(&w, 42);
    assert_bytes(&w, DN, sizeof(DN));
    assert_int_equal(ads_u32_get(DN, sizeof(DN), &h), GW_OK);
    assert_int_equal(h, 42);
    TRUNCATIONS(DN, ads_u32_get(P, L, &h));
    assert_int_equal(ads_empty_get(DN, 0), GW_OK);
    assert_int_equal(ads_empty_get(DN, 1), GW_E_PROTOCOL);

    static const uint8_t RD[] = {0x20, 0x40, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0};
    ads_read_req rr;
    TRUNCATIONS(RD, ads_read_req_get(P, L, &rr));
    /* data length larger than what follows */
    static const uint8_t WBAD[] = {0x05, 0xf0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0xaa, 0xbb};
    assert_int_equal(ads_write_req_get(WBAD, sizeof(WBAD), &wd), GW_E_PROTOCOL);
    static const uint8_t RWBAD[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(ads_rw_req_get(RWBAD, sizeof(RWBAD), &rd), GW_E_PROTOCOL);
}

static void test_responses(void **state)
{
    (void)state;
    ads_w w;
    static const uint8_t DI[] = {0, 0, 0, 0, 3, 1, 0xfc, 0x0f, 'P', 'l', 'c', '3', '0', ' ',
                                 'A', 'p', 'p', 0, 0, 0, 0, 0, 0, 0};
    ads_devinfo_rsp di = {0, 3, 1, 4092, "Plc30 App"}, dd;
    ads_w_init(&w, buf, sizeof(buf));
    ads_devinfo_rsp_put(&w, &di);
    assert_bytes(&w, DI, sizeof(DI));
    assert_int_equal(ads_devinfo_rsp_get(DI, sizeof(DI), &dd), GW_OK);
    assert_string_equal(dd.name, "Plc30 App");
    assert_int_equal(dd.build, 4092);
    TRUNCATIONS(DI, ads_devinfo_rsp_get(P, L, &dd));

    static const uint8_t RDR[] = {0, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4};
    ads_data_rsp ds = {0, 4, RDR + 8}, dr;
    ads_w_init(&w, buf, sizeof(buf));
    ads_data_rsp_put(&w, &ds);
    assert_bytes(&w, RDR, sizeof(RDR));
    assert_int_equal(ads_data_rsp_get(RDR, sizeof(RDR), &dr), GW_OK);
    assert_int_equal(dr.len, 4);
    assert_int_equal(dr.data[3], 4);
    TRUNCATIONS(RDR, ads_data_rsp_get(P, L, &dr));
    /* error result: with length 0, or result only */
    static const uint8_t RDE[] = {0x10, 0x07, 0, 0, 0, 0, 0, 0};
    assert_int_equal(ads_data_rsp_get(RDE, sizeof(RDE), &dr), GW_OK);
    assert_int_equal(dr.result, ADSERR_DEVICE_SYMBOLNOTFOUND);
    assert_int_equal(ads_data_rsp_get(RDE, 4, &dr), GW_OK);
    assert_int_equal(dr.len, 0);
    uint32_t h;
    assert_int_equal(ads_handle_rsp_get(&dr, &h), GW_E_DEVICE_REJECTED);
    static const uint8_t HR[] = {0, 0, 0, 0, 4, 0, 0, 0, 0x11, 0x22, 0, 0};
    assert_int_equal(ads_data_rsp_get(HR, sizeof(HR), &dr), GW_OK);
    assert_int_equal(ads_handle_rsp_get(&dr, &h), GW_OK);
    assert_int_equal(h, 0x2211);

    static const uint8_t RS[] = {0, 0, 0, 0, 5, 0, 0, 0};
    ads_state_rsp ss = {0, ADS_STATE_RUN, 0}, sd;
    ads_w_init(&w, buf, sizeof(buf));
    ads_state_rsp_put(&w, &ss);
    assert_bytes(&w, RS, sizeof(RS));
    assert_int_equal(ads_state_rsp_get(RS, sizeof(RS), &sd), GW_OK);
    assert_int_equal(sd.ads_state, ADS_STATE_RUN);
    TRUNCATIONS(RS, ads_state_rsp_get(P, L, &sd));

    static const uint8_t AR[] = {0, 0, 0, 0, 0x99, 0, 0, 0};
    ads_addnote_rsp as = {0, 0x99}, ad;
    ads_w_init(&w, buf, sizeof(buf));
    ads_addnote_rsp_put(&w, &as);
    assert_bytes(&w, AR, sizeof(AR));
    assert_int_equal(ads_addnote_rsp_get(AR, sizeof(AR), &ad), GW_OK);
    assert_int_equal(ad.handle, 0x99);
    TRUNCATIONS(AR, ads_addnote_rsp_get(P, L, &ad));
}

/* 2 stamps: t1 {h1: 2 bytes, h2: 1 byte}, t2 {h1: 0 bytes} */
static const uint8_t NOTE[] = {
    0x37, 0, 0, 0, 2, 0, 0, 0,                                  /* length 55, 2 stamps */
    0x00, 0x80, 0x3e, 0xd5, 0xde, 0xb1, 0x9d, 0x01, 2, 0, 0, 0, /* t1, 2 samples */
    1, 0, 0, 0, 2, 0, 0, 0, 0x34, 0x12,                         /* h1 */
    2, 0, 0, 0, 1, 0, 0, 0, 0x07,                               /* h2 */
    0x10, 0x27, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,                   /* t2 = 10000 */
    1, 0, 0, 0, 0, 0, 0, 0};                                    /* h1, empty */

static void test_notification(void **state)
{
    (void)state;
    const uint64_t t1 = 0x019db1ded53e8000ull;
    ads_w w;
    ads_note_builder b;
    ads_w_init(&w, buf, sizeof(buf));
    ads_note_build_begin(&b, &w);
    ads_note_build_stamp(&b, t1);
    ads_note_build_sample(&b, 1, "\x34\x12", 2);
    ads_note_build_sample(&b, 2, "\x07", 1);
    ads_note_build_stamp(&b, 10000);
    ads_note_build_sample(&b, 1, NULL, 0);
    assert_int_equal(ads_note_build_end(&b), GW_OK);
    assert_bytes(&w, NOTE, sizeof(NOTE));

    ads_note_iter it;
    ads_note_sample s;
    assert_int_equal(ads_note_begin(NOTE, sizeof(NOTE), &it), GW_OK);
    assert_int_equal(it.stamps, 2);
    assert_int_equal(it.samples, 3);
    assert_true(ads_note_next(&it, &s));
    assert_true(s.filetime == t1);
    assert_int_equal(s.handle, 1);
    assert_int_equal(s.len, 2);
    assert_int_equal(s.data[1], 0x12);
    assert_true(ads_note_next(&it, &s));
    assert_int_equal(s.handle, 2);
    assert_int_equal(s.data[0], 7);
    assert_true(ads_note_next(&it, &s));
    assert_true(s.filetime == 10000);
    assert_int_equal(s.len, 0);
    assert_false(ads_note_next(&it, &s));
    TRUNCATIONS(NOTE, ads_note_begin(P, L, &it));
    uint8_t bad[sizeof(NOTE)];
    memcpy(bad, NOTE, sizeof(bad));
    bad[4] = 3; /* 3 stamps */
    assert_int_equal(ads_note_begin(bad, sizeof(bad), &it), GW_E_PROTOCOL);
    memcpy(bad, NOTE, sizeof(bad));
    bad[24] = 3; /* sample size 3 */
    assert_int_equal(ads_note_begin(bad, sizeof(bad), &it), GW_E_PROTOCOL);
    /* a sample before any stamp */
    ads_w_init(&w, buf, sizeof(buf));
    ads_note_build_begin(&b, &w);
    ads_note_build_sample(&b, 1, "x", 1);
    assert_int_equal(ads_note_build_end(&b), GW_E_RANGE);
    /* FILETIME: 2020-01-01T00:00:00Z */
    assert_true(ads_filetime_from_unix_ms(1577836800000LL) == 132223104000000000ull);
    assert_true(ads_filetime_to_unix_ms(132223104000000000ull) == 1577836800000LL);
    assert_true(ads_filetime_to_unix_ms(ads_filetime_from_unix_ms(0)) == 0);
}

static void test_sum_read(void **state)
{
    (void)state;
    ads_sum_item it[2] = {{0x4020, 0, 4, 0, NULL}, {0xF005, 0x77, 2, 0, NULL}};
    static const uint8_t REQ[] = {
        0x80, 0xf0, 0, 0, 2, 0, 0, 0, 14, 0, 0, 0, 24, 0, 0, 0, /* rw hdr: read 8+6 */
        0x20, 0x40, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0,
        0x05, 0xf0, 0, 0, 0x77, 0, 0, 0, 2, 0, 0, 0};
    ads_w w;
    ads_w_init(&w, buf, sizeof(buf));
    ads_sum_req_put(&w, ADS_IG_SUM_READ, it, 2);
    assert_bytes(&w, REQ, sizeof(REQ));
    size_t rq, rs;
    ads_sum_sizes(ADS_IG_SUM_READ, it, 2, &rq, &rs);
    assert_int_equal(rq, sizeof(REQ));
    assert_int_equal(rs, 8 + 14);

    ads_rw_req q;
    assert_int_equal(ads_rw_req_get(REQ, sizeof(REQ), &q), GW_OK);
    ads_sum_req_iter ri;
    ads_sum_item x;
    assert_int_equal(ads_sum_req_begin(&q, &ri), GW_OK);
    assert_true(ads_sum_req_next(&ri, &x));
    assert_int_equal(x.ig, 0x4020);
    assert_int_equal(x.read_len, 4);
    assert_true(ads_sum_req_next(&ri, &x));
    assert_int_equal(x.io, 0x77);
    assert_false(ads_sum_req_next(&ri, &x));
    q.io = 3;
    assert_int_equal(ads_sum_req_begin(&q, &ri), GW_E_PROTOCOL);
    q.io = 1;
    assert_int_equal(ads_sum_req_begin(&q, &ri), GW_E_PROTOCOL);

    /* response: item 2 fails with 0x710, its slot is still there */
    static const uint8_t RSP[] = {0, 0, 0, 0, 14, 0, 0, 0,        /* rw rsp */
                                  0, 0, 0, 0, 0x10, 0x07, 0, 0,   /* errors */
                                  1, 2, 3, 4, 0, 0};              /* data */
    ads_sum_result res[2] = {{0, 4, RSP + 16}, {ADSERR_DEVICE_SYMBOLNOTFOUND, 2, NULL}};
    ads_w_init(&w, buf, sizeof(buf));
    ads_sum_rsp_put(&w, ADS_IG_SUM_READ, res, 2);
    assert_bytes(&w, RSP, sizeof(RSP));
    ads_data_rsp d;
    assert_int_equal(ads_data_rsp_get(RSP, sizeof(RSP), &d), GW_OK);
    ads_sum_rsp_iter si;
    ads_sum_result r;
    assert_int_equal(ads_sum_rsp_begin(ADS_IG_SUM_READ, it, 2, d.data, d.len, &si), GW_OK);
    assert_true(ads_sum_rsp_next(&si, &r));
    assert_int_equal(r.error, 0);
    assert_int_equal(r.len, 4);
    assert_int_equal(r.data[2], 3);
    assert_true(ads_sum_rsp_next(&si, &r));
    assert_int_equal(r.error, 0x710);
    assert_int_equal(ads_err_to_gw(r.error), GW_E_NOT_FOUND);
    assert_false(ads_sum_rsp_next(&si, &r));
    const uint8_t *body = RSP + 8;
    static uint8_t body_v[sizeof(RSP) - 8];
    memcpy(body_v, body, sizeof(body_v));
    TRUNCATIONS(body_v, ads_sum_rsp_begin(ADS_IG_SUM_READ, it, 2, P, L, &si));

    /* split: requests 28 / 40 bytes, responses 16 / 22 */
    assert_int_equal(ads_sum_fit(ADS_IG_SUM_READ, it, 2, 39), 1);
    assert_int_equal(ads_sum_fit(ADS_IG_SUM_READ, it, 2, 40), 2);
    assert_int_equal(ads_sum_fit(ADS_IG_SUM_READ, it, 2, 27), 0);
    it[1].read_len = 100; /* now the response limits */
    assert_int_equal(ads_sum_fit(ADS_IG_SUM_READ, it, 2, 100), 1);
    it[1].read_len = 2;
}

static void test_sum_write(void **state)
{
    (void)state;
    static const uint8_t d1[2] = {0xaa, 0xbb}, d2[1] = {0xcc};
    ads_sum_item it[2] = {{0x4020, 0, 0, 2, d1}, {0x4020, 8, 0, 1, d2}};
    static const uint8_t REQ[] = {
        0x81, 0xf0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0, 27, 0, 0, 0,
        0x20, 0x40, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,
        0x20, 0x40, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0,
        0xaa, 0xbb, 0xcc};
    ads_w w;
    ads_w_init(&w, buf, sizeof(buf));
    ads_sum_req_put(&w, ADS_IG_SUM_WRITE, it, 2);
    assert_bytes(&w, REQ, sizeof(REQ));
    ads_rw_req q;
    assert_int_equal(ads_rw_req_get(REQ, sizeof(REQ), &q), GW_OK);
    ads_sum_req_iter ri;
    ads_sum_item x;
    assert_int_equal(ads_sum_req_begin(&q, &ri), GW_OK);
    assert_true(ads_sum_req_next(&ri, &x));
    assert_int_equal(x.write_len, 2);
    assert_int_equal(x.data[1], 0xbb);
    assert_true(ads_sum_req_next(&ri, &x));
    assert_int_equal(x.data[0], 0xcc);
    assert_false(ads_sum_req_next(&ri, &x));
    q.write_len--; /* data shorter than the list says */
    assert_int_equal(ads_sum_req_begin(&q, &ri), GW_E_PROTOCOL);

    static const uint8_t RSP[] = {0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x07, 0, 0};
    ads_sum_result res[2] = {{0, 0, NULL}, {ADSERR_DEVICE_INVALIDACCESS, 0, NULL}};
    ads_w_init(&w, buf, sizeof(buf));
    ads_sum_rsp_put(&w, ADS_IG_SUM_WRITE, res, 2);
    assert_bytes(&w, RSP, sizeof(RSP));
    ads_sum_rsp_iter si;
    ads_sum_result r;
    assert_int_equal(ads_sum_rsp_begin(ADS_IG_SUM_WRITE, it, 2, RSP + 8, 8, &si), GW_OK);
    assert_true(ads_sum_rsp_next(&si, &r));
    assert_true(ads_sum_rsp_next(&si, &r));
    assert_int_equal(ads_err_to_gw(r.error), GW_E_ACCESS);
    assert_false(ads_sum_rsp_next(&si, &r));
    static uint8_t body[8];
    memcpy(body, RSP + 8, 8);
    TRUNCATIONS(body, ads_sum_rsp_begin(ADS_IG_SUM_WRITE, it, 2, P, L, &si));
    /* request 16+24+3 = 43 bytes */
    assert_int_equal(ads_sum_fit(ADS_IG_SUM_WRITE, it, 2, 43), 2);
    assert_int_equal(ads_sum_fit(ADS_IG_SUM_WRITE, it, 2, 42), 1);
}

static void test_sum_readwrite(void **state)
{
    (void)state;
    ads_sum_item it[2] = {{0xF003, 0, 4, 3, (const uint8_t *)"a.b"},
                          {0xF003, 0, 4, 1, (const uint8_t *)"x"}};
    static const uint8_t REQ[] = {
        0x82, 0xf0, 0, 0, 2, 0, 0, 0, 24, 0, 0, 0, 36, 0, 0, 0,
        0x03, 0xf0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0,
        0x03, 0xf0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0,
        'a', '.', 'b', 'x'};
    ads_w w;
    ads_w_init(&w, buf, sizeof(buf));
    ads_sum_req_put(&w, ADS_IG_SUM_READWRITE, it, 2);
    assert_bytes(&w, REQ, sizeof(REQ));
    ads_rw_req q;
    ads_sum_req_iter ri;
    ads_sum_item x;
    assert_int_equal(ads_rw_req_get(REQ, sizeof(REQ), &q), GW_OK);
    assert_int_equal(ads_sum_req_begin(&q, &ri), GW_OK);
    assert_true(ads_sum_req_next(&ri, &x));
    assert_int_equal(x.read_len, 4);
    assert_memory_equal(x.data, "a.b", 3);
    assert_true(ads_sum_req_next(&ri, &x));
    assert_memory_equal(x.data, "x", 1);

    /* item 1: handle 0x1234; item 2: symbol not found, no data */
    static const uint8_t RSP[] = {0, 0, 0, 0, 20, 0, 0, 0,
                                  0, 0, 0, 0, 4, 0, 0, 0, 0x10, 0x07, 0, 0, 0, 0, 0, 0,
                                  0x34, 0x12, 0, 0};
    ads_sum_result res[2] = {{0, 4, RSP + 24}, {0x710, 0, NULL}};
    ads_w_init(&w, buf, sizeof(buf));
    ads_sum_rsp_put(&w, ADS_IG_SUM_READWRITE, res, 2);
    assert_bytes(&w, RSP, sizeof(RSP));
    ads_sum_rsp_iter si;
    ads_sum_result r;
    assert_int_equal(ads_sum_rsp_begin(ADS_IG_SUM_READWRITE, it, 2, RSP + 8, 20, &si), GW_OK);
    assert_true(ads_sum_rsp_next(&si, &r));
    assert_int_equal(r.len, 4);
    assert_int_equal(r.data[1], 0x12);
    assert_true(ads_sum_rsp_next(&si, &r));
    assert_int_equal(r.error, 0x710);
    assert_int_equal(r.len, 0);
    assert_false(ads_sum_rsp_next(&si, &r));
    static uint8_t body[20];
    memcpy(body, RSP + 8, 20);
    TRUNCATIONS(body, ads_sum_rsp_begin(ADS_IG_SUM_READWRITE, it, 2, P, L, &si));
    /* a returned length above the requested one */
    body[4] = 5;
    assert_int_equal(ads_sum_rsp_begin(ADS_IG_SUM_READWRITE, it, 2, body, 21, &si),
                     GW_E_PROTOCOL);
}

/* Symbol "MAIN.x" : ARRAY[1..3] OF INT, type GUID, one attribute
 * "TcDisplay"="1", extended flags 1, and 5 bytes we do not model. */
static const uint8_t SYM[] = {
    0x6d, 0, 0, 0,                   /* entry length 109 */
    0x20, 0x40, 0, 0, 0x10, 0, 0, 0, /* ig, io */
    6, 0, 0, 0, 2, 0, 0, 0,          /* size 6, ADST_INT16 */
    0x08, 0x90, 1, 0,                /* flags TYPEGUID|ATTRIBUTES|EXTENDED, 1 dim */
    6, 0, 19, 0, 2, 0,               /* name, type, comment lengths */
    'M', 'A', 'I', 'N', '.', 'x', 0,
    'A', 'R', 'R', 'A', 'Y', ' ', '[', '1', '.', '.', '3', ']', ' ', 'O', 'F', ' ', 'I', 'N',
    'T', 0,
    'h', 'i', 0,
    1, 0, 0, 0, 3, 0, 0, 0,          /* array info: start 1, length 3 */
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, /* GUID */
    1, 0, 9, 1, 'T', 'c', 'D', 'i', 's', 'p', 'l', 'a', 'y', 0, '1', 0, /* attribute */
    1, 0, 0, 0,                      /* extended flags */
    0xde, 0xad, 0xbe, 0xef, 0x00};   /* unmodelled */

static void test_symbol(void **state)
{
    (void)state;
    assert_int_equal(sizeof(SYM), 109);
    ads_symbol s;
    size_t used;
    assert_int_equal(ads_symbol_get(SYM, sizeof(SYM), &s, &used), GW_OK);
    assert_int_equal(used, 109);
    assert_int_equal(s.ig, 0x4020);
    assert_int_equal(s.io, 0x10);
    assert_int_equal(s.size, 6);
    assert_int_equal(s.data_type, ADST_INT16);
    assert_int_equal(s.array_dim, 1);
    assert_string_equal(s.name.p, "MAIN.x");
    assert_string_equal(s.type.p, "ARRAY [1..3] OF INT");
    assert_string_equal(s.comment.p, "hi");
    int32_t st;
    uint32_t len;
    ads_array_info(s.array_info, 0, &st, &len);
    assert_int_equal(st, 1);
    assert_int_equal(len, 3);
    assert_non_null(s.guid);
    assert_int_equal(s.guid[15], 16);
    assert_int_equal(s.attr_count, 1);
    const uint8_t *a = s.attrs;
    size_t left = s.attrs_len;
    ads_str an, av;
    assert_true(ads_attr_next(&a, &left, &an, &av));
    assert_string_equal(an.p, "TcDisplay");
    assert_string_equal(av.p, "1");
    assert_int_equal(left, 0);
    assert_int_equal(s.ext_flags, 1);
    TRUNCATIONS(SYM, ads_symbol_get(P, L, &s, &used) == GW_OK && used == L ? GW_OK : GW_E_PROTOCOL);

    /* re-encode: padded to the entry length */
    assert_int_equal(ads_symbol_get(SYM, sizeof(SYM), &s, &used), GW_OK);
    ads_w w;
    ads_w_init(&w, buf, sizeof(buf));
    ads_symbol_put(&w, &s);
    size_t n;
    assert_int_equal(ads_w_finish(&w, &n), GW_OK);
    assert_int_equal(n, 109);
    assert_memory_equal(buf, SYM, 104);

    /* an upload of two entries: SYM then a minimal one */
    uint8_t up[sizeof(SYM) + 33];
    memcpy(up, SYM, sizeof(SYM));
    static const uint8_t MIN[33] = {33, 0, 0, 0, 0x20, 0x40, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
                                    0x21, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(up + sizeof(SYM), MIN, sizeof(MIN));
    ads_symbol_iter it;
    bool fin;
    ads_symbol_iter_init(&it, up, sizeof(up));
    assert_int_equal(ads_symbol_iter_next(&it, &s, &fin), GW_OK);
    assert_false(fin);
    assert_int_equal(ads_symbol_iter_next(&it, &s, &fin), GW_OK);
    assert_false(fin);
    assert_int_equal(s.data_type, ADST_BIT);
    assert_int_equal(s.name.len, 0);
    assert_int_equal(ads_symbol_iter_next(&it, &s, &fin), GW_OK);
    assert_true(fin);
    /* an entry length of 0 or beyond the buffer, a missing NUL */
    uint8_t bad[sizeof(SYM)];
    memcpy(bad, SYM, sizeof(bad));
    bad[0] = 0;
    assert_int_equal(ads_symbol_get(bad, sizeof(bad), &s, &used), GW_E_PROTOCOL);
    bad[0] = 0x6e;
    assert_int_equal(ads_symbol_get(bad, sizeof(bad), &s, &used), GW_E_PROTOCOL);
    memcpy(bad, SYM, sizeof(bad));
    bad[36] = 'y';
    assert_int_equal(ads_symbol_get(bad, sizeof(bad), &s, &used), GW_E_PROTOCOL);
    /* flags promise more than the entry holds */
    memcpy(bad, SYM, sizeof(bad));
    bad[0] = 60;
    assert_int_equal(ads_symbol_get(bad, sizeof(bad), &s, &used), GW_E_PROTOCOL);
}

/* Data type "E_Mode" : enum of INT {Off := 0, On := 1}, one attribute,
 * with one sub-item "x" : INT at offset 0 and 3 bytes unmodelled. */
static const uint8_t SUB[] = {
    0x2e, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* len 46, version 1 */
    2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0,    /* size, offset, INT16, DATAITEM */
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0,                      /* name 1, type 0, comment 0 */
    'x', 0, 0, 0};
static const uint8_t DT[] = {
    0x7d, 0, 0, 0, 1, 0, 0, 0, 0x11, 0, 0, 0, 0x22, 0, 0, 0, /* len 125 */
    2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0x01, 0x30, 0, 0,    /* DATATYPE|ATTR|ENUM */
    6, 0, 3, 0, 0, 0, 0, 0, 1, 0,                            /* 1 sub-item */
    'E', '_', 'M', 'o', 'd', 'e', 0, 'I', 'N', 'T', 0, 0,
    0x2e, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'x', 0, 0, 0,              /* the sub-item */
    1, 0, 1, 0, 'a', 0, 0,                                   /* attribute a="" */
    2, 0, 3, 'O', 'f', 'f', 0, 0, 0, 2, 'O', 'n', 0, 1, 0,   /* enum infos */
    0xaa, 0xbb, 0xcc};

static void test_dtype(void **state)
{
    (void)state;
    assert_int_equal(sizeof(SUB), 46);
    assert_int_equal(sizeof(DT), 125);
    ads_dtype d;
    size_t used;
    assert_int_equal(ads_dtype_get(DT, sizeof(DT), &d, &used), GW_OK);
    assert_int_equal(used, 125);
    assert_int_equal(d.hash, 0x11);
    assert_int_equal(d.type_hash, 0x22);
    assert_int_equal(d.size, 2);
    assert_string_equal(d.name.p, "E_Mode");
    assert_string_equal(d.type.p, "INT");
    assert_int_equal(d.sub_count, 1);
    assert_int_equal(d.subs_len, 46);
    assert_int_equal(d.attr_count, 1);
    assert_int_equal(d.enum_count, 2);
    ads_dtype_iter it;
    ads_dtype sd;
    bool fin;
    ads_dtype_iter_init(&it, d.subs, d.subs_len);
    assert_int_equal(ads_dtype_iter_next(&it, &sd, &fin), GW_OK);
    assert_false(fin);
    assert_string_equal(sd.name.p, "x");
    assert_int_equal(sd.flags, ADS_DTF_DATAITEM);
    assert_int_equal(ads_dtype_iter_next(&it, &sd, &fin), GW_OK);
    assert_true(fin);
    const uint8_t *e = d.enums, *val;
    size_t left = d.enums_len;
    ads_str en;
    assert_true(ads_enum_next(&d, &e, &left, &en, &val));
    assert_string_equal(en.p, "Off");
    assert_int_equal(val[0], 0);
    assert_true(ads_enum_next(&d, &e, &left, &en, &val));
    assert_string_equal(en.p, "On");
    assert_int_equal(val[0], 1);
    assert_false(ads_enum_next(&d, &e, &left, &en, &val));
    TRUNCATIONS(DT, ads_dtype_get(P, L, &d, &used) == GW_OK && used == L ? GW_OK : GW_E_PROTOCOL);
    TRUNCATIONS(SUB, ads_dtype_get(P, L, &d, &used) == GW_OK && used == L ? GW_OK : GW_E_PROTOCOL);
    uint8_t bad[sizeof(DT)];
    memcpy(bad, DT, sizeof(bad));
    bad[54] = 0x60; /* sub-item longer than the parent */
    assert_int_equal(ads_dtype_get(bad, sizeof(bad), &d, &used), GW_E_PROTOCOL);
    memcpy(bad, DT, sizeof(bad));
    bad[54] = 10; /* sub-item shorter than a header */
    assert_int_equal(ads_dtype_get(bad, sizeof(bad), &d, &used), GW_E_PROTOCOL);
}

static void test_upload_info(void **state)
{
    (void)state;
    static const uint8_t UI[24] = {10, 0, 0, 0, 0x00, 0x10, 0, 0, 3, 0, 0, 0,
                                   0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    ads_upload_info u = {10, 4096, 3, 512, 0, 0}, d;
    ads_w w;
    ads_w_init(&w, buf, sizeof(buf));
    ads_upload_info_put(&w, &u);
    assert_bytes(&w, UI, sizeof(UI));
    assert_int_equal(ads_upload_info_get(UI, 24, &d), GW_OK);
    assert_int_equal(d.dtype_bytes, 512);
    assert_int_equal(ads_upload_info_get(UI, 8, &d), GW_OK);
    assert_int_equal(d.symbol_bytes, 4096);
    assert_int_equal(d.dtypes, 0);
    for (size_t n = 0; n < 24; n++)
        if (n != 8)
            assert_int_equal(ads_upload_info_get(UI, n, &d), GW_E_PROTOCOL);
}

static void test_errors(void **state)
{
    (void)state;
    assert_int_equal(ads_err_to_gw(0), GW_OK);
    assert_string_equal(ads_err_name(0x710), "ADSERR_DEVICE_SYMBOLNOTFOUND");
    assert_string_equal(ads_err_text(0x710), "symbol not found");
    assert_int_equal(ads_err_to_gw(0x710), GW_E_NOT_FOUND);
    assert_int_equal(ads_err_to_gw(0x702), GW_E_NOT_FOUND);
    assert_int_equal(ads_err_to_gw(0x006), GW_E_NOT_FOUND);
    assert_int_equal(ads_err_to_gw(0x704), GW_E_ACCESS);
    assert_int_equal(ads_err_to_gw(0x723), GW_E_ACCESS);
    assert_int_equal(ads_err_to_gw(0x705), GW_E_TYPE);
    assert_int_equal(ads_err_to_gw(0x745), GW_E_TIMEOUT);
    assert_int_equal(ads_err_to_gw(0x719), GW_E_TIMEOUT);
    assert_int_equal(ads_err_to_gw(0x708), GW_E_BUSY);
    assert_int_equal(ads_err_to_gw(0x754), GW_E_PROTOCOL);
    assert_int_equal(ads_err_to_gw(0x701), GW_E_UNSUPPORTED);
    assert_int_equal(ads_err_to_gw(0x706), GW_E_DEVICE_REJECTED);
    assert_int_equal(ads_err_to_gw(0x12345), GW_E_DEVICE_REJECTED);
    assert_string_equal(ads_err_name(0x12345), "?");
    for (uint32_t c = 0; c <= 0x1E; c++)
        assert_string_not_equal(ads_err_name(c), "?");
    for (uint32_t c = 0x700; c <= 0x72F; c++)
        assert_string_not_equal(ads_err_name(c), "?");
    assert_string_equal(ads_cmd_name(ADS_CMD_READ_WRITE), "ReadWrite");
    assert_string_equal(ads_cmd_name(10), "?");
    assert_string_equal(ads_state_name(ADS_STATE_RUN), "RUN");
    assert_string_equal(ads_state_name(20), "?");
}

/* Writes the corpus seeds when ADS_CORPUS_DIR is set. */
static void seed(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void test_corpus(void **state)
{
    (void)state;
    const char *dir = getenv("ADS_CORPUS_DIR");
    if (!dir)
        return;
    seed(dir, "read_req_pkt", READ_PKT, sizeof(READ_PKT));
    seed(dir, "notification", NOTE, sizeof(NOTE));
    seed(dir, "symbol", SYM, sizeof(SYM));
    seed(dir, "dtype", DT, sizeof(DT));
    /* a notification as a whole packet */
    ads_w w;
    ads_ams_hdr h = read_hdr();
    h.cmd = ADS_CMD_NOTIFICATION;
    ads_w_init(&w, buf, sizeof(buf));
    size_t st = ads_packet_begin(&w, &h);
    ads_put_bytes(&w, NOTE, sizeof(NOTE));
    assert_int_equal(ads_packet_end(&w, st), GW_OK);
    h.flags = ADS_SF_RESPONSE_STD;
    seed(dir, "notification_pkt", buf, w.len);
    /* a sum read request packet and its response */
    ads_sum_item it[2] = {{0x4020, 0, 4, 0, NULL}, {0xF005, 0x77, 2, 0, NULL}};
    h = read_hdr();
    h.cmd = ADS_CMD_READ_WRITE;
    ads_w_init(&w, buf, sizeof(buf));
    st = ads_packet_begin(&w, &h);
    ads_sum_req_put(&w, ADS_IG_SUM_READ, it, 2);
    assert_int_equal(ads_packet_end(&w, st), GW_OK);
    seed(dir, "sum_read_req_pkt", buf, w.len);
    h.flags = ADS_SF_RESPONSE_STD;
    ads_sum_result res[2] = {{0, 4, (const uint8_t *)"abcd"}, {0x710, 2, NULL}};
    ads_w_init(&w, buf, sizeof(buf));
    st = ads_packet_begin(&w, &h);
    ads_sum_rsp_put(&w, ADS_IG_SUM_READ, res, 2);
    assert_int_equal(ads_packet_end(&w, st), GW_OK);
    seed(dir, "sum_read_rsp_pkt", buf, w.len);
    seed(dir, "netid", (const uint8_t *)"127.0.0.1.1.1", 13);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_packet),   cmocka_unit_test(test_framer),
        cmocka_unit_test(test_netid),         cmocka_unit_test(test_requests),
        cmocka_unit_test(test_responses),     cmocka_unit_test(test_notification),
        cmocka_unit_test(test_sum_read),      cmocka_unit_test(test_sum_write),
        cmocka_unit_test(test_sum_readwrite), cmocka_unit_test(test_symbol),
        cmocka_unit_test(test_dtype),         cmocka_unit_test(test_upload_info),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
