/*
 * s7_iso.c - ISO-on-TCP (TPKT + COTP class 0) for S7comm and S7CommPlus:
 * the client connection and the server's COTP state (s7_iso.h).
 *
 * Design: the layout of every TPDU is s7_codec's; this file adds sockets,
 * deadlines and the COTP procedure (docs/s7comm.md 1-3, 12). Invariants:
 * every socket wait has a deadline; any link error closes the connection
 * (s7_iso_fail), so the next call starts clean; a TPKT is accepted up to
 * its 65535-byte maximum whatever TPDU size was negotiated, because py7's
 * S7CommPlus emulator ignores it (docs/s7commplus.md S1), while what we
 * send as fragments keeps to the negotiated size.
 */
#include "s7_iso.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One TPKT packet is at most 65535 bytes (RFC 1006 6). */
#define ISO_BUF (S7_TPKT_MAX + 1u)
/* How long a clean close waits for the peer's disconnect confirm. */
#define CLOSE_WAIT_MS 200
/* ISO 8073 13.3.4 b): a CR/CC without TPDU size means 128 bytes. */
#define TPDU_DEFAULT 0x07

struct s7_iso {
    s7_iso_opts opts;
    char host[256];
    int fd;
    bool established;     /* close with a DR */
    uint16_t local_ref;   /* our CR's src reference */
    uint16_t remote_ref;  /* the peer's, from its CC */
    uint8_t tpdu_size;    /* code in force */
    uint8_t *rx;          /* one packet */
    uint8_t *tx;          /* one packet being sent by s7_iso_send_pdu */
};

/* ---------------------------------------------------------------- set-up */

gw_err s7_iso_new(const s7_iso_opts *opts, s7_iso **out)
{
    *out = NULL;
    s7_iso *t = gw_calloc(1, sizeof(*t));
    if (!t)
        return GW_E_NOMEM;
    t->opts = *opts;
    snprintf(t->host, sizeof(t->host), "%s", opts->host ? opts->host : "127.0.0.1");
    t->opts.host = t->host;
    if (!t->opts.port)
        t->opts.port = 102; /* ISO-on-TCP, RFC 1006 */
    if (!t->opts.connect_timeout_ms)
        t->opts.connect_timeout_ms = 2000;
    if (!t->opts.send_timeout_ms)
        t->opts.send_timeout_ms = 2000;
    if (!t->opts.recv_timeout_ms)
        t->opts.recv_timeout_ms = 2000;
    if (!t->opts.log_category)
        t->opts.log_category = "iso";
    t->fd = -1;
    t->tpdu_size = TPDU_DEFAULT;
    t->rx = gw_malloc(ISO_BUF);
    t->tx = gw_malloc(ISO_BUF);
    if (!t->rx || !t->tx) {
        s7_iso_free(t);
        return GW_E_NOMEM;
    }
    *out = t;
    return GW_OK;
}

void s7_iso_free(s7_iso *t)
{
    if (!t)
        return;
    s7_iso_close(t);
    gw_free(t->rx);
    gw_free(t->tx);
    gw_free(t);
}

bool s7_iso_is_open(const s7_iso *t)
{
    return t->fd >= 0;
}

const char *s7_iso_host(const s7_iso *t)
{
    return t->host;
}

uint16_t s7_iso_port(const s7_iso *t)
{
    return t->opts.port;
}

const s7_iso_opts *s7_iso_opts_of(const s7_iso *t)
{
    return &t->opts;
}

void s7_iso_set_established(s7_iso *t)
{
    t->established = t->fd >= 0;
}

gw_err s7_iso_vfail(s7_iso *t, gw_error *err, gw_err code, int sys_errno, const char *fmt,
                    va_list ap)
{
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (err) {
        gw_error_set(err, code, "plc %s:%u: %s", t->host, t->opts.port, msg);
        gw_error_subject(err, "plc %s:%u", t->host, t->opts.port);
        err->sys_errno = sys_errno;
    }
    if (code == GW_E_TIMEOUT || code == GW_E_CONN_LOST || code == GW_E_PROTOCOL ||
        code == GW_E_CONN_REFUSED || code == GW_E_IO)
        s7_iso_close(t);
    gw_log_write(t->opts.log, GW_LOG_DEBUG, t->opts.log_category, "%s:%u: %s", t->host,
                 t->opts.port, msg);
    return code;
}

gw_err s7_iso_fail(s7_iso *t, gw_error *err, gw_err code, int sys_errno, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gw_err rc = s7_iso_vfail(t, err, code, sys_errno, fmt, ap);
    va_end(ap);
    return rc;
}

