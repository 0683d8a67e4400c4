import DatasanCore

/// Why a problem row is unreadable; the message (which names the absolute line) is written when the
/// batch is assembled, since a worker parsing the second half of a block does not know its line yet.
enum CSVRowProblemKind {
  case unterminated
  case fieldCount(Int)
  case notANumber(column: Int, value: String)
  /// A string label that names no class of the class list (`unknown_class`).
  case unknownClass(value: String)

  /// The finding the row gets.
  var findingKind: FindingKind {
    if case .unknownClass = self { return .unknownClass }
    return .unreadable
  }
}

/// An unreadable row of a chunk: its position among the chunk's rows and its line (relative to the
/// chunk's first line).
struct CSVRowProblem {
  var row: Int
  var line: Int
  var kind: CSVRowProblemKind
}

/// Where a chunk parse stopped.
enum CSVChunkStop: Equatable {
  /// The next record starts at or after the limit.
  case limit
  /// `maxRows` rows were parsed.
  case rows
  /// The next record runs past the bytes available (and the input goes on).
  case incomplete
  /// The input ended.
  case end
}

/// Parses the records of one byte range of a block into its own memory: one worker of the reader's
/// parallel parse (the reader splits a block at record boundaries and runs one parser per part).
///
/// Records that are plain (no quotes, exactly the column count, every numeric field a plain decimal
/// number) are tokenized and parsed in one pass over their bytes; anything else goes through
/// ``CSVTokenizer`` and ``CSVNumberParser``, which define the behaviour. Nothing allocates per record:
/// the outputs are reused buffers that grow to the largest chunk seen.
///
/// `@unchecked Sendable`: it owns raw buffers and reused scratch memory. Each parser is the worker of
/// one part: `DispatchQueue.concurrentPerform` runs part `k` on parser `k` only, and the reader reads
/// the parsers' outputs after it returned; the compiler cannot see that no two threads share one.
final class CSVChunkParser: @unchecked Sendable {
  // Configuration.
  let tokenizer: CSVTokenizer
  let columnCount: Int
  /// Number of feature columns.
  let d: Int
  let hasLabel: Bool
  let labelColumn: Int
  let keepOriginals: Bool
  /// The decimal separator of the numbers (`.` or `,`).
  let decimal: UInt8
  /// The feature columns, in feature order.
  private let featureColumns: UnsafeMutablePointer<Int>
  /// Per column: the feature index (>= 0), `labelRole`, or `textRole`.
  private let roles: UnsafeMutablePointer<Int>
  private static let labelRole = -1
  private static let textRole = -2
  /// A text column that is mostly numbers (`mixed_column`): its rows holding text are counted.
  private static let mixedRole = -3
  /// A label column of class names: each value is looked up in ``labelIndex``.
  private static let stringLabelRole = -4
  /// The class index of each class name, when the labels are strings.
  private let labelIndex: [String: Int]?
  /// Whether plain records may take the one-pass path (a single text column may not: a line of
  /// spaces is blank there).
  private let fastPath: Bool
  private let fields = CSVFieldSpans()
  @exclusivity(unchecked) private var scratch: [UInt8] = []
  private let emptyByte: UnsafeMutablePointer<UInt8>
  /// 10^0 ... 10^8.
  private let powersOfTen: UnsafeMutablePointer<UInt64>

  // Outputs of the last run.
  /// Rows parsed.
  @exclusivity(unchecked) private(set) var rows = 0
  /// Feature values of the rows: the destination given to ``run``, else ``ownValues``.
  @exclusivity(unchecked) private(set) var values: UnsafeMutablePointer<Double>
  @exclusivity(unchecked) private var ownValues: UnsafeMutablePointer<Double>
  @exclusivity(unchecked) private var ownValuesRows = 0
  /// Label of each row (when the file has a label column).
  @exclusivity(unchecked) private(set) var labels: UnsafeMutablePointer<Double>
  /// Line of each row: line endings between the run's start and the record.
  @exclusivity(unchecked) private(set) var lines: UnsafeMutablePointer<Int>
  /// Offset of each row's record in the run's buffer.
  @exclusivity(unchecked) private(set) var starts: UnsafeMutablePointer<Int>
  @exclusivity(unchecked) private var rowCapacity = 0
  /// Original bytes of the rows back to back, and each row's end in them.
  @exclusivity(unchecked) private(set) var originalBytes: UnsafeMutablePointer<UInt8>
  @exclusivity(unchecked) private(set) var originalCount = 0
  @exclusivity(unchecked) private var originalCapacity = 0
  @exclusivity(unchecked) private(set) var originalEnds: UnsafeMutablePointer<Int>
  /// Unreadable rows.
  @exclusivity(unchecked) private(set) var problems: [CSVRowProblem] = []
  /// The rows whose value in a mixed column is text (not a number, not an NA token).
  @exclusivity(unchecked) private(set) var textHits: [(row: Int, column: Int, placeholder: Bool)] = []
  private let mixedColumns: [Int]
  /// Line endings consumed by the run (records and blank lines up to ``position``).
  @exclusivity(unchecked) private(set) var lineEndings = 0
  /// Where the run stopped: the first byte not consumed.
  @exclusivity(unchecked) private(set) var position = 0
  @exclusivity(unchecked) private(set) var stop: CSVChunkStop = .end

