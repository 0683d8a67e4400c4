import Foundation
import Datasan
import DatasanConfig

extension DataFormat: ChoiceArgument {}
extension LossKind: ChoiceArgument {}
extension ChannelAxis: ChoiceArgument {}
extension NormalizationMethod: ChoiceArgument {}

// Every option is optional here: nil means "not on the command line", so that a value of the
// config file (datasan.yml / --config) can fill it; the defaults apply after that. The command
// line wins over the file, the file over the defaults. Each option's config key is its long name
// with _ for - (ConfigKey.all in DatasanConfig); `fill(from:)` reads them. Each struct's
// `options` table declares its command-line options and their help (Arguments.swift parses them).

/// `--format`: a format, or `auto`.
enum FormatChoice: String, ChoiceArgument {
  case auto, hdf5, lmdb, png, csv
}

/// `--annotations`: where findings become CI annotations.
enum AnnotationsChoice: String, ChoiceArgument {
  case github, none
}

/// Options that say what the input is and how to read it.
struct InputOptions {
  static let options: [Opt<InputOptions>] = [
    .argument("input", { $0.input = $1 },
      help: "The dataset: an HDF5 file, an LMDB environment, a PNG folder or a CSV file; default the config's input (e.g. train.h5)."),
    .value("format", { $0.format = $1 },
      help: "Input format, default auto: by magic bytes, then extension (e.g. --format csv)."),
    .value("dataset", { $0.dataset = $1 },
      help: "HDF5: the feature dataset, axis 0 = samples; default data (e.g. --dataset /train/images)."),
    .value("labels", { $0.labels = $1 },
      help: "HDF5: the label dataset, shape (N) or (N,1); default 'label' when present (e.g. --labels y)."),
    .value("delimiter", { $0.delimiter = $1 },
      help: "CSV: field delimiter, detected among , ; tab when not given (e.g. --delimiter ';' or --delimiter tab)."),
    .invertible("header", { $0.header = $1 },
      help: "CSV: the first row is (--header) or is not (--no-header) a header; detected when not given."),
    .value("skip-rows", { $0.skipRows = $1 },
      help: "CSV: skip this many leading lines; default 0 (e.g. --skip-rows 2)."),
    .value("label-column", { $0.labelColumn = $1 },
      help: "CSV: the label column, a header name or a 0-based index; default the column named 'label' (e.g. --label-column target)."),
    .value("text-columns", { $0.textColumns = $1 },
      help: "CSV: columns to pass through as text, names or indexes (e.g. --text-columns id,comment)."),
    .value("list", { $0.list = $1 },
      help: "PNG folder: a convert_imageset list, one 'relative/path.png LABEL' a line (e.g. --list train.txt)."),
    .value("max-pixels", { $0.maxPixels = $1 },
      help: "PNG / LMDB: images declaring more pixels are unreadable, refused before decoding; default 100000000 (e.g. --max-pixels 100000000)."),
  ]

  var input: String?
  var format: FormatChoice?
  var dataset: String?
  var labels: String?
  var delimiter: String?
  var header: Bool?
  var skipRows: Int?
  var labelColumn: String?
  var textColumns: String?
  var list: String?
  var maxPixels: Int?

  /// Fills what the command line left unset from the config file.
  mutating func fill(from c: ConfigFile) {
    if input == nil { input = c.string("input") }
    if format == nil { format = c.string("format").flatMap(FormatChoice.init(rawValue:)) }
    if dataset == nil { dataset = c.string("dataset") }
    if labels == nil { labels = c.string("labels") }
    if delimiter == nil { delimiter = c.string("delimiter") }
    if header == nil { header = c.bool("header") }
    if skipRows == nil { skipRows = c.int("skip_rows") }
    if labelColumn == nil { labelColumn = c.string("label_column") }
    if textColumns == nil { textColumns = c.list("text_columns")?.joined(separator: ",") }
    if list == nil { list = c.string("list") }
    if maxPixels == nil { maxPixels = c.int("max_pixels") }
  }

