/*
 * report_bench.c - what a test's documents cost (report/report.h): the
 * PDF of a 2,000-point test (median and p95 of repeated renders to a sink
 * that discards, after one warm-up render that loads the fonts), and the
 * XLSX export of 1,000 tests with 2,000 points each (2 million point rows:
 * the "Points 2" rollover) and without points: wall time, size, and the
 * peak RSS (getrusage ru_maxrss) before and after. Figures, no pass/fail.
 *
 *   build-release/bench_report [renders] [tests]
 *   build-release/bench_report --sample PREFIX
 *
 * --sample writes realistic reports to look at: PREFIX.pdf (a complete
 * test), PREFIX_mismatch.pdf (the PLC disagrees, in a series) and
 * PREFIX_aborted.pdf (stopped before the target).
 */
#include "report/report.h"
#include "apps/ringstiff/ringstiff.h"
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define POINTS 2000

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static bool discard(void *ud, const void *data, size_t len)
{
    (void)data;
    *(size_t *)ud += len;
    return true;
}

static bool to_file(void *ud, const void *data, size_t len)
{
    return fwrite(data, 1, len, ud) == len;
}

/* Point i of n of a 315 mm pipe pressed to 9.6 mm: a softening curve
 * through 0.859 kN at 9.45 mm (S = 5.86 kN/m² after ISO 9969), with a
 * load cell's noise of about +-2 N. */
static gw_test_point curve_point(size_t i, size_t n, double end_mm, unsigned *seed)
{
    double y = end_mm * (double)i / (double)(n - 1);
    *seed = *seed * 1103515245u + 12345u;
    double noise = ((double)(*seed >> 16 & 0x7fff) / 32767.0 - 0.5) * 0.004;
    return (gw_test_point){i * 0.0288, 0.10034 * y * (1 - 0.01 * y) + noise, y, 16.7 + y};
}

static void make_test(gw_test *t, int64_t id)
{
    memset(t, 0, sizeof(*t));
    t->id = id;
    snprintf(t->machine_id, sizeof(t->machine_id), "rig-1");
    snprintf(t->sample_id, sizeof(t->sample_id), "PVC-U 315x7.7 SN4 / lot 2026-118-%lld",
             (long long)id);
    snprintf(t->operator_name, sizeof(t->operator_name), "Martina Keller");
    snprintf(t->test_date, sizeof(t->test_date), "2026-12-07T21:10:04.250Z");
    snprintf(t->finished_at, sizeof(t->finished_at), "2026-12-07T21:11:01.864Z");
    snprintf(t->status, sizeof(t->status), GW_TEST_COMPLETE);
    snprintf(t->notes, sizeof(t->notes),
             "Specimen cut from pipe 2026-118 (extruder line 3, 2026-12-04), conditioned 24 h "
             "at 23 \xc2\xb0" "C. Marked at 0\xc2\xb0 on the top; pre-load 1 %% of the expected "
             "force. Test performed between flat parallel plates, plate width 100 mm. The "
             "specimen showed no cracking, crazing or delamination up to the target deflection; "
             "slight ovalisation remained after unloading. Second specimen of the series "
             "(turned 120\xc2\xb0 against the first), third follows.");
    t->nominal_sn = 5000;
    t->pipe_diameter = 315, t->pipe_length = 300, t->deflection_percent = 3;
    t->test_speed = 10, t->max_stroke = 40, t->max_force = 20;
    t->wall_thickness = t->diameter_calc = NAN;
    t->force_at_target = t->ring_stiffness = t->target_deflection = NAN;
    t->force_at_target_calc = t->ring_stiffness_calc = NAN;
    t->sn_class = t->sn_class_calc = t->plc_passed = t->passed = t->mismatch = -1;
}

