/*
 * s7_internal.h - shared by the files of the S7 driver and its tests.
 */
#ifndef GW_S7_INTERNAL_H
#define GW_S7_INTERNAL_H

#include "s7.h"
#include "s7_codec.h"
#include "s7_iso.h"

#include <pthread.h>

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

/*
 * The server is four files on one struct: s7_server.c (connections, COTP,
 * setup, Read/Write Var, the dispatch), s7_szl.c (userdata group 4: system
 * state lists), s7_cpu.c (run/stop, PI start, session password, clock) and
 * s7_blocks.c (block functions, upload, download, delete, compress, copy
 * RAM to ROM). All run on the server thread; `lock` guards what other
 * threads also touch (areas, cpu state, the block store).
 */

#define S7_SRV_IN_CAP (S7_TPKT_MAX + 1u)
#define S7_SRV_PDU_MAX 960u      /* the largest PDU an S7-1500 offers */
#define S7_SRV_PDU_MIN 240u      /* and an S7-1200's */
/* s->tx holds one reply, or a reply and a job of the CPU's own that
 * follows it in the same send (a download's first Download Block) */
#define S7_SRV_TX_CAP (2u * S7_SRV_IN_CAP)
#define S7_SRV_MAX_WRITES 64     /* write events reported per PDU */
#define S7_SRV_WBUF (4u * 1024u) /* before/after bytes of one PDU's writes */

typedef struct {
    gw_s7_area area;
    uint16_t db;
    uint32_t size;
    uint8_t *mem;
    int64_t created_ms;    /* epoch ms, for block info (0 = server start) */
} s7_srv_area;

typedef struct {
    gw_s7_area area;
    uint16_t db;
    uint32_t start, len;
    int bit;              /* bit writes: the bit, else -1 */
    size_t off;           /* before and after bytes in wbuf: off, off + len */
} s7_srv_write;

typedef struct s7_blocks s7_blocks;       /* s7_blocks.c */

/* The diagnostic buffer (s7_szl.c): a ring of the newest mode changes. */
#define S7_DIAG_MAX 32u
typedef struct {
    uint16_t event_id;
    int64_t epoch_ms;     /* CPU clock */
} s7_diag_event;

struct gw_s7_server {
    gw_s7_server_opts opts;  /* strings point into the copies below */
    char host[256];
    char order_code[24];
    char firmware[16];
    char module_name[33];
    char station_name[33];
    char plc_name[33];
    char serial[33];
    gw_tcpsrv *tcp;              /* sockets, threads and faults */
    pthread_mutex_t lock;        /* areas, timers, counters, cpu, blocks */
    s7_srv_area *areas;
    size_t nareas;
    uint8_t *timers;             /* opts.timers x 2 bytes */
    uint8_t *counters;           /* opts.counters x 2 bytes */
    int64_t started_ms;          /* epoch ms the server was made */
    /* s7_cpu.c */
    gw_s7_cpu_state cpu_state;
    char password[9];            /* "" = none */
    int64_t clock_offset_ms;     /* set clock: CPU time = clock + offset */
    /* s7_szl.c: diagnostic buffer; diag[diag_head] is written next */
    s7_diag_event diag[S7_DIAG_MAX];
    uint32_t diag_head, diag_count;
    /* s7_blocks.c */
    s7_blocks *blocks;
    bool snap7_writes;           /* tests: answer writes as python-snap7 does */
    uint16_t next_ref;
    /* server thread only: */
    uint8_t *tx;                 /* S7_SRV_TX_CAP */
    s7_srv_write writes[S7_SRV_MAX_WRITES];
    size_t nwrites;
    uint8_t wbuf[S7_SRV_WBUF];
    size_t wbuf_len;
};

/* One client connection of the server: COTP state, negotiated PDU, the
 * bytes received and not yet served, DT fragments joined. */
typedef struct s7_szl_pending s7_szl_pending;   /* s7_szl.c */
typedef struct s7_blk_xfer s7_blk_xfer;         /* s7_blocks.c */

