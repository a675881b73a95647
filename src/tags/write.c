/*
 * write.c - a user's value for a tag -> checked raw data with a mask.
 *
 * Everything is checked before anything is encoded: the tag is writable,
 * the JSON value has the right kind, the value is inside min/max, and the
 * raw value fits its type. The mask says which bits the write owns, so
 * that a byte half, a byte's bits or a single bit are written without a
 * read-modify-write of the rest (Modbus FC 22, S7 bit writes).
 */
#include "tags_internal.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

static gw_err fail(gw_error *err, const gw_tag *t, gw_err code, const char *fmt, ...)
    GW_PRINTF(4, 5);

static gw_err fail(gw_error *err, const gw_tag *t, gw_err code, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gw_error_subject(err, "parameter \"%s\"", t->parameter);
    return gw_error_set(err, code, "parameter \"%s\" (%s): %s", t->parameter, t->key, msg);
}

/* Raw integer range of a type. */
static void int_range(gw_type t, double *lo, double *hi)
{
    switch (t) {
    case GW_T_I8: *lo = INT8_MIN; *hi = INT8_MAX; break;
    case GW_T_U8: *lo = 0; *hi = UINT8_MAX; break;
    case GW_T_I16: *lo = INT16_MIN; *hi = INT16_MAX; break;
    case GW_T_U16: *lo = 0; *hi = UINT16_MAX; break;
    case GW_T_I32: *lo = INT32_MIN; *hi = INT32_MAX; break;
    case GW_T_U32: *lo = 0; *hi = UINT32_MAX; break;
    case GW_T_I64: *lo = -9223372036854775808.0; *hi = 9223372036854775807.0; break;
    default: *lo = 0; *hi = 18446744073709551615.0; break;
    }
}

/* Number -> raw big-endian bits of the tag's type; range checked. */
static gw_err numeric_raw(const gw_tag *t, const json_t *j, uint64_t *raw, gw_error *err)
{
    if (!json_is_number(j))
        return fail(err, t, GW_E_TYPE, "expects a number, got %s", json_kind(j));
    double v = json_number_value(j);
    if (t->has_min && v < t->min)
        return fail(err, t, GW_E_RANGE, "%.15g is below its minimum %.15g", v, t->min);
    if (t->has_max && v > t->max)
        return fail(err, t, GW_E_RANGE, "%.15g is above its maximum %.15g", v, t->max);
    double r = t->scaled ? (v - t->offset) / t->multiplier : v;
    if (gw_type_is_float(t->type)) {
        if (t->type == GW_T_F64) {
            memcpy(raw, &r, sizeof(r));
        } else if (t->type == GW_T_F32) {
            if (fabs(r) > FLT_MAX)
                return fail(err, t, GW_E_RANGE, "%.15g does not fit a 32-bit float", r);
            float f = (float)r;
            uint32_t u;
            memcpy(&u, &f, sizeof(u));
            *raw = u;
        } else {
            uint16_t h = gw_half_from_double(r);
            if ((h & 0x7C00) == 0x7C00)
                return fail(err, t, GW_E_RANGE, "%.15g does not fit a 16-bit float "
                            "(largest 65504)", r);
            *raw = h;
        }
        return GW_OK;
    }
    /* integer types: exact for JSON integers, rounded to nearest when the
     * value is scaled; an unscaled fraction is an error, not a truncation */
    double lo, hi;
    int_range(t->type, &lo, &hi);
    if (!t->scaled && json_is_integer(j)) {
        json_int_t i = json_integer_value(j);
        if ((double)i < lo || (double)i > hi || (i < 0 && !gw_type_is_signed(t->type)))
            return fail(err, t, GW_E_RANGE, "%lld is outside %.15g..%.15g", (long long)i, lo, hi);
        *raw = (uint64_t)i;
        return GW_OK;
    }
    if (!t->scaled && r != floor(r))
        return fail(err, t, GW_E_TYPE, "expects a whole number, got %.15g", r);
    double q = t->scaled ? round(r) : r;
    /* 2^63 and 2^64 are exact doubles; INT64_MAX and UINT64_MAX are not
     * (they round up to them), so the 64-bit limits are exclusive */
    bool too_big = t->type == GW_T_I64   ? q >= 9223372036854775808.0
                 : t->type == GW_T_U64   ? q >= 18446744073709551616.0
                                         : q > hi;
    if (q < lo || too_big)
        return fail(err, t, GW_E_RANGE, "raw value %.15g is outside %.15g..%.15g", q, lo, hi);
    if (q >= 9223372036854775808.0)
        *raw = (uint64_t)q;
    else
        *raw = (uint64_t)(int64_t)q;
    return GW_OK;
}

