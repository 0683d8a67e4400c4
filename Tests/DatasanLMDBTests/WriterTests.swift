import CLMDB
import DatasanCore
import Foundation
import Testing

@testable import DatasanLMDB

/// Writer outputs are read back with plain liblmdb cursor calls and the test's own Datum decoder.
@Suite struct WriterTests {
  /// A ragged float32 batch: sample i has shape [c, 2, 2] with c = 1 + i % 3, values 0.5*i + e.
  func floatBatch(keys: [String], labels: [Double]?, firstIndex: Int = 0) -> SampleBatch {
    var shapes: [[Int]] = []
    var offsets = [0]
    var values: [Float] = []
    for i in 0..<keys.count {
      let shape = [1 + i % 3, 2, 2]
      shapes.append(shape)
      for e in 0..<shape.reduce(1, *) { values.append(0.5 * Float(i) + Float(e)) }
      offsets.append(values.count)
    }
    let storage = ByteStorage(byteCount: values.count * 4)
    values.withUnsafeBytes { storage.bytes.copyMemory(from: $0) }
    return SampleBatch(
      firstIndex: firstIndex, count: keys.count, elementType: .float32, shape: [1, 2, 2], shapes: shapes,
      offsets: offsets, storage: storage, labels: labels, keys: .strings(keys))
  }

  var identity: NormalizationParameters {
    NormalizationParameters(method: .none, range: [-1, 1], channelAxis: .first, groups: [])
  }

