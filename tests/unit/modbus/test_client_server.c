/*
 * test_client_server.c - our Modbus TCP client against our server, in one
 * process, over real TCP on 127.0.0.1 (ports chosen by the kernel).
 *
 * What reached the wire is read from the server's request log
 * (gw_mb_server_log) and its image (gw_mb_server_get); expected register
 * values come from the byte/word order table of docs/mapping.md:
 *
 *   0x12345678   wordorder >  byteorder >   0x1234 0x5678
 *                wordorder >  byteorder <   0x3412 0x7856
 *                wordorder <  byteorder >   0x5678 0x1234
 *                wordorder <  byteorder <   0x7856 0x3412
 *
 * Here: every decode function in every order written and read back;
 * mask write (FC 22) of byte halves and named bits, and its fallback to
 * FC 3 + FC 6 when the device refuses FC 22; coils (FC 5); FC 6 and FC 16;
 * a device exception failing one request of a plan and one write; timeouts,
 * refused connections, a garbled answer; initial values from defaultValue;
 * the write hook; the request log and its ring; several threads on one
 * client; more clients than allowed; and plcgw write / read, run as child
 * processes against the in-process server, proving with the request log
 * that a bad payload puts nothing on the wire and that --unit reaches it.
 *
 * Our server maps all 65536 addresses of every class, so an exception is
 * provoked by a request that runs past address 65535 (a plan edited through
 * mb_internal.h, or a write of a hand-made tag); modbus-serial's exceptions
 * are tested in tests/integration/modbus/modbus_peers.js.
 */
#define _GNU_SOURCE
#include "mb_test_fixture.h"

/* ---------------------------------------------------------------- codec */

static const struct {
    const char *bo, *wo;
    uint16_t r16[1];   /* 0x1234 */
    uint16_t r32[2];   /* 0x12345678 (table above) */
    uint16_t f32[2];   /* 3.25f = 0x40500000 */
    uint16_t r64[4];   /* 0x0102030405060708 */
} orders[] = {
    {">", ">", {0x1234}, {0x1234, 0x5678}, {0x4050, 0x0000}, {0x0102, 0x0304, 0x0506, 0x0708}},
    {"<", ">", {0x3412}, {0x3412, 0x7856}, {0x5040, 0x0000}, {0x0201, 0x0403, 0x0605, 0x0807}},
    {">", "<", {0x1234}, {0x5678, 0x1234}, {0x0000, 0x4050}, {0x0708, 0x0506, 0x0304, 0x0102}},
    {"<", "<", {0x3412}, {0x7856, 0x3412}, {0x0000, 0x5040}, {0x0807, 0x0605, 0x0403, 0x0201}},
};

static const char codec_map[] =
    "{\"endianness\": {\"byteorder\": \"%s\", \"wordorder\": \"%s\"}, \"mapping\": {"
    "\"40000\": {\"parameter\": \"i16\", \"function\": \"decode_16bit_int\"},"
    "\"40001\": {\"parameter\": \"u16\", \"function\": \"decode_16bit_uint\"},"
    "\"40002\": {\"parameter\": \"f16\", \"function\": \"decode_16bit_float\"},"
    "\"40003\": {\"parameter\": \"i32\", \"function\": \"decode_32bit_int\"},"
    "\"40005\": {\"parameter\": \"u32\", \"function\": \"decode_32bit_uint\"},"
    "\"40007\": {\"parameter\": \"f32\", \"function\": \"decode_32bit_float\"},"
    "\"40009\": {\"parameter\": \"i64\", \"function\": \"decode_64bit_int\"},"
    "\"40013\": {\"parameter\": \"u64\", \"function\": \"decode_64bit_uint\"},"
    "\"40017\": {\"parameter\": \"f64\", \"function\": \"decode_64bit_float\"},"
    "\"40021/40023\": {\"parameter\": \"str\", \"function\": \"decode_string\"},"
    "\"40024/1\": {\"parameter\": \"i8\", \"function\": \"decode_8bit_int\"},"
    "\"40024/2\": {\"parameter\": \"u8\", \"function\": \"decode_8bit_uint\"},"
    "\"40025/1\": {\"parameter\": \"bits_hi\", \"function\": \"decode_bits\"},"
    "\"40025/2\": {\"parameter\": \"bits_lo\", \"function\": \"decode_bits\","
    "  \"map\": {\"0b00000001\": \"b0\", \"0b10000000\": \"b7\"}},"
    "\"40026\": {\"parameter\": \"bits16\", \"function\": \"decode_bits\"},"
    "\"40027\": {\"parameter\": \"scaled\", \"function\": \"decode_16bit_int\","
    "  \"multiplier\": 0.1, \"offset\": -273, \"min\": 10, \"max\": 50},"
    "\"40028\": {\"parameter\": \"scaled32\", \"function\": \"decode_32bit_uint\","
    "  \"multiplier\": 0.001},"
    "\"40030\": {\"parameter\": \"x16\", \"function\": \"decode_16bit_uint\"},"
    "\"40031\": {\"parameter\": \"x32\", \"function\": \"decode_32bit_uint\"},"
    "\"40033\": {\"parameter\": \"xf32\", \"function\": \"decode_32bit_float\"},"
    "\"40035\": {\"parameter\": \"x64\", \"function\": \"decode_64bit_uint\"},"
    "\"30000\": {\"parameter\": \"in32\", \"function\": \"decode_32bit_uint\"},"
    "\"30002\": {\"parameter\": \"inf32\", \"function\": \"decode_32bit_float\"},"
    "\"00007\": {\"parameter\": \"coil\"},"
    "\"10003\": {\"parameter\": \"di\"}}}";

