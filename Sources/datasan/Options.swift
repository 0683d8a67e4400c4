import Foundation
import ArgumentParser
import Datasan

extension DataFormat: ExpressibleByArgument {}
extension LossKind: ExpressibleByArgument {}
extension ChannelAxis: ExpressibleByArgument {}
extension NormalizationMethod: ExpressibleByArgument {}

/// `--format`: a format, or `auto`.
enum FormatChoice: String, ExpressibleByArgument, CaseIterable {
  case auto, hdf5, lmdb, png, csv
}

/// Options that say what the input is and how to read it.
struct InputOptions: ParsableArguments {
  @Argument(help: "The dataset: an HDF5 file, an LMDB environment, a PNG folder or a CSV file (e.g. train.h5).")
  var input: String

  @Option(help: "Input format; auto detects by magic bytes, then extension (e.g. --format csv).")
  var format: FormatChoice = .auto

  @Option(help: "HDF5: the feature dataset, axis 0 = samples (e.g. --dataset /train/images).")
  var dataset: String = "data"

  @Option(help: "HDF5: the label dataset, shape (N) or (N,1); default 'label' when present (e.g. --labels y).")
  var labels: String?

  @Option(help: "CSV: field delimiter, detected among , ; tab when not given (e.g. --delimiter ';' or --delimiter tab).")
  var delimiter: String?

  @Flag(inversion: .prefixedNo, help: "CSV: the first row is (--header) or is not (--no-header) a header; detected when not given.")
  var header: Bool?

  @Option(help: "CSV: skip this many leading lines (e.g. --skip-rows 2).")
  var skipRows: Int = 0

  @Option(help: "CSV: the label column, a header name or a 0-based index; default the column named 'label' (e.g. --label-column target).")
  var labelColumn: String?

  @Option(help: "CSV: columns to pass through as text, names or indexes (e.g. --text-columns id,comment).")
  var textColumns: String?

  @Option(help: "PNG folder: a convert_imageset list, one 'relative/path.png LABEL' a line (e.g. --list train.txt).")
  var list: String?

  @Option(help: "PNG / LMDB: images declaring more pixels are unreadable, refused before decoding (e.g. --max-pixels 100000000).")
  var maxPixels: Int = 100_000_000

  func readOptions() throws -> ReadOptions {
    var r = ReadOptions()
    r.dataset = dataset
    r.labels = labels
    if let delimiter {
      switch delimiter {
      case "tab", "\\t", "\t": r.delimiter = UInt8(ascii: "\t")
      case _ where delimiter.utf8.count == 1: r.delimiter = delimiter.utf8.first
      default: throw ValidationError("--delimiter must be one character or 'tab', not '\(delimiter)'")
      }
    }
    r.header = header
    r.listFile = list
    guard maxPixels > 0 else { throw ValidationError("--max-pixels must be > 0") }
    r.maxPixels = maxPixels
    guard skipRows >= 0 else { throw ValidationError("--skip-rows must be >= 0") }
    r.skipRows = skipRows
    r.labelColumn = labelColumn
    r.textColumns = textColumns.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? []
    return r
  }
}

/// Options of the checks.
struct CheckFlags: ParsableArguments {
  @Option(help: "The loss the labels feed: cross-entropy (integer >= 0, < --num-classes), log (>= 0), binary ([0, 1]), regression or none (any finite value) (e.g. --loss binary).")
  var loss: LossKind = .crossEntropy

  @Option(help: "Number of classes: labels must be below it, and absent classes are reported (e.g. --num-classes 10).")
  var numClasses: Int?

  @Option(parsing: .unconditional, help: "A label value always allowed, like Caffe's ignore_label (e.g. --ignore-label -1).")
  var ignoreLabel: Double?

  @Option(help: "Expected sample shape; default the first readable sample's (e.g. --shape 3,32,32).")
  var shape: String?

  @Option(help: "Which axis holds the feature groups: first (N x C x H x W, N x D) or last (N x H x W x C) (e.g. --channel-axis last).")
  var channelAxis: ChannelAxis = .first

  @Option(help: "unnormalized_scale when a feature group's largest magnitude exceeds this (e.g. --scale-limit 10).")
  var scaleLimit: Double = 10

  @Option(help: "extreme_value for values with magnitude at or above this (e.g. --max-abs 1e6).")
  var maxAbs: Double = 1e6

  @Flag(help: "Dataset warnings count as errors and fail the scan (e.g. --strict).")
  var strict = false

  func checkOptions() throws -> CheckOptions {
    var c = CheckOptions()
    c.loss = loss
    if let numClasses, numClasses < 1 { throw ValidationError("--num-classes must be at least 1") }
    c.numClasses = numClasses
    c.ignoreLabel = ignoreLabel
    if let shape {
      let dims = shape.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
      guard !dims.isEmpty, dims.allSatisfy({ $0 != nil && $0! > 0 }) else {
        throw ValidationError("--shape must be positive integers separated by commas, e.g. 3,32,32")
      }
      c.expectedShape = dims.map { $0! }
    }
    c.channelAxis = channelAxis
    guard scaleLimit > 0 else { throw ValidationError("--scale-limit must be > 0") }
    c.scaleLimit = scaleLimit
    guard maxAbs > 0 else { throw ValidationError("--max-abs must be > 0") }
    c.maxAbs = maxAbs
    c.strict = strict
    return c
  }
}

/// Options of the reports.
struct ReportFlags: ParsableArguments {
  @Option(help: "Write the JSON report (schema datasan-report/1) to this file (e.g. --report report.json).")
  var report: String?

  @Option(help: "Write a JUnit XML file, one test case per finding kind, for CI (e.g. --junit datasan.xml).")
  var junit: String?

  @Option(help: "List at most this many findings in the JSON report; counts stay complete (e.g. --max-issues 100).")
  var maxIssues: Int = 1000

  @Flag(name: [.short, .long], help: "No progress bar on stderr (e.g. --quiet).")
  var quiet = false
}
