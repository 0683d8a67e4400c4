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

/// Reads a CSV file as a stream of samples: one sample per record, the numeric non-label columns
/// as float64 features of shape [D], the label column as the label.
///
/// The file is read in 4 MiB blocks; memory stays bounded whatever the file size (one block, the
/// current batch, the workers' buffers, and the first 1,000 data records kept for column type inference).
///
/// Parsing uses every core: the bytes a batch needs are split at record boundaries into one part per
/// worker, the parts are parsed concurrently (``CSVChunkParser``), and the results are assembled in
/// order. A boundary is a line ending outside quotes by the parity of the quotes counted from the
/// part's start; the split is only trusted when the previous part's own tokenization ends exactly
/// there (else the later parts are parsed again), so keys, values and problems never depend on it.
///
/// - Dialect: RFC 4180 quoting, LF / CRLF / CR line endings, a UTF-8 BOM, blank lines (empty, or spaces
///   and tabs only, as pandas) skipped but counted for line numbers, `--skip-rows` physical lines skipped
///   first, the delimiter given or detected among `,` `;` tab (over the first 256 KiB), the header given
///   or detected: the first record is a header when one of its fields is neither a number nor an NA token
///   (so a first row of numbers with missing values is data; a headerless file whose first row has a text
///   column needs `--no-header`).
/// - Columns: typed as pandas' `read_csv` types them over the first 1,000 data rows: a column is
///   numeric when every value is a number or an NA token, else text; `--text-columns` forces text. A
///   text column that is mostly numbers (``ColumnTypeTally/isMostlyNumeric(_:)``) is reported, one
///   `mixed_column` per column (``layoutFindings``), its text rows counted by the parsers over the
///   whole stream; a feature column whose later rows hold text is reported too (those rows are
///   `unreadable`). ``DatasetInfo/columns`` says how each column was typed and why. The label column
///   (`--label-column`, default the column named `label`) must be mostly numbers.
/// - Numbers: `--decimal ,` (or a decimal comma detected when the delimiter is `;` or tab, see
///   ``CSVDialect/detectDecimalComma(_:count:isEOF:delimiter:maxRecords:)``) reads `1,5` as 1.5 and
///   `1.5` as text, as pandas' `decimal=','`; a CSV output writes its numbers back with it.
/// - Samples: keys are the 1-based physical line where each record starts (the header is line 1 when it
///   is the first line). A record with the wrong number of fields, a value that is not a number in a
///   numeric column, or an unterminated quote at the end of the file is `unreadable` (features 0,
///   label NaN). `originals` holds each record's bytes without its line ending (nil when
///   ``ReadOptions/keepOriginals`` is false).
/// - Ranges: with ``ReadOptions/sampleRange`` `.bytes(a..<b)`, the dialect, header and columns are
///   found from the start of the file as always; the records delivered are those whose first byte
///   lies in `a..<b` (a record starts after the previous record's line ending; blank lines are not
///   records), with their physical line numbers in the whole file. The records before `a` are
///   tokenized (not parsed) to find where they end.
public final class CSVReader: SampleReader {
  /// What the reader knows about the file (layout `.csv`).
  public let info: DatasetInfo
  /// The CSV layout found (delimiter, header, columns, line ending).
  public let layout: CSVLayout

  /// Bytes of the file consumed so far.
  public var bytesRead: Int { file.totalRead - file.available }

  /// Rows per batch: their float64 values, original records, keys and record ends take about half of
  /// ``ReadOptions/batchBytes``.
  public let rowsPerBatch: Int

