import CDatasanKernels
import Dispatch

/// What the per-sample checks found in one batch.
public struct BatchVerdict: Sendable {
  /// Positions (in the batch) of samples with at least one error finding, ascending.
  public var flagged: [Int] = []
  /// The findings of each flagged sample, in the order of `flagged`.
  public var findings: [[Finding]] = []
  /// Set instead of `flagged` and `findings` when every sample of the batch has this one finding
  /// (a batch of ``BatchValues/unreadable`` values): the finding of its first sample; sample `i`'s
  /// differs only by its index and key (``finding(_:of:)``). Nothing is allocated per sample.
  public var everySample: Finding?

  /// The number of flagged samples of a batch of `count`.
  public func flaggedCount(of count: Int) -> Int { everySample == nil ? flagged.count : count }

  /// Sample `i`'s finding when ``everySample`` is set.
  public func finding(_ i: Int, of batch: SampleBatch) -> Finding? {
    guard var f = everySample else { return nil }
    f.index = batch.firstIndex + i
    f.key = batch.key(of: i)
    return f
  }

  /// Adds findings of sample checks (ascending by position): after a flagged sample's findings, or
  /// flagging the sample.
  mutating func add(_ more: [SampleFinding]) {
    guard !more.isEmpty else { return }
    var flagged: [Int] = []
    var findings: [[Finding]] = []
    flagged.reserveCapacity(self.flagged.count + more.count)
    findings.reserveCapacity(self.flagged.count + more.count)
    var k = 0
    var m = 0
    while k < self.flagged.count || m < more.count {
      let position = Swift.min(k < self.flagged.count ? self.flagged[k] : .max, m < more.count ? more[m].position : .max)
      var list: [Finding] = []
      if k < self.flagged.count && self.flagged[k] == position {
        list = self.findings[k]
        k += 1
      }
      while m < more.count && more[m].position == position {
        list.append(more[m].finding)
        m += 1
      }
      flagged.append(position)
      findings.append(list)
    }
    self.flagged = flagged
    self.findings = findings
  }

  /// Positions of the samples without findings, ascending.
  public func cleanPositions(count: Int) -> [Int] {
    if everySample != nil { return [] }
    var result: [Int] = []
    result.reserveCapacity(count - flagged.count)
    var next = 0
    for f in flagged {
      while next < f { result.append(next); next += 1 }
      next = f + 1
    }
    while next < count { result.append(next); next += 1 }
    return result
  }
}

extension FindingKind {
  public static let nanValue = FindingKind(
    "nan_value", .sample, meaning: "a NaN (or missing value) in the features or the label")
  public static let infValue = FindingKind("inf_value", .sample, meaning: "a +Inf or -Inf in the features or the label")
  public static let unreadable = FindingKind("unreadable", .sample, meaning: "the sample cannot be decoded or parsed")
  public static let shapeMismatch = FindingKind(
    "shape_mismatch", .sample, meaning: "the sample's shape differs from the dataset's")
}

/// Runs the per-sample checks of SPEC.md over batches and, for the samples that pass, the
/// dataset checks of ``CheckCatalog`` (the feature-group and label statistics the dataset findings
/// and the normalization need).
///
/// The checker is deterministic: two passes over the same input flag the same samples,
/// which is what lets `clean` re-run it in its second pass instead of storing verdicts.
/// ``check(_:collectStats:)`` checks batches in order on one thread; ``check(batches:collectStats:)``
/// checks several on all cores and merges the checks' states in batch order. ``partial`` and
/// ``merge(_:)`` carry the states between processes.
public final class SampleChecker {
  /// The per-sample kinds, in the order of SPEC.md (the built-in checks report unreadable,
  /// shape_mismatch and non-finite values; ``LabelDomain`` the labels).
  public static let kinds: [FindingKind] = [.nanValue, .infValue, .unreadable, .labelOutOfDomain, .shapeMismatch]

  public let options: CheckOptions
  public let info: DatasetInfo
  /// The per-sample checks beyond the built-in ones (``CheckCatalog/sampleChecks``).
  private let sampleChecks: [any SampleCheck]

