/*
 * cmd_browse.c - plcgw browse: the data blocks of an S7-1200/1500 and the
 * variable names they hold, through S7CommPlus V1 Explore (s7plus.h).
 * Names only: the wire says nothing of offsets or types (docs/drivers.md).
 */
#include "cli.h"
#include "drivers/s7plus/s7plus.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>

static const char usage[] =
    "usage: plcgw browse --host H [--port P] --driver s7plus [--json] [--timeout-ms MS]\n"
    "                    [--s7plus-forms LIST] [--debug]\n";

static const char help[] =
    "\n"
    "Lists the data blocks of an S7-1200/1500 (S7CommPlus V1) and the names of\n"
    "their variables. With --json: an array of\n"
    "{\"number\", \"name\", \"size\", \"variables\": [{\"name\"}]}.\n"
    "\n"
    "  -H, --host H           the PLC's address (required)\n"
    "  -p, --port P           TCP port (default 102)\n"
    "      --driver s7plus    the protocol (required; only s7plus can browse)\n"
    "      --json             print JSON\n"
    "      --timeout-ms MS    connect and response timeout (default 2000)\n"
    "      --s7plus-forms L   the real CPUs' wire forms instead of python-snap7's:\n"
    "                         'real' (all), or some of lid_classic, blob_root_id,\n"
    "                         delete_long, names_utf8, oq_reference, explore_id\n"
    "  -d, --debug            print requests and decisions to stderr\n"
    "  -h, --help             show this help\n";

typedef struct {
    const char *host;
    unsigned long port, timeout_ms;
    bool driver, json, debug;
    s7p_opts forms;       /* --s7plus-forms (default python-snap7's) */
} browse_opts;

static int parse(browse_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'H'},   {"port", required_argument, NULL, 'p'},
        {"driver", required_argument, NULL, 'D'}, {"json", no_argument, NULL, 'j'},
        {"timeout-ms", required_argument, NULL, 'T'}, {"debug", no_argument, NULL, 'd'},
        {"s7plus-forms", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+:H:p:dh", longopts, NULL)) != -1) {
        switch (c) {
        case 'H': o->host = optarg; break;
        case 'p':
            if (!cli_parse_uint(optarg, 65535, &o->port) || o->port == 0)
                return cli_usage_error("browse", usage, "--port must be 1..65535, got '%s'",
                                       optarg);
            break;
        case 'D':
            if (strcmp(optarg, "s7plus") != 0)
                return cli_usage_error("browse", usage, "--driver must be s7plus (browsing is "
                                       "S7CommPlus Explore), got '%s'", optarg);
            o->driver = true;
            break;
        case 'T':
            if (!cli_parse_uint(optarg, 600000, &o->timeout_ms) || o->timeout_ms < 10)
                return cli_usage_error("browse", usage, "--timeout-ms must be 10..600000, got "
                                       "'%s'", optarg);
            break;
        case 'j': o->json = true; break;
        case 'F': {
            char why[200];
            if (s7p_opts_parse(optarg, &o->forms, why, sizeof(why)) != GW_OK)
                return cli_usage_error("browse", usage, "--s7plus-forms: %s", why);
            break;
        }
        case 'd': o->debug = true; break;
        case 'h': printf("%s%s", usage, help); return -1;
        case ':':
            return cli_usage_error("browse", usage, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("browse", usage, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("browse", usage, "unexpected argument '%s'", argv[optind]);
    if (!o->host)
        return cli_usage_error("browse", usage, "--host is required");
    if (!o->driver)
        return cli_usage_error("browse", usage, "--driver s7plus is required");
    return 0;
}

static void print_dbs(const browse_opts *o, const gw_s7p_db *dbs, size_t n)
{
    if (!o->json) {
        for (size_t i = 0; i < n; i++) {
            printf("DB%-5u %-24s %8u bytes %4zu variable%s\n", dbs[i].number, dbs[i].name,
                   dbs[i].size, dbs[i].nvars, dbs[i].nvars == 1 ? "" : "s");
            for (size_t k = 0; k < dbs[i].nvars; k++)
                printf("    %s\n", dbs[i].vars[k]);
        }
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *vars = json_array();
        for (size_t k = 0; vars && k < dbs[i].nvars; k++)
            json_array_append_new(vars, json_pack("{s:s}", "name", dbs[i].vars[k]));
        json_array_append_new(arr, json_pack("{s:i, s:s, s:I, s:o}", "number",
                                             (int)dbs[i].number, "name", dbs[i].name, "size",
                                             (json_int_t)dbs[i].size, "variables", vars));
    }
    char *text = gw_json_dumps(arr, 2);
    if (text)
        puts(text);
    gw_free(text);
    json_decref(arr);
}

int cli_browse(int argc, char **argv)
{
    browse_opts o = {NULL, 102, 2000, false, false, false, {0}};
    int rc = parse(&o, argc, argv);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    gw_log *log = gw_log_new(stderr, o.debug ? GW_LOG_DEBUG : GW_LOG_WARN);
    gw_s7p_opts so = {0};
    so.host = o.host;
    so.port = (uint16_t)o.port;
    so.connect_timeout_ms = so.send_timeout_ms = so.recv_timeout_ms = (uint32_t)o.timeout_ms;
    so.forms = o.forms;
    so.log = log;
    gw_s7p_client *c = NULL;
    gw_s7p_db *dbs = NULL;
    size_t n = 0;
    gw_error err;
    gw_error_clear(&err);
    rc = CLI_EXIT_RUNTIME;
    if (gw_s7p_client_new(&so, &c) != GW_OK) {
        fprintf(stderr, "plcgw browse: out of memory\n");
        goto out;
    }
    if (gw_s7p_connect(c, &err) != GW_OK || gw_s7p_explore(c, &dbs, &n, &err) != GW_OK) {
        fprintf(stderr, "plcgw browse: %s\n", err.msg);
        if (err.hint[0])
            fprintf(stderr, "  hint: %s\n", err.hint);
        goto out;
    }
    print_dbs(&o, dbs, n);
    rc = CLI_EXIT_OK;
out:
    gw_s7p_dbs_free(dbs, n);
    gw_s7p_client_free(c);
    gw_log_free(log);
    return rc;
}
