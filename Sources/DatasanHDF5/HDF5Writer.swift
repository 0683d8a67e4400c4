import CHDF5
import DatasanCore

/// Writes samples to a new HDF5 file: a feature dataset of shape (N, sampleShape...) and an
/// optional label dataset of shape (N) or (N, 1), both growing along axis 0.
///
/// The datasets are chunked (the input's chunk shape clamped to the data when there is one,
/// else about 1 MiB of rows) and keep the input's gzip, shuffle and fletcher32 filters.
/// Normalization parameters are recorded as attributes of the feature dataset so that
/// `y = x * scale + offset` can be inverted.
public final class HDF5Writer: SampleWriter {
  private let path: String
  private var file: HDF5File?
  private var features: HDF5GrowingDataset?
  private var labels: HDF5GrowingDataset?
  /// Numbers per label row (K of one-hot / soft labels, else 1).
  private var labelWidth = 1
  private let sampleShape: [Int]
  private let elementType: ElementType

  /// Creates (or truncates) the file at `path` and its datasets.
  ///
  /// - Parameters:
  ///   - path: where to write (the pipeline gives a temporary path and renames it).
  ///   - featureName: the feature dataset ("data", "/train/images"); intermediate groups are created.
  ///   - labelName: the label dataset, or nil for none.
  ///   - sampleShape: the shape of every sample (without the sample axis).
  ///   - elementType: the stored type of the features (float32 for normalized content).
  ///   - labelType: the stored type of the labels (default int64).
  ///   - layout: the input's HDF5 layout to keep (chunks, filters, label rank), if any.
  ///   - normalization: parameters to record as `datasan_*` attributes of the feature dataset.
  ///   - classNames: the class list, recorded as the label dataset's `classes` attribute (strings).
  /// - Throws: ``DatasanError`` when the file or a dataset cannot be created.
  public init(
    path: String, featureName: String, labelName: String?, sampleShape: [Int], elementType: ElementType,
    labelType: ElementType?, layout: HDF5Layout?, normalization: NormalizationParameters?, classNames: [String]? = nil
  ) throws {
    self.path = path
    self.sampleShape = sampleShape
    self.elementType = elementType
    guard sampleShape.allSatisfy({ $0 >= 0 }) else {
      throw DatasanError(path: path, "cannot write samples of shape \(sampleShape)")
    }
    do {
      let file = try HDF5File.create(path)
      self.file = file
      let chunk = HDF5Writer.chunkDims(sampleShape: sampleShape, elementSize: elementType.size, layout: layout)
      let filters = HDF5Filters(layout: layout)
      let features = try HDF5GrowingDataset(
        file: file, name: featureName, fileType: HDF5Types.file(elementType), memoryType: HDF5Types.native(elementType),
        elementSize: elementType.size, rowDims: sampleShape.map { UInt64($0) }, chunk: chunk, filters: filters)
      self.features = features
      if let normalization {
        try HDF5Writer.record(normalization, on: HDF5Attributes(object: features.dataset.id))
      }
      if let labelName {
        // One-hot / soft labels (N, K) stay (N, K) in their stored type.
        let width = layout?.labelWidth ?? 1
        labelWidth = width
        let rank2 = (layout?.labelRank ?? 1) == 2
        labels = try HDF5GrowingDataset(
          file: file, name: labelName, fileType: HDF5Types.file(labelType ?? .int64),
          memoryType: datasan_h5t_native_double(), elementSize: (labelType ?? .int64).size, rowDims: rank2 ? [UInt64(width)] : [],
          chunk: rank2 ? [chunk[0], UInt64(width)] : [chunk[0]], filters: filters)
        if let classNames, let labels {
          // The class list the labels follow: label i is class classNames[i].
          try HDF5Attributes(object: labels.dataset.id).write("classes", strings: classNames)
        }
      }
    } catch let error as HDF5Error {
      abort()
      throw DatasanError(path: path, "cannot create HDF5 output: \(error.reason)")
    }
  }