  /// The shape every sample must have: `--shape`, else the first readable sample's.
  public private(set) var referenceShape: [Int]?
  /// How the reference shape divides into feature groups.
  public private(set) var groups: FeatureGroups?
  private var context: CheckContext
  /// The enabled dataset checks, and their states over the clean samples so far.
  private let checks: [any DatasetCheck]
  private var states: [any CheckState]
  /// Samples seen, and samples that passed.
  public private(set) var total = 0
  public private(set) var clean = 0

  /// Per-group statistics over the clean samples (empty until the reference shape is known).
  public var groupStats: [GroupStats] {
    var groups = state(FeatureStatisticsCheck.self)?.groups ?? []
    if let h = state(HistogramCheck.self) {
      for g in 0..<Swift.min(groups.count, h.histograms.count) { groups[g].histogram = h.histograms[g] }
    }
    return groups
  }
  /// Label statistics over the clean samples.
  public var labelStats: LabelStats {
    var labels = state(LabelCheck.self)?.labels ?? LabelStats()
    labels.settle()  // `histogram` is then read as stored, not folded on every access
    return labels
  }

  /// The state of check `C`, when it runs.
  public func state<C: DatasetCheck>(_: C.Type) -> C.State? {
    checks.firstIndex { $0 is C }.map { states[$0] as! C.State }
  }

  /// - Parameters:
  ///   - checks: the dataset checks to run (those of them enabled under `options`).
  ///   - sampleChecks: the per-sample checks to run after the built-in ones.
  public init(
    options: CheckOptions, info: DatasetInfo, checks: [any DatasetCheck.Type] = CheckCatalog.datasetChecks,
    sampleChecks: [any SampleCheck.Type] = CheckCatalog.sampleChecks
  ) {
    self.options = options
    self.info = info
    self.sampleChecks = sampleChecks.map { $0.init(options: options, info: info) }
    context = CheckContext(options: options, info: info, groups: nil, groupNames: [])
    self.checks = checks.filter { $0.isEnabled(options) }.map { $0.init() }
    states = []
    states = emptyStates()
    if let shape = options.expectedShape { setReference(shape) }
  }

  private func emptyStates() -> [any CheckState] { batchCheck.emptyStates() }

  private func setReference(_ shape: [Int]) {
    referenceShape = shape
    let g = FeatureGroups(sampleShape: shape, channelAxis: options.channelAxis)
    groups = g
    context.groups = g
    context.groupNames = g.names(featureName: info.featureName, given: info.groupNames)
    states = emptyStates()
  }

  /// The dataset findings of the checks' states, in the order of ``FindingKind``.
  public func datasetFindings(fixCommand: String) -> [Finding] {
    let finish = FinishContext(options: options, info: info, fixCommand: fixCommand, samples: total, cleanSamples: clean)
    return zip(checks, states).flatMap { check, state in check.finish(any: state, finish) }
  }

  /// Checks every sample of `batch`; when `collectStats`, adds the clean ones to the checks' states.
  public func check(_ batch: SampleBatch, collectStats: Bool = true) -> BatchVerdict {
    if referenceShape == nil, let first = (0..<batch.count).first(where: { isReference(batch, $0) }) {
      setReference(batch.shape(of: first))
    }
    var local = emptyStates()
    let verdict = batchCheck.check(batch, collect: collectStats, into: &local)
    merge(local)
    total += batch.count
    clean += batch.count - verdict.flaggedCount(of: batch.count)
    return verdict
  }

  /// Checks several batches at once, one per core, and merges their states in batch order.
  public func check(batches: [SampleBatch], collectStats: Bool = true) -> [BatchVerdict] {
    guard batches.count > 1 else { return batches.map { check($0, collectStats: collectStats) } }
    if referenceShape == nil {
      // The first readable sample fixes the reference shape; find it before going parallel.
      var results = [check(batches[0], collectStats: collectStats)]
      results += check(batches: Array(batches.dropFirst()), collectStats: collectStats)
      return results
    }
    let batchCheck = self.batchCheck
    let checked = parallelMap(batches.count) { k in
      var local = batchCheck.emptyStates()
      let verdict = batchCheck.check(batches[k], collect: collectStats, into: &local)
      return (verdict: verdict, states: local)
    }
    for k in 0..<batches.count {
      merge(checked[k].states)
      total += batches[k].count
      clean += batches[k].count - checked[k].verdict.flaggedCount(of: batches[k].count)
    }
    return checked.map(\.verdict)
  }

