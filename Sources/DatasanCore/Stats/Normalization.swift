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
    /// The map is `y = x * 2^scaleExponent * scale + offset`. Absent (0) unless the scale itself is
    /// no normal double: a range or a std that is subnormal, or one near the largest doubles.
    public var scaleExponent: Int?

    public init(
      name: String, min: Double, max: Double, mean: Double, std: Double, scale: Double, offset: Double,
      scaleExponent: Int? = nil
    ) {
      self.name = name
      self.min = min
      self.max = max
      self.mean = mean
      self.std = std
      self.scale = scale
      self.offset = offset
      self.scaleExponent = scaleExponent == 0 ? nil : scaleExponent
    }

    enum CodingKeys: String, CodingKey {
      case name, min, max, mean, std, scale, offset, scaleExponent = "scale_exponent"
    }
  }

  public var schema: String = "datasan-stats/1"
  public var method: NormalizationMethod
  public var range: [Double]
  public var channelAxis: ChannelAxis
  public var groups: [Group]
  /// The class names the labels follow (label `i` is class `classes[i]`), when the data had a class
  /// list: a `--stats-in` run labels an image folder by it, so a validation folder gets the
  /// training set's labels. Absent otherwise.
  public var classes: [String]? = nil

  public init(method: NormalizationMethod, range: [Double], channelAxis: ChannelAxis, groups: [Group]) {
    self.method = method
    self.range = range
    self.channelAxis = channelAxis
    self.groups = groups
  }

  enum CodingKeys: String, CodingKey {
    case schema, method, range, channelAxis = "channel_axis", groups, classes
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
      var map = (scale: 1.0, offset: 0.0, exponent: 0)
      switch method {
      case .minmax:
        map = s.count == 0 || s.max == s.min ? (0, 0, 0) : NormalizationParameters.map(from: s.min, s.max, onto: lo, hi)
      case .zscore:
        map = s.count == 0 || s.std == 0 ? (0, 0, 0) : NormalizationParameters.standardize(s.scaled)
      case .none:
        break
      }
      return Group(
        name: g.name, min: s.count > 0 ? s.min : 0, max: s.count > 0 ? s.max : 0, mean: s.mean, std: s.std,
        scale: map.scale, offset: map.offset, scaleExponent: map.exponent)
    }
  }

  /// The affine map of [a, b] onto [lo, hi]. When b - a or the scale is no normal double (a
  /// subnormal range, or ends of opposite signs near the largest doubles), in units of 2^k, k the
  /// exponent of the larger end: there both ends lie in [-2, 2].
  static func map(from a: Double, _ b: Double, onto lo: Double, _ hi: Double) -> (scale: Double, offset: Double, exponent: Int) {
    let scale = (hi - lo) / (b - a)
    if (b - a).isNormal && scale.isNormal { return (scale, lo - a * scale, 0) }
    let k = Int(Swift.max(Swift.abs(a), Swift.abs(b)).exponent)
    let (u, v) = (scalbn(a, -k), scalbn(b, -k))
    let unitScale = (hi - lo) / (v - u)
    return folded(scale: unitScale, offset: lo - u * unitScale, exponent: -k)
  }

  /// The affine map x -> (x - mean) / std, from mean and std in units of 2^e (``RunningStats/scaled``).
  /// When 1 / std is no normal double, in units of 2^k more, k the exponent of the scaled std.
  static func standardize(_ s: (mean: Double, std: Double, exponent: Int)) -> (scale: Double, offset: Double, exponent: Int) {
    if s.exponent == 0 {
      let scale = 1 / s.std
      if scale.isNormal && (s.mean / s.std).isFinite { return (scale, -s.mean / s.std, 0) }
    }
    let k = Int(s.std.exponent)
    let w = scalbn(s.std, -k)
    return folded(scale: 1 / w, offset: -scalbn(s.mean, -k) / w, exponent: -(k + s.exponent))
  }

  /// `x * 2^exponent * scale + offset` with the power of two folded into the scale when that leaves
  /// it a normal double.
  private static func folded(scale: Double, offset: Double, exponent: Int) -> (scale: Double, offset: Double, exponent: Int) {
    let whole = scalbn(scale, exponent)
    return whole.isNormal ? (whole, offset, 0) : (scale, offset, exponent)
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
    let exponents = parameters.groups.map { $0.scaleExponent ?? 0 }
    let scaled = exponents.contains { $0 != 0 }
    // Uniform batches share one layout: work it out once, not per sample.
    let shared = batch.shapes == nil ? FeatureGroups(sampleShape: batch.shape, channelAxis: parameters.channelAxis) : nil
    try batch.elementType.withType { t in
      for i in 0..<batch.count {
        let groups = shared ?? FeatureGroups(sampleShape: batch.shape(of: i), channelAxis: parameters.channelAxis)
        guard groups.count == scales.count else {
          throw DatasanError(
            "the normalization parameters have \(scales.count) feature groups, the data has \(groups.count)")
        }
        if scaled {
          Normalizer.mapScaled(
            t, batch: batch, range: batch.elementRange(of: i), groups: groups, scales: scales, offsets: offsets,
            exponents: exponents, into: dst)
        } else {
          Normalizer.map(
            t, batch: batch, range: batch.elementRange(of: i), groups: groups, scales: scales, offsets: offsets,
            into: dst)
        }
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

  /// ``map`` for parameters where some group's scale carries a power of two: x * 2^e first (exact),
  /// then the affine map, value by value.
  private static func mapScaled<T: FeatureElement>(
    _: T.Type, batch: SampleBatch, range: Range<Int>, groups: FeatureGroups, scales: [Double],
    offsets: [Double], exponents: [Int], into dst: UnsafeMutableBufferPointer<Float>
  ) {
    let src = batch.storage.typed(T.self, count: batch.elementCount)
    for e in range {
      let position = e - range.lowerBound
      let g = groups.interleaved ? position % groups.count : position / groups.valuesPerGroup
      dst[e] = Float(scalbn(src[e].doubleValue, exponents[g]) * scales[g] + offsets[g])
    }
  }
}
