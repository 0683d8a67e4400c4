import CHDF5
import DatasanCore
@testable import DatasanHDF5
import DatasanTestSupport
import Foundation
import Testing

/// HDF5Writer output read back by HDF5Reader.
@Suite struct HDF5WriterTests {
  func layout(_ info: DatasetInfo) -> HDF5Layout? {
    if let layout = info.layout as? HDF5Layout { return layout }
    return nil
  }

  /// Copies `source` (all of its batches) through a writer that keeps its layout.
  @Test func roundTripKeepsValuesShapeTypesAndLayout() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let output = dir.appendingPathComponent("out.h5").path

    var options = ReadOptions()
    options.dataset = "all"  // chunks (7, 2, 2), shuffle + gzip 9 + fletcher32
    options.batchBytes = 100
    let reader = try HDF5Reader(path: Fixture.hdf5("layouts.h5"), options: options)
    let source = try #require(layout(reader.info))
    let writer = try HDF5Writer(
      path: output, featureName: "/train/images", labelName: "/train/labels", sampleShape: [2, 3],
      elementType: .float32, labelType: source.labelType, layout: source, normalization: nil)
    var batches = 0
    while let batch = try reader.nextBatch() {
      try writer.append(batch)
      batches += 1
    }
    #expect(batches > 1)
    try writer.finish()

