/*
 * test_codec.c - decoding and encoding of every tag type (docs/mapping.md,
 * "Functions", "Byte order and word order", "Bits", strings, scaling, S7).
 *
 * Expected registers come from the spec, not from the code:
 *   - the worked examples of docs/mapping.md are tables below, verbatim;
 *   - every other case uses ref_regs(), the three decode steps of the spec
 *     run backwards: split the number big-endian into registers, reverse the
 *     list if wordorder is "<", swap the bytes of each register if byteorder
 *     is "<".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/core.h"
#include "tags/tags.h"

/* (byteorder, wordorder) */
static const char ORDERS[4][2] = {{'>', '>'}, {'<', '>'}, {'>', '<'}, {'<', '<'}};

/* ------------------------------------------------------------ helpers */

static gw_tagmap *load_text(const char *text)
{
    gw_diag d;
    gw_diag_init(&d, "codec.json");
    gw_tagmap *m = NULL;
    gw_err rc = gw_tagmap_load_buf("codec.json", text, strlen(text), &m, &d);
    if (rc != GW_OK) {
        print_error("map did not load (%s):\n%s\n", gw_err_name(rc), text);
        gw_diag_print(&d, stderr);
    }
    assert_int_equal(rc, GW_OK);
    assert_non_null(m);
    return m;
}

static gw_tagmap *load_mb(char bo, char wo, const char *mapping)
{
    static char buf[16384];
    int n = snprintf(buf, sizeof(buf),
                     "{\"endianness\": {\"byteorder\": \"%c\", \"wordorder\": \"%c\"},\n"
                     " \"mapping\": {\n%s\n}}\n",
                     bo, wo, mapping);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    gw_tagmap *m = load_text(buf);
    assert_int_equal(gw_tagmap_byteorder(m), bo);
    assert_int_equal(gw_tagmap_wordorder(m), wo);
    return m;
}

static const gw_tag *tag(const gw_tagmap *m, const char *param)
{
    const gw_tag *t = gw_tagmap_find(m, param);
    if (!t)
        print_error("no tag \"%s\"\n", param);
    assert_non_null(t);
    assert_string_equal(t->parameter, param);
    return t;
}

/* The spec's encoding of an nregs*16-bit number (see the file comment). */
static void ref_regs(uint64_t v, unsigned nregs, char bo, char wo, uint16_t *out)
{
    for (unsigned i = 0; i < nregs; i++)
        out[i] = (uint16_t)(v >> (16 * (nregs - 1 - i)));
    if (wo == '<')
        for (unsigned i = 0; i < nregs / 2; i++) {
            uint16_t x = out[i];
            out[i] = out[nregs - 1 - i];
            out[nregs - 1 - i] = x;
        }
    if (bo == '<')
        for (unsigned i = 0; i < nregs; i++)
            out[i] = (uint16_t)((out[i] << 8) | (out[i] >> 8));
}

static bool same_double(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return memcmp(&a, &b, sizeof(a)) == 0;
}

static double f32_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof(f));
    return (double)f;
}

static gw_value decode(const gw_tagmap *m, const gw_tag *t, const uint16_t *regs)
{
    gw_value v;
    memset(&v, 0, sizeof(v));
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_tag_decode_regs(m, t, regs, t->nregs, &v, &err);
    if (rc != GW_OK)
        print_error("decode of %s failed: %s\n", t->parameter, err.msg);
    assert_int_equal(rc, GW_OK);
    return v;
}

static json_t *jparse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!j)
        print_error("bad JSON in test: %s\n", text);
    assert_non_null(j);
    return j;
}

static gw_err prep(const gw_tagmap *m, const gw_tag *t, const char *jtext, gw_write *w,
                   gw_error *err)
{
    json_t *j = jparse(jtext);
    memset(w, 0, sizeof(*w));
    gw_error_clear(err);
    gw_err rc = gw_tag_prepare_write(m, t, j, w, err);
    json_decref(j);
    return rc;
}

static void prep_ok(const gw_tagmap *m, const gw_tag *t, const char *jtext, gw_write *w)
{
    gw_error err;
    gw_err rc = prep(m, t, jtext, w, &err);
    if (rc != GW_OK)
        print_error("write %s to %s failed (%s): %s\n", jtext, t->parameter, gw_err_name(rc),
                    err.msg);
    assert_int_equal(rc, GW_OK);
    assert_ptr_equal(w->tag, t);
}

static void prep_fails(const gw_tagmap *m, const gw_tag *t, const char *jtext)
{
    gw_write w;
    gw_error err;
    gw_err rc = prep(m, t, jtext, &w, &err);
    if (rc == GW_OK)
        print_error("write %s to %s was accepted\n", jtext, t->parameter);
    assert_int_not_equal(rc, GW_OK);
    assert_true(err.msg[0] != '\0');
}

/* ------------------------------------------------------------ the test map */

static const char MB_MAPPING[] =
    "\"40000\": {\"parameter\": \"i16\", \"function\": \"decode_16bit_int\"},\n"
    "\"40001\": {\"parameter\": \"u16\", \"function\": \"decode_16bit_uint\"},\n"
    "\"40002\": {\"parameter\": \"f16\", \"function\": \"decode_16bit_float\"},\n"
    "\"40003/40004\": {\"parameter\": \"i32\", \"function\": \"decode_32bit_int\"},\n"
    "\"40005\": {\"parameter\": \"u32\", \"function\": \"decode_32bit_uint\"},\n"
    "\"40007/40008\": {\"parameter\": \"f32\", \"function\": \"decode_32bit_float\"},\n"
    "\"40010/40013\": {\"parameter\": \"i64\", \"function\": \"decode_64bit_int\"},\n"
    "\"40014\": {\"parameter\": \"u64\", \"function\": \"decode_64bit_uint\"},\n"
    "\"40018/40021\": {\"parameter\": \"f64\", \"function\": \"decode_64bit_float\"},\n"
    "\"40022/1\": {\"parameter\": \"i8h\", \"function\": \"decode_8bit_int\"},\n"
    "\"40022/2\": {\"parameter\": \"u8l\", \"function\": \"decode_8bit_uint\"},\n"
    "\"40023/1\": {\"parameter\": \"u8h\", \"function\": \"decode_8bit_uint\"},\n"
    "\"40023/2\": {\"parameter\": \"i8l\", \"function\": \"decode_8bit_int\"},\n"
    "\"40024/1\": {\"parameter\": \"bitsh\", \"function\": \"decode_bits\"},\n"
    "\"40024/2\": {\"parameter\": \"bitsl\", \"function\": \"decode_bits\"},\n"
    "\"40025\": {\"parameter\": \"bits16\", \"function\": \"decode_bits\"},\n"
    "\"40026/40028\": {\"parameter\": \"str\", \"function\": \"decode_string\"},\n"
    "\"40029\": {\"parameter\": \"str1\", \"function\": \"decode_string\"},\n"
    "\"40030\": {\"parameter\": \"bitsmap\", \"function\": \"decode_bits\", \"map\": {\n"
    "   \"0b0000000100000000\": \"h0\", \"0b1000000000000000\": \"h7\",\n"
    "   \"0b0000000000000001\": \"l0\", \"0b0000000000000100\": \"l2\"}},\n"
    "\"00005\": {\"parameter\": \"coil\"},\n"
    "\"10005\": {\"parameter\": \"di\"},\n"
    "\"30000\": {\"parameter\": \"in16\", \"function\": \"decode_16bit_uint\"}\n";

