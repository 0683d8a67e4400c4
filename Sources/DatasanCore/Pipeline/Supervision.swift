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
import Synchronization

/// What a supervised run (`datasan scan` / `clean` in a child process, see the executable's
/// Supervisor.swift) tells its parent: the input it reads and every temporary path it creates,
/// so that the parent can name the file and remove the temporaries when the child dies by a
/// signal (a C library faulting on corrupt metadata).
///
/// Records go to a file descriptor the parent opened and the child inherited, one `write(2)` each, in
/// the form `KIND PATH\0` (`T` a temporary, `I` the input; the input's record is
/// `I FORMAT PATH\0`). Without a parent (`fd` < 0) registering does nothing.
public enum Supervision {
  /// The registry's file descriptor, set by the child when it starts.
  nonisolated(unsafe) public static var fd: Int32 = -1

  /// Records a temporary path before it is created.
  public static func registerTemporary(_ path: String) { record("T " + path) }

  /// Records the input being read and its format.
  public static func registerInput(_ path: String, format: DataFormat) { record("I \(format.rawValue) " + path) }

  private static func record(_ text: String) {
    guard fd >= 0 else { return }
    var bytes = Array(text.utf8)
    bytes.append(0)
    // O_APPEND: each record lands whole, whatever thread writes it.
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
  }
}

/// Test-only fault injection: `DATASAN_TEST_CRASH=POINT:N:SIGNAL` makes the process raise
/// SIGNAL (a name such as SIGSEGV or a number) the N-th time it reaches POINT, on the thread that
/// reaches it (`read`: the reader thread about to read a batch; `write`: the writer thread about
/// to write one). It stands in for a C library faulting on a corrupt file where the test has no
/// such file.
public enum TestHooks {
  public enum Point: String, Sendable {
    case readBatch = "read"
    case writeBatch = "write"
  }

  private struct Plan {
    let point: Point
    let count: Int
    let signal: Int32
  }

  private static let plan: Plan? = {
    // getenv: ProcessInfo's environment would build a dictionary of every variable (0.35 M instructions).
    guard let value = getenv("DATASAN_TEST_CRASH") else { return nil }
    let spec = String(cString: value)
    let parts = spec.split(separator: ":").map(String.init)
    guard parts.count == 3, let point = Point(rawValue: parts[0]), let count = Int(parts[1]),
      let sig = Int32(parts[2]) ?? signalNumber(named: parts[2])
    else { return nil }
    return Plan(point: point, count: count, signal: sig)
  }()

  /// How many times the planned point was reached.
  private static let counter = Atomic<Int>(0)

  /// Called at each point; raises the planned signal when its time has come.
  static func reached(_ point: Point) {
    guard let plan, plan.point == point else { return }
    guard counter.add(1, ordering: .relaxed).newValue == plan.count else { return }
    // A handler that chains to the default action by restoring it and returning (the LMDB fault
    // guard does, for faults outside its reads) relies on a real fault happening again: a raised
    // signal does not, so it is raised twice.
    raise(plan.signal)
    raise(plan.signal)
  }

  public static func signalNumber(named name: String) -> Int32? {
    let table: [String: Int32] = [
      "SIGSEGV": SIGSEGV, "SIGBUS": SIGBUS, "SIGILL": SIGILL, "SIGFPE": SIGFPE, "SIGABRT": SIGABRT,
      "SIGTRAP": SIGTRAP, "SIGKILL": SIGKILL, "SIGINT": SIGINT, "SIGTERM": SIGTERM,
    ]
    return table[name]
  }
}
