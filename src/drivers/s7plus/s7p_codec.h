/*
 * s7p_codec.h - the S7CommPlus V1 wire format (S7-1200/1500), shared by our
 * client and server. docs/s7commplus.md is the reference for every layout
 * and constant here; "S5.4" etc. below point into its section numbers.
 *
 * Pure functions: bytes in, views out, or values in, bytes out. No I/O, no
 * allocation, no logging. Decoded values are *views*: pointers into the
 * caller's input buffer, valid while it is. Every length read off the wire
 * is checked against the bytes present; a truncated or malformed input is
 * GW_E_PROTOCOL (or GW_E_UNSUPPORTED for a well-formed thing we do not
 * model, GW_E_RANGE for a size above one of our limits), never a read
 * past the end. All functions may be called from any thread; they keep no
 * state except what the caller passes in.
 *
 * Layers of one message:
 *   TPKT + COTP DT        s7_codec.h (transport; not duplicated here)
 *   frame                 72 VV LL LL, data, trailer 72 VV 00 00 (last
 *                         fragment only)                 s7p_frame_*, s7p_reasm_*
 *   request/response hdr  31 ... (14 bytes) / 32 ... (10)  s7p_hdr_*
 *   payload               per function                   s7p_<msg>_*
 *
 * Wire forms differ between python-snap7's emulator ("py7") and real CPUs /
 * the public references. s7p_opts picks them; all-zero = py7 forms.
 *
 * Encoding goes through s7p_w, a bounded writer that never overflows:
 * functions append and set w->err on overflow; check s7p_w_ok() (or
 * s7p_w_finish()) once at the end.
 */
#ifndef GW_S7P_CODEC_H
#define GW_S7P_CODEC_H

#include "core/core.h"

/* ------------------------------------------------------------ options */

/* Wire-form choices (docs/s7commplus.md "Form choices"). Zero-initialise
 * for the py7-compatible forms; set a flag for the real-CPU/reference form.
 * Decoders that can tell the forms apart from the bytes accept both and
 * say which they saw; the flags then only steer the encoders. */
typedef struct {
    bool lid_classic;    /* DB byte range LIDs [3, offset, size] (PR #899) instead
                          * of py7's 1-based [offset+1, size]. Parse accepts both. */
    bool blob_root_id;   /* Blob = root id VLQ + len + bytes (real CPU) instead of
                          * py7's len + bytes. Decoding follows this flag too. */
    bool delete_long;    /* DeleteObject request: S7CPD's id, 00, OQ, tail;
                          * py7 sends u32 0 only. Decode accepts both. */
    bool names_utf8;     /* object names (attr 233) as UTF-8 instead of py7's
                          * UTF-16BE. Decode detects (NUL bytes => UTF-16BE). */
    bool oq_reference;   /* ObjectQualifier ends 00 00 (S7CPD) instead of py7's
                          * u32 0. Decode accepts both. */
    bool explore_id;     /* Explore response carries ExploreId u32 after the
                          * ReturnValue (S7CPD); py7 has none. Decoding follows. */
} s7p_opts;

/* The flags above by name, for command lines and config: a comma-separated
 * list of names, "real" for all of them (the real CPUs' forms) or "py7" for
 * none. GW_E_INVAL with `why` naming what is not a flag. */
gw_err s7p_opts_parse(const char *list, s7p_opts *out, char *why, size_t why_size);

/* ------------------------------------------------------------ constants */

#define S7P_MAGIC 0x72               /* frame header and trailer byte 0 */
enum {
    S7P_V1 = 0x01, S7P_V2 = 0x02, S7P_V3 = 0x03,
    S7P_V_SYSEVENT = 0xFE,           /* header only, <= 16 bytes, no trailer */
    S7P_V_KEEPALIVE = 0xFF
};
#define S7P_FRAME_HDR 4              /* 72 VV LL LL */
#define S7P_FRAME_TRL 4              /* 72 VV 00 00 */
#define S7P_FRAME_MAX_DATA 65535u    /* LL is u16 */

/* Opcodes (DISS 113-116). */
enum { S7P_OP_REQUEST = 0x31, S7P_OP_RESPONSE = 0x32, S7P_OP_NOTIFICATION = 0x33,
       S7P_OP_RESPONSE2 = 0x02 };
#define S7P_REQ_HDR 14
#define S7P_RSP_HDR 10

/* Function codes (DISS 136-155). */
enum {
    S7P_FN_ERROR = 0x04B1, S7P_FN_EXPLORE = 0x04BB, S7P_FN_CREATE_OBJECT = 0x04CA,
    S7P_FN_DELETE_OBJECT = 0x04D4, S7P_FN_SET_VARIABLE = 0x04F2,
    S7P_FN_GET_VARIABLE = 0x04FC, S7P_FN_ADD_LINK = 0x0506, S7P_FN_REMOVE_LINK = 0x051A,
    S7P_FN_GET_LINK = 0x0524, S7P_FN_SET_MULTI = 0x0542, S7P_FN_GET_MULTI = 0x054C,
    S7P_FN_BEGIN_SEQUENCE = 0x0556, S7P_FN_END_SEQUENCE = 0x0560, S7P_FN_INVOKE = 0x056B,
    S7P_FN_SET_VAR_SUBSTREAMED = 0x057C, S7P_FN_GET_VAR_SUBSTREAMED = 0x0586,
    S7P_FN_GET_VARIABLES_ADDRESS = 0x0590, S7P_FN_ABORT = 0x059A, S7P_FN_ERROR2 = 0x05A9,
    S7P_FN_INIT_SSL = 0x05B3
};

