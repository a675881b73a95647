/*
 * cmd_s7.c - plcgw s7: an S7 CPU's services from the command line, with
 * our own client (docs/s7comm.md 11, 14-17): identity, mode, system state
 * lists, run/stop, clock, blocks, timers and counters. Answers are JSON on
 * stdout; a CPU's refusal is its code and words on stderr, exit status 1.
 */
#include "cli.h"
#include "drivers/s7/s7.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: plcgw s7 COMMAND [ARGS] --host H [--port P] [--rack R] [--slot S]\n"
    "                [--password PW] [--pdu N] [--timeout-ms N]\n";

static const char help[] =
    "\n"
    "Talks to an S7 CPU (or plcgw sim) with plcgw's own S7comm client.\n"
    "\n"
    "commands:\n"
    "  info                       order code, firmware, names, serial, mode, protection\n"
    "  state                      the CPU's mode: run or stop\n"
    "  szl ID [INDEX]             a system state list (hex ID and index), as records\n"
    "  stop | hot-start | cold-start\n"
    "  clock [--set now|YYYY-MM-DDTHH:MM:SS[.mmm]]   read or set the CPU clock (UTC)\n"
    "  blocks [OB|FC|FB|DB|SFC|SFB|SDB]              counts, or the numbers of one type\n"
    "  block-info TYPE NUMBER     a block's header: sizes, dates, names, checksum\n"
    "  upload TYPE NUMBER FILE    the block as the CPU delivers it, into FILE\n"
    "  download FILE              a block as an upload gave it (its header names it)\n"
    "  delete TYPE NUMBER\n"
    "  compress | copy-ram-to-rom\n"
    "  timers|counters FIRST COUNT [VALUE...]   read, or write VALUEs (0x... or decimal)\n"
    "\n"
    "  -H, --host H         the CPU's address (required)\n"
    "  -p, --port P         TCP port (102)\n"
    "      --rack R, --slot S   rack and slot (0, 1)\n"
    "      --password PW    give the session password first\n"
    "      --pdu N          PDU length to ask for (240..960, default 960)\n"
    "      --timeout-ms N   connect and answer timeout (default 3000)\n"
    "  -h, --help           show this help\n";

typedef struct {
    gw_s7_client *c;
    gw_error err;
    const char *set_clock;   /* clock --set VALUE */
} s7ctx;

static int device_error(const char *what, const gw_error *err)
{
    fprintf(stderr, "plcgw s7: %s: %s", what, err->msg);
    if (err->device_code)
        fprintf(stderr, " (CPU code 0x%04X)", (unsigned)err->device_code);
    fputc('\n', stderr);
    if (err->hint[0])
        fprintf(stderr, "  hint: %s\n", err->hint);
    return CLI_EXIT_RUNTIME;
}

static int print_json(json_t *j)
{
    char *text = gw_json_dumps(j, 2);
    json_decref(j);
    if (!text)
        return CLI_EXIT_RUNTIME;
    puts(text);
    gw_free(text);
    return CLI_EXIT_OK;
}

static const struct {
    const char *name;
    gw_s7_block_type type;
} block_types[] = {{"OB", GW_S7_BLK_OB},   {"DB", GW_S7_BLK_DB},   {"SDB", GW_S7_BLK_SDB},
                   {"FC", GW_S7_BLK_FC},   {"SFC", GW_S7_BLK_SFC}, {"FB", GW_S7_BLK_FB},
                   {"SFB", GW_S7_BLK_SFB}};
#define NTYPES (sizeof(block_types) / sizeof(block_types[0]))

static bool block_type_of(const char *s, gw_s7_block_type *t)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (strcasecmp(s, block_types[i].name) == 0) {
            *t = block_types[i].type;
            return true;
        }
    return false;
}

static const char *block_type_name(gw_s7_block_type t)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (block_types[i].type == t)
            return block_types[i].name;
    return "?";
}

static void iso_time(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%03dZ", (int)(((ms % 1000) + 1000) % 1000));
}

