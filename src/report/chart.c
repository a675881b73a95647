/*
 * chart.c - the force-deflection curve of a report as a vector chart.
 *
 * Axes take 1, 2 or 5 times a power of ten as their tick step and start
 * and end on a tick; both include 0, the target deflection and the force
 * at it, so that the origin and the marker are always on the chart. The
 * curve is one path in page coordinates (no cairo scaling, so that line
 * widths stay as set); points that are not finite are left out, and a
 * point that lands within 0.05 pt of the last one drawn is skipped, which
 * is invisible and keeps a long recording's path short.
 */
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_TICKS 40          /* a bound on every tick loop */
#define SAME_PT 0.05          /* pt: closer points are not drawn again */

static const report__rgb curve_rgb = {0.08, 0.30, 0.62};
static const report__rgb grid_rgb = {0.86, 0.88, 0.91};
static const report__rgb target_rgb = {0.85, 0.42, 0.05};
static const report__rgb marker_rgb = {0.75, 0.10, 0.12};

typedef struct {
    double lo, hi, step;
} axis;

/* Page coordinates of the plot area and its axes. */
typedef struct {
    double x0, x1, y0, y1;    /* left, right, top, bottom */
    axis xa, ya;
} plot;

double report__tick_step(double span, int ticks)
{
    if (!isfinite(span) || span <= 0 || ticks < 1)
        return 0;
    double raw = span / ticks;
    double mag = pow(10, floor(log10(raw)));
    if (!(mag > 0) || !isfinite(mag))
        return 0;
    double f = raw / mag;
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    double step = nice * mag;
    return isfinite(step) && step > 0 ? step : 0;
}

void report__tick_label(double v, double step, char *buf, size_t size)
{
    if (fabs(v) < step * 1e-6)
        v = 0; /* no "-0" from a sum of steps */
    if (step < 1e-4 || step >= 1e7 || fabs(v) >= 1e9) {
        snprintf(buf, size, "%g", v);
        return;
    }
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, size, "%.*f", decimals, v);
}

/* An axis over lo..hi with about `ticks` steps; false when the span is
 * not representable (values near DBL_MAX of both signs). */
static bool axis_fit(axis *a, double lo, double hi, int ticks)
{
    if (!(hi >= lo))
        return false;
    if (hi == lo) {
        double m = lo == 0 ? 1 : fabs(lo) * 0.5;
        lo -= m;
        hi += m;
    }
    double step = report__tick_step(hi - lo, ticks);
    if (step == 0)
        return false;
    /* a little below 0 (a load cell's noise at the start) is shown as a
     * sliver, not as a whole step */
    a->lo = lo < 0 && lo > -0.05 * hi ? lo : floor(lo / step) * step;
    a->hi = ceil(hi / step) * step;
    a->step = step;
    return isfinite(a->lo) && isfinite(a->hi) && isfinite(a->hi - a->lo) && a->hi > a->lo;
}

static double px(const plot *p, double v)
{
    return p->x0 + (v - p->xa.lo) / (p->xa.hi - p->xa.lo) * (p->x1 - p->x0);
}

static double py(const plot *p, double v)
{
    return p->y1 - (v - p->ya.lo) / (p->ya.hi - p->ya.lo) * (p->y1 - p->y0);
}

double report__target(const gw_test *t)
{
    if (isfinite(t->target_deflection) && t->target_deflection > 0)
        return t->target_deflection;
    double y = t->pipe_diameter * t->deflection_percent / 100.0;
    return isfinite(y) && y > 0 ? y : NAN;
}

/* Data ranges of the finite points, with 0, the target and the forces at
 * it; the number of finite points. */
