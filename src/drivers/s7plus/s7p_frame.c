/*
 * s7p_frame.c - S7CommPlus framing (docs/s7commplus.md S1) and the request
 * and response headers (S2): one COTP DT payload is one frame
 * `72 VV LL LL` + LL data bytes, and the last frame of a PDU adds the
 * trailer `72 VV 00 00` (a frame is last when the payload is 4 + LL + 4
 * bytes). The reassembler joins fragments into a caller buffer whose size
 * bounds a PDU; the fragmenter cuts a PDU for a given COTP payload size.
 * No allocation. Clean-room, from facts only.
 */
#include "drivers/s7plus/s7p_codec.h"

#include <string.h>

/* ------------------------------------------------------------ frames (S1) */

size_t s7p_frame_wrap(uint8_t *buf, size_t cap, uint8_t vv, size_t data_len)
{
    if (data_len > S7P_FRAME_MAX_DATA || cap < data_len + S7P_FRAME_HDR + S7P_FRAME_TRL)
        return 0;
    buf[0] = S7P_MAGIC;
    buf[1] = vv;
    buf[2] = (uint8_t)(data_len >> 8);
    buf[3] = (uint8_t)data_len;
    uint8_t *t = buf + S7P_FRAME_HDR + data_len;
    t[0] = S7P_MAGIC;
    t[1] = vv;
    t[2] = 0;
    t[3] = 0;
    return data_len + S7P_FRAME_HDR + S7P_FRAME_TRL;
}

gw_err s7p_frame_decode(const uint8_t *p, size_t len, s7p_frame *f)
{
    memset(f, 0, sizeof *f);
    if (len < 2 || p[0] != S7P_MAGIC)
        return GW_E_PROTOCOL;
    f->vv = p[1];
    if (f->vv == S7P_V_KEEPALIVE || f->vv == S7P_V_SYSEVENT) {
        f->kind = f->vv == S7P_V_KEEPALIVE ? S7P_FRAME_KEEPALIVE : S7P_FRAME_SYSEVENT;
        f->last = true;
        f->data = p + 2;
        f->data_len = len - 2;
        return GW_OK;
    }
    if (f->vv < S7P_V1 || f->vv > S7P_V3 || len < S7P_FRAME_HDR)
        return GW_E_PROTOCOL;
    size_t ll = (size_t)p[2] << 8 | p[3];
    f->kind = S7P_FRAME_DATA;
    f->data = p + S7P_FRAME_HDR;
    f->data_len = ll;
    if (len == S7P_FRAME_HDR + ll)
        return GW_OK;      /* a fragment with more to come */
    if (len != S7P_FRAME_HDR + ll + S7P_FRAME_TRL)
        return GW_E_PROTOCOL;
    const uint8_t *t = p + S7P_FRAME_HDR + ll;
    if (t[0] != S7P_MAGIC || t[1] != f->vv || t[2] != 0 || t[3] != 0)
        return GW_E_PROTOCOL;
    f->last = true;
    return GW_OK;
}

void s7p_reasm_init(s7p_reasm *ra, uint8_t *buf, size_t cap)
{
    ra->buf = buf;
    ra->cap = cap;
    s7p_reasm_reset(ra);
}

void s7p_reasm_reset(s7p_reasm *ra)
{
    ra->len = 0;
    ra->vv = 0;
    ra->busy = false;
}

gw_err s7p_reasm_feed(s7p_reasm *ra, const uint8_t *p, size_t len, s7p_frame *out, bool *done)
{
    s7p_frame f;
    *done = false;
    gw_err e = s7p_frame_decode(p, len, &f);
    if (e != GW_OK) {
        s7p_reasm_reset(ra);
        return e;
    }
    if (f.kind != S7P_FRAME_DATA) {
        *out = f;
        *done = true;
        return GW_OK;
    }
    if (!ra->busy) {
        ra->len = 0;
        ra->vv = f.vv;
        ra->busy = true;
    } else if (f.vv != ra->vv) {
        s7p_reasm_reset(ra);
        return GW_E_PROTOCOL;
    }
    if (ra->cap - ra->len < f.data_len) {
        s7p_reasm_reset(ra);
        return GW_E_RANGE;
    }
    if (f.data_len)
        memcpy(ra->buf + ra->len, f.data, f.data_len);
    ra->len += f.data_len;
    if (!f.last)
        return GW_OK;
    ra->busy = false;
    out->kind = S7P_FRAME_DATA;
    out->vv = ra->vv;
    out->last = true;
    out->data = ra->buf;
    out->data_len = ra->len;
    *done = true;
    return GW_OK;
}

