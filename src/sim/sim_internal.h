/*
 * sim_internal.h - shared by the files of the simulator and its tests.
 */
#ifndef GW_SIM_INTERNAL_H
#define GW_SIM_INTERNAL_H

#include "sim.h"

#include <pthread.h>
#include <stdatomic.h>

#define SIM_MAX_DEVICES 16
#define SIM_WLOG 1024              /* write log entries kept */

/*
 * What a device type may add to gw_sim_device_type, installed by its
 * create() (d->hooks), so that the registry's entries stay as they are.
 * Every member may be NULL.
 */
typedef struct {
    /*
     * A Modbus client is about to write property `t` with the value `v`;
     * runs on the manager thread, after the on_write of every earlier write,
     * and only while the device sets d->check_writes. Returns 0 to let the
     * write through, or a Modbus exception code (Modbus Application Protocol
     * V1.1b, 7; 4 = server device failure): the client gets that exception
     * and nothing changes (no write, no write log entry, no event).
     */
    int (*check_write)(gw_sim_device *d, void *state, const gw_tag *t, const gw_value *v,
                       uint64_t sim_ms);
    /* The device's options as a JSON object (json_t *, a new reference).
     * Any thread: options live in atomics. */
    void *(*get_options)(gw_sim_device *d, void *state);
    /* Applies the members of a JSON object (json_t *): all or none.
     * GW_E_NOT_FOUND for an option the type lacks, GW_E_TYPE for a value of
     * the wrong kind, with err set. Any thread. */
    gw_err (*set_options)(gw_sim_device *d, void *state, const void *json, gw_error *err);
} sim_device_hooks;

struct gw_sim_device {
    gw_sim *sim;
    char name[48];
    const gw_sim_device_type *type;
    gw_tagmap *map;
    gw_driver driver;
    void *state;
    double *io;                    /* values of the type's I/Os (under sim lock) */
    uint64_t next_tick;            /* simulated ms (manager thread) */
    const sim_device_hooks *hooks; /* NULL: none */
    atomic_bool check_writes;      /* hooks->check_write sees Modbus writes first */
};

/*
 * A Modbus write waiting for the devices' check_write (at most one: the
 * Modbus server serves one request at a time). The server thread posts it
 * and waits; the manager runs it once the events queued before it ran.
 */
typedef struct {
    uint64_t id;                   /* of the latest check posted */
    bool pending;                  /* posted, not yet taken by the manager */
    bool answered;                 /* the manager's verdict for `id` is in */
    int verdict;                   /* 0 or a Modbus exception code */
    uint64_t ticket;               /* events popped before it may run */
    gw_mb_class cls;
    uint16_t start, count;
    uint16_t before[2000], after[2000];
    char peer[64];
} sim_check;

/* The watermaker (dev_watermaker.c), for the registry in devices.c. */
#define SIM_WM_NIOS 3
extern const gw_sim_io_spec sim__wm_ios[SIM_WM_NIOS];
gw_err sim__wm_create(gw_sim_device *d, void **state);
void sim__wm_tick(gw_sim_device *d, void *state, uint64_t sim_ms, uint32_t dt_ms);
void sim__wm_on_write(gw_sim_device *d, void *state, const gw_tag *t, const gw_value *v,
                      uint64_t sim_ms);
void sim__wm_on_io(gw_sim_device *d, void *state, size_t io, double value, uint64_t sim_ms);

/* SIM_EV_CPU: the S7 CPU's mode changed (index: the gw_s7_cpu_state,
 * has_value: a cold start); device is unused. */
typedef enum { SIM_EV_WRITE, SIM_EV_IO, SIM_EV_CPU } sim_event_kind;

/* One event: a fixed 32-byte record, so the queue's bound is in bytes. It
 * carries the value written and when, so that a device sees each write as
 * it was, however late it handles it. */
typedef struct {
    uint32_t kind;
    uint32_t device;
    uint32_t index;                /* tag (writes) or I/O index */
    uint32_t has_value;            /* value holds the value written */
    uint64_t sim_ms;               /* simulated time of the write */
    double value;
} sim_event;

typedef struct {
    char host[256];
    uint16_t port;
} sim_frontend;

struct gw_sim {
    gw_log *log;
    pthread_mutex_t lock;          /* clock, queue, I/O values, write log */
    pthread_cond_t wake;
    pthread_t thread;
    bool running, stop;
    double scale;
    uint64_t base_real_ms, base_sim_ms;
    gw_sim_device *dev[SIM_MAX_DEVICES];
    size_t ndev;
    sim_frontend fe[2];            /* by gw_driver */
    gw_s7_server *s7;
    gw_mb_server *mb;
    bool s7_listen;                /* the S7comm front-end listens (else memory only) */
    bool s7p_on;                   /* an S7CommPlus front-end was asked for */
    sim_frontend fe_s7p;
    s7p_opts s7p_forms;
    gw_s7p_server *s7p;            /* on s7's memory, made at start */
    sim_event *queue;
    size_t qcap, qhead, qlen;
    uint64_t nevents, noverflow;
    uint64_t npopped;              /* events the manager took so far */
    bool manager_up;               /* the manager thread runs and takes checks */
    pthread_cond_t checked;        /* a check's verdict is in */
    sim_check check;
    gw_sim_write *wlog;
    uint64_t wseq;
    gw_s7_server_opts s7_opts;     /* the S7 CPU's config (gw_sim_opts.s7) */
    bool cpu_stopped;              /* manager thread: the S7 programs do not run */
    /* the CPU clock for the S7 server (clock_ms hook): a leaf lock, so that
     * the server may ask with its own lock held; a copy of the clock's base
     * and scale, set where they change */
    pthread_mutex_t clock_lock;
    int64_t epoch0_ms;             /* wall clock when simulated time was 0 */
    uint64_t ck_base_real_ms, ck_base_sim_ms;
    double ck_scale;
};

#endif
