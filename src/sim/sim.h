/*
 * sim.h - the PLC simulator: soft devices behind our S7 and Modbus
 * servers, after the BeckhoffSim design (seed 003).
 *
 * A manager (gw_sim) holds named soft devices, created by type from a
 * registry. A device's properties are what the PLC program exposes: the
 * tags of its tag map, the same file the gateway reads, bound to S7 DB/M/
 * I/Q memory or Modbus registers. Its hardware I/Os are what the machine's
 * sensors and actuators would set; they are declared by the device type.
 * A tick function per device runs its physics and timers on the manager's
 * thread at a fixed period of simulated time. Protocol clients' writes
 * reach the device as events (through a byte-bounded queue), never by
 * polling memory; every write is kept in a write log (time, client,
 * address, old -> new).
 *
 * Time: a simulation clock runs at `time_scale` times real time; every
 * timer and physics step uses it.
 *
 * Threads: the front-ends' server threads produce write events; the
 * manager thread consumes them and ticks the devices; the control API and
 * any caller may read and set values at any time (under the manager lock).
 */
#ifndef GW_SIM_H
#define GW_SIM_H

#include "drivers/modbus/mb.h"
#include "drivers/s7/s7.h"
#include "drivers/s7plus/s7plus.h"

/* The seed's value types (BeckhoffSim property types). */
typedef enum {
    GW_SIM_BOOL, GW_SIM_BYTE, GW_SIM_SINT, GW_SIM_WORD, GW_SIM_INT, GW_SIM_DWORD, GW_SIM_DINT,
    GW_SIM_ULINT, GW_SIM_LINT, GW_SIM_REAL, GW_SIM_LREAL, GW_SIM_STRING, GW_SIM_VOID
} gw_sim_type;

const char *gw_sim_type_name(gw_sim_type t);
/* The seed type of a tag's value. */
gw_sim_type gw_sim_type_of(const gw_tag *t);

typedef struct gw_sim gw_sim;
typedef struct gw_sim_device gw_sim_device;

/* A hardware I/O of a device type: a sensor or actuator signal. */
typedef struct {
    const char *name;
    gw_sim_type type;      /* GW_SIM_BOOL or GW_SIM_REAL */
    const char *unit;
    const char *description;
    bool output;           /* set by the device (actuator), else an input */
} gw_sim_io_spec;

/* PLC memory a device type serves beyond what its map's tags reach. */
typedef struct {
    gw_s7_area area;
    uint16_t db;
    uint32_t size;
} gw_sim_area;

/* A device type in the registry (the seed's factory). */
typedef struct {
    const char *name;               /* "memory", "ringstiff", "watermaker" */
    const char *description;
    const char *default_map;        /* tag map relative to the config folder */
    const gw_sim_io_spec *ios;
    size_t nios;
    uint32_t tick_ms;               /* simulated period of tick(), 0 = none */
    const gw_sim_area *areas;      /* S7 DB sizes beyond the map's reach */
    size_t nareas;
    gw_err (*create)(gw_sim_device *d, void **state);
    void (*destroy)(void *state);
    void (*tick)(gw_sim_device *d, void *state, uint64_t sim_ms, uint32_t dt_ms);
    /* A protocol client wrote property `t` at simulated time sim_ms; `v` is
     * the value it wrote. */
    void (*on_write)(gw_sim_device *d, void *state, const gw_tag *t, const gw_value *v,
                     uint64_t sim_ms);
    /* An I/O was set through the control API at simulated time sim_ms. */
    void (*on_io)(gw_sim_device *d, void *state, size_t io, double value, uint64_t sim_ms);
} gw_sim_device_type;

const gw_sim_device_type *gw_sim_device_type_find(const char *name);
/* The registry, for self-description. */
const gw_sim_device_type *gw_sim_device_type_at(size_t i);

/* ---------------------------------------------------------------- manager */

typedef struct {
    gw_log *log;
    double time_scale;              /* simulated seconds per real second, default 1 */
    size_t queue_bytes;             /* bound of the event queue, default 64 KiB */
    /* The simulated S7 CPU's identity, limits, password, TM/CT and declared
     * blocks (its host, port, log and hooks are the simulator's); NULL = an
     * S7-1214C's defaults. Copied; its strings and blocks must live until
     * the first S7 device is added. */
    const gw_s7_server_opts *s7;
} gw_sim_opts;

gw_err gw_sim_new(const gw_sim_opts *opts, gw_sim **out);
void gw_sim_free(gw_sim *s);

/* Adds a device of a registered type, bound through a tag map. Its memory
 * is served by the S7 or the Modbus front-end, as the map's keys say.
 * Before gw_sim_start. */
gw_err gw_sim_add_device(gw_sim *s, const char *type, const char *name, const char *map_path,
                         gw_error *err);
/* Sets where a front-end listens (port 0: any free port); before start. */
void gw_sim_frontend_address(gw_sim *s, gw_driver d, const char *host, uint16_t port);
/* The simulated S7 CPU's mode (RUN unless a client stopped it). While it
 * is stopped the S7 devices' programs do not run: no ticks, no reactions
 * to writes or I/Os (writes are still served and logged); a start runs
 * them again from the I/Os as they are then, a cold start first resets
 * the devices and their tags' start values (docs/sim.md). */
gw_s7_cpu_state gw_sim_s7_cpu_state(gw_sim *s);
/* Starts the front-ends that have devices, and the manager thread. */
gw_err gw_sim_start(gw_sim *s, gw_error *err);
void gw_sim_stop(gw_sim *s);