static void test_map_shapes(void **state)
{
    (void)state;
    gw_tagmap *m = load_mb('<', '>', MB_MAPPING);
    assert_int_equal(gw_tagmap_driver(m), GW_DRIVER_MODBUS);
    assert_int_equal(gw_tagmap_count(m), 22);
    struct {
        const char *p;
        gw_type type;
        uint16_t reg, nregs;
        gw_half half;
    } want[] = {
        {"i16", GW_T_I16, 0, 1, GW_HALF_NONE},   {"u16", GW_T_U16, 1, 1, GW_HALF_NONE},
        {"f16", GW_T_F16, 2, 1, GW_HALF_NONE},   {"i32", GW_T_I32, 3, 2, GW_HALF_NONE},
        {"u32", GW_T_U32, 5, 2, GW_HALF_NONE},   {"f32", GW_T_F32, 7, 2, GW_HALF_NONE},
        {"i64", GW_T_I64, 10, 4, GW_HALF_NONE},  {"u64", GW_T_U64, 14, 4, GW_HALF_NONE},
        {"f64", GW_T_F64, 18, 4, GW_HALF_NONE},  {"i8h", GW_T_I8, 22, 1, GW_HALF_HIGH},
        {"u8l", GW_T_U8, 22, 1, GW_HALF_LOW},    {"bitsh", GW_T_BITS, 24, 1, GW_HALF_HIGH},
        {"bits16", GW_T_BITS, 25, 1, GW_HALF_NONE}, {"str", GW_T_STRING, 26, 3, GW_HALF_NONE},
        {"str1", GW_T_STRING, 29, 1, GW_HALF_NONE},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const gw_tag *t = tag(m, want[i].p);
        assert_int_equal(t->type, want[i].type);
        assert_int_equal(t->addr.driver, GW_DRIVER_MODBUS);
        assert_int_equal(t->addr.mb_class, GW_MB_HOLDING);
        assert_int_equal(t->addr.reg, want[i].reg);
        assert_int_equal(t->addr.half, want[i].half);
        if (t->nregs != want[i].nregs)
            print_error("%s covers %u registers, expected %u\n", want[i].p, t->nregs,
                        want[i].nregs);
        assert_int_equal(t->nregs, want[i].nregs);
        assert_int_equal(t->access, GW_ACCESS_RW);
    }
    assert_int_equal(tag(m, "str")->strlen_max, 6);
    assert_int_equal(tag(m, "str1")->strlen_max, 2);
    assert_int_equal(tag(m, "coil")->type, GW_T_BOOL);
    assert_int_equal(tag(m, "coil")->nregs, 0);
    assert_int_equal(tag(m, "coil")->addr.mb_class, GW_MB_COIL);
    assert_int_equal(tag(m, "di")->type, GW_T_BOOL);
    assert_int_equal(tag(m, "di")->access, GW_ACCESS_R);
    assert_int_equal(tag(m, "in16")->access, GW_ACCESS_R);
    assert_null(gw_tagmap_find(m, "nope"));
    gw_tagmap_free(m);
}

/* ------------------------------------------------------------ worked examples */

static void test_worked_example_16bit(void **state)
{
    (void)state;
    /* register 0x1234 as decode_16bit_uint: 0x3412 = 13330 under byteorder "<",
     * 0x1234 = 4660 under ">"; wordorder does not matter for one register */
    for (size_t k = 0; k < 4; k++) {
        gw_tagmap *m = load_mb(ORDERS[k][0], ORDERS[k][1], MB_MAPPING);
        uint16_t r = 0x1234;
        gw_value v = decode(m, tag(m, "u16"), &r);
        assert_int_equal(v.kind, GW_V_INT);
        assert_int_equal(v.v.i, ORDERS[k][0] == '<' ? 13330 : 4660);
        gw_tagmap_free(m);
    }
}

static void test_worked_example_32bit(void **state)
{
    (void)state;
    /* docs/mapping.md: 0x12345678 in registers 1 and 2 */
    const struct {
        char wo, bo;
        uint16_t r1, r2;
    } table[] = {
        {'>', '>', 0x1234, 0x5678},
        {'>', '<', 0x3412, 0x7856},
        {'<', '>', 0x5678, 0x1234},
        {'<', '<', 0x7856, 0x3412},
    };
    for (size_t k = 0; k < 4; k++) {
        gw_tagmap *m = load_mb(table[k].bo, table[k].wo, MB_MAPPING);
        uint16_t regs[2] = {table[k].r1, table[k].r2};
        gw_value v = decode(m, tag(m, "u32"), regs);
        assert_int_equal(v.kind, GW_V_INT);
        assert_int_equal(v.v.i, 0x12345678);
        v = decode(m, tag(m, "i32"), regs);
        assert_int_equal(v.v.i, 305419896);
        v = decode(m, tag(m, "f32"), regs);
        assert_int_equal(v.kind, GW_V_DOUBLE);
        assert_true(same_double(v.v.d, f32_bits(0x12345678u)));
        /* and the write of 0x12345678 gives the same two registers */
        gw_write w;
        prep_ok(m, tag(m, "u32"), "305419896", &w);
        assert_int_equal(w.n, 2);
        assert_int_equal(w.regs[0], table[k].r1);
        assert_int_equal(w.regs[1], table[k].r2);
        gw_tagmap_free(m);
    }
}

static void test_worked_example_64bit(void **state)
{
    (void)state;
    /* for wordorder "<" the whole list of four is reversed */
    const struct {
        char bo, wo;
        uint16_t r[4];
    } table[] = {
        {'>', '>', {0x0102, 0x0304, 0x0506, 0x0708}},
        {'<', '>', {0x0201, 0x0403, 0x0605, 0x0807}},
        {'>', '<', {0x0708, 0x0506, 0x0304, 0x0102}},
        {'<', '<', {0x0807, 0x0605, 0x0403, 0x0201}},
    };
    for (size_t k = 0; k < 4; k++) {
        gw_tagmap *m = load_mb(table[k].bo, table[k].wo, MB_MAPPING);
        gw_value v = decode(m, tag(m, "i64"), table[k].r);
        assert_int_equal(v.kind, GW_V_INT);
        assert_int_equal(v.v.i, 0x0102030405060708LL);
        v = decode(m, tag(m, "u64"), table[k].r);
        assert_int_equal(v.kind, GW_V_INT);
        assert_int_equal(v.v.i, 0x0102030405060708LL);
        gw_write w;
        prep_ok(m, tag(m, "i64"), "72623859790382856", &w); /* 0x0102030405060708 */
        assert_int_equal(w.n, 4);
        for (int i = 0; i < 4; i++)
            assert_int_equal(w.regs[i], table[k].r[i]);
        gw_tagmap_free(m);
    }
}

/* ------------------------------------------------------------ decode tables */

typedef struct {
    const char *param;
    uint64_t raw;
    gw_value_kind kind;
    int64_t i;   /* GW_V_INT */
    uint64_t u;  /* GW_V_UINT */
    double d;    /* GW_V_DOUBLE (NAN: any NaN) */
} dec_case;