static void test_codec_round_trip(void **state)
{
    fx *f = *state;
    for (size_t o = 0; o < 4; o++) {
        char text[4096];
        snprintf(text, sizeof(text), codec_map, orders[o].bo, orders[o].wo);
        gw_tagmap *m = load_text(text);
        /* clear what an earlier order wrote */
        static const uint16_t zeros[40];
        assert_int_equal(gw_mb_server_set(f->srv, GW_MB_HOLDING, 0, 40, zeros), GW_OK);
        log_skip(f);

        write_ok(f->cli, m, "i16", "-12345");
        write_ok(f->cli, m, "u16", "54321");
        write_ok(f->cli, m, "f16", "-1.5");
        write_ok(f->cli, m, "i32", "-123456789");
        write_ok(f->cli, m, "u32", "4000000000");
        write_ok(f->cli, m, "f32", "3.25");
        write_ok(f->cli, m, "i64", "-1234567890123456789");
        /* 2^63 + 2048: above INT64_MAX, an exact double */
        write_ok(f->cli, m, "u64", "9223372036854777856.0");
        write_ok(f->cli, m, "f64", "-2.718281828459045");
        write_ok(f->cli, m, "str", "\"Hello\"");
        write_ok(f->cli, m, "i8", "-100");
        write_ok(f->cli, m, "u8", "200");
        write_ok(f->cli, m, "bits_hi", "[1, 0, 1, 1]");
        write_ok(f->cli, m, "bits_lo", "165");
        /* list entry 0 is the low bit of byte/1 (bit 8), entry 9 bit 1 of byte/2 */
        write_ok(f->cli, m, "bits16", "[1, 0, 0, 0, 0, 0, 0, 0, 0, 1]");
        write_ok(f->cli, m, "scaled", "24.5");
        write_ok(f->cli, m, "scaled32", "1234.567");
        write_ok(f->cli, m, "x16", "4660");           /* 0x1234 */
        write_ok(f->cli, m, "x32", "305419896");      /* 0x12345678 */
        write_ok(f->cli, m, "xf32", "3.25");
        write_ok(f->cli, m, "x64", "72623859790382856"); /* 0x0102030405060708 */
        write_ok(f->cli, m, "coil", "true");
        /* read-only classes get their values from the server side */
        assert_int_equal(gw_mb_server_set(f->srv, GW_MB_INPUT, 0, 2, orders[o].r32), GW_OK);
        assert_int_equal(gw_mb_server_set(f->srv, GW_MB_INPUT, 2, 2, orders[o].f32), GW_OK);
        uint16_t one = 1;
        assert_int_equal(gw_mb_server_set(f->srv, GW_MB_DISCRETE, 3, 1, &one), GW_OK);

        /* the raw registers as docs/mapping.md's table says */
        regs_are(f, GW_MB_HOLDING, 30, orders[o].r16, 1, "0x1234");
        regs_are(f, GW_MB_HOLDING, 31, orders[o].r32, 2, "0x12345678");
        regs_are(f, GW_MB_HOLDING, 33, orders[o].f32, 2, "3.25f");
        regs_are(f, GW_MB_HOLDING, 35, orders[o].r64, 4, "0x0102030405060708");
        /* strings and byte halves ignore byteorder: wire order */
        static const uint16_t hello[3] = {0x4865, 0x6C6C, 0x6F00};
        regs_are(f, GW_MB_HOLDING, 21, hello, 3, "\"Hello\"");
        static const uint16_t halves[1] = {0x9CC8}; /* -100 = 0x9C, 200 = 0xC8 */
        regs_are(f, GW_MB_HOLDING, 24, halves, 1, "i8/u8 halves");
        static const uint16_t bits[2] = {0x0DA5, 0x0102};
        regs_are(f, GW_MB_HOLDING, 25, bits, 2, "bit fields");
        /* -12345 = 0xCFC7; 2975 = 0x0B9F is 24.5 scaled */
        uint16_t i16 = orders[o].bo[0] == '<' ? 0xC7CF : 0xCFC7;
        regs_are(f, GW_MB_HOLDING, 0, &i16, 1, "-12345");
        uint16_t sc = orders[o].bo[0] == '<' ? 0x9F0B : 0x0B9F;
        regs_are(f, GW_MB_HOLDING, 27, &sc, 1, "24.5 scaled");
        uint16_t coil = 0;
        assert_int_equal(gw_mb_server_get(f->srv, GW_MB_COIL, 7, 1, &coil), GW_OK);
        assert_int_equal(coil, 1);

        readall ra;
        read_all(f->cli, m, &ra);
        /* one FC 1, one FC 2, one FC 3 0..38, one FC 4 0..3 */
        assert_int_equal(gw_mb_plan_requests(ra.plan), 4);
        gw_value v;
        v = value_of(&ra, "i16");
        assert_int_equal(v.kind, GW_V_INT);
        assert_int_equal(v.v.i, -12345);
        v = value_of(&ra, "u16");
        assert_int_equal(v.v.i, 54321);
        v = value_of(&ra, "f16");
        assert_int_equal(v.kind, GW_V_DOUBLE);
        assert_true(v.v.d == -1.5);
        v = value_of(&ra, "i32");
        assert_int_equal(v.v.i, -123456789);
        v = value_of(&ra, "u32");
        assert_int_equal(v.kind, GW_V_INT);
        assert_int_equal(v.v.i, 4000000000LL);
        v = value_of(&ra, "f32");
        assert_true(v.v.d == 3.25);
        v = value_of(&ra, "i64");
        assert_int_equal(v.kind, GW_V_INT);
        assert_true(v.v.i == -1234567890123456789LL);
        v = value_of(&ra, "u64");
        assert_int_equal(v.kind, GW_V_UINT);
        assert_true(v.v.u == 9223372036854777856ULL);
        v = value_of(&ra, "f64");
        assert_true(v.v.d == -2.718281828459045);
        v = value_of(&ra, "str");
        assert_int_equal(v.kind, GW_V_STRING);
        assert_string_equal(v.v.str.s, "Hello");
        gw_value_clear(&v);
        v = value_of(&ra, "i8");
        assert_int_equal(v.v.i, -100);
        v = value_of(&ra, "u8");
        assert_int_equal(v.v.i, 200);
        v = value_of(&ra, "bits_hi");
        assert_int_equal(v.kind, GW_V_BITS);
        assert_int_equal(v.v.bits.bits, 0x0D);
        assert_int_equal(v.v.bits.nbits, 8);
        v = value_of(&ra, "bits_lo");
        assert_int_equal(v.v.bits.bits, 0xA5);
        v = value_of(&ra, "bits16");
        assert_int_equal(v.v.bits.bits, 0x0102);
        assert_int_equal(v.v.bits.nbits, 16);
        v = value_of(&ra, "scaled");
        assert_int_equal(v.kind, GW_V_DOUBLE);
        assert_true(fabs(v.v.d - 24.5) < 1e-9);
        v = value_of(&ra, "scaled32");
        assert_true(fabs(v.v.d - 1234.567) < 1e-9);
        v = value_of(&ra, "x32");
        assert_int_equal(v.v.i, 0x12345678);
        v = value_of(&ra, "x64");
        assert_true(v.v.i == 0x0102030405060708LL);
        v = value_of(&ra, "in32");
        assert_int_equal(v.v.i, 0x12345678);
        v = value_of(&ra, "inf32");
        assert_true(v.v.d == 3.25);
        v = value_of(&ra, "coil");
        assert_int_equal(v.kind, GW_V_BOOL);
        assert_true(v.v.b);
        v = value_of(&ra, "di");
        assert_true(v.v.b);
        readall_free(&ra);
        gw_tagmap_free(m);
    }
}

