import DatasanCore

/// The header of a `.npy` array (NumPy's format.py): magic, version, and the Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (60000, 784), }`.
///
/// Parsed from bytes without evaluating anything: the dict holds strings, booleans and tuples of
/// integers only. Nothing is allocated from a size the header states: the caller hands over at most
/// ``maxHeaderBytes`` and checks ``dataBytes`` against the bytes that exist before reading any.
public struct NPYHeader: Sendable, Equatable {
  /// `\x93NUMPY`.
  public static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
  /// The most header bytes read (NumPy's own readers refuse headers above 10,000 bytes by default).
  public static let maxHeaderBytes = 1 << 16
  /// The bytes before the dict: magic, version, and its length (2 bytes in 1.0, 4 in 2.0 / 3.0).
  public static let preludeBytes = 8

  /// The format version (1, 2 or 3).
  public var major: Int
  /// Where the array's bytes start: after the magic, the length field and the dict.
  public var dataOffset: Int
  public var dtype: NPYDType
  public var fortranOrder: Bool
  public var shape: [Int]

  /// Elements of the whole array (nil when it overflows).
  public var elementCount: Int? {
    var n = 1
    for d in shape {
      let (p, o) = n.multipliedReportingOverflow(by: d)
      if o { return nil }
      n = p
    }
    return n
  }

  /// Bytes of the whole array (nil when it overflows).
  public var dataBytes: Int? {
    guard let n = elementCount else { return nil }
    let (p, o) = n.multipliedReportingOverflow(by: dtype.itemSize)
    return o ? nil : p
  }

  /// The shape as Python prints it: `(60000, 784)`, `(10,)`.
  public var shapeText: String { NPYHeader.text(of: shape) }

  public static func text(of shape: [Int]) -> String {
    shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
  }

  /// How many bytes of the file the header needs in all: the prelude first, then this.
  /// Returns nil when `prelude` is not the start of a `.npy` header.
  public static func totalHeaderBytes(prelude: some Collection<UInt8>) throws(NPYHeaderError) -> Int {
    let p = Array(prelude.prefix(12))
    guard p.count >= 6, Array(p[0..<6]) == magic else { throw .notNPY }
    guard p.count >= 10 else { throw .truncated("the header is cut short") }
    let major = Int(p[6])
    switch major {
    case 1: return 10 + (Int(p[8]) | Int(p[9]) << 8)
    case 2, 3:
      guard p.count >= 12 else { throw .truncated("the header is cut short") }
      let length = (Int(p[8]) | Int(p[9]) << 8) | (Int(p[10]) << 16 | Int(p[11]) << 24)
      return 12 + length
    default: throw .invalid("format version \(major).\(p[7]) is not one NumPy writes (1.0, 2.0, 3.0)")
    }
  }

  /// Parses a whole header (`bytes` starts with the magic and holds at least the header).
  public static func parse(_ bytes: some Collection<UInt8>) throws(NPYHeaderError) -> NPYHeader {
    let all = Array(bytes.prefix(maxHeaderBytes + 12))
    let total = try totalHeaderBytes(prelude: all)
    if total > maxHeaderBytes + 12 {
      throw .invalid("the header claims \(total) bytes (more than \(maxHeaderBytes); not a NumPy array header)")
    }
    guard all.count >= total else { throw .truncated("the header claims \(total) bytes but the file holds \(all.count)") }
    let major = Int(all[6])
    let dictStart = major == 1 ? 10 : 12
    let text = all[dictStart..<total]
    var parser = PythonLiteral(bytes: Array(text), utf8: major == 3)
    let dict = try parser.parseHeaderDict()
    guard case .string(let descr)? = dict["descr"] else {
      if case .list? = dict["descr"] { throw .unsupported("a structured dtype (record fields); datasan reads arrays of one numeric dtype") }
      throw .invalid("the header has no 'descr' string")
    }
    guard case .bool(let fortran)? = dict["fortran_order"] else { throw .invalid("the header has no 'fortran_order' True/False") }
    guard case .tuple(let shape)? = dict["shape"] else { throw .invalid("the header has no 'shape' tuple") }
    let dtype = try NPYDType(descr: descr)
    return NPYHeader(major: major, dataOffset: total, dtype: dtype, fortranOrder: fortran, shape: shape)
  }
}

