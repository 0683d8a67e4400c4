import CHDF5
import DatasanCore
@testable import DatasanHDF5
import DatasanTestSupport
import Foundation
import Testing

/// Rows never written (Fixtures/hdf5/partial.h5, unallocated.h5, huge.h5): runs of `unreadable`
/// rows found from the storage index, never read; the HDF5 writer keeps them unallocated.
@Suite struct HDF5NeverWrittenTests {
  /// "The conversion script died at 60%": rows 40..49 and 60..99 were never written.
  @Test(arguments: [nil, 1, 200, 1 << 20])
  func partlyWrittenChunkedDataset(batchBytes: Int?) throws {
    for direct in [true, false] {
      var options = ReadOptions()
      if let batchBytes { options.batchBytes = batchBytes }
      let reader = try HDF5Reader(path: Fixture.hdf5("partial.h5"), options: options)
      reader.directChunks = direct
      var runs: [Range<Int>] = []
      var values: [Double] = []
      var labels: [Double] = []
      var readRows: [Int] = []
      while let batch = try reader.nextBatch() {
        let rows = batch.firstIndex..<(batch.firstIndex + batch.count)
        labels += try #require(batch.labels)
        if case .unreadable(let problem) = batch.values {
          #expect(problem == ReaderProblem(.unreadable, "never written"))
          #expect(batch.storage.bytes.isEmpty)
          if let last = runs.last, last.upperBound == rows.lowerBound {
            runs[runs.count - 1] = last.lowerBound..<rows.upperBound
          } else {
            runs.append(rows)
          }
        } else {
          #expect(batch.problems.isEmpty)
          values += doubles(batch)
          readRows += Array(rows)
        }
      }
      #expect(runs == [40..<50, 60..<100], "direct \(direct)")
      #expect(readRows == Array(0..<40) + Array(50..<60))
      #expect(values == readRows.flatMap { row in [Double](repeating: Double(row), count: 12) })
      // The labels were written whole: every one is kept, those of never-written rows included.
      #expect(labels == (0..<100).map { Double($0 % 7) })
    }
  }

  /// A row lies in several chunks along the other axes: read only when all of them were written.
  @Test func rowsOfPartlyWrittenChunkRows() throws {
    let result = try readAll(Fixture.hdf5("partial.h5"), dataset: "split", labels: "")
    #expect(result.runs.map(\.rows) == [16..<24, 24..<40])
    #expect(result.runs.map(\.problem.detail) == ["partly never written", "never written"])
    #expect(result.values == [Double](repeating: 1, count: 16 * 8))
  }

  /// A contiguous dataset never written has no storage at all: every row is one run; the
  /// written labels come with it.
  @Test func unallocatedContiguousDataset() throws {
    let result = try readAll(Fixture.hdf5("unallocated.h5"))
    #expect(result.runs.map(\.rows) == [0..<50])
    #expect(result.runs.first?.problem == ReaderProblem(.unreadable, "never written"))
    #expect(result.values.isEmpty)
    #expect(result.labels == (0..<50).map { Double($0 % 3) })
  }

