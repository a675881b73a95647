/*
 * pdf.c - one test's report as a one-page A4 PDF (cairo's PDF surface,
 * text by pango with DejaVu Sans).
 *
 * The page, top to bottom: the lab's header (name, logo), the title, the
 * flags (mismatch, aborted, interrupted, running), the test and the
 * specimen side by side, the results (the PLC's and ours), the series,
 * the force-deflection chart (chart.c), the notes and the footer with the
 * SHA-256 of the points. Everything but the chart has a bounded height
 * (user text is ellipsized after a few lines and clipped to its box), so
 * the chart takes what is left and the report is always one page.
 *
 * User data (sample id, operator, notes, reasons) is laid out with
 * pango_layout_set_text, never as markup, after report__clean: no text
 * from a test can change the formatting or break the layout.
 *
 * The bytes go to the sink as cairo writes them; a failing sink makes
 * cairo stop (CAIRO_STATUS_WRITE_ERROR) and the call return GW_E_IO.
 * Every cairo and pango object is made and freed within the call, so
 * reports render on several threads at once (pango's default font map is
 * per thread).
 */
#include "report_internal.h"

#include <cairo-pdf.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* A4 portrait in PostScript points (ISO 216: 210 x 297 mm). */
#define PAGE_W 595.276
#define PAGE_H 841.89
#define MARGIN 42.0
#define CONTENT_W (PAGE_W - 2 * MARGIN)
#define DASH "\xe2\x80\x94" /* U+2014, what an unknown value shows */

const report__rgb report__ink = {0.13, 0.13, 0.15}, report__muted = {0.38, 0.40, 0.44},
                  report__accent = {0.10, 0.22, 0.38}, report__rule = {0.74, 0.77, 0.81},
                  report__fill = {0.92, 0.94, 0.96}, report__good = {0.07, 0.45, 0.20},
                  report__bad = {0.72, 0.09, 0.09}, report__warn = {0.72, 0.42, 0.00};

static const char *const font_names[REPORT_FONT__COUNT] = {
    [REPORT_FONT_BODY] = "DejaVu Sans 8.5",
    [REPORT_FONT_BOLD] = "DejaVu Sans Bold 8.5",
    [REPORT_FONT_SMALL] = "DejaVu Sans 7",
    [REPORT_FONT_SMALL_BOLD] = "DejaVu Sans Bold 7",
    [REPORT_FONT_HEAD] = "DejaVu Sans Bold 10",
    [REPORT_FONT_TITLE] = "DejaVu Sans Bold 17",
    [REPORT_FONT_LAB] = "DejaVu Sans Bold 12",
    [REPORT_FONT_MONO] = "DejaVu Sans Mono 6.5",
};

/* ------------------------------------------------------------ helpers */

void report__color(report__page *pg, report__rgb c)
{
    cairo_set_source_rgb(pg->cr, c.r, c.g, c.b);
}

double report__text(report__page *pg, report__font f, double x, double y, double w,
                    PangoAlignment align, int max_lines, const char *text, bool draw)
{
    PangoLayout *l = pg->layout;
    pango_layout_set_font_description(l, pg->font[f]);
    pango_layout_set_width(l, (int)(w * PANGO_SCALE));
    pango_layout_set_alignment(l, align);
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
    pango_layout_set_height(l, max_lines <= 1 ? -1 : -max_lines);
    pango_layout_set_text(l, text, -1);
    if (draw) {
        cairo_move_to(pg->cr, x, y);
        pango_cairo_show_layout(pg->cr, l);
        cairo_new_path(pg->cr); /* no current point left for a later arc */
    }
    int h;
    pango_layout_get_size(l, NULL, &h);
    return (double)h / PANGO_SCALE;
}

void report__clean(const char *in, bool keep_newlines, char *out, size_t size)
{
    gw_utf8_sanitize(in, strlen(in), out, size);
    for (char *p = out; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 || c == 0x7F) && !(keep_newlines && c == '\n'))
            *p = ' ';
    }
}

