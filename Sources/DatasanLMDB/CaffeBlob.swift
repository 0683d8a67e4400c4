/// Caffe's `BlobProto`, as `compute_image_mean` writes the mean image for a `mean_file`:
/// num = 1 (field 1), channels (2), height (3), width (4), data (5, packed float).
public enum CaffeBlob {
  /// The serialized BlobProto of a C x H x W mean image.
  public static func encodeMean(channels: Int, height: Int, width: Int, data: [Float]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(data.count * 4 + 32)
    for (field, value) in [(1, 1), (2, channels), (3, height), (4, width)] {
      Datum.appendTag(field, 0, &out)
      Datum.appendVarint(UInt64(value), &out)
    }
    Datum.appendTag(5, 2, &out)
    Datum.appendVarint(UInt64(data.count * 4), &out)
    for v in data {
      let bits = v.bitPattern.littleEndian
      withUnsafeBytes(of: bits) { out.append(contentsOf: $0) }
    }
    return out
  }
}
