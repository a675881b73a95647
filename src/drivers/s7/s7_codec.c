/*
 * s7_codec.c - TPKT, COTP and S7comm encode/decode (docs/s7comm.md).
 *
 * Every decoder takes (bytes, length) and checks each length field against
 * the bytes present before reading past it; a frame that lies about its
 * lengths is GW_E_PROTOCOL, never a read out of bounds. Encoders take a
 * capacity and return 0 when it is too small.
 */
#include "s7_codec.h"

#include <string.h>

/* ---------------------------------------------------------------- TPKT/COTP */

gw_err s7_tpkt_length(const uint8_t hdr[S7_TPKT_HDR], size_t *total)
{
    if (hdr[0] != S7_TPKT_VERSION)
        return GW_E_PROTOCOL;
    size_t len = s7_get16(hdr + 2);
    /* the smallest packet is TPKT plus a 3-byte COTP DT header */
    if (len < S7_TPKT_HDR + S7_COTP_DT_LEN)
        return GW_E_PROTOCOL;
    *total = len;
    return GW_OK;
}

size_t s7_tpdu_bytes(uint8_t code)
{
    /* ISO 8073 section 13.3.4 b): 0x07 = 128 ... 0x0D = 8192 bytes */
    if (code < 0x07 || code > 0x0D)
        return 0;
    return (size_t)1 << code;
}

gw_err s7_cotp_decode(const uint8_t *frame, size_t len, s7_cotp *out)
{
    memset(out, 0, sizeof(*out));
    if (len < S7_TPKT_HDR + 2 || frame[0] != S7_TPKT_VERSION || s7_get16(frame + 2) != len)
        return GW_E_PROTOCOL;
    const uint8_t *p = frame + S7_TPKT_HDR;
    size_t n = len - S7_TPKT_HDR;
    size_t li = p[0]; /* length indicator: header bytes after itself */
    if (li < 1 || li + 1 > n)
        return GW_E_PROTOCOL;
    out->type = p[1] & 0xF0;
    switch (out->type) {
    case S7_COTP_DT:
        if (li < 2)
            return GW_E_PROTOCOL;
        out->eot = (p[2] & S7_COTP_EOT) != 0;
        out->payload = p + li + 1;
        out->payload_len = n - li - 1;
        return GW_OK;
    case S7_COTP_CR:
    case S7_COTP_CC:
        if (li < 6)
            return GW_E_PROTOCOL;
        out->dst_ref = s7_get16(p + 2);
        out->src_ref = s7_get16(p + 4);
        out->class_opt = p[6];
        for (size_t i = 7; i < li + 1;) {
            if (i + 2 > li + 1)
                return GW_E_PROTOCOL;
            uint8_t code = p[i], plen = p[i + 1];
            if (i + 2 + plen > li + 1)
                return GW_E_PROTOCOL;
            const uint8_t *v = p + i + 2;
            s7_tsap t;
            if (code == S7_COTP_P_TPDU_SIZE && plen == 1) {
                out->has_tpdu_size = true;
                out->tpdu_size = v[0];
                out->tpdu_size_last = out->has_src_tsap || out->has_dst_tsap;
            } else if (code == S7_COTP_P_SRC_TSAP && s7_tsap_set(&t, v, plen)) {
                out->has_src_tsap = true;
                out->src_tsap_bytes = t;
                out->src_tsap = plen == 2 ? s7_get16(v) : 0;
            } else if (code == S7_COTP_P_DST_TSAP && s7_tsap_set(&t, v, plen)) {
                out->has_dst_tsap = true;
                out->dst_tsap_bytes = t;
                out->dst_tsap = plen == 2 ? s7_get16(v) : 0;
            }
            i += 2u + plen;
        }
        return GW_OK;
    case S7_COTP_DR:
    case S7_COTP_DC:
        if (li < 5)
            return GW_E_PROTOCOL;
        out->dst_ref = s7_get16(p + 2);
        out->src_ref = s7_get16(p + 4);
        out->reason = li >= 6 ? p[6] : 0;
        return GW_OK;
    default:
        return GW_OK; /* the caller decides what an ER or other TPDU means */
    }
}

