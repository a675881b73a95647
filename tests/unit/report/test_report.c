/*
 * test_report.c - the documents of a test: the points' CSV and its
 * SHA-256 (against a text and a digest computed by hand), the PDF (a real
 * file checked with poppler's pdftotext and pdfinfo when installed: the
 * texts, one A4 page; a failing sink; user text full of markup; no, one,
 * NAN and huge points), the chart's tick rule, and the XLSX export (read
 * back with openpyxl by check_xlsx.py when installed: sheets, rows,
 * values, the chart, the "Points 2" rollover; a failing sink and a failing
 * point source leave no file behind).
 *
 * scripts/bootstrap installs poppler-utils and python3-openpyxl; without
 * them the file checks are skipped with a note.
 */
#include "report/report_internal.h"
#include "apps/ringstiff/ringstiff.h"

#include <dirent.h>
#include <pthread.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ helpers */

/* As gw_test_init (history.c) has it: every number unknown. */
static void blank_test(gw_test *t)
{
    memset(t, 0, sizeof(*t));
    t->pipe_diameter = t->pipe_length = t->deflection_percent = NAN;
    t->test_speed = t->max_stroke = t->max_force = NAN;
    t->force_at_target = t->ring_stiffness = NAN;
    t->wall_thickness = t->diameter_calc = t->target_deflection = NAN;
    t->force_at_target_calc = t->ring_stiffness_calc = NAN;
    t->sn_class = t->plc_passed = t->sn_class_calc = t->passed = t->mismatch = -1;
}

/* A 315 mm pipe, 300 mm long, to 3 % (y = 9.45 mm) on a softening curve
 * with a little noise; our results computed from the curve (calc.c), the
 * PLC's set to the same; the points' digest filled in. */
static gw_test_point *sample_test(gw_test *t, size_t n, int64_t id)
{
    blank_test(t);
    t->id = id;
    snprintf(t->machine_id, sizeof(t->machine_id), "rig-1");
    snprintf(t->sample_id, sizeof(t->sample_id), "PVC-315-A%lld", (long long)id);
    snprintf(t->operator_name, sizeof(t->operator_name), "Jane Operator");
    snprintf(t->test_date, sizeof(t->test_date), "2026-12-07T21:10:04.250Z");
    snprintf(t->finished_at, sizeof(t->finished_at), "2026-12-07T21:11:02.108Z");
    snprintf(t->status, sizeof(t->status), GW_TEST_COMPLETE);
    t->nominal_sn = 5000;
    t->pipe_diameter = 315, t->pipe_length = 300, t->deflection_percent = 3;
    t->test_speed = 10, t->max_stroke = 40, t->max_force = 20;
    gw_test_point *p = calloc(n ? n : 1, sizeof(*p));
    gw_rs_point *rp = calloc(n ? n : 1, sizeof(*rp));
    unsigned seed = 12345;
    for (size_t i = 0; i < n; i++) {
        double y = 9.6 * (double)i / (double)(n > 1 ? n - 1 : 1);
        seed = seed * 1103515245u + 12345u;
        double noise = ((double)(seed >> 16 & 0x7fff) / 32767.0 - 0.5) * 0.004;
        p[i] = (gw_test_point){i * 0.03, 0.10034 * y * (1 - 0.01 * y) + noise, y, 16.7 + y};
        rp[i] = (gw_rs_point){p[i].t_s, p[i].force_kN, p[i].deflection_mm};
    }
    gw_rs_specimen sp = {315, 300, 3, 0, GW_RS_ISO9969};
    gw_rs_result r;
    if (gw_rs_compute(&sp, rp, n, &r, NULL) == GW_OK) {
        snprintf(t->method, sizeof(t->method), "%s", gw_rs_method_name(r.method));
        t->diameter_calc = r.d_mm, t->target_deflection = r.y_mm;
        t->force_at_target_calc = r.force_kN, t->ring_stiffness_calc = r.stiffness_kNm2;
        t->sn_class_calc = (int)gw_rs_sn_class(r.stiffness_kNm2, gw_rs_default_classes, 7);
        t->force_at_target = r.force_kN, t->ring_stiffness = r.stiffness_kNm2;
        t->sn_class = t->sn_class_calc, t->plc_passed = 1;
        t->passed = t->ring_stiffness_calc * 1000 >= t->nominal_sn, t->mismatch = 0;
    }
    free(rp);
    gw_report_digest d;
    gw_report_digest_init(&d);
    for (size_t i = 0; i < n; i++)
        gw_report_digest_point(&d, &p[i]);
    gw_report_digest_final(&d, t->points_sha256);
    t->npoints = (int64_t)n;
    return p;
}

