import CHDF5
import DatasanCore

/// Reads the samples of an HDF5 dataset (axis 0 is the sample axis) as a stream of batches.
///
/// The file is opened read-only. Every integer and float type of either byte order is read
/// as its native equivalent (float16 as float32); contiguous and chunked layouts with the
/// library's filters (gzip, shuffle, fletcher32) read through `H5Dread`. Samples are read
/// in hyperslabs of many rows (about ``ReadOptions/batchBytes`` bytes, whole chunks along
/// axis 0), never the whole file at once. A chunk that fails to read (a checksum error,
/// corrupt compressed bytes) makes its samples `unreadable`, zero-filled, and the scan goes on.
///
/// Filtered chunks that span whole rows are read raw (`H5Dread_chunk`) and decoded on every
/// core, a few batches ahead (see ``HDF5RawChunkPlan``), with the same values and problems as
/// `H5Dread`. `DATASAN_HDF5_DIRECT_CHUNKS=0` in the environment turns that off (for comparisons).
///
/// Declared sizes bound nothing until checked against the bytes that exist: rows never written
/// (chunks absent from the index, an unallocated contiguous dataset, rows no virtual mapping
/// covers) come as runs without values, `unreadable` "never written", never read
/// (``HDF5WrittenRows``); a sample or chunk larger than the file could hold even compressed, rows
/// beyond what external files hold, and samples of 0 values are refused at open. Memory: one
/// batch is about ``ReadOptions/batchBytes`` (at least one sample, at most one chunk row of
/// 4x the budget or 64 MiB), a few batches in flight, plus the one chunk libhdf5 decodes at a time.
///
/// Nothing outside the input's folder is read (``HDF5Confinement``), and a FIFO, socket or
/// device is refused before anything opens it.
public final class HDF5Reader: SampleReader {
  /// What the reader knows about the dataset.
  public private(set) var info: DatasetInfo
  /// Approximate bytes of the file consumed so far (stored size of the rows read).
  public private(set) var bytesRead: Int = 0

  private let file: HDF5File
  /// The access property list every object was opened with (prefixes of ``HDF5Confinement``).
  private let access: HDF5Plist
  let features: HDF5RowSource
  let labels: HDF5RowSource?
  /// Numbers per label row: K of one-hot / soft labels (N, K), else 1.
  let labelWidth: Int
  private let elementType: ElementType
  private let sampleShape: [Int]
  private let batchRows: Int
  private let batchBytes: Int
  private var nextRow = 0
  /// The end of the rows read (``ReadOptions/sampleRange``; all rows by default).
  private var endRow = 0
  private var storedBytes = 0.0
  private let fileSize: Double
  /// Which rows of the features and of the labels were ever written.
  let writtenRows: HDF5WrittenRows
  let labelRows: HDF5WrittenRows?
  /// Segments planned for the raw-chunk pipeline and not yet handed out, in row order.
  private var planned: [Segment] = []

  /// How the feature chunks can be decoded without libhdf5, nil when they cannot.
  let rawPlan: HDF5RawChunkPlan?
  /// Why there is no ``rawPlan``.
  let rawRefusal: String
  /// Whether to use ``rawPlan`` (tests turn it off before the first batch to compare with `H5Dread`).
  var directChunks: Bool = HDF5ChunkPipeline.enabledByEnvironment
  /// The batches in flight when reading raw chunks; made at the first batch.
  private(set) var pipeline: HDF5ChunkPipeline?
  /// The first row not yet handed to the pipeline.
  private var plannedRow = 0

