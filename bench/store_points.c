/*
 * store_points.c - the history's database (store/history.h) on a file:
 * the rate at which a test's points go in, in batches of 50 (one commit a
 * second, as the 50 Hz recorder does) and of 1000; the time of the first
 * page of a listing of 1000 tests, and of reading a test's 2000 points.
 * Prints points/s and times (median, p99).
 *
 *   build/bench_store_points [points] [dir]
 */
#include "store/history.h"
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fail(const char *what, const gw_error *err)
{
    fprintf(stderr, "%s: %s\n", what, err->msg);
    exit(1);
}

static int64_t new_test(gw_store *s, int i)
{
    gw_test t;
    gw_error err;
    gw_test_init(&t);
    snprintf(t.machine_id, sizeof(t.machine_id), "rig%d", i % 3);
    snprintf(t.sample_id, sizeof(t.sample_id), "PIPE-%05d", i);
    snprintf(t.operator_name, sizeof(t.operator_name), "op%d", i % 7);
    gw_time_iso8601(1796000000000 + (int64_t)i * 600000, t.test_date, sizeof(t.test_date));
    t.pipe_diameter = 315;
    t.pipe_length = 300;
    t.deflection_percent = 3;
    if (gw_store_test_begin(s, &t, &err) != GW_OK)
        fail("begin", &err);
    return t.id;
}

/* n points of one test in batches of `batch`; prints points/s and the
 * time of one batch's transaction. */
static void insert_rate(gw_store *s, size_t n, size_t batch)
{
    int64_t id = new_test(s, 0);
    gw_test_point *p = malloc(sizeof(*p) * batch);
    size_t nb = n / batch;
    double *t = malloc(sizeof(double) * nb);
    gw_error err;
    double t0 = now_us();
    for (size_t b = 0; b < nb; b++) {
        for (size_t i = 0; i < batch; i++) {
            double ts = (double)(b * batch + i) * 0.02;
            p[i] = (gw_test_point){ts, ts * 0.1, ts * 0.2, 16.7 + ts * 0.2};
        }
        double t1 = now_us();
        if (gw_store_test_add_points(s, id, p, batch, &err) != GW_OK)
            fail("add points", &err);
        t[b] = now_us() - t1;
    }
    double secs = (now_us() - t0) / 1e6;
    qsort(t, nb, sizeof(double), cmp_double);
    printf("insert, batches of %4zu  %9.0f points/s  one batch: median %7.1f us  p99 %7.1f us  "
           "(%zu points)\n", batch, (double)(nb * batch) / secs, t[nb / 2],
           t[(size_t)((double)nb * 0.99)], nb * batch);
    free(t);
    free(p);
}

static void count_test(void *ud, const gw_test *t)
{
    (void)t;
    (*(size_t *)ud)++;
}

static void count_point(void *ud, const gw_test_point *p)
{
    (void)p;
    (*(size_t *)ud)++;
}

#define RUNS 200

static void print_times(const char *what, double *t, size_t got)
{
    qsort(t, RUNS, sizeof(double), cmp_double);
    printf("%-34s median %8.1f us  p99 %8.1f us  (%zu rows, %d runs)\n", what, t[RUNS / 2],
           t[(size_t)(RUNS * 0.99)], got, RUNS);
}

static void reads(gw_store *s)
{
    gw_error err;
    for (int i = 0; i < 1000; i++)
        new_test(s, i);
    double t[RUNS];
    size_t got = 0, total = 0;
    gw_test_filter f = {0};
    f.passed = -1;
    for (int r = 0; r < RUNS; r++) {
        got = 0;
        double t0 = now_us();
        if (gw_store_test_list(s, &f, 0, 50, &total, count_test, &got, &err) != GW_OK)
            fail("list", &err);
        t[r] = now_us() - t0;
    }
    printf("(%zu tests in the file)\n", total);
    print_times("list, page 1 of 50, with total", t, got);
    f.machine_id = "rig1";
    for (int r = 0; r < RUNS; r++) {
        got = 0;
        double t0 = now_us();
        if (gw_store_test_list(s, &f, 0, 50, &total, count_test, &got, &err) != GW_OK)
            fail("list", &err);
        t[r] = now_us() - t0;
    }
    print_times("list, one machine, page 1 of 50", t, got);
    /* a test of 2000 points (40 s at 50 Hz) */
    int64_t id = new_test(s, 1000);
    gw_test_point p[2000];
    for (int i = 0; i < 2000; i++)
        p[i] = (gw_test_point){i * 0.02, i * 0.001, i * 0.005, 16.7 + i * 0.005};
    if (gw_store_test_add_points(s, id, p, 2000, &err) != GW_OK)
        fail("add points", &err);
    for (int r = 0; r < RUNS; r++) {
        got = 0;
        double t0 = now_us();
        if (gw_store_test_points(s, id, count_point, &got, &err) != GW_OK)
            fail("points", &err);
        t[r] = now_us() - t0;
    }
    print_times("read a test's 2000 points", t, got);
}

static void remove_db(const char *path)
{
    char p[600];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    if (n < 1000)
        n = 1000;
    char path[512];
    snprintf(path, sizeof(path), "%s/plcgw-bench-store-%d.db", dir, (int)getpid());
    remove_db(path);
    gw_store *s;
    gw_error err;
    if (gw_store_open(path, &s, &err) != GW_OK)
        fail("open", &err);
    printf("%s (WAL, synchronous=NORMAL)\n", path);
    insert_rate(s, n / 5, 50);
    insert_rate(s, n, 1000);
    gw_store_close(s);
    /* the reads on a file of their own: 1000 tests and one of 2000 points */
    remove_db(path);
    if (gw_store_open(path, &s, &err) != GW_OK)
        fail("open", &err);
    reads(s);
    gw_store_close(s);
    remove_db(path);
    return 0;
}