static const dec_case DEC[] = {
    {"i16", 0x8000, GW_V_INT, INT16_MIN, 0, 0}, {"i16", 0x7FFF, GW_V_INT, INT16_MAX, 0, 0},
    {"i16", 0xFFFF, GW_V_INT, -1, 0, 0}, {"i16", 0x1234, GW_V_INT, 4660, 0, 0},
    {"u16", 0xFFFF, GW_V_INT, UINT16_MAX, 0, 0}, {"u16", 0x8001, GW_V_INT, 32769, 0, 0},
    {"u16", 0x0000, GW_V_INT, 0, 0, 0}, {"f16", 0x3C00, GW_V_DOUBLE, 0, 0, 1.0},
    {"f16", 0xC000, GW_V_DOUBLE, 0, 0, -2.0}, {"f16", 0x7BFF, GW_V_DOUBLE, 0, 0, 65504.0},
    {"f16", 0x0001, GW_V_DOUBLE, 0, 0, 0x1p-24}, /* 5.960464477539063e-08 */
    {"f16", 0x8000, GW_V_DOUBLE, 0, 0, -0.0}, {"f16", 0x7C00, GW_V_DOUBLE, 0, 0, INFINITY},
    {"f16", 0xFC00, GW_V_DOUBLE, 0, 0, -INFINITY}, {"f16", 0x7E00, GW_V_DOUBLE, 0, 0, NAN},
    {"i32", 0x80000000u, GW_V_INT, INT32_MIN, 0, 0},
    {"i32", 0x7FFFFFFFu, GW_V_INT, INT32_MAX, 0, 0}, {"i32", 0xFFFFFFFEu, GW_V_INT, -2, 0, 0},
    {"u32", 0xFFFFFFFFu, GW_V_INT, UINT32_MAX, 0, 0},
    {"u32", 0x80000000u, GW_V_INT, 2147483648LL, 0, 0},
    {"f32", 0x3F800000u, GW_V_DOUBLE, 0, 0, 1.0}, {"f32", 0x42C50000u, GW_V_DOUBLE, 0, 0, 98.5},
    {"f32", 0xBF800000u, GW_V_DOUBLE, 0, 0, -1.0}, {"f32", 0x80000000u, GW_V_DOUBLE, 0, 0, -0.0},
    {"f32", 0x00000001u, GW_V_DOUBLE, 0, 0, 0x1p-149},
    {"f32", 0x7F7FFFFFu, GW_V_DOUBLE, 0, 0, 0x1.fffffep+127},
    {"f32", 0x7F800000u, GW_V_DOUBLE, 0, 0, INFINITY},
    {"f32", 0xFF800000u, GW_V_DOUBLE, 0, 0, -INFINITY},
    {"f32", 0x7FC00000u, GW_V_DOUBLE, 0, 0, NAN},
    {"f32", 0x3DCCCCCDu, GW_V_DOUBLE, 0, 0, 0x1.99999ap-4}, /* (float)0.1 */
    {"i64", 0x8000000000000000ull, GW_V_INT, INT64_MIN, 0, 0},
    {"i64", 0x7FFFFFFFFFFFFFFFull, GW_V_INT, INT64_MAX, 0, 0},
    {"i64", 0xFFFFFFFFFFFFFFFFull, GW_V_INT, -1, 0, 0},
    {"u64", 0xFFFFFFFFFFFFFFFFull, GW_V_UINT, 0, UINT64_MAX, 0},
    {"u64", 0x8000000000000000ull, GW_V_UINT, 0, 0x8000000000000000ull, 0},
    {"u64", 0x7FFFFFFFFFFFFFFFull, GW_V_INT, INT64_MAX, 0, 0},
    {"u64", 0x0000000000000000ull, GW_V_INT, 0, 0, 0},
    {"f64", 0x3FF0000000000000ull, GW_V_DOUBLE, 0, 0, 1.0},
    {"f64", 0x400921FB54442D18ull, GW_V_DOUBLE, 0, 0, 3.141592653589793},
    {"f64", 0x0000000000000001ull, GW_V_DOUBLE, 0, 0, 0x1p-1074},
    {"f64", 0x7FEFFFFFFFFFFFFFull, GW_V_DOUBLE, 0, 0, DBL_MAX},
    {"f64", 0x8000000000000000ull, GW_V_DOUBLE, 0, 0, -0.0},
    {"f64", 0x7FF0000000000000ull, GW_V_DOUBLE, 0, 0, INFINITY},
    {"f64", 0xFFF0000000000000ull, GW_V_DOUBLE, 0, 0, -INFINITY},
    {"f64", 0x7FF8000000000000ull, GW_V_DOUBLE, 0, 0, NAN},
};

static bool value_matches(const gw_value *v, const dec_case *c)
{
    if (v->kind != c->kind)
        return false;
    switch (c->kind) {
    case GW_V_INT:
        return v->v.i == c->i;
    case GW_V_UINT:
        return v->v.u == c->u;
    case GW_V_DOUBLE:
        return same_double(v->v.d, c->d);
    default:
        return false;
    }
}

static void test_decode_all_types_all_orders(void **state)
{
    (void)state;
    size_t failed = 0;
    for (size_t k = 0; k < 4; k++) {
        char bo = ORDERS[k][0], wo = ORDERS[k][1];
        gw_tagmap *m = load_mb(bo, wo, MB_MAPPING);
        for (size_t i = 0; i < sizeof(DEC) / sizeof(DEC[0]); i++) {
            const gw_tag *t = tag(m, DEC[i].param);
            uint16_t regs[4];
            ref_regs(DEC[i].raw, t->nregs, bo, wo, regs);
            gw_value v = decode(m, t, regs);
            if (!value_matches(&v, &DEC[i])) {
                print_error("bo %c wo %c %s raw 0x%llx: kind %d i %lld u %llu d %.17g\n", bo,
                            wo, DEC[i].param, (unsigned long long)DEC[i].raw, v.kind,
                            (long long)v.v.i, (unsigned long long)v.v.u, v.v.d);
                failed++;
            }
            gw_value_clear(&v);
        }
        gw_tagmap_free(m);
    }
    assert_int_equal(failed, 0);
}

static void test_decode_too_few_registers(void **state)
{
    (void)state;
    gw_tagmap *m = load_mb('<', '>', MB_MAPPING);
    uint16_t regs[4] = {1, 2, 3, 4};
    const char *params[] = {"i32", "f32", "i64", "f64", "str"};
    for (size_t i = 0; i < 5; i++) {
        const gw_tag *t = tag(m, params[i]);
        gw_value v;
        memset(&v, 0, sizeof(v));
        gw_error err;
        gw_error_clear(&err);
        assert_int_not_equal(gw_tag_decode_regs(m, t, regs, t->nregs - 1u, &v, &err), GW_OK);
        assert_true(err.msg[0] != '\0');
        gw_value_clear(&v);
    }
    gw_tagmap_free(m);
}

/* ------------------------------------------------------------ byte halves and bits */

static void test_decode_halves(void **state)
{
    (void)state;
    /* /1 is the high byte, /2 the low byte, whatever byteorder says */
    for (size_t k = 0; k < 4; k++) {
        gw_tagmap *m = load_mb(ORDERS[k][0], ORDERS[k][1], MB_MAPPING);
        const uint16_t r = 0x89AB, r2 = 0x7F80;
        gw_value v = decode(m, tag(m, "i8h"), &r);
        assert_int_equal(v.kind, GW_V_INT);
        assert_int_equal(v.v.i, -119); /* 0x89 */
        v = decode(m, tag(m, "u8l"), &r);
        assert_int_equal(v.v.i, 171); /* 0xAB */
        v = decode(m, tag(m, "u8h"), &r);
        assert_int_equal(v.v.i, 137); /* 0x89 */
        v = decode(m, tag(m, "i8l"), &r);
        assert_int_equal(v.v.i, -85); /* 0xAB */
        v = decode(m, tag(m, "i8h"), &r2);
        assert_int_equal(v.v.i, 127);
        v = decode(m, tag(m, "i8l"), &r2);
        assert_int_equal(v.v.i, -128);
        const uint16_t ff = 0xFFFF;
        v = decode(m, tag(m, "u8h"), &ff);
        assert_int_equal(v.v.i, 255);

        /* decode_bits on a byte: bit 0 is the least significant bit */
        v = decode(m, tag(m, "bitsh"), &r);
        assert_int_equal(v.kind, GW_V_BITS);
        assert_int_equal(v.v.bits.nbits, 8);
        assert_int_equal(v.v.bits.bits, 0x89); /* bits 0, 3 and 7 */
        v = decode(m, tag(m, "bitsl"), &r);
        assert_int_equal(v.kind, GW_V_BITS);
        assert_int_equal(v.v.bits.nbits, 8);
        assert_int_equal(v.v.bits.bits, 0xAB);
        gw_tagmap_free(m);
    }
}

/* The output list of a bit field, bit 0 first. */
static void assert_bool_list(const gw_tag *t, const gw_value *v, const int *want, size_t n)
{
    json_t *arr = json_array();
    assert_int_equal(gw_tag_records(t, v, arr), GW_OK);
    assert_int_equal(json_array_size(arr), 1);
    json_t *val = json_object_get(json_array_get(arr, 0), "value");
    assert_true(json_is_array(val));
    assert_int_equal(json_array_size(val), n);
    for (size_t i = 0; i < n; i++) {
        json_t *b = json_array_get(val, i);
        if (!json_is_boolean(b) || json_is_true(b) != (want[i] != 0))
            print_error("%s: list entry %zu wrong\n", t->parameter, i);
        assert_true(json_is_boolean(b));
        assert_int_equal(json_is_true(b), want[i] != 0);
    }
    json_decref(arr);
}

