import DatasanCore
import Foundation
import DatasanTestSupport
import Testing

@testable import DatasanCSV

/// The parallel parse (a block split at record boundaries, parts parsed concurrently) and the one-pass
/// path for plain records must give exactly what one worker on the general path gives.
@Suite struct ParallelReaderTests {
  struct Outcome: Equatable {
    var keys: [Int] = []
    var originals: [[UInt8]] = []
    var values: [UInt64] = []
    var labels: [UInt64] = []
    var problems: [String] = []
    var batchSizes: [Int] = []
    var error: String? = nil
    var bytesRead = 0
    var rowsPerBatch = 0
  }

  func outcome(
    _ path: String, _ options: ReadOptions, blockSize: Int = 4 << 20, workers: Int, minimumPartBytes: Int = 1
  ) -> Outcome {
    var o = Outcome()
    do {
      let reader = try CSVReader(
        path: path, options: options, blockSize: blockSize, workers: workers, minimumPartBytes: minimumPartBytes)
      while let b = try reader.nextBatch() {
        #expect(b.count <= reader.rowsPerBatch)
        if case .numbers(let k) = b.keys { o.keys += k }
        if let originals = b.originals {
          #expect(originals.ends.count == b.count)
          for i in 0..<b.count { o.originals.append(Array(originals.record(i))) }
        } else {
          #expect(!options.keepOriginals)
        }
        b.withValues(as: Double.self) { v in o.values += v.map { $0.bitPattern } }
        o.labels += (b.labels ?? []).map { $0.bitPattern }
        o.problems += b.problems.sorted { $0.key < $1.key }.map { "\(b.firstIndex + $0.key): \($0.value.detail)" }
        o.batchSizes.append(b.count)
      }
      o.bytesRead = reader.bytesRead
      o.rowsPerBatch = reader.rowsPerBatch
    } catch let e as DatasanError {
      o.error = e.message
    } catch {
      o.error = "unexpected \(error)"
    }
    return o
  }