  /// The input path, from the command line or the config file.
  func inputPath() throws -> String {
    guard let input, !input.isEmpty else {
      throw UsageError(
        "Missing expected argument '<input>': name the dataset, or set `input:` in \(ConfigFile.defaultName)")
    }
    return input
  }

  func readOptions() throws -> ReadOptions {
    var r = ReadOptions()
    r.dataset = dataset ?? "data"
    r.labels = labels
    if let delimiter {
      switch delimiter {
      case "tab", "\\t", "\t": r.delimiter = UInt8(ascii: "\t")
      case _ where delimiter.utf8.count == 1: r.delimiter = delimiter.utf8.first
      default: throw UsageError("--delimiter must be one character or 'tab', not '\(delimiter)'")
      }
    }
    r.header = header
    r.listFile = list
    let maxPixels = self.maxPixels ?? 100_000_000
    guard maxPixels > 0 else { throw UsageError("--max-pixels must be > 0") }
    r.maxPixels = maxPixels
    let skipRows = self.skipRows ?? 0
    guard skipRows >= 0 else { throw UsageError("--skip-rows must be >= 0") }
    r.skipRows = skipRows
    r.labelColumn = labelColumn
    r.textColumns = textColumns.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? []
    return r
  }
}

/// Options of the checks and the gate policy.
struct CheckFlags {
  static let options: [Opt<CheckFlags>] = [
    .value("loss", { $0.loss = $1 },
      help: "The loss the labels feed: cross-entropy (default; integer >= 0, < --num-classes), log (>= 0), binary ([0, 1]), regression or none (any finite value) (e.g. --loss binary)."),
    .value("num-classes", { $0.numClasses = $1 },
      help: "Number of classes: labels must be below it, and absent classes are reported (e.g. --num-classes 10)."),
    .value("ignore-label", { $0.ignoreLabel = $1 },
      help: "A label value always allowed, like Caffe's ignore_label (e.g. --ignore-label -1)."),
    .value("shape", { $0.shape = $1 },
      help: "Expected sample shape; default the first readable sample's (e.g. --shape 3,32,32)."),
    .value("channel-axis", { $0.channelAxis = $1 },
      help: "Which axis holds the feature groups: first (default; N x C x H x W, N x D) or last (N x H x W x C) (e.g. --channel-axis last)."),
    .value("scale-limit", { $0.scaleLimit = $1 },
      help: "unnormalized_scale when a feature group's largest magnitude exceeds this; default 10 (e.g. --scale-limit 10)."),
    .value("max-abs", { $0.maxAbs = $1 },
      help: "extreme_value for values with magnitude at or above this; default 1e6 (e.g. --max-abs 1e6)."),
    .value("scale-imbalance-ratio", { $0.scaleImbalanceRatio = $1 },
      help: "scale_imbalance when the largest / smallest std of the feature groups exceeds this; default 1000 (e.g. --scale-imbalance-ratio 1000)."),
    .value("class-imbalance-ratio", { $0.classImbalanceRatio = $1 },
      help: "class_imbalance when the rarest class has fewer than this fraction of the most frequent class's samples; default 0.01 (e.g. --class-imbalance-ratio 0.05)."),
    .invertible("strict", { $0.strict = $1 },
      help: "Every dataset warning counts as an error and fails the scan; --no-strict overrides a config's strict: true (e.g. --strict)."),
    .value("fail-on", { $0.failOn = $1 },
      help: "Warning kinds that fail the gate, comma-separated, or all, or none; a sample kind listed here fails even within --max-flagged-fraction (e.g. --fail-on constant_feature,class_missing)."),
    .value("ignore", { $0.ignore = $1 },
      help: "Kinds not reported at all (not counted, not listed, failing nothing), comma-separated, or none (e.g. --ignore class_imbalance)."),
    .value("max-flagged-fraction", { $0.maxFlaggedFraction = $1 },
      help: "The gate passes while flagged / total samples stays at or under this fraction; default 0 (e.g. --max-flagged-fraction 0.001)."),
  ]

