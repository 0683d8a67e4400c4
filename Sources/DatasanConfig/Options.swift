import ArgumentParser
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

// Every option is declared once, here, as a swift-argument-parser property with its help. Every
// value is optional: nil means "not on the command line", so that datasan.yml can fill it (the
// config file is read as if its keys were written before the command line: ConfigKeys.swift);
// the defaults apply after that. The datasan.yml keys are these options' long names with _ for -,
// their help and choices come from these declarations; `configTypes` adds what a YAML value must
// be where it is more than a string.

/// `--output-format`: a format of this build (the registry's).
extension DataFormat: ExpressibleByArgument {
  public init?(argument: String) {
    guard let format = Formats.named(argument) else { return nil }
    self = format
  }

  public static var allValueStrings: [String] { Formats.all.map(\.rawValue) }
}
// The choices of the String enums, as swift-argument-parser's default gives them (the raw values),
// without its generic key path `\.rawValue.defaultValueDescription`: instantiated at run time on
// every call, 24 calls cost 1.2 M instructions of a scan's start-up.
extension LossKind: ExpressibleByArgument {
  public static var allValueStrings: [String] { allCases.map { $0.rawValue } }
}
extension ChannelAxis: ExpressibleByArgument {
  public static var allValueStrings: [String] { allCases.map { $0.rawValue } }
}
extension NormalizationMethod: ExpressibleByArgument {
  public static var allValueStrings: [String] { allCases.map { $0.rawValue } }
}

/// `--format`: a format of this build, or `auto`.
public struct FormatChoice: ExpressibleByArgument, Sendable {
  public static let auto = "auto"
  public var rawValue: String

  public init?(argument: String) {
    guard argument == FormatChoice.auto || Formats.named(argument) != nil else { return nil }
    rawValue = argument
  }

  public static var allValueStrings: [String] { [auto] + DataFormat.allValueStrings }
}

/// `--annotations`: where findings become CI annotations.
public enum AnnotationsChoice: String, CaseIterable, ExpressibleByArgument, Sendable {
  case github, none

  public static var allValueStrings: [String] { allCases.map { $0.rawValue } }
}

/// A usage error: main prints it with the command's usage and exits 2.
public struct UsageError: Error, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// A group of options that datasan.yml may set too (DatasanCore's ``ConfigTyped`` says the YAML
/// types of its options).
public typealias ConfigurableOptions = ParsableArguments & ConfigTyped

/// What the input is; how to read it is each format's options (``FormatOptions``).
public struct InputOptions: ConfigurableOptions {
  @Argument(help: "The dataset: an HDF5 file, an LMDB environment, an image folder (PNG, JPEG), a CSV file or a NumPy .npy / .npz; default the config's input (e.g. train.h5).")
  public var input: String?
  @Option(help: "Input format, default auto: by magic bytes, then extension (e.g. --format csv).")
  public var format: FormatChoice?

  public static let configTypes: [String: ConfigType] = [:]

  public init() {}

  /// The input path, from the command line or the config file.
  public func inputPath() throws -> String {
    guard let input, !input.isEmpty else {
      throw UsageError(
        "Missing expected argument '<input>': name the dataset, or set `input:` in \(ConfigFile.defaultName)")
    }
    return input
  }
}