  let path: String
  private let file: BlockFile
  /// Physical line (1-based) where the next record starts.
  @exclusivity(unchecked) private var line: Int
  /// One parser per core; the first also parses the read-ahead records and small rounds.
  private let workers: [CSVChunkParser]
  /// A part of a parallel round is at least this many bytes.
  private let minimumPartBytes: Int
  private let keepOriginals: Bool
  /// Bytes and records of the stream consumed so far (for the size of a batch's bytes).
  private var consumedBytes = 0
  private var consumedRecords = 0
  /// Column names as messages print them (cut to ``Swift/String/messageNameLimit`` characters, control
  /// characters escaped): each row's message copies a short name, never a header field of any length.
  private let messageNames: [String]
  /// The class list of a label column of class names (nil: numeric labels), and whether it was given.
  private let labelClasses: [String]?
  private let labelClassesGiven: Bool?
  private let featureColumns: [Int]
  private let columnCount: Int
  private let labelColumn: Int?
  /// Data records read ahead for type inference, served before the stream.
  private var pending: OriginalRecords
  private var pendingLines: [Int]
  private var pendingUnterminated: [Bool]
  private var pendingNext = 0
  /// The read-ahead records served: `pendingNext ..< pendingEnd` (all but those outside a range).
  private var pendingEnd: Int
  /// The end (a file offset) of the byte range whose records are read; Int.max for all.
  private let rangeEnd: Int
  private var nextIndex = 0
  private var streamDone: Bool
  /// Column typing: the first rows' tally, how many rows it covers, and the column names.
  private let tally: ColumnTypeTally
  private let typedRows: Int
  private let names: [String]
  /// The mostly numeric columns typed text (`mixed_column`), and per column the rows whose value
  /// is text (counted over the whole stream by the parsers).
  private let mixedColumns: [Int]
  var mixedRows: [Int]
  var placeholderRows: [Int]
  /// Per column typed numeric: the rows after the typing whose value was text, and the first.
  var lateText: [(rows: Int, first: (line: Int, value: String))?]

  /// The number of data rows used to infer column types.
  public static let inferenceRows = 1000
  /// The largest number of rows in one batch.
  public static let maxRowsPerBatch = 65_536

  /// Opens `path` and works out its dialect and columns (reading the first 1,000 data rows).
  ///
  /// Throws ``DatasanError`` when the file cannot be read or is empty, when the header's field count
  /// differs from the first data row's, or when a column option names no column or the label column is
  /// text without a repeated value (not class names).
  public convenience init(path: String, options: ReadOptions) throws {
    try self.init(path: path, options: options, blockSize: 4 << 20)
  }

