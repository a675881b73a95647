/*
 * xlsx.c - an export of tests as an Excel workbook (libxlsxwriter 1.1.4,
 * constant memory mode).
 *
 * Sheets: "Tests", one row per test; "Points", every test's points one
 * after the other (with_points); with one_test, a native scatter chart of
 * force over deflection (on "Tests" below the test's row, or on a sheet
 * "Chart" when more than one test came).
 *
 * Constant memory: libxlsxwriter keeps one row per sheet in memory and
 * flushes it to that sheet's own temporary file when a later row starts,
 * so rows must go in ascending order per sheet, while writes to different
 * sheets may interleave (a test's row, then its points, then the next
 * test's row). Strings are written inline (no shared string table), so an
 * export of a million points costs a few MB of memory.
 *
 * Excel has 1,048,576 rows per sheet (Excel specifications and limits).
 * When the points need more, they go on in a sheet "Points 2" (then
 * "Points 3", ...), each with its header row; a test's points may start on
 * one sheet and end on the next.
 *
 * The workbook is written to a temporary file in tmpdir (libxlsxwriter
 * 1.1.4 writes only to files), streamed to the sink in 64 KiB reads and
 * removed, on success and on error alike.
 */
#include "report_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define CHUNK (64 * 1024)
#define CHART_RANGES 16       /* sheets one test's chart may span */

typedef struct {
    const char *head;
    double width;             /* in characters */
} column;

/* The Tests sheet's columns, in order; units in the header text. */
enum {
    C_ID, C_MACHINE, C_SAMPLE, C_OPERATOR, C_DATE, C_FINISHED, C_STATUS, C_REASON, C_SERIES,
    C_NOMINAL, C_DIAMETER, C_LENGTH, C_DEFL_PCT, C_SPEED, C_STROKE, C_MAXFORCE, C_PLC_F,
    C_PLC_S, C_PLC_SN, C_PLC_PASSED, C_METHOD, C_F, C_S, C_SN, C_PASSED, C_MISMATCH,
    C_NPOINTS, C_SHA, C__COUNT
};
static const column test_cols[C__COUNT] = {
    [C_ID] = {"id", 8},
    [C_MACHINE] = {"machine", 14},
    [C_SAMPLE] = {"sample_id", 20},
    [C_OPERATOR] = {"operator", 16},
    [C_DATE] = {"test_date (UTC)", 25},
    [C_FINISHED] = {"finished_at (UTC)", 25},
    [C_STATUS] = {"status", 11},
    [C_REASON] = {"reason", 24},
    [C_SERIES] = {"series_id", 9},
    [C_NOMINAL] = {"nominal_sn (N/m\xc2\xb2)", 17},
    [C_DIAMETER] = {"pipe_diameter (mm)", 18},
    [C_LENGTH] = {"pipe_length (mm)", 16},
    [C_DEFL_PCT] = {"deflection_percent (%)", 21},
    [C_SPEED] = {"test_speed (mm/min)", 19},
    [C_STROKE] = {"max_stroke (mm)", 15},
    [C_MAXFORCE] = {"max_force (kN)", 14},
    [C_PLC_F] = {"PLC force_at_target (kN)", 23},
    [C_PLC_S] = {"PLC ring_stiffness (kN/m\xc2\xb2)", 26},
    [C_PLC_SN] = {"PLC sn_class (N/m\xc2\xb2)", 20},
    [C_PLC_PASSED] = {"PLC passed", 11},
    [C_METHOD] = {"method", 10},
    [C_F] = {"force_at_target_calc (kN)", 24},
    [C_S] = {"ring_stiffness_calc (kN/m\xc2\xb2)", 27},
    [C_SN] = {"sn_class_calc (N/m\xc2\xb2)", 21},
    [C_PASSED] = {"passed", 8},
    [C_MISMATCH] = {"mismatch", 9},
    [C_NPOINTS] = {"npoints", 9},
    [C_SHA] = {"points_sha256", 66},
};
static const column point_cols[5] = {
    {"test_id", 8}, {"t_s (s)", 12}, {"force_kN (kN)", 14}, {"deflection_mm (mm)", 18},
    {"position_mm (mm)", 17},
};

typedef struct {
    int sheet;                /* points sheet number, 1 = "Points" */
    lxw_row_t first, last;
} range;

typedef struct {
    lxw_workbook *wb;
    lxw_worksheet *tests, *points;
    lxw_format *head;
    lxw_row_t rows_max;       /* rows per sheet, header included */
    lxw_row_t test_row, point_row;
    int sheets;               /* points sheets so far */
    int64_t test_id;          /* the test whose points come in */
    bool charting;            /* the points coming in are the chart's */
    range chart[CHART_RANGES];
    size_t nranges;
    lxw_error lerr;           /* the first libxlsxwriter error */
    char what[96];            /* and what was being done */
} book;

