/// The per-element mean of the clean samples (Caffe's `compute_image_mean`), accumulated in
/// float64 over the values as `clean` writes them (normalized, when normalizing). The sums are kept in units of 2^64
/// (exact: a power of two), so that float64 values near the largest doubles do not overflow them;
/// the values that lose precision to it lie far below what the float32 mean can show.
public struct MeanImage: Sendable {
  /// The shape of the samples averaged.
  public let shape: [Int]
  public private(set) var count = 0
  private var sums: [Double]
  private static let unit = 0x1p-64

  public init(shape: [Int]) {
    self.shape = shape
    sums = [Double](repeating: 0, count: shape.reduce(1, *))
  }

  /// Adds every sample of `batch`. Throws, naming the first, when a sample has another shape
  /// (images of varying sizes under `--shape any`): a mean image needs one size, as Caffe's
  /// `compute_image_mean` does.
  public mutating func add(_ batch: SampleBatch) throws {
    if let i = (0..<batch.count).first(where: { batch.shape(of: $0) != shape }) {
      throw DatasanError(
        "--caffe-mean: sample \(batch.key(of: i)) has shape \(batch.shape(of: i)), the mean image \(shape): a mean image "
          + "needs samples of one size (as Caffe's compute_image_mean does); pass --resize H,W")
    }
    batch.elementType.withType { t in add(t, batch) }
  }

  private mutating func add<T: FeatureElement>(_: T.Type, _ batch: SampleBatch) {
    let values = batch.storage.typed(T.self, count: batch.elementCount)
    sums.withUnsafeMutableBufferPointer { sums in
      for i in 0..<batch.count {
        let start = batch.elementRange(of: i).lowerBound
        for e in 0..<sums.count { sums[e] += values[start + e].doubleValue * MeanImage.unit }
        count += 1
      }
    }
  }

  /// The mean as C x H x W (Caffe's layout), with the channels, height and width it has.
  /// Samples stored H x W x C (`channelAxis == .last`) are transposed.
  public func caffeLayout(channelAxis: ChannelAxis) -> (channels: Int, height: Int, width: Int, mean: [Float]) {
    let n = Double(Swift.max(count, 1)) * MeanImage.unit
    var c = 1, h = 1, w = sums.count
    switch shape.count {
    case 3: (c, h, w) = channelAxis == .last ? (shape[2], shape[0], shape[1]) : (shape[0], shape[1], shape[2])
    case 2: (h, w) = (shape[0], shape[1])
    default: break
    }
    var mean = [Float](repeating: 0, count: sums.count)
    if shape.count == 3 && channelAxis == .last {
      for y in 0..<h { for x in 0..<w { for k in 0..<c { mean[(k * h + y) * w + x] = Float(sums[(y * w + x) * c + k] / n) } } }
    } else {
      for e in 0..<sums.count { mean[e] = Float(sums[e] / n) }
    }
    return (c, h, w, mean)
  }
}
