#!/usr/bin/env python3
"""Writes the HDF5 fixtures of datasan's tests into Fixtures/hdf5/.

Run from anywhere: `python3 Fixtures/make_hdf5_fixtures.py`. Deterministic (fixed seeds, no
timestamps): the committed files are exactly what this script writes. Files are written with
h5py, an independent implementation of the format's users, with libver bounds ('earliest',
'v110') so that libhdf5 1.10 reads them.

Reader fixtures (Tests/DatasanHDF5Tests):

  dtypes.h5          one (6, 3) dataset per type: u1 i1 u2 i2 u4 i4 u8 i8 f2 f4 f8, be_f4 ('>f4'),
                     be_i2 ('>i2'). Row 0 = [min, max, 0] for integers, [-2.5, max, tiny] for floats;
                     row i >= 1, column j: (3*i + j), negated for odd j in signed types, plus 0.25
                     for floats. No label dataset.
  layouts.h5         the same float32 (37, 2, 3) values (0.5 * flat index) as `contiguous`,
                     `chunked` (5,2,3), `gzip` (8,2,3) level 6, `shuffle` (4,2,3) shuffle+gzip 4,
                     `fletcher32` (10,1,3), `all` (7,2,2) shuffle+gzip 9+fletcher32, `compact`
                     (compact layout, first 2 rows only); `label` int64 (37,) = i % 5.
  labels.h5          data float64 (10, 2) = 10*i + j; label int64 (10,) = i % 3; label_n1 float32
                     (10, 1) = 0.5*i; label_u8 uint8 (10,) = 200 + i; label_be '>i4' (10,) = -i;
                     label_f2 float16 (10,) = i/4; label_2d (10, 2); label_short (9,);
                     label_str (10,) fixed strings.
  nested.h5          /train/images uint8 (12, 1, 4, 4) = (16*i + k) % 256, /train/labels int16 (12,)
                     = i - 6, /test/images uint8 (3, 1, 4, 4); nothing at the root but the groups.
  unsupported.h5     compound, strings ('S8'), vlen_str, vlen_int, enum (bool), scalar (0-d),
                     empty (null dataspace), lzf (h5py's LZF filter, absent from libhdf5), group/.
  label_mismatch.h5  data float32 (10, 2), label int64 (9,).
  userblock.h5       a 512-byte user block before the superblock; data int32 (4, 2) = arange.
  truncated.h5       the first half of a valid file.
  not_hdf5.txt       a text file.
  huge.h5            data float32 (2**40, 1000), chunks (16, 1000), never written: a header that
                     claims 4 PB, none of it written: one run of 2^40 unreadable rows ("never
                     written"), found from the chunk index without reading.
  lying_dims.h5      data float64 (7, 13) contiguous, whose dataspace message was patched to claim
                     (2**40, 13) rows: more than the file holds.
  corrupt_chunk.h5   data float32 (40, 3) = 3*i + j, chunks (8, 3), shuffle+gzip+fletcher32; label
                     int64 (40,) = i % 4, chunks (8,), gzip+fletcher32. Bytes flipped inside the
                     stored data of data chunk 2 (rows 16..23) and of label chunk 4 (rows 32..39):
                     both fail their fletcher32 checksum.
  corrupt_gzip.h5    data float32 (24, 2) = 2*i + j, chunks (6, 2), gzip only; the zlib header
                     of chunk 1 (rows 6..11) zeroed, so inflate() fails there.

  partial.h5         "the conversion script died at 60%": data float32 (100, 3, 4) = row index,
                     chunks (10, 3, 4) gzip, created with its full shape; chunks of rows 0..39 and
                     50..59 written, rows 40..49 and 60..99 never written. label int64 (100,) = i % 7,
                     chunks (10,), written whole (the labels were stored first). split float32
                     (40, 2, 4), chunks (8, 2, 2): rows 0..15 written whole, rows 16..23 only their
                     first chunk along axis 2 (columns 0..1), rows 24..39 never written.
  unallocated.h5     data float32 (50, 4) contiguous, never written (no storage allocated);
                     label int64 (50,) = i % 3, written.
  zero_width.h5      data float32 (1100000000000, 0): samples of 0 values.
  big_sample.h5      data float32 (4, 8), one gzip chunk (4, 8) written, whose dataspace was patched
                     to claim (4, 16000000): 64 MB a sample in a file of a few KB, more than it
                     could hold even compressed.

Outside-the-file fixtures (item 9 of the hardening issue; each names what it points at):

  ext_sibling.h5     data int32 (4, 2) = arange, stored in the external file ext_sibling.bin
                     beside it (relative name): must read.
  ext_devzero.h5     data float32 (1000, 4) stored externally in /dev/zero.
  ext_short.h5       data int32 (1000000000, 2) stored externally in ext_short.bin beside it (no
                     size limit), which holds 16 bytes: rows the files do not hold.
  ext_hostname.h5    data uint8 (4, 2) stored externally in /etc/hostname.
  ext_climb.h5       data int32 (4, 2) stored externally in ../hdf5/../make_hdf5_fixtures.py (climbs out).
  elink.h5           data: an external link to elink_target.h5:/data (beside it), label a hard
                     link; elink_target.h5 data float32 (6, 2) = arange.
  elink_outside.h5   data: an external link to /etc/hostname:/data.
  elink_chain.h5     data: an external link to elink_outside.h5:/data (beside it), itself a link
                     to /etc/hostname; soft: a soft link to /data.
  vds.h5             data float32 (8, 3): a virtual dataset of vds_src_0.h5:/data (rows 0..3) and
                     vds_src_1.h5:/data (rows 4..7), both beside it, relative names.
  vds_outside.h5     data float32 (8, 3): a virtual dataset with rows 0..3 from vds_src_0.h5 and
                     rows 4..7 from /etc/hostname:/data.
  vds_gap.h5         data float32 (1000000000000, 3): a virtual dataset whose one mapping covers rows
                     4..7 (vds_src_1.h5); no source for any other row.
  vds_self_external.h5  data float32 (8, 3): a virtual dataset of its own file's dataset 'raw'
                     (source file "."), whose values are stored externally in /dev/zero.

CLI fixtures (Tests/DatasanCLITests):

  dirty.h5           data float32 (40, 3, 4, 4) integer pixel values in [0, 255], chunks
                     (10, 3, 4, 4) shuffle+gzip 4; sample 3 has 2 NaN values, sample 7 one +Inf,
                     sample 11 one -Inf. label int64 (40,) = i % 5, except sample 5 = -1 and
                     sample 9 = 7 (out of domain with --num-classes 5).
  clean_small.h5     data float32 (20, 4) in [-1, 1]; label int32 (20,) = i % 2. Passes a scan.
  constant.h5        data float64 (10, 3), columns 0 and 2 in [-1, 1], column 1 constant 5.0.
  scale.h5           data float64 (50, 3), column stds about 1e-3, 1 and 1e4; data[17, 2] = 2e6
                     (extreme value).
  imbalance.h5       data float32 (503, 2) in [-1, 1]; label int64: class 1 at rows 100, 250
                     and 400, class 0 everywhere else (500). With --num-classes 4, classes 2 and
                     3 are missing.
"""

