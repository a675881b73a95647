/*
 * sim_internal.h - shared by the files of the simulator and its tests.
 */
#ifndef GW_SIM_INTERNAL_H
#define GW_SIM_INTERNAL_H

#include "sim.h"

#include <pthread.h>

#define SIM_MAX_DEVICES 16
#define SIM_WLOG 1024              /* write log entries kept */

struct gw_sim_device {
    gw_sim *sim;
    char name[48];
    const gw_sim_device_type *type;
    gw_tagmap *map;
    gw_driver driver;
    void *state;
    double *io;                    /* values of the type's I/Os (under sim lock) */
    uint64_t next_tick;            /* simulated ms (manager thread) */
};

typedef enum { SIM_EV_WRITE, SIM_EV_IO } sim_event_kind;

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
    sim_event *queue;
    size_t qcap, qhead, qlen;
    uint64_t nevents, noverflow;
    gw_sim_write *wlog;
    uint64_t wseq;
};

#endif
