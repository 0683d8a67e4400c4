import DatasanTestSupport
import Foundation
import Testing

/// Runs the binary with extra environment variables (the harness's `CLI.run` inherits ours).
enum CLIEnv {
  static func run(_ arguments: [String], cwd: String? = nil, environment: [String: String] = [:]) throws -> CLI.Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLI.binary)
    process.arguments = arguments
    if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    var env = ProcessInfo.processInfo.environment
    env["GITHUB_STEP_SUMMARY"] = nil
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try ProcessLaunch.run(process)
    let errReader = Thread.detachNewThreadWithResult { err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = errReader.wait()
    process.waitUntilExit()
    return CLI.Result(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }
}

/// A value computed on another thread, waited for.
///
/// `@unchecked Sendable`: `value` is written once by the thread before `done` is signalled and read
/// only after waiting for it; the compiler cannot see that ordering.
final class ThreadResult<T>: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private var value: T?
  func set(_ v: T) {
    value = v
    done.signal()
  }
  func wait() -> T {
    done.wait()
    return value!
  }
}

extension Thread {
  static func detachNewThreadWithResult<T>(_ body: @escaping @Sendable () -> T) -> ThreadResult<T> {
    let result = ThreadResult<T>()
    Thread.detachNewThread { result.set(body()) }
    return result
  }
}

