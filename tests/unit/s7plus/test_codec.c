/*
 * test_codec.c - the S7CommPlus codec (s7p_codec.h) against the vectors and
 * session bytes of the protocol facts (docs/s7commplus.md, which cites
 * them): S3 VLQ vectors both ways, every PValue type, arrays, structs,
 * objects, ItemAddress and ObjectQualifier forms, the S5 V1 session with
 * the py7 emulator (InitSSL, CreateObject, session setup, absolute read and
 * write, the missing-DB error, DeleteObject), framing, reassembly and
 * fragmentation. Every truncation of every encoding is decoded from a heap
 * copy of exactly that many bytes, so a read past the end shows under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/s7plus/s7p_codec.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const s7p_opts PY7 = {0};
static const s7p_opts REF = {true, true, true, true, true, true};

/* S3: the ObjectQualifier, py7 form */
#define OQ_PY7                                                                               \
    0x00, 0x00, 0x04, 0xe8, 0x89, 0x69, 0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x89, 0x6a, 0x00, \
        0x13, 0x00, 0x89, 0x6b, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00
#define OQ_REF                                                                               \
    0x00, 0x00, 0x04, 0xe8, 0x89, 0x69, 0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x89, 0x6a, 0x00, \
        0x13, 0x00, 0x89, 0x6b, 0x00, 0x04, 0x00, 0x00

/* A heap copy of exactly n bytes, so that ASan sees any over-read. */
static uint8_t *dup_n(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    assert_non_null(c);
    if (n)
        memcpy(c, p, n);
    return c;
}

/* ------------------------------------------------------------ VLQ */

typedef struct {
    uint64_t v;
    uint8_t b[9];
    size_t n;
} vec;

static void test_vlq_u32_vectors(void **state)
{
    (void)state;
    static const vec t[] = {
        {0x7F, {0x7f}, 1},
        {0x80, {0x81, 0x00}, 2},
        {0x3FFF, {0xff, 0x7f}, 2},
        {0x4000, {0x81, 0x80, 0x00}, 3},
        {0xFFFFFFFF, {0x8f, 0xff, 0xff, 0xff, 0x7f}, 5},
        {2550, {0x93, 0x76}, 2},
        {0x8A0E0001, {0x88, 0xd0, 0xb8, 0x80, 0x01}, 5},
    };
    for (size_t k = 0; k < N(t); k++) {
        uint8_t out[5];
        size_t n = s7p_vlq_enc_u32(out, (uint32_t)t[k].v);
        assert_int_equal(n, t[k].n);
        assert_memory_equal(out, t[k].b, n);
        s7p_r r;
        uint32_t v;
        s7p_r_init(&r, t[k].b, t[k].n);
        assert_int_equal(s7p_get_vlq_u32(&r, &v), GW_OK);
        assert_int_equal(v, (uint32_t)t[k].v);
        assert_int_equal(r.pos, t[k].n);
    }
}

static void test_vlq_i32_vectors(void **state)
{
    (void)state;
    static const struct {
        int32_t v;
        uint8_t b[5];
        size_t n;
    } t[] = {
        {-1, {0x7f}, 1},        {63, {0x3f}, 1},          {64, {0x80, 0x40}, 2},
        {-65, {0xff, 0x3f}, 2}, {-255, {0xfe, 0x01}, 2},  {1000, {0x87, 0x68}, 2},
        {-1000, {0xf8, 0x18}, 2}, {-64, {0xff, 0x40}, 2},
    };
    for (size_t k = 0; k < N(t); k++) {
        uint8_t out[5];
        size_t n = s7p_vlq_enc_i32(out, t[k].v);
        assert_int_equal(n, t[k].n);
        assert_memory_equal(out, t[k].b, n);
        s7p_r r;
        int32_t v;
        s7p_r_init(&r, t[k].b, t[k].n);
        assert_int_equal(s7p_get_vlq_i32(&r, &v), GW_OK);
        assert_int_equal(v, t[k].v);
    }
}

