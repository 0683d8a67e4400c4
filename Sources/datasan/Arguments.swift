// The command-line parser: a table of options per options struct (Options.swift, Commands.swift),
// each option declared once with its help and a closure that stores its value, and a loop over
// the arguments. No reflection, no key paths, no casts: parsing costs well under 0.1 ms, where
// swift-argument-parser's Mirror walks and conformance scans cost ~4.5 ms a run.
//
// Rules: `--name value` and `--name=value`; short forms (`-o x`, `-q`, clusters like `-qh`);
// flags, and `--name` / `--no-name` for invertible ones; one optional positional; `--` ends the
// options. A value option takes the next argument even when it starts with '-' (`--ignore-label
// -1`, `--range -1,1`, `--delimiter -`) unless it is an option: anything starting with `--`, or a
// known short option (`--name=--x` passes such a value). The last of a repeated option wins.
// `-h` / `--help` anywhere before `--` prints the command's help; `--version` prints the version.

// MARK: - Values

/// A type an option's value parses into.
protocol ArgumentValue {
  init?(argument: String)
  /// The accepted words, listed in help ("(values: a, b)") and in errors; nil: any text of the type.
  static var choices: [String]? { get }
}

extension String: ArgumentValue {
  init?(argument: String) { self = argument }
  static var choices: [String]? { nil }
}

extension Int: ArgumentValue {
  init?(argument: String) { self.init(argument) }
  static var choices: [String]? { nil }
}

extension Double: ArgumentValue {
  init?(argument: String) { self.init(argument) }
  static var choices: [String]? { nil }
}

/// An enum whose raw values are the words the option accepts.
protocol ChoiceArgument: ArgumentValue, CaseIterable, RawRepresentable where RawValue == String {}

extension ChoiceArgument {
  init?(argument: String) { self.init(rawValue: argument) }
  static var choices: [String]? { allCases.map { $0.rawValue } }
}

// MARK: - Options

/// One option of an options struct `Root` (or its positional argument): names, help, and the
/// closure that stores a value (`{ $0.format = $1 }`). Closures rather than key paths: a key path
/// literal is instantiated from its pattern at run time (generic class metadata and all), which
/// cost ~0.3 ms for a command's table; closures cost nothing until called.
struct Opt<Root> {
  enum Kind {
    /// The positional `<name>`.
    case argument((inout Root, String) -> Void)
    /// `--name <name>`; the closure returns false for a value that does not parse.
    case value((inout Root, String) -> Bool)
    /// `--name`, and `--no-name` (false) when invertible.
    case flag((inout Root, Bool) -> Void, invertible: Bool)
  }

  let name: String
  var short: Character? = nil
  let kind: Kind
  let help: String
  /// The accepted words of a choice (`ArgumentValue.choices`), asked for by help and errors only.
  var choices: () -> [String]? = { nil }
  /// The default that help shows.
  var defaultValue: String? = nil

  /// The positional argument, `<name>`.
  static func argument(_ name: String, _ set: @escaping (inout Root, String) -> Void, help: String) -> Opt {
    Opt(name: name, kind: .argument(set), help: help)
  }

  /// `--name <name>`.
  static func value<V: ArgumentValue>(
    _ name: String, short: Character? = nil, _ set: @escaping (inout Root, V) -> Void, default: String? = nil,
    help: String
  ) -> Opt {
    Opt(name: name, short: short, kind: .value { root, text in
      guard let value = V(argument: text) else { return false }
      set(&root, value)
      return true
    }, help: help, choices: { V.choices }, defaultValue: `default`)
  }

  /// `--name`: true when given.
  static func flag(_ name: String, short: Character? = nil, _ set: @escaping (inout Root, Bool) -> Void, help: String) -> Opt {
    Opt(name: name, short: short, kind: .flag(set, invertible: false), help: help)
  }

  /// `--name` / `--no-name`: true / false.
  static func invertible(_ name: String, _ set: @escaping (inout Root, Bool) -> Void, help: String) -> Opt {
    Opt(name: name, kind: .flag(set, invertible: true), help: help)
  }

