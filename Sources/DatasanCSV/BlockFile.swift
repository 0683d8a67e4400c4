import DatasanCompression
import DatasanCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A read-only file read in large blocks into one buffer that keeps the unconsumed bytes.
///
/// A file compressed with gzip, bzip2, xz or zstd (by its magic bytes, whatever its name) is read as
/// its decompressed bytes (``DecompressingInput``: decompressed on a thread of its own, a few blocks
/// ahead); offsets are then offsets in the decompressed stream.
///
/// `buffer[start..<end]` holds bytes not consumed yet. ``fill()`` moves them to the front and reads
/// more; the buffer grows only when a single record does not fit in it.
final class BlockFile {
  let path: String
  private let fd: Int32
  @exclusivity(unchecked) private(set) var buffer: UnsafeMutablePointer<UInt8>
  private(set) var capacity: Int
  /// First unconsumed byte.
  @exclusivity(unchecked) var start = 0
  /// End of the bytes read.
  @exclusivity(unchecked) private(set) var end = 0
  /// Whether the end of the file has been read.
  @exclusivity(unchecked) private(set) var eof = false
  /// Bytes read from the file so far.
  private(set) var totalRead = 0
  /// A record may not grow the buffer past this (an unterminated quote in a huge file).
  let maxCapacity: Int
  /// The decompressed stream of a compressed file (nil for a plain one).
  private let decompressed: DecompressingInput?
  /// The file's compression, if any.
  var compression: Compression? { decompressed?.compression }

  init(path: String, blockSize: Int = 4 << 20, maxCapacity: Int = 256 << 20) throws {
    self.path = path
    var st = stat()
    // Opened non-blocking, then checked: a FIFO, socket or device is refused instead of waiting
    // for a writer or reading without end (O_NONBLOCK changes nothing for a regular file).
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
    if fd < 0 {
      throw DatasanError(path: path, "cannot open: \(String(cString: strerror(errno)))")
    }
    if fstat(fd, &st) != 0 {
      let text = String(cString: strerror(errno))
      close(fd)
      throw DatasanError(path: path, "cannot stat: \(text)")
    }
    let kind = InputFileKind(mode: st.st_mode)
    if kind != .regular {
      close(fd)
      if kind == .directory { throw DatasanError(path: path, "is a directory, not a CSV file") }
      throw DatasanError(path: path, "is \(kind.specialName ?? "not a regular file"), not a CSV file")
    }
    var magic = [UInt8](repeating: 0, count: 6)
    let got = magic.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, 6, 0) }
    if got > 0, let compression = Compression.of(magic: Array(magic[..<got])) {
      do {
        decompressed = try DecompressingInput(path: path, fd: fd, compression: compression)
      } catch {
        close(fd)
        throw error
      }
    } else {
      decompressed = nil
    }
    self.fd = fd
    capacity = blockSize
    self.maxCapacity = Swift.max(maxCapacity, blockSize)
    buffer = .allocate(capacity: blockSize)
  }

  deinit {
    decompressed?.close()  // its thread reads `fd`: stopped first
    close(fd)
    buffer.deallocate()
  }

  /// Number of unconsumed bytes in the buffer.
  var available: Int { end - start }

  /// The offset in the file of the byte at `buffer[index]`.
  func fileOffset(ofBufferIndex index: Int) -> Int { totalRead - end + index }

  /// Moves the unconsumed bytes to the front and reads at least one more block (or up to the end of
  /// the file). Returns false when nothing more could be read (end of file).
  @discardableResult
  func fill() throws -> Bool {
    if eof { return false }
    if start > 0 {
      let n = end - start
      if n > 0 { buffer.update(from: buffer + start, count: n) }
      start = 0
      end = n
    }
    if end == capacity {
      guard capacity < maxCapacity else {
        throw DatasanError(
          path: path,
          "a record is longer than \(maxCapacity >> 20) MiB (an unterminated quote?)")
      }
      let newCapacity = Swift.min(capacity * 2, maxCapacity)
      let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
      grown.update(from: buffer, count: end)
      buffer.deallocate()
      buffer = grown
      capacity = newCapacity
    }
    if let decompressed {
      return took(try decompressed.read(into: buffer + end, count: capacity - end))
    }
    while true {
      let n = read(fd, buffer + end, capacity - end)
      if n < 0 {
        if errno == EINTR { continue }
        throw DatasanError(path: path, "read error: \(String(cString: strerror(errno)))")
      }
      return took(n)
    }
  }

  /// Takes the `n` bytes just read after `end` (0: the input ended); whether any came.
  private func took(_ n: Int) -> Bool {
    if n == 0 {
      eof = true
      return false
    }
    end += n
    totalRead += n
    return true
  }

  /// Up to `count` bytes from the first unconsumed one, read with pread(2) without touching the buffer,
  /// and whether they reach the end of the file (for dialect detection over a fixed window whatever
  /// the block size).
  func peek(_ count: Int) throws -> (bytes: [UInt8], reachesEnd: Bool) {
    if decompressed != nil {
      // No pread in a compressed stream: the window is read into the buffer (which grows to hold it).
      while available < count && !eof { try fill() }
      let n = Swift.min(count, available)
      return (Array(UnsafeBufferPointer(start: buffer + start, count: n)), eof && available <= count)
    }
    var out = [UInt8](repeating: 0, count: count)
    let offset = totalRead - available
    var got = 0
    var reachesEnd = false
    try out.withUnsafeMutableBytes { raw in
      while got < count {
        let n = pread(fd, raw.baseAddress! + got, count - got, off_t(offset + got))
        if n < 0 {
          if errno == EINTR { continue }
          throw DatasanError(path: path, "read error: \(String(cString: strerror(errno)))")
        }
        if n == 0 {
          reachesEnd = true
          break
        }
        got += n
      }
    }
    out.removeLast(count - got)
    return (out, reachesEnd)
  }

  /// Reads until at least `count` unconsumed bytes (at most a buffer's worth) are buffered or the file ends.
  func ensure(_ count: Int) throws {
    while available < Swift.min(count, capacity) && !eof { try fill() }
  }
}
