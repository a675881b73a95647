/*
 * s7.h - Siemens S7comm (ISO-on-TCP, port 102): our own client and server
 * on one codec (s7_codec.h).
 *
 * Client: connect with timeouts, negotiate the PDU size and honour the
 * PLC's answer, read many ranges in the fewest round trips (a read plan),
 * write many ranges in one request, write single bits with transport size
 * BIT (never a read-modify-write of a byte the PLC also writes), read SZL
 * lists. A client has one owner thread; it has no locks.
 *
 * Server: DB, M, I and Q areas in memory for the simulator and for tests,
 * several clients at once, each with its own negotiated PDU; one thread.
 */
#ifndef GW_S7_H
#define GW_S7_H

#include "tags/tags.h"

/* ---------------------------------------------------------------- ranges */

/* One range of PLC memory to read or write. */
typedef struct {
    gw_s7_area area;
    uint16_t db;          /* DB number for GW_S7_DB */
    uint32_t start;       /* byte offset */
    uint32_t len;         /* bytes (reads and byte writes) */
    bool is_bit;          /* write of one bit: bit `bit` of byte `start` */
    uint8_t bit;
    uint8_t *dst;         /* reads: len bytes are stored here */
    const uint8_t *src;   /* writes: len bytes (or one byte 0/1 for a bit) */
    /* results, per range */
    gw_err result;        /* GW_OK, or why this range failed */
    uint8_t item_rc;      /* the PLC's item return code (0xFF = success) */
} gw_s7_range;

/* ---------------------------------------------------------------- plans */

/*
 * A read plan packs ranges into the fewest Read Var requests: ranges of
 * one area/DB closer than `gap` bytes are merged into one item, an item
 * larger than one reply is split, and items are packed into requests so
 * that each request and its reply fit the PDU and carry at most max_items
 * items. A plan is built once per set of ranges and PDU size and used for
 * every cycle.
 */
typedef struct gw_s7_plan gw_s7_plan;

typedef struct {
    uint16_t pdu_len;     /* negotiated PDU length */
    uint16_t max_items;   /* items per request, default 20 (snap7's limit) */
    uint16_t gap;         /* merge ranges at most this many bytes apart */
} gw_s7_plan_opts;

#define GW_S7_DEFAULT_MAX_ITEMS 20
/* A separate item costs 12 request bytes and 4-5 reply bytes; a gap costs
 * its size in reply bytes. Merging below 16 bytes never costs more. */
#define GW_S7_DEFAULT_GAP 16

gw_err gw_s7_plan_new(const gw_s7_range *ranges, size_t n, const gw_s7_plan_opts *opts,
                      gw_s7_plan **out);
void gw_s7_plan_free(gw_s7_plan *p);
size_t gw_s7_plan_requests(const gw_s7_plan *p);
size_t gw_s7_plan_items(const gw_s7_plan *p, size_t request);
/* Human description of the plan ("request 1: DB2.DBB0 26 bytes, ..."). */
void gw_s7_plan_describe(const gw_s7_plan *p, gw_buf *out);

/* Block types as the S7 block address and the block functions code them
 * (docs/s7comm.md 14): the ASCII character after '0'. */
typedef enum {
    GW_S7_BLK_OB = 0x38,   /* '8' */
    GW_S7_BLK_DB = 0x41,   /* 'A' */
    GW_S7_BLK_SDB = 0x42,  /* 'B' */
    GW_S7_BLK_FC = 0x43,   /* 'C' */
    GW_S7_BLK_SFC = 0x44,  /* 'D' */
    GW_S7_BLK_FB = 0x45,   /* 'E' */
    GW_S7_BLK_SFB = 0x46   /* 'F' */
} gw_s7_block_type;

/* ---------------------------------------------------------------- client */

typedef struct gw_s7_client gw_s7_client;

typedef struct {
    const char *host;
    uint16_t port;               /* 102 */
    uint8_t rack, slot;          /* 0, 1 for S7-1200/1500 */
    uint8_t conn_type;           /* 1 PG (default), 2 OP, 3 S7 basic */
    bool explicit_tsaps;         /* use local_tsap/remote_tsap as given */
    uint16_t local_tsap, remote_tsap;
    uint16_t pdu_request;        /* PDU length to ask for, default 960 */
    uint32_t connect_timeout_ms; /* default 2000 each */
    uint32_t send_timeout_ms;
    uint32_t recv_timeout_ms;
    uint16_t max_items;          /* default 20 */
    uint16_t gap;                /* 0 = GW_S7_DEFAULT_GAP */
    bool no_merge;               /* never merge ranges into one item */
    gw_log *log;                 /* borrowed, may be NULL */
} gw_s7_opts;