void report__num(double v, int sig, bool trim, char *buf, size_t size)
{
    if (!isfinite(v)) {
        snprintf(buf, size, DASH);
        return;
    }
    if (v == 0) {
        snprintf(buf, size, "0");
        return;
    }
    int mag = (int)floor(log10(fabs(v)));
    if (mag >= 9 || mag < -6) {
        snprintf(buf, size, "%.*e", sig - 1, v);
        return;
    }
    int decimals = sig - 1 - mag;
    decimals = decimals < 0 ? 0 : decimals > 9 ? 9 : decimals;
    snprintf(buf, size, "%.*f", decimals, v);
    if (trim && strchr(buf, '.')) {
        char *e = buf + strlen(buf) - 1;
        while (*e == '0')
            *e-- = '\0';
        if (*e == '.')
            *e = '\0';
    }
}

static const char *tri(int v, const char *yes, const char *no)
{
    return v == 1 ? yes : v == 0 ? no : DASH;
}

static void sn_name(int cls, char *buf, size_t size)
{
    if (cls < 0)
        snprintf(buf, size, DASH);
    else if (cls == 0)
        snprintf(buf, size, "none");
    else
        snprintf(buf, size, "SN %d", cls);
}

/* "2026-12-07T21:18:58.108Z" as "2026-12-07 21:18:58 UTC"; other text
 * as it is; "" as a dash. */
static void date_text(const char *iso, char *buf, size_t size)
{
    char clean[64];
    report__clean(iso, false, clean, sizeof(clean));
    if (!clean[0])
        snprintf(buf, size, DASH);
    else if (strlen(clean) >= 19 && clean[10] == 'T' && strchr(clean, 'Z'))
        snprintf(buf, size, "%.10s %.8s UTC", clean, clean + 11);
    else
        snprintf(buf, size, "%s", clean);
}

static void rule(report__page *pg, double x0, double x1, double y, double width,
                 report__rgb c)
{
    report__color(pg, c);
    cairo_set_line_width(pg->cr, width);
    cairo_move_to(pg->cr, x0, y);
    cairo_line_to(pg->cr, x1, y);
    cairo_stroke(pg->cr);
}

/* A section heading at y; returns the y below it. */
static double heading(report__page *pg, double x, double y, double w, const char *text)
{
    report__color(pg, report__accent);
    double h = report__text(pg, REPORT_FONT_HEAD, x, y, w, PANGO_ALIGN_LEFT, 1, text, true);
    rule(pg, x, x + w, y + h + 1.5, 0.6, report__rule);
    return y + h + 5;
}

/* ------------------------------------------------------------ tables */

typedef struct {
    double w;
    PangoAlignment align;
} column;

#define CELL_PAD 3.0

/* One row of cells (colors[i] NULL or absent: ink); header rows are
 * bold on a fill. Returns the row's height. */
static double table_row(report__page *pg, double x, double y, const column *cols, size_t n,
                        const char *const *cells, const report__rgb *const *colors,
                        bool header, int max_lines)
{
    report__font f = header ? REPORT_FONT_SMALL_BOLD : REPORT_FONT_BODY;
    double h = 0, w = 0;
    for (size_t i = 0; i < n; i++) {
        double th = report__text(pg, f, 0, 0, cols[i].w - 2 * CELL_PAD, cols[i].align,
                                 max_lines, cells[i], false);
        h = fmax(h, th);
        w += cols[i].w;
    }
    h += 2 * CELL_PAD;
    if (header) {
        report__color(pg, report__fill);
        cairo_rectangle(pg->cr, x, y, w, h);
        cairo_fill(pg->cr);
    }
    double cx = x;
    for (size_t i = 0; i < n; i++) {
        report__color(pg, colors && colors[i] ? *colors[i] : header ? report__accent
                                                                     : report__ink);
        report__text(pg, f, cx + CELL_PAD, y + CELL_PAD, cols[i].w - 2 * CELL_PAD,
                     cols[i].align, max_lines, cells[i], true);
        cx += cols[i].w;
    }
    rule(pg, x, x + w, y + h, 0.4, report__rule);
    return h;
}

/* A label: value line; the value wraps to max_lines. Returns its height. */
static double field(report__page *pg, double x, double y, double w, const char *label,
                    const char *value, int max_lines, report__rgb vc)
{
    const double lw = 78;
    report__color(pg, report__muted);
    report__text(pg, REPORT_FONT_BODY, x, y, lw - 4, PANGO_ALIGN_LEFT, 1, label, true);
    report__color(pg, vc);
    double h = report__text(pg, REPORT_FONT_BOLD, x + lw, y, w - lw, PANGO_ALIGN_LEFT,
                            max_lines, value, true);
    return h + 2.5;
}

