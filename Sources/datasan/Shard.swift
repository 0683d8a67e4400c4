import ArgumentParser
import Datasan
import DatasanConfig
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `--shard I/N` and `--shards N` of `scan`: which part of the dataset this process scans. Not config
/// file keys: they differ between the processes of one run.
struct ShardOptions: ParsableArguments {
  @Option(help: "Scan shard I of N (0 <= I < N): a contiguous part of the samples; --report writes a partial report for `datasan merge`; default (with --report) from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX with --shards (e.g. --shard 2/4).")
  var shard: String?
  @Option(help: "The number of shards of a Kubernetes Indexed Job (its completions), whose pods are told only their JOB_COMPLETION_INDEX (e.g. --shards 4).")
  var shards: Int?

  /// The shard of this process: `--shard`, else the job engine's environment, else none. The
  /// environment names the shard only when `reporting` (`--report` is given) or with `--shards`: a
  /// plain `datasan scan` inside a Slurm array task or an Indexed Job's pod scans the whole dataset.
  func resolve(
    _ environment: [String: String] = ProcessInfo.processInfo.environment, reporting: Bool = true
  ) throws -> Shard? {
    let environment = reporting || shards != nil ? environment : [:]
    if let text = shard {
      guard let s = Shard(parsing: text) else {
        throw UsageError("--shard must be I/N with 0 <= I < N (e.g. --shard 2/4), not '\(text)'")
      }
      if let n = shards, n != s.count { throw UsageError("--shards \(n) disagrees with --shard \(text)") }
      return s
    }
    if let n = shards, n < 1 { throw UsageError("--shards must be >= 1") }
    if let id = environment["SLURM_ARRAY_TASK_ID"].flatMap({ Int($0) }) {
      let min = environment["SLURM_ARRAY_TASK_MIN"].flatMap { Int($0) } ?? 0
      var count = shards ?? environment["SLURM_ARRAY_TASK_COUNT"].flatMap { Int($0) }
      if count == nil, let max = environment["SLURM_ARRAY_TASK_MAX"].flatMap({ Int($0) }) { count = max - min + 1 }
      guard let n = count, let s = Optional(Shard(index: id - min, count: n)), s.index >= 0, s.index < n else {
        throw UsageError(
          "SLURM_ARRAY_TASK_ID \(id) is not a shard of the array (SLURM_ARRAY_TASK_MIN / COUNT); give --shard I/N")
      }
      return s
    }
    if let text = environment["JOB_COMPLETION_INDEX"], let index = Int(text) {
      guard let n = shards else {
        throw UsageError("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): give --shards N (the Job's completions)")
      }
      guard index >= 0, index < n else { throw UsageError("JOB_COMPLETION_INDEX \(index) is not below --shards \(n)") }
      return Shard(index: index, count: n)
    }
    if shards != nil { throw UsageError("--shards needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or --shard I/N") }
    return nil
  }
}

enum Sharding {
  /// The scan's arguments in effect without those that differ between the shards of one run or
  /// only name where reports go.
  static func runArguments(_ arguments: [String]) -> [String] {
    let valued: Set<String> = ["--shard", "--shards", "--report", "--junit", "--html", "--annotations", "--config"]
    let flags: Set<String> = ["--quiet", "-q"]
    var kept: [String] = []
    var i = 0
    while i < arguments.count {
      let a = arguments[i]
      let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
      if valued.contains(name) {
        i += a.contains("=") ? 1 : 2
        continue
      }
      if flags.contains(a) {
        i += 1
        continue
      }
      kept.append(a)
      i += 1
    }
    return kept
  }

  /// `scan --shard I/N`: scans the shard's samples and writes the partial report.
  static func scan(_ config: ScanConfiguration, _ shard: Shard, _ reports: ReportFlags, arguments: [String]) throws {
    guard let reportPath = reports.report else {
      throw UsageError("--shard writes a partial report for `datasan merge`: give --report (e.g. --report part-\(shard.index).json)")
    }
    for (given, name) in [(reports.junit, "--junit"), (reports.html, "--html")] where given != nil {
      throw UsageError("\(name) is written by `datasan merge` from the partial reports, not by one shard")
    }
    var config = config
    let formats = Formats()
    let (range, samples) = try formats.shardRange(shard, format: config.format, path: config.input, options: config.read)
    config.read.sampleRange = range
    config.keepFlaggedSamples = 0
    let state = try Common.pipeline(quiet: reports.quiet).scanState(config)
    let directory = FileManager.default.currentDirectoryPath
    let run = ShardRun(
      input: config.input, path: absolute(config.input, in: directory), format: config.format.rawValue,
      bytes: Pipeline.fileSize(of: config.input), samples: samples, directory: directory,
      arguments: runArguments(arguments))
    var localIndices = false
    if case .bytes = range { localIndices = true }
    let part = PartialScan(version: datasanVersion, shard: shard, run: run, localIndices: localIndices, state: state)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let data = try encoder.encode(part)
    try Common.write(String(decoding: data, as: UTF8.self) + "\n", to: reportPath)
    let findings = state.builder.findings
    Console.out.line(
      "datasan: shard \(shard) of \(config.input): \(findings.total) samples, \(findings.flagged) flagged; "
        + "partial report \(reportPath) (datasan merge gives the verdict)")
  }

