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
