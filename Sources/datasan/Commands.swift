import ArgumentParser
import Datasan
import Foundation

let datasanVersion = "0.1.0"

struct DatasanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "datasan",
    abstract: "Find the data behind NaN losses: scan a dataset, or write a clean, normalized copy.",
    discussion: """
      Formats: HDF5 (.h5), LMDB of Caffe Datum records, PNG folders, CSV (.csv). Exit codes: 0 passed / written, 1 scan failed (error findings), \
      2 could not run (bad arguments, unreadable input, output exists without --force).

      Examples:
        datasan scan train.h5 --num-classes 10
        datasan scan train.csv --label-column target --report report.json --junit datasan.xml
        datasan clean train.h5 -o train.clean.h5 --normalize zscore --stats-out stats.json
      """,
    version: datasanVersion,
    subcommands: [Scan.self, Clean.self])
}

/// Shared by scan and clean: resolves the configuration and writes the reports.
struct Common {
  static func scanConfiguration(_ input: InputOptions, _ checks: CheckFlags, _ reports: ReportFlags) throws
    -> ScanConfiguration
  {
    let formats = Formats()
    let format: DataFormat
    if let given = DataFormat(rawValue: input.format.rawValue) {
      guard FileManager.default.fileExists(atPath: input.input) else {
        throw DatasanError(path: input.input, "no such file or directory")
      }
      format = given
    } else {
      format = try formats.detectFormat(path: input.input)
    }
    var config = ScanConfiguration(
      input: input.input, format: format, read: try input.readOptions(), checks: try checks.checkOptions())
    config.read.channelAxis = config.checks.channelAxis
    guard reports.maxIssues >= 0 else { throw ValidationError("--max-issues must be >= 0") }
    config.maxIssues = reports.maxIssues
    return config
  }

  static func pipeline(quiet: Bool) -> Pipeline {
    let progress: ProgressObserver? = (!quiet && TerminalProgress.stderrIsTerminal) ? TerminalProgress() : nil
    return Pipeline(backend: Formats(), progress: progress)
  }

  static func writeReports(_ report: ScanReport, _ flags: ReportFlags) throws {
    if let path = flags.report {
      try write(JSONReport.value(of: report, version: datasanVersion).pretty() + "\n", to: path)
    }
    if let path = flags.junit {
      try write(JUnitReport.xml(of: report), to: path)
    }
  }

  static func write(_ text: String, to path: String) throws {
    do {
      try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      throw DatasanError(path: path, "cannot write: \(error.localizedDescription)")
    }
  }
}

struct Scan: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Validate a dataset and report; the exit code gates CI (0 passed, 1 failed, 2 could not run).",
    discussion: """
      Examples:
        datasan scan train.h5 --dataset /train/images --labels /train/labels --num-classes 10
        datasan scan train.csv --loss binary --junit datasan.xml
      """)

  @OptionGroup var input: InputOptions
  @OptionGroup(title: "Checks") var checks: CheckFlags
  @OptionGroup(title: "Reports") var reports: ReportFlags

  func run() throws {
    let config = try Common.scanConfiguration(input, checks, reports)
    let report = try Common.pipeline(quiet: reports.quiet).scan(config)
    try Common.writeReports(report, reports)
    print(TextSummary.render(report), terminator: "")
    if !report.passed { throw ExitCode(1) }
  }
}