  /// The shape sample of `batch` that would fix the reference shape (the first readable one), if any.
  public func referenceCandidate(in batch: SampleBatch) -> [Int]? {
    (0..<batch.count).first { isReference(batch, $0) }.map { batch.shape(of: $0) }
  }

  /// Fixes the reference shape before the first batch (a shard: the first readable sample of the
  /// whole dataset's, as a single run fixes it).
  public func fixReference(_ shape: [Int]) {
    if referenceShape == nil { setReference(shape) }
  }

  /// Whether sample `i` of `batch` can fix the reference shape: it decoded, and it matches the
  /// `--shape` pattern when there is one (`--shape 3,any,any`).
  private func isReference(_ batch: SampleBatch, _ i: Int) -> Bool {
    guard batch.problems[i] == nil else { return false }
    return options.shapePattern.map { BatchCheck.matches(batch.shape(of: i), $0) } ?? true
  }

  private func merge(_ local: [any CheckState]) {
    for k in states.indices { states[k].merge(any: local[k]) }
  }

  // MARK: Partial state

  /// What the checker gathered, to be merged into the checker of another process (``merge(_:)``).
  public var partial: Partial {
    Partial(
      referenceShape: referenceShape, total: total, clean: clean,
      states: Dictionary(uniqueKeysWithValues: zip(checks, states).map { (type(of: $0).name, $1) }))
  }

  /// Adds what another checker of the same input and options gathered from the batches after this
  /// one's.
  public func merge(_ other: Partial) {
    if referenceShape == nil, let shape = other.referenceShape { setReference(shape) }
    for (k, check) in checks.enumerated() {
      if let state = other.states[type(of: check).name] { states[k].merge(any: state) }
    }
    total += other.total
    clean += other.clean
  }

  /// The checker's state: counts, the reference shape and each check's state by name.
  public struct Partial: Codable, Sendable {
    public var referenceShape: [Int]?
    public var total: Int
    public var clean: Int
    var states: [String: any CheckState]

    enum CodingKeys: String, CodingKey { case referenceShape = "reference_shape", total, clean, checks }

    struct Name: CodingKey {
      var stringValue: String
      var intValue: Int? { nil }
      init(stringValue: String) { self.stringValue = stringValue }
      init?(intValue: Int) { nil }
    }

    init(referenceShape: [Int]?, total: Int, clean: Int, states: [String: any CheckState]) {
      self.referenceShape = referenceShape
      self.total = total
      self.clean = clean
      self.states = states
    }

    public init(from decoder: Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      referenceShape = try c.decodeIfPresent([Int].self, forKey: .referenceShape)
      total = try c.decode(Int.self, forKey: .total)
      clean = try c.decode(Int.self, forKey: .clean)
      let named = try c.nestedContainer(keyedBy: Name.self, forKey: .checks)
      states = [:]
      for check in CheckCatalog.datasetChecks where named.contains(Name(stringValue: check.name)) {
        states[check.name] = try check.init().decodeState(named, Name(stringValue: check.name))
      }
    }

    public func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encodeIfPresent(referenceShape, forKey: .referenceShape)
      try c.encode(total, forKey: .total)
      try c.encode(clean, forKey: .clean)
      var named = c.nestedContainer(keyedBy: Name.self, forKey: .checks)
      for (name, state) in states.sorted(by: { $0.key < $1.key }) { try named.encode(state, forKey: Name(stringValue: name)) }
    }
  }

  /// Whether the checks of a run with `options` read every value of every sample, or whether the
  /// per-channel moments an LMDB reader measures in place (``BatchValues/momentsOnly``) suffice: the
  /// one decision a reader is told (``ReadOptions/valuesNeeded``) and the checker relies on.
  /// Values are needed for histograms (`--html`), for keeping flagged samples (thumbnails), for
  /// channel-last feature groups (which are not the measured planes), and to count 8-bit values at
  /// or above `--max-abs` when it is 255 or less.
  public static func needsValues(_ options: CheckOptions, keepingSamples: Bool) -> Bool {
    options.histograms || keepingSamples || options.channelAxis == .last || options.maxAbs <= 255
  }

  /// What checking one batch reads of the checker: a value, so that batches can be checked on all
  /// cores without sharing the checker.
  private var batchCheck: BatchCheck {
    BatchCheck(
      info: info, referenceShape: referenceShape, groups: groups, anyShape: options.anyShape || options.shapePattern != nil,
      shapePattern: options.shapePattern,
      channelAxis: options.channelAxis, sampleChecks: sampleChecks, checks: checks, context: context)
  }
}

