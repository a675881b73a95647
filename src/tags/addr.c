/*
 * addr.c - address keys of tag maps.
 *
 * Modbus keys are the universal client's (seed 004): a class digit
 * (0 coils, 1 discrete inputs, 3 input registers, 4 holding registers) and
 * the zero-based protocol address, with "/1" and "/2" for the leading and
 * trailing byte and "/<key>" for an end register. S7 keys are the classic
 * STEP 7 notation: DB<n>.DB{X,B,W,D}<byte>[.<bit>], M/I/Q with an optional
 * size letter. Pure: no allocation, no I/O.
 */
#include "tags.h"

#include <string.h>

/* S7comm item addresses carry a 24-bit bit offset (byte * 8 + bit), so the
 * largest byte offset is 2^21 - 1. (S7comm Read Var item, "Address" field,
 * 3 bytes; Wireshark packet-s7comm.c.) */
#define S7_MAX_BYTE 2097151u

static void why_set(char *why, size_t size, const char *msg)
{
    if (why && size)
        snprintf(why, size, "%s", msg);
}

/* Parses decimal digits [p, ...) into *out (<= max); returns chars used, 0
 * when there is no digit or the number exceeds max. */
static size_t parse_uint(const char *p, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    while (p[i] >= '0' && p[i] <= '9') {
        v = v * 10 + (uint64_t)(p[i] - '0');
        if (v > max)
            return 0;
        i++;
        if (i > 10)
            return 0;
    }
    if (i == 0)
        return 0;
    *out = (uint32_t)v;
    return i;
}

