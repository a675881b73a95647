/*
 * cmd_sim.c - plcgw sim: run the simulator, or talk to a running one.
 *
 *   plcgw sim [--config FILE] [--device TYPE]... [--s7 A:P] [--modbus A:P]
 *             [--s7plus A:P] [--control A:P] [--time-scale X]   run it
 *   plcgw sim status|devices|get|set|io|fault|clear-faults|writes|clock|
 *             frontend ... --control A:P               drive a running one
 */
#include "cli.h"
#include "sim/sim.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: plcgw sim [--config FILE] [--device TYPE]... [--s7 ADDR:PORT]\n"
    "                 [--modbus ADDR:PORT] [--s7plus ADDR:PORT] [--control ADDR:PORT]\n"
    "                 [--time-scale X]\n"
    "                 [--s7-password PW] [--s7plus-forms LIST] [--debug]\n"
    "       plcgw sim COMMAND --control ADDR:PORT [ARGS]   (see --help)\n";

static const char help[] =
    "\n"
    "Simulates PLCs at protocol level: soft devices behind an S7comm, an\n"
    "S7CommPlus and a Modbus TCP server, driven by a control API (docs/sim.md).\n"
    "Prints \"READY s7 A:P\", \"READY modbus A:P\", \"READY s7plus A:P\" and\n"
    "\"READY control http://A:P\" once listening; runs until SIGINT or SIGTERM.\n"
    "\n"
    "What runs: with a gateway config (--config, default the demo config), its\n"
    "machines with \"simulate\"; with --config MAP.json, a memory device serving\n"
    "that tag map (with --s7, --s7plus or --modbus); with --device TYPE, that\n"
    "device type on its own map (types: memory, ringstiff, watermaker). The S7\n"
    "devices' memory is served by S7comm (--s7, machines with \"driver\": \"s7\")\n"
    "and/or S7CommPlus V1 (--s7plus, machines with \"driver\": \"s7plus\").\n"
    "\n"
    "  -c, --config FILE        gateway config or tag map\n"
    "      --device TYPE        a device type to run (repeatable)\n"
    "      --s7 ADDR:PORT       S7 front-end address (port 0: any free port)\n"
    "      --modbus ADDR:PORT   Modbus front-end address\n"
    "      --s7plus ADDR:PORT   S7CommPlus front-end address (the S7 devices)\n"
    "      --s7plus-forms L     its wire forms: python-snap7's by default; 'real' (all\n"
    "                           of the real CPUs' forms) or some of lid_classic,\n"
    "                           blob_root_id, delete_long, names_utf8, oq_reference,\n"
    "                           explore_id\n"
    "      --control ADDR:PORT  control API address (default from the config, or\n"
    "                           127.0.0.1 on any free port)\n"
    "      --time-scale X       simulated seconds per real second (0.01..1000)\n"
    "      --s7-password PW     the simulated S7 CPU's session password (<= 8)\n"
    "  -d, --debug              log debug messages\n"
    "  -h, --help               show this help\n"
    "\n"
    "Commands to a running simulator (all take --control ADDR:PORT):\n"
    "  status                          state, clock, front-ends, devices\n"
    "  devices                         every device with properties and I/Os\n"
    "  get DEVICE PROPERTY             a property's value\n"
    "  set DEVICE PROPERTY JSON        set a property (as the PLC program would)\n"
    "  io DEVICE IO [VALUE]            read or set a hardware I/O\n"
    "  fault FAULT [--frontend s7|modbus|s7plus|all] [--duration-ms N]\n"
    "              [--delay-ms N]\n"
    "                                  drop, refuse, delay, silent, error, corrupt\n"
    "  clear-faults                    end every fault\n"
    "  writes [--since N]              the write log\n"
    "  clock [--time-scale X]          the simulation clock\n"
    "  frontend s7|modbus|s7plus start|stop\n"
    "                                  start or stop a front-end\n";

/* ---------------------------------------------------------------- commands */

