/// Text inside HTML or XML, in element content or in an attribute value in double quotes: the
/// five special characters as entities (`'` as `apostrophe`: HTML has no `&apos;` before HTML5),
/// tab, newline and carriage return kept, every other control character (which XML 1.0 forbids
/// even escaped) replaced by U+FFFD.
enum MarkupEscaping {
  static func escape(_ s: String, apostrophe: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for u in s.unicodeScalars {
      switch u {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += apostrophe
      case "\n", "\t", "\r": out.unicodeScalars.append(u)
      default:
        if u.value < 0x20 || u.value == 0x7F || (0x80..<0xA0).contains(u.value) {
          out += "\u{FFFD}"
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    return out
  }
}
