import DatasanCore
import Foundation
import DatasanTestSupport
import Testing

@testable import DatasanLMDB

@Suite struct DatumTests {
  func decode(_ bytes: [UInt8]) -> Result<Datum, DatumError> {
    bytes.withUnsafeBytes { b in Result { () throws(DatumError) in try Datum.decode(b) } }
  }

  func floats(_ bytes: [UInt8], _ d: Datum) -> [Float] {
    var out = [Float](repeating: 0, count: d.floatCount)
    bytes.withUnsafeBytes { b in out.withUnsafeMutableBufferPointer { d.floats(in: b, into: $0.baseAddress!) } }
    return out
  }

  func encode(
    dimensions: (Int32, Int32, Int32)? = nil, data: [UInt8]? = nil, floats: [Float]? = nil, label: Int32? = nil,
    encoded: Bool = false
  ) -> [UInt8] {
    var out: [UInt8] = []
    let dims = dimensions.map { (channels: $0.0, height: $0.1, width: $0.2) }
    if let data {
      data.withUnsafeBytes { d in
        Datum.encode(dimensions: dims, data: d, floats: nil, label: label, encoded: encoded, into: &out)
      }
    } else if let floats {
      floats.withUnsafeBufferPointer { f in Datum.encode(dimensions: dims, floats: f, label: label, into: &out) }
    } else {
      Datum.encode(dimensions: dims, label: label, encoded: encoded, into: &out)
    }
    return out
  }

  @Test func encodesLikeProtobuf() throws {
    // Google's protobuf serialization of Datum(channels=3, height=4, width=4, data=0..47, label=1),
    // field by field (make_lmdb_fixtures.py writes the same bytes with the real library).
    let bytes = encode(dimensions: (3, 4, 4), data: Array(0..<48), label: 1)
    #expect(Array(bytes.prefix(8)) == [0x08, 3, 0x10, 4, 0x18, 4, 0x22, 48])
    #expect(Array(bytes.suffix(2)) == [0x28, 1])
    // And the raw.lmdb fixture's records are exactly what this encoder writes.
    let stored = try rawRecords(fixture("raw.lmdb"))
    for (n, record) in stored.enumerated() {
      let values = (0..<48).map { UInt8((48 * n + $0) % 256) }
      let label: Int32 = [4, 0, 7, -1, 3][n]
      #expect(record.value == encode(dimensions: (3, 4, 4), data: values, label: label))
    }
    // Packed float_data as protobuf writes it for [packed=true] (float.lmdb "f0").
    let f0 = try rawRecords(fixture("float.lmdb"))[0].value
    let values = (0..<12).map { 0.25 * Float($0) - 1 }
    #expect(f0 == encode(dimensions: (2, 2, 3), floats: values, label: 0))
  }

  @Test func decodesEveryField() throws {
    let bytes = encode(dimensions: (3, 1, 2), data: [9, 8, 7, 6, 5, 4], label: -7, encoded: true)
    let d = try decode(bytes).get()
    #expect(d.channels == 3 && d.height == 1 && d.width == 2 && d.label == -7 && d.encoded)
    #expect(d.hasDimensions && d.hasLabel)
    #expect(Array(bytes[d.data]) == [9, 8, 7, 6, 5, 4])
    #expect(d.elementCount == 6)
    #expect(d.floatCount == 0 && d.floatRun == nil)

    let empty = try decode([]).get()
    #expect(empty == Datum())
    #expect(!empty.hasDimensions && !empty.hasLabel)
  }

  @Test func dimensionsThatOverflowOrAreNegative() throws {
    var d = Datum()
    (d.channels, d.height, d.width) = (.max, .max, .max)
    #expect(d.elementCount == nil)
    (d.channels, d.height, d.width) = (3, -4, 4)
    #expect(d.elementCount == nil)
    (d.channels, d.height, d.width) = (65536, 65536, 65536)
    #expect(d.elementCount == 1 << 48)
  }

  @Test func negativeAndLargeVarints() throws {
    for label: Int32 in [-1, -2, .min, .max, 0, 127, 128, 300] {
      let bytes = encode(label: label)
      #expect(bytes.count == (label < 0 ? 11 : label < 128 ? 2 : label < 16384 ? 3 : 6))
      #expect(try decode(bytes).get().label == label)
    }
    // int32 fields keep the low 32 bits of a 64-bit varint, as protobuf does.
    #expect(try decode([0x28, 0x80, 0x80, 0x80, 0x80, 0x10]).get().label == 0)
    // Non-minimal varints are valid.
    #expect(try decode([0x28, 0x81, 0x80, 0x00]).get().label == 1)
  }

