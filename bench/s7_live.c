/*
 * s7_live.c - the ring-stiffness live set over S7 on loopback: the 13
 * values of seed 000's get_live_data() (DB2 force, deflections, stiffness,
 * SN class, status, passed; DB3 servo bits and position), read the seed's
 * way (13 single reads) and through our read plan. Prints round trips per
 * cycle and cycle time (median, p99) at PDU 240 (S7-1200) and 960.
 *
 *   build/bench_s7_live [cycles]
 */
#include "drivers/s7/s7.h"
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* seed 000, section 3.2: what get_live_data() reads, one call each */
static const struct {
    uint16_t db;
    uint32_t start, len;
} live[13] = {
    {2, 0, 4},  {2, 4, 4},  {2, 8, 4},  {2, 12, 4}, {2, 20, 2}, {2, 22, 2}, {2, 24, 1},
    {3, 1, 1},  {3, 1, 1},  {3, 1, 1},  {3, 1, 1},  {3, 1, 1},  {3, 6, 4},
};

static void run(gw_s7_client *c, bool planned, int cycles, const char *label)
{
    uint8_t buf[13][4];
    gw_s7_range r[13];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < 13; i++) {
        r[i].area = GW_S7_DB;
        r[i].db = live[i].db;
        r[i].start = live[i].start;
        r[i].len = live[i].len;
        r[i].dst = buf[i];
    }
    gw_s7_plan_opts po = {gw_s7_pdu_len(c), GW_S7_DEFAULT_MAX_ITEMS, GW_S7_DEFAULT_GAP};
    gw_s7_plan *plan = NULL;
    if (planned && gw_s7_plan_new(r, 13, &po, &plan) != GW_OK) {
        fprintf(stderr, "plan failed\n");
        exit(1);
    }
    double *t = malloc(sizeof(double) * (size_t)cycles);
    uint64_t trips0 = gw_s7_round_trips(c);
    gw_error err;
    double deadline = now_us() + 20e6; /* bounded: at most 20 s per mode */
    int done = 0;
    for (; done < cycles && now_us() < deadline; done++) {
        double t0 = now_us();
        gw_err rc = GW_OK;
        if (planned) {
            rc = gw_s7_read_plan(c, plan, r, &err);
        } else {
            for (int i = 0; i < 13 && rc == GW_OK; i++)
                rc = gw_s7_read(c, &r[i], 1, &err);
        }
        if (rc != GW_OK) {
            fprintf(stderr, "read failed: %s\n", err.msg);
            exit(1);
        }
        t[done] = now_us() - t0;
    }
    double trips = (double)(gw_s7_round_trips(c) - trips0) / done;
    qsort(t, (size_t)done, sizeof(double), cmp_double);
    printf("%-28s PDU %3u  %5.1f round trips/cycle  median %7.1f us  p99 %7.1f us  (%d cycles)\n",
           label, gw_s7_pdu_len(c), trips, t[done / 2], t[(size_t)(done * 0.99)], done);
    free(t);
    gw_s7_plan_free(plan);
}

int main(int argc, char **argv)
{
    int cycles = argc > 1 ? atoi(argv[1]) : 2000;
    if (cycles < 10)
        cycles = 10;
    for (int pass = 0; pass < 2; pass++) {
        uint16_t pdu = pass == 0 ? 240 : 960;
        gw_s7_server_opts so = {0};
        so.host = "127.0.0.1";
        so.max_pdu = pdu;
        gw_s7_server *srv;
        gw_error err;
        if (gw_s7_server_new(&so, &srv, &err) != GW_OK ||
            gw_s7_server_add_area(srv, GW_S7_DB, 2, 26) != GW_OK ||
            gw_s7_server_add_area(srv, GW_S7_DB, 3, 10) != GW_OK ||
            gw_s7_server_start(srv, &err) != GW_OK) {
            fprintf(stderr, "server: %s\n", err.msg);
            return 1;
        }
        gw_s7_opts co = {0};
        co.host = "127.0.0.1";
        co.port = gw_s7_server_port(srv);
        co.rack = 0;
        co.slot = 1;
        gw_s7_client *c;
        if (gw_s7_client_new(&co, &c) != GW_OK || gw_s7_connect(c, &err) != GW_OK) {
            fprintf(stderr, "client: %s\n", err.msg);
            return 1;
        }
        run(c, false, cycles, "seed way (13 single reads)");
        run(c, true, cycles, "read plan");
        gw_s7_client_free(c);
        gw_s7_server_free(srv);
    }
    return 0;
}
