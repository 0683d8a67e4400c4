import CYAML

// datasan.yml's YAML: libyaml's event parser and a small composer over its events. This gives the
// node tree Yams' `compose` gave (Yams wraps the same libyaml 0.2.5): the same nodes, the same tags
// resolved by the same rules (YAML 1.1's core schema as Yams' default Resolver has it), the same
// lines and the same error texts, without Yams' Foundation (about a third of the binary's
// conformance records, which every `as?` of swift-argument-parser scanned at start-up).

/// A YAML node: a scalar, a list or a mapping, with the line (1-based) it starts on.
indirect enum YAMLNode: Sendable {
  case scalar(YAMLScalar)
  case sequence([YAMLNode], line: Int)
  case mapping([(key: YAMLNode, value: YAMLNode)], line: Int)

  var line: Int {
    switch self {
    case .scalar(let s): return s.line
    case .sequence(_, let line), .mapping(_, let line): return line
    }
  }
}

/// A scalar: its text, its resolved tag, whether it was written plain (unquoted), its line.
struct YAMLScalar: Sendable {
  var string: String
  var tag: YAMLTag
  var plain: Bool
  var line: Int
}

/// A resolved tag (`tag:yaml.org,2002:int`, ...); an unquoted scalar without a tag gets the first
/// of bool, int, float, merge, null, timestamp, value whose pattern its text matches, else str.
struct YAMLTag: Equatable, Sendable {
  let rawValue: String
  init(rawValue: String) { self.rawValue = rawValue }

  static let null = YAMLTag(rawValue: "tag:yaml.org,2002:null")
  static let bool = YAMLTag(rawValue: "tag:yaml.org,2002:bool")
  static let int = YAMLTag(rawValue: "tag:yaml.org,2002:int")
  static let float = YAMLTag(rawValue: "tag:yaml.org,2002:float")
  static let str = YAMLTag(rawValue: "tag:yaml.org,2002:str")
  static let merge = YAMLTag(rawValue: "tag:yaml.org,2002:merge")
  static let timestamp = YAMLTag(rawValue: "tag:yaml.org,2002:timestamp")
  static let value = YAMLTag(rawValue: "tag:yaml.org,2002:value")
}

/// Text that is not YAML: libyaml's problem (and its context), on a line when libyaml names one.
struct YAMLSyntaxError: Error, Sendable {
  var line: Int?
  var message: String
}

enum YAML {
  /// The node tree of a single-document YAML text; nil for an empty stream (nothing, or only
  /// comments).
  /// Throws ``YAMLSyntaxError``.
  static func compose(_ text: String) throws -> YAMLNode? {
    if text.utf8.isEmpty { return nil }  // (libyaml wants an input pointer, and an empty array has none)
    return try Array(text.utf8).withUnsafeBufferPointer { buffer in try Composer(buffer).singleRoot() }
  }

  /// The tag an unquoted, untagged scalar resolves to.
  static func resolve(plain s: String) -> YAMLTag {
    let b = Array(s.utf8)
    if isBool(b) { return .bool }
    if isInt(b) { return .int }
    if isFloat(b) { return .float }
    if s == "<<" { return .merge }
    if s == "~" || s == "null" || s == "Null" || s == "NULL" || s.isEmpty { return .null }
    if isTimestamp(b) { return .timestamp }
    if s == "=" { return .value }
    return .str
  }

  // MARK: the resolver's patterns, byte by byte (each a regular expression of Yams' Resolver)

  private static func digit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
  private static let underscore = UInt8(ascii: "_")

  /// `yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF`
  private static func isBool(_ b: [UInt8]) -> Bool {
    switch String(decoding: b, as: UTF8.self) {
    case "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
      "on", "On", "ON", "off", "Off", "OFF":
      return true
    default: return false
    }
  }

  /// Skips an optional `[-+]`.
  private static func afterSign(_ b: [UInt8]) -> Int {
    b.first == UInt8(ascii: "-") || b.first == UInt8(ascii: "+") ? 1 : 0
  }

