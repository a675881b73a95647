/*
 * tagmap.c - loading and checking a tag map (docs/mapping.md).
 *
 * The loader walks the "mapping" object once, resolving each key and its
 * features into a gw_tag, and reports every problem with its position
 * (up to GW_DIAG_MAX) before giving up, so a user fixes a file in one
 * round. Cross-tag checks (unique parameter, nothing covered twice) run
 * after all tags are known and cite both positions.
 *
 * Invariant: a returned map is fully valid; its tags never change.
 */
#include "tags_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- tables */

typedef struct {
    const char *name;
    gw_type type;
} func_entry;

static const func_entry modbus_funcs[] = {
    {"decode_bits", GW_T_BITS},          {"decode_string", GW_T_STRING},
    {"decode_8bit_int", GW_T_I8},        {"decode_8bit_uint", GW_T_U8},
    {"decode_16bit_int", GW_T_I16},      {"decode_16bit_uint", GW_T_U16},
    {"decode_16bit_float", GW_T_F16},    {"decode_32bit_int", GW_T_I32},
    {"decode_32bit_uint", GW_T_U32},     {"decode_32bit_float", GW_T_F32},
    {"decode_64bit_int", GW_T_I64},      {"decode_64bit_uint", GW_T_U64},
    {"decode_64bit_float", GW_T_F64},
};

typedef struct {
    const char *name;
    gw_type type;
    const char *widths; /* address size letters it may sit on */
    uint32_t nbytes;
} s7_func_entry;

static const s7_func_entry s7_funcs[] = {
    {"bool", GW_T_BOOL, "X", 1}, {"byte", GW_T_U8, "B", 1},   {"word", GW_T_U16, "W", 2},
    {"int", GW_T_I16, "W", 2},   {"dword", GW_T_U32, "D", 4}, {"dint", GW_T_I32, "D", 4},
    {"real", GW_T_F32, "D", 4},  {"lreal", GW_T_F64, "BD", 8},
};

const char *gw_type_name(gw_type t, gw_driver d)
{
    if (t == GW_T_S7STRING)
        return "string";
    if (d == GW_DRIVER_S7) {
        if (t == GW_T_BITS)
            return "byte";
        for (size_t i = 0; i < sizeof(s7_funcs) / sizeof(s7_funcs[0]); i++)
            if (s7_funcs[i].type == t)
                return s7_funcs[i].name;
    }
    if (t == GW_T_BOOL)
        return "bool";
    for (size_t i = 0; i < sizeof(modbus_funcs) / sizeof(modbus_funcs[0]); i++)
        if (modbus_funcs[i].type == t)
            return modbus_funcs[i].name;
    return "?";
}

unsigned gw_type_bits(gw_type t)
{
    switch (t) {
    case GW_T_BOOL: return 1;
    case GW_T_BITS: case GW_T_I8: case GW_T_U8: return 8;
    case GW_T_I16: case GW_T_U16: case GW_T_F16: return 16;
    case GW_T_I32: case GW_T_U32: case GW_T_F32: return 32;
    case GW_T_I64: case GW_T_U64: case GW_T_F64: return 64;
    case GW_T_STRING: case GW_T_S7STRING: return 0;
    }
    return 0;
}

bool gw_type_is_float(gw_type t)
{
    return t == GW_T_F16 || t == GW_T_F32 || t == GW_T_F64;
}

bool gw_type_is_signed(gw_type t)
{
    return t == GW_T_I8 || t == GW_T_I16 || t == GW_T_I32 || t == GW_T_I64;
}

static bool type_is_numeric(gw_type t)
{
    return t != GW_T_BOOL && t != GW_T_BITS && t != GW_T_STRING && t != GW_T_S7STRING;
}

/* The features a tag may carry (docs/mapping.md, "Features"); anything
 * else is passed through to the output. */
static const gw_field tag_fields[] = {
    {"parameter", GW_KINDS_STRING, true, false, false, 0, 0, "the tag's unique name"},
    {"function", GW_KINDS_STRING, false, false, false, 0, 0, "a decode function"},
    {"description", GW_KINDS_STRING, false, false, false, 0, 0, NULL},
    {"alias", GW_KINDS_STRING, false, false, false, 0, 0, NULL},
    {"unit", GW_KINDS_STRING, false, false, false, 0, 0, NULL},
    {"isTag", GW_KINDS_BOOL, false, false, false, 0, 0, NULL},
    {"defaultValue", GW_KINDS_ANY, false, false, false, 0, 0, NULL},
    {"map", GW_KINDS_OBJECT, false, false, false, 0, 0, NULL},
    {"multiplier", GW_KINDS_NUMBER, false, false, false, 0, 0, NULL},
    {"offset", GW_KINDS_NUMBER, false, false, false, 0, 0, NULL},
    {"min", GW_KINDS_NUMBER, false, false, false, 0, 0, NULL},
    {"max", GW_KINDS_NUMBER, false, false, false, 0, 0, NULL},
    {"access", GW_KINDS_STRING, false, false, false, 0, 0, "\"r\" or \"rw\""},
    {"group", GW_KINDS_STRING, false, false, false, 0, 0, "a scan group name"},
};
#define NTAG_FIELDS (sizeof(tag_fields) / sizeof(tag_fields[0]))