/* Transport flags as senders use them (S2): S7CPD 0x30 InitSSL, 0x36
 * CreateObject, 0x34 else; py7 0x36 for SetMulti/DeleteObject. Responses
 * from the emulator carry 0x00. Bit meanings unknown. */
enum { S7P_TF_INIT_SSL = 0x30, S7P_TF_34 = 0x34, S7P_TF_36 = 0x36 };

/* Ids used in V1 (S7CPD Core/Ids.cs = py7 protocol.py). */
enum {
    S7P_ID_THE_PLC_PROGRAM = 3, S7P_ID_CPU_EXEC_UNIT = 52,
    S7P_ID_AREA_I = 80, S7P_ID_AREA_Q = 81, S7P_ID_AREA_M = 82, S7P_ID_AREA_C = 83,
    S7P_ID_AREA_T = 84,
    S7P_ID_OBJECT_ROOT = 201, S7P_ID_GET_NEW_RID_ON_SERVER = 211,
    S7P_ID_OBJECT_VARIABLE_TYPE_NAME = 233, S7P_ID_CLASS_SUBSCRIPTIONS = 255,
    S7P_ID_OBJECT_SERVER_SESSION_CONTAINER = 285, S7P_ID_CLASS_SERVER_SESSION = 287,
    S7P_ID_OBJECT_NULL_SERVER_SESSION = 288, S7P_ID_SERVER_SESSION_CLIENT_RID = 300,
    S7P_ID_SERVER_SESSION_CHALLENGE = 303, S7P_ID_SERVER_SESSION_ID_ATTR = 305,
    S7P_ID_SERVER_SESSION_VERSION = 306, S7P_ID_OMS_TYPE_INFO_CONTAINER = 537,
    S7P_ID_SYSTEM_LIMITS = 1037, S7P_ID_OBJECT_QUALIFIER = 1256, S7P_ID_PARENT_RID = 1257,
    S7P_ID_COMPOSITION_AID = 1258, S7P_ID_KEY_QUALIFIER = 1259,
    S7P_ID_EFFECTIVE_PROTECTION_LEVEL = 1842, S7P_ID_LEGITIMATE = 1846,
    S7P_ID_BLOCK_NUMBER = 2521, S7P_ID_DB_VALUE_ACTUAL = 2550, S7P_ID_DB_CLASS = 2574,
    S7P_ID_CONTROLLER_AREA_VALUE_ACTUAL = 3736
};
#define S7P_DB_AREA_BASE 0x8A0E0000u          /* DB n access area = base + n */
#define S7P_CLIENT_RID 0x80C3C901u            /* attr 300 in CreateObject (S2) */
#define S7P_DB_SIZE_ATTR 2                    /* py7 Explore: DB size (S4) */
#define S7P_RET_ERROR_OBJECT 0x4000000000000000ull /* ReturnValue: error object follows */
#define S7P_ERR_NO_DB 0x8104u                 /* py7: unknown DB in an error list */

/* PValue flags and datatypes (DISS 240-242; S3 table). */
enum { S7P_PV_ARRAY = 0x10, S7P_PV_ADDRESS_ARRAY = 0x20, S7P_PV_SPARSE_ARRAY = 0x40 };
enum {
    S7P_T_NULL = 0x00, S7P_T_BOOL = 0x01, S7P_T_USINT = 0x02, S7P_T_UINT = 0x03,
    S7P_T_UDINT = 0x04, S7P_T_ULINT = 0x05, S7P_T_SINT = 0x06, S7P_T_INT = 0x07,
    S7P_T_DINT = 0x08, S7P_T_LINT = 0x09, S7P_T_BYTE = 0x0A, S7P_T_WORD = 0x0B,
    S7P_T_DWORD = 0x0C, S7P_T_LWORD = 0x0D, S7P_T_REAL = 0x0E, S7P_T_LREAL = 0x0F,
    S7P_T_TIMESTAMP = 0x10, S7P_T_TIMESPAN = 0x11, S7P_T_RID = 0x12, S7P_T_AID = 0x13,
    S7P_T_BLOB = 0x14, S7P_T_WSTRING = 0x15, S7P_T_VARIANT = 0x16, S7P_T_STRUCT = 0x17,
    S7P_T_S7STRING = 0x19
};

/* Object tree element ids (DISS 247-254). */
enum {
    S7P_EL_START_OBJECT = 0xA1, S7P_EL_TERMINATING_OBJECT = 0xA2, S7P_EL_ATTRIBUTE = 0xA3,
    S7P_EL_RELATION = 0xA4, S7P_EL_TAG_DESCRIPTION = 0xA7, S7P_EL_VARTYPE_LIST = 0xAB,
    S7P_EL_VARNAME_LIST = 0xAC
};

