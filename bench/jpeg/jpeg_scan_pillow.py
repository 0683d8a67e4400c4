#!/usr/bin/env python3
"""PEER for the JPEG rows of `make bench` (issue 12): what a user writes without datasan. Pillow,
image by image, single process: Image.open + load() (a full decode; a truncated file or corrupt
entropy data raises), the decoded images stacked in batches for vectorized per-channel min / max /
mean / std. Prints one JSON line.

    jpeg_scan_pillow.py ROOT          ImageFolder ROOT/<class>/NAME.jpg (or flat), in path order
    jpeg_scan_pillow.py --lmdb DB     encoded Datums of an LMDB, data field decoded, in key order
"""
import argparse
import io
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Python"))
import caffe_datum  # noqa: E402


def files(root):
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir())
    dirs = [os.path.join(root, c) for c in classes] or [root]
    for d in dirs:
        for f in sorted(os.listdir(d)):
            if f.lower().endswith((".jpg", ".jpeg")):
                with open(os.path.join(d, f), "rb") as fh:
                    yield fh.read()


def records(path):
    import lmdb
    env = lmdb.open(path, readonly=True, lock=False, readahead=True, max_readers=1)
    with env.begin(buffers=True) as txn:
        for _, value in txn.cursor():
            yield caffe_datum.fields(bytes(value)).get(4, b"")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--lmdb", action="store_true")
    ap.add_argument("--batch", type=int, default=1024)
    a = ap.parse_args()
    n = bad = 0
    total = None
    buf = []
    acc = {"count": 0}

    def flush():
        if not buf:
            return
        x = np.stack(buf).astype(np.float64)  # n x H x W x C
        x = x.reshape(x.shape[0], -1, x.shape[3])
        s, ss = x.sum(axis=(0, 1)), (x * x).sum(axis=(0, 1))
        lo, hi = x.min(axis=(0, 1)), x.max(axis=(0, 1))
        if acc["count"] == 0:
            acc.update(sum=s, sumsq=ss, min=lo, max=hi)
        else:
            acc["sum"] += s; acc["sumsq"] += ss
            acc["min"] = np.minimum(acc["min"], lo); acc["max"] = np.maximum(acc["max"], hi)
        acc["count"] += x.shape[0] * x.shape[1]
        buf.clear()

    shape = None
    for data in (records(a.path) if a.lmdb else files(a.path)):
        n += 1
        try:
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                arr = np.asarray(im)
        except Exception:
            bad += 1
            continue
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if shape is None:
            shape = arr.shape
        if arr.shape != shape:
            bad += 1
            continue
        buf.append(arr)
        if len(buf) >= a.batch:
            flush()
    flush()
    out = {"peer": "jpeg_scan_pillow", "path": a.path, "images": n, "unreadable": bad}
    if acc["count"]:
        mean = acc["sum"] / acc["count"]
        out.update(mean=mean.tolist(), std=np.sqrt(np.maximum(acc["sumsq"] / acc["count"] - mean * mean, 0)).tolist(),
                   min=acc["min"].tolist(), max=acc["max"].tolist())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