  /// More chunks than are listed one by one (``HDF5WrittenRows/listLimit``, 1024): chunk rows are probed
  /// in order until every written chunk was seen; the rest of 10^9 rows is one run at once.
  @Test func probedChunkIndex() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("probed.h5").path
    // A hole of 4000 chunk rows, and a last chunk at row 999,999,000 (a hole probed one by one
    // would take minutes).
    let written = [0..<5000, 9000..<9100, 999_999_000..<999_999_001]
    try GeneratedDataset.write(
      [.init("data", file: datasan_h5t_ieee_f32le(), memory: datasan_h5t_native_float(), size: 4, rows: 1_000_000_000, row: [4], chunk: 1, filters: [], writtenRows: written)],
      to: path)
    let started = Date()
    let result = try readAll(path, labels: "", batchBytes: 1 << 16)
    // A long hole comes in pieces of at most 1025 probed chunk rows: merge them.
    var runs: [Range<Int>] = []
    for run in result.runs.map(\.rows) {
      if let last = runs.last, last.upperBound == run.lowerBound { runs[runs.count - 1] = last.lowerBound..<run.upperBound } else { runs.append(run) }
    }
    #expect(runs == [5000..<9000, 9100..<999_999_000, 999_999_001..<1_000_000_000])
    #expect(result.values.count == 5101 * 4)
    #expect(result.batchCounts.prefix(2) == [4096, 904])  // written rows still come in whole batches (16 bytes a row)
    #expect(Date().timeIntervalSince(started) < 5)
  }

  /// The quarantine of a never-written run grows by its rows and allocates nothing: 2^40 rows
  /// stay a small file, read back as the same run.
  @Test func writerKeepsRunsUnallocated() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("q.h5").path
    let writer = try HDF5Writer(
      path: path, featureName: "data", labelName: "label", sampleShape: [1000], elementType: .float32,
      labelType: .int64, layout: nil, normalization: nil)
    let problem = ReaderProblem(.unreadable, "never written")
    try writer.append(SampleBatch.unreadableRun(firstIndex: 0, count: 1 << 40, problem: problem, elementType: .float32, shape: [1000]))
    try writer.append(
      SampleBatch.unreadableRun(firstIndex: 1 << 40, count: 3, problem: problem, elementType: .float32, shape: [1000], labels: [4, 5, 6]))
    try writer.finish()
    let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    #expect(size < 100_000)
    let reader = try HDF5Reader(path: path, options: ReadOptions())
    #expect(reader.info.sampleCount == (1 << 40) + 3)
    // Not #require: its copy of an Optional<SampleBatch> holding a run crashes (swift_release) here.
    guard let first = try reader.nextBatch() else {
      Issue.record("no batch")
      return
    }
    guard case .unreadable(let read) = first.values else {
      Issue.record("expected a run without values")
      return
    }
    #expect(read == problem)
    // Labels are read per chunk: the chunk holding the 3 written labels starts a little before 2^40.
    let labelChunk = Int(HDF5Writer.chunkDims(sampleShape: [1000], elementSize: 4, layout: nil)[0])
    #expect(first.count == (1 << 40) / labelChunk * labelChunk && first.labels == nil)
    var rows = first.count
    var lastLabels: [Double] = []
    while let batch = try reader.nextBatch() {
      guard case .unreadable = batch.values else {
        Issue.record("expected runs only")
        return
      }
      rows += batch.count
      lastLabels = batch.labels ?? []
    }
    #expect(rows == (1 << 40) + 3)
    #expect(lastLabels.suffix(3) == [4, 5, 6])
  }
}

/// Declared sizes checked against the bytes that exist; inputs that are not regular files.
@Suite struct HDF5DeclaredSizeTests {
  @Test func samplesOfZeroValuesAreRefused() throws {
    let started = Date()
    let error = thrown(DatasanError.self) { _ = try HDF5Reader(path: Fixture.hdf5("zero_width.h5"), options: ReadOptions()) }
    #expect(error?.message == "dataset 'data' has samples of 0 values (shape (1100000000000, 0)); there is nothing to check")
    #expect(Date().timeIntervalSince(started) < 1)
  }

  /// A 4 KB file whose dataspace claims 16 million values a sample (64 MB): more than the file could
  /// hold even compressed.
  @Test func sampleLargerThanTheFileCouldHold() throws {
    let error = thrown(DatasanError.self) { _ = try HDF5Reader(path: Fixture.hdf5("big_sample.h5"), options: ReadOptions()) }
    #expect(
      error?.message.hasPrefix("dataset 'data': a sample of 16000000 values (64000000 bytes) is more than a file of") == true,
      "\(error?.message ?? "")")
  }

  @Test func decodedSizeLimits() throws {
    func check(_ elements: Int, _ chunks: [Int]?, compressed: Bool, fileSize: UInt64) -> String? {
      do {
        try HDF5Reader.checkDecodedSizes(
          rowElements: elements, chunks: chunks, storedSize: 4, compressed: compressed, fileSize: fileSize
        ) { DatasanError(path: "f", $0) }
        return nil
      } catch {
        return "\(error)"
      }
    }
    #expect(check(1000, [16, 1000], compressed: true, fileSize: 1400) == nil)  // 64 KB chunk, 1.4 MB bound
    #expect(check(1000, [16, 1000], compressed: false, fileSize: 1400) != nil)  // 64 KB chunk stored raw in 1.4 KB
    #expect(check(Int.max / 2, nil, compressed: true, fileSize: 1 << 40) != nil)  // overflowing sample
    #expect(check(10, [1 << 40, 1 << 40], compressed: true, fileSize: 1 << 20) != nil)  // overflowing chunk
  }

  /// A FIFO would block `open(2)` until a writer comes: refused from `stat` alone.
  @Test func fifoIsRefusedWithoutBlocking() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("pipe.h5").path
    try #require(mkfifo(path, 0o600) == 0)
    let started = Date()
    #expect(!HDF5Format.looksLikeHDF5(path: path))
    let error = thrown(DatasanError.self) { _ = try HDF5Reader(path: path, options: ReadOptions()) }
    #expect(error?.message.hasPrefix("is a FIFO") == true)
    #expect(Date().timeIntervalSince(started) < 1)
    let device = thrown(DatasanError.self) { _ = try HDF5Reader(path: "/dev/zero", options: ReadOptions()) }
    #expect(device?.message.hasPrefix("is a device") == true)
  }
}