/* Our limits. */
#define S7P_MAX_LIDS 16     /* LIDs per ItemAddress we decode */
#define S7P_MAX_DEPTH 16    /* nesting of structs / objects */
#define S7P_MAX_OBJECT_IDS 8

/* ------------------------------------------------------------ reader / writer */

/* A cursor over borrowed input. */
typedef struct {
    const uint8_t *p;
    size_t len, pos;
} s7p_r;

static inline void s7p_r_init(s7p_r *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
}
static inline size_t s7p_r_left(const s7p_r *r) { return r->len - r->pos; }

gw_err s7p_get_u8(s7p_r *r, uint8_t *v);
gw_err s7p_get_u16(s7p_r *r, uint16_t *v);   /* big-endian */
gw_err s7p_get_u32(s7p_r *r, uint32_t *v);
gw_err s7p_get_u64(s7p_r *r, uint64_t *v);
gw_err s7p_get_bytes(s7p_r *r, size_t n, const uint8_t **p); /* view of n bytes */

/* A bounded writer into a caller buffer. After an overflow every append is
 * a no-op and err stays set. */
typedef struct {
    uint8_t *p;
    size_t cap, len;
    bool err;
} s7p_w;

static inline void s7p_w_init(s7p_w *w, uint8_t *buf, size_t cap)
{
    w->p = buf;
    w->cap = cap;
    w->len = 0;
    w->err = false;
}
static inline bool s7p_w_ok(const s7p_w *w) { return !w->err; }
/* GW_OK and *len = bytes written, or GW_E_RANGE if the buffer was too small. */
gw_err s7p_w_finish(const s7p_w *w, size_t *len);

void s7p_put_u8(s7p_w *w, uint8_t v);
void s7p_put_u16(s7p_w *w, uint16_t v);
void s7p_put_u32(s7p_w *w, uint32_t v);
void s7p_put_u64(s7p_w *w, uint64_t v);
void s7p_put_bytes(s7p_w *w, const void *p, size_t n);

/* ------------------------------------------------------------ VLQ (S3) */

/* Encoders write into out (>= 5 bytes for 32-bit, >= 9 for 64-bit) and
 * return the length. u64/i64 use the 9-byte form (8 groups of 7 bits +
 * one 8-bit byte) from 2^56 / |v| > 2^55-1 up. i32/i64 add groups while
 * |v| >= 0x40, so -64 is `ff 40`. */
size_t s7p_vlq_enc_u32(uint8_t out[5], uint32_t v);
size_t s7p_vlq_enc_i32(uint8_t out[5], int32_t v);
size_t s7p_vlq_enc_u64(uint8_t out[9], uint64_t v);
size_t s7p_vlq_enc_i64(uint8_t out[9], int64_t v);

/* Decoders accept non-minimal and one's-complement-padded forms and wrap
 * in the target width (u32: `8f ff ff fe 01` = 0xFFFFFF01). 32-bit forms
 * read at most 5 bytes, 64-bit at most 9. GW_E_PROTOCOL when truncated or
 * too long. */
gw_err s7p_get_vlq_u32(s7p_r *r, uint32_t *v);
gw_err s7p_get_vlq_i32(s7p_r *r, int32_t *v);
gw_err s7p_get_vlq_u64(s7p_r *r, uint64_t *v);
gw_err s7p_get_vlq_i64(s7p_r *r, int64_t *v);

void s7p_put_vlq_u32(s7p_w *w, uint32_t v);
void s7p_put_vlq_i32(s7p_w *w, int32_t v);
void s7p_put_vlq_u64(s7p_w *w, uint64_t v);
void s7p_put_vlq_i64(s7p_w *w, int64_t v);

/* ------------------------------------------------------------ PValue (S3) */

/*
 * A decoded PValue: a view into the input. Which fields are set:
 *   scalar Bool/USInt/UInt/UDInt/ULInt/Byte/Word/DWord/LWord/Timestamp/RID/
 *     AID/Variant          u (Bool: 0/1)
 *   SInt/Int/DInt/LInt/Timespan   i
 *   Real/LReal             f (and u = the IEEE bit pattern)
 *   Blob                   data/data_len = the bytes; has_root/blob_root_id
 *   WString                data/data_len = the bytes as sent (UTF-8 per the
 *                          references; py7 names are UTF-16BE, s7p_name_utf8)
 *   array / address array  count elements, data = their encoded bytes
 *                          (s7p_pv_elem_next walks them)
 *   Struct                 struct_id; normal: data = the (key, PValue)
 *                          pairs without the 00 end (s7p_struct_next);
 *                          packed: packed = true, packed_ts,
 *                          packed_flags, data = the raw bytes
 * raw/raw_len is the whole encoding (flags byte on): echo it verbatim with
 * s7p_put_bytes, e.g. attr 306 in the session setup.
 */
