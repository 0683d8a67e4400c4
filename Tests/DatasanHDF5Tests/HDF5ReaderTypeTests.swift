import DatasanCore
@testable import DatasanHDF5
import Foundation
import Testing

/// Every integer and float type of dtypes.h5, read as its native equivalent.
@Suite struct HDF5ReaderTypeTests {
  /// Row 0 holds [min, max, 0]; row i column j holds 3i + j, negated for odd j in signed types.
  func checkIntegers<T: FixedWidthInteger & FeatureElement>(_ dataset: String, _: T.Type) throws {
    var options = ReadOptions()
    options.dataset = dataset
    let reader = try HDF5Reader(path: Fixture.hdf5("dtypes.h5"), options: options)
    #expect(reader.info.elementType == T.elementType)
    #expect(reader.info.sampleShape == [3])
    #expect(reader.info.sampleCount == 6)
    #expect(reader.info.labelName == nil)
    let batch = try #require(try reader.nextBatch())
    #expect(batch.count == 6)
    #expect(batch.labels == nil)
    #expect(batch.problems.isEmpty)
    var expected: [T] = [T.min, T.max, 0]
    for i in 1..<6 {
      for j in 0..<3 {
        let v = T(3 * i + j)
        expected.append(T.isSigned && j % 2 == 1 ? 0 - v : v)
      }
    }
    batch.withValues(as: T.self) { #expect(Array($0) == expected) }
    #expect(try reader.nextBatch() == nil)
  }

  @Test func unsignedAndSignedIntegers() throws {
    try checkIntegers("u1", UInt8.self)
    try checkIntegers("i1", Int8.self)
    try checkIntegers("u2", UInt16.self)
    try checkIntegers("i2", Int16.self)
    try checkIntegers("u4", UInt32.self)
    try checkIntegers("i4", Int32.self)
    try checkIntegers("u8", UInt64.self)
    try checkIntegers("i8", Int64.self)
  }

  @Test func bigEndianInt16IsConvertedToNative() throws {
    try checkIntegers("be_i2", Int16.self)
  }

  /// Row 0 holds [-2.5, max, tiny]; row i column j holds 3i + j + 0.25.
  func checkFloats<T: BinaryFloatingPoint & FeatureElement>(_ dataset: String, _: T.Type, max: T, tiny: T) throws {
    let result = try readAll(Fixture.hdf5("dtypes.h5"), dataset: dataset)
    #expect(result.info.elementType == T.elementType)
    #expect(result.batchElementTypes == [T.elementType])
    var expected: [Double] = [-2.5, Double(max), Double(tiny)]
    for i in 1..<6 { for j in 0..<3 { expected.append(Double(3 * i + j) + 0.25) } }
    #expect(result.values == expected)
  }

  @Test func floats() throws {
    try checkFloats("f4", Float.self, max: .greatestFiniteMagnitude, tiny: .leastNormalMagnitude)
    try checkFloats("f8", Double.self, max: .greatestFiniteMagnitude, tiny: .leastNormalMagnitude)
    try checkFloats("be_f4", Float.self, max: .greatestFiniteMagnitude, tiny: .leastNormalMagnitude)
  }

  @Test func float16IsReadAsFloat32() throws {
    // float16: max 65504, smallest normal 2^-14; both exact in float32.
    try checkFloats("f2", Float.self, max: 65504, tiny: 0x1p-14)
  }
}

/// The same values stored contiguous, chunked, compressed and checksummed.
@Suite struct HDF5ReaderLayoutTests {
  static let expected = (0..<(37 * 6)).map { Double($0) * 0.5 }