  /// Whether `b[from...]` is one or more (`atLeastOne`) or any number of bytes satisfying `ok`.
  private static func all(_ b: [UInt8], from: Int, atLeastOne: Bool = true, _ ok: (UInt8) -> Bool) -> Bool {
    if atLeastOne && from >= b.count { return false }
    var i = from
    while i < b.count {
      if !ok(b[i]) { return false }
      i += 1
    }
    return true
  }

  /// `(?::[0-5]?[0-9])+` for the whole of `b[from...]`.
  private static func sexagesimalGroups(_ b: [UInt8], from: Int) -> Bool {
    var i = from
    var groups = 0
    while i < b.count {
      guard b[i] == UInt8(ascii: ":") else { return false }
      i += 1
      if i + 1 < b.count, digit(b[i + 1]) {  // two digits: the first one 0-5
        guard b[i] >= 0x30 && b[i] <= 0x35 else { return false }
        i += 2
      } else {
        guard i < b.count, digit(b[i]) else { return false }
        i += 1
      }
      groups += 1
    }
    return groups > 0
  }

  /// `[-+]?0b[0-1_]+ | [-+]?0o?[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+ |
  /// [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+`
  static func isInt(_ b: [UInt8]) -> Bool {
    let s = afterSign(b)
    guard s < b.count else { return false }
    let rest = b.count - s
    if b[s] == UInt8(ascii: "0") {
      if rest == 1 { return true }
      let next = b[s + 1]
      if next == UInt8(ascii: "b") { return all(b, from: s + 2) { $0 == 0x30 || $0 == 0x31 || $0 == underscore } }
      if next == UInt8(ascii: "x") {
        return all(b, from: s + 2) { digit($0) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) || $0 == underscore }
      }
      let octal = next == UInt8(ascii: "o") ? s + 2 : s + 1
      return all(b, from: octal) { ($0 >= 0x30 && $0 <= 0x37) || $0 == underscore }
    }
    guard b[s] >= 0x31 && b[s] <= 0x39 else { return false }
    var i = s + 1
    while i < b.count, digit(b[i]) || b[i] == underscore { i += 1 }
    return i == b.count || sexagesimalGroups(b, from: i)
  }

  /// `[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)? | \.[0-9_]+(?:[eE][-+][0-9]+)? |
  /// [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)`
  static func isFloat(_ b: [UInt8]) -> Bool {
    let dot = UInt8(ascii: ".")
    func exponent(_ from: Int, signRequired: Bool) -> Bool {  // [eE][-+]?[0-9]+ to the end
      guard from < b.count, b[from] | 0x20 == UInt8(ascii: "e") else { return false }
      var i = from + 1
      if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") {
        i += 1
      } else if signRequired {
        return false
      }
      return all(b, from: i, digit)
    }
    let text = String(decoding: b, as: UTF8.self)
    if text == ".nan" || text == ".NaN" || text == ".NAN" { return true }
    let s = afterSign(b)
    guard s < b.count else { return false }
    if b[s] == dot {
      let tail = String(decoding: b[(s + 1)...], as: UTF8.self)
      if tail == "inf" || tail == "Inf" || tail == "INF" { return true }
      guard s == 0 else { return false }  // `.5` has no sign
      var i = 1
      while i < b.count, digit(b[i]) || b[i] == underscore { i += 1 }
      guard i > 1 else { return false }
      return i == b.count || exponent(i, signRequired: true)
    }
    guard digit(b[s]) else { return false }
    var i = s + 1
    while i < b.count, digit(b[i]) || b[i] == underscore { i += 1 }
    if i == b.count { return true }
    if b[i] == UInt8(ascii: ":") {  // sexagesimal: groups, then `.` and [0-9_]*
      guard let point = b[i...].firstIndex(of: dot) else { return false }
      return sexagesimalGroups(Array(b[..<point]), from: i) && all(b, from: point + 1, atLeastOne: false) { digit($0) || $0 == underscore }
    }
    if b[i] == dot {
      i += 1
      while i < b.count, digit(b[i]) || b[i] == underscore { i += 1 }
      if i == b.count { return true }
    }
    return exponent(i, signRequired: false)
  }

  /// `[0-9]{4}-[0-9]{2}-[0-9]{2} | [0-9]{4}-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?
  /// :[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?`
  static func isTimestamp(_ b: [UInt8]) -> Bool {
    var i = 0
    func digits(_ min: Int, _ max: Int) -> Bool {
      var n = 0
      while n < max, i < b.count, digit(b[i]) {
        i += 1
        n += 1
      }
      return n >= min
    }
    func byte(_ c: Character) -> Bool {
      guard i < b.count, b[i] == UInt8(ascii: c.unicodeScalars.first!) else { return false }
      i += 1
      return true
    }
    func blanks() -> Int {
      var n = 0
      while i < b.count, b[i] == 0x20 || b[i] == 0x09 {
        i += 1
        n += 1
      }
      return n
    }
    guard digits(4, 4), byte("-"), digits(1, 2), byte("-"), digits(1, 2) else { return false }
    if i == b.count { return b.count == 10 }  // the date alone: two digits each
    guard byte("T") || byte("t") || blanks() > 0 else { return false }
    guard digits(1, 2), byte(":"), digits(2, 2), byte(":"), digits(2, 2) else { return false }
    if byte(".") { _ = digits(0, Int.max) }
    if i == b.count { return true }
    _ = blanks()
    if byte("Z") { return i == b.count }
    guard byte("-") || byte("+"), digits(1, 2) else { return false }
    if i == b.count { return true }
    return byte(":") && digits(2, 2) && i == b.count
  }
}

