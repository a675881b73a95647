/*
 * s7p_codec.c - S7CommPlus primitives: reader/writer, VLQ, PValue, object
 * tree, ItemAddress, ObjectQualifier, frames, reassembly, headers.
 * Messages are in s7p_msg.c.
 *
 * Design: decoding is zero-copy. A decoder checks a whole value (a Struct
 * with all its members, an object with all its children) before handing
 * out a view, so the walkers (s7p_struct_next, s7p_obj_next, ...) re-read
 * bytes already known to be well formed and cannot fail half way except
 * for a caller passing a different s7p_opts than the decoder got.
 * Recursion is bounded by S7P_MAX_DEPTH. Written from the facts in
 * docs/s7commplus.md only (clean room).
 */
#include "drivers/s7plus/s7p_codec.h"

#include <string.h>

static const s7p_opts py7_opts;   /* all false = py7 forms */

static const s7p_opts *opts_or_default(const s7p_opts *o)
{
    return o ? o : &py7_opts;
}

/* ------------------------------------------------------------ reader */

gw_err s7p_get_u8(s7p_r *r, uint8_t *v)
{
    if (s7p_r_left(r) < 1)
        return GW_E_PROTOCOL;
    *v = r->p[r->pos++];
    return GW_OK;
}

gw_err s7p_get_u16(s7p_r *r, uint16_t *v)
{
    if (s7p_r_left(r) < 2)
        return GW_E_PROTOCOL;
    *v = (uint16_t)(r->p[r->pos] << 8 | r->p[r->pos + 1]);
    r->pos += 2;
    return GW_OK;
}

gw_err s7p_get_u32(s7p_r *r, uint32_t *v)
{
    if (s7p_r_left(r) < 4)
        return GW_E_PROTOCOL;
    const uint8_t *p = r->p + r->pos;
    *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    r->pos += 4;
    return GW_OK;
}

gw_err s7p_get_u64(s7p_r *r, uint64_t *v)
{
    if (s7p_r_left(r) < 8)
        return GW_E_PROTOCOL;
    uint64_t x = 0;
    for (int k = 0; k < 8; k++)
        x = x << 8 | r->p[r->pos + (size_t)k];
    r->pos += 8;
    *v = x;
    return GW_OK;
}

gw_err s7p_get_bytes(s7p_r *r, size_t n, const uint8_t **p)
{
    if (s7p_r_left(r) < n)
        return GW_E_PROTOCOL;
    *p = r->p + r->pos;
    r->pos += n;
    return GW_OK;
}

/* ------------------------------------------------------------ writer */

gw_err s7p_w_finish(const s7p_w *w, size_t *len)
{
    if (w->err)
        return GW_E_RANGE;
    *len = w->len;
    return GW_OK;
}

void s7p_put_bytes(s7p_w *w, const void *p, size_t n)
{
    if (w->err || w->cap - w->len < n) {
        w->err = true;
        return;
    }
    if (n)
        memcpy(w->p + w->len, p, n);
    w->len += n;
}

void s7p_put_u8(s7p_w *w, uint8_t v)
{
    s7p_put_bytes(w, &v, 1);
}

void s7p_put_u16(s7p_w *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    s7p_put_bytes(w, b, 2);
}

void s7p_put_u32(s7p_w *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    s7p_put_bytes(w, b, 4);
}

void s7p_put_u64(s7p_w *w, uint64_t v)
{
    s7p_put_u32(w, (uint32_t)(v >> 32));
    s7p_put_u32(w, (uint32_t)v);
}

/* ------------------------------------------------------------ VLQ (S3) */

/* Groups of 7 bits, most significant first, bit 7 = more follows. */
static size_t vlq_groups(uint8_t *out, uint64_t v, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        uint8_t g = (uint8_t)((v >> (7 * (n - 1 - k))) & 0x7F);
        out[k] = (uint8_t)(k + 1 < n ? g | 0x80 : g);
    }
    return n;
}

size_t s7p_vlq_enc_u32(uint8_t out[5], uint32_t v)
{
    size_t n = 1;
    while (n < 5 && (v >> (7 * n)) != 0)
        n++;
    return vlq_groups(out, v, n);
}

/* Groups for a signed value: one more while |v| >= 0x40 (S3: so -64 is
 * `ff 40`, not minimal). */
static size_t signed_groups(int64_t v)
{
    uint64_t mag = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    size_t n = 1;
    while (mag >= 0x40) {
        mag >>= 7;
        n++;
    }
    return n;
}

size_t s7p_vlq_enc_i32(uint8_t out[5], int32_t v)
{
    /* the groups of an arithmetic right shift = two's complement over 7n bits */
    return vlq_groups(out, (uint64_t)(int64_t)v, signed_groups(v));
}

/* 9-byte form: the top 56 bits in 8 groups with bit 7 set, then 8 bits. */
static size_t vlq9(uint8_t out[9], uint64_t v)
{
    uint64_t hi = v >> 8;
    for (size_t k = 0; k < 8; k++)
        out[k] = (uint8_t)(((hi >> (7 * (7 - k))) & 0x7F) | 0x80);
    out[8] = (uint8_t)v;
    return 9;
}

