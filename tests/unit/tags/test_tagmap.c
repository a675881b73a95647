/*
 * test_tagmap.c - loading tag maps (docs/mapping.md): address keys, every
 * configuration error with its position, warnings, output records, AVRO
 * types, write validation, and the seed's example map.
 *
 * Error positions are not hard-coded columns: each case names the text
 * (a key in quotes, a value) where the error belongs, and loc_of() counts
 * the line and column of its first occurrence, 1-based, in code points.
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
#include <jansson.h>

#include "core/core.h"
#include "tags/tags.h"

/* ------------------------------------------------------------ helpers */

#define MB(body) "{\"mapping\": {\n" body "\n}}"
#define T16 "\"function\": \"decode_16bit_uint\""

static gw_loc loc_of(const char *text, const char *needle)
{
    const char *p = strstr(text, needle);
    if (!p)
        print_error("test bug: \"%s\" not in the document\n", needle);
    assert_non_null(p);
    gw_loc l = {1, 1};
    for (const char *q = text; q < p; q++) {
        if (*q == '\n') {
            l.line++;
            l.col = 1;
        } else if (((unsigned char)*q & 0xC0) != 0x80) {
            l.col++;
        }
    }
    return l;
}

static gw_err load_diag(const char *text, gw_tagmap **m, gw_diag *d)
{
    gw_diag_init(d, "map.json");
    *m = NULL;
    return gw_tagmap_load_buf("map.json", text, strlen(text), m, d);
}

static gw_tagmap *load_ok(const char *text, gw_diag *d)
{
    gw_tagmap *m;
    gw_err rc = load_diag(text, &m, d);
    if (rc != GW_OK) {
        print_error("map did not load (%s):\n%s\n", gw_err_name(rc), text);
        gw_diag_print(d, stderr);
    }
    assert_int_equal(rc, GW_OK);
    assert_non_null(m);
    assert_int_equal(d->errors, 0);
    return m;
}

static const gw_tag *tag(const gw_tagmap *m, const char *param)
{
    const gw_tag *t = gw_tagmap_find(m, param);
    if (!t)
        print_error("no tag \"%s\"\n", param);
    assert_non_null(t);
    return t;
}

static bool mentions(const gw_diag_entry *e, const char *a, const char *b)
{
    if (!a && !b)
        return true;
    return (a && strstr(e->msg, a)) || (b && strstr(e->msg, b));
}

static bool mentions_any(const gw_diag_entry *e, const char *a)
{
    char all[sizeof(e->msg) + sizeof(e->hint) + 2];
    snprintf(all, sizeof(all), "%s %s", e->msg, e->hint);
    return strstr(all, a) != NULL;
}

static json_t *records(const gw_tag *t, const gw_value *v)
{
    json_t *arr = json_array();
    assert_non_null(arr);
    assert_int_equal(gw_tag_records(t, v, arr), GW_OK);
    return arr;
}

static gw_value decode1(const gw_tagmap *m, const gw_tag *t, const uint16_t *regs)
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

/* The first output record of a register tag holding `regs` (a new reference). */
static json_t *rec_regs(const gw_tagmap *m, const gw_tag *t, const uint16_t *regs)
{
    gw_value v = decode1(m, t, regs);
    json_t *arr = records(t, &v);
    gw_value_clear(&v);
    json_t *rec = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    assert_non_null(rec);
    return rec;
}

static const char *rec_str(json_t *rec, const char *key)
{
    const char *s = json_string_value(json_object_get(rec, key));
    return s ? s : "(none)";
}

/* Asserts that the record's member names are exactly `names`, in order. */
static void assert_members(json_t *rec, const char *const *names, size_t n)
{
    size_t i = 0;
    bool ok = json_object_size(rec) == n;
    for (void *it = json_object_iter(rec); it && ok; it = json_object_iter_next(rec, it), i++)
        ok = strcmp(json_object_iter_key(it), names[i]) == 0;
    if (!ok) {
        char *s = json_dumps(rec, JSON_PRESERVE_ORDER);
        print_error("record %s, expected members:", s);
        for (size_t k = 0; k < n; k++)
            print_error(" %s", names[k]);
        print_error("\n");
        free(s);
    }
    assert_true(ok);
}

/* ------------------------------------------------------------ addresses */

static void test_addr_parse(void **state)
{
    (void)state;
    const struct {
        const char *key;
        gw_driver drv;
        int cls;         /* Modbus class or S7 area */
        uint32_t reg;    /* register or byte */
        int half;        /* half, or S7 bit */
        int end;         /* end register, -1 none */
        uint16_t db;
        char width;
    } good[] = {
        {"30011", GW_DRIVER_MODBUS, GW_MB_INPUT, 11, GW_HALF_NONE, -1, 0, 0},
        {"40009", GW_DRIVER_MODBUS, GW_MB_HOLDING, 9, GW_HALF_NONE, -1, 0, 0},
        {"00000", GW_DRIVER_MODBUS, GW_MB_COIL, 0, GW_HALF_NONE, -1, 0, 0},
        {"10001", GW_DRIVER_MODBUS, GW_MB_DISCRETE, 1, GW_HALF_NONE, -1, 0, 0},
        {"365535", GW_DRIVER_MODBUS, GW_MB_INPUT, 65535, GW_HALF_NONE, -1, 0, 0},
        {"412345", GW_DRIVER_MODBUS, GW_MB_HOLDING, 12345, GW_HALF_NONE, -1, 0, 0},
        {"30034/1", GW_DRIVER_MODBUS, GW_MB_INPUT, 34, GW_HALF_HIGH, -1, 0, 0},
        {"30034/2", GW_DRIVER_MODBUS, GW_MB_INPUT, 34, GW_HALF_LOW, -1, 0, 0},
        {"30011/30012", GW_DRIVER_MODBUS, GW_MB_INPUT, 11, GW_HALF_NONE, 12, 0, 0},
        {"40100/40109", GW_DRIVER_MODBUS, GW_MB_HOLDING, 100, GW_HALF_NONE, 109, 0, 0},
        {"DB3.DBX1.3", GW_DRIVER_S7, GW_S7_DB, 1, 3, -1, 3, 'X'},
        {"DB2.DBB24", GW_DRIVER_S7, GW_S7_DB, 24, 0, -1, 2, 'B'},
        {"DB2.DBW20", GW_DRIVER_S7, GW_S7_DB, 20, 0, -1, 2, 'W'},
        {"DB2.DBD0", GW_DRIVER_S7, GW_S7_DB, 0, 0, -1, 2, 'D'},
        {"DB65535.DBB2097151", GW_DRIVER_S7, GW_S7_DB, 2097151, 0, -1, 65535, 'B'},
        {"M10.0", GW_DRIVER_S7, GW_S7_M, 10, 0, -1, 0, 'X'},
        {"MB10", GW_DRIVER_S7, GW_S7_M, 10, 0, -1, 0, 'B'},
        {"MW20", GW_DRIVER_S7, GW_S7_M, 20, 0, -1, 0, 'W'},
        {"MD30", GW_DRIVER_S7, GW_S7_M, 30, 0, -1, 0, 'D'},
        {"I0.7", GW_DRIVER_S7, GW_S7_I, 0, 7, -1, 0, 'X'},
        {"IW0", GW_DRIVER_S7, GW_S7_I, 0, 0, -1, 0, 'W'},
        {"Q0.1", GW_DRIVER_S7, GW_S7_Q, 0, 1, -1, 0, 'X'},
        {"QB4", GW_DRIVER_S7, GW_S7_Q, 4, 0, -1, 0, 'B'},
        {"QD8", GW_DRIVER_S7, GW_S7_Q, 8, 0, -1, 0, 'D'},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        gw_addr a;
        char why[200] = "";
        gw_err rc = gw_addr_parse(good[i].key, &a, why, sizeof(why));
        if (rc != GW_OK)
            print_error("key %s rejected: %s\n", good[i].key, why);
        assert_int_equal(rc, GW_OK);
        assert_int_equal(a.driver, good[i].drv);
        if (a.driver == GW_DRIVER_MODBUS) {
            assert_int_equal(a.mb_class, good[i].cls);
            assert_int_equal(a.reg, good[i].reg);
            assert_int_equal(a.half, good[i].half);
            assert_int_equal(a.has_end, good[i].end >= 0);
            if (good[i].end >= 0)
                assert_int_equal(a.end_reg, good[i].end);
        } else {
            assert_int_equal(a.area, good[i].cls);
            assert_int_equal(a.byte, good[i].reg);
            assert_int_equal(a.db, good[i].db);
            assert_int_equal(a.width, good[i].width);
            if (a.width == 'X')
                assert_int_equal(a.bit, good[i].half);
        }
        char buf[64];
        gw_addr_format(&a, buf, sizeof(buf));
        assert_string_equal(buf, good[i].key); /* all of these are canonical */
    }
    const char *bad[] = {
        "", "20001", "2001", "3001", "3000001", "4000A", "x0001", "30034/3", "30034/0",
        "30034/", "30012/30011", "30011/40012", "365536", "00001/1", "10001/2",
        "00001/00002", "40001 ", " 40001", "-40001", "DB0.DBX0.0", "DB65536.DBB0",
        "DB1.DBX0.8", "DB1.DBX0", "DB1.DBB0.1", "DB1.DBB2097152", "DB1.DBQ0", "DB1",
        "DB1.DBW", "MW", "M10", "M10.8", "db1.dbx0.0", "mw20", "X0.0", "DB1.DBX0.0.1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gw_addr a;
        char why[200] = "";
        gw_err rc = gw_addr_parse(bad[i], &a, why, sizeof(why));
        if (rc == GW_OK)
            print_error("bad key \"%s\" accepted\n", bad[i]);
        assert_int_not_equal(rc, GW_OK);
        assert_true(why[0] != '\0');
    }
}

