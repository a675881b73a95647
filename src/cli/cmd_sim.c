/*
 * cmd_sim.c - plcgw sim: soft PLCs for the demo, for tests and for people
 * without hardware.
 *
 * Today a device is its PLC memory: the ring-stiffness rig's DB1, DB2 and
 * DB3 served by our S7 server, as plain memory that protocol clients read
 * and write.
 */
#include "cli.h"
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
    "devices. Prints \"READY s7 ADDR:PORT\" once listening; runs until SIGINT or\n"
    "SIGTERM. Without --device it runs the simulated machines of the gateway\n"
    "config (default: the demo config) on the addresses that config names.\n"
    "\n"
    "  -c, --config FILE       gateway config whose simulated machines to run\n"
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

static void on_write(void *user, gw_s7_area area, uint16_t db, uint32_t start, uint32_t len,
                     const char *peer)
{
    gw_log *log = user;
    if (area == GW_S7_DB)
        gw_log_debug(log, "sim", "%s wrote DB%u bytes %u..%u", peer, db, start, start + len - 1);
    else
        gw_log_debug(log, "sim", "%s wrote area %d bytes %u..%u", peer, (int)area, start,
                     start + len - 1);
}

int cli_sim(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"device", required_argument, NULL, 'v'},
        {"s7", required_argument, NULL, 's'},     {"modbus", required_argument, NULL, 'm'},
        {"time-scale", required_argument, NULL, 't'}, {"debug", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    char s7_host[256] = "", mb_host[256] = "", why[96], config_path[512] = "";
    uint16_t s7_port = 0, mb_port = 0;
    int dev_list[8];
    size_t ndev = 0;
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
            if (ndev < 8)
                dev_list[ndev++] = d;
            break;
        }
        case 's':
            if (!gw_parse_host_port(optarg, true, s7_host, sizeof(s7_host), &s7_port, why,
                                    sizeof(why)))
                return cli_usage_error("sim", usage, "--s7: %s, got '%s'", why, optarg);
            break;
        case 'm':
            if (!gw_parse_host_port(optarg, true, mb_host, sizeof(mb_host), &mb_port, why,
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
    if (mb_host[0])
        return cli_usage_error("sim", usage, "--modbus: no soft device is served over Modbus "
                               "yet (devices: ringstiff, over S7)");

    gw_config *cfg = NULL;
    if (ndev == 0) {
        /* the simulated S7 machines of a gateway config, on their addresses */
        if (!config_path[0])
            cli_default_config(config_path, sizeof(config_path));
        gw_diag d;
        if (gw_config_load(config_path, &cfg, &d) != GW_OK) {
            cli_print_diag(&d);
            return CLI_EXIT_USAGE;
        }
        for (size_t i = 0; i < cfg->nmachines; i++) {
            const gw_machine_cfg *m = &cfg->machines[i];
            int dv = find_device(m->profile);
            if (!m->simulate || m->driver != GW_DRIVER_S7 || dv < 0)
                continue;
            if (!s7_host[0]) {
                snprintf(s7_host, sizeof(s7_host), "%s", m->host);
                s7_port = m->port;
            }
            /* one S7 server: the first simulated S7 machine */
            dev_list[ndev++] = dv;
            break;
        }
        gw_config_free(cfg);
        if (ndev == 0) {
            fprintf(stderr, "plcgw sim: %s has no simulated S7 machine to run\n", config_path);
            return CLI_EXIT_USAGE;
        }
    }
    if (!s7_host[0])
        return cli_usage_error("sim", usage, "--s7 ADDR:PORT is needed for device '%s'",
                               devices[dev_list[0]].name);

    gw_log *log = gw_log_new(stderr, level);
    gw_s7_server_opts so = {0};
    so.host = s7_host;
    so.port = s7_port;
    so.log = log;
    so.on_write = on_write;
    so.user = log;
    gw_s7_server *srv;
    gw_error err;
    gw_error_clear(&err);
    int rc = CLI_EXIT_RUNTIME;
    if (gw_s7_server_new(&so, &srv, &err) != GW_OK)
        goto out;
    for (size_t k = 0; k < ndev; k++)
        for (size_t i = 0; i < devices[dev_list[k]].nareas; i++) {
            const sim_area *a = &devices[dev_list[k]].areas[i];
            if (gw_s7_server_add_area(srv, a->area, a->db, a->size) != GW_OK) {
                gw_error_set(&err, GW_E_CONFIG, "device %s: DB%u is already served",
                             devices[dev_list[k]].name, a->db);
                goto out_srv;
            }
        }
    if (gw_s7_server_start(srv, &err) != GW_OK)
        goto out_srv;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    printf("READY s7 %s:%u\n", s7_host, gw_s7_server_port(srv));
    fflush(stdout);
    while (!stop_requested) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    gw_log_info(log, "sim", "stopping");
    rc = CLI_EXIT_OK;
out_srv:
    gw_s7_server_free(srv);
out:
    if (rc != CLI_EXIT_OK)
        fprintf(stderr, "plcgw sim: %s\n", err.msg);
    gw_log_free(log);
    return rc;
}
