import DatasanCore

/// Writes samples as CSV, creating or truncating its path.
///
/// - CSV source, `.original` content: the header line (when the source had one), then each sample's
///   original record verbatim followed by the source's line ending: the kept rows, byte for byte. Used for
///   the CSV quarantine and `--normalize none`.
/// - CSV source, `.normalized` content (float32 batches): the header line verbatim, then each record
///   re-tokenized from its original bytes with every numeric feature field replaced by the normalized value
///   (the shortest text that round-trips the Float32, e.g. `-0.25`, `1e-05`); text columns and the label are
///   copied byte for byte, quotes included; same delimiter and line ending.
/// - Other sources (HDF5, LMDB, PNG): a header `f0,f1,...,f{n-1},label` (no `label` when the batches have no
///   labels), then each sample flattened in storage order: integers as integers, floats as the shortest text
///   that round-trips their type; integral labels as integers.
///
/// A UTF-8 BOM of the source is not written. ``finish()`` flushes and closes; ``abort()`` closes quietly
/// (the pipeline removes the file).
public final class CSVWriter: SampleWriter {
  private enum Mode {
    case original(CSVLayout)
    case normalized(CSVLayout)
    case flat
  }

  private let path: String
  private let source: DatasetInfo
  private let mode: Mode
  private let out: BufferedOutput
  private let fields = CSVFieldSpans()
  /// For normalized CSV: the feature group of each column, or -1.
  private let groupOfColumn: [Int]
  /// For flat output: the number of value columns and whether there is a label column, once the header is out.
  private var flatColumns: (values: Int, label: Bool)? = nil

  /// Opens `path` for writing.
  ///
  /// - Parameters:
  ///   - source: the input's info; its layout decides between a CSV-preserving and a flat output.
  ///   - content: `.original` or `.normalized` (float32 batches).
  ///   - groupNames: the feature group names; not used for the columns of a flat output, which are
  ///     `f0, f1, ...` as SPEC.md asks (kept for the signature all writers share).
  public init(path: String, source: DatasetInfo, content: WriteContent, groupNames: [String]?) throws {
    self.path = path
    self.source = source
    var groupOfColumn: [Int] = []
    if case .csv(let layout) = source.layout {
      switch content {
      case .original: mode = .original(layout)
      case .normalized: mode = .normalized(layout)
      }
      groupOfColumn = Array(repeating: -1, count: layout.columnCount)
      for (g, c) in layout.featureColumns.enumerated() where c < layout.columnCount { groupOfColumn[c] = g }
    } else {
      mode = .flat
    }
    self.groupOfColumn = groupOfColumn
    out = try BufferedOutput(path: path)
    switch mode {
    case .original(let layout), .normalized(let layout):
      if let headerLine = layout.headerLine {
        try out.append(headerLine)
        try out.append(layout.lineEnding)
      }
    case .flat:
      break
    }
  }

  /// Writes every sample of `batch`.
  public func append(_ batch: SampleBatch) throws {
    switch mode {
    case .original(let layout): try appendOriginal(batch, layout)
    case .normalized(let layout): try appendNormalized(batch, layout)
    case .flat: try appendFlat(batch)
    }
  }

  /// Flushes and closes the file (writing the header of an empty flat output first).
  public func finish() throws {
    if case .flat = mode, flatColumns == nil {
      try writeFlatHeader(values: source.sampleShape?.reduce(1, *) ?? 0, label: source.labelName != nil)
    }
    try out.close()
  }

  /// Closes the file without finishing it.
  public func abort() { out.closeQuietly() }

  // MARK: - CSV source

  private func originals(of batch: SampleBatch) throws -> OriginalRecords {
    guard let originals = batch.originals, originals.ends.count >= batch.count else {
      throw DatasanError(path: path, "internal: a CSV batch without its original records")
    }
    return originals
  }

  private func appendOriginal(_ batch: SampleBatch, _ layout: CSVLayout) throws {
    let originals = try originals(of: batch)
    try originals.bytes.withUnsafeBytes { all in
      for i in 0..<batch.count {
        try out.append(UnsafeRawBufferPointer(rebasing: all[originals.range(i)]))
        try out.append(layout.lineEnding)
      }
    }
  }

