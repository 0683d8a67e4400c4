import Foundation

/// A set of outputs written under temporary names beside their final paths, renamed into
/// place together on ``commit()`` and removed on ``rollback()`` — or when the process is
/// interrupted (SIGINT / SIGTERM): nothing half-written is ever left behind.
public final class OutputTransaction: @unchecked Sendable {
  public struct Entry: Sendable {
    public let finalPath: String
    public let tempPath: String
  }

  public private(set) var entries: [Entry] = []
  private let lock = NSLock()
  private var done = false

  public init() {
    InterruptGuard.shared.register(self)
  }

  /// Reserves a temporary path for `finalPath` (in the same folder, so the rename is atomic).
  public func add(finalPath: String) -> String {
    let url = URL(fileURLWithPath: finalPath)
    let dir = url.deletingLastPathComponent().path
    let temp = dir + "/." + url.lastPathComponent + ".datasan-tmp-\(getpid())"
    lock.lock()
    entries.append(Entry(finalPath: finalPath, tempPath: temp))
    lock.unlock()
    return temp
  }

  /// Renames every temporary path to its final path. With `replace`, an existing final
  /// path (file or folder) is removed first.
  public func commit(replace: Bool) throws {
    lock.lock()
    defer { lock.unlock() }
    let fm = FileManager.default
    for e in entries {
      var isDir: ObjCBool = false
      if fm.fileExists(atPath: e.finalPath, isDirectory: &isDir) {
        guard replace else { throw DatasanError(path: e.finalPath, "exists; use --force to replace it") }
        if isDir.boolValue { try? fm.removeItem(atPath: e.finalPath) }
      }
      if rename(e.tempPath, e.finalPath) != 0 {
        let reason = String(cString: strerror(errno))
        throw DatasanError(path: e.finalPath, "cannot move the finished output into place: \(reason)")
      }
    }
    done = true
    InterruptGuard.shared.unregister(self)
  }

  /// Removes every temporary path. Safe to call more than once and from the signal handler.
  public func rollback() {
    lock.lock()
    defer { lock.unlock() }
    guard !done else { return }
    for e in entries { OutputTransaction.remove(e.tempPath) }
    done = true
    InterruptGuard.shared.unregister(self)
  }

  static func remove(_ path: String) {
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
public final class InterruptGuard: @unchecked Sendable {
  public static let shared = InterruptGuard()
  private let lock = NSLock()
  private var open: [ObjectIdentifier: OutputTransaction] = [:]
  private var sources: [DispatchSourceSignal] = []
  private let queue = DispatchQueue(label: "datasan.signals")

  private init() {}

  /// Starts handling SIGINT and SIGTERM. Called once by the command line.
  public func install() {
    lock.lock()
    defer { lock.unlock() }
    guard sources.isEmpty else { return }
    for sig in [SIGINT, SIGTERM] {
      signal(sig, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
      source.setEventHandler { [weak self] in self?.interrupted(sig) }
      source.resume()
      sources.append(source)
    }
  }

  func register(_ t: OutputTransaction) {
    lock.lock()
    open[ObjectIdentifier(t)] = t
    lock.unlock()
  }

  func unregister(_ t: OutputTransaction) {
    lock.lock()
    open[ObjectIdentifier(t)] = nil
    lock.unlock()
  }

  private func interrupted(_ sig: Int32) {
    lock.lock()
    let pending = Array(open.values)
    lock.unlock()
    for t in pending { t.rollback() }
    let name = sig == SIGINT ? "SIGINT" : "SIGTERM"
    let message = "datasan: interrupted by \(name); no output written\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    _exit(128 + sig)
  }
}
