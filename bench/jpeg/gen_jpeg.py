#!/usr/bin/env python3
"""The JPEG data of `make bench` (issue 12): for each size in --sizes (default 64 and 256), --count
(default 20,000) colour JPEGs of quality 90 written by Pillow (libjpeg-turbo, 4:2:0 as Pillow's default)
in an ImageFolder (OUT/jpeg<S>/class_<k>/<i>.jpg, 10 classes), and the same bytes as encoded Caffe Datums
in an LMDB (OUT/jpeg<S>.lmdb, keys %08d_<path> as convert_imageset --encoded writes them).

Images are smooth colour fields with texture and noise (seeded), so that their entropy-coded data is
like a photo's rather than a flat colour's. Deterministic: seed 20261208.

    python3 bench/jpeg/gen_jpeg.py /tmp/dsbench/full/jpeg
"""
import argparse
import io
import os
import sys

import lmdb
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Python"))
import caffe_datum  # noqa: E402


def image(rng, size):
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    a, b, c = rng.uniform(0.5, 6, 3)
    phase = rng.uniform(0, 6.3, 3)
    channels = []
    for k in range(3):
        v = 127 + 90 * np.sin(a * 6.3 * x + phase[k]) * np.cos(b * 6.3 * y + phase[(k + 1) % 3])
        v += 30 * np.sin(c * 20 * (x + y))
        v += rng.normal(0, 12, (size, size))
        channels.append(v)
    return np.clip(np.stack(channels, axis=2), 0, 255).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--sizes", default="64,256")
    ap.add_argument("--classes", type=int, default=10)
    a = ap.parse_args()
    rng = np.random.default_rng(20261208)
    for size in (int(s) for s in a.sizes.split(",")):
        folder = os.path.join(a.out, f"jpeg{size}")
        db = os.path.join(a.out, f"jpeg{size}.lmdb")
        if os.path.exists(os.path.join(db, "data.mdb")):
            continue
        os.makedirs(a.out, exist_ok=True)
        env = lmdb.open(db + ".tmp", map_size=1 << 34, subdir=True)
        txn = env.begin(write=True)
        for i in range(a.count):
            label = i % a.classes
            rel = f"class_{label}/{i:06d}.jpg"
            path = os.path.join(folder, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            buf = io.BytesIO()
            Image.fromarray(image(rng, size)).save(buf, "JPEG", quality=90)
            data = buf.getvalue()
            with open(path, "wb") as f:
                f.write(data)
            txn.put(f"{i:08d}_{rel}".encode(), caffe_datum.datum(channels=3, height=size, width=size, data=data,
                                                                 label=label, encoded=True))
            if i % 1000 == 999:
                txn.commit()
                txn = env.begin(write=True)
        txn.commit()
        env.close()
        os.rename(db + ".tmp", db)
        print(f"wrote {folder} and {db}: {a.count} JPEGs of {size}x{size}", file=sys.stderr)


if __name__ == "__main__":
    main()
