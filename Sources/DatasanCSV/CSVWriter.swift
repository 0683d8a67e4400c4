import DatasanCompression
import DatasanCore
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
/// A UTF-8 BOM of the source is not written. A large batch is formatted on every core (one part of its
/// rows per core, each into its own buffer) and written in order; a batch that cannot be written
/// (a record or sample of the wrong size) is refused whole. ``finish()`` flushes and closes; ``abort()``
/// closes quietly (the pipeline removes the file).
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
  /// One formatter per core.
  private let parts: [CSVRowFormatter]
  /// For flat output: the number of value columns and whether there is a label column, once the header is out.
  private var flatColumns: (values: Int, label: Bool)? = nil

  /// A batch of fewer than twice this many rows is formatted on the calling thread.
  static let minimumPartRows = 512
  /// Bytes of text a core formats before the slice is written.
  static let sliceBytes = 512 << 10
  /// Bytes of text a row took in the last slice (the size of the next slice); 0 before the first.
  private var bytesPerRow: Double = 0

  /// Opens `path` for writing.
  ///
  /// - Parameters:
  ///   - source: the input's info; its layout decides between a CSV-preserving and a flat output.
  ///   - content: `.original` or `.normalized` (float32 batches).
  ///   - groupNames: the feature group names; not used for the columns of a flat output, which are
  ///     `f0, f1, ...` as SPEC.md asks (kept for the signature all writers share).
  ///   - compression: the file is compressed with it (an output named `out.csv.gz`), as pandas'
  ///     `to_csv(compression="infer")` compresses by the extension.
  public init(
    path: String, source: DatasetInfo, content: WriteContent, groupNames: [String]?, compression: Compression? = nil
  ) throws {
    self.path = path
    self.source = source
    var groupOfColumn: [Int] = []
    var layout: CSVLayout? = nil
    if let l = source.layout as? CSVLayout {
      layout = l
      switch content {
      case .original: mode = .original(l)
      case .normalized: mode = .normalized(l)
      }
      groupOfColumn = Array(repeating: -1, count: l.columnCount)
      for (g, c) in l.featureColumns.enumerated() where c < l.columnCount { groupOfColumn[c] = g }
    } else {
      mode = .flat
    }
    let cores = Swift.max(1, Swift.min(8, Machine.cores))
    parts = (0..<cores).map { _ in CSVRowFormatter(path: path, layout: layout, groupOfColumn: groupOfColumn) }
    out = try BufferedOutput(path: path, compression: compression)
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
    guard batch.count > 0 else { return }
    var task: CSVRowFormatter.Task
    switch mode {
    case .original:
      task = .original
    case .normalized(let layout):
      guard batch.elementType == .float32 else {
        throw DatasanError(path: path, "internal: a normalized batch holds \(batch.elementType), not float32")
      }
      task = .normalized(layout, suffix: plainSuffix(batch, layout))
    case .flat:
      if flatColumns == nil {
        try writeFlatHeader(values: batch.elementRange(of: 0).count, label: batch.labels != nil)
      }
      let (columns, hasLabel) = flatColumns!
      // A batch with a sample of another size is refused before any of it is written.
      for i in 0..<batch.count where batch.elementRange(of: i).count != columns {
        throw DatasanError(
          path: path,
          "sample \(batch.key(of: i)) has \(batch.elementRange(of: i).count) values but the CSV has \(columns) value columns: "
            + "samples of varying sizes need --resize H,W to be written as CSV, or write LMDB (-o OUTPUT.lmdb)")
      }
      task = .flat(columns: columns, label: hasLabel)
    }
    if bytesPerRow == 0 {
      // A generous first guess: twice the original records, or 16 bytes a value.
      if let originals = batch.originals, batch.count > 0, batch.originals?.ends.count == batch.count {
        bytesPerRow = 2 * Double(originals.bytes.count) / Double(batch.count) + 16
      } else {
        bytesPerRow = 16 * Double(batch.elementRange(of: 0).count) + 16
      }
    }
    // Slices of about `sliceBytes` of text per core, formatted on all cores, written in order.
    var row = 0
    while row < batch.count {
      let perPart = Swift.max(1, Int(Double(Self.sliceBytes) / bytesPerRow))
      let n = parts.count > 1 && batch.count - row >= 2 * Self.minimumPartRows ? parts.count : 1
      let end = Swift.min(batch.count, row + perPart * n)
      let first = row
      if n == 1 {
        try parts[0].format(batch, rows: first..<end, task)
      } else {
        let (parts, task) = (self.parts, task)
        DispatchQueue.concurrentPerform(iterations: n) { k in
          let rows = (first + (end - first) * k / n)..<(first + (end - first) * (k + 1) / n)
          do { try parts[k].format(batch, rows: rows, task) } catch { parts[k].failure = error }
        }
      }
      for k in 0..<n { if let e = parts[k].failure { throw e } }
      var bytes = 0
      for k in 0..<n {
        let sink = parts[k].sink
        bytes += sink.count
        try out.append(UnsafeRawBufferPointer(start: sink.base, count: sink.count))
      }
      bytesPerRow = Swift.max(1, Double(bytes) / Double(end - first))
      row = end
    }
  }

  /// For a normalized batch whose features are the first columns: how many columns follow them, when
  /// no record of the batch holds a quote; the formatter then copies those last fields in one piece
  /// instead of splitting every record. nil otherwise.
  ///
  /// (The records of a normalized batch all have the column count: the reader makes any other record
  /// `unreadable`, and those go to the quarantine as they were.)
  private func plainSuffix(_ batch: SampleBatch, _ layout: CSVLayout) -> Int? {
    let f = layout.featureColumns.count
    guard layout.featureColumns == Array(0..<f), let originals = batch.originals,
      originals.ends.count == batch.count, layout.columnCount >= f
    else { return nil }
    let plain = originals.bytes.withUnsafeBytes { all -> Bool in
      guard let base = all.baseAddress, all.count > 0 else { return true }
      return memchr(base, 0x22, all.count) == nil
    }
    return plain ? layout.columnCount - f : nil
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
}

