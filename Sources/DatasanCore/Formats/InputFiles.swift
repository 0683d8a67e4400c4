#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// What an input path is, found without opening it (`stat(2)` follows symbolic links and never
/// blocks, where opening a FIFO waits for a writer).
public enum InputFileKind: Equatable, Sendable {
  case regular, directory
  case fifo, socket, characterDevice, blockDevice
  /// Any other kind of file (a whiteout, a door): not read either.
  case other
  /// It does not exist, or cannot be looked at (`errno`'s text).
  case missing(String)

  /// The kind of `path` (symbolic links followed).
  public init(path: String) {
    var st = stat()
    guard stat(path, &st) == 0 else {
      self = .missing(String(cString: strerror(errno)))
      return
    }
    self.init(mode: st.st_mode)
  }

  /// The kind of a file of mode `mode` (from `stat` or `fstat`).
  public init(mode: mode_t) {
    switch mode & S_IFMT {
    case S_IFREG: self = .regular
    case S_IFDIR: self = .directory
    case S_IFIFO: self = .fifo
    case S_IFSOCK: self = .socket
    case S_IFCHR: self = .characterDevice
    case S_IFBLK: self = .blockDevice
    default: self = .other
    }
  }

  /// What a special file is, in words ("a FIFO (named pipe)"); nil for a regular file, a directory or
  /// a missing path.
  public var specialName: String? {
    switch self {
    case .fifo: return "a FIFO (named pipe)"
    case .socket: return "a socket"
    case .characterDevice: return "a character device"
    case .blockDevice: return "a block device"
    case .other: return "a special file"
    case .regular, .directory, .missing: return nil
    }
  }

  /// Throws the one-line error for an input that is a FIFO, a socket or a device: datasan reads
  /// regular files and folders, and would block forever on a pipe or read a device without end.
  public static func refuseSpecial(path: String) throws { try InputFileKind(path: path).refuseIfSpecial(path: path) }

  /// The same, for the kind already found of `path`.
  public func refuseIfSpecial(path: String) throws {
    if let name = specialName {
      throw DatasanError(path: path, "is \(name), not a regular file or folder: datasan reads only files and folders")
    }
  }
}
