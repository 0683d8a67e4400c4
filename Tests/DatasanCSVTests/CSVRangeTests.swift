import DatasanCore
import DatasanTestSupport
import Foundation
import Testing

@testable import DatasanCSV

/// A CSV file is read by byte ranges: the records that start in consecutive ranges covering the file
/// are exactly those of one whole read, with the same keys (physical lines), labels, values and
/// problems, whatever the cuts (inside a quoted field, a line ending, a blank line, the header).
@Suite struct CSVRangeTests {
  /// The samples without their stream indices (a byte range does not know how many records precede it).
  func read(_ path: String, _ options: ReadOptions, blockSize: Int, workers: Int?) throws -> [StreamSample] {
    try readSamples(
      try CSVReader(path: path, options: options, blockSize: blockSize, workers: workers, minimumPartBytes: 512)
    ).map {
      var s = $0
      s.index = 0
      return s
    }
  }

  @Test func byteRangesReadExactlyTheWholeRead() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    var rng = SplitMix(seed: 0xC5F)
    var files = (try FileManager.default.contentsOfDirectory(atPath: URL(fileURLWithPath: fixture("dirty.csv")).deletingLastPathComponent().path))
      .sorted().map { (fixture($0), ReadOptions()) }
    var skip = ReadOptions()
    skip.skipRows = 2
    files.append((fixture("skiprows.csv"), skip))
    // Larger than the read-ahead (1,000 rows), so that ranges start in the stream too.
    for (seed, ending) in [(21, "\n"), (22, "\r\n")] as [(UInt64, String)] {
      files.append((try ParallelReaderTests().hostileFile(dir, rows: 4000, seed: seed, ending: ending), ReadOptions()))
    }
    var checked = 0
    for (path, base) in files {
      let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
      let size = bytes.count
      // Cuts anywhere, and (more often) on the first byte of a line: a record's, a blank line's, or a
      // line inside a quoted field, where off-by-one mistakes show.
      let lineStarts = (1..<Swift.max(1, size)).filter { bytes[$0 - 1] == 0x0A || bytes[$0 - 1] == 0x0D }
      func cuts(_ parts: Int) -> [Int] {
        let inside = (0..<(parts - 1)).map { _ in
          rng.next() % 3 == 0 || lineStarts.isEmpty
            ? Int.random(in: 0...size, using: &rng) : lineStarts.randomElement(using: &rng)!
        }
        return [0] + inside.sorted() + [size]
      }
      for (blockSize, workers) in [(1 << 20, 1), (4096, 2), (97, 3)] {
        var options = base
        options.batchBytes = 8 * 3 * 300
        guard let all = try? read(path, options, blockSize: blockSize, workers: workers), !all.isEmpty else { continue }
        checked += 1
        for parts in [2, 3, 8, 30] {
          let cuts = cuts(parts)
          var got: [StreamSample] = []
          for k in 0..<parts {
            options.sampleRange = .bytes(cuts[k]..<cuts[k + 1])
            got += try read(path, options, blockSize: blockSize, workers: workers)
          }
          #expect(got == all, "\(path) cut at \(cuts), block \(blockSize), \(workers) workers")
        }
      }
    }
    #expect(checked >= 30)
  }

  /// A range that starts on a record's first byte begins with that record; one byte later, with the next.
  @Test func aRecordBelongsToTheRangeItsFirstByteIsIn() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("r.csv").path
    let text = "x,label\n1,0\n\n\"2\n\",1\n3,0\n"
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    func keys(_ range: Range<Int>) throws -> [String] {
      var options = ReadOptions()
      options.sampleRange = .bytes(range)
      return try read(path, options, blockSize: 1 << 20, workers: 1).map(\.key)
    }
    let third = Array(text.utf8).firstIndex(of: UInt8(ascii: "\""))!  // the quoted record, line 4
    #expect(try keys(0..<text.utf8.count) == ["2", "4", "6"])
    #expect(try keys(third..<text.utf8.count) == ["4", "6"])
    #expect(try keys((third + 1)..<text.utf8.count) == ["6"])
    #expect(try keys(0..<third) == ["2"])
    #expect(try keys(0..<0).isEmpty)
  }

  @Test func aSampleRangeIsNotForCSV() {
    var options = ReadOptions()
    options.sampleRange = .samples(0..<10)
    #expect(throws: DatasanError.self) { try CSVReader(path: fixture("dirty.csv"), options: options) }
  }
}
