import ArgumentParser
import ArgumentParserToolInfo
import Datasan
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

/// One key of datasan.yml: a command-line option (Options.swift), by its long name with `_` for `-`.
public struct ConfigKey: Sendable {
  /// How the option is written on the command line.
  public enum Form: Sendable, Equatable {
    /// The positional argument (`input`).
    case argument
    /// `--name=value`.
    case value
    /// `--name`, and `--no-name` when invertible.
    case flag(invertible: Bool)
  }

  public var name: String
  public var type: ConfigType
  /// One line for `datasan init`'s comments: the option's help without its example.
  public var help: String
  public var form: Form
  /// The options group that declares it.
  public var group: ObjectIdentifier

  public init(_ name: String, _ type: ConfigType, _ help: String, form: Form = .value, group: ObjectIdentifier) {
    self.name = name
    self.type = type
    self.help = help
    self.form = form
    self.group = group
  }

  /// The command-line option of this key (`num_classes` -> `--num-classes`).
  public var flag: String { "--" + name.replacingAll("_", with: "-") }
}

extension ConfigKey {
  /// What the input is and how each format reads it.
  public static let inputGroups: [any ConfigurableOptions.Type] = [InputOptions.self] + Formats.optionGroups.map { $0 }

  /// The option groups whose options are keys, in the order of their sections in help.
  public static let groups: [any ConfigurableOptions.Type] = inputGroups + [CheckFlags.self, ReportFlags.self, CleanOptions.self]

  /// Every key a config file may hold: the options of `groups`, read from their declarations
  /// through swift-argument-parser's tool-info model (what `--experimental-dump-help` prints).
  public static let all: [ConfigKey] = groups.flatMap { keys(of: $0) }

  public static let byName: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

  /// The keys of one group's options, in declaration order.
  public static func keys(of group: any ConfigurableOptions.Type) -> [ConfigKey] {
    let info: ToolInfoV0
    do {
      info = try JSONDecoder().decode(ToolInfoV0.self, from: Data(group._dumpHelp().utf8))
    } catch {
      preconditionFailure("the tool info of \(group) does not decode: \(error)")
    }
    let arguments = info.command.arguments ?? []
    // An inverted flag is two flags in the model: `--x` and `--no-x`; the key is x.
    let flags = Set(arguments.filter { $0.kind == .flag }.compactMap { $0.preferredName?.name })
    return arguments.compactMap { argument -> ConfigKey? in
      let long = argument.kind == .positional ? argument.valueName : argument.preferredName?.name
      guard let long, argument.shouldDisplay, !["help", "version"].contains(long) else { return nil }
      if argument.kind == .flag, long.hasPrefix("no-"), flags.contains(String(long.dropFirst(3))) { return nil }
      let form: Form
      let type: ConfigType
      switch argument.kind {
      case .positional:
        form = .argument
        type = group.configTypes[long] ?? .string
      case .flag:
        form = .flag(invertible: flags.contains("no-" + long))
        type = .bool
      case .option:
        form = .value
        if let values = argument.allValueStrings, !values.isEmpty {
          type = .choice(values)
        } else {
          type = group.configTypes[long] ?? .string
        }
      }
      return ConfigKey(
        long.replacingAll("-", with: "_"), type, summary(argument.abstract ?? ""), form: form,
        group: ObjectIdentifier(group))
    }
  }

  /// An option's help as a one-line comment: up to its first `; ` outside parentheses, without
  /// its example `(e.g. ...)` and its final period.
  static func summary(_ help: String) -> String {
    var text = Substring(help)
    if let example = text.ranges(of: " (e.g.").last { text = text[..<example.lowerBound] }
    var depth = 0
    var end = text.endIndex
    for index in text.indices {
      if text[index] == "(" {
        depth += 1
      } else if text[index] == ")" {
        depth -= 1
      } else if depth == 0 && text[index...].hasPrefix("; ") {
        end = index
        break
      }
    }
    text = text[..<end]
    if text.hasSuffix(".") { text = text.dropLast() }
    return String(text)
  }
}

extension ConfigFile {
  /// The file's keys of the options of `groups` as command-line arguments, in the file's order,
  /// to be parsed before the command line's own (whose options then win: the last one does).
  /// `input` is left out when the command line names one, and the input-specific keys unless
  /// `inputKeys` (``describes(input:)``).
  public func arguments(for groups: [any ConfigurableOptions.Type], skippingInput: Bool, inputKeys: Bool = true) -> [String] {
    let wanted = Set(groups.map { ObjectIdentifier($0) })
    var arguments: [String] = []
    for name in keys {
      guard let key = ConfigKey.byName[name], wanted.contains(key.group), let value = self[name]?.value else { continue }
      if !inputKeys && key.isInputSpecific && key.form != .argument { continue }
      switch (key.form, value) {
      case (.argument, _):
        if !skippingInput, let text = string(name) { arguments.insert(text, at: 0) }
      case (.flag(let invertible), .bool(let on)):
        if on { arguments.append(key.flag) } else if invertible { arguments.append("--no-" + key.flag.dropFirst(2)) }
      case (.value, .number(let x)):
        arguments.append("\(key.flag)=\(x)")  // exactly the number read
      case (.value, _):
        guard let text = string(name), !text.isEmpty else { continue }  // `fail_on: []`: as unset
        arguments.append("\(key.flag)=\(text)")
      default:
        continue
      }
    }
    return arguments
  }
}