/* ------------------------------------------------------------ functions */


/* Writing one byte half keeps the other byte: FC 22, one request. */
static void test_mask_write(void **state)
{
    fx *f = *state;
    gw_tagmap *m = load_text(fc_map);
    hook_call h[8];
    set_reg(f, GW_MB_HOLDING, 100, 0xAB00);
    hooks_settle(f, h, 8);

    write_ok(f->cli, m, "lo", "92"); /* 0x5C */
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 100), 0xAB5C);
    const want_log w1[] = {{22, 100, 1}};
    expect_log(f, w1, 1);
    assert_int_equal(hooks_settle(f, h, 8), 1);
    assert_int_equal(h[0].cls, GW_MB_HOLDING);
    assert_int_equal(h[0].start, 100);
    assert_int_equal(h[0].count, 1);

    write_ok(f->cli, m, "hi", "18"); /* 0x12 */
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 100), 0x125C);
    expect_log(f, w1, 1);

    /* named bits of a byte half: only those bits */
    set_reg(f, GW_MB_HOLDING, 102, 0xF0F0);
    log_skip(f);
    write_ok(f->cli, m, "TEST2", "{\"test3\": true}");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 102), 0xF0F8);
    const want_log w2[] = {{22, 102, 1}};
    expect_log(f, w2, 1);
    write_ok(f->cli, m, "TEST2", "{\"test7\": false, \"test0\": true}");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 102), 0xF079);
    write_ok(f->cli, m, "TEST1", "{\"test7\": false}");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 102), 0x7079);
    expect_log(f, (const want_log[]){{22, 102, 1}, {22, 102, 1}}, 2);

    /* named bits of a whole register */
    set_reg(f, GW_MB_HOLDING, 101, 0x8001);
    log_skip(f);
    write_ok(f->cli, m, "word_bits", "{\"hb0\": true}");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 101), 0x8101);
    write_ok(f->cli, m, "word_bits", "{\"test3\": true, \"hb0\": false}");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 101), 0x8009);
    expect_log(f, (const want_log[]){{22, 101, 1}, {22, 101, 1}}, 2);

    /* a whole byte half as a list writes all 8 bits of it, still masked */
    write_ok(f->cli, m, "TEST2", "[0, 1]");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 102), 0x7002);
    expect_log(f, w2, 1);

    /* what we read is what the image holds */
    readall ra;
    read_all(f->cli, m, &ra);
    gw_value v = value_of(&ra, "hi");
    assert_int_equal(v.v.i, 0x12);
    v = value_of(&ra, "lo");
    assert_int_equal(v.v.i, 0x5C);
    v = value_of(&ra, "TEST1");
    assert_int_equal(v.v.bits.bits, 0x70);
    v = value_of(&ra, "TEST2");
    assert_int_equal(v.v.bits.bits, 0x02);
    v = value_of(&ra, "word_bits");
    assert_int_equal(v.v.bits.bits, 0x8009);
    readall_free(&ra);
    gw_tagmap_free(m);
}