typedef struct {
    uint8_t flags, type;
    uint64_t u;
    int64_t i;
    double f;
    uint32_t count;
    bool has_root;
    uint32_t blob_root_id;
    uint32_t struct_id;
    bool packed;
    uint64_t packed_ts;
    uint32_t packed_flags;
    const uint8_t *data;
    size_t data_len;
    const uint8_t *raw;
    size_t raw_len;
} s7p_pvalue;

/* Decodes one PValue (nested structs validated, depth <= S7P_MAX_DEPTH).
 * o may be NULL (py7 forms). GW_E_UNSUPPORTED for sparse arrays (0x40),
 * S7String (0x19), unknown types, arrays of Blob/WString/Struct/Null/
 * Timespan/Variant, and Blob root ids > 1: the caller cannot stay in sync
 * after those and must drop the message. */
gw_err s7p_get_pvalue(s7p_r *r, const s7p_opts *o, s7p_pvalue *pv);

/* Next array element as its bit pattern (fixed-width types big-endian
 * zero-extended; signed VLQ types sign-extended to 64 bits). *pos starts at
 * 0. GW_E_NOT_FOUND after the last element. */
gw_err s7p_pv_elem_next(const s7p_pvalue *pv, size_t *pos, uint64_t *bits);
/* Next member of a normal Struct; *pos starts at 0. GW_E_NOT_FOUND at the end. */
gw_err s7p_struct_next(const s7p_pvalue *st, const s7p_opts *o, size_t *pos, uint32_t *key,
                       s7p_pvalue *member);

/* Encoders. The generic scalar ones take the value for the type's class
 * (s7p_put_pv_u for unsigned/bit-string/RID/AID/Timestamp/Variant types,
 * s7p_put_pv_i for SInt/Int/DInt/LInt/Timespan); a type of the wrong class
 * sets w->err. */
void s7p_put_pv_null(s7p_w *w);
void s7p_put_pv_bool(s7p_w *w, bool v);
void s7p_put_pv_u(s7p_w *w, uint8_t type, uint64_t v);
void s7p_put_pv_i(s7p_w *w, uint8_t type, int64_t v);
void s7p_put_pv_real(s7p_w *w, float v);
void s7p_put_pv_lreal(s7p_w *w, double v);
/* Blob: with o->blob_root_id, root id 0 goes first. */
void s7p_put_pv_blob(s7p_w *w, const s7p_opts *o, const void *data, size_t len);
void s7p_put_pv_wstring(s7p_w *w, const void *bytes, size_t len);
/* An object name (attr 233): utf8 as UTF-16BE (py7) or UTF-8 (names_utf8).
 * Invalid UTF-8 sets w->err. */
void s7p_put_pv_name(s7p_w *w, const s7p_opts *o, const char *utf8, size_t len);
/* Array header (flag S7P_PV_ARRAY or S7P_PV_ADDRESS_ARRAY), then `count`
 * calls of s7p_put_elem with the same type. */
void s7p_put_pv_array_hdr(s7p_w *w, uint8_t flag, uint8_t type, uint32_t count);
void s7p_put_elem(s7p_w *w, uint8_t type, uint64_t bits);
/* A Bool array padded with false to a multiple of 8 elements (S7CPD). */
void s7p_put_pv_bool_array(s7p_w *w, const bool *v, size_t n);
/* Struct: begin (00 17 id32), then per member s7p_put_vlq_u32(key) + a
 * PValue, then end (00). */
void s7p_put_pv_struct_begin(s7p_w *w, uint32_t struct_id);
void s7p_put_pv_struct_end(s7p_w *w);
/* Packed struct (id 0x90000000-0x9FFFFFFF or 0x02000000-0x02FFFFFF). */
void s7p_put_pv_packed_struct(s7p_w *w, uint32_t struct_id, uint64_t ts, const void *data,
                              size_t len);
bool s7p_struct_id_packed(uint32_t struct_id);
/* Re-encodes a decoded PValue in the forms of o (scalars, Blob, WString,
 * arrays, structs from their decoded bytes). */
void s7p_put_pvalue(s7p_w *w, const s7p_opts *o, const s7p_pvalue *pv);

/* A WString's bytes as UTF-8 into out (NUL-terminated): UTF-16BE if the
 * bytes contain a NUL, else taken as UTF-8 (S5.7). GW_E_PROTOCOL for an
 * invalid encoding, GW_E_RANGE if out is too small. */
gw_err s7p_name_utf8(const uint8_t *bytes, size_t len, char *out, size_t cap);

/* ------------------------------------------------------------ object tree (S2) */

/* One object: A1 RelationId u32, ClassId VLQ, ClassFlags VLQ, AttributeId
 * VLQ, body, A2. body spans the elements between the A1 fields and the
 * matching A2, validated. */
typedef struct {
    uint32_t rid, class_id, class_flags, attr_id;
    const uint8_t *body;
    size_t body_len;
} s7p_obj;

/* Decodes an object starting at its A1. GW_E_UNSUPPORTED for A4/A7/A8/AB/AC
 * elements inside (their lengths are not known to us). */
gw_err s7p_get_obj(s7p_r *r, const s7p_opts *o, s7p_obj *obj);

/* Walks the direct content of an object: attributes (is_obj false: id, pv)
 * and child objects (is_obj true: child). *pos starts at 0. */
