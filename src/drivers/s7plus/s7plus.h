/*
 * s7plus.h - S7CommPlus V1 (S7-1200/1500): our client and server on the
 * codec (s7p_codec.h) and the ISO-on-TCP transport S7comm uses
 * (drivers/s7/s7_iso.h). docs/s7commplus.md is the wire reference.
 *
 * Forms: python-snap7's emulator and client differ from what real CPUs are
 * documented to send (1-based LIDs, Blobs without a root id, the short
 * DeleteObject, names in UTF-16). Both sides speak python-snap7's forms by
 * default; `forms` (s7p_opts) selects the real CPUs' forms.
 *
 * Addresses are the S7 ones: a gw_s7_range names DBn bytes start..start+len
 * (and a bit), exactly as for the S7 client, so that tag maps, read plans'
 * ranges and the engine's write path are shared.
 */
#ifndef GW_S7PLUS_H
#define GW_S7PLUS_H

#include "drivers/s7/s7.h"
#include "s7p_codec.h"

/* ---------------------------------------------------------------- client */

typedef struct gw_s7p_client gw_s7p_client;

typedef struct {
    const char *host;
    uint16_t port;               /* 102 */
    uint32_t connect_timeout_ms; /* default 2000 each */
    uint32_t send_timeout_ms;
    uint32_t recv_timeout_ms;
    uint16_t max_items;          /* items per GetMulti/SetMulti, default 20 */
    uint16_t gap;                /* merge ranges at most this far apart (bytes) */
    s7p_opts forms;              /* zero: python-snap7's forms */
    gw_log *log;                 /* borrowed, may be NULL */
} gw_s7p_opts;

gw_err gw_s7p_client_new(const gw_s7p_opts *opts, gw_s7p_client **out);
void gw_s7p_client_free(gw_s7p_client *c);
/* TCP, COTP (SIMATIC-ROOT-HMI), InitSSL, CreateObject, the
 * ServerSessionVersion (attribute 306) echo. */
gw_err gw_s7p_connect(gw_s7p_client *c, gw_error *err);
/* DeleteObject, COTP DR, close; safe when not connected. */
void gw_s7p_close(gw_s7p_client *c);
bool gw_s7p_connected(const gw_s7p_client *c);
uint32_t gw_s7p_session_id(const gw_s7p_client *c);
uint64_t gw_s7p_round_trips(const gw_s7p_client *c);

/*
 * Reads every range (DB areas; M, I, Q where the server has them) through
 * GetMultiVariables, ranges coalesced and packed into few requests. Each
 * range gets its own result: a failed item fails its ranges alone. GW_OK
 * when the exchange worked; a link error fails the call and closes.
 */
gw_err gw_s7p_read(gw_s7p_client *c, gw_s7_range *ranges, size_t n, gw_error *err);
/* Writes every range through SetMultiVariables, per-range results as for
 * reads. A bit range is written as its byte read, changed and written back
 * (the V1 absolute address is byte-wide): the caller serialises such
 * writes (the engine does, on the machine thread). */
gw_err gw_s7p_write(gw_s7p_client *c, gw_s7_range *ranges, size_t n, gw_error *err);

/* Explore: the data blocks and the variable names they hold. */
typedef struct {
    uint16_t number;
    char name[64];
    uint32_t size;               /* bytes, 0 when the server does not say */
    size_t nvars;
    char (*vars)[64];            /* variable names, UTF-8 */
} gw_s7p_db;

gw_err gw_s7p_explore(gw_s7p_client *c, gw_s7p_db **dbs, size_t *n, gw_error *err);
void gw_s7p_dbs_free(gw_s7p_db *dbs, size_t n);

/* ---------------------------------------------------------------- server */

typedef struct gw_s7p_server gw_s7p_server;

typedef struct {
    const char *host;            /* bind address, "127.0.0.1" */
    uint16_t port;               /* 0 = any free port */
    uint16_t max_clients;        /* default 8 */
    s7p_opts forms;              /* zero: python-snap7's forms */
    gw_log *log;
    /* The memory it serves: an S7 server's areas (DBs, M, I, Q) and CPU
     * mode, shared with an S7comm front-end when one runs; writes go
     * through gw_s7_server_client_write, so that the S7 server's write
     * hook sees them as it sees S7comm clients' writes. Borrowed; it must
     * outlive this server. It need not be started. */
    gw_s7_server *memory;
    /* Responses: false (default) = one TPKT per response up to 64 KiB and
     * frames of at most 65520 data bytes above that (py7's client reads
     * one TPKT per response, Explore excepted); true = every response cut
     * into frames that fit the TPDU size confirmed in the CC, one COTP DT
     * each, as real CPUs send (docs/s7commplus.md). */
    bool split_tpdu;
} gw_s7p_server_opts;

/* The error codes our server puts in GetMulti/SetMulti error lists (u64
 * VLQ; docs/s7commplus.md "Server"). Only 0x8104 is py7's; the others
 * are our choice: a client treats any entry as the item's failure. */
enum {
    GW_S7P_SRV_ERR_NO_OBJECT = 0x8104, /* no such DB/area or attribute (py7: 82 82 04) */
    GW_S7P_SRV_ERR_RANGE = 0x8105,     /* past the end of the DB, or size 0 */
    GW_S7P_SRV_ERR_VALUE = 0x8106,     /* value of another type or length than the address */
    GW_S7P_SRV_ERR_ADDRESS = 0x8107,   /* address we do not understand (LIDs, area) */
    GW_S7P_SRV_ERR_TOO_BIG = 0x8108    /* the answer would pass our response limit */
};

gw_err gw_s7p_server_new(const gw_s7p_server_opts *opts, gw_s7p_server **out, gw_error *err);
/* The variable names of DB `db` that Explore lists (copied); before or
 * after start. */
gw_err gw_s7p_server_set_names(gw_s7p_server *s, uint16_t db, const char *const *names,
                               size_t n);
gw_err gw_s7p_server_start(gw_s7p_server *s, gw_error *err);
uint16_t gw_s7p_server_port(const gw_s7p_server *s);
gw_tcpsrv *gw_s7p_server_tcp(gw_s7p_server *s);
size_t gw_s7p_server_clients(gw_s7p_server *s);
void gw_s7p_server_free(gw_s7p_server *s);

#endif