/// A growable byte buffer that text is formatted into.
final class ByteSink {
  @exclusivity(unchecked) private(set) var base: UnsafeMutablePointer<UInt8>
  @exclusivity(unchecked) var count = 0
  @exclusivity(unchecked) private(set) var capacity: Int

  init(capacity: Int = 1 << 16) {
    self.capacity = capacity
    base = .allocate(capacity: capacity)
  }

  deinit { base.deallocate() }

  /// Makes room for `n` more bytes; returns where they go.
  @inline(__always) func reserve(_ n: Int) -> UnsafeMutablePointer<UInt8> {
    if capacity - count < n { grow(n) }
    return base + count
  }

  private func grow(_ n: Int) {
    let newCapacity = Swift.max(capacity * 2, count + n)
    let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
    grown.update(from: base, count: count)
    base.deallocate()
    base = grown
    capacity = newCapacity
  }

  @inline(__always) func append(_ byte: UInt8) {
    reserve(1).pointee = byte
    count += 1
  }

  @inline(__always) func append(_ p: UnsafePointer<UInt8>, _ n: Int) {
    let to = reserve(n)
    if n > 0 { to.update(from: p, count: n) }
    count += n
  }

  func append(_ bytes: [UInt8]) { bytes.withUnsafeBufferPointer { append($0.baseAddress!, $0.count) } }

  /// Appends an integer in decimal.
  @inline(__always) func append(integer value: Int64) {
    let p = reserve(24)
    var magnitude = value.magnitude
    var length = value < 0 ? 2 : 1
    var t = magnitude
    while t >= 10 {
      t /= 10
      length += 1
    }
    var i = length
    repeat {
      let q = magnitude / 10
      i -= 1
      p[i] = UInt8(truncatingIfNeeded: magnitude &- q &* 10) &+ 0x30
      magnitude = q
    } while magnitude > 0
    if value < 0 { p[0] = UInt8(ascii: "-") }
    count += length
  }

  /// Appends the shortest round-trip text of a Float32.
  @inline(__always) func append(_ value: Float, _ formatter: Float32Text) {
    count += formatter.write(value, to: reserve(Float32Text.maxLength))
  }

  func append(_ text: String) {
    var text = text
    text.withUTF8 { append($0.baseAddress!, $0.count) }
  }
}

/// Formats a range of a batch's rows as CSV text into its own buffer (one per core).
///
/// `@unchecked Sendable`: it owns its output buffer and raw tables. `concurrentPerform` runs part `k`
/// on formatter `k` only, and the writer reads the formatters' outputs after it returned; the
/// compiler cannot see that no two threads share one.
final class CSVRowFormatter: @unchecked Sendable {
  enum Task {
    case original
    /// `suffix`: see ``CSVWriter/plainSuffix(_:_:)``.
    case normalized(CSVLayout, suffix: Int?)
    case flat(columns: Int, label: Bool)
  }

  let path: String
  let sink = ByteSink()
  private let fields = CSVFieldSpans()
  private let tokenizer: CSVTokenizer
  private let lineEnding: [UInt8]
  /// For normalized CSV: the feature group of each column, or -1.
  private let groupOfColumn: UnsafeMutablePointer<Int>
  private let columnCount: Int
  private let float = Float32Text.shared
  /// The error of the last ``format`` run on another thread.
  var failure: Error? = nil

