/// What the per-sample checks found in one batch.
public struct BatchVerdict: Sendable {
  /// Positions (in the batch) of samples with at least one error finding, ascending.
  public var flagged: [Int] = []
  /// The findings of each flagged sample, in the order of `flagged`.
  public var findings: [[Finding]] = []

  /// Positions of the samples without findings, ascending.
  public func cleanPositions(count: Int) -> [Int] {
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

/// Runs the per-sample checks of SPEC.md over batches and, for the samples that pass,
/// accumulates the feature-group and label statistics the dataset checks and the
/// normalization need.
///
/// The checker is deterministic: two passes over the same input flag the same samples,
/// which is what lets `clean` re-run it in its second pass instead of storing verdicts.
public final class SampleChecker {
  public let options: CheckOptions
  public let info: DatasetInfo
  private let domain: LabelDomain

  /// The shape every sample must have: `--shape`, else the first readable sample's.
  public private(set) var referenceShape: [Int]?
  /// How the reference shape divides into feature groups.
  public private(set) var groups: FeatureGroups?
  /// Per-group statistics over the clean samples (empty until the reference shape is known).
  public private(set) var groupStats: [GroupStats] = []
  /// Label statistics over the clean samples.
  public private(set) var labelStats = LabelStats()
  /// Samples seen, and samples that passed.
  public private(set) var total = 0
  public private(set) var clean = 0

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
    let names = g.names(featureName: info.featureName, given: info.groupNames)
    groupStats = names.map { GroupStats(name: $0) }
  }

  /// Checks every sample of `batch`; when `collectStats`, adds the clean ones to the statistics.
  public func check(_ batch: SampleBatch, collectStats: Bool = true) -> BatchVerdict {
    var verdict = BatchVerdict()
    var cleanMask = [Bool](repeating: false, count: batch.count)
    var sampleFindings: [Finding] = []
    for i in 0..<batch.count {
      sampleFindings.removeAll(keepingCapacity: true)
      checkSample(i, of: batch, into: &sampleFindings)
      if sampleFindings.isEmpty {
        cleanMask[i] = true
      } else {
        verdict.flagged.append(i)
        verdict.findings.append(sampleFindings)
      }
    }
    total += batch.count
    clean += batch.count - verdict.flagged.count
    if collectStats { accumulate(batch, cleanMask: cleanMask) }
    return verdict
  }

  private func checkSample(_ i: Int, of batch: SampleBatch, into findings: inout [Finding]) {
    let index = batch.firstIndex + i
    func add(_ kind: FindingKind, field: String?, _ detail: String) {
      findings.append(
        Finding(kind: kind, severity: .error, index: index, key: batch.key(of: i), field: field, detail: detail))
    }
    if let problem = batch.problems[i] {
      add(problem.kind, field: problem.kind == .unreadable ? nil : info.featureName, problem.detail)
      if problem.kind == .unreadable { return }
    }
    let shape = batch.shape(of: i)
    if let reference = referenceShape {
      if shape != reference && batch.problems[i] == nil {
        add(.shapeMismatch, field: info.featureName, "shape \(shape) differs from the dataset's \(reference)")
        return
      }
    } else {
      setReference(shape)
    }
    if batch.elementType.isFloatingPoint {
      let range = batch.elementRange(of: i)
      let bad: NonFiniteCount
      if batch.elementType == .float32 {
        bad = NonFiniteCount.count(batch.storage.typed(Float.self, count: batch.elementCount), range)
      } else {
        bad = NonFiniteCount.count(batch.storage.typed(Double.self, count: batch.elementCount), range)
      }
      if bad.nan > 0 {
        add(.nanValue, field: info.featureName, describe(bad.nan, "NaN", first: bad.firstNaN, shape: shape))
      }
      if bad.posInf + bad.negInf > 0 {
        let what = bad.negInf == 0 ? "+Inf" : (bad.posInf == 0 ? "-Inf" : "Inf")
        add(.infValue, field: info.featureName, describe(bad.posInf + bad.negInf, what, first: bad.firstInf, shape: shape))
      }
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
  }

  /// "3 NaN values, first at [0, 4, 7]"; for named 1-D groups (CSV columns) "first in column 'f2'".
  private func describe(_ n: Int, _ what: String, first: Int, shape: [Int]) -> String {
    let plural = n == 1 ? "\(n) \(what) value" : "\(n) \(what) values"
    let missing = info.format == .csv && what == "NaN" ? " (NaN or missing)" : ""
    if shape.count == 1, let names = info.groupNames, first < names.count {
      return "\(plural)\(missing), first in column '\(names[first])'"
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

  // MARK: Statistics

  private func accumulate(_ batch: SampleBatch, cleanMask: [Bool]) {
    guard let groups, !groupStats.isEmpty || groups.count == 0 else { return }
    var acc = [ShiftedMoments](repeating: ShiftedMoments(), count: groups.count)
    let maxAbs = options.maxAbs
    batch.elementType.withType { t in
      SampleChecker.accumulate(t, batch, cleanMask, groups, maxAbs, &acc)
    }
    for g in 0..<groups.count {
      groupStats[g].merge(acc[g].groupStats(name: groupStats[g].name))
    }
    if let labels = batch.labels {
      var batchLabels = LabelStats()
      for i in 0..<batch.count where cleanMask[i] { batchLabels.add(labels[i]) }
      labelStats.merge(batchLabels)
    }
  }

  private static func accumulate<T: FeatureElement>(
    _: T.Type, _ batch: SampleBatch, _ cleanMask: [Bool], _ groups: FeatureGroups, _ maxAbs: Double,
    _ acc: inout [ShiftedMoments]
  ) {
    let values = batch.storage.typed(T.self, count: batch.elementCount)
    let perGroup = groups.valuesPerGroup
    for i in 0..<batch.count where cleanMask[i] {
      let start = batch.elementRange(of: i).lowerBound
      if groups.interleaved {
        var e = start
        for _ in 0..<perGroup {
          for g in 0..<groups.count {
            acc[g].add(values[e].doubleValue, maxAbs: maxAbs)
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

/// Moments of one group in one batch around a shift (the first value), so that a
/// single pass gives an accurate mean and M2: mean = K + S1/n, M2 = S2 - S1²/n.
struct ShiftedMoments {
  var n = 0
  var shift = 0.0
  var s1 = 0.0
  var s2 = 0.0
  var min = Double.infinity
  var max = -Double.infinity
  var extremeCount = 0
  var extremeMax = 0.0

  @inline(__always) mutating func add(_ x: Double, maxAbs: Double) {
    if n == 0 { shift = x }
    n += 1
    let d = x - shift
    s1 += d
    s2 += d * d
    if x < min { min = x }
    if x > max { max = x }
    if Swift.abs(x) >= maxAbs {
      extremeCount += 1
      extremeMax = Swift.max(extremeMax, Swift.abs(x))
    }
  }

  @inline(__always) mutating func add<T: FeatureElement>(_ values: UnsafeBufferPointer<T>, maxAbs: Double) {
    guard !values.isEmpty else { return }
    if n == 0 { shift = values[0].doubleValue }
    let k = shift
    var a1 = 0.0, a2 = 0.0
    var lo = min, hi = max
    var extreme = 0
    for v in values {
      let x = v.doubleValue
      let d = x - k
      a1 += d
      a2 += d * d
      lo = x < lo ? x : lo
      hi = x > hi ? x : hi
      extreme &+= Swift.abs(x) >= maxAbs ? 1 : 0
    }
    n += values.count
    s1 += a1
    s2 += a2
    min = lo
    max = hi
    if extreme > 0 {
      extremeCount += extreme
      for v in values where Swift.abs(v.doubleValue) >= maxAbs {
        extremeMax = Swift.max(extremeMax, Swift.abs(v.doubleValue))
      }
    }
  }

  func groupStats(name: String) -> GroupStats {
    var g = GroupStats(name: name)
    if n > 0 {
      let mean = shift + s1 / Double(n)
      g.values = RunningStats(count: n, min: min, max: max, mean: mean, m2: s2 - s1 * s1 / Double(n))
    }
    g.extremeCount = extremeCount
    g.extremeMax = extremeMax
    return g
  }
}
