/*
 * tags.h - the tag map: which PLC address holds which named value, and how
 * to turn the bytes there into that value and back.
 *
 * One JSON format for every driver, the one of the universal Modbus client
 * (seed 004): the key is an address in the driver's own notation and the
 * value describes the parameter.
 *
 *   { "endianness": {"byteorder": "<", "wordorder": ">"},
 *     "mapping": {
 *       "30011":     {"parameter": "Oil Temp", "function": "decode_32bit_float"},
 *       "30034/2":   {"parameter": "TEST2", "function": "decode_bits",
 *                     "map": {"0b00000001": "test0"}},
 *       "40009":     {"parameter": "Water_Setpoint.SP_r",
 *                     "function": "decode_16bit_int", "multiplier": 0.1,
 *                     "offset": -273, "min": 10, "max": 50},
 *       "DB3.DBX0.1": {"parameter": "Jog_Forward", "function": "bool"} } }
 *
 * Every choice about byte order, bit numbering, strings and scaling is
 * written down in docs/mapping.md; the tests in tests/unit/tags hold the
 * code to it. Tag maps are immutable once loaded and may be shared between
 * threads without locks.
 */
#ifndef GW_TAGS_H
#define GW_TAGS_H

#include "core/core.h"

/* ------------------------------------------------------------------------
 * Addresses
 * --------------------------------------------------------------------- */

typedef enum { GW_DRIVER_MODBUS = 0, GW_DRIVER_S7 = 1 } gw_driver;

/* The Modbus register classes, named by the key's first digit. */
typedef enum {
    GW_MB_COIL = 0,      /* 0xxxx, read/write bits      (FC 1, 5, 15) */
    GW_MB_DISCRETE = 1,  /* 1xxxx, read-only bits       (FC 2) */
    GW_MB_INPUT = 3,     /* 3xxxx, read-only registers  (FC 4) */
    GW_MB_HOLDING = 4    /* 4xxxx, read/write registers (FC 3, 6, 16, 22) */
} gw_mb_class;

/* Which part of a Modbus register a key names. */
typedef enum {
    GW_HALF_NONE = 0,    /* whole register(s) */
    GW_HALF_HIGH = 1,    /* "/1": leading byte, sent first on the wire */
    GW_HALF_LOW = 2      /* "/2": trailing byte */
} gw_half;

typedef enum { GW_S7_DB, GW_S7_M, GW_S7_I, GW_S7_Q } gw_s7_area;

/*
 * A parsed address key. For Modbus, `reg` is the protocol (zero-based)
 * address: "30011" is input register 11. `end_reg` is set when the key
 * names an end register ("30011/30012"). For S7, `width` is the size
 * letter of the key: 'X' bit, 'B' byte, 'W' word, 'D' double word.
 */
typedef struct {
    gw_driver driver;
    /* Modbus */
    gw_mb_class mb_class;
    uint16_t reg;
    bool has_end;
    uint16_t end_reg;
    gw_half half;
    /* S7 */
    gw_s7_area area;
    uint16_t db;       /* DB number, 0 for M, I, Q */
    uint32_t byte;     /* byte offset */
    uint8_t bit;       /* 0..7 for 'X' */
    char width;        /* 'X', 'B', 'W', 'D' */
} gw_addr;

/*
 * Parses an address key: Modbus "40009", "30034/1", "30011/30012", or S7
 * "DB2.DBD0", "DB3.DBX1.3", "M10.0", "MW20", "I0.0", "QB4". Fills `why`
 * with what was expected when it fails.
 */
gw_err gw_addr_parse(const char *key, gw_addr *out, char *why, size_t why_size);
/* The canonical key text of an address ("30034/1", "DB3.DBX1.3"). */
void gw_addr_format(const gw_addr *a, char *buf, size_t size);

/* ------------------------------------------------------------------------
 * Types
 * --------------------------------------------------------------------- */

typedef enum {
    GW_T_BOOL,      /* coil, discrete input, S7 bit */
    GW_T_BITS,      /* decode_bits: 8 bits of a byte, or 16 of a register */
    GW_T_STRING,    /* decode_string: 2 characters per register */
    GW_T_S7STRING,  /* S7 STRING[n]: max length, actual length, n chars */
    GW_T_I8, GW_T_U8,
    GW_T_I16, GW_T_U16, GW_T_F16,
    GW_T_I32, GW_T_U32, GW_T_F32,
    GW_T_I64, GW_T_U64, GW_T_F64
} gw_type;

