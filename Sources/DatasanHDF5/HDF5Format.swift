#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import DatasanCore

/// Recognizes HDF5 files without libhdf5, for format auto-detection.
public enum HDF5Format {
  /// The 8-byte HDF5 format signature, `\x89HDF\r\n\x1a\n`.
  static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

  /// Whether `path` is a regular file holding the HDF5 signature where the library looks
  /// for it: at offset 0, 512, 1024, 2048, ... (a user block shifts the superblock by a power of two).
  ///
  /// Reads at most one 8-byte block per candidate offset; never throws.
  public static func looksLikeHDF5(path: String) -> Bool {
    // stat before open: opening a FIFO blocks until a writer comes.
    var before = stat()
    guard stat(path, &before) == 0, (before.st_mode & S_IFMT) == S_IFREG else { return false }
    let fd = open(path, O_RDONLY | O_NONBLOCK)
    guard fd >= 0 else { return false }
    defer { _ = close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
    let size = Int64(info.st_size)
    var offset: Int64 = 0
    var block = [UInt8](repeating: 0, count: 8)
    while offset + 8 <= size {
      let n = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 8, off_t(offset)) }
      if n == 8 && block == signature { return true }
      if n < 0 { return false }
      offset = offset == 0 ? 512 : offset * 2
    }
    return false
  }

  /// Why `path` cannot be an HDF5 file before looking at its content ("no such file",
  /// "is a directory", "is a FIFO"), or nil when it is a readable regular file. Never blocks.
  static func fileProblem(path: String) -> String? {
    switch InputFileKind(path: path) {
    case .regular: break
    case .directory: return "is a directory, not an HDF5 file"
    case .missing(let reason):
      return reason == String(cString: strerror(ENOENT)) ? "no such file" : "cannot read: \(reason)"
    case .characterDevice, .blockDevice: return "is a device, not a file; datasan reads regular files"
    case let special: return "is \(special.specialName!), not a file; datasan reads regular files"
    }
    let fd = open(path, O_RDONLY | O_NONBLOCK)
    if fd < 0 { return "cannot read: \(String(cString: strerror(errno)))" }
    _ = close(fd)
    return nil
  }
}
