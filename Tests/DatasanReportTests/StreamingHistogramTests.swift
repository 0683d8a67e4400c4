import DatasanTestSupport
import Testing

@testable import DatasanCore

@Suite struct StreamingHistogramTests {
  @Test func binsHoldTheirValues() {
    var rng = SplitMix(state: 3)
    var h = StreamingHistogram()
    var xs: [Double] = []
    for _ in 0..<5000 {
      let x = Double.random(in: -1000...1000, using: &rng) * (Bool.random(using: &rng) ? 1e-3 : 1)
      xs.append(x)
      h.add(x)
    }
    xs += [0, -0.0, 255, 1e30, -1e30]
    for x in xs.suffix(5) { h.add(x) }
    #expect(h.total == UInt64(xs.count))
    let bins = h.bins
    #expect(bins.reduce(0) { $0 + $1.count } == h.total)
    // Ascending, non-overlapping, each narrow (1/32 of an octave).
    for (a, b) in zip(bins, bins.dropFirst()) { #expect(a.upper <= b.lower) }
    for b in bins where b.lower > 0 { #expect(b.upper / b.lower <= 1 + 1.0 / 32 + 1e-12) }
    for x in xs {
      let holding = bins.filter { $0.lower <= x && x <= $0.upper }
      #expect(!holding.isEmpty, "no bin holds \(x)")
    }
  }

  @Test(arguments: [1, 7, 100, 2999])
  func mergeIsExact(split: Int) {
    var rng = SplitMix(state: UInt64(split))
    let xs = (0..<3000).map { _ in Double.random(in: -50...300, using: &rng).rounded() }
    var whole = StreamingHistogram()
    xs.forEach { whole.add($0) }
    var a = StreamingHistogram()
    var b = StreamingHistogram()
    xs.prefix(split).forEach { a.add($0) }
    xs.dropFirst(split).forEach { b.add($0) }
    b.merge(a)
    #expect(b.bins == whole.bins)
    #expect(b.total == whole.total)
  }

  @Test func typedAddsMatchScalarAdds() {
    var rng = SplitMix(state: 11)
    let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
    let floats = (0..<4096).map { _ in Float.random(in: -2...2, using: &rng) }
    var viaBytes = StreamingHistogram()
    bytes.withUnsafeBufferPointer { viaBytes.add($0.baseAddress!, count: $0.count) }  // the 256-entry table path
    var one = StreamingHistogram()
    bytes.forEach { one.add(Double($0)) }
    #expect(viaBytes == one)
    var strided = StreamingHistogram()
    floats.withUnsafeBufferPointer { strided.add($0.baseAddress! + 1, count: 2048, stride: 2) }
    var expected = StreamingHistogram()
    for i in stride(from: 1, to: 4096, by: 2) { expected.add(Double(floats[i])) }
    #expect(strided.bins == expected.bins)
    // NaN is never counted.
    var withNaN = StreamingHistogram()
    [1.0, .nan, 2.0].withUnsafeBufferPointer { withNaN.add($0.baseAddress!, count: 3) }
    #expect(withNaN.total == 2)
  }

  @Test func linearBinsKeepTheCountAndTheShape() {
    var h = StreamingHistogram()
    // 1000 values in [0, 10), 3000 in [90, 100].
    for i in 0..<1000 { h.add(Double(i) / 100) }
    for i in 0...2999 { h.add(90 + Double(i) / 300) }
    let bins = h.linearBins(10, min: 0, max: 100)
    #expect(abs(bins.reduce(0, +) - 4000) < 1e-6)
    #expect(bins[0] > 900 && bins[0] < 1100)
    #expect(bins[9] > 2900)
    for i in 2..<8 { #expect(bins[i] == 0) }
    // A constant: one bar.
    var c = StreamingHistogram()
    for _ in 0..<10 { c.add(3.5) }
    #expect(c.linearBins(40, min: 3.5, max: 3.5).filter { $0 > 0 } == [10])
    // The maximum lands in the last bin.
    var m = StreamingHistogram()
    m.add(0)
    m.add(255)
    let mb = m.linearBins(40, min: 0, max: 255)
    #expect(mb.first == 1 && mb.last == 1)
  }

  @Test func checkerCollectsHistogramsOnlyWhenAsked() throws {
    let (with, _) = try Fixture.scan("hdf5/dirty.h5", histograms: true)
    let (without, _) = try Fixture.scan("hdf5/dirty.h5", histograms: false)
    #expect(with.groupStats.count == 3)
    for (g, h) in zip(with.groupStats, without.groupStats) {
      #expect(h.histogram == nil)
      let hist = try #require(g.histogram)
      #expect(Int(hist.total) == g.values.count)
      #expect(g.values == h.values)
      #expect(hist.bins.first!.lower <= g.values.min && hist.bins.last!.upper >= g.values.max)
    }
    // CSV columns (scalar mode) too.
    let (csv, _) = try Fixture.scan("csv/scale.csv", histograms: true)
    for g in csv.groupStats { #expect(Int(g.histogram?.total ?? 0) == g.values.count) }
  }
}
