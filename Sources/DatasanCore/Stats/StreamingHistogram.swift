/// A histogram of a stream of values whose range is not known in advance, in bins keyed by the
/// bits of the value as a float32 (HdrHistogram-style): the sign, the 8 exponent bits and the top
/// ``mantissaBits`` mantissa bits. Every bin spans 1/32 of an octave (relative width <= 3.1%),
/// so the histogram is as fine near 0.001 as near 1000, and two histograms merge exactly (same
/// keys, counts add), whatever order batches, threads or shards arrive in.
///
/// Storage is sparse by octave: a page of 32 counters is allocated the first time a value of
/// its sign and exponent is seen, so a feature in [0, 255] uses about ten pages.
/// ``linearBins(_:min:max:)`` resamples the bins to equal-width bins over [min, max] for display.
public struct StreamingHistogram: Sendable, Equatable, Codable {
  /// Mantissa bits kept in a key: 2^5 = 32 bins per octave.
  public static let mantissaBits = 5
  static let perPage = 1 << mantissaBits
  static let pageMask = perPage - 1
  /// Sign + exponent: one page per octave and sign.
  static let pageCount = 512
  static let keyShift = UInt32(23 - mantissaBits)

  /// Slot of each page in `counts` (in pages), or -1 when the page is not allocated.
  private var slots: [Int32]
  /// The allocated pages, `perPage` counters each.
  private var counts: [UInt64] = []
  /// Values counted (NaN is never counted).
  public private(set) var total: UInt64 = 0

  public init() { slots = [Int32](repeating: -1, count: StreamingHistogram.pageCount) }

  /// Equal when they hold the same counts in the same bins (whatever order pages were allocated in).
  public static func == (a: StreamingHistogram, b: StreamingHistogram) -> Bool {
    a.total == b.total && a.bins == b.bins
  }

  /// The key of a value: the top bits of its float32 pattern. Magnitudes beyond float32 land
  /// in the page of the infinities; NaN has no key.
  @inline(__always) static func key(_ x: Float) -> Int { Int(truncatingIfNeeded: x.bitPattern >> keyShift) }

  /// Adds one value.
  public mutating func add(_ x: Double) {
    guard !x.isNaN else { return }
    let k = StreamingHistogram.key(Float(x))
    let s = slot(page: k >> StreamingHistogram.mantissaBits)
    counts[s * StreamingHistogram.perPage + (k & StreamingHistogram.pageMask)] &+= 1
    total &+= 1
  }

  /// Adds `count` values at `p`, `stride` elements apart.
  public mutating func add<T: FeatureElement>(_ p: UnsafePointer<T>, count n: Int, stride: Int = 1) {
    guard n > 1 else {
      if n == 1 { add(p[0].doubleValue) }
      return
    }
    // One loop per concrete type, so the per-value work is inlined (callers reach here through
    // an opened existential, where a generic loop would call a witness per value).
    let raw = UnsafeRawPointer(p)
    switch T.elementType {
    case .uint8:
      if stride == 1 && n >= 1024 {
        addBytes(raw.assumingMemoryBound(to: UInt8.self), count: n)
      } else {
        addLoop(raw.assumingMemoryBound(to: UInt8.self), n, stride) { Float($0) }
      }
    case .int8: addLoop(raw.assumingMemoryBound(to: Int8.self), n, stride) { Float($0) }
    case .uint16: addLoop(raw.assumingMemoryBound(to: UInt16.self), n, stride) { Float($0) }
    case .int16: addLoop(raw.assumingMemoryBound(to: Int16.self), n, stride) { Float($0) }
    case .uint32: addLoop(raw.assumingMemoryBound(to: UInt32.self), n, stride) { Float($0) }
    case .int32: addLoop(raw.assumingMemoryBound(to: Int32.self), n, stride) { Float($0) }
    case .uint64: addLoop(raw.assumingMemoryBound(to: UInt64.self), n, stride) { Float($0) }
    case .int64: addLoop(raw.assumingMemoryBound(to: Int64.self), n, stride) { Float($0) }
    case .float32: addLoop(raw.assumingMemoryBound(to: Float.self), n, stride) { $0 }
    case .float64: addLoop(raw.assumingMemoryBound(to: Double.self), n, stride) { Float($0) }
    }
  }