  var loss: LossKind?
  var numClasses: Int?
  var ignoreLabel: Double?
  var shape: String?
  var channelAxis: ChannelAxis?
  var scaleLimit: Double?
  var maxAbs: Double?
  var scaleImbalanceRatio: Double?
  var classImbalanceRatio: Double?
  var strict: Bool?
  var failOn: String?
  var ignore: String?
  var maxFlaggedFraction: Double?

  mutating func fill(from c: ConfigFile) {
    if loss == nil { loss = c.string("loss").flatMap(LossKind.init(rawValue:)) }
    if numClasses == nil { numClasses = c.int("num_classes") }
    if ignoreLabel == nil { ignoreLabel = c.number("ignore_label") }
    if shape == nil { shape = c.list("shape")?.joined(separator: ",") }
    if channelAxis == nil { channelAxis = c.string("channel_axis").flatMap(ChannelAxis.init(rawValue:)) }
    if scaleLimit == nil { scaleLimit = c.number("scale_limit") }
    if maxAbs == nil { maxAbs = c.number("max_abs") }
    if scaleImbalanceRatio == nil { scaleImbalanceRatio = c.number("scale_imbalance_ratio") }
    if classImbalanceRatio == nil { classImbalanceRatio = c.number("class_imbalance_ratio") }
    if strict == nil { strict = c.bool("strict") }
    if failOn == nil { failOn = c.list("fail_on")?.joined(separator: ",") }
    if ignore == nil { ignore = c.list("ignore")?.joined(separator: ",") }
    if maxFlaggedFraction == nil { maxFlaggedFraction = c.number("max_flagged_fraction") }
  }

  func checkOptions() throws -> CheckOptions {
    var c = CheckOptions()
    c.loss = loss ?? .crossEntropy
    if let numClasses, numClasses < 1 { throw UsageError("--num-classes must be at least 1") }
    c.numClasses = numClasses
    c.ignoreLabel = ignoreLabel
    if let shape {
      let dims = shape.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
      guard !dims.isEmpty, dims.allSatisfy({ $0 != nil && $0! > 0 }) else {
        throw UsageError("--shape must be positive integers separated by commas, e.g. 3,32,32")
      }
      c.expectedShape = dims.map { $0! }
    }
    c.channelAxis = channelAxis ?? .first
    if let scaleLimit {
      guard scaleLimit > 0 else { throw UsageError("--scale-limit must be > 0") }
      c.scaleLimit = scaleLimit
    }
    if let maxAbs {
      guard maxAbs > 0 else { throw UsageError("--max-abs must be > 0") }
      c.maxAbs = maxAbs
    }
    if let scaleImbalanceRatio {
      guard scaleImbalanceRatio >= 1, scaleImbalanceRatio.isFinite else {
        throw UsageError("--scale-imbalance-ratio must be >= 1 (largest std / smallest std)")
      }
      c.scaleImbalanceRatio = scaleImbalanceRatio
    }
    if let classImbalanceRatio {
      guard classImbalanceRatio > 0, classImbalanceRatio <= 1 else {
        throw UsageError(
          "--class-imbalance-ratio must be in (0, 1]: 0.01 flags a rarest class with fewer than 1% of the most frequent class's samples")
      }
      c.classImbalanceRatio = classImbalanceRatio
    }
    c.strict = strict ?? false
    return c
  }

