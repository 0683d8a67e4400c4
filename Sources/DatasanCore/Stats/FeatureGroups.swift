/// How the values of one sample divide into feature groups (SPEC.md "feature group").
///
/// A feature group is one entry of axis 1 of the data (a CSV column, a channel of
/// N x C x H x W, a column of N x D), or of the last axis with `--channel-axis last`;
/// the whole sample when the data is 1-D (each sample a scalar).
public struct FeatureGroups: Sendable, Equatable {
  /// Number of groups.
  public let count: Int
  /// Number of values of one group in one sample.
  public let valuesPerGroup: Int
  /// True when group `g` is every `count`-th value starting at `g` (channel last);
  /// false when it is the contiguous block `g * valuesPerGroup ..< (g+1) * valuesPerGroup`.
  public let interleaved: Bool
  /// True when each sample is a single value (1-D data): the one group is the dataset.
  public let scalar: Bool

  public init(sampleShape shape: [Int], channelAxis: ChannelAxis) {
    let total = shape.reduce(1, *)
    scalar = shape.isEmpty
    if shape.isEmpty {
      count = 1
      valuesPerGroup = 1
      interleaved = false
    } else if shape.count == 1 {
      count = shape[0]
      valuesPerGroup = 1
      interleaved = false
    } else if channelAxis == .last {
      count = shape[shape.count - 1]
      valuesPerGroup = count == 0 ? 0 : total / count
      interleaved = true
    } else {
      count = shape[0]
      valuesPerGroup = count == 0 ? 0 : total / count
      interleaved = false
    }
  }

  /// The group names for a dataset called `name` ("data[0]", "data[1]", ...), unless
  /// the format names them (CSV columns).
  public func names(featureName name: String, given: [String]?) -> [String] {
    if let given, given.count == count { return given }
    if scalar { return [name] }
    return (0..<count).map { "\(name)[\($0)]" }
  }
}