void s7_iso_close(s7_iso *t)
{
    if (t->fd < 0)
        return;
    if (t->established) {
        /* a clean end: COTP DR with reason 0x80 (normal), then wait briefly
         * for the peer's DC and its FIN, so that neither side is left with
         * data for a closed socket and resets (ISO 8073 13.5) */
        uint8_t buf[64];
        size_t n = s7_cotp_encode_dr(buf, sizeof(buf), t->remote_ref, t->local_ref, 0x80);
        int e;
        uint64_t deadline = gw_mono_ms() + CLOSE_WAIT_MS;
        if (gw_net_send_all(t->fd, buf, n, deadline, &e) == GW_OK) {
            shutdown(t->fd, SHUT_WR);
            while (gw_net_wait(t->fd, POLLIN, deadline) == GW_OK) {
                ssize_t r = recv(t->fd, buf, sizeof(buf), 0);
                if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
                    break;
            }
        }
    }
    close(t->fd);
    t->fd = -1;
    t->established = false;
    t->tpdu_size = TPDU_DEFAULT;
}

gw_err s7_iso_tcp_connect(s7_iso *t, gw_error *err)
{
    s7_iso_close(t);
    gw_error e;
    gw_error_clear(&e);
    gw_err rc = gw_net_connect(t->host, t->opts.port, t->opts.connect_timeout_ms, &t->fd, &e);
    if (rc == GW_OK)
        return GW_OK;
    t->fd = -1;
    rc = s7_iso_fail(t, err, rc, e.sys_errno, "%s", e.msg);
    if (rc != GW_E_INVAL)
        gw_error_hint(err, "is the PLC on, reachable, and is port %u open?", t->opts.port);
    return rc;
}

/* ---------------------------------------------------------------- I/O */

gw_err s7_iso_send_frame(s7_iso *t, const uint8_t *frame, size_t len, gw_error *err)
{
    if (t->fd < 0)
        return s7_iso_fail(t, err, GW_E_CONN_LOST, 0, "not connected");
    int e;
    gw_err rc = gw_net_send_all(t->fd, frame, len, gw_mono_ms() + t->opts.send_timeout_ms, &e);
    if (rc == GW_E_TIMEOUT)
        return s7_iso_fail(t, err, GW_E_TIMEOUT, 0, "send timed out after %u ms",
                           t->opts.send_timeout_ms);
    if (rc != GW_OK)
        return s7_iso_fail(t, err, GW_E_CONN_LOST, e, "connection lost while sending: %s",
                           strerror(e));
    return GW_OK;
}

gw_err s7_iso_send_pdu(s7_iso *t, const uint8_t *pdu, size_t len, bool one_tpkt, gw_error *err)
{
    /* a DT TPDU (3-byte header + data) fits the TPDU size; one TPKT holds
     * at most 65535 - 7 data bytes */
    size_t part = one_tpkt ? S7_TPKT_MAX - S7_FRAME_HDR
                           : s7_tpdu_bytes(t->tpdu_size) - S7_COTP_DT_LEN;
    if (one_tpkt && len > part)
        return s7_iso_fail(t, err, GW_E_INVAL, 0, "PDU of %zu bytes does not fit one TPKT", len);
    size_t off = 0;
    do {
        size_t n = len - off < part ? len - off : part;
        memcpy(t->tx + S7_FRAME_HDR, pdu + off, n);
        off += n;
        size_t total = s7_frame_dt_part(t->tx, n, off == len);
        gw_err rc = s7_iso_send_frame(t, t->tx, total, err);
        if (rc != GW_OK)
            return rc;
    } while (off < len);
    return GW_OK;
}

static gw_err recv_exact(s7_iso *t, uint8_t *buf, size_t len, uint64_t deadline, gw_error *err)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = recv(t->fd, buf + off, len - off, 0);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n == 0)
            return s7_iso_fail(t, err, GW_E_CONN_LOST, 0, "connection closed by the PLC");
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            gw_err rc = gw_net_wait(t->fd, POLLIN, deadline);
            if (rc == GW_E_TIMEOUT)
                return s7_iso_fail(t, err, GW_E_TIMEOUT, 0, "no answer within %u ms",
                                   t->opts.recv_timeout_ms);
            if (rc != GW_OK)
                return s7_iso_fail(t, err, GW_E_IO, errno, "poll failed: %s", strerror(errno));
            continue;
        }
        return s7_iso_fail(t, err, GW_E_CONN_LOST, errno, "connection lost while receiving: %s",
                           strerror(errno));
    }
    return GW_OK;
}