  @inline(__always)
  private mutating func addLoop<E>(_ p: UnsafePointer<E>, _ n: Int, _ stride: Int, _ float: (E) -> Float) {
    var i = 0
    var nan = 0
    while i < n {
      // Count until a value falls in a page not allocated yet; allocate it and go on.
      let (stop, skipped) = counts.withUnsafeMutableBufferPointer { c -> (Int, Int) in
        slots.withUnsafeBufferPointer { s -> (Int, Int) in
          var j = i
          var e = j &* stride
          var skipped = 0
          while j < n {
            let x = float(p[e])
            if x.isNaN {
              skipped &+= 1
            } else {
              let k = StreamingHistogram.key(x)
              let slot = Int(s[k &>> StreamingHistogram.mantissaBits])
              if slot < 0 { return (j, skipped) }
              c[slot &* StreamingHistogram.perPage &+ (k & StreamingHistogram.pageMask)] &+= 1
            }
            j &+= 1
            e &+= stride
          }
          return (j, skipped)
        }
      }
      nan &+= skipped
      if stop < n {
        let k = StreamingHistogram.key(float(p[stop * stride]))
        _ = slot(page: k >> StreamingHistogram.mantissaBits)
      }
      i = stop
    }
    total &+= UInt64(n - nan)
  }