/* "now" or YYYY-MM-DDTHH:MM:SS[.mmm][Z], UTC. */
static bool parse_time(const char *s, int64_t *ms)
{
    if (strcmp(s, "now") == 0) {
        *ms = gw_wall_ms();
        return true;
    }
    struct tm tm = {0};
    unsigned frac = 0;
    int used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
        return false;
    const char *p = s + used;
    if (*p == '.') {
        int k = 0;
        for (p++; *p >= '0' && *p <= '9' && k < 3; p++, k++)
            frac = frac * 10u + (unsigned)(*p - '0');
        while (k++ < 3)
            frac *= 10u;
    }
    if (*p == 'Z')
        p++;
    if (*p || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    struct tm want = tm, back;
    time_t t = timegm(&tm);
    /* a date that does not exist (30 February) comes back as another */
    if (!gmtime_r(&t, &back) || back.tm_mday != want.tm_mday || back.tm_mon != want.tm_mon)
        return false;
    *ms = (int64_t)t * 1000 + frac;
    return true;
}

static bool parse_u16(const char *s, uint16_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (end == s || *end || v > 0xFFFF)
        return false;
    *out = (uint16_t)v;
    return true;
}

/* ---------------------------------------------------------------- commands */

static int cmd_info(s7ctx *x)
{
    gw_s7_cpu_info info;
    if (gw_s7_cpu_info_read(x->c, &info, &x->err) != GW_OK)
        return device_error("SZL 0x0011", &x->err);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "order_code",
                          info.order_code, "firmware", info.firmware, "hardware", info.hardware,
                          "station_name", info.station_name, "plc_name", info.plc_name,
                          "serial", info.serial, "module_name", info.module_name);
    gw_s7_cpu_state st;
    if (gw_s7_cpu_state_read(x->c, &st, &x->err) == GW_OK)
        json_object_set_new(j, "state", json_string(st == GW_S7_CPU_RUN    ? "run"
                                                    : st == GW_S7_CPU_STOP ? "stop"
                                                                           : "unknown"));
    gw_s7_protection p;
    if (gw_s7_protection_read(x->c, &p, &x->err) == GW_OK)
        json_object_set_new(j, "protection",
                            json_pack("{s:i, s:i, s:i, s:i}", "level", p.sch_rel, "password_level",
                                      p.sch_par, "switch_level", p.sch_schal, "mode_switch",
                                      p.bart_sch));
    json_object_set_new(j, "pdu", json_integer(gw_s7_pdu_len(x->c)));
    return print_json(j);
}

static int cmd_szl(s7ctx *x, int argc, char **argv)
{
    uint16_t id, index = 0;
    if (argc < 1 || argc > 2 || !parse_u16(argv[0], &id) || (argc == 2 && !parse_u16(argv[1], &index)))
        return cli_usage_error("s7", usage, "szl ID [INDEX]: numbers, e.g. 0x0011 0x0001");
    uint8_t *buf = gw_malloc(65536);
    if (!buf)
        return CLI_EXIT_RUNTIME;
    size_t len;
    uint16_t rl, n;
    gw_err rc = gw_s7_read_szl(x->c, id, index, buf, 65536, &len, &rl, &n, &x->err);
    if (rc != GW_OK) {
        gw_free(buf);
        return device_error("SZL", &x->err);
    }
    json_t *recs = json_array();
    for (size_t off = 0; rl && off + rl <= len; off += rl) {
        char hex[2 * 1024 + 1];
        size_t k = 0;
        for (size_t i = 0; i < rl && k + 2 < sizeof(hex); i++)
            k += (size_t)snprintf(hex + k, sizeof(hex) - k, "%02x", buf[off + i]);
        json_array_append_new(recs, json_string(hex));
    }
    gw_free(buf);
    return print_json(json_pack("{s:i, s:i, s:i, s:i, s:o}", "id", id, "index", index,
                                "record_len", rl, "count", n, "records", recs));
}

static int cmd_clock(s7ctx *x, int argc)
{
    if (argc != 0)
        return cli_usage_error("s7", usage, "clock [--set now|YYYY-MM-DDTHH:MM:SS]");
    if (x->set_clock) {
        int64_t ms;
        if (!parse_time(x->set_clock, &ms))
            return cli_usage_error("s7", usage, "clock --set: 'now' or YYYY-MM-DDTHH:MM:SS, "
                                   "got '%s'", x->set_clock);
        if (gw_s7_clock_set(x->c, ms, &x->err) != GW_OK)
            return device_error("set clock", &x->err);
    }
    int64_t ms;
    if (gw_s7_clock_read(x->c, &ms, &x->err) != GW_OK)
        return device_error("read clock", &x->err);
    char t[40];
    iso_time(ms, t, sizeof(t));
    return print_json(json_pack("{s:s, s:I}", "clock", t, "epoch_ms", (json_int_t)ms));
}