  init(path: String, layout: CSVLayout?, groupOfColumn: [Int]) {
    self.path = path
    tokenizer = CSVTokenizer(delimiter: layout?.delimiter ?? UInt8(ascii: ","))
    lineEnding = layout?.lineEnding ?? [0x0A]
    columnCount = groupOfColumn.count
    self.groupOfColumn = .allocate(capacity: Swift.max(1, groupOfColumn.count))
    for (c, g) in groupOfColumn.enumerated() { self.groupOfColumn[c] = g }
  }

  deinit { groupOfColumn.deallocate() }

  /// Formats rows `rows` of `batch` into ``sink`` (emptied first).
  func format(_ batch: SampleBatch, rows: Range<Int>, _ task: Task) throws {
    sink.count = 0
    failure = nil
    switch task {
    case .original: try formatOriginal(batch, rows)
    case .normalized(let layout, let suffix): try formatNormalized(batch, rows, layout, suffix: suffix)
    case .flat(let columns, let label): try formatFlat(batch, rows, columns: columns, label: label)
    }
  }

  private func originals(of batch: SampleBatch) throws -> OriginalRecords {
    guard let originals = batch.originals, originals.ends.count >= batch.count else {
      throw DatasanError(path: path, "internal: a CSV batch without its original records")
    }
    return originals
  }

  private func formatOriginal(_ batch: SampleBatch, _ rows: Range<Int>) throws {
    let originals = try originals(of: batch)
    let ending = lineEnding
    originals.bytes.withUnsafeBufferPointer { all in
      ending.withUnsafeBufferPointer { e in
        for i in rows {
          let start = i == 0 ? 0 : originals.ends[i - 1]
          let end = originals.ends[i]
          if end > start { sink.append(all.baseAddress! + start, end - start) }
          sink.append(e.baseAddress!, e.count)
        }
      }
    }
  }

