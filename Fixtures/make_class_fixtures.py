#!/usr/bin/env python3
"""Writes the class-list fixtures of datasan into Fixtures/classes/.

Run from anywhere: `python3 Fixtures/make_class_fixtures.py`. Needs numpy and Pillow. The output is
deterministic (seeded, no timestamps); the committed files are exactly what this script makes.

Image folders in torchvision's ImageFolder layout, RGB 8-bit 6x6 PNGs written by Pillow, values
seeded per file:

- train/: cat/ (cat_0..cat_2.png), dog/ (dog_0..dog_2.png), fish/ (fish_0..fish_2.png). Labels by
  ImageFolder: cat 0, dog 1, fish 2.
- val_deleted/: train without dog/ (cat/, fish/, 2 images each). ImageFolder alone labels fish 1:
  every fish label shifts silently; with --classes cat,dog,fish fish stays 2 and dog is class_missing.
- val_renamed/: cat/, doggo/ (dog renamed), fish/, 2 images each: with --classes cat,dog,fish the
  doggo files are unknown_class and dog is class_missing.
- val_extra/: cat/, dog/, fish/ and bird/ (a class not in train), 1 image each, plus stray.png at
  the root (in no class folder): with --classes cat,dog,fish bird/bird_0.png and stray.png are
  unknown_class.
- order/: class folder names whose order differs between sorts: "10", "9", "Zebra", "apple",
  "écureuil" (UTF-8), "_under", 1 image each. torchvision's find_classes sorts the names (code
  points; UTF-8 byte order is the same order): 10, 9, Zebra, _under, apple, écureuil.
"""

import os
import shutil

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "classes")


def image(path, seed):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(pixels, "RGB").save(path, format="PNG", optimize=False)


def folder(name, classes, per_class, seed):
    for c, cls in enumerate(classes):
        for i in range(per_class):
            image(os.path.join(ROOT, name, cls, f"{cls}_{i}.png"), seed * 1000 + c * 10 + i)


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    folder("train", ["cat", "dog", "fish"], 3, 1)
    folder("val_deleted", ["cat", "fish"], 2, 2)
    folder("val_renamed", ["cat", "doggo", "fish"], 2, 3)
    folder("val_extra", ["bird", "cat", "dog", "fish"], 1, 4)
    image(os.path.join(ROOT, "val_extra", "stray.png"), 4999)
    folder("order", ["10", "9", "Zebra", "apple", "\u00e9cureuil", "_under"], 1, 5)


if __name__ == "__main__":
    main()
