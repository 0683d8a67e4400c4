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

/// Statistics of the clean samples: per feature group and of the labels. Mergeable, so that
/// batches checked on different cores combine exactly as if checked one after the other.
public struct CleanSampleStats: Sendable {
  public var groups: [GroupStats]
  public var labels = LabelStats()

  public init(groupNames: [String], histograms: Bool = false) {
    groups = groupNames.map { GroupStats(name: $0) }
    if histograms { for g in groups.indices.prefix(CheckOptions.histogramGroupLimit) { groups[g].histogram = StreamingHistogram() } }
  }

  public mutating func merge(_ other: CleanSampleStats) {
    for g in 0..<Swift.min(groups.count, other.groups.count) { groups[g].merge(other.groups[g]) }
    labels.merge(other.labels)
  }
}

/// Runs the per-sample checks of SPEC.md over batches and, for the samples that pass,
/// accumulates the feature-group and label statistics the dataset checks and the
/// normalization need.
///
/// The checker is deterministic: two passes over the same input flag the same samples,
/// which is what lets `clean` re-run it in its second pass instead of storing verdicts.
/// ``check(_:collectStats:)`` checks batches in order on one thread; ``check(batches:collectStats:)``
/// checks several on all cores and merges their statistics in batch order.
public final class SampleChecker: @unchecked Sendable {
  public let options: CheckOptions
  public let info: DatasetInfo
  private let domain: LabelDomain

  /// The shape every sample must have: `--shape`, else the first readable sample's.
  public private(set) var referenceShape: [Int]?
  /// How the reference shape divides into feature groups.
  public private(set) var groups: FeatureGroups?
  private var groupNames: [String] = []
  private var stats = CleanSampleStats(groupNames: [])
  /// Samples seen, and samples that passed.
  public private(set) var total = 0
  public private(set) var clean = 0

  /// Per-group statistics over the clean samples (empty until the reference shape is known).
  public var groupStats: [GroupStats] { stats.groups }
  /// Label statistics over the clean samples.
  public var labelStats: LabelStats {
    var labels = stats.labels
    labels.settle()  // `histogram` is then read as stored, not folded on every access
    return labels
  }

  public init(options: CheckOptions, info: DatasetInfo) {
    self.options = options
    self.info = info
    self.domain = LabelDomain(loss: options.loss, numClasses: options.numClasses, ignoreLabel: options.ignoreLabel)
    if let shape = options.expectedShape { setReference(shape) }
  }

  private func setReference(_ shape: [Int]) {
    referenceShape = shape
    let g = FeatureGroups(sampleShape: shape, channelAxis: options.channelAxis)
    groups = g
    groupNames = g.names(featureName: info.featureName, given: info.groupNames)
    stats = CleanSampleStats(groupNames: groupNames, histograms: options.histograms)
  }

  /// Checks every sample of `batch`; when `collectStats`, adds the clean ones to the statistics.
  public func check(_ batch: SampleBatch, collectStats: Bool = true) -> BatchVerdict {
    if referenceShape == nil, let first = (0..<batch.count).first(where: { batch.problems[$0] == nil }) {
      setReference(batch.shape(of: first))
    }
    var local = CleanSampleStats(groupNames: groupNames, histograms: options.histograms)
    let verdict = check(batch, collect: collectStats, into: &local)
    stats.merge(local)
    total += batch.count
    clean += batch.count - verdict.flaggedCount(of: batch.count)
    return verdict
  }