size_t s7p_vlq_enc_u64(uint8_t out[9], uint64_t v)
{
    if (v >> 56)
        return vlq9(out, v);
    size_t n = 1;
    while (n < 8 && (v >> (7 * n)) != 0)
        n++;
    return vlq_groups(out, v, n);
}

size_t s7p_vlq_enc_i64(uint8_t out[9], int64_t v)
{
    size_t n = signed_groups(v);
    if (n > 8) {
        /* sign in bit 6 of the first group: shift arithmetically */
        uint64_t hi = (uint64_t)(v < 0 ? ~(~v >> 8) : v >> 8);
        for (size_t k = 0; k < 8; k++)
            out[k] = (uint8_t)(((hi >> (7 * (7 - k))) & 0x7F) | 0x80);
        out[8] = (uint8_t)v;
        return 9;
    }
    return vlq_groups(out, (uint64_t)v, n);
}

/* Reads up to max7 groups of 7 bits (and, if allow9, a 9th byte of 8 bits
 * after 8 continued groups), accumulating into *acc (pre-set for sign). */
static gw_err vlq_read(s7p_r *r, size_t max7, bool allow9, uint64_t *acc, bool is_signed)
{
    uint64_t v = 0;
    for (size_t k = 0;; k++) {
        uint8_t b;
        if (s7p_get_u8(r, &b) != GW_OK)
            return GW_E_PROTOCOL;
        if (k == 8 && allow9) {
            *acc = v << 8 | b;
            return GW_OK;
        }
        if (k == 0 && is_signed && (b & 0x40))
            v = ~(uint64_t)0;
        v = v << 7 | (b & 0x7F);
        if (!(b & 0x80)) {
            *acc = v;
            return GW_OK;
        }
        if (k + 1 == max7 && !allow9)
            return GW_E_PROTOCOL;   /* still continued after the last group */
    }
}

gw_err s7p_get_vlq_u32(s7p_r *r, uint32_t *v)
{
    uint64_t x;
    gw_err e = vlq_read(r, 5, false, &x, false);
    if (e == GW_OK)
        *v = (uint32_t)x;  /* wrap, S3 */
    return e;
}

gw_err s7p_get_vlq_i32(s7p_r *r, int32_t *v)
{
    uint64_t x;
    gw_err e = vlq_read(r, 5, false, &x, true);
    if (e == GW_OK)
        *v = (int32_t)(uint32_t)x;
    return e;
}

gw_err s7p_get_vlq_u64(s7p_r *r, uint64_t *v)
{
    return vlq_read(r, 8, true, v, false);
}

gw_err s7p_get_vlq_i64(s7p_r *r, int64_t *v)
{
    uint64_t x;
    gw_err e = vlq_read(r, 8, true, &x, true);
    if (e == GW_OK)
        *v = (int64_t)x;
    return e;
}

void s7p_put_vlq_u32(s7p_w *w, uint32_t v)
{
    uint8_t b[5];
    s7p_put_bytes(w, b, s7p_vlq_enc_u32(b, v));
}

void s7p_put_vlq_i32(s7p_w *w, int32_t v)
{
    uint8_t b[5];
    s7p_put_bytes(w, b, s7p_vlq_enc_i32(b, v));
}

void s7p_put_vlq_u64(s7p_w *w, uint64_t v)
{
    uint8_t b[9];
    s7p_put_bytes(w, b, s7p_vlq_enc_u64(b, v));
}

void s7p_put_vlq_i64(s7p_w *w, int64_t v)
{
    uint8_t b[9];
    s7p_put_bytes(w, b, s7p_vlq_enc_i64(b, v));
}

/* ------------------------------------------------------------ PValue (S3) */

/* How a value of `type` is on the wire: fixed width 1..8, or a VLQ kind. */
enum { ENC_NONE = 0, ENC_VU32 = -1, ENC_VI32 = -2, ENC_VU64 = -3, ENC_VI64 = -4 };

static int type_enc(uint8_t type)
{
    switch (type) {
    case S7P_T_BOOL: case S7P_T_USINT: case S7P_T_SINT: case S7P_T_BYTE:
        return 1;
    case S7P_T_UINT: case S7P_T_INT: case S7P_T_WORD:
        return 2;
    case S7P_T_DWORD: case S7P_T_REAL: case S7P_T_RID:
        return 4;
    case S7P_T_LWORD: case S7P_T_LREAL: case S7P_T_TIMESTAMP:
        return 8;
    case S7P_T_UDINT: case S7P_T_AID: case S7P_T_VARIANT:
        return ENC_VU32;
    case S7P_T_DINT:
        return ENC_VI32;
    case S7P_T_ULINT:
        return ENC_VU64;
    case S7P_T_LINT: case S7P_T_TIMESPAN:
        return ENC_VI64;
    default:
        return ENC_NONE;
    }
}

