import CLMDB
import DatasanCore
import DatasanPNG
import Foundation
import Testing

@testable import DatasanLMDB

@Suite struct ReaderTests {
  @Test func rawDatumsInKeyOrderWithKnownValues() throws {
    try withTemporaryDirectory { dir in
      let r = try readAll(try copyFixture("raw.lmdb", to: dir))
      #expect(r.info.format == .lmdb)
      #expect(r.info.sampleCount == 5)
      #expect(r.info.elementType == .uint8)
      #expect(r.info.sampleShape == [3, 4, 4])
      #expect(r.info.featureName == "data")
      #expect(r.info.labelName == "label")
      #expect(r.info.layout == nil)
      // Key order is byte order; "0x41" is text that looks like hex, so it is shown in hex too.
      #expect(r.keys == ["0x30783431", "a0", "a1", "a2", "0xfffe"])
      #expect(r.samples.map(\.label) == [4, 0, 7, -1, 3])
      for (n, s) in r.samples.enumerated() {
        #expect(s.problem == nil)
        #expect(s.shape == [3, 4, 4])
        var expected: [Double] = []
        for c in 0..<3 { for h in 0..<4 { for w in 0..<4 { expected.append(rawValue(record: n, c: c, h: h, w: w)) } } }
        #expect(s.values == expected, "record \(n)")
        #expect(s.index == n)
      }
      #expect(r.bytesRead > 5 * 48)
    }
  }

  @Test func originalsAreTheStoredValueBytes() throws {
    try withTemporaryDirectory { dir in
      let path = try copyFixture("defects.lmdb", to: dir)
      let r = try readAll(path)
      let stored = try rawRecords(path)
      #expect(r.samples.count == stored.count)
      for (s, record) in zip(r.samples, stored) {
        #expect(s.original == record.value)
        #expect(s.key == String(decoding: record.key, as: UTF8.self))
      }
    }
  }

  @Test func channelAxisLastTransposes() throws {
    try withTemporaryDirectory { dir in
      let r = try readAll(try copyFixture("raw.lmdb", to: dir)) { $0.channelAxis = .last }
      #expect(r.info.sampleShape == [4, 4, 3])
      for (n, s) in r.samples.enumerated() {
        #expect(s.shape == [4, 4, 3])
        var expected: [Double] = []
        for h in 0..<4 { for w in 0..<4 { for c in 0..<3 { expected.append(rawValue(record: n, c: c, h: h, w: w)) } } }
        #expect(s.values == expected)
      }
    }
  }

  @Test func floatDataPackedUnpackedAndMixed() throws {
    try withTemporaryDirectory { dir in
      let r = try readAll(try copyFixture("float.lmdb", to: dir))
      #expect(r.info.elementType == .float32)
      #expect(r.info.sampleShape == [2, 2, 3])
      #expect(r.keys == ["f0", "f1", "f2", "f3"])
      #expect(r.samples.map(\.label) == [0, 1, 2, 3])
      for (n, s) in r.samples.enumerated() {
        #expect(s.problem == nil)
        #expect(s.shape == [2, 2, 3])
        let k = Double(10 * n)
        for i in 0..<12 {
          if n == 3 && i == 5 {
            #expect(s.values[i].isNaN)
          } else {
            #expect(s.values[i] == 0.25 * Double(i) - 1 + k, "f\(n)[\(i)]")
          }
        }
      }
    }
  }

