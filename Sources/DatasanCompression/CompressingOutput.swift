import CCompression
import DatasanCore

/// Compresses bytes on their way to a file: gzip (level 6, as the `gzip` tool), bzip2 (9, as
/// Python's `bz2`), xz (preset 6, as Python's `lzma`), zstd (level 3, libzstd's default). Every output
/// is one member that pandas' `read_csv(compression="infer")` and the command-line tools read.
public final class CompressingOutput {
  private let codec: Codec
  private let path: String
  private let out: UnsafeMutablePointer<UInt8>
  private let capacity = 256 << 10
  private var finished = false

  public let compression: Compression

  public init(_ compression: Compression, path: String) throws {
    self.compression = compression
    self.path = path
    codec = try Codec(compression, encode: true, path: path)
    out = .allocate(capacity: capacity)
  }

  deinit { out.deallocate() }

  /// Compresses `bytes[0..<count]`, handing the compressed bytes to `sink` as they come.
  public func write(
    _ bytes: UnsafeRawPointer, _ count: Int, to sink: (UnsafeRawPointer, Int) throws -> Void
  ) throws {
    try run(bytes.assumingMemoryBound(to: UInt8.self), count, finish: false, sink)
  }

  /// Ends the stream (its trailer: checksums, sizes), handing the last bytes to `sink`.
  public func finish(to sink: (UnsafeRawPointer, Int) throws -> Void) throws {
    guard !finished else { return }
    finished = true
    var none: UInt8 = 0
    try withUnsafePointer(to: &none) { try run($0, 0, finish: true, sink) }
  }

  private func run(
    _ input: UnsafePointer<UInt8>, _ count: Int, finish: Bool, _ sink: (UnsafeRawPointer, Int) throws -> Void
  ) throws {
    var at = 0
    while true {
      var consumed = 0
      var produced = 0
      // At most 1 GiB a call: zlib and libbz2 count in 32-bit integers.
      let chunk = Swift.min(count - at, 1 << 30)
      let status = datasan_encode(
        codec.pointer, input + at, chunk, finish && at + chunk == count ? 1 : 0, &consumed, out, capacity, &produced)
      if status < 0 { throw DatasanError(path: path, "cannot compress: \(codec.message)") }
      at += consumed
      if produced > 0 { try sink(UnsafeRawPointer(out), produced) }
      if finish {
        if status == 1 { return }
      } else if at == count && produced < capacity {
        return
      }
    }
  }
}
