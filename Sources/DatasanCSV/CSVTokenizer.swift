/// The field boundaries of one record, kept in reusable memory (no allocation once warm).
///
/// Offsets are relative to the buffer the record was tokenized from. A field's raw bytes
/// include its quotes; ``CSVTokenizer/value(of:in:scratch:)`` gives the unquoted content.
public final class CSVFieldSpans {
  /// Start offset of each field's raw bytes.
  @exclusivity(unchecked) public private(set) var starts: UnsafeMutablePointer<Int>
  /// End offset (exclusive) of each field's raw bytes.
  @exclusivity(unchecked) public private(set) var ends: UnsafeMutablePointer<Int>
  /// ``Flags`` of each field.
  @exclusivity(unchecked) public private(set) var flags: UnsafeMutablePointer<UInt8>
  /// Number of fields of the record.
  @exclusivity(unchecked) public private(set) var count = 0
  @exclusivity(unchecked) private var capacity: Int

  /// Per-field flags.
  public enum Flags {
    /// The field starts with a quote.
    public static let quoted: UInt8 = 1
    /// The quoted field holds doubled quotes, or bytes after its closing quote: it needs unescaping.
    public static let needsUnescape: UInt8 = 2
    /// The field's quote is not closed before the end of the input.
    public static let unterminated: UInt8 = 4
  }

  public init(capacity: Int = 64) {
    self.capacity = Swift.max(capacity, 4)
    starts = .allocate(capacity: self.capacity)
    ends = .allocate(capacity: self.capacity)
    flags = .allocate(capacity: self.capacity)
  }

  deinit {
    starts.deallocate()
    ends.deallocate()
    flags.deallocate()
  }

  @inline(__always) func reset() { count = 0 }

  @inline(__always) func append(_ start: Int, _ end: Int, _ flag: UInt8) {
    if count == capacity { grow() }
    starts[count] = start
    ends[count] = end
    flags[count] = flag
    count += 1
  }

  private func grow() {
    let newCapacity = capacity * 2
    let s = UnsafeMutablePointer<Int>.allocate(capacity: newCapacity)
    let e = UnsafeMutablePointer<Int>.allocate(capacity: newCapacity)
    let f = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
    s.moveInitialize(from: starts, count: count)
    e.moveInitialize(from: ends, count: count)
    f.moveInitialize(from: flags, count: count)
    starts.deallocate()
    ends.deallocate()
    flags.deallocate()
    starts = s
    ends = e
    flags = f
    capacity = newCapacity
  }
}

/// How a record ended.
public enum CSVLineEnding: Sendable, Equatable {
  case lf, crlf, cr
  /// The record ends at the end of the input without a line ending.
  case none

  /// The bytes of the ending.
  public var bytes: [UInt8] {
    switch self {
    case .lf: return [0x0A]
    case .crlf: return [0x0D, 0x0A]
    case .cr: return [0x0D]
    case .none: return []
    }
  }
}

/// Where one record lies in the buffer it was tokenized from.
public struct CSVRecordBounds: Sendable, Equatable {
  /// First byte of the record.
  public var start: Int
  /// End of the record's bytes, before its line ending.
  public var contentEnd: Int
  /// First byte after the line ending (where the next record starts).
  public var next: Int
  /// Physical line endings from `start` to `next` (those inside quotes plus the record's own).
  public var lineEndings: Int
  /// The record's own line ending.
  public var ending: CSVLineEnding
  /// The record's last quoted field is not closed before the end of the input.
  public var unterminatedQuote: Bool

  /// An empty line (skipped by readers, but counted for line numbers).
  public var isBlank: Bool { contentEnd == start }
}

/// The result of tokenizing at one position.
public enum CSVScanResult: Sendable, Equatable {
  /// A complete record; its fields are in the spans.
  case record(CSVRecordBounds)
  /// The buffer ends inside a record (or right after a CR or a quote whose meaning needs the next
  /// byte): append more input and tokenize again from the same position.
  case incomplete
  /// No bytes left and the input is at its end.
  case end
}

/// An RFC 4180 record tokenizer: a pure function over a byte buffer.
///
/// Quotes open a quoted field only at the start of a field; inside, delimiters and line endings are
/// data and `""` is one quote. After a closing quote, bytes up to the next delimiter are appended to the
/// field (pandas' behaviour). A quote inside an unquoted field is data. Line endings are LF, CRLF, or a
/// lone CR.
///
/// The tokenizer holds no state between records: ``scanRecord(_:count:at:isEOF:into:)`` tokenizes one
/// record starting at a record boundary, or says it needs more bytes. Splitting a file by byte range
/// (to parse on several cores) only needs a record boundary for each part, found by the caller.
public struct CSVTokenizer: Sendable {
  /// The field separator.
  public let delimiter: UInt8
  /// The quote character.
  public let quote: UInt8 = 0x22

  public init(delimiter: UInt8) { self.delimiter = delimiter }

