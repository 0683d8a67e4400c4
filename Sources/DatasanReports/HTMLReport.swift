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

/// The `--html FILE` report: one self-contained HTML page (inline CSS, a little inline JS,
/// images as data URIs; a Content-Security-Policy forbids any network access) with the verdict,
/// the findings (broken samples first, filterable and sortable), a histogram of each feature
/// group with the normalization `clean` would apply, the label distribution with absent and rare
/// classes marked, and thumbnails of the flagged images.
///
/// Everything that comes from the data (paths, keys, details, names) is escaped. The page stays
/// small on any dataset: tables and lists are bounded, histograms come from streaming bins
/// (``StreamingHistogram``), thumbnails are capped.
///
/// For the full page, scan with `CheckOptions.histograms = true` (the group histograms) and
/// `ScanConfiguration.keepFlaggedSamples = options.maxThumbnails` (the thumbnails).
public enum HTMLReport {
  /// What the page shows and how much of it.
  public struct Options: Sendable {
    /// `--num-classes`: classes in [0, K) without a sample are marked absent.
    public var numClasses: Int?
    /// A class with fewer samples than this fraction of the most frequent one is marked rare.
    public var rareClassRatio: Double = 0.01
    /// `--channel-axis`: how image samples are laid out.
    public var channelAxis: ChannelAxis = .first
    /// The target range of the minmax normalization shown (`--range`).
    public var range: (Double, Double) = (-1, 1)
    /// Rows of the findings table (the rest are counted in a note).
    public var maxIssues = 500
    /// Thumbnails of flagged images.
    public var maxThumbnails = 48
    /// Feature groups drawn with a histogram; further groups get one table row each, up to
    /// ``maxGroupRows``.
    public var maxGroupCharts = CheckOptions.histogramGroupLimit
    public var maxGroupRows = 1000
    /// Bars of a feature histogram.
    public var histogramBins = 40
    /// Bars of the label histogram (classes beyond are summarized).
    public var maxLabelBars = 1000

    public init() {}

    /// The options a scan ran with: classes, rare-class ratio, channel axis.
    public init(checks: CheckOptions) {
      numClasses = checks.numClasses
      rareClassRatio = checks.classImbalanceRatio
      channelAxis = checks.channelAxis
    }
  }

  /// The report as one HTML document.
  public static func render(_ report: ScanReport, version: String, options: Options = Options()) -> String {
    var page = HTMLPage(report: report, version: version, options: options)
    return page.render()
  }

  /// HTML text escaping (also safe inside attribute values in quotes).
  public static func escape(_ s: String) -> String { MarkupEscaping.escape(s, apostrophe: "&#39;") }
}

/// Builds the page section by section.
struct HTMLPage {
  let report: ScanReport
  let version: String
  let options: HTMLReport.Options
  var html = ""

  init(report: ScanReport, version: String, options: HTMLReport.Options) {
    self.report = report
    self.version = version
    self.options = options
  }

  static func e(_ s: String) -> String { HTMLReport.escape(s) }

  /// A number for people: integers in full, others with 4 significant digits.
  static func num(_ x: Double) -> String {
    if x.isNaN { return "NaN" }
    if x.isInfinite { return x > 0 ? "+Inf" : "-Inf" }
    if x == x.rounded(), Swift.abs(x) < 1e15 { return String(Int64(x)) }
    let a = Swift.abs(x)
    if a >= 1e-4 && a < 1e6 {
      var s = String(cFormat: "%.4g", x)
      if s.contains("e") { s = String(cFormat: "%.6f", x) }
      return s
    }
    return String(cFormat: "%.4g", x)
  }