/* Array elements: fixed-width types and the VLQ types S3 names (UDInt,
 * DInt, ULInt, LInt, AID); Timespan/Variant arrays are not described. */
static bool array_elem_ok(uint8_t type)
{
    return type_enc(type) != ENC_NONE && type != S7P_T_TIMESPAN && type != S7P_T_VARIANT;
}

static bool is_signed_type(uint8_t type)
{
    return type == S7P_T_SINT || type == S7P_T_INT || type == S7P_T_DINT ||
           type == S7P_T_LINT || type == S7P_T_TIMESPAN;
}

/* One element/scalar as a 64-bit pattern (signed types sign-extended). */
static gw_err get_elem(s7p_r *r, uint8_t type, uint64_t *bits)
{
    int enc = type_enc(type);
    if (enc > 0) {
        const uint8_t *p;
        if (s7p_get_bytes(r, (size_t)enc, &p) != GW_OK)
            return GW_E_PROTOCOL;
        uint64_t x = 0;
        for (int k = 0; k < enc; k++)
            x = x << 8 | p[k];
        if (is_signed_type(type) && enc < 8 && (x >> (enc * 8 - 1)) & 1)
            x |= ~(uint64_t)0 << (enc * 8);
        *bits = x;
        return GW_OK;
    }
    gw_err e;
    switch (enc) {
    case ENC_VU32: {
        uint32_t v = 0;
        e = s7p_get_vlq_u32(r, &v);
        *bits = v;
        return e;
    }
    case ENC_VI32: {
        int32_t v = 0;
        e = s7p_get_vlq_i32(r, &v);
        *bits = (uint64_t)(int64_t)v;
        return e;
    }
    case ENC_VU64:
        return s7p_get_vlq_u64(r, bits);
    case ENC_VI64: {
        int64_t v = 0;
        e = s7p_get_vlq_i64(r, &v);
        *bits = (uint64_t)v;
        return e;
    }
    default:
        return GW_E_UNSUPPORTED;
    }
}

static void set_scalar(s7p_pvalue *pv, uint64_t bits)
{
    pv->u = bits;
    pv->i = (int64_t)bits;
    if (pv->type == S7P_T_REAL) {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        pv->f = f;
    } else if (pv->type == S7P_T_LREAL) {
        memcpy(&pv->f, &bits, sizeof pv->f);
    }
}

static gw_err get_pv(s7p_r *r, const s7p_opts *o, s7p_pvalue *pv, int depth);

/* Packed struct marker ranges (S3). */
bool s7p_struct_id_packed(uint32_t id)
{
    return (id >= 0x90000000u && id <= 0x9FFFFFFFu) || (id >= 0x02000000u && id <= 0x02FFFFFFu);
}

static gw_err get_struct(s7p_r *r, const s7p_opts *o, s7p_pvalue *pv, int depth)
{
    if (depth >= S7P_MAX_DEPTH)
        return GW_E_RANGE;
    if (s7p_get_u32(r, &pv->struct_id) != GW_OK)
        return GW_E_PROTOCOL;
    if (s7p_struct_id_packed(pv->struct_id)) {
        uint32_t count;
        pv->packed = true;
        if (s7p_get_u64(r, &pv->packed_ts) != GW_OK ||
            s7p_get_vlq_u32(r, &pv->packed_flags) != GW_OK || s7p_get_vlq_u32(r, &count) != GW_OK)
            return GW_E_PROTOCOL;
        if ((pv->packed_flags & 0x400) && s7p_get_vlq_u32(r, &count) != GW_OK)
            return GW_E_PROTOCOL;
        pv->count = count;
        pv->data_len = count;
        return s7p_get_bytes(r, count, &pv->data);
    }
    pv->data = r->p + r->pos;
    for (;;) {
        size_t at = r->pos;
        uint32_t key;
        if (s7p_get_vlq_u32(r, &key) != GW_OK)
            return GW_E_PROTOCOL;
        if (key == 0) {
            pv->data_len = at - (size_t)(pv->data - r->p);
            return GW_OK;
        }
        s7p_pvalue m;
        gw_err e = get_pv(r, o, &m, depth + 1);
        if (e != GW_OK)
            return e;
        pv->count++;
    }
}

