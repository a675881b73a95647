/*
 * modbus_scan.c - one full scan of the watermaker's register map (seed
 * 002, config/modbus/watermaker.json) over Modbus TCP on loopback: the
 * coalesced read plan against one request per tag (as the seed's client
 * reads). Prints requests per scan and scan time (median, p99).
 *
 *   build/bench_modbus_scan [scans] [map]
 */
#include "drivers/modbus/mb.h"
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void run(gw_mb_client *c, const gw_tagmap *m, bool per_tag, int scans)
{
    gw_mb_plan_opts po = {GW_MB_DEFAULT_REG_GAP, GW_MB_DEFAULT_BIT_GAP, 0, 0, per_tag};
    gw_mb_plan *plan;
    gw_mb_readout *r;
    gw_error err;
    if (gw_mb_plan_new(m, &po, &plan) != GW_OK || gw_mb_readout_new(plan, &r) != GW_OK) {
        fprintf(stderr, "plan failed\n");
        exit(1);
    }
    double *t = malloc(sizeof(double) * (size_t)scans);
    uint64_t sent0 = gw_mb_requests_sent(c);
    double deadline = now_us() + 20e6; /* bounded: at most 20 s per mode */
    int done = 0;
    for (; done < scans && now_us() < deadline; done++) {
        double t0 = now_us();
        if (gw_mb_read_plan(c, plan, r, &err) != GW_OK) {
            fprintf(stderr, "read failed: %s\n", err.msg);
            exit(1);
        }
        t[done] = now_us() - t0;
    }
    double reqs = (double)(gw_mb_requests_sent(c) - sent0) / done;
    qsort(t, (size_t)done, sizeof(double), cmp_double);
    printf("%-22s %5.1f requests/scan  median %7.1f us  p99 %7.1f us  (%d scans, %zu tags)\n",
           per_tag ? "one request per tag" : "coalesced read plan", reqs, t[done / 2],
           t[(size_t)(done * 0.99)], done, gw_tagmap_count(m));
    free(t);
    gw_mb_readout_free(r);
    gw_mb_plan_free(plan);
}

int main(int argc, char **argv)
{
    int scans = argc > 1 ? atoi(argv[1]) : 1000;
    const char *path = argc > 2 ? argv[2] : "config/modbus/watermaker.json";
    if (scans < 10)
        scans = 10;
    gw_tagmap *m;
    gw_diag d;
    if (gw_tagmap_load_file(path, &m, &d) != GW_OK) {
        gw_diag_print(&d, stderr);
        return 1;
    }
    gw_mb_server_opts so = {0};
    so.host = "127.0.0.1";
    gw_mb_server *srv;
    gw_error err;
    if (gw_mb_server_new(&so, &srv, &err) != GW_OK || gw_mb_server_start(srv, &err) != GW_OK) {
        fprintf(stderr, "server: %s\n", err.msg);
        return 1;
    }
    gw_mb_opts co = {0};
    co.host = "127.0.0.1";
    co.port = gw_mb_server_port(srv);
    gw_mb_client *c;
    if (gw_mb_client_new(&co, &c) != GW_OK || gw_mb_connect(c, &err) != GW_OK) {
        fprintf(stderr, "client: %s\n", err.msg);
        return 1;
    }
    run(c, m, true, scans);
    run(c, m, false, scans);
    /* The smallest grouping by hand, with the same rules (gaps of at most
     * 10 registers read, at most 125 registers a request): R67-71,
     * R128-139, R257-265, R513-519, R1000-1017, R1036, R1120-1125,
     * R5014-5035. */
    printf("hand-made grouping     %5d requests/scan\n", 8);
    gw_mb_client_free(c);
    gw_mb_server_free(srv);
    gw_tagmap_free(m);
    return 0;
}
