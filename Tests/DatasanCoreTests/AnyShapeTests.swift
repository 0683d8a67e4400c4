import DatasanTestSupport
import Foundation
import Testing

@testable import DatasanCore

/// `--shape any` / `--shape 3,any,any`: samples of every size are checked with their own feature
/// groups, their per-channel statistics are those of all their pixels, exactly, and the states
/// (statistics and the size distribution) of parts of a stream, encoded and merged, are those of
/// the whole.
@Suite struct AnyShapeTests {
  /// A ragged batch of uint8 images (C x H x W each), as image folders and LMDBs deliver them.
  static func imageBatch(first: Int, _ images: [(shape: [Int], values: [UInt8])], labels: [Double]) -> SampleBatch {
    var offsets = [0]
    for image in images { offsets.append(offsets.last! + image.values.count) }
    let storage = ByteStorage(byteCount: offsets.last!, zeroed: true)
    let dst = storage.typed(UInt8.self, count: offsets.last!)
    for (i, image) in images.enumerated() { for (j, v) in image.values.enumerated() { dst[offsets[i] + j] = v } }
    return SampleBatch(
      firstIndex: first, count: images.count, elementType: .uint8, shape: images.first?.shape ?? [3, 1, 1],
      shapes: images.map(\.shape), offsets: offsets, storage: storage, labels: labels,
      keys: .strings(images.indices.map { "img\(first + $0)" }))
  }

  /// Seeded images of random sizes 1...40 x 1...40 (some large enough for the block kernels, some
  /// not), channel ranges that differ; every 9th image gray (1 channel).
  static func batches(_ rng: inout SplitMix, count: Int, grayFirst: Bool = false) -> [SampleBatch] {
    var first = 0
    return (0..<count).map { b in
      let n = Int.random(in: 1...12, using: &rng)
      let images = (0..<n).map { k -> (shape: [Int], values: [UInt8]) in
        let gray = (first + k) % 9 == 4 || (grayFirst && b == 0 && k == 0)
        let h = Int.random(in: 1...40, using: &rng)
        let w = Int.random(in: 1...40, using: &rng)
        let c = gray ? 1 : 3
        let values = (0..<(c * h * w)).map { e in UInt8(truncatingIfNeeded: Int.random(in: 0...(60 + 60 * (e / (h * w))), using: &rng)) }
        return ([c, h, w], values)
      }
      defer { first += n }
      return imageBatch(first: first, images, labels: (0..<n).map { Double($0 % 3) })
    }
  }

  static func options(pattern: [Int?]? = nil) -> CheckOptions {
    var o = CheckOptions()
    o.anyShape = true
    o.shapePattern = pattern
    o.histograms = true
    return o
  }

  static let info = DatasetInfo(
    format: .lmdb, path: "mem", sampleCount: nil, elementType: .uint8, sampleShape: [3, 5, 5], featureName: "data",
    labelName: "label")

