#!/usr/bin/env python3
"""A whole-process timer for make bench when ../shared/bench is absent (same output rows as
../shared/bench/proctime.py): wall, user+sys CPU and peak RSS of the child, median of N runs.

    python3 bench/proctime_local.py -n 5 --warmup 1 [--vs "CMD B"] -- CMD A...
"""
import argparse
import os
import shlex
import statistics
import time


def run(cmd):
    start = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ,
                          file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)


def row(name, values):
    return f"{name:<20} {min(values):>10.3f} {statistics.median(values):>11.3f} {max(values):>11.3f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--vs")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    other = shlex.split(a.vs) if a.vs else None
    for _ in range(a.warmup):
        run(cmd)
        if other:
            run(other)
    wa, ca, ma, wb, cb, mb, ratio = [], [], [], [], [], [], []
    for _ in range(a.n):
        w, c, m, _ = run(cmd)
        wa.append(w); ca.append(c); ma.append(m)
        if other:
            w2, c2, m2, _ = run(other)
            wb.append(w2); cb.append(c2); mb.append(m2); ratio.append(w / w2)
    print(f"n: A {a.n}")
    print(row("A cpu s", ca)); print(row("A wall s", wa)); print(row("A peak MiB", ma))
    if other:
        print(row("B cpu s", cb)); print(row("B wall s", wb)); print(row("B peak MiB", mb))
        print(row("A/B wall", ratio))


if __name__ == "__main__":
    main()
