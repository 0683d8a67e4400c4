#!/usr/bin/env python3
"""Writes the LMDB fixtures of datasan's tests into Fixtures/lmdb/.

Run from anywhere: `python3 Fixtures/make_lmdb_fixtures.py`. Needs the Python packages `lmdb` and
`protobuf` (no protoc: the Datum message class is built at run time from a FileDescriptorProto with the
field numbers of SPEC.md / Caffe's caffe.proto, so every Datum below is serialized by Google's protobuf
library exactly as Caffe's tools would write it). PNG files are written by hand (zlib + CRC-32), so the
output is deterministic: the committed files are exactly what this script writes. Lock files are removed
(Fixtures/lmdb/.gitignore ignores the ones a reader creates).

Datum fields: channels=1 height=2 width=3 (int32), data=4 (bytes), label=5 (int32), float_data=6
(repeated float; Caffe's proto2 declares it unpacked, `DatumPacked` below is the same message with
[packed=true]), encoded=7 (bool).

Reader fixtures (Tests/DatasanLMDBTests), each a directory environment unless said otherwise:

  raw.lmdb        5 raw uint8 Datums 3x4x4, value[c][h][w] = (48*n + 16*c + 4*h + w) % 256 for the
                  n-th record below:
                    n=0 key "0x41"       label 4    (valid UTF-8 that looks like hex: shown as 0x30783431)
                    n=1 key "a0"         label 0
                    n=2 key "a1"         label 7
                    n=3 key "a2"         label -1   (a negative int32: a 10-byte varint)
                    n=4 key b"\\xff\\xfe"  label 3    (not UTF-8: shown as 0xfffe)
  float.lmdb      float32 Datums 2x2x3 (channels=2, height=2, width=3), value[i] = 0.25*i - 1 + k:
                    "f0" k=0 packed float_data, label 0
                    "f1" k=10 unpacked float_data (Caffe's encoding), label 1
                    "f2" k=20 hand-made bytes: 4 values in one packed field, then 8 unpacked, label 2
                    "f3" k=30 packed, value[5] = NaN, label 3
  encoded.lmdb    encoded PNG Datums (data + label + encoded=true, as convert_imageset writes them):
                    "e0" RGB 8-bit 5x4 (h x w), pixel (y,x,ch) = 10*y + 3*x + 50*ch, c/h/w unset, label 0
                    "e1" gray 8-bit 5x4 value 7*y + x, c/h/w unset, label 1
                    "e2" the RGB image of e0 with channels=3 height=4 width=4 set (wrong) -> shape_mismatch
                    "e3" RGB 16-bit 5x4, value 1000*y + 10*x + ch -> 16-bit image in a uint8 dataset
                    "e4" the PNG of e0 with one IDAT data byte flipped -> unreadable (libpng: zlib error)
                    "e5" the PNG of e0 cut to half -> unreadable
                    "e6" JPEG-looking bytes (FF D8 FF E0 ...) -> unreadable (JPEG)
                    "e7" encoded=true, empty data -> unreadable
  defects.lmdb    "d00_good" raw 3x4x4 (values 0..47) label 0, then one planted defect per record:
                    "d01_truncated"    a raw Datum's bytes cut inside its data field
                    "d02_random"       64 seeded random bytes
                    "d03_empty"        an empty value
                    "d04_short_data"   data of 47 bytes for 3x4x4
                    "d05_float_count"  47 float_data values for 3x4x4 (no data)
                    "d06_neither"      channels/height/width set, no data, no float_data
                    "d07_wrong_wire"   field 4 (data) sent as a varint
                    "d08_bad_varint"   a tag followed by 11 continuation bytes
                    "d09_unknown"      d00's values plus unknown fields 15 (varint), 16 (bytes),
                                       17 (fixed64), 18 (fixed32), 19 (a group) -> readable, label 9
                    "d10_float_record" a valid float_data 3x4x4 record -> float_data in a uint8 dataset
                    "d11_bad_png"      encoded, a PNG with a flipped IDAT byte
  nosubdir.mdb    a single-file environment (MDB_NOSUBDIR): raw 1x2x2 Datums "k0" [1,2,3,4] label 0 and
                  "k1" [5,6,7,8] label 1
  tiny_1x2x2.lmdb 3 raw uint8 Datums 1x2x2 (the smallest images, fewer than 16 values per channel):
                  key "t%d", value[j] = 60*n + j, label n % 2
  tiny_3x1x1.lmdb 3 raw uint8 Datums 3x1x1 (one pixel of three channels): key "t%d",
                  value[c] = 80*n + c, label n % 2
  many.lmdb       300 raw Datums 1x8x8 (key "%05d", value[j] = (n + j) % 256, label n % 10) and, every
                  50th record, a 3x40x40 raw Datum (overflow pages): several leaf pages, a branch page,
                  overflow pages. The tests overwrite its pages with garbage on temporary copies.
  truncated.lmdb  many.lmdb's data.mdb cut to 3 pages (exit 2: truncated)
  garbage_page.lmdb many.lmdb with its main database's root page (the branch page) overwritten with
                  seeded random bytes (exit 2: corrupt, never a crash)
  not_lmdb.lmdb   a directory whose data.mdb is text (exit 2: not an LMDB)

CLI fixture (Tests/DatasanCLITests):

  train.lmdb      a Caffe-style LMDB as convert_imageset builds it from an image list: 40 records, keys
                  "%08d_<class>/<name>.png" ("00000000_cat/img_000.png" ...), encoded PNG Datums of
                  3x8x8 RGB 8-bit images (no channels/height/width), labels = class index 0..3
                  (cat, dog, fox, owl in turn). Planted:
                    record 7  ("00000007_owl/img_007.png")  PNG truncated to half -> unreadable
                    record 19 ("00000019_owl/img_019.png")  one IDAT byte flipped -> unreadable
                    records 11, 23, 31                      label -1 -> label_out_of_domain
                  So: 40 samples, 5 flagged (2 unreadable, 3 label_out_of_domain), 35 clean; the
                  pixels are raw 0..255 (unnormalized_scale).
"""

