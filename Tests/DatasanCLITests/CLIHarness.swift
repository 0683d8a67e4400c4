import Foundation
import DatasanTestSupport
import Testing

/// Runs the built `datasan` binary as a user would and captures what it prints.
struct CLI {
  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
    /// The signal that ended the process, when one did (then `status` is that signal's number).
    var signal: Int32? = nil
    /// The run outlived its `timeout` and was stopped (SIGTERM, then SIGKILL 2 s later).
    var timedOut = false
  }

  /// The package root, found from this file.
  static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static func fixture(_ path: String) -> String { root.appendingPathComponent("Fixtures/" + path).path }

  /// The files under `root` (not the folders), as paths relative to it, sorted.
  static func files(under root: String) -> [String] {
    let e = FileManager.default.enumerator(atPath: root)
    var out: [String] = []
    while let p = e?.nextObject() as? String {
      var isDir: ObjCBool = false
      FileManager.default.fileExists(atPath: root + "/" + p, isDirectory: &isDir)
      if !isDir.boolValue { out.append(p) }
    }
    return out.sorted()
  }

  /// The `datasan` executable: DATASAN_BINARY when set (make test-asan / test-tsan set it to their
  /// sanitized build), else the one built beside this test bundle.
  static let binary: String = {
    if let path = ProcessInfo.processInfo.environment["DATASAN_BINARY"], !path.isEmpty {
      return path.hasPrefix("/") ? path : root.appendingPathComponent(path).path
    }
    var candidates: [URL] = []
    if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
    candidates.append(Bundle.main.bundleURL)
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
    candidates.append(root.appendingPathComponent(".build/debug"))
    for dir in candidates {
      let path = dir.appendingPathComponent("datasan").path
      if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return root.appendingPathComponent(".build/debug/datasan").path
  }()

  static func run(
    _ arguments: [String], cwd: String? = nil, environment: [String: String] = [:], binary: String = CLI.binary,
    timeout: Double? = nil
  ) throws -> Result {
    let process = try start(arguments, cwd: cwd, environment: environment, binary: binary)
    let timedOut = Flag()
    if let timeout {
      let pid = process.processIdentifier
      DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
        guard process.isRunning else { return }
        timedOut.set()
        kill(pid, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + 2) { if process.isRunning { kill(pid, SIGKILL) } }
      }
    }
    let out = process.standardOutput as! Pipe
    let err = process.standardError as! Pipe
    // Read both pipes to the end before waiting, so a chatty child never blocks.
    let stdout = Locked(Data())
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      let data = out.fileHandleForReading.readDataToEndOfFile()
      stdout.withLock { $0 = data }
      group.leave()
    }
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let outData = stdout.value
    process.waitUntilExit()
    let stderr = String(decoding: errData, as: UTF8.self)
    if let finding = Sanitizer.finding(in: stderr) {
      Issue.record("datasan \(arguments.joined(separator: " ")): \(finding)")
    }
    return Result(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: stderr,
      signal: process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil,
      timedOut: timedOut.isSet)
  }

  /// Starts `datasan arguments` and waits, up to 120 s, until a temporary output (`.datasan-tmp`)
  /// appears in `folder`: the moment to disturb a run. Returns the process (still running unless
  /// it ended first) and whether a temporary appeared.
  static func startAwaitingTemporary(_ arguments: [String], in folder: String) throws -> (Process, sawTemporary: Bool) {
    let process = try start(arguments)
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline && process.isRunning {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
      if names.contains(where: { $0.contains(".datasan-tmp") }) { return (process, true) }
      usleep(2_000)
    }
    return (process, false)
  }

  static func start(
    _ arguments: [String], cwd: String? = nil, environment: [String: String] = [:], binary: String = CLI.binary
  ) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    process.standardOutput = Pipe()
    process.standardError = Pipe()
    try ProcessLaunch.run(process)  // one launch at a time, with every other launcher of the tests
    return process
  }
}

extension Sanitizer {
  /// The report a sanitized `datasan` printed on stderr, whatever its exit: a test that expects
  /// exit 1 or 2 would not notice it otherwise.
  static func finding(in stderr: String) -> String? {
    guard active != nil else { return nil }
    return stderr.split(separator: "\n").first {
      $0.contains("ERROR: AddressSanitizer") || $0.contains("ERROR: LeakSanitizer") || $0.contains("WARNING: ThreadSanitizer")
        || $0.contains(": runtime error: ")
    }.map { String($0) + "\n" + stderr.prefix(4000) }
  }
}

/// A flag set once, read from any thread.
typealias Flag = Locked<Bool>

extension Locked<Bool> {
  convenience init() { self.init(false) }
  var isSet: Bool { value }
  func set() { withLock { $0 = true } }
}

/// Writes a CSV file: `header`, then `row(n)` for n in 0..<rows (each ending in a newline),
/// streamed in pieces of about 1 MiB.
func writeCSV(_ path: String, header: String, rows: Int, _ row: (Int) -> String) throws {
  _ = FileManager.default.createFile(atPath: path, contents: nil)
  let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
  var text = header
  text.reserveCapacity(1 << 20)
  for n in 0..<rows {
    text += row(n)
    if text.utf8.count > 1 << 20 {
      try handle.write(contentsOf: Data(text.utf8))
      text.removeAll(keepingCapacity: true)
    }
  }
  try handle.write(contentsOf: Data(text.utf8))
  try handle.close()
}

/// A fresh temporary folder per test.
func makeTempDir() throws -> String {
  try TestTemporaryDirectory.make("datasan-cli")
}

/// The JSON report, decoded with Foundation (independent of datasan's own JSON writer).
struct Report: Decodable {
  struct Samples: Decodable { var total: Int; var clean: Int; var flagged: Int }
  struct Issue: Decodable {
    var kind: String
    var severity: String
    var index: Int?
    var key: String?
    var field: String?
    var detail: String
  }
  struct Group: Decodable { var name: String; var count: Int; var min: Double?; var max: Double?; var mean: Double?; var std: Double? }
  struct Labels: Decodable { var min: Double?; var max: Double?; var histogram: [String: Int] }
  struct Stats: Decodable { var groups: [Group]; var labels: Labels? }
  struct Input: Decodable { var path: String; var format: String }
  var schema: String
  var input: Input
  var samples: Samples
  var counts: [String: Int]
  var issues: [Issue]
  var issues_truncated: Bool
  var stats: Stats
  var passed: Bool

  static func load(_ path: String) throws -> Report {
    try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
  }

  func count(_ kind: String) -> Int { counts[kind] ?? 0 }
}

/// One line of a `.reasons.jsonl` file.
struct Reason: Decodable, Equatable {
  var index: Int
  var key: String
  var kinds: [String]
  var detail: String

  static func load(_ path: String) throws -> [Reason] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
      try JSONDecoder().decode(Reason.self, from: Data($0.utf8))
    }
  }
}
