/*
 * fuzz_ws.c - what a WebSocket client sends: a stream of frames, checked
 * as the server checks them (masked, no RSV bits, control frames whole
 * and short, a payload limit from the header), unmasked, and text checked
 * for UTF-8. Any bytes end in frames or a close code, never a crash.
 */
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    size_t at = 0;
    while (at < size) {
        gw_ws_frame f;
        uint16_t code = 0;
        const char *detail = NULL;
        long hl = gw_ws_parse_frame(buf + at, size - at, 4096, &f, &code, &detail);
        if (hl < 0) {
            if ((code != 1002 && code != 1009) || !detail)
                __builtin_trap();
            break;
        }
        if (hl == 0 || size - at - (size_t)hl < f.len)
            break;
        if (f.len > 4096 || !f.masked || f.rsv || ((f.opcode & 8) && (f.len > 125 || !f.fin)))
            __builtin_trap();
        uint8_t *p = buf + at + hl;
        gw_ws_unmask(p, (size_t)f.len, f.mask, 0);
        if (f.opcode == GW_WS_TEXT)
            (void)gw_utf8_valid((const char *)p, (size_t)f.len);
        if (f.opcode == GW_WS_CLOSE && f.len >= 2)
            (void)gw_ws_close_code_ok((uint16_t)(p[0] << 8 | p[1]));
        at += (size_t)hl + (size_t)f.len;
    }
    free(buf);
    return 0;
}