  @Test func encodedPNGDatums() throws {
    try withTemporaryDirectory { dir in
      let r = try readAll(try copyFixture("encoded.lmdb", to: dir))
      #expect(r.info.elementType == .uint8)
      #expect(r.info.sampleShape == [3, 5, 4])
      let e0 = r["e0"]
      #expect(e0.problem == nil)
      #expect(e0.shape == [3, 5, 4])
      // Colour in BGR order, as Caffe's data layer decodes it (OpenCV's imdecode): the PNG's
      // channel 2 (50 * 2 + ...) first.
      var expected: [Double] = []
      for ch in [2, 1, 0] { for y in 0..<5 { for x in 0..<4 { expected.append(Double(10 * y + 3 * x + 50 * ch)) } } }
      #expect(e0.values == expected)
      #expect(e0.label == 0)

      let e1 = r["e1"]  // a gray image: a different shape, for the checker to flag
      #expect(e1.problem == nil)
      #expect(e1.shape == [1, 5, 4])
      #expect(e1.values == (0..<5).flatMap { y in (0..<4).map { x in Double(7 * y + x) } })

      let e2 = r["e2"]  // channels/height/width set and wrong
      #expect(e2.problem?.kind == .shapeMismatch)
      #expect(e2.problem?.detail == "encoded image is 3x5x4 (CxHxW), the Datum says channels=3, height=4, width=4")
      #expect(e2.values == expected)

      let e3 = r["e3"]  // 16-bit image in a dataset whose first image is 8-bit
      #expect(e3.problem?.kind == .shapeMismatch)
      #expect(e3.problem?.detail.hasPrefix("16-bit encoded image (uint16) in a uint8 dataset") == true)
      #expect(e3.values.isEmpty)

      let e4 = r["e4"]
      #expect(e4.problem?.kind == .unreadable)
      #expect(e4.problem?.detail.hasPrefix("encoded image does not decode: ") == true)
      #expect(e4.values.isEmpty)
      #expect(e4.label == 4)

      #expect(r["e5"].problem?.kind == .unreadable)
      #expect(r["e5"].problem?.detail.hasPrefix("encoded image does not decode: ") == true)
      // A JPEG cut after its APP0 segment: libjpeg finds no frame header.
      #expect(r["e6"].problem == ReaderProblem(.unreadable, "encoded image does not decode: no image: the JPEG ends before a frame header (SOF)"))
      #expect(r["e7"].problem == ReaderProblem(.unreadable, "encoded Datum with empty data"))
    }
  }

  @Test func encodedPNGChannelAxisLast() throws {
    try withTemporaryDirectory { dir in
      let r = try readAll(try copyFixture("encoded.lmdb", to: dir)) { $0.channelAxis = .last }
      let e0 = r["e0"]
      #expect(e0.shape == [5, 4, 3])
      var expected: [Double] = []
      for y in 0..<5 { for x in 0..<4 { for ch in [2, 1, 0] { expected.append(Double(10 * y + 3 * x + 50 * ch)) } } }
      #expect(e0.values == expected)
      #expect(r["e2"].problem?.kind == .shapeMismatch)
    }
  }

  /// `--channel-order rgb` keeps the PNG's own order (both axes); gray images are the same in
  /// either order; 16-bit images are reordered too.
  @Test func channelOrderRGBKeepsThePNGsOrder() throws {
    try withTemporaryDirectory { dir in
      let path = try copyFixture("encoded.lmdb", to: dir)
      for axis in [ChannelAxis.first, .last] {
        let rgb = try readAll(path) {
          $0.channelOrder = .rgb
          $0.channelAxis = axis
        }
        let bgr = try readAll(path) {
          $0.channelOrder = .bgr
          $0.channelAxis = axis
        }
        let byDefault = try readAll(path) { $0.channelAxis = axis }
        var expected: [Double] = []
        if axis == .first {
          for ch in 0..<3 { for y in 0..<5 { for x in 0..<4 { expected.append(Double(10 * y + 3 * x + 50 * ch)) } } }
        } else {
          for y in 0..<5 { for x in 0..<4 { for ch in 0..<3 { expected.append(Double(10 * y + 3 * x + 50 * ch)) } } }
        }
        #expect(rgb["e0"].values == expected)
        #expect(bgr["e0"].values == byDefault["e0"].values)
        #expect(bgr["e0"].values != expected)
        #expect(rgb["e1"].values == bgr["e1"].values)
      }
    }
  }

  @Test func maxPixelsRefusesLargeImages() throws {
    try withTemporaryDirectory { dir in
      let r = try readAll(try copyFixture("encoded.lmdb", to: dir)) { $0.maxPixels = 10 }
      #expect(r["e0"].problem?.kind == .unreadable)
      #expect(r["e0"].values.isEmpty)
    }
  }