/* Function name as written in a map ("decode_32bit_float", "real"). */
const char *gw_type_name(gw_type t, gw_driver d);
/* Size of the type's raw value in bits (8 for BITS on a byte, ...). */
unsigned gw_type_bits(gw_type t);
bool gw_type_is_float(gw_type t);
bool gw_type_is_signed(gw_type t);

/* ------------------------------------------------------------------------
 * Values
 * --------------------------------------------------------------------- */

typedef enum {
    GW_V_NONE = 0,
    GW_V_BOOL,
    GW_V_INT,      /* signed integers and unsigned ones up to INT64_MAX */
    GW_V_UINT,     /* unsigned 64-bit above INT64_MAX */
    GW_V_DOUBLE,   /* floats, and every scaled value */
    GW_V_STRING,   /* heap string, freed by gw_value_clear */
    GW_V_BITS      /* a bit field: `bits` with `nbits` valid, bit 0 first */
} gw_value_kind;

typedef struct {
    gw_value_kind kind;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double d;
        struct {
            char *s;
            size_t len;
        } str;
        struct {
            uint16_t bits;
            uint8_t nbits;
        } bits;
    } v;
} gw_value;

void gw_value_clear(gw_value *v);
/* Value as a double (bool 0/1, bits as their integer); NaN for strings. */
double gw_value_as_double(const gw_value *v);

/* ------------------------------------------------------------------------
 * Tags and tag maps
 * --------------------------------------------------------------------- */

typedef struct {
    uint8_t bit;       /* 0..7 in a byte, 0..15 in a whole register */
    const char *name;
} gw_bitname;

typedef struct {
    int64_t key;
    const char *text;
} gw_enumname;

typedef struct {
    const char *name;
    void *value;       /* json_t *, borrowed from the map */
} gw_feature;

typedef enum { GW_ACCESS_R, GW_ACCESS_RW } gw_access;

/*
 * One entry of a map. Plain read-only data owned by the gw_tagmap; all
 * pointers live as long as the map.
 */
typedef struct {
    const char *key;           /* as written in the file */
    gw_loc loc;                /* of the key */
    gw_addr addr;
    gw_type type;
    uint16_t nregs;            /* Modbus registers covered (0 for coils/DI) */
    uint32_t nbytes;           /* S7 bytes covered (bits round up to 1) */
    uint16_t strlen_max;       /* characters of a string type */
    const char *parameter;
    const char *description;   /* NULL when absent */
    const char *alias;
    const char *unit;
    const char *group;         /* scan group, NULL = default */
    gw_access access;
    bool scaled;               /* multiplier or offset given */
    double multiplier;         /* 1 when absent */
    double offset;             /* 0 when absent */
    bool has_min, has_max;
    double min, max;
    void *is_tag;              /* json_t * or NULL */
    void *default_value;       /* json_t * or NULL */
    const gw_bitname *bitmap;  /* decode_bits map, by bit */
    size_t nbitmap;
    const gw_enumname *enums;  /* enumeration map */
    size_t nenums;
    const gw_feature *extras;  /* unknown features, passed to the output */
    size_t nextras;
} gw_tag;

typedef struct gw_tagmap gw_tagmap;

typedef enum { GW_ORDER_BIG = '>', GW_ORDER_LITTLE = '<' } gw_order;

/*
 * Loads and checks a map. Every problem goes into `diag` with its
 * position; on any error the map is not created and GW_E_CONFIG is
 * returned. Warnings (a near-miss feature name) do not fail the load.
 */
gw_err gw_tagmap_load_file(const char *path, gw_tagmap **out, gw_diag *diag);
/* The same from a buffer; `name` is used as the file name in messages. */
gw_err gw_tagmap_load_buf(const char *name, const char *text, size_t len,
                          gw_tagmap **out, gw_diag *diag);
/* From an already parsed document (a map embedded in a bigger file). */
gw_err gw_tagmap_from_json(const gw_json *root, gw_tagmap **out, gw_diag *diag);
void gw_tagmap_free(gw_tagmap *m);

gw_driver gw_tagmap_driver(const gw_tagmap *m);
gw_order gw_tagmap_byteorder(const gw_tagmap *m);
gw_order gw_tagmap_wordorder(const gw_tagmap *m);
size_t gw_tagmap_count(const gw_tagmap *m);
/* Tags in file order. */
const gw_tag *gw_tagmap_at(const gw_tagmap *m, size_t i);
const gw_tag *gw_tagmap_find(const gw_tagmap *m, const char *parameter);