static void test_type_helpers(void **state)
{
    (void)state;
    const struct {
        gw_type t;
        gw_driver d;
        const char *name;
        unsigned bits;
        bool is_float, is_signed;
    } cases[] = {
        {GW_T_I8, GW_DRIVER_MODBUS, "decode_8bit_int", 8, false, true},
        {GW_T_U8, GW_DRIVER_MODBUS, "decode_8bit_uint", 8, false, false},
        {GW_T_I16, GW_DRIVER_MODBUS, "decode_16bit_int", 16, false, true},
        {GW_T_U16, GW_DRIVER_MODBUS, "decode_16bit_uint", 16, false, false},
        {GW_T_F16, GW_DRIVER_MODBUS, "decode_16bit_float", 16, true, true},
        {GW_T_I32, GW_DRIVER_MODBUS, "decode_32bit_int", 32, false, true},
        {GW_T_U32, GW_DRIVER_MODBUS, "decode_32bit_uint", 32, false, false},
        {GW_T_F32, GW_DRIVER_MODBUS, "decode_32bit_float", 32, true, true},
        {GW_T_I64, GW_DRIVER_MODBUS, "decode_64bit_int", 64, false, true},
        {GW_T_U64, GW_DRIVER_MODBUS, "decode_64bit_uint", 64, false, false},
        {GW_T_F64, GW_DRIVER_MODBUS, "decode_64bit_float", 64, true, true},
        {GW_T_U8, GW_DRIVER_S7, "byte", 8, false, false},
        {GW_T_U16, GW_DRIVER_S7, "word", 16, false, false},
        {GW_T_I16, GW_DRIVER_S7, "int", 16, false, true},
        {GW_T_U32, GW_DRIVER_S7, "dword", 32, false, false},
        {GW_T_I32, GW_DRIVER_S7, "dint", 32, false, true},
        {GW_T_F32, GW_DRIVER_S7, "real", 32, true, true},
        {GW_T_F64, GW_DRIVER_S7, "lreal", 64, true, true},
        {GW_T_BOOL, GW_DRIVER_S7, "bool", 1, false, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(gw_type_name(cases[i].t, cases[i].d), cases[i].name);
        assert_int_equal(gw_type_bits(cases[i].t), cases[i].bits);
        assert_int_equal(gw_type_is_float(cases[i].t), cases[i].is_float);
        if (!cases[i].is_float)
            assert_int_equal(gw_type_is_signed(cases[i].t), cases[i].is_signed);
    }
    assert_string_equal(gw_type_name(GW_T_BITS, GW_DRIVER_MODBUS), "decode_bits");
    assert_string_equal(gw_type_name(GW_T_STRING, GW_DRIVER_MODBUS), "decode_string");
}

/* ------------------------------------------------------------ loading */

static const char BASIC[] =
    "{\n"
    "  \"mapping\": {\n"
    "    \"40009\": {\"parameter\": \"SP\", \"function\": \"decode_16bit_int\",\n"
    "              \"multiplier\": 0.1, \"offset\": -273, \"min\": 10, \"max\": 50,\n"
    "              \"unit\": \"C\", \"description\": \"Setpoint\", \"alias\": \"sp\",\n"
    "              \"group\": \"fast\", \"isTag\": true, \"defaultValue\": 24.0,\n"
    "              \"colour\": \"blue\", \"rank\": 3},\n"
    "    \"00003\": {\"parameter\": \"Coil\"},\n"
    "    \"10003\": {\"parameter\": \"DI\", \"function\": \"decode_bits\"},\n"
    "    \"30034/2\": {\"parameter\": \"TEST2\", \"function\": \"decode_bits\",\n"
    "                \"map\": {\"0b00000001\": \"test0\", \"0b10000000\": \"test7\"}},\n"
    "    \"30001\": {\"parameter\": \"State\", \"function\": \"decode_16bit_uint\",\n"
    "              \"map\": {\"0\": \"Idle\", \"-1\": \"Fault\", \"3\": \"Running\"}},\n"
    "    \"40100\": {\"parameter\": \"RO\", \"function\": \"decode_16bit_uint\", \"access\": \"r\"}\n"
    "  }\n"
    "}\n";

static void test_load_basic(void **state)
{
    (void)state;
    gw_diag d;
    gw_tagmap *m = load_ok(BASIC, &d);
    assert_int_equal(d.count, 0); /* no warnings either */
    assert_int_equal(gw_tagmap_driver(m), GW_DRIVER_MODBUS);
    assert_int_equal(gw_tagmap_byteorder(m), GW_ORDER_LITTLE); /* defaults "<", ">" */
    assert_int_equal(gw_tagmap_wordorder(m), GW_ORDER_BIG);
    assert_int_equal(gw_tagmap_count(m), 6);
    const char *order[] = {"SP", "Coil", "DI", "TEST2", "State", "RO"};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(gw_tagmap_at(m, i)->parameter, order[i]);

    const gw_tag *t = tag(m, "SP");
    assert_string_equal(t->key, "40009");
    gw_loc kl = loc_of(BASIC, "\"40009\"");
    assert_int_equal(t->loc.line, kl.line);
    assert_int_equal(t->loc.col, kl.col);
    assert_int_equal(t->type, GW_T_I16);
    assert_int_equal(t->nregs, 1);
    assert_true(t->scaled);
    assert_float_equal(t->multiplier, 0.1, 0.0);
    assert_float_equal(t->offset, -273.0, 0.0);
    assert_true(t->has_min && t->has_max);
    assert_float_equal(t->min, 10.0, 0.0);
    assert_float_equal(t->max, 50.0, 0.0);
    assert_string_equal(t->unit, "C");
    assert_string_equal(t->description, "Setpoint");
    assert_string_equal(t->alias, "sp");
    assert_string_equal(t->group, "fast");
    assert_int_equal(t->access, GW_ACCESS_RW);
    assert_non_null(t->is_tag);
    assert_true(json_is_true((json_t *)t->is_tag));
    assert_non_null(t->default_value);
    assert_float_equal(json_number_value((json_t *)t->default_value), 24.0, 0.0);
    assert_int_equal(t->nextras, 2);
    bool colour = false, rank = false;
    for (size_t i = 0; i < t->nextras; i++) {
        if (strcmp(t->extras[i].name, "colour") == 0) {
            colour = true;
            assert_string_equal(json_string_value((json_t *)t->extras[i].value), "blue");
        } else if (strcmp(t->extras[i].name, "rank") == 0) {
            rank = true;
            assert_int_equal(json_integer_value((json_t *)t->extras[i].value), 3);
        }
    }
    assert_true(colour && rank);

    t = tag(m, "Coil");
    assert_int_equal(t->type, GW_T_BOOL);
    assert_int_equal(t->access, GW_ACCESS_RW);
    assert_false(t->scaled);
    assert_float_equal(t->multiplier, 1.0, 0.0);
    assert_float_equal(t->offset, 0.0, 0.0);
    assert_false(t->has_min || t->has_max);
    assert_null(t->description);
    assert_null(t->group);
    assert_null(t->is_tag);
    assert_int_equal(t->nextras, 0);
    t = tag(m, "DI");
    assert_int_equal(t->type, GW_T_BOOL); /* decode_bits on a bit means the bit */
    assert_int_equal(t->access, GW_ACCESS_R);

    t = tag(m, "TEST2");
    assert_int_equal(t->type, GW_T_BITS);
    assert_int_equal(t->access, GW_ACCESS_R);
    assert_int_equal(t->nbitmap, 2);
    bool b0 = false, b7 = false;
    for (size_t i = 0; i < t->nbitmap; i++) {
        if (t->bitmap[i].bit == 0 && strcmp(t->bitmap[i].name, "test0") == 0)
            b0 = true;
        if (t->bitmap[i].bit == 7 && strcmp(t->bitmap[i].name, "test7") == 0)
            b7 = true;
    }
    assert_true(b0 && b7);

    t = tag(m, "State");
    assert_int_equal(t->nenums, 3);
    bool neg = false;
    for (size_t i = 0; i < t->nenums; i++)
        if (t->enums[i].key == -1 && strcmp(t->enums[i].text, "Fault") == 0)
            neg = true;
    assert_true(neg);
    assert_int_equal(tag(m, "RO")->access, GW_ACCESS_R);
    assert_null(gw_tagmap_find(m, "sp")); /* parameters are case-sensitive */
    gw_tagmap_free(m);
    gw_tagmap_free(NULL);
}

static void test_load_variants(void **state)
{
    (void)state;
    gw_diag d;
    /* halves of one register, the same number in different classes, gaps,
     * the highest register, the longest span */
    gw_tagmap *m = load_ok(
        "{\"mapping\": {\n"
        "\"30034/1\": {\"parameter\": \"h\", \"function\": \"decode_8bit_uint\"},\n"
        "\"30034/2\": {\"parameter\": \"l\", \"function\": \"decode_8bit_int\"},\n"
        "\"00001\": {\"parameter\": \"c\"},\n"
        "\"10001\": {\"parameter\": \"d\"},\n"
        "\"30001\": {\"parameter\": \"i\", \"function\": \"decode_16bit_int\"},\n"
        "\"40001/40125\": {\"parameter\": \"s\", \"function\": \"decode_string\"},\n"
        "\"365535\": {\"parameter\": \"top\", \"function\": \"decode_16bit_uint\"},\n"
        "\"00002\": {\"parameter\": \"c2\", \"function\": \"bool\"},\n"
        "\"365530/365533\": {\"parameter\": \"f\", \"function\": \"decode_64bit_float\"}\n"
        "}}", &d);
    assert_int_equal(tag(m, "s")->nregs, 125);
    assert_int_equal(tag(m, "s")->strlen_max, 250);
    assert_int_equal(tag(m, "top")->addr.reg, 65535);
    assert_int_equal(tag(m, "c2")->type, GW_T_BOOL);
    gw_tagmap_free(m);

    /* explicit driver and endianness */
    m = load_ok("{\"driver\": \"modbus\", \"endianness\": {\"byteorder\": \">\", \"wordorder\": \"<\"},"
                " \"mapping\": {\"40001\": {\"parameter\": \"x\", \"function\": \"decode_16bit_int\"}}}",
                &d);
    assert_int_equal(gw_tagmap_byteorder(m), GW_ORDER_BIG);
    assert_int_equal(gw_tagmap_wordorder(m), GW_ORDER_LITTLE);
    gw_tagmap_free(m);

    /* S7: bits of one byte, the same offset in other DBs and areas */
    m = load_ok("{\"driver\": \"s7\", \"mapping\": {\n"
                "\"DB2.DBX0.0\": {\"parameter\": \"a\"},\n"
                "\"DB2.DBX0.1\": {\"parameter\": \"b\", \"function\": \"bool\"},\n"
                "\"DB1.DBW0\": {\"parameter\": \"c\", \"function\": \"word\"},\n"
                "\"DB3.DBW0\": {\"parameter\": \"d\", \"function\": \"int\"},\n"
                "\"MW0\": {\"parameter\": \"e\", \"function\": \"word\"},\n"
                "\"IW0\": {\"parameter\": \"f\", \"function\": \"word\"},\n"
                "\"QW0\": {\"parameter\": \"g\", \"function\": \"word\"},\n"
                "\"DB4.DBB0\": {\"parameter\": \"h\", \"function\": \"string[254]\"},\n"
                "\"DB5.DBB0\": {\"parameter\": \"i\", \"function\": \"string[1]\"}\n"
                "}}", &d);
    assert_int_equal(gw_tagmap_driver(m), GW_DRIVER_S7);
    assert_int_equal(tag(m, "h")->nbytes, 256);
    assert_int_equal(tag(m, "h")->strlen_max, 254);
    assert_int_equal(tag(m, "i")->nbytes, 3);
    gw_tagmap_free(m);

    /* from an already parsed document, positions of the bigger file */
    const char *big = "{\"machine\": \"rig\",\n \"tags\": {\"mapping\": {\n"
                      "   \"40001\": {\"parameter\": \"x\", \"function\": \"decode_16bit_uint\"}}}}";
    gw_json_doc *doc = NULL;
    gw_diag_init(&d, "big.json");
    assert_int_equal(gw_json_parse(big, strlen(big), &doc, &d), GW_OK);
    gw_diag_init(&d, "big.json");
    assert_int_equal(gw_tagmap_from_json(gw_json_get(gw_json_root(doc), "tags"), &m, &d), GW_OK);
    assert_non_null(m);
    assert_int_equal(tag(m, "x")->loc.line, 3);
    assert_int_equal(tag(m, "x")->loc.col, 4);
    gw_tagmap_free(m);
    gw_json_doc_free(doc);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/test_tagmap_load.json", GW_BINARY_DIR);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("{\"mapping\": {\n  \"40001\": {\"parameter\": \"x\", \"function\": \"decode_17bit_int\"}}}",
          f);
    fclose(f);
    gw_diag d;
    gw_tagmap *m = NULL;
    assert_int_equal(gw_tagmap_load_file(path, &m, &d), GW_E_CONFIG);
    assert_null(m);
    assert_string_equal(d.file, path);
    assert_true(d.count >= 1);
    assert_int_equal(d.entries[0].loc.line, 2);
    remove(path);
    /* load_buf: `name` is the file name in messages */
    const char *bad = "{\"mapping\": {\"40001\": {\"parameter\": 1, " T16 "}}}";
    assert_int_equal(load_diag(bad, &m, &d), GW_E_CONFIG);
    assert_string_equal(d.file, "map.json");
    char first[400];
    gw_diag_first(&d, first, sizeof(first));
    assert_true(strncmp(first, "map.json:1:", 11) == 0);
    snprintf(path, sizeof(path), "%s/no/such/map.json", GW_BINARY_DIR);
    assert_int_not_equal(gw_tagmap_load_file(path, &m, &d), GW_OK);
    assert_null(m);
    assert_true(gw_diag_failed(&d));
}

/* ------------------------------------------------------------ configuration errors */

typedef struct {
    const char *name;
    const char *json;
    const char *at, *at_alt;           /* error at the first occurrence of either */
    const char *mention, *mention_alt; /* the message names one of these */
} cfg_case;

/* shorthands for the tables below */
#define PA "\"parameter\": \"a\""
#define PB "\"parameter\": \"b\""
#define FN(f) "\"function\": \"" f "\""
#define S7(body) "{\"mapping\": {" body "}}"
#define U16A "\"40001\": {" PA ", " T16

static const cfg_case CFG[] = {
    /* the document */
    {"malformed JSON", MB(U16A ",}"), ",}", "}\n}}", NULL, NULL},
    {"missing mapping", "{\"endianness\": {\"byteorder\": \"<\", \"wordorder\": \">\"}}", "{", NULL,
     "mapping", NULL},
    {"Mapping in the wrong case", "{\"Mapping\": {" U16A "}}}", "\"Mapping\"", NULL, "Mapping", NULL},
    {"mapping not an object", "{\"mapping\": [1]}", "[1]", "\"mapping\"", "mapping", NULL},
    {"unknown top-level member", "{\"mapping\": {" U16A "}},\n \"colour\": 1}", "\"colour\"", NULL,
     "colour", NULL},
    {"byteorder not < or >", "{\"endianness\": {\"byteorder\": \"big\", \"wordorder\": \">\"},\n"
     " \"mapping\": {" U16A "}}}", "\"big\"", "\"byteorder\"", "byteorder", NULL},
    {"endianness not an object", "{\"endianness\": \"<\",\n \"mapping\": {" U16A "}}}", "\"<\"",
     "\"endianness\"", "endianness", NULL},
    {"unknown driver", "{\"driver\": \"profinet\",\n \"mapping\": {" U16A "}}}", "\"profinet\"",
     "\"driver\"", "driver", "profinet"},
    {"driver s7 with a Modbus key", "{\"driver\": \"s7\",\n \"mapping\": {" U16A "}}}", "\"40001\"",
     "\"s7\"", NULL, NULL},
    {"tag not an object", MB("\"40001\": \"x\""), "\"x\"", "\"40001\"", NULL, NULL},
    /* bad keys: at the key, naming it */
    {"class 2", MB("\"20001\": {" PA ", " T16 "}"), "\"20001\"", NULL, "20001", NULL},
    {"letters", MB("\"4000A\": {" PA ", " T16 "}"), "\"4000A\"", NULL, "4000A", NULL},
    {"half 3", MB("\"30034/3\": {" PA ", " FN("decode_8bit_uint") "}"), "\"30034/3\"", NULL, "30034/3", NULL},
    {"end before start", MB("\"30012/30011\": {" PA ", " FN("decode_32bit_int") "}"), "\"30012/30011\"",
     NULL, "30012/30011", NULL},
    {"end in another class", MB("\"30011/40012\": {" PA ", " FN("decode_32bit_int") "}"),
     "\"30011/40012\"", NULL, "30011/40012", NULL},
    {"register > 65535", MB("\"365536\": {" PA ", " T16 "}"), "\"365536\"", NULL, "365536", NULL},
    {"32 bits past register 65535", MB("\"365535\": {" PA ", " FN("decode_32bit_int") "}"),
     "\"365535\"", "\"decode_32bit_int\"", "365535", "decode_32bit_int"},
    {"too few digits", MB("\"3001\": {" PA ", " T16 "}"), "\"3001\"", NULL, "3001", NULL},
    {"half of a coil", MB("\"00001/1\": {" PA "}"), "\"00001/1\"", NULL, "00001/1", NULL},
    {"DB0", S7("\"DB0.DBX0.0\": {" PA "}"), "\"DB0.DBX0.0\"", NULL, "DB0.DBX0.0", NULL},
    {"bit 8", S7("\"DB1.DBX0.8\": {" PA "}"), "\"DB1.DBX0.8\"", NULL, "DB1.DBX0.8", NULL},
    {"MW without offset", S7("\"MW\": {" PA ", " FN("word") "}"), "\"MW\"", NULL, "MW", NULL},
    {"lower case S7", S7("\"db1.dbx0.0\": {" PA "}"), "\"db1.dbx0.0\"", NULL, "db1.dbx0.0", NULL},
    /* functions: at the function or the key, naming either */
    {"unknown function", MB("\"40001\": {" PA ", " FN("decode_17bit_int") "}"), "\"decode_17bit_int\"",
     "\"function\"", "decode_17bit_int", NULL},
    {"register without function", MB("\"40001\": {" PA "}"), "\"40001\"", "{\"parameter\"",
     "function", NULL},
    {"16 bits on a half", MB("\"30034/1\": {" PA ", " FN("decode_16bit_int") "}"),
     "\"decode_16bit_int\"", "\"30034/1\"", "decode_16bit_int", "30034/1"},
    {"8 bits on a register", MB("\"30034\": {" PA ", " FN("decode_8bit_uint") "}"),
     "\"decode_8bit_uint\"", "\"30034\"", "decode_8bit_uint", "30034"},
    {"string on a half", MB("\"30034/2\": {" PA ", " FN("decode_string") "}"), "\"decode_string\"",
     "\"30034/2\"", "decode_string", "30034/2"},
    {"32 bits on 3 registers", MB("\"30011/30013\": {" PA ", " FN("decode_32bit_float") "}"),
     "\"decode_32bit_float\"", "\"30011/30013\"", "decode_32bit_float", "30011/30013"},
    {"64 bits on 2 registers", MB("\"30011/30012\": {" PA ", " FN("decode_64bit_float") "}"),
     "\"decode_64bit_float\"", "\"30011/30012\"", "decode_64bit_float", "30011/30012"},
    {"16 bits on 2 registers", MB("\"30011/30012\": {" PA ", " FN("decode_16bit_int") "}"),
     "\"decode_16bit_int\"", "\"30011/30012\"", "decode_16bit_int", "30011/30012"},
    {"register function on a coil", MB("\"00001\": {" PA ", " FN("decode_16bit_int") "}"),
     "\"decode_16bit_int\"", "\"00001\"", "decode_16bit_int", "00001"},
    {"S7 function on a register", MB("\"40001\": {" PA ", " FN("real") "}"), "\"real\"", "\"40001\"",
     "real", "40001"},
    {"string over 125 registers", MB("\"40001/40126\": {" PA ", " FN("decode_string") "}"),
     "\"40001/40126\"", "\"decode_string\"", "40001/40126", "125"},
    {"real on DBW", S7("\"DB1.DBW0\": {" PA ", " FN("real") "}"), "\"real\"", "\"DB1.DBW0\"", "real",
     "DB1.DBW0"},
    {"int on DBD", S7("\"DB1.DBD0\": {" PA ", " FN("int") "}"), "\"int\"", "\"DB1.DBD0\"", "int",
     "DB1.DBD0"},
    {"word on DBB", S7("\"DB1.DBB0\": {" PA ", " FN("word") "}"), "\"word\"", "\"DB1.DBB0\"", "word",
     "DB1.DBB0"},
    {"byte on DBX", S7("\"DB1.DBX0.0\": {" PA ", " FN("byte") "}"), "\"byte\"", "\"DB1.DBX0.0\"",
     "byte", "DB1.DBX0.0"},
    {"lreal on DBW", S7("\"DB1.DBW0\": {" PA ", " FN("lreal") "}"), "\"lreal\"", "\"DB1.DBW0\"",
     "lreal", "DB1.DBW0"},
    {"string on DBW", S7("\"DB1.DBW0\": {" PA ", " FN("string[10]") "}"), "\"string[10]\"",
     "\"DB1.DBW0\"", "string", "DB1.DBW0"},
    {"string[0]", S7("\"DB1.DBB0\": {" PA ", " FN("string[0]") "}"), "\"string[0]\"", "\"DB1.DBB0\"",
     "string[0]", NULL},
    {"string[255]", S7("\"DB1.DBB0\": {" PA ", " FN("string[255]") "}"), "\"string[255]\"",
     "\"DB1.DBB0\"", "string[255]", NULL},
    {"Modbus function on S7", S7("\"DB1.DBW0\": {" PA ", " T16 "}"), "\"decode_16bit_uint\"",
     "\"DB1.DBW0\"", "decode_16bit_uint", "DB1.DBW0"},
    {"S7 word without function", S7("\"DB1.DBW0\": {" PA "}"), "\"DB1.DBW0\"", "{\"parameter\"",
     "function", NULL},
    /* parameters */
    {"missing parameter", MB("\"40001\": {" T16 "}"), "\"40001\"", "{\"function\"", "parameter", NULL},
    {"parameter not a string", MB("\"40001\": {\"parameter\": 5, " T16 "}"), "5,", "\"parameter\"",
     "parameter", NULL},
    /* overlaps: reported at the later key */
    {"span and register", MB("\"30011/30012\": {" PA ", " FN("decode_32bit_int") "},\n"
                             "\"30012\": {" PB ", " T16 "}"), "\"30012\":", NULL, "30012", NULL},
    {"implicit span", MB("\"30011\": {" PA ", " FN("decode_32bit_float") "},\n\"30012\": {" PB ", " T16 "}"),
     "\"30012\"", NULL, "30012", "30011"},
    {"register and half", MB(U16A "},\n\"40001/1\": {" PB ", " FN("decode_8bit_uint") "}"),
     "\"40001/1\"", NULL, "40001", NULL},
    {"half and register", MB("\"40001/2\": {" PB ", " FN("decode_8bit_uint") "},\n" U16A "}"),
     "\"40001\":", NULL, "40001", NULL},
    {"one register, two spellings", MB(U16A "},\n\"400001\": {" PB ", " T16 "}"), "\"400001\"", NULL,
     "400001", "40001"},
    {"duplicate key in mapping", MB(U16A "},\n\"40001\" : {" PB ", " T16 "}"), "\"40001\" :", NULL,
     "40001", NULL},
    {"string span", MB("\"40001/40010\": {" PA ", " FN("decode_string") "},\n\"40005\": {" PB ", " T16 "}"),
     "\"40005\"", NULL, "40005", "40001"},
    {"S7 word and byte", S7("\"DB2.DBW0\": {" PA ", " FN("word") "},\n\"DB2.DBB1\": {" PB ", " FN("byte") "}"),
     "\"DB2.DBB1\"", NULL, "DB2.DBB1", "DB2.DBW0"},
    {"S7 real and word", S7("\"DB2.DBD0\": {" PA ", " FN("real") "},\n\"DB2.DBW2\": {" PB ", " FN("word") "}"),
     "\"DB2.DBW2\"", NULL, "DB2.DBW2", "DB2.DBD0"},
    {"S7 string and byte", S7("\"DB2.DBB30\": {" PA ", " FN("string[10]") "},\n"
                              "\"DB2.DBB41\": {" PB ", " FN("byte") "}"),
     "\"DB2.DBB41\"", NULL, "DB2.DBB41", "DB2.DBB30"},
    {"S7 byte and its bit", S7("\"MB4\": {" PA ", " FN("byte") "},\n\"M4.2\": {" PB "}"), "\"M4.2\"",
     NULL, "M4.2", "MB4"},
    /* features that do not fit the type: at the feature or its value */
    {"multiplier on a string", MB("\"40001/40002\": {" PA ", " FN("decode_string") ", \"multiplier\": 2}"),
     "\"multiplier\"", "2}", "multiplier", NULL},
    {"offset on bits", MB("\"40001/1\": {" PA ", " FN("decode_bits") ", \"offset\": 1}"), "\"offset\"",
     "1}", "offset", NULL},
    {"min on a coil", MB("\"00001\": {" PA ", \"min\": 0}"), "\"min\"", "0}", "min", NULL},
    {"multiplier 0", MB(U16A ", \"multiplier\": 0}"), "\"multiplier\"", "0}", "multiplier", NULL},
    {"min > max", MB(U16A ", \"min\": 5, \"max\": 4}"), "\"min\"", "5, \"max\"", "min", "max"},
    /* maps */
    {"two bits in a bit map key", MB("\"40001/2\": {" PA ", " FN("decode_bits") ",\n"
                                     " \"map\": {\"0b11\": \"x\"}}"), "\"0b11\"", NULL, "0b11", NULL},
    {"no bit in a bit map key", MB("\"40001/2\": {" PA ", " FN("decode_bits") ",\n"
                                   " \"map\": {\"0b00000000\": \"x\"}}"), "\"0b00000000\"", NULL,
     "0b00000000", NULL},
    {"bit 8 of a byte", MB("\"40001/2\": {" PA ", " FN("decode_bits") ",\n"
                           " \"map\": {\"0b100000000\": \"x\"}}"), "\"0b100000000\"", NULL,
     "0b100000000", NULL},
    {"not binary", MB("\"40001/2\": {" PA ", " FN("decode_bits") ",\n"
                      " \"map\": {\"0b00000012\": \"x\"}}"), "\"0b00000012\"", NULL, "0b00000012", NULL},
    {"enum key not an integer", MB(U16A ",\n \"map\": {\"0\": \"ok\", \"abc\": \"x\"}}"), "\"abc\"", NULL,
     "abc", NULL},
    {"enum key with a fraction", MB(U16A ",\n \"map\": {\"1.5\": \"x\"}}"), "\"1.5\"", NULL, "1.5", NULL},
    {"bit map on a number", MB(U16A ",\n \"map\": {\"0b00000001\": \"x\"}}"), "\"0b00000001\"",
     "\"map\"", "0b00000001", "map"},
    {"map value not a string", MB(U16A ",\n \"map\": {\"0\": 5}}"), "5}", "\"0\"", NULL, NULL},
    {"map not an object", MB(U16A ", \"map\": [1]}"), "[1]", "\"map\"", "map", NULL},
    /* drivers */
    {"S7 and Modbus keys", MB(U16A "},\n\"DB1.DBW0\": {" PB ", " FN("word") "}"), "\"DB1.DBW0\"", NULL,
     "DB1.DBW0", NULL},
    /* access */
    {"rw on an input register", MB("\"30001\": {" PA ", " T16 ", \"access\": \"rw\"}"), "\"rw\"",
     "\"access\"", "access", "rw"},
    {"rw on a discrete input", MB("\"10001\": {" PA ", \"access\": \"rw\"}"), "\"rw\"", "\"access\"",
     "access", "rw"},
    {"access x", MB(U16A ", \"access\": \"x\"}"), "\"x\"", "\"access\"", "access", NULL},
    /* kinds: at the value or its feature, naming the feature */
    {"isTag a string", MB(U16A ", \"isTag\": \"yes\"}"), "\"yes\"", "\"isTag\"", "isTag", NULL},
    {"multiplier a string", MB(U16A ", \"multiplier\": \"2\"}"), "\"2\"", "\"multiplier\"",
     "multiplier", NULL},
    {"unit a number", MB(U16A ", \"unit\": 3}"), "3}", "\"unit\"", "unit", NULL},
    {"description a boolean", MB(U16A ", \"description\": true}"), "true", "\"description\"",
     "description", NULL},
    {"alias an array", MB(U16A ", \"alias\": []}"), "[]", "\"alias\"", "alias", NULL},
    {"group a number", MB(U16A ", \"group\": 1}"), "1}", "\"group\"", "group", NULL},
    {"min a string", MB(U16A ", \"min\": \"1\"}"), "\"1\"", "\"min\"", "min", NULL},
    {"function a number", MB("\"40001\": {" PA ", \"function\": 16}"), "16}", "\"function\"",
     "function", NULL},
};

static bool check_cfg_case(const cfg_case *c)
{
    gw_tagmap *m = (gw_tagmap *)(uintptr_t)1;
    gw_diag d;
    gw_err rc = load_diag(c->json, &m, &d);
    if (rc != GW_E_CONFIG) {
        print_error("[%s] rc %s, expected GW_E_CONFIG\n", c->name, gw_err_name(rc));
        if (rc == GW_OK)
            gw_tagmap_free(m);
        return false;
    }
    bool ok = true;
    if (m != NULL) {
        print_error("[%s] map created despite the error\n", c->name);
        ok = false;
    }
    gw_loc a = loc_of(c->json, c->at);
    gw_loc b = c->at_alt ? loc_of(c->json, c->at_alt) : a;
    for (size_t i = 0; i < d.count; i++) {
        const gw_diag_entry *e = &d.entries[i];
        bool here = (e->loc.line == a.line && e->loc.col == a.col) ||
                    (e->loc.line == b.line && e->loc.col == b.col);
        if (here && !e->warning && mentions(e, c->mention, c->mention_alt))
            return ok;
    }
    print_error("[%s] no error at %u:%u%s mentioning \"%s\"; got:\n", c->name, a.line, a.col,
                c->at_alt ? " (or alt)" : "", c->mention ? c->mention : "");
    gw_diag_print(&d, stderr);
    return false;
}

static void test_config_errors(void **state)
{
    (void)state;
    size_t failed = 0, n = sizeof(CFG) / sizeof(CFG[0]);
    for (size_t i = 0; i < n; i++)
        if (!check_cfg_case(&CFG[i]))
            failed++;
    if (failed)
        print_error("%zu of %zu configuration error cases failed\n", failed, n);
    assert_int_equal(failed, 0);
}

static void test_duplicate_parameter(void **state)
{
    (void)state;
    const char *text = "{\"mapping\": {\n"
                       "  \"40001\": {\"parameter\": \"Temp\", " T16 "},\n"
                       "  \"40002\": {\"parameter\": \"Other\", " T16 "},\n"
                       "  \"40003\": {\"parameter\": \"Temp\", " T16 "}\n"
                       "}}";
    gw_tagmap *m;
    gw_diag d;
    assert_int_equal(load_diag(text, &m, &d), GW_E_CONFIG);
    assert_null(m);
    /* at the second use (its key, "parameter" or value, all on line 4),
     * naming the first (line 2) */
    bool found = false;
    for (size_t i = 0; i < d.count; i++) {
        const gw_diag_entry *e = &d.entries[i];
        if (e->warning || e->loc.line != 4 || !strstr(e->msg, "Temp"))
            continue;
        if (strstr(e->msg, "line 2") || strstr(e->msg, ":2:") || strstr(e->msg, "2:3") ||
            strstr(e->msg, "40001"))
            found = true;
    }
    if (!found)
        gw_diag_print(&d, stderr);
    assert_true(found);
}

static void test_several_errors_one_pass(void **state)
{
    (void)state;
    const char *text = "{\"mapping\": {\n"
                       "  \"20001\": {\"parameter\": \"a\", " T16 "},\n"
                       "  \"40001\": {\"parameter\": \"b\", \"function\": \"decode_17bit_int\"},\n"
                       "  \"40002\": {\"parameter\": \"c\", " T16 ", \"isTag\": \"yes\"},\n"
                       "  \"40003\": {\"parameter\": \"d\", " T16 ", \"min\": 5, \"max\": 1},\n"
                       "  \"40004\": {\"parameter\": \"e\", " T16 "}\n"
                       "}}";
    gw_tagmap *m;
    gw_diag d;
    assert_int_equal(load_diag(text, &m, &d), GW_E_CONFIG);
    assert_null(m);
    assert_true(d.count > 1);
    assert_true(d.errors >= 4);
    bool line[7] = {false};
    for (size_t i = 0; i < d.count; i++)
        if (!d.entries[i].warning && d.entries[i].loc.line < 7)
            line[d.entries[i].loc.line] = true;
    assert_true(line[2] && line[3] && line[4] && line[5]);
    assert_false(line[6]);

    /* past GW_DIAG_MAX problems are counted, not held */
    char big[8192];
    size_t o = (size_t)snprintf(big, sizeof(big), "{\"mapping\": {\n");
    for (int i = 0; i < GW_DIAG_MAX + 5; i++)
        o += (size_t)snprintf(big + o, sizeof(big) - o,
                              "%s  \"%d\": {\"parameter\": \"p%d\", " T16 "}", i ? ",\n" : "",
                              20000 + i, i);
    snprintf(big + o, sizeof(big) - o, "\n}}");
    assert_int_equal(load_diag(big, &m, &d), GW_E_CONFIG);
    assert_int_equal(d.count, GW_DIAG_MAX);
    assert_true(d.errors >= GW_DIAG_MAX + 5);
    assert_true(d.dropped >= 5);
}

static void test_warnings(void **state)
{
    (void)state;
    /* case near-misses are passed through with a warning naming the known
     * feature; unknown features silently */
    const char *text = "{\"mapping\": {\n"
                       "  \"40001\": {\"parameter\": \"a\", " T16 ", \"defaultvalue\": 24.0,\n"
                       "            \"Multiplier\": 2, \"default\": \"x\"}\n"
                       "}}";
    gw_diag d;
    gw_tagmap *m = load_ok(text, &d);
    bool dv = false, mul = false;
    for (size_t i = 0; i < d.count; i++) {
        const gw_diag_entry *e = &d.entries[i];
        assert_true(e->warning);
        gw_loc a = loc_of(text, "\"defaultvalue\""), b = loc_of(text, "\"Multiplier\"");
        if (e->loc.line == a.line && e->loc.col == a.col && mentions_any(e, "defaultValue"))
            dv = true;
        if (e->loc.line == b.line && e->loc.col == b.col && mentions_any(e, "\"multiplier\""))
            mul = true;
    }
    if (!dv || !mul)
        gw_diag_print(&d, stderr);
    assert_true(dv && mul);
    assert_int_equal(d.count, 2); /* "default" is just passed through */
    const gw_tag *t = tag(m, "a");
    assert_false(t->scaled); /* "Multiplier" is not "multiplier" */
    assert_null(t->default_value);
    assert_int_equal(t->nextras, 3);
    /* and they reach the output */
    uint16_t r = 0x0500; /* 5 */
    gw_value v = decode1(m, t, &r);
    assert_int_equal(v.kind, GW_V_INT);
    assert_int_equal(v.v.i, 5);
    json_t *arr = records(t, &v);
    json_t *rec = json_array_get(arr, 0);
    assert_float_equal(json_number_value(json_object_get(rec, "defaultvalue")), 24.0, 0.0);
    assert_int_equal(json_integer_value(json_object_get(rec, "Multiplier")), 2);
    assert_string_equal(json_string_value(json_object_get(rec, "default")), "x");
    json_decref(arr);
    gw_tagmap_free(m);

    /* endianness on an S7 map: a warning */
    text = "{\"endianness\": {\"byteorder\": \">\", \"wordorder\": \">\"},\n"
           " \"mapping\": {\"DB1.DBW0\": {\"parameter\": \"a\", \"function\": \"word\"}}}";
    m = load_ok(text, &d);
    assert_true(d.count >= 1);
    assert_true(d.entries[0].warning);
    gw_tagmap_free(m);
}

/* ------------------------------------------------------------ records */

static void test_record_member_order(void **state)
{
    (void)state;
    /* features written in a scrambled order */
    const char *text =
        "{\"mapping\": {\n"
        "\"40009\": {\"zeta\": 1, \"max\": 50, \"min\": 10, \"defaultValue\": 24, \"isTag\": true,\n"
        "  \"alias\": \"WS\", \"description\": \"Setpoint Water\", \"unit\": \"DegreesCelsius\",\n"
        "  \"function\": \"decode_16bit_int\", \"map\": {\"24\": \"normal\"}, \"alpha\": \"x\",\n"
        "  \"parameter\": \"Water_Setpoint.SP_r\", \"multiplier\": 0.1, \"offset\": -273},\n"
        "\"30034/2\": {\"function\": \"decode_bits\", \"description\": \"bits\", \"parameter\": \"TEST2\",\n"
        "  \"map\": {\"0b00000001\": \"test0\", \"0b00000010\": \"test1\", \"0b00000100\": \"test2\",\n"
        "           \"0b00001000\": \"test3\", \"0b00010000\": \"test4\", \"0b00100000\": \"test5\",\n"
        "           \"0b01000000\": \"test6\", \"0b10000000\": \"test7\"}}\n"
        "}}";
    gw_diag d;
    gw_tagmap *m = load_ok(text, &d);
    const gw_tag *t = tag(m, "Water_Setpoint.SP_r");
    uint16_t r = 0x9A0B; /* raw 2970 under byteorder "<": 24.0 */
    gw_value v = decode1(m, t, &r);
    json_t *arr = records(t, &v);
    assert_int_equal(json_array_size(arr), 1);
    json_t *rec = json_array_get(arr, 0);
    const char *first[] = {"parameter", "value", "value_alt", "datatype", "unit", "description",
                           "alias", "isTag", "defaultValue", "min", "max"};
    size_t i = 0;
    bool ok = json_object_size(rec) == 13;
    for (void *it = json_object_iter(rec); it && ok; it = json_object_iter_next(rec, it), i++) {
        const char *k = json_object_iter_key(it);
        if (i < 11)
            ok = strcmp(k, first[i]) == 0;
        else
            ok = strcmp(k, "zeta") == 0 || strcmp(k, "alpha") == 0;
    }
    if (!ok) {
        char *s = json_dumps(rec, JSON_PRESERVE_ORDER);
        print_error("record: %s\n", s);
        free(s);
    }
    assert_true(ok);
    assert_string_equal(json_string_value(json_object_get(rec, "parameter")),
                        "Water_Setpoint.SP_r");
    assert_float_equal(json_number_value(json_object_get(rec, "value")), 24.0, 1e-9);
    assert_string_equal(json_string_value(json_object_get(rec, "value_alt")), "normal");
    assert_string_equal(json_string_value(json_object_get(rec, "datatype")), "double");
    assert_string_equal(json_string_value(json_object_get(rec, "unit")), "DegreesCelsius");
    assert_string_equal(json_string_value(json_object_get(rec, "description")), "Setpoint Water");
    assert_string_equal(json_string_value(json_object_get(rec, "alias")), "WS");
    assert_true(json_is_true(json_object_get(rec, "isTag")));
    assert_float_equal(json_number_value(json_object_get(rec, "defaultValue")), 24.0, 0.0);
    assert_float_equal(json_number_value(json_object_get(rec, "min")), 10.0, 0.0);
    assert_float_equal(json_number_value(json_object_get(rec, "max")), 50.0, 0.0);
    assert_int_equal(json_integer_value(json_object_get(rec, "zeta")), 1);
    assert_string_equal(json_string_value(json_object_get(rec, "alpha")), "x");
    json_decref(arr);

    /* a bit map: one record per entry, parameter_alt and a boolean value */
    t = tag(m, "TEST2");
    r = 0x89AB; /* /2 = 0xAB: bits 0, 1, 3, 5, 7 */
    v = decode1(m, t, &r);
    arr = records(t, &v);
    assert_int_equal(json_array_size(arr), 8);
    const bool want[8] = {true, true, false, true, false, true, false, true};
    const char *bm[] = {"parameter", "parameter_alt", "value", "datatype", "description"};
    for (size_t b = 0; b < 8; b++) {
        char name[8];
        snprintf(name, sizeof(name), "test%zu", b);
        json_t *found = NULL;
        for (size_t k = 0; k < 8; k++) {
            json_t *x = json_array_get(arr, k);
            const char *alt = json_string_value(json_object_get(x, "parameter_alt"));
            if (alt && strcmp(alt, name) == 0)
                found = x;
        }
        assert_non_null(found);
        assert_members(found, bm, 5);
        assert_string_equal(json_string_value(json_object_get(found, "parameter")), "TEST2");
        assert_true(json_is_boolean(json_object_get(found, "value")));
        if (json_is_true(json_object_get(found, "value")) != want[b])
            print_error("bit %zu of 0xAB\n", b);
        assert_int_equal(json_is_true(json_object_get(found, "value")), want[b]);
        assert_string_equal(json_string_value(json_object_get(found, "datatype")), "boolean");
    }
    json_decref(arr);
    gw_tagmap_free(m);
}

static void test_record_enumeration(void **state)
{
    (void)state;
    const char *text =
        "{\"endianness\": {\"byteorder\": \">\", \"wordorder\": \">\"}, \"mapping\": {\n"
        "\"30001\": {\"parameter\": \"State\", \"function\": \"decode_16bit_int\",\n"
        "  \"map\": {\"0\": \"Idle\", \"2\": \"Starting\", \"-1\": \"Fault\"}},\n"
        "\"30003\": {\"parameter\": \"Warn\", \"function\": \"decode_32bit_float\",\n"
        "  \"map\": {\"0\": \"No warnings\", \"-1\": \"Coolant IN running High\",\n"
        "           \"-2\": \"Coolant IN running Low\", \"-524288\": \"Stall\"}}\n"
        "}}";
    gw_diag d;
    gw_tagmap *m = load_ok(text, &d);
    const struct {
        const char *p;
        uint16_t r[2];
        const char *alt; /* NULL: no value_alt */
    } cases[] = {
        {"State", {0x0002}, "Starting"},
        {"State", {0x0000}, "Idle"},
        {"State", {0xFFFF}, "Fault"},
        {"State", {0x0003}, NULL},
        {"Warn", {0xBF80, 0x0000}, "Coolant IN running High"}, /* -1.0 */
        {"Warn", {0xBF19, 0x999A}, "Coolant IN running High"}, /* -0.6 -> -1 */
        {"Warn", {0xBFB3, 0x3333}, "Coolant IN running High"}, /* -1.4 -> -1 */
        {"Warn", {0xBFCC, 0xCCCD}, "Coolant IN running Low"},  /* -1.6 -> -2 */
        {"Warn", {0x3ECC, 0xCCCD}, "No warnings"},             /* 0.4 -> 0 */
        {"Warn", {0xC900, 0x0000}, "Stall"},                   /* -524288.0 */
        {"Warn", {0x4000, 0x0000}, NULL},                      /* 2.0 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const gw_tag *t = tag(m, cases[i].p);
        gw_value v = decode1(m, t, cases[i].r);
        json_t *arr = records(t, &v);
        assert_int_equal(json_array_size(arr), 1);
        json_t *rec = json_array_get(arr, 0);
        const char *alt = json_string_value(json_object_get(rec, "value_alt"));
        if ((alt == NULL) != (cases[i].alt == NULL) ||
            (alt && strcmp(alt, cases[i].alt) != 0))
            print_error("%s case %zu: value_alt %s, want %s\n", cases[i].p, i,
                        alt ? alt : "(none)", cases[i].alt ? cases[i].alt : "(none)");
        if (cases[i].alt) {
            assert_non_null(alt);
            assert_string_equal(alt, cases[i].alt);
            const char *names[] = {"parameter", "value", "value_alt", "datatype"};
            assert_members(rec, names, 4);
        } else {
            assert_null(json_object_get(rec, "value_alt"));
        }
        json_decref(arr);
    }
    gw_tagmap_free(m);
}

static void test_record_values_and_datatypes(void **state)
{
    (void)state;
    const char *text =
        "{\"endianness\": {\"byteorder\": \">\", \"wordorder\": \">\"}, \"mapping\": {\n"
        "\"00001\": {\"parameter\": \"coil\"},\n"
        "\"10001\": {\"parameter\": \"di\"},\n"
        "\"40001/40002\": {\"parameter\": \"str\", \"function\": \"decode_string\"},\n"
        "\"40003/2\": {\"parameter\": \"bits\", \"function\": \"decode_bits\"},\n"
        "\"40003/1\": {\"parameter\": \"i8\", \"function\": \"decode_8bit_int\"},\n"
        "\"40004/1\": {\"parameter\": \"u8\", \"function\": \"decode_8bit_uint\"},\n"
        "\"40005\": {\"parameter\": \"i16\", \"function\": \"decode_16bit_int\"},\n"
        "\"40006\": {\"parameter\": \"u16\", \"function\": \"decode_16bit_uint\"},\n"
        "\"40007\": {\"parameter\": \"f16\", \"function\": \"decode_16bit_float\"},\n"
        "\"40008\": {\"parameter\": \"i32\", \"function\": \"decode_32bit_int\"},\n"
        "\"40010\": {\"parameter\": \"u32\", \"function\": \"decode_32bit_uint\"},\n"
        "\"40012\": {\"parameter\": \"f32\", \"function\": \"decode_32bit_float\"},\n"
        "\"40014\": {\"parameter\": \"i64\", \"function\": \"decode_64bit_int\"},\n"
        "\"40018\": {\"parameter\": \"u64\", \"function\": \"decode_64bit_uint\"},\n"
        "\"40022\": {\"parameter\": \"f64\", \"function\": \"decode_64bit_float\"},\n"
        "\"40026\": {\"parameter\": \"scaled\", \"function\": \"decode_32bit_uint\", \"offset\": 1},\n"
        "\"40028\": {\"parameter\": \"scaled16\", \"function\": \"decode_16bit_int\", \"multiplier\": 2}\n"
        "}}";
    gw_diag d;
    gw_tagmap *m = load_ok(text, &d);
    const struct {
        const char *p, *avro;
    } types[] = {
        {"coil", "boolean"}, {"di", "boolean"},   {"str", "string"},  {"bits", "boolean"},
        {"i8", "int"},       {"u8", "int"},       {"i16", "int"},     {"u16", "int"},
        {"f16", "float"},    {"i32", "int"},      {"u32", "long"},    {"f32", "float"},
        {"i64", "long"},     {"u64", "long"},     {"f64", "double"},  {"scaled", "double"},
        {"scaled16", "double"},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        const char *got = gw_tag_avro_type(tag(m, types[i].p));
        if (!got || strcmp(got, types[i].avro) != 0)
            print_error("%s: AVRO %s, want %s\n", types[i].p, got ? got : "NULL", types[i].avro);
        assert_non_null(got);
        assert_string_equal(got, types[i].avro);
    }

    /* values as JSON */
    gw_value v;
    gw_tag_decode_bit(tag(m, "coil"), true, &v);
    json_t *arr = records(tag(m, "coil"), &v);
    json_t *rec = json_array_get(arr, 0);
    const char *plain[] = {"parameter", "value", "datatype"};
    assert_members(rec, plain, 3);
    assert_true(json_is_true(json_object_get(rec, "value")));
    assert_string_equal(rec_str(rec, "datatype"), "boolean");
    json_decref(arr);

    const uint16_t s[2] = {0x4849, 0x2100}; /* "HI!" */
    rec = rec_regs(m, tag(m, "str"), s);
    assert_string_equal(rec_str(rec, "value"), "HI!");
    assert_string_equal(rec_str(rec, "datatype"), "string");
    json_decref(rec);

    const uint16_t b = 0x00AB;
    rec = rec_regs(m, tag(m, "bits"), &b);
    json_t *list = json_object_get(rec, "value");
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), 8);
    const int ab[8] = {1, 1, 0, 1, 0, 1, 0, 1};
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(json_is_true(json_array_get(list, i)), ab[i]);
    json_decref(rec);

    const uint16_t neg = 0xFFFB, u32max[2] = {0xFFFF, 0xFFFF}; /* -5, 4294967295 */
    rec = rec_regs(m, tag(m, "i16"), &neg);
    assert_true(json_is_integer(json_object_get(rec, "value")));
    assert_int_equal(json_integer_value(json_object_get(rec, "value")), -5);
    json_decref(rec);
    rec = rec_regs(m, tag(m, "u32"), u32max);
    assert_true(json_is_integer(json_object_get(rec, "value")));
    assert_int_equal(json_integer_value(json_object_get(rec, "value")), 4294967295LL);
    json_decref(rec);

    /* single and half precision: the value exactly, widened to double, no
     * rounding for display; -1/3 stored as a half is -0.333251953125, as
     * the reference tool of the universal Modbus client prints it */
    const uint16_t f01[2] = {0x3DCC, 0xCCCD}, h01 = 0x2E66, h_third = 0xB555;
    const uint16_t pi[4] = {0x4009, 0x21FB, 0x5444, 0x2D18};
    rec = rec_regs(m, tag(m, "f32"), f01);
    assert_true(json_number_value(json_object_get(rec, "value")) == (double)0.1f);
    char *out = gw_json_dumps(json_object_get(rec, "value"), 0);
    assert_string_equal(out, "0.10000000149011612");
    gw_free(out);
    json_decref(rec);
    rec = rec_regs(m, tag(m, "f16"), &h01);
    assert_true(json_number_value(json_object_get(rec, "value")) == 0.0999755859375);
    json_decref(rec);
    rec = rec_regs(m, tag(m, "f16"), &h_third);
    out = gw_json_dumps(json_object_get(rec, "value"), 0);
    assert_string_equal(out, "-0.333251953125");
    gw_free(out);
    json_decref(rec);
    rec = rec_regs(m, tag(m, "f64"), pi);
    assert_float_equal(json_number_value(json_object_get(rec, "value")), 3.141592653589793, 0.0);
    json_decref(rec);
    gw_tagmap_free(m);

    /* S7 AVRO types */
    m = load_ok("{\"mapping\": {\n"
                "\"DB1.DBX0.0\": {\"parameter\": \"bool\"},\n"
                "\"DB1.DBB1\": {\"parameter\": \"byte\", \"function\": \"byte\"},\n"
                "\"DB1.DBW2\": {\"parameter\": \"word\", \"function\": \"word\"},\n"
                "\"DB1.DBW4\": {\"parameter\": \"int\", \"function\": \"int\"},\n"
                "\"DB1.DBD6\": {\"parameter\": \"dword\", \"function\": \"dword\"},\n"
                "\"DB1.DBD10\": {\"parameter\": \"dint\", \"function\": \"dint\"},\n"
                "\"DB1.DBD14\": {\"parameter\": \"real\", \"function\": \"real\"},\n"
                "\"DB1.DBD18\": {\"parameter\": \"lreal\", \"function\": \"lreal\"},\n"
                "\"DB1.DBB26\": {\"parameter\": \"string\", \"function\": \"string[4]\"},\n"
                "\"DB1.DBB32\": {\"parameter\": \"mode\", \"function\": \"byte\",\n"
                "  \"map\": {\"1\": \"one\", \"255\": \"all\"}}\n"
                "}}", &d);
    const struct {
        const char *p, *avro;
    } s7[] = {{"bool", "boolean"}, {"byte", "int"},   {"word", "int"},
              {"int", "int"},      {"dword", "long"}, {"dint", "int"},
              {"real", "float"},   {"lreal", "double"}, {"string", "string"}};
    for (size_t i = 0; i < sizeof(s7) / sizeof(s7[0]); i++)
        assert_string_equal(gw_tag_avro_type(tag(m, s7[i].p)), s7[i].avro);
    /* an S7 byte with an enumeration */
    const uint8_t all = 0xFF;
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_tag_decode_bytes(tag(m, "mode"), &all, 1, &v, &err), GW_OK);
    assert_int_equal(v.kind, GW_V_INT);
    assert_int_equal(v.v.i, 255);
    arr = records(tag(m, "mode"), &v);
    rec = json_array_get(arr, 0);
    assert_string_equal(json_string_value(json_object_get(rec, "value_alt")), "all");
    assert_string_equal(json_string_value(json_object_get(rec, "datatype")), "int");
    json_decref(arr);
    gw_tagmap_free(m);
}