static bool file_sink(void *ud, const void *data, size_t len)
{
    return fwrite(data, 1, len, ud) == len;
}

/* Accepts `left` bytes, then fails; counts the calls after failing. */
typedef struct {
    size_t left;
    int calls_after;
    bool failed;
} limited;

static bool limited_sink(void *ud, const void *data, size_t len)
{
    limited *l = ud;
    (void)data;
    if (l->failed)
        l->calls_after++;
    if (len > l->left) {
        l->failed = true;
        return false;
    }
    l->left -= len;
    return true;
}

static bool have(const char *cmd)
{
    char sh[256];
    snprintf(sh, sizeof(sh), "command -v %s >/dev/null 2>&1", cmd);
    return system(sh) == 0;
}

/* The whole of a file (NUL-terminated), or NULL. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    if (len)
        *len = got;
    return buf;
}

static void tmp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "/tmp/plcgw-test-report-%d-%s", (int)getpid(), name);
}

/* Renders t to a file; returns its path in path. */
static void render(const gw_test *t, const gw_test_point *p, size_t n,
                   const gw_report_series *series, const gw_report_lab *lab, const char *name,
                   char *path, size_t size)
{
    tmp_path(path, size, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    gw_error err;
    gw_err rc = gw_report_pdf(lab, t, p, n, series, file_sink, f, &err);
    if (rc != GW_OK)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, GW_OK);
    assert_int_equal(fclose(f), 0);
    size_t len;
    char *pdf = slurp(path, &len);
    assert_non_null(pdf);
    assert_true(len > 1000);
    assert_memory_equal(pdf, "%PDF-", 5);
    while (len > 0 && (pdf[len - 1] == '\n' || pdf[len - 1] == '\r'))
        len--;
    assert_true(len > 5 && memcmp(pdf + len - 5, "%%EOF", 5) == 0);
    free(pdf);
}

/* pdftotext's text of a PDF (raw order, lines joined), or NULL when
 * poppler-utils is not installed. */
static char *pdf_text(const char *pdf)
{
    if (!have("pdftotext"))
        return NULL;
    char txt[300], sh[700];
    snprintf(txt, sizeof(txt), "%s.txt", pdf);
    snprintf(sh, sizeof(sh), "pdftotext -enc UTF-8 '%s' '%s'", pdf, txt);
    assert_int_equal(system(sh), 0);
    char *s = slurp(txt, NULL);
    unlink(txt);
    assert_non_null(s);
    for (char *c = s; *c; c++)
        if (*c == '\n')
            *c = ' ';
    return s;
}

static void assert_has(const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        fprintf(stderr, "missing \"%s\" in:\n%s\n", needle, text);
        fail();
    }
}

/* ------------------------------------------------------------ CSV */

static const gw_test_point csv_points[] = {
    {0, 0.012, 0, 16.7},
    {0.5, -0.003, 1e-7, NAN},
    {1.25, 0.1, 0.30000000000000004, -2.5},
    {2, 1e21, 1e-300, -0.0},
};
/* computed by hand from gw_json_format_real's rule (%.15g, .16g, .17g:
 * the first that reads back; ".0" appended to an integral text) */