/// Why a header was refused.
public enum NPYHeaderError: Error, Equatable, CustomStringConvertible {
  /// Not the `.npy` magic.
  case notNPY
  case truncated(String)
  case invalid(String)
  case unsupported(String)

  public var description: String {
    switch self {
    case .notNPY: return "not a NumPy .npy array (no \\x93NUMPY magic)"
    case .truncated(let s): return "truncated: " + s
    case .invalid(let s): return "not a valid .npy header: " + s
    case .unsupported(let s): return "unsupported: " + s
    }
  }
}

/// An array element type as NumPy's `descr` names it (`<f4`, `>i8`, `|u1`, `|b1`, `<f2`).
public struct NPYDType: Sendable, Equatable {
  public enum Kind: Sendable, Equatable { case bool, signed, unsigned, float }
  public var kind: Kind
  /// Bytes per element as stored.
  public var itemSize: Int
  /// Whether the stored bytes are big-endian (only meaningful above 1 byte).
  public var bigEndian: Bool
  /// The `descr` text.
  public var descr: String

  /// The type values are read as: float16 becomes float32, bool uint8, every other its own
  /// (native byte order).
  public var elementType: ElementType {
    switch (kind, itemSize) {
    case (.bool, _): return .uint8
    case (.signed, 1): return .int8
    case (.signed, 2): return .int16
    case (.signed, 4): return .int32
    case (.signed, _): return .int64
    case (.unsigned, 1): return .uint8
    case (.unsigned, 2): return .uint16
    case (.unsigned, 4): return .uint32
    case (.unsigned, _): return .uint64
    case (.float, 2), (.float, 4): return .float32
    case (.float, _): return .float64
    }
  }

  /// Whether stored bytes need converting (byte swap or float16 widening) before use.
  public var needsConversion: Bool { (itemSize > 1 && bigEndian != NPYDType.hostIsBigEndian) || itemSize != elementType.size }

  static let hostIsBigEndian = 1.bigEndian == 1

  /// The dtype in words ("big-endian float32", "bool").
  public var name: String {
    let base: String
    switch kind {
    case .bool: base = "bool"
    case .signed: base = "int\(itemSize * 8)"
    case .unsigned: base = "uint\(itemSize * 8)"
    case .float: base = "float\(itemSize * 8)"
    }
    return itemSize > 1 && bigEndian ? "big-endian " + base : base
  }

  public init(kind: Kind, itemSize: Int, bigEndian: Bool) {
    self.kind = kind
    self.itemSize = itemSize
    self.bigEndian = bigEndian
    let order = itemSize == 1 ? "|" : (bigEndian ? ">" : "<")
    let code: String
    switch kind {
    case .bool: code = "b"
    case .signed: code = "i"
    case .unsigned: code = "u"
    case .float: code = "f"
    }
    descr = order + code + String(itemSize)
  }

