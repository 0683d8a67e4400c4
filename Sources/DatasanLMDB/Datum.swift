// Caffe's `Datum` protobuf message, decoded and encoded by hand.
//
// Why not swift-protobuf: the reader decodes one Datum per LMDB record, millions of times per scan.
// A hand-written decoder is zero-copy (it records where `data` and `float_data` are inside the value
// bytes instead of materializing a `Data` and a `[Float]` per record), allocates nothing per record
// or per field, and lets every malformed message become a precise `unreadable` detail instead of a
// generic decoding error. The message has seven fields, so the decoder is short and fully tested
// against messages serialized by Google's protobuf library (Fixtures/make_lmdb_fixtures.py). It also
// keeps the build free of a protoc / protoc-gen-swift step and of a package dependency.
//
// THE DATUM RULE. Two parsers read Datums: this one (every record a scan or clean decodes), and the
// C parser of the scan's raw fast path, `datasan_datum_parse_raw` in Sources/CLMDB/shim.h, which reads
// canonical raw records straight in the LMDB map. Both follow the rule below, written here only; the
// randomized differential test (Tests/DatasanLMDBTests/DatumRuleTests.swift) holds them to it.
//
// Wire format (https://protobuf.dev/programming-guides/encoding/): a message is a sequence of
// (tag varint = field << 3 | wire type, payload). Datum (SPEC.md, caffe.proto):
//
//     channels = 1, height = 2, width = 3   int32, varint (negative values are 10-byte varints)
//     data = 4                              bytes, length-delimited
//     label = 5                             int32, varint
//     float_data = 6                        repeated float: fixed32 (unpacked, what Caffe writes)
//                                           or length-delimited (packed); both accepted, mixed too
//     encoded = 7                           bool, varint
//
//  1. Varints: at most 10 bytes, the 10th holding only the top bit of a 64-bit value (0 or 1); longer
//     or truncated varints make the message invalid. Non-minimal encodings are accepted.
//  2. Tags: field numbers 1 ... 2^29 - 1, wire types 0, 1, 2, 3, 5 (4 only closes a group); anything
//     else is invalid.
//  3. int32 fields (channels, height, width, label) take the low 32 bits of their varint, as protobuf
//     does; `encoded` is true for any nonzero varint.
//  4. A known field with another wire type than its own (above) makes the message invalid (protobuf's
//     lenient parsers would skip it; for a Datum it means the value is not a Datum).
//  5. Length-delimited payloads (data, packed float_data, unknown fields) must fit in the bytes
//     left; packed float_data must be a multiple of 4 bytes; an unpacked float needs 4 bytes.
//  6. As protobuf parsers do, the last occurrence of a singular field wins, repeated float_data
//     occurrences concatenate, and unknown fields (any valid wire type, groups nested up to 64
//     deep included) are skipped.
//  7. Sizes: channels * height * width is the element count only when no dimension is negative and
//     the product does not overflow (``Datum/elementCount``); a raw image's `data` is exactly that
//     many bytes, checked by the reader (not a decoding error).
//  8. The canonical raw form (what Caffe's tools write for a raw image, and all the C parser
//     accepts; ``Datum/isCanonicalRaw(channels:height:width:)``): a valid message whose every tag is
//     one byte, for fields 1 to 5 or 7 only, each at most once; `data` present, `encoded` false,
//     channels, height and width (0 when absent) equal to the expected ones (none negative), and
//     `data` exactly channels * height * width bytes (the product computed without overflow).
//     For such a message the C parser yields the same label (0 when absent) and the same offset of
//     `data` as this decoder; for any other message it declines, and this decoder decides.

/// Why a value is not a Datum, e.g. "not a Datum: truncated varint at byte 12".
public struct DatumError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The reason, without the "not a Datum: " prefix.
  public var reason: String
  public init(_ reason: String) { self.reason = reason }
  public var description: String { "not a Datum: \(reason)" }
}