  /// The same option, for an `Outer` (a command) that holds a `Root` (an options group):
  /// `InputOptions.options.lifted { scan, store in store(&scan.input) }`.
  func lifted<Outer>(_ access: @escaping (inout Outer, (inout Root) -> Void) -> Void) -> Opt<Outer> {
    let kind: Opt<Outer>.Kind
    switch self.kind {
    case .argument(let set):
      kind = .argument { outer, text in access(&outer) { set(&$0, text) } }
    case .value(let set):
      kind = .value { outer, text in
        var valid = false
        access(&outer) { valid = set(&$0, text) }
        return valid
      }
    case .flag(let set, let invertible):
      kind = .flag({ outer, on in access(&outer) { set(&$0, on) } }, invertible: invertible)
    }
    return Opt<Outer>(name: name, short: short, kind: kind, help: help, choices: choices, defaultValue: defaultValue)
  }

  var isArgument: Bool {
    if case .argument = kind { return true }
    return false
  }

  /// How the option is shown in help: `-o, --output <output>`, `--strict/--no-strict`, `<input>`.
  var label: String {
    let short = self.short.map { "-\($0), " } ?? ""
    switch kind {
    case .argument: return "<\(name)>"
    case .value: return short + "--\(name) <\(name)>"
    case .flag(_, let invertible): return invertible ? "--\(name)/--no-\(name)" : short + "--\(name)"
    }
  }

  /// The help text with the accepted values and the default.
  var fullHelp: String {
    var text = help
    if let choices = choices() { text += " (values: \(choices.joined(separator: ", ")))" }
    if let defaultValue { text += " (default: \(defaultValue))" }
    return text
  }
}

extension Array {
  /// A group's options, for a command: `InputOptions.options.lifted { scan, store in store(&scan.input) }`.
  func lifted<Root, Outer>(_ access: @escaping (inout Outer, (inout Root) -> Void) -> Void) -> [Opt<Outer>]
  where Element == Opt<Root> {
    map { $0.lifted(access) }
  }
}

/// Options shown together in help, under a title (nil: under OPTIONS).
struct Section<Root> {
  let title: String?
  let options: [Opt<Root>]

  init(_ options: [Opt<Root>]) {
    title = nil
    self.options = options
  }

  init(_ title: String, _ options: [Opt<Root>]) {
    self.title = title
    self.options = options
  }
}

// MARK: - Commands

/// A subcommand: its texts, its options, and what it does.
protocol Command {
  init()
  static var name: String { get }
  static var abstract: String { get }
  static var discussion: String { get }
  /// OPTIONS (the untitled sections) first, then the titled ones, in this order.
  static var sections: [Section<Self>] { get }
  /// The exit code: 0 done, 1 a scan that failed.
  func run() throws -> Int32
}

/// A usage error: main prints it with the command's usage and exits 2.
struct UsageError: Error, CustomStringConvertible {
  var message: String
  /// `label  help` of the option concerned, shown as `Help:` under the message.
  var help: String? = nil
  /// `Usage: ...` and where to find help, set by `Program` for the command that failed.
  var usage: String = ""

  init(_ message: String, help: String? = nil) {
    self.message = message
    self.help = help
  }

  var description: String { message }

  /// The whole text for stderr.
  var fullText: String {
    var text = "Error: \(message)\n"
    if let help { text += "Help:  \(help)\n" }
    return text + usage
  }
}

/// What a command line asks for.
enum Request<C> {
  case run(C)
  case help
  case version
}

/// The parser of one command's arguments.
struct Parser<C: Command> {
  let options: [Opt<C>]

  init() { options = C.sections.flatMap { $0.options } }