  /// Checks several batches at once, one per core, and merges their statistics in batch order.
  public func check(batches: [SampleBatch], collectStats: Bool = true) -> [BatchVerdict] {
    guard batches.count > 1 else { return batches.map { check($0, collectStats: collectStats) } }
    if referenceShape == nil {
      // The first readable sample fixes the reference shape; find it before going parallel.
      var results = [check(batches[0], collectStats: collectStats)]
      results += check(batches: Array(batches.dropFirst()), collectStats: collectStats)
      return results
    }
    var verdicts = [BatchVerdict](repeating: BatchVerdict(), count: batches.count)
    var locals = [CleanSampleStats](
      repeating: CleanSampleStats(groupNames: groupNames, histograms: options.histograms), count: batches.count)
    verdicts.withUnsafeMutableBufferPointer { v in
      locals.withUnsafeMutableBufferPointer { l in
        let (vp, lp) = (v, l)
        DispatchQueue.concurrentPerform(iterations: batches.count) { k in
          vp[k] = self.check(batches[k], collect: collectStats, into: &lp[k])
        }
      }
    }
    for k in 0..<batches.count {
      stats.merge(locals[k])
      total += batches[k].count
      clean += batches[k].count - verdicts[k].flaggedCount(of: batches[k].count)
    }
    return verdicts
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

  // MARK: One batch

  /// Checks `batch` against the fixed reference shape; adds clean samples to `stats` when `collect`.
  /// Touches no shared state, so batches can be checked concurrently.
  private func check(_ batch: SampleBatch, collect: Bool, into stats: inout CleanSampleStats) -> BatchVerdict {
    var verdict = BatchVerdict()
    if case .unreadable(let problem) = batch.values {
      if batch.count > 0 {
        verdict.everySample = Finding(
          kind: problem.kind, severity: .error, index: batch.firstIndex, key: batch.key(of: 0),
          field: problem.kind == .unreadable ? nil : info.featureName, detail: problem.detail)
      }
      return verdict
    }
    var findings: [Finding] = []
    var scratch = [BlockMoments](repeating: BlockMoments(), count: groups?.count ?? 0)
    var scalar = [ShiftedMoments](repeating: ShiftedMoments(), count: groups?.count ?? 0)
    let blockMode = groups.map { !$0.interleaved && $0.valuesPerGroup >= 16 } ?? false
    // The moments the reader measured, when they are those of the feature groups. A batch read
    // without values has them for every sample of the reference shape: the reader leaves values out
    // only for 8-bit channel-first images (their groups are the measured planes) and only when
    // `needsValues` said no check reads them (no histograms, no 8-bit value can reach --max-abs).
    let measuredBlocks = groups.flatMap { g in
      batch.measuredBlocks.flatMap { $0.describes(g, elementType: batch.elementType) ? $0 : nil }
    }
    let histograms = collect && options.histograms
    precondition(batch.hasValues || !histograms, "histograms need values (needsValues)")
    // Interleaved float values of a uniform batch (CSV rows, channel-last images): runs of clean
    // samples go to the columnar kernel in one call instead of value by value.
    let columnar =
      collect && !blockMode && batch.offsets == nil && (batch.elementType == .float32 || batch.elementType == .float64)
      && groups.map { ($0.interleaved || $0.valuesPerGroup == 1) && $0.count * $0.valuesPerGroup == batch.shape.reduce(1, *) }
        == true
    var pending: Range<Int>? = nil
    func flushPending() {
      guard let run = pending, let groups else { return }
      pending = nil
      batch.elementType.withType { t in SampleChecker.addRun(t, batch, run, groups, options.maxAbs, &scalar) }
    }
    for i in 0..<batch.count {
      findings.removeAll(keepingCapacity: true)
      let measured = checkSample(
        i, of: batch, blockMode: blockMode, measuredBlocks: measuredBlocks, moments: &scratch, into: &findings)
      if !findings.isEmpty {
        verdict.flagged.append(i)
        verdict.findings.append(findings)
        continue
      }
      guard collect else { continue }
      if let labels = batch.labels { stats.labels.add(labels[i]) }
      guard let groups, !stats.groups.isEmpty else { continue }
      if histograms {
        let start = batch.elementRange(of: i).lowerBound
        batch.elementType.withType { t in SampleChecker.addHistograms(t, batch, start: start, groups, into: &stats) }
      }
      if measured {
        for g in 0..<groups.count { stats.groups[g].values.merge(scratch[g].stats) }
        if needsExtremeCount(scratch) {
          // Values are left out only when no 8-bit value can reach --max-abs (`needsValues`).
          precondition(batch.hasValues, "a reader left out values at or above --max-abs")
          let start = batch.elementRange(of: i).lowerBound
          batch.elementType.withType { t in
            countExtremes(t, batch, start: start, groups: groups, into: &stats)
          }
        }
      } else if columnar {
        if let run = pending, run.upperBound == i {
          pending = run.lowerBound..<(i + 1)
        } else {
          flushPending()
          pending = i..<(i + 1)
        }
      } else {
        let start = batch.elementRange(of: i).lowerBound
        batch.elementType.withType { t in
          SampleChecker.accumulate(t, batch, start: start, groups, options.maxAbs, &scalar)
        }
      }
    }
    flushPending()
    if collect, let groups, !blockMode {
      for g in 0..<groups.count where g < stats.groups.count {
        stats.groups[g].merge(scalar[g].groupStats(name: stats.groups[g].name))
      }
    }
    return verdict
  }

  /// Adds the clean samples `run` (consecutive, of an interleaved uniform batch) to `acc`.
  private static func addRun<T: FeatureElement>(
    _: T.Type, _ batch: SampleBatch, _ run: Range<Int>, _ groups: FeatureGroups, _ maxAbs: Double,
    _ acc: inout [ShiftedMoments]
  ) {
    let perSample = groups.count * groups.valuesPerGroup
    let base = batch.storage.typed(T.self, count: batch.elementCount).baseAddress! + run.lowerBound * perSample
    let done = ShiftedMoments.addRows(UnsafePointer(base), rows: run.count * groups.valuesPerGroup, maxAbs: maxAbs, to: &acc)
    precondition(done, "the columnar path takes float batches only")
  }

  /// Adds the values of one clean sample to the histograms of its groups.
  private static func addHistograms<T: FeatureElement>(
    _: T.Type, _ batch: SampleBatch, start: Int, _ groups: FeatureGroups, into stats: inout CleanSampleStats
  ) {
    let base = UnsafePointer(batch.storage.typed(T.self, count: batch.elementCount).baseAddress! + start)
    let n = groups.valuesPerGroup
    for g in 0..<Swift.min(groups.count, stats.groups.count) {
      if groups.interleaved {
        stats.groups[g].histogram?.add(base + g, count: n, stride: groups.count)
      } else {
        stats.groups[g].histogram?.add(base + g * n, count: n)
      }
    }
  }

  private func needsExtremeCount(_ moments: [BlockMoments]) -> Bool {
    let limit = options.maxAbs
    return moments.contains { $0.count > 0 && ($0.max >= limit || $0.min <= -limit) }
  }

  private func countExtremes<T: FeatureElement>(
    _: T.Type, _ batch: SampleBatch, start: Int, groups: FeatureGroups, into stats: inout CleanSampleStats
  ) {
    let values = batch.storage.typed(T.self, count: batch.elementCount)
    for g in 0..<groups.count {
      let base = values.baseAddress! + start + g * groups.valuesPerGroup
      let (n, largest) = extremeValues(UnsafePointer(base), count: groups.valuesPerGroup, limit: options.maxAbs)
      stats.groups[g].extremeCount += n
      stats.groups[g].extremeMax = Swift.max(stats.groups[g].extremeMax, largest)
    }
  }

  /// Runs the checks of sample `i`. Returns true when it put the sample's per-group moments into
  /// `moments` (block mode, readable sample of the reference shape): from `measuredBlocks` when the
  /// reader measured them, else computed here.
  private func checkSample(
    _ i: Int, of batch: SampleBatch, blockMode: Bool, measuredBlocks: MeasuredBlocks?, moments: inout [BlockMoments],
    into findings: inout [Finding]
  ) -> Bool {
    let index = batch.firstIndex + i
    func add(_ kind: FindingKind, field: String?, _ detail: String) {
      findings.append(
        Finding(kind: kind, severity: .error, index: index, key: batch.key(of: i), field: field, detail: detail))
    }
    if !batch.problems.isEmpty, let problem = batch.problems[i] {
      add(problem.kind, field: problem.kind == .unreadable ? nil : info.featureName, problem.detail)
      return false
    }
    let shape = batch.shape(of: i)
    if let reference = referenceShape, shape != reference {
      add(.shapeMismatch, field: info.featureName, "shape \(shape) differs from the dataset's \(reference)")
      return false
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
        finite = SampleChecker.blockMoments(t, batch, start: range.lowerBound, groups, into: &moments)
      }
      measured = finite
      if !finite { checkNonFinite(batch, range: range, shape: shape, add: add) }
    } else if batch.elementType.isFloatingPoint {
      checkNonFinite(batch, range: range, shape: shape, add: add)
    }
    if let labels = batch.labels {
      let label = labels[i]
      let field = info.labelName ?? "label"
      if label.isNaN {
        add(.nanValue, field: field, "label is NaN or missing")
      } else if label.isInfinite {
        add(.infValue, field: field, "label is \(label > 0 ? "+Inf" : "-Inf")")
      } else if let why = domain.violation(label) {
        add(.labelOutOfDomain, field: field, why)
      }
    }
    return measured
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

  // MARK: Statistics of layouts without long contiguous groups (CSV columns, channel-last)

  private static func accumulate<T: FeatureElement>(
    _: T.Type, _ batch: SampleBatch, start: Int, _ groups: FeatureGroups, _ maxAbs: Double,
    _ acc: inout [ShiftedMoments]
  ) {
    let values = batch.storage.typed(T.self, count: batch.elementCount)
    let perGroup = groups.valuesPerGroup
    if groups.interleaved {
      var e = start
      for _ in 0..<perGroup {
        for g in 0..<groups.count {
          acc[g].add(values[e], maxAbs: maxAbs)
          e += 1
        }
      }
    } else {
      for g in 0..<groups.count {
        let base = start + g * perGroup
        acc[g].add(UnsafeBufferPointer(rebasing: values[base..<(base + perGroup)]), maxAbs: maxAbs)
      }
    }
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

