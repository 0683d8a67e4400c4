import DatasanCore
import Foundation
import Testing

@testable import DatasanCSV

@Suite struct LargeFileTests {
  /// A ~20 MB file of many 4 MiB blocks, with multi-line quoted records every 997 rows, so that records
  /// (quoted ones included) straddle block boundaries.
  @Test func streamsManyBlocks() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("big.csv").path
    let rows = 660_000
    var text: [UInt8] = []
    text.reserveCapacity(24 << 20)
    text.append(contentsOf: Array("id,note,x,y,label\r\n".utf8))
    var lines: [Int] = []
    var line = 2
    for i in 0..<rows {
      lines.append(line)
      let note = i % 997 == 0 ? "\"multi\r\nline, \"\"quoted\"\"\"" : "n\(i % 13)"
      let row = "\(i),\(note),\(Double(i) * 0.25),\(-Double(i) / 8),\(i % 10)\r\n"
      text.append(contentsOf: Array(row.utf8))
      line += i % 997 == 0 ? 2 : 1
    }
    _ = FileManager.default.createFile(atPath: path, contents: Data(text))
    #expect(text.count > 20_000_000)

    // 1,000 rows a batch: twice 3 float64 values, the original record (22 bytes on average in the
    // read-ahead rows, one byte for its line ending) and 16 bytes of key and record end, each.
    let reader = try CSVReader(path: path, options: options { $0.batchBytes = 2 * (3 * 8 + 22 + 16) * 1000 })
    #expect(reader.rowsPerBatch == 1000)
    #expect(reader.info.groupNames == ["id", "x", "y"])
    #expect(reader.layout.textColumns == [1])
    var count = 0
    var maxBatch = 0
    var checked = 0
    while let batch = try reader.nextBatch() {
      maxBatch = max(maxBatch, batch.count)
      #expect(batch.firstIndex == count)
      #expect(batch.problems.isEmpty)
      guard case .numbers(let keys) = batch.keys else { break }
      batch.withValues(as: Double.self) { v in
        for j in 0..<batch.count {
          let i = count + j
          if i % 4999 == 0 || i == rows - 1 || i % 997 == 0 {
            #expect(v[j * 3] == Double(i))
            #expect(v[j * 3 + 1] == Double(i) * 0.25)
            #expect(v[j * 3 + 2] == -Double(i) / 8)
            #expect(batch.labels![j] == Double(i % 10))
            #expect(keys[j] == lines[i])
            checked += 1
          }
        }
      }
      if let o = batch.originals, count % 997 == 0 {
        #expect(
          String(decoding: o.record(0), as: UTF8.self)
            == "\(count),\"multi\r\nline, \"\"quoted\"\"\",\(Double(count) * 0.25),\(-Double(count) / 8),\(count % 10)")
      }
      count += batch.count
      #expect(reader.bufferCapacity == 4 << 20)
    }
    #expect(count == rows)
    #expect(maxBatch == 1000)
    #expect(checked > 780)
    #expect(reader.bytesRead == text.count)
  }

  /// One record larger than a block grows the buffer for that record only.
  @Test func recordLargerThanABlock() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("wide.csv").path
    let big = String(repeating: "z", count: 9 << 20)
    _ = FileManager.default.createFile(atPath: path, contents: Data("t,x\n\"\(big)\",1\nshort,2\n".utf8))
    let r = try readAll(path)
    #expect(r.count == 2)
    #expect(r.column(0) == [1, 2])
    #expect(r.originals[0].count == big.utf8.count + 4)
  }
}