import os
import random
import shutil
import struct
import zlib

import lmdb
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "lmdb")
MAP_SIZE = 1 << 20


# -- Datum, built from a descriptor -----------------------------------------------------------------

def datum_classes():
    """Datum (Caffe's proto2: float_data unpacked) and DatumPacked (float_data [packed=true])."""
    fdp = descriptor_pb2.FileDescriptorProto(name="datasan_datum.proto", package="caffe", syntax="proto2")
    F = descriptor_pb2.FieldDescriptorProto
    for name, packed in (("Datum", False), ("DatumPacked", True)):
        m = fdp.message_type.add(name=name)
        for field, number, ftype, label in (
            ("channels", 1, F.TYPE_INT32, F.LABEL_OPTIONAL),
            ("height", 2, F.TYPE_INT32, F.LABEL_OPTIONAL),
            ("width", 3, F.TYPE_INT32, F.LABEL_OPTIONAL),
            ("data", 4, F.TYPE_BYTES, F.LABEL_OPTIONAL),
            ("label", 5, F.TYPE_INT32, F.LABEL_OPTIONAL),
            ("float_data", 6, F.TYPE_FLOAT, F.LABEL_REPEATED),
            ("encoded", 7, F.TYPE_BOOL, F.LABEL_OPTIONAL),
        ):
            f = m.field.add(name=field, number=number, type=ftype, label=label)
            if field == "encoded":
                f.default_value = "false"
            if field == "float_data" and packed:
                f.options.packed = True
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return (message_factory.GetMessageClass(pool.FindMessageTypeByName("caffe.Datum")),
            message_factory.GetMessageClass(pool.FindMessageTypeByName("caffe.DatumPacked")))


Datum, DatumPacked = datum_classes()


def raw_datum(c, h, w, values, label):
    d = Datum(channels=c, height=h, width=w, data=bytes(values), label=label)
    return d.SerializeToString()


def float_datum(c, h, w, values, label, packed):
    cls = DatumPacked if packed else Datum
    d = cls(channels=c, height=h, width=w, label=label)
    d.float_data.extend(values)
    return d.SerializeToString()


def encoded_datum(png, label, dims=None):
    d = Datum(data=png, label=label, encoded=True)
    if dims:
        d.channels, d.height, d.width = dims
    return d.SerializeToString()


# -- PNG by hand --------------------------------------------------------------------------------------

def chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def png(width, height, channels, bit_depth, pixel):
    """pixel(y, x, ch) -> int; channels 1 (gray) or 3 (RGB)."""
    color_type = {1: 0, 3: 2}[channels]
    rows = b""
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            for ch in range(channels):
                v = pixel(y, x, ch)
                row += struct.pack(">H", v) if bit_depth == 16 else bytes([v])
        rows += bytes(row)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b""))


def flip_idat_byte(data):
    """Flips one byte inside the IDAT payload (the CRC no longer matches)."""
    at = data.index(b"IDAT") + 4 + 2
    return data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1:]


# -- Environments --------------------------------------------------------------------------------------

def remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def write_env(name, records, subdir=True):
    path = os.path.join(OUT, name)
    remove(path)
    remove(path + "-lock")
    env = lmdb.open(path, map_size=MAP_SIZE, subdir=subdir, meminit=True, sync=True)
    with env.begin(write=True) as txn:
        for key, value in records:
            key = key if isinstance(key, bytes) else key.encode()
            assert txn.put(key, value, overwrite=False), key
    env.close()
    remove(os.path.join(path, "lock.mdb") if subdir else path + "-lock")
    # Read back with the independent reader.
    env = lmdb.open(path, subdir=subdir, readonly=True, lock=False)
    with env.begin() as txn:
        assert txn.stat()["entries"] == len(records), name
    env.close()
    return path


def make_raw():
    keys = ["0x41", "a0", "a1", "a2", b"\xff\xfe"]
    labels = [4, 0, 7, -1, 3]
    records = []
    for n, (key, label) in enumerate(zip(keys, labels)):
        values = [(48 * n + 16 * c + 4 * h + w) % 256 for c in range(3) for h in range(4) for w in range(4)]
        records.append((key, raw_datum(3, 4, 4, values, label)))
    value = records[3][1]
    assert b"\x28\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01" in value, "label -1 must be a 10-byte varint"
    write_env("raw.lmdb", records)


def make_float():
    def values(k):
        return [0.25 * i - 1 + k for i in range(12)]

    records = [
        ("f0", float_datum(2, 2, 3, values(0), 0, packed=True)),
        ("f1", float_datum(2, 2, 3, values(10), 1, packed=False)),
    ]
    # f2: 4 values in one packed field, then 8 unpacked ones (protobuf parsers concatenate them).
    packed = DatumPacked(channels=2, height=2, width=3, label=2)
    packed.float_data.extend(values(20)[:4])
    unpacked = Datum()
    unpacked.float_data.extend(values(20)[4:])
    f2 = packed.SerializeToString() + unpacked.SerializeToString()
    check = Datum()
    check.ParseFromString(f2)
    assert list(check.float_data) == values(20) and check.label == 2
    records.append(("f2", f2))
    v3 = values(30)
    v3[5] = float("nan")
    records.append(("f3", float_datum(2, 2, 3, v3, 3, packed=True)))
    assert b"\x35" in records[1][1] and b"\x32\x30" in records[0][1]  # unpacked tag 0x35, packed 0x32 len 48
    write_env("float.lmdb", records)


def rgb_png():
    return png(4, 5, 3, 8, lambda y, x, ch: 10 * y + 3 * x + 50 * ch)


