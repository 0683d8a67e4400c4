import DatasanCore

/// Reads a CSV file as a stream of samples: one sample per record, the numeric non-label columns
/// as float64 features of shape [D], the label column as the label.
///
/// The file is read in 4 MiB blocks; memory stays bounded whatever the file size (one block, the
/// current batch, and the first 1,000 data records kept for column type inference).
///
/// - Dialect: RFC 4180 quoting, LF / CRLF / CR line endings, a UTF-8 BOM, blank lines (empty, or spaces
///   and tabs only, as pandas) skipped but counted for line numbers, `--skip-rows` physical lines skipped
///   first, the delimiter given or detected among `,` `;` tab (over the first 256 KiB), the header given
///   or detected: the first record is a header when one of its fields is neither a number nor an NA token
///   (so a first row of numbers with missing values is data; a headerless file whose first row has a text
///   column needs `--no-header`).
/// - Columns: a column is numeric when at least half of its non-NA values in the first 1,000 data rows
///   parse as numbers, else text; `--text-columns` forces text. The label column (`--label-column`,
///   default the column named `label`) must be numeric.
/// - Samples: keys are the 1-based physical line where each record starts (the header is line 1 when it
///   is the first line). A record with the wrong number of fields, a value that is not a number in a
///   numeric column, or an unterminated quote at the end of the file is `unreadable` (features 0,
///   label NaN). `originals` holds each record's bytes without its line ending.
public final class CSVReader: SampleReader {
  /// What the reader knows about the file (layout `.csv`).
  public let info: DatasetInfo
  /// The CSV layout found (delimiter, header, columns, line ending).
  public let layout: CSVLayout

  /// Bytes of the file consumed so far.
  public var bytesRead: Int { file.totalRead - file.available }

  /// Rows per batch.
  public let rowsPerBatch: Int

  private let path: String
  private let file: BlockFile
  private let tokenizer: CSVTokenizer
  private let fields: CSVFieldSpans
  @exclusivity(unchecked) private var scratch: [UInt8]
  /// Physical line (1-based) where the next record starts.
  @exclusivity(unchecked) private var line: Int
  /// A valid pointer for empty records.
  private let emptyByte: UnsafeMutablePointer<UInt8>
  /// Column names (header names, or "column N").
  private let columnNames: [String]
  private let featureColumns: [Int]
  private let columnCount: Int
  private let labelColumn: Int?
  /// Data records read ahead for type inference, served before the stream.
  private var pending: OriginalRecords
  private var pendingLines: [Int]
  private var pendingUnterminated: [Bool]
  private var pendingNext = 0
  private var nextIndex = 0
  private var streamDone: Bool

  /// The number of data rows used to infer column types.
  public static let inferenceRows = 1000
  /// The largest number of rows in one batch.
  public static let maxRowsPerBatch = 65_536

  /// Opens `path` and works out its dialect and columns (reading the first 1,000 data rows).
  ///
  /// Throws ``DatasanError`` when the file cannot be read or is empty, when the header's field count
  /// differs from the first data row's, or when a column option names no column or the label column is
  /// not numeric.
  public convenience init(path: String, options: ReadOptions) throws {
    try self.init(path: path, options: options, blockSize: 4 << 20)
  }

