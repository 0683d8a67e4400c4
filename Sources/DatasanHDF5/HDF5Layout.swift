import DatasanCore

extension DataFormat {
  /// HDF5 files (`.h5`).
  public static let hdf5 = DataFormat(rawValue: "hdf5")
}

/// How an HDF5 input stores its datasets, so that an HDF5 output can keep it.
public struct HDF5Layout: SourceLayout, Equatable {
  /// Chunk dimensions of the feature dataset (sample axis first), nil when contiguous.
  public var chunks: [Int]?
  /// gzip (deflate) level, nil when not compressed.
  public var gzipLevel: Int?
  public var shuffle: Bool
  public var fletcher32: Bool
  /// Element type of the label dataset as stored.
  public var labelType: ElementType?
  /// Rank of the label dataset: 1 for (N), 2 for (N, 1) or (N, K).
  public var labelRank: Int
  /// K of a label dataset (N, K) of one-hot / soft labels; 1 otherwise.
  public var labelWidth = 1

  public init(
    chunks: [Int]? = nil, gzipLevel: Int? = nil, shuffle: Bool = false, fletcher32: Bool = false,
    labelType: ElementType? = nil, labelRank: Int = 1
  ) {
    self.chunks = chunks
    self.gzipLevel = gzipLevel
    self.shuffle = shuffle
    self.fletcher32 = fletcher32
    self.labelType = labelType
    self.labelRank = labelRank
  }
}
