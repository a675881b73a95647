/*
 * s7_iso.h - ISO-on-TCP (TPKT, RFC 1006, + COTP class 0, ISO 8073): the
 * transport under S7comm and S7CommPlus, one implementation for both.
 *
 * Client side: an s7_iso connection object that owns one socket and does
 * every wait with a deadline: TCP connect, COTP connect with the caller's
 * CR, PDUs sent as COTP DT (split at the negotiated TPDU size, or in one
 * TPKT), PDUs received (DT fragments joined until EOT) or DT payloads one
 * by one, and a clean close (DR, then a short wait for DC or the peer's
 * FIN). Errors go into a gw_error as "plc HOST:PORT: <what>", the messages
 * and codes the S7 client has always given (docs/s7comm.md 1-2).
 *
 * Server side: s7_iso_srv, the COTP state of one server connection (no
 * I/O): CR -> CC, DR -> DC and close, DT fragments joined into a PDU,
 * bounded; s7_iso_tpkt_frame for gw_tcpsrv's frame callback; the COTP
 * part of the ERROR fault's reply. The protocol above supplies "serve one
 * whole PDU".
 *
 * Thread: an s7_iso and an s7_iso_srv have one owner thread; nothing here
 * locks.
 */
#ifndef GW_S7_ISO_H
#define GW_S7_ISO_H

#include "s7_codec.h"

/* ================================================================ client */

typedef struct s7_iso s7_iso;

typedef struct {
    const char *host;             /* copied; NULL = 127.0.0.1 */
    uint16_t port;                /* 0 = 102 (RFC 1006) */
    uint32_t connect_timeout_ms;  /* 0 = 2000 each */
    uint32_t send_timeout_ms;
    uint32_t recv_timeout_ms;     /* per PDU (s7_iso_recv_pdu) */
    gw_log *log;                  /* borrowed; debug line per error; may be NULL */
    const char *log_category;     /* e.g. "s7"; borrowed, must outlive the object */
    const char *pdu_name;         /* "S7": "S7 PDU longer than N bytes"; borrowed */
} s7_iso_opts;

/* Allocates a closed connection (receive buffer of one TPKT, 64 KiB).
 * GW_E_NOMEM. */
gw_err s7_iso_new(const s7_iso_opts *opts, s7_iso **out);
/* Closes (s7_iso_close) and frees; NULL does nothing. */
void s7_iso_free(s7_iso *t);

bool s7_iso_is_open(const s7_iso *t);
const char *s7_iso_host(const s7_iso *t);
uint16_t s7_iso_port(const s7_iso *t);
/* The options in use: those given, the defaults above applied; host is
 * t's copy. What a client built on t reports (host, port, timeouts). */
const s7_iso_opts *s7_iso_opts_of(const s7_iso *t);

/*
 * TCP connect within connect_timeout_ms (closes first if open). Errors as
 * gw_net_connect gives them (GW_E_CONN_REFUSED, GW_E_TIMEOUT, GW_E_INVAL
 * for a bad host...), with the hint "is the PLC on, reachable, and is port
 * N open?" except for GW_E_INVAL.
 */
gw_err s7_iso_tcp_connect(s7_iso *t, gw_error *err);

/*
 * COTP connect: sends the caller's CR (cr->type S7_COTP_CR; TSAPs of any
 * length, TPDU size) and receives the answer into *cc (OUT; its payload
 * pointers are unused). Keeps the CC's src reference for DR, and the
 * TPDU size (the CC's, else the CR's, else 128, ISO 8073 13.3.4 b) for
 * s7_iso_send_pdu. Errors: GW_E_CONN_REFUSED "the CPU refused the
 * connection (COTP DR, reason N)"; GW_E_PROTOCOL "expected a COTP
 * connection confirm, got 0xNN"; the send and receive errors below.
 */
gw_err s7_iso_cotp_connect(s7_iso *t, const s7_cotp *cr, s7_cotp *cc, gw_error *err);

/*
 * Marks the connection in use: from now on s7_iso_close ends it with a
 * COTP DR (S7 after setup communication). Cleared by the close.
 */
void s7_iso_set_established(s7_iso *t);

/* Sends bytes already framed as TPKT packets (the S7 encoders build whole
 * frames). GW_E_TIMEOUT "send timed out after N ms", GW_E_CONN_LOST
 * "connection lost while sending: ..." or "not connected". */
gw_err s7_iso_send_frame(s7_iso *t, const uint8_t *frame, size_t len, gw_error *err);

/*
 * Sends one PDU (pdu, len) as COTP DT: in fragments of the negotiated
 * TPDU size (EOT on the last), or, when one_tpkt, as one DT in one TPKT
 * whatever the TPDU size (py7's emulator reads exactly one TPKT per
 * request). GW_E_INVAL when len does not fit (one_tpkt: 65528 bytes), and
 * the errors of s7_iso_send_frame.
 */
gw_err s7_iso_send_pdu(s7_iso *t, const uint8_t *pdu, size_t len, bool one_tpkt,
                       gw_error *err);

/*
 * Receives one PDU into buf (cap bytes; OUT *len), joining DT fragments
 * until EOT, within recv_timeout_ms for the whole PDU. TPKTs of any length
 * up to 65535 are accepted. Errors: GW_E_TIMEOUT "no answer within N ms";
 * GW_E_CONN_LOST "connection closed by the PLC", "the PLC disconnected
 * (COTP DR, reason N)", "connection lost while receiving: ..."; GW_E_PROTOCOL
 * "not an ISO-on-TCP (TPKT) packet: ...", "malformed COTP header",
 * "unexpected COTP TPDU 0xNN", "<pdu_name> PDU longer than <cap> bytes";
 * GW_E_IO "poll failed: ...".
 */
