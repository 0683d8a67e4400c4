#!/usr/bin/env python3
"""Writes Fixtures/demo/train.h5, a small, realistic, dirty image dataset for demos.

Run from anywhere: `python3 Fixtures/make_demo.py`. Deterministic (seed 7, no timestamps).

Contents (h5py, libver bounds ('earliest', 'v110') so that libhdf5 1.10 reads it):

  data   float32 (256, 3, 8, 8): raw pixels, integers in [0, 255] (smooth colour gradients
         plus noise), NOT normalized, so `datasan scan` reports `unnormalized_scale` for each of
         the 3 channels. Chunks (16, 3, 8, 8), shuffle + gzip 6 + fletcher32.
  label  int64 (256,): classes 0..9.

Planted problems (sample indexes are 0-based rows):

  nan_value            samples 12 (1 NaN), 101 (3 NaN), 200 (a whole channel of NaN)
  inf_value            sample 150 (one +Inf)
  label_out_of_domain  samples 33 and 177 (label -1), sample 240 (label 10, with --num-classes 10)
  unreadable           samples 80..95: bytes flipped inside the stored data of chunk 5, which then
                       fails its fletcher32 checksum (the other 15 chunks read fine)

So a scan with `--num-classes 10` flags 4 + 3 + 16 = 23 samples and a clean keeps 233.
"""

import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "demo", "train.h5")

N, C, H, W = 256, 3, 8, 8
CHUNK = (16, C, H, W)
CORRUPT_CHUNK = 5  # rows 80..95


def images(rng):
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    out = np.empty((N, C, H, W), dtype=np.float32)
    for n in range(N):
        for c in range(C):
            base = rng.uniform(30, 200)
            gx, gy = rng.uniform(-12, 12, size=2)
            noise = rng.normal(0, 6, size=(H, W))
            out[n, c] = np.clip(np.rint(base + gx * x + gy * y + noise), 0, 255)
    return out


def main():
    rng = np.random.default_rng(7)
    data = images(rng)
    label = rng.permutation(np.arange(N) % 10).astype(np.int64)

    data[12, 1, 4, 4] = np.nan
    data[101, 0, 0, 0:3] = np.nan
    data[200, 2] = np.nan
    data[150, 0, 7, 7] = np.inf
    label[33] = -1
    label[177] = -1
    label[240] = 10

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    if os.path.exists(OUT):
        os.remove(OUT)
    with h5py.File(OUT, "w", libver=("earliest", "v110"), track_order=False) as f:
        f.create_dataset("data", data=data, chunks=CHUNK, compression="gzip", compression_opts=6,
                         shuffle=True, fletcher32=True, track_times=False)
        f.create_dataset("label", data=label, track_times=False)

    with h5py.File(OUT, "r") as f:
        info = f["data"].id.get_chunk_info(CORRUPT_CHUNK)
    with open(OUT, "r+b") as raw:
        position = info.byte_offset + info.size // 2
        raw.seek(position)
        old = raw.read(8)
        raw.seek(position)
        raw.write(bytes(b ^ 0xFF for b in old))


if __name__ == "__main__":
    main()
