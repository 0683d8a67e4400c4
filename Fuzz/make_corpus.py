#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (Fuzz/corpus/<target>/) from the Fixtures.

Run from the repository root: python3 Fuzz/make_corpus.py (needs the lmdb module: pip install lmdb).
Seeds are small (the largest fixtures are left out) so that the regression test replays them all in
seconds. Re-running rewrites the corpora; the fuzzer's own findings live in .build-fuzz/corpus.
"""
import glob
import hashlib
import os
import re
import shutil
import struct

import sys

import lmdb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Python"))
from caffe_datum import read_varint, varint  # noqa: E402 (after the path)
CORPUS = os.path.join(ROOT, "Fuzz", "corpus")
MAX_SEED = 64 * 1024
# huge.h5 (2^40 declared rows, never written) is read for hours until unwritten chunks are reported
# from the chunk index (issue 10 item 6): it is the saved timeout Fuzz/crashes/hdf5/huge.h5 instead.
SLOW_HDF5 = {"huge.h5"}
# The environments whose Datums seed the Datum targets (the others are corrupt on purpose).
READABLE_ENVIRONMENTS = {"raw.lmdb", "encoded.lmdb", "encoded_jpeg.lmdb", "float.lmdb", "train.lmdb", "defects.lmdb", "nosubdir.mdb"}


def put(target, data, name=None):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def fixture_files(pattern):
    for path in sorted(glob.glob(os.path.join(ROOT, "Fixtures", pattern), recursive=True)):
        if os.path.isfile(path) and os.path.getsize(path) <= MAX_SEED:
            yield path, open(path, "rb").read()


def datum_dims(value):
    """channels, height, width of a Datum message (last occurrence; 0 when absent), or None."""
    dims, at = [0, 0, 0], 0
    try:
        while at < len(value):
            tag, at = read_varint(value, at)
            field, wire = tag >> 3, tag & 7
            if wire == 0:
                v, at = read_varint(value, at)
                if 1 <= field <= 3:
                    dims[field - 1] = v
            elif wire == 2:
                n, at = read_varint(value, at)
                at += n
            elif wire == 5:
                at += 4
            elif wire == 1:
                at += 8
            else:
                return None
    except IndexError:
        return None
    return dims


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)

    # PNG: every fixture image (both targets).
    for path, data in fixture_files("png/**/*.png"):
        put("png", data)
        put("png-diff", data)

    # JPEG: every JPEG fixture (the PNG ones under Fixtures/jpeg tell the codec's refusal too).
    for path, data in fixture_files("jpeg/**/*"):
        if not path.endswith((".json", ".txt")):
            put("jpeg", data)

    # LMDB: each environment's data.mdb; Datums: a few values of each environment.
    environments = sorted(glob.glob(os.path.join(ROOT, "Fixtures", "lmdb", "*")))
    for env_path in environments:
        single = os.path.isfile(env_path)
        data_mdb = env_path if single else os.path.join(env_path, "data.mdb")
        if not os.path.isfile(data_mdb) or os.path.getsize(data_mdb) > MAX_SEED:
            continue
        put("lmdb", open(data_mdb, "rb").read())
        if os.path.basename(env_path) not in READABLE_ENVIRONMENTS:
            continue  # the lmdb module itself faults on the corrupt ones
        try:
            env = lmdb.open(env_path, readonly=True, lock=False, subdir=not single)
        except lmdb.Error:
            continue
        with env.begin() as txn:
            for i, (_, value) in enumerate(txn.cursor()):
                if i >= 4:
                    break
                put("datum", value)
                dims = datum_dims(value)
                if dims and all(d < 256 for d in dims):
                    prefix = bytes(dims)
                    put("datum-c", prefix + value)
                    put("datum-diff", prefix + value)
        env.close()
    # Canonical raw Datums the C parser accepts: fields in Caffe's order and shuffled.
    for c, h, w, label in [(1, 2, 2, 0), (3, 2, 2, 7), (1, 1, 1, -1), (3, 4, 4, 9)]:
        data = bytes(range(c * h * w))
        fields = [b"\x08" + varint(c), b"\x10" + varint(h), b"\x18" + varint(w),
                  b"\x22" + varint(len(data)) + data, b"\x28" + varint(label), b"\x38\x00"]
        for order in (fields, fields[::-1]):
            message = b"".join(order)
            put("datum", message)
            put("datum-c", bytes([c, h, w]) + message)
            put("datum-diff", bytes([c, h, w]) + message)

    # HDF5: the small fixtures.
    for path, data in fixture_files("hdf5/*.h5"):
        if os.path.basename(path) not in SLOW_HDF5:
            put("hdf5", data)

    # CSV: every fixture.
    for path, data in fixture_files("csv/*"):
        put("csv", data)

    # Compressed CSV: every fixture (gzip, bzip2, xz, zstd; whole, truncated, corrupt, two members).
    for path, data in fixture_files("compressed/*"):
        if len(data) <= MAX_SEED and not path.endswith(".md"):
            put("compressed", data)

    # Floats: what pandas writes, what people type, and the edges of the fast paths.
    for text in ["0", "-0", "1", "1.", ".5", "3.14159", "-2.5e-3", "1e308", "1e309", "4.9e-324", "2.4703282292062327e-324",
                 "1.7976931348623157e308", "9007199254740993", "0.1000000000000000055511151231257827",
                 "123456789012345678901234567890", "1e-400", "+7", " 42 ", "inf", "-Infinity", "nan", "NA", "#N/A",
                 "1,5", "0x1p3", "1e", "--1", "", "2.2250738585072011e-308", "7.038531e-26"]:
        put("float", text.encode())

    # --list files.
    for path, data in fixture_files("png/list/*.txt"):
        put("list", data)
    # NumPy: every .npy / .npz numpy wrote (Fixtures/make_npy.py), hostile ones included.
    for path, data in fixture_files("npy/**/*.np[yz]"):
        if len(data) <= MAX_SEED:
            put("npy", data)
    put("list", b"a.png 1\r\nb c.png\t-2\n\n  \nd.png x\n../../etc/passwd 3\n/abs.png 4\n")

    # datasan.yml: the keys with typical values, and the shape of a real file.
    keys = re.findall(r'ConfigKey\("(\w+)"', open(os.path.join(ROOT, "Sources", "DatasanConfig", "ConfigKeys.swift")).read())
    put("config", ("# datasan.yml\n" + "".join(f"{k}: 1\n" for k in keys)).encode(), "all_keys.yml")
    put("config", b"input: data/train.h5\nformat: hdf5\nnum_classes: 10\nshape: [3, 32, 32]\nrange: -1,1\n"
                  b"fail_on: [nan, label_out_of_range]\ndelimiter: tab\nheader: true\n", "typical.yml")
    put("config", b"text_columns:\n  - name\n  - 'id'\nlabel_column: \"3\"\nignore_label: -100\nscale_limit: 1e3\n", "lists.yml")
    put("config", b"{input: a.csv, strict: true}\n", "flow.yml")
    put("config", b"input: &a x\nlabels: *a\n", "anchors.yml")
    put("config", b"", "empty.yml")


if __name__ == "__main__":
    main()