struct Clean: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write the clean samples, normalized, to OUTPUT and the rejected ones to a quarantine.",
    discussion: """
      The output format comes from OUTPUT's extension (.h5/.hdf5, .csv), else --output-format, else the \
      input's. Clean + quarantine hold every input sample exactly once, in order; OUTPUT, the quarantine \
      and its .reasons.jsonl appear only when the whole run succeeded.

      Examples:
        datasan clean train.h5 -o train.clean.h5
        datasan clean train.csv -o train.clean.csv --normalize zscore --stats-out stats.json
        datasan clean val.csv -o val.clean.csv --stats-in stats.json
      """)

  @OptionGroup var input: InputOptions

  @Option(name: [.short, .long], help: "Where to write the clean copy (e.g. -o train.clean.h5).")
  var output: String

  @Option(help: "Output format when OUTPUT's extension does not tell (e.g. --output-format hdf5).")
  var outputFormat: DataFormat?

  @Option(help: "minmax maps each feature group onto --range, zscore to (x - mean) / std, none copies values (e.g. --normalize zscore).")
  var normalize: NormalizationMethod = .minmax

  @Option(parsing: .unconditional, help: "Target range of minmax, LO,HI (e.g. --range 0,1 or --range -1,1).")
  var range: String = "-1,1"

  @Option(help: "Write the normalization parameters as JSON (e.g. --stats-out stats.json).")
  var statsOut: String?

  @Option(help: "Apply saved parameters instead of computing them, e.g. the training set's on a validation set (e.g. --stats-in stats.json).")
  var statsIn: String?

  @Option(help: "Where the rejected samples go; default OUTPUT without extension + .quarantine + the input's extension (e.g. --quarantine rejected.h5).")
  var quarantine: String?

  @Option(help: "Write the mean image of the clean samples as a Caffe BlobProto, like compute_image_mean, for a mean_file (e.g. --caffe-mean mean.binaryproto).")
  var caffeMean: String?

  @Flag(help: "Replace existing outputs (e.g. --force).")
  var force = false

  @OptionGroup(title: "Checks") var checks: CheckFlags
  @OptionGroup(title: "Reports") var reports: ReportFlags

  func run() throws {
    let scan = try Common.scanConfiguration(input, checks, reports)
    let outputFormat = try resolveOutputFormat(input: scan.format)
    let quarantinePath = quarantine ?? Clean.defaultQuarantine(output: output, input: scan.input, format: scan.format)
    var config = CleanConfiguration(scan: scan, output: output, outputFormat: outputFormat, quarantine: quarantinePath)
    config.normalize = normalize
    config.range = try parseRange()
    config.statsOut = statsOut
    config.statsIn = try statsIn.map(StatsFile.read)
    config.force = force
    config.meanImageOut = caffeMean
    config.meanImageEncoder = { c, h, w, values in CaffeBlob.encodeMean(channels: c, height: h, width: w, data: values) }
    try checkOutputs(config)

    let result = try Common.pipeline(quiet: reports.quiet).clean(config)
    try Common.writeReports(result.report, reports)
    print(TextSummary.render(result.report, clean: result), terminator: "")
  }

  func parseRange() throws -> (Double, Double) {
    let parts = range.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo.isFinite, hi.isFinite, lo < hi else {
      throw ValidationError("--range must be LO,HI with LO < HI, e.g. -1,1")
    }
    return (lo, hi)
  }

  func resolveOutputFormat(input: DataFormat) throws -> DataFormat {
    switch URL(fileURLWithPath: output).pathExtension.lowercased() {
    case "h5", "hdf5": return .hdf5
    case "lmdb": return .lmdb
    case "csv", "tsv": return .csv
    default: return outputFormat ?? input
    }
  }

  /// SPEC.md: OUTPUT without its extension + `.quarantine` + the input format's extension.
  static func defaultQuarantine(output: String, input: String, format: DataFormat) -> String {
    let url = URL(fileURLWithPath: output)
    let stem = url.pathExtension.isEmpty ? output : String(output.dropLast(url.pathExtension.count + 1))
    if format == .png { return stem + ".quarantine" }
    let inputExtension = URL(fileURLWithPath: input).pathExtension
    let ext = inputExtension.isEmpty ? format.fileExtension : inputExtension
    return stem + ".quarantine." + ext
  }

  /// Refuses OUTPUT == INPUT (always) and existing outputs (without --force).
  func checkOutputs(_ config: CleanConfiguration) throws {
    let inputPath = Clean.canonical(config.scan.input)
    let extra = [config.statsOut, config.meanImageOut].compactMap { $0 }
    for path in [config.output, config.quarantine, config.reasonsPath] + extra {
      let canonical = Clean.canonical(path)
      if canonical == inputPath || canonical.hasPrefix(inputPath + "/") {
        throw DatasanError(path: path, "is the input (or inside it); datasan never writes its input")
      }
      if let statsIn, canonical == Clean.canonical(statsIn) {
        throw DatasanError(path: path, "is the --stats-in file")
      }
      if FileManager.default.fileExists(atPath: path) && !config.force {
        throw DatasanError(path: path, "already exists; use --force to replace it")
      }
      let parent = URL(fileURLWithPath: canonical).deletingLastPathComponent().path
      var isDir: ObjCBool = false
      if !FileManager.default.fileExists(atPath: parent, isDirectory: &isDir) || !isDir.boolValue {
        throw DatasanError(path: path, "its folder \(parent) does not exist")
      }
    }
    if Clean.canonical(config.output) == Clean.canonical(config.quarantine) {
      throw DatasanError(path: config.output, "is also the quarantine path; choose another --quarantine")
    }
  }

  /// The absolute path with symbolic links of existing parts resolved.
  static func canonical(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
  }
}