bool s7_tsap_set(s7_tsap *t, const void *bytes, size_t len)
{
    memset(t, 0, sizeof(*t));
    if (len == 0 || len > S7_TSAP_MAX)
        return false;
    memcpy(t->bytes, bytes, len);
    t->len = (uint8_t)len;
    return true;
}

s7_tsap s7_tsap_from16(uint16_t v)
{
    s7_tsap t = {0};
    t.len = 2;
    s7_put16(t.bytes, v);
    return t;
}

bool s7_tsap_equal(const s7_tsap *a, const s7_tsap *b)
{
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* Appends one TSAP parameter: its bytes, or the 2-byte value. */
static size_t put_tsap(uint8_t *p, uint8_t code, const s7_tsap *t, uint16_t v)
{
    s7_tsap two = s7_tsap_from16(v);
    if (t->len == 0)
        t = &two;
    p[0] = code;
    p[1] = t->len;
    memcpy(p + 2, t->bytes, t->len);
    return 2u + t->len;
}

size_t s7_cotp_encode_conn(uint8_t *buf, size_t cap, const s7_cotp *c)
{
    /* fixed part 7, C0 3, two TSAPs of at most 2 + S7_TSAP_MAX */
    uint8_t tmp[7 + 3 + 2 * (2 + S7_TSAP_MAX)];
    if (c->src_tsap_bytes.len > S7_TSAP_MAX || c->dst_tsap_bytes.len > S7_TSAP_MAX)
        return 0;
    size_t n = 0;
    tmp[n++] = 0; /* length indicator, set below */
    tmp[n++] = c->type;
    s7_put16(tmp + n, c->dst_ref);
    n += 2;
    s7_put16(tmp + n, c->src_ref);
    n += 2;
    tmp[n++] = c->class_opt;
    bool size_first = c->has_tpdu_size && !c->tpdu_size_last;
    if (size_first) {
        tmp[n++] = S7_COTP_P_TPDU_SIZE;
        tmp[n++] = 1;
        tmp[n++] = c->tpdu_size;
    }
    if (c->has_src_tsap)
        n += put_tsap(tmp + n, S7_COTP_P_SRC_TSAP, &c->src_tsap_bytes, c->src_tsap);
    if (c->has_dst_tsap)
        n += put_tsap(tmp + n, S7_COTP_P_DST_TSAP, &c->dst_tsap_bytes, c->dst_tsap);
    if (c->has_tpdu_size && !size_first) {
        tmp[n++] = S7_COTP_P_TPDU_SIZE;
        tmp[n++] = 1;
        tmp[n++] = c->tpdu_size;
    }
    tmp[0] = (uint8_t)(n - 1);
    size_t total = S7_TPKT_HDR + n;
    if (cap < total)
        return 0;
    buf[0] = S7_TPKT_VERSION;
    buf[1] = 0;
    s7_put16(buf + 2, (uint16_t)total);
    memcpy(buf + S7_TPKT_HDR, tmp, n);
    return total;
}

size_t s7_cotp_encode_dr(uint8_t *buf, size_t cap, uint16_t dst_ref, uint16_t src_ref,
                         uint8_t reason)
{
    const size_t total = S7_TPKT_HDR + 7;
    if (cap < total)
        return 0;
    buf[0] = S7_TPKT_VERSION;
    buf[1] = 0;
    s7_put16(buf + 2, (uint16_t)total);
    buf[4] = 6;
    buf[5] = S7_COTP_DR;
    s7_put16(buf + 6, dst_ref);
    s7_put16(buf + 8, src_ref);
    buf[10] = reason;
    return total;
}

size_t s7_cotp_encode_dc(uint8_t *buf, size_t cap, uint16_t dst_ref, uint16_t src_ref)
{
    const size_t total = S7_TPKT_HDR + 6;
    if (cap < total)
        return 0;
    buf[0] = S7_TPKT_VERSION;
    buf[1] = 0;
    s7_put16(buf + 2, (uint16_t)total);
    buf[4] = 5;
    buf[5] = S7_COTP_DC;
    s7_put16(buf + 6, dst_ref);
    s7_put16(buf + 8, src_ref);
    return total;
}

size_t s7_frame_dt(uint8_t *buf, size_t pdu_len)
{
    return s7_frame_dt_part(buf, pdu_len, true);
}

size_t s7_frame_dt_part(uint8_t *buf, size_t payload_len, bool eot)
{
    size_t total = S7_FRAME_HDR + payload_len;
    buf[0] = S7_TPKT_VERSION;
    buf[1] = 0;
    s7_put16(buf + 2, (uint16_t)total);
    buf[4] = 2;           /* length indicator */
    buf[5] = S7_COTP_DT;
    buf[6] = eot ? S7_COTP_EOT : 0; /* TPDU number 0 (class 0 does not count) */
    return total;
}

/* ---------------------------------------------------------------- header */

gw_err s7_header_decode(const uint8_t *pdu, size_t len, s7_header *h)
{
    memset(h, 0, sizeof(*h));
    if (len < S7_HDR_JOB || pdu[0] != S7_PROTOCOL_ID)
        return GW_E_PROTOCOL;
    h->rosctr = pdu[1];
    h->pdu_ref = s7_get16(pdu + 4);
    h->param_len = s7_get16(pdu + 6);
    h->data_len = s7_get16(pdu + 8);
    size_t hdr = S7_HDR_JOB;
    if (h->rosctr == S7_ACK || h->rosctr == S7_ACK_DATA) {
        if (len < S7_HDR_ACK)
            return GW_E_PROTOCOL;
        h->err_class = pdu[10];
        h->err_code = pdu[11];
        hdr = S7_HDR_ACK;
    } else if (h->rosctr != S7_JOB && h->rosctr != S7_USERDATA) {
        return GW_E_PROTOCOL;
    }
    /* the lengths must add up to the PDU exactly (docs/s7comm.md 4) */
    if (hdr + (size_t)h->param_len + h->data_len != len)
        return GW_E_PROTOCOL;
    h->param = pdu + hdr;
    h->data = pdu + hdr + h->param_len;
    return GW_OK;
}

size_t s7_header_encode(uint8_t *p, uint8_t rosctr, uint16_t pdu_ref, uint16_t param_len,
                        uint16_t data_len, uint8_t err_class, uint8_t err_code)
{
    p[0] = S7_PROTOCOL_ID;
    p[1] = rosctr;
    s7_put16(p + 2, 0); /* redundancy identification */
    s7_put16(p + 4, pdu_ref);
    s7_put16(p + 6, param_len);
    s7_put16(p + 8, data_len);
    if (rosctr == S7_ACK || rosctr == S7_ACK_DATA) {
        p[10] = err_class;
        p[11] = err_code;
        return S7_HDR_ACK;
    }
    return S7_HDR_JOB;
}

/* ---------------------------------------------------------------- setup */

size_t s7_setup_encode_param(uint8_t *p, const s7_setup *s)
{
    p[0] = S7_FN_SETUP;
    p[1] = 0; /* reserved */
    s7_put16(p + 2, s->amq_calling);
    s7_put16(p + 4, s->amq_called);
    s7_put16(p + 6, s->pdu_len);
    return S7_SETUP_PARAM;
}

gw_err s7_setup_decode_param(const uint8_t *param, size_t len, s7_setup *out)
{
    if (len < S7_SETUP_PARAM || param[0] != S7_FN_SETUP)
        return GW_E_PROTOCOL;
    out->amq_calling = s7_get16(param + 2);
    out->amq_called = s7_get16(param + 4);
    out->pdu_len = s7_get16(param + 6);
    return GW_OK;
}

/* ---------------------------------------------------------------- items */

size_t s7_item_bytes(uint8_t tsize, uint16_t count)
{
    switch (tsize) {
    case S7_TS_BIT:
    case S7_TS_BYTE:
    case S7_TS_CHAR: return count;
    case S7_TS_WORD:
    case S7_TS_INT:
    case S7_TS_COUNTER:
    case S7_TS_TIMER: return 2u * count;
    case S7_TS_DWORD:
    case S7_TS_DINT:
    case S7_TS_REAL: return 4u * count;
    default: return 0;
    }
}

uint8_t s7_reply_dts(uint8_t tsize)
{
    /* as the snap7 server answers (docs/s7comm.md 6.2): nodeS7 needs 0x04
     * for byte reads, snap7 clients take INT and DINT as 0x05 */
    switch (tsize) {
    case S7_TS_BIT: return S7_DTS_BIT;
    case S7_TS_INT:
    case S7_TS_DINT: return S7_DTS_INT;
    case S7_TS_REAL: return S7_DTS_REAL;
    case S7_TS_CHAR:
    case S7_TS_COUNTER:
    case S7_TS_TIMER: return S7_DTS_OCTET;
    default: return S7_DTS_BYTE;
    }
}

/* Whether a data transport size's length field counts bits (else bytes). */
static bool dts_in_bits(uint8_t dts)
{
    return dts == S7_DTS_BIT || dts == S7_DTS_BYTE || dts == S7_DTS_INT;
}

static void put_item(uint8_t *p, const s7_item *it)
{
    p[0] = 0x12; /* variable specification */
    p[1] = 0x0A; /* length of the rest of the item */
    p[2] = 0x10; /* syntax id: S7ANY */
    p[3] = it->tsize;
    s7_put16(p + 4, it->count);
    s7_put16(p + 6, it->db);
    p[8] = it->area;
    p[9] = (uint8_t)(it->bitaddr >> 16);
    p[10] = (uint8_t)(it->bitaddr >> 8);
    p[11] = (uint8_t)it->bitaddr;
}

gw_err s7_decode_items(const uint8_t *param, size_t len, s7_item *items, size_t max, size_t *n)
{
    *n = 0;
    if (len < 2)
        return GW_E_PROTOCOL;
    size_t count = param[1];
    /* each item: 0x12, the length of what follows, the syntax id; S7ANY
     * items are 12 bytes, others (DBREAD, 1200SYM, NCK) other lengths. All
     * are checked; the first `max` are stored. */
    size_t off = 2;
    for (size_t i = 0; i < count; i++) {
        if (off + 3 > len)
            return GW_E_PROTOCOL;
        const uint8_t *p = param + off;
        size_t spec = 2u + p[1];
        if (p[0] != 0x12 || off + spec > len || spec < 3)
            return GW_E_PROTOCOL;
        if (i >= max) {
            off += spec;
            continue;
        }
        memset(&items[i], 0, sizeof(items[i]));
        if (p[1] == 0x0A && p[2] == 0x10) {
            items[i].tsize = p[3];
            items[i].count = s7_get16(p + 4);
            items[i].db = s7_get16(p + 6);
            items[i].area = p[8];
            items[i].bitaddr = ((uint32_t)p[9] << 16) | ((uint32_t)p[10] << 8) | p[11];
        } else {
            items[i].tsize = 0; /* not S7ANY: the item fails alone */
            items[i].count = 1;
        }
        off += spec;
    }
    /* the parameter is exactly its items (docs/s7comm.md 13.6) */
    if (off != len)
        return GW_E_PROTOCOL;
    if (count > max)
        return GW_E_RANGE;
    *n = count;
    return GW_OK;
}

gw_err s7_decode_data(const uint8_t *data, size_t len, size_t n, s7_data *out)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        if (off + 4 > len)
            return GW_E_PROTOCOL;
        out[i].rc = data[off];
        out[i].dts = data[off + 1];
        size_t field = s7_get16(data + off + 2);
        size_t bytes = dts_in_bits(out[i].dts) ? (field + 7) / 8 : field;
        /* an error item carries no data, whatever its length says: real
         * CPUs send length 0, snap7's server length 4 (docs/s7comm.md 13.3);
         * 0x00 is the reserved code of write request items, which do */
        if (out[i].rc != S7_RC_OK && out[i].rc != S7_RC_RESERVED)
            bytes = 0;
        off += 4;
        if (off + bytes > len)
            return GW_E_PROTOCOL;
        out[i].bytes = data + off;
        out[i].len = (uint16_t)bytes;
        off += bytes;
        /* a fill byte pads odd-length data, except after the last item */
        if ((bytes & 1u) && i + 1 < n) {
            if (off + 1 > len)
                return GW_E_PROTOCOL;
            off++;
        }
    }
    return GW_OK;
}

