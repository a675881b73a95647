/*
 * test_plan.c - Modbus read plans (mb_plan.c) and decoding a readout.
 *
 * Every expected request list below was worked out by hand from the rules
 * in mb_plan.c's header comment and mb.h, not copied from the program:
 *
 *   - one function code per class: FC 1 coils, 2 discrete inputs, 3 holding
 *     registers, 4 input registers; requests come in that class order;
 *   - tags of a class sorted by address, swept left to right; a tag joins
 *     the open request when  start <= end_of_request + gap  (end is one
 *     past the last register/bit) and the request stays within max
 *     (125 registers / 2000 bits); gap defaults to 10 registers / 160 bits;
 *   - a tag is never split across requests.
 *
 * So a gap of g free registers between two tags is merged when g <= gap:
 * with the default, 10 free registers merge, 11 do not.
 *
 * The readout tests fill the registers and bits of a readout by hand
 * (through mb_internal.h) and decode every tag of the seed's example map
 * with the byte/word order rules of docs/mapping.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "drivers/modbus/mb_internal.h"
#include "tags/tags.h"

/* ------------------------------------------------------------ helpers */

typedef struct {
    uint8_t fc;
    uint16_t start, count;
} want_req;

static gw_tagmap *load_text(const char *text)
{
    gw_diag d;
    gw_diag_init(&d, "map.json");
    gw_tagmap *m = NULL;
    gw_err rc = gw_tagmap_load_buf("map.json", text, strlen(text), &m, &d);
    if (rc != GW_OK) {
        print_error("map did not load (%s):\n%.2000s\n", gw_err_name(rc), text);
        gw_diag_print(&d, stderr);
    }
    assert_int_equal(rc, GW_OK);
    assert_non_null(m);
    return m;
}

static gw_tagmap *load_file(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", GW_SOURCE_DIR, rel);
    gw_diag d;
    gw_diag_init(&d, path);
    gw_tagmap *m = NULL;
    gw_err rc = gw_tagmap_load_file(path, &m, &d);
    if (rc != GW_OK)
        gw_diag_print(&d, stderr);
    assert_int_equal(rc, GW_OK);
    return m;
}

static gw_mb_plan *plan_of(const gw_tagmap *m, const gw_mb_plan_opts *o)
{
    gw_mb_plan *p = NULL;
    gw_err rc = gw_mb_plan_new(m, o, &p);
    if (rc != GW_OK)
        print_error("gw_mb_plan_new: %s\n", gw_err_name(rc));
    assert_int_equal(rc, GW_OK);
    assert_non_null(p);
    return p;
}

static void print_plan(const gw_mb_plan *p)
{
    gw_buf b;
    gw_buf_init(&b);
    gw_mb_plan_describe(p, &b);
    print_error("plan:\n%.4000s", gw_buf_cstr(&b));
    gw_buf_clear(&b);
}

/* The plan's requests are exactly `want`, in order. */
static void expect_reqs(const gw_mb_plan *p, const want_req *want, size_t n)
{
    bool same = gw_mb_plan_requests(p) == n;
    for (size_t i = 0; same && i < n; i++) {
        const gw_mb_request *q = gw_mb_plan_request(p, i);
        same = q && q->fc == want[i].fc && q->start == want[i].start &&
               q->count == want[i].count;
    }
    if (!same) {
        print_error("expected %zu requests:\n", n);
        for (size_t i = 0; i < n; i++)
            print_error("  FC %u %u (%u)\n", want[i].fc, want[i].start, want[i].count);
        print_plan(p);
    }
    assert_true(same);
    assert_null(gw_mb_plan_request(p, n));
}

/* Limits every plan must keep, whatever its map. Requests of one class
 * never overlap, except in a per-tag plan (two halves of one register). */
static void check_plan(const gw_mb_plan *p, const gw_tagmap *m, uint16_t max_regs,
                       uint16_t max_bits, bool overlap)
{
    size_t regs = 0, bits = 0;
    for (size_t r = 0; r < p->nreqs; r++) {
        const gw_mb_request *q = &p->reqs[r];
        assert_true(q->fc >= 1 && q->fc <= 4);
        assert_true(q->count >= 1);
        bool isbits = q->fc <= 2;
        assert_true(q->count <= (isbits ? max_bits : max_regs));
        assert_true((uint32_t)q->start + q->count <= 65536u);
        assert_int_equal(p->req_off[r], isbits ? bits : regs);
        if (isbits)
            bits += q->count;
        else
            regs += q->count;
        if (r > 0) { /* class order 1, 2, 3, 4 and ascending within a class */
            const gw_mb_request *prev = &p->reqs[r - 1];
            assert_true(prev->fc <= q->fc);
            if (prev->fc == q->fc && overlap)
                assert_true(prev->start <= q->start);
            else if (prev->fc == q->fc)
                assert_true(prev->start + prev->count <= q->start);
        }
    }
    assert_int_equal(p->total_regs, regs);
    assert_int_equal(p->total_bits, bits);
    assert_int_equal(p->ntags, gw_tagmap_count(m));
    static const uint8_t fc_of[5] = {1, 2, 0, 4, 3};
    for (size_t i = 0; i < gw_tagmap_count(m); i++) {
        const gw_tag *t = gw_tagmap_at(m, i);
        const mb_tag_loc *l = &p->locs[i];
        assert_true(l->req < p->nreqs);
        const gw_mb_request *q = &p->reqs[l->req];
        uint32_t len = t->type == GW_T_BOOL ? 1u : t->nregs;
        /* the whole tag inside its one request */
        assert_int_equal(q->fc, fc_of[t->addr.mb_class]);
        assert_int_equal(q->start + l->off, t->addr.reg);
        assert_true(l->off + len <= q->count);
    }
}