/* Our results from the curve, the PLC's as given, the digest. */
static void finish_test(gw_test *t, const gw_test_point *p, size_t n, double plc_s)
{
    gw_rs_point *rp = malloc(sizeof(*rp) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        rp[i] = (gw_rs_point){p[i].t_s, p[i].force_kN, p[i].deflection_mm};
    gw_rs_specimen sp = {t->pipe_diameter, t->pipe_length, t->deflection_percent, 0,
                         GW_RS_ISO9969};
    gw_rs_result r;
    if (gw_rs_compute(&sp, rp, n, &r, NULL) == GW_OK) {
        snprintf(t->method, sizeof(t->method), "%s", gw_rs_method_name(r.method));
        t->diameter_calc = r.d_mm, t->target_deflection = r.y_mm;
        t->force_at_target_calc = r.force_kN, t->ring_stiffness_calc = r.stiffness_kNm2;
        t->sn_class_calc = (int)gw_rs_sn_class(r.stiffness_kNm2, gw_rs_default_classes, 7);
        t->ring_stiffness = plc_s;
        t->force_at_target = plc_s * t->pipe_length * r.y_mm / (r.factor * 1e6);
        t->sn_class = (int)gw_rs_sn_class(plc_s, gw_rs_default_classes, 7);
        t->plc_passed = plc_s * 1000 >= t->nominal_sn;
        t->passed = r.stiffness_kNm2 * 1000 >= t->nominal_sn;
        t->mismatch = gw_rs_mismatch(plc_s, r.stiffness_kNm2, 0.01);
    }
    free(rp);
    gw_report_digest d;
    gw_report_digest_init(&d);
    for (size_t i = 0; i < n; i++)
        gw_report_digest_point(&d, &p[i]);
    gw_report_digest_final(&d, t->points_sha256);
    t->npoints = (int64_t)n;
}

static int write_pdf(const char *path, const gw_test *t, const gw_test_point *p, size_t n,
                     const gw_report_series *series)
{
    gw_report_lab lab = {"GRP Test Laboratory \xc2\xb7 Pipe Systems", getenv("PLCGW_LOGO")};
    FILE *f = fopen(path, "wb");
    gw_error err;
    if (!f || gw_report_pdf(&lab, t, p, n, series, to_file, f, &err) != GW_OK) {
        fprintf(stderr, "%s: %s\n", path, f ? err.msg : "cannot create");
        if (f)
            fclose(f);
        return 1;
    }
    fclose(f);
    printf("%s\n", path);
    return 0;
}

static int samples(const char *prefix)
{
    static gw_test_point p[POINTS];
    char path[512];
    unsigned seed = 7;
    gw_test t;
    make_test(&t, 1042);
    for (size_t i = 0; i < POINTS; i++)
        p[i] = curve_point(i, POINTS, 9.6, &seed);
    finish_test(&t, p, POINTS, 5.86);
    snprintf(path, sizeof(path), "%s.pdf", prefix);
    int rc = write_pdf(path, &t, p, POINTS, NULL);
    /* the PLC disagrees; one of a series */
    finish_test(&t, p, POINTS, 6.52);
    gw_report_series s = {118, 3, 5.84, 6.31, 5000};
    t.series_id = 118;
    snprintf(path, sizeof(path), "%s_mismatch.pdf", prefix);
    rc |= write_pdf(path, &t, p, POINTS, &s);
    /* stopped at 8.1 mm, before the target: no results */
    make_test(&t, 1043);
    size_t n = POINTS * 81 / 96;
    finish_test(&t, p, n, NAN);
    snprintf(t.status, sizeof(t.status), GW_TEST_ABORTED);
    snprintf(t.reason, sizeof(t.reason), "Stop pressed on the rig (Stop_Test) at 8.1 mm");
    snprintf(path, sizeof(path), "%s_aborted.pdf", prefix);
    rc |= write_pdf(path, &t, p, n, NULL);
    return rc;
}

static void bench_pdf(int renders)
{
    static gw_test_point p[POINTS];
    unsigned seed = 7;
    gw_test t;
    make_test(&t, 1);
    for (size_t i = 0; i < POINTS; i++)
        p[i] = curve_point(i, POINTS, 9.6, &seed);
    finish_test(&t, p, POINTS, 5.86);
    gw_report_lab lab = {"GRP Test Laboratory", NULL};
    double *ms = malloc(sizeof(double) * (size_t)renders);
    size_t bytes = 0;
    double t0 = now_us();
    gw_report_pdf(&lab, &t, p, POINTS, NULL, discard, &bytes, NULL);
    double first = (now_us() - t0) / 1e3;
    for (int i = 0; i < renders; i++) {
        bytes = 0;
        t0 = now_us();
        if (gw_report_pdf(&lab, &t, p, POINTS, NULL, discard, &bytes, NULL) != GW_OK) {
            fprintf(stderr, "render failed\n");
            exit(1);
        }
        ms[i] = (now_us() - t0) / 1e3;
    }
    qsort(ms, (size_t)renders, sizeof(double), cmp_double);
    printf("pdf  %d-point test: median %6.1f ms  p95 %6.1f ms  (%d renders, first %.1f ms, "
           "%zu bytes)\n", POINTS, ms[renders / 2], ms[(size_t)(renders * 0.95)], renders,
           first, bytes);
    free(ms);
}

/* Synthetic tests made as they are pulled: nothing held in memory. */
typedef struct {
    int ntests, next;
} gen;

static bool gen_next(void *ud, gw_test *t)
{
    gen *g = ud;
    if (g->next >= g->ntests)
        return false;
    make_test(t, ++g->next);
    t->force_at_target = t->force_at_target_calc = 0.8586;
    t->ring_stiffness = t->ring_stiffness_calc = 5.86;
    t->sn_class = t->sn_class_calc = 5000;
    t->plc_passed = t->passed = 1, t->mismatch = 0, t->npoints = POINTS;
    snprintf(t->method, sizeof(t->method), "ISO 9969");
    return true;
}

static gw_err gen_points(void *ud, int64_t id, gw_store_point_fn fn, void *fn_ud,
                         gw_error *err)
{
    unsigned seed = (unsigned)id;
    for (size_t i = 0; i < POINTS; i++) {
        gw_test_point p = curve_point(i, POINTS, 9.6, &seed);
        fn(fn_ud, &p);
    }
    return GW_OK;
}

static void bench_xlsx(int ntests, bool with_points)
{
    gen g = {ntests, 0};
    gw_report_tests src = {gen_next, gen_points, &g};
    size_t bytes = 0;
    gw_error err;
    long before = peak_rss_kb();
    double t0 = now_us();
    if (gw_report_xlsx(NULL, &src, with_points, false, NULL, discard, &bytes, &err) != GW_OK) {
        fprintf(stderr, "xlsx failed: %s\n", err.msg);
        exit(1);
    }
    double s = (now_us() - t0) / 1e6;
    printf("xlsx %d tests %s: %7.2f s  %6.1f MB  peak RSS %ld -> %ld KiB\n", ntests,
           with_points ? "x 2000 points" : "without points", s, bytes / 1e6, before,
           peak_rss_kb());
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--sample") == 0)
        return samples(argv[2]);
    int renders = argc > 1 ? atoi(argv[1]) : 50;
    int ntests = argc > 2 ? atoi(argv[2]) : 1000;
    if (renders < 2)
        renders = 2;
    if (ntests < 1)
        ntests = 1;
    bench_pdf(renders);
    bench_xlsx(ntests, false);
    bench_xlsx(ntests, true);
    return 0;
}
