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

/// The input's identity, size and modification time when a run starts, checked again before the
/// run gives its verdict: a file truncated, replaced or rewritten while it was read gives exit 2,
/// not a report (or a clean copy) of data that was never whole. A folder (PNG, LMDB) is only
/// checked to be the same folder: opening an LMDB environment may create its lock file in it.
struct InputSnapshot: Equatable {
  let device: UInt64
  let inode: UInt64
  let size: Int64
  let modified: timespec

  init?(_ path: String) {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    device = UInt64(st.st_dev)
    inode = UInt64(st.st_ino)
    let isFile = (st.st_mode & S_IFMT) == S_IFREG
    size = isFile ? Int64(st.st_size) : 0
    modified = isFile ? st.st_mtim : timespec()
  }

  static func == (a: InputSnapshot, b: InputSnapshot) -> Bool {
    a.device == b.device && a.inode == b.inode && a.size == b.size && a.modified.tv_sec == b.modified.tv_sec
      && a.modified.tv_nsec == b.modified.tv_nsec
  }

  /// Throws when `path` is no longer what this snapshot saw.
  func check(_ path: String) throws {
    guard let now = InputSnapshot(path), now == self else {
      let what = InputSnapshot(path).map { $0.size != size ? "its size changed from \(size) to \($0.size) bytes" : "it was modified" }
      throw DatasanError(path: path, "changed while it was being read (\(what ?? "it was removed")); run again on a stable copy")
    }
  }
}