static gw_err get_pv_body(s7p_r *r, const s7p_opts *o, s7p_pvalue *pv, int depth)
{
    if (pv->flags & S7P_PV_SPARSE_ARRAY)
        return GW_E_UNSUPPORTED;
    if (pv->flags & (S7P_PV_ARRAY | S7P_PV_ADDRESS_ARRAY)) {
        if (!array_elem_ok(pv->type))
            return GW_E_UNSUPPORTED;
        if (s7p_get_vlq_u32(r, &pv->count) != GW_OK)
            return GW_E_PROTOCOL;
        int enc = type_enc(pv->type);
        size_t start = r->pos;
        if (enc > 0) {
            uint64_t need = (uint64_t)pv->count * (uint64_t)enc;
            if (need > s7p_r_left(r))
                return GW_E_PROTOCOL;
            r->pos += (size_t)need;
        } else {
            if (pv->count > s7p_r_left(r))  /* every VLQ is >= 1 byte */
                return GW_E_PROTOCOL;
            for (uint32_t k = 0; k < pv->count; k++) {
                uint64_t dummy;
                if (get_elem(r, pv->type, &dummy) != GW_OK)
                    return GW_E_PROTOCOL;
            }
        }
        pv->data = r->p + start;
        pv->data_len = r->pos - start;
        return GW_OK;
    }
    switch (pv->type) {
    case S7P_T_NULL:
        return GW_OK;
    case S7P_T_BLOB: {
        if (o->blob_root_id) {
            pv->has_root = true;
            if (s7p_get_vlq_u32(r, &pv->blob_root_id) != GW_OK)
                return GW_E_PROTOCOL;
            if (pv->blob_root_id > 1)
                return GW_E_UNSUPPORTED;  /* + 8 bytes and a blob type, not modelled */
        }
        uint32_t n;
        if (s7p_get_vlq_u32(r, &n) != GW_OK)
            return GW_E_PROTOCOL;
        pv->count = n;
        pv->data_len = n;
        return s7p_get_bytes(r, n, &pv->data);
    }
    case S7P_T_WSTRING: {
        uint32_t n;
        if (s7p_get_vlq_u32(r, &n) != GW_OK)
            return GW_E_PROTOCOL;
        pv->count = n;
        pv->data_len = n;
        return s7p_get_bytes(r, n, &pv->data);
    }
    case S7P_T_STRUCT:
        return get_struct(r, o, pv, depth);
    default: {
        if (type_enc(pv->type) == ENC_NONE)
            return GW_E_UNSUPPORTED;  /* S7String (tag descriptions only), unknown */
        uint64_t bits;
        if (get_elem(r, pv->type, &bits) != GW_OK)
            return GW_E_PROTOCOL;
        set_scalar(pv, bits);
        return GW_OK;
    }
    }
}

static gw_err get_pv(s7p_r *r, const s7p_opts *o, s7p_pvalue *pv, int depth)
{
    memset(pv, 0, sizeof *pv);
    size_t start = r->pos;
    if (s7p_get_u8(r, &pv->flags) != GW_OK || s7p_get_u8(r, &pv->type) != GW_OK)
        return GW_E_PROTOCOL;
    gw_err e = get_pv_body(r, o, pv, depth);
    if (e != GW_OK)
        return e;
    pv->raw = r->p + start;
    pv->raw_len = r->pos - start;
    return GW_OK;
}

gw_err s7p_get_pvalue(s7p_r *r, const s7p_opts *o, s7p_pvalue *pv)
{
    return get_pv(r, opts_or_default(o), pv, 0);
}

gw_err s7p_pv_elem_next(const s7p_pvalue *pv, size_t *pos, uint64_t *bits)
{
    if (!(pv->flags & (S7P_PV_ARRAY | S7P_PV_ADDRESS_ARRAY)) || *pos >= pv->data_len)
        return GW_E_NOT_FOUND;
    s7p_r r;
    s7p_r_init(&r, pv->data, pv->data_len);
    r.pos = *pos;
    gw_err e = get_elem(&r, pv->type, bits);
    if (e == GW_OK)
        *pos = r.pos;
    return e;
}

gw_err s7p_struct_next(const s7p_pvalue *st, const s7p_opts *o, size_t *pos, uint32_t *key,
                       s7p_pvalue *member)
{
    if (st->type != S7P_T_STRUCT || st->packed || *pos >= st->data_len)
        return GW_E_NOT_FOUND;
    s7p_r r;
    s7p_r_init(&r, st->data, st->data_len);
    r.pos = *pos;
    gw_err e = s7p_get_vlq_u32(&r, key);
    if (e == GW_OK)
        e = get_pv(&r, opts_or_default(o), member, 1);
    if (e == GW_OK)
        *pos = r.pos;
    return e;
}

/* ---- PValue encoders */

static void put_elem_enc(s7p_w *w, int enc, uint64_t bits)
{
    switch (enc) {
    case ENC_VU32: s7p_put_vlq_u32(w, (uint32_t)bits); break;
    case ENC_VI32: s7p_put_vlq_i32(w, (int32_t)(uint32_t)bits); break;
    case ENC_VU64: s7p_put_vlq_u64(w, bits); break;
    case ENC_VI64: s7p_put_vlq_i64(w, (int64_t)bits); break;
    case ENC_NONE: w->err = true; break;
    default:
        for (int k = enc - 1; k >= 0; k--)
            s7p_put_u8(w, (uint8_t)(bits >> (8 * k)));
    }
}

void s7p_put_elem(s7p_w *w, uint8_t type, uint64_t bits)
{
    put_elem_enc(w, type_enc(type), bits);
}

void s7p_put_pv_null(s7p_w *w)
{
    s7p_put_u8(w, 0);
    s7p_put_u8(w, S7P_T_NULL);
}

