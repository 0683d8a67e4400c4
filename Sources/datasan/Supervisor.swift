import Datasan
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

/// `scan`, `clean` and `init` (which reads the whole dataset too) run in a child process that this process supervises, so that a C library
/// faulting on corrupt metadata (libhdf5 1.10.8 dereferences bad pointers in H5Literate,
/// H5Lexists, H5Oopen, H5Dread) still gets a verdict: the parent names the file and the
/// library in one line, removes every temporary the child had registered and exits 2.
///
/// The child is this program started again (posix_spawn of /proc/self/exe). It inherits stdout and stderr and
/// does all the work; the parent forwards SIGINT, SIGTERM and SIGHUP to it, waits, and passes
/// its exit code through. `DATASAN_SUPERVISE=0` runs the command in this process (debugging:
/// a crash then shows the Swift runtime's backtrace). README.md "Surviving the C libraries"
/// gives the cost.
enum Supervisor {
  /// Whether to supervise this command line: `scan`, `clean` and `init`, not their help.
  static func wanted(_ arguments: [String]) -> Bool {
    guard let command = arguments.first, ["scan", "clean", "init"].contains(command) else { return false }
    if arguments.contains(where: { $0 == "-h" || $0 == "--help" }) { return false }
    // getenv, not ProcessInfo's environment: that builds a dictionary of every variable (0.7 M
    // instructions, a sixth of the supervising parent's whole run).
    guard let value = getenv("DATASAN_SUPERVISE") else { return true }
    return String(cString: value) != "0"
  }

  /// The variable through which a supervised child learns that it is one, and its registry's
  /// descriptor.
  static let childVariable = "DATASAN_SUPERVISED_CHILD"

  /// In a child started by ``superviseChild()``: takes the registry and the child's signal
  /// dispositions, and returns true (the work goes on in this process). False everywhere else.
  static func adoptChildRole() -> Bool {
    guard let value = getenv(childVariable), let fd = Int32(String(cString: value)) else { return false }
    unsetenv(childVariable)
    Supervision.fd = fd
    dieQuietlyOnFaults()
    return true
  }

  /// Starts this same program again as the child that does the work, and supervises it; never
  /// returns. (Or returns at once, to run unsupervised, when no child can be started.)
  ///
  /// A new process image, not a bare fork: after fork(2) the child's main thread would keep the
  /// thread id the Swift runtime cached for the parent's, and its futex locks (swift_once among
  /// them) record that id as their owner; a lock contended in the child then waits for a thread of
  /// another process, forever (seen as a hang in about 1 run in 120 under AddressSanitizer).
  static func superviseChild() {
    // The registry of the child's temporaries and input: a memory file both processes hold.
    typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memfd_create") else { return }
    let registry = unsafeBitCast(symbol, to: MemfdCreate.self)("datasan-registry", 0)  // inherited
    guard registry >= 0 else { return }

    // Where stderr is not a terminal (CI), the child's stderr goes through the parent, which
    // holds it back until the child is done: a library that aborts often prints a line of its
    // own first (glibc's "malloc(): corrupted top size"), and the verdict is one line.
    var relay: [Int32] = [-1, -1]
    if isatty(2) == 0 {
      if pipe(&relay) == 0 {
        for fd in relay { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // the child gets the write end as fd 2 only
      } else {
        relay = [-1, -1]
      }
    }

    // Signals stay blocked until this side has its forwarding handlers in place; the child starts
    // with the mask and dispositions this process had.
    var forwarded = sigset_t()
    sigemptyset(&forwarded)
    for sig in forwardedSignals { sigaddset(&forwarded, sig) }
    var previous = sigset_t()
    pthread_sigmask(SIG_BLOCK, &forwarded, &previous)

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    if relay[1] >= 0 { posix_spawn_file_actions_adddup2(&actions, relay[1], 2) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    posix_spawnattr_setsigmask(&attributes, &previous)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
    var environment: [UnsafeMutablePointer<CChar>?] = []
    var at = environ
    while let entry = at.pointee {
      environment.append(entry)
      at += 1
    }
    let mark = strdup("\(childVariable)=\(registry)")
    environment.append(mark)
    environment.append(nil)
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, CommandLine.unsafeArgv, &environment)
    free(mark)
    posix_spawn_file_actions_destroy(&actions)
    posix_spawnattr_destroy(&attributes)
    if spawned != 0 {  // no process to spare: run unsupervised
      pthread_sigmask(SIG_SETMASK, &previous, nil)
      for fd in [registry] + relay where fd >= 0 { close(fd) }
      return
    }
    supervisedChild = pid
    for sig in forwardedSignals {
      var action = sigaction()
      action.__sigaction_handler.sa_handler = { sig in kill(supervisedChild, sig) }
      sigaction(sig, &action, nil)
    }
    // Unblocked even when the mask inherited says otherwise (test runners block most signals).
    pthread_sigmask(SIG_SETMASK, &previous, nil)
    pthread_sigmask(SIG_UNBLOCK, &forwarded, nil)

    var held: [UInt8] = []
    if relay[0] >= 0 {
      close(relay[1])
      held = hold(relay[0])
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let records = readRecords(registry)
    // Those the child committed or rolled back are gone already.
    for path in records.temporaries { OutputTransaction.remove(path) }
    if diedOfFault(status) {
      held.removeAll()  // what a dying library printed: the verdict below replaces it
    }
    writeAll(held, to: 2)
    let code = verdict(status: status, input: records.input)
    // _exit: the exit handlers (and destructors of preloaded tools such as the allocation
    // counter) are the child's business; this process only waited.
    fflush(nil)
    _exit(code)
  }

  static let forwardedSignals = [SIGINT, SIGTERM, SIGHUP]

  /// Reads the child's stderr to its end (the child's exit), passing it on only past 1 MiB.
  static func hold(_ fd: Int32) -> [UInt8] {
    var held: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 14)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      held += chunk[0..<n]
      if held.count > 1 << 20 {
        writeAll(held, to: 2)
        held.removeAll(keepingCapacity: true)
      }
    }
    close(fd)
    return held
  }