typedef struct {
    bool is_obj;
    uint32_t id;
    s7p_pvalue pv;
    s7p_obj child;
} s7p_obj_item;
gw_err s7p_obj_next(const s7p_obj *obj, const s7p_opts *o, size_t *pos, s7p_obj_item *it);
/* The last direct attribute `id` of obj (the py7 CreateObject response has
 * 306 twice; the client keeps the last). GW_E_NOT_FOUND if absent. */
gw_err s7p_obj_attr(const s7p_obj *obj, const s7p_opts *o, uint32_t id, s7p_pvalue *pv);

/* Builder: begin (A1 ...), then attributes (s7p_put_attr(id) + a PValue)
 * and nested objects, then end (A2). */
void s7p_put_obj_begin(s7p_w *w, uint32_t rid, uint32_t class_id, uint32_t class_flags,
                       uint32_t attr_id);
void s7p_put_attr(s7p_w *w, uint32_t id);
void s7p_put_obj_end(s7p_w *w);

/* ------------------------------------------------------------ ItemAddress (S3) */

/* SymbolCrc, AccessArea, NumberOfLIDs (= n_lids + 1 on the wire),
 * AccessSubArea, LIDs, all VLQ; one address is 4 + n_lids fields. */
typedef struct {
    uint32_t symbol_crc, area, sub_area;
    uint32_t n_lids;
    uint32_t lids[S7P_MAX_LIDS];
} s7p_addr;

gw_err s7p_get_addr(s7p_r *r, s7p_addr *a);   /* GW_E_RANGE: > S7P_MAX_LIDS */
void s7p_put_addr(s7p_w *w, const s7p_addr *a);
static inline uint32_t s7p_addr_fields(const s7p_addr *a) { return 4 + a->n_lids; }

/* The absolute address of DB `db` bytes start..start+len: area 0x8A0E0000+db,
 * sub-area 2550, CRC 0, LIDs [start+1, len] (py7) or [3, start, len]
 * (o->lid_classic). GW_E_RANGE for db > 0xFFFF or start+1 overflowing. */
gw_err s7p_addr_db(const s7p_opts *o, uint16_t db, uint32_t start, uint32_t len,
                   s7p_addr *a);
/* The inverse, for both LID forms whatever o says: 3 LIDs [3, off, size];
 * 2 LIDs [off+1, size]; 1 LID [off+1] = size 1 (py7 emulator). The
 * emulator ignores CRC and sub-area, and so does this. GW_E_NOT_FOUND if
 * the area is not a DB area, GW_E_PROTOCOL for LIDs of neither form. */
gw_err s7p_addr_db_parse(const s7p_addr *a, uint16_t *db, uint32_t *start, uint32_t *len);

/* ------------------------------------------------------------ ObjectQualifier (S3) */

/* `00 00 04 e8` `89 69 00 12 00000000` `89 6a 00 13 00` `89 6b 00 04 00`
 * then `00 00` (reference) or `00 00 00 00` (py7, o->oq_reference false). */
void s7p_put_oq(s7p_w *w, const s7p_opts *o);

/* What follows the values of a request: ObjectQualifier, the IntegrityId
 * slot, u32 0. py7 sends VLQ 01 in the slot of GetMulti/SetMulti data
 * requests ("SequenceNumber", FW 4.5 needs it) and nothing in the session
 * setup; in V2/V3 it is the IntegrityId. */
typedef struct {
    bool has_oq;          /* decode: an OQ was present */
    bool oq_py7;          /* decode: the OQ had py7's u32 0 end */
    bool has_integrity;
    uint32_t integrity_id;
} s7p_tail;

/* Writes OQ, [IntegrityId], u32 0 (t may be NULL: no IntegrityId). */
void s7p_put_tail(s7p_w *w, const s7p_opts *o, const s7p_tail *t);
/* Reads what follows the values of a request: OQ in either form (told
 * apart from the bytes), then the IntegrityId slot if more than
 * trailer_len bytes remain (trailer_len 4 = u32 0). Consumes the rest of
 * r. Lenient: no OQ at all, or an unrecognised trailer, is accepted
 * (py7's emulator parses nothing there); a malformed OQ is GW_E_PROTOCOL. */
gw_err s7p_get_tail(s7p_r *r, size_t trailer_len, s7p_tail *t);

/* ------------------------------------------------------------ frames (S1) */

/* Writes `72 vv LL LL` at buf and the trailer `72 vv 00 00` at
 * buf + 4 + data_len around data the caller already placed at buf + 4;
 * returns the frame length, 0 if data_len > 65535 or cap is too small. */
size_t s7p_frame_wrap(uint8_t *buf, size_t cap, uint8_t vv, size_t data_len);

/* One COTP DT payload classified. */
typedef enum {
    S7P_FRAME_DATA,       /* a data frame or fragment */
    S7P_FRAME_KEEPALIVE,  /* 72 FF ... */
    S7P_FRAME_SYSEVENT    /* 72 FE ... */
} s7p_frame_kind;

