/*
 * cmd_sim.c - plcgw sim: soft PLCs for the demo, for tests and for people
 * without hardware.
 *
 * Today a device is its PLC memory: the ring-stiffness rig's DB1, DB2 and
 * DB3 served by our S7 server, as plain memory that protocol clients read
 * and write.
 */
#include "cli.h"
#include "drivers/modbus/mb.h"
#include "drivers/s7/s7.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: plcgw sim [--config FILE] [--device NAME]... [--s7 ADDR:PORT]\n"
    "                 [--modbus ADDR:PORT] [--time-scale X] [--debug]\n";

static const char help[] =
    "\n"
    "Simulates PLCs at protocol level: an S7comm server in front of soft\n"
    "devices, and a Modbus TCP server for any tag map's registers (initial\n"
    "values from defaultValue). Prints \"READY s7 ADDR:PORT\" and \"READY modbus\n"
    "ADDR:PORT\" once listening; runs until SIGINT or SIGTERM. Without --device\n"
    "or a tag map it runs the simulated machines of the gateway config\n"
    "(default: the demo config) on the addresses that config names.\n"
    "\n"
    "  -c, --config FILE       gateway config whose simulated machines to run, or a\n"
    "                          Modbus tag map to serve (with --modbus)\n"
    "      --device NAME       soft device to run (repeatable): ringstiff\n"
    "      --s7 ADDR:PORT      S7 listen address (port 0: any free port)\n"
    "      --modbus ADDR:PORT  Modbus TCP listen address\n"
    "      --time-scale X      simulated seconds per real second (default 1)\n"
    "  -d, --debug             log debug messages\n"
    "  -h, --help              show this help\n";

/* The PLC memory of each soft device (seed 000, section 2.3: DB1 test
 * parameters 24 bytes, DB2 results 26 bytes, DB3 servo control 10 bytes). */
typedef struct {
    gw_s7_area area;
    uint16_t db;
    uint32_t size;
} sim_area;

