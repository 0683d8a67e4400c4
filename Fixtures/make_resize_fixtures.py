#!/usr/bin/env python3
"""Writes the fixtures of `--resize` (OpenCV's INTER_LINEAR) into Fixtures/resize/.

Run from anywhere: `python3 Fixtures/make_resize_fixtures.py`. Needs numpy and Pillow. Values are seeded
(smooth gradients plus noise, so that interpolation errors show); PNG is lossless, so a test decodes the
same values with OpenCV and compares `cv2.resize` with datasan's resize pixel for pixel.

Layout (flat folders, no labels; names sort in the order written):
- rgb/:  RGB PNGs of many sizes: 1 x 1, 1 x 9, 9 x 1, 2 x 2, 4 x 6, 7 x 5, 16 x 12, 33 x 17, 64 x 48, and
         seeded random sizes from 1 to 80 on each side.
- gray/: gray (L) PNGs of the same sizes.
- gray16/: 16-bit gray PNGs (I;16) of a few sizes (OpenCV resizes 16-bit images in float).
- mixed/: an ImageFolder (cat/, dog/) of RGB PNGs and JPEGs (Pillow, quality 90) of several sizes,
          for --resize of JPEGs and of an encoded LMDB.
- same/:  an ImageFolder (cat/, dog/) of RGB PNGs and JPEGs of one size (24 x 32), for the whole
          pipeline: folder -> encoded LMDB -> scan.
"""
import os
import shutil

import numpy as np
from PIL import Image

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resize")
rng = np.random.default_rng(20261207)

FIXED = [(1, 1), (1, 9), (9, 1), (2, 2), (4, 6), (7, 5), (16, 12), (33, 17), (64, 48)]
RANDOM = [tuple(int(v) for v in rng.integers(1, 81, 2)) for _ in range(8)]


def image(h, w, channels, top=255):
    y, x = np.mgrid[0:h, 0:w]
    planes = []
    for c in range(channels):
        base = (x * (37 + 11 * c) + y * (23 + 5 * c)) % (top + 1)
        noise = rng.integers(-top // 8, top // 8 + 1, (h, w))
        planes.append(np.clip(base + noise, 0, top))
    return np.stack(planes, -1)


def main():
    if os.path.isdir(HERE):
        shutil.rmtree(HERE)
    for sub in ("rgb", "gray", "gray16", "mixed/cat", "mixed/dog", "same/cat", "same/dog"):
        os.makedirs(os.path.join(HERE, sub))
    for n, (h, w) in enumerate(FIXED + RANDOM):
        name = "%02d_%dx%d.png" % (n, h, w)
        Image.fromarray(image(h, w, 3).astype(np.uint8), "RGB").save(os.path.join(HERE, "rgb", name))
        Image.fromarray(image(h, w, 1)[:, :, 0].astype(np.uint8), "L").save(os.path.join(HERE, "gray", name))
    for n, (h, w) in enumerate([(1, 1), (5, 3), (16, 12), (31, 20)]):
        values = image(h, w, 1, top=65535)[:, :, 0].astype(np.uint16)
        Image.fromarray(values).save(os.path.join(HERE, "gray16", "%02d_%dx%d.png" % (n, h, w)))
    sizes = [(24, 32), (17, 13), (40, 40), (9, 31)]
    for n, (h, w) in enumerate(sizes):
        for cls in ("cat", "dog"):
            im = Image.fromarray(image(h, w, 3).astype(np.uint8), "RGB")
            if n % 2 == 0:
                im.save(os.path.join(HERE, "mixed", cls, "%s%d.jpg" % (cls, n)), quality=90)
            else:
                im.save(os.path.join(HERE, "mixed", cls, "%s%d.png" % (cls, n)))
    for n in range(3):
        for cls in ("cat", "dog"):
            im = Image.fromarray(image(24, 32, 3).astype(np.uint8), "RGB")
            if n % 2 == 0:
                im.save(os.path.join(HERE, "same", cls, "%s%d.jpg" % (cls, n)), quality=90)
            else:
                im.save(os.path.join(HERE, "same", cls, "%s%d.png" % (cls, n)))


if __name__ == "__main__":
    main()