static void test_decode_bits_whole_register(void **state)
{
    (void)state;
    /* 0x89AB: byte/1 = 0x89 low..high, then byte/2 = 0xAB low..high (the
     * seed writer's list, docs/mapping.md "Bits") */
    static const int list[16] = {1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1};
    static const int list_h[8] = {1, 0, 0, 1, 0, 0, 0, 1};
    for (size_t k = 0; k < 4; k++) {
        gw_tagmap *m = load_mb(ORDERS[k][0], ORDERS[k][1], MB_MAPPING);
        const uint16_t r = 0x89AB;
        const gw_tag *t = tag(m, "bits16");
        gw_value v = decode(m, t, &r);
        assert_int_equal(v.kind, GW_V_BITS);
        assert_int_equal(v.v.bits.nbits, 16);
        assert_bool_list(t, &v, list, 16);
        t = tag(m, "bitsh");
        v = decode(m, t, &r);
        assert_bool_list(t, &v, list_h, 8);

        /* a 16-digit map key is a mask of the register value as drawn */
        t = tag(m, "bitsmap");
        v = decode(m, t, &r);
        json_t *arr = json_array();
        assert_int_equal(gw_tag_records(t, &v, arr), GW_OK);
        assert_int_equal(json_array_size(arr), 4);
        const struct {
            const char *alt;
            bool on;
        } want[] = {{"h0", true}, {"h7", true}, {"l0", true}, {"l2", false}};
        for (size_t w = 0; w < 4; w++) {
            bool found = false;
            for (size_t i = 0; i < json_array_size(arr); i++) {
                json_t *rec = json_array_get(arr, i);
                const char *alt = json_string_value(json_object_get(rec, "parameter_alt"));
                if (alt && strcmp(alt, want[w].alt) == 0) {
                    found = true;
                    assert_true(json_is_boolean(json_object_get(rec, "value")));
                    assert_int_equal(json_is_true(json_object_get(rec, "value")), want[w].on);
                }
            }
            assert_true(found);
        }
        json_decref(arr);
        gw_tagmap_free(m);
    }
}

static void test_decode_coil(void **state)
{
    (void)state;
    gw_tagmap *m = load_mb('<', '>', MB_MAPPING);
    gw_value v;
    gw_tag_decode_bit(tag(m, "coil"), true, &v);
    assert_int_equal(v.kind, GW_V_BOOL);
    assert_true(v.v.b);
    gw_tag_decode_bit(tag(m, "di"), false, &v);
    assert_int_equal(v.kind, GW_V_BOOL);
    assert_false(v.v.b);
    assert_float_equal(gw_value_as_double(&v), 0.0, 0.0);
    gw_tag_decode_bit(tag(m, "di"), true, &v);
    assert_float_equal(gw_value_as_double(&v), 1.0, 0.0);
    gw_tagmap_free(m);
}

/* ------------------------------------------------------------ strings */

static void test_decode_strings(void **state)
{
    (void)state;
    const struct {
        uint16_t r[3];
        const char *want;
    } cases[] = {
        {{0x4845, 0x4C4C, 0x4F00}, "HELLO"},                    /* odd length, NUL pad */
        {{0x4142, 0x4344, 0x4546}, "ABCDEF"},                   /* full length */
        {{0x4142, 0x4300, 0x0000}, "ABC"},                      /* trailing NULs dropped */
        {{0x0000, 0x0000, 0x0000}, ""},                         /* empty */
        {{0xC3A9, 0x0000, 0x0000}, "\xC3\xA9"},                 /* UTF-8 "é" */
        {{0xFF41, 0x0000, 0x0000}, "\xEF\xBF\xBD" "A"},         /* bad byte -> U+FFFD */
        {{0xC341, 0x0000, 0x0000}, "\xEF\xBF\xBD" "A"},         /* cut sequence -> U+FFFD */
        {{0x4142, 0x4344, 0x4500}, "ABCDE"},
    };
    /* strings ignore byteorder (and wordorder): wire order */
    for (size_t k = 0; k < 4; k++) {
        gw_tagmap *m = load_mb(ORDERS[k][0], ORDERS[k][1], MB_MAPPING);
        const gw_tag *t = tag(m, "str");
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            gw_value v = decode(m, t, cases[i].r);
            assert_int_equal(v.kind, GW_V_STRING);
            assert_non_null(v.v.str.s);
            if (strcmp(v.v.str.s, cases[i].want) != 0)
                print_error("bo %c wo %c case %zu: \"%s\"\n", ORDERS[k][0], ORDERS[k][1], i,
                            v.v.str.s);
            assert_string_equal(v.v.str.s, cases[i].want);
            assert_int_equal(v.v.str.len, strlen(cases[i].want));
            assert_true(isnan(gw_value_as_double(&v)));
            gw_value_clear(&v);
        }
        gw_tagmap_free(m);
    }
}

static void test_encode_strings(void **state)
{
    (void)state;
    const struct {
        const char *json;
        uint16_t r[3];
    } cases[] = {
        {"\"HELLO\"", {0x4845, 0x4C4C, 0x4F00}},
        {"\"ABCDEF\"", {0x4142, 0x4344, 0x4546}},
        {"\"\"", {0x0000, 0x0000, 0x0000}},
        {"\"A\"", {0x4100, 0x0000, 0x0000}},
        {"\"\\u00e9t\\u00e9\"", {0xC3A9, 0x74C3, 0xA900}}, /* 5 UTF-8 bytes */
        {"\"\\u00e9t\\u00e9t\"", {0xC3A9, 0x74C3, 0xA974}}, /* 6 UTF-8 bytes: full */
    };
    for (size_t k = 0; k < 4; k++) {
        gw_tagmap *m = load_mb(ORDERS[k][0], ORDERS[k][1], MB_MAPPING);
        const gw_tag *t = tag(m, "str");
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            gw_write w;
            prep_ok(m, t, cases[i].json, &w);
            assert_int_equal(w.n, 3);
            for (int r = 0; r < 3; r++) {
                assert_int_equal(w.regs[r], cases[i].r[r]);
                assert_int_equal(w.regmask[r], 0xFFFF);
            }
            /* decode(encode(x)) == x */
            gw_value v = decode(m, t, w.regs);
            json_t *j = jparse(cases[i].json);
            assert_string_equal(v.v.str.s, json_string_value(j));
            json_decref(j);
            gw_value_clear(&v);
        }
        prep_fails(m, t, "\"ABCDEFG\"");          /* 7 > 6 characters */
        prep_fails(m, t, "\"\\u00e9t\\u00e9tt\""); /* 7 UTF-8 bytes */
        prep_fails(m, t, "42");
        gw_write w;
        prep_ok(m, tag(m, "str1"), "\"OK\"", &w);
        assert_int_equal(w.n, 1);
        assert_int_equal(w.regs[0], 0x4F4B);
        prep_fails(m, tag(m, "str1"), "\"OK!\"");
        gw_tagmap_free(m);
    }
}

/* ------------------------------------------------------------ encode tables */

typedef struct {
    const char *param;
    const char *json;
    uint64_t raw;
    bool exact; /* decode(encode(x)) == x */
} enc_case;

static const enc_case ENC[] = {
    {"i16", "-32768", 0x8000, true}, {"i16", "-1", 0xFFFF, true},
    {"i16", "0", 0x0000, true}, {"i16", "4660", 0x1234, true},
    {"i16", "32767", 0x7FFF, true}, {"i16", "3.0", 0x0003, true},
    {"u16", "0", 0x0000, true}, {"u16", "13330", 0x3412, true},
    {"u16", "65535", 0xFFFF, true}, {"f16", "1.0", 0x3C00, true},
    {"f16", "-2", 0xC000, true}, {"f16", "0.5", 0x3800, true},
    {"f16", "65504", 0x7BFF, true}, {"f16", "5.960464477539063e-08", 0x0001, true},
    {"f16", "-0.0", 0x8000, true}, {"f16", "0.1", 0x2E66, false},
    {"i32", "-2147483648", 0x80000000u, true}, {"i32", "-2", 0xFFFFFFFEu, true},
    {"i32", "2147483647", 0x7FFFFFFFu, true}, {"u32", "4294967295", 0xFFFFFFFFu, true},
    {"u32", "305419896", 0x12345678u, true}, {"f32", "1.5", 0x3FC00000u, true},
    {"f32", "98.5", 0x42C50000u, true}, {"f32", "-1", 0xBF800000u, true},
    {"f32", "-0.0", 0x80000000u, true}, {"f32", "1.401298464324817e-45", 0x00000001u, true},
    {"f32", "3.4028234663852886e38", 0x7F7FFFFFu, true}, {"f32", "0.1", 0x3DCCCCCDu, false},
    {"i64", "-9223372036854775808", 0x8000000000000000ull, true},
    {"i64", "9223372036854775807", 0x7FFFFFFFFFFFFFFFull, true},
    {"i64", "-1", 0xFFFFFFFFFFFFFFFFull, true},
    {"u64", "9223372036854775807", 0x7FFFFFFFFFFFFFFFull, true},
    {"u64", "72623859790382856", 0x0102030405060708ull, true}, {"u64", "0", 0, true},
    {"u64", "9223372036854775808.0", 0x8000000000000000ull, false}, /* 2^63 as a real */
    {"f64", "3.141592653589793", 0x400921FB54442D18ull, true},
    {"f64", "-1e300", 0xFE37E43C8800759Cull, true}, {"f64", "5e-324", 0x0000000000000001ull, true},
    {"f64", "1.7976931348623157e308", 0x7FEFFFFFFFFFFFFFull, true},
    {"f64", "-0.0", 0x8000000000000000ull, true},
};

