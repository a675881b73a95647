/*
 * test_plan.c - read plans (s7_plan.c): merging, splitting, packing.
 *
 * Expected numbers are worked out by hand from the rules at the top of
 * s7_plan.c and docs/s7comm.md section 10:
 *   request  = 10 + 2 + 12 n                       <= PDU
 *   reply    = 12 + 2 + sum(4 + len_i (+1 if odd)) <= PDU
 *   item     <= (PDU - 18) rounded down to even    (222 at 240, 942 at 960)
 *   items    <= max_items (default 20) and <= (PDU - 12) / 12 (19 at 240)
 *   ranges of one area/DB whose gap is <= gap bytes become one item
 *
 * Every plan built here is also checked against those limits, and its
 * pieces are checked to map every byte of every range back: replies are
 * built with the codec from a synthetic memory, parsed by
 * s7__parse_read_reply and scattered the way gw_s7_read_plan does.
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

/* ------------------------------------------------------------ helpers */

static gw_s7_range R(gw_s7_area area, uint16_t db, uint32_t start, uint32_t len)
{
    gw_s7_range r;
    memset(&r, 0, sizeof(r));
    r.area = area;
    r.db = db;
    r.start = start;
    r.len = len;
    return r;
}

static gw_s7_plan *plan_ok(const gw_s7_range *r, size_t n, uint16_t pdu, uint16_t max_items,
                           uint16_t gap)
{
    gw_s7_plan_opts po = {.pdu_len = pdu, .max_items = max_items, .gap = gap};
    gw_s7_plan *p = NULL;
    gw_err rc = gw_s7_plan_new(r, n, &po, &p);
    if (rc != GW_OK)
        print_error("gw_s7_plan_new: %s\n", gw_err_name(rc));
    assert_int_equal(rc, GW_OK);
    assert_non_null(p);
    return p;
}

/* The synthetic PLC memory behind every reply. */
static uint8_t model(gw_s7_area a, uint16_t db, uint32_t addr)
{
    return (uint8_t)(addr * 31u + (addr >> 8) * 17u + db * 7u + (unsigned)a * 101u + 1u);
}

/* Limits every plan must keep. */
static void check_limits(const gw_s7_plan *p, const gw_s7_range *r, size_t n, size_t max_items)
{
    size_t pdu = p->pdu_len;
    size_t item_max = (pdu - 18) & ~(size_t)1;
    if (max_items == 0)
        max_items = GW_S7_DEFAULT_MAX_ITEMS;
    assert_int_equal(p->nranges, n);
    size_t next = 0, off = 0;
    for (size_t q = 0; q < p->nreqs; q++) {
        const s7_plan_req *rq = &p->reqs[q];
        assert_int_equal(rq->first, next);
        assert_true(rq->nitems >= 1);
        assert_true(rq->nitems <= max_items);
        assert_true(S7_READ_REQ_SIZE(rq->nitems) <= pdu);
        uint16_t lens[255];
        for (size_t i = 0; i < rq->nitems; i++) {
            const s7_plan_item *it = &p->items[rq->first + i];
            assert_int_equal(it->req, q);
            assert_true(it->len >= 1);
            assert_true(it->len <= item_max);
            assert_true((uint64_t)it->start + it->len <= 0x200000u);
            assert_int_equal(it->buf_off, off);
            off += it->len;
            lens[i] = (uint16_t)it->len;
        }
        assert_true(s7_read_reply_size(lens, rq->nitems) <= pdu);
        assert_true(rq->reply <= pdu);
        next += rq->nitems;
    }
    assert_int_equal(next, p->nitems);
    assert_int_equal(off, p->buf_len);
    /* pieces: every byte of every range exactly once, at the right address */
    for (size_t i = 0; i < n; i++) {
        uint8_t *seen = calloc(r[i].len, 1);
        assert_non_null(seen);
        for (size_t k = 0; k < p->npieces; k++) {
            const s7_plan_piece *pc = &p->pieces[k];
            if (pc->range != i)
                continue;
            const s7_plan_item *it = &p->items[pc->item];
            assert_int_equal(it->area, r[i].area);
            assert_int_equal(it->db, r[i].db);
            assert_true(pc->len >= 1);
            assert_true(pc->item_off + pc->len <= it->len);
            assert_true(pc->range_off + pc->len <= r[i].len);
            assert_int_equal(it->start + pc->item_off, r[i].start + pc->range_off);
            for (uint32_t b = 0; b < pc->len; b++) {
                assert_int_equal(seen[pc->range_off + b], 0);
                seen[pc->range_off + b] = 1;
            }
        }
        for (uint32_t b = 0; b < r[i].len; b++)
            assert_int_equal(seen[b], 1);
        free(seen);
    }
}