  /// Opens `path` reading blocks of `blockSize` bytes (tests use tiny blocks to cross many boundaries).
  init(path: String, options: ReadOptions, blockSize: Int) throws {
    self.path = path
    let file = try BlockFile(path: path, blockSize: Swift.max(blockSize, 4))
    self.file = file
    let fields = CSVFieldSpans()
    var scratch: [UInt8] = []
    var line = 1
    try file.ensure(64 << 10)
    // UTF-8 BOM.
    if file.available >= 3 && file.buffer[file.start] == 0xEF && file.buffer[file.start + 1] == 0xBB
      && file.buffer[file.start + 2] == 0xBF
    {
      file.start += 3
    }
    for _ in 0..<Swift.max(0, options.skipRows) {
      if try !Self.skipPhysicalLine(file) { break }
      line += 1
    }
    var delimiter = UInt8(ascii: ",")
    if let given = options.delimiter {
      delimiter = given
    } else {
      let (window, reachesEnd) = try file.peek(256 << 10)
      if !window.isEmpty {
        delimiter = window.withUnsafeBufferPointer {
          CSVDialect.detectDelimiter($0.baseAddress!, count: $0.count, isEOF: reachesEnd)
        }
      }
    }
    let tokenizer = CSVTokenizer(delimiter: delimiter)

    // The first record: a header or the first data row.
    var pending = OriginalRecords()
    var pendingLines: [Int] = []
    var pendingUnterminated: [Bool] = []
    var lineEnding: CSVLineEnding = .none
    var header: [String]? = nil
    var headerLine: [UInt8]? = nil
    var headerRecordLine = 0
    guard let firstRecord = try Self.nextRecord(file, tokenizer, fields, &line) else {
      throw DatasanError(path: path, "the file has no records (empty CSV)")
    }
    let (first, firstLine) = firstRecord
    lineEnding = first.ending
    let firstIsHeader =
      options.header ?? CSVDialect.looksLikeHeader(UnsafePointer(file.buffer), fields: fields)
    if firstIsHeader {
      headerLine = Array(UnsafeBufferPointer(start: file.buffer + first.start, count: first.contentEnd - first.start))
      header = (0..<fields.count).map { CSVTokenizer.string(of: $0, in: UnsafePointer(file.buffer), fields: fields) }
      headerRecordLine = firstLine
    } else {
      Self.keep(first, firstLine, file.buffer, into: &pending, &pendingLines, &pendingUnterminated)
    }

    // Read ahead the first data rows.
    var streamDone = false
    while pendingLines.count < Self.inferenceRows {
      guard let next = try Self.nextRecord(file, tokenizer, fields, &line) else {
        streamDone = true
        break
      }
      if lineEnding == .none { lineEnding = next.0.ending }
      Self.keep(next.0, next.1, file.buffer, into: &pending, &pendingLines, &pendingUnterminated)
    }

    // Column count: the header's, checked against the first data row's.
    let firstDataFields: Int? = pendingLines.isEmpty ? nil : Self.fieldCount(tokenizer, fields, pending, 0)
    if let header, let n = firstDataFields, n != header.count {
      throw DatasanError(
        path: path,
        "header (line \(headerRecordLine)) has \(header.count) fields but the first data row (line \(pendingLines[0])) "
          + "has \(n); use --skip-rows \(options.skipRows + 1) or --no-header")
    }
    let columnCount = header?.count ?? firstDataFields ?? 0
    let names = header ?? (0..<columnCount).map { "column \($0)" }

    // Column types over the read-ahead rows.
    var tally = ColumnTypeTally(columns: columnCount)
    pending.bytes.withUnsafeBytes { all in
      for r in 0..<pendingLines.count where !pendingUnterminated[r] {
        let record = UnsafeRawBufferPointer(rebasing: all[pending.range(r)])
        tokenizer.tokenize(record, into: fields)
        guard fields.count == columnCount, let base = record.baseAddress else { continue }
        let p = base.assumingMemoryBound(to: UInt8.self)
        for c in 0..<columnCount {
          CSVTokenizer.withValue(of: c, in: p, fields: fields, scratch: &scratch) { value in
            switch CSVNumberParser.parse(value) {
            case .number:
              tally.numbers[c] += 1
              tally.nonMissing[c] += 1
            case .missing: break
            case .invalid:
              tally.nonMissing[c] += 1
              if tally.firstInvalid[c] == nil { tally.firstInvalid[c] = (pendingLines[r], shortValue(value)) }
            }
          }
        }
      }
    }

    // Roles.
    let hasHeader = header != nil
    var label: Int? = nil
    if let spec = options.labelColumn {
      label = try CSVDialect.resolveColumn(
        spec, names: names, hasHeader: hasHeader, option: "--label-column", path: path)
    } else if hasHeader, let i = names.firstIndex(of: "label") {
      label = i
    }
    var forcedText = Set<Int>()
    for spec in options.textColumns where !spec.isEmpty {
      forcedText.insert(
        try CSVDialect.resolveColumn(spec, names: names, hasHeader: hasHeader, option: "--text-columns", path: path))
    }
    if let label {
      if forcedText.contains(label) {
        throw DatasanError(path: path, "the label column '\(names[label])' cannot be a text column")
      }
      if !tally.isNumeric(label) {
        let example = tally.firstInvalid[label].map { " (line \($0.line): '\($0.value)')" } ?? ""
        throw DatasanError(
          path: path,
          "the label column '\(names[label])' is not numeric\(example); choose another with --label-column")
      }
    }
    var features: [Int] = []
    var texts: [Int] = []
    for c in 0..<columnCount where c != label {
      if forcedText.contains(c) || !tally.isNumeric(c) { texts.append(c) } else { features.append(c) }
    }

    let d = features.count
    let layout = CSVLayout(
      delimiter: delimiter, header: header, headerLine: headerLine, columnCount: columnCount,
      featureColumns: features, labelColumn: label, textColumns: texts,
      lineEnding: lineEnding == .none ? [0x0A] : lineEnding.bytes)
    self.layout = layout
    info = DatasetInfo(
      format: .csv, path: path, sampleCount: nil, elementType: .float64, sampleShape: [d],
      featureName: "features", labelName: label.map { names[$0] }, groupNames: features.map { names[$0] },
      layout: .csv(layout))
    rowsPerBatch = Swift.max(1, Swift.min(Self.maxRowsPerBatch, options.batchBytes / Swift.max(1, 8 * d)))
    self.tokenizer = tokenizer
    self.fields = fields
    self.scratch = scratch
    self.line = line
    self.columnNames = names
    self.featureColumns = features
    self.columnCount = columnCount
    self.labelColumn = label
    self.pending = pending
    self.pendingLines = pendingLines
    self.pendingUnterminated = pendingUnterminated
    self.streamDone = streamDone
    emptyByte = .allocate(capacity: 1)
    emptyByte.initialize(to: 0)
  }

