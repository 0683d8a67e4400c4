import DatasanCore
import Testing

/// Text read from a file (column names, keys, dataset names, paths) printed in a message stays on
/// one line and, for names, short.
@Suite struct MessageTextTests {
  @Test func controlCharactersAreEscaped() {
    #expect("a\nb\rc\td".oneLine() == "a\\nb\\rc\\td")
    #expect("\u{1B}[31m\u{7F}\u{0}\u{85}\u{2028}".oneLine() == "\\u{1B}[31m\\u{7F}\\u{0}\\u{85}\\u{2028}")
    #expect("plain text, é ✓".oneLine() == "plain text, é ✓")
  }

  @Test func namesAreCutWithAnEllipsis() {
    let long = String(repeating: "n", count: 100_000)
    #expect(long.messageName == String(repeating: "n", count: String.messageNameLimit) + "…")
    #expect(("x\n" + long).messageName.hasPrefix("x\\nnnn"))
    #expect(("x\n" + long).messageName.unicodeScalars.count == String.messageNameLimit + 2)  // \n is two
    #expect("short".messageName == "short")
  }

  @Test func datasanErrorIsOneLine() {
    let e = DatasanError(path: "dir\nname/file.csv", "column 'a\r\nb' is odd\n")
    #expect(e.description == "dir\\nname/file.csv: column 'a\\r\\nb' is odd\\n")
    #expect(!e.description.contains("\n") && !e.description.contains("\r"))
    #expect(DatasanError("tab\there").description == "tab\\there")
  }
}
