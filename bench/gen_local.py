#!/usr/bin/env python3
"""Benchmark data for make bench when ../shared/bench (and its generator) is absent: an HDF5 file
like the shared one (float32 (87381, 3, 32, 32), integer pixel values, label int64) and a CSV of
1,000,000 rows x 20 float columns + label. Needs numpy and h5py. Deterministic.

    python3 bench/gen_local.py OUT_DIR
"""
import os
import sys

import numpy as np


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(20240601)
    os.makedirs(os.path.join(out, "hdf5"), exist_ok=True)
    os.makedirs(os.path.join(out, "csv"), exist_ok=True)
    import h5py
    n = 87381
    with h5py.File(os.path.join(out, "hdf5/train.h5"), "w") as f:
        data = f.create_dataset("data", (n, 3, 32, 32), dtype="f4", chunks=(256, 3, 32, 32))
        f.create_dataset("label", data=rng.integers(0, 10, n), dtype="i8")
        for s in range(0, n, 4096):
            m = min(4096, n - s)
            data[s:s + m] = rng.integers(0, 256, (m, 3, 32, 32)).astype("f4")
    rows = 1_000_000
    scales = np.logspace(-3, 4, 20)
    with open(os.path.join(out, "csv/train.csv"), "w") as fh:
        fh.write(",".join(f"f{i}" for i in range(20)) + ",label\n")
        for s in range(0, rows, 100_000):
            block = rng.standard_normal((100_000, 20)) * scales
            labels = rng.integers(0, 10, 100_000)
            fh.write("\n".join(",".join(f"{v:.6g}" for v in r) + f",{l}" for r, l in zip(block, labels)) + "\n")


if __name__ == "__main__":
    main()
