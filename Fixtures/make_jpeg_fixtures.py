#!/usr/bin/env python3
"""Writes the JPEG fixtures of datasan into Fixtures/jpeg/ (and Fixtures/lmdb/encoded_jpeg.lmdb).

Run from anywhere: `python3 Fixtures/make_jpeg_fixtures.py`. Needs numpy, Pillow (its wheels bundle
libjpeg-turbo), the Python packages `lmdb` and `protobuf` (through make_lmdb_fixtures.py), and
libturbojpeg.so.0 (Debian's libturbojpeg0, which datasan links) for the one file Pillow cannot write
(YCCK). Pillow's JPEG output is deterministic for a given Pillow / libjpeg-turbo; the committed files are
what this script made with Pillow 13.0.0. Every broken file is a good one changed at a known place.

Layout:

- kinds/*.jpg + kinds/expected.json: one image per JPEG kind, 16 x 12 unless said, values seeded
  (smooth gradients plus noise, so that every DCT coefficient matters). expected.json maps each name to
  {"channels", "height", "width", "values", "converted_from"}: the values are what Pillow decodes
  (`Image.open(f).convert("RGB")`, or "L" for gray), C x H x W; converted_from is "CMYK" / "YCCK" for the
  two CMYK kinds, else null. For large_320x240.jpg, "png" names a PNG holding those values instead
  (large_320x240.expected.png, RGB, written by Pillow) and "values" is absent.
    baseline_420.jpg   RGB, quality 90, 4:2:0 (Pillow's default subsampling)
    baseline_444.jpg   RGB, quality 90, 4:4:4
    baseline_422.jpg   RGB, quality 75, 4:2:2
    odd_420.jpg        RGB 13 x 7, 4:2:0 (partial MCUs at both edges)
    progressive.jpg    RGB, progressive, 4:2:0
    optimized.jpg      RGB, optimized Huffman tables, 4:4:4
    gray.jpg           L (1 channel)
    cmyk.jpg           CMYK written by Pillow (Adobe-inverted, APP14)
    ycck.jpg           CMYK through TurboJPEG's tjCompress2, which stores it as YCCK
    exif.jpg           RGB with an EXIF block (orientation 6: neither Pillow's open nor datasan rotates)
    restart.jpg        RGB with a restart marker every MCU row (Pillow's restart_marker_rows=1)
    large_320x240.jpg  RGB 320 x 240, quality 90: many MCUs, the SIMD paths
- broken/: a flat folder of files that must be `unreadable`, each with libjpeg's message:
    truncated.jpg         baseline_420 cut halfway through its entropy-coded data ("Premature end of JPEG
                          file", a libjpeg warning)
    truncated_header.jpg  baseline_420 cut at 60%, inside its Huffman tables (no SOS)
    corrupt_entropy.jpg   8 bytes of entropy-coded data set to 0x00 (a corrupt-data warning)
    bad_huffman.jpg       the first DHT's code-length counts over-subscribed ("Bogus Huffman table definition")
    extraneous.jpg        2 bytes between APP0 and DQT (the "extraneous bytes" warning; Pillow ignores it)
    no_sof.jpg            SOI, APP0, then EOI
    empty.jpg             zero bytes
    text.jpg              a text file named .jpg
    bomb.jpg              progressive.jpg whose SOF says 60000 x 60000 (refused by --max-pixels before decoding)
    bomb_baseline.jpg     baseline_420.jpg whose SOF says 20000 x 20000
  plus ok.jpg (a good 16 x 12 baseline JPEG).
- mixed/: an ImageFolder of JPEG and PNG files of one size (RGB 16 x 12), two classes:
    cat/c0.jpg   baseline 4:2:0          cat/c1.png    PNG
    cat/c2.JPEG  a PNG (extension_mismatch, like ImageNet's n02105855_2933.JPEG)
    cat/c3.jpeg  progressive             cat/c4.jpg    CMYK (cmyk_image; decodes to 3 channels)
    dog/d0.png   PNG                     dog/d1.JPG    baseline 4:4:4 (upper-case extension)
    dog/d2.jpg   truncated (unreadable)  dog/d3.png    a JPEG (extension_mismatch)
    dog/d4.jpg   gray 16 x 12 (1 channel: shape_mismatch in an RGB dataset)
    notes.txt    skipped (skipped_files)
- ../lmdb/encoded_jpeg.lmdb: encoded Datums as `convert_imageset --encoded` writes them (data = the file's
  bytes, label, encoded=true, no dims), keys "%08d_<name>":
    00000000_baseline_420 (label 0), 00000001_baseline_444 (1), 00000002_progressive (2), 00000003_png (3,
    an encoded PNG of the same size), 00000004_cmyk (4), 00000005_ycck (5), 00000006_gray (6: 1 channel,
    shape_mismatch), 00000007_truncated (7, unreadable), 00000008_corrupt_entropy (8, unreadable),
    00000009_bomb (9, unreadable: more than --max-pixels), 00000010_exif (0).
"""

