/*
 * cmd_io.c - plcgw read / plcgw write: the universal client (seed 004) for
 * Modbus and S7 alike. A write payload is checked completely - every
 * parameter known, writable, of the right type and inside min/max - before
 * anything is sent; one bad value rejects the whole payload. --driver
 * s7plus reads and writes the same S7 maps over S7CommPlus V1.
 */
#include "cli.h"
#include "drivers/modbus/mb.h"
#include "drivers/s7/s7.h"
#include "drivers/s7plus/s7plus.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char read_usage[] =
    "usage: plcgw read --host H [--port P] --config MAPFILE [--driver s7|s7plus|modbus]\n"
    "                  [--unit N] [--rack R --slot S] [--timeout-ms MS] [--json] [--plan]\n"
    "                  [--gap N] [--s7plus-forms LIST] [--debug]\n";
static const char write_usage[] =
    "usage: plcgw write --host H [--port P] --config MAPFILE --payload JSON\n"
    "                   [--driver s7|s7plus|modbus] [--unit N] [--rack R --slot S]\n"
    "                   [--timeout-ms MS] [--s7plus-forms LIST] [--debug]\n";

static const char common_help[] =
    "\n"
    "  -H, --host H           device address (required)\n"
    "  -p, --port P           TCP port (default 502 for Modbus, 102 for S7)\n"
    "  -c, --config MAPFILE   tag map (required)\n"
    "      --driver D         s7, s7plus (S7 maps over S7CommPlus V1, S7-1200/1500)\n"
    "                         or modbus (default: s7 or modbus from the map's keys)\n"
    "  -u, --unit N           Modbus unit id (default 1)\n"
    "      --rack R           S7 rack (default 0)\n"
    "      --slot S           S7 slot (default 1)\n"
    "      --timeout-ms MS    connect and response timeout (default 2000)\n"
    "      --json             read: print the records as a JSON array\n"
    "      --plan             read: print the requests the read would make\n"
    "      --s7plus-forms L   s7plus: the real CPUs' wire forms instead of python-snap7's:\n"
    "                         'real' (all), or some of lid_classic, blob_root_id,\n"
    "                         delete_long, names_utf8, oq_reference, explore_id\n"
    "      --gap N            read: merge neighbours at most N registers (Modbus,\n"
    "                         default 10) or bytes (S7, default 16) apart\n"
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
    bool s7plus;          /* --driver s7plus: S7 addresses over S7CommPlus */
    unsigned long unit, rack, slot, timeout_ms;
    long gap;             /* -1 = the driver's default */
    bool json, plan, debug;
    bool have_forms;      /* --s7plus-forms given */
    s7p_opts forms;       /* its wire forms (default python-snap7's) */
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
        {"gap", required_argument, NULL, 'g'},
        {"s7plus-forms", required_argument, NULL, 'F'},
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
        case 'F': {
            char why[200];
            if (s7p_opts_parse(optarg, &o->forms, why, sizeof(why)) != GW_OK)
                return cli_usage_error(o->cmd, o->usage, "--s7plus-forms: %s", why);
            o->have_forms = true;
            break;
        }
        case 'D':
            o->s7plus = strcmp(optarg, "s7plus") == 0;
            if (strcmp(optarg, "s7") == 0 || o->s7plus)
                o->driver = GW_DRIVER_S7;
            else if (strcmp(optarg, "modbus") == 0)
                o->driver = GW_DRIVER_MODBUS;
            else
                return cli_usage_error(o->cmd, o->usage, "--driver must be s7, s7plus or modbus, "
                                       "got '%s'", optarg);
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
        case 'g': {
            unsigned long g;
            if (is_write)
                return cli_usage_error(o->cmd, o->usage, "--gap belongs to 'plcgw read'");
            if (!cli_parse_uint(optarg, 1000, &g))
                return cli_usage_error(o->cmd, o->usage, "--gap must be 0..1000, got '%s'", optarg);
            o->gap = (long)g;
            break;
        }
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
    if (o->have_forms && !o->s7plus)
        return cli_usage_error(o->cmd, o->usage, "--s7plus-forms goes with --driver s7plus");
    if (o->s7plus && o->plan)
        return cli_usage_error(o->cmd, o->usage, "--plan describes S7 and Modbus read plans; "
                               "the s7plus driver plans its reads itself");
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
                o->cmd, o->driver == GW_DRIVER_S7 ? (o->s7plus ? "s7plus" : "s7") : "modbus",
                o->config,
                gw_tagmap_driver(m) == GW_DRIVER_S7 ? "S7" : "Modbus");
        gw_tagmap_free(m);
        return NULL;
    }
    o->driver = gw_tagmap_driver(m);
    if (o->port == 0)
        o->port = o->driver == GW_DRIVER_S7 ? 102 : 502;
    return m;
}