static const char csv_text[] = "t_s,force_kN,deflection_mm,position_mm\r\n"
                               "0.0,0.012,0.0,16.7\r\n"
                               "0.5,-0.003,1e-07,\r\n"
                               "1.25,0.1,0.30000000000000004,-2.5\r\n"
                               "2.0,1e+21,1e-300,-0.0\r\n";
/* printf '...' | sha256sum of the text above */
static const char csv_sha256[] =
    "dd6230bb69a85cfca772e220ae1907d7f2d44ce6e0e981a2e2f2356b75eddb92";

static void test_csv_text(void **state)
{
    (void)state;
    char text[1024] = "", line[GW_REPORT_CSV_LINE];
    size_t n = gw_report_csv_header(line, sizeof(line));
    assert_int_equal(n, strlen(line));
    strcat(text, line);
    for (size_t i = 0; i < N(csv_points); i++) {
        n = gw_report_csv_line(&csv_points[i], line, sizeof(line));
        assert_int_equal(n, strlen(line));
        strcat(text, line);
    }
    assert_string_equal(text, csv_text);
    /* the longest number there is fits a line */
    gw_test_point worst = {-2.2250738585072014e-308, -1.7976931348623157e308,
                           -4.9406564584124654e-324, -2.2250738585072014e-308};
    n = gw_report_csv_line(&worst, line, sizeof(line));
    assert_true(n > 80 && n == strlen(line));
    /* too small a buffer: nothing, and said so */
    assert_int_equal(gw_report_csv_line(&csv_points[0], line, 10), 0);
    assert_string_equal(line, "");
    assert_int_equal(gw_report_csv_header(line, 10), 0);
    /* infinities are no numbers either */
    gw_test_point inf = {INFINITY, -INFINITY, NAN, 1};
    gw_report_csv_line(&inf, line, sizeof(line));
    assert_string_equal(line, ",,,1.0\r\n");
}

static void test_csv_digest(void **state)
{
    (void)state;
    gw_report_digest d;
    char hex[65];
    gw_report_digest_init(&d);
    for (size_t i = 0; i < N(csv_points); i++)
        gw_report_digest_point(&d, &csv_points[i]);
    gw_report_digest_final(&d, hex);
    assert_string_equal(hex, csv_sha256);
    /* no points: the header's digest (printf 't_s,...\r\n' | sha256sum) */
    gw_report_digest_init(&d);
    gw_report_digest_final(&d, hex);
    assert_string_equal(hex, "8154f745f88c9e9801c73ec931c34c95cbbccad16cb625c4a18e2435f9392a2a");
}

/* ------------------------------------------------------------ chart rule */

static void test_ticks(void **state)
{
    (void)state;
    assert_float_equal(report__tick_step(9.45, 6), 2, 0);
    assert_float_equal(report__tick_step(0.6, 5), 0.2, 1e-15);
    assert_float_equal(report__tick_step(10, 5), 2, 0);
    assert_float_equal(report__tick_step(1e300, 6), 2e299, 1e285);
    assert_float_equal(report__tick_step(0.00042, 5), 0.0001, 1e-18);
    assert_float_equal(report__tick_step(0.00042, 4), 0.0002, 1e-18);
    assert_float_equal(report__tick_step(0, 5), 0, 0);
    assert_float_equal(report__tick_step(NAN, 5), 0, 0);
    assert_float_equal(report__tick_step(INFINITY, 5), 0, 0);
    char b[48];
    report__tick_label(0.25, 0.05, b, sizeof(b));
    assert_string_equal(b, "0.25");
    report__tick_label(4, 2, b, sizeof(b));
    assert_string_equal(b, "4");
    report__tick_label(0.6000000000000001, 0.2, b, sizeof(b));
    assert_string_equal(b, "0.6");
    report__tick_label(-1e-17, 0.1, b, sizeof(b));
    assert_string_equal(b, "0.0");
    report__tick_label(4e300, 2e299, b, sizeof(b));
    assert_string_equal(b, "4e+300");
    report__num(5.8612, 3, false, b, sizeof(b));
    assert_string_equal(b, "5.86");
    report__num(0.58934, 3, false, b, sizeof(b));
    assert_string_equal(b, "0.589");
    report__num(9.45, 5, true, b, sizeof(b));
    assert_string_equal(b, "9.45");
    report__num(315, 5, true, b, sizeof(b));
    assert_string_equal(b, "315");
    report__num(NAN, 3, false, b, sizeof(b));
    assert_string_equal(b, "\xe2\x80\x94");
    report__num(1e300, 3, false, b, sizeof(b));
    assert_string_equal(b, "1.00e+300");
}