static int cmd_blocks(s7ctx *x, int argc, char **argv)
{
    if (argc == 0) {
        gw_s7_block_counts k;
        if (gw_s7_list_blocks(x->c, &k, &x->err) != GW_OK)
            return device_error("list blocks", &x->err);
        return print_json(json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "OB", k.ob, "FB",
                                    k.fb, "FC", k.fc, "SFB", k.sfb, "SFC", k.sfc, "DB", k.db,
                                    "SDB", k.sdb));
    }
    gw_s7_block_type t;
    if (argc != 1 || !block_type_of(argv[0], &t))
        return cli_usage_error("s7", usage, "blocks [OB|FC|FB|DB|SFC|SFB|SDB]");
    uint16_t nums[4096];
    size_t n;
    gw_err rc = gw_s7_list_blocks_of_type(x->c, t, nums, 4096, &n, &x->err);
    if (rc != GW_OK && rc != GW_E_RANGE)
        return device_error("list blocks of a type", &x->err);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(nums[i]));
    return print_json(a);
}

static bool block_args(int argc, char **argv, int want, gw_s7_block_type *t, uint16_t *num)
{
    return argc == want && block_type_of(argv[0], t) && parse_u16(argv[1], num);
}

static int cmd_block_info(s7ctx *x, int argc, char **argv)
{
    gw_s7_block_type t;
    uint16_t num;
    if (!block_args(argc, argv, 2, &t, &num))
        return cli_usage_error("s7", usage, "block-info TYPE NUMBER, e.g. DB 1");
    gw_s7_block_info b;
    if (gw_s7_block_info_read(x->c, t, num, &b, &x->err) != GW_OK)
        return device_error("block info", &x->err);
    char code[40], intf[40], ver[8];
    iso_time(b.code_ms, code, sizeof(code));
    iso_time(b.interface_ms, intf, sizeof(intf));
    snprintf(ver, sizeof(ver), "%u.%u", b.version >> 4, b.version & 15u);
    json_t *j = json_pack("{s:s, s:i, s:i, s:i, s:I, s:I, s:i, s:i, s:i, s:s, s:s, s:s, s:s, "
                          "s:s, s:s}",
                          "type", block_type_name(b.type), "number", b.number, "lang", b.lang,
                          "flags", b.flags, "load_size", (json_int_t)b.load_size, "mc7_size",
                          (json_int_t)b.mc7_size, "local_data", b.local_data, "sbb_len",
                          b.sbb_len, "checksum", b.checksum, "version", ver, "author", b.author,
                          "family", b.family, "name", b.name, "code_date", code,
                          "interface_date", intf);
    return print_json(j);
}

