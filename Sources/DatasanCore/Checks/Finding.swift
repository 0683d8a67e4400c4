/// The stable kinds of findings of SPEC.md.
public enum FindingKind: String, Sendable, CaseIterable, Codable, Comparable {
  // Sample findings (severity error; the sample goes to the quarantine).
  case nanValue = "nan_value"
  case infValue = "inf_value"
  case unreadable = "unreadable"
  case labelOutOfDomain = "label_out_of_domain"
  case shapeMismatch = "shape_mismatch"
  // Dataset findings (severity warning unless promoted).
  case unnormalizedScale = "unnormalized_scale"
  case scaleImbalance = "scale_imbalance"
  case constantFeature = "constant_feature"
  case extremeValue = "extreme_value"
  case classMissing = "class_missing"
  case classImbalance = "class_imbalance"
  case skippedFiles = "skipped_files"
  case hiddenClassFolder = "hidden_class_folder"

  /// Whether the finding is about one sample (and sends it to the quarantine).
  public var isSampleKind: Bool {
    switch self {
    case .nanValue, .infValue, .unreadable, .labelOutOfDomain, .shapeMismatch: return true
    default: return false
    }
  }

  public static func < (a: FindingKind, b: FindingKind) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }
}

/// How serious a finding is. `error` fails `scan`; `warning` does unless promoted.
public enum Severity: String, Sendable, Codable {
  case error, warning
}

/// One finding: a sample finding (with index and key) or a dataset finding.
public struct Finding: Sendable, Equatable {
  public var kind: FindingKind
  public var severity: Severity
  /// Stream index of the sample, for sample findings.
  public var index: Int?
  /// Key of the sample, for sample findings.
  public var key: String?
  /// What the finding is about: "data", "label", a group name.
  public var field: String?
  /// Human-readable explanation.
  public var detail: String

  public init(
    kind: FindingKind, severity: Severity, index: Int? = nil, key: String? = nil, field: String? = nil,
    detail: String
  ) {
    self.kind = kind
    self.severity = severity
    self.index = index
    self.key = key
    self.field = field
    self.detail = detail
  }
}

/// The loss a dataset is meant for; it decides the label domain.
public enum LossKind: String, Sendable, CaseIterable, Codable {
  case crossEntropy = "cross-entropy"
  case log
  case binary
  case regression
  case none

  /// Whether labels are class indexes (class checks apply).
  public var isClassification: Bool { self == .crossEntropy || self == .binary }
}

/// Which axis of a sample holds the feature groups.
public enum ChannelAxis: String, Sendable, CaseIterable, Codable {
  /// Axis 1 of the data (C x H x W, N x D).
  case first
  /// The last axis (N x H x W x C).
  case last
}

/// Everything the checks need to know, independent of format.
public struct CheckOptions: Sendable {
  public var loss: LossKind = .crossEntropy
  public var numClasses: Int? = nil
  public var ignoreLabel: Double? = nil
  /// `unnormalized_scale` when a group's largest magnitude exceeds this.
  public var scaleLimit: Double = 10
  /// `extreme_value` for values with magnitude at or above this.
  public var maxAbs: Double = 1e6
  /// `scale_imbalance` when the largest / smallest std exceeds this.
  public var scaleImbalanceRatio: Double = 1000
  /// `class_imbalance` when rarest / most frequent is below this.
  public var classImbalanceRatio: Double = 0.01
  public var channelAxis: ChannelAxis = .first
  /// `--shape`: the expected sample shape; nil to take the first readable sample's.
  public var expectedShape: [Int]? = nil
  /// `--strict`: dataset warnings become errors.
  public var strict: Bool = false
  /// Collect a ``StreamingHistogram`` of the first ``histogramGroupLimit`` feature groups over the
  /// clean samples (`GroupStats.histogram`, for the HTML report). Off by default: it costs a pass over
  /// the values.
  public var histograms: Bool = false
  /// Feature groups that get a histogram when ``histograms`` is on (the HTML report draws as many
  /// charts, ``HTMLReport/Options/maxGroupCharts``): a CSV of thousands of columns costs statistics
  /// per column, never a histogram per column.
  public static let histogramGroupLimit = 64

  public init() {}
}
