/*
 * text.c - checks on untrusted text before anything else reads it.
 *
 * UTF-8 (RFC 3629): well-formed sequences only; no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF. The same rules as
 * jansson's decoder and RFC 6455 section 8.1 for WebSocket text.
 *
 * JSON nesting: jansson parses recursively (up to 2,048 levels), and a
 * deep document on a thread with a small stack overflows it. Every JSON
 * text that comes from outside goes through gw_json_load_untrusted, which
 * counts the brackets (outside strings) first and refuses a text deeper
 * than GW_JSON_MAX_DEPTH before jansson sees it.
 */
#include "core.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Length of the well-formed sequence at p (avail bytes), 0 when none. */
static size_t seq_len(const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* a continuation byte, C0/C1 (overlong) or F5..FF */
    }
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

bool gw_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = seq_len(p + i, len - i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

size_t gw_utf8_prefix(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = max;
    /* back over continuation bytes to the start of the cut character */
    while (n > 0 && (p[n] & 0xC0) == 0x80)
        n--;
    return n;
}

size_t gw_utf8_sanitize(const char *in, size_t len, char *out, size_t size)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0;
    if (!size)
        return 0;
    for (size_t i = 0; i < len;) {
        size_t n = p[i] < 0x80 ? 1 : seq_len(p + i, len - i);
        bool ok = n && p[i] != 0;
        size_t w = ok ? n : 3; /* U+FFFD is 3 bytes */
        if (o + w >= size)
            break;
        if (ok)
            memcpy(out + o, in + i, n);
        else
            memcpy(out + o, "\xEF\xBF\xBD", 3);
        o += w;
        i += ok ? n : 1;
    }
    out[o] = '\0';
    return o;
}

bool gw_json_nesting_ok(const char *text, size_t len, unsigned max_depth, gw_loc *at)
{
    unsigned depth = 0;
    bool in_string = false, escaped = false;
    gw_loc loc = {1, 1};
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) {
                if (at)
                    *at = loc;
                return false;
            }
        } else if ((c == ']' || c == '}') && depth) {
            depth--;
        }
        if (c == '\n') {
            loc.line++;
            loc.col = 1;
        } else if ((c & 0xC0) != 0x80) {
            loc.col++;
        }
    }
    return true;
}

void *gw_json_load_untrusted(const char *text, size_t len, size_t flags, void *error)
{
    json_error_t *e = error;
    gw_loc at;
    if (!gw_json_nesting_ok(text, len, GW_JSON_MAX_DEPTH, &at)) {
        if (e) {
            memset(e, 0, sizeof(*e));
            e->line = (int)at.line;
            e->column = (int)at.col;
            snprintf(e->text, sizeof(e->text), "nesting deeper than %d levels",
                     GW_JSON_MAX_DEPTH);
        }
        return NULL;
    }
    return json_loadb(text, len, flags, e);
}