static const char *reserved_outputs[] = {"value", "datatype", "parameter_alt", "value_alt"};

static bool is_known_feature(const char *name)
{
    for (size_t i = 0; i < NTAG_FIELDS; i++)
        if (strcmp(tag_fields[i].name, name) == 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------- loader */

typedef struct {
    gw_diag *diag;
    gw_tagmap *map;
    bool driver_known;
    gw_loc driver_loc;   /* where the driver was decided */
    bool failed_alloc;
} loader;

static const char *str_member(const gw_json *obj, const char *name)
{
    const gw_json *v = gw_json_get(obj, name);
    return v && v->kind == GW_JSON_STRING ? v->u.str.s : NULL;
}

static const char *arena_str(loader *ld, const char *s)
{
    if (!s)
        return NULL;
    char *d = gw_arena_strdup(ld->map->arena, s);
    if (!d)
        ld->failed_alloc = true;
    return d;
}

static void *to_jansson(loader *ld, const gw_json *v)
{
    json_t *j = gw_json_to_jansson(v);
    if (!j)
        ld->failed_alloc = true;
    return j;
}

static const char *class_name(gw_mb_class c)
{
    switch (c) {
    case GW_MB_COIL: return "a coil";
    case GW_MB_DISCRETE: return "a discrete input";
    case GW_MB_INPUT: return "an input register";
    case GW_MB_HOLDING: return "a holding register";
    }
    return "?";
}

/* Resolves a Modbus tag's function against its key. */
static bool resolve_modbus(loader *ld, gw_tag *t, const gw_json *fn)
{
    gw_diag *d = ld->diag;
    const gw_addr *a = &t->addr;
    if (a->mb_class == GW_MB_COIL || a->mb_class == GW_MB_DISCRETE) {
        if (fn && strcmp(fn->u.str.s, "decode_bits") != 0 && strcmp(fn->u.str.s, "bool") != 0) {
            gw_diag_error(d, fn->loc, "\"%s\" is %s, a single bit; function \"%s\" does not apply",
                          t->key, class_name(a->mb_class), fn->u.str.s);
            gw_diag_hint(d, "leave \"function\" out for coils and discrete inputs");
            return false;
        }
        t->type = GW_T_BOOL;
        t->nregs = 0;
        return true;
    }
    if (!fn) {
        gw_diag_error(d, t->loc, "\"%s\": missing \"function\" (%s needs a decode function)",
                      t->key, class_name(a->mb_class));
        gw_diag_hint(d, "e.g. \"function\": \"decode_16bit_uint\"");
        return false;
    }
    const func_entry *f = NULL;
    for (size_t i = 0; i < sizeof(modbus_funcs) / sizeof(modbus_funcs[0]); i++)
        if (strcmp(modbus_funcs[i].name, fn->u.str.s) == 0)
            f = &modbus_funcs[i];
    if (!f) {
        gw_diag_error(d, fn->loc, "\"%s\": unknown function \"%s\"", t->key, fn->u.str.s);
        gw_diag_hint(d, "one of decode_bits, decode_string, decode_8bit_int|uint, "
                        "decode_16bit|32bit|64bit_int|uint|float");
        return false;
    }
    t->type = f->type;
    unsigned span = a->has_end ? (unsigned)(a->end_reg - a->reg) + 1u : 0u;
    unsigned need;
    switch (f->type) {
    case GW_T_I8:
    case GW_T_U8:
        if (a->half == GW_HALF_NONE) {
            gw_diag_error(d, fn->loc, "\"%s\": %s reads one byte, the key names a whole register",
                          t->key, f->name);
            gw_diag_hint(d, "use \"%d%04u/1\" for the leading byte or \"%d%04u/2\" for the "
                            "trailing byte", (int)a->mb_class, a->reg, (int)a->mb_class, a->reg);
            return false;
        }
        t->nregs = 1;
        return true;
    case GW_T_BITS:
        if (a->has_end && span != 1) {
            gw_diag_error(d, fn->loc, "\"%s\": decode_bits reads one byte or one register, the "
                          "key covers %u registers", t->key, span);
            return false;
        }
        t->nregs = 1;
        return true;
    case GW_T_STRING:
        if (a->half) {
            gw_diag_error(d, fn->loc, "\"%s\": strings cover whole registers, not a byte half",
                          t->key);
            return false;
        }
        t->nregs = (uint16_t)(span ? span : 1u);
        if (t->nregs > TAGS_MAX_REGS) {
            gw_diag_error(d, t->loc, "\"%s\": a string may cover at most %d registers (one read), "
                          "this one covers %u", t->key, TAGS_MAX_REGS, (unsigned)t->nregs);
            return false;
        }
        t->strlen_max = (uint16_t)(2u * t->nregs);
        return true;
    default:
        need = gw_type_bits(f->type) / 16u;
        if (a->half) {
            gw_diag_error(d, fn->loc, "\"%s\": %s needs %u whole register%s, the key names a byte",
                          t->key, f->name, need, need > 1 ? "s" : "");
            return false;
        }
        if (a->has_end && span != need) {
            gw_diag_error(d, fn->loc, "\"%s\": %s needs %u registers, the key covers %u", t->key,
                          f->name, need, span);
            gw_diag_hint(d, "write \"%d%04u/%d%04u\" or leave the end register out",
                         (int)a->mb_class, a->reg, (int)a->mb_class, a->reg + need - 1);
            return false;
        }
        t->nregs = (uint16_t)need;
        break;
    }
    if ((unsigned)a->reg + t->nregs - 1u > 65535u) {
        gw_diag_error(d, t->loc, "\"%s\": %s runs past register 65535", t->key, f->name);
        return false;
    }
    return true;
}

/* "string[20]" -> 20; 0 when the text is not of that form or n is out of
 * range. An S7 STRING holds at most 254 characters (S7 STRING type). */
static unsigned s7_string_len(const char *s)
{
    if (strncmp(s, "string[", 7) != 0)
        return 0;
    char *end;
    long n = strtol(s + 7, &end, 10);
    if (end == s + 7 || strcmp(end, "]") != 0 || n < 1 || n > 254)
        return 0;
    return (unsigned)n;
}

static bool resolve_s7(loader *ld, gw_tag *t, const gw_json *fn, bool bitmap)
{
    gw_diag *d = ld->diag;
    const gw_addr *a = &t->addr;
    if (!fn) {
        if (a->width == 'X') {
            t->type = GW_T_BOOL;
            t->nbytes = 1;
            return true;
        }
        gw_diag_error(d, t->loc, "\"%s\": missing \"function\"", t->key);
        gw_diag_hint(d, "one of bool byte word int dword dint real lreal string[n]");
        return false;
    }
    const char *name = fn->u.str.s;
    unsigned slen = s7_string_len(name);
    if (slen || strncmp(name, "string", 6) == 0) {
        if (!slen) {
            gw_diag_error(d, fn->loc, "\"%s\": expected \"string[n]\" with n = 1..254, got \"%s\"",
                          t->key, name);
            return false;
        }
        if (a->width != 'B') {
            gw_diag_error(d, fn->loc, "\"%s\": a string starts at a byte address; write \"%s\" as "
                          "a DBB/MB address", t->key, t->key);
            return false;
        }
        t->type = GW_T_S7STRING;
        t->strlen_max = (uint16_t)slen;
        t->nbytes = slen + 2u;
    } else {
        const s7_func_entry *f = NULL;
        for (size_t i = 0; i < sizeof(s7_funcs) / sizeof(s7_funcs[0]); i++)
            if (strcmp(s7_funcs[i].name, name) == 0)
                f = &s7_funcs[i];
        if (!f) {
            gw_diag_error(d, fn->loc, "\"%s\": unknown S7 function \"%s\"", t->key, name);
            gw_diag_hint(d, "one of bool byte word int dword dint real lreal string[n]");
            return false;
        }
        if (!strchr(f->widths, a->width)) {
            static const char *wname[] = {"a bit (X)", "a byte (B)", "a word (W)", "a double word (D)"};
            const char *have = a->width == 'X' ? wname[0] : a->width == 'B' ? wname[1]
                             : a->width == 'W' ? wname[2] : wname[3];
            gw_diag_error(d, fn->loc, "\"%s\": %s does not fit %s address", t->key, name, have);
            gw_diag_hint(d, "bool on X, byte on B, word/int on W, dword/dint/real on D, "
                            "lreal on B or D");
            return false;
        }
        t->type = f->type;
        t->nbytes = f->nbytes;
        if (bitmap && f->type == GW_T_U8)
            t->type = GW_T_BITS;
    }
    if (t->addr.byte + t->nbytes - 1u > TAGS_S7_MAX_BYTE) {
        gw_diag_error(d, t->loc, "\"%s\": runs past the largest S7 byte offset", t->key);
        return false;
    }
    return true;
}

/* True when every key of a map object is "0b..." (a bit map). */
static bool map_is_bitmap(const gw_json *map)
{
    if (!map || map->kind != GW_JSON_OBJECT || map->u.obj.n == 0)
        return false;
    return strncmp(map->u.obj.members[0].key, "0b", 2) == 0;
}

static bool parse_map(loader *ld, gw_tag *t, const gw_json *map)
{
    gw_diag *d = ld->diag;
    size_t n = map->u.obj.n;
    bool ok = true;
    if (t->type == GW_T_BITS) {
        unsigned nbits = (t->addr.driver == GW_DRIVER_MODBUS && !t->addr.half) ? 16u : 8u;
        gw_bitname *bits = gw_arena_alloc(ld->map->arena, (n ? n : 1) * sizeof(*bits));
        if (!bits) {
            ld->failed_alloc = true;
            return false;
        }
        uint32_t seen = 0;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            const gw_json_member *m = &map->u.obj.members[i];
            if (m->value->kind != GW_JSON_STRING) {
                gw_diag_error(d, m->value->loc, "\"%s\": bit map entries must be names (strings)",
                              t->key);
                ok = false;
                continue;
            }
            const char *p = m->key;
            size_t digits = strlen(p) >= 2 ? strlen(p) - 2 : 0;
            bool good = strncmp(p, "0b", 2) == 0 && digits >= 1 && digits <= nbits;
            int ones = 0, bit = -1;
            for (size_t j = 0; good && j < digits; j++) {
                char c = p[2 + j];
                if (c != '0' && c != '1')
                    good = false;
                else if (c == '1') {
                    ones++;
                    bit = (int)(digits - 1 - j);
                }
            }
            if (!good || ones != 1) {
                gw_diag_error(d, m->key_loc, "\"%s\": bit map key \"%s\" must be \"0b\" and up to "
                              "%u binary digits with exactly one 1", t->key, p, nbits);
                gw_diag_hint(d, "\"0b00000001\" is bit 0, \"0b10000000\" bit 7");
                ok = false;
                continue;
            }
            if (seen & (1u << bit)) {
                gw_diag_error(d, m->key_loc, "\"%s\": bit %d is named twice in the map", t->key, bit);
                ok = false;
                continue;
            }
            seen |= 1u << bit;
            bits[k].bit = (uint8_t)bit;
            bits[k].name = arena_str(ld, m->value->u.str.s);
            k++;
        }
        t->bitmap = bits;
        t->nbitmap = k;
        return ok;
    }
    if (t->type == GW_T_STRING || t->type == GW_T_S7STRING) {
        gw_diag_error(d, map->loc, "\"%s\": a map does not apply to strings", t->key);
        return false;
    }
    gw_enumname *en = gw_arena_alloc(ld->map->arena, (n ? n : 1) * sizeof(*en));
    if (!en) {
        ld->failed_alloc = true;
        return false;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const gw_json_member *m = &map->u.obj.members[i];
        if (strncmp(m->key, "0b", 2) == 0) {
            gw_diag_error(d, m->key_loc, "\"%s\": bit map keys need \"function\": \"decode_bits\"%s",
                          t->key, t->addr.driver == GW_DRIVER_S7 ? " (or S7 \"byte\")" : "");
            ok = false;
            continue;
        }
        char *end;
        long long v = strtoll(m->key, &end, 10);
        if (end == m->key || *end != '\0' || (m->key[0] == '+')) {
            gw_diag_error(d, m->key_loc, "\"%s\": enumeration key \"%s\" must be an integer "
                          "such as \"0\" or \"-4\"", t->key, m->key);
            ok = false;
            continue;
        }
        if (m->value->kind != GW_JSON_STRING) {
            gw_diag_error(d, m->value->loc, "\"%s\": enumeration texts must be strings", t->key);
            ok = false;
            continue;
        }
        en[k].key = v;
        en[k].text = arena_str(ld, m->value->u.str.s);
        k++;
    }
    t->enums = en;
    t->nenums = k;
    return ok;
}

static bool parse_numbers(loader *ld, gw_tag *t, const gw_json *obj)
{
    gw_diag *d = ld->diag;
    bool ok = true;
    const gw_json *mul = gw_json_get(obj, "multiplier");
    const gw_json *off = gw_json_get(obj, "offset");
    const gw_json *mn = gw_json_get(obj, "min");
    const gw_json *mx = gw_json_get(obj, "max");
    t->multiplier = 1.0;
    t->offset = 0.0;
    const gw_json *nums[] = {mul, off, mn, mx};
    static const char *names[] = {"multiplier", "offset", "min", "max"};
    for (int i = 0; i < 4; i++) {
        if (nums[i] && nums[i]->kind == GW_JSON_NUMBER && !type_is_numeric(t->type)) {
            gw_diag_error(d, nums[i]->loc, "\"%s\": \"%s\" applies to numbers, not to %s", t->key,
                          names[i], gw_type_name(t->type, t->addr.driver));
            ok = false;
        }
    }
    if (!ok)
        return false;
    if (mul && mul->kind == GW_JSON_NUMBER) {
        if (mul->u.num.d == 0) {
            gw_diag_error(d, mul->loc, "\"%s\": \"multiplier\" must not be 0", t->key);
            ok = false;
        }
        t->multiplier = mul->u.num.d;
        t->scaled = true;
    }
    if (off && off->kind == GW_JSON_NUMBER) {
        t->offset = off->u.num.d;
        t->scaled = true;
    }
    if (mn && mn->kind == GW_JSON_NUMBER) {
        t->has_min = true;
        t->min = mn->u.num.d;
    }
    if (mx && mx->kind == GW_JSON_NUMBER) {
        t->has_max = true;
        t->max = mx->u.num.d;
    }
    if (t->has_min && t->has_max && t->min > t->max) {
        gw_diag_error(d, mn->loc, "\"%s\": \"min\" %s is greater than \"max\" %s", t->key,
                      mn->u.num.text, mx->u.num.text);
        ok = false;
    }
    return ok;
}

static bool parse_access(loader *ld, gw_tag *t, const gw_json *obj)
{
    bool writable_class = t->addr.driver == GW_DRIVER_S7 || t->addr.mb_class == GW_MB_COIL ||
                          t->addr.mb_class == GW_MB_HOLDING;
    t->access = (t->addr.driver == GW_DRIVER_MODBUS && writable_class) ? GW_ACCESS_RW : GW_ACCESS_R;
    const gw_json *acc = gw_json_get(obj, "access");
    if (!acc || acc->kind != GW_JSON_STRING)
        return true;
    if (strcmp(acc->u.str.s, "r") == 0) {
        t->access = GW_ACCESS_R;
    } else if (strcmp(acc->u.str.s, "rw") == 0) {
        if (!writable_class) {
            gw_diag_error(ld->diag, acc->loc, "\"%s\" is %s and read-only; \"access\": \"rw\" "
                          "is not possible", t->key, class_name(t->addr.mb_class));
            return false;
        }
        t->access = GW_ACCESS_RW;
    } else {
        gw_diag_error(ld->diag, acc->loc, "\"%s\": \"access\" must be \"r\" or \"rw\", got \"%s\"",
                      t->key, acc->u.str.s);
        return false;
    }
    return true;
}

static bool parse_extras(loader *ld, gw_tag *t, const gw_json *obj)
{
    bool ok = true;
    size_t n = 0;
    for (size_t i = 0; i < obj->u.obj.n; i++)
        if (!is_known_feature(obj->u.obj.members[i].key))
            n++;
    if (n == 0)
        return true;
    gw_feature *ex = gw_arena_alloc(ld->map->arena, n * sizeof(*ex));
    if (!ex) {
        ld->failed_alloc = true;
        return false;
    }
    size_t k = 0;
    for (size_t i = 0; i < obj->u.obj.n; i++) {
        const gw_json_member *m = &obj->u.obj.members[i];
        if (is_known_feature(m->key))
            continue;
        bool reserved = false;
        for (size_t r = 0; r < sizeof(reserved_outputs) / sizeof(reserved_outputs[0]); r++)
            if (strcmp(m->key, reserved_outputs[r]) == 0)
                reserved = true;
        if (reserved) {
            gw_diag_error(ld->diag, m->key_loc, "\"%s\": \"%s\" is reserved for the reader's "
                          "output", t->key, m->key);
            ok = false;
            continue;
        }
        ex[k].name = arena_str(ld, m->key);
        ex[k].value = to_jansson(ld, m->value);
        k++;
    }
    t->extras = ex;
    t->nextras = k;
    return ok;
}

static void set_driver(loader *ld, gw_driver drv, gw_loc loc, const char *key)
{
    if (!ld->driver_known) {
        ld->driver_known = true;
        ld->map->driver = drv;
        ld->driver_loc = loc;
        return;
    }
    if (ld->map->driver != drv) {
        gw_diag_error(ld->diag, loc, "\"%s\" is %s address, but this map is for %s (decided at "
                      "line %u, column %u)", key, drv == GW_DRIVER_S7 ? "an S7" : "a Modbus",
                      ld->map->driver == GW_DRIVER_S7 ? "S7" : "Modbus",
                      ld->driver_loc.line, ld->driver_loc.col);
    }
}

static bool load_tag(loader *ld, const gw_json_member *m, gw_tag *t)
{
    gw_diag *d = ld->diag;
    memset(t, 0, sizeof(*t));
    t->key = arena_str(ld, m->key);
    t->loc = m->key_loc;
    char why[200];
    if (gw_addr_parse(m->key, &t->addr, why, sizeof(why)) != GW_OK) {
        gw_diag_error(d, m->key_loc, "bad address key \"%s\": %s", m->key, why);
        return false;
    }
    set_driver(ld, t->addr.driver, m->key_loc, m->key);
    const gw_json *obj = m->value;
    char ctx[96];
    snprintf(ctx, sizeof(ctx), "\"%.80s\"", m->key);
    if (!gw_schema_check(d, obj, tag_fields, NTAG_FIELDS, GW_UNKNOWN_ALLOW, ctx))
        return false;
    const char *param = str_member(obj, "parameter");
    if (!param[0]) {
        gw_diag_error(d, gw_json_get(obj, "parameter")->loc, "%s: \"parameter\" must not be empty",
                      ctx);
        return false;
    }
    t->parameter = arena_str(ld, param);
    t->description = arena_str(ld, str_member(obj, "description"));
    t->alias = arena_str(ld, str_member(obj, "alias"));
    t->unit = arena_str(ld, str_member(obj, "unit"));
    t->group = arena_str(ld, str_member(obj, "group"));
    const gw_json *v;
    if ((v = gw_json_get(obj, "isTag")))
        t->is_tag = to_jansson(ld, v);
    if ((v = gw_json_get(obj, "defaultValue")))
        t->default_value = to_jansson(ld, v);
    const gw_json *fn = gw_json_get(obj, "function");
    const gw_json *map = gw_json_get(obj, "map");
    bool ok = t->addr.driver == GW_DRIVER_MODBUS ? resolve_modbus(ld, t, fn)
                                                   : resolve_s7(ld, t, fn, map_is_bitmap(map));
    if (!ok)
        return false;
    ok &= parse_numbers(ld, t, obj);
    ok &= parse_access(ld, t, obj);
    if (map)
        ok &= parse_map(ld, t, map);
    ok &= parse_extras(ld, t, obj);
    return ok;
}

/* ---------------------------------------------------------------- cross checks */

static int param_cmp(const void *a, const void *b)
{
    const gw_tag *x = *(const gw_tag *const *)a, *y = *(const gw_tag *const *)b;
    int c = strcmp(x->parameter, y->parameter);
    if (c)
        return c;
    return x->loc.line != y->loc.line ? (x->loc.line < y->loc.line ? -1 : 1)
                                      : (x->loc.col < y->loc.col ? -1 : x->loc.col > y->loc.col);
}

static void check_unique(loader *ld, gw_tag **sorted, size_t n)
{
    qsort(sorted, n, sizeof(*sorted), param_cmp);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(sorted[i - 1]->parameter, sorted[i]->parameter) == 0) {
            gw_diag_error(ld->diag, sorted[i]->loc, "parameter \"%s\" of \"%s\" is already used by "
                          "\"%s\" at line %u, column %u", sorted[i]->parameter, sorted[i]->key,
                          sorted[i - 1]->key, sorted[i - 1]->loc.line, sorted[i - 1]->loc.col);
            gw_diag_hint(ld->diag, "every parameter name must be unique within a map");
        }
    }
}