  init(
    delimiter: UInt8, columnCount: Int, featureColumns: [Int], labelColumn: Int?, keepOriginals: Bool,
    decimal: UInt8 = UInt8(ascii: "."), mixedColumns: [Int] = [], labelClasses: [String]? = nil
  ) {
    labelIndex = labelClasses.map { names in Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }) }
    tokenizer = CSVTokenizer(delimiter: delimiter)
    self.decimal = decimal
    self.columnCount = columnCount
    d = featureColumns.count
    hasLabel = labelColumn != nil
    self.labelColumn = labelColumn ?? -1
    self.keepOriginals = keepOriginals
    self.featureColumns = .allocate(capacity: Swift.max(1, featureColumns.count))
    for (g, c) in featureColumns.enumerated() { self.featureColumns[g] = c }
    roles = .allocate(capacity: Swift.max(1, columnCount))
    for c in 0..<columnCount { roles[c] = Self.textRole }
    for (g, c) in featureColumns.enumerated() where c < columnCount { roles[c] = g }
    if let labelColumn, labelColumn < columnCount {
      roles[labelColumn] = labelClasses == nil ? Self.labelRole : Self.stringLabelRole
    }
    for c in mixedColumns where c < columnCount { roles[c] = Self.mixedRole }
    self.mixedColumns = mixedColumns
    fastPath = columnCount > 1 || (columnCount == 1 && roles[0] != Self.textRole)
    emptyByte = .allocate(capacity: 1)
    emptyByte.initialize(to: 0)
    powersOfTen = .allocate(capacity: 9)
    var p: UInt64 = 1
    for n in 0...8 {
      powersOfTen[n] = p
      p *= 10
    }
    ownValues = .allocate(capacity: 1)
    values = ownValues
    labels = .allocate(capacity: 1)
    lines = .allocate(capacity: 1)
    starts = .allocate(capacity: 1)
    originalEnds = .allocate(capacity: 1)
    originalBytes = .allocate(capacity: 1)
    rowCapacity = 1
    ownValuesRows = d == 0 ? Int.max : 0
  }

  deinit {
    featureColumns.deallocate()
    roles.deallocate()
    emptyByte.deallocate()
    powersOfTen.deallocate()
    ownValues.deallocate()
    labels.deallocate()
    lines.deallocate()
    starts.deallocate()
    originalEnds.deallocate()
    originalBytes.deallocate()
  }

  // MARK: - Memory

  private func reset(destination: UnsafeMutablePointer<Double>?) {
    rows = 0
    originalCount = 0
    problems.removeAll(keepingCapacity: true)
    textHits.removeAll(keepingCapacity: true)
    lineEndings = 0
    values = destination ?? ownValues
    usesOwnValues = destination == nil
  }

  @exclusivity(unchecked) private var usesOwnValues = true

  /// Makes room for one more row.
  @inline(__always) private func reserveRow() {
    if rows == rowCapacity { growRows() }
    if usesOwnValues && rows == ownValuesRows { growValues() }
  }

  private func growRows() {
    let n = Swift.max(1024, rowCapacity * 2)
    labels = Self.grow(labels, rows, n)
    lines = Self.grow(lines, rows, n)
    starts = Self.grow(starts, rows, n)
    originalEnds = Self.grow(originalEnds, rows, n)
    rowCapacity = n
  }

  private func growValues() {
    let n = Swift.max(1024, ownValuesRows * 2)
    ownValues = Self.grow(ownValues, rows * d, n * d)
    values = ownValues
    ownValuesRows = n
  }

  private static func grow<T>(_ p: UnsafeMutablePointer<T>, _ count: Int, _ capacity: Int) -> UnsafeMutablePointer<T> {
    let q = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(1, capacity))
    if count > 0 { q.moveInitialize(from: p, count: count) }
    p.deallocate()
    return q
  }

  @inline(__always) private func appendOriginal(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) {
    let n = end - start
    if originalCount + n > originalCapacity {
      let capacity = Swift.max(originalCapacity * 2, originalCount + n, 1 << 16)
      originalBytes = Self.grow(originalBytes, originalCount, capacity)
      originalCapacity = capacity
    }
    if n > 0 { (originalBytes + originalCount).update(from: base + start, count: n) }
    originalCount += n
    originalEnds[rows] = originalCount
  }

  // MARK: - Parsing a range

  /// Parses the records that start in `base[from..<limit]` (reading up to `count` bytes, the end of
  /// the bytes available; `isEOF` when that is the end of the input), at most `maxRows` of them.
  ///
  /// - Parameter destination: where row `r`'s features go (`destination + r * d`); nil for the
  ///   parser's own memory (``values``).
  func run(
    _ base: UnsafePointer<UInt8>, count: Int, isEOF: Bool, from: Int, limit: Int, maxRows: Int,
    destination: UnsafeMutablePointer<Double>?
  ) {
    reset(destination: destination)
    let fast = fastPath
    var i = from
    while true {
      if rows >= maxRows {
        stop = .rows
        break
      }
      if i >= limit {
        stop = i < count ? .limit : (isEOF ? .end : .incomplete)
        break
      }
      reserveRow()
      if fast, let next = plainRecord(base, count, i) {
        lines[rows] = lineEndings
        starts[rows] = i
        lineEndings += 1
        rows += 1
        i = next
        continue
      }
      switch tokenizer.scanRecord(base, count: count, at: i, isEOF: isEOF, into: fields) {
      case .end:
        stop = .end
        position = i
        return
      case .incomplete:
        stop = .incomplete
        position = i
        return
      case .record(let b):
        let line = lineEndings
        lineEndings += b.lineEndings
        let start = i
        i = b.next
        if b.isBlank || isWhitespaceLine(b, base) { continue }
        decode(base, start: b.start, end: b.contentEnd, unterminated: b.unterminatedQuote, line: line)
        lines[rows] = line
        starts[rows] = start
        rows += 1
      }
    }
    position = i
  }

  /// Parses records held one after the other in `store` (the reader's read-ahead records), from
  /// record `first`, at most `maxRows`; `lines` then holds their absolute lines.
  func runStored(
    _ store: OriginalRecords, lines storeLines: [Int], unterminated: [Bool], first: Int, maxRows: Int,
    destination: UnsafeMutablePointer<Double>
  ) {
    reset(destination: destination)
    store.bytes.withUnsafeBytes { all in
      var r = first
      while rows < maxRows && r < storeLines.count {
        reserveRow()
        let record = UnsafeRawBufferPointer(rebasing: all[store.range(r)])
        tokenizer.tokenize(record, into: fields)
        let base = record.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(emptyByte)
        decode(base, start: 0, end: record.count, unterminated: unterminated[r], line: storeLines[r])
        lines[rows] = storeLines[r]
        starts[rows] = 0
        rows += 1
        r += 1
      }
    }
    position = 0
    stop = .rows
  }

  /// A line of spaces and tabs only (no delimiter, no quote): blank, as pandas skips it.
  @inline(__always)
  private func isWhitespaceLine(_ b: CSVRecordBounds, _ buffer: UnsafePointer<UInt8>) -> Bool {
    guard fields.count == 1, fields.flags[0] == 0 else { return false }
    let first = buffer[b.start]
    guard first == 0x20 || first == 0x09 else { return false }
    for i in b.start..<b.contentEnd where buffer[i] != 0x20 && buffer[i] != 0x09 { return false }
    return true
  }

  // MARK: - The one-pass path

  /// Parses a plain record starting at `i` into row `rows` in one pass: no quote at a field start,
  /// exactly `columnCount` fields, each numeric field `[+-]digits[.digits][(e|E)[+-]digits]` with at
  /// most 19 digits, a complete line ending inside `count`. Returns where the next record starts,
  /// or nil (nothing counted; the row's memory may hold garbage) for the general path to decide.
  @inline(__always)
  private func plainRecord(_ base: UnsafePointer<UInt8>, _ count: Int, _ i: Int) -> Int? {
    let delimiter = tokenizer.delimiter
    let row = values + rows * d
    var j = i
    let last = columnCount - 1
    for c in 0...last {
      let role = roles[c]
      if role == Self.textRole || role == Self.stringLabelRole {
        if j < count && base[j] == 0x22 { return nil }
        let fieldStart = j
        while j < count {
          let ch = base[j]
          if ch == delimiter || ch == 0x0A || ch == 0x0D { break }
          j += 1
        }
        if role == Self.stringLabelRole {
          // A known class name; anything else (empty, NA tokens, unknown names) takes the general path.
          guard let index = classIndex(UnsafeRawBufferPointer(start: base + fieldStart, count: j - fieldStart)) else {
            return nil
          }
          labels[rows] = Double(index)
        }
      } else {
        // A mixed column's plain numbers take this path too; its text goes the general path, which counts it.
        guard let v = plainNumber(base, count, &j) else { return nil }
        if role >= 0 { row[role] = v } else if role == Self.labelRole { labels[rows] = v }
      }
      guard j < count else { return nil }
      let ch = base[j]
      if c < last {
        guard ch == delimiter else { return nil }
        j += 1
      } else {
        let contentEnd = j
        var next: Int
        if ch == 0x0A {
          next = j + 1
        } else if ch == 0x0D {
          guard j + 1 < count else { return nil }
          next = base[j + 1] == 0x0A ? j + 2 : j + 1
        } else {
          return nil
        }
        if keepOriginals { appendOriginal(base, i, contentEnd) }
        return next
      }
    }
    return nil
  }

  /// `[+-]digits[.digits][(e|E)[+-]digits]` at `j` (advanced past it), at most 19 digits; nil for
  /// anything else (empty, NA tokens, spaces, long mantissas), which the general path parses.
  @inline(__always)
  private func plainNumber(_ base: UnsafePointer<UInt8>, _ count: Int, _ j: inout Int) -> Double? {
    let fieldStart = j
    var k = j
    guard k < count else { return nil }
    // The sign without a branch (it is random in real data).
    let s = base[k]
    let negative = s == UInt8(ascii: "-")
    k &+= (negative || s == UInt8(ascii: "+")) ? 1 : 0
    var mantissa: UInt64 = 0
    var digits = digitRun(base, count, &k, &mantissa)
    var exponent = 0
    if k < count && base[k] == decimal {
      k += 1
      let fractionDigits = digitRun(base, count, &k, &mantissa)
      exponent = -fractionDigits
      digits += fractionDigits
    }
    if digits == 0 || digits > 19 { return nil }
    if k < count && (base[k] | 0x20) == UInt8(ascii: "e") {
      k += 1
      var expNegative = false
      if k < count && (base[k] == UInt8(ascii: "+") || base[k] == UInt8(ascii: "-")) {
        expNegative = base[k] == UInt8(ascii: "-")
        k += 1
      }
      let expStart = k
      var e = 0
      while k < count {
        let digit = base[k] &- 0x30
        if digit > 9 { break }
        if e < 100_000 { e = e &* 10 &+ Int(digit) }
        k += 1
      }
      if k == expStart { return nil }
      exponent += expNegative ? -e : e
    }
    j = k
    if mantissa <= (1 << 53) && exponent >= -22 && exponent <= 22 {
      // Clinger's fast path: one correctly rounded operation on exact operands (0 included).
      var value = Double(mantissa)
      if exponent < 0 {
        value /= CSVNumberParser.exactPowerOfTen(-exponent)
      } else if exponent > 0 {
        value *= CSVNumberParser.exactPowerOfTen(exponent)
      }
      return Double(bitPattern: value.bitPattern | (negative ? 1 << 63 : 0))
    }
    if mantissa == 0 { return negative ? -0.0 : 0.0 }
    return CSVNumberParser.parseNumber(base + fieldStart, k - fieldStart, decimal: decimal)
  }

  /// Appends the decimal digits at `k` to `mantissa` (wrapping: the caller refuses more than 19
  /// digits), eight bytes at a time; returns how many there were.
  @inline(__always)
  private func digitRun(_ base: UnsafePointer<UInt8>, _ count: Int, _ k: inout Int, _ mantissa: inout UInt64) -> Int {
    let start = k
    while k + 8 <= count {
      let chunk = UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self)
      // High bit of each byte that is not an ASCII digit (exact up to the first such byte).
      let nonDigits = ((chunk &+ 0x4646_4646_4646_4646) | (chunk &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080
      let n = nonDigits == 0 ? 8 : nonDigits.trailingZeroBitCount >> 3
      if n > 0 {
        // The n digits, moved to the top bytes (the bottom ones become zero digits), to an integer.
        var v = (chunk &- 0x3030_3030_3030_3030) << UInt64(64 - 8 * n)
        v = (v &* 10) &+ (v >> 8)
        v = (((v & 0x0000_00FF_0000_00FF) &* 0x000F_4240_0000_0064)
          &+ (((v >> 16) & 0x0000_00FF_0000_00FF) &* 0x0000_2710_0000_0001)) >> 32
        mantissa = mantissa &* powersOfTen[n] &+ v
        k += n
      }
      if n < 8 { return k - start }
    }
    while k < count {
      let digit = base[k] &- 0x30
      if digit > 9 { break }
      mantissa = mantissa &* 10 &+ UInt64(digit)
      k += 1
    }
    return k - start
  }

  // MARK: - The general path

  /// Decodes the record `base[start..<end]` whose fields are in `fields` into row `rows`.
  private func decode(_ base: UnsafePointer<UInt8>, start: Int, end: Int, unterminated: Bool, line: Int) {
    var originalEnd = end
    if unterminated {
      // The record runs to the end of the file: keep its final line ending out, as for other records.
      if originalEnd > start && base[originalEnd - 1] == 0x0A { originalEnd -= 1 }
      if originalEnd > start && base[originalEnd - 1] == 0x0D { originalEnd -= 1 }
    }
    if keepOriginals { appendOriginal(base, start, originalEnd) }
    let row = values + rows * d
    var problem: CSVRowProblemKind? = nil
    if unterminated {
      problem = .unterminated
    } else if fields.count != columnCount {
      problem = .fieldCount(fields.count)
    } else {
      for g in 0..<d {
        let c = featureColumns[g]
        switch parseField(c, base) {
        case .number(let v): row[g] = v
        case .missing: row[g] = .nan
        case .invalid: problem = notANumber(c, base)
        }
        if problem != nil { break }
      }
      if problem == nil && hasLabel && labelIndex != nil {
        // Class names: a missing value (empty, NA tokens) is a NaN label, an unknown name `unknown_class`.
        let decimal = self.decimal
        let found: Double?? = CSVTokenizer.withValue(of: labelColumn, in: base, fields: fields, scratch: &scratch) {
          value in
          if CSVNumberParser.parse(value, decimal: decimal) == .missing { return .some(.nan) }
          return .some(classIndex(value).map(Double.init))
        }
        if case .some(.some(let v)) = found {
          labels[rows] = v
        } else {
          let value = CSVTokenizer.withValue(of: labelColumn, in: base, fields: fields, scratch: &scratch) { shortValue($0) }
          problem = .unknownClass(value: value)
        }
      } else if problem == nil && hasLabel {
        switch parseField(labelColumn, base) {
        case .number(let v): labels[rows] = v
        case .missing: labels[rows] = .nan
        case .invalid: problem = notANumber(labelColumn, base)
        }
      }
      for c in mixedColumns where parseField(c, base) == .invalid {
        textHits.append((rows, c, isPlaceholder(c, base)))
      }
    }
    if let problem {
      for g in 0..<d { row[g] = 0 }
      if hasLabel { labels[rows] = .nan }
      problems.append(CSVRowProblem(row: rows, line: line, kind: problem))
    }
  }

  @inline(__always)
  private func parseField(_ k: Int, _ base: UnsafePointer<UInt8>) -> CSVFieldValue {
    let s = fields.starts[k]
    let e = fields.ends[k]
    let decimal = self.decimal
    if fields.flags[k] == 0 {
      return CSVNumberParser.parse(UnsafeRawBufferPointer(start: base + s, count: e - s), decimal: decimal)
    }
    return CSVTokenizer.withValue(of: k, in: base, fields: fields, scratch: &scratch) {
      CSVNumberParser.parse($0, decimal: decimal)
    }
  }

  /// Whether field `k` has no ASCII letter or digit and no byte beyond ASCII (`?`, `-`): a
  /// placeholder for a missing value (as ``ColumnTypeTally/isPlaceholder(_:)`` says, without its words).
  private func isPlaceholder(_ k: Int, _ base: UnsafePointer<UInt8>) -> Bool {
    CSVTokenizer.withValue(of: k, in: base, fields: fields, scratch: &scratch) { value in
      for b in value where (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") || (b >= 0x30 && b <= 0x39) || b >= 0x80 {
        return false
      }
      return true
    }
  }

  /// The class index of a class name (nil: not in the class list). Names of up to 15 bytes are
  /// small strings: the lookup allocates nothing.
  @inline(__always)
  private func classIndex(_ value: UnsafeRawBufferPointer) -> Int? {
    guard let labelIndex, value.count > 0 else { return nil }
    return labelIndex[String(decoding: value, as: UTF8.self)]
  }

  private func notANumber(_ k: Int, _ base: UnsafePointer<UInt8>) -> CSVRowProblemKind {
    let value = CSVTokenizer.withValue(of: k, in: base, fields: fields, scratch: &scratch) { shortValue($0) }
    return .notANumber(column: k, value: value)
  }
}