/* Copies opts (host included). */
gw_err gw_s7_client_new(const gw_s7_opts *opts, gw_s7_client **out);
void gw_s7_client_free(gw_s7_client *c);
/* TCP connect, COTP connect, setup communication. */
gw_err gw_s7_connect(gw_s7_client *c, gw_error *err);
/* Sends a COTP disconnect and closes; safe when not connected. */
void gw_s7_close(gw_s7_client *c);
bool gw_s7_connected(const gw_s7_client *c);
uint16_t gw_s7_pdu_len(const gw_s7_client *c);
uint16_t gw_s7_amq(const gw_s7_client *c);   /* jobs we may have open */
/* Round trips (requests sent and answered) since connect. */
uint64_t gw_s7_round_trips(const gw_s7_client *c);

/*
 * Reads every range, planning the requests. Each range gets its own
 * result: one bad address fails that range (result, item_rc) and not the
 * others - when an item that carried several ranges fails, those ranges
 * are read again one by one to find the bad one. Returns GW_OK when the exchange with the PLC worked, even if
 * some ranges failed; a connection error fails the call and closes.
 */
gw_err gw_s7_read(gw_s7_client *c, gw_s7_range *ranges, size_t n, gw_error *err);
/* The same with a prepared plan (built for these ranges and this PDU). */
gw_err gw_s7_read_plan(gw_s7_client *c, const gw_s7_plan *plan, gw_s7_range *ranges,
                       gw_error *err);
/* Writes every range in as few Write Var requests as fit; bits with
 * transport size BIT. Per-range results as for reads. A PLC that answers a
 * multi-item request with fewer return codes than items (python-snap7's
 * server writes and answers only the first, docs/s7comm.md 7.1) has the
 * others written again one item per request, each with its own result;
 * that is logged once and kept for the connection: later writes go one
 * item per request until the next connect. */
gw_err gw_s7_write(gw_s7_client *c, gw_s7_range *ranges, size_t n, gw_error *err);

/* Reads an SZL list; copies its records into buf (count and record size
 * returned). */
gw_err gw_s7_read_szl(gw_s7_client *c, uint16_t id, uint16_t index, uint8_t *buf, size_t cap,
                      size_t *len, uint16_t *record_len, uint16_t *records, gw_error *err);

typedef struct {
    char order_code[24];   /* "6ES7 214-1AG40-0XB0" */
    char firmware[16];     /* "V4.2.1" */
    char hardware[16];
    /* SZL 0x001C, "" when the CPU does not answer it */
    char station_name[33]; /* index 1 */
    char plc_name[33];     /* index 2 */
    char serial[33];       /* index 5 */
    char module_name[33];  /* index 7, "CPU 1214C DC/DC/DC" */
} gw_s7_cpu_info;

typedef enum { GW_S7_CPU_UNKNOWN = 0, GW_S7_CPU_STOP = 4, GW_S7_CPU_RUN = 8 } gw_s7_cpu_state;

/* SZL 0x0011 (order code, firmware, hardware; an error fails the call)
 * and 0x001C (names, serial; left empty when the CPU refuses it). */
gw_err gw_s7_cpu_info_read(gw_s7_client *c, gw_s7_cpu_info *info, gw_error *err);
gw_err gw_s7_cpu_state_read(gw_s7_client *c, gw_s7_cpu_state *state, gw_error *err);

/* -- timers and counters (docs/s7comm.md 15): `count` S7 timers (S5TIME
 *    words) or counters (BCD words) from number `first`, in host order */
gw_err gw_s7_tm_ct_read(gw_s7_client *c, bool counters, uint16_t first, uint16_t count,
                        uint16_t *values, gw_error *err);
gw_err gw_s7_tm_ct_write(gw_s7_client *c, bool counters, uint16_t first, uint16_t count,
                         const uint16_t *values, gw_error *err);

/* -- CPU control, password, clock (s7_client_cpu.c; docs/s7comm.md 16, 17) */

/* PLC stop (job 0x29), hot start and cold start (PI service P_PROGRAM). */
gw_err gw_s7_plc_stop(gw_s7_client *c, gw_error *err);
gw_err gw_s7_plc_hot_start(gw_s7_client *c, gw_error *err);
gw_err gw_s7_plc_cold_start(gw_s7_client *c, gw_error *err);
/* The session password (at most 8 characters; userdata group 5). */
gw_err gw_s7_set_password(gw_s7_client *c, const char *password, gw_error *err);
gw_err gw_s7_clear_password(gw_s7_client *c, gw_error *err);
/* SZL 0x0232 index 4: the protection the CPU reports. */
typedef struct {
    uint16_t sch_schal;   /* protection level of the mode selector */
    uint16_t sch_par;     /* the password's level (0: no password) */
    uint16_t sch_rel;     /* valid protection level */
    uint16_t bart_sch;    /* mode selector: 1 RUN, 2 RUN-P, 3 STOP, 4 MRES */
    uint16_t anl_sch;     /* startup switch */
} gw_s7_protection;
gw_err gw_s7_protection_read(gw_s7_client *c, gw_s7_protection *p, gw_error *err);
/* The CPU clock as milliseconds since the epoch (UTC as the CPU keeps it). */
gw_err gw_s7_clock_read(gw_s7_client *c, int64_t *epoch_ms, gw_error *err);
gw_err gw_s7_clock_set(gw_s7_client *c, int64_t epoch_ms, gw_error *err);