/// Checks one batch against a fixed reference shape: the per-sample pass of ``SampleChecker`` and the
/// dataset checks' contribution of the batch. A Sendable value: ``SampleChecker/check(batches:collectStats:)``
/// runs it on all cores.
struct BatchCheck: Sendable {
  let info: DatasetInfo
  let referenceShape: [Int]?
  let groups: FeatureGroups?
  /// `--shape any`: samples of another size than the reference are checked with their own groups.
  let anyShape: Bool
  /// `--shape 3,any,any`: what every sample must match (nil entries: any size).
  let shapePattern: [Int?]?
  let channelAxis: ChannelAxis
  let sampleChecks: [any SampleCheck]
  let checks: [any DatasetCheck]
  let context: CheckContext

  /// Each dataset check's state before any sample.
  func emptyStates() -> [any CheckState] { checks.map { $0.anyState(context) } }

  // MARK: One batch

  /// Checks `batch` against the fixed reference shape; when `collect`, runs the dataset checks over
  /// its clean samples into `states`. Touches no shared state, so batches can be checked concurrently.
  func check(_ batch: SampleBatch, collect: Bool, into states: inout [any CheckState]) -> BatchVerdict {
    let checked = checkSamples(batch, keepMoments: collect)
    if collect {
      for k in checks.indices { checks[k].add(checked, toAny: &states[k], context) }
    }
    return checked.verdict
  }

  /// The per-sample pass: the verdict of every sample and, when `keepMoments`, the moments of the
  /// groups it measured on the way (for ``FeatureStatisticsCheck``).
  private func checkSamples(_ batch: SampleBatch, keepMoments: Bool) -> CheckedBatch {
    var verdict = BatchVerdict()
    if case .unreadable(let problem) = batch.values {
      if batch.count > 0 {
        verdict.everySample = Finding(
          kind: problem.kind, severity: .error, index: batch.firstIndex, key: batch.key(of: 0),
          field: problem.field ?? (problem.kind == .unreadable ? nil : info.featureName), detail: problem.detail)
      }
      return CheckedBatch(
        batch: batch, verdict: verdict, groups: groups, channelAxis: channelAxis, blockMode: false, moments: [],
        measured: [])
    }
    var findings: [Finding] = []
    let groupCount = groups?.count ?? 0
    var scratch = [BlockMoments](repeating: BlockMoments(), count: groupCount)
    let blockMode = groups.map { !$0.interleaved && $0.valuesPerGroup >= 16 } ?? false
    // The moments the reader measured, when they are those of the feature groups. A batch read
    // without values has them for every sample of the reference shape: the reader leaves values out
    // only for 8-bit channel-first images (their groups are the measured planes) and only when
    // `needsValues` said no check reads them (no histograms, no 8-bit value can reach --max-abs).
    let measuredBlocks = groups.flatMap { g in
      batch.measuredBlocks.flatMap { $0.describes(g, elementType: batch.elementType) ? $0 : nil }
    }
    let keep = keepMoments && (blockMode || measuredBlocks != nil) && groupCount > 0
    var moments: [BlockMoments] = keep ? Array(repeating: BlockMoments(), count: batch.count * groupCount) : []
    var measured: [Bool] = keep ? Array(repeating: false, count: batch.count) : []
    // The samples the other sample checks look at: readable, of the reference shape.
    var checkable: [Int] = []
    checkable.reserveCapacity(sampleChecks.isEmpty ? 0 : batch.count)
    for i in 0..<batch.count {
      findings.removeAll(keepingCapacity: true)
      let (readable, measuredSample) = checkSample(
        i, of: batch, blockMode: blockMode, measuredBlocks: measuredBlocks, moments: &scratch, into: &findings)
      if readable && !sampleChecks.isEmpty { checkable.append(i) }
      if !findings.isEmpty {
        verdict.flagged.append(i)
        verdict.findings.append(findings)
      } else if keep && measuredSample {
        measured[i] = true
        for g in 0..<groupCount { moments[i * groupCount + g] = scratch[g] }
      }
    }
    if !checkable.isEmpty {
      var more: [SampleFinding] = []
      for check in sampleChecks {
        let start = more.count
        check.check(batch, positions: checkable, into: &more)
        if start > 0 && start < more.count {  // by position; a sample's findings in the order of the checks
          more = more.enumerated().sorted { ($0.element.position, $0.offset) < ($1.element.position, $1.offset) }.map(\.element)
        }
      }
      verdict.add(more)
    }
    return CheckedBatch(
      batch: batch, verdict: verdict, groups: groups, channelAxis: channelAxis, blockMode: blockMode, moments: moments,
      measured: measured)
  }

