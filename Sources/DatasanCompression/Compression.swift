import CCompression
import DatasanCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The compressions a CSV input may have (found by its magic bytes, as pandas' `compression="infer"`
/// finds them by the extension) and an output may be written with (by the output's extension).
public enum Compression: String, Sendable, CaseIterable {
  case gzip, bzip2, xz, zstd

  /// The compression of a stream whose first bytes are `magic` (6 are enough), if any.
  public static func of(magic: [UInt8]) -> Compression? {
    magic.withUnsafeBufferPointer { Compression(kind: datasan_compression_of($0.baseAddress, $0.count)) }
  }

  /// The compression of the file at `path` by its first bytes (nil when it cannot be read).
  public static func of(file path: String) -> Compression? {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, InputFileKind(mode: st.st_mode) == .regular else { return nil }
    var magic = [UInt8](repeating: 0, count: 6)
    let n = magic.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, 6, 0) }
    return n > 0 ? of(magic: Array(magic[..<n])) : nil
  }

  /// The compression an output path's last extension names (pandas' `compression="infer"` for
  /// `to_csv`: `.gz`, `.bz2`, `.xz`, `.zst`), if any.
  public static func of(outputPath path: String) -> Compression? {
    guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
    return allCases.first { $0.fileExtension == path[path.index(after: dot)...].lowercased() }
  }

  /// `path` without a compression extension (`out.csv.gz` -> `out.csv`).
  public static func strippingExtension(_ path: String) -> String {
    guard let c = of(outputPath: path) else { return path }
    return String(path.dropLast(c.fileExtension.count + 1))
  }

  /// The extension, without the dot.
  public var fileExtension: String {
    switch self {
    case .gzip: return "gz"
    case .bzip2: return "bz2"
    case .xz: return "xz"
    case .zstd: return "zst"
    }
  }

  /// The C library that does the work (named in messages).
  public var library: String {
    switch self {
    case .gzip: return "zlib"
    case .bzip2: return "libbz2"
    case .xz: return "liblzma"
    case .zstd: return "libzstd"
    }
  }

  var kind: Int32 {
    switch self {
    case .gzip: return Int32(DATASAN_GZIP)
    case .bzip2: return Int32(DATASAN_BZIP2)
    case .xz: return Int32(DATASAN_XZ)
    case .zstd: return Int32(DATASAN_ZSTD)
    }
  }

  init?(kind: Int32) {
    switch Int(kind) {
    case Int(DATASAN_GZIP): self = .gzip
    case Int(DATASAN_BZIP2): self = .bzip2
    case Int(DATASAN_XZ): self = .xz
    case Int(DATASAN_ZSTD): self = .zstd
    default: return nil
    }
  }
}

/// One decoder or encoder of the C shim (a library stream), freed with the object.
final class Codec {
  let pointer: UnsafeMutablePointer<datasan_codec>
  let compression: Compression

  init(_ compression: Compression, encode: Bool, path: String) throws {
    guard let p = datasan_codec_new(compression.kind, encode ? 1 : 0) else {
      throw DatasanError(path: path, "cannot start the \(compression.rawValue) \(encode ? "compressor" : "decompressor") (\(compression.library))")
    }
    pointer = p
    self.compression = compression
  }

  deinit { datasan_codec_free(pointer) }

  var message: String { String(cString: datasan_codec_message(pointer)) }
}