/* A device without FC 22: the first partial write gets "illegal function"
 * and falls back to FC 3 + FC 6; later ones go straight to FC 3 + FC 6. */
static void test_mask_write_fallback(void **state)
{
    fx *f = *state;
    gw_tagmap *m = load_text(fc_map);
    hook_call h[8];
    gw_mb_server_disable_mask_write(f->srv, true);
    set_reg(f, GW_MB_HOLDING, 100, 0xAB00);
    hooks_settle(f, h, 8);
    uint64_t sent = gw_mb_requests_sent(f->cli);

    write_ok(f->cli, m, "lo", "92");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 100), 0xAB5C);
    const want_log w1[] = {{22, 100, 1}, {3, 100, 1}, {6, 100, 1}};
    expect_log(f, w1, 3);
    assert_int_equal(gw_mb_requests_sent(f->cli) - sent, 3);
    assert_true(gw_mb_connected(f->cli));
    /* the refused FC 22 changed nothing: one hook call, for FC 6 */
    assert_int_equal(hooks_settle(f, h, 8), 1);
    assert_int_equal(h[0].start, 100);

    write_ok(f->cli, m, "hi", "18");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 100), 0x125C);
    const want_log w2[] = {{3, 100, 1}, {6, 100, 1}};
    expect_log(f, w2, 2);

    set_reg(f, GW_MB_HOLDING, 102, 0xF0F0);
    log_skip(f);
    write_ok(f->cli, m, "TEST2", "{\"test3\": true}");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 102), 0xF0F8);
    expect_log(f, (const want_log[]){{3, 102, 1}, {6, 102, 1}}, 2);

    /* whole registers never needed FC 22 */
    write_ok(f->cli, m, "w16", "4660");
    expect_log(f, (const want_log[]){{6, 110, 1}}, 1);

    /* the client remembers: FC 3 + 6 even when the device takes FC 22 again */
    gw_mb_server_disable_mask_write(f->srv, false);
    write_ok(f->cli, m, "lo", "1");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 100), 0x1201);
    expect_log(f, w2, 2);
    /* a new client learns afresh */
    gw_mb_client *c2 = client_for(f->port, 1, 2000);
    connect_ok(c2);
    write_ok(c2, m, "lo", "2");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 100), 0x1202);
    expect_log(f, (const want_log[]){{22, 100, 1}}, 1);
    gw_mb_client_free(c2);
    gw_tagmap_free(m);
}