  /// Opens `path` and the datasets named by `options` (`dataset`, default "data";
  /// `labels`, default "label" when present, an empty name for none).
  ///
  /// - Throws: ``DatasanError`` naming the file and the problem: not an HDF5 file, a
  ///   missing dataset, an unsupported type, a scalar dataset, a label dataset of the
  ///   wrong shape or length.
  public init(path: String, options: ReadOptions) throws {
    func fail(_ message: String) -> DatasanError { DatasanError(path: path, message) }

    // Before anything opens the path: a FIFO or a device would block or never end.
    if let problem = HDF5Format.fileProblem(path: path) { throw fail(problem) }
    guard HDF5Format.looksLikeHDF5(path: path) else { throw fail("not an HDF5 file") }
    let confinement = try HDF5Confinement(input: path)
    let access: HDF5Plist
    do {
      access = try confinement.accessPlist()
    } catch let error as HDF5Error {
      throw fail("cannot open HDF5 file: \(error.reason)")
    }
    let file: HDF5File
    do {
      file = try HDF5File.openReadOnly(path)
    } catch let error as HDF5Error {
      throw fail("cannot open HDF5 file: \(error.reason)")
    }
    self.file = file
    self.access = access

    // Features.
    let featureName = options.dataset
    let featureDataset = try HDF5Reader.open(file, featureName, role: "dataset", confinement: confinement, access: access)
    let featureSpace: HDF5Dataspace
    let dims: [UInt64]
    let numeric: HDF5NumericType
    let storage: HDF5Storage
    let externalBytes: UInt64?
    do {
      featureSpace = try featureDataset.space()
      let extent = featureSpace.extentType
      if extent == H5S_SCALAR {
        throw fail("dataset '\(featureName)' is a scalar (0-d); datasan needs samples along axis 0")
      }
      if extent != H5S_SIMPLE { throw fail("dataset '\(featureName)' has no dataspace (null); it holds no samples") }
      dims = try featureSpace.dims()
      if dims.isEmpty { throw fail("dataset '\(featureName)' is a scalar (0-d); datasan needs samples along axis 0") }
      numeric = try HDF5Types.numeric(try featureDataset.type())
      storage = try HDF5Storage(of: featureDataset, rank: dims.count)
      externalBytes = try confinement.checkStorage(of: featureDataset, name: featureName)
    } catch let error as HDF5Unsupported {
      throw fail("dataset '\(featureName)': unsupported \(error)\(error.isType ? "; datasan reads integer and float datasets" : "")")
    } catch let error as HDF5Error {
      throw fail("dataset '\(featureName)': \(error.reason)")
    }
    let featureSource: HDF5RowSource
    do {
      featureSource = try HDF5RowSource(
        name: featureName, dataset: featureDataset, fileSpace: featureSpace, dims: dims,
        memoryType: numeric.memoryType, memoryElementSize: numeric.elementType.size, storage: storage,
        storedElementSize: numeric.storedSize)
    } catch {
      throw fail("dataset '\(featureName)': \(error)")
    }
    // A contiguous dataset whose header claims more bytes than the file holds is corrupt;
    // refuse it rather than scanning an absurd number of rows.
    if storage.contiguous, featureSource.rowCount > 0 {
      let address = HDF5.value { H5Dget_offset(featureDataset.id) }
      let offset = UInt64(address)
      let (rowBytes, o1) = featureSource.rowElements.multipliedReportingOverflow(by: numeric.storedSize)
      let (total, o2) = rowBytes.multipliedReportingOverflow(by: featureSource.rowCount)
      if address != datasan_haddr_undef(), let size = file.fileSize,
        o1 || o2 || offset.addingReportingOverflow(UInt64(clamping: total)).overflow
          || offset + UInt64(clamping: total) > size
      {
        throw fail(
          "dataset '\(featureName)' claims \(featureSource.rowCount) samples but the file holds only \(size) bytes (truncated or corrupt)"
        )
      }
    }

    if featureSource.rowElements == 0, featureSource.rowCount > 0 {
      throw fail(
        "dataset '\(featureName)' has samples of 0 values (shape (\(dims.map(String.init).joined(separator: ", ")))); there is nothing to check")
    }
    let writtenRows = HDF5WrittenRows(dataset: featureDataset, storage: storage, dims: dims)
    try HDF5Reader.checkSizes(
      of: featureSource, storedSize: numeric.storedSize, storage: storage, written: writtenRows,
      externalBytes: externalBytes, fileSize: file.fileSize, units: "samples"
    ) { fail("dataset '\(featureName)'\($0)") }
    try featureSource.findMisSizedChunks(chunkCount: writtenRows.chunkCount) { fail("dataset '\(featureName)': " + $0) }

    // Labels.
    var labelName: String? = nil
    if let asked = options.labels {
      if !asked.isEmpty { labelName = asked }
    } else if try file.linkExists("label", confinement: confinement), (try? file.objectType("label", access: access)) == H5I_DATASET {
      labelName = "label"
    }
    var labelSource: HDF5RowSource? = nil
    var labelType: ElementType? = nil
    var labelRank = 1
    var labelWidth = 1
    var labelRows: HDF5WrittenRows? = nil
    var classNames: [String]? = nil
    if let labelName {
      let labelDataset = try HDF5Reader.open(file, labelName, role: "label dataset", confinement: confinement, access: access)
      do {
        let space = try labelDataset.space()
        let labelDims = space.extentType == H5S_SIMPLE ? try space.dims() : []
        let shape = "(" + labelDims.map(String.init).joined(separator: ", ") + ")"
        guard labelDims.count == 1 || labelDims.count == 2 else {
          throw fail("label dataset '\(labelName)' has shape \(shape); expected (N), (N, 1) or one-hot / soft labels (N, K)")
        }
        if labelDims.count == 2 {
          guard labelDims[1] >= 1, labelDims[1] <= 1 << 20 else {
            throw fail("label dataset '\(labelName)' has shape \(shape); one-hot / soft labels (N, K) need 1 <= K <= 1,048,576")
          }
          labelWidth = Int(labelDims[1])
        }
        guard labelDims[0] == dims[0] else {
          throw fail("label dataset '\(labelName)' has \(labelDims[0]) labels but dataset '\(featureName)' has \(dims[0]) samples")
        }
        let labelNumeric = try HDF5Types.numeric(try labelDataset.type())
        let labelStorage = try HDF5Storage(of: labelDataset, rank: labelDims.count)
        let labelExternalBytes = try confinement.checkStorage(of: labelDataset, name: labelName)
        let rows = HDF5WrittenRows(dataset: labelDataset, storage: labelStorage, dims: labelDims)
        let source = try HDF5RowSource(
          name: labelName, dataset: labelDataset, fileSpace: space, dims: labelDims,
          memoryType: datasan_h5t_native_double(), memoryElementSize: 8, storage: labelStorage,
          storedElementSize: labelNumeric.storedSize)
        try HDF5Reader.checkSizes(
          of: source, storedSize: labelNumeric.storedSize, storage: labelStorage, written: rows,
          externalBytes: labelExternalBytes, fileSize: file.fileSize, units: "labels"
        ) { fail("label dataset '\(labelName)'\($0)") }
        try source.findMisSizedChunks(chunkCount: rows.chunkCount) { fail("label dataset '\(labelName)': " + $0) }
        labelRows = rows
        labelSource = source
        // The class list a datasan output (or any writer) stored beside the labels.
        let attributes = HDF5Attributes(object: labelDataset.id)
        if (try? attributes.exists("classes")) == true, let names = try? attributes.strings("classes"),
          ClassList.problem(names) == nil
        {
          classNames = names
        }
        labelType = labelNumeric.elementType
        labelRank = labelDims.count
      } catch let error as HDF5Unsupported {
        throw fail("label dataset '\(labelName)': unsupported \(error)\(error.isType ? "; labels must be integers or floats" : "")")
      } catch let error as HDF5Error {
        throw fail("label dataset '\(labelName)': \(error.reason)")
      } catch let error as HDF5RowSource.SizeError {
        throw fail("label dataset '\(labelName)': \(error)")
      }
    }

    self.features = featureSource
    self.labels = labelSource
    self.writtenRows = writtenRows
    self.labelRows = labelRows
    self.fileSize = Double(file.fileSize ?? 0)
    self.elementType = numeric.elementType
    self.sampleShape = dims.dropFirst().map { Int(clamping: $0) }
    // The budget covers the labels too (8 bytes a row), so that rows without feature
    // values (shape (N, 0)) do not make a batch of millions of labels.
    self.batchBytes = options.batchBytes
    self.batchRows = HDF5Reader.batchRows(
      rowBytes: featureSource.rowBytes + (labelSource == nil ? 0 : 8 * labelWidth), batchBytes: options.batchBytes,
      chunkHeight: storage.chunks?.first)
    var refusal = ""
    self.rawPlan = HDF5RawChunkPlan.make(
      dataset: featureDataset, storage: storage, dims: dims, memoryType: numeric.memoryType,
      elementSize: numeric.elementType.size, rowBytes: featureSource.rowBytes, batchRows: batchRows, refusal: &refusal)
    self.rawRefusal = refusal
    self.info = DatasetInfo(
      format: .hdf5, path: path, sampleCount: featureSource.rowCount, elementType: numeric.elementType,
      sampleShape: sampleShape, featureName: featureName, labelName: labelName,
      layout: HDF5Layout(
        chunks: storage.chunks, gzipLevel: storage.gzipLevel, shuffle: storage.shuffle,
        fletcher32: storage.fletcher32, labelType: labelType, labelRank: labelRank))
    if labelWidth > 1, var layout = self.info.layout as? HDF5Layout {
      layout.labelWidth = labelWidth
      self.info.layout = layout
      self.info.labelEncoding = .vectors(width: labelWidth)
    }
    self.labelWidth = labelWidth
    self.info.classNames = classNames
    self.info.labelSource = labelName.map { "dataset '\($0)'" }
    endRow = featureSource.rowCount
    if let range = options.sampleRange {
      guard let rows = range.samples(clampedTo: featureSource.rowCount) else {
        throw fail("an HDF5 dataset is read by row ranges, not byte ranges")
      }
      (nextRow, plannedRow, endRow) = (rows.lowerBound, rows.lowerBound, rows.upperBound)
      info.sampleCount = rows.count
    }
  }