/* What a tag covers, in bits of one address space. */
typedef struct {
    uint64_t space;
    uint64_t start, end; /* [start, end) */
    const gw_tag *tag;
} span;

static span tag_span(const gw_tag *t)
{
    span s = {0, 0, 0, t};
    const gw_addr *a = &t->addr;
    if (a->driver == GW_DRIVER_MODBUS) {
        s.space = (uint64_t)a->mb_class;
        if (t->type == GW_T_BOOL) {
            s.start = a->reg;
            s.end = s.start + 1;
        } else {
            s.start = (uint64_t)a->reg * 16u + (a->half == GW_HALF_LOW ? 8u : 0u);
            s.end = s.start + (a->half ? 8u : 16u * t->nregs);
        }
    } else {
        s.space = 16u + (uint64_t)a->area * 65536u + a->db;
        s.start = (uint64_t)a->byte * 8u + (a->width == 'X' ? a->bit : 0u);
        s.end = s.start + (a->width == 'X' ? 1u : 8u * t->nbytes);
    }
    return s;
}

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->space != y->space)
        return x->space < y->space ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->tag->loc.line != y->tag->loc.line)
        return x->tag->loc.line < y->tag->loc.line ? -1 : 1;
    return x->tag->loc.col < y->tag->loc.col ? -1 : x->tag->loc.col > y->tag->loc.col;
}

