"""Caffe's Datum message (caffe.proto) written and read without protobuf, for the tests' scripts
and the fuzz corpus (which need only numpy, lmdb and OpenCV). The bytes are what protobuf's
serializer writes for these fields in field order, so they read back with any protobuf parser;
Fixtures/make_lmdb_fixtures.py builds its Datums with protobuf itself.

    message Datum { optional int32 channels = 1; optional int32 height = 2; optional int32 width = 3;
                    optional bytes data = 4; optional int32 label = 5; repeated float float_data = 6;
                    optional bool encoded = 7 [default = false]; }
"""
import struct


def varint(n):
    """A base-128 varint; a negative int32 takes 10 bytes (two's complement in 64 bits), as protobuf."""
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_varint(b, at):
    """The varint at b[at:] and the offset after it (IndexError when it runs past the end)."""
    result, shift = 0, 0
    while True:
        byte = b[at]
        at += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, at


def datum(channels=None, height=None, width=None, data=None, label=None, float_data=None, encoded=None,
          packed=True):
    """A serialized Datum with the fields given (None: absent). float_data packed (field 6, wire
    type 2) or, with packed=False, one tagged float each (as Caffe's proto2 writes them)."""
    out = bytearray()
    for number, value in ((1, channels), (2, height), (3, width)):
        if value is not None:
            out += bytes([number << 3]) + varint(value)
    if data is not None:
        out += b"\x22" + varint(len(data)) + bytes(data)
    if label is not None:
        out += b"\x28" + varint(label)
    if float_data is not None:
        if packed:
            floats = struct.pack("<%df" % len(float_data), *float_data)
            out += b"\x32" + varint(len(floats)) + floats
        else:
            for v in float_data:
                out += b"\x35" + struct.pack("<f", v)
    if encoded is not None:
        out += b"\x38" + (b"\x01" if encoded else b"\x00")
    return bytes(out)


def fields(value):
    """The fields of a Datum message: {number: last value} (varints as ints, bytes fields as
    bytes, fixed32 as raw bytes), or None when the message does not parse."""
    out, at = {}, 0
    try:
        while at < len(value):
            tag, at = read_varint(value, at)
            number, wire = tag >> 3, tag & 7
            if wire == 0:
                out[number], at = read_varint(value, at)
            elif wire == 2:
                n, at = read_varint(value, at)
                if at + n > len(value):
                    return None
                out[number], at = value[at:at + n], at + n
            elif wire == 5:
                out[number], at = value[at:at + 4], at + 4
            elif wire == 1:
                out[number], at = value[at:at + 8], at + 8
            else:
                return None
    except IndexError:
        return None
    return out