static void check_invariants(const gw_mb_plan *p, const gw_tagmap *m, uint16_t max_regs,
                             uint16_t max_bits)
{
    check_plan(p, m, max_regs, max_bits, false);
}

static size_t tag_index(const gw_tagmap *m, const char *param)
{
    for (size_t i = 0; i < gw_tagmap_count(m); i++)
        if (strcmp(gw_tagmap_at(m, i)->parameter, param) == 0)
            return i;
    print_error("no tag \"%s\"\n", param);
    fail();
    return 0;
}

static void expect_loc(const gw_mb_plan *p, const gw_tagmap *m, const char *param, size_t req,
                       uint32_t off)
{
    size_t i = tag_index(m, param);
    if (p->locs[i].req != req || p->locs[i].off != off) {
        print_error("%s: request %zu offset %u, expected %zu offset %u\n", param,
                    p->locs[i].req, p->locs[i].off, req, off);
        fail();
    }
}

/* ---------------------------------------------------------------- plans */

/*
 * The seed's example map:
 *   discrete inputs 0, 1                  -> FC 2 0..1 (2)
 *   holding 9                              -> FC 3 9 (1)
 *   input 1, 2, 3..4 (float), 11..12 (float):
 *     1..2..5 contiguous; 11 - 5 = 6 free registers (5..10) <= 10 -> joins
 *                                        -> FC 4 1..12 (12)
 *   input 31: 31 - 13 = 18 free registers > 10 -> new request
 *   input 33: 33 - 32 = 1 free register -> joins; 34/1 and 34/2 share 34
 *                                        -> FC 4 31..34 (4)
 */
static void test_example_map(void **state)
{
    (void)state;
    gw_tagmap *m = load_file("config/modbus/example.json");
    gw_mb_plan *p = plan_of(m, NULL);
    const want_req want[] = {{2, 0, 2}, {3, 9, 1}, {4, 1, 12}, {4, 31, 4}};
    expect_reqs(p, want, 4);
    check_invariants(p, m, 125, 2000);
    expect_loc(p, m, "UnitOn", 0, 0);
    expect_loc(p, m, "Unit_Alarm", 0, 1);
    expect_loc(p, m, "Water_Setpoint.SP_r", 1, 0);
    expect_loc(p, m, "Operating State", 2, 0);
    expect_loc(p, m, "Compressor Running", 2, 1);
    expect_loc(p, m, "Warning State", 2, 2);
    expect_loc(p, m, "Oil Temp", 2, 10);
    expect_loc(p, m, "Panel Serial Number", 3, 0);
    expect_loc(p, m, "Software Rev", 3, 2);
    expect_loc(p, m, "TEST1", 3, 3);
    expect_loc(p, m, "TEST2", 3, 3);
    /* readout layout: registers of FC 3 first, then the two FC 4 requests */
    assert_int_equal(p->req_off[0], 0);
    assert_int_equal(p->req_off[1], 0);
    assert_int_equal(p->req_off[2], 1);
    assert_int_equal(p->req_off[3], 13);
    assert_int_equal(p->total_regs, 17);
    assert_int_equal(p->total_bits, 2);

    gw_buf b;
    gw_buf_init(&b);
    gw_mb_plan_describe(p, &b);
    const char *text = gw_buf_cstr(&b);
    assert_non_null(strstr(text, "4 requests for 11 tags\n"));
    assert_non_null(strstr(text, "  FC 2 discrete inputs 0..1 (2): \"UnitOn\" \"Unit_Alarm\"\n"));
    assert_non_null(strstr(text, "  FC 3 holding registers 9..9 (1): \"Water_Setpoint.SP_r\"\n"));
    assert_non_null(strstr(text, "  FC 4 input registers 1..12 (12): \"Operating State\" "
                                 "\"Compressor Running\" \"Warning State\" \"Oil Temp\"\n"));
    assert_non_null(strstr(text, "  FC 4 input registers 31..34 (4): \"Panel Serial Number\" "
                                 "\"Software Rev\" \"TEST1\" \"TEST2\"\n"));
    gw_buf_clear(&b);
    gw_mb_plan_free(p);
    gw_tagmap_free(m);
}

