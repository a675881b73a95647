/*
 * fuzz_tagmap.c - a whole tag map from untrusted bytes. The input is a map
 * and, after a NUL byte, raw PLC data: every tag of a map that loads is
 * decoded from that data and turned into output records.
 */
#include "tags/tags.h"

#include <jansson.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t map_len = nul ? (size_t)(nul - data) : size;
    const uint8_t *raw = nul ? nul + 1 : data;
    size_t raw_len = nul ? size - map_len - 1 : 0;
    gw_diag d;
    gw_tagmap *m;
    if (gw_tagmap_load_buf("fuzz", (const char *)data, map_len, &m, &d) != GW_OK) {
        if (d.count == 0)
            __builtin_trap();
        return 0;
    }
    uint16_t regs[130] = {0};
    uint8_t bytes[260] = {0};
    for (size_t i = 0; i < raw_len && i < sizeof(bytes); i++)
        bytes[i] = raw[i];
    for (size_t i = 0; i < 130; i++)
        regs[i] = (uint16_t)(bytes[(2 * i) % 260] << 8 | bytes[(2 * i + 1) % 260]);
    json_t *records = json_array();
    for (size_t i = 0; i < gw_tagmap_count(m); i++) {
        const gw_tag *t = gw_tagmap_at(m, i);
        gw_value v;
        gw_error err;
        gw_err rc;
        if (t->addr.driver == GW_DRIVER_S7)
            rc = gw_tag_decode_bytes(t, bytes, sizeof(bytes), &v, &err);
        else if (t->type == GW_T_BOOL) {
            gw_tag_decode_bit(t, bytes[0] & 1, &v);
            rc = GW_OK;
        } else
            rc = gw_tag_decode_regs(m, t, regs, 130, &v, &err);
        if (rc == GW_OK) {
            gw_tag_records(t, &v, records);
            gw_value_clear(&v);
        }
    }
    char *s = json_dumps(records, JSON_COMPACT);
    free(s);
    json_decref(records);
    gw_tagmap_free(m);
    return 0;
}
