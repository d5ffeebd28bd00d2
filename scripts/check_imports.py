#!/usr/bin/env python3
"""Checks that the target graph in Package.swift is exactly what the code uses.

For every Swift target (tests included): each module it imports that this package builds or gets from a
package dependency must be one of its declared direct dependencies, and each declared dependency must be
imported by at least one of its files. SwiftPM's --explicit-target-dependency-import-check accepts modules
that are only reachable through another dependency, and nothing reports a declared dependency nobody uses;
this script closes both gaps.

    python3 scripts/check_imports.py        # exits 1 and names each mismatch
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPORT = re.compile(r'^\s*(?:@testable\s+|@_exported\s+|@preconcurrency\s+)*import\s+(?:(?:struct|class|enum|func|protocol|typealias|var|let)\s+)?([A-Za-z_][A-Za-z0-9_]*)', re.M)


def main():
    dump = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, check=True,
                                     capture_output=True, text=True).stdout)
    targets = {t["name"]: t for t in dump["targets"]}
    products = set()
    for dep in dump.get("dependencies", []):
        pass  # product names are collected from the targets' declarations below
    for t in dump["targets"]:
        for d in t.get("dependencies", []):
            if "product" in d:
                products.add(d["product"][0])
    known = set(targets) | products
    problems = []
    for name, t in sorted(targets.items()):
        if t["type"] in ("system", "binary", "plugin"):
            continue
        default = "Tests" if t["type"] == "test" else "Sources"
        path = os.path.join(ROOT, t.get("path") or os.path.join(default, name))
        excluded = [os.path.join(path, e) for e in t.get("exclude", [])]
        sources = []
        for folder, _, files in os.walk(path):
            if any(folder == e or folder.startswith(e + os.sep) for e in excluded):
                continue
            sources += [os.path.join(folder, f) for f in files if f.endswith(".swift")]
        if not sources:
            continue  # a C target: its headers are its interface
        declared = set()
        for d in t.get("dependencies", []):
            for kind in ("byName", "target", "product"):
                if kind in d:
                    declared.add(d[kind][0])
        imported = {}
        for source in sources:
            with open(source, encoding="utf-8") as f:
                for module in IMPORT.findall(f.read()):
                    if module in known and module != name:
                        imported.setdefault(module, os.path.relpath(source, ROOT))
        for module, where in sorted(imported.items()):
            if module not in declared:
                problems.append(f"{name}: imports {module} ({where}) without declaring it")
        for module in sorted(declared - set(imported)):
            problems.append(f"{name}: declares {module} but no file imports it")
    for p in problems:
        print(p)
    if problems:
        print(f"check_imports: {len(problems)} mismatches between Package.swift and the imports")
        return 1
    print(f"check_imports: {len(targets)} targets, every import declared and every declaration imported")
    return 0


if __name__ == "__main__":
    sys.exit(main())