static size_t data_range(const gw_test *t, const gw_test_point *pts, size_t n, double xr[2],
                         double yr[2])
{
    size_t finite = 0;
    xr[0] = xr[1] = yr[0] = yr[1] = 0;
    for (size_t i = 0; i < n; i++) {
        double x = pts[i].deflection_mm, y = pts[i].force_kN;
        if (!isfinite(x) || !isfinite(y))
            continue;
        finite++;
        xr[0] = fmin(xr[0], x), xr[1] = fmax(xr[1], x);
        yr[0] = fmin(yr[0], y), yr[1] = fmax(yr[1], y);
    }
    double yt = report__target(t);
    if (isfinite(yt))
        xr[1] = fmax(xr[1], yt);
    const double forces[2] = {t->force_at_target_calc, t->force_at_target};
    for (int i = 0; i < 2; i++)
        if (isfinite(forces[i]))
            yr[0] = fmin(yr[0], forces[i]), yr[1] = fmax(yr[1], forces[i]);
    return finite;
}

static void note(report__page *pg, double x, double y, double w, double h, const char *text)
{
    cairo_t *cr = pg->cr;
    report__color(pg, report__rule);
    cairo_set_line_width(cr, 0.8);
    cairo_rectangle(cr, x, y, w, h);
    cairo_stroke(cr);
    report__color(pg, report__muted);
    double th = report__text(pg, REPORT_FONT_BODY, x, 0, w, PANGO_ALIGN_CENTER, 1, text, false);
    report__text(pg, REPORT_FONT_BODY, x, y + (h - th) / 2, w, PANGO_ALIGN_CENTER, 1, text,
                 true);
}

/* Grid, frame, tick labels and the axis titles. */
static void axes(report__page *pg, const plot *p, double lh)
{
    cairo_t *cr = pg->cr;
    char label[48];
    cairo_set_line_width(cr, 0.4);
    report__color(pg, grid_rgb);
    double x0 = ceil(p->xa.lo / p->xa.step - 1e-9) * p->xa.step;
    for (int k = 0; k <= MAX_TICKS; k++) {
        double v = x0 + k * p->xa.step;
        if (v > p->xa.hi + p->xa.step * 1e-6)
            break;
        double x = px(p, v);
        cairo_move_to(cr, x, p->y0);
        cairo_line_to(cr, x, p->y1);
        cairo_stroke(cr);
        report__tick_label(v, p->xa.step, label, sizeof(label));
        report__color(pg, report__muted);
        report__text(pg, REPORT_FONT_SMALL, x - 30, p->y1 + 3, 60, PANGO_ALIGN_CENTER, 1, label,
                     true);
        report__color(pg, grid_rgb);
    }
    double y0 = ceil(p->ya.lo / p->ya.step - 1e-9) * p->ya.step;
    for (int k = 0; k <= MAX_TICKS; k++) {
        double v = y0 + k * p->ya.step;
        if (v > p->ya.hi + p->ya.step * 1e-6)
            break;
        double y = py(p, v);
        cairo_move_to(cr, p->x0, y);
        cairo_line_to(cr, p->x1, y);
        cairo_stroke(cr);
        report__tick_label(v, p->ya.step, label, sizeof(label));
        report__color(pg, report__muted);
        report__text(pg, REPORT_FONT_SMALL, p->x0 - 42, y - lh / 2, 38, PANGO_ALIGN_RIGHT, 1,
                     label, true);
        report__color(pg, grid_rgb);
    }
    report__color(pg, report__ink);
    cairo_set_line_width(cr, 0.8);
    cairo_rectangle(cr, p->x0, p->y0, p->x1 - p->x0, p->y1 - p->y0);
    cairo_stroke(cr);
    report__text(pg, REPORT_FONT_SMALL_BOLD, p->x0, p->y1 + 4 + lh, p->x1 - p->x0,
                 PANGO_ALIGN_CENTER, 1, "Deflection (mm)", true);
    /* the y title reads upwards, left of the tick labels */
    cairo_save(cr);
    cairo_translate(cr, p->x0 - 44 - lh - 1, p->y1);
    cairo_rotate(cr, -M_PI / 2);
    pango_cairo_update_layout(cr, pg->layout);
    report__text(pg, REPORT_FONT_SMALL_BOLD, 0, 0, p->y1 - p->y0, PANGO_ALIGN_CENTER, 1,
                 "Force (kN)", true);
    cairo_restore(cr);
    pango_cairo_update_layout(cr, pg->layout);
}

