#!/usr/bin/env python3
"""Checks aidflow's two HXL exports of one week with libhxl, the Humanitarian Exchange
Language library:

1. both parse, and carry the hashtags docs/src/weekly-reports.md lists (tonnes as
   #indicator+num+…+t, never the monetary #value);
2. both pass the schemas shipped in schemas/ (aidflow-hxl-schema.json for the wide
   export, aidflow-hxl-long-schema.json for the long form) and libhxl's own default
   schema (hxl.schema() with no argument): no issue of severity "error" or "warning";
3. in the wide export, the route rows add up to the total row;
4. the long form's rows add up to the wide export's total row in every figure, and,
   grouped by route, organization or commodity, to the wide export's rows of that
   dimension: summing and pivoting the long form counts nothing twice;
5. the week's total delivered during the week is the expected figure;
6. the rows of disputed convoys and their claims carry no cargo figure (only the logged
   figure, the claimed tonnes and the spread), so they add nothing to any cargo column,
   and each claim follows its convoy's disputed row; with DISPUTED given, exactly those
   convoy references are disputed;
7. trucks (wide export only; the long form has no truck column, since its per-commodity
   rows would count a convoy's trucks once per commodity): the total and route rows carry
   trucks planned and arrived and the convoys left out of each, and the route rows add up
   to the total row; the checkpoint rows carry trucks arrived, passed, held and turned
   back; no other row has a truck cell.

usage: check_hxl.py WIDE.hxl.csv LONG.hxl.csv EXPECTED_DELIVERED_DURING_WEEK_TONNES [DISPUTED,…]
"""
import sys
from decimal import Decimal
from pathlib import Path

import hxl

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"

# The figures both exports carry, by their attribute; each is #indicator+num+<it>+t.
FIGURES = ["planned", "delivered", "delivered_during_week", "shortfall", "denied", "lost"]

WIDE_TAGS = [
    "#meta+week", "#meta+dimension", "#meta+key", "#meta+name",
    "#loc+origin+code", "#loc+dest+code", "#indicator+num+requirement+t",
    *[f"#indicator+num+{f}+t" for f in FIGURES],
    "#meta+source", "#date+reported", "#indicator+num+logged+t", "#indicator+num+claimed+t",
    "#indicator+num+spread+pct",
    "#indicator+num+trucks+planned", "#indicator+num+convoys+trucks_unplanned",
    "#indicator+num+trucks+arrived", "#indicator+num+convoys+trucks_uncounted",
    "#indicator+num+trucks+passed", "#indicator+num+trucks+held",
    "#indicator+num+trucks+turned_back",
    "#date+start", "#org+name", "#item+name",
]

# The truck columns of the wide export: those of the total and route rows (which add up),
# and those of the checkpoint rows (which never add up across checkpoints).
ROUTE_TRUCKS = ["#indicator+num+trucks+planned", "#indicator+num+convoys+trucks_unplanned",
                "#indicator+num+trucks+arrived", "#indicator+num+convoys+trucks_uncounted"]
CHECKPOINT_TRUCKS = ["#indicator+num+trucks+arrived", "#indicator+num+trucks+passed",
                     "#indicator+num+trucks+held", "#indicator+num+trucks+turned_back"]
LONG_TAGS = [
    "#meta+week", "#date+start", "#x_route+code", "#x_route+name",
    "#loc+origin+code", "#loc+dest+code", "#org+code", "#org+name", "#item+code", "#item+name",
    *[f"#indicator+num+{f}+t" for f in FIGURES],
]

# The long form's code column for each dimension of the wide export.
GROUPS = {"route": "#x_route+code", "organization": "#org+code", "commodity": "#item+code"}

failures = []


def fail(message):
    print("FAIL:", message)
    failures.append(message)


def load(path):
    """The file as a cached libhxl dataset (it is read several times)."""
    return hxl.data(path, hxl.InputOptions(allow_local=True)).cache()


