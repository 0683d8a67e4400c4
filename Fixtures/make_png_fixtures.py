#!/usr/bin/env python3
"""Writes the PNG fixtures of datasan into Fixtures/png/.

Run from anywhere: `python3 Fixtures/make_png_fixtures.py`. Needs numpy and Pillow. The output is
deterministic (seeded, no timestamps); the committed files are exactly what this script makes.

Ordinary images come from Pillow (the writer most image datasets come from). What Pillow cannot write
(gray of 1/2/4 bits, 16-bit RGB/RGBA, Adam7 interlacing, gAMA/sBIT chunks) and every broken file are
built by hand, chunk by chunk, with zlib; the hand-made good files are read back with Pillow as an
independent check.

Layout:

- kinds/*.png + kinds/expected.json: one image per PNG kind. expected.json maps each file name to
  {"channels", "height", "width", "bit_depth", "values"}, the values being what datasan must decode, in
  C x H x W order (palette expanded to RGB without tRNS alpha, low-bit gray scaled to 8 bits, 16-bit kept).
  rgb_9x7.png and rgb_9x7_adam7.png hold the same pixels, as do gray16_9x7 and its _adam7 twin.
- broken/*.png: a flat folder of files that must be `unreadable` (empty, truncated, a bit of the IDAT CRC
  flipped, a byte of the IDAT data changed, a tEXt byte changed before IDAT and after IDAT (CRC errors), bad signature, a signature mangled by ASCII conversion, a
  JPEG and a text file named .png, a file cut before IEND, 5 bytes of signature only, and bomb.png: an
  IHDR declaring 100000 x 100000 RGB in a 100-byte file), plus ok.png (a good 4x4 RGB image).
- imagefolder/: ImageFolder layout. Classes in byte order "B" (0), "_x" (1), "a" (2) -- a locale sort
  would order them differently. B/b1.png, B/sub/deeper/b2.png (recursive), _x/x1.png, _x/x2.png,
  a/a1.png, a/A2.PNG (upper-case extension). Skipped and counted: README.md (root), a/notes.txt.
  Skipped silently: a/.hidden.png, a/.cache/c.png. Reported: the hidden class folder .hidden_class/h.png.
  All images RGB 8-bit 4x4.
- flat/: a flat folder (it holds .png files directly, so no labels): c.png, a.png, more/d.png (found
  recursively), b.png, and notes.txt (skipped).
- mixed_depth/: flat; a.png RGB 8-bit 4x4 (fixes the dataset to uint8), b.png RGB 16-bit 4x4 (the reader's
  shape_mismatch), c.png RGB 8-bit 4x3 (a different size: the checker's shape_mismatch, not the reader's),
  d.png gray 8-bit 4x4.
- list/: img/*.png, sub/six.png, and list.txt in convert_imageset layout: a space, a tab, a path with a
  space, a missing label, a non-integer label "x", a missing file, a label -1 with a CRLF line end, a
  blank line, a label "1.5", and a repeated path with another label.
- tiny/: the smallest images, one flat folder per shape (C x H x W), 3 Pillow images each, values seeded:
  tiny/1x1/ gray 8-bit 1x1 (1x1x1), tiny/1x2x2/ gray 8-bit 2x2, tiny/3x1x1/ RGB 8-bit 1x1.
  (tiny/ itself read as an ImageFolder has three classes of three shapes: shape_mismatch.)
- train/: for the CLI tests, an ImageFolder of 3 classes (cat, dog, zebra), 8 RGB 8x8 images each
  (cat_00..cat_07 ...), values 0..255 (unnormalized_scale). Planted: dog/dog_03.png truncated in IDAT
  (unreadable), zebra/zebra_05.png with one IDAT byte flipped (unreadable: CRC error), cat/cat_07.png is
  8 wide and 6 high (shape_mismatch), and readme.txt at the root (skipped_files, count 1).
"""

import io
import json
import os
import shutil
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "png")
SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------------------------------
# Hand-made PNG encoding


