#!/usr/bin/env python3
"""check_xlsx.py - reads an XLSX export of plcgw (report/xlsx.c) back with
openpyxl, an independent reader, and checks what test_report.c asks:

  check_xlsx.py FILE [--sheets Tests,Points] [--samples A,B] [--points N]
                [--cell 'Sheet!C3=value']... [--blank 'Sheet!R4']...
                [--chart SHEET] [--series N] [--chart-refs 'Points!D2:D501']
                [--no-chart]

Exits 0 when everything holds, 1 with a message per failure otherwise.
"""
import argparse
import sys

import openpyxl


def cell_ref(spec):
    sheet, _, ref = spec.rpartition("!")
    return sheet, ref


def same(got, want):
    if isinstance(got, bool) or got is None:
        return str(got) == want
    if isinstance(got, (int, float)):
        try:
            w = float(want)
        except ValueError:
            return False
        return abs(got - w) <= 1e-15 * max(abs(w), 1e-300)
    return str(got) == want


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--sheets")
    ap.add_argument("--samples")
    ap.add_argument("--points", type=int)
    ap.add_argument("--cell", action="append", default=[])
    ap.add_argument("--blank", action="append", default=[])
    ap.add_argument("--chart")
    ap.add_argument("--series", type=int)
    ap.add_argument("--chart-refs")
    ap.add_argument("--no-chart", action="store_true")
    a = ap.parse_args()

    wb = openpyxl.load_workbook(a.file)
    bad = []
    if a.sheets is not None and wb.sheetnames != a.sheets.split(","):
        bad.append(f"sheets {wb.sheetnames}, expected {a.sheets.split(',')}")
    tests = wb["Tests"]
    heads = [c.value for c in tests[1]]
    if heads[:3] != ["id", "machine", "sample_id"] or "points_sha256" not in heads:
        bad.append(f"Tests header {heads}")
    if a.samples:
        col = heads.index("sample_id") + 1
        got = [tests.cell(row=r, column=col).value for r in range(2, tests.max_row + 1)]
        for s in a.samples.split(","):
            if s not in got:
                bad.append(f"sample id {s!r} not in {got}")
    if a.points is not None:
        n = 0
        for ws in wb.worksheets:
            if ws.title.startswith("Points"):
                if [c.value for c in ws[1]][:2] != ["test_id", "t_s (s)"]:
                    bad.append(f"{ws.title} header {[c.value for c in ws[1]]}")
                n += sum(1 for r in ws.iter_rows(min_row=2, max_col=1) if r[0].value is not None)
        if n != a.points:
            bad.append(f"{n} points rows, expected {a.points}")
    for spec in a.cell:
        ref, _, want = spec.partition("=")
        sheet, cell = cell_ref(ref)
        got = wb[sheet][cell].value
        if not same(got, want):
            bad.append(f"{ref} is {got!r}, expected {want!r}")
    for ref in a.blank:
        sheet, cell = cell_ref(ref)
        got = wb[sheet][cell].value
        if got is not None:
            bad.append(f"{ref} is {got!r}, expected blank")
    charts = {ws.title: ws._charts for ws in wb.worksheets if ws._charts}
    if a.no_chart and charts:
        bad.append(f"charts in {list(charts)}, expected none")
    if a.chart:
        if a.chart not in charts:
            bad.append(f"no chart in sheet {a.chart} (charts: {list(charts)})")
        else:
            ch = charts[a.chart][0]
            if a.series is not None and len(ch.series) != a.series:
                bad.append(f"{len(ch.series)} series, expected {a.series}")
            refs = [s.xVal.numRef.f.replace("'", "").replace("$", "") for s in ch.series]
            if a.chart_refs and a.chart_refs not in refs:
                bad.append(f"chart x ranges {refs}, expected {a.chart_refs}")
            ys = [s.yVal.numRef.f.replace("'", "").replace("$", "") for s in ch.series]
            if any(":C" not in y for y in ys):
                bad.append(f"chart y ranges {ys}: expected the force column C")
    for b in bad:
        print(f"check_xlsx.py: {a.file}: {b}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
