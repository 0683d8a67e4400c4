import Datasan
import Foundation
import DatasanTestSupport
import Testing

/// Paths and scans for the report tests.
enum Fixture {
  /// The package root, found from this file.
  static let root: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  /// The absolute path of a fixture.
  static func path(_ relative: String) -> String { root + "/Fixtures/" + relative }

  /// Scans a fixture through the library, as `datasan scan FIXTURE --html` will: histograms on,
  /// flagged samples kept. `display` replaces the input path the report shows (the path relative
  /// to the package root, as when run from there).
  static func scan(
    _ relative: String, numClasses: Int? = nil, histograms: Bool = true, keep: Int = 48,
    channelAxis: ChannelAxis = .first
  ) throws -> (report: ScanReport, options: HTMLReport.Options) {
    let formats = Formats()
    let path = path(relative)
    var config = ScanConfiguration(input: path, format: try formats.detectFormat(path: path))
    config.checks.numClasses = numClasses
    config.checks.histograms = histograms
    config.checks.channelAxis = channelAxis
    config.read.channelAxis = channelAxis
    config.keepFlaggedSamples = keep
    var report = try Pipeline(backend: formats).scan(config)
    // Paths as a user running datasan from the package root sees them.
    func relativize(_ f: Finding) -> Finding {
      var f = f
      f.detail = f.detail.replacingOccurrences(of: root + "/", with: "")
      return f
    }
    report.info.path = "Fixtures/" + relative
    report.issues = report.issues.map(relativize)
    report.datasetFindings = report.datasetFindings.map(relativize)
    return (report, HTMLReport.Options(checks: config.checks))
  }
}

func makeTempDir() throws -> String {
  try TestTemporaryDirectory.make("datasan-report")
}

/// Occurrences of `needle` in `s`.
func occurrences(of needle: String, in s: String) -> Int { s.components(separatedBy: needle).count - 1 }


/// Headless Chromium, when installed (`make browser` installs Debian's `chromium`).
enum Chromium {
  /// `$CHROMIUM`, else the first of the usual names on `$PATH`.
  static let executable: String? = {
    let env = ProcessInfo.processInfo.environment
    if let given = env["CHROMIUM"], FileManager.default.isExecutableFile(atPath: given) { return given }
    let dirs = (env["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/snap/bin"]
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"] {
      for dir in dirs where FileManager.default.isExecutableFile(atPath: dir + "/" + name) { return dir + "/" + name }
    }
    return nil
  }()

  static let skipMessage: Comment =
    "Chromium not found: the HTML report was not rendered in a browser (install it with `make browser`, or set CHROMIUM)"

  /// Runs headless Chromium on `url` with `arguments`; returns its stdout. Killed after `timeout` seconds.
  static func run(_ arguments: [String], url: String, profile: String, timeout: Double = 120) throws -> (status: Int32, stdout: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable!)
    process.arguments =
      [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--no-default-browser-check", "--hide-scrollbars", "--disable-extensions", "--user-data-dir=" + profile,
      ] + arguments + [url]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle(forWritingAtPath: "/dev/null")
    try ProcessLaunch.run(process)
    let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    watchdog.cancel()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }
}