/* ------------------------------------------------------------ PDF */

static void test_pdf_render(void **state)
{
    (void)state;
    gw_test t;
    gw_test_point *p = sample_test(&t, 500, 17);
    char path[256];
    gw_report_lab lab = {"GRP Test Laboratory", NULL};
    render(&t, p, 500, NULL, &lab, "render.pdf", path, sizeof(path));
    char *text = pdf_text(path);
    if (!text) {
        printf("note: pdftotext not installed (poppler-utils): PDF text not checked\n");
    } else {
        assert_has(text, "GRP Test Laboratory");
        assert_has(text, "Ring stiffness test report");
        assert_has(text, "PVC-315-A17");
        assert_has(text, "Jane Operator");
        assert_has(text, "ISO 9969");
        assert_has(text, "SN 5000");
        assert_has(text, "PASS");
        assert_has(text, "Independent (from the recorded curve)");
        assert_has(text, "Deflection (mm)");
        assert_has(text, "Force (kN)");
        assert_has(text, "y = 9.45 mm");
        char s[48], line[160];
        report__num(t.ring_stiffness_calc, 3, false, s, sizeof(s));
        assert_has(text, s);
        snprintf(line, sizeof(line), "Points: 500, SHA-256 of points.csv: %s", t.points_sha256);
        assert_has(text, line);
        assert_has(text, "plcgw " GW_VERSION);
        assert_has(text, "Page 1 of 1");
        free(text);
    }
    if (have("pdfinfo")) {
        char sh[700], out[300];
        tmp_path(out, sizeof(out), "pdfinfo.txt");
        snprintf(sh, sizeof(sh), "pdfinfo '%s' > '%s'", path, out);
        assert_int_equal(system(sh), 0);
        char *info = slurp(out, NULL);
        unlink(out);
        assert_non_null(info);
        const char *pages = strstr(info, "Pages:");
        assert_non_null(pages);
        assert_int_equal(strtol(pages + 6, NULL, 10), 1);
        assert_has(info, "595.276 x 841.89 pts (A4)");
        assert_has(info, "Ring stiffness test report, test 17");
        free(info);
    }
    /* the same test renders to the same bytes (no date of now in it) */
    char again[256];
    render(&t, p, 500, NULL, &lab, "again.pdf", again, sizeof(again));
    size_t l1, l2;
    char *a = slurp(path, &l1), *b = slurp(again, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(a, b, l1);
    free(a);
    free(b);
    unlink(path);
    unlink(again);
    free(p);
}

static void test_pdf_sink_fails(void **state)
{
    (void)state;
    gw_test t;
    gw_test_point *p = sample_test(&t, 500, 3);
    limited l = {1000, 0, false};
    gw_error err;
    assert_int_equal(gw_report_pdf(NULL, &t, p, 500, NULL, limited_sink, &l, &err), GW_E_IO);
    assert_true(l.failed);
    assert_int_equal(l.calls_after, 0);
    assert_non_null(strstr(err.msg, "stopped taking it"));
    /* at once too */
    l = (limited){0, 0, false};
    assert_int_equal(gw_report_pdf(NULL, &t, p, 500, NULL, limited_sink, &l, NULL), GW_E_IO);
    assert_int_equal(gw_report_pdf(NULL, NULL, p, 500, NULL, limited_sink, &l, NULL),
                     GW_E_INVAL);
    assert_int_equal(gw_report_pdf(NULL, &t, NULL, 5, NULL, limited_sink, &l, NULL), GW_E_INVAL);
    free(p);
}

static void test_pdf_user_data(void **state)
{
    (void)state;
    gw_test t;
    gw_test_point *p = sample_test(&t, 200, 4);
    snprintf(t.sample_id, sizeof(t.sample_id), "<b>&amp; <i>x</i> & \xff\x01");
    memset(t.operator_name, 'W', GW_TEST_OPERATOR_MAX);
    t.operator_name[GW_TEST_OPERATOR_MAX] = '\0';
    /* notes at their limit: markup, a word longer than the page, lines */
    size_t o = 0;
    while (o + 40 < GW_TEST_NOTES_MAX) {
        o += (size_t)snprintf(t.notes + o, sizeof(t.notes) - o, "<span foreground='red'>%s\n",
                              o % 3 ? "&lt;" : "x");
    }
    memset(t.notes + o, 'N', GW_TEST_NOTES_MAX - o);
    t.notes[GW_TEST_NOTES_MAX] = '\0';
    snprintf(t.reason, sizeof(t.reason), "<u>Stop pressed</u> & more");
    snprintf(t.status, sizeof(t.status), GW_TEST_ABORTED);
    gw_report_lab lab = {"Lab <b>&</b>", "/nonexistent/logo.png"};
    gw_report_series series = {9, 3, 5.84, 5.85, 5000};
    char path[256];
    render(&t, p, 200, &series, &lab, "user.pdf", path, sizeof(path));
    char *text = pdf_text(path);
    if (text) {
        assert_has(text, "<b>&amp; <i>x</i> &");
        assert_has(text, "Lab <b>&</b>");
        assert_has(text, "<u>Stop pressed</u> & more");
        assert_has(text, "<span foreground='red'>");
        assert_has(text, "Test aborted");
        assert_has(text, "Series 9");
        free(text);
    }
    if (have("pdfinfo")) {
        char sh[400];
        snprintf(sh, sizeof(sh), "pdfinfo '%s' | grep -q '^Pages: *1$'", path);
        assert_int_equal(system(sh), 0);
    }
    unlink(path);
    free(p);
}

static void test_pdf_edges(void **state)
{
    (void)state;
    char path[256];
    gw_test t;
    /* nothing known, no points */
    blank_test(&t);
    t.id = 5;
    render(&t, NULL, 0, NULL, NULL, "empty.pdf", path, sizeof(path));
    char *text = pdf_text(path);
    if (text) {
        assert_has(text, "no points recorded");
        assert_has(text, "\xe2\x80\x94");
        assert_has(text, "Points: 0, SHA-256 of points.csv: ");
        assert_has(text, "NO VERDICT");
        free(text);
    }
    unlink(path);
    /* one point */
    gw_test_point *p = sample_test(&t, 1, 6);
    render(&t, p, 1, NULL, NULL, "one.pdf", path, sizeof(path));
    unlink(path);
    free(p);
    /* NAN among the points, a mismatch, interrupted, a digest that
     * differs from the stored one */
    p = sample_test(&t, 300, 7);
    for (size_t i = 10; i < 300; i += 37)
        p[i].force_kN = NAN, p[i + 1].deflection_mm = NAN;
    t.mismatch = 1, t.ring_stiffness = 6.5;
    snprintf(t.status, sizeof(t.status), GW_TEST_INTERRUPTED);
    snprintf(t.reason, sizeof(t.reason), "the gateway stopped");
    render(&t, p, 300, NULL, NULL, "flags.pdf", path, sizeof(path));
    text = pdf_text(path);
    if (text) {
        assert_has(text, "PLC and independent ring stiffness differ by more than the tolerance");
        assert_has(text, "Test interrupted");
        assert_has(text, "the gateway stopped");
        assert_has(text, "WARNING");
        assert_has(text, "6.50");
        free(text);
    }
    unlink(path);
    /* huge values, and values past the chart's range */
    for (size_t i = 0; i < 300; i++)
        p[i].force_kN = 1e300 * (double)i, p[i].deflection_mm = 1e200 * (double)i;
    render(&t, p, 300, NULL, NULL, "huge.pdf", path, sizeof(path));
    unlink(path);
    p[0].deflection_mm = -1.7e308, p[1].deflection_mm = 1.7e308;
    render(&t, p, 300, NULL, NULL, "range.pdf", path, sizeof(path));
    text = pdf_text(path);
    if (text) {
        assert_has(text, "out of the chart's range");
        free(text);
    }
    unlink(path);
    free(p);
}

static void test_pdf_logo(void **state)
{
    (void)state;
    char png[256], path[256];
    tmp_path(png, sizeof(png), "logo.png");
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 300, 100);
    cairo_t *cr = cairo_create(img);
    cairo_set_source_rgb(cr, 0.1, 0.3, 0.6);
    cairo_rectangle(cr, 10, 10, 280, 80);
    cairo_fill(cr);
    cairo_destroy(cr);
    assert_int_equal(cairo_surface_write_to_png(img, png), CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(img);
    gw_test t;
    gw_test_point *p = sample_test(&t, 100, 8);
    gw_report_lab lab = {"GRP Test Laboratory", png};
    render(&t, p, 100, NULL, &lab, "logo.pdf", path, sizeof(path));
    size_t with;
    free(slurp(path, &with));
    unlink(path);
    /* not a PNG: left out */
    FILE *f = fopen(png, "w");
    fputs("not a png", f);
    fclose(f);
    render(&t, p, 100, NULL, &lab, "nologo.pdf", path, sizeof(path));
    size_t without;
    free(slurp(path, &without));
    assert_true(with > without);
    unlink(path);
    unlink(png);
    free(p);
}

/* Renders into memory on a thread of its own. */
typedef struct {
    const gw_test *t;
    const gw_test_point *p;
    size_t n;
    gw_buf out;
    gw_err rc;
} job;

static bool buf_sink(void *ud, const void *data, size_t len)
{
    gw_buf_append(ud, data, len);
    return true;
}

static void *render_job(void *arg)
{
    job *j = arg;
    for (int i = 0; i < 3 && j->rc == GW_OK; i++) {
        gw_buf_clear(&j->out);
        j->rc = gw_report_pdf(NULL, j->t, j->p, j->n, NULL, buf_sink, &j->out, NULL);
    }
    return NULL;
}

static void test_pdf_threads(void **state)
{
    (void)state;
    /* reports on four threads at once come out as they do alone */
    gw_test t;
    gw_test_point *p = sample_test(&t, 400, 21);
    job alone = {&t, p, 400, {0}, GW_OK};
    gw_buf_init(&alone.out);
    render_job(&alone);
    assert_int_equal(alone.rc, GW_OK);
    job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){&t, p, 400, {0}, GW_OK};
        gw_buf_init(&jobs[i].out);
        assert_int_equal(pthread_create(&th[i], NULL, render_job, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].rc, GW_OK);
        assert_false(jobs[i].out.failed);
        assert_int_equal(jobs[i].out.len, alone.out.len);
        assert_memory_equal(jobs[i].out.data, alone.out.data, alone.out.len);
        gw_buf_clear(&jobs[i].out);
    }
    gw_buf_clear(&alone.out);
    free(p);
}

