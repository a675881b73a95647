#!/usr/bin/python3
"""report_reportlab.py [RUNS] - the peer of bench_report's PDF figure: the
same one-page A4 report of a 2,000-point test (header, specimen and results
tables, a force-deflection line chart with axes and grid, a footer) made
with ReportLab, as a Python backend of the rig would make it. Prints the
median and p95 of RUNS renders to memory, in ms. Figures, not pass/fail."""
import io
import math
import statistics
import sys
import time

from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


def curve(n=2000):
    d, L, y = 315.0, 300.0, 9.45
    pts = []
    for i in range(n):
        defl = y * i / (n - 1)
        f = 6.0 * (L / 1000) * (defl / 1000) / (0.0186 + 0.025 * defl / d) * (1 - 0.8 * defl / d)
        pts.append((defl, f * (1 + 0.003 * math.sin(i * 12.9898))))
    return pts


def render(pts):
    out = io.BytesIO()
    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(out, pagesize=A4)
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey)])
    spec = Table([["Specimen", "Value", "Unit"], ["Internal diameter d", "315", "mm"],
                  ["Length L", "300", "mm"], ["Deflection", "3", "%"],
                  ["Target deflection y", "9.45", "mm"], ["Test speed", "10", "mm/min"]])
    spec.setStyle(grid)
    res = Table([["Result", "Unit", "PLC", "Independent"],
                 ["Force at target", "kN", "0.859", "0.859"],
                 ["Ring stiffness S", "kN/m2", "5.86", "5.86"],
                 ["SN class", "N/m2", "SN 5000", "SN 5000"], ["Pass/fail", "", "pass", "pass"]])
    res.setStyle(grid)
    drawing = Drawing(480, 300)
    lp = LinePlot()
    lp.x, lp.y, lp.width, lp.height = 50, 40, 400, 230
    lp.data = [pts]
    lp.lines[0].strokeColor = colors.darkblue
    lp.xValueAxis.valueMin, lp.xValueAxis.valueMax = 0, 10
    lp.yValueAxis.valueMin = 0
    lp.xValueAxis.visibleGrid = lp.yValueAxis.visibleGrid = True
    drawing.add(lp)
    story = [Paragraph("plcgw demo laboratory", styles["Title"]),
             Paragraph("Ring stiffness test report", styles["Heading1"]),
             Paragraph("Test 1 - Sample P-2026-0042 - Operator j.smith - ISO 9969",
                       styles["Normal"]),
             Spacer(1, 8), spec, Spacer(1, 8), res, Spacer(1, 8),
             Paragraph("Force-deflection curve", styles["Heading2"]), drawing,
             Paragraph("Points: 2000, SHA-256 of points.csv: " + "0" * 64, styles["Code"])]
    doc.build(story)
    return out.getvalue()


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    pts = curve()
    size = len(render(pts))  # warm-up: fonts and modules loaded
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        render(pts)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"report_reportlab: PDF of a 2,000-point test with ReportLab {__import__('reportlab').Version}, "
          f"{runs} renders: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, {size} bytes")


if __name__ == "__main__":
    main()