size_t s7_encode_data(uint8_t *p, size_t cap, const s7_data *items, size_t n)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t bytes = items[i].len;
        size_t need = 4 + bytes + ((bytes & 1u) && i + 1 < n ? 1 : 0);
        if (off + need > cap)
            return 0;
        p[off] = items[i].rc;
        p[off + 1] = items[i].dts;
        size_t field = bytes;
        if (items[i].dts == S7_DTS_BIT)
            field = bytes ? 1 : 0; /* one bit */
        else if (dts_in_bits(items[i].dts))
            field = bytes * 8;
        s7_put16(p + off + 2, (uint16_t)field);
        if (bytes)
            memcpy(p + off + 4, items[i].bytes, bytes);
        off += 4 + bytes;
        if ((bytes & 1u) && i + 1 < n)
            p[off++] = 0;
    }
    return off;
}

size_t s7_read_reply_size(const uint16_t *lens, size_t n)
{
    size_t size = S7_HDR_ACK + 2;
    for (size_t i = 0; i < n; i++)
        size += 4u + lens[i] + ((lens[i] & 1u) && i + 1 < n ? 1u : 0u);
    return size;
}

/* An item's bit address has 24 bits on the wire: never truncate one. */
static bool items_fit(const s7_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].bitaddr > 0xFFFFFFu)
            return false;
    return true;
}