static void check_overlaps(loader *ld, span *spans, size_t n)
{
    qsort(spans, n, sizeof(*spans), span_cmp);
    const span *reach = NULL; /* the span reaching furthest in this space */
    for (size_t i = 0; i < n; i++) {
        if (reach && reach->space == spans[i].space && spans[i].start < reach->end) {
            const gw_tag *a = reach->tag, *b = spans[i].tag;
            const gw_tag *later = b, *earlier = a;
            if (a->loc.line > b->loc.line || (a->loc.line == b->loc.line && a->loc.col > b->loc.col)) {
                later = a;
                earlier = b;
            }
            gw_diag_error(ld->diag, later->loc, "\"%s\" overlaps \"%s\" at line %u, column %u: "
                          "%s is read twice", later->key, earlier->key, earlier->loc.line,
                          earlier->loc.col,
                          later->addr.driver == GW_DRIVER_MODBUS ? "a register" : "a byte");
        }
        if (!reach || reach->space != spans[i].space || spans[i].end > reach->end)
            reach = &spans[i];
    }
}

/* ---------------------------------------------------------------- top level */

static const gw_field top_fields[] = {
    {"mapping", GW_KINDS_OBJECT, true, false, false, 0, 0, "address key -> tag"},
    {"endianness", GW_KINDS_OBJECT, false, false, false, 0, 0, NULL},
    {"driver", GW_KINDS_STRING, false, false, false, 0, 0, "\"modbus\" or \"s7\""},
};