/* decode_64bit_uint above INT64_MAX prints as an exact unsigned integer
 * (docs/mapping.md, Functions) */
static void test_record_u64_exact(void **state)
{
    (void)state;
    gw_diag d;
    gw_tagmap *m = load_ok(MB("\"40018\": {\"parameter\": \"u64\", " FN("decode_64bit_uint") "}"), &d);
    const uint16_t u64max[4] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF};
    gw_value v = decode1(m, tag(m, "u64"), u64max);
    assert_int_equal(v.kind, GW_V_UINT);
    assert_true(v.v.u == UINT64_MAX);
    json_t *rec = rec_regs(m, tag(m, "u64"), u64max);
    gw_tagmap_free(m);
    char *dump = json_dumps(rec, JSON_PRESERVE_ORDER);
    json_decref(rec);
    assert_non_null(dump);
    /* docs/mapping.md: above INT64_MAX the exact digits are output as a string */
    bool exact_string = strstr(dump, "\"value\": \"18446744073709551615\"") != NULL;
    if (!exact_string)
        print_error("u64 record: %s (expected \"18446744073709551615\" as a string)\n", dump);
    free(dump);
    assert_true(exact_string);
}

/* ------------------------------------------------------------ write validation */

static const char WMAP[] =
    "{\"mapping\": {\n"
    "\"00001\": {\"parameter\": \"coil\"},\n"
    "\"10001\": {\"parameter\": \"di\"},\n"
    "\"30001\": {\"parameter\": \"in\", \"function\": \"decode_16bit_uint\"},\n"
    "\"30002/1\": {\"parameter\": \"inh\", \"function\": \"decode_8bit_uint\"},\n"
    "\"40001\": {\"parameter\": \"u16\", \"function\": \"decode_16bit_uint\"},\n"
    "\"40002\": {\"parameter\": \"i16\", \"function\": \"decode_16bit_int\"},\n"
    "\"40003/1\": {\"parameter\": \"u8\", \"function\": \"decode_8bit_uint\"},\n"
    "\"40003/2\": {\"parameter\": \"i8\", \"function\": \"decode_8bit_int\"},\n"
    "\"40004\": {\"parameter\": \"u32\", \"function\": \"decode_32bit_uint\"},\n"
    "\"40006\": {\"parameter\": \"i32\", \"function\": \"decode_32bit_int\"},\n"
    "\"40008\": {\"parameter\": \"u64\", \"function\": \"decode_64bit_uint\"},\n"
    "\"40012\": {\"parameter\": \"f16\", \"function\": \"decode_16bit_float\"},\n"
    "\"40013\": {\"parameter\": \"f32\", \"function\": \"decode_32bit_float\"},\n"
    "\"40015/40017\": {\"parameter\": \"str\", \"function\": \"decode_string\"},\n"
    "\"40018/1\": {\"parameter\": \"bits\", \"function\": \"decode_bits\", \"map\": {\"0b00000001\": \"b0\"}},\n"
    "\"40019\": {\"parameter\": \"lim\", \"function\": \"decode_16bit_int\", \"min\": -10, \"max\": 10},\n"
    "\"40020\": {\"parameter\": \"ro\", \"function\": \"decode_16bit_uint\", \"access\": \"r\"},\n"
    "\"40021\": {\"parameter\": \"flim\", \"function\": \"decode_32bit_float\", \"min\": 0, \"max\": 1},\n"
    "\"40023\": {\"parameter\": \"i64\", \"function\": \"decode_64bit_int\"},\n"
    "\"40027\": {\"parameter\": \"bits16\", \"function\": \"decode_bits\"}\n"
    "}}";