/* Builds the reply to every request from model(), parses it with the
 * client's parser and scatters the pieces; every range must read back the
 * model's bytes. */
static void roundtrip(const gw_s7_plan *p, const gw_s7_range *r, size_t n)
{
    uint8_t *scratch = malloc(p->buf_len + 1);
    uint8_t *rc = malloc(p->nitems + 1);
    assert_non_null(scratch);
    assert_non_null(rc);
    memset(scratch, 0xEE, p->buf_len + 1);
    memset(rc, 0x55, p->nitems + 1);
    for (size_t q = 0; q < p->nreqs; q++) {
        const s7_plan_req *rq = &p->reqs[q];
        uint8_t *mem = malloc(p->buf_len + 1);
        s7_data d[255];
        for (size_t i = 0; i < rq->nitems; i++) {
            const s7_plan_item *it = &p->items[rq->first + i];
            for (uint32_t b = 0; b < it->len; b++)
                mem[it->buf_off + b] = model(it->area, it->db, it->start + b);
            d[i] = (s7_data){S7_RC_OK, S7_DTS_BYTE, mem + it->buf_off, (uint16_t)it->len};
        }
        size_t cap = 65536;
        uint8_t *pdu = malloc(cap);
        size_t dl = s7_encode_data(pdu + S7_HDR_ACK + 2, cap - S7_HDR_ACK - 2, d, rq->nitems);
        assert_true(dl > 0);
        size_t hl = s7_header_encode(pdu, S7_ACK_DATA, (uint16_t)(q + 1), 2, (uint16_t)dl, 0, 0);
        pdu[hl] = S7_FN_READ;
        pdu[hl + 1] = (uint8_t)rq->nitems;
        size_t len = hl + 2 + dl;
        assert_true(len <= p->pdu_len); /* the reply fits the PDU */
        uint8_t *exact = malloc(len);
        memcpy(exact, pdu, len);
        s7_header h;
        assert_int_equal(s7_header_decode(exact, len, &h), GW_OK);
        char why[128] = "";
        gw_err e = s7__parse_read_reply(p, q, &h, scratch, rc, why, sizeof(why));
        if (e != GW_OK)
            print_error("request %zu: %s\n", q, why);
        assert_int_equal(e, GW_OK);
        free(exact);
        free(pdu);
        free(mem);
    }
    for (size_t i = 0; i < p->nitems; i++)
        assert_int_equal(rc[i], S7_RC_OK);
    for (size_t i = 0; i < n; i++) {
        uint8_t *dst = malloc(r[i].len);
        memset(dst, 0xEE, r[i].len);
        for (size_t k = 0; k < p->npieces; k++) {
            const s7_plan_piece *pc = &p->pieces[k];
            if (pc->range == i)
                memcpy(dst + pc->range_off, scratch + p->items[pc->item].buf_off + pc->item_off,
                       pc->len);
        }
        for (uint32_t b = 0; b < r[i].len; b++) {
            if (dst[b] != model(r[i].area, r[i].db, r[i].start + b))
                print_error("range %zu byte %u\n", i, b);
            assert_int_equal(dst[b], model(r[i].area, r[i].db, r[i].start + b));
        }
        free(dst);
    }
    free(rc);
    free(scratch);
}

static void check_all(const gw_s7_plan *p, const gw_s7_range *r, size_t n, size_t max_items)
{
    check_limits(p, r, n, max_items);
    roundtrip(p, r, n);
}

/* ------------------------------------------------------------ tests */

/* The ring-stiffness live set: DB2 bytes 0..24 as 8 tags (REALs at 0, 4,
 * 8, 12, 16; INTs at 20, 22; BOOL at 24) and DB3 (4 bits of byte 1, REAL
 * at 6): 13 tags, two items, one request at PDU 240. */