    let back = try readAll(output, dataset: "/train/images", labels: "/train/labels")
    #expect(back.values == HDF5ReaderLayoutTests.expected)
    #expect(back.labels == (0..<37).map { Double($0 % 5) })
    #expect(back.info.sampleShape == [2, 3])
    #expect(back.info.elementType == .float32)
    let kept = try #require(layout(back.info))
    #expect(kept.chunks == [7, 2, 2])
    #expect(kept.gzipLevel == 9)
    #expect(kept.shuffle && kept.fletcher32)
    #expect(kept.labelType == .int64)
    #expect(kept.labelRank == 1)
  }

  @Test func normalizationIsRecordedAsAttributes() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let output = dir.appendingPathComponent("norm.h5").path
    let parameters = NormalizationParameters(
      method: .minmax, range: [-1, 1], channelAxis: .first,
      groups: [
        .init(name: "data[0]", min: 0, max: 255, mean: 120, std: 60, scale: 2.0 / 255, offset: -1),
        .init(name: "data[1]", min: 5, max: 5, mean: 5, std: 0, scale: 0, offset: 0),
      ])
    let writer = try HDF5Writer(
      path: output, featureName: "data", labelName: "label", sampleShape: [2, 2], elementType: .float32,
      labelType: .float32, layout: HDF5Layout(labelRank: 2), normalization: parameters)
    var batch = SampleBatch.uniform(firstIndex: 0, count: 3, elementType: .float32, shape: [2, 2], labels: [0, 1.5, -2])
    let values = batch.storage.typed(Float.self, count: 12)
    for k in 0..<12 { values[k] = Float(k) / 8 - 0.5 }
    try writer.append(batch)
    batch.firstIndex = 3
    try writer.append(batch)
    try writer.finish()

    let back = try readAll(output)
    #expect(back.values.count == 24)
    let written: [Double] = (0..<12).map { k in Double(k) / 8 - 0.5 }
    #expect(Array(back.values.prefix(12)) == written)
    #expect(back.labels == [0, 1.5, -2, 0, 1.5, -2])
    #expect(layout(back.info)?.labelRank == 2)
    #expect(layout(back.info)?.labelType == .float32)
    #expect(layout(back.info)?.chunks?.dropFirst() == [2, 2])  // default chunking: whole samples

    let file = try HDF5File.openReadOnly(output)
    let dataset = try file.openDataset("data")
    let attributes = HDF5Attributes(object: dataset.id)
    #expect(try attributes.string("datasan_normalize") == "minmax")
    #expect(try attributes.string("datasan_channel_axis") == "first")
    #expect(try attributes.doubles("datasan_range") == [-1, 1])
    #expect(try attributes.doubles("datasan_min") == [0, 5])
    #expect(try attributes.doubles("datasan_max") == [255, 5])
    #expect(try attributes.doubles("datasan_mean") == [120, 5])
    #expect(try attributes.doubles("datasan_std") == [60, 0])
    #expect(try attributes.doubles("datasan_scale") == [2.0 / 255, 0])
    #expect(try attributes.doubles("datasan_offset") == [-1, 0])
  }

  @Test func originalIntegerContentAndDefaultLabelType() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let output = dir.appendingPathComponent("u8.h5").path
    let nested = Fixture.hdf5("nested.h5")
    var options = ReadOptions()
    options.dataset = "/train/images"
    options.labels = "/train/labels"
    let reader = try HDF5Reader(path: nested, options: options)
    let writer = try HDF5Writer(
      path: output, featureName: "data", labelName: "label", sampleShape: [1, 4, 4], elementType: .uint8,
      labelType: nil, layout: nil, normalization: nil)
    while let batch = try reader.nextBatch() { try writer.append(batch) }
    try writer.finish()
    let back = try readAll(output)
    #expect(back.info.elementType == .uint8)
    #expect(back.values == (0..<(12 * 16)).map { Double($0 % 256) })
    #expect(back.labels == (0..<12).map { Double($0 - 6) })
    #expect(layout(back.info)?.labelType == .int64)
    #expect(layout(back.info)?.gzipLevel == nil)
  }

  @Test func emptyOutputIsValid() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let output = dir.appendingPathComponent("empty.h5").path
    let writer = try HDF5Writer(
      path: output, featureName: "data", labelName: "label", sampleShape: [3, 4, 4], elementType: .float64,
      labelType: .int64, layout: HDF5Layout(chunks: [10, 3, 4, 4], gzipLevel: 4, shuffle: true), normalization: nil)
    try writer.append(SampleBatch.uniform(firstIndex: 0, count: 0, elementType: .float64, shape: [3, 4, 4], labels: []))
    try writer.finish()
    let reader = try HDF5Reader(path: output, options: ReadOptions())
    #expect(reader.info.sampleCount == 0)
    #expect(reader.info.sampleShape == [3, 4, 4])
    #expect(reader.info.labelName == "label")
    #expect(try reader.nextBatch() == nil)
  }

  @Test func mismatchedBatchesAreRefused() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let output = dir.appendingPathComponent("bad.h5").path
    let writer = try HDF5Writer(
      path: output, featureName: "data", labelName: "label", sampleShape: [2], elementType: .float32,
      labelType: nil, layout: nil, normalization: nil)
    let wrongType = SampleBatch.uniform(firstIndex: 0, count: 1, elementType: .float64, shape: [2], labels: [0])
    #expect(thrown(DatasanError.self) { try writer.append(wrongType) }?.message.contains("float64") == true)
    let wrongShape = SampleBatch.uniform(firstIndex: 0, count: 1, elementType: .float32, shape: [3], labels: [0])
    #expect(thrown(DatasanError.self) { try writer.append(wrongShape) }?.message.contains("shape") == true)
    let noLabels = SampleBatch.uniform(firstIndex: 0, count: 1, elementType: .float32, shape: [2], labels: nil)
    #expect(thrown(DatasanError.self) { try writer.append(noLabels) }?.message.contains("no labels") == true)
    writer.abort()
    let afterAbort = SampleBatch.uniform(firstIndex: 0, count: 1, elementType: .float32, shape: [2], labels: [0])
    #expect(thrown(DatasanError.self) { try writer.append(afterAbort) }?.message.contains("closed") == true)
    #expect(thrown(DatasanError.self) { _ = try HDF5Writer(
      path: dir.appendingPathComponent("missing/dir/x.h5").path, featureName: "data", labelName: nil, sampleShape: [2],
      elementType: .float32, labelType: nil, layout: nil, normalization: nil) }?.message.hasPrefix("cannot create HDF5 output") == true)
  }

  @Test func chunkShapes() {
    // The input's chunks, clamped to the sample shape.
    #expect(HDF5Writer.chunkDims(sampleShape: [3, 2], elementSize: 4, layout: HDF5Layout(chunks: [1000, 5, 1])) == [1000, 3, 1])
    #expect(HDF5Writer.chunkDims(sampleShape: [3], elementSize: 4, layout: HDF5Layout(chunks: [0, 3])) == [1, 3])
    // Default: whole samples and about 1 MiB of rows.
    #expect(HDF5Writer.chunkDims(sampleShape: [3, 8, 8], elementSize: 4, layout: nil) == [1365, 3, 8, 8])
    #expect(HDF5Writer.chunkDims(sampleShape: [], elementSize: 8, layout: nil) == [131072])
    // Never 4 GiB or more.
    let huge = HDF5Writer.chunkDims(sampleShape: [1 << 20, 1 << 20], elementSize: 4, layout: nil)
    #expect(huge.reduce(4, *) < 1 << 32)
  }
}