import os
import struct

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "hdf5")
LIBVER = ("earliest", "v110")


def new_file(name, **kwargs):
    path = os.path.join(OUT, name)
    if os.path.exists(path):
        os.remove(path)
    return h5py.File(path, "w", libver=LIBVER, track_order=False, **kwargs)


def dataset(group, name, data=None, **kwargs):
    kwargs.setdefault("track_times", False)
    return group.create_dataset(name, data=data, **kwargs)


def flip_chunk_bytes(path, dataset_name, chunk_index, at=None, zero=False, count=4):
    """Damages the stored bytes of one chunk in place; returns the chunk's offset and size."""
    with h5py.File(path, "r") as f:
        info = f[dataset_name].id.get_chunk_info(chunk_index)
    offset, size = info.byte_offset, info.size
    position = offset + (size // 2 if at is None else at)
    with open(path, "r+b") as raw:
        raw.seek(position)
        old = raw.read(count)
        raw.seek(position)
        raw.write(bytes(count) if zero else bytes(b ^ 0xFF for b in old))
    return offset, size


def dtypes():
    types = {
        "u1": "u1", "i1": "i1", "u2": "u2", "i2": "i2", "u4": "u4", "i4": "i4", "u8": "u8",
        "i8": "i8", "f2": "f2", "f4": "f4", "f8": "f8", "be_f4": ">f4", "be_i2": ">i2",
    }
    with new_file("dtypes.h5") as f:
        for name, code in types.items():
            dt = np.dtype(code)
            values = np.zeros((6, 3), dtype=dt)
            if dt.kind in "iu":
                info = np.iinfo(dt)
                values[0] = [info.min, info.max, 0]
            else:
                info = np.finfo(dt)
                values[0] = [-2.5, info.max, info.tiny]
            for i in range(1, 6):
                for j in range(3):
                    v = 3 * i + j
                    if dt.kind == "i" and j % 2 == 1:
                        v = -v
                    values[i, j] = v + 0.25 if dt.kind == "f" else v
            dataset(f, name, data=values, dtype=dt)


def layouts():
    values = (np.arange(37 * 2 * 3, dtype=np.float32) * 0.5).reshape(37, 2, 3)
    with new_file("layouts.h5") as f:
        dataset(f, "contiguous", data=values)
        dataset(f, "chunked", data=values, chunks=(5, 2, 3))
        dataset(f, "gzip", data=values, chunks=(8, 2, 3), compression="gzip", compression_opts=6)
        dataset(f, "shuffle", data=values, chunks=(4, 2, 3), compression="gzip", compression_opts=4,
                shuffle=True)
        dataset(f, "fletcher32", data=values, chunks=(10, 1, 3), fletcher32=True)
        dataset(f, "all", data=values, chunks=(7, 2, 2), compression="gzip", compression_opts=9,
                shuffle=True, fletcher32=True)
        # A compact dataset (stored in its object header); h5py needs the low-level API.
        small = values[:2]
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        dcpl.set_obj_track_times(False)
        space = h5py.h5s.create_simple(small.shape)
        dsid = h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F32LE, space, dcpl=dcpl)
        dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, small)
        dsid.close()
        dataset(f, "label", data=np.arange(37, dtype=np.int64) % 5)


