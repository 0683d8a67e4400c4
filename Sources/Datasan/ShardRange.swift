import DatasanCSV
import DatasanCore

extension Formats {
  /// The part of `path` that shard `shard` reads, and the input's sample count when the format knows
  /// it: CSV files by byte ranges (records that start in them, keys the file's line numbers), the
  /// other formats by sample ranges (HDF5 rows, LMDB records in key order, image files in path order).
  public func shardRange(_ shard: Shard, format: DataFormat, path: String, options: ReadOptions) throws -> (
    range: SampleRange, samples: Int?
  ) {
    if format == .csv {
      let size = Pipeline.fileSize(of: path) ?? 0
      return (.bytes(shard.bytes(of: size)), nil)
    }
    var whole = options
    whole.sampleRange = nil
    whole.keepOriginals = false
    whole.valuesNeeded = false
    let reader = try openReader(format: format, path: path, options: whole)
    guard let total = reader.info.sampleCount else {
      throw DatasanError(path: path, "its sample count is not known before reading, so it cannot be sharded")
    }
    return (.samples(shard.samples(of: total)), total)
  }
}