/* ------------------------------------------------------------ sections */

/* The logo scaled into the box, right-aligned; false when there is none
 * or it cannot be read (then it is left out). */
static bool logo(report__page *pg, const char *path, double x, double y, double w, double h)
{
    if (!path || !path[0])
        return false;
    cairo_surface_t *img = cairo_image_surface_create_from_png(path);
    int iw = cairo_image_surface_get_width(img), ih = cairo_image_surface_get_height(img);
    bool ok = cairo_surface_status(img) == CAIRO_STATUS_SUCCESS && iw > 0 && ih > 0;
    if (ok) {
        double s = fmin(w / iw, h / ih);
        cairo_save(pg->cr);
        cairo_translate(pg->cr, x + w - iw * s, y + (h - ih * s) / 2); /* right-aligned */
        cairo_scale(pg->cr, s, s);
        cairo_set_source_surface(pg->cr, img, 0, 0);
        cairo_pattern_set_filter(cairo_get_source(pg->cr), CAIRO_FILTER_GOOD);
        cairo_paint(pg->cr);
        cairo_restore(pg->cr);
    }
    cairo_surface_destroy(img);
    return ok;
}

static double header(report__page *pg, const gw_report_lab *lab, const gw_test *t, double y)
{
    char name[256], line[256], machine[80];
    report__clean(lab && lab->name && lab->name[0] ? lab->name : "plcgw", false, name,
                  sizeof(name));
    const double logo_w = 130, logo_h = 44;
    bool has_logo = logo(pg, lab ? lab->logo_path : NULL, MARGIN + CONTENT_W - logo_w, y,
                         logo_w, logo_h);
    report__color(pg, report__ink);
    double h = report__text(pg, REPORT_FONT_LAB, MARGIN, y, CONTENT_W - logo_w - 10,
                            PANGO_ALIGN_LEFT, 2, name, true);
    y += fmax(h, has_logo ? logo_h : 0) + 10;
    report__color(pg, report__accent);
    y += report__text(pg, REPORT_FONT_TITLE, MARGIN, y, CONTENT_W, PANGO_ALIGN_LEFT, 1,
                      "Ring stiffness test report", true);
    report__clean(t->machine_id, false, machine, sizeof(machine));
    snprintf(line, sizeof(line), "Test %" PRId64 "  \xc2\xb7  Machine %s  \xc2\xb7  %s", t->id,
             machine[0] ? machine : DASH, t->method[0] ? t->method : "method not computed");
    report__color(pg, report__muted);
    y += 1 + report__text(pg, REPORT_FONT_BODY, MARGIN, y + 1, CONTENT_W, PANGO_ALIGN_LEFT, 1,
                          line, true);
    rule(pg, MARGIN, MARGIN + CONTENT_W, y + 5, 1.4, report__accent);
    return y + 13;
}

/* A flag: a coloured box with a bold title and a wrapped detail. */
static double flag(report__page *pg, double y, report__rgb c, const char *title,
                   const char *detail)
{
    const double pad = 6, bar = 4;
    double tw = CONTENT_W - 2 * pad - bar;
    double h = report__text(pg, REPORT_FONT_BOLD, 0, 0, tw, PANGO_ALIGN_LEFT, 2, title, false);
    double dh = detail[0] ? report__text(pg, REPORT_FONT_BODY, 0, 0, tw, PANGO_ALIGN_LEFT, 3,
                                         detail, false) : 0;
    double bh = h + (dh > 0 ? dh + 2 : 0) + 2 * pad;
    cairo_set_source_rgb(pg->cr, 1 - (1 - c.r) * 0.10, 1 - (1 - c.g) * 0.10,
                         1 - (1 - c.b) * 0.10);
    cairo_rectangle(pg->cr, MARGIN, y, CONTENT_W, bh);
    cairo_fill_preserve(pg->cr);
    report__color(pg, c);
    cairo_set_line_width(pg->cr, 1.0);
    cairo_stroke(pg->cr);
    cairo_rectangle(pg->cr, MARGIN, y, bar, bh);
    cairo_fill(pg->cr);
    report__text(pg, REPORT_FONT_BOLD, MARGIN + bar + pad, y + pad, tw, PANGO_ALIGN_LEFT, 2,
                 title, true);
    if (dh > 0) {
        report__color(pg, report__ink);
        report__text(pg, REPORT_FONT_BODY, MARGIN + bar + pad, y + pad + h + 2, tw,
                     PANGO_ALIGN_LEFT, 3, detail, true);
    }
    return y + bh + 6;
}