static int cmd_upload(s7ctx *x, int argc, char **argv)
{
    gw_s7_block_type t;
    uint16_t num;
    if (!block_args(argc, argv, 3, &t, &num))
        return cli_usage_error("s7", usage, "upload TYPE NUMBER FILE");
    uint8_t *blk;
    size_t len;
    if (gw_s7_upload(x->c, t, num, &blk, &len, &x->err) != GW_OK)
        return device_error("upload", &x->err);
    FILE *f = fopen(argv[2], "wb");
    bool ok = f && fwrite(blk, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    gw_free(blk);
    if (!ok) {
        fprintf(stderr, "plcgw s7: cannot write %s\n", argv[2]);
        return CLI_EXIT_RUNTIME;
    }
    return print_json(json_pack("{s:s, s:i, s:I, s:s}", "type", block_type_name(t), "number",
                                num, "bytes", (json_int_t)len, "file", argv[2]));
}

static int cmd_download(s7ctx *x, int argc, char **argv)
{
    if (argc != 1)
        return cli_usage_error("s7", usage, "download FILE");
    FILE *f = fopen(argv[0], "rb");
    if (!f) {
        fprintf(stderr, "plcgw s7: cannot read %s\n", argv[0]);
        return CLI_EXIT_USAGE;
    }
    uint8_t *blk = gw_malloc(65536 + 1);
    size_t len = blk ? fread(blk, 1, 65536 + 1, f) : 0;
    fclose(f);
    if (!blk || len == 0 || len > 65536) {
        gw_free(blk);
        fprintf(stderr, "plcgw s7: %s is empty or larger than 64 KiB\n", argv[0]);
        return CLI_EXIT_USAGE;
    }
    gw_err rc = gw_s7_download(x->c, blk, len, &x->err);
    gw_free(blk);
    if (rc != GW_OK)
        return device_error("download", &x->err);
    return print_json(json_pack("{s:s, s:I}", "downloaded", argv[0], "bytes", (json_int_t)len));
}

static int cmd_tm_ct(s7ctx *x, bool counters, int argc, char **argv)
{
    uint16_t first, count;
    if (argc < 2 || !parse_u16(argv[0], &first) || !parse_u16(argv[1], &count) || count == 0 ||
        count > 2048 || (argc > 2 && argc - 2 != count))
        return cli_usage_error("s7", usage, "%s FIRST COUNT [COUNT VALUEs]",
                               counters ? "counters" : "timers");
    uint16_t *v = gw_calloc(count, sizeof(uint16_t));
    if (!v)
        return CLI_EXIT_RUNTIME;
    for (int i = 2; i < argc; i++)
        if (!parse_u16(argv[i], &v[i - 2])) {
            gw_free(v);
            return cli_usage_error("s7", usage, "'%s' is not a 16-bit value", argv[i]);
        }
    gw_err rc = argc > 2 ? gw_s7_tm_ct_write(x->c, counters, first, count, v, &x->err) : GW_OK;
    if (rc == GW_OK)
        rc = gw_s7_tm_ct_read(x->c, counters, first, count, v, &x->err);
    if (rc != GW_OK) {
        gw_free(v);
        return device_error(counters ? "counters" : "timers", &x->err);
    }
    json_t *a = json_array();
    for (uint16_t i = 0; i < count; i++) {
        char hex[8];
        snprintf(hex, sizeof(hex), "0x%04X", v[i]);
        json_array_append_new(a, json_string(hex));
    }
    gw_free(v);
    return print_json(json_pack("{s:s, s:i, s:o}", "area", counters ? "counters" : "timers",
                                "first", first, "values", a));
}

static int run(s7ctx *x, const char *cmd, int argc, char **argv)
{
    gw_err rc;
    if (strcmp(cmd, "info") == 0 && argc == 0)
        return cmd_info(x);
    if (strcmp(cmd, "state") == 0 && argc == 0) {
        gw_s7_cpu_state st;
        if (gw_s7_cpu_state_read(x->c, &st, &x->err) != GW_OK)
            return device_error("CPU state", &x->err);
        return print_json(json_pack("{s:s}", "state", st == GW_S7_CPU_RUN    ? "run"
                                                      : st == GW_S7_CPU_STOP ? "stop"
                                                                             : "unknown"));
    }
    if (strcmp(cmd, "szl") == 0)
        return cmd_szl(x, argc, argv);
    if (strcmp(cmd, "clock") == 0)
        return cmd_clock(x, argc);
    if (strcmp(cmd, "blocks") == 0)
        return cmd_blocks(x, argc, argv);
    if (strcmp(cmd, "block-info") == 0)
        return cmd_block_info(x, argc, argv);
    if (strcmp(cmd, "upload") == 0)
        return cmd_upload(x, argc, argv);
    if (strcmp(cmd, "download") == 0)
        return cmd_download(x, argc, argv);
    if (strcmp(cmd, "timers") == 0 || strcmp(cmd, "counters") == 0)
        return cmd_tm_ct(x, cmd[0] == 'c', argc, argv);
    if (strcmp(cmd, "delete") == 0) {
        gw_s7_block_type t;
        uint16_t num;
        if (!block_args(argc, argv, 2, &t, &num))
            return cli_usage_error("s7", usage, "delete TYPE NUMBER");
        rc = gw_s7_block_delete(x->c, t, num, &x->err);
    } else if (argc != 0) {
        return cli_usage_error("s7", usage, "'%s' takes no arguments, or is not a command", cmd);
    } else if (strcmp(cmd, "stop") == 0) {
        rc = gw_s7_plc_stop(x->c, &x->err);
    } else if (strcmp(cmd, "hot-start") == 0) {
        rc = gw_s7_plc_hot_start(x->c, &x->err);
    } else if (strcmp(cmd, "cold-start") == 0) {
        rc = gw_s7_plc_cold_start(x->c, &x->err);
    } else if (strcmp(cmd, "compress") == 0) {
        rc = gw_s7_compress(x->c, &x->err);
    } else if (strcmp(cmd, "copy-ram-to-rom") == 0) {
        rc = gw_s7_copy_ram_to_rom(x->c, &x->err);
    } else {
        return cli_usage_error("s7", usage, "unknown command '%s'", cmd);
    }
    if (rc != GW_OK)
        return device_error(cmd, &x->err);
    return print_json(json_pack("{s:s}", "done", cmd));
}

int cli_s7(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'H'},     {"port", required_argument, NULL, 'p'},
        {"rack", required_argument, NULL, 'r'},     {"slot", required_argument, NULL, 's'},
        {"password", required_argument, NULL, 'P'}, {"pdu", required_argument, NULL, 'u'},
        {"timeout-ms", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {"set", required_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    gw_s7_opts o = {0};
    o.port = 102;
    o.slot = 1;
    o.pdu_request = 960;
    o.connect_timeout_ms = o.send_timeout_ms = o.recv_timeout_ms = 3000;
    const char *password = NULL, *set_clock = NULL;
    /* options may come after the command and its arguments */
    char *pos[16];
    int npos = 0;
    int c;
    opterr = 0;
    optind = 1;
    while (optind < argc) {
        c = getopt_long(argc, argv, "-:H:p:h", longopts, NULL);
        if (c == -1)
            break;
        unsigned long v;
        switch (c) {
        case 1:
            if (npos == 16)
                return cli_usage_error("s7", usage, "too many arguments");
            pos[npos++] = optarg;
            break;
        case 'S': set_clock = optarg; break;
        case 'H': o.host = optarg; break;
        case 'p':
        case 'r':
        case 's':
        case 'u':
        case 't': {
            unsigned long max = c == 'p' ? 65535 : c == 'r' ? 7 : c == 's' ? 31 : c == 'u' ? 960 : 60000;
            if (!cli_parse_uint(optarg, max, &v) || (c == 'p' && v == 0) || (c == 'u' && v < 240) ||
                (c == 't' && v < 10))
                return cli_usage_error("s7", usage, "%s: out of range, got '%s'", argv[optind - 2],
                                       optarg);
            if (c == 'p')
                o.port = (uint16_t)v;
            else if (c == 'r')
                o.rack = (uint8_t)v;
            else if (c == 's')
                o.slot = (uint8_t)v;
            else if (c == 'u')
                o.pdu_request = (uint16_t)v;
            else
                o.connect_timeout_ms = o.send_timeout_ms = o.recv_timeout_ms = (uint32_t)v;
            break;
        }
        case 'P':
            if (strlen(optarg) > 8)
                return cli_usage_error("s7", usage, "--password: at most 8 characters");
            password = optarg;
            break;
        case 'h': printf("%s%s", usage, help); return CLI_EXIT_OK;
        case ':':
            return cli_usage_error("s7", usage, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("s7", usage, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (npos == 0)
        return cli_usage_error("s7", usage, "which command? (see --help)");
    if (!o.host)
        return cli_usage_error("s7", usage, "--host is required");
    if (set_clock && strcmp(pos[0], "clock") != 0)
        return cli_usage_error("s7", usage, "--set is an option of clock");
    s7ctx x = {0};
    x.set_clock = set_clock;
    gw_error_clear(&x.err);
    if (gw_s7_client_new(&o, &x.c) != GW_OK)
        return CLI_EXIT_RUNTIME;
    int rc;
    if (gw_s7_connect(x.c, &x.err) != GW_OK)
        rc = device_error("connect", &x.err);
    else if (password && gw_s7_set_password(x.c, password, &x.err) != GW_OK)
        rc = device_error("password", &x.err);
    else
        rc = run(&x, pos[0], npos - 1, pos + 1);
    gw_s7_close(x.c);
    gw_s7_client_free(x.c);
    return rc;
}
