import CCompression
import DatasanCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The decompressed bytes of a compressed file, read in order with ``read(into:count:)``.
///
/// A thread of its own reads the compressed file and decompresses it into a few blocks ahead of the
/// reader (``blockSize`` each, at most ``depth`` waiting), so that decompressing (one core: every
/// format here is sequential) overlaps with what the reader does with the bytes (the CSV parser, on
/// every core). Memory is those blocks plus the library's fixed state, whatever the file holds: a
/// decompression bomb costs time, never memory. An error (a corrupt or truncated stream, a read
/// error) is thrown by ``read(into:count:)`` once the bytes before it have been read, naming the file
/// and the library's reason.
public final class DecompressingInput {
  /// `@unchecked Sendable`: every `var` is read and written under `condition`'s lock, but for the
  /// codec, the input buffer and the file, which only the thread touches.
  private final class State: @unchecked Sendable {
    let condition = Condition()
    let path: String
    let fd: Int32
    let codec: Codec
    let blockSize: Int
    let depth: Int
    /// Decompressed blocks waiting, in order, with their byte counts.
    var ready: [(UnsafeMutablePointer<UInt8>, Int)] = []
    /// Blocks free for the thread to fill.
    var free: [UnsafeMutablePointer<UInt8>] = []
    var finished = false
    var failure: DatasanError?
    var cancelled = false
    var exited = false

    init(path: String, fd: Int32, codec: Codec, blockSize: Int, depth: Int) {
      self.path = path
      self.fd = fd
      self.codec = codec
      self.blockSize = blockSize
      self.depth = depth
      free = (0..<depth).map { _ in .allocate(capacity: blockSize) }
    }

    deinit {
      for b in free { b.deallocate() }
      for (b, _) in ready { b.deallocate() }
    }

    func produce() {
      let input = UnsafeMutablePointer<UInt8>.allocate(capacity: 256 << 10)
      defer { input.deallocate() }
      var inStart = 0
      var inEnd = 0
      var eof = false
      var stalls = 0
      var result: DatasanError? = nil
      outer: while true {
        condition.lock()
        while free.isEmpty && !cancelled { condition.wait() }
        if cancelled {
          condition.unlock()
          break
        }
        let block = free.removeLast()
        condition.unlock()
        var filled = 0
        var ended = false
        while filled < blockSize {
          if inStart == inEnd && !eof {
            inStart = 0
            inEnd = 0
            while true {
              let n = Glibc.read(fd, input, 256 << 10)
              if n < 0 && errno == EINTR { continue }
              if n < 0 {
                result = DatasanError(path: path, "read error: \(String(cString: strerror(errno)))")
                break
              }
              if n == 0 { eof = true } else { inEnd = n }
              break
            }
            if result != nil { break }
          }
          var consumed = 0
          var produced = 0
          let status = datasan_decode(
            codec.pointer, input + inStart, inEnd - inStart, eof ? 1 : 0, &consumed, block + filled,
            blockSize - filled, &produced)
          inStart += consumed
          filled += produced
          if status < 0 {
            result = DatasanError(path: path, "\(codec.message) (\(codec.compression.library))")
            break
          }
          if status == 1 {
            ended = true
            break
          }
          if consumed == 0 && produced == 0 && eof {
            stalls += 1
            if stalls > 2 {
              result = DatasanError(
                path: path, "the \(codec.compression.rawValue) stream is truncated (the file ends inside it) (\(codec.compression.library))")
              break
            }
          } else {
            stalls = 0
          }
        }
        condition.lock()
        if filled > 0 { ready.append((block, filled)) } else { free.append(block) }
        if result != nil || ended {
          failure = result
          finished = true
        }
        condition.broadcast()
        condition.unlock()
        if result != nil || ended { break outer }
      }
      condition.lock()
      finished = true
      exited = true
      condition.broadcast()
      condition.unlock()
    }
  }

  private let state: State
  /// The block being read and where.
  private var current: UnsafeMutablePointer<UInt8>? = nil
  private var currentCount = 0
  private var currentAt = 0
  private var closed = false

  public let compression: Compression

  /// Starts decompressing `fd` (open, at offset 0; the caller keeps it open until ``close()``).
  public init(path: String, fd: Int32, compression: Compression, blockSize: Int = 1 << 20, depth: Int = 4) throws {
    self.compression = compression
    let codec = try Codec(compression, encode: false, path: path)
    let state = State(path: path, fd: fd, codec: codec, blockSize: Swift.max(1, blockSize), depth: Swift.max(2, depth))
    self.state = state
    startThread(name: "datasan-inflate", stackSize: 1 << 20) { state.produce() }
  }

  deinit { close() }

  /// Copies the `count` next decompressed bytes to `destination` (fewer only at the end of the
  /// stream, 0 after it), as read(2) of a regular file does: a caller that grows its buffer for a
  /// long record gets it filled at once, and scans the record again only as often as it doubles.
  public func read(into destination: UnsafeMutablePointer<UInt8>, count: Int) throws -> Int {
    var copied = 0
    while copied < count {
      if let block = current, currentAt < currentCount {
        let n = Swift.min(count - copied, currentCount - currentAt)
        (destination + copied).update(from: block + currentAt, count: n)
        currentAt += n
        copied += n
        continue
      }
      let s = state
      s.condition.lock()
      if let block = current {
        s.free.append(block)
        current = nil
        s.condition.broadcast()
      }
      while s.ready.isEmpty && !s.finished { s.condition.wait() }
      if !s.ready.isEmpty {
        let (block, n) = s.ready.removeFirst()
        s.condition.unlock()
        current = block
        currentCount = n
        currentAt = 0
        continue
      }
      let failure = s.failure
      s.condition.unlock()
      if let failure { throw failure }
      break
    }
    return copied
  }

  /// Stops the thread and waits until it has let go of the file. Safe to call more than once.
  public func close() {
    if closed { return }
    closed = true
    let s = state
    s.condition.lock()
    if let block = current {
      s.free.append(block)
      current = nil
    }
    s.cancelled = true
    s.condition.broadcast()
    while !s.exited { s.condition.wait() }
    s.condition.unlock()
  }
}

extension DecompressingInput {
  /// Up to `count` first decompressed bytes of the file at `path` (fewer when it holds fewer);
  /// throws on a corrupt or truncated stream within them.
  public static func leadingBytes(path: String, compression: Compression, count: Int) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
    if fd < 0 { throw DatasanError(path: path, "cannot open: \(String(cString: strerror(errno)))") }
    defer { Glibc.close(fd) }
    let input = try DecompressingInput(path: path, fd: fd, compression: compression, blockSize: 64 << 10, depth: 2)
    defer { input.close() }
    var bytes = [UInt8](repeating: 0, count: count)
    var got = 0
    while got < count {
      let n = try bytes.withUnsafeMutableBufferPointer { try input.read(into: $0.baseAddress! + got, count: count - got) }
      if n == 0 { break }
      got += n
    }
    return Array(bytes[..<got])
  }
}