// MARK: constructing values (Yams' Bool / Int constructors)

extension YAMLScalar {
  /// A bool's value: true, yes, on / false, no, off in any case.
  var boolValue: Bool? {
    switch string.lowercased() {
    case "true", "yes", "on": return true
    case "false", "no", "off": return false
    default: return nil
    }
  }

  /// An int's value, unquoted only: `_` ignored, 0x / 0b / 0o / 0 prefixes, sexagesimal `1:30`.
  var intValue: Int? {
    guard plain else { return nil }
    let withSign = string.replacingAll("_", with: "")
    if withSign == "0" { return 0 }
    let negative = withSign.hasPrefix("-")
    let hasSign = negative || withSign.hasPrefix("+")
    let sign = negative ? "-" : ""
    let digits = withSign.dropFirst(hasSign ? 1 : 0)
    for (prefix, radix) in [("0x", 16), ("0b", 2), ("0o", 8), ("0", 8)] where digits.hasPrefix(prefix) {
      return Int(sign + digits.dropFirst(prefix.count), radix: radix)
    }
    if digits.contains(":") {
      var value = 0
      var base = 1
      for part in digits.split(separator: ":", omittingEmptySubsequences: false).reversed() {
        guard let d = Int(part, radix: 10) else { continue }  // (Yams drops what is not a number)
        value += d * base
        base *= 60
      }
      return negative ? -value : value
    }
    return Int(withSign)
  }
}

// MARK: the composer

/// libyaml's parser over a text and the anchors seen so far; one document, as Yams'
/// `Parser.singleRoot()`. The parser lives at a fixed address: libyaml keeps a pointer to it.
private final class Composer {
  let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
  var anchors: [String: YAMLNode] = [:]

  /// `text` must outlive the composer.
  init(_ text: UnsafeBufferPointer<UInt8>) {
    parser.initialize(to: yaml_parser_t())
    yaml_parser_initialize(parser)
    yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
    yaml_parser_set_input_string(parser, text.baseAddress, text.count)
  }

  deinit {
    yaml_parser_delete(parser)
    parser.deallocate()
  }

