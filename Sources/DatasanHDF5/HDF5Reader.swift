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
public final class HDF5Reader: SampleReader {
  /// What the reader knows about the dataset.
  public let info: DatasetInfo
  /// Approximate bytes of the file consumed so far (stored size of the rows read).
  public private(set) var bytesRead: Int = 0

  private let file: HDF5File
  let features: HDF5RowSource
  let labels: HDF5RowSource?
  private let elementType: ElementType
  private let sampleShape: [Int]
  private let batchRows: Int
  private var nextRow = 0
  private var storedBytes = 0.0

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

    guard HDF5Format.looksLikeHDF5(path: path) else {
      if let problem = HDF5Format.fileProblem(path: path) { throw fail(problem) }
      throw fail("not an HDF5 file")
    }
    let file: HDF5File
    do {
      file = try HDF5File.openReadOnly(path)
    } catch let error as HDF5Error {
      throw fail("cannot open HDF5 file: \(error.reason)")
    }
    self.file = file

    // Features.
    let featureName = options.dataset
    let featureDataset = try HDF5Reader.open(file, featureName, role: "dataset", path: path)
    let featureSpace: HDF5Dataspace
    let dims: [UInt64]
    let numeric: HDF5NumericType
    let storage: HDF5Storage
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
    } catch let error as HDF5Unsupported {
      throw fail("dataset '\(featureName)': unsupported \(error)\(error.isType ? "; datasan reads integer and float datasets" : "")")
    } catch let error as HDF5Error {
      throw fail("dataset '\(featureName)': \(error.reason)")
    }
    let featureSource: HDF5RowSource
    do {
      featureSource = try HDF5RowSource(
        name: featureName, dataset: featureDataset, fileSpace: featureSpace, dims: dims,
        memoryType: numeric.memoryType, memoryElementSize: numeric.elementType.size,
        chunkHeight: storage.chunks?.first)
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

    // Labels.
    var labelName: String? = nil
    if let asked = options.labels {
      if !asked.isEmpty { labelName = asked }
    } else if (try? file.linkExists("label")) == true, (try? file.objectType("label")) == H5I_DATASET {
      labelName = "label"
    }
    var labelSource: HDF5RowSource? = nil
    var labelType: ElementType? = nil
    var labelRank = 1
    if let labelName {
      let labelDataset = try HDF5Reader.open(file, labelName, role: "label dataset", path: path)
      do {
        let space = try labelDataset.space()
        let labelDims = space.extentType == H5S_SIMPLE ? try space.dims() : []
        let shape = "(" + labelDims.map(String.init).joined(separator: ", ") + ")"
        guard labelDims.count == 1 || (labelDims.count == 2 && labelDims[1] == 1) else {
          throw fail("label dataset '\(labelName)' has shape \(shape); expected (N) or (N, 1)")
        }
        guard labelDims[0] == dims[0] else {
          throw fail("label dataset '\(labelName)' has \(labelDims[0]) labels but dataset '\(featureName)' has \(dims[0]) samples")
        }
        let labelNumeric = try HDF5Types.numeric(try labelDataset.type())
        let labelStorage = try HDF5Storage(of: labelDataset, rank: labelDims.count)
        labelSource = try HDF5RowSource(
          name: labelName, dataset: labelDataset, fileSpace: space, dims: labelDims,
          memoryType: datasan_h5t_native_double(), memoryElementSize: 8, chunkHeight: labelStorage.chunks?.first)
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
    self.elementType = numeric.elementType
    self.sampleShape = dims.dropFirst().map { Int(clamping: $0) }
    // The budget covers the labels too (8 bytes a row), so that rows without feature
    // values (shape (N, 0)) do not make a batch of millions of labels.
    self.batchRows = HDF5Reader.batchRows(
      rowBytes: featureSource.rowBytes + (labelSource == nil ? 0 : 8), batchBytes: options.batchBytes,
      chunkHeight: storage.chunks?.first)
    var refusal = ""
    self.rawPlan = HDF5RawChunkPlan.make(
      dataset: featureDataset, storage: storage, dims: dims, memoryType: numeric.memoryType,
      elementSize: numeric.elementType.size, rowBytes: featureSource.rowBytes, batchRows: batchRows, refusal: &refusal)
    self.rawRefusal = refusal
    self.info = DatasetInfo(
      format: .hdf5, path: path, sampleCount: featureSource.rowCount, elementType: numeric.elementType,
      sampleShape: sampleShape, featureName: featureName, labelName: labelName,
      layout: .hdf5(
        HDF5Layout(
          chunks: storage.chunks, gzipLevel: storage.gzipLevel, shuffle: storage.shuffle,
          fletcher32: storage.fletcher32, labelType: labelType, labelRank: labelRank)))
  }

  /// The next batch of samples, or nil after the last one.
  ///
  /// Never throws for a bad chunk: its samples get an `unreadable` problem instead.
  public func nextBatch() throws -> SampleBatch? {
    let total = features.rowCount
    guard nextRow < total else { return nil }
    if pipeline == nil, directChunks, let rawPlan, nextRow == 0 {
      pipeline = HDF5ChunkPipeline(plan: rawPlan, rank: features.rowDims.count + 1)
    }
    if let pipeline { return nextDirectBatch(pipeline) }
    let start = nextRow
    let count = Swift.min(batchRows, total - start)
    // Not zeroed: H5Dread writes every byte; rows it cannot read are zeroed below.
    let batch = SampleBatch.uniform(
      firstIndex: start, count: count, elementType: elementType, shape: sampleShape, labels: nil, zeroed: false)
    return finish(batch, start: start, count: count, featureRows: [start..<(start + count)])
  }

  /// The next batch from the raw-chunk pipeline: keeps ``HDF5ChunkPipeline/window`` batches in
  /// flight, hands back the oldest once decoded, its undecodable chunks read with `H5Dread`.
  private func nextDirectBatch(_ pipeline: HDF5ChunkPipeline) -> SampleBatch? {
    let total = features.rowCount
    while pipeline.hasRoom, plannedRow < total {
      let start = plannedRow
      let count = Swift.min(batchRows, total - start)
      let batch = SampleBatch.uniform(
        firstIndex: start, count: count, elementType: elementType, shape: sampleShape, labels: nil, zeroed: false)
      pipeline.submit(dataset: features.dataset, start: start, count: count, batch: batch)
      plannedRow = start + count
    }
    guard let job = pipeline.next() else { return nil }
    return finish(job.batch, start: job.start, count: job.count, featureRows: job.fallback)
  }

  /// Completes the batch of rows `start ..< start + count`: reads `featureRows` (absolute row
  /// ranges not yet in the batch) with `H5Dread`, marking and zeroing what fails, then the labels.
  private func finish(_ batch: SampleBatch, start: Int, count: Int, featureRows: [Range<Int>]) -> SampleBatch {
    var batch = batch
    let rowBytes = sampleShape.reduce(1, *) * elementType.size
    var problems: [Int: ReaderProblem] = [:]
    func mark(_ rows: Range<Int>, _ detail: String) {
      for row in rows where problems[row - start] == nil {
        problems[row - start] = ReaderProblem(.unreadable, detail)
      }
    }
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
    if let labels {
      var values = [Double](repeating: 0, count: count)
      let chunked = labels.chunkHeight != nil
      values.withUnsafeMutableBytes { raw in
        guard let base = raw.baseAddress else { return }
        labels.readRecovering(start: start, count: count, into: base) { rows, reason in
          mark(rows, (chunked ? "label chunk read failed: " : "label read failed: ") + reason)
        }
      }
      batch.labels = values
    }
    batch.problems = problems
    nextRow = start + count
    storedBytes += Double(count) * (features.storedBytesPerRow + (labels?.storedBytesPerRow ?? 0))
    bytesRead = Int(storedBytes)
    return batch
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
  private static func open(_ file: HDF5File, _ name: String, role: String, path: String) throws -> HDF5Dataset {
    func fail(_ message: String) -> DatasanError { DatasanError(path: path, message) }
    if name.isEmpty { throw fail("empty \(role) name") }
    let exists = (try? file.linkExists(name)) ?? false
    if !exists {
      let (datasets, groups) = file.rootMembers()
      var there = datasets.isEmpty ? "no datasets at the root" : "datasets at the root: " + datasets.joined(separator: ", ")
      if !groups.isEmpty { there += "; groups: " + groups.map { $0 + "/" }.joined(separator: ", ") }
      throw fail("no \(role) '\(name)' (\(there))")
    }
    do {
      let type = try file.objectType(name)
      if type == H5I_GROUP { throw fail("'\(name)' is a group, not a dataset; name a dataset with a path like '\(name.hasSuffix("/") ? name : name + "/")...'") }
      if type != H5I_DATASET { throw fail("'\(name)' is not a dataset") }
      return try file.openDataset(name)
    } catch let error as HDF5Error {
      throw fail("cannot open \(role) '\(name)': \(error.reason)")
    }
  }
}