  /// Appends every sample of `batch` with one `H5Dwrite` for the features and one for the labels.
  ///
  /// - Throws: ``DatasanError`` when the batch does not match the output (element type,
  ///   sample shape, missing labels) or the library fails.
  public func append(_ batch: SampleBatch) throws {
    guard let features else { throw DatasanError(path: path, "the HDF5 output is already closed") }
    guard batch.count > 0 else { return }
    guard batch.elementType == elementType else {
      throw DatasanError(path: path, "the HDF5 output stores \(elementType) values, the batch holds \(batch.elementType)")
    }
    if case .unreadable = batch.values {
      try appendUnwritten(batch, features: features)
      return
    }
    let perSample = sampleShape.reduce(1, *)
    for i in 0..<batch.count {
      let shape = batch.shape(of: i)
      let range = batch.elementRange(of: i)
      if shape != sampleShape || range != (i * perSample)..<((i + 1) * perSample) {
        // Images of varying sizes (`--shape any`): an HDF5 dataset holds one size.
        throw DatasanError(
          path: path,
          "sample \(batch.key(of: i)) has shape \(shape), the HDF5 output's samples \(sampleShape): samples of varying "
            + "sizes need --resize H,W to be written as HDF5, or write LMDB (-o OUTPUT.lmdb)")
      }
    }
    guard batch.storage.bytes.count >= batch.count * perSample * elementType.size,
      let base = batch.storage.bytes.baseAddress
    else { throw DatasanError(path: path, "the batch's storage is smaller than its samples") }
    var labelValues: [Double]? = nil
    if labels != nil {
      if labelWidth > 1 {
        guard let vectors = batch.labelVectors, batch.labelWidth == labelWidth, vectors.count == batch.count * labelWidth else {
          throw DatasanError(path: path, "the HDF5 output has labels of \(labelWidth) entries but the batch has none")
        }
        labelValues = vectors
      } else {
        guard let values = batch.labels, values.count == batch.count else {
          throw DatasanError(path: path, "the HDF5 output has a label dataset but the batch has no labels")
        }
        labelValues = values
      }
    }
    do {
      try features.append(rows: batch.count, from: UnsafeRawPointer(base))
      if let labels, let labelValues {
        try labelValues.withUnsafeBytes { raw in
          guard let pointer = raw.baseAddress else { return }
          try labels.append(rows: batch.count, from: pointer)
        }
      }
    } catch let error as HDF5Error {
      throw DatasanError(path: path, "cannot write HDF5 output: \(error.reason)")
    }
  }

  /// Appends a run of samples that have no values (rows never written in the input): the datasets
  /// grow by `batch.count` rows and their chunks stay unallocated, as they were in the input, so
  /// nothing is written or allocated per sample. Labels the batch carries are written; without
  /// them the label rows stay unallocated too.
  private func appendUnwritten(_ batch: SampleBatch, features: HDF5GrowingDataset) throws {
    guard batch.shape == sampleShape, batch.shapes == nil else {
      throw DatasanError(path: path, "samples of shape \(batch.shape); every sample of the HDF5 output has shape \(sampleShape)")
    }
    do {
      try features.extend(rows: batch.count)
      if let labels {
        let rowValues = labelWidth > 1 ? batch.labelVectors : batch.labels
        if let values = rowValues, values.count == batch.count * labelWidth {
          try values.withUnsafeBytes { raw in
            guard let pointer = raw.baseAddress else { return }
            try labels.append(rows: batch.count, from: pointer)
          }
        } else {
          try labels.extend(rows: batch.count)
        }
      }
    } catch let error as HDF5Error {
      throw DatasanError(path: path, "cannot write HDF5 output: \(error.reason)")
    }
  }