static double flags(report__page *pg, const gw_test *t, double y)
{
    char reason[GW_TEST_REASON_MAX + 16], detail[512], a[48], b[48];
    report__clean(t->reason, false, reason, sizeof(reason));
    if (t->mismatch == 1) {
        report__num(t->ring_stiffness, 3, false, a, sizeof(a));
        report__num(t->ring_stiffness_calc, 3, false, b, sizeof(b));
        snprintf(detail, sizeof(detail), "PLC: %s kN/m\xc2\xb2, independent (from the recorded "
                 "curve): %s kN/m\xc2\xb2. Check the load cell, the deflection measurement and "
                 "the specimen's parameters before relying on this result.", a, b);
        y = flag(pg, y, report__bad,
                 "PLC and independent ring stiffness differ by more than the tolerance", detail);
    }
    const char *title = NULL;
    report__rgb c = report__warn;
    if (strcmp(t->status, GW_TEST_ABORTED) == 0)
        title = "Test aborted: the results are not valid", c = report__bad;
    else if (strcmp(t->status, GW_TEST_INTERRUPTED) == 0)
        title = "Test interrupted: the gateway stopped during the test";
    else if (strcmp(t->status, GW_TEST_RUNNING) == 0)
        title = "Test still running: the results are not final";
    if (title) {
        snprintf(detail, sizeof(detail), "%s%s", reason[0] ? "Reason: " : "", reason);
        y = flag(pg, y, c, title, detail);
    }
    return y;
}

static double test_block(report__page *pg, const gw_test *t, double x, double y, double w)
{
    char v[GW_TEST_REASON_MAX + 64];
    y = heading(pg, x, y, w, "Test");
    snprintf(v, sizeof(v), "%" PRId64, t->id);
    y += field(pg, x, y, w, "Test id", v, 1, report__ink);
    report__clean(t->machine_id, false, v, sizeof(v));
    y += field(pg, x, y, w, "Machine", v[0] ? v : DASH, 1, report__ink);
    report__clean(t->sample_id, false, v, sizeof(v));
    y += field(pg, x, y, w, "Sample id", v[0] ? v : DASH, 2, report__ink);
    report__clean(t->operator_name, false, v, sizeof(v));
    y += field(pg, x, y, w, "Operator", v[0] ? v : DASH, 2, report__ink);
    date_text(t->test_date, v, sizeof(v));
    y += field(pg, x, y, w, "Test date", v, 1, report__ink);
    date_text(t->finished_at, v, sizeof(v));
    y += field(pg, x, y, w, "Finished", v, 1, report__ink);
    bool complete = strcmp(t->status, GW_TEST_COMPLETE) == 0;
    report__clean(t->status, false, v, sizeof(v));
    y += field(pg, x, y, w, "Status", v[0] ? v : DASH, 1, complete ? report__ink : report__bad);
    bool flagged = strcmp(t->status, GW_TEST_ABORTED) == 0 ||
                   strcmp(t->status, GW_TEST_INTERRUPTED) == 0 ||
                   strcmp(t->status, GW_TEST_RUNNING) == 0;
    if (t->reason[0] && !flagged) { /* else the flag above shows it */
        report__clean(t->reason, false, v, sizeof(v));
        y += field(pg, x, y, w, "Reason", v, 2, report__ink);
    }
    const char *m = strcmp(t->method, "ISO 9969") == 0   ? "ISO 9969 (thermoplastics pipes)"
                    : strcmp(t->method, "ISO 7685") == 0 ? "ISO 7685 (GRP pipes)"
                    : t->method[0]                        ? t->method
                                                          : DASH " (not computed)";
    report__clean(m, false, v, sizeof(v));
    y += field(pg, x, y, w, "Standard", v, 1, report__ink);
    return y;
}