  @Test func plantedDefectsAreUnreadableWithPreciseDetails() throws {
    try withTemporaryDirectory { dir in
      let r = try readAll(try copyFixture("defects.lmdb", to: dir))
      #expect(r.info.elementType == .uint8)
      #expect(r.info.sampleShape == [3, 4, 4])
      #expect(r.samples.count == 12)
      #expect(r["d00_good"].problem == nil)
      #expect(r["d00_good"].values == (0..<48).map(Double.init))
      func detail(_ key: String) -> String {
        let s = r[key]
        #expect(s.problem?.kind == .unreadable, "\(key)")
        #expect(s.values.isEmpty && s.shape == [0], "\(key)")
        return s.problem?.detail ?? ""
      }
      #expect(detail("d01_truncated") == "not a Datum: length 48 at byte 7 runs past the end of the 28-byte value")
      #expect(detail("d02_random").isEmpty == false)
      #expect(detail("d03_empty") == "empty value")
      #expect(detail("d04_short_data") == "data is 47 bytes, channels*height*width = 48 (channels=3, height=4, width=4)")
      #expect(
        detail("d05_float_count") == "float_data has 47 values, channels*height*width = 48 (channels=3, height=4, width=4)")
      #expect(detail("d06_neither") == "neither data nor float_data (channels=3, height=4, width=4)")
      #expect(detail("d07_wrong_wire") == "not a Datum: field 4 (data) at byte 2 has wire type 0, expected 2")
      #expect(detail("d08_bad_varint") == "not a Datum: varint at byte 1 is longer than 64 bits")
      #expect(detail("d11_bad_png").hasPrefix("encoded image does not decode: "))
      // Unknown fields of every wire type (a group too) are skipped.
      #expect(r["d09_unknown"].problem == nil)
      #expect(r["d09_unknown"].label == 9)
      #expect(r["d09_unknown"].values == (0..<48).map(Double.init))
      // A float_data record in a uint8 dataset: its storage is not its shape, its values (0.5) are read.
      let d10 = r["d10_float_record"]
      #expect(d10.problem == nil)
      #expect(d10.shape == [3, 4, 4])
      #expect(d10.values == [Double](repeating: 0.5, count: 48))
      #expect(d10.label == 10)
      // Labels of values that are not Datums are unknown.
      #expect(r["d03_empty"].label.isNaN)
      #expect(r["d04_short_data"].label == 4)
    }
  }

  @Test func singleFileEnvironmentNoSubdir() throws {
    try withTemporaryDirectory { dir in
      let path = try copyFixture("nosubdir.mdb", to: dir)
      let r = try readAll(path)
      #expect(r.keys == ["k0", "k1"])
      #expect(r.samples.map(\.values) == [[1, 2, 3, 4], [5, 6, 7, 8]])
      #expect(r.samples.map(\.shape) == [[1, 2, 2], [1, 2, 2]])
      #expect(r.samples.map(\.label) == [0, 1])
      #expect(LMDBFormat.looksLikeLMDB(path: path))
    }
  }

  @Test func smallBatchesSplitTheWalk() throws {
    try withTemporaryDirectory { dir in
      let path = try copyFixture("many.lmdb", to: dir)
      let whole = try readAll(path)
      #expect(whole.samples.count == 300)
      #expect(whole.batchSizes == [300])
      let small = try readAll(path) { $0.batchBytes = 1000 }
      #expect(small.batchSizes.count > 10)
      #expect(small.samples.map(\.key) == whole.samples.map(\.key))
      #expect(small.samples.map(\.values) == whole.samples.map(\.values))
      // The 3x40x40 records (overflow pages) are shape mismatches for the checker, not for the reader.
      #expect(whole.samples[50].shape == [3, 40, 40])
      #expect(whole.samples[50].values.count == 4800)
      #expect(whole.samples[51].values == (0..<64).map { Double((51 + $0) % 256) })
      #expect(whole.samples.allSatisfy { $0.problem == nil })
    }
  }

  /// A scan (no originals) reads canonical raw records through the single-copy fast path into
  /// uniform batches, and hands every other record to the general path. Whatever the mix and the
  /// batch size, it must yield exactly what the general path yields.
  @Test(arguments: ["raw.lmdb", "defects.lmdb", "many.lmdb", "train.lmdb", "float.lmdb", "encoded.lmdb"])
  func scanFastPathYieldsWhatTheGeneralPathYields(fixtureName: String) throws {
    try withTemporaryDirectory { dir in
      let path = try copyFixture(fixtureName, to: dir)
      let general = try readAll(path)
      #expect(!general.samples.isEmpty)
      for batchBytes in [4 << 20, 700, 100, 1] {
        let scan = try readAllScan(path) { $0.batchBytes = batchBytes }
        #expect(scan.info.sampleShape == general.info.sampleShape && scan.info.elementType == general.info.elementType)
        #expect(scan.keys == general.keys, "\(fixtureName) at \(batchBytes) bytes a batch")
        #expect(scan.samples.map(\.problem) == general.samples.map(\.problem))
        #expect(scan.samples.map { $0.label.isNaN ? -999 : $0.label } == general.samples.map { $0.label.isNaN ? -999 : $0.label })
        for (a, b) in zip(scan.samples, general.samples) where b.problem?.kind != .unreadable {
          let same = a.values.count == b.values.count && zip(a.values, b.values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
          #expect(a.shape == b.shape && same, "\(fixtureName) \(a.key)")
        }
        #expect(scan.bytesRead == general.bytesRead)
        // Raw uint8 datasets do take the fast path (uniform batches); the others never do.
        let raw = ["raw.lmdb", "defects.lmdb", "many.lmdb"].contains(fixtureName)
        #expect((scan.uniformBatches > 0) == raw, "\(fixtureName): \(scan.uniformBatches) uniform batches")
        // ... and the reader measures the channels' moments of each of those batches.
        #expect(scan.measuredBatches == scan.uniformBatches)

        // A scan that needs no values gets the same samples without them, measured in the map.
        let lean = try readAllScan(path) {
          $0.batchBytes = batchBytes
          $0.valuesNeeded = false
        }
        #expect(lean.keys == general.keys && lean.bytesRead == general.bytesRead)
        #expect(lean.samples.map(\.problem) == general.samples.map(\.problem))
        #expect(lean.samples.map { $0.label.isNaN ? -999 : $0.label } == general.samples.map { $0.label.isNaN ? -999 : $0.label })
        #expect(lean.omittedBatches == (raw ? lean.uniformBatches : 0) && (lean.omittedBatches > 0) == raw)
        for (i, sample) in general.samples.enumerated() where raw && sample.problem == nil && !lean.measured[i].isEmpty {
          let blocks = lean.measured[i]
          let length = sample.values.count / blocks.count
          for (b, got) in blocks.enumerated() {
            var direct = RunningStats()
            for v in sample.values[(b * length)..<((b + 1) * length)] { direct.add(v) }
            #expect(
              got.count == direct.count && got.min == direct.min && got.max == direct.max
                && abs(got.mean - direct.mean) < 1e-9 && abs(got.m2 - direct.m2) < 1e-6 * max(1, direct.m2),
              "\(fixtureName) \(sample.key) block \(b)")
          }
        }
      }
    }
  }

  @Test func caffeStyleTrainFixture() throws {
    try withTemporaryDirectory { dir in
      let r = try readAll(try copyFixture("train.lmdb", to: dir))
      #expect(r.samples.count == 40)
      #expect(r.info.sampleShape == [3, 8, 8])
      #expect(r.keys.first == "00000000_cat/img_000.png")
      #expect(r.samples.filter { $0.problem?.kind == .unreadable }.map(\.key) == [
        "00000007_owl/img_007.png", "00000019_owl/img_019.png",
      ])
      #expect(r.samples.filter { $0.label == -1 }.map(\.index) == [11, 23, 31])
    }
  }

  @Test func emptyEnvironment() throws {
    try withTemporaryDirectory { dir in
      let writer = try LMDBWriter(path: dir + "/empty.lmdb", content: .original, keepOriginalValues: true)
      try writer.finish()
      let r = try readAll(dir + "/empty.lmdb")
      #expect(r.info.sampleCount == 0)
      #expect(r.samples.isEmpty)
    }
  }

  @Test func autodetection() throws {
    #expect(LMDBFormat.looksLikeLMDB(path: fixture("raw.lmdb")))
    #expect(LMDBFormat.looksLikeLMDB(path: fixture("raw.lmdb/data.mdb")))
    #expect(LMDBFormat.looksLikeLMDB(path: fixture("nosubdir.mdb")))
    #expect(!LMDBFormat.looksLikeLMDB(path: fixture("not_lmdb.lmdb/data.mdb")))
    #expect(!LMDBFormat.looksLikeLMDB(path: fixture("does-not-exist")))
    #expect(!LMDBFormat.looksLikeLMDB(path: fixture("")))  // the fixtures folder: no data.mdb
  }
}

