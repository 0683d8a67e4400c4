import CHDF5
import DatasanCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads ranges of rows (axis 0) of one dataset into caller memory, one `H5Dread` per range,
/// and recovers from ranges that fail by retrying chunk-row by chunk-row.
final class HDF5RowSource {
  /// The dataset's name as given, for messages.
  let name: String
  let dataset: HDF5Dataset
  /// The dataset's dataspace, reused for every selection.
  let fileSpace: HDF5Dataspace
  /// Dimensions after axis 0.
  let rowDims: [UInt64]
  /// Number of rows (axis 0).
  let rowCount: Int
  /// Type values are converted to in memory.
  let memoryType: hid_t
  /// Elements of one row.
  let rowElements: Int
  /// Bytes of one row in memory.
  let rowBytes: Int
  /// Rows per chunk along axis 0, nil for a layout without chunks.
  let chunkHeight: Int?
  /// The chunks of a chunked dataset without filters, nil for any other layout.
  let unfilteredChunks: UnfilteredChunks?
  /// Chunk rows (axis-0 chunk indexes) holding a chunk without filters stored in another size than
  /// its values take, with that chunk's stored size (``findMisSizedChunks(chunkCount:fail:)``).
  private(set) var misSizedChunkRows: [Int: UInt64] = [:]
  /// Bytes the dataset occupies in the file (`H5Dget_storage_size`: a walk of a chunk index).
  let storageSize: UInt64
  /// Bytes of the file the dataset occupies per row (approximate; for progress).
  let storedBytesPerRow: Double

  /// Test hook: called with the rows of every read; a returned error makes that read fail
  /// as if `H5Dread` had (see STYLE.md, "Testable C failure paths"). Chunks decoded by
  /// ``HDF5ChunkPipeline`` do not pass here; those it leaves to `H5Dread` do.
  var injectFailure: ((Range<Int>) -> HDF5Error?)? = nil

  /// Row-by-row retries of a layout without chunks are capped: at most this many pieces per range.
  static let maxRetryPieces = 4096

  init(
    name: String, dataset: HDF5Dataset, fileSpace: HDF5Dataspace, dims: [UInt64], memoryType: hid_t,
    memoryElementSize: Int, storage: HDF5Storage, storedElementSize: Int
  ) throws {
    self.name = name
    self.dataset = dataset
    self.fileSpace = fileSpace
    self.rowDims = Array(dims.dropFirst())
    guard let rows = Int(exactly: dims[0]) else { throw SizeError(what: "\(dims[0]) rows") }
    self.rowCount = rows
    var elements = 1
    for d in rowDims {
      guard let n = Int(exactly: d) else { throw SizeError(what: "dimension \(d)") }
      let (product, overflow) = elements.multipliedReportingOverflow(by: n)
      if overflow { throw SizeError(what: "a row of \(rowDims.map(String.init).joined(separator: " x ")) values") }
      elements = product
    }
    let (bytes, overflow) = elements.multipliedReportingOverflow(by: memoryElementSize)
    if overflow || bytes > HDF5RowSource.maxRowBytes {
      throw SizeError(what: "a sample of \(rowDims.map(String.init).joined(separator: " x ")) values")
    }
    self.memoryType = memoryType
    self.rowElements = elements
    self.rowBytes = bytes
    self.chunkHeight = storage.chunks?.first.map { Swift.max(1, $0) }
    self.unfilteredChunks =
      storage.filters.isEmpty && !storage.external ? storage.chunks.flatMap { UnfilteredChunks(chunks: $0, rank: dims.count, elementSize: storedElementSize) } : nil
    self.storageSize = dataset.storageSize
    self.storedBytesPerRow = rows > 0 ? Double(storageSize) / Double(rows) : 0
  }

  /// The largest sample datasan reads (4 GiB): a header claiming more is refused, not allocated.
  static let maxRowBytes = 1 << 32

  /// A dataset too large to address.
  struct SizeError: Error, CustomStringConvertible {
    var what: String
    var description: String { "\(what) is too large to read" }
  }

  /// Reads rows `start ..< start + count` into `buffer` (which holds `count * rowBytes` bytes).
  ///
  /// - Throws: ``HDF5Error`` when the library fails (the buffer may be partly written),
  ///   ``ChunkSizeError`` when a chunk of the rows is not stored as its size says.
  func read(start: Int, count: Int, into buffer: UnsafeMutableRawPointer) throws {
    guard count > 0, rowElements > 0 else { return }
    if let injectFailure, let error = injectFailure(start..<(start + count)) { throw error }
    try refuseMisSizedChunks(start: start, count: count)
    try fileSpace.selectRows(start: start, count: count, otherDims: rowDims)
    let memorySpace = try HDF5Dataspace.simple([UInt64(count)] + rowDims)
    try dataset.read(memoryType: memoryType, memorySpace: memorySpace, fileSpace: fileSpace, into: buffer)
  }

  /// The chunk grid of a chunked dataset without filters: every written chunk is stored in exactly
  /// ``bytes`` bytes (its values, whole, edge chunks too).
  struct UnfilteredChunks {
    /// Chunk dimensions, each at least 1.
    let dims: [UInt64]
    /// Values of one chunk, and the bytes they are stored in.
    let values: UInt64
    let bytes: UInt64

