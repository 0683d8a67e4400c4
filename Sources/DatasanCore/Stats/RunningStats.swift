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

/// Count, min, max, mean and M2 (sum of squared deviations) of a stream of values.
///
/// Mergeable with Chan's formula, so batches, threads and shards combine exactly the
/// same way whatever order they arrive in.
///
/// The mean and M2 of finite values need not be finite or normal doubles (values near 1e300 have
/// squares near 1e600, values near 1e-320 a mean on the subnormal grid). They are kept in units of
/// 2^`exponent`: mean = scaledMean * 2^e, M2 = scaledM2 * 2^2e. For moderate values e is 0 and the
/// updates are the plain Welford / Chan ones, checked by a few comparisons; an update whose result
/// would leave the safe range is redone in units of the largest magnitude seen (as LAPACK's dnrm2
/// scales a sum of squares), where every term lies near 1, so that `mean` and `std` of any finite
/// values are finite and accurate.
public struct RunningStats: Sendable, Equatable, Codable {
  public private(set) var count: Int = 0
  public private(set) var min: Double = .infinity
  public private(set) var max: Double = -.infinity
  /// The mean and M2 in units of 2^exponent and 2^(2 * exponent); exponent 0 for moderate values.
  private var scaledMean: Double = 0
  private var scaledM2: Double = 0
  private var exponent: Int = 0

  /// Where M2 is held as a plain double (exponent 0): far from overflow, and far above the
  /// subnormals, where squares lose their precision.
  static let safe: ClosedRange<Double> = 0x1p-1000...0x1p1000
  /// Mean differences in this range (or 0) have squares well inside ``safe``.
  static let safeDelta: ClosedRange<Double> = 0x1p-500...0x1p500

  public init() {}

  /// Statistics from moments: `count` values with the given min, max, mean and M2.
  public init(count: Int, min: Double, max: Double, mean: Double, m2: Double) {
    self.init(count: count, min: min, max: max, scaledMean: mean, scaledM2: m2, exponent: 0)
  }

  /// Statistics from moments in units: mean = `scaledMean * 2^exponent`, M2 = `scaledM2 * 2^(2 * exponent)`.
  init(count: Int, min: Double, max: Double, scaledMean: Double, scaledM2: Double, exponent: Int) {
    self.count = count
    self.min = min
    self.max = max
    self.scaledMean = scaledMean
    self.scaledM2 = Swift.max(0, scaledM2)
    self.exponent = exponent
    if exponent != 0 || !RunningStats.isSafe(m2: scaledM2) {
      rescale(to: RunningStats.unitExponent(maxMagnitude))
      settle()
    }
  }

  /// Adds one value (Welford).
  public mutating func add(_ x: Double) {
    let n = count + 1
    let delta = x - scaledMean
    let newMean = scaledMean + delta / Double(n)
    let m2 = scaledM2 + delta * (x - newMean)
    if exponent == 0, RunningStats.isSafe(delta), RunningStats.isSafe(m2: m2) {
      count = n
      scaledMean = newMean
      scaledM2 = m2
      if x < min { min = x }
      if x > max { max = x }
    } else {
      merge(RunningStats(count: 1, min: x, max: x, mean: x, m2: 0))
    }
  }

  /// Merges another set of statistics into this one (Chan et al.).
  public mutating func merge(_ other: RunningStats) {
    guard other.count > 0 else { return }
    guard count > 0 else { self = other; return }
    let n = Double(count + other.count)
    let delta = other.scaledMean - scaledMean
    let m2 = scaledM2 + other.scaledM2 + delta * delta * Double(count) * Double(other.count) / n
    if exponent == 0, other.exponent == 0, RunningStats.isSafe(delta), RunningStats.isSafe(m2: m2) {
      scaledMean += delta * Double(other.count) / n
      scaledM2 = m2
      count += other.count
      min = Swift.min(min, other.min)
      max = Swift.max(max, other.max)
      return
    }
    // Chan's update in units of the largest magnitude of both: means in [-2, 2], their difference
    // in [-4, 4], squares far from overflow; what underflows is worth nothing next to the rest.
    var b = other
    count += other.count
    min = Swift.min(min, other.min)
    max = Swift.max(max, other.max)
    let unit = RunningStats.unitExponent(maxMagnitude)
    rescale(to: unit)
    b.rescale(to: unit)
    let d = b.scaledMean - scaledMean
    scaledMean = Swift.min(Swift.max(scaledMean + d * Double(b.count) / n, scalbn(min, -unit)), scalbn(max, -unit))
    scaledM2 += b.scaledM2 + d * d * Double(count - b.count) * Double(b.count) / n
    settle()
  }

