/*
 * s7_internal.h - shared by the files of the S7 driver and its tests.
 */
#ifndef GW_S7_INTERNAL_H
#define GW_S7_INTERNAL_H

#include "s7.h"
#include "s7_codec.h"

typedef struct {
    gw_s7_area area;
    uint16_t db;
    uint32_t start;
    uint32_t len;
    uint32_t req;       /* request it belongs to */
    size_t buf_off;     /* where its bytes go in the exchange buffer */
} s7_plan_item;

typedef struct {
    size_t first;       /* index of its first item (items are grouped) */
    size_t nitems;
    size_t reply;       /* reply bytes, fill bytes counted */
} s7_plan_req;

/* The part of range `range` that item `item` carries. */
typedef struct {
    uint32_t range;
    uint32_t item;
    uint32_t item_off;
    uint32_t range_off;
    uint32_t len;
} s7_plan_piece;

struct gw_s7_plan {
    uint16_t pdu_len;
    size_t nranges;
    s7_plan_item *items;
    size_t nitems;
    s7_plan_req *reqs;
    size_t nreqs;
    s7_plan_piece *pieces;
    size_t npieces;
    size_t buf_len;     /* bytes of all items */
};

/* Protocol area code of an area (docs/s7comm.md, areas). */
static inline uint8_t s7__area_code(gw_s7_area a)
{
    switch (a) {
    case GW_S7_DB: return S7_AREA_DB;
    case GW_S7_M: return S7_AREA_M;
    case GW_S7_I: return S7_AREA_I;
    case GW_S7_Q: return S7_AREA_Q;
    }
    return 0;
}

const char *s7__area_name(gw_s7_area a);

/* gw_s7_plan_new, and with no_merge one item per range (long ranges are
 * still split): how a failed merged item is read again range by range. */
gw_err s7__plan_new(const gw_s7_range *ranges, size_t n, const gw_s7_plan_opts *opts,
                    bool no_merge, gw_s7_plan **out);

/* ---------------------------------------------------------------- server */

/* One client connection of the server: COTP state, negotiated PDU, the
 * bytes received and not yet served, DT fragments joined. */
typedef struct {
    char peer[64];
    bool cotp_up;
    bool setup_done;
    uint16_t pdu_len;
    uint16_t ref;          /* our COTP reference */
    uint8_t *pdu;          /* DT fragments joined */
    size_t pdu_acc;
} s7_session;

gw_err s7__session_init(s7_session *c, const char *peer, uint16_t ref);
void s7__session_clear(s7_session *c);
/*
 * Serves one whole TPKT packet (frame, len) of a session: no I/O. *reply is
 * the answer to send (server-owned, valid until the next call), or
 * reply_len 0. Returns false when the connection must be closed after the
 * reply. Memory writes are applied; s7__fire_writes then tells the hook.
 */
bool s7__serve_packet(gw_s7_server *s, s7_session *c, const uint8_t *frame, size_t len,
                      const uint8_t **reply, size_t *reply_len);
void s7__fire_writes(gw_s7_server *s, const char *peer);
/*
 * Tests only, never set by the daemon or the simulator: with `on`, the
 * server answers a Write Var of several items as python-snap7's server
 * does (docs/s7comm.md 7.1): it writes only the first item and replies
 * with one return code. Default off. Any thread; takes the server lock.
 */
void s7__server_emulate_snap7_writes(gw_s7_server *s, bool on);

/* ---------------------------------------------------------------- client */

/*
 * Parses the reply to request `r` of a plan: header error, item count,
 * data items; stores item bytes at their plan offsets in `scratch` and
 * each item's return code in item_rc. No I/O. GW_E_DEVICE_REJECTED for a
 * header error (all items of the request get code 0), GW_E_PROTOCOL for a
 * malformed reply; `why` says what.
 */
gw_err s7__parse_read_reply(const gw_s7_plan *plan, size_t r, const s7_header *h,
                            uint8_t *scratch, uint8_t *item_rc, char *why, size_t why_size);

/*
 * Parses the reply to a Write Var of n items: header, function, item
 * count, return codes. No I/O. On GW_OK, codes[0..*ncodes) are the return
 * codes of the first *ncodes items, 1 <= *ncodes <= n; fewer than n is a
 * partial acknowledgement (python-snap7's server, docs/s7comm.md 7.1) and
 * the caller writes the rest again. GW_E_DEVICE_REJECTED for a header
 * error; GW_E_PROTOCOL for a malformed reply (no codes, more codes than
 * items, fewer code bytes than the count says); `why` says what.
 */
gw_err s7__parse_write_reply(const s7_header *h, size_t n, uint8_t *codes, size_t *ncodes,
                             char *why, size_t why_size);

#endif
