/*
 * report.h - a ring-stiffness test filed as a document: PDF (cairo +
 * pango, A4), XLSX (libxlsxwriter, constant memory) and CSV of its points.
 *
 * No web and no database in here: the caller hands the tests and their
 * points in, and every document goes out through a sink as it is made, so
 * that a server streams it to its client. Units as history.h: kN, mm, s,
 * mm/min, kN/m²; SN classes by their nominal names (N/m²).
 *
 * Threads: every function may run on any thread, several at once.
 */
#ifndef GW_REPORT_H
#define GW_REPORT_H

#include "store/history.h"

/* Where a document's bytes go, in order; a sink that fails (the client
 * went away) returns false and the document stops with GW_E_IO. */
typedef bool (*gw_report_sink)(void *ud, const void *data, size_t len);

/* The lab's header on every report. */
typedef struct {
    const char *name;         /* "GRP Test Laboratory"; NULL/"" = "plcgw" */
    const char *logo_path;    /* a PNG file; NULL/"" = none (an unreadable
                                 one is left out, never an error) */
} gw_report_lab;

/* A series of pieces of one pipe (ISO 9969 tests three, turned 120°). */
typedef struct {
    int64_t id;
    size_t ntests;            /* tests in it with a computed S */
    double mean_ring_stiffness_calc;  /* kN/m², mean of our S */
    double mean_ring_stiffness;       /* kN/m², mean of the PLC's S (NAN if any unknown) */
    int sn_class;             /* the class the mean reaches, 0 none */
} gw_report_series;

/* ---------------------------------------------------------------- CSV */

/* The points as CSV, the one text that points.csv serves and that the
 * report's SHA-256 is of:
 *
 *   t_s,force_kN,deflection_mm,position_mm\r\n
 *   0.0,0.012,0.0,16.7\r\n
 *   0.5,-0.003,1e-07,\r\n ...
 *
 * numbers as gw_json_format_real prints them (the shortest of %.15g,
 * %.16g, %.17g that reads back as the same double, ".0" after an
 * integral one), a value that is not a finite number (an unknown
 * position: NAN) empty. header: the first line into buf; line: one point
 * into buf (GW_REPORT_CSV_LINE bytes always suffice). Both return the
 * length, NUL-terminated; 0 (and "") when size is too small. */
#define GW_REPORT_CSV_LINE 128
size_t gw_report_csv_header(char *buf, size_t size);
size_t gw_report_csv_line(const gw_test_point *p, char *buf, size_t size);

/* SHA-256 (lowercase hex) of the CSV of the points, computed
 * incrementally: init (hashes the header line), one call per point,
 * final. Equal to `sha256sum` of the CSV text. */
typedef struct {
    _Alignas(16) unsigned char state[256]; /* crypto_hash_sha256_state, opaque here */
} gw_report_digest;
void gw_report_digest_init(gw_report_digest *d);      /* hashes the header line */
void gw_report_digest_point(gw_report_digest *d, const gw_test_point *p);
void gw_report_digest_final(gw_report_digest *d, char hex[65]);

/* ---------------------------------------------------------------- PDF */

/* One test's report, one A4 portrait page: the lab header (name, logo),
 * the specimen and its parameters, the results table (the PLC's value and
 * our independent value side by side, with units), the force-deflection
 * curve as a vector chart (axes, grid, the target deflection line),
 * pass/fail, operator, date, the standard, any flag (mismatch, aborted,
 * interrupted with the reason), the series (when series is not NULL) and
 * the SHA-256 of the points (of their CSV: `curl .../points.csv |
 * sha256sum` checks a filed report against the database). The SHA-256 is
 * computed from pts; when the test's points_sha256 or npoints differ, the
 * footer shows both and a warning.
 *
 * lab may be NULL, series may be NULL, pts may be NULL when npts is 0.
 * Texts of the test are shown as they are (never as markup), long ones
 * wrapped and cut with an ellipsis. The same test gives the same bytes
 * (the document's date is the test's).
 *
 * GW_OK; GW_E_INVAL (no test or sink); GW_E_IO when the sink failed (it is
 * not called again after it returned false) or cairo could not write;
 * GW_E_NOMEM. */
gw_err gw_report_pdf(const gw_report_lab *lab, const gw_test *t, const gw_test_point *pts,
                     size_t npts, const gw_report_series *series, gw_report_sink sink,
                     void *ud, gw_error *err);

/* ---------------------------------------------------------------- XLSX */

/* The tests of an export, pulled one by one. */
typedef struct {
    /* The next test into *t; false at the end. */
    bool (*next)(void *ud, gw_test *t);
    /* Each point of test id, in order, through fn. */
    gw_err (*points)(void *ud, int64_t test_id, gw_store_point_fn fn, void *fn_ud,
                     gw_error *err);
    void *ud;
} gw_report_tests;

/* A workbook in constant memory: sheet "Tests" (one row per test, every
 * column with its unit; unknown numbers blank), sheet "Points" (test_id,
 * t_s, force_kN, deflection_mm, position_mm for every test's points, when
 * with_points); with one_test (the export of a single test), the points
 * sheet has that test's points and a native Excel scatter chart of force
 * over deflection (on "Tests" below the row; on a sheet "Chart" when more
 * than one test came: it shows the first). Excel has 1,048,576 rows a
 * sheet: the points go on in "Points 2", "Points 3", ... (each with its
 * header row). Written to a temporary file in tmpdir (NULL or "":
 * $TMPDIR, else /tmp), streamed to sink in 64 KiB pieces, and removed,
 * also on error. lab may be NULL (its name goes into the properties).
 *
 * GW_OK; GW_E_INVAL (no source or sink); GW_E_RANGE (more than 1,048,575
 * tests); GW_E_IO when the temporary file cannot be made or written
 * (libxlsxwriter's message in err) or the sink failed; GW_E_NOMEM; or
 * what src->points returned. */
gw_err gw_report_xlsx(const gw_report_lab *lab, const gw_report_tests *src, bool with_points,
                      bool one_test, const char *tmpdir, gw_report_sink sink, void *ud,
                      gw_error *err);

#endif
