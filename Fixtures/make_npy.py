#!/usr/bin/env python3
"""Writes Fixtures/npy: NumPy arrays saved by numpy itself (np.save / np.savez / np.savez_compressed)
for datasan's NPY reader, plus hostile and foreign files (each a few hundred bytes).

  dtypes/<dtype>_<order>_<C|F>.npy  every numeric dtype numpy saves (bool, int8..int64,
                                    uint8..uint64, float16/32/64), little- and big-endian, C and
                                    Fortran order: shape (6, 2, 3), values 0..35 (bool: odd ones)
  x_train.npy, y_train.npy          float32 (20, 4) with a NaN (row 3) and an Inf (row 7); int64
                                    labels in 0..2 with -1 at row 5
  data.npz / data_compressed.npz    the same as arrays x and y (np.savez / np.savez_compressed)
  mnist_like.npz                    x_train, y_train, x_test, y_test (Keras' mnist.npz layout)
  object.npy, complex.npy, strings.npy, structured.npy   dtypes datasan refuses
  truncated.npy                     x_train.npy cut inside its data
  huge_shape.npy                    a header claiming shape (10**12, 10**6) over 16 bytes
  header_cut.npy                    a header cut short
  foreign/                          formats datasan does not read: a pickle (pickle.dump), a zip
                                    without arrays (zipfile), a TFRecord written by hand after
                                    TensorFlow's record format (length, masked CRC-32C, data, masked
                                    CRC-32C), and files that carry only the Parquet / Arrow magic
                                    bytes around binary filler (pyarrow is not installed here)

Run: python3 Fixtures/make_npy.py  (numpy only; deterministic)
"""
import io
import os
import pickle
import struct
import zipfile

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")


def main():
    os.makedirs(os.path.join(HERE, "dtypes"), exist_ok=True)
    os.makedirs(os.path.join(HERE, "foreign"), exist_ok=True)
    base = np.arange(36).reshape(6, 2, 3)
    for code in ["b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8"]:
        orders = ["|"] if code[1] == "1" else ["<", ">"]
        for bo in orders:
            dt = np.dtype(bo + code)
            values = (base % 2 == 1) if code == "b1" else base
            for order in ["C", "F"]:
                a = np.array(values, dtype=dt, order=order)
                name = "%s_%s_%s.npy" % (dt.name if code != "b1" else "bool", {"|": "na", "<": "le", ">": "be"}[bo], order)
                np.save(os.path.join(HERE, "dtypes", name), a)

    x = (np.arange(80, dtype=np.float32).reshape(20, 4) / 10.0).astype(np.float32)
    x[3, 1] = np.nan
    x[7, 2] = np.inf
    y = (np.arange(20) % 3).astype(np.int64)
    y[5] = -1
    np.save(os.path.join(HERE, "x_train.npy"), x)
    np.save(os.path.join(HERE, "y_train.npy"), y)
    np.savez(os.path.join(HERE, "data.npz"), x=x, y=y)
    np.savez_compressed(os.path.join(HERE, "data_compressed.npz"), x=x, y=y)
    np.savez(os.path.join(HERE, "mnist_like.npz"), x_train=x[:12], y_train=y[:12], x_test=x[12:], y_test=y[12:])

    np.save(os.path.join(HERE, "object.npy"), np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(os.path.join(HERE, "complex.npy"), np.arange(4, dtype=np.complex64))
    np.save(os.path.join(HERE, "strings.npy"), np.array(["cat", "dog"]))
    np.save(os.path.join(HERE, "structured.npy"), np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]))

    raw = open(os.path.join(HERE, "x_train.npy"), "rb").read()
    open(os.path.join(HERE, "truncated.npy"), "wb").write(raw[: len(raw) - 100])
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1000000), }"
    header = header + " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    open(os.path.join(HERE, "huge_shape.npy"), "wb").write(
        b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\x00" * 16)
    open(os.path.join(HERE, "header_cut.npy"), "wb").write(raw[:40])

    f = os.path.join(HERE, "foreign")
    with open(os.path.join(f, "labels.pkl"), "wb") as out:
        pickle.dump({"x": [1.0, 2.0]}, out, protocol=4)
    with zipfile.ZipFile(os.path.join(f, "notes.zip"), "w") as z:
        z.writestr("readme.txt", "not arrays\n")
    with open(os.path.join(f, "train.tfrecord"), "wb") as out:
        for payload in [b"\x0a\x03abc", b"\x0a\x05hello"]:
            length = struct.pack("<Q", len(payload))
            out.write(length + struct.pack("<I", masked_crc(length)) + payload + struct.pack("<I", masked_crc(payload)))
    filler = bytes(range(256)) * 2
    open(os.path.join(f, "table.parquet"), "wb").write(b"PAR1" + filler + struct.pack("<I", 0) + b"PAR1")
    open(os.path.join(f, "table.feather"), "wb").write(b"ARROW1\x00\x00" + filler + b"ARROW1")


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked_crc(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


if __name__ == "__main__":
    main()