static void test_ring_live_set(void **state)
{
    (void)state;
    gw_s7_range r[13] = {
        R(GW_S7_DB, 2, 0, 4),  R(GW_S7_DB, 2, 4, 4),  R(GW_S7_DB, 2, 8, 4),
        R(GW_S7_DB, 2, 12, 4), R(GW_S7_DB, 2, 16, 4), R(GW_S7_DB, 2, 20, 2),
        R(GW_S7_DB, 2, 22, 2), R(GW_S7_DB, 2, 24, 1), R(GW_S7_DB, 3, 1, 1),
        R(GW_S7_DB, 3, 1, 1),  R(GW_S7_DB, 3, 1, 1),  R(GW_S7_DB, 3, 1, 1),
        R(GW_S7_DB, 3, 6, 4)};
    const uint16_t pdus[2] = {240, 960};
    for (int k = 0; k < 2; k++) {
        gw_s7_plan *p = plan_ok(r, 13, pdus[k], GW_S7_DEFAULT_MAX_ITEMS, GW_S7_DEFAULT_GAP);
        assert_int_equal(gw_s7_plan_requests(p), 1);
        assert_int_equal(gw_s7_plan_items(p, 0), 2);
        assert_int_equal(gw_s7_plan_items(p, 1), 0);
        assert_int_equal(p->items[0].area, GW_S7_DB);
        assert_int_equal(p->items[0].db, 2);
        assert_int_equal(p->items[0].start, 0);
        assert_int_equal(p->items[0].len, 25);
        assert_int_equal(p->items[1].db, 3);
        assert_int_equal(p->items[1].start, 1);
        assert_int_equal(p->items[1].len, 9); /* bytes 1..9: gap 2..5 is 4 < 16 */
        /* 14 + (4 + 25 + 1) + (4 + 9 + 1) */
        assert_int_equal(p->reqs[0].reply, 58);
        assert_int_equal(p->buf_len, 34);
        assert_int_equal(p->npieces, 13);
        check_all(p, r, 13, GW_S7_DEFAULT_MAX_ITEMS);
        gw_buf b;
        gw_buf_init(&b);
        gw_s7_plan_describe(p, &b);
        const char *txt = gw_buf_cstr(&b);
        assert_non_null(strstr(txt, "1 request for 13 ranges"));
        assert_non_null(strstr(txt, "DB2.DBB0, 25 bytes"));
        assert_non_null(strstr(txt, "DB3.DBB1, 9 bytes"));
        gw_buf_clear(&b);
        gw_s7_plan_free(p);
    }
}

/* Gaps of up to 16 bytes merge, 17 and more do not. */
static void test_gap_merge(void **state)
{
    (void)state;
    /* [0,4) and [20,24): gap 16 -> one item of 24 bytes */
    gw_s7_range a[2] = {R(GW_S7_DB, 1, 0, 4), R(GW_S7_DB, 1, 20, 4)};
    gw_s7_plan *p = plan_ok(a, 2, 240, 20, 16);
    assert_int_equal(p->nitems, 1);
    assert_int_equal(p->items[0].start, 0);
    assert_int_equal(p->items[0].len, 24);
    check_all(p, a, 2, 20);
    gw_s7_plan_free(p);
    /* [0,4) and [21,25): gap 17 -> two items */
    a[1].start = 21;
    p = plan_ok(a, 2, 240, 20, 16);
    assert_int_equal(p->nitems, 2);
    assert_int_equal(p->nreqs, 1);
    assert_int_equal(p->items[0].len, 4);
    assert_int_equal(p->items[1].start, 21);
    assert_int_equal(p->items[1].len, 4);
    check_all(p, a, 2, 20);
    gw_s7_plan_free(p);
    /* a chain: each gap 16, spans 0..(4 + 20 * 9) */
    gw_s7_range c[10];
    for (int i = 0; i < 10; i++)
        c[9 - i] = R(GW_S7_M, 0, 20u * (uint32_t)i, 4); /* given in reverse order */
    p = plan_ok(c, 10, 240, 20, 16);
    assert_int_equal(p->nitems, 1);
    assert_int_equal(p->items[0].area, GW_S7_M);
    assert_int_equal(p->items[0].len, 184);
    check_all(p, c, 10, 20);
    gw_s7_plan_free(p);
    /* overlapping, nested and touching ranges */
    gw_s7_range o[4] = {R(GW_S7_DB, 5, 10, 10), R(GW_S7_DB, 5, 12, 3), R(GW_S7_DB, 5, 15, 10),
                        R(GW_S7_DB, 5, 25, 1)};
    p = plan_ok(o, 4, 240, 20, 0);
    assert_int_equal(p->nitems, 1);
    assert_int_equal(p->items[0].start, 10);
    assert_int_equal(p->items[0].len, 16);
    check_all(p, o, 4, 20);
    gw_s7_plan_free(p);
    /* gap 0: touching merges, one byte apart does not */
    gw_s7_range t[2] = {R(GW_S7_DB, 5, 0, 4), R(GW_S7_DB, 5, 5, 4)};
    p = plan_ok(t, 2, 240, 20, 0);
    assert_int_equal(p->nitems, 2);
    gw_s7_plan_free(p);
    t[1].start = 4;
    p = plan_ok(t, 2, 240, 20, 0);
    assert_int_equal(p->nitems, 1);
    gw_s7_plan_free(p);
    /* never across DBs or areas, however close */
    gw_s7_range x[5] = {R(GW_S7_DB, 1, 0, 4), R(GW_S7_DB, 2, 4, 4), R(GW_S7_M, 0, 8, 4),
                        R(GW_S7_I, 0, 12, 4), R(GW_S7_Q, 0, 16, 4)};
    p = plan_ok(x, 5, 240, 20, 16);
    assert_int_equal(p->nitems, 5);
    assert_int_equal(p->nreqs, 1);
    check_all(p, x, 5, 20);
    gw_s7_plan_free(p);
}

