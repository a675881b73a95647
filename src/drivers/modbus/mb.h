/*
 * mb.h - Modbus TCP on libmodbus: read plans, a client, and a server for
 * the simulator and for tests.
 *
 * Read plans cover every tag of a map in the fewest requests: one function
 * code per register class (FC 1 coils, 2 discrete inputs, 3 holding, 4
 * input registers), neighbouring addresses coalesced up to 125 registers or
 * 2000 bits per request (Modbus Application Protocol Specification V1.1b,
 * 6.1-6.4), gaps merged when reading them costs less than a new request.
 *
 * A client has a lock: its calls may come from several threads, and one
 * transaction never interleaves with another on the wire. Writes that own
 * only part of a register (a byte half, some bits) use function 22 (mask
 * write) so that nothing else in the register changes; a device that
 * answers "illegal function" gets a read-modify-write under the lock.
 */
#ifndef GW_MB_H
#define GW_MB_H

#include "tags/tags.h"

/* Modbus Application Protocol V1.1b, 6.1-6.4: quantity limits per read. */
#define GW_MB_MAX_READ_REGS 125
#define GW_MB_MAX_READ_BITS 2000

/* ---------------------------------------------------------------- plans */

typedef struct gw_mb_plan gw_mb_plan;

typedef struct {
    /*
     * Merge two neighbours when the gap between them is at most this many
     * registers / bits. A request costs 12 bytes of MBAP and PDU out and 9
     * back plus a round trip, a gap register 2 bytes: the default of 10
     * registers (20 bytes) never costs more than a new request. Some devices
     * refuse reads that touch unmapped addresses: set 0 for those.
     */
    uint16_t reg_gap;
    uint16_t bit_gap;
    uint16_t max_regs;   /* per request, at most 125 (default) */
    uint16_t max_bits;   /* per request, at most 2000 (default) */
    bool per_tag;        /* one request per tag (how the seed's client reads) */
} gw_mb_plan_opts;

#define GW_MB_DEFAULT_REG_GAP 10
#define GW_MB_DEFAULT_BIT_GAP 160

typedef struct {
    uint8_t fc;          /* 1, 2, 3 or 4 */
    uint16_t start;
    uint16_t count;      /* registers or bits */
} gw_mb_request;

/* A plan for every tag of `m` (opts may be NULL for the defaults). */
gw_err gw_mb_plan_new(const gw_tagmap *m, const gw_mb_plan_opts *opts, gw_mb_plan **out);
/* A plan for the tags of `m` whose `want[i]` is true (a scan group);
 * gw_mb_readout_value answers GW_E_NOT_FOUND for the others. */
gw_err gw_mb_plan_new_some(const gw_tagmap *m, const bool *want, const gw_mb_plan_opts *opts,
                           gw_mb_plan **out);
void gw_mb_plan_free(gw_mb_plan *p);
size_t gw_mb_plan_requests(const gw_mb_plan *p);
const gw_mb_request *gw_mb_plan_request(const gw_mb_plan *p, size_t i);
/* "FC 4 input registers 1..34 (34), tags: ..." lines. */
void gw_mb_plan_describe(const gw_mb_plan *p, gw_buf *out);

/* The result of executing a plan once. */
typedef struct gw_mb_readout gw_mb_readout;
gw_err gw_mb_readout_new(const gw_mb_plan *p, gw_mb_readout **out);
void gw_mb_readout_free(gw_mb_readout *r);
/*
 * One tag's value from a readout, decoded by its map: GW_OK, or the error
 * of the request that carried it (a device exception fails the tags of that
 * request only; err names the exception).
 */
gw_err gw_mb_readout_value(const gw_mb_plan *p, const gw_mb_readout *r, size_t tag,
                           gw_value *out, gw_error *err);

/* ---------------------------------------------------------------- client */

typedef struct gw_mb_client gw_mb_client;

typedef struct {
    const char *host;
    uint16_t port;                /* 502 */
    uint8_t unit;                 /* unit identifier, sent as given (0..255; 1 is usual) */
    uint32_t connect_timeout_ms;  /* default 2000 each */
    uint32_t response_timeout_ms;
    uint32_t byte_timeout_ms;     /* between bytes of one answer, default 500 */
    /*
     * 0 (default) or 1. With 1, every address of the map goes out one lower
     * (map register 1000, "R1000", is PDU address 999), in every request:
     * reads (FC 1-4) and writes (FC 5, 6, 15, 16, 22 and the read of the
     * read-modify-write fallback). For PLCs whose documentation counts
     * registers from 1 (docs/config.md, "register_base"). Address 0 of the
     * map cannot be sent then: such a request fails with GW_E_RANGE.
     */
    uint8_t register_base;
    gw_log *log;                  /* borrowed, may be NULL */
} gw_mb_opts;

