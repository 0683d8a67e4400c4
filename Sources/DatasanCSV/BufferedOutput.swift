import DatasanCompression
import DatasanCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// close(2), outside the class whose `close()` would shadow it.
private func closeDescriptor(_ fd: Int32) -> Int32 { close(fd) }

/// A file opened for writing (created or truncated) behind a 1 MiB buffer, written with write(2);
/// through a compressor when one is given.
final class BufferedOutput {
  let path: String
  private var fd: Int32
  private let compressor: CompressingOutput?
  private let buffer: UnsafeMutablePointer<UInt8>
  private let capacity: Int
  private var count = 0

  init(path: String, capacity: Int = 1 << 20, compression: Compression? = nil) throws {
    self.path = path
    compressor = try compression.map { try CompressingOutput($0, path: path) }
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
    if let compressor {
      try compressor.write(base, n) { try writeFile($0, $1) }
      return
    }
    try writeFile(base, n)
  }

  private func writeFile(_ base: UnsafeRawPointer, _ n: Int) throws {
    var done = 0
    while done < n {
      let w = write(fd, base + done, n - done)
      if w < 0 {
        if errno == EINTR { continue }
        throw DatasanError(path: path, "write error: \(String(cString: strerror(errno)))")
      }
      done += w
    }
  }

  /// Flushes and closes; throws on an I/O error.
  func close() throws {
    guard fd >= 0 else { return }
    try flush()
    if let compressor { try compressor.finish { try writeFile($0, $1) } }
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
