/*
 * ws.c - WebSocket frames (RFC 6455 section 5) and the handshake's accept
 * key (section 4.2.2). A codec: no I/O, no allocation.
 *
 * The frame check is a server's: every client frame is masked (5.1), RSV
 * bits are 0 when no extension was negotiated (5.2), control frames are
 * whole and carry at most 125 bytes (5.5), and the 64-bit length has its
 * top bit clear (5.2). A payload larger than the limit is refused from the
 * header alone, before a byte of it is read.
 */
#include "http.h"

#include <sodium.h>
#include <string.h>

/* RFC 6455 section 1.3 */
static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static long bad(uint16_t *code, const char **detail, uint16_t c, const char *d)
{
    *code = c;
    *detail = d;
    return -1;
}

long gw_ws_parse_frame(const uint8_t *buf, size_t len, size_t max_payload, gw_ws_frame *f,
                       uint16_t *code, const char **detail)
{
    if (len < 2)
        return 0;
    memset(f, 0, sizeof(*f));
    f->fin = (buf[0] & 0x80) != 0;
    f->rsv = (uint8_t)((buf[0] >> 4) & 0x07);
    f->opcode = buf[0] & 0x0F;
    f->masked = (buf[1] & 0x80) != 0;
    uint8_t len7 = buf[1] & 0x7F;
    bool control = (f->opcode & 0x08) != 0;
    /* what the first two bytes already tell */
    if (f->rsv)
        return bad(code, detail, 1002, "RSV bits set without a negotiated extension");
    if ((f->opcode >= 0x3 && f->opcode <= 0x7) || f->opcode >= 0xB)
        return bad(code, detail, 1002, "an unknown opcode");
    if (!f->masked)
        return bad(code, detail, 1002, "an unmasked client frame");
    if (control && !f->fin)
        return bad(code, detail, 1002, "a fragmented control frame");
    if (control && len7 > 125)
        return bad(code, detail, 1002, "a control frame over 125 bytes");
    size_t need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
    if (len < need)
        return 0;
    if (len7 == 126) {
        f->len = (uint64_t)buf[2] << 8 | buf[3];
    } else if (len7 == 127) {
        if (buf[2] & 0x80)
            return bad(code, detail, 1002, "a payload length with its top bit set");
        for (int i = 0; i < 8; i++)
            f->len = f->len << 8 | buf[2 + i];
    } else {
        f->len = len7;
    }
    if (f->len > max_payload)
        return bad(code, detail, 1009, "a message over the size limit");
    memcpy(f->mask, buf + need - 4, 4);
    f->header_len = need;
    return (long)need;
}

void gw_ws_unmask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset)
{
    for (size_t i = 0; i < len; i++)
        data[i] ^= mask[(offset + i) & 3];
}

size_t gw_ws_frame_header(uint8_t out[10], bool fin, uint8_t opcode, uint64_t len)
{
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0F));
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

bool gw_ws_close_code_ok(uint16_t code)
{
    /* 1004-1006 and 1015 are reserved, never sent (section 7.4.1) */
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* ---------------------------------------------------------------- SHA-1 */

static uint32_t rol(uint32_t x, int n)
{
    return x << n | x >> (32 - n);
}

static void sha1_block(uint32_t h[5], const uint8_t b[64])
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
               (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (bb & c) | (~bb & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = bb ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (bb & c) | (bb & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = bb ^ c ^ d;
            k = 0xCA62C1D6;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(bb, 30);
        bb = a;
        a = t;
    }
    h[0] += a;
    h[1] += bb;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void gw_sha1(const void *data, size_t len, uint8_t out[20])
{
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    const uint8_t *p = data;
    size_t left = len;
    while (left >= 64) {
        sha1_block(h, p);
        p += 64;
        left -= 64;
    }
    uint8_t last[128];
    memset(last, 0, sizeof(last));
    memcpy(last, p, left);
    last[left] = 0x80;
    size_t blocks = left + 9 > 64 ? 2 : 1;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        last[blocks * 64 - 1 - i] = (uint8_t)(bits >> (8 * i));
    for (size_t i = 0; i < blocks; i++)
        sha1_block(h, last + 64 * i);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

bool gw_ws_accept_key(const char *key, size_t len, char out[29])
{
    unsigned char raw[20];
    size_t n = 0;
    /* section 4.1: the key is 16 random bytes in base64 (24 characters) */
    if (len != 24 || sodium_base642bin(raw, sizeof(raw), key, len, NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL) != 0 || n != 16)
        return false;
    char cat[24 + sizeof(WS_GUID)];
    memcpy(cat, key, 24);
    memcpy(cat + 24, WS_GUID, sizeof(WS_GUID) - 1);
    uint8_t digest[20];
    gw_sha1(cat, 24 + sizeof(WS_GUID) - 1, digest);
    sodium_bin2base64(out, 29, digest, sizeof(digest), sodium_base64_VARIANT_ORIGINAL);
    return true;
}