static void test_encode_all_types_all_orders(void **state)
{
    (void)state;
    size_t failed = 0;
    for (size_t k = 0; k < 4; k++) {
        char bo = ORDERS[k][0], wo = ORDERS[k][1];
        gw_tagmap *m = load_mb(bo, wo, MB_MAPPING);
        for (size_t i = 0; i < sizeof(ENC) / sizeof(ENC[0]); i++) {
            const enc_case *c = &ENC[i];
            const gw_tag *t = tag(m, c->param);
            gw_write w;
            prep_ok(m, t, c->json, &w);
            uint16_t want[4];
            ref_regs(c->raw, t->nregs, bo, wo, want);
            bool ok = w.n == t->nregs;
            for (unsigned r = 0; ok && r < t->nregs; r++)
                ok = w.regs[r] == want[r] && w.regmask[r] == 0xFFFF;
            if (!ok) {
                print_error("bo %c wo %c %s <- %s: n %zu regs", bo, wo, c->param, c->json, w.n);
                for (unsigned r = 0; r < t->nregs; r++)
                    print_error(" %04X/%04X(want %04X)", w.regs[r], w.regmask[r], want[r]);
                print_error("\n");
                failed++;
                continue;
            }
            if (!c->exact)
                continue;
            gw_value v = decode(m, t, w.regs);
            json_t *j = jparse(c->json);
            bool same;
            if (gw_type_is_float(t->type))
                same = v.kind == GW_V_DOUBLE && same_double(v.v.d, json_number_value(j));
            else if (json_is_integer(j))
                same = v.kind == GW_V_INT && v.v.i == json_integer_value(j);
            else
                same = v.kind == GW_V_INT && (double)v.v.i == json_number_value(j);
            if (!same) {
                print_error("bo %c wo %c %s: decode(encode(%s)) differs\n", bo, wo, c->param,
                            c->json);
                failed++;
            }
            json_decref(j);
        }
        gw_tagmap_free(m);
    }
    assert_int_equal(failed, 0);
}

static void test_encode_halves_and_bits(void **state)
{
    (void)state;
    const struct {
        const char *param;
        const char *json;
        uint16_t reg, mask;
    } cases[] = {
        /* byte halves: /1 high byte, /2 low byte, the other half masked off */
        {"u8h", "137", 0x8900, 0xFF00}, {"u8h", "255", 0xFF00, 0xFF00},
        {"u8l", "171", 0x00AB, 0x00FF}, {"u8l", "0", 0x0000, 0x00FF},
        {"i8h", "-119", 0x8900, 0xFF00}, {"i8h", "-128", 0x8000, 0xFF00},
        {"i8h", "127", 0x7F00, 0xFF00}, {"i8l", "-1", 0x00FF, 0x00FF},
        {"i8l", "-85", 0x00AB, 0x00FF},
        /* bit fields: a list, bit 0 first; short lists fill with 0 */
        {"bitsh", "[1,0,0,1,0,0,0,1]", 0x8900, 0xFF00},
        {"bitsh", "[true,false,false,true]", 0x0900, 0xFF00}, {"bitsl", "[1,1]", 0x0003, 0x00FF},
        {"bitsl", "[]", 0x0000, 0x00FF}, {"bitsl", "171", 0x00AB, 0x00FF},
        {"bitsh", "255", 0xFF00, 0xFF00},
        {"bits16", "[1,0,0,1,0,0,0,1,1,1,0,1,0,1,0,1]", 0x89AB, 0xFFFF},
        {"bits16", "[1]", 0x0100, 0xFFFF}, {"bits16", "[0,0,0,0,0,0,0,0,1]", 0x0001, 0xFFFF},
        {"bits16", "35243", 0x89AB, 0xFFFF},
        /* a map object: only the named bits */
        {"bitsmap", "{\"h0\": true}", 0x0100, 0x0100},
        {"bitsmap", "{\"h7\": true, \"l2\": false}", 0x8000, 0x8004},
        {"bitsmap", "{\"l0\": false, \"l2\": true, \"h0\": false}", 0x0004, 0x0105},
    };
    for (size_t k = 0; k < 4; k++) {
        gw_tagmap *m = load_mb(ORDERS[k][0], ORDERS[k][1], MB_MAPPING);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            const gw_tag *t = tag(m, cases[i].param);
            gw_write w;
            prep_ok(m, t, cases[i].json, &w);
            if (w.n != 1 || w.regs[0] != cases[i].reg || w.regmask[0] != cases[i].mask)
                print_error("bo %c wo %c %s <- %s: n %zu reg %04X mask %04X, want %04X/%04X\n",
                            ORDERS[k][0], ORDERS[k][1], cases[i].param, cases[i].json, w.n,
                            w.regs[0], w.regmask[0], cases[i].reg, cases[i].mask);
            assert_int_equal(w.n, 1);
            assert_int_equal(w.regmask[0], cases[i].mask);
            assert_int_equal(w.regs[0] & w.regmask[0], cases[i].reg);
        }
        /* round trip of the halves */
        const char *vals[] = {"-128", "-1", "0", "1", "127"};
        for (size_t i = 0; i < 5; i++) {
            gw_write w;
            prep_ok(m, tag(m, "i8l"), vals[i], &w);
            gw_value v = decode(m, tag(m, "i8l"), w.regs);
            assert_int_equal(v.v.i, atoi(vals[i]));
            prep_ok(m, tag(m, "i8h"), vals[i], &w);
            v = decode(m, tag(m, "i8h"), w.regs);
            assert_int_equal(v.v.i, atoi(vals[i]));
        }
        /* coils */
        const struct {
            const char *json;
            bool bit;
        } coil[] = {{"true", true}, {"false", false}, {"1", true}, {"0", false}};
        for (size_t i = 0; i < 4; i++) {
            gw_write w;
            prep_ok(m, tag(m, "coil"), coil[i].json, &w);
            assert_int_equal(w.n, 1);
            assert_int_equal(w.bit, coil[i].bit);
        }
        gw_tagmap_free(m);
    }
}

/* ------------------------------------------------------------ half precision */