gw_err s7_iso_recv_pdu(s7_iso *t, uint8_t *buf, size_t cap, size_t *len, gw_error *err);

/*
 * Receives one DT and gives its payload (OUT *payload, valid until the
 * next receive on t; *len; *eot), for protocols that frame above COTP
 * (S7CommPlus). deadline_ms on the gw_mono_ms clock; 0 = now +
 * recv_timeout_ms. Errors as s7_iso_recv_pdu, without the size one.
 */
gw_err s7_iso_recv_dt(s7_iso *t, uint64_t deadline_ms, const uint8_t **payload, size_t *len,
                      bool *eot, gw_error *err);

/*
 * Closes: when established, a COTP DR (reason 0x80, normal) and a wait of
 * at most 200 ms for the peer's DC and FIN, so that neither side is left
 * with data for a closed socket and resets (ISO 8073 13.5); then the
 * socket. Closed already: nothing.
 */
void s7_iso_close(s7_iso *t);

/*
 * Fills err with "plc HOST:PORT: <fmt>" (subject "plc HOST:PORT", errno
 * sys_errno), logs it at debug, and on a link error (GW_E_TIMEOUT,
 * GW_E_CONN_LOST, GW_E_PROTOCOL, GW_E_CONN_REFUSED, GW_E_IO) closes t.
 * Returns code. Every error of the functions above comes through here, and
 * the protocol above may use it for its own errors.
 */
gw_err s7_iso_fail(s7_iso *t, gw_error *err, gw_err code, int sys_errno, const char *fmt, ...)
    GW_PRINTF(5, 6);
/* The same with a va_list. */
gw_err s7_iso_vfail(s7_iso *t, gw_error *err, gw_err code, int sys_errno, const char *fmt,
                    va_list ap) GW_PRINTF(5, 0);

/* ================================================================ server */

/* How a server confirms a CR. */
typedef struct {
    uint8_t tpdu_max;        /* TPDU size code confirmed at most: the CR's code
                                when within 0x07..tpdu_max, else tpdu_max */
    bool cc_tsaps;           /* the CC carries both TSAPs: the CR's (any
                                length), else the defaults */
    s7_tsap default_src, default_dst;
} s7_iso_accept;

/* The COTP state of one server connection. */
typedef struct {
    bool up;                 /* CC sent */
    uint16_t ref;            /* our reference, in the CC and DC */
    uint16_t peer_ref;       /* the CR's src reference */
    uint8_t tpdu_size;       /* the code confirmed */
    s7_tsap src_tsap, dst_tsap;  /* the CR's calling and called TSAPs */
    uint8_t *pdu;            /* DT payloads joined */
    size_t acc, cap;
} s7_iso_srv;

/* Allocates the join buffer (pdu_cap bytes: the longest PDU accepted).
 * GW_E_NOMEM. */
gw_err s7_iso_srv_init(s7_iso_srv *t, uint16_t ref, size_t pdu_cap);
void s7_iso_srv_clear(s7_iso_srv *t);

typedef enum {
    S7_ISO_SRV_BAD,   /* malformed COTP: close (the caller may log it) */
    S7_ISO_SRV_CLOSE, /* close, after sending the reply if any (a DC) */
    S7_ISO_SRV_KEEP,  /* keep the connection; the reply if any (a CC) */
    S7_ISO_SRV_PDU    /* a whole PDU: (*pdu, *pdu_len), valid until the next call */
} s7_iso_srv_step;

/*
 * The COTP part of serving one whole TPKT packet (frame, len): before the
 * CC only a CR is accepted (answered by a CC as `acc` says); DR gets a DC
 * and a close, DC a close, anything but DT a close; DT payloads are joined
 * until EOT, and a PDU over t->cap closes. The reply (CC, DC) goes to out
 * (cap bytes; OUT *out_len, 0 for none).
 */
s7_iso_srv_step s7_iso_srv_packet(s7_iso_srv *t, const s7_iso_accept *acc, const uint8_t *frame,
                                  size_t len, uint8_t *out, size_t cap, size_t *out_len,
                                  const uint8_t **pdu, size_t *pdu_len);

/* gw_tcpsrv's frame callback for TPKT (RFC 1006 6): the length of the
 * packet at data when whole, 0 when more bytes are needed, -1 when the
 * bytes are not TPKT. */
long s7_iso_tpkt_frame(const uint8_t *data, size_t len);
/* The same with gw_tcpsrv's frame callback signature (user unused). */
long s7_iso_tcp_frame(void *user, const uint8_t *data, size_t len);

/*
 * The COTP part of a server's answer to the packet (frame, len) under the
 * ERROR fault (gw_tcpsrv's error_reply): a CR gets a DR (reason 0x80; its
 * length returned, the bytes in out, cap bytes). Otherwise 0, and *cotp
 * the packet decoded (type 0 when it is not COTP): for a DT the protocol
 * above answers the request in cotp->payload.
 */
size_t s7_iso_error_reply(const uint8_t *frame, size_t len, uint8_t *out, size_t cap,
                          s7_cotp *cotp);

#endif
