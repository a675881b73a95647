/*
 * cmd_io.c - plcgw read / plcgw write: the universal client (seed 004) for
 * Modbus and S7 alike. A write payload is checked completely - every
 * parameter known, writable, of the right type and inside min/max - before
 * anything is sent; one bad value rejects the whole payload.
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>

static const char read_usage[] =
    "usage: plcgw read --host H [--port P] --config MAPFILE [--driver s7|modbus]\n"
    "                  [--unit N] [--rack R --slot S] [--timeout-ms MS] [--json] [--plan]\n"
    "                  [--debug]\n";
static const char write_usage[] =
    "usage: plcgw write --host H [--port P] --config MAPFILE --payload JSON\n"
    "                   [--driver s7|modbus] [--unit N] [--rack R --slot S]\n"
    "                   [--timeout-ms MS] [--debug]\n";

static const char common_help[] =
    "\n"
    "  -H, --host H           device address (required)\n"
    "  -p, --port P           TCP port (default 502 for Modbus, 102 for S7)\n"
    "  -c, --config MAPFILE   tag map (required)\n"
    "      --driver D         s7 or modbus (default: from the map's keys)\n"
    "  -u, --unit N           Modbus unit id (default 1)\n"
    "      --rack R           S7 rack (default 0)\n"
    "      --slot S           S7 slot (default 1)\n"
    "      --timeout-ms MS    connect and response timeout (default 2000)\n"
    "  -d, --debug            print requests and decisions to stderr\n"
    "  -h, --help             show this help\n";

typedef struct {
    const char *cmd;
    const char *usage;
    const char *host;
    unsigned long port;
    const char *config;
    const char *payload;
    int driver;           /* -1 = from the map */
    unsigned long unit, rack, slot, timeout_ms;
    bool json, plan, debug;
} io_opts;