/*
 * Gap 0 merges only touching tags:
 *   FC 2 0..1 (0 and 1 touch), FC 3 9,
 *   FC 4 1..4 (1, 2, 3..4 touch), 11..12, 31, 33..34 (33 and 34 touch).
 * Gap 5: 11 - 5 = 6 free > 5 -> 11..12 alone; 33 - 32 = 1 free -> 31..34.
 * Gap 18 (just enough for 13..30): everything of FC 4 in one, 1..34 (34).
 * Gap 17: 31 - 13 = 18 free > 17 -> 1..12 and 31..34 as with the default.
 */
static void test_example_gap_options(void **state)
{
    (void)state;
    gw_tagmap *m = load_file("config/modbus/example.json");

    /* max 0 means the default */
    gw_mb_plan_opts zero = {.reg_gap = 0, .bit_gap = 0, .max_regs = 0, .max_bits = 0};
    gw_mb_plan *p = plan_of(m, &zero);
    const want_req w0[] = {{2, 0, 2}, {3, 9, 1}, {4, 1, 4}, {4, 11, 2}, {4, 31, 1}, {4, 33, 2}};
    expect_reqs(p, w0, 6);
    check_invariants(p, m, 125, 2000);
    expect_loc(p, m, "Oil Temp", 3, 0);
    expect_loc(p, m, "Software Rev", 5, 0);
    expect_loc(p, m, "TEST1", 5, 1);
    expect_loc(p, m, "TEST2", 5, 1);
    gw_mb_plan_free(p);

    gw_mb_plan_opts five = {.reg_gap = 5, .bit_gap = 0, .max_regs = 125, .max_bits = 2000};
    p = plan_of(m, &five);
    const want_req w5[] = {{2, 0, 2}, {3, 9, 1}, {4, 1, 4}, {4, 11, 2}, {4, 31, 4}};
    expect_reqs(p, w5, 5);
    check_invariants(p, m, 125, 2000);
    gw_mb_plan_free(p);

    gw_mb_plan_opts g18 = {.reg_gap = 18, .bit_gap = 160, .max_regs = 125, .max_bits = 2000};
    p = plan_of(m, &g18);
    const want_req w18[] = {{2, 0, 2}, {3, 9, 1}, {4, 1, 34}};
    expect_reqs(p, w18, 3);
    check_invariants(p, m, 125, 2000);
    expect_loc(p, m, "TEST2", 2, 33);
    gw_mb_plan_free(p);

    gw_mb_plan_opts g17 = {.reg_gap = 17, .bit_gap = 160, .max_regs = 125, .max_bits = 2000};
    p = plan_of(m, &g17);
    const want_req w17[] = {{2, 0, 2}, {3, 9, 1}, {4, 1, 12}, {4, 31, 4}};
    expect_reqs(p, w17, 4);
    gw_mb_plan_free(p);

    /* one request per tag, as the seed's client read: 2 + 1 + 8, the two
     * halves of 30034 each in their own request */
    gw_mb_plan_opts per = {.reg_gap = 10, .bit_gap = 160, .per_tag = true};
    p = plan_of(m, &per);
    const want_req wp[] = {{2, 0, 1}, {2, 1, 1},  {3, 9, 1},  {4, 1, 1},  {4, 2, 1}, {4, 3, 2},
                           {4, 11, 2}, {4, 31, 1}, {4, 33, 1}, {4, 34, 1}, {4, 34, 1}};
    expect_reqs(p, wp, 11);
    check_plan(p, m, 125, 2000, true);
    expect_loc(p, m, "TEST1", 9, 0);
    expect_loc(p, m, "TEST2", 10, 0);
    gw_mb_plan_free(p);
    gw_tagmap_free(m);
}

/*
 * The gap rule at its edge with the defaults: a 32-bit tag at 3..4 ends at
 * 5; a tag at 15 leaves 10 free registers (5..14) and joins, one at 16
 * leaves 11 and does not. Bits: 0 ends at 1; 161 leaves 160 free bits and
 * joins, 162 does not.
 */