/*
 * The S7CommPlus front-end (docs/sim.md): the S7 devices' memory (the one
 * the S7comm front-end serves) over S7CommPlus V1, Explore listing each DB
 * with the parameter names of its tags. Giving its address turns it on
 * (port 0: any free port); forms NULL = python-snap7's. Before start.
 */
void gw_sim_s7plus_address(gw_sim *s, const char *host, uint16_t port, const s7p_opts *forms);
/* Whether the S7comm front-end listens (default true). False: the S7
 * devices' memory is made all the same, for S7CommPlus alone. Before start. */
void gw_sim_s7_listen(gw_sim *s, bool listen);
const char *gw_sim_s7plus_host(gw_sim *s);
/* Its TCP server (state, faults); NULL when it is not used or no device
 * has S7 memory. */
gw_tcpsrv *gw_sim_s7plus_frontend(gw_sim *s);
gw_err gw_sim_s7plus_start(gw_sim *s, gw_error *err);
void gw_sim_s7plus_stop(gw_sim *s);

/* The address a front-end listens on (its port: gw_tcpsrv_port). */
const char *gw_sim_frontend_host(gw_sim *s, gw_driver d);
/* Front-ends: the TCP servers (state, faults), NULL when not used. */
gw_tcpsrv *gw_sim_frontend(gw_sim *s, gw_driver d);
gw_err gw_sim_frontend_start(gw_sim *s, gw_driver d, gw_error *err);
void gw_sim_frontend_stop(gw_sim *s, gw_driver d);

/* The simulation clock in ms, and its speed. */
uint64_t gw_sim_clock_ms(gw_sim *s);
double gw_sim_time_scale(gw_sim *s);
void gw_sim_set_time_scale(gw_sim *s, double scale);

size_t gw_sim_device_count(gw_sim *s);
gw_sim_device *gw_sim_device_at(gw_sim *s, size_t i);
gw_sim_device *gw_sim_device_find(gw_sim *s, const char *name);

/* Counters: events queued, queue overflows (each logged as an error). */
uint64_t gw_sim_events(gw_sim *s);
uint64_t gw_sim_overflows(gw_sim *s);

/* ---------------------------------------------------------------- devices */

const char *gw_sim_device_name(const gw_sim_device *d);
const gw_sim_device_type *gw_sim_device_type_of(const gw_sim_device *d);
const gw_tagmap *gw_sim_device_map(const gw_sim_device *d);
gw_sim *gw_sim_device_sim(gw_sim_device *d);

/*
 * Properties by parameter name, as the PLC program would set them (the
 * devices' own logic and the control API): the value is encoded by the
 * tag map into the served memory. get returns the decoded value
 * (gw_value_clear it).
 */
gw_err gw_sim_get_property(gw_sim_device *d, const char *name, gw_value *out, gw_error *err);
/* `json` is a json_t * value, checked like a write (min/max, type) but
 * without the access check: the PLC program may set read-only tags. */
gw_err gw_sim_set_property(gw_sim_device *d, const char *name, const void *json, gw_error *err);
/* Convenience for device logic: numbers and booleans. */
double gw_sim_get(gw_sim_device *d, const char *name);
void gw_sim_set(gw_sim_device *d, const char *name, double value);

/*
 * Device options (docs/sim.md): settings of the simulated PLC that no
 * register carries, such as the watermaker's "strict". get returns a JSON
 * object (json_t *, caller decrefs; {} for a type without options). set
 * applies the members of a JSON object (json_t *), all or none:
 * GW_E_NOT_FOUND for an option the type does not have, GW_E_TYPE for a
 * value of the wrong kind (err says which). Any thread.
 */
void *gw_sim_device_options(gw_sim_device *d);
gw_err gw_sim_device_set_options(gw_sim_device *d, const void *json, gw_error *err);

/* Hardware I/Os by name (index into the type's ios). */
gw_err gw_sim_get_io(gw_sim_device *d, const char *name, double *out, gw_error *err);
gw_err gw_sim_set_io(gw_sim_device *d, const char *name, double value, gw_error *err);
double gw_sim_io(gw_sim_device *d, size_t io);
void gw_sim_io_set(gw_sim_device *d, size_t io, double value);

/* ---------------------------------------------------------------- write log */

typedef struct {
    uint64_t seq;
    int64_t wall_ms;
    uint64_t sim_ms;
    char client[64];
    char device[48];
    char parameter[96];
    char address[48];      /* the tag's key */
    /* values as JSON text; long enough for the longest string tag (254
     * characters, each escaped as \u00XX at worst) */
    char before[1600];
    char after[1600];
} gw_sim_write;

/* Copies entries with seq >= since; returns how many. */
size_t gw_sim_writes(gw_sim *s, uint64_t since, gw_sim_write *out, size_t max);

/* Self-description as JSON (json_t *, caller decrefs): the state of the
 * front-ends, the clock, and every device with its properties (type,
 * access, unit, binding, value) and I/Os. */
void *gw_sim_describe(gw_sim *s);
void *gw_sim_describe_device(gw_sim_device *d);

/* ---------------------------------------------------------------- control API */

typedef struct gw_sim_control gw_sim_control;

/* HTTP/JSON control API on its own address (docs/sim.md). */
gw_err gw_sim_control_start(gw_sim *s, const char *host, uint16_t port, gw_sim_control **out,
                            gw_error *err);
uint16_t gw_sim_control_port(const gw_sim_control *c);
void gw_sim_control_stop(gw_sim_control *c);

#endif