/* n ranges of 2 bytes, 24 bytes apart (gap 22 > 16): n separate items. */
static gw_s7_range *separate(size_t n)
{
    gw_s7_range *r = calloc(n, sizeof(*r));
    for (size_t i = 0; i < n; i++)
        r[i] = R(GW_S7_DB, 4, 24u * (uint32_t)i, 2);
    return r;
}

/* PDU 240: 10 + 2 + 12 * 19 = 240, so 19 items fit one request and the
 * 20th needs another (although max_items is 20). */
static void test_items_per_request_240(void **state)
{
    (void)state;
    gw_s7_range *r = separate(21);
    gw_s7_plan *p = plan_ok(r, 19, 240, 20, 16);
    assert_int_equal(p->nitems, 19);
    assert_int_equal(gw_s7_plan_requests(p), 1);
    assert_int_equal(gw_s7_plan_items(p, 0), 19);
    assert_int_equal(p->reqs[0].reply, 14 + 19 * 6);
    check_all(p, r, 19, 20);
    gw_s7_plan_free(p);

    p = plan_ok(r, 20, 240, 20, 16);
    assert_int_equal(gw_s7_plan_requests(p), 2);
    assert_int_equal(gw_s7_plan_items(p, 0), 19);
    assert_int_equal(gw_s7_plan_items(p, 1), 1);
    check_all(p, r, 20, 20);
    gw_s7_plan_free(p);

    p = plan_ok(r, 21, 240, 20, 16);
    assert_int_equal(gw_s7_plan_requests(p), 2);
    assert_int_equal(gw_s7_plan_items(p, 0), 19);
    assert_int_equal(gw_s7_plan_items(p, 1), 2);
    check_all(p, r, 21, 20);
    gw_s7_plan_free(p);

    /* max_items 5 */
    p = plan_ok(r, 21, 240, 5, 16);
    assert_int_equal(gw_s7_plan_requests(p), 5);
    check_all(p, r, 21, 5);
    gw_s7_plan_free(p);
    free(r);
}

/* PDU 960 allows (960 - 12) / 12 = 79 items per request by size; the
 * default max_items 20 limits it: 100 items -> 5 requests of 20. */