/* ------------------------------------------------------------ XLSX */

typedef struct {
    gw_test tests[3];
    gw_test_point *points[3];
    size_t npoints[3];
    size_t ntests, next;
    gw_err fail_points;       /* returned by points() when not GW_OK */
} source;

static bool src_next(void *ud, gw_test *t)
{
    source *s = ud;
    if (s->next >= s->ntests)
        return false;
    *t = s->tests[s->next++];
    return true;
}

static gw_err src_points(void *ud, int64_t id, gw_store_point_fn fn, void *fn_ud,
                         gw_error *err)
{
    source *s = ud;
    if (s->fail_points != GW_OK)
        return gw_error_set(err, s->fail_points, "database: gone");
    for (size_t i = 0; i < s->ntests; i++)
        if (s->tests[i].id == id)
            for (size_t k = 0; k < s->npoints[i]; k++)
                fn(fn_ud, &s->points[i][k]);
    return GW_OK;
}

static void source_init(source *s, size_t ntests, const size_t *npoints)
{
    memset(s, 0, sizeof(*s));
    s->ntests = ntests;
    for (size_t i = 0; i < ntests; i++) {
        s->npoints[i] = npoints[i];
        s->points[i] = sample_test(&s->tests[i], npoints[i], (int64_t)(101 + i));
    }
    if (ntests > 2) {
        /* the third: unknowns and user text */
        s->tests[2].ring_stiffness = NAN, s->tests[2].sn_class = -1, s->tests[2].passed = -1;
        snprintf(s->tests[2].sample_id, sizeof(s->tests[2].sample_id), "<b>&\x01\xff");
    }
}