  func parse(_ arguments: [String]) throws -> Request<C> {
    // Help anywhere wins, even over an error earlier on the line.
    for argument in arguments {
      if argument == "--" { break }
      if argument == "-h" || argument == "--help" { return .help }
    }
    var command = C()
    var version = false
    var help = false
    var positional = false
    var onlyPositionals = false
    var i = 0
    // The value of an option: attached with '=', else the next argument unless it is an option.
    func value(for opt: Opt<C>, as typed: String, attached: String?) throws -> String {
      if let attached { return attached }
      guard i < arguments.count, !isOption(arguments[i]) else {
        throw UsageError("Missing value for '\(typed) <\(opt.name)>'", help: "\(opt.label)  \(opt.help)")
      }
      i += 1
      return arguments[i - 1]
    }
    func store(_ opt: Opt<C>, as typed: String, attached: String?, on: Bool = true) throws {
      switch opt.kind {
      case .flag(let set, _):
        if let attached {
          throw UsageError("The option '\(typed)' does not take any value, but '\(attached)' was specified.")
        }
        set(&command, on)
      case .value(let set):
        let text = try value(for: opt, as: typed, attached: attached)
        guard set(&command, text) else {
          var message = "The value '\(text)' is invalid for '\(typed) <\(opt.name)>'"
          if let choices = opt.choices() { message += ". Please provide one of \(Parser.quotedList(choices))." }
          throw UsageError(message, help: "\(opt.label)  \(opt.help)")
        }
      case .argument:
        break
      }
    }

    while i < arguments.count {
      let argument = arguments[i]
      i += 1
      if !onlyPositionals && argument == "--" {
        onlyPositionals = true
      } else if !onlyPositionals && argument.hasPrefix("--") {
        let (name, attached) = Parser.split(argument.dropFirst(2))
        if name == "help" { help = true; continue }
        if name == "version" { version = true; continue }
        guard let (index, on) = long(name) else { throw unknownOption("--" + name) }
        try store(options[index], as: "--" + name, attached: attached, on: on)
      } else if !onlyPositionals && argument.hasPrefix("-") && argument.count > 1 {
        // -q, -o x, -o=x, -qh: short options, all flags but maybe the last.
        let (cluster, attached) = Parser.split(argument.dropFirst())
        for (n, letter) in cluster.enumerated() {
          let last = n == cluster.count - 1
          if letter == "h" { help = true; continue }
          guard let opt = options.first(where: { $0.short == letter }) else {
            throw unknownOption(cluster.count == 1 ? argument : "-\(letter)")
          }
          if case .value = opt.kind, !last { throw unknownOption(argument) }
          try store(opt, as: "-\(letter)", attached: last ? attached : nil)
        }
      } else {
        guard !positional, let opt = options.first(where: { $0.isArgument }), case .argument(let set) = opt.kind else {
          throw UsageError("Unexpected argument '\(argument)'")
        }
        positional = true
        set(&command, argument)
      }
    }
    if help { return .help }
    if version { return .version }
    return .run(command)
  }

  /// The index of the option named `name` (without `--`), and the value of a flag: false for
  /// `--no-name`. (An index, not the option: a generic tuple would need its metadata made.)
  func long(_ name: String) -> (Int, Bool)? {
    if let index = options.firstIndex(where: { $0.name == name && !$0.isArgument }) { return (index, true) }
    guard name.hasPrefix("no-") else { return nil }
    let index = options.firstIndex {
      if case .flag(_, invertible: true) = $0.kind { return $0.name == name.dropFirst(3) }
      return false
    }
    return index.map { ($0, false) }
  }

  /// Whether an argument is an option rather than a value: `--...`, or a known short option.
  func isOption(_ argument: String) -> Bool {
    if argument.hasPrefix("--") { return true }
    guard argument.hasPrefix("-"), let letter = argument.dropFirst().first else { return false }
    return letter == "h" || options.contains { $0.short == letter }
  }

  func unknownOption(_ typed: String) -> UsageError {
    guard typed.hasPrefix("--") else { return UsageError("Unknown option '\(typed)'") }
    var names = ["--help", "--version"]
    for opt in options where !opt.isArgument {
      names.append("--" + opt.name)
      if case .flag(_, invertible: true) = opt.kind { names.append("--no-" + opt.name) }
    }
    if let suggestion = closest(to: typed, among: names, below: 4) {
      return UsageError("Unknown option '\(typed)'. Did you mean '\(suggestion)'?")
    }
    return UsageError("Unknown option '\(typed)'")
  }

