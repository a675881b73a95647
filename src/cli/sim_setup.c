/*
 * sim_setup.c - the simulated machines of a gateway config as a running
 * simulator: one device per machine with "simulate" (its profile as the
 * device type when one is registered, else plain memory), the front-ends
 * on the machines' addresses, the control API where the config says.
 * Machines with "driver": "s7plus" are S7 devices served on the
 * S7CommPlus front-end at their address (docs/sim.md); the S7comm
 * front-end listens only when a simulated machine has "driver": "s7".
 * Shared by `plcgw sim` and `plcgw serve`.
 */
#include "cli.h"
#include "sim/sim.h"

#include <jansson.h>
#include <string.h>

size_t cli_sim_machines(const gw_config *cfg)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->nmachines; i++)
        n += cfg->machines[i].simulate;
    return n;
}

/* "simulator": {"strict": true}: every device type with the option
 * "strict" (the watermaker) refuses writes out of sequence (docs/sim.md);
 * types without it are left alone. */
static gw_err strict_on(gw_sim_device *d, gw_error *err)
{
    json_t *opts = json_pack("{s:b}", "strict", 1);
    gw_err rc = opts ? gw_sim_device_set_options(d, opts, err) : GW_E_NOMEM;
    json_decref(opts);
    return rc == GW_E_NOT_FOUND ? GW_OK : rc;
}

gw_err cli_sim_from_config(const gw_config *cfg, gw_log *log, double time_scale, gw_sim **sim,
                           gw_sim_control **ctl, gw_error *err)
{
    return cli_sim_from_config_s7plus(cfg, log, time_scale, NULL, 0, sim, ctl, err);
}

/* Where each front-end listens: the first simulated machine of its kind
 * says (a flag's address wins for S7CommPlus). */
static void frontends(const gw_config *cfg, gw_sim *s, const char *s7p_host, uint16_t s7p_port)
{
    bool have[2] = {false, false}, have_s7p = false;
    for (size_t i = 0; i < cfg->nmachines; i++) {
        const gw_machine_cfg *m = &cfg->machines[i];
        if (!m->simulate)
            continue;
        if (m->driver == GW_DRIVER_S7 && m->s7plus) {
            if (!have_s7p)
                gw_sim_s7plus_address(s, s7p_host ? s7p_host : m->host,
                                      s7p_host ? s7p_port : m->port, &m->s7p_forms);
            have_s7p = true;
        } else if (!have[m->driver]) {
            gw_sim_frontend_address(s, m->driver, m->host, m->port);
            have[m->driver] = true;
        }
    }
    if (!have_s7p && s7p_host)
        gw_sim_s7plus_address(s, s7p_host, s7p_port, NULL);
    /* S7 memory for S7CommPlus alone: no S7comm listener */
    gw_sim_s7_listen(s, have[GW_DRIVER_S7]);
}

gw_err cli_sim_from_config_s7plus(const gw_config *cfg, gw_log *log, double time_scale,
                                  const char *s7plus_host, uint16_t s7plus_port, gw_sim **sim,
                                  gw_sim_control **ctl, gw_error *err)
{
    *sim = NULL;
    *ctl = NULL;
    gw_sim_opts so = {log, time_scale > 0 ? time_scale : cfg->sim_time_scale, 0, &cfg->sim_s7};
    gw_sim *s;
    if (gw_sim_new(&so, &s) != GW_OK)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    frontends(cfg, s, s7plus_host, s7plus_port);
    gw_err rc = GW_OK;
    for (size_t i = 0; i < cfg->nmachines && rc == GW_OK; i++) {
        const gw_machine_cfg *m = &cfg->machines[i];
        if (!m->simulate)
            continue;
        const gw_sim_device_type *t = gw_sim_device_type_find(m->profile);
        rc = gw_sim_add_device(s, t ? t->name : "memory", m->id, m->tags_path, err);
        if (rc == GW_OK && cfg->sim_strict)
            rc = strict_on(gw_sim_device_find(s, m->id), err);
    }
    if (rc == GW_OK)
        rc = gw_sim_start(s, err);
    if (rc == GW_OK)
        rc = gw_sim_control_start(s, cfg->sim_control_host, cfg->sim_control_port, ctl, err);
    if (rc != GW_OK) {
        gw_sim_free(s);
        return rc;
    }
    *sim = s;
    return GW_OK;
}
