import CLMDB
import DatasanTestSupport
import Testing

@testable import DatasanLMDB

/// The Datum rule (Sources/DatasanLMDB/Datum.swift) holds the two Datum parsers together: the C one
/// of the scan's raw fast path (`datasan_datum_parse_raw`, Sources/CLMDB/shim.h) accepts exactly the
/// canonical raw form (rule 8), and then decodes the same label and `data` offset as the Swift one.
/// Seeded random and mutated messages: the same cases on every run.
@Suite struct DatumRuleTests {
  /// The C parser's verdict: (label, offset of data) when it accepts.
  static func parseC(_ message: [UInt8], _ c: UInt64, _ h: UInt64, _ w: UInt64) -> (label: Int32, offset: Int)? {
    var label: Int32 = 0
    var offset = 0
    // An empty message still needs an address (the parser reads nothing from it).
    let accepted = (message.isEmpty ? [0] : message).withUnsafeBufferPointer {
      datasan_datum_parse_raw($0.baseAddress, message.count, c, h, w, &label, &offset)
    }
    return accepted != 0 ? (label, offset) : nil
  }

  /// Where the two parsers disagree on `message` read as a C x H x W raw record; nil when they agree.
  static func disagreement(_ message: [UInt8], _ c: UInt64, _ h: UInt64, _ w: UInt64) -> String? {
    let swift = message.withUnsafeBytes { try? Datum.decode($0) }
    let swiftAccepts = swift?.isCanonicalRaw(channels: c, height: h, width: w) ?? false
    let cResult = parseC(message, c, h, w)
    switch (cResult, swift) {
    case (nil, _) where !swiftAccepts: return nil
    case (nil, _): return "Swift takes it as canonical raw \(c)x\(h)x\(w), C declines"
    case (.some, nil): return "C accepts \(c)x\(h)x\(w), Swift rejects the message"
    case (.some(let r), .some(let d)):
      if !swiftAccepts { return "C accepts \(c)x\(h)x\(w), Swift does not take it as canonical raw: \(d)" }
      if r.label != d.label { return "labels differ: C \(r.label), Swift \(d.label)" }
      if r.offset != d.data.lowerBound { return "data offsets differ: C \(r.offset), Swift \(d.data)" }
      return nil
    }
  }

  // MARK: Generating messages

  static func varint(_ value: UInt64, padding: Int = 0, into out: inout [UInt8]) {
    var v = value
    var extra = padding
    while v >= 0x80 || extra > 0 {
      if v < 0x80 { extra -= 1 }
      out.append(UInt8(truncatingIfNeeded: v) | 0x80)
      v >>= 7
    }
    out.append(UInt8(v))
  }

  /// A random field value for an int32 field: small, negative (10 bytes), or with high bits set.
  static func int32Value(_ rng: inout SplitMix, small: UInt64) -> UInt64 {
    switch rng.next() % 8 {
    case 0: return UInt64(bitPattern: Int64(Int32.random(in: .min...(-1), using: &rng)))
    case 1: return rng.next()  // high bits: the low 32 count
    case 2: return (rng.next() % 4) << 32 | small
    default: return small
    }
  }

  /// A message built from fields, mostly canonical raw Datums, with random departures from the form.
  static func message(_ rng: inout SplitMix) -> (bytes: [UInt8], c: UInt64, h: UInt64, w: UInt64) {
    let c = rng.next() % 5, h = rng.next() % 7, w = rng.next() % 7
    var fields: [[UInt8]] = []
    func field(_ number: UInt64, _ wire: UInt64, _ payload: (inout [UInt8]) -> Void) {
      var f: [UInt8] = []
      // Mostly one-byte tags; sometimes a non-minimal (longer) tag varint.
      varint(number << 3 | wire, padding: rng.next() % 16 == 0 ? 1 : 0, into: &f)
      payload(&f)
      fields.append(f)
    }
    for (number, value) in [(1, c), (2, h), (3, w)] where rng.next() % 8 != 0 {
      let v = value == 0 && rng.next() % 2 == 0 ? 0 : int32Value(&rng, small: value)
      let padding = rng.next() % 10 == 0 ? Int(rng.next() % 3) : 0
      field(UInt64(number), 0) { varint(v, padding: padding, into: &$0) }
    }
    if rng.next() % 10 != 0 {
      var length = Int(c * h * w)
      if rng.next() % 6 == 0 { length = max(0, length + Int(rng.next() % 5) - 2) }
      field(4, 2) { f in
        varint(UInt64(length), into: &f)
        for _ in 0..<length { f.append(UInt8(truncatingIfNeeded: rng.next())) }
      }
    }
    if rng.next() % 4 != 0 {
      let v = int32Value(&rng, small: rng.next() % 1000)
      field(5, 0) { varint(v, into: &$0) }
    }
    if rng.next() % 5 == 0 {
      let v: UInt64 = rng.next() % 3 == 0 ? 1 + rng.next() % 300 : 0
      field(7, 0) { varint(v, into: &$0) }
    }
    switch rng.next() % 12 {
    case 0:  // float_data, unpacked or packed
      if rng.next() % 2 == 0 {
        field(6, 5) { for _ in 0..<4 { $0.append(UInt8(truncatingIfNeeded: rng.next())) } }
      } else {
        let n = Int(rng.next() % 3) * 4
        field(6, 2) { f in varint(UInt64(n), into: &f); f.append(contentsOf: [UInt8](repeating: 0x3F, count: n)) }
      }
    case 1:  // an unknown field of any wire type
      let number = 8 + rng.next() % 40
      switch rng.next() % 4 {
      case 0: field(number, 0) { varint(rng.next(), into: &$0) }
      case 1: field(number, 1) { $0.append(contentsOf: [UInt8](repeating: 1, count: 8)) }
      case 2: field(number, 2) { f in varint(2, into: &f); f.append(contentsOf: [7, 7]) }
      default: field(number, 5) { $0.append(contentsOf: [UInt8](repeating: 2, count: 4)) }
      }
    case 2:  // a known field with a wrong wire type
      let number = 1 + rng.next() % 7
      field(number, number == 4 ? 0 : 2) { f in varint(1, into: &f); f.append(9) }
    case 3:  // a repeated field
      if let again = fields.randomElement(using: &rng) { fields.append(again) }
    default: break
    }
    fields.shuffle(using: &rng)
    return (fields.flatMap { $0 }, c, h, w)
  }

