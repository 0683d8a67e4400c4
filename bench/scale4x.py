#!/usr/bin/env python3
"""Makes the 4x datasets of the scaling benchmark from the full-scale ones (run by make bench).

    python3 bench/scale4x.py SRC_DIR DST_DIR

DST/hdf5/train.h5: SRC's `data` and `label` repeated 4 times, same dtype, chunks and filters (h5py).
DST/csv/train.csv: SRC's header, then its data rows 4 times. Existing outputs are reused.
"""
import os
import shutil
import sys


def hdf5(src, dst):
    import h5py
    if os.path.exists(dst):
        return
    tmp = dst + ".tmp"
    with h5py.File(src, "r") as fi, h5py.File(tmp, "w") as fo:
        for name in ("data", "label"):
            d = fi[name]
            n = d.shape[0]
            out = fo.create_dataset(name, shape=(4 * n,) + d.shape[1:], dtype=d.dtype, chunks=d.chunks,
                                    compression=d.compression, compression_opts=d.compression_opts,
                                    shuffle=d.shuffle)
            row_bytes = d.dtype.itemsize * (int(d[0].size) if d.ndim > 1 else 1)
            step = max(1, (64 << 20) // row_bytes)
            for start in range(0, n, step):
                block = d[start:start + step]
                for k in range(4):
                    out[k * n + start:k * n + start + len(block)] = block
    os.replace(tmp, dst)


def csv(src, dst):
    if os.path.exists(dst):
        return
    tmp = dst + ".tmp"
    with open(src, "rb") as fi:
        header = fi.readline()
        body_start = fi.tell()
    with open(tmp, "wb") as fo:
        fo.write(header)
        for _ in range(4):
            with open(src, "rb") as fi:
                fi.seek(body_start)
                shutil.copyfileobj(fi, fo, 16 << 20)
    os.replace(tmp, dst)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(dst, "hdf5"), exist_ok=True)
    os.makedirs(os.path.join(dst, "csv"), exist_ok=True)
    hdf5(os.path.join(src, "hdf5/train.h5"), os.path.join(dst, "hdf5/train.h5"))
    csv(os.path.join(src, "csv/train.csv"), os.path.join(dst, "csv/train.csv"))


if __name__ == "__main__":
    main()