static void check(book *b, lxw_error e, const char *what)
{
    if (e != LXW_NO_ERROR && b->lerr == LXW_NO_ERROR) {
        b->lerr = e;
        snprintf(b->what, sizeof(b->what), "%s", what);
    }
}

/* A text cell; "" is left blank. Control characters (not allowed in
 * XML 1.0) become spaces, ill-formed UTF-8 U+FFFD. */
static void text(book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const char *s)
{
    char clean[GW_TEST_NOTES_MAX * 3 + 4];
    report__clean(s, false, clean, sizeof(clean));
    if (clean[0])
        check(b, worksheet_write_string(ws, r, c, clean, NULL), "writing a text cell");
}

/* A number cell; an unknown number (NAN) is left blank. */
static void num(book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, double v)
{
    if (isfinite(v))
        check(b, worksheet_write_number(ws, r, c, v, NULL), "writing a number cell");
}

/* A tri-state as TRUE/FALSE; -1 (unknown) is left blank. */
static void boolean(book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, int v)
{
    if (v == 0 || v == 1)
        check(b, worksheet_write_boolean(ws, r, c, v, NULL), "writing a boolean cell");
}

static void header_row(book *b, lxw_worksheet *ws, const column *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        check(b, worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, cols[i].width, NULL),
              "setting a column's width");
        check(b, worksheet_write_string(ws, 0, (lxw_col_t)i, cols[i].head, b->head),
              "writing a header");
    }
    worksheet_freeze_panes(ws, 1, 0);
}

static void put_test(book *b, const gw_test *t)
{
    lxw_worksheet *ws = b->tests;
    lxw_row_t r = b->test_row++;
    num(b, ws, r, C_ID, (double)t->id);
    text(b, ws, r, C_MACHINE, t->machine_id);
    text(b, ws, r, C_SAMPLE, t->sample_id);
    text(b, ws, r, C_OPERATOR, t->operator_name);
    text(b, ws, r, C_DATE, t->test_date);
    text(b, ws, r, C_FINISHED, t->finished_at);
    text(b, ws, r, C_STATUS, t->status);
    text(b, ws, r, C_REASON, t->reason);
    num(b, ws, r, C_SERIES, t->series_id > 0 ? (double)t->series_id : NAN);
    num(b, ws, r, C_NOMINAL, t->nominal_sn ? (double)t->nominal_sn : NAN);
    num(b, ws, r, C_DIAMETER, t->pipe_diameter);
    num(b, ws, r, C_LENGTH, t->pipe_length);
    num(b, ws, r, C_DEFL_PCT, t->deflection_percent);
    num(b, ws, r, C_SPEED, t->test_speed);
    num(b, ws, r, C_STROKE, t->max_stroke);
    num(b, ws, r, C_MAXFORCE, t->max_force);
    num(b, ws, r, C_PLC_F, t->force_at_target);
    num(b, ws, r, C_PLC_S, t->ring_stiffness);
    num(b, ws, r, C_PLC_SN, t->sn_class >= 0 ? t->sn_class : NAN);
    boolean(b, ws, r, C_PLC_PASSED, t->plc_passed);
    text(b, ws, r, C_METHOD, t->method);
    num(b, ws, r, C_F, t->force_at_target_calc);
    num(b, ws, r, C_S, t->ring_stiffness_calc);
    num(b, ws, r, C_SN, t->sn_class_calc >= 0 ? t->sn_class_calc : NAN);
    boolean(b, ws, r, C_PASSED, t->passed);
    boolean(b, ws, r, C_MISMATCH, t->mismatch);
    num(b, ws, r, C_NPOINTS, t->npoints >= 0 ? (double)t->npoints : NAN);
    text(b, ws, r, C_SHA, t->points_sha256);
}

static void sheet_name(int n, char *buf, size_t size)
{
    if (n == 1)
        snprintf(buf, size, "Points");
    else
        snprintf(buf, size, "Points %d", n);
}

/* The next points sheet, with its header row. */
static bool points_sheet(book *b)
{
    char name[32];
    sheet_name(b->sheets + 1, name, sizeof(name));
    lxw_worksheet *ws = workbook_add_worksheet(b->wb, name);
    if (!ws) {
        check(b, LXW_ERROR_CREATING_TMPFILE, "adding a points sheet");
        return false;
    }
    b->points = ws;
    b->sheets++;
    b->point_row = 1;
    header_row(b, ws, point_cols, 5);
    return b->lerr == LXW_NO_ERROR;
}

/* Notes the row of a chart point: a new range on each sheet. */
static void chart_row(book *b, lxw_row_t r)
{
    range *last = b->nranges ? &b->chart[b->nranges - 1] : NULL;
    if (last && last->sheet == b->sheets) {
        last->last = r;
    } else if (b->nranges < CHART_RANGES) {
        b->chart[b->nranges++] = (range){b->sheets, r, r};
    }
}