gw_err gw_mb_client_new(const gw_mb_opts *opts, gw_mb_client **out);
void gw_mb_client_free(gw_mb_client *c);
gw_err gw_mb_connect(gw_mb_client *c, gw_error *err);
void gw_mb_close(gw_mb_client *c);
bool gw_mb_connected(gw_mb_client *c);
uint64_t gw_mb_requests_sent(gw_mb_client *c);

/*
 * Runs every request of the plan. A device exception fails that request
 * (its tags report it) and the others go on; a connection error fails the
 * call and closes the connection.
 */
gw_err gw_mb_read_plan(gw_mb_client *c, const gw_mb_plan *p, gw_mb_readout *r, gw_error *err);
/* Writes one checked value (gw_tag_prepare_write) with the function its
 * mask needs: 5 for a coil, 6/16 for whole registers, 22 for part of a
 * register. */
gw_err gw_mb_write(gw_mb_client *c, const gw_write *w, gw_error *err);
/*
 * Writes several checked values in the order given. Neighbours in that
 * order that continue each other's addresses - whole holding registers, or
 * coils - go out as one FC 16 (up to 123 registers) or FC 15 (up to 1968
 * coils); the rest one by one as gw_mb_write does. results[i] (may be NULL)
 * gets each value's outcome. Stops at a connection error; a device
 * exception fails its request only.
 */
gw_err gw_mb_write_many(gw_mb_client *c, const gw_write *w, size_t n, gw_err *results,
                        gw_error *err);
/* Text of a Modbus exception code ("illegal data address"). */
const char *gw_mb_exception_text(int code);

/* ---------------------------------------------------------------- server */

typedef struct gw_mb_server gw_mb_server;

/* A client's write as the server carried it out. */
typedef struct {
    gw_mb_class cls;             /* coils or holding registers */
    uint16_t start, count;
    const uint16_t *before;      /* count values as they were (0/1 for coils) */
    const uint16_t *after;       /* and as they are now */
    const char *peer;
} gw_mb_write_event;

/* Called on the server thread after a client's request changed the image,
 * in the order of the requests. */
typedef void (*gw_mb_write_hook)(void *user, const gw_mb_write_event *ev);

/*
 * Called on the server thread before a client's write is carried out, with
 * the values it would leave (`after`) and those there now (`before`). The
 * server's lock is not held: the hook may read the image. Returns 0 to
 * carry the write out, or a Modbus exception code (1..11; Modbus
 * Application Protocol V1.1b, 7: 4 is "server device failure"; another
 * code is answered as 4) to refuse it: the client gets that exception, the image stays as it was and
 * on_write is not called. Requests are served one at a time, so no other
 * client's write comes between the check and the write. A write request
 * shorter than the data it announces is answered with exception 3 (illegal
 * data value) when a check hook is set.
 */
typedef int (*gw_mb_check_hook)(void *user, const gw_mb_write_event *ev);

typedef struct {
    const char *host;            /* bind address */
    uint16_t port;               /* 0 = any free port */
    uint16_t max_clients;        /* default 8 */
    gw_log *log;
    gw_mb_write_hook on_write;
    gw_mb_check_hook check_write; /* may be NULL: every write is carried out */
    void *user;                  /* for both hooks */
} gw_mb_server_opts;

/* One request as the server saw it, for tests (the request log). */
typedef struct {
    uint64_t seq;
    uint8_t unit;
    uint8_t fc;
    uint16_t addr;
    uint16_t count;              /* 1 for single writes */
    char peer[64];
} gw_mb_logged;

gw_err gw_mb_server_new(const gw_mb_server_opts *opts, gw_mb_server **out, gw_error *err);
/* Initial values from a map's defaultValue features (tags without one stay 0). */
gw_err gw_mb_server_load_defaults(gw_mb_server *s, const gw_tagmap *m, gw_error *err);
gw_err gw_mb_server_start(gw_mb_server *s, gw_error *err);
uint16_t gw_mb_server_port(const gw_mb_server *s);
/* Image access under the server's lock: registers for classes 3/4, 0/1 for bits. */
gw_err gw_mb_server_get(gw_mb_server *s, gw_mb_class cls, uint16_t start, uint16_t count,
                        uint16_t *out);
gw_err gw_mb_server_set(gw_mb_server *s, gw_mb_class cls, uint16_t start, uint16_t count,
                        const uint16_t *in);
/* Sets only the bits of `mask` in registers (bits: mask 1 sets the value). */
gw_err gw_mb_server_update(gw_mb_server *s, gw_mb_class cls, uint16_t start, uint16_t count,
                           const uint16_t *in, const uint16_t *mask);
/* Copies up to max logged requests with seq >= since; returns the count. */
size_t gw_mb_server_log(gw_mb_server *s, uint64_t since, gw_mb_logged *out, size_t max);
/* The TCP server underneath: state, stop/start, fault injection. */
gw_tcpsrv *gw_mb_server_tcp(gw_mb_server *s);
/* Refuse function 22 with "illegal function", as older devices do. */
void gw_mb_server_disable_mask_write(gw_mb_server *s, bool disable);
void gw_mb_server_free(gw_mb_server *s);

#endif