/* -- blocks (s7_client_blocks.c; docs/s7comm.md 14) */

typedef struct {
    uint16_t ob, fb, fc, sfb, sfc, db, sdb;
} gw_s7_block_counts;

typedef struct {
    gw_s7_block_type type;
    uint16_t number;
    uint8_t lang;          /* 1 AWL, 2 KOP, 3 FUP, 4 SCL, 5 DB, 6 GRAPH, ... */
    uint8_t flags;
    uint32_t load_size;    /* bytes of the whole block in load memory */
    uint32_t mc7_size;     /* code (or data) bytes */
    uint16_t local_data;
    uint16_t sbb_len;
    uint16_t checksum;
    uint8_t version;       /* header version, 0xMN = M.N */
    char author[9], family[9], name[9];
    int64_t code_ms;       /* epoch ms the code was last changed */
    int64_t interface_ms;  /* and its interface */
} gw_s7_block_info;

gw_err gw_s7_list_blocks(gw_s7_client *c, gw_s7_block_counts *out, gw_error *err);
/* The numbers of the blocks of one type, ascending: at most cap, *n of
 * them; GW_E_RANGE (with *n = cap) when the CPU has more. */
gw_err gw_s7_list_blocks_of_type(gw_s7_client *c, gw_s7_block_type type, uint16_t *numbers,
                                 size_t cap, size_t *n, gw_error *err);
/* Block info (userdata group 3); an unknown block is GW_E_NOT_FOUND with
 * the CPU's error code in err->device_code. */
gw_err gw_s7_block_info_read(gw_s7_client *c, gw_s7_block_type type, uint16_t number,
                             gw_s7_block_info *out, gw_error *err);
/* Upload: the whole block as the CPU delivers it (MC7 header, code or
 * data, footer) into a new buffer the caller frees with gw_free. */
gw_err gw_s7_upload(gw_s7_client *c, gw_s7_block_type type, uint16_t number, uint8_t **block,
                    size_t *len, gw_error *err);
/* Download a block as an upload delivered it (its header names type and
 * number), creating or replacing it in the CPU. */
gw_err gw_s7_download(gw_s7_client *c, const uint8_t *block, size_t len, gw_error *err);
gw_err gw_s7_block_delete(gw_s7_client *c, gw_s7_block_type type, uint16_t number,
                          gw_error *err);
gw_err gw_s7_copy_ram_to_rom(gw_s7_client *c, gw_error *err);
gw_err gw_s7_compress(gw_s7_client *c, gw_error *err);

/* The PLC's words for an item return code, and what to do about it ("" if
 * nothing specific). */
const char *gw_s7_item_rc_text(uint8_t rc);
const char *gw_s7_item_rc_hint(uint8_t rc);

/*
 * The ranges that carry a checked write of an S7 tag (gw_tag_prepare_write):
 * whole bytes, or one bit write per bit its mask owns, so that no byte the
 * PLC also writes is read-modified-written. `out` and `bitvals` need room
 * for 8; returns how many ranges.
 */
size_t gw_s7_ranges_for_write(const gw_write *w, gw_s7_range *out, uint8_t *bitvals);

/* Ranges covering a tag map's tags (one per tag, in map order). */
gw_err gw_s7_ranges_for_tags(const gw_tagmap *m, gw_s7_range **out, size_t *n);

/* ---------------------------------------------------------------- server */

typedef struct gw_s7_server gw_s7_server;

/* A client's write as the server carried it out. */
typedef struct {
    gw_s7_area area;
    uint16_t db;
    uint32_t start, len;
    int bit;                     /* the bit of a bit write (0..7), else -1 */
    const uint8_t *before;       /* len bytes as they were */
    const uint8_t *after;        /* and as they are now */
    const char *peer;            /* "addr:port" of the client */
} gw_s7_write_event;

/* Called on the server thread after a client's write changed memory, in
 * the order of the writes. */
typedef void (*gw_s7_write_hook)(void *user, const gw_s7_write_event *ev);

