import DatasanCore

/// One sample as a reader delivered it: everything a range read must reproduce.
public struct StreamSample: Equatable, CustomStringConvertible {
  public var index: Int
  public var key: String
  /// The label's bit pattern (NaN == NaN).
  public var label: UInt64?
  public var shape: [Int]
  /// The values' bytes; for a uint8 reader their float64 bit patterns, so that the same values
  /// compare equal whatever the type of the batch they were read in.
  public var values: [UInt8]
  public var problem: ReaderProblem?

  public var description: String { "#\(index) \(key) label \(label.map { Double(bitPattern: $0) } ?? .nan) \(shape)" }
}

/// Every sample of `reader`, in stream order.
public func readSamples(_ reader: SampleReader) throws -> [StreamSample] {
  var out: [StreamSample] = []
  // A uint8 LMDB's batch holding a float_data record is float32: values of uint8 readers are
  // compared as float64 (exact), whatever batch they came in.
  let asDoubles = reader.info.elementType == .uint8
  while let batch = try reader.nextBatch() {
    for i in 0..<batch.count {
      let size = batch.elementType.size
      let elements = batch.hasValues ? batch.elementRange(of: i) : 0..<0
      var values = Array(batch.storage.bytes[(elements.lowerBound * size)..<(elements.upperBound * size)])
      if asDoubles {
        values = batch.elementType.withType { t in asDoubleBits(t, batch, elements) }
      }
      out.append(
        StreamSample(
          index: batch.firstIndex + i, key: batch.key(of: i), label: batch.labels.map { $0[i].bitPattern },
          shape: batch.shape(of: i), values: values, problem: batch.problems[i]))
    }
  }
  return out
}

/// The float64 bit patterns of the values `range` of `batch`, as bytes.
private func asDoubleBits<T: FeatureElement>(_: T.Type, _ batch: SampleBatch, _ range: Range<Int>) -> [UInt8] {
  let typed = batch.storage.typed(T.self, count: batch.elementCount)
  var bytes: [UInt8] = []
  bytes.reserveCapacity(range.count * 8)
  for e in range { withUnsafeBytes(of: typed[e].doubleValue.bitPattern) { bytes.append(contentsOf: $0) } }
  return bytes
}

/// `count` random cut points in `bounds` (sorted, possibly equal, the ends included): the bounds of
/// `count + 1` consecutive ranges that cover it.
public func randomSplit(_ bounds: Range<Int>, parts: Int, using rng: inout SplitMix) -> [Int] {
  let cuts = (0..<(parts - 1)).map { _ in Int.random(in: bounds.lowerBound...bounds.upperBound, using: &rng) }
  return [bounds.lowerBound] + cuts.sorted() + [bounds.upperBound]
}