void s7p_put_pv_bool(s7p_w *w, bool v)
{
    s7p_put_u8(w, 0);
    s7p_put_u8(w, S7P_T_BOOL);
    s7p_put_u8(w, v ? 1 : 0);
}

void s7p_put_pv_u(s7p_w *w, uint8_t type, uint64_t v)
{
    if (type_enc(type) == ENC_NONE || is_signed_type(type)) {
        w->err = true;
        return;
    }
    s7p_put_u8(w, 0);
    s7p_put_u8(w, type);
    s7p_put_elem(w, type, v);
}

void s7p_put_pv_i(s7p_w *w, uint8_t type, int64_t v)
{
    if (!is_signed_type(type)) {
        w->err = true;
        return;
    }
    s7p_put_u8(w, 0);
    s7p_put_u8(w, type);
    s7p_put_elem(w, type, (uint64_t)v);
}

void s7p_put_pv_real(s7p_w *w, float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    s7p_put_pv_u(w, S7P_T_REAL, b);
}

void s7p_put_pv_lreal(s7p_w *w, double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    s7p_put_pv_u(w, S7P_T_LREAL, b);
}

static void put_blob(s7p_w *w, uint8_t flags, bool root, uint32_t root_id, const void *d,
                     size_t n)
{
    if (n > UINT32_MAX) {
        w->err = true;
        return;
    }
    s7p_put_u8(w, flags);
    s7p_put_u8(w, S7P_T_BLOB);
    if (root)
        s7p_put_vlq_u32(w, root_id);
    s7p_put_vlq_u32(w, (uint32_t)n);
    s7p_put_bytes(w, d, n);
}

void s7p_put_pv_blob(s7p_w *w, const s7p_opts *o, const void *data, size_t len)
{
    put_blob(w, 0, opts_or_default(o)->blob_root_id, 0, data, len);
}

void s7p_put_pv_wstring(s7p_w *w, const void *bytes, size_t len)
{
    if (len > UINT32_MAX) {
        w->err = true;
        return;
    }
    s7p_put_u8(w, 0);
    s7p_put_u8(w, S7P_T_WSTRING);
    s7p_put_vlq_u32(w, (uint32_t)len);
    s7p_put_bytes(w, bytes, len);
}

/* Next code point of valid UTF-8 (checked by gw_utf8_valid before). */
static uint32_t utf8_next(const uint8_t *s, size_t *i)
{
    uint8_t c = s[(*i)++];
    if (c < 0x80)
        return c;
    int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
    uint32_t cp = c & (0x3Fu >> extra);
    while (extra--)
        cp = cp << 6 | (s[(*i)++] & 0x3F);
    return cp;
}

void s7p_put_pv_name(s7p_w *w, const s7p_opts *o, const char *utf8, size_t len)
{
    if (opts_or_default(o)->names_utf8) {
        s7p_put_pv_wstring(w, utf8, len);
        return;
    }
    if (!gw_utf8_valid(utf8, len)) {
        w->err = true;
        return;
    }
    const uint8_t *s = (const uint8_t *)utf8;
    size_t units = 0;
    for (size_t i = 0; i < len;)
        units += utf8_next(s, &i) >= 0x10000 ? 2 : 1;
    if (units * 2 > UINT32_MAX) {
        w->err = true;
        return;
    }
    s7p_put_u8(w, 0);
    s7p_put_u8(w, S7P_T_WSTRING);
    s7p_put_vlq_u32(w, (uint32_t)(units * 2));
    for (size_t i = 0; i < len;) {
        uint32_t cp = utf8_next(s, &i);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            s7p_put_u16(w, (uint16_t)(0xD800 | (cp >> 10)));
            s7p_put_u16(w, (uint16_t)(0xDC00 | (cp & 0x3FF)));
        } else {
            s7p_put_u16(w, (uint16_t)cp);
        }
    }
}

void s7p_put_pv_array_hdr(s7p_w *w, uint8_t flag, uint8_t type, uint32_t count)
{
    if (!array_elem_ok(type) || (flag != S7P_PV_ARRAY && flag != S7P_PV_ADDRESS_ARRAY)) {
        w->err = true;
        return;
    }
    s7p_put_u8(w, flag);
    s7p_put_u8(w, type);
    s7p_put_vlq_u32(w, count);
}

void s7p_put_pv_bool_array(s7p_w *w, const bool *v, size_t n)
{
    size_t padded = (n + 7) / 8 * 8;
    if (padded > UINT32_MAX) {
        w->err = true;
        return;
    }
    s7p_put_pv_array_hdr(w, S7P_PV_ARRAY, S7P_T_BOOL, (uint32_t)padded);
    for (size_t k = 0; k < padded; k++)
        s7p_put_u8(w, k < n && v[k] ? 1 : 0);
}

void s7p_put_pv_struct_begin(s7p_w *w, uint32_t struct_id)
{
    s7p_put_u8(w, 0);
    s7p_put_u8(w, S7P_T_STRUCT);
    s7p_put_u32(w, struct_id);
}

