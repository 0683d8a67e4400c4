import DatasanCore
#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes samples as a `.npy` array (C order, native little-endian dtype) and, when the input has
/// labels, their `.labels.npy` beside it (`out.npy` + `out.labels.npy`), both as `numpy.load` reads
/// them. The sample count is known at the end: the header reserves room for it (as NumPy's own
/// growable headers do) and is written again by ``finish()``.
public final class NPYWriter: SampleWriter {
  private let features: NPYFileWriter
  private let labels: NPYFileWriter?
  private let sampleShape: [Int]
  private let rowElements: Int
  private let elementType: ElementType
  private let labelType: ElementType
  private var count = 0

  /// The labels' final path for a features' final path: `out.npy` -> `out.labels.npy`.
  public static func labelsPath(for path: String) -> String {
    (path.lowercased().hasSuffix(".npy") ? String(path.dropLast(4)) : path) + ".labels.npy"
  }

  public init(path: String, request: WriterRequest) throws {
    let finalPath = request.finalPath ?? path
    if finalPath.lowercased().hasSuffix(".npz") {
      throw DatasanError(path: finalPath, "datasan writes .npy arrays, not .npz archives: use -o OUT.npy (writes OUT.npy and OUT.labels.npy)")
    }
    sampleShape = request.sampleShape
    rowElements = request.sampleShape.reduce(1, *)
    elementType = request.elementType
    labelType = request.labelType
    features = try NPYFileWriter(path: path, descr: NPYWriter.descr(request.elementType), sampleShape: request.sampleShape)
    if request.source.labelName != nil {
      let final = NPYWriter.labelsPath(for: finalPath)
      let labelPath = request.reserveCompanion?(final) ?? NPYWriter.labelsPath(for: path)
      labels = try NPYFileWriter(path: labelPath, descr: NPYWriter.descr(request.labelType), sampleShape: [])
    } else {
      labels = nil
    }
  }

  static func descr(_ type: ElementType) -> String {
    let little = 1.littleEndian == 1
    switch type {
    case .uint8: return "|u1"
    case .int8: return "|i1"
    default:
      let code = type.isFloatingPoint ? "f" : (type.isSignedInteger ? "i" : "u")
      return (little ? "<" : ">") + code + String(type.size)
    }
  }

  public func append(_ batch: SampleBatch) throws {
    guard batch.count > 0 else { return }
    if batch.shapes != nil || (batch.shape != sampleShape && batch.offsets == nil) {
      throw DatasanError(path: features.path, "an .npy array needs samples of one shape; write .h5 or .lmdb for samples of varying sizes")
    }
    guard batch.elementType == elementType else {
      throw DatasanError(path: features.path, "internal: batch of \(batch.elementType), output of \(elementType)")
    }
    let bytes = batch.count * rowElements * elementType.size
    if batch.hasValues {
      try features.write(UnsafeRawBufferPointer(start: batch.storage.bytes.baseAddress!, count: bytes))
    } else {
      try features.writeZeros(bytes)  // samples without values (never written in the input)
    }
    if let labels {
      let values = batch.labels ?? [Double](repeating: .nan, count: batch.count)
      let out = ByteStorage(byteCount: batch.count * labelType.size, zeroed: false)
      labelType.withType { t in NPYWriter.store(values, t, into: out) }
      try labels.write(UnsafeRawBufferPointer(out.bytes))
    }
    count += batch.count
  }

  private static func store<T: FeatureElement>(_ values: [Double], _ type: T.Type, into storage: ByteStorage) {
    let typed = storage.typed(T.self, count: values.count)
    for i in values.indices { typed[i] = NPYWriter.convert(values[i], to: T.self) }
  }

  @inline(__always) private static func convert<T: FeatureElement>(_ v: Double, to: T.Type) -> T {
    switch T.elementType {
    case .float32: return Float(v) as! T
    case .float64: return v as! T
    case .uint8: return UInt8(clamping: Int64(exactlyOrZero: v)) as! T
    case .int8: return Int8(clamping: Int64(exactlyOrZero: v)) as! T
    case .uint16: return UInt16(clamping: Int64(exactlyOrZero: v)) as! T
    case .int16: return Int16(clamping: Int64(exactlyOrZero: v)) as! T
    case .uint32: return UInt32(clamping: Int64(exactlyOrZero: v)) as! T
    case .int32: return Int32(clamping: Int64(exactlyOrZero: v)) as! T
    case .uint64: return (v >= 0 && v < 0x1p64 ? UInt64(v) : 0) as! T
    case .int64: return Int64(exactlyOrZero: v) as! T
    }
  }