  @Test func floatDataPackedUnpackedAndMixed() throws {
    let values: [Float] = [1.5, -2, 0, .infinity, 3.25]
    let packed = encode(dimensions: (5, 1, 1), floats: values)
    let p = try decode(packed).get()
    #expect(p.floatCount == 5 && p.floatRun != nil)
    #expect(floats(packed, p) == values)

    var unpacked: [UInt8] = []
    for v in values { unpacked += [0x35] + withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
    let u = try decode(unpacked).get()
    #expect(u.floatCount == 5 && u.floatRun == nil)
    #expect(floats(unpacked, u) == values)

    // Two packed runs and unpacked values, interleaved with other fields.
    var mixed = encode(floats: Array(values[0..<2]))
    mixed += [0x28, 3]
    mixed += [0x35] + withUnsafeBytes(of: values[2].bitPattern.littleEndian, Array.init)
    mixed += encode(floats: Array(values[3...]))
    let m = try decode(mixed).get()
    #expect(m.floatCount == 5 && m.floatRun == nil && m.label == 3)
    #expect(floats(mixed, m) == values)

    // An empty packed field adds nothing.
    #expect(try decode([0x32, 0]).get().floatCount == 0)
  }

  @Test func unknownFieldsAreSkipped() throws {
    var bytes: [UInt8] = [0x08, 1]
    bytes += [15 << 3 | 0, 0x96, 0x01]  // varint
    bytes += [0x82, 0x01, 3, 0x61, 0x62, 0x63]  // field 16, bytes "abc"
    bytes += [0x89, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]  // field 17, fixed64
    bytes += [0x95, 0x01, 0, 0, 0, 0]  // field 18, fixed32
    bytes += [0x9B, 0x01, 0xA0, 0x01, 1, 0xA3, 0x01, 0xA4, 0x01, 0x9C, 0x01]  // group 19 { 20: 1, group 20 {} }
    bytes += [0x28, 5]
    let d = try decode(bytes).get()
    #expect(d.channels == 1 && d.label == 5)
  }

  @Test func malformedMessagesAreRejected() {
    let cases: [([UInt8], String)] = [
      ([0x08], "truncated varint at byte 1"),
      ([0x08, 0x80], "truncated varint at byte 1"),
      ([0x28] + [UInt8](repeating: 0xFF, count: 9) + [0x02], "varint at byte 1 is longer than 64 bits"),
      ([0x28] + [UInt8](repeating: 0x80, count: 10) + [0x00], "varint at byte 1 is longer than 64 bits"),
      ([0x22, 5, 1, 2], "length 5 at byte 1 runs past the end of the 4-byte value"),
      ([0x22, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], "length 4294967295 at byte 1 runs past the end of the 6-byte value"),
      ([0x20, 1], "field 4 (data) at byte 0 has wire type 0, expected 2"),
      ([0x0A, 0], "field 1 (channels) at byte 0 has wire type 2, expected 0"),
      ([0x2D, 0, 0, 0, 0], "field 5 (label) at byte 0 has wire type 5, expected 0"),
      ([0x30, 1], "field 6 (float_data) at byte 0 has wire type 0, expected 2"),
      ([0x35, 0, 0], "float_data value at byte 0 runs past the end"),
      ([0x32, 3, 0, 0, 0], "packed float_data at byte 0 is 3 bytes, not a multiple of 4"),
      ([0x00], "invalid field number 0 at byte 0"),
      ([0x0E], "invalid wire type 6 at byte 0"),
      ([0x0F], "invalid wire type 7 at byte 0"),
      ([0x4C], "unexpected end of group 9 at byte 1"),
      ([0x4B, 0x50, 1], "group 9 at byte 1 has no end"),
      ([0x4B, 0x54], "group 9 at byte 1 ends with field 10"),
      ([0x49, 0, 0], "fixed64 field 9 at byte 1 runs past the end"),
      ([0x4D, 0], "fixed32 field 9 at byte 1 runs past the end"),
      ([UInt8](repeating: 0x4B, count: 100), "groups nested more than 64 deep at byte 65"),
    ]
    for (bytes, reason) in cases {
      switch decode(bytes) {
      case .success(let d): Issue.record("\(bytes) decoded as \(d)")
      case .failure(let e):
        #expect(e.reason == reason, "\(bytes)")
        #expect(e.description == "not a Datum: " + reason)
      }
    }
  }

  @Test func randomBytesNeverTrap() {
    var rng = SplitMix(seed: 42)
    var decoded = 0
    for length in 0..<64 {
      for _ in 0..<200 {
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
        if case .success(let d) = decode(bytes) {
          decoded += 1
          #expect(d.data.upperBound <= bytes.count)
          _ = floats(bytes, d)
        }
      }
    }
    #expect(decoded > 0)
  }

  @Test func keysRoundTrip() {
    let cases: [([UInt8], String)] = [
      (Array("00000001_cat/a.png".utf8), "00000001_cat/a.png"),
      ([0xFF, 0xFE], "0xfffe"),
      ([0x00, 0x01], "\u{0}\u{1}"),
      (Array("0x41".utf8), "0x30783431"),
      (Array("0x".utf8), "0x3078"),
      (Array("0xZZ".utf8), "0xZZ"),
      (Array("é".utf8), "é"),
      ([0xC3], "0xc3"),
    ]
    for (bytes, shown) in cases {
      #expect(bytes.withUnsafeBytes { LMDBKey.display($0) } == shown)
      #expect(LMDBKey.bytes(of: shown) == bytes, "\(shown)")
    }
    #expect(LMDBKey.bytes(of: "0xABcd") == [0xAB, 0xCD])
    #expect(LMDBKey.bytes(of: "0xabc") == Array("0xabc".utf8))
  }
}