  /// `name=value` -> (name, value); `name` -> (name, nil).
  static func split(_ text: Substring) -> (String, String?) {
    guard let equals = text.firstIndex(of: "=") else { return (String(text), nil) }
    return (String(text[..<equals]), String(text[text.index(after: equals)...]))
  }

  /// 'a', 'b' or 'c'
  static func quotedList(_ words: [String]) -> String {
    let quoted = words.map { "'\($0)'" }
    guard quoted.count > 1 else { return quoted.joined() }
    return quoted.dropLast().joined(separator: ", ") + " or " + quoted[quoted.count - 1]
  }
}

/// The name among `names` closest to `typed`, if its edit distance is below `limit`.
func closest(to typed: String, among names: [String], below limit: Int) -> String? {
  var best: (name: String, distance: Int)? = nil
  for name in names {
    let d = editDistance(typed, name)
    if d < limit && d < (best?.distance ?? Int.max) { best = (name, d) }
  }
  return best?.name
}

/// Levenshtein distance (insertions, deletions, substitutions).
func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a.utf8)
  let b = Array(b.utf8)
  var row = Array(0...b.count)  // from a[..<i] to each b[..<j]
  for i in a.indices {
    var diagonal = row[0]
    row[0] = i + 1
    for j in b.indices {
      let substitution = diagonal + (a[i] == b[j] ? 0 : 1)
      diagonal = row[j + 1]
      row[j + 1] = min(substitution, row[j + 1] + 1, row[j] + 1)
    }
  }
  return row[b.count]
}

// MARK: - The program

/// A subcommand, type-erased for the program's list.
struct Subcommand {
  let name: String
  let abstract: String
  let help: (_ program: String) -> String
  let run: (_ program: Program, _ arguments: [String]) throws -> Int32

  init<C: Command>(_ type: C.Type) {
    name = C.name
    abstract = C.abstract
    help = { program in Help.render(C.self, program: program) }
    run = { program, arguments in
      do {
        switch try Parser<C>().parse(arguments) {
        case .help:
          print(Help.render(C.self, program: program.name), terminator: "")
          return 0
        case .version:
          print(program.version)
          return 0
        case .run(let command):
          return try command.run()
        }
      } catch var error as UsageError {
        error.usage = "Usage: \(Help.usage(C.self, program: program.name))\n"
          + "  See '\(program.name) \(C.name) --help' for more information."
        throw error
      }
    }
  }
}

/// The top level: `program <subcommand> ...`, `program help [<subcommand>]`, `--help`, `--version`.
struct Program {
  let name: String
  let abstract: String
  let discussion: String
  let version: String
  let subcommands: [Subcommand]

  var usage: String { "Usage: \(name) <subcommand>\n  See '\(name) --help' for more information." }

  /// Runs what the arguments ask for and returns the exit code; throws a usage error (exit 2)
  /// or what the command threw.
  func run(_ arguments: [String]) throws -> Int32 {
    guard let first = arguments.first else {
      print(help(), terminator: "")
      return 0
    }
    if first == "help" {
      let sub = arguments.dropFirst().first.flatMap { name in subcommands.first { $0.name == name } }
      print(sub?.help(self.name) ?? help(), terminator: "")
      return 0
    }
    if first == "-h" || first == "--help" {
      print(help(), terminator: "")
      return 0
    }
    if first == "--version" {
      print(version)
      return 0
    }
    guard let sub = subcommands.first(where: { $0.name == first }) else {
      var error: UsageError
      if first.hasPrefix("-") {
        error = UsageError("Unknown option '\(first)'")
      } else if let suggestion = closest(to: first, among: subcommands.map { $0.name }, below: 3) {
        error = UsageError("Unknown subcommand '\(first)'. Did you mean '\(suggestion)'?")
      } else {
        error = UsageError("Unknown subcommand '\(first)'; the subcommands are \(subcommands.map { $0.name }.joined(separator: ", "))")
      }
      error.usage = usage
      throw error
    }
    return try sub.run(self, Array(arguments.dropFirst()))
  }

