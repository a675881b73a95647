/*
 * s7plus_live.c - the ring-stiffness rig's tags (config/s7/ringstiff.json,
 * every tag of the map, as the engine reads them) read over S7comm and
 * over S7CommPlus V1 against in-process servers on loopback: an S7 server
 * as the memory, and an S7CommPlus server on the same memory. Prints round trips per cycle and
 * the cycle time (median, p99) for each.
 *
 *   build/bench_s7plus_live [cycles] [tag map]
 */
#include "drivers/s7/s7.h"
#include "drivers/s7plus/s7plus.h"
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef GW_SOURCE_DIR
#define GW_SOURCE_DIR "."
#endif

typedef gw_err (*read_fn)(void *client, gw_s7_range *r, size_t n, gw_error *err);

static gw_err s7_read(void *c, gw_s7_range *r, size_t n, gw_error *err)
{
    return gw_s7_read(c, r, n, err);
}

static gw_err s7p_read(void *c, gw_s7_range *r, size_t n, gw_error *err)
{
    return gw_s7p_read(c, r, n, err);
}

/* Reads the ranges `cycles` times (at most 20 s); prints the figures. */
static void run(const char *label, void *c, read_fn fn, uint64_t (*trips)(const void *),
                gw_s7_range *r, size_t n, int cycles)
{
    double *t = malloc(sizeof(double) * (size_t)cycles);
    uint64_t trips0 = trips(c);
    double deadline = now_us() + 20e6;
    int done = 0;
    gw_error err;
    for (; done < cycles && now_us() < deadline; done++) {
        double t0 = now_us();
        if (fn(c, r, n, &err) != GW_OK) {
            fprintf(stderr, "%s: read failed: %s\n", label, err.msg);
            exit(1);
        }
        for (size_t i = 0; i < n; i++)
            if (r[i].result != GW_OK) {
                fprintf(stderr, "%s: range %zu failed: %s\n", label, i, gw_err_str(r[i].result));
                exit(1);
            }
        t[done] = now_us() - t0;
    }
    double per = (double)(trips(c) - trips0) / done;
    qsort(t, (size_t)done, sizeof(double), cmp_double);
    printf("%-34s %5.1f round trips/cycle  median %7.1f us  p99 %7.1f us  (%d cycles)\n", label,
           per, t[done / 2], t[(size_t)(done * 0.99)], done);
    free(t);
}

static uint64_t s7_trips(const void *c)
{
    return gw_s7_round_trips(c);
}

static uint64_t s7p_trips(const void *c)
{
    return gw_s7p_round_trips(c);
}

/* The S7CommPlus half: a server on the S7 server's memory, a client. */
static void run_s7plus(gw_s7_server *mem, gw_s7_range *r, size_t n, int cycles)
{
    gw_s7p_server_opts po = {0};
    po.host = "127.0.0.1";
    po.memory = mem;
    gw_s7p_server *srv;
    gw_error err;
    if (gw_s7p_server_new(&po, &srv, &err) != GW_OK || gw_s7p_server_start(srv, &err) != GW_OK) {
        fprintf(stderr, "S7CommPlus server: %s\n", err.msg);
        exit(1);
    }
    gw_s7p_opts co = {0};
    co.host = "127.0.0.1";
    co.port = gw_s7p_server_port(srv);
    gw_s7p_client *c;
    if (gw_s7p_client_new(&co, &c) != GW_OK || gw_s7p_connect(c, &err) != GW_OK) {
        fprintf(stderr, "S7CommPlus client: %s\n", err.msg);
        exit(1);
    }
    run("S7CommPlus V1 (GetMultiVariables)", c, s7p_read, s7p_trips, r, n, cycles);
    gw_s7p_client_free(c);
    gw_s7p_server_free(srv);
}

int main(int argc, char **argv)
{
    int cycles = argc > 1 ? atoi(argv[1]) : 2000;
    const char *path = argc > 2 ? argv[2] : GW_SOURCE_DIR "/config/s7/ringstiff.json";
    if (cycles < 10)
        cycles = 10;
    gw_tagmap *map;
    gw_diag d;
    gw_s7_range *r;
    size_t n;
    if (gw_tagmap_load_file(path, &map, &d) != GW_OK || gw_s7_ranges_for_tags(map, &r, &n)) {
        fprintf(stderr, "%s does not load as an S7 tag map\n", path);
        return 1;
    }
    /* the DBs the map names, each as long as its furthest tag */
    uint32_t end[65536 / 32] = {0};
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].area == GW_S7_DB && r[i].db < sizeof(end) / sizeof(end[0]) &&
            r[i].start + r[i].len > end[r[i].db])
            end[r[i].db] = r[i].start + r[i].len;
        bytes += r[i].len;
    }
    uint8_t *mem = calloc(bytes ? bytes : 1, 1);
    for (size_t i = 0, off = 0; i < n; i++, off += r[i - 1].len)
        r[i].dst = mem + off;
    gw_s7_server_opts so = {0};
    so.host = "127.0.0.1";
    gw_s7_server *srv;
    gw_error err;
    if (gw_s7_server_new(&so, &srv, &err) != GW_OK) {
        fprintf(stderr, "S7 server: %s\n", err.msg);
        return 1;
    }
    for (size_t db = 0; db < sizeof(end) / sizeof(end[0]); db++)
        if (end[db])
            gw_s7_server_add_area(srv, GW_S7_DB, (uint16_t)db, end[db]);
    gw_s7_server_add_area(srv, GW_S7_M, 0, 256);
    gw_s7_server_add_area(srv, GW_S7_I, 0, 256);
    gw_s7_server_add_area(srv, GW_S7_Q, 0, 256);
    if (gw_s7_server_start(srv, &err) != GW_OK) {
        fprintf(stderr, "S7 server: %s\n", err.msg);
        return 1;
    }
    printf("%s: %zu tags, %zu bytes\n", path, n, bytes);
    gw_s7_opts co = {0};
    co.host = "127.0.0.1";
    co.port = gw_s7_server_port(srv);
    co.slot = 1;
    gw_s7_client *c;
    if (gw_s7_client_new(&co, &c) != GW_OK || gw_s7_connect(c, &err) != GW_OK) {
        fprintf(stderr, "S7 client: %s\n", err.msg);
        return 1;
    }
    run("S7comm (read plan, PDU 960)", c, s7_read, s7_trips, r, n, cycles);
    gw_s7_client_free(c);
    run_s7plus(srv, r, n, cycles);
    gw_s7_server_free(srv);
    free(mem);
    gw_free(r);
    gw_tagmap_free(map);
    return 0;
}
