#!/usr/bin/env python3
"""Compressed CSV fixtures (Fixtures/compressed/), for the compressed-input tests.

- digits.csv.gz: scikit-learn's copy of the UCI optical handwritten digits (8x8 images, 1,797 rows, 64
  pixel columns and the class), byte for byte as the scikit-learn wheel ships it
  (sklearn/datasets/data/digits.csv.gz; BSD-3-Clause with scikit-learn, the data CC BY 4.0 from the
  UCI Machine Learning Repository). Needs `pip install scikit-learn`.
- dirty.csv.gz / .bz2 / .xz / .zst: Fixtures/csv/dirty.csv compressed by Python's gzip, bz2 and lzma
  modules and the zstandard package (what pandas reads and writes them with).
- dirty_members.csv.gz: the same bytes as two gzip members one after the other (`cat a.gz b.gz`),
  which gzip, Python and pandas read as one stream.
- truncated.csv.* : the first two thirds of each dirty.csv.*; corrupt.csv.*: a byte in the middle of
  the compressed data flipped.
- not_csv.gz: a gzip stream of binary bytes (not text).
- huge_window.csv.xz / .zst: dirty.csv compressed with a 1.5 GiB xz dictionary / a 2 GiB zstd window
  (made by the xz and zstd tools): a decoder sized by the header would take that memory.
"""
import bz2
import gzip
import lzma
import os
import shutil
import subprocess

import sklearn
import zstandard

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "compressed")


def compressors():
    return {
        "gz": lambda b: gzip.compress(b, compresslevel=6, mtime=0),
        "bz2": lambda b: bz2.compress(b, 9),
        "xz": lambda b: lzma.compress(b, preset=6),
        "zst": lambda b: zstandard.ZstdCompressor(level=3, write_checksum=True).compress(b),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    src = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "data", "digits.csv.gz")
    shutil.copyfile(src, os.path.join(OUT, "digits.csv.gz"))
    plain = open(os.path.join(HERE, "csv", "dirty.csv"), "rb").read()
    for ext, compress in compressors().items():
        data = compress(plain)
        open(os.path.join(OUT, f"dirty.csv.{ext}"), "wb").write(data)
        open(os.path.join(OUT, f"truncated.csv.{ext}"), "wb").write(data[: len(data) * 2 // 3])
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x55
        open(os.path.join(OUT, f"corrupt.csv.{ext}"), "wb").write(bytes(flipped))
    half = len(plain) // 2
    open(os.path.join(OUT, "dirty_members.csv.gz"), "wb").write(
        gzip.compress(plain[:half], mtime=0) + gzip.compress(plain[half:], mtime=0))
    open(os.path.join(OUT, "not_csv.gz"), "wb").write(gzip.compress(bytes(range(256)) * 8, mtime=0))
    xz = subprocess.run(["xz", "-c", "--lzma2=dict=1536MiB"], input=plain, stdout=subprocess.PIPE, check=True)
    open(os.path.join(OUT, "huge_window.csv.xz"), "wb").write(xz.stdout)
    zst = subprocess.run(["zstd", "-q", "-c", "--long=31"], input=plain, stdout=subprocess.PIPE, check=True)
    open(os.path.join(OUT, "huge_window.csv.zst"), "wb").write(zst.stdout)


if __name__ == "__main__":
    main()
