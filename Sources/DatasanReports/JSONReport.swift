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

/// The `--report FILE` JSON of SPEC.md (schema `datasan-report/1`).
public enum JSONReport {
  public static let schema = "datasan-report/1"

  /// The report as a JSON value, with exactly the fields of SPEC.md.
  public static func value(of report: ScanReport, version: String) -> JSONValue {
    var counts: [(String, JSONValue)] = []
    for kind in FindingKind.allCases
    where !report.policy.ignore.contains(kind) && (kind.isSampleKind || (report.counts[kind] ?? 0) > 0) {
      counts.append((kind.rawValue, .int(report.counts[kind] ?? 0)))
    }
    let issues: [JSONValue] = report.issues.map { f in
      var members: [(String, JSONValue)] = [("kind", .string(f.kind.rawValue)), ("severity", .string(f.severity.rawValue))]
      if let index = f.index { members.append(("index", .int(index))) }
      if let key = f.key { members.append(("key", .string(key))) }
      if let field = f.field { members.append(("field", .string(field))) }
      members.append(("detail", .string(f.detail)))
      return .object(members)
    }
    let groups: [JSONValue] = report.groupStats.map { g in
      .object([
        ("name", .string(g.name)), ("count", .int(g.values.count)),
        ("min", g.values.count > 0 ? .number(g.values.min) : .null),
        ("max", g.values.count > 0 ? .number(g.values.max) : .null),
        ("mean", g.values.count > 0 ? .number(g.values.mean) : .null),
        ("std", g.values.count > 0 ? .number(g.values.std) : .null),
      ])
    }
    var stats: [(String, JSONValue)] = [("groups", .array(groups))]
    if let labels = report.labelStats {
      let histogram = labels.histogram.sorted { $0.key < $1.key }.map { (String($0.key), JSONValue.int($0.value)) }
      var members: [(String, JSONValue)] = [
        ("min", labels.values.count > 0 ? .number(labels.values.min) : .null),
        ("max", labels.values.count > 0 ? .number(labels.values.max) : .null),
        ("histogram", .object(histogram)),
      ]
      if let names = report.info.classNames {
        // The class list (label i is classes[i]) and the clean samples of each class by name.
        members.append(("classes", .array(names.map { .string($0) })))
        let counts = labels.histogram
        members.append((
          "class_counts", .object(names.enumerated().map { ($1, JSONValue.int(counts[Int64($0)] ?? 0)) })
        ))
      }
      stats.append(("labels", .object(members)))
    }
    if report.sizes.distinct > 0 { stats.append(("sizes", sizesValue(report.sizes))) }
    // Additive members: how a table was read (`reading_notes`) and typed (`columns`).
    var input: [(String, JSONValue)] = [
      ("path", .string(report.info.path)), ("format", .string(report.info.format.rawValue)),
    ]
    // Additive: where the labels come from ("source": null without labels) and how they are stored.
    input.append((
      "labels",
      .object([
        ("source", report.info.labelName == nil ? .null : .string(report.info.labelDescription)),
        ("encoding", report.info.labelName == nil ? .null : .string(report.info.labelEncoding.name)),
        ("checked", .bool(report.info.labelName != nil)),
      ])
    ))
    if !report.info.readingNotes.isEmpty {
      input.append(("reading_notes", .array(report.info.readingNotes.map { .string($0) })))
    }
    var members: [(String, JSONValue)] = [
      ("schema", .string(schema)),
      ("tool", .object([("name", .string("datasan")), ("version", .string(version))])),
      ("input", .object(input)),
      ("samples", .object([("total", .int(report.total)), ("clean", .int(report.clean)), ("flagged", .int(report.flagged))])),
      ("counts", .object(counts)),
      ("issues", .array(issues)),
      ("issues_truncated", .bool(report.issuesTruncated)),
      ("stats", .object(stats)),
    ]
    if !report.info.columns.isEmpty { members.append(("columns", ColumnsText.json(report.info))) }
    // Only when a policy is in effect (datasan.yml / --fail-on / --ignore / --max-flagged-fraction).
    if !report.policy.isDefault {
      let p = report.policy
      members.append((
        "policy",
        .object([
          ("fail_on", .array(p.failOn.sorted().map { .string($0.rawValue) })),
          ("ignore", .array(p.ignore.sorted().map { .string($0.rawValue) })),
          ("max_flagged_fraction", .number(p.maxFlaggedFraction)),
        ])
      ))
    }
    members.append(("passed", .bool(report.passed)))
    return .object(members)
  }
}