  private func appendNormalized(_ batch: SampleBatch, _ layout: CSVLayout) throws {
    let originals = try originals(of: batch)
    let tokenizer = CSVTokenizer(delimiter: layout.delimiter)
    let d = layout.featureColumns.count
    try originals.bytes.withUnsafeBytes { all in
      for i in 0..<batch.count {
        let record = UnsafeRawBufferPointer(rebasing: all[originals.range(i)])
        tokenizer.tokenize(record, into: fields)
        guard fields.count == layout.columnCount, let base = record.baseAddress else {
          throw DatasanError(
            path: path,
            "record \(batch.key(of: i)) has \(fields.count) fields, expected \(layout.columnCount): it cannot be normalized"
          )
        }
        let first = batch.elementRange(of: i).lowerBound
        guard batch.elementRange(of: i).count == d else {
          throw DatasanError(path: path, "internal: sample \(batch.key(of: i)) has not \(d) feature values")
        }
        for c in 0..<fields.count {
          if c > 0 { try out.append(layout.delimiter) }
          let g = groupOfColumn[c]
          if g >= 0 {
            try writeValue(batch, element: first + g)
          } else {
            let s = fields.starts[c]
            try out.append(UnsafeRawBufferPointer(start: base + s, count: fields.ends[c] - s))
          }
        }
        try out.append(layout.lineEnding)
      }
    }
  }

  // MARK: - Other sources

  private func writeFlatHeader(values: Int, label: Bool) throws {
    for k in 0..<values {
      if k > 0 { try out.append(UInt8(ascii: ",")) }
      try out.append("f")
      try out.append(integer: Int64(k))
    }
    if label {
      if values > 0 { try out.append(UInt8(ascii: ",")) }
      try out.append("label")
    }
    try out.append(0x0A)
    flatColumns = (values, label)
  }

  private func appendFlat(_ batch: SampleBatch) throws {
    guard batch.count > 0 else { return }
    if flatColumns == nil {
      try writeFlatHeader(values: batch.elementRange(of: 0).count, label: batch.labels != nil)
    }
    let (columns, hasLabel) = flatColumns!
    for i in 0..<batch.count {
      let range = batch.elementRange(of: i)
      guard range.count == columns else {
        throw DatasanError(
          path: path,
          "sample \(batch.key(of: i)) has \(range.count) values but the CSV has \(columns) value columns")
      }
      for e in range {
        if e > range.lowerBound { try out.append(UInt8(ascii: ",")) }
        try writeValue(batch, element: e)
      }
      if hasLabel {
        if columns > 0 { try out.append(UInt8(ascii: ",")) }
        if let labels = batch.labels { try writeLabel(labels[i]) }
      }
      try out.append(0x0A)
    }
  }

  // MARK: - Values

  /// Writes element `e` of the batch: integers as integers, floats as their shortest round-trip text.
  @inline(__always)
  private func writeValue(_ batch: SampleBatch, element e: Int) throws {
    let raw = UnsafeRawPointer(batch.storage.bytes.baseAddress!)
    switch batch.elementType {
    case .float32: try out.append(raw.load(fromByteOffset: e * 4, as: Float.self).description)
    case .float64: try out.append(raw.load(fromByteOffset: e * 8, as: Double.self).description)
    case .uint8: try out.append(integer: Int64(raw.load(fromByteOffset: e, as: UInt8.self)))
    case .int8: try out.append(integer: Int64(raw.load(fromByteOffset: e, as: Int8.self)))
    case .uint16: try out.append(integer: Int64(raw.load(fromByteOffset: e * 2, as: UInt16.self)))
    case .int16: try out.append(integer: Int64(raw.load(fromByteOffset: e * 2, as: Int16.self)))
    case .uint32: try out.append(integer: Int64(raw.load(fromByteOffset: e * 4, as: UInt32.self)))
    case .int32: try out.append(integer: Int64(raw.load(fromByteOffset: e * 4, as: Int32.self)))
    case .int64: try out.append(integer: raw.load(fromByteOffset: e * 8, as: Int64.self))
    case .uint64:
      let v = raw.load(fromByteOffset: e * 8, as: UInt64.self)
      if v <= UInt64(Int64.max) { try out.append(integer: Int64(v)) } else { try out.append(String(v)) }
    }
  }

  /// Writes a label: integral values as integers, others as the shortest round-trip double.
  private func writeLabel(_ v: Double) throws {
    if v.isFinite && v == v.rounded() && Swift.abs(v) < 9.0e15 {
      try out.append(integer: Int64(v))
    } else {
      try out.append(v.description)
    }
  }
}
