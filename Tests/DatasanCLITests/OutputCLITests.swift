import DatasanTestSupport
import Foundation
import Testing

/// What datasan prints goes through one buffered writer (Sources/datasan/Console.swift): stdout in
/// order with the reports written to /dev/stdout, flushed before exit, and a reader that went away
/// (`datasan scan … | head -1`) ends that output in silence, with the command's exit code.
@Suite struct OutputCLITests {
  /// Runs `datasan arguments` with stdout a pipe whose reading end is closed before it starts: every
  /// write to stdout fails with EPIPE (datasan ignores SIGPIPE). Returns the exit status, whether a
  /// signal ended it, and stderr.
  func runIntoClosedPipe(_ arguments: [String], environment: [String: String] = [:]) throws -> (
    status: Int32, signaled: Bool, stderr: String
  ) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLI.binary)
    process.arguments = arguments
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try out.fileHandleForReading.close()
    try ProcessLaunch.run(process)
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, process.terminationReason == .uncaughtSignal, stderr)
  }

  @Test(arguments: ["1", "0"]) func aClosedPipeOnStdoutEndsTheOutputQuietly(supervise: String) throws {
    let environment = ["DATASAN_SUPERVISE": supervise]
    // A failing scan with more to print than a pipe holds: 50 annotations and the summary.
    let scan = try runIntoClosedPipe(
      ["scan", CLI.fixture("hdf5/dirty.h5"), "--annotations", "github", "--quiet"], environment: environment)
    #expect(!scan.signaled && scan.status == 1, "\(scan)")
    #expect(scan.stderr.isEmpty, "\(scan.stderr)")
    let passing = try runIntoClosedPipe(["scan", CLI.fixture("hdf5/clean_small.h5"), "--quiet"], environment: environment)
    #expect(!passing.signaled && passing.status == 0 && passing.stderr.isEmpty, "\(passing)")
    // A usage error still says why on stderr.
    let usage = try runIntoClosedPipe(["scan", "--bogus"], environment: environment)
    #expect(usage.status == 2 && usage.stderr.contains("--bogus"), "\(usage)")
  }

  @Test func helpAndCompletionIntoAClosedPipeExit0() throws {
    for arguments in [["--help"], ["scan", "--help"], ["--generate-completion-script", "zsh"], ["--version"]] {
      let r = try runIntoClosedPipe(arguments)
      #expect(!r.signaled && r.status == 0 && r.stderr.isEmpty, "\(arguments): \(r)")
    }
  }

  @Test func reportsOnStdoutComeBeforeTheSummary() throws {
    // The JSON report is written to /dev/stdout as the command runs; the summary and the
    // annotations follow it, in that order.
    let r = try CLI.run([
      "scan", CLI.fixture("hdf5/dirty.h5"), "--report", "/dev/stdout", "--annotations", "github", "--quiet",
    ])
    #expect(r.status == 1)
    let report = try #require(r.stdout.range(of: "\"schema\""))
    let summary = try #require(r.stdout.range(of: "datasan: " + CLI.fixture("hdf5/dirty.h5")))
    let annotation = try #require(r.stdout.range(of: "::error "))
    #expect(report.lowerBound < summary.lowerBound && summary.lowerBound < annotation.lowerBound)
    #expect(r.stdout.hasSuffix("\n"))
  }

  @Test func aReportOnStdoutThatIsARegularFileIsWrittenIntoIt() throws {
    // stdout a regular file: /dev/stdout resolves to it, and the report goes into it through
    // stdout, before the summary (it used to be written under a temporary name and renamed onto
    // /dev/stdout, which replaced that link, as root, with a file of its own).
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("datasan-output-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let before = try FileManager.default.attributesOfItem(atPath: "/dev/stdout")[.type] as? FileAttributeType
    for (name, stream) in [("out", "/dev/stdout"), ("fd", "/dev/fd/1")] {
      let path = dir + "/" + name + ".txt"
      let process = Process()
      process.executableURL = URL(fileURLWithPath: CLI.binary)
      process.arguments = ["scan", CLI.fixture("hdf5/dirty.h5"), "--report", stream, "--quiet"]
      FileManager.default.createFile(atPath: path, contents: nil)
      let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
      process.standardOutput = file
      try ProcessLaunch.run(process)
      process.waitUntilExit()
      try file.close()
      #expect(process.terminationStatus == 1)
      let text = try String(contentsOfFile: path, encoding: .utf8)
      #expect(text.hasPrefix("{\n  \"schema\": \"datasan-report/1\""), "\(stream): \(text.prefix(200))")
      #expect(text.contains("}\ndatasan: " + CLI.fixture("hdf5/dirty.h5")) && text.hasSuffix("FAIL: 4 flagged samples\n"))
    }
    let after = try FileManager.default.attributesOfItem(atPath: "/dev/stdout")[.type] as? FileAttributeType
    #expect(after == before && after != .typeRegular)
  }
}
