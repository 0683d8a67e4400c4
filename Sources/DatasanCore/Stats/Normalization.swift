import CDatasanKernels

/// How `clean` maps features (`--normalize`).
public enum NormalizationMethod: String, Sendable, CaseIterable, Codable {
  /// Each group's [min, max] onto `--range LO,HI`.
  case minmax
  /// (x - mean) / std, population std.
  case zscore
  /// Values unchanged.
  case none
}

/// The per-group affine maps `y = x * scale + offset` that `clean` applies, and the
/// statistics they come from. Written by `--stats-out`, read by `--stats-in`, and
/// recorded as attributes of an HDF5 output.
public struct NormalizationParameters: Sendable, Equatable, Codable {
  public struct Group: Sendable, Equatable, Codable {
    public var name: String
    public var min: Double
    public var max: Double
    public var mean: Double
    public var std: Double
    public var scale: Double
    public var offset: Double

    public init(name: String, min: Double, max: Double, mean: Double, std: Double, scale: Double, offset: Double) {
      self.name = name
      self.min = min
      self.max = max
      self.mean = mean
      self.std = std
      self.scale = scale
      self.offset = offset
    }
  }

  public var schema: String = "datasan-stats/1"
  public var method: NormalizationMethod
  public var range: [Double]
  public var channelAxis: ChannelAxis
  public var groups: [Group]

  public init(method: NormalizationMethod, range: [Double], channelAxis: ChannelAxis, groups: [Group]) {
    self.method = method
    self.range = range
    self.channelAxis = channelAxis
    self.groups = groups
  }

  enum CodingKeys: String, CodingKey {
    case schema, method, range, channelAxis = "channel_axis", groups
  }

  /// Parameters computed from the statistics of the clean samples.
  ///
  /// A constant group (or one with no clean value) maps to 0, never to NaN.
  public init(method: NormalizationMethod, range: (Double, Double), channelAxis: ChannelAxis, stats: [GroupStats]) {
    let (lo, hi) = range
    self.method = method
    self.range = [lo, hi]
    self.channelAxis = channelAxis
    self.groups = stats.map { g in
      let s = g.values
      var scale = 1.0
      var offset = 0.0
      switch method {
      case .minmax:
        if s.count == 0 || s.max == s.min || !(s.max - s.min).isFinite {
          scale = 0
          offset = 0
        } else {
          scale = (hi - lo) / (s.max - s.min)
          offset = lo - s.min * scale
        }
      case .zscore:
        let sd = s.std
        if s.count == 0 || sd == 0 || !sd.isFinite {
          scale = 0
          offset = 0
        } else {
          scale = 1 / sd
          offset = -s.mean / sd
        }
      case .none:
        break
      }
      return Group(
        name: g.name, min: s.count > 0 ? s.min : 0, max: s.count > 0 ? s.max : 0, mean: s.mean, std: s.std,
        scale: scale, offset: offset)
    }
  }
}

/// Applies ``NormalizationParameters`` to batches.
public struct Normalizer: Sendable {
  public let parameters: NormalizationParameters

  public init(_ parameters: NormalizationParameters) { self.parameters = parameters }

  /// A float32 copy of `batch` with every group mapped by its affine map.
  /// Throws when the batch's samples do not have as many groups as the parameters.
  public func apply(to batch: SampleBatch) throws -> SampleBatch {
    let n = batch.elementCount
    let out = ByteStorage(byteCount: n * 4, zeroed: false)
    let dst = out.typed(Float.self, count: n)
    let scales = parameters.groups.map { $0.scale }
    let offsets = parameters.groups.map { $0.offset }
    // Uniform batches share one layout: work it out once, not per sample.
    let shared = batch.shapes == nil ? FeatureGroups(sampleShape: batch.shape, channelAxis: parameters.channelAxis) : nil
    try batch.elementType.withType { t in
      for i in 0..<batch.count {
        let groups = shared ?? FeatureGroups(sampleShape: batch.shape(of: i), channelAxis: parameters.channelAxis)
        guard groups.count == scales.count else {
          throw DatasanError(
            "the normalization parameters have \(scales.count) feature groups, the data has \(groups.count)")
        }
        Normalizer.map(
          t, batch: batch, range: batch.elementRange(of: i), groups: groups, scales: scales, offsets: offsets,
          into: dst)
      }
    }
    var result = batch
    result.elementType = .float32
    result.storage = out
    return result
  }

  private static func map<T: FeatureElement>(
    _: T.Type, batch: SampleBatch, range: Range<Int>, groups: FeatureGroups, scales: [Double],
    offsets: [Double], into dst: UnsafeMutableBufferPointer<Float>
  ) {
    let src = batch.storage.typed(T.self, count: batch.elementCount)
    if groups.interleaved {
      var g = 0
      for e in range {
        dst[e] = Float(src[e].doubleValue * scales[g] + offsets[g])
        g += 1
        if g == groups.count { g = 0 }
      }
      return
    }
    let n = groups.valuesPerGroup
    for g in 0..<groups.count {
      let start = range.lowerBound + g * n
      let from = UnsafeRawPointer(src.baseAddress! + start)
      let to = dst.baseAddress! + start
      switch T.elementType {
      case .float32: datasan_affine_f32(from.assumingMemoryBound(to: Float.self), n, scales[g], offsets[g], to)
      case .float64: datasan_affine_f64(from.assumingMemoryBound(to: Double.self), n, scales[g], offsets[g], to)
      case .uint8: datasan_affine_u8(from.assumingMemoryBound(to: UInt8.self), n, scales[g], offsets[g], to)
      case .uint16: datasan_affine_u16(from.assumingMemoryBound(to: UInt16.self), n, scales[g], offsets[g], to)
      default:
        for e in 0..<n { to[e] = Float(src[start + e].doubleValue * scales[g] + offsets[g]) }
      }
    }
  }
}
