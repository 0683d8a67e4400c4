import DatasanCore

/// How the first data rows of each column parse: what types a column, as pandas' `read_csv` would
/// (a column with any value that is neither a number nor an NA token is text, object dtype), and
/// what the reports say about why.
struct ColumnTypeTally {
  /// Values that parse as numbers (Inf included).
  var numbers: [Int]
  /// Values that are not NA tokens (numbers and text).
  var nonMissing: [Int]
  /// Per column: the first value that is not a number, with its line (for error messages).
  var firstInvalid: [(line: Int, value: String)?]
  /// Per column: up to ``examplesKept`` distinct values that are not numbers, in order of appearance,
  /// and whether there were more distinct ones.
  var examples: [[String]]
  var moreExamples: [Bool]

  static let examplesKept = 3

  init(columns: Int) {
    numbers = Array(repeating: 0, count: columns)
    nonMissing = Array(repeating: 0, count: columns)
    firstInvalid = Array(repeating: nil, count: columns)
    examples = Array(repeating: [], count: columns)
    moreExamples = Array(repeating: false, count: columns)
    placeholders = Array(repeating: 0, count: columns)
    placeholder = Array(repeating: nil, count: columns)
  }

  /// Counts one value of `column` (on line `line`) as `parse` read it.
  mutating func add(_ value: UnsafeRawBufferPointer, _ parsed: CSVFieldValue, column c: Int, line: Int) {
    switch parsed {
    case .number:
      numbers[c] += 1
      nonMissing[c] += 1
    case .missing: break
    case .invalid:
      nonMissing[c] += 1
      let shown = shortValue(value)
      if firstInvalid[c] == nil { firstInvalid[c] = (line, shown) }
      if Self.isPlaceholder(shown) {
        placeholders[c] += 1
        if placeholder[c] == nil { placeholder[c] = shown }
      } else if !examples[c].contains(shown) {
        if examples[c].count < Self.examplesKept { examples[c].append(shown) } else { moreExamples[c] = true }
      }
    }
  }

  /// Per column: values that stand for a missing value without being an NA token of pandas (`?`),
  /// and the first of them.
  var placeholders: [Int] = []
  var placeholder: [String?] = []

  /// A value that says "missing" without being an NA token: no letter or digit (`?`, `-`, `.`, `*`),
  /// or a word that says so (`missing`, `unknown`).
  static func isPlaceholder(_ token: String) -> Bool {
    let t = token.trimmingSpaces
    if t.isEmpty || t.count > 16 { return false }
    if ["missing", "unknown", "undefined", "n.a.", "na.", "nil", "empty", "not available"].contains(t.lowercased()) {
      return true
    }
    return !t.unicodeScalars.contains { $0.properties.isAlphabetic || ("0"..."9").contains($0) }
  }

  /// Values that are neither numbers nor NA tokens.
  func texts(_ c: Int) -> Int { nonMissing[c] - numbers[c] }

  /// Text values that are no placeholder.
  func realTexts(_ c: Int) -> Int { texts(c) - placeholders[c] }

  /// A column of numbers whose text values are placeholders for missing values, or at most as many as
  /// the numbers: a column meant as numbers (a column without any value counts). It is a feature when
  /// no value is text, else a mixed column.
  func isMostlyNumeric(_ column: Int) -> Bool {
    numbers[column] > 0 ? realTexts(column) <= numbers[column] : texts(column) == 0
  }

  /// "'PC 17609', 'A/5 21171', ..."
  func exampleList(_ c: Int) -> String {
    examples[c].map { "'\($0)'" }.joined(separator: ", ") + (moreExamples[c] ? ", ..." : "")
  }
}