typedef struct {
    s7p_frame_kind kind;
    uint8_t vv;
    bool last;                 /* DATA: payload = 4 + LL + 4 with the trailer */
    const uint8_t *data;       /* DATA: the LL bytes; others: bytes after 72 VV */
    size_t data_len;
} s7p_frame;

/* Decodes one COTP DT payload. GW_E_PROTOCOL unless it is 72 VV LL LL + LL
 * bytes (+ a trailer `72 VV 00 00` when last); VV must be 1..3, FE or FF. */
gw_err s7p_frame_decode(const uint8_t *p, size_t len, s7p_frame *f);

/* Reassembler: feed COTP DT payloads, get whole PDUs (the frame data of
 * all fragments: request/response header + payload). Uses the caller's
 * buffer (its size bounds a PDU), allocates nothing. */
typedef struct {
    uint8_t *buf;
    size_t cap, len;
    uint8_t vv;
    bool busy;                 /* fragments held, waiting for the last */
} s7p_reasm;

void s7p_reasm_init(s7p_reasm *ra, uint8_t *buf, size_t cap);
void s7p_reasm_reset(s7p_reasm *ra);
/* Feeds one COTP DT payload. On GW_OK: *done true and out = the whole PDU
 * (data in ra->buf for DATA, valid until the next feed; for keep-alive and
 * system events the payload bytes themselves, which do not disturb a
 * reassembly in progress); *done false when more fragments are needed.
 * Errors reset the reassembler: GW_E_PROTOCOL (bad frame, version change
 * between fragments), GW_E_RANGE (PDU larger than cap). */
gw_err s7p_reasm_feed(s7p_reasm *ra, const uint8_t *p, size_t len, s7p_frame *out, bool *done);

/* Fragmenter: cuts a PDU into COTP DT payloads of at most max_payload
 * bytes each (>= 9): a last frame if 4 + rest + 4 fits, else 4 + (max - 8)
 * bytes without trailer. */
typedef struct {
    const uint8_t *pdu;
    size_t len, off;
    size_t max_payload;
    uint8_t vv;
    bool done;
} s7p_frag;

void s7p_frag_init(s7p_frag *f, uint8_t vv, const uint8_t *pdu, size_t len, size_t max_payload);
/* Writes the next COTP payload into buf; GW_OK with *n > 0, GW_E_NOT_FOUND
 * when all were written, GW_E_RANGE if cap < the fragment, GW_E_INVAL if
 * max_payload < 9. */
gw_err s7p_frag_next(s7p_frag *f, uint8_t *buf, size_t cap, size_t *n);

/* ------------------------------------------------------------ headers (S2) */

typedef struct {
    uint8_t opcode;            /* S7P_OP_REQUEST / S7P_OP_RESPONSE */
    uint16_t function;
    uint16_t seq;
    uint32_t session_id;       /* requests only */
    uint8_t flags;             /* transport flags */
} s7p_hdr;

/* Decodes a request (14 bytes) or response (10 bytes) header from a PDU;
 * payload/payload_len = the rest. GW_E_UNSUPPORTED for other opcodes. */
gw_err s7p_hdr_decode(const uint8_t *pdu, size_t len, s7p_hdr *h, const uint8_t **payload,
                      size_t *payload_len);
/* Writes the header for h->opcode (request or response). */
void s7p_put_hdr(s7p_w *w, const s7p_hdr *h);

/* ------------------------------------------------------------ messages (S2, S5) */

/* Every *_decode takes the payload after the header; every encoder writes
 * the payload only (after s7p_put_hdr). Response ReturnValues are u64 VLQ;
 * when bit S7P_RET_ERROR_OBJECT is set the rest is an error object we do
 * not model: decoders then stop with GW_OK and ret_error_object = true. */

/* InitSSL: request u32 0; response ReturnValue + u32 0. */
void s7p_initssl_req_encode(s7p_w *w);
gw_err s7p_initssl_req_decode(const uint8_t *p, size_t len);
void s7p_initssl_rsp_encode(s7p_w *w, uint64_t ret);
gw_err s7p_initssl_rsp_decode(const uint8_t *p, size_t len, uint64_t *ret);

/* CreateObject request: RequestId u32 (285), RequestValue PValue (UDInt 0),
 * u32 0, [IntegrityId], the object, u32 0. */
typedef struct {
    uint32_t request_id;
    s7p_pvalue request_value;
    bool has_integrity;
    uint32_t integrity_id;
    s7p_obj obj;
} s7p_createobj_req;
gw_err s7p_createobj_req_decode(const uint8_t *p, size_t len, const s7p_opts *o,
                                s7p_createobj_req *out);
/* Writes the fields before the object (285, UDInt 0, u32 0); the caller
 * then builds the object and calls s7p_createobj_req_end (u32 0). */
void s7p_createobj_req_begin(s7p_w *w);
void s7p_createobj_req_end(s7p_w *w);
/* The whole request as a client sends it: object RID 211 class 287 with
 * attr 300 = RID 0x80C3C901 and a nested RID 211 class 255 with 233 =
 * "SubscriptionContainer" (name in the form of o). */
void s7p_createobj_req_encode_session(s7p_w *w, const s7p_opts *o);