  /// A run of rows handed out as one batch: rows to read, or rows never written (`never` set).
  struct Segment: Equatable {
    var start: Int
    var count: Int
    var never: ReaderProblem?
  }

  /// The next segment from `row`: up to a batch of rows to read (whole chunks), or a run of
  /// rows whose features were never written, as long as their labels need no reading.
  func segment(from row: Int) -> Segment {
    let total = endRow
    // Written rows are looked up a batch ahead; rows never written, to the end of their run.
    let (written, batchEnd) = writtenRows.run(from: row, limit: Swift.min(total, row.addingReportingOverflow(batchRows).overflow ? total : row + batchRows))
    if written == .written { return Segment(start: row, count: batchEnd - row) }
    let (state, end) = writtenRows.run(from: row, limit: total)
    let problem = ReaderProblem(.unreadable, state == .never ? "never written" : "partly never written")
    // The run is one batch without values, however long, as long as its labels were never
    // written either; written labels are read (and kept in the quarantine), a batch's worth at a time.
    var limit = Int.max
    if let labelRows {
      let (labelState, labelEnd) = labelRows.run(from: row, limit: end)
      limit = labelState == .written ? Swift.min(labelEnd - row, Swift.max(batchRows, labelBatchRows)) : labelEnd - row
    }
    return Segment(start: row, count: Swift.min(end - row, limit), never: problem)
  }