    /// Nil when the chunk's size overflows (the reader refuses such chunks at open).
    init?(chunks: [Int], rank: Int, elementSize: Int) {
      guard chunks.count == rank, rank > 0 else { return nil }
      dims = chunks.map { UInt64(Swift.max(1, $0)) }
      var values: UInt64 = 1
      for d in dims {
        let (product, overflow) = values.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        values = product
      }
      let (bytes, overflow) = values.multipliedReportingOverflow(by: UInt64(Swift.max(1, elementSize)))
      if overflow { return nil }
      self.values = values
      self.bytes = bytes
    }
  }

  /// A written chunk of a dataset without filters stored in fewer or more bytes than its values take.
  struct ChunkSizeError: Error, CustomStringConvertible {
    var stored: UInt64
    var expected: UnfilteredChunks
    var description: String {
      "stored in \(stored) bytes, not the \(expected.bytes) its \(expected.values) values take without filters (corrupt)"
    }
  }

  /// Finds the written chunks of a dataset without filters whose stored size is not
  /// ``UnfilteredChunks/bytes`` (`chunkCount` of them are written), so that ``read(start:count:into:)``
  /// refuses their rows before `H5Dread`: libhdf5 1.10 reads such a chunk's full size from a buffer
  /// of the size stored, past its end (a fuzzed file whose filter pipeline was removed from its
  /// gzip chunks), or from whatever follows it in the file.
  ///
  /// Cost: nothing when the chunks' stored bytes in all (`H5Dget_storage_size`, asked at init
  /// anyway) are `chunkCount` x ``UnfilteredChunks/bytes``, as in every intact file. libhdf5 1.10
  /// has no cheap way to size each chunk: `H5Dget_chunk_storage_size` answers the full size when
  /// there are no filters, and `H5Dget_chunk_info` (`_by_coord` too) walks the index from its start at
  /// each call. So when the sum differs, up to ``HDF5WrittenRows/listLimit`` chunks are listed
  /// (~35 ms at most) and their rows made unreadable; for more, `fail` gets the reason and the
  /// dataset is refused. Sizes that err both ways and cancel out in the sum are not seen.
  func findMisSizedChunks(chunkCount: UInt64?, fail: (String) -> Error) throws {
    guard let chunks = unfilteredChunks, let chunkCount, chunkCount > 0 else { return }
    let (expected, overflow) = chunkCount.multipliedReportingOverflow(by: chunks.bytes)
    if !overflow, storageSize == expected { return }
    guard chunkCount <= UInt64(HDF5WrittenRows.listLimit), let space = try? dataset.space() else {
      throw fail(
        "its \(chunkCount) chunks, without filters, are stored in \(storageSize) bytes, not the "
          + "\(overflow ? "too many" : String(expected)) their values take (corrupt)")
    }
    var offset = [UInt64](repeating: 0, count: chunks.dims.count)
    for index in 0..<chunkCount {
      var mask: UInt32 = 0
      var address: haddr_t = 0
      var stored: UInt64 = 0
      let status = HDF5.value { H5Dget_chunk_info(dataset.id, space.id, index, &offset, &mask, &address, &stored) }
      if status >= 0, stored != chunks.bytes {
        let row = Int(clamping: offset[0] / chunks.dims[0])
        if misSizedChunkRows[row] == nil { misSizedChunkRows[row] = stored }
      }
    }
  }

  /// Throws ``ChunkSizeError`` when a chunk row holding any of rows `start ..< start + count` has a
  /// chunk ``findMisSizedChunks(chunkCount:fail:)`` found.
  private func refuseMisSizedChunks(start: Int, count: Int) throws {
    guard !misSizedChunkRows.isEmpty, let chunks = unfilteredChunks, let height = chunkHeight else { return }
    for row in (start / height)...((start + count - 1) / height) {
      if let stored = misSizedChunkRows[row] { throw ChunkSizeError(stored: stored, expected: chunks) }
    }
  }

  /// Reads rows `start ..< start + count` with one `H5Dread`; when that fails, reads the
  /// range again piece by piece (one chunk height of axis 0 at a time, or row by row up
  /// to ``maxRetryPieces`` pieces without chunks) and reports each piece that fails.
  ///
  /// A failed piece is left zero-filled.
  ///
  /// - Parameters:
  ///   - failed: called with the row range (absolute row numbers) of each failed piece and
  ///     the library's reason in one line.
  func readRecovering(
    start: Int, count: Int, into buffer: UnsafeMutableRawPointer, failed: (Range<Int>, String) -> Void
  ) {
    do {
      try read(start: start, count: count, into: buffer)
      return
    } catch {}
    let end = start + count
    let step = chunkHeight ?? Swift.max(1, (count + HDF5RowSource.maxRetryPieces - 1) / HDF5RowSource.maxRetryPieces)
    // Pieces are aligned to absolute multiples of `step`, so that each covers whole chunks.
    var pieceStart = start
    while pieceStart < end {
      let pieceEnd = Swift.min(end, (pieceStart / step + 1) * step)
      let pointer = buffer + (pieceStart - start) * rowBytes
      do {
        try read(start: pieceStart, count: pieceEnd - pieceStart, into: pointer)
      } catch {
        memset(pointer, 0, (pieceEnd - pieceStart) * rowBytes)
        let reason = (error as? HDF5Error)?.friendlyReason ?? "\(error)"
        failed(pieceStart..<pieceEnd, reason)
      }
      pieceStart = pieceEnd
    }
  }
}
