/*
 * fuzz_s7p_client.c - the S7CommPlus client's parsing of what a PLC sends
 * (s7p_client_internal.h), no sockets.
 *
 * Byte 0 picks the forms (bit 0: py7 or reference), the request the
 * answer is checked against (bits 1-3: function; its sequence number is
 * byte 1) and the number of items asked (bits 4-7). The rest is one
 * response PDU (header + payload): checked by s7p__check_rsp, then its
 * payload - and the whole rest, in case the header is not one - given to
 * every parser: GetMulti and SetMulti answers for the items, Explore
 * (DB list allocated and freed), CreateObject with the session echo.
 * Nothing may crash, read out of bounds or leak; what a parser accepts
 * must stay within its items and buffer.
 */
#include "drivers/s7plus/s7p_client_internal.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok)
        __builtin_trap();
}

static void parse_all(const s7p_opts *o, const uint8_t *p, size_t len, size_t n)
{
    char why[160];
    /* items of 1..8 bytes at distinct offsets of one buffer */
    s7p_item items[16];
    uint8_t buf[16 * 8];
    for (size_t i = 0; i < n; i++)
        items[i] = (s7p_item){i % 3 ? GW_S7_DB : GW_S7_M, (uint16_t)(1 + i % 4),
                              (uint32_t)(i * 10), (uint32_t)(1 + i % 8), (uint32_t)(i * 8), NULL,
                              GW_OK, 0};
    gw_err rc = s7p__parse_read(o, p, len, items, n, buf, sizeof(buf), why, sizeof(why));
    for (size_t i = 0; rc == GW_OK && i < n; i++)
        check(items[i].result == GW_OK || items[i].result == GW_E_NOT_FOUND ||
              items[i].result == GW_E_DEVICE_REJECTED || items[i].result == GW_E_RANGE ||
              items[i].result == GW_E_TYPE || items[i].result == GW_E_PROTOCOL);
    rc = s7p__parse_write(p, len, items, n, why, sizeof(why));
    for (size_t i = 0; rc == GW_OK && i < n; i++)
        check(items[i].result == GW_OK || items[i].result == GW_E_NOT_FOUND ||
              items[i].result == GW_E_DEVICE_REJECTED);

    gw_s7p_db *dbs;
    size_t ndbs;
    if (s7p__parse_explore(o, p, len, &dbs, &ndbs, why, sizeof(why)) == GW_OK) {
        for (size_t i = 0; i < ndbs; i++) {
            check(strlen(dbs[i].name) < sizeof(dbs[i].name));
            for (size_t k = 0; k < dbs[i].nvars; k++)
                check(strlen(dbs[i].vars[k]) < 64);
        }
        gw_s7p_dbs_free(dbs, ndbs);
    } else {
        check(dbs == NULL && ndbs == 0);
    }

    s7p_createobj_rsp co;
    if (s7p_createobj_rsp_decode(p, len, o, &co) == GW_OK && co.has_version) {
        uint8_t out[4096];
        s7p_w w;
        s7p_w_init(&w, out, sizeof(out));
        s7p__session_echo(&w, o, &co.version);
        size_t wl;
        (void)s7p_w_finish(&w, &wl);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t fns[8] = {
        S7P_FN_INIT_SSL, S7P_FN_CREATE_OBJECT, S7P_FN_SET_MULTI, S7P_FN_GET_MULTI,
        S7P_FN_EXPLORE,  S7P_FN_DELETE_OBJECT, S7P_FN_GET_MULTI, S7P_FN_SET_MULTI};
    static const s7p_opts py7 = {0}, ref = {true, true, true, true, true, true};
    if (size < 2)
        return 0;
    const s7p_opts *o = data[0] & 1 ? &ref : &py7;
    uint16_t fn = fns[(data[0] >> 1) & 7];
    size_t n = (size_t)(data[0] >> 4) + 1;
    uint16_t seq = data[1];
    data += 2;
    size -= 2;
    const uint8_t *payload;
    size_t plen;
    uint32_t code;
    char why[160];
    if (s7p__check_rsp(data, size, fn, seq, &payload, &plen, &code, why, sizeof(why)) == GW_OK) {
        check(payload >= data && payload + plen == data + size);
        parse_all(o, payload, plen, n);
    }
    parse_all(o, data, size, n);
    return 0;
}