  static func absolute(_ path: String, in directory: String) -> String {
    path.hasPrefix("/") ? path : (directory.hasSuffix("/") ? directory : directory + "/") + path
  }
}

struct Merge: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "merge",
    abstract: "Merge the partial reports of `datasan scan --shard I/N` into the report of one scan over the whole dataset.",
    discussion: """
      Gives the report, summary, JUnit, HTML (without thumbnails) and annotations, and the exit code, that one \
      scan over the whole dataset gives. Every shard 0..N-1 of one run must be given once: a missing, \
      duplicated or foreign part (another dataset, N or options) is exit 2. The dataset is opened (not read) \
      for what it is.

      Examples:
        datasan merge part-*.json --report all.json --junit datasan.xml
      """)

  @Argument(help: "The partial reports (e.g. part-*.json).")
  var parts: [String] = []
  @OptionGroup(title: "Reports") var reports: ReportFlags

  func run() throws {
    let started = Date()
    guard !parts.isEmpty else { throw UsageError("Missing expected argument '<parts>': the partial reports to merge") }
    let loaded = try parts.map { path in (path: path, part: try Merge.read(path)) }
    let ordered = try Merge.check(loaded)
    let run = ordered[0].part.run
    // The scan's options as the shards had them, their relative paths relative to the shards'
    // working directory (the merge reads the input there too, so the report names it as they did).
    let here = FileManager.default.currentDirectoryPath
    let inDirectory = FileManager.default.changeCurrentDirectoryPath(run.directory)
    let report: ScanReport
    let config: ScanConfiguration
    do {
      defer { if inDirectory { _ = FileManager.default.changeCurrentDirectoryPath(here) } }
      var arguments = run.arguments
      if !inDirectory, let k = arguments.firstIndex(of: run.input) { arguments[k] = run.path }
      let command: Scan
      do {
        command = try Scan.parse(arguments)
      } catch {
        throw DatasanError(path: ordered[0].path, "its scan arguments do not parse: \(Scan.message(for: error))")
      }
      var scan = try Common.scanConfiguration(command.options)
      scan.keepFlaggedSamples = 0
      let policy = try command.options.checks.policy()
      report = try Common.pipeline(quiet: true).mergeScan(
        scan, parts: ordered.map(\.part), seconds: Date().timeIntervalSince(started)
      ).applying(policy)
      config = scan
    }
    try Common.writeReports(report, reports, checks: config.checks)
    Console.out.write(Common.summary(TextSummary.render(report), report, configNote: nil))
    try Common.annotate(report, reports)
    if !report.passed { throw ExitCode.failure }
  }

  static func read(_ path: String) throws -> PartialScan {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw DatasanError(path: path, "cannot read: \(fileErrorText(error))")
    }
    let part: PartialScan
    do {
      part = try JSONDecoder().decode(PartialScan.self, from: data)
    } catch {
      throw DatasanError(path: path, "not a partial report of `datasan scan --shard I/N --report`")
    }
    guard part.partial else { throw DatasanError(path: path, "not a partial report (no \"partial\": true)") }
    return part
  }

  /// The parts in shard order, once each, all of one run; else the part at fault, named.
  static func check(_ loaded: [(path: String, part: PartialScan)]) throws -> [(path: String, part: PartialScan)] {
    // The run most parts belong to (the first part's among equals) is the run being merged.
    var votes: [(run: ShardRun, count: Int, n: Int)] = []
    for (_, part) in loaded {
      if let k = votes.firstIndex(where: { $0.run == part.run && $0.count == part.shard.count }) {
        votes[k].n += 1
      } else {
        votes.append((part.run, part.shard.count, 1))
      }
    }
    let majority = votes.max { $0.n < $1.n || ($0.n == $1.n && false) }!
    for (path, part) in loaded where part.run != majority.run || part.shard.count != majority.count {
      throw DatasanError(path: path, "shard \(part.shard) of another run: \(difference(part, majority.run, majority.count))")
    }
    var byIndex: [Int: String] = [:]
    for (path, part) in loaded {
      if let other = byIndex[part.shard.index] {
        throw DatasanError(path: path, "shard \(part.shard) is given twice (also \(other))")
      }
      byIndex[part.shard.index] = path
    }
    let missing = (0..<majority.count).filter { byIndex[$0] == nil }
    if !missing.isEmpty {
      let names = missing.prefix(10).map { "\($0)/\(majority.count)" }.joined(separator: ", ")
      throw DatasanError(
        path: majority.run.input,
        "shard\(missing.count == 1 ? "" : "s") \(names)\(missing.count > 10 ? ", ..." : "") missing: every shard 0..\(majority.count - 1) must be merged")
    }
    return loaded.sorted { $0.part.shard.index < $1.part.shard.index }
  }

  private static func difference(_ part: PartialScan, _ run: ShardRun, _ count: Int) -> String {
    if part.run.path != run.path || part.run.format != run.format { return "dataset \(part.run.path), not \(run.path)" }
    if part.run.bytes != run.bytes || part.run.samples != run.samples { return "\(run.path) changed between the shards" }
    if part.shard.count != count { return "\(part.shard.count) shards, not \(count)" }
    if part.run.arguments != run.arguments {
      return "options \(part.run.arguments.joined(separator: " ")), not \(run.arguments.joined(separator: " "))"
    }
    return "run in \(part.run.directory), not \(run.directory)"
  }
}