/// Environments assembled from given values (with LMDBWriter's original-values path).
func writeValues(_ path: String, _ records: [(String, [UInt8])]) throws {
  var originals = OriginalRecords()
  for (_, value) in records { originals.append(value) }
  let batch = SampleBatch(
    firstIndex: 0, count: records.count, elementType: .uint8, shape: [0],
    shapes: [[Int]](repeating: [0], count: records.count), offsets: [Int](repeating: 0, count: records.count + 1),
    storage: ByteStorage(byteCount: 0), labels: nil, keys: .strings(records.map(\.0)), originals: originals)
  let writer = try LMDBWriter(path: path, content: .original, keepOriginalValues: true)
  try writer.append(batch)
  try writer.finish()
}

@Suite struct MixedAndLargeRecordTests {
  func value(_ fixtureName: String, _ key: String) throws -> [UInt8] {
    try #require(try rawRecords(fixture(fixtureName)).first { $0.key == Array(key.utf8) }).value
  }

  @Test func theFirstReadableRecordFixesTheTypeAndLosslessValuesWiden() throws {
    try withTemporaryDirectory { dir in
      let path = dir + "/mixed.lmdb"
      let f0 = try value("float.lmdb", "f0")  // float32 2x2x3
      var raw: [UInt8] = []
      Array(0..<12).map(UInt8.init).withUnsafeBytes {
        Datum.encode(dimensions: (2, 2, 3), data: $0, label: 8, into: &raw)
      }
      let png = try value("encoded.lmdb", "e0")  // 8-bit RGB 3x5x4
      let deep = try value("encoded.lmdb", "e3")  // 16-bit RGB 3x5x4
      var huge: [UInt8] = []
      [UInt8](repeating: 1, count: 8).withUnsafeBytes {
        Datum.encode(dimensions: (.max, .max, .max), data: $0, label: 1, into: &huge)
      }
      var negative: [UInt8] = []
      [UInt8](repeating: 1, count: 8).withUnsafeBytes {
        Datum.encode(dimensions: (-2, -2, 2), data: $0, label: 1, into: &negative)
      }
      try writeValues(
        path,
        [("a", []), ("b", Array("junk".utf8)), ("c", f0), ("d", raw), ("e", png), ("f", deep), ("g", huge), ("h", negative)])
      let r = try readAll(path)
      #expect(r.info.elementType == .float32)  // "a" and "b" are unreadable: "c" decides
      #expect(r.info.sampleShape == [2, 2, 3])
      #expect(r["a"].problem?.kind == .unreadable && r["b"].problem?.kind == .unreadable)
      #expect(r["c"].values == (0..<12).map { 0.25 * Double($0) - 1 })
      #expect(r["d"].problem == nil)
      #expect(r["d"].values == (0..<12).map(Double.init))
      #expect(r["d"].label == 8)
      #expect(r["e"].problem == nil && r["e"].shape == [3, 5, 4])
      #expect(r["e"].values.prefix(4) == [100, 103, 106, 109])  // BGR: the PNG's channel 2 first
      #expect(r["f"].problem == nil && r["f"].shape == [3, 5, 4])
      #expect(r["f"].values.prefix(3) == [2, 12, 22])
      #expect(r["f"].values[20] == 1)  // channel 1 of pixel (0, 0)
      #expect(
        r["g"].problem
          == ReaderProblem(.unreadable, "dimensions too large (channels=2147483647, height=2147483647, width=2147483647)"))
      #expect(r["h"].problem == ReaderProblem(.unreadable, "negative dimension (channels=-2, height=-2, width=2)"))
    }
  }

  @Test func recordsLargerThanTheBatchBuffer() throws {
    try withTemporaryDirectory { dir in
      let path = dir + "/large.lmdb"
      let sizes = [(1, 10, 10), (3, 100, 100), (1, 10, 10), (3, 200, 150), (1, 10, 10)]
      var records: [(String, [UInt8])] = []
      for (n, (c, h, w)) in sizes.enumerated() {
        let data = (0..<(c * h * w)).map { UInt8(truncatingIfNeeded: $0 * 7 + n) }
        var value: [UInt8] = []
        data.withUnsafeBytes { Datum.encode(dimensions: (Int32(c), Int32(h), Int32(w)), data: $0, label: Int32(n), into: &value) }
        records.append(("k\(n)", value))
      }
      try writeValues(path, records)
      for batchBytes in [100, 40_000, 1 << 20] {
        let r = try readAll(path) { $0.batchBytes = batchBytes }
        #expect(r.keys == ["k0", "k1", "k2", "k3", "k4"])
        for (n, (c, h, w)) in sizes.enumerated() {
          #expect(r.samples[n].shape == [c, h, w])
          #expect(r.samples[n].values == (0..<(c * h * w)).map { Double(UInt8(truncatingIfNeeded: $0 * 7 + n)) })
          #expect(r.samples[n].original == records[n].1)
        }
      }
    }
  }

  @Test func batchesCanBeReadOnAnotherThread() throws {
    try withTemporaryDirectory { dir in
      // Handed to the thread, which alone uses it until it signals `done`.
      nonisolated(unsafe) let reader = try LMDBReader(
        path: try copyFixture("many.lmdb", to: dir), options: options { $0.batchBytes = 2000 })
      nonisolated(unsafe) var count = 0
      nonisolated(unsafe) var failure: Error? = nil
      let done = DispatchSemaphore(value: 0)
      let thread = Thread {
        do { while let b = try reader.nextBatch() { count += b.count } } catch { failure = error }
        done.signal()
      }
      thread.start()
      done.wait()
      #expect(failure == nil)
      #expect(count == 300)
    }
  }
}

