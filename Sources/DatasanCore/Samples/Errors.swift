/// An error that stops a command (exit code 2): one line naming the file and the problem.
///
/// ``description`` is always one line: control characters in the path or the message (a column
/// name, a key or a dataset name read from a file may hold a line break) are written as escapes.
public struct DatasanError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The file (and dataset / key / line) the problem is about, if any.
  public var path: String?
  /// What is wrong, in words a user can act on.
  public var message: String

  public init(path: String? = nil, _ message: String) {
    self.path = path
    self.message = message
  }

  public var description: String {
    if let path { return "\(path.oneLine()): \(message.oneLine())" }
    return message.oneLine()
  }
}

extension String {
  /// Names read from a file (a column, a dataset, a key) are cut to this many characters in messages.
  public static let messageNameLimit = 64

  /// This text as it may appear inside a one-line message: control characters (C0, DEL, U+0085,
  /// U+2028, U+2029) written as `\n`, `\r`, `\t` or `\u{1B}`, and, past `limit` characters (Unicode
  /// scalars), cut with an ellipsis. Returns `self` (shared, not copied) when there is nothing to change.
  public func oneLine(limit: Int = .max) -> String {
    var plain = true
    var scalars = 0
    for s in unicodeScalars {
      scalars += 1
      if scalars > limit || String.isControl(s) {
        plain = false
        break
      }
    }
    if plain { return self }
    var out = ""
    var n = 0
    for s in unicodeScalars {
      if n == limit {
        out += "…"
        break
      }
      n += 1
      switch s {
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where String.isControl(s): out += "\\u{\(String(s.value, radix: 16, uppercase: true))}"
      default: out.unicodeScalars.append(s)
      }
    }
    return out
  }

  /// A name read from a file, for a message: ``oneLine(limit:)`` at ``messageNameLimit``.
  public var messageName: String { oneLine(limit: String.messageNameLimit) }

  private static func isControl(_ s: Unicode.Scalar) -> Bool {
    s.value < 0x20 || s.value == 0x7F || s.value == 0x85 || s.value == 0x2028 || s.value == 0x2029
  }
}
