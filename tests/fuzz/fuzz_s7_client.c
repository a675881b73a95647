/*
 * fuzz_s7_client.c - the client's parsers of what a PLC sends: a TPKT
 * packet's COTP header, the S7 header, and then, by the header's type, a
 * read reply against a fixed read plan, a write reply's data, a setup
 * answer or an SZL answer. Byte 0 picks the plan's PDU size and request.
 */
#include "drivers/s7/s7_internal.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t sel = data[0];
    data++;
    size--;
    /* a plan of ranges that neither merge nor fit one small PDU */
    gw_s7_range ranges[24];
    memset(ranges, 0, sizeof(ranges));
    for (size_t i = 0; i < 24; i++) {
        ranges[i].area = i % 5 == 4 ? GW_S7_M : GW_S7_DB;
        ranges[i].db = (uint16_t)(1 + i % 3);
        ranges[i].start = (uint32_t)(i * 40);
        ranges[i].len = (uint32_t)(1 + (i * 7) % 30);
    }
    gw_s7_plan_opts po = {(sel & 1) ? 960 : 240, 20, 16};
    gw_s7_plan *plan;
    if (gw_s7_plan_new(ranges, 24, &po, &plan) != GW_OK)
        __builtin_trap();

    /* the whole input as one TPKT packet, and its DT payload as an S7 PDU */
    s7_cotp cotp;
    if (size >= S7_TPKT_HDR)
        (void)s7_cotp_decode(data, size, &cotp);
    s7_header h;
    if (s7_header_decode(data, size, &h) == GW_OK) {
        uint8_t scratch[4096];
        uint8_t item_rc[256];
        char why[128];
        size_t r = (size_t)(sel >> 1) % gw_s7_plan_requests(plan);
        if (plan->buf_len <= sizeof(scratch))
            (void)s7__parse_read_reply(plan, r, &h, scratch, item_rc, why, sizeof(why));
        s7_setup st;
        (void)s7_setup_decode_param(h.param, h.param_len, &st);
        s7_userdata_param up;
        (void)s7_decode_userdata_param(h.param, h.param_len, &up);
        s7_data d[255];
        (void)s7_decode_data(h.data, h.data_len, (size_t)(sel % 20) + 1, d);
        s7_item items[255];
        size_t n;
        (void)s7_decode_items(h.param, h.param_len, items, 255, &n);
        /* a Write Var reply for 1..255 items: what it accepts stays inside */
        uint8_t codes[255];
        size_t ncodes, nitems = (size_t)(sel % 255) + 1;
        if (s7__parse_write_reply(&h, nitems, codes, &ncodes, why, sizeof(why)) == GW_OK &&
            (ncodes == 0 || ncodes > nitems || ncodes > h.data_len))
            __builtin_trap();
    }
    gw_s7_plan_free(plan);
    return 0;
}