static void url_encode(const char *in, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < size; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

static int request(const char *host, uint16_t port, const char *method, const char *path,
                   const char *body)
{
    int status;
    char *text;
    gw_error err;
    gw_error_clear(&err);
    if (cli_http(host, port, method, path, body, &status, &text, &err) != GW_OK) {
        fprintf(stderr, "plcgw sim: control API %s:%u: %s\n", host, port, err.msg);
        return CLI_EXIT_RUNTIME;
    }
    json_t *j = gw_json_load_untrusted(text, strlen(text), JSON_DECODE_ANY, NULL);
    if (status >= 400) {
        const char *detail = json_string_value(json_object_get(j, "detail"));
        fprintf(stderr, "plcgw sim: %s\n", detail ? detail : text);
    } else if (j) {
        char *pretty = gw_json_dumps(j, 2);
        puts(pretty ? pretty : text);
        gw_free(pretty);
    } else {
        puts(text);
    }
    json_decref(j);
    gw_free(text);
    return status >= 400 ? CLI_EXIT_RUNTIME : CLI_EXIT_OK;
}

static const char *commands[] = {"status", "devices", "get", "set", "io", "fault",
                                 "clear-faults", "writes", "clock", "frontend", NULL};

static bool is_command(const char *w)
{
    for (int i = 0; commands[i]; i++)
        if (strcmp(commands[i], w) == 0)
            return true;
    return false;
}

static int run_command(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"control", required_argument, NULL, 'C'}, {"frontend", required_argument, NULL, 'f'},
        {"duration-ms", required_argument, NULL, 'u'}, {"delay-ms", required_argument, NULL, 'l'},
        {"since", required_argument, NULL, 'n'},   {"time-scale", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *cmd = argv[1];
    char host[256] = "", why[96];
    uint16_t port = 0;
    const char *frontend = "all", *since = "0", *scale = NULL;
    unsigned long duration = 0, delay = 0;
    int c;
    opterr = 0;
    optind = 2;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'C':
            if (!gw_parse_host_port(optarg, false, host, sizeof(host), &port, why, sizeof(why)))
                return cli_usage_error("sim", usage, "--control: %s, got '%s'", why, optarg);
            break;
        case 'f': frontend = optarg; break;
        case 'u':
            if (!cli_parse_uint(optarg, 3600000, &duration))
                return cli_usage_error("sim", usage, "--duration-ms must be 0..3600000");
            break;
        case 'l':
            if (!cli_parse_uint(optarg, 600000, &delay))
                return cli_usage_error("sim", usage, "--delay-ms must be 0..600000");
            break;
        case 'n': since = optarg; break;
        case 't': scale = optarg; break;
        case 'h': printf("%s%s", usage, help); return CLI_EXIT_OK;
        case ':':
            return cli_usage_error("sim", usage, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("sim", usage, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!host[0])
        return cli_usage_error("sim", usage, "'%s' needs --control ADDR:PORT of a running "
                               "simulator", cmd);
    char **arg = argv + optind;
    int nargs = argc - optind;
    char path[1024], body[1024], a1[256], a2[256];
    if (strcmp(cmd, "status") == 0 && nargs == 0)
        return request(host, port, "GET", "/sim", NULL);
    if (strcmp(cmd, "devices") == 0 && nargs == 0)
        return request(host, port, "GET", "/sim/devices", NULL);
    if ((strcmp(cmd, "get") == 0 && nargs == 2) || (strcmp(cmd, "set") == 0 && nargs == 3) ||
        (strcmp(cmd, "io") == 0 && (nargs == 2 || nargs == 3))) {
        url_encode(arg[0], a1, sizeof(a1));
        url_encode(arg[1], a2, sizeof(a2));
        snprintf(path, sizeof(path), "/sim/devices/%s/%s/%s", a1,
                 strcmp(cmd, "io") == 0 ? "ios" : "properties", a2);
        if (nargs == 2)
            return request(host, port, "GET", path, NULL);
        json_t *v = gw_json_load_untrusted(arg[2], strlen(arg[2]), JSON_DECODE_ANY, NULL);
        if (!v)
            v = json_string(arg[2]); /* a bare word is a string */
        json_t *b = json_pack("{s:o}", "value", v);
        char *bs = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(b);
        snprintf(body, sizeof(body), "%s", bs ? bs : "{}");
        free(bs);
        return request(host, port, "PUT", path, body);
    }
    if (strcmp(cmd, "fault") == 0 && nargs == 1) {
        snprintf(body, sizeof(body), "{\"frontend\": \"%s\", \"fault\": \"%s\", \"duration_ms\": "
                 "%lu, \"delay_ms\": %lu}", frontend, arg[0], duration, delay);
        return request(host, port, "POST", "/sim/faults", body);
    }
    if (strcmp(cmd, "clear-faults") == 0 && nargs == 0)
        return request(host, port, "DELETE", "/sim/faults", NULL);
    if (strcmp(cmd, "writes") == 0 && nargs == 0) {
        snprintf(path, sizeof(path), "/sim/writes?since=%s", since);
        return request(host, port, "GET", path, NULL);
    }
    if (strcmp(cmd, "clock") == 0 && nargs == 0) {
        if (!scale)
            return request(host, port, "GET", "/sim/clock", NULL);
        snprintf(body, sizeof(body), "{\"time_scale\": %s}", scale);
        return request(host, port, "PUT", "/sim/clock", body);
    }
    if (strcmp(cmd, "frontend") == 0 && nargs == 2) {
        snprintf(path, sizeof(path), "/sim/frontends/%s/%s", arg[0], arg[1]);
        return request(host, port, "POST", path, NULL);
    }
    return cli_usage_error("sim", usage, "wrong arguments for '%s'", cmd);
}

/* ---------------------------------------------------------------- running */

typedef struct {
    const char *type;
    char name[48];
    char map[512];
} dev_plan;

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

static void config_dir(const char *config_path, char *out, size_t size)
{
    snprintf(out, size, "%.*s", (int)size - 1, config_path);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(out, size, ".");
}

int cli_sim(int argc, char **argv)
{
    if (argc >= 2 && is_command(argv[1]))
        return run_command(argc, argv);
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"device", required_argument, NULL, 'v'},
        {"s7", required_argument, NULL, 's'},     {"modbus", required_argument, NULL, 'm'},
        {"control", required_argument, NULL, 'C'}, {"time-scale", required_argument, NULL, 't'},
        {"debug", no_argument, NULL, 'd'},        {"help", no_argument, NULL, 'h'},
        {"s7-password", required_argument, NULL, 'P'},
        {"s7plus", required_argument, NULL, 'S'},
        {"s7plus-forms", required_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    s7p_opts forms = {0};
    bool have_forms = false;
    char config_path[512] = "", why[96], s7_password[9] = "";
    bool have_password = false;
    char s7_host[256] = "", mb_host[256] = "", ctl_host[256] = "", sp_host[256] = "";
    uint16_t s7_port = 0, mb_port = 0, ctl_port = 0, sp_port = 0;
    double scale = 0;
    dev_plan dev[16];
    size_t ndev = 0;
    gw_log_level level = GW_LOG_INFO;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+:c:dh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': snprintf(config_path, sizeof(config_path), "%s", optarg); break;
        case 'v':
            if (!gw_sim_device_type_find(optarg))
                return cli_usage_error("sim", usage, "unknown device type '%s' (types: memory, "
                                       "ringstiff, watermaker)", optarg);
            if (ndev < 16) {
                dev[ndev].type = optarg;
                snprintf(dev[ndev].name, sizeof(dev[0].name), "%s", optarg);
                dev[ndev].map[0] = '\0';
                ndev++;
            }
            break;
        case 's':
        case 'm':
        case 'S':
        case 'C': {
            char *h = c == 's' ? s7_host : c == 'm' ? mb_host : c == 'S' ? sp_host : ctl_host;
            uint16_t *p = c == 's' ? &s7_port : c == 'm' ? &mb_port : c == 'S' ? &sp_port
                                                                               : &ctl_port;
            if (!gw_parse_host_port(optarg, true, h, 256, p, why, sizeof(why)))
                return cli_usage_error("sim", usage, "%s: %s, got '%s'", argv[optind - 2], why,
                                       optarg);
            break;
        }
        case 't': {
            char *end;
            scale = strtod(optarg, &end);
            if (end == optarg || *end || !(scale >= 0.01 && scale <= 1000))
                return cli_usage_error("sim", usage, "--time-scale must be 0.01..1000, got '%s'",
                                       optarg);
            break;
        }
        case 'P':
            if (strlen(optarg) > 8)
                return cli_usage_error("sim", usage, "--s7-password: at most 8 characters");
            snprintf(s7_password, sizeof(s7_password), "%s", optarg);
            have_password = true;
            break;
        case 'F': {
            char fwhy[200];
            if (s7p_opts_parse(optarg, &forms, fwhy, sizeof(fwhy)) != GW_OK)
                return cli_usage_error("sim", usage, "--s7plus-forms: %s", fwhy);
            have_forms = true;
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

    /* what to run */
    gw_config *cfg = NULL;
    if (config_path[0] && is_tag_map(config_path)) {
        if (!s7_host[0] && !mb_host[0] && !sp_host[0])
            return cli_usage_error("sim", usage, "serving the tag map %s needs --s7 or --modbus "
                                   "ADDR:PORT, or --s7plus ADDR:PORT", config_path);
        dev[0].type = "memory";
        snprintf(dev[0].name, sizeof(dev[0].name), "memory");
        snprintf(dev[0].map, sizeof(dev[0].map), "%s", config_path);
        ndev = 1;
    } else if (ndev == 0) {
        /* a gateway config's simulated machines; flags override its addresses */
        if (!config_path[0])
            cli_default_config(config_path, sizeof(config_path));
        gw_diag d;
        if (gw_config_load(config_path, &cfg, &d) != GW_OK) {
            cli_print_diag(&d);
            return CLI_EXIT_USAGE;
        }
        if (cli_sim_machines(cfg) == 0) {
            fprintf(stderr, "plcgw sim: %s has no simulated machine to run\n", config_path);
            gw_config_free(cfg);
            return CLI_EXIT_USAGE;
        }
        for (size_t i = 0; i < cfg->nmachines; i++) {
            gw_machine_cfg *m = &cfg->machines[i];
            if (m->s7plus && have_forms)
                m->s7p_forms = forms;
            if (m->s7plus)
                continue; /* --s7plus: cli_sim_from_config_s7plus */
            const char *h = m->driver == GW_DRIVER_S7 ? s7_host : mb_host;
            if (h[0]) {
                snprintf(m->host, sizeof(m->host), "%s", h);
                m->port = m->driver == GW_DRIVER_S7 ? s7_port : mb_port;
            }
        }
        if (ctl_host[0]) {
            snprintf(cfg->sim_control_host, sizeof(cfg->sim_control_host), "%s", ctl_host);
            cfg->sim_control_port = ctl_port;
        }
        if (have_password)
            cfg->sim_s7.password = s7_password;
    } else {
        /* device types on their own maps, beside the demo config */
        char demo[512], dir[400];
        cli_default_config(demo, sizeof(demo));
        config_dir(demo, dir, sizeof(dir));
        for (size_t i = 0; i < ndev; i++) {
            const gw_sim_device_type *t = gw_sim_device_type_find(dev[i].type);
            if (!t->default_map)
                return cli_usage_error("sim", usage, "device type '%s' needs a map: use --config "
                                       "MAP.json", dev[i].type);
            snprintf(dev[i].map, sizeof(dev[i].map), "%.400s/%.100s", dir, t->default_map);
        }
    }
    if (!ctl_host[0])
        snprintf(ctl_host, sizeof(ctl_host), "127.0.0.1");

    gw_log *log = gw_log_new(stderr, level);
    gw_sim *sim = NULL;
    gw_sim_control *ctl = NULL;
    gw_error err;
    gw_error_clear(&err);
    int rc = CLI_EXIT_RUNTIME;
    if (cfg) {
        snprintf(ctl_host, sizeof(ctl_host), "%s", cfg->sim_control_host);
        gw_err e = cli_sim_from_config_s7plus(cfg, log, scale, sp_host[0] ? sp_host : NULL,
                                              sp_port, &sim, &ctl, &err);
        gw_config_free(cfg);
        cfg = NULL;
        if (e != GW_OK)
            goto out;
    } else {
        gw_s7_server_opts s7o = {0};
        s7o.password = have_password ? s7_password : NULL;
        gw_sim_opts so = {log, scale > 0 ? scale : 1.0, 0, &s7o};
        if (gw_sim_new(&so, &sim) != GW_OK)
            goto out;
        if (s7_host[0])
            gw_sim_frontend_address(sim, GW_DRIVER_S7, s7_host, s7_port);
        if (mb_host[0])
            gw_sim_frontend_address(sim, GW_DRIVER_MODBUS, mb_host, mb_port);
        if (sp_host[0]) {
            gw_sim_s7plus_address(sim, sp_host, sp_port, &forms);
            /* without --s7: the S7 memory for S7CommPlus alone, no S7comm listener */
            gw_sim_s7_listen(sim, s7_host[0] != '\0');
        }
        for (size_t i = 0; i < ndev; i++)
            if (gw_sim_add_device(sim, dev[i].type, dev[i].name, dev[i].map, &err) != GW_OK) {
                rc = CLI_EXIT_USAGE;
                goto out;
            }
        if (gw_sim_start(sim, &err) != GW_OK ||
            gw_sim_control_start(sim, ctl_host, ctl_port, &ctl, &err) != GW_OK)
            goto out;
    }
    cli_catch_stop_signals();
    static const gw_driver order[] = {GW_DRIVER_S7, GW_DRIVER_MODBUS};
    for (int k = 0; k < 2; k++) {
        gw_driver d = order[k];
        gw_tcpsrv *t = gw_sim_frontend(sim, d);
        if (t)
            printf("READY %s %s:%u\n", d == GW_DRIVER_S7 ? "s7" : "modbus",
                   gw_sim_frontend_host(sim, d), gw_tcpsrv_port(t));
    }
    gw_tcpsrv *sp = gw_sim_s7plus_frontend(sim);
    if (sp)
        printf("READY s7plus %s:%u\n", gw_sim_s7plus_host(sim), gw_tcpsrv_port(sp));
    else if (sp_host[0])
        fprintf(stderr, "plcgw sim: --s7plus: no device has S7 memory to serve\n");
    printf("READY control http://%s:%u\n", ctl_host, gw_sim_control_port(ctl));
    fflush(stdout);
    cli_wait_for_stop();
    gw_log_info(log, "sim", "stopping");
    rc = CLI_EXIT_OK;
out:
    if (rc != CLI_EXIT_OK)
        fprintf(stderr, "plcgw sim: %s\n", err.msg);
    gw_sim_control_stop(ctl);
    gw_sim_free(sim);
    gw_log_free(log);
    return rc;
}