static void test_half_to_double(void **state)
{
    (void)state;
    const struct {
        uint16_t h;
        double d;
    } cases[] = {
        {0x0000, 0.0},          {0x8000, -0.0},         {0x3C00, 1.0},
        {0xBC00, -1.0},         {0x3800, 0.5},          {0xC000, -2.0},
        {0x7BFF, 65504.0},      {0xFBFF, -65504.0},     {0x0001, 5.960464477539063e-08},
        {0x8001, -0x1p-24},     {0x03FF, 0x1.ff8p-15},  {0x0400, 0x1p-14},
        {0x3555, 0.333251953125}, {0x2E66, 0.0999755859375}, {0x7C00, INFINITY},
        {0xFC00, -INFINITY},    {0x6800, 2048.0},       {0x6801, 2050.0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double d = gw_half_to_double(cases[i].h);
        if (!same_double(d, cases[i].d))
            print_error("half 0x%04X -> %.17g, want %.17g\n", cases[i].h, d, cases[i].d);
        assert_true(same_double(d, cases[i].d));
    }
    const uint16_t nans[] = {0x7E00, 0x7C01, 0xFE00, 0x7FFF, 0xFC01};
    for (size_t i = 0; i < 5; i++)
        assert_true(isnan(gw_half_to_double(nans[i])));
}

static void test_half_from_double(void **state)
{
    (void)state;
    const struct {
        double d;
        uint16_t h;
    } cases[] = {
        {0.0, 0x0000},
        {-0.0, 0x8000},
        {1.0, 0x3C00},
        {-2.0, 0xC000},
        {65504.0, 0x7BFF},
        {65519.99, 0x7BFF},          /* just below the midpoint to 65536 */
        {65520.0, 0x7C00},           /* midpoint, ties to even -> overflow -> inf */
        {-65520.0, 0xFC00},
        {1e10, 0x7C00},
        {-1e300, 0xFC00},
        {INFINITY, 0x7C00},
        {-INFINITY, 0xFC00},
        {0x1p-24, 0x0001},           /* smallest subnormal */
        {0x1p-25, 0x0000},           /* half of it: tie, to even 0 */
        {-0x1p-25, 0x8000},
        {0x1.8p-25, 0x0001},         /* 0.75 of it: up */
        {0x1p-26, 0x0000},
        {0x1.8p-24, 0x0002},         /* 1.5: tie, to even 2 */
        {0x1.4p-23, 0x0002},         /* 2.5: tie, to even 2 */
        {0x1.cp-23, 0x0004},         /* 3.5: tie, to even 4 */
        {0x1.ffcp-15, 0x0400},       /* 1023.5 subnormal steps: to even, the first normal */
        {0x1p-14, 0x0400},
        {0x1.002p+0, 0x3C00},        /* 1 + 2^-11: tie, to even */
        {0x1.006p+0, 0x3C02},        /* 1 + 3*2^-11: tie, to even */
        {1.0004882821813226, 0x3C01}, /* just above the tie */
        {2049.0, 0x6800},
        {2051.0, 0x6802},
        {0.1, 0x2E66},
        {0.333333, 0x3555},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint16_t h = gw_half_from_double(cases[i].d);
        if (h != cases[i].h)
            print_error("%a -> 0x%04X, want 0x%04X\n", cases[i].d, h, cases[i].h);
        assert_int_equal(h, cases[i].h);
    }
    uint16_t n = gw_half_from_double(NAN);
    assert_int_equal(n & 0x7C00, 0x7C00);
    assert_int_not_equal(n & 0x03FF, 0);
    /* every finite half survives the round trip */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7C00) == 0x7C00 && (h & 0x03FF))
            continue;
        assert_int_equal(gw_half_from_double(gw_half_to_double((uint16_t)h)), h);
    }
}

/* ------------------------------------------------------------ scaling */

static const char SCALED[] =
    "\"40009\": {\"parameter\": \"Water_Setpoint.SP_r\", \"function\": \"decode_16bit_int\",\n"
    "  \"multiplier\": 0.1, \"offset\": -273, \"min\": 10, \"max\": 50},\n"
    "\"40010\": {\"parameter\": \"tenth\", \"function\": \"decode_16bit_int\", \"multiplier\": 0.1},\n"
    "\"40011\": {\"parameter\": \"twice\", \"function\": \"decode_16bit_uint\",\n"
    "  \"multiplier\": 2, \"offset\": 1},\n"
    "\"40012\": {\"parameter\": \"shift\", \"function\": \"decode_16bit_int\", \"offset\": 10},\n"
    "\"40013/40014\": {\"parameter\": \"fl\", \"function\": \"decode_32bit_float\",\n"
    "  \"multiplier\": 2}\n";

static void test_scaling_decode(void **state)
{
    (void)state;
    gw_tagmap *m = load_mb('<', '>', SCALED);
    const gw_tag *t = tag(m, "Water_Setpoint.SP_r");
    assert_true(t->scaled);
    assert_float_equal(t->multiplier, 0.1, 0.0);
    assert_float_equal(t->offset, -273.0, 0.0);
    /* 24.0 = 0.1 * 2970 - 273; 2970 = 0x0B9A, byteorder "<" -> 0x9A0B */
    uint16_t r = 0x9A0B;
    gw_value v = decode(m, t, &r);
    assert_int_equal(v.kind, GW_V_DOUBLE);
    assert_float_equal(v.v.d, 24.0, 1e-9);
    r = 0x0000;
    v = decode(m, t, &r);
    assert_float_equal(v.v.d, -273.0, 1e-9); /* min/max are not applied on reading */
    r = 0x9CFF; /* -100 */
    v = decode(m, t, &r);
    assert_float_equal(v.v.d, -283.0, 1e-9);
    r = 0x0100; /* 1 -> 2*1+1 */
    v = decode(m, tag(m, "twice"), &r);
    assert_int_equal(v.kind, GW_V_DOUBLE);
    assert_float_equal(v.v.d, 3.0, 0.0);
    r = 0xFBFF; /* -5 -> 5.0 */
    v = decode(m, tag(m, "shift"), &r);
    assert_int_equal(v.kind, GW_V_DOUBLE);
    assert_float_equal(v.v.d, 5.0, 0.0);
    assert_false(tag(m, "shift")->multiplier != 1.0);
    uint16_t f[2] = {0xC03F, 0x0000}; /* 1.5f under "<", ">" */
    v = decode(m, tag(m, "fl"), f);
    assert_float_equal(v.v.d, 3.0, 0.0);
    gw_tagmap_free(m);
}

static void test_scaling_encode(void **state)
{
    (void)state;
    const struct {
        const char *param, *json;
        uint16_t reg; /* under byteorder "<" */
    } cases[] = {
        {"Water_Setpoint.SP_r", "24.0", 0x9A0B},  /* raw 2970 */
        {"Water_Setpoint.SP_r", "24", 0x9A0B},
        {"Water_Setpoint.SP_r", "24.04", 0x9A0B}, /* 2970.4 -> 2970 */
        {"Water_Setpoint.SP_r", "24.06", 0x9B0B}, /* 2970.6 -> 2971 */
        {"Water_Setpoint.SP_r", "10", 0x0E0B},    /* min, raw 2830 */
        {"Water_Setpoint.SP_r", "50", 0x9E0C},    /* max, raw 3230 */
        {"tenth", "3276.7", 0xFF7F},              /* raw 32767 */
        {"tenth", "-3276.8", 0x0080},             /* raw -32768 */
        {"tenth", "-0.04", 0x0000},               /* raw -0.4 -> 0 */
        {"twice", "21", 0x0A00},                  /* (21-1)/2 = 10 */
        {"twice", "22.2", 0x0B00},                /* 10.6 -> 11 */
        {"twice", "131071", 0xFFFF},              /* 65535 */
        {"shift", "5", 0xFBFF},                   /* -5 */
    };
    gw_tagmap *m = load_mb('<', '>', SCALED);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_write w;
        prep_ok(m, tag(m, cases[i].param), cases[i].json, &w);
        if (w.regs[0] != cases[i].reg)
            print_error("%s <- %s: 0x%04X, want 0x%04X\n", cases[i].param, cases[i].json,
                        w.regs[0], cases[i].reg);
        assert_int_equal(w.n, 1);
        assert_int_equal(w.regs[0], cases[i].reg);
        assert_int_equal(w.regmask[0], 0xFFFF);
    }
    /* a float raw type is not rounded to an integer: 3.0 / 2 = 1.5f */
    gw_write w;
    prep_ok(m, tag(m, "fl"), "3.0", &w);
    assert_int_equal(w.regs[0], 0xC03F);
    assert_int_equal(w.regs[1], 0x0000);
    /* min/max are checked on the value; the raw range after scaling */
    prep_fails(m, tag(m, "Water_Setpoint.SP_r"), "9.9");
    prep_fails(m, tag(m, "Water_Setpoint.SP_r"), "50.1");
    prep_fails(m, tag(m, "Water_Setpoint.SP_r"), "\"24\"");
    prep_fails(m, tag(m, "tenth"), "3276.8");   /* raw 32768 */
    prep_fails(m, tag(m, "tenth"), "-3276.9");  /* raw -32769 */
    prep_fails(m, tag(m, "twice"), "131073");   /* raw 65536 */
    prep_fails(m, tag(m, "twice"), "-1");       /* raw -1 */
    gw_tagmap_free(m);

    /* byteorder ">" leaves the raw value as it is */
    m = load_mb('>', '>', SCALED);
    prep_ok(m, tag(m, "Water_Setpoint.SP_r"), "24.0", &w);
    assert_int_equal(w.regs[0], 0x0B9A);
    uint16_t r = 0x0B9A;
    gw_value v = decode(m, tag(m, "Water_Setpoint.SP_r"), &r);
    assert_float_equal(v.v.d, 24.0, 1e-9);
    gw_tagmap_free(m);
}

