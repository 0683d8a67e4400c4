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

/// The gate policy (`fail_on`, `ignore`, `max_flagged_fraction` of a datasan.yml or the command
/// line): which findings are reported and which fail `scan`.
///
/// Applied once to a finished report (``ScanReport/applying(_:)``), so that the JSON report, the
/// JUnit file, the summary, the annotations and the exit code all tell the same story.
///
/// - `ignore`: those kinds are not reported at all: not in counts, issues, examples, dataset
///   findings or JUnit test cases, and they fail nothing. A sample whose only findings are ignored
///   is not counted as flagged. (`datasan clean` still quarantines it: a NaN is never written.)
/// - `failOn`: dataset kinds listed there become `error` findings and fail the gate (like
///   `--strict` for those kinds only). A sample kind listed there fails the gate as soon as one
///   sample has it, whatever `maxFlaggedFraction` allows.
/// - `maxFlaggedFraction`: the gate passes while flagged / total <= this (default 0: any flagged
///   sample fails).
public struct Policy: Sendable, Equatable {
  public var failOn: Set<FindingKind> = []
  public var ignore: Set<FindingKind> = []
  public var maxFlaggedFraction: Double = 0

  public init(failOn: Set<FindingKind> = [], ignore: Set<FindingKind> = [], maxFlaggedFraction: Double = 0) {
    self.failOn = failOn
    self.ignore = ignore
    self.maxFlaggedFraction = maxFlaggedFraction
  }

  /// Whether this policy changes nothing (SPEC.md's default gate).
  public var isDefault: Bool { failOn.isEmpty && ignore.isEmpty && maxFlaggedFraction == 0 }

  /// The dataset (warning) kinds, what `all` stands for in `fail_on`.
  public static let warningKinds: Set<FindingKind> = Set(FindingKind.allCases.filter { !$0.isSampleKind })

  /// Parses kind names as written in a config file or after `--fail-on` / `--ignore`.
  /// `all` (when `allowAll`) is every warning kind; `none` is the empty set.
  /// - Throws: ``PolicyError`` naming the first unknown name, with a suggestion.
  public static func kinds(_ names: [String], allowAll: Bool) throws -> Set<FindingKind> {
    var out: Set<FindingKind> = []
    for raw in names {
      let name = raw.trimmingWhitespace()
      if name.isEmpty || name == "none" { continue }
      if name == "all" {
        guard allowAll else { throw PolicyError("'all' is not allowed here; name the kinds") }
        out.formUnion(warningKinds)
        continue
      }
      guard let kind = FindingKind(rawValue: name) else {
        let names = FindingKind.allCases.map(\.rawValue) + (allowAll ? ["all"] : [])
        let hint = suggestion(for: name, among: names).map { " (did you mean \($0)?)" } ?? ""
        throw PolicyError("unknown finding kind '\(name)'\(hint); kinds: \(names.joined(separator: ", "))")
      }
      out.insert(kind)
    }
    return out
  }

  /// The closest of `candidates` to `name` (a small edit distance, else a candidate that starts
  /// with it or contains it), for "did you mean ...?" messages.
  public static func suggestion(for name: String, among candidates: [String]) -> String? {
    let lower = name.lowercased().replacingAll("-", with: "_")
    var best: (String, Int)? = nil
    for c in candidates {
      let d = editDistance(lower, c)
      if d <= Swift.max(2, c.count / 4), d < (best?.1 ?? Int.max) { best = (c, d) }
    }
    if let best { return best.0 }
    if lower.count >= 3, let prefixed = candidates.first(where: { $0.hasPrefix(lower) }) { return prefixed }
    if lower.count >= 4 { return candidates.first { $0.contains(lower) || lower.contains($0) } }
    return nil
  }

  static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars)
    let b = Array(b.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      current[0] = i
      for j in 1...b.count {
        current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      swap(&previous, &current)
    }
    return previous[b.count]
  }

  /// One line that says what the policy is, for the summary ("fail_on constant_feature; ...").
  public var summary: String {
    var parts: [String] = []
    if !failOn.isEmpty { parts.append("fail_on " + Policy.names(failOn)) }
    if !ignore.isEmpty { parts.append("ignore " + Policy.names(ignore)) }
    if maxFlaggedFraction > 0 { parts.append("max_flagged_fraction \(DatasetChecks.num(maxFlaggedFraction))") }
    return parts.isEmpty ? "default" : parts.joined(separator: "; ")
  }

  /// Kind names in the order of ``FindingKind``.
  public static func names(_ kinds: Set<FindingKind>) -> String {
    kinds.sorted().map(\.rawValue).joined(separator: ",")
  }
}

