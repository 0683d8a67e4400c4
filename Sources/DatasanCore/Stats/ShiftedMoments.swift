import CDatasanKernels
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

/// Running moments of one feature group: sums of d = x - shift and d*d (shift = the group's first
/// value, which keeps the sum of squares accurate when the mean is large against the spread), min,
/// max and the values beyond --max-abs. The C struct itself, so that the columnar kernel
/// (`datasan_column_moments_f32/f64`) works on an array of them in place.
///
/// Values whose squares would overflow (beyond ~1e150) or lose their precision to underflow (a range
/// below ~1e-150) are added in scaled form: the sums in units of 2^`exponent`, the exponent of the
/// largest magnitude seen, like LAPACK's dnrm2 scales a sum of squares. The fast paths (the kernel,
/// the loops below) check their sums after a run and hand the run to ``addScaled`` when they went
/// non-finite or too small.
typealias ShiftedMoments = datasan_column_moments

extension datasan_column_moments {
  init() {
    self.init(
      n: 0, shift: 0, s1: 0, s2: 0, min: .infinity, max: -.infinity, extreme_count: 0, extreme_max: 0, exponent: 0,
      skipped: 0)
  }

  /// Adds `rows` rows of `moments.count` interleaved values (row-major) at `values`, column by
  /// column, with the C kernel: the same sums as adding the values one by one. The columns the
  /// kernel leaves to the scaled form are added here.
  static func addRows<T: FeatureElement>(
    _ values: UnsafePointer<T>, rows: Int, maxAbs: Double, to moments: inout [ShiftedMoments]
  ) -> Bool {
    let columns = moments.count
    return moments.withUnsafeMutableBufferPointer { m in
      let raw = UnsafeRawPointer(values)
      let skipped: Int
      switch T.elementType {
      case .float32: skipped = datasan_column_moments_f32(raw.assumingMemoryBound(to: Float.self), rows, columns, maxAbs, m.baseAddress)
      case .float64: skipped = datasan_column_moments_f64(raw.assumingMemoryBound(to: Double.self), rows, columns, maxAbs, m.baseAddress)
      default: return false
      }
      if skipped > 0 {
        for c in 0..<columns where m[c].skipped != 0 {
          m[c].skipped = 0
          m[c].addScaled(values + c, count: rows, stride: columns, maxAbs: maxAbs)
        }
      }
      return true
    }
  }

  /// Adds one value.
  @inline(__always) mutating func add<T: FeatureElement>(_ value: T, maxAbs: Double) {
    add(value.doubleValue, maxAbs: maxAbs, checked: T.elementType.isFloatingPoint)
  }

  /// Adds one value. When `checked`, its square must lie in [2^-1000, 2^960) (or be 0): then it has
  /// its full precision and S2 stays finite for any count below 2^63; integers (below 2^64, apart
  /// by 1 or more) always are.
  @inline(__always) mutating func add(_ x: Double, maxAbs: Double, checked: Bool = true) {
    if n == 0 { shift = x }
    let d = x - shift
    let dd = d * d
    if checked && _slowPath(exponent != 0 || (d != 0 && !(dd >= 0x1p-1000 && dd < 0x1p960))) {
      addScaled(x, maxAbs: maxAbs)
      return
    }
    n += 1
    s1 += d
    s2 += dd
    if x < min { min = x }
    if x > max { max = x }
    if Swift.abs(x) >= maxAbs {
      extreme_count += 1
      extreme_max = Swift.max(extreme_max, Swift.abs(x))
    }
  }

  /// ``add(_:maxAbs:)`` of a value whose square the plain sums cannot hold, kept out of line.
  @inline(never) mutating func addScaled(_ x: Double, maxAbs: Double) {
    withUnsafePointer(to: x) { addScaled($0, count: 1, stride: 1, maxAbs: maxAbs) }
  }

  /// Adds contiguous values.
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
    let a1Sum = s1 + a1, a2Sum = s2 + a2
    guard exponent == 0, a2Sum.isFinite, hi == lo || hi - lo >= DATASAN_MIN_SAFE_RANGE_F64 else {
      addScaled(values.baseAddress!, count: values.count, stride: 1, maxAbs: maxAbs)
      return
    }
    n += UInt64(values.count)
    s1 = a1Sum
    s2 = a2Sum
    min = lo
    max = hi
    if extreme > 0 {
      extreme_count += extreme
      for v in values where Swift.abs(v.doubleValue) >= maxAbs {
        extreme_max = Swift.max(extreme_max, Swift.abs(v.doubleValue))
      }
    }
  }

  /// Adds `count` values `p[0], p[stride], ...` in scaled form: the sums move to units of 2^e, e the
  /// exponent of the largest magnitude seen (at least -1022, so that 2^-e is a double), where every
  /// d = x * 2^-e - shift * 2^-e lies in [-4, 4] and its square neither overflows nor, for a d that
  /// matters next to the largest, underflows.
  mutating func addScaled<T: FeatureElement>(_ p: UnsafePointer<T>, count: Int, stride: Int, maxAbs: Double) {
    guard count > 0 else { return }
    if n == 0 { shift = p[0].doubleValue }
    var lo = min, hi = max
    for i in 0..<count {
      let x = p[i * stride].doubleValue
      lo = Swift.min(lo, x)
      hi = Swift.max(hi, x)
      if Swift.abs(x) >= maxAbs {
        extreme_count += 1
        extreme_max = Swift.max(extreme_max, Swift.abs(x))
      }
    }
    let largest = Swift.max(Swift.abs(lo), Swift.abs(hi))
    let e = RunningStats.unitExponent(largest)
    // Sums so far to the new unit (the exponent only grows, or starts from the unscaled 0).
    if n > 0 && e != Int(exponent) {
      s1 = scalbn(s1, Int(exponent) - e)
      s2 = scalbn(s2, 2 * (Int(exponent) - e))
    }
    exponent = Int32(e)
    let unit = scalbn(1.0, -e)
    let k = shift * unit
    var a1 = 0.0, a2 = 0.0
    for i in 0..<count {
      let d = p[i * stride].doubleValue * unit - k
      a1 += d
      a2 += d * d
    }
    n += UInt64(count)
    s1 += a1
    s2 += a2
    min = lo
    max = hi
  }

  /// The moments as running statistics: mean = shift + S1/n, M2 = S2 - S1^2/n, both in units of
  /// 2^exponent.
  var stats: RunningStats {
    guard n > 0 else { return RunningStats() }
    let count = Double(n)
    let e = Int(exponent)
    let mean = (e == 0 ? shift : scalbn(shift, -e)) + s1 / count
    return RunningStats(count: Int(n), min: min, max: max, scaledMean: mean, scaledM2: s2 - s1 / count * s1, exponent: e)
  }

  func groupStats(name: String) -> GroupStats {
    var g = GroupStats(name: name)
    g.values = stats
    g.extremeCount = Int(extreme_count)
    g.extremeMax = extreme_max
    return g
  }
}