  /// One parsed event (freed by the caller through `Event`'s deinit).
  final class Event {
    var event = yaml_event_t()
    deinit { yaml_event_delete(&event) }
    var type: yaml_event_type_t { event.type }
    var line: Int { Int(event.start_mark.line) + 1 }
  }

  func next() throws -> Event {
    let e = Event()
    guard yaml_parser_parse(parser, &e.event) == 1 else { throw error() }
    return e
  }

  /// The error libyaml reports, as Yams' YamlError turned into datasan's message: "context:
  /// problem" on the problem's line; a reader error (bad UTF-8, a control character) without one.
  func error() -> YAMLSyntaxError {
    func text(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }
    let parser = self.parser.pointee
    switch parser.error {
    case YAML_SCANNER_ERROR, YAML_PARSER_ERROR, YAML_COMPOSER_ERROR:
      let what = [text(parser.context), text(parser.problem) ?? ""].compactMap { $0 }.filter { !$0.isEmpty }
      return YAMLSyntaxError(line: Int(parser.problem_mark.line) + 1, message: what.joined(separator: ": "))
    case YAML_READER_ERROR:
      return YAMLSyntaxError(line: nil, message: text(parser.problem) ?? "")
    case YAML_MEMORY_ERROR:
      return YAMLSyntaxError(line: nil, message: "Memory error")
    default:
      return YAMLSyntaxError(line: nil, message: "unknown error")
    }
  }

  func singleRoot() throws -> YAMLNode? {
    _ = try next()  // STREAM-START
    guard parser.pointee.stream_end_produced == 0, try next().type != YAML_STREAM_END_EVENT else { return nil }
    let root = try node(try next())
    _ = try next()  // DOCUMENT-END
    let after = try next()
    if after.type != YAML_STREAM_END_EVENT {
      throw YAMLSyntaxError(
        line: after.line, message: "expected a single document in the stream: but found another document")
    }
    return root
  }

  func node(_ event: Event) throws -> YAMLNode {
    switch event.type {
    case YAML_ALIAS_EVENT:
      guard let anchor = string(event.event.data.alias.anchor), let node = anchors[anchor] else {
        throw YAMLSyntaxError(line: event.line, message: "found undefined alias")
      }
      return node
    case YAML_SCALAR_EVENT:
      let s = event.event.data.scalar
      let value = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
      let tag: YAMLTag
      if s.quoted_implicit == 1 {
        tag = .str
      } else if let explicit = string(s.tag) {
        tag = explicit == "!" ? .str : YAMLTag(rawValue: explicit)
      } else {
        tag = YAML.resolve(plain: value)
      }
      let node = YAMLNode.scalar(YAMLScalar(string: value, tag: tag, plain: s.style == YAML_PLAIN_SCALAR_STYLE || s.style == YAML_ANY_SCALAR_STYLE, line: event.line))
      if let anchor = string(s.anchor) { anchors[anchor] = node }
      return node
    case YAML_SEQUENCE_START_EVENT:
      var items: [YAMLNode] = []
      var e = try next()
      while e.type != YAML_SEQUENCE_END_EVENT {
        items.append(try node(e))
        e = try next()
      }
      let node = YAMLNode.sequence(items, line: event.line)
      if let anchor = string(event.event.data.sequence_start.anchor) { anchors[anchor] = node }
      return node
    case YAML_MAPPING_START_EVENT:
      var pairs: [(key: YAMLNode, value: YAMLNode)] = []
      var e = try next()
      while e.type != YAML_MAPPING_END_EVENT {
        let key = try node(e)
        let value = try node(try next())
        pairs.append((key, value))
        e = try next()
      }
      let node = YAMLNode.mapping(pairs, line: event.line)
      if let anchor = string(event.event.data.mapping_start.anchor) { anchors[anchor] = node }
      return node
    default:
      throw YAMLSyntaxError(line: event.line, message: "unexpected event")  // libyaml gives none other here
    }
  }

  func string(_ p: UnsafeMutablePointer<UInt8>?) -> String? { p.map { String(cString: $0) } }
}