  func help() -> String {
    var text = Help.overview(abstract, discussion)
    text += "USAGE: \(name) <subcommand>\n\n"
    text += "OPTIONS:\n" + Help.builtins + "\n"
    text += "SUBCOMMANDS:\n"
    for sub in subcommands { text += Help.row(sub.name, sub.abstract) }
    text += "\n  See '\(name) help <subcommand>' for detailed help.\n"
    return text
  }
}

// MARK: - Help

/// Help text, wrapped at 80 columns; option help starts at column 26.
enum Help {
  static let width = 80
  static let column = 26

  static let builtins = row("--version", "Show the version.") + row("-h, --help", "Show help information.")

  static func usage<C: Command>(_: C.Type, program: String) -> String {
    let argument = C.sections.lazy.flatMap { $0.options }.first { $0.isArgument }
    return "\(program) \(C.name) [<options>]" + (argument.map { " [\($0.label)]" } ?? "")
  }

  static func render<C: Command>(_: C.Type, program: String) -> String {
    var text = overview(C.abstract, C.discussion)
    text += "USAGE: \(usage(C.self, program: program))\n\n"
    let all = C.sections.flatMap { $0.options }
    let arguments = all.filter { $0.isArgument }
    if !arguments.isEmpty {
      text += "ARGUMENTS:\n"
      for opt in arguments { text += row(opt.label, opt.fullHelp) }
      text += "\n"
    }
    text += "OPTIONS:\n"
    for section in C.sections where section.title == nil {
      for opt in section.options where !opt.isArgument { text += row(opt.label, opt.fullHelp) }
    }
    text += builtins
    for section in C.sections {
      guard let title = section.title else { continue }
      text += "\n\(title.uppercased()):\n"
      for opt in section.options where !opt.isArgument { text += row(opt.label, opt.fullHelp) }
    }
    return text
  }

  /// `OVERVIEW: abstract`, then the discussion, each followed by a blank line.
  static func overview(_ abstract: String, _ discussion: String) -> String {
    var text = wrap("OVERVIEW: " + abstract, width: width).joined(separator: "\n") + "\n\n"
    if !discussion.isEmpty {
      // Each line wrapped by itself; a wrapped indented line (an example) goes on 4 deeper.
      for line in discussion.split(separator: "\n", omittingEmptySubsequences: false) {
        let indent = line.prefix { $0 == " " }.count
        if indent == 0 {
          text += wrap(String(line), width: width).joined(separator: "\n") + "\n"
          continue
        }
        let lines = wrap(String(line.dropFirst(indent)), width: width - indent - 4, first: width - indent)
        text += String(repeating: " ", count: indent) + lines.joined(separator: "\n" + String(repeating: " ", count: indent + 4)) + "\n"
      }
      text += "\n"
    }
    return text
  }

  /// `  label` and the help from column 26 (on the next line when the label is too long).
  static func row(_ label: String, _ help: String) -> String {
    let pad = String(repeating: " ", count: column)
    let lines = wrap(help, width: width - column)
    var text = "  " + label
    if text.count < column {
      text += String(repeating: " ", count: column - text.count)
    } else {
      text += "\n" + pad
    }
    return text + lines.joined(separator: "\n" + pad) + "\n"
  }

  /// Lines of at most `width` characters (`first` for the first line), broken at the last space
  /// within the width, as swift-argument-parser does: only a text's last line may fill the whole
  /// width; a word longer than the width gets a line of its own.
  static func wrap(_ text: String, width: Int, first: Int? = nil) -> [String] {
    var lines: [String] = []
    var rest = Substring(text)
    while true {
      let limit = lines.isEmpty ? first ?? width : width
      guard rest.count > limit, let space = rest.prefix(limit).lastIndex(of: " ") ?? rest.firstIndex(of: " ") else {
        break
      }
      lines.append(String(rest[..<space]))
      rest = rest[rest.index(after: space)...]
    }
    lines.append(String(rest))
    return lines
  }
}