/* ---------------------------------------------------------------- output */

static void print_records(const io_opts *o, json_t *records)
{
    if (o->json) {
        char *text = gw_json_dumps(records, 2);
        if (text)
            puts(text);
        gw_free(text);
        return;
    }
    size_t i;
    json_t *r;
    json_array_foreach(records, i, r) {
        const char *param = json_string_value(json_object_get(r, "parameter"));
        const char *alt = json_string_value(json_object_get(r, "parameter_alt"));
        const char *unit = json_string_value(json_object_get(r, "unit"));
        const char *valt = json_string_value(json_object_get(r, "value_alt"));
        char *value = gw_json_dumps(json_object_get(r, "value"), 0);
        char name[160];
        snprintf(name, sizeof(name), "%s%s%s", param, alt ? "." : "", alt ? alt : "");
        printf("%-32s %s%s%s%s%s\n", name, value ? value : "?", unit ? " " : "", unit ? unit : "",
               valt ? "  " : "", valt ? valt : "");
        gw_free(value);
    }
}

/* ---------------------------------------------------------------- S7 */

static gw_s7_client *s7_open(const io_opts *o, gw_log *log, gw_error *err)
{
    gw_s7_opts so = {0};
    so.host = o->host;
    so.port = (uint16_t)o->port;
    so.rack = (uint8_t)o->rack;
    so.slot = (uint8_t)o->slot;
    so.connect_timeout_ms = so.send_timeout_ms = so.recv_timeout_ms = (uint32_t)o->timeout_ms;
    so.log = log;
    gw_s7_client *c;
    if (gw_s7_client_new(&so, &c) != GW_OK) {
        gw_error_set(err, GW_E_NOMEM, "out of memory");
        return NULL;
    }
    if (gw_s7_connect(c, err) != GW_OK) {
        gw_s7_client_free(c);
        return NULL;
    }
    return c;
}

static void report(const io_opts *o, const gw_error *err)
{
    fprintf(stderr, "plcgw %s: %s\n", o->cmd, err->msg);
    if (err->hint[0])
        fprintf(stderr, "  hint: %s\n", err->hint);
}

static void report_tag(const io_opts *o, const gw_tag *t, const gw_s7_range *r)
{
    char addr[48];
    gw_addr_format(&t->addr, addr, sizeof(addr));
    fprintf(stderr, "plcgw %s: %s (%s): %s\n", o->cmd, t->parameter, addr,
            r->item_rc ? gw_s7_item_rc_text(r->item_rc) : gw_err_str(r->result));
    const char *hint = gw_s7_item_rc_hint(r->item_rc);
    if (hint[0])
        fprintf(stderr, "  hint: %s\n", hint);
}

/* One buffer for the bytes of all ranges, each range's dst pointed into
 * it; NULL when out of memory. */
static uint8_t *read_buffer(gw_s7_range *ranges, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += ranges[i].len;
    uint8_t *mem = gw_malloc(total ? total : 1);
    for (size_t i = 0, off = 0; mem && i < n; i++) {
        ranges[i].dst = mem + off;
        off += ranges[i].len;
    }
    return mem;
}

