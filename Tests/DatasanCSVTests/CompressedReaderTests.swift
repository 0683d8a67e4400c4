import DatasanCompression
import DatasanCore
import DatasanTestSupport
import Foundation
import Testing

@testable import DatasanCSV

/// A compressed CSV file reads as the plain one, sample for sample (keys, labels, values, problems,
/// original records), whatever the block size (tiny blocks cross every boundary: the dialect window,
/// records, decompressed blocks) and the number of parsing workers. Each file is compressed here by
/// CompressingOutput, so the writer's streams are checked by the reader's. About 1 s.
@Suite struct CompressedReaderTests {
  func compress(_ bytes: [UInt8], _ compression: Compression, to path: String) throws {
    var out = [UInt8]()
    let encoder = try CompressingOutput(compression, path: path)
    // In pieces, so that the encoder is called more than once.
    var at = 0
    while at < bytes.count {
      let n = min(977, bytes.count - at)
      try bytes.withUnsafeBytes { raw in
        try encoder.write(raw.baseAddress! + at, n) { out.append(contentsOf: UnsafeRawBufferPointer(start: $0, count: $1)) }
      }
      at += n
    }
    try encoder.finish { out.append(contentsOf: UnsafeRawBufferPointer(start: $0, count: $1)) }
    try Data(out).write(to: URL(fileURLWithPath: path))
  }

  @Test func compressedFilesReadAsThePlainOnes() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let folder = URL(fileURLWithPath: fixture("dirty.csv")).deletingLastPathComponent().path
    var files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { fixture($0) }
    files.append(try ParallelReaderTests().hostileFile(dir, rows: 3000, seed: 31, ending: "\r\n"))
    var options = ReadOptions()
    options.keepOriginals = true
    var checked = 0
    for path in files {
      let plain = try? readSamples(try CSVReader(path: path, options: options, blockSize: 1 << 20, workers: 1))
      let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
      for compression in Compression.allCases {
        let compressed = dir.path + "/" + URL(fileURLWithPath: path).lastPathComponent + "." + compression.fileExtension
        try compress(bytes, compression, to: compressed)
        #expect(Compression.of(file: compressed) == compression)
        for (blockSize, workers) in [(1 << 20, 1), (7, 2), (4096, 2)] {
          let got = try? readSamples(
            try CSVReader(path: compressed, options: options, blockSize: blockSize, workers: workers, minimumPartBytes: 512))
          #expect(got == plain, "\(path) as \(compression), blocks of \(blockSize), \(workers) workers")
          checked += 1
        }
      }
    }
    #expect(checked >= 4 * 3 * 15)
  }
}
