import ArgumentParser
import Datasan
import DatasanConfig
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

let datasanVersion = "0.1.0"

/// The top level: `datasan <subcommand>`, `datasan help [<subcommand>]`, `--help`, `--version`,
/// `--generate-completion-script bash|zsh|fish`.
struct DatasanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
  commandName: "datasan",
  abstract: "Find the data behind NaN losses: scan a dataset, or write a clean, normalized copy.",
  discussion: """
    Formats: HDF5 (.h5), LMDB of Caffe Datum records, PNG folders, CSV (.csv). Exit codes: 0 passed / written, 1 scan failed (error findings), \
    2 could not run (bad arguments, unreadable input, output exists without --force).

    Options and the gate policy can also come from a YAML file: --config FILE, or datasan.yml in the \
    working directory (keys = long option names with _ for -; the command line wins). \
    `datasan init INPUT` writes one.

    Examples:
      datasan scan train.h5 --num-classes 10 --report report.json
      datasan scan train.csv --label-column target --junit datasan.xml
      datasan clean train.h5 -o train.clean.h5 --normalize zscore
      datasan init train.h5 && datasan scan
    """,
  version: datasanVersion,
  subcommands: [Scan.self, Clean.self, Init.self, Merge.self])
}

extension DatasanCommand {
  /// An unknown subcommand, named as such (swift-argument-parser calls it an unexpected argument).
  static func checkSubcommand(_ arguments: [String]) throws {
    guard let first = arguments.first, !first.hasPrefix("-") else { return }
    // Their configured names: `_commandName` would derive each from its type's name, which
    // costs 5 million instructions (a third of a run's start-up) through String(describing:).
    let names = configuration.subcommands.compactMap { $0.configuration.commandName }
    guard first != "help", !names.contains(first) else { return }
    if let suggestion = Policy.suggestion(for: first, among: names) {
      throw UsageError("Unknown subcommand '\(first)'. Did you mean '\(suggestion)'?")
    }
    throw UsageError("Unknown subcommand '\(first)'; the subcommands are \(names.joined(separator: ", "))")
  }
}

/// The arguments after the subcommand's name, as given: parsed again after the config file's
/// keys, so that the command line wins. (nonisolated(unsafe): main.swift sets it once, on the main
/// thread, before any command runs; nothing writes it after.)
nonisolated(unsafe) var subcommandArguments: [String] = []

/// The options of a command that reads a dataset and gates it (scan, clean), declared once; their
/// order is that of the sections of its `--help`: what the input is and how each format reads it,
/// the command's own output options (clean's; none for scan), the checks and gate policy, the
/// reports, the config file.
struct DatasetCommandOptions<Output: ParsableArguments>: ParsableArguments {
  @OptionGroup(title: "Input") var input: InputOptions
  @OptionGroup(title: "Input") var formats: FormatOptions
  @OptionGroup(title: "Output") var output: Output
  @OptionGroup(title: "Checks and gate policy") var checks: CheckFlags
  @OptionGroup(title: "Reports") var reports: ReportFlags
  @OptionGroup(title: "Config file") var configFlags: ConfigFlags

  /// The groups whose options datasan.yml may set for this command.
  static var configGroups: [any ConfigurableOptions.Type] {
    ConfigKey.inputGroups + ((Output.self as? any ConfigurableOptions.Type).map { [$0] } ?? [])
      + [CheckFlags.self, ReportFlags.self]
  }
}

/// No options: scan's output section.
struct NoOptions: ParsableArguments {}

/// Shared by scan and clean: resolves the configuration and writes the reports.
struct Common {
  static func scanConfiguration<Output>(_ options: DatasetCommandOptions<Output>) throws -> ScanConfiguration {
    try scanConfiguration(options.input, options.formats, options.checks, options.reports)
  }