def labels():
    i = np.arange(10)
    with new_file("labels.h5") as f:
        dataset(f, "data", data=(10 * i[:, None] + np.arange(2)).astype(np.float64))
        dataset(f, "label", data=(i % 3).astype(np.int64))
        dataset(f, "label_n1", data=(0.5 * i).astype(np.float32).reshape(10, 1))
        dataset(f, "label_u8", data=(200 + i).astype(np.uint8))
        dataset(f, "label_be", data=(-i).astype(">i4"))
        dataset(f, "label_f2", data=(i / 4).astype(np.float16))
        dataset(f, "label_2d", data=np.zeros((10, 2), dtype=np.int64))
        dataset(f, "label_short", data=np.zeros(9, dtype=np.int64))
        dataset(f, "label_str", data=np.array([b"cat"] * 10, dtype="S8"))


def nested():
    with new_file("nested.h5") as f:
        train = f.create_group("train", track_order=False)
        test = f.create_group("test", track_order=False)
        images = (np.arange(12 * 16).reshape(12, 1, 4, 4) % 256).astype(np.uint8)
        dataset(train, "images", data=images)
        dataset(train, "labels", data=(np.arange(12) - 6).astype(np.int16))
        dataset(test, "images", data=np.zeros((3, 1, 4, 4), dtype=np.uint8))


def unsupported():
    with new_file("unsupported.h5") as f:
        compound = np.zeros(5, dtype=[("a", "<i4"), ("b", "<f8")])
        dataset(f, "compound", data=compound)
        dataset(f, "strings", data=np.array([b"abc"] * 5, dtype="S8"))
        dataset(f, "vlen_str", data=["x", "yy", "zzz", "", "w"], dtype=h5py.string_dtype())
        vlen = dataset(f, "vlen_int", shape=(5,), dtype=h5py.vlen_dtype(np.int32))
        for k in range(5):
            vlen[k] = np.arange(k, dtype=np.int32)
        dataset(f, "enum", data=np.array([True, False, True, True, False]))
        dataset(f, "scalar", data=np.float32(1.5))
        dataset(f, "empty", data=h5py.Empty("f4"))
        dataset(f, "lzf", data=np.ones((8, 2), dtype=np.float32), chunks=(4, 2), compression="lzf")
        group = f.create_group("group", track_order=False)
        dataset(group, "inner", data=np.zeros((2, 2), dtype=np.float32))


def label_mismatch():
    with new_file("label_mismatch.h5") as f:
        dataset(f, "data", data=np.zeros((10, 2), dtype=np.float32))
        dataset(f, "label", data=np.zeros(9, dtype=np.int64))


