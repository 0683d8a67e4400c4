#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A set of outputs written under temporary names beside their final paths, renamed into
/// place together on ``commit()`` and removed on ``rollback()`` — or when the process is
/// interrupted (SIGINT / SIGTERM): nothing half-written is ever left behind.
public final class OutputTransaction: Sendable {
  public struct Entry: Sendable {
    public let finalPath: String
    public let tempPath: String
  }

  private struct State {
    var entries: [Entry] = []
    var done = false
  }
  private let state = Mutex(State())

  /// The outputs reserved so far.
  public var entries: [Entry] { state.withLock { $0.entries } }

  public init() {
    InterruptGuard.shared.register(self)
  }

  /// Reserves a temporary path for `finalPath` (in the same folder, so the rename is atomic).
  public func add(finalPath: String) -> String {
    let url = URL(fileURLWithPath: finalPath)
    let dir = url.deletingLastPathComponent().path
    let temp = dir + "/." + url.lastPathComponent + ".datasan-tmp-\(getpid())"
    Supervision.registerTemporary(temp)
    state.withLock { $0.entries.append(Entry(finalPath: finalPath, tempPath: temp)) }
    return temp
  }

  /// Renames every temporary path to its final path. With `replace`, an existing final
  /// path (file or folder) is removed first.
  public func commit(replace: Bool) throws {
    try state.withLock { try Self.commit(&$0, replace: replace) }
    InterruptGuard.shared.unregister(self)
  }

  private static func commit(_ state: inout State, replace: Bool) throws {
    let fm = FileManager.default
    for e in state.entries {
      var isDir = false
      if fm.fileExists(atPath: e.finalPath, isDirectory: &isDir) {
        // A device or a pipe is never replaced (as root, a rename over /dev/null would succeed).
        if let special = InputFileKind(path: e.finalPath).specialName {
          throw DatasanError(path: e.finalPath, "is \(special), not a file datasan can replace")
        }
        guard replace else { throw DatasanError(path: e.finalPath, "exists; use --force to replace it") }
        if OutputTransaction.exchange(e.tempPath, e.finalPath) {
          // The old output now sits at the temporary path.
          OutputTransaction.remove(e.tempPath)
          continue
        }
        if isDir { try? fm.removeItem(atPath: e.finalPath) }
      }
      if rename(e.tempPath, e.finalPath) != 0 {
        let reason = String(cString: strerror(errno))
        throw DatasanError(path: e.finalPath, "cannot move the finished output into place: \(reason)")
      }
    }
    state.done = true
  }

  /// Removes every temporary path. Safe to call more than once and from the signal handler.
  public func rollback() {
    let rolledBack = state.withLock { state in
      guard !state.done else { return false }
      for e in state.entries { OutputTransaction.remove(e.tempPath) }
      state.done = true
      return true
    }
    if rolledBack { InterruptGuard.shared.unregister(self) }
  }

  /// `error` with the output it is about named by its final path rather than its temporary one
  /// (e.g. "out.csv: write error: No space left on device").
  public func naming(_ error: Error) -> Error {
    guard var e = error as? DatasanError, let path = e.path else { return error }
    for entry in entries where path == entry.tempPath || path.hasPrefix(entry.tempPath + "/") {
      e.path = entry.finalPath + path.dropFirst(entry.tempPath.count)
      return e
    }
    return error
  }

  /// renameat2(2) with RENAME_EXCHANGE where the C library has it (Linux; the Swift overlay
  /// does not export it).
  private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
  private static let renameAt2: RenameAt2? = {
    #if os(Linux)
      guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
      return unsafeBitCast(symbol, to: RenameAt2.self)
    #else
      return nil
    #endif
  }()

  /// Swaps `temp` and an existing `final` in one atomic step; false where the system or the file
  /// system cannot (the caller then removes `final` and renames).
  ///
  /// A plain rename over an existing file makes ext4 write the whole new file out before the
  /// rename returns (its `auto_da_alloc` heuristic for programs that skip fsync): 0.4-0.7 s of a
  /// 1 GB clean on this machine, and the reason an overwrite (`--force`) cost more than writing
  /// to a new path. The exchange is as atomic and leaves the write-out to the kernel's flusher,
  /// as for a new path; and a folder output (PNG, LMDB) is replaced atomically too.
  static func exchange(_ temp: String, _ final: String) -> Bool {
    guard let renameAt2 else { return false }
    let renameExchange: UInt32 = 1 << 1
    return renameAt2(AT_FDCWD, temp, AT_FDCWD, final, renameExchange) == 0
  }

  /// Removes a file or a folder (with its contents); nothing when `path` does not exist.
  public static func remove(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if (st.st_mode & S_IFMT) == S_IFDIR {
      try? FileManager.default.removeItem(atPath: path)
    } else {
      unlink(path)
    }
  }
}

/// Removes the temporary outputs of every open ``OutputTransaction`` when the process gets
/// SIGINT or SIGTERM, then exits with 128 + the signal number.
public final class InterruptGuard: Sendable {
  public static let shared = InterruptGuard()
  private let open = Mutex<[ObjectIdentifier: OutputTransaction]>([:])
  private let sources = Mutex<[DispatchSourceSignal]>([])
  private let queue = DispatchQueue(label: "datasan.signals")

  private init() {}

  /// Starts handling SIGINT and SIGTERM. Called once by the command line.
  public func install() {
    sources.withLock { sources in
      guard sources.isEmpty else { return }
      for sig in [SIGINT, SIGTERM] {
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
        source.setEventHandler { [weak self] in self?.interrupted(sig) }
        source.resume()
        sources.append(source)
      }
    }
  }

  func register(_ t: OutputTransaction) {
    open.withLock { $0[ObjectIdentifier(t)] = t }
  }

  func unregister(_ t: OutputTransaction) {
    open.withLock { $0[ObjectIdentifier(t)] = nil }
  }

  private func interrupted(_ sig: Int32) {
    let pending = open.withLock { Array($0.values) }
    for t in pending { t.rollback() }
    let name = sig == SIGINT ? "SIGINT" : "SIGTERM"
    let message = "datasan: interrupted by \(name); no output written\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    _exit(128 + sig)
  }
}
