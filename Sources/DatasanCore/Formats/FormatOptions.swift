#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a value of an option must be in datasan.yml, where it is more than a string.
public enum ConfigType: Sendable, Equatable {
  /// Any scalar, taken as text (a number is its text: `label_column: 3`).
  case string
  /// `true` / `false`.
  case bool
  /// An integer at or above `min`.
  case int(min: Int)
  /// A number (integer or decimal) in the range; `exclusiveMin` when the minimum is not allowed.
  case number(min: Double?, max: Double?, exclusiveMin: Bool)
  /// One of these words.
  case choice([String])
  /// One character, or `tab`.
  case delimiter
  /// A list of scalars, or one comma-separated string.
  case list
  /// Positive integers: a list, or `3,32,32`.
  case shape
  /// Two numbers LO < HI: a list, or `-1,1`.
  case range
  /// Finding kinds: a list or a comma-separated string; `none`, and `all` (every warning kind) when allowed.
  case kinds(allowAll: Bool)
}

/// A group of options that datasan.yml may set too: the YAML type of each option whose value is
/// more than a string, by long name (flags are booleans, and options with choices take one of
/// them, without being listed).
public protocol ConfigTyped {
  static var configTypes: [String: ConfigType] { get }
}

/// One key that `datasan init` writes for a dataset: set, or commented out as a suggestion.
public struct TemplateEntry: Sendable, Equatable {
  public var key: String
  public var value: String
  /// The comment after it; nil: the option's help.
  public var comment: String?
  public var commentedOut: Bool

  public init(_ key: String, _ value: String, comment: String? = nil, commentedOut: Bool = false) {
    self.key = key
    self.value = value
    self.comment = comment
    self.commentedOut = commentedOut
  }
}

/// A format's own command-line options (a swift-argument-parser group in the format's target,
/// registered with the umbrella `Datasan` library): their YAML types, what they set in
/// ``ReadOptions``, and what `datasan init` writes of them.
public protocol FormatOptionGroup: ConfigTyped {
  /// Puts the options given into what the format's reader reads (`options[...]`).
  func apply(to options: inout ReadOptions)
  /// The keys `datasan init` writes for `info` read with `read`; empty for another format.
  static func template(for info: DatasetInfo, read: ReadOptions) -> [TemplateEntry]
}

extension TemplateEntry {
  /// A YAML scalar for a string: plain when that reads back as the same string, else quoted.
  public static func yaml(_ s: String) -> String {
    let plainSafe = !s.isEmpty && s.unicodeScalars.allSatisfy {
      ($0.isLetterOrMark || $0.isNumber) || "/._-+".unicodeScalars.contains($0)
    }
    let first = s.unicodeScalars.first.map { $0.isLetterOrMark || "/._".unicodeScalars.contains($0) } ?? false
    let reserved = ["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(s.lowercased())
    if plainSafe && first && !reserved && !s.hasPrefix("..") && Double(s) == nil { return s }
    var q = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": q += "\\\""
      case "\\": q += "\\\\"
      case "\n": q += "\\n"
      case "\t": q += "\\t"
      default:
        if u.value < 0x20 { q += "\\x" + (u.value < 0x10 ? "0" : "") + String(u.value, radix: 16, uppercase: true) } else { q.unicodeScalars.append(u) }
      }
    }
    return q + "\""
  }
}