  /// Bytes: a 256-entry table first, then one bin update per distinct value.
  private mutating func addBytes(_ p: UnsafePointer<UInt8>, count n: Int) {
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 256) { table in
      table.initialize(repeating: 0)
      for j in 0..<n { table[Int(p[j])] &+= 1 }
      for v in 0..<256 where table[v] > 0 {
        let k = StreamingHistogram.key(Float(v))
        let s = slot(page: k >> StreamingHistogram.mantissaBits)
        counts[s &* StreamingHistogram.perPage &+ (k & StreamingHistogram.pageMask)] &+= table[v]
      }
    }
    total &+= UInt64(n)
  }

  /// The slot of `page`, allocated when needed.
  @inline(__always) private mutating func slot(page: Int) -> Int {
    let s = slots[page]
    if s >= 0 { return Int(s) }
    let new = counts.count / StreamingHistogram.perPage
    counts.append(contentsOf: repeatElement(0, count: StreamingHistogram.perPage))
    slots[page] = Int32(new)
    return new
  }

  enum CodingKeys: String, CodingKey { case keys, counts }

  /// Written sparse: the keys of the non-empty bins, ascending, and their counts.
  public init(from decoder: Decoder) throws {
    self.init()
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let keys = try c.decode([Int].self, forKey: .keys)
    let counts = try c.decode([UInt64].self, forKey: .counts)
    guard keys.count == counts.count else {
      throw DecodingError.dataCorruptedError(forKey: .counts, in: c, debugDescription: "one count per key")
    }
    let limit = StreamingHistogram.pageCount * StreamingHistogram.perPage
    for (k, n) in zip(keys, counts) {
      guard (0..<limit).contains(k) else {
        throw DecodingError.dataCorruptedError(forKey: .keys, in: c, debugDescription: "bin key \(k) out of range")
      }
      let s = slot(page: k >> StreamingHistogram.mantissaBits)
      self.counts[s * StreamingHistogram.perPage + (k & StreamingHistogram.pageMask)] &+= n
      total &+= n
    }
  }

  public func encode(to encoder: Encoder) throws {
    var keys: [Int] = []
    var values: [UInt64] = []
    for page in 0..<StreamingHistogram.pageCount where slots[page] >= 0 {
      let base = Int(slots[page]) * StreamingHistogram.perPage
      for b in 0..<StreamingHistogram.perPage where counts[base + b] > 0 {
        keys.append(page * StreamingHistogram.perPage + b)
        values.append(counts[base + b])
      }
    }
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(keys, forKey: .keys)
    try c.encode(values, forKey: .counts)
  }

  /// Adds the counts of `other` (exact: the same value always has the same key).
  public mutating func merge(_ other: StreamingHistogram) {
    guard other.total > 0 else { return }
    if total == 0 && counts.isEmpty { self = other; return }
    for page in 0..<StreamingHistogram.pageCount where other.slots[page] >= 0 {
      let from = Int(other.slots[page]) * StreamingHistogram.perPage
      let to = slot(page: page) * StreamingHistogram.perPage
      for b in 0..<StreamingHistogram.perPage { counts[to + b] &+= other.counts[from + b] }
    }
    total &+= other.total
  }

  /// One bin: the values in [lower, upper) (in (upper, lower] terms for negative values, the
  /// interval is [lower, upper] with lower < upper either way) and how many there were.
  public struct Bin: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public var count: UInt64
  }

  /// The non-empty bins in ascending order of value.
  public var bins: [Bin] {
    var result: [Bin] = []
    // Negative pages (sign bit set) descending in magnitude first, then positive ascending.
    let half = StreamingHistogram.pageCount / 2
    var order: [Int] = []
    for page in stride(from: StreamingHistogram.pageCount - 1, through: half, by: -1) { order.append(page) }
    for page in 0..<half { order.append(page) }
    for page in order where slots[page] >= 0 {
      let base = Int(slots[page]) * StreamingHistogram.perPage
      let negative = page >= half
      let offsets: [Int] = negative ? Array((0..<StreamingHistogram.perPage).reversed()) : Array(0..<StreamingHistogram.perPage)
      for b in offsets where counts[base + b] > 0 {
        let key = page * StreamingHistogram.perPage + b
        let (lo, hi) = StreamingHistogram.magnitudeRange(key: key)
        result.append(
          negative ? Bin(lower: -hi, upper: -lo, count: counts[base + b]) : Bin(lower: lo, upper: hi, count: counts[base + b]))
      }
    }
    return result
  }

  /// The range of magnitudes of a key: [lo, hi).
  static func magnitudeRange(key: Int) -> (Double, Double) {
    let magnitudeKey = UInt32(key & (StreamingHistogram.pageCount / 2 * StreamingHistogram.perPage - 1))
    let lo = Float(bitPattern: magnitudeKey << keyShift)
    let next = (magnitudeKey + 1) << keyShift
    // The last finite key's upper bound is the infinity page: clamp at float32's largest value.
    let hiFloat = Float(bitPattern: next)
    let hi = hiFloat.isFinite ? Double(hiFloat) : Double(Float.greatestFiniteMagnitude)
    return (lo.isFinite ? Double(lo) : Double(Float.greatestFiniteMagnitude), hi)
  }

  /// The counts resampled to `n` equal-width bins over [min, max] (the exact range of the data,
  /// from ``RunningStats``): each stored bin's count is spread over the output bins it overlaps,
  /// in proportion to the overlap. With min == max every value is in one bin.
  public func linearBins(_ n: Int, min: Double, max: Double) -> [Double] {
    var out = [Double](repeating: 0, count: Swift.max(1, n))
    guard total > 0, min.isFinite, max.isFinite, min <= max else { return out }
    let width = (max - min) / Double(out.count)
    for bin in bins {
      let c = Double(bin.count)
      let lo = Swift.max(bin.lower, min)
      let hi = Swift.min(bin.upper, max)
      if width == 0 || hi <= lo {
        // A bin narrower than nothing after clamping (the value at min or max, or a constant).
        let x = hi <= lo ? (bin.upper <= min ? min : (bin.lower >= max ? max : lo)) : lo
        let i = width == 0 ? 0 : Swift.min(out.count - 1, Swift.max(0, Int((x - min) / width)))
        out[i] += c
        continue
      }
      let first = Swift.min(out.count - 1, Swift.max(0, Int((lo - min) / width)))
      let last = Swift.min(out.count - 1, Swift.max(0, Int((hi - min) / width)))
      if first == last { out[first] += c; continue }
      let span = hi - lo
      for i in first...last {
        let a = Swift.max(lo, min + Double(i) * width)
        let b = Swift.min(hi, min + Double(i + 1) * width)
        if b > a { out[i] += c * (b - a) / span }
      }
    }
    return out
  }
}
