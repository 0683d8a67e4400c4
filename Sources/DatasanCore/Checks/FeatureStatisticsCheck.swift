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

extension FindingKind {
  public static let unnormalizedScale = FindingKind(
    "unnormalized_scale", .dataset, meaning: "values far outside [-1, 1]: normalize before training")
  public static let scaleImbalance = FindingKind(
    "scale_imbalance", .dataset, meaning: "feature scales differ by orders of magnitude")
  public static let constantFeature = FindingKind(
    "constant_feature", .dataset, meaning: "a feature group with zero variance")
  public static let extremeValue = FindingKind("extreme_value", .dataset, meaning: "values of huge magnitude")
}

/// Count, min, max, mean and std of each feature group over the clean samples (the normalization's
/// parameters and the JSON report's `stats.groups`), and the scale findings they show.
public struct FeatureStatisticsCheck: DatasetCheck {
  public static let kinds: [FindingKind] = [.unnormalizedScale, .scaleImbalance, .constantFeature, .extremeValue]
  public static let name = "feature_statistics"

  /// The statistics of each feature group (their `histogram` stays nil: ``HistogramCheck`` has those).
  public struct State: CheckState, Equatable {
    public var groups: [GroupStats]

    public init(groups: [GroupStats]) { self.groups = groups }

    public mutating func merge(_ other: State) {
      for g in 0..<Swift.min(groups.count, other.groups.count) { groups[g].merge(other.groups[g]) }
    }
  }

  public init() {}

  public func makeState(_ context: CheckContext) -> State {
    State(groups: context.groupNames.map { GroupStats(name: $0) })
  }

  /// Four ways to the moments of the clean samples, the fastest the batch allows: the per-sample
  /// pass's block moments (long contiguous groups), the columnar kernel over runs of clean samples
  /// (interleaved float values: CSV rows, channel-last images), or value by value.
  public func add(_ checked: CheckedBatch, to state: inout State, _ context: CheckContext) {
    guard let groups = checked.groups, !state.groups.isEmpty else { return }
    let batch = checked.batch
    let maxAbs = context.options.maxAbs
    var scalar = [ShiftedMoments](repeating: ShiftedMoments(), count: checked.blockMode ? 0 : groups.count)
    let columnar =
      !checked.blockMode && batch.offsets == nil && (batch.elementType == .float32 || batch.elementType == .float64)
      && (groups.interleaved || groups.valuesPerGroup == 1) && groups.count * groups.valuesPerGroup == batch.shape.reduce(1, *)
      && batch.shapes == nil && checked.groups(of: 0) == groups  // not a batch of another size (--shape any)
    var pending: Range<Int>? = nil
    func flushPending() {
      guard let run = pending else { return }
      pending = nil
      batch.elementType.withType { t in Self.addRun(t, batch, run, groups, maxAbs, &scalar) }
    }
    checked.forEachClean { i in
      if !checked.measured.isEmpty && checked.measured[i] {
        let moments = checked.moments[(i * groups.count)..<((i + 1) * groups.count)]
        for g in 0..<groups.count { state.groups[g].values.merge(moments[moments.startIndex + g].stats) }
        if moments.contains(where: { $0.count > 0 && ($0.max >= maxAbs || $0.min <= -maxAbs) }) {
          // Values are left out only when no 8-bit value can reach --max-abs (`needsValues`).
          precondition(batch.hasValues, "a reader left out values at or above --max-abs")
          let start = batch.elementRange(of: i).lowerBound
          let own = checked.groups(of: i)!
          batch.elementType.withType { t in Self.countExtremes(t, batch, start: start, own, maxAbs, &state) }
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
        let own = checked.groups(of: i)!  // under --shape any, the sample's own size
        batch.elementType.withType { t in Self.accumulate(t, batch, start: start, own, maxAbs, &scalar) }
      }
    }
    flushPending()
    for g in 0..<scalar.count where g < state.groups.count {
      state.groups[g].merge(scalar[g].groupStats(name: state.groups[g].name))
    }
  }

  public func finish(_ state: State, _ context: FinishContext) -> [Finding] {
    Self.findings(groups: state.groups, options: context.options, fixCommand: context.fixCommand, cleanSamples: context.cleanSamples)
  }

  /// The scale findings of these statistics, gathered over `cleanSamples` samples (named in the details).
  static func findings(groups: [GroupStats], options: CheckOptions, fixCommand: String, cleanSamples: Int? = nil) -> [Finding] {
    let over = Over.cleanSamples(cleanSamples)
    let severity: Severity = options.strict ? .error : .warning
    let num = DatasetChecks.num
    var out: [Finding] = []
    func add(_ kind: FindingKind, field: String?, _ detail: String) {
      out.append(Finding(kind: kind, severity: severity, field: field, detail: detail))
    }
    let measured = groups.filter { $0.values.count > 0 }

    for g in measured where g.values.maxMagnitude > options.scaleLimit {
      add(
        .unnormalizedScale, field: g.name,
        "\(g.name.messageName) has values in [\(num(g.values.min)), \(num(g.values.max))] \(over), largest magnitude "
          + "\(num(g.values.maxMagnitude)) > --scale-limit \(num(options.scaleLimit)); fix: \(fixCommand) --normalize minmax")
    }

    let varying = measured.filter { !$0.values.isConstant && $0.values.std > 0 }
    if varying.count >= 2 {
      let widest = varying.max { $0.values.std < $1.values.std }!
      let narrowest = varying.min { $0.values.std < $1.values.std }!
      let ratio = widest.values.std / narrowest.values.std
      if ratio > options.scaleImbalanceRatio {
        add(
          .scaleImbalance, field: nil,
          "std of \(widest.name.messageName) (\(num(widest.values.std))) is \(ratio.isFinite ? num(ratio) : "over 1e308")x that of \(narrowest.name.messageName) "
            + "(\(num(narrowest.values.std))) \(over); fix: \(fixCommand) --normalize zscore")
      }
    }

    for g in measured where g.values.isConstant {
      add(
        .constantFeature, field: g.name,
        "\(g.name.messageName) is constant (\(num(g.values.min))) \(over) (\(g.values.count.withSeparators) values): z-score would divide by zero; "
          + "datasan clean maps it to 0")
    }

    for g in measured where g.extremeCount > 0 {
      add(
        .extremeValue, field: g.name,
        "\(g.name.messageName) has \(g.extremeCount) value\(g.extremeCount == 1 ? "" : "s") with magnitude >= --max-abs "
          + "\(num(options.maxAbs)) (largest \(num(g.extremeMax))) \(over)")
    }
    return out
  }

  // MARK: The engines

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

  /// Counts the values at or above --max-abs of one clean sample measured in block mode.
  private static func countExtremes<T: FeatureElement>(
    _: T.Type, _ batch: SampleBatch, start: Int, _ groups: FeatureGroups, _ maxAbs: Double, _ state: inout State
  ) {
    let values = batch.storage.typed(T.self, count: batch.elementCount)
    for g in 0..<groups.count {
      let base = values.baseAddress! + start + g * groups.valuesPerGroup
      let (n, largest) = extremeValues(UnsafePointer(base), count: groups.valuesPerGroup, limit: maxAbs)
      state.groups[g].extremeCount += n
      state.groups[g].extremeMax = Swift.max(state.groups[g].extremeMax, largest)
    }
  }

  /// Value by value: layouts without long contiguous groups and without the columnar kernel.
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
