import Testing

@testable import DatasanCore

/// The string helpers that replaced Foundation's (`replacingOccurrences`, `trimmingCharacters(in:
/// .whitespaces)`, `CharacterSet.letters` / `.alphanumerics`, `String(format:)`): the same results.
@Suite struct TextHelpersTests {
  @Test func replacingAllMatchesCodeUnitsLikeFoundation() {
    #expect("a\r\nb".replacingAll("\r", with: "%0D").replacingAll("\n", with: "%0A") == "a%0D%0Ab")
    #expect("num-classes".replacingAll("-", with: "_") == "num_classes")
    #expect("aaa".replacingAll("aa", with: "b") == "ba")
    #expect("".replacingAll("x", with: "y") == "")
    #expect("x".replacingAll("", with: "y") == "x")
    #expect("é|é".replacingAll("|", with: "\\|") == "é\\|é")
  }

  @Test func trimmingWhitespaceIsFoundationsWhitespacesSet() {
    #expect(" \t a b \u{A0}\u{3000}".trimmingWhitespace() == "a b")
    #expect("\na\n".trimmingWhitespace() == "\na\n")  // newlines are not in .whitespaces
    #expect("   ".trimmingWhitespace() == "")
    #expect(Substring(" x ").trimmingWhitespace() == "x")
  }

  @Test func letterAndNumberCategories() {
    #expect(("é" as Unicode.Scalar).isLetterOrMark)
    #expect(("\u{301}" as Unicode.Scalar).isLetterOrMark)  // a combining mark
    #expect(!("1" as Unicode.Scalar).isLetterOrMark && ("1" as Unicode.Scalar).isNumber)
    #expect(("½" as Unicode.Scalar).isNumber && !("-" as Unicode.Scalar).isNumber)
  }

  @Test func yamlQuotingOfControlCharacters() {
    #expect(TemplateEntry.yaml("a\u{1}b") == "\"a\\x01b\"")
    #expect(TemplateEntry.yaml("a\u{1F}") == "\"a\\x1F\"")
    #expect(TemplateEntry.yaml("data/train.h5") == "data/train.h5")
  }

  @Test func progressDurationsPadLikeFormat() {
    #expect(TerminalProgress.duration(75) == "1m15s")
    #expect(TerminalProgress.duration(65) == "1m05s")
    #expect(TerminalProgress.duration(3 * 3600 + 5 * 60) == "3h05m")
    #expect(TerminalProgress.duration(9) == "9s")
  }
}