/* A program block (OB, FC, FB) the simulated CPU declares: listed, its
 * info answered, uploaded as its header with `size` bytes of code (zeros);
 * never executed. DBs are the DB areas themselves. */
typedef struct {
    gw_s7_block_type type;
    uint16_t number;
    uint32_t size;               /* MC7 code bytes */
    const char *name;            /* header name, family, author: up to 8 */
    const char *family;          /* characters each; NULL = "" */
    const char *author;
} gw_s7_block_decl;

typedef struct {
    const char *host;            /* bind address, e.g. "127.0.0.1" */
    uint16_t port;               /* 0 = any free port */
    uint16_t max_pdu;            /* largest PDU we accept, default 960 */
    uint16_t max_clients;        /* default 8 */
    uint16_t max_items;          /* items per request answered, default: as many
                                    as fit the PDU, as a CPU does */
    /* what the CPU says of itself (SZL 0x0011, 0x001C); NULL = an S7-1214C */
    const char *order_code;      /* "6ES7 214-1AG40-0XB0" */
    const char *firmware;        /* "V4.2.1" */
    const char *module_name;     /* "CPU 1214C DC/DC/DC" */
    const char *station_name;    /* "S71200/ET200MP station_1" */
    const char *plc_name;        /* "PLC_1" */
    const char *serial;          /* "S C-PLCGW0000001" */
    const char *password;        /* session password (<= 8 characters); NULL
                                    or "" = none: writes and control are free */
    uint16_t timers, counters;   /* TM and CT areas, 2 bytes each; 0 = 256 */
    const gw_s7_block_decl *blocks; /* OB/FC/FB declared (copied) */
    size_t nblocks;
    /* A client stopped or started the CPU (cold: a cold start). Called on
     * the server thread after the mode changed, without the server lock. */
    void (*on_cpu_state)(void *user, gw_s7_cpu_state state, bool cold);
    /* The CPU clock before any set: milliseconds since the epoch, e.g. the
     * simulator's clock with its time factor; NULL = the host's clock. */
    int64_t (*clock_ms)(void *user);
    gw_log *log;
    gw_s7_write_hook on_write;
    void *user;
} gw_s7_server_opts;

gw_err gw_s7_server_new(const gw_s7_server_opts *opts, gw_s7_server **out, gw_error *err);
/* Registers zeroed memory; before or after start. */
gw_err gw_s7_server_add_area(gw_s7_server *s, gw_s7_area area, uint16_t db, uint32_t size);
/* Binds, listens and starts the server thread. */
gw_err gw_s7_server_start(gw_s7_server *s, gw_error *err);
uint16_t gw_s7_server_port(const gw_s7_server *s);
/* Copies server memory out / in, under the server's lock. */
gw_err gw_s7_server_get(gw_s7_server *s, gw_s7_area area, uint16_t db, uint32_t start,
                        uint32_t len, uint8_t *out);
gw_err gw_s7_server_set(gw_s7_server *s, gw_s7_area area, uint16_t db, uint32_t start,
                        uint32_t len, const uint8_t *in);
/* Sets only the bits of `mask` (len bytes each), as a PLC program does. */
gw_err gw_s7_server_update(gw_s7_server *s, gw_s7_area area, uint16_t db, uint32_t start,
                           uint32_t len, const uint8_t *in, const uint8_t *mask);
/*
 * A write as a protocol client makes it (another front-end on the same
 * memory, e.g. S7CommPlus): checked, applied under the server's lock (a
 * bit write, bit 0..7, changes only its bit; else bit -1), then the write
 * hook is called from this thread with `peer`, as for an S7comm client's
 * write. GW_E_NOT_FOUND for an area the server does not have, GW_E_RANGE
 * past its end.
 */
gw_err gw_s7_server_client_write(gw_s7_server *s, gw_s7_area area, uint16_t db, uint32_t start,
                                 uint32_t len, const uint8_t *in, int bit, const char *peer);
/* The DBs it serves, ascending: at most cap numbers and sizes; returns how
 * many there are. */
size_t gw_s7_server_dbs(gw_s7_server *s, uint16_t *numbers, uint32_t *sizes, size_t cap);
void gw_s7_server_set_cpu_state(gw_s7_server *s, gw_s7_cpu_state state);
gw_s7_cpu_state gw_s7_server_cpu_state(gw_s7_server *s);
/* The TCP server underneath: state, stop/start, fault injection. */
gw_tcpsrv *gw_s7_server_tcp(gw_s7_server *s);
size_t gw_s7_server_clients(gw_s7_server *s);
/* Stops the thread, closes every connection, frees. NULL is a no-op. */
void gw_s7_server_free(gw_s7_server *s);

#endif