/* Prints the values read (ranges[i] for tag i of m) and reports the ones
 * that failed; true when any did. */
static bool print_read(const io_opts *o, const gw_tagmap *m, const gw_s7_range *ranges,
                       size_t n, gw_error *err)
{
    json_t *records = json_array();
    bool failed = false;
    for (size_t i = 0; i < n; i++) {
        const gw_tag *t = gw_tagmap_at(m, i);
        if (ranges[i].result != GW_OK) {
            report_tag(o, t, &ranges[i]);
            failed = true;
            continue;
        }
        gw_value v;
        if (gw_tag_decode_bytes(t, ranges[i].dst, ranges[i].len, &v, err) != GW_OK) {
            fprintf(stderr, "plcgw read: %s\n", err->msg);
            failed = true;
            continue;
        }
        gw_tag_records(t, &v, records);
        gw_value_clear(&v);
    }
    print_records(o, records);
    json_decref(records);
    return failed;
}

/* The ranges of a payload's writes (up to 8 each: gw_s7_ranges_for_write)
 * and the write each range comes from. */
typedef struct {
    gw_s7_range *ranges;
    uint8_t *bitvals;
    size_t *owner;
    size_t n;
} write_ranges;

static void write_ranges_free(write_ranges *w)
{
    gw_free(w->ranges);
    gw_free(w->bitvals);
    gw_free(w->owner);
}

/* false when out of memory (w freed). */
static bool write_ranges_new(write_ranges *w, gw_write *writes, size_t nwrites)
{
    w->ranges = gw_calloc(nwrites * 8 + 1, sizeof(*w->ranges));
    w->bitvals = gw_calloc(nwrites * 8 + 1, 1);
    w->owner = gw_calloc(nwrites * 8 + 1, sizeof(size_t));
    w->n = 0;
    if (!w->ranges || !w->bitvals || !w->owner) {
        write_ranges_free(w);
        return false;
    }
    for (size_t i = 0; i < nwrites; i++) {
        size_t k = gw_s7_ranges_for_write(&writes[i], w->ranges + w->n, w->bitvals + w->n);
        for (size_t j = 0; j < k; j++)
            w->owner[w->n + j] = i;
        w->n += k;
    }
    return true;
}

/* Reports the writes whose ranges failed; true when any did or the write
 * returned an error (e). */
static bool report_writes(const io_opts *o, const gw_write *writes, const write_ranges *w,
                          gw_err e)
{
    bool failed = e != GW_OK;
    for (size_t i = 0; i < w->n; i++) {
        if (w->ranges[i].result == GW_OK)
            continue;
        failed = true;
        report_tag(o, writes[w->owner[i]].tag, &w->ranges[i]);
    }
    return failed;
}

static int s7_read(io_opts *o, gw_tagmap *m, gw_log *log)
{
    gw_error err;
    gw_error_clear(&err);
    gw_s7_client *c = s7_open(o, log, &err);
    if (!c) {
        report(o, &err);
        return CLI_EXIT_RUNTIME;
    }
    gw_s7_range *ranges;
    size_t n;
    int rc = CLI_EXIT_RUNTIME;
    uint8_t *mem = NULL;
    if (gw_s7_ranges_for_tags(m, &ranges, &n) != GW_OK)
        goto out_client;
    mem = read_buffer(ranges, n);
    gw_s7_plan_opts po = {gw_s7_pdu_len(c), GW_S7_DEFAULT_MAX_ITEMS,
                          o->gap >= 0 ? (uint16_t)o->gap : GW_S7_DEFAULT_GAP};
    gw_s7_plan *plan = NULL;
    if (!mem || gw_s7_plan_new(ranges, n, &po, &plan) != GW_OK) {
        fprintf(stderr, "plcgw read: cannot plan the read\n");
        goto out;
    }
    if (o->plan) {
        gw_buf b;
        gw_buf_init(&b);
        gw_s7_plan_describe(plan, &b);
        fputs(gw_buf_cstr(&b), stdout);
        gw_buf_clear(&b);
        rc = CLI_EXIT_OK;
        goto out;
    }
    gw_err e = gw_s7_read_plan(c, plan, ranges, &err);
    if (e != GW_OK && e != GW_E_DEVICE_REJECTED) {
        report(o, &err);
        goto out;
    }
    if (e == GW_E_DEVICE_REJECTED)
        report(o, &err);
    bool failed = print_read(o, m, ranges, n, &err);
    if (o->debug)
        fprintf(stderr, "%llu round trip%s, PDU %u\n", (unsigned long long)gw_s7_round_trips(c),
                gw_s7_round_trips(c) == 1 ? "" : "s", gw_s7_pdu_len(c));
    rc = failed ? CLI_EXIT_RUNTIME : CLI_EXIT_OK;
out:
    gw_s7_plan_free(plan);
    gw_free(mem);
    gw_free(ranges);
out_client:
    gw_s7_client_free(c);
    return rc;
}