/// The writer's rows as they land in chunks, unfiltered and filtered, over seeded random chunk
/// heights, batch sizes and runs of rows never written: the same values come back, rows never written
/// read as the fill value 0, and a chunk holding only such rows is never allocated.
@Suite struct HDF5ChunkWriteTests {
  /// The whole dataset `name` of `path` as floats, and the bytes each of its chunks occupies.
  func readBack(_ path: String, _ name: String, rows: Int, chunkRows: Int) throws -> (values: [Float], chunkBytes: [UInt64]) {
    let file = H5Fopen(path, datasan_h5f_acc_rdonly(), datasan_h5p_default())
    try #require(file >= 0)
    defer { H5Fclose(file) }
    let dataset = H5Dopen2(file, name, datasan_h5p_default())
    try #require(dataset >= 0)
    defer { H5Dclose(dataset) }
    var values = [Float](repeating: -1, count: rows * 6)
    let status = values.withUnsafeMutableBytes {
      H5Dread(dataset, datasan_h5t_native_float(), datasan_h5s_all(), datasan_h5s_all(), datasan_h5p_default(), $0.baseAddress)
    }
    try #require(status >= 0)
    var sizes: [UInt64] = []
    for chunk in stride(from: 0, to: rows, by: chunkRows) {
      var offset: [hsize_t] = [hsize_t(chunk), 0, 0]
      var filters: UInt32 = 0
      var address: haddr_t = 0
      var bytes: hsize_t = 0
      try #require(H5Dget_chunk_info_by_coord(dataset, &offset, &filters, &address, &bytes) >= 0)
      sizes.append(address == datasan_haddr_undef() ? 0 : bytes)
    }
    return (values, sizes)
  }

  @Test(arguments: 0..<12) func rowsLandInTheirChunks(seed: UInt64) throws {
    var random = SplitMix(seed: 0xd1ec7 &+ seed)
    let chunkRows = Int.random(in: 1...9, using: &random)
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let direct = dir.appendingPathComponent("direct.h5").path
    let filtered = dir.appendingPathComponent("filtered.h5").path
    let writers = try [
      HDF5Writer(
        path: direct, featureName: "data", labelName: "label", sampleShape: [2, 3], elementType: .float32,
        labelType: .float64, layout: HDF5Layout(chunks: [chunkRows, 2, 3]), normalization: nil),
      HDF5Writer(
        path: filtered, featureName: "data", labelName: "label", sampleShape: [2, 3], elementType: .float32,
        labelType: .float64, layout: HDF5Layout(chunks: [chunkRows, 2, 3], gzipLevel: 1), normalization: nil),
    ]
    var expected: [Float] = []
    var neverWritten = Set<Int>()
    var row = 0
    for _ in 0..<Int.random(in: 1...12, using: &random) {
      let count = Int.random(in: 1...(3 * chunkRows + 2), using: &random)
      let batch: SampleBatch
      if Int.random(in: 0..<4, using: &random) == 0 {
        batch = SampleBatch.unreadableRun(
          firstIndex: row, count: count, problem: ReaderProblem(.unreadable, "never written"), elementType: .float32,
          shape: [2, 3], labels: (0..<count).map { Double($0) })
        neverWritten.formUnion(row..<(row + count))
        expected += [Float](repeating: 0, count: count * 6)
      } else {
        var b = SampleBatch.uniform(
          firstIndex: row, count: count, elementType: .float32, shape: [2, 3], labels: (0..<count).map { Double($0) })
        let values = b.storage.typed(Float.self, count: count * 6)
        for k in 0..<(count * 6) { values[k] = Float(row * 6 + k) + 0.25 }
        expected += (0..<(count * 6)).map { Float(row * 6 + $0) + 0.25 }
        b.firstIndex = row
        batch = b
      }
      for writer in writers { try writer.append(batch) }
      row += count
    }
    for writer in writers { try writer.finish() }
    let a = try readBack(direct, "data", rows: row, chunkRows: chunkRows)
    let b = try readBack(filtered, "data", rows: row, chunkRows: chunkRows)
    #expect(a.values == expected, "chunk rows \(chunkRows)")
    #expect(b.values == expected, "chunk rows \(chunkRows)")
    for (k, bytes) in a.chunkBytes.enumerated() {
      let rows = (k * chunkRows)..<min(row, (k + 1) * chunkRows)
      let allUnwritten = rows.allSatisfy { neverWritten.contains($0) }
      #expect((bytes == 0) == allUnwritten, "chunk \(k) of \(chunkRows) rows: \(bytes) bytes")
      if !allUnwritten { #expect(bytes == UInt64(chunkRows * 6 * 4)) }
      #expect((b.chunkBytes[k] == 0) == allUnwritten)
    }
  }
}
