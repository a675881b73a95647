/*
 * fuzz_s7_server.c - the S7 server's request parser: a byte stream cut into
 * TPKT packets and served by s7__serve_packet, the same function the server
 * thread runs. If byte 0 is odd, a valid COTP connect and setup come first,
 * so that the fuzzer spends its time on S7 jobs. Nothing may crash, read
 * out of bounds or leak; every answer must be a well-formed sequence of
 * TPKT packets (a download's reply is the Ack_Data and the CPU's own
 * Download Block job back to back, docs/s7comm.md 14.3).
 */
#include "drivers/s7/s7_internal.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t connect_frames[] = {
    /* COTP CR, snap7's (docs/s7comm.md 2.1) */
    0x03, 0x00, 0x00, 0x16, 0x11, 0xE0, 0x00, 0x00, 0x00, 0x01, 0x00, 0xC0, 0x01, 0x0A, 0xC1,
    0x02, 0x01, 0x00, 0xC2, 0x02, 0x01, 0x02,
    /* setup communication, PDU 960 */
    0x03, 0x00, 0x00, 0x19, 0x02, 0xF0, 0x80, 0x32, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08,
    0x00, 0x00, 0xF0, 0x00, 0x00, 0x08, 0x00, 0x08, 0x03, 0xC0};

/* Whole TPKT packets, each at least TPKT + COTP DT, back to back. */
static bool packets_ok(const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t total;
        if (n - off < S7_TPKT_HDR || s7_tpkt_length(p + off, &total) != GW_OK ||
            total > n - off)
            return false;
        off += total;
    }
    return true;
}

static void serve_stream(gw_s7_server *s, s7_session *c, const uint8_t *p, size_t n, bool *open)
{
    size_t off = 0;
    while (*open && n - off >= S7_TPKT_HDR) {
        size_t total;
        if (s7_tpkt_length(p + off, &total) != GW_OK || total > n - off)
            return;
        const uint8_t *reply;
        size_t reply_len;
        *open = s7__serve_packet(s, c, p + off, total, &reply, &reply_len);
        if (reply_len && !packets_ok(reply, reply_len))
            __builtin_trap();
        s7__fire_writes(s, c->peer);
        off += total;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    gw_s7_server_opts so = {0};
    so.host = "127.0.0.1";
    gw_s7_server *s;
    if (gw_s7_server_new(&so, &s, NULL) != GW_OK)
        return 0;
    gw_s7_server_add_area(s, GW_S7_DB, 1, 24);
    gw_s7_server_add_area(s, GW_S7_DB, 2, 26);
    gw_s7_server_add_area(s, GW_S7_DB, 3, 10);
    gw_s7_server_add_area(s, GW_S7_M, 0, 64);
    s7_session c;
    if (s7__session_init(&c, "fuzz", 1) == GW_OK) {
        bool open = true;
        if (data[0] & 1)
            serve_stream(s, &c, connect_frames, sizeof(connect_frames), &open);
        serve_stream(s, &c, data + 1, size - 1, &open);
        s7__session_clear(&c);
    }
    gw_s7_server_free(s);
    return 0;
}