/* ------------------------------------------------------------ S7 */

static const char S7_MAP[] =
    "{\"mapping\": {\n"
    "\"DB3.DBX1.3\": {\"parameter\": \"bit\", \"access\": \"rw\"},\n"
    "\"DB3.DBX1.4\": {\"parameter\": \"bit2\", \"function\": \"bool\", \"access\": \"rw\"},\n"
    "\"DB2.DBB24\": {\"parameter\": \"byte\", \"function\": \"byte\", \"access\": \"rw\"},\n"
    "\"DB2.DBB25\": {\"parameter\": \"flags\", \"function\": \"byte\", \"access\": \"rw\",\n"
    "   \"map\": {\"0b00000001\": \"f0\", \"0b10000000\": \"f7\"}},\n"
    "\"DB2.DBW20\": {\"parameter\": \"word\", \"function\": \"word\", \"access\": \"rw\"},\n"
    "\"DB2.DBW22\": {\"parameter\": \"int\", \"function\": \"int\", \"access\": \"rw\"},\n"
    "\"DB2.DBD0\": {\"parameter\": \"dword\", \"function\": \"dword\", \"access\": \"rw\"},\n"
    "\"DB2.DBD4\": {\"parameter\": \"dint\", \"function\": \"dint\", \"access\": \"rw\"},\n"
    "\"DB2.DBD8\": {\"parameter\": \"real\", \"function\": \"real\", \"access\": \"rw\"},\n"
    "\"DB2.DBD12\": {\"parameter\": \"lreal\", \"function\": \"lreal\", \"access\": \"rw\"},\n"
    "\"DB2.DBB30\": {\"parameter\": \"str\", \"function\": \"string[10]\", \"access\": \"rw\"},\n"
    "\"DB2.DBB42\": {\"parameter\": \"lrealb\", \"function\": \"lreal\", \"access\": \"rw\"},\n"
    "\"MW100\": {\"parameter\": \"mword\", \"function\": \"word\"},\n"
    "\"M10.0\": {\"parameter\": \"mbit\", \"access\": \"rw\"}\n"
    "}}\n";

static gw_value s7_decode(const gw_tag *t, const uint8_t *p, size_t n)
{
    gw_value v;
    memset(&v, 0, sizeof(v));
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_tag_decode_bytes(t, p, n, &v, &err);
    if (rc != GW_OK)
        print_error("S7 decode of %s failed: %s\n", t->parameter, err.msg);
    assert_int_equal(rc, GW_OK);
    return v;
}

static void test_s7_shapes(void **state)
{
    (void)state;
    gw_tagmap *m = load_text(S7_MAP);
    assert_int_equal(gw_tagmap_driver(m), GW_DRIVER_S7);
    const struct {
        const char *p;
        gw_type type;
        uint32_t nbytes;
    } want[] = {
        {"bit", GW_T_BOOL, 1},   {"bit2", GW_T_BOOL, 1},  {"byte", GW_T_U8, 1},
        {"flags", GW_T_BITS, 1}, {"word", GW_T_U16, 2},   {"int", GW_T_I16, 2},
        {"dword", GW_T_U32, 4},  {"dint", GW_T_I32, 4},   {"real", GW_T_F32, 4},
        {"lreal", GW_T_F64, 8},  {"lrealb", GW_T_F64, 8}, {"str", GW_T_S7STRING, 12},
        {"mword", GW_T_U16, 2},  {"mbit", GW_T_BOOL, 1},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const gw_tag *t = tag(m, want[i].p);
        assert_int_equal(t->addr.driver, GW_DRIVER_S7);
        assert_int_equal(t->type, want[i].type);
        assert_int_equal(t->nbytes, want[i].nbytes);
    }
    const gw_tag *t = tag(m, "bit");
    assert_int_equal(t->addr.area, GW_S7_DB);
    assert_int_equal(t->addr.db, 3);
    assert_int_equal(t->addr.byte, 1);
    assert_int_equal(t->addr.bit, 3);
    assert_int_equal(t->addr.width, 'X');
    assert_int_equal(tag(m, "str")->strlen_max, 10);
    assert_int_equal(tag(m, "mword")->access, GW_ACCESS_R); /* S7: "r" unless given */
    assert_int_equal(tag(m, "word")->access, GW_ACCESS_RW);
    assert_int_equal(tag(m, "mword")->addr.area, GW_S7_M);
    assert_int_equal(tag(m, "mword")->addr.byte, 100);
    gw_tagmap_free(m);
}

