/// A small PNG encoder for the thumbnails of the HTML report: 8-bit gray or RGB, per-row
/// filters chosen by the minimum-sum-of-absolute-differences heuristic, zlib with one
/// fixed-Huffman deflate block and greedy LZ77 (nearest-neighbour upscaled thumbnails are
/// mostly repeats, which this compresses well), CRC-32 and Adler-32.
public enum PNGEncoder {
  /// A PNG file of `width` x `height` pixels of `channels` (1 gray, 3 RGB) 8-bit values, row by row.
  public static func encode(width: Int, height: Int, channels: Int, pixels: [UInt8]) -> [UInt8] {
    precondition(channels == 1 || channels == 3 || channels == 4, "1, 3 or 4 channels")
    precondition(pixels.count == width * height * channels, "pixel count")
    var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    var ihdr: [UInt8] = []
    append32(&ihdr, UInt32(width))
    append32(&ihdr, UInt32(height))
    let colorType: UInt8 = channels == 1 ? 0 : (channels == 3 ? 2 : 6)
    ihdr += [8, colorType, 0, 0, 0]
    chunk(&out, "IHDR", ihdr)
    chunk(&out, "IDAT", zlib(filtered(width: width, height: height, channels: channels, pixels: pixels)))
    chunk(&out, "IEND", [])
    return out
  }

  // MARK: Filters

  static func filtered(width: Int, height: Int, channels bpp: Int, pixels: [UInt8]) -> [UInt8] {
    let stride = width * bpp
    var out: [UInt8] = []
    out.reserveCapacity((stride + 1) * height)
    var candidate = [UInt8](repeating: 0, count: stride)
    var best = [UInt8](repeating: 0, count: stride)
    for y in 0..<height {
      let row = y * stride
      let up = y > 0 ? row - stride : -1
      var bestType: UInt8 = 0
      var bestCost = Int.max
      for type in UInt8(0)...4 {
        var cost = 0
        for x in 0..<stride {
          let v = Int(pixels[row + x])
          let a = x >= bpp ? Int(pixels[row + x - bpp]) : 0
          let b = up >= 0 ? Int(pixels[up + x]) : 0
          let c = (x >= bpp && up >= 0) ? Int(pixels[up + x - bpp]) : 0
          let predicted: Int
          switch type {
          case 0: predicted = 0
          case 1: predicted = a
          case 2: predicted = b
          case 3: predicted = (a + b) / 2
          default: predicted = paeth(a, b, c)
          }
          let f = UInt8(truncatingIfNeeded: v - predicted)
          candidate[x] = f
          cost += f < 128 ? Int(f) : 256 - Int(f)
        }
        if cost < bestCost {
          bestCost = cost
          bestType = type
          swap(&best, &candidate)
        }
      }
      out.append(bestType)
      out.append(contentsOf: best)
    }
    return out
  }