static void test_gap_edges(void **state)
{
    (void)state;
    gw_tagmap *m = load_text("{\"mapping\": {"
                             "\"30003\": {\"parameter\": \"f\", \"function\": \"decode_32bit_float\"},"
                             "\"30015\": {\"parameter\": \"a\", \"function\": \"decode_16bit_uint\"},"
                             "\"10000\": {\"parameter\": \"b0\"},"
                             "\"10161\": {\"parameter\": \"b1\"}}}");
    gw_mb_plan *p = plan_of(m, NULL);
    const want_req w[] = {{2, 0, 162}, {4, 3, 13}};
    expect_reqs(p, w, 2);
    check_invariants(p, m, 125, 2000);
    gw_mb_plan_free(p);
    gw_tagmap_free(m);

    m = load_text("{\"mapping\": {"
                  "\"30003\": {\"parameter\": \"f\", \"function\": \"decode_32bit_float\"},"
                  "\"30016\": {\"parameter\": \"a\", \"function\": \"decode_16bit_uint\"},"
                  "\"10000\": {\"parameter\": \"b0\"},"
                  "\"10162\": {\"parameter\": \"b1\"}}}");
    p = plan_of(m, NULL);
    const want_req w2[] = {{2, 0, 1}, {2, 162, 1}, {4, 3, 2}, {4, 16, 1}};
    expect_reqs(p, w2, 4);
    check_invariants(p, m, 125, 2000);
    gw_mb_plan_free(p);
    gw_tagmap_free(m);
}

/*
 * The watermaker map, all holding registers (FC 3), default gap 10:
 *   67, 71 (3 free)                                  -> 67..71 (5)
 *   128..139 (128 - 72 = 56 free before)              -> 128..139 (12)
 *   257..260, 264 (3 free), 265                       -> 257..265 (9)
 *   513, 514, 516..519                                -> 513..519 (7)
 *   1000, 1003, 1007, 1008, 1017 (8 free after 1009)  -> 1000..1017 (18)
 *   1036 (1036 - 1018 = 18 free > 10)                 -> 1036 (1)
 *   1120..1125                                        -> 1120..1125 (6)
 *   5014/5015, then 5024 (8 free), 5026..5035         -> 5014..5035 (22)
 */
static void test_watermaker_map(void **state)
{
    (void)state;
    gw_tagmap *m = load_file("config/modbus/watermaker.json");
    gw_mb_plan *p = plan_of(m, NULL);
    const want_req w[] = {{3, 67, 5},    {3, 128, 12},  {3, 257, 9}, {3, 513, 7},
                          {3, 1000, 18}, {3, 1036, 1}, {3, 1120, 6}, {3, 5014, 22}};
    expect_reqs(p, w, 8);
    check_invariants(p, m, 125, 2000);
    expect_loc(p, m, "Control Command", 0, 4);
    expect_loc(p, m, "DTS Flush Timer", 1, 11);
    expect_loc(p, m, "Shore Feed Solenoid", 2, 8);
    expect_loc(p, m, "Water Temperature", 4, 17);
    expect_loc(p, m, "System Status", 5, 0);
    expect_loc(p, m, "DTS Since Last Gallons", 7, 20);
    assert_int_equal(p->total_regs, 5 + 12 + 9 + 7 + 18 + 1 + 6 + 22);
    assert_int_equal(p->total_bits, 0);
    gw_mb_plan_free(p);
    gw_tagmap_free(m);
}

/* A map of `n` consecutive 16-bit holding registers from 40000 + first,
 * optionally followed by one tag of `last_fn` right after them. */
static char *consecutive_map(unsigned first, unsigned n, const char *last_fn)
{
    gw_buf b;
    gw_buf_init(&b);
    gw_buf_puts(&b, "{\"mapping\": {");
    for (unsigned i = 0; i < n; i++)
        gw_buf_printf(&b, "%s\"4%04u\": {\"parameter\": \"r%u\", \"function\": "
                      "\"decode_16bit_uint\"}", i ? "," : "", first + i, first + i);
    if (last_fn)
        gw_buf_printf(&b, ",\"4%04u\": {\"parameter\": \"last\", \"function\": \"%s\"}",
                      first + n, last_fn);
    gw_buf_puts(&b, "}}");
    assert_false(b.failed);
    return gw_buf_take(&b);
}

/* 130 consecutive registers: 125 + 5. With max 50: 50 + 50 + 30. A max
 * above 125 is clamped to 125. */
