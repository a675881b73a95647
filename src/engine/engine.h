/*
 * engine.h - the machines a gateway serves and how to reach them.
 *
 * This header holds the gateway configuration (docs/config.md): plain data
 * loaded and checked once, then shared read-only by every thread. The
 * per-machine owner threads (scan groups, command queue, snapshots) are
 * built on it.
 */
#ifndef GW_ENGINE_H
#define GW_ENGINE_H

#include "drivers/s7/s7.h"
#include "drivers/s7plus/s7p_codec.h"
#include "tags/tags.h"

#include <stdatomic.h>

#define GW_MACHINE_ID_MAX 32
#define GW_MAX_MACHINES 32
#define GW_MAX_SIM_BLOCKS 64  /* OB/FC/FB the simulated S7 CPU declares */
#define GW_MAX_CORS_ORIGINS 16
#define GW_MAX_GROUPS 8

typedef struct {
    char name[32];
    uint32_t interval_ms;
} gw_scan_group;

typedef struct {
    char id[GW_MACHINE_ID_MAX + 1];  /* [a-z0-9_-], used in URLs */
    char profile[32];                /* "ringstiff", "watermaker", "generic" */
    char name[96];                   /* for people; defaults to the id */
    gw_driver driver;                /* the address family: S7 or Modbus */
    bool s7plus;                     /* "driver": "s7plus": S7 addresses over
                                        S7CommPlus V1 (drivers/s7plus) */
    s7p_opts s7p_forms;              /* S7CommPlus: the real CPUs' forms
                                        ("s7plus_forms", docs/s7commplus.md) */
    char host[256];
    uint16_t port;
    uint8_t unit;                    /* Modbus unit id */
    /* Modbus: 0, or 1 for a PLC whose documentation counts registers from
     * 1: every address of the map goes out one lower (gw_mb_opts) */
    uint8_t register_base;
    uint8_t rack, slot;              /* S7 */
    uint32_t timeout_ms;             /* connect/response timeout */
    bool simulate;                   /* served by the built-in simulator */
    char tags_path[512];             /* resolved against the config's folder */
    gw_tagmap *tags;                 /* loaded and checked */
    gw_scan_group groups[GW_MAX_GROUPS];
    size_t ngroups;
    /* the profile's own settings ("app"), checked by its app; NULL: none */
    const gw_json *app;
} gw_machine_cfg;

typedef struct {
    gw_json_doc *doc;                /* the parsed file (the machines' "app") */
    char path[512];                  /* the file it was loaded from */
    char listen_host[256];
    uint16_t listen_port;
    char database[512];
    char web_root[512];              /* the browser HMI's files; "" none */
    char default_machine[GW_MACHINE_ID_MAX + 1];
    /* anonymous requests from 127.0.0.1/::1 may use viewer routes */
    bool auth_loopback_viewer;
    /* browser origins allowed to call the API ("http://host:port") */
    char cors_origins[GW_MAX_CORS_ORIGINS][128];
    size_t ncors_origins;
    gw_machine_cfg machines[GW_MAX_MACHINES];
    size_t nmachines;
    /* the live channel (Socket.IO): live_data interval, the jog's release
     * after its last renewal, clients at once, Engine.IO heartbeat */
    uint32_t live_interval_ms, jog_release_ms, live_max_clients;
    uint32_t ping_interval_ms, ping_timeout_ms;
    /* a client's CONNECT within this of its handshake; unconnected
     * sessions per address */
    uint32_t live_connect_timeout_ms, live_max_unconnected;
    /* the HTTP server: worker threads, connections at once (in all and
     * from one address; loopback exempt unless limit_loopback), timeouts */
    uint32_t http_workers, http_max_connections, http_max_per_address;
    bool http_limit_loopback;
    uint32_t http_header_timeout_ms, http_body_timeout_ms, http_idle_timeout_ms,
        http_send_timeout_ms;
    /* the built-in simulator (machines with "simulate") */
    char sim_control_host[256];
    uint16_t sim_control_port;   /* 0 = any free port */
    double sim_time_scale;
    bool sim_strict;             /* devices refuse writes out of sequence (docs/sim.md) */
    /* "simulator": {"s7": {...}}: what the simulated S7 CPU says of itself
     * and offers (identity, limits, password, TM/CT, declared blocks);
     * strings point into the config document */
    gw_s7_server_opts sim_s7;
    gw_s7_block_decl sim_s7_blocks[GW_MAX_SIM_BLOCKS];
} gw_config;

