import Foundation

/// python3 for the tests that compare with the ecosystem's tools (OpenCV, h5py, lmdb, an XML
/// parser) or make inputs with them: `make test` installs the packages (`make pydeps`). Scripts
/// import Tests/Python (caffe_datum.py) without a path of their own.
public enum Python {
  /// python3 on the PATH, or nil (DATASAN_TEST_NO_PYTHON=1 acts as a machine without it, to see the
  /// tests that need it skip).
  public static let path: String? = {
    if ProcessInfo.processInfo.environment["DATASAN_TEST_NO_PYTHON"] == "1" { return nil }
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
      let path = "\(dir)/python3"
      if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
  }()

  /// Tests/Python of this package, found from this file.
  public static let modules = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Python").path

  /// What a script did.
  public struct Run {
    public var status: Int32
    public var stdout: Data
    public var stderr: String
  }

  public struct Unavailable: Error, CustomStringConvertible {
    public var description: String { "python3 is not installed here (make test installs it and the packages the tests use)" }
  }

  /// A process running `script` (written to `dir`) with `arguments`, Tests/Python on its import path,
  /// not started yet.
  private static func process(_ script: String, _ arguments: [String], in dir: String) throws -> Process {
    guard let path else { throw Unavailable() }
    let scriptPath = dir + "/script.py"
    try Data(script.utf8).write(to: URL(fileURLWithPath: scriptPath))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = [scriptPath] + arguments
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONPATH"] = [modules, environment["PYTHONPATH"]].compactMap { $0 }.joined(separator: ":")
    process.environment = environment
    return process
  }

  /// A script the test talks to while it runs (e.g. another process holding a database open): started,
  /// with its standard input and output as pipes. The caller waits for it.
  public static func start(_ script: String, _ arguments: [String] = []) throws -> (process: Process, input: Pipe, output: Pipe) {
    let process = try process(script, arguments, in: try TestTemporaryDirectory.make("datasan-python"))
    let (input, output) = (Pipe(), Pipe())
    process.standardInput = input
    process.standardOutput = output
    try ProcessLaunch.run(process)
    return (process, input, output)
  }

  /// Runs `script` (written to a file in a temporary folder) with `arguments`, Tests/Python on its
  /// import path. Throws ``Unavailable`` without python3.
  public static func run(_ script: String, _ arguments: [String]) throws -> Run {
    let dir = try TestTemporaryDirectory.make("datasan-python")
    let process = try process(script, arguments, in: dir)
    let out = Pipe()
    // stderr to a file: a pipe could fill while stdout is drained.
    let errPath = dir + "/stderr"
    FileManager.default.createFile(atPath: errPath, contents: nil)
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    process.standardOutput = out
    process.standardError = err
    try ProcessLaunch.run(process)
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try err.close()
    let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return Run(status: process.terminationStatus, stdout: stdout, stderr: stderr)
  }
}