void s7p_frag_init(s7p_frag *f, uint8_t vv, const uint8_t *pdu, size_t len, size_t max_payload)
{
    f->pdu = pdu;
    f->len = len;
    f->off = 0;
    f->max_payload = max_payload;
    f->vv = vv;
    f->done = false;
}

gw_err s7p_frag_next(s7p_frag *f, uint8_t *buf, size_t cap, size_t *n)
{
    *n = 0;
    if (f->done)
        return GW_E_NOT_FOUND;
    if (f->max_payload < S7P_FRAME_HDR + S7P_FRAME_TRL + 1)
        return GW_E_INVAL;
    size_t rest = f->len - f->off;
    size_t room = f->max_payload - S7P_FRAME_HDR - S7P_FRAME_TRL;
    if (room > S7P_FRAME_MAX_DATA)
        room = S7P_FRAME_MAX_DATA;
    bool last = rest <= room;
    size_t chunk = last ? rest : room;
    size_t total = S7P_FRAME_HDR + chunk + (last ? S7P_FRAME_TRL : 0);
    if (cap < total)
        return GW_E_RANGE;
    if (chunk)
        memcpy(buf + S7P_FRAME_HDR, f->pdu + f->off, chunk);
    if (last) {
        s7p_frame_wrap(buf, cap, f->vv, chunk);
        f->done = true;
    } else {
        buf[0] = S7P_MAGIC;
        buf[1] = f->vv;
        buf[2] = (uint8_t)(chunk >> 8);
        buf[3] = (uint8_t)chunk;
    }
    f->off += chunk;
    *n = total;
    return GW_OK;
}

/* ------------------------------------------------------------ headers (S2) */

gw_err s7p_hdr_decode(const uint8_t *pdu, size_t len, s7p_hdr *h, const uint8_t **payload,
                      size_t *payload_len)
{
    s7p_r r;
    uint16_t reserved;
    memset(h, 0, sizeof *h);
    s7p_r_init(&r, pdu, len);
    if (s7p_get_u8(&r, &h->opcode) != GW_OK)
        return GW_E_PROTOCOL;
    if (h->opcode != S7P_OP_REQUEST && h->opcode != S7P_OP_RESPONSE)
        return GW_E_UNSUPPORTED;
    if (s7p_get_u16(&r, &reserved) != GW_OK || s7p_get_u16(&r, &h->function) != GW_OK ||
        s7p_get_u16(&r, &reserved) != GW_OK || s7p_get_u16(&r, &h->seq) != GW_OK)
        return GW_E_PROTOCOL;
    if (h->opcode == S7P_OP_REQUEST && s7p_get_u32(&r, &h->session_id) != GW_OK)
        return GW_E_PROTOCOL;
    if (s7p_get_u8(&r, &h->flags) != GW_OK)
        return GW_E_PROTOCOL;
    *payload = pdu + r.pos;
    *payload_len = s7p_r_left(&r);
    return GW_OK;
}

void s7p_put_hdr(s7p_w *w, const s7p_hdr *h)
{
    s7p_put_u8(w, h->opcode);
    s7p_put_u16(w, 0);
    s7p_put_u16(w, h->function);
    s7p_put_u16(w, 0);
    s7p_put_u16(w, h->seq);
    if (h->opcode == S7P_OP_REQUEST)
        s7p_put_u32(w, h->session_id);
    s7p_put_u8(w, h->flags);
}

/* ---------------------------------------------------------------- forms */

gw_err s7p_opts_parse(const char *list, s7p_opts *out, char *why, size_t why_size)
{
    s7p_opts o = {0};
    static const char *const names[] = {"lid_classic", "blob_root_id", "delete_long",
                                        "names_utf8",  "oq_reference", "explore_id"};
    bool *flags[] = {&o.lid_classic, &o.blob_root_id, &o.delete_long,
                     &o.names_utf8,  &o.oq_reference, &o.explore_id};
    if (strcmp(list, "py7") == 0) {
        *out = o;
        return GW_OK;
    }
    if (strcmp(list, "real") == 0) {
        for (size_t k = 0; k < 6; k++)
            *flags[k] = true;
        *out = o;
        return GW_OK;
    }
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t k = 0;
        while (k < 6 && !(strlen(names[k]) == n && strncmp(names[k], p, n) == 0))
            k++;
        if (k == 6) {
            snprintf(why, why_size, "'%.*s' is not a form (real, py7, or a list of lid_classic, "
                     "blob_root_id, delete_long, names_utf8, oq_reference, explore_id)",
                     (int)(n < 40 ? n : 40), p);
            return GW_E_INVAL;
        }
        *flags[k] = true;
        p += n;
        if (*p == ',')
            p++;
    }
    *out = o;
    return GW_OK;
}