/* Coils with FC 5, whole registers with FC 6 and FC 16. */
static void test_write_functions(void **state)
{
    fx *f = *state;
    gw_tagmap *m = load_text(fc_map);
    hook_call h[8];
    hooks_settle(f, h, 8);

    write_ok(f->cli, m, "coil", "true");
    assert_int_equal(reg_at(f, GW_MB_COIL, 5), 1);
    expect_log(f, (const want_log[]){{5, 5, 1}}, 1);
    assert_int_equal(hooks_settle(f, h, 8), 1);
    assert_int_equal(h[0].cls, GW_MB_COIL);
    assert_int_equal(h[0].start, 5);
    write_ok(f->cli, m, "coil", "0");
    assert_int_equal(reg_at(f, GW_MB_COIL, 5), 0);
    write_ok(f->cli, m, "coil", "1");
    assert_int_equal(reg_at(f, GW_MB_COIL, 5), 1);
    expect_log(f, (const want_log[]){{5, 5, 1}, {5, 5, 1}}, 2);

    write_ok(f->cli, m, "w16", "65535");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 110), 0xFFFF);
    expect_log(f, (const want_log[]){{6, 110, 1}}, 1);
    hooks_settle(f, h, 8);

    write_ok(f->cli, m, "w32", "3.25"); /* default order "<" ">": 0x5040 0x0000 */
    static const uint16_t f32[2] = {0x5040, 0x0000};
    regs_are(f, GW_MB_HOLDING, 111, f32, 2, "3.25f");
    expect_log(f, (const want_log[]){{16, 111, 2}}, 1);
    assert_int_equal(hooks_settle(f, h, 8), 1);
    assert_int_equal(h[0].cls, GW_MB_HOLDING);
    assert_int_equal(h[0].start, 111);
    assert_int_equal(h[0].count, 2);

    write_ok(f->cli, m, "w64", "-2");
    static const uint16_t m2[4] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFEFF};
    regs_are(f, GW_MB_HOLDING, 113, m2, 4, "-2 as 64 bits");
    write_ok(f->cli, m, "wstr", "\"abcde\"");
    static const uint16_t s[3] = {0x6162, 0x6364, 0x6500};
    regs_are(f, GW_MB_HOLDING, 117, s, 3, "\"abcde\"");
    expect_log(f, (const want_log[]){{16, 113, 4}, {16, 117, 3}}, 2);

    /* reads: one request per class, logged with their counts */
    readall ra;
    read_all(f->cli, m, &ra);
    expect_log(f, (const want_log[]){{1, 5, 1}, {2, 5, 1}, {3, 100, 20}, {4, 100, 1}}, 4);
    gw_value v = value_of(&ra, "wstr");
    assert_string_equal(v.v.str.s, "abcde");
    gw_value_clear(&v);
    v = value_of(&ra, "w64");
    assert_int_equal(v.v.i, -2);
    readall_free(&ra);
    gw_tagmap_free(m);
}

