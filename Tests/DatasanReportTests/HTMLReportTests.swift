import Datasan
import DatasanCSV
import DatasanPNG
import Foundation
import Testing

@testable import DatasanCore

/// The HTML page as text: content, escaping, ordering, bounds. (BrowserTests render it.)
@Suite struct HTMLReportTests {
  static func info(_ format: DataFormat = .csv, shape: [Int]? = [2]) -> DatasetInfo {
    var info = DatasetInfo(
      format: format, path: "data/<train>.csv", sampleCount: nil, elementType: .float64, sampleShape: shape,
      featureName: "features", labelName: "label")
    info.samplesAreImages = format == .png  // as the PNG folder reader says
    return info
  }

  @Test func userDataIsEscaped() {
    var report = ScanReport(info: Self.info())
    report.total = 2
    report.flagged = 1
    report.clean = 1
    report.passed = false
    let evil = "<script>alert('x')</script>\"&"
    report.issues = [Finding(kind: .unreadable, severity: .error, index: 0, key: evil, field: evil, detail: evil)]
    report.counts = [.unreadable: 1]
    var g = GroupStats(name: "<img src=x onerror=alert(1)>")
    g.values.add(1)
    report.groupStats = [g]
    let html = HTMLReport.render(report, version: "0.1.0\"><b>")
    #expect(!html.contains("<script>alert"))
    #expect(!html.contains("<img src=x"))
    #expect(!html.contains("0.1.0\"><b>"))
    #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"))
    #expect(html.contains("data/&lt;train&gt;.csv"))
    // Exactly one script element: ours.
    #expect(occurrences(of: "<script", in: html) == 1)
    // Nothing from the network.
    #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("src=\"//"))
    #expect(html.contains("Content-Security-Policy"))
  }


  /// The HTML and the JUnit report escape through one rule (MarkupEscaping): the five special
  /// characters, `'` as each format spells it, control characters as U+FFFD (XML 1.0 forbids them).
  @Test func junitEscapesAsTheHTMLReportDoes() {
    let text = "<a href='x'>\"&\u{1}\u{7F}\ttab"
    var info = Self.info()
    info.path = text  // in the test cases' class names
    let report = ScanReport(info: info)
    let xml = JUnitReport.xml(of: report)
    #expect(xml.contains("&lt;a href=&apos;x&apos;&gt;&quot;&amp;\u{FFFD}\u{FFFD}\ttab"), "\(xml)")
    #expect(HTMLReport.escape(text) == "&lt;a href=&#39;x&#39;&gt;&quot;&amp;\u{FFFD}\u{FFFD}\ttab")
    #expect(!xml.unicodeScalars.contains { $0.value < 0x20 && !["\n", "\t", "\r"].contains($0) })
  }
  @Test func brokenSamplesFirstAndTablesBounded() {
    var report = ScanReport(info: Self.info())
    report.total = 5000
    report.flagged = 2000
    report.passed = false
    report.issues = [Finding(kind: .unnormalizedScale, severity: .warning, field: "x", detail: "x ranges over [0, 255]")]
    for i in 0..<2000 {
      report.issues.append(Finding(kind: .nanValue, severity: .error, index: i, key: "line \(i + 2)", field: "features", detail: "1 NaN value"))
    }
    report.issuesTruncated = true
    report.counts = [.nanValue: 2000, .unnormalizedScale: 1]
    let html = HTMLReport.render(report, version: "0.1.0")
    let rows = occurrences(of: "<tr class=\"error\" data-severity", in: html) + occurrences(of: "<tr class=\"warning\" data-severity", in: html)
    #expect(rows == 500)
    #expect(html.contains("The first 500 of 2,001 listed findings are shown."))
    // The first row is the first broken sample, not the dataset warning (which is cut).
    let firstRow = html.range(of: "<tr class=\"error\" data-severity")!
    let firstWarning = html.range(of: "<tr class=\"warning\" data-severity")
    #expect(firstWarning == nil || firstRow.lowerBound < firstWarning!.lowerBound)
    #expect(html.contains("data-key=\"line 2\""))
    #expect(html.contains("id=\"verdict\" class=\"verdict fail\""))
    #expect(html.utf8.count < 400_000)
  }

