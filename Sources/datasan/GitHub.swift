import Datasan
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `--annotations github`: GitHub Actions workflow commands for the findings of a report, and
/// its Markdown job summary.
///
/// One `::error` / `::warning` command per finding (errors that fail the gate first, then
/// warnings), at most ``limit``, then one `::notice` saying how many were left out. A finding is
/// an `error` annotation when it fails the gate, a `warning` otherwise (dataset warnings,
/// samples tolerated by max_flagged_fraction). `file=` is the input path; a CSV sample also gets
/// `line=` (its key is its line number), so GitHub marks the line in the file.
enum GitHubAnnotations {
  static let limit = 50

  static func commands(for report: ScanReport) -> [String] {
    let failing = report.failingKinds
    func isError(_ f: Finding) -> Bool { f.severity == .error && failing.contains(f.kind) }
    let ordered = report.issues.filter(isError) + report.issues.filter { !isError($0) }
    var out: [String] = []
    for f in ordered.prefix(limit) {
      var properties = [("title", "datasan \(f.kind.rawValue)"), ("file", report.info.path)]
      if report.info.keysAreLineNumbers, let key = f.key, let line = Int(key), line > 0 {
        properties.append(("line", String(line)))
      }
      var message = f.key.map { "key \($0): " } ?? ""
      if let field = f.field, f.kind.isSampleKind, field != report.info.featureName, !f.detail.hasPrefix(field) {
        message += "\(field): "
      }
      message += f.detail
      out.append(command(isError(f) ? "error" : "warning", properties, message))
    }
    let total = Swift.max(
      report.issues.count, report.counts.filter { !report.policy.ignore.contains($0.key) }.values.reduce(0, +))
    let more = total - out.count
    if more > 0 {
      out.append(
        command(
          "notice", [("title", "datasan")],
          "\(more) more finding\(more == 1 ? "" : "s") not annotated (at most \(limit) annotations, and the report "
            + "lists at most --max-issues); see the job summary or --report"))
    }
    return out
  }

  /// `::name key=value,key=value::message`, escaped as @actions/core escapes them (and the
  /// message's control characters written as escapes, so that a finding stays one annotation line).
  static func command(_ name: String, _ properties: [(String, String)], _ message: String) -> String {
    let props = properties.map { "\($0.0)=\(escapeProperty($0.1))" }.joined(separator: ",")
    return "::\(name)\(props.isEmpty ? "" : " " + props)::\(escapeData(message.oneLine()))"
  }

  static func escapeData(_ s: String) -> String {
    s.replacingAll("%", with: "%25").replacingAll("\r", with: "%0D")
      .replacingAll("\n", with: "%0A")
  }

  static func escapeProperty(_ s: String) -> String {
    escapeData(s).replacingAll(":", with: "%3A").replacingAll(",", with: "%2C")
  }

  // MARK: job summary

  /// The Markdown job summary of a report ($GITHUB_STEP_SUMMARY).
  static func jobSummary(for r: ScanReport) -> String {
    var md: [String] = []
    let verdict = r.passed ? "PASS" : "FAIL"
    md.append("### datasan: \(verdict) — `\(code(r.info.path))` (\(r.info.format.rawValue))")
    md.append("")
    md.append(r.verdictLine.replacingAll("|", with: "\\|"))
    md.append("")
    md.append("| samples | clean | flagged |")
    md.append("| ---: | ---: | ---: |")
    md.append("| \(r.total) | \(r.clean) | \(r.flagged) |")
    let failing = r.failingKinds
    let tolerated = r.toleratedKinds
    let kinds = FindingKind.allCases.filter { (r.counts[$0] ?? 0) > 0 }
    if !kinds.isEmpty {
      md.append("")
      md.append("| finding | count | gate |")
      md.append("| --- | ---: | --- |")
      for kind in kinds {
        let n = r.counts[kind] ?? 0
        let unit = kind.isSampleKind ? "sample\(n == 1 ? "" : "s")" : "finding\(n == 1 ? "" : "s")"
        let gate = failing.contains(kind) ? "**fails**" : tolerated.contains(kind) ? "tolerated" : "warning"
        md.append("| `\(kind.rawValue)` | \(n) \(unit) | \(gate) |")
      }
    }
    let shown = r.issues.prefix(20)
    if !shown.isEmpty {
      md.append("")
      md.append("<details\(r.passed ? "" : " open")><summary>First findings</summary>")
      md.append("")
      md.append("| key | finding | detail |")
      md.append("| --- | --- | --- |")
      for f in shown {
        md.append("| \(f.key.map { "`\(code($0))`" } ?? "") | `\(f.kind.rawValue)` | \(cell(f.detail)) |")
      }
      if r.issues.count > shown.count || r.issuesTruncated { md.append("| | | … more in the JSON report (`--report`) |") }
      md.append("")
      md.append("</details>")
    }
    if !r.policy.isDefault {
      md.append("")
      md.append("Policy: \(cell(r.policy.summary))")
    }
    return md.joined(separator: "\n") + "\n\n"
  }

  /// Text inside a Markdown table cell.
  static func cell(_ s: String) -> String {
    s.oneLine().replacingAll("\\", with: "\\\\").replacingAll("|", with: "\\|")
      .replacingAll("\n", with: " ").replacingAll("<", with: "&lt;")
  }

  /// Text inside a code span.
  static func code(_ s: String) -> String {
    s.oneLine().replacingAll("`", with: "'").replacingAll("|", with: "\\|")
      .replacingAll("\n", with: " ")
  }

  /// Appends the job summary to the file $GITHUB_STEP_SUMMARY names, when it is set.
  static func appendJobSummary(_ report: ScanReport, environment: [String: String] = ProcessInfo.processInfo.environment)
    throws
  {
    guard let path = environment["GITHUB_STEP_SUMMARY"], !path.isEmpty else { return }
    let text = Data(jobSummary(for: report).utf8)
    if !FileManager.default.fileExists(atPath: path) {
      guard FileManager.default.createFile(atPath: path, contents: text) else {
        throw DatasanError(path: path, "cannot write the job summary ($GITHUB_STEP_SUMMARY)")
      }
      return
    }
    // Appended through write(2) (FoundationEssentials has no FileHandle).
    func failure(_ code: Int32) -> DatasanError {
      DatasanError(
        path: path, "cannot append the job summary ($GITHUB_STEP_SUMMARY): \(fileErrorText(POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)))")
    }
    let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
    guard fd >= 0 else { throw failure(errno) }
    defer { close(fd) }
    var bytes = text[...]
    while !bytes.isEmpty {
      let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { throw failure(errno) }
      bytes = bytes.dropFirst(n)
    }
  }
}
