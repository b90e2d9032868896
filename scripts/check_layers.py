#!/usr/bin/env python3
"""Checks that aidflow's modules use only the layers below them, and that no import cycle
exists between any two files of src/ (see docs/ARCHITECTURE.md).

The import graph is read from the `crate::` and `super::` paths of each file (text, not the
compiler; code after `#[cfg(test)]` is left out, since tests may reach anywhere). A module
may use modules of a lower layer and other files of its own top-level module; `api` is used
by nothing but `startup`, which mounts it. Exit status 1 lists every violation.

    python3 scripts/check_layers.py [src]
"""
import os
import re
import sys

# Lower numbers are lower layers. A top-level module not listed here is an error: give it a
# layer when you add it.
LAYERS = {
    "domain": 0,     # pure rules, no I/O
    "config": 1,     # settings, parsed into domain types
    "telemetry": 2,  # logging set-up, from the settings
    "db": 1,         # connections, schema, migrations, backend differences
    "store": 2,      # diesel queries per aggregate
    "views": 3,      # output shapes shared by api, cli and jobs
    "app": 4,        # use cases with their input types and validation
    "report": 5,     # weekly reports: build, render, publish
    "jobs": 6,       # background work: alerts, webhooks, publication
    "api": 6,        # HTTP only
    "web": 6,        # the browser app
    "startup": 7,    # builds the server and the jobs
    "cli": 8,        # the command line
}
ONLY_FROM = {"api": {"startup"}, "web": {"startup"}}

USE = re.compile(r"\bcrate::((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)")
SUPER = re.compile(r"\bsuper::((?:[a-z_][a-z0-9_]*::)*[A-Za-z_][A-Za-z0-9_]*)")


def modules(src):
    out = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)[:-3].split(os.sep)
            if rel[-1] == "mod":
                rel = rel[:-1]
            if rel in (["main"], ["lib"]) or rel[0] == "bin":
                continue
            out["::".join(rel)] = path
    return out


def resolve(path, mods):
    parts = path.split("::")
    for n in range(len(parts), 0, -1):
        key = "::".join(parts[:n])
        if key in mods:
            return key
    return None


def graph(src):
    mods = modules(src)
    g = {m: set() for m in mods}
    for m, p in mods.items():
        text = open(p, encoding="utf-8").read()
        cut = text.find("#[cfg(test)]")
        if cut >= 0:
            text = text[:cut]
        parent = "::".join(m.split("::")[:-1])
        hits = [resolve(h, mods) for h in USE.findall(text)]
        hits += [resolve((parent + "::" + h) if parent else h, mods) for h in SUPER.findall(text)]
        for t in hits:
            if t and t != m and not t.startswith(m + "::"):
                g[m].add(t)
    return g


def cycles(g):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    g = graph(src)
    problems = []
    for m in sorted(g):
        top = m.split("::")[0]
        if top not in LAYERS:
            problems.append(f"{m}: top-level module {top} has no layer in scripts/check_layers.py")
            continue
        for t in sorted(g[m]):
            ttop = t.split("::")[0]
            if ttop == top or ttop not in LAYERS:
                continue
            if ttop in ONLY_FROM and top not in ONLY_FROM[ttop]:
                problems.append(f"{m} uses {t}: nothing but {', '.join(sorted(ONLY_FROM[ttop]))} may use {ttop}")
            elif LAYERS[ttop] >= LAYERS[top]:
                problems.append(f"{m} (layer {top}) uses {t} (layer {ttop}), which is not below it")
    for comp in cycles(g):
        problems.append("import cycle between files: " + ", ".join(comp))
    for p in problems:
        print(p)
    files = len(g)
    edges = sum(len(v) for v in g.values())
    if problems:
        print(f"{len(problems)} layering problem(s) in {files} files")
        return 1
    print(f"layers hold: {files} files, {edges} imports, each to a lower layer or within its module; no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
