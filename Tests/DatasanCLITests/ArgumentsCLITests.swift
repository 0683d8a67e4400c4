import Foundation
import Testing

/// The command-line parser (Sources/datasan/Arguments.swift): value forms, values that start with
/// '-', inverted flags, usage errors and where help is found.
@Suite struct ArgumentsCLITests {
  /// f0 in 0...100 (unnormalized_scale, a warning), f1 constant-free; labels 0 and 1, and -1 on
  /// 2 of the 12 rows.
  func writeLabels(_ dir: String) throws -> String {
    let path = dir + "/labels.csv"
    try writeCSV(path, header: "f0,f1,label\n", rows: 12) { n in
      "\(n * 100 / 11),\(Double(n) / 10),\(n == 3 || n == 7 ? -1 : n % 2)\n"
    }
    return path
  }

  func column(_ path: String, _ index: Int) throws -> [Double] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst()
      .map { Double($0.split(separator: ",")[index])! }
  }

  @Test func valuesAttachedWithEqualsOrStartingWithDash() throws {
    let dir = try makeTempDir()
    let input = try writeLabels(dir)

    // Without --ignore-label, the two -1 labels are out of the cross-entropy domain.
    let plain = try CLI.run(["scan", input, "--report=" + dir + "/plain.json"])
    #expect(plain.status == 1, "\(plain.stderr)")
    #expect(try Report.load(dir + "/plain.json").count("label_out_of_domain") == 2)

    // `--ignore-label -1` takes -1 as its value; `--num-classes=3` and `--report=` the '=' form.
    let r = try CLI.run(["scan", input, "--ignore-label", "-1", "--num-classes=3", "--report=" + dir + "/r.json"])
    #expect(r.status == 0, "\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    #expect(report.count("label_out_of_domain") == 0)
    #expect(report.count("class_missing") == 1)  // class 2, with --num-classes=3

    // `--range -2,2` and `--range=-3,3`: values starting with '-', the last one wins.
    let clean = try CLI.run([
      "clean", input, "-o", dir + "/out.csv", "--ignore-label", "-1", "--range", "-2,2", "--range=-3,3", "-q",
    ])
    #expect(clean.status == 0, "\(clean.stderr)")
    let f0 = try column(dir + "/out.csv", 0)
    #expect(f0.count == 12 && f0.min() == -3 && f0.max() == 3)

    // `--delimiter -`: a lone '-' is a value.
    let dashed = dir + "/dashed.csv"
    try Data("a-b-label\n1-2-0\n3-4-1\n".utf8).write(to: URL(fileURLWithPath: dashed))
    let d = try CLI.run(["scan", dashed, "--delimiter", "-", "--report", dir + "/d.json"])
    #expect(d.status == 0, "\(d.stderr)")
    let dreport = try Report.load(dir + "/d.json")
    #expect(dreport.samples.total == 2 && dreport.stats.groups.map(\.name) == ["a", "b"])
  }

  @Test func invertedFlagsTheLastOneWins() throws {
    let dir = try makeTempDir()
    let input = try writeLabels(dir)
    let common = ["scan", input, "--ignore-label", "-1", "--no-config"]
    #expect(try CLI.run(common).status == 0)  // unnormalized_scale is a warning
    #expect(try CLI.run(common + ["--strict"]).status == 1)
    #expect(try CLI.run(common + ["--strict", "--no-strict"]).status == 0)
    #expect(try CLI.run(common + ["--no-strict", "--strict"]).status == 1)
  }

  @Test func usageErrorsNameTheProblemAndTheCommandsUsage() throws {
    let dir = try makeTempDir()
    let input = try writeLabels(dir)
    let scanUsage = "Usage: datasan scan [<options>] [<input>]\n  See 'datasan scan --help' for more information.\n"
    let cases: [([String], String, String)] = [
      // A value option followed by an option has no value; nothing is read as '--quiet'.
      (["scan", input, "--report", "--quiet"], "Error: Missing value for '--report <report>'\n", scanUsage),
      (["scan", input, "--report", "--bogus"], "Error: Missing value for '--report <report>'\n", scanUsage),
      (["scan", input, dir + "/second.csv"], "Error: Unexpected argument '\(dir)/second.csv'\n", scanUsage),
      (["scan", input, "--bogus"], "Error: Unknown option '--bogus'", scanUsage),
      (["scan", input, "--no-quiet"], "Error: Unknown option '--no-quiet'. Did you mean '--quiet'?\n", scanUsage),
      (["scan", input, "--quiet=yes"], "Error: The option '--quiet' does not take any value, but 'yes' was specified.\n", scanUsage),
      (["scan", input, "--num-classes", "abc"], "Error: The value 'abc' is invalid for '--num-classes <num-classes>'\n", scanUsage),
      (
        ["scan", input, "--loss", "hinge"],
        "Error: The value 'hinge' is invalid for '--loss <loss>'. Please provide one of 'cross-entropy', 'log', 'binary', 'regression' or 'none'.\n",
        scanUsage
      ),
      // After parsing, in the command: still the usage of that command.
      (["clean", input], "Error: Missing expected argument '--output <output>'", "Usage: datasan clean [<options>] [<input>]\n"),
      (["frob", input], "Error: Unknown subcommand 'frob'", "Usage: datasan <subcommand>\n  See 'datasan --help' for more information.\n"),
      (["sacn", input], "Error: Unknown subcommand 'sacn'. Did you mean 'scan'?\n", "Usage: datasan <subcommand>\n"),
      (["--bogus"], "Error: Unknown option '--bogus'\n", "Usage: datasan <subcommand>\n"),
    ]
    for (arguments, error, usage) in cases {
      let r = try CLI.run(arguments, cwd: dir)
      #expect(r.status == 2, "\(arguments)")
      #expect(r.stdout.isEmpty, "\(arguments)")
      #expect(r.stderr.hasPrefix(error), "\(arguments): \(r.stderr)")
      #expect(r.stderr.contains(usage), "\(arguments): \(r.stderr)")
    }
    #expect(!FileManager.default.fileExists(atPath: dir + "/--quiet"))
    #expect(!FileManager.default.fileExists(atPath: dir + "/--bogus"))
  }

  @Test func helpIsFoundEverywhereAndFitsIn80Columns() throws {
    let cleanHelp = try CLI.run(["clean", "--help"])
    #expect(cleanHelp.status == 0 && cleanHelp.stderr.isEmpty)
    #expect(cleanHelp.stdout.contains("USAGE: datasan clean [<options>] [<input>]"))
    #expect(cleanHelp.stdout.contains("  -o, --output <output>") && cleanHelp.stdout.contains("--caffe-mean"))
    #expect(cleanHelp.stdout.contains("(values: minmax,"))  // the choices of an enum option
    for arguments in [["help", "clean"], ["clean", "-h"], ["clean", "x.csv", "--bogus", "--help"], ["clean", "-qh"]] {
      let r = try CLI.run(arguments)
      #expect(r.status == 0 && r.stdout == cleanHelp.stdout, "\(arguments)")
    }
    let initHelp = try CLI.run(["help", "init"])
    #expect(initHelp.stdout.contains("(default: datasan.yml)") && !initHelp.stdout.contains("--caffe-mean"))

    let top = try CLI.run(["--help"])
    #expect(top.status == 0 && top.stdout.contains("SUBCOMMANDS:") && top.stdout.contains("USAGE: datasan <subcommand>"))
    for arguments in [[], ["help"], ["-h"]] {
      #expect(try CLI.run(arguments).stdout == top.stdout, "\(arguments)")
    }
    #expect(try CLI.run(["scan", "--version"]).stdout == "0.1.0\n")

    for text in [top.stdout, cleanHelp.stdout, try CLI.run(["scan", "--help"]).stdout, initHelp.stdout] {
      for line in text.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
    }
  }
}
