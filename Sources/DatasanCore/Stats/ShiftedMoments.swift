import CDatasanKernels

/// Running moments of one feature group: sums of d = x - shift and d*d (shift = the group's first
/// value, which keeps the sum of squares accurate when the mean is large against the spread), min,
/// max and the values beyond --max-abs. The C struct itself, so that the columnar kernel
/// (`datasan_column_moments_f32/f64`) works on an array of them in place.
typealias ShiftedMoments = datasan_column_moments

extension datasan_column_moments {
  init() { self.init(n: 0, shift: 0, s1: 0, s2: 0, min: .infinity, max: -.infinity, extreme_count: 0, extreme_max: 0) }

  /// Adds `rows` rows of `moments.count` interleaved values (row-major) at `values`, column by
  /// column, with the C kernel: the same sums as adding the values one by one.
  static func addRows<T: FeatureElement>(
    _ values: UnsafePointer<T>, rows: Int, maxAbs: Double, to moments: inout [ShiftedMoments]
  ) -> Bool {
    let columns = moments.count
    return moments.withUnsafeMutableBufferPointer { m in
      let raw = UnsafeRawPointer(values)
      switch T.elementType {
      case .float32: datasan_column_moments_f32(raw.assumingMemoryBound(to: Float.self), rows, columns, maxAbs, m.baseAddress)
      case .float64: datasan_column_moments_f64(raw.assumingMemoryBound(to: Double.self), rows, columns, maxAbs, m.baseAddress)
      default: return false
      }
      return true
    }
  }

  @inline(__always) mutating func add(_ x: Double, maxAbs: Double) {
    if n == 0 { shift = x }
    n += 1
    let d = x - shift
    s1 += d
    s2 += d * d
    if x < min { min = x }
    if x > max { max = x }
    if Swift.abs(x) >= maxAbs {
      extreme_count += 1
      extreme_max = Swift.max(extreme_max, Swift.abs(x))
    }
  }

  @inline(__always) mutating func add<T: FeatureElement>(_ values: UnsafeBufferPointer<T>, maxAbs: Double) {
    guard !values.isEmpty else { return }
    if n == 0 { shift = values[0].doubleValue }
    let k = shift
    var a1 = 0.0, a2 = 0.0
    var lo = min, hi = max
    var extreme: UInt64 = 0
    for v in values {
      let x = v.doubleValue
      let d = x - k
      a1 += d
      a2 += d * d
      lo = x < lo ? x : lo
      hi = x > hi ? x : hi
      extreme &+= Swift.abs(x) >= maxAbs ? 1 : 0
    }
    n += UInt64(values.count)
    s1 += a1
    s2 += a2
    min = lo
    max = hi
    if extreme > 0 {
      extreme_count += extreme
      for v in values where Swift.abs(v.doubleValue) >= maxAbs {
        extreme_max = Swift.max(extreme_max, Swift.abs(v.doubleValue))
      }
    }
  }

  func groupStats(name: String) -> GroupStats {
    var g = GroupStats(name: name)
    if n > 0 {
      let count = Double(n)
      g.values = RunningStats(count: Int(n), min: min, max: max, mean: shift + s1 / count, m2: s2 - s1 * s1 / count)
    }
    g.extremeCount = Int(extreme_count)
    g.extremeMax = extreme_max
    return g
  }
}
