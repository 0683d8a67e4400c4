import CHDF5

/// Which rows (axis 0) of a dataset were ever written, found from its storage index alone: no
/// chunk is read, so the time it takes follows the storage that exists, not the dataspace.
///
/// libhdf5 gives the fill value for storage that was never allocated: a chunk never written
/// (h5py's `create_dataset(shape=...)` followed by a loop that stopped), or a contiguous dataset
/// never written at all. Those values are not data.
///
/// A row lies in one chunk per chunk along the other axes. It is ``State/written`` when every one
/// of them was written, ``State/never`` when none was, ``State/partly`` otherwise (a writer that
/// stored a sample piece by piece and stopped midway): such a row is not read either, since part
/// of it would be fill values presented as data.
final class HDF5WrittenRows {
  enum State: Equatable {
    case written
    case never
    case partly
  }

  /// Whole dataset in one state, or a chunk index to look up.
  private enum Source {
    case all(State)
    /// Written chunks counted per chunk row (axis-0 chunk index), the chunk rows sorted.
    case listed(counts: [Int: Int], rows: [Int])
    /// Too many chunks to list: chunk rows are probed in order (``probe(_:)``).
    case probed(total: Int)
    /// A virtual dataset: the rows its mappings cover (sorted, disjoint); no source maps the others.
    case mapped([Range<Int>])
  }

  private let source: Source
  /// How many chunks the index lists as written (`H5Dget_num_chunks`), nil for other layouts or
  /// when libhdf5 cannot count them.
  let chunkCount: UInt64?
  private let dataset: HDF5Dataset
  private let rowCount: Int
  /// Chunk dimensions, and the number of chunks along the other axes (the chunks of one chunk row).
  private let chunks: [UInt64]
  private let chunkRowWidth: Int
  private let dims: [UInt64]
  /// Probing state: the chunk rows known so far, as runs from chunk row 0 (run i ends at
  /// `known[i].end`), the written chunks seen in them, and the length of the hole being probed.
  private var known: [(end: Int, state: State)] = []
  private var seen = 0
  private var hole = 0

  /// Chunk indexes up to this many chunks are listed once (`H5Dget_chunk_info` walks the index
  /// from its start at each call: quadratic; measured 0.55 s for 4096 chunks, about 35 ms here).
  static let listLimit = 1024
  /// A chunk row of more chunks than this is not probed chunk by chunk: it counts as written
  /// (read by `H5Dread`, which gives the fill value for what is missing).
  static let probeLimit = 1024

  /// The written rows of `dataset` (of dimensions `dims`, stored as `storage`).
  init(dataset: HDF5Dataset, storage: HDF5Storage, dims: [UInt64]) {
    self.dataset = dataset
    self.dims = dims
    rowCount = Int(clamping: dims.first ?? 0)
    chunks = (storage.chunks ?? []).map { UInt64(Swift.max(1, $0)) }
    var width = 1
    for (d, c) in zip(dims.dropFirst(), chunks.dropFirst()) {
      let n = Int(clamping: d / c + (d % c == 0 ? 0 : 1))
      let (product, overflow) = width.multipliedReportingOverflow(by: n)
      width = overflow ? Int.max : product
    }
    chunkRowWidth = width
    if storage.virtual {
      chunkCount = nil
      source = HDF5WrittenRows.mappedRows(dataset, rowCount: rowCount).map { .mapped($0) } ?? .all(.written)
      return
    }
    guard let height = chunks.first, chunks.count == dims.count else {
      chunkCount = nil
      source = storage.contiguous && !storage.external && HDF5WrittenRows.unallocated(dataset) ? .all(.never) : .all(.written)
      return
    }
    var total: UInt64 = 0
    // libhdf5 1.10 refuses H5S_ALL here and ignores the selection: the whole dataspace it is.
    guard let space = try? dataset.space(),
      (try? HDF5.call("H5Dget_num_chunks") { H5Dget_num_chunks(dataset.id, space.id, &total) }) != nil
    else {
      chunkCount = nil
      source = .all(.written)  // no index to ask: H5Dread decides, chunk by chunk
      return
    }
    chunkCount = total
    let chunkRows = dims[0] / height + (dims[0] % height == 0 ? 0 : 1)
    let (all, overflow) = chunkRows.multipliedReportingOverflow(by: UInt64(width))
    if total == 0 {
      source = .all(.never)
    } else if !overflow, total >= all {
      source = .all(.written)
    } else if total <= UInt64(HDF5WrittenRows.listLimit) {
      var counts: [Int: Int] = [:]
      var offset = [UInt64](repeating: 0, count: dims.count)
      for index in 0..<total {
        var mask: UInt32 = 0
        var address: haddr_t = 0
        var size: UInt64 = 0
        let status = HDF5.value { H5Dget_chunk_info(dataset.id, space.id, index, &offset, &mask, &address, &size) }
        if status < 0 { continue }
        let row = offset[0] / height
        if row < chunkRows { counts[Int(row), default: 0] += 1 }
      }
      source = .listed(counts: counts, rows: counts.keys.sorted())
    } else if width <= HDF5WrittenRows.probeLimit {
      source = .probed(total: Int(clamping: total))
    } else {
      source = .all(.written)
    }
  }