  static func count(_ n: Int) -> String {
    let digits = String(Swift.abs(n))
    var out = ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
      out.append(c)
    }
    return (n < 0 ? "-" : "") + out
  }

  static func plural(_ n: Int, _ word: String, _ plural: String? = nil) -> String {
    "\(count(n)) \(n == 1 ? word : plural ?? word + "s")"
  }

  mutating func render() -> String {
    head()
    html += "<body>\n<main>\n"
    header()
    verdict()
    summary()
    html += ColumnsText.html(report.info)
    findings()
    thumbnails()
    groups()
    sizes()
    labels()
    footer()
    html += "</main>\n<script>\n\(HTMLPage.script)</script>\n</body>\n</html>\n"
    return html
  }

  // MARK: Head

  mutating func head() {
    let title = "datasan: \(report.passed ? "PASS" : "FAIL") \(report.info.path)"
    html += """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
      <meta name="generator" content="datasan \(HTMLPage.e(version))">
      <title>\(HTMLPage.e(title))</title>
      <style>
      \(HTMLPage.css)</style>
      </head>

      """
  }

  mutating func header() {
    let r = report
    var facts: [String] = ["<span>\(HTMLPage.e(r.info.format.rawValue.uppercased()))</span>"]
    if r.sizes.distinct > 1 {
      facts.append("<span>\(HTMLPage.count(r.sizes.distinct)) sample sizes</span>")  // the Sizes section has them
    } else if let shape = r.info.sampleShape {
      facts.append("<span>sample shape \(HTMLPage.e(shape.map(String.init).joined(separator: " × ")))</span>")
    }
    facts.append("<span>\(HTMLPage.e(r.info.elementType.rawValue))</span>")
    if let label = r.info.labelName { facts.append("<span>labels: <code>\(HTMLPage.e(label))</code></span>") }
    html += """
      <header>
      <div class="brand">datasan report</div>
      <h1 id="input"><code>\(HTMLPage.e(r.info.path))</code></h1>
      <div class="facts">\(facts.joined(separator: " "))</div>
      </header>

      """
  }

  mutating func verdict() {
    let r = report
    var why: [String] = []
    if r.flagged > 0 { why.append("\(HTMLPage.plural(r.flagged, "flagged sample")) (moved to the quarantine by <code>datasan clean</code>)") }
    let errors = r.datasetFindings.filter { $0.severity == .error && $0.kind.defaultSeverity == .error }.count
    if errors > 0 { why.append(HTMLPage.plural(errors, "dataset error")) }
    let promoted = r.datasetFindings.filter { $0.severity == .error && $0.kind.defaultSeverity != .error }.count
    if promoted > 0 { why.append("\(HTMLPage.plural(promoted, "dataset finding")) promoted to error") }
    let warnings = r.datasetFindings.filter { $0.severity == .warning }.count
    let text: String
    if r.passed {
      text = r.flagged > 0 ? "within the policy: " + why.joined(separator: ", ") : "no error findings"
    } else {
      text = why.isEmpty ? "the gate failed" : why.joined(separator: ", ")
    }
    let warned = warnings > 0 ? " · \(HTMLPage.plural(warnings, "warning")) below" : ""
    html += """
      <section id="verdict" class="verdict \(r.passed ? "pass" : "fail")" data-verdict="\(r.passed ? "PASS" : "FAIL")">
      <div class="word">\(r.passed ? "PASS" : "FAIL")</div>
      <div class="why">\(text)\(warned)</div>
      </section>

      """
  }

  mutating func summary() {
    let r = report
    let mb = Double(r.bytesRead) / 1e6
    var cards = [
      ("samples", HTMLPage.count(r.total), ""),
      ("clean", HTMLPage.count(r.clean), "ok"),
      ("flagged", HTMLPage.count(r.flagged), r.flagged > 0 ? "bad" : "ok"),
    ]
    if r.seconds > 0 { cards.append(("seconds", r.seconds < 0.01 ? "&lt; 0.01" : String(cFormat: "%.2f", r.seconds), "")) }
    if r.bytesRead > 0 { cards.append(("MB read", mb >= 100 ? String(cFormat: "%.0f", mb) : String(cFormat: "%.2f", mb), "")) }
    html += "<section id=\"summary\">\n<div class=\"cards\">\n"
    for (name, value, cls) in cards {
      html += "<div class=\"card \(cls)\"><div class=\"value\">\(value)</div><div class=\"name\">\(name)</div></div>\n"
    }
    html += "</div>\n"
    let kinds = FindingKind.allCases.filter { (r.counts[$0] ?? 0) > 0 }
    if !kinds.isEmpty {
      html += "<table class=\"counts\"><thead><tr><th>kind</th><th>count</th><th>meaning</th></tr></thead><tbody>\n"
      for kind in kinds {
        let n = r.counts[kind] ?? 0
        let error = kind.isSampleKind || r.datasetFindings.contains { $0.kind == kind && $0.severity == .error }
        let unit = kind.isSampleKind ? HTMLPage.plural(n, "sample") : HTMLPage.plural(n, "finding")
        html += "<tr class=\"\(error ? "error" : "warning")\"><td><span class=\"kind\">\(kind.rawValue)</span></td>"
        html += "<td class=\"n\">\(unit)</td><td>\(kind.meaning(for: r.info))</td></tr>\n"
      }
      html += "</tbody></table>\n"
    }
    html += "</section>\n"
  }

  // MARK: Findings

  /// The findings in the order people need them: errors before warnings, sample findings
  /// (the broken samples) first, in stream order.
  static func ordered(_ issues: [Finding]) -> [Finding] {
    func rank(_ f: Finding) -> Int {
      if f.severity == .error { return f.index != nil ? 0 : 1 }
      return f.index != nil ? 2 : 3
    }
    return issues.enumerated().sorted { a, b in
      let (ra, rb) = (rank(a.element), rank(b.element))
      return ra != rb ? ra < rb : a.offset < b.offset
    }.map(\.element)
  }

  mutating func findings() {
    let r = report
    let all = HTMLPage.ordered(r.issues)
    html += "<section id=\"findings\">\n<h2>Findings</h2>\n"
    guard !all.isEmpty else {
      html += "<p class=\"empty\">No findings: every sample passed every check.</p>\n</section>\n"
      return
    }
    let shown = all.prefix(options.maxIssues)
    let kinds = Array(Set(shown.map(\.kind))).sorted()
    html += "<div class=\"filters\">"
    html += "<input id=\"f-text\" type=\"search\" placeholder=\"filter by key, kind, detail…\" aria-label=\"filter\">"
    html += "<select id=\"f-severity\" aria-label=\"severity\"><option value=\"\">all severities</option>"
    html += "<option value=\"error\">errors</option><option value=\"warning\">warnings</option></select>"
    html += "<select id=\"f-kind\" aria-label=\"kind\"><option value=\"\">all kinds</option>"
    for k in kinds { html += "<option value=\"\(k.rawValue)\">\(k.rawValue)</option>" }
    html += "</select><span id=\"f-shown\" class=\"muted\">\(HTMLPage.count(shown.count)) shown</span></div>\n"
    html += """
      <div class="table-wrap">
      <table id="findings-table" class="findings">
      <thead><tr><th data-type="num">#</th><th>severity</th><th>kind</th><th>key</th><th data-type="num">index</th><th>field</th><th>detail</th></tr></thead>
      <tbody>

      """
    for (n, f) in shown.enumerated() {
      let sev = f.severity.rawValue
      html += "<tr class=\"\(sev)\" data-severity=\"\(sev)\" data-kind=\"\(f.kind.rawValue)\""
      if let key = f.key { html += " data-key=\"\(HTMLPage.e(key))\"" }
      html += "><td class=\"n\" data-sort=\"\(n)\">\(n + 1)</td><td><span class=\"sev \(sev)\">\(sev)</span></td>"
      html += "<td><span class=\"kind\">\(f.kind.rawValue)</span></td>"
      html += "<td class=\"key\">\(f.key.map { "<code>\(HTMLPage.e($0))</code>" } ?? "")</td>"
      html += "<td class=\"n\" data-sort=\"\(f.index ?? -1)\">\(f.index.map(String.init) ?? "")</td>"
      html += "<td>\(f.field.map { HTMLPage.e($0) } ?? "")</td><td class=\"detail\">\(HTMLPage.e(f.detail))</td></tr>\n"
    }
    html += "</tbody></table>\n</div>\n"
    var notes: [String] = []
    if all.count > shown.count {
      notes.append("The first \(HTMLPage.count(shown.count)) of \(HTMLPage.count(all.count)) listed findings are shown.")
    }
    if r.issuesTruncated {
      notes.append("The scan listed at most --max-issues findings; the counts above are complete. The JSON report (--report) and the quarantine's reasons file list every rejected sample.")
    }
    for note in notes { html += "<p class=\"note\">\(HTMLPage.e(note))</p>\n" }
    html += "</section>\n"
  }

  // MARK: Thumbnails

  mutating func thumbnails() {
    let r = report
    guard HTMLThumbnails.isImageInput(r, channelAxis: options.channelAxis) else { return }
    html += "<section id=\"flagged-images\">\n<h2>Flagged images</h2>\n"
    if r.flaggedSamples.isEmpty {
      html += r.flagged == 0
        ? "<p class=\"empty\">No flagged image.</p>\n"
        : "<p class=\"note\">The scan did not keep the flagged samples (ScanConfiguration.keepFlaggedSamples).</p>\n"
      html += "</section>\n"
      return
    }
    let kept = r.flaggedSamples.prefix(options.maxThumbnails)
    html += "<p class=\"muted\">What decoded of each flagged image, values scaled to 0…255 per image; NaN and Inf pixels in <span class=\"magenta\">magenta</span>.</p>\n"
    html += "<div class=\"thumbs\">\n"
    // The images that decoded first (what a person can look at), then placeholders for the
    // samples without values, those with the same reason in one tile; each in stream order.
    struct Tile {
      var key: String
      var index: Int
      var thumbnail: HTMLThumbnails.Thumbnail?
      var reasons: [Finding]
      var kinds: [FindingKind]
      var placeholder: String
    }
    let tiles: [Tile] = kept.map { sample in
      let index = sample.firstIndex
      let key = sample.count > 0 ? sample.key(of: 0) : String(index)
      var reasons = r.issues.filter { $0.index == index }
      if reasons.isEmpty { reasons = r.examples.values.flatMap { $0 }.filter { $0.index == index } }
      if reasons.isEmpty, let problem = sample.problems[0] {
        reasons = [Finding(kind: problem.kind, severity: .error, index: index, key: key, detail: problem.detail)]
      }
      let kinds = reasons.reduce(into: [FindingKind]()) { if !$0.contains($1.kind) { $0.append($1.kind) } }
      return Tile(
        key: key, index: index, thumbnail: HTMLThumbnails.thumbnail(sample, channelAxis: options.channelAxis),
        reasons: reasons, kinds: kinds, placeholder: sample.problems[0]?.kind.rawValue ?? "no image")
    }
    func caption(_ t: Tile) -> String {
      var out = t.kinds.map { "<span class=\"kind\">\($0.rawValue)</span>" }.joined()
      for f in t.reasons.prefix(3) { out += "<div class=\"reason\">\(HTMLPage.e(f.detail))</div>" }
      return out
    }
    for t in tiles {
      guard let thumbnail = t.thumbnail else { continue }
      let uri = "data:image/png;base64," + Data(thumbnail.png).base64EncodedString()
      html += "<figure class=\"thumb\" data-key=\"\(HTMLPage.e(t.key))\" data-index=\"\(t.index)\">"
      html += "<img src=\"\(uri)\" width=\"\(thumbnail.width)\" height=\"\(thumbnail.height)\" alt=\"\(HTMLPage.e(t.key))\">"
      html += "<figcaption><code class=\"key\">\(HTMLPage.e(t.key))</code>\(caption(t))</figcaption></figure>\n"
    }
    var groups: [(signature: String, tiles: [Tile])] = []
    for t in tiles where t.thumbnail == nil {
      let signature = t.kinds.map(\.rawValue).joined(separator: ",") + "\n" + t.reasons.map(\.detail).joined(separator: "\n")
      if let g = groups.firstIndex(where: { $0.signature == signature }) {
        groups[g].tiles.append(t)
      } else {
        groups.append((signature, [t]))
      }
    }
    for (_, same) in groups {
      let first = same[0]
      if same.count == 1 {
        html += "<figure class=\"thumb\" data-key=\"\(HTMLPage.e(first.key))\" data-index=\"\(first.index)\">"
      } else {
        html += "<figure class=\"thumb wide\" data-count=\"\(same.count)\">"
      }
      html += "<div class=\"placeholder\"><span class=\"x\">✕</span><span>\(first.placeholder)"
      html += same.count > 1 ? " × \(same.count)" : ""
      html += "</span></div><figcaption>"
      if same.count == 1 {
        html += "<code class=\"key\">\(HTMLPage.e(first.key))</code>"
      } else {
        let listed = same.prefix(24)
        html += "<div class=\"keys\">" + listed.map { "<code data-key=\"\(HTMLPage.e($0.key))\">\(HTMLPage.e($0.key))</code>" }.joined(separator: " ")
        html += same.count > listed.count ? " …</div>" : "</div>"
      }
      html += caption(first) + "</figcaption></figure>\n"
    }
    html += "</div>\n"
    if r.flagged > kept.count {
      html += "<p class=\"note\">\(HTMLPage.count(kept.count)) of \(HTMLPage.plural(r.flagged, "flagged sample")) shown.</p>\n"
    }
    html += "</section>\n"
  }

  // MARK: Feature groups

  mutating func groups() {
    let r = report
    html += "<section id=\"groups\">\n<h2>Feature groups</h2>\n"
    guard !r.groupStats.isEmpty else {
      html += "<p class=\"empty\">No clean sample: no statistics.</p>\n</section>\n"
      return
    }
    let minmax = NormalizationParameters(method: .minmax, range: options.range, channelAxis: options.channelAxis, stats: r.groupStats)
    let zscore = NormalizationParameters(method: .zscore, range: options.range, channelAxis: options.channelAxis, stats: r.groupStats)
    let (lo, hi) = options.range
    html += "<p class=\"muted\">Statistics of the clean samples, and the normalization <code>datasan clean</code> would apply to each group: "
    html += "<code>--normalize minmax</code> (the default) maps [min, max] onto [\(HTMLPage.num(lo)), \(HTMLPage.num(hi))] as y = x·scale + offset; "
    html += "<code>--normalize zscore</code> maps to (x − mean) / std.</p>\n"
    if r.groupStats.prefix(options.maxGroupCharts).contains(where: { $0.histogram == nil && $0.values.count > 0 }) {
      html += "<p class=\"note\">Histograms were not collected by this scan (CheckOptions.histograms); each chart shows the range, mean and ±1 std.</p>\n"
    }
    html += "<div class=\"groups\">\n"
    let flagsOfGroup = HTMLPage.findingsByGroup(Array(r.groupStats.prefix(options.maxGroupCharts)), r.datasetFindings)
    for (g, stats) in r.groupStats.enumerated().prefix(options.maxGroupCharts) {
      let flags = flagsOfGroup[g]
      html += "<div class=\"group\" data-group=\"\(HTMLPage.e(stats.name))\">"
      html += "<h3><code>\(HTMLPage.e(stats.name))</code>"
      for f in flags { html += " <span class=\"kind \(f.severity.rawValue)\" title=\"\(HTMLPage.e(f.detail))\">\(f.kind.rawValue)</span>" }
      html += "</h3>\n"
      html += chart(stats)
      let s = stats.values
      html += "<table class=\"stats\"><tr><th>count</th><th>min</th><th>max</th><th>mean</th><th>std</th></tr><tr>"
      html += "<td>\(HTMLPage.count(s.count))</td>"
      for v in [s.min, s.max, s.mean, s.std] { html += "<td>\(s.count > 0 ? HTMLPage.num(v) : "–")</td>" }
      html += "</tr></table>\n"
      html += normalization(minmax.groups[g], zscore.groups[g], count: s.count)
      html += "</div>\n"
    }
    html += "</div>\n"
    let rest = r.groupStats.dropFirst(options.maxGroupCharts)
    if !rest.isEmpty {
      let rows = rest.prefix(options.maxGroupRows)
      html += "<table class=\"more-groups\"><thead><tr><th>group</th><th>count</th><th>min</th><th>max</th><th>mean</th><th>std</th><th>minmax scale</th><th>minmax offset</th></tr></thead><tbody>\n"
      for (g, stats) in rows.enumerated() {
        let s = stats.values
        let p = minmax.groups[options.maxGroupCharts + g]
        html += "<tr><td><code>\(HTMLPage.e(stats.name))</code></td><td>\(HTMLPage.count(s.count))</td>"
        for v in [s.min, s.max, s.mean, s.std] { html += "<td>\(s.count > 0 ? HTMLPage.num(v) : "–")</td>" }
        html += "<td>\(HTMLPage.num(p.scale))</td><td>\(HTMLPage.num(p.offset))</td></tr>\n"
      }
      html += "</tbody></table>\n"
      if rest.count > rows.count {
        html += "<p class=\"note\">\(HTMLPage.count(rest.count - rows.count)) more groups not shown (the JSON report lists them all).</p>\n"
      }
    }
    html += "</section>\n"
  }

  /// The dataset findings about each of `groups`: those whose field is its name, or whose detail
  /// starts with its name and a space. One pass over the findings (a CSV of a million constant
  /// columns has a million), looking names up by the detail's prefixes that end at a space.
  static func findingsByGroup(_ groups: [GroupStats], _ findings: [Finding]) -> [[Finding]] {
    var positions: [String: [Int]] = [:]
    for (g, stats) in groups.enumerated() { positions[stats.name, default: []].append(g) }
    let longest = groups.map { $0.name.utf8.count }.max() ?? 0
    var result = [[Finding]](repeating: [], count: groups.count)
    for f in findings {
      var hits = Set(f.field.flatMap { positions[$0] } ?? [])
      let utf8 = f.detail.utf8
      var i = utf8.startIndex
      var offset = 0
      while i != utf8.endIndex && offset <= longest {
        if utf8[i] == UInt8(ascii: " "), let found = positions[String(decoding: utf8[..<i], as: UTF8.self)] {
          hits.formUnion(found)
        }
        i = utf8.index(after: i)
        offset += 1
      }
      for g in hits.sorted() { result[g].append(f) }
    }
    return result
  }

  func normalization(_ m: NormalizationParameters.Group, _ z: NormalizationParameters.Group, count: Int) -> String {
    var out = "<div class=\"norm\">"
    if count == 0 {
      out += "<div>no clean value</div>"
    } else if m.scale == 0 {
      out += "<div><b>minmax</b> constant group: maps to 0</div>"
    } else {
      out += "<div><b>minmax</b> y = x × \(HTMLPage.num(m.scale)) \(HTMLPage.signed(m.offset))</div>"
    }
    if count > 0 {
      if z.scale == 0 {
        out += "<div><b>zscore</b> std = 0: maps to 0</div>"
      } else {
        out += "<div><b>zscore</b> y = (x − \(HTMLPage.num(z.mean))) / \(HTMLPage.num(z.std))</div>"
      }
    }
    return out + "</div>\n"
  }

  static func signed(_ x: Double) -> String { x < 0 ? "− \(num(-x))" : "+ \(num(x))" }

  /// An SVG histogram of one group (or, without a histogram, its range, mean and std).
  func chart(_ stats: GroupStats) -> String {
    let width = 320.0, height = 120.0, top = 8.0, bottom = 18.0, left = 4.0, right = 4.0
    let plotW = width - left - right, plotH = height - top - bottom
    let s = stats.values
    var svg = svgOpen(class: "hist", width: width, height: height, label: "histogram of \(HTMLPage.e(stats.name))",
                      axis: (left, top + plotH, left + plotW, top + plotH))
    guard s.count > 0 else {
      svg += "<text x=\"\(width / 2)\" y=\"\(height / 2)\" text-anchor=\"middle\">no clean value</text></svg>\n"
      return svg
    }
    if let h = stats.histogram, h.total > 0 {
      let counts = h.linearBins(options.histogramBins, min: s.min, max: s.max)
      let peak = counts.max() ?? 0
      let barW = plotW / Double(counts.count)
      let binWidth = (s.max - s.min) / Double(counts.count)
      for (i, c) in counts.enumerated() where c > 0 {
        let bh = Swift.max(1, plotH * c / Swift.max(peak, 1))
        let x = left + Double(i) * barW
        let from = s.min + Double(i) * binWidth
        let label = s.max > s.min ? "[\(HTMLPage.num(from)), \(HTMLPage.num(from + binWidth))): \(HTMLPage.count(Int(c.rounded())))" : "\(HTMLPage.num(s.min)): \(HTMLPage.count(Int(c.rounded())))"
        let w = s.max > s.min ? Swift.max(1, barW - 1) : plotW
        svg += "<rect class=\"bar\" x=\"\(f(x))\" y=\"\(f(top + plotH - bh))\" width=\"\(f(w))\" height=\"\(f(bh))\"><title>\(HTMLPage.e(label))</title></rect>"
      }
    } else {
      // Range plot: [min, max] line, mean ± std box, mean tick.
      let span = s.max - s.min
      func px(_ v: Double) -> Double { span > 0 ? left + plotW * (v - s.min) / span : left + plotW / 2 }
      let mid = top + plotH / 2
      svg += "<line class=\"range\" x1=\"\(f(px(s.min)))\" y1=\"\(f(mid))\" x2=\"\(f(px(s.max)))\" y2=\"\(f(mid))\"/>"
      let a = px(Swift.max(s.min, s.mean - s.std)), b = px(Swift.min(s.max, s.mean + s.std))
      svg += "<rect class=\"bar\" x=\"\(f(a))\" y=\"\(f(mid - 14))\" width=\"\(f(Swift.max(1, b - a)))\" height=\"28\"><title>mean ± std</title></rect>"
      svg += "<line class=\"mean\" x1=\"\(f(px(s.mean)))\" y1=\"\(f(mid - 20))\" x2=\"\(f(px(s.mean)))\" y2=\"\(f(mid + 20))\"/>"
    }
    svg += "<text x=\"\(left)\" y=\"\(height - 4)\">\(HTMLPage.e(HTMLPage.num(s.min)))</text>"
    svg += "<text x=\"\(left + plotW)\" y=\"\(height - 4)\" text-anchor=\"end\">\(HTMLPage.e(HTMLPage.num(s.max)))</text>"
    svg += "</svg>\n"
    return svg
  }

  func f(_ x: Double) -> String { String(cFormat: "%.1f", x) }

  /// The opening tag of an SVG chart of `width` x `height` px (`label` for screen readers, escaped)
  /// and its axis line from (x1, y1) to (x2, y2).
  func svgOpen(
    id: String? = nil, class cls: String, width: Double, height: Double, label: String, axis: (Double, Double, Double, Double)
  ) -> String {
    let idAttribute = id.map { "id=\"\($0)\" " } ?? ""
    return "<svg \(idAttribute)class=\"\(cls)\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" "
      + "height=\"\(Int(height))\" role=\"img\" aria-label=\"\(label)\">"
      + "<line class=\"axis\" x1=\"\(axis.0)\" y1=\"\(axis.1)\" x2=\"\(axis.2)\" y2=\"\(axis.3)\"/>"
  }

  /// Closes `svg` and adds it to the page as a chart of its own.
  mutating func chart(closing svg: String) {
    html += "<div class=\"chart\">\(svg)</svg>\n</div>\n"
  }

  // MARK: Labels

  mutating func labels() {
    guard let labels = report.labelStats else { return }
    html += "<section id=\"labels\">\n<h2>Labels</h2>\n"
    let v = labels.values
    guard v.count > 0 else {
      html += "<p class=\"empty\">No clean sample with a label.</p>\n</section>\n"
      return
    }
    html += "<p class=\"muted\">\(HTMLPage.count(v.count)) labels of clean samples, from \(HTMLPage.num(v.min)) to \(HTMLPage.num(v.max)), mean \(HTMLPage.num(v.mean)), std \(HTMLPage.num(v.std)).</p>\n"
    if labels.histogram.isEmpty || labels.histogramIncomplete && labels.histogram.count >= LabelStats.histogramLimit {
      html += "<p class=\"note\">The labels are not class indexes (not all integers): no class histogram.</p>\n</section>\n"
      return
    }
    if labels.histogramIncomplete {
      html += "<p class=\"note\">Some labels are not integers; the histogram counts the integer ones.</p>\n"
    }
    let present = labels.histogram
    // The class list names the classes (label i is names[i]); its length is the number of classes.
    let names = report.info.classNames
    let numClasses = options.numClasses ?? names?.count
    func name(_ c: Int64) -> String? {
      guard let names, c >= 0, c < Int64(names.count) else { return nil }
      return names[Int(c)]
    }
    func titled(_ c: Int64) -> String { name(c).map { "\(c) '\(HTMLPage.e($0))'" } ?? String(c) }
    func tick(_ c: Int64) -> String {
      guard let n = name(c) else { return String(c) }
      return HTMLPage.e(n.count > 12 ? String(n.prefix(11)) + "…" : n)
    }
    let peak = present.values.max() ?? 0
    let rareLimit = Double(peak) * options.rareClassRatio
    // The classes drawn: [0, K) with --num-classes (plus any present outside), else min...max present.
    let presentKeys = present.keys.sorted()
    var lowest = presentKeys.first ?? 0
    var highest = presentKeys.last ?? 0
    if let k = numClasses, k > 0 {
      lowest = Swift.min(lowest, 0)
      highest = Swift.max(highest, Int64(k - 1))
    }
    let span = highest - lowest + 1
    let classes: [Int64] = span <= Int64(options.maxLabelBars) ? Array(lowest...highest) : Array(presentKeys.prefix(options.maxLabelBars))
    var absent: [Int64] = []
    if let k = numClasses, k > 0 {
      var c: Int64 = 0
      while c < Int64(k) && absent.count < 1000 {
        if present[c] == nil { absent.append(c) }
        c += 1
      }
    }
    let absentTotal = numClasses.map { k in Swift.max(0, k - present.keys.filter { $0 >= 0 && $0 < Int64(k) }.count) } ?? 0
    let rare = presentKeys.filter { Double(present[$0]!) < rareLimit }

    let left = 40.0, right = 8.0
    let longest = names == nil ? 0 : (classes.compactMap { name($0).map { Swift.min($0.count, 12) } }.max() ?? 0)
    let tickWidth = names == nil ? 28.0 : Swift.max(28.0, Double(longest) * 7 + 6)
    // At most 48 px a class (more for the names of a class list, to label every bar when they fit).
    let width = Swift.min(960, left + right + Swift.max(48, tickWidth) * Double(Swift.max(1, classes.count)))
    let height = 200.0, top = 10.0, bottom = 24.0
    let plotW = width - left - right, plotH = height - top - bottom
    let barW = plotW / Double(Swift.max(1, classes.count))
    var svg = svgOpen(id: "label-histogram", class: "labels", width: width, height: height, label: "label histogram",
                      axis: (left, top + plotH, left + plotW, top + plotH))
    svg += "<text x=\"\(left - 4)\" y=\"\(top + 10)\" text-anchor=\"end\">\(HTMLPage.count(peak))</text>"
    svg += "<text x=\"\(left - 4)\" y=\"\(top + plotH)\" text-anchor=\"end\">0</text>"
    let labelEvery = Swift.max(1, Int((Double(classes.count) * tickWidth / plotW).rounded(.up)))
    for (i, c) in classes.enumerated() {
      let n = present[c] ?? 0
      let x = left + Double(i) * barW
      let w = Swift.max(0.5, barW - (barW > 3 ? 1 : 0))
      let cls: String
      if n == 0 {
        cls = "absent"
        svg += "<rect class=\"bar absent\" data-class=\"\(c)\"\(name(c).map { " data-name=\"\(HTMLPage.e($0))\"" } ?? "") x=\"\(f(x))\" y=\"\(f(top))\" width=\"\(f(w))\" height=\"\(f(plotH))\"><title>class \(titled(c)): absent</title></rect>"
      } else {
        cls = Double(n) < rareLimit ? "rare" : "ok"
        let bh = Swift.max(1.5, plotH * Double(n) / Double(Swift.max(peak, 1)))
        svg += "<rect class=\"bar \(cls)\" data-class=\"\(c)\"\(name(c).map { " data-name=\"\(HTMLPage.e($0))\"" } ?? "") x=\"\(f(x))\" y=\"\(f(top + plotH - bh))\" width=\"\(f(w))\" height=\"\(f(bh))\"><title>class \(titled(c)): \(HTMLPage.count(n))\(cls == "rare" ? " (rare)" : "")</title></rect>"
      }
      if i % labelEvery == 0 || cls != "ok" && classes.count <= 100 {
        svg += "<text class=\"\(cls)\" x=\"\(f(x + barW / 2))\" y=\"\(height - 8)\" text-anchor=\"middle\">\(tick(c))</text>"
      }
    }
    chart(closing: svg)
    html += "<div class=\"legend\"><span class=\"sw ok\"></span> class <span class=\"sw rare\"></span> rare (&lt; \(HTMLPage.num(options.rareClassRatio * 100))% of the most frequent) <span class=\"sw absent\"></span> absent</div>\n"
    if classes.count < present.count {
      html += "<p class=\"note\">\(HTMLPage.count(present.count)) distinct labels; the first \(HTMLPage.count(classes.count)) are drawn.</p>\n"
    }
    html += "<ul class=\"class-notes\">\n"
    if numClasses == nil {
      html += "<li class=\"muted\">Without --num-classes absent classes above the largest label cannot be known.</li>\n"
    }
    if absentTotal > 0 {
      let list = absent.prefix(50).map(titled).joined(separator: ", ") + (absentTotal > 50 ? ", …" : "")
      html += "<li id=\"absent-classes\" class=\"absent\"><b>\(HTMLPage.plural(absentTotal, "absent class", "absent classes"))</b>"
      html += numClasses.map { " of \($0)" } ?? ""
      html += ": \(list)</li>\n"
    }
    if !rare.isEmpty {
      let list = rare.prefix(50).map { "\(titled($0)) (\(HTMLPage.count(present[$0]!)))" }.joined(separator: ", ") + (rare.count > 50 ? ", …" : "")
      html += "<li id=\"rare-classes\" class=\"rare\"><b>\(HTMLPage.plural(rare.count, "rare class", "rare classes"))</b>: \(list)</li>\n"
    }
    if absentTotal == 0 && rare.isEmpty {
      html += "<li>Every class has at least \(HTMLPage.num(options.rareClassRatio * 100))% of the samples of the most frequent one.</li>\n"
    }
    html += "</ul>\n</section>\n"
  }

  mutating func footer() {
    html += "<footer>datasan \(HTMLPage.e(version)) · schema datasan-report/1 · this page is self-contained: it loads nothing from the network.</footer>\n"
  }

  // MARK: Style and script

  static let css = """
    :root { --pass: #1a7f37; --fail: #cf222e; --warn: #9a6700; --ink: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #f6f8fa; --bar: #0969da; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
    main { max-width: 1200px; margin: 0 auto; padding: 20px 24px 40px; }
    code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; }
    header .brand { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .08em; }
    header h1 { margin: 2px 0 4px; font-size: 22px; word-break: break-all; }
    .facts span { display: inline-block; background: var(--bg); border: 1px solid var(--line); border-radius: 10px; padding: 0 8px; margin-right: 4px; font-size: 12px; }
    .verdict { display: flex; align-items: center; gap: 20px; margin: 16px 0; padding: 14px 22px; border-radius: 10px; color: #fff; }
    .verdict.pass { background: var(--pass); } .verdict.fail { background: var(--fail); }
    .verdict .word { font-size: 56px; font-weight: 800; letter-spacing: .04em; line-height: 1; }
    .verdict .why { font-size: 17px; } .verdict code { color: #fff; }
    h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
    .cards { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 12px; }
    .card { min-width: 120px; padding: 10px 14px; border: 1px solid var(--line); border-radius: 8px; background: var(--bg); }
    .card .value { font-size: 24px; font-weight: 700; } .card .name { color: var(--muted); font-size: 12px; }
    .card.bad .value { color: var(--fail); } .card.ok .value { color: var(--pass); }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { background: var(--bg); font-weight: 600; }
    td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    table.counts { width: auto; }
    .kind { display: inline-block; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; background: #eaeef2; border-radius: 4px; padding: 0 5px; margin: 0 2px; }
    tr.error .kind, .kind.error { background: #ffebe9; color: var(--fail); } tr.warning .kind, .kind.warning { background: #fff8c5; color: var(--warn); }
    .sev { font-weight: 700; font-size: 12px; text-transform: uppercase; } .sev.error { color: var(--fail); } .sev.warning { color: var(--warn); }
    .table-wrap { max-height: 480px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
    .table-wrap table { border: 0; } .table-wrap thead th { position: sticky; top: 0; z-index: 1; box-shadow: 0 1px 0 var(--line); }
    table.findings th { cursor: pointer; user-select: none; white-space: nowrap; }
    table.findings th[data-dir="asc"]::after { content: " ▲"; } table.findings th[data-dir="desc"]::after { content: " ▼"; }
    table.findings td.key { overflow-wrap: anywhere; min-width: 16ch; } table.findings td.detail { word-break: break-word; }
    .filters { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; flex-wrap: wrap; }
    .filters input { flex: 1; min-width: 220px; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; }
    .filters select { padding: 4px; border: 1px solid var(--line); border-radius: 6px; }
    .muted { color: var(--muted); } .note { color: var(--warn); font-size: 13px; } .empty { color: var(--pass); }
    .magenta { color: #d0d; font-weight: 700; }
    .thumbs { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; }
    .thumb { margin: 0; padding: 8px; border: 1px solid var(--line); border-radius: 8px; background: var(--bg); }
    .thumb img { display: block; margin: 0 auto 6px; max-width: 100%; height: auto; image-rendering: pixelated; border: 1px solid var(--line);
      background: repeating-conic-gradient(#ddd 0% 25%, #fff 0% 50%) 50% / 12px 12px; }
    .placeholder { height: 56px; display: flex; flex-direction: column; align-items: center; justify-content: center; margin-bottom: 6px;
      border: 2px dashed var(--fail); border-radius: 6px; color: var(--fail); background: #fff; font-size: 12px; }
    .placeholder .x { font-size: 20px; line-height: 1; }
    .thumb figcaption { font-size: 12px; } .thumb .key { display: block; word-break: break-all; font-weight: 600; margin-bottom: 2px; }
    .thumb .reason { color: var(--muted); word-break: break-word; }
    .thumb.wide { grid-column: span 2; } .thumb .keys { font-weight: 600; margin-bottom: 2px; word-break: break-all; }
    .groups { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 14px; }
    .group { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
    .group h3 { margin: 0 0 4px; font-size: 14px; }
    svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
    svg .axis { stroke: #8c959f; } svg .bar { fill: var(--bar); } svg .range { stroke: #8c959f; stroke-width: 2; } svg .mean { stroke: var(--ink); stroke-width: 2; }
    svg .bar.rare { fill: #bf8700; } svg .bar.absent { fill: #ffebe9; stroke: var(--fail); stroke-dasharray: 3 2; }
    svg text.absent { fill: var(--fail); font-weight: 700; } svg text.rare { fill: var(--warn); font-weight: 700; }
    table.stats td, table.stats th { font-size: 12px; padding: 2px 6px; font-variant-numeric: tabular-nums; }
    .norm { font-size: 12px; margin-top: 4px; font-family: ui-monospace, Menlo, Consolas, monospace; } .norm b { display: inline-block; width: 52px; }
    table.more-groups { margin-top: 12px; font-size: 12px; }
    .chart { overflow-x: auto; }
    .legend { font-size: 12px; color: var(--muted); } .legend .sw { display: inline-block; width: 12px; height: 12px; vertical-align: -2px; margin-left: 10px; }
    .sw.ok { background: var(--bar); } .sw.rare { background: #bf8700; } .sw.absent { background: #ffebe9; border: 1px dashed var(--fail); }
    ul.class-notes li.absent { color: var(--fail); } ul.class-notes li.rare { color: var(--warn); }
    footer { margin-top: 36px; color: var(--muted); font-size: 12px; }

    """

  /// Filters and sorting of the findings table. Reads data only from the DOM (no data in script).
  static let script = """
    (function () {
      // Each thumbnail says whether the browser decoded it.
      Array.prototype.forEach.call(document.querySelectorAll('.thumb img'), function (img) {
        function mark() { img.setAttribute('data-decoded', img.naturalWidth > 0 ? 'yes' : 'no'); }
        if (img.complete) mark(); else { img.addEventListener('load', mark); img.addEventListener('error', mark); }
      });
    })();
    (function () {
      var table = document.getElementById('findings-table');
      if (!table) return;
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var text = document.getElementById('f-text');
      var severity = document.getElementById('f-severity');
      var kind = document.getElementById('f-kind');
      var shown = document.getElementById('f-shown');
      function apply() {
        var t = text.value.toLowerCase(), s = severity.value, k = kind.value, n = 0;
        rows.forEach(function (r) {
          var ok = (!s || r.getAttribute('data-severity') === s) && (!k || r.getAttribute('data-kind') === k) &&
            (!t || r.textContent.toLowerCase().indexOf(t) >= 0);
          r.style.display = ok ? '' : 'none';
          if (ok) n++;
        });
        shown.textContent = n + ' of ' + rows.length + ' shown';
      }
      [text, severity, kind].forEach(function (e) {
        e.addEventListener('input', apply);
        e.addEventListener('change', apply);
      });
      var heads = table.tHead.rows[0].cells;
      Array.prototype.forEach.call(heads, function (th, col) {
        th.addEventListener('click', function () {
          var dir = th.getAttribute('data-dir') === 'asc' ? 'desc' : 'asc';
          Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('data-dir'); });
          th.setAttribute('data-dir', dir);
          var numeric = th.getAttribute('data-type') === 'num';
          function value(r) {
            var c = r.cells[col];
            var v = c.getAttribute('data-sort');
            if (v === null) v = c.textContent;
            return numeric ? parseFloat(v) : v.toLowerCase();
          }
          rows.sort(function (a, b) {
            var x = value(a), y = value(b);
            var order = x < y ? -1 : x > y ? 1 : 0;
            if (order === 0) order = parseFloat(a.cells[0].getAttribute('data-sort')) - parseFloat(b.cells[0].getAttribute('data-sort'));
            return dir === 'asc' ? order : -order;
          });
          rows.forEach(function (r) { body.appendChild(r); });
        });
      });
      apply();
    })();

    """
}
