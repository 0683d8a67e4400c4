// What datasan used of Foundation's string API, in the standard library's terms (FoundationEssentials
// has neither `trimmingCharacters(in:)` nor `CharacterSet`).

extension Unicode.Scalar {
  /// Unicode general category Zs or a tab: Foundation's `CharacterSet.whitespaces`.
  public var isBlank: Bool {
    self == "\t" || properties.generalCategory == .spaceSeparator
  }

  /// General category L* or M*: Foundation's `CharacterSet.letters`.
  public var isLetterOrMark: Bool {
    switch properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
      .nonspacingMark, .spacingMark, .enclosingMark:
      return true
    default: return false
    }
  }

  /// General category N*: with ``isLetterOrMark``, Foundation's `CharacterSet.alphanumerics`.
  public var isNumber: Bool {
    switch properties.generalCategory {
    case .decimalNumber, .letterNumber, .otherNumber: return true
    default: return false
    }
  }
}

extension StringProtocol {
  /// Without the blanks (``Unicode/Scalar/isBlank``) at either end: Foundation's
  /// `trimmingWhitespace()`.
  public func trimmingWhitespace() -> String {
    let scalars = String(self).unicodeScalars
    guard let first = scalars.firstIndex(where: { !$0.isBlank }) else { return "" }
    let last = scalars.lastIndex(where: { !$0.isBlank })!
    return String(String.UnicodeScalarView(scalars[first...last]))
  }
}

extension StringProtocol {
  /// Every occurrence of `target` replaced by `replacement`, matched code unit by code unit as
  /// Foundation's `replacingOccurrences(of:with:)` does: "\r" is found inside "\r\n" (the standard
  /// library's `replacing(_:with:)` compares Characters, and "\r\n" is one Character).
  public func replacingAll(_ target: String, with replacement: String) -> String {
    let t = Array(target.utf8)
    let s = Array(utf8)
    guard let first = t.first, s.count >= t.count else { return String(self) }
    var out: [UInt8] = []
    out.reserveCapacity(s.count)
    var i = 0
    while i < s.count {
      if s[i] == first && i + t.count <= s.count && s[i..<(i + t.count)].elementsEqual(t) {
        out.append(contentsOf: replacement.utf8)
        i += t.count
      } else {
        out.append(s[i])
        i += 1
      }
    }
    return String(decoding: out, as: UTF8.self)
  }
}
