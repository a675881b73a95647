/*
 * ws_conn.c - a WebSocket's input on the loop thread (RFC 6455 sections
 * 5.4 to 5.5 and 7): frames are checked as they come (gw_ws_parse_frame),
 * unmasked, fragments joined up to the message limit, text checked for
 * UTF-8 (section 8.1), pings answered, and a close answered with a close.
 * Whole messages go to the connection's inbox, which the workers drain.
 * A violation closes the connection with its status code (1002 protocol
 * error, 1007 bad text, 1009 too big).
 */
#include "http_internal.h"

#include <string.h>

/* Fails the connection (section 7.1.7): a close frame with code, then
 * the connection ends. Returns false. */
static bool fail(gw_http_conn *c, uint16_t code, const char *detail)
{
    gw_log_write(c->srv->o.log, GW_LOG_DEBUG, c->srv->category, "%s: WebSocket closed %u: %s",
                 c->remote, code, detail);
    pthread_mutex_lock(&c->mu);
    if (!c->ws_closing && c->fd >= 0) {
        uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
        c->ws_closing = true;
        http__ws_control_locked(c, GW_WS_CLOSE, p, 2);
    }
    pthread_mutex_unlock(&c->mu);
    http__ws_deliver_close(c, detail);
    return false;
}

static bool deliver(gw_http_conn *c, bool binary, const char *data, size_t len)
{
    if (!binary && !gw_utf8_valid(data, len))
        return fail(c, 1007, "a text message that is not UTF-8");
    ws_in *m = gw_malloc(sizeof(*m) + len + 1);
    if (!m)
        return fail(c, 1011, "out of memory");
    m->binary = binary;
    m->len = len;
    memcpy(m->data, data, len);
    m->data[len] = '\0';
    http__ws_deliver(c, m);
    return true;
}

/* The peer's close: answered with its code, then the connection ends. */
static bool peer_close(gw_http_conn *c, const uint8_t *p, size_t len)
{
    uint16_t code = 0;
    if (len == 1)
        return fail(c, 1002, "a close frame with a one-byte body");
    if (len >= 2) {
        code = (uint16_t)(p[0] << 8 | p[1]);
        if (!gw_ws_close_code_ok(code))
            return fail(c, 1002, "a close frame with an invalid status code");
        if (!gw_utf8_valid((const char *)p + 2, len - 2))
            return fail(c, 1007, "a close reason that is not UTF-8");
    }
    pthread_mutex_lock(&c->mu);
    if (!c->ws_closing && c->fd >= 0) {
        uint8_t echo[2] = {(uint8_t)(code >> 8), (uint8_t)code};
        c->ws_closing = true;
        http__ws_control_locked(c, GW_WS_CLOSE, echo, code ? 2 : 0);
    }
    pthread_mutex_unlock(&c->mu);
    http__ws_deliver_close(c, "the client closed it");
    return false;
}

static bool on_frame(gw_http_conn *c, const gw_ws_frame *f, uint8_t *p)
{
    size_t limit = c->srv->o.max_message;
    switch (f->opcode) {
    case GW_WS_PING:
        pthread_mutex_lock(&c->mu);
        if (!c->ws_closing && c->fd >= 0)
            http__ws_control_locked(c, GW_WS_PONG, p, (size_t)f->len);
        pthread_mutex_unlock(&c->mu);
        return true;
    case GW_WS_PONG:
        return true;
    case GW_WS_CLOSE:
        return peer_close(c, p, (size_t)f->len);
    case GW_WS_CONT:
        if (!c->in_frag)
            return fail(c, 1002, "a continuation frame without a first fragment");
        if (c->frag_len + f->len > limit)
            return fail(c, 1009, "a message over the size limit");
        if (f->len) {
            char *n = gw_realloc(c->frag, c->frag_len + (size_t)f->len);
            if (!n)
                return fail(c, 1011, "out of memory");
            c->frag = n;
            memcpy(c->frag + c->frag_len, p, (size_t)f->len);
            c->frag_len += (size_t)f->len;
        }
        if (!f->fin)
            return true;
        c->in_frag = false;
        bool ok = deliver(c, c->frag_binary, c->frag ? c->frag : "", c->frag_len);
        gw_free(c->frag);
        c->frag = NULL;
        c->frag_len = 0;
        return ok;
    default: /* text, binary */
        if (c->in_frag)
            return fail(c, 1002, "a new message inside a fragmented one");
        if (f->fin)
            return deliver(c, f->opcode == GW_WS_BINARY, (const char *)p, (size_t)f->len);
        c->in_frag = true;
        c->frag_binary = f->opcode == GW_WS_BINARY;
        c->frag_len = 0;
        c->frag = f->len ? gw_malloc((size_t)f->len) : NULL;
        if (f->len && !c->frag)
            return fail(c, 1011, "out of memory");
        if (f->len)
            memcpy(c->frag, p, (size_t)f->len);
        c->frag_len = (size_t)f->len;
        return true;
    }
}

bool http__ws_input(gw_http_conn *c)
{
    size_t at = 0;
    bool ok = true;
    while (ok && at < c->in_len && !c->rd_paused) {
        gw_ws_frame f;
        uint16_t code;
        const char *detail;
        long hl = gw_ws_parse_frame((const uint8_t *)c->in + at, c->in_len - at,
                                    c->srv->o.max_message, &f, &code, &detail);
        if (hl < 0) {
            ok = fail(c, code, detail);
            break;
        }
        if (hl == 0 || c->in_len - at - (size_t)hl < f.len)
            break; /* more to come */
        uint8_t *p = (uint8_t *)c->in + at + hl;
        gw_ws_unmask(p, (size_t)f.len, f.mask, 0);
        at += (size_t)hl + (size_t)f.len;
        ok = on_frame(c, &f, p);
    }
    memmove(c->in, c->in + at, c->in_len - at);
    c->in_len -= at;
    return ok;
}