func writeText(_ text: String, _ path: String) throws {
  try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// `--config FILE`, datasan.yml from the working directory, and the policy keys, through the
/// binary's exit codes and JSON reports.
@Suite struct ConfigCLITests {
  let dirty = CLI.fixture("hdf5/dirty.h5")  // 40 samples, 5 flagged with --num-classes 5
  let dirtyCSV = CLI.fixture("csv/dirty.csv")  // 30 rows, 9 flagged
  let constant = CLI.fixture("hdf5/constant.h5")  // one constant_feature warning

  @Test func commandLineWinsOverTheFile() throws {
    let dir = try makeTempDir()
    try writeText("num_classes: 3\nreport: \(dir)/from-file.json\n", dir + "/policy.yml")
    // From the file: labels 3 and 4 are out of the domain too.
    let fromFile = try CLI.run(["scan", dirty, "--config", dir + "/policy.yml"])
    #expect(fromFile.status == 1)
    #expect(fromFile.stdout.contains("config: \(dir)/policy.yml"))
    let a = try Report.load(dir + "/from-file.json")
    #expect(a.samples.flagged > 5)
    // The flags win, key by key; the other keys still come from the file.
    let r = try CLI.run(["scan", dirty, "--config", dir + "/policy.yml", "--num-classes", "5", "--report", dir + "/flag.json"])
    #expect(r.status == 1)
    let b = try Report.load(dir + "/flag.json")
    #expect(b.samples.flagged == 5 && b.count("label_out_of_domain") == 2)
  }

  @Test func datasanYmlInTheWorkingDirectoryIsPickedUp() throws {
    let dir = try makeTempDir()
    try writeText(
      """
      # the gate of this folder
      input: \(dirty)
      num_classes: 5
      report: report.json
      """, dir + "/datasan.yml")
    let r = try CLI.run(["scan"], cwd: dir)
    #expect(r.status == 1, "\(r.stderr)")
    #expect(r.stdout.contains("config: datasan.yml (from the working directory)"))
    let report = try Report.load(dir + "/report.json")
    #expect(report.samples.total == 40 && report.samples.flagged == 5)
    // --no-config leaves it alone: no input then.
    let without = try CLI.run(["scan", "--no-config"], cwd: dir)
    #expect(without.status == 2 && without.stderr.contains("input"))
    // A bad datasan.yml found in the working directory is exit 2 naming it.
    try writeText("input: \(dirty)\nnum_clases: 5\n", dir + "/datasan.yml")
    let bad = try CLI.run(["scan"], cwd: dir)
    #expect(bad.status == 2)
    #expect(bad.stderr == "datasan: datasan.yml:2: num_clases: unknown key (did you mean num_classes?)\n")
  }

  @Test func everyConfigErrorIsOneLineExit2NamingFileLineAndKey() throws {
    let dir = try makeTempDir()
    let cases: [(String, String)] = [
      ("loss: binary\n\n\nnum_clases: 5\n", "c.yml:4: num_clases: unknown key (did you mean num_classes?)"),
      ("num_classes: five\n", "c.yml:1: num_classes: expected an integer, got 'five'"),
      ("strict: sometimes\n", "c.yml:1: strict: expected true or false, got 'sometimes'"),
      ("shape: {c: 3}\n", "c.yml:1: shape: expected a list of positive integers, e.g. [3, 32, 32], or any, got a mapping"),
      ("loss: hinge\n", "c.yml:1: loss: 'hinge' is not one of cross-entropy, log, binary, regression, none"),
      ("max_flagged_fraction: -0.1\n", "c.yml:1: max_flagged_fraction: must be >= 0, got -0.1"),
      ("scale_limit: 0\n", "c.yml:1: scale_limit: must be > 0, got 0"),
      ("max_pixels: 0\n", "c.yml:1: max_pixels: must be at least 1, got 0"),
      ("fail_on: [constant_featur]\n", "c.yml:1: fail_on: unknown finding kind 'constant_featur' (did you mean constant_feature?)"),
      ("ignore: [all]\n", "c.yml:1: ignore: 'all' is not allowed here; name the kinds"),
      ("num_classes: 3\nnum_classes: 4\n", "c.yml:2: num_classes: appears twice (first on line 1)"),
      ("- scan\n", "c.yml:1: expected keys and values (e.g. num_classes: 10), not a list"),
    ]
    for (text, expected) in cases {
      try writeText(text, dir + "/c.yml")
      let r = try CLI.run(["scan", dirty, "--config", "c.yml"], cwd: dir)
      #expect(r.status == 2, "\(text)")
      let lines = r.stderr.split(separator: "\n")
      #expect(lines.count == 1, "\(text): \(r.stderr)")
      #expect(r.stderr.hasPrefix("datasan: " + expected), "\(text): \(r.stderr)")
      #expect(r.stdout.isEmpty)
    }
    try writeText("loss: [binary\n", dir + "/c.yml")
    let syntax = try CLI.run(["scan", dirty, "--config", "c.yml"], cwd: dir)
    #expect(syntax.status == 2 && syntax.stderr.hasPrefix("datasan: c.yml:") && syntax.stderr.contains("not valid YAML"))
    let missing = try CLI.run(["scan", dirty, "--config", dir + "/none.yml"])
    #expect(missing.status == 2 && missing.stderr == "datasan: \(dir)/none.yml: no such file\n")
  }

  @Test func everyOptionHasAKey() throws {
    // Each key reaches its option: the file sets the same as the flags would.
    let dir = try makeTempDir()
    try writeText(
      """
      format: csv
      delimiter: ","
      header: true
      skip_rows: 0
      label_column: label
      loss: cross-entropy
      num_classes: 3
      ignore_label: -1
      channel_axis: first
      scale_limit: 10
      max_abs: 1e6
      scale_imbalance_ratio: 1000
      class_imbalance_ratio: 0.01
      strict: false
      max_issues: 2
      quiet: true
      report: r.json
      junit: j.xml
      annotations: none
      """, dir + "/datasan.yml")
    let r = try CLI.run(["scan", dirtyCSV], cwd: dir)
    #expect(r.status == 1, "\(r.stderr)")
    let report = try Report.load(dir + "/r.json")
    // 9 flagged without ignore_label; the row whose label is -1 is allowed with it.
    #expect(report.samples.total == 30 && report.samples.flagged == 8)
    #expect(report.issues.count == 2 && report.issues_truncated)
    #expect(FileManager.default.fileExists(atPath: dir + "/j.xml"))
    #expect(!r.stdout.contains("::error"))
  }

  @Test func thresholdKeysAndFlags() throws {
    let dir = try makeTempDir()
    // scale_limit / --scale-limit
    try writeText("scale_limit: 300\n", dir + "/t.yml")
    _ = try CLI.run(["scan", dirty, "--num-classes", "5", "--config", dir + "/t.yml", "--report", dir + "/a.json"])
    #expect(try Report.load(dir + "/a.json").count("unnormalized_scale") == 0)
    _ = try CLI.run(["scan", dirty, "--num-classes", "5", "--config", dir + "/t.yml", "--scale-limit", "100", "--report", dir + "/b.json"])
    #expect(try Report.load(dir + "/b.json").count("unnormalized_scale") == 3)
    // class_imbalance_ratio: imbalance.h5's rarest class has 3 samples, the most frequent 500 (0.6%).
    let imbalance = CLI.fixture("hdf5/imbalance.h5")
    _ = try CLI.run(["scan", imbalance, "--report", dir + "/c.json"])
    #expect(try Report.load(dir + "/c.json").count("class_imbalance") == 1)
    _ = try CLI.run(["scan", imbalance, "--class-imbalance-ratio", "0.005", "--report", dir + "/d.json"])
    #expect(try Report.load(dir + "/d.json").count("class_imbalance") == 0)
    try writeText("class_imbalance_ratio: 0.005\n", dir + "/ci.yml")
    _ = try CLI.run(["scan", imbalance, "--config", dir + "/ci.yml", "--report", dir + "/e.json"])
    #expect(try Report.load(dir + "/e.json").count("class_imbalance") == 0)
    // scale_imbalance_ratio: scale.h5's std ratio is about 3e8.
    let scale = CLI.fixture("hdf5/scale.h5")
    _ = try CLI.run(["scan", scale, "--report", dir + "/f.json"])
    #expect(try Report.load(dir + "/f.json").count("scale_imbalance") == 1)
    _ = try CLI.run(["scan", scale, "--scale-imbalance-ratio", "1e9", "--report", dir + "/g.json"])
    #expect(try Report.load(dir + "/g.json").count("scale_imbalance") == 0)
    // Bad flag values are exit 2 too.
    #expect(try CLI.run(["scan", dirty, "--class-imbalance-ratio", "100"]).status == 2)
    #expect(try CLI.run(["scan", dirty, "--scale-imbalance-ratio", "0.5"]).status == 2)
    #expect(try CLI.run(["scan", dirty, "--max-flagged-fraction", "2"]).status == 2)
    let kind = try CLI.run(["scan", dirty, "--fail-on", "constant_featur"])
    #expect(kind.status == 2 && kind.stderr.contains("did you mean constant_feature?"))
  }

  @Test func failOnPromotesWarnings() throws {
    let dir = try makeTempDir()
    #expect(try CLI.run(["scan", constant]).status == 0)
    try writeText("fail_on: [constant_feature]\n", dir + "/f.yml")
    let r = try CLI.run(["scan", constant, "--config", dir + "/f.yml", "--report", dir + "/r.json"])
    #expect(r.status == 1)
    #expect(r.stdout.contains("FAIL: 1 dataset finding promoted to error"))
    let report = try Report.load(dir + "/r.json")
    #expect(!report.passed && report.issues.contains { $0.kind == "constant_feature" && $0.severity == "error" })
    // A kind that is absent fails nothing; `all` is every warning kind; the flag wins over the file.
    #expect(try CLI.run(["scan", constant, "--fail-on", "class_missing"]).status == 0)
    #expect(try CLI.run(["scan", constant, "--fail-on", "all"]).status == 1)
    #expect(try CLI.run(["scan", constant, "--config", dir + "/f.yml", "--fail-on", "none"]).status == 0)
    // strict in the file, --no-strict on the command line.
    try writeText("strict: true\n", dir + "/s.yml")
    #expect(try CLI.run(["scan", constant, "--config", dir + "/s.yml"]).status == 1)
    #expect(try CLI.run(["scan", constant, "--config", dir + "/s.yml", "--no-strict"]).status == 0)
  }

  @Test func ignoreRemovesKindsEverywhere() throws {
    let dir = try makeTempDir()
    try writeText("num_classes: 5\nignore: [label_out_of_domain, unnormalized_scale]\n", dir + "/i.yml")
    let r = try CLI.run([
      "scan", dirty, "--config", dir + "/i.yml", "--report", dir + "/r.json", "--junit", dir + "/j.xml",
    ])
    #expect(r.status == 1)
    let report = try Report.load(dir + "/r.json")
    #expect(report.samples.flagged == 3 && report.samples.clean == 37)
    #expect(report.counts["label_out_of_domain"] == nil && report.counts["unnormalized_scale"] == nil)
    #expect(!report.issues.contains { $0.kind == "label_out_of_domain" || $0.kind == "unnormalized_scale" })
    #expect(!r.stdout.contains("label_out_of_domain:") && !r.stdout.contains("unnormalized_scale (warning)"))
    #expect(r.stdout.contains("policy: ignore label_out_of_domain,unnormalized_scale"))
    let xml = try String(contentsOfFile: dir + "/j.xml", encoding: .utf8)
    #expect(!xml.contains("label_out_of_domain") && !xml.contains("unnormalized_scale"))
    #expect(xml.components(separatedBy: "<testcase ").count - 1 == 16)  // 18 kinds less the 2 ignored
    // Ignoring every kind the samples have passes the gate.
    let all = try CLI.run(["scan", dirty, "--num-classes", "5", "--ignore", "nan_value,inf_value,label_out_of_domain"])
    #expect(all.status == 0, "\(all.stdout)")
    // A kind both failed on and ignored is a contradiction.
    let both = try CLI.run(["scan", dirty, "--ignore", "constant_feature", "--fail-on", "constant_feature"])
    #expect(both.status == 2 && both.stderr.contains("both in fail_on and in ignore"))
  }

  @Test func maxFlaggedFractionIsTheGate() throws {
    let dir = try makeTempDir()
    // dirty.csv: 9 of 30 rows flagged = 0.3.
    try writeText("max_flagged_fraction: 0.3\nreport: r.json\n", dir + "/datasan.yml")
    let pass = try CLI.run(["scan", dirtyCSV], cwd: dir)
    #expect(pass.status == 0, "\(pass.stdout)")
    #expect(pass.stdout.contains("PASS: 9 flagged samples (30%) within max_flagged_fraction 0.3"))
    let report = try Report.load(dir + "/r.json")
    #expect(report.passed && report.samples.flagged == 9)
    let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as? [String: Any]
    let policy = raw?["policy"] as? [String: Any]
    #expect(policy?["max_flagged_fraction"] as? Double == 0.3)
    let fail = try CLI.run(["scan", dirtyCSV, "--max-flagged-fraction", "0.29"], cwd: dir)
    #expect(fail.status == 1)
    #expect(fail.stdout.contains("FAIL: 9 flagged samples (30%) over max_flagged_fraction 0.29"))
    #expect(try !Report.load(dir + "/r.json").passed)
    // A sample kind in fail_on fails within the fraction.
    #expect(try CLI.run(["scan", dirtyCSV, "--fail-on", "unreadable"], cwd: dir).status == 1)
    // Default 0: any flagged sample fails.
    #expect(try CLI.run(["scan", dirtyCSV, "--no-config"], cwd: dir).status == 1)
  }

  @Test func cleanReadsTheConfigToo() throws {
    let dir = try makeTempDir()
    try writeText("input: \(dirty)\nnum_classes: 5\noutput: out.h5\nnormalize: zscore\nmax_flagged_fraction: 0.5\n", dir + "/datasan.yml")
    let r = try CLI.run(["clean"], cwd: dir)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(FileManager.default.fileExists(atPath: dir + "/out.h5"))
    #expect(FileManager.default.fileExists(atPath: dir + "/out.quarantine.h5"))
    #expect(r.stdout.contains("PASS: 5 flagged samples (12.5%) within max_flagged_fraction 0.5"))
  }

  @Test func helpDocumentsTheNewOptions() throws {
    let scan = try CLI.run(["scan", "--help"])
    for option in [
      "--config", "--no-config", "--fail-on", "--ignore", "--max-flagged-fraction", "--scale-imbalance-ratio",
      "--class-imbalance-ratio", "--annotations", "--no-strict",
    ] {
      #expect(scan.stdout.contains(option), "scan --help lacks \(option)")
    }
    let initHelp = try CLI.run(["init", "--help"])
    #expect(initHelp.status == 0 && initHelp.stdout.contains("--force") && initHelp.stdout.contains("datasan.yml"))
  }
}

/// `datasan init`: the file it writes, read back as a config, and the gate it makes.
@Suite struct ConfigInitCLITests {
  func yaml(_ path: String) throws -> [String: Any] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return try loadYAML(text) as? [String: Any] ?? [:]
  }

  @Test func initThenScanIsTheGate() throws {
    let dir = try makeTempDir()
    let clean = CLI.fixture("hdf5/clean_small.h5")  // labels 0 and 1
    let r = try CLI.run(["init", clean], cwd: dir)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("wrote datasan.yml") && r.stdout.contains("datasan scan"))
    let y = try yaml(dir + "/datasan.yml")
    #expect(y["input"] as? String == clean)
    #expect(y["format"] as? String == "hdf5")
    #expect(y["dataset"] as? String == "data")
    #expect(y["labels"] as? String == "label")
    #expect(y["loss"] as? String == "binary")
    #expect(y["num_classes"] == nil)
    #expect(y["max_flagged_fraction"] as? Int == 0)
    let text = try String(contentsOfFile: dir + "/datasan.yml", encoding: .utf8)
    #expect(text.hasPrefix("# datasan.yml"))
    #expect(text.split(separator: "\n").filter { $0.hasPrefix("#") }.count > 10)
    // The gate is one command away.
    let gate = try CLI.run(["scan"], cwd: dir)
    #expect(gate.status == 0, "\(gate.stdout)\(gate.stderr)")
    #expect(gate.stdout.contains("PASS"))
  }

  @Test func initGuessesClassesAndTheGateCatchesTheRest() throws {
    let dir = try makeTempDir()
    let r = try CLI.run(["init", CLI.fixture("hdf5/dirty.h5")], cwd: dir)
    #expect(r.status == 0, "\(r.stderr)")
    let y = try yaml(dir + "/datasan.yml")
    #expect(y["loss"] as? String == "cross-entropy")
    #expect(y["num_classes"] as? Int == 8)  // largest label 7 + 1
    let text = try String(contentsOfFile: dir + "/datasan.yml", encoding: .utf8)
    #expect(text.contains("classes 5, 6 have no sample"))
    let gate = try CLI.run(["scan", "--report", "r.json"], cwd: dir)
    #expect(gate.status == 1)
    let report = try Report.load(dir + "/r.json")
    #expect(report.count("nan_value") == 1 && report.count("inf_value") == 2 && report.count("label_out_of_domain") == 1)
    #expect(report.count("class_missing") == 2)
  }

  @Test func initOnEveryFormat() throws {
    let cases: [(String, [String], String, Int?)] = [
      ("csv/dirty.csv", [], "cross-entropy", 3),
      ("lmdb/train.lmdb", [], "cross-entropy", 4),
      ("png/train", [], "cross-entropy", 3),
      ("csv/scale.csv", ["--label-column", "label"], "", nil),
    ]
    for (fixture, extra, loss, classes) in cases {
      let dir = try makeTempDir()
      let r = try CLI.run(["init", CLI.fixture(fixture)] + extra, cwd: dir)
      #expect(r.status == 0, "\(fixture): \(r.stderr)")
      let y = try yaml(dir + "/datasan.yml")
      #expect(y["input"] as? String == CLI.fixture(fixture))
      if !loss.isEmpty {
        #expect(y["loss"] as? String == loss, "\(fixture)")
        if fixture.hasPrefix("png/") {
          // An image folder's class list is written instead of num_classes (ClassesCLITests).
          #expect((y["classes"] as? [Any])?.count == classes && y["num_classes"] == nil, "\(fixture)")
        } else {
          #expect(y["num_classes"] as? Int == classes, "\(fixture)")
        }
      }
      // Whatever init wrote reads back as a valid config.
      let gate = try CLI.run(["scan"], cwd: dir)
      #expect(gate.status == 0 || gate.status == 1, "\(fixture): \(gate.stderr)")
    }
    let csv = try makeTempDir()
    _ = try CLI.run(["init", CLI.fixture("csv/dirty.csv")], cwd: csv)
    #expect(try yaml(csv + "/datasan.yml")["label_column"] as? String == "label")
  }

  @Test func initKeepsAnExistingFileUnlessForced() throws {
    let dir = try makeTempDir()
    try writeText("num_classes: 3\n", dir + "/datasan.yml")
    let r = try CLI.run(["init", CLI.fixture("hdf5/clean_small.h5")], cwd: dir)
    #expect(r.status == 2)
    #expect(r.stderr == "datasan: datasan.yml: already exists; use --force to replace it\n")
    #expect(try String(contentsOfFile: dir + "/datasan.yml", encoding: .utf8) == "num_classes: 3\n")
    let forced = try CLI.run(["init", CLI.fixture("hdf5/clean_small.h5"), "--force"], cwd: dir)
    #expect(forced.status == 0)
    #expect(try yaml(dir + "/datasan.yml")["loss"] as? String == "binary")
    // -o writes elsewhere; the gate then takes --config.
    let other = try CLI.run(["init", CLI.fixture("hdf5/clean_small.h5"), "-o", "ci.yml"], cwd: dir)
    #expect(other.status == 0 && other.stdout.contains("datasan scan --config ci.yml"))
    #expect(try CLI.run(["scan", "--config", "ci.yml"], cwd: dir).status == 0)
    // A missing input is exit 2, and writes nothing.
    let missing = try CLI.run(["init", dir + "/nope.h5", "-o", "x.yml"], cwd: dir)
    #expect(missing.status == 2 && !FileManager.default.fileExists(atPath: dir + "/x.yml"))
  }
}