static void test_register_cap(void **state)
{
    (void)state;
    char *text = consecutive_map(0, 130, NULL);
    gw_tagmap *m = load_text(text);
    gw_mb_plan *p = plan_of(m, NULL);
    const want_req w[] = {{3, 0, 125}, {3, 125, 5}};
    expect_reqs(p, w, 2);
    check_invariants(p, m, 125, 2000);
    expect_loc(p, m, "r124", 0, 124);
    expect_loc(p, m, "r125", 1, 0);
    expect_loc(p, m, "r129", 1, 4);
    gw_mb_plan_free(p);

    gw_mb_plan_opts o50 = {.reg_gap = 10, .bit_gap = 160, .max_regs = 50, .max_bits = 2000};
    p = plan_of(m, &o50);
    const want_req w50[] = {{3, 0, 50}, {3, 50, 50}, {3, 100, 30}};
    expect_reqs(p, w50, 3);
    check_invariants(p, m, 50, 2000);
    gw_mb_plan_free(p);

    gw_mb_plan_opts o200 = {.reg_gap = 10, .bit_gap = 160, .max_regs = 200, .max_bits = 5000};
    p = plan_of(m, &o200);
    expect_reqs(p, w, 2);
    gw_mb_plan_free(p);
    gw_tagmap_free(m);
    gw_free(text);
}

/*
 * Tags are never split at the cap:
 *   124 registers 0..123 + a 32-bit tag at 124..125: 126 > 125
 *     -> 0..123 (124) and 124..125 (2)
 *   123 registers + a 32-bit tag at 123..124: exactly 125 -> one request
 *   122 registers + a 64-bit tag at 122..125: 126 -> 122 and 4
 *   a 20-register string after 110 registers: 130 -> 110 and 20
 */
static void test_never_split(void **state)
{
    (void)state;
    static const struct {
        unsigned n;
        const char *fn;
        want_req w[2];
        size_t nw;
    } cases[] = {
        {124, "decode_32bit_uint", {{3, 0, 124}, {3, 124, 2}}, 2},
        {123, "decode_32bit_float", {{3, 0, 125}, {0, 0, 0}}, 1},
        {122, "decode_64bit_int", {{3, 0, 122}, {3, 122, 4}}, 2},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        char *text = consecutive_map(0, cases[c].n, cases[c].fn);
        gw_tagmap *m = load_text(text);
        gw_mb_plan *p = plan_of(m, NULL);
        expect_reqs(p, cases[c].w, cases[c].nw);
        check_invariants(p, m, 125, 2000);
        expect_loc(p, m, "last", cases[c].nw - 1, cases[c].nw == 1 ? cases[c].n : 0);
        gw_mb_plan_free(p);
        gw_tagmap_free(m);
        gw_free(text);
    }
    /* a string of 20 registers (40110/40129) after 110 registers */
    gw_buf b;
    gw_buf_init(&b);
    char *head = consecutive_map(0, 110, NULL);
    head[strlen(head) - 2] = 0; /* drop the closing "}}" */
    gw_buf_printf(&b, "%s,\"40110/40129\": {\"parameter\": \"s\", \"function\": "
                  "\"decode_string\"}}}", head);
    gw_free(head);
    gw_tagmap *m = load_text(gw_buf_cstr(&b));
    gw_mb_plan *p = plan_of(m, NULL);
    const want_req ws[] = {{3, 0, 110}, {3, 110, 20}};
    expect_reqs(p, ws, 2);
    check_invariants(p, m, 125, 2000);
    gw_mb_plan_free(p);
    gw_tagmap_free(m);
    gw_buf_clear(&b);
}

/*
 * Coils every 100 bits from 0 to 1900 and one at 1999: gaps of 99 and 98
 * bits merge, and 0..1999 is exactly 2000 bits -> one FC 1 request. A coil
 * at 2000 makes 2001 -> a second request. Discrete inputs follow the same
 * rule with FC 2, in their own requests.
 */
static void test_bit_cap(void **state)
{
    (void)state;
    for (int extra = 0; extra <= 1; extra++) {
        gw_buf b;
        gw_buf_init(&b);
        gw_buf_puts(&b, "{\"mapping\": {");
        for (unsigned a = 0; a <= 1900; a += 100)
            gw_buf_printf(&b, "\"0%04u\": {\"parameter\": \"c%u\"},", a, a);
        gw_buf_puts(&b, "\"01999\": {\"parameter\": \"c1999\"},");
        if (extra)
            gw_buf_puts(&b, "\"02000\": {\"parameter\": \"c2000\"},");
        gw_buf_puts(&b, "\"10500\": {\"parameter\": \"d500\"},");
        gw_buf_puts(&b, "\"10000\": {\"parameter\": \"d0\"}}}");
        gw_tagmap *m = load_text(gw_buf_cstr(&b));
        gw_mb_plan *p = plan_of(m, NULL);
        if (!extra) {
            const want_req w[] = {{1, 0, 2000}, {2, 0, 1}, {2, 500, 1}};
            expect_reqs(p, w, 3);
        } else {
            const want_req w[] = {{1, 0, 2000}, {1, 2000, 1}, {2, 0, 1}, {2, 500, 1}};
            expect_reqs(p, w, 4);
            expect_loc(p, m, "c2000", 1, 0);
        }
        check_invariants(p, m, 125, 2000);
        expect_loc(p, m, "c1999", 0, 1999);
        expect_loc(p, m, "d500", extra ? 3 : 2, 0);
        assert_int_equal(p->total_bits, 2000 + (size_t)extra + 2);

        /* max_bits 1000: 0..900 (901), 1000..1999 (1000), [2000] */
        gw_mb_plan_opts o = {.reg_gap = 10, .bit_gap = 160, .max_regs = 125, .max_bits = 1000};
        gw_mb_plan *q = plan_of(m, &o);
        if (!extra) {
            const want_req w[] = {{1, 0, 901}, {1, 1000, 1000}, {2, 0, 1}, {2, 500, 1}};
            expect_reqs(q, w, 4);
        } else {
            const want_req w[] = {{1, 0, 901}, {1, 1000, 1000}, {1, 2000, 1}, {2, 0, 1},
                                  {2, 500, 1}};
            expect_reqs(q, w, 5);
        }
        check_invariants(q, m, 125, 1000);
        gw_mb_plan_free(q);
        gw_mb_plan_free(p);
        gw_tagmap_free(m);
        gw_buf_clear(&b);
    }
}

