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
    memoryElementSize: Int, chunkHeight: Int?
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
    self.chunkHeight = chunkHeight.map { Swift.max(1, $0) }
    self.storedBytesPerRow = rows > 0 ? Double(dataset.storageSize) / Double(rows) : 0
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
  /// - Throws: ``HDF5Error`` when the library fails (the buffer may be partly written).
  func read(start: Int, count: Int, into buffer: UnsafeMutableRawPointer) throws {
    guard count > 0, rowElements > 0 else { return }
    if let injectFailure, let error = injectFailure(start..<(start + count)) { throw error }
    try fileSpace.selectRows(start: start, count: count, otherDims: rowDims)
    let memorySpace = try HDF5Dataspace.simple([UInt64(count)] + rowDims)
    try dataset.read(memoryType: memoryType, memorySpace: memorySpace, fileSpace: fileSpace, into: buffer)
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