/// A policy value that does not parse (the caller adds where it came from).
public struct PolicyError: Error, CustomStringConvertible, Sendable {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

extension ScanReport {
  /// Flagged samples / total samples (0 when there are none).
  public var flaggedFraction: Double { total == 0 ? 0 : Double(flagged) / Double(total) }

  /// The kinds that fail the gate under ``policy``: dataset kinds with an `error` finding, and
  /// sample kinds present when the flagged fraction exceeds `max_flagged_fraction` or the kind
  /// is in `fail_on`. The scan passes when this is empty.
  public var failingKinds: Set<FindingKind> {
    var out = Set(datasetFindings.filter { $0.severity == .error }.map(\.kind))
    let overLimit = flagged > 0 && flaggedFraction > policy.maxFlaggedFraction
    for (kind, n) in counts where kind.isSampleKind && n > 0 && !policy.ignore.contains(kind) {
      if overLimit || policy.failOn.contains(kind) { out.insert(kind) }
    }
    return out
  }

  /// Sample kinds present but tolerated by `max_flagged_fraction`.
  public var toleratedKinds: Set<FindingKind> {
    let failing = failingKinds
    return Set(counts.filter { $0.key.isSampleKind && $0.value > 0 && !failing.contains($0.key) }.map(\.key))
  }

  /// This report under `policy`: ignored kinds removed everywhere, `fail_on` dataset kinds
  /// promoted to `error`, `flagged` / `clean` recounted without ignored kinds, and `passed`
  /// re-evaluated. Apply to a report as built (with the default policy), once.
  public func applying(_ policy: Policy) -> ScanReport {
    var r = self
    r.policy = policy
    let ignored = policy.ignore
    func keep(_ f: Finding) -> Bool { !ignored.contains(f.kind) }
    func promote(_ f: Finding) -> Finding {
      var f = f
      if !f.kind.isSampleKind && policy.failOn.contains(f.kind) { f.severity = .error }
      return f
    }
    if !ignored.isEmpty {
      for kind in ignored { r.counts[kind] = nil; r.examples[kind] = nil }
      r.issues = r.issues.filter(keep)
      r.datasetFindings = r.datasetFindings.filter(keep)
      r.flagged = r.flaggedKindSets.reduce(0) { $0 + ($1.key.isSubset(of: ignored) ? 0 : $1.value) }
      r.clean = r.total - r.flagged
    }
    r.issues = r.issues.map(promote)
    r.datasetFindings = r.datasetFindings.map(promote)
    r.passed = r.failingKinds.isEmpty
    return r
  }

  /// The final line of the summary, with the policy's part in the verdict.
  public var verdictLine: String {
    let percent = String(cFormat: "%.4g%%", flaggedFraction * 100)
    let limit = "max_flagged_fraction \(DatasetChecks.num(policy.maxFlaggedFraction))"
    func samples(_ n: Int) -> String { "\(n) flagged sample\(n == 1 ? "" : "s")" }
    if passed {
      if flagged > 0 { return "PASS: \(samples(flagged)) (\(percent)) within \(limit)" }
      return "PASS: no error findings"
    }
    var why: [String] = []
    let failing = failingKinds
    if flagged > 0 && flaggedFraction > policy.maxFlaggedFraction {
      why.append(policy.maxFlaggedFraction > 0 ? "\(samples(flagged)) (\(percent)) over \(limit)" : samples(flagged))
    } else {
      let strictKinds = failing.filter(\.isSampleKind)
      if !strictKinds.isEmpty { why.append("\(Policy.names(Set(strictKinds))) in fail_on") }
    }
    let errors = datasetFindings.filter { $0.severity == .error && $0.kind.defaultSeverity == .error }.count
    if errors > 0 { why.append("\(errors) dataset error\(errors == 1 ? "" : "s")") }
    let promoted = datasetFindings.filter { $0.severity == .error && $0.kind.defaultSeverity != .error }.count
    if promoted > 0 { why.append("\(promoted) dataset finding\(promoted == 1 ? "" : "s") promoted to error") }
    return "FAIL: \(why.joined(separator: ", "))"
  }
}
