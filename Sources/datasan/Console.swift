#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Standard output and standard error of the command line, written with write(2).
///
/// Everything datasan prints goes through ``out`` and ``err``: C's `stdout` / `stderr` (and so
/// fputs, fflush, setvbuf) are global `var`s that Swift 6 does not let code read, and `print` would
/// buffer in stdio beside this buffer, out of order with it.
///
/// - ``out`` is buffered (64 KiB, as the `setvbuf` it replaces): it goes out when the buffer is full
///   and on ``flush()``, which the entry point calls before it exits and before it writes to stderr.
/// - ``err`` is unbuffered: each message is one write (progress bars and verdicts are written as
///   they happen).
/// - A write that fails (a closed pipe: `datasan scan … | head -1`; SIGPIPE is ignored, so that is
///   EPIPE, not a signal) drops that output and everything written to that stream after it, in
///   silence, like stdio did: the exit code stays the command's.
final class Console: Sendable {
  /// Standard output (fd 1), buffered.
  static let out = Console(fd: 1, capacity: 1 << 16)
  /// Standard error (fd 2), unbuffered.
  static let err = Console(fd: 2, capacity: 0)

  /// The stream a path names when it is one of the process's own standard streams
  /// (`/dev/stdout`, `/dev/fd/2`, `/proc/self/fd/1`): a report written there goes through this
  /// stream, in order with the summary, and is never replaced as a file (when stdout is a regular
  /// file, `/dev/stdout` resolves to it: written under a temporary name and renamed, the report
  /// would replace the `/dev/stdout` link itself).
  static func named(_ path: String) -> Console? {
    for (fd, console) in [(1, out), (2, err)] {
      let names = ["/dev/fd/\(fd)", "/proc/self/fd/\(fd)", fd == 1 ? "/dev/stdout" : "/dev/stderr"]
      if names.contains(path) { return console }
    }
    return nil
  }

  private struct State {
    var buffer: [UInt8] = []
    /// A write failed: the stream is gone (EPIPE), further output is dropped.
    var failed = false
  }

  private let fd: Int32
  private let capacity: Int
  private let state = Mutex(State())

  private init(fd: Int32, capacity: Int) {
    self.fd = fd
    self.capacity = capacity
  }

  /// Writes `text` (buffered on ``out``).
  func write(_ text: String) {
    state.withLock { state in
      guard !state.failed else { return }
      state.buffer.append(contentsOf: text.utf8)
      if state.buffer.count >= capacity { drain(&state) }
    }
  }

  /// Writes `text` and a newline, as `print(text)` did.
  func line(_ text: String) { write(text + "\n") }

  /// Writes out what is buffered.
  func flush() {
    state.withLock { drain(&$0) }
  }

  private func drain(_ state: inout State) {
    var offset = 0
    let count = state.buffer.count
    while offset < count && !state.failed {
      let n = state.buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, count - offset) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 {
        state.failed = true
      } else {
        offset += n
      }
    }
    state.buffer.removeAll(keepingCapacity: true)
  }
}