static double params_block(report__page *pg, const gw_test *t, double x, double y, double w)
{
    const column cols[3] = {{w - 120, PANGO_ALIGN_LEFT}, {70, PANGO_ALIGN_RIGHT},
                            {50, PANGO_ALIGN_LEFT}};
    static const char *const head[3] = {"Parameter", "Value", "Unit"};
    struct {
        const char *name;
        double v;
        const char *unit;
        bool shown;
    } rows[] = {
        {"Internal diameter d", t->pipe_diameter, "mm", true},
        {"Wall thickness e", t->wall_thickness, "mm", isfinite(t->wall_thickness)},
        {"Mean diameter dm = d + e", t->diameter_calc, "mm",
         strcmp(t->method, "ISO 7685") == 0},
        {"Length L", t->pipe_length, "mm", true},
        {"Deflection", t->deflection_percent, "% of d", true},
        {"Target deflection y", report__target(t), "mm", true},
        {"Test speed", t->test_speed, "mm/min", true},
        {"Max stroke", t->max_stroke, "mm", true},
        {"Max force", t->max_force, "kN", true},
    };
    y = heading(pg, x, y, w, "Specimen");
    y += table_row(pg, x, y, cols, 3, head, NULL, true, 1);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (!rows[i].shown)
            continue;
        char num[48];
        report__num(rows[i].v, 5, true, num, sizeof(num));
        const char *cells[3] = {rows[i].name, num, rows[i].unit};
        y += table_row(pg, x, y, cols, 3, cells, NULL, false, 1);
    }
    return y;
}

static void verdict(report__page *pg, const gw_test *t, double y)
{
    char text[256], s[48], nom[48];
    report__rgb c = t->passed == 1 ? report__good : t->passed == 0 ? report__bad : report__muted;
    const char *badge = t->passed == 1 ? "PASS" : t->passed == 0 ? "FAIL" : "NO VERDICT";
    double bw = t->passed == -1 ? 78 : 46, bh = 18;
    report__color(pg, c);
    cairo_rectangle(pg->cr, MARGIN, y, bw, bh);
    cairo_fill(pg->cr);
    cairo_set_source_rgb(pg->cr, 1, 1, 1);
    double th = report__text(pg, REPORT_FONT_BOLD, 0, 0, bw, PANGO_ALIGN_CENTER, 1, badge, false);
    report__text(pg, REPORT_FONT_BOLD, MARGIN, y + (bh - th) / 2, bw, PANGO_ALIGN_CENTER, 1,
                 badge, true);
    report__num(t->ring_stiffness_calc, 3, false, s, sizeof(s));
    report__num(t->nominal_sn / 1000.0, 4, true, nom, sizeof(nom));
    if (t->passed == -1)
        snprintf(text, sizeof(text), "No verdict: the test has no result.");
    else if (t->nominal_sn)
        snprintf(text, sizeof(text), "The independent ring stiffness %s kN/m\xc2\xb2 %s the "
                 "nominal SN %u (%s kN/m\xc2\xb2).", s,
                 t->passed == 1 ? "reaches" : "does not reach", t->nominal_sn, nom);
    else
        snprintf(text, sizeof(text), "The PLC's verdict (Test_Passed); no nominal SN was given.");
    report__color(pg, report__ink);
    th = report__text(pg, REPORT_FONT_BODY, 0, 0, CONTENT_W - bw - 10, PANGO_ALIGN_LEFT, 2, text,
                      false);
    report__text(pg, REPORT_FONT_BODY, MARGIN + bw + 10, y + (bh - th) / 2,
                 CONTENT_W - bw - 10, PANGO_ALIGN_LEFT, 2, text, true);
}

