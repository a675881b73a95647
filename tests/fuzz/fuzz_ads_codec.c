/*
 * fuzz_ads_codec.c - the ADS/AMS codec (ads_codec.h): arbitrary bytes
 * through the framer, the packet and AMS header decoders and every
 * command, notification, sum and symbol decoder, both directions. No
 * crash, no read past the end; what decodes re-encodes byte for byte
 * where the encoding is canonical.
 */
#include "drivers/ads/ads_codec.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[1 << 16];

static void walk_payload(uint16_t cmd, bool rsp, const uint8_t *p, size_t n)
{
    ads_w w;
    ads_w_init(&w, out, sizeof(out));
    uint32_t v;
    if (!rsp) {
        ads_read_req rq;
        ads_write_req wq;
        ads_rw_req q;
        ads_wrctl_req cq;
        ads_addnote_req aq;
        switch (cmd) {
        case ADS_CMD_READ:
            if (ads_read_req_get(p, n, &rq) == GW_OK) {
                ads_read_req_put(&w, &rq);
                if (w.len != n || memcmp(out, p, n))
                    __builtin_trap();
            }
            break;
        case ADS_CMD_WRITE:
            if (ads_write_req_get(p, n, &wq) == GW_OK) {
                ads_write_req_put(&w, &wq);
                if (w.len != n || memcmp(out, p, n))
                    __builtin_trap();
            }
            break;
        case ADS_CMD_READ_WRITE:
            if (ads_rw_req_get(p, n, &q) == GW_OK) {
                ads_sum_req_iter it;
                ads_sum_item item;
                ads_str name;
                if (ads_sum_req_begin(&q, &it) == GW_OK)
                    while (ads_sum_req_next(&it, &item))
                        ;
                (void)ads_symname_get(&q, &name);
            }
            break;
        case ADS_CMD_WRITE_CONTROL:
            (void)ads_wrctl_req_get(p, n, &cq);
            break;
        case ADS_CMD_ADD_NOTIFICATION:
            (void)ads_addnote_req_get(p, n, &aq);
            break;
        case ADS_CMD_DEL_NOTIFICATION:
            (void)ads_u32_get(p, n, &v);
            break;
        default:
            (void)ads_empty_get(p, n);
        }
        return;
    }
    ads_devinfo_rsp di;
    ads_data_rsp d;
    ads_state_rsp st;
    ads_addnote_rsp an;
    ads_note_iter ni;
    ads_note_sample s;
    switch (cmd) {
    case ADS_CMD_READ_DEVICE_INFO:
        (void)ads_devinfo_rsp_get(p, n, &di);
        break;
    case ADS_CMD_READ:
    case ADS_CMD_READ_WRITE:
        if (ads_data_rsp_get(p, n, &d) == GW_OK) {
            uint32_t h;
            (void)ads_handle_rsp_get(&d, &h);
        }
        break;
    case ADS_CMD_READ_STATE:
        (void)ads_state_rsp_get(p, n, &st);
        break;
    case ADS_CMD_ADD_NOTIFICATION:
        (void)ads_addnote_rsp_get(p, n, &an);
        break;
    case ADS_CMD_NOTIFICATION:
        if (ads_note_begin(p, n, &ni) == GW_OK) {
            uint32_t cnt = 0;
            while (ads_note_next(&ni, &s))
                cnt++;
            if (cnt != ni.samples)
                __builtin_trap();
        }
        break;
    default:
        (void)ads_u32_get(p, n, &v);
    }
}

static void walk_symbols(const uint8_t *p, size_t n)
{
    ads_symbol_iter si;
    ads_symbol sym;
    bool fin = false;
    ads_symbol_iter_init(&si, p, n);
    while (ads_symbol_iter_next(&si, &sym, &fin) == GW_OK && !fin) {
        const uint8_t *a = sym.attrs;
        size_t left = sym.attrs_len;
        ads_str an, av;
        for (uint16_t i = 0; i < sym.attr_count; i++)
            if (!ads_attr_next(&a, &left, &an, &av))
                __builtin_trap();
        for (size_t i = 0; i < sym.array_dim; i++) {
            int32_t st;
            uint32_t len;
            ads_array_info(sym.array_info, i, &st, &len);
        }
    }
    ads_dtype_iter di;
    ads_dtype dt;
    ads_dtype_iter_init(&di, p, n);
    while (ads_dtype_iter_next(&di, &dt, &fin) == GW_OK && !fin) {
        ads_dtype_iter sub;
        ads_dtype sd;
        bool sfin = false;
        ads_dtype_iter_init(&sub, dt.subs, dt.subs_len);
        while (ads_dtype_iter_next(&sub, &sd, &sfin) == GW_OK && !sfin)
            ;
        const uint8_t *e = dt.enums, *val;
        size_t left = dt.enums_len;
        ads_str en;
        for (uint16_t i = 0; i < dt.enum_count; i++)
            if (!ads_enum_next(&dt, &e, &left, &en, &val))
                __builtin_trap();
    }
    ads_upload_info ui;
    (void)ads_upload_info_get(p, n, &ui);
}

static void walk_sum(const uint8_t *p, size_t n)
{
    /* items from the first bytes, response from the rest */
    ads_sum_item items[8];
    size_t k = 0;
    while (k < 8 && n >= 1 + 8) {
        memset(&items[k], 0, sizeof(items[k]));
        items[k].read_len = p[0] % 16;
        items[k].write_len = p[1] % 16;
        p += 2;
        n -= 2;
        k++;
        if (p[0] & 1)
            break;
    }
    static const uint32_t kinds[3] = {ADS_IG_SUM_READ, ADS_IG_SUM_WRITE, ADS_IG_SUM_READWRITE};
    for (int i = 0; i < 3; i++) {
        ads_sum_rsp_iter it;
        ads_sum_result r;
        if (ads_sum_rsp_begin(kinds[i], items, k, p, n, &it) == GW_OK)
            while (ads_sum_rsp_next(&it, &r))
                ;
        (void)ads_sum_fit(kinds[i], items, k, n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pkt = 0;
    gw_err e = ads_frame_next(data, size, 1 << 20, &pkt);
    if (e == GW_OK && pkt) {
        ads_packet pk;
        if (ads_packet_get(data, pkt, &pk) == GW_OK && pk.tcp_cmd == ADS_TCP_AMS_CMD) {
            walk_payload(pk.hdr.cmd, ads_ams_is_response(&pk.hdr), pk.data, pk.data_len);
            ads_w w;
            ads_w_init(&w, out, sizeof(out));
            size_t st = ads_packet_begin(&w, &pk.hdr);
            ads_put_bytes(&w, pk.data, pk.data_len);
            size_t len;
            if (ads_packet_end(&w, st) == GW_OK &&
                (ads_w_finish(&w, &len) != GW_OK || len != pkt || memcmp(out, data, pkt)))
                __builtin_trap();
        }
    }
    /* the raw bytes as every payload, both directions */
    for (uint16_t cmd = 0; cmd <= 9; cmd++) {
        walk_payload(cmd, false, data, size);
        walk_payload(cmd, true, data, size);
    }
    walk_symbols(data, size);
    walk_sum(data, size);
    ads_netid id;
    char s[64], f[ADS_NETID_STR];
    size_t l = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
    memcpy(s, data, l);
    s[l] = '\0';
    if (ads_netid_parse(s, &id) == GW_OK) {
        ads_netid id2;
        if (ads_netid_parse(ads_netid_format(&id, f), &id2) != GW_OK || memcmp(&id, &id2, 6))
            __builtin_trap();
    }
    return 0;
}