/// One decoded Datum: its scalar fields, and where its `data` and `float_data` are in the message.
///
/// The view does not own the message bytes: ranges are byte offsets into the buffer that was
/// decoded, and ``floats(in:into:)`` reads the values from that same buffer.
public struct Datum: Equatable, Sendable {
  public var channels: Int32 = 0
  public var height: Int32 = 0
  public var width: Int32 = 0
  public var label: Int32 = 0
  public var encoded = false
  /// Whether any of channels / height / width was present in the message.
  public var hasDimensions = false
  /// Whether the label was present in the message.
  public var hasLabel = false
  /// Byte range of `data` in the message (of its last occurrence); empty when absent.
  public var data: Range<Int> = 0..<0
  /// Number of `float_data` values.
  public var floatCount = 0
  /// The byte range of the float values when they are one contiguous packed run (the usual case
  /// for packed writers); nil when there are none or they are spread over several fields.
  public var floatRun: Range<Int>? = nil
  /// Whether `data` was present in the message (possibly empty).
  public var hasData = false
  /// Whether every field of the message had a one-byte tag, was one of fields 1 to 5 or 7, and
  /// occurred at most once (the fields of the canonical raw form, rule 8 of the Datum rule).
  public var canonicalFields = true

  public init() {}

  /// channels * height * width (nil when a dimension is negative or the product overflows).
  public var elementCount: Int? {
    guard channels >= 0, height >= 0, width >= 0 else { return nil }
    let (hw, o1) = Int(height).multipliedReportingOverflow(by: Int(width))
    let (chw, o2) = hw.multipliedReportingOverflow(by: Int(channels))
    return o1 || o2 ? nil : chw
  }

  /// Whether the message is in the canonical raw form for a C x H x W image of the expected
  /// dimensions (rule 8 of the Datum rule): exactly what the C parser of the scan's fast path
  /// (`datasan_datum_parse_raw`) accepts.
  public func isCanonicalRaw(channels c: UInt64, height h: UInt64, width w: UInt64) -> Bool {
    guard canonicalFields && hasData && !encoded, channels >= 0, height >= 0, width >= 0,
      UInt64(channels) == c, UInt64(height) == h, UInt64(width) == w
    else { return false }
    let (plane, o1) = h.multipliedReportingOverflow(by: w)
    let (count, o2) = c.multipliedReportingOverflow(by: plane)
    return !o1 && !o2 && UInt64(data.count) == count
  }

  /// Copies the `floatCount` float_data values of `message` (the buffer this view was decoded
  /// from) into `destination`, in message order.
  public func floats(in message: UnsafeRawBufferPointer, into destination: UnsafeMutablePointer<Float>) {
    guard floatCount > 0 else { return }
    if let run = floatRun {
      Datum.copyLittleEndianFloats(from: message.baseAddress! + run.lowerBound, count: floatCount, to: destination)
      return
    }
    // Spread over several fields: walk the (already validated) message again.
    var out = destination
    var reader = WireReader(message)
    while !reader.atEnd {
      guard let (field, wire) = try? reader.tag() else { return }
      if field == 6 && wire == 5 {
        Datum.copyLittleEndianFloats(from: message.baseAddress! + reader.position, count: 1, to: out)
        out += 1
        reader.position += 4
      } else if field == 6 && wire == 2 {
        guard let length = try? reader.length() else { return }
        Datum.copyLittleEndianFloats(from: message.baseAddress! + reader.position, count: length / 4, to: out)
        out += length / 4
        reader.position += length
      } else if (try? reader.skip(wire: wire, field: field)) == nil {
        return
      }
    }
  }