static gw_err try_write(const gw_tagmap *m, const char *param, const char *jtext, gw_write *w,
                        gw_error *err)
{
    json_error_t jerr;
    json_t *j = json_loads(jtext, JSON_DECODE_ANY, &jerr);
    assert_non_null(j);
    memset(w, 0, sizeof(*w));
    gw_error_clear(err);
    gw_err rc = gw_tag_prepare_write(m, tag(m, param), j, w, err);
    json_decref(j);
    return rc;
}

static void test_write_rejections(void **state)
{
    (void)state;
    const struct {
        const char *p, *json;
    } bad[] = {
        /* read-only classes and tags */
        {"di", "true"}, {"in", "1"}, {"inh", "1"}, {"ro", "1"},
        /* raw ranges */
        {"u16", "70000"}, {"u16", "65536"}, {"u16", "-1"}, {"i16", "32768"}, {"i16", "-32769"},
        {"u8", "256"}, {"u8", "-1"}, {"i8", "128"}, {"i8", "-129"},
        {"u32", "4294967296"}, {"u32", "-1"}, {"i32", "2147483648"}, {"i32", "-2147483649"},
        {"u64", "-1"}, {"u64", "1e20"}, {"i64", "1e19"}, {"i64", "-1e19"},
        {"u64", "18446744073709551616.0"}, {"i64", "9223372036854775808.0"},
        {"i64", "-9223372036854777856.0"}, {"u32", "4294967295.5"},
        {"f16", "70000"}, {"f32", "1e39"}, {"f32", "-1e39"},
        /* whole raw values for unscaled integers */
        {"u16", "3.5"}, {"i16", "1.5"}, {"u32", "0.5"}, {"i64", "2.25"},
        /* wrong JSON types */
        {"u16", "\"12\""}, {"u16", "null"}, {"u16", "true"}, {"u16", "[1]"}, {"u16", "{}"},
        {"f32", "\"1.0\""}, {"f32", "false"}, {"str", "42"}, {"str", "null"},
        {"str", "[\"a\"]"}, {"coil", "\"true\""}, {"coil", "null"}, {"coil", "2"},
        {"coil", "-1"}, {"coil", "[true]"},
        /* strings that do not fit */
        {"str", "\"ABCDEFG\""},
        /* bit fields */
        {"bits", "[1,0,0,0,0,0,0,0,0]"}, {"bits", "[2]"}, {"bits", "256"}, {"bits", "-1"},
        {"bits", "{\"nope\": true}"}, {"bits", "\"x\""}, {"bits16", "65536"},
        {"bits16", "[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1]"},
        /* min / max of the value */
        {"lim", "-11"}, {"lim", "11"}, {"flim", "-0.1"}, {"flim", "1.1"},
    };
    gw_diag d;
    gw_tagmap *m = load_ok(WMAP, &d);
    size_t failed = 0;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gw_write w;
        gw_error err;
        gw_err rc = try_write(m, bad[i].p, bad[i].json, &w, &err);
        if (rc == GW_OK) {
            print_error("write %s <- %s accepted\n", bad[i].p, bad[i].json);
            failed++;
        } else if (err.msg[0] == '\0') {
            print_error("write %s <- %s: %s without a message\n", bad[i].p, bad[i].json,
                        gw_err_name(rc));
            failed++;
        }
    }
    /* err may be NULL */
    json_t *j = json_integer(70000);
    gw_write w;
    gw_err rc = gw_tag_prepare_write(m, tag(m, "u16"), j, &w, NULL);
    json_decref(j);
    gw_tagmap_free(m);
    assert_int_not_equal(rc, GW_OK);
    assert_int_equal(failed, 0);
}

