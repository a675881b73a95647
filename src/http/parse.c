/*
 * parse.c - HTTP/1.1 request heads, targets, query parameters and chunked
 * bodies (RFC 9112, RFC 9110). A codec: bytes in, a decoded head or a
 * refusal out; no I/O, no allocation.
 *
 * Strict where leniency lets two parsers disagree about where a request
 * ends (request smuggling, RFC 9112 section 11.2): one Content-Length of
 * digits only, never with Transfer-Encoding, chunked as the only transfer
 * coding, no obsolete line folding, no whitespace before a colon, no bare
 * CR. A lone LF ends a line, as section 2.2 allows.
 */
#include "http.h"

#include <stdio.h>
#include <string.h>

/* RFC 9110 section 5.6.2: tchar */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool ieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

/* Does the comma-separated list value[0..len) hold token (any case)? */
static bool list_has(const char *value, size_t len, const char *token)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
            i++;
        size_t start = i;
        while (i < len && value[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t'))
            end--;
        if (end > start && ieq(value + start, end - start, token))
            return true;
    }
    return false;
}

static long refuse(int *status, const char **detail, int s, const char *d)
{
    *status = s;
    *detail = d;
    return -1;
}

/* The line at buf[at..len): its end (the LF) in *eol and its content
 * length without CR in *n. False when no LF has come yet. */
static bool next_line(const char *buf, size_t len, size_t at, size_t *eol, size_t *n)
{
    const char *lf = memchr(buf + at, '\n', len - at);
    if (!lf)
        return false;
    *eol = (size_t)(lf - buf);
    *n = *eol - at;
    if (*n && buf[*eol - 1] == '\r')
        (*n)--;
    return true;
}

static long parse_request_line(const char *p, size_t n, gw_http_head *h, int *status,
                               const char **detail)
{
    const char *sp1 = memchr(p, ' ', n);
    if (!sp1 || sp1 == p)
        return refuse(status, detail, 400, "malformed request line: expected METHOD TARGET "
                      "HTTP/1.1");
    h->method = p;
    h->method_len = (size_t)(sp1 - p);
    for (size_t i = 0; i < h->method_len; i++)
        if (!is_tchar((unsigned char)p[i]))
            return refuse(status, detail, 400, "malformed request line: the method is not a token");
    if (h->method_len > 32)
        return refuse(status, detail, 501, "unknown method");
    const char *t = sp1 + 1, *end = p + n;
    const char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (!sp2 || sp2 == t)
        return refuse(status, detail, 400, "malformed request line: expected METHOD TARGET "
                      "HTTP/1.1");
    h->target = t;
    h->target_len = (size_t)(sp2 - t);
    for (size_t i = 0; i < h->target_len; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= 0x20 || c >= 0x7F)
            return refuse(status, detail, 400, "the request target has a byte that must be "
                          "percent-encoded");
    }
    const char *v = sp2 + 1;
    size_t vlen = (size_t)(end - v);
    if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
        v[7] < '0' || v[7] > '9')
        return refuse(status, detail, 400, "malformed request line: expected HTTP/1.1 at its end");
    if (v[5] != '1')
        return refuse(status, detail, 505, "only HTTP/1.0 and HTTP/1.1 are served");
    h->minor = v[7] - '0';
    return 0;
}

static long parse_field(const char *p, size_t n, gw_http_head *h, int *status,
                        const char **detail)
{
    if (p[0] == ' ' || p[0] == '\t')
        return refuse(status, detail, 400, "obsolete line folding in a header");
    const char *colon = memchr(p, ':', n);
    if (!colon || colon == p)
        return refuse(status, detail, 400, "a header line without a name and a colon");
    for (const char *c = p; c < colon; c++)
        if (!is_tchar((unsigned char)*c))
            return refuse(status, detail, 400, "a header name with a space or a byte that is "
                          "not a token");
    const char *v = colon + 1, *end = p + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (const char *c = v; c < end; c++) {
        unsigned char b = (unsigned char)*c;
        if ((b < 0x20 && b != '\t') || b == 0x7F)
            return refuse(status, detail, 400, "a control character in a header value");
    }
    if (h->nfields == GW_HTTP_MAX_FIELDS)
        return refuse(status, detail, 431, "more than 64 header lines");
    gw_http_field *f = &h->fields[h->nfields++];
    f->name = p;
    f->name_len = (size_t)(colon - p);
    f->value = v;
    f->value_len = (size_t)(end - v);
    return 0;
}