/// The walk's key checks, on keys given directly (a corrupt environment is what produces them).
@Suite struct KeyWalkTests {
  func consume(_ walk: inout KeyWalk, _ key: [UInt8]) throws -> String {
    var bytes = key
    return try bytes.withUnsafeMutableBytes { raw in
      try walk.consume(MDB_val(mv_size: raw.count, mv_data: raw.baseAddress))
    }
  }

  func failure(_ body: () throws -> Void) -> String? {
    do { try body() } catch let f as KeyWalk.Failure { return f.reason { "fault" } } catch { return "\(error)" }
    return nil
  }

  @Test func ascendingKeysAreShownAndCounted() throws {
    var walk = KeyWalk(entries: 3, checksOrder: true, allowsEqual: false)
    #expect(try consume(&walk, Array("00000001_a.png".utf8)) == "00000001_a.png")
    #expect(try consume(&walk, Array("00000002".utf8)) == "00000002")
    walk.copied("00000002", valueSize: 100)
    #expect(try consume(&walk, Array("00000002_longer_key_than_the_buffer_was_before_it_grew".utf8)).hasSuffix("grew"))
    #expect(walk.walked == 3 && walk.copied == 1 && walk.lastGoodKeyText == "00000002")
    #expect(walk.bytesRead == 14 + 8 + 100 + 54)
    // One more than the environment declares.
    #expect(failure { _ = try consume(&walk, Array("00000003".utf8)) } == "the walk finds more records than the 3 the environment declares")
  }

