/// Count, min, max, mean and M2 (sum of squared deviations) of a stream of values.
///
/// Mergeable with Chan's formula, so batches, threads and shards combine exactly the
/// same way whatever order they arrive in.
public struct RunningStats: Sendable, Equatable, Codable {
  public private(set) var count: Int = 0
  public private(set) var min: Double = .infinity
  public private(set) var max: Double = -.infinity
  public private(set) var mean: Double = 0
  public private(set) var m2: Double = 0

  public init() {}

  /// Statistics from moments: `count` values with the given min, max, mean and M2.
  public init(count: Int, min: Double, max: Double, mean: Double, m2: Double) {
    self.count = count
    self.min = min
    self.max = max
    self.mean = mean
    self.m2 = Swift.max(0, m2)
  }

  /// Adds one value (Welford).
  public mutating func add(_ x: Double) {
    count += 1
    let delta = x - mean
    mean += delta / Double(count)
    m2 += delta * (x - mean)
    if x < min { min = x }
    if x > max { max = x }
  }

  /// Merges another set of statistics into this one (Chan et al.).
  public mutating func merge(_ other: RunningStats) {
    guard other.count > 0 else { return }
    guard count > 0 else { self = other; return }
    let n = Double(count + other.count)
    let delta = other.mean - mean
    mean += delta * Double(other.count) / n
    m2 += other.m2 + delta * delta * Double(count) * Double(other.count) / n
    count += other.count
    min = Swift.min(min, other.min)
    max = Swift.max(max, other.max)
  }

  /// Population variance (0 for fewer than one value).
  public var variance: Double { count > 0 ? m2 / Double(count) : 0 }
  /// Population standard deviation.
  public var std: Double { variance.squareRoot() }
  /// The largest magnitude seen.
  public var maxMagnitude: Double { count > 0 ? Swift.max(Swift.abs(min), Swift.abs(max)) : 0 }
  /// Whether every value was the same.
  public var isConstant: Bool { count > 0 && min == max }
}

/// Statistics of one feature group over the clean samples.
public struct GroupStats: Sendable, Equatable {
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
public struct LabelStats: Sendable, Equatable {
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