  /// Moves the mean and M2 to units of 2^e.
  private mutating func rescale(to e: Int) {
    guard e != exponent else { return }
    scaledMean = scalbn(scaledMean, exponent - e)
    scaledM2 = scalbn(scaledM2, 2 * (exponent - e))
    exponent = e
  }

  /// Back to the plain form (exponent 0) when the values are moderate enough for the fast updates.
  private mutating func settle() {
    if exponent != 0 && Swift.abs(exponent) <= 400 {
      let m2 = scalbn(scaledM2, 2 * exponent)
      if RunningStats.isSafe(m2: m2) {
        scaledMean = scalbn(scaledMean, exponent)
        scaledM2 = m2
        exponent = 0
      }
    }
  }

  /// The unit (a power of two) for values of at most this magnitude: its exponent, at least -1022
  /// so that the scaled values stay normal; 0 for 0.
  static func unitExponent(_ magnitude: Double) -> Int {
    magnitude == 0 || !magnitude.isFinite ? 0 : Swift.max(Int(magnitude.exponent), -1022)
  }

  @inline(__always) static func isSafe(_ delta: Double) -> Bool {
    delta == 0 || safeDelta.contains(Swift.abs(delta))
  }

  @inline(__always) static func isSafe(m2: Double) -> Bool { m2 == 0 || safe.contains(m2) }

  /// The mean, rounded once from its scaled form.
  public var mean: Double { exponent == 0 ? scaledMean : scalbn(scaledMean, exponent) }
  /// M2, or +Inf when it exceeds the doubles (values beyond ~1e154; ``std`` is always finite).
  public var m2: Double { exponent == 0 ? scaledM2 : scalbn(scaledM2, 2 * exponent) }
  /// Population variance (0 for fewer than one value); +Inf when it exceeds the doubles.
  public var variance: Double { count > 0 ? m2 / Double(count) : 0 }
  /// Population standard deviation: finite for finite values.
  public var std: Double {
    let s = scaled.std
    return exponent == 0 ? s : scalbn(s, exponent)
  }
  /// Mean and std in units of 2^exponent, unrounded (for a z-score of values near the subnormals).
  public var scaled: (mean: Double, std: Double, exponent: Int) {
    guard count > 0 else { return (scaledMean, 0, exponent) }
    let variance = scaledM2 / Double(count)
    // sqrt(M2) / sqrt(n) where M2 / n would fall below the normals
    let std = variance == 0 || variance.isNormal ? variance.squareRoot() : scaledM2.squareRoot() / Double(count).squareRoot()
    // At most half the range (Popoviciu), which rounding can overstep: ±max has std max, not +Inf.
    let halfRange = (scalbn(max, -exponent) - scalbn(min, -exponent)) / 2
    return (scaledMean, Swift.min(std, halfRange), exponent)
  }
  /// The largest magnitude seen.
  public var maxMagnitude: Double { count > 0 ? Swift.max(Swift.abs(min), Swift.abs(max)) : 0 }
  /// Whether every value was the same.
  public var isConstant: Bool { count > 0 && min == max }

  enum CodingKeys: String, CodingKey {
    case count, min, max, mean, m2, exponent
  }

  /// The mean and M2 are written in their units, `exponent` only when it is not 0, min and max only
  /// when there are values.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      count: try c.decode(Int.self, forKey: .count), min: try c.decodeIfPresent(Double.self, forKey: .min) ?? .infinity,
      max: try c.decodeIfPresent(Double.self, forKey: .max) ?? -.infinity, scaledMean: try c.decode(Double.self, forKey: .mean),
      scaledM2: try c.decode(Double.self, forKey: .m2), exponent: try c.decodeIfPresent(Int.self, forKey: .exponent) ?? 0)
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(count, forKey: .count)
    if count > 0 {  // the infinities of no value are not JSON numbers
      try c.encode(min, forKey: .min)
      try c.encode(max, forKey: .max)
    }
    try c.encode(scaledMean, forKey: .mean)
    try c.encode(scaledM2, forKey: .m2)
    if exponent != 0 { try c.encode(exponent, forKey: .exponent) }
  }
}

