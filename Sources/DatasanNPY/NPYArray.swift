import DatasanCore

/// One array opened for reading: its header and the bytes behind it (a `.npy` file, or an `.npz`
/// member), with the header's claims checked against those bytes before anything is read.
final class NPYArray {
  let header: NPYHeader
  let source: NPYByteSource
  /// How the array is named in messages: `'x_train.npy'`, or `array 'x' of data.npz`.
  let name: String
  /// Rows along axis 0 and values per row.
  let rows: Int
  let rowElements: Int
  /// Where each value of a row (in C order) lies in a Fortran-ordered row's column order: nil for
  /// C order and for rows of at most one axis (where both orders agree).
  private let fortranToC: [Int]?

  /// Opens the array behind `source`. Throws a one-line ``NPYHeaderError`` (the caller names the
  /// file): bad header, unsupported dtype, a scalar, or more bytes claimed than exist.
  init(source: NPYByteSource, name: String, compressedBytes: Int? = nil) throws(NPYHeaderError) {
    self.source = source
    self.name = name
    let prelude = try NPYArray.readBytes(source, count: Swift.min(source.length, 12))
    let total = try NPYHeader.totalHeaderBytes(prelude: prelude)
    guard total <= NPYHeader.maxHeaderBytes + 12 else {
      throw .invalid("the header claims \(total) bytes (more than \(NPYHeader.maxHeaderBytes))")
    }
    guard total <= source.length else {
      throw .truncated("the header claims \(total) bytes but \(source.length) exist")
    }
    let header = try NPYHeader.parse(try NPYArray.readBytes(source, count: total))
    self.header = header
    guard let first = header.shape.first else {
      throw .unsupported("a 0-d array (a scalar); datasan needs samples along axis 0")
    }
    guard let dataBytes = header.dataBytes else { throw .invalid("shape \(header.shapeText) overflows") }
    let available = source.length - header.dataOffset
    if dataBytes > available {
      throw .truncated(
        "shape \(header.shapeText) of \(header.dtype.name) needs \(dataBytes) bytes but \(available) follow the header")
    }
    if let compressedBytes {
      // Deflate's limit is about 1032:1: a member that claims more is not what it says.
      let (most, o) = compressedBytes.multipliedReportingOverflow(by: 1032)
      if !o, source.length > most + 4096 {
        throw .invalid("the member claims \(source.length) bytes from \(compressedBytes) compressed (more than deflate can hold)")
      }
    }
    rows = first
    rowElements = header.shape.dropFirst().reduce(1, *)  // no overflow: the whole fits in dataBytes
    if rows > 0, rowElements == 0 {
      throw .unsupported("shape \(header.shapeText) has samples of 0 values; there is nothing to check")
    }
    if header.fortranOrder, header.shape.count > 2 {
      // Row value at Fortran column f: its axes j1 (fastest) ... jk, and its C index.
      let dims = Array(header.shape.dropFirst())
      var table = [Int](repeating: 0, count: rowElements)
      var index = [Int](repeating: 0, count: dims.count)
      for f in 0..<rowElements {
        var c = 0
        for a in 0..<dims.count { c = c * dims[a] + index[a] }
        table[f] = c
        var a = 0
        while a < dims.count {
          index[a] += 1
          if index[a] < dims[a] { break }
          index[a] = 0
          a += 1
        }
      }
      fortranToC = table
    } else {
      fortranToC = nil
    }
  }

  static func readBytes(_ source: NPYByteSource, count: Int) throws(NPYHeaderError) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    do {
      try out.withUnsafeMutableBytes { if count > 0 { try source.read(at: 0, count: count, into: $0.baseAddress!) } }
    } catch {
      throw .truncated("\(error)")
    }
    return out
  }

  var dtype: NPYDType { header.dtype }
  var sampleShape: [Int] { Array(header.shape.dropFirst()) }
  var storedRowBytes: Int { rowElements * dtype.itemSize }

  /// Reads rows `start ..< start + count` into `out` (room for `count * rowElements` values of
  /// ``NPYDType/elementType``), in C order and native byte order. `scratch` is reused between calls.
  func readRows(start: Int, count: Int, into out: UnsafeMutableRawPointer, scratch: inout [UInt8]) throws {
    let item = dtype.itemSize
    let outSize = dtype.elementType.size
    if !header.fortranOrder || rowElements == 1 {
      let offset = header.dataOffset + start * storedRowBytes
      let bytes = count * storedRowBytes
      if !dtype.needsConversion {
        try source.read(at: offset, count: bytes, into: out)
        return
      }
      if scratch.count < bytes { scratch = [UInt8](repeating: 0, count: bytes) }
      try scratch.withUnsafeMutableBytes { raw in
        try source.read(at: offset, count: bytes, into: raw.baseAddress!)
        NPYConvert.convert(dtype, from: raw.baseAddress!, to: out, count: count * rowElements)
      }
      return
    }
    // Fortran order: value f of every row is one run of `rows` values; read the batch's part of
    // each run and put its values in place.
    let runBytes = count * item
    let nativeOffset = (runBytes + 15) & ~15
    let need = nativeOffset + count * outSize
    if scratch.count < need { scratch = [UInt8](repeating: 0, count: need) }
    try scratch.withUnsafeMutableBytes { raw in
      let stored = raw.baseAddress!
      let native = raw.baseAddress! + nativeOffset
      for f in 0..<rowElements {
        try source.read(at: header.dataOffset + (f * rows + start) * item, count: runBytes, into: stored)
        let values: UnsafeMutableRawPointer
        if dtype.needsConversion {
          NPYConvert.convert(dtype, from: stored, to: native, count: count)
          values = native
        } else {
          values = stored
        }
        let c = fortranToC?[f] ?? f
        for r in 0..<count {
          (out + (r * rowElements + c) * outSize).copyMemory(from: values + r * outSize, byteCount: outSize)
        }
      }
    }
  }
}

/// Stored values to native ones: byte swaps and float16 to float32.
enum NPYConvert {
  static func convert(_ dtype: NPYDType, from: UnsafeRawPointer, to: UnsafeMutableRawPointer, count: Int) {
    let swap = dtype.itemSize > 1 && dtype.bigEndian != NPYDType.hostIsBigEndian
    switch dtype.itemSize {
    case 1: to.copyMemory(from: from, byteCount: count)
    case 2:
      let src = from.assumingMemoryBound(to: UInt16.self)
      if dtype.kind == .float {
        let dst = to.assumingMemoryBound(to: Float.self)
        for i in 0..<count { dst[i] = halfToFloat(swap ? src[i].byteSwapped : src[i]) }
      } else {
        let dst = to.assumingMemoryBound(to: UInt16.self)
        for i in 0..<count { dst[i] = swap ? src[i].byteSwapped : src[i] }
      }
    case 4:
      let src = from.assumingMemoryBound(to: UInt32.self)
      let dst = to.assumingMemoryBound(to: UInt32.self)
      for i in 0..<count { dst[i] = swap ? src[i].byteSwapped : src[i] }
    default:
      let src = from.assumingMemoryBound(to: UInt64.self)
      let dst = to.assumingMemoryBound(to: UInt64.self)
      for i in 0..<count { dst[i] = swap ? src[i].byteSwapped : src[i] }
    }
  }

  /// IEEE binary16 to binary32, exactly (subnormals, infinities and NaN included).
  @inline(__always) static func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
    if exponent == 0 {
      let magnitude = Float(mantissa) * 0x1p-24
      return sign != 0 ? -magnitude : magnitude
    }
    return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | mantissa << 13)
  }
}
