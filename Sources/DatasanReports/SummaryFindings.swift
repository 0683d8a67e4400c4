import DatasanCore

/// The findings part of the text summary, short on any data: per kind at most a few lines, then one
/// line counting the rest (the JSON and HTML reports list every finding).
enum SummaryFindings {
  /// Lines of one dataset kind before the rest are counted.
  static let datasetLinesPerKind = 3
  /// Group names a collapsed line names before counting the rest.
  static let namesPerLine = 3

  /// "    ... and 4,090 more (see --report)".
  static func more(_ n: Int) -> String { "    ... and \(n.withSeparators) more (see --report)" }

  /// The dataset findings, kind by kind in the order they were reported. Findings of one kind and
  /// severity that say the same about several groups (the detail after the group's name is the same:
  /// 4,000 pixel columns constant at 0) collapse into one line naming a few of them.
  static func datasetLines(_ findings: [Finding]) -> [String] {
    var kinds: [FindingKind] = []
    var byKind: [FindingKind: [Finding]] = [:]
    for f in findings {
      if byKind[f.kind] == nil { kinds.append(f.kind) }
      byKind[f.kind, default: []].append(f)
    }
    var lines: [String] = []
    for kind in kinds {
      let entries = collapse(byKind[kind]!)
      for e in entries.prefix(datasetLinesPerKind) {
        lines.append("  \(kind.rawValue) (\(e.severity.rawValue)): \(e.text.oneLine())")
      }
      let hidden = entries.dropFirst(datasetLinesPerKind).reduce(0) { $0 + $1.count }
      if hidden > 0 { lines.append(more(hidden)) }
    }
    return lines
  }

  /// One line of the summary: the findings it stands for.
  struct Entry {
    var severity: Severity
    var text: String
    var count: Int
  }

  /// The findings of one kind as lines: those about a group (``Finding/field``, whose detail starts
  /// with its name) with the same rest of the detail and severity make one line.
  static func collapse(_ findings: [Finding]) -> [Entry] {
    struct Pending {
      var severity: Severity
      var rest: String?
      var names: [String]
      var detail: String
    }
    var pending: [Pending] = []
    var index: [String: Int] = [:]  // severity + rest -> its entry
    for f in findings {
      if let field = f.field, !field.isEmpty, f.detail.hasPrefix(field.messageName + " ") {
        let rest = String(f.detail.dropFirst(field.messageName.count + 1))
        let key = f.severity.rawValue + "\u{0}" + rest
        if let k = index[key] {
          pending[k].names.append(field.messageName)
          continue
        }
        index[key] = pending.count
        pending.append(Pending(severity: f.severity, rest: rest, names: [field.messageName], detail: f.detail))
      } else {
        pending.append(Pending(severity: f.severity, rest: nil, names: [], detail: f.detail))
      }
    }
    return pending.map { p in
      guard let rest = p.rest, p.names.count > 1 else { return Entry(severity: p.severity, text: p.detail, count: 1) }
      let shown = p.names.prefix(namesPerLine)
      let names =
        p.names.count <= namesPerLine
        ? shown.dropLast().joined(separator: ", ") + " and " + shown.last!
        : shown.joined(separator: ", ") + " and \((p.names.count - namesPerLine).withSeparators) more"
      return Entry(
        severity: p.severity, text: "\(p.names.count.withSeparators) groups (\(names)), each: \(rest)", count: p.names.count)
    }
  }
}