void s7p_put_pv_struct_end(s7p_w *w)
{
    s7p_put_u8(w, 0);
}

static void put_packed(s7p_w *w, uint8_t flags, uint32_t id, uint64_t ts, uint32_t tflags,
                       const void *data, size_t len)
{
    if (len > UINT32_MAX || !s7p_struct_id_packed(id)) {
        w->err = true;
        return;
    }
    s7p_put_u8(w, flags);
    s7p_put_u8(w, S7P_T_STRUCT);
    s7p_put_u32(w, id);
    s7p_put_u64(w, ts);
    s7p_put_vlq_u32(w, tflags);
    s7p_put_vlq_u32(w, (uint32_t)len);
    if (tflags & 0x400)
        s7p_put_vlq_u32(w, (uint32_t)len);
    s7p_put_bytes(w, data, len);
}

void s7p_put_pv_packed_struct(s7p_w *w, uint32_t struct_id, uint64_t ts, const void *data,
                              size_t len)
{
    put_packed(w, 0, struct_id, ts, 0, data, len);
}

void s7p_put_pvalue(s7p_w *w, const s7p_opts *o, const s7p_pvalue *pv)
{
    o = opts_or_default(o);
    if (pv->flags & (S7P_PV_ARRAY | S7P_PV_ADDRESS_ARRAY)) {
        s7p_put_u8(w, pv->flags);
        s7p_put_u8(w, pv->type);
        s7p_put_vlq_u32(w, pv->count);
        s7p_put_bytes(w, pv->data, pv->data_len);
        return;
    }
    switch (pv->type) {
    case S7P_T_NULL:
        s7p_put_u8(w, pv->flags);
        s7p_put_u8(w, pv->type);
        return;
    case S7P_T_BLOB:
        put_blob(w, pv->flags, o->blob_root_id, pv->blob_root_id, pv->data, pv->data_len);
        return;
    case S7P_T_WSTRING:
        s7p_put_pv_wstring(w, pv->data, pv->data_len);
        return;
    case S7P_T_STRUCT:
        if (pv->packed) {
            put_packed(w, pv->flags, pv->struct_id, pv->packed_ts, pv->packed_flags, pv->data,
                       pv->data_len);
            return;
        }
        s7p_put_u8(w, pv->flags);
        s7p_put_u8(w, S7P_T_STRUCT);
        s7p_put_u32(w, pv->struct_id);
        s7p_put_bytes(w, pv->data, pv->data_len);
        s7p_put_u8(w, 0);
        return;
    default:
        s7p_put_u8(w, pv->flags);
        s7p_put_u8(w, pv->type);
        s7p_put_elem(w, pv->type, pv->u);
    }
}

/* ---- names */

static gw_err put_utf8(char *out, size_t cap, size_t *n, uint32_t cp)
{
    uint8_t b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xC0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xE0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (uint8_t)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        b[0] = (uint8_t)(0xF0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (uint8_t)(0x80 | (cp & 0x3F));
        k = 4;
    }
    if (cap - *n <= k)   /* keep room for the NUL */
        return GW_E_RANGE;
    memcpy(out + *n, b, k);
    *n += k;
    return GW_OK;
}

gw_err s7p_name_utf8(const uint8_t *bytes, size_t len, char *out, size_t cap)
{
    if (cap == 0)
        return GW_E_RANGE;
    out[0] = '\0';
    if (!memchr(bytes, 0, len)) {
        if (!gw_utf8_valid((const char *)bytes, len))
            return GW_E_PROTOCOL;
        if (len >= cap)
            return GW_E_RANGE;
        memcpy(out, bytes, len);
        out[len] = '\0';
        return GW_OK;
    }
    if (len % 2)
        return GW_E_PROTOCOL;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 2) {
        uint32_t cp = (uint32_t)bytes[i] << 8 | bytes[i + 1];
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return GW_E_PROTOCOL;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 3 >= len)
                return GW_E_PROTOCOL;
            uint32_t lo = (uint32_t)bytes[i + 2] << 8 | bytes[i + 3];
            if (lo < 0xDC00 || lo > 0xDFFF)
                return GW_E_PROTOCOL;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 2;
        }
        if (cp == 0)
            return GW_E_PROTOCOL;
        gw_err e = put_utf8(out, cap, &n, cp);
        if (e != GW_OK) {
            out[0] = '\0';
            return e;
        }
    }
    out[n] = '\0';
    return GW_OK;
}

/* ------------------------------------------------------------ object tree (S2) */

static gw_err get_obj(s7p_r *r, const s7p_opts *o, s7p_obj *obj, int depth);

/* One element of an object body at r: attribute, child object, or the
 * end (returns GW_E_NOT_FOUND after consuming A2). */