  /// Closes the datasets and the file, which flushes everything to disk.
  ///
  /// - Throws: ``DatasanError`` when the library cannot flush or close the file.
  public func finish() throws {
    do {
      try labels?.dataset.close()
      try features?.dataset.close()
      try file?.close()
      labels = nil
      features = nil
      file = nil
    } catch let error as HDF5Error {
      abort()
      throw DatasanError(path: path, "cannot finish HDF5 output: \(error.reason)")
    }
  }

  /// Closes everything without reporting failures; the pipeline removes the file.
  public func abort() {
    labels?.dataset.closeQuietly()
    features?.dataset.closeQuietly()
    file?.closeQuietly()
    labels = nil
    features = nil
    file = nil
  }

  /// Chunk dimensions for the feature dataset: the layout's chunks clamped to the sample
  /// shape (axis 0 at least 1), else whole samples and about 1 MiB of rows; never 4 GiB or more.
  static func chunkDims(sampleShape: [Int], elementSize: Int, layout: HDF5Layout?) -> [UInt64] {
    var chunk: [Int]
    if let kept = layout?.chunks, kept.count == sampleShape.count + 1 {
      chunk = [Swift.max(1, kept[0])]
      for (size, extent) in zip(kept.dropFirst(), sampleShape) { chunk.append(Swift.min(Swift.max(1, size), Swift.max(1, extent))) }
    } else {
      let inner = sampleShape.map { Swift.max(1, $0) }
      let rowBytes = inner.reduce(elementSize) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
      chunk = [Swift.max(1, (1 << 20) / Swift.max(1, rowBytes))] + inner
    }
    // HDF5 refuses chunks of 4 GiB or more: halve axis 0, then the largest other axis.
    func bytes() -> Int { chunk.reduce(elementSize) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 } }
    while bytes() >= (1 << 32) - 1 {
      if chunk[0] > 1 {
        chunk[0] = (chunk[0] + 1) / 2
      } else if let axis = chunk.indices.dropFirst().max(by: { chunk[$0] < chunk[$1] }), chunk[axis] > 1 {
        chunk[axis] = (chunk[axis] + 1) / 2
      } else {
        break
      }
    }
    return chunk.map { UInt64($0) }
  }

  /// Records `parameters` as attributes: `datasan_normalize`, `datasan_range`,
  /// `datasan_channel_axis`, and one float64 per group in `datasan_min`, `datasan_max`,
  /// `datasan_mean`, `datasan_std`, `datasan_scale`, `datasan_offset` (and `datasan_scale_exponent`
  /// when some group's map is `x * 2^e * scale + offset`).
  private static func record(_ parameters: NormalizationParameters, on attributes: HDF5Attributes) throws {
    try attributes.write("datasan_normalize", string: parameters.method.rawValue)
    try attributes.write("datasan_range", doubles: parameters.range)
    try attributes.write("datasan_channel_axis", string: parameters.channelAxis.rawValue)
    let groups = parameters.groups
    try attributes.write("datasan_min", doubles: groups.map(\.min))
    try attributes.write("datasan_max", doubles: groups.map(\.max))
    try attributes.write("datasan_mean", doubles: groups.map(\.mean))
    try attributes.write("datasan_std", doubles: groups.map(\.std))
    try attributes.write("datasan_scale", doubles: groups.map(\.scale))
    try attributes.write("datasan_offset", doubles: groups.map(\.offset))
    if groups.contains(where: { $0.scaleExponent != nil }) {
      try attributes.write("datasan_scale_exponent", doubles: groups.map { Double($0.scaleExponent ?? 0) })
    }
  }
}

/// The filters a writer applies, in h5py's order: shuffle, gzip, fletcher32.
struct HDF5Filters {
  var shuffle = false
  var gzipLevel: Int? = nil
  var fletcher32 = false

  init(layout: HDF5Layout?) {
    guard let layout else { return }
    shuffle = layout.shuffle
    gzipLevel = layout.gzipLevel.map { Swift.min(9, Swift.max(0, $0)) }
    fletcher32 = layout.fletcher32
  }

