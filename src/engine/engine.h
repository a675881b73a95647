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

#include "tags/tags.h"

#define GW_MACHINE_ID_MAX 32
#define GW_MAX_MACHINES 32
#define GW_MAX_GROUPS 8

typedef struct {
    char name[32];
    uint32_t interval_ms;
} gw_scan_group;

typedef struct {
    char id[GW_MACHINE_ID_MAX + 1];  /* [a-z0-9_-], used in URLs */
    char profile[32];                /* "ringstiff", "watermaker", "generic" */
    char name[96];                   /* for people; defaults to the id */
    gw_driver driver;
    char host[256];
    uint16_t port;
    uint8_t unit;                    /* Modbus unit id */
    uint8_t rack, slot;              /* S7 */
    uint32_t timeout_ms;             /* connect/response timeout */
    bool simulate;                   /* served by the built-in simulator */
    char tags_path[512];             /* resolved against the config's folder */
    gw_tagmap *tags;                 /* loaded and checked */
    gw_scan_group groups[GW_MAX_GROUPS];
    size_t ngroups;
} gw_machine_cfg;

typedef struct {
    char path[512];                  /* the file it was loaded from */
    char listen_host[256];
    uint16_t listen_port;
    char database[512];
    char default_machine[GW_MACHINE_ID_MAX + 1];
    gw_machine_cfg machines[GW_MAX_MACHINES];
    size_t nmachines;
    /* the built-in simulator (machines with "simulate") */
    char sim_control_host[256];
    uint16_t sim_control_port;   /* 0 = any free port */
    double sim_time_scale;
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

#endif