  @inline(__always)
  static func copyLittleEndianFloats(from source: UnsafeRawPointer, count: Int, to destination: UnsafeMutablePointer<Float>) {
    #if _endian(little)
      UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
    #else
      for i in 0..<count {
        destination[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
      }
    #endif
  }

  // MARK: Decoding

  /// Decodes a Datum message. Throws ``DatumError`` for a truncated or malformed message (a bad
  /// varint, a length past the end, a known field with the wrong wire type, an invalid wire type).
  public static func decode(_ message: UnsafeRawBufferPointer) throws(DatumError) -> Datum {
    var datum = Datum()
    var reader = WireReader(message)
    var packedRuns = 0
    var unpacked = 0
    var seen: UInt32 = 0  // bit n: field n (1 ... 7) was seen
    while !reader.atEnd {
      let tagAt = reader.position
      let (field, wire) = try reader.tag()
      if datum.canonicalFields {
        let bit: UInt32 = field <= 7 ? 1 << UInt32(field) : 0
        if bit == 0 || field == 6 || seen & bit != 0 || reader.position - tagAt != 1 { datum.canonicalFields = false }
        seen |= bit
      }
      switch field {
      case 1, 2, 3, 5, 7:
        guard wire == 0 else { throw wrongWireType(field, wire, at: tagAt, expected: 0) }
        let value = try reader.varint()
        let int32 = Int32(truncatingIfNeeded: value)  // int32 fields: the low 32 bits, as protobuf does
        switch field {
        case 1: datum.channels = int32; datum.hasDimensions = true
        case 2: datum.height = int32; datum.hasDimensions = true
        case 3: datum.width = int32; datum.hasDimensions = true
        case 5: datum.label = int32; datum.hasLabel = true
        default: datum.encoded = value != 0
        }
      case 4:
        guard wire == 2 else { throw wrongWireType(field, wire, at: tagAt, expected: 2) }
        let length = try reader.length()
        datum.data = reader.position..<(reader.position + length)
        datum.hasData = true
        reader.position += length
      case 6:
        if wire == 5 {
          guard reader.remaining >= 4 else { throw DatumError("float_data value at byte \(tagAt) runs past the end") }
          unpacked += 1
          datum.floatCount += 1
          reader.position += 4
        } else if wire == 2 {
          let length = try reader.length()
          guard length % 4 == 0 else {
            throw DatumError("packed float_data at byte \(tagAt) is \(length) bytes, not a multiple of 4")
          }
          if length > 0 {
            packedRuns += 1
            datum.floatRun = reader.position..<(reader.position + length)
            datum.floatCount += length / 4
          }
          reader.position += length
        } else {
          throw wrongWireType(field, wire, at: tagAt, expected: 2)
        }
      default:
        try reader.skip(wire: wire, field: field)
      }
    }
    // One packed run is read with one copy; anything else is gathered by walking the fields again.
    if packedRuns != 1 || unpacked != 0 { datum.floatRun = nil }
    return datum
  }

  static let fieldNames = [1: "channels", 2: "height", 3: "width", 4: "data", 5: "label", 6: "float_data", 7: "encoded"]

  static func wrongWireType(_ field: Int, _ wire: Int, at offset: Int, expected: Int) -> DatumError {
    DatumError("field \(field) (\(fieldNames[field] ?? "?")) at byte \(offset) has wire type \(wire), expected \(expected)")
  }

  // MARK: Encoding

  /// Appends a Datum message to `out`, fields in number order as protobuf serializes them.
  /// - Parameters:
  ///   - dimensions: channels, height, width; nil to leave them out (encoded images).
  ///   - data: the `data` bytes (raw uint8 C x H x W, or an encoded image), nil for none.
  ///   - floats: the `float_data` values, written packed; nil or empty for none.
  ///   - label: the label, nil to leave it out.
  ///   - encoded: whether `data` holds an encoded image (written only when true).
  public static func encode(
    dimensions: (channels: Int32, height: Int32, width: Int32)?, data: UnsafeRawBufferPointer? = nil,
    floats: UnsafeBufferPointer<Float>? = nil, label: Int32?, encoded: Bool = false, into out: inout [UInt8]
  ) {
    if let d = dimensions {
      appendTag(1, 0, &out); appendVarint(UInt64(bitPattern: Int64(d.channels)), &out)
      appendTag(2, 0, &out); appendVarint(UInt64(bitPattern: Int64(d.height)), &out)
      appendTag(3, 0, &out); appendVarint(UInt64(bitPattern: Int64(d.width)), &out)
    }
    if let data {
      appendTag(4, 2, &out)
      appendVarint(UInt64(data.count), &out)
      out.append(contentsOf: data)
    }
    if let label {
      appendTag(5, 0, &out)
      appendVarint(UInt64(bitPattern: Int64(label)), &out)  // negative: sign-extended, 10 bytes
    }
    if let floats, floats.count > 0 {
      appendTag(6, 2, &out)
      appendVarint(UInt64(floats.count * 4), &out)
      #if _endian(little)
        out.append(contentsOf: UnsafeRawBufferPointer(floats))
      #else
        for f in floats { withUnsafeBytes(of: f.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
      #endif
    }
    if encoded {
      appendTag(7, 0, &out)
      appendVarint(1, &out)
    }
  }

  @inline(__always) static func appendTag(_ field: Int, _ wire: Int, _ out: inout [UInt8]) {
    appendVarint(UInt64(field << 3 | wire), &out)
  }

  @inline(__always) static func appendVarint(_ value: UInt64, _ out: inout [UInt8]) {
    var v = value
    while v >= 0x80 {
      out.append(UInt8(truncatingIfNeeded: v) | 0x80)
      v >>= 7
    }
    out.append(UInt8(v))
  }
}

/// A cursor over protobuf wire-format bytes that never reads past the end.
struct WireReader {
  let bytes: UnsafeRawBufferPointer
  var position = 0

  init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

  var atEnd: Bool { position >= bytes.count }
  var remaining: Int { bytes.count - position }

  /// A base-128 varint of at most 10 bytes (the 10th holding only the top bit of a 64-bit value).
  @inline(__always)
  mutating func varint() throws(DatumError) -> UInt64 {
    let start = position
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard position < bytes.count else { throw DatumError("truncated varint at byte \(start)") }
      let byte = bytes[position]
      position += 1
      if shift == 63 && byte > 1 { throw DatumError("varint at byte \(start) is longer than 64 bits") }
      result |= UInt64(byte & 0x7F) << shift
      if byte < 0x80 { return result }
      shift += 7
      if shift > 63 { throw DatumError("varint at byte \(start) is longer than 10 bytes") }
    }
  }

  /// A field tag: (field number, wire type).
  @inline(__always)
  mutating func tag() throws(DatumError) -> (Int, Int) {
    let at = position
    let key = try varint()
    let field = key >> 3
    let wire = Int(key & 7)
    guard field > 0, field <= 0x1FFF_FFFF else { throw DatumError("invalid field number \(field) at byte \(at)") }
    guard wire <= 5 else { throw DatumError("invalid wire type \(wire) at byte \(at)") }
    return (Int(field), wire)
  }

  /// The length prefix of a length-delimited field, checked against the bytes left.
  @inline(__always)
  mutating func length() throws(DatumError) -> Int {
    let at = position
    let value = try varint()
    guard value <= UInt64(remaining) else {
      throw DatumError("length \(value) at byte \(at) runs past the end of the \(bytes.count)-byte value")
    }
    return Int(value)
  }

  /// Skips the payload of an unknown field (groups included, nested up to 64 deep).
  mutating func skip(wire: Int, field: Int, depth: Int = 0) throws(DatumError) {
    let at = position
    switch wire {
    case 0: _ = try varint()
    case 1:
      guard remaining >= 8 else { throw DatumError("fixed64 field \(field) at byte \(at) runs past the end") }
      position += 8
    case 2: position += try length()
    case 5:
      guard remaining >= 4 else { throw DatumError("fixed32 field \(field) at byte \(at) runs past the end") }
      position += 4
    case 3:
      // A group: fields until the matching end-group tag.
      guard depth < 64 else { throw DatumError("groups nested more than 64 deep at byte \(at)") }
      while true {
        guard !atEnd else { throw DatumError("group \(field) at byte \(at) has no end") }
        let (inner, innerWire) = try tag()
        if innerWire == 4 {
          guard inner == field else { throw DatumError("group \(field) at byte \(at) ends with field \(inner)") }
          return
        }
        try skip(wire: innerWire, field: inner, depth: depth + 1)
      }
    default:  // 4: an end-group tag without a group
      throw DatumError("unexpected end of group \(field) at byte \(at)")
    }
  }
}