  /// Rows of labels per batch when only labels are read (8 bytes a row).
  private var labelBatchRows: Int { Swift.max(1, batchBytes / (8 * labelWidth)) }

  /// The next batch of samples, or nil after the last one.
  ///
  /// Never throws for a bad chunk: its samples get an `unreadable` problem instead. Rows never
  /// written come in batches of their own, every sample `unreadable` ("never written"), unread.
  public func nextBatch() throws -> SampleBatch? {
    guard nextRow < endRow else { return nil }
    var segment: Segment? = nil
    if pipeline == nil, directChunks, let rawPlan {
      // Raw chunks are read whole, from the first row of a chunk: a range that starts inside a chunk
      // reads the rest of that chunk with H5Dread first.
      let chunkRows = Swift.max(1, rawPlan.chunkRows)
      if nextRow % chunkRows == 0 {
        pipeline = HDF5ChunkPipeline(plan: rawPlan, rank: features.rowDims.count + 1)
        plannedRow = nextRow
      } else {
        var first = self.segment(from: nextRow)
        first.count = Swift.min(first.count, chunkRows - nextRow % chunkRows)
        segment = first
      }
    }
    if let pipeline { return nextDirectBatch(pipeline) }
    let next = segment ?? self.segment(from: nextRow)
    return finish(next, batch: nil, featureRows: [next.start..<(next.start + next.count)])
  }

