/*
 * cmd_sim.c - plcgw sim: the PLC simulator's command line.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: plcgw sim [--config FILE] [--device NAME]... [--s7 ADDR:PORT]\n"
    "                 [--modbus ADDR:PORT] [--time-scale X] [--debug]\n";

static const char help[] =
    "\n"
    "Simulates PLCs at protocol level: an S7comm server and a Modbus TCP\n"
    "server in front of soft devices. Prints \"READY s7 ADDR:PORT\" and\n"
    "\"READY modbus ADDR:PORT\" once listening.\n"
    "\n"
    "  -c, --config FILE       simulator config or tag map to serve\n"
    "      --device NAME       soft device to run (repeatable): ringstiff, watermaker\n"
    "      --s7 ADDR:PORT      S7 listen address\n"
    "      --modbus ADDR:PORT  Modbus TCP listen address\n"
    "      --time-scale X      simulated seconds per real second (default 1)\n"
    "  -d, --debug             log debug messages\n"
    "  -h, --help              show this help\n";

int cli_sim(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"device", required_argument, NULL, 'v'},
        {"s7", required_argument, NULL, 's'},     {"modbus", required_argument, NULL, 'm'},
        {"time-scale", required_argument, NULL, 't'}, {"debug", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    char host[256], why[96];
    uint16_t port;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+:c:dh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
        case 'v':
        case 'd':
            break;
        case 's':
        case 'm':
            if (!gw_parse_host_port(optarg, true, host, sizeof(host), &port, why, sizeof(why)))
                return cli_usage_error("sim", usage, "%s: %s, got '%s'", argv[optind - 2], why,
                                       optarg);
            break;
        case 't': {
            char *end;
            double x = strtod(optarg, &end);
            if (end == optarg || *end || !(x >= 0.01 && x <= 1000))
                return cli_usage_error("sim", usage, "--time-scale must be 0.01..1000, got '%s'",
                                       optarg);
            break;
        }
        case 'h': printf("%s%s", usage, help); return CLI_EXIT_OK;
        case ':':
            return cli_usage_error("sim", usage, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("sim", usage, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("sim", usage, "unexpected argument '%s'", argv[optind]);
    fprintf(stderr, "plcgw sim: the simulator is not available in this version of plcgw\n");
    return CLI_EXIT_RUNTIME;
}
