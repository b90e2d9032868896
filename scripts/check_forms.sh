#!/usr/bin/env bash
# Checks the field form shipped in forms/ (issue 13): the XLSForm
# forms/aidflow-checkpoint.xlsx is what forms/build.py makes of its CSV source
# (forms/aidflow-checkpoint/*.csv), it converts with pyxform without error or warning,
# the conversion is the committed XForm forms/aidflow-checkpoint.xml (which the server
# serves to ODK Collect), and that XForm has the field names the server's default intake
# mapping relies on. Exits non-zero on any difference. Run by .ci/run; by hand:
#   bash scripts/check_forms.sh
# pyxform and openpyxl are pinned and installed into target/forms-venv on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

PYXFORM_VERSION=4.5.0
OPENPYXL_VERSION=3.1.5
VENV=target/forms-venv
PY="$VENV/bin/python"
XLSX=forms/aidflow-checkpoint.xlsx
XML=forms/aidflow-checkpoint.xml
FORM_ID=aidflow_checkpoint

have_pins() {
  "$PY" - "$PYXFORM_VERSION" "$OPENPYXL_VERSION" 2>/dev/null <<'EOF'
import sys
from importlib.metadata import version
sys.exit(0 if (version("pyxform"), version("openpyxl")) == (sys.argv[1], sys.argv[2]) else 1)
EOF
}
if ! have_pins; then
  echo "installing pyxform==$PYXFORM_VERSION and openpyxl==$OPENPYXL_VERSION into $VENV"
  mkdir -p target
  [ -x "$PY" ] || python3 -m venv "$VENV"
  "$PY" -m pip install -q "pyxform==$PYXFORM_VERSION" "openpyxl==$OPENPYXL_VERSION"
fi
echo "pyxform $PYXFORM_VERSION, openpyxl $OPENPYXL_VERSION in $VENV"

