#!/usr/bin/env python3
"""Writes the shard fixtures of datasan's tests into Fixtures/shards/ (Tests/DatasanCLITests/ShardCLITests).

Run from anywhere: `python3 Fixtures/make_shard_fixtures.py`. Needs numpy, h5py, lmdb, Pillow; Datums are
written by Tests/Python/caffe_datum.py. Each dataset has 42 samples (42 = 2 * 3 * 7: the shards of
N = 2, 3 and 7 all start on a sample), and its defects sit on the shard boundaries: sample 0 (so the
reference shape comes from sample 1), 41, and both sides of every boundary 42 * i / N (N in 2, 3, 7):
samples 5, 6, 11, 12, 13, 14, 17, 18, 20, 21, 23, 24, 27, 28, 29, 30, 35, 36.

  boundaries.h5     data float32 (42, 3, 4, 4), label int64 (42,): defects NaN, +Inf, label 12 (with
                    --num-classes 10) in turn
  boundaries.csv    f0,f1,f2,note,label; note is text, quoted with a line break inside on the rows
                    before a defect (so records are not lines); blank lines every 9 rows; defects a
                    missing value, inf, a ragged row, label 12 in turn
  boundaries.lmdb   42 raw uint8 Datums 3x4x4 under keys %08d: defects random bytes (unreadable), a
                    3x5x4 Datum (shape_mismatch), label 12 in turn; record 0 is random bytes
  boundaries_png/   a/ (samples 0..20) and b/ (21..41), 4x4 RGB PNGs NNN.png: defects a PNG cut to
                    half (unreadable), a 5x4 image (shape_mismatch) in turn; sample 0 is cut
"""
import os, shutil, sys
import numpy as np
import h5py, lmdb
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "Tests", "Python"))
import caffe_datum  # noqa: E402

out = os.path.join(here, "shards")
os.makedirs(out, exist_ok=True)
N = 42
bounds = sorted({42 * i // n for n in (2, 3, 7) for i in range(1, n)})
defects = sorted({0, 41} | set(bounds) | {b - 1 for b in bounds})
rng = np.random.default_rng(14)

# HDF5
data = rng.uniform(0, 1, (N, 3, 4, 4)).astype(np.float32)
labels = (np.arange(N) % 10).astype(np.int64)
for k, s in enumerate(defects):
    if k % 3 == 0: data[s, 1, 2, 3] = np.nan
    elif k % 3 == 1: data[s, 0, 0, 1] = np.inf
    else: labels[s] = 12
path = os.path.join(out, "boundaries.h5")
with h5py.File(path, "w") as f:
    f.create_dataset("data", data=data)
    f.create_dataset("label", data=labels)

# CSV
lines = ["f0,f1,f2,note,label"]
for s in range(N):
    v = [f"{x:.4f}" for x in rng.uniform(-1, 1, 3)]
    note = f"row {s}"
    label = str(s % 10)
    if s + 1 in defects: note = f'"row {s}\nsecond line"'
    if s in defects:
        k = defects.index(s) % 4
        if k == 0: v[1] = ""
        elif k == 1: v[2] = "inf"
        elif k == 2: v = v[:2]
        else: label = "12"
    lines.append(",".join(v + [note, label]))
    if s % 9 == 8: lines.append("")
with open(os.path.join(out, "boundaries.csv"), "w") as f:
    f.write("\n".join(lines) + "\n")

# LMDB
path = os.path.join(out, "boundaries.lmdb")
shutil.rmtree(path, ignore_errors=True)
env = lmdb.open(path, map_size=1 << 20)
with env.begin(write=True) as txn:
    for s in range(N):
        pixels = rng.integers(0, 256, 48, dtype=np.uint8).tobytes()
        value = caffe_datum.datum(channels=3, height=4, width=4, data=pixels, label=s % 10)
        if s in defects:
            k = defects.index(s) % 3
            if k == 0: value = rng.integers(0, 256, 40, dtype=np.uint8).tobytes()
            elif k == 1: value = caffe_datum.datum(channels=3, height=5, width=4, data=pixels + pixels[:12], label=1)
            else: value = caffe_datum.datum(channels=3, height=4, width=4, data=pixels, label=12)
        txn.put(b"%08d" % s, value)
env.close()
lock = os.path.join(path, "lock.mdb")
if os.path.exists(lock): os.remove(lock)

# PNG folder
path = os.path.join(out, "boundaries_png")
shutil.rmtree(path, ignore_errors=True)
for s in range(N):
    folder = os.path.join(path, "a" if s < 21 else "b")
    os.makedirs(folder, exist_ok=True)
    name = os.path.join(folder, "%03d.png" % s)
    size = (4, 4)
    k = defects.index(s) % 2 if s in defects else None
    if k == 1: size = (4, 5)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels, "RGB").save(name)
    if k == 0:
        b = open(name, "rb").read()
        open(name, "wb").write(b[: len(b) // 2])
print("wrote", out, "defects at", defects)
