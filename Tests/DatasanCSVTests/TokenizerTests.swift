import Testing

@testable import DatasanCSV

@Suite struct TokenizerTests {
  /// Tokenizes all records of `text` (the whole input), returning the unquoted fields and each record's
  /// line-ending count.
  func records(_ text: String, delimiter: UInt8 = UInt8(ascii: ","), chunked: Bool = false) -> [([String], Int, Bool)] {
    let bytes = Array(text.utf8)
    let tokenizer = CSVTokenizer(delimiter: delimiter)
    let fields = CSVFieldSpans(capacity: 1)
    var out: [([String], Int, Bool)] = []
    bytes.withUnsafeBufferPointer { buf in
      let base = buf.baseAddress ?? UnsafePointer(bitPattern: 1)!
      var at = 0
      // With `chunked`, the input is revealed one byte at a time to exercise `incomplete`.
      var visible = chunked ? Swift.min(1, bytes.count) : bytes.count
      while true {
        let result = tokenizer.scanRecord(base, count: visible, at: at, isEOF: visible == bytes.count, into: fields)
        switch result {
        case .end: return
        case .incomplete:
          visible += 1
        case .record(let b):
          let values = (0..<fields.count).map { CSVTokenizer.string(of: $0, in: base, fields: fields) }
          out.append((values, b.lineEndings, b.unterminatedQuote))
          at = b.next
        }
      }
    }
    return out
  }

  @Test func quotingRules() {
    let text = "a,\"b,c\",\"d\"\"e\"\r\n\"multi\nline\",,x\n\"\",\"\"\"\"\n"
    for chunked in [false, true] {
      let r = records(text, chunked: chunked)
      #expect(r.count == 3)
      #expect(r[0].0 == ["a", "b,c", "d\"e"])
      #expect(r[0].1 == 1)
      #expect(r[1].0 == ["multi\nline", "", "x"])
      #expect(r[1].1 == 2)
      #expect(r[2].0 == ["", "\""])
    }
  }

  @Test func lineEndingsAndLastLine() {
    let r = records("1,2\r\n3,4\r5,6\n\n7,8")
    #expect(r.map { $0.0 } == [["1", "2"], ["3", "4"], ["5", "6"], [""], ["7", "8"]])
    #expect(r.map { $0.1 } == [1, 1, 1, 1, 0])
    #expect(records("a,b\r").map { $0.0 } == [["a", "b"]])
  }

  @Test func quoteNotAtFieldStartIsData() {
    #expect(records("a\"b,c\n")[0].0 == ["a\"b", "c"])
    #expect(records(" \"a,b\"\n")[0].0 == [" \"a", "b\""])
    // Bytes after a closing quote continue the field (pandas).
    #expect(records("\"ab\"cd,e\n")[0].0 == ["abcd", "e"])
  }

  @Test func unterminatedQuoteRunsToEnd() {
    for chunked in [false, true] {
      let r = records("1,2\n3,\"4\n5,6\n", chunked: chunked)
      #expect(r.count == 2)
      #expect(r[1].0 == ["3", "4\n5,6\n"])
      #expect(r[1].2)
    }
  }

  @Test func otherDelimiters() {
    #expect(records("a;b;\"c;d\"\n", delimiter: UInt8(ascii: ";"))[0].0 == ["a", "b", "c;d"])
    #expect(records("a\tb\t\"c\td\"\n", delimiter: 0x09)[0].0 == ["a", "b", "c\td"])
  }

  @Test func manyFields() {
    let line = (0..<1000).map(String.init).joined(separator: ",") + "\n"
    let r = records(line)
    #expect(r[0].0.count == 1000)
    #expect(r[0].0[999] == "999")
  }

  @Test func delimiterDetection() {
    func detect(_ s: String) -> UInt8 {
      let b = Array(s.utf8)
      return b.withUnsafeBufferPointer { CSVDialect.detectDelimiter($0.baseAddress!, count: b.count, isEOF: true) }
    }
    #expect(detect("a,b,c\n1,2,3\n") == UInt8(ascii: ","))
    #expect(detect("a;b;c\n1,5;2,5;3\n1;2;3\n") == UInt8(ascii: ";"))
    #expect(detect("a\tb\n1\t2\n") == 0x09)
    #expect(detect("\"x,y\";b\n\"1,2\";3\n") == UInt8(ascii: ";"))
    #expect(detect("single\n1\n2\n") == UInt8(ascii: ","))
  }
}