static const struct {
    const char *name;
    const sim_area areas[4];
    size_t nareas;
} devices[] = {
    {"ringstiff", {{GW_S7_DB, 1, 24}, {GW_S7_DB, 2, 26}, {GW_S7_DB, 3, 10}}, 3},
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int find_device(const char *name)
{
    for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
        if (strcmp(devices[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void on_write(void *user, const gw_s7_write_event *ev)
{
    gw_log *log = user;
    if (ev->area == GW_S7_DB)
        gw_log_debug(log, "sim", "%s wrote DB%u bytes %u..%u", ev->peer, ev->db, ev->start,
                     ev->start + ev->len - 1);
    else
        gw_log_debug(log, "sim", "%s wrote area %d bytes %u..%u", ev->peer, (int)ev->area,
                     ev->start, ev->start + ev->len - 1);
}

static void on_mb_write(void *user, const gw_mb_write_event *ev)
{
    gw_log_debug((gw_log *)user, "sim", "%s wrote %s %u..%u", ev->peer,
                 ev->cls == GW_MB_COIL ? "coils" : "holding registers", ev->start,
                 ev->start + ev->count - 1);
}

/* What to run: an S7 server with soft devices, a Modbus server with a map. */
typedef struct {
    char s7_host[256];
    uint16_t s7_port;
    int dev[8];
    size_t ndev;
    char mb_host[256];
    uint16_t mb_port;
    char mb_map[512];
} sim_plan;

/* The simulated machines of a gateway config, on the addresses it names. */
static int plan_from_config(sim_plan *p, const char *path)
{
    gw_config *cfg;
    gw_diag d;
    if (gw_config_load(path, &cfg, &d) != GW_OK) {
        cli_print_diag(&d);
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < cfg->nmachines; i++) {
        const gw_machine_cfg *m = &cfg->machines[i];
        if (!m->simulate)
            continue;
        int dv = find_device(m->profile);
        if (m->driver == GW_DRIVER_S7 && dv >= 0 && p->ndev == 0) {
            /* one S7 server: the first simulated S7 machine */
            if (!p->s7_host[0]) {
                snprintf(p->s7_host, sizeof(p->s7_host), "%s", m->host);
                p->s7_port = m->port;
            }
            p->dev[p->ndev++] = dv;
        } else if (m->driver == GW_DRIVER_MODBUS && !p->mb_map[0]) {
            /* one Modbus server: the first simulated Modbus machine's map */
            snprintf(p->mb_map, sizeof(p->mb_map), "%s", m->tags_path);
            if (!p->mb_host[0]) {
                snprintf(p->mb_host, sizeof(p->mb_host), "%s", m->host);
                p->mb_port = m->port;
            }
        }
    }
    gw_config_free(cfg);
    if (p->ndev == 0 && !p->mb_map[0]) {
        fprintf(stderr, "plcgw sim: %s has no simulated machine to run\n", path);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* A file with "machines" is a gateway config, one with "mapping" a map. */
static bool is_tag_map(const char *path)
{
    gw_json_doc *doc;
    gw_diag d;
    if (gw_json_parse_file(path, &doc, &d) != GW_OK)
        return false;
    bool map = gw_json_get(gw_json_root(doc), "mapping") != NULL;
    gw_json_doc_free(doc);
    return map;
}

int cli_sim(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"device", required_argument, NULL, 'v'},
        {"s7", required_argument, NULL, 's'},     {"modbus", required_argument, NULL, 'm'},
        {"time-scale", required_argument, NULL, 't'}, {"debug", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    sim_plan p;
    memset(&p, 0, sizeof(p));
    char why[96], config_path[512] = "";
    gw_log_level level = GW_LOG_INFO;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+:c:dh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': snprintf(config_path, sizeof(config_path), "%s", optarg); break;
        case 'v': {
            int d = find_device(optarg);
            if (d < 0)
                return cli_usage_error("sim", usage, "unknown device '%s' (known: ringstiff)",
                                       optarg);
            if (p.ndev < 8)
                p.dev[p.ndev++] = d;
            break;
        }
        case 's':
            if (!gw_parse_host_port(optarg, true, p.s7_host, sizeof(p.s7_host), &p.s7_port, why,
                                    sizeof(why)))
                return cli_usage_error("sim", usage, "--s7: %s, got '%s'", why, optarg);
            break;
        case 'm':
            if (!gw_parse_host_port(optarg, true, p.mb_host, sizeof(p.mb_host), &p.mb_port, why,
                                    sizeof(why)))
                return cli_usage_error("sim", usage, "--modbus: %s, got '%s'", why, optarg);
            break;
        case 't': {
            char *end;
            double x = strtod(optarg, &end);
            if (end == optarg || *end || !(x >= 0.01 && x <= 1000))
                return cli_usage_error("sim", usage, "--time-scale must be 0.01..1000, got '%s'",
                                       optarg);
            break;
        }
        case 'd': level = GW_LOG_DEBUG; break;
        case 'h': printf("%s%s", usage, help); return CLI_EXIT_OK;
        case ':':
            return cli_usage_error("sim", usage, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("sim", usage, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("sim", usage, "unexpected argument '%s'", argv[optind]);
    if (config_path[0] && is_tag_map(config_path)) {
        /* --config MAP --modbus ADDR:PORT: serve any tag map's registers */
        if (!p.mb_host[0])
            return cli_usage_error("sim", usage, "--modbus ADDR:PORT is needed to serve the "
                                   "tag map %s", config_path);
        snprintf(p.mb_map, sizeof(p.mb_map), "%s", config_path);
    } else if (p.ndev == 0) {
        if (!config_path[0])
            cli_default_config(config_path, sizeof(config_path));
        int rc = plan_from_config(&p, config_path);
        if (rc != CLI_EXIT_OK)
            return rc;
    }
    if (p.ndev && !p.s7_host[0])
        return cli_usage_error("sim", usage, "--s7 ADDR:PORT is needed for device '%s'",
                               devices[p.dev[0]].name);
    if (p.mb_host[0] && !p.mb_map[0])
        return cli_usage_error("sim", usage, "--modbus needs a tag map to serve: --config MAP");

    gw_log *log = gw_log_new(stderr, level);
    gw_error err;
    gw_error_clear(&err);
    int rc = CLI_EXIT_RUNTIME;
    gw_s7_server *s7 = NULL;
    gw_mb_server *mb = NULL;
    gw_tagmap *map = NULL;
    if (p.ndev) {
        gw_s7_server_opts so = {0};
        so.host = p.s7_host;
        so.port = p.s7_port;
        so.log = log;
        so.on_write = on_write;
        so.user = log;
        if (gw_s7_server_new(&so, &s7, &err) != GW_OK)
            goto out;
        for (size_t k = 0; k < p.ndev; k++)
            for (size_t i = 0; i < devices[p.dev[k]].nareas; i++) {
                const sim_area *a = &devices[p.dev[k]].areas[i];
                if (gw_s7_server_add_area(s7, a->area, a->db, a->size) != GW_OK) {
                    gw_error_set(&err, GW_E_CONFIG, "device %s: DB%u is already served",
                                 devices[p.dev[k]].name, a->db);
                    goto out;
                }
            }
        if (gw_s7_server_start(s7, &err) != GW_OK)
            goto out;
    }
    if (p.mb_map[0]) {
        gw_diag d;
        gw_err lrc = gw_tagmap_load_file(p.mb_map, &map, &d);
        cli_print_diag(&d); /* errors, and warnings such as a misspelt defaultValue */
        if (lrc != GW_OK) {
            rc = CLI_EXIT_USAGE;
            goto out;
        }
        if (gw_tagmap_driver(map) != GW_DRIVER_MODBUS) {
            gw_error_set(&err, GW_E_CONFIG, "%s is not a Modbus tag map", p.mb_map);
            goto out;
        }
        gw_mb_server_opts mo = {0};
        mo.host = p.mb_host;
        mo.port = p.mb_port;
        mo.log = log;
        mo.on_write = on_mb_write;
        mo.user = log;
        if (gw_mb_server_new(&mo, &mb, &err) != GW_OK ||
            gw_mb_server_load_defaults(mb, map, &err) != GW_OK ||
            gw_mb_server_start(mb, &err) != GW_OK)
            goto out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (s7)
        printf("READY s7 %s:%u\n", p.s7_host, gw_s7_server_port(s7));
    if (mb)
        printf("READY modbus %s:%u\n", p.mb_host, gw_mb_server_port(mb));
    fflush(stdout);
    while (!stop_requested) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    gw_log_info(log, "sim", "stopping");
    rc = CLI_EXIT_OK;
out:
    if (rc == CLI_EXIT_RUNTIME)
        fprintf(stderr, "plcgw sim: %s\n", err.msg);
    gw_s7_server_free(s7);
    gw_mb_server_free(mb);
    gw_tagmap_free(map);
    gw_log_free(log);
    return rc;
}