for f in "$XLSX" "$XML" forms/build.py forms/aidflow-checkpoint/survey.csv \
  forms/aidflow-checkpoint/choices.csv forms/aidflow-checkpoint/settings.csv; do
  [ -f "$f" ] || { echo "FATAL: $f is missing" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. The committed workbook is what the generator makes of the CSVs: same sheets, same
#    cells (values only; the bytes of an .xlsx depend on the openpyxl and zlib versions).
"$PY" forms/build.py --out "$tmp/rebuilt.xlsx" >/dev/null
"$PY" - "$tmp/rebuilt.xlsx" "$XLSX" <<'EOF'
import sys
from openpyxl import load_workbook

def cells(path):
    wb = load_workbook(path, read_only=True, data_only=False)
    return {
        ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets
    }, wb.sheetnames

def trim(rows):
    """Trailing empty cells and rows are not a difference."""
    out = []
    for r in rows:
        r = list(r)
        while r and r[-1] in (None, ""):
            r.pop()
        out.append(tuple(r))
    while out and not out[-1]:
        out.pop()
    return out

(rebuilt, rebuilt_names), (committed, committed_names) = cells(sys.argv[1]), cells(sys.argv[2])
problems = []
if rebuilt_names != committed_names:
    problems.append(f"sheets {committed_names}, the CSVs make {rebuilt_names}")
for name in rebuilt_names:
    a, b = rebuilt.get(name, []), committed.get(name, [])
    a, b = trim(a), trim(b)
    for i in range(max(len(a), len(b))):
        ra = a[i] if i < len(a) else ()
        rb = b[i] if i < len(b) else ()
        if ra != rb:
            problems.append(f"sheet {name}, row {i + 1}: committed {list(rb)}, the CSVs make {list(ra)}")
            break
if problems:
    for p in problems:
        print("  " + p, file=sys.stderr)
    print("FATAL: forms/aidflow-checkpoint.xlsx is out of date: run python3 forms/build.py"
          " (needs openpyxl; target/forms-venv/bin/python forms/build.py has it)", file=sys.stderr)
    sys.exit(1)
print("ok: forms/aidflow-checkpoint.xlsx has the cells forms/build.py makes of the CSVs ("
      + ", ".join(f"{n} {len(trim(rebuilt[n]))} rows" for n in rebuilt_names) + ")")
EOF

# 2. pyxform converts the committed workbook, as KoboToolbox and ODK Central do on upload.
#    --skip_validate: ODK Validate (a Java program) is not run; it needs Java and a
#    download at run time. pyxform's own checks (names, references, choice lists,
#    choice_filter, types) cannot be skipped and do run. Any pyxform warning fails too.
"$VENV/bin/xls2xform" --skip_validate --pretty_print --json "$XLSX" "$tmp/converted.xml" > "$tmp/pyxform.json" 2>&1 || true
"$PY" - "$tmp/pyxform.json" <<'EOF'
import json, sys
raw = open(sys.argv[1], encoding="utf-8").read()
try:
    response = json.loads(raw.strip().splitlines()[-1])
except (ValueError, IndexError):
    print(raw, file=sys.stderr)
    print("FATAL: xls2xform gave no JSON answer for forms/aidflow-checkpoint.xlsx", file=sys.stderr)
    sys.exit(1)
if response.get("code") != 100 or response.get("warnings"):
    print(f"FATAL: pyxform on forms/aidflow-checkpoint.xlsx: {response.get('message')}", file=sys.stderr)
    for w in response.get("warnings", []):
        print(f"  warning: {w}", file=sys.stderr)
    sys.exit(1)
print("ok: pyxform converts forms/aidflow-checkpoint.xlsx without error or warning (ODK Validate skipped)")
EOF

# 3. The conversion is the committed XForm, byte for byte. pyxform 4.5.0 embeds nothing
#    that changes between runs (no date, no random id: the form's version is the fixed
#    `version` of settings.csv), so no stripping is needed.
if ! cmp -s "$tmp/converted.xml" "$XML"; then
  diff -u "$XML" "$tmp/converted.xml" | head -n 40 >&2 || true
  echo "FATAL: $XML is out of date: run python3 forms/build.py (with pyxform $PYXFORM_VERSION: target/forms-venv/bin/python forms/build.py)" >&2
  exit 1
fi
echo "ok: $XML is pyxform $PYXFORM_VERSION's conversion of $XLSX"

# 4. The contract with the server's default mapping: the instance's field paths, the form
#    id and version, the repeat, and the choice codes of the seed.
"$PY" - "$XML" "$FORM_ID" forms/aidflow-checkpoint/settings.csv <<'EOF'
import csv, sys
import xml.etree.ElementTree as ET

xml_path, form_id, settings_csv = sys.argv[1:4]
X = "{http://www.w3.org/2002/xforms}"
H = "{http://www.w3.org/1999/xhtml}"
JR = "{http://openrosa.org/javarosa}"
version = next(csv.DictReader(open(settings_csv, newline="", encoding="utf-8")))["version"]
problems = []

doc = ET.parse(xml_path).getroot()
model = doc.find(f"{H}head/{X}model")
primary = next(i for i in model.findall(f"{X}instance") if "id" not in i.attrib)
root = list(primary)[0]
rootname = root.tag.replace(X, "")
if root.get("id") != form_id:
    problems.append(f"form id is {root.get('id')!r}, not {form_id!r}")
if root.get("version") != version:
    problems.append(f"version is {root.get('version')!r}, not settings.csv's {version!r}")

paths = set()
def walk(el, prefix):
    for child in el:
        p = f"{prefix}/{child.tag.replace(X, '')}"
        paths.add(p)
        walk(child, p)
walk(root, "")

contract = ["convoy_reference", "event_kind", "route", "checkpoint", "observed_at", "trucks",
            "cargo_changed", "cargo/commodity", "cargo/quantity", "cargo/unit", "cargo/reason",
            "note", "location", "start", "end", "meta/instanceID"]
for field in contract:
    if f"/{field}" not in paths:
        problems.append(f"instance has no /{rootname}/{field}")

# cargo is a repeat (a jr:template node, and a <repeat> in the body), the rest at top level
if not any(c.tag == f"{X}cargo" and f"{JR}template" in c.attrib for c in root):
    problems.append("cargo has no jr:template node in the instance: it is not a repeat")
if not any(r.get("nodeset") == f"/{rootname}/cargo" for r in doc.find(f"{H}body").iter(f"{X}repeat")):
    problems.append(f"the body has no <repeat nodeset=\"/{rootname}/cargo\">")

types = {b.get("nodeset"): b.get("type") for b in model.findall(f"{X}bind")}
expected_types = {"observed_at": "dateTime", "trucks": "int", "cargo/quantity": "decimal",
                  "location": "geopoint", "start": "dateTime", "end": "dateTime"}
for field, t in expected_types.items():
    if types.get(f"/{rootname}/{field}") != t:
        problems.append(f"/{rootname}/{field} has type {types.get(f'/{rootname}/{field}')!r}, not {t!r}")

choices = {}
for inst in model.findall(f"{X}instance"):
    if "id" in inst.attrib:
        choices[inst.get("id")] = [(i.findtext(f"{X}name"), i.findtext(f"{X}route")) for i in inst.iter(f"{X}item")]
expected = {
    "kinds": ["departed", "arrived", "held", "cleared", "turned_back", "delivered"],
    "routes": ["lachin", "aghdam"],
    "units": ["t", "kg", "L"],
    "reasons": ["denied_at_checkpoint", "confiscated", "damaged", "spoiled", "stolen",
                "short_loaded", "rejected_on_receipt", "other"],
    "commodities": ["food", "flour", "salt", "yeast", "medical", "fuel", "hygiene", "shelter",
                    "baby_food", "sunflower_oil"],
}
for name, codes in expected.items():
    got = [n for n, _ in choices.get(name, [])]
    if got != codes:
        problems.append(f"choice list {name} is {got}, not {codes}")
routes = {"lachin": ["GORIS", "KORNIDZOR", "HAKARI", "SHUSHA", "STEPANAKERT"],
          "aghdam": ["AGHDAM", "ASKERAN", "STEPANAKERT"]}
for route, codes in routes.items():
    got = [n for n, r in choices.get("checkpoints", []) if r == route]
    if got != codes:
        problems.append(f"checkpoints of route {route} are {got}, not {codes}")

if problems:
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    print(f"FATAL: {xml_path} breaks the contract of the server's default mapping", file=sys.stderr)
    sys.exit(1)
print(f"ok: {xml_path}: root <{rootname} id=\"{form_id}\" version=\"{version}\">, "
      f"{len(contract)} contract fields ({', '.join('/' + rootname + '/' + f for f in contract)}), "
      "cargo a repeat, choice codes as in config/seed-lachin.toml")
EOF

echo "forms: 4 checks passed"
