import DatasanCore

/// One line of a `--list` file in Caffe's convert_imageset layout: `relative/path.png LABEL`.
struct ListLine: Equatable {
  /// 1-based line number in the list file.
  var line: Int
  /// The path, relative to the image root (everything before the last run of spaces or tabs).
  var path: [UInt8]
  /// The label, or nil when the line has none or it is not an integer.
  var label: Int?
  /// Why the line is `unreadable`, when it is.
  var problem: String?
}

/// Parses a convert_imageset list.
///
/// The label is the text after the last run of spaces or tabs, and must be a base-10 integer
/// (`+`/`-` allowed): where Caffe's `atoi` reads a missing or non-numeric label as 0, such a line
/// here becomes an `unreadable` sample. Each line is trimmed of surrounding blanks (spaces, tabs, a
/// `\r`) before the path and the label are split, and a UTF-8 byte order mark at the start of the
/// file is dropped (lists written on Windows); blank lines are skipped; paths may contain spaces. A path that is absolute or climbs out of the image
/// folder (`../x`, `a/../../x`) is `unreadable` and never opened.
enum ListFile {
  static func parse(_ data: [UInt8]) -> [ListLine] {
    var result: [ListLine] = []
    var lineNumber = 0
    // A UTF-8 byte order mark (Notepad's) is not part of the first path.
    var start = data.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    while start < data.count {
      var end = start
      while end < data.count && data[end] != UInt8(ascii: "\n") { end += 1 }
      lineNumber += 1
      if let line = parseLine(data[start..<end], number: lineNumber) { result.append(line) }
      start = end + 1
    }
    return result
  }

  private static func isBlank(_ b: UInt8) -> Bool {
    b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r")
  }

  private static func parseLine(_ raw: ArraySlice<UInt8>, number: Int) -> ListLine? {
    var begin = raw.startIndex
    var end = raw.endIndex
    while end > begin && isBlank(raw[end - 1]) { end -= 1 }
    while begin < end && isBlank(raw[begin]) { begin += 1 }
    let text = raw[begin..<end]
    if text.isEmpty { return nil }
    guard let lastBlank = text.lastIndex(where: isBlank) else {
      return ListLine(
        line: number, path: Array(text), label: nil,
        problem: "list line \(number): no label after the path")
    }
    // The text starts with no blank: the path before the last run of blanks is never empty.
    var pathEnd = lastBlank
    while pathEnd > text.startIndex && isBlank(text[pathEnd - 1]) { pathEnd -= 1 }
    let path = Array(text[text.startIndex..<pathEnd])
    let labelText = String(decoding: text[(lastBlank + 1)...], as: UTF8.self)
    if RawFileSystem.leavesFolder(path) {
      return ListLine(
        line: number, path: path, label: Int(labelText),
        problem: "list line \(number): path '\(String(decoding: path, as: UTF8.self).messageName)' is absolute or "
          + "climbs out of the image folder: not read")
    }
    guard let label = Int(labelText) else {
      return ListLine(
        line: number, path: path, label: nil,
        problem: "list line \(number): label '\(labelText)' is not an integer")
    }
    return ListLine(line: number, path: path, label: label, problem: nil)
  }
}