  /// Every fixture: 2, 3 and 5 workers with parts as small as one byte, several block sizes, read the
  /// same as one worker.
  @Test func fixturesReadTheSameOnEveryWorkerCount() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: fixture("")).filter { !$0.hasPrefix(".") }.sorted()
    for name in names {
      for batchBytes in [40, 4 << 20] {
        var options = ReadOptions()
        if name == "skiprows.csv" { options.skipRows = 2 }
        options.batchBytes = batchBytes
        let reference = outcome(fixture(name), options, workers: 1)
        for workers in [2, 3, 5] {
          for blockSize in [7, 61, 4 << 20] {
            #expect(
              outcome(fixture(name), options, blockSize: blockSize, workers: workers) == reference,
              "\(name), \(workers) workers, \(blockSize)-byte blocks, batchBytes \(batchBytes)")
          }
        }
      }
    }
  }

  /// A file with every kind of record the parts can meet at their boundaries: quoted fields with
  /// line endings and doubled quotes, stray quotes in unquoted fields (quote parity goes wrong), blank
  /// and whitespace lines, NA tokens, invalid values, wrong field counts, CRLF and lone CR endings.
  func hostileFile(_ dir: URL, rows: Int, seed: UInt64, ending: String) throws -> String {
    var rng = SplitMix(seed: seed)
    var text = "id,note,x,y,label" + ending
    for i in 0..<rows {
      switch rng.next() % 40 {
      case 0: text += "\(i),\"multi\(ending)line, \"\"q\"\"\",1.5,2,3"
      case 1: text += "\(i),5\" screen,1,2,3"
      case 2: text += ""
      case 3: text += "   \t"
      case 4: text += "\(i),n,NA,,1"
      case 5: text += "\(i),n,abc,2,1"
      case 6: text += "\(i),n,1,2"
      case 7: text += "\(i),n,1,2,3,4"
      case 8: text += "\(i),\"a\"b,1e5,-0,+3"
      case 9: text += "\(i),n, 1.5 ,2.,.5"
      case 10: text += "\(i),n,12345678901234567890123,1e400,-1e-400"
      case 11: text += "\(i),n,inf,-Infinity,nan"
      case 12: text += "\(i),\"\",0.1e-3,1E+2,7"
      default:
        let x = Double(Int64(bitPattern: rng.next() % 2_000_001) - 1_000_000) / 997
        text += "\(i),n\(i % 7),\(x),\(-x * 3),\(i % 10)"
      }
      text += rng.next() % 50 == 0 ? "\r" : ending
    }
    let path = dir.appendingPathComponent("hostile\(seed).csv").path
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
  }

  @Test func hostileFilesReadTheSameOnEveryWorkerCount() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    for (seed, ending) in [(1, "\n"), (2, "\r\n"), (3, "\n")] as [(UInt64, String)] {
      let path = try hostileFile(dir, rows: 6000, seed: seed, ending: ending)
      for batchBytes in [8 * 3 * 100, 8 * 3 * 2500, 4 << 20] {
        var options = ReadOptions()
        options.batchBytes = batchBytes
        let reference = outcome(path, options, blockSize: 1 << 20, workers: 1)
        #expect(reference.error == nil)
        #expect(reference.keys.count > 5000)
        #expect(!reference.problems.isEmpty)
        for workers in [2, 4] {
          for (blockSize, part) in [(1 << 20, 1), (1 << 20, 4096), (4096, 512), (97, 1)] {
            #expect(
              outcome(path, options, blockSize: blockSize, workers: workers, minimumPartBytes: part) == reference,
              "seed \(seed), \(workers) workers, block \(blockSize), part \(part), batchBytes \(batchBytes)")
          }
        }
      }
    }
  }

  /// Without originals, everything else is the same.
  @Test func noOriginals() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = try hostileFile(dir, rows: 3000, seed: 9, ending: "\n")
    var options = ReadOptions()
    options.batchBytes = 8 * 3 * 700
    var reference = outcome(path, options, workers: 1)
    options.keepOriginals = false
    for workers in [1, 2] {
      let o = outcome(path, options, workers: workers, minimumPartBytes: 1024)
      #expect(o.originals.isEmpty)
      reference.originals = []
      #expect(o == reference)
    }
  }

  /// Batches stay full (the parts' rows are taken up to the batch size, the rest parsed again).
  @Test func batchesAreFull() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = try hostileFile(dir, rows: 20000, seed: 4, ending: "\n")
    var options = ReadOptions()
    options.batchBytes = 8 * 3 * 3000
    let o = outcome(path, options, workers: 3, minimumPartBytes: 2048)
    #expect(o.batchSizes.count > 3)
    #expect(o.batchSizes.dropLast().allSatisfy { $0 == o.rowsPerBatch })
    #expect(o.bytesRead == (try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int))
  }

  /// The one-pass path parses what CSVNumberParser parses, bit for bit, and leaves the rest to it.
  @Test func plainNumbersMatchTheParser() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    var rng = SplitMix(seed: 31)
    // The fixed cases after the random ones: past the 1,000 rows that type the column (numeric), so
    // that the invalid ones are unreadable rows, not a text column.
    let fixed: [String] = [
      "0", "-0", "+0", "0.0", "00012", "1.", ".5", "-.5", "1e5", "1E-5", "1e+5", "-1e-22", "1e22", "1e23", "9e-23",
      "123456789012345678", "1234567890123456789", "12345678901234567890", "0.0000000000000000001",
      "9007199254740993", "9007199254740992", "4.9e-324", "2.2250738585072014e-308", "1.7976931348623157e308",
      "1e-400", "1e400", "-1e400", "1.5e", "1e+", "--1", "+-1", "1..2", "1e5.5", "0x10", "1_0", ".", "-", "",
    ]
    var fields: [String] = []
    for _ in 0..<3000 {
      let mantissa = rng.next() >> (rng.next() % 64)
      let exponent = Int(rng.next() % 80) - 40
      let digits = String(mantissa)
      let dot = Int(rng.next() % UInt64(digits.count + 1))
      var s = String(digits.prefix(dot)) + "." + String(digits.dropFirst(dot))
      if rng.next() % 2 == 0 { s += "e\(exponent)" }
      if rng.next() % 3 == 0 { s = "-" + s }
      fields.append(s)
    }
    fields += fixed
    var text = "x,label\n"
    for f in fields { text += "\(f),1\n" }
    let path = dir.appendingPathComponent("numbers.csv").path
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    let r = try readAll(path)
    #expect(r.count == fields.count)
    for (i, f) in fields.enumerated() where i < r.count {
      switch CSVNumberParser.parse(f) {
      case .number(let v): #expect(same(r.rows[i][0], v) && r.problems[i] == nil, "\(f)")
      case .missing: #expect(r.rows[i][0].isNaN && r.problems[i] == nil, "\(f)")
      case .invalid: #expect(r.problems[i] != nil, "\(f)")
      }
    }
  }

  /// Quote parity: odd and even counts over every length around the 64-byte steps.
  @Test func quoteParity() {
    var rng = SplitMix(seed: 5)
    for n in [0, 1, 63, 64, 65, 127, 128, 129, 64 * 255, 64 * 255 + 1, 64 * 256 + 3, 100_000] {
      var bytes = (0..<n).map { _ in rng.next() % 5 == 0 ? UInt8(0x22) : UInt8(0x61) }
      if n > 0 && rng.next() % 2 == 0 { bytes[0] = 0x22 }
      let odd = bytes.filter { $0 == 0x22 }.count % 2 == 1
      bytes.withUnsafeBufferPointer { #expect(CSVReader.quoteCountIsOdd($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, n) == odd, "\(n)") }
    }
  }
}