  /// Opens `path` reading blocks of `blockSize` bytes (tests use tiny blocks to cross many boundaries),
  /// parsing on `workers` cores (default: all) in parts of at least `minimumPartBytes`.
  init(
    path: String, options: ReadOptions, blockSize: Int, workers workerCount: Int? = nil,
    minimumPartBytes: Int = 128 << 10
  ) throws {
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
    // The decimal separator: given, or a comma detected where `;` or tab separates the fields.
    var decimal = options.decimal ?? .point
    var readingNotes: [String] = []
    if let compression = file.compression {
      readingNotes.append(
        "\(compression.rawValue)-compressed (by its magic bytes), read as its decompressed stream through \(compression.library)")
    }
    if options.decimal == nil {
      let (window, reachesEnd) = try file.peek(256 << 10)
      if !window.isEmpty,
        let counts = window.withUnsafeBufferPointer({
          CSVDialect.detectDecimalComma($0.baseAddress!, count: $0.count, isEOF: reachesEnd, delimiter: delimiter)
        })
      {
        decimal = .comma
        readingNotes.append(
          "decimal comma detected (\(CSVColumnTyping.grouped(counts.comma)) numbers like 1,5 against "
            + "\(CSVColumnTyping.grouped(counts.point)) like 1.5 in the first rows; pandas: decimal=','); --decimal . reads them as text")
      }
    } else if decimal == .comma {
      readingNotes.append("decimal comma (given: --decimal , or datasan.yml's decimal)")
    }
    if decimal == .comma && delimiter == UInt8(ascii: ",") {
      throw DatasanError(
        path: path, "--decimal , needs another delimiter than ',' (the fields are separated by commas); use --delimiter ';'")
    }
    let decimalByte = decimal.byte
    let tokenizer = CSVTokenizer(delimiter: delimiter)

    // The first record: a header or the first data row.
    var pending = OriginalRecords()
    var pendingLines: [Int] = []
    var pendingUnterminated: [Bool] = []
    var pendingOffsets: [Int] = []
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
      options.header ?? CSVDialect.looksLikeHeader(UnsafePointer(file.buffer), fields: fields, decimal: decimalByte)
    if firstIsHeader {
      headerLine = Array(UnsafeBufferPointer(start: file.buffer + first.start, count: first.contentEnd - first.start))
      header = (0..<fields.count).map { CSVTokenizer.string(of: $0, in: UnsafePointer(file.buffer), fields: fields) }
      headerRecordLine = firstLine
    } else {
      Self.keep(first, firstLine, file.buffer, into: &pending, &pendingLines, &pendingUnterminated)
      pendingOffsets.append(file.fileOffset(ofBufferIndex: first.start))
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
      pendingOffsets.append(file.fileOffset(ofBufferIndex: next.0.start))
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
            tally.add(value, CSVNumberParser.parse(value, decimal: decimalByte), column: c, line: pendingLines[r])
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
        throw DatasanError(path: path, "the label column '\(names[label].messageName)' cannot be a text column")
      }
    }
    // A label column of class names (pandas reads it as text; scikit-learn's LabelEncoder maps it):
    // their indices in the order of --classes, else sorted as LabelEncoder and ImageFolder sort them.
    var labelClasses: [String]? = nil
    if let label, !tally.isMostlyNumeric(label) || (options.classNames != nil && tally.texts(label) > 0) {
      if let given = options.classNames {
        labelClasses = given
      } else {
        var seen = Set<String>()
        var named = 0
        pending.bytes.withUnsafeBytes { all in
          for r in 0..<pendingLines.count where !pendingUnterminated[r] {
            let record = UnsafeRawBufferPointer(rebasing: all[pending.range(r)])
            tokenizer.tokenize(record, into: fields)
            guard fields.count == columnCount, let base = record.baseAddress else { continue }
            CSVTokenizer.withValue(of: label, in: base.assumingMemoryBound(to: UInt8.self), fields: fields, scratch: &scratch) {
              value in
              if value.count > 0 && CSVNumberParser.parse(value, decimal: decimalByte) != .missing {
                seen.insert(String(decoding: value, as: UTF8.self))
                named += 1
              }
            }
          }
        }
        // Text without a repeated value (an id, a name) is no class list: every row would be its own class.
        if seen.count == named && named >= 5 {
          let example = tally.firstInvalid[label].map { " (line \($0.line): '\($0.value)')" } ?? ""
          throw DatasanError(
            path: path,
            "the label column '\(names[label].messageName)' is text without a repeated value\(example): "
              + "not class names (\(named) distinct in \(named) rows); choose another with --label-column, or give --classes")
        }
        labelClasses = seen.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
      }
    }
    // Types, as pandas' read_csv gives them: a column with any text value in the first rows is text;
    // one that is mostly numbers is reported (mixed_column), since it looks like a feature.
    var features: [Int] = []
    var texts: [Int] = []
    var mixed: [Int] = []
    var typing: [ColumnTyping] = []
    let typedRows = pendingLines.count
    for c in 0..<columnCount {
      if c == label {
        var why = options.labelColumn == nil ? "the column named 'label'" : "--label-column"
        if let labelClasses {
          why += "; class names (\(labelClasses.count) classes"
            + (options.classNames == nil ? ", sorted as LabelEncoder)" : ", in the order of --classes)")
        }
        typing.append(ColumnTyping(name: names[c], role: .label, reason: why))
      } else if forcedText.contains(c) {
        texts.append(c)
        typing.append(ColumnTyping(name: names[c], role: .text, reason: "named by --text-columns"))
      } else if tally.texts(c) > 0 {
        texts.append(c)
        let isMixed = tally.isMostlyNumeric(c)
        if isMixed { mixed.append(c) }
        typing.append(
          ColumnTyping(
            name: names[c], role: .text, reason: CSVColumnTyping.textReason(tally, c),
            finding: isMixed ? FindingKind.mixedColumn.rawValue : nil))
      } else {
        features.append(c)
        typing.append(
          ColumnTyping(name: names[c], role: .feature, reason: CSVColumnTyping.featureReason(tally, c, rows: typedRows)))
      }
    }

