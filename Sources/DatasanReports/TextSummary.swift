import DatasanCore
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

/// The short human summary printed on stdout. Every line stays one line: text that comes from the
/// input (paths, keys, names inside details) is written with its control characters escaped
/// (``Swift/String/oneLine(limit:)``).
public enum TextSummary {
  /// Lines of one dataset kind printed before the rest are counted in one line.
  public static var datasetFindingsPerKind: Int { SummaryFindings.datasetLinesPerKind }

  /// The summary of a scan. `command` names what ran ("scan" / "clean"); `fixCommand`
  /// is quoted for dataset warnings.
  public static func render(_ report: ScanReport) -> String { render(report, clean: nil) }

  /// The summary of a `clean`: the scan's findings, what went where, and the input's verdict.
  public static func render(_ report: ScanReport, clean: CleanResult?) -> String {
    var lines: [String] = []
    let r = report
    lines.append("datasan: \(r.info.path.oneLine()) (\(r.info.format.rawValue))")
    let rate = r.seconds > 0 ? String(cFormat: ", %.2f s", r.seconds) : ""
    lines.append("  samples: \(r.total) total, \(r.clean) clean, \(r.flagged) flagged\(rate)")
    lines.append("  labels: \(r.info.labelDescription.oneLine(limit: 200))")
    if let names = r.info.classNames {
      lines.append("  classes: \(names.count) (\(ClassList.list(names).oneLine(limit: 200)))")
    }
    if let sizes = sizesLine(r.sizes) { lines.append(sizes) }
    lines.append(contentsOf: ColumnsText.summaryLines(r.info))
    let sampleKinds = FindingKind.allCases.filter { $0.isSampleKind && (r.counts[$0] ?? 0) > 0 }
    if !sampleKinds.isEmpty {
      lines.append("")
      lines.append("sample errors (moved to the quarantine by `datasan clean`):")
      for kind in sampleKinds {
        let n = r.counts[kind] ?? 0
        lines.append("  \(kind.rawValue): \(n) sample\(n == 1 ? "" : "s")")
        for f in r.examples[kind] ?? [] {
          lines.append("    key \((f.key ?? "?").oneLine()): \(f.detail.oneLine())")
        }
        let more = n - (r.examples[kind]?.count ?? 0)
        if more > 0 { lines.append(SummaryFindings.more(more)) }
      }
    }
    if !r.datasetFindings.isEmpty {
      lines.append("")
      lines.append("dataset findings:")
      // A few lines of each kind: a CSV of 4,096 pixel columns prints a summary, not 4,096 lines.
      lines.append(contentsOf: SummaryFindings.datasetLines(r.datasetFindings))
    }
    lines.append("")
    if let clean {
      lines.append("cleaned:")
      let how = clean.parameters.map { "normalized with \($0.method.rawValue)" + ($0.method == .minmax ? " to [\(DatasetChecks.num($0.range[0])), \(DatasetChecks.num($0.range[1]))]" : "") } ?? "values unchanged"
      lines.append("  \(clean.written) clean sample\(clean.written == 1 ? "" : "s") -> \(clean.output.oneLine()) (\(how))")
      lines.append("  \(clean.quarantined) rejected sample\(clean.quarantined == 1 ? "" : "s") -> \(clean.quarantine.oneLine()) (why: \(clean.quarantine.oneLine()).reasons.jsonl)")
      lines.append("")
      lines.append("input verdict (what `datasan scan` says):")
    }
    if r.passed {
      lines.append("PASS: no error findings")
    } else {
      var why: [String] = []
      if r.flagged > 0 { why.append("\(r.flagged) flagged sample\(r.flagged == 1 ? "" : "s")") }
      let errors = r.datasetFindings.filter { $0.severity == .error && $0.kind.defaultSeverity == .error }.count
      if errors > 0 { why.append("\(errors) dataset error\(errors == 1 ? "" : "s")") }
      let promoted = r.datasetFindings.filter { $0.severity == .error && $0.kind.defaultSeverity != .error }.count
      if promoted > 0 { why.append("\(promoted) dataset finding\(promoted == 1 ? "" : "s") promoted to error") }
      lines.append("FAIL: \(why.joined(separator: ", "))")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// "  sizes: 7 sizes over 12 samples; smallest 3x32x48 (1), largest 3x64x64 (1), most common
  /// 3x40x60 (3), 3x48x48 (2), 3x56x42 (2)": only when the samples' sizes vary.
  static func sizesLine(_ sizes: SizeDistribution) -> String? {
    guard sizes.distinct > 1, let smallest = sizes.smallest, let largest = sizes.largest else { return nil }
    func text(_ s: SizeDistribution.Size) -> String { "\(SizeDistribution.text(s.shape)) (\(s.count))" }
    let common = sizes.mostCommon(3).map(text).joined(separator: ", ")
    return "  sizes: \(sizes.distinct) sizes over \(sizes.samples) decoded samples; smallest \(text(smallest)), "
      + "largest \(text(largest)), most common \(common)"
  }
}