def same_tags(name, source, wanted):
    """The file's hashtag row is exactly the documented one (attribute order aside)."""
    tags = [c.display_tag for c in source.columns]
    print(f"{name} columns:", tags)
    normal = lambda t: hxl.model.TagPattern.parse(t)
    got = [str(normal(t)) for t in tags]
    want = [str(normal(t)) for t in wanted]
    if got != want:
        fail(f"{name}: hashtags {tags}, expected {wanted}")
    if any(t.startswith("#value") for t in tags):
        fail(f"{name}: #value is a monetary value; tonnes are #indicator+num+…+t")


def validate(name, source, schema_name):
    """Validates against a schema (None: libhxl's default); errors and warnings fail."""
    issues = []
    schema_source = None
    label = "libhxl's default schema"
    if schema_name is not None:
        schema_source = hxl.data(str(SCHEMAS / schema_name), hxl.InputOptions(allow_local=True))
        label = f"schemas/{schema_name}"
    schema = hxl.schema(schema_source, callback=issues.append)
    schema.validate(source)
    for issue in issues:
        severity = issue.rule.severity if issue.rule is not None else "error"
        where = f"row {issue.row.row_number}" if issue.row is not None else issue.scope
        column = issue.column.display_tag if issue.column is not None else ""
        text = f"{name} against {label}: {severity}: {issue.message} ({where} {column} {issue.value!r})"
        if severity in ("error", "warning"):
            fail(text)
        else:
            print("note:", text)
    print(f"{name}: {len(issues)} issue(s) against {label}")


def tonnes(row, figure):
    return Decimal(row.get(f"#indicator+num+{figure}+t") or "0")


def figures(values):
    return ", ".join(f"{f} {v} t" for f, v in values.items())


def check_wide(wide, expected):
    """The wide total row, after checking that the route rows add up to it."""
    total = None
    by_route = Decimal(0)
    rows = 0
    for row in wide:
        rows += 1
        dimension = row.get("#meta+dimension")
        if dimension == "total":
            total = {f: tonnes(row, f) for f in FIGURES}
        elif dimension == "route":
            by_route += tonnes(row, "delivered_during_week")
    if total is None:
        fail("wide: no total row")
        return None
    during = total["delivered_during_week"]
    print(f"wide rows: {rows}; total delivered during the week: {during} t; sum of route rows: {by_route} t")
    if during != by_route:
        fail(f"wide: route rows ({by_route}) do not add up to the total ({during})")
    if during != expected:
        fail(f"wide: total {during} t, expected {expected} t")
    return total


def check_long(long, wide, total):
    """The long form's rows add up to the wide total, and pivot to the wide breakdowns."""
    sums = {f: Decimal(0) for f in FIGURES}
    groups = {d: {} for d in GROUPS}
    rows = 0
    for row in long:
        rows += 1
        for f in FIGURES:
            sums[f] += tonnes(row, f)
        for dimension, tag in GROUPS.items():
            group = groups[dimension].setdefault(row.get(tag), {f: Decimal(0) for f in FIGURES})
            for f in FIGURES:
                group[f] += tonnes(row, f)
    print(f"long rows: {rows}; sum delivered during the week: {sums['delivered_during_week']} t")
    for f in FIGURES:
        if total is not None and sums[f] != total[f]:
            fail(f"long: {f} adds up to {sums[f]} t, the wide total is {total[f]} t")
    wide_rows = {d: {} for d in GROUPS}
    for row in wide:
        dimension = row.get("#meta+dimension")
        if dimension in GROUPS:
            wide_rows[dimension][row.get("#meta+key")] = {f: tonnes(row, f) for f in FIGURES}
    zero = {f: Decimal(0) for f in FIGURES}
    for dimension in GROUPS:
        for key in set(wide_rows[dimension]) | set(groups[dimension]):
            want = wide_rows[dimension].get(key)
            got = groups[dimension].get(key, zero)
            if want is None:
                fail(f"long: {dimension} {key} has no row in the wide export")
            elif got != want:
                fail(f"long: {dimension} {key} pivots to {figures(got)}, the wide row has {figures(want)}")


