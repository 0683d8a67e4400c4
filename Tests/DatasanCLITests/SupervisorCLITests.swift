import Foundation
import Testing

/// scan and clean run in a supervised child: when it dies by a signal (a C library faulting on a
/// corrupt file, simulated here with DATASAN_TEST_CRASH), the parent still gives the verdict:
/// exit 2, one line naming the file and the library, every temporary removed.
@Suite struct SupervisorCLITests {
  static let h5 = CLI.fixture("hdf5/dirty.h5")

  @Test(arguments: ["SIGSEGV", "SIGBUS", "SIGABRT"])
  func libraryCrashWhileScanning(signal: String) throws {
    for k in 1...2 {  // dirty.h5 is one batch: the second read finds the end
      let r = try CLI.run(["scan", SupervisorCLITests.h5], environment: ["DATASAN_TEST_CRASH": "read:\(k):\(signal)"])
      TeardownCLITests.expectVerdict(
        r, mentions: "\(SupervisorCLITests.h5): libhdf5 crashed reading it (\(signal)); it is likely corrupt", folders: [])
      #expect(!r.stderr.contains("Backtracing") && !r.stderr.contains("Program crashed"))
    }
  }

  /// Real ones: libhdf5 1.10.8 dereferences NULL on the first file and corrupts the heap on the
  /// second (Fixtures/make_hdf5_crash_fixture.py). Should a check of datasan's ever refuse them
  /// before libhdf5 sees them, the verdict stays. The heap corruption is caught by glibc's
  /// malloc, which prints its own line ("malloc(): corrupted top size") before aborting: the
  /// supervisor holds the child's stderr back (it is not a terminal here) and drops it.
  @Test(arguments: ["crash_stab_btree.h5", "crash_heap_size.h5"])
  func realLibhdf5Crash(name: String) throws {
    let input = CLI.fixture("hdf5/" + name)
    let before = try TeardownCLITests.contents(input)
    let dir = try makeTempDir()
    for _ in 0..<3 {
      let scan = try CLI.run(["scan", input, "--report", dir + "/report.json"])
      let clean = try CLI.run(["clean", input, "-o", dir + "/clean.h5", "--quiet"])
      for r in [scan, clean] {
        TeardownCLITests.expectVerdict(r, mentions: input + ":", folders: [dir])
      }
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
      print(scan.stderr, terminator: "")
    }
    #expect(try TeardownCLITests.contents(input) == before)
  }

  /// Beyond its map guard, a fault in liblmdb is the library's: the guard passes it on.
  @Test func lmdbCrashBeyondTheGuard() throws {
    let input = CLI.fixture("lmdb/train.lmdb")
    for k in 1...2 {
      let r = try CLI.run(["scan", input], environment: ["DATASAN_TEST_CRASH": "read:\(k):SIGSEGV"])
      TeardownCLITests.expectVerdict(r, mentions: "\(input): liblmdb crashed reading it (SIGSEGV)", folders: [])
    }
  }

  /// The child dies with its outputs half written: the parent removes them.
  @Test(arguments: ["hdf5/dirty.h5", "csv"])
  func crashWhileCleaningLeavesNothing(input: String) throws {
    let dir = try makeTempDir()
    let path = input == "csv" ? try TeardownCLITests.csv(in: dir, columns: 3, rows: 30_000) : CLI.fixture(input)
    let before = try TeardownCLITests.contents(path)
    let out = dir + "/out"
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let library = input == "csv" ? "datasan crashed reading it (SIGSEGV); please report this file" : "libhdf5 crashed reading it (SIGSEGV)"
    for point in ["write:1", "read:1", "read:3"] {
      let output = out + "/clean." + (input == "csv" ? "csv" : "h5")
      let r = try CLI.run(
        ["clean", path, "-o", output, "--stats-out", out + "/stats.json", "--report", out + "/report.json", "--quiet"],
        environment: ["DATASAN_TEST_CRASH": point + ":SIGSEGV"])
      TeardownCLITests.expectVerdict(r, mentions: "\(path): \(library)", folders: [out])
      #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
    }
    #expect(try TeardownCLITests.contents(path) == before)
  }

  /// A Swift trap is datasan's own bug, and said so.
  @Test func swiftTrapIsDatasans() throws {
    let r = try CLI.run(["scan", SupervisorCLITests.h5], environment: ["DATASAN_TEST_CRASH": "read:1:SIGILL"])
    TeardownCLITests.expectVerdict(r, mentions: "datasan crashed reading it (SIGILL)", folders: [])
  }

  /// Killed (the kernel's out-of-memory killer would): still a verdict.
  @Test func killedChild() throws {
    let r = try CLI.run(["scan", SupervisorCLITests.h5], environment: ["DATASAN_TEST_CRASH": "read:1:SIGKILL"])
    TeardownCLITests.expectVerdict(r, mentions: "was killed (SIGKILL)", folders: [])
  }

  /// DATASAN_SUPERVISE=0 runs unsupervised: the fault then kills datasan itself.
  @Test func supervisionCanBeTurnedOff() throws {
    let r = try CLI.run(
      ["scan", SupervisorCLITests.h5],
      environment: ["DATASAN_TEST_CRASH": "read:1:SIGKILL", "DATASAN_SUPERVISE": "0"])
    #expect(r.status == SIGKILL && r.stderr.isEmpty, "exit \(r.status): \(r.stderr)")
  }

  /// Without a fault, the verdict and outputs are those of an unsupervised run.
  @Test func sameResultSupervisedOrNot() throws {
    let supervised = try CLI.run(["scan", SupervisorCLITests.h5])
    let direct = try CLI.run(["scan", SupervisorCLITests.h5], environment: ["DATASAN_SUPERVISE": "0"])
    #expect(supervised.status == direct.status)
    #expect(supervised.stdout.replacingOccurrences(of: #"\d+(\.\d+)? ?(ms|s|MB/s)"#, with: "", options: .regularExpression)
      == direct.stdout.replacingOccurrences(of: #"\d+(\.\d+)? ?(ms|s|MB/s)"#, with: "", options: .regularExpression))
  }
}