/// The words of the column typing: each column's reason, and the `mixed_column` findings.
enum CSVColumnTyping {
  /// "1,309"
  static func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(ch)
    }
    return (n < 0 ? "-" : "") + out
  }

  /// `--text-columns NAME` for a column: its name when a shell word takes it as it is, quoted when
  /// it has spaces or commas, its 0-based index when it is long or has quotes or control characters.
  static func textColumnsOption(_ name: String, _ c: Int) -> String {
    if name.messageName != name || name.contains("'") || name.isEmpty || Int(name) != nil { return "--text-columns \(c)" }
    return "--text-columns " + (name.contains(",") || name.contains(" ") ? "'\(name)'" : name)
  }

  /// Why a column read as numbers is a feature.
  static func featureReason(_ t: ColumnTypeTally, _ c: Int, rows: Int) -> String {
    let missing = rows - t.nonMissing[c]
    if t.numbers[c] == 0 { return "no value in the first \(grouped(rows)) rows (pandas: float64 of NaN)" }
    return "numbers in the first \(grouped(rows)) rows" + (missing > 0 ? " (\(grouped(missing)) missing)" : "")
  }

  /// Why a column is text (not forced): mostly text, or mixed (then `finding` is `mixed_column`).
  static func textReason(_ t: ColumnTypeTally, _ c: Int) -> String {
    let n = t.realTexts(c)
    let p = t.placeholders[c]
    let missing = t.placeholder[c].map { "\(grouped(p)) '\($0)' (a placeholder for missing values)" }
    if t.isMostlyNumeric(c) {
      if n == 0, let missing {
        return "numbers and \(missing): pandas reads it as text"
      }
      return "mostly numbers, but \(grouped(n)) of \(grouped(t.nonMissing[c])) values are text "
        + "(\(t.exampleList(c)))\(missing.map { ", and \($0)" } ?? ""): pandas reads it as text"
    }
    if n == 0 { return "no number: \(missing ?? "") only" }
    return "text: \(grouped(n)) of \(grouped(t.nonMissing[c])) values are not numbers (\(t.exampleList(c)))"
      + (missing.map { ", and \($0)" } ?? "")
  }

  /// The `mixed_column` finding of a mostly numeric column typed text, whose values are text on
  /// `rows` rows of the file.
  static func mixedFinding(name: String, _ t: ColumnTypeTally, _ c: Int, rows: Int, placeholderRows: Int) -> Finding {
    var rows = rows
    var placeholderRows = placeholderRows
    if t.realTexts(c) == 0 {
      // The words that say "missing" are counted as text by the parsers.
      placeholderRows += rows
      rows = 0
    }
    let n = grouped(t.realTexts(c) == 0 ? placeholderRows : rows)
    let option = textColumnsOption(name, c)
    if t.realTexts(c) == 0, let p = t.placeholder[c] {
      return Finding(
        kind: .mixedColumn, severity: .error, field: name,
        detail: "column '\(name.messageName)': \(n) row\(placeholderRows == 1 ? " holds" : "s hold") '\(p)', a placeholder for "
          + "missing values, the rest numbers; pandas reads it as text (na_values='\(p)' reads them as NaN); "
          + "if it is a feature, write the missing values as empty fields or NA; if not, pass \(option)")
    }
    let also = t.placeholder[c].map {
      " (and \(grouped(placeholderRows)) row\(placeholderRows == 1 ? "" : "s") '\($0)' for missing values)"
    } ?? ""
    return Finding(
      kind: .mixedColumn, severity: .error, field: name,
      detail: "column '\(name.messageName)': \(n) row\(rows == 1 ? " holds" : "s hold") text such as "
        + "\(t.exampleList(c))\(also), the rest numbers; pandas reads it as text; if it is not a feature, pass \(option)")
  }

  /// The `mixed_column` finding of a column typed numeric by the first rows whose later rows hold
  /// text (those rows are `unreadable`).
  static func lateTextFinding(name: String, _ c: Int, rows: Int, first: (line: Int, value: String), typedOver: Int) -> Finding {
    let option = textColumnsOption(name, c)
    return Finding(
      kind: .mixedColumn, severity: .error, field: name,
      detail: "column '\(name.messageName)': numbers in the first \(grouped(typedOver)) rows, but \(grouped(rows)) "
        + "later row\(rows == 1 ? " holds" : "s hold") text such as '\(first.value)' (line \(first.line))"
        + (ColumnTypeTally.isPlaceholder(first.value) ? ", a placeholder for missing values" : "") + ", unreadable; "
        + "pandas reads it as text; if it is not a feature, pass \(option)")
  }
}
