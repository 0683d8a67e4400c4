import DatasanCore
import DatasanTestSupport
import Foundation
import Testing

@testable import DatasanCSV

@Suite struct ReaderDialectTests {
  /// Checks every value against a naive split of a file without quotes.
  func checkAgainstNaive(_ r: ReadResult, _ path: String, delimiter: Character, header: Bool) throws {
    var rows = try naiveRows(path, delimiter: delimiter)
    if header { rows.removeFirst() }
    #expect(r.count == rows.count)
    for (i, row) in rows.enumerated() where i < r.count {
      for (g, c) in r.layout.featureColumns.enumerated() {
        #expect(r.rows[i][g] == Double(row[c])!, "row \(i) col \(c)")
      }
      if let lc = r.layout.labelColumn { #expect(r.labels![i] == Double(row[lc])!) }
    }
  }

  @Test func commaWithHeader() throws {
    let r = try readAll(fixture("dirty.csv"))
    #expect(r.layout.delimiter == UInt8(ascii: ","))
    #expect(r.layout.header == ["f0", "f1", "f2", "f3", "label"])
    #expect(r.layout.headerLine == Array("f0,f1,f2,f3,label".utf8))
    #expect(r.layout.columnCount == 5)
    #expect(r.layout.featureColumns == [0, 1, 2, 3])
    #expect(r.layout.labelColumn == 4)
    #expect(r.layout.textColumns == [])
    #expect(r.layout.lineEnding == [0x0A])
    #expect(r.info.format == .csv)
    #expect(r.info.sampleCount == nil)
    #expect(r.info.sampleShape == [4])
    #expect(r.info.featureName == "features")
    #expect(r.info.labelName == "label")
    #expect(r.info.groupNames == ["f0", "f1", "f2", "f3"])
    #expect(r.count == 30)
    #expect(r.keys == Array(2...31))
    #expect(r.rows[0] == [-0.2112, -0.5177, 0.1496, -1.7899])
    #expect(r.labels![0] == 0)
  }

  @Test func semicolon() throws {
    let r = try readAll(fixture("semicolon.csv"))
    #expect(r.layout.delimiter == UInt8(ascii: ";"))
    #expect(r.layout.header == ["a", "b", "c", "label"])
    try checkAgainstNaive(r, fixture("semicolon.csv"), delimiter: ";", header: true)
  }

  @Test func tab() throws {
    let r = try readAll(fixture("tab.tsv"))
    #expect(r.layout.delimiter == 0x09)
    #expect(r.info.groupNames == ["a", "b", "c"])
    try checkAgainstNaive(r, fixture("tab.tsv"), delimiter: "\t", header: true)
  }

  @Test func explicitDelimiter() throws {
    let r = try readAll(fixture("semicolon.csv")) { $0.delimiter = UInt8(ascii: ";") }
    #expect(r.info.groupNames == ["a", "b", "c"])
    // Forcing the wrong delimiter: one text column per line, no features.
    let wrong = try readAll(fixture("tab.tsv")) { $0.delimiter = UInt8(ascii: ",") }
    #expect(wrong.layout.columnCount == 1)
    #expect(wrong.layout.featureColumns == [])
    #expect(wrong.layout.textColumns == [0])
    #expect(wrong.info.sampleShape == [0])
    #expect(wrong.count == 10)
    #expect(wrong.problems.isEmpty)
  }

  @Test func crlfAndBOM() throws {
    let r = try readAll(fixture("crlf_bom.csv"))
    #expect(r.layout.header == ["a", "b", "c", "label"])
    #expect(r.layout.headerLine == Array("a,b,c,label".utf8))
    #expect(r.layout.lineEnding == [0x0D, 0x0A])
    #expect(r.keys == Array(2...11))
    #expect(!r.original(0).contains("\r"))
    try checkAgainstNaive(r, fixture("crlf_bom.csv"), delimiter: ",", header: true)
  }

  @Test func loneCR() throws {
    let r = try readAll(fixture("cr.csv"))
    #expect(r.layout.lineEnding == [0x0D])
    #expect(r.keys == [2, 3, 4, 5])
    try checkAgainstNaive(r, fixture("cr.csv"), delimiter: ",", header: true)
  }

  @Test func headerDetectedAbsent() throws {
    let r = try readAll(fixture("noheader.csv"))
    #expect(r.layout.header == nil)
    #expect(r.layout.headerLine == nil)
    #expect(r.info.labelName == nil)
    #expect(r.labels == nil)
    #expect(r.info.groupNames == ["column 0", "column 1", "column 2", "column 3", "column 4"])
    #expect(r.keys == Array(1...10))
    try checkAgainstNaive(r, fixture("noheader.csv"), delimiter: ",", header: false)
  }

  @Test func forcedHeader() throws {
    let r = try readAll(fixture("noheader.csv")) { $0.header = true }
    #expect(r.layout.header == ["-0.7819", "9.545", "-14", "4.3", "2"])
    #expect(r.count == 9)
    #expect(r.keys == Array(2...10))
  }

  @Test func forcedNoHeader() throws {
    let r = try readAll(fixture("dirty.csv")) { $0.header = false }
    #expect(r.layout.header == nil)
    #expect(r.count == 31)
    #expect(r.keys.first == 1)
    // The names row is now a data row whose values are not numbers: every column holds text, as
    // pandas reads it with header=None (object columns), each a mixed_column.
    #expect(r.layout.textColumns == [0, 1, 2, 3, 4] && r.layout.featureColumns.isEmpty)
    #expect(r.problems[0] == nil)
    #expect(r.info.columns.map(\.finding) == Array(repeating: "mixed_column", count: 5))
  }

  @Test func skipRows() throws {
    let r = try readAll(fixture("skiprows.csv")) { $0.skipRows = 2 }
    #expect(r.layout.header == ["a", "b", "label"])
    #expect(r.keys == [4, 5, 6, 7, 8])
    #expect(r.column(0) == [1, 3, 5, 7, 9])
    #expect(r.column(1) == [2, 4, 6, 8, 10])
    #expect(r.labels == [0, 1, 0, 1, 0])
  }

  @Test func headerFieldCountMismatch() {
    let e = thrown(DatasanError.self) { _ = try CSVReader(path: fixture("header_mismatch.csv"), options: ReadOptions()) }
    #expect(e?.path == fixture("header_mismatch.csv"))
    #expect(
      e?.message
        == "header (line 1) has 1 fields but the first data row (line 2) has 3; use --skip-rows 1 or --no-header")
    // The fix it suggests works.
    let r = try? readAll(fixture("header_mismatch.csv")) { $0.skipRows = 1 }
    #expect(r?.count == 2)
    #expect(r?.keys == [3, 4])
  }

