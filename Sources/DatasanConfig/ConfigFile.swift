import DatasanCore
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

/// A value of a key, checked against the key's ``ConfigType``.
public enum ConfigValue: Sendable, Equatable {
  case string(String)
  case bool(Bool)
  case int(Int)
  case number(Double)
  /// `.list`, `.shape` (integers as text), `.range` (two numbers as text), `.kinds` (kind names).
  case list([String])
}

/// A config file that cannot be used: one line naming the file, the line and the key.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
  public var path: String
  public var line: Int?
  public var key: String?
  public var message: String

  public init(path: String, line: Int?, key: String?, _ message: String) {
    self.path = path
    self.line = line
    self.key = key
    self.message = message
  }

  /// `datasan.yml:4: num_clases: unknown key (did you mean num_classes?)`
  public var description: String {
    var s = path
    if let line { s += ":\(line)" }
    s += ": "
    if let key { s += "\(key): " }
    return s + message
  }
}

/// A datasan.yml: a flat YAML mapping of keys (``ConfigKey/all``) to values, each checked when
/// the file is read, with the line it came from.
public struct ConfigFile: Sendable {
  /// The name of the file picked up from the working directory.
  public static let defaultName = "datasan.yml"

  public struct Entry: Sendable, Equatable {
    public var value: ConfigValue
    public var line: Int
  }

  /// The path as given (what messages show).
  public let path: String
  public private(set) var entries: [String: Entry] = [:]

  public init(path: String, entries: [String: Entry] = [:]) {
    self.path = path
    self.entries = entries
  }

