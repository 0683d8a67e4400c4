import DatasanCore
import Foundation
import DatasanTestSupport
import Testing

@testable import DatasanCSV

@Suite struct RobustnessTests {
  struct Outcome: Equatable {
    var keys: [Int] = []
    var originals: [[UInt8]] = []
    var values: [UInt64] = []
    var labels: [UInt64] = []
    var problems: [String] = []
    var error: String? = nil
    var layout: CSVLayout? = nil
  }

  /// Reads a file with a given block size; errors are part of the outcome.
  func outcome(_ path: String, blockSize: Int, _ options: ReadOptions) -> Outcome {
    var o = Outcome()
    do {
      let reader = try CSVReader(path: path, options: options, blockSize: blockSize)
      o.layout = reader.layout
      while let b = try reader.nextBatch() {
        if case .numbers(let k) = b.keys { o.keys += k }
        for i in 0..<b.count { o.originals.append(Array(b.originals!.record(i))) }
        b.withValues(as: Double.self) { v in o.values += v.map { $0.bitPattern } }
        o.labels += (b.labels ?? []).map { $0.bitPattern }
        o.problems += b.problems.sorted { $0.key < $1.key }.map { "\(b.firstIndex + $0.key): \($0.value.detail)" }
        #expect(b.originals!.ends.count == b.count)
        #expect(b.count <= reader.rowsPerBatch)
      }
    } catch let e as DatasanError {
      o.error = e.message
    } catch {
      o.error = "unexpected \(error)"
    }
    return o
  }

  /// Every fixture reads the same whatever the block size (records straddling every kind of boundary).
  @Test func blockSizeDoesNotMatter() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: fixture("")).filter { !$0.hasPrefix(".") }.sorted()
    #expect(names.count >= 15)
    for name in names {
      var options = ReadOptions()
      if name == "skiprows.csv" { options.skipRows = 2 }
      options.batchBytes = 40
      let reference = outcome(fixture(name), blockSize: 4 << 20, options)
      if name != "header_mismatch.csv" { #expect(reference.error == nil, "\(name)") }
      for blockSize in [4, 5, 7, 16, 61] {
        #expect(
          outcome(fixture(name), blockSize: blockSize, options) == reference, "\(name) with \(blockSize)-byte blocks")
      }
    }
  }

  /// Random bytes from a CSV-hostile alphabet: no crash, no hang, consistent results across block sizes.
  @Test func randomInputsNeverCrash() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let alphabet: [UInt8] = Array(",,,;\t\"\"\n\n\r a1.e-5x".utf8) + [0xFF, 0xEF, 0xBB, 0xBF, 0x00]
    var rng = SplitMix(seed: 99)
    var readable = 0
    for k in 0..<300 {
      let n = Int(rng.next() % 120)
      var bytes = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
      if k % 5 == 0 { bytes = Array("a,b,label\n".utf8) + bytes }
      let path = dir.appendingPathComponent("r\(k).csv").path
      _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
      var options = ReadOptions()
      options.header = [nil, true, false][Int(rng.next() % 3)]
      options.skipRows = Int(rng.next() % 3)
      options.batchBytes = 16
      if rng.next() % 4 == 0 { options.labelColumn = "0" }
      let reference = outcome(path, blockSize: 1 << 20, options)
      if reference.error == nil { readable += 1 }
      #expect(reference.keys == reference.keys.sorted())
      #expect(outcome(path, blockSize: 5, options) == reference, "input \(k)")
      // What was read writes back as the same records.
      if reference.error == nil, let layout = reference.layout {
        let writerPath = dir.appendingPathComponent("w\(k).csv").path
        let reader = try CSVReader(path: path, options: options)
        let writer = try CSVWriter(path: writerPath, source: reader.info, content: .original, groupNames: nil)
        while let b = try reader.nextBatch() { try writer.append(b) }
        try writer.finish()
        let back = try Data(contentsOf: URL(fileURLWithPath: writerPath))
        var expected = layout.headerLine.map { $0 + layout.lineEnding } ?? []
        for o in reference.originals { expected += o + layout.lineEnding }
        #expect(Array(back) == expected)
      }
    }
    #expect(readable > 100)
  }
}