  @Test func labelsMarkAbsentAndRareClasses() {
    var report = ScanReport(info: Self.info())
    var labels = LabelStats()
    for _ in 0..<1000 { labels.add(0) }
    for _ in 0..<500 { labels.add(1) }
    for _ in 0..<5 { labels.add(3) }  // rare: 5 < 1% of 1000
    report.labelStats = labels
    report.passed = true
    var options = HTMLReport.Options()
    options.numClasses = 5
    let html = HTMLReport.render(report, version: "0.1.0", options: options)
    #expect(html.contains("id=\"verdict\" class=\"verdict pass\""))
    #expect(html.contains("<rect class=\"bar absent\" data-class=\"2\""))
    #expect(html.contains("<rect class=\"bar absent\" data-class=\"4\""))
    #expect(html.contains("<rect class=\"bar rare\" data-class=\"3\""))
    #expect(html.contains("<rect class=\"bar ok\" data-class=\"1\""))
    #expect(html.contains("2 absent classes</b> of 5: 2, 4"))
    #expect(html.contains("1 rare class</b>: 3 (5)"))
  }

  @Test func normalizationShown() throws {
    var report = ScanReport(info: Self.info())
    var g = GroupStats(name: "pixels")
    g.histogram = StreamingHistogram()
    for v in [0.0, 255, 100, 50] {
      g.values.add(v)
      g.histogram!.add(v)
    }
    var constant = GroupStats(name: "bias")
    constant.values.add(1)
    constant.values.add(1)
    report.groupStats = [g, constant]
    let html = HTMLReport.render(report, version: "0.1.0")
    let scale = 2.0 / 255
    #expect(html.contains("y = x × \(String(format: "%.4g", scale)) − 1"))
    #expect(html.contains("y = (x − 101.2) / "))
    #expect(html.contains("constant group: maps to 0"))
    #expect(occurrences(of: "<svg class=\"hist\"", in: html) == 2)
  }

  @Test func imageInputWithoutKeptSamplesSaysSo() throws {
    var info = Self.info(.png, shape: nil)
    info.samplesAreImages = true  // what the PNG folder reader says
    var report = ScanReport(info: info)
    report.total = 3
    report.flagged = 1
    report.passed = false
    let html = HTMLReport.render(report, version: "0.1.0")
    #expect(html.contains("id=\"flagged-images\""))
    #expect(html.contains("keepFlaggedSamples"))
  }

  @Test func pngFolderThumbnailsAndPlaceholders() throws {
    let (report, options) = try Fixture.scan("png/train")
    #expect(report.flaggedSamples.count == 3)
    let html = HTMLReport.render(report, version: "0.1.0", options: options)
    // cat_07 (shape mismatch) decoded: a thumbnail; dog_03 and zebra_05 did not: placeholders with the reason.
    #expect(occurrences(of: "<img src=\"data:image/png;base64,", in: html) == 1)
    #expect(occurrences(of: "class=\"placeholder\"", in: html) == 2)
    for key in ["cat/cat_07.png", "dog/dog_03.png", "zebra/zebra_05.png"] {
      #expect(html.contains("<figure class=\"thumb\" data-key=\"\(key)\""))
    }
    #expect(html.contains("IDAT: incorrect data check"))
    #expect(occurrences(of: "<svg class=\"hist\"", in: html) == 3)
    #expect(html.contains("id=\"label-histogram\""))
  }

  @Test func thumbnailsAreCapped() throws {
    let (report, _) = try Fixture.scan("hdf5/dirty.h5")
    var options = HTMLReport.Options()
    options.maxThumbnails = 2
    let html = HTMLReport.render(report, version: "0.1.0", options: options)
    #expect(occurrences(of: "<figure class=\"thumb\"", in: html) == 2)
    #expect(html.contains("2 of 4 flagged samples shown."))
  }
}
