import Testing

@testable import DatasanPNG

/// Parsing of convert_imageset list files.
@Suite struct ListFileTests {
  func parse(_ text: String) -> [ListLine] { ListFile.parse(Array(text.utf8)) }

  @Test func labelIsAfterTheLastRunOfBlanks() {
    let lines = parse("a b.png \t 3\r\nc.png\t+4  \n\n  \nd.png -2")
    #expect(lines.map { String(decoding: $0.path, as: UTF8.self) } == ["a b.png", "c.png", "d.png"])
    #expect(lines.map(\.label) == [3, 4, -2])
    #expect(lines.map(\.line) == [1, 2, 5])
    #expect(lines.allSatisfy { $0.problem == nil })
  }

  @Test func missingOrNonIntegerLabelsAreProblems() {
    let lines = parse("a.png\nb.png 1e3\nc.png 0x10\nd.png 99999999999999999999999\n 7\n")
    #expect(lines.map(\.label) == [nil, nil, nil, nil, nil])
    #expect(lines[0].problem == "list line 1: no label after the path")
    #expect(lines[1].problem == "list line 2: label '1e3' is not an integer")
    #expect(lines[3].problem == "list line 4: label '99999999999999999999999' is not an integer")
    // Trimmed first: " 7" is a path without a label.
    #expect(lines[4].problem == "list line 5: no label after the path")
  }

  /// Lines are trimmed of surrounding blanks before the path and the label are split (an indented
  /// list, a Windows list with CRLF and a byte order mark).
  @Test func linesAreTrimmedBeforeSplitting() {
    let lines = parse("\u{FEFF}  a.png 1\r\n\t b c.png\t2 \r\n \r\n   d.png   3   ")
    #expect(lines.map { String(decoding: $0.path, as: UTF8.self) } == ["a.png", "b c.png", "d.png"])
    #expect(lines.map(\.label) == [1, 2, 3])
    #expect(lines.allSatisfy { $0.problem == nil })
  }

  @Test func pathsLeavingTheRootAreProblemsNotFiles() {
    let lines = parse("../../../../etc/passwd 1\n/etc/hostname 2\na/../../x.png 3\na/../b.png 4\n./c/./d.png 5\n")
    #expect(lines.map(\.label) == [1, 2, 3, 4, 5])
    #expect(
      lines[0].problem
        == "list line 1: path '../../../../etc/passwd' is absolute or climbs out of the image folder: not read")
    #expect(lines[1].problem?.hasPrefix("list line 2: path '/etc/hostname' is absolute") == true)
    #expect(lines[2].problem?.hasPrefix("list line 3: path 'a/../../x.png' is absolute") == true)
    #expect(lines[3].problem == nil)
    #expect(lines[4].problem == nil)
  }
}
