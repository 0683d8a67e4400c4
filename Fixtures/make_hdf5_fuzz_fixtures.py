#!/usr/bin/env python3
"""Writes HDF5 fixtures modelled on fuzz findings (Fuzz/crashes/README.md) into Fixtures/hdf5/.

  dims_over_max.h5   data float32 (40, 3) = 3*i + j, chunks (10, 3), gzip, maxshape (40, 3), no
                     labels. The data dataspace message was patched to claim
                     5711486817761493032 rows while its maximum stays 40 (the fuzzer's
                     hdf5/timeout-0d40... files). libhdf5 1.12+ refuses such a dataspace ("dim 0
                     size ... is greater than maxdim size"); 1.10.8 accepts it. In the fuzzer's
                     files H5Dget_num_chunks fails too and reading the rows never ends; here the 4
                     written chunks are listed, and the scan reported 5.7e18 samples "never
                     written". datasan refuses the dataspace (exit 2).
  wide_chunk_rows.h5 data int8 (1, 1025) = 1, chunks (1, 1), maxshape (None, 1025), every chunk
                     written (1025 chunks, libver earliest: a v1 B-tree); the dataspace patched to
                     claim 2**40 rows. Too many chunks to list and chunk rows too wide to probe:
                     every row counted as written, and the scan read 2**40 rows of fill values
                     (hours). The same hole the fuzzer's files reached when H5Dget_num_chunks
                     fails. datasan refuses rows counted as written that the file cannot hold.
  unfiltered_short_chunks.h5
                     data float32 (40, 3, 4, 4) = arange, chunks (10, 3, 4, 4), gzip; label int64
                     (40,) = i % 3. Chunk 0 is written raw (H5Dwrite_chunk with the deflate filter
                     masked: 1920 bytes), chunks 1-3 gzip (470-507 bytes). Then data's filter
                     pipeline message is turned into a NIL message (the fuzzer's
                     hdf5-libhdf5/crash-3883...: its pipeline mutated away): the dataset has no
                     filters, chunk 0 is a good raw chunk and chunks 1-3 are read by libhdf5 1.10.8
                     as raw chunks of 1920 bytes from buffers of ~500 (a heap overread). datasan
                     refuses those chunks before H5Dread: rows 10-39 unreadable, rows 0-9 read.
  unfiltered_short_chunks_many.h5
                     The same removal on data int16 (1100, 4) = i + j, chunks (1, 4), gzip: 1100
                     chunks of ~11-17 bytes where 8 are due. Too many chunks to list one by one
                     (libhdf5 1.10 walks the index from its start for each), so datasan refuses the
                     dataset: exit 2.

Run from anywhere: `python3 Fixtures/make_hdf5_fuzz_fixtures.py` (h5py; deterministic).
"""
import os
import struct

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hdf5")
CLAIMED_ROWS = 5711486817761493032


def dims_over_max():
    path = os.path.join(OUT, "dims_over_max.h5")
    if os.path.exists(path):
        os.remove(path)
    i = np.arange(40)
    with h5py.File(path, "w", libver=("earliest", "v110"), track_order=False) as f:
        f.create_dataset("data", data=(3 * i[:, None] + np.arange(3)).astype(np.float32), chunks=(10, 3),
                         maxshape=(40, 3), compression="gzip", track_times=False)
    data = open(path, "rb").read()
    # The dataspace message holds the dims, then the maxdims.
    pattern = struct.pack("<QQQQ", 40, 3, 40, 3)
    assert data.count(pattern) == 1, "data's dataspace not found once"
    data = data.replace(pattern, struct.pack("<QQQQ", CLAIMED_ROWS, 3, 40, 3))
    open(path, "wb").write(data)
    print("wrote", path)


def wide_chunk_rows():
    path = os.path.join(OUT, "wide_chunk_rows.h5")
    if os.path.exists(path):
        os.remove(path)
    with h5py.File(path, "w", libver=("earliest", "v110"), track_order=False) as f:
        f.create_dataset("data", data=np.ones((1, 1025), dtype=np.int8), chunks=(1, 1), maxshape=(None, 1025),
                         track_times=False)
    data = open(path, "rb").read()
    unlimited = 2**64 - 1
    pattern = struct.pack("<QQQQ", 1, 1025, unlimited, 1025)
    assert data.count(pattern) == 1, "data's dataspace not found once"
    data = data.replace(pattern, struct.pack("<QQQQ", 2**40, 1025, unlimited, 1025))
    open(path, "wb").write(data)
    print("wrote", path)


def remove_filter_pipeline(path):
    """Turns the one deflate-only filter pipeline message of the file into a NIL message."""
    data = bytearray(open(path, "rb").read())
    # A version 1 object header message: type 0x000B (filter pipeline), size 32, flags 1 (constant),
    # 3 reserved bytes; then the pipeline (version 1, 1 filter, 6 reserved, deflate = 1).
    pattern = struct.pack("<HHB3xBB6xH", 0x000B, 32, 1, 1, 1, 1)
    assert data.count(pattern) == 1, "data's filter pipeline message not found once"
    at = data.find(pattern)
    data[at:at + 2] = struct.pack("<H", 0x0000)  # NIL: the message is skipped
    open(path, "wb").write(data)
    print("wrote", path)


def unfiltered_short_chunks():
    path = os.path.join(OUT, "unfiltered_short_chunks.h5")
    if os.path.exists(path):
        os.remove(path)
    values = np.arange(40 * 48, dtype=np.float32).reshape(40, 3, 4, 4)
    with h5py.File(path, "w", libver=("earliest", "v110"), track_order=False) as f:
        data = f.create_dataset("data", shape=values.shape, dtype=np.float32, chunks=(10, 3, 4, 4), compression="gzip",
                                track_times=False)
        data.id.write_direct_chunk((0, 0, 0, 0), values[:10].tobytes(), filter_mask=1)
        data[10:] = values[10:]
        f.create_dataset("label", data=np.arange(40, dtype=np.int64) % 3, track_times=False)
    remove_filter_pipeline(path)


def unfiltered_short_chunks_many():
    path = os.path.join(OUT, "unfiltered_short_chunks_many.h5")
    if os.path.exists(path):
        os.remove(path)
    values = (np.arange(1100)[:, None] + np.arange(4)).astype(np.int16)
    with h5py.File(path, "w", libver=("earliest", "v110"), track_order=False) as f:
        f.create_dataset("data", data=values, chunks=(1, 4), compression="gzip", track_times=False)
    remove_filter_pipeline(path)


if __name__ == "__main__":
    dims_over_max()
    wide_chunk_rows()
    unfiltered_short_chunks()
    unfiltered_short_chunks_many()