/* ------------------------------------------------------------------------
 * Decoding: raw PLC data of one tag -> its value (scaled).
 * --------------------------------------------------------------------- */

/*
 * Modbus registers of a register-class tag: `regs` holds the tag's
 * registers in address order, as host integers (register 0x1234 is sent as
 * bytes 12 34). n must be at least tag->nregs.
 */
gw_err gw_tag_decode_regs(const gw_tagmap *m, const gw_tag *t, const uint16_t *regs,
                          size_t n, gw_value *out, gw_error *err);
/* A coil or discrete input. */
void gw_tag_decode_bit(const gw_tag *t, bool bit, gw_value *out);
/*
 * S7 data: `p` points at the tag's first byte (big-endian, as S7 sends
 * it); n must be at least tag->nbytes. For a bit tag, bit `addr.bit` of
 * p[0] is used.
 */
gw_err gw_tag_decode_bytes(const gw_tag *t, const uint8_t *p, size_t n, gw_value *out,
                           gw_error *err);

/* ------------------------------------------------------------------------
 * Writing: a JSON value from a user -> checked raw data for the PLC.
 * --------------------------------------------------------------------- */

#define GW_WRITE_MAX_REGS 123   /* FC 16 limit: Modbus spec V1.1b 6.12 */
#define GW_WRITE_MAX_BYTES 256  /* S7 STRING[254] + 2 header bytes */

/*
 * The raw form of a checked write. `mask` has a 1 for every bit that the
 * write sets; other bits of the PLC's data must not be touched (Modbus FC 22
 * mask write, S7 bit writes).
 */
typedef struct {
    const gw_tag *tag;
    size_t n;                               /* registers, or bytes, or 1 bit */
    uint16_t regs[GW_WRITE_MAX_REGS];       /* Modbus registers */
    uint16_t regmask[GW_WRITE_MAX_REGS];
    uint8_t bytes[GW_WRITE_MAX_BYTES];      /* S7 bytes */
    uint8_t bytemask[GW_WRITE_MAX_BYTES];
    bool bit;                               /* coil or S7 bit */
} gw_write;

/*
 * Checks `json` (a json_t *) against the tag - writable class, type,
 * min/max, range of the raw type - and encodes it. Nothing is changed on
 * error; err says what is wrong in words a user can act on.
 *
 *   bool tags:    true/false (or 0/1)
 *   numbers:      a number; integer types need a whole raw value
 *   strings:      a string that fits
 *   decode_bits:  a list [1,0,0,1,...] (bit 0 first, see docs/mapping.md),
 *                 an integer for the whole byte/register, or an object
 *                 {"name": true} that writes only the named bits
 */
gw_err gw_tag_prepare_write(const gw_tagmap *m, const gw_tag *t, const void *json,
                            gw_write *out, gw_error *err);

/* The same checks and encoding without the access check: a simulator
 * encodes initial values of read-only tags (input registers) this way. */
gw_err gw_tag_encode(const gw_tagmap *m, const gw_tag *t, const void *json, gw_write *out,
                     gw_error *err);

/* ------------------------------------------------------------------------
 * Output records (the reader's list, seed 004)
 * --------------------------------------------------------------------- */

/*
 * Appends the records of one tag's value to `array` (a json_t * array):
 * {"parameter", "value", "datatype", ...features}. A bit map yields one
 * record per map entry, with "parameter_alt" and a boolean value; an
 * enumeration adds "value_alt". Returns GW_E_NOMEM on allocation failure.
 */
gw_err gw_tag_records(const gw_tag *t, const gw_value *v, void *array);
/* A value as the records print it (json_t *, caller decrefs). */
void *gw_tag_value_json(const gw_tag *t, const gw_value *v);
/* AVRO type name of the tag's output value ("int", "long", "float", ...). */
const char *gw_tag_avro_type(const gw_tag *t);

/* ------------------------------------------------------------------------
 * Half precision (IEEE 754 binary16), for decode_16bit_float.
 * --------------------------------------------------------------------- */

double gw_half_to_double(uint16_t h);
/* Round to nearest, ties to even; overflow gives infinity. */
uint16_t gw_half_from_double(double d);

#endif /* GW_TAGS_H */