static double results_block(report__page *pg, const gw_test *t, double y)
{
    const column cols[4] = {{165, PANGO_ALIGN_LEFT}, {60, PANGO_ALIGN_LEFT},
                            {110, PANGO_ALIGN_CENTER}, {CONTENT_W - 335, PANGO_ALIGN_CENTER}};
    static const char *const head[4] = {"Result", "Unit", "PLC",
                                        "Independent (from the recorded curve)"};
    char f0[48], f1[48], s0[48], s1[48], c0[32], c1[32], nom[64];
    report__num(t->force_at_target, 3, false, f0, sizeof(f0));
    report__num(t->force_at_target_calc, 3, false, f1, sizeof(f1));
    report__num(t->ring_stiffness, 3, false, s0, sizeof(s0));
    report__num(t->ring_stiffness_calc, 3, false, s1, sizeof(s1));
    sn_name(t->sn_class, c0, sizeof(c0));
    sn_name(t->sn_class_calc, c1, sizeof(c1));
    if (t->nominal_sn)
        snprintf(nom, sizeof(nom), "SN %u", t->nominal_sn);
    else
        snprintf(nom, sizeof(nom), "none given");
    /* our pass/fail exists only against a nominal class */
    int ours = t->nominal_sn ? t->passed : -1;
    const char *const rows[5][4] = {
        {"Force at target deflection F", "kN", f0, f1},
        {"Ring stiffness S", "kN/m\xc2\xb2", s0, s1},
        {"SN class reached", "N/m\xc2\xb2", c0, c1},
        {"Pass/fail", "", tri(t->plc_passed, "pass", "fail"), tri(ours, "pass", "fail")},
        {"Nominal SN (required)", "N/m\xc2\xb2", nom, nom},
    };
    const report__rgb *pc = t->plc_passed == 1 ? &report__good
                            : t->plc_passed == 0 ? &report__bad : NULL;
    const report__rgb *oc = ours == 1 ? &report__good : ours == 0 ? &report__bad : NULL;
    const report__rgb *const pass_colors[4] = {NULL, NULL, pc, oc};
    y = heading(pg, MARGIN, y, CONTENT_W, "Results");
    y += table_row(pg, MARGIN, y, cols, 4, head, NULL, true, 1);
    for (int i = 0; i < 5; i++)
        y += table_row(pg, MARGIN, y, cols, 4, rows[i], i == 3 ? pass_colors : NULL, false, 1);
    verdict(pg, t, y + 7);
    return y + 7 + 18 + 10;
}

static double series_block(report__page *pg, const gw_report_series *s, double y)
{
    char text[400], m0[48], m1[48], cls[32];
    report__num(s->mean_ring_stiffness_calc, 3, false, m0, sizeof(m0));
    report__num(s->mean_ring_stiffness, 3, false, m1, sizeof(m1));
    sn_name(s->sn_class, cls, sizeof(cls));
    snprintf(text, sizeof(text), "Series %" PRId64 ": %zu test%s with an independent result; "
             "mean S %s kN/m\xc2\xb2 (independent), %s kN/m\xc2\xb2 (PLC); the mean reaches %s.",
             s->id, s->ntests, s->ntests == 1 ? "" : "s", m0, m1, cls);
    double h = report__text(pg, REPORT_FONT_BODY, 0, 0, CONTENT_W - 12, PANGO_ALIGN_LEFT, 2,
                            text, false);
    report__color(pg, report__fill);
    cairo_rectangle(pg->cr, MARGIN, y, CONTENT_W, h + 10);
    cairo_fill(pg->cr);
    report__color(pg, report__ink);
    report__text(pg, REPORT_FONT_BODY, MARGIN + 6, y + 5, CONTENT_W - 12, PANGO_ALIGN_LEFT, 2,
                 text, true);
    return y + h + 10 + 8;
}

/* ------------------------------------------------------------ footer */

#define NOTES_LINES 6          /* at most, when the page has room */
#define CHART_MIN_H 190.0       /* pt the notes leave the chart if they can */

/* The notes' box height with at most `lines` lines (0 for no notes). */
static double notes_height(report__page *pg, const char *notes, int lines)
{
    if (!notes[0])
        return 0;
    double h = report__text(pg, REPORT_FONT_BODY, 0, 0, CONTENT_W, PANGO_ALIGN_LEFT, lines,
                            notes, false);
    double line = report__text(pg, REPORT_FONT_BODY, 0, 0, CONTENT_W, PANGO_ALIGN_LEFT, 1, "Xg",
                               false);
    return 18 + fmin(h, line * lines); /* the limit is per paragraph: capped overall */
}