def userblock_and_truncated():
    with new_file("userblock.h5", userblock_size=512) as f:
        dataset(f, "data", data=np.arange(8, dtype=np.int32).reshape(4, 2))
    with open(os.path.join(OUT, "userblock.h5"), "r+b") as raw:
        raw.write(b"datasan test user block\n")
    with open(os.path.join(OUT, "layouts.h5"), "rb") as whole:
        data = whole.read()
    with open(os.path.join(OUT, "truncated.h5"), "wb") as half:
        half.write(data[: len(data) // 2])
    with open(os.path.join(OUT, "not_hdf5.txt"), "w") as text:
        text.write("this is a text file, not an HDF5 file\n")


def absurd_dims():
    with new_file("huge.h5") as f:
        dataset(f, "data", shape=(2**40, 1000), dtype=np.float32, chunks=(16, 1000))
    path = os.path.join(OUT, "lying_dims.h5")
    with new_file("lying_dims.h5") as f:
        dataset(f, "data", data=np.arange(7 * 13, dtype=np.float64).reshape(7, 13))
    with open(path, "rb") as raw:
        data = raw.read()
    pattern = struct.pack("<QQ", 7, 13)
    assert data.count(pattern) >= 1, "dataspace dims not found"
    data = data.replace(pattern, struct.pack("<QQ", 2**40, 13))
    with open(path, "wb") as raw:
        raw.write(data)


def corrupt():
    path = os.path.join(OUT, "corrupt_chunk.h5")
    with new_file("corrupt_chunk.h5") as f:
        i = np.arange(40)
        dataset(f, "data", data=(3 * i[:, None] + np.arange(3)).astype(np.float32), chunks=(8, 3),
                compression="gzip", shuffle=True, fletcher32=True)
        dataset(f, "label", data=(i % 4).astype(np.int64), chunks=(8,), compression="gzip",
                fletcher32=True)
    flip_chunk_bytes(path, "data", 2)
    flip_chunk_bytes(path, "label", 4)

    path = os.path.join(OUT, "corrupt_gzip.h5")
    with new_file("corrupt_gzip.h5") as f:
        i = np.arange(24)
        dataset(f, "data", data=(2 * i[:, None] + np.arange(2)).astype(np.float32), chunks=(6, 2),
                compression="gzip")
    flip_chunk_bytes(path, "data", 1, at=0, zero=True, count=2)


def never_written():
    with new_file("partial.h5") as f:
        data = dataset(f, "data", shape=(100, 3, 4), dtype=np.float32, chunks=(10, 3, 4),
                       compression="gzip")
        for i in list(range(0, 40)) + list(range(50, 60)):
            data[i] = i
        dataset(f, "label", data=(np.arange(100) % 7).astype(np.int64), chunks=(10,))
        split = dataset(f, "split", shape=(40, 2, 4), dtype=np.float32, chunks=(8, 2, 2))
        split[0:16] = 1.0
        split[16:24, :, 0:2] = 2.0
    with new_file("unallocated.h5") as f:
        dataset(f, "data", shape=(50, 4), dtype=np.float32)
        dataset(f, "label", data=(np.arange(50) % 3).astype(np.int64))
    with new_file("zero_width.h5") as f:
        dataset(f, "data", shape=(1100000000000, 0), dtype=np.float32)
    path = os.path.join(OUT, "big_sample.h5")
    with new_file("big_sample.h5") as f:
        dataset(f, "data", data=np.zeros((4, 8), dtype=np.float32), chunks=(4, 8), compression="gzip")
    with open(path, "rb") as raw:
        data = raw.read()
    pattern = struct.pack("<QQ", 4, 8)
    assert data.count(pattern) >= 1, "dataspace dims not found"
    with open(path, "wb") as raw:
        raw.write(data.replace(pattern, struct.pack("<QQ", 4, 16000000)))


def virtual_dataset(group, name, layout, fillvalue):
    """h5py's create_virtual_dataset, without the object's timestamps (so the file is reproducible)."""
    dcpl = layout._get_dcpl(group.file.filename)
    dcpl.set_fill_value(np.array([fillvalue], dtype=layout.dtype))
    dcpl.set_obj_track_times(False)
    space = h5py.h5s.create_simple(layout.shape)
    h5py.h5d.create(group.id, name=name.encode(), tid=h5py.h5t.py_create(np.dtype(layout.dtype), logical=1),
                    space=space, dcpl=dcpl)


def outside():
    here = os.getcwd()
    os.chdir(OUT)  # h5py writes external storage relative to the working directory
    try:
        for name in ("ext_sibling.bin", "ext_short.bin"):
            if os.path.exists(name):
                os.remove(name)
        with new_file("ext_sibling.h5") as f:
            dataset(f, "data", data=np.arange(8, dtype=np.int32).reshape(4, 2),
                    external=[("ext_sibling.bin", 0, 32)])
        with new_file("ext_short.h5") as f:
            dataset(f, "data", shape=(1000000000, 2), dtype=np.int32,
                    external=[("ext_short.bin", 0, h5py.h5f.UNLIMITED)])
        with open("ext_short.bin", "wb") as raw:
            raw.write(np.arange(4, dtype=np.int32).tobytes())
        with new_file("ext_devzero.h5") as f:
            dataset(f, "data", shape=(1000, 4), dtype=np.float32, external=[("/dev/zero", 0, 16000)])
        with new_file("ext_hostname.h5") as f:
            dataset(f, "data", shape=(4, 2), dtype=np.uint8, external=[("/etc/hostname", 0, 8)])
        with new_file("ext_climb.h5") as f:
            dataset(f, "data", shape=(4, 2), dtype=np.int32,
                    external=[("../hdf5/../make_hdf5_fixtures.py", 0, 32)])
    finally:
        os.chdir(here)
    with new_file("elink_target.h5") as f:
        dataset(f, "data", data=np.arange(12, dtype=np.float32).reshape(6, 2))
    with new_file("elink.h5") as f:
        f["data"] = h5py.ExternalLink("elink_target.h5", "/data")
        dataset(f, "label", data=np.arange(6, dtype=np.int64) % 2)
    with new_file("elink_outside.h5") as f:
        f["data"] = h5py.ExternalLink("/etc/hostname", "/data")
    with new_file("elink_chain.h5") as f:
        f["data"] = h5py.ExternalLink("elink_outside.h5", "/data")
        f["soft"] = h5py.SoftLink("/data")
    for k in range(2):
        with new_file("vds_src_%d.h5" % k) as f:
            dataset(f, "data", data=(np.arange(12, dtype=np.float32) + 12 * k).reshape(4, 3))
    for name, second in (("vds.h5", "vds_src_1.h5"), ("vds_outside.h5", "/etc/hostname")):
        layout = h5py.VirtualLayout(shape=(8, 3), dtype=np.float32)
        layout[0:4] = h5py.VirtualSource("vds_src_0.h5", "data", shape=(4, 3))
        layout[4:8] = h5py.VirtualSource(second, "data", shape=(4, 3))
        with new_file(name) as f:
            virtual_dataset(f, "data", layout, fillvalue=-1)
    layout = h5py.VirtualLayout(shape=(10**12, 3), dtype=np.float32)
    layout[4:8] = h5py.VirtualSource("vds_src_1.h5", "data", shape=(4, 3))
    with new_file("vds_gap.h5") as f:
        virtual_dataset(f, "data", layout, fillvalue=-1)
    layout = h5py.VirtualLayout(shape=(8, 3), dtype=np.float32)
    layout[:] = h5py.VirtualSource(".", "raw", shape=(8, 3))
    with new_file("vds_self_external.h5") as f:
        dataset(f, "raw", shape=(8, 3), dtype=np.float32, external=[("/dev/zero", 0, 96)])
        virtual_dataset(f, "data", layout, fillvalue=-1)


def cli():
    rng = np.random.default_rng(20240601)

    with new_file("dirty.h5") as f:
        data = rng.integers(0, 256, size=(40, 3, 4, 4)).astype(np.float32)
        data[3, 0, 1, 2] = np.nan
        data[3, 2, 3, 0] = np.nan
        data[7, 1, 0, 0] = np.inf
        data[11, 2, 2, 2] = -np.inf
        label = (np.arange(40) % 5).astype(np.int64)
        label[5] = -1
        label[9] = 7
        dataset(f, "data", data=data, chunks=(10, 3, 4, 4), compression="gzip", compression_opts=4,
                shuffle=True)
        dataset(f, "label", data=label)

    with new_file("clean_small.h5") as f:
        data = rng.uniform(-1, 1, size=(20, 4)).astype(np.float32)
        dataset(f, "data", data=data)
        dataset(f, "label", data=(np.arange(20) % 2).astype(np.int32))

    with new_file("constant.h5") as f:
        data = rng.uniform(-1, 1, size=(10, 3))
        data[:, 1] = 5.0
        dataset(f, "data", data=data)

    with new_file("scale.h5") as f:
        data = rng.standard_normal((50, 3)) * np.array([1e-3, 1.0, 1e4])
        data[17, 2] = 2e6
        dataset(f, "data", data=data)

    with new_file("imbalance.h5") as f:
        data = rng.uniform(-1, 1, size=(503, 2)).astype(np.float32)
        label = np.zeros(503, dtype=np.int64)
        label[[100, 250, 400]] = 1
        dataset(f, "data", data=data)
        dataset(f, "label", data=label)


def main():
    os.makedirs(OUT, exist_ok=True)
    dtypes()
    layouts()
    labels()
    nested()
    unsupported()
    label_mismatch()
    userblock_and_truncated()
    absurd_dims()
    corrupt()
    never_written()
    outside()
    cli()


if __name__ == "__main__":
    main()
