import DatasanTestSupport
import Foundation
import Testing

@testable import DatasanCore

/// The partial states of the checks travel between processes (encoded) and merge exactly: a scan
/// split at any point, each part's state encoded, decoded and merged, gives the one-pass result.
@Suite struct CheckStateTests {
  /// Seeded random batches of `shape`: values over several scales, a few NaN samples, labels 0..9
  /// (rarely 12), batch sizes 1...40.
  func batches(_ rng: inout SplitMix, shape: [Int], count: Int) -> [SampleBatch] {
    var first = 0
    return (0..<count).map { _ in
      let n = Int.random(in: 1...40, using: &rng)
      let size = shape.reduce(1, *)
      let samples = (0..<n).map { _ -> [Float] in
        let scale = Float([0.001, 1, 300, 2e6].randomElement(using: &rng)!)
        var s = (0..<size).map { _ in Float.random(in: -1...1, using: &rng) * scale }
        if Int.random(in: 0..<25, using: &rng) == 0 { s[Int.random(in: 0..<size, using: &rng)] = .nan }
        return s
      }
      let labels = (0..<n).map { _ in Double(Int.random(in: 0..<60, using: &rng) == 0 ? 12 : Int.random(in: 0..<10, using: &rng)) }
      defer { first += n }
      return floatBatch(first: first, samples, shape: shape, labels: labels)
    }
  }

  func options(_ shape: [Int]) -> CheckOptions {
    var o = CheckOptions()
    o.histograms = true
    o.maxAbs = 1e6
    o.numClasses = 13  // classes 10 and 11 are missing, 12 is rare
    o.expectedShape = shape
    return o
  }

  func roundTrip(_ p: SampleChecker.Partial) throws -> SampleChecker.Partial {
    try JSONDecoder().decode(SampleChecker.Partial.self, from: JSONEncoder().encode(p))
  }

  func expectClose(_ a: RunningStats, _ b: RunningStats, _ what: String) {
    #expect(a.count == b.count, "\(what)")
    #expect(a.min == b.min && a.max == b.max, "\(what)")
    #expect(Swift.abs(a.mean - b.mean) <= 1e-12 * Swift.max(1, Swift.abs(a.mean), a.maxMagnitude), "\(what) mean")
    #expect(Swift.abs(a.std - b.std) <= 1e-12 * Swift.max(1, a.std), "\(what) std")
  }

  @Test(arguments: [[3, 8, 8], [5], [4, 4, 2]])
  func splitEncodedMergedEqualsOnePass(shape: [Int]) throws {
    for seed in 0..<6 as Range<UInt64> {
      var rng = SplitMix(state: seed * 7919 + UInt64(shape.reduce(1, *)))
      let all = batches(&rng, shape: shape, count: 14)
      let info = makeInfo(shape: shape)
      let one = SampleChecker(options: options(shape), info: info)
      for b in all { _ = one.check(b) }

      // Split at random points into up to four parts, each checked by its own checker (some on all
      // cores), encoded and decoded, then merged in order into a fresh checker.
      var cuts = Set((0..<3).map { _ in Int.random(in: 0...all.count, using: &rng) })
      cuts.formUnion([0, all.count])
      let bounds = cuts.sorted()
      let merged = SampleChecker(options: options(shape), info: info)
      for (lo, hi) in zip(bounds, bounds.dropFirst()) {
        let part = SampleChecker(options: options(shape), info: info)
        _ = part.check(batches: Array(all[lo..<hi]))
        merged.merge(try roundTrip(part.partial))
      }

      #expect(merged.total == one.total && merged.clean == one.clean)
      #expect(merged.groupStats.count == one.groupStats.count)
      for (m, o) in zip(merged.groupStats, one.groupStats) {
        expectClose(m.values, o.values, "seed \(seed) \(o.name)")
        #expect(m.extremeCount == o.extremeCount && m.extremeMax == o.extremeMax)
        // Histograms and label counts are integers: exactly equal.
        #expect(m.histogram != nil && m.histogram == o.histogram, "seed \(seed) \(o.name) histogram")
      }
      #expect(merged.labelStats.histogram == one.labelStats.histogram)
      #expect(merged.labelStats.histogramIncomplete == one.labelStats.histogramIncomplete)
      expectClose(merged.labelStats.values, one.labelStats.values, "labels")
      #expect(one.labelStats.histogram[12] != nil)
      let kinds = { (c: SampleChecker) in c.datasetFindings(fixCommand: "fix").map(\.kind) }
      #expect(kinds(merged) == kinds(one))
      #expect(kinds(one).contains(.classMissing))
    }
  }

  /// Each check's state alone survives encoding unchanged (bit for bit).
  @Test func statesRoundTripExactly() throws {
    var rng = SplitMix(state: 99)
    let shape = [3, 8, 8]
    let checker = SampleChecker(options: options(shape), info: makeInfo(shape: shape))
    for b in batches(&rng, shape: shape, count: 5) { _ = checker.check(b) }
    func roundTrip<S: CheckState & Equatable>(_ s: S?) throws {
      let s = try #require(s)
      #expect(try JSONDecoder().decode(S.self, from: JSONEncoder().encode(s)) == s)
    }
    try roundTrip(checker.state(FeatureStatisticsCheck.self))
    try roundTrip(checker.state(HistogramCheck.self))
    try roundTrip(checker.state(LabelCheck.self))
    // An empty state (no value yet: min and max are the infinities) encodes too.
    try roundTrip(FeatureStatisticsCheck.State(groups: [GroupStats(name: "empty")]))
  }

  /// The sample findings (counts, the first --max-issues findings, the examples per kind) of parts
  /// of a stream, encoded, decoded and merged, are exactly those of the whole stream.
  @Test(arguments: [2, 7, 1000])
  func sampleFindingsMergeExactly(maxIssues: Int) throws {
    for seed in 0..<8 as Range<UInt64> {
      var rng = SplitMix(state: 1000 + seed)
      let shape = [2, 3]
      var all = batches(&rng, shape: shape, count: 10)
      // A run of unreadable samples (one finding for all) somewhere in the stream.
      let at = Int.random(in: 0...all.count, using: &rng)
      let first = at == 0 ? 0 : all[at - 1].firstIndex + all[at - 1].count
      let run = Int.random(in: 1...9, using: &rng)
      all.insert(
        .unreadableRun(
          firstIndex: first, count: run, problem: ReaderProblem(.unreadable, "chunk not written"), elementType: .float32,
          shape: shape),
        at: at)
      for k in (at + 1)..<all.count { all[k].firstIndex += run }
      let checker = SampleChecker(options: options(shape), info: makeInfo(shape: shape))
      let verdicts = all.map { checker.check($0) }

      var one = SampleFindings(maxIssues: maxIssues)
      for (b, v) in zip(all, verdicts) { one.add(v, of: b) }
      let cut = Int.random(in: 0...all.count, using: &rng)
      var head = SampleFindings(maxIssues: maxIssues)
      var tail = SampleFindings(maxIssues: maxIssues)
      for k in 0..<all.count {
        if k < cut { head.add(verdicts[k], of: all[k]) } else { tail.add(verdicts[k], of: all[k]) }
      }
      let coded = { (f: SampleFindings) in try JSONDecoder().decode(SampleFindings.self, from: JSONEncoder().encode(f)) }
      var merged = try coded(head)
      merged.merge(try coded(tail))
      #expect(merged == one, "seed \(seed), cut at batch \(cut)")
      #expect(one.counts[.unreadable] == run)
    }
  }
}