  static func scanConfiguration(
    _ input: InputOptions, _ formatOptions: FormatOptions, _ checks: CheckFlags, _ reports: ReportFlags
  ) throws -> ScanConfiguration {
    let path = try input.inputPath()
    let format: DataFormat
    if let given = input.format.flatMap({ Formats.named($0.rawValue) }) {
      guard FileManager.default.fileExists(atPath: path) else {
        throw DatasanError(path: path, "no such file or directory")
      }
      format = given
    } else {
      format = try Formats().detectFormat(path: path)
    }
    Supervision.registerInput(path, format: format)
    var config = ScanConfiguration(input: path, format: format, checks: try checks.checkOptions())
    formatOptions.apply(to: &config.read)
    config.read.classNames = config.checks.classNames
    config.read.channelAxis = config.checks.channelAxis
    let maxIssues = reports.maxIssues ?? 1000
    guard maxIssues >= 0 else { throw UsageError("--max-issues must be >= 0") }
    config.maxIssues = maxIssues
    if reports.html != nil {
      // The HTML report draws group histograms and thumbnails of the first flagged samples.
      config.checks.histograms = true
      config.keepFlaggedSamples = HTMLReport.Options().maxThumbnails
    }
    return config
  }

  /// The config file in effect (--config, else datasan.yml in the working directory) filled into
  /// the options the command line left unset: the command is parsed again with the file's keys
  /// (of its option `groups`) before the command line. Returns the line that says which file it was.
  static func applyConfig<C: ParsableCommand, Output>(
    _ command: inout C, _ options: DatasetCommandOptions<Output>
  ) throws -> (file: ConfigFile, note: String)? {
    guard let loaded = try options.configFlags.load() else { return nil }
    let groups = DatasetCommandOptions<Output>.configGroups
    // The file's keys about its own input apply to that input only (InputKeys.swift).
    let describes = loaded.file.describes(input: options.input.input)
    do {
      command = try C.parse(
        loaded.file.arguments(for: groups, skippingInput: options.input.input != nil, inputKeys: describes)
          + subcommandArguments)
    } catch {
      throw UsageError("\(C.message(for: error)) (with the keys of \(loaded.file.path))")
    }
    let skipped = describes ? [] : loaded.file.inputSpecificKeys
    guard !skipped.isEmpty, let own = loaded.file.string("input") else { return loaded }
    return (
      loaded.file,
      loaded.note + "; its keys for its input \(own) (\(skipped.joined(separator: ", "))) are not applied to this one"
    )
  }

  /// The human summary, with the config file and the policy named under its first line and the
  /// verdict line telling the policy's part.
  static func summary(_ rendered: String, _ report: ScanReport, configNote: String?) -> String {
    var lines = rendered.components(separatedBy: "\n")
    var extra: [String] = []
    if let configNote { extra.append("  " + configNote) }
    if !report.policy.isDefault { extra.append("  policy: " + report.policy.summary) }
    if !lines.isEmpty { lines.insert(contentsOf: extra, at: 1) }
    if !report.policy.isDefault,
      let last = lines.lastIndex(where: { $0.hasPrefix("PASS") || $0.hasPrefix("FAIL") })
    {
      lines[last] = report.verdictLine
    }
    return lines.joined(separator: "\n")
  }

  /// `--annotations github`: the workflow commands after the summary, and the job summary.
  static func annotate(_ report: ScanReport, _ flags: ReportFlags) throws {
    guard flags.annotations == .github else { return }
    for command in GitHubAnnotations.commands(for: report) { Console.out.line(command) }
    try GitHubAnnotations.appendJobSummary(report)
  }

  static func pipeline(quiet: Bool) -> Pipeline {
    let progress: ProgressObserver? = (!quiet && TerminalProgress.stderrIsTerminal) ? TerminalProgress() : nil
    return Pipeline(backend: Formats(), progress: progress)
  }

  static func writeReports(
    _ report: ScanReport, _ flags: ReportFlags, checks: CheckOptions, range: (Double, Double) = (-1, 1)
  ) throws {
    if let path = flags.report {
      try write(JSONReport.value(of: report, version: datasanVersion).pretty() + "\n", to: path)
    }
    if let path = flags.junit {
      try write(JUnitReport.xml(of: report), to: path)
    }
    if let path = flags.html {
      var options = HTMLReport.Options(checks: checks)
      options.range = range
      try write(HTMLReport.render(report, version: datasanVersion, options: options), to: path)
    }
  }