  deinit { emptyByte.deallocate() }

  /// The capacity of the block buffer (for tests: it stays one block unless a record is larger).
  var bufferCapacity: Int { file.capacity }

  /// The next batch of up to ``rowsPerBatch`` samples, or nil at the end of the file.
  public func nextBatch() throws -> SampleBatch? {
    let d = featureColumns.count
    let capacity = rowsPerBatch
    var rows = 0
    var storage: ByteStorage? = nil
    // Set by startBatch before any use.
    var values = UnsafeMutablePointer<Double>(bitPattern: MemoryLayout<Double>.alignment)!
    var labels: [Double] = []
    var keys: [Int] = []
    var problems: [Int: ReaderProblem] = [:]
    var originals = OriginalRecords()
    var allocatedRows = 0

    func startBatch(_ expectedRows: Int) {
      let n = Swift.max(1, Swift.min(capacity, expectedRows))
      allocatedRows = n
      let s = ByteStorage(byteCount: n * d * 8)
      storage = s
      values = s.typed(Double.self, count: n * d).baseAddress ?? values
      if labelColumn != nil { labels.reserveCapacity(n) }
      keys.reserveCapacity(n)
      originals.ends.reserveCapacity(n)
    }

    // Read-ahead records first.
    if pendingNext < pendingLines.count {
      startBatch(capacity)
      while rows < capacity && pendingNext < pendingLines.count {
        let r = pendingNext
        pending.bytes.withUnsafeBytes { all in
          let record = UnsafeRawBufferPointer(rebasing: all[pending.range(r)])
          tokenizer.tokenize(record, into: fields)
          let base = record.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(emptyByte)
          decode(
            base, start: 0, end: record.count, unterminated: pendingUnterminated[r], line: pendingLines[r], row: rows,
            values: values + rows * d, labels: &labels, problems: &problems, originals: &originals)
        }
        keys.append(pendingLines[r])
        rows += 1
        pendingNext += 1
      }
      if pendingNext == pendingLines.count {
        pending = OriginalRecords()
        pendingLines = []
        pendingUnterminated = []
        pendingNext = 0
      }
    }
    // Then the stream.
    while rows < capacity && !streamDone {
      guard let next = try Self.nextRecord(file, tokenizer, fields, &line) else {
        streamDone = true
        break
      }
      let (b, l) = next
      if storage == nil { startBatch(capacity) }
      decode(
        UnsafePointer(file.buffer), start: b.start, end: b.contentEnd, unterminated: b.unterminatedQuote, line: l,
        row: rows, values: values + rows * d, labels: &labels, problems: &problems, originals: &originals)
      keys.append(l)
      rows += 1
    }
    guard rows > 0, var storage else { return nil }
    if rows < allocatedRows {
      // A short (last) batch: right-size the storage.
      let exact = ByteStorage(byteCount: rows * d * 8)
      if rows * d > 0 { exact.bytes.baseAddress!.copyMemory(from: storage.bytes.baseAddress!, byteCount: rows * d * 8) }
      storage = exact
    }
    let batch = SampleBatch(
      firstIndex: nextIndex, count: rows, elementType: .float64, shape: [d], storage: storage,
      labels: labelColumn == nil ? nil : labels, keys: .numbers(keys), problems: problems, originals: originals)
    nextIndex += rows
    return batch
  }