static const gw_field order_fields[] = {
    {"byteorder", GW_KINDS_STRING, false, false, false, 0, 0, "\"<\" or \">\""},
    {"wordorder", GW_KINDS_STRING, false, false, false, 0, 0, "\"<\" or \">\""},
};

static bool parse_order(loader *ld, const gw_json *e, const char *name, gw_order *out)
{
    const gw_json *v = gw_json_get(e, name);
    if (!v || v->kind != GW_JSON_STRING)
        return true;
    if (strcmp(v->u.str.s, "<") == 0) {
        *out = GW_ORDER_LITTLE;
    } else if (strcmp(v->u.str.s, ">") == 0) {
        *out = GW_ORDER_BIG;
    } else {
        gw_diag_error(ld->diag, v->loc, "\"%s\" must be \"<\" (little) or \">\" (big), got \"%s\"",
                      name, v->u.str.s);
        return false;
    }
    return true;
}

void gw_tagmap_free(gw_tagmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        gw_tag *t = &m->tags[i];
        json_decref(t->is_tag);
        json_decref(t->default_value);
        for (size_t k = 0; k < t->nextras; k++)
            json_decref(t->extras[k].value);
    }
    gw_arena_free(m->arena);
    gw_free(m);
}

gw_err gw_tagmap_from_json(const gw_json *root, gw_tagmap **out, gw_diag *diag)
{
    *out = NULL;
    loader ld = {diag, NULL, false, {1, 1}, false};
    if (!gw_schema_check(diag, root, top_fields, 3, GW_UNKNOWN_ERROR, "tag map"))
        return GW_E_CONFIG;
    gw_tagmap *m = gw_calloc(1, sizeof(*m));
    if (!m || !(m->arena = gw_arena_new())) {
        gw_free(m);
        gw_diag_error(diag, root->loc, "out of memory");
        return GW_E_NOMEM;
    }
    ld.map = m;
    m->byteorder = GW_ORDER_LITTLE; /* the seed's defaults */
    m->wordorder = GW_ORDER_BIG;
    const gw_json *drv = gw_json_get(root, "driver");
    if (drv) {
        if (strcmp(drv->u.str.s, "modbus") == 0 || strcmp(drv->u.str.s, "s7") == 0) {
            set_driver(&ld, drv->u.str.s[0] == 's' ? GW_DRIVER_S7 : GW_DRIVER_MODBUS, drv->loc,
                       drv->u.str.s);
        } else {
            gw_diag_error(diag, drv->loc, "\"driver\" must be \"modbus\" or \"s7\", got \"%s\"",
                          drv->u.str.s);
        }
    }
    const gw_json *mapping = gw_json_get(root, "mapping");
    size_t n = mapping->u.obj.n;
    m->tags = gw_arena_alloc(m->arena, (n ? n : 1) * sizeof(gw_tag));
    gw_tag **sorted = gw_malloc((n ? n : 1) * sizeof(gw_tag *));
    span *spans = gw_malloc((n ? n : 1) * sizeof(span));
    if (!m->tags || !sorted || !spans) {
        gw_diag_error(diag, root->loc, "out of memory");
        goto fail;
    }
    if (n == 0)
        gw_diag_warn(diag, mapping->loc, "\"mapping\" is empty: the map has no tags");
    size_t good = 0;
    for (size_t i = 0; i < n; i++) {
        gw_tag *t = &m->tags[good];
        bool ok = load_tag(&ld, &mapping->u.obj.members[i], t);
        m->n = good + 1; /* so that gw_tagmap_free releases what it holds */
        if (ok)
            good++;
        else {
            json_decref(t->is_tag);
            json_decref(t->default_value);
            for (size_t k = 0; k < t->nextras; k++)
                json_decref(t->extras[k].value);
            memset(t, 0, sizeof(*t));
            m->n = good;
        }
    }
    const gw_json *e = gw_json_get(root, "endianness");
    if (e) {
        if (ld.driver_known && m->driver == GW_DRIVER_S7) {
            gw_diag_warn(diag, e->loc, "\"endianness\" does not apply to S7 maps (S7 data is "
                         "big-endian) and is ignored");
        } else if (gw_schema_check(diag, e, order_fields, 2, GW_UNKNOWN_ERROR, "\"endianness\"")) {
            parse_order(&ld, e, "byteorder", &m->byteorder);
            parse_order(&ld, e, "wordorder", &m->wordorder);
        }
    }
    for (size_t i = 0; i < m->n; i++) {
        sorted[i] = &m->tags[i];
        spans[i] = tag_span(&m->tags[i]);
    }
    check_unique(&ld, sorted, m->n);
    check_overlaps(&ld, spans, m->n);
    if (ld.failed_alloc)
        gw_diag_error(diag, root->loc, "out of memory");
    if (gw_diag_failed(diag))
        goto fail;
    gw_free(sorted);
    gw_free(spans);
    *out = m;
    return GW_OK;
fail:
    gw_free(sorted);
    gw_free(spans);
    gw_tagmap_free(m);
    return ld.failed_alloc ? GW_E_NOMEM : GW_E_CONFIG;
}