  /// Writes a report atomically, under a temporary name the supervisor knows (see Supervisor.swift).
  static func write(_ text: String, to path: String) throws {
    if let stream = Console.named(path) {  // /dev/stdout, /dev/stderr
      stream.write(text)
      return
    }
    if InputFileKind(path: path).specialName != nil {
      // /dev/stdout, /dev/null, a pipe (`--report >(jq .)`): written as it is, never replaced.
      try writeInPlace(text, to: path)
      return
    }
    let transaction = OutputTransaction()
    do {
      try Data(text.utf8).write(to: URL(fileURLWithPath: transaction.add(finalPath: path)))
      try transaction.commit(replace: true)
    } catch {
      transaction.rollback()
      if let error = error as? DatasanError { throw error }
      throw DatasanError(path: path, "cannot write: \(fileErrorText(error))")
    }
  }
}

extension Common {
  /// Writes `text` to an existing special file (a device, a pipe) by opening it for writing.
  static func writeInPlace(_ text: String, to path: String) throws {
    let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY)
    guard fd >= 0 else { throw DatasanError(path: path, "cannot write: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
      let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw DatasanError(path: path, "cannot write: \(String(cString: strerror(errno)))")
      }
      bytes = bytes.dropFirst(n)
    }
  }
}

struct Scan: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "scan",
    abstract: "Validate a dataset and report; the exit code gates CI (0 passed, 1 failed, 2 could not run).",
    discussion: """
      Examples:
        datasan scan train.h5 --dataset /train/images --labels /train/labels
        datasan scan train.csv --loss binary --junit datasan.xml
      """)

  @OptionGroup var options: DatasetCommandOptions<NoOptions>
  @OptionGroup(title: "Shards") var sharding: ShardOptions

  func run() throws {
    var command = self
    let loaded = try Common.applyConfig(&command, options)
    let (checks, reports) = (command.options.checks, command.options.reports)
    let config = try Common.scanConfiguration(command.options)
    let policy = try checks.policy()
    if let shard = try command.sharding.resolve(reporting: reports.report != nil) {
      let fileArguments =
        loaded?.file.arguments(
          for: DatasetCommandOptions<NoOptions>.configGroups, skippingInput: options.input.input != nil) ?? []
      return try Sharding.scan(config, shard, reports, arguments: fileArguments + subcommandArguments)
    }
    let report = try Common.pipeline(quiet: reports.quiet).scan(config).applying(policy)
    try Common.writeReports(report, reports, checks: config.checks)
    Console.out.write(Common.summary(TextSummary.render(report), report, configNote: loaded?.note))
    try Common.annotate(report, reports)
    if !report.passed { throw ExitCode.failure }
  }
}