static gw_err bool_value(const gw_tag *t, const json_t *j, bool *out, gw_error *err)
{
    if (json_is_boolean(j)) {
        *out = json_is_true(j);
        return GW_OK;
    }
    if (json_is_integer(j) && (json_integer_value(j) == 0 || json_integer_value(j) == 1)) {
        *out = json_integer_value(j) == 1;
        return GW_OK;
    }
    return fail(err, t, GW_E_TYPE, "expects true or false, got %s", json_kind(j));
}

/* A bit field's value and mask from a list, an integer or an object of
 * map names (docs/mapping.md, "Bits"). Bits are the raw bits of the byte,
 * or of the register for a whole-register field. */
static gw_err bits_value(const gw_tag *t, const json_t *j, unsigned nbits, uint16_t *val,
                         uint16_t *mask, gw_error *err)
{
    uint16_t all = nbits == 16 ? 0xFFFFu : 0xFFu;
    *val = 0;
    if (json_is_integer(j)) {
        json_int_t i = json_integer_value(j);
        if (i < 0 || i > all)
            return fail(err, t, GW_E_RANGE, "%lld is outside 0..%u", (long long)i, (unsigned)all);
        *val = (uint16_t)i;
        *mask = all;
        return GW_OK;
    }
    if (json_is_array(j)) {
        size_t n = json_array_size(j);
        if (n > nbits)
            return fail(err, t, GW_E_RANGE, "a list of %zu bits does not fit %u bits", n, nbits);
        for (size_t i = 0; i < n; i++) {
            bool b;
            gw_err rc = bool_value(t, json_array_get(j, i), &b, err);
            if (rc != GW_OK)
                return rc;
            unsigned bit = nbits == 16 ? (i < 8 ? (unsigned)i + 8u : (unsigned)i - 8u) : (unsigned)i;
            if (b)
                *val |= (uint16_t)(1u << bit);
        }
        *mask = all; /* missing entries are written as 0, as the seed's writer does */
        return GW_OK;
    }
    if (json_is_object(j)) {
        const char *name;
        json_t *item;
        *mask = 0;
        if (json_object_size(j) == 0)
            return fail(err, t, GW_E_INVAL, "name at least one bit of the map");
        json_object_foreach((json_t *)j, name, item) {
            const gw_bitname *bn = NULL;
            for (size_t k = 0; k < t->nbitmap; k++)
                if (strcmp(t->bitmap[k].name, name) == 0)
                    bn = &t->bitmap[k];
            if (!bn)
                return fail(err, t, GW_E_NOT_FOUND, "\"%s\" is not a name in its bit map", name);
            bool b;
            gw_err rc = bool_value(t, item, &b, err);
            if (rc != GW_OK)
                return rc;
            *mask |= (uint16_t)(1u << bn->bit);
            if (b)
                *val |= (uint16_t)(1u << bn->bit);
        }
        return GW_OK;
    }
    return fail(err, t, GW_E_TYPE, "expects a list of bits, an integer or an object of bit "
                "names, got %s", json_kind(j));
}

static gw_err string_value(const gw_tag *t, const json_t *j, size_t cap, const char **s,
                           size_t *len, gw_error *err)
{
    if (!json_is_string(j))
        return fail(err, t, GW_E_TYPE, "expects a string, got %s", json_kind(j));
    *s = json_string_value(j);
    *len = json_string_length(j);
    if (memchr(*s, 0, *len))
        return fail(err, t, GW_E_INVAL, "the string contains a NUL character");
    if (*len > cap)
        return fail(err, t, GW_E_RANGE, "a string of %zu bytes does not fit %zu", *len, cap);
    return GW_OK;
}