  /// Per channel (count, min, max, mean, population std) over every pixel of the colour images.
  static func expected(_ all: [SampleBatch]) -> [(count: Int, min: Double, max: Double, mean: Double, std: Double)] {
    var values: [[Double]] = [[], [], []]
    for batch in all {
      let v = batch.storage.typed(UInt8.self, count: batch.elementCount)
      for i in 0..<batch.count where batch.shape(of: i)[0] == 3 {
        let r = batch.elementRange(of: i)
        let plane = r.count / 3
        for c in 0..<3 { values[c] += (0..<plane).map { Double(v[r.lowerBound + c * plane + $0]) } }
      }
    }
    return values.map { x in
      let mean = x.reduce(0, +) / Double(x.count)
      let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)
      return (x.count, x.min()!, x.max()!, mean, variance.squareRoot())
    }
  }

  @Test func everySizePassesAndTheStatisticsAreOverAllPixels() throws {
    for seed in 0..<4 as Range<UInt64> {
      var rng = SplitMix(state: seed &+ 41)
      let all = Self.batches(&rng, count: 10)
      let checker = SampleChecker(options: Self.options(), info: Self.info)
      var flaggedShapes: [[Int]] = []
      for b in all {
        let v = checker.check(b)
        for (p, findings) in zip(v.flagged, v.findings) {
          let kinds: [FindingKind] = findings.map { $0.kind }
          #expect(kinds == [FindingKind.shapeMismatch], "seed \(seed)")
          flaggedShapes.append(b.shape(of: p))
        }
      }
      // Only the gray images are flagged (the first image is colour).
      let gray = all.reduce(0) { n, b in n + (0..<b.count).filter { b.shape(of: $0)[0] == 1 }.count }
      #expect(flaggedShapes.count == gray && flaggedShapes.allSatisfy { $0[0] == 1 }, "seed \(seed)")
      let expected = Self.expected(all)
      #expect(checker.groupStats.count == 3)
      for (g, e) in zip(checker.groupStats, expected) {
        let v: RunningStats = g.values
        let what = "seed \(seed) \(g.name)"
        #expect(v.count == e.count, "\(what)")
        #expect(v.min == e.min && v.max == e.max, "\(what)")
        let meanError: Double = Swift.abs(v.mean - e.mean)
        let stdError: Double = Swift.abs(v.std - e.std)
        #expect(meanError < 1e-9, "\(what) mean")
        #expect(stdError < 1e-9, "\(what) std")
        #expect(g.histogram != nil, "\(what) histogram")
      }
      // The size distribution counts every decoded sample, flagged or not.
      let sizes = try #require(checker.state(SizeDistributionCheck.self))
      #expect(sizes.samples == all.reduce(0) { $0 + $1.count })
      var counted: [[Int]: Int] = [:]
      for b in all { for i in 0..<b.count { counted[b.shape(of: i), default: 0] += 1 } }
      #expect(sizes.counts == counted)
    }
  }

  /// Without `--shape any` every other size is shape_mismatch, as before.
  @Test func withoutAnyEveryOtherSizeIsFlagged() {
    var rng = SplitMix(state: 7)
    let all = Self.batches(&rng, count: 3)
    let checker = SampleChecker(options: CheckOptions(), info: Self.info)
    let first = all[0].shape(of: 0)
    for b in all {
      let v = checker.check(b)
      let expected = (0..<b.count).filter { b.shape(of: $0) != first }
      #expect(v.flagged == expected)
    }
  }

  /// `--shape 3,any,any`: a gray first image does not become the reference; it is flagged.
  @Test func aPatternNamesTheChannels() {
    var rng = SplitMix(state: 11)
    let all = Self.batches(&rng, count: 4, grayFirst: true)
    let plain = SampleChecker(options: Self.options(), info: Self.info)
    let named = SampleChecker(options: Self.options(pattern: [3, nil, nil]), info: Self.info)
    var plainFlagged = 0
    for b in all {
      plainFlagged += plain.check(b).flagged.count
      let v = named.check(b)
      #expect(v.flagged == (0..<b.count).filter { b.shape(of: $0)[0] != 3 })
      for f in v.findings.joined() { #expect(f.kind == .shapeMismatch && f.detail.contains("--shape 3,any,any")) }
    }
    // With plain `any` the gray first image is the reference: every colour image is flagged.
    let colour = all.reduce(0) { n, b in n + (0..<b.count).filter { b.shape(of: $0)[0] == 3 }.count }
    #expect(plainFlagged == colour)
    #expect(named.referenceShape?[0] == 3)
  }

  /// Split anywhere, each part checked on its own (on all cores), encoded, decoded and merged:
  /// the statistics and the size distribution of the whole.
  /// (`--shape 3,any,any`: with plain `any`, as without `--shape`, a part takes its own first sample
  /// as the reference, and a part that starts with a gray image would judge the others by it.)
  @Test func partsMergeExactly() throws {
    for seed in 0..<4 as Range<UInt64> {
      var rng = SplitMix(state: seed &* 31 &+ 5)
      let all = Self.batches(&rng, count: 12)
      let options = Self.options(pattern: [3, nil, nil])
      let one = SampleChecker(options: options, info: Self.info)
      for b in all { _ = one.check(b) }
      var cuts = Set((0..<3).map { _ in Int.random(in: 1...all.count, using: &rng) })
      cuts.formUnion([0, all.count])
      let bounds = cuts.sorted()
      let merged = SampleChecker(options: options, info: Self.info)
      for (lo, hi) in zip(bounds, bounds.dropFirst()) {
        let part = SampleChecker(options: options, info: Self.info)
        _ = part.check(batches: Array(all[lo..<hi]))
        let encoded = try JSONEncoder().encode(part.partial)
        merged.merge(try JSONDecoder().decode(SampleChecker.Partial.self, from: encoded))
      }
      #expect(merged.total == one.total && merged.clean == one.clean, "seed \(seed)")
      for (m, o) in zip(merged.groupStats, one.groupStats) {
        let a: RunningStats = m.values
        let b: RunningStats = o.values
        #expect(a.count == b.count && a.min == b.min && a.max == b.max)
        let meanError: Double = Swift.abs(a.mean - b.mean)
        let stdError: Double = Swift.abs(a.std - b.std)
        #expect(meanError <= 1e-12 * 256, "seed \(seed) mean")
        #expect(stdError <= 1e-12 * 256, "seed \(seed) std")
        #expect(m.histogram == o.histogram)
      }
      #expect(merged.state(SizeDistributionCheck.self) == one.state(SizeDistributionCheck.self), "seed \(seed)")
    }
  }

  /// The size distribution's answers and its encoding (`[{"shape", "count"}]`, ordered by shape).
  @Test func sizeDistribution() throws {
    var s = SizeDistribution()
    s.add([3, 40, 60], count: 4)
    s.add([3, 48, 48], count: 3)
    s.add([1, 40, 40], count: 1)
    s.add([3, 64, 64], count: 1)
    var t = SizeDistribution()
    t.add([3, 48, 48], count: 1)
    s.merge(t)
    #expect(s.distinct == 4 && s.samples == 10)
    typealias Size = SizeDistribution.Size
    #expect(s.smallest == Size(shape: [1, 40, 40], count: 1))
    #expect(s.largest == Size(shape: [3, 64, 64], count: 1))
    // A tie in count: the smaller size first (3x48x48 has 6912 values, 3x40x60 7200).
    let common: [Size] = [Size(shape: [3, 48, 48], count: 4), Size(shape: [3, 40, 60], count: 4)]
    #expect(s.mostCommon(2) == common)
    let json = String(decoding: try JSONEncoder().encode(s), as: UTF8.self)
    #expect(json.hasPrefix("[{") && json.contains("\"shape\":[1,40,40]"))
    #expect(try JSONDecoder().decode(SizeDistribution.self, from: Data(json.utf8)) == s)
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode(SizeDistribution.self, from: Data(#"[{"shape":[3],"count":-1}]"#.utf8))
    }
  }
}