  /// Reads and checks a config file.
  public static func load(path: String) throws -> ConfigFile {
    var isDir = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
      throw ConfigError(path: path, line: nil, key: nil, "no such file")
    }
    guard !isDir, let data = FileManager.default.contents(atPath: path) else {
      throw ConfigError(path: path, line: nil, key: nil, "cannot read the config file")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw ConfigError(path: path, line: nil, key: nil, "not UTF-8 text")
    }
    return try parse(text, path: path)
  }

  /// `datasan.yml` in `directory` when it exists (the working directory by default).
  public static func discover(in directory: String = FileManager.default.currentDirectoryPath) -> String? {
    var base = Substring(directory)
    while base.count > 1 && base.hasSuffix("/") { base = base.dropLast() }  // as NSString's appendingPathComponent
    let path = base.isEmpty ? defaultName : base.hasSuffix("/") ? base + defaultName : base + "/" + defaultName
    var isDir = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir ? path : nil
  }

  /// Parses and checks the text of a config file; `path` is what messages name.
  public static func parse(_ text: String, path: String) throws -> ConfigFile {
    let root: YAMLNode?
    do {
      root = try YAML.compose(text)
    } catch let error as YAMLSyntaxError {
      throw ConfigError(path: path, line: error.line, key: nil, "not valid YAML: \(error.message)")
    } catch {
      throw ConfigError(path: path, line: nil, key: nil, "not valid YAML: \(error)")
    }
    var file = ConfigFile(path: path)
    guard let root else { return file }  // an empty file (or only comments) sets nothing
    if case .scalar(let s) = root, s.tag == .null { return file }
    guard case .mapping(let mapping, _) = root else {
      throw ConfigError(
        path: path, line: root.line, key: nil, "expected keys and values (e.g. num_classes: 10), not a \(kindName(root))")
    }
    for (keyNode, valueNode) in mapping {
      let line: Int? = keyNode.line
      guard case .scalar(let keyScalar) = keyNode else {
        throw ConfigError(path: path, line: line, key: nil, "a key must be a plain name, not a \(kindName(keyNode))")
      }
      let name = keyScalar.string
      guard let key = ConfigKey.byName[name] else {
        let dashed = name.replacingAll("-", with: "_")
        var hint = ""
        if dashed != name, ConfigKey.byName[dashed] != nil {
          hint = " (keys use _ for -: \(dashed))"
        } else if let s = Policy.suggestion(for: name, among: ConfigKey.all.map(\.name)) {
          hint = " (did you mean \(s)?)"
        }
        throw ConfigError(path: path, line: line, key: name, "unknown key\(hint)")
      }
      if let previous = file.entries[name] {
        throw ConfigError(path: path, line: line, key: name, "appears twice (first on line \(previous.line))")
      }
      let value = try check(valueNode, against: key, path: path, line: valueNode.line)
      file.entries[name] = Entry(value: value, line: line ?? 0)
    }
    return file
  }

  static func kindName(_ node: YAMLNode) -> String {
    switch node {
    case .mapping: return "mapping"
    case .sequence: return "list"
    case .scalar(let s):
      switch s.tag {
      case .null: return "null"
      case .bool: return "boolean"
      case .int: return "integer"
      case .float: return "number"
      default: return "string"
      }
    }
  }

  // MARK: checking values

  /// Checks one value against its key's type; returns it normalized.
  static func check(_ node: YAMLNode, against key: ConfigKey, path: String, line: Int) throws -> ConfigValue {
    func bad(_ message: String) -> ConfigError { ConfigError(path: path, line: line, key: key.name, message) }
    func scalar(_ expected: String) throws -> YAMLScalar {
      guard case .scalar(let s) = node else { throw bad("expected \(expected), got a \(kindName(node))") }
      if s.tag == .null { throw bad("expected \(expected), got no value") }
      return s
    }
    func items(_ expected: String) throws -> [String] {
      switch node {
      case .sequence(let seq, _):
        return try seq.map { item -> String in
          guard case .scalar(let s) = item, s.tag != .null else {
            throw bad("expected \(expected); each item must be a single value, got a \(kindName(item))")
          }
          return s.string.trimmingWhitespace()
        }
      case .scalar(let s) where s.tag != .null:
        return s.string.split(separator: ",", omittingEmptySubsequences: false).map {
          $0.trimmingWhitespace()
        }
      default:
        throw bad("expected \(expected), got a \(kindName(node))")
      }
    }
    func number(_ s: YAMLScalar, _ expected: String) throws -> Double {
      let numeric = s.tag == .int || s.tag == .float || s.tag == .str
      guard numeric, let x = Double.parse(yaml: s.string), x.isFinite else {
        throw bad("expected \(expected), got '\(s.string)'")
      }
      return x
    }

    switch key.type {
    case .string:
      let s = try scalar("a value")
      let text = s.string
      if text.isEmpty { throw bad("expected a value, got an empty string") }
      return .string(text)

    case .bool:
      let s = try scalar("true or false")
      guard s.tag == .bool, let b = s.boolValue else {
        throw bad("expected true or false, got '\(s.string)'")
      }
      return .bool(b)

    case .int(let min):
      let s = try scalar("an integer")
      let parsed = s.tag == .int ? s.intValue : (s.tag == .str ? Int(s.string) : nil)
      guard let n = parsed else {
        throw bad("expected an integer, got '\(s.string)'")
      }
      guard n >= min else { throw bad("must be at least \(min), got \(n)") }
      return .int(n)

    case .number(let min, let max, let exclusiveMin):
      let s = try scalar("a number")
      let x = try number(s, "a number")
      if let min, exclusiveMin ? !(x > min) : !(x >= min) {
        throw bad("must be \(exclusiveMin ? ">" : ">=") \(DatasetChecks.num(min)), got \(s.string)" + numberHint(key, x))
      }
      if let max, x > max { throw bad("must be <= \(DatasetChecks.num(max)), got \(s.string)" + numberHint(key, x)) }
      return .number(x)

    case .choice(let values):
      let s = try scalar("one of " + values.joined(separator: ", "))
      guard values.contains(s.string) else {
        let hint = Policy.suggestion(for: s.string, among: values).map { " (did you mean \($0)?)" } ?? ""
        throw bad("'\(s.string)' is not one of \(values.joined(separator: ", "))\(hint)")
      }
      return .string(s.string)

    case .delimiter:
      let s = try scalar("one character or tab")
      let d = s.string
      guard d == "tab" || d == "\t" || d == "\\t" || d.utf8.count == 1 else {
        throw bad("expected one character or tab, got '\(d)'")
      }
      return .string(d)

    case .list:
      if case .scalar(let s) = node, s.tag == .null { return .list([]) }  // `text_columns:` = none
      let list = try items("a list of names").filter { !$0.isEmpty }
      return .list(list)

    case .shape:
      if case .scalar(let s) = node, s.tag == .str, s.string.trimmingWhitespace().lowercased() == "any" {
        return .list(["any"])  // every size (`--shape any`)
      }
      let list = try items("a list of positive integers, e.g. [3, 32, 32], or any")
      guard !list.isEmpty, list.allSatisfy({ Int($0).map { $0 > 0 } ?? ($0.lowercased() == "any") }) else {
        throw bad("expected positive integers or any, e.g. [3, 32, 32], [3, any, any] or any; got \(list.joined(separator: ","))")
      }
      return .list(list)

    case .range:
      let list = try items("two numbers LO, HI, e.g. [-1, 1]")
      let values = list.map { Double.parse(yaml: $0) }
      guard values.count == 2, let lo = values[0], let hi = values[1], lo.isFinite, hi.isFinite, lo < hi else {
        throw bad("expected two numbers LO < HI, e.g. [-1, 1]; got \(list.joined(separator: ","))")
      }
      return .list(list)

    case .kinds(let allowAll):
      let names: [String]
      if case .sequence(let seq, _) = node, seq.isEmpty {
        names = []
      } else if case .scalar(let s) = node, s.tag == .null {
        names = []  // `fail_on:` with nothing = none
      } else {
        names = try items("finding kinds, e.g. [constant_feature, class_imbalance]")
      }
      do {
        _ = try Policy.kinds(names, allowAll: allowAll)
      } catch let e as PolicyError {
        throw bad(e.message)
      }
      return .list(names.filter { !$0.isEmpty })
    }
  }

  static func numberHint(_ key: ConfigKey, _ x: Double) -> String {
    switch key.name {
    case "class_imbalance_ratio" where x > 1:
      return " (a fraction: 0.01 flags a rarest class with fewer than 1% of the most frequent class's samples)"
    case "max_flagged_fraction" where x > 1:
      return " (a fraction of the samples: 0.01 tolerates 1% flagged samples)"
    default: return ""
    }
  }

  // MARK: reading values

  /// The entry of a key, if the file sets it.
  public subscript(_ key: String) -> Entry? { entries[key] }

  /// The keys the file sets, in line order.
  public var keys: [String] { entries.sorted { $0.value.line < $1.value.line }.map(\.key) }

  public func string(_ key: String) -> String? {
    switch entries[key]?.value {
    case .string(let s): return s
    case .int(let n): return String(n)
    case .number(let x): return DatasetChecks.num(x)
    case .bool(let b): return String(b)
    case .list(let l): return l.joined(separator: ",")
    case nil: return nil
    }
  }

  public func bool(_ key: String) -> Bool? {
    if case .bool(let b) = entries[key]?.value { return b }
    return nil
  }

  public func int(_ key: String) -> Int? {
    if case .int(let n) = entries[key]?.value { return n }
    return nil
  }

  public func number(_ key: String) -> Double? {
    switch entries[key]?.value {
    case .number(let x): return x
    case .int(let n): return Double(n)
    default: return nil
    }
  }

  public func list(_ key: String) -> [String]? {
    switch entries[key]?.value {
    case .list(let l): return l
    case .string(let s): return [s]
    default: return nil
    }
  }

  /// An error about a key of this file (for checks that need several keys), on its line.
  public func error(_ key: String, _ message: String) -> ConfigError {
    ConfigError(path: path, line: entries[key]?.line, key: key, message)
  }
}

extension Double {
  /// A YAML number: decimal, exponent, `.inf` / `.nan` spellings (refused later as not finite).
  static func parse(yaml text: String) -> Double? {
    let t = text.trimmingWhitespace().replacingAll("_", with: "")
    if let x = Double(t) { return x }
    switch t.lowercased() {
    case ".inf", "+.inf": return .infinity
    case "-.inf": return -.infinity
    case ".nan": return .nan
    default: return nil
    }
  }
}
