/*
 * s7p_server_internal.h - the S7CommPlus server's per-connection session,
 * for s7p_server.c, its unit test and its fuzz target: the same function
 * the server thread runs, without sockets.
 */
#ifndef GW_S7P_SERVER_INTERNAL_H
#define GW_S7P_SERVER_INTERNAL_H

#include "drivers/s7/s7_iso.h"
#include "s7plus.h"

/* Limits (docs/s7commplus.md "Server"): per connection a COTP join buffer
 * (one frame), a reassembly buffer (one request PDU); per server one
 * response PDU and its framed copy. */
#define S7P_SRV_FRAME_MAX (S7P_FRAME_HDR + S7P_FRAME_MAX_DATA + S7P_FRAME_TRL)
#define S7P_SRV_REQ_MAX (128u * 1024u)   /* a request PDU, fragments joined */
#define S7P_SRV_RSP_MAX (256u * 1024u)   /* a response PDU */
#define S7P_SRV_MAX_ITEMS 4096u          /* items per GetMulti/SetMulti */

typedef struct s7p_session s7p_session;

/* A session for one connection from `peer` ("addr:port", copied). GW_E_NOMEM. */
gw_err s7p__session_new(gw_s7p_server *s, const char *peer, s7p_session **out);
void s7p__session_free(s7p_session *c);
/* The session id CreateObject gave it (0: none, or deleted). */
uint32_t s7p__session_id(const s7p_session *c);

/*
 * Serves one whole TPKT packet (frame, len) of the connection: COTP, frame
 * reassembly, dispatch. The answer (zero or more whole TPKT packets, in
 * the server's buffer, valid until the next call on this server) goes to
 * *reply / *reply_len. Returns false to close the connection after the
 * answer. Writes reach the memory (and its write hook) during the call.
 * Server thread (or a test's thread while the server is not started).
 */
bool s7p__serve_packet(gw_s7p_server *s, s7p_session *c, const uint8_t *frame, size_t len,
                       const uint8_t **reply, size_t *reply_len);

#endif