/* gw_store_point_fn: one point as a row. */
static void put_point(void *ud, const gw_test_point *p)
{
    book *b = ud;
    if (b->lerr != LXW_NO_ERROR)
        return;
    if (b->point_row >= b->rows_max && !points_sheet(b))
        return;
    lxw_row_t r = b->point_row++;
    lxw_worksheet *ws = b->points;
    num(b, ws, r, 0, (double)b->test_id);
    num(b, ws, r, 1, p->t_s);
    num(b, ws, r, 2, p->force_kN);
    num(b, ws, r, 3, p->deflection_mm);
    num(b, ws, r, 4, p->position_mm);
    if (b->charting)
        chart_row(b, r);
}

/* The scatter chart of the first test's points: on Tests below its row
 * when it is the only test, else on a sheet of its own. */
static void chart(book *b, int64_t test_id, lxw_row_t ntests)
{
    if (!b->nranges)
        return;
    lxw_chart *c = workbook_add_chart(b->wb, LXW_CHART_SCATTER_STRAIGHT);
    if (!c) {
        check(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "adding the chart");
        return;
    }
    for (size_t i = 0; i < b->nranges; i++) {
        char name[32];
        sheet_name(b->chart[i].sheet, name, sizeof(name));
        lxw_chart_series *s = chart_add_series(c, NULL, NULL);
        if (!s) {
            check(b, LXW_ERROR_MEMORY_MALLOC_FAILED, "adding the chart's series");
            return;
        }
        chart_series_set_categories(s, name, b->chart[i].first, 3, b->chart[i].last, 3);
        chart_series_set_values(s, name, b->chart[i].first, 2, b->chart[i].last, 2);
        chart_series_set_marker_type(s, LXW_CHART_MARKER_NONE);
    }
    char title[64];
    snprintf(title, sizeof(title), "Test %" PRId64 ": force over deflection", test_id);
    chart_title_set_name(c, title);
    chart_axis_set_name(c->x_axis, "Deflection (mm)");
    chart_axis_set_name(c->y_axis, "Force (kN)");
    chart_legend_set_position(c, LXW_CHART_LEGEND_NONE);
    lxw_chart_options opt = {.x_scale = 1.5, .y_scale = 1.5};
    lxw_worksheet *ws = b->tests;
    lxw_row_t row = 3;
    if (ntests != 1) {
        ws = workbook_add_worksheet(b->wb, "Chart");
        row = 2;
        if (!ws) {
            check(b, LXW_ERROR_CREATING_TMPFILE, "adding the chart's sheet");
            return;
        }
        /* a sheet with no cell at all would keep its temporary file open
         * after workbook_close (libxlsxwriter 1.1.4, constant memory) */
        check(b, worksheet_write_string(ws, 0, 0, title, b->head), "writing the chart's title");
    }
    check(b, worksheet_insert_chart_opt(ws, row, 1, c, &opt), "inserting the chart");
}

/* Writes every test (and its points) into the workbook. */
static gw_err fill(book *b, const gw_report_tests *src, bool with_points, bool one_test,
                   gw_error *err)
{
    gw_test t;
    int64_t first_id = 0;
    while (b->lerr == LXW_NO_ERROR && src->next(src->ud, &t)) {
        if (b->test_row >= b->rows_max)
            return gw_error_set(err, GW_E_RANGE, "XLSX export: more than %u tests, Excel's "
                                "limit for one sheet; export fewer", (unsigned)b->rows_max - 1);
        bool first = b->test_row == 1;
        if (first)
            first_id = t.id;
        put_test(b, &t);
        if (!with_points || b->lerr != LXW_NO_ERROR)
            continue;
        b->test_id = t.id;
        b->charting = one_test && first;
        gw_err rc = src->points(src->ud, t.id, put_point, b, err);
        b->charting = false;
        if (rc != GW_OK)
            return rc;
    }
    if (one_test && b->lerr == LXW_NO_ERROR)
        chart(b, first_id, b->test_row - 1);
    return GW_OK;
}

static gw_err lxw_fail(lxw_error e, const char *what, gw_error *err)
{
    return gw_error_set(err, GW_E_IO, "XLSX export: %s: %s", what, lxw_strerror(e));
}