  /// The next batch from the raw-chunk pipeline: keeps ``HDF5ChunkPipeline/window`` batches in
  /// flight, hands back the oldest once decoded, its undecodable chunks read with `H5Dread`.
  private func nextDirectBatch(_ pipeline: HDF5ChunkPipeline) -> SampleBatch? {
    let total = endRow
    while pipeline.hasRoom, planned.count < pipeline.window, plannedRow < total {
      let segment = segment(from: plannedRow)
      if segment.never == nil {
        let batch = SampleBatch.uniform(
          firstIndex: segment.start, count: segment.count, elementType: elementType, shape: sampleShape, labels: nil,
          zeroed: false)
        pipeline.submit(dataset: features.dataset, start: segment.start, count: segment.count, batch: batch)
      }
      planned.append(segment)
      plannedRow = segment.start + segment.count
    }
    guard !planned.isEmpty else { return nil }
    let segment = planned.removeFirst()
    if segment.never != nil { return finish(segment, batch: nil, featureRows: []) }
    guard let job = pipeline.next() else { return nil }
    return finish(segment, batch: job.batch, featureRows: job.fallback)
  }

  /// Completes the batch of `segment`: reads `featureRows` (absolute row ranges not yet in
  /// `batch`, a new batch when nil) with `H5Dread`, marking and zeroing what fails, then the labels.
  /// A never-written segment reads nothing but its labels.
  private func finish(_ segment: Segment, batch: SampleBatch?, featureRows: [Range<Int>]) -> SampleBatch {
    let start = segment.start
    let count = segment.count
    var problems: [Int: ReaderProblem] = [:]
    func mark(_ rows: Range<Int>, _ detail: String) {
      for row in rows where problems[row - start] == nil {
        problems[row - start] = ReaderProblem(.unreadable, detail)
      }
    }
    nextRow = start + count
    if let never = segment.never {
      // Labels never written along with the features are not materialized either (``segment(from:)``
      // made the run's labels all written or all not).
      let labelState = labelRows?.run(from: start, limit: start + count).state ?? .written
      let labelValues = labels == nil || labelState != .written ? nil : readLabels(start: start, count: count, mark: mark)
      var run = SampleBatch.unreadableRun(
        firstIndex: start, count: count, problem: never, elementType: elementType, shape: sampleShape,
        labels: labelWidth == 1 ? labelValues : nil)
      if labelWidth > 1, let labelValues { run.setLabelVectors(labelValues, width: labelWidth) }
      return run
    }
    // Not zeroed: H5Dread writes every byte; rows it cannot read are zeroed below.
    var batch =
      batch
      ?? SampleBatch.uniform(
        firstIndex: start, count: count, elementType: elementType, shape: sampleShape, labels: nil, zeroed: false)
    let rowBytes = features.rowBytes
    if let base = batch.storage.bytes.baseAddress {
      let chunked = features.chunkHeight != nil
      for range in featureRows where !range.isEmpty {
        features.readRecovering(start: range.lowerBound, count: range.count, into: base + (range.lowerBound - start) * rowBytes) {
          rows, reason in
          mark(rows, (chunked ? "chunk read failed: " : "read failed: ") + reason)
          (base + (rows.lowerBound - start) * rowBytes).initializeMemory(as: UInt8.self, repeating: 0, count: rows.count * rowBytes)
        }
      }
    }
    if labels != nil {
      let values = readLabels(start: start, count: count, mark: mark)
      if labelWidth > 1 { batch.setLabelVectors(values, width: labelWidth) } else { batch.labels = values }
    }
    batch.problems = problems
    storedBytes = Swift.min(fileSize, storedBytes + Double(count) * (features.storedBytesPerRow + (labels?.storedBytesPerRow ?? 0)))
    bytesRead = storedBytes < 9.0e18 ? Int(storedBytes) : Int.max
    return batch
  }