/* One Modbus register key "Cdddd" or "Cddddd": class and address. */
static bool parse_mb_reg(const char *p, size_t len, gw_mb_class *cls, uint16_t *reg)
{
    if (len < 5 || len > 6)
        return false;
    for (size_t i = 0; i < len; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    int c = p[0] - '0';
    if (c != 0 && c != 1 && c != 3 && c != 4)
        return false;
    uint32_t v = 0;
    for (size_t i = 1; i < len; i++)
        v = v * 10 + (uint32_t)(p[i] - '0');
    if (v > 65535)
        return false;
    *cls = (gw_mb_class)c;
    *reg = (uint16_t)v;
    return true;
}

static gw_err parse_modbus(const char *key, gw_addr *a, char *why, size_t why_size)
{
    const char *slash = strchr(key, '/');
    size_t first_len = slash ? (size_t)(slash - key) : strlen(key);
    if (first_len >= 1 && key[0] == '2') {
        why_set(why, why_size, "class 2 does not exist: use 0 (coils), 1 (discrete inputs), "
                               "3 (input registers) or 4 (holding registers)");
        return GW_E_INVAL;
    }
    if (!parse_mb_reg(key, first_len, &a->mb_class, &a->reg)) {
        why_set(why, why_size, "expected a Modbus key: class digit 0, 1, 3 or 4 and a "
                               "register 0..65535 in 4 or 5 digits, e.g. \"40009\"");
        return GW_E_INVAL;
    }
    if (!slash)
        return GW_OK;
    const char *rest = slash + 1;
    bool is_bits = a->mb_class == GW_MB_COIL || a->mb_class == GW_MB_DISCRETE;
    if ((rest[0] == '1' || rest[0] == '2') && rest[1] == '\0') {
        if (is_bits) {
            why_set(why, why_size, "coils and discrete inputs are single bits and have no "
                                   "byte halves");
            return GW_E_INVAL;
        }
        a->half = rest[0] == '1' ? GW_HALF_HIGH : GW_HALF_LOW;
        return GW_OK;
    }
    gw_mb_class end_cls;
    uint16_t end;
    if (!parse_mb_reg(rest, strlen(rest), &end_cls, &end)) {
        why_set(why, why_size, "after '/' expected 1 (leading byte), 2 (trailing byte) or an "
                               "end register such as \"30012\"");
        return GW_E_INVAL;
    }
    if (is_bits) {
        why_set(why, why_size, "coils and discrete inputs are single bits and have no "
                               "register span");
        return GW_E_INVAL;
    }
    if (end_cls != a->mb_class) {
        why_set(why, why_size, "the end register must be in the same class as the start");
        return GW_E_INVAL;
    }
    if (end < a->reg) {
        why_set(why, why_size, "the end register comes before the start register");
        return GW_E_INVAL;
    }
    a->has_end = true;
    a->end_reg = end;
    return GW_OK;
}

/* "<byte>" or "<byte>.<bit>" after an area's size letter. */
static gw_err parse_s7_offset(const char *p, gw_addr *a, char *why, size_t why_size)
{
    uint32_t byte;
    size_t n = parse_uint(p, S7_MAX_BYTE, &byte);
    if (n == 0) {
        why_set(why, why_size, "expected a byte offset 0..2097151");
        return GW_E_INVAL;
    }
    a->byte = byte;
    p += n;
    if (a->width == 'X') {
        uint32_t bit;
        if (p[0] != '.' || parse_uint(p + 1, 7, &bit) != 1 || p[2] != '\0') {
            why_set(why, why_size, "expected a bit number 0..7 after the byte: \"<byte>.<bit>\"");
            return GW_E_INVAL;
        }
        a->bit = (uint8_t)bit;
        return GW_OK;
    }
    if (p[0] != '\0') {
        why_set(why, why_size, "unexpected text after the byte offset");
        return GW_E_INVAL;
    }
    return GW_OK;
}

static gw_err parse_s7(const char *key, gw_addr *a, char *why, size_t why_size)
{
    a->driver = GW_DRIVER_S7;
    const char *p = key;
    if (p[0] == 'D' && p[1] == 'B') {
        uint32_t db;
        size_t n = parse_uint(p + 2, 65535, &db);
        if (n == 0 || db == 0) {
            why_set(why, why_size, "expected a DB number 1..65535 after \"DB\"");
            return GW_E_INVAL;
        }
        p += 2 + n;
        if (strncmp(p, ".DB", 3) != 0 || !strchr("XBWD", p[3]) || p[3] == '\0') {
            why_set(why, why_size, "expected \".DBX\", \".DBB\", \".DBW\" or \".DBD\" after the DB "
                                   "number, e.g. \"DB2.DBD0\"");
            return GW_E_INVAL;
        }
        a->area = GW_S7_DB;
        a->db = (uint16_t)db;
        a->width = p[3];
        return parse_s7_offset(p + 4, a, why, why_size);
    }
    switch (p[0]) {
    case 'M': a->area = GW_S7_M; break;
    case 'I': a->area = GW_S7_I; break;
    case 'Q': a->area = GW_S7_Q; break;
    default:
        why_set(why, why_size, "expected an S7 address: DB<n>.DBX<byte>.<bit>, DB<n>.DBB/DBW/DBD"
                               "<byte>, M, I or Q");
        return GW_E_INVAL;
    }
    p++;
    if (p[0] == 'B' || p[0] == 'W' || p[0] == 'D') {
        a->width = p[0];
        p++;
    } else if (p[0] == 'X') {
        a->width = 'X';
        p++;
    } else {
        a->width = 'X';
    }
    return parse_s7_offset(p, a, why, why_size);
}

gw_err gw_addr_parse(const char *key, gw_addr *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof(*out));
    if (why && why_size)
        why[0] = '\0';
    if (!key || !key[0]) {
        why_set(why, why_size, "empty address key");
        return GW_E_INVAL;
    }
    if (key[0] >= '0' && key[0] <= '9') {
        out->driver = GW_DRIVER_MODBUS;
        return parse_modbus(key, out, why, why_size);
    }
    if ((key[0] >= 'a' && key[0] <= 'z')) {
        why_set(why, why_size, "S7 addresses are written in upper case, e.g. \"DB3.DBX1.3\"");
        return GW_E_INVAL;
    }
    return parse_s7(key, out, why, why_size);
}

void gw_addr_format(const gw_addr *a, char *buf, size_t size)
{
    if (a->driver == GW_DRIVER_MODBUS) {
        if (a->half)
            snprintf(buf, size, "%d%04u/%d", (int)a->mb_class, a->reg, (int)a->half);
        else if (a->has_end)
            snprintf(buf, size, "%d%04u/%d%04u", (int)a->mb_class, a->reg, (int)a->mb_class,
                     a->end_reg);
        else
            snprintf(buf, size, "%d%04u", (int)a->mb_class, a->reg);
        return;
    }
    static const char areas[] = {'D', 'M', 'I', 'Q'};
    if (a->area == GW_S7_DB) {
        if (a->width == 'X')
            snprintf(buf, size, "DB%u.DBX%u.%u", a->db, a->byte, a->bit);
        else
            snprintf(buf, size, "DB%u.DB%c%u", a->db, a->width, a->byte);
    } else if (a->width == 'X') {
        snprintf(buf, size, "%c%u.%u", areas[a->area], a->byte, a->bit);
    } else {
        snprintf(buf, size, "%c%c%u", areas[a->area], a->width, a->byte);
    }
}
