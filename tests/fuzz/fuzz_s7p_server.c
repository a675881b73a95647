/*
 * fuzz_s7p_server.c - the S7CommPlus server's session: a byte stream cut
 * into TPKT packets and served by s7p__serve_packet, the function the
 * server thread runs. If byte 0 is odd, python-snap7's COTP CR and a
 * CreateObject come first (docs/s7commplus.md S5), so that the fuzzer
 * spends its time on requests inside a session. Nothing may crash, read
 * out of bounds, hang or leak; every answer must be whole TPKT packets,
 * each a COTP DT (or the CC/DC) of at most 65535 bytes.
 */
#include "drivers/s7plus/s7p_server_internal.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* COTP CR (S1) */
static const uint8_t cr[] = {0x03, 0x00, 0x00, 0x24, 0x1f, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00,
                             0xc1, 0x02, 0x06, 0x00, 0xc2, 0x10, 'S',  'I',  'M',  'A',  'T',
                             'I',  'C',  '-',  'R',  'O',  'O',  'T',  '-',  'H',  'M',  'I',
                             0xc0, 0x01, 0x0a};

/* The CR, then CreateObject (S5.3) as the codec's client encodes it, in
 * one frame in one TPKT. */
static size_t connect_frames(uint8_t *out, size_t cap)
{
    memcpy(out, cr, sizeof(cr));
    uint8_t *pk = out + sizeof(cr);
    s7p_w w;
    s7p_w_init(&w, pk + S7_FRAME_HDR + S7P_FRAME_HDR, cap - sizeof(cr) - 64);
    s7p_hdr h = {S7P_OP_REQUEST, S7P_FN_CREATE_OBJECT, 1, S7P_ID_OBJECT_NULL_SERVER_SESSION,
                 S7P_TF_36};
    s7p_put_hdr(&w, &h);
    s7p_createobj_req_encode_session(&w, NULL);
    size_t fl = s7p_frame_wrap(pk + S7_FRAME_HDR, cap - sizeof(cr) - S7_FRAME_HDR, S7P_V1, w.len);
    return sizeof(cr) + s7_frame_dt(pk, fl);
}

/* Whole TPKT packets, back to back. */
static bool packets_ok(const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t total;
        if (n - off < S7_TPKT_HDR || s7_tpkt_length(p + off, &total) != GW_OK ||
            total > n - off || total < 7)
            return false;
        off += total;
    }
    return true;
}

static void serve_stream(gw_s7p_server *s, s7p_session *c, const uint8_t *p, size_t n,
                         bool *open)
{
    size_t off = 0;
    while (*open && n - off >= S7_TPKT_HDR) {
        size_t total;
        if (s7_tpkt_length(p + off, &total) != GW_OK || total > n - off)
            return;
        const uint8_t *reply;
        size_t reply_len;
        *open = s7p__serve_packet(s, c, p + off, total, &reply, &reply_len);
        if (reply_len && !packets_ok(reply, reply_len))
            __builtin_trap();
        off += total;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    gw_s7_server_opts so = {0};
    so.host = "127.0.0.1";
    gw_s7_server *mem;
    if (gw_s7_server_new(&so, &mem, NULL) != GW_OK)
        return 0;
    gw_s7_server_add_area(mem, GW_S7_DB, 1, 24);
    gw_s7_server_add_area(mem, GW_S7_DB, 2, 26);
    gw_s7_server_add_area(mem, GW_S7_DB, 3, 10);
    gw_s7_server_add_area(mem, GW_S7_M, 0, 64);
    gw_s7p_server_opts po = {0};
    po.memory = mem;
    /* bits 1..4 of byte 0 pick the forms and the framing */
    po.forms.lid_classic = (data[0] & 2) != 0;
    po.forms.blob_root_id = (data[0] & 4) != 0;
    po.forms.names_utf8 = (data[0] & 8) != 0;
    po.forms.explore_id = (data[0] & 8) != 0;
    po.split_tpdu = (data[0] & 16) != 0;
    gw_s7p_server *s;
    if (gw_s7p_server_new(&po, &s, NULL) == GW_OK) {
        static const char *const names[] = {"Pipe_Diameter", "Force"};
        gw_s7p_server_set_names(s, 1, names, 2);
        s7p_session *c;
        if (s7p__session_new(s, "fuzz", &c) == GW_OK) {
            bool open = true;
            if (data[0] & 1) {
                uint8_t hello[512];
                serve_stream(s, c, hello, connect_frames(hello, sizeof(hello)), &open);
            }
            serve_stream(s, c, data + 1, size - 1, &open);
            s7p__session_free(c);
        }
        gw_s7p_server_free(s);
    }
    gw_s7_server_free(mem);
    return 0;
}
