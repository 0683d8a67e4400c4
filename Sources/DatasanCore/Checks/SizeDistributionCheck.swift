/// The sizes of the samples (their shapes): how many decoded samples have each one, for the
/// report's size distribution (smallest, largest, most common). Images of a folder or an LMDB vary
/// in size; `--shape any` accepts them all, and `init` proposes it when they vary. Counts every
/// sample that decoded, flagged or not (a `shape_mismatch` sample has a size too); reports no finding.
public struct SizeDistributionCheck: DatasetCheck {
  public static let kinds: [FindingKind] = []
  public static let name = "sizes"

  public init() {}

  public func makeState(_ context: CheckContext) -> SizeDistribution { SizeDistribution() }

  public func add(_ checked: CheckedBatch, to state: inout SizeDistribution, _ context: CheckContext) {
    let batch = checked.batch
    guard checked.verdict.everySample == nil, batch.count > 0 else { return }
    if case .unreadable = batch.values { return }
    if batch.shapes == nil {
      let decoded = batch.count - batch.problems.count
      if decoded > 0 { state.add(batch.shape, count: decoded) }
      return
    }
    for i in 0..<batch.count where batch.problems.isEmpty || batch.problems[i] == nil {
      state.add(batch.shape(of: i), count: 1)
    }
  }

  public func finish(_ state: SizeDistribution, _ context: FinishContext) -> [Finding] { [] }
}

/// How many samples have each shape. Merging adds the counts (exact, in any order: batches, threads
/// and shards alike); encoded as `[{"shape": [3, 480, 640], "count": 12}, ...]` ordered by shape.
public struct SizeDistribution: CheckState, Equatable {
  /// Samples per shape (without the sample axis).
  public private(set) var counts: [[Int]: Int] = [:]

  public init() {}

  public mutating func add(_ shape: [Int], count: Int) { counts[shape, default: 0] += count }

  public mutating func merge(_ other: SizeDistribution) { counts.merge(other.counts, uniquingKeysWith: +) }

  /// One shape and how many samples have it.
  public struct Size: Codable, Sendable, Equatable {
    public var shape: [Int]
    public var count: Int

    public init(shape: [Int], count: Int) {
      self.shape = shape
      self.count = count
    }

    /// Values per sample of this shape.
    public var values: Int { shape.reduce(1, *) }
  }

  /// Number of distinct shapes, and of samples counted.
  public var distinct: Int { counts.count }
  public var samples: Int { counts.values.reduce(0, +) }

  /// Every size, ordered by its number of values (then by shape).
  public var sizes: [Size] {
    counts.map { Size(shape: $0.key, count: $0.value) }.sorted(by: SizeDistribution.bySize)
  }

  /// The size with the fewest values per sample (ties: the first by shape).
  public var smallest: Size? { counts.map { Size(shape: $0.key, count: $0.value) }.min(by: SizeDistribution.bySize) }
  /// The size with the most values per sample (ties: the last by shape).
  public var largest: Size? { counts.map { Size(shape: $0.key, count: $0.value) }.max(by: SizeDistribution.bySize) }

  /// The `limit` most common sizes, most samples first (ties: smaller size first).
  public func mostCommon(_ limit: Int) -> [Size] {
    Array(
      counts.map { Size(shape: $0.key, count: $0.value) }
        .sorted { $0.count != $1.count ? $0.count > $1.count : SizeDistribution.bySize($0, $1) }
        .prefix(limit))
  }

  static func bySize(_ a: Size, _ b: Size) -> Bool {
    let (x, y) = (a.values, b.values)
    if x != y { return x < y }
    return a.shape.lexicographicallyPrecedes(b.shape)
  }

  /// "3x480x640": a shape as the summary and the HTML report show it.
  public static func text(_ shape: [Int]) -> String {
    shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "x")
  }

  public init(from decoder: Decoder) throws {
    var c = try decoder.unkeyedContainer()
    while !c.isAtEnd {
      let size = try c.decode(Size.self)
      guard size.count >= 0, size.shape.allSatisfy({ $0 >= 0 }) else {
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "a size with a negative count or dimension")
      }
      add(size.shape, count: size.count)
    }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.unkeyedContainer()
    for size in counts.map({ Size(shape: $0.key, count: $0.value) }).sorted(by: { $0.shape.lexicographicallyPrecedes($1.shape) }) {
      try c.encode(size)
    }
  }
}