/* Keys in no particular order: the plan sorts each class by address and
 * keeps map order for the readout; the very end of the address space. */
static void test_unsorted_and_edges(void **state)
{
    (void)state;
    gw_tagmap *m = load_text("{\"mapping\": {"
        "\"465535\": {\"parameter\": \"top\", \"function\": \"decode_16bit_int\"},"
        "\"40005\": {\"parameter\": \"h5\", \"function\": \"decode_16bit_int\"},"
        "\"065535\": {\"parameter\": \"ctop\"},"
        "\"40000/40001\": {\"parameter\": \"h0\", \"function\": \"decode_32bit_int\"},"
        "\"465530/465533\": {\"parameter\": \"h64\", \"function\": \"decode_64bit_float\"},"
        "\"00003\": {\"parameter\": \"c3\"},"
        "\"30007/2\": {\"parameter\": \"lo\", \"function\": \"decode_8bit_uint\"},"
        "\"30007/1\": {\"parameter\": \"hi\", \"function\": \"decode_8bit_int\"}}}");
    gw_mb_plan *p = plan_of(m, NULL);
    /* coils 3 and 65535 are far apart; holding 0..1, 5 (3 free) -> 0..5;
     * 65530..65533 and 65535 (1 free) -> 65530..65535 (6); input 7 */
    const want_req w[] = {{1, 3, 1}, {1, 65535, 1}, {3, 0, 6}, {3, 65530, 6}, {4, 7, 1}};
    expect_reqs(p, w, 5);
    check_invariants(p, m, 125, 2000);
    expect_loc(p, m, "top", 3, 5);
    expect_loc(p, m, "h64", 3, 0);
    expect_loc(p, m, "h5", 2, 5);
    expect_loc(p, m, "hi", 4, 0);
    expect_loc(p, m, "lo", 4, 0);
    gw_mb_plan_free(p);
    gw_tagmap_free(m);

    /* an S7 map is not for a Modbus plan */
    m = load_text("{\"mapping\": {\"DB1.DBW0\": {\"parameter\": \"w\", \"function\": \"word\"}}}");
    gw_mb_plan *bad = NULL;
    assert_int_equal(gw_mb_plan_new(m, NULL, &bad), GW_E_INVAL);
    assert_null(bad);
    gw_tagmap_free(m);
}

/* ---------------------------------------------------------------- readout */

/* Registers of the example's plan as a device would send them. */
static void fill_example(const gw_mb_plan *p, gw_mb_readout *r)
{
    /* FC 2 0..1: UnitOn = 1, Unit_Alarm = 0 */
    r->bits[p->req_off[0] + 0] = 1;
    r->bits[p->req_off[0] + 1] = 0;
    /* FC 3 9: Water_Setpoint raw 2970 = 0x0B9A, byteorder "<": 0x9A0B
     * -> 2970 * 0.1 - 273 = 24.0 */
    r->regs[p->req_off[1] + 0] = 0x9A0B;
    uint16_t *in = r->regs + p->req_off[2]; /* input registers 1..12 */
    in[0] = 0x0300;  /* Operating State: byteorder "<" swaps -> 3, "Running" */
    in[1] = 0x0100;  /* Compressor Running: 1, "On" */
    /* Warning State: -4.0f = 0xC0800000, "<" ">": 0x80C0 0x0000 */
    in[2] = 0x80C0;
    in[3] = 0x0000;
    in[4] = 0xFFFF;  /* 30005..30010: the gap, not decoded */
    /* Oil Temp: 72.5f = 0x42910000 -> 0x9142 0x0000 */
    in[10] = 0x9142;
    in[11] = 0x0000;
    uint16_t *in2 = r->regs + p->req_off[3]; /* input registers 31..34 */
    in2[0] = 0x3930; /* Panel Serial Number: 0x3039 = 12345 */
    in2[1] = 0xEEEE; /* 30032, the gap */
    in2[2] = 0x0201; /* Software Rev: 0x0102 = 258 */
    in2[3] = 0x89AB; /* TEST1 (/1) = 0x89, TEST2 (/2) = 0xAB, byteorder ignored */
    for (size_t i = 0; i < p->nreqs; i++) {
        r->result[i] = GW_OK;
        r->exception[i] = 0;
    }
}