static int s7_write(io_opts *o, gw_write *writes, size_t nwrites, gw_log *log)
{
    gw_error err;
    gw_error_clear(&err);
    write_ranges w;
    if (!write_ranges_new(&w, writes, nwrites))
        return CLI_EXIT_RUNTIME;
    int rc = CLI_EXIT_RUNTIME;
    gw_s7_client *c = s7_open(o, log, &err);
    if (!c) {
        report(o, &err);
        goto out;
    }
    gw_err e = gw_s7_write(c, w.ranges, w.n, &err);
    if (e != GW_OK && e != GW_E_DEVICE_REJECTED) {
        report(o, &err);
        goto out;
    }
    if (e != GW_OK)
        report(o, &err);
    bool failed = report_writes(o, writes, &w, e);
    if (!failed && o->debug)
        fprintf(stderr, "wrote %zu value%s in %llu round trip%s\n", nwrites,
                nwrites == 1 ? "" : "s", (unsigned long long)gw_s7_round_trips(c) - 1,
                gw_s7_round_trips(c) == 2 ? "" : "s");
    rc = failed ? CLI_EXIT_RUNTIME : CLI_EXIT_OK;
out:
    gw_s7_client_free(c);
    write_ranges_free(&w);
    return rc;
}

/* ---------------------------------------------------------------- S7CommPlus */

static gw_s7p_client *s7p_open(const io_opts *o, gw_log *log, gw_error *err)
{
    gw_s7p_opts so = {0};
    so.host = o->host;
    so.port = (uint16_t)o->port;
    so.connect_timeout_ms = so.send_timeout_ms = so.recv_timeout_ms = (uint32_t)o->timeout_ms;
    so.gap = o->gap >= 0 ? (uint16_t)o->gap : 0;
    so.forms = o->forms;
    so.log = log;
    gw_s7p_client *c;
    if (gw_s7p_client_new(&so, &c) != GW_OK) {
        gw_error_set(err, GW_E_NOMEM, "out of memory");
        return NULL;
    }
    if (gw_s7p_connect(c, err) != GW_OK) {
        gw_s7p_client_free(c);
        return NULL;
    }
    return c;
}

static int s7p_read(io_opts *o, gw_tagmap *m, gw_log *log)
{
    gw_error err;
    gw_error_clear(&err);
    gw_s7_range *ranges = NULL;
    size_t n = 0;
    if (gw_s7_ranges_for_tags(m, &ranges, &n) != GW_OK)
        return CLI_EXIT_RUNTIME;
    uint8_t *mem = read_buffer(ranges, n);
    int rc = CLI_EXIT_RUNTIME;
    gw_s7p_client *c = NULL;
    if (!mem)
        gw_error_set(&err, GW_E_NOMEM, "out of memory");
    else
        c = s7p_open(o, log, &err);
    if (!c) {
        report(o, &err);
        goto out;
    }
    gw_err e = gw_s7p_read(c, ranges, n, &err);
    if (e != GW_OK)
        report(o, &err);
    if (e != GW_OK && e != GW_E_DEVICE_REJECTED)
        goto out;
    bool failed = print_read(o, m, ranges, n, &err);
    if (o->debug)
        fprintf(stderr, "%llu round trip%s (3 for the session)\n",
                (unsigned long long)gw_s7p_round_trips(c), gw_s7p_round_trips(c) == 1 ? "" : "s");
    rc = failed ? CLI_EXIT_RUNTIME : CLI_EXIT_OK;
out:
    gw_s7p_client_free(c);
    gw_free(mem);
    gw_free(ranges);
    return rc;
}