  @Test func normalizedBatchesBecomePackedFloatData() throws {
    try withTemporaryDirectory { dir in
      let out = dir + "/out.lmdb"
      let writer = try LMDBWriter(path: out, content: .normalized(identity), keepOriginalValues: false)
      try writer.append(floatBatch(keys: ["a", "b", "c"], labels: [0, -1, 2]))
      try writer.append(floatBatch(keys: ["d", "e"], labels: [3, 4]))
      try writer.finish()
      #expect(FileManager.default.fileExists(atPath: out + "/data.mdb"))
      #expect(FileManager.default.fileExists(atPath: out + "/lock.mdb"))
      let records = try rawRecords(out)
      #expect(records.map { String(decoding: $0.key, as: UTF8.self) } == ["a", "b", "c", "d", "e"])
      let datums = try records.map { try TestDatum($0.value) }
      #expect(datums.map(\.label) == [0, -1, 2, 3, 4])
      for (n, d) in datums.enumerated() {
        let i = n < 3 ? n : n - 3
        #expect(d.channels == Int64(1 + i % 3) && d.height == 2 && d.width == 2)
        #expect(d.data == nil && d.encoded == nil)
        #expect(d.floats == (0..<(4 * (1 + i % 3))).map { 0.5 * Float(i) + Float($0) })
      }
      // Packed: one field-6 tag, length-delimited.
      #expect(records[0].value.contains(0x32))
      #expect(!records[0].value.contains(0x35))
      // A negative label is a 10-byte varint.
      let minusOne: [UInt8] = [0x28, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
      #expect((0..<(records[1].value.count - 10)).contains { records[1].value[$0..<($0 + 11)].elementsEqual(minusOne) })

      // And datasan's own reader reads them back (a float32 dataset).
      let r = try readAll(out)
      #expect(r.info.elementType == .float32)
      #expect(r.samples.map(\.label) == [0, -1, 2, 3, 4])
      #expect(r.samples[2].values == (0..<12).map { 1.0 + Double($0) })
    }
  }

  @Test func originalValuesAreCopiedByteForByte() throws {
    try withTemporaryDirectory { dir in
      for name in ["raw.lmdb", "defects.lmdb", "encoded.lmdb", "train.lmdb"] {
        let source = try copyFixture(name, to: dir)
        let reader = try LMDBReader(path: source, options: options { $0.batchBytes = 200 })
        let out = dir + "/copy-" + name
        let writer = try LMDBWriter(path: out, content: .original, keepOriginalValues: true)
        while let batch = try reader.nextBatch() { try writer.append(batch) }
        try writer.finish()
        let a = try rawRecords(source)
        let b = try rawRecords(out)
        #expect(a.map(\.key) == b.map(\.key), "\(name)")
        #expect(a.map(\.value) == b.map(\.value), "\(name)")
      }
    }
  }

  @Test func quarantineSubsetsKeepKeysIncludingHexKeys() throws {
    try withTemporaryDirectory { dir in
      let source = try copyFixture("raw.lmdb", to: dir)
      let reader = try LMDBReader(path: source, options: ReadOptions())
      let batch = try #require(try reader.nextBatch())
      let out = dir + "/q.lmdb"
      let writer = try LMDBWriter(path: out, content: .original, keepOriginalValues: true)
      try writer.append(batch.subset([0, 3, 4]))
      try writer.finish()
      let records = try rawRecords(out)
      #expect(records.map(\.key) == [Array("0x41".utf8), Array("a2".utf8), [0xFF, 0xFE]])
      let all = try rawRecords(source)
      #expect(records.map(\.value) == [all[0].value, all[3].value, all[4].value])
    }
  }

  @Test func normalizedLMDBRoundTripAndChannelAxisLast() throws {
    try withTemporaryDirectory { dir in
      let source = try copyFixture("raw.lmdb", to: dir)
      for axis in [ChannelAxis.first, .last] {
        let reader = try LMDBReader(path: source, options: options { $0.channelAxis = axis })
        let groups = (0..<3).map {
          NormalizationParameters.Group(name: "data[\($0)]", min: 0, max: 255, mean: 0, std: 1, scale: 2, offset: Double($0))
        }
        let parameters = NormalizationParameters(method: .minmax, range: [-1, 1], channelAxis: axis, groups: groups)
        let out = dir + "/norm-\(axis).lmdb"
        let writer = try LMDBWriter(path: out, content: .normalized(parameters), keepOriginalValues: true)
        while let batch = try reader.nextBatch() { try writer.append(try Normalizer(parameters).apply(to: batch)) }
        try writer.finish()
        let records = try rawRecords(out)
        #expect(records.count == 5)
        #expect(records.map(\.key).last == [0xFF, 0xFE])  // hex keys back to their bytes
        for (n, record) in records.enumerated() {
          let d = try TestDatum(record.value)
          #expect(d.channels == 3 && d.height == 4 && d.width == 4, "\(axis)")
          // Always C x H x W in the Datum, whatever the batch layout was.
          var expected: [Float] = []
          for c in 0..<3 { for h in 0..<4 { for w in 0..<4 { expected.append(Float(rawValue(record: n, c: c, h: h, w: w) * 2 + Double(c))) } } }
          #expect(d.floats == expected, "\(axis) record \(n)")
        }
      }
    }
  }

  @Test func uint8SamplesWithoutOriginalsBecomeRawData() throws {
    try withTemporaryDirectory { dir in
      let storage = ByteStorage(byteCount: 2 * 12)
      for i in 0..<24 { storage.bytes[i] = UInt8(i) }
      // Two H x W x C samples [2, 2, 3] with .index keys.
      let batch = SampleBatch(
        firstIndex: 41, count: 2, elementType: .uint8, shape: [2, 2, 3], storage: storage, labels: [1, 2])
      let out = dir + "/u8.lmdb"
      let writer = try LMDBWriter(path: out, content: .original, keepOriginalValues: true, channelAxis: .last)
      try writer.append(batch)
      try writer.finish()
      let records = try rawRecords(out)
      #expect(records.map { String(decoding: $0.key, as: UTF8.self) } == ["00000041", "00000042"])
      let d = try TestDatum(records[0].value)
      #expect(d.channels == 3 && d.height == 2 && d.width == 2 && d.label == 1)
      #expect(d.data == [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11])  // planar
      #expect(d.floats.isEmpty)
    }
  }

  @Test func otherTypesAndShapes() throws {
    try withTemporaryDirectory { dir in
      // int16 vectors [D] from an .original source without originals, .numbers keys, no labels.
      let storage = ByteStorage(byteCount: 3 * 2 * 2)
      _ = storage.typed(Int16.self, count: 6).initialize(from: [-3, 4, 500, -600, 7, 8])
      let batch = SampleBatch(
        firstIndex: 0, count: 3, elementType: .int16, shape: [2], storage: storage, labels: nil,
        keys: .numbers([2, 10, 123_456_789]))
      let out = dir + "/i16.lmdb"
      let writer = try LMDBWriter(path: out, content: .original, keepOriginalValues: false)
      try writer.append(batch)
      try writer.finish()
      let records = try rawRecords(out)
      #expect(records.map { String(decoding: $0.key, as: UTF8.self) } == ["00000002", "00000010", "123456789"])
      let d = try records.map { try TestDatum($0.value) }
      #expect(d.map(\.floats) == [[-3, 4], [500, -600], [7, 8]])
      #expect(d.allSatisfy { $0.channels == 2 && $0.height == 1 && $0.width == 1 && $0.label == nil })
      #expect(LMDBWriter.dimensions([5, 6], channelAxis: .first) == (1, 5, 6))
      #expect(LMDBWriter.dimensions([], channelAxis: .first) == (1, 1, 1))
      #expect(LMDBWriter.dimensions([2, 3, 4, 5], channelAxis: .first) == (2, 3, 20))
      #expect(LMDBWriter.dimensions([3, 4, 5, 2], channelAxis: .last) == (2, 3, 20))
      #expect(LMDBWriter.datumLabel(2.6) == 3 && LMDBWriter.datumLabel(-1) == -1 && LMDBWriter.datumLabel(1e20) == .max)
    }
  }

  @Test func keysOutOfOrderAreInsertedAndDuplicatesRefused() throws {
    try withTemporaryDirectory { dir in
      let out = dir + "/unordered.lmdb"
      let writer = try LMDBWriter(path: out, content: .normalized(identity), keepOriginalValues: false)
      try writer.append(floatBatch(keys: ["m", "n", "b"], labels: nil))
      try writer.append(floatBatch(keys: ["a", "z"], labels: nil))
      #expect(throws: DatasanError.self) { try writer.append(floatBatch(keys: ["q", "n"], labels: nil)) }
      try writer.finish()
      // LMDB stores keys sorted; nothing is lost; the failed batch wrote nothing.
      #expect(try rawRecords(out).map { String(decoding: $0.key, as: UTF8.self) } == ["a", "b", "m", "n", "z"])

      let long = dir + "/long.lmdb"
      let w2 = try LMDBWriter(path: long, content: .normalized(identity), keepOriginalValues: false)
      #expect(throws: DatasanError.self) { try w2.append(floatBatch(keys: [String(repeating: "k", count: 600)], labels: nil)) }
      w2.abort()
    }
  }

  @Test func mapGrowsByItself() throws {
    try withTemporaryDirectory { dir in
      let out = dir + "/grow.lmdb"
      let writer = try LMDBWriter(
        path: out, content: .original, keepOriginalValues: false, channelAxis: nil, initialMapSize: 1 << 16)
      // 48 batches of 16 uint8 samples of 3x32x32 (3 KiB each): about 2.3 MiB in a 64 KiB map.
      var keys: [String] = []
      for b in 0..<48 {
        let storage = ByteStorage(byteCount: 16 * 3072)
        for i in 0..<(16 * 3072) { storage.bytes[i] = UInt8(truncatingIfNeeded: i &+ b) }
        let batchKeys = (0..<16).map { String(format: "%06d", b * 16 + $0) }
        keys += batchKeys
        try writer.append(
          SampleBatch(
            firstIndex: b * 16, count: 16, elementType: .uint8, shape: [3, 32, 32], storage: storage,
            labels: [Double](repeating: 1, count: 16), keys: .strings(batchKeys)))
      }
      #expect(writer.mapGrowths >= 5)
      try writer.finish()
      let records = try rawRecords(out)
      #expect(records.map { String(decoding: $0.key, as: UTF8.self) } == keys)
      let last = try TestDatum(records[767].value)
      #expect(last.data?.count == 3072 && last.data?[0] == UInt8(truncatingIfNeeded: 15 * 3072 + 47))
    }
  }

  @Test func existingOutputsAndAbort() throws {
    try withTemporaryDirectory { dir in
      _ = FileManager.default.createFile(atPath: dir + "/file", contents: Data([1]))
      #expect(throws: DatasanError.self) { try LMDBWriter(path: dir + "/file", content: .original, keepOriginalValues: true) }
      try FileManager.default.createDirectory(atPath: dir + "/full", withIntermediateDirectories: false)
      _ = FileManager.default.createFile(atPath: dir + "/full/x", contents: Data([1]))
      #expect(throws: DatasanError.self) { try LMDBWriter(path: dir + "/full", content: .original, keepOriginalValues: true) }
      try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: false)
      let w = try LMDBWriter(path: dir + "/empty", content: .original, keepOriginalValues: true)
      w.abort()
      w.abort()
      try w.finish()  // after abort: nothing to do
      #expect(throws: DatasanError.self) {
        try LMDBWriter(path: dir + "/no/such/parent", content: .original, keepOriginalValues: true)
      }
    }
  }
}