static void test_max_items_960(void **state)
{
    (void)state;
    gw_s7_range *r = separate(100);
    gw_s7_plan *p = plan_ok(r, 100, 960, 20, 16);
    assert_int_equal(gw_s7_plan_requests(p), 5);
    for (size_t q = 0; q < 5; q++)
        assert_int_equal(gw_s7_plan_items(p, q), 20);
    check_all(p, r, 100, 20);
    gw_s7_plan_free(p);
    /* max_items 0 means the default 20 */
    p = plan_ok(r, 100, 960, 0, 16);
    assert_int_equal(gw_s7_plan_requests(p), 5);
    check_all(p, r, 100, 0);
    gw_s7_plan_free(p);
    /* max_items 255 at 960: 79 by request size -> 79 + 21 */
    p = plan_ok(r, 100, 960, 255, 16);
    assert_int_equal(gw_s7_plan_requests(p), 2);
    assert_int_equal(gw_s7_plan_items(p, 0), 79);
    assert_int_equal(gw_s7_plan_items(p, 1), 21);
    check_all(p, r, 100, 255);
    gw_s7_plan_free(p);
    /* at 240: 19 per request -> 19 * 5 + 5 */
    p = plan_ok(r, 100, 240, 20, 16);
    assert_int_equal(gw_s7_plan_requests(p), 6);
    assert_int_equal(gw_s7_plan_items(p, 5), 5);
    check_all(p, r, 100, 20);
    gw_s7_plan_free(p);
    free(r);
}

/* One 4096-byte range at PDU 240: items of 240 - 18 = 222 bytes; 18 of
 * them make 3996, the 19th has 100. A 222-byte item fills a reply
 * (14 + 4 + 222 = 240) so each goes alone. */
static void test_split_4096_at_240(void **state)
{
    (void)state;
    gw_s7_range r = R(GW_S7_DB, 4, 100, 4096);
    gw_s7_plan *p = plan_ok(&r, 1, 240, 20, 16);
    assert_int_equal(p->nitems, 19);
    assert_int_equal(gw_s7_plan_requests(p), 19);
    uint32_t sum = 0;
    size_t full = 0;
    for (size_t q = 0; q < 19; q++) {
        assert_int_equal(gw_s7_plan_items(p, q), 1);
        const s7_plan_item *it = &p->items[p->reqs[q].first];
        sum += it->len;
        if (it->len == 222)
            full++;
        else
            assert_int_equal(it->len, 100);
    }
    assert_int_equal(full, 18);
    assert_int_equal(sum, 4096);
    /* the items tile 100 .. 4196 */
    uint8_t *cov = calloc(4096, 1);
    for (size_t i = 0; i < p->nitems; i++) {
        assert_int_equal((p->items[i].start - 100) % 222, 0);
        for (uint32_t b = 0; b < p->items[i].len; b++)
            cov[p->items[i].start - 100 + b]++;
    }
    for (size_t b = 0; b < 4096; b++)
        assert_int_equal(cov[b], 1);
    free(cov);
    assert_int_equal(p->npieces, 19);
    check_all(p, &r, 1, 20);
    gw_s7_plan_free(p);

    /* at 960: 942-byte items, 4 * 942 = 3768, the last 328; a 942 item
     * fills its reply (14 + 4 + 942 = 960), so 5 requests */
    p = plan_ok(&r, 1, 960, 20, 16);
    assert_int_equal(p->nitems, 5);
    assert_int_equal(gw_s7_plan_requests(p), 5);
    check_all(p, &r, 1, 20);
    gw_s7_plan_free(p);

    /* odd PDU: item size rounds down to even, (241 - 18) & ~1 = 222 */
    p = plan_ok(&r, 1, 241, 20, 16);
    for (size_t i = 0; i < p->nitems; i++)
        assert_true(p->items[i].len <= 222);
    check_all(p, &r, 1, 20);
    gw_s7_plan_free(p);
}