size_t s7_encode_read_req(uint8_t *buf, size_t cap, uint16_t ref, const s7_item *items, size_t n)
{
    size_t plen = S7_RW_PARAM(n);
    size_t pdu = S7_HDR_JOB + plen;
    if (n > 255 || cap < S7_FRAME_HDR + pdu || !items_fit(items, n))
        return 0;
    uint8_t *p = buf + S7_FRAME_HDR;
    size_t h = s7_header_encode(p, S7_JOB, ref, (uint16_t)plen, 0, 0, 0);
    p[h] = S7_FN_READ;
    p[h + 1] = (uint8_t)n;
    for (size_t i = 0; i < n; i++)
        put_item(p + h + 2 + S7_ITEM_SPEC * i, &items[i]);
    return s7_frame_dt(buf, pdu);
}

size_t s7_encode_write_req(uint8_t *buf, size_t cap, uint16_t ref, const s7_item *items,
                           const s7_data *data, size_t n)
{
    size_t plen = S7_RW_PARAM(n);
    if (n > 255 || cap < S7_FRAME_HDR + S7_HDR_JOB + plen || !items_fit(items, n))
        return 0;
    uint8_t *p = buf + S7_FRAME_HDR;
    uint8_t *d = p + S7_HDR_JOB + plen;
    size_t dlen = s7_encode_data(d, cap - S7_FRAME_HDR - S7_HDR_JOB - plen, data, n);
    if (n && dlen == 0)
        return 0;
    s7_header_encode(p, S7_JOB, ref, (uint16_t)plen, (uint16_t)dlen, 0, 0);
    p[S7_HDR_JOB] = S7_FN_WRITE;
    p[S7_HDR_JOB + 1] = (uint8_t)n;
    for (size_t i = 0; i < n; i++)
        put_item(p + S7_HDR_JOB + 2 + S7_ITEM_SPEC * i, &items[i]);
    return s7_frame_dt(buf, S7_HDR_JOB + plen + dlen);
}