gw_err gw_tagmap_load_buf(const char *name, const char *text, size_t len, gw_tagmap **out,
                          gw_diag *diag)
{
    gw_diag_init(diag, name);
    gw_json_doc *doc;
    gw_err rc = gw_json_parse(text, len, &doc, diag);
    if (rc != GW_OK) {
        *out = NULL;
        return rc;
    }
    rc = gw_tagmap_from_json(gw_json_root(doc), out, diag);
    gw_json_doc_free(doc);
    return rc;
}

gw_err gw_tagmap_load_file(const char *path, gw_tagmap **out, gw_diag *diag)
{
    gw_json_doc *doc;
    gw_err rc = gw_json_parse_file(path, &doc, diag);
    if (rc != GW_OK) {
        *out = NULL;
        return rc == GW_E_NOMEM ? rc : GW_E_CONFIG;
    }
    rc = gw_tagmap_from_json(gw_json_root(doc), out, diag);
    gw_json_doc_free(doc);
    return rc;
}

gw_driver gw_tagmap_driver(const gw_tagmap *m) { return m->driver; }
gw_order gw_tagmap_byteorder(const gw_tagmap *m) { return m->byteorder; }
gw_order gw_tagmap_wordorder(const gw_tagmap *m) { return m->wordorder; }
size_t gw_tagmap_count(const gw_tagmap *m) { return m->n; }

const gw_tag *gw_tagmap_at(const gw_tagmap *m, size_t i)
{
    return i < m->n ? &m->tags[i] : NULL;
}

const gw_tag *gw_tagmap_find(const gw_tagmap *m, const char *parameter)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->tags[i].parameter, parameter) == 0)
            return &m->tags[i];
    return NULL;
}
