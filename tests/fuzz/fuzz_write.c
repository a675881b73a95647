/*
 * fuzz_write.c - user payloads against maps with every writable type.
 * Byte 0 picks the map (four Modbus byte/word orders, or S7); the rest is a
 * JSON payload {"parameter": value}. A value that is accepted must decode
 * back to itself (integers and strings exactly, floats after rounding to
 * the type), and a write must never own bits outside its tag.
 */
#include "tags/tags.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char modbus_map[] =
    "{\"endianness\": {\"byteorder\": \"%c\", \"wordorder\": \"%c\"}, \"mapping\": {"
    "\"00001\": {\"parameter\": \"coil\"},"
    "\"40001/1\": {\"parameter\": \"i8\", \"function\": \"decode_8bit_int\"},"
    "\"40001/2\": {\"parameter\": \"u8\", \"function\": \"decode_8bit_uint\"},"
    "\"40002\": {\"parameter\": \"i16\", \"function\": \"decode_16bit_int\"},"
    "\"40003\": {\"parameter\": \"u16\", \"function\": \"decode_16bit_uint\"},"
    "\"40004\": {\"parameter\": \"f16\", \"function\": \"decode_16bit_float\"},"
    "\"40005\": {\"parameter\": \"i32\", \"function\": \"decode_32bit_int\"},"
    "\"40007\": {\"parameter\": \"u32\", \"function\": \"decode_32bit_uint\"},"
    "\"40009\": {\"parameter\": \"f32\", \"function\": \"decode_32bit_float\"},"
    "\"40011\": {\"parameter\": \"i64\", \"function\": \"decode_64bit_int\"},"
    "\"40015\": {\"parameter\": \"u64\", \"function\": \"decode_64bit_uint\"},"
    "\"40019\": {\"parameter\": \"f64\", \"function\": \"decode_64bit_float\"},"
    "\"40023/40025\": {\"parameter\": \"str\", \"function\": \"decode_string\"},"
    "\"40026/2\": {\"parameter\": \"bits\", \"function\": \"decode_bits\","
    "  \"map\": {\"0b00000001\": \"b0\", \"0b00010000\": \"b4\"}},"
    "\"40027\": {\"parameter\": \"word_bits\", \"function\": \"decode_bits\"},"
    "\"40028\": {\"parameter\": \"scaled\", \"function\": \"decode_16bit_int\","
    "  \"multiplier\": 0.1, \"offset\": -273, \"min\": -100, \"max\": 100}}}";

static const char s7_map[] =
    "{\"mapping\": {"
    "\"DB1.DBX0.3\": {\"parameter\": \"coil\", \"access\": \"rw\"},"
    "\"DB1.DBB1\": {\"parameter\": \"u8\", \"function\": \"byte\", \"access\": \"rw\"},"
    "\"DB1.DBW2\": {\"parameter\": \"i16\", \"function\": \"int\", \"access\": \"rw\"},"
    "\"DB1.DBW4\": {\"parameter\": \"u16\", \"function\": \"word\", \"access\": \"rw\"},"
    "\"DB1.DBD6\": {\"parameter\": \"i32\", \"function\": \"dint\", \"access\": \"rw\"},"
    "\"DB1.DBD10\": {\"parameter\": \"u32\", \"function\": \"dword\", \"access\": \"rw\"},"
    "\"DB1.DBD14\": {\"parameter\": \"f32\", \"function\": \"real\", \"access\": \"rw\"},"
    "\"DB1.DBB18\": {\"parameter\": \"f64\", \"function\": \"lreal\", \"access\": \"rw\"},"
    "\"DB1.DBB26\": {\"parameter\": \"str\", \"function\": \"string[6]\", \"access\": \"rw\"},"
    "\"DB1.DBB34\": {\"parameter\": \"bits\", \"function\": \"byte\", \"access\": \"rw\","
    "  \"map\": {\"0b00000001\": \"b0\", \"0b00010000\": \"b4\"}}}}";

/* The decoded value must be what was asked for. */
static void check_round_trip(const gw_tag *t, const json_t *in, const gw_value *v)
{
    if (t->scaled || t->type == GW_T_BITS || t->type == GW_T_BOOL)
        return;
    if (t->type == GW_T_STRING || t->type == GW_T_S7STRING) {
        if (v->kind != GW_V_STRING || strcmp(v->v.str.s, json_string_value(in)) != 0)
            __builtin_trap();
        return;
    }
    double want = json_number_value(in);
    double got = gw_value_as_double(v);
    if (t->type == GW_T_F32)
        want = (double)(float)want;
    if (t->type == GW_T_F16)
        want = gw_half_to_double(gw_half_from_double(want));
    if (gw_type_is_float(t->type)) {
        /* floats print as their shortest decimal: compare as the type */
        if (t->type == GW_T_F32 ? (float)got != (float)want
                                : t->type == GW_T_F16 ? gw_half_from_double(got) != gw_half_from_double(want)
                                                      : got != want)
            __builtin_trap();
        return;
    }
    if (json_is_integer(in) && v->kind == GW_V_INT && v->v.i != json_integer_value(in))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int variant = data[0] % 5;
    char text[4096];
    if (variant < 4)
        snprintf(text, sizeof(text), modbus_map, variant & 1 ? '<' : '>', variant & 2 ? '<' : '>');
    else
        snprintf(text, sizeof(text), "%s", s7_map);
    gw_diag d;
    gw_tagmap *m;
    if (gw_tagmap_load_buf("fuzz", text, strlen(text), &m, &d) != GW_OK)
        __builtin_trap();
    json_t *payload = json_loadb((const char *)data + 1, size - 1, 0, NULL);
    const char *name;
    json_t *value;
    if (payload && json_is_object(payload)) {
        json_object_foreach(payload, name, value) {
            const gw_tag *t = gw_tagmap_find(m, name);
            if (!t)
                continue;
            gw_write w;
            gw_error err;
            gw_error_clear(&err);
            if (gw_tag_prepare_write(m, t, value, &w, &err) != GW_OK) {
                if (!err.msg[0])
                    __builtin_trap();
                continue;
            }
            gw_value v;
            gw_err rc;
            if (t->type == GW_T_BOOL) {
                continue;
            } else if (t->addr.driver == GW_DRIVER_S7) {
                rc = gw_tag_decode_bytes(t, w.bytes, w.n, &v, &err);
            } else {
                for (size_t i = 0; i < w.n; i++)
                    if (w.regs[i] & (uint16_t)~w.regmask[i])
                        __builtin_trap(); /* a value bit outside the mask */
                rc = gw_tag_decode_regs(m, t, w.regs, w.n, &v, &err);
            }
            if (rc != GW_OK)
                __builtin_trap();
            check_round_trip(t, value, &v);
            gw_value_clear(&v);
        }
    }
    json_decref(payload);
    gw_tagmap_free(m);
    return 0;
}