/*
 * Loads and checks a gateway configuration, including every tag map it
 * names (paths relative to the config file's folder). All problems go to
 * diag; on any error *out is NULL and GW_E_CONFIG is returned.
 */
gw_err gw_config_load(const char *path, gw_config **out, gw_diag *diag);
void gw_config_free(gw_config *cfg);
const gw_machine_cfg *gw_config_machine(const gw_config *cfg, const char *id);
/* "127.0.0.1:8000" -> host and port; false with `why` filled on error.
 * Port 0 ("any free port", for tests) only when allow_zero. */
bool gw_parse_host_port(const char *text, bool allow_zero, char *host, size_t host_size,
                        uint16_t *port, char *why, size_t why_size);

/* ------------------------------------------------------------------------
 * The engine: one thread per machine owns its PLC connection. It connects
 * (and reconnects with capped exponential backoff), runs each scan group
 * at its own interval, decodes the values and publishes an immutable,
 * reference-counted snapshot that readers take without waiting on the PLC.
 * --------------------------------------------------------------------- */

typedef enum {
    GW_Q_UNKNOWN = 0,   /* not read yet */
    GW_Q_GOOD,          /* read in the last scan of its group */
    GW_Q_BAD,           /* the PLC refused this tag (bad address, ...) */
    GW_Q_STALE          /* last known value; the connection is down */
} gw_quality;

const char *gw_quality_name(gw_quality q);

/* One machine's values at one moment. Immutable once published. */
typedef struct {
    atomic_int refs;             /* private: gw_snapshot_release */
    const gw_machine_cfg *machine;
    size_t n;                    /* tags, in map order */
    gw_value *values;
    uint8_t *quality;            /* gw_quality per tag */
    int64_t ts_ms;               /* wall time of the newest value, 0 = none */
    uint64_t seq;                /* snapshots published so far */
    bool connected;
    uint64_t connects;           /* successful connects so far */
    char error[320];             /* why it is not connected, or "" */
} gw_snapshot;

void gw_snapshot_release(const gw_snapshot *s);
/* A new reference to s (to keep it past a change callback). */
const gw_snapshot *gw_snapshot_retain(const gw_snapshot *s);

/* What one published snapshot changed, for subscribers. */
typedef struct {
    const gw_snapshot *prev;     /* the one before; NULL for the first */
    const gw_snapshot *now;
    const size_t *changed;       /* tags (map order) whose value or quality changed */
    size_t nchanged;
    bool connection_changed;     /* connected or error differ */
} gw_change;

/* Runs on the machine's thread after a snapshot that changed something.
 * It must not block or call into the engine: take what it needs (or
 * retain `now`) and return. */
typedef void (*gw_change_fn)(void *ud, const gw_change *c);

typedef struct gw_engine gw_engine;

/* Borrows cfg (it must outlive the engine) and log. */
gw_err gw_engine_new(const gw_config *cfg, gw_log *log, gw_engine **out);
/* Adds a change subscriber (at most GW_MAX_SUBSCRIBERS); before start. */
#define GW_MAX_SUBSCRIBERS 8
gw_err gw_engine_subscribe(gw_engine *e, gw_change_fn fn, void *ud);
/* Starts one thread per machine. */
gw_err gw_engine_start(gw_engine *e, gw_error *err);
/* Scan group `group` of machine_id runs every interval_ms from now on (0:
 * its configured interval again): a recorder's fast rate while a test
 * runs. The group of a tag is its map's "group", else the machine's first
 * scan group ("default" when the config names none). GW_E_NOT_FOUND for
 * an unknown machine or group. Any thread. */
gw_err gw_engine_set_interval(gw_engine *e, const char *machine_id, const char *group,
                              uint32_t interval_ms);
/* Stops the threads, closes the connections, frees. NULL is a no-op. */
void gw_engine_free(gw_engine *e);
/* The machine's newest snapshot (a new reference: release it), or NULL
 * for an unknown id. Any thread; never waits on a PLC. */