def make_encoded():
    rgb = rgb_png()
    gray = png(4, 5, 1, 8, lambda y, x, ch: 7 * y + x)
    deep = png(4, 5, 3, 16, lambda y, x, ch: 1000 * y + 10 * x + ch)
    records = [
        ("e0", encoded_datum(rgb, 0)),
        ("e1", encoded_datum(gray, 1)),
        ("e2", encoded_datum(rgb, 2, dims=(3, 4, 4))),
        ("e3", encoded_datum(deep, 3)),
        ("e4", encoded_datum(flip_idat_byte(rgb), 4)),
        ("e5", encoded_datum(rgb[: len(rgb) // 2], 5)),
        ("e6", encoded_datum(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(40)), 6)),
        ("e7", Datum(label=7, encoded=True).SerializeToString()),
    ]
    write_env("encoded.lmdb", records)


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def make_defects():
    rng = random.Random(1234)
    good_values = list(range(48))
    good = raw_datum(3, 4, 4, good_values, 0)
    truncated = raw_datum(3, 4, 4, good_values, 1)
    truncated = truncated[: truncated.index(bytes(good_values[:8])) + 20]
    unknown = bytearray(raw_datum(3, 4, 4, good_values, 9))
    unknown += varint(15 << 3 | 0) + varint(150)                      # field 15 varint 150
    unknown += varint(16 << 3 | 2) + varint(3) + b"abc"               # field 16 bytes
    unknown += varint(17 << 3 | 1) + struct.pack("<d", 2.5)           # field 17 fixed64
    unknown += varint(18 << 3 | 5) + struct.pack("<f", 1.5)           # field 18 fixed32
    unknown += varint(19 << 3 | 3) + varint(20 << 3) + varint(1) + varint(19 << 3 | 4)  # group 19 { 20: 1 }
    check = Datum()
    check.ParseFromString(bytes(unknown))
    assert check.label == 9 and check.data == bytes(good_values)
    records = [
        ("d00_good", good),
        ("d01_truncated", truncated),
        ("d02_random", bytes(rng.getrandbits(8) for _ in range(64))),
        ("d03_empty", b""),
        ("d04_short_data", raw_datum(3, 4, 4, list(range(47)), 4)),
        ("d05_float_count", float_datum(3, 4, 4, [0.5] * 47, 5, packed=False)),
        ("d06_neither", Datum(channels=3, height=4, width=4, label=6).SerializeToString()),
        ("d07_wrong_wire", bytes([1 << 3, 3, 4 << 3 | 0, 5])),
        ("d08_bad_varint", bytes([1 << 3]) + b"\xff" * 11),
        ("d09_unknown", bytes(unknown)),
        ("d10_float_record", float_datum(3, 4, 4, [0.5] * 48, 10, packed=True)),
        ("d11_bad_png", encoded_datum(flip_idat_byte(rgb_png()), 11)),
    ]
    for key, value in records[1:3] + records[6:9]:
        try:
            Datum().ParseFromString(value)
            parsed = True
        except Exception:
            parsed = False
        # protobuf rejects the truncated message and the bad varint too; it keeps a known field with
        # the wrong wire type as an unknown field (datasan rejects it: not a Datum), and random
        # bytes may or may not parse.
        assert key in ("d02_random", "d06_neither", "d07_wrong_wire") or not parsed, key
    write_env("defects.lmdb", records)


def make_nosubdir():
    write_env("nosubdir.mdb", [("k0", raw_datum(1, 2, 2, [1, 2, 3, 4], 0)),
                               ("k1", raw_datum(1, 2, 2, [5, 6, 7, 8], 1))], subdir=False)


def make_tiny():
    write_env("tiny_1x2x2.lmdb", [("t%d" % n, raw_datum(1, 2, 2, [60 * n + j for j in range(4)], n % 2))
                                  for n in range(3)])
    write_env("tiny_3x1x1.lmdb", [("t%d" % n, raw_datum(3, 1, 1, [80 * n + c for c in range(3)], n % 2))
                                  for n in range(3)])


def make_many():
    records = []
    for n in range(300):
        if n % 50 == 0:
            values = [(n + j) % 256 for j in range(3 * 40 * 40)]
            records.append(("%05d" % n, raw_datum(3, 40, 40, values, n % 10)))
        else:
            values = [(n + j) % 256 for j in range(64)]
            records.append(("%05d" % n, raw_datum(1, 8, 8, values, n % 10)))
    path = write_env("many.lmdb", records)
    data = open(os.path.join(path, "data.mdb"), "rb").read()

    truncated = os.path.join(OUT, "truncated.lmdb")
    remove(truncated)
    os.makedirs(truncated)
    with open(os.path.join(truncated, "data.mdb"), "wb") as f:
        f.write(data[: 3 * 4096])

    # The current meta page (higher txnid) names the main database's root page.
    def meta(page):
        base = page * 4096 + 16
        txnid = struct.unpack_from("<Q", data, base + 128)[0]
        root = struct.unpack_from("<Q", data, base + 112)[0]
        return txnid, root

    _, root = max(meta(0), meta(1))
    assert root >= 2 and data[root * 4096 + 10] & 0x01, "the root of many.lmdb must be a branch page"
    rng = random.Random(99)
    garbage = bytearray(data)
    garbage[root * 4096:(root + 1) * 4096] = bytes(rng.getrandbits(8) for _ in range(4096))
    bad = os.path.join(OUT, "garbage_page.lmdb")
    remove(bad)
    os.makedirs(bad)
    with open(os.path.join(bad, "data.mdb"), "wb") as f:
        f.write(bytes(garbage))


def make_not_lmdb():
    path = os.path.join(OUT, "not_lmdb.lmdb")
    remove(path)
    os.makedirs(path)
    with open(os.path.join(path, "data.mdb"), "w") as f:
        f.write("this is not an LMDB data file\n" * 200)


def make_train():
    classes = ["cat", "dog", "fox", "owl"]
    rng = random.Random(2024)
    records = []
    for n in range(40):
        label = n % 4
        name = "%s/img_%03d.png" % (classes[label], n)
        pixels = [[[rng.randrange(256) for _ in range(3)] for _ in range(8)] for _ in range(8)]
        image = png(8, 8, 3, 8, lambda y, x, ch: pixels[y][x][ch])
        if n == 7:
            image = image[: len(image) // 2]
        if n == 19:
            image = flip_idat_byte(image)
        if n in (11, 23, 31):
            label = -1
        records.append(("%08d_%s" % (n, name), encoded_datum(image, label)))
    write_env("train.lmdb", records)


def main():
    os.makedirs(OUT, exist_ok=True)
    make_raw()
    make_float()
    make_encoded()
    make_defects()
    make_nosubdir()
    make_tiny()
    make_many()
    make_not_lmdb()
    make_train()
    with open(os.path.join(OUT, ".gitignore"), "w") as f:
        f.write("# Lock files that liblmdb creates when a fixture is opened in place.\nlock.mdb\n*-lock\n")
    total = 0
    for root, _, files in os.walk(OUT):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    print("wrote %s (%d KiB)" % (OUT, total // 1024))


if __name__ == "__main__":
    main()