/// Options of the checks and the gate policy.
public struct CheckFlags: ConfigurableOptions {
  @Option(help: "The loss the labels feed: cross-entropy (default; integer >= 0, < --num-classes), log (>= 0), binary ([0, 1]), regression or none (any finite value) (e.g. --loss binary).")
  public var loss: LossKind?
  @Option(help: "Number of classes: labels must be below it, and absent classes are reported (e.g. --num-classes 10).")
  public var numClasses: Int?
  @Option(help: "The class names in label order, comma-separated: an image folder's class folders are labelled by this list, a folder outside it is unknown_class, a class without a folder class_missing (e.g. --classes cat,dog,fish).")
  public var classes: String?
  @Option(parsing: .unconditional, help: "A label value always allowed, like Caffe's ignore_label (e.g. --ignore-label -1).")
  public var ignoreLabel: Double?
  @Option(help: "Expected sample shape; any accepts every size (images of varying sizes) with the first sample's channels, 3,any,any every size with 3; default the first readable sample's shape (e.g. --shape 3,32,32, --shape 3,any,any).")
  public var shape: String?
  @Option(help: "Which axis holds the feature groups: first (default; N x C x H x W, N x D) or last (N x H x W x C) (e.g. --channel-axis last).")
  public var channelAxis: ChannelAxis?
  @Option(help: "unnormalized_scale when a feature group's largest magnitude exceeds this; default 10 (e.g. --scale-limit 10).")
  public var scaleLimit: Double?
  @Option(help: "extreme_value for values with magnitude at or above this; default 1e6 (e.g. --max-abs 1e6).")
  public var maxAbs: Double?
  @Option(help: "scale_imbalance when the largest / smallest std of the feature groups exceeds this; default 1000 (e.g. --scale-imbalance-ratio 1000).")
  public var scaleImbalanceRatio: Double?
  @Option(help: "class_imbalance when the rarest class has fewer than this fraction of the most frequent class's samples; default 0.01 (e.g. --class-imbalance-ratio 0.05).")
  public var classImbalanceRatio: Double?
  @Flag(inversion: .prefixedNo, help: "Every dataset warning counts as an error and fails the scan; --no-strict overrides a config's strict: true (e.g. --strict).")
  public var strict: Bool?
  @Option(help: "Warning kinds that fail the gate, comma-separated, or all, or none; a sample kind listed here fails even within --max-flagged-fraction (e.g. --fail-on constant_feature,class_missing).")
  public var failOn: String?
  @Option(help: "Kinds not reported at all (not counted, not listed, failing nothing), comma-separated, or none (e.g. --ignore class_imbalance).")
  public var ignore: String?
  @Option(help: "The gate passes while flagged / total samples stays at or under this fraction; default 0 (e.g. --max-flagged-fraction 0.001).")
  public var maxFlaggedFraction: Double?

  public static let configTypes: [String: ConfigType] = [
    "num-classes": .int(min: 1),
    "classes": .list,
    "ignore-label": .number(min: nil, max: nil, exclusiveMin: false),
    "shape": .shape,
    "scale-limit": .number(min: 0, max: nil, exclusiveMin: true),
    "max-abs": .number(min: 0, max: nil, exclusiveMin: true),
    "scale-imbalance-ratio": .number(min: 1, max: nil, exclusiveMin: false),
    "class-imbalance-ratio": .number(min: 0, max: 1, exclusiveMin: true),
    "fail-on": .kinds(allowAll: true),
    "ignore": .kinds(allowAll: false),
    "max-flagged-fraction": .number(min: 0, max: 1, exclusiveMin: false),
  ]

  public init() {}