static void test_write_accepted(void **state)
{
    (void)state;
    const struct {
        const char *p, *json;
    } good[] = {
        {"coil", "true"}, {"coil", "0"},   {"u16", "0"},      {"u16", "65535"},
        {"i16", "-32768"}, {"u8", "255"},  {"i8", "-128"},    {"u32", "4294967295"},
        {"i32", "-2147483648"}, {"u64", "9223372036854775807"}, {"f16", "65504"},
        {"f32", "-3.4028234663852886e38"}, {"str", "\"ABCDEF\""}, {"str", "\"\""},
        {"bits", "{\"b0\": true}"}, {"bits", "[1]"}, {"lim", "-10"}, {"lim", "10"},
        {"lim", "0"}, {"flim", "0"}, {"flim", "1"}, {"flim", "0.5"}, {"bits16", "65535"},
        {"u64", "9223372036854775808.0"}, {"i64", "-9223372036854775808.0"},
        {"u32", "4294967295.0"},
    };
    gw_diag d;
    gw_tagmap *m = load_ok(WMAP, &d);
    size_t failed = 0;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        gw_write w;
        gw_error err;
        gw_err rc = try_write(m, good[i].p, good[i].json, &w, &err);
        if (rc != GW_OK) {
            print_error("write %s <- %s rejected: %s\n", good[i].p, good[i].json, err.msg);
            failed++;
        } else if (w.tag != tag(m, good[i].p)) {
            print_error("write %s: w.tag not set\n", good[i].p);
            failed++;
        }
    }
    gw_tagmap_free(m);
    assert_int_equal(failed, 0);
}

