/*
 * value.c - tag values as the reader's output records (seed 004): one
 * record per tag, or one per entry of a bit map, with the tag's features
 * passed through in a fixed order (docs/mapping.md, "Output records").
 */
#include "tags_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>

const char *gw_tag_avro_type(const gw_tag *t)
{
    if (t->scaled)
        return "double";
    switch (t->type) {
    case GW_T_BOOL:
    case GW_T_BITS: return "boolean";
    case GW_T_STRING:
    case GW_T_S7STRING: return "string";
    case GW_T_I8: case GW_T_U8: case GW_T_I16: case GW_T_U16: case GW_T_I32: return "int";
    case GW_T_U32: case GW_T_I64: case GW_T_U64: return "long";
    case GW_T_F16: case GW_T_F32: return "float";
    case GW_T_F64: return "double";
    }
    return "null";
}

/* JSON has no NaN or infinity; they are written as the strings "NaN",
 * "Infinity" and "-Infinity" (as AVRO's JSON encoding does). */
static json_t *number_json(double d)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

/* The bits of a bit field in the seed's list order: a byte from bit 0 to
 * bit 7; a whole register byte/1 (bits 8..15) first, then byte/2. */
static unsigned list_bit(unsigned index, unsigned nbits)
{
    if (nbits == 16)
        return index < 8 ? index + 8 : index - 8;
    return index;
}

static json_t *value_json(const gw_tag *t, const gw_value *v)
{
    char buf[24];
    switch (v->kind) {
    case GW_V_BOOL: return json_boolean(v->v.b);
    case GW_V_INT: return json_integer((json_int_t)v->v.i);
    case GW_V_UINT:
        /* above INT64_MAX: jansson integers are signed, so exact digits as a string */
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v->v.u);
        return json_string(buf);
    case GW_V_DOUBLE: return number_json(v->v.d); /* exact: no rounding for display */
    case GW_V_STRING: return json_stringn(v->v.str.s, v->v.str.len);
    case GW_V_BITS: {
        json_t *a = json_array();
        for (unsigned i = 0; a && i < v->v.bits.nbits; i++)
            json_array_append_new(a, json_boolean((v->v.bits.bits >> list_bit(i, v->v.bits.nbits)) & 1u));
        return a;
    }
    case GW_V_NONE: break;
    }
    return json_null();
}

static int set_new(json_t *obj, const char *key, json_t *v)
{
    return v ? json_object_set_new(obj, key, v) : -1;
}

/* unit .. max and passed-through features, after the value members. */
static int add_features(json_t *rec, const gw_tag *t)
{
    int rc = 0;
    if (t->unit)
        rc |= set_new(rec, "unit", json_string(t->unit));
    if (t->description)
        rc |= set_new(rec, "description", json_string(t->description));
    if (t->alias)
        rc |= set_new(rec, "alias", json_string(t->alias));
    if (t->is_tag)
        rc |= json_object_set(rec, "isTag", t->is_tag);
    if (t->default_value)
        rc |= json_object_set(rec, "defaultValue", t->default_value);
    if (t->has_min)
        rc |= set_new(rec, "min", number_json(t->min));
    if (t->has_max)
        rc |= set_new(rec, "max", number_json(t->max));
    for (size_t i = 0; i < t->nextras; i++)
        rc |= json_object_set(rec, t->extras[i].name, t->extras[i].value);
    return rc;
}

static const char *enum_text(const gw_tag *t, const gw_value *v)
{
    double d = gw_value_as_double(v);
    if (!isfinite(d) || fabs(d) > 9.2e18)
        return NULL;
    long long key = llround(d);
    for (size_t i = 0; i < t->nenums; i++)
        if (t->enums[i].key == key)
            return t->enums[i].text;
    return NULL;
}

void *gw_tag_value_json(const gw_tag *t, const gw_value *v)
{
    return value_json(t, v);
}

gw_err gw_tag_records(const gw_tag *t, const gw_value *v, void *array)
{
    json_t *arr = array;
    int rc = 0;
    if (t->type == GW_T_BITS && t->nbitmap > 0 && v->kind == GW_V_BITS) {
        for (size_t i = 0; i < t->nbitmap; i++) {
            json_t *rec = json_object();
            if (!rec)
                return GW_E_NOMEM;
            rc |= set_new(rec, "parameter", json_string(t->parameter));
            rc |= set_new(rec, "parameter_alt", json_string(t->bitmap[i].name));
            rc |= set_new(rec, "value", json_boolean((v->v.bits.bits >> t->bitmap[i].bit) & 1u));
            rc |= set_new(rec, "datatype", json_string("boolean"));
            rc |= add_features(rec, t);
            rc |= json_array_append_new(arr, rec);
        }
        return rc ? GW_E_NOMEM : GW_OK;
    }
    json_t *rec = json_object();
    if (!rec)
        return GW_E_NOMEM;
    rc |= set_new(rec, "parameter", json_string(t->parameter));
    rc |= set_new(rec, "value", value_json(t, v));
    if (t->nenums) {
        const char *text = enum_text(t, v);
        if (text)
            rc |= set_new(rec, "value_alt", json_string(text));
    }
    rc |= set_new(rec, "datatype", json_string(gw_tag_avro_type(t)));
    rc |= add_features(rec, t);
    rc |= json_array_append_new(arr, rec);
    return rc ? GW_E_NOMEM : GW_OK;
}