  /// The labels of rows `start ..< start + count` (NaN where they were never written, with the
  /// problem "label never written"); `mark` gets the rows whose labels cannot be read.
  private func readLabels(start: Int, count: Int, mark: (Range<Int>, String) -> Void) -> [Double] {
    guard let labels else { return [] }
    let k = labelWidth
    var values = [Double](repeating: 0, count: count * k)
    let chunked = labels.chunkHeight != nil
    let end = start + count
    var row = start
    values.withUnsafeMutableBytes { raw in
      guard let base = raw.baseAddress?.assumingMemoryBound(to: Double.self) else { return }
      while row < end {
        let (state, runEnd) = labelRows?.run(from: row, limit: end) ?? (.written, end)
        let stop = Swift.max(row + 1, Swift.min(runEnd, end))
        if state == .written {
          labels.readRecovering(start: row, count: stop - row, into: base + (row - start) * k) { rows, reason in
            mark(rows, (chunked ? "label chunk read failed: " : "label read failed: ") + reason)
          }
        } else {
          (base + (row - start) * k).initialize(repeating: .nan, count: (stop - row) * k)
          mark(row..<stop, "label never written")
        }
        row = stop
      }
    }
    return values
  }

  /// Refuses a dataset whose declared sizes the bytes that exist cannot hold: more rows than its
  /// external files hold (they would read as zeros), or a row or chunk larger than the file could
  /// hold even compressed (``checkDecodedSizes``) while some of it is written.
  ///
  /// - Throws: what `fail` makes of the reason (which starts with ": " or " ").
  static func checkSizes(
    of source: HDF5RowSource, storedSize: Int, storage: HDF5Storage, written: HDF5WrittenRows, externalBytes: UInt64?,
    fileSize: UInt64?, units: String, fail: (String) -> Error
  ) throws {
    if let externalBytes {
      let (rowBytes, o1) = UInt64(source.rowElements).multipliedReportingOverflow(by: UInt64(storedSize))
      let (total, o2) = rowBytes.multipliedReportingOverflow(by: UInt64(source.rowCount))
      if o1 || o2 || total > externalBytes {
        throw fail(
          " claims \(source.rowCount) \(units) but its external files hold only \(externalBytes) bytes (truncated or corrupt)")
      }
    }
    if written.anyWritten, !storage.external, !storage.virtual, let fileSize {
      // Rows that all count as written must fit in the file too: a chunk index libhdf5 cannot
      // count counts every chunk written, and the fuzzer's 12 KB file of 5.7e18 rows was read for ever.
      try checkDecodedSizes(
        rowElements: source.rowElements, chunks: storage.chunks, storedSize: storedSize, compressed: storage.compressed,
        fileSize: fileSize, rows: written.allWritten ? source.rowCount : nil
      ) { fail(": " + $0) }
    }
  }

  /// The most bytes one stored byte decodes to: deflate's limit (258 bytes from a 2-bit code is
  /// about 1032:1), for any compressing filter.
  static let maxCompressionRatio: UInt64 = 1032