  /// `bytes` with a few random byte-level changes: a byte flipped, cut, inserted or duplicated.
  static func mutated(_ bytes: [UInt8], _ rng: inout SplitMix) -> [UInt8] {
    var b = bytes
    for _ in 0..<(1 + rng.next() % 3) {
      let at = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
      switch rng.next() % 5 {
      case 0 where !b.isEmpty: b[at] ^= UInt8(1 << (rng.next() % 8))
      case 1 where !b.isEmpty: b[at] = UInt8(truncatingIfNeeded: rng.next())
      case 2: b = Array(b.prefix(at))
      case 3: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
      default: b.insert(contentsOf: b[at..<min(b.count, at + 3)], at: at)
      }
    }
    return b
  }

  // MARK: Tests

  @Test func bothParsersFollowOneRule() {
    var rng = SplitMix(seed: 0xDA7A_5A11)
    var failures: [String] = []
    var accepted = 0
    var checked = 0
    func check(_ bytes: [UInt8], _ c: UInt64, _ h: UInt64, _ w: UInt64) {
      checked += 1
      if Self.parseC(bytes, c, h, w) != nil { accepted += 1 }
      if let why = Self.disagreement(bytes, c, h, w), failures.count < 10 {
        failures.append("\(why); message \(bytes.map { String($0, radix: 16) })")
      }
    }
    for _ in 0..<20_000 {
      let (bytes, c, h, w) = Self.message(&rng)
      // Asked with the dimensions the message was built for, with the ones the Swift decoder reads,
      // and with others.
      check(bytes, c, h, w)
      if let d = bytes.withUnsafeBytes({ try? Datum.decode($0) }), d.channels >= 0, d.height >= 0, d.width >= 0 {
        check(bytes, UInt64(d.channels), UInt64(d.height), UInt64(d.width))
      }
      check(bytes, c, h, w &+ 1)
      for _ in 0..<3 {
        let m = Self.mutated(bytes, &rng)
        check(m, c, h, w)
      }
    }
    // Random bytes.
    for _ in 0..<5_000 {
      let bytes = (0..<Int(rng.next() % 24)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      check(bytes, rng.next() % 3, rng.next() % 3, rng.next() % 3)
    }
    #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    // The generator reaches both sides of the rule.
    #expect(accepted > 5_000 && checked - accepted > 30_000, "accepted \(accepted) of \(checked)")
  }

  /// The corners of the rule, one by one.
  @Test func cornersOfTheCanonicalForm() {
    let data: [UInt8] = [0x22, 0x02, 9, 9]  // data = 2 bytes
    // 1 x 1 x 2, label 5: accepted, label and offset as Swift decodes them.
    let plain: [UInt8] = [0x08, 1, 0x10, 1, 0x18, 2] + data + [0x28, 5]
    #expect(Self.parseC(plain, 1, 1, 2).map { [Int($0.label), $0.offset] } == [5, 8])
    #expect(Self.disagreement(plain, 1, 1, 2) == nil)
    let cases: [(String, [UInt8], Bool)] = [
      ("a dimension with high bits: int32 takes the low 32", [0x08, 0x81, 0x80, 0x80, 0x80, 0x10, 0x10, 1, 0x18, 2] + data, true),
      ("a negative dimension", [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x10, 1, 0x18, 2] + data, false),
      ("a non-minimal tag", [0x88, 0x00, 1, 0x10, 1, 0x18, 2] + data, false),
      ("a non-minimal value", [0x08, 0x81, 0x00, 0x10, 1, 0x18, 2] + data, true),
      ("encoded = false written out", [0x08, 1, 0x10, 1, 0x18, 2] + data + [0x38, 0], true),
      ("encoded = true", [0x08, 1, 0x10, 1, 0x18, 2] + data + [0x38, 2], false),
      ("a repeated label", [0x08, 1, 0x10, 1, 0x18, 2] + data + [0x28, 5, 0x28, 6], false),
      ("no data", [0x08, 1, 0x10, 1, 0x18, 2], false),
      ("an empty packed float_data", [0x08, 1, 0x10, 1, 0x18, 2] + data + [0x32, 0], false),
      ("an 11-byte varint", [0x08] + [UInt8](repeating: 0x80, count: 10) + [1, 0x10, 1, 0x18, 2] + data, false),
    ]
    for (name, message, canonical) in cases {
      #expect((Self.parseC(message, 1, 1, 2) != nil) == canonical, "\(name)")
      #expect(Self.disagreement(message, 1, 1, 2) == nil, "\(name)")
    }
  }
}