/* The notes in their box; clipped to it, whatever the text. */
static void notes_block(report__page *pg, const char *notes, double y, double h, int lines)
{
    /* say so when the page had no room for all of them */
    bool cut = notes_height(pg, notes, 1000) > h + 0.5;
    y = heading(pg, MARGIN, y, CONTENT_W,
                cut ? "Notes (shortened: the whole text is in the test's record)" : "Notes");
    cairo_save(pg->cr);
    cairo_rectangle(pg->cr, MARGIN, y, CONTENT_W, h - 18 + 1);
    cairo_clip(pg->cr);
    report__color(pg, report__ink);
    report__text(pg, REPORT_FONT_BODY, MARGIN, y, CONTENT_W, PANGO_ALIGN_LEFT, lines, notes,
                 true);
    cairo_restore(pg->cr);
}

typedef struct {
    char hex[65];             /* of the points given */
    bool differs;             /* from the test's points_sha256 or npoints */
} digest_check;

/* Footer lines from the bottom of the page up; returns its top. */
static double footer(report__page *pg, const gw_test *t, size_t npts, const digest_check *d)
{
    char line[256];
    double lh = report__text(pg, REPORT_FONT_SMALL, 0, 0, 100, PANGO_ALIGN_LEFT, 1, "Xg", false);
    double y = PAGE_H - 30 - lh;
    report__color(pg, report__muted);
    report__text(pg, REPORT_FONT_SMALL, MARGIN, y, CONTENT_W / 2, PANGO_ALIGN_LEFT, 1,
                 "plcgw " GW_VERSION " \xc2\xb7 ring stiffness after ISO 9969 / ISO 7685", true);
    report__text(pg, REPORT_FONT_SMALL, MARGIN + CONTENT_W / 2, y, CONTENT_W / 2,
                 PANGO_ALIGN_RIGHT, 1, "Page 1 of 1", true);
    if (d->differs) {
        char stored[80];
        report__clean(t->points_sha256, false, stored, sizeof(stored));
        snprintf(line, sizeof(line), "WARNING: these are not the points recorded with the test "
                 "(stored: %" PRId64 " points, SHA-256 %s)", t->npoints, stored[0] ? stored : DASH);
        y -= 2 * lh + 2;
        report__color(pg, report__bad);
        report__text(pg, REPORT_FONT_SMALL_BOLD, MARGIN, y, CONTENT_W, PANGO_ALIGN_LEFT, 2, line,
                     true);
    }
    snprintf(line, sizeof(line), "Points: %zu, SHA-256 of points.csv: %s", npts, d->hex);
    y -= lh + 2;
    report__color(pg, d->differs ? report__bad : report__ink);
    report__text(pg, REPORT_FONT_MONO, MARGIN, y, CONTENT_W, PANGO_ALIGN_LEFT, 1, line, true);
    rule(pg, MARGIN, MARGIN + CONTENT_W, y - 4, 0.6, report__rule);
    return y - 4;
}

/* ------------------------------------------------------------ the page */

static void page(report__page *pg, const gw_report_lab *lab, const gw_test *t,
                 const gw_test_point *pts, size_t npts, const gw_report_series *series,
                 const digest_check *d)
{
    char clean[GW_TEST_NOTES_MAX * 3 + 4]; /* each byte may become U+FFFD */
    report__clean(t->notes, true, clean, sizeof(clean));
    double y = header(pg, lab, t, 30);
    y = flags(pg, t, y);
    const double col_w = (CONTENT_W - 24) / 2;
    double y1 = test_block(pg, t, MARGIN, y, col_w);
    double y2 = params_block(pg, t, MARGIN + col_w + 24, y, col_w);
    y = fmax(y1, y2) + 12;
    y = results_block(pg, t, y);
    if (series)
        y = series_block(pg, series, y);
    double foot = footer(pg, t, npts, d);
    double top = heading(pg, MARGIN, y, CONTENT_W, "Force\xe2\x80\x93" "deflection curve");
    /* the notes give up lines (down to one) before the chart gets small */
    int lines = NOTES_LINES;
    double nh = notes_height(pg, clean, lines);
    while (lines > 1 && foot - 10 - (nh + 8) - top < CHART_MIN_H)
        nh = notes_height(pg, clean, --lines);
    double chart_bottom = foot - 10 - (nh > 0 ? nh + 8 : 0);
    report__chart(pg, t, pts, npts, MARGIN, top + 2, CONTENT_W, chart_bottom - top - 2);
    if (nh > 0)
        notes_block(pg, clean, chart_bottom + 8, nh, lines);
}

