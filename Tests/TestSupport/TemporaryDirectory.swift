import Foundation

/// Fresh temporary folders for tests, all under one folder per test process that is removed when the
/// process exits: a test that forgets to clean up (or stops at a failed expectation before its
/// `defer`) leaves nothing in the user's /tmp.
public enum TestTemporaryDirectory {
  /// `$TMPDIR/datasan-tests-<pid>-<8 hex>`, made on first use; its removal is registered with `atexit`.
  /// Paths stay short: a Unix socket's path must fit in 108 bytes.
  public static let root: String = {
    let path = NSTemporaryDirectory() + "datasan-tests-\(getpid())-\(shortID())"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    atexit { TestTemporaryDirectory.removeRoot() }
    return path
  }()

  /// A new empty folder `<root>/<prefix>-<8 hex>`.
  public static func make(_ prefix: String = "datasan") throws -> String {
    let path = root + "/\(prefix)-\(shortID())"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  private static func shortID() -> String { String(UUID().uuidString.prefix(8)) }

  /// Removes the root, first making read-only folders the tests made writable again.
  static func removeRoot() {
    let manager = FileManager.default
    if let items = manager.enumerator(atPath: root) {
      for case let item as String in items {
        _ = try? manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root + "/" + item)
      }
    }
    try? manager.removeItem(atPath: root)
  }
}
