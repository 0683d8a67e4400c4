import DatasanConfig
import Foundation
import Testing

/// What `datasan scan --help` and `datasan clean --help` show: their sections in this order, each
/// option once, in the section of the group that declares it (Options.swift).
@Suite struct HelpSectionsCLITests {
  /// The sections of a help text and the options each lists (an option's first long name, or
  /// `<input>`), in order.
  func sections(_ help: String) -> [(title: String, options: [String])] {
    var sections: [(title: String, options: [String])] = []
    for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasSuffix(":"), line.first?.isUppercase == true, line.uppercased() == line,
        !["OVERVIEW:", "USAGE:"].contains(line)
      {
        sections.append((String(line.dropLast()), []))
        continue
      }
      // An option's line: two spaces, then `-x, --name`, `--name` or `<name>`.
      guard line.hasPrefix("  "), !sections.isEmpty else { continue }
      var words = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
      guard let first = words.first, first.hasPrefix("-") || first.hasPrefix("<") else { continue }
      if first.count == 3, first.hasPrefix("-"), first.hasSuffix(",") { words.removeFirst() }  // `-o,`
      guard let name = words.first?.split(separator: "/").first.map(String.init) else { continue }
      sections[sections.count - 1].options.append(name)
    }
    return sections
  }

  /// The options of declaration groups as `--help` names them.
  func names(_ groups: [any ConfigurableOptions.Type]) -> [String] {
    groups.flatMap { ConfigKey.keys(of: $0) }.map { key in
      key.form == .argument ? "<\(key.name)>" : key.flag
    }
  }

  @Test(arguments: ["scan", "clean"]) func sectionsInOrderEachOptionOnce(command: String) throws {
    let r = try CLI.run([command, "--help"])
    #expect(r.status == 0 && r.stderr.isEmpty)
    let shown = sections(r.stdout)
    var expected: [(title: String, options: [String])] = [("INPUT", names(ConfigKey.inputGroups))]
    if command == "clean" { expected.append(("OUTPUT", names([CleanOptions.self]))) }
    expected += [
      ("CHECKS AND GATE POLICY", names([CheckFlags.self])),
      ("REPORTS", names([ReportFlags.self])),
      ("CONFIG FILE", ["--config", "--no-config"]),
    ]
    // scan's process of a sharded run (Sources/datasan/Shard.swift's ShardOptions: no datasan.yml key).
    if command == "scan" { expected.append(("SHARDS", ["--shard", "--shards"])) }
    expected.append(("OPTIONS", ["--version", "--help"]))
    #expect(shown.map(\.title) == expected.map(\.title))
    for (title, options) in expected {
      #expect(shown.first { $0.title == title }?.options == options, "\(command) --help, \(title)")
    }
    let all = shown.flatMap(\.options)
    #expect(Set(all).count == all.count, "an option shown twice: \(all)")
    // The sections are those of the declarations, and hold what they should.
    #expect(expected.first { $0.title == "INPUT" }!.options.starts(with: ["<input>", "--format", "--dataset"]))
    #expect(expected.first { $0.title == "REPORTS" }!.options.contains("--quiet"))
    if command == "clean" {
      #expect(expected.first { $0.title == "OUTPUT" }!.options.starts(with: ["--output", "--output-format"]))
      #expect(r.stdout.contains("USAGE: datasan clean [<options>] [<input>]"))
    } else {
      #expect(!all.contains("--output") && r.stdout.contains("USAGE: datasan scan [<options>] [<input>]"))
    }
  }
}