/* The meaning of the headers that frame the message. */
static long head_semantics(gw_http_head *h, int *status, const char **detail)
{
    unsigned hosts = 0, lengths = 0, encodings = 0;
    bool close = false, keep = false, conn_upgrade = false, ws = false;
    for (size_t i = 0; i < h->nfields; i++) {
        const gw_http_field *f = &h->fields[i];
        if (ieq(f->name, f->name_len, "host")) {
            hosts++;
            for (size_t k = 0; k < f->value_len; k++)
                if (f->value[k] == ' ' || f->value[k] == '\t' || f->value[k] == '/')
                    return refuse(status, detail, 400, "an invalid Host header");
        } else if (ieq(f->name, f->name_len, "content-length")) {
            if (++lengths > 1)
                return refuse(status, detail, 400, "more than one Content-Length");
            if (f->value_len == 0 || f->value_len > 18)
                return refuse(status, detail, 400, "an invalid Content-Length");
            int64_t n = 0;
            for (size_t k = 0; k < f->value_len; k++) {
                if (f->value[k] < '0' || f->value[k] > '9')
                    return refuse(status, detail, 400, "an invalid Content-Length: digits only");
                n = n * 10 + (f->value[k] - '0');
            }
            h->content_length = n;
        } else if (ieq(f->name, f->name_len, "transfer-encoding")) {
            if (++encodings > 1 || !ieq(f->value, f->value_len, "chunked"))
                return refuse(status, detail, 501, "chunked is the only transfer coding served");
            h->chunked = true;
        } else if (ieq(f->name, f->name_len, "connection")) {
            close = close || list_has(f->value, f->value_len, "close");
            keep = keep || list_has(f->value, f->value_len, "keep-alive");
            conn_upgrade = conn_upgrade || list_has(f->value, f->value_len, "upgrade");
        } else if (ieq(f->name, f->name_len, "upgrade")) {
            ws = ws || list_has(f->value, f->value_len, "websocket");
        } else if (ieq(f->name, f->name_len, "expect")) {
            if (!ieq(f->value, f->value_len, "100-continue"))
                return refuse(status, detail, 417, "the only expectation served is 100-continue");
            h->expect_continue = true;
        }
    }
    /* RFC 9112 section 3.2: exactly one Host in HTTP/1.1, at most one before */
    if (hosts > 1)
        return refuse(status, detail, 400, "more than one Host header");
    if (hosts == 0 && h->minor == 1)
        return refuse(status, detail, 400, "an HTTP/1.1 request needs a Host header");
    /* section 6.1: both framings at once is faulty (a smuggling attempt) */
    if (h->chunked && lengths)
        return refuse(status, detail, 400, "both Content-Length and Transfer-Encoding");
    if (h->chunked && h->minor == 0)
        return refuse(status, detail, 400, "Transfer-Encoding in an HTTP/1.0 request");
    h->keep_alive = !close && (h->minor == 1 || keep);
    h->upgrade = conn_upgrade && ws;
    return 0;
}

long gw_http_parse_head(const char *buf, size_t len, size_t max_head, gw_http_head *h,
                        int *status, const char **detail)
{
    memset(h, 0, sizeof(*h));
    h->content_length = -1;
    size_t at = 0, eol, n;
    /* section 2.2: empty lines before the request line are ignored */
    while (next_line(buf, len, at, &eol, &n) && n == 0 && eol + 1 <= max_head)
        at = eol + 1;
    bool first = true;
    for (;;) {
        if (!next_line(buf, len, at, &eol, &n)) {
            if (len >= max_head)
                return refuse(status, detail, 431, "the request head is too large");
            return 0;
        }
        if (eol + 1 > max_head)
            return refuse(status, detail, 431, "the request head is too large");
        const char *p = buf + at;
        if (memchr(p, '\r', n))
            return refuse(status, detail, 400, "a CR that does not end a line");
        if (memchr(p, '\0', n))
            return refuse(status, detail, 400, "a NUL byte in the request head");
        at = eol + 1;
        if (first) {
            if (parse_request_line(p, n, h, status, detail) < 0)
                return -1;
            first = false;
            continue;
        }
        if (n == 0)
            break;
        if (parse_field(p, n, h, status, detail) < 0)
            return -1;
    }
    if (head_semantics(h, status, detail) < 0)
        return -1;
    return (long)at;
}

