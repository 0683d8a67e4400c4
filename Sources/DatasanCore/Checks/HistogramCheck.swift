/// The distribution of the values of the first ``CheckOptions/histogramGroupLimit`` feature groups
/// over the clean samples, for the HTML report (``GroupStats/histogram``). Reports no finding; runs
/// only when ``CheckOptions/histograms`` asks for it (a pass over the values).
public struct HistogramCheck: DatasetCheck {
  public static let kinds: [FindingKind] = []
  public static let name = "histograms"
  public static func isEnabled(_ options: CheckOptions) -> Bool { options.histograms }

  /// One histogram per feature group, up to the limit.
  public struct State: CheckState, Equatable {
    public var histograms: [StreamingHistogram]

    public mutating func merge(_ other: State) {
      for g in 0..<Swift.min(histograms.count, other.histograms.count) { histograms[g].merge(other.histograms[g]) }
    }
  }

  public init() {}

  public func makeState(_ context: CheckContext) -> State {
    State(histograms: Array(repeating: StreamingHistogram(), count: Swift.min(context.groupNames.count, CheckOptions.histogramGroupLimit)))
  }

  public func add(_ checked: CheckedBatch, to state: inout State, _ context: CheckContext) {
    guard checked.groups != nil, !state.histograms.isEmpty, checked.verdict.everySample == nil else { return }
    let batch = checked.batch
    precondition(batch.hasValues, "histograms need values (needsValues)")
    checked.forEachClean { i in
      let start = batch.elementRange(of: i).lowerBound
      let groups = checked.groups(of: i)!  // under --shape any, the sample's own size
      batch.elementType.withType { t in Self.add(t, batch, start: start, groups, into: &state.histograms) }
    }
  }

  public func finish(_ state: State, _ context: FinishContext) -> [Finding] { [] }

  /// Adds the values of one clean sample to the histograms of its groups.
  private static func add<T: FeatureElement>(
    _: T.Type, _ batch: SampleBatch, start: Int, _ groups: FeatureGroups, into histograms: inout [StreamingHistogram]
  ) {
    let base = UnsafePointer(batch.storage.typed(T.self, count: batch.elementCount).baseAddress! + start)
    let n = groups.valuesPerGroup
    for g in 0..<Swift.min(groups.count, histograms.count) {
      if groups.interleaved {
        histograms[g].add(base + g, count: n, stride: groups.count)
      } else {
        histograms[g].add(base + g * n, count: n)
      }
    }
  }
}