/* Receives one TPKT packet into t->rx and decodes its COTP header. */
static gw_err recv_packet(s7_iso *t, s7_cotp *cotp, uint64_t deadline, gw_error *err)
{
    if (t->fd < 0)
        return s7_iso_fail(t, err, GW_E_CONN_LOST, 0, "not connected");
    gw_err rc = recv_exact(t, t->rx, S7_TPKT_HDR, deadline, err);
    if (rc != GW_OK)
        return rc;
    size_t total;
    if (s7_tpkt_length(t->rx, &total) != GW_OK)
        return s7_iso_fail(t, err, GW_E_PROTOCOL, 0,
                           "not an ISO-on-TCP (TPKT) packet: %02X %02X %02X %02X", t->rx[0],
                           t->rx[1], t->rx[2], t->rx[3]);
    rc = recv_exact(t, t->rx + S7_TPKT_HDR, total - S7_TPKT_HDR, deadline, err);
    if (rc != GW_OK)
        return rc;
    if (s7_cotp_decode(t->rx, total, cotp) != GW_OK)
        return s7_iso_fail(t, err, GW_E_PROTOCOL, 0, "malformed COTP header");
    return GW_OK;
}

gw_err s7_iso_recv_dt(s7_iso *t, uint64_t deadline_ms, const uint8_t **payload, size_t *len,
                      bool *eot, gw_error *err)
{
    *payload = NULL;
    *len = 0;
    *eot = false;
    if (deadline_ms == 0)
        deadline_ms = gw_mono_ms() + t->opts.recv_timeout_ms;
    s7_cotp cotp;
    gw_err rc = recv_packet(t, &cotp, deadline_ms, err);
    if (rc != GW_OK)
        return rc;
    if (cotp.type == S7_COTP_DR)
        return s7_iso_fail(t, err, GW_E_CONN_LOST, 0, "the PLC disconnected (COTP DR, reason %u)",
                           cotp.reason);
    if (cotp.type != S7_COTP_DT)
        return s7_iso_fail(t, err, GW_E_PROTOCOL, 0, "unexpected COTP TPDU 0x%02X", cotp.type);
    *payload = cotp.payload;
    *len = cotp.payload_len;
    *eot = cotp.eot;
    return GW_OK;
}

gw_err s7_iso_recv_pdu(s7_iso *t, uint8_t *buf, size_t cap, size_t *len, gw_error *err)
{
    uint64_t deadline = gw_mono_ms() + t->opts.recv_timeout_ms;
    *len = 0;
    for (;;) {
        const uint8_t *p;
        size_t n;
        bool eot;
        gw_err rc = s7_iso_recv_dt(t, deadline, &p, &n, &eot, err);
        if (rc != GW_OK) {
            *len = 0;
            return rc;
        }
        if (n > cap - *len) {
            *len = 0;
            return s7_iso_fail(t, err, GW_E_PROTOCOL, 0, "%s%sPDU longer than %zu bytes",
                               t->opts.pdu_name ? t->opts.pdu_name : "",
                               t->opts.pdu_name ? " " : "", cap);
        }
        memcpy(buf + *len, p, n);
        *len += n;
        if (eot)
            return GW_OK;
    }
}

gw_err s7_iso_cotp_connect(s7_iso *t, const s7_cotp *cr, s7_cotp *cc, gw_error *err)
{
    memset(cc, 0, sizeof(*cc));
    size_t n = s7_cotp_encode_conn(t->tx, ISO_BUF, cr);
    if (n == 0)
        return s7_iso_fail(t, err, GW_E_INVAL, 0, "COTP connection request does not encode");
    gw_err rc = s7_iso_send_frame(t, t->tx, n, err);
    if (rc != GW_OK)
        return rc;
    if ((rc = recv_packet(t, cc, gw_mono_ms() + t->opts.recv_timeout_ms, err)) != GW_OK)
        return rc;
    cc->payload = NULL; /* points into t->rx, which the next receive reuses */
    cc->payload_len = 0;
    if (cc->type == S7_COTP_DR)
        return s7_iso_fail(t, err, GW_E_CONN_REFUSED, 0, "the CPU refused the connection (COTP "
                           "DR, reason %u)", cc->reason);
    if (cc->type != S7_COTP_CC)
        return s7_iso_fail(t, err, GW_E_PROTOCOL, 0,
                           "expected a COTP connection confirm, got 0x%02X", cc->type);
    t->local_ref = cr->src_ref;
    t->remote_ref = cc->src_ref;
    /* the CC's TPDU size is the one in force; a CC without one accepts the
     * CR's (ISO 8073 13.3.4 b) */
    uint8_t code = cc->has_tpdu_size ? cc->tpdu_size
                   : cr->has_tpdu_size ? cr->tpdu_size : TPDU_DEFAULT;
    t->tpdu_size = s7_tpdu_bytes(code) ? code : TPDU_DEFAULT;
    return GW_OK;
}

