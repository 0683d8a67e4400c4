import DatasanCore

/// Detection of the CSV dialect (delimiter, header) and of the column roles.
enum CSVDialect {
  /// The delimiters tried by detection, in order of preference.
  static let candidates: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), 0x09]

  /// The delimiter of the records in `base[0..<count]`.
  ///
  /// Each candidate tokenizes up to `maxRecords` records (quotes respected). A candidate counts when
  /// the first record has more than one field; its score is the fraction of records with that many
  /// fields. The best score wins; ties go to the earlier candidate (`,` then `;` then tab). When no
  /// candidate splits the first record, the file has one column and the delimiter is `,`.
  static func detectDelimiter(_ base: UnsafePointer<UInt8>, count: Int, isEOF: Bool, maxRecords: Int = 100) -> UInt8 {
    var best: (score: Double, delimiter: UInt8)? = nil
    let fields = CSVFieldSpans()
    for delimiter in candidates {
      let tokenizer = CSVTokenizer(delimiter: delimiter)
      var at = 0
      var first = -1
      var records = 0
      var same = 0
      while records < maxRecords {
        guard case .record(let b) = tokenizer.scanRecord(base, count: count, at: at, isEOF: isEOF, into: fields)
        else { break }
        at = b.next
        if b.isBlank { continue }
        if first < 0 { first = fields.count }
        records += 1
        if fields.count == first { same += 1 }
      }
      guard first > 1 else { continue }
      let score = Double(same) / Double(records)
      if best == nil || score > best!.score { best = (score, delimiter) }
    }
    return best?.delimiter ?? UInt8(ascii: ",")
  }

  /// Whether the numbers of the records in `base[0..<count]` (delimited by `delimiter`) use a
  /// decimal comma: over up to `maxRecords` records, the fields that are numbers only with `,` as
  /// the decimal separator (`1,5`) against those that are numbers with a `.` in them (`1.5`). Only
  /// for `;` and tab, where a comma is no delimiter. Returns the counts when commas win.
  static func detectDecimalComma(
    _ base: UnsafePointer<UInt8>, count: Int, isEOF: Bool, delimiter: UInt8, maxRecords: Int = 200
  ) -> (comma: Int, point: Int)? {
    guard delimiter == UInt8(ascii: ";") || delimiter == 0x09 else { return nil }
    let tokenizer = CSVTokenizer(delimiter: delimiter)
    let fields = CSVFieldSpans()
    var scratch: [UInt8] = []
    var at = 0
    var records = 0
    var comma = 0
    var point = 0
    while records < maxRecords {
      guard case .record(let b) = tokenizer.scanRecord(base, count: count, at: at, isEOF: isEOF, into: fields)
      else { break }
      at = b.next
      if b.isBlank { continue }
      records += 1
      for k in 0..<fields.count {
        CSVTokenizer.withValue(of: k, in: base, fields: fields, scratch: &scratch) { value in
          guard let p = value.baseAddress?.assumingMemoryBound(to: UInt8.self), value.count > 0 else { return }
          let hasComma = value.contains(UInt8(ascii: ","))
          let hasPoint = value.contains(UInt8(ascii: "."))
          if hasComma && !hasPoint, CSVNumberParser.parse(value, decimal: UInt8(ascii: ",")) != .invalid,
            CSVNumberParser.parse(value) == .invalid
          {
            comma += 1
          } else if hasPoint && !hasComma, CSVNumberParser.parseNumber(p, value.count) != nil {
            point += 1
          }
        }
      }
    }
    return comma > 0 && comma > point ? (comma, point) : nil
  }

  /// Whether a record is a header: at least one field is neither a number (Inf included) nor an NA
  /// token. A row of numbers with missing values (`1,,NA,3`) is data; so is an empty row.
  static func looksLikeHeader(_ base: UnsafePointer<UInt8>, fields: CSVFieldSpans, decimal: UInt8) -> Bool {
    var scratch: [UInt8] = []
    for k in 0..<fields.count {
      let value = CSVTokenizer.withValue(of: k, in: base, fields: fields, scratch: &scratch) {
        CSVNumberParser.parse($0, decimal: decimal)
      }
      if value == .invalid { return true }
    }
    return false
  }

  /// Resolves `--label-column` / `--text-columns` entries: a header name first, else a 0-based index.
  static func resolveColumn(_ spec: String, names: [String], hasHeader: Bool, option: String, path: String) throws
    -> Int
  {
    if hasHeader, let i = names.firstIndex(of: spec) { return i }
    let trimmed = spec.trimmingSpaces
    if let i = Int(trimmed), i >= 0, i < names.count { return i }
    let shown = names.prefix(20).map { "'\($0.messageName)'" }.joined(separator: ", ") + (names.count > 20 ? ", ..." : "")
    if hasHeader {
      throw DatasanError(
        path: path,
        "\(option) '\(spec.messageName)' is neither a column name nor a 0-based column index; the \(names.count) columns are \(shown)"
      )
    }
    throw DatasanError(
      path: path,
      "\(option) '\(spec.messageName)' is not a 0-based column index below \(names.count) (the file has no header)")
  }
}

extension String {
  var trimmingSpaces: String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
    while let l = s.last, l == " " || l == "\t" { s.removeLast() }
    return String(s)
  }
}

/// A short, printable form of a field value for messages: at most `limit` characters (an ellipsis
/// when cut), control characters escaped (line endings shown as `\n`, `\r`). Only the first bytes
/// of the field are decoded, so a huge field costs no more than a short one.
func shortValue(_ bytes: UnsafeRawBufferPointer, limit: Int = 40) -> String {
  String(decoding: bytes.prefix(4 * limit + 4), as: UTF8.self).oneLine(limit: limit)
}
