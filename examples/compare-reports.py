#!/usr/bin/env python3
"""Compare two datasan JSON reports: the merged report of a sharded run and a single run's.

    python3 examples/compare-reports.py single.json all.json

Equal when every key and value is the same, except that numbers may differ by 1e-9 relative
(statistics merged from shards with the parallel formulas round differently). Prints each
difference with its path and exits 1 when there is one, 2 when a file cannot be read.
"""
import json
import math
import sys

REL = 1e-9


def diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{path}.{k}: only in the second report: {json.dumps(b[k])[:200]}")
            elif k not in b:
                out.append(f"{path}.{k}: only in the first report: {json.dumps(a[k])[:200]}")
            else:
                diff(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items, {len(b)} items")
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", out)
    elif isinstance(a, bool) or isinstance(b, bool):
        if a is not b:
            out.append(f"{path}: {a!r} != {b!r}")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            if a != b:
                out.append(f"{path}: {a} != {b}")
        elif not math.isclose(a, b, rel_tol=REL, abs_tol=0.0):
            out.append(f"{path}: {a!r} != {b!r} (more than {REL} relative)")
    elif a != b:
        out.append(f"{path}: {json.dumps(a)[:200]} != {json.dumps(b)[:200]}")


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    reports = []
    for name in sys.argv[1:]:
        try:
            with open(name, encoding="utf-8") as f:
                reports.append(json.load(f))
        except (OSError, ValueError) as e:
            print(f"compare-reports: {name}: {e}", file=sys.stderr)
            return 2
    out = []
    diff(reports[0], reports[1], "$", out)
    for line in out[:50]:
        print(f"{sys.argv[1]} vs {sys.argv[2]}: {line}")
    if len(out) > 50:
        print(f"... and {len(out) - 50} more differences")
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())