const gw_snapshot *gw_engine_snapshot(gw_engine *e, const char *machine_id);

/*
 * Writes checked values (gw_tag_prepare_write, copied) through the
 * machine's thread, before its next scan, and answers once the PLC
 * confirmed them. `urgent` puts them ahead of everything queued (stop).
 * With `release` (may be NULL), a timer on the machine's thread writes
 * release[i] hold_ms after writes[i], retried until the PLC confirms: the
 * seed's 100 ms stop pulse and 500 ms alarm reset, with no sleep anywhere.
 * A tag has at most one pending release: writing it again with a release
 * moves that release to hold_ms after the new write (hold-to-run renewals);
 * writing, without a release, exactly the value the release would write
 * does the release (a jog its client let go is not released twice).
 * Returns GW_E_NOT_FOUND for an unknown machine, GW_E_CONN_LOST when it is
 * not connected (nothing is queued), GW_E_TIMEOUT when the PLC did not
 * answer within timeout_ms (a write not begun by then is dropped), or the
 * PLC's refusal. Any thread but the machine's.
 */
gw_err gw_engine_write(gw_engine *e, const char *machine_id, const gw_write *writes,
                       const gw_write *release, size_t n, uint32_t hold_ms, bool urgent,
                       uint32_t timeout_ms, gw_error *err);

/* ------------------------------------------------------------------------
 * Sequences: steps run in order on the machine's thread, between its
 * scans, with no thread waiting and no PLC I/O elsewhere: a program's
 * "write, wait 2 s, write, wait until the timer reads 0 (at most 15 s),
 * write" (the watermaker's DTS). One sequence at a time per machine.
 * --------------------------------------------------------------------- */

typedef enum {
    GW_STEP_WRITE,        /* tag = value, confirmed by the PLC */
    GW_STEP_WAIT,         /* ms */
    GW_STEP_WAIT_UNTIL,   /* a reading of tag made after the step began == value,
                             polled every 100 ms, within ms (else it fails) */
    GW_STEP_EXPECT,       /* a reading made after the step began == value, else it fails */
    GW_STEP_WRITE_UNLESS, /* a fresh reading; tag = value unless it is value already */
} gw_step_kind;

typedef struct {
    gw_step_kind kind;
    const char *tag;      /* its parameter */
    double value;         /* as the tag map scales it */
    uint32_t ms;
} gw_step;

typedef enum { GW_SEQ_STEP, GW_SEQ_DONE, GW_SEQ_FAILED, GW_SEQ_CANCELLED } gw_seq_state;

/* What a sequence did: after each step (GW_SEQ_STEP), and once at its end. */
typedef struct {
    uint64_t id;
    size_t step;          /* the step it is about; at the end, where it ended */
    gw_seq_state state;
    bool wrote;           /* the step wrote its value */
    double reading;       /* the step's reading (NAN: none) */
    gw_err rc;            /* GW_SEQ_FAILED: why (GW_E_DEVICE_REJECTED, GW_E_CONN_LOST,
                             GW_E_TIMEOUT, GW_E_INVAL for an unexpected reading) */
    const char *msg;      /* what failed, for people */
} gw_seq_event;

/* Runs on the machine's thread: must not block or call into the engine. */
typedef void (*gw_seq_fn)(void *ud, const gw_seq_event *ev);

/* Starts a sequence (steps copied and checked first: GW_E_INVAL names a
 * step whose tag is unknown or whose value the tag refuses). GW_E_BUSY
 * when one runs, GW_E_CONN_LOST when the machine is not connected,
 * GW_E_NOT_FOUND for an unknown machine. *id identifies it. fn gets its
 * events until the end (also when the gateway stops: cancelled). */
gw_err gw_engine_sequence(gw_engine *e, const char *machine_id, const gw_step *steps, size_t n,
                          gw_seq_fn fn, void *ud, uint64_t *id, gw_error *err);
/* Asks sequence id to stop before its next step (its event says so);
 * GW_E_NOT_FOUND when it does not run. */
gw_err gw_engine_sequence_cancel(gw_engine *e, const char *machine_id, uint64_t id);

#endif