import ctypes
import ctypes.util
import io
import json
import os
import shutil
import struct
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "jpeg")
sys.path.insert(0, HERE)
import make_lmdb_fixtures as lmdbfx  # noqa: E402  (Datum class and the LMDB writer)

RNG = np.random.default_rng(20261207)


def image(width, height, channels):
    """Smooth gradients plus noise, uint8, H x W x C."""
    y, x = np.mgrid[0:height, 0:width]
    planes = []
    for c in range(channels):
        base = 40 + 170 * ((x * (c + 1) + y * (3 - c % 3)) % (width + height)) / (width + height)
        planes.append(base + RNG.normal(0, 18, (height, width)))
    return np.clip(np.stack(planes, axis=-1), 0, 255).astype(np.uint8)


def save(array, mode, **options):
    """The JPEG Pillow writes for `array` in `mode`."""
    if mode == "L":
        im = Image.fromarray(array[..., 0], "L")
    else:
        im = Image.fromarray(array, mode)
    buf = io.BytesIO()
    im.save(buf, "JPEG", **options)
    return buf.getvalue()


def png_bytes(array):
    buf = io.BytesIO()
    Image.fromarray(array, "RGB").save(buf, "PNG")
    return buf.getvalue()


def ycck(cmyk):
    """CMYK values compressed by TurboJPEG (tjCompress2 with TJPF_CMYK stores YCCK), 4:4:4, quality 90."""
    lib = ctypes.CDLL(ctypes.util.find_library("turbojpeg") or "libturbojpeg.so.0")
    lib.tjInitCompress.restype = ctypes.c_void_p
    lib.tjCompress2.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
        ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_ulong), ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.tjFree.argtypes = [ctypes.c_void_p]
    lib.tjDestroy.argtypes = [ctypes.c_void_p]
    handle = lib.tjInitCompress()
    height, width, _ = cmyk.shape
    out = ctypes.c_void_p()
    size = ctypes.c_ulong(0)
    TJPF_CMYK, TJSAMP_444 = 11, 0
    status = lib.tjCompress2(handle, np.ascontiguousarray(cmyk).tobytes(), width, 0, height, TJPF_CMYK,
                             ctypes.byref(out), ctypes.byref(size), TJSAMP_444, 90, 0)
    assert status == 0
    data = ctypes.string_at(out, size.value)
    lib.tjFree(out)
    lib.tjDestroy(handle)
    return data


def exif_block():
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90
    exif[0x010F] = "datasan fixture camera"
    return exif.tobytes()


def kinds():
    """name -> JPEG bytes, one per kind."""
    rgb = image(16, 12, 3)
    out = {
        "baseline_420.jpg": save(rgb, "RGB", quality=90),
        "baseline_444.jpg": save(rgb, "RGB", quality=90, subsampling=0),
        "baseline_422.jpg": save(rgb, "RGB", quality=75, subsampling=1),
        "odd_420.jpg": save(image(13, 7, 3), "RGB", quality=90, subsampling=2),
        "progressive.jpg": save(rgb, "RGB", quality=90, progressive=True),
        "optimized.jpg": save(rgb, "RGB", quality=90, subsampling=0, optimize=True),
        "gray.jpg": save(image(16, 12, 1), "L", quality=90),
        "cmyk.jpg": save(image(16, 12, 4), "CMYK", quality=90),
        "ycck.jpg": ycck(image(16, 12, 4)),
        "exif.jpg": save(rgb, "RGB", quality=90, exif=exif_block()),
        "restart.jpg": save(image(32, 24, 3), "RGB", quality=90, restart_marker_rows=1),
        "large_320x240.jpg": save(image(320, 240, 3), "RGB", quality=90),
    }
    return out


def expected(data, png_name=None):
    im = Image.open(io.BytesIO(data))
    converted = {"CMYK": "CMYK"}.get(im.mode)
    if im.mode == "CMYK" and im.info.get("adobe_transform") == 2:
        converted = "YCCK"
    mode = "L" if im.mode == "L" else "RGB"
    values = np.asarray(im.convert(mode))
    if values.ndim == 2:
        values = values[..., None]
    chw = np.transpose(values, (2, 0, 1))
    entry = {"channels": int(chw.shape[0]), "height": int(chw.shape[1]), "width": int(chw.shape[2]),
             "converted_from": converted}
    if png_name:
        buf = io.BytesIO()
        Image.fromarray(values, "RGB").save(buf, "PNG")
        write(os.path.join(OUT, "kinds", png_name), buf.getvalue())
        entry["png"] = png_name
    else:
        entry["values"] = [int(v) for v in chw.reshape(-1)]
    return entry


def markers(data):
    """(offset, marker, length) of each marker segment before the first SOS (and the SOS itself)."""
    at, found = 2, []
    while at < len(data):
        assert data[at] == 0xFF
        marker = data[at + 1]
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        found.append((at, marker, length))
        if marker == 0xDA:
            break
        at += 2 + length
    return found


def scan_start(data):
    at, _, length = [m for m in markers(data) if m[1] == 0xDA][0]
    return at + 2 + length