static void test_load_defaults(void **state)
{
    fx *f = *state;
    gw_tagmap *m = load_text("{\"mapping\": {"
        "\"40010\": {\"parameter\": \"sp\", \"function\": \"decode_16bit_int\","
        "  \"multiplier\": 0.1, \"offset\": -273, \"defaultValue\": 24.0},"
        "\"30020\": {\"parameter\": \"temp\", \"function\": \"decode_32bit_float\","
        "  \"defaultValue\": 72.5},"
        "\"00003\": {\"parameter\": \"coil\", \"defaultValue\": true},"
        "\"10004\": {\"parameter\": \"di\", \"defaultValue\": true},"
        "\"40030/1\": {\"parameter\": \"hi\", \"function\": \"decode_8bit_uint\","
        "  \"defaultValue\": 18},"
        "\"40030/2\": {\"parameter\": \"lo\", \"function\": \"decode_8bit_uint\"},"
        "\"40031/2\": {\"parameter\": \"flags\", \"function\": \"decode_bits\","
        "  \"map\": {\"0b00000001\": \"f0\", \"0b00000100\": \"f2\"},"
        "  \"defaultValue\": [1, 0, 1]},"
        "\"40040/40041\": {\"parameter\": \"name\", \"function\": \"decode_string\","
        "  \"defaultValue\": \"Hi\"},"
        "\"40050\": {\"parameter\": \"none\", \"function\": \"decode_16bit_uint\"}}}");
    set_reg(f, GW_MB_HOLDING, 30, 0x00CD);
    set_reg(f, GW_MB_HOLDING, 31, 0xEE00);
    set_reg(f, GW_MB_HOLDING, 50, 0x7777);
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_mb_server_load_defaults(f->srv, m, &err);
    if (rc != GW_OK)
        print_error("load_defaults: %s\n", err.msg);
    assert_int_equal(rc, GW_OK);
    /* 24.0 -> (24 + 273) / 0.1 = 2970 = 0x0B9A, byteorder "<" -> 0x9A0B */
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 10), 0x9A0B);
    /* 72.5f = 0x42910000 -> 0x9142 0x0000 */
    static const uint16_t temp[2] = {0x9142, 0x0000};
    regs_are(f, GW_MB_INPUT, 20, temp, 2, "72.5f");
    assert_int_equal(reg_at(f, GW_MB_COIL, 3), 1);
    assert_int_equal(reg_at(f, GW_MB_DISCRETE, 4), 1);
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 30), 0x12CD); /* /2 kept */
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 31), 0xEE05); /* /1 kept */
    static const uint16_t hi[2] = {0x4869, 0x0000};
    regs_are(f, GW_MB_HOLDING, 40, hi, 2, "\"Hi\"");
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 50), 0x7777); /* no default: untouched */

    readall ra;
    read_all(f->cli, m, &ra);
    gw_value v = value_of(&ra, "sp");
    assert_true(fabs(v.v.d - 24.0) < 1e-9);
    v = value_of(&ra, "temp");
    assert_true(v.v.d == 72.5);
    v = value_of(&ra, "coil");
    assert_true(v.v.b);
    v = value_of(&ra, "di");
    assert_true(v.v.b);
    v = value_of(&ra, "hi");
    assert_int_equal(v.v.i, 18);
    v = value_of(&ra, "lo");
    assert_int_equal(v.v.i, 0xCD);
    v = value_of(&ra, "flags");
    assert_int_equal(v.v.bits.bits, 0x05);
    v = value_of(&ra, "name");
    assert_string_equal(v.v.str.s, "Hi");
    gw_value_clear(&v);
    readall_free(&ra);
    gw_tagmap_free(m);

    /* a default that does not fit its tag is an error naming the tag */
    m = load_text("{\"mapping\": {\"40060\": {\"parameter\": \"bad\", \"function\": "
                  "\"decode_16bit_uint\", \"defaultValue\": \"x\"}}}");
    gw_error_clear(&err);
    assert_true(gw_mb_server_load_defaults(f->srv, m, &err) != GW_OK);
    assert_non_null(strstr(err.msg, "bad"));
    gw_tagmap_free(m);

    /* the seed's example spells it "defaultvalue": passed through, not a
     * default, so its setpoint starts at 0 */
    char path[1024];
    snprintf(path, sizeof(path), "%s/config/modbus/example.json", GW_SOURCE_DIR);
    gw_diag d;
    gw_diag_init(&d, path);
    assert_int_equal(gw_tagmap_load_file(path, &m, &d), GW_OK);
    set_reg(f, GW_MB_HOLDING, 9, 0);
    assert_int_equal(gw_mb_server_load_defaults(f->srv, m, &err), GW_OK);
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 9), 0);
    gw_tagmap_free(m);
}