static void test_s7_decode(void **state)
{
    (void)state;
    gw_tagmap *m = load_text(S7_MAP);
    gw_value v;
    const uint8_t b08[1] = {0x08}, bF7[1] = {0xF7}, b10[1] = {0x10};
    v = s7_decode(tag(m, "bit"), b08, 1);
    assert_int_equal(v.kind, GW_V_BOOL);
    assert_true(v.v.b);
    v = s7_decode(tag(m, "bit"), bF7, 1);
    assert_false(v.v.b);
    v = s7_decode(tag(m, "bit2"), b10, 1);
    assert_true(v.v.b);
    v = s7_decode(tag(m, "bit2"), b08, 1);
    assert_false(v.v.b);

    const struct {
        const char *p;
        uint8_t b[8];
        gw_value_kind kind;
        int64_t i;
        double d;
    } cases[] = {
        {"byte", {0xAB}, GW_V_INT, 171, 0}, {"byte", {0xFF}, GW_V_INT, 255, 0},
        {"word", {0x12, 0x34}, GW_V_INT, 0x1234, 0}, {"word", {0xFF, 0xFF}, GW_V_INT, 65535, 0},
        {"int", {0xFF, 0xFE}, GW_V_INT, -2, 0}, {"int", {0x80, 0x00}, GW_V_INT, INT16_MIN, 0},
        {"int", {0x7F, 0xFF}, GW_V_INT, INT16_MAX, 0},
        {"dword", {0x12, 0x34, 0x56, 0x78}, GW_V_INT, 0x12345678, 0},
        {"dword", {0xFF, 0xFF, 0xFF, 0xFF}, GW_V_INT, UINT32_MAX, 0},
        {"dint", {0x80, 0, 0, 0}, GW_V_INT, INT32_MIN, 0},
        {"dint", {0xFF, 0xFF, 0xFF, 0xFF}, GW_V_INT, -1, 0},
        {"real", {0x3F, 0x80, 0, 0}, GW_V_DOUBLE, 0, 1.0},
        {"real", {0x42, 0xC5, 0, 0}, GW_V_DOUBLE, 0, 98.5},
        {"real", {0x7F, 0x80, 0, 0}, GW_V_DOUBLE, 0, INFINITY},
        {"real", {0xFF, 0xC0, 0, 0}, GW_V_DOUBLE, 0, NAN},
        {"lreal", {0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18}, GW_V_DOUBLE, 0,
         3.141592653589793},
        {"lrealb", {0xFF, 0xF0, 0, 0, 0, 0, 0, 0}, GW_V_DOUBLE, 0, -INFINITY},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const gw_tag *t = tag(m, cases[i].p);
        v = s7_decode(t, cases[i].b, t->nbytes);
        if (v.kind != cases[i].kind ||
            (v.kind == GW_V_INT ? v.v.i != cases[i].i : !same_double(v.v.d, cases[i].d)))
            print_error("S7 %s case %zu: kind %d i %lld d %g\n", cases[i].p, i, v.kind,
                        (long long)v.v.i, v.v.d);
        assert_int_equal(v.kind, cases[i].kind);
        if (v.kind == GW_V_INT)
            assert_int_equal(v.v.i, cases[i].i);
        else
            assert_true(same_double(v.v.d, cases[i].d));
    }
    const uint8_t f81[1] = {0x81};
    v = s7_decode(tag(m, "flags"), f81, 1);
    assert_int_equal(v.kind, GW_V_BITS);
    assert_int_equal(v.v.bits.bits, 0x81);
    assert_int_equal(v.v.bits.nbits, 8);

    /* S7 STRING: max length, actual length, characters */
    const uint8_t s1[12] = {10, 5, 'H', 'E', 'L', 'L', 'O', 0, 0, 0, 0, 0};
    const uint8_t s2[12] = {10, 0, 'x', 'x', 0, 0, 0, 0, 0, 0, 0, 0};
    const uint8_t s3[12] = {10, 10, 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'};
    const struct {
        const uint8_t *b;
        const char *want;
    } s[] = {{s1, "HELLO"}, {s2, ""}, {s3, "ABCDEFGHIJ"}};
    for (size_t i = 0; i < 3; i++) {
        v = s7_decode(tag(m, "str"), s[i].b, 12);
        assert_int_equal(v.kind, GW_V_STRING);
        assert_string_equal(v.v.str.s, s[i].want);
        assert_int_equal(v.v.str.len, strlen(s[i].want));
        gw_value_clear(&v);
    }
    /* too few bytes is an error */
    gw_error err;
    gw_error_clear(&err);
    assert_int_not_equal(gw_tag_decode_bytes(tag(m, "dint"), s1, 3, &v, &err), GW_OK);
    gw_tagmap_free(m);
}

static void test_s7_encode(void **state)
{
    (void)state;
    gw_tagmap *m = load_text(S7_MAP);
    const struct {
        const char *p, *json;
        size_t n;
        uint8_t b[8];
    } cases[] = {
        {"byte", "200", 1, {0xC8}}, {"byte", "0", 1, {0x00}},
        {"flags", "129", 1, {0x81}}, {"flags", "[1,0,0,0,0,0,0,1]", 1, {0x81}},
        {"word", "65535", 2, {0xFF, 0xFF}}, {"word", "4660", 2, {0x12, 0x34}},
        {"int", "-32768", 2, {0x80, 0x00}}, {"int", "-2", 2, {0xFF, 0xFE}},
        {"dword", "4294967295", 4, {0xFF, 0xFF, 0xFF, 0xFF}},
        {"dword", "305419896", 4, {0x12, 0x34, 0x56, 0x78}},
        {"dint", "-2147483648", 4, {0x80, 0, 0, 0}},
        {"dint", "2147483647", 4, {0x7F, 0xFF, 0xFF, 0xFF}},
        {"real", "98.5", 4, {0x42, 0xC5, 0, 0}}, {"real", "0.1", 4, {0x3D, 0xCC, 0xCC, 0xCD}},
        {"lreal", "3.141592653589793", 8, {0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18}},
        {"lrealb", "-0.0", 8, {0x80, 0, 0, 0, 0, 0, 0, 0}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const gw_tag *t = tag(m, cases[i].p);
        gw_write w;
        prep_ok(m, t, cases[i].json, &w);
        if (w.n != cases[i].n || memcmp(w.bytes, cases[i].b, cases[i].n) != 0)
            print_error("S7 %s <- %s: n %zu bytes %02X %02X %02X %02X\n", cases[i].p,
                        cases[i].json, w.n, w.bytes[0], w.bytes[1], w.bytes[2], w.bytes[3]);
        assert_int_equal(w.n, cases[i].n);
        assert_memory_equal(w.bytes, cases[i].b, cases[i].n);
        for (size_t k = 0; k < cases[i].n; k++)
            assert_int_equal(w.bytemask[k], 0xFF);
        /* round trip */
        gw_value v = s7_decode(t, w.bytes, t->nbytes);
        json_t *j = jparse(cases[i].json);
        if (v.kind == GW_V_DOUBLE && strcmp(cases[i].json, "0.1") != 0)
            assert_true(same_double(v.v.d, json_number_value(j)));
        else if (v.kind == GW_V_INT)
            assert_int_equal(v.v.i, json_integer_value(j));
        json_decref(j);
    }

    /* a bit: only that bit is written */
    gw_write w;
    prep_ok(m, tag(m, "bit"), "true", &w);
    assert_true(w.bit);
    assert_int_equal(w.bytemask[0], 0x08);
    assert_int_equal(w.bytes[0] & w.bytemask[0], 0x08);
    prep_ok(m, tag(m, "bit"), "false", &w);
    assert_false(w.bit);
    assert_int_equal(w.bytemask[0], 0x08);
    assert_int_equal(w.bytes[0] & w.bytemask[0], 0x00);
    prep_ok(m, tag(m, "mbit"), "1", &w);
    assert_true(w.bit);
    assert_int_equal(w.bytemask[0], 0x01);

    /* a byte with a bit map: an object writes only the named bits */
    prep_ok(m, tag(m, "flags"), "{\"f7\": true}", &w);
    assert_int_equal(w.bytemask[0], 0x80);
    assert_int_equal(w.bytes[0] & 0x80, 0x80);
    prep_ok(m, tag(m, "flags"), "{\"f0\": false, \"f7\": true}", &w);
    assert_int_equal(w.bytemask[0], 0x81);
    assert_int_equal(w.bytes[0] & 0x81, 0x80);

    /* S7 STRING[10] */
    const struct {
        const char *json;
        const char *chars;
    } strs[] = {{"\"HI\"", "HI"}, {"\"\"", ""}, {"\"ABCDEFGHIJ\"", "ABCDEFGHIJ"}};
    for (size_t i = 0; i < 3; i++) {
        prep_ok(m, tag(m, "str"), strs[i].json, &w);
        size_t len = strlen(strs[i].chars);
        assert_true(w.n >= 2 + len && w.n <= 12);
        assert_int_equal(w.bytes[0], 10);
        assert_int_equal(w.bytes[1], len);
        assert_memory_equal(w.bytes + 2, strs[i].chars, len);
        for (size_t k = 1; k < 2 + len; k++)
            assert_int_equal(w.bytemask[k], 0xFF);
        gw_value v = s7_decode(tag(m, "str"), w.bytes, 12);
        assert_string_equal(v.v.str.s, strs[i].chars);
        gw_value_clear(&v);
    }
    prep_fails(m, tag(m, "str"), "\"ABCDEFGHIJK\"");

    /* raw ranges and kinds */
    prep_fails(m, tag(m, "byte"), "256");
    prep_fails(m, tag(m, "byte"), "-1");
    prep_fails(m, tag(m, "word"), "65536");
    prep_fails(m, tag(m, "int"), "32768");
    prep_fails(m, tag(m, "int"), "-32769");
    prep_fails(m, tag(m, "dword"), "4294967296");
    prep_fails(m, tag(m, "dword"), "-1");
    prep_fails(m, tag(m, "dint"), "2147483648");
    prep_fails(m, tag(m, "dint"), "1.5");
    prep_fails(m, tag(m, "real"), "\"1\"");
    prep_fails(m, tag(m, "real"), "1e39");
    prep_fails(m, tag(m, "bit"), "\"on\"");
    prep_fails(m, tag(m, "bit"), "2");
    prep_fails(m, tag(m, "flags"), "{\"f3\": true}");
    /* S7 tags are read-only unless "access": "rw" */
    prep_fails(m, tag(m, "mword"), "1");
    gw_tagmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_shapes),
        cmocka_unit_test(test_worked_example_16bit),
        cmocka_unit_test(test_worked_example_32bit),
        cmocka_unit_test(test_worked_example_64bit),
        cmocka_unit_test(test_decode_all_types_all_orders),
        cmocka_unit_test(test_decode_too_few_registers),
        cmocka_unit_test(test_decode_halves),
        cmocka_unit_test(test_decode_bits_whole_register),
        cmocka_unit_test(test_decode_coil),
        cmocka_unit_test(test_decode_strings),
        cmocka_unit_test(test_encode_strings),
        cmocka_unit_test(test_encode_all_types_all_orders),
        cmocka_unit_test(test_encode_halves_and_bits),
        cmocka_unit_test(test_half_to_double),
        cmocka_unit_test(test_half_from_double),
        cmocka_unit_test(test_scaling_decode),
        cmocka_unit_test(test_scaling_encode),
        cmocka_unit_test(test_s7_shapes),
        cmocka_unit_test(test_s7_decode),
        cmocka_unit_test(test_s7_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