static void source_clear(source *s)
{
    for (size_t i = 0; i < s->ntests; i++)
        free(s->points[i]);
}

static gw_err export(source *s, bool with_points, bool one_test, uint32_t rows_max,
                     const char *name, char *path, size_t size)
{
    tmp_path(path, size, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    gw_report_tests src = {src_next, src_points, s};
    gw_report_lab lab = {"GRP Test Laboratory", NULL};
    gw_error err;
    gw_err rc = report__xlsx(&lab, &src, with_points, one_test, NULL, rows_max, file_sink, f,
                             &err);
    if (rc != GW_OK)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(fclose(f), 0);
    return rc;
}

/* A python3 that has openpyxl (Debian's python3-openpyxl is for
 * /usr/bin/python3, which a pyenv on PATH hides), or NULL. */
static const char *openpyxl_python(void)
{
    static const char *const py[] = {"/usr/bin/python3", "python3"};
    for (size_t i = 0; i < N(py); i++) {
        char sh[200];
        snprintf(sh, sizeof(sh), "%s -c 'import openpyxl' >/dev/null 2>&1", py[i]);
        if (system(sh) == 0)
            return py[i];
    }
    return NULL;
}

static void check_xlsx(const char *path, const char *args)
{
    const char *py = openpyxl_python();
    if (!py) {
        printf("note: python3-openpyxl not installed: %s not read back\n", path);
        return;
    }
    char sh[1024];
    snprintf(sh, sizeof(sh), "%s %s/tests/unit/report/check_xlsx.py '%s' %s", py,
             GW_SOURCE_DIR, path, args);
    assert_int_equal(system(sh), 0);
}

static void test_xlsx_export(void **state)
{
    (void)state;
    source s;
    const size_t np[3] = {120, 80, 0};
    source_init(&s, 3, np);
    char path[256], args[512];
    assert_int_equal(export(&s, true, false, 1048576, "three.xlsx", path, sizeof(path)), GW_OK);
    char *zip = slurp(path, NULL);
    assert_memory_equal(zip, "PK\x03\x04", 4);
    free(zip);
    snprintf(args, sizeof(args), "--sheets Tests,Points --samples PVC-315-A101,PVC-315-A102,"
             "'<b>& \xef\xbf\xbd' --points 200 --cell 'Points!C3=%.17g' --cell 'Tests!AB2=%s' "
             "--blank Tests!R4 --no-chart", s.points[0][1].force_kN, s.tests[0].points_sha256);
    check_xlsx(path, args);
    unlink(path);
    /* without points */
    s.next = 0;
    assert_int_equal(export(&s, false, false, 1048576, "nopoints.xlsx", path, sizeof(path)),
                     GW_OK);
    check_xlsx(path, "--sheets Tests --points 0 --no-chart");
    unlink(path);
    source_clear(&s);
}

static void test_xlsx_one_test(void **state)
{
    (void)state;
    source s;
    const size_t np[1] = {500};
    source_init(&s, 1, np);
    char path[256], args[512];
    assert_int_equal(export(&s, true, true, 1048576, "one.xlsx", path, sizeof(path)), GW_OK);
    snprintf(args, sizeof(args), "--sheets Tests,Points --samples PVC-315-A101 --points 500 "
             "--chart Tests --series 1 --chart-refs 'Points!D2:D501'");
    check_xlsx(path, args);
    unlink(path);
    source_clear(&s);
}

static void test_xlsx_rollover(void **state)
{
    (void)state;
    /* 40 rows a sheet: 39 points under each header */
    source s;
    const size_t np[3] = {100, 10, 5};
    source_init(&s, 3, np);
    char path[256];
    assert_int_equal(export(&s, true, true, 40, "roll.xlsx", path, sizeof(path)), GW_OK);
    check_xlsx(path, "--sheets 'Tests,Points,Points 2,Points 3,Chart' --points 115 "
                     "--chart Chart --series 3 --chart-refs 'Points 3!D2:D23' "
                     "--cell 'Points 3!A24=102' --cell 'Points 3!A34=103'");
    unlink(path);
    /* the Tests sheet has its limit too */
    s.next = 0;
    assert_int_equal(export(&s, false, false, 3, "full.xlsx", path, sizeof(path)), GW_E_RANGE);
    unlink(path);
    source_clear(&s);
}

/* How many entries of dir start with prefix ("" for all but . and ..). */
static int entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.' && strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static int leftovers(const char *dir)
{
    return entries(dir, "plcgw-export-");
}

/* Open file descriptors of this process. */
static int open_fds(void)
{
    return entries("/proc/self/fd", "") - 1; /* the DIR's own */
}

static void test_xlsx_failures(void **state)
{
    (void)state;
    char dir[] = "/tmp/plcgw-test-xlsx-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int fds = open_fds();
    source s;
    const size_t np[3] = {300, 300, 300};
    source_init(&s, 3, np);
    gw_report_tests src = {src_next, src_points, &s};
    gw_error err;
    /* the reader goes away */
    limited l = {1000, 0, false};
    assert_int_equal(gw_report_xlsx(NULL, &src, true, true, dir, limited_sink, &l, &err),
                     GW_E_IO);
    assert_int_equal(l.calls_after, 0);
    assert_non_null(strstr(err.msg, "stopped taking it"));
    assert_int_equal(leftovers(dir), 0);
    /* the points cannot be read */
    s.next = 0, s.fail_points = GW_E_STORE;
    l = (limited){1u << 30, 0, false};
    assert_int_equal(gw_report_xlsx(NULL, &src, true, false, dir, limited_sink, &l, &err),
                     GW_E_STORE);
    assert_int_equal(leftovers(dir), 0);
    assert_int_equal(l.left, 1u << 30);
    /* no such directory */
    s.next = 0, s.fail_points = GW_OK;
    assert_int_equal(gw_report_xlsx(NULL, &src, true, false, "/nonexistent/dir", limited_sink,
                                    &l, &err), GW_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/dir"));
    /* no temporary file of libxlsxwriter's left open */
    assert_int_equal(open_fds(), fds);
    assert_int_equal(gw_report_xlsx(NULL, NULL, true, false, dir, limited_sink, &l, &err),
                     GW_E_INVAL);
    rmdir(dir);
    source_clear(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_text),
        cmocka_unit_test(test_csv_digest),
        cmocka_unit_test(test_ticks),
        cmocka_unit_test(test_pdf_render),
        cmocka_unit_test(test_pdf_sink_fails),
        cmocka_unit_test(test_pdf_user_data),
        cmocka_unit_test(test_pdf_edges),
        cmocka_unit_test(test_pdf_logo),
        cmocka_unit_test(test_pdf_threads),
        cmocka_unit_test(test_xlsx_export),
        cmocka_unit_test(test_xlsx_one_test),
        cmocka_unit_test(test_xlsx_rollover),
        cmocka_unit_test(test_xlsx_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
