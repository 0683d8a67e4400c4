#!/usr/bin/env python3
"""Writes Fixtures/hdf5/crash_stab_btree.h5: a file on which libhdf5 1.10.8 itself crashes.

Found by mutating this script's base file (8-byte fields set to all ones, 2026-12-07): the root
group's symbol table message (object header message 0x11) has its v1 B-tree address replaced by
0xffffffffffffffff, HDF5's "undefined address". libhdf5 1.10.8 does not check it: H5Lexists ->
H5G__stab_lookup -> H5B_find -> H5F_block_read -> H5F__accum_read copies from a NULL pointer
(SIGSEGV). The copy of that address in the superblock's root entry (a cache) is left intact, so
the file still opens. datasan must still give its verdict: exit 2, one line, nothing left behind.

Run from anywhere: `python3 Fixtures/make_hdf5_crash_fixture.py` (h5py; deterministic).
"""
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "hdf5", "crash_stab_btree.h5")
UNDEFINED = b"\xff" * 8


def base(path):
    with h5py.File(path, "w", libver="earliest") as f:
        g = f.create_group("train")
        g.create_dataset("images", data=np.arange(8 * 2 * 3 * 3, dtype=np.float32).reshape(8, 2, 3, 3),
                         chunks=(2, 2, 3, 3))
        g.create_dataset("labels", data=np.arange(8, dtype=np.int64) % 3)
        f.attrs["note"] = "x"


def main():
    base(OUT)
    data = bytearray(open(OUT, "rb").read())
    assert data[:8] == b"\x89HDF\r\n\x1a\n" and data[8] == 0, "expected a version 0 superblock"
    # Superblock v0 with 8-byte addresses: the root symbol table entry starts at 56; its scratch
    # pad (cache type 1) holds the root group's B-tree address at entry offset 24.
    root_btree = data[56 + 24:56 + 32]
    # Symbol table messages: type 0x0011, size 16, flags 0, 3 reserved bytes; then the B-tree
    # address and the local heap address.
    patched = 0
    start = 0
    while True:
        at = data.find(b"\x11\x00\x10\x00\x00\x00\x00\x00", start)
        if at < 0:
            break
        if data[at + 8:at + 16] == root_btree:
            data[at + 8:at + 16] = UNDEFINED
            patched += 1
        start = at + 1
    assert patched == 1, f"found {patched} symbol table messages of the root group"
    open(OUT, "wb").write(data)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