/// A large batch is formatted on every core; the text is the same as one row at a time.
@Suite struct ParallelWriterTests {
  @Test func normalizedLargeBatch() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("in.csv").path
    var text = "id,x,note,y,label\r\n"
    var rng = SplitMix(seed: 12)
    let rows = 40 * CSVWriter.minimumPartRows + 17
    for i in 0..<rows {
      let note = i % 101 == 0 ? "\"a,\r\nb\"" : "t\(i)"
      text += "\(i),\(Double(rng.next() % 100_000) / 7),\(note),\(-Double(rng.next() % 1000) / 3),\(i % 3)\r\n"
    }
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    let source = try readAll(path, keepBatches: true) { $0.batchBytes = 1 << 30 }
    #expect(source.batches.count == 1)
    let params = NormalizationParameters(
      method: .minmax, range: [-1, 1], channelAxis: .first,
      groups: (0..<3).map { .init(name: "g\($0)", min: 0, max: 1, mean: 0, std: 1, scale: 0.001, offset: -0.5) })
    let normalized = try Normalizer(params).apply(to: source.batches[0])
    let out = dir.appendingPathComponent("out.csv").path
    let writer = try CSVWriter(path: out, source: source.info, content: .normalized(params), groupNames: nil)
    try writer.append(normalized)
    try writer.finish()
    var expected = "id,x,note,y,label\r\n"
    normalized.withValues(as: Float.self) { v in
      for i in 0..<rows {
        let note = i % 101 == 0 ? "\"a,\r\nb\"" : "t\(i)"
        expected += "\(v[i * 3]),\(v[i * 3 + 1]),\(note),\(v[i * 3 + 2]),\(i % 3)\r\n"
      }
    }
    #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self) == expected)
  }
}

/// Normalized output when the features are the first columns: batches without quotes copy the last
/// fields in one piece, others split each record; both write the same text.
@Suite struct NormalizedSuffixTests {
  @Test func featuresFirstThenLabelAndText() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("in.csv").path
    var text = "x;y;label;note\n"
    let rows = 3000
    for i in 0..<rows {
      // Quotes only in rows 1000..<1100: those batches take the general path.
      let label = (1000..<1100).contains(i) ? "\"\(i % 4)\"" : " \(i % 4)"
      let note = (1000..<1100).contains(i) ? "\"n;\(i)\"" : "n\(i)"
      text += "\(Double(i) / 8);\(-Double(i) * 3);\(label);\(note)\n"
    }
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    let source = try readAll(path, keepBatches: true) { $0.batchBytes = 40_000 }
    #expect(source.batches.count > 5)
    #expect(source.layout.featureColumns == [0, 1])
    let params = NormalizationParameters(
      method: .minmax, range: [-1, 1], channelAxis: .first,
      groups: (0..<2).map { .init(name: "g\($0)", min: 0, max: 1, mean: 0, std: 1, scale: 0.01, offset: -0.5) })
    let out = dir.appendingPathComponent("out.csv").path
    let writer = try CSVWriter(path: out, source: source.info, content: .normalized(params), groupNames: nil)
    var expected = "x;y;label;note\n"
    for b in source.batches {
      let normalized = try Normalizer(params).apply(to: b)
      try writer.append(normalized)
      normalized.withValues(as: Float.self) { v in
        for j in 0..<b.count {
          let i = b.firstIndex + j
          let label = (1000..<1100).contains(i) ? "\"\(i % 4)\"" : " \(i % 4)"
          let note = (1000..<1100).contains(i) ? "\"n;\(i)\"" : "n\(i)"
          expected += "\(v[j * 2]);\(v[j * 2 + 1]);\(label);\(note)\n"
        }
      }
    }
    try writer.finish()
    #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self) == expected)
  }
}