  /// Adds the filters to a dataset creation property list.
  func apply(to dcpl: HDF5Plist) throws {
    if shuffle { try HDF5.call("H5Pset_shuffle") { H5Pset_shuffle(dcpl.id) } }
    if let gzipLevel { try HDF5.call("H5Pset_deflate") { H5Pset_deflate(dcpl.id, UInt32(gzipLevel)) } }
    if fletcher32 { try HDF5.call("H5Pset_fletcher32") { H5Pset_fletcher32(dcpl.id) } }
  }
}

/// A chunked dataset that grows along axis 0 as rows are appended.
final class HDF5GrowingDataset {
  let dataset: HDF5Dataset
  private let rowDims: [UInt64]
  private let memoryType: hid_t
  private var rows = 0

  /// Creates dataset `name` of shape (0, rowDims...), unlimited along axis 0 (and along any
  /// zero-length axis), with intermediate groups.
  ///
  /// The dataset's chunk cache holds two chunks (1 MiB to 64 MiB), so that a chunk
  /// filled by several appends is compressed once rather than read back and rewritten.
  init(
    file: HDF5File, name: String, fileType: hid_t, memoryType: hid_t, elementSize: Int, rowDims: [UInt64],
    chunk: [UInt64], filters: HDF5Filters
  ) throws {
    self.rowDims = rowDims
    self.memoryType = memoryType
    let unlimited = datasan_h5s_unlimited()
    let space = try HDF5Dataspace.simple([0] + rowDims, maxdims: [unlimited] + rowDims.map { $0 == 0 ? unlimited : $0 })
    let dcpl = try HDF5Plist.create(datasan_h5p_dataset_create())
    try HDF5.call("H5Pset_chunk") { H5Pset_chunk(dcpl.id, Int32(chunk.count), chunk) }
    try filters.apply(to: dcpl)
    let lcpl = try HDF5Plist.create(datasan_h5p_link_create())
    try HDF5.call("H5Pset_create_intermediate_group") { H5Pset_create_intermediate_group(lcpl.id, 1) }
    let dapl = try HDF5Plist.create(datasan_h5p_dataset_access())
    let chunkBytes = chunk.reduce(UInt64(elementSize)) { $0.multipliedReportingOverflow(by: $1).overflow ? .max : $0 * $1 }
    let cacheBytes = Swift.min(Swift.max(chunkBytes.multipliedReportingOverflow(by: 2).partialValue, 1 << 20), 64 << 20)
    try HDF5.call("H5Pset_chunk_cache") { H5Pset_chunk_cache(dapl.id, 12421, Int(cacheBytes), 1.0) }
    dataset = try HDF5Dataset("H5Dcreate2") {
      H5Dcreate2(file.id, name, fileType, space.id, lcpl.id, dcpl.id, dapl.id)
    }
  }

  /// Extends the dataset by `count` rows without writing them: their chunks stay unallocated
  /// (readers get the fill value; datasan reports them "never written").
  func extend(rows count: Int) throws {
    let (total, overflow) = rows.addingReportingOverflow(count)
    guard !overflow else { throw HDF5Error(operation: "H5Dset_extent", frames: []) }
    try dataset.setExtent([UInt64(total)] + rowDims)
    rows = total
  }

  /// Extends the dataset by `count` rows and writes them from `buffer` with one `H5Dwrite`.
  func append(rows count: Int, from buffer: UnsafeRawPointer) throws {
    let total = rows + count
    try dataset.setExtent([UInt64(total)] + rowDims)
    let fileSpace = try dataset.space()
    try fileSpace.selectRows(start: rows, count: count, otherDims: rowDims)
    let memorySpace = try HDF5Dataspace.simple([UInt64(count)] + rowDims)
    try dataset.write(memoryType: memoryType, memorySpace: memorySpace, fileSpace: fileSpace, from: buffer)
    rows = total
  }
}