  /// Runs the built-in checks of sample `i`. Returns whether the sample is readable and of the
  /// reference shape, and whether it put the sample's per-group moments into `moments` (block mode,
  /// finite values): from `measuredBlocks` when the reader measured them, else computed here.
  private func checkSample(
    _ i: Int, of batch: SampleBatch, blockMode: Bool, measuredBlocks: MeasuredBlocks?, moments: inout [BlockMoments],
    into findings: inout [Finding]
  ) -> (readable: Bool, measured: Bool) {
    let index = batch.firstIndex + i
    func add(_ kind: FindingKind, field: String?, _ detail: String) {
      findings.append(
        Finding(kind: kind, severity: .error, index: index, key: batch.key(of: i), field: field, detail: detail))
    }
    if !batch.problems.isEmpty, let problem = batch.problems[i] {
      add(problem.kind, field: problem.field ?? (problem.kind == .unreadable ? nil : info.featureName), problem.detail)
      return (false, false)
    }
    let shape = batch.shape(of: i)
    if let pattern = shapePattern, !BatchCheck.matches(shape, pattern) {
      let text = pattern.map { $0.map(String.init) ?? "any" }.joined(separator: ",")
      add(.shapeMismatch, field: info.featureName, "shape \(shape) does not match --shape \(text)")
      return (false, false)
    }
    var groups = self.groups
    var measuredBlocks = measuredBlocks
    if let reference = referenceShape, shape != reference {
      guard anyShape else {
        add(.shapeMismatch, field: info.featureName, "shape \(shape) differs from the dataset's \(reference)")
        return (false, false)
      }
      // `--shape any`: another size is fine, another number of axes or channels is not.
      let own = FeatureGroups(sampleShape: shape, channelAxis: channelAxis)
      if let problem = BatchCheck.channelProblem(shape, own, reference: reference, groups: self.groups) {
        add(.shapeMismatch, field: info.featureName, problem)
        return (false, false)
      }
      groups = own
      measuredBlocks = batch.measuredBlocks.flatMap { $0.describes(own, elementType: batch.elementType) ? $0 : nil }
    }
    var measured = false
    let range = batch.elementRange(of: i)
    if let measuredBlocks, let groups {
      // Measured by the reader (8-bit values: always finite).
      for g in 0..<groups.count { moments[g] = measuredBlocks.moments(sample: i, block: g) }
      measured = true
    } else if !batch.hasValues {
      // A sample of the reference shape in a batch read without values: its groups are the
      // measured planes (see `measuredBlocks` in check(_:collect:into:)), so this is unreachable.
      preconditionFailure("sample \(index) of shape \(shape) was read without values or their moments")
    } else if blockMode, let groups {
      var finite = true
      batch.elementType.withType { t in
        finite = BatchCheck.blockMoments(t, batch, start: range.lowerBound, groups, into: &moments)
      }
      measured = finite
      if !finite { checkNonFinite(batch, range: range, shape: shape, add: add) }
    } else if batch.elementType.isFloatingPoint {
      checkNonFinite(batch, range: range, shape: shape, add: add)
    }
    return (true, measured)
  }