static gw_err get_obj_item(s7p_r *r, const s7p_opts *o, s7p_obj_item *it, int depth)
{
    uint8_t tag;
    if (s7p_get_u8(r, &tag) != GW_OK)
        return GW_E_PROTOCOL;
    switch (tag) {
    case S7P_EL_ATTRIBUTE:
        it->is_obj = false;
        if (s7p_get_vlq_u32(r, &it->id) != GW_OK)
            return GW_E_PROTOCOL;
        return get_pv(r, o, &it->pv, 0);
    case S7P_EL_START_OBJECT:
        it->is_obj = true;
        r->pos--;
        return get_obj(r, o, &it->child, depth + 1);
    case S7P_EL_TERMINATING_OBJECT:
        return GW_E_NOT_FOUND;
    case S7P_EL_RELATION: case S7P_EL_TAG_DESCRIPTION: case 0xA8:
    case S7P_EL_VARTYPE_LIST: case S7P_EL_VARNAME_LIST:
        return GW_E_UNSUPPORTED;  /* length not known to us: cannot skip */
    default:
        return GW_E_PROTOCOL;
    }
}

static gw_err get_obj(s7p_r *r, const s7p_opts *o, s7p_obj *obj, int depth)
{
    uint8_t tag;
    if (depth >= S7P_MAX_DEPTH)
        return GW_E_RANGE;
    if (s7p_get_u8(r, &tag) != GW_OK || tag != S7P_EL_START_OBJECT ||
        s7p_get_u32(r, &obj->rid) != GW_OK || s7p_get_vlq_u32(r, &obj->class_id) != GW_OK ||
        s7p_get_vlq_u32(r, &obj->class_flags) != GW_OK ||
        s7p_get_vlq_u32(r, &obj->attr_id) != GW_OK)
        return GW_E_PROTOCOL;
    size_t start = r->pos;
    for (;;) {
        size_t at = r->pos;
        s7p_obj_item it;
        gw_err e = get_obj_item(r, o, &it, depth);
        if (e == GW_E_NOT_FOUND) {
            obj->body = r->p + start;
            obj->body_len = at - start;
            return GW_OK;
        }
        if (e != GW_OK)
            return e;
    }
}

gw_err s7p_get_obj(s7p_r *r, const s7p_opts *o, s7p_obj *obj)
{
    return get_obj(r, opts_or_default(o), obj, 0);
}

gw_err s7p_obj_next(const s7p_obj *obj, const s7p_opts *o, size_t *pos, s7p_obj_item *it)
{
    if (*pos >= obj->body_len)
        return GW_E_NOT_FOUND;
    s7p_r r;
    s7p_r_init(&r, obj->body, obj->body_len);
    r.pos = *pos;
    gw_err e = get_obj_item(&r, opts_or_default(o), it, 0);
    if (e == GW_OK)
        *pos = r.pos;
    return e == GW_E_NOT_FOUND ? GW_E_PROTOCOL : e;
}

gw_err s7p_obj_attr(const s7p_obj *obj, const s7p_opts *o, uint32_t id, s7p_pvalue *pv)
{
    size_t pos = 0;
    s7p_obj_item it;
    bool found = false;
    gw_err e;
    while ((e = s7p_obj_next(obj, o, &pos, &it)) == GW_OK) {
        if (!it.is_obj && it.id == id) {
            *pv = it.pv;
            found = true;
        }
    }
    if (e != GW_E_NOT_FOUND)
        return e;
    return found ? GW_OK : GW_E_NOT_FOUND;
}

void s7p_put_obj_begin(s7p_w *w, uint32_t rid, uint32_t class_id, uint32_t class_flags,
                       uint32_t attr_id)
{
    s7p_put_u8(w, S7P_EL_START_OBJECT);
    s7p_put_u32(w, rid);
    s7p_put_vlq_u32(w, class_id);
    s7p_put_vlq_u32(w, class_flags);
    s7p_put_vlq_u32(w, attr_id);
}

void s7p_put_attr(s7p_w *w, uint32_t id)
{
    s7p_put_u8(w, S7P_EL_ATTRIBUTE);
    s7p_put_vlq_u32(w, id);
}

void s7p_put_obj_end(s7p_w *w)
{
    s7p_put_u8(w, S7P_EL_TERMINATING_OBJECT);
}

/* ------------------------------------------------------------ ItemAddress (S3) */

gw_err s7p_get_addr(s7p_r *r, s7p_addr *a)
{
    uint32_t nl;
    memset(a, 0, sizeof *a);
    if (s7p_get_vlq_u32(r, &a->symbol_crc) != GW_OK || s7p_get_vlq_u32(r, &a->area) != GW_OK ||
        s7p_get_vlq_u32(r, &nl) != GW_OK || s7p_get_vlq_u32(r, &a->sub_area) != GW_OK)
        return GW_E_PROTOCOL;
    if (nl == 0)
        return GW_E_PROTOCOL;   /* counts the sub-area too, so >= 1 */
    if (nl - 1 > S7P_MAX_LIDS)
        return GW_E_RANGE;
    a->n_lids = nl - 1;
    for (uint32_t k = 0; k < a->n_lids; k++)
        if (s7p_get_vlq_u32(r, &a->lids[k]) != GW_OK)
            return GW_E_PROTOCOL;
    return GW_OK;
}