static int s7p_write(io_opts *o, gw_write *writes, size_t nwrites, gw_log *log)
{
    gw_error err;
    gw_error_clear(&err);
    write_ranges w;
    if (!write_ranges_new(&w, writes, nwrites))
        return CLI_EXIT_RUNTIME;
    int rc = CLI_EXIT_RUNTIME;
    gw_s7p_client *c = s7p_open(o, log, &err);
    if (!c) {
        report(o, &err);
        goto out;
    }
    gw_err e = gw_s7p_write(c, w.ranges, w.n, &err);
    if (e != GW_OK)
        report(o, &err);
    if (e != GW_OK && e != GW_E_DEVICE_REJECTED)
        goto out;
    bool failed = report_writes(o, writes, &w, e);
    if (!failed && o->debug)
        fprintf(stderr, "wrote %zu value%s; %llu round trips with the session's 3\n", nwrites,
                nwrites == 1 ? "" : "s", (unsigned long long)gw_s7p_round_trips(c));
    rc = failed ? CLI_EXIT_RUNTIME : CLI_EXIT_OK;
out:
    gw_s7p_client_free(c);
    write_ranges_free(&w);
    return rc;
}

/* ---------------------------------------------------------------- Modbus */

static gw_mb_client *mb_open(const io_opts *o, gw_log *log, gw_error *err)
{
    gw_mb_opts mo = {0};
    mo.host = o->host;
    mo.port = (uint16_t)o->port;
    mo.unit = (uint8_t)o->unit;
    mo.connect_timeout_ms = mo.response_timeout_ms = (uint32_t)o->timeout_ms;
    mo.log = log;
    gw_mb_client *c;
    if (gw_mb_client_new(&mo, &c) != GW_OK) {
        gw_error_set(err, GW_E_NOMEM, "out of memory");
        return NULL;
    }
    if (gw_mb_connect(c, err) != GW_OK) {
        gw_mb_client_free(c);
        return NULL;
    }
    return c;
}

static int mb_read(io_opts *o, gw_tagmap *m, gw_log *log)
{
    gw_error err;
    gw_error_clear(&err);
    gw_mb_plan *plan;
    gw_mb_plan_opts po = {GW_MB_DEFAULT_REG_GAP, GW_MB_DEFAULT_BIT_GAP, 0, 0, false};
    if (o->gap >= 0)
        po.reg_gap = (uint16_t)o->gap;
    if (gw_mb_plan_new(m, &po, &plan) != GW_OK) {
        fprintf(stderr, "plcgw read: cannot plan the read\n");
        return CLI_EXIT_RUNTIME;
    }
    if (o->plan) {
        /* a plan needs no device */
        gw_buf b;
        gw_buf_init(&b);
        gw_mb_plan_describe(plan, &b);
        fputs(gw_buf_cstr(&b), stdout);
        gw_buf_clear(&b);
        gw_mb_plan_free(plan);
        return CLI_EXIT_OK;
    }
    int rc = CLI_EXIT_RUNTIME;
    gw_mb_readout *r = NULL;
    gw_mb_client *c = mb_open(o, log, &err);
    if (!c) {
        report(o, &err);
        goto out;
    }
    if (gw_mb_readout_new(plan, &r) != GW_OK)
        goto out;
    if (gw_mb_read_plan(c, plan, r, &err) != GW_OK) {
        report(o, &err);
        goto out;
    }
    json_t *records = json_array();
    bool failed = false;
    for (size_t i = 0; i < gw_tagmap_count(m); i++) {
        gw_value v;
        gw_error_clear(&err);
        if (gw_mb_readout_value(plan, r, i, &v, &err) != GW_OK) {
            fprintf(stderr, "plcgw read: %s\n", err.msg);
            failed = true;
            continue;
        }
        gw_tag_records(gw_tagmap_at(m, i), &v, records);
        gw_value_clear(&v);
    }
    print_records(o, records);
    json_decref(records);
    if (o->debug)
        fprintf(stderr, "%llu request%s for %zu tag%s\n",
                (unsigned long long)gw_mb_requests_sent(c), gw_mb_requests_sent(c) == 1 ? "" : "s",
                gw_tagmap_count(m), gw_tagmap_count(m) == 1 ? "" : "s");
    rc = failed ? CLI_EXIT_RUNTIME : CLI_EXIT_OK;
out:
    gw_mb_readout_free(r);
    gw_mb_client_free(c);
    gw_mb_plan_free(plan);
    return rc;
}

