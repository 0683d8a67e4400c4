import DatasanCore

/// What a key's value must be.
public enum ConfigType: Sendable, Equatable {
  /// Any scalar, taken as text (a number is its text: `label_column: 3`).
  case string
  /// `true` / `false`.
  case bool
  /// An integer at or above `min`.
  case int(min: Int)
  /// A number (integer or decimal) in the range; `exclusiveMin` when the minimum is not allowed.
  case number(min: Double?, max: Double?, exclusiveMin: Bool)
  /// One of these words.
  case choice([String])
  /// One character, or `tab`.
  case delimiter
  /// A list of scalars, or one comma-separated string.
  case list
  /// Positive integers: a list, or `3,32,32`.
  case shape
  /// Two numbers LO < HI: a list, or `-1,1`.
  case range
  /// Finding kinds: a list or a comma-separated string; `none`, and `all` (every warning kind) when allowed.
  case kinds(allowAll: Bool)
}

/// One key of datasan.yml: the long name of a command-line option with `_` for `-`.
public struct ConfigKey: Sendable {
  public var name: String
  public var type: ConfigType
  /// One line for `datasan init`'s comments.
  public var help: String

  public init(_ name: String, _ type: ConfigType, _ help: String) {
    self.name = name
    self.type = type
    self.help = help
  }

  /// The command-line option of this key (`num_classes` -> `--num-classes`).
  public var flag: String { "--" + name.replacingOccurrences(of: "_", with: "-") }
}

extension ConfigKey {
  /// Every key a config file may hold. Adding a command-line option = adding its key here
  /// (and filling the option from the file in the command line's `fill(from:)`).
  public static let all: [ConfigKey] = [
    // The input and how to read it.
    ConfigKey("input", .string, "the dataset (an HDF5 file, an LMDB environment, a PNG folder or a CSV file)"),
    ConfigKey("format", .choice(["auto", "hdf5", "lmdb", "png", "csv"]), "auto detects by magic bytes, then extension"),
    ConfigKey("dataset", .string, "HDF5: the feature dataset, axis 0 = samples"),
    ConfigKey("labels", .string, "HDF5: the label dataset, shape (N) or (N,1)"),
    ConfigKey("delimiter", .delimiter, "CSV: field delimiter, one character or tab"),
    ConfigKey("header", .bool, "CSV: whether the first row is a header (detected when absent)"),
    ConfigKey("skip_rows", .int(min: 0), "CSV: leading lines to skip"),
    ConfigKey("label_column", .string, "CSV: the label column, a header name or a 0-based index"),
    ConfigKey("text_columns", .list, "CSV: columns passed through as text"),
    ConfigKey("list", .string, "PNG folder: a convert_imageset list file"),
    ConfigKey("max_pixels", .int(min: 1), "PNG / LMDB: images declaring more pixels are unreadable"),
    // The checks.
    ConfigKey("loss", .choice(LossKind.allCases.map(\.rawValue)), "the loss the labels feed; decides the label domain"),
    ConfigKey("num_classes", .int(min: 1), "labels must be below it; absent classes are reported"),
    ConfigKey("ignore_label", .number(min: nil, max: nil, exclusiveMin: false), "a label value always allowed"),
    ConfigKey("shape", .shape, "expected sample shape, e.g. [3, 32, 32]"),
    ConfigKey("channel_axis", .choice(ChannelAxis.allCases.map(\.rawValue)), "which axis holds the feature groups"),
    ConfigKey("scale_limit", .number(min: 0, max: nil, exclusiveMin: true), "unnormalized_scale above this magnitude"),
    ConfigKey("max_abs", .number(min: 0, max: nil, exclusiveMin: true), "extreme_value at or above this magnitude"),
    ConfigKey(
      "scale_imbalance_ratio", .number(min: 1, max: nil, exclusiveMin: false),
      "scale_imbalance when the largest / smallest std exceeds this"),
    ConfigKey(
      "class_imbalance_ratio", .number(min: 0, max: 1, exclusiveMin: true),
      "class_imbalance when the rarest class has fewer than this fraction of the most frequent's samples"),
    ConfigKey("strict", .bool, "every dataset warning fails the gate"),
    // The policy.
    ConfigKey("fail_on", .kinds(allowAll: true), "warning kinds that fail the gate, or all"),
    ConfigKey("ignore", .kinds(allowAll: false), "kinds not reported at all (and failing nothing)"),
    ConfigKey(
      "max_flagged_fraction", .number(min: 0, max: 1, exclusiveMin: false),
      "the gate passes while flagged / total samples stays at or under this"),
    // The reports.
    ConfigKey("report", .string, "write the JSON report to this file"),
    ConfigKey("junit", .string, "write JUnit XML to this file"),
    ConfigKey("html", .string, "write a self-contained HTML report to this file"),
    ConfigKey("max_issues", .int(min: 0), "findings listed in the JSON report"),
    ConfigKey("quiet", .bool, "no progress bar"),
    ConfigKey("annotations", .choice(["github", "none"]), "github: GitHub Actions workflow commands for the findings"),
    // clean.
    ConfigKey("output", .string, "clean: where to write the clean copy"),
    ConfigKey("output_format", .choice(["hdf5", "lmdb", "csv", "png"]), "clean: output format when OUTPUT's extension does not tell"),
    ConfigKey("normalize", .choice(["minmax", "zscore", "none"]), "clean: normalization"),
    ConfigKey("range", .range, "clean: target range of minmax, e.g. [-1, 1]"),
    ConfigKey("stats_out", .string, "clean: write the normalization parameters here"),
    ConfigKey("stats_in", .string, "clean: apply saved normalization parameters"),
    ConfigKey("quarantine", .string, "clean: where the rejected samples go"),
    ConfigKey("caffe_mean", .string, "clean: write the mean image as a Caffe BlobProto"),
    ConfigKey("force", .bool, "clean: replace existing outputs"),
  ]

  public static let byName: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}