  @Test func emptyAndHeaderOnly() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let empty = dir.appendingPathComponent("empty.csv").path
    _ = FileManager.default.createFile(atPath: empty, contents: Data())
    #expect(thrown(DatasanError.self) { _ = try CSVReader(path: empty, options: ReadOptions()) } != nil)
    let blank = dir.appendingPathComponent("blank.csv").path
    _ = FileManager.default.createFile(atPath: blank, contents: Data("\n\r\n\n".utf8))
    #expect(thrown(DatasanError.self) { _ = try CSVReader(path: blank, options: ReadOptions()) } != nil)
    let headerOnly = dir.appendingPathComponent("h.csv").path
    _ = FileManager.default.createFile(atPath: headerOnly, contents: Data("a,b,label\n".utf8))
    let r = try readAll(headerOnly)
    #expect(r.count == 0)
    #expect(r.info.groupNames == ["a", "b"])
    #expect(r.info.labelName == "label")
    #expect(
      thrown(DatasanError.self) { _ = try CSVReader(path: dir.appendingPathComponent("missing.csv").path, options: ReadOptions()) }
        != nil)
    #expect(thrown(DatasanError.self) { _ = try CSVReader(path: dir.path, options: ReadOptions()) } != nil)
  }
}

@Suite struct ReaderColumnTests {
  @Test func quotedRecordsAndLineKeys() throws {
    let r = try readAll(fixture("quoted.csv"))
    #expect(r.keys == [2, 3, 4, 6, 8, 11])
    #expect(r.layout.featureColumns == [0, 2])
    #expect(r.layout.textColumns == [1])
    #expect(r.column(0) == [1, 2, 3, 4, 5, 6])
    #expect(r.column(1) == [1.5, 2.5, 3.5, 4.5, 5.5, 6.5])
    #expect(r.labels == [0, 1, 0, 1, 1, 0])
    #expect(r.problems.isEmpty)
    #expect(r.original(2) == "3,\"two\nlines\",3.5,0")
    #expect(r.original(3) == "4,\"say \"\"hi\"\"\",\"4.5\",1")
    #expect(r.original(5) == "6,plain,6.5,0")
  }

