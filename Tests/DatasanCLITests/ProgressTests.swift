import Foundation
import DatasanTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The progress bar: drawn on stderr while it is a terminal (here the slave side of a pseudo-
/// terminal), cleared at the end; nothing with `--quiet` or when stderr is not a terminal.
@Suite(.serialized) struct ProgressTests {
  struct TerminalRun {
    var status: Int32
    var stdout: String
    /// Everything the program wrote to the terminal (its stderr).
    var terminal: String
    var seconds: Double
  }

  typealias OpenPTY = @convention(c) (
    UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<CChar>?, UnsafeRawPointer?,
    UnsafeMutablePointer<winsize>?
  ) -> Int32

  /// openpty(3): in libc since glibc 2.34, in libutil before (pty.h is not in the Glibc module).
  static let openpty: OpenPTY? = {
    var symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "openpty")  // RTLD_DEFAULT
    if symbol == nil, let util = dlopen("libutil.so.1", RTLD_NOW) { symbol = dlsym(util, "openpty") }
    return symbol.map { unsafeBitCast($0, to: OpenPTY.self) }
  }()

  /// Runs `datasan ARGS` with stderr on a new pseudo-terminal of `columns` columns and stdout on a pipe.
  static func runOnTerminal(_ arguments: [String], columns: UInt16 = 200) throws -> TerminalRun {
    var master: Int32 = -1
    var slave: Int32 = -1
    var size = winsize(ws_row: 40, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
    guard let openpty = Self.openpty, openpty(&master, &slave, nil, nil, &size) == 0 else {
      throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no pseudo-terminal (openpty): \(errno)"])
    }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLI.binary)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
    let started = Date()
    try ProcessLaunch.run(process)
    close(slave)  // the child holds the only other end: reads end (EIO) when it exits

    let captured = Locked([UInt8]())
    let terminalFD = master
    let done = DispatchSemaphore(value: 0)
    let reader = Thread {
      var buffer = [UInt8](repeating: 0, count: 4096)
      while true {
        let n = buffer.withUnsafeMutableBytes { read(terminalFD, $0.baseAddress!, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        captured.withLock { $0.append(contentsOf: buffer[0..<n]) }
      }
      done.signal()
    }
    reader.start()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let seconds = Date().timeIntervalSince(started)
    _ = done.wait(timeout: .now() + 30)
    close(master)
    return TerminalRun(
      status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
      terminal: String(decoding: captured.value, as: UTF8.self), seconds: seconds)
  }

  /// A CSV of `rows` rows of 6 features and a label.
  static func csv(rows: Int, in dir: String) throws -> String {
    let path = dir + "/progress-\(rows).csv"
    try writeCSV(path, header: "a,b,c,d,e,f,label\n", rows: rows) { row in
      let v = Double(row % 991) * 0.25
      return "\(v),\(v + 1),\(v * 0.5),\(row % 17),\(v - 3),\(v * 0.125),\(row % 10)\n"
    }
    return path
  }

  /// A scan of a CSV that takes well over 0.5 s on this machine, on a terminal.
  static func longScan(_ extra: [String] = [], columns: UInt16 = 200) throws -> TerminalRun {
    let dir = try makeTempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var rows = 200_000
    while true {
      let input = try csv(rows: rows, in: dir)
      let run = try runOnTerminal(["scan", input] + extra, columns: columns)
      if run.seconds > 1.2 || rows >= 6_400_000 { return run }
      try? FileManager.default.removeItem(atPath: input)
      rows *= 2
    }
  }

  @Test func barIsDrawnAndCleared() throws {
    let run = try Self.longScan()
    let t = run.terminal
    #expect(run.status == 0, "\(run.stdout)\n\(t)")
    #expect(run.seconds > 0.5)
    #expect(t.contains("\r"))
    #expect(t.contains("samples/s"))
    #expect(t.contains("MB/s"))
    #expect(t.contains("ETA"))
    // done / total: samples for formats that know their count, MB read / MB for CSV.
    #expect(t.range(of: #"\d[\d,]*(\.\d)?/\d[\d,]*(\.\d)? MB"#, options: .regularExpression) != nil, "\(t.debugDescription)")
    #expect(t.contains("[#"))
    // Cleared at the end: the last thing written is carriage return + erase line.
    #expect(t.hasSuffix("\r\u{1B}[K"), "ends with \(String(t.suffix(40)).debugDescription)")
    // Never a newline: the bar stays on one line, redrawn at most 4 times a second.
    #expect(!t.contains("\n"))
    let redraws = t.components(separatedBy: "\r\u{1B}[K").count - 2
    #expect(redraws >= 1 && Double(redraws) <= run.seconds * 4 + 1)
    // stdout has the summary only.
    #expect(run.stdout.contains("PASS") && !run.stdout.contains("samples/s"))
  }

  @Test func barFitsANarrowTerminal() throws {
    let narrow = try Self.longScan(columns: 40)
    #expect(narrow.terminal.contains("scan ["))
    for line in narrow.terminal.components(separatedBy: "\r\u{1B}[K") {
      #expect(line.count < 40, "\(line.debugDescription) is wider than the terminal")
    }
  }

  @Test func quietDrawsNothing() throws {
    let run = try Self.longScan(["--quiet"])
    #expect(run.status == 0)
    #expect(run.terminal.isEmpty, "\(run.terminal.debugDescription)")
  }

  @Test func nothingWhenStderrIsNotATerminal() throws {
    let dir = try makeTempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let input = try Self.csv(rows: 400_000, in: dir)
    let result = try CLI.run(["scan", input])
    #expect(result.status == 0)
    #expect(result.stderr.isEmpty, "\(result.stderr.debugDescription)")
  }
}