static int mb_write(io_opts *o, gw_write *writes, size_t n, gw_log *log)
{
    gw_error err;
    gw_error_clear(&err);
    gw_mb_client *c = mb_open(o, log, &err);
    if (!c) {
        report(o, &err);
        return CLI_EXIT_RUNTIME;
    }
    gw_err *results = gw_calloc(n, sizeof(gw_err));
    int rc = CLI_EXIT_OK;
    if (!results || gw_mb_write_many(c, writes, n, results, &err) != GW_OK) {
        rc = CLI_EXIT_RUNTIME;
        size_t failed = 0;
        for (size_t i = 0; results && i < n; i++)
            failed += results[i] != GW_OK;
        fprintf(stderr, "plcgw write: %s\n", err.msg);
        fprintf(stderr, "plcgw write: %zu of %zu value%s not written:", failed, n,
                n == 1 ? "" : "s");
        for (size_t i = 0; results && i < n; i++)
            if (results[i] != GW_OK)
                fprintf(stderr, " \"%s\"", writes[i].tag->parameter);
        fputc('\n', stderr);
    }
    if (o->debug)
        fprintf(stderr, "%llu request%s for %zu value%s\n",
                (unsigned long long)gw_mb_requests_sent(c), gw_mb_requests_sent(c) == 1 ? "" : "s",
                n, n == 1 ? "" : "s");
    gw_free(results);
    gw_mb_client_free(c);
    return rc;
}

/* Connects to the device and runs the reads or the writes. */
static int run_device(io_opts *o, gw_tagmap *m, gw_write *writes, size_t nwrites)
{
    gw_log *log = gw_log_new(stderr, o->debug ? GW_LOG_DEBUG : GW_LOG_WARN);
    int rc;
    if (o->driver == GW_DRIVER_MODBUS)
        rc = writes ? mb_write(o, writes, nwrites, log) : mb_read(o, m, log);
    else if (o->s7plus)
        rc = writes ? s7p_write(o, writes, nwrites, log) : s7p_read(o, m, log);
    else
        rc = writes ? s7_write(o, writes, nwrites, log) : s7_read(o, m, log);
    gw_log_free(log);
    return rc;
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
    io_opts o = {"read", read_usage, NULL, 0, NULL, NULL, -1, false, 1, 0, 1, 2000, -1,
                 false, false, false, false, {0}};
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
    io_opts o = {"write", write_usage, NULL, 0, NULL, NULL, -1, false, 1, 0, 1, 2000, -1,
                 false, false, false, false, {0}};
    int rc = parse(&o, argc, argv, true);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    json_error_t jerr;
    json_t *payload = gw_json_load_untrusted(o.payload, strlen(o.payload), JSON_REJECT_DUPLICATES,
                                             &jerr);
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
