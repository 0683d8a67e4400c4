import DatasanCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// sync_file_range(2) where the C library has it (Linux; the Swift overlay does not export it).
private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32

/// close(2), outside the class whose `close()` would shadow it.
private func closeDescriptor(_ fd: Int32) -> Int32 { close(fd) }

/// A file opened for writing (created or truncated) behind a 1 MiB buffer, written with write(2).
///
/// On Linux the write-out of every 32 MiB written is started as it goes (sync_file_range, without
/// waiting): the pipeline renames the finished file over an existing output, and ext4 then flushes
/// the whole file at the rename, at the very end of the run; started early, that work overlaps the
/// rest of the run.
final class BufferedOutput {
  let path: String
  private var fd: Int32
  private let buffer: UnsafeMutablePointer<UInt8>
  private let capacity: Int
  private var count = 0
  /// Bytes written to the file, and the end of the range whose write-out was started.
  private var written = 0
  private var flushedTo = 0
  private static let writeOutStep = 8 << 20
  private static let startWriteOut: SyncFileRange? = {
    #if os(Linux)
      guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
      return unsafeBitCast(symbol, to: SyncFileRange.self)
    #else
      return nil
    #endif
  }()

  init(path: String, capacity: Int = 1 << 20) throws {
    self.path = path
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd < 0 { throw DatasanError(path: path, "cannot create: \(String(cString: strerror(errno)))") }
    self.capacity = capacity
    buffer = .allocate(capacity: capacity)
  }

  deinit {
    if fd >= 0 { _ = closeDescriptor(fd) }
    buffer.deallocate()
  }

  @inline(__always) func append(_ byte: UInt8) throws {
    if count == capacity { try flush() }
    buffer[count] = byte
    count += 1
  }

  func append(_ bytes: UnsafeRawBufferPointer) throws {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    if count + bytes.count > capacity || bytes.count >= capacity / 4 { try flush() }
    if bytes.count >= capacity / 4 {
      // Large enough to go out directly, without a copy.
      try writeAll(base, bytes.count)
      return
    }
    (buffer + count).update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    count += bytes.count
  }

  func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }

  func append(_ text: String) throws {
    var text = text
    try text.withUTF8 { try append(UnsafeRawBufferPointer($0)) }
  }

  /// Writes an integer in decimal without allocating.
  func append(integer value: Int64) throws {
    if capacity - count < 24 { try flush() }
    var magnitude = value.magnitude
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch
    let written = withUnsafeMutableBytes(of: &digits) { raw -> Int in
      var n = 0
      repeat {
        raw[23 - n] = UInt8(truncatingIfNeeded: magnitude % 10) + 0x30
        magnitude /= 10
        n += 1
      } while magnitude > 0
      if value < 0 {
        raw[23 - n] = UInt8(ascii: "-")
        n += 1
      }
      (buffer + count).update(from: raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + 24 - n, count: n)
      return n
    }
    count += written
  }

  func flush() throws {
    if count > 0 { try writeAll(UnsafeRawPointer(buffer), count) }
    count = 0
  }

  private func writeAll(_ base: UnsafeRawPointer, _ n: Int) throws {
    var done = 0
    while done < n {
      let w = write(fd, base + done, n - done)
      if w < 0 {
        if errno == EINTR { continue }
        throw DatasanError(path: path, "write error: \(String(cString: strerror(errno)))")
      }
      done += w
    }
    written += n
    if written - flushedTo >= Self.writeOutStep, let startWriteOut = Self.startWriteOut {
      // Advisory: an error here changes nothing about the data written.
      _ = startWriteOut(fd, Int64(flushedTo), Int64(written - flushedTo), 2 /* SYNC_FILE_RANGE_WRITE */)
      flushedTo = written
    }
  }

  /// Flushes and closes; throws on an I/O error.
  func close() throws {
    guard fd >= 0 else { return }
    try flush()
    let fd = self.fd
    self.fd = -1
    if closeDescriptor(fd) != 0 {
      throw DatasanError(path: path, "close error: \(String(cString: strerror(errno)))")
    }
  }

  /// Closes without flushing, ignoring errors.
  func closeQuietly() {
    guard fd >= 0 else { return }
    _ = closeDescriptor(fd)
    fd = -1
    count = 0
  }
}