/* First fit by decreasing size, within the reply limit (hand-packed). */
static void test_first_fit_packing(void **state)
{
    (void)state;
    /* 200, 100, 30, 30 at 240: 200 -> req A (14 + 204 = 218); 100 does not
     * fit A (218 + 104) -> req B (118); 30 does not fit A (218 + 34 = 252)
     * -> B (152); 30 -> B (186) */
    gw_s7_range r[4] = {R(GW_S7_DB, 1, 1000, 30), R(GW_S7_DB, 1, 0, 200),
                        R(GW_S7_DB, 1, 500, 100), R(GW_S7_DB, 1, 2000, 30)};
    gw_s7_plan *p = plan_ok(r, 4, 240, 20, 16);
    assert_int_equal(gw_s7_plan_requests(p), 2);
    assert_int_equal(gw_s7_plan_items(p, 0), 1);
    assert_int_equal(gw_s7_plan_items(p, 1), 3);
    assert_int_equal(p->items[0].len, 200);
    assert_int_equal(p->reqs[0].reply, 218);
    assert_int_equal(p->reqs[1].reply, 186);
    /* items of request B in address order */
    assert_int_equal(p->items[1].start, 500);
    assert_int_equal(p->items[2].start, 1000);
    assert_int_equal(p->items[3].start, 2000);
    check_all(p, r, 4, 20);
    gw_s7_plan_free(p);

    /* two 108-byte items: 14 + 112 + 112 = 238 -> one request;
     * two 110-byte items: 14 + 114 + 114 = 242 -> two */
    gw_s7_range t[2] = {R(GW_S7_M, 0, 0, 108), R(GW_S7_M, 0, 500, 108)};
    p = plan_ok(t, 2, 240, 20, 16);
    assert_int_equal(gw_s7_plan_requests(p), 1);
    check_all(p, t, 2, 20);
    gw_s7_plan_free(p);
    t[0].len = t[1].len = 110;
    p = plan_ok(t, 2, 240, 20, 16);
    assert_int_equal(gw_s7_plan_requests(p), 2);
    check_all(p, t, 2, 20);
    gw_s7_plan_free(p);
    /* 109 + 109: 14 + 114 + 113 = 241 > 240 -> two */
    t[0].len = t[1].len = 109;
    p = plan_ok(t, 2, 240, 20, 16);
    assert_int_equal(gw_s7_plan_requests(p), 2);
    check_all(p, t, 2, 20);
    gw_s7_plan_free(p);
}

/* A range spanning item boundaries and sharing items with other ranges. */
static void test_pieces_cross_items(void **state)
{
    (void)state;
    gw_s7_range r[5] = {R(GW_S7_DB, 7, 0, 1000), R(GW_S7_DB, 7, 210, 30),
                        R(GW_S7_DB, 7, 443, 2),  R(GW_S7_DB, 7, 990, 20),
                        R(GW_S7_DB, 7, 1020, 5)};
    gw_s7_plan *p = plan_ok(r, 5, 240, 20, 16);
    /* one span 0..1025 -> 5 items of 222 (1110 > 1025: 4 * 222 = 888, then 137) */
    assert_int_equal(p->nitems, 5);
    size_t np0 = 0;
    for (size_t k = 0; k < p->npieces; k++)
        np0 += p->pieces[k].range == 0;
    assert_int_equal(np0, 5);   /* range 0 touches all five items */
    check_all(p, r, 5, 20);
    gw_s7_plan_free(p);
}

/* Random sets of ranges: limits hold and every byte comes back. */
static void test_random_plans(void **state)
{
    (void)state;
    uint32_t seed = 12345;
#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 8) & 0xFFFFFF)
    const uint16_t pdus[] = {240, 480, 960, 300};
    const uint16_t gaps[] = {0, 16, 64};
    const uint16_t maxi[] = {0, 3, 20, 255};
    for (int iter = 0; iter < 300; iter++) {
        size_t n = 1 + RND() % 80;
        gw_s7_range *r = calloc(n, sizeof(*r));
        for (size_t i = 0; i < n; i++) {
            gw_s7_area a = (gw_s7_area)(RND() % 4);
            uint16_t db = a == GW_S7_DB ? (uint16_t)(1 + RND() % 3) : 0;
            uint32_t len = RND() % 8 == 0 ? 1 + RND() % 1500 : 1 + RND() % 12;
            r[i] = R(a, db, RND() % 4000, len);
        }
        uint16_t pdu = pdus[RND() % 4], gap = gaps[RND() % 3], mi = maxi[RND() % 4];
        gw_s7_plan *p = plan_ok(r, n, pdu, mi, gap);
        check_all(p, r, n, mi);
        gw_s7_plan_free(p);
        free(r);
    }
#undef RND
}

