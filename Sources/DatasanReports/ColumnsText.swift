import DatasanCore

/// What the reports say about a table's columns (``DatasetInfo/columns``): how each was typed and why.
enum ColumnsText {
  /// Text columns listed one per line in the summary before the rest are counted.
  static let textLinesShown = 12
  /// Columns the HTML report's table lists (the page stays small on any table).
  static let htmlRows = 500
  /// Feature names shown in the summary's one line about the features.
  static let featureNamesShown = 8

  /// The summary's lines (indented by two spaces); empty when the input has no columns.
  static func summaryLines(_ info: DatasetInfo) -> [String] {
    let columns = info.columns
    var lines: [String] = info.readingNotes.map { "  \($0.oneLine())" }
    guard !columns.isEmpty else { return lines }
    let features = columns.filter { $0.role == .feature }
    let texts = columns.filter { $0.role == .text }
    let names = features.prefix(featureNamesShown).map { $0.name.messageName }.joined(separator: ", ")
      + (features.count > featureNamesShown ? ", ..." : "")
    lines.append(
      "  columns: \(features.count) feature\(features.count == 1 ? "" : "s")"
        + (features.isEmpty ? "" : " (\(names))") + ", \(texts.count) text")
    if let label = columns.first(where: { $0.role == .label }) {
      lines.append("    label '\(label.name.messageName)': \(label.reason.oneLine())")
    } else {
      lines.append("    label: none, labels not checked (--label-column names one)")
    }
    for t in texts.prefix(textLinesShown) {
      lines.append("    text '\(t.name.messageName)': \(t.reason.oneLine())")
    }
    if texts.count > textLinesShown {
      lines.append("    ... \(texts.count - textLinesShown) more text columns (all in --report / --html)")
    }
    return lines
  }

  /// The JSON report's `columns` member.
  static func json(_ info: DatasetInfo) -> JSONValue {
    .array(
      info.columns.map { c in
        var members: [(String, JSONValue)] = [
          ("name", .string(c.name)), ("role", .string(c.role.rawValue)), ("reason", .string(c.reason)),
        ]
        if let finding = c.finding { members.append(("finding", .string(finding))) }
        return .object(members)
      })
  }

  /// The HTML report's table of columns.
  static func html(_ info: DatasetInfo) -> String {
    guard !info.columns.isEmpty || !info.readingNotes.isEmpty else { return "" }
    var html = "<section id=\"columns\">\n<h2>Columns</h2>\n"
    for note in info.readingNotes { html += "<p class=\"note\">\(HTMLReport.escape(note))</p>\n" }
    if !info.columns.isEmpty {
      if !info.columns.contains(where: { $0.role == .label }) {
        html += "<p class=\"note\">No label column: labels not checked.</p>\n"
      }
      html += "<table class=\"columns\"><thead><tr><th>column</th><th>role</th><th>why</th></tr></thead><tbody>\n"
      for c in info.columns.prefix(htmlRows) {
        let cls = c.finding != nil ? " class=\"error\"" : ""
        html += "<tr\(cls)><td>\(HTMLReport.escape(c.name))</td><td>\(c.role.rawValue)</td>"
        html += "<td>\(HTMLReport.escape(c.reason))"
        if let finding = c.finding { html += " <span class=\"kind\">\(HTMLReport.escape(finding))</span>" }
        html += "</td></tr>\n"
      }
      html += "</tbody></table>\n"
      if info.columns.count > htmlRows {
        html += "<p class=\"note\">... and \(HTMLPage.count(info.columns.count - htmlRows)) more columns (all in --report).</p>\n"
      }
    }
    return html + "</section>\n"
  }
}