/* ------------------------------------------------------------ the seed's example map */

static void test_example_map(void **state)
{
    (void)state;
    const char *path = GW_SOURCE_DIR "/config/modbus/example.json";
    gw_diag d;
    gw_tagmap *m = NULL;
    gw_err rc = gw_tagmap_load_file(path, &m, &d);
    if (rc != GW_OK)
        gw_diag_print(&d, stderr);
    assert_int_equal(rc, GW_OK);
    assert_non_null(m);
    assert_int_equal(d.errors, 0);
    /* "defaultvalue" of 40009 is a near miss of "defaultValue": a warning */
    bool warned = false;
    for (size_t i = 0; i < d.count; i++)
        if (d.entries[i].warning && mentions_any(&d.entries[i], "defaultvalue"))
            warned = true;
    assert_true(warned);
    assert_int_equal(gw_tagmap_count(m), 11);
    assert_int_equal(gw_tagmap_byteorder(m), GW_ORDER_LITTLE);
    assert_int_equal(gw_tagmap_wordorder(m), GW_ORDER_BIG);

    /* the register image, byteorder "<": every 16-bit half-word byte-swapped */
    uint16_t in[40] = {0}, hold[10] = {0};
    in[1] = 0x0300;                 /* Operating State 3 */
    in[2] = 0x0100;                 /* Compressor Running 1 */
    in[3] = 0x00C0; in[4] = 0x0000; /* Warning State -2.0f (0xC0000000) */
    in[11] = 0xC542; in[12] = 0x0000; /* Oil Temp 98.5f (0x42C50000) */
    in[31] = 0x3930;                /* Panel Serial Number 12345 (0x3039) */
    in[33] = 0x0201;                /* Software Rev 258 (0x0102) */
    in[34] = 0x89AB;                /* TEST1 = 0x89, TEST2 = 0xAB */
    hold[9] = 0x9A0B;               /* Water_Setpoint 24.0 (raw 2970 = 0x0B9A) */

    const gw_tag *t = tag(m, "UnitOn");
    assert_int_equal(t->addr.mb_class, GW_MB_DISCRETE);
    assert_int_equal(t->addr.reg, 0);
    assert_string_equal(t->description, "Unit On status: TRUE = Unit ON");
    assert_int_equal(tag(m, "Unit_Alarm")->addr.reg, 1);

    t = tag(m, "Operating State");
    json_t *rec = rec_regs(m, t, &in[t->addr.reg]);
    assert_int_equal(json_integer_value(json_object_get(rec, "value")), 3);
    assert_string_equal(rec_str(rec, "value_alt"), "Running");
    assert_true(json_is_true(json_object_get(rec, "isTag")));
    assert_string_equal(rec_str(rec, "datatype"), "int");
    json_decref(rec);
    t = tag(m, "Compressor Running");
    rec = rec_regs(m, t, &in[t->addr.reg]);
    assert_string_equal(rec_str(rec, "value_alt"), "On");
    json_decref(rec);
    t = tag(m, "Warning State");
    assert_int_equal(t->nregs, 2);
    rec = rec_regs(m, t, &in[t->addr.reg]);
    assert_float_equal(json_number_value(json_object_get(rec, "value")), -2.0, 0.0);
    assert_string_equal(rec_str(rec, "value_alt"), "Coolant IN running Low");
    json_decref(rec);
    t = tag(m, "Oil Temp");
    rec = rec_regs(m, t, &in[t->addr.reg]);
    assert_float_equal(json_number_value(json_object_get(rec, "value")), 98.5, 0.0);
    assert_string_equal(rec_str(rec, "datatype"), "float");
    assert_string_equal(rec_str(rec, "unit"), "e.g. Fahrenheit");
    json_decref(rec);
    t = tag(m, "Panel Serial Number");
    gw_value v = decode1(m, t, &in[t->addr.reg]);
    assert_int_equal(v.v.i, 12345);
    t = tag(m, "Software Rev");
    v = decode1(m, t, &in[t->addr.reg]);
    assert_int_equal(v.v.i, 258);

    t = tag(m, "TEST1");
    v = decode1(m, t, &in[t->addr.reg]);
    json_t *arr = records(t, &v);
    assert_int_equal(json_array_size(arr), 1);
    rec = json_array_get(arr, 0);
    assert_string_equal(rec_str(rec, "parameter_alt"), "test7");
    assert_true(json_is_true(json_object_get(rec, "value"))); /* bit 7 of 0x89 */
    assert_string_equal(rec_str(rec, "default"), "test7");
    json_decref(arr);
    t = tag(m, "TEST2");
    v = decode1(m, t, &in[t->addr.reg]);
    arr = records(t, &v);
    assert_int_equal(json_array_size(arr), 8);
    size_t on = 0;
    for (size_t i = 0; i < 8; i++)
        on += json_is_true(json_object_get(json_array_get(arr, i), "value"));
    assert_int_equal(on, 5); /* 0xAB has five bits set */
    json_decref(arr);

    t = tag(m, "Water_Setpoint.SP_r");
    v = decode1(m, t, &hold[t->addr.reg]);
    assert_int_equal(v.kind, GW_V_DOUBLE);
    assert_float_equal(v.v.d, 24.0, 1e-9);
    rec = rec_regs(m, t, &hold[t->addr.reg]);
    const char *names[] = {"parameter", "value", "datatype", "unit", "description", "min", "max",
                           "defaultvalue"};
    assert_members(rec, names, 8);
    assert_string_equal(rec_str(rec, "unit"), "DegreesCelsius");
    json_decref(rec);
    /* and the write of 24.0 gives the same register */
    gw_write w;
    gw_error err;
    assert_int_equal(try_write(m, "Water_Setpoint.SP_r", "24.0", &w, &err), GW_OK);
    assert_int_equal(w.regs[0], 0x9A0B);
    assert_int_not_equal(try_write(m, "Water_Setpoint.SP_r", "51", &w, &err), GW_OK);
    assert_int_not_equal(try_write(m, "Oil Temp", "1.0", &w, &err), GW_OK); /* input register */
    gw_tagmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_type_helpers),
        cmocka_unit_test(test_load_basic),
        cmocka_unit_test(test_load_variants),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_duplicate_parameter),
        cmocka_unit_test(test_several_errors_one_pass),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_record_member_order),
        cmocka_unit_test(test_record_enumeration),
        cmocka_unit_test(test_record_values_and_datatypes),
        cmocka_unit_test(test_record_u64_exact),
        cmocka_unit_test(test_write_rejections),
        cmocka_unit_test(test_write_accepted),
        cmocka_unit_test(test_example_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
