#!/usr/bin/env python3
"""Writes Fixtures/sizes/: an ImageFolder of real photos of mixed sizes, PNG and JPEG (issue 12 item 4,
`--shape any` and the size distribution).

Run from anywhere: `python3 Fixtures/make_sizes_fixtures.py`. Needs numpy, Pillow, scikit-image and
matplotlib (`pip install scikit-image matplotlib`): the photos are the sample images those two packages
bundle, real third-party photographs, scaled down with Pillow (LANCZOS) so that the fixture stays small
(15 files, ~50 KB). Pillow's output is deterministic for a given Pillow / libjpeg-turbo / zlib; the
committed files are what this script made with Pillow 13.0.0, scikit-image 0.26.0, matplotlib 3.11.2.

Origin and licence of each photo (from the packages' docstrings):
    chelsea     scikit-image data/chelsea.png     Chelsea the cat; CC0 by the photographer (Stefan van der Walt)
    coffee      scikit-image data/coffee.png      coffee cup; CC0 by the photographer (Rachel Michetti)
    retina      scikit-image data/retina.jpg      human retina, Wikimedia Commons "Fundus photograph of
                                                  normal left eye", CC0 1.0
    camera      scikit-image data/camera.png      gray camera man; CC0 by the photographer (Lav Varshney)
    astronaut   scikit-image data/astronaut.png   Eileen Collins, NASA Great Images; public domain
    rocket      scikit-image data/rocket.jpg      DSCOVR launch, SpaceX photos; public domain
    hubble      scikit-image data/hubble_deep_field.jpg  Hubble eXtreme Deep Field, NASA; public domain
    grace_hopper  matplotlib mpl-data/sample_data/grace_hopper.jpg  Rear Admiral Grace Hopper, US Navy
                                                  photograph; public domain

Layout (class folders `earth` = label 0, `space` = label 1; sizes are H x W; RGB unless said):
    earth/chelsea.jpg           40 x 60  baseline 4:2:0, quality 90
    earth/chelsea_crop.png      48 x 48
    earth/coffee.png            40 x 60
    earth/coffee_small.jpg      32 x 48  progressive
    earth/retina.jpg            48 x 48  4:4:4
    earth/camera_gray.png       40 x 40  gray (1 channel): shape_mismatch even under --shape any
    space/astronaut.jpg         48 x 48
    space/astronaut_large.png   64 x 64
    space/rocket.jpg            40 x 60
    space/rocket_odd.jpg        27 x 40  (partial MCUs)
    space/hubble.png            36 x 36
    space/hubble_wide.jpg       40 x 60
    space/grace_hopper.jpg      56 x 42  (portrait)
    space/grace_hopper.png      56 x 42
    space/notes.txt             not an image (skipped_files)
So the colour sizes are 3x40x60 (4), 3x48x48 (3), 3x56x42 (2) and 3x27x40, 3x32x48, 3x36x36,
3x64x64 (1 each): 14 colour images in 7 sizes, plus the gray one (1x40x40).
"""

import os

import matplotlib
import numpy as np
import skimage
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "sizes")
SKIMAGE = os.path.join(os.path.dirname(skimage.__file__), "data")
MPL = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "sample_data")


def photo(name):
    path = os.path.join(MPL, name) if name == "grace_hopper.jpg" else os.path.join(SKIMAGE, name)
    image = Image.open(path)
    image.load()
    return image


def square(image):
    w, h = image.size
    s = min(w, h)
    return image.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))


def sized(image, h, w, mode="RGB"):
    return image.convert(mode).resize((w, h), Image.LANCZOS)


def main():
    files = {
        "earth/chelsea.jpg": (sized(photo("chelsea.png"), 40, 60), dict(quality=90)),
        "earth/chelsea_crop.png": (sized(square(photo("chelsea.png")), 48, 48), {}),
        "earth/coffee.png": (sized(photo("coffee.png"), 40, 60), {}),
        "earth/coffee_small.jpg": (sized(photo("coffee.png"), 32, 48), dict(quality=90, progressive=True)),
        "earth/retina.jpg": (sized(square(photo("retina.jpg")), 48, 48), dict(quality=90, subsampling=0)),
        "earth/camera_gray.png": (sized(photo("camera.png"), 40, 40, "L"), {}),
        "space/astronaut.jpg": (sized(photo("astronaut.png"), 48, 48), dict(quality=90)),
        "space/astronaut_large.png": (sized(photo("astronaut.png"), 64, 64), {}),
        "space/rocket.jpg": (sized(photo("rocket.jpg"), 40, 60), dict(quality=90)),
        "space/rocket_odd.jpg": (sized(photo("rocket.jpg"), 27, 40), dict(quality=85)),
        "space/hubble.png": (sized(square(photo("hubble_deep_field.jpg")), 36, 36), {}),
        "space/hubble_wide.jpg": (sized(photo("hubble_deep_field.jpg"), 40, 60), dict(quality=90)),
        "space/grace_hopper.jpg": (sized(photo("grace_hopper.jpg"), 56, 42), dict(quality=90)),
        "space/grace_hopper.png": (sized(photo("grace_hopper.jpg"), 56, 42), {}),
    }
    for rel, (image, options) in files.items():
        path = os.path.join(OUT, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        image.save(path, **options)
    with open(os.path.join(OUT, "space", "notes.txt"), "w") as f:
        f.write("not an image: counted in skipped_files\n")
    # What the files decode to, for a look: the sizes by count.
    sizes = {}
    for rel in files:
        a = np.asarray(Image.open(os.path.join(OUT, rel)))
        shape = (1,) + a.shape if a.ndim == 2 else (a.shape[2],) + a.shape[:2]
        sizes[shape] = sizes.get(shape, 0) + 1
    for shape, n in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print("x".join(map(str, shape)), n)


if __name__ == "__main__":
    main()