  /// Whether any row may hold written values.
  var anyWritten: Bool {
    if case .all(.never) = source { return false }
    return true
  }

  /// Whether every row counts as written: the index lists every chunk, or it cannot be asked
  /// (then `H5Dread` decides chunk by chunk), or its chunk rows are too wide to probe.
  var allWritten: Bool {
    if case .all(.written) = source { return true }
    return false
  }

  /// The state of `row` and the end of the run of rows from it in that state, at most `limit`.
  /// Runs start and end on chunk boundaries (or the dataset's end).
  func run(from row: Int, limit: Int) -> (state: State, end: Int) {
    let limit = Swift.min(limit, rowCount)
    switch source {
    case .all(let state):
      return (state, limit)
    case .listed(let counts, let rows):
      let height = Int(clamping: chunks[0])
      var k = row / height
      let state = stateOf(counts[k])
      // The first listed chunk row after k (binary search).
      var lo = 0
      var hi = rows.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if rows[mid] <= k { lo = mid + 1 } else { hi = mid }
      }
      if state == .never {
        return (state, Swift.min(limit, lo < rows.count ? HDF5WrittenRows.firstRow(ofChunkRow: rows[lo], height) : Int.max))
      }
      while lo < rows.count, rows[lo] == k + 1, stateOf(counts[k + 1]) == state {
        k += 1
        lo += 1
      }
      return (state, Swift.min(limit, HDF5WrittenRows.firstRow(ofChunkRow: k + 1, height)))
    case .mapped(let ranges):
      // The first range that ends after `row` (binary search).
      var lo = 0
      var hi = ranges.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if ranges[mid].upperBound <= row { lo = mid + 1 } else { hi = mid }
      }
      guard lo < ranges.count else { return (.never, limit) }
      if ranges[lo].lowerBound > row { return (.never, Swift.min(limit, ranges[lo].lowerBound)) }
      return (.written, Swift.min(limit, ranges[lo].upperBound))
    case .probed(let total):
      let height = Int(clamping: chunks[0])
      var (state, end) = probe(row / height, total: total)
      // Probe ahead while the state holds, up to `limit` (long holes are jumped).
      while HDF5WrittenRows.firstRow(ofChunkRow: end, height) < limit {
        let (nextState, nextEnd) = probe(end, total: total)
        guard nextState == state, nextEnd > end else { break }
        end = nextEnd
      }
      return (state, Swift.min(limit, HDF5WrittenRows.firstRow(ofChunkRow: end, height)))
    }
  }

  /// The first row of chunk row `k` (saturating: a header may declare nearly `Int.max` rows).
  private static func firstRow(ofChunkRow k: Int, _ height: Int) -> Int {
    let (row, overflow) = k.multipliedReportingOverflow(by: height)
    return overflow ? Int.max : row
  }

  private func stateOf(_ count: Int?) -> State {
    guard let count, count > 0 else { return .never }
    return count >= chunkRowWidth ? .written : .partly
  }

  /// The state of chunk row `k` and the end of its run (a chunk row), probing chunk rows in order
  /// with `H5Dget_chunk_storage_size` until every written chunk of the index has been seen: all
  /// later ones were never written.
  ///
  /// A long hole is jumped: the index lists chunks in row-major order of their coordinates (every
  /// index type of libhdf5 1.10), so the chunk after the `seen` ones (`H5Dget_chunk_info`, which walks
  /// the index from its start) starts the next written chunk row. The jump is taken once the hole
  /// probed is a sixteenth of the chunks seen, so that jumps cost no more than the probing.
  private func probe(_ k: Int, total: Int) -> (State, Int) {
    let chunkRows = Int(clamping: dims[0] / chunks[0] + (dims[0] % chunks[0] == 0 ? 0 : 1))
    func append(_ state: State, upTo end: Int) {
      if let last = known.last, last.state == state { known[known.count - 1].end = end } else { known.append((end, state)) }
    }
    while (known.last?.end ?? 0) <= k {
      let next = known.last?.end ?? 0
      if seen >= total {
        append(.never, upTo: chunkRows)
        break
      }
      let written = writtenChunks(inChunkRow: next)
      seen += written
      append(stateOf(written), upTo: next + 1)
      hole = written == 0 ? hole + 1 : 0
      if hole >= Swift.max(16, seen / 16), let jump = firstChunkRow(ofChunk: seen), jump > next + 1 {
        append(.never, upTo: Swift.min(jump, chunkRows))
        hole = 0
      }
    }
    // The run holding k (binary search).
    var lo = 0
    var hi = known.count - 1
    while lo < hi {
      let mid = (lo + hi) / 2
      if known[mid].end <= k { lo = mid + 1 } else { hi = mid }
    }
    return (known[lo].state, known[lo].end)
  }

  /// How many chunks of chunk row `k` were written: an odometer over the other axes.
  private func writtenChunks(inChunkRow k: Int) -> Int {
    var written = 0
    var offset = [UInt64](repeating: 0, count: dims.count)
    offset[0] = UInt64(k) * chunks[0]
    for _ in 0..<chunkRowWidth {
      if let bytes = try? dataset.chunkStorageSize(at: offset), bytes > 0 { written += 1 }
      var axis = dims.count - 1
      while axis >= 1 {
        offset[axis] += chunks[axis]
        if offset[axis] < dims[axis] { break }
        offset[axis] = 0
        axis -= 1
      }
    }
    return written
  }

  /// The chunk row of the chunk at `index` of the chunk index, nil when libhdf5 cannot say.
  private func firstChunkRow(ofChunk index: Int) -> Int? {
    guard let space = try? dataset.space() else { return nil }
    var offset = [UInt64](repeating: 0, count: dims.count)
    var mask: UInt32 = 0
    var address: haddr_t = 0
    var size: UInt64 = 0
    let status = HDF5.value { H5Dget_chunk_info(dataset.id, space.id, UInt64(index), &offset, &mask, &address, &size) }
    return status < 0 ? nil : Int(clamping: offset[0] / chunks[0])
  }

  /// The rows (axis 0) the mappings of a virtual dataset cover, from the bounds of each mapping's
  /// selection (`H5Pget_virtual_vspace`, `H5Sget_select_bounds`); nil when they cannot be listed.
  /// Rows outside every mapping hold the fill value: no source was ever given for them.
  private static func mappedRows(_ dataset: HDF5Dataset, rowCount: Int) -> [Range<Int>]? {
    guard let plist = try? dataset.creationPlist() else { return nil }
    var count = 0
    guard (try? HDF5.call("H5Pget_virtual_count") { H5Pget_virtual_count(plist.id, &count) }) != nil,
      count <= listLimit
    else { return nil }
    var ranges: [Range<Int>] = []
    for index in 0..<count {
      guard let space = try? HDF5Dataspace("H5Pget_virtual_vspace", { H5Pget_virtual_vspace(plist.id, index) }),
        let rank = try? HDF5.call("H5Sget_simple_extent_ndims", { H5Sget_simple_extent_ndims(space.id) }), rank > 0
      else { return nil }
      var start = [UInt64](repeating: 0, count: Int(rank))
      var end = [UInt64](repeating: 0, count: Int(rank))
      guard (try? HDF5.call("H5Sget_select_bounds") { H5Sget_select_bounds(space.id, &start, &end) }) != nil else {
        continue  // an empty selection maps nothing
      }
      let low = Int(clamping: start[0])
      let high = Swift.min(rowCount, Int(clamping: end[0] == UInt64.max ? end[0] : end[0] + 1))
      if low < high { ranges.append(low..<high) }
    }
    // Sorted and merged.
    var merged: [Range<Int>] = []
    for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
      if let last = merged.last, range.lowerBound <= last.upperBound {
        merged[merged.count - 1] = last.lowerBound..<Swift.max(last.upperBound, range.upperBound)
      } else {
        merged.append(range)
      }
    }
    return merged
  }

  /// Whether a contiguous dataset has no storage allocated. The corresponding C function is `H5Dget_space_status`.
  private static func unallocated(_ dataset: HDF5Dataset) -> Bool {
    var status = H5D_SPACE_STATUS_ERROR
    let result = HDF5.value { H5Dget_space_status(dataset.id, &status) }
    return result >= 0 && status == H5D_SPACE_STATUS_NOT_ALLOCATED
  }
}