  /// Refuses sizes no written storage of a file of `fileSize` bytes can hold: a sample of
  /// `rowElements` values and a chunk (which libhdf5 decodes whole to read any of it), each
  /// of `storedSize` bytes, more than the file could hold even compressed (`compressed`); and,
  /// given `rows` (the rows that all count as written), their total.
  ///
  /// - Throws: what `fail` makes of the reason.
  static func checkDecodedSizes(
    rowElements: Int, chunks: [Int]?, storedSize: Int, compressed: Bool, fileSize: UInt64, rows: Int? = nil,
    fail: (String) -> Error
  ) throws {
    let (limit, overflow) = fileSize.multipliedReportingOverflow(by: compressed ? maxCompressionRatio : 1)
    let most = overflow ? UInt64.max : limit + 4096
    let row = UInt64(rowElements).multipliedReportingOverflow(by: UInt64(storedSize))
    let could = "than a file of \(fileSize) bytes could hold\(compressed ? ", even compressed" : "") (truncated or corrupt)"
    if row.overflow || row.partialValue > most {
      throw fail("a sample of \(rowElements) values (\(row.overflow ? "too many" : String(row.partialValue)) bytes) is more \(could)")
    }
    if let rows {
      let total = row.partialValue.multipliedReportingOverflow(by: UInt64(rows))
      if total.overflow || total.partialValue > most {
        throw fail("\(rows) rows of \(row.partialValue) bytes, all counted as written, are more \(could)")
      }
    }
    if let chunks {
      var bytes = UInt64(storedSize)
      var overflow = false
      for c in chunks {
        let (product, o) = bytes.multipliedReportingOverflow(by: UInt64(Swift.max(1, c)))
        bytes = product
        overflow = overflow || o
      }
      if overflow || bytes > most {
        throw fail("a chunk of \(chunks.map(String.init).joined(separator: " x ")) values is more \(could)")
      }
    }
  }

  /// Rows per batch: about `batchBytes` of values, rounded to whole chunks along axis 0.
  ///
  /// When one chunk row is larger than the budget, a batch still holds one whole chunk row
  /// (so each chunk is decompressed once) unless that exceeds 4x the budget and 64 MiB.
  static func batchRows(rowBytes: Int, batchBytes: Int, chunkHeight: Int?) -> Int {
    let budget = Swift.max(1, batchBytes)
    var rows = Swift.max(1, budget / Swift.max(1, rowBytes))
    if let height = chunkHeight, height > 1 {
      if rows >= height {
        rows -= rows % height
      } else {
        let (chunkBytes, overflow) = height.multipliedReportingOverflow(by: Swift.max(1, rowBytes))
        if !overflow, chunkBytes <= Swift.max(budget.multipliedReportingOverflow(by: 4).partialValue, 64 << 20) {
          rows = height
        }
      }
    }
    return rows
  }

  /// Opens the dataset `name`, or throws a one-line error saying what is there instead.
  private static func open(
    _ file: HDF5File, _ name: String, role: String, confinement: HDF5Confinement, access: HDF5Plist
  ) throws -> HDF5Dataset {
    func fail(_ message: String) -> DatasanError { DatasanError(path: confinement.input, message) }
    if name.isEmpty { throw fail("empty \(role) name") }
    let exists: Bool
    do {
      exists = try file.linkExists(name, confinement: confinement)
    } catch is HDF5Error {
      exists = false
    }
    if !exists {
      let (datasets, groups) = file.rootMembers()
      var there = datasets.isEmpty ? "no datasets at the root" : "datasets at the root: " + datasets.joined(separator: ", ")
      if !groups.isEmpty { there += "; groups: " + groups.map { $0 + "/" }.joined(separator: ", ") }
      throw fail("no \(role) '\(name)' (\(there))")
    }
    do {
      let type = try file.objectType(name, access: access)
      if type == H5I_GROUP { throw fail("'\(name)' is a group, not a dataset; name a dataset with a path like '\(name.hasSuffix("/") ? name : name + "/")...'") }
      if type != H5I_DATASET { throw fail("'\(name)' is not a dataset") }
      return try file.openDataset(name, access: access)
    } catch let error as HDF5Error {
      throw fail("cannot open \(role) '\(name)': \(error.reason)")
    }
  }
}