void s7p_put_addr(s7p_w *w, const s7p_addr *a)
{
    if (a->n_lids > S7P_MAX_LIDS) {
        w->err = true;
        return;
    }
    s7p_put_vlq_u32(w, a->symbol_crc);
    s7p_put_vlq_u32(w, a->area);
    s7p_put_vlq_u32(w, a->n_lids + 1);
    s7p_put_vlq_u32(w, a->sub_area);
    for (uint32_t k = 0; k < a->n_lids; k++)
        s7p_put_vlq_u32(w, a->lids[k]);
}

gw_err s7p_addr_db(const s7p_opts *o, uint16_t db, uint32_t start, uint32_t len, s7p_addr *a)
{
    memset(a, 0, sizeof *a);
    a->area = S7P_DB_AREA_BASE + db;
    a->sub_area = S7P_ID_DB_VALUE_ACTUAL;
    if (opts_or_default(o)->lid_classic) {
        a->n_lids = 3;
        a->lids[0] = 3;   /* "classic blob" marker (PR #899) */
        a->lids[1] = start;
        a->lids[2] = len;
        return GW_OK;
    }
    if (start == UINT32_MAX)
        return GW_E_RANGE;
    a->n_lids = 2;
    a->lids[0] = start + 1;   /* py7: 1-based */
    a->lids[1] = len;
    return GW_OK;
}

gw_err s7p_addr_db_parse(const s7p_addr *a, uint16_t *db, uint32_t *start, uint32_t *len)
{
    if ((a->area & 0xFFFF0000u) != S7P_DB_AREA_BASE)
        return GW_E_NOT_FOUND;
    *db = (uint16_t)(a->area & 0xFFFF);
    if (a->n_lids == 3 && a->lids[0] == 3) {
        *start = a->lids[1];
        *len = a->lids[2];
        return GW_OK;
    }
    if ((a->n_lids == 1 || a->n_lids == 2) && a->lids[0] >= 1) {
        *start = a->lids[0] - 1;
        *len = a->n_lids == 2 ? a->lids[1] : 1;
        return GW_OK;
    }
    return GW_E_PROTOCOL;
}

/* ------------------------------------------------------------ ObjectQualifier (S3) */

void s7p_put_oq(s7p_w *w, const s7p_opts *o)
{
    s7p_put_u32(w, S7P_ID_OBJECT_QUALIFIER);
    s7p_put_vlq_u32(w, S7P_ID_PARENT_RID);
    s7p_put_pv_u(w, S7P_T_RID, 0);
    s7p_put_vlq_u32(w, S7P_ID_COMPOSITION_AID);
    s7p_put_pv_u(w, S7P_T_AID, 0);
    s7p_put_vlq_u32(w, S7P_ID_KEY_QUALIFIER);
    s7p_put_pv_u(w, S7P_T_UDINT, 0);
    s7p_put_u8(w, 0);               /* end of the (key, PValue) list */
    if (!opts_or_default(o)->oq_reference)
        s7p_put_u16(w, 0);          /* py7 ends with a u32 0: 2 bytes longer */
}

void s7p_put_tail(s7p_w *w, const s7p_opts *o, const s7p_tail *t)
{
    s7p_put_oq(w, o);
    if (t && t->has_integrity)
        s7p_put_vlq_u32(w, t->integrity_id);
    s7p_put_u32(w, 0);
}

/*
 * The py7 OQ is the reference OQ + `00 00`, and what follows is [VLQ] +
 * trailer_len bytes. Since a VLQ never starts with `00` unless it is the
 * one-byte 0, `00 00` right after the reference end with room for the
 * trailer can only be py7's ending. Bytes after that we do not recognise
 * are ignored (the emulator parses nothing there either).
 */
gw_err s7p_get_tail(s7p_r *r, size_t trailer_len, s7p_tail *t)
{
    memset(t, 0, sizeof *t);
    if (s7p_r_left(r) == 0)
        return GW_OK;       /* no qualifier at all: lenient */
    uint32_t id;
    if (s7p_get_u32(r, &id) != GW_OK)
        return GW_E_PROTOCOL;
    for (;;) {
        uint32_t key;
        s7p_pvalue pv;
        if (s7p_get_vlq_u32(r, &key) != GW_OK)
            return GW_E_PROTOCOL;
        if (key == 0)
            break;
        gw_err e = get_pv(r, &py7_opts, &pv, 0);  /* RID/AID/UDInt: no Blob */
        if (e != GW_OK)
            return e;
    }
    t->has_oq = true;
    const uint8_t *p = r->p + r->pos;
    size_t left = s7p_r_left(r);
    if (left >= trailer_len + 2 && p[0] == 0 && p[1] == 0) {
        t->oq_py7 = true;
        r->pos += 2;
        left -= 2;
    }
    if (left > trailer_len) {
        s7p_r probe = *r;
        if (s7p_get_vlq_u32(&probe, &t->integrity_id) == GW_OK) {
            t->has_integrity = true;
            *r = probe;
        }
    }
    r->pos = r->len;
    return GW_OK;
}