/* Opens the workbook on path with its sheets and header rows. */
static gw_err open_book(book *b, const char *path, char *tmpdir, const gw_report_lab *lab,
                        bool with_points, gw_error *err)
{
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = tmpdir};
    b->wb = workbook_new_opt(path, &opt);
    if (!b->wb)
        return gw_error_set(err, GW_E_NOMEM, "XLSX export: could not create the workbook");
    char company[256];
    report__clean(lab && lab->name ? lab->name : "", false, company, sizeof(company));
    lxw_doc_properties props = {.title = "Ring stiffness tests", .author = "plcgw " GW_VERSION,
                                .company = company[0] ? company : NULL};
    check(b, workbook_set_properties(b->wb, &props), "setting the properties");
    b->head = workbook_add_format(b->wb);
    b->tests = workbook_add_worksheet(b->wb, "Tests");
    if (!b->head || !b->tests)
        return lxw_fail(LXW_ERROR_CREATING_TMPFILE, "adding the Tests sheet", err);
    format_set_bold(b->head);
    format_set_bottom(b->head, LXW_BORDER_THIN);
    header_row(b, b->tests, test_cols, C__COUNT);
    b->test_row = 1;
    if (with_points)
        points_sheet(b);
    return b->lerr ? lxw_fail(b->lerr, b->what, err) : GW_OK;
}

/* Drops a workbook that is not to be written. lxw_workbook_free (1.1.4)
 * leaves each sheet's constant-memory temporary file open: closed here
 * (they are unlinked already), and set to NULL in case a later version
 * closes them itself. */
static void discard_book(lxw_workbook *wb)
{
    if (!wb)
        return;
    lxw_worksheet *ws;
    LXW_FOREACH_WORKSHEET(ws, wb) {
        if (ws->optimize_tmpfile) {
            fclose(ws->optimize_tmpfile);
            ws->optimize_tmpfile = NULL;
        }
    }
    lxw_workbook_free(wb);
}

static gw_err stream_file(const char *path, gw_report_sink sink, void *ud, gw_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        gw_error_set(err, GW_E_IO, "XLSX export: cannot read back %s: %s", path, strerror(e));
        if (err)
            err->sys_errno = e;
        return GW_E_IO;
    }
    unsigned char *buf = gw_malloc(CHUNK);
    gw_err rc = buf ? GW_OK : gw_error_set(err, GW_E_NOMEM, "XLSX export: out of memory");
    uint64_t sent = 0;
    size_t n;
    while (rc == GW_OK && (n = fread(buf, 1, CHUNK, f)) > 0) {
        if (!sink(ud, buf, n))
            rc = gw_error_set(err, GW_E_IO, "XLSX export: the reader stopped taking it after "
                              "%" PRIu64 " bytes", sent);
        sent += n;
    }
    if (rc == GW_OK && ferror(f))
        rc = gw_error_set(err, GW_E_IO, "XLSX export: reading back %s failed", path);
    gw_free(buf);
    fclose(f);
    return rc;
}

gw_err report__xlsx(const gw_report_lab *lab, const gw_report_tests *src, bool with_points,
                    bool one_test, const char *tmpdir, uint32_t rows_max, gw_report_sink sink,
                    void *ud, gw_error *err)
{
    if (!src || !src->next || (with_points && !src->points) || !sink || rows_max < 2)
        return gw_error_set(err, GW_E_INVAL, "XLSX export: no tests or sink given");
    if (!tmpdir || !tmpdir[0])
        tmpdir = getenv("TMPDIR");
    if (!tmpdir || !tmpdir[0])
        tmpdir = "/tmp";
    char dir[4096], path[4096 + 64];
    int len = snprintf(path, sizeof(path), "%s/plcgw-export-XXXXXX.xlsx", tmpdir);
    if (len < 0 || (size_t)len >= sizeof(path) || strlen(tmpdir) >= sizeof(dir))
        return gw_error_set(err, GW_E_INVAL, "XLSX export: temporary directory name too long");
    snprintf(dir, sizeof(dir), "%s", tmpdir);
    int fd = mkstemps(path, 5);
    if (fd < 0) {
        int e = errno;
        gw_error_set(err, GW_E_IO, "XLSX export: cannot create a temporary file in %s: %s",
                     tmpdir, strerror(e));
        if (err)
            err->sys_errno = e;
        return GW_E_IO;
    }
    close(fd);
    book b = {.rows_max = rows_max};
    gw_err rc = open_book(&b, path, dir, lab, with_points, err);
    if (rc == GW_OK)
        rc = fill(&b, src, with_points, one_test, err);
    if (rc == GW_OK && b.lerr)
        rc = lxw_fail(b.lerr, b.what, err);
    if (rc != GW_OK) {
        discard_book(b.wb); /* not written out */
    } else {
        lxw_error e = workbook_close(b.wb);
        rc = e ? lxw_fail(e, "writing the workbook", err) : stream_file(path, sink, ud, err);
    }
    unlink(path);
    return rc;
}

gw_err gw_report_xlsx(const gw_report_lab *lab, const gw_report_tests *src, bool with_points,
                      bool one_test, const char *tmpdir, gw_report_sink sink, void *ud,
                      gw_error *err)
{
    return report__xlsx(lab, src, with_points, one_test, tmpdir, LXW_ROW_MAX, sink, ud, err);
}
