/*
 * cmd_check.c - plcgw check-config FILE: validates a gateway config or a
 * tag map (told apart by "machines" or "mapping" at the top) and prints
 * what it understood, or every problem as file:line:column.
 */
#include "cli.h"
#include "apps/app.h"

#include <getopt.h>
#include <string.h>

static const char usage[] =
    "usage: plcgw check-config [--quiet] FILE\n";

static const char help[] =
    "\n"
    "Validates FILE, a gateway config (with \"machines\") or a tag map (with\n"
    "\"mapping\"), and prints what it holds: the tag table for a map, the\n"
    "machines for a gateway config. Problems are printed as\n"
    "FILE:LINE:COLUMN: error: ... and the exit status is then 2.\n"
    "\n"
    "  -q, --quiet   print nothing when the file is valid\n"
    "  -h, --help    show this help\n";

static size_t width(size_t cur, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > cur ? n : cur;
}

static void print_tagmap(const char *path, const gw_tagmap *m)
{
    size_t n = gw_tagmap_count(m);
    gw_driver drv = gw_tagmap_driver(m);
    if (drv == GW_DRIVER_MODBUS)
        printf("%s: Modbus tag map, %zu tag%s, byteorder %c, wordorder %c\n", path, n,
               n == 1 ? "" : "s", gw_tagmap_byteorder(m), gw_tagmap_wordorder(m));
    else
        printf("%s: S7 tag map, %zu tag%s\n", path, n, n == 1 ? "" : "s");
    size_t wa = strlen("ADDRESS"), wp = strlen("PARAMETER"), wt = strlen("TYPE"),
           wu = strlen("UNIT");
    char addr[48];
    for (size_t i = 0; i < n; i++) {
        const gw_tag *t = gw_tagmap_at(m, i);
        gw_addr_format(&t->addr, addr, sizeof(addr));
        wa = width(wa, addr);
        wp = width(wp, t->parameter);
        wt = width(wt, gw_type_name(t->type, drv));
        wu = width(wu, t->unit);
    }
    printf("%-*s  %-*s  %-*s  %-*s  ACCESS\n", (int)wa, "ADDRESS", (int)wp, "PARAMETER", (int)wt,
           "TYPE", (int)wu, "UNIT");
    for (size_t i = 0; i < n; i++) {
        const gw_tag *t = gw_tagmap_at(m, i);
        gw_addr_format(&t->addr, addr, sizeof(addr));
        printf("%-*s  %-*s  %-*s  %-*s  %s\n", (int)wa, addr, (int)wp, t->parameter, (int)wt,
               gw_type_name(t->type, drv), (int)wu, t->unit ? t->unit : "",
               t->access == GW_ACCESS_RW ? "rw" : "r");
    }
}

static void print_config(const gw_config *cfg)
{
    printf("%s: gateway config, listen %s:%u, database %s, %zu machine%s (default %s)\n",
           cfg->path, cfg->listen_host, cfg->listen_port, cfg->database, cfg->nmachines,
           cfg->nmachines == 1 ? "" : "s", cfg->default_machine);
    for (size_t i = 0; i < cfg->nmachines; i++) {
        const gw_machine_cfg *m = &cfg->machines[i];
        printf("  %-12s %-10s %-6s %s:%u  %zu tags from %s%s\n", m->id, m->profile,
               m->driver == GW_DRIVER_S7 ? "s7" : "modbus", m->host, m->port,
               gw_tagmap_count(m->tags), m->tags_path, m->simulate ? "  (simulated)" : "");
    }
}

int cli_check_config(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool quiet = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'q': quiet = true; break;
        case 'h': printf("%s%s", usage, help); return CLI_EXIT_OK;
        default:
            return cli_usage_error("check-config", usage, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("check-config", usage, optind >= argc ? "missing FILE"
                                                                      : "expected one FILE");
    const char *path = argv[optind];
    gw_diag d;
    gw_json_doc *doc;
    if (gw_json_parse_file(path, &doc, &d) != GW_OK) {
        cli_print_diag(&d);
        return CLI_EXIT_USAGE;
    }
    const gw_json *root = gw_json_root(doc);
    bool is_map = gw_json_get(root, "mapping") != NULL;
    bool is_cfg = gw_json_get(root, "machines") != NULL;
    if (!is_map && !is_cfg) {
        gw_diag_error(&d, root->loc, "neither a tag map (no \"mapping\") nor a gateway config "
                      "(no \"machines\")");
        gw_json_doc_free(doc);
        cli_print_diag(&d);
        return CLI_EXIT_USAGE;
    }
    int rc = CLI_EXIT_OK;
    if (is_map) {
        gw_tagmap *m;
        if (gw_tagmap_from_json(root, &m, &d) != GW_OK) {
            rc = CLI_EXIT_USAGE;
        } else {
            if (!quiet)
                print_tagmap(path, m);
            gw_tagmap_free(m);
        }
        gw_json_doc_free(doc);
    } else {
        gw_json_doc_free(doc);
        gw_config *cfg;
        if (gw_config_load(path, &cfg, &d) != GW_OK) {
            rc = CLI_EXIT_USAGE;
        } else if (!gw_apps_check(cfg, &d)) {
            rc = CLI_EXIT_USAGE;
            gw_config_free(cfg);
        } else {
            if (!quiet)
                print_config(cfg);
            gw_config_free(cfg);
        }
    }
    cli_print_diag(&d);
    return rc;
}