  @inline(__always) static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
    let p = a + b - c
    let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
    if pa <= pb && pa <= pc { return a }
    return pb <= pc ? b : c
  }

  // MARK: zlib / deflate

  /// A zlib stream of `data`: one final fixed-Huffman block, greedy LZ77 over a 32 KiB window.
  public static func zlib(_ data: [UInt8]) -> [UInt8] {
    var bits = BitWriter()
    bits.bytes = [0x78, 0x01]
    bits.write(1, count: 1)  // BFINAL
    bits.write(1, count: 2)  // BTYPE = 01, fixed Huffman
    let n = data.count
    let hashSize = 1 << 15
    var head = [Int](repeating: -1, count: hashSize)
    var previous = [Int](repeating: -1, count: Swift.max(n, 1))
    func hash(_ i: Int) -> Int {
      (Int(data[i]) << 10 ^ Int(data[i + 1]) << 5 ^ Int(data[i + 2])) & (hashSize - 1)
    }
    func insert(_ i: Int) {
      guard i + 2 < n else { return }
      let h = hash(i)
      previous[i] = head[h]
      head[h] = i
    }
    var i = 0
    while i < n {
      var bestLength = 0
      var bestDistance = 0
      if i + 2 < n {
        var candidate = head[hash(i)]
        var chain = 32
        while candidate >= 0, i - candidate <= 32768, chain > 0 {
          var length = 0
          let limit = Swift.min(258, n - i)
          while length < limit && data[candidate + length] == data[i + length] { length += 1 }
          if length > bestLength {
            bestLength = length
            bestDistance = i - candidate
            if length == limit { break }
          }
          candidate = previous[candidate]
          chain -= 1
        }
      }
      if bestLength >= 3 {
        writeLength(&bits, bestLength)
        writeDistance(&bits, bestDistance)
        for k in 0..<bestLength { insert(i + k) }
        i += bestLength
      } else {
        writeLiteral(&bits, Int(data[i]))
        insert(i)
        i += 1
      }
    }
    writeLiteral(&bits, 256)  // end of block
    bits.flush()
    append32(&bits.bytes, adler32(data))
    return bits.bytes
  }

  static let lengthBase: [Int] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
  ]
  static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
  static let distanceBase: [Int] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
    6145, 8193, 12289, 16385, 24577,
  ]
  static let distanceExtra: [Int] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
  ]

  /// A literal/length symbol with the fixed code of RFC 1951 3.2.6.
  static func writeLiteral(_ bits: inout BitWriter, _ symbol: Int) {
    switch symbol {
    case 0...143: bits.writeCode(0x30 + symbol, count: 8)
    case 144...255: bits.writeCode(0x190 + symbol - 144, count: 9)
    case 256...279: bits.writeCode(symbol - 256, count: 7)
    default: bits.writeCode(0xC0 + symbol - 280, count: 8)
    }
  }

  static func writeLength(_ bits: inout BitWriter, _ length: Int) {
    var code = lengthBase.count - 1
    while lengthBase[code] > length { code -= 1 }
    writeLiteral(&bits, 257 + code)
    if lengthExtra[code] > 0 { bits.write(UInt32(length - lengthBase[code]), count: lengthExtra[code]) }
  }

  static func writeDistance(_ bits: inout BitWriter, _ distance: Int) {
    var code = distanceBase.count - 1
    while distanceBase[code] > distance { code -= 1 }
    bits.writeCode(code, count: 5)
    if distanceExtra[code] > 0 { bits.write(UInt32(distance - distanceBase[code]), count: distanceExtra[code]) }
  }

  /// Bits least significant first, as deflate packs them.
  struct BitWriter {
    var bytes: [UInt8] = []
    var accumulator: UInt64 = 0
    var filled = 0

    mutating func write(_ value: UInt32, count: Int) {
      accumulator |= UInt64(value) << UInt64(filled)
      filled += count
      while filled >= 8 {
        bytes.append(UInt8(truncatingIfNeeded: accumulator))
        accumulator >>= 8
        filled -= 8
      }
    }

    /// A Huffman code, which deflate stores most significant bit first.
    mutating func writeCode(_ code: Int, count: Int) {
      var reversed: UInt32 = 0
      for k in 0..<count { reversed |= UInt32((code >> k) & 1) << UInt32(count - 1 - k) }
      write(reversed, count: count)
    }

    mutating func flush() {
      if filled > 0 { bytes.append(UInt8(truncatingIfNeeded: accumulator)) }
      accumulator = 0
      filled = 0
    }
  }

  // MARK: Checksums and chunks

  static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }

  public static func crc32<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
  }

  public static func adler32(_ bytes: [UInt8]) -> UInt32 {
    var a: UInt32 = 1
    var b: UInt32 = 0
    var i = 0
    while i < bytes.count {
      // 5552 bytes keep the sums below 2^32 before the modulo (zlib's NMAX).
      let end = Swift.min(bytes.count, i + 5552)
      while i < end {
        a &+= UInt32(bytes[i])
        b &+= a
        i += 1
      }
      a %= 65521
      b %= 65521
    }
    return b << 16 | a
  }

  static func append32(_ out: inout [UInt8], _ v: UInt32) {
    out += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
  }

  static func chunk(_ out: inout [UInt8], _ type: String, _ data: [UInt8]) {
    append32(&out, UInt32(data.count))
    let typed = Array(type.utf8) + data
    out += typed
    append32(&out, crc32(typed))
  }
}