static void test_vlq_64_vectors(void **state)
{
    (void)state;
    static const vec u[] = {
        {(1ull << 56) - 1, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 8},
        {1ull << 56, {0x80, 0xc0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 9},
        {UINT64_MAX, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 9},
        {0x8104, {0x82, 0x82, 0x04}, 3},
    };
    for (size_t k = 0; k < N(u); k++) {
        uint8_t out[9];
        size_t n = s7p_vlq_enc_u64(out, u[k].v);
        assert_int_equal(n, u[k].n);
        assert_memory_equal(out, u[k].b, n);
        s7p_r r;
        uint64_t v;
        s7p_r_init(&r, u[k].b, u[k].n);
        assert_int_equal(s7p_get_vlq_u64(&r, &v), GW_OK);
        assert_true(v == u[k].v);
        assert_int_equal(r.pos, u[k].n);
    }
    static const struct {
        int64_t v;
        uint8_t b[9];
    } s[] = {
        {INT64_MAX, {0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {INT64_MIN, {0xc0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}},
    };
    for (size_t k = 0; k < N(s); k++) {
        uint8_t out[9];
        assert_int_equal(s7p_vlq_enc_i64(out, s[k].v), 9);
        assert_memory_equal(out, s[k].b, 9);
        s7p_r r;
        int64_t v;
        s7p_r_init(&r, s[k].b, 9);
        assert_int_equal(s7p_get_vlq_i64(&r, &v), GW_OK);
        assert_true(v == s[k].v);
    }
}

static void test_vlq_lenient(void **state)
{
    (void)state;
    /* S3: `8f ff ff fe 01` is -255 as i32 and 0xFFFFFF01 as u32 */
    static const uint8_t full[] = {0x8f, 0xff, 0xff, 0xfe, 0x01};
    s7p_r r;
    int32_t i;
    uint32_t u;
    s7p_r_init(&r, full, 5);
    assert_int_equal(s7p_get_vlq_i32(&r, &i), GW_OK);
    assert_int_equal(i, -255);
    s7p_r_init(&r, full, 5);
    assert_int_equal(s7p_get_vlq_u32(&r, &u), GW_OK);
    assert_int_equal(u, 0xFFFFFF01u);
    /* wraps in u32 instead of failing */
    static const uint8_t wide[] = {0x9f, 0xff, 0xff, 0xff, 0x7f};
    s7p_r_init(&r, wide, 5);
    assert_int_equal(s7p_get_vlq_u32(&r, &u), GW_OK);
    assert_int_equal(u, 0xFFFFFFFFu);
    /* non-minimal */
    static const uint8_t nonmin[] = {0x80, 0x80, 0x05};
    s7p_r_init(&r, nonmin, 3);
    assert_int_equal(s7p_get_vlq_u32(&r, &u), GW_OK);
    assert_int_equal(u, 5);
    /* a 6th byte is too long for 32 bits */
    static const uint8_t toolong[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    s7p_r_init(&r, toolong, 6);
    assert_int_equal(s7p_get_vlq_u32(&r, &u), GW_E_PROTOCOL);
}

static void test_vlq_boundaries(void **state)
{
    (void)state;
    static const uint64_t uv[] = {0, 0x3F, 0x40, 0x7F, 0x80, 0x3FFF, 0x4000, 1u << 28,
                                  (1u << 28) - 1, 0xFFFFFFFFull, 0x100000000ull,
                                  (1ull << 56) - 1, 1ull << 56, UINT64_MAX};
    static const int64_t iv[] = {0, 0x3F, 0x40, -0x40, -0x41, 0x7F, 0x80, 0x3FFF, 0x4000,
                                 -0x4000, 1 << 28, INT32_MAX, INT32_MIN, (1ll << 55) - 1,
                                 -(1ll << 55), 1ll << 55, INT64_MAX, INT64_MIN};
    for (size_t k = 0; k < N(uv); k++) {
        uint8_t out[9];
        s7p_r r;
        size_t n = s7p_vlq_enc_u64(out, uv[k]);
        uint8_t *c = dup_n(out, n);
        uint64_t v;
        s7p_r_init(&r, c, n);
        assert_int_equal(s7p_get_vlq_u64(&r, &v), GW_OK);
        assert_true(v == uv[k]);
        for (size_t cut = 0; cut < n; cut++) {
            uint8_t *t = dup_n(out, cut);
            s7p_r_init(&r, t, cut);
            assert_int_equal(s7p_get_vlq_u64(&r, &v), GW_E_PROTOCOL);
            free(t);
        }
        free(c);
        if (uv[k] <= UINT32_MAX) {
            uint32_t v32;
            n = s7p_vlq_enc_u32(out, (uint32_t)uv[k]);
            s7p_r_init(&r, out, n);
            assert_int_equal(s7p_get_vlq_u32(&r, &v32), GW_OK);
            assert_int_equal(v32, (uint32_t)uv[k]);
        }
    }
    for (size_t k = 0; k < N(iv); k++) {
        uint8_t out[9];
        s7p_r r;
        int64_t v;
        size_t n = s7p_vlq_enc_i64(out, iv[k]);
        s7p_r_init(&r, out, n);
        assert_int_equal(s7p_get_vlq_i64(&r, &v), GW_OK);
        assert_true(v == iv[k]);
        for (size_t cut = 0; cut < n; cut++) {
            uint8_t *t = dup_n(out, cut);
            s7p_r_init(&r, t, cut);
            assert_int_equal(s7p_get_vlq_i64(&r, &v), GW_E_PROTOCOL);
            free(t);
        }
        if (iv[k] >= INT32_MIN && iv[k] <= INT32_MAX) {
            int32_t v32;
            n = s7p_vlq_enc_i32(out, (int32_t)iv[k]);
            assert_true(n <= 5);
            s7p_r_init(&r, out, n);
            assert_int_equal(s7p_get_vlq_i32(&r, &v32), GW_OK);
            assert_int_equal(v32, (int32_t)iv[k]);
        }
    }
}

/* ------------------------------------------------------------ PValue */

/* Decodes all of p (exactly), and every truncation must fail cleanly. */
static void pv_decode_ok(const uint8_t *p, size_t n, const s7p_opts *o, s7p_pvalue *pv)
{
    uint8_t *c = dup_n(p, n);
    s7p_r r;
    s7p_r_init(&r, c, n);
    assert_int_equal(s7p_get_pvalue(&r, o, pv), GW_OK);
    assert_int_equal(r.pos, n);
    assert_int_equal(pv->raw_len, n);
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *t = dup_n(p, cut);
        s7p_pvalue x;
        s7p_r_init(&r, t, cut);
        assert_int_not_equal(s7p_get_pvalue(&r, o, &x), GW_OK);
        free(t);
    }
    /* re-encoding gives the same bytes */
    uint8_t again[512];
    s7p_w w;
    s7p_w_init(&w, again, sizeof again);
    s7p_put_pvalue(&w, o, pv);
    assert_true(s7p_w_ok(&w));
    assert_int_equal(w.len, n);
    assert_memory_equal(again, p, n);
    pv->raw = NULL;   /* c is freed: views must not be used after this */
    pv->data = NULL;
    free(c);
}

static void test_pvalue_scalars(void **state)
{
    (void)state;
    static const struct {
        uint8_t type;
        bool is_signed;
        uint64_t v;
        uint8_t b[12];
        size_t n;
    } t[] = {
        {S7P_T_BOOL, false, 1, {0x00, 0x01, 0x01}, 3},
        {S7P_T_USINT, false, 0xAB, {0x00, 0x02, 0xAB}, 3},
        {S7P_T_UINT, false, 0x1234, {0x00, 0x03, 0x12, 0x34}, 4},
        {S7P_T_UDINT, false, 2550, {0x00, 0x04, 0x93, 0x76}, 4},
        {S7P_T_ULINT, false, 1ull << 56, {0x00, 0x05, 0x80, 0xc0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 11},
        {S7P_T_SINT, true, (uint64_t)-2, {0x00, 0x06, 0xFE}, 3},
        {S7P_T_INT, true, (uint64_t)-2, {0x00, 0x07, 0xFF, 0xFE}, 4},
        {S7P_T_DINT, true, (uint64_t)-1000, {0x00, 0x08, 0xf8, 0x18}, 4},
        {S7P_T_LINT, true, (uint64_t)INT64_MIN, {0x00, 0x09, 0xc0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 11},
        {S7P_T_BYTE, false, 0x5A, {0x00, 0x0A, 0x5A}, 3},
        {S7P_T_WORD, false, 0xBEEF, {0x00, 0x0B, 0xBE, 0xEF}, 4},
        {S7P_T_DWORD, false, 0xDEADBEEF, {0x00, 0x0C, 0xDE, 0xAD, 0xBE, 0xEF}, 6},
        {S7P_T_LWORD, false, 0x0102030405060708ull, {0x00, 0x0D, 1, 2, 3, 4, 5, 6, 7, 8}, 10},
        {S7P_T_TIMESTAMP, false, 0x00000000DEADBEEFull, {0x00, 0x10, 0, 0, 0, 0, 0xDE, 0xAD, 0xBE, 0xEF}, 10},
        {S7P_T_TIMESPAN, true, (uint64_t)1000, {0x00, 0x11, 0x87, 0x68}, 4},
        {S7P_T_RID, false, 0x80C3C901, {0x00, 0x12, 0x80, 0xc3, 0xc9, 0x01}, 6},
        {S7P_T_AID, false, 0, {0x00, 0x13, 0x00}, 3},
        {S7P_T_VARIANT, false, 0x80, {0x00, 0x16, 0x81, 0x00}, 4},
    };
    for (size_t k = 0; k < N(t); k++) {
        uint8_t buf[16];
        s7p_w w;
        s7p_w_init(&w, buf, sizeof buf);
        if (t[k].is_signed)
            s7p_put_pv_i(&w, t[k].type, (int64_t)t[k].v);
        else
            s7p_put_pv_u(&w, t[k].type, t[k].v);
        assert_true(s7p_w_ok(&w));
        assert_int_equal(w.len, t[k].n);
        assert_memory_equal(buf, t[k].b, t[k].n);
        s7p_pvalue pv;
        pv_decode_ok(t[k].b, t[k].n, &PY7, &pv);
        assert_int_equal(pv.type, t[k].type);
        if (t[k].is_signed)
            assert_true(pv.i == (int64_t)t[k].v);
        else
            assert_true(pv.u == t[k].v);
    }
    /* Null, Real 23.5, LReal */
    static const uint8_t null[] = {0x00, 0x00};
    static const uint8_t real[] = {0x00, 0x0E, 0x41, 0xbc, 0x00, 0x00};
    static const uint8_t lreal[] = {0x00, 0x0F, 0x40, 0x37, 0x80, 0, 0, 0, 0, 0};
    uint8_t buf[16];
    s7p_w w;
    s7p_pvalue pv;
    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_pv_null(&w);
    assert_memory_equal(buf, null, 2);
    pv_decode_ok(null, sizeof null, &PY7, &pv);
    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_pv_real(&w, 23.5f);
    assert_memory_equal(buf, real, sizeof real);
    pv_decode_ok(real, sizeof real, &PY7, &pv);
    assert_true(pv.f == 23.5);
    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_pv_lreal(&w, 23.5);
    assert_memory_equal(buf, lreal, sizeof lreal);
    pv_decode_ok(lreal, sizeof lreal, &PY7, &pv);
    assert_true(pv.f == 23.5);
    /* wrong class for the type */
    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_pv_i(&w, S7P_T_UDINT, 1);
    assert_false(s7p_w_ok(&w));
}

static void test_pvalue_blob_wstring(void **state)
{
    (void)state;
    /* S5.5: py7's Blob without root id */
    static const uint8_t py7_blob[] = {0x00, 0x14, 0x04, 0x41, 0xbc, 0x00, 0x00};
    static const uint8_t ref_blob[] = {0x00, 0x14, 0x00, 0x04, 0x41, 0xbc, 0x00, 0x00};
    static const uint8_t data[] = {0x41, 0xbc, 0x00, 0x00};
    uint8_t buf[32];
    s7p_w w;
    s7p_pvalue pv;
    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_pv_blob(&w, &PY7, data, 4);
    assert_int_equal(w.len, sizeof py7_blob);
    assert_memory_equal(buf, py7_blob, sizeof py7_blob);
    pv_decode_ok(py7_blob, sizeof py7_blob, &PY7, &pv);
    assert_int_equal(pv.count, 4);
    assert_false(pv.has_root);
    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_pv_blob(&w, &REF, data, 4);
    assert_memory_equal(buf, ref_blob, sizeof ref_blob);
    pv_decode_ok(ref_blob, sizeof ref_blob, &REF, &pv);
    assert_true(pv.has_root);
    /* root id > 1 is not modelled */
    static const uint8_t root2[] = {0x00, 0x14, 0x02, 0x00};
    s7p_r r;
    s7p_r_init(&r, root2, sizeof root2);
    assert_int_equal(s7p_get_pvalue(&r, &REF, &pv), GW_E_UNSUPPORTED);

    /* S4: "DB1" as py7 sends it, UTF-16BE; and UTF-8 */
    static const uint8_t db1_16[] = {0x00, 0x15, 0x06, 0x00, 0x44, 0x00, 0x42, 0x00, 0x31};
    static const uint8_t db1_8[] = {0x00, 0x15, 0x03, 'D', 'B', '1'};
    char name[16];
    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_pv_name(&w, &PY7, "DB1", 3);
    assert_memory_equal(buf, db1_16, sizeof db1_16);
    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_pv_name(&w, &REF, "DB1", 3);
    assert_memory_equal(buf, db1_8, sizeof db1_8);
    s7p_r_init(&r, db1_16, sizeof db1_16);
    assert_int_equal(s7p_get_pvalue(&r, NULL, &pv), GW_OK);
    assert_int_equal(s7p_name_utf8(pv.data, pv.data_len, name, sizeof name), GW_OK);
    assert_string_equal(name, "DB1");
    s7p_r_init(&r, db1_8, sizeof db1_8);
    assert_int_equal(s7p_get_pvalue(&r, NULL, &pv), GW_OK);
    assert_int_equal(s7p_name_utf8(pv.data, pv.data_len, name, sizeof name), GW_OK);
    assert_string_equal(name, "DB1");
    pv_decode_ok(db1_16, sizeof db1_16, &PY7, &pv);
    /* non-ASCII and a surrogate pair through UTF-16BE and back */
    static const char u8[] = "T\xc3\xa4g\xf0\x9f\x98\x80";
    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_pv_name(&w, &PY7, u8, sizeof u8 - 1);
    assert_true(s7p_w_ok(&w));
    s7p_r_init(&r, buf, w.len);
    assert_int_equal(s7p_get_pvalue(&r, NULL, &pv), GW_OK);
    assert_int_equal(pv.data_len, 10);
    assert_int_equal(s7p_name_utf8(pv.data, pv.data_len, name, sizeof name), GW_OK);
    assert_string_equal(name, u8);
    assert_int_equal(s7p_name_utf8(pv.data, pv.data_len, name, 4), GW_E_RANGE);
    static const uint8_t lone[] = {0x00, 0x41, 0xDC, 0x00};
    assert_int_equal(s7p_name_utf8(lone, 4, name, sizeof name), GW_E_PROTOCOL);
}

static void test_pvalue_arrays(void **state)
{
    (void)state;
    /* UInt array, fixed width */
    static const uint8_t uint_arr[] = {0x10, 0x03, 0x03, 0x00, 0x01, 0x00, 0x02, 0xFF, 0xFF};
    /* DInt array, VLQ elements */
    static const uint8_t dint_arr[] = {0x10, 0x08, 0x03, 0x7f, 0x80, 0x40, 0xf8, 0x18};
    /* S2 GetVarSubStreamed: address array of one UDInt */
    static const uint8_t addr_arr[] = {0x20, 0x04, 0x01, 0x8e, 0x32};
    uint8_t buf[64];
    s7p_w w;
    s7p_pvalue pv;
    size_t pos = 0;
    uint64_t bits;

    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_pv_array_hdr(&w, S7P_PV_ARRAY, S7P_T_UINT, 3);
    s7p_put_elem(&w, S7P_T_UINT, 1);
    s7p_put_elem(&w, S7P_T_UINT, 2);
    s7p_put_elem(&w, S7P_T_UINT, 0xFFFF);
    assert_memory_equal(buf, uint_arr, sizeof uint_arr);
    pv_decode_ok(uint_arr, sizeof uint_arr, &PY7, &pv);
    assert_int_equal(pv.count, 3);

    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_pv_array_hdr(&w, S7P_PV_ARRAY, S7P_T_DINT, 3);
    s7p_put_elem(&w, S7P_T_DINT, (uint64_t)-1);
    s7p_put_elem(&w, S7P_T_DINT, 64);
    s7p_put_elem(&w, S7P_T_DINT, (uint64_t)-1000);
    assert_memory_equal(buf, dint_arr, sizeof dint_arr);
    uint8_t *c = dup_n(dint_arr, sizeof dint_arr);
    s7p_r r;
    s7p_r_init(&r, c, sizeof dint_arr);
    assert_int_equal(s7p_get_pvalue(&r, NULL, &pv), GW_OK);
    static const int64_t want[] = {-1, 64, -1000};
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(s7p_pv_elem_next(&pv, &pos, &bits), GW_OK);
        assert_true((int64_t)bits == want[k]);
    }
    assert_int_equal(s7p_pv_elem_next(&pv, &pos, &bits), GW_E_NOT_FOUND);
    free(c);
    pv_decode_ok(dint_arr, sizeof dint_arr, &PY7, &pv);
    pv_decode_ok(addr_arr, sizeof addr_arr, &PY7, &pv);
    assert_int_equal(pv.flags, S7P_PV_ADDRESS_ARRAY);

    /* Bool array padded to 8 */
    bool bv[3] = {true, false, true};
    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_pv_bool_array(&w, bv, 3);
    static const uint8_t bool_arr[] = {0x10, 0x01, 0x08, 1, 0, 1, 0, 0, 0, 0, 0};
    assert_int_equal(w.len, sizeof bool_arr);
    assert_memory_equal(buf, bool_arr, sizeof bool_arr);
    pv_decode_ok(bool_arr, sizeof bool_arr, &PY7, &pv);

    /* not modelled: sparse arrays, S7String, arrays of Blob */
    static const uint8_t sparse[] = {0x40, 0x04, 0x01, 0x05, 0x00};
    static const uint8_t s7str[] = {0x00, 0x19, 0x00};
    static const uint8_t blob_arr[] = {0x10, 0x14, 0x00};
    s7p_r_init(&r, sparse, sizeof sparse);
    assert_int_equal(s7p_get_pvalue(&r, NULL, &pv), GW_E_UNSUPPORTED);
    s7p_r_init(&r, s7str, sizeof s7str);
    assert_int_equal(s7p_get_pvalue(&r, NULL, &pv), GW_E_UNSUPPORTED);
    s7p_r_init(&r, blob_arr, sizeof blob_arr);
    assert_int_equal(s7p_get_pvalue(&r, NULL, &pv), GW_E_UNSUPPORTED);
    /* a count larger than the bytes */
    static const uint8_t huge[] = {0x10, 0x0D, 0x8f, 0xff, 0xff, 0xff, 0x7f, 0x00};
    s7p_r_init(&r, huge, sizeof huge);
    assert_int_equal(s7p_get_pvalue(&r, NULL, &pv), GW_E_PROTOCOL);
}

static void test_pvalue_structs(void **state)
{
    (void)state;
    uint8_t buf[128];
    s7p_w w;
    s7p_w_init(&w, buf, sizeof buf);
    /* Struct 314 { 319: WString "x", 320: Struct 1 { 1: UDInt 7 } } */
    s7p_put_pv_struct_begin(&w, 314);
    s7p_put_vlq_u32(&w, 319);
    s7p_put_pv_wstring(&w, "x", 1);
    s7p_put_vlq_u32(&w, 320);
    s7p_put_pv_struct_begin(&w, 1);
    s7p_put_vlq_u32(&w, 1);
    s7p_put_pv_u(&w, S7P_T_UDINT, 7);
    s7p_put_pv_struct_end(&w);
    s7p_put_pv_struct_end(&w);
    assert_true(s7p_w_ok(&w));
    /* S3: a real CPU's Struct 314 starts `00 17 00 00 01 3a` */
    static const uint8_t head[] = {0x00, 0x17, 0x00, 0x00, 0x01, 0x3a};
    assert_memory_equal(buf, head, sizeof head);
    s7p_pvalue st, m, inner;
    pv_decode_ok(buf, w.len, &PY7, &st);
    s7p_r r;
    s7p_r_init(&r, buf, w.len);
    assert_int_equal(s7p_get_pvalue(&r, NULL, &st), GW_OK);
    assert_int_equal(st.struct_id, 314);
    assert_int_equal(st.count, 2);
    size_t pos = 0, pos2 = 0;
    uint32_t key;
    assert_int_equal(s7p_struct_next(&st, NULL, &pos, &key, &m), GW_OK);
    assert_int_equal(key, 319);
    assert_int_equal(m.type, S7P_T_WSTRING);
    assert_int_equal(s7p_struct_next(&st, NULL, &pos, &key, &m), GW_OK);
    assert_int_equal(key, 320);
    assert_int_equal(s7p_struct_next(&m, NULL, &pos2, &key, &inner), GW_OK);
    assert_int_equal(inner.u, 7);
    assert_int_equal(s7p_struct_next(&st, NULL, &pos, &key, &m), GW_E_NOT_FOUND);

    /* packed: id 0x90000001, u64 ts, flags 0, count 3, bytes */
    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_pv_packed_struct(&w, 0x90000001u, 0x1122334455667788ull, "abc", 3);
    static const uint8_t packed[] = {0x00, 0x17, 0x90, 0x00, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44,
                                     0x55, 0x66, 0x77, 0x88, 0x00, 0x03, 'a', 'b', 'c'};
    assert_int_equal(w.len, sizeof packed);
    assert_memory_equal(buf, packed, sizeof packed);
    pv_decode_ok(packed, sizeof packed, &PY7, &st);
    assert_true(st.packed);
    assert_int_equal(st.data_len, 3);

    /* nesting bounded */
    uint8_t deep[6 * 40 + 40];
    size_t n = 0;
    for (int k = 0; k < 40; k++) {
        deep[n++] = 0x00; deep[n++] = 0x17;
        deep[n++] = 0; deep[n++] = 0; deep[n++] = 0; deep[n++] = 1;
        deep[n++] = 0x01;   /* key 1 */
    }
    s7p_r_init(&r, deep, n);
    assert_int_equal(s7p_get_pvalue(&r, NULL, &st), GW_E_RANGE);
}

/* ------------------------------------------------------------ objects */

/* S4: the py7 emulator's CreateObject response body */
static const uint8_t CREATE_RSP[] = {
    0x00, 0x01, 0x01, 0xa1, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xa3, 0x82, 0x31, 0x00,
    0x04, 0x01, 0xa3, 0x82, 0x32, 0x00, 0x02, 0x01, 0xa3, 0x82, 0x32, 0x00, 0x04, 0x01, 0xa2,
    0x00, 0x00, 0x00, 0x00};

static void test_createobj(void **state)
{
    (void)state;
    uint8_t buf[256];
    s7p_w w;
    s7p_w_init(&w, buf, sizeof buf);
    s7p_createobj_rsp_encode_py7(&w, 1, 1);
    assert_true(s7p_w_ok(&w));
    assert_int_equal(w.len, sizeof CREATE_RSP);
    assert_memory_equal(buf, CREATE_RSP, sizeof CREATE_RSP);

    s7p_createobj_rsp rsp;
    assert_int_equal(s7p_createobj_rsp_decode(CREATE_RSP, sizeof CREATE_RSP, NULL, &rsp), GW_OK);
    assert_int_equal(rsp.ret, 0);
    assert_int_equal(rsp.n_object_ids, 1);
    assert_int_equal(rsp.session_id, 1);
    assert_true(rsp.has_obj);
    assert_int_equal(rsp.obj.rid, 1);
    assert_true(rsp.has_version);
    /* the last 306 wins: UDInt 1, raw bytes kept for the echo */
    static const uint8_t ver[] = {0x00, 0x04, 0x01};
    assert_int_equal(rsp.version.raw_len, 3);
    assert_memory_equal(rsp.version.raw, ver, 3);
    for (size_t cut = 0; cut < sizeof CREATE_RSP; cut++) {
        uint8_t *t = dup_n(CREATE_RSP, cut);
        (void)s7p_createobj_rsp_decode(t, cut, NULL, &rsp);
        free(t);
    }

    /* the client's request: object RID 211 class 287, attr 300, nested 255 */
    s7p_w_init(&w, buf, sizeof buf);
    s7p_createobj_req_encode_session(&w, &PY7);
    assert_true(s7p_w_ok(&w));
    static const uint8_t start[] = {0x00, 0x00, 0x01, 0x1d, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0xa1, 0x00, 0x00, 0x00, 0xd3, 0x82, 0x1f, 0x00, 0x00,
                                    0xa3, 0x82, 0x2c, 0x00, 0x12, 0x80, 0xc3, 0xc9, 0x01, 0xa1};
    assert_memory_equal(buf, start, sizeof start);
    s7p_createobj_req req;
    assert_int_equal(s7p_createobj_req_decode(buf, w.len, NULL, &req), GW_OK);
    assert_int_equal(req.request_id, 285);
    assert_int_equal(req.obj.rid, 211);
    assert_int_equal(req.obj.class_id, 287);
    s7p_pvalue pv;
    assert_int_equal(s7p_obj_attr(&req.obj, NULL, 300, &pv), GW_OK);
    assert_int_equal(pv.u, S7P_CLIENT_RID);
    size_t pos = 0;
    s7p_obj_item it;
    assert_int_equal(s7p_obj_next(&req.obj, NULL, &pos, &it), GW_OK);
    assert_false(it.is_obj);
    assert_int_equal(s7p_obj_next(&req.obj, NULL, &pos, &it), GW_OK);
    assert_true(it.is_obj);
    assert_int_equal(it.child.class_id, 255);
    assert_int_equal(s7p_obj_attr(&it.child, NULL, 233, &pv), GW_OK);
    char name[64];
    assert_int_equal(s7p_name_utf8(pv.data, pv.data_len, name, sizeof name), GW_OK);
    assert_string_equal(name, "SubscriptionContainer");
    assert_int_equal(s7p_obj_next(&req.obj, NULL, &pos, &it), GW_E_NOT_FOUND);
    /* the u32 0 after the object is tolerated missing; the rest is not */
    for (size_t cut = 0; cut < w.len - 4; cut++) {
        uint8_t *t = dup_n(buf, cut);
        assert_int_not_equal(s7p_createobj_req_decode(t, cut, NULL, &req), GW_OK);
        free(t);
    }

    /* A4 inside an object: clean error */
    static const uint8_t rel[] = {0xa1, 0, 0, 0, 1, 0, 0, 0, 0xa4, 0x00, 0xa2};
    s7p_r r;
    s7p_obj obj;
    s7p_r_init(&r, rel, sizeof rel);
    assert_int_equal(s7p_get_obj(&r, NULL, &obj), GW_E_UNSUPPORTED);
}

/* ------------------------------------------------------------ S5 session */

static void pdu_check(const uint8_t *pdu, size_t n, uint8_t opcode, uint16_t fn, uint16_t seq,
                      uint32_t session, uint8_t flags, const uint8_t **pl, size_t *pl_len)
{
    s7p_hdr h;
    assert_int_equal(s7p_hdr_decode(pdu, n, &h, pl, pl_len), GW_OK);
    assert_int_equal(h.opcode, opcode);
    assert_int_equal(h.function, fn);
    assert_int_equal(h.seq, seq);
    assert_int_equal(h.session_id, session);
    assert_int_equal(h.flags, flags);
    uint8_t buf[32];
    s7p_w w;
    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_hdr(&w, &h);
    assert_int_equal(w.len, n - *pl_len);
    assert_memory_equal(buf, pdu, w.len);
}

static void test_session_initssl(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x31, 0x00, 0x00, 0x05, 0xb3, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t rsp[] = {0x32, 0x00, 0x00, 0x05, 0xb3, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    const uint8_t *pl;
    size_t n;
    uint64_t ret = 1;
    pdu_check(req, sizeof req, 0x31, S7P_FN_INIT_SSL, 0, 0, 0x30, &pl, &n);
    assert_int_equal(s7p_initssl_req_decode(pl, n), GW_OK);
    pdu_check(rsp, sizeof rsp, 0x32, S7P_FN_INIT_SSL, 0, 0, 0x00, &pl, &n);
    assert_int_equal(s7p_initssl_rsp_decode(pl, n, &ret), GW_OK);
    assert_int_equal(ret, 0);
    uint8_t buf[16];
    s7p_w w;
    s7p_w_init(&w, buf, sizeof buf);
    s7p_initssl_rsp_encode(&w, 0);
    assert_int_equal(w.len, n);
    assert_memory_equal(buf, pl, n);
    /* CreateObject header S5.3 */
    static const uint8_t co[] = {0x31, 0x00, 0x00, 0x04, 0xca, 0x00, 0x00,
                                 0x00, 0x01, 0x00, 0x00, 0x01, 0x20, 0x36};
    pdu_check(co, sizeof co, 0x31, S7P_FN_CREATE_OBJECT, 1, 288, 0x36, &pl, &n);
    assert_int_equal(n, 0);
}

static void test_session_setup(void **state)
{
    (void)state;
    /* S5.4, in a 72 02 frame */
    static const uint8_t pdu[] = {0x31, 0x00, 0x00, 0x05, 0x42, 0x00, 0x00, 0x00, 0x02, 0x00,
                                  0x00, 0x00, 0x01, 0x34, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01,
                                  0x82, 0x32, 0x01, 0x00, 0x04, 0x01, 0x00, OQ_PY7,
                                  0x00, 0x00, 0x00, 0x00};
    const uint8_t *pl;
    size_t n;
    pdu_check(pdu, sizeof pdu, 0x31, S7P_FN_SET_MULTI, 2, 1, 0x34, &pl, &n);
    s7p_setmulti_req req;
    assert_int_equal(s7p_setmulti_req_decode(pl, n, NULL, &req), GW_OK);
    assert_int_equal(req.in_object_id, 1);
    assert_int_equal(req.item_count, 1);
    assert_true(req.tail.has_oq);
    assert_true(req.tail.oq_py7);
    assert_false(req.tail.has_integrity);
    s7p_setmulti_iter it = {0};
    s7p_setmulti_item item;
    assert_int_equal(s7p_setmulti_next(&req, NULL, &it, &item), GW_OK);
    assert_int_equal(item.attr_id, 306);
    assert_int_equal(item.item_number, 1);
    assert_int_equal(item.pv.type, S7P_T_UDINT);
    assert_int_equal(s7p_setmulti_next(&req, NULL, &it, &item), GW_E_NOT_FOUND);

    /* re-encode: the echo of the CreateObject response's raw 306 */
    s7p_createobj_rsp co;
    assert_int_equal(s7p_createobj_rsp_decode(CREATE_RSP, sizeof CREATE_RSP, NULL, &co), GW_OK);
    uint8_t buf[128];
    s7p_w w;
    s7p_w_init(&w, buf, sizeof buf);
    uint32_t attr = S7P_ID_SERVER_SESSION_VERSION;
    s7p_setmulti_req_begin_attrs(&w, co.session_id, &attr, 1);
    s7p_put_vlq_u32(&w, 1);
    s7p_put_bytes(&w, co.version.raw, co.version.raw_len);
    s7p_setmulti_req_end(&w, &PY7, NULL);
    assert_int_equal(w.len, n);
    assert_memory_equal(buf, pl, n);

    /* the frame, V2 */
    uint8_t frame[128];
    memcpy(frame + 4, pdu, sizeof pdu);
    size_t fl = s7p_frame_wrap(frame, sizeof frame, S7P_V2, sizeof pdu);
    assert_int_equal(fl, sizeof pdu + 8);
    s7p_frame f;
    assert_int_equal(s7p_frame_decode(frame, fl, &f), GW_OK);
    assert_true(f.last);
    assert_int_equal(f.vv, 2);

    /* response 00 00 00 */
    static const uint8_t rsp[] = {0x32, 0x00, 0x00, 0x05, 0x42, 0x00, 0x00, 0x00,
                                  0x02, 0x00, 0x00, 0x00, 0x00};
    pdu_check(rsp, sizeof rsp, 0x32, S7P_FN_SET_MULTI, 2, 0, 0, &pl, &n);
    s7p_setmulti_rsp sr;
    assert_int_equal(s7p_setmulti_rsp_decode(pl, n, &sr), GW_OK);
    assert_int_equal(sr.ret, 0);
    assert_int_equal(sr.errors_len, 0);
    s7p_w_init(&w, buf, sizeof buf);
    s7p_setmulti_rsp_begin(&w, 0);
    s7p_getmulti_rsp_end(&w, 0);
    assert_int_equal(w.len, 3);
    assert_memory_equal(buf, pl, 3);
}

static const uint8_t READ_REQ[] = {
    0x00, 0x00, 0x00, 0x00, 0x01, 0x06, 0x00, 0x88, 0xd0, 0xb8, 0x80, 0x01, 0x03, 0x93,
    0x76, 0x01, 0x04, OQ_PY7, 0x01, 0x00, 0x00, 0x00, 0x00};
static const uint8_t WRITE_REQ[] = {
    0x00, 0x00, 0x00, 0x00, 0x01, 0x06, 0x00, 0x88, 0xd0, 0xb8, 0x80, 0x02, 0x03, 0x93, 0x76,
    0x03, 0x02, 0x01, 0x00, 0x14, 0x02, 0xde, 0xad, 0x00, OQ_PY7, 0x01, 0x00, 0x00, 0x00, 0x00};

static void test_session_read(void **state)
{
    (void)state;
    s7p_getmulti_req req;
    assert_int_equal(s7p_getmulti_req_decode(READ_REQ, sizeof READ_REQ, &req), GW_OK);
    assert_int_equal(req.item_count, 1);
    assert_int_equal(req.field_count, 6);
    assert_true(req.tail.oq_py7);
    assert_true(req.tail.has_integrity);
    assert_int_equal(req.tail.integrity_id, 1);
    size_t pos = 0;
    s7p_addr a;
    assert_int_equal(s7p_addr_next(req.addrs, req.addrs_len, &pos, &a), GW_OK);
    assert_int_equal(a.area, 0x8A0E0001u);
    assert_int_equal(a.sub_area, 2550);
    uint16_t db;
    uint32_t start, len;
    assert_int_equal(s7p_addr_db_parse(&a, &db, &start, &len), GW_OK);
    assert_int_equal(db, 1);
    assert_int_equal(start, 0);
    assert_int_equal(len, 4);
    assert_int_equal(s7p_addr_next(req.addrs, req.addrs_len, &pos, &a), GW_E_NOT_FOUND);

    /* our encoder makes the same bytes */
    uint8_t buf[128];
    s7p_w w;
    s7p_addr mine;
    assert_int_equal(s7p_addr_db(&PY7, 1, 0, 4, &mine), GW_OK);
    s7p_tail tail = {.has_integrity = true, .integrity_id = 1};
    s7p_w_init(&w, buf, sizeof buf);
    s7p_getmulti_req_encode(&w, &PY7, &mine, 1, &tail);
    assert_int_equal(w.len, sizeof READ_REQ);
    assert_memory_equal(buf, READ_REQ, sizeof READ_REQ);
    for (size_t cut = 0; cut < sizeof READ_REQ; cut++) {
        uint8_t *t = dup_n(READ_REQ, cut);
        (void)s7p_getmulti_req_decode(t, cut, &req);
        free(t);
    }

    /* response: item 1 Blob 41bc0000 (23.5) */
    static const uint8_t rsp[] = {0x00, 0x01, 0x00, 0x14, 0x04, 0x41, 0xbc,
                                  0x00, 0x00, 0x00, 0x00, 0x00};
    s7p_getmulti_rsp gr;
    assert_int_equal(s7p_getmulti_rsp_decode(rsp, sizeof rsp, NULL, &gr), GW_OK);
    pos = 0;
    uint32_t item;
    s7p_pvalue pv;
    assert_int_equal(s7p_value_next(gr.values, gr.values_len, NULL, &pos, &item, &pv), GW_OK);
    assert_int_equal(item, 1);
    assert_int_equal(pv.type, S7P_T_BLOB);
    assert_int_equal(pv.data_len, 4);
    assert_int_equal(pv.data[1], 0xbc);
    assert_int_equal(gr.errors_len, 0);
    assert_true(gr.has_integrity);
    s7p_w_init(&w, buf, sizeof buf);
    s7p_getmulti_rsp_begin(&w, 0);
    s7p_put_vlq_u32(&w, 1);
    s7p_put_pv_blob(&w, &PY7, pv.data, pv.data_len);
    s7p_put_u8(&w, 0);
    s7p_getmulti_rsp_end(&w, 0);
    assert_int_equal(w.len, sizeof rsp);
    assert_memory_equal(buf, rsp, sizeof rsp);

    /* multi-read, item 2 a missing DB: `02 82 82 04` */
    static const uint8_t rsp2[] = {0x00, 0x01, 0x00, 0x14, 0x04, 0x41, 0xbc, 0x00, 0x00,
                                   0x00, 0x02, 0x82, 0x82, 0x04, 0x00, 0x00};
    assert_int_equal(s7p_getmulti_rsp_decode(rsp2, sizeof rsp2, NULL, &gr), GW_OK);
    pos = 0;
    uint64_t code;
    assert_int_equal(s7p_error_next(gr.errors, gr.errors_len, &pos, &item, &code), GW_OK);
    assert_int_equal(item, 2);
    assert_int_equal(code, S7P_ERR_NO_DB);
    assert_int_equal(s7p_error_next(gr.errors, gr.errors_len, &pos, &item, &code),
                     GW_E_NOT_FOUND);
    s7p_w_init(&w, buf, sizeof buf);
    s7p_getmulti_rsp_begin(&w, 0);
    s7p_put_vlq_u32(&w, 1);
    s7p_put_pv_blob(&w, &PY7, "\x41\xbc\x00\x00", 4);
    s7p_put_u8(&w, 0);
    s7p_put_item_error(&w, 2, S7P_ERR_NO_DB);
    s7p_getmulti_rsp_end(&w, 0);
    assert_int_equal(w.len, sizeof rsp2);
    assert_memory_equal(buf, rsp2, sizeof rsp2);
    for (size_t cut = 0; cut < sizeof rsp2; cut++) {
        uint8_t *t = dup_n(rsp2, cut);
        (void)s7p_getmulti_rsp_decode(t, cut, NULL, &gr);
        free(t);
    }
}

static void test_session_write(void **state)
{
    (void)state;
    s7p_setmulti_req req;
    assert_int_equal(s7p_setmulti_req_decode(WRITE_REQ, sizeof WRITE_REQ, NULL, &req), GW_OK);
    assert_int_equal(req.in_object_id, 0);
    assert_int_equal(req.item_count, 1);
    assert_int_equal(req.addr_count, 6);
    s7p_setmulti_iter it = {0};
    s7p_setmulti_item item;
    assert_int_equal(s7p_setmulti_next(&req, NULL, &it, &item), GW_OK);
    uint16_t db;
    uint32_t start, len;
    assert_int_equal(s7p_addr_db_parse(&item.addr, &db, &start, &len), GW_OK);
    assert_int_equal(db, 2);
    assert_int_equal(start, 2);
    assert_int_equal(len, 2);
    assert_int_equal(item.pv.type, S7P_T_BLOB);
    assert_memory_equal(item.pv.data, "\xde\xad", 2);
    assert_true(req.tail.has_integrity);

    uint8_t buf[128];
    s7p_w w;
    s7p_addr a;
    assert_int_equal(s7p_addr_db(NULL, 2, 2, 2, &a), GW_OK);
    s7p_w_init(&w, buf, sizeof buf);
    s7p_setmulti_req_begin_addrs(&w, &a, 1);
    s7p_put_vlq_u32(&w, 1);
    s7p_put_pv_blob(&w, NULL, "\xde\xad", 2);
    s7p_tail tail = {.has_integrity = true, .integrity_id = 1};
    s7p_setmulti_req_end(&w, NULL, &tail);
    assert_int_equal(w.len, sizeof WRITE_REQ);
    assert_memory_equal(buf, WRITE_REQ, sizeof WRITE_REQ);
    for (size_t cut = 0; cut < sizeof WRITE_REQ; cut++) {
        uint8_t *t = dup_n(WRITE_REQ, cut);
        if (s7p_setmulti_req_decode(t, cut, NULL, &req) == GW_OK) {
            s7p_setmulti_iter i2 = {0};
            while (s7p_setmulti_next(&req, NULL, &i2, &item) == GW_OK)
                ;
        }
        free(t);
    }
    /* write error list */
    static const uint8_t rsp[] = {0x00, 0x01, 0x82, 0x82, 0x04, 0x00, 0x00};
    s7p_setmulti_rsp sr;
    assert_int_equal(s7p_setmulti_rsp_decode(rsp, sizeof rsp, &sr), GW_OK);
    assert_int_equal(sr.errors_len, 4);
}

static void test_addr_forms(void **state)
{
    (void)state;
    s7p_addr a;
    uint16_t db;
    uint32_t start, len;
    assert_int_equal(s7p_addr_db(&REF, 7, 10, 20, &a), GW_OK);
    assert_int_equal(a.n_lids, 3);
    assert_int_equal(a.lids[0], 3);
    assert_int_equal(a.lids[1], 10);
    assert_int_equal(s7p_addr_db_parse(&a, &db, &start, &len), GW_OK);
    assert_int_equal(db, 7);
    assert_int_equal(start, 10);
    assert_int_equal(len, 20);
    assert_int_equal(s7p_addr_db(&PY7, 7, 10, 20, &a), GW_OK);
    assert_int_equal(a.lids[0], 11);
    assert_int_equal(s7p_addr_db_parse(&a, &db, &start, &len), GW_OK);
    assert_int_equal(start, 10);
    a.n_lids = 1;   /* py7 emulator: LID2 missing = size 1 */
    assert_int_equal(s7p_addr_db_parse(&a, &db, &start, &len), GW_OK);
    assert_int_equal(len, 1);
    a.area = 82;
    assert_int_equal(s7p_addr_db_parse(&a, &db, &start, &len), GW_E_NOT_FOUND);
    /* too many LIDs */
    static const uint8_t many[] = {0x00, 0x52, 0x20, 0x9d, 0x18};
    s7p_r r;
    s7p_r_init(&r, many, sizeof many);
    assert_int_equal(s7p_get_addr(&r, &a), GW_E_RANGE);
}

static void test_oq_forms(void **state)
{
    (void)state;
    static const uint8_t py7[] = {OQ_PY7};
    static const uint8_t ref[] = {OQ_REF};
    uint8_t buf[64];
    s7p_w w;
    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_oq(&w, &PY7);
    assert_int_equal(w.len, sizeof py7);
    assert_memory_equal(buf, py7, sizeof py7);
    s7p_w_init(&w, buf, sizeof buf);
    s7p_put_oq(&w, &REF);
    assert_int_equal(w.len, sizeof ref);
    assert_memory_equal(buf, ref, sizeof ref);
    /* tails: every form told apart */
    static const struct {
        const s7p_opts *o;
        bool integ;
        uint32_t id;
    } t[] = {{&PY7, false, 0}, {&PY7, true, 1}, {&REF, false, 0}, {&REF, true, 0},
             {&REF, true, 300}, {&PY7, true, 0}};
    for (size_t k = 0; k < N(t); k++) {
        s7p_tail in = {.has_integrity = t[k].integ, .integrity_id = t[k].id}, out;
        s7p_w_init(&w, buf, sizeof buf);
        s7p_put_tail(&w, t[k].o, &in);
        s7p_r r;
        s7p_r_init(&r, buf, w.len);
        assert_int_equal(s7p_get_tail(&r, 4, &out), GW_OK);
        assert_true(out.has_oq);
        assert_int_equal(out.oq_py7, !t[k].o->oq_reference);
        assert_int_equal(out.has_integrity, t[k].integ);
        assert_int_equal(out.integrity_id, t[k].id);
    }
}

static void test_explore(void **state)
{
    (void)state;
    static const char *const vars[] = {"temperature", "pressure"};
    for (int form = 0; form < 2; form++) {
        const s7p_opts *o = form ? &REF : &PY7;
        uint8_t buf[512];
        s7p_w w;
        s7p_w_init(&w, buf, sizeof buf);
        s7p_explore_rsp_begin(&w, o, 0, 3);
        s7p_explore_put_db(&w, o, 1, 1024, vars, 2);
        s7p_explore_put_db(&w, o, 2, 16, NULL, 0);
        s7p_explore_rsp_end(&w);
        assert_true(s7p_w_ok(&w));
        if (!form) {
            /* S4: RID 0x8A0E0001, class 2574, then 233 "DB1" in UTF-16BE */
            static const uint8_t head[] = {0x00, 0xa1, 0x8a, 0x0e, 0x00, 0x01, 0x94, 0x0e,
                                           0x00, 0x00, 0xa3, 0x81, 0x69, 0x00, 0x15, 0x06,
                                           0x00, 0x44, 0x00, 0x42, 0x00, 0x31};
            assert_memory_equal(buf, head, sizeof head);
        }
        s7p_explore_rsp rsp;
        assert_int_equal(s7p_explore_rsp_decode(buf, w.len, o, &rsp), GW_OK);
        assert_int_equal(rsp.explore_id, form ? 3 : 0);
        size_t pos = 0;
        s7p_obj obj;
        s7p_explore_db db;
        assert_int_equal(s7p_explore_next(&rsp, o, &pos, &obj), GW_OK);
        assert_int_equal(s7p_explore_db_info(&obj, o, &db), GW_OK);
        assert_true(db.is_db);
        assert_int_equal(db.number, 1);
        assert_int_equal(db.size, 1024);
        assert_string_equal(db.name, "DB1");
        size_t vp = 0;
        s7p_obj_item it;
        int n_vars = 0;
        while (s7p_obj_next(&obj, o, &vp, &it) == GW_OK) {
            if (!it.is_obj)
                continue;
            s7p_pvalue pv;
            char name[32];
            assert_int_equal(s7p_obj_attr(&it.child, o, 233, &pv), GW_OK);
            assert_int_equal(s7p_name_utf8(pv.data, pv.data_len, name, sizeof name), GW_OK);
            assert_string_equal(name, vars[n_vars++]);
        }
        assert_int_equal(n_vars, 2);
        assert_int_equal(s7p_explore_next(&rsp, o, &pos, &obj), GW_OK);
        assert_int_equal(s7p_explore_db_info(&obj, o, &db), GW_OK);
        assert_int_equal(db.number, 2);
        assert_int_equal(s7p_explore_next(&rsp, o, &pos, &obj), GW_E_NOT_FOUND);
        for (size_t cut = 0; cut < w.len; cut++) {
            uint8_t *t = dup_n(buf, cut);
            (void)s7p_explore_rsp_decode(t, cut, o, &rsp);
            free(t);
        }
    }
    /* request: ExploreId 3 with attrs 233/2521 */
    uint8_t buf[64];
    s7p_w w;
    uint32_t attrs[] = {233, 2521};
    s7p_w_init(&w, buf, sizeof buf);
    s7p_explore_req_encode(&w, 3, 1, 1, 0, attrs, 2, NULL);
    s7p_explore_req er;
    assert_int_equal(s7p_explore_req_decode(buf, w.len, &er), GW_OK);
    assert_int_equal(er.explore_id, 3);
    assert_int_equal(er.n_attrs, 2);
    assert_false(er.has_integrity);
    assert_int_equal(s7p_explore_req_decode(NULL, 0, &er), GW_OK);
    assert_true(er.empty);
}

static void test_delete_error(void **state)
{
    (void)state;
    /* S5.8 */
    static const uint8_t pdu[] = {0x31, 0x00, 0x00, 0x04, 0xd4, 0x00, 0x00, 0x00, 0x09,
                                  0x00, 0x00, 0x00, 0x01, 0x36, 0x00, 0x00, 0x00, 0x00};
    const uint8_t *pl;
    size_t n;
    pdu_check(pdu, sizeof pdu, 0x31, S7P_FN_DELETE_OBJECT, 9, 1, 0x36, &pl, &n);
    s7p_deleteobj_req d;
    assert_int_equal(s7p_deleteobj_req_decode(pl, n, &d), GW_OK);
    assert_false(d.long_form);
    uint8_t buf[64];
    s7p_w w;
    s7p_w_init(&w, buf, sizeof buf);
    s7p_deleteobj_req_encode(&w, &PY7, 1, NULL);
    assert_int_equal(w.len, n);
    assert_memory_equal(buf, pl, n);
    s7p_w_init(&w, buf, sizeof buf);
    s7p_deleteobj_req_encode(&w, &REF, 1, NULL);
    assert_int_equal(s7p_deleteobj_req_decode(buf, w.len, &d), GW_OK);
    assert_true(d.long_form);
    assert_int_equal(d.object_id, 1);
    assert_true(d.tail.has_oq);
    assert_false(d.tail.oq_py7);
    uint64_t ret = 9;
    static const uint8_t zero[] = {0x00};
    assert_int_equal(s7p_deleteobj_rsp_decode(zero, 1, &ret), GW_OK);
    assert_int_equal(ret, 0);
    /* Error answer */
    static const uint8_t err[] = {0x89, 0x31, 0x00, 0x00, 0x00, 0x00};
    s7p_w_init(&w, buf, sizeof buf);
    s7p_error_rsp_encode(&w);
    assert_memory_equal(buf, err, sizeof err);
    uint32_t code;
    assert_int_equal(s7p_error_rsp_decode(err, sizeof err, &code), GW_OK);
    assert_int_equal(code, 1201);
    /* ReturnValue with an error object */
    uint8_t eobj[10];
    assert_int_equal(s7p_vlq_enc_u64(eobj, S7P_RET_ERROR_OBJECT | 0x13), 9);
    eobj[9] = 0x55;   /* the error object, not modelled */
    s7p_getmulti_rsp gr;
    assert_int_equal(s7p_getmulti_rsp_decode(eobj, sizeof eobj, NULL, &gr), GW_OK);
    assert_true(gr.ret_error_object);
}

/* ------------------------------------------------------------ frames */

static void test_frames(void **state)
{
    (void)state;
    uint8_t pdu[300];
    for (size_t k = 0; k < sizeof pdu; k++)
        pdu[k] = (uint8_t)(k * 7);
    static const size_t maxes[] = {9, 10, 16, 64, 307, 308, 1024};
    static const size_t lens[] = {0, 1, 14, 299, 300};
    for (size_t m = 0; m < N(maxes); m++) {
        for (size_t l = 0; l < N(lens); l++) {
            s7p_frag f;
            uint8_t out[1100], rb[400];
            size_t n, frames = 0;
            s7p_reasm ra;
            s7p_frame fr;
            bool done = false;
            s7p_reasm_init(&ra, rb, sizeof rb);
            s7p_frag_init(&f, S7P_V1, pdu, lens[l], maxes[m]);
            while (s7p_frag_next(&f, out, sizeof out, &n) == GW_OK) {
                assert_true(n <= maxes[m]);
                assert_false(done);
                uint8_t *c = dup_n(out, n);
                assert_int_equal(s7p_reasm_feed(&ra, c, n, &fr, &done), GW_OK);
                free(c);
                frames++;
            }
            assert_true(done);
            assert_int_equal(fr.data_len, lens[l]);
            assert_memory_equal(fr.data, pdu, lens[l]);
            assert_true(frames >= 1);
        }
    }
    /* errors: bad trailer, version change, overflow, keep-alive passes through */
    uint8_t fbuf[64], rb[16];
    s7p_reasm ra;
    s7p_frame fr;
    bool done;
    s7p_reasm_init(&ra, rb, sizeof rb);
    memcpy(fbuf + 4, "abc", 3);
    size_t n = s7p_frame_wrap(fbuf, sizeof fbuf, S7P_V1, 3);
    fbuf[n - 1] = 1;
    assert_int_equal(s7p_reasm_feed(&ra, fbuf, n, &fr, &done), GW_E_PROTOCOL);
    static const uint8_t frag1[] = {0x72, 0x01, 0x00, 0x02, 'a', 'b'};
    static const uint8_t frag2[] = {0x72, 0x02, 0x00, 0x01, 'c', 0x72, 0x02, 0x00, 0x00};
    static const uint8_t ka[] = {0x72, 0xff, 0x05, 0x00};
    assert_int_equal(s7p_reasm_feed(&ra, frag1, sizeof frag1, &fr, &done), GW_OK);
    assert_false(done);
    assert_int_equal(s7p_reasm_feed(&ra, ka, sizeof ka, &fr, &done), GW_OK);
    assert_true(done);
    assert_int_equal(fr.kind, S7P_FRAME_KEEPALIVE);
    assert_int_equal(s7p_reasm_feed(&ra, frag2, sizeof frag2, &fr, &done), GW_E_PROTOCOL);
    uint8_t big[40] = {0x72, 0x01, 0x00, 0x20};
    assert_int_equal(s7p_reasm_feed(&ra, big, 36, &fr, &done), GW_E_RANGE);
    static const uint8_t ev[] = {0x72, 0xfe, 0x00, 0x00, 0x01};
    assert_int_equal(s7p_frame_decode(ev, sizeof ev, &fr), GW_OK);
    assert_int_equal(fr.kind, S7P_FRAME_SYSEVENT);
    static const uint8_t bad[] = {0x71, 0x01, 0x00, 0x00};
    assert_int_equal(s7p_frame_decode(bad, sizeof bad, &fr), GW_E_PROTOCOL);
    s7p_frag f;
    size_t fn;
    s7p_frag_init(&f, 1, big, 3, 8);
    assert_int_equal(s7p_frag_next(&f, fbuf, sizeof fbuf, &fn), GW_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vlq_u32_vectors),  cmocka_unit_test(test_vlq_i32_vectors),
        cmocka_unit_test(test_vlq_64_vectors),   cmocka_unit_test(test_vlq_lenient),
        cmocka_unit_test(test_vlq_boundaries),   cmocka_unit_test(test_pvalue_scalars),
        cmocka_unit_test(test_pvalue_blob_wstring), cmocka_unit_test(test_pvalue_arrays),
        cmocka_unit_test(test_pvalue_structs),   cmocka_unit_test(test_createobj),
        cmocka_unit_test(test_session_initssl),  cmocka_unit_test(test_session_setup),
        cmocka_unit_test(test_session_read),     cmocka_unit_test(test_session_write),
        cmocka_unit_test(test_addr_forms),       cmocka_unit_test(test_oq_forms),
        cmocka_unit_test(test_explore),          cmocka_unit_test(test_delete_error),
        cmocka_unit_test(test_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
