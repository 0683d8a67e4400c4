import CDatasanKernels

/// Moments of one contiguous block of values (one feature group of one sample), computed with
/// vectorized C kernels in two passes over memory that stays in L1: min / max / sum, then the sum of
/// squared deviations from the block's mean. A non-finite sum tells the caller that the block may hold
/// a NaN or an Inf (or values so large their sum overflows), to be counted exactly.
struct BlockMoments {
  var count = 0
  var min = Double.infinity
  var max = -Double.infinity
  var mean = 0.0
  var m2 = 0.0
  /// False when the block's sum is not finite: count its NaN / Inf exactly before using it.
  var finite = true

  /// The moments as running statistics, to merge with Chan's formula.
  var stats: RunningStats { RunningStats(count: count, min: min, max: max, mean: mean, m2: m2) }

  init() {}

  init(_ m: datasan_moments, count: Int) {
    self.count = count
    min = m.min
    max = m.max
    mean = m.mean
    m2 = m.m2
    finite = m.finite != 0
  }

  /// The moments of `count` values of type `T` at `p`, with the vectorized C kernel for the
  /// types that have one.
  static func of<T: FeatureElement>(_ p: UnsafePointer<T>, count n: Int) -> BlockMoments {
    var m = datasan_moments()
    let raw = UnsafeRawPointer(p)
    switch T.elementType {
    case .float32: datasan_moments_f32(raw.assumingMemoryBound(to: Float.self), n, &m)
    case .float64: datasan_moments_f64(raw.assumingMemoryBound(to: Double.self), n, &m)
    case .uint8: datasan_moments_u8(raw.assumingMemoryBound(to: UInt8.self), n, &m)
    case .int8: datasan_moments_i8(raw.assumingMemoryBound(to: Int8.self), n, &m)
    case .uint16: datasan_moments_u16(raw.assumingMemoryBound(to: UInt16.self), n, &m)
    case .int16: datasan_moments_i16(raw.assumingMemoryBound(to: Int16.self), n, &m)
    default: return of(generic: p, count: n)
    }
    return BlockMoments(m, count: n)
  }

  /// Any other element type, converted to double value by value.
  static func of<T: FeatureElement>(generic p: UnsafePointer<T>, count n: Int) -> BlockMoments {
    var result = BlockMoments()
    result.count = n
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
    guard total.isFinite else {
      result.finite = false
      return result
    }
    result.min = lo
    result.max = hi
    let mean = total / Double(n)
    result.mean = mean
    var m2 = 0.0
    for i in 0..<n {
      let d = p[i].doubleValue - mean
      m2 += d * d
    }
    result.m2 = m2
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

  /// For a C reader that measures as it goes: the function that measures one block of bytes into
  /// its entry, the table (entry of sample `i`'s block `b` at `(i * blocksPerSample + b) * stride`)
  /// and that stride.
  public var cMeasurer:
    (measure: @convention(c) (UnsafePointer<UInt8>?, Int, UnsafeMutableRawPointer?) -> Void,
      table: UnsafeMutableRawPointer, stride: Int)
  {
    ({ block, count, out in datasan_moments_u8(block, count, out?.assumingMemoryBound(to: datasan_moments.self)) },
      UnsafeMutableRawPointer(table), MemoryLayout<datasan_moments>.stride)
  }

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