/// Statistics of one feature group over the clean samples.
public struct GroupStats: Sendable, Equatable, Codable {
  public var name: String
  public var values: RunningStats = RunningStats()
  /// Number of values with magnitude >= `--max-abs`, and the largest of them.
  public var extremeCount: Int = 0
  public var extremeMax: Double = 0
  /// The distribution of the values, when the scan collects histograms (`CheckOptions.histograms`).
  public var histogram: StreamingHistogram? = nil

  public init(name: String) { self.name = name }

  public mutating func merge(_ other: GroupStats) {
    values.merge(other.values)
    extremeCount += other.extremeCount
    extremeMax = Swift.max(extremeMax, other.extremeMax)
    if let h = other.histogram {
      if histogram == nil { histogram = h } else { histogram!.merge(h) }
    }
  }
}

/// Label statistics over the clean samples: range and, for integer labels, a histogram.
public struct LabelStats: Sendable, Equatable, Codable {
  /// Distinct integer labels beyond which the histogram stops (regression targets).
  public static let histogramLimit = 100_000

  public var values = RunningStats()
  /// Count per integer label value; stops growing after ``histogramLimit`` distinct values.
  public var histogram: [Int64: Int] {
    get {
      if dense.isEmpty { return counted }
      var settled = self
      settled.settle()
      return settled.counted
    }
    set {
      dense = []
      counted = newValue
    }
  }
  /// The counts not in `dense`.
  private var counted: [Int64: Int] = [:]
  /// Whether some label was not an integer or the histogram hit its limit.
  public var histogramIncomplete = false

  public init() {}

  public mutating func add(_ label: Double) {
    values.add(label)
    if label == label.rounded(), Swift.abs(label) < 9.0e15 {
      let k = Int64(label)
      if k >= 0 && k < LabelStats.denseCount {
        // Class indexes: counted in an array, folded into `histogram` by `settle()`.
        if dense.isEmpty { dense = [Int](repeating: 0, count: LabelStats.denseCount) }
        dense[Int(k)] += 1
        return
      }
      if let c = counted[k] {
        counted[k] = c + 1
      } else if counted.count < LabelStats.histogramLimit {
        counted[k] = 1
      } else {
        histogramIncomplete = true
      }
    } else {
      histogramIncomplete = true
    }
  }

  /// Equal when they count the same labels, however the counts are split between `dense` and
  /// `histogram`.
  public static func == (a: LabelStats, b: LabelStats) -> Bool {
    var a = a, b = b
    a.settle()
    b.settle()
    return a.values == b.values && a.counted == b.counted && a.histogramIncomplete == b.histogramIncomplete
  }

  /// Labels 0 ..< denseCount are counted in `dense` first (no hashing per sample).
  static let denseCount = 1024
  private var dense: [Int] = []

  /// Folds the counts of `dense` into `histogram`; `histogram` is complete afterwards.
  public mutating func settle() {
    guard !dense.isEmpty else { return }
    for (k, c) in dense.enumerated() where c > 0 {
      if let mine = counted[Int64(k)] {
        counted[Int64(k)] = mine + c
      } else if counted.count < LabelStats.histogramLimit {
        counted[Int64(k)] = c
      } else {
        histogramIncomplete = true
      }
    }
    dense = []
  }

  enum CodingKeys: String, CodingKey { case values, histogram, histogramIncomplete = "histogram_incomplete" }

  /// The histogram is written as [label, count] pairs in ascending order of label.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    values = try c.decode(RunningStats.self, forKey: .values)
    let pairs = try c.decode([[Int64]].self, forKey: .histogram)
    for pair in pairs {
      guard pair.count == 2, pair[1] > 0, counted[pair[0]] == nil else {
        throw DecodingError.dataCorruptedError(forKey: .histogram, in: c, debugDescription: "not [label, count] pairs")
      }
      counted[pair[0]] = Int(pair[1])
    }
    histogramIncomplete = try c.decode(Bool.self, forKey: .histogramIncomplete)
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(values, forKey: .values)
    try c.encode(histogram.sorted { $0.key < $1.key }.map { [$0.key, Int64($0.value)] }, forKey: .histogram)
    try c.encode(histogramIncomplete, forKey: .histogramIncomplete)
  }

  public mutating func merge(_ other: LabelStats) {
    var other = other
    other.settle()
    settle()
    values.merge(other.values)
    for (k, c) in other.counted {
      if let mine = counted[k] {
        counted[k] = mine + c
      } else if counted.count < LabelStats.histogramLimit {
        counted[k] = c
      } else {
        histogramIncomplete = true
      }
    }
    histogramIncomplete = histogramIncomplete || other.histogramIncomplete
  }
}
