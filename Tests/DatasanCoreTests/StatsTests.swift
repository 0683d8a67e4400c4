import DatasanTestSupport
import Testing
@testable import DatasanCore

@Suite struct RunningStatsTests {
  @Test func welfordMatchesTwoPass() {
    var rng = SplitMix(state: 7)
    let xs = (0..<5000).map { _ in Double.random(in: -1e3...1e3, using: &rng) + 1e6 }
    var s = RunningStats()
    xs.forEach { s.add($0) }
    let mean = xs.reduce(0, +) / Double(xs.count)
    let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)
    #expect(abs(s.mean - mean) < 1e-6)
    #expect(abs(s.variance - variance) / variance < 1e-9)
    #expect(s.min == xs.min()! && s.max == xs.max()!)
  }

  @Test(arguments: [1, 2, 17, 999])
  func mergeEqualsSequential(split: Int) {
    var rng = SplitMix(state: UInt64(split))
    let xs = (0..<1000).map { _ in Double.random(in: 0...255, using: &rng) }
    var all = RunningStats()
    xs.forEach { all.add($0) }
    var a = RunningStats()
    var b = RunningStats()
    xs[..<split].forEach { a.add($0) }
    xs[split...].forEach { b.add($0) }
    a.merge(b)
    #expect(a.count == all.count)
    #expect(abs(a.mean - all.mean) < 1e-9)
    #expect(abs(a.m2 - all.m2) / all.m2 < 1e-9)
  }

  @Test func labelHistogramCountsIntegersOnly() {
    var l = LabelStats()
    [0, 1, 1, 2, 2, 2].forEach { l.add(Double($0)) }
    #expect(l.histogram == [0: 1, 1: 2, 2: 3])
    #expect(!l.histogramIncomplete)
    l.add(0.5)
    #expect(l.histogramIncomplete)
  }

  /// Class indexes (0 ..< 1024) are counted in an array, other integers in the dictionary: the
  /// histogram, merges and equality see one count per label whichever way it was counted.
  @Test func labelHistogramAcrossDenseAndSparseLabels() {
    let labels: [Double] = [0, 3, 3, 1023, 1024, -1, -1, 5000, 0, 1023, 2e9]
    var whole = LabelStats()
    labels.forEach { whole.add($0) }
    var expected: [Int64: Int] = [:]
    for l in labels { expected[Int64(l), default: 0] += 1 }
    #expect(whole.histogram == expected)
    #expect(!whole.histogramIncomplete)
    var a = LabelStats(), b = LabelStats()
    labels.prefix(4).forEach { a.add($0) }
    labels.dropFirst(4).forEach { b.add($0) }
    a.merge(b)
    #expect(a.histogram == expected)
    #expect(a == whole)
    var settled = whole
    settled.settle()
    #expect(settled == whole && settled.histogram == expected)
    var other = LabelStats()
    labels.dropLast().forEach { other.add($0) }
    #expect(other != whole)
  }
}

@Suite struct FeatureGroupTests {
  @Test func groupsFollowTheSpec() {
    let chw = FeatureGroups(sampleShape: [3, 4, 5], channelAxis: .first)
    #expect(chw.count == 3 && chw.valuesPerGroup == 20 && !chw.interleaved)
    let hwc = FeatureGroups(sampleShape: [4, 5, 3], channelAxis: .last)
    #expect(hwc.count == 3 && hwc.valuesPerGroup == 20 && hwc.interleaved)
    let matrix = FeatureGroups(sampleShape: [7], channelAxis: .first)
    #expect(matrix.count == 7 && matrix.valuesPerGroup == 1)
    let scalar = FeatureGroups(sampleShape: [], channelAxis: .first)
    #expect(scalar.count == 1 && scalar.names(featureName: "data", given: nil) == ["data"])
    #expect(chw.names(featureName: "data", given: nil) == ["data[0]", "data[1]", "data[2]"])
  }
}

@Suite struct LabelDomainTests {
  @Test func crossEntropy() {
    let d = LabelDomain(loss: .crossEntropy, numClasses: 10, ignoreLabel: -1)
    #expect(d.violation(0) == nil)
    #expect(d.violation(9) == nil)
    #expect(d.violation(-1) == nil)  // ignore label
    #expect(d.violation(10)?.contains("--num-classes 10") == true)
    #expect(d.violation(-2)?.contains("negative") == true)
    #expect(d.violation(2.5)?.contains("not an integer") == true)
    #expect(d.violation(.nan) == nil)  // NaN is nan_value, not a domain violation
  }

  @Test func otherLosses() {
    #expect(LabelDomain(loss: .log, numClasses: nil, ignoreLabel: nil).violation(-0.5) != nil)
    #expect(LabelDomain(loss: .log, numClasses: nil, ignoreLabel: nil).violation(3.5) == nil)
    #expect(LabelDomain(loss: .binary, numClasses: nil, ignoreLabel: nil).violation(1.5) != nil)
    #expect(LabelDomain(loss: .binary, numClasses: nil, ignoreLabel: nil).violation(0.3) == nil)
    #expect(LabelDomain(loss: .regression, numClasses: nil, ignoreLabel: nil).violation(-1e9) == nil)
  }
}

@Suite struct NormalizationTests {
  func batch(_ values: [Float], shape: [Int]) -> SampleBatch {
    let n = values.count / shape.reduce(1, *)
    let b = SampleBatch.uniform(firstIndex: 0, count: n, elementType: .float32, shape: shape, labels: nil)
    let dst = b.storage.typed(Float.self, count: values.count)
    for (i, v) in values.enumerated() { dst[i] = v }
    return b
  }

  @Test func minmaxMapsOntoRangeAndConstantToZero() throws {
    var g0 = GroupStats(name: "a")
    var g1 = GroupStats(name: "b")
    for x in [0.0, 255.0, 127.5] { g0.values.add(x) }
    for _ in 0..<3 { g1.values.add(5) }
    let p = NormalizationParameters(method: .minmax, range: (-1, 1), channelAxis: .first, stats: [g0, g1])
    let out = try Normalizer(p).apply(to: batch([0, 5, 255, 5, 127.5, 5], shape: [2]))
    let v = Array(out.storage.typed(Float.self, count: 6))
    #expect(v == [-1, 0, 1, 0, 0, 0])
  }

  @Test func zscoreInterleaved() throws {
    var g0 = GroupStats(name: "c0")
    var g1 = GroupStats(name: "c1")
    for x in [1.0, 3.0] { g0.values.add(x) }
    for x in [10.0, 30.0] { g1.values.add(x) }
    let p = NormalizationParameters(method: .zscore, range: (-1, 1), channelAxis: .last, stats: [g0, g1])
    // One sample of shape [2, 2] (H=2, C=2), channel last: values c0,c1,c0,c1.
    let out = try Normalizer(p).apply(to: batch([1, 10, 3, 30], shape: [2, 2]))
    #expect(Array(out.storage.typed(Float.self, count: 4)) == [-1, -1, 1, 1])
  }

  @Test func groupCountMismatchThrows() {
    let p = NormalizationParameters(method: .minmax, range: (-1, 1), channelAxis: .first, stats: [GroupStats(name: "a")])
    #expect(throws: DatasanError.self) { try Normalizer(p).apply(to: batch([1, 2, 3, 4], shape: [2])) }
  }
}