  /// Tokenizes the record that starts at `start` in `base[0..<count]` into `fields`.
  ///
  /// - Parameter isEOF: whether `count` is the end of the input (else a record running to `count` is
  ///   ``CSVScanResult/incomplete``).
  @inline(__always)
  public func scanRecord(
    _ base: UnsafePointer<UInt8>, count: Int, at start: Int, isEOF: Bool, into fields: CSVFieldSpans
  ) -> CSVScanResult {
    if start >= count { return isEOF ? .end : .incomplete }
    fields.reset()
    let delimiter = self.delimiter
    let quote = self.quote
    var i = start
    var lineEndings = 0
    while true {
      let fieldStart = i
      var flag: UInt8 = 0
      if i < count && base[i] == quote {
        // Quoted field.
        flag = CSVFieldSpans.Flags.quoted
        i += 1
        var closed = false
        while i < count {
          let c = base[i]
          if c == quote {
            if i + 1 < count {
              if base[i + 1] == quote {
                flag |= CSVFieldSpans.Flags.needsUnescape
                i += 2
                continue
              }
            } else if !isEOF {
              return .incomplete
            }
            i += 1
            closed = true
            break
          } else if c == 0x0A {
            lineEndings += 1
          } else if c == 0x0D {
            if i + 1 >= count || base[i + 1] != 0x0A { lineEndings += 1 }
          }
          i += 1
        }
        if !closed {
          if !isEOF { return .incomplete }
          fields.append(fieldStart, count, flag | CSVFieldSpans.Flags.unterminated)
          return .record(
            CSVRecordBounds(
              start: start, contentEnd: count, next: count, lineEndings: lineEndings, ending: .none,
              unterminatedQuote: true))
        }
        let afterQuote = i
        while i < count {
          let c = base[i]
          if c == delimiter || c == 0x0A || c == 0x0D { break }
          i += 1
        }
        if i != afterQuote { flag |= CSVFieldSpans.Flags.needsUnescape }
      } else {
        // Unquoted field: the hot loop.
        while i < count {
          let c = base[i]
          if c == delimiter || c == 0x0A || c == 0x0D { break }
          i += 1
        }
      }
      if i >= count {
        if !isEOF { return .incomplete }
        fields.append(fieldStart, i, flag)
        return .record(
          CSVRecordBounds(
            start: start, contentEnd: i, next: i, lineEndings: lineEndings, ending: .none, unterminatedQuote: false))
      }
      fields.append(fieldStart, i, flag)
      let c = base[i]
      if c == delimiter {
        i += 1
        continue
      }
      if c == 0x0A {
        return .record(
          CSVRecordBounds(
            start: start, contentEnd: i, next: i + 1, lineEndings: lineEndings + 1, ending: .lf,
            unterminatedQuote: false))
      }
      // CR: CRLF or a lone CR.
      if i + 1 < count {
        let crlf = base[i + 1] == 0x0A
        return .record(
          CSVRecordBounds(
            start: start, contentEnd: i, next: crlf ? i + 2 : i + 1, lineEndings: lineEndings + 1,
            ending: crlf ? .crlf : .cr, unterminatedQuote: false))
      }
      if !isEOF { return .incomplete }
      return .record(
        CSVRecordBounds(
          start: start, contentEnd: i, next: i + 1, lineEndings: lineEndings + 1, ending: .cr,
          unterminatedQuote: false))
    }
  }

  /// Tokenizes one whole record held in `bytes` (e.g. an original record without its line ending).
  public func tokenize(_ bytes: UnsafeRawBufferPointer, into fields: CSVFieldSpans) {
    guard let base = bytes.baseAddress, bytes.count > 0 else {
      fields.reset()
      fields.append(0, 0, 0)
      return
    }
    _ = scanRecord(base.assumingMemoryBound(to: UInt8.self), count: bytes.count, at: 0, isEOF: true, into: fields)
  }

  /// Calls `body` with the content of field `k` (quotes removed, `""` unescaped).
  ///
  /// Plain and simply quoted fields are passed in place; others are unescaped into `scratch`.
  @inline(__always)
  public static func withValue<R>(
    of k: Int, in base: UnsafePointer<UInt8>, fields: CSVFieldSpans, scratch: inout [UInt8],
    _ body: (UnsafeRawBufferPointer) -> R
  ) -> R {
    let s = fields.starts[k]
    let e = fields.ends[k]
    let flag = fields.flags[k]
    if flag == 0 { return body(UnsafeRawBufferPointer(start: base + s, count: e - s)) }
    if flag == CSVFieldSpans.Flags.quoted {
      // `"content"`: the closing quote is the last byte.
      return body(UnsafeRawBufferPointer(start: base + s + 1, count: Swift.max(0, e - s - 2)))
    }
    unescape(base, s, e, into: &scratch)
    return scratch.withUnsafeBytes { body($0) }
  }

  /// The content of a quoted field `base[s..<e]` (which starts with a quote), unescaped.
  static func unescape(_ base: UnsafePointer<UInt8>, _ s: Int, _ e: Int, into out: inout [UInt8]) {
    out.removeAll(keepingCapacity: true)
    var i = s + 1
    var inQuotes = true
    while i < e {
      let c = base[i]
      if inQuotes && c == 0x22 {
        if i + 1 < e && base[i + 1] == 0x22 {
          out.append(0x22)
          i += 2
          continue
        }
        inQuotes = false
        i += 1
        continue
      }
      out.append(c)
      i += 1
    }
  }

  /// The content of field `k` as a String (invalid UTF-8 repaired); for names and messages.
  public static func string(of k: Int, in base: UnsafePointer<UInt8>, fields: CSVFieldSpans) -> String {
    var scratch: [UInt8] = []
    return withValue(of: k, in: base, fields: fields, scratch: &scratch) {
      String(decoding: $0, as: UTF8.self)
    }
  }
}
