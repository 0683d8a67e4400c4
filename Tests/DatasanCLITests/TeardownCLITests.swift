import DatasanTestSupport
import Foundation
import Testing

/// Any error at any point of a run stops every thread, removes every temporary and exits 2 with
/// one line; the input is never written. Each case runs several times: the teardown bug these
/// guard against struck about 4 runs in 10.
@Suite struct TeardownCLITests {
  /// Exit 2, one stderr line that mentions `mention`, no temporary left in `folders`.
  static func expectVerdict(
    _ r: CLI.Result, mentions mention: String, folders: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(r.status == 2, "exit \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.hasSuffix("\n") && r.stderr.dropLast().split(separator: "\n", omittingEmptySubsequences: false).count == 1,
      "not one line: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.contains(mention), "\(r.stderr) does not mention \(mention)", sourceLocation: sourceLocation)
    for folder in folders {
      let left = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.contains("datasan-tmp") }
      #expect(left.isEmpty, "left behind in \(folder): \(left)", sourceLocation: sourceLocation)
    }
  }

  static func csv(in dir: String, name: String = "train.csv", columns: Int, rows: Int) throws -> String {
    let path = dir + "/" + name
    let header = (0..<columns).map { "f\($0)" }.joined(separator: ",") + ",label\n"
    try writeCSV(path, header: header, rows: rows) { row in
      (0..<columns).map { "\(Double((row * 7 + $0) % 101) * 0.25)" }.joined(separator: ",") + ",\(row % 2)\n"
    }
    return path
  }