static void curve(report__page *pg, const plot *p, const gw_test_point *pts, size_t n,
                  size_t finite)
{
    cairo_t *cr = pg->cr;
    cairo_save(cr);
    cairo_rectangle(cr, p->x0 - 2, p->y0 - 2, p->x1 - p->x0 + 4, p->y1 - p->y0 + 4);
    cairo_clip(cr);
    report__color(pg, curve_rgb);
    cairo_set_line_width(cr, 1.1);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    bool started = false;
    double lx = 0, ly = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(pts[i].deflection_mm) || !isfinite(pts[i].force_kN))
            continue;
        double x = px(p, pts[i].deflection_mm), y = py(p, pts[i].force_kN);
        if (!started) {
            cairo_move_to(cr, x, y);
            if (finite == 1) { /* one point: a dot */
                cairo_new_sub_path(cr);
                cairo_arc(cr, x, y, 1.6, 0, 2 * M_PI);
            }
            started = true;
        } else if (fabs(x - lx) < SAME_PT && fabs(y - ly) < SAME_PT) {
            continue;
        } else {
            cairo_line_to(cr, x, y);
        }
        lx = x, ly = y;
    }
    if (finite == 1)
        cairo_fill(cr);
    else
        cairo_stroke(cr);
    cairo_restore(cr);
}

static void diamond(cairo_t *cr, double x, double y, double r)
{
    cairo_move_to(cr, x, y - r);
    cairo_line_to(cr, x + r, y);
    cairo_line_to(cr, x, y + r);
    cairo_line_to(cr, x - r, y);
    cairo_close_path(cr);
}

/* The dashed line at the target deflection, its label, and the forces at
 * it: ours as a filled dot, the PLC's as an open diamond. */
static void target(report__page *pg, const plot *p, const gw_test *t, double lh)
{
    cairo_t *cr = pg->cr;
    double yt = report__target(t);
    if (!isfinite(yt))
        return;
    char num[48], label[80];
    double x = px(p, yt);
    const double dash[2] = {4, 3};
    cairo_save(cr);
    report__color(pg, target_rgb);
    cairo_set_line_width(cr, 1.0);
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, x, p->y0);
    cairo_line_to(cr, x, p->y1);
    cairo_stroke(cr);
    cairo_restore(cr);
    /* labels where a rising curve is not: the target's at the foot of
     * its line, the force's below right of the marker (above left when
     * the line is too near the right edge) */
    report__num(yt, 4, true, num, sizeof(num));
    snprintf(label, sizeof(label), "y = %s mm", num);
    double lw = 80;
    bool right = x + 6 + lw <= p->x1;
    report__color(pg, target_rgb);
    report__text(pg, REPORT_FONT_SMALL_BOLD, right ? x + 4 : x - 4 - lw, p->y1 - lh - 3, lw,
                 right ? PANGO_ALIGN_LEFT : PANGO_ALIGN_RIGHT, 1, label, true);
    double plc = t->force_at_target, ours = t->force_at_target_calc;
    if (isfinite(plc)) {
        report__color(pg, report__ink);
        cairo_set_line_width(cr, 1.0);
        diamond(cr, x, py(p, plc), 4.2);
        cairo_stroke(cr);
    }
    double f = isfinite(ours) ? ours : plc;
    if (!isfinite(f))
        return;
    if (isfinite(ours)) {
        report__color(pg, marker_rgb);
        cairo_arc(cr, x, py(p, ours), 2.8, 0, 2 * M_PI);
        cairo_fill(cr);
    }
    report__num(f, 3, false, num, sizeof(num));
    snprintf(label, sizeof(label), "F = %s kN", num);
    report__color(pg, report__ink);
    double fy = right ? py(p, f) + 4 : py(p, f) - 4 - lh;
    fy = fmax(p->y0 + 2, fmin(fy, p->y1 - 2 * lh - 6));
    report__text(pg, REPORT_FONT_SMALL_BOLD, right ? x + 6 : x - 6 - lw, fy, lw,
                 right ? PANGO_ALIGN_LEFT : PANGO_ALIGN_RIGHT, 1, label, true);
}

