/*
 * ads_codec.c - ADS/AMS wire codec (ads_codec.h, docs/ads.md).
 */
#include "drivers/ads/ads_codec.h"

#include <stdio.h>
#include <string.h>

#define CK(x)                                                                                \
    do {                                                                                     \
        gw_err e_ = (x);                                                                     \
        if (e_ != GW_OK)                                                                     \
            return e_;                                                                       \
    } while (0)

/* ------------------------------------------------------------ reader / writer */

/* What a NULL input points at, so that views are never NULL + offset. */
static const uint8_t EMPTY[8];

void ads_r_init(ads_r *r, const void *p, size_t len)
{
    r->p = p ? (const uint8_t *)p : EMPTY;
    r->len = p ? len : 0;
    r->pos = 0;
}

gw_err ads_get_bytes(ads_r *r, size_t n, const uint8_t **p)
{
    if (n > ads_r_left(r))
        return GW_E_PROTOCOL;
    *p = r->p + r->pos;
    r->pos += n;
    return GW_OK;
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

gw_err ads_get_u8(ads_r *r, uint8_t *v)
{
    const uint8_t *p;
    CK(ads_get_bytes(r, 1, &p));
    *v = p[0];
    return GW_OK;
}
gw_err ads_get_u16(ads_r *r, uint16_t *v)
{
    const uint8_t *p;
    CK(ads_get_bytes(r, 2, &p));
    *v = (uint16_t)le(p, 2);
    return GW_OK;
}
gw_err ads_get_u32(ads_r *r, uint32_t *v)
{
    const uint8_t *p;
    CK(ads_get_bytes(r, 4, &p));
    *v = (uint32_t)le(p, 4);
    return GW_OK;
}
gw_err ads_get_u64(ads_r *r, uint64_t *v)
{
    const uint8_t *p;
    CK(ads_get_bytes(r, 8, &p));
    *v = le(p, 8);
    return GW_OK;
}

gw_err ads_w_finish(const ads_w *w, size_t *len)
{
    if (w->err)
        return GW_E_RANGE;
    if (len)
        *len = w->len;
    return GW_OK;
}

void ads_put_bytes(ads_w *w, const void *p, size_t n)
{
    if (w->err || n > w->cap - w->len) {
        w->err = true;
        return;
    }
    if (n) {
        if (p)
            memcpy(w->p + w->len, p, n);
        else
            memset(w->p + w->len, 0, n);
    }
    w->len += n;
}

static void put_le(ads_w *w, uint64_t v, int n)
{
    uint8_t b[8];
    for (int i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    ads_put_bytes(w, b, (size_t)n);
}
void ads_put_u8(ads_w *w, uint8_t v) { put_le(w, v, 1); }
void ads_put_u16(ads_w *w, uint16_t v) { put_le(w, v, 2); }
void ads_put_u32(ads_w *w, uint32_t v) { put_le(w, v, 4); }
void ads_put_u64(ads_w *w, uint64_t v) { put_le(w, v, 8); }

static void patch_u32(ads_w *w, size_t at, uint32_t v)
{
    if (w->err || at + 4 > w->len)
        return;
    for (int i = 0; i < 4; i++)
        w->p[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}

/* A NUL-terminated string of len bytes (+ NUL) at the reader. */
static gw_err get_str(ads_r *r, size_t len, ads_str *s)
{
    const uint8_t *p;
    CK(ads_get_bytes(r, len + 1, &p));
    if (p[len] != 0)
        return GW_E_PROTOCOL;
    s->p = (const char *)p;
    s->len = len;
    return GW_OK;
}

static gw_err done(const ads_r *r) { return ads_r_left(r) ? GW_E_PROTOCOL : GW_OK; }

/* ------------------------------------------------------------ addresses */

gw_err ads_netid_parse(const char *s, ads_netid *out)
{
    if (!s)
        return GW_E_INVAL;
    ads_netid id;
    for (int i = 0; i < 6; i++) {
        unsigned v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (unsigned)(*s++ - '0');
            if (++digits > 3 || v > 255)
                return GW_E_INVAL;
        }
        if (!digits)
            return GW_E_INVAL;
        id.b[i] = (uint8_t)v;
        if (i < 5 && *s++ != '.')
            return GW_E_INVAL;
    }
    if (*s)
        return GW_E_INVAL;
    *out = id;
    return GW_OK;
}

char *ads_netid_format(const ads_netid *id, char out[ADS_NETID_STR])
{
    snprintf(out, ADS_NETID_STR, "%u.%u.%u.%u.%u.%u", id->b[0], id->b[1], id->b[2], id->b[3],
             id->b[4], id->b[5]);
    return out;
}

/* ------------------------------------------------------------ framing */

gw_err ads_frame_next(const uint8_t *buf, size_t len, size_t max_pkt, size_t *pkt_len)
{
    *pkt_len = 0;
    if (!max_pkt)
        max_pkt = ADS_FRAME_MAX_DEFAULT;
    if (len < ADS_TCP_HDR)
        return GW_OK;
    uint64_t total = (uint64_t)le(buf + 2, 4) + ADS_TCP_HDR;
    if (total > max_pkt)
        return GW_E_RANGE;
    if (len >= total)
        *pkt_len = (size_t)total;
    return GW_OK;
}

static void addr_put(ads_w *w, const ads_addr *a)
{
    ads_put_bytes(w, a->net.b, 6);
    ads_put_u16(w, a->port);
}

static gw_err addr_get(ads_r *r, ads_addr *a)
{
    const uint8_t *p;
    CK(ads_get_bytes(r, 6, &p));
    memcpy(a->net.b, p, 6);
    return ads_get_u16(r, &a->port);
}

void ads_ams_hdr_put(ads_w *w, const ads_ams_hdr *h)
{
    addr_put(w, &h->target);
    addr_put(w, &h->source);
    ads_put_u16(w, h->cmd);
    ads_put_u16(w, h->flags);
    ads_put_u32(w, h->data_len);
    ads_put_u32(w, h->error);
    ads_put_u32(w, h->invoke_id);
}

gw_err ads_ams_hdr_get(ads_r *r, ads_ams_hdr *h)
{
    if (ads_r_left(r) < ADS_AMS_HDR)
        return GW_E_PROTOCOL;
    CK(addr_get(r, &h->target));
    CK(addr_get(r, &h->source));
    CK(ads_get_u16(r, &h->cmd));
    CK(ads_get_u16(r, &h->flags));
    CK(ads_get_u32(r, &h->data_len));
    CK(ads_get_u32(r, &h->error));
    return ads_get_u32(r, &h->invoke_id);
}

gw_err ads_packet_get(const uint8_t *buf, size_t len, ads_packet *pkt)
{
    memset(pkt, 0, sizeof(*pkt));
    ads_r r;
    ads_r_init(&r, buf, len);
    uint32_t tlen;
    CK(ads_get_u16(&r, &pkt->tcp_cmd));
    CK(ads_get_u32(&r, &tlen));
    if (tlen != ads_r_left(&r))
        return GW_E_PROTOCOL;
    if (pkt->tcp_cmd != ADS_TCP_AMS_CMD) {
        pkt->data = buf + ADS_TCP_HDR;
        pkt->data_len = tlen;
        return GW_OK;
    }
    CK(ads_ams_hdr_get(&r, &pkt->hdr));
    if (pkt->hdr.data_len != ads_r_left(&r))
        return GW_E_PROTOCOL;
    pkt->data = buf + ADS_PKT_MIN;
    pkt->data_len = pkt->hdr.data_len;
    return GW_OK;
}

size_t ads_packet_begin(ads_w *w, const ads_ams_hdr *h)
{
    size_t start = w->len;
    ads_put_u16(w, ADS_TCP_AMS_CMD);
    ads_put_u32(w, 0);
    ads_ams_hdr hh = *h;
    hh.data_len = 0;
    ads_ams_hdr_put(w, &hh);
    return start;
}

gw_err ads_packet_end(ads_w *w, size_t start)
{
    if (!w->err && (w->len < start + ADS_PKT_MIN || w->len - start - ADS_TCP_HDR > UINT32_MAX))
        w->err = true;
    if (!w->err) {
        size_t total = w->len - start;
        patch_u32(w, start + 2, (uint32_t)(total - ADS_TCP_HDR));
        patch_u32(w, start + ADS_TCP_HDR + 20, (uint32_t)(total - ADS_PKT_MIN));
    }
    return ads_w_finish(w, NULL);
}

gw_err ads_port_connect_rsp_get(const uint8_t *p, size_t n, ads_addr *out)
{
    ads_r r;
    ads_r_init(&r, p, n);
    CK(addr_get(&r, out));
    return done(&r);
}

void ads_port_connect_rsp_put(ads_w *w, const ads_addr *a) { addr_put(w, a); }

/* ------------------------------------------------------------ commands */

void ads_read_req_put(ads_w *w, const ads_read_req *q)
{
    ads_put_u32(w, q->ig);
    ads_put_u32(w, q->io);
    ads_put_u32(w, q->len);
}

gw_err ads_read_req_get(const uint8_t *p, size_t n, ads_read_req *q)
{
    ads_r r;
    ads_r_init(&r, p, n);
    CK(ads_get_u32(&r, &q->ig));
    CK(ads_get_u32(&r, &q->io));
    CK(ads_get_u32(&r, &q->len));
    return done(&r);
}

void ads_write_req_put(ads_w *w, const ads_write_req *q)
{
    ads_put_u32(w, q->ig);
    ads_put_u32(w, q->io);
    ads_put_u32(w, q->len);
    ads_put_bytes(w, q->data, q->len);
}

gw_err ads_write_req_get(const uint8_t *p, size_t n, ads_write_req *q)
{
    ads_r r;
    ads_r_init(&r, p, n);
    CK(ads_get_u32(&r, &q->ig));
    CK(ads_get_u32(&r, &q->io));
    CK(ads_get_u32(&r, &q->len));
    CK(ads_get_bytes(&r, q->len, &q->data));
    return done(&r);
}

void ads_rw_req_put(ads_w *w, const ads_rw_req *q)
{
    ads_put_u32(w, q->ig);
    ads_put_u32(w, q->io);
    ads_put_u32(w, q->read_len);
    ads_put_u32(w, q->write_len);
    ads_put_bytes(w, q->data, q->write_len);
}

gw_err ads_rw_req_get(const uint8_t *p, size_t n, ads_rw_req *q)
{
    ads_r r;
    ads_r_init(&r, p, n);
    CK(ads_get_u32(&r, &q->ig));
    CK(ads_get_u32(&r, &q->io));
    CK(ads_get_u32(&r, &q->read_len));
    CK(ads_get_u32(&r, &q->write_len));
    CK(ads_get_bytes(&r, q->write_len, &q->data));
    return done(&r);
}

void ads_wrctl_req_put(ads_w *w, const ads_wrctl_req *q)
{
    ads_put_u16(w, q->ads_state);
    ads_put_u16(w, q->dev_state);
    ads_put_u32(w, q->len);
    ads_put_bytes(w, q->data, q->len);
}

gw_err ads_wrctl_req_get(const uint8_t *p, size_t n, ads_wrctl_req *q)
{
    ads_r r;
    ads_r_init(&r, p, n);
    CK(ads_get_u16(&r, &q->ads_state));
    CK(ads_get_u16(&r, &q->dev_state));
    CK(ads_get_u32(&r, &q->len));
    CK(ads_get_bytes(&r, q->len, &q->data));
    return done(&r);
}

void ads_addnote_req_put(ads_w *w, const ads_addnote_req *q)
{
    ads_put_u32(w, q->ig);
    ads_put_u32(w, q->io);
    ads_put_u32(w, q->len);
    ads_put_u32(w, q->mode);
    ads_put_u32(w, q->max_delay_100ns);
    ads_put_u32(w, q->cycle_100ns);
    ads_put_bytes(w, NULL, 16);
}

gw_err ads_addnote_req_get(const uint8_t *p, size_t n, ads_addnote_req *q)
{
    ads_r r;
    const uint8_t *res;
    ads_r_init(&r, p, n);
    CK(ads_get_u32(&r, &q->ig));
    CK(ads_get_u32(&r, &q->io));
    CK(ads_get_u32(&r, &q->len));
    CK(ads_get_u32(&r, &q->mode));
    CK(ads_get_u32(&r, &q->max_delay_100ns));
    CK(ads_get_u32(&r, &q->cycle_100ns));
    CK(ads_get_bytes(&r, 16, &res));
    return done(&r);
}

void ads_u32_put(ads_w *w, uint32_t v) { ads_put_u32(w, v); }

gw_err ads_u32_get(const uint8_t *p, size_t n, uint32_t *v)
{
    ads_r r;
    ads_r_init(&r, p, n);
    CK(ads_get_u32(&r, v));
    return done(&r);
}

gw_err ads_empty_get(const uint8_t *p, size_t n)
{
    (void)p;
    return n ? GW_E_PROTOCOL : GW_OK;
}

void ads_devinfo_rsp_put(ads_w *w, const ads_devinfo_rsp *s)
{
    uint8_t name[ADS_DEVNAME_LEN] = {0};
    const char *z = memchr(s->name, 0, ADS_DEVNAME_LEN);
    size_t l = z ? (size_t)(z - s->name) : ADS_DEVNAME_LEN;
    memcpy(name, s->name, l);
    ads_put_u32(w, s->result);
    ads_put_u8(w, s->major);
    ads_put_u8(w, s->minor);
    ads_put_u16(w, s->build);
    ads_put_bytes(w, name, sizeof(name));
}

gw_err ads_devinfo_rsp_get(const uint8_t *p, size_t n, ads_devinfo_rsp *s)
{
    ads_r r;
    const uint8_t *name;
    ads_r_init(&r, p, n);
    memset(s, 0, sizeof(*s));
    CK(ads_get_u32(&r, &s->result));
    if (s->result && !ads_r_left(&r))
        return GW_OK;
    CK(ads_get_u8(&r, &s->major));
    CK(ads_get_u8(&r, &s->minor));
    CK(ads_get_u16(&r, &s->build));
    CK(ads_get_bytes(&r, ADS_DEVNAME_LEN, &name));
    memcpy(s->name, name, ADS_DEVNAME_LEN);
    s->name[ADS_DEVNAME_LEN] = '\0';
    return done(&r);
}

void ads_data_rsp_put(ads_w *w, const ads_data_rsp *s)
{
    ads_put_u32(w, s->result);
    ads_put_u32(w, s->len);
    ads_put_bytes(w, s->data, s->len);
}

gw_err ads_data_rsp_get(const uint8_t *p, size_t n, ads_data_rsp *s)
{
    ads_r r;
    ads_r_init(&r, p, n);
    memset(s, 0, sizeof(*s));
    CK(ads_get_u32(&r, &s->result));
    if (s->result && !ads_r_left(&r))
        return GW_OK;
    CK(ads_get_u32(&r, &s->len));
    CK(ads_get_bytes(&r, s->len, &s->data));
    return done(&r);
}

void ads_state_rsp_put(ads_w *w, const ads_state_rsp *s)
{
    ads_put_u32(w, s->result);
    ads_put_u16(w, s->ads_state);
    ads_put_u16(w, s->dev_state);
}

gw_err ads_state_rsp_get(const uint8_t *p, size_t n, ads_state_rsp *s)
{
    ads_r r;
    ads_r_init(&r, p, n);
    memset(s, 0, sizeof(*s));
    CK(ads_get_u32(&r, &s->result));
    if (s->result && !ads_r_left(&r))
        return GW_OK;
    CK(ads_get_u16(&r, &s->ads_state));
    CK(ads_get_u16(&r, &s->dev_state));
    return done(&r);
}

void ads_addnote_rsp_put(ads_w *w, const ads_addnote_rsp *s)
{
    ads_put_u32(w, s->result);
    ads_put_u32(w, s->handle);
}

gw_err ads_addnote_rsp_get(const uint8_t *p, size_t n, ads_addnote_rsp *s)
{
    ads_r r;
    ads_r_init(&r, p, n);
    memset(s, 0, sizeof(*s));
    CK(ads_get_u32(&r, &s->result));
    if (s->result && !ads_r_left(&r))
        return GW_OK;
    CK(ads_get_u32(&r, &s->handle));
    return done(&r);
}

/* ------------------------------------------------------------ notifications */

gw_err ads_note_begin(const uint8_t *p, size_t n, ads_note_iter *it)
{
    memset(it, 0, sizeof(*it));
    ads_r r;
    uint32_t len, stamps;
    ads_r_init(&r, p, n);
    CK(ads_get_u32(&r, &len));
    if (len != ads_r_left(&r))
        return GW_E_PROTOCOL;
    CK(ads_get_u32(&r, &stamps));
    size_t body = r.pos;
    for (uint32_t i = 0; i < stamps; i++) {
        uint64_t ft;
        uint32_t samples;
        CK(ads_get_u64(&r, &ft));
        CK(ads_get_u32(&r, &samples));
        for (uint32_t j = 0; j < samples; j++) {
            uint32_t h, sz;
            const uint8_t *d;
            CK(ads_get_u32(&r, &h));
            CK(ads_get_u32(&r, &sz));
            CK(ads_get_bytes(&r, sz, &d));
            it->samples++;
        }
    }
    CK(done(&r));
    it->stamps = stamps;
    ads_r_init(&it->r, p, n);
    it->r.pos = body;
    it->stamps_left = stamps;
    return GW_OK;
}

bool ads_note_next(ads_note_iter *it, ads_note_sample *s)
{
    while (!it->samples_left) {
        if (!it->stamps_left)
            return false;
        it->stamps_left--;
        if (ads_get_u64(&it->r, &it->filetime) || ads_get_u32(&it->r, &it->samples_left))
            return false;
    }
    it->samples_left--;
    s->filetime = it->filetime;
    if (ads_get_u32(&it->r, &s->handle) || ads_get_u32(&it->r, &s->len) ||
        ads_get_bytes(&it->r, s->len, &s->data))
        return false;
    return true;
}

void ads_note_build_begin(ads_note_builder *b, ads_w *w)
{
    memset(b, 0, sizeof(*b));
    b->w = w;
    b->start = w->len;
    ads_put_u32(w, 0);
    ads_put_u32(w, 0);
}

void ads_note_build_stamp(ads_note_builder *b, uint64_t filetime)
{
    ads_put_u64(b->w, filetime);
    b->stamp_at = b->w->len;
    ads_put_u32(b->w, 0);
    b->stamps++;
    b->samples = 0;
    b->in_stamp = true;
    patch_u32(b->w, b->start + 4, b->stamps);
}

void ads_note_build_sample(ads_note_builder *b, uint32_t handle, const void *data, uint32_t len)
{
    if (!b->in_stamp) {
        b->w->err = true;
        return;
    }
    ads_put_u32(b->w, handle);
    ads_put_u32(b->w, len);
    ads_put_bytes(b->w, data, len);
    patch_u32(b->w, b->stamp_at, ++b->samples);
}

gw_err ads_note_build_end(ads_note_builder *b)
{
    ads_w *w = b->w;
    if (!w->err && w->len - b->start - 4 > UINT32_MAX)
        w->err = true;
    patch_u32(w, b->start, (uint32_t)(w->len - b->start - 4));
    return ads_w_finish(w, NULL);
}

#define FT_UNIX_EPOCH 116444736000000000ull /* 1970-01-01 in 100 ns since 1601 */

uint64_t ads_filetime_from_unix_ms(int64_t ms)
{
    return (uint64_t)((int64_t)FT_UNIX_EPOCH + ms * 10000);
}

int64_t ads_filetime_to_unix_ms(uint64_t ft)
{
    return ((int64_t)(ft / 10000)) - (int64_t)(FT_UNIX_EPOCH / 10000);
}

/* ------------------------------------------------------------ sum commands */

static size_t sum_list_entry(uint32_t kind)
{
    return kind == ADS_IG_SUM_READWRITE ? 16 : 12;
}

void ads_sum_sizes(uint32_t kind, const ads_sum_item *it, size_t n, size_t *req_bytes,
                   size_t *rsp_bytes)
{
    size_t wr = n * sum_list_entry(kind), rd = 0;
    for (size_t i = 0; i < n; i++) {
        if (kind != ADS_IG_SUM_READ)
            wr += it[i].write_len;
        if (kind != ADS_IG_SUM_WRITE)
            rd += it[i].read_len;
    }
    rd += n * (kind == ADS_IG_SUM_READWRITE ? 8 : 4);
    if (req_bytes)
        *req_bytes = 16 + wr;
    if (rsp_bytes)
        *rsp_bytes = 8 + rd;
}

size_t ads_sum_fit(uint32_t kind, const ads_sum_item *it, size_t n, size_t max_bytes)
{
    size_t req = 16, rsp = 8, k = 0;
    for (; k < n; k++) {
        req += sum_list_entry(kind) + (kind != ADS_IG_SUM_READ ? it[k].write_len : 0);
        rsp += (kind == ADS_IG_SUM_READWRITE ? 8 : 4) +
               (kind != ADS_IG_SUM_WRITE ? it[k].read_len : 0);
        if (req > max_bytes || rsp > max_bytes)
            break;
    }
    return k;
}

void ads_sum_req_put(ads_w *w, uint32_t kind, const ads_sum_item *it, size_t n)
{
    size_t req, rsp;
    ads_sum_sizes(kind, it, n, &req, &rsp);
    if (n > UINT32_MAX || req - 16 > UINT32_MAX || rsp - 8 > UINT32_MAX) {
        w->err = true;
        return;
    }
    ads_put_u32(w, kind);
    ads_put_u32(w, (uint32_t)n);
    ads_put_u32(w, (uint32_t)(rsp - 8));
    ads_put_u32(w, (uint32_t)(req - 16));
    for (size_t i = 0; i < n; i++) {
        ads_put_u32(w, it[i].ig);
        ads_put_u32(w, it[i].io);
        if (kind == ADS_IG_SUM_READWRITE) {
            ads_put_u32(w, it[i].read_len);
            ads_put_u32(w, it[i].write_len);
        } else {
            ads_put_u32(w, kind == ADS_IG_SUM_READ ? it[i].read_len : it[i].write_len);
        }
    }
    if (kind != ADS_IG_SUM_READ)
        for (size_t i = 0; i < n; i++)
            ads_put_bytes(w, it[i].data, it[i].write_len);
}

static gw_err sum_list_item(ads_r *r, uint32_t kind, ads_sum_item *item)
{
    memset(item, 0, sizeof(*item));
    CK(ads_get_u32(r, &item->ig));
    CK(ads_get_u32(r, &item->io));
    if (kind == ADS_IG_SUM_READWRITE) {
        CK(ads_get_u32(r, &item->read_len));
        return ads_get_u32(r, &item->write_len);
    }
    return ads_get_u32(r, kind == ADS_IG_SUM_READ ? &item->read_len : &item->write_len);
}

static bool sum_kind_ok(uint32_t kind)
{
    return kind == ADS_IG_SUM_READ || kind == ADS_IG_SUM_WRITE || kind == ADS_IG_SUM_READWRITE;
}

gw_err ads_sum_req_begin(const ads_rw_req *q, ads_sum_req_iter *it)
{
    memset(it, 0, sizeof(*it));
    if (!sum_kind_ok(q->ig))
        return GW_E_INVAL;
    const uint8_t *qd = q->data ? q->data : (const uint8_t *)"";
    size_t ent = sum_list_entry(q->ig);
    if (q->io > q->write_len / ent)
        return GW_E_PROTOCOL;
    ads_r r;
    ads_r_init(&r, qd, (size_t)q->io * ent);
    uint64_t wsum = 0, rsum = 0;
    for (uint32_t i = 0; i < q->io; i++) {
        ads_sum_item item;
        CK(sum_list_item(&r, q->ig, &item));
        wsum += item.write_len;
        rsum += item.read_len;
    }
    rsum += (uint64_t)q->io * (q->ig == ADS_IG_SUM_READWRITE ? 8 : 4);
    if ((uint64_t)q->io * ent + wsum != q->write_len || rsum > q->read_len)
        return GW_E_PROTOCOL;
    it->kind = q->ig;
    it->n = q->io;
    ads_r_init(&it->list, qd, (size_t)q->io * ent);
    ads_r_init(&it->data, qd + (size_t)q->io * ent, q->write_len - (size_t)q->io * ent);
    return GW_OK;
}

bool ads_sum_req_next(ads_sum_req_iter *it, ads_sum_item *item)
{
    if (it->i >= it->n || sum_list_item(&it->list, it->kind, item))
        return false;
    it->i++;
    if (item->write_len && ads_get_bytes(&it->data, item->write_len, &item->data))
        return false;
    return true;
}

void ads_sum_rsp_put(ads_w *w, uint32_t kind, const ads_sum_result *res, size_t n)
{
    size_t at;
    ads_put_u32(w, 0);
    at = w->len;
    ads_put_u32(w, 0);
    for (size_t i = 0; i < n; i++) {
        ads_put_u32(w, res[i].error);
        if (kind == ADS_IG_SUM_READWRITE)
            ads_put_u32(w, res[i].len);
    }
    if (kind != ADS_IG_SUM_WRITE)
        for (size_t i = 0; i < n; i++)
            ads_put_bytes(w, res[i].data, res[i].len);
    if (!w->err && w->len - at - 4 > UINT32_MAX)
        w->err = true;
    patch_u32(w, at, (uint32_t)(w->len - at - 4));
}

gw_err ads_sum_rsp_begin(uint32_t kind, const ads_sum_item *items, size_t n,
                         const uint8_t *p, size_t len, ads_sum_rsp_iter *it)
{
    memset(it, 0, sizeof(*it));
    if (!sum_kind_ok(kind))
        return GW_E_INVAL;
    if (!p)
        p = (const uint8_t *)"";
    size_t ent = kind == ADS_IG_SUM_READWRITE ? 8 : 4;
    if (n > len / ent)
        return GW_E_PROTOCOL;
    uint64_t want = 0;
    if (kind == ADS_IG_SUM_READWRITE) {
        ads_r r;
        ads_r_init(&r, p, n * ent);
        for (size_t i = 0; i < n; i++) {
            uint32_t e, l;
            CK(ads_get_u32(&r, &e));
            CK(ads_get_u32(&r, &l));
            if (l > items[i].read_len)
                return GW_E_PROTOCOL;
            want += l;
        }
    } else if (kind == ADS_IG_SUM_READ) {
        for (size_t i = 0; i < n; i++)
            want += items[i].read_len;
    }
    if (n * ent + want != len)
        return GW_E_PROTOCOL;
    it->kind = kind;
    it->n = (uint32_t)n;
    it->items = items;
    ads_r_init(&it->errs, p, n * ent);
    ads_r_init(&it->data, p + n * ent, len - n * ent);
    return GW_OK;
}

bool ads_sum_rsp_next(ads_sum_rsp_iter *it, ads_sum_result *res)
{
    if (it->i >= it->n)
        return false;
    memset(res, 0, sizeof(*res));
    if (ads_get_u32(&it->errs, &res->error))
        return false;
    if (it->kind == ADS_IG_SUM_READWRITE) {
        if (ads_get_u32(&it->errs, &res->len))
            return false;
    } else if (it->kind == ADS_IG_SUM_READ) {
        res->len = it->items[it->i].read_len;
    }
    if (res->len && ads_get_bytes(&it->data, res->len, &res->data))
        return false;
    it->i++;
    return true;
}

/* ------------------------------------------------------------ symbols */

static gw_err attrs_get(ads_r *r, uint16_t *count, const uint8_t **p, size_t *len)
{
    CK(ads_get_u16(r, count));
    size_t at = r->pos;
    for (uint16_t i = 0; i < *count; i++) {
        uint8_t nl, vl;
        ads_str s;
        CK(ads_get_u8(r, &nl));
        CK(ads_get_u8(r, &vl));
        CK(get_str(r, nl, &s));
        CK(get_str(r, vl, &s));
    }
    *p = r->p + at;
    *len = r->pos - at;
    return GW_OK;
}

bool ads_attr_next(const uint8_t **p, size_t *left, ads_str *name, ads_str *value)
{
    ads_r r;
    uint8_t nl, vl;
    ads_r_init(&r, *p, *left);
    if (ads_get_u8(&r, &nl) || ads_get_u8(&r, &vl) || get_str(&r, nl, name) ||
        get_str(&r, vl, value))
        return false;
    *p += r.pos;
    *left -= r.pos;
    return true;
}

void ads_array_info(const uint8_t *array_info, size_t i, int32_t *start, uint32_t *len)
{
    *start = (int32_t)(uint32_t)le(array_info + 8 * i, 4);
    *len = (uint32_t)le(array_info + 8 * i + 4, 4);
}

/* The entry's bytes: entry_len read and checked against n and min. */
static gw_err entry_open(const uint8_t *p, size_t n, size_t min, ads_r *r, uint32_t *entry_len)
{
    ads_r_init(r, p, n);
    CK(ads_get_u32(r, entry_len));
    if (*entry_len < min || *entry_len > n)
        return GW_E_PROTOCOL;
    r->len = *entry_len;
    return GW_OK;
}

gw_err ads_symbol_get(const uint8_t *p, size_t n, ads_symbol *s, size_t *used)
{
    ads_r r;
    uint16_t nl, tl, cl;
    memset(s, 0, sizeof(*s));
    CK(entry_open(p, n, ADS_SYM_HDR, &r, &s->entry_len));
    CK(ads_get_u32(&r, &s->ig));
    CK(ads_get_u32(&r, &s->io));
    CK(ads_get_u32(&r, &s->size));
    CK(ads_get_u32(&r, &s->data_type));
    CK(ads_get_u16(&r, &s->flags));
    CK(ads_get_u16(&r, &s->array_dim));
    CK(ads_get_u16(&r, &nl));
    CK(ads_get_u16(&r, &tl));
    CK(ads_get_u16(&r, &cl));
    CK(get_str(&r, nl, &s->name));
    CK(get_str(&r, tl, &s->type));
    CK(get_str(&r, cl, &s->comment));
    CK(ads_get_bytes(&r, (size_t)s->array_dim * 8, &s->array_info));
    if (s->flags & ADS_SYMF_TYPEGUID)
        CK(ads_get_bytes(&r, 16, &s->guid));
    if (s->flags & ADS_SYMF_ATTRIBUTES)
        CK(attrs_get(&r, &s->attr_count, &s->attrs, &s->attrs_len));
    if (s->flags & ADS_SYMF_EXTENDEDFLAGS)
        CK(ads_get_u32(&r, &s->ext_flags));
    if (used)
        *used = s->entry_len;
    return GW_OK;
}

void ads_symbol_put(ads_w *w, const ads_symbol *s)
{
    size_t start = w->len;
    ads_put_u32(w, 0);
    ads_put_u32(w, s->ig);
    ads_put_u32(w, s->io);
    ads_put_u32(w, s->size);
    ads_put_u32(w, s->data_type);
    ads_put_u16(w, s->flags);
    ads_put_u16(w, s->array_dim);
    ads_put_u16(w, (uint16_t)s->name.len);
    ads_put_u16(w, (uint16_t)s->type.len);
    ads_put_u16(w, (uint16_t)s->comment.len);
    const ads_str *strs[3] = {&s->name, &s->type, &s->comment};
    for (int i = 0; i < 3; i++) {
        if (strs[i]->len > UINT16_MAX)
            w->err = true;
        ads_put_bytes(w, strs[i]->p, strs[i]->len);
        ads_put_u8(w, 0);
    }
    ads_put_bytes(w, s->array_info, (size_t)s->array_dim * 8);
    if (s->flags & ADS_SYMF_TYPEGUID)
        ads_put_bytes(w, s->guid, 16);
    if (s->flags & ADS_SYMF_ATTRIBUTES) {
        ads_put_u16(w, s->attr_count);
        ads_put_bytes(w, s->attrs, s->attrs_len);
    }
    if (s->flags & ADS_SYMF_EXTENDEDFLAGS)
        ads_put_u32(w, s->ext_flags);
    if (!w->err && w->len - start < s->entry_len)
        ads_put_bytes(w, NULL, s->entry_len - (w->len - start));
    if (!w->err && w->len - start > UINT32_MAX)
        w->err = true;
    patch_u32(w, start, (uint32_t)(w->len - start));
}

void ads_symbol_iter_init(ads_symbol_iter *it, const uint8_t *p, size_t n)
{
    ads_r_init(&it->r, p, n);
}

gw_err ads_symbol_iter_next(ads_symbol_iter *it, ads_symbol *s, bool *is_done)
{
    size_t used;
    *is_done = !ads_r_left(&it->r);
    if (*is_done)
        return GW_OK;
    CK(ads_symbol_get(it->r.p + it->r.pos, ads_r_left(&it->r), s, &used));
    it->r.pos += used;
    return GW_OK;
}

gw_err ads_dtype_get(const uint8_t *p, size_t n, ads_dtype *d, size_t *used)
{
    ads_r r;
    uint16_t nl, tl, cl;
    memset(d, 0, sizeof(*d));
    CK(entry_open(p, n, ADS_DT_HDR, &r, &d->entry_len));
    CK(ads_get_u32(&r, &d->version));
    CK(ads_get_u32(&r, &d->hash));
    CK(ads_get_u32(&r, &d->type_hash));
    CK(ads_get_u32(&r, &d->size));
    CK(ads_get_u32(&r, &d->offset));
    CK(ads_get_u32(&r, &d->data_type));
    CK(ads_get_u32(&r, &d->flags));
    CK(ads_get_u16(&r, &nl));
    CK(ads_get_u16(&r, &tl));
    CK(ads_get_u16(&r, &cl));
    CK(ads_get_u16(&r, &d->array_dim));
    CK(ads_get_u16(&r, &d->sub_count));
    CK(get_str(&r, nl, &d->name));
    CK(get_str(&r, tl, &d->type));
    CK(get_str(&r, cl, &d->comment));
    CK(ads_get_bytes(&r, (size_t)d->array_dim * 8, &d->array_info));
    /* sub-items: each a whole entry, checked for its length only here */
    size_t at = r.pos;
    for (uint16_t i = 0; i < d->sub_count; i++) {
        uint32_t el;
        const uint8_t *x;
        size_t pos = r.pos;
        CK(ads_get_u32(&r, &el));
        if (el < ADS_DT_HDR)
            return GW_E_PROTOCOL;
        r.pos = pos;
        CK(ads_get_bytes(&r, el, &x));
    }
    d->subs = r.p + at;
    d->subs_len = r.pos - at;
    if (d->flags & ADS_DTF_TYPEGUID)
        CK(ads_get_bytes(&r, 16, &d->guid));
    if (d->flags & ADS_DTF_COPYMASK) {
        const uint8_t *x;
        CK(ads_get_bytes(&r, d->size, &x));
    }
    if (d->flags & ADS_DTF_METHODINFOS) {
        uint16_t cnt;
        CK(ads_get_u16(&r, &cnt));
        for (uint16_t i = 0; i < cnt; i++) {
            uint32_t el;
            const uint8_t *x;
            size_t pos = r.pos;
            CK(ads_get_u32(&r, &el));
            if (el < 4)
                return GW_E_PROTOCOL;
            r.pos = pos;
            CK(ads_get_bytes(&r, el, &x));
        }
    }
    if (d->flags & ADS_DTF_ATTRIBUTES)
        CK(attrs_get(&r, &d->attr_count, &d->attrs, &d->attrs_len));
    if (d->flags & ADS_DTF_ENUMINFOS) {
        CK(ads_get_u16(&r, &d->enum_count));
        size_t eat = r.pos;
        for (uint16_t i = 0; i < d->enum_count; i++) {
            uint8_t l;
            ads_str s;
            const uint8_t *x;
            CK(ads_get_u8(&r, &l));
            CK(get_str(&r, l, &s));
            CK(ads_get_bytes(&r, d->size, &x));
        }
        d->enums = r.p + eat;
        d->enums_len = r.pos - eat;
    }
    /* RefactorInfo's layout is undocumented: stop modelling there. */
    if ((d->flags & ADS_DTF_EXTENDEDFLAGS) && !(d->flags & ADS_DTF_REFACTORINFO))
        CK(ads_get_u32(&r, &d->ext_flags));
    if (used)
        *used = d->entry_len;
    return GW_OK;
}

void ads_dtype_iter_init(ads_dtype_iter *it, const uint8_t *p, size_t n)
{
    ads_r_init(&it->r, p, n);
}

gw_err ads_dtype_iter_next(ads_dtype_iter *it, ads_dtype *d, bool *is_done)
{
    size_t used;
    *is_done = !ads_r_left(&it->r);
    if (*is_done)
        return GW_OK;
    CK(ads_dtype_get(it->r.p + it->r.pos, ads_r_left(&it->r), d, &used));
    it->r.pos += used;
    return GW_OK;
}

bool ads_enum_next(const ads_dtype *d, const uint8_t **p, size_t *left, ads_str *name,
                   const uint8_t **value)
{
    ads_r r;
    uint8_t l;
    ads_r_init(&r, *p, *left);
    if (ads_get_u8(&r, &l) || get_str(&r, l, name) || ads_get_bytes(&r, d->size, value))
        return false;
    *p += r.pos;
    *left -= r.pos;
    return true;
}

gw_err ads_upload_info_get(const uint8_t *p, size_t n, ads_upload_info *u)
{
    ads_r r;
    memset(u, 0, sizeof(*u));
    if (n != 8 && n < 24)
        return GW_E_PROTOCOL;
    ads_r_init(&r, p, n);
    CK(ads_get_u32(&r, &u->symbols));
    CK(ads_get_u32(&r, &u->symbol_bytes));
    if (n == 8)
        return GW_OK;
    CK(ads_get_u32(&r, &u->dtypes));
    CK(ads_get_u32(&r, &u->dtype_bytes));
    CK(ads_get_u32(&r, &u->extra_count));
    return ads_get_u32(&r, &u->extra_bytes);
}

void ads_upload_info_put(ads_w *w, const ads_upload_info *u)
{
    ads_put_u32(w, u->symbols);
    ads_put_u32(w, u->symbol_bytes);
    ads_put_u32(w, u->dtypes);
    ads_put_u32(w, u->dtype_bytes);
    ads_put_u32(w, u->extra_count);
    ads_put_u32(w, u->extra_bytes);
}

void ads_handle_req_put(ads_w *w, const char *name, size_t name_len)
{
    if (name_len > UINT32_MAX) {
        w->err = true;
        return;
    }
    ads_rw_req q = {ADS_IG_SYM_HND_BYNAME, 0, 4, (uint32_t)name_len, (const uint8_t *)name};
    ads_rw_req_put(w, &q);
}

gw_err ads_symname_get(const ads_rw_req *q, ads_str *name)
{
    size_t n = q->write_len;
    if (n && q->data[n - 1] == 0)
        n--;
    if (!n || memchr(q->data, 0, n))
        return GW_E_PROTOCOL;
    name->p = (const char *)q->data;
    name->len = n;
    return GW_OK;
}

gw_err ads_handle_rsp_get(const ads_data_rsp *s, uint32_t *handle)
{
    if (s->result)
        return GW_E_DEVICE_REJECTED;
    return ads_u32_get(s->data, s->len, handle);
}

/* ------------------------------------------------------------ errors, names */

typedef struct {
    uint32_t code;
    gw_err gw;
    const char *name, *text;
} err_def;

#define NF GW_E_NOT_FOUND
#define AC GW_E_ACCESS
#define TY GW_E_TYPE
#define TO GW_E_TIMEOUT
#define BU GW_E_BUSY
#define PR GW_E_PROTOCOL
#define DR GW_E_DEVICE_REJECTED
#define UN GW_E_UNSUPPORTED
#define CL GW_E_CONN_LOST
#define RG GW_E_RANGE

static const err_def ERRS[] = {
    {0x000, GW_OK, "ERR_NOERROR", "no error"},
    {0x001, DR, "ERR_INTERNAL", "internal error"},
    {0x002, DR, "ERR_NORTIME", "no real-time"},
    {0x003, DR, "ERR_ALLOCLOCKEDMEM", "allocation locked memory error"},
    {0x004, BU, "ERR_INSERTMAILBOX", "mailbox full, message could not be sent"},
    {0x005, PR, "ERR_WRONGRECEIVEHMSG", "wrong HMSG"},
    {0x006, NF, "ERR_TARGETPORTNOTFOUND", "target port not found (ADS server not started?)"},
    {0x007, NF, "ERR_TARGETMACHINENOTFOUND", "target machine not found (missing ADS route?)"},
    {0x008, UN, "ERR_UNKNOWNCMDID", "unknown command id"},
    {0x009, DR, "ERR_BADTASKID", "invalid task id"},
    {0x00A, DR, "ERR_NOIO", "no IO"},
    {0x00B, UN, "ERR_UNKNOWNAMSCMD", "unknown AMS command"},
    {0x00C, DR, "ERR_WIN32ERROR", "Win32 error"},
    {0x00D, CL, "ERR_PORTNOTCONNECTED", "port not connected"},
    {0x00E, PR, "ERR_INVALIDAMSLENGTH", "invalid AMS length"},
    {0x00F, PR, "ERR_INVALIDAMSNETID", "invalid AMS Net ID"},
    {0x010, DR, "ERR_LOWINSTLEVEL", "installation level too low"},
    {0x011, UN, "ERR_NODEBUGINTAVAILABLE", "no debugging available"},
    {0x012, DR, "ERR_PORTDISABLED", "port disabled"},
    {0x013, BU, "ERR_PORTALREADYCONNECTED", "port already connected"},
    {0x014, DR, "ERR_AMSSYNC_W32ERROR", "AMS sync Win32 error"},
    {0x015, TO, "ERR_AMSSYNC_TIMEOUT", "AMS sync timeout"},
    {0x016, DR, "ERR_AMSSYNC_AMSERROR", "AMS sync error"},
    {0x017, DR, "ERR_AMSSYNC_NOINDEXINMAP", "no index map for AMS sync"},
    {0x018, PR, "ERR_INVALIDAMSPORT", "invalid AMS port"},
    {0x019, DR, "ERR_NOMEMORY", "no memory"},
    {0x01A, CL, "ERR_TCPSEND", "TCP send error"},
    {0x01B, CL, "ERR_HOSTUNREACHABLE", "host unreachable"},
    {0x01C, PR, "ERR_INVALIDAMSFRAGMENT", "invalid AMS fragment"},
    {0x01D, CL, "ERR_TLSSEND", "TLS send error"},
    {0x01E, AC, "ERR_ACCESSDENIED", "access denied"},
    {0x700, DR, "ADSERR_DEVICE_ERROR", "general device error"},
    {0x701, UN, "ADSERR_DEVICE_SRVNOTSUPP", "service not supported by server"},
    {0x702, NF, "ADSERR_DEVICE_INVALIDGRP", "invalid index group"},
    {0x703, NF, "ADSERR_DEVICE_INVALIDOFFSET", "invalid index offset"},
    {0x704, AC, "ADSERR_DEVICE_INVALIDACCESS", "reading/writing not permitted"},
    {0x705, TY, "ADSERR_DEVICE_INVALIDSIZE", "parameter size not correct"},
    {0x706, DR, "ADSERR_DEVICE_INVALIDDATA", "invalid parameter value(s)"},
    {0x707, BU, "ADSERR_DEVICE_NOTREADY", "device not in a ready state"},
    {0x708, BU, "ADSERR_DEVICE_BUSY", "device busy"},
    {0x709, DR, "ADSERR_DEVICE_INVALIDCONTEXT", "invalid context (must be in Windows)"},
    {0x70A, DR, "ADSERR_DEVICE_NOMEMORY", "out of memory"},
    {0x70B, DR, "ADSERR_DEVICE_INVALIDPARM", "invalid parameter value(s)"},
    {0x70C, NF, "ADSERR_DEVICE_NOTFOUND", "not found (files, ...)"},
    {0x70D, DR, "ADSERR_DEVICE_SYNTAX", "syntax error in command or file"},
    {0x70E, TY, "ADSERR_DEVICE_INCOMPATIBLE", "objects do not match"},
    {0x70F, DR, "ADSERR_DEVICE_EXISTS", "object already exists"},
    {0x710, NF, "ADSERR_DEVICE_SYMBOLNOTFOUND", "symbol not found"},
    {0x711, NF, "ADSERR_DEVICE_SYMBOLVERSIONINVALID", "symbol version invalid (online change?)"},
    {0x712, DR, "ADSERR_DEVICE_INVALIDSTATE", "server in invalid state"},
    {0x713, UN, "ADSERR_DEVICE_TRANSMODENOTSUPP", "AdsTransMode not supported"},
    {0x714, NF, "ADSERR_DEVICE_NOTIFYHNDINVALID", "notification handle invalid"},
    {0x715, NF, "ADSERR_DEVICE_CLIENTUNKNOWN", "notification client not registered"},
    {0x716, BU, "ADSERR_DEVICE_NOMOREHDLS", "no more handles"},
    {0x717, TY, "ADSERR_DEVICE_INVALIDWATCHSIZE", "size for watch too big"},
    {0x718, BU, "ADSERR_DEVICE_NOTINIT", "device not initialized"},
    {0x719, TO, "ADSERR_DEVICE_TIMEOUT", "device has a timeout"},
    {0x71A, UN, "ADSERR_DEVICE_NOINTERFACE", "interface query failed"},
    {0x71B, UN, "ADSERR_DEVICE_INVALIDINTERFACE", "wrong interface requested"},
    {0x71C, DR, "ADSERR_DEVICE_INVALIDCLSID", "class id invalid"},
    {0x71D, NF, "ADSERR_DEVICE_INVALIDOBJID", "object id invalid"},
    {0x71E, BU, "ADSERR_DEVICE_PENDING", "request pending"},
    {0x71F, DR, "ADSERR_DEVICE_ABORTED", "request aborted"},
    {0x720, DR, "ADSERR_DEVICE_WARNING", "signal warning"},
    {0x721, RG, "ADSERR_DEVICE_INVALIDARRAYIDX", "invalid array index"},
    {0x722, NF, "ADSERR_DEVICE_SYMBOLNOTACTIVE", "symbol not active (online change?)"},
    {0x723, AC, "ADSERR_DEVICE_ACCESSDENIED", "access denied"},
    {0x724, AC, "ADSERR_DEVICE_LICENSENOTFOUND", "missing license"},
    {0x725, AC, "ADSERR_DEVICE_LICENSEEXPIRED", "license expired"},
    {0x726, AC, "ADSERR_DEVICE_LICENSEEXCEEDED", "license exceeded"},
    {0x727, AC, "ADSERR_DEVICE_LICENSEINVALID", "license invalid"},
    {0x728, AC, "ADSERR_DEVICE_LICENSESYSTEMID", "license invalid system id"},
    {0x729, AC, "ADSERR_DEVICE_LICENSENOTIMELIMIT", "license not time limited"},
    {0x72A, AC, "ADSERR_DEVICE_LICENSEFUTUREISSUE", "license issue time in the future"},
    {0x72B, AC, "ADSERR_DEVICE_LICENSETIMETOLONG", "license time period too long"},
    {0x72C, DR, "ADSERR_DEVICE_EXCEPTION", "exception in device specific code"},
    {0x72D, AC, "ADSERR_DEVICE_LICENSEDUPLICATED", "license file read twice"},
    {0x72E, AC, "ADSERR_DEVICE_SIGNATUREINVALID", "invalid signature"},
    {0x72F, AC, "ADSERR_DEVICE_CERTIFICATEINVALID", "invalid public key certificate"},
    {0x740, DR, "ADSERR_CLIENT_ERROR", "client error"},
    {0x741, DR, "ADSERR_CLIENT_INVALIDPARM", "invalid parameter at service call"},
    {0x742, DR, "ADSERR_CLIENT_LISTEMPTY", "polling list empty"},
    {0x743, BU, "ADSERR_CLIENT_VARUSED", "var connection already in use"},
    {0x744, BU, "ADSERR_CLIENT_DUPLINVOKEID", "invoke id in use"},
    {0x745, TO, "ADSERR_CLIENT_SYNCTIMEOUT", "timeout elapsed (check ADS routes and firewall)"},
    {0x746, DR, "ADSERR_CLIENT_W32ERROR", "error in Win32 subsystem"},
    {0x747, DR, "ADSERR_CLIENT_TIMEOUTINVALID", "invalid client timeout value"},
    {0x748, CL, "ADSERR_CLIENT_PORTNOTOPEN", "ADS port not opened"},
    {0x749, DR, "ADSERR_CLIENT_NOAMSADDR", "no AMS address"},
    {0x750, DR, "ADSERR_CLIENT_SYNCINTERNAL", "internal error in ADS sync"},
    {0x751, DR, "ADSERR_CLIENT_ADDHASH", "hash table overflow"},
    {0x752, NF, "ADSERR_CLIENT_REMOVEHASH", "key not found in hash table"},
    {0x753, NF, "ADSERR_CLIENT_NOMORESYM", "no more symbols in cache"},
    {0x754, PR, "ADSERR_CLIENT_SYNCRESINVALID", "invalid response received"},
    {0x755, BU, "ADSERR_CLIENT_SYNCPORTLOCKED", "sync port locked"},
};

static const err_def *err_find(uint32_t code)
{
    for (size_t i = 0; i < sizeof(ERRS) / sizeof(ERRS[0]); i++)
        if (ERRS[i].code == code)
            return &ERRS[i];
    return NULL;
}

const char *ads_err_name(uint32_t code)
{
    const err_def *e = err_find(code);
    return e ? e->name : "?";
}

const char *ads_err_text(uint32_t code)
{
    const err_def *e = err_find(code);
    return e ? e->text : "unknown ADS error";
}

gw_err ads_err_to_gw(uint32_t code)
{
    const err_def *e = err_find(code);
    return e ? e->gw : GW_E_DEVICE_REJECTED;
}

const char *ads_cmd_name(uint16_t cmd)
{
    static const char *const names[] = {
        "Invalid", "ReadDeviceInfo", "Read", "Write", "ReadState", "WriteControl",
        "AddDeviceNotification", "DeleteDeviceNotification", "DeviceNotification", "ReadWrite"};
    return cmd < sizeof(names) / sizeof(names[0]) ? names[cmd] : "?";
}

const char *ads_state_name(uint16_t state)
{
    static const char *const names[] = {
        "INVALID", "IDLE", "RESET", "INIT", "START", "RUN", "STOP", "SAVECFG", "LOADCFG",
        "POWERFAILURE", "POWERGOOD", "ERROR", "SHUTDOWN", "SUSPEND", "RESUME", "CONFIG",
        "RECONFIG", "STOPPING", "INCOMPATIBLE", "EXCEPTION"};
    return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}