  @Test func textColumnsInferred() throws {
    let r = try readAll(fixture("text_columns.csv"))
    #expect(r.layout.textColumns == [0, 1])
    #expect(r.layout.featureColumns == [2, 3])
    #expect(r.info.groupNames == ["x1", "x2"])
    #expect(r.keys == [2, 3, 4, 6, 7, 8, 9, 10])
    #expect(r.rows[1] == [0.068, 4.099])
    #expect(r.rows[2] == [0.514, -2.374])
    #expect(r.labels == [1, 0, 1, 1, 1, 0, 0, 1])
    #expect(r.problems.isEmpty)
  }

  @Test func textColumnsForced() throws {
    let byName = try readAll(fixture("text_columns.csv")) { $0.textColumns = ["x1"] }
    #expect(byName.layout.featureColumns == [3])
    #expect(byName.layout.textColumns == [0, 1, 2])
    #expect(byName.info.groupNames == ["x2"])
    let byIndex = try readAll(fixture("noheader.csv")) { $0.textColumns = ["0", "3"] }
    #expect(byIndex.layout.featureColumns == [1, 2, 4])
    #expect(
      thrown(DatasanError.self) { _ = try CSVReader(path: fixture("dirty.csv"), options: options { $0.textColumns = ["zz"] }) }
        != nil)
    #expect(
      thrown(DatasanError.self) { _ = try CSVReader(path: fixture("dirty.csv"), options: options { $0.textColumns = ["label"] }) }?
        .message == "the label column 'label' cannot be a text column")
  }

  @Test func labelColumnByName() throws {
    let r = try readAll(fixture("text_columns.csv")) { $0.labelColumn = "x2" }
    #expect(r.layout.labelColumn == 3)
    #expect(r.layout.featureColumns == [2, 4])
    #expect(r.info.labelName == "x2")
    #expect(r.info.groupNames == ["x1", "label"])
    #expect(r.labels?[1] == 4.099)
  }

  @Test func labelColumnByIndex() throws {
    let r = try readAll(fixture("noheader.csv")) { $0.labelColumn = "4" }
    #expect(r.layout.labelColumn == 4)
    #expect(r.info.labelName == "column 4")
    #expect(r.info.sampleShape == [4])
    #expect(r.labels?.prefix(3) == [2, 0, 1])
    #expect(r.rows[0] == [-0.7819, 9.545, -14, 4.3])
    // A header name wins over an index; an index works with a header too.
    let byIndex = try readAll(fixture("dirty.csv")) { $0.labelColumn = "0" }
    #expect(byIndex.info.labelName == "f0")
    // (Its column 'label' holds 'abc' on line 25: text, as pandas reads it.)
    #expect(byIndex.info.groupNames == ["f1", "f2", "f3"])
    #expect(byIndex.layout.textColumns == [4])
  }

  @Test func labelColumnErrors() {
    let unknown = thrown(DatasanError.self) {
      _ = try CSVReader(path: fixture("dirty.csv"), options: options { $0.labelColumn = "target" })
    }
    #expect(unknown?.message.contains("--label-column 'target'") == true)
    #expect(
      thrown(DatasanError.self) { _ = try CSVReader(path: fixture("noheader.csv"), options: options { $0.labelColumn = "5" }) }
        != nil)
    #expect(
      thrown(DatasanError.self) { _ = try CSVReader(path: fixture("noheader.csv"), options: options { $0.labelColumn = "-1" }) }
        != nil)
    let text = thrown(DatasanError.self) {
      _ = try CSVReader(path: fixture("text_columns.csv"), options: options { $0.labelColumn = "id" })
    }
    #expect(
      text?.message
        == "the label column 'id' is text without a repeated value (line 2: 's000'): not class names (8 distinct in 8 rows); "
        + "choose another with --label-column, or give --classes")
  }

  @Test func everyNATokenIsNaN() throws {
    let r = try readAll(fixture("na_tokens.csv"))
    #expect(r.count == 19)
    #expect(r.info.groupNames == ["x", "y"])
    #expect(r.column(0).allSatisfy { $0.isNaN })
    #expect(r.column(1) == (0..<19).map(Double.init))
    #expect(r.problems.isEmpty)
    #expect(r.original(0) == ",0,0")
  }

  @Test func infinities() throws {
    let r = try readAll(fixture("inf_tokens.csv"))
    let inf = Double.infinity
    #expect(r.column(0) == [inf, -inf, inf, inf, -inf, inf, inf, inf, inf, -inf])
    #expect(r.problems.isEmpty)
  }

  @Test func dirtyRows() throws {
    let r = try readAll(fixture("dirty.csv"))
    func at(_ line: Int) -> Int { r.keys.firstIndex(of: line)! }
    #expect(r.problems.count == 2)
    #expect(r.problems[at(22)] == ReaderProblem(.unreadable, "line 22: 4 fields, expected 5"))
    #expect(r.problems[at(25)] == ReaderProblem(.unreadable, "line 25: column 'label' value 'abc' is not a number"))
    for line in [22, 25] {
      #expect(r.rows[at(line)] == [0, 0, 0, 0])
      #expect(r.labels![at(line)].isNaN)
    }
    #expect(r.rows[at(4)][1].isNaN)
    #expect(r.rows[at(7)][0].isNaN)
    #expect(r.rows[at(10)][2].isNaN)
    #expect(r.rows[at(13)][3] == .infinity)
    #expect(r.rows[at(16)][0] == -.infinity)
    #expect(r.rows[at(19)][1] == .infinity)
    #expect(r.labels![at(28)] == -1)
    #expect(r.original(at(22)) == "-0.2132,-0.5015,0.1531,-0.5753")
    let finite = r.rows.enumerated().filter { r.problems[$0.offset] == nil && $0.element.allSatisfy { $0.isFinite } }
    #expect(finite.count == 30 - 2 - 6)
  }

  @Test func unterminatedQuoteAtEnd() throws {
    let r = try readAll(fixture("unterminated.csv"))
    #expect(r.count == 3)
    #expect(r.keys == [2, 3, 4])
    #expect(r.problems.count == 1)
    #expect(r.problems[2]?.detail.hasPrefix("line 4: unterminated quoted field") == true)
    #expect(r.original(2) == "5,\"6,1\n7,8,0")
    #expect(r.rows[2] == [0, 0])
  }

  @Test func invalidUTF8() throws {
    let r = try readAll(fixture("invalid_utf8.csv"))
    // 'x' holds one value that is not a number: text (pandas: object), reported as mixed.
    #expect(r.layout.textColumns == [0, 1])
    #expect(r.count == 3)
    #expect(r.originals[1].prefix(3) == [0xFF, 0xFE, 0xC3])
    #expect(r.problems.isEmpty)
    #expect(r.info.columns[1].reason.contains("'\u{FFFD}'"))
  }

  @Test func whitespaceLinesAreBlank() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("ws.csv").path
    _ = FileManager.default.createFile(atPath: path, contents: Data("a,b\n1,2\n   \n\t\n3, 4 \n \n".utf8))
    let r = try readAll(path)
    #expect(r.keys == [2, 5])
    #expect(r.rows == [[1, 2], [3, 4]])
    #expect(r.original(1) == "3, 4 ")
  }

  @Test func columnsAreTypedAsPandasTypesThem() throws {
    // Any text value makes a column text (pandas: object); a mostly numeric one is mixed_column,
    // a placeholder ('?') named as such; an all-NA column stays numeric (pandas: float64 of NaN).
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("half.csv").path
    _ = FileManager.default.createFile(
      atPath: path, contents: Data("a,b,c,d,e,label\n1,x,?,,1,0\nz,y,2,NA,2,1\n,3,?,,3,0\nNA,w,4,,4,1\n".utf8))
    let r = try readAll(path)
    #expect(r.layout.featureColumns == [3, 4])
    #expect(r.layout.textColumns == [0, 1, 2])
    #expect(r.problems.isEmpty)
    #expect(r.info.columns.map(\.role) == [.text, .text, .text, .feature, .feature, .label])
    #expect(r.info.columns.map(\.finding) == ["mixed_column", nil, "mixed_column", nil, nil, nil])
    #expect(r.info.columns[2].reason == "numbers and 2 '?' (a placeholder for missing values): pandas reads it as text")
    #expect(r.info.columns[3].reason.hasPrefix("no value in the first 4 rows"))
    #expect(r.info.columns[5].reason == "the column named 'label'")
    let reader = try CSVReader(path: path, options: ReadOptions())
    while try reader.nextBatch() != nil {}
    let findings = reader.layoutFindings
    #expect(findings.map(\.field) == ["a", "c"])
    #expect(findings.allSatisfy { $0.kind == .mixedColumn && $0.severity == .error })
    #expect(findings[0].detail == "column 'a': 1 row holds text such as 'z', the rest numbers; pandas reads it as text; if it is not a feature, pass --text-columns a")
    #expect(findings[1].detail.hasPrefix("column 'c': 2 rows hold '?', a placeholder for missing values, the rest numbers"))
  }

  @Test func textAfterTheTypedRowsIsOneMixedColumn() throws {
    // Numbers in the first 1,000 rows, text after: those rows are unreadable, and one finding counts them.
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("late.csv").path
    var text = "a,b\n"
    for i in 0..<3000 { text += i >= 1500 && i % 500 == 0 ? "\(i),n/k\n" : "\(i),\(i % 7)\n" }
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    let reader = try CSVReader(path: path, options: ReadOptions(), blockSize: 4096, workers: 2, minimumPartBytes: 512)
    var problems = 0
    while let b = try reader.nextBatch() { problems += b.problems.count }
    #expect(problems == 3)
    #expect(reader.layoutFindings.map(\.detail) == [
      "column 'b': numbers in the first 1,000 rows, but 3 later rows hold text such as 'n/k' (line 1502), unreadable; "
        + "pandas reads it as text; if it is not a feature, pass --text-columns b"
    ])
  }

  @Test func decimalCommas() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("eu.csv").path
    _ = FileManager.default.createFile(
      atPath: path, contents: Data("a;b;c;label\n1,5;-2,25e3;1.5;0\n\"3,0\";NA;7;1\n12345678901234567890,5;,5;8;0\n".utf8))
    let r = try readAll(path)
    #expect(r.layout.decimal == .comma)
    #expect(r.info.readingNotes.first?.hasPrefix("decimal comma detected (") == true)
    // With a decimal comma, '1.5' is text, as pandas' decimal=',' reads it.
    #expect(r.layout.featureColumns == [0, 1] && r.layout.textColumns == [2])
    #expect(r.column(0) == [1.5, 3.0, 12345678901234567890.5])
    #expect(r.column(1)[0] == -2250 && r.column(1)[1].isNaN && r.column(1)[2] == 0.5)
    // Given: `--decimal .` reads the commas as text.
    let dots = try readAll(path) { $0.decimal = .point }
    #expect(dots.layout.decimal == .point && dots.layout.featureColumns == [2])
    // Not detected with ',' as the delimiter, and refused there.
    let comma = dir.appendingPathComponent("c.csv").path
    _ = FileManager.default.createFile(atPath: comma, contents: Data("a,b\n1,5\n2,5\n".utf8))
    #expect(try readAll(comma).layout.decimal == .point)
    #expect(throws: DatasanError.self) { _ = try readAll(comma) { $0.decimal = .comma } }
  }
}