extension JSONReport {
  /// How many of the most common sizes `stats.sizes.most_common` lists.
  public static let mostCommonSizes = 10

  /// `stats.sizes`: the distribution of the decoded samples' shapes (flagged or not): how many
  /// distinct shapes, over how many samples, the smallest and the largest (by values per sample)
  /// and the most common, each as `{"shape": [C, H, W], "count": N}`.
  static func sizesValue(_ sizes: SizeDistribution) -> JSONValue {
    func size(_ s: SizeDistribution.Size) -> JSONValue {
      .object([("shape", .array(s.shape.map { .int($0) })), ("count", .int(s.count))])
    }
    var members: [(String, JSONValue)] = [("distinct", .int(sizes.distinct)), ("samples", .int(sizes.samples))]
    if let smallest = sizes.smallest, let largest = sizes.largest {
      members.append(("smallest", size(smallest)))
      members.append(("largest", size(largest)))
    }
    members.append(("most_common", .array(sizes.mostCommon(mostCommonSizes).map(size))))
    return .object(members)
  }
}

/// The `--junit FILE` XML: one test case per kind, failed when that kind has an `error` finding.
public enum JUnitReport {
  public static func xml(of report: ScanReport) -> String {
    var cases: [String] = []
    var failures = 0
    // The kinds that fail the gate under the report's policy; ignored kinds get no test case.
    let errorKinds = report.failingKinds
    let tolerated = report.toleratedKinds
    for kind in FindingKind.allCases where !report.policy.ignore.contains(kind) {
      let n = report.counts[kind] ?? 0
      var body = ""
      if errorKinds.contains(kind) {
        failures += 1
        let examples = (report.examples[kind] ?? report.datasetFindings.filter { $0.kind == kind })
          .prefix(5).map { f in (f.key.map { "key \($0): " } ?? "") + f.detail }
        let message = kind.isSampleKind ? "\(n) sample\(n == 1 ? "" : "s") with \(kind.rawValue)" : "\(n) \(kind.rawValue) finding\(n == 1 ? "" : "s")"
        body = "<failure type=\"\(kind.rawValue)\" message=\"\(escape(message))\">\(escape(examples.joined(separator: "\n")))</failure>"
      } else if tolerated.contains(kind) {
        let percent = String(cFormat: "%.4g%%", report.flaggedFraction * 100)
        let line = "\(n) sample\(n == 1 ? "" : "s") with \(kind.rawValue), tolerated: \(report.flagged) flagged "
          + "(\(percent)) within max_flagged_fraction \(DatasetChecks.num(report.policy.maxFlaggedFraction))"
        let examples = (report.examples[kind] ?? []).prefix(5).map { f in (f.key.map { "key \($0): " } ?? "") + f.detail }
        body = "<system-out>\(escape(([line] + examples).joined(separator: "\n")))</system-out>"
      } else if n > 0 {
        let lines = report.datasetFindings.filter { $0.kind == kind }.map(\.detail)
        body = "<system-out>\(escape(lines.joined(separator: "\n")))</system-out>"
      }
      let name = "datasan.\(kind.rawValue)"
      cases.append("    <testcase classname=\"datasan.\(escape(report.info.path))\" name=\"\(name)\" time=\"0\">\(body)</testcase>")
    }
    let time = String(cFormat: "%.3f", report.seconds)
    return """
      <?xml version="1.0" encoding="UTF-8"?>
      <testsuites name="datasan" tests="\(cases.count)" failures="\(failures)" errors="0" time="\(time)">
        <testsuite name="datasan scan \(escape(report.info.path))" tests="\(cases.count)" failures="\(failures)" errors="0" skipped="0" time="\(time)">
      \(properties(report))\(cases.joined(separator: "\n"))
        </testsuite>
      </testsuites>

      """
  }

  /// The suite's properties: the class list, when the dataset has one (label i is class i).
  static func properties(_ report: ScanReport) -> String {
    guard let names = report.info.classNames else { return "" }
    let list = names.map(escape).joined(separator: ",")
    return "    <properties><property name=\"classes\" value=\"\(list)\"/></properties>\n"
  }

  /// XML text escaping (also safe inside attribute values in quotes).
  static func escape(_ s: String) -> String { MarkupEscaping.escape(s, apostrophe: "&apos;") }
}