  /// Decodes the record `base[start..<end]` whose fields are in `fields` into row `row`.
  @inline(__always)
  private func decode(
    _ base: UnsafePointer<UInt8>, start: Int, end: Int, unterminated: Bool, line: Int, row: Int,
    values: UnsafeMutablePointer<Double>, labels: inout [Double], problems: inout [Int: ReaderProblem],
    originals: inout OriginalRecords
  ) {
    var originalEnd = end
    if unterminated {
      // The record runs to the end of the file: keep its final line ending out, as for other records.
      if originalEnd > start && base[originalEnd - 1] == 0x0A { originalEnd -= 1 }
      if originalEnd > start && base[originalEnd - 1] == 0x0D { originalEnd -= 1 }
    }
    originals.bytes.append(contentsOf: UnsafeBufferPointer(start: base + start, count: originalEnd - start))
    originals.ends.append(originals.bytes.count)
    let d = featureColumns.count
    var problem: String? = nil
    if unterminated {
      problem = "line \(line): unterminated quoted field (a quote opened here is never closed)"
    } else if fields.count != columnCount {
      problem = "line \(line): \(fields.count) fields, expected \(columnCount)"
    } else {
      for g in 0..<d {
        let c = featureColumns[g]
        let parsed = parseField(c, base)
        switch parsed {
        case .number(let v): values[g] = v
        case .missing: values[g] = .nan
        case .invalid:
          problem = notANumber(c, base, line)
        }
        if problem != nil { break }
      }
      if problem == nil, let lc = labelColumn {
        switch parseField(lc, base) {
        case .number(let v): labels.append(v)
        case .missing: labels.append(.nan)
        case .invalid: problem = notANumber(lc, base, line)
        }
      }
    }
    if let problem {
      for g in 0..<d { values[g] = 0 }
      if labelColumn != nil {
        if labels.count > row { labels[row] = .nan } else { labels.append(.nan) }
      }
      problems[row] = ReaderProblem(.unreadable, problem)
    }
  }