  public init(descr: String) throws(NPYHeaderError) {
    self.descr = descr
    var chars = Array(descr.utf8)
    var big = NPYDType.hostIsBigEndian
    if let first = chars.first, "<>|=".utf8.contains(first) {
      if first == UInt8(ascii: ">") { big = true } else if first == UInt8(ascii: "<") { big = false }
      chars.removeFirst()
    }
    guard let code = chars.first else { throw .invalid("empty dtype '\(descr.oneLine(limit: 32))'") }
    let sizeText = String(decoding: chars.dropFirst(), as: UTF8.self)
    let shown = descr.oneLine(limit: 32)
    switch code {
    case UInt8(ascii: "O"):
      throw .unsupported("an object array (dtype=object, pickled Python objects); datasan never unpickles: save a numeric array")
    case UInt8(ascii: "c"): throw .unsupported("complex dtype '\(shown)'; datasan reads bool, integer and float arrays")
    case UInt8(ascii: "U"), UInt8(ascii: "S"), UInt8(ascii: "a"):
      throw .unsupported("string dtype '\(shown)'; datasan reads bool, integer and float arrays")
    case UInt8(ascii: "M"), UInt8(ascii: "m"):
      throw .unsupported("datetime dtype '\(shown)'; datasan reads bool, integer and float arrays")
    case UInt8(ascii: "V"): throw .unsupported("void / record dtype '\(shown)'; datasan reads bool, integer and float arrays")
    default: break
    }
    guard let size = Int(sizeText), sizeText.utf8.count <= 2 else {
      throw .unsupported("dtype '\(shown)'; datasan reads bool, integer and float arrays")
    }
    switch (code, size) {
    case (UInt8(ascii: "b"), 1): kind = .bool
    case (UInt8(ascii: "i"), 1), (UInt8(ascii: "i"), 2), (UInt8(ascii: "i"), 4), (UInt8(ascii: "i"), 8): kind = .signed
    case (UInt8(ascii: "u"), 1), (UInt8(ascii: "u"), 2), (UInt8(ascii: "u"), 4), (UInt8(ascii: "u"), 8): kind = .unsigned
    case (UInt8(ascii: "f"), 2), (UInt8(ascii: "f"), 4), (UInt8(ascii: "f"), 8): kind = .float
    default: throw .unsupported("dtype '\(shown)'; datasan reads bool, integer and float arrays (float16/32/64)")
    }
    itemSize = size
    bigEndian = size > 1 ? big : false
  }
}

/// The Python literals of a `.npy` header: a dict of string keys to strings, booleans, integer
/// tuples (and lists, for structured dtypes, skipped). Depth and lengths are bounded by the header.
struct PythonLiteral {
  enum Value: Equatable {
    case string(String)
    case bool(Bool)
    case int(Int)
    case tuple([Int])
    case list
  }

  let bytes: [UInt8]
  let utf8: Bool
  var at = 0

  init(bytes: [UInt8], utf8: Bool) {
    self.bytes = bytes
    self.utf8 = utf8
  }

  mutating func skipSpace() {
    while at < bytes.count, [0x20, 0x09, 0x0A, 0x0D, 0x0C].contains(bytes[at]) || (bytes[at] == 0 && at == bytes.count - 1) { at += 1 }
  }

  mutating func expect(_ c: UInt8) throws(NPYHeaderError) {
    skipSpace()
    guard at < bytes.count, bytes[at] == c else { throw .invalid("expected '\(Character(Unicode.Scalar(c)))' at byte \(at) of the header dict") }
    at += 1
  }

  mutating func peek() -> UInt8? {
    skipSpace()
    return at < bytes.count ? bytes[at] : nil
  }

  mutating func parseHeaderDict() throws(NPYHeaderError) -> [String: Value] {
    try expect(UInt8(ascii: "{"))
    var dict: [String: Value] = [:]
    while true {
      guard let c = peek() else { throw .invalid("the header dict is not closed") }
      if c == UInt8(ascii: "}") {
        at += 1
        break
      }
      guard case .string(let key) = try parseValue(depth: 0) else { throw .invalid("a header dict key is not a string") }
      try expect(UInt8(ascii: ":"))
      let value = try parseValue(depth: 0)
      if dict[key] != nil { throw .invalid("the header repeats the key '\(key.oneLine(limit: 32))'") }
      dict[key] = value
      guard let next = peek() else { throw .invalid("the header dict is not closed") }
      if next == UInt8(ascii: ",") { at += 1 } else if next != UInt8(ascii: "}") {
        throw .invalid("expected ',' or '}' at byte \(at) of the header dict")
      }
    }
    skipSpace()
    guard at == bytes.count else { throw .invalid("bytes after the header dict") }
    return dict
  }

