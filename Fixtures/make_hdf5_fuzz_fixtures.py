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


if __name__ == "__main__":
    dims_over_max()
    wide_chunk_rows()