/* The legend, right-aligned in the row at y: line, dot, diamond. */
static void legend(report__page *pg, double x1, double y, double lh)
{
    cairo_t *cr = pg->cr;
    const char *items[3] = {"recorded curve", "independent F at y", "PLC F at y"};
    double w[3];
    for (int i = 0; i < 3; i++) {
        PangoRectangle ink, log;
        report__text(pg, REPORT_FONT_SMALL, 0, 0, 200, PANGO_ALIGN_LEFT, 1, items[i], false);
        pango_layout_get_extents(pg->layout, &ink, &log);
        w[i] = (double)log.width / PANGO_SCALE;
    }
    double x = x1;
    for (int i = 2; i >= 0; i--) {
        x -= w[i];
        report__color(pg, report__muted);
        report__text(pg, REPORT_FONT_SMALL, x, y, w[i] + 1, PANGO_ALIGN_LEFT, 1, items[i], true);
        double cy = y + lh / 2;
        if (i == 0) {
            report__color(pg, curve_rgb);
            cairo_set_line_width(cr, 1.1);
            cairo_move_to(cr, x - 24, cy);
            cairo_line_to(cr, x - 6, cy);
            cairo_stroke(cr);
            x -= 24;
        } else if (i == 1) {
            report__color(pg, marker_rgb);
            cairo_arc(cr, x - 8, cy, 2.8, 0, 2 * M_PI);
            cairo_fill(cr);
            x -= 12;
        } else {
            report__color(pg, report__ink);
            cairo_set_line_width(cr, 1.0);
            diamond(cr, x - 10, cy, 4.2);
            cairo_stroke(cr);
            x -= 15;
        }
        x -= 14;
    }
}

void report__chart(report__page *pg, const gw_test *t, const gw_test_point *pts, size_t n,
                   double x, double y, double w, double h)
{
    double lh = report__text(pg, REPORT_FONT_SMALL, 0, 0, 100, PANGO_ALIGN_LEFT, 1, "0", false);
    double xr[2], yr[2];
    size_t finite = data_range(t, pts, n, xr, yr);
    if (n == 0 || finite == 0) {
        note(pg, x, y, w, h, n == 0 ? "no points recorded" : "no plottable points recorded");
        return;
    }
    plot p = {.x0 = x + 10 + lh + 44, .x1 = x + w - 6, .y0 = y + lh + 8,
              .y1 = y + h - 2 * lh - 10};
    /* a step for about every 50 pt across and 26 pt up (the 1-2-5 rule
     * then makes them 1 to 2.5 times that) */
    int xt = (int)fmax(2, (p.x1 - p.x0) / 50), yt = (int)fmax(2, (p.y1 - p.y0) / 26);
    double top = isfinite(yr[1] * 1.04) ? yr[1] * 1.04 : yr[1]; /* headroom */
    if (p.y1 - p.y0 < 20) {
        note(pg, x, y, w, h, "no room for the chart on this page");
        return;
    }
    if (!axis_fit(&p.xa, xr[0], xr[1], xt) || !axis_fit(&p.ya, yr[0], top, yt)) {
        note(pg, x, y, w, h, "the points are out of the chart's range");
        return;
    }
    legend(pg, p.x1, y, lh);
    axes(pg, &p, lh);
    curve(pg, &p, pts, n, finite);
    target(pg, &p, t, lh);
}