struct Clean: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "clean",
    abstract: "Write the clean samples, normalized, to OUTPUT and the rejected ones to a quarantine.",
    discussion: """
      The output format comes from OUTPUT's extension (.h5/.hdf5, .csv; .csv.gz, .csv.bz2, .csv.xz and .csv.zst \
      are compressed, their default quarantine too), else --output-format, else the \
      input's. Clean + quarantine hold every input sample exactly once, in order; OUTPUT, the quarantine \
      and its .reasons.jsonl appear only when the whole run succeeded.

      Examples:
        datasan clean train.h5 -o train.clean.h5
        datasan clean train.csv -o train.clean.csv --stats-out stats.json
        datasan clean val.csv -o val.clean.csv --stats-in stats.json
      """)

  @OptionGroup var options: DatasetCommandOptions<CleanOptions>

  func run() throws {
    var command = self
    let loaded = try Common.applyConfig(&command, options)
    try command.clean(configNote: loaded?.note)
  }

  func clean(configNote: String?) throws {
    let options = self.options.output  // clean's own (the OUTPUT section)
    guard let output = options.output, !output.isEmpty else {
      throw UsageError("Missing expected argument '--output <output>': where to write the clean copy (or `output:` in the config)")
    }
    let (checks, reports) = (self.options.checks, self.options.reports)
    let scan = try Common.scanConfiguration(self.options)
    let policy = try checks.policy()
    let outputFormat = try resolveOutputFormat(output: output, input: scan.format)
    let quarantinePath = options.quarantine ?? Clean.defaultQuarantine(output: output, input: scan.input, format: scan.format)
    var config = CleanConfiguration(scan: scan, output: output, outputFormat: outputFormat, quarantine: quarantinePath)
    config.normalize = options.normalize ?? .minmax
    config.range = try options.parseRange()
    config.statsOut = options.statsOut
    config.statsIn = try options.statsIn.map(StatsFile.read)
    config.statsInPath = options.statsIn
    if let classes = config.statsIn?.classes, let file = options.statsIn {
      // The training set's class list labels this input (a validation folder) the same way.
      try Clean.adopt(classes, from: file, into: &config.scan)
    }
    config.force = options.force
    config.meanImageOut = options.caffeMean
    config.meanImageEncoder = { c, h, w, values in CaffeBlob.encodeMean(channels: c, height: h, width: w, data: values) }
    try checkOutputs(config)

    var result = try Common.pipeline(quiet: reports.quiet).clean(config)
    result.report = result.report.applying(policy)
    try Common.writeReports(result.report, reports, checks: config.scan.checks, range: config.range)
    Console.out.write(
      Common.summary(TextSummary.render(result.report, clean: result), result.report, configNote: configNote))
    try Common.annotate(result.report, reports)
  }

  /// Takes the class list of a `--stats-in` file as the given one (`--classes`); a `--classes`
  /// (or `--num-classes`) that disagrees with it is refused.
  static func adopt(_ classes: [String], from file: String, into scan: inout ScanConfiguration) throws {
    if let given = scan.checks.classNames {
      if given != classes {
        throw DatasanError(
          path: file,
          "its classes (\(ClassList.list(classes))) are not --classes (\(ClassList.list(given))): the labels would not match")
      }
      return
    }
    if ClassList.problem(classes) != nil { throw DatasanError(path: file, "its classes are not a class list") }
    if let k = scan.checks.numClasses, k != classes.count {
      throw DatasanError(path: file, "names \(classes.count) classes but --num-classes is \(k)")
    }
    scan.checks.classNames = classes
    scan.checks.numClasses = classes.count
    scan.read.classNames = classes
  }

  func resolveOutputFormat(output: String, input: DataFormat) throws -> DataFormat {
    let format = Formats.format(ofOutput: output) ?? options.output.outputFormat ?? input
    if let compression = Compression.of(outputPath: output),
      format != .csv || (Formats.format(ofOutput: Compression.strippingExtension(output)) ?? .csv) != .csv
    {
      throw DatasanError(
        path: output, "a .\(compression.fileExtension) output is a compressed CSV file (out.csv.\(compression.fileExtension)); only CSV output is compressed")
    }
    return format
  }

  /// SPEC.md: OUTPUT without its extension + `.quarantine` + the input format's extension; a
  /// compressed CSV output (`out.csv.gz`) has a CSV quarantine compressed alike (`out.quarantine.csv.gz`).
  static func defaultQuarantine(output: String, input: String, format: DataFormat) -> String {
    let compression = Compression.of(outputPath: output)
    let plain = Compression.strippingExtension(output)
    let url = URL(fileURLWithPath: plain)
    let stem = url.pathExtension.isEmpty ? plain : String(plain.dropLast(url.pathExtension.count + 1))
    let formatExtension = Formats.fileExtension(of: format)
    if formatExtension.isEmpty { return stem + ".quarantine" }  // a folder of files
    let inputExtension = URL(fileURLWithPath: Compression.strippingExtension(input)).pathExtension
    let ext = Formats.quarantineExtension(of: format, inputExtension: inputExtension)
    let suffix = format == .csv ? compression.map { "." + $0.fileExtension } ?? "" : ""
    return stem + ".quarantine." + ext + suffix
  }

  /// Refuses OUTPUT == INPUT (always) and existing outputs (without --force).
  func checkOutputs(_ config: CleanConfiguration) throws {
    let inputPath = Clean.canonical(config.scan.input)
    let extra = [config.statsOut, config.meanImageOut].compactMap { $0 }
      + Formats.companionOutputs(of: config.output, format: config.outputFormat)
      + Formats.companionOutputs(of: config.quarantine, format: config.scan.format)
    for path in [config.output, config.quarantine, config.reasonsPath] + extra {
      let canonical = Clean.canonical(path)
      if canonical == inputPath || canonical.hasPrefix(inputPath + "/") {
        throw DatasanError(path: path, "is the input (or inside it); datasan never writes its input")
      }
      if let statsIn = options.output.statsIn, canonical == Clean.canonical(statsIn) {
        throw DatasanError(path: path, "is the --stats-in file")
      }
      if let special = Console.named(path) != nil ? "a standard stream" : InputFileKind(path: path).specialName {
        throw DatasanError(path: path, "is \(special); clean writes its outputs as new files and folders")
      }
      if FileManager.default.fileExists(atPath: path) && !config.force {
        throw DatasanError(path: path, "already exists; use --force to replace it")
      }
      let parent = URL(fileURLWithPath: canonical).deletingLastPathComponent().path
      var isDir = false
      if !FileManager.default.fileExists(atPath: parent, isDirectory: &isDir) || !isDir {
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

struct Init: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "init",
    abstract: "Write a commented datasan.yml for a dataset, so that `datasan scan` alone is the gate.",
    discussion: """
      Reads the dataset once to learn its format, its label dataset or column, and its labels: the loss is \
      guessed from the label values (integers in {0, 1}: binary; integers >= 0: cross-entropy with \
      num_classes = largest label + 1; other values: regression). Review the file, commit it, and run \
      `datasan scan` in CI. An existing file is kept unless --force.

      Examples:
        datasan init train.h5 && datasan scan
        datasan init train.csv --label-column target
        datasan init images/ -o ci/datasan.yml
      """)

  @OptionGroup(title: "Input") var input: InputOptions
  @OptionGroup(title: "Input") var formats: FormatOptions
  @Option(name: [.short, .long], help: "Where to write the config file (e.g. -o datasan.yml).")
  var output: String = ConfigFile.defaultName
  @Flag(help: "Replace an existing config file (e.g. --force).")
  var force = false
  @Flag(name: [.short, .long], help: "No progress bar on stderr (e.g. --quiet).")
  var quiet = false

  func run() throws {
    if FileManager.default.fileExists(atPath: output) && !force {
      throw DatasanError(path: output, "already exists; use --force to replace it")
    }
    guard let path = input.input, !path.isEmpty else {
      throw UsageError("Missing expected argument '<input>': the dataset to write \(output) for")
    }
    // Learn the labels, judge none of them; every size passes, so that images of varying sizes all count.
    let checks = try CheckFlags.parse(["--loss", LossKind.none.rawValue, "--shape", "any"])
    let config = try Common.scanConfiguration(input, formats, checks, ReportFlags.parse([]))
    let report = try Common.pipeline(quiet: quiet).scan(config)
    let facts = InitTemplate.Facts(
      input: path, info: report.info, read: config.read, header: formats.csv.header, total: report.total,
      flagged: report.flagged, labels: report.labelStats, groups: report.groupStats, sizes: report.sizes)
    let (text, guess) = InitTemplate.render(facts)
    // Written only once it reads back as a valid config.
    _ = try ConfigFile.parse(text, path: output)
    try Common.write(text, to: output)

    var said = ["format \(report.info.format.rawValue)"]
    if let labels = report.info.labelName { said.append("labels '\(labels)'") }
    if let guess {
      said.append("loss \(guess.loss.rawValue)")
      if let names = report.info.classNames, guess.loss.isClassification, ClassList.problem(names) == nil {
        said.append("classes [\(ClassList.list(names, limit: 5))]")
      } else if let k = guess.numClasses {
        said.append("num_classes \(k)")
      }
    }
    Console.out.line("datasan: wrote \(output) for \(path) (\(report.total) samples): \(said.joined(separator: ", "))")
    let wroteClasses = said.contains { $0.hasPrefix("classes ") }
    for note in guess?.notes ?? [] where !wroteClasses || !note.contains("num_classes") { Console.out.line("  " + note) }
    let gate = output == ConfigFile.defaultName ? "datasan scan" : "datasan scan --config \(output)"
    Console.out.line("review it, then run the gate: \(gate)")
  }
}
