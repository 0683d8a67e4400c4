import CDatasanKernels

/// Moments of one contiguous block of values (one feature group of one sample), computed with
/// vectorized C kernels in one pass over memory that stays in L1. `finite` false tells the caller
/// that the block holds a NaN or an Inf, to be counted exactly. Finite values the kernel cannot
/// square (beyond ~1e150, or a range below ~1e-150; for float32 beyond ~1e18 or a range below ~1e-12)
/// are measured again in scaled form (``ShiftedMoments/addScaled``).
struct BlockMoments {
  /// The moments as running statistics, to merge with Chan's formula.
  var stats = RunningStats()
  /// False when the block holds a NaN or an Inf: count them exactly; `stats` is then meaningless.
  var finite = true

  var count: Int { stats.count }
  var min: Double { stats.min }
  var max: Double { stats.max }

  init() {}

  init(_ m: datasan_moments, count: Int) {
    stats = RunningStats(count: count, min: m.min, max: m.max, mean: m.mean, m2: m.m2)
    finite = m.finite != 0
  }

  /// The moments of `count` values of type `T` at `p`, with the vectorized C kernel for the
  /// types that have one.
  static func of<T: FeatureElement>(_ p: UnsafePointer<T>, count n: Int) -> BlockMoments {
    var m = datasan_moments()
    let raw = UnsafeRawPointer(p)
    switch T.elementType {
    case .float32:
      datasan_moments_f32(raw.assumingMemoryBound(to: Float.self), n, &m)
      if m.finite == 0 && datasan_all_finite_f32(raw.assumingMemoryBound(to: Float.self), n) != 0 {
        return scaled(p, count: n)
      }
    case .float64:
      datasan_moments_f64(raw.assumingMemoryBound(to: Double.self), n, &m)
      if m.finite == 0 && datasan_all_finite_f64(raw.assumingMemoryBound(to: Double.self), n) != 0 {
        return scaled(p, count: n)
      }
    case .uint8: datasan_moments_u8(raw.assumingMemoryBound(to: UInt8.self), n, &m)
    case .int8: datasan_moments_i8(raw.assumingMemoryBound(to: Int8.self), n, &m)
    case .uint16: datasan_moments_u16(raw.assumingMemoryBound(to: UInt16.self), n, &m)
    case .int16: datasan_moments_i16(raw.assumingMemoryBound(to: Int16.self), n, &m)
    default: return of(generic: p, count: n)
    }
    return BlockMoments(m, count: n)
  }

  /// Finite values whose squares the kernels cannot hold, in scaled form.
  static func scaled<T: FeatureElement>(_ p: UnsafePointer<T>, count n: Int) -> BlockMoments {
    var s = ShiftedMoments()
    s.addScaled(p, count: n, stride: 1, maxAbs: .infinity)
    var result = BlockMoments()
    result.stats = s.stats
    return result
  }

  /// Any other element type (integers of 32 and 64 bits, whose squares fit a double), converted to
  /// double value by value.
  static func of<T: FeatureElement>(generic p: UnsafePointer<T>, count n: Int) -> BlockMoments {
    var result = BlockMoments()
    guard n > 0 else { return result }
    var total = 0.0
    var lo = Double.infinity
    var hi = -Double.infinity
    for i in 0..<n {
      let x = p[i].doubleValue
      total += x
      lo = Swift.min(lo, x)
      hi = Swift.max(hi, x)
    }
    let mean = total / Double(n)
    var m2 = 0.0
    for i in 0..<n {
      let d = p[i].doubleValue - mean
      m2 += d * d
    }
    result.stats = RunningStats(count: n, min: lo, max: hi, mean: mean, m2: m2)
    return result
  }
}

/// Counts the values with magnitude >= `limit` in a block, and the largest of them.
@inline(__always)
func extremeValues<T: FeatureElement>(_ p: UnsafePointer<T>, count n: Int, limit: Double) -> (count: Int, largest: Double) {
  var count = 0
  var largest = 0.0
  for i in 0..<n {
    let a = Swift.abs(p[i].doubleValue)
    if a >= limit {
      count += 1
      largest = Swift.max(largest, a)
    }
  }
  return (count, largest)
}

/// The per-block moments of the 8-bit samples of one batch, measured by the reader as it reads
/// each record: from its copy while still in cache, or where it lies when the batch gets no values
/// (``BatchValues/momentsOnly``). The checker then takes them instead of reading the whole batch
/// from memory once more.
///
/// Sample `i`'s block `b` is its values `b * blockLength ..< (b + 1) * blockLength`. The table
/// describes the values as the reader read them; code that changes a batch's values drops it.
///
/// `@unchecked Sendable`: it owns a raw table. The reader fills it while it reads the batch, before
/// the batch goes to other threads, which only read it; the compiler cannot follow that hand-over.
public final class MeasuredBlocks: @unchecked Sendable {
  public let samples: Int
  public let blocksPerSample: Int
  public let blockLength: Int
  private let table: UnsafeMutablePointer<datasan_moments>

  public init(samples: Int, blocksPerSample: Int, blockLength: Int) {
    self.samples = samples
    self.blocksPerSample = blocksPerSample
    self.blockLength = blockLength
    table = .allocate(capacity: Swift.max(1, samples * blocksPerSample))
  }

  deinit { table.deallocate() }

  /// Measures sample `i` from its values at `values` (its `blocksPerSample * blockLength` bytes).
  public func measure(sample i: Int, values: UnsafePointer<UInt8>) {
    precondition(i >= 0 && i < samples, "sample outside the table")
    for b in 0..<blocksPerSample {
      datasan_moments_u8(values + b * blockLength, blockLength, table + i * blocksPerSample + b)
    }
  }

  /// For a C reader that measures as it goes (with datasan_moments_u8): the table of
  /// `datasan_moments`, sample `i`'s block `b` at entry `i * blocksPerSample + b`.
  public var cTable: UnsafeMutableRawPointer { UnsafeMutableRawPointer(table) }

  /// True when the blocks are the contiguous feature groups `groups` of 8-bit samples.
  func describes(_ groups: FeatureGroups, elementType: ElementType) -> Bool {
    elementType == .uint8 && !groups.interleaved && groups.count == blocksPerSample
      && groups.valuesPerGroup == blockLength
  }

  func moments(sample i: Int, block b: Int) -> BlockMoments {
    BlockMoments(table[i * blocksPerSample + b], count: blockLength)
  }

  /// Sample `i`'s block `b` as running statistics.
  public func stats(sample i: Int, block b: Int) -> RunningStats { moments(sample: i, block: b).stats }
}
