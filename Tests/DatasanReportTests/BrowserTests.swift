import Datasan
import DatasanPNG
import Foundation
import Testing

/// The HTML report rendered by a real browser: headless Chromium loads the page of a fixture,
/// the DOM it ends with (after the page's script ran) must hold the verdict, the broken keys, a
/// histogram per group and decoded thumbnails, and its screenshot must not be blank.
///
/// `DATASAN_UPDATE_SCREENSHOT=1` also writes the demo's screenshot to docs/report.png.
@Suite(.serialized, .enabled(if: Chromium.executable != nil, Chromium.skipMessage))
struct BrowserTests {
  struct Rendered {
    var dom: String
    var screenshot: DecodedImage
    var screenshotPath: String
    /// The temporary folder of the page and the screenshot (removed by ``remove()``).
    var dir: String
    func remove() { try? FileManager.default.removeItem(atPath: dir) }
  }

  func render(_ report: ScanReport, _ options: HTMLReport.Options, height: Int = 2000) throws -> Rendered {
    let dir = try makeTempDir()
    let page = dir + "/report.html"
    try HTMLReport.render(report, version: "0.1.0", options: options).write(toFile: page, atomically: true, encoding: .utf8)
    let url = URL(fileURLWithPath: page).absoluteString
    let shot = dir + "/screenshot.png"
    let dump = try Chromium.run(["--dump-dom"], url: url, profile: dir + "/profile-dom")
    #expect(dump.status == 0, "chromium --dump-dom exited with \(dump.status)")
    let screenshot = try Chromium.run(
      ["--screenshot=" + shot, "--window-size=1280,\(height)"], url: url, profile: dir + "/profile-shot")
    #expect(screenshot.status == 0, "chromium --screenshot exited with \(screenshot.status)")
    for profile in ["/profile-dom", "/profile-shot"] { try? FileManager.default.removeItem(atPath: dir + profile) }
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: shot)))
    let image = try bytes.withUnsafeBytes { PNGDecoder.decode($0, maxPixels: 1 << 26, channelAxis: .last) }.get()
    return Rendered(dom: dump.stdout, screenshot: image, screenshotPath: shot, dir: dir)
  }

  /// Distinct colours of the screenshot, and how many pixels are close to `rgb`.
  func colours(_ image: DecodedImage, near rgb: (Int, Int, Int)) -> (distinct: Int, near: Int) {
    var seen = Set<UInt32>()
    var near = 0
    let c = image.channels
    var i = 0
    while i + 2 < image.bytes.count {
      let (r, g, b) = (Int(image.bytes[i]), Int(image.bytes[i + 1]), Int(image.bytes[i + 2]))
      seen.insert(UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b))
      if abs(r - rgb.0) + abs(g - rgb.1) + abs(b - rgb.2) < 24 { near += 1 }
      i += c
    }
    return (seen.count, near)
  }

  static let failRed = (0xCF, 0x22, 0x2E)

  @Test func pngFolderReport() throws {
    let (report, options) = try Fixture.scan("png/train")
    let r = try render(report, options)
    defer { r.remove() }
    let dom = r.dom
    #expect(dom.contains("data-verdict=\"FAIL\""))
    #expect(dom.contains("<div class=\"word\">FAIL</div>"))
    // The findings table, broken keys first, and the script ran (it wrote the row count).
    for (key, kind) in [("dog/dog_03.png", "unreadable"), ("zebra/zebra_05.png", "unreadable"), ("cat/cat_07.png", "shape_mismatch")] {
      #expect(dom.contains("<tr class=\"error\" data-severity=\"error\" data-kind=\"\(kind)\" data-key=\"\(key)\">"), "row of \(key)")
    }
    let firstError = try #require(dom.range(of: "data-severity=\"error\""))
    let firstWarning = try #require(dom.range(of: "data-severity=\"warning\""))
    #expect(firstError.lowerBound < firstWarning.lowerBound)
    #expect(dom.contains("\(report.issues.count) of \(report.issues.count) shown"))
    // One histogram per group (3 channels), the label histogram, the thumbnails.
    #expect(occurrences(of: "<svg class=\"hist\"", in: dom) == 3)
    #expect(dom.contains("<svg id=\"label-histogram\""))
    #expect(occurrences(of: "<img src=\"data:image/png;base64,", in: dom) == 1)
    #expect(occurrences(of: "data-decoded=\"yes\"", in: dom) == 1)
    #expect(occurrences(of: "class=\"placeholder\"", in: dom) == 2)
    let (distinct, red) = colours(r.screenshot, near: Self.failRed)
    #expect(r.screenshot.width == 1280)
    #expect(distinct > 50, "the screenshot looks blank: \(distinct) colours")
    #expect(red > 5000, "no FAIL banner in the screenshot")
  }

  @Test func hdf5Report() throws {
    let (report, options) = try Fixture.scan("hdf5/dirty.h5")
    let r = try render(report, options)
    defer { r.remove() }
    let dom = r.dom
    #expect(dom.contains("data-verdict=\"FAIL\""))
    for (key, kind) in [("3", "nan_value"), ("5", "label_out_of_domain"), ("7", "inf_value"), ("11", "inf_value")] {
      #expect(dom.contains("<tr class=\"error\" data-severity=\"error\" data-kind=\"\(kind)\" data-key=\"\(key)\">"), "row of sample \(key)")
    }
    #expect(occurrences(of: "<svg class=\"hist\"", in: dom) == 3)
    // The NaN / Inf / bad-label samples are 3 x 8 x 8 images: four decoded thumbnails.
    #expect(occurrences(of: "<img src=\"data:image/png;base64,", in: dom) == 4)
    #expect(occurrences(of: "data-decoded=\"yes\"", in: dom) == 4)
    for key in ["3", "5", "7", "11"] { #expect(dom.contains("<figure class=\"thumb\" data-key=\"\(key)\""), "thumbnail of \(key)") }
    #expect(dom.contains("minmax</b> y = x × "))
    let (distinct, red) = colours(r.screenshot, near: Self.failRed)
    #expect(distinct > 50 && red > 5000)
  }

  @Test func demoReportScreenshot() throws {
    let (report, options) = try Fixture.scan("demo/train.h5", numClasses: 10)
    let r = try render(report, options, height: 2000)
    defer { r.remove() }
    #expect(occurrences(of: "data-decoded=\"yes\"", in: r.dom) == 7)
    // The 16 samples of the corrupt chunk share one placeholder tile that names each of them.
    #expect(occurrences(of: "class=\"placeholder\"", in: r.dom) == 1)
    #expect(r.dom.contains("data-count=\"16\""))
    for key in 80...95 { #expect(r.dom.contains("<code data-key=\"\(key)\">")) }
    #expect(colours(r.screenshot, near: Self.failRed).distinct > 50)
    if ProcessInfo.processInfo.environment["DATASAN_UPDATE_SCREENSHOT"] == "1" {
      let target = Fixture.root + "/docs/report.png"
      try? FileManager.default.removeItem(atPath: target)
      try FileManager.default.copyItem(atPath: r.screenshotPath, toPath: target)
    }
  }
}
