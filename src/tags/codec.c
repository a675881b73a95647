/*
 * codec.c - raw PLC data -> tag values.
 *
 * Modbus values follow pymodbus's BinaryPayloadDecoder.fromRegisters, so
 * that maps written for the universal client decode the same here: bytes
 * of each register swapped when byteorder is '<', the register list
 * reversed when wordorder is '<', then read big-endian. 8-bit values, bit
 * fields and strings ignore byteorder (docs/mapping.md). S7 data is
 * big-endian throughout. Pure: no I/O, no logging.
 */
#include "tags_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void gw_value_clear(gw_value *v)
{
    if (v->kind == GW_V_STRING)
        gw_free(v->v.str.s);
    memset(v, 0, sizeof(*v));
}

double gw_value_as_double(const gw_value *v)
{
    switch (v->kind) {
    case GW_V_BOOL: return v->v.b ? 1.0 : 0.0;
    case GW_V_INT: return (double)v->v.i;
    case GW_V_UINT: return (double)v->v.u;
    case GW_V_DOUBLE: return v->v.d;
    case GW_V_BITS: return (double)v->v.bits.bits;
    default: return NAN;
    }
}

void tags__apply_order(uint16_t *regs, size_t n, gw_order byteorder, gw_order wordorder)
{
    if (byteorder == GW_ORDER_LITTLE)
        for (size_t i = 0; i < n; i++)
            regs[i] = (uint16_t)((regs[i] << 8) | (regs[i] >> 8));
    if (wordorder == GW_ORDER_LITTLE)
        for (size_t i = 0; i < n / 2; i++) {
            uint16_t tmp = regs[i];
            regs[i] = regs[n - 1 - i];
            regs[n - 1 - i] = tmp;
        }
}

static void set_int(gw_value *out, int64_t i)
{
    out->kind = GW_V_INT;
    out->v.i = i;
}

static void set_uint(gw_value *out, uint64_t u)
{
    if (u <= (uint64_t)INT64_MAX) {
        set_int(out, (int64_t)u);
    } else {
        out->kind = GW_V_UINT;
        out->v.u = u;
    }
}

/* Interprets a big-endian raw value of `bits` bits as the tag's type. */
static void from_raw(gw_type type, uint64_t raw, gw_value *out)
{
    uint32_t u32;
    float f;
    double d;
    switch (type) {
    case GW_T_I8: set_int(out, (int8_t)(uint8_t)raw); break;
    case GW_T_U8: set_int(out, (uint8_t)raw); break;
    case GW_T_I16: set_int(out, (int16_t)(uint16_t)raw); break;
    case GW_T_U16: set_int(out, (uint16_t)raw); break;
    case GW_T_I32: set_int(out, (int32_t)(uint32_t)raw); break;
    case GW_T_U32: set_int(out, (uint32_t)raw); break;
    case GW_T_I64: set_int(out, (int64_t)raw); break;
    case GW_T_U64: set_uint(out, raw); break;
    case GW_T_F16:
        out->kind = GW_V_DOUBLE;
        out->v.d = gw_half_to_double((uint16_t)raw);
        break;
    case GW_T_F32:
        u32 = (uint32_t)raw;
        memcpy(&f, &u32, sizeof(f));
        out->kind = GW_V_DOUBLE;
        out->v.d = (double)f;
        break;
    case GW_T_F64:
        memcpy(&d, &raw, sizeof(d));
        out->kind = GW_V_DOUBLE;
        out->v.d = d;
        break;
    default:
        break;
    }
}

/* value = multiplier * raw + offset, in double (docs/mapping.md). */
static void apply_scale(const gw_tag *t, gw_value *v)
{
    if (!t->scaled)
        return;
    double raw = gw_value_as_double(v);
    v->kind = GW_V_DOUBLE;
    v->v.d = t->multiplier * raw + t->offset;
}

/* Copies `n` bytes as a string: up to the first NUL, invalid UTF-8 bytes
 * replaced by U+FFFD so that the result is always valid UTF-8. */