  @Test(arguments: [
    ("contiguous", nil as [Int]?, nil as Int?, false, false),
    ("chunked", [5, 2, 3], nil, false, false),
    ("gzip", [8, 2, 3], 6, false, false),
    ("shuffle", [4, 2, 3], 4, true, false),
    ("fletcher32", [10, 1, 3], nil, false, true),
    ("all", [7, 2, 2], 9, true, true),
  ])
  func layout(name: String, chunks: [Int]?, gzip: Int?, shuffle: Bool, fletcher32: Bool) throws {
    for batchBytes in [1, 64, 200, 8 << 20] {
      let result = try readAll(Fixture.hdf5("layouts.h5"), dataset: name, batchBytes: batchBytes)
      #expect(result.values == Self.expected)
      #expect(result.problems.isEmpty)
      #expect(result.labels == (0..<37).map { Double($0 % 5) })
      #expect(result.info.sampleShape == [2, 3])
      #expect(result.info.featureName == name)
      #expect(result.info.labelName == "label")
      #expect(
        result.info.layout as? HDF5Layout
          == HDF5Layout(
            chunks: chunks, gzipLevel: gzip, shuffle: shuffle, fletcher32: fletcher32, labelType: .int64,
            labelRank: 1))
      // Every batch but the last covers whole chunks along axis 0.
      if let height = chunks?.first {
        for count in result.batchCounts.dropLast() { #expect(count % height == 0) }
      }
      // Batches are about batchBytes (24 bytes of values and 8 of label a row), never the whole dataset at once unless it fits.
      let rowBytes = 24 + 8  // values and label
      let limit = Swift.max(batchBytes / rowBytes, chunks?.first ?? 1, 1)
      for count in result.batchCounts { #expect(count <= limit) }
    }
  }

  @Test func compactLayout() throws {
    let result = try readAll(Fixture.hdf5("layouts.h5"), dataset: "compact", labels: "")
    #expect(result.values == Array(Self.expected.prefix(12)))
    #expect(result.labels == nil)
    #expect(result.info.labelName == nil)
  }

  @Test func batchRowsAreAlignedAndBounded() {
    #expect(HDF5Reader.batchRows(rowBytes: 24, batchBytes: 8 << 20, chunkHeight: nil) == (8 << 20) / 24)
    #expect(HDF5Reader.batchRows(rowBytes: 24, batchBytes: 1000, chunkHeight: 7) == 35)
    #expect(HDF5Reader.batchRows(rowBytes: 24, batchBytes: 10, chunkHeight: 7) == 7)
    #expect(HDF5Reader.batchRows(rowBytes: 0, batchBytes: 10, chunkHeight: nil) == 10)
    // A chunk row far larger than the budget is not forced into one batch.
    #expect(HDF5Reader.batchRows(rowBytes: 1 << 20, batchBytes: 1 << 20, chunkHeight: 1000) == 1)
  }

  /// A header claiming 2^40 rows of 4000 bytes (4 PB), never written: one run of unreadable rows,
  /// found from the chunk index in well under a second, nothing allocated per row.
  @Test func absurdDimensionsNeverWrittenAreOneRun() throws {
    let started = Date()
    var options = ReadOptions()
    options.batchBytes = 1 << 20
    let reader = try HDF5Reader(path: Fixture.hdf5("huge.h5"), options: options)
    #expect(reader.info.sampleCount == 1 << 40)
    #expect(reader.info.sampleShape == [1000])
    // Not #require: its copy of an Optional<SampleBatch> holding a run crashes (swift_release) here.
    guard let batch = try reader.nextBatch() else {
      Issue.record("no batch")
      return
    }
    #expect(batch.firstIndex == 0 && batch.count == 1 << 40)
    guard case .unreadable(let problem) = batch.values else {
      Issue.record("expected a run without values, got \(batch.values)")
      return
    }
    #expect(problem == ReaderProblem(.unreadable, "never written"))
    #expect(batch.storage.bytes.isEmpty && batch.labels == nil)
    #expect(try reader.nextBatch() == nil)
    #expect(Date().timeIntervalSince(started) < 0.5)
  }

  @Test func userBlockBeforeTheSuperblock() throws {
    #expect(HDF5Format.looksLikeHDF5(path: Fixture.hdf5("userblock.h5")))
    let result = try readAll(Fixture.hdf5("userblock.h5"))
    #expect(result.values == (0..<8).map(Double.init))
    #expect(result.info.elementType == .int32)
  }

  @Test func bytesReadGrowsWithTheScan() throws {
    var options = ReadOptions()
    options.dataset = "contiguous"
    options.batchBytes = 240
    let reader = try HDF5Reader(path: Fixture.hdf5("layouts.h5"), options: options)
    #expect(reader.bytesRead == 0)
    _ = try reader.nextBatch()
    let first = reader.bytesRead
    #expect(first > 0)
    while try reader.nextBatch() != nil {}
    // 37 rows of 24 bytes plus 37 labels of 8 bytes.
    #expect(reader.bytesRead == 37 * 24 + 37 * 8)
  }
}
