/*
 * report_internal.h - what pdf.c and chart.c share (and the unit tests
 * reach): one page being drawn, its text helpers and number formats, the
 * chart, and the tick rule. Not part of the API.
 */
#ifndef GW_REPORT_INTERNAL_H
#define GW_REPORT_INTERNAL_H

#include "report.h"

#include <cairo.h>
#include <pango/pangocairo.h>

/* The fonts of a page; all DejaVu Sans (fonts-dejavu-core), sizes in pt. */
typedef enum {
    REPORT_FONT_BODY,
    REPORT_FONT_BOLD,
    REPORT_FONT_SMALL,
    REPORT_FONT_SMALL_BOLD,
    REPORT_FONT_HEAD,
    REPORT_FONT_TITLE,
    REPORT_FONT_LAB,
    REPORT_FONT_MONO,
    REPORT_FONT__COUNT
} report__font;

/* One page being drawn: its cairo context and one pango layout that every
 * text reuses (made per call of gw_report_pdf; nothing is shared between
 * threads). Units are PDF points, y downwards. */
typedef struct {
    cairo_t *cr;
    PangoLayout *layout;
    PangoFontDescription *font[REPORT_FONT__COUNT];
} report__page;

/* Colours as r, g, b in 0..1. */
typedef struct {
    double r, g, b;
} report__rgb;

extern const report__rgb report__ink, report__muted, report__accent, report__rule,
    report__fill, report__good, report__bad, report__warn;

void report__color(report__page *pg, report__rgb c);

/* Draws text (UTF-8, shown as it is: never markup) in the box at (x, y)
 * of width w, wrapped at words (or inside a word too long for a line),
 * at most max_lines lines with an ellipsis after the last (max_lines 1:
 * one line). Returns the height drawn. When draw is false, only measures. */
double report__text(report__page *pg, report__font f, double x, double y, double w,
                    PangoAlignment align, int max_lines, const char *text, bool draw);

/* User text made safe to lay out: ill-formed UTF-8 replaced (U+FFFD),
 * control characters turned into spaces (newlines kept when
 * keep_newlines). */
void report__clean(const char *in, bool keep_newlines, char *out, size_t size);

/* v with sig significant digits in fixed notation ("5.86", "0.589",
 * "315"; exponent form outside 1e-6..1e9), trailing zeros dropped when
 * trim; "—" when not finite. */
void report__num(double v, int sig, bool trim, char *buf, size_t size);

/* The tick step for a span: 1, 2 or 5 times a power of ten, so that the
 * span has about `ticks` steps (at most 2 * ticks). 0 when span is not a
 * positive finite number. */
double report__tick_step(double span, int ticks);
/* A tick's label: as many decimals as the step needs ("0.25" for step
 * 0.05 gives "0.25"), exponent form for huge or tiny steps. */
void report__tick_label(double v, double step, char *buf, size_t size);

/* The target deflection y: the computed one, else the PLC's d * pct /
 * 100; NAN when neither is known. */
double report__target(const gw_test *t);

/* The force-deflection chart of the points in the box (x, y, w, h): axes
 * with ticks and units, grid, the curve as one path (non-finite points
 * left out), the target deflection as a dashed line with its label and
 * the force at it as a marker; "no points recorded" when there are none. */
void report__chart(report__page *pg, const gw_test *t, const gw_test_point *pts, size_t n,
                   double x, double y, double w, double h);

/* gw_report_xlsx with rows_max rows per sheet (header included) instead
 * of Excel's 1,048,576: the tests reach the "Points 2" rollover with a
 * few points. */
gw_err report__xlsx(const gw_report_lab *lab, const gw_report_tests *src, bool with_points,
                    bool one_test, const char *tmpdir, uint32_t rows_max, gw_report_sink sink,
                    void *ud, gw_error *err);

#endif