static gw_err make_string(const uint8_t *p, size_t n, gw_value *out, gw_error *err)
{
    size_t len = 0;
    while (len < n && p[len] != 0)
        len++;
    char *s = gw_malloc(len * 3 + 1);
    if (!s)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        size_t need = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                    : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        bool ok = need > 0 && i + need <= len;
        uint32_t cp = need == 1 ? c : (uint32_t)(c & (0x7F >> need));
        for (size_t k = 1; ok && k < need; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                ok = false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (ok && need > 1) {
            static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
            if (cp < min[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                ok = false;
        }
        if (ok) {
            memcpy(s + o, p + i, need);
            o += need;
            i += need;
        } else {
            memcpy(s + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += 1;
        }
    }
    s[o] = '\0';
    out->kind = GW_V_STRING;
    out->v.str.s = s;
    out->v.str.len = o;
    return GW_OK;
}

gw_err gw_tag_decode_regs(const gw_tagmap *m, const gw_tag *t, const uint16_t *regs, size_t n,
                          gw_value *out, gw_error *err)
{
    memset(out, 0, sizeof(*out));
    if (t->addr.driver != GW_DRIVER_MODBUS || t->type == GW_T_BOOL)
        return gw_error_set(err, GW_E_INVAL, "%s is not a register tag", t->parameter);
    if (n < t->nregs)
        return gw_error_set(err, GW_E_INVAL, "%s needs %u registers, got %zu", t->parameter,
                            t->nregs, n);
    if (t->addr.half) {
        uint8_t byte = t->addr.half == GW_HALF_HIGH ? (uint8_t)(regs[0] >> 8) : (uint8_t)regs[0];
        if (t->type == GW_T_BITS) {
            out->kind = GW_V_BITS;
            out->v.bits.bits = byte;
            out->v.bits.nbits = 8;
        } else {
            from_raw(t->type, byte, out);
            apply_scale(t, out);
        }
        return GW_OK;
    }
    if (t->type == GW_T_BITS) {
        out->kind = GW_V_BITS;
        out->v.bits.bits = regs[0];
        out->v.bits.nbits = 16;
        return GW_OK;
    }
    if (t->type == GW_T_STRING) {
        uint8_t bytes[2 * TAGS_MAX_REGS];
        for (size_t i = 0; i < t->nregs; i++) {
            bytes[2 * i] = (uint8_t)(regs[i] >> 8);
            bytes[2 * i + 1] = (uint8_t)regs[i];
        }
        return make_string(bytes, 2u * t->nregs, out, err);
    }
    uint16_t w[4];
    memcpy(w, regs, t->nregs * sizeof(uint16_t));
    tags__apply_order(w, t->nregs, m->byteorder, m->wordorder);
    uint64_t raw = 0;
    for (size_t i = 0; i < t->nregs; i++)
        raw = (raw << 16) | w[i];
    from_raw(t->type, raw, out);
    apply_scale(t, out);
    return GW_OK;
}

void gw_tag_decode_bit(const gw_tag *t, bool bit, gw_value *out)
{
    (void)t;
    memset(out, 0, sizeof(*out));
    out->kind = GW_V_BOOL;
    out->v.b = bit;
}

gw_err gw_tag_decode_bytes(const gw_tag *t, const uint8_t *p, size_t n, gw_value *out,
                           gw_error *err)
{
    memset(out, 0, sizeof(*out));
    if (t->addr.driver != GW_DRIVER_S7)
        return gw_error_set(err, GW_E_INVAL, "%s is not an S7 tag", t->parameter);
    if (n < t->nbytes)
        return gw_error_set(err, GW_E_INVAL, "%s needs %u bytes, got %zu", t->parameter,
                            t->nbytes, n);
    switch (t->type) {
    case GW_T_BOOL:
        gw_tag_decode_bit(t, (p[0] >> t->addr.bit) & 1u, out);
        return GW_OK;
    case GW_T_BITS:
        out->kind = GW_V_BITS;
        out->v.bits.bits = p[0];
        out->v.bits.nbits = 8;
        return GW_OK;
    case GW_T_S7STRING: {
        /* S7 STRING: byte 0 maximum length, byte 1 actual length, then the
         * characters (STEP 7 data type STRING). */
        unsigned len = p[1];
        if (len > t->strlen_max || len > p[0])
            return gw_error_set(err, GW_E_PROTOCOL, "%s: S7 string length %u exceeds its "
                                "maximum %u", t->parameter, len,
                                p[0] < t->strlen_max ? p[0] : t->strlen_max);
        return make_string(p + 2, len, out, err);
    }
    default: {
        uint64_t raw = 0;
        for (size_t i = 0; i < t->nbytes; i++)
            raw = (raw << 8) | p[i];
        from_raw(t->type, raw, out);
        apply_scale(t, out);
        return GW_OK;
    }
    }
}