/* ------------------------------------------------------------ output */

typedef struct {
    gw_report_sink sink;
    void *ud;
    uint64_t bytes;
    bool failed;
} stream;

static cairo_status_t write_out(void *closure, const unsigned char *data, unsigned int len)
{
    stream *s = closure;
    if (s->failed || !s->sink(s->ud, data, len)) {
        s->failed = true;
        return CAIRO_STATUS_WRITE_ERROR;
    }
    s->bytes += len;
    return CAIRO_STATUS_SUCCESS;
}

static void page_open(report__page *pg, cairo_t *cr)
{
    pg->cr = cr;
    pg->layout = pango_cairo_create_layout(cr);
    PangoContext *ctx = pango_layout_get_context(pg->layout);
    /* 1 pt of font size = 1 unit of the page (pango's default is 96 dpi) */
    pango_cairo_context_set_resolution(ctx, 72);
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(ctx, fo);
    cairo_font_options_destroy(fo);
    pango_layout_context_changed(pg->layout);
    for (int i = 0; i < REPORT_FONT__COUNT; i++)
        pg->font[i] = pango_font_description_from_string(font_names[i]);
}

static void page_close(report__page *pg)
{
    for (int i = 0; i < REPORT_FONT__COUNT; i++)
        pango_font_description_free(pg->font[i]);
    g_object_unref(pg->layout);
}

/* The document's metadata; its date is the test's (not now), so that a
 * test renders to the same bytes every time. */
static void metadata(cairo_surface_t *s, const gw_test *t)
{
    char title[128], date[32];
    snprintf(title, sizeof(title), "Ring stiffness test report, test %" PRId64, t->id);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "plcgw " GW_VERSION);
    const char *when = t->finished_at[0] ? t->finished_at : t->test_date;
    if (strlen(when) >= 19 && when[10] == 'T') {
        snprintf(date, sizeof(date), "%.19sZ", when);
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, date);
    }
}

static void digest(const gw_test *t, const gw_test_point *pts, size_t n, digest_check *d)
{
    gw_report_digest dg;
    gw_report_digest_init(&dg);
    for (size_t i = 0; i < n; i++)
        gw_report_digest_point(&dg, &pts[i]);
    gw_report_digest_final(&dg, d->hex);
    /* a test still running has no digest yet: nothing to compare */
    d->differs = t->points_sha256[0] &&
                 (strcmp(t->points_sha256, d->hex) != 0 || t->npoints != (int64_t)n);
}

gw_err gw_report_pdf(const gw_report_lab *lab, const gw_test *t, const gw_test_point *pts,
                     size_t npts, const gw_report_series *series, gw_report_sink sink,
                     void *ud, gw_error *err)
{
    if (!t || !sink || (npts && !pts))
        return gw_error_set(err, GW_E_INVAL, "PDF report: no test, points or sink given");
    digest_check d;
    digest(t, pts, npts, &d);
    stream out = {sink, ud, 0, false};
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_out, &out, PAGE_W, PAGE_H);
    metadata(s, t);
    cairo_t *cr = cairo_create(s);
    report__page pg;
    page_open(&pg, cr);
    page(&pg, lab, t, pts, npts, series, &d);
    page_close(&pg);
    cairo_show_page(cr);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (out.failed)
        return gw_error_set(err, GW_E_IO, "PDF report of test %" PRId64 ": the reader stopped "
                            "taking it after %" PRIu64 " bytes", t->id, out.bytes);
    if (st != CAIRO_STATUS_SUCCESS)
        return gw_error_set(err, st == CAIRO_STATUS_NO_MEMORY ? GW_E_NOMEM : GW_E_IO,
                            "PDF report of test %" PRId64 ": cairo: %s", t->id,
                            cairo_status_to_string(st));
    return GW_OK;
}