  mutating func parseValue(depth: Int) throws(NPYHeaderError) -> Value {
    guard depth < 32 else { throw .invalid("the header nests too deep") }
    guard let c = peek() else { throw .invalid("the header ends inside the dict") }
    switch c {
    case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString(quote: c))
    case UInt8(ascii: "("): return try parseTuple(depth: depth)
    case UInt8(ascii: "["):
      // A structured dtype's field list: skipped whole (its values are refused by the caller).
      at += 1
      while true {
        guard let next = peek() else { throw .invalid("a list in the header is not closed") }
        if next == UInt8(ascii: "]") {
          at += 1
          return .list
        }
        _ = try parseValue(depth: depth + 1)
        guard let after = peek() else { throw .invalid("a list in the header is not closed") }
        if after == UInt8(ascii: ",") { at += 1 } else if after != UInt8(ascii: "]") {
          throw .invalid("expected ',' or ']' in a list of the header")
        }
      }
    case UInt8(ascii: "T"), UInt8(ascii: "F"):
      for (word, value) in [("True", true), ("False", false)] {
        let w = Array(word.utf8)
        if at + w.count <= bytes.count, Array(bytes[at..<(at + w.count)]) == w {
          at += w.count
          return .bool(value)
        }
      }
      throw .invalid("unexpected word at byte \(at) of the header dict")
    default:
      if c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) { return .int(try parseInt()) }
      throw .invalid("unexpected character at byte \(at) of the header dict")
    }
  }

  mutating func parseString(quote: UInt8) throws(NPYHeaderError) -> String {
    at += 1
    var out: [UInt8] = []
    while at < bytes.count, bytes[at] != quote {
      if bytes[at] == UInt8(ascii: "\\") { throw .invalid("escapes in header strings are not NumPy's") }
      if bytes[at] == 0x0A { throw .invalid("a header string spans lines") }
      out.append(bytes[at])
      at += 1
      if out.count > 256 { throw .invalid("a header string is over 256 bytes") }
    }
    guard at < bytes.count else { throw .invalid("a header string is not closed") }
    at += 1
    return String(decoding: out, as: UTF8.self)
  }

  mutating func parseInt() throws(NPYHeaderError) -> Int {
    skipSpace()
    var negative = false
    if at < bytes.count, bytes[at] == UInt8(ascii: "-") {
      negative = true
      at += 1
    }
    var value = 0
    var digits = 0
    while at < bytes.count, bytes[at] >= 0x30, bytes[at] <= 0x39 {
      let (m, o1) = value.multipliedReportingOverflow(by: 10)
      let (s, o2) = m.addingReportingOverflow(Int(bytes[at] - 0x30))
      if o1 || o2 { throw .invalid("a number in the header does not fit in 64 bits") }
      value = s
      digits += 1
      at += 1
    }
    // Python 2 era writers appended L to long integers.
    if at < bytes.count, bytes[at] == UInt8(ascii: "L") { at += 1 }
    guard digits > 0 else { throw .invalid("expected a number at byte \(at) of the header dict") }
    return negative ? -value : value
  }

  /// A tuple: of integers (a shape) or, inside a structured dtype's list, of anything (`.list`).
  mutating func parseTuple(depth: Int) throws(NPYHeaderError) -> Value {
    at += 1
    var items: [Int] = []
    var onlyInts = true
    while true {
      guard let c = peek() else { throw .invalid("a tuple in the header is not closed") }
      if c == UInt8(ascii: ")") {
        at += 1
        return onlyInts ? .tuple(items) : .list
      }
      let value = try parseValue(depth: depth + 1)
      if case .int(let n) = value, onlyInts {
        if n < 0 { throw .invalid("the shape holds a negative size") }
        items.append(n)
        if items.count > 64 { throw .invalid("the shape has more than 64 axes") }
      } else {
        onlyInts = false
      }
      guard let next = peek() else { throw .invalid("a tuple in the header is not closed") }
      if next == UInt8(ascii: ",") { at += 1 } else if next != UInt8(ascii: ")") {
        throw .invalid("expected ',' or ')' in a tuple of the header")
      }
    }
  }
}