static int parse(io_opts *o, int argc, char **argv, bool is_write)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'H'},    {"port", required_argument, NULL, 'p'},
        {"config", required_argument, NULL, 'c'},  {"payload", required_argument, NULL, 'P'},
        {"driver", required_argument, NULL, 'D'},  {"unit", required_argument, NULL, 'u'},
        {"rack", required_argument, NULL, 'R'},    {"slot", required_argument, NULL, 'S'},
        {"timeout-ms", required_argument, NULL, 'T'}, {"json", no_argument, NULL, 'j'},
        {"plan", no_argument, NULL, 'n'},          {"debug", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+:H:p:c:u:dh", longopts, NULL)) != -1) {
        switch (c) {
        case 'H': o->host = optarg; break;
        case 'c': o->config = optarg; break;
        case 'P':
            if (!is_write)
                return cli_usage_error(o->cmd, o->usage, "--payload belongs to 'plcgw write'");
            o->payload = optarg;
            break;
        case 'p':
            if (!cli_parse_uint(optarg, 65535, &o->port) || o->port == 0)
                return cli_usage_error(o->cmd, o->usage, "--port must be 1..65535, got '%s'", optarg);
            break;
        case 'u':
            if (!cli_parse_uint(optarg, 255, &o->unit))
                return cli_usage_error(o->cmd, o->usage, "--unit must be 0..255, got '%s'", optarg);
            break;
        case 'R':
            if (!cli_parse_uint(optarg, 7, &o->rack))
                return cli_usage_error(o->cmd, o->usage, "--rack must be 0..7, got '%s'", optarg);
            break;
        case 'S':
            if (!cli_parse_uint(optarg, 31, &o->slot))
                return cli_usage_error(o->cmd, o->usage, "--slot must be 0..31, got '%s'", optarg);
            break;
        case 'T':
            if (!cli_parse_uint(optarg, 600000, &o->timeout_ms) || o->timeout_ms < 10)
                return cli_usage_error(o->cmd, o->usage, "--timeout-ms must be 10..600000, got "
                                       "'%s'", optarg);
            break;
        case 'D':
            if (strcmp(optarg, "s7") == 0)
                o->driver = GW_DRIVER_S7;
            else if (strcmp(optarg, "modbus") == 0)
                o->driver = GW_DRIVER_MODBUS;
            else
                return cli_usage_error(o->cmd, o->usage, "--driver must be s7 or modbus, got '%s'",
                                       optarg);
            break;
        case 'j':
        case 'n':
            if (is_write)
                return cli_usage_error(o->cmd, o->usage, "%s belongs to 'plcgw read'",
                                       argv[optind - 1]);
            if (c == 'j')
                o->json = true;
            else
                o->plan = true;
            break;
        case 'd': o->debug = true; break;
        case 'h': printf("%s%s", o->usage, common_help); return -1;
        case ':':
            return cli_usage_error(o->cmd, o->usage, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(o->cmd, o->usage, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(o->cmd, o->usage, "unexpected argument '%s'", argv[optind]);
    if (!o->host)
        return cli_usage_error(o->cmd, o->usage, "--host is required");
    if (!o->config)
        return cli_usage_error(o->cmd, o->usage, "--config is required");
    if (is_write && !o->payload)
        return cli_usage_error(o->cmd, o->usage, "--payload is required");
    return 0;
}

static gw_tagmap *load_map(io_opts *o)
{
    gw_diag d;
    gw_tagmap *m;
    if (gw_tagmap_load_file(o->config, &m, &d) != GW_OK) {
        cli_print_diag(&d);
        return NULL;
    }
    if (o->debug)
        cli_print_diag(&d);
    if (o->driver >= 0 && (gw_driver)o->driver != gw_tagmap_driver(m)) {
        fprintf(stderr, "plcgw %s: --driver %s does not match the map %s, which has %s addresses\n",
                o->cmd, o->driver == GW_DRIVER_S7 ? "s7" : "modbus", o->config,
                gw_tagmap_driver(m) == GW_DRIVER_S7 ? "S7" : "Modbus");
        gw_tagmap_free(m);
        return NULL;
    }
    o->driver = gw_tagmap_driver(m);
    if (o->port == 0)
        o->port = o->driver == GW_DRIVER_S7 ? 102 : 502;
    return m;
}

/* Connects to the device and runs the reads or the writes. */
static int run_device(io_opts *o, gw_tagmap *m, gw_write *writes, size_t nwrites)
{
    (void)m;
    (void)writes;
    (void)nwrites;
    fprintf(stderr, "plcgw %s: %s:%lu: the %s driver is not available in this version of plcgw\n",
            o->cmd, o->host, o->port, o->driver == GW_DRIVER_S7 ? "S7" : "Modbus");
    return CLI_EXIT_RUNTIME;
}

static void print_write(const gw_write *w, gw_driver drv)
{
    char addr[48];
    gw_addr_format(&w->tag->addr, addr, sizeof(addr));
    fprintf(stderr, "write %s (%s):", w->tag->parameter, addr);
    if (w->tag->type == GW_T_BOOL) {
        fprintf(stderr, " bit %d\n", w->bit);
        return;
    }
    for (size_t i = 0; i < w->n; i++) {
        if (drv == GW_DRIVER_MODBUS)
            fprintf(stderr, " %04X&%04X", w->regs[i], w->regmask[i]);
        else
            fprintf(stderr, " %02X&%02X", w->bytes[i], w->bytemask[i]);
    }
    fputc('\n', stderr);
}

int cli_read(int argc, char **argv)
{
    io_opts o = {"read", read_usage, NULL, 0, NULL, NULL, -1, 1, 0, 1, 2000, false, false, false};
    int rc = parse(&o, argc, argv, false);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    gw_tagmap *m = load_map(&o);
    if (!m)
        return CLI_EXIT_USAGE;
    rc = run_device(&o, m, NULL, 0);
    gw_tagmap_free(m);
    return rc;
}

int cli_write(int argc, char **argv)
{
    io_opts o = {"write", write_usage, NULL, 0, NULL, NULL, -1, 1, 0, 1, 2000, false, false, false};
    int rc = parse(&o, argc, argv, true);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    json_error_t jerr;
    json_t *payload = json_loads(o.payload, JSON_REJECT_DUPLICATES, &jerr);
    if (!payload) {
        fprintf(stderr, "--payload:%d:%d: error: %s\n", jerr.line, jerr.column, jerr.text);
        return CLI_EXIT_USAGE;
    }
    if (!json_is_object(payload) || json_object_size(payload) == 0) {
        fprintf(stderr, "plcgw write: --payload must be a JSON object of {\"parameter\": value, "
                        "...} with at least one parameter\n");
        json_decref(payload);
        return CLI_EXIT_USAGE;
    }
    gw_tagmap *m = load_map(&o);
    if (!m) {
        json_decref(payload);
        return CLI_EXIT_USAGE;
    }
    size_t n = json_object_size(payload);
    gw_write *writes = gw_calloc(n, sizeof(*writes));
    size_t k = 0, bad = 0;
    const char *name;
    json_t *value;
    json_object_foreach(payload, name, value) {
        const gw_tag *t = gw_tagmap_find(m, name);
        gw_error err;
        gw_error_clear(&err);
        if (!t) {
            fprintf(stderr, "plcgw write: unknown parameter \"%s\" (not in %s)\n", name, o.config);
            bad++;
            continue;
        }
        if (gw_tag_prepare_write(m, t, value, &writes[k], &err) != GW_OK) {
            fprintf(stderr, "plcgw write: %s\n", err.msg);
            if (err.hint[0])
                fprintf(stderr, "  hint: %s\n", err.hint);
            bad++;
            continue;
        }
        if (o.debug)
            print_write(&writes[k], (gw_driver)o.driver);
        k++;
    }
    if (bad) {
        fprintf(stderr, "plcgw write: %zu of %zu value%s rejected; nothing was written\n", bad, n,
                n == 1 ? "" : "s");
        rc = CLI_EXIT_USAGE;
    } else {
        rc = run_device(&o, m, writes, k);
    }
    gw_free(writes);
    gw_tagmap_free(m);
    json_decref(payload);
    return rc;
}