static gw_err write_modbus(const gw_tagmap *m, const gw_tag *t, const json_t *j, gw_write *out,
                           gw_error *err)
{
    gw_err rc;
    if (t->type == GW_T_BOOL) {
        rc = bool_value(t, j, &out->bit, err);
        out->n = 1;
        return rc;
    }
    if (t->nregs > GW_WRITE_MAX_REGS)
        return fail(err, t, GW_E_UNSUPPORTED, "covers %u registers; one write takes at most %d",
                    (unsigned)t->nregs, GW_WRITE_MAX_REGS);
    out->n = t->nregs;
    if (t->type == GW_T_BITS || ((t->type == GW_T_I8 || t->type == GW_T_U8) && t->addr.half)) {
        uint16_t val, mask;
        if (t->type == GW_T_BITS) {
            rc = bits_value(t, j, t->addr.half ? 8u : 16u, &val, &mask, err);
        } else {
            uint64_t raw;
            rc = numeric_raw(t, j, &raw, err);
            val = (uint8_t)raw;
            mask = 0xFF;
        }
        if (rc != GW_OK)
            return rc;
        if (t->addr.half == GW_HALF_HIGH) {
            val = (uint16_t)(val << 8);
            mask = (uint16_t)(mask << 8);
        }
        out->regs[0] = val;
        out->regmask[0] = mask;
        return GW_OK;
    }
    if (t->type == GW_T_STRING) {
        const char *s;
        size_t len;
        rc = string_value(t, j, t->strlen_max, &s, &len, err);
        if (rc != GW_OK)
            return rc;
        uint8_t bytes[2 * TAGS_MAX_REGS] = {0};
        memcpy(bytes, s, len);
        for (size_t i = 0; i < t->nregs; i++) {
            out->regs[i] = (uint16_t)((bytes[2 * i] << 8) | bytes[2 * i + 1]);
            out->regmask[i] = 0xFFFF;
        }
        return GW_OK;
    }
    uint64_t raw;
    rc = numeric_raw(t, j, &raw, err);
    if (rc != GW_OK)
        return rc;
    for (size_t i = 0; i < t->nregs; i++) {
        out->regs[t->nregs - 1 - i] = (uint16_t)(raw >> (16 * i));
        out->regmask[i] = 0xFFFF;
    }
    tags__apply_order(out->regs, t->nregs, m->byteorder, m->wordorder);
    return GW_OK;
}

static gw_err write_s7(const gw_tag *t, const json_t *j, gw_write *out, gw_error *err)
{
    gw_err rc;
    out->n = t->nbytes;
    if (t->type == GW_T_BOOL) {
        rc = bool_value(t, j, &out->bit, err);
        out->n = 1;
        out->bytes[0] = (uint8_t)(out->bit ? 1u << t->addr.bit : 0u);
        out->bytemask[0] = (uint8_t)(1u << t->addr.bit);
        return rc;
    }
    if (t->type == GW_T_BITS) {
        uint16_t val, mask;
        rc = bits_value(t, j, 8, &val, &mask, err);
        out->bytes[0] = (uint8_t)val;
        out->bytemask[0] = (uint8_t)mask;
        return rc;
    }
    if (t->type == GW_T_S7STRING) {
        const char *s;
        size_t len;
        rc = string_value(t, j, t->strlen_max, &s, &len, err);
        if (rc != GW_OK)
            return rc;
        /* S7 STRING: max length, actual length, characters, zero padding */
        out->bytes[0] = (uint8_t)t->strlen_max;
        out->bytes[1] = (uint8_t)len;
        memcpy(out->bytes + 2, s, len);
        memset(out->bytemask, 0xFF, t->nbytes);
        return GW_OK;
    }
    uint64_t raw;
    rc = numeric_raw(t, j, &raw, err);
    if (rc != GW_OK)
        return rc;
    for (size_t i = 0; i < t->nbytes; i++)
        out->bytes[t->nbytes - 1 - i] = (uint8_t)(raw >> (8 * i));
    memset(out->bytemask, 0xFF, t->nbytes);
    return GW_OK;
}

gw_err gw_tag_prepare_write(const gw_tagmap *m, const gw_tag *t, const void *json,
                            gw_write *out, gw_error *err)
{
    const json_t *j = json;
    memset(out, 0, sizeof(*out));
    out->tag = t;
    if (!j)
        return fail(err, t, GW_E_INVAL, "no value given");
    if (t->addr.driver == GW_DRIVER_MODBUS &&
        (t->addr.mb_class == GW_MB_DISCRETE || t->addr.mb_class == GW_MB_INPUT)) {
        gw_err rc = fail(err, t, GW_E_ACCESS, "is %s and cannot be written",
                         t->addr.mb_class == GW_MB_DISCRETE ? "a discrete input (1xxxx)"
                                                           : "an input register (3xxxx)");
        gw_error_hint(err, "only coils (0xxxx) and holding registers (4xxxx) are writable");
        return rc;
    }
    if (t->access != GW_ACCESS_RW) {
        gw_err rc = fail(err, t, GW_E_ACCESS, "is read-only");
        if (t->addr.driver == GW_DRIVER_S7)
            gw_error_hint(err, "add \"access\": \"rw\" to the tag in the map to allow writes");
        return rc;
    }
    return gw_tag_encode(m, t, j, out, err);
}

gw_err gw_tag_encode(const gw_tagmap *m, const gw_tag *t, const void *json, gw_write *out,
                     gw_error *err)
{
    const json_t *j = json;
    memset(out, 0, sizeof(*out));
    out->tag = t;
    if (!j)
        return fail(err, t, GW_E_INVAL, "no value given");
    gw_err rc = t->addr.driver == GW_DRIVER_MODBUS ? write_modbus(m, t, j, out, err)
                                                   : write_s7(t, j, out, err);
    if (rc != GW_OK) {
        memset(out, 0, sizeof(*out));
        out->tag = t;
    }
    return rc;
}