def chunk(tag, data, crc=None):
    """One chunk: length, tag, data, CRC (the right one unless `crc` is given)."""
    if crc is None:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def pack_row(row, bit_depth):
    """The bytes of one row of samples (already interleaved), packed MSB first, big-endian for 16 bits."""
    row = np.asarray(row).reshape(-1)
    if bit_depth == 16:
        return row.astype(">u2").tobytes()
    if bit_depth == 8:
        return row.astype(np.uint8).tobytes()
    per_byte = 8 // bit_depth
    out = bytearray()
    for start in range(0, len(row), per_byte):
        byte = 0
        group = row[start:start + per_byte]
        for i, v in enumerate(group):
            byte |= int(v) << (8 - bit_depth * (i + 1))
        out.append(byte)
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def filter_row(kind, row, previous, bpp):
    """Applies PNG filter `kind` (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth) to one row of bytes."""
    out = bytearray(len(row))
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = previous[i]
        c = previous[i - bpp] if i >= bpp else 0
        if kind == 0:
            pred = 0
        elif kind == 1:
            pred = a
        elif kind == 2:
            pred = b
        elif kind == 3:
            pred = (a + b) // 2
        else:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        out[i] = (x - pred) % 256
    return bytes(out)


def raw_image_data(pixels, bit_depth, interlace, filters=False):
    """The scanlines of `pixels` (H x W x C), in Adam7 pass order when interlaced: filter type 0,
    or with `filters` the five filter types in turn (row y gets type y % 5)."""
    data = bytearray()
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    bpp = max(1, pixels.shape[2] * bit_depth // 8)
    for x0, y0, dx, dy in passes:
        sub = pixels[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        previous = None
        for y, row in enumerate(sub):
            packed = pack_row(row, bit_depth)
            kind = y % 5 if filters else 0
            data.append(kind)
            data += filter_row(kind, packed, previous or bytes(len(packed)), bpp)
            previous = packed
    return bytes(data)


def encode_png(pixels, bit_depth, color_type, interlace=False, palette=None, trns=None, before_idat=(),
               after_idat=(), end=True, filters=False, idat_parts=1):
    """A PNG of `pixels` (H x W x C, or palette indexes H x W x 1) built chunk by chunk; the zlib
    stream split over `idat_parts` IDAT chunks."""
    pixels = np.asarray(pixels)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    height, width = pixels.shape[:2]
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    out = SIGNATURE + chunk(b"IHDR", ihdr)
    for c in before_idat:
        out += c
    if palette is not None:
        out += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    stream = zlib.compress(raw_image_data(pixels, bit_depth, interlace, filters), 9)
    cuts = [len(stream) * k // idat_parts for k in range(idat_parts + 1)]
    for k in range(idat_parts):
        out += chunk(b"IDAT", stream[cuts[k]:cuts[k + 1]])
    for c in after_idat:
        out += c
    if end:
        out += chunk(b"IEND", b"")
    return out


def flip_crc_of(data, tag):
    """`data` with one bit of the stored CRC of the first `tag` chunk flipped (the data left intact)."""
    for t, at, length in chunk_offsets(data):
        if t == tag:
            out = bytearray(data)
            out[at + 8 + length] ^= 0x01
            return bytes(out)
    raise ValueError(tag)


def chunk_offsets(data):
    """(tag, offset of the length field, data length) of every chunk."""
    result = []
    at = 8
    while at + 8 <= len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        result.append((data[at + 4:at + 8], at, length))
        at += 12 + length
    return result


def flip_byte_in(data, tag, delta=1):
    """`data` with the middle byte of the first `tag` chunk's data changed, CRC left as it was."""
    for t, at, length in chunk_offsets(data):
        if t == tag:
            i = at + 8 + length // 2
            out = bytearray(data)
            out[i] = (out[i] + delta) % 256
            return bytes(out)
    raise ValueError(tag)


# ---------------------------------------------------------------------------------------------------------
# Writing


def path(*parts):
    return os.path.join(OUT, *parts)


def write_bytes(rel, data):
    p = path(rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)


def pillow_png(image, **params):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **params)
    return buffer.getvalue()


def rgb_values(w, h, seed):
    """Deterministic 8-bit RGB pixels, H x W x 3."""
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def pillow_decode(data):
    """Pillow's reading of a PNG as an H x W x C array of its stored values (16-bit kept where Pillow can)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "1":
        image = image.convert("L")
    array = np.array(image)
    if array.ndim == 2:
        array = array[:, :, None]
    return image.mode, array


# ---------------------------------------------------------------------------------------------------------
# kinds/


def kinds():
    expected = {}

    def add(name, data, values_hwc, bit_depth):
        values_hwc = np.asarray(values_hwc)
        if values_hwc.ndim == 2:
            values_hwc = values_hwc[:, :, None]
        h, w, c = values_hwc.shape
        write_bytes(f"kinds/{name}", data)
        expected[name] = {
            "channels": int(c), "height": int(h), "width": int(w), "bit_depth": bit_depth,
            "values": [int(v) for v in values_hwc.transpose(2, 0, 1).reshape(-1)],
        }

    y, x = np.mgrid[0:3, 0:10]
    g1 = (x + y) % 2
    add("gray1.png", encode_png(g1, 1, 0), g1 * 255, 8)
    y, x = np.mgrid[0:3, 0:7]
    g2 = (x + y) % 4
    add("gray2.png", encode_png(g2, 2, 0), g2 * 85, 8)
    g4 = (x + 2 * y) % 16
    add("gray4.png", encode_png(g4, 4, 0), g4 * 17, 8)
    y, x = np.mgrid[0:9, 0:10]
    g1i = (x * y + x) % 2
    add("gray1_adam7.png", encode_png(g1i, 1, 0, interlace=True), g1i * 255, 8)

    y, x = np.mgrid[0:4, 0:6]
    g8 = ((x * 40 + y * 7) % 256).astype(np.uint8)
    add("gray8.png", pillow_png(Image.fromarray(g8, mode="L")), g8, 8)
    add("gray8_trns.png", pillow_png(Image.fromarray(g8, mode="L"), transparency=47), g8, 8)

    g16 = ((x * 10007 + y * 2999) % 65536).astype(np.uint16)
    g16[0, 0] = 65535
    g16[0, 1] = 0
    g16[1, 0] = 256
    add("gray16.png", pillow_png(Image.fromarray(g16)), g16, 16)

    y, x = np.mgrid[0:4, 0:5]
    la = np.stack([(x * 50 + y) % 256, (255 - x * 30 - y * 9) % 256], axis=2).astype(np.uint8)
    add("gray_alpha.png", pillow_png(Image.fromarray(la, mode="LA")), la, 8)

    rgb = np.stack([(x * 50 + y * 13 + c * 85) % 256 for c in range(3)], axis=2).astype(np.uint8)
    add("rgb.png", pillow_png(Image.fromarray(rgb, mode="RGB")), rgb, 8)
    rgba = np.concatenate([rgb, ((x * 60 + y * 3) % 256)[:, :, None].astype(np.uint8)], axis=2)
    add("rgba.png", pillow_png(Image.fromarray(rgba, mode="RGBA")), rgba, 8)

    palette = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [12, 34, 56]], dtype=np.uint8)
    indexes = ((x + y * 2) % 4).astype(np.uint8)
    p = Image.fromarray(indexes, mode="P")
    p.putpalette(palette.reshape(-1).tolist())
    add("palette.png", pillow_png(p), palette[indexes], 8)
    add("palette_trns.png", pillow_png(p, transparency=bytes([0, 128, 255, 7])), palette[indexes], 8)
    y, x = np.mgrid[0:2, 0:10]
    bits = ((x + y) % 2).astype(np.uint8)
    pal2 = np.array([[9, 8, 7], [200, 100, 50]], dtype=np.uint8)
    add("palette1.png", encode_png(bits, 1, 3, palette=pal2, trns=bytes([0])), pal2[bits], 8)

    y, x = np.mgrid[0:3, 0:4]
    rgb16 = np.stack([(x * 20011 + y * 7001 + c * 30011) % 65536 for c in range(3)], axis=2).astype(np.uint16)
    rgb16[0, 0] = [65535, 0, 65535]
    rgb16[2, 3] = [1, 65534, 256]
    add("rgb16.png", encode_png(rgb16, 16, 2), rgb16, 16)
    y, x = np.mgrid[0:2, 0:3]
    rgba16 = np.stack([(x * 21001 + y * 3001 + c * 16001) % 65536 for c in range(4)], axis=2).astype(np.uint16)
    rgba16[1, 2, 3] = 65535
    add("rgba16.png", encode_png(rgba16, 16, 6), rgba16, 16)

    y, x = np.mgrid[0:7, 0:9]
    rgb97 = np.stack([(x * 28 + y * 31 + c * 70) % 256 for c in range(3)], axis=2).astype(np.uint8)
    add("rgb_9x7.png", encode_png(rgb97, 8, 2), rgb97, 8)
    add("rgb_9x7_adam7.png", encode_png(rgb97, 8, 2, interlace=True), rgb97, 8)
    g16i = ((x * 7001 + y * 9001) % 65536).astype(np.uint16)
    g16i[6, 8] = 65535
    add("gray16_9x7.png", encode_png(g16i, 16, 0), g16i, 16)
    add("gray16_9x7_adam7.png", encode_png(g16i, 16, 0, interlace=True), g16i, 16)

    y, x = np.mgrid[0:3, 0:4]
    small = np.stack([(x * 60 + y * 20 + c * 5) % 256 for c in range(3)], axis=2).astype(np.uint8)
    gama = chunk(b"gAMA", struct.pack(">I", 45455))
    sbit = chunk(b"sBIT", bytes([5, 6, 5]))
    add("rgb_gamma_sbit.png", encode_png(small, 8, 2, before_idat=[gama, sbit]), small, 8)
    text1 = chunk(b"tEXt", b"Comment\x00before the image data")
    text2 = chunk(b"tEXt", b"Comment\x00after the image data")
    add("rgb_text.png", encode_png(small, 8, 2, before_idat=[text1], after_idat=[text2]), small, 8)

    # Every filter type (row y: type y % 5) for 1, 2, 3, 4, 6 and 8 bytes per pixel, the zlib
    # stream split over several IDAT chunks.
    y, x = np.mgrid[0:10, 0:11]
    for name, depth, color, planes in [("gray8_filters.png", 8, 0, 1), ("gray_alpha_filters.png", 8, 4, 2),
                                       ("rgb_filters.png", 8, 2, 3), ("rgba_filters.png", 8, 6, 4),
                                       ("rgb16_filters.png", 16, 2, 3), ("rgba16_filters.png", 16, 6, 4)]:
        top = 256 if depth == 8 else 65536
        values = np.stack([(x * x * 37 + y * 91 + x * y * 13 + c * 101) % top for c in range(planes)], axis=2)
        values = values.astype(np.uint8 if depth == 8 else np.uint16)
        add(name, encode_png(values, depth, color, filters=True, idat_parts=3), values, depth)

    # Independent check: Pillow reads every file to the expected values (16-bit RGB(A) Pillow reduces
    # to 8 bits; tRNS it applies as alpha, which datasan does not, so alpha is dropped here).
    for name, e in expected.items():
        with open(path("kinds", name), "rb") as f:
            mode, array = pillow_decode(f.read())
        want = np.array(e["values"]).reshape(e["channels"], e["height"], e["width"]).transpose(1, 2, 0)
        if e["bit_depth"] == 16 and e["channels"] >= 3:
            want = want >> 8
        got = array[:, :, :want.shape[2]].astype(np.int64)
        assert np.array_equal(got, want), (name, mode, got, want)

    with open(path("kinds", "expected.json"), "w") as f:
        json.dump(expected, f, indent=None, separators=(",", ":"), sort_keys=True)
        f.write("\n")


# ---------------------------------------------------------------------------------------------------------
# broken/


def broken():
    good = encode_png(rgb_values(16, 16, 7), 8, 2)
    write_bytes("broken/ok.png", encode_png(rgb_values(4, 4, 8), 8, 2))
    write_bytes("broken/empty.png", b"")
    idat = [c for c in chunk_offsets(good) if c[0] == b"IDAT"][0]
    write_bytes("broken/truncated.png", good[:idat[1] + 8 + idat[2] // 2])
    write_bytes("broken/crc_idat.png", flip_crc_of(good, b"IDAT"))
    write_bytes("broken/idat_byte.png", flip_byte_in(good, b"IDAT", delta=0x40))
    small = rgb_values(4, 4, 9)
    text = chunk(b"tEXt", b"Comment\x00a comment whose bytes get flipped")
    write_bytes("broken/crc_text.png", flip_byte_in(encode_png(small, 8, 2, before_idat=[text]), b"tEXt"))
    write_bytes("broken/crc_text_end.png", flip_byte_in(encode_png(small, 8, 2, after_idat=[text]), b"tEXt"))
    write_bytes("broken/bad_signature.png", b"\x88" + good[1:])
    write_bytes("broken/ascii_signature.png", good.replace(b"\r\n", b"\n", 1))
    jpeg = io.BytesIO()
    Image.fromarray(rgb_values(8, 8, 10), mode="RGB").save(jpeg, format="JPEG", quality=90)
    write_bytes("broken/jpeg.png", jpeg.getvalue())
    write_bytes("broken/text.png", b"this is not an image, just text named .png\n")
    write_bytes("broken/no_iend.png", encode_png(small, 8, 2, end=False))
    write_bytes("broken/short.png", SIGNATURE[:5])
    # A decompression bomb's header: 100000 x 100000 RGB (30 GB decoded) declared in a tiny file.
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    bomb = SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64, 9)) + chunk(b"IEND", b"")
    write_bytes("broken/bomb.png", bomb)


# ---------------------------------------------------------------------------------------------------------
# Folder layouts


def rgb_png(w, h, seed):
    return pillow_png(Image.fromarray(rgb_values(w, h, seed), mode="RGB"))


def imagefolder():
    files = ["B/b1.png", "B/sub/deeper/b2.png", "_x/x1.png", "_x/x2.png", "a/a1.png", "a/A2.PNG",
             "a/.hidden.png", "a/.cache/c.png", ".hidden_class/h.png"]
    for seed, rel in enumerate(files):
        write_bytes("imagefolder/" + rel, rgb_png(4, 4, 100 + seed))
    write_bytes("imagefolder/README.md", b"# not an image\n")
    write_bytes("imagefolder/a/notes.txt", b"notes\n")


def flat():
    for seed, rel in enumerate(["c.png", "a.png", "more/d.png", "b.png"]):
        write_bytes("flat/" + rel, rgb_png(4, 4, 200 + seed))
    write_bytes("flat/notes.txt", b"notes\n")


def mixed_depth():
    write_bytes("mixed_depth/a.png", rgb_png(4, 4, 300))
    deep = np.random.default_rng(301).integers(0, 65536, size=(4, 4, 3), dtype=np.uint16)
    write_bytes("mixed_depth/b.png", encode_png(deep, 16, 2))
    write_bytes("mixed_depth/c.png", rgb_png(4, 3, 302))
    gray = np.random.default_rng(303).integers(0, 256, size=(4, 4), dtype=np.uint8)
    write_bytes("mixed_depth/d.png", pillow_png(Image.fromarray(gray, mode="L")))


def listed():
    for seed, rel in enumerate(["img/one.png", "img/two.png", "img/with space.png", "img/three.png",
                                "img/four.png", "img/five.png", "sub/six.png"]):
        write_bytes("list/" + rel, rgb_png(4, 4, 400 + seed))
    lines = [
        b"img/one.png 0\n",
        b"img/two.png\t1\n",
        b"img/with space.png   2\n",
        b"img/three.png\n",
        b"img/four.png x\n",
        b"img/missing.png 1\n",
        b"img/five.png -1\r\n",
        b"\n",
        b"sub/six.png 1.5\n",
        b"img/one.png 4\n",
    ]
    write_bytes("list/list.txt", b"".join(lines))


def tiny():
    for folder, mode, shape in [("1x1", "L", (1, 1)), ("1x2x2", "L", (2, 2)), ("3x1x1", "RGB", (1, 1, 3))]:
        for i in range(3):
            values = np.random.default_rng(500 + i).integers(0, 256, size=shape, dtype=np.uint8)
            write_bytes(f"tiny/{folder}/{i}.png", pillow_png(Image.fromarray(values, mode=mode)))


def train():
    seed = 1000
    for c, name in enumerate(["cat", "dog", "zebra"]):
        for i in range(8):
            seed += 1
            w, h = (8, 6) if (name, i) == ("cat", 7) else (8, 8)
            data = rgb_png(w, h, seed)
            if (name, i) == ("dog", 3):
                idat = [ch for ch in chunk_offsets(data) if ch[0] == b"IDAT"][0]
                data = data[:idat[1] + 8 + idat[2] // 2]
            if (name, i) == ("zebra", 5):
                data = flip_byte_in(data, b"IDAT")
            write_bytes(f"train/{name}/{name}_{i:02d}.png", data)
    write_bytes("train/readme.txt", b"Three classes of 8x8 RGB images for the datasan CLI tests.\n")


def main():
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    kinds()
    broken()
    imagefolder()
    flat()
    mixed_depth()
    listed()
    tiny()
    train()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
