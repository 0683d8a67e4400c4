#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// File system calls on paths as raw bytes: Linux file names need not be UTF-8, and the
/// PNG reader and writer must find the very file they listed.
enum RawFileSystem {
  /// What a directory entry is (symbolic links followed).
  enum Kind: Equatable {
    case file, directory, other
    /// A dangling link or an entry that vanished: it cannot be opened.
    case missing
  }

  /// The text of `errno`.
  static func errorText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

  /// Calls `body` with `path` as a NUL-terminated C string.
  static func withCPath<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
    withCPath([], path, body)
  }

  /// Calls `body` with the NUL-terminated path `a/b` (or `b` when `a` is empty), built in temporary
  /// memory (on the stack for paths of usual length): opening a file allocates nothing.
  static func withCPath<R>(_ a: [UInt8], _ b: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
    let length = (a.isEmpty ? 0 : a.count + 1) + b.count
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer in
      var at = 0
      a.withUnsafeBufferPointer { a in
        for byte in a { buffer[at] = CChar(bitPattern: byte); at += 1 }
      }
      if !a.isEmpty { buffer[at] = CChar(bitPattern: UInt8(ascii: "/")); at += 1 }
      b.withUnsafeBufferPointer { b in
        for byte in b { buffer[at] = CChar(bitPattern: byte); at += 1 }
      }
      buffer[at] = 0
      return body(UnsafePointer(buffer.baseAddress!))
    }
  }

  /// `a/b` from `a` and `b` (`b` when `a` is empty).
  static func join(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
    if a.isEmpty { return b }
    var path: [UInt8] = []
    path.reserveCapacity(a.count + 1 + b.count)
    path.append(contentsOf: a)
    path.append(UInt8(ascii: "/"))
    path.append(contentsOf: b)
    return path
  }

  /// The kind of `path` and its (device, inode), following symbolic links.
  static func fileStatus(_ path: [UInt8]) -> (kind: Kind, id: FileID?) {
    var st = stat()
    let rc = withCPath(path) { stat($0, &st) }
    if rc != 0 { return (.missing, nil) }
    return (kind(st.st_mode), FileID(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)))
  }

  /// A directory's identity, to walk each directory once even through symbolic-link cycles.
  struct FileID: Hashable {
    var device: UInt64
    var inode: UInt64
  }

  private static func kind(_ mode: mode_t) -> Kind {
    switch mode & S_IFMT {
    case S_IFREG: return .file
    case S_IFDIR: return .directory
    default: return .other
    }
  }

  /// The entries of a directory (without `.` and `..`), unsorted; `link` is true for a symbolic link
  /// (`kind` is then what it points to).
  ///
  /// - Throws: the `errno` text when the directory cannot be opened.
  static func list(_ path: [UInt8]) throws(RawFSError) -> [(name: [UInt8], kind: Kind, link: Bool)] {
    guard let dir = withCPath(path, { opendir($0) }) else { throw RawFSError(errorText()) }
    defer { closedir(dir) }
    var result: [(name: [UInt8], kind: Kind, link: Bool)] = []
    while let entry = readdir(dir) {
      let name: [UInt8] = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
        let bytes = raw.bindMemory(to: UInt8.self)
        let length = bytes.firstIndex(of: 0) ?? bytes.count
        return Array(bytes[0..<length])
      }
      if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
      let kind: Kind
      var link = false
      switch Int32(entry.pointee.d_type) {
      case Int32(DT_REG): kind = .file
      case Int32(DT_DIR): kind = .directory
      case Int32(DT_LNK), Int32(DT_UNKNOWN):
        let full = join(path, name)
        kind = fileStatus(full).kind
        var st = stat()
        link = withCPath(full) { lstat($0, &st) } == 0 && (st.st_mode & S_IFMT) == S_IFLNK
      default: kind = .other
      }
      result.append((name, kind, link))
    }
    return result
  }

  /// `path` with every symbolic link, `.` and `..` resolved (`realpath(3)`), or nil when it does not
  /// resolve (a missing file, a dangling link).
  static func resolved(_ path: [UInt8]) -> [UInt8]? {
    guard let real = withCPath(path, { realpath($0, nil) }) else { return nil }
    defer { free(real) }
    return Array(UnsafeRawBufferPointer(start: real, count: strlen(real)))
  }

  /// Whether the relative path `relative` could name something outside the folder it is relative to,
  /// without looking at the disk: it is absolute, or its `..` components climb above its start
  /// (`../x`, `a/../../x`).
  static func leavesFolder(_ relative: [UInt8]) -> Bool {
    if relative.first == UInt8(ascii: "/") { return true }
    var depth = 0
    for part in relative.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
      if part.elementsEqual([UInt8(ascii: ".")]) { continue }
      if part.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
        depth -= 1
        if depth < 0 { return true }
      } else {
        depth += 1
      }
    }
    return false
  }

  /// Whether `path`, its symbolic links resolved, lies inside `resolvedRoot` (a path from
  /// ``resolved(_:)``), or is the root itself. A path that does not resolve counts as inside: opening
  /// it reports why.
  static func staysInside(_ path: [UInt8], resolvedRoot: [UInt8]) -> Bool {
    guard let real = resolved(path) else { return true }
    if resolvedRoot == [UInt8(ascii: "/")] || real == resolvedRoot { return true }
    return real.count > resolvedRoot.count && real.starts(with: resolvedRoot)
      && real[resolvedRoot.count] == UInt8(ascii: "/")
  }

  /// Reads a whole regular file, refusing one larger than `limit` bytes.
  ///
  /// Opened non-blocking so that a FIFO named `.png` cannot hang the reader.
  static func readFile(_ path: [UInt8], limit: Int) -> Result<[UInt8], RawFSError> {
    readFile([], path, limit: limit)
  }

  /// Reads the file `directory/relative` whole (one allocation: its bytes).
  ///
  /// A FIFO, socket or device is `not a regular file` from `stat` alone: it is never opened (opening a
  /// device can have effects, a FIFO could block); the descriptor is checked again after `open`.
  static func readFile(_ directory: [UInt8], _ relative: [UInt8], limit: Int) -> Result<[UInt8], RawFSError> {
    var before = stat()
    if withCPath(directory, relative, { stat($0, &before) }) == 0 && kind(before.st_mode) != .file {
      return .failure(RawFSError("not a regular file"))
    }
    let fd = withCPath(directory, relative) { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
    if fd < 0 { return .failure(RawFSError("cannot open: \(errorText())")) }
    defer { close(fd) }
    var st = stat()
    if fstat(fd, &st) != 0 { return .failure(RawFSError("cannot stat: \(errorText())")) }
    if kind(st.st_mode) != .file { return .failure(RawFSError("not a regular file")) }
    let size = Int(st.st_size)
    if size > limit {
      return .failure(RawFSError("file of \(size) bytes is larger than any image within --max-pixels could be"))
    }
    var failure: RawFSError? = nil
    let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
      var at = 0
      while at < size {
        let n = read(fd, buffer.baseAddress! + at, size - at)
        if n < 0 {
          if errno == EINTR { continue }
          failure = RawFSError("cannot read: \(errorText())")
          break
        }
        if n == 0 { break }  // the file shrank: what was read is the file
        at += n
      }
      initialized = failure == nil ? at : 0
    }
    if let failure { return .failure(failure) }
    return .success(bytes)
  }
}

/// A file system error, as one line of text.
struct RawFSError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
