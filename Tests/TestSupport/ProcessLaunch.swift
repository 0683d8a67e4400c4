import Foundation

/// Every child process a test starts is launched through here, one launch at a time: Foundation's
/// `Process.run` crashed the test process (SIGSEGV in a memmove inside it) when several threads
/// launched at once, and the tests run in parallel.
public enum ProcessLaunch {
  private static let lock = NSLock()

  /// `process.run()`, serialized with every other launch of this test process.
  public static func run(_ process: Process) throws {
    lock.lock()
    defer { lock.unlock() }
    try process.run()
  }
}
