import CDatasanNPYInflate
import DatasanCore
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why bytes of an array could not be read (the rows they hold become `unreadable`).
struct NPYReadError: Error, CustomStringConvertible {
  var description: String
  init(_ d: String) { description = d }
}

/// The bytes of one array (a `.npy` file, or one member of a `.npz`), read at offsets from the
/// start of its `.npy` bytes (header included).
protocol NPYByteSource: AnyObject {
  /// The bytes the array's `.npy` stream holds (as stored or, for a compressed member, as its
  /// zip entry declares once inflated).
  var length: Int { get }
  /// Reads `count` bytes at `offset` into `into`; throws when they cannot all be read.
  func read(at offset: Int, count: Int, into: UnsafeMutableRawPointer) throws
  /// Bytes of the file read so far (for progress).
  var storedBytesRead: Int { get }
}

/// An open file descriptor, closed with the last source that reads it.
final class NPYFile: @unchecked Sendable {
  let fd: Int32
  let path: String
  let size: Int

  init(path: String) throws {
    func fail(_ m: String) -> DatasanError { DatasanError(path: path, m) }
    switch InputFileKind(path: path) {
    case .regular: break
    case .directory: throw fail("is a directory, not a NumPy file")
    case .missing(let reason):
      throw fail(reason == String(cString: strerror(ENOENT)) ? "no such file" : "cannot read: \(reason)")
    case let special: throw fail("is \(special.specialName ?? "not a regular file"), not a file; datasan reads regular files")
    }
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    if fd < 0 { throw fail("cannot read: \(String(cString: strerror(errno)))") }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
      close(fd)
      throw fail("is not a regular file")
    }
    self.fd = fd
    self.path = path
    self.size = Int(st.st_size)
  }

  deinit { close(fd) }

  /// Reads exactly `count` bytes at `offset`, or throws (end of file, I/O error).
  func pread(at offset: Int, count: Int, into: UnsafeMutableRawPointer) throws {
    var done = 0
    while done < count {
      let n = Glibc.pread(fd, into + done, Swift.min(count - done, 1 << 30), off_t(offset + done))
      if n < 0 {
        if errno == EINTR { continue }
        throw NPYReadError("read failed: \(String(cString: strerror(errno)))")
      }
      if n == 0 { throw NPYReadError("the file ends at byte \(offset + done) (truncated)") }
      done += n
    }
  }

  /// Up to `count` bytes at `offset` (fewer at the end of the file).
  func bytes(at offset: Int, count: Int) -> [UInt8] {
    let n = Swift.max(0, Swift.min(count, size - offset))
    var out = [UInt8](repeating: 0, count: n)
    if n > 0 {
      let ok = out.withUnsafeMutableBytes { (try? pread(at: offset, count: n, into: $0.baseAddress!)) != nil }
      if !ok { return [] }
    }
    return out
  }
}

/// Bytes stored as they are: a `.npy` file, or a stored (uncompressed) `.npz` member, read with
/// `pread` straight into the caller's buffer.
final class NPYStoredSource: NPYByteSource {
  let file: NPYFile
  let base: Int
  let length: Int
  private(set) var storedBytesRead = 0

  init(file: NPYFile, base: Int, length: Int) {
    self.file = file
    self.base = base
    self.length = length
  }

  func read(at offset: Int, count: Int, into: UnsafeMutableRawPointer) throws {
    guard offset >= 0, count >= 0, offset <= length, count <= length - offset else {
      throw NPYReadError("bytes \(offset)..<\(offset &+ count) are past the array's \(length) bytes (truncated)")
    }
    try file.pread(at: base + offset, count: count, into: into)
    storedBytesRead += count
  }
}

/// A deflated `.npz` member (`np.savez_compressed`), inflated as a stream: reads move forward
/// through it (skipping what they do not need); a read before the current position starts over
/// from the member's start. Memory: one input and one skip buffer of 256 KiB.
final class NPYDeflateSource: NPYByteSource {
  let file: NPYFile
  let member: String
  let compressedStart: Int
  let compressedSize: Int
  let length: Int
  private(set) var storedBytesRead = 0
  private let stream: OpaquePointer
  private var inBuffer: UnsafeMutableRawBufferPointer
  private var inStart = 0
  private var inEnd = 0
  /// Compressed bytes taken from the file so far.
  private var consumed = 0
  /// Inflated bytes handed out or skipped so far.
  private var position = 0
  private var ended = false
  private static let bufferBytes = 256 << 10

  init(file: NPYFile, member: String, compressedStart: Int, compressedSize: Int, length: Int) throws {
    guard let s = datasan_npy_inflater_new() else { throw DatasanError(path: file.path, "out of memory for zlib") }
    self.file = file
    self.member = member
    self.compressedStart = compressedStart
    self.compressedSize = compressedSize
    self.length = length
    self.stream = s
    self.inBuffer = .allocate(byteCount: NPYDeflateSource.bufferBytes, alignment: 16)
  }

  deinit {
    datasan_npy_inflater_free(stream)
    inBuffer.deallocate()
  }

  private func restart() throws {
    guard datasan_npy_inflater_reset(stream) == 0 else { throw NPYReadError("zlib cannot restart") }
    (inStart, inEnd, consumed, position, ended) = (0, 0, 0, 0, false)
  }

  /// Inflates the next `count` bytes into `out` (nil: discards them).
  private func inflate(count: Int, into out: UnsafeMutableRawPointer?) throws {
    var scratch: UnsafeMutableRawBufferPointer? = nil
    defer { scratch?.deallocate() }
    var done = 0
    while done < count {
      if ended { throw NPYReadError("the compressed member '\(member)' ends after \(position) bytes (truncated or corrupt)") }
      if inStart == inEnd {
        let take = Swift.min(NPYDeflateSource.bufferBytes, compressedSize - consumed)
        if take <= 0 { throw NPYReadError("the compressed member '\(member)' is cut short (truncated or corrupt)") }
        try file.pread(at: compressedStart + consumed, count: take, into: inBuffer.baseAddress!)
        consumed += take
        storedBytesRead += take
        (inStart, inEnd) = (0, take)
      }
      let target: UnsafeMutableRawPointer
      let room: Int
      if let out {
        target = out + done
        room = count - done
      } else {
        if scratch == nil { scratch = .allocate(byteCount: NPYDeflateSource.bufferBytes, alignment: 16) }
        target = scratch!.baseAddress!
        room = Swift.min(count - done, NPYDeflateSource.bufferBytes)
      }
      var input: UnsafePointer<UInt8>? = UnsafePointer(inBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self) + inStart)
      var left = inEnd - inStart
      var written = 0
      let rc = datasan_npy_inflate(stream, &input, &left, target.assumingMemoryBound(to: UInt8.self), room, &written)
      inStart = inEnd - left
      done += written
      position += written
      switch Int(rc) {
      case Int(DATASAN_NPY_INFLATE_BAD): throw NPYReadError("the compressed member '\(member)' is corrupt (zlib refused it)")
      case Int(DATASAN_NPY_INFLATE_END): ended = true
      default: break
      }
    }
  }

  func read(at offset: Int, count: Int, into: UnsafeMutableRawPointer) throws {
    guard offset >= 0, count >= 0, offset <= length, count <= length - offset else {
      throw NPYReadError("bytes \(offset)..<\(offset &+ count) are past the member's \(length) bytes (truncated)")
    }
    if offset < position { try restart() }
    do {
      if offset > position { try inflate(count: offset - position, into: nil) }
      try inflate(count: count, into: into)
    } catch {
      try? restart()  // the next read starts over rather than from a broken stream
      throw error
    }
  }
}