/* ------------------------------------------------------------ the rest */

/* The unit id reaches the log; a bad port number is refused at start. */
static void test_unit_and_log(void **state)
{
    fx *f = *state;
    gw_tagmap *m = load_text(one_reg_map);
    gw_mb_client *c = client_for(f->port, 7, 2000);
    connect_ok(c);
    log_skip(f);
    write_ok(c, m, "a", "5");
    gw_mb_logged l[4];
    assert_int_equal(log_new(f, l, 4), 1);
    assert_int_equal(l[0].unit, 7);
    assert_int_equal(l[0].fc, 6);
    assert_int_equal(l[0].addr, 0);
    assert_non_null(strstr(l[0].peer, "127.0.0.1:"));
    /* seq numbers are consecutive and the log is read from any point */
    write_ok(c, m, "a", "6");
    write_ok(c, m, "a", "7");
    gw_mb_logged all[4];
    size_t n = gw_mb_server_log(f->srv, l[0].seq, all, 4);
    assert_int_equal(n, 3);
    assert_true(all[1].seq == all[0].seq + 1 && all[2].seq == all[1].seq + 1);
    assert_int_equal(gw_mb_server_log(f->srv, l[0].seq + 2, all, 4), 1);
    f->seen = all[2].seq + 1;
    gw_mb_client_free(c);
    gw_tagmap_free(m);

    /* image access checks its range */
    uint16_t x[2];
    assert_int_equal(gw_mb_server_get(f->srv, GW_MB_HOLDING, 65535, 2, x), GW_E_RANGE);
    assert_int_equal(gw_mb_server_get(f->srv, GW_MB_HOLDING, 65535, 1, x), GW_OK);
}

/* The request log is a ring of the last 4096 requests, read by seq. */
static void test_log_ring(void **state)
{
    fx *f = *state;
    gw_tagmap *m = load_text(one_reg_map);
    gw_mb_plan *p;
    gw_mb_readout *r;
    assert_int_equal(gw_mb_plan_new(m, NULL, &p), GW_OK);
    assert_int_equal(gw_mb_readout_new(p, &r), GW_OK);
    log_skip(f);
    uint64_t first = f->seen;
    gw_error err;
    for (int i = 0; i < 4200; i++)
        assert_int_equal(gw_mb_read_plan(f->cli, p, r, &err), GW_OK);
    gw_mb_logged *l = calloc(5000, sizeof(*l));
    assert_non_null(l);
    /* from the start: only the newest 4096 are kept */
    size_t n = gw_mb_server_log(f->srv, 0, l, 5000);
    assert_int_equal(n, 4096);
    assert_true(l[0].seq == first + 4200 - 4096);
    for (size_t i = 1; i < n; i++)
        assert_true(l[i].seq == l[i - 1].seq + 1);
    assert_true(l[n - 1].seq == first + 4199);
    assert_int_equal(l[n - 1].fc, 3);
    /* from a seq still in the ring, and a max smaller than what is there */
    n = gw_mb_server_log(f->srv, first + 4190, l, 5000);
    assert_int_equal(n, 10);
    assert_true(l[0].seq == first + 4190);
    n = gw_mb_server_log(f->srv, first + 4190, l, 3);
    assert_int_equal(n, 3);
    assert_int_equal(gw_mb_server_log(f->srv, first + 4200, l, 5000), 0);
    f->seen = first + 4200;
    free(l);
    gw_mb_readout_free(r);
    gw_mb_plan_free(p);
    gw_tagmap_free(m);
}