/* ---------------------------------------------------------------- targets */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes in[0..len) into out (size bytes, NUL-terminated); plus
 * decodes '+' as a space (forms). Returns the length, -1 for a bad %XX or
 * a NUL, -2 when it does not fit. */
static long pct_decode(const char *in, size_t len, bool plus, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            if (len - i < 3)
                return -1;
            int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            if (c == '\0')
                return -1;
            i += 2;
        } else if (plus && c == '+') {
            c = ' ';
        }
        if (o + 1 >= size)
            return -2;
        out[o++] = c;
    }
    if (!size)
        return -2;
    out[o] = '\0';
    return (long)o;
}

int gw_http_parse_target(const char *target, size_t len, bool options, char *path,
                         size_t size, const char **query, size_t *query_len,
                         const char **detail)
{
    *query = target + len;
    *query_len = 0;
    if (len == 1 && target[0] == '*') {
        if (!options) {
            *detail = "the target \"*\" is for OPTIONS only";
            return 400;
        }
        snprintf(path, size, "*");
        return 0;
    }
    const char *p = target, *end = target + len;
    /* absolute-form (section 3.2.2): the path after the authority */
    size_t scheme = len >= 7 && ieq(target, 7, "http://") ? 7
                    : len >= 8 && ieq(target, 8, "https://") ? 8 : 0;
    if (scheme) {
        p = target + scheme;
        while (p < end && *p != '/' && *p != '?')
            p++;
        if (p == target + scheme) {
            *detail = "an absolute target without a host";
            return 400;
        }
    } else if (len == 0 || target[0] != '/') {
        *detail = "the request target must be a path (\"/...\")";
        return 400;
    }
    if (memchr(p, '#', (size_t)(end - p))) {
        *detail = "a fragment (#) in the request target";
        return 400;
    }
    const char *q = memchr(p, '?', (size_t)(end - p));
    const char *pend = q ? q : end;
    if (q) {
        *query = q + 1;
        *query_len = (size_t)(end - q - 1);
    }
    long n;
    if (p == pend) {
        n = size > 1 ? 1 : -2;
        if (n > 0)
            snprintf(path, size, "/");
    } else {
        n = pct_decode(p, (size_t)(pend - p), false, path, size);
    }
    if (n == -2) {
        *detail = "the path is too long";
        return 414;
    }
    if (n < 0) {
        *detail = "the path has a bad percent-encoding or an encoded NUL";
        return 400;
    }
    if (!gw_utf8_valid(path, (size_t)n)) {
        *detail = "the path is not valid UTF-8";
        return 400;
    }
    for (long i = 0; i < n; i++)
        if ((unsigned char)path[i] < 0x20 || path[i] == 0x7F) {
            *detail = "the path has a control character";
            return 400;
        }
    /* dot segments, also encoded ones: no client sends them (RFC 3986
     * section 5.2.4 removes them before a request is made) */
    for (const char *s = path; s && *s;) {
        const char *seg = s + 1;
        const char *next = strchr(seg, '/');
        size_t sl = next ? (size_t)(next - seg) : strlen(seg);
        if ((sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.')) {
            *detail = "dot segments (. or ..) in the path";
            return 400;
        }
        s = next;
    }
    return 0;
}

int gw_http_query_param(const char *query, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    const char *p = query;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq ? (size_t)(eq - p) : plen;
        char key[64];
        long kn = klen < sizeof(key) ? pct_decode(p, klen, true, key, sizeof(key)) : -2;
        if (kn == (long)nlen && memcmp(key, name, nlen) == 0) {
            const char *v = eq ? eq + 1 : p + plen;
            size_t vlen = eq ? plen - klen - 1 : 0;
            long n = pct_decode(v, vlen, true, out, size);
            if (n == -2)
                return -1;
            if (n < 0 || !gw_utf8_valid(out, (size_t)n))
                return -2;
            return 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    if (size)
        out[0] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- chunked */

enum {
    CH_SIZE,       /* hex digits of a chunk size */
    CH_EXT,        /* a chunk extension, to the end of the line */
    CH_SIZE_LF,    /* CR seen after the size line */
    CH_DATA,
    CH_DATA_END,   /* CRLF after the data */
    CH_DATA_LF,
    CH_TRAILER,    /* the start of a trailer line (or the final empty line) */
    CH_TRAILER_LINE,
    CH_END_LF,
    CH_DONE,
};

#define CH_MAX_LINE 1024
#define CH_MAX_TRAILERS 4096

long gw_http_chunked_feed(gw_http_chunked *c, const char *in, size_t len, char *out,
                          size_t *out_len, size_t cap, bool *done, int *status,
                          const char **detail)
{
    size_t i = 0;
    *done = c->state == CH_DONE;
    while (i < len && c->state != CH_DONE) {
        unsigned char ch = (unsigned char)in[i];
        switch (c->state) {
        case CH_SIZE: {
            int h = hexval((char)ch);
            if (h >= 0) {
                if (++c->digits > 15)
                    return refuse(status, detail, 413, "a chunk too large");
                c->left = c->left << 4 | (uint64_t)h;
                i++;
                break;
            }
            if (!c->digits)
                return refuse(status, detail, 400, "a chunk without its size");
            if (ch == ';' || ch == ' ' || ch == '\t') {
                c->state = CH_EXT;
                c->line = 0;
            } else if (ch == '\r') {
                c->state = CH_SIZE_LF;
            } else if (ch == '\n') {
                goto size_line_done;
            } else {
                return refuse(status, detail, 400, "a malformed chunk size");
            }
            i++;
            break;
        }
        case CH_EXT:
            if (ch == '\r')
                c->state = CH_SIZE_LF;
            else if (ch == '\n')
                goto size_line_done;
            else if ((ch < 0x20 && ch != '\t') || ch == 0x7F || ++c->line > CH_MAX_LINE)
                return refuse(status, detail, 400, "a malformed chunk extension");
            i++;
            break;
        case CH_SIZE_LF:
            if (ch != '\n')
                return refuse(status, detail, 400, "a CR without LF after a chunk size");
        size_line_done:
            i++;
            c->digits = 0;
            if (c->left == 0) {
                c->state = CH_TRAILER;
                c->trailers = 0;
            } else if (c->left > cap - *out_len) {
                return refuse(status, detail, 413, "the body is too large");
            } else {
                c->state = CH_DATA;
            }
            break;
        case CH_DATA: {
            size_t n = len - i;
            if (n > c->left)
                n = (size_t)c->left;
            memcpy(out + *out_len, in + i, n);
            *out_len += n;
            c->left -= n;
            i += n;
            if (c->left == 0)
                c->state = CH_DATA_END;
            break;
        }
        case CH_DATA_END:
            if (ch == '\r')
                c->state = CH_DATA_LF;
            else if (ch == '\n')
                c->state = CH_SIZE;
            else
                return refuse(status, detail, 400, "a chunk longer than its size");
            i++;
            break;
        case CH_DATA_LF:
            if (ch != '\n')
                return refuse(status, detail, 400, "a CR without LF after a chunk");
            c->state = CH_SIZE;
            i++;
            break;
        case CH_TRAILER:
            if (ch == '\r')
                c->state = CH_END_LF;
            else if (ch == '\n')
                c->state = CH_DONE;
            else
                c->state = CH_TRAILER_LINE;
            if (++c->trailers > CH_MAX_TRAILERS)
                return refuse(status, detail, 431, "trailer fields too large");
            i++;
            break;
        case CH_TRAILER_LINE:
            if (ch == '\n')
                c->state = CH_TRAILER;
            else if (ch == '\0')
                return refuse(status, detail, 400, "a NUL byte in a trailer");
            if (++c->trailers > CH_MAX_TRAILERS)
                return refuse(status, detail, 431, "trailer fields too large");
            i++;
            break;
        case CH_END_LF:
            if (ch != '\n')
                return refuse(status, detail, 400, "a CR without LF after the last chunk");
            c->state = CH_DONE;
            i++;
            break;
        }
    }
    *done = c->state == CH_DONE;
    return (long)i;
}

const char *gw_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