  public func checkOptions() throws -> CheckOptions {
    var c = CheckOptions()
    c.loss = loss ?? .crossEntropy
    if let numClasses, numClasses < 1 { throw UsageError("--num-classes must be at least 1") }
    c.numClasses = numClasses
    if let classes {
      let names = classes.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
      if let problem = ClassList.problem(names) { throw DatasanError("--classes \(problem)") }
      if let numClasses, numClasses != names.count {
        throw DatasanError(
          "--classes names \(names.count) class\(names.count == 1 ? "" : "es") but --num-classes is \(numClasses); give one of them, or make them agree")
      }
      c.classNames = names
      c.numClasses = names.count
    }
    c.ignoreLabel = ignoreLabel
    if let shape, shape.trimmingWhitespace().lowercased() == "any" {
      c.anyShape = true
    } else if let shape {
      let items = shape.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace().lowercased() }
      let dims = items.map { $0 == "any" ? 0 : Int($0) }
      guard !dims.isEmpty, dims.allSatisfy({ $0 != nil && $0! >= 0 }), !items.contains("0") else {
        throw UsageError("--shape must be positive integers or any separated by commas, e.g. 3,32,32, 3,any,any, or any")
      }
      if items.contains("any") {
        c.anyShape = true
        c.shapePattern = dims.map { $0 == 0 ? nil : $0 }
      } else {
        c.expectedShape = dims.map { $0! }
      }
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
  public func policy() throws -> Policy {
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

  public static func split(_ s: String) -> [String] {
    s.split(separator: ",").map { $0.trimmingWhitespace() }
  }
}

/// Options of the reports.
public struct ReportFlags: ConfigurableOptions {
  @Option(help: "Write the JSON report (schema datasan-report/1) to this file (e.g. --report report.json).")
  public var report: String?
  @Option(help: "Write a JUnit XML file, one test case per finding kind, for CI (e.g. --junit datasan.xml).")
  public var junit: String?
  @Option(help: "Write a self-contained HTML report: verdict, findings, histograms, label distribution, thumbnails of flagged images (e.g. --html report.html).")
  public var html: String?
  @Option(help: "github: print a GitHub Actions workflow command per finding (at most 50) after the summary, and append a Markdown job summary to $GITHUB_STEP_SUMMARY when set; none: nothing (e.g. --annotations github).")
  public var annotations: AnnotationsChoice?
  @Option(help: "List at most this many findings in the JSON report; counts stay complete; default 1000 (e.g. --max-issues 100).")
  public var maxIssues: Int?
  @Flag(name: [.short, .long], help: "No progress bar on stderr (e.g. --quiet).")
  public var quiet = false

  public static let configTypes: [String: ConfigType] = ["max-issues": .int(min: 0)]

  public init() {}
}

/// `clean`'s own options.
public struct CleanOptions: ConfigurableOptions {
  @Option(name: [.short, .long], help: "Where to write the clean copy (e.g. -o train.clean.h5).")
  public var output: String?
  @Option(help: "Output format when OUTPUT's extension does not tell (e.g. --output-format hdf5).")
  public var outputFormat: DataFormat?
  @Option(help: "minmax (default) maps each feature group onto --range, zscore to (x - mean) / std, none copies values (e.g. --normalize zscore).")
  public var normalize: NormalizationMethod?
  @Option(parsing: .unconditional, help: "Target range of minmax, LO,HI; default -1,1 (e.g. --range 0,1 or --range -1,1).")
  public var range: String?
  @Option(help: "Write the normalization parameters as JSON (e.g. --stats-out stats.json).")
  public var statsOut: String?
  @Option(help: "Apply saved parameters instead of computing them, e.g. the training set's on a validation set (e.g. --stats-in stats.json).")
  public var statsIn: String?
  @Option(help: "Where the rejected samples go; default OUTPUT without extension + .quarantine + the input's extension (e.g. --quarantine rejected.h5).")
  public var quarantine: String?
  @Option(help: "Write the mean image of the clean samples as written (normalized when normalizing) as a Caffe BlobProto, like compute_image_mean run on OUTPUT, for a mean_file (e.g. --caffe-mean mean.binaryproto).")
  public var caffeMean: String?
  @Flag(help: "Replace existing outputs (e.g. --force).")
  public var force = false

  public static let configTypes: [String: ConfigType] = ["range": .range]

  public init() {}

  public func parseRange() throws -> (Double, Double) {
    let parts = (range ?? "-1,1").split(separator: ",").map { Double($0.trimmingWhitespace()) }
    guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo.isFinite, hi.isFinite, lo < hi else {
      throw UsageError("--range must be LO,HI with LO < HI, e.g. -1,1")
    }
    return (lo, hi)
  }
}

/// Where the options and the policy may also come from (not keys themselves).
public struct ConfigFlags: ParsableArguments {
  @Option(help: "Read options and the gate policy from this YAML file; default datasan.yml in the working directory when present. Keys are the long options with _ for -; the command line wins (e.g. --config ci/datasan.yml).")
  public var config: String?
  @Flag(help: "Do not read datasan.yml from the working directory (e.g. --no-config).")
  public var noConfig = false

  public init() {}

  /// The config file in effect, if any, and how it was found.
  public func load() throws -> (file: ConfigFile, note: String)? {
    if let config {
      return (try ConfigFile.load(path: config), "config: \(config)")
    }
    if noConfig { return nil }
    guard ConfigFile.discover() != nil else { return nil }
    return (try ConfigFile.load(path: ConfigFile.defaultName), "config: \(ConfigFile.defaultName) (from the working directory)")
  }
}