/* CreateObject response: ReturnValue, ObjectIdCount u8, ObjectIds VLQ,
 * [object], u32 0. session_id = object_ids[0]; version = the last attr 306
 * of the object (has_version false if none): echo version.raw. */
typedef struct {
    uint64_t ret;
    bool ret_error_object;
    uint8_t n_object_ids;                     /* as sent; up to 255 */
    uint32_t object_ids[S7P_MAX_OBJECT_IDS];  /* the first ones */
    uint32_t session_id;
    bool has_obj;
    s7p_obj obj;
    bool has_version;
    s7p_pvalue version;
} s7p_createobj_rsp;
gw_err s7p_createobj_rsp_decode(const uint8_t *p, size_t len, const s7p_opts *o,
                                s7p_createobj_rsp *out);
/* ReturnValue, ids; then the caller builds the object; then _end (u32 0). */
void s7p_createobj_rsp_begin(s7p_w *w, uint64_t ret, const uint32_t *ids, uint8_t n_ids);
void s7p_createobj_rsp_end(s7p_w *w);
/* The py7 emulator's response (S4): id = session, object RID session, class
 * 0, attr 305 UDInt session, 306 USInt version, 306 UDInt version. */
void s7p_createobj_rsp_encode_py7(s7p_w *w, uint32_t session_id, uint8_t version);

/* GetMultiVariables request: LinkId u32, ItemCount, FieldCount, addresses,
 * OQ, [IntegrityId], u32 0. Decode validates all addresses; walk them with
 * s7p_addr_next. */
typedef struct {
    uint32_t link_id;
    uint32_t item_count, field_count;
    const uint8_t *addrs;     /* the encoded addresses */
    size_t addrs_len;
    s7p_tail tail;
} s7p_getmulti_req;
gw_err s7p_getmulti_req_decode(const uint8_t *p, size_t len, s7p_getmulti_req *out);
/* Next address from an encoded span; *pos starts at 0. GW_E_NOT_FOUND at end. */
gw_err s7p_addr_next(const uint8_t *addrs, size_t addrs_len, size_t *pos, s7p_addr *a);
void s7p_getmulti_req_encode(s7p_w *w, const s7p_opts *o, const s7p_addr *addrs, uint32_t n,
                             const s7p_tail *tail);

/* GetMultiVariables response: ReturnValue, (ItemNumber, PValue)* 0,
 * (ItemNumber, u64 VLQ error)* 0, IntegrityId VLQ (optional on decode). */
typedef struct {
    uint64_t ret;
    bool ret_error_object;
    const uint8_t *values;    /* the (ItemNumber, PValue) pairs */
    size_t values_len;
    const uint8_t *errors;    /* the (ItemNumber, error) pairs */
    size_t errors_len;
    bool has_integrity;
    uint32_t integrity_id;
} s7p_getmulti_rsp;
gw_err s7p_getmulti_rsp_decode(const uint8_t *p, size_t len, const s7p_opts *o,
                               s7p_getmulti_rsp *out);
/* Walk the lists; *pos starts at 0; GW_E_NOT_FOUND at the end. */
gw_err s7p_value_next(const uint8_t *values, size_t len, const s7p_opts *o, size_t *pos,
                      uint32_t *item, s7p_pvalue *pv);
gw_err s7p_error_next(const uint8_t *errors, size_t len, size_t *pos, uint32_t *item,
                      uint64_t *code);
/* Encoding: _begin(ret), then per value s7p_put_vlq_u32(item) + a PValue,
 * then s7p_put_u8(0); per error s7p_put_item_error; then _end(integrity)
 * writes the list end 00 and the IntegrityId VLQ. */
void s7p_getmulti_rsp_begin(s7p_w *w, uint64_t ret);
void s7p_put_item_error(s7p_w *w, uint32_t item, uint64_t code);
void s7p_getmulti_rsp_end(s7p_w *w, uint32_t integrity_id);

/* SetMultiVariables request: InObjectId u32, ItemCount, then AddressCount
 * + attribute ids (in_object_id > 0) or FieldCount + ItemAddresses (0);
 * (ItemNumber, PValue) * ItemCount, 00, OQ, [IntegrityId], u32 0. */
typedef struct {
    uint32_t in_object_id;
    uint32_t item_count;
    uint32_t addr_count;       /* AddressCount or FieldCount as sent */
    const uint8_t *addrs;      /* attribute id VLQs or ItemAddresses */
    size_t addrs_len;
    const uint8_t *values;     /* (ItemNumber, PValue) pairs */
    size_t values_len;
    s7p_tail tail;
} s7p_setmulti_req;
gw_err s7p_setmulti_req_decode(const uint8_t *p, size_t len, const s7p_opts *o,
                               s7p_setmulti_req *out);
/* One item of a decoded request, in order: attr_id (in_object_id > 0) or
 * addr, with its ItemNumber and value. */
typedef struct {
    uint32_t attr_id;
    s7p_addr addr;
    uint32_t item_number;
    s7p_pvalue pv;
} s7p_setmulti_item;
typedef struct {
    size_t addr_pos, value_pos;
    uint32_t done;
} s7p_setmulti_iter;
gw_err s7p_setmulti_next(const s7p_setmulti_req *req, const s7p_opts *o, s7p_setmulti_iter *it,
                         s7p_setmulti_item *item);