  private func formatNormalized(_ batch: SampleBatch, _ rows: Range<Int>, _ layout: CSVLayout, suffix: Int?) throws {
    let originals = try originals(of: batch)
    let d = layout.featureColumns.count
    if batch.offsets != nil || batch.shape.reduce(1, *) != d {
      throw DatasanError(path: path, "internal: the batch's samples have not \(d) feature values")
    }
    let values = UnsafeRawPointer(batch.storage.bytes.baseAddress!).assumingMemoryBound(to: Float.self)
    let delimiter = layout.delimiter
    let ending = lineEnding
    let columnCount = self.columnCount
    // Numbers written with the input's decimal separator (a `;` file of decimal commas stays one).
    let comma = layout.decimal == .comma
    try originals.bytes.withUnsafeBufferPointer { all in
      try ending.withUnsafeBufferPointer { e in
        for i in rows {
          let start = i == 0 ? 0 : originals.ends[i - 1]
          let record = UnsafeRawBufferPointer(
            start: all.baseAddress.map { UnsafeRawPointer($0) + start }, count: originals.ends[i] - start)
          if let suffix, let base = record.baseAddress?.assumingMemoryBound(to: UInt8.self),
            let from = suffixStart(base, record.count, suffix, delimiter)
          {
            // The features, then the last fields as they were.
            let row = values + i * d
            if comma {
              if d > 0 { appendComma(row[0], after: nil) }
              for g in 1..<Swift.max(1, d) { appendComma(row[g], after: delimiter) }
            } else {
              if d > 0 { sink.append(row[0], float) }
              var g = 1
              while g < d {
                // The delimiter and the value under one capacity check.
                let p = sink.reserve(Float32Text.maxLength + 1)
                p.pointee = delimiter
                sink.count += 1 + float.write(row[g], to: p + 1)
                g += 1
              }
            }
            if suffix > 0 {
              if d > 0 { sink.append(delimiter) }
              sink.append(base + from, record.count - from)
            }
            sink.append(e.baseAddress!, e.count)
            continue
          }
          if !splitPlain(record, delimiter) { tokenizer.tokenize(record, into: fields) }
          guard fields.count == columnCount, let base = record.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw DatasanError(
              path: path,
              "record \(batch.key(of: i)) has \(fields.count) fields, expected \(columnCount): it cannot be normalized")
          }
          let row = values + i * d
          for c in 0..<columnCount {
            if c > 0 { sink.append(delimiter) }
            let g = groupOfColumn[c]
            if g >= 0 {
              if comma { appendComma(row[g], after: nil) } else { sink.append(row[g], float) }
            } else {
              let s = fields.starts[c]
              sink.append(base + s, fields.ends[c] - s)
            }
          }
          sink.append(e.baseAddress!, e.count)
        }
      }
    }
  }

  /// Appends a value's shortest round-trip text with a decimal comma (after `delimiter`, when given,
  /// under one capacity check).
  @inline(__always) private func appendComma(_ value: Float, after delimiter: UInt8?) {
    var p = sink.reserve(Float32Text.maxLength + 1)
    if let delimiter {
      p.pointee = delimiter
      p += 1
      sink.count += 1
    }
    let n = float.write(value, to: p)
    // One '.' at most, before any exponent.
    for k in 0..<n where p[k] == UInt8(ascii: ".") || p[k] == UInt8(ascii: "e") {
      if p[k] == UInt8(ascii: ".") { p[k] = UInt8(ascii: ",") }
      break
    }
    sink.count += n
  }

  /// Where the last `fields` fields of a record without quotes start (after the `fields`-th delimiter
  /// from the end); nil when it has fewer delimiters.
  @inline(__always)
  private func suffixStart(_ base: UnsafePointer<UInt8>, _ n: Int, _ fields: Int, _ delimiter: UInt8) -> Int? {
    if fields == 0 { return n }
    var found = 0
    var i = n
    while i > 0 {
      i -= 1
      if base[i] == delimiter {
        found += 1
        if found == fields { return i + 1 }
      }
    }
    return nil
  }

  /// Splits a record none of whose fields starts with a quote at its delimiters (eight bytes at a
  /// time), as the tokenizer would; false (fields undefined) when a field starts with a quote.
  @inline(__always)
  private func splitPlain(_ record: UnsafeRawBufferPointer, _ delimiter: UInt8) -> Bool {
    fields.reset()
    guard let base = record.baseAddress else {
      fields.append(0, 0, 0)
      return true
    }
    let n = record.count
    let pattern = UInt64(delimiter) &* 0x0101_0101_0101_0101
    var i = 0
    while true {
      let start = i
      if i < n && base.load(fromByteOffset: i, as: UInt8.self) == 0x22 { return false }
      var found = -1
      while i + 8 <= n {
        let x = base.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ pattern
        // The high bit of the first byte equal to the delimiter (later ones may be wrong).
        let zero = (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
        if zero != 0 {
          found = i + zero.trailingZeroBitCount >> 3
          break
        }
        i += 8
      }
      if found < 0 {
        while i < n && base.load(fromByteOffset: i, as: UInt8.self) != delimiter { i += 1 }
        found = i
      }
      fields.append(start, found, 0)
      if found >= n { return true }
      i = found + 1
    }
  }

  private func formatFlat(_ batch: SampleBatch, _ rows: Range<Int>, columns: Int, label hasLabel: Bool) throws {
    let raw = UnsafeRawPointer(batch.storage.bytes.baseAddress!)
    for i in rows {
      let range = batch.elementRange(of: i)
      guard range.count == columns else {
        throw DatasanError(
          path: path,
          "sample \(batch.key(of: i)) has \(range.count) values but the CSV has \(columns) value columns")
      }
      for e in range {
        if e > range.lowerBound { sink.append(UInt8(ascii: ",")) }
        writeValue(raw, batch.elementType, e)
      }
      if hasLabel {
        if columns > 0 { sink.append(UInt8(ascii: ",")) }
        if let labels = batch.labels { writeLabel(labels[i]) }
      }
      sink.append(0x0A)
    }
  }

  /// Writes element `e`: integers as integers, floats as their shortest round-trip text.
  @inline(__always)
  private func writeValue(_ raw: UnsafeRawPointer, _ type: ElementType, _ e: Int) {
    switch type {
    case .float32: sink.append(raw.load(fromByteOffset: e * 4, as: Float.self), float)
    case .float64: sink.append(raw.load(fromByteOffset: e * 8, as: Double.self).description)
    case .uint8: sink.append(integer: Int64(raw.load(fromByteOffset: e, as: UInt8.self)))
    case .int8: sink.append(integer: Int64(raw.load(fromByteOffset: e, as: Int8.self)))
    case .uint16: sink.append(integer: Int64(raw.load(fromByteOffset: e * 2, as: UInt16.self)))
    case .int16: sink.append(integer: Int64(raw.load(fromByteOffset: e * 2, as: Int16.self)))
    case .uint32: sink.append(integer: Int64(raw.load(fromByteOffset: e * 4, as: UInt32.self)))
    case .int32: sink.append(integer: Int64(raw.load(fromByteOffset: e * 4, as: Int32.self)))
    case .int64: sink.append(integer: raw.load(fromByteOffset: e * 8, as: Int64.self))
    case .uint64:
      let v = raw.load(fromByteOffset: e * 8, as: UInt64.self)
      if v <= UInt64(Int64.max) { sink.append(integer: Int64(v)) } else { sink.append(String(v)) }
    }
  }

  /// Writes a label: integral values as integers, others as the shortest round-trip double.
  private func writeLabel(_ v: Double) {
    if v.isFinite && v == v.rounded() && Swift.abs(v) < 9.0e15 {
      sink.append(integer: Int64(v))
    } else {
      sink.append(v.description)
    }
  }
}
