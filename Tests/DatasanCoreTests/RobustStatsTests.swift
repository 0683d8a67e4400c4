import DatasanTestSupport
import Foundation
import Testing
@testable import DatasanCore

/// The statistics of values far from 1: a sweep of magnitudes 1e-300 ... 1e300, subnormals, float32
/// near its largest values, opposite signs near the largest doubles, mixed magnitudes in one group,
/// constant groups. Every path of the checker's statistics (uniform batches in block mode, the
/// columnar kernel, short contiguous groups, merges of many batches on several cores), the
/// normalization and the dataset findings must stay finite and accurate.

/// Mean and std by a careful reference: in units of 2^k (k the exponent of the largest magnitude,
/// so nothing overflows or underflows that matters), two passes, compensated (Neumaier) sums and
/// the corrected mean of the second pass.
struct ReferenceMoments {
  let min: Double
  let max: Double
  let mean: Double
  let std: Double

  init(_ xs: [Double]) {
    min = xs.min()!
    max = xs.max()!
    let largest = xs.map(abs).max()!
    let k = largest == 0 ? 0 : Int(largest.exponent)
    let u = xs.map { scalbn($0, -k) }
    let n = Double(xs.count)
    let first = ReferenceMoments.sum(u) / n
    let m = first + ReferenceMoments.sum(u.map { $0 - first }) / n
    let m2 = ReferenceMoments.sum(u.map { ($0 - m) * ($0 - m) })
    mean = scalbn(m, k)
    std = scalbn((m2 / n).squareRoot(), k)
  }

  static func sum(_ xs: [Double]) -> Double {
    var s = 0.0, c = 0.0
    for x in xs {
      let t = s + x
      c += abs(s) >= abs(x) ? (s - t) + x : (x - t) + s
      s = t
    }
    return s + c
  }
}

/// How values of one group are spread around their magnitude.
enum Spread: CaseIterable {
  case symmetric  // m * U(-1, 1)
  case offset  // m * (5 + U(-1, 1)): mean / std about 9
  case positive  // m * U(0.5, 2)
}

/// The magnitudes of the sweep: 10^e for e in -300 ... 300.
let sweepExponents = Array(stride(from: -300, through: 300, by: 25))

func values(_ count: Int, magnitude m: Double, _ spread: Spread, _ rng: inout SplitMix) -> [Double] {
  (0..<count).map { _ in
    switch spread {
    case .symmetric: return m * Double.random(in: -1...1, using: &rng)
    case .offset: return m * (5 + Double.random(in: -1...1, using: &rng))
    case .positive: return m * Double.random(in: 0.5...2, using: &rng)
    }
  }
}

/// The special groups: subnormals, opposite signs near the largest doubles, 1e300 / 1 / 1e-300
/// mixed, constants, and float32 near its largest and smallest values (as doubles).
func specialGroups(_ count: Int, _ rng: inout SplitMix) -> [(String, [Double])] {
  [
    ("subnormal", (0..<count).map { _ in Double(bitPattern: UInt64.random(in: 1...5000, using: &rng)) }),
    ("subnormal signed", (0..<count).map { _ in Double(bitPattern: UInt64.random(in: 1...5000, using: &rng)) * (Bool.random(using: &rng) ? 1 : -1) }),
    ("near max", (0..<count).map { _ in Double.greatestFiniteMagnitude * Double.random(in: -1...1, using: &rng) }),
    ("near max ends", (0..<count).map { i in i % 2 == 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude }),
    ("mixed", (0..<count).map { i in [1e300, -3e299, 1, 1e-300, 0][i % 5] * Double.random(in: 0.5...1, using: &rng) }),
    ("tiny mixed", (0..<count).map { i in [1e-300, 1e-310, 4e-320, -2e-301][i % 4] }),
    ("constant huge", [Double](repeating: 1.5e300, count: count)),
    ("constant tiny", [Double](repeating: -3e-300, count: count)),
    ("constant subnormal", [Double](repeating: 5e-324, count: count)),
    ("float32 max", (0..<count).map { _ in Double(Float.greatestFiniteMagnitude * Float.random(in: -1...1, using: &rng)) }),
    ("float32 tiny", (0..<count).map { _ in Double(Float.leastNonzeroMagnitude * Float(Int.random(in: 1...300, using: &rng))) }),
  ]
}

/// Every group of the sweep, named.
func sweepGroups(_ count: Int, seed: UInt64) -> [(String, [Double])] {
  var rng = SplitMix(state: seed)
  var groups: [(String, [Double])] = []
  for e in sweepExponents {
    for spread in Spread.allCases {
      groups.append(("1e\(e) \(spread)", values(count, magnitude: pow(10, Double(e)), spread, &rng)))
    }
  }
  return groups + specialGroups(count, &rng)
}