/// External storage, external links and virtual-dataset sources are followed only to regular
/// files in the input's folder (Fixtures/hdf5/ext_*.h5, elink*.h5, vds*.h5).
@Suite struct HDF5ConfinementTests {
  @Test func siblingsInTheFolderAreRead() throws {
    #expect(try readAll(Fixture.hdf5("ext_sibling.h5")).values == (0..<8).map(Double.init))
    let linked = try readAll(Fixture.hdf5("elink.h5"))
    #expect(linked.values == (0..<12).map(Double.init))
    #expect(linked.labels == (0..<6).map { Double($0 % 2) })
    #expect(try readAll(Fixture.hdf5("vds.h5")).values == (0..<24).map(Double.init))
  }

  /// Rows of a virtual dataset that no mapping covers are never written: 10^12 rows, 4 mapped.
  @Test func virtualRowsWithoutSourceAreRuns() throws {
    let started = Date()
    let result = try readAll(Fixture.hdf5("vds_gap.h5"))
    #expect(result.runs.map(\.rows) == [0..<4, 8..<1_000_000_000_000])
    #expect(result.values == (12..<24).map(Double.init))
    #expect(Date().timeIntervalSince(started) < 1)
  }

  /// Read from another working directory: names resolve against the input's folder, not the cwd.
  @Test func siblingsResolveAgainstTheInputsFolder() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let link = dir.appendingPathComponent("ext_sibling.h5").path
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: Fixture.hdf5("ext_sibling.h5"))
    // Through a symlink the folder is the target's (resolved), where ext_sibling.bin is.
    #expect(try readAll(link).values == (0..<8).map(Double.init))
    try Data("not these bytes, not at all!!!!".utf8).write(to: dir.appendingPathComponent("ext_sibling.bin"))
    #expect(try readAll(link).values == (0..<8).map(Double.init))
  }

  @Test(arguments: [
    ("ext_devzero.h5", "dataset 'data' stores its values in '/dev/zero', outside the input's folder"),
    ("ext_hostname.h5", "dataset 'data' stores its values in '/etc/hostname', outside the input's folder"),
    ("ext_climb.h5", "dataset 'data' stores its values in '../hdf5/../make_hdf5_fixtures.py', outside the input's folder"),
    ("elink_outside.h5", "link 'data' points to '/etc/hostname', outside the input's folder"),
    ("vds_outside.h5", "virtual dataset 'data' reads from '/etc/hostname', outside the input's folder"),
    ("vds_self_external.h5", "dataset '.:raw' stores its values in '/dev/zero', outside the input's folder"),
  ])
  func outsideTheFolderIsRefused(file: String, message: String) throws {
    let error = thrown(DatasanError.self) { _ = try readAll(Fixture.hdf5(file)) }
    #expect(error?.path == Fixture.hdf5(file))
    #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "")")
    #expect(error?.message.contains("\n") == false)
  }

  /// A link to a sibling whose object is a link out of the folder; a soft link to that link.
  @Test(arguments: ["data", "soft"])
  func chainedLinksAreWalked(dataset: String) throws {
    let error = thrown(DatasanError.self) { _ = try readAll(Fixture.hdf5("elink_chain.h5"), dataset: dataset) }
    #expect(error?.message.hasPrefix("link '/data' points to '/etc/hostname', outside the input's folder") == true, "\(error?.message ?? "")")
  }

  /// External files shorter than the dataset: the rows they do not hold would read as zeros.
  @Test func externalFilesShorterThanTheDataset() throws {
    let error = thrown(DatasanError.self) { _ = try readAll(Fixture.hdf5("ext_short.h5")) }
    #expect(error?.message == "dataset 'data' claims 1000000000 samples but its external files hold only 16 bytes (truncated or corrupt)")
  }

  /// A path inside the folder that is not a regular file (a FIFO named by external storage).
  @Test func fifoInTheFolderIsRefused() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let copy = dir.appendingPathComponent("ext_sibling.h5").path
    try FileManager.default.copyItem(atPath: Fixture.hdf5("ext_sibling.h5"), toPath: copy)
    try #require(mkfifo(dir.appendingPathComponent("ext_sibling.bin").path, 0o600) == 0)
    let error = thrown(DatasanError.self) { _ = try readAll(copy) }
    #expect(error?.message.hasPrefix("dataset 'data' stores its values in 'ext_sibling.bin', which is not a regular file") == true)
  }
}
