#!/usr/bin/env python3
"""Build forms/aidflow-checkpoint.xlsx (the XLSForm) from its readable source, the CSV
sheets in forms/aidflow-checkpoint/ (survey.csv, choices.csv, settings.csv).

    python3 forms/build.py                    # writes forms/aidflow-checkpoint.xlsx
                                              # and, if pyxform is importable,
                                              # forms/aidflow-checkpoint.xml
    python3 forms/build.py --out /tmp/x.xlsx  # writes only that workbook (the check
                                              # in scripts/check_forms.sh does this)

Needs openpyxl (pinned 3.1.5 in scripts/check_forms.sh; its venv target/forms-venv has
it, with pyxform 4.5.0: `target/forms-venv/bin/python forms/build.py`).

The output is deterministic: every cell is written as text, the workbook's properties
(creator, created, modified) are fixed, and the zip entries get a fixed timestamp, so
re-running it on the same CSVs gives the same cells (and, with the same openpyxl and
zlib, the same bytes). CI compares cell contents.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import sys
import zipfile
from pathlib import Path

FORMS = Path(__file__).resolve().parent
SOURCE = FORMS / "aidflow-checkpoint"
XLSX = FORMS / "aidflow-checkpoint.xlsx"
XML = FORMS / "aidflow-checkpoint.xml"
SHEETS = ("survey", "choices", "settings")
# Pinned so that a rebuild changes nothing but what the CSVs change.
FIXED_TIME = datetime.datetime(2026, 12, 1, 0, 0, 0)
CREATOR = "aidflow forms/build.py"


def read_sheet(name: str) -> list[list[str]]:
    path = SOURCE / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        sys.exit(f"{path}: empty")
    width = len(rows[0])
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            sys.exit(f"{path}:{number}: {len(row)} cells, the header has {width}")
    return rows


def build_workbook():
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for name in SHEETS:
        rows = read_sheet(name)
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value == "":
                    continue
                cell = ws.cell(row=r, column=c, value=value)
                # Always text: a value such as "=..." must never become a formula, and
                # the version must stay "2026120101", not a number.
                cell.data_type = "s"
                if r == 1:
                    cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for c in range(1, len(rows[0]) + 1):
            longest = max(len(row[c - 1]) for row in rows)
            ws.column_dimensions[get_column_letter(c)].width = min(max(longest + 2, 8), 60)
    props = wb.properties
    props.creator = CREATOR
    props.lastModifiedBy = CREATOR
    props.title = "aidflow checkpoint log (XLSForm)"
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    return wb


def workbook_bytes(wb) -> bytes:
    """Serialize without openpyxl's save_workbook (which stamps `modified` with now),
    then rewrite the zip with a fixed timestamp on every entry."""
    from openpyxl.writer.excel import ExcelWriter

    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for entry in src.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(entry.filename))
    return out.getvalue()


def write_xform(xlsx: Path, xml: Path) -> bool:
    """Convert with pyxform as `xls2xform --skip_validate --pretty_print` does."""
    try:
        import pyxform
        from pyxform.xls2xform import xls2xform_convert
    except ImportError:
        print(
            "pyxform is not installed here: forms/aidflow-checkpoint.xml was NOT rebuilt;"
            " run `bash scripts/check_forms.sh` once, then"
            " `target/forms-venv/bin/python forms/build.py`",
            file=sys.stderr,
        )
        return False
    version = getattr(pyxform, "__version__", None)
    if version is None:
        from importlib.metadata import version as dist_version

        version = dist_version("pyxform")
    if version != "4.5.0":
        print(f"warning: pyxform {version}, CI pins 4.5.0", file=sys.stderr)
    warnings = xls2xform_convert(xlsform_path=str(xlsx), xform_path=str(xml), validate=False, pretty_print=True)
    for w in warnings:
        print(f"pyxform warning: {w}", file=sys.stderr)
    print(f"wrote {xml.relative_to(FORMS.parent)} (pyxform {version})")
    return not warnings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="write the workbook here and nothing else")
    args = parser.parse_args()
    data = workbook_bytes(build_workbook())
    if args.out:
        args.out.write_bytes(data)
        print(f"wrote {args.out}")
        return 0
    XLSX.write_bytes(data)
    print(f"wrote {XLSX.relative_to(FORMS.parent)}")
    return 0 if write_xform(XLSX, XML) else 1


if __name__ == "__main__":
    sys.exit(main())