/* ---------------------------------------------------------------- userdata */

size_t s7_encode_szl_req(uint8_t *buf, size_t cap, uint16_t ref, uint16_t szl_id,
                         uint16_t szl_index)
{
    const size_t plen = 8, dlen = 8;
    if (cap < S7_FRAME_HDR + S7_HDR_JOB + plen + dlen)
        return 0;
    uint8_t *p = buf + S7_FRAME_HDR;
    size_t h = s7_header_encode(p, S7_USERDATA, ref, (uint16_t)plen, (uint16_t)dlen, 0, 0);
    uint8_t *q = p + h;
    q[0] = 0x00; /* parameter head 00 01 12 */
    q[1] = 0x01;
    q[2] = 0x12;
    q[3] = 0x04; /* parameter length after this byte */
    q[4] = 0x11; /* method: request */
    q[5] = 0x44; /* type 4 (request) | function group 4 (CPU functions) */
    q[6] = 0x01; /* subfunction: read SZL */
    q[7] = 0x00; /* sequence number */
    uint8_t *d = q + plen;
    d[0] = S7_RC_OK;
    d[1] = S7_DTS_OCTET;
    s7_put16(d + 2, 4);
    s7_put16(d + 4, szl_id);
    s7_put16(d + 6, szl_index);
    return s7_frame_dt(buf, h + plen + dlen);
}

