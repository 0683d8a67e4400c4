/// What a dataset check knows about the dataset before its first batch.
public struct CheckContext: Sendable {
  public var options: CheckOptions
  public var info: DatasetInfo
  /// How the reference shape divides into feature groups (nil until a readable sample fixed it).
  public var groups: FeatureGroups?
  /// The feature groups' names, one per group.
  public var groupNames: [String]

  public init(options: CheckOptions, info: DatasetInfo, groups: FeatureGroups?, groupNames: [String]) {
    self.options = options
    self.info = info
    self.groups = groups
    self.groupNames = groupNames
  }
}

/// A per-sample check: findings about one sample, which send it to the quarantine. Runs over each
/// batch after the checks every sample gets (unreadable, shape_mismatch, NaN and Inf values), on the
/// samples that are readable and of the reference shape. Its kinds are declared beside it and listed
/// in ``kinds``; ``CheckCatalog`` lists the checks.
public protocol SampleCheck: Sendable {
  /// The kinds ``check(_:positions:into:)`` reports.
  static var kinds: [FindingKind] { get }
  init(options: CheckOptions, info: DatasetInfo)
  /// Appends the findings of the samples at `positions` of `batch` (ascending) to `findings`, in
  /// ascending order of position.
  func check(_ batch: SampleBatch, positions: [Int], into findings: inout [SampleFinding])
}

/// A finding of the sample at `position` of a batch.
public struct SampleFinding: Sendable {
  public var position: Int
  public var finding: Finding

  /// A finding of severity error about sample `position` of `batch` (its stream index and key).
  public init(_ position: Int, of batch: SampleBatch, kind: FindingKind, field: String?, detail: String) {
    self.position = position
    finding = Finding(
      kind: kind, severity: .error, index: batch.firstIndex + position, key: batch.key(of: position), field: field,
      detail: detail)
  }
}

/// One batch after the per-sample checks, as the dataset checks see it: which samples are clean,
/// and what the per-sample pass already measured of them.
public struct CheckedBatch {
  public let batch: SampleBatch
  public let verdict: BatchVerdict
  /// The feature groups of the reference shape (nil before one is known).
  public let groups: FeatureGroups?
  /// The channel axis the groups are taken along (for samples of another size, ``groups(of:)``).
  let channelAxis: ChannelAxis
  /// Whether the groups are long contiguous blocks, whose moments the per-sample pass measures.
  let blockMode: Bool
  /// Per sample (``measured``) the moments of its groups, `groups.count` per sample, when the
  /// per-sample pass measured them (block mode, finite values); empty otherwise.
  let moments: [BlockMoments]
  let measured: [Bool]

  /// The feature groups of sample `i`: those of the reference shape, or under `--shape any` those of
  /// the sample's own size (the same number of groups, another number of values in each).
  @inline(__always) public func groups(of i: Int) -> FeatureGroups? {
    guard groups != nil else { return nil }
    guard let shapes = batch.shapes else { return uniformGroups }
    return FeatureGroups(sampleShape: shapes[i], channelAxis: channelAxis)
  }

  /// The feature groups of every sample of a batch without per-sample shapes.
  private let uniformGroups: FeatureGroups?

  init(
    batch: SampleBatch, verdict: BatchVerdict, groups: FeatureGroups?, channelAxis: ChannelAxis, blockMode: Bool,
    moments: [BlockMoments], measured: [Bool]
  ) {
    self.batch = batch
    self.verdict = verdict
    self.groups = groups
    self.channelAxis = channelAxis
    self.blockMode = blockMode
    self.moments = moments
    self.measured = measured
    uniformGroups =
      groups == nil || batch.shapes != nil ? nil : FeatureGroups(sampleShape: batch.shape, channelAxis: channelAxis)
  }

  /// Calls `body` with the position of each clean sample, in order.
  @inline(__always) public func forEachClean(_ body: (Int) -> Void) {
    if verdict.everySample != nil { return }
    var next = 0
    for f in verdict.flagged {
      while next < f { body(next); next += 1 }
      next = f + 1
    }
    while next < batch.count { body(next); next += 1 }
  }
}

/// The partial state of a check: what it has gathered from some batches. Merging is exact (counts
/// and histograms add, moments merge with Chan's formulas), so that batches checked on other
/// cores, or other processes (whose states travel encoded), combine as if checked in one pass.
public protocol CheckState: Codable, Sendable {
  /// Adds what `other` gathered from the batches after this state's.
  mutating func merge(_ other: Self)
}

/// A dataset check: gathers a ``CheckState`` from the clean samples of each batch, and turns the
/// merged state into dataset findings. The kinds it reports are declared beside it
/// (`extension FindingKind`) and listed in ``kinds``; ``CheckCatalog`` lists the checks.
public protocol DatasetCheck: Sendable {
  associatedtype State: CheckState
  /// The kinds ``finish(_:_:)`` reports, in the order it reports them.
  static var kinds: [FindingKind] { get }
  /// A stable name for the check's state in an encoded ``SampleChecker/Partial``.
  static var name: String { get }
  /// Whether the check runs under these options.
  static func isEnabled(_ options: CheckOptions) -> Bool
  init()
  /// The state before any batch.
  func makeState(_ context: CheckContext) -> State
  /// Adds the clean samples of `batch` to `state`. Runs concurrently for different batches.
  func add(_ batch: CheckedBatch, to state: inout State, _ context: CheckContext)
  /// The dataset findings of the state of every batch, with severity ``FindingKind/defaultSeverity``
  /// (or error under `--strict`).
  func finish(_ state: State, _ context: FinishContext) -> [Finding]
}

extension DatasetCheck {
  public static func isEnabled(_ options: CheckOptions) -> Bool { true }
}