/* ---------------------------------------------------------------- server */

gw_err s7_iso_srv_init(s7_iso_srv *t, uint16_t ref, size_t pdu_cap)
{
    memset(t, 0, sizeof(*t));
    t->ref = ref;
    t->cap = pdu_cap;
    t->pdu = gw_malloc(pdu_cap ? pdu_cap : 1);
    return t->pdu ? GW_OK : GW_E_NOMEM;
}

void s7_iso_srv_clear(s7_iso_srv *t)
{
    gw_free(t->pdu);
    t->pdu = NULL;
    t->cap = t->acc = 0;
}

/* The CC for a CR: TPDU size as `acc` allows, TSAPs echoed or defaulted. */
static size_t confirm(s7_iso_srv *t, const s7_iso_accept *acc, const s7_cotp *cr, uint8_t *out,
                      size_t cap)
{
    s7_cotp cc = {0};
    cc.type = S7_COTP_CC;
    cc.dst_ref = cr->src_ref;
    cc.src_ref = t->ref;
    cc.has_tpdu_size = true;
    cc.tpdu_size = cr->has_tpdu_size && cr->tpdu_size >= 0x07 && cr->tpdu_size <= acc->tpdu_max
                       ? cr->tpdu_size : acc->tpdu_max;
    if (acc->cc_tsaps) {
        cc.src_tsap_bytes = cr->has_src_tsap ? cr->src_tsap_bytes : acc->default_src;
        cc.dst_tsap_bytes = cr->has_dst_tsap ? cr->dst_tsap_bytes : acc->default_dst;
        cc.has_src_tsap = cc.src_tsap_bytes.len > 0;
        cc.has_dst_tsap = cc.dst_tsap_bytes.len > 0;
    }
    t->peer_ref = cr->src_ref;
    t->tpdu_size = cc.tpdu_size;
    t->src_tsap = cr->src_tsap_bytes;
    t->dst_tsap = cr->dst_tsap_bytes;
    return s7_cotp_encode_conn(out, cap, &cc);
}

s7_iso_srv_step s7_iso_srv_packet(s7_iso_srv *t, const s7_iso_accept *acc, const uint8_t *frame,
                                  size_t len, uint8_t *out, size_t cap, size_t *out_len,
                                  const uint8_t **pdu, size_t *pdu_len)
{
    *out_len = 0;
    *pdu = NULL;
    *pdu_len = 0;
    s7_cotp cotp;
    if (s7_cotp_decode(frame, len, &cotp) != GW_OK)
        return S7_ISO_SRV_BAD;
    if (!t->up) {
        if (cotp.type != S7_COTP_CR)
            return S7_ISO_SRV_CLOSE;
        *out_len = confirm(t, acc, &cotp, out, cap);
        t->up = true;
        return S7_ISO_SRV_KEEP;
    }
    if (cotp.type == S7_COTP_DR) {
        /* confirm the disconnect (DC) and close, as snap7's server does
         * (docs/s7comm.md 12) */
        *out_len = s7_cotp_encode_dc(out, cap, cotp.src_ref, t->ref);
        return S7_ISO_SRV_CLOSE;
    }
    if (cotp.type != S7_COTP_DT)
        return S7_ISO_SRV_CLOSE;   /* DC, ER, a second CR */
    if (cotp.payload_len > t->cap - t->acc)
        return S7_ISO_SRV_CLOSE;   /* longer than any PDU we negotiate */
    memcpy(t->pdu + t->acc, cotp.payload, cotp.payload_len);
    t->acc += cotp.payload_len;
    if (!cotp.eot)
        return S7_ISO_SRV_KEEP;
    *pdu = t->pdu;
    *pdu_len = t->acc;
    t->acc = 0;
    return S7_ISO_SRV_PDU;
}

long s7_iso_tpkt_frame(const uint8_t *data, size_t len)
{
    if (len < S7_TPKT_HDR)
        return 0;
    size_t total;
    if (s7_tpkt_length(data, &total) != GW_OK)
        return -1;
    return total <= len ? (long)total : 0;
}

long s7_iso_tcp_frame(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    return s7_iso_tpkt_frame(data, len);
}

size_t s7_iso_error_reply(const uint8_t *frame, size_t len, uint8_t *out, size_t cap,
                          s7_cotp *cotp)
{
    if (s7_cotp_decode(frame, len, cotp) != GW_OK) {
        memset(cotp, 0, sizeof(*cotp));
        return 0;
    }
    if (cotp->type == S7_COTP_CR)
        return s7_cotp_encode_dr(out, cap, cotp->src_ref, 0, 0x80);
    return 0;
}