size_t s7_encode_szl_next_req(uint8_t *buf, size_t cap, uint16_t ref, uint8_t seq)
{
    const size_t plen = 12, dlen = 4;
    if (cap < S7_FRAME_HDR + S7_HDR_JOB + plen + dlen)
        return 0;
    uint8_t *p = buf + S7_FRAME_HDR;
    size_t h = s7_header_encode(p, S7_USERDATA, ref, (uint16_t)plen, (uint16_t)dlen, 0, 0);
    static const uint8_t head[7] = {0x00, 0x01, 0x12, 0x08, 0x12, 0x44, 0x01};
    memcpy(p + h, head, sizeof(head));
    uint8_t *q = p + h;
    q[7] = seq;
    memset(q + 8, 0, 4); /* data unit reference, last data unit, error code */
    static const uint8_t data[4] = {0x0A, 0x00, 0x00, 0x00};
    memcpy(q + plen, data, dlen);
    return s7_frame_dt(buf, h + plen + dlen);
}

gw_err s7_decode_szl_req_data(const uint8_t *data, size_t len, uint16_t *szl_id,
                              uint16_t *szl_index)
{
    *szl_id = 0;
    *szl_index = 0;
    if (len < 4)
        return GW_E_PROTOCOL;
    /* data[0] (return code) and data[1] (transport size) are the client's
     * business: FF 09 from snap7, 0A 00 from python-snap7 (docs/s7comm.md
     * 11.2); the length counts bytes either way */
    size_t field = s7_get16(data + 2);
    if (field < 4 || field > len - 4)
        return GW_E_PROTOCOL;
    *szl_id = s7_get16(data + 4);
    *szl_index = s7_get16(data + 6);
    return GW_OK;
}

gw_err s7_decode_userdata_param(const uint8_t *param, size_t len, s7_userdata_param *out)
{
    memset(out, 0, sizeof(*out));
    if (len < 8 || param[0] != 0x00 || param[1] != 0x01 || param[2] != 0x12)
        return GW_E_PROTOCOL;
    size_t plen = param[3];
    if (4 + plen > len || plen < 4)
        return GW_E_PROTOCOL;
    out->method = param[4];
    out->type_group = param[5];
    out->subfunction = param[6];
    out->seq = param[7];
    out->last = true;
    if (plen >= 8) {
        out->dur = param[8];
        out->last = param[9] == 0x00;
        out->err_code = s7_get16(param + 10);
    }
    return GW_OK;
}

/* ---------------------------------------------------------------- blocks */

void s7_block_addr_encode(uint8_t out[S7_BLOCK_ADDR], uint8_t type, uint16_t number)
{
    out[0] = '0';
    out[1] = type;
    for (int i = 6; i >= 2; i--) {
        out[i] = (uint8_t)('0' + number % 10);
        number /= 10;
    }
}

gw_err s7_block_addr_decode(const uint8_t in[S7_BLOCK_ADDR], uint8_t *type, uint16_t *number)
{
    /* the types of docs/s7comm.md 14.1: '8' OB, 'A'..'F' DB SDB FC SFC FB SFB */
    if (in[0] != '0' || !(in[1] == '8' || (in[1] >= 'A' && in[1] <= 'F')))
        return GW_E_PROTOCOL;
    uint32_t n = 0;
    for (int i = 2; i < 7; i++) {
        if (in[i] < '0' || in[i] > '9')
            return GW_E_PROTOCOL;
        n = n * 10u + (uint32_t)(in[i] - '0');
    }
    if (n > 0xFFFFu)
        return GW_E_PROTOCOL;
    *type = in[1];
    *number = (uint16_t)n;
    return GW_OK;
}

