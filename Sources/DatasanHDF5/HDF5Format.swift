#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Recognizes HDF5 files without libhdf5, for format auto-detection.
public enum HDF5Format {
  /// The 8-byte HDF5 format signature, `\x89HDF\r\n\x1a\n`.
  static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

  /// Whether `path` is a regular file holding the HDF5 signature where the library looks
  /// for it: at offset 0, 512, 1024, 2048, ... (a user block shifts the superblock by a power of two).
  ///
  /// Reads at most one 8-byte block per candidate offset; never throws.
  public static func looksLikeHDF5(path: String) -> Bool {
    let fd = open(path, O_RDONLY)
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
  /// "is a directory"), or nil when it is a readable regular file.
  static func fileProblem(path: String) -> String? {
    var info = stat()
    guard stat(path, &info) == 0 else {
      return errno == ENOENT ? "no such file" : "cannot read: \(String(cString: strerror(errno)))"
    }
    if (info.st_mode & S_IFMT) == S_IFDIR { return "is a directory, not an HDF5 file" }
    let fd = open(path, O_RDONLY)
    if fd < 0 { return "cannot read: \(String(cString: strerror(errno)))" }
    _ = close(fd)
    return nil
  }
}