  static func contents(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

  @Test func statsInWithAnotherNumberOfGroups() throws {
    let dir = try makeTempDir()
    let other = try TeardownCLITests.csv(in: dir, name: "other.csv", columns: 2, rows: 50)
    let stats = dir + "/stats.json"
    let made = try CLI.run(["clean", other, "-o", dir + "/other.clean.csv", "--stats-out", stats, "--quiet"])
    #expect(made.status == 0, "\(made.stderr)")
    let input = try TeardownCLITests.csv(in: dir, columns: 3, rows: 60_000)
    let before = try TeardownCLITests.contents(input)
    let out = dir + "/out"
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    for _ in 0..<10 {
      let r = try CLI.run(["clean", input, "-o", out + "/clean.csv", "--stats-in", stats, "--quiet"])
      // Matched by column name: the third column has no statistics.
      TeardownCLITests.expectVerdict(r, mentions: "no statistics for group 'f2'", folders: [out])
      #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
    }
    #expect(try TeardownCLITests.contents(input) == before)
  }

  @Test func statsInAlongAnotherChannelAxis() throws {
    let dir = try makeTempDir()
    let input = CLI.fixture("hdf5/dirty.h5")
    let stats = dir + "/stats.json"
    let made = try CLI.run(["clean", input, "-o", dir + "/first.h5", "--stats-out", stats, "--quiet"])
    #expect(made.status == 0, "\(made.stderr)")
    let out = dir + "/out"
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    for _ in 0..<5 {
      let r = try CLI.run(["clean", input, "-o", out + "/clean.h5", "--stats-in", stats, "--channel-axis", "last", "--quiet"])
      TeardownCLITests.expectVerdict(
        r, mentions: "stats.json: was computed with --channel-axis first, this run uses --channel-axis last", folders: [out])
      #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
    }
  }

  /// A tmpfs of `size` mounted at a new folder for `body` (read-only with `readOnly`), unmounted
  /// after. Needs root; otherwise says why it skipped and returns false.
  static func withTmpfs(size: String, readOnly: Bool = false, _ body: (String) throws -> Void) throws -> Bool {
    guard getuid() == 0 else {
      print("skipped: mounting a tmpfs needs root")
      return false
    }
    let mountPoint = try makeTempDir() + "/mnt"
    try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
    guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mountPoint]) else {
      print("skipped: cannot mount a tmpfs here")
      return false
    }
    defer { _ = run("/bin/umount", ["-l", mountPoint]) }
    if readOnly {
      guard run("/bin/mount", ["-o", "remount,ro", mountPoint]) else {
        print("skipped: cannot remount the tmpfs read-only")
        return false
      }
    }
    try body(mountPoint)
    return true
  }

  static func run(_ tool: String, _ arguments: [String]) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    process.standardError = FileHandle.nullDevice
    guard (try? ProcessLaunch.run(process)) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
  }

  @Test func diskFull() throws {
    let dir = try makeTempDir()
    let input = try TeardownCLITests.csv(in: dir, columns: 4, rows: 60_000)
    let before = try TeardownCLITests.contents(input)
    _ = try TeardownCLITests.withTmpfs(size: "512k") { mnt in
      for _ in 0..<5 {
        let r = try CLI.run(["clean", input, "-o", mnt + "/clean.csv", "--stats-out", mnt + "/stats.json", "--quiet"])
        TeardownCLITests.expectVerdict(r, mentions: "No space left on device", folders: [mnt])
        #expect(!r.stderr.contains("datasan-tmp"), "names a temporary: \(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: mnt).isEmpty)
      }
    }
    #expect(try TeardownCLITests.contents(input) == before)
  }

  @Test func readOnlyOutputFolder() throws {
    let dir = try makeTempDir()
    let input = try TeardownCLITests.csv(in: dir, columns: 4, rows: 1000)
    let before = try TeardownCLITests.contents(input)
    let check: (String) throws -> Void = { folder in
      for _ in 0..<3 {
        let r = try CLI.run(["clean", input, "-o", folder + "/clean.csv", "--quiet"])
        TeardownCLITests.expectVerdict(r, mentions: "clean.csv", folders: [folder])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
      }
    }
    if getuid() == 0 {
      // Root ignores permission bits: a read-only file system it is.
      _ = try TeardownCLITests.withTmpfs(size: "1m", readOnly: true, check)
    } else {
      let folder = dir + "/ro"
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      chmod(folder, 0o555)
      defer { chmod(folder, 0o755) }
      try check(folder)
    }
    #expect(try TeardownCLITests.contents(input) == before)
  }

  /// Starts a clean of `input` into `out`, waits until its temporaries exist, then calls `act`.
  static func cleanAndMeddle(input: String, out: String, _ act: () throws -> Void) throws -> CLI.Result? {
    let (process, sawTemporary) = try CLI.startAwaitingTemporary(
      ["clean", input, "-o", out + "/clean.csv", "--normalize", "none", "--quiet"], in: out)
    guard sawTemporary else {
      process.waitUntilExit()
      let err = (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
      print("the clean run ended (exit \(process.terminationStatus): \(String(decoding: err, as: UTF8.self))) before it could be disturbed")
      return nil
    }
    try act()
    let err = (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
    _ = (process.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CLI.Result(status: process.terminationStatus, stdout: "", stderr: String(decoding: err, as: UTF8.self))
  }

  @Test func outputFolderRemovedMidRun() throws {
    let dir = try makeTempDir()
    let input = try InterruptTests.bigCSV(in: dir)
    let before = try TeardownCLITests.contents(input)
    for _ in 0..<3 {
      let out = dir + "/out"
      try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
      let r = try TeardownCLITests.cleanAndMeddle(input: input, out: out) {
        // As `rm -rf` would: datasan may create a file in the folder while it is being emptied, and
        // the removal then fails (the folder is not empty); it is retried until the folder is gone.
        var attempts = 0
        while FileManager.default.fileExists(atPath: out) {
          attempts += 1
          do { try FileManager.default.removeItem(atPath: out) } catch where attempts < 50 { usleep(1_000) }
        }
      }
      guard let r else { continue }
      TeardownCLITests.expectVerdict(r, mentions: out + "/", folders: [out])
      #expect(!FileManager.default.fileExists(atPath: out), "a removed output folder came back")
    }
    #expect(try TeardownCLITests.contents(input) == before)
  }

  @Test func inputTruncatedWhileRead() throws {
    let dir = try makeTempDir()
    let original = try InterruptTests.bigCSV(in: dir)
    let size = try FileManager.default.attributesOfItem(atPath: original)[.size] as! Int
    for _ in 0..<3 {
      let input = dir + "/shrinking.csv"
      try? FileManager.default.removeItem(atPath: input)
      try FileManager.default.copyItem(atPath: original, toPath: input)
      let out = dir + "/out"
      try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
      let r = try TeardownCLITests.cleanAndMeddle(input: input, out: out) {
        #expect(truncate(input, off_t(size / 3)) == 0)
      }
      guard let r else { continue }
      TeardownCLITests.expectVerdict(r, mentions: "shrinking.csv: changed while it was being read", folders: [out])
      #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
    }
  }
}
