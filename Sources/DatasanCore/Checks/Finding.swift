/// A kind of finding of SPEC.md: its stable name and what reports say about it.
///
/// Kinds are declared by the checks that report them (``SampleChecker``, ``LabelDomain``, each
/// ``DatasetCheck``, ``ReaderFindings``), as `static let`s of an extension; ``allCases`` is their
/// catalog (``CheckCatalog/kinds``), in the order of SPEC.md. Policy, reports and annotations iterate
/// over ``allCases`` and read the metadata here; nothing switches on a kind.
public struct FindingKind: Sendable, Hashable, Comparable, CaseIterable, RawRepresentable, Codable,
  CustomStringConvertible
{
  /// What a finding of a kind is about.
  public enum Scope: Sendable {
    /// One sample: severity error, the sample goes to the quarantine.
    case sample
    /// The dataset as a whole: severity warning unless promoted (`--strict`, `fail_on`).
    case dataset
  }

  /// The stable name (`nan_value`), as in reports, `--ignore` and `fail_on`.
  public let rawValue: String
  public let scope: Scope
  /// What the kind means, in one line for people (the HTML report's table of counts).
  private let meaningText: @Sendable (DatasetInfo) -> String
  /// A dataset kind that fails the gate by itself (`mixed_column`); nil: the scope's default.
  private let severityOverride: Severity?

  /// Declares a kind. Declare each kind once, beside the check that reports it, and list it in the
  /// check's `kinds`. `severity` makes a dataset kind an error without `--strict`.
  public init(
    _ name: String, _ scope: Scope, severity: Severity? = nil, meaning: @escaping @Sendable (DatasetInfo) -> String
  ) {
    rawValue = name
    self.scope = scope
    severityOverride = severity
    meaningText = meaning
  }

  public init(_ name: String, _ scope: Scope, severity: Severity? = nil, meaning: String) {
    self.init(name, scope, severity: severity, meaning: { _ in meaning })
  }

  /// The kind of this name among ``allCases``, or nil.
  public init?(rawValue: String) {
    guard let kind = CheckCatalog.kindsByName[rawValue] else { return nil }
    self = kind
  }

  /// Every kind, in the order of SPEC.md.
  public static var allCases: [FindingKind] { CheckCatalog.kinds }

  /// Whether the finding is about one sample (and sends it to the quarantine).
  public var isSampleKind: Bool { scope == .sample }
  /// The severity a finding of this kind has unless the policy promotes it.
  public var defaultSeverity: Severity { severityOverride ?? (scope == .sample ? .error : .warning) }
  /// What the kind means for a dataset like `info`.
  public func meaning(for info: DatasetInfo) -> String { meaningText(info) }
  public var description: String { rawValue }

  public static func == (a: FindingKind, b: FindingKind) -> Bool { a.rawValue == b.rawValue }
  public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
  public static func < (a: FindingKind, b: FindingKind) -> Bool {
    CheckCatalog.order[a.rawValue, default: Int.max] < CheckCatalog.order[b.rawValue, default: Int.max]
  }

  public init(from decoder: Decoder) throws {
    let name = try decoder.singleValueContainer().decode(String.self)
    guard let kind = FindingKind(rawValue: name) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown finding kind '\(name)'"))
    }
    self = kind
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(rawValue)
  }
}

/// How serious a finding is. `error` fails `scan`; `warning` does unless promoted.
public enum Severity: String, Sendable, Codable {
  case error, warning
}

/// One finding: a sample finding (with index and key) or a dataset finding.
public struct Finding: Sendable, Equatable, Codable {
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
  /// `--classes`: the class names in label order, when given (then ``numClasses`` is their count).
  public var classNames: [String]? = nil
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
  /// `--shape any`: every size is accepted (no `shape_mismatch` for another height or width); the
  /// number of axes and of feature groups (channels) must still be the reference sample's.
  public var anyShape: Bool = false
  /// `--shape 3,any,any`: the axes a sample must have (nil entries: any size); implies ``anyShape``.
  /// The reference sample is then the first readable one that matches.
  public var shapePattern: [Int?]? = nil
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