  @inline(__always)
  private func parseField(_ k: Int, _ base: UnsafePointer<UInt8>) -> CSVFieldValue {
    let s = fields.starts[k]
    let e = fields.ends[k]
    let flag = fields.flags[k]
    if flag == 0 { return CSVNumberParser.parse(UnsafeRawBufferPointer(start: base + s, count: e - s)) }
    return CSVTokenizer.withValue(of: k, in: base, fields: fields, scratch: &scratch) { CSVNumberParser.parse($0) }
  }

  private func notANumber(_ k: Int, _ base: UnsafePointer<UInt8>, _ line: Int) -> String {
    let value = CSVTokenizer.withValue(of: k, in: base, fields: fields, scratch: &scratch) { shortValue($0) }
    return "line \(line): column '\(columnNames[k])' value '\(value)' is not a number"
  }

  // MARK: - Stream helpers

  /// The next non-blank record of the stream (fields in `fields`, bounds in `file.buffer`) and the line
  /// where it starts; nil at the end of the file.
  private static func nextRecord(
    _ file: BlockFile, _ tokenizer: CSVTokenizer, _ fields: CSVFieldSpans, _ line: inout Int
  ) throws -> (CSVRecordBounds, Int)? {
    while true {
      switch tokenizer.scanRecord(
        UnsafePointer(file.buffer), count: file.start + file.available, at: file.start, isEOF: file.eof, into: fields)
      {
      case .end:
        return nil
      case .incomplete:
        try file.fill()
      case .record(let b):
        file.start = b.next
        let l = line
        line += b.lineEndings
        if b.isBlank || isWhitespaceLine(b, file.buffer, fields) { continue }
        return (b, l)
      }
    }
  }

  /// A line of spaces and tabs only (no delimiter, no quote): blank, as pandas skips it.
  @inline(__always)
  private static func isWhitespaceLine(
    _ b: CSVRecordBounds, _ buffer: UnsafeMutablePointer<UInt8>, _ fields: CSVFieldSpans
  ) -> Bool {
    guard fields.count == 1, fields.flags[0] == 0 else { return false }
    let first = buffer[b.start]
    guard first == 0x20 || first == 0x09 else { return false }
    for i in b.start..<b.contentEnd where buffer[i] != 0x20 && buffer[i] != 0x09 { return false }
    return true
  }

  /// Copies a record into the read-ahead store.
  private static func keep(
    _ b: CSVRecordBounds, _ line: Int, _ buffer: UnsafeMutablePointer<UInt8>, into store: inout OriginalRecords,
    _ lines: inout [Int], _ unterminated: inout [Bool]
  ) {
    store.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer + b.start, count: b.contentEnd - b.start))
    store.ends.append(store.bytes.count)
    lines.append(line)
    unterminated.append(b.unterminatedQuote)
  }

  /// The field count of read-ahead record `r`.
  private static func fieldCount(_ tokenizer: CSVTokenizer, _ fields: CSVFieldSpans, _ store: OriginalRecords, _ r: Int)
    -> Int
  {
    store.bytes.withUnsafeBytes { all in
      tokenizer.tokenize(UnsafeRawBufferPointer(rebasing: all[store.range(r)]), into: fields)
      return fields.count
    }
  }

  /// Skips one physical line (LF, CRLF or CR, quotes ignored). False when the file had no more bytes.
  private static func skipPhysicalLine(_ file: BlockFile) throws -> Bool {
    var i = file.start
    while true {
      let end = file.start + file.available
      if file.available == 0 && file.eof { return false }
      while i < end {
        let c = file.buffer[i]
        if c == 0x0A {
          file.start = i + 1
          return true
        }
        if c == 0x0D {
          if i + 1 < end {
            file.start = file.buffer[i + 1] == 0x0A ? i + 2 : i + 1
            return true
          }
          if file.eof {
            file.start = i + 1
            return true
          }
          break
        }
        i += 1
      }
      if i >= end && file.eof {
        file.start = end
        return true
      }
      let offset = i - file.start
      try file.fill()
      i = file.start + offset
    }
  }
}