  /// The gate policy of `--fail-on`, `--ignore`, `--max-flagged-fraction` (or their keys).
  func policy() throws -> Policy {
    var p = Policy()
    do {
      p.failOn = try Policy.kinds(failOn.map(CheckFlags.split) ?? [], allowAll: true)
    } catch let e as PolicyError {
      throw UsageError("--fail-on: \(e.message)")
    }
    do {
      p.ignore = try Policy.kinds(ignore.map(CheckFlags.split) ?? [], allowAll: false)
    } catch let e as PolicyError {
      throw UsageError("--ignore: \(e.message)")
    }
    let both = p.failOn.intersection(p.ignore)
    if !both.isEmpty {
      throw DatasanError("\(Policy.names(both)) is both in fail_on and in ignore; keep it in one of them")
    }
    if let maxFlaggedFraction {
      guard maxFlaggedFraction >= 0, maxFlaggedFraction <= 1 else {
        throw UsageError("--max-flagged-fraction must be in [0, 1] (0.01 tolerates 1% flagged samples)")
      }
      p.maxFlaggedFraction = maxFlaggedFraction
    }
    return p
  }

  static func split(_ s: String) -> [String] {
    s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
  }
}

/// Options of the reports.
struct ReportFlags {
  static let options: [Opt<ReportFlags>] = [
    .value("report", { $0.report = $1 },
      help: "Write the JSON report (schema datasan-report/1) to this file (e.g. --report report.json)."),
    .value("junit", { $0.junit = $1 },
      help: "Write a JUnit XML file, one test case per finding kind, for CI (e.g. --junit datasan.xml)."),
    .value("html", { $0.html = $1 },
      help: "Write a self-contained HTML report: verdict, findings, histograms, label distribution, thumbnails of flagged images (e.g. --html report.html)."),
    .value("annotations", { $0.annotations = $1 },
      help: "github: print a GitHub Actions workflow command per finding (at most 50) after the summary, and append a Markdown job summary to $GITHUB_STEP_SUMMARY when set; none: nothing (e.g. --annotations github)."),
    .value("max-issues", { $0.maxIssues = $1 },
      help: "List at most this many findings in the JSON report; counts stay complete; default 1000 (e.g. --max-issues 100)."),
    .flag("quiet", short: "q", { $0.quiet = $1 },
      help: "No progress bar on stderr (e.g. --quiet)."),
  ]

  var report: String?
  var junit: String?
  var html: String?
  var annotations: AnnotationsChoice?
  var maxIssues: Int?
  var quiet = false

  // A new report option: make it optional here, give it a line in `options`, add its key to
  // ConfigKey.all (DatasanConfig) and a line below, so that datasan.yml can set it too.

  mutating func fill(from c: ConfigFile) {
    if report == nil { report = c.string("report") }
    if junit == nil { junit = c.string("junit") }
    if html == nil { html = c.string("html") }
    if annotations == nil { annotations = c.string("annotations").flatMap(AnnotationsChoice.init(rawValue:)) }
    if maxIssues == nil { maxIssues = c.int("max_issues") }
    if !quiet { quiet = c.bool("quiet") ?? false }
  }
}

/// Where the options and the policy may also come from.
struct ConfigFlags {
  static let options: [Opt<ConfigFlags>] = [
    .value("config", { $0.config = $1 },
      help: "Read options and the gate policy from this YAML file; default datasan.yml in the working directory when present. Keys are the long options with _ for -; the command line wins (e.g. --config ci/datasan.yml)."),
    .flag("no-config", { $0.noConfig = $1 },
      help: "Do not read datasan.yml from the working directory (e.g. --no-config)."),
  ]

  var config: String?
  var noConfig = false

  /// The config file in effect, if any, and how it was found.
  func load() throws -> (file: ConfigFile, note: String)? {
    if let config {
      return (try ConfigFile.load(path: config), "config: \(config)")
    }
    if noConfig { return nil }
    guard ConfigFile.discover() != nil else { return nil }
    return (try ConfigFile.load(path: ConfigFile.defaultName), "config: \(ConfigFile.defaultName) (from the working directory)")
  }
}