  public func finish() throws {
    try features.finish(count: count)
    try labels?.finish(count: count)
  }

  public func abort() {
    features.abort()
    labels?.abort()
  }
}

extension Int64 {
  /// The integer of `v`, truncated; 0 for NaN and values outside Int64.
  init(exactlyOrZero v: Double) {
    self = v.isFinite && v > -0x1p63 && v < 0x1p63 ? Int64(v) : 0
  }
}

/// One `.npy` file being written: header with room for the final sample count, then the values.
final class NPYFileWriter {
  let path: String
  private let fd: Int32
  private let descr: String
  private let sampleShape: [Int]
  private let headerBytes: Int
  private var buffer: [UInt8] = []
  private var closed = false

  init(path: String, descr: String, sampleShape: [Int]) throws {
    self.path = path
    self.descr = descr
    self.sampleShape = sampleShape
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd < 0 { throw DatasanError(path: path, "cannot create: \(String(cString: strerror(errno)))") }
    // The header's size is fixed by the widest count (21 digits, NumPy's GROWTH_AXIS_MAX_DIGITS).
    headerBytes = NPYFileWriter.header(descr: descr, shape: [Int.max] + sampleShape, padTo: nil).count
    buffer.reserveCapacity(1 << 20)
    buffer.append(contentsOf: NPYFileWriter.header(descr: descr, shape: [0] + sampleShape, padTo: headerBytes))
  }

  /// Version 1.0 (2.0 past 65,535 header bytes), the dict padded with spaces to `padTo` bytes in
  /// all (or to a multiple of 64), ending in a newline.
  static func header(descr: String, shape: [Int], padTo: Int?) -> [UInt8] {
    let dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(NPYHeader.text(of: shape)), }"
    var body = Array(dict.utf8)
    let version2 = body.count + 1 + 10 + 64 > 65_535
    let prelude = version2 ? 12 : 10
    let target = padTo ?? ((prelude + body.count + 1 + 21 + 63) / 64 * 64)
    while prelude + body.count + 1 < target { body.append(0x20) }
    body.append(0x0A)
    var out = NPYHeader.magic + [version2 ? 2 : 1, 0]
    let n = body.count
    out += version2 ? [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24 & 0xFF)] : [UInt8(n & 0xFF), UInt8(n >> 8)]
    return out + body
  }

  func write(_ bytes: UnsafeRawBufferPointer) throws {
    if buffer.count + bytes.count > 1 << 20 { try flush() }
    if bytes.count >= 1 << 20 {
      try writeAll(bytes)
    } else {
      buffer.append(contentsOf: bytes)
    }
  }

  func writeZeros(_ count: Int) throws {
    var left = count
    let zeros = [UInt8](repeating: 0, count: Swift.min(count, 1 << 20))
    while left > 0 {
      let n = Swift.min(left, zeros.count)
      try zeros.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
      left -= n
    }
  }

  private func flush() throws {
    try buffer.withUnsafeBytes { try writeAll($0) }
    buffer.removeAll(keepingCapacity: true)
  }

  private func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int? = nil) throws {
    var done = 0
    while done < bytes.count {
      let n =
        offset.map { pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t($0 + done)) }
        ?? Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
      if n < 0 {
        if errno == EINTR { continue }
        throw DatasanError(path: path, "write failed: \(String(cString: strerror(errno)))")
      }
      done += n
    }
  }

  func finish(count: Int) throws {
    try flush()
    let header = NPYFileWriter.header(descr: descr, shape: [count] + sampleShape, padTo: headerBytes)
    try header.withUnsafeBytes { try writeAll($0, at: 0) }
    closed = true
    if close(fd) != 0 { throw DatasanError(path: path, "close failed: \(String(cString: strerror(errno)))") }
  }

  func abort() {
    if !closed {
      closed = true
      close(fd)
    }
  }
}
