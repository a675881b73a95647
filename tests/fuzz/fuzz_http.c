/*
 * fuzz_http.c - what an HTTP client sends: a request head, its target and
 * query, and a chunked body. Any bytes are taken or refused with a status
 * and a reason, never a crash; what is taken stays inside the input.
 */
#include "http/http.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    gw_http_head h;
    int status = 0;
    const char *detail = NULL;
    long n = gw_http_parse_head(buf, size, 8192, &h, &status, &detail);
    if (n < 0 && (status < 400 || status > 505 || !detail))
        __builtin_trap();
    if (n > 0) {
        if ((size_t)n > size || h.target < buf || h.target + h.target_len > buf + n)
            __builtin_trap();
        for (size_t i = 0; i < h.nfields; i++)
            if (h.fields[i].value + h.fields[i].value_len > buf + n)
                __builtin_trap();
        char path[512];
        const char *q;
        size_t ql;
        int st = gw_http_parse_target(h.target, h.target_len, h.method_len == 7, path,
                                      sizeof(path), &q, &ql, &detail);
        if (st == 0) {
            if (!gw_utf8_valid(path, strlen(path)) || q + ql > h.target + h.target_len)
                __builtin_trap();
            char qs[8192], v[64];
            memcpy(qs, q, ql < sizeof(qs) ? ql : sizeof(qs) - 1);
            qs[ql < sizeof(qs) ? ql : sizeof(qs) - 1] = '\0'; /* the server's copy */
            int r = gw_http_query_param(qs, "sid", v, sizeof(v));
            if (r == 1 && !gw_utf8_valid(v, strlen(v)))
                __builtin_trap();
        }
        /* the rest as a chunked body */
        char out[4096];
        size_t out_len = 0;
        bool done;
        gw_http_chunked c;
        memset(&c, 0, sizeof(c));
        long used = gw_http_chunked_feed(&c, buf + n, size - (size_t)n, out, &out_len,
                                         sizeof(out), &done, &status, &detail);
        if (used > (long)(size - (size_t)n) || out_len > sizeof(out))
            __builtin_trap();
    }
    return 0;
}