/* Four threads share one client; transactions never interleave. */
typedef struct {
    gw_mb_client *c;
    const gw_tagmap *m;
    int id;
    int failures;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    char param[8], json[16];
    snprintf(param, sizeof(param), "r%d", w->id);
    gw_mb_plan *p = NULL;
    gw_mb_readout *r = NULL;
    if (gw_mb_plan_new(w->m, NULL, &p) != GW_OK || gw_mb_readout_new(p, &r) != GW_OK) {
        w->failures++;
        goto out;
    }
    size_t idx = index_of(w->m, param);
    for (int i = 0; i < 100; i++) {
        int value = w->id * 1000 + i;
        snprintf(json, sizeof(json), "%d", value);
        json_t *j = json_loads(json, JSON_DECODE_ANY, NULL);
        gw_write wr;
        gw_error err;
        if (gw_tag_prepare_write(w->m, gw_tagmap_find(w->m, param), j, &wr, &err) != GW_OK ||
            gw_mb_write(w->c, &wr, &err) != GW_OK) {
            json_decref(j);
            w->failures++;
            continue;
        }
        json_decref(j);
        gw_value v;
        if (gw_mb_read_plan(w->c, p, r, &err) != GW_OK ||
            gw_mb_readout_value(p, r, idx, &v, &err) != GW_OK || v.v.i != value)
            w->failures++;
    }
out:
    gw_mb_readout_free(r);
    gw_mb_plan_free(p);
    return NULL;
}

static void test_threads(void **state)
{
    fx *f = *state;
    gw_tagmap *m = load_text("{\"mapping\": {"
        "\"40300\": {\"parameter\": \"r0\", \"function\": \"decode_16bit_uint\"},"
        "\"40301\": {\"parameter\": \"r1\", \"function\": \"decode_16bit_uint\"},"
        "\"40302\": {\"parameter\": \"r2\", \"function\": \"decode_16bit_uint\"},"
        "\"40303\": {\"parameter\": \"r3\", \"function\": \"decode_16bit_uint\"}}}");
    worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){f->cli, m, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    log_skip(f);
    gw_tagmap_free(m);
}

/* More clients than max_clients: the extra one is dropped, the others and
 * the server go on. */
static void test_max_clients(void **state)
{
    (void)state;
    gw_mb_server_opts so;
    memset(&so, 0, sizeof(so));
    so.host = "127.0.0.1";
    so.max_clients = 2;
    gw_mb_server *s;
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_mb_server_new(&so, &s, &err), GW_OK);
    assert_int_equal(gw_mb_server_start(s, &err), GW_OK);
    gw_tagmap *m = load_text(one_reg_map);
    gw_mb_client *c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = client_for(gw_mb_server_port(s), 1, 1000);
        connect_ok(c[i]);
    }
    /* the first two are served */
    for (int i = 0; i < 2; i++)
        write_ok(c[i], m, "a", "1");
    gw_err rc = write_value(c[2], m, "a", "2", &err);
    assert_true(rc == GW_E_CONN_LOST || rc == GW_E_PROTOCOL);
    assert_false(gw_mb_connected(c[2]));
    /* a slot frees when a client leaves */
    gw_mb_client_free(c[0]);
    c[0] = NULL;
    usleep(100000);
    connect_ok(c[2]);
    write_ok(c[2], m, "a", "3");
    write_ok(c[1], m, "a", "4");
    uint16_t v;
    assert_int_equal(gw_mb_server_get(s, GW_MB_HOLDING, 0, 1, &v), GW_OK);
    assert_int_equal(v, 0x0400);
    for (int i = 0; i < 3; i++)
        gw_mb_client_free(c[i]);
    gw_mb_server_free(s);
    gw_tagmap_free(m);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_codec_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mask_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mask_write_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unit_and_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test(test_max_clients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