uint16_t s7_crc16(const uint8_t *p, size_t len)
{
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

/* ---------------------------------------------------------------- errors */

const char *s7_item_rc_text(uint8_t rc)
{
    switch (rc) {
    case S7_RC_OK: return "success";
    case S7_RC_RESERVED: return "reserved (no answer for the item)";
    case S7_RC_HW_FAULT: return "hardware fault";
    case S7_RC_ACCESS: return "accessing the object is not allowed";
    case S7_RC_OUT_OF_RANGE: return "address out of range";
    case S7_RC_TYPE_UNSUPPORTED: return "data type not supported";
    case S7_RC_TYPE_INCONSISTENT: return "data type inconsistent";
    case S7_RC_NO_OBJECT: return "object does not exist";
    default: return "unknown item return code";
    }
}

const char *s7_header_error_text(uint8_t err_class, uint8_t err_code)
{
    uint16_t both = (uint16_t)(err_class << 8 | err_code);
    switch (both) {
    case 0x0000: return "no error";
    case 0x8104: return "function not supported or not allowed by the CPU";
    case 0x8500: return "PDU size error";
    case 0x8702: return "invalid address";
    case 0x8401: return "invalid service sequence (upload or download)";
    case 0xD081: return "function not permitted in the current mode";
    case 0xD209: return "block not found";
    case 0xD20E: return "no (further) block available";
    case 0xD219: return "incorrect block lengths";
    case 0x8404: return "the function cannot be performed";
    case 0xD202: return "syntax error in function parameters";
    case 0xD241: return "protection level of the function not sufficient";
    case 0xD602: return "PLC protected by password";
    }
    switch (err_class) {
    case 0x81: return "application relationship error";
    case 0x82: return "object definition error";
    case 0x83: return "no resources available";
    case 0x84: return "error on service processing";
    case 0x85: return "error on supplies";
    case 0x87: return "access error";
    default: return "unknown error";
    }
}

/* ---------------------------------------------------------------- clock */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (the
 * civil-calendar algorithms of era, year of era and day of year). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153u * (m + (m > 2 ? -3 : 9)) + 2u) / 5u + d - 1u;
    unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
    unsigned doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);
    unsigned mp = (5u * doy + 2u) / 153u;
    *d = doy - (153u * mp + 2u) / 5u + 1u;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static uint8_t to_bcd(unsigned v)
{
    return (uint8_t)(((v / 10u) << 4) | (v % 10u));
}

/* A BCD byte's value, or -1 when a nibble is not a digit. */
static int from_bcd(uint8_t b)
{
    if ((b >> 4) > 9 || (b & 0x0F) > 9)
        return -1;
    return (b >> 4) * 10 + (b & 0x0F);
}

void s7_dt_encode(uint8_t out[S7_DT_LEN], int64_t epoch_ms)
{
    if (epoch_ms < S7_DT_MIN_MS)
        epoch_ms = S7_DT_MIN_MS;
    if (epoch_ms > S7_DT_MAX_MS)
        epoch_ms = S7_DT_MAX_MS;
    int64_t days = epoch_ms / 86400000;
    unsigned ms_day = (unsigned)(epoch_ms % 86400000);
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    unsigned ms = ms_day % 1000u, s = ms_day / 1000u;
    /* 1970-01-01 was a Thursday: weekday 5 when Sunday is 1 */
    unsigned wday = (unsigned)((days + 4) % 7) + 1u;
    out[0] = to_bcd((unsigned)(y % 100));
    out[1] = to_bcd(m);
    out[2] = to_bcd(d);
    out[3] = to_bcd(s / 3600u);
    out[4] = to_bcd(s / 60u % 60u);
    out[5] = to_bcd(s % 60u);
    out[6] = to_bcd(ms / 10u);
    out[7] = (uint8_t)((ms % 10u) << 4 | wday);
}

gw_err s7_dt_decode(const uint8_t in[S7_DT_LEN], int64_t *epoch_ms)
{
    *epoch_ms = 0;
    int f[7];
    for (int i = 0; i < 7; i++)
        if ((f[i] = from_bcd(in[i])) < 0)
            return GW_E_RANGE;
    unsigned ms_last = in[7] >> 4;
    if (ms_last > 9)
        return GW_E_RANGE;
    int64_t y = f[0] < 90 ? 2000 + f[0] : 1900 + f[0];
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (f[1] < 1 || f[1] > 12)
        return GW_E_RANGE;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    unsigned dmax = mdays[f[1] - 1] + (f[1] == 2 && leap ? 1u : 0u);
    if (f[2] < 1 || (unsigned)f[2] > dmax || f[3] > 23 || f[4] > 59 || f[5] > 59)
        return GW_E_RANGE;
    int64_t days = days_from_civil(y, (unsigned)f[1], (unsigned)f[2]);
    *epoch_ms = days * 86400000 + ((int64_t)f[3] * 3600 + f[4] * 60 + f[5]) * 1000 +
                f[6] * 10 + (int64_t)ms_last;
    return GW_OK;
}