static void test_rejects(void **state)
{
    (void)state;
    gw_s7_plan_opts po = {.pdu_len = 240, .max_items = 20, .gap = 16};
    gw_s7_plan *p = (gw_s7_plan *)&po; /* must be set to NULL on failure */
    gw_s7_range r[2] = {R(GW_S7_DB, 1, 0, 4), R(GW_S7_DB, 1, 10, 0)};
    assert_int_equal(gw_s7_plan_new(r, 2, &po, &p), GW_E_RANGE);
    assert_null(p);
    /* the 24-bit address holds byte offsets below 0x200000 */
    r[1] = R(GW_S7_DB, 1, 0x200000, 1);
    assert_int_equal(gw_s7_plan_new(r, 2, &po, &p), GW_E_RANGE);
    r[1] = R(GW_S7_DB, 1, 0x1FFFFF, 2);
    assert_int_equal(gw_s7_plan_new(r, 2, &po, &p), GW_E_RANGE);
    r[1] = R(GW_S7_M, 0, 0xFFFFFFFFu, 2); /* start + len wraps 32 bits */
    assert_int_equal(gw_s7_plan_new(r, 2, &po, &p), GW_E_RANGE);
    r[1] = R(GW_S7_M, 0, 0, 0x200001);
    assert_int_equal(gw_s7_plan_new(r, 2, &po, &p), GW_E_RANGE);
    assert_null(p);
    /* the last byte of the address space is fine */
    r[1] = R(GW_S7_DB, 1, 0x1FFFFF, 1);
    assert_int_equal(gw_s7_plan_new(r, 2, &po, &p), GW_OK);
    check_all(p, r, 2, 20);
    assert_int_equal(p->items[1].start, 0x1FFFFF);
    gw_s7_plan_free(p);
    /* a PDU too small for one request */
    po.pdu_len = 23;
    assert_int_equal(gw_s7_plan_new(r, 1, &po, &p), GW_E_INVAL);
    assert_null(p);
    po.pdu_len = 0;
    assert_int_equal(gw_s7_plan_new(r, 1, &po, &p), GW_E_INVAL);
    /* no ranges: an empty plan */
    po.pdu_len = 240;
    assert_int_equal(gw_s7_plan_new(r, 0, &po, &p), GW_OK);
    assert_int_equal(gw_s7_plan_requests(p), 0);
    assert_int_equal(p->npieces, 0);
    gw_s7_plan_free(p);
    gw_s7_plan_free(NULL);
}

/* A reply with an error item: only that item's code, the others' bytes. */
static void test_parse_error_items(void **state)
{
    (void)state;
    gw_s7_range r[3] = {R(GW_S7_DB, 1, 0, 3), R(GW_S7_DB, 99, 0, 4), R(GW_S7_M, 0, 0, 1)};
    gw_s7_plan *p = plan_ok(r, 3, 240, 20, 16);
    assert_int_equal(p->nreqs, 1);
    assert_int_equal(p->nitems, 3);
    /* items in address order: DB1, DB99, M (area enum order DB < M) */
    assert_int_equal(p->items[1].db, 99);
    const uint8_t a[3] = {1, 2, 3}, m[1] = {9};
    s7_data d[3] = {{0xFF, S7_DTS_BYTE, a, 3}, {0x0A, 0, NULL, 0}, {0xFF, S7_DTS_BYTE, m, 1}};
    uint8_t pdu[64];
    size_t dl = s7_encode_data(pdu + 14, 50, d, 3);
    assert_int_equal(dl, 8 + 4 + 5);
    size_t hl = s7_header_encode(pdu, S7_ACK_DATA, 1, 2, (uint16_t)dl, 0, 0);
    pdu[hl] = S7_FN_READ;
    pdu[hl + 1] = 3;
    s7_header h;
    assert_int_equal(s7_header_decode(pdu, hl + 2 + dl, &h), GW_OK);
    uint8_t scratch[16] = {0}, rc[3] = {0};
    char why[64];
    assert_int_equal(s7__parse_read_reply(p, 0, &h, scratch, rc, why, sizeof(why)), GW_OK);
    assert_int_equal(rc[0], 0xFF);
    assert_int_equal(rc[1], 0x0A);
    assert_int_equal(rc[2], 0xFF);
    assert_memory_equal(scratch + p->items[0].buf_off, a, 3);
    assert_int_equal(scratch[p->items[2].buf_off], 9);
    gw_s7_plan_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_live_set),
        cmocka_unit_test(test_gap_merge),
        cmocka_unit_test(test_items_per_request_240),
        cmocka_unit_test(test_max_items_960),
        cmocka_unit_test(test_split_4096_at_240),
        cmocka_unit_test(test_first_fit_packing),
        cmocka_unit_test(test_pieces_cross_items),
        cmocka_unit_test(test_random_plans),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_parse_error_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