static void value_of(const gw_mb_plan *p, const gw_mb_readout *r, const gw_tagmap *m,
                     const char *param, gw_value *v)
{
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_mb_readout_value(p, r, tag_index(m, param), v, &err);
    if (rc != GW_OK)
        print_error("%s: %s\n", param, err.msg);
    assert_int_equal(rc, GW_OK);
}

static void test_readout_example(void **state)
{
    (void)state;
    gw_tagmap *m = load_file("config/modbus/example.json");
    gw_mb_plan *p = plan_of(m, NULL);
    gw_mb_readout *r = NULL;
    assert_int_equal(gw_mb_readout_new(p, &r), GW_OK);

    /* before a read every tag reports "not read" */
    gw_value v;
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_mb_readout_value(p, r, 0, &v, &err), GW_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "not read"));

    fill_example(p, r);
    value_of(p, r, m, "UnitOn", &v);
    assert_int_equal(v.kind, GW_V_BOOL);
    assert_true(v.v.b);
    value_of(p, r, m, "Unit_Alarm", &v);
    assert_int_equal(v.kind, GW_V_BOOL);
    assert_false(v.v.b);
    value_of(p, r, m, "Operating State", &v);
    assert_int_equal(v.kind, GW_V_INT);
    assert_int_equal(v.v.i, 3);
    value_of(p, r, m, "Compressor Running", &v);
    assert_int_equal(v.kind, GW_V_INT);
    assert_int_equal(v.v.i, 1);
    value_of(p, r, m, "Warning State", &v);
    assert_int_equal(v.kind, GW_V_DOUBLE);
    assert_true(v.v.d == -4.0);
    value_of(p, r, m, "Oil Temp", &v);
    assert_int_equal(v.kind, GW_V_DOUBLE);
    assert_true(v.v.d == 72.5);
    value_of(p, r, m, "Panel Serial Number", &v);
    assert_int_equal(v.v.i, 12345);
    value_of(p, r, m, "Software Rev", &v);
    assert_int_equal(v.v.i, 258);
    value_of(p, r, m, "TEST1", &v);
    assert_int_equal(v.kind, GW_V_BITS);
    assert_int_equal(v.v.bits.nbits, 8);
    assert_int_equal(v.v.bits.bits, 0x89);
    value_of(p, r, m, "TEST2", &v);
    assert_int_equal(v.kind, GW_V_BITS);
    assert_int_equal(v.v.bits.nbits, 8);
    assert_int_equal(v.v.bits.bits, 0xAB);
    value_of(p, r, m, "Water_Setpoint.SP_r", &v);
    assert_int_equal(v.kind, GW_V_DOUBLE);
    assert_true(fabs(v.v.d - 24.0) < 1e-9);

    /* a tag that is not in the plan */
    gw_error_clear(&err);
    assert_int_equal(gw_mb_readout_value(p, r, gw_tagmap_count(m), &v, &err), GW_E_INVAL);

    /* one request rejected by the device (FC 4 31..34, exception 2):
     * its tags fail naming the exception, every other tag still decodes */
    r->result[3] = GW_E_DEVICE_REJECTED;
    r->exception[3] = 2;
    for (size_t i = 0; i < gw_tagmap_count(m); i++) {
        gw_error_clear(&err);
        gw_err rc = gw_mb_readout_value(p, r, i, &v, &err);
        gw_value_clear(&v);
        if (p->locs[i].req == 3) {
            assert_int_equal(rc, GW_E_DEVICE_REJECTED);
            assert_non_null(strstr(err.msg, gw_tagmap_at(m, i)->parameter));
            assert_non_null(strstr(err.msg, "exception 2, illegal data address"));
            assert_non_null(strstr(err.msg, "FC 4 at 31..34"));
        } else {
            assert_int_equal(rc, GW_OK);
        }
    }
    /* a request that failed without an exception (the read stopped) */
    r->result[2] = GW_E_TIMEOUT;
    gw_error_clear(&err);
    assert_int_equal(gw_mb_readout_value(p, r, tag_index(m, "Oil Temp"), &v, &err),
                     GW_E_TIMEOUT);
    assert_non_null(strstr(err.msg, "Oil Temp"));
    assert_non_null(strstr(err.msg, "not read"));

    gw_mb_readout_free(r);
    gw_mb_plan_free(p);
    gw_tagmap_free(m);
}