def set_size(data, width, height):
    at, _, _ = [m for m in markers(data) if m[1] in (0xC0, 0xC1, 0xC2)][0]
    return data[:at + 5] + struct.pack(">HH", height, width) + data[at + 9:]


def broken(ok, progressive):
    start = scan_start(ok)
    corrupt = bytearray(ok)
    middle = start + (len(ok) - 2 - start) // 3
    corrupt[middle:middle + 8] = b"\x00" * 8
    dht_at, _, _ = [m for m in markers(ok) if m[1] == 0xC4][0]
    counts_at = dht_at + 5  # FF C4, length (2), class/id (1), then 16 counts
    counts = bytearray(ok[counts_at:counts_at + 16])
    # Move two codes to length 1: with the codes already there the code space is over-subscribed.
    donor = max(range(16), key=lambda i: counts[i])
    counts[donor] -= 2
    counts[0] += 2
    bad_huffman = ok[:counts_at] + bytes(counts) + ok[counts_at + 16:]
    assert ok[-2:] == b"\xff\xd9"
    app0_at, _, app0_length = [m for m in markers(ok) if m[1] == 0xE0][0]
    app0_end = app0_at + 2 + app0_length
    return {
        "truncated.jpg": ok[:start + (len(ok) - start) // 2],
        "truncated_header.jpg": ok[:len(ok) * 6 // 10],
        "corrupt_entropy.jpg": bytes(corrupt),
        "bad_huffman.jpg": bad_huffman,
        "extraneous.jpg": ok[:app0_end] + b"\x12\x34" + ok[app0_end:],
        "no_sof.jpg": b"\xff\xd8" + ok[2:2 + 2 + 16] + b"\xff\xd9",
        "empty.jpg": b"",
        "text.jpg": b"this is not a JPEG file\n",
        "bomb.jpg": set_size(progressive, 60000, 60000),
        "bomb_baseline.jpg": set_size(ok, 20000, 20000),
        "ok.jpg": ok,
    }


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    made = kinds()
    exp = {}
    for name, data in sorted(made.items()):
        write(os.path.join(OUT, "kinds", name), data)
        exp[name] = expected(data, name.replace(".jpg", ".expected.png") if name.startswith("large") else None)
    assert exp["cmyk.jpg"]["converted_from"] == "CMYK" and exp["ycck.jpg"]["converted_from"] == "YCCK"
    assert exp["gray.jpg"]["channels"] == 1
    with open(os.path.join(OUT, "kinds", "expected.json"), "w") as f:
        json.dump(exp, f, sort_keys=True)
        f.write("\n")

    bad = broken(made["baseline_420.jpg"], made["progressive.jpg"])
    for name, data in bad.items():
        write(os.path.join(OUT, "broken", name), data)

    rgb = image(16, 12, 3)
    mixed = {
        "cat/c0.jpg": save(rgb, "RGB", quality=90),
        "cat/c1.png": png_bytes(image(16, 12, 3)),
        "cat/c2.JPEG": png_bytes(image(16, 12, 3)),
        "cat/c3.jpeg": save(image(16, 12, 3), "RGB", quality=85, progressive=True),
        "cat/c4.jpg": save(image(16, 12, 4), "CMYK", quality=90),
        "dog/d0.png": png_bytes(image(16, 12, 3)),
        "dog/d1.JPG": save(image(16, 12, 3), "RGB", quality=95, subsampling=0),
        "dog/d2.jpg": save(image(16, 12, 3), "RGB", quality=90)[:700],
        "dog/d3.png": save(image(16, 12, 3), "RGB", quality=90),
        "dog/d4.jpg": save(image(16, 12, 1), "L", quality=90),
        "notes.txt": b"not an image\n",
    }
    for name, data in mixed.items():
        write(os.path.join(OUT, "mixed", name), data)

    records = []
    entries = [
        ("baseline_420", made["baseline_420.jpg"], 0),
        ("baseline_444", made["baseline_444.jpg"], 1),
        ("progressive", made["progressive.jpg"], 2),
        ("png", png_bytes(rgb), 3),
        ("cmyk", made["cmyk.jpg"], 4),
        ("ycck", made["ycck.jpg"], 5),
        ("gray", made["gray.jpg"], 6),
        ("truncated", bad["truncated.jpg"], 7),
        ("corrupt_entropy", bad["corrupt_entropy.jpg"], 8),
        ("bomb", bad["bomb.jpg"], 9),
        ("exif", made["exif.jpg"], 0),
    ]
    for i, (name, data, label) in enumerate(entries):
        records.append(("%08d_%s" % (i, name), lmdbfx.encoded_datum(data, label)))
    lmdbfx.write_env("encoded_jpeg.lmdb", records)

    total = 0
    for root, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(root, n)) for n in files)
    print("wrote %s (%d KiB) and %s" % (OUT, total // 1024, os.path.join(lmdbfx.OUT, "encoded_jpeg.lmdb")))


if __name__ == "__main__":
    main()
