import DatasanCore
@testable import DatasanHDF5
import Testing

/// A chunk that fails to read makes exactly its samples unreadable; the scan goes on.
@Suite struct HDF5CorruptionTests {
  /// corrupt_chunk.h5: data chunk 2 (rows 16..23) and label chunk 4 (rows 32..39) fail fletcher32.
  @Test(arguments: [1, 96, 200, 8 << 20])
  func corruptedChunksAreUnreadable(batchBytes: Int) throws {
    let result = try readAll(Fixture.hdf5("corrupt_chunk.h5"), batchBytes: batchBytes)
    #expect(result.info.sampleCount == 40)
    #expect(Set(result.problems.keys) == Set(Array(16..<24) + Array(32..<40)))
    for row in 16..<24 {
      #expect(result.problems[row] == ReaderProblem(.unreadable, "chunk read failed: checksum error (fletcher32)"))
    }
    for row in 32..<40 {
      #expect(result.problems[row] == ReaderProblem(.unreadable, "label chunk read failed: checksum error (fletcher32)"))
    }
    for row in 0..<40 {
      let values = Array(result.values[(row * 3)..<(row * 3 + 3)])
      if (16..<24).contains(row) {
        #expect(values == [0, 0, 0])
      } else {
        #expect(values == [Double(3 * row), Double(3 * row + 1), Double(3 * row + 2)])
      }
      #expect(result.labels?[row] == ((32..<40).contains(row) ? 0 : Double(row % 4)))
    }
  }

  /// corrupt_gzip.h5: the zlib header of chunk 1 (rows 6..11) is zeroed; no checksum.
  @Test func corruptedGzipStream() throws {
    let result = try readAll(Fixture.hdf5("corrupt_gzip.h5"))
    #expect(Set(result.problems.keys) == Set(6..<12))
    let detail = try #require(result.problems[6]?.detail)
    #expect(detail.hasPrefix("chunk read failed: gzip data corrupt"))
    #expect(!detail.contains("\n"))
    for row in 0..<24 where !(6..<12).contains(row) {
      #expect(result.values[row * 2] == Double(2 * row))
    }
  }

  /// unfiltered_short_chunks.h5: the filter pipeline is gone, chunk 0 (rows 0..9) is a raw chunk of
  /// 1920 bytes, chunks 1-3 are gzip streams of 507, 497 and 470 bytes that libhdf5 would read as
  /// 1920 raw bytes (past its buffer). Those chunks are refused before `H5Dread`, chunk by chunk.
  @Test(arguments: [1, 2000, 8 << 20])
  func unfilteredChunksOfAnotherSizeAreUnreadable(batchBytes: Int) throws {
    let result = try readAll(Fixture.hdf5("unfiltered_short_chunks.h5"), batchBytes: batchBytes)
    #expect(result.info.sampleCount == 40)
    #expect(Set(result.problems.keys) == Set(10..<40))
    for (chunk, stored) in [(1, 507), (2, 497), (3, 470)] {
      for row in (chunk * 10)..<(chunk * 10 + 10) {
        #expect(
          result.problems[row]
            == ReaderProblem(
              .unreadable, "chunk read failed: stored in \(stored) bytes, not the 1920 its 480 values take without filters (corrupt)"))
      }
    }
    let per = 48
    #expect(Array(result.values[0..<(10 * per)]) == (0..<(10 * per)).map(Double.init))
    #expect(result.values[(10 * per)...].allSatisfy { $0 == 0 })
    #expect(result.labels == (0..<40).map { Double($0 % 3) })
  }

  /// Fixtures/demo/train.h5: chunk 5 (rows 80..95) is corrupted on purpose.
  @Test func demoDataset() throws {
    let result = try readAll(Fixture.demo("train.h5"), batchBytes: 1 << 14)
    #expect(result.info.sampleCount == 256)
    #expect(result.info.sampleShape == [3, 8, 8])
    #expect(Set(result.problems.keys) == Set(80..<96))
    let per = 3 * 8 * 8
    func sample(_ i: Int) -> ArraySlice<Double> { result.values[(i * per)..<((i + 1) * per)] }
    #expect(sample(12).filter(\.isNaN).count == 1)
    #expect(sample(101).filter(\.isNaN).count == 3)
    #expect(sample(200).filter(\.isNaN).count == 64)
    #expect(sample(150).filter(\.isInfinite).count == 1)
    #expect(result.labels?[33] == -1 && result.labels?[177] == -1 && result.labels?[240] == 10)
    #expect(result.values.filter { !$0.isNaN && !$0.isInfinite }.max() ?? 0 > 200)
  }
}

/// Read failures forced through the test hook, for layouts no fixture can corrupt.
@Suite struct HDF5InjectedFailureTests {
  static let failure = HDF5Error(
    operation: "H5Dread", frames: [.init(function: "H5FD_sec2_read", major: "Low-level I/O", minor: "Read failed", detail: "file read failed")])

  /// Contiguous layout: the failed batch is retried row by row; only row 5 stays unreadable.
  @Test func contiguousFallsBackToRows() throws {
    var options = ReadOptions()
    options.dataset = "contiguous"
    let reader = try HDF5Reader(path: Fixture.hdf5("layouts.h5"), options: options)
    reader.features.injectFailure = { rows in rows.contains(5) ? Self.failure : nil }
    let batch = try #require(try reader.nextBatch())
    #expect(batch.count == 37)
    #expect(batch.problems == [5: ReaderProblem(.unreadable, "read failed: file read failed")])
    let values = doubles(batch)
    #expect(values[30..<36].allSatisfy { $0 == 0 })
    #expect(Array(values[0..<30]) == Array(HDF5ReaderLayoutTests.expected[0..<30]))
    #expect(Array(values[36...]) == Array(HDF5ReaderLayoutTests.expected[36...]))
  }

  /// Chunked layout: pieces follow absolute chunk boundaries, even when a batch starts mid-chunk.
  @Test func chunkedRetriesWholeChunks() throws {
    var options = ReadOptions()
    options.dataset = "chunked"  // chunks of 5 rows
    options.labels = ""
    let reader = try HDF5Reader(path: Fixture.hdf5("layouts.h5"), options: options)
    var reads: [Range<Int>] = []
    reader.features.injectFailure = { rows in
      reads.append(rows)
      return rows.contains(12) ? Self.failure : nil
    }
    let batch = try #require(try reader.nextBatch())
    #expect(Set(batch.problems.keys) == Set(10..<15))
    #expect(reads == [0..<37, 0..<5, 5..<10, 10..<15, 15..<20, 20..<25, 25..<30, 30..<35, 35..<37])
  }

  @Test func labelFailuresMarkTheirRows() throws {
    let reader = try HDF5Reader(path: Fixture.hdf5("labels.h5"), options: ReadOptions())
    reader.labels?.injectFailure = { rows in rows.contains(3) ? Self.failure : nil }
    let batch = try #require(try reader.nextBatch())
    #expect(batch.problems == [3: ReaderProblem(.unreadable, "label read failed: file read failed")])
    #expect(batch.labels?[3] == 0)
    #expect(batch.labels?[4] == 1)
  }
}