typedef struct {
    char peer[64];
    bool cotp_up;          /* iso.up after each packet, for the tests */
    bool setup_done;
    bool authorized;       /* the session password was given (s7_cpu.c) */
    uint16_t pdu_len;
    s7_iso_srv iso;        /* COTP state, DT fragments joined (s7_iso.h) */
    s7_szl_pending *szl;   /* the rest of a fragmented SZL answer */
    s7_blk_xfer *xfer;     /* an upload or download in progress */
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

/* -- reply builders (s7_server.c), all into s->tx; each returns the frame
 *    length, which the serve function returns */

/* A header-only Ack or Ack_Data with an error class and code. */
size_t s7__reply_error(gw_s7_server *s, uint16_t ref, uint8_t rosctr, uint8_t err_class,
                       uint8_t err_code);
/* An Ack_Data: write the parameter at s7__ack_param(s) and the data right
 * after it, then finish with their lengths. */
uint8_t *s7__ack_param(gw_s7_server *s);
size_t s7__ack_finish(gw_s7_server *s, uint16_t ref, size_t param_len, size_t data_len);
/* A userdata answer: write the data part at s7__ud_data(s), then finish
 * with the request's parameter; the answer's parameter is the 12-byte
 * response form (method 0x12, type 8 | group, subfunction, seq, data unit
 * reference, last data unit 0x00 / 0x01 when `more`, error code). */
uint8_t *s7__ud_data(gw_s7_server *s);
size_t s7__ud_finish(gw_s7_server *s, uint16_t ref, const s7_userdata_param *up, uint8_t seq,
                     uint8_t dur, bool more, uint16_t err_code, size_t data_len);
/* A userdata error answer: the error code, data `0A 00 00 00`. */
size_t s7__ud_error(gw_s7_server *s, uint16_t ref, const s7_userdata_param *up,
                    uint16_t err_code);
/* Appends a job of the CPU's own (ROSCTR 1) as a second frame after the
 * reply of `at` bytes already in s->tx; returns the new total length, or
 * `at` when it does not fit. */
size_t s7__append_job(gw_s7_server *s, size_t at, uint16_t ref, const uint8_t *param,
                      size_t param_len, const uint8_t *data, size_t data_len);
/* The area of a DB (or M, I, Q); the lock held. */
s7_srv_area *s7__find_area(gw_s7_server *s, gw_s7_area area, uint16_t db);

/* -- the other server files; each `serve` returns the reply length in
 *    s->tx (0: close the connection), and is called without the lock */

/* s7_szl.c: userdata group 4 (SZL read, its continuation, system state). */
size_t s7__serve_cpu_functions(gw_s7_server *s, s7_session *c, const s7_header *h,
                               const s7_userdata_param *up);
void s7__szl_session_free(s7_session *c);
/* The diagnostic buffer (SZL 0x00A0, 0x01A0; s7_szl.c): the CPU's mode
 * changed (stop, hot or cold start, by a client or by the host), at the
 * CPU clock's `epoch_ms`. Lock held. */
void s7__diag_mode_change(gw_s7_server *s, gw_s7_cpu_state from, gw_s7_cpu_state to,
                          bool cold, int64_t epoch_ms);

/* s7_cpu.c: job PI service (0x28; block PIs are passed to s7_blocks.c),
 * PLC stop (0x29), userdata group 5 (password) and 7 (clock). */
size_t s7__serve_pi(gw_s7_server *s, s7_session *c, const s7_header *h);
size_t s7__serve_stop(gw_s7_server *s, s7_session *c, const s7_header *h);
size_t s7__serve_security(gw_s7_server *s, s7_session *c, const s7_header *h,
                          const s7_userdata_param *up);
size_t s7__serve_time(gw_s7_server *s, s7_session *c, const s7_header *h,
                      const s7_userdata_param *up);
/* Whether this session may write memory or control the CPU: no password
 * set, or the session gave it. Lock held. */
bool s7__session_may_write(gw_s7_server *s, const s7_session *c);
/* The CPU clock now: opts.clock_ms (or the host's clock) plus what a
 * client's set clock moved it by; epoch ms. Lock held. */
int64_t s7__cpu_clock_ms(gw_s7_server *s);

/* s7_blocks.c: the block store, userdata group 3, jobs 0x1A-0x1F, the
 * client's Ack_Data to the CPU's download jobs, and the block PIs. */
/* Copies the declared OB/FC/FB (opts.blocks) into a new block store. */
gw_err s7__blocks_new(gw_s7_server *s, const gw_s7_block_decl *decl, size_t n);
void s7__blocks_free(gw_s7_server *s);
size_t s7__serve_block_functions(gw_s7_server *s, s7_session *c, const s7_header *h,
                                 const s7_userdata_param *up);
size_t s7__serve_block_job(gw_s7_server *s, s7_session *c, const s7_header *h);
size_t s7__serve_block_ack(gw_s7_server *s, s7_session *c, const s7_header *h);
/* A PI service naming a block function (_INSE, _DELE, _GARB, _MODU);
 * returns 0 when `name` is not one of them. */
size_t s7__serve_block_pi(gw_s7_server *s, s7_session *c, const s7_header *h,
                          const char *name, const uint8_t *args, size_t args_len);
void s7__blocks_session_free(s7_session *c);

/* ---------------------------------------------------------------- client */

/*
 * What the client's other files (s7_client_cpu.c, s7_client_blocks.c)
 * build on. A frame is built in the client's own buffer (s7__client_tx),
 * with a reference from s7__client_next_ref; s7__client_exchange sends it
 * and receives the answer (DT fragments joined), checks that it answers
 * `ref` and counts the round trip; *h points into the client and is valid
 * until the next call. A broken link closes the connection, as every
 * client call does (s7__client_fail too, for those codes).
 */
uint16_t s7__client_next_ref(gw_s7_client *c);
uint8_t *s7__client_tx(gw_s7_client *c, size_t *cap);
uint16_t s7__client_pdu_len(const gw_s7_client *c);
gw_err s7__client_exchange(gw_s7_client *c, const uint8_t *frame, size_t len, uint16_t ref,
                           s7_header *h, gw_error *err);
/* one frame out / one PDU in, for exchanges that are not request and
 * answer (a download: the CPU sends jobs of its own) */
gw_err s7__client_send(gw_s7_client *c, const uint8_t *frame, size_t len, gw_error *err);
gw_err s7__client_recv(gw_s7_client *c, s7_header *h, gw_error *err);
/* "plc HOST:PORT: ..." into err; closes on a link error, as the client does */
gw_err s7__client_fail(gw_s7_client *c, gw_error *err, gw_err code, const char *fmt, ...)
    GW_PRINTF(4, 5);

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