    let d = features.count
    let layout = CSVLayout(
      delimiter: delimiter, header: header, headerLine: headerLine, columnCount: columnCount,
      featureColumns: features, labelColumn: label, textColumns: texts,
      lineEnding: lineEnding == .none ? [0x0A] : lineEnding.bytes, decimal: decimal)
    self.layout = layout
    var info = DatasetInfo(
      format: .csv, path: path, sampleCount: nil, elementType: .float64, sampleShape: [d],
      featureName: "features", labelName: label.map { names[$0] }, groupNames: features.map { names[$0] },
      layout: layout)
    info.missingValuesReadAsNaN = true
    info.keysAreLineNumbers = true
    info.columns = typing
    info.labelSource = label.map { "column '\(names[$0].messageName)'" }
    if let labelClasses {
      info.classNames = labelClasses
      info.labelEncoding = .classNames(given: options.classNames != nil)
    }
    self.labelClasses = labelClasses
    self.labelClassesGiven = labelClasses == nil ? nil : options.classNames != nil
    info.readingNotes = readingNotes
    self.info = info
    self.tally = tally
    self.typedRows = typedRows
    self.mixedColumns = mixed
    self.mixedRows = Array(repeating: 0, count: columnCount)
    self.placeholderRows = Array(repeating: 0, count: columnCount)
    self.lateText = Array(repeating: nil, count: columnCount)
    self.names = names
    // A row costs its float64 values, its original record (the read-ahead records' average size) and
    // 16 bytes of key and record end. `clean` holds a few copies of a batch in flight (the kept rows,
    // their normalized values), so a batch takes half of `batchBytes`; scans use the same size, so
    // that the two passes of `clean` reuse each other's buffers.
    let recordBytes = (pending.bytes.count + pendingLines.count) / Swift.max(1, pendingLines.count)
    let perRow = 2 * (8 * d + recordBytes + 16)
    rowsPerBatch = Swift.max(1, Swift.min(Self.maxRowsPerBatch, options.batchBytes / Swift.max(1, perRow)))
    // A byte range: the read-ahead records in it, then the stream from its first record.
    var pendingNext = 0
    var pendingEnd = pendingLines.count
    var rangeEnd = Int.max
    if let range = options.sampleRange {
      guard case .bytes(let bytes) = range else {
        throw DatasanError(path: path, "a CSV file is read by byte ranges, not sample ranges")
      }
      rangeEnd = bytes.upperBound
      pendingNext = pendingOffsets.firstIndex { $0 >= bytes.lowerBound } ?? pendingOffsets.count
      pendingEnd = Swift.max(pendingNext, pendingOffsets.firstIndex { $0 >= bytes.upperBound } ?? pendingOffsets.count)
      if pendingEnd < pendingOffsets.count { streamDone = true }
      // Records of the stream that start before the range: tokenized to find their ends, not parsed.
      while !streamDone && file.fileOffset(ofBufferIndex: file.start) < bytes.lowerBound {
        guard let (record, recordLine) = try Self.nextRecord(file, tokenizer, fields, &line) else {
          streamDone = true
          break
        }
        if file.fileOffset(ofBufferIndex: record.start) >= bytes.lowerBound {
          file.start = record.start  // the range's first record: read again by the stream
          line = recordLine
          break
        }
      }
    }
    self.pendingNext = pendingNext
    self.pendingEnd = pendingEnd
    self.rangeEnd = rangeEnd
    self.line = line
    self.messageNames = names.map(\.messageName)
    self.featureColumns = features
    self.columnCount = columnCount
    self.labelColumn = label
    self.pending = pending
    self.pendingLines = pendingLines
    self.pendingUnterminated = pendingUnterminated
    self.streamDone = streamDone
    keepOriginals = options.keepOriginals
    self.minimumPartBytes = Swift.max(1, minimumPartBytes)
    let cores = workerCount ?? Swift.min(8, Machine.cores)
    workers = (0..<Swift.max(1, cores)).map { _ in
      CSVChunkParser(
        delimiter: delimiter, columnCount: columnCount, featureColumns: features, labelColumn: label,
        keepOriginals: options.keepOriginals, decimal: decimalByte, mixedColumns: mixed, labelClasses: labelClasses)
    }
    // The read-ahead records give the first estimate of a record's size.
    consumedBytes = pending.bytes.count + pendingLines.count
    consumedRecords = pendingLines.count
  }

  /// The capacity of the block buffer (for tests: it stays one block unless a record is larger).
  var bufferCapacity: Int { file.capacity }

  /// The next batch of up to ``rowsPerBatch`` samples, or nil at the end of the file.
  public func nextBatch() throws -> SampleBatch? {
    if streamDone && pendingNext >= pendingEnd { return nil }
    let d = featureColumns.count
    let capacity = rowsPerBatch
    var batch = BatchAssembly(
      d: d, capacity: capacity, hasLabel: labelColumn != nil, keepOriginals: keepOriginals,
      originalBytes: Int(Swift.min(Double(capacity) * averageRecordBytes * 1.05, Double(32 << 20))))

    // Read-ahead records first.
    if pendingNext < pendingEnd {
      let w = workers[0]
      w.runStored(
        pending, lines: pendingLines, unterminated: pendingUnterminated, first: pendingNext,
        maxRows: Swift.min(capacity, pendingEnd - pendingNext), destination: batch.values)
      batch.take(w, w.rows, lineBase: 0, copyValues: false, message: message, field: labelField)
      count(w, w.rows, lineBase: 0)
      pendingNext += w.rows
      if pendingNext == pendingEnd {
        pending = OriginalRecords()
        pendingLines = []
        pendingUnterminated = []
        pendingNext = 0
        pendingEnd = 0
      }
    }
    // Then the stream.
    while batch.rows < capacity && !streamDone {
      try streamRound(&batch, remaining: capacity - batch.rows)
    }
    let rows = batch.rows
    guard rows > 0 else { return nil }
    var storage = batch.storage
    if rows < capacity {
      // A short (last) batch: right-size the storage.
      let exact = ByteStorage(byteCount: rows * d * 8, zeroed: false)
      if rows * d > 0 { exact.bytes.baseAddress!.copyMemory(from: storage.bytes.baseAddress!, byteCount: rows * d * 8) }
      storage = exact
    }
    let result = SampleBatch(
      firstIndex: nextIndex, count: rows, elementType: .float64, shape: [d], storage: storage,
      labels: labelColumn == nil ? nil : batch.labels, keys: .numbers(batch.keys), problems: batch.problems,
      originals: keepOriginals ? OriginalRecords(bytes: batch.originalBytes, ends: batch.originalEnds) : nil)
    nextIndex += rows
    return result
  }

  /// Average bytes of a record (line ending and blank lines included) so far.
  private var averageRecordBytes: Double {
    consumedRecords == 0 ? 64 : Double(consumedBytes) / Double(consumedRecords)
  }

  /// Parses up to `remaining` records of the bytes in the buffer into `batch`: on all workers when the
  /// bytes those records need (estimated from the average record) are enough for several parts, else
  /// on this thread. Reads more of the file when the buffer ends inside a record.
  private func streamRound(_ batch: inout BatchAssembly, remaining: Int) throws {
    // The end of a byte range: no record starting there or later is read.
    let rangeEndIndex = rangeEnd == Int.max ? Int.max : rangeEnd - file.fileOffset(ofBufferIndex: 0)
    if file.start >= rangeEndIndex {
      streamDone = true
      return
    }
    if file.available == 0 {
      if file.eof {
        streamDone = true
      } else {
        try file.fill()
      }
      return
    }
    let base = UnsafePointer(file.buffer)
    let begin = file.start
    let end = file.start + file.available
    let eof = file.eof
    var bounds = [begin]
    // Records start before `recordsEnd`: the end of the bytes, or of the range.
    let recordsEnd = Swift.min(end, rangeEndIndex)
    var regionEnd = recordsEnd
    if workers.count > 1 {
      let wanted = Int(averageRecordBytes * Double(remaining)) + 1
      if wanted < recordsEnd - begin { regionEnd = begin + wanted }
      let parts = Swift.min(workers.count, (regionEnd - begin) / minimumPartBytes)
      if parts > 1 {
        bounds = Self.boundaries(base, begin: begin, regionEnd: regionEnd, end: end, parts: parts)
      }
    }
    let n = bounds.count
    let destination = batch.values + batch.rows * featureColumns.count
    if n == 1 {
      workers[0].run(
        base, count: end, isEOF: eof, from: begin, limit: recordsEnd, maxRows: remaining, destination: destination)
    } else {
      let workers = self.workers
      let last = regionEnd
      let bounds = bounds
      // The block's bytes, which every part only reads; the batch's values, which only part 0 writes
      // (the others parse into their own memory).
      nonisolated(unsafe) let (text, values) = (base, destination)
      DispatchQueue.concurrentPerform(iterations: n) { k in
        workers[k].run(
          text, count: end, isEOF: eof, from: bounds[k], limit: k + 1 < n ? bounds[k + 1] : last, maxRows: remaining,
          destination: k == 0 ? values : nil)
      }
    }
    // Assemble in order: a part counts only when the previous one ended exactly where it starts.
    var position = begin
    var lineBase = line
    var added = 0
    var stop = CSVChunkStop.limit
    for k in 0..<n {
      let w = workers[k]
      let take = Swift.min(w.rows, remaining - added)
      batch.take(w, take, lineBase: lineBase, copyValues: k > 0, message: message, field: labelField)
      count(w, take, lineBase: lineBase)
      added += take
      if take < w.rows {
        position = w.starts[take]
        lineBase += w.lines[take]
        stop = .rows
        break
      }
      position = w.position
      lineBase += w.lineEndings
      stop = w.stop
      if k + 1 < n && !(w.stop == .limit && w.position == bounds[k + 1]) { break }
    }
    consumedBytes += position - begin
    consumedRecords += added
    file.start = position
    line = lineBase
    switch stop {
    case .end: streamDone = true
    case .incomplete: try file.fill()
    case .limit, .rows: break
    }
  }

  /// Starts of `parts` parts of `base[begin..<regionEnd]` (the first is `begin`; fewer when no
  /// boundary is found): after each target offset, the first line ending outside quotes by quote
  /// parity from `begin` (bytes up to `end` may be looked at).
  static func boundaries(_ base: UnsafePointer<UInt8>, begin: Int, regionEnd: Int, end: Int, parts: Int) -> [Int] {
    var result = [begin]
    var inside = false
    var scanned = begin
    for k in 1..<parts {
      let target = Swift.max(begin + (regionEnd - begin) * k / parts, scanned)
      if quoteCountIsOdd(base + scanned, target - scanned) { inside.toggle() }
      var i = target
      var found = -1
      while i < regionEnd {
        let c = base[i]
        if c == 0x22 {
          inside.toggle()
        } else if !inside && c == 0x0A {
          found = i + 1
          break
        } else if !inside && c == 0x0D {
          if i + 1 < end { found = base[i + 1] == 0x0A ? i + 2 : i + 1 }
          break
        }
        i += 1
      }
      guard found > result[result.count - 1] && found < regionEnd else { break }
      result.append(found)
      scanned = found
    }
    return result
  }

  /// Whether `p[0..<n]` holds an odd number of `"` bytes (memchr from quote to quote: one call over
  /// a part without quotes).
  static func quoteCountIsOdd(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var odd = false
    var at = UnsafeRawPointer(p)
    let end = at + n
    while at < end, let q = memchr(at, 0x22, end - at) {
      odd.toggle()
      at = UnsafeRawPointer(q) + 1
    }
    return odd
  }

  /// Adds what the first `n` rows of worker `w` hold of text in numeric-looking columns: the rows of
  /// the mixed columns, and the values of feature columns that were not numbers.
  private func count(_ w: CSVChunkParser, _ n: Int, lineBase: Int) {
    for hit in w.textHits where hit.row < n {
      if hit.placeholder { placeholderRows[hit.column] += 1 } else { mixedRows[hit.column] += 1 }
    }
    for p in w.problems where p.row < n {
      guard case .notANumber(let column, let value) = p.kind, column != labelColumn else { continue }
      if let late = lateText[column] {
        lateText[column] = (late.rows + 1, late.first)
      } else {
        lateText[column] = (1, (lineBase + p.line, value))
      }
    }
  }

  /// `mixed_column`: one finding per mostly numeric column typed text, and per column typed numeric
  /// whose later rows hold text.
  public var layoutFindings: [Finding] {
    var findings: [Finding] = []
    for c in 0..<columnCount {
      if mixedColumns.contains(c) {
        findings.append(
          CSVColumnTyping.mixedFinding(name: names[c], tally, c, rows: mixedRows[c], placeholderRows: placeholderRows[c]))
      } else if let late = lateText[c] {
        findings.append(
          CSVColumnTyping.lateTextFinding(name: names[c], c, rows: late.rows, first: late.first, typedOver: typedRows))
      }
    }
    return findings
  }

  /// What a row problem is about: the label column for an unknown class name.
  private func labelField(_ problem: CSVRowProblem) -> String? {
    guard case .unknownClass = problem.kind, let labelColumn else { return nil }
    return names[labelColumn]
  }

  private func message(_ problem: CSVRowProblem, _ line: Int) -> String {
    switch problem.kind {
    case .unknownClass(let value):
      let column = labelColumn.map { messageNames[$0] } ?? "label"
      if let given = labelClassesGiven, given {
        return "line \(line): label '\(value)' in column '\(column)' is not a class of --classes (\(ClassList.list(labelClasses ?? [], limit: 5)))"
      }
      return "line \(line): label '\(value)' in column '\(column)' is not among the classes of the first \(Self.inferenceRows) rows"
        + " (\(ClassList.list(labelClasses ?? [], limit: 5))); give every class with --classes"
    case .unterminated:
      return "line \(line): unterminated quoted field (a quote opened here is never closed)"
    case .fieldCount(let n):
      return "line \(line): \(n) fields, expected \(columnCount)"
    case .notANumber(let column, let value):
      return "line \(line): column '\(messageNames[column])' value '\(value)' is not a number"
    }
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

/// The batch being assembled from the workers' outputs, in stream order.
private struct BatchAssembly {
  let d: Int
  let hasLabel: Bool
  let keepOriginals: Bool
  /// Feature values of `capacity` rows.
  let storage: ByteStorage
  let values: UnsafeMutablePointer<Double>
  var rows = 0
  var labels: [Double] = []
  var keys: [Int] = []
  var problems: [Int: ReaderProblem] = [:]
  var originalBytes: [UInt8] = []
  var originalEnds: [Int] = []

  init(d: Int, capacity: Int, hasLabel: Bool, keepOriginals: Bool, originalBytes: Int) {
    self.d = d
    self.hasLabel = hasLabel
    self.keepOriginals = keepOriginals
    // Every row's values are written (zeros for an unreadable row): no need to zero the storage.
    storage = ByteStorage(byteCount: capacity * d * 8, zeroed: false)
    values = storage.bytes.baseAddress!.assumingMemoryBound(to: Double.self)
    if hasLabel { labels.reserveCapacity(capacity) }
    keys.reserveCapacity(capacity)
    if keepOriginals {
      self.originalBytes.reserveCapacity(Swift.max(0, originalBytes))
      originalEnds.reserveCapacity(capacity)
    }
  }

  /// Appends the first `n` rows of worker `w`, whose lines are relative to `lineBase`; their values
  /// are copied unless the worker wrote them in place.
  mutating func take(
    _ w: CSVChunkParser, _ n: Int, lineBase: Int, copyValues: Bool, message: (CSVRowProblem, Int) -> String,
    field: (CSVRowProblem) -> String? = { _ in nil }
  ) {
    guard n > 0 else { return }
    if copyValues && d > 0 { (values + rows * d).update(from: w.values, count: n * d) }
    if hasLabel { labels.append(contentsOf: UnsafeBufferPointer(start: w.labels, count: n)) }
    for r in 0..<n { keys.append(lineBase + w.lines[r]) }
    for p in w.problems where p.row < n {
      problems[rows + p.row] = ReaderProblem(p.kind.findingKind, message(p, lineBase + p.line), field: field(p))
    }
    if keepOriginals {
      let offset = originalBytes.count
      originalBytes.append(contentsOf: UnsafeBufferPointer(start: w.originalBytes, count: w.originalEnds[n - 1]))
      for r in 0..<n { originalEnds.append(offset + w.originalEnds[r]) }
    }
    rows += n
  }
}