  /// Under `--shape any`, why a sample of `shape` (feature groups `own`) cannot join samples of
  /// `reference`: another number of axes, or of channels (a gray image among colour ones); nil when
  /// only its size differs.
  static func channelProblem(_ shape: [Int], _ own: FeatureGroups, reference: [Int], groups: FeatureGroups?) -> String? {
    if shape.count != reference.count {
      return "shape \(shape) has \(shape.count) axes, the dataset's first sample \(reference.count) (\(reference)); "
        + "--shape any accepts every size, not another number of axes"
    }
    guard let groups, own.count != groups.count else { return nil }
    let what = shape.count >= 2 ? "channel" : "value"
    let plural = { (n: Int) in n == 1 ? "\(n) \(what)" : "\(n) \(what)s" }
    return "shape \(shape) has \(plural(own.count)), the dataset's first sample \(plural(groups.count)) (\(reference)); "
      + "--shape any accepts every size, not another number of \(what)s (to name them: --shape C,any,any)"
  }

  /// Whether `shape` matches a `--shape` pattern (nil entries: any size).
  static func matches(_ shape: [Int], _ pattern: [Int?]) -> Bool {
    shape.count == pattern.count && zip(shape, pattern).allSatisfy { $1 == nil || $0 == $1 }
  }

  private func checkNonFinite(
    _ batch: SampleBatch, range: Range<Int>, shape: [Int], add: (FindingKind, String?, String) -> Void
  ) {
    let bad: NonFiniteCount
    switch batch.elementType {
    case .float32: bad = NonFiniteCount.count(batch.storage.typed(Float.self, count: batch.elementCount), range)
    case .float64: bad = NonFiniteCount.count(batch.storage.typed(Double.self, count: batch.elementCount), range)
    default: return
    }
    if bad.nan > 0 {
      add(.nanValue, info.featureName, describe(bad.nan, "NaN", first: bad.firstNaN, shape: shape))
    }
    if bad.posInf + bad.negInf > 0 {
      let what = bad.negInf == 0 ? "+Inf" : (bad.posInf == 0 ? "-Inf" : "Inf")
      add(.infValue, info.featureName, describe(bad.posInf + bad.negInf, what, first: bad.firstInf, shape: shape))
    }
  }

  /// Per-group moments of one sample in block mode; false when some group's values are not all finite.
  private static func blockMoments<T: FeatureElement>(
    _: T.Type, _ batch: SampleBatch, start: Int, _ groups: FeatureGroups, into moments: inout [BlockMoments]
  ) -> Bool {
    let base = UnsafePointer(batch.storage.typed(T.self, count: batch.elementCount).baseAddress! + start)
    let n = groups.valuesPerGroup
    var finite = true
    for g in 0..<groups.count {
      let p = base + g * n
      let m = BlockMoments.of(p, count: n)
      moments[g] = m
      finite = finite && m.finite
    }
    return finite
  }

  /// "3 NaN values, first at [0, 4, 7]"; for named 1-D groups (CSV columns) "first in column 'f2'".
  private func describe(_ n: Int, _ what: String, first: Int, shape: [Int]) -> String {
    let plural = n == 1 ? "\(n) \(what) value" : "\(n) \(what) values"
    let missing = info.missingValuesReadAsNaN && what == "NaN" ? " (NaN or missing)" : ""
    if shape.count == 1, let names = info.groupNames, first < names.count {
      return "\(plural)\(missing), first in column '\(names[first].messageName)'"
    }
    if shape.isEmpty { return "\(plural)\(missing)" }
    var rest = first
    var position = [Int](repeating: 0, count: shape.count)
    for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
      position[axis] = rest % shape[axis]
      rest /= shape[axis]
    }
    return "\(plural)\(missing), first at \(position)"
  }
}

/// NaN and Inf counts of a range of float values, and where the first of each is.
struct NonFiniteCount {
  var nan = 0
  var posInf = 0
  var negInf = 0
  var firstNaN = -1
  var firstInf = -1

  static func count<T: BinaryFloatingPoint>(_ values: UnsafeMutableBufferPointer<T>, _ range: Range<Int>) -> NonFiniteCount {
    var result = NonFiniteCount()
    // Fast path: a sum of x * 0 is 0 for finite values and NaN as soon as one is not.
    var probe: T = 0
    for e in range { probe += values[e] * 0 }
    if probe == 0 { return result }
    for e in range {
      let x = values[e]
      if x.isNaN {
        if result.nan == 0 { result.firstNaN = e - range.lowerBound }
        result.nan += 1
      } else if x.isInfinite {
        if result.posInf + result.negInf == 0 { result.firstInf = e - range.lowerBound }
        if x > 0 { result.posInf += 1 } else { result.negInf += 1 }
      }
    }
    return result
  }
}