/// `got` agrees with the reference: min and max exactly, mean and std to `tolerance` (relative to
/// the spread for the mean, whose own value may be 0), a constant group with std 0.
func expectMatches(_ got: RunningStats, _ xs: [Double], tolerance: Double, _ what: String) {
  let r = ReferenceMoments(xs)
  #expect(got.count == xs.count, "\(what): count")
  #expect(got.min == r.min && got.max == r.max, "\(what): min \(got.min) max \(got.max), expected \(r.min) \(r.max)")
  #expect(got.mean.isFinite && got.std.isFinite, "\(what): mean \(got.mean) std \(got.std)")
  // Relative to the larger of mean and std; a subnormal mean has an absolute grid of 2^-1074.
  let scale = Swift.max(r.std, abs(r.mean))
  #expect(
    abs(got.mean - r.mean) <= tolerance * scale + Double.leastNonzeroMagnitude,
    "\(what): mean \(got.mean), expected \(r.mean)")
  if r.min == r.max {
    #expect(got.std == 0 && got.isConstant, "\(what): constant, std \(got.std)")
  } else {
    #expect(
      abs(got.std - r.std) <= tolerance * r.std + Double.leastNonzeroMagnitude, "\(what): std \(got.std), expected \(r.std)")
    #expect(got.std > 0 && !got.isConstant, "\(what): not constant")
  }
}

@Suite struct RobustRunningStatsTests {
  @Test func welfordAndMergesMatchTheReferenceAtEveryMagnitude() {
    var rng = SplitMix(state: 11)
    for (name, xs) in sweepGroups(600, seed: 1) {
      var oneByOne = RunningStats()
      xs.forEach { oneByOne.add($0) }
      expectMatches(oneByOne, xs, tolerance: 1e-12, "\(name), one by one")

      // Many batches of random sizes, merged in a random tree order.
      var parts: [RunningStats] = []
      var start = 0
      while start < xs.count {
        let end = Swift.min(xs.count, start + Int.random(in: 1...80, using: &rng))
        var p = RunningStats()
        xs[start..<end].forEach { p.add($0) }
        parts.append(p)
        start = end
      }
      while parts.count > 1 {
        let i = Int.random(in: 0..<(parts.count - 1), using: &rng)
        parts[i].merge(parts.remove(at: i + 1))
      }
      expectMatches(parts[0], xs, tolerance: 1e-12, "\(name), merged")
    }
  }

  @Test func mergingTwoHalvesEqualsOnePass() {
    for (name, xs) in sweepGroups(400, seed: 2) {
      var all = RunningStats()
      xs.forEach { all.add($0) }
      var a = RunningStats(), b = RunningStats()
      xs[..<150].forEach { a.add($0) }
      xs[150...].forEach { b.add($0) }
      a.merge(b)
      #expect(a.count == all.count && a.min == all.min && a.max == all.max, "\(name)")
      let tiny = Double.leastNonzeroMagnitude
      #expect(abs(a.mean - all.mean) <= 1e-13 * Swift.max(abs(all.mean), all.std) + tiny, "\(name): mean")
      #expect(abs(a.std - all.std) <= 1e-13 * all.std + tiny, "\(name): std")
    }
  }