/* Encoding: _begin_attrs / _begin_addrs, then per item s7p_put_vlq_u32(n)
 * (1-based) + a PValue, then _end (00, OQ, tail, u32 0). */
void s7p_setmulti_req_begin_attrs(s7p_w *w, uint32_t in_object_id, const uint32_t *attr_ids,
                                  uint32_t n);
void s7p_setmulti_req_begin_addrs(s7p_w *w, const s7p_addr *addrs, uint32_t n);
void s7p_setmulti_req_end(s7p_w *w, const s7p_opts *o, const s7p_tail *tail);

/* SetMultiVariables response: ReturnValue, error list ended by 0, IntegrityId. */
typedef struct {
    uint64_t ret;
    bool ret_error_object;
    const uint8_t *errors;
    size_t errors_len;
    bool has_integrity;
    uint32_t integrity_id;
} s7p_setmulti_rsp;
gw_err s7p_setmulti_rsp_decode(const uint8_t *p, size_t len, s7p_setmulti_rsp *out);
/* _begin(ret), errors with s7p_put_item_error, then s7p_getmulti_rsp_end. */
void s7p_setmulti_rsp_begin(s7p_w *w, uint64_t ret);

/* Explore request: ExploreId u32, ExploreRequestId VLQ, recursive u8, u8 1,
 * parents u8, filter count u8 (0), AddressCount + attr ids, [IntegrityId],
 * u32 0, u8 0. An empty payload decodes as empty = true. */
typedef struct {
    bool empty;
    uint32_t explore_id, explore_request_id;
    uint8_t recursive, parents;
    uint32_t n_attrs;
    const uint8_t *attrs;      /* the attribute id VLQs */
    size_t attrs_len;
    bool has_integrity;
    uint32_t integrity_id;
} s7p_explore_req;
gw_err s7p_explore_req_decode(const uint8_t *p, size_t len, s7p_explore_req *out);
void s7p_explore_req_encode(s7p_w *w, uint32_t explore_id, uint32_t request_id,
                            uint8_t recursive, uint8_t parents, const uint32_t *attrs,
                            uint32_t n_attrs, const s7p_tail *tail);

/* Explore response: ReturnValue, [ExploreId u32 if o->explore_id], objects,
 * u32 0. Walk objects with s7p_explore_next. */
typedef struct {
    uint64_t ret;
    bool ret_error_object;
    uint32_t explore_id;
    const uint8_t *objs;
    size_t objs_len;
} s7p_explore_rsp;
gw_err s7p_explore_rsp_decode(const uint8_t *p, size_t len, const s7p_opts *o,
                              s7p_explore_rsp *out);
gw_err s7p_explore_next(const s7p_explore_rsp *rsp, const s7p_opts *o, size_t *pos,
                        s7p_obj *obj);
void s7p_explore_rsp_begin(s7p_w *w, const s7p_opts *o, uint64_t ret, uint32_t explore_id);
void s7p_explore_rsp_end(s7p_w *w);
/* A DB as py7 lists it: A1 RID 0x8A0E0000|db class 2574, 233 name "DB<n>",
 * 2521 UDInt db, 2 UDInt size, a child (RID 0, class 0, 233 = name) per
 * variable name, A2. */
void s7p_explore_put_db(s7p_w *w, const s7p_opts *o, uint16_t db, uint32_t size,
                        const char *const *var_names, size_t n_vars);
/* A DB object as the client sees it: is_db false for other objects. name
 * is UTF-8 (from UTF-16BE or UTF-8), truncated is an error. */
typedef struct {
    bool is_db;
    uint16_t number;
    uint32_t rid, size;
    char name[128];
} s7p_explore_db;
gw_err s7p_explore_db_info(const s7p_obj *obj, const s7p_opts *o, s7p_explore_db *db);

/* DeleteObject request: py7 u32 0, or (o->delete_long) object id u32, 00,
 * OQ, tail, u32 0. Decode accepts both (long = false for the short one). */
typedef struct {
    bool long_form;
    uint32_t object_id;
    s7p_tail tail;
} s7p_deleteobj_req;
void s7p_deleteobj_req_encode(s7p_w *w, const s7p_opts *o, uint32_t object_id,
                              const s7p_tail *tail);
gw_err s7p_deleteobj_req_decode(const uint8_t *p, size_t len, s7p_deleteobj_req *out);
/* Response: ReturnValue (trailing bytes ignored). */
void s7p_deleteobj_rsp_encode(s7p_w *w, uint64_t ret);
gw_err s7p_deleteobj_rsp_decode(const uint8_t *p, size_t len, uint64_t *ret);

/* The Error answer's payload (function 0x04B1) as the py7 emulator sends
 * it: 89 31 00 00 00 00. Decode reads the leading VLQ (1201 there) and
 * ignores the rest. */
void s7p_error_rsp_encode(s7p_w *w);
gw_err s7p_error_rsp_decode(const uint8_t *p, size_t len, uint32_t *code);

#endif