/* Every function and the other orders, decoded from hand-filled registers
 * (docs/mapping.md: 0x12345678 in each of the four orders). */
static void test_readout_orders(void **state)
{
    (void)state;
    static const struct {
        const char *bo, *wo;
        uint16_t r32[2];
        uint16_t r64[4]; /* 0x0102030405060708 */
        uint16_t r16;    /* 0x1234 */
    } orders[] = {
        {">", ">", {0x1234, 0x5678}, {0x0102, 0x0304, 0x0506, 0x0708}, 0x1234},
        {"<", ">", {0x3412, 0x7856}, {0x0201, 0x0403, 0x0605, 0x0807}, 0x3412},
        {">", "<", {0x5678, 0x1234}, {0x0708, 0x0506, 0x0304, 0x0102}, 0x1234},
        {"<", "<", {0x7856, 0x3412}, {0x0807, 0x0605, 0x0403, 0x0201}, 0x3412},
    };
    for (size_t o = 0; o < 4; o++) {
        char text[2048];
        snprintf(text, sizeof(text),
                 "{\"endianness\": {\"byteorder\": \"%s\", \"wordorder\": \"%s\"}, \"mapping\": {"
                 "\"40000\": {\"parameter\": \"u16\", \"function\": \"decode_16bit_uint\"},"
                 "\"40001\": {\"parameter\": \"u32\", \"function\": \"decode_32bit_uint\"},"
                 "\"40003\": {\"parameter\": \"u64\", \"function\": \"decode_64bit_uint\"},"
                 "\"40007/40008\": {\"parameter\": \"s\", \"function\": \"decode_string\"},"
                 "\"40009/1\": {\"parameter\": \"h\", \"function\": \"decode_8bit_int\"},"
                 "\"40009/2\": {\"parameter\": \"l\", \"function\": \"decode_8bit_uint\"},"
                 "\"30000\": {\"parameter\": \"i32\", \"function\": \"decode_32bit_int\","
                 "  \"multiplier\": 2, \"offset\": 1}}}",
                 orders[o].bo, orders[o].wo);
        gw_tagmap *m = load_text(text);
        gw_mb_plan *p = plan_of(m, NULL);
        const want_req w[] = {{3, 0, 10}, {4, 0, 2}};
        expect_reqs(p, w, 2);
        gw_mb_readout *r;
        assert_int_equal(gw_mb_readout_new(p, &r), GW_OK);
        uint16_t *h = r->regs + p->req_off[0];
        h[0] = orders[o].r16;
        memcpy(h + 1, orders[o].r32, sizeof(orders[o].r32));
        memcpy(h + 3, orders[o].r64, sizeof(orders[o].r64));
        h[7] = 0x4142; /* "AB" whatever the byte order */
        h[8] = 0x4300; /* "C" and a NUL */
        h[9] = 0xFE7F; /* /1 = 0xFE = -2, /2 = 0x7F = 127 */
        memcpy(r->regs + p->req_off[1], orders[o].r32, sizeof(orders[o].r32));
        r->result[0] = r->result[1] = GW_OK;
        gw_value v;
        value_of(p, r, m, "u16", &v);
        assert_int_equal(v.v.i, 0x1234);
        value_of(p, r, m, "u32", &v);
        assert_int_equal(v.v.i, 0x12345678);
        value_of(p, r, m, "u64", &v);
        assert_true(v.kind == GW_V_INT || v.kind == GW_V_UINT);
        assert_int_equal(v.v.u, 0x0102030405060708ull);
        value_of(p, r, m, "s", &v);
        assert_int_equal(v.kind, GW_V_STRING);
        assert_string_equal(v.v.str.s, "ABC");
        gw_value_clear(&v);
        value_of(p, r, m, "h", &v);
        assert_int_equal(v.v.i, -2);
        value_of(p, r, m, "l", &v);
        assert_int_equal(v.v.i, 127);
        value_of(p, r, m, "i32", &v);
        assert_int_equal(v.kind, GW_V_DOUBLE);
        assert_true(v.v.d == 2.0 * 0x12345678 + 1);
        gw_mb_readout_free(r);
        gw_mb_plan_free(p);
        gw_tagmap_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_map),
        cmocka_unit_test(test_example_gap_options),
        cmocka_unit_test(test_gap_edges),
        cmocka_unit_test(test_watermaker_map),
        cmocka_unit_test(test_register_cap),
        cmocka_unit_test(test_never_split),
        cmocka_unit_test(test_bit_cap),
        cmocka_unit_test(test_unsorted_and_edges),
        cmocka_unit_test(test_readout_example),
        cmocka_unit_test(test_readout_orders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
