#!/usr/bin/env python3
"""Checks an aidflow HXL export with libhxl, the Humanitarian Exchange Language library:
the standard hashtags are present, and the route rows add up to the total row.

usage: check_hxl.py FILE.hxl.csv EXPECTED_DELIVERED_DURING_WEEK_TONNES
"""
import sys
from decimal import Decimal

import hxl

path, expected = sys.argv[1], Decimal(sys.argv[2])
source = hxl.data(path, hxl.InputOptions(allow_local=True))
tags = [c.display_tag for c in source.columns]
print("columns:", tags)
for wanted in ["#date", "#org", "#loc+origin", "#loc+dest", "#item+name", "#value+delivered_during_week+t"]:
    if not any(t == wanted or t.startswith(wanted + "+") for t in tags):
        sys.exit(f"missing HXL tag {wanted}")

total = None
by_route = Decimal(0)
rows = 0
for row in source:
    rows += 1
    value = Decimal(row.get("#value+delivered_during_week+t") or "0")
    dimension = row.get("#meta+dimension")
    if dimension == "total":
        total = value
    elif dimension == "route":
        by_route += value
print(f"rows: {rows}; total delivered during the week: {total} t; sum of route rows: {by_route} t")
if total is None:
    sys.exit("no total row")
if total != by_route:
    sys.exit(f"route rows ({by_route}) do not add up to the total ({total})")
if total != expected:
    sys.exit(f"total {total} t, expected {expected} t")
print("HXL export parsed by libhxl: tags present and totals consistent")