  @Test func outOfOrderEqualAndEmptyKeys() throws {
    var walk = KeyWalk(entries: 10, checksOrder: true, allowsEqual: false)
    _ = try consume(&walk, Array("b".utf8))
    #expect(failure { _ = try consume(&walk, Array("a".utf8)) } == "key 'a' does not sort after the previous key")
    var equal = KeyWalk(entries: 10, checksOrder: true, allowsEqual: false)
    _ = try consume(&equal, Array("same".utf8))
    #expect(failure { _ = try consume(&equal, Array("same".utf8)) } == "key 'same' does not sort after the previous key")
    var duplicates = KeyWalk(entries: 10, checksOrder: true, allowsEqual: true)  // MDB_DUPSORT
    _ = try consume(&duplicates, Array("same".utf8))
    #expect(try consume(&duplicates, Array("same".utf8)) == "same")
    // A prefix sorts first: "ab" after "abc" is out of order, "abc" after "ab" is not.
    var prefix = KeyWalk(entries: 10, checksOrder: true, allowsEqual: false)
    _ = try consume(&prefix, Array("ab".utf8))
    _ = try consume(&prefix, Array("abc".utf8))
    #expect(failure { _ = try consume(&prefix, Array("ab".utf8)) } != nil)
    var empty = KeyWalk(entries: 10, checksOrder: true, allowsEqual: false)
    #expect(failure { _ = try consume(&empty, []) } == "a record has an empty key")
    // Integer keys are not compared byte-wise.
    var integers = KeyWalk(entries: 10, checksOrder: false, allowsEqual: false)
    _ = try consume(&integers, [2, 0, 0, 0])
    _ = try consume(&integers, [1, 0, 0, 0])
    #expect(integers.walked == 2)
  }
}