def check_claims(wide, expected_disputed):
    """Disputed and claim rows fill only their own columns, and claims follow their convoy."""
    disputed, current = [], None
    for row in wide:
        dimension = row.get("#meta+dimension")
        key = row.get("#meta+key")
        if dimension not in ("disputed", "claim"):
            for tag in ("#meta+source", "#date+reported", "#indicator+num+logged+t",
                        "#indicator+num+claimed+t", "#indicator+num+spread+pct"):
                if row.get(tag):
                    fail(f"wide: {dimension} row {key} has a claim column {tag}")
            continue
        cargo = [f for f in ["requirement", *FIGURES] if row.get(f"#indicator+num+{f}+t")]
        if cargo:
            fail(f"wide: {dimension} row {key} carries cargo figures {cargo}")
        if dimension == "disputed":
            disputed.append(key)
            current = key
            if not row.get("#indicator+num+logged+t"):
                fail(f"wide: disputed row {key} has no logged figure")
        else:
            if key != current:
                fail(f"wide: claim row {key} does not follow its convoy's disputed row")
            if not row.get("#meta+source") or not row.get("#indicator+num+claimed+t"):
                fail(f"wide: claim row {key} lacks its source or tonnes")
    print(f"wide: disputed convoys {disputed}")
    if expected_disputed is not None and disputed != expected_disputed:
        fail(f"wide: disputed convoys {disputed}, expected {expected_disputed}")


def count(row, tag):
    """A truck or convoy cell as an integer (a malformed one fails, as the schema says)."""
    text = row.get(tag) or "0"
    try:
        return int(text)
    except ValueError:
        fail(f"wide: {row.get('#meta+dimension')} row {row.get('#meta+key')}: {tag} = {text!r} is not a whole number")
        return 0


def check_trucks(wide):
    """Trucks sit on the total, route and checkpoint rows only; the routes add up to the total."""
    total, by_route = None, {tag: 0 for tag in ROUTE_TRUCKS}
    for row in wide:
        dimension = row.get("#meta+dimension")
        key = row.get("#meta+key")
        wanted = {"total": ROUTE_TRUCKS, "route": ROUTE_TRUCKS,
                  "checkpoint": CHECKPOINT_TRUCKS}.get(dimension, [])
        for tag in set(ROUTE_TRUCKS) | set(CHECKPOINT_TRUCKS):
            value = row.get(tag)
            if tag in wanted and not value:
                fail(f"wide: {dimension} row {key} has no {tag}")
            elif tag not in wanted and value:
                fail(f"wide: {dimension} row {key} has a truck cell {tag} = {value}")
        if dimension == "total":
            total = {tag: count(row, tag) for tag in ROUTE_TRUCKS}
        elif dimension == "route":
            for tag in ROUTE_TRUCKS:
                by_route[tag] += count(row, tag)
    print(f"wide: trucks of the total row {total}, of the route rows {by_route}")
    if total is not None and total != by_route:
        fail(f"wide: the route rows' trucks {by_route} do not add up to the total {total}")


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    wide_path, long_path, expected = sys.argv[1], sys.argv[2], Decimal(sys.argv[3])
    expected_disputed = [r for r in sys.argv[4].split(",") if r] if len(sys.argv) == 5 else None
    wide, long = load(wide_path), load(long_path)
    same_tags("wide", wide, WIDE_TAGS)
    same_tags("long", long, LONG_TAGS)
    for name, source, schema_name in [
        ("wide", wide, "aidflow-hxl-schema.json"),
        ("long", long, "aidflow-hxl-long-schema.json"),
    ]:
        validate(name, source, schema_name)
        validate(name, source, None)
    total = check_wide(wide, expected)
    check_long(long, wide, total)
    check_claims(wide, expected_disputed)
    check_trucks(wide)
    if failures:
        sys.exit(f"{len(failures)} HXL check(s) failed")
    print("HXL exports parsed by libhxl: tags as documented, both schemas pass, totals consistent")


if __name__ == "__main__":
    main()