/// What a check's ``DatasetCheck/finish(_:_:)`` is told.
public struct FinishContext: Sendable {
  public var options: CheckOptions
  public var info: DatasetInfo
  /// The command that fixes scale problems (`datasan clean INPUT -o OUTPUT`), quoted in details.
  public var fixCommand: String
  /// The samples checked and those that passed (what the statistics are over), when known.
  public var samples: Int? = nil
  public var cleanSamples: Int? = nil

  public init(options: CheckOptions, info: DatasetInfo, fixCommand: String, samples: Int? = nil, cleanSamples: Int? = nil) {
    self.options = options
    self.info = info
    self.fixCommand = fixCommand
    self.samples = samples
    self.cleanSamples = cleanSamples
  }

  /// The severity of a dataset finding: warning, error under `--strict`.
  public var severity: Severity { options.strict ? .error : .warning }
}

/// The checks of datasan and the kinds they report, in the order of SPEC.md. A new check is one
/// file (its kinds, its type) and its line here.
public enum CheckCatalog {
  /// The per-sample checks beyond those every sample gets (``SampleChecker``), in the order their
  /// findings are listed for a sample.
  public static let sampleChecks: [any SampleCheck.Type] = [
    LabelDomain.self
  ]

  /// The dataset checks, in the order their findings are reported.
  public static let datasetChecks: [any DatasetCheck.Type] = [
    FeatureStatisticsCheck.self,
    HistogramCheck.self,
    LabelCheck.self,
    ExtensionMismatchCheck.self,
    CMYKImageCheck.self,
    SizeDistributionCheck.self,
    EmptyDatasetCheck.self,
  ]

  /// Every kind, once: the per-sample kinds (in SPEC.md's order, ``SampleChecker/kinds``, then those
  /// of other sample checks), the dataset checks' kinds, with the readers' layout kinds
  /// (``ReaderFindings``) after those of ``ReaderFindings/after`` as SPEC.md lists them.
  public static let kinds: [FindingKind] = {
    var seen = Set<FindingKind>()
    let dataset = datasetChecks.flatMap { check in
      check.kinds + (ObjectIdentifier(check) == ObjectIdentifier(ReaderFindings.after) ? ReaderFindings.kinds : [])
    }
    let all =
      SampleChecker.kinds + sampleChecks.flatMap { $0.kinds } + ReaderFindings.sampleKinds + dataset + ReaderFindings.kinds
    return all.filter { seen.insert($0).inserted }
  }()

  static let kindsByName: [String: FindingKind] = Dictionary(uniqueKeysWithValues: kinds.map { ($0.rawValue, $0) })
  static let order: [String: Int] = Dictionary(uniqueKeysWithValues: kinds.enumerated().map { ($1.rawValue, $0) })
}

/// The dataset findings a reader reports about the input's layout (``SampleReader/layoutFindings``).
public enum ReaderFindings {
  public static let kinds: [FindingKind] = [.skippedFiles, .hiddenClassFolder, .mixedColumn]
  /// The sample findings a reader reports as a sample's ``ReaderProblem`` beyond `unreadable` and
  /// `shape_mismatch` (declared beside the rule that gives them).
  public static let sampleKinds: [FindingKind] = [.unknownClass]
  /// The dataset check whose kinds these follow in SPEC.md's order.
  static let after: any DatasetCheck.Type = LabelCheck.self
}

extension FindingKind {
  public static let skippedFiles = FindingKind(
    "skipped_files", .dataset,
    meaning: { info in "files that are not \(info.sampleFileType ?? "samples") were skipped" })
  public static let hiddenClassFolder = FindingKind(
    "hidden_class_folder", .dataset, meaning: "a hidden folder would become a class in torchvision's ImageFolder")
}

/// The state of a check that names samples: how many, and the first few (stream order) with a word
/// about each. Merging keeps the first ``limit`` of both, in order.
public struct NamedSamples: CheckState, Equatable {
  public struct Sample: Codable, Sendable, Equatable {
    public var index: Int
    public var key: String
    public var detail: String
  }

  /// How many samples a finding names.
  public static let limit = 25
  public var count = 0
  public var samples: [Sample] = []

  public init() {}

  public mutating func add(index: Int, key: String, detail: String) {
    count += 1
    if samples.count < Self.limit { samples.append(Sample(index: index, key: key, detail: detail)) }
  }

  public mutating func merge(_ other: NamedSamples) {
    count += other.count
    samples = Array((samples + other.samples).sorted { $0.index < $1.index }.prefix(Self.limit))
  }

  /// "a.png (JPEG), b.jpg (PNG)", then ", ... (N more)" past the limit.
  public var list: String {
    samples.map { "\($0.key) (\($0.detail))" }.joined(separator: ", ")
      + (count > samples.count ? ", ... (\(count - samples.count) more)" : "")
  }
}

// MARK: Type erasure: the checker holds checks and states of different types.

extension CheckState {
  /// Merges `other`, a state of the same type.
  mutating func merge(any other: any CheckState) { merge(other as! Self) }
}

extension DatasetCheck {
  func anyState(_ context: CheckContext) -> any CheckState { makeState(context) }

  func add(_ batch: CheckedBatch, toAny state: inout any CheckState, _ context: CheckContext) {
    var typed = state as! State
    state = EmptyState()  // so that `typed` is the only reference to the state's storage
    add(batch, to: &typed, context)
    state = typed
  }

  func finish(any state: any CheckState, _ context: FinishContext) -> [Finding] { finish(state as! State, context) }

  func decodeState<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, _ key: Key) throws -> any CheckState {
    try container.decode(State.self, forKey: key)
  }
}

/// A placeholder while a state is being updated.
private struct EmptyState: CheckState {
  mutating func merge(_ other: EmptyState) {}
}
