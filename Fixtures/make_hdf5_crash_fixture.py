#!/usr/bin/env python3
"""Writes two files on which libhdf5 1.10.8 itself crashes, into Fixtures/hdf5/.

Both were found by mutating this script's base file (8-byte fields set to all ones, 2026-12-07):

  crash_stab_btree.h5  the root group's symbol table message (object header message 0x11) has its
                       v1 B-tree address replaced by 0xffffffffffffffff, HDF5's "undefined
                       address". libhdf5 does not check it: H5Lexists -> H5G__stab_lookup ->
                       H5B_find -> H5F_block_read -> H5F__accum_read copies from NULL (SIGSEGV).
                       The copy of that address in the superblock's root entry (a cache) is left
                       intact, so the file still opens.
  crash_heap_size.h5   the root group's local heap ("HEAP") claims a data segment of 2**64 - 1
                       bytes: H5HL__fl_deserialize writes outside what it allocated and glibc's
                       malloc aborts ("malloc(): corrupted top size", SIGABRT).

datasan must still give its verdict: exit 2, its one line, nothing left behind.

Run from anywhere: `python3 Fixtures/make_hdf5_crash_fixture.py` (h5py; deterministic).
"""
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
UNDEFINED = b"\xff" * 8


def base(path):
    with h5py.File(path, "w", libver="earliest") as f:
        g = f.create_group("train")
        g.create_dataset("images", data=np.arange(8 * 2 * 3 * 3, dtype=np.float32).reshape(8, 2, 3, 3),
                         chunks=(2, 2, 3, 3))
        g.create_dataset("labels", data=np.arange(8, dtype=np.int64) % 3)
        f.attrs["note"] = "x"


def root_symbol_table(data):
    """The offset of the root group's symbol table message: type 0x0011, size 16, flags 0, 3
    reserved bytes, then the B-tree address and the local heap address."""
    assert data[:8] == b"\x89HDF\r\n\x1a\n" and data[8] == 0, "expected a version 0 superblock"
    # Superblock v0 with 8-byte addresses: the root symbol table entry starts at 56; its scratch
    # pad (cache type 1) holds the root group's B-tree address at entry offset 24.
    root_btree = bytes(data[56 + 24:56 + 32])
    found = []
    at = data.find(b"\x11\x00\x10\x00\x00\x00\x00\x00")
    while at >= 0:
        if data[at + 8:at + 16] == root_btree:
            found.append(at)
        at = data.find(b"\x11\x00\x10\x00\x00\x00\x00\x00", at + 1)
    assert len(found) == 1, f"found {len(found)} symbol table messages of the root group"
    return found[0]


def write(name, patch):
    path = os.path.join(HERE, "hdf5", name)
    base(path)
    data = bytearray(open(path, "rb").read())
    patch(data, root_symbol_table(data))
    open(path, "wb").write(data)
    print("wrote", path)


def undefined_btree(data, message):
    data[message + 8:message + 16] = UNDEFINED


def huge_heap(data, message):
    heap = int.from_bytes(data[message + 16:message + 24], "little")
    assert data[heap:heap + 4] == b"HEAP"
    data[heap + 8:heap + 16] = UNDEFINED  # after the signature, version and 3 reserved bytes


def main():
    write("crash_stab_btree.h5", undefined_btree)
    write("crash_heap_size.h5", huge_heap)


if __name__ == "__main__":
    main()