  static func writeAll(_ bytes: [UInt8], to fd: Int32) {
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return }
      offset += n
    }
  }

  /// Whether the wait status is a death by a signal other than the forwarded ones.
  static func diedOfFault(_ status: Int32) -> Bool {
    let sig = status & 0x7f
    return sig != 0 && sig != 0x7f && !forwardedSignals.contains(sig)
  }

  /// The faults a corrupt file can provoke in a C library, and Swift's own traps (SIGILL on
  /// x86-64, SIGTRAP on arm64): the child dies of them at once and in silence (no core file, no
  /// runtime backtrace), and the parent says what happened. The LMDB fault guard, installed
  /// later, chains to these default actions for the faults that are not its own.
  static func dieQuietlyOnFaults() {
    for sig in faultSignals { signal(sig, SIG_DFL) }
    var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
    setrlimit(Int32(RLIMIT_CORE.rawValue), &noCore)
  }

  static let faultSignals = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP]

  /// Unblocks the fault signals, which a parent may have left blocked across exec (test runners
  /// do): a blocked SIGSEGV is not delivered to the LMDB fault guard but kills the process.
  static func unblockFaults() {
    var faults = sigset_t()
    sigemptyset(&faults)
    for sig in faultSignals { sigaddset(&faults, sig) }
    pthread_sigmask(SIG_UNBLOCK, &faults, nil)
  }

  struct Records {
    var temporaries: [String] = []
    var input: (path: String, format: String)?
  }

  /// The child's records (see ``Supervision``).
  static func readRecords(_ fd: Int32) -> Records {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var offset: off_t = 0
    while true {
      let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      bytes += chunk[0..<n]
      offset += off_t(n)
    }
    var records = Records()
    for record in bytes.split(separator: 0) {
      let text = String(decoding: record, as: UTF8.self)
      if text.hasPrefix("T ") {
        records.temporaries.append(String(text.dropFirst(2)))
      } else if text.hasPrefix("I ") {
        let rest = text.dropFirst(2)
        guard let space = rest.firstIndex(of: " ") else { continue }
        records.input = (String(rest[rest.index(after: space)...]), String(rest[..<space]))
      }
    }
    return records
  }

  /// The exit code for the child's wait status, with the one line that explains a death by signal.
  static func verdict(status: Int32, input: (path: String, format: String)?) -> Int32 {
    let exited = status & 0x7f == 0
    if exited { return (status >> 8) & 0xff }
    let sig = status & 0x7f
    let name = signalName(sig)
    let message: String
    if forwardedSignals.contains(sig) {
      message = "datasan: interrupted by \(name); no output written"
      printLine(message)
      return 128 + sig
    }
    if let input {
      let library = [SIGILL, SIGTRAP].contains(sig) ? "datasan" : libraryName(format: input.format)
      switch sig {
      case SIGKILL:
        message = "datasan: \(input.path): the process reading it was killed (SIGKILL), e.g. for lack of memory"
      case _ where library == "datasan":
        message = "datasan: \(input.path): datasan crashed reading it (\(name)); please report this file"
      default:
        message = "datasan: \(input.path): \(library) crashed reading it (\(name)); it is likely corrupt"
      }
    } else {
      message = "datasan: crashed (\(name)) before opening its input; please report it"
    }
    printLine(message)
    return 2
  }

  static func libraryName(format: String) -> String {
    Formats.named(format).flatMap(Formats.readingLibrary(of:)) ?? "datasan"
  }

  static func signalName(_ sig: Int32) -> String {
    let names: [Int32: String] = [
      SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGFPE: "SIGFPE", SIGABRT: "SIGABRT",
      SIGTRAP: "SIGTRAP", SIGKILL: "SIGKILL", SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP",
    ]
    return names[sig] ?? "signal \(sig)"
  }

  /// One line, whatever the path holds.
  static func printLine(_ message: String) {
    // A progress bar the child was drawing is cleared first.
    let line = message.replacingAll("\n", with: "\\n").replacingAll("\r", with: "\\r") + "\n"
    Console.err.write((isatty(2) != 0 ? TerminalProgress.clear : "") + line)
  }
}

/// The child's process id, for the signal handlers that forward to it (set before they are installed).
nonisolated(unsafe) private var supervisedChild: pid_t = 0