  @Test func codableKeepsTheScaledSumOfSquares() throws {
    var s = RunningStats()
    [1e300, -1e300, 3e299].forEach { s.add($0) }
    let data = try JSONEncoder().encode(s)
    #expect(try JSONDecoder().decode(RunningStats.self, from: data) == s)
    // The plain form (no exponent) reads as written.
    let plain = try JSONDecoder().decode(
      RunningStats.self, from: Data(#"{"count":2,"min":1,"max":3,"mean":2,"m2":2}"#.utf8))
    #expect(plain.std == 1 && plain.mean == 2)
  }
}

/// The checker's statistics of batches built from the sweep: each feature group of the batch holds
/// one group of the sweep.
@Suite struct RobustCheckerStatisticsTests {
  /// A uniform batch of `samples` samples of `shape` whose group g (as `layout` divides the shape)
  /// holds `groups[g]`, in order.
  func batch<T: BinaryFloatingPoint>(
    _: T.Type, _ groups: [[Double]], samples: Int, first: Int, shape: [Int], layout: FeatureGroups
  ) -> SampleBatch {
    let type: ElementType = T.self == Float.self ? .float32 : .float64
    let b = SampleBatch.uniform(firstIndex: first, count: samples, elementType: type, shape: shape, labels: nil)
    let perSample = shape.reduce(1, *)
    let dst = b.storage.typed(T.self, count: samples * perSample)
    for i in 0..<samples {
      for g in 0..<layout.count {
        for v in 0..<layout.valuesPerGroup {
          let e = layout.interleaved ? v * layout.count + g : g * layout.valuesPerGroup + v
          dst[i * perSample + e] = T(groups[g][(first + i) * layout.valuesPerGroup + v])
        }
      }
    }
    return b
  }

  /// Runs `all` (one value list per group of the sweep) through a checker in chunks of `groupsPerRun`
  /// groups, `batches` batches each, checked on all cores, and compares every group with the reference.
  func sweep<T: BinaryFloatingPoint>(
    _ type: T.Type, shape: [Int], channelAxis: ChannelAxis, all: [(String, [Double])], tolerance: (String) -> Double,
    samples: Int, batches: Int
  ) -> [GroupStats] {
    let layout = FeatureGroups(sampleShape: shape, channelAxis: channelAxis)
    var options = CheckOptions()
    options.channelAxis = channelAxis
    var results: [GroupStats] = []
    for chunk in stride(from: 0, to: all.count, by: layout.count) {
      var groups = Array(all[chunk..<Swift.min(all.count, chunk + layout.count)])
      while groups.count < layout.count { groups.append(("filler", groups[0].1)) }
      // As the batch stores them (float32 rounds).
      let stored = groups.map { g in g.1.map { Double(T($0)) } }
      var info = makeInfo(shape: shape, labels: false)
      info.elementType = type == Float.self ? .float32 : .float64
      let checker = SampleChecker(options: options, info: info)
      let perBatch = samples / batches
      let list = (0..<batches).map { k in
        batch(type, stored, samples: perBatch, first: k * perBatch, shape: shape, layout: layout)
      }
      let verdicts = checker.check(batches: list)
      #expect(verdicts.allSatisfy { $0.flagged.isEmpty }, "\(shape): no finite value is flagged")
      for (g, (name, _)) in groups.enumerated() where name != "filler" {
        let xs = Array(stored[g].prefix(perBatch * batches * layout.valuesPerGroup))
        expectMatches(checker.groupStats[g].values, xs, tolerance: tolerance(name), "\(T.self) \(shape) \(name)")
        results.append(checker.groupStats[g])
      }
    }
    return results
  }

  /// Channel-first images, 32 values per group: block mode (the moments kernels per sample, merged).
  @Test func blockModeFloat64() {
    _ = sweep(Double.self, shape: [4, 4, 8], channelAxis: .first, all: sweepGroups(8 * 32, seed: 3),
      tolerance: { _ in 1e-12 }, samples: 8, batches: 4)
  }

  /// CSV-like rows: one value per group, interleaved: the columnar kernel.
  @Test func columnarFloat64() {
    _ = sweep(Double.self, shape: [9], channelAxis: .first, all: sweepGroups(300, seed: 4),
      tolerance: { _ in 1e-12 }, samples: 300, batches: 5)
  }

  /// Channel-last images: interleaved groups, the columnar kernel.
  @Test func channelLastFloat64() {
    _ = sweep(Double.self, shape: [4, 5, 3], channelAxis: .last, all: sweepGroups(20 * 20, seed: 5),
      tolerance: { _ in 1e-12 }, samples: 20, batches: 4)
  }

  /// Groups of 4 contiguous values: too short for block mode, added group by group.
  @Test func shortContiguousGroupsFloat64() {
    _ = sweep(Double.self, shape: [5, 2, 2], channelAxis: .first, all: sweepGroups(40 * 4, seed: 6),
      tolerance: { _ in 1e-12 }, samples: 40, batches: 4)
  }

  /// float32 magnitudes 1e-45 ... 3.4e38. The float32 block kernel sums in float lanes (about 1e-6
  /// relative) where its squares fit; where they do not, the scaled path is exact to 1e-12.
  @Test func float32EveryPath() {
    var rng = SplitMix(state: 7)
    var groups: [(String, [Double])] = []
    for e in stride(from: -44, through: 38, by: 4) {
      for spread in Spread.allCases where e < 38 || spread == .symmetric {
        groups.append(("1e\(e) \(spread)", values(32 * 16, magnitude: pow(10, Double(e)), spread, &rng)))
      }
    }
    groups += specialGroups(32 * 16, &rng).filter { $0.0.hasPrefix("float32") }
    groups.append(("float32 ends", (0..<(32 * 16)).map { i in Double(i % 2 == 0 ? Float.greatestFiniteMagnitude : -Float.greatestFiniteMagnitude) }))
    groups.append(("float32 constant", [Double](repeating: 3e38, count: 32 * 16)))
    // The fast float32 lanes are used for moderate values only: 1e-6 there, 1e-12 elsewhere.
    let fastLanes: (String) -> Double = { name in
      guard let e = Int(name.dropFirst(2).prefix { $0 != " " }) else { return 1e-12 }
      return e >= -12 && e <= 16 ? 1e-5 : 1e-12
    }
    _ = sweep(Float.self, shape: [4, 4, 8], channelAxis: .first, all: groups, tolerance: fastLanes, samples: 16, batches: 4)
    _ = sweep(Float.self, shape: [4, 8, 4], channelAxis: .last, all: groups, tolerance: { _ in 1e-12 }, samples: 16, batches: 4)
    _ = sweep(Float.self, shape: [7], channelAxis: .first, all: groups, tolerance: { _ in 1e-12 }, samples: 512, batches: 4)
  }

  /// A batch that lists per-sample offsets (as readers of samples of varying shape do) takes the
  /// value-by-value path for interleaved groups.
  @Test func valueByValueFloat64() {
    let all = sweepGroups(30 * 8, seed: 12)
    let shape = [8, 3]
    for chunk in stride(from: 0, to: all.count - 2, by: 3) {
      let groups = all[chunk..<(chunk + 3)].map(\.1)
      var options = CheckOptions()
      options.channelAxis = .last
      var info = makeInfo(shape: shape, labels: false)
      info.elementType = .float64
      let checker = SampleChecker(options: options, info: info)
      let storage = ByteStorage(byteCount: 30 * 24 * 8)
      let dst = storage.typed(Double.self, count: 30 * 24)
      for i in 0..<30 { for v in 0..<8 { for g in 0..<3 { dst[i * 24 + v * 3 + g] = groups[g][i * 8 + v] } } }
      let batch = SampleBatch(
        firstIndex: 0, count: 30, elementType: .float64, shape: shape, shapes: [[Int]](repeating: shape, count: 30),
        offsets: (0...30).map { $0 * 24 }, storage: storage, labels: nil, keys: .strings((0..<30).map(String.init)))
      #expect(checker.check(batch).flagged.isEmpty)
      for g in 0..<3 {
        expectMatches(checker.groupStats[g].values, groups[g], tolerance: 1e-12, "value by value \(all[chunk + g].0)")
      }
    }
  }

  /// A batch merged with many others on all cores gives the statistics of one pass over the values.
  @Test func manyBatchesMergeLikeOne() {
    let all = Array(sweepGroups(64 * 32, seed: 8).prefix(24))
    _ = sweep(Double.self, shape: [4, 32], channelAxis: .first, all: all, tolerance: { _ in 1e-12 }, samples: 64, batches: 32)
    _ = sweep(Double.self, shape: [4], channelAxis: .first, all: all, tolerance: { _ in 1e-12 }, samples: 64 * 32, batches: 64)
  }
}

@Suite struct RobustNormalizationTests {
  func stats(_ name: String, _ xs: [Double]) -> GroupStats {
    var g = GroupStats(name: name)
    xs.forEach { g.values.add($0) }
    return g
  }

  /// Applies the parameters of each group of the sweep to its own values (as a [1]-shaped float64
  /// batch), for both methods, also after a round trip through the statistics file.
  @Test(arguments: [(-1.0, 1.0), (0.0, 255.0)])
  func everyMagnitudeMapsIntoRangeAndStandardizes(range: (Double, Double)) throws {
    for (name, xs) in sweepGroups(500, seed: 9) {
      let g = stats(name, xs)
      let batch = SampleBatch.uniform(firstIndex: 0, count: xs.count, elementType: .float64, shape: [1], labels: nil)
      let dst = batch.storage.typed(Double.self, count: xs.count)
      for (i, x) in xs.enumerated() { dst[i] = x }
      for method in [NormalizationMethod.minmax, .zscore] {
        var p = NormalizationParameters(method: method, range: range, channelAxis: .first, stats: [g])
        #expect(p.groups[0].scale.isFinite && p.groups[0].offset.isFinite, "\(name) \(method)")
        // Through --stats-out / --stats-in.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("datasan-stats-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try StatsFile.write(p, to: file)
        #expect(try StatsFile.read(file) == p, "\(name) \(method): the file reads back")
        p = try StatsFile.read(file)
        let out = try Normalizer(p).apply(to: batch)
        let ys = Array(out.storage.typed(Float.self, count: xs.count)).map(Double.init)
        #expect(ys.allSatisfy { $0.isFinite }, "\(name) \(method): finite")
        if g.values.isConstant {
          #expect(ys.allSatisfy { $0 == 0 }, "\(name) \(method): a constant group maps to 0")
          continue
        }
        let r = ReferenceMoments(ys)
        switch method {
        case .minmax:
          let slack = 1e-6 * (range.1 - range.0)
          #expect(r.min >= range.0 - slack && r.max <= range.1 + slack, "\(name): [\(r.min), \(r.max)]")
          #expect(abs(r.min - range.0) <= slack && abs(r.max - range.1) <= slack, "\(name): the ends reach the range")
        default:
          #expect(abs(r.mean) < 1e-5 && abs(r.std - 1) < 1e-5, "\(name) zscore: mean \(r.mean) std \(r.std)")
        }
      }
    }
  }

  /// A subnormal range has no normal scale: the file then carries a power of two, absent otherwise.
  @Test func subnormalRangeCarriesAnExponent() throws {
    let tiny = stats("tiny", [1e-310, 3e-310, 2e-310])
    let p = NormalizationParameters(method: .minmax, range: (0, 1), channelAxis: .first, stats: [tiny, stats("one", [0, 1])])
    #expect(p.groups[0].scaleExponent != nil && p.groups[1].scaleExponent == nil)
    #expect(p.groups[1].scale == 1 && p.groups[1].offset == 0)
    let json = String(decoding: try JSONEncoder().encode(p), as: UTF8.self)
    #expect(json.components(separatedBy: "scale_exponent").count == 2)
    // A file written before the field existed reads as before.
    let old = #"{"schema":"datasan-stats/1","method":"minmax","range":[0,1],"channel_axis":"first","groups":[{"name":"a","min":0,"max":2,"mean":1,"std":1,"scale":0.5,"offset":0}]}"#
    let q = try JSONDecoder().decode(NormalizationParameters.self, from: Data(old.utf8))
    #expect(q.groups[0].scaleExponent == nil && q.groups[0].scale == 0.5)
  }
}

@Suite struct RobustMeanImageTests {
  /// float64 samples near ±DBL_MAX: the per-element sums do not overflow (a plain sum reaches +Inf
  /// after two samples and never comes back).
  @Test func sumsNearTheLargestDoublesDoNotOverflow() throws {
    let b = SampleBatch.uniform(firstIndex: 0, count: 4, elementType: .float64, shape: [2], labels: nil)
    let dst = b.storage.typed(Double.self, count: 8)
    let values = [1.7e308, 1, 1.7e308, 2, -1.7e308, 3, -1.7e308, 4]
    for (i, x) in values.enumerated() { dst[i] = x }
    var mean = MeanImage(shape: [2])
    try mean.add(b)
    #expect(mean.caffeLayout(channelAxis: .first).mean == [0, 2.5])
  }
}

@Suite struct RobustDatasetCheckTests {
  func stats(_ name: String, _ xs: [Double]) -> GroupStats {
    var g = GroupStats(name: name)
    xs.forEach { g.values.add($0) }
    return g
  }

  @Test func findingsAtEveryMagnitude() {
    var rng = SplitMix(state: 10)
    let huge = stats("huge", values(200, magnitude: 1e300, .symmetric, &rng))
    let tiny = stats("tiny", values(200, magnitude: 1e-300, .positive, &rng))
    let unit = stats("unit", values(200, magnitude: 1, .symmetric, &rng))
    let subnormal = stats("subnormal", (0..<200).map { _ in Double(bitPattern: UInt64.random(in: 1...9999, using: &rng)) })
    let ends = stats("ends", [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0])
    let flat = stats("flat", [Double](repeating: 7e-300, count: 50))
    let findings = DatasetChecks.findings(
      groups: [huge, tiny, unit, subnormal, ends, flat], labels: nil, options: CheckOptions(), fixCommand: "fix")
    func fields(_ kind: FindingKind) -> [String] { findings.filter { $0.kind == kind }.compactMap(\.field) }
    #expect(fields(.unnormalizedScale) == ["huge", "ends"])
    #expect(fields(.constantFeature) == ["flat"], "no false constant_feature for tiny values with spread")
    let imbalance = findings.filter { $0.kind == .scaleImbalance }
    #expect(imbalance.count == 1)
    #expect(imbalance.first?.detail.hasPrefix("std of ends") == true, "\(imbalance.first?.detail ?? "")")
    #expect(imbalance.first?.detail.contains("subnormal") == true)
    for g in [huge, tiny, unit, subnormal, ends] { #expect(g.values.std > 0 && g.values.std.isFinite, "\(g.name)") }
  }
}
