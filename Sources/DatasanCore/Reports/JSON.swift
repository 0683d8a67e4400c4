/// A JSON value with ordered object keys, so reports read in the order SPEC.md shows.
public indirect enum JSONValue: Equatable, Sendable {
  case null
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([(String, JSONValue)])

  public static func == (a: JSONValue, b: JSONValue) -> Bool { a.serialized() == b.serialized() }

  /// A number: integral values print without a fraction, non-finite values as null.
  public static func number(_ x: Double) -> JSONValue {
    if !x.isFinite { return .null }
    if x == x.rounded(), Swift.abs(x) < 9e15 { return .int(Int(x)) }
    return .double(x)
  }

  /// Compact JSON text (one line).
  public func serialized() -> String {
    var out = ""
    write(to: &out, indent: nil, level: 0)
    return out
  }

  /// Indented JSON text.
  public func pretty() -> String {
    var out = ""
    write(to: &out, indent: "  ", level: 0)
    return out
  }

  private func write(to out: inout String, indent: String?, level: Int) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d): out += d.isFinite ? String(d) : "null"
    case .string(let s): JSONValue.escape(s, into: &out)
    case .array(let items):
      if items.isEmpty { out += "[]"; return }
      // Arrays of scalars stay on one line even when indented.
      let scalars = items.allSatisfy { if case .array = $0 { return false }; if case .object = $0 { return false }; return true }
      out += "["
      for (n, item) in items.enumerated() {
        if n > 0 { out += scalars || indent == nil ? (indent == nil ? "," : ", ") : "," }
        if let indent, !scalars { out += "\n" + String(repeating: indent, count: level + 1) }
        item.write(to: &out, indent: indent, level: level + 1)
      }
      if let indent, !scalars { out += "\n" + String(repeating: indent, count: level) }
      out += "]"
    case .object(let members):
      if members.isEmpty { out += "{}"; return }
      out += "{"
      for (n, (key, value)) in members.enumerated() {
        if n > 0 { out += "," }
        if let indent { out += "\n" + String(repeating: indent, count: level + 1) }
        JSONValue.escape(key, into: &out)
        out += indent == nil ? ":" : ": "
        value.write(to: &out, indent: indent, level: level + 1)
      }
      if let indent { out += "\n" + String(repeating: indent, count: level) }
      out += "}"
    }
  }

  static func escape(_ s: String, into out: inout String) {
    out += "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 {
          let hex = String(u.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    out += "\""
  }
}
